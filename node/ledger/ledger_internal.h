/*
 * ledger_internal.h — what node/ledger/apply.c, node/ledger/sharing.c and
 * node/ledger/governance.c share and nothing else sees.
 */
#ifndef NANUM_LEDGER_INTERNAL_H
#define NANUM_LEDGER_INTERNAL_H

#include "ledger.h"

#include "storage.h"

/* The chain on the store (node/ledger/chain.c). */
struct ledger_chain {
    store *store;
    ledger_state *state;
    struct node_header last;
    uint8_t last_hash[NODE_HASH_BYTES];
    uint8_t network_id[NODE_HASH_BYTES];
    unsigned verify_threads;
    /* The validator history (node/ledger/history.c): the last era recorded,
     * the one staged in the batch being committed, and the last lookup. */
    uint8_t era_set_hash[NODE_HASH_BYTES];
    uint64_t era_threshold_bp;
    bool era_staged;
    uint8_t staged_set_hash[NODE_HASH_BYTES];
    uint64_t staged_threshold_bp;
    struct {
        bool valid;
        uint64_t key, next_key; /* in force after ledgers key .. next_key - 1 */
        struct node_validator_era era;
    } era_cache;
};

/* Stages, in batch b, the era after ledger `height` (read from the state
 * overlay holding the ledger's changes) if it differs from the last one. */
int ledger__history_stage(ledger_chain *c, store_batch *b, uint64_t height);
/* After the batch's commit: ok says whether it was committed. */
void ledger__history_committed(ledger_chain *c, bool ok);
/* At open of a store with blocks: loads the last era, or rebuilds the
 * history of a store written before it was kept (from the enacted
 * proposals), checking the result against the state. */
int ledger__history_open(ledger_chain *c, const struct node_genesis *genesis, char *err, size_t err_len);
void ledger__history_close(ledger_chain *c);

/* Keys of the globals table. */
#define LEDGER_GLOBAL_PARAMS "params"
#define LEDGER_GLOBAL_COUNTERS "counters"
#define LEDGER_GLOBAL_VALIDATORS "validators"
#define LEDGER_GLOBAL_OPEN_PROPOSALS "open_proposals"
#define LEDGER_GLOBAL_PASSED_PROPOSALS "passed_proposals"

/* Propagates a negative (system) error; result codes are handled by callers. */
#define LEDGER_TRY(expr)       \
    do {                       \
        int rc_ = (expr);      \
        if (rc_ < 0)           \
            return rc_;        \
    } while (0)

void ledger__u64be(uint64_t v, uint8_t out[8]);

int ledger__resource_put(ledger_state *st, const struct node_resource *r);
int ledger__booking_put(ledger_state *st, const struct node_booking *b);
int ledger__proposal_put(ledger_state *st, const struct node_proposal *p);
int ledger__params_put(ledger_state *st, const struct node_params *p);
int ledger__counters_put(ledger_state *st, const struct node_counters *c);
int ledger__validators_put(ledger_state *st, const struct node_validator_set *s);

/* Lists of ids in globals (open and passed proposals), bounded by max. */
struct ledger__id_list {
    uint32_t count;
    uint64_t ids[NODE_OPEN_PROPOSALS_MAX];
};
int ledger__id_list_get(ledger_state *st, const char *name, struct ledger__id_list *out);
int ledger__id_list_put(ledger_state *st, const char *name, const struct ledger__id_list *l);

/* Moves amount from one account's balance to another's (creating neither).
 * Returns LEDGER_OK, LEDGER_INSUFFICIENT_BALANCE or LEDGER_OVERFLOW. */
unsigned ledger__transfer(struct node_account *from, struct node_account *to, uint64_t amount);

/* Adds amount to the commons fund's balance (the account is created on
 * first use).  Returns LEDGER_OK or LEDGER_OVERFLOW, or a negative error. */
int ledger__commons_credit(ledger_state *st, uint64_t amount);

/* The ledger's own checks of a validator set, then the configured check. */
unsigned ledger__validator_check(ledger_state *st, const struct node_validator_set *proposed);
unsigned ledger__validator_set_check(ledger_state *st, const struct node_validator_set *proposed);

/* Body rules: each returns a result code (>= 0) or a negative error.  They
 * may write to the state freely: the caller rolls back on a non-OK code. */
int ledger__apply_pay(ledger_state *st, const struct ledger_context *ctx, const struct node_tx *tx,
                      struct node_account *source);
int ledger__apply_resource_register(ledger_state *st, const struct ledger_context *ctx,
                                    const struct node_tx *tx, struct node_account *source);
int ledger__apply_resource_update(ledger_state *st, const struct ledger_context *ctx,
                                  const struct node_tx *tx, struct node_account *source);
int ledger__apply_booking_create(ledger_state *st, const struct ledger_context *ctx,
                                 const struct node_tx *tx, struct node_account *source);
int ledger__apply_booking_cancel(ledger_state *st, const struct ledger_context *ctx,
                                 const struct node_tx *tx, struct node_account *source);
int ledger__apply_booking_complete(ledger_state *st, const struct ledger_context *ctx,
                                   const struct node_tx *tx, struct node_account *source);
int ledger__apply_booking_rate(ledger_state *st, const struct ledger_context *ctx,
                               const struct node_tx *tx, struct node_account *source);
int ledger__apply_gov_propose(ledger_state *st, const struct ledger_context *ctx,
                              const struct node_tx *tx, struct node_account *source);
int ledger__apply_gov_vote(ledger_state *st, const struct ledger_context *ctx,
                           const struct node_tx *tx, struct node_account *source);

/* Loads an account that must be distinct from `source` (already loaded by
 * the caller): returns 0, 1 (absent) or an error.  If key is source's key,
 * *out aliases are avoided by the caller. */

/* === Parallel signature verifier =========================================== */

/*
 * the pipelined signature verifier used by chain.c
 * (node/ledger/verifier.c says how it works).
 */
#define LEDGER_VERIFY_THREADS_MAX 8

struct ledger__verifier;

/* Starts verifying txs[0..count) on `threads` threads (0: one per core). */
/* checked (may be NULL) marks envelopes whose signatures are already known good. */
int ledger__verifier_start(const uint8_t network_id[static NODE_HASH_BYTES],
                           const uint8_t *const *txs, const size_t *lens, uint32_t count,
                           const bool *checked, unsigned threads, struct ledger__verifier **out);
/* Returns transaction i's status, verifying other chunks while it waits. */
enum ledger_signature ledger__verifier_wait(struct ledger__verifier *v, uint32_t i);
/* Finishes (joins the workers) and frees.  NULL is allowed. */
void ledger__verifier_finish(struct ledger__verifier *v);
unsigned ledger__verify_threads_default(void);

#endif
