/*
 * slot.c — the entry points of the state machine (create, nominate, receive,
 * timers, restore) and what both protocols share: the per-slot table of the
 * latest statement of every node (the draft's M), federated voting over it
 * (accept and ratify), and sending (persist, then emit).
 *
 * Read consensus.h first; nomination.c and ballot.c implement the two
 * protocols on top of this file.
 */
#include <stdlib.h>

#include "scp_internal.h"

/* ---- comparisons ---------------------------------------------------------- */

/* Promises a total order on values: bytes lexicographically, then size. */
int scp_value_compare(const struct scp_value *a, const struct scp_value *b)
{
    uint32_t common = a->size < b->size ? a->size : b->size;
    int c = memcmp(a->bytes, b->bytes, common);
    if (c)
        return c;
    return (a->size > b->size) - (a->size < b->size);
}

/* Promises the draft's order on ballots: counter first, then value. */
int scp_ballot_compare(const struct scp_ballot *a, const struct scp_ballot *b)
{
    if (a->counter != b->counter)
        return a->counter < b->counter ? -1 : 1;
    if (a->counter == 0)
        return 0;
    return scp_value_compare(&a->value, &b->value);
}

/* Promises the statement order of the draft: nominations grow by set
 * inclusion, ballot statements by type, then their fields. */
bool scp_statement_is_newer(const struct scp_statement *older,
                            const struct scp_statement *newer)
{
    bool older_nom = older->type == SCP_STATEMENT_NOMINATE;
    bool newer_nom = newer->type == SCP_STATEMENT_NOMINATE;
    if (older_nom != newer_nom)
        return false;
    if (older_nom)
        return scp__nomination_newer(&older->u.nominate, &newer->u.nominate);
    return scp__ballot_newer(older, newer);
}

/* Promises 1 s per round, capped at SCP_TIMEOUT_MS_MAX (rounds start at 1). */
uint64_t scp_timeout_ms_default(enum scp_timer timer, uint32_t round)
{
    (void)timer;
    uint64_t ms = (uint64_t)(round ? round : 1) * 1000u;
    return ms > SCP_TIMEOUT_MS_MAX ? SCP_TIMEOUT_MS_MAX : ms;
}

/* The driver's timeout (or the default), capped at SCP_TIMEOUT_MS_MAX. */
uint64_t scp__timeout(struct scp *scp, enum scp_timer timer, uint32_t round)
{
    uint64_t ms = scp->driver.timeout_ms
                      ? scp->driver.timeout_ms(scp->driver.ctx, timer, round)
                      : scp_timeout_ms_default(timer, round);
    return ms > SCP_TIMEOUT_MS_MAX ? SCP_TIMEOUT_MS_MAX : ms;
}

/* Reports a monitoring event when the driver has a hook. */
void scp__event(struct scp *scp, enum scp_event_type type, uint64_t slot,
                uint32_t counter, const struct scp_value *value)
{
    if (scp->driver.event == NULL)
        return;
    struct scp_event ev = {.type = type, .slot = slot, .counter = counter, .value = value};
    scp->driver.event(scp->driver.ctx, &ev);
}

/* ---- instance ------------------------------------------------------------ */

/* True when every required callback is set. */
static bool driver_complete(const struct scp_driver *d)
{
    return d && d->sign && d->verify && d->hash && d->validate_value &&
           d->combine_candidates && d->get_qset && d->persist && d->emit &&
           d->set_timer && d->cancel_timer && d->externalized;
}

/* Promises a ready instance, or an error and *out NULL. */
int scp_create(const struct scp_driver *driver,
               const uint8_t node_id[SCP_NODE_ID_BYTES],
               const struct scp_qset *qset, struct scp **out)
{
    *out = NULL;
    if (!driver_complete(driver) || node_id == NULL || qset == NULL)
        return SCP_E_INVALID_ARGUMENT;
    struct scp *scp = calloc(1, sizeof *scp);
    if (scp == NULL)
        return SCP_E_NO_MEMORY;
    int rc = scp_qset_clone(qset, &scp->qset);
    if (rc) {
        free(scp);
        return rc;
    }
    scp->driver = *driver;
    memcpy(scp->node_id, node_id, SCP_NODE_ID_BYTES);
    scp__qset_hash(&scp->driver, scp->qset, scp->qset_hash);
    *out = scp;
    return 0;
}

/* Frees a slot and its table M. */
static void slot_free(struct scp__slot *slot)
{
    if (slot == NULL)
        return;
    for (size_t i = 0; i < slot->known_count; i++)
        free(slot->known[i]);
    free(slot->known);
    free(slot);
}

/* Promises every slot and the instance freed; NULL is a no-op. */
void scp_destroy(struct scp *scp)
{
    if (scp == NULL)
        return;
    for (size_t i = 0; i < SCP_SLOTS_MAX; i++)
        slot_free(scp->slots[i]);
    scp_qset_free(scp->qset);
    free(scp);
}

/* Copies the hash of the local quorum set. */
void scp_local_qset_hash(const struct scp *scp, uint8_t out[SCP_HASH_BYTES])
{
    memcpy(out, scp->qset_hash, SCP_HASH_BYTES);
}

/* Promises the slot's state, created when asked and there is room. */
struct scp__slot *scp__slot_get(struct scp *scp, uint64_t index, bool create,
                                int *error)
{
    size_t free_at = SCP_SLOTS_MAX;
    for (size_t i = 0; i < SCP_SLOTS_MAX; i++) {
        if (scp->slots[i] && scp->slots[i]->index == index)
            return scp->slots[i];
        if (scp->slots[i] == NULL && free_at == SCP_SLOTS_MAX)
            free_at = i;
    }
    if (!create)
        return NULL;
    if (free_at == SCP_SLOTS_MAX) {
        *error = SCP_E_SLOT_LIMIT;
        return NULL;
    }
    struct scp__slot *slot = calloc(1, sizeof *slot);
    if (slot == NULL) {
        *error = SCP_E_NO_MEMORY;
        return NULL;
    }
    slot->index = index;
    slot->fully_validated = true;
    scp->slots[free_at] = slot;
    return slot;
}

/* Promises every slot below `slot` freed; timers of those slots are
 * cancelled through the driver. */
void scp_purge_slots_below(struct scp *scp, uint64_t slot)
{
    for (size_t i = 0; i < SCP_SLOTS_MAX; i++) {
        if (scp->slots[i] == NULL || scp->slots[i]->index >= slot)
            continue;
        for (int t = 0; t < SCP_TIMERS_COUNT; t++)
            scp->driver.cancel_timer(scp->driver.ctx, scp->slots[i]->index, (enum scp_timer)t);
        slot_free(scp->slots[i]);
        scp->slots[i] = NULL;
    }
}

/* ---- the table M ---------------------------------------------------------- */

/* Position of id in the sorted table M. */
static size_t known_lower_bound(const struct scp__slot *slot, const uint8_t *id)
{
    size_t lo = 0, hi = slot->known_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(slot->known[mid]->node_id, id, SCP_NODE_ID_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The entry of id in M, or NULL. */
struct scp__known *scp__known_find(const struct scp__slot *slot,
                                   const uint8_t id[SCP_NODE_ID_BYTES])
{
    size_t at = known_lower_bound(slot, id);
    if (at < slot->known_count && scp__id_equal(slot->known[at]->node_id, id))
        return slot->known[at];
    return NULL;
}

/* Promises env stored as its node's latest statement of its kind. */
int scp__record(struct scp__slot *slot, const struct scp_envelope *env,
                const struct scp_qset *qset)
{
    const uint8_t *id = env->statement.node_id;
    struct scp__known *k = scp__known_find(slot, id);
    if (k == NULL) {
        if (slot->known_count >= SCP_SLOT_NODES_MAX)
            return SCP_E_LIMIT;
        struct scp__known **grown =
            realloc(slot->known, (slot->known_count + 1) * sizeof *grown);
        if (grown == NULL)
            return SCP_E_NO_MEMORY;
        slot->known = grown;
        k = calloc(1, sizeof *k);
        if (k == NULL)
            return SCP_E_NO_MEMORY;
        memcpy(k->node_id, id, SCP_NODE_ID_BYTES);
        size_t at = known_lower_bound(slot, id);
        memmove(&slot->known[at + 1], &slot->known[at],
                (slot->known_count - at) * sizeof *slot->known);
        slot->known[at] = k;
        slot->known_count++;
    }
    if (env->statement.type == SCP_STATEMENT_NOMINATE) {
        k->nomination = *env;
        k->nomination_qset = qset;
        k->has_nomination = true;
    } else {
        k->ballot = *env;
        k->ballot_qset = qset;
        k->has_ballot = true;
    }
    return 0;
}

/* ---- federated voting ---------------------------------------------------- */

struct vote_set {
    const struct scp__slot *slot;
    bool *in;
};

/* Membership in the marked subset of M. */
static bool vote_set_member(const void *arg, const uint8_t id[SCP_NODE_ID_BYTES])
{
    const struct vote_set *set = arg;
    size_t at = known_lower_bound(set->slot, id);
    return at < set->slot->known_count &&
           scp__id_equal(set->slot->known[at]->node_id, id) && set->in[at];
}

/* The node's latest statement of the kind, and its quorum set. */
static const struct scp_statement *known_statement(const struct scp__known *k,
                                                   bool ballot,
                                                   const struct scp_qset **qset)
{
    if (ballot ? !k->has_ballot : !k->has_nomination)
        return NULL;
    *qset = ballot ? k->ballot_qset : k->nomination_qset;
    return ballot ? &k->ballot.statement : &k->nomination.statement;
}

/* Marks in[i] for nodes whose statement satisfies a or b; returns count. */
static size_t mark(const struct scp__slot *slot, bool ballot, bool *in,
                   scp__statement_pred a, scp__statement_pred b, const void *arg)
{
    size_t count = 0;
    for (size_t i = 0; i < slot->known_count; i++) {
        const struct scp_qset *q;
        const struct scp_statement *st = known_statement(slot->known[i], ballot, &q);
        in[i] = st && (a(st, arg) || (b && b(st, arg)));
        count += in[i];
    }
    return count;
}

/* Shrinks the marked set to the largest quorum inside it (every member's
 * slice satisfied), then asks whether the local slice is satisfied. */
static bool marked_is_quorum(const struct scp *scp, const struct scp__slot *slot,
                             bool ballot, bool *in)
{
    struct vote_set set = {slot, in};
    bool changed = true;
    for (size_t pass = 0; changed && pass <= slot->known_count; pass++) {
        changed = false;
        for (size_t i = 0; i < slot->known_count; i++) {
            const struct scp_qset *q;
            if (!in[i] || !known_statement(slot->known[i], ballot, &q))
                continue;
            if (!scp__slice_satisfied(q, vote_set_member, &set)) {
                in[i] = false;
                changed = true;
            }
        }
    }
    return scp__slice_satisfied(scp->qset, vote_set_member, &set);
}

/* A zeroed mark per entry of M (freed by the caller). */
static bool *marks_new(const struct scp__slot *slot)
{
    return calloc(slot->known_count + 1, sizeof(bool));
}

/* Promises: true when a quorum including a slice of ours satisfies pred
 * (draft: the statement is ratified / confirmed). */
bool scp__federated_ratify(const struct scp *scp, const struct scp__slot *slot,
                           bool ballot, scp__statement_pred pred, const void *arg)
{
    bool *in = marks_new(slot);
    if (in == NULL)
        return false;
    bool result = mark(slot, ballot, in, pred, NULL, arg) > 0 &&
                  marked_is_quorum(scp, slot, ballot, in);
    free(in);
    return result;
}

/* Promises: true when the nodes whose statement satisfy pred are v-blocking
 * for the local quorum set. */
bool scp__vblocking_with(const struct scp *scp, const struct scp__slot *slot,
                         bool ballot, scp__statement_pred pred, const void *arg)
{
    bool *in = marks_new(slot);
    if (in == NULL)
        return false;
    struct vote_set set = {slot, in};
    bool result = mark(slot, ballot, in, pred, NULL, arg) > 0 &&
                  scp__vblocking(scp->qset, vote_set_member, &set);
    free(in);
    return result;
}

/* Promises the draft's accept rule: a v-blocking set accepted, or a quorum
 * voted for or accepted. */
bool scp__federated_accept(const struct scp *scp, const struct scp__slot *slot,
                           bool ballot, scp__statement_pred voted,
                           scp__statement_pred accepted, const void *arg)
{
    if (scp__vblocking_with(scp, slot, ballot, accepted, arg))
        return true;
    bool *in = marks_new(slot);
    if (in == NULL)
        return false;
    bool result = mark(slot, ballot, in, voted, accepted, arg) > 0 &&
                  marked_is_quorum(scp, slot, ballot, in);
    free(in);
    return result;
}

/* ---- validation, signing, sending ---------------------------------------- */

/* The weaker of two verdicts. */
static enum scp_validation weaker(enum scp_validation a, enum scp_validation b)
{
    return a < b ? a : b;
}

/* Promises the weakest verdict of the driver over the statement's values. */
enum scp_validation scp__validate_statement(struct scp *scp, uint64_t slot,
                                            const struct scp_statement *st)
{
    const struct scp_driver *d = &scp->driver;
    enum scp_validation v = SCP_VALUE_VALID;
    switch (st->type) {
    case SCP_STATEMENT_NOMINATE:
        for (uint32_t i = 0; i < st->u.nominate.votes_count; i++)
            v = weaker(v, d->validate_value(d->ctx, slot, &st->u.nominate.votes[i], true));
        for (uint32_t i = 0; i < st->u.nominate.accepted_count; i++)
            v = weaker(v, d->validate_value(d->ctx, slot, &st->u.nominate.accepted[i], true));
        break;
    case SCP_STATEMENT_PREPARE:
        if (st->u.prepare.ballot.counter)
            v = d->validate_value(d->ctx, slot, &st->u.prepare.ballot.value, false);
        if (st->u.prepare.prepared.counter)
            v = weaker(v, d->validate_value(d->ctx, slot, &st->u.prepare.prepared.value, false));
        if (st->u.prepare.prepared_prime.counter)
            v = weaker(v, d->validate_value(d->ctx, slot, &st->u.prepare.prepared_prime.value, false));
        break;
    case SCP_STATEMENT_CONFIRM:
        v = d->validate_value(d->ctx, slot, &st->u.confirm.ballot.value, false);
        break;
    case SCP_STATEMENT_EXTERNALIZE:
        v = d->validate_value(d->ctx, slot, &st->u.externalize.commit.value, false);
        break;
    }
    return v;
}

/* Signs the canonical statement bytes through the driver. */
static int sign_envelope(struct scp *scp, struct scp_envelope *env)
{
    size_t size;
    int rc = scp_statement_encode(&env->statement, scp->scratch, sizeof scp->scratch, &size);
    if (rc)
        return rc;
    if (scp->driver.sign(scp->driver.ctx, scp->scratch, size, env->signature) != 0)
        return SCP_E_DRIVER;
    return 0;
}

/* Promises our new statement is stamped (node, slot, qset hash), signed and
 * processed exactly as one received from a peer, so our own vote counts. */
int scp__self_process(struct scp *scp, struct scp__slot *slot,
                      struct scp_envelope *env)
{
    memcpy(env->statement.node_id, scp->node_id, SCP_NODE_ID_BYTES);
    env->statement.slot = slot->index;
    memcpy(env->statement.qset_hash, scp->qset_hash, SCP_HASH_BYTES);
    /* A PREPARE without a ballot (b.n = 0) records what we accepted before
     * we have a ballot of our own; it is never signed nor sent, so it is
     * exempt from the rule b.n > 0 that peers' statements must follow. */
    bool local_only = env->statement.type == SCP_STATEMENT_PREPARE &&
                      env->statement.u.prepare.ballot.counter == 0;
    int rc = 0;
    if (!local_only) {
        rc = scp_statement_check(&env->statement);
        if (rc == 0)
            rc = sign_envelope(scp, env);
    }
    if (rc)
        return rc;
    if (env->statement.type == SCP_STATEMENT_NOMINATE)
        return scp__nomination_process(scp, slot, env, scp->qset);
    return scp__ballot_process(scp, slot, env, scp->qset);
}

/* Promises: persist (own latest nomination and ballot statements, env among
 * them) returned 0 before env is emitted; otherwise nothing is emitted. */
int scp__send(struct scp *scp, struct scp__slot *slot,
              const struct scp_envelope *env)
{
    const struct scp_envelope *own[2];
    size_t count = 0;
    bool nomination = env->statement.type == SCP_STATEMENT_NOMINATE;
    if (nomination)
        own[count++] = env;
    else if (slot->nom.has_emitted)
        own[count++] = &slot->nom.emitted;
    if (!nomination)
        own[count++] = env;
    else if (slot->bal.has_emitted)
        own[count++] = &slot->bal.emitted;
    if (scp->driver.persist(scp->driver.ctx, slot->index, own, count) != 0)
        return SCP_E_PERSIST;
    scp->driver.emit(scp->driver.ctx, env);
    return 0;
}

/* ---- entry points -------------------------------------------------------- */

/* The sender's quorum set: ours by hash, else the driver's. */
static const struct scp_qset *statement_qset(struct scp *scp,
                                             const struct scp_statement *st)
{
    if (memcmp(st->qset_hash, scp->qset_hash, SCP_HASH_BYTES) == 0)
        return scp->qset;
    return scp->driver.get_qset(scp->driver.ctx, st->qset_hash);
}

/* Checks, verifies and dispatches one envelope from the network. */
static int receive(struct scp *scp, const struct scp_envelope *env)
{
    const struct scp_statement *st = &env->statement;
    int rc = scp_statement_check(st);
    if (rc)
        return rc;
    size_t size;
    rc = scp_statement_encode(st, scp->scratch, sizeof scp->scratch, &size);
    if (rc)
        return rc;
    if (!scp->driver.verify(scp->driver.ctx, st->node_id, scp->scratch, size, env->signature))
        return SCP_E_BAD_SIGNATURE;
    const struct scp_qset *qset = statement_qset(scp, st);
    if (qset == NULL)
        return SCP_E_QSET_UNKNOWN;
    if (scp__id_equal(st->node_id, scp->node_id)) {
        /* A copy of our own statement coming back: never let it move our
         * state (only scp_restore may); it is either known or stale. */
        return SCP_E_OLD_STATEMENT;
    }
    struct scp__slot *slot = scp__slot_get(scp, st->slot, true, &rc);
    if (slot == NULL)
        return rc;
    if (st->type == SCP_STATEMENT_NOMINATE)
        return scp__nomination_process(scp, slot, env, qset);
    return scp__ballot_process(scp, slot, env, qset);
}

/* Promises 0 when the envelope was new and valid and has been taken into
 * account; a negative code (and an ENVELOPE_REJECTED event) otherwise. */
int scp_receive_envelope(struct scp *scp, const struct scp_envelope *envelope)
{
    if (scp == NULL || envelope == NULL)
        return SCP_E_INVALID_ARGUMENT;
    int rc = receive(scp, envelope);
    if (rc && rc != SCP_E_OLD_STATEMENT && scp->driver.event) {
        struct scp_event ev = {.type = SCP_EVENT_ENVELOPE_REJECTED,
                               .slot = envelope->statement.slot, .error = rc};
        scp->driver.event(scp->driver.ctx, &ev);
    }
    return rc;
}

/* Promises nomination (re)started for the slot with this proposal. */
int scp_nominate(struct scp *scp, uint64_t slot_index, const struct scp_value *value,
                 const struct scp_value *previous)
{
    if (scp == NULL || value == NULL || previous == NULL || value->size == 0 ||
        value->size > SCP_VALUE_BYTES_MAX || previous->size > SCP_VALUE_BYTES_MAX)
        return SCP_E_INVALID_ARGUMENT;
    int rc = 0;
    struct scp__slot *slot = scp__slot_get(scp, slot_index, true, &rc);
    if (slot == NULL)
        return rc;
    return scp__nominate(scp, slot, value, previous, false);
}

/* Promises the timer's protocol step ran; stale timers do nothing. */
int scp_timer_fired(struct scp *scp, uint64_t slot_index, enum scp_timer timer)
{
    if (scp == NULL)
        return SCP_E_INVALID_ARGUMENT;
    struct scp__slot *slot = scp__slot_get(scp, slot_index, false, NULL);
    if (slot == NULL)
        return 0;
    if (timer == SCP_TIMER_NOMINATION) {
        if (!slot->nom.has_proposal)
            return 0;
        struct scp_value *again = malloc(2 * sizeof *again);
        if (again == NULL)
            return SCP_E_NO_MEMORY;
        again[0] = slot->nom.proposal;
        again[1] = slot->nom.previous;
        int rc = scp__nominate(scp, slot, &again[0], &again[1], true);
        free(again);
        return rc;
    }
    if (timer == SCP_TIMER_BALLOT)
        return scp__ballot_timer_fired(scp, slot);
    return SCP_E_INVALID_ARGUMENT;
}

/* Promises the slot's own state set from a persisted statement of ours. */
int scp_restore(struct scp *scp, const struct scp_envelope *own)
{
    if (scp == NULL || own == NULL || !scp__id_equal(own->statement.node_id, scp->node_id))
        return SCP_E_INVALID_ARGUMENT;
    int rc = scp_statement_check(&own->statement);
    if (rc)
        return rc;
    struct scp__slot *slot = scp__slot_get(scp, own->statement.slot, true, &rc);
    if (slot == NULL)
        return rc;
    if (own->statement.type == SCP_STATEMENT_NOMINATE)
        return scp__nomination_restore(scp, slot, own);
    return scp__ballot_restore(scp, slot, own);
}

/* Promises pointers (valid until the next call into scp) to the latest
 * statements of every node for the slot, ballots first. */
size_t scp_latest_envelopes(const struct scp *scp, uint64_t slot_index,
                            const struct scp_envelope **out, size_t capacity)
{
    struct scp__slot *slot = scp__slot_get((struct scp *)scp, slot_index, false, NULL);
    size_t n = 0;
    if (slot == NULL)
        return 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < slot->known_count && n < capacity; i++) {
            const struct scp__known *k = slot->known[i];
            bool self = scp__id_equal(k->node_id, scp->node_id);
            if (pass == 0 && k->has_ballot)
                out[n++] = self ? (slot->bal.has_emitted ? &slot->bal.emitted : NULL) : &k->ballot;
            if (pass == 1 && k->has_nomination)
                out[n++] = self ? (slot->nom.has_emitted ? &slot->nom.emitted : NULL) : &k->nomination;
            if (n && out[n - 1] == NULL)
                n--;
        }
    return n;
}

/* Promises pointers to what we emitted last for the slot (0..2). */
size_t scp_own_envelopes(const struct scp *scp, uint64_t slot_index,
                         const struct scp_envelope **out, size_t capacity)
{
    struct scp__slot *slot = scp__slot_get((struct scp *)scp, slot_index, false, NULL);
    size_t n = 0;
    if (slot && slot->bal.has_emitted && n < capacity)
        out[n++] = &slot->bal.emitted;
    if (slot && slot->nom.has_emitted && n < capacity)
        out[n++] = &slot->nom.emitted;
    return n;
}

/* Promises true once the slot was externalized, with its value. */
bool scp_externalized_value(const struct scp *scp, uint64_t slot_index,
                            struct scp_value *value_out)
{
    struct scp__slot *slot = scp__slot_get((struct scp *)scp, slot_index, false, NULL);
    if (slot == NULL || !slot->externalized)
        return false;
    if (value_out)
        *value_out = slot->externalized_value;
    return true;
}
