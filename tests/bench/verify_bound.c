/*
 * verify_bound.c — see verify_bound.h.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "verify_bound.h"

struct job {
    const uint8_t *network_id;
    const struct node_tx_envelope *envelopes;
    size_t count, ok;
    int cpu;
    double rate;
};

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(j->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
    double start = seconds_now();
    for (size_t i = 0; i < j->count; i++)
        j->ok += node_envelope_verify(&j->envelopes[i], j->network_id) == 0;
    j->rate = (double)j->count / (seconds_now() - start);
    return NULL;
}

double bench_verify_rate_all_cores(const uint8_t network_id[static NODE_HASH_BYTES],
                                   const struct node_tx_envelope *envelopes, size_t count, long *cores)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1 || n > 1024)
        n = 1;
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    double total = 0;
    long started = 0;
    for (long c = 0; jobs != NULL && threads != NULL && c < n; c++) {
        jobs[c] = (struct job){.network_id = network_id, .envelopes = envelopes, .count = count, .cpu = (int)c};
        if (pthread_create(&threads[c], NULL, job_main, &jobs[c]) != 0)
            break;
        started++;
    }
    for (long c = 0; c < started; c++) {
        pthread_join(threads[c], NULL);
        total += jobs[c].rate;
        if (jobs[c].ok != count)
            fprintf(stderr, "bench: %zu of %zu sample signatures failed\n", count - jobs[c].ok, count);
    }
    free(jobs);
    free(threads);
    if (cores != NULL)
        *cores = started;
    return started == n ? total : 0;
}
