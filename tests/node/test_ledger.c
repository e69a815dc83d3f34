/*
 * test_ledger.c — the ledger rules, one test per behaviour: every transaction
 * type's success path and each of its failure codes (spec/transactions.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "fixture.h"

#define HOUR 3600ULL

/* Fails with both result names when actual != expected. */
#define assert_result(actual, expected)                                                   \
    do {                                                                                  \
        unsigned a_ = (actual), e_ = (expected);                                          \
        if (a_ != e_)                                                                     \
            fail_msg("result %s (%u), expected %s (%u)", ledger_result_name(a_), a_,      \
                     ledger_result_name(e_), e_);                                         \
    } while (0)

static int setup(void **state)
{
    *state = fx_new();
    return 0;
}

static int teardown(void **state)
{
    fx_free(*state);
    return 0;
}

/* --- Envelope checks, fees, sequence ------------------------------------------- */

static void pay_moves_credits_and_charges_fee_to_commons(void **state)
{
    struct fx *f = *state;
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_BOB], 2500), LEDGER_OK);
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE - 2500 - 1);
    assert_int_equal(fx_account(f, FX_BOB).balance, FX_BALANCE + 2500);
    assert_int_equal(fx_account(f, FX_ALICE).seq, 1);
    assert_int_equal(fx_commons(f).balance, 1);
    assert_int_equal(f->last.fee_charged, 1);
}

static void pay_creates_destination_with_min_balance(void **state)
{
    struct fx *f = *state;
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_ERIN], 100), LEDGER_OK);
    assert_int_equal(fx_account(f, FX_ERIN).balance, 100);
}

static void pay_below_min_balance_to_new_account_fails(void **state)
{
    struct fx *f = *state;
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_ERIN], 99), LEDGER_BELOW_MIN_BALANCE);
    struct node_account erin;
    assert_int_equal(ledger_account_get(f->st, f->pk[FX_ERIN], &erin), 1);
    /* A failed transaction still pays its fee and uses its sequence number. */
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE - 1);
    assert_int_equal(fx_account(f, FX_ALICE).seq, 1);
}

static void pay_more_than_balance_fails_and_changes_nothing_but_fee(void **state)
{
    struct fx *f = *state;
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_BOB], FX_BALANCE), LEDGER_INSUFFICIENT_BALANCE);
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE - 1);
    assert_int_equal(fx_account(f, FX_BOB).balance, FX_BALANCE);
}

static void pay_zero_and_self_payment_fail(void **state)
{
    struct fx *f = *state;
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_BOB], 0), LEDGER_ZERO_AMOUNT);
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_ALICE], 5), LEDGER_SELF_PAYMENT);
}

static void pay_that_would_overflow_destination_fails(void **state)
{
    struct fx *f = *state;
    struct node_account bob = fx_account(f, FX_BOB);
    bob.balance = UINT64_MAX - 10;
    assert_int_equal(ledger_account_put(f->st, &bob), 0);
    assert_result(fx_pay(f, FX_ALICE, f->pk[FX_BOB], 11), LEDGER_OVERFLOW);
    assert_int_equal(fx_account(f, FX_BOB).balance, UINT64_MAX - 10);
}

static void wrong_sequence_is_refused_without_any_effect(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 500;
    tx.seq = 5;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_BAD_SEQ);
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE);
    assert_int_equal(fx_account(f, FX_ALICE).seq, 0);
    assert_int_equal(f->last.fee_charged, 0);
}

static void replayed_transaction_is_refused_as_bad_seq(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 500;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_OK);
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_BAD_SEQ);
    assert_int_equal(fx_account(f, FX_BOB).balance, FX_BALANCE + 500);
}

static void signature_of_another_key_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 500;
    assert_result(fx_apply_as(f, FX_BOB, &tx), LEDGER_BAD_SIGNATURE);
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE);
}

static void signature_for_another_network_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 500;
    f->ctx.network_id[0] ^= 1;
    struct node_tx_envelope env;
    struct node_buf b;
    node_buf_init(&b);
    assert_int_equal(node_tx_sign(&tx, f->ctx.network_id, f->sk[FX_ALICE], &env), 0);
    assert_int_equal(node_envelope_encode(&env, &b), 0);
    f->ctx.network_id[0] ^= 1;
    assert_int_equal(ledger_apply_tx(f->st, &f->ctx, b.data, b.len, LEDGER_SIGNATURE_UNCHECKED,
                                     &f->last), 0);
    node_buf_free(&b);
    assert_result(f->last.code, LEDGER_BAD_SIGNATURE);
}

static void malformed_bytes_are_recorded_as_malformed(void **state)
{
    struct fx *f = *state;
    static const uint8_t junk[] = {0x92, 0x01};
    assert_int_equal(ledger_apply_tx(f->st, &f->ctx, junk, sizeof junk, LEDGER_SIGNATURE_UNCHECKED,
                                     &f->last), 0);
    assert_result(f->last.code, LEDGER_MALFORMED);
}

static void unknown_source_account_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ERIN, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 500;
    assert_result(fx_apply(f, FX_ERIN, &tx), LEDGER_NO_SOURCE);
}

static void fee_below_base_fee_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 500;
    tx.fee = 0;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_FEE_TOO_LOW);
    assert_int_equal(fx_account(f, FX_ALICE).seq, 0);
}

static void fee_larger_than_balance_takes_the_balance_and_fails(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 1;
    tx.fee = FX_BALANCE + 1;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_FEE_UNPAID);
    assert_int_equal(fx_account(f, FX_ALICE).balance, 0);
    assert_int_equal(fx_account(f, FX_ALICE).seq, 1);
    assert_int_equal(fx_account(f, FX_BOB).balance, FX_BALANCE);
    assert_int_equal(fx_commons(f).balance, FX_BALANCE);
}

/* --- Resources ---------------------------------------------------------------- */

static void member_registers_resource_with_next_id(void **state)
{
    struct fx *f = *state;
    assert_result(fx_register(f, FX_ORG, NODE_RESOURCE_CAR, 1200, 5000), LEDGER_OK);
    assert_result(fx_register(f, FX_ALICE, NODE_RESOURCE_PARKING, 300, 0), LEDGER_OK);
    struct node_resource r;
    assert_int_equal(ledger_resource_get(f->st, 2, &r), 0);
    assert_memory_equal(r.owner, f->pk[FX_ALICE], NODE_KEY_BYTES);
    assert_int_equal(r.kind, NODE_RESOURCE_PARKING);
    assert_int_equal(r.price_per_hour, 300);
    assert_true(r.active);
}

static void non_member_cannot_register_resource(void **state)
{
    struct fx *f = *state;
    assert_result(fx_register(f, FX_CAROL, NODE_RESOURCE_TOOL, 100, 0), LEDGER_NOT_MEMBER);
    struct node_resource r;
    assert_int_equal(ledger_resource_get(f->st, 1, &r), 1);
}

static void resource_with_empty_title_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_RESOURCE_REGISTER);
    tx.body.resource_register.kind = NODE_RESOURCE_ROOM;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_BAD_TITLE);
}

static unsigned update_resource(struct fx *f, int who, uint64_t id, uint64_t price, bool active)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_RESOURCE_UPDATE);
    tx.body.resource_update.resource_id = id;
    tx.body.resource_update.price_per_hour = price;
    tx.body.resource_update.deposit = 100;
    tx.body.resource_update.active = active;
    return fx_apply(f, who, &tx);
}

static void owner_updates_resource(void **state)
{
    struct fx *f = *state;
    assert_result(fx_register(f, FX_ORG, NODE_RESOURCE_CAR, 1200, 5000), LEDGER_OK);
    assert_result(update_resource(f, FX_ORG, 1, 1500, false), LEDGER_OK);
    struct node_resource r;
    assert_int_equal(ledger_resource_get(f->st, 1, &r), 0);
    assert_int_equal(r.price_per_hour, 1500);
    assert_false(r.active);
}

static void only_owner_updates_existing_resource(void **state)
{
    struct fx *f = *state;
    assert_result(fx_register(f, FX_ORG, NODE_RESOURCE_CAR, 1200, 5000), LEDGER_OK);
    assert_result(update_resource(f, FX_ALICE, 1, 1, true), LEDGER_NOT_OWNER);
    assert_result(update_resource(f, FX_ORG, 7, 1, true), LEDGER_NO_RESOURCE);
}

/* --- Bookings ----------------------------------------------------------------- */

/* The org's car, 12.00/h with a 50.00 deposit; starts one hour from now. */
static uint64_t car_with_start(struct fx *f, uint64_t *start)
{
    assert_result(fx_register(f, FX_ORG, NODE_RESOURCE_CAR, 1200, 5000), LEDGER_OK);
    *start = f->ctx.close_time + HOUR;
    return 1;
}

static void booking_moves_price_and_deposit_into_escrow(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    /* 2 h 10 min bills three started hours. */
    assert_result(fx_book(f, FX_ALICE, car, start, start + 2 * HOUR + 600), LEDGER_OK);
    struct node_account alice = fx_account(f, FX_ALICE);
    assert_int_equal(alice.held, 3 * 1200 + 5000);
    assert_int_equal(alice.balance, FX_BALANCE - 1 - 3 * 1200 - 5000);
    struct node_booking b;
    assert_int_equal(ledger_booking_get(f->st, 1, &b), 0);
    assert_int_equal(b.status, NODE_BOOKING_ACTIVE);
    assert_int_equal(b.price_total, 3600);
    assert_int_equal(b.deposit, 5000);
}

static void overlapping_booking_of_same_resource_fails(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + 2 * HOUR), LEDGER_OK);
    assert_result(fx_book(f, FX_BOB, car, start + HOUR, start + 3 * HOUR), LEDGER_BOOKING_OVERLAP);
    assert_result(fx_book(f, FX_BOB, car, start - HOUR / 2, start + 1), LEDGER_BOOKING_OVERLAP);
    assert_result(fx_book(f, FX_BOB, car, start - HOUR, start + 3 * HOUR), LEDGER_BOOKING_OVERLAP);
    /* Touching intervals do not overlap: [start+2h, start+3h) is free. */
    assert_result(fx_book(f, FX_BOB, car, start + 2 * HOUR, start + 3 * HOUR), LEDGER_OK);
    assert_result(fx_book(f, FX_DAVE, car, start - HOUR, start), LEDGER_OK);
    assert_int_equal(fx_account(f, FX_BOB).held, 1200 + 5000);
}

static void cancelled_booking_frees_its_interval(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + HOUR), LEDGER_OK);
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_BOOKING_CANCEL);
    tx.body.booking_cancel.booking_id = 1;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_OK);
    assert_result(fx_book(f, FX_BOB, car, start, start + HOUR), LEDGER_OK);
}

static void booking_own_or_inactive_or_missing_resource_fails(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ORG, car, start, start + HOUR), LEDGER_OWN_RESOURCE);
    assert_result(fx_book(f, FX_ALICE, 99, start, start + HOUR), LEDGER_NO_RESOURCE);
    assert_result(update_resource(f, FX_ORG, car, 1200, false), LEDGER_OK);
    assert_result(fx_book(f, FX_ALICE, car, start, start + HOUR), LEDGER_RESOURCE_INACTIVE);
}

static void booking_with_bad_time_range_fails(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start), LEDGER_BAD_TIME_RANGE);
    assert_result(fx_book(f, FX_ALICE, car, start + HOUR, start), LEDGER_BAD_TIME_RANGE);
    assert_result(fx_book(f, FX_ALICE, car, f->ctx.close_time - 2 * HOUR, start), LEDGER_BAD_TIME_RANGE);
    assert_result(fx_book(f, FX_ALICE, car, start, start + 31 * 24 * HOUR), LEDGER_BAD_TIME_RANGE);
    /* A start a few minutes ago (within booking_backdate_max_s) is fine. */
    assert_result(fx_book(f, FX_ALICE, car, f->ctx.close_time - 600, start), LEDGER_OK);
}

static void booking_beyond_escrow_max_fails(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_BOOKING_CREATE);
    tx.body.booking_create = (struct node_tx_booking_create){car, start, start + HOUR, 6199};
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_ESCROW_OVER_MAX);
    tx = fx_tx(f, FX_ALICE, NODE_TX_BOOKING_CREATE);
    tx.body.booking_create = (struct node_tx_booking_create){car, start, start + HOUR, 6200};
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_OK);
}

static void booking_without_balance_for_escrow_fails(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    /* 1,000.00 buys 79 hours at 12.00 with the 50.00 deposit, not 80. */
    assert_result(fx_book(f, FX_ALICE, car, start, start + 80 * HOUR), LEDGER_INSUFFICIENT_BALANCE);
    assert_int_equal(fx_account(f, FX_ALICE).held, 0);
}

static void booking_price_overflow_fails(void **state)
{
    struct fx *f = *state;
    uint64_t start = f->ctx.close_time + HOUR;
    assert_result(fx_register(f, FX_ORG, NODE_RESOURCE_CAR, UINT64_MAX / 2, 0), LEDGER_OK);
    assert_result(fx_book(f, FX_ALICE, 1, start, start + 3 * HOUR), LEDGER_OVERFLOW);
}

static void renter_below_minimum_trust_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ORG, NODE_TX_RESOURCE_REGISTER);
    tx.body.resource_register = (struct node_tx_resource_register){
        .kind = NODE_RESOURCE_CAR, .title = "Van", .price_per_hour = 100, .min_completed = 1};
    assert_result(fx_apply(f, FX_ORG, &tx), LEDGER_OK);
    uint64_t start = f->ctx.close_time + HOUR;
    assert_result(fx_book(f, FX_ALICE, 1, start, start + HOUR), LEDGER_TRUST_TOO_LOW);
    struct node_account alice = fx_account(f, FX_ALICE);
    alice.completed_as_renter = 1;
    assert_int_equal(ledger_account_put(f->st, &alice), 0);
    assert_result(fx_book(f, FX_ALICE, 1, start, start + HOUR), LEDGER_OK);
}

static void renter_below_minimum_rating_is_refused(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ORG, NODE_TX_RESOURCE_REGISTER);
    tx.body.resource_register = (struct node_tx_resource_register){
        .kind = NODE_RESOURCE_ROOM, .title = "Hall", .price_per_hour = 100, .min_rating_x100 = 400};
    assert_result(fx_apply(f, FX_ORG, &tx), LEDGER_OK);
    uint64_t start = f->ctx.close_time + HOUR;
    assert_result(fx_book(f, FX_ALICE, 1, start, start + HOUR), LEDGER_TRUST_TOO_LOW);
    struct node_account alice = fx_account(f, FX_ALICE);
    alice.rating_sum = 7; /* 3.50 */
    alice.rating_count = 2;
    assert_int_equal(ledger_account_put(f->st, &alice), 0);
    assert_result(fx_book(f, FX_ALICE, 1, start, start + HOUR), LEDGER_TRUST_TOO_LOW);
    alice = fx_account(f, FX_ALICE);
    alice.rating_sum = 9; /* 4.50 */
    assert_int_equal(ledger_account_put(f->st, &alice), 0);
    assert_result(fx_book(f, FX_ALICE, 1, start, start + HOUR), LEDGER_OK);
}

static void resource_accepts_a_bounded_number_of_active_bookings(void **state)
{
    struct fx *f = *state;
    assert_result(fx_register(f, FX_ORG, NODE_RESOURCE_TOOL, 0, 0), LEDGER_OK);
    uint64_t start = f->ctx.close_time + HOUR;
    for (int i = 0; i < NODE_RESOURCE_ACTIVE_BOOKINGS_MAX; i++)
        assert_result(fx_book(f, FX_ALICE, 1, start + (uint64_t)i * HOUR,
                              start + (uint64_t)(i + 1) * HOUR), LEDGER_OK);
    assert_result(fx_book(f, FX_BOB, 1, start - HOUR, start), LEDGER_FULLY_BOOKED);
}

static unsigned cancel(struct fx *f, int who, uint64_t id)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_BOOKING_CANCEL);
    tx.body.booking_cancel.booking_id = id;
    return fx_apply(f, who, &tx);
}

static void renter_cancels_before_start_with_full_refund(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + HOUR), LEDGER_OK);
    assert_result(cancel(f, FX_ALICE, 1), LEDGER_OK);
    struct node_account alice = fx_account(f, FX_ALICE);
    assert_int_equal(alice.balance, FX_BALANCE - 2);
    assert_int_equal(alice.held, 0);
    struct node_booking b;
    assert_int_equal(ledger_booking_get(f->st, 1, &b), 0);
    assert_int_equal(b.status, NODE_BOOKING_CANCELLED);
    assert_result(cancel(f, FX_ALICE, 1), LEDGER_BOOKING_NOT_ACTIVE);
}

static void renter_cannot_cancel_after_start_but_owner_can(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + 2 * HOUR), LEDGER_OK);
    fx_next_ledger(f, HOUR + 60);
    assert_result(cancel(f, FX_ALICE, 1), LEDGER_TOO_LATE_TO_CANCEL);
    assert_result(cancel(f, FX_BOB, 1), LEDGER_NOT_PARTY);
    assert_result(cancel(f, FX_ALICE, 2), LEDGER_NO_BOOKING);
    assert_result(cancel(f, FX_ORG, 1), LEDGER_OK);
    assert_int_equal(fx_account(f, FX_ALICE).held, 0);
    /* Fees: the booking, the late cancel, the cancel of a missing booking. */
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE - 3);
}

static unsigned complete(struct fx *f, int who, uint64_t id, uint64_t claim)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_BOOKING_COMPLETE);
    tx.body.booking_complete.booking_id = id;
    tx.body.booking_complete.damage_claim = claim;
    return fx_apply(f, who, &tx);
}

static void owner_completes_paying_price_less_fee_and_returning_deposit(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + 2 * HOUR), LEDGER_OK);
    uint64_t commons_before = fx_commons(f).balance;
    assert_result(complete(f, FX_ORG, 1, 0), LEDGER_TOO_EARLY_TO_COMPLETE);
    fx_next_ledger(f, 3 * HOUR);
    assert_result(complete(f, FX_ORG, 1, 0), LEDGER_OK);
    /* 24.00 price, 5% fee 1.20 → owner +22.80; deposit 50.00 back. */
    assert_int_equal(fx_account(f, FX_ORG).balance, FX_BALANCE - 3 + 2280);
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE - 1 - 2400);
    assert_int_equal(fx_account(f, FX_ALICE).held, 0);
    /* commons: the fee of 1.20 plus the owner's two completing tx fees. */
    assert_int_equal(fx_commons(f).balance, commons_before + 2 + 120);
    assert_int_equal(fx_account(f, FX_ALICE).completed_as_renter, 1);
    assert_int_equal(fx_account(f, FX_ORG).completed_as_owner, 1);
    assert_result(complete(f, FX_ORG, 1, 0), LEDGER_BOOKING_NOT_ACTIVE);
}

static void owner_damage_claim_comes_out_of_the_deposit(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + HOUR), LEDGER_OK);
    fx_next_ledger(f, 2 * HOUR);
    assert_result(complete(f, FX_ORG, 1, 5001), LEDGER_CLAIM_OVER_DEPOSIT);
    assert_result(complete(f, FX_ORG, 1, 3000), LEDGER_OK);
    /* price 12.00, fee 0.60, claim 30.00 → owner +41.40; renter gets 20.00 back. */
    assert_int_equal(fx_account(f, FX_ORG).balance, FX_BALANCE - 3 + 1140 + 3000);
    assert_int_equal(fx_account(f, FX_ALICE).balance, FX_BALANCE - 1 - 1200 - 3000);
    struct node_booking b;
    assert_int_equal(ledger_booking_get(f->st, 1, &b), 0);
    assert_int_equal(b.damage_claim, 3000);
    assert_int_equal(b.coop_fee, 60);
}

static void renter_completes_only_after_end_plus_grace_and_claims_nothing(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + HOUR), LEDGER_OK);
    fx_next_ledger(f, 3 * HOUR);
    assert_result(complete(f, FX_ALICE, 1, 0), LEDGER_TOO_EARLY_TO_COMPLETE);
    fx_next_ledger(f, 24 * HOUR);
    assert_result(complete(f, FX_ALICE, 1, 10), LEDGER_CLAIM_NOT_ALLOWED);
    assert_result(complete(f, FX_BOB, 1, 0), LEDGER_NOT_PARTY);
    assert_result(complete(f, FX_ALICE, 1, 0), LEDGER_OK);
    assert_int_equal(fx_account(f, FX_ALICE).held, 0);
}

static unsigned rate(struct fx *f, int who, uint64_t id, uint8_t stars)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_BOOKING_RATE);
    tx.body.booking_rate.booking_id = id;
    tx.body.booking_rate.stars = stars;
    return fx_apply(f, who, &tx);
}

static void each_party_rates_once_after_completion(void **state)
{
    struct fx *f = *state;
    uint64_t start, car = car_with_start(f, &start);
    assert_result(fx_book(f, FX_ALICE, car, start, start + HOUR), LEDGER_OK);
    assert_result(rate(f, FX_ALICE, 1, 5), LEDGER_NOT_COMPLETED);
    fx_next_ledger(f, 2 * HOUR);
    assert_result(complete(f, FX_ORG, 1, 0), LEDGER_OK);
    assert_result(rate(f, FX_ALICE, 1, 4), LEDGER_OK);
    assert_result(rate(f, FX_ALICE, 1, 5), LEDGER_ALREADY_RATED);
    assert_result(rate(f, FX_ORG, 1, 5), LEDGER_OK);
    assert_result(rate(f, FX_BOB, 1, 1), LEDGER_NOT_PARTY);
    assert_result(rate(f, FX_BOB, 9, 1), LEDGER_NO_BOOKING);
    assert_int_equal(fx_account(f, FX_ORG).rating_sum, 4);
    assert_int_equal(fx_account(f, FX_ORG).rating_count, 1);
    assert_int_equal(fx_account(f, FX_ALICE).rating_sum, 5);
}

/* --- Governance ----------------------------------------------------------------- */

static unsigned propose(struct fx *f, int who, struct node_proposal_body body)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_GOV_PROPOSE);
    if (body.title[0] == '\0')
        snprintf(body.title, sizeof body.title, "proposal");
    tx.body.gov_propose = body;
    return fx_apply(f, who, &tx);
}

static unsigned vote(struct fx *f, int who, uint64_t id, bool yes)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_GOV_VOTE);
    tx.body.gov_vote.proposal_id = id;
    tx.body.gov_vote.yes = yes;
    return fx_apply(f, who, &tx);
}

static struct node_proposal_body param_body(unsigned id, uint64_t value)
{
    struct node_proposal_body b = {.kind = NODE_PROPOSAL_PARAM_SET};
    b.u.param_set.param_id = (uint16_t)id;
    b.u.param_set.value = value;
    return b;
}

static struct node_proposal proposal(struct fx *f, uint64_t id)
{
    struct node_proposal p;
    assert_int_equal(ledger_proposal_get(f->st, id, &p), 0);
    return p;
}

static void parameter_change_passes_by_two_thirds_and_takes_effect_next_ledger(void **state)
{
    struct fx *f = *state;
    /* 4 members: org, alice, bob, dave.  3 yes of 4 is ≥ 2/3 of everyone. */
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_coop_fee_bp, 300)), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 1, true), LEDGER_OK);
    assert_result(vote(f, FX_BOB, 1, true), LEDGER_OK);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_OPEN);
    assert_result(vote(f, FX_DAVE, 1, true), LEDGER_OK);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_PASSED);
    struct node_params p;
    ledger_params_get(f->st, &p);
    assert_int_equal(p.values[NODE_PARAM_coop_fee_bp], 500);
    fx_next_ledger(f, 5);
    ledger_params_get(f->st, &p);
    assert_int_equal(p.values[NODE_PARAM_coop_fee_bp], 300);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_ENACTED);
    assert_int_equal(proposal(f, 1).effective_height, 2);
}

static void one_member_one_vote_and_only_members_vote(void **state)
{
    struct fx *f = *state;
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_base_fee, 2)), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 1, true), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 1, true), LEDGER_ALREADY_VOTED);
    assert_result(vote(f, FX_CAROL, 1, true), LEDGER_NOT_MEMBER);
    assert_result(vote(f, FX_BOB, 2, true), LEDGER_NO_PROPOSAL);
    assert_int_equal(proposal(f, 1).yes, 1);
}

static void non_member_cannot_propose_and_bad_proposals_are_refused(void **state)
{
    struct fx *f = *state;
    assert_result(propose(f, FX_CAROL, param_body(NODE_PARAM_base_fee, 2)), LEDGER_NOT_MEMBER);
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_coop_fee_bp, 9000)), LEDGER_BAD_PROPOSAL);
    struct node_proposal_body b = {.kind = NODE_PROPOSAL_MEMBER_ADMIT};
    memcpy(b.u.member.account, f->pk[FX_ALICE], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, b), LEDGER_ALREADY_MEMBER);
    memcpy(b.u.member.account, f->pk[FX_ERIN], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, b), LEDGER_NO_ACCOUNT);
    struct node_proposal_body t = {.kind = NODE_PROPOSAL_TREASURY_PAY};
    memcpy(t.u.treasury_pay.destination, f->pk[FX_ALICE], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, t), LEDGER_ZERO_AMOUNT);
    struct node_proposal_body untitled = param_body(NODE_PARAM_base_fee, 2);
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_GOV_PROPOSE);
    tx.body.gov_propose = untitled;
    assert_result(fx_apply(f, FX_ALICE, &tx), LEDGER_BAD_TITLE);
}

static void proposal_is_rejected_once_two_thirds_is_out_of_reach(void **state)
{
    struct fx *f = *state;
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_base_fee, 2)), LEDGER_OK);
    assert_result(vote(f, FX_BOB, 1, false), LEDGER_OK);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_OPEN);
    assert_result(vote(f, FX_DAVE, 1, false), LEDGER_OK);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_REJECTED);
    assert_result(vote(f, FX_ALICE, 1, true), LEDGER_PROPOSAL_CLOSED);
}

static void deadline_tally_needs_quorum_and_two_thirds_of_votes_cast(void **state)
{
    struct fx *f = *state;
    /* Proposal 1: 2 yes of 2 cast, quorum 2 of 4: passes at the deadline. */
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_base_fee, 3)), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 1, true), LEDGER_OK);
    assert_result(vote(f, FX_BOB, 1, true), LEDGER_OK);
    /* Proposal 2: 1 yes of 1 cast: below quorum, rejected at the deadline. */
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_min_balance, 500)), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 2, true), LEDGER_OK);
    fx_next_ledger(f, 604800);
    assert_result(vote(f, FX_DAVE, 1, false), LEDGER_PROPOSAL_CLOSED);
    fx_next_ledger(f, 5);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_ENACTED);
    assert_int_equal(proposal(f, 2).status, NODE_PROPOSAL_REJECTED);
    struct node_params p;
    ledger_params_get(f->st, &p);
    assert_int_equal(p.values[NODE_PARAM_base_fee], 3);
    assert_int_equal(p.values[NODE_PARAM_min_balance], 100);
}

/* Passes proposal `id` with the votes of org, alice and bob (3 of 4). */
static void pass(struct fx *f, uint64_t id)
{
    assert_result(vote(f, FX_ORG, id, true), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, id, true), LEDGER_OK);
    assert_result(vote(f, FX_BOB, id, true), LEDGER_OK);
    fx_next_ledger(f, 5);
}

static void treasury_pay_moves_commons_funds_by_decision(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 5; i++)
        assert_result(fx_pay(f, FX_ALICE, node_commons_key, 10000), LEDGER_OK);
    struct node_proposal_body t = {.kind = NODE_PROPOSAL_TREASURY_PAY};
    memcpy(t.u.treasury_pay.destination, f->pk[FX_ERIN], NODE_KEY_BYTES);
    t.u.treasury_pay.amount = 30000;
    assert_result(propose(f, FX_ALICE, t), LEDGER_OK);
    t.u.treasury_pay.amount = 90000;
    assert_result(propose(f, FX_ALICE, t), LEDGER_OK);
    uint64_t commons = fx_commons(f).balance;
    pass(f, 1);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_ENACTED);
    assert_int_equal(fx_account(f, FX_ERIN).balance, 30000);
    assert_int_equal(fx_commons(f).balance, commons + 3 - 30000);
    pass(f, 2);
    assert_int_equal(proposal(f, 2).status, NODE_PROPOSAL_ENACT_FAILED);
    assert_int_equal(proposal(f, 2).enact_result, LEDGER_COMMONS_INSUFFICIENT);
    assert_int_equal(fx_account(f, FX_ERIN).balance, 30000);
}

static void commons_fund_cannot_sign(void **state)
{
    struct fx *f = *state;
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_PAY);
    memcpy(tx.source, node_commons_key, NODE_KEY_BYTES);
    memcpy(tx.body.pay.destination, f->pk[FX_ALICE], NODE_KEY_BYTES);
    tx.body.pay.amount = 1;
    /* Signed by alice: the signature fails first.  Claimed valid (as if a
     * verifier were fooled), the commons rule still refuses it. */
    struct node_tx_envelope env;
    struct node_buf b;
    node_buf_init(&b);
    node_tx_sign(&tx, f->ctx.network_id, f->sk[FX_ALICE], &env);
    node_envelope_encode(&env, &b);
    assert_int_equal(ledger_apply_tx(f->st, &f->ctx, b.data, b.len, LEDGER_SIGNATURE_VALID, &f->last), 0);
    node_buf_free(&b);
    assert_result(f->last.code, LEDGER_COMMONS_SOURCE);
}

static void members_and_orgs_are_admitted_and_removed_by_vote(void **state)
{
    struct fx *f = *state;
    struct node_proposal_body admit = {.kind = NODE_PROPOSAL_MEMBER_ADMIT};
    memcpy(admit.u.member.account, f->pk[FX_CAROL], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, admit), LEDGER_OK);
    struct node_proposal_body org = {.kind = NODE_PROPOSAL_ORG_ADMIT};
    memcpy(org.u.org_admit.account, f->pk[FX_BOB], NODE_KEY_BYTES);
    snprintf(org.u.org_admit.name, sizeof org.u.org_admit.name, "Bob's Bikes");
    assert_result(propose(f, FX_ALICE, org), LEDGER_OK);
    pass(f, 1);
    assert_true(fx_account(f, FX_CAROL).flags & NODE_ACCOUNT_MEMBER);
    struct node_counters c;
    ledger_counters_get(f->st, &c);
    assert_int_equal(c.member_count, 5);
    /* 5 members now: 3 yes is not 2/3 of 5, so proposal 2 stays open... */
    pass(f, 2);
    assert_int_equal(proposal(f, 2).status, NODE_PROPOSAL_OPEN);
    assert_result(vote(f, FX_CAROL, 2, true), LEDGER_OK);
    fx_next_ledger(f, 5);
    assert_true(fx_account(f, FX_BOB).flags & NODE_ACCOUNT_ORG);
    assert_string_equal(fx_account(f, FX_BOB).name, "Bob's Bikes");
    struct node_proposal_body removal = {.kind = NODE_PROPOSAL_MEMBER_REMOVE};
    memcpy(removal.u.member.account, f->pk[FX_DAVE], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, removal), LEDGER_OK);
    pass(f, 3);
    assert_result(vote(f, FX_CAROL, 3, true), LEDGER_OK);
    fx_next_ledger(f, 5);
    assert_false(fx_account(f, FX_DAVE).flags & NODE_ACCOUNT_MEMBER);
    ledger_counters_get(f->st, &c);
    assert_int_equal(c.member_count, 4);
}

static struct node_proposal_body validator_add(struct fx *f, uint8_t seed, int org)
{
    struct node_proposal_body b = {.kind = NODE_PROPOSAL_VALIDATOR_ADD};
    uint8_t sk[NODE_SECRET_KEY_BYTES];
    fx_keypair(seed, b.u.validator_add.node_key, sk);
    memcpy(b.u.validator_add.org, f->pk[org], NODE_KEY_BYTES);
    snprintf(b.u.validator_add.address, sizeof b.u.validator_add.address, "127.0.0.1:7010");
    return b;
}

static void validator_is_added_and_removed_by_vote(void **state)
{
    struct fx *f = *state;
    assert_result(propose(f, FX_ALICE, validator_add(f, 200, FX_ORG)), LEDGER_OK);
    pass(f, 1);
    struct node_validator_set set;
    assert_int_equal(ledger_validators_get(f->st, &set), 0);
    assert_int_equal(set.count, FX_VALIDATORS + 1);
    node_validator_set_free(&set);
    struct node_proposal_body rm = {.kind = NODE_PROPOSAL_VALIDATOR_REMOVE};
    memcpy(rm.u.validator_remove.node_key, f->node_pk[0], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, rm), LEDGER_OK);
    pass(f, 2);
    assert_int_equal(ledger_validators_get(f->st, &set), 0);
    assert_int_equal(set.count, FX_VALIDATORS);
    for (uint32_t i = 0; i < set.count; i++)
        assert_memory_not_equal(set.validators[i].node_key, f->node_pk[0], NODE_KEY_BYTES);
    node_validator_set_free(&set);
}

static void invalid_validator_changes_are_refused(void **state)
{
    struct fx *f = *state;
    struct node_proposal_body dup = validator_add(f, 200, FX_ORG);
    memcpy(dup.u.validator_add.node_key, f->node_pk[1], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, dup), LEDGER_VALIDATOR_EXISTS);
    assert_result(propose(f, FX_ALICE, validator_add(f, 201, FX_ALICE)), LEDGER_NOT_ORG);
    struct node_proposal_body rm = {.kind = NODE_PROPOSAL_VALIDATOR_REMOVE};
    memset(rm.u.validator_remove.node_key, 7, NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, rm), LEDGER_NO_VALIDATOR);
}

/* A check standing in for the quorum-intersection checker: refuses sets of
 * more than four validators. */
static unsigned at_most_four(void *ctx, const struct node_validator_set *proposed)
{
    (void)ctx;
    return proposed->count > 4 ? LEDGER_QUORUM_LOST : LEDGER_OK;
}

static void validator_change_is_checked_when_proposed_and_again_when_enacted(void **state)
{
    struct fx *f = *state;
    ledger_state_set_validator_check(f->st, at_most_four, NULL);
    assert_result(propose(f, FX_ALICE, validator_add(f, 200, FX_ORG)), LEDGER_OK);
    assert_result(propose(f, FX_ALICE, validator_add(f, 201, FX_ORG)), LEDGER_OK);
    /* Both pass in the same ledger; the second would make five. */
    assert_result(vote(f, FX_ORG, 1, true), LEDGER_OK);
    assert_result(vote(f, FX_ORG, 2, true), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 1, true), LEDGER_OK);
    assert_result(vote(f, FX_ALICE, 2, true), LEDGER_OK);
    assert_result(vote(f, FX_BOB, 1, true), LEDGER_OK);
    assert_result(vote(f, FX_BOB, 2, true), LEDGER_OK);
    fx_next_ledger(f, 5);
    assert_int_equal(proposal(f, 1).status, NODE_PROPOSAL_ENACTED);
    assert_int_equal(proposal(f, 2).status, NODE_PROPOSAL_ENACT_FAILED);
    assert_int_equal(proposal(f, 2).enact_result, LEDGER_QUORUM_LOST);
    assert_result(propose(f, FX_ALICE, validator_add(f, 202, FX_ORG)), LEDGER_QUORUM_LOST);
}

static void removing_the_last_validator_is_refused(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < FX_VALIDATORS - 1; i++) {
        struct node_proposal_body rm = {.kind = NODE_PROPOSAL_VALIDATOR_REMOVE};
        memcpy(rm.u.validator_remove.node_key, f->node_pk[i], NODE_KEY_BYTES);
        assert_result(propose(f, FX_ALICE, rm), LEDGER_OK);
        pass(f, (uint64_t)i + 1);
    }
    struct node_proposal_body rm = {.kind = NODE_PROPOSAL_VALIDATOR_REMOVE};
    memcpy(rm.u.validator_remove.node_key, f->node_pk[FX_VALIDATORS - 1], NODE_KEY_BYTES);
    assert_result(propose(f, FX_ALICE, rm), LEDGER_QUORUM_LOST);
}

static void open_proposals_are_bounded(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < NODE_OPEN_PROPOSALS_MAX; i++)
        assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_base_fee, 2)), LEDGER_OK);
    assert_result(propose(f, FX_ALICE, param_body(NODE_PARAM_base_fee, 2)), LEDGER_TOO_MANY_PROPOSALS);
}

static void every_result_code_has_a_name_and_message(void **state)
{
    (void)state;
#define CHECK_RESULT(name, code, text, message)              \
    assert_string_equal(ledger_result_name(code), text);     \
    assert_non_null(ledger_result_message(code));
    LEDGER_RESULTS(CHECK_RESULT)
#undef CHECK_RESULT
    assert_null(ledger_result_name(9999));
}

/* A clear empties the overlay whatever its size: after a ledger-sized
 * table (cleared whole) and after a handful of entries (cleared slot by
 * slot), no key is found that was not put since.  Many keys in a small
 * table make probe chains that a slot-by-slot clear must not break. */
static void state_clear_forgets_every_entry(void **unused)
{
    (void)unused;
    ledger_state *st;
    assert_int_equal(ledger_state_create(NULL, &st), 0);
    uint8_t key[8] = {0}, value[4] = {1, 2, 3, 4};
    const uint8_t *got;
    size_t got_len;
    for (uint32_t round = 0; round < 200; round++) {
        uint32_t count = round == 0 ? 5000 : 1 + round % 60;
        for (uint32_t i = 0; i < count; i++) {
            uint32_t k = round * 100000 + i;
            memcpy(key, &k, sizeof k);
            assert_int_equal(ledger_state_put(st, LEDGER_TABLE_GLOBALS, key, sizeof key, value, sizeof value), 0);
        }
        for (uint32_t i = 0; i < count; i++) {
            uint32_t k = round * 100000 + i;
            memcpy(key, &k, sizeof k);
            assert_int_equal(ledger_state_get(st, LEDGER_TABLE_GLOBALS, key, sizeof key, &got, &got_len), 0);
        }
        ledger_state_clear(st);
        for (uint32_t i = 0; i < count; i++) {
            uint32_t k = round * 100000 + i;
            memcpy(key, &k, sizeof k);
            assert_int_equal(ledger_state_get(st, LEDGER_TABLE_GLOBALS, key, sizeof key, &got, &got_len), 1);
        }
        ledger_state_clear(st); /* the gets above cached absences */
    }
    ledger_state_destroy(st);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(pay_moves_credits_and_charges_fee_to_commons),
        T(pay_creates_destination_with_min_balance),
        T(pay_below_min_balance_to_new_account_fails),
        T(pay_more_than_balance_fails_and_changes_nothing_but_fee),
        T(pay_zero_and_self_payment_fail),
        T(pay_that_would_overflow_destination_fails),
        T(wrong_sequence_is_refused_without_any_effect),
        T(replayed_transaction_is_refused_as_bad_seq),
        T(signature_of_another_key_is_refused),
        T(signature_for_another_network_is_refused),
        T(malformed_bytes_are_recorded_as_malformed),
        T(unknown_source_account_is_refused),
        T(fee_below_base_fee_is_refused),
        T(fee_larger_than_balance_takes_the_balance_and_fails),
        T(member_registers_resource_with_next_id),
        T(non_member_cannot_register_resource),
        T(resource_with_empty_title_is_refused),
        T(owner_updates_resource),
        T(only_owner_updates_existing_resource),
        T(booking_moves_price_and_deposit_into_escrow),
        T(overlapping_booking_of_same_resource_fails),
        T(cancelled_booking_frees_its_interval),
        T(booking_own_or_inactive_or_missing_resource_fails),
        T(booking_with_bad_time_range_fails),
        T(booking_beyond_escrow_max_fails),
        T(booking_without_balance_for_escrow_fails),
        T(booking_price_overflow_fails),
        T(renter_below_minimum_trust_is_refused),
        T(renter_below_minimum_rating_is_refused),
        T(resource_accepts_a_bounded_number_of_active_bookings),
        T(renter_cancels_before_start_with_full_refund),
        T(renter_cannot_cancel_after_start_but_owner_can),
        T(owner_completes_paying_price_less_fee_and_returning_deposit),
        T(owner_damage_claim_comes_out_of_the_deposit),
        T(renter_completes_only_after_end_plus_grace_and_claims_nothing),
        T(each_party_rates_once_after_completion),
        T(parameter_change_passes_by_two_thirds_and_takes_effect_next_ledger),
        T(one_member_one_vote_and_only_members_vote),
        T(non_member_cannot_propose_and_bad_proposals_are_refused),
        T(proposal_is_rejected_once_two_thirds_is_out_of_reach),
        T(deadline_tally_needs_quorum_and_two_thirds_of_votes_cast),
        T(treasury_pay_moves_commons_funds_by_decision),
        T(commons_fund_cannot_sign),
        T(members_and_orgs_are_admitted_and_removed_by_vote),
        T(validator_is_added_and_removed_by_vote),
        T(invalid_validator_changes_are_refused),
        T(validator_change_is_checked_when_proposed_and_again_when_enacted),
        T(removing_the_last_validator_is_refused),
        T(open_proposals_are_bounded),
        cmocka_unit_test(every_result_code_has_a_name_and_message),
        cmocka_unit_test(state_clear_forgets_every_entry),
    };
    return cmocka_run_group_tests_name("ledger", tests, NULL, NULL);
}
