/*
 * governance.c — proposals, votes, their tally and their effect; and the
 * genesis state (spec/transactions.md, the sections on governance and
 * ledger 0).
 *
 * One member, one vote.  A proposal is decided:
 *   - as soon as its outcome can no longer change under the current
 *     membership: passed once the votes cast reach the quorum
 *     (ceil(members × vote_quorum_pct / 100)) and yes × 3 ≥ members × 2;
 *     rejected once (yes + members not yet voted) × 3 < members × 2;
 *   - otherwise when its voting window closes (close time ≥ deadline, at the
 *     end of the ledger): passed if votes cast ≥ quorum and yes × 3 ≥ cast × 2.
 * A passed proposal takes effect at the start of the next ledger, where its
 * preconditions are checked again (a validator change must still leave a
 * valid validator set; the commons fund must cover a payment — checked only
 * here, as the fund's balance when proposed says little); if they
 * fail it is recorded as enact_failed with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"
#include "protocol.h"

/* --- Validator sets -------------------------------------------------------------- */

unsigned ledger__validator_set_check(ledger_state *st, const struct node_validator_set *set)
{
    if (set->count == 0 || set->count > NODE_VALIDATORS_MAX)
        return LEDGER_QUORUM_LOST;
    for (uint32_t i = 0; i < set->count; i++) {
        if (i > 0 && memcmp(set->validators[i - 1].node_key, set->validators[i].node_key,
                            NODE_KEY_BYTES) >= 0)
            return LEDGER_BAD_PROPOSAL;
        struct node_account org;
        int rc = ledger_account_get(st, set->validators[i].org, &org);
        if (rc != 0 || !(org.flags & NODE_ACCOUNT_ORG))
            return LEDGER_NOT_ORG;
    }
    struct node_params params;
    if (ledger_params_get(st, &params) != 0)
        return LEDGER_QUORUM_LOST;
    if (!node_quorum_intersects(set, params.values[NODE_PARAM_quorum_threshold_bp]))
        return LEDGER_QUORUM_LOST;
    return ledger__validator_check(st, set);
}

/* Builds in *out the set after applying a validator.add or .remove body.
 * Returns LEDGER_OK, a refusal code, or a negative error. */
static int validator_set_after(ledger_state *st, const struct node_proposal_body *body,
                               struct node_validator_set *out)
{
    struct node_validator_set now;
    int rc = ledger_validators_get(st, &now);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    const uint8_t *key = body->kind == NODE_PROPOSAL_VALIDATOR_ADD
                             ? body->u.validator_add.node_key
                             : body->u.validator_remove.node_key;
    uint32_t at = 0;
    while (at < now.count && memcmp(now.validators[at].node_key, key, NODE_KEY_BYTES) < 0)
        at++;
    bool exists = at < now.count && memcmp(now.validators[at].node_key, key, NODE_KEY_BYTES) == 0;
    out->count = 0;
    out->validators = calloc(now.count + 1, sizeof *out->validators);
    if (out->validators == NULL) {
        node_validator_set_free(&now);
        return NODE_E_NOMEM;
    }
    if (body->kind == NODE_PROPOSAL_VALIDATOR_ADD) {
        rc = exists ? LEDGER_VALIDATOR_EXISTS : LEDGER_OK;
        memcpy(out->validators, now.validators, at * sizeof *now.validators);
        out->validators[at] = body->u.validator_add;
        memcpy(out->validators + at + 1, now.validators + at,
               (now.count - at) * sizeof *now.validators);
        out->count = now.count + 1;
    } else {
        rc = exists ? LEDGER_OK : LEDGER_NO_VALIDATOR;
        for (uint32_t i = 0; i < now.count; i++)
            if (i != at || !exists)
                out->validators[out->count++] = now.validators[i];
    }
    node_validator_set_free(&now);
    if (rc == LEDGER_OK)
        rc = (int)ledger__validator_set_check(st, out);
    return rc;
}

/* --- Checking a proposal's content --------------------------------------------- */

/* Checks that body can take effect now; shared by propose and enact.  On
 * LEDGER_OK for validator changes, *set_after holds the new set. */
static int proposal_valid(ledger_state *st, const struct node_proposal_body *body,
                          struct node_validator_set *set_after)
{
    struct node_account a;
    int rc;
    set_after->count = 0;
    set_after->validators = NULL;
    switch (body->kind) {
    case NODE_PROPOSAL_VALIDATOR_ADD:
    case NODE_PROPOSAL_VALIDATOR_REMOVE:
        return validator_set_after(st, body, set_after);
    case NODE_PROPOSAL_ORG_ADMIT:
        if (body->u.org_admit.name[0] == '\0')
            return LEDGER_BAD_PROPOSAL;
        rc = ledger_account_get(st, body->u.org_admit.account, &a);
        if (rc != 0)
            return rc < 0 ? rc : LEDGER_NO_ACCOUNT;
        return (a.flags & NODE_ACCOUNT_ORG) ? LEDGER_ALREADY_MEMBER : LEDGER_OK;
    case NODE_PROPOSAL_MEMBER_ADMIT:
    case NODE_PROPOSAL_MEMBER_REMOVE:
        rc = ledger_account_get(st, body->u.member.account, &a);
        if (rc != 0)
            return rc < 0 ? rc : LEDGER_NO_ACCOUNT;
        if (body->kind == NODE_PROPOSAL_MEMBER_ADMIT)
            return (a.flags & NODE_ACCOUNT_MEMBER) ? LEDGER_ALREADY_MEMBER : LEDGER_OK;
        if (!(a.flags & NODE_ACCOUNT_MEMBER))
            return LEDGER_NOT_MEMBER;
        /* The last member cannot leave: nobody could ever vote again. */
        struct node_counters counters;
        LEDGER_TRY(ledger_counters_get(st, &counters));
        return counters.member_count > 1 ? LEDGER_OK : LEDGER_BAD_PROPOSAL;
    case NODE_PROPOSAL_PARAM_SET:
        if (!node_param_valid(body->u.param_set.param_id, body->u.param_set.value))
            return LEDGER_BAD_PROPOSAL;
        if (body->u.param_set.param_id == NODE_PARAM_quorum_threshold_bp) {
            /* A lower threshold may let two quorums miss each other. */
            struct node_validator_set now;
            rc = ledger_validators_get(st, &now);
            if (rc != 0)
                return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
            bool ok = node_quorum_intersects(&now, body->u.param_set.value);
            node_validator_set_free(&now);
            return ok ? LEDGER_OK : LEDGER_QUORUM_LOST;
        }
        return LEDGER_OK;
    case NODE_PROPOSAL_TREASURY_PAY:
        if (body->u.treasury_pay.amount == 0)
            return LEDGER_ZERO_AMOUNT;
        if (memcmp(body->u.treasury_pay.destination, node_commons_key, NODE_KEY_BYTES) == 0)
            return LEDGER_SELF_PAYMENT;
        return LEDGER_OK;
    default:
        return LEDGER_BAD_PROPOSAL;
    }
}

/* --- gov.propose and gov.vote ------------------------------------------------------ */

static int list_remove(struct ledger__id_list *l, uint64_t id)
{
    for (uint32_t i = 0; i < l->count; i++)
        if (l->ids[i] == id) {
            memmove(&l->ids[i], &l->ids[i + 1], (l->count - i - 1) * sizeof l->ids[0]);
            l->count--;
            return 0;
        }
    return LEDGER_E_STATE_DAMAGED;
}

int ledger__apply_gov_propose(ledger_state *st, const struct ledger_context *ctx,
                              const struct node_tx *tx, struct node_account *source)
{
    const struct node_proposal_body *body = &tx->body.gov_propose;
    if (!(source->flags & NODE_ACCOUNT_MEMBER))
        return LEDGER_NOT_MEMBER;
    if (body->title[0] == '\0')
        return LEDGER_BAD_TITLE;
    struct ledger__id_list open;
    LEDGER_TRY(ledger__id_list_get(st, LEDGER_GLOBAL_OPEN_PROPOSALS, &open));
    if (open.count >= NODE_OPEN_PROPOSALS_MAX)
        return LEDGER_TOO_MANY_PROPOSALS;
    struct node_validator_set after;
    int rc = proposal_valid(st, body, &after);
    node_validator_set_free(&after);
    if (rc != LEDGER_OK)
        return rc;
    struct node_counters counters;
    struct node_params params;
    LEDGER_TRY(ledger_counters_get(st, &counters));
    LEDGER_TRY(ledger_params_get(st, &params));
    struct node_proposal p = {
        .id = counters.next_proposal_id++, .body = *body, .created_height = ctx->height,
        .status = NODE_PROPOSAL_OPEN};
    memcpy(p.proposer, source->key, NODE_KEY_BYTES);
    if (!node_add_u64(ctx->close_time, params.values[NODE_PARAM_vote_period_s], &p.deadline))
        return LEDGER_OVERFLOW;
    open.ids[open.count++] = p.id;
    counters.open_proposals = open.count;
    LEDGER_TRY(ledger__proposal_put(st, &p));
    LEDGER_TRY(ledger__counters_put(st, &counters));
    LEDGER_TRY(ledger__id_list_put(st, LEDGER_GLOBAL_OPEN_PROPOSALS, &open));
    return LEDGER_OK;
}

/* Marks p decided (passed or rejected) in this ledger and moves it out of
 * the open list; a passed one joins the list enacted at the next ledger. */
static int decide(ledger_state *st, const struct ledger_context *ctx, struct node_proposal *p,
                  bool passed)
{
    struct ledger__id_list open, pending;
    struct node_counters counters;
    LEDGER_TRY(ledger__id_list_get(st, LEDGER_GLOBAL_OPEN_PROPOSALS, &open));
    LEDGER_TRY(ledger__id_list_get(st, LEDGER_GLOBAL_PASSED_PROPOSALS, &pending));
    LEDGER_TRY(ledger_counters_get(st, &counters));
    LEDGER_TRY(list_remove(&open, p->id));
    p->status = passed ? NODE_PROPOSAL_PASSED : NODE_PROPOSAL_REJECTED;
    p->decided_height = ctx->height;
    if (passed) {
        p->effective_height = ctx->height + 1;
        /* pending holds at most what was open: the bound cannot be hit. */
        if (pending.count >= NODE_OPEN_PROPOSALS_MAX)
            return LEDGER_E_STATE_DAMAGED;
        pending.ids[pending.count++] = p->id;
    }
    counters.open_proposals = open.count;
    LEDGER_TRY(ledger__proposal_put(st, p));
    LEDGER_TRY(ledger__counters_put(st, &counters));
    LEDGER_TRY(ledger__id_list_put(st, LEDGER_GLOBAL_OPEN_PROPOSALS, &open));
    return ledger__id_list_put(st, LEDGER_GLOBAL_PASSED_PROPOSALS, &pending);
}

static uint64_t quorum_needed(uint32_t members, uint64_t quorum_pct)
{
    return ((uint64_t)members * quorum_pct + 99) / 100;
}

int ledger__apply_gov_vote(ledger_state *st, const struct ledger_context *ctx,
                           const struct node_tx *tx, struct node_account *source)
{
    const struct node_tx_gov_vote *body = &tx->body.gov_vote;
    if (!(source->flags & NODE_ACCOUNT_MEMBER))
        return LEDGER_NOT_MEMBER;
    struct node_proposal p;
    int rc = ledger_proposal_get(st, body->proposal_id, &p);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return LEDGER_NO_PROPOSAL;
    if (p.status != NODE_PROPOSAL_OPEN || ctx->close_time >= p.deadline)
        return LEDGER_PROPOSAL_CLOSED;
    uint8_t key[8 + NODE_KEY_BYTES];
    const uint8_t *v;
    size_t n;
    ledger__u64be(p.id, key);
    memcpy(key + 8, source->key, NODE_KEY_BYTES);
    rc = ledger_state_get(st, LEDGER_TABLE_VOTES, key, sizeof key, &v, &n);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return LEDGER_ALREADY_VOTED;
    uint8_t choice = body->yes ? 1 : 0;
    LEDGER_TRY(ledger_state_put(st, LEDGER_TABLE_VOTES, key, sizeof key, &choice, 1));
    if (body->yes)
        p.yes++;
    else
        p.no++;
    struct node_counters counters;
    struct node_params params;
    LEDGER_TRY(ledger_counters_get(st, &counters));
    LEDGER_TRY(ledger_params_get(st, &params));
    uint64_t members = counters.member_count, cast = (uint64_t)p.yes + p.no;
    uint64_t not_voted = members > cast ? members - cast : 0;
    if (cast >= quorum_needed(counters.member_count, params.values[NODE_PARAM_vote_quorum_pct]) &&
        (uint64_t)p.yes * 3 >= members * 2)
        return decide(st, ctx, &p, true);
    if (((uint64_t)p.yes + not_voted) * 3 < members * 2)
        return decide(st, ctx, &p, false);
    LEDGER_TRY(ledger__proposal_put(st, &p));
    return LEDGER_OK;
}

/* --- Taking effect ------------------------------------------------------------------ */

static int enact_treasury_pay(ledger_state *st, const struct node_proposal_body *body)
{
    struct node_account commons, dest;
    int rc = ledger_account_get(st, node_commons_key, &commons);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_COMMONS_INSUFFICIENT;
    rc = ledger_account_get(st, body->u.treasury_pay.destination, &dest);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        struct node_params params;
        LEDGER_TRY(ledger_params_get(st, &params));
        if (body->u.treasury_pay.amount < params.values[NODE_PARAM_min_balance])
            return LEDGER_BELOW_MIN_BALANCE;
        memset(&dest, 0, sizeof dest);
        memcpy(dest.key, body->u.treasury_pay.destination, NODE_KEY_BYTES);
    }
    unsigned result = ledger__transfer(&commons, &dest, body->u.treasury_pay.amount);
    if (result == LEDGER_INSUFFICIENT_BALANCE)
        return LEDGER_COMMONS_INSUFFICIENT;
    if (result != LEDGER_OK)
        return (int)result;
    LEDGER_TRY(ledger_account_put(st, &commons));
    LEDGER_TRY(ledger_account_put(st, &dest));
    return LEDGER_OK;
}

/* Sets or clears a role flag, keeping the member count. */
static int enact_role(ledger_state *st, const uint8_t key[NODE_KEY_BYTES], uint32_t flag, bool set,
                      const char *name)
{
    struct node_account a;
    struct node_counters counters;
    int rc = ledger_account_get(st, key, &a);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_NO_ACCOUNT;
    LEDGER_TRY(ledger_counters_get(st, &counters));
    if (flag == NODE_ACCOUNT_MEMBER)
        counters.member_count += set ? 1 : (uint32_t)-1;
    a.flags = set ? (a.flags | flag) : (a.flags & ~flag);
    if (name != NULL)
        snprintf(a.name, sizeof a.name, "%s", name);
    LEDGER_TRY(ledger_account_put(st, &a));
    LEDGER_TRY(ledger__counters_put(st, &counters));
    return LEDGER_OK;
}

/* Makes a passed proposal take effect; returns its result code. */
static int enact(ledger_state *st, const struct node_proposal_body *body)
{
    struct node_validator_set after;
    int rc = proposal_valid(st, body, &after);
    if (rc == LEDGER_OK) {
        switch (body->kind) {
        case NODE_PROPOSAL_VALIDATOR_ADD:
        case NODE_PROPOSAL_VALIDATOR_REMOVE:
            rc = ledger__validators_put(st, &after);
            break;
        case NODE_PROPOSAL_ORG_ADMIT:
            rc = enact_role(st, body->u.org_admit.account, NODE_ACCOUNT_ORG, true,
                            body->u.org_admit.name);
            break;
        case NODE_PROPOSAL_MEMBER_ADMIT:
        case NODE_PROPOSAL_MEMBER_REMOVE:
            rc = enact_role(st, body->u.member.account, NODE_ACCOUNT_MEMBER,
                            body->kind == NODE_PROPOSAL_MEMBER_ADMIT, NULL);
            break;
        case NODE_PROPOSAL_PARAM_SET: {
            struct node_params params;
            rc = ledger_params_get(st, &params);
            if (rc == 0) {
                params.values[body->u.param_set.param_id] = body->u.param_set.value;
                rc = ledger__params_put(st, &params);
            }
            break;
        }
        case NODE_PROPOSAL_TREASURY_PAY:
            rc = enact_treasury_pay(st, body);
            break;
        }
    }
    node_validator_set_free(&after);
    return rc;
}

int ledger_begin(ledger_state *st, const struct ledger_context *ctx)
{
    struct ledger__id_list pending;
    LEDGER_TRY(ledger__id_list_get(st, LEDGER_GLOBAL_PASSED_PROPOSALS, &pending));
    if (pending.count == 0)
        return 0;
    for (uint32_t i = 0; i < pending.count; i++) {
        struct node_proposal p;
        int rc = ledger_proposal_get(st, pending.ids[i], &p);
        if (rc != 0)
            return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
        size_t savepoint = ledger_state_savepoint(st);
        rc = enact(st, &p.body);
        if (rc < 0)
            return rc;
        if (rc != LEDGER_OK)
            ledger_state_rollback(st, savepoint);
        p.status = rc == LEDGER_OK ? NODE_PROPOSAL_ENACTED : NODE_PROPOSAL_ENACT_FAILED;
        p.enact_result = (uint16_t)rc;
        p.effective_height = ctx->height;
        LEDGER_TRY(ledger__proposal_put(st, &p));
    }
    ledger_state_release(st);
    pending.count = 0;
    return ledger__id_list_put(st, LEDGER_GLOBAL_PASSED_PROPOSALS, &pending);
}

int ledger_end(ledger_state *st, const struct ledger_context *ctx)
{
    struct ledger__id_list open;
    struct node_counters counters;
    struct node_params params;
    LEDGER_TRY(ledger__id_list_get(st, LEDGER_GLOBAL_OPEN_PROPOSALS, &open));
    LEDGER_TRY(ledger_counters_get(st, &counters));
    LEDGER_TRY(ledger_params_get(st, &params));
    uint64_t quorum = quorum_needed(counters.member_count, params.values[NODE_PARAM_vote_quorum_pct]);
    /* Walk a copy: decide() edits the stored list. */
    for (uint32_t i = 0; i < open.count; i++) {
        struct node_proposal p;
        int rc = ledger_proposal_get(st, open.ids[i], &p);
        if (rc != 0)
            return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
        if (ctx->close_time < p.deadline)
            continue;
        uint64_t cast = (uint64_t)p.yes + p.no;
        bool passed = cast > 0 && cast >= quorum && (uint64_t)p.yes * 3 >= cast * 2;
        LEDGER_TRY(decide(st, ctx, &p, passed));
    }
    ledger_state_release(st);
    return 0;
}

/* --- Genesis ------------------------------------------------------------------------ */

int ledger_apply_genesis(ledger_state *st, const struct node_genesis *g)
{
    struct node_counters counters = {.next_resource_id = 1, .next_booking_id = 1,
                                     .next_proposal_id = 1};
    for (uint32_t i = 0; i < g->account_count; i++) {
        const struct node_genesis_account *ga = &g->accounts[i];
        struct node_account a = {.balance = ga->balance, .flags = ga->flags};
        memcpy(a.key, ga->key, NODE_KEY_BYTES);
        memcpy(a.name, ga->name, sizeof a.name);
        LEDGER_TRY(ledger_account_put(st, &a));
        if (ga->flags & NODE_ACCOUNT_MEMBER)
            counters.member_count++;
    }
    struct node_account commons = {.balance = g->commons_balance};
    memcpy(commons.key, node_commons_key, NODE_KEY_BYTES);
    snprintf(commons.name, sizeof commons.name, "commons fund");
    LEDGER_TRY(ledger_account_put(st, &commons));
    LEDGER_TRY(ledger__params_put(st, &g->params));
    LEDGER_TRY(ledger__counters_put(st, &counters));
    unsigned check = ledger__validator_set_check(st, &g->validators);
    if (check != LEDGER_OK)
        return NODE_E_GENESIS;
    LEDGER_TRY(ledger__validators_put(st, &g->validators));
    ledger_state_release(st);
    return 0;
}
