/*
 * codec.c — canonical encoding of every protocol type (spec/encoding.md).
 *
 * Each type is a msgpack array with a fixed field order.  Encoders append to
 * a node_buf; decoders read the whole input strictly (node/protocol/protocol_internal.h) and return
 * the first violation's code.  Decoders also check values' ranges (a kind or
 * status out of its enum is NODE_E_BAD_VALUE), so a decoded struct is always
 * one an encoder could have produced.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol_internal.h"


/* --- Transactions ----------------------------------------------------------- */

void node__pack_validator(msgpack_packer *pk, const struct node_validator *v)
{
    msgpack_pack_array(pk, 3);
    node__pack_bin(pk, v->node_key, NODE_KEY_BYTES);
    node__pack_bin(pk, v->org, NODE_KEY_BYTES);
    node__pack_str(pk, v->address);
}

int node__read_validator(struct node__reader *r, struct node_validator *v)
{
    TRY(node__read_array_exact(r, 3));
    TRY(node__read_bin_fixed(r, v->node_key, NODE_KEY_BYTES));
    TRY(node__read_bin_fixed(r, v->org, NODE_KEY_BYTES));
    return node__read_str(r, NODE_ADDRESS_HINT_BYTES_MAX, v->address);
}

/* [kind, title, [args...]] */
void node__pack_proposal_body(msgpack_packer *pk, const struct node_proposal_body *b)
{
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint64(pk, b->kind);
    node__pack_str(pk, b->title);
    switch (b->kind) {
    case NODE_PROPOSAL_VALIDATOR_ADD:
        msgpack_pack_array(pk, 1);
        node__pack_validator(pk, &b->u.validator_add);
        break;
    case NODE_PROPOSAL_VALIDATOR_REMOVE:
        msgpack_pack_array(pk, 1);
        node__pack_bin(pk, b->u.validator_remove.node_key, NODE_KEY_BYTES);
        break;
    case NODE_PROPOSAL_ORG_ADMIT:
        msgpack_pack_array(pk, 2);
        node__pack_bin(pk, b->u.org_admit.account, NODE_KEY_BYTES);
        node__pack_str(pk, b->u.org_admit.name);
        break;
    case NODE_PROPOSAL_MEMBER_ADMIT:
    case NODE_PROPOSAL_MEMBER_REMOVE:
        msgpack_pack_array(pk, 1);
        node__pack_bin(pk, b->u.member.account, NODE_KEY_BYTES);
        break;
    case NODE_PROPOSAL_PARAM_SET:
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, b->u.param_set.param_id);
        msgpack_pack_uint64(pk, b->u.param_set.value);
        break;
    case NODE_PROPOSAL_TREASURY_PAY:
        msgpack_pack_array(pk, 2);
        node__pack_bin(pk, b->u.treasury_pay.destination, NODE_KEY_BYTES);
        msgpack_pack_uint64(pk, b->u.treasury_pay.amount);
        break;
    default:
        msgpack_pack_array(pk, 0);
        break;
    }
}

int node__read_proposal_body(struct node__reader *r, struct node_proposal_body *b)
{
    TRY(node__read_array_exact(r, 3));
    TRY(node__read_u8(r, UINT8_MAX, &b->kind));
    TRY(node__read_str(r, NODE_PROPOSAL_TITLE_BYTES_MAX, b->title));
    switch (b->kind) {
    case NODE_PROPOSAL_VALIDATOR_ADD:
        TRY(node__read_array_exact(r, 1));
        return node__read_validator(r, &b->u.validator_add);
    case NODE_PROPOSAL_VALIDATOR_REMOVE:
        TRY(node__read_array_exact(r, 1));
        return node__read_bin_fixed(r, b->u.validator_remove.node_key, NODE_KEY_BYTES);
    case NODE_PROPOSAL_ORG_ADMIT:
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_bin_fixed(r, b->u.org_admit.account, NODE_KEY_BYTES));
        return node__read_str(r, NODE_NAME_BYTES_MAX, b->u.org_admit.name);
    case NODE_PROPOSAL_MEMBER_ADMIT:
    case NODE_PROPOSAL_MEMBER_REMOVE:
        TRY(node__read_array_exact(r, 1));
        return node__read_bin_fixed(r, b->u.member.account, NODE_KEY_BYTES);
    case NODE_PROPOSAL_PARAM_SET:
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_u16(r, NODE_PARAM_COUNT - 1, &b->u.param_set.param_id));
        return node__read_uint(r, UINT64_MAX, &b->u.param_set.value);
    case NODE_PROPOSAL_TREASURY_PAY:
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_bin_fixed(r, b->u.treasury_pay.destination, NODE_KEY_BYTES));
        return node__read_uint(r, UINT64_MAX, &b->u.treasury_pay.amount);
    default:
        return NODE_E_UNKNOWN_TYPE;
    }
}

static void pack_tx_body(msgpack_packer *pk, const struct node_tx *tx)
{
    switch (tx->type) {
    case NODE_TX_PAY: {
        const struct node_tx_pay *b = &tx->body.pay;
        msgpack_pack_array(pk, 2);
        node__pack_bin(pk, b->destination, NODE_KEY_BYTES);
        msgpack_pack_uint64(pk, b->amount);
        break;
    }
    case NODE_TX_RESOURCE_REGISTER: {
        const struct node_tx_resource_register *b = &tx->body.resource_register;
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint64(pk, b->kind);
        node__pack_str(pk, b->title);
        msgpack_pack_uint64(pk, b->price_per_hour);
        msgpack_pack_uint64(pk, b->deposit);
        msgpack_pack_uint64(pk, b->min_completed);
        msgpack_pack_uint64(pk, b->min_rating_x100);
        break;
    }
    case NODE_TX_RESOURCE_UPDATE: {
        const struct node_tx_resource_update *b = &tx->body.resource_update;
        msgpack_pack_array(pk, 6);
        msgpack_pack_uint64(pk, b->resource_id);
        msgpack_pack_uint64(pk, b->price_per_hour);
        msgpack_pack_uint64(pk, b->deposit);
        msgpack_pack_uint64(pk, b->min_completed);
        msgpack_pack_uint64(pk, b->min_rating_x100);
        node__pack_bool(pk, b->active);
        break;
    }
    case NODE_TX_BOOKING_CREATE: {
        const struct node_tx_booking_create *b = &tx->body.booking_create;
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint64(pk, b->resource_id);
        msgpack_pack_uint64(pk, b->start);
        msgpack_pack_uint64(pk, b->end);
        msgpack_pack_uint64(pk, b->escrow_max);
        break;
    }
    case NODE_TX_BOOKING_CANCEL:
        msgpack_pack_array(pk, 1);
        msgpack_pack_uint64(pk, tx->body.booking_cancel.booking_id);
        break;
    case NODE_TX_BOOKING_COMPLETE:
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, tx->body.booking_complete.booking_id);
        msgpack_pack_uint64(pk, tx->body.booking_complete.damage_claim);
        break;
    case NODE_TX_BOOKING_RATE:
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, tx->body.booking_rate.booking_id);
        msgpack_pack_uint64(pk, tx->body.booking_rate.stars);
        break;
    case NODE_TX_GOV_PROPOSE:
        node__pack_proposal_body(pk, &tx->body.gov_propose);
        break;
    case NODE_TX_GOV_VOTE:
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint64(pk, tx->body.gov_vote.proposal_id);
        node__pack_bool(pk, tx->body.gov_vote.yes);
        break;
    default:
        msgpack_pack_array(pk, 0);
        break;
    }
}

static int read_tx_body(struct node__reader *r, struct node_tx *tx)
{
    switch (tx->type) {
    case NODE_TX_PAY: {
        struct node_tx_pay *b = &tx->body.pay;
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_bin_fixed(r, b->destination, NODE_KEY_BYTES));
        return node__read_uint(r, UINT64_MAX, &b->amount);
    }
    case NODE_TX_RESOURCE_REGISTER: {
        struct node_tx_resource_register *b = &tx->body.resource_register;
        TRY(node__read_array_exact(r, 6));
        TRY(node__read_u8(r, UINT8_MAX, &b->kind));
        if (node_resource_kind_name(b->kind) == NULL)
            return NODE_E_BAD_VALUE;
        TRY(node__read_str(r, NODE_TITLE_BYTES_MAX, b->title));
        TRY(node__read_uint(r, UINT64_MAX, &b->price_per_hour));
        TRY(node__read_uint(r, UINT64_MAX, &b->deposit));
        TRY(node__read_u32(r, UINT32_MAX, &b->min_completed));
        return node__read_u16(r, 500, &b->min_rating_x100);
    }
    case NODE_TX_RESOURCE_UPDATE: {
        struct node_tx_resource_update *b = &tx->body.resource_update;
        TRY(node__read_array_exact(r, 6));
        TRY(node__read_uint(r, UINT64_MAX, &b->resource_id));
        TRY(node__read_uint(r, UINT64_MAX, &b->price_per_hour));
        TRY(node__read_uint(r, UINT64_MAX, &b->deposit));
        TRY(node__read_u32(r, UINT32_MAX, &b->min_completed));
        TRY(node__read_u16(r, 500, &b->min_rating_x100));
        return node__read_bool(r, &b->active);
    }
    case NODE_TX_BOOKING_CREATE: {
        struct node_tx_booking_create *b = &tx->body.booking_create;
        TRY(node__read_array_exact(r, 4));
        TRY(node__read_uint(r, UINT64_MAX, &b->resource_id));
        TRY(node__read_uint(r, UINT64_MAX, &b->start));
        TRY(node__read_uint(r, UINT64_MAX, &b->end));
        return node__read_uint(r, UINT64_MAX, &b->escrow_max);
    }
    case NODE_TX_BOOKING_CANCEL:
        TRY(node__read_array_exact(r, 1));
        return node__read_uint(r, UINT64_MAX, &tx->body.booking_cancel.booking_id);
    case NODE_TX_BOOKING_COMPLETE:
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_uint(r, UINT64_MAX, &tx->body.booking_complete.booking_id));
        return node__read_uint(r, UINT64_MAX, &tx->body.booking_complete.damage_claim);
    case NODE_TX_BOOKING_RATE:
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_uint(r, UINT64_MAX, &tx->body.booking_rate.booking_id));
        TRY(node__read_u8(r, 5, &tx->body.booking_rate.stars));
        return tx->body.booking_rate.stars >= 1 ? 0 : NODE_E_BAD_VALUE;
    case NODE_TX_GOV_PROPOSE:
        return node__read_proposal_body(r, &tx->body.gov_propose);
    case NODE_TX_GOV_VOTE:
        TRY(node__read_array_exact(r, 2));
        TRY(node__read_uint(r, UINT64_MAX, &tx->body.gov_vote.proposal_id));
        return node__read_bool(r, &tx->body.gov_vote.yes);
    default:
        return NODE_E_UNKNOWN_TYPE;
    }
}

static void pack_tx(msgpack_packer *pk, const struct node_tx *tx)
{
    msgpack_pack_array(pk, 7);
    msgpack_pack_uint64(pk, tx->version);
    msgpack_pack_uint64(pk, tx->type);
    node__pack_bin(pk, tx->source, NODE_KEY_BYTES);
    msgpack_pack_uint64(pk, tx->seq);
    msgpack_pack_uint64(pk, tx->fee);
    node__pack_str(pk, tx->memo);
    pack_tx_body(pk, tx);
}

static int read_tx(struct node__reader *r, struct node_tx *tx)
{
    memset(tx, 0, sizeof *tx);
    TRY(node__read_array_exact(r, 7));
    TRY(node__read_u8(r, UINT8_MAX, &tx->version));
    if (tx->version != NODE_TX_VERSION)
        return NODE_E_VERSION;
    TRY(node__read_u8(r, UINT8_MAX, &tx->type));
    if (node_tx_type_name(tx->type) == NULL)
        return NODE_E_UNKNOWN_TYPE;
    TRY(node__read_bin_fixed(r, tx->source, NODE_KEY_BYTES));
    TRY(node__read_uint(r, UINT64_MAX, &tx->seq));
    TRY(node__read_uint(r, UINT64_MAX, &tx->fee));
    TRY(node__read_str(r, NODE_MEMO_BYTES_MAX, tx->memo));
    return read_tx_body(r, tx);
}

/* Checks the fields that an encoder must not write out of range. */
static int tx_check(const struct node_tx *tx)
{
    if (tx->version != NODE_TX_VERSION)
        return NODE_E_VERSION;
    if (node_tx_type_name(tx->type) == NULL)
        return NODE_E_UNKNOWN_TYPE;
    if (strlen(tx->memo) > NODE_MEMO_BYTES_MAX)
        return NODE_E_TOO_LONG;
    if (!node__utf8_valid(tx->memo, strlen(tx->memo)))
        return NODE_E_BAD_UTF8;
    if (tx->type == NODE_TX_GOV_PROPOSE &&
        node_proposal_kind_name(tx->body.gov_propose.kind) == NULL)
        return NODE_E_UNKNOWN_TYPE;
    return 0;
}

/* Re-reads what was just encoded with the strict reader, so the encoder can
 * never produce bytes the decoder refuses (a body field out of range, a
 * title that is not UTF-8): there is one definition of a valid transaction. */
static int check_encoded(const struct node_buf *out, size_t start)
{
    struct node__reader r;
    struct node_tx tx;
    node__reader_init(&r, out->data + start, out->len - start);
    TRY(read_tx(&r, &tx));
    return node__read_end(&r);
}

int node_tx_encode(const struct node_tx *tx, struct node_buf *out)
{
    TRY(tx_check(tx));
    size_t start = out->len;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    pack_tx(&pk, tx);
    TRY(node__finish(out));
    int rc = check_encoded(out, start);
    if (rc != 0)
        out->len = start;
    return rc;
}

int node_envelope_encode(const struct node_tx_envelope *env, struct node_buf *out)
{
    TRY(tx_check(&env->tx));
    msgpack_packer pk;
    node__packer_init(&pk, out);
    size_t start = out->len;
    msgpack_pack_array(&pk, 2);
    pack_tx(&pk, &env->tx);
    node__pack_bin(&pk, env->signature, NODE_SIGNATURE_BYTES);
    TRY(node__finish(out));
    struct node_tx_envelope check;
    int rc = node_envelope_decode(out->data + start, out->len - start, &check);
    if (rc != 0)
        out->len = start;
    return rc;
}

int node_envelope_decode(const uint8_t *bytes, size_t len, struct node_tx_envelope *out)
{
    if (len > NODE_TX_BYTES_MAX)
        return NODE_E_TOO_LONG;
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 2));
    TRY(read_tx(&r, &out->tx));
    TRY(node__read_bin_fixed(&r, out->signature, NODE_SIGNATURE_BYTES));
    return node__read_end(&r);
}

int node_tx_hash(const struct node_tx *tx, const uint8_t network_id[static NODE_HASH_BYTES],
                 uint8_t out[static NODE_HASH_BYTES])
{
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_tx_encode(tx, &b);
    if (rc == 0)
        node_hash_domain(NODE_DOMAIN_TX, network_id, b.data, b.len, out);
    node_buf_free(&b);
    return rc;
}

int node_tx_sign(const struct node_tx *tx, const uint8_t network_id[static NODE_HASH_BYTES],
                 const uint8_t secret_key[static NODE_SECRET_KEY_BYTES],
                 struct node_tx_envelope *env)
{
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_tx_encode(tx, &b);
    if (rc == 0) {
        env->tx = *tx;
        rc = node_sign(NODE_DOMAIN_TX, network_id, b.data, b.len, secret_key, env->signature);
    }
    node_buf_free(&b);
    return rc;
}

int node_envelope_open(const uint8_t *bytes, size_t len, const uint8_t network_id[static NODE_HASH_BYTES],
                       bool verify, struct node_tx_envelope *env, uint8_t *id)
{
    TRY(node_envelope_decode(bytes, len, env));
    /* [tx, signature]: a 1-byte array header, the tx, then bin8 64 (66 bytes). */
    const uint8_t *tx = bytes + 1;
    size_t tx_len = len - 1 - 2 - NODE_SIGNATURE_BYTES;
    if (id != NULL)
        node_hash_domain(NODE_DOMAIN_TX, network_id, tx, tx_len, id);
    if (verify)
        return node_verify(NODE_DOMAIN_TX, network_id, tx, tx_len, env->tx.source, env->signature);
    return 0;
}

int node_envelope_verify(const struct node_tx_envelope *env,
                         const uint8_t network_id[static NODE_HASH_BYTES])
{
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_tx_encode(&env->tx, &b);
    if (rc == 0)
        rc = node_verify(NODE_DOMAIN_TX, network_id, b.data, b.len, env->tx.source,
                         env->signature);
    node_buf_free(&b);
    return rc;
}
