/*
 * test_ballot.c — unit tests of the ballot protocol (draft § 3.5), one per
 * rule, named after the step they pin down.  Node 0 of the four-node
 * fixture (fixture.h) is driven by hand-made statements from nodes 1..3;
 * the recording driver shows what it says, arms and decides.
 */
#include "fixture.h"

/* § 3.5 start: the composite candidate becomes ballot <1, x>. */
static void ballot_starts_at_counter_one_with_the_composite_candidate(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_PREPARE);
    assert_int_equal(st->u.prepare.prepared.counter, 0);
    assert_int_equal(st->u.prepare.commit_counter, 0);
    assert_int_equal(st->u.prepare.high_counter, 0);
    fixture_free(f);
}

/* § 3.5 step 2 (accept prepared): a quorum voting prepare(b). */
static void prepare_is_accepted_when_a_quorum_votes_for_it(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.prepared.counter, 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_ballot(&last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.prepared, 1, "x");
    fixture_free(f);
}

/* § 3.5 step 2: a v-blocking set that accepted prepare(b) suffices. */
static void prepare_is_accepted_when_a_vblocking_set_accepted_it(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 1, "y", 1, "y", 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 1, "y", 1, "y", 0, NULL, 0, 0), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_PREPARE);
    assert_ballot(&st->u.prepare.prepared, 1, "y");
    fixture_free(f);
}

/* § 3.5 step 3 (confirm prepared): h and c set from a quorum's accepts. */
static void prepare_confirmed_sets_high_and_commit(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_PREPARE);
    assert_ballot(&st->u.prepare.prepared, 1, "x");
    assert_int_equal(st->u.prepare.high_counter, 1);
    assert_int_equal(st->u.prepare.commit_counter, 1);
    fixture_free(f);
}

static void reach_commit_vote(struct fixture *f)
{
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
}

/* § 3.5 step 4 (accept commit): a quorum voting commit moves to CONFIRM. */
static void commit_accepted_moves_to_confirm(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    reach_commit_vote(f);
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_CONFIRM);
    assert_ballot(&st->u.confirm.ballot, 1, "x");
    assert_int_equal(st->u.confirm.commit_counter, 1);
    assert_int_equal(st->u.confirm.high_counter, 1);
    fixture_free(f);
}

/* § 3.5 step 5 (confirm commit): a quorum accepting commit externalizes,
 * and a slot externalizes at most once. */
static void commit_confirmed_externalizes_exactly_once(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    reach_commit_vote(f);
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    assert_int_equal(send_confirm(f, 1, 1, "x", 1, 1, 1), 0);
    assert_int_equal(f->fake.externalized_count, 0);
    assert_int_equal(send_confirm(f, 2, 1, "x", 1, 1, 1), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_EXTERNALIZE);
    assert_ballot(&st->u.externalize.commit, 1, "x");
    assert_int_equal(f->fake.externalized_count, 1);
    assert_value(&f->fake.externalized_value, "x");
    assert_int_equal(send_confirm(f, 3, 1, "x", 1, 1, 1), 0);
    assert_int_equal(send_externalize(f, 1, 1, "x", 1), 0);
    assert_int_equal(f->fake.externalized_count, 1);
    assert_false(f->fake.timers[SCP_TIMER_BALLOT].armed);
    fixture_free(f);
}

/* § 3.5: EXTERNALIZE statements of a quorum decide even a node that never
 * nominated (how a node that fell behind catches up within a slot). */
static void quorum_of_externalize_decides_a_node_without_ballot(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    for (unsigned node = 1; node <= 3; node++)
        assert_int_equal(send_externalize(f, node, 2, "z", 3), 0);
    assert_int_equal(f->fake.externalized_count, 1);
    assert_value(&f->fake.externalized_value, "z");
    fixture_free(f);
}

/* § 3.5 steps 2-3 without a ballot of our own: what we accept counts in
 * the quorum that confirms it, and confirming gives us the ballot (step 8). */
static void node_without_ballot_confirms_prepared_with_its_own_accept(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
    assert_int_equal(f->fake.emitted_count, 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_PREPARE);
    assert_ballot(&st->u.prepare.ballot, 1, "x");
    assert_ballot(&st->u.prepare.prepared, 1, "x");
    assert_int_equal(st->u.prepare.high_counter, 1);
    assert_int_equal(st->u.prepare.commit_counter, 1);
    fixture_free(f);
}

/* Once externalized, statements for another value are refused. */
static void externalized_slot_refuses_other_values(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    for (unsigned node = 1; node <= 2; node++)
        assert_int_equal(send_externalize(f, node, 1, "z", 1), 0);
    assert_int_equal(f->fake.externalized_count, 1);
    assert_int_equal(send_prepare(f, 3, 9, "w", 0, NULL, 0, NULL, 0, 0), SCP_E_STATE);
    assert_int_equal(send_prepare(f, 3, 9, "z", 0, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(f->fake.externalized_count, 1);
    fixture_free(f);
}

/* § 3.5 timers: armed only once a quorum is at our counter. */
static void ballot_timer_is_armed_only_after_hearing_a_quorum_at_the_counter(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_false(f->fake.timers[SCP_TIMER_BALLOT].armed);
    assert_int_equal(send_prepare(f, 1, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_false(f->fake.timers[SCP_TIMER_BALLOT].armed);
    assert_int_equal(send_prepare(f, 2, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_true(f->fake.timers[SCP_TIMER_BALLOT].armed);
    assert_int_equal(f->fake.timers[SCP_TIMER_BALLOT].delay_ms, 1000);
    assert_int_equal(f->fake.events[SCP_EVENT_HEARD_FROM_QUORUM], 1);
    fixture_free(f);
}

/* § 3.5 timers: expiry abandons the ballot for counter + 1; the next
 * timeout is longer. */
static void ballot_timer_expiry_moves_to_the_next_counter(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(scp_timer_fired(f->scp, SLOT, SCP_TIMER_BALLOT), 0);
    assert_ballot(&last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.ballot, 2, "x");
    assert_int_equal(send_prepare(f, 1, 2, "x", 1, "x", 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 2, "x", 1, "x", 0, NULL, 0, 0), 0);
    assert_true(f->fake.timers[SCP_TIMER_BALLOT].armed);
    assert_int_equal(f->fake.timers[SCP_TIMER_BALLOT].delay_ms, 2000);
    fixture_free(f);
}

/* § 3.5 step 9: a v-blocking set at higher counters pulls b up to the
 * lowest counter above which they are no longer v-blocking. */
static void vblocking_set_at_higher_counters_bumps_the_ballot(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 5, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_ballot(&last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.ballot, 1, "x");
    assert_int_equal(send_prepare(f, 2, 7, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_ballot(&last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.ballot, 5, "x");
    fixture_free(f);
}

/* § 3.5 step 2: accepting an incompatible prepared ballot above h drops
 * the commit vote (c = 0).  Threshold 4 of 4: one node is v-blocking, and
 * nothing new can be confirmed without all four. */
static void incompatible_prepared_above_high_cancels_the_commit_vote(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(4, 4);
    start_ballot(f, "x");
    for (unsigned node = 1; node <= 3; node++)
        assert_int_equal(send_prepare(f, node, 1, "x", 1, "x", 0, NULL, 0, 0), 0);
    assert_int_equal(last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.commit_counter, 1);
    assert_int_equal(send_prepare(f, 1, 2, "y", 2, "y", 0, NULL, 0, 0), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_PREPARE);
    assert_ballot(&st->u.prepare.prepared, 2, "y");
    assert_ballot(&st->u.prepare.prepared_prime, 1, "x");
    assert_int_equal(st->u.prepare.commit_counter, 0);
    assert_int_equal(st->u.prepare.high_counter, 1);
    fixture_free(f);
}

/* Statements are ordered; a statement not newer than the last one of its
 * node is refused (draft: only the latest statement of a node counts). */
static void statement_not_newer_than_the_last_is_refused(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    assert_int_equal(send_prepare(f, 1, 2, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 1, 2, "x", 0, NULL, 0, NULL, 0, 0), SCP_E_OLD_STATEMENT);
    assert_int_equal(send_prepare(f, 1, 1, "x", 0, NULL, 0, NULL, 0, 0), SCP_E_OLD_STATEMENT);
    assert_int_equal(send_confirm(f, 1, 2, "x", 1, 1, 1), 0);
    assert_int_equal(send_prepare(f, 1, 9, "x", 0, NULL, 0, NULL, 0, 0), SCP_E_OLD_STATEMENT);
    fixture_free(f);
}

/* The draft's validity rules for PREPARE, CONFIRM and EXTERNALIZE. */
static void statements_breaking_the_validity_rules_are_refused(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    /* p' must be below p and incompatible with it */
    assert_int_equal(send_prepare(f, 1, 3, "x", 2, "x", 2, "y", 0, 0), SCP_E_INSANE_STATEMENT);
    assert_int_equal(send_prepare(f, 1, 3, "x", 2, "y", 1, "y", 0, 0), SCP_E_INSANE_STATEMENT);
    /* h <= p, c <= h <= b */
    assert_int_equal(send_prepare(f, 1, 3, "x", 1, "x", 0, NULL, 0, 2), SCP_E_INSANE_STATEMENT);
    assert_int_equal(send_prepare(f, 1, 3, "x", 3, "x", 0, NULL, 2, 1), SCP_E_INSANE_STATEMENT);
    assert_int_equal(send_confirm(f, 1, 1, "x", 1, 1, 2), SCP_E_INSANE_STATEMENT);
    assert_int_equal(send_externalize(f, 1, 2, "x", 1), SCP_E_INSANE_STATEMENT);
    assert_int_equal(f->fake.events[SCP_EVENT_ENVELOPE_REJECTED], 6);
    fixture_free(f);
}

static void bad_signature_unknown_qset_and_invalid_value_are_refused(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    struct scp_envelope *env = envelope_new(f, 1, SCP_STATEMENT_PREPARE);
    ballot_of(&env->statement.u.prepare.ballot, 1, "x");
    test_sign(env);
    env->signature[0] ^= 1;
    assert_int_equal(scp_receive_envelope(f->scp, env), SCP_E_BAD_SIGNATURE);
    env->statement.qset_hash[0] ^= 1;
    test_sign(env);
    assert_int_equal(scp_receive_envelope(f->scp, env), SCP_E_QSET_UNKNOWN);
    free(env);
    f->fake.invalid_first_byte = '!';
    assert_int_equal(send_prepare(f, 1, 1, "!bad", 0, NULL, 0, NULL, 0, 0), SCP_E_INVALID_VALUE);
    fixture_free(f);
}

/* Crash safety: the driver stores the statements before each emission, and
 * a failing store suppresses the emission. */
static void own_statements_are_persisted_before_every_emission(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    reach_commit_vote(f);
    assert_true(f->fake.emitted_count >= 3);
    assert_true(f->fake.persisted_before_emit);
    assert_int_equal(f->fake.persisted_count, 2);
    size_t emitted = f->fake.emitted_count;
    f->fake.persist_result = -1;
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    assert_int_equal(f->fake.emitted_count, emitted);
    fixture_free(f);
}

/* Crash safety: a node restored from its persisted CONFIRM keeps the value
 * it accepted to commit, whatever its peers say afterwards. */
static void restored_node_never_contradicts_its_persisted_statement(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    reach_commit_vote(f);
    assert_int_equal(send_prepare(f, 1, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 1, "x", 0, NULL, 1, 1), 0);
    struct scp_envelope saved[2];
    size_t saved_count = f->fake.persisted_count;
    memcpy(saved, f->fake.persisted, sizeof saved);
    const struct scp_statement *before = last_of(f, SCP_STATEMENT_CONFIRM);
    struct scp_statement confirm = *before;

    scp_destroy(f->scp);
    fake_free(&f->fake);
    fake_init(&f->fake, &f->driver, f->ids[0]);
    fake_add_qset(&f->fake, &f->qset);
    assert_int_equal(scp_create(&f->driver, f->ids[0], &f->qset, &f->scp), 0);
    for (size_t i = 0; i < saved_count; i++)
        assert_int_equal(scp_restore(f->scp, &saved[i]), 0);
    assert_int_equal(send_prepare(f, 1, 4, "y", 4, "y", 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 4, "y", 4, "y", 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 3, 4, "y", 4, "y", 0, NULL, 0, 0), 0);
    for (size_t i = 0; i < f->fake.emitted_count; i++) {
        const struct scp_statement *st = &f->fake.emitted[i].statement;
        if (st->type == SCP_STATEMENT_NOMINATE)
            continue;
        assert_true(scp_statement_is_newer(&confirm, st));
        assert_int_not_equal(st->type, SCP_STATEMENT_PREPARE);
        assert_value(&st->u.confirm.ballot.value, "x");
    }
    assert_int_equal(f->fake.externalized_count, 0);
    fixture_free(f);
}

/* Slots are bounded (SCP_SLOTS_MAX); purging frees them and their timers. */
static void slots_are_bounded_and_purging_frees_them(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    start_ballot(f, "x");
    assert_int_equal(send_prepare(f, 1, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_int_equal(send_prepare(f, 2, 1, "x", 0, NULL, 0, NULL, 0, 0), 0);
    assert_true(f->fake.timers[SCP_TIMER_BALLOT].armed);
    const struct scp_envelope *latest[8];
    assert_int_equal(scp_latest_envelopes(f->scp, SLOT, latest, 8), 7); /* 3 ballots, 4 nominations */
    struct scp_value v, prev;
    test_value(&v, "y");
    test_value(&prev, "p");
    for (uint64_t s = 100; s < 100 + SCP_SLOTS_MAX - 1; s++)
        assert_int_equal(scp_nominate(f->scp, s, &v, &prev), 0);
    assert_int_equal(scp_nominate(f->scp, 999, &v, &prev), SCP_E_SLOT_LIMIT);
    scp_purge_slots_below(f->scp, SLOT + 1);
    assert_false(f->fake.timers[SCP_TIMER_BALLOT].armed);
    assert_int_equal(scp_latest_envelopes(f->scp, SLOT, latest, 8), 0);
    assert_int_equal(scp_nominate(f->scp, 999, &v, &prev), 0);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ballot_starts_at_counter_one_with_the_composite_candidate),
        cmocka_unit_test(prepare_is_accepted_when_a_quorum_votes_for_it),
        cmocka_unit_test(prepare_is_accepted_when_a_vblocking_set_accepted_it),
        cmocka_unit_test(prepare_confirmed_sets_high_and_commit),
        cmocka_unit_test(commit_accepted_moves_to_confirm),
        cmocka_unit_test(commit_confirmed_externalizes_exactly_once),
        cmocka_unit_test(quorum_of_externalize_decides_a_node_without_ballot),
        cmocka_unit_test(externalized_slot_refuses_other_values),
        cmocka_unit_test(node_without_ballot_confirms_prepared_with_its_own_accept),
        cmocka_unit_test(ballot_timer_is_armed_only_after_hearing_a_quorum_at_the_counter),
        cmocka_unit_test(ballot_timer_expiry_moves_to_the_next_counter),
        cmocka_unit_test(vblocking_set_at_higher_counters_bumps_the_ballot),
        cmocka_unit_test(incompatible_prepared_above_high_cancels_the_commit_vote),
        cmocka_unit_test(statement_not_newer_than_the_last_is_refused),
        cmocka_unit_test(statements_breaking_the_validity_rules_are_refused),
        cmocka_unit_test(bad_signature_unknown_qset_and_invalid_value_are_refused),
        cmocka_unit_test(own_statements_are_persisted_before_every_emission),
        cmocka_unit_test(restored_node_never_contradicts_its_persisted_statement),
        cmocka_unit_test(slots_are_bounded_and_purging_frees_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
