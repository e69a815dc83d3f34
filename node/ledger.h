/*
 * ledger.h — the ledger rules: how a transaction changes the shared state,
 * and how a ledger (block) is built, hashed, committed and checked.
 *
 * The state is a set of tables of canonical records (node/protocol.h) held in
 * a `ledger_state`: an in-memory overlay over a read-only base (the LMDB
 * store, or nothing in unit tests).  Applying a ledger writes only to the
 * overlay; the caller then commits the overlay's changes with the block in
 * one storage batch (node/chain.c).  Every transaction outcome has a stable
 * result code (LEDGER_RESULTS below, spec/transactions.md).
 *
 * Determinism: the same ledgers applied to the same genesis give
 * byte-identical state; nothing here reads a clock, a random source or the
 * order of a hash table.
 *
 * Read next: node/apply.c (envelope checks and fees), node/sharing.c
 * (resources and bookings), node/governance.c, node/chain.c.
 */
#ifndef NANUM_LEDGER_H
#define NANUM_LEDGER_H

#include "protocol.h"

struct store;

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
    LEDGER_TABLE_CERTIFICATES,      /* u64be height → signatures (node/herder.c) */
    LEDGER_TABLE_CONSENSUS,         /* "own" → the node's latest SCP statements */
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

#endif
