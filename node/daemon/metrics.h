/*
 * metrics.h — what a running node counts for GET /metrics, and the
 * Prometheus text exposition of it (spec/operating.md lists every metric).
 *
 * The herder and catch-up call the record functions (a few integer updates
 * each, no allocation); node/daemon/api.c calls nanumd_metrics_render() when
 * Prometheus scrapes.  Gauges that the node already knows (height, mempool,
 * peers, store size, validator-list status) are read at render time, not
 * duplicated here.
 *
 * Read next: node/daemon/metrics.c.
 */
#ifndef NANUM_NODE_METRICS_H
#define NANUM_NODE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus.h"
#include "protocol.h"

struct nanumd;

#define NANUMD_METRICS_BUCKETS 12        /* histogram buckets, +Inf aside */
#define NANUMD_METRICS_RESULT_CODES 64   /* transaction result codes counted one by one */
#define NANUMD_METRICS_PEERS_MAX 256     /* peers whose byte counts are remembered between scrapes */

/* Phases of one slot, each timed from the start of the slot (nomination). */
enum nanumd_phase {
    NANUMD_PHASE_CANDIDATE = 0,      /* a nominated value was confirmed */
    NANUMD_PHASE_ACCEPTED_PREPARED,
    NANUMD_PHASE_CONFIRMED_PREPARED,
    NANUMD_PHASE_ACCEPTED_COMMIT,
    NANUMD_PHASE_EXTERNALIZED,       /* the ledger closed */
    NANUMD_PHASE_COUNT
};

/* A histogram over milliseconds, exposed in seconds. */
struct nanumd_histogram {
    uint64_t counts[NANUMD_METRICS_BUCKETS]; /* not cumulative: bucket k only */
    uint64_t count;
    uint64_t sum_ms;
};

struct nanumd_metrics {
    struct nanumd_histogram close_latency;
    struct nanumd_histogram phase[NANUMD_PHASE_COUNT];
    uint64_t phase_slot[NANUMD_PHASE_COUNT];  /* slot last timed per phase: once per slot */
    uint64_t tx_results[NANUMD_METRICS_RESULT_CODES]; /* the last entry also holds codes beyond */
    uint64_t ballot_timeouts;
    /* bytes of peers that disconnected, so totals never go down */
    uint64_t peer_bytes_in_closed, peer_bytes_out_closed;
    uint32_t peers_seen_count;
    struct {
        uint64_t id, bytes_in, bytes_out;
    } peers_seen[NANUMD_METRICS_PEERS_MAX];
    /* quorum intersection of the validator set, cached by its hash */
    uint8_t intersection_set_hash[NODE_HASH_BYTES];
    bool intersection_known;
    int intersection;                /* 1 intersects, 0 split, -1 undecided */
    uint64_t stall_logged_ms;        /* uv_now of the last consensus_stalled line */
};

#define NANUMD_STALL_LOG_MS 5000     /* a slot open this long is logged, and again as often */

/* Adds one observation (milliseconds) to h. */
void nanumd_metrics_observe(struct nanumd_histogram *h, uint64_t ms);
/* A consensus step happened (from the SCP driver's event callback). */
void nanumd_metrics_consensus_event(struct nanumd *d, const struct scp_event *event);
/* A ledger closed latency_ms after its slot started. */
void nanumd_metrics_ledger_closed(struct nanumd *d, uint64_t slot, uint64_t latency_ms);
/* One transaction of a committed ledger had this result code. */
void nanumd_metrics_tx_result(struct nanumd *d, unsigned code);

/* Writes into out the log fields "not_heard_from=N validators=A,B
 * disconnected=M disconnected_validators=C" ("-" for no names): the other
 * validators from whom no statement for slot is held, and those not
 * connected to us now, each named by the first 12 characters of its
 * address.  Returns N.  What an operator wants to know when a slot stalls. */
#define NANUMD_SILENT_TEXT_BYTES 512
size_t nanumd_metrics_silent_validators(struct nanumd *d, uint64_t slot, char *out, size_t out_len);

/* Called every herder tick: while this validator's slot stays open longer
 * than NANUMD_STALL_LOG_MS, logs (that often) a consensus_stalled line with
 * the slot, the last phase reached and the validators not heard from. */
void nanumd_metrics_watch_stall(struct nanumd *d);

/* Writes the exposition (text format 0.0.4) into *out (malloc'd,
 * NUL-terminated, *len bytes; the caller frees).  Returns 0 or NODE_E_NOMEM. */
int nanumd_metrics_render(struct nanumd *d, char **out, size_t *len);

/* 1 when every two quorums of the current validator set (each with the
 * default quorum set) intersect, 0 when two are disjoint, -1 when the check
 * gave up.  Cached until the set changes. */
int nanumd_metrics_quorum_intersection(struct nanumd *d);

#endif
