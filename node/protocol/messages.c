/*
 * messages.c — codecs of the node's peer messages, the consensus value, the
 * node's own consensus statements as stored, and the body of the signed
 * validator list (node/protocol/protocol.h, "Peer messages";
 * spec/node.md §3).  Strict like every nanum decoder
 * (node/protocol/protocol_internal.h): what decodes re-encodes to the same
 * bytes, and each fuzz target in tests/fuzz/node/ checks that.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol_internal.h"

int node_value_encode(const struct node_value *v, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 4);
    node__pack_bin(&pk, v->tx_set_hash, NODE_HASH_BYTES);
    msgpack_pack_uint64(&pk, v->close_time_ms);
    msgpack_pack_uint64(&pk, v->tx_count);
    msgpack_pack_array(&pk, 0); /* upgrades: none defined in version 1 */
    return node__finish(out);
}

int node_value_decode(const uint8_t *bytes, size_t len, struct node_value *v)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 4));
    TRY(node__read_bin_fixed(&r, v->tx_set_hash, NODE_HASH_BYTES));
    TRY(node__read_uint(&r, UINT64_MAX, &v->close_time_ms));
    TRY(node__read_u32(&r, NODE_TXSET_TXS_MAX, &v->tx_count));
    TRY(node__read_array_exact(&r, 0));
    return node__read_end(&r);
}

void node_txset_free(struct node_txset *s)
{
    if (s == NULL)
        return;
    free(s->txs);
    free(s->lens);
    free(s->owned);
    free(s);
}

int node_txset_build(const uint8_t *const *txs, const size_t *lens, uint32_t count,
                     struct node_txset **out)
{
    if (count > NODE_TXSET_TXS_MAX)
        return NODE_E_TOO_MANY;
    struct node_txset *s = calloc(1, sizeof *s);
    size_t total = 0;
    for (uint32_t i = 0; i < count; i++)
        total += lens[i];
    if (s == NULL || (s->txs = calloc(count ? count : 1, sizeof *s->txs)) == NULL ||
        (s->lens = calloc(count ? count : 1, sizeof *s->lens)) == NULL ||
        (s->owned = malloc(total ? total : 1)) == NULL) {
        node_txset_free(s);
        return NODE_E_NOMEM;
    }
    uint8_t (*leaves)[NODE_HASH_BYTES] = malloc((count ? count : 1) * sizeof *leaves);
    if (leaves == NULL) {
        node_txset_free(s);
        return NODE_E_NOMEM;
    }
    size_t at = 0;
    for (uint32_t i = 0; i < count; i++) {
        memcpy(s->owned + at, txs[i], lens[i]);
        s->txs[i] = s->owned + at;
        s->lens[i] = lens[i];
        at += lens[i];
        node_merkle_leaf(txs[i], lens[i], leaves[i]);
    }
    s->count = count;
    node_merkle_root((const uint8_t(*)[NODE_HASH_BYTES])leaves, count, s->hash);
    free(leaves);
    *out = s;
    return 0;
}

int node_txset_encode(const struct node_txset *s, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, s->count);
    for (uint32_t i = 0; i < s->count; i++)
        node__pack_bin(&pk, s->txs[i], s->lens[i]);
    return node__finish(out);
}

int node_txset_decode(const uint8_t *bytes, size_t len, struct node_txset **out)
{
    struct node__reader r;
    uint32_t count;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array(&r, &count));
    if (count > NODE_TXSET_TXS_MAX)
        return NODE_E_TOO_MANY;
    const uint8_t **txs = calloc(count ? count : 1, sizeof *txs);
    size_t *lens = calloc(count ? count : 1, sizeof *lens);
    int rc = txs && lens ? 0 : NODE_E_NOMEM;
    for (uint32_t i = 0; rc == 0 && i < count; i++)
        rc = node__read_bin(&r, NODE_TX_BYTES_MAX, &txs[i], &lens[i]);
    if (rc == 0)
        rc = node__read_end(&r);
    if (rc == 0)
        rc = node_txset_build(txs, lens, count, out);
    free(txs);
    free(lens);
    return rc;
}

int node_txs_encode(const struct node_txs *t, struct node_buf *out)
{
    if (t->count < NODE_TX_BATCH_MIN || t->count > NODE_TX_BATCH_MAX)
        return NODE_E_INVALID;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, t->count);
    for (uint32_t i = 0; i < t->count; i++) {
        if (t->lens[i] > NODE_TX_BYTES_MAX)
            return NODE_E_TOO_LONG;
        node__pack_bin(&pk, t->txs[i], t->lens[i]);
    }
    return node__finish(out);
}

int node_txs_decode(const uint8_t *bytes, size_t len, struct node_txs *out)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array(&r, &out->count));
    if (out->count < NODE_TX_BATCH_MIN || out->count > NODE_TX_BATCH_MAX)
        return NODE_E_TOO_MANY;
    for (uint32_t i = 0; i < out->count; i++)
        TRY(node__read_bin(&r, NODE_TX_BYTES_MAX, &out->txs[i], &out->lens[i]));
    return node__read_end(&r);
}

int node_ledger_sig_encode(const struct node_ledger_sig *s, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint64(&pk, s->height);
    node__pack_bin(&pk, s->header_hash, NODE_HASH_BYTES);
    node__pack_bin(&pk, s->node_key, NODE_KEY_BYTES);
    node__pack_bin(&pk, s->signature, NODE_SIGNATURE_BYTES);
    return node__finish(out);
}

int node_ledger_sig_decode(const uint8_t *bytes, size_t len, struct node_ledger_sig *s)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 4));
    TRY(node__read_uint(&r, UINT64_MAX, &s->height));
    TRY(node__read_bin_fixed(&r, s->header_hash, NODE_HASH_BYTES));
    TRY(node__read_bin_fixed(&r, s->node_key, NODE_KEY_BYTES));
    TRY(node__read_bin_fixed(&r, s->signature, NODE_SIGNATURE_BYTES));
    return node__read_end(&r);
}

bool node_certificate_add(struct node_certificate *c, const uint8_t key[static NODE_KEY_BYTES],
                          const uint8_t sig[static NODE_SIGNATURE_BYTES])
{
    uint32_t at = 0;
    while (at < c->count && memcmp(c->signers[at].node_key, key, NODE_KEY_BYTES) < 0)
        at++;
    if ((at < c->count && memcmp(c->signers[at].node_key, key, NODE_KEY_BYTES) == 0) ||
        c->count == NODE_CERTIFICATE_SIGNERS_MAX)
        return false;
    memmove(&c->signers[at + 1], &c->signers[at], (c->count - at) * sizeof c->signers[0]);
    memcpy(c->signers[at].node_key, key, NODE_KEY_BYTES);
    memcpy(c->signers[at].signature, sig, NODE_SIGNATURE_BYTES);
    c->count++;
    return true;
}

int node_certificate_encode(const struct node_certificate *c, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, c->count);
    for (uint32_t i = 0; i < c->count; i++) {
        msgpack_pack_array(&pk, 2);
        node__pack_bin(&pk, c->signers[i].node_key, NODE_KEY_BYTES);
        node__pack_bin(&pk, c->signers[i].signature, NODE_SIGNATURE_BYTES);
    }
    return node__finish(out);
}

int node_certificate_decode(const uint8_t *bytes, size_t len, struct node_certificate *c)
{
    struct node__reader r;
    uint32_t count;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array(&r, &count));
    if (count > NODE_CERTIFICATE_SIGNERS_MAX)
        return NODE_E_TOO_MANY;
    c->count = count;
    for (uint32_t i = 0; i < count; i++) {
        TRY(node__read_array_exact(&r, 2));
        TRY(node__read_bin_fixed(&r, c->signers[i].node_key, NODE_KEY_BYTES));
        TRY(node__read_bin_fixed(&r, c->signers[i].signature, NODE_SIGNATURE_BYTES));
        if (i > 0 && memcmp(c->signers[i - 1].node_key, c->signers[i].node_key, NODE_KEY_BYTES) >= 0)
            return NODE_E_BAD_VALUE;
    }
    return node__read_end(&r);
}

int node_status_encode(const struct node_status *s, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, s->height);
    node__pack_bin(&pk, s->header_hash, NODE_HASH_BYTES);
    return node__finish(out);
}

int node_status_decode(const uint8_t *bytes, size_t len, struct node_status *s)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 2));
    TRY(node__read_uint(&r, UINT64_MAX, &s->height));
    TRY(node__read_bin_fixed(&r, s->header_hash, NODE_HASH_BYTES));
    return node__read_end(&r);
}

int node_range_encode(const struct node_range *g, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, g->from);
    msgpack_pack_uint64(&pk, g->count);
    return node__finish(out);
}

int node_range_decode(const uint8_t *bytes, size_t len, struct node_range *g)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 2));
    TRY(node__read_uint(&r, UINT64_MAX, &g->from));
    TRY(node__read_uint(&r, NODE_LEDGERS_BATCH_MAX, &g->count));
    return node__read_end(&r);
}

int node_txset_request_encode(const uint8_t root[static NODE_HASH_BYTES], struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    node__pack_bin(&pk, root, NODE_HASH_BYTES);
    return node__finish(out);
}

int node_txset_request_decode(const uint8_t *bytes, size_t len, uint8_t root[static NODE_HASH_BYTES])
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_bin_fixed(&r, root, NODE_HASH_BYTES));
    return node__read_end(&r);
}

int node_ledgers_encode(const struct node_ledgers *l, struct node_buf *out)
{
    if (l->count > NODE_LEDGERS_BATCH_MAX)
        return NODE_E_TOO_MANY;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, l->count);
    for (uint32_t i = 0; i < l->count; i++) {
        msgpack_pack_array(&pk, 2);
        node__pack_bin(&pk, l->entries[i].block, l->entries[i].block_len);
        node__pack_bin(&pk, l->entries[i].certificate, l->entries[i].certificate_len);
    }
    return node__finish(out);
}

int node_ledgers_decode(const uint8_t *bytes, size_t len, struct node_ledgers *out)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array(&r, &out->count));
    if (out->count > NODE_LEDGERS_BATCH_MAX)
        return NODE_E_TOO_MANY;
    for (uint32_t i = 0; i < out->count; i++) {
        TRY(node__read_array_exact(&r, 2));
        TRY(node__read_bin(&r, NODE_LEDGERS_BYTES_MAX, &out->entries[i].block, &out->entries[i].block_len));
        TRY(node__read_bin(&r, NODE_LEDGERS_BYTES_MAX, &out->entries[i].certificate,
                           &out->entries[i].certificate_len));
    }
    return node__read_end(&r);
}

int node_own_statements_encode(const struct node_own_statements *s, struct node_buf *out)
{
    if (s->count > NODE_OWN_STATEMENTS_MAX)
        return NODE_E_TOO_MANY;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint64(&pk, s->slot);
    msgpack_pack_array(&pk, s->count);
    for (uint32_t i = 0; i < s->count; i++) {
        if (s->lens[i] > SCP_ENVELOPE_BYTES_MAX)
            return NODE_E_TOO_LONG;
        node__pack_bin(&pk, s->envelopes[i], s->lens[i]);
    }
    return node__finish(out);
}

int node_own_statements_decode(const uint8_t *bytes, size_t len, struct node_own_statements *out)
{
    struct node__reader r;
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 2));
    TRY(node__read_uint(&r, UINT64_MAX, &out->slot));
    TRY(node__read_array(&r, &out->count));
    if (out->count > NODE_OWN_STATEMENTS_MAX)
        return NODE_E_TOO_MANY;
    for (uint32_t i = 0; i < out->count; i++)
        TRY(node__read_bin(&r, SCP_ENVELOPE_BYTES_MAX, &out->envelopes[i], &out->lens[i]));
    return node__read_end(&r);
}

void node_validator_list_free(struct node_validator_list *l)
{
    if (l == NULL)
        return;
    free(l->validators);
    memset(l, 0, sizeof *l);
}

int node_validator_list_encode(const struct node_validator_list *l, struct node_buf *out)
{
    if (l->count > NODE_VALIDATORS_MAX)
        return NODE_E_TOO_MANY;
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 5);
    node__pack_bin(&pk, l->publisher, NODE_KEY_BYTES);
    msgpack_pack_uint64(&pk, l->sequence);
    msgpack_pack_uint64(&pk, l->valid_from_s);
    msgpack_pack_uint64(&pk, l->expires_s);
    msgpack_pack_array(&pk, l->count);
    for (uint32_t i = 0; i < l->count; i++)
        node__pack_validator(&pk, &l->validators[i]);
    return node__finish(out);
}

int node_validator_list_decode(const uint8_t *bytes, size_t len, struct node_validator_list *out)
{
    struct node__reader r;
    memset(out, 0, sizeof *out);
    node__reader_init(&r, bytes, len);
    TRY(node__read_array_exact(&r, 5));
    TRY(node__read_bin_fixed(&r, out->publisher, NODE_KEY_BYTES));
    TRY(node__read_uint(&r, UINT64_MAX, &out->sequence));
    TRY(node__read_uint(&r, UINT64_MAX, &out->valid_from_s));
    TRY(node__read_uint(&r, UINT64_MAX, &out->expires_s));
    uint32_t count;
    TRY(node__read_array(&r, &count));
    if (count > NODE_VALIDATORS_MAX)
        return NODE_E_TOO_MANY;
    if ((out->validators = calloc(count ? count : 1, sizeof *out->validators)) == NULL)
        return NODE_E_NOMEM;
    out->count = count;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < count; i++)
        rc = node__read_validator(&r, &out->validators[i]);
    if (rc == 0)
        rc = node__read_end(&r);
    if (rc != 0)
        node_validator_list_free(out);
    return rc;
}
