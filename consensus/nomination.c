/*
 * nomination.c — the nomination protocol (draft-mazieres-dinrg-scp § 3.4,
 * "Nomination"): round leaders chosen by hash priority among the nodes of
 * the local quorum set, votes X, accepted Y and candidates Z grown by
 * federated voting, round timeouts that grow, and the composite candidate
 * handed to the ballot protocol (ballot.c) through the driver's
 * combine_candidates.  Read slot.c first.
 */
#include <stdlib.h>

#include "scp_internal.h"

/* Hash tags of the draft: N for neighborhood, P for priority, K for value. */
enum { HASH_NEIGHBOR = 1, HASH_PRIORITY = 2, HASH_VALUE = 3 };

/* ---- sorted value sets ---------------------------------------------------- */

/* True when v is in the set. */
static bool set_contains(const struct scp_value *set, uint32_t count,
                         const struct scp_value *v)
{
    for (uint32_t i = 0; i < count; i++)
        if (scp_value_compare(&set[i], v) == 0)
            return true;
    return false;
}

/* Inserts v keeping the set ascending; false when present or full (a full
 * set keeps its values: SCP_NOMINATE_VALUES_MAX, spec § Limits). */
static bool set_insert(struct scp_value *set, uint32_t *count, const struct scp_value *v)
{
    if (*count >= SCP_NOMINATE_VALUES_MAX || set_contains(set, *count, v))
        return false;
    uint32_t at = 0;
    while (at < *count && scp_value_compare(&set[at], v) < 0)
        at++;
    memmove(&set[at + 1], &set[at], (*count - at) * sizeof *set);
    set[at] = *v;
    (*count)++;
    return true;
}

/* True when every value of a is in b. */
static bool is_subset(const struct scp_value *a, uint32_t a_count,
                      const struct scp_value *b, uint32_t b_count)
{
    for (uint32_t i = 0; i < a_count; i++)
        if (!set_contains(b, b_count, &a[i]))
            return false;
    return true;
}

/* Promises the draft's order: newer holds all of older's votes and accepted
 * values, and strictly more of one of them. */
bool scp__nomination_newer(const struct scp_nominate *older,
                           const struct scp_nominate *newer)
{
    if (!is_subset(older->votes, older->votes_count, newer->votes, newer->votes_count) ||
        !is_subset(older->accepted, older->accepted_count, newer->accepted, newer->accepted_count))
        return false;
    return newer->votes_count > older->votes_count ||
           newer->accepted_count > older->accepted_count;
}

/* ---- leader selection (draft § 3.4, "Gi") --------------------------------- */

/* Promises the first 8 bytes (big-endian) of H(slot || previous || tag ||
 * round || data). */
static uint64_t hash_u64(struct scp *scp, const struct scp__slot *slot, uint32_t tag,
                         uint32_t round, const uint8_t *data, size_t size)
{
    uint8_t *buffer = scp->scratch;
    size_t n = 0;
    for (int i = 7; i >= 0; i--)
        buffer[n++] = (uint8_t)(slot->index >> (i * 8));
    memcpy(buffer + n, slot->nom.previous.bytes, slot->nom.previous.size);
    n += slot->nom.previous.size;
    for (int i = 3; i >= 0; i--)
        buffer[n++] = (uint8_t)(tag >> (i * 8));
    for (int i = 3; i >= 0; i--)
        buffer[n++] = (uint8_t)(round >> (i * 8));
    memcpy(buffer + n, data, size);
    n += size;
    uint8_t digest[SCP_HASH_BYTES];
    scp->driver.hash(scp->driver.ctx, buffer, n, digest);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | digest[i];
    return v;
}

/* Promises the node's priority in this round: 0 unless it is a neighbor
 * (H(N, round, node) <= weight), else H(P, round, node). */
static uint64_t node_priority(struct scp *scp, const struct scp__slot *slot,
                              const uint8_t id[SCP_NODE_ID_BYTES])
{
    uint64_t w = scp__id_equal(id, scp->node_id) ? UINT64_MAX
                                                 : scp_qset_node_weight(scp->qset, id);
    uint32_t round = slot->nom.round;
    if (w == 0 || hash_u64(scp, slot, HASH_NEIGHBOR, round, id, SCP_NODE_ID_BYTES) > w)
        return 0;
    return hash_u64(scp, slot, HASH_PRIORITY, round, id, SCP_NODE_ID_BYTES);
}

struct leader_search {
    struct scp *scp;
    const struct scp__slot *slot;
    uint64_t top;
    const uint8_t *best;
};

/* Keeps the node if its priority beats the best so far. */
static void consider(struct leader_search *s, const uint8_t id[SCP_NODE_ID_BYTES])
{
    uint64_t p = node_priority(s->scp, s->slot, id);
    if (p > s->top || (p == s->top && p && s->best &&
                       memcmp(id, s->best, SCP_NODE_ID_BYTES) < 0)) {
        s->top = p;
        s->best = id;
    }
}

/* Considers every node of a quorum set, nested sets included. */
static void consider_qset(struct leader_search *s, const struct scp_qset *q)
{
    for (uint32_t i = 0; i < q->validators_count; i++)
        consider(s, q->validators[i]);
    for (uint32_t i = 0; i < q->inner_count; i++)
        consider_qset(s, &q->inner[i]);
}

/* True when id is among the slot's round leaders. */
static bool is_leader(const struct scp__nomination *nom, const uint8_t *id)
{
    for (uint32_t i = 0; i < nom->leaders_count; i++)
        if (scp__id_equal(nom->leaders[i], id))
            return true;
    return false;
}

/* Promises this round's leader (highest priority, ties to the lower id)
 * added to the slot's leaders, which accumulate over rounds. */
static void update_round_leaders(struct scp *scp, struct scp__slot *slot)
{
    struct leader_search s = {scp, slot, 0, NULL};
    consider(&s, scp->node_id);
    consider_qset(&s, scp->qset);
    struct scp__nomination *nom = &slot->nom;
    if (s.best && !is_leader(nom, s.best) && nom->leaders_count < SCP_NOMINATION_LEADERS_MAX)
        memcpy(nom->leaders[nom->leaders_count++], s.best, SCP_NODE_ID_BYTES);
}

/* ---- votes ------------------------------------------------------------------ */

/* Promises the valid value of the leader's statement we do not vote for yet
 * with the highest H(K, round, value), from its votes, else its accepted. */
static bool new_value_from(struct scp *scp, struct scp__slot *slot,
                           const struct scp_nominate *n, struct scp_value *out)
{
    for (int list = 0; list < 2; list++) {
        const struct scp_value *values = list == 0 ? n->votes : n->accepted;
        uint32_t count = list == 0 ? n->votes_count : n->accepted_count;
        bool found = false;
        uint64_t best = 0;
        for (uint32_t i = 0; i < count; i++) {
            if (set_contains(slot->nom.votes, slot->nom.votes_count, &values[i]) ||
                scp->driver.validate_value(scp->driver.ctx, slot->index, &values[i], true) != SCP_VALUE_VALID)
                continue;
            uint64_t h = hash_u64(scp, slot, HASH_VALUE, slot->nom.round,
                                  values[i].bytes, values[i].size);
            if (!found || h >= best) {
                best = h;
                *out = values[i];
                found = true;
            }
        }
        if (found)
            return true;
    }
    return false;
}

/* Promises our current votes and accepted values sent when they grew:
 * processed as our own statement first, persisted, then emitted. */
static int emit_nomination(struct scp *scp, struct scp__slot *slot)
{
    struct scp__nomination *nom = &slot->nom;
    struct scp_envelope *env = calloc(1, sizeof *env);
    if (env == NULL)
        return SCP_E_NO_MEMORY;
    env->statement.type = SCP_STATEMENT_NOMINATE;
    struct scp_nominate *n = &env->statement.u.nominate;
    n->votes_count = nom->votes_count;
    memcpy(n->votes, nom->votes, nom->votes_count * sizeof *n->votes);
    n->accepted_count = nom->accepted_count;
    memcpy(n->accepted, nom->accepted, nom->accepted_count * sizeof *n->accepted);
    int rc = 0;
    if (!nom->has_last || scp__nomination_newer(&nom->last.statement.u.nominate, n)) {
        rc = scp__self_process(scp, slot, env);
        if (rc == SCP_E_OLD_STATEMENT)
            rc = 0;
        else if (rc == 0 && (!nom->has_last ||
                             scp__nomination_newer(&nom->last.statement.u.nominate, n))) {
            nom->last = *env;
            nom->has_last = true;
            if (slot->fully_validated) {
                rc = scp__send(scp, slot, env);
                if (rc == 0) {
                    nom->emitted = *env;
                    nom->has_emitted = true;
                }
            }
        }
    }
    free(env);
    return rc;
}

/* Promises the leaders' values (our own proposal when we lead) added to
 * our votes; true when votes changed. */
static bool vote_for_leaders(struct scp *scp, struct scp__slot *slot,
                             const struct scp_value *value)
{
    struct scp__nomination *nom = &slot->nom;
    bool updated = false;
    for (uint32_t i = 0; i < nom->leaders_count; i++) {
        if (scp__id_equal(nom->leaders[i], scp->node_id)) {
            if (scp->driver.validate_value(scp->driver.ctx, slot->index, value, true) == SCP_VALUE_VALID &&
                set_insert(nom->votes, &nom->votes_count, value)) {
                scp__event(scp, SCP_EVENT_NOMINATING_VALUE, slot->index, 0, value);
                updated = true;
            }
            continue;
        }
        const struct scp__known *k = scp__known_find(slot, nom->leaders[i]);
        struct scp_value *v = malloc(sizeof *v);
        if (k && k->has_nomination && v &&
            new_value_from(scp, slot, &k->nomination.statement.u.nominate, v) &&
            set_insert(nom->votes, &nom->votes_count, v)) {
            scp__event(scp, SCP_EVENT_NOMINATING_VALUE, slot->index, 0, v);
            updated = true;
        }
        free(v);
    }
    return updated;
}

/* Draft § 3.4: starts a round — round number up, leaders updated, their
 * values voted for, timer armed for the next round (timeouts grow). */
int scp__nominate(struct scp *scp, struct scp__slot *slot,
                  const struct scp_value *value,
                  const struct scp_value *previous, bool timed_out)
{
    struct scp__nomination *nom = &slot->nom;
    if (nom->candidates_count > 0 || slot->bal.phase == SCP__EXTERNALIZE)
        return 0;
    if (timed_out && !nom->started)
        return 0;
    nom->started = true;
    nom->proposal = *value;
    nom->has_proposal = true;
    nom->previous = *previous;
    if (nom->round < UINT32_MAX)
        nom->round++;
    update_round_leaders(scp, slot);
    int rc = 0;
    if (vote_for_leaders(scp, slot, value))
        rc = emit_nomination(scp, slot);
    if (nom->candidates_count == 0)
        scp->driver.set_timer(scp->driver.ctx, slot->index, SCP_TIMER_NOMINATION,
                              scp__timeout(scp, SCP_TIMER_NOMINATION, nom->round));
    return rc;
}

/* Promises the nomination timer disarmed (candidates found or decided). */
void scp__nomination_stop(struct scp *scp, struct scp__slot *slot)
{
    slot->nom.has_proposal = false;
    scp->driver.cancel_timer(scp->driver.ctx, slot->index, SCP_TIMER_NOMINATION);
}

/* ---- federated voting on nominations (draft § 3.4) ------------------------ */

/* Federated-voting predicate: the NOMINATE votes for arg. */
static bool nom_voted(const struct scp_statement *st, const void *arg)
{
    return set_contains(st->u.nominate.votes, st->u.nominate.votes_count, arg);
}

/* Federated-voting predicate: the NOMINATE accepted arg. */
static bool nom_accepted(const struct scp_statement *st, const void *arg)
{
    return set_contains(st->u.nominate.accepted, st->u.nominate.accepted_count, arg);
}

/* Promises every value of the statement that federated voting now lets us
 * accept moved into our accepted set (and votes); true when any did. */
static bool accept_values(struct scp *scp, struct scp__slot *slot,
                          const struct scp_nominate *n)
{
    struct scp__nomination *nom = &slot->nom;
    bool modified = false;
    for (int list = 0; list < 2; list++) {
        const struct scp_value *values = list == 0 ? n->votes : n->accepted;
        uint32_t count = list == 0 ? n->votes_count : n->accepted_count;
        for (uint32_t i = 0; i < count; i++) {
            const struct scp_value *v = &values[i];
            if (set_contains(nom->accepted, nom->accepted_count, v) ||
                !scp__federated_accept(scp, slot, false, nom_voted, nom_accepted, v))
                continue;
            if (scp->driver.validate_value(scp->driver.ctx, slot->index, v, true) != SCP_VALUE_VALID)
                continue;
            if (set_insert(nom->accepted, &nom->accepted_count, v)) {
                set_insert(nom->votes, &nom->votes_count, v);
                modified = true;
            }
        }
    }
    return modified;
}

/* Promises accepted values a quorum accepted moved into the candidates;
 * true when a candidate was added (nomination then stops its rounds). */
static bool confirm_candidates(struct scp *scp, struct scp__slot *slot)
{
    struct scp__nomination *nom = &slot->nom;
    bool added = false;
    for (uint32_t i = 0; i < nom->accepted_count; i++) {
        const struct scp_value *a = &nom->accepted[i];
        if (set_contains(nom->candidates, nom->candidates_count, a) ||
            !scp__federated_ratify(scp, slot, false, nom_accepted, a))
            continue;
        if (set_insert(nom->candidates, &nom->candidates_count, a))
            added = true;
    }
    if (added)
        scp__nomination_stop(scp, slot);
    return added;
}

/* Promises the composite of the candidates computed and offered to the
 * ballot protocol (which starts a ballot only if it has none yet). */
static int update_composite(struct scp *scp, struct scp__slot *slot)
{
    struct scp__nomination *nom = &slot->nom;
    struct scp_value *composite = malloc(sizeof *composite);
    if (composite == NULL)
        return SCP_E_NO_MEMORY;
    int rc = scp->driver.combine_candidates(scp->driver.ctx, slot->index, nom->candidates,
                                            nom->candidates_count, composite);
    if (rc != 0 || composite->size == 0 || composite->size > SCP_VALUE_BYTES_MAX) {
        free(composite);
        return SCP_E_DRIVER;
    }
    nom->composite = *composite;
    nom->has_composite = true;
    free(composite);
    scp__event(scp, SCP_EVENT_CANDIDATE_UPDATED, slot->index, 0, &nom->composite);
    scp__ballot_bump(scp, slot, &nom->composite, false);
    return 0;
}

/* Draft § 3.4: records a NOMINATE statement; once we nominate, accepts
 * values, confirms candidates, echoes round leaders while no candidate. */
int scp__nomination_process(struct scp *scp, struct scp__slot *slot,
                            const struct scp_envelope *env,
                            const struct scp_qset *qset)
{
    const struct scp_statement *st = &env->statement;
    const struct scp__known *k = scp__known_find(slot, st->node_id);
    if (k && k->has_nomination &&
        !scp__nomination_newer(&k->nomination.statement.u.nominate, &st->u.nominate))
        return SCP_E_OLD_STATEMENT;
    if (scp__validate_statement(scp, slot->index, st) == SCP_VALUE_INVALID)
        return SCP_E_INVALID_VALUE;
    int rc = scp__record(slot, env, qset);
    if (rc || !slot->nom.started)
        return rc;
    struct scp__nomination *nom = &slot->nom;
    bool modified = accept_values(scp, slot, &st->u.nominate);
    bool new_candidates = confirm_candidates(scp, slot);
    if (nom->candidates_count == 0 && is_leader(nom, st->node_id)) {
        struct scp_value *v = malloc(sizeof *v);
        if (v && new_value_from(scp, slot, &st->u.nominate, v) &&
            set_insert(nom->votes, &nom->votes_count, v)) {
            scp__event(scp, SCP_EVENT_NOMINATING_VALUE, slot->index, 0, v);
            modified = true;
        }
        free(v);
    }
    if (modified)
        rc = emit_nomination(scp, slot);
    if (new_candidates && rc == 0)
        rc = update_composite(scp, slot);
    return rc;
}

/* Promises our votes and accepted values restored from our own persisted
 * statement, so later statements only grow them. */
int scp__nomination_restore(struct scp *scp, struct scp__slot *slot,
                            const struct scp_envelope *env)
{
    struct scp__nomination *nom = &slot->nom;
    const struct scp_nominate *n = &env->statement.u.nominate;
    if (nom->has_last)
        return SCP_E_STATE;
    int rc = scp__record(slot, env, scp->qset);
    if (rc)
        return rc;
    nom->votes_count = n->votes_count;
    memcpy(nom->votes, n->votes, n->votes_count * sizeof *n->votes);
    nom->accepted_count = n->accepted_count;
    memcpy(nom->accepted, n->accepted, n->accepted_count * sizeof *n->accepted);
    nom->last = *env;
    nom->has_last = true;
    nom->emitted = *env;
    nom->has_emitted = true;
    return 0;
}
