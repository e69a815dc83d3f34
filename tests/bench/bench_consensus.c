/*
 * bench_consensus.c — consensus/ benchmarks, printed as one JSON object:
 *   - for the three topologies (4 nodes t=3, 7 nodes t=5, 3 orgs x 3), the
 *     simulator on a clean network (no faults): slots externalized per
 *     second of wall time, and envelopes processed per second;
 *   - the quorum-intersection checker on tiered networks.
 * Usage: bench-consensus [RUNS]   (default 40 runs of 8 slots each)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consensus.h"
#include "sim.h"

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void bench_topology(enum sim_topology topology, uint64_t runs, bool last)
{
    static const int nodes[] = {4, 7, 9};
    uint64_t envelopes = 0, decisions = 0, virtual_ms = 0, failures = 0;
    double start = now_seconds();
    for (uint64_t seed = 1; seed <= runs; seed++) {
        struct sim_options options = {.topology = topology, .seed = seed, .faults = false,
                                      .slots = SIM_SLOTS_MAX};
        struct sim_result r;
        failures += !sim_run(&options, &r);
        envelopes += r.envelopes_delivered;
        decisions += r.slots_externalized;
        virtual_ms += r.virtual_ms;
    }
    double seconds = now_seconds() - start;
    uint64_t slots = runs * SIM_SLOTS_MAX;
    printf("    {\"topology\": \"%s\", \"nodes\": %d, \"runs\": %" PRIu64 ", \"slots\": %" PRIu64
           ", \"failures\": %" PRIu64 ", \"wall_seconds\": %.3f, \"slots_externalized_per_second\": %.1f"
           ", \"node_decisions_per_second\": %.1f, \"envelopes_processed_per_second\": %.1f"
           ", \"virtual_ms_per_slot\": %.1f}%s\n",
           sim_topology_name(topology), nodes[topology], runs, slots, failures, seconds,
           (double)slots / seconds, (double)decisions / seconds, (double)envelopes / seconds,
           (double)virtual_ms / (double)slots, last ? "" : ",");
}

/* Tier of `orgs` organizations (2 of 3 validators each, top threshold
 * floor(2n/3)+1) plus `watchers` that trust it. */
static void bench_checker(size_t orgs, size_t watchers, uint64_t steps_max, bool last)
{
    size_t count = orgs * 3 + watchers;
    uint8_t (*ids)[SCP_NODE_ID_BYTES] = calloc(count, SCP_NODE_ID_BYTES);
    struct scp_qset *inner = calloc(orgs, sizeof *inner);
    struct scp_network_node *net = calloc(count, sizeof *net);
    if (!ids || !inner || !net)
        exit(1);
    for (size_t i = 0; i < count; i++) {
        ids[i][0] = (uint8_t)(i >> 8);
        ids[i][1] = (uint8_t)i;
        memcpy(net[i].id, ids[i], SCP_NODE_ID_BYTES);
    }
    for (size_t o = 0; o < orgs; o++)
        inner[o] = (struct scp_qset){2, 3, (const uint8_t(*)[SCP_NODE_ID_BYTES])ids + 3 * o, 0, NULL};
    struct scp_qset top = {(uint32_t)(2 * orgs / 3 + 1), 0, NULL, (uint32_t)orgs, inner};
    for (size_t i = 0; i < count; i++)
        net[i].qset = &top;
    struct scp_intersection r;
    double start = now_seconds();
    int rc = scp_check_intersection(net, count, steps_max, &r);
    double seconds = now_seconds() - start;
    printf("    {\"orgs\": %zu, \"validators\": %zu, \"watchers\": %zu, \"result\": \"%s\", "
           "\"steps\": %" PRIu64 ", \"seconds\": %.4f}%s\n",
           orgs, orgs * 3, watchers, rc ? scp_errname(rc) : r.intersects ? "intersects" : "split",
           r.steps, seconds, last ? "" : ",");
    scp_intersection_free(&r);
    free(ids);
    free(inner);
    free(net);
}

int main(int argc, char **argv)
{
    uint64_t runs = argc > 1 ? strtoull(argv[1], NULL, 10) : 40;
    if (runs == 0)
        runs = 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("{\n  \"benchmark\": \"consensus\",\n  \"simulated_clean_network\": [\n");
    bench_topology(SIM_FOUR_OF_THRESHOLD_THREE, runs, false);
    bench_topology(SIM_SEVEN_OF_THRESHOLD_FIVE, runs, false);
    bench_topology(SIM_TIERED_THREE_ORGS, runs, true);
    printf("  ],\n  \"intersection_checker\": [\n");
    bench_checker(7, 100, 0, false);
    bench_checker(8, 0, 0, false);
    bench_checker(10, 0, 0, false);
    /* one component of 102 validators: beyond the search (budget 200,000 steps) */
    bench_checker(34, 0, 200000, true);
    printf("  ]\n}\n");
    return 0;
}
