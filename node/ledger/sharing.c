/*
 * sharing.c — the rules of resources and bookings (spec/transactions.md,
 * the sections on resource.* and booking.*).
 *
 * Money in a booking moves twice.  booking.create moves price + deposit from
 * the renter's balance into the renter's `held` amount (escrow).  The booking
 * then ends one of two ways: booking.cancel returns the whole escrow to the
 * renter; booking.complete pays the owner the price less the cooperative's
 * fee, pays that fee to the commons fund, pays the owner any damage claim
 * (at most the deposit) and returns the rest of the deposit to the renter.
 *
 * Each resource keeps its active bookings as a sorted list of intervals
 * (bookings_by_resource).  Active bookings never overlap, so the list is
 * sorted by start and by end at once, and an overlap test is one binary
 * search.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

#define HOUR_S 3600u

/* --- The interval index --------------------------------------------------------- */

struct interval {
    uint64_t start, end, booking_id;
};
struct interval_list {
    uint32_t count;
    struct interval items[NODE_RESOURCE_ACTIVE_BOOKINGS_MAX];
};

static uint64_t read_u64be(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static int intervals_get(ledger_state *st, uint64_t resource_id, struct interval_list *out)
{
    uint8_t key[8];
    const uint8_t *v;
    size_t n;
    ledger__u64be(resource_id, key);
    out->count = 0;
    int rc = ledger_state_get(st, LEDGER_TABLE_BOOKINGS_BY_RESOURCE, key, sizeof key, &v, &n);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    if (n % 24 != 0 || n / 24 > NODE_RESOURCE_ACTIVE_BOOKINGS_MAX)
        return LEDGER_E_STATE_DAMAGED;
    out->count = (uint32_t)(n / 24);
    for (uint32_t i = 0; i < out->count; i++) {
        out->items[i].start = read_u64be(v + 24 * i);
        out->items[i].end = read_u64be(v + 24 * i + 8);
        out->items[i].booking_id = read_u64be(v + 24 * i + 16);
    }
    return 0;
}

static int intervals_put(ledger_state *st, uint64_t resource_id, const struct interval_list *l)
{
    uint8_t key[8];
    ledger__u64be(resource_id, key);
    if (l->count == 0)
        return ledger_state_delete(st, LEDGER_TABLE_BOOKINGS_BY_RESOURCE, key, sizeof key);
    uint8_t bytes[24 * NODE_RESOURCE_ACTIVE_BOOKINGS_MAX];
    for (uint32_t i = 0; i < l->count; i++) {
        ledger__u64be(l->items[i].start, bytes + 24 * i);
        ledger__u64be(l->items[i].end, bytes + 24 * i + 8);
        ledger__u64be(l->items[i].booking_id, bytes + 24 * i + 16);
    }
    return ledger_state_put(st, LEDGER_TABLE_BOOKINGS_BY_RESOURCE, key, sizeof key, bytes,
                            24 * (size_t)l->count);
}

/* Index of the first interval whose start is >= start. */
static uint32_t intervals_lower_bound(const struct interval_list *l, uint64_t start)
{
    uint32_t lo = 0, hi = l->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->items[mid].start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* true if [start, end) overlaps an interval of the list. */
static bool intervals_overlap(const struct interval_list *l, uint64_t start, uint64_t end)
{
    uint32_t i = intervals_lower_bound(l, start);
    /* The one before may run into us; the one at i may start before our end. */
    if (i > 0 && l->items[i - 1].end > start)
        return true;
    return i < l->count && l->items[i].start < end;
}

static void intervals_insert(struct interval_list *l, struct interval item)
{
    uint32_t i = intervals_lower_bound(l, item.start);
    memmove(&l->items[i + 1], &l->items[i], (l->count - i) * sizeof l->items[0]);
    l->items[i] = item;
    l->count++;
}

static int intervals_remove_booking(ledger_state *st, const struct node_booking *b)
{
    struct interval_list *l = malloc(sizeof *l);
    if (l == NULL)
        return NODE_E_NOMEM;
    int rc = intervals_get(st, b->resource_id, l);
    for (uint32_t i = 0; rc == 0 && i < l->count; i++) {
        if (l->items[i].booking_id == b->id) {
            memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof l->items[0]);
            l->count--;
            rc = intervals_put(st, b->resource_id, l);
            break;
        }
    }
    free(l);
    return rc;
}

/* --- Resources ------------------------------------------------------------------ */

int ledger__apply_resource_register(ledger_state *st, const struct ledger_context *ctx,
                                    const struct node_tx *tx, struct node_account *source)
{
    const struct node_tx_resource_register *body = &tx->body.resource_register;
    if (!(source->flags & (NODE_ACCOUNT_MEMBER | NODE_ACCOUNT_ORG)))
        return LEDGER_NOT_MEMBER;
    if (body->title[0] == '\0')
        return LEDGER_BAD_TITLE;
    struct node_counters counters;
    LEDGER_TRY(ledger_counters_get(st, &counters));
    struct node_resource res = {
        .id = counters.next_resource_id,
        .kind = body->kind,
        .price_per_hour = body->price_per_hour,
        .deposit = body->deposit,
        .min_completed = body->min_completed,
        .min_rating_x100 = body->min_rating_x100,
        .active = true,
        .created_height = ctx->height,
    };
    memcpy(res.owner, source->key, NODE_KEY_BYTES);
    memcpy(res.title, body->title, sizeof res.title);
    counters.next_resource_id++;
    LEDGER_TRY(ledger__resource_put(st, &res));
    LEDGER_TRY(ledger__counters_put(st, &counters));
    return LEDGER_OK;
}

int ledger__apply_resource_update(ledger_state *st, const struct ledger_context *ctx,
                                  const struct node_tx *tx, struct node_account *source)
{
    (void)ctx;
    const struct node_tx_resource_update *body = &tx->body.resource_update;
    struct node_resource res;
    int rc = ledger_resource_get(st, body->resource_id, &res);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return LEDGER_NO_RESOURCE;
    if (memcmp(res.owner, source->key, NODE_KEY_BYTES) != 0)
        return LEDGER_NOT_OWNER;
    res.price_per_hour = body->price_per_hour;
    res.deposit = body->deposit;
    res.min_completed = body->min_completed;
    res.min_rating_x100 = body->min_rating_x100;
    res.active = body->active;
    LEDGER_TRY(ledger__resource_put(st, &res));
    return LEDGER_OK;
}

/* --- Bookings ------------------------------------------------------------------- */

/* The renter's trust record against the resource's minimums. */
static bool trust_sufficient(const struct node_account *renter, const struct node_resource *res)
{
    if (renter->completed_as_renter < res->min_completed)
        return false;
    if (res->min_rating_x100 == 0)
        return true;
    if (renter->rating_count == 0)
        return false;
    /* rating_sum ≤ 5 × count, so × 100 cannot overflow for any count < 2^32. */
    return renter->rating_sum * 100 / renter->rating_count >= res->min_rating_x100;
}

/* Checks the requested interval against the clock and the parameters. */
static unsigned check_time_range(const struct node_tx_booking_create *body,
                                 const struct ledger_context *ctx, const struct node_params *p)
{
    if (body->start >= body->end)
        return LEDGER_BAD_TIME_RANGE;
    if (body->end - body->start > p->values[NODE_PARAM_booking_duration_max_s])
        return LEDGER_BAD_TIME_RANGE;
    uint64_t earliest = ctx->close_time > p->values[NODE_PARAM_booking_backdate_max_s]
                            ? ctx->close_time - p->values[NODE_PARAM_booking_backdate_max_s]
                            : 0;
    if (body->start < earliest)
        return LEDGER_BAD_TIME_RANGE;
    return LEDGER_OK;
}

/* price_total = price per hour × whole hours, a started hour counting whole. */
static unsigned booking_price(const struct node_resource *res, uint64_t start, uint64_t end,
                              uint64_t *price_total, uint64_t *escrow)
{
    uint64_t hours = (end - start + HOUR_S - 1) / HOUR_S;
    if (!node_mul_u64(res->price_per_hour, hours, price_total))
        return LEDGER_OVERFLOW;
    if (!node_add_u64(*price_total, res->deposit, escrow))
        return LEDGER_OVERFLOW;
    return LEDGER_OK;
}

static int booking_checks(ledger_state *st, const struct ledger_context *ctx,
                          const struct node_tx_booking_create *body, struct node_account *source,
                          struct node_resource *res)
{
    int rc = ledger_resource_get(st, body->resource_id, res);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return LEDGER_NO_RESOURCE;
    if (!res->active)
        return LEDGER_RESOURCE_INACTIVE;
    if (memcmp(res->owner, source->key, NODE_KEY_BYTES) == 0)
        return LEDGER_OWN_RESOURCE;
    struct node_params params;
    LEDGER_TRY(ledger_params_get(st, &params));
    unsigned result = check_time_range(body, ctx, &params);
    if (result != LEDGER_OK)
        return (int)result;
    if (!trust_sufficient(source, res))
        return LEDGER_TRUST_TOO_LOW;
    return LEDGER_OK;
}

int ledger__apply_booking_create(ledger_state *st, const struct ledger_context *ctx,
                                 const struct node_tx *tx, struct node_account *source)
{
    const struct node_tx_booking_create *body = &tx->body.booking_create;
    struct node_resource res;
    int rc = booking_checks(st, ctx, body, source, &res);
    if (rc != LEDGER_OK)
        return rc;
    uint64_t price_total, escrow;
    unsigned result = booking_price(&res, body->start, body->end, &price_total, &escrow);
    if (result != LEDGER_OK)
        return (int)result;
    if (escrow > body->escrow_max)
        return LEDGER_ESCROW_OVER_MAX;
    struct interval_list *intervals = malloc(sizeof *intervals);
    if (intervals == NULL)
        return NODE_E_NOMEM;
    rc = intervals_get(st, res.id, intervals);
    if (rc == 0 && intervals_overlap(intervals, body->start, body->end))
        rc = LEDGER_BOOKING_OVERLAP;
    else if (rc == 0 && intervals->count == NODE_RESOURCE_ACTIVE_BOOKINGS_MAX)
        rc = LEDGER_FULLY_BOOKED;
    else if (rc == 0 && source->balance < escrow)
        rc = LEDGER_INSUFFICIENT_BALANCE;
    else if (rc == 0 && !node_add_u64(source->held, escrow, &source->held))
        rc = LEDGER_OVERFLOW;
    struct node_counters counters;
    if (rc == 0)
        rc = ledger_counters_get(st, &counters);
    if (rc == 0) {
        source->balance -= escrow;
        struct node_booking b = {
            .id = counters.next_booking_id++, .resource_id = res.id,
            .start = body->start, .end = body->end, .price_total = price_total,
            .deposit = res.deposit, .status = NODE_BOOKING_ACTIVE, .created_height = ctx->height};
        memcpy(b.renter, source->key, NODE_KEY_BYTES);
        memcpy(b.owner, res.owner, NODE_KEY_BYTES);
        intervals_insert(intervals, (struct interval){body->start, body->end, b.id});
        if ((rc = intervals_put(st, res.id, intervals)) == 0 &&
            (rc = ledger__booking_put(st, &b)) == 0 &&
            (rc = ledger__counters_put(st, &counters)) == 0)
            rc = ledger_account_put(st, source);
    }
    free(intervals);
    return rc;
}

/* Loads a booking that must be active, and the other party's account.
 * *renter points to source or to *other, whichever is the renter. */
static int load_active_booking(ledger_state *st, uint64_t id, struct node_account *source,
                               struct node_booking *b, struct node_account *other,
                               bool *source_is_owner)
{
    int rc = ledger_booking_get(st, id, b);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return LEDGER_NO_BOOKING;
    bool is_renter = memcmp(b->renter, source->key, NODE_KEY_BYTES) == 0;
    bool is_owner = memcmp(b->owner, source->key, NODE_KEY_BYTES) == 0;
    if (!is_renter && !is_owner)
        return LEDGER_NOT_PARTY;
    if (b->status != NODE_BOOKING_ACTIVE)
        return LEDGER_BOOKING_NOT_ACTIVE;
    *source_is_owner = is_owner;
    rc = ledger_account_get(st, is_owner ? b->renter : b->owner, other);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED; /* parties' accounts never vanish */
    return LEDGER_OK;
}

/* Takes amount out of the renter's escrow; a shortfall is a broken store. */
static int release_escrow(struct node_account *renter, uint64_t amount)
{
    if (!node_sub_u64(renter->held, amount, &renter->held))
        return LEDGER_E_STATE_DAMAGED;
    return 0;
}

int ledger__apply_booking_cancel(ledger_state *st, const struct ledger_context *ctx,
                                 const struct node_tx *tx, struct node_account *source)
{
    struct node_booking b;
    struct node_account other;
    bool source_is_owner;
    int rc = load_active_booking(st, tx->body.booking_cancel.booking_id, source, &b, &other,
                                 &source_is_owner);
    if (rc != LEDGER_OK)
        return rc;
    /* The renter may cancel until the start; the owner while it is active. */
    if (!source_is_owner && ctx->close_time >= b.start)
        return LEDGER_TOO_LATE_TO_CANCEL;
    struct node_account *renter = source_is_owner ? &other : source;
    uint64_t escrow = b.price_total + b.deposit; /* checked when created */
    LEDGER_TRY(release_escrow(renter, escrow));
    if (!node_add_u64(renter->balance, escrow, &renter->balance))
        return LEDGER_OVERFLOW;
    b.status = NODE_BOOKING_CANCELLED;
    b.closed_height = ctx->height;
    LEDGER_TRY(intervals_remove_booking(st, &b));
    LEDGER_TRY(ledger__booking_put(st, &b));
    LEDGER_TRY(ledger_account_put(st, source));
    LEDGER_TRY(ledger_account_put(st, &other));
    return LEDGER_OK;
}

/* Who may complete when, and with what claim (spec/transactions.md,
 * booking.complete). */
static int check_completion(ledger_state *st, const struct ledger_context *ctx,
                            const struct node_booking *b, bool source_is_owner, uint64_t claim)
{
    if (source_is_owner) {
        if (ctx->close_time < b->start)
            return LEDGER_TOO_EARLY_TO_COMPLETE;
        if (claim > b->deposit)
            return LEDGER_CLAIM_OVER_DEPOSIT;
        return LEDGER_OK;
    }
    if (claim != 0)
        return LEDGER_CLAIM_NOT_ALLOWED;
    struct node_params params;
    LEDGER_TRY(ledger_params_get(st, &params));
    uint64_t renter_may;
    if (!node_add_u64(b->end, params.values[NODE_PARAM_complete_grace_s], &renter_may) ||
        ctx->close_time < renter_may)
        return LEDGER_TOO_EARLY_TO_COMPLETE;
    return LEDGER_OK;
}

/* The cooperative's fee: floor(price × basis points / 10,000), exactly. */
static int coop_fee_of(ledger_state *st, uint64_t price, uint64_t *fee)
{
    struct node_params params;
    LEDGER_TRY(ledger_params_get(st, &params));
    unsigned __int128 wide = (unsigned __int128)price * params.values[NODE_PARAM_coop_fee_bp];
    *fee = (uint64_t)(wide / 10000u); /* ≤ price: bp ≤ 10,000 by its range */
    return 0;
}

int ledger__apply_booking_complete(ledger_state *st, const struct ledger_context *ctx,
                                   const struct node_tx *tx, struct node_account *source)
{
    const struct node_tx_booking_complete *body = &tx->body.booking_complete;
    struct node_booking b;
    struct node_account other;
    bool source_is_owner;
    int rc = load_active_booking(st, body->booking_id, source, &b, &other, &source_is_owner);
    if (rc != LEDGER_OK)
        return rc;
    if ((rc = check_completion(st, ctx, &b, source_is_owner, body->damage_claim)) != LEDGER_OK)
        return rc;
    struct node_account *renter = source_is_owner ? &other : source;
    struct node_account *owner = source_is_owner ? source : &other;
    uint64_t fee;
    LEDGER_TRY(coop_fee_of(st, b.price_total, &fee));
    LEDGER_TRY(release_escrow(renter, b.price_total + b.deposit));
    /* owner: price − fee + claim; renter: deposit − claim; commons: fee.
     * Together exactly the escrow; each step is checked all the same. */
    uint64_t to_owner = b.price_total - fee + body->damage_claim;
    if (!node_add_u64(owner->balance, to_owner, &owner->balance) ||
        !node_add_u64(renter->balance, b.deposit - body->damage_claim, &renter->balance))
        return LEDGER_OVERFLOW;
    if (renter->completed_as_renter == UINT32_MAX || owner->completed_as_owner == UINT32_MAX)
        return LEDGER_OVERFLOW;
    renter->completed_as_renter++;
    owner->completed_as_owner++;
    b.status = NODE_BOOKING_COMPLETED;
    b.damage_claim = body->damage_claim;
    b.coop_fee = fee;
    b.closed_height = ctx->height;
    LEDGER_TRY(intervals_remove_booking(st, &b));
    LEDGER_TRY(ledger__booking_put(st, &b));
    LEDGER_TRY(ledger_account_put(st, source));
    LEDGER_TRY(ledger_account_put(st, &other));
    return ledger__commons_credit(st, fee);
}

int ledger__apply_booking_rate(ledger_state *st, const struct ledger_context *ctx,
                               const struct node_tx *tx, struct node_account *source)
{
    (void)ctx;
    const struct node_tx_booking_rate *body = &tx->body.booking_rate;
    struct node_booking b;
    int rc = ledger_booking_get(st, body->booking_id, &b);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return LEDGER_NO_BOOKING;
    bool is_renter = memcmp(b.renter, source->key, NODE_KEY_BYTES) == 0;
    bool is_owner = memcmp(b.owner, source->key, NODE_KEY_BYTES) == 0;
    if (!is_renter && !is_owner)
        return LEDGER_NOT_PARTY;
    if (b.status != NODE_BOOKING_COMPLETED)
        return LEDGER_NOT_COMPLETED;
    if ((is_renter && b.rated_by_renter) || (is_owner && b.rated_by_owner))
        return LEDGER_ALREADY_RATED;
    struct node_account rated;
    rc = ledger_account_get(st, is_renter ? b.owner : b.renter, &rated);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    if (!node_add_u64(rated.rating_sum, body->stars, &rated.rating_sum) ||
        rated.rating_count == UINT32_MAX)
        return LEDGER_OVERFLOW;
    rated.rating_count++;
    if (is_renter)
        b.rated_by_renter = true;
    else
        b.rated_by_owner = true;
    LEDGER_TRY(ledger__booking_put(st, &b));
    LEDGER_TRY(ledger_account_put(st, &rated));
    return LEDGER_OK;
}
