/*
 * chain.h — the node's chain of ledgers on the store: the genesis ledger,
 * closing a ledger (apply, hash, one atomic commit), replaying a ledger
 * received from a peer, and the integrity check of the whole chain.
 *
 * Ledger 0 is the genesis ledger: no transactions, the genesis state.  Every
 * later ledger h commits, in one storage batch, its block (header and
 * body), every state change of applying it, and its tx_index entries.
 * Certificates (validators' signatures on headers) are added after commit in
 * their own table (node issue); the block bytes never change.
 *
 * Read next: node/chain.c, spec/transactions.md ("How a ledger is built"),
 * spec/storage.md (the tables).
 */
#ifndef NANUM_CHAIN_H
#define NANUM_CHAIN_H

#include "ledger.h"

typedef struct ledger_chain ledger_chain;

struct ledger_chain_options {
    bool no_sync;               /* tests only: skip fsync */
    uint64_t map_size_initial;  /* 0: the store's default */
    unsigned verify_threads;    /* 0: one per online core, at most 8 */
};

/*
 * Opens the chain in directory dir (which must exist).  An empty store gets
 * the genesis ledger; a store of another network (its network id differs
 * from genesis's) is refused with NODE_E_CHAIN and err says so.
 */
int ledger_chain_open(const char *dir, const struct node_genesis *genesis,
                      const struct ledger_chain_options *options, ledger_chain **out,
                      char *err, size_t err_len);
void ledger_chain_close(ledger_chain *c);

/* The last committed ledger's header and its hash. */
void ledger_chain_last(const ledger_chain *c, struct node_header *header,
                       uint8_t hash[static NODE_HASH_BYTES]);

/* The committed state, for reads (the API, tests).  Do not write to it. */
ledger_state *ledger_chain_state(ledger_chain *c);

/* The underlying store (tests inject faults through it; nothing else should
 * write to it). */
struct store *ledger_chain_store(ledger_chain *c);

/* Sets the validator-set check used by governance (ledger.h). */
void ledger_chain_set_validator_check(ledger_chain *c, ledger_validator_check check, void *ctx);

/*
 * Closes the next ledger with transactions txs[0..count) (exact envelope
 * bytes, in order) at close_time_ms (unix ms), and commits it durably.  Signatures are
 * verified in parallel first.  On success *header is the new header.
 * close_time_ms must be later than the last ledger's; count at most the
 * tx_per_ledger_max parameter (NODE_E_INVALID / NODE_E_TOO_MANY otherwise).
 */
int ledger_chain_close_ledger(ledger_chain *c, uint64_t close_time_ms, const uint8_t *const *txs,
                              const size_t *lens, uint32_t count, struct node_header *header);

/*
 * The same, for a node that already checked some signatures (when it admitted
 * the transactions to its mempool): checked[i] true means envelope i's
 * signature is known to verify on this network, and it is not checked again.
 * checked may be NULL.
 */
int ledger_chain_close_ledger_checked(ledger_chain *c, uint64_t close_time_ms, const uint8_t *const *txs,
                                      const size_t *lens, uint32_t count, const bool *checked,
                                      struct node_header *header);

/*
 * Applies a block received from elsewhere (catch-up, replay): checks it
 * extends the chain, re-applies its transactions and checks that the
 * resulting header is byte-identical to the block's; only then commits it.
 * A mismatch is NODE_E_CHAIN and commits nothing.
 */
int ledger_chain_apply_block(ledger_chain *c, const uint8_t *bytes, size_t len);
/* The same, skipping the signature check of every transaction for which
 * known(ctx, envelope bytes) is true: envelopes whose signature the caller
 * has itself verified before. */
int ledger_chain_apply_block_known(ledger_chain *c, const uint8_t *bytes, size_t len,
                                   bool (*known)(void *ctx, const uint8_t *tx, size_t tx_len), void *ctx);

/* Copies block `height` (caller frees *bytes). */
int ledger_chain_block(ledger_chain *c, uint64_t height, uint8_t **bytes, size_t *len);

/* Height, position and result code (code may be NULL) of a committed
 * transaction by id: 0, or 1 if unknown. */
int ledger_chain_find_tx(ledger_chain *c, const uint8_t id[static NODE_HASH_BYTES],
                         uint64_t *height, uint32_t *index, uint16_t *code);

/*
 * A digest of the whole committed state: BLAKE2b-256 over every entry of
 * every state table in (table, key) order.  Slow (reads everything); for
 * tests and audits.
 */
int ledger_chain_state_digest(ledger_chain *c, uint8_t out[static NODE_HASH_BYTES]);

/*
 * The integrity check (read-only): walks every block from genesis checking
 * that it decodes, heights are consecutive, each previous_hash is the hash
 * of the header before, and each tx_set_hash and results_hash match the
 * body.  On failure returns NODE_E_CHAIN with *bad_height set and a sentence
 * in err.  network_id NULL: the one recorded in the store.  progress (may
 * be NULL) is called every 1,000 blocks.
 */
int ledger_chain_verify(const char *dir, const uint8_t *network_id,
                        uint64_t *blocks_checked, uint64_t *bad_height, char *err, size_t err_len,
                        void (*progress)(void *ctx, uint64_t height), void *progress_ctx);

/* Verifies envelopes' signatures on up to `threads` threads (0: one per core),
 * writing LEDGER_SIGNATURE_VALID or _INVALID (malformed counts as invalid). */
int ledger_verify_signatures(const uint8_t network_id[static NODE_HASH_BYTES],
                             const uint8_t *const *txs, const size_t *lens, uint32_t count,
                             unsigned threads, enum ledger_signature *out);

#endif
