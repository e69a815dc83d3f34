/*
 * verify.c — checking a ledger and a transaction without trusting the node
 * that served them (spec/wallet.md "Verification").
 *
 * What is trusted: the genesis file (network id, first validator set and
 * parameters) and the enacted governance changes listed by the API (see
 * network.c).  What is checked: the header bytes decode and are the height
 * asked for; the header hash is recomputed here (the "hash" field is
 * ignored); the header's validator_set_hash is the hash of the set after
 * this ledger as the wallet computed it; every certificate signature is a
 * validator's over the header hash with the ledger-header domain; the
 * signers satisfy the network's quorum set; the Merkle root over the
 * envelopes is the header's tx_set_hash; and a transaction's Merkle path
 * leads to it.
 *
 * The quorum set is the node's own (node_quorum_build in the protocol
 * library, checked with consensus/'s scp_qset_is_slice_satisfied), so the
 * wallet cannot drift from the rule the validators use: per org a simple
 * majority, and min(n, ⌊n × quorum_threshold_bp / 10,000⌋ + 1) of the orgs.
 *
 * Read next: spec/encoding.md §6.4 (header hash) and §11 (Merkle tree).
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "wallet.h"

#define VERIFY_PATH_MAX 64 /* Merkle path length: trees of up to 2^64 leaves */

bool wallet_quorum_satisfied(const struct node_validator_set *set, uint64_t threshold_bp,
                             const uint8_t (*signers)[NODE_KEY_BYTES], size_t count)
{
    struct scp_qset *qset = NULL;
    if (node_quorum_build(set, threshold_bp, &qset) != 0)
        return false;
    bool ok = scp_qset_is_slice_satisfied(qset, signers, count);
    free(qset);
    return ok;
}

static bool in_set(const struct node_validator_set *set, const uint8_t key[NODE_KEY_BYTES])
{
    for (uint32_t i = 0; i < set->count; i++)
        if (memcmp(set->validators[i].node_key, key, NODE_KEY_BYTES) == 0)
            return true;
    return false;
}

/* The certificate: distinct validators' good signatures over hash, a quorum. */
static int check_certificate(struct wallet_ctx *ctx, const json_t *ledger, const struct wallet_validators *v,
                             const uint8_t hash[NODE_HASH_BYTES], uint64_t height)
{
    json_t *cert = json_object_get(ledger, "certificate");
    size_t n = json_array_size(cert), good = 0, i;
    uint8_t (*signers)[NODE_KEY_BYTES] = calloc(n ? n : 1, NODE_KEY_BYTES);
    if (signers == NULL)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    json_t *entry;
    int rc = 0;
    json_array_foreach(cert, i, entry) {
        uint8_t key[NODE_KEY_BYTES], sig[NODE_SIGNATURE_BYTES];
        const char *addr = wallet_json_str(entry, "node_key"), *hex = wallet_json_str(entry, "signature");
        if (addr == NULL || hex == NULL || node_address_decode(addr, key) != 0 || strlen(hex) != 128 ||
            node_hex_decode(hex, sig, sizeof sig) != 0) {
            rc = wallet_fail(ctx, WALLET_E_VERIFY, "ledger %llu: certificate entry %zu is malformed",
                             (unsigned long long)height, i);
            break;
        }
        if (!in_set(&v->before, key) && !in_set(&v->after, key))
            continue; /* not a validator then: its signature counts for nothing */
        if (node_verify(NODE_DOMAIN_HEADER, ctx->network_id, hash, NODE_HASH_BYTES, key, sig) != 0) {
            rc = wallet_fail(ctx, WALLET_E_VERIFY,
                             "ledger %llu: the signature of validator %s does not match the header: the header or "
                             "the certificate was altered",
                             (unsigned long long)height, addr);
            break;
        }
        bool dup = false;
        for (size_t k = 0; k < good && !dup; k++)
            dup = memcmp(signers[k], key, NODE_KEY_BYTES) == 0;
        if (!dup)
            memcpy(signers[good++], key, NODE_KEY_BYTES);
    }
    /* The set in force while the ledger was agreed; at a validator change the
     * new set may be the one that signed (signatures are gathered after the
     * commit that switched it), and both are sanctioned by governance. */
    const uint8_t(*ids)[NODE_KEY_BYTES] = (const uint8_t(*)[NODE_KEY_BYTES])signers;
    if (rc == 0 && !wallet_quorum_satisfied(&v->before, v->threshold_bp_before, ids, good) &&
        !wallet_quorum_satisfied(&v->after, v->threshold_bp_after, ids, good))
        rc = wallet_fail(ctx, WALLET_E_VERIFY,
                         "ledger %llu: its certificate has %zu valid validator signatures, not a quorum of the %u "
                         "validators in force",
                         (unsigned long long)height, good, v->before.count);
    free(signers);
    return rc;
}

/* Leaf hashes of every envelope, and the Merkle root over them. */
static int check_tx_set(struct wallet_ctx *ctx, const json_t *txs, const struct node_header *h,
                        uint8_t (*leaves)[NODE_HASH_BYTES])
{
    size_t n = json_array_size(txs), i;
    json_t *t;
    json_array_foreach(txs, i, t) {
        const char *hex = wallet_json_str(t, "envelope");
        size_t len = hex ? strlen(hex) / 2 : 0;
        uint8_t bytes[NODE_TX_BYTES_MAX];
        if (hex == NULL || strlen(hex) % 2 != 0 || len > sizeof bytes || node_hex_decode(hex, bytes, len) != 0)
            return wallet_fail(ctx, WALLET_E_VERIFY, "ledger %llu: transaction %zu is not valid hex",
                               (unsigned long long)h->height, i);
        node_merkle_leaf(bytes, len, leaves[i]);
    }
    uint8_t root[NODE_HASH_BYTES];
    if (node_merkle_root((const uint8_t(*)[NODE_HASH_BYTES])leaves, n, root) != 0)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    if (memcmp(root, h->tx_set_hash, NODE_HASH_BYTES) != 0)
        return wallet_fail(ctx, WALLET_E_VERIFY,
                           "ledger %llu: the transactions served do not hash to the header's tx_set_hash: the node "
                           "added, removed or altered a transaction",
                           (unsigned long long)h->height);
    return 0;
}

/* One transaction's Merkle path, as served, to the header's root. */
static int check_path(struct wallet_ctx *ctx, const json_t *t, size_t index, size_t count, const struct node_header *h,
                      const uint8_t leaf[NODE_HASH_BYTES])
{
    json_t *path = json_object_get(t, "merkle_path");
    size_t n = json_array_size(path), i;
    uint8_t hashes[VERIFY_PATH_MAX][NODE_HASH_BYTES];
    json_t *p;
    if (!json_is_array(path) || n > VERIFY_PATH_MAX)
        return wallet_fail(ctx, WALLET_E_VERIFY, "ledger %llu: the node served no usable Merkle path",
                           (unsigned long long)h->height);
    json_array_foreach(path, i, p) {
        const char *hex = json_string_value(p);
        if (hex == NULL || strlen(hex) != 64 || node_hex_decode(hex, hashes[i], NODE_HASH_BYTES) != 0)
            return wallet_fail(ctx, WALLET_E_VERIFY, "ledger %llu: Merkle path entry %zu is malformed",
                               (unsigned long long)h->height, i);
    }
    if (!node_merkle_verify(leaf, index, count, (const uint8_t(*)[NODE_HASH_BYTES])hashes, n, h->tx_set_hash))
        return wallet_fail(ctx, WALLET_E_VERIFY,
                           "ledger %llu: the Merkle path of transaction %zu does not lead to the header's "
                           "tx_set_hash: the proof was tampered with",
                           (unsigned long long)h->height, index);
    return 0;
}

int wallet_verify_ledger(struct wallet_ctx *ctx, const json_t *ledger, uint64_t height,
                         const struct wallet_validators *v, long only_tx_index,
                         uint8_t header_hash[static NODE_HASH_BYTES])
{
    const char *hex = wallet_json_str(ledger, "header_bytes");
    uint8_t bytes[1024];
    size_t len = hex ? strlen(hex) / 2 : 0;
    struct node_header h;
    if (hex == NULL || strlen(hex) % 2 != 0 || len > sizeof bytes || node_hex_decode(hex, bytes, len) != 0 ||
        node_header_decode(bytes, len, &h) != 0)
        return wallet_fail(ctx, WALLET_E_VERIFY, "ledger %llu: the header bytes do not decode",
                           (unsigned long long)height);
    if (h.height != height)
        return wallet_fail(ctx, WALLET_E_VERIFY, "asked for ledger %llu, the node served the header of ledger %llu",
                           (unsigned long long)height, (unsigned long long)h.height);
    node_header_hash(&h, ctx->network_id, header_hash);
    uint8_t set_hash[NODE_HASH_BYTES];
    if (node_validator_set_hash(&v->after, set_hash) != 0)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    if (memcmp(set_hash, h.validator_set_hash, NODE_HASH_BYTES) != 0)
        return wallet_fail(ctx, WALLET_E_VERIFY,
                           "ledger %llu: its header commits to a validator set other than the one known from the "
                           "genesis and the enacted governance changes",
                           (unsigned long long)height);
    int rc = check_certificate(ctx, ledger, v, header_hash, height);
    json_t *txs = json_object_get(ledger, "transactions");
    size_t n = json_array_size(txs);
    uint8_t (*leaves)[NODE_HASH_BYTES] = rc == 0 ? calloc(n ? n : 1, NODE_HASH_BYTES) : NULL;
    if (rc == 0 && leaves == NULL)
        rc = wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = check_tx_set(ctx, txs, &h, leaves);
    if (rc == 0 && only_tx_index >= 0) {
        if ((size_t)only_tx_index >= n)
            rc = wallet_fail(ctx, WALLET_E_VERIFY, "ledger %llu has no transaction %ld",
                             (unsigned long long)height, only_tx_index);
        else
            rc = check_path(ctx, json_array_get(txs, (size_t)only_tx_index), (size_t)only_tx_index, n, &h,
                            leaves[only_tx_index]);
    }
    free(leaves);
    return rc;
}
