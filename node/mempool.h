/*
 * mempool.h — transactions waiting for a ledger (DESIGN §7).
 *
 * Admission checks what can be checked before consensus: size, encoding,
 * signature (network id), that the source account exists, sequence number
 * (after the account's, at most NODE_MEMPOOL_SEQ_AHEAD_MAX ahead), fee at
 * least the base fee, and that the balance covers the fees of everything the
 * account has waiting.  The pool is bounded in count and bytes; when full,
 * the lowest fee (then the oldest) is evicted, with the same account's later
 * sequence numbers, which could no longer apply — or the newcomer is refused
 * if it pays no more than the cheapest.
 *
 * A transaction set for a ledger takes, per account, the run of consecutive
 * sequence numbers that starts right after the account's, so every selected
 * transaction has the right sequence when applied.
 */
#ifndef NANUM_MEMPOOL_H
#define NANUM_MEMPOOL_H

#include "ledger.h"

#define NODE_MEMPOOL_TXS_MAX 50000
#define NODE_MEMPOOL_BYTES_MAX (32u << 20)
#define NODE_MEMPOOL_SEQ_AHEAD_MAX 64 /* how far past the account's seq a tx may be */
#define NODE_MEMPOOL_TX_TTL_MS (15u * 60 * 1000) /* a transaction waits at most this long */

/* Why a transaction was not admitted (stable names: the API returns them). */
#define MEMPOOL_REJECTS(X)                                                                \
    X(MEMPOOL_ADMITTED, 0, "accepted", "accepted into the pool")                          \
    X(MEMPOOL_DUPLICATE, 1, "duplicate", "already waiting in the pool")                    \
    X(MEMPOOL_MALFORMED, 2, "malformed", "the transaction does not decode")                \
    X(MEMPOOL_BAD_SIGNATURE, 3, "bad_signature", "the signature does not verify for this network") \
    X(MEMPOOL_NO_SOURCE, 4, "no_source_account", "the sending account does not exist")   \
    X(MEMPOOL_BAD_SEQ, 5, "bad_seq", "the sequence number is used or too far ahead")       \
    X(MEMPOOL_FEE_TOO_LOW, 6, "fee_too_low", "the fee is below the network's base fee")    \
    X(MEMPOOL_INSUFFICIENT_FEE, 7, "insufficient_balance_for_fee", "the balance does not cover the fees waiting") \
    X(MEMPOOL_FULL, 8, "mempool_full", "the pool is full of transactions that pay more") \
    X(MEMPOOL_TOO_LARGE, 9, "too_large", "the transaction is over the size limit")        \
    X(MEMPOOL_SEQ_TAKEN, 10, "seq_taken", "another transaction with this sequence waits and pays as much") \
    X(MEMPOOL_COMMONS_SOURCE, 11, "commons_cannot_sign", "the commons fund pays only by a governance decision")

enum mempool_verdict {
#define MEMPOOL_VERDICT_ENUM(name, code, text, message) name = code,
    MEMPOOL_REJECTS(MEMPOOL_VERDICT_ENUM)
#undef MEMPOOL_VERDICT_ENUM
};
const char *mempool_verdict_name(unsigned verdict);
const char *mempool_verdict_message(unsigned verdict);

typedef struct node_mempool node_mempool;

struct node_mempool_limits {
    uint32_t txs_max;
    uint64_t bytes_max;
};

int node_mempool_create(const struct node_mempool_limits *limits,
                        const uint8_t network_id[static NODE_HASH_BYTES], node_mempool **out);
void node_mempool_destroy(node_mempool *m);

/*
 * Checks envelope bytes against the state (accounts, params) and admits
 * them.  now_ms orders arrivals.  *verdict says what happened; the return is
 * 0, or a negative NODE_E_* for an internal failure.  On admission, id (if
 * not NULL) gets the transaction id.
 */
int node_mempool_add(node_mempool *m, ledger_state *state, const uint8_t *bytes, size_t len,
                     uint64_t now_ms, enum mempool_verdict *verdict,
                     uint8_t id[NODE_HASH_BYTES]);

/* True if a transaction with this id waits in the pool. */
bool node_mempool_contains(const node_mempool *m, const uint8_t id[static NODE_HASH_BYTES]);
/* True if exactly these envelope bytes (signature included) wait in the pool:
 * their signature was checked at admission. */
bool node_mempool_contains_exact(const node_mempool *m, const uint8_t id[static NODE_HASH_BYTES],
                                 const uint8_t *bytes, size_t len);

/* The signatures this node has already checked (admission fills it; tx-set
 * validation and ledger close use it too). */
struct node_sigcache *node_mempool_sigcache(node_mempool *m);

/* Drops every transaction that arrived at or before now_ms - max_age_ms,
 * with the later sequences of its account (they could not apply without
 * it); *dropped (if not NULL) gets how many left. */
void node_mempool_expire(node_mempool *m, uint64_t now_ms, uint64_t max_age_ms, uint32_t *dropped);

/* The transaction eviction would take first (lowest fee, then the earliest
 * to arrive): true with its id and fee, false when the pool is empty. */
bool node_mempool_cheapest(node_mempool *m, uint8_t id[NODE_HASH_BYTES], uint64_t *fee);

uint32_t node_mempool_count(const node_mempool *m);
uint64_t node_mempool_bytes(const node_mempool *m);
/* Arrival time of the oldest waiting transaction, or 0 if none. */
uint64_t node_mempool_oldest_ms(const node_mempool *m);

/*
 * Selects up to max transactions that apply in order on top of state: for
 * each account, the consecutive run from its next sequence number.  Writes
 * pointers to the pool's own bytes (valid until the pool changes) in the
 * canonical tx-set order (spec/node.md §tx sets): accounts ordered by
 * BLAKE2b(seed || account key), each account's run by sequence.
 */
int node_mempool_select(node_mempool *m, ledger_state *state, const uint8_t seed[static NODE_HASH_BYTES],
                        uint32_t max, const uint8_t **txs, size_t *lens, uint32_t *count);

/* After a ledger: removes the transactions with these ids, then every
 * transaction whose sequence the state has passed, and every one whose fee
 * fell below the base fee (with the same account's later ones). */
int node_mempool_remove_applied(node_mempool *m, ledger_state *state,
                                const uint8_t (*ids)[NODE_HASH_BYTES], uint32_t count);

#endif
