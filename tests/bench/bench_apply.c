/*
 * bench_apply.c — how fast a node applies ledgers, against the bound set by
 * signature checks on this machine.
 *
 * Applies ledgers of 1,000 signed transactions (pays, resource
 * registrations, bookings, cancellations, completions, ratings, proposals
 * and votes; tests/node/workload.h) to a durable store (fsync per ledger),
 * verifying every signature.  In the same run it measures the Ed25519
 * verify rate of all cores at once (verify_bound.h); that is the bound
 * (verification is spread over the cores; everything else is on one).
 *
 *   build/tests/bench/bench-apply [--ledgers N] [--runs R] [--dir DIR]
 *
 * Prints one JSON object: the medians of R runs, and each run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger.h"
#include "workload.h"
#include "verify_bound.h"

#define TX_PER_LEDGER 1000
#define VERIFY_SAMPLE 4000

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, compare_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Verifies per second of the whole machine over sample envelopes
 * (verify_bound.h). */
static double verify_rate(const uint8_t network_id[NODE_HASH_BYTES], struct node_buf *envs, int n)
{
    struct node_tx_envelope *decoded = malloc((size_t)n * sizeof *decoded);
    if (decoded == NULL)
        return 0;
    for (int i = 0; i < n; i++)
        node_envelope_decode(envs[i].data, envs[i].len, &decoded[i]);
    double rate = bench_verify_rate_all_cores(network_id, decoded, (size_t)n, NULL);
    free(decoded);
    return rate;
}

static void remove_store(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
}

/* One run: fresh store, apply all ledgers; returns tx/s (−1 on failure). */
static double apply_run(const char *dir, struct workload *model, int ledgers, struct node_buf **envs,
                        uint32_t *applied_ok)
{
    remove_store(dir);
    ledger_chain *c;
    char err[256];
    if (ledger_chain_open(dir, &model->genesis, NULL, &c, err, sizeof err) != 0) {
        fprintf(stderr, "bench-apply: %s\n", err);
        return -1;
    }
    const uint8_t **txs = malloc(TX_PER_LEDGER * sizeof *txs);
    size_t *lens = malloc(TX_PER_LEDGER * sizeof *lens);
    double start = now_s();
    for (int l = 0; l < ledgers; l++) {
        for (int i = 0; i < TX_PER_LEDGER; i++) {
            txs[i] = envs[l][i].data;
            lens[i] = envs[l][i].len;
        }
        struct node_header h;
        if (ledger_chain_close_ledger(c, (model->genesis.close_time + 600 * (uint64_t)(l + 1)) * 1000, txs,
                                      lens, TX_PER_LEDGER, &h) != 0) {
            fprintf(stderr, "bench-apply: ledger %d failed\n", l + 1);
            return -1;
        }
    }
    double elapsed = now_s() - start;
    *applied_ok = 0;
    for (int height = 1; height <= ledgers; height++) {
        uint8_t *bytes;
        size_t len;
        struct node_block blk;
        if (ledger_chain_block(c, (uint64_t)height, &bytes, &len) == 0 &&
            node_block_decode(bytes, len, &blk) == 0) {
            for (uint32_t i = 0; i < blk.tx_count; i++)
                *applied_ok += blk.results[i].code == 0;
            node_block_free(&blk);
        }
        free(bytes);
    }
    ledger_chain_close(c);
    free(txs);
    free(lens);
    return (double)ledgers * TX_PER_LEDGER / elapsed;
}

int main(int argc, char **argv)
{
    int ledgers = 20, runs = 3;
    char dir[256] = "";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ledgers") == 0)
            ledgers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--dir") == 0)
            snprintf(dir, sizeof dir, "%s", argv[i + 1]);
    }
    if (ledgers < 1 || runs < 1 || runs > 15 || node_crypto_init() != 0)
        return 2;
    char made[] = "/tmp/nanum-bench-apply-XXXXXX";
    if (dir[0] == '\0')
        snprintf(dir, sizeof dir, "%s", mkdtemp(made));
    /* The workload, signed up front: signing is the clients' cost. */
    static struct workload model;
    wl_init(&model, 99, 500);
    struct node_buf **envs = malloc((size_t)ledgers * sizeof *envs);
    for (int l = 0; l < ledgers; l++) {
        envs[l] = malloc(TX_PER_LEDGER * sizeof **envs);
        wl_ledger(&model, model.genesis.close_time + 600 * (uint64_t)(l + 1), TX_PER_LEDGER, envs[l]);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double tx_per_s[15], bound[15], ratio[15];
    uint32_t ok = 0;
    for (int r = 0; r < runs; r++) {
        bound[r] = verify_rate(model.genesis.network_id, envs[0],
                               VERIFY_SAMPLE < TX_PER_LEDGER ? VERIFY_SAMPLE : TX_PER_LEDGER);
        tx_per_s[r] = apply_run(dir, &model, ledgers, envs, &ok);
        if (tx_per_s[r] < 0)
            return 1;
        ratio[r] = tx_per_s[r] / bound[r];
    }
    printf("{\"bench\":\"apply\",\"tx_per_ledger\":%d,\"ledgers\":%d,\"runs\":%d,\"cores\":%ld,"
           "\"durable\":true,\"applied_ok\":%u,\"runs_tx_per_s\":[",
           TX_PER_LEDGER, ledgers, runs, cores, ok);
    for (int r = 0; r < runs; r++)
        printf("%s%.0f", r ? "," : "", tx_per_s[r]);
    printf("],\"runs_ratio\":[");
    for (int r = 0; r < runs; r++)
        printf("%s%.3f", r ? "," : "", ratio[r]);
    double m_tx = median(tx_per_s, runs), m_bound = median(bound, runs), m_ratio = median(ratio, runs);
    printf("],\"tx_per_s\":%.0f,\"verify_bound_per_s\":%.0f,\"ratio\":%.3f}\n", m_tx, m_bound,
           m_ratio);
    remove_store(dir);
    if (strncmp(dir, "/tmp/nanum-bench-apply-", 23) == 0)
        rmdir(dir);
    return 0;
}
