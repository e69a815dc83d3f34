/*
 * ledger.h — the ledger rules: how a transaction changes the shared state,
 * and how a ledger (block) is built, hashed, committed and checked.
 *
 * The state is a set of tables of canonical records (node/protocol/protocol.h) held in
 * a `ledger_state`: an in-memory overlay over a read-only base (the LMDB
 * store, or nothing in unit tests).  Applying a ledger writes only to the
 * overlay; the caller then commits the overlay's changes with the block in
 * one storage batch (node/ledger/chain.c).  Every transaction outcome has a stable
 * result code (LEDGER_RESULTS below, spec/transactions.md).
 *
 * Determinism: the same ledgers applied to the same genesis give
 * byte-identical state; nothing here reads a clock, a random source or the
 * order of a hash table.
 *
 * Read next: node/ledger/apply.c (envelope checks and fees), node/ledger/sharing.c
 * (resources and bookings), node/ledger/governance.c, node/ledger/chain.c.
 */
#ifndef NANUM_LEDGER_H
#define NANUM_LEDGER_H

#include "protocol.h"

struct store;

/* --- Errors ----------------------------------------------------------------- */

/*
 * The ledger's own failures are LEDGER_E_* codes, -401 to -499.  Functions
 * here also return, unchanged, the codes of the libraries below: NODE_E_*
 * (-301 to -399) from the protocol and STORE_E_* (-1 to -99) from the
 * store, so "the disk is full" reaches the operator as that, not as "a
 * storage error".  ledger_strerror() and ledger_errname() name any of
 * them.  (Result codes of transactions, below, are not errors: they are
 * outcomes written into blocks.)
 */
#define LEDGER_ERRORS(X)                                                                   \
    X(LEDGER_E_CHAIN, -401, "the ledger does not follow or does not reproduce the chain")    \
    X(LEDGER_E_OTHER_NETWORK, -402, "the data directory holds another network's chain")    \
    X(LEDGER_E_STATE_DAMAGED, -403, "a state record the rules need is missing or does not decode")

enum ledger_error {
#define LEDGER_ERROR_ENUM(name, value, message) name = value,
    LEDGER_ERRORS(LEDGER_ERROR_ENUM)
#undef LEDGER_ERROR_ENUM
};
/* A sentence for any code the ledger returns (its own, the protocol's or
 * the store's); never NULL. */
const char *ledger_strerror(int code);
/* The code's name, e.g. "LEDGER_E_CHAIN" or "STORE_E_DISK_FULL"; never NULL. */
const char *ledger_errname(int code);

/* --- Result codes (stable: they are in blocks and the API) ---------------- */

#define LEDGER_RESULTS(X)                                                                    \
    X(LEDGER_OK, 0, "ok", "applied")                                                        \
    X(LEDGER_MALFORMED, 1, "malformed", "the transaction does not decode")                  \
    X(LEDGER_BAD_SIGNATURE, 2, "bad_signature", "the signature does not verify for this network") \
    X(LEDGER_NO_SOURCE, 3, "no_source_account", "the sending account does not exist")     \
    X(LEDGER_BAD_SEQ, 4, "bad_seq", "the sequence number is not the account's next one")   \
    X(LEDGER_FEE_TOO_LOW, 5, "fee_too_low", "the fee is below the network's base fee")     \
    X(LEDGER_FEE_UNPAID, 6, "insufficient_balance_for_fee", "the balance does not cover the fee") \
    X(LEDGER_COMMONS_SOURCE, 7, "commons_cannot_sign", "the commons fund pays only by a governance decision") \
    X(LEDGER_INSUFFICIENT_BALANCE, 10, "insufficient_balance", "the balance is too low")   \
    X(LEDGER_BELOW_MIN_BALANCE, 11, "below_min_balance", "a new account needs at least the minimum balance") \
    X(LEDGER_SELF_PAYMENT, 12, "self_payment", "an account cannot pay itself")             \
    X(LEDGER_ZERO_AMOUNT, 13, "zero_amount", "the amount must be more than zero")          \
    X(LEDGER_OVERFLOW, 14, "overflow", "an amount would overflow")                         \
    X(LEDGER_NOT_MEMBER, 20, "not_member", "only members may do this")                     \
    X(LEDGER_NO_RESOURCE, 21, "no_resource", "no such resource")                           \
    X(LEDGER_NOT_OWNER, 22, "not_owner", "only the resource's owner may do this")          \
    X(LEDGER_BAD_TITLE, 23, "bad_title", "the title must not be empty")                    \
    X(LEDGER_RESOURCE_INACTIVE, 30, "resource_inactive", "the resource is not open for booking") \
    X(LEDGER_OWN_RESOURCE, 31, "own_resource", "an owner cannot book their own resource") \
    X(LEDGER_BAD_TIME_RANGE, 32, "bad_time_range", "the booking's start and end are not allowed") \
    X(LEDGER_BOOKING_OVERLAP, 33, "booking_overlap", "the resource is already booked then") \
    X(LEDGER_TRUST_TOO_LOW, 34, "trust_too_low", "the renter's trust record is below the owner's minimum") \
    X(LEDGER_ESCROW_OVER_MAX, 35, "escrow_over_max", "price and deposit exceed the escrow the renter agreed to") \
    X(LEDGER_FULLY_BOOKED, 36, "fully_booked", "the resource has too many active bookings") \
    X(LEDGER_NO_BOOKING, 37, "no_booking", "no such booking")                              \
    X(LEDGER_NOT_PARTY, 38, "not_party", "only the booking's renter or owner may do this") \
    X(LEDGER_BOOKING_NOT_ACTIVE, 39, "booking_not_active", "the booking is already cancelled or completed") \
    X(LEDGER_TOO_LATE_TO_CANCEL, 40, "too_late_to_cancel", "a renter can cancel only before the start") \
    X(LEDGER_TOO_EARLY_TO_COMPLETE, 41, "too_early_to_complete", "the booking cannot be completed yet") \
    X(LEDGER_CLAIM_OVER_DEPOSIT, 42, "claim_over_deposit", "a damage claim cannot exceed the deposit") \
    X(LEDGER_CLAIM_NOT_ALLOWED, 43, "claim_not_allowed", "only the owner may claim damage") \
    X(LEDGER_NOT_COMPLETED, 44, "not_completed", "only a completed booking can be rated") \
    X(LEDGER_ALREADY_RATED, 45, "already_rated", "each party rates a booking once")        \
    X(LEDGER_NO_PROPOSAL, 50, "no_proposal", "no such proposal")                           \
    X(LEDGER_PROPOSAL_CLOSED, 51, "proposal_closed", "the proposal is no longer open for votes") \
    X(LEDGER_ALREADY_VOTED, 52, "already_voted", "one member, one vote")                  \
    X(LEDGER_BAD_PROPOSAL, 53, "bad_proposal", "the proposal's content is not allowed")    \
    X(LEDGER_TOO_MANY_PROPOSALS, 54, "too_many_proposals", "too many proposals are open")  \
    X(LEDGER_VALIDATOR_EXISTS, 55, "validator_exists", "the node is already a validator") \
    X(LEDGER_NO_VALIDATOR, 56, "no_validator", "the node is not a validator")              \
    X(LEDGER_QUORUM_LOST, 57, "quorum_intersection_lost", "the validator set would lose quorum intersection") \
    X(LEDGER_NOT_ORG, 58, "not_org", "the account is not an admitted org")                 \
    X(LEDGER_ALREADY_MEMBER, 59, "already_member", "the account already has that role")   \
    X(LEDGER_NO_ACCOUNT, 60, "no_account", "the account does not exist")                  \
    X(LEDGER_COMMONS_INSUFFICIENT, 61, "commons_insufficient", "the commons fund cannot cover the payment") \
    X(LEDGER_TOO_MANY_TXS, 62, "too_many_transactions", "the ledger is over its transaction limit")

enum ledger_result {
#define LEDGER_RESULT_ENUM(name, code, text, message) name = code,
    LEDGER_RESULTS(LEDGER_RESULT_ENUM)
#undef LEDGER_RESULT_ENUM
};
/* The stable snake_case name of a result code ("booking_overlap"), or NULL. */
const char *ledger_result_name(unsigned code);
/* A sentence for a member ("the resource is already booked then"), or NULL. */
const char *ledger_result_message(unsigned code);

/* --- Tables ------------------------------------------------------------------ */

enum ledger_table {
    LEDGER_TABLE_ACCOUNTS = 0,      /* key → node_account */
    LEDGER_TABLE_RESOURCES,         /* u64be id → node_resource */
    LEDGER_TABLE_BOOKINGS,          /* u64be id → node_booking */
    LEDGER_TABLE_BOOKINGS_BY_RESOURCE, /* u64be resource id → active intervals */
    LEDGER_TABLE_PROPOSALS,         /* u64be id → node_proposal */
    LEDGER_TABLE_VOTES,             /* u64be proposal id || voter key → bool */
    LEDGER_TABLE_GLOBALS,           /* name → params, counters, validators, lists */
    LEDGER_TABLE_STATE_COUNT,       /* tables above are state: in the state hash */
    LEDGER_TABLE_TX_INDEX = LEDGER_TABLE_STATE_COUNT, /* tx id → u64be height, u32be index, u16be result */
    LEDGER_TABLE_CERTIFICATES,      /* u64be height → signatures (node/daemon/herder.c) */
    LEDGER_TABLE_CONSENSUS,         /* "own" → the node's latest SCP statements */
    LEDGER_TABLE_VALIDATOR_HISTORY, /* u64be height h → node_validator_era in force after h */
    LEDGER_TABLE_COUNT
};
/* Table names as the store knows them (index = enum ledger_table). */
extern const char *const ledger_table_names[LEDGER_TABLE_COUNT];

/* --- State overlay ---------------------------------------------------------- */

/* The read-only base under an overlay.  get returns 0 and a malloc'd copy,
 * NODE_E_* for NOT FOUND is signalled by returning 1 (absent). */
struct ledger_base {
    void *ctx;
    /* Returns 0 (found: *value malloc'd, caller frees), 1 (absent), or a
     * negative NODE_E_* error. */
    int (*get)(void *ctx, unsigned table, const uint8_t *key, size_t key_len,
               uint8_t **value, size_t *value_len);
};

typedef struct ledger_state ledger_state;

/* Creates an empty overlay over base (base may be NULL: empty state). */
int ledger_state_create(const struct ledger_base *base, ledger_state **out);
void ledger_state_destroy(ledger_state *st);

/* Raw access, for chain.c and tests.  ledger_state_get returns 0 with bytes
 * valid until the next write to the same key, 1 if absent, or an error. */
int ledger_state_get(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len,
                     const uint8_t **value, size_t *value_len);
int ledger_state_put(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len,
                     const uint8_t *value, size_t value_len);
int ledger_state_delete(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len);

/* Savepoints: undo every write made after the savepoint was taken. */
size_t ledger_state_savepoint(ledger_state *st);
void ledger_state_rollback(ledger_state *st, size_t savepoint);
/* Forgets undo information (after a transaction is final). */
void ledger_state_release(ledger_state *st);

/* Visits every changed entry (put or deleted; value NULL for deleted) in
 * (table, key) order.  visit returns non-zero to stop. */
int ledger_state_changes(ledger_state *st,
                         int (*visit)(void *ctx, unsigned table, const uint8_t *key, size_t key_len,
                                      const uint8_t *value, size_t value_len),
                         void *ctx);
/* Drops all entries (changed or cached): the overlay is empty again. */
void ledger_state_clear(ledger_state *st);

/*
 * The state hash after a ledger (spec/encoding.md, "State hash"):
 *   BLAKE2b-256("nanum/state/v1\0" || previous state hash || change records)
 * where the change records are every key the ledger wrote in the state
 * tables, in (table, key) order, each with its new value or a deletion mark.
 * Cheap per ledger, and equal on two nodes exactly when they made the same
 * writes from the same state.
 */
int ledger_state_hash(ledger_state *st, const uint8_t previous[static NODE_HASH_BYTES],
                      uint8_t out[static NODE_HASH_BYTES]);

/* Typed access used by the rules and the API.  Getters return 0, 1 (absent)
 * or an error. */
int ledger_account_get(ledger_state *st, const uint8_t key[static NODE_KEY_BYTES],
                       struct node_account *out);
int ledger_account_put(ledger_state *st, const struct node_account *a);
int ledger_resource_get(ledger_state *st, uint64_t id, struct node_resource *out);
int ledger_booking_get(ledger_state *st, uint64_t id, struct node_booking *out);
int ledger_proposal_get(ledger_state *st, uint64_t id, struct node_proposal *out);
int ledger_params_get(ledger_state *st, struct node_params *out);
int ledger_counters_get(ledger_state *st, struct node_counters *out);
/* Allocates out->validators (free with node_validator_set_free). */
int ledger_validators_get(ledger_state *st, struct node_validator_set *out);

/* --- Applying ledgers --------------------------------------------------------- */

struct ledger_context {
    uint64_t height;
    uint64_t close_time;
    uint8_t network_id[NODE_HASH_BYTES];
};

/*
 * A check of a proposed validator set, called when a validator change is
 * proposed and again when it would take effect; returns LEDGER_OK or the
 * result code to refuse it with (LEDGER_QUORUM_LOST).  The ledger's own
 * checks (non-empty, no duplicates, orgs admitted) run first.  NULL: only
 * the ledger's own checks.
 */
typedef unsigned (*ledger_validator_check)(void *ctx, const struct node_validator_set *proposed);
void ledger_state_set_validator_check(ledger_state *st, ledger_validator_check check, void *ctx);

/* Writes the genesis state into an empty overlay. */
int ledger_apply_genesis(ledger_state *st, const struct node_genesis *g);

/* Starts ledger ctx->height: enacts proposals that passed in earlier ledgers. */
int ledger_begin(ledger_state *st, const struct ledger_context *ctx);

/* Signature status handed to ledger_apply_tx (verification may be done in
 * parallel before applying, DESIGN §9 bench-apply). */
enum ledger_signature { LEDGER_SIGNATURE_UNCHECKED = 0, LEDGER_SIGNATURE_VALID, LEDGER_SIGNATURE_INVALID };

/*
 * Applies one transaction (its exact envelope bytes) within the ledger begun
 * by ledger_begin.  Always decides an outcome: *result gets the code and the
 * fee charged.  A failed transaction changes nothing but the fee and the
 * sequence number (spec/transactions.md §fees).  Returns 0, or a negative
 * NODE_E_* for a broken store / out of memory (then the ledger must be
 * abandoned).
 */
int ledger_apply_tx(ledger_state *st, const struct ledger_context *ctx, const uint8_t *bytes,
                    size_t len, enum ledger_signature signature, struct node_tx_result *result);

/* Ends the ledger: tallies proposals whose voting window closed. */
int ledger_end(ledger_state *st, const struct ledger_context *ctx);

/* === The chain on the store ================================================ */

/*
 * the node's chain of ledgers on the store: the genesis ledger,
 * closing a ledger (apply, hash, one atomic commit), replaying a ledger
 * received from a peer, and the integrity check of the whole chain.
 *
 * Ledger 0 is the genesis ledger: no transactions, the genesis state.  Every
 * later ledger h commits, in one storage batch, its block (header and
 * body), every state change of applying it, and its tx_index entries.
 * Certificates (validators' signatures on headers) are added after commit in
 * their own table (node issue); the block bytes never change.
 *
 * Read next: node/ledger/chain.c, spec/transactions.md ("How a ledger is built"),
 * spec/storage.md (the tables).
 */
typedef struct ledger_chain ledger_chain;

struct ledger_chain_options {
    bool no_sync;               /* tests only: skip fsync */
    uint64_t map_size_initial;  /* 0: the store's default */
    unsigned verify_threads;    /* 0: one per online core, at most 8 */
};

/*
 * Opens the chain in directory dir (which must exist).  An empty store gets
 * the genesis ledger; a store of another network (its network id differs
 * from genesis's) is refused with LEDGER_E_CHAIN and err says so.
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
 * A mismatch is LEDGER_E_CHAIN and commits nothing.
 */
int ledger_chain_apply_block(ledger_chain *c, const uint8_t *bytes, size_t len);
/* The same, skipping the signature check of every transaction for which
 * known(ctx, envelope bytes) is true: envelopes whose signature the caller
 * has itself verified before. */
int ledger_chain_apply_block_known(ledger_chain *c, const uint8_t *bytes, size_t len,
                                   bool (*known)(void *ctx, const uint8_t *tx, size_t tx_len), void *ctx);

/*
 * The validator set and quorum threshold in force for ledger `height`: the
 * ones after ledger height − 1 (for 0, the genesis ones), which agreed on
 * it and whose signatures make its certificate (node_certificate_check).
 * Kept in the validator_history table, one entry per change, written in the
 * commit of the ledger that enacted it.  Allocates out->set.validators.
 * height may be at most the last height + 1.  0, LEDGER_E_STATE_DAMAGED,
 * NODE_E_INVALID or a store code.
 */
int ledger_chain_validators_in_force(ledger_chain *c, uint64_t height, struct node_validator_era *out);

/* The certificate stored for ledger `height` (node/ledger/chain.c: the
 * certificates table, written after the ledger's own commit as signatures
 * arrive).  0 with out->count 0 when there is none, or when the stored one
 * is damaged (it is then rebuilt from signatures); else a store code. */
int ledger_chain_certificate_get(ledger_chain *c, uint64_t height, struct node_certificate *out);
/* Stores cert for `height` durably, replacing what was there. */
int ledger_chain_certificate_put(ledger_chain *c, uint64_t height, const struct node_certificate *cert);

/* A validator's own latest consensus statements (the consensus table, key
 * "own"; encoded by node_own_statements_encode), kept so that a restarted
 * validator never contradicts itself.  get: 0 with *bytes malloc'd, 1 if
 * none, or a store code. */
int ledger_chain_own_statements_get(ledger_chain *c, uint8_t **bytes, size_t *len);
int ledger_chain_own_statements_put(ledger_chain *c, const uint8_t *bytes, size_t len);

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
 * body.  On failure returns LEDGER_E_CHAIN with *bad_height set and a sentence
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

/* === Key map =============================================================== */

/*
 * a hash table from 32-byte keys (transaction ids,
 * account keys, tx-set hashes) to pointers.  Open addressing, SipHash with a
 * per-process random key (keys come from the network: no chosen-collision
 * flooding), tombstones on delete, grows at half full.  Iteration order is
 * not deterministic: callers that need an order sort.
 */

struct keymap_slot {
    uint8_t key[32];
    void *value; /* NULL: empty; KEYMAP_TOMBSTONE: deleted */
};

struct keymap {
    struct keymap_slot *slots;
    size_t capacity; /* power of two */
    size_t count;    /* live entries */
    size_t used;     /* live + tombstones */
};

int keymap_init(struct keymap *m);
void keymap_free(struct keymap *m);
void *keymap_get(const struct keymap *m, const uint8_t key[32]);
/* Inserts or replaces; value must not be NULL.  0 or NODE_E_NOMEM. */
int keymap_put(struct keymap *m, const uint8_t key[32], void *value);
/* Removes and returns the value, or NULL if absent. */
void *keymap_remove(struct keymap *m, const uint8_t key[32]);
/* Iteration: for (size_t i = 0; keymap_next(m, &i, &key, &value);) */
bool keymap_next(const struct keymap *m, size_t *cursor, const uint8_t **key, void **value);

/* === Signature cache ======================================================= */

/*
 * the transaction signatures this node has already
 * seen verify, so that no signature is checked twice.
 *
 * A transaction reaches a validator up to three ways — submitted or flooded
 * into the mempool, inside a peer's tx set that must be validated, and in
 * the ledger that applies it — and an Ed25519 check costs ~50–80 µs, most of
 * a loaded validator's CPU.  The cache remembers the last `capacity` pairs
 * (transaction id, signature) that verified under this network; an entry
 * is the BLAKE2b-256 of the id and the signature, so the same transaction
 * with another signature is not covered.  Oldest entries leave first.
 * Single-threaded: the daemon's loop thread only.
 */


#define NODE_SIGCACHE_ENTRIES 65536 /* > 10 ledgers at tx_per_ledger_max */

struct node_sigcache {
    struct keymap set;   /* entry -> the ring slot that holds it */
    uint8_t (*ring)[32]; /* entries in insertion order */
    size_t capacity, next, count;
    uint64_t hits, misses;
};

/* 0 or NODE_E_NOMEM. */
int node_sigcache_init(struct node_sigcache *c, size_t capacity);
void node_sigcache_free(struct node_sigcache *c);

/*
 * Opens envelope bytes (node_envelope_open) and checks the signature unless
 * the cache already holds this id and signature; a signature that verifies
 * is remembered.  c may be NULL (always checks).  0: decoded and the
 * signature is good (env and id set); otherwise as node_envelope_open.
 */
int node_sigcache_open(struct node_sigcache *c, const uint8_t *bytes, size_t len,
                       const uint8_t network_id[static NODE_HASH_BYTES],
                       struct node_tx_envelope *env, uint8_t id[NODE_HASH_BYTES]);

/* True if these envelope bytes (decoded as env, with this id) are known to
 * carry a good signature.  Does not verify. */
bool node_sigcache_known(const struct node_sigcache *c, const struct node_tx_envelope *env,
                         const uint8_t id[static NODE_HASH_BYTES]);

/* === Mempool =============================================================== */

/*
 * transactions waiting for a ledger (DESIGN §7).
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
