/*
 * sim.h — a deterministic simulator that runs N nodes of the real
 * consensus library in one process: virtual clock, seeded PRNG, a network
 * with per-link delay, loss, duplication and reordering, scheduled
 * partitions and heals, crashes and restarts from persisted statements,
 * and Byzantine nodes that equivocate, send garbage or stay silent.
 *
 * Every run checks Safety, Validity, Liveness and Self-consistency (see
 * sim.c and spec/consensus.md § Simulator).  A run is a pure function of
 * (scenario, seed): the same pair replays the same run exactly.
 */
#ifndef NANUM_TESTS_SIM_H
#define NANUM_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sim_topology {
    SIM_FOUR_OF_THRESHOLD_THREE = 0,   /* 4 nodes, threshold 3 */
    SIM_SEVEN_OF_THRESHOLD_FIVE = 1,   /* 7 nodes, threshold 5 */
    SIM_TIERED_THREE_ORGS = 2,         /* 3 orgs x 3 validators */
    SIM_NO_INTERSECTION = 3,           /* two groups that can decide apart */
    SIM_TOPOLOGIES_COUNT = 4,
};

struct sim_options {
    enum sim_topology topology;
    uint64_t seed;
    bool faults;                       /* false: a clean network (benchmarks) */
    uint32_t slots;                    /* slots to decide, 1..SIM_SLOTS_MAX */
    bool verbose;                      /* print the event trace to stderr */
};

#define SIM_SLOTS_MAX 8

struct sim_result {
    bool ok;
    char failure[256];                 /* which check failed, and where */
    uint64_t virtual_ms;               /* when the last honest node finished */
    uint64_t envelopes_delivered;      /* envelopes handed to scp_receive_envelope */
    uint64_t slots_externalized;       /* over all honest nodes */
    bool intersects;                   /* checker's verdict on the topology */
    bool diverged;                     /* honest nodes decided apart (only
                                          allowed where !intersects) */
    uint32_t crashes, partitions, byzantine, garbage_sent;
};

const char *sim_topology_name(enum sim_topology t);
/* Runs one simulation and fills *result; returns result->ok. */
bool sim_run(const struct sim_options *options, struct sim_result *result);

#endif
