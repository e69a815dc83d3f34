/*
 * verify.c — signature checks that overlap with applying.
 *
 * Ed25519 verification is most of the cost of a ledger.  The transactions of
 * a ledger are cut into chunks; worker threads (one per core, less the
 * caller) claim chunks in order and verify them.  The applying thread asks
 * for transaction i's status; while its chunk is not done, it claims and
 * verifies the next unclaimed chunk itself instead of waiting.  So every
 * core verifies all the time, and applying, which must be sequential,
 * overlaps with the verification of later transactions.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "ledger_internal.h"

#define VERIFY_CHUNK_TXS 8

struct ledger__verifier {
    const uint8_t *network_id;
    const uint8_t *const *txs;
    const size_t *lens;
    const bool *checked;
    uint32_t count, chunks;
    enum ledger_signature *status;
    atomic_uint next_chunk;
    atomic_uchar *done;
    unsigned threads;
    pthread_t ids[LEDGER_VERIFY_THREADS_MAX];
    bool started[LEDGER_VERIFY_THREADS_MAX];
};

/* Claims the next unverified chunk and verifies it; false if none is left. */
static bool verify_next_chunk(struct ledger__verifier *v)
{
    unsigned chunk = atomic_fetch_add(&v->next_chunk, 1);
    if (chunk >= v->chunks)
        return false;
    uint32_t end = (chunk + 1) * VERIFY_CHUNK_TXS;
    if (end > v->count)
        end = v->count;
    for (uint32_t i = chunk * VERIFY_CHUNK_TXS; i < end; i++) {
        if (v->checked != NULL && v->checked[i]) {
            v->status[i] = LEDGER_SIGNATURE_VALID;
            continue;
        }
        struct node_tx_envelope env;
        bool ok = node_envelope_open(v->txs[i], v->lens[i], v->network_id, true, &env, NULL) == 0;
        v->status[i] = ok ? LEDGER_SIGNATURE_VALID : LEDGER_SIGNATURE_INVALID;
    }
    atomic_store_explicit(&v->done[chunk], 1, memory_order_release);
    return true;
}

static void *worker(void *arg)
{
    struct ledger__verifier *v = arg;
    while (verify_next_chunk(v))
        ;
    return NULL;
}

unsigned ledger__verify_threads_default(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned n = online > 0 ? (unsigned)online : 1;
    return n > LEDGER_VERIFY_THREADS_MAX ? LEDGER_VERIFY_THREADS_MAX : n;
}

int ledger__verifier_start(const uint8_t network_id[static NODE_HASH_BYTES],
                           const uint8_t *const *txs, const size_t *lens, uint32_t count,
                           const bool *checked, unsigned threads, struct ledger__verifier **out)
{
    struct ledger__verifier *v = calloc(1, sizeof *v);
    if (v == NULL)
        return NODE_E_NOMEM;
    v->network_id = network_id;
    v->txs = txs;
    v->lens = lens;
    v->checked = checked;
    v->count = count;
    v->chunks = (count + VERIFY_CHUNK_TXS - 1) / VERIFY_CHUNK_TXS;
    v->status = calloc(count ? count : 1, sizeof *v->status);
    v->done = calloc(v->chunks ? v->chunks : 1, sizeof *v->done);
    if (v->status == NULL || v->done == NULL) {
        ledger__verifier_finish(v);
        return NODE_E_NOMEM;
    }
    atomic_init(&v->next_chunk, 0);
    if (threads == 0)
        threads = ledger__verify_threads_default();
    if (threads > LEDGER_VERIFY_THREADS_MAX)
        threads = LEDGER_VERIFY_THREADS_MAX;
    /* The caller's thread is one of the verifiers; the rest are workers.  A
     * worker that cannot start only means less parallelism. */
    v->threads = threads;
    for (unsigned t = 0; t + 1 < threads && t + 1 < v->chunks; t++)
        v->started[t] = pthread_create(&v->ids[t], NULL, worker, v) == 0;
    *out = v;
    return 0;
}

enum ledger_signature ledger__verifier_wait(struct ledger__verifier *v, uint32_t i)
{
    unsigned chunk = i / VERIFY_CHUNK_TXS;
    while (!atomic_load_explicit(&v->done[chunk], memory_order_acquire)) {
        if (!verify_next_chunk(v))
            sched_yield(); /* a worker holds it; it is at most one chunk away */
    }
    return v->status[i];
}

void ledger__verifier_finish(struct ledger__verifier *v)
{
    if (v == NULL)
        return;
    /* Workers stop when no chunk is left; claim the rest so they end soon. */
    while (verify_next_chunk(v))
        ;
    for (unsigned t = 0; t < LEDGER_VERIFY_THREADS_MAX; t++)
        if (v->started[t])
            pthread_join(v->ids[t], NULL);
    free(v->status);
    free(v->done);
    free(v);
}

int ledger_verify_signatures(const uint8_t network_id[static NODE_HASH_BYTES],
                             const uint8_t *const *txs, const size_t *lens, uint32_t count,
                             unsigned threads, enum ledger_signature *out)
{
    struct ledger__verifier *v;
    int rc = ledger__verifier_start(network_id, txs, lens, count, NULL, threads, &v);
    if (rc != 0)
        return rc;
    for (uint32_t i = 0; i < count; i++)
        out[i] = ledger__verifier_wait(v, i);
    ledger__verifier_finish(v);
    return 0;
}
