/*
 * ballot.c — the ballot protocol (draft-mazieres-dinrg-scp § 3.5): the
 * state <phase, b, p, p', h, c, z> of one slot, the PREPARE / CONFIRM /
 * EXTERNALIZE statements built from it, and the steps that move it:
 * accept prepared, confirm prepared, accept commit, confirm commit (then
 * externalize), bump on a v-blocking set of higher counters, and the
 * ballot timer armed once a quorum is heard at the current counter.
 *
 * The order of the steps in advance() and their conditions follow the draft
 * and stellar-core's BallotProtocol (read, not copied).  Read slot.c and
 * nomination.c first; spec/consensus.md lists every deviation.
 */
#include <stdlib.h>

#include "scp_internal.h"

/* ---- ballot relations (draft § 3.5: "compatible", "less and ...") ---------- */

/* Draft: ballots are compatible when their values are equal. */
static bool compatible(const struct scp_ballot *a, const struct scp_ballot *b)
{
    return scp_value_compare(&a->value, &b->value) == 0;
}

/* a <= b and compatible (draft: "a ≲ b"). */
static bool less_and_compatible(const struct scp_ballot *a, const struct scp_ballot *b)
{
    return scp_ballot_compare(a, b) <= 0 && compatible(a, b);
}

/* a <= b and incompatible (draft: "a ⋦ b"). */
static bool less_and_incompatible(const struct scp_ballot *a, const struct scp_ballot *b)
{
    return scp_ballot_compare(a, b) <= 0 && !compatible(a, b);
}

/* Sets out = <counter, *v>. */
static void ballot_set(struct scp_ballot *out, uint32_t counter, const struct scp_value *v)
{
    out->counter = counter;
    out->value = *v;
}

/* Promises the ballot the statement is working on: b, or <∞, c.x>. */
void scp__working_ballot(const struct scp_statement *st, struct scp_ballot *out)
{
    switch (st->type) {
    case SCP_STATEMENT_PREPARE:
        *out = st->u.prepare.ballot;
        break;
    case SCP_STATEMENT_CONFIRM:
        *out = st->u.confirm.ballot;
        break;
    default:
        ballot_set(out, SCP_COUNTER_INFINITY, &st->u.externalize.commit.value);
        break;
    }
}

/* Promises the draft's order of ballot statements: by type (PREPARE <
 * CONFIRM < EXTERNALIZE), then b, p, p', h for PREPARE and b, p.n, h.n for
 * CONFIRM; an EXTERNALIZE is never superseded. */
bool scp__ballot_newer(const struct scp_statement *older,
                       const struct scp_statement *newer)
{
    if (older->type != newer->type)
        return newer->type > older->type;
    if (newer->type == SCP_STATEMENT_EXTERNALIZE)
        return false;
    if (newer->type == SCP_STATEMENT_CONFIRM) {
        const struct scp_confirm *o = &older->u.confirm, *n = &newer->u.confirm;
        int c = scp_ballot_compare(&o->ballot, &n->ballot);
        if (c)
            return c < 0;
        if (o->prepared_counter != n->prepared_counter)
            return o->prepared_counter < n->prepared_counter;
        return o->high_counter < n->high_counter;
    }
    const struct scp_prepare *o = &older->u.prepare, *n = &newer->u.prepare;
    int c = scp_ballot_compare(&o->ballot, &n->ballot);
    if (c == 0)
        c = scp_ballot_compare(&o->prepared, &n->prepared);
    if (c == 0)
        c = scp_ballot_compare(&o->prepared_prime, &n->prepared_prime);
    if (c)
        return c < 0;
    return o->high_counter < n->high_counter;
}

/* True when two ballot statements say the same thing (every field). */
static bool statements_equal(const struct scp_statement *a, const struct scp_statement *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case SCP_STATEMENT_PREPARE:
        return !scp__ballot_newer(a, b) && !scp__ballot_newer(b, a) &&
               a->u.prepare.commit_counter == b->u.prepare.commit_counter;
    case SCP_STATEMENT_CONFIRM:
        return !scp__ballot_newer(a, b) && !scp__ballot_newer(b, a) &&
               a->u.confirm.commit_counter == b->u.confirm.commit_counter;
    case SCP_STATEMENT_EXTERNALIZE:
        return scp_ballot_compare(&a->u.externalize.commit, &b->u.externalize.commit) == 0 &&
               a->u.externalize.high_counter == b->u.externalize.high_counter;
    default:
        return false;
    }
}

/* ---- statement predicates for federated voting ----------------------------- */

/* Votes prepare(ballot): draft § 3.5, a PREPARE votes for every ballot below
 * and compatible with its b; CONFIRM and EXTERNALIZE for every compatible. */
static bool voted_prepared(const struct scp_statement *st, const void *arg)
{
    const struct scp_ballot *ballot = arg;
    switch (st->type) {
    case SCP_STATEMENT_PREPARE:
        return less_and_compatible(ballot, &st->u.prepare.ballot);
    case SCP_STATEMENT_CONFIRM:
        return compatible(ballot, &st->u.confirm.ballot);
    default:
        return compatible(ballot, &st->u.externalize.commit);
    }
}

/* Accepted prepare(ballot): below and compatible with p or p'; CONFIRM
 * accepted <p.n, b.x>; EXTERNALIZE accepted everything compatible. */
static bool accepted_prepared(const struct scp_statement *st, const void *arg)
{
    const struct scp_ballot *ballot = arg;
    switch (st->type) {
    case SCP_STATEMENT_PREPARE: {
        const struct scp_prepare *p = &st->u.prepare;
        return (p->prepared.counter && less_and_compatible(ballot, &p->prepared)) ||
               (p->prepared_prime.counter && less_and_compatible(ballot, &p->prepared_prime));
    }
    case SCP_STATEMENT_CONFIRM: {
        struct scp_ballot prepared;
        ballot_set(&prepared, st->u.confirm.prepared_counter, &st->u.confirm.ballot.value);
        return less_and_compatible(ballot, &prepared);
    }
    default:
        return compatible(ballot, &st->u.externalize.commit);
    }
}

/* commit(<n, x>) for every n in [low, high]. */
struct commit_range {
    uint32_t low, high;
    const struct scp_value *value;
};

/* True when the values are byte-for-byte equal. */
static bool same_value(const struct scp_value *a, const struct scp_value *b)
{
    return scp_value_compare(a, b) == 0;
}

/* Voted commit: PREPARE with c.n <= low, high <= h.n; CONFIRM with c.n <=
 * low; EXTERNALIZE with c.n <= low (all of the same value). */
static bool voted_commit(const struct scp_statement *st, const void *arg)
{
    const struct commit_range *r = arg;
    switch (st->type) {
    case SCP_STATEMENT_PREPARE: {
        const struct scp_prepare *p = &st->u.prepare;
        return same_value(&p->ballot.value, r->value) && p->commit_counter != 0 &&
               p->commit_counter <= r->low && r->high <= p->high_counter;
    }
    case SCP_STATEMENT_CONFIRM:
        return same_value(&st->u.confirm.ballot.value, r->value) &&
               st->u.confirm.commit_counter <= r->low;
    default:
        return same_value(&st->u.externalize.commit.value, r->value) &&
               st->u.externalize.commit.counter <= r->low;
    }
}

/* Accepted commit: CONFIRM with c.n <= low, high <= h.n; EXTERNALIZE with
 * c.n <= low; a PREPARE accepts no commit. */
static bool accepted_commit(const struct scp_statement *st, const void *arg)
{
    const struct commit_range *r = arg;
    switch (st->type) {
    case SCP_STATEMENT_CONFIRM:
        return same_value(&st->u.confirm.ballot.value, r->value) &&
               st->u.confirm.commit_counter <= r->low &&
               r->high <= st->u.confirm.high_counter;
    case SCP_STATEMENT_EXTERNALIZE:
        return same_value(&st->u.externalize.commit.value, r->value) &&
               st->u.externalize.commit.counter <= r->low;
    default:
        return false;
    }
}

/* Counter of the statement's working ballot, ∞ for EXTERNALIZE. */
struct counter_bound {
    uint32_t counter;
};

/* True when the statement works on a counter above arg's (∞ for EXTERNALIZE). */
static bool counter_above(const struct scp_statement *st, const void *arg)
{
    struct scp_ballot b;
    scp__working_ballot(st, &b);
    return b.counter > ((const struct counter_bound *)arg)->counter;
}

/* Heard at the current counter: PREPARE with b.n >= ours, or later phases. */
static bool counter_at_least(const struct scp_statement *st, const void *arg)
{
    if (st->type != SCP_STATEMENT_PREPARE)
        return true;
    return st->u.prepare.ballot.counter >= ((const struct counter_bound *)arg)->counter;
}

/* ---- candidate ballots and commit boundaries ------------------------------- */

/* qsort order: highest ballot first. */
static int ballot_desc(const void *a, const void *b)
{
    return scp_ballot_compare(b, a);
}

/* Promises every ballot named in M (b, p, p' of PREPARE; <p.n, x> and <∞, x>
 * of CONFIRM; <∞, x> of EXTERNALIZE), descending, without duplicates; the
 * caller frees *out. */
static size_t prepare_candidates(const struct scp__slot *slot, struct scp_ballot **out)
{
    struct scp_ballot *c = malloc((slot->known_count * 3 + 1) * sizeof *c);
    size_t n = 0;
    *out = c;
    if (c == NULL)
        return 0;
    for (size_t i = 0; i < slot->known_count; i++) {
        const struct scp__known *k = slot->known[i];
        if (!k->has_ballot)
            continue;
        const struct scp_statement *st = &k->ballot.statement;
        if (st->type == SCP_STATEMENT_PREPARE) {
            if (st->u.prepare.ballot.counter)
                c[n++] = st->u.prepare.ballot;
            if (st->u.prepare.prepared.counter)
                c[n++] = st->u.prepare.prepared;
            if (st->u.prepare.prepared_prime.counter)
                c[n++] = st->u.prepare.prepared_prime;
        } else if (st->type == SCP_STATEMENT_CONFIRM) {
            if (st->u.confirm.prepared_counter)
                ballot_set(&c[n++], st->u.confirm.prepared_counter, &st->u.confirm.ballot.value);
            ballot_set(&c[n++], SCP_COUNTER_INFINITY, &st->u.confirm.ballot.value);
        } else {
            ballot_set(&c[n++], SCP_COUNTER_INFINITY, &st->u.externalize.commit.value);
        }
    }
    qsort(c, n, sizeof *c, ballot_desc);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || scp_ballot_compare(&c[unique - 1], &c[i]) != 0)
            c[unique++] = c[i];
    return unique;
}

/* qsort order: ascending counters. */
static int u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Promises the counters at which commit votes for `value` start or end in
 * M (c.n, h.n, and ∞ for EXTERNALIZE), ascending and unique. */
static size_t commit_boundaries(const struct scp__slot *slot,
                                const struct scp_value *value, uint32_t **out)
{
    uint32_t *b = malloc((slot->known_count * 3 + 1) * sizeof *b);
    size_t n = 0;
    *out = b;
    if (b == NULL)
        return 0;
    for (size_t i = 0; i < slot->known_count; i++) {
        const struct scp__known *k = slot->known[i];
        if (!k->has_ballot)
            continue;
        const struct scp_statement *st = &k->ballot.statement;
        if (st->type == SCP_STATEMENT_PREPARE) {
            if (same_value(&st->u.prepare.ballot.value, value) && st->u.prepare.commit_counter) {
                b[n++] = st->u.prepare.commit_counter;
                b[n++] = st->u.prepare.high_counter;
            }
        } else if (st->type == SCP_STATEMENT_CONFIRM) {
            if (same_value(&st->u.confirm.ballot.value, value)) {
                b[n++] = st->u.confirm.commit_counter;
                b[n++] = st->u.confirm.high_counter;
            }
        } else if (same_value(&st->u.externalize.commit.value, value)) {
            b[n++] = st->u.externalize.commit.counter;
            b[n++] = st->u.externalize.high_counter;
            b[n++] = SCP_COUNTER_INFINITY;
        }
    }
    qsort(b, n, sizeof *b, u32_asc);
    size_t unique = 0;
    for (size_t i = 0; i < n; i++)
        if (unique == 0 || b[unique - 1] != b[i])
            b[unique++] = b[i];
    return unique;
}

typedef bool (*range_test)(struct scp *scp, const struct scp__slot *slot,
                           const struct commit_range *r);

/* Promises the widest [low, high] (boundaries from the top down) for which
 * `test` holds: first the highest single boundary that passes, then
 * extended downwards while it keeps passing.  low is 0 if none passes. */
static void extended_interval(struct scp *scp, const struct scp__slot *slot,
                              const uint32_t *bounds, size_t count, range_test test,
                              struct commit_range *r)
{
    struct commit_range cur = *r;
    r->low = r->high = 0;
    for (size_t i = count; i-- > 0;) {
        if (bounds[i] == 0)
            continue;
        if (r->low == 0) {
            cur.low = cur.high = bounds[i];
        } else if (bounds[i] > r->high) {
            continue;
        } else {
            cur.low = bounds[i];
            cur.high = r->high;
        }
        if (test(scp, slot, &cur)) {
            r->low = cur.low;
            r->high = cur.high;
        } else if (r->low != 0) {
            break;
        }
    }
}

/* Accept commit of the range (federated accept). */
static bool commit_acceptable(struct scp *scp, const struct scp__slot *slot,
                              const struct commit_range *r)
{
    return scp__federated_accept(scp, slot, true, voted_commit, accepted_commit, r);
}

/* Confirm commit of the range (a quorum accepted it). */
static bool commit_confirmable(struct scp *scp, const struct scp__slot *slot,
                               const struct commit_range *r)
{
    return scp__federated_ratify(scp, slot, true, accepted_commit, r);
}

/* ---- state updates ----------------------------------------------------------- */

static int emit_current_state(struct scp *scp, struct scp__slot *slot);

/* Promises b = ballot; h and c dropped when incompatible with the new b
 * (invariant: h.x = b.x); a new counter means we have not heard from a
 * quorum at it yet. */
static void bump_to_ballot(struct scp *scp, struct scp__slot *slot,
                           const struct scp_ballot *ballot)
{
    struct scp__ballot *bal = &slot->bal;
    bool got_bumped = bal->b.counter == 0 || bal->b.counter != ballot->counter;
    bal->b = *ballot;
    if (bal->h.counter && !compatible(&bal->b, &bal->h)) {
        bal->h.counter = 0;
        bal->c.counter = 0;
    }
    if (got_bumped) {
        bal->heard_from_quorum = false;
        scp__event(scp, SCP_EVENT_BALLOT_BUMPED, slot->index, ballot->counter, &ballot->value);
    }
}

/* Draft § 3.5 step 8: if b < h, move b up to h. */
static bool update_current_if_needed(struct scp *scp, struct scp__slot *slot,
                                     const struct scp_ballot *h)
{
    if (slot->bal.b.counter == 0 || scp_ballot_compare(&slot->bal.b, h) < 0) {
        bump_to_ballot(scp, slot, h);
        return true;
    }
    return false;
}

/* Promises b moved up to `ballot` when allowed: never down, never to a value
 * incompatible with a commit we voted or accepted. */
static bool update_current_value(struct scp *scp, struct scp__slot *slot,
                                 const struct scp_ballot *ballot)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->phase == SCP__EXTERNALIZE)
        return false;
    if (bal->b.counter == 0) {
        bump_to_ballot(scp, slot, ballot);
        return true;
    }
    if (bal->c.counter && !compatible(&bal->c, ballot))
        return false;
    if (scp_ballot_compare(&bal->b, ballot) < 0) {
        bump_to_ballot(scp, slot, ballot);
        return true;
    }
    return false;
}

static void check_heard_from_quorum(struct scp *scp, struct scp__slot *slot);

/* Draft § 3.5: move to ballot <n, z or value> and announce it. */
static bool bump_state_to(struct scp *scp, struct scp__slot *slot,
                          const struct scp_value *value, uint32_t n)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->phase == SCP__EXTERNALIZE)
        return false;
    struct scp_ballot *next = malloc(sizeof *next);
    if (next == NULL)
        return false;
    ballot_set(next, n, bal->has_override ? &bal->value_override : value);
    bool updated = update_current_value(scp, slot, next);
    free(next);
    if (updated) {
        emit_current_state(scp, slot);
        check_heard_from_quorum(scp, slot);
    }
    return updated;
}

/* Promises a new ballot with `value` (the composite candidate): counter 1
 * when there is none, b.n + 1 when force. */
bool scp__ballot_bump(struct scp *scp, struct scp__slot *slot,
                      const struct scp_value *value, bool force)
{
    if (!force && slot->bal.b.counter)
        return false;
    uint32_t n = slot->bal.b.counter ? slot->bal.b.counter + 1 : 1;
    if (n == SCP_COUNTER_INFINITY)
        return false;
    return bump_state_to(scp, slot, value, n);
}

/* Draft § 3.5 "abandon": leave the current ballot for counter n (or b.n+1
 * when n is 0) with the composite candidate, else the current value. */
static bool abandon_ballot(struct scp *scp, struct scp__slot *slot, uint32_t n)
{
    const struct scp_value *v = NULL;
    if (slot->nom.has_composite)
        v = &slot->nom.composite;
    else if (slot->bal.b.counter)
        v = &slot->bal.b.value;
    if (v == NULL)
        return false;
    struct scp_value *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return false;
    *copy = *v;
    bool done = n == 0 ? scp__ballot_bump(scp, slot, copy, true)
                       : bump_state_to(scp, slot, copy, n);
    free(copy);
    return done;
}

/* p or p' replaced by an accepted prepared ballot (draft § 3.5: p is the
 * highest accepted prepared, p' the highest incompatible below p). */
static bool set_prepared(struct scp__ballot *bal, const struct scp_ballot *ballot)
{
    if (bal->p.counter == 0) {
        bal->p = *ballot;
        return true;
    }
    int cmp = scp_ballot_compare(&bal->p, ballot);
    if (cmp < 0) {
        if (!compatible(&bal->p, ballot))
            bal->p_prime = bal->p;
        bal->p = *ballot;
        return true;
    }
    if (cmp > 0 && !compatible(&bal->p, ballot) &&
        (bal->p_prime.counter == 0 || scp_ballot_compare(&bal->p_prime, ballot) < 0)) {
        bal->p_prime = *ballot;
        return true;
    }
    return false;
}

/* ---- the steps of the draft ----------------------------------------------------- */

/* Accept prepared: the highest ballot that federated voting lets us accept
 * as prepared and that raises p or p'.  In CONFIRM only p can move. */
static bool attempt_accept_prepared(struct scp *scp, struct scp__slot *slot)
{
    struct scp__ballot *bal = &slot->bal;
    struct scp_ballot *cand;
    size_t n = prepare_candidates(slot, &cand);
    bool did = false;
    for (size_t i = 0; i < n && !did; i++) {
        const struct scp_ballot *b = &cand[i];
        if (bal->phase == SCP__CONFIRM && !less_and_compatible(&bal->p, b))
            continue;
        if (bal->p_prime.counter && scp_ballot_compare(b, &bal->p_prime) <= 0)
            continue;
        if (bal->p.counter && less_and_compatible(b, &bal->p))
            continue;
        if (!scp__federated_accept(scp, slot, true, voted_prepared, accepted_prepared, b))
            continue;
        did = set_prepared(bal, b);
        /* c must go when an incompatible ballot above h is prepared. */
        if (bal->c.counter && bal->h.counter &&
            ((bal->p.counter && less_and_incompatible(&bal->h, &bal->p)) ||
             (bal->p_prime.counter && less_and_incompatible(&bal->h, &bal->p_prime)))) {
            bal->c.counter = 0;
            did = true;
        }
        if (did) {
            scp__event(scp, SCP_EVENT_ACCEPTED_PREPARED, slot->index, b->counter, &b->value);
            emit_current_state(scp, slot);
        }
        break;
    }
    free(cand);
    return did;
}

/* Confirm prepared: h = the highest ballot a quorum accepted as prepared;
 * c = the lowest such ballot reached downwards from h while compatible,
 * unless a commit vote is out or an incompatible p/p' is above h. */
static bool attempt_confirm_prepared(struct scp *scp, struct scp__slot *slot)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->phase != SCP__PREPARE || bal->p.counter == 0)
        return false;
    struct scp_ballot *cand;
    size_t n = prepare_candidates(slot, &cand);
    size_t hi = n;
    for (size_t i = 0; i < n; i++) {
        if (bal->h.counter && scp_ballot_compare(&bal->h, &cand[i]) >= 0)
            break;
        if (scp__federated_ratify(scp, slot, true, accepted_prepared, &cand[i])) {
            hi = i;
            break;
        }
    }
    if (hi == n) {
        free(cand);
        return false;
    }
    struct scp_ballot *new_h = &cand[hi];
    size_t lo = n;
    if (bal->c.counter == 0 &&
        !(bal->p.counter && less_and_incompatible(new_h, &bal->p)) &&
        !(bal->p_prime.counter && less_and_incompatible(new_h, &bal->p_prime))) {
        for (size_t i = hi; i < n; i++) {
            if (bal->b.counter && scp_ballot_compare(&cand[i], &bal->b) < 0)
                break;
            if (!less_and_compatible(&cand[i], new_h))
                continue;
            if (!scp__federated_ratify(scp, slot, true, accepted_prepared, &cand[i]))
                break;
            lo = i;
        }
    }
    bool did = false;
    bal->value_override = new_h->value;
    bal->has_override = true;
    if (bal->b.counter == 0 || compatible(&bal->b, new_h)) {
        if (bal->h.counter == 0 || scp_ballot_compare(new_h, &bal->h) > 0) {
            bal->h = *new_h;
            did = true;
        }
        if (lo < n) {
            bal->c = cand[lo];
            did = true;
        }
        if (did)
            scp__event(scp, SCP_EVENT_CONFIRMED_PREPARED, slot->index, new_h->counter, &new_h->value);
    }
    did = update_current_if_needed(scp, slot, new_h) || did;
    if (did)
        emit_current_state(scp, slot);
    free(cand);
    return did;
}

/* The value a hint statement is about, for the commit steps. */
static bool hint_value(const struct scp_statement *hint, bool need_accepted,
                       const struct scp_value **out)
{
    switch (hint->type) {
    case SCP_STATEMENT_PREPARE:
        if (need_accepted || hint->u.prepare.commit_counter == 0)
            return false;
        *out = &hint->u.prepare.ballot.value;
        return true;
    case SCP_STATEMENT_CONFIRM:
        *out = &hint->u.confirm.ballot.value;
        return true;
    case SCP_STATEMENT_EXTERNALIZE:
        *out = &hint->u.externalize.commit.value;
        return true;
    default:
        return false;
    }
}

/* Accept commit: the widest [c.n, h.n] for the hint's value that federated
 * voting accepts as committed; moves PREPARE to CONFIRM. */
static bool attempt_accept_commit(struct scp *scp, struct scp__slot *slot,
                                  const struct scp_statement *hint)
{
    struct scp__ballot *bal = &slot->bal;
    const struct scp_value *value;
    if (bal->phase == SCP__EXTERNALIZE || !hint_value(hint, false, &value))
        return false;
    if (bal->phase == SCP__CONFIRM && !same_value(value, &bal->h.value))
        return false;
    uint32_t *bounds;
    size_t count = commit_boundaries(slot, value, &bounds);
    struct commit_range r = {0, 0, value};
    extended_interval(scp, slot, bounds, count, commit_acceptable, &r);
    free(bounds);
    if (r.low == 0 || (bal->phase == SCP__CONFIRM && r.high <= bal->h.counter))
        return false;
    bool did = false;
    struct scp_value *v = malloc(sizeof *v);
    if (v == NULL)
        return false;
    *v = *value;
    bal->value_override = *v;
    bal->has_override = true;
    if (bal->h.counter != r.high || bal->c.counter != r.low ||
        !same_value(&bal->h.value, v) || !same_value(&bal->c.value, v)) {
        ballot_set(&bal->c, r.low, v);
        ballot_set(&bal->h, r.high, v);
        did = true;
    }
    if (bal->phase == SCP__PREPARE) {
        bal->phase = SCP__CONFIRM;
        if (bal->b.counter && !less_and_compatible(&bal->h, &bal->b))
            bump_to_ballot(scp, slot, &bal->h);
        bal->p_prime.counter = 0;
        did = true;
    }
    free(v);
    if (did) {
        update_current_if_needed(scp, slot, &bal->h);
        scp__event(scp, SCP_EVENT_ACCEPTED_COMMIT, slot->index, bal->c.counter, &bal->c.value);
        emit_current_state(scp, slot);
    }
    return did;
}

/* Confirm commit: a quorum accepted commit of [c.n, h.n] for our value:
 * externalize (at most once per slot). */
static bool attempt_confirm_commit(struct scp *scp, struct scp__slot *slot,
                                   const struct scp_statement *hint)
{
    struct scp__ballot *bal = &slot->bal;
    const struct scp_value *value;
    if (bal->phase != SCP__CONFIRM || bal->h.counter == 0 || bal->c.counter == 0 ||
        !hint_value(hint, true, &value) || !same_value(value, &bal->c.value))
        return false;
    uint32_t *bounds;
    size_t count = commit_boundaries(slot, value, &bounds);
    struct commit_range r = {0, 0, &bal->c.value};
    extended_interval(scp, slot, bounds, count, commit_confirmable, &r);
    free(bounds);
    if (r.low == 0)
        return false;
    bal->c.counter = r.low;
    bal->h.counter = r.high;
    update_current_if_needed(scp, slot, &bal->h);
    bal->phase = SCP__EXTERNALIZE;
    emit_current_state(scp, slot);
    scp__nomination_stop(scp, slot);
    scp->driver.cancel_timer(scp->driver.ctx, slot->index, SCP_TIMER_BALLOT);
    if (!slot->externalized) {
        slot->externalized = true;
        slot->externalized_value = bal->c.value;
        scp->driver.externalized(scp->driver.ctx, slot->index, &slot->externalized_value);
    }
    return true;
}

/* Draft § 3.5 step 9: when nodes with higher counters are v-blocking, jump
 * to the lowest counter n such that those above n are no longer v-blocking. */
static bool attempt_bump(struct scp *scp, struct scp__slot *slot)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->phase == SCP__EXTERNALIZE)
        return false;
    struct counter_bound bound = {bal->b.counter};
    if (!scp__vblocking_with(scp, slot, true, counter_above, &bound))
        return false;
    uint32_t *counters = malloc((slot->known_count + 1) * sizeof *counters);
    if (counters == NULL)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < slot->known_count; i++) {
        struct scp_ballot b;
        if (!slot->known[i]->has_ballot)
            continue;
        scp__working_ballot(&slot->known[i]->ballot.statement, &b);
        if (b.counter > bal->b.counter)
            counters[n++] = b.counter;
    }
    qsort(counters, n, sizeof *counters, u32_asc);
    bool did = false;
    for (size_t i = 0; i < n; i++) {
        bound.counter = counters[i];
        if (!scp__vblocking_with(scp, slot, true, counter_above, &bound)) {
            did = abandon_ballot(scp, slot, counters[i]);
            break;
        }
    }
    free(counters);
    return did;
}

/* Promises the ballot timer armed (timeout of b.n) the first time a quorum
 * is heard at our counter, and disarmed when not or when externalized. */
static void check_heard_from_quorum(struct scp *scp, struct scp__slot *slot)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->b.counter == 0)
        return;
    struct counter_bound bound = {bal->b.counter};
    if (scp__federated_ratify(scp, slot, true, counter_at_least, &bound)) {
        bool before = bal->heard_from_quorum;
        bal->heard_from_quorum = true;
        if (!before) {
            scp__event(scp, SCP_EVENT_HEARD_FROM_QUORUM, slot->index, bal->b.counter, NULL);
            if (bal->phase != SCP__EXTERNALIZE)
                scp->driver.set_timer(scp->driver.ctx, slot->index, SCP_TIMER_BALLOT,
                                      scp__timeout(scp, SCP_TIMER_BALLOT, bal->b.counter));
        }
        if (bal->phase == SCP__EXTERNALIZE)
            scp->driver.cancel_timer(scp->driver.ctx, slot->index, SCP_TIMER_BALLOT);
    } else {
        bal->heard_from_quorum = false;
        scp->driver.cancel_timer(scp->driver.ctx, slot->index, SCP_TIMER_BALLOT);
    }
}

/* ---- statements, sending, advancing ---------------------------------------------- */

/* Promises the statement of the current phase built from the state. */
static void build_statement(const struct scp__ballot *bal, struct scp_statement *st)
{
    switch (bal->phase) {
    case SCP__PREPARE:
        st->type = SCP_STATEMENT_PREPARE;
        st->u.prepare.ballot = bal->b;
        st->u.prepare.prepared = bal->p;
        st->u.prepare.prepared_prime = bal->p_prime;
        st->u.prepare.commit_counter = bal->c.counter;
        st->u.prepare.high_counter = bal->h.counter;
        break;
    case SCP__CONFIRM:
        st->type = SCP_STATEMENT_CONFIRM;
        st->u.confirm.ballot = bal->b;
        st->u.confirm.prepared_counter = bal->p.counter;
        st->u.confirm.commit_counter = bal->c.counter;
        st->u.confirm.high_counter = bal->h.counter;
        break;
    case SCP__EXTERNALIZE:
        st->type = SCP_STATEMENT_EXTERNALIZE;
        st->u.externalize.commit = bal->c;
        st->u.externalize.high_counter = bal->h.counter;
        break;
    }
}

/* Promises the last generated statement emitted once we are back at the
 * top of the recursion and the slot is fully validated. */
static void send_latest(struct scp *scp, struct scp__slot *slot)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->depth != 0 || !bal->has_last || !slot->fully_validated)
        return;
    if (bal->has_emitted && statements_equal(&bal->emitted.statement, &bal->last.statement))
        return;
    if (scp__send(scp, slot, &bal->last) == 0) {
        bal->emitted = bal->last;
        bal->has_emitted = true;
    }
}

/* Promises our current state processed as our own statement (so it counts
 * in M) and, when it has a ballot and is newer than the last one, queued
 * for sending.  Without a ballot the statement stays local (b.n = 0). */
static int emit_current_state(struct scp *scp, struct scp__slot *slot)
{
    struct scp__ballot *bal = &slot->bal;
    struct scp_envelope *env = calloc(1, sizeof *env);
    if (env == NULL)
        return SCP_E_NO_MEMORY;
    build_statement(bal, &env->statement);
    const struct scp__known *self = scp__known_find(slot, scp->node_id);
    int rc = 0;
    if (self && self->has_ballot && statements_equal(&self->ballot.statement, &env->statement))
        goto done;
    rc = scp__self_process(scp, slot, env);
    if (rc == SCP_E_OLD_STATEMENT)
        rc = 0;
    else if (rc == 0 && bal->b.counter &&
             (!bal->has_last || scp__ballot_newer(&bal->last.statement, &env->statement))) {
        bal->last = *env;
        bal->has_last = true;
        send_latest(scp, slot);
    }
done:
    free(env);
    return rc;
}

/* The draft's steps in order for one new statement (the hint); bumping runs
 * only at the top level, where the heard-from-quorum test follows. */
static void advance(struct scp *scp, struct scp__slot *slot,
                    const struct scp_statement *hint)
{
    struct scp__ballot *bal = &slot->bal;
    if (bal->depth >= SCP_ADVANCE_DEPTH_MAX)
        return;
    bal->depth++;
    bool did = attempt_accept_prepared(scp, slot);
    did = attempt_confirm_prepared(scp, slot) || did;
    did = attempt_accept_commit(scp, slot, hint) || did;
    did = attempt_confirm_commit(scp, slot, hint) || did;
    if (bal->depth == 1) {
        for (int i = 0; i < SCP_ADVANCE_DEPTH_MAX && attempt_bump(scp, slot); i++)
            did = true;
        check_heard_from_quorum(scp, slot);
    }
    bal->depth--;
    if (did)
        send_latest(scp, slot);
}

/* Draft § 3.5: a new ballot statement (from a peer or ourselves) is
 * recorded in M and the state advanced; once externalized, only statements
 * for the decided value are recorded. */
int scp__ballot_process(struct scp *scp, struct scp__slot *slot,
                        const struct scp_envelope *env,
                        const struct scp_qset *qset)
{
    const struct scp_statement *st = &env->statement;
    const struct scp__known *k = scp__known_find(slot, st->node_id);
    if (k && k->has_ballot && !scp__ballot_newer(&k->ballot.statement, st))
        return SCP_E_OLD_STATEMENT;
    enum scp_validation v = scp__validate_statement(scp, slot->index, st);
    if (v == SCP_VALUE_INVALID)
        return SCP_E_INVALID_VALUE;
    if (slot->bal.phase == SCP__EXTERNALIZE) {
        struct scp_ballot working;
        scp__working_ballot(st, &working);
        if (!same_value(&working.value, &slot->bal.c.value))
            return SCP_E_STATE;
        return scp__record(slot, env, qset);
    }
    if (v == SCP_VALUE_MAYBE_VALID)
        slot->fully_validated = false;
    int rc = scp__record(slot, env, qset);
    if (rc)
        return rc;
    advance(scp, slot, st);
    return 0;
}

/* Draft § 3.5: the ballot timer expired: abandon for b.n + 1. */
int scp__ballot_timer_fired(struct scp *scp, struct scp__slot *slot)
{
    if (slot->bal.phase == SCP__EXTERNALIZE)
        return 0;
    abandon_ballot(scp, slot, 0);
    return 0;
}

/* Promises the state <phase, b, p, p', h, c> restored from our own
 * persisted ballot statement, so later statements are all newer. */
int scp__ballot_restore(struct scp *scp, struct scp__slot *slot,
                        const struct scp_envelope *env)
{
    struct scp__ballot *bal = &slot->bal;
    const struct scp_statement *st = &env->statement;
    if (bal->has_last || bal->b.counter)
        return SCP_E_STATE;
    int rc = scp__record(slot, env, scp->qset);
    if (rc)
        return rc;
    if (st->type == SCP_STATEMENT_PREPARE) {
        const struct scp_prepare *p = &st->u.prepare;
        bal->phase = SCP__PREPARE;
        bal->b = p->ballot;
        bal->p = p->prepared;
        bal->p_prime = p->prepared_prime;
        ballot_set(&bal->h, p->high_counter, &p->ballot.value);
        ballot_set(&bal->c, p->commit_counter, &p->ballot.value);
    } else if (st->type == SCP_STATEMENT_CONFIRM) {
        const struct scp_confirm *c = &st->u.confirm;
        bal->phase = SCP__CONFIRM;
        bal->b = c->ballot;
        ballot_set(&bal->p, c->prepared_counter, &c->ballot.value);
        ballot_set(&bal->h, c->high_counter, &c->ballot.value);
        ballot_set(&bal->c, c->commit_counter, &c->ballot.value);
    } else {
        const struct scp_externalize *x = &st->u.externalize;
        bal->phase = SCP__EXTERNALIZE;
        ballot_set(&bal->b, SCP_COUNTER_INFINITY, &x->commit.value);
        bal->p = bal->b;
        ballot_set(&bal->h, x->high_counter, &x->commit.value);
        bal->c = x->commit;
        slot->externalized = true;
        slot->externalized_value = x->commit.value;
    }
    if (bal->h.counter) {
        bal->value_override = bal->h.value;
        bal->has_override = true;
    }
    bal->last = *env;
    bal->has_last = true;
    bal->emitted = *env;
    bal->has_emitted = true;
    return 0;
}
