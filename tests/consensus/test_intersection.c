/*
 * test_intersection.c — the quorum-intersection checker: verdicts, the
 * split it names, and its speed on tiered networks of 100+ nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "consensus.h"

#define NODES_MAX 256

typedef const uint8_t (*ids_t)[SCP_NODE_ID_BYTES];

struct network {
    size_t count;
    struct scp_network_node nodes[NODES_MAX];
    uint8_t ids[NODES_MAX][SCP_NODE_ID_BYTES];
    struct scp_qset qsets[NODES_MAX];
    struct scp_qset inner[64];
};

static struct network *network_new(size_t count)
{
    struct network *net = calloc(1, sizeof *net);
    net->count = count;
    for (size_t i = 0; i < NODES_MAX; i++) {
        net->ids[i][0] = (uint8_t)(i >> 8);
        net->ids[i][1] = (uint8_t)i;
        net->ids[i][31] = 0x77;
    }
    for (size_t i = 0; i < count; i++) {
        memcpy(net->nodes[i].id, net->ids[i], SCP_NODE_ID_BYTES);
        net->nodes[i].qset = &net->qsets[i];
    }
    return net;
}

/* Checks the verdict and, for a split, that both sides are disjoint quorums. */
static void assert_verdict(struct network *net, bool intersects)
{
    struct scp_intersection r;
    assert_int_equal(scp_check_intersection(net->nodes, net->count, 0, &r), 0);
    assert_int_equal(r.intersects, intersects);
    if (!intersects) {
        assert_true(r.quorum_a_count > 0);
        assert_true(r.quorum_b_count > 0);
        assert_true(scp_is_quorum(net->nodes, net->count, r.quorum_a, r.quorum_a_count));
        assert_true(scp_is_quorum(net->nodes, net->count, r.quorum_b, r.quorum_b_count));
        for (size_t i = 0; i < r.quorum_a_count; i++)
            for (size_t j = 0; j < r.quorum_b_count; j++)
                assert_int_not_equal(r.quorum_a[i], r.quorum_b[j]);
    }
    scp_intersection_free(&r);
}

static void symmetric_threshold_network_intersects_only_above_half(void **state)
{
    (void)state;
    struct network *net = network_new(7);
    for (size_t i = 0; i < 7; i++)
        net->qsets[i] = (struct scp_qset){4, 7, (ids_t)net->ids, 0, NULL};
    assert_verdict(net, true);
    for (size_t i = 0; i < 7; i++)
        net->qsets[i].threshold = 3;
    assert_verdict(net, false);
    free(net);
}

static void groups_trusting_mostly_themselves_are_split(void **state)
{
    (void)state;
    struct network *net = network_new(6);
    memcpy(net->ids[6], net->ids[0], SCP_NODE_ID_BYTES);
    for (size_t i = 0; i < 6; i++)
        net->qsets[i] = (struct scp_qset){2, 4, (ids_t)net->ids + (i < 3 ? 0 : 3), 0, NULL};
    assert_verdict(net, false);
    free(net);
}

static void quorums_in_two_components_are_reported_disjoint(void **state)
{
    (void)state;
    struct network *net = network_new(4);
    for (size_t i = 0; i < 4; i++)
        net->qsets[i] = (struct scp_qset){2, 2, (ids_t)net->ids + (i < 2 ? 0 : 2), 0, NULL};
    assert_verdict(net, false);
    free(net);
}

static void nodes_without_quorum_sets_are_never_in_a_quorum(void **state)
{
    (void)state;
    struct network *net = network_new(4);
    for (size_t i = 0; i < 4; i++)
        net->qsets[i] = (struct scp_qset){2, 4, (ids_t)net->ids, 0, NULL};
    net->nodes[2].qset = NULL;
    net->nodes[3].qset = NULL;
    /* {0,1} is the only quorum: it intersects itself. */
    assert_verdict(net, true);
    uint32_t members[] = {0, 2};
    assert_false(scp_is_quorum(net->nodes, net->count, members, 2));
    free(net);
}

static void network_without_any_quorum_trivially_intersects(void **state)
{
    (void)state;
    struct network *net = network_new(3);
    for (size_t i = 0; i < 3; i++)
        net->nodes[i].qset = NULL;
    struct scp_intersection r;
    assert_int_equal(scp_check_intersection(net->nodes, net->count, 0, &r), 0);
    assert_true(r.intersects);
    assert_false(r.has_quorum);
    free(net);
}

/* Tier 1: `orgs` organizations of 3 validators, each org 2 of 3, the top
 * `top_threshold` of the orgs; then `watchers` nodes that trust tier 1. */
static struct network *tiered(size_t orgs, uint32_t top_threshold, size_t watchers)
{
    struct network *net = network_new(orgs * 3 + watchers);
    for (size_t o = 0; o < orgs; o++)
        net->inner[o] = (struct scp_qset){2, 3, (ids_t)net->ids + 3 * o, 0, NULL};
    for (size_t i = 0; i < net->count; i++)
        net->qsets[i] = (struct scp_qset){top_threshold, 0, NULL, (uint32_t)orgs, net->inner};
    return net;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static void tiered_network_of_111_nodes_is_decided_within_seconds(void **state)
{
    (void)state;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct network *net = tiered(7, 5, 90);
    assert_verdict(net, true);
    free(net);
    net = tiered(7, 3, 90);
    assert_verdict(net, false);
    free(net);
    double elapsed = seconds_since(&start);
    print_message("# 111-node tiered networks (both verdicts): %.3f s\n", elapsed);
    assert_true(elapsed < 10.0);
}

/* Every validator in one component: the search cannot be pruned by
 * components; 8 orgs keep it well under a second (10 orgs take about 2 s,
 * see bench-consensus). */
static void symmetric_tier_of_twenty_four_validators_is_decided_within_seconds(void **state)
{
    (void)state;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct network *net = tiered(8, 6, 0);
    assert_verdict(net, true);
    free(net);
    double elapsed = seconds_since(&start);
    print_message("# 24-validator tier (8 orgs): %.3f s\n", elapsed);
    assert_true(elapsed < 10.0);
}

static void exhausted_step_budget_is_an_error_not_a_verdict(void **state)
{
    (void)state;
    struct network *net = tiered(7, 5, 0);
    struct scp_intersection r;
    assert_int_equal(scp_check_intersection(net->nodes, net->count, 3, &r), SCP_E_CHECK_BUDGET);
    assert_null(r.quorum_a);
    free(net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(symmetric_threshold_network_intersects_only_above_half),
        cmocka_unit_test(groups_trusting_mostly_themselves_are_split),
        cmocka_unit_test(quorums_in_two_components_are_reported_disjoint),
        cmocka_unit_test(nodes_without_quorum_sets_are_never_in_a_quorum),
        cmocka_unit_test(network_without_any_quorum_trivially_intersects),
        cmocka_unit_test(tiered_network_of_111_nodes_is_decided_within_seconds),
        cmocka_unit_test(symmetric_tier_of_twenty_four_validators_is_decided_within_seconds),
        cmocka_unit_test(exhausted_step_budget_is_an_error_not_a_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
