/*
 * wire.h — the node's messages between peers (carried by net/ as typed
 * payloads) and the consensus value, with their strict codecs
 * (spec/node.md).
 *
 *   type  name         flooded  payload
 *   16    tx           yes      a transaction envelope (spec/encoding.md)
 *   17    scp          yes      an SCP envelope (spec/consensus.md)
 *   18    txset        yes      [envelope bin, ...]; identified by its Merkle root
 *   19    get_txset    no       bin32 Merkle root
 *   20    ledger_sig   yes      [height, header hash bin32, node key bin32, signature bin64]
 *   21    status       no       [height, header hash bin32]
 *   22    get_ledgers  no       [from height, count]
 *   23    ledgers      no       [[block bin, certificate bin], ...]
 *   24    get_scp      no       [slot, count]: ask for the latest envelopes of a slot
 *   25    txs          yes      [envelope bin, ...]: 2 to 64 transactions submitted
 *                               to one node in one turn of its loop
 *
 * The consensus value: [tx-set Merkle root bin32, close time ms, tx count,
 * upgrades []].
 * A certificate: [[node key bin32, signature bin64], ...] sorted by key.
 */
#ifndef NANUM_WIRE_H
#define NANUM_WIRE_H

#include "protocol.h"

enum node_msg_type {
    NODE_MSG_TX = 16,
    NODE_MSG_SCP = 17,
    NODE_MSG_TXSET = 18,
    NODE_MSG_GET_TXSET = 19,
    NODE_MSG_LEDGER_SIG = 20,
    NODE_MSG_STATUS = 21,
    NODE_MSG_GET_LEDGERS = 22,
    NODE_MSG_LEDGERS = 23,
    NODE_MSG_GET_SCP = 24,
    NODE_MSG_TXS = 25,
};

#define NODE_TX_BATCH_MAX 64 /* transactions in one txs message */
#define NODE_TX_BATCH_BYTES_MAX (NODE_TX_BATCH_MAX * (NODE_TX_BYTES_MAX + 3) + 5)

#define NODE_TXSET_TXS_MAX 5000
#define NODE_TXSET_BYTES_MAX (NODE_TXSET_TXS_MAX * (NODE_TX_BYTES_MAX + 5) + 16)
#define NODE_LEDGERS_BATCH_MAX 32          /* ledgers per ledgers message */
#define NODE_LEDGERS_BYTES_MAX (6u << 20)   /* one ledgers message */
#define NODE_CERTIFICATE_SIGNERS_MAX NODE_VALIDATORS_MAX

struct node_value {
    uint8_t tx_set_hash[NODE_HASH_BYTES];
    uint64_t close_time_ms; /* unix milliseconds */
    uint32_t tx_count;      /* transactions in the set: lets every node combine
                               candidates alike, whether or not it holds the sets */
};
int node_value_encode(const struct node_value *v, struct node_buf *out);
int node_value_decode(const uint8_t *bytes, size_t len, struct node_value *out);

/* A transaction set: envelopes in apply order.  txs point into `owned`. */
struct node_txset {
    uint8_t hash[NODE_HASH_BYTES]; /* Merkle root of the envelopes */
    uint32_t count;
    const uint8_t **txs;
    size_t *lens;
    uint8_t *owned;                /* one block holding every envelope */
};
/* Builds a tx set copying txs; computes its hash. */
int node_txset_build(const uint8_t *const *txs, const size_t *lens, uint32_t count,
                     struct node_txset **out);
int node_txset_encode(const struct node_txset *s, struct node_buf *out);
int node_txset_decode(const uint8_t *bytes, size_t len, struct node_txset **out);
void node_txset_free(struct node_txset *s);

/* A txs message (spec/node.md §3.10): NODE_TX_BATCH_MIN to NODE_TX_BATCH_MAX
 * envelopes (not checked as envelopes here); txs point into the decoded
 * bytes. */
#define NODE_TX_BATCH_MIN 2
struct node_txs {
    uint32_t count;
    const uint8_t *txs[NODE_TX_BATCH_MAX];
    size_t lens[NODE_TX_BATCH_MAX];
};
int node_txs_encode(const struct node_txs *t, struct node_buf *out);
int node_txs_decode(const uint8_t *bytes, size_t len, struct node_txs *out);

struct node_ledger_sig {
    uint64_t height;
    uint8_t header_hash[NODE_HASH_BYTES];
    uint8_t node_key[NODE_KEY_BYTES];
    uint8_t signature[NODE_SIGNATURE_BYTES];
};
int node_ledger_sig_encode(const struct node_ledger_sig *s, struct node_buf *out);
int node_ledger_sig_decode(const uint8_t *bytes, size_t len, struct node_ledger_sig *out);

struct node_certificate {
    uint32_t count;
    struct {
        uint8_t node_key[NODE_KEY_BYTES];
        uint8_t signature[NODE_SIGNATURE_BYTES];
    } signers[NODE_CERTIFICATE_SIGNERS_MAX];
};
/* Adds or keeps one signer (sorted, no duplicates); false if already there. */
bool node_certificate_add(struct node_certificate *c, const uint8_t key[static NODE_KEY_BYTES],
                          const uint8_t sig[static NODE_SIGNATURE_BYTES]);
int node_certificate_encode(const struct node_certificate *c, struct node_buf *out);
int node_certificate_decode(const uint8_t *bytes, size_t len, struct node_certificate *out);

struct node_status {
    uint64_t height;
    uint8_t header_hash[NODE_HASH_BYTES];
};
int node_status_encode(const struct node_status *s, struct node_buf *out);
int node_status_decode(const uint8_t *bytes, size_t len, struct node_status *out);

struct node_range {
    uint64_t from;
    uint64_t count;
};
int node_range_encode(const struct node_range *r, struct node_buf *out);
int node_range_decode(const uint8_t *bytes, size_t len, struct node_range *out);

#endif
