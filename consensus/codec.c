/*
 * codec.c — the strict msgpack codec of SCP envelopes (spec/consensus.md
 * § Encoding), and the draft's statement validity rules.
 *
 * Encoding: msgpack arrays with a fixed field count per statement type,
 * integers in their shortest form, bytes as bin.  Decoding is strict: a
 * structural pre-check bounds what msgpack-c allocates, msgpack_unpack_next
 * builds the object tree, the walk checks every count, type and limit, and
 * the result must re-encode to exactly the input.  Read consensus.h first.
 */
#include <stdlib.h>

#include "scp_internal.h"

/* ---- writer ------------------------------------------------------------- */

/* msgpack write callback: appends or sets the sticky overflow flag. */
static int writer_write(void *data, const char *buf, size_t len)
{
    struct scp__writer *w = data;
    if (w->overflow || len > w->capacity - w->size) {
        w->overflow = true;
        return -1;
    }
    memcpy(w->bytes + w->size, buf, len);
    w->size += len;
    return 0;
}

/* Promises a packer that writes into out[0..capacity) and never past it. */
void scp__writer_init(struct scp__writer *w, msgpack_packer *pk, uint8_t *out,
                      size_t capacity)
{
    w->bytes = out;
    w->capacity = out ? capacity : 0;
    w->size = 0;
    w->overflow = false;
    msgpack_packer_init(pk, w, writer_write);
}

/* ---- structural pre-check ---------------------------------------------- */

/* Reads a big-endian integer of `bytes` bytes at *pos, if there is room. */
static bool read_be(const uint8_t *data, size_t size, size_t *pos, int bytes,
                    uint64_t *out)
{
    if ((size_t)bytes > size - *pos)
        return false;
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = (v << 8) | data[(*pos)++];
    *out = v;
    return true;
}

/* Fixed payload sizes of scalar type bytes 0xc0..0xdf; -1 for containers,
 * strings, bins and exts whose length follows, -2 for the invalid 0xc1. */
static const int8_t scalar_size[32] = {
    0, -2, 0, 0, -1, -1, -1, -1, -1, -1, 4, 8, 1, 2, 4, 8,
    1, 2, 4, 8, 2, 3, 5, 9, 17, -1, -1, -1, -1, -1, -1, -1,
};

/* Skips one object at *pos, checking counts against the remaining bytes. */
static int precheck_one(const uint8_t *data, size_t size, size_t *pos, int depth)
{
    uint64_t count = 0, skip = 0;
    if (depth <= 0 || *pos >= size)
        return SCP_E_DECODE;
    uint8_t b = data[(*pos)++];
    if (b <= 0x7f || b >= 0xe0)
        return 0;
    if (b <= 0x8f)
        count = (uint64_t)(b & 0x0f) * 2;
    else if (b <= 0x9f)
        count = b & 0x0f;
    else if (b <= 0xbf)
        skip = b & 0x1f;
    else if (scalar_size[b - 0xc0] >= 0)
        skip = (uint64_t)scalar_size[b - 0xc0];
    else if (b == 0xc1)
        return SCP_E_DECODE;
    else {
        static const struct { uint8_t type; uint8_t len_bytes; uint8_t extra; uint8_t kind; } forms[] = {
            {0xc4, 1, 0, 0}, {0xc5, 2, 0, 0}, {0xc6, 4, 0, 0},
            {0xc7, 1, 1, 0}, {0xc8, 2, 1, 0}, {0xc9, 4, 1, 0},
            {0xd9, 1, 0, 0}, {0xda, 2, 0, 0}, {0xdb, 4, 0, 0},
            {0xdc, 2, 0, 1}, {0xdd, 4, 0, 1}, {0xde, 2, 0, 2}, {0xdf, 4, 0, 2},
        };
        size_t i = 0;
        while (i < sizeof forms / sizeof forms[0] && forms[i].type != b)
            i++;
        if (i == sizeof forms / sizeof forms[0])
            return SCP_E_DECODE;
        uint64_t n;
        if (!read_be(data, size, pos, forms[i].len_bytes, &n))
            return SCP_E_DECODE;
        if (forms[i].kind == 0)
            skip = n + forms[i].extra;
        else
            count = forms[i].kind == 2 ? n * 2 : n;
    }
    if (skip > size - *pos)
        return SCP_E_DECODE;
    *pos += skip;
    if (count > size - *pos)
        return SCP_E_DECODE; /* every element needs at least one byte */
    for (uint64_t i = 0; i < count; i++) {
        int rc = precheck_one(data, size, pos, depth - 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Promises 0 only for exactly one well-formed object with sane counts. */
int scp__msgpack_precheck(const uint8_t *data, size_t size, int depth_max)
{
    size_t pos = 0;
    int rc = precheck_one(data, size, &pos, depth_max);
    if (rc)
        return rc;
    return pos == size ? 0 : SCP_E_TRAILING_BYTES;
}

/* Promises a decoded object that consumed all of data, or SCP_E_DECODE;
 * on success the caller destroys result. */
int scp__msgpack_unpack(const uint8_t *data, size_t size,
                        msgpack_unpacked *result)
{
    size_t offset = 0;
    msgpack_unpacked_init(result);
    msgpack_unpack_return ret =
        msgpack_unpack_next(result, (const char *)data, size, &offset);
    if (ret != MSGPACK_UNPACK_SUCCESS || offset != size) {
        msgpack_unpacked_destroy(result);
        return ret == MSGPACK_UNPACK_SUCCESS ? SCP_E_TRAILING_BYTES : SCP_E_DECODE;
    }
    return 0;
}

/* True for an array of exactly `count` elements. */
bool scp__obj_array(const msgpack_object *o, uint32_t count)
{
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == count;
}

/* True for a non-negative integer <= max, stored in *out. */
bool scp__obj_uint(const msgpack_object *o, uint64_t max, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > max)
        return false;
    *out = o->via.u64;
    return true;
}

/* True for a bin of exactly `size` bytes, copied to out. */
bool scp__obj_bin_exact(const msgpack_object *o, uint8_t *out, size_t size)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size != size)
        return false;
    memcpy(out, o->via.bin.ptr, size);
    return true;
}

/* True for a bin of 1..SCP_VALUE_BYTES_MAX bytes, copied into out. */
static bool obj_value(const msgpack_object *o, struct scp_value *out)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size == 0 ||
        o->via.bin.size > SCP_VALUE_BYTES_MAX)
        return false;
    out->size = o->via.bin.size;
    memcpy(out->bytes, o->via.bin.ptr, out->size);
    return true;
}

/* True for an integer that fits a ballot counter. */
static bool obj_counter(const msgpack_object *o, uint32_t *out)
{
    uint64_t v;
    if (!scp__obj_uint(o, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ---- statement encoding -------------------------------------------------- */

/* Packs a value as bin. */
static void pack_value(msgpack_packer *pk, const struct scp_value *v)
{
    msgpack_pack_bin(pk, v->size);
    msgpack_pack_bin_body(pk, v->bytes, v->size);
}

/* Packs [counter, value], or nil for an absent ballot (counter 0). */
static void pack_ballot(msgpack_packer *pk, const struct scp_ballot *b)
{
    if (b->counter == 0) {
        msgpack_pack_nil(pk);
        return;
    }
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint32(pk, b->counter);
    pack_value(pk, &b->value);
}

/* True when count and every value size are within the limits. */
static bool values_ok(const struct scp_value *values, uint32_t count)
{
    if (count > SCP_NOMINATE_VALUES_MAX)
        return false;
    for (uint32_t i = 0; i < count; i++)
        if (values[i].size == 0 || values[i].size > SCP_VALUE_BYTES_MAX)
            return false;
    return true;
}

/* True for an absent ballot or one with a value within the limits. */
static bool ballot_ok(const struct scp_ballot *b)
{
    return b->counter == 0 || (b->value.size > 0 && b->value.size <= SCP_VALUE_BYTES_MAX);
}

/* True when the statement fits the encoding's limits. */
static bool statement_encodable(const struct scp_statement *st)
{
    switch (st->type) {
    case SCP_STATEMENT_NOMINATE:
        return values_ok(st->u.nominate.votes, st->u.nominate.votes_count) &&
               values_ok(st->u.nominate.accepted, st->u.nominate.accepted_count);
    case SCP_STATEMENT_PREPARE:
        return st->u.prepare.ballot.counter > 0 && ballot_ok(&st->u.prepare.ballot) &&
               ballot_ok(&st->u.prepare.prepared) && ballot_ok(&st->u.prepare.prepared_prime);
    case SCP_STATEMENT_CONFIRM:
        return st->u.confirm.ballot.counter > 0 && ballot_ok(&st->u.confirm.ballot);
    case SCP_STATEMENT_EXTERNALIZE:
        return st->u.externalize.commit.counter > 0 && ballot_ok(&st->u.externalize.commit);
    }
    return false;
}

/* Packs the type-specific body array of a statement. */
static void pack_body(msgpack_packer *pk, const struct scp_statement *st)
{
    switch (st->type) {
    case SCP_STATEMENT_NOMINATE: {
        const struct scp_nominate *n = &st->u.nominate;
        msgpack_pack_array(pk, 2);
        msgpack_pack_array(pk, n->votes_count);
        for (uint32_t i = 0; i < n->votes_count; i++)
            pack_value(pk, &n->votes[i]);
        msgpack_pack_array(pk, n->accepted_count);
        for (uint32_t i = 0; i < n->accepted_count; i++)
            pack_value(pk, &n->accepted[i]);
        break;
    }
    case SCP_STATEMENT_PREPARE:
        msgpack_pack_array(pk, 5);
        pack_ballot(pk, &st->u.prepare.ballot);
        pack_ballot(pk, &st->u.prepare.prepared);
        pack_ballot(pk, &st->u.prepare.prepared_prime);
        msgpack_pack_uint32(pk, st->u.prepare.commit_counter);
        msgpack_pack_uint32(pk, st->u.prepare.high_counter);
        break;
    case SCP_STATEMENT_CONFIRM:
        msgpack_pack_array(pk, 4);
        pack_ballot(pk, &st->u.confirm.ballot);
        msgpack_pack_uint32(pk, st->u.confirm.prepared_counter);
        msgpack_pack_uint32(pk, st->u.confirm.commit_counter);
        msgpack_pack_uint32(pk, st->u.confirm.high_counter);
        break;
    case SCP_STATEMENT_EXTERNALIZE:
        msgpack_pack_array(pk, 2);
        pack_ballot(pk, &st->u.externalize.commit);
        msgpack_pack_uint32(pk, st->u.externalize.high_counter);
        break;
    }
}

/* Packs [node, slot, qset hash, type, body]. */
static void pack_statement(msgpack_packer *pk, const struct scp_statement *st)
{
    msgpack_pack_array(pk, 5);
    msgpack_pack_bin(pk, SCP_NODE_ID_BYTES);
    msgpack_pack_bin_body(pk, st->node_id, SCP_NODE_ID_BYTES);
    msgpack_pack_uint64(pk, st->slot);
    msgpack_pack_bin(pk, SCP_HASH_BYTES);
    msgpack_pack_bin_body(pk, st->qset_hash, SCP_HASH_BYTES);
    msgpack_pack_uint32(pk, (uint32_t)st->type);
    pack_body(pk, st);
}

/* Promises the canonical statement bytes [node, slot, qset hash, type,
 * body] or an error; these are the bytes that get signed. */
int scp_statement_encode(const struct scp_statement *statement, uint8_t *out,
                         size_t capacity, size_t *size_out)
{
    if (statement == NULL || size_out == NULL || !statement_encodable(statement))
        return statement ? SCP_E_LIMIT : SCP_E_INVALID_ARGUMENT;
    struct scp__writer w;
    msgpack_packer pk;
    scp__writer_init(&w, &pk, out, capacity);
    pack_statement(&pk, statement);
    if (w.overflow)
        return SCP_E_BUFFER_TOO_SMALL;
    *size_out = w.size;
    return 0;
}

/* Promises the canonical envelope bytes [statement, signature]. */
int scp_envelope_encode(const struct scp_envelope *envelope, uint8_t *out,
                        size_t capacity, size_t *size_out)
{
    if (envelope == NULL || size_out == NULL)
        return SCP_E_INVALID_ARGUMENT;
    if (!statement_encodable(&envelope->statement))
        return SCP_E_LIMIT;
    struct scp__writer w;
    msgpack_packer pk;
    scp__writer_init(&w, &pk, out, capacity);
    msgpack_pack_array(&pk, 2);
    pack_statement(&pk, &envelope->statement);
    msgpack_pack_bin(&pk, SCP_SIGNATURE_BYTES);
    msgpack_pack_bin_body(&pk, envelope->signature, SCP_SIGNATURE_BYTES);
    if (w.overflow)
        return SCP_E_BUFFER_TOO_SMALL;
    *size_out = w.size;
    return 0;
}

/* ---- statement decoding -------------------------------------------------- */

/* Reads a ballot (or nil when optional) with counter > 0. */
static bool walk_ballot(const msgpack_object *o, struct scp_ballot *out, bool optional)
{
    out->counter = 0;
    out->value.size = 0;
    if (o->type == MSGPACK_OBJECT_NIL)
        return optional;
    return scp__obj_array(o, 2) && obj_counter(&o->via.array.ptr[0], &out->counter) &&
           out->counter > 0 && obj_value(&o->via.array.ptr[1], &out->value);
}

/* Reads an array of at most SCP_NOMINATE_VALUES_MAX values. */
static bool walk_values(const msgpack_object *o, struct scp_value *out, uint32_t *count)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > SCP_NOMINATE_VALUES_MAX)
        return false;
    *count = o->via.array.size;
    for (uint32_t i = 0; i < o->via.array.size; i++)
        if (!obj_value(&o->via.array.ptr[i], &out[i]))
            return false;
    return true;
}

/* Reads the body of the statement's type with its exact field count. */
static bool walk_body(const msgpack_object *o, struct scp_statement *st)
{
    const msgpack_object *f = o->via.array.ptr;
    switch (st->type) {
    case SCP_STATEMENT_NOMINATE:
        return scp__obj_array(o, 2) &&
               walk_values(&f[0], st->u.nominate.votes, &st->u.nominate.votes_count) &&
               walk_values(&f[1], st->u.nominate.accepted, &st->u.nominate.accepted_count);
    case SCP_STATEMENT_PREPARE:
        return scp__obj_array(o, 5) && walk_ballot(&f[0], &st->u.prepare.ballot, false) &&
               walk_ballot(&f[1], &st->u.prepare.prepared, true) &&
               walk_ballot(&f[2], &st->u.prepare.prepared_prime, true) &&
               obj_counter(&f[3], &st->u.prepare.commit_counter) &&
               obj_counter(&f[4], &st->u.prepare.high_counter);
    case SCP_STATEMENT_CONFIRM:
        return scp__obj_array(o, 4) && walk_ballot(&f[0], &st->u.confirm.ballot, false) &&
               obj_counter(&f[1], &st->u.confirm.prepared_counter) &&
               obj_counter(&f[2], &st->u.confirm.commit_counter) &&
               obj_counter(&f[3], &st->u.confirm.high_counter);
    case SCP_STATEMENT_EXTERNALIZE:
        return scp__obj_array(o, 2) && walk_ballot(&f[0], &st->u.externalize.commit, false) &&
               obj_counter(&f[1], &st->u.externalize.high_counter);
    }
    return false;
}

/* Reads [statement, signature] with exact counts and types. */
static bool walk_envelope(const msgpack_object *o, struct scp_envelope *out)
{
    uint64_t type;
    if (!scp__obj_array(o, 2))
        return false;
    const msgpack_object *st = &o->via.array.ptr[0];
    if (!scp__obj_array(st, 5))
        return false;
    const msgpack_object *f = st->via.array.ptr;
    if (!scp__obj_bin_exact(&f[0], out->statement.node_id, SCP_NODE_ID_BYTES) ||
        !scp__obj_uint(&f[1], UINT64_MAX, &out->statement.slot) ||
        !scp__obj_bin_exact(&f[2], out->statement.qset_hash, SCP_HASH_BYTES) ||
        !scp__obj_uint(&f[3], SCP_STATEMENT_EXTERNALIZE, &type) ||
        f[4].type != MSGPACK_OBJECT_ARRAY)
        return false;
    out->statement.type = (enum scp_statement_type)type;
    return walk_body(&f[4], &out->statement) &&
           scp__obj_bin_exact(&o->via.array.ptr[1], out->signature, SCP_SIGNATURE_BYTES);
}

/* Promises a fully decoded envelope whose bytes were canonical, or an error
 * (the output is then unspecified). */
int scp_envelope_decode(const uint8_t *data, size_t size,
                        struct scp_envelope *out)
{
    if (data == NULL || out == NULL)
        return SCP_E_INVALID_ARGUMENT;
    if (size > SCP_ENVELOPE_BYTES_MAX)
        return SCP_E_LIMIT;
    int rc = scp__msgpack_precheck(data, size, SCP_MSGPACK_DEPTH_MAX);
    if (rc)
        return rc;
    msgpack_unpacked result;
    rc = scp__msgpack_unpack(data, size, &result);
    if (rc)
        return rc;
    bool ok = walk_envelope(&result.data, out);
    msgpack_unpacked_destroy(&result);
    if (!ok)
        return SCP_E_DECODE;
    uint8_t *again = malloc(SCP_ENVELOPE_BYTES_MAX);
    size_t again_size = 0;
    if (again == NULL)
        return SCP_E_NO_MEMORY;
    rc = scp_envelope_encode(out, again, SCP_ENVELOPE_BYTES_MAX, &again_size);
    if (rc == 0 && (again_size != size || memcmp(again, data, size) != 0))
        rc = SCP_E_NON_CANONICAL;
    free(again);
    return rc == SCP_E_LIMIT ? SCP_E_DECODE : rc;
}

/* ---- the draft's validity rules ------------------------------------------ */

/* True when values are sorted without repeats. */
static bool strictly_ascending(const struct scp_value *values, uint32_t count)
{
    for (uint32_t i = 1; i < count; i++)
        if (scp_value_compare(&values[i - 1], &values[i]) >= 0)
            return false;
    return true;
}

/* The draft's PREPARE rules (see scp_statement_check). */
static bool prepare_sane(const struct scp_prepare *p)
{
    /* Draft § PREPARE: p' < p and incompatible; h <= p; c <= h <= b. */
    if (p->ballot.counter == 0)
        return false;
    if (p->prepared_prime.counter != 0 &&
        (p->prepared.counter == 0 ||
         scp_ballot_compare(&p->prepared_prime, &p->prepared) >= 0 ||
         scp_value_compare(&p->prepared_prime.value, &p->prepared.value) == 0))
        return false;
    if (p->high_counter != 0 &&
        (p->prepared.counter == 0 || p->high_counter > p->prepared.counter))
        return false;
    if (p->commit_counter != 0 &&
        (p->high_counter == 0 || p->ballot.counter < p->high_counter ||
         p->high_counter < p->commit_counter))
        return false;
    return true;
}

/* Promises 0 only when the statement obeys the draft's rules for its type. */
int scp_statement_check(const struct scp_statement *st)
{
    bool ok = false;
    switch (st->type) {
    case SCP_STATEMENT_NOMINATE: {
        const struct scp_nominate *n = &st->u.nominate;
        ok = n->votes_count + n->accepted_count > 0 &&
             values_ok(n->votes, n->votes_count) &&
             values_ok(n->accepted, n->accepted_count) &&
             strictly_ascending(n->votes, n->votes_count) &&
             strictly_ascending(n->accepted, n->accepted_count);
        break;
    }
    case SCP_STATEMENT_PREPARE:
        ok = prepare_sane(&st->u.prepare);
        break;
    case SCP_STATEMENT_CONFIRM: {
        const struct scp_confirm *c = &st->u.confirm;
        ok = c->ballot.counter > 0 && c->commit_counter > 0 &&
             c->commit_counter <= c->high_counter &&
             c->high_counter <= c->ballot.counter;
        break;
    }
    case SCP_STATEMENT_EXTERNALIZE:
        ok = st->u.externalize.commit.counter > 0 &&
             st->u.externalize.high_counter >= st->u.externalize.commit.counter;
        break;
    }
    return ok ? 0 : SCP_E_INSANE_STATEMENT;
}
