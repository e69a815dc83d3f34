/*
 * records.c — canonical encoding of stored records, ledger headers, blocks
 * and the genesis document (spec/encoding.md §4–§6).
 *
 * Every stored record starts with its format version, so a later format can
 * be read beside this one.  Decoders are strict like the transaction codec.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol_internal.h"


static int read_version(struct node__reader *r, uint32_t fields, uint32_t version)
{
    uint8_t v;
    TRY(node__read_array_exact(r, fields));
    TRY(node__read_u8(r, UINT8_MAX, &v));
    return v == version ? 0 : NODE_E_VERSION;
}

/* --- Accounts ------------------------------------------------------------- */

int node_account_encode(const struct node_account *a, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 10);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_uint64(&pk, a->balance);
    msgpack_pack_uint64(&pk, a->seq);
    msgpack_pack_uint64(&pk, a->flags);
    msgpack_pack_uint64(&pk, a->held);
    msgpack_pack_uint64(&pk, a->completed_as_renter);
    msgpack_pack_uint64(&pk, a->completed_as_owner);
    msgpack_pack_uint64(&pk, a->rating_sum);
    msgpack_pack_uint64(&pk, a->rating_count);
    node__pack_str(&pk, a->name);
    return node__finish(out);
}

int node_account_decode(const uint8_t *bytes, size_t len, struct node_account *a)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    uint8_t key[NODE_KEY_BYTES];
    memcpy(key, a->key, sizeof key); /* the key is the caller's, not encoded */
    memset(a, 0, sizeof *a);
    memcpy(a->key, key, sizeof key);
    TRY(read_version(&r, 10, NODE_RECORD_VERSION));
    TRY(node__read_uint(&r, UINT64_MAX, &a->balance));
    TRY(node__read_uint(&r, UINT64_MAX, &a->seq));
    TRY(node__read_u32(&r, NODE_ACCOUNT_FLAGS_ALL, &a->flags));
    TRY(node__read_uint(&r, UINT64_MAX, &a->held));
    TRY(node__read_u32(&r, UINT32_MAX, &a->completed_as_renter));
    TRY(node__read_u32(&r, UINT32_MAX, &a->completed_as_owner));
    TRY(node__read_uint(&r, UINT64_MAX, &a->rating_sum));
    TRY(node__read_u32(&r, UINT32_MAX, &a->rating_count));
    TRY(node__read_str(&r, NODE_NAME_BYTES_MAX, a->name));
    return node__read_end(&r);
}

/* --- Resources ------------------------------------------------------------ */

int node_resource_encode(const struct node_resource *res, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 11);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_uint64(&pk, res->id);
    node__pack_bin(&pk, res->owner, NODE_KEY_BYTES);
    msgpack_pack_uint64(&pk, res->kind);
    node__pack_str(&pk, res->title);
    msgpack_pack_uint64(&pk, res->price_per_hour);
    msgpack_pack_uint64(&pk, res->deposit);
    msgpack_pack_uint64(&pk, res->min_completed);
    msgpack_pack_uint64(&pk, res->min_rating_x100);
    node__pack_bool(&pk, res->active);
    msgpack_pack_uint64(&pk, res->created_height);
    return node__finish(out);
}

int node_resource_decode(const uint8_t *bytes, size_t len, struct node_resource *res)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    memset(res, 0, sizeof *res);
    TRY(read_version(&r, 11, NODE_RECORD_VERSION));
    TRY(node__read_uint(&r, UINT64_MAX, &res->id));
    TRY(node__read_bin_fixed(&r, res->owner, NODE_KEY_BYTES));
    TRY(node__read_u8(&r, UINT8_MAX, &res->kind));
    if (node_resource_kind_name(res->kind) == NULL)
        return NODE_E_BAD_VALUE;
    TRY(node__read_str(&r, NODE_TITLE_BYTES_MAX, res->title));
    TRY(node__read_uint(&r, UINT64_MAX, &res->price_per_hour));
    TRY(node__read_uint(&r, UINT64_MAX, &res->deposit));
    TRY(node__read_u32(&r, UINT32_MAX, &res->min_completed));
    TRY(node__read_u16(&r, 500, &res->min_rating_x100));
    TRY(node__read_bool(&r, &res->active));
    TRY(node__read_uint(&r, UINT64_MAX, &res->created_height));
    return node__read_end(&r);
}

/* --- Bookings ------------------------------------------------------------- */

int node_booking_encode(const struct node_booking *b, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 16);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_uint64(&pk, b->id);
    msgpack_pack_uint64(&pk, b->resource_id);
    node__pack_bin(&pk, b->renter, NODE_KEY_BYTES);
    node__pack_bin(&pk, b->owner, NODE_KEY_BYTES);
    msgpack_pack_uint64(&pk, b->start);
    msgpack_pack_uint64(&pk, b->end);
    msgpack_pack_uint64(&pk, b->price_total);
    msgpack_pack_uint64(&pk, b->deposit);
    msgpack_pack_uint64(&pk, b->status);
    msgpack_pack_uint64(&pk, b->damage_claim);
    msgpack_pack_uint64(&pk, b->coop_fee);
    node__pack_bool(&pk, b->rated_by_renter);
    node__pack_bool(&pk, b->rated_by_owner);
    msgpack_pack_uint64(&pk, b->created_height);
    msgpack_pack_uint64(&pk, b->closed_height);
    return node__finish(out);
}

int node_booking_decode(const uint8_t *bytes, size_t len, struct node_booking *b)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    memset(b, 0, sizeof *b);
    TRY(read_version(&r, 16, NODE_RECORD_VERSION));
    TRY(node__read_uint(&r, UINT64_MAX, &b->id));
    TRY(node__read_uint(&r, UINT64_MAX, &b->resource_id));
    TRY(node__read_bin_fixed(&r, b->renter, NODE_KEY_BYTES));
    TRY(node__read_bin_fixed(&r, b->owner, NODE_KEY_BYTES));
    TRY(node__read_uint(&r, UINT64_MAX, &b->start));
    TRY(node__read_uint(&r, UINT64_MAX, &b->end));
    TRY(node__read_uint(&r, UINT64_MAX, &b->price_total));
    TRY(node__read_uint(&r, UINT64_MAX, &b->deposit));
    TRY(node__read_u8(&r, NODE_BOOKING_COMPLETED, &b->status));
    if (b->status < NODE_BOOKING_ACTIVE)
        return NODE_E_BAD_VALUE;
    TRY(node__read_uint(&r, UINT64_MAX, &b->damage_claim));
    TRY(node__read_uint(&r, UINT64_MAX, &b->coop_fee));
    TRY(node__read_bool(&r, &b->rated_by_renter));
    TRY(node__read_bool(&r, &b->rated_by_owner));
    TRY(node__read_uint(&r, UINT64_MAX, &b->created_height));
    TRY(node__read_uint(&r, UINT64_MAX, &b->closed_height));
    return node__read_end(&r);
}

/* --- Proposals ------------------------------------------------------------ */

int node_proposal_encode(const struct node_proposal *p, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 12);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_uint64(&pk, p->id);
    node__pack_bin(&pk, p->proposer, NODE_KEY_BYTES);
    node__pack_proposal_body(&pk, &p->body);
    msgpack_pack_uint64(&pk, p->created_height);
    msgpack_pack_uint64(&pk, p->deadline);
    msgpack_pack_uint64(&pk, p->yes);
    msgpack_pack_uint64(&pk, p->no);
    msgpack_pack_uint64(&pk, p->status);
    msgpack_pack_uint64(&pk, p->decided_height);
    msgpack_pack_uint64(&pk, p->effective_height);
    msgpack_pack_uint64(&pk, p->enact_result);
    return node__finish(out);
}

int node_proposal_decode(const uint8_t *bytes, size_t len, struct node_proposal *p)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    memset(p, 0, sizeof *p);
    TRY(read_version(&r, 12, NODE_RECORD_VERSION));
    TRY(node__read_uint(&r, UINT64_MAX, &p->id));
    TRY(node__read_bin_fixed(&r, p->proposer, NODE_KEY_BYTES));
    TRY(node__read_proposal_body(&r, &p->body));
    TRY(node__read_uint(&r, UINT64_MAX, &p->created_height));
    TRY(node__read_uint(&r, UINT64_MAX, &p->deadline));
    TRY(node__read_u32(&r, UINT32_MAX, &p->yes));
    TRY(node__read_u32(&r, UINT32_MAX, &p->no));
    TRY(node__read_u8(&r, NODE_PROPOSAL_ENACT_FAILED, &p->status));
    if (p->status < NODE_PROPOSAL_OPEN)
        return NODE_E_BAD_VALUE;
    TRY(node__read_uint(&r, UINT64_MAX, &p->decided_height));
    TRY(node__read_uint(&r, UINT64_MAX, &p->effective_height));
    TRY(node__read_u16(&r, UINT16_MAX, &p->enact_result));
    return node__read_end(&r);
}

/* --- Parameters and counters ------------------------------------------------ */

int node_params_encode(const struct node_params *p, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_array(&pk, NODE_PARAM_COUNT);
    for (unsigned i = 0; i < NODE_PARAM_COUNT; i++)
        msgpack_pack_uint64(&pk, p->values[i]);
    return node__finish(out);
}

int node_params_decode(const uint8_t *bytes, size_t len, struct node_params *p)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(read_version(&r, 2, NODE_RECORD_VERSION));
    TRY(node__read_array_exact(&r, NODE_PARAM_COUNT));
    for (unsigned i = 0; i < NODE_PARAM_COUNT; i++) {
        TRY(node__read_uint(&r, UINT64_MAX, &p->values[i]));
        if (!node_param_valid(i, p->values[i]))
            return NODE_E_BAD_VALUE;
    }
    return node__read_end(&r);
}

int node_counters_encode(const struct node_counters *c, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_uint64(&pk, c->next_resource_id);
    msgpack_pack_uint64(&pk, c->next_booking_id);
    msgpack_pack_uint64(&pk, c->next_proposal_id);
    msgpack_pack_uint64(&pk, c->member_count);
    msgpack_pack_uint64(&pk, c->open_proposals);
    return node__finish(out);
}

int node_counters_decode(const uint8_t *bytes, size_t len, struct node_counters *c)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(read_version(&r, 6, NODE_RECORD_VERSION));
    TRY(node__read_uint(&r, UINT64_MAX, &c->next_resource_id));
    TRY(node__read_uint(&r, UINT64_MAX, &c->next_booking_id));
    TRY(node__read_uint(&r, UINT64_MAX, &c->next_proposal_id));
    TRY(node__read_u32(&r, UINT32_MAX, &c->member_count));
    TRY(node__read_u32(&r, NODE_OPEN_PROPOSALS_MAX, &c->open_proposals));
    return node__read_end(&r);
}

/* --- Validator sets --------------------------------------------------------- */

void node_validator_set_free(struct node_validator_set *set)
{
    if (set == NULL)
        return;
    free(set->validators);
    set->validators = NULL;
    set->count = 0;
}

int node_validator_set_encode(const struct node_validator_set *s, struct node_buf *out)
{
    if (s->count > NODE_VALIDATORS_MAX)
        return NODE_E_TOO_MANY;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_array(&pk, s->count);
    for (uint32_t i = 0; i < s->count; i++)
        node__pack_validator(&pk, &s->validators[i]);
    return node__finish(out);
}

int node_validator_set_decode(const uint8_t *bytes, size_t len, struct node_validator_set *s)
{
    struct node__reader r;
    uint32_t count;
    node__reader_init(&r, bytes, len);
    s->count = 0;
    s->validators = NULL;
    TRY(read_version(&r, 2, NODE_RECORD_VERSION));
    TRY(node__read_array(&r, &count));
    if (count > NODE_VALIDATORS_MAX)
        return NODE_E_TOO_MANY;
    s->validators = calloc(count ? count : 1, sizeof *s->validators);
    if (s->validators == NULL)
        return NODE_E_NOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        rc = node__read_validator(&r, &s->validators[i]);
        /* Sorted strictly by node key: one encoding per set, no duplicates. */
        if (rc == 0 && i > 0 &&
            memcmp(s->validators[i - 1].node_key, s->validators[i].node_key, NODE_KEY_BYTES) >= 0)
            rc = NODE_E_BAD_VALUE;
    }
    if (rc == 0)
        rc = node__read_end(&r);
    if (rc != 0) {
        node_validator_set_free(s);
        return rc;
    }
    s->count = count;
    return 0;
}

int node_validator_era_encode(const struct node_validator_era *e, struct node_buf *out)
{
    if (e->set.count > NODE_VALIDATORS_MAX)
        return NODE_E_TOO_MANY;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint64(&pk, NODE_RECORD_VERSION);
    msgpack_pack_uint64(&pk, e->threshold_bp);
    msgpack_pack_array(&pk, e->set.count);
    for (uint32_t i = 0; i < e->set.count; i++)
        node__pack_validator(&pk, &e->set.validators[i]);
    return node__finish(out);
}

int node_validator_era_decode(const uint8_t *bytes, size_t len, struct node_validator_era *e)
{
    struct node__reader r;
    uint32_t count;
    node__reader_init(&r, bytes, len);
    e->set.count = 0;
    e->set.validators = NULL;
    TRY(read_version(&r, 3, NODE_RECORD_VERSION));
    TRY(node__read_uint(&r, 10000, &e->threshold_bp));
    TRY(node__read_array(&r, &count));
    if (count > NODE_VALIDATORS_MAX)
        return NODE_E_TOO_MANY;
    e->set.validators = calloc(count ? count : 1, sizeof *e->set.validators);
    if (e->set.validators == NULL)
        return NODE_E_NOMEM;
    int rc = 0;
    for (uint32_t i = 0; i < count && rc == 0; i++) {
        rc = node__read_validator(&r, &e->set.validators[i]);
        if (rc == 0 && i > 0 &&
            memcmp(e->set.validators[i - 1].node_key, e->set.validators[i].node_key, NODE_KEY_BYTES) >= 0)
            rc = NODE_E_BAD_VALUE;
    }
    if (rc == 0)
        rc = node__read_end(&r);
    if (rc != 0) {
        node_validator_set_free(&e->set);
        return rc;
    }
    e->set.count = count;
    return 0;
}

int node_validator_set_hash(const struct node_validator_set *s, uint8_t out[static NODE_HASH_BYTES])
{
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_validator_set_encode(s, &b);
    if (rc == 0)
        node_hash(b.data, b.len, out);
    node_buf_free(&b);
    return rc;
}

/* --- Headers ------------------------------------------------------------------ */

int node_header_encode(const struct node_header *h, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 8);
    msgpack_pack_uint64(&pk, h->version);
    msgpack_pack_uint64(&pk, h->height);
    node__pack_bin(&pk, h->previous_hash, NODE_HASH_BYTES);
    msgpack_pack_uint64(&pk, h->close_time_ms);
    node__pack_bin(&pk, h->tx_set_hash, NODE_HASH_BYTES);
    node__pack_bin(&pk, h->results_hash, NODE_HASH_BYTES);
    node__pack_bin(&pk, h->state_hash, NODE_HASH_BYTES);
    node__pack_bin(&pk, h->validator_set_hash, NODE_HASH_BYTES);
    return node__finish(out);
}

static int read_header(struct node__reader *r, struct node_header *h)
{
    TRY(node__read_array_exact(r, 8));
    TRY(node__read_u32(r, UINT32_MAX, &h->version));
    if (h->version != NODE_HEADER_VERSION)
        return NODE_E_VERSION;
    TRY(node__read_uint(r, UINT64_MAX, &h->height));
    TRY(node__read_bin_fixed(r, h->previous_hash, NODE_HASH_BYTES));
    TRY(node__read_uint(r, UINT64_MAX, &h->close_time_ms));
    TRY(node__read_bin_fixed(r, h->tx_set_hash, NODE_HASH_BYTES));
    TRY(node__read_bin_fixed(r, h->results_hash, NODE_HASH_BYTES));
    TRY(node__read_bin_fixed(r, h->state_hash, NODE_HASH_BYTES));
    return node__read_bin_fixed(r, h->validator_set_hash, NODE_HASH_BYTES);
}

int node_header_decode(const uint8_t *bytes, size_t len, struct node_header *h)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(read_header(&r, h));
    return node__read_end(&r);
}

int node_header_hash(const struct node_header *h, const uint8_t network_id[static NODE_HASH_BYTES],
                     uint8_t out[static NODE_HASH_BYTES])
{
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_header_encode(h, &b);
    if (rc == 0)
        node_hash_domain(NODE_DOMAIN_HEADER, network_id, b.data, b.len, out);
    node_buf_free(&b);
    return rc;
}

/* --- Results and blocks ------------------------------------------------------ */

static void pack_results(msgpack_packer *pk, const struct node_tx_result *results, uint32_t count)
{
    msgpack_pack_array(pk, count);
    for (uint32_t i = 0; i < count; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, results[i].code);
        msgpack_pack_uint64(pk, results[i].fee_charged);
    }
}

int node_results_hash(const struct node_tx_result *results, uint32_t count,
                      uint8_t out[static NODE_HASH_BYTES])
{
    struct node_buf b;
    node_buf_init(&b);
    msgpack_packer pk;
    node__packer_init(&pk, &b);
    pack_results(&pk, results, count);
    int rc = node__finish(&b);
    if (rc == 0)
        node_hash(b.data, b.len, out);
    node_buf_free(&b);
    return rc;
}

int node_block_encode(const struct node_block *blk, struct node_buf *out)
{
    if (blk->tx_count > NODE_BLOCK_TXS_MAX)
        return NODE_E_TOO_MANY;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 3);
    TRY(node_header_encode(&blk->header, out));
    msgpack_pack_array(&pk, blk->tx_count);
    for (uint32_t i = 0; i < blk->tx_count; i++)
        node__pack_bin(&pk, blk->tx_bytes[i], blk->tx_lens[i]);
    pack_results(&pk, blk->results, blk->tx_count);
    return node__finish(out);
}

void node_block_free(struct node_block *blk)
{
    if (blk == NULL)
        return;
    for (uint32_t i = 0; blk->tx_bytes != NULL && i < blk->tx_count; i++)
        free(blk->tx_bytes[i]);
    free(blk->tx_bytes);
    free(blk->tx_lens);
    free(blk->results);
    blk->tx_bytes = NULL;
    blk->tx_lens = NULL;
    blk->results = NULL;
    blk->tx_count = 0;
}

static int read_block_body(struct node__reader *r, struct node_block *blk, uint32_t count)
{
    blk->tx_bytes = calloc(count ? count : 1, sizeof *blk->tx_bytes);
    blk->tx_lens = calloc(count ? count : 1, sizeof *blk->tx_lens);
    blk->results = calloc(count ? count : 1, sizeof *blk->results);
    if (blk->tx_bytes == NULL || blk->tx_lens == NULL || blk->results == NULL)
        return NODE_E_NOMEM;
    blk->tx_count = count;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *bytes;
        size_t len;
        TRY(node__read_bin(r, NODE_TX_BYTES_MAX, &bytes, &len));
        blk->tx_bytes[i] = malloc(len ? len : 1);
        if (blk->tx_bytes[i] == NULL)
            return NODE_E_NOMEM;
        memcpy(blk->tx_bytes[i], bytes, len);
        blk->tx_lens[i] = len;
    }
    TRY(node__read_array_exact(r, count));
    for (uint32_t i = 0; i < count; i++) {
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_u16(r, UINT16_MAX, &blk->results[i].code));
        TRY(node__read_uint(r, UINT64_MAX, &blk->results[i].fee_charged));
    }
    return 0;
}

int node_block_decode(const uint8_t *bytes, size_t len, struct node_block *blk)
{
    struct node__reader r;
    uint32_t count;
    node__reader_init(&r, bytes, len);
    memset(blk, 0, sizeof *blk);
    TRY(node__read_array_exact(&r, 3));
    TRY(read_header(&r, &blk->header));
    TRY(node__read_array(&r, &count));
    if (count > NODE_BLOCK_TXS_MAX)
        return NODE_E_TOO_MANY;
    int rc = read_block_body(&r, blk, count);
    if (rc == 0)
        rc = node__read_end(&r);
    if (rc != 0)
        node_block_free(blk);
    return rc;
}

/* --- Merkle tree (RFC 6962 §2.1 shape, BLAKE2b-256) ----------------------------- */

void node_merkle_leaf(const uint8_t *bytes, size_t len, uint8_t out[static NODE_HASH_BYTES])
{
    crypto_generichash_state st;
    static const uint8_t leaf_prefix = 0x00;
    crypto_generichash_init(&st, NULL, 0, NODE_HASH_BYTES);
    crypto_generichash_update(&st, &leaf_prefix, 1);
    crypto_generichash_update(&st, bytes, len);
    crypto_generichash_final(&st, out, NODE_HASH_BYTES);
}

static void merkle_node(const uint8_t left[NODE_HASH_BYTES], const uint8_t right[NODE_HASH_BYTES],
                        uint8_t out[NODE_HASH_BYTES])
{
    crypto_generichash_state st;
    static const uint8_t node_prefix = 0x01;
    crypto_generichash_init(&st, NULL, 0, NODE_HASH_BYTES);
    crypto_generichash_update(&st, &node_prefix, 1);
    crypto_generichash_update(&st, left, NODE_HASH_BYTES);
    crypto_generichash_update(&st, right, NODE_HASH_BYTES);
    crypto_generichash_final(&st, out, NODE_HASH_BYTES);
}

/* Largest power of two strictly less than n (n >= 2). */
static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* Root of leaves[0..n) by recursion on the RFC 6962 split; depth ≤ 64. */
static void merkle_subtree(const uint8_t (*leaves)[NODE_HASH_BYTES], size_t n,
                           uint8_t out[NODE_HASH_BYTES])
{
    if (n == 1) {
        memcpy(out, leaves[0], NODE_HASH_BYTES);
        return;
    }
    size_t k = split_point(n);
    uint8_t left[NODE_HASH_BYTES], right[NODE_HASH_BYTES];
    merkle_subtree(leaves, k, left);
    merkle_subtree(leaves + k, n - k, right);
    merkle_node(left, right, out);
}

int node_merkle_root(const uint8_t (*leaves)[NODE_HASH_BYTES], size_t count,
                     uint8_t out[static NODE_HASH_BYTES])
{
    if (count == 0) {
        node_hash(NULL, 0, out);
        return 0;
    }
    merkle_subtree(leaves, count, out);
    return 0;
}

int node_merkle_path(const uint8_t (*leaves)[NODE_HASH_BYTES], size_t count, size_t index,
                     uint8_t (*path)[NODE_HASH_BYTES], size_t *path_len)
{
    if (index >= count)
        return NODE_E_INVALID;
    /* Walk down from the root; record the sibling subtree at each split, then
     * reverse so the path runs leaf → root. */
    uint8_t stack[64][NODE_HASH_BYTES];
    size_t depth = 0, offset = 0, n = count;
    while (n > 1) {
        size_t k = split_point(n);
        if (index - offset < k) {
            merkle_subtree(leaves + offset + k, n - k, stack[depth++]);
            n = k;
        } else {
            merkle_subtree(leaves + offset, k, stack[depth++]);
            offset += k;
            n -= k;
        }
    }
    for (size_t i = 0; i < depth; i++)
        memcpy(path[i], stack[depth - 1 - i], NODE_HASH_BYTES);
    *path_len = depth;
    return 0;
}

bool node_merkle_verify(const uint8_t leaf[static NODE_HASH_BYTES], size_t index, size_t count,
                        const uint8_t (*path)[NODE_HASH_BYTES], size_t path_len,
                        const uint8_t root[static NODE_HASH_BYTES])
{
    if (index >= count || path_len > 64)
        return false;
    /* Recompute which side each sibling is on from (index, count), top-down,
     * then fold bottom-up. */
    bool sibling_is_right[64];
    size_t depth = 0, offset = 0, n = count;
    while (n > 1) {
        if (depth >= 64)
            return false;
        size_t k = split_point(n);
        if (index - offset < k) {
            sibling_is_right[depth++] = true;
            n = k;
        } else {
            sibling_is_right[depth++] = false;
            offset += k;
            n -= k;
        }
    }
    if (depth != path_len)
        return false;
    uint8_t acc[NODE_HASH_BYTES];
    memcpy(acc, leaf, NODE_HASH_BYTES);
    for (size_t i = 0; i < path_len; i++) {
        bool right = sibling_is_right[depth - 1 - i];
        uint8_t next[NODE_HASH_BYTES];
        if (right)
            merkle_node(acc, path[i], next);
        else
            merkle_node(path[i], acc, next);
        memcpy(acc, next, NODE_HASH_BYTES);
    }
    return sodium_memcmp(acc, root, NODE_HASH_BYTES) == 0;
}
