/*
 * test_nomination.c — unit tests of nomination (draft § 3.4), named after
 * the rule they pin down, on the four-node fixture (fixture.h).
 */
#include "fixture.h"

static void nominate(struct fixture *f, const char *x)
{
    struct scp_value v, prev;
    test_value(&v, x);
    test_value(&prev, "genesis");
    assert_int_equal(scp_nominate(f->scp, SLOT, &v, &prev), 0);
}

/* § 3.4 with a one-node quorum: the node leads every round, accepts and
 * confirms its own value, and the ballot protocol decides it. */
static void single_node_network_decides_its_own_value(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 1);
    nominate(f, "solo");
    assert_int_equal(f->fake.externalized_count, 1);
    assert_value(&f->fake.externalized_value, "solo");
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_EXTERNALIZE);
    assert_ballot(&st->u.externalize.commit, 1, "solo");
    assert_false(f->fake.timers[SCP_TIMER_NOMINATION].armed);
    fixture_free(f);
}

/* § 3.4 timeouts: each round's timer is longer than the last. */
static void nomination_round_timeouts_grow(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    nominate(f, "x");
    assert_true(f->fake.timers[SCP_TIMER_NOMINATION].armed);
    assert_int_equal(f->fake.timers[SCP_TIMER_NOMINATION].delay_ms, 1000);
    assert_int_equal(scp_timer_fired(f->scp, SLOT, SCP_TIMER_NOMINATION), 0);
    assert_int_equal(f->fake.timers[SCP_TIMER_NOMINATION].delay_ms, 2000);
    assert_int_equal(scp_timer_fired(f->scp, SLOT, SCP_TIMER_NOMINATION), 0);
    assert_int_equal(f->fake.timers[SCP_TIMER_NOMINATION].delay_ms, 3000);
    fixture_free(f);
}

/* § 3.4: after a few rounds every node of the quorum set has had a chance
 * to lead, so a lone proposer is eventually voted for by itself. */
static void a_node_votes_for_its_value_once_it_leads_a_round(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    nominate(f, "x");
    for (int round = 0; round < 40 && f->fake.emitted_count == 0; round++)
        assert_int_equal(scp_timer_fired(f->scp, SLOT, SCP_TIMER_NOMINATION), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_NOMINATE);
    assert_int_equal(st->u.nominate.votes_count, 1);
    assert_value(&st->u.nominate.votes[0], "x");
    fixture_free(f);
}

/* § 3.4 federated accept: a quorum voting for y. */
static void value_is_accepted_when_a_quorum_votes_for_it(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    nominate(f, "x");
    assert_int_equal(send_nominate(f, 1, "y", ""), 0);
    assert_int_equal(send_nominate(f, 2, "y", ""), 0);
    assert_int_equal(send_nominate(f, 3, "y", ""), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_NOMINATE);
    assert_int_equal(st->u.nominate.accepted_count, 1);
    assert_value(&st->u.nominate.accepted[0], "y");
    fixture_free(f);
}

/* § 3.4 federated accept: a v-blocking set that accepted y. */
static void value_is_accepted_when_a_vblocking_set_accepted_it(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    nominate(f, "x");
    assert_int_equal(send_nominate(f, 1, "", "y"), 0);
    for (size_t i = 0; i < f->fake.emitted_count; i++) /* a leader's vote may be echoed */
        assert_int_equal(f->fake.emitted[i].statement.u.nominate.accepted_count, 0);
    assert_int_equal(send_nominate(f, 2, "", "y"), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_NOMINATE);
    assert_int_equal(st->u.nominate.accepted_count, 1);
    assert_value(&st->u.nominate.accepted[0], "y");
    fixture_free(f);
}

/* § 3.4 candidates: a quorum accepting y makes it a candidate; the ballot
 * protocol starts on the composite and nomination rounds stop. */
static void candidate_is_confirmed_when_a_quorum_accepts_and_starts_the_ballot(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    nominate(f, "x");
    assert_int_equal(send_nominate(f, 1, "y", "y"), 0);
    assert_int_equal(send_nominate(f, 2, "y", "y"), 0);
    assert_ballot(&last_of(f, SCP_STATEMENT_PREPARE)->u.prepare.ballot, 1, "y");
    assert_false(f->fake.timers[SCP_TIMER_NOMINATION].armed);
    assert_int_equal(f->fake.events[SCP_EVENT_CANDIDATE_UPDATED], 1);
    assert_int_equal(scp_timer_fired(f->scp, SLOT, SCP_TIMER_NOMINATION), 0);
    assert_false(f->fake.timers[SCP_TIMER_NOMINATION].armed);
    fixture_free(f);
}

/* Nomination statements only grow: a repeat or a shrink is old. */
static void nomination_statement_must_grow(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    assert_int_equal(send_nominate(f, 1, "yz", ""), 0);
    assert_int_equal(send_nominate(f, 1, "yz", ""), SCP_E_OLD_STATEMENT);
    assert_int_equal(send_nominate(f, 1, "y", "z"), SCP_E_OLD_STATEMENT);
    assert_int_equal(send_nominate(f, 1, "yz", "z"), 0);
    fixture_free(f);
}

/* Vote and accepted lists are strictly ascending and not both empty. */
static void unsorted_or_empty_nomination_is_refused(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    assert_int_equal(send_nominate(f, 1, "zy", ""), SCP_E_INSANE_STATEMENT);
    assert_int_equal(send_nominate(f, 1, "yy", ""), SCP_E_INSANE_STATEMENT);
    assert_int_equal(send_nominate(f, 1, "", ""), SCP_E_INSANE_STATEMENT);
    fixture_free(f);
}

/* A nomination carrying a value the driver calls invalid is refused whole. */
static void nomination_with_an_invalid_value_is_refused(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    f->fake.invalid_first_byte = '!';
    assert_int_equal(send_nominate(f, 1, "!y", ""), SCP_E_INVALID_VALUE);
    fixture_free(f);
}

/* Crash safety: restored votes are kept, later nominations contain them. */
static void restored_nomination_keeps_its_votes(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 4);
    struct scp_envelope *own = envelope_new(f, 0, SCP_STATEMENT_NOMINATE);
    test_value(&own->statement.u.nominate.votes[0], "w");
    own->statement.u.nominate.votes_count = 1;
    test_sign(own);
    assert_int_equal(scp_restore(f->scp, own), 0);
    nominate(f, "x");
    assert_int_equal(send_nominate(f, 1, "", "y"), 0);
    assert_int_equal(send_nominate(f, 2, "", "y"), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_NOMINATE);
    assert_true(scp_statement_is_newer(&own->statement, st));
    free(own);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_node_network_decides_its_own_value),
        cmocka_unit_test(nomination_round_timeouts_grow),
        cmocka_unit_test(a_node_votes_for_its_value_once_it_leads_a_round),
        cmocka_unit_test(value_is_accepted_when_a_quorum_votes_for_it),
        cmocka_unit_test(value_is_accepted_when_a_vblocking_set_accepted_it),
        cmocka_unit_test(candidate_is_confirmed_when_a_quorum_accepts_and_starts_the_ballot),
        cmocka_unit_test(nomination_statement_must_grow),
        cmocka_unit_test(unsorted_or_empty_nomination_is_refused),
        cmocka_unit_test(nomination_with_an_invalid_value_is_refused),
        cmocka_unit_test(restored_nomination_keeps_its_votes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
