/*
 * history.c — which validators agreed on each ledger: the validator
 * history of the chain (node/ledger/ledger.h,
 * ledger_chain_validators_in_force; spec/storage.md, table
 * validator_history).
 *
 * A certificate is checked against the validator set and quorum threshold
 * in force for its height (node_certificate_check), which are the ones
 * after the ledger before it: a governance change enacted in ledger E
 * takes effect for E + 1.  The state holds only the current set, so the
 * chain keeps one entry per change — key the height E after which it is in
 * force, value the era (node_validator_era_encode) — written in the same
 * batch as ledger E itself, so the history and the chain never disagree.
 * Changes are rare (governance decisions), so a lookup scans the table and
 * keeps the last answer.
 *
 * A store written before the history was kept is given one at open,
 * rebuilt from the genesis and the enacted proposals (the same way the
 * wallet rebuilds it), and checked against the state's current set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

static void height_key(uint64_t height, uint8_t key[8])
{
    for (int k = 0; k < 8; k++)
        key[k] = (uint8_t)(height >> (56 - 8 * k));
}

static uint64_t key_height(const uint8_t key[8])
{
    uint64_t h = 0;
    for (int k = 0; k < 8; k++)
        h = h << 8 | key[k];
    return h;
}

/* The era in the state overlay: its set hash and threshold, and (if
 * encoded is not NULL) its encoding. */
static int era_now(ledger_chain *c, uint8_t set_hash[NODE_HASH_BYTES], uint64_t *threshold_bp,
                   struct node_buf *encoded)
{
    struct node_params params;
    struct node_validator_era era;
    int rc = ledger_params_get(c->state, &params);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    if ((rc = ledger_validators_get(c->state, &era.set)) != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    era.threshold_bp = params.values[NODE_PARAM_quorum_threshold_bp];
    *threshold_bp = era.threshold_bp;
    rc = node_validator_set_hash(&era.set, set_hash);
    if (rc == 0 && encoded != NULL)
        rc = node_validator_era_encode(&era, encoded);
    node_validator_set_free(&era.set);
    return rc;
}

int ledger__history_stage(ledger_chain *c, store_batch *b, uint64_t height)
{
    uint8_t set_hash[NODE_HASH_BYTES];
    uint64_t threshold_bp;
    int rc = era_now(c, set_hash, &threshold_bp, NULL);
    c->era_staged = false;
    if (rc != 0)
        return rc;
    if (height > 0 && threshold_bp == c->era_threshold_bp && memcmp(set_hash, c->era_set_hash, NODE_HASH_BYTES) == 0)
        return 0; /* no change: the usual ledger */
    struct node_buf encoded;
    node_buf_init(&encoded);
    uint8_t key[8];
    height_key(height, key);
    rc = era_now(c, set_hash, &threshold_bp, &encoded);
    if (rc == 0)
        rc = store_batch_put(b, LEDGER_TABLE_VALIDATOR_HISTORY, key, sizeof key, encoded.data, encoded.len);
    node_buf_free(&encoded);
    if (rc == 0) {
        c->era_staged = true;
        memcpy(c->staged_set_hash, set_hash, NODE_HASH_BYTES);
        c->staged_threshold_bp = threshold_bp;
    }
    return rc;
}

static void cache_drop(ledger_chain *c)
{
    if (c->era_cache.valid)
        node_validator_set_free(&c->era_cache.era.set);
    c->era_cache.valid = false;
}

void ledger__history_committed(ledger_chain *c, bool ok)
{
    if (ok && c->era_staged) {
        memcpy(c->era_set_hash, c->staged_set_hash, NODE_HASH_BYTES);
        c->era_threshold_bp = c->staged_threshold_bp;
        cache_drop(c); /* its open end changed */
    }
    c->era_staged = false;
}

void ledger__history_close(ledger_chain *c)
{
    cache_drop(c);
}

/* --- Lookup ------------------------------------------------------------------------ */

struct era_search {
    uint64_t target;        /* the greatest key wanted: height - 1 */
    bool found;
    uint64_t key, next_key;
    uint8_t *value;         /* malloc'd copy of the found entry */
    size_t value_len;
    int rc;
};

static int search_visit(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    struct era_search *s = ctx;
    if (key_len != 8) {
        s->rc = LEDGER_E_STATE_DAMAGED;
        return 1;
    }
    uint64_t h = key_height(key);
    if (h > s->target) {
        s->next_key = h;
        return 1; /* keys come in order: the one before was the answer */
    }
    uint8_t *copy = malloc(value_len ? value_len : 1);
    if (copy == NULL) {
        s->rc = NODE_E_NOMEM;
        return 1;
    }
    memcpy(copy, value, value_len);
    free(s->value);
    s->value = copy;
    s->value_len = value_len;
    s->key = h;
    s->found = true;
    return 0;
}

static int copy_era(const struct node_validator_era *from, struct node_validator_era *to)
{
    to->threshold_bp = from->threshold_bp;
    to->set.count = from->set.count;
    to->set.validators = malloc((from->set.count ? from->set.count : 1) * sizeof *to->set.validators);
    if (to->set.validators == NULL)
        return NODE_E_NOMEM;
    memcpy(to->set.validators, from->set.validators, from->set.count * sizeof *to->set.validators);
    return 0;
}

int ledger_chain_validators_in_force(ledger_chain *c, uint64_t height, struct node_validator_era *out)
{
    out->set.count = 0;
    out->set.validators = NULL;
    if (height > c->last.height + 1)
        return NODE_E_INVALID;
    uint64_t target = height == 0 ? 0 : height - 1;
    if (c->era_cache.valid && c->era_cache.key <= target && target < c->era_cache.next_key)
        return copy_era(&c->era_cache.era, out);
    struct era_search s = {.target = target, .next_key = UINT64_MAX};
    int rc = store_scan(c->store, LEDGER_TABLE_VALIDATOR_HISTORY, NULL, 0, search_visit, &s);
    if (s.rc != 0)
        rc = s.rc;
    else if (rc == 1)
        rc = 0; /* stopped at the next key */
    if (rc == 0 && !s.found)
        rc = LEDGER_E_STATE_DAMAGED; /* entry 0 is written with the genesis ledger */
    struct node_validator_era era;
    if (rc == 0 && node_validator_era_decode(s.value, s.value_len, &era) != 0)
        rc = LEDGER_E_STATE_DAMAGED;
    free(s.value);
    if (rc != 0)
        return rc;
    cache_drop(c);
    c->era_cache.era = era;
    c->era_cache.key = s.key;
    c->era_cache.next_key = s.next_key;
    c->era_cache.valid = true;
    return copy_era(&era, out);
}

/* --- Opening, and rebuilding an old store's history -------------------------------- */

/* An enacted change of the validator era, in order of effect. */
struct era_change {
    uint64_t effective_height, id;
    struct node_proposal_body body;
};

static int change_order(const void *a, const void *b)
{
    const struct era_change *x = a, *y = b;
    if (x->effective_height != y->effective_height)
        return x->effective_height < y->effective_height ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

struct change_list {
    struct era_change *items;
    size_t count, cap;
    int rc;
};

static int collect_change(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    (void)key;
    (void)key_len;
    struct change_list *l = ctx;
    struct node_proposal p;
    if (node_proposal_decode(value, value_len, &p) != 0) {
        l->rc = LEDGER_E_STATE_DAMAGED;
        return 1;
    }
    bool era_kind = p.body.kind == NODE_PROPOSAL_VALIDATOR_ADD || p.body.kind == NODE_PROPOSAL_VALIDATOR_REMOVE ||
                    (p.body.kind == NODE_PROPOSAL_PARAM_SET &&
                     p.body.u.param_set.param_id == NODE_PARAM_quorum_threshold_bp);
    if (p.status != NODE_PROPOSAL_ENACTED || !era_kind)
        return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct era_change *grown = realloc(l->items, cap * sizeof *grown);
        if (grown == NULL) {
            l->rc = NODE_E_NOMEM;
            return 1;
        }
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->count++] = (struct era_change){.effective_height = p.effective_height, .id = p.id, .body = p.body};
    return 0;
}

/* Applies one enacted change to era, as governance enacted it. */
static int apply_change(struct node_validator_era *era, const struct era_change *change)
{
    const struct node_proposal_body *b = &change->body;
    if (b->kind == NODE_PROPOSAL_PARAM_SET) {
        era->threshold_bp = b->u.param_set.value;
        return 0;
    }
    struct node_validator_set *s = &era->set;
    const uint8_t *key = b->kind == NODE_PROPOSAL_VALIDATOR_ADD ? b->u.validator_add.node_key
                                                                : b->u.validator_remove.node_key;
    uint32_t at = 0;
    while (at < s->count && memcmp(s->validators[at].node_key, key, NODE_KEY_BYTES) < 0)
        at++;
    bool present = at < s->count && memcmp(s->validators[at].node_key, key, NODE_KEY_BYTES) == 0;
    if (b->kind == NODE_PROPOSAL_VALIDATOR_REMOVE) {
        if (!present)
            return LEDGER_E_STATE_DAMAGED;
        memmove(&s->validators[at], &s->validators[at + 1], (s->count - at - 1) * sizeof s->validators[0]);
        s->count--;
        return 0;
    }
    if (present || s->count == NODE_VALIDATORS_MAX)
        return LEDGER_E_STATE_DAMAGED;
    struct node_validator *grown = realloc(s->validators, (s->count + 1) * sizeof *grown);
    if (grown == NULL)
        return NODE_E_NOMEM;
    s->validators = grown;
    memmove(&s->validators[at + 1], &s->validators[at], (s->count - at) * sizeof s->validators[0]);
    s->validators[at] = b->u.validator_add;
    s->count++;
    return 0;
}

static int put_era(store_batch *b, uint64_t height, const struct node_validator_era *era)
{
    uint8_t key[8];
    height_key(height, key);
    struct node_buf encoded;
    node_buf_init(&encoded);
    int rc = node_validator_era_encode(era, &encoded);
    if (rc == 0)
        rc = store_batch_put(b, LEDGER_TABLE_VALIDATOR_HISTORY, key, sizeof key, encoded.data, encoded.len);
    node_buf_free(&encoded);
    return rc;
}

/* Writes the history of a store that has none: genesis, then every enacted
 * change at the height it took effect. */
static int rebuild(ledger_chain *c, const struct node_genesis *genesis, char *err, size_t err_len)
{
    struct change_list l = {0};
    int rc = store_scan(c->store, LEDGER_TABLE_PROPOSALS, NULL, 0, collect_change, &l);
    if (l.rc != 0)
        rc = l.rc;
    struct node_validator_era era = {.threshold_bp = genesis->params.values[NODE_PARAM_quorum_threshold_bp]};
    if (rc == 0)
        rc = copy_era(&(struct node_validator_era){.threshold_bp = era.threshold_bp, .set = genesis->validators},
                      &era);
    store_batch *b = NULL;
    if (rc == 0)
        rc = store_batch_begin(c->store, &b);
    if (rc == 0)
        rc = put_era(b, 0, &era);
    qsort(l.items, l.count, sizeof *l.items, change_order);
    for (size_t i = 0; rc == 0 && i < l.count; i++) {
        rc = apply_change(&era, &l.items[i]);
        if (rc == 0)
            rc = put_era(b, l.items[i].effective_height, &era);
    }
    uint8_t rebuilt_hash[NODE_HASH_BYTES];
    if (rc == 0)
        rc = node_validator_set_hash(&era.set, rebuilt_hash);
    /* The rebuilt end must be the state's own era, or it is not trusted. */
    if (rc == 0 && (era.threshold_bp != c->era_threshold_bp ||
                    memcmp(rebuilt_hash, c->era_set_hash, NODE_HASH_BYTES) != 0)) {
        snprintf(err, err_len, "cannot rebuild the validator history: the enacted proposals do not lead to the "
                               "current validator set");
        rc = LEDGER_E_STATE_DAMAGED;
    }
    if (b != NULL)
        rc = rc == 0 ? store_batch_commit(b) : (store_batch_abort(b), rc);
    node_validator_set_free(&era.set);
    free(l.items);
    return rc;
}

static int count_entries(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    (void)key;
    (void)key_len;
    (void)value;
    (void)value_len;
    (*(uint64_t *)ctx)++;
    return 0;
}

int ledger__history_open(ledger_chain *c, const struct node_genesis *genesis, char *err, size_t err_len)
{
    int rc = era_now(c, c->era_set_hash, &c->era_threshold_bp, NULL);
    ledger_state_clear(c->state);
    if (rc != 0)
        return rc;
    uint64_t entries = 0;
    if ((rc = store_scan(c->store, LEDGER_TABLE_VALIDATOR_HISTORY, NULL, 0, count_entries, &entries)) != 0)
        return rc;
    return entries > 0 ? 0 : rebuild(c, genesis, err, err_len);
}
