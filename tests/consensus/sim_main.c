/*
 * sim_main.c — the simulator's command line (read sim.h first).
 *
 *   test-consensus-sim                    CI mode: 1,200 seeded runs, the four
 *                                         topologies in turn; TAP output
 *   test-consensus-sim --runs N           CI mode with N runs
 *   test-consensus-sim --scenario T --seed S [--slots K] [--verbose]
 *                                         replay one run (the command printed
 *                                         when a run fails)
 *   test-consensus-sim --long [--seed S]  long mode: runs seeds S, S+1, ...
 *                                         over all topologies until stopped
 *                                         (Ctrl-C); prints progress and every
 *                                         failure with its replay command
 *
 * CI mode prints one TAP line per topology and a fifth saying the safety
 * comparison did catch the split of the network without intersection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_CI_RUNS_DEFAULT 1200u

static const char *program;

static bool run_one(enum sim_topology topology, uint64_t seed, bool verbose, uint32_t slots,
                    struct sim_result *result)
{
    struct sim_options options = {.topology = topology, .seed = seed, .faults = true,
                                  .slots = slots, .verbose = verbose};
    bool ok = sim_run(&options, result);
    if (!ok)
        printf("# FAILED %s seed %" PRIu64 ": %s\n# replay: %s --scenario %d --seed %" PRIu64
               " --slots %u --verbose\n",
               sim_topology_name(topology), seed, result->failure, program, (int)topology, seed, slots);
    return ok;
}

static int ci_mode(uint64_t runs, uint64_t first_seed, uint32_t slots)
{
    uint64_t failures[SIM_TOPOLOGIES_COUNT] = {0}, count[SIM_TOPOLOGIES_COUNT] = {0};
    uint64_t crashes = 0, partitions = 0, byzantine = 0, garbage = 0, diverged = 0;
    for (uint64_t i = 0; i < runs; i++) {
        enum sim_topology t = (enum sim_topology)(i % SIM_TOPOLOGIES_COUNT);
        struct sim_result r;
        count[t]++;
        if (!run_one(t, first_seed + i, false, slots, &r))
            failures[t]++;
        crashes += r.crashes;
        partitions += r.partitions;
        byzantine += r.byzantine;
        garbage += r.garbage_sent;
        diverged += r.diverged;
    }
    printf("1..%d\n", SIM_TOPOLOGIES_COUNT + 1);
    int bad = 0;
    for (int t = 0; t < SIM_TOPOLOGIES_COUNT; t++) {
        printf("%s %d - %s: %" PRIu64 " seeded runs, %" PRIu64 " failed\n", failures[t] ? "not ok" : "ok",
               t + 1, sim_topology_name((enum sim_topology)t), count[t], failures[t]);
        bad |= failures[t] != 0;
    }
    printf("# faults injected: %" PRIu64 " crashes, %" PRIu64 " partitions, %" PRIu64
           " byzantine nodes, %" PRIu64 " garbage messages\n", crashes, partitions, byzantine, garbage);
    /* The safety check has teeth: where quorums do not intersect, the same
     * comparison finds honest nodes deciding apart. */
    bool teeth = count[SIM_NO_INTERSECTION] == 0 || diverged > 0;
    printf("%s %d - without quorum intersection, honest nodes decided apart in %" PRIu64
           " of %" PRIu64 " runs (the safety comparison detects it)\n",
           teeth ? "ok" : "not ok", SIM_TOPOLOGIES_COUNT + 1, diverged, count[SIM_NO_INTERSECTION]);
    bad |= !teeth;
    return bad;
}

static int long_mode(uint64_t seed, uint32_t slots)
{
    uint64_t failures = 0;
    for (uint64_t i = 0;; i++, seed++) {
        struct sim_result r;
        if (!run_one((enum sim_topology)(seed % SIM_TOPOLOGIES_COUNT), seed, false, slots, &r))
            failures++;
        if (i % 1000 == 999) {
            printf("# %" PRIu64 " runs, %" PRIu64 " failures, next seed %" PRIu64 "\n", i + 1, failures, seed + 1);
            fflush(stdout);
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    program = argv[0];
    uint64_t runs = SIM_CI_RUNS_DEFAULT, seed = 1;
    int scenario = -1;
    bool verbose = false, long_run = false, seed_given = false;
    uint32_t slots = 3;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
            seed = strtoull(argv[++i], NULL, 10);
            seed_given = true;
        } else if (strcmp(argv[i], "--scenario") == 0 && i + 1 < argc)
            scenario = atoi(argv[++i]);
        else if (strcmp(argv[i], "--slots") == 0 && i + 1 < argc)
            slots = (uint32_t)atoi(argv[++i]);
        else if (strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--long") == 0)
            long_run = true;
        else {
            fprintf(stderr, "usage: %s [--runs N] [--scenario 0-3 --seed S [--verbose]] [--long [--seed S]] [--slots K]\n",
                    argv[0]);
            return 2;
        }
    }
    if (long_run)
        return long_mode(seed, slots);
    if (scenario >= 0 && scenario < SIM_TOPOLOGIES_COUNT && seed_given) {
        struct sim_result r;
        bool ok = run_one((enum sim_topology)scenario, seed, verbose, slots, &r);
        printf("%s: %s seed %" PRIu64 ", %" PRIu64 " ms virtual, %" PRIu64 " envelopes, %" PRIu64
               " decisions, %u crashes, %u partitions, %u byzantine\n",
               ok ? "ok" : "FAILED", sim_topology_name((enum sim_topology)scenario), seed,
               r.virtual_ms, r.envelopes_delivered, r.slots_externalized, r.crashes, r.partitions,
               r.byzantine);
        return ok ? 0 : 1;
    }
    return ci_mode(runs, seed, slots);
}
