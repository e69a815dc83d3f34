/*
 * test_quorum.c — the network's quorum sets and their intersection check:
 * the closed form of node/protocol/quorum.c agrees with consensus/'s general checker,
 * the default threshold is ⌊2n/3⌋ + 1, and governance refuses a threshold
 * that loses intersection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixture.h"
#include "protocol.h"

/* n orgs with per_org validators each. */
static void make_set(struct node_validator_set *set, uint32_t orgs, uint32_t per_org)
{
    set->count = orgs * per_org;
    set->validators = calloc(set->count, sizeof *set->validators);
    for (uint32_t i = 0; i < set->count; i++) {
        set->validators[i].node_key[0] = (uint8_t)(i >> 8);
        set->validators[i].node_key[1] = (uint8_t)i;
        set->validators[i].node_key[2] = 1;
        set->validators[i].org[0] = (uint8_t)((i / per_org + 1) >> 8);
        set->validators[i].org[1] = (uint8_t)(i / per_org + 1);
    }
}

static bool general_checker_says(const struct node_validator_set *set, uint64_t bp)
{
    struct scp_qset *qset;
    assert_int_equal(node_quorum_build(set, bp, &qset), 0);
    struct scp_network_node *nodes = calloc(set->count, sizeof *nodes);
    for (uint32_t i = 0; i < set->count; i++) {
        memcpy(nodes[i].id, set->validators[i].node_key, SCP_NODE_ID_BYTES);
        nodes[i].qset = qset;
    }
    struct scp_intersection r;
    assert_int_equal(scp_check_intersection(nodes, set->count, 0, &r), 0);
    bool ok = r.intersects && r.has_quorum;
    scp_intersection_free(&r);
    free(nodes);
    free(qset);
    return ok;
}

static void closed_form_agrees_with_the_general_checker(void **state)
{
    (void)state;
    static const uint64_t thresholds[] = {1, 2500, 4999, 5000, 5001, 6667, 10000};
    /* The general checker's search grows fast with mutually dependent
     * orgs: up to 6 orgs of up to 2 validators keeps this under a second. */
    for (uint32_t orgs = 1; orgs <= 6; orgs++)
        for (uint32_t per = 1; per <= 2; per++)
            for (size_t k = 0; k < sizeof thresholds / sizeof thresholds[0]; k++) {
                struct node_validator_set set;
                make_set(&set, orgs, per);
                bool fast = node_quorum_intersects(&set, thresholds[k]);
                bool general = general_checker_says(&set, thresholds[k]);
                if (fast != general)
                    fail_msg("%u orgs x %u, %llu bp: closed form %d, checker %d", orgs, per,
                             (unsigned long long)thresholds[k], fast, general);
                node_validator_set_free(&set);
            }
}

static void default_threshold_is_two_thirds_plus_one(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 31,
                                     64, 99, 100, 101, 257, 333, 334, 500, 999, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t orgs = sizes[k];
        struct node_validator_set set;
        make_set(&set, orgs, 1);
        struct scp_qset *qset;
        assert_int_equal(node_quorum_build(&set, 6667, &qset), 0);
        if (qset->threshold != 2 * orgs / 3 + 1 && !(orgs == 1 && qset->threshold == 1))
            fail_msg("%u orgs: threshold %u, expected %u", orgs, qset->threshold, 2 * orgs / 3 + 1);
        assert_int_equal(qset->inner[0].threshold, 1);
        free(qset);
        node_validator_set_free(&set);
    }
}

static unsigned propose_threshold(struct fx *f, uint64_t bp)
{
    struct node_tx tx = fx_tx(f, FX_ALICE, NODE_TX_GOV_PROPOSE);
    tx.body.gov_propose.kind = NODE_PROPOSAL_PARAM_SET;
    snprintf(tx.body.gov_propose.title, sizeof tx.body.gov_propose.title, "threshold");
    tx.body.gov_propose.u.param_set.param_id = NODE_PARAM_quorum_threshold_bp;
    tx.body.gov_propose.u.param_set.value = bp;
    return fx_apply(f, FX_ALICE, &tx);
}

static void governance_refuses_a_threshold_that_loses_intersection(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    /* The fixture has one org (3 validators): any threshold keeps 1 of 1.
     * Give it three more orgs of one validator each. */
    struct node_validator_set set;
    assert_int_equal(ledger_validators_get(f->st, &set), 0);
    node_validator_set_free(&set);
    make_set(&set, 4, 1);
    for (uint32_t i = 0; i < set.count; i++) {
        memcpy(set.validators[i].org, f->pk[i == 0 ? FX_ORG : i == 1 ? FX_ALICE : i == 2 ? FX_BOB : FX_DAVE],
               NODE_KEY_BYTES);
        struct node_account a = fx_account(f, i == 0 ? FX_ORG : i == 1 ? FX_ALICE : i == 2 ? FX_BOB : FX_DAVE);
        a.flags |= NODE_ACCOUNT_ORG;
        assert_int_equal(ledger_account_put(f->st, &a), 0);
    }
    struct node_buf b;
    node_buf_init(&b);
    assert_int_equal(node_validator_set_encode(&set, &b), 0);
    assert_int_equal(ledger_state_put(f->st, LEDGER_TABLE_GLOBALS, (const uint8_t *)"validators", 10, b.data, b.len), 0);
    node_buf_free(&b);
    node_validator_set_free(&set);
    /* 4 orgs: 4,999 bp gives 2 of 4 — two disjoint quorums.  5,000 gives 3. */
    assert_int_equal(propose_threshold(f, 4999), LEDGER_QUORUM_LOST);
    assert_int_equal(propose_threshold(f, 5000), LEDGER_OK);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closed_form_agrees_with_the_general_checker),
        cmocka_unit_test(default_threshold_is_two_thirds_plus_one),
        cmocka_unit_test(governance_refuses_a_threshold_that_loses_intersection),
    };
    return cmocka_run_group_tests_name("quorum", tests, NULL, NULL);
}
