/*
 * metrics.c — the node's counters and GET /metrics in the Prometheus text
 * exposition format (version 0.0.4): `# HELP`, `# TYPE`, then samples;
 * histograms as cumulative `_bucket{le=...}`, `_sum`, `_count`.  Every
 * metric is named nanum_*, units last (seconds, bytes), counters end in
 * _total — what `promtool check metrics` asks for.
 *
 * Read next: spec/operating.md ("Reading the metrics"), node/daemon/api.c.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "ledger.h"
#include "http.h"
#include "log.h"
#include "storage.h"
#include "validator_list.h"

/* Upper bounds of the buckets, in milliseconds (a ledger closes about once
 * a second; catch-up and timeouts reach tens of seconds). */
static const uint64_t bucket_ms[NANUMD_METRICS_BUCKETS] = {50,   100,  250,  500,   750,   1000,
                                                            1500, 2000, 3000, 5000, 10000, 30000};

static const char *const phase_names[NANUMD_PHASE_COUNT] = {"candidate", "accepted_prepared", "confirmed_prepared",
                                                            "accepted_commit", "externalized"};

/* --- Recording ---------------------------------------------------------------------- */

void nanumd_metrics_observe(struct nanumd_histogram *h, uint64_t ms)
{
    size_t k = 0;
    while (k < NANUMD_METRICS_BUCKETS && ms > bucket_ms[k])
        k++;
    if (k < NANUMD_METRICS_BUCKETS)
        h->counts[k]++;
    h->count++;
    h->sum_ms += ms;
}

/* Times phase for slot, once per slot, from the slot's start. */
static void time_phase(struct nanumd *d, enum nanumd_phase phase, uint64_t slot)
{
    struct nanumd_metrics *m = &d->metrics;
    if (m->phase_slot[phase] >= slot || d->stats.slot_started_ms == 0 || slot != d->slot)
        return;
    m->phase_slot[phase] = slot;
    uint64_t now = uv_now(d->loop);
    nanumd_metrics_observe(&m->phase[phase], now > d->stats.slot_started_ms ? now - d->stats.slot_started_ms : 0);
}

void nanumd_metrics_consensus_event(struct nanumd *d, const struct scp_event *event)
{
    switch (event->type) {
    case SCP_EVENT_CANDIDATE_UPDATED:
        time_phase(d, NANUMD_PHASE_CANDIDATE, event->slot);
        break;
    case SCP_EVENT_ACCEPTED_PREPARED:
        time_phase(d, NANUMD_PHASE_ACCEPTED_PREPARED, event->slot);
        break;
    case SCP_EVENT_CONFIRMED_PREPARED:
        time_phase(d, NANUMD_PHASE_CONFIRMED_PREPARED, event->slot);
        break;
    case SCP_EVENT_ACCEPTED_COMMIT:
        time_phase(d, NANUMD_PHASE_ACCEPTED_COMMIT, event->slot);
        break;
    case SCP_EVENT_BALLOT_BUMPED:
        if (event->counter > 1)
            d->metrics.ballot_timeouts++;
        break;
    default:
        break;
    }
}

void nanumd_metrics_ledger_closed(struct nanumd *d, uint64_t slot, uint64_t latency_ms)
{
    nanumd_metrics_observe(&d->metrics.close_latency, latency_ms);
    if (d->metrics.phase_slot[NANUMD_PHASE_EXTERNALIZED] < slot) {
        d->metrics.phase_slot[NANUMD_PHASE_EXTERNALIZED] = slot;
        nanumd_metrics_observe(&d->metrics.phase[NANUMD_PHASE_EXTERNALIZED], latency_ms);
    }
}

void nanumd_metrics_tx_result(struct nanumd *d, unsigned code)
{
    d->metrics.tx_results[code < NANUMD_METRICS_RESULT_CODES ? code : NANUMD_METRICS_RESULT_CODES - 1]++;
}

int nanumd_metrics_quorum_intersection(struct nanumd *d)
{
    struct nanumd_metrics *m = &d->metrics;
    if (m->intersection_known && memcmp(m->intersection_set_hash, d->validator_set_hash, NODE_HASH_BYTES) == 0)
        return m->intersection;
    int verdict = -1;
    uint32_t n = d->validators.count;
    struct scp_network_node *nodes = n && d->qset ? calloc(n, sizeof *nodes) : NULL;
    if (nodes != NULL) {
        /* Every validator runs the default quorum set of the ledger's set
         * (node/daemon/herder.c build_qset), which is also ours. */
        for (uint32_t i = 0; i < n; i++) {
            memcpy(nodes[i].id, d->validators.validators[i].node_key, SCP_NODE_ID_BYTES);
            nodes[i].qset = d->qset;
        }
        struct scp_intersection r;
        memset(&r, 0, sizeof r);
        if (scp_check_intersection(nodes, n, SCP_CHECK_STEPS_MAX_DEFAULT, &r) == 0)
            verdict = r.intersects && r.has_quorum ? 1 : 0;
        scp_intersection_free(&r);
        free(nodes);
    }
    memcpy(m->intersection_set_hash, d->validator_set_hash, NODE_HASH_BYTES);
    m->intersection_known = true;
    m->intersection = verdict;
    return verdict;
}

/* --- The text --------------------------------------------------------------------- */

struct text {
    char *data;
    size_t len, cap;
    bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends formatted text, growing the buffer; remembers a failure. */
static void put(struct text *t, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
        char *grown = realloc(t->data, cap);
        if (grown == NULL) {
            t->failed = true;
            return;
        }
        t->data = grown;
        t->cap = cap;
    }
}

/* One metric family's header. */
static void family(struct text *t, const char *name, const char *type, const char *help)
{
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A gauge family with its one sample. */
static void gauge(struct text *t, const char *name, const char *help, double value)
{
    family(t, name, "gauge", help);
    put(t, "%s %.17g\n", name, value);
}

/* A counter family with its one sample. */
static void counter(struct text *t, const char *name, const char *help, uint64_t value)
{
    family(t, name, "counter", help);
    put(t, "%s %llu\n", name, (unsigned long long)value);
}

/* Samples of one histogram; labels is "" or `key="value",`. */
static void histogram_samples(struct text *t, const char *name, const char *labels,
                              const struct nanumd_histogram *h)
{
    uint64_t cumulative = 0;
    for (size_t k = 0; k < NANUMD_METRICS_BUCKETS; k++) {
        cumulative += h->counts[k];
        put(t, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, (double)bucket_ms[k] / 1000.0,
            (unsigned long long)cumulative);
    }
    put(t, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, labels, (unsigned long long)h->count);
    size_t n = strlen(labels);
    if (n > 0)
        put(t, "%s_sum{%.*s} %.3f\n%s_count{%.*s} %llu\n", name, (int)n - 1, labels, (double)h->sum_ms / 1000.0,
            name, (int)n - 1, labels, (unsigned long long)h->count);
    else
        put(t, "%s_sum %.3f\n%s_count %llu\n", name, (double)h->sum_ms / 1000.0, name,
            (unsigned long long)h->count);
}

/* The wall clock in unix milliseconds (ledger close times are in it). */
static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Height, age, closes and the close latency histogram. */
static void render_ledger(struct nanumd *d, struct text *t)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    uint64_t now = wall_ms();
    gauge(t, "nanum_ledger_height", "Height of the last closed ledger.", (double)last.height);
    gauge(t, "nanum_ledger_age_seconds", "Seconds since the last closed ledger's close time.",
          now > last.close_time_ms ? (double)(now - last.close_time_ms) / 1000.0 : 0.0);
    counter(t, "nanum_ledgers_closed_total", "Ledgers closed by consensus on this node.", d->stats.ledgers_closed);
    counter(t, "nanum_ledgers_caught_up_total", "Ledgers fetched from peers and replayed.",
            d->stats.ledgers_caught_up);
    family(t, "nanum_ledger_close_latency_seconds", "histogram",
           "Time from the start of a slot (nomination) to the ledger's commit.");
    histogram_samples(t, "nanum_ledger_close_latency_seconds", "", &d->metrics.close_latency);
}

/* Phase timings, timeouts, misbehaviour and the quorum's health. */
static void render_consensus(struct nanumd *d, struct text *t)
{
    family(t, "nanum_consensus_phase_seconds", "histogram",
           "Time from the start of a slot to the first time it reached each phase.");
    for (int p = 0; p < NANUMD_PHASE_COUNT; p++) {
        char labels[64];
        snprintf(labels, sizeof labels, "phase=\"%s\",", phase_names[p]);
        histogram_samples(t, "nanum_consensus_phase_seconds", labels, &d->metrics.phase[p]);
    }
    counter(t, "nanum_consensus_ballot_timeouts_total", "Ballot timeouts (the counter was bumped past 1).",
            d->metrics.ballot_timeouts);
    gauge(t, "nanum_consensus_slot", "The ledger height being agreed.", (double)d->slot);
    counter(t, "nanum_consensus_equivocations_total", "Validators seen saying two different things.",
            d->stats.equivocations_seen);
    counter(t, "nanum_ledger_hash_mismatches_total", "Validator ledger signatures over another hash than ours.",
            d->stats.hash_mismatches);
    gauge(t, "nanum_validators", "Validators in the ledger's validator set.", (double)d->validators.count);
    gauge(t, "nanum_quorum_intersection",
          "1 when every two quorums of the validator set intersect, 0 when two are disjoint, -1 unknown.",
          (double)nanumd_metrics_quorum_intersection(d));
}

/* Committed transactions by result code, submissions, the mempool. */
static void render_transactions(struct nanumd *d, struct text *t)
{
    family(t, "nanum_transactions_total", "counter", "Transactions in committed ledgers, by result code.");
    for (unsigned code = 0; code < NANUMD_METRICS_RESULT_CODES; code++)
        if (code == LEDGER_OK || d->metrics.tx_results[code] > 0)
            put(t, "nanum_transactions_total{result=\"%s\"} %llu\n", ledger_result_name(code),
                (unsigned long long)d->metrics.tx_results[code]);
    counter(t, "nanum_transactions_submitted_total", "Transactions submitted through the API, whatever the verdict.",
            d->stats.txs_submitted);
    counter(t, "nanum_transactions_from_peers_total", "Transactions admitted to the mempool from peers.",
            d->stats.txs_from_peers);
    counter(t, "nanum_mempool_expired_total",
            "Transactions dropped from the mempool after waiting 15 minutes (with their account's later ones).",
            d->stats.txs_expired);
    counter(t, "nanum_transaction_batches_sent_total",
            "Batches (txs messages) flooded: transactions submitted in one loop turn, sent together.",
            d->stats.tx_batches_sent);
    counter(t, "nanum_transactions_batched_total", "Transactions flooded inside batches.", d->stats.txs_batched);
    struct node_sigcache *cache = node_mempool_sigcache(d->mempool);
    family(t, "nanum_signature_checks_total", "counter",
           "Transaction signatures: verified, or known from the signature cache and not checked again.");
    put(t, "nanum_signature_checks_total{result=\"verified\"} %llu\n", (unsigned long long)cache->misses);
    put(t, "nanum_signature_checks_total{result=\"cached\"} %llu\n", (unsigned long long)cache->hits);
    gauge(t, "nanum_mempool_transactions", "Transactions waiting in the mempool.",
          (double)node_mempool_count(d->mempool));
    gauge(t, "nanum_mempool_bytes", "Bytes of the transactions waiting in the mempool.",
          (double)node_mempool_bytes(d->mempool));
}

/* Peer byte totals that never decrease: bytes of connections that closed
 * since the last scrape are kept (as last seen). */
static void render_peers(struct nanumd *d, struct text *t)
{
    struct nanumd_metrics *m = &d->metrics;
    static net_peer_info peers[NANUMD_METRICS_PEERS_MAX]; /* the loop thread only */
    size_t count = 0;
    if (d->net != NULL)
        net_peers(d->net, peers, NANUMD_METRICS_PEERS_MAX, &count);
    if (count > NANUMD_METRICS_PEERS_MAX)
        count = NANUMD_METRICS_PEERS_MAX;
    uint64_t in = 0, out = 0, outbound = 0;
    for (size_t i = 0; i < count; i++) {
        in += peers[i].bytes_received;
        out += peers[i].bytes_sent;
        outbound += peers[i].outbound;
    }
    for (uint32_t k = 0; k < m->peers_seen_count; k++) {
        bool still = false;
        for (size_t i = 0; i < count && !still; i++)
            still = peers[i].id == m->peers_seen[k].id;
        if (!still) {
            m->peer_bytes_in_closed += m->peers_seen[k].bytes_in;
            m->peer_bytes_out_closed += m->peers_seen[k].bytes_out;
        }
    }
    m->peers_seen_count = (uint32_t)count;
    for (size_t i = 0; i < count; i++) {
        m->peers_seen[i].id = peers[i].id;
        m->peers_seen[i].bytes_in = peers[i].bytes_received;
        m->peers_seen[i].bytes_out = peers[i].bytes_sent;
    }
    family(t, "nanum_peers", "gauge", "Connected peers by direction.");
    put(t, "nanum_peers{direction=\"inbound\"} %llu\n", (unsigned long long)(count - outbound));
    put(t, "nanum_peers{direction=\"outbound\"} %llu\n", (unsigned long long)outbound);
    gauge(t, "nanum_peers_configured", "Peers named in the configuration file.", (double)d->options.peer_count);
    counter(t, "nanum_peer_received_bytes_total", "Bytes read from peers.", in + m->peer_bytes_in_closed);
    counter(t, "nanum_peer_sent_bytes_total", "Bytes written to peers.", out + m->peer_bytes_out_closed);
}

/* Whether the node follows consensus and how far behind it is. */
static void render_catchup(struct nanumd *d, struct text *t)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    gauge(t, "nanum_synced", "1 when the node follows consensus, 0 while it catches up.", d->synced ? 1 : 0);
    gauge(t, "nanum_catchup_target_height", "The highest height a connected peer claims.",
          (double)d->best_peer_height);
    gauge(t, "nanum_catchup_remaining_ledgers", "Ledgers between ours and the best peer's.",
          d->best_peer_height > last.height ? (double)(d->best_peer_height - last.height) : 0.0);
    gauge(t, "nanum_catchup_request_in_flight", "1 while a request for ledgers awaits its answer.",
          d->catchup_requested_ms != 0 ? 1 : 0);
}

/* The validator-list fetcher's status (spec/validator-list.md). */
static void render_validator_list(struct nanumd *d, struct text *t)
{
    struct nanumd_vlist_status s;
    bool on = nanumd_vlist_status_get(d, &s);
    gauge(t, "nanum_validator_list_configured", "1 when a validator-list publisher and URL are configured.",
          on ? 1 : 0);
    if (!on)
        return;
    gauge(t, "nanum_validator_list_sequence", "Sequence of the last good list (0: none).",
          (double)(s.have_list ? s.sequence : 0));
    gauge(t, "nanum_validator_list_expiry_timestamp_seconds", "Unix time the last good list expires (0: none).",
          (double)(s.have_list ? s.expires_s : 0));
    gauge(t, "nanum_validator_list_expired", "1 when the last good list has expired (or there is none).",
          !s.have_list || s.expired ? 1 : 0);
    family(t, "nanum_validator_list_mismatch_validators", "gauge",
           "Validators on which the list and the ledger's set disagree.");
    put(t, "nanum_validator_list_mismatch_validators{side=\"list_only\"} %u\n", s.mismatch_missing);
    put(t, "nanum_validator_list_mismatch_validators{side=\"ledger_only\"} %u\n", s.mismatch_extra);
    gauge(t, "nanum_validator_list_last_success_timestamp_seconds", "Unix time of the last good fetch (0: never).",
          (double)s.last_success_s);
    gauge(t, "nanum_validator_list_consecutive_failures", "Fetches in a row that gave no good list.",
          (double)s.consecutive_failures);
    gauge(t, "nanum_validator_list_next_fetch_seconds", "Seconds until the next fetch.",
          (double)s.next_attempt_in_ms / 1000.0);
    family(t, "nanum_validator_list_fetches_total", "counter", "Fetches by outcome (accepted or the reason).");
    for (int k = 0; k < NANUMD_VLIST_OUTCOMES; k++) {
        const char *label = nanumd_vlist_outcome(-k);
        if (strcmp(label, "unknown") != 0)
            put(t, "nanum_validator_list_fetches_total{outcome=\"%s\"} %llu\n", label,
                (unsigned long long)s.outcomes[k]);
    }
    counter(t, "nanum_validator_list_peers_learned_total", "Peers dialled from the list's address hints.",
            s.peers_learned);
}

/* The LMDB map and the API transport's counters. */
static void render_store_and_api(struct nanumd *d, struct text *t)
{
    struct store_stats st;
    memset(&st, 0, sizeof st);
    store_stats_get(ledger_chain_store(d->chain), &st);
    gauge(t, "nanum_store_map_size_bytes", "Size of the LMDB map.", (double)st.map_size);
    gauge(t, "nanum_store_map_used_bytes", "Bytes of the LMDB map in use.", (double)st.map_used);
    counter(t, "nanum_store_map_grows_total", "Times the LMDB map grew since the node started.", st.map_grow_count);
    if (d->http == NULL)
        return;
    struct http_stats h;
    http_server_stats(d->http, &h);
    gauge(t, "nanum_api_connections", "Open API connections.", (double)h.connections_open);
    counter(t, "nanum_api_connections_accepted_total", "API connections accepted.", h.connections_accepted);
    counter(t, "nanum_api_connections_refused_total", "API connections refused at the limit.",
            h.connections_refused);
    counter(t, "nanum_api_requests_total", "API requests handled.", h.requests);
    counter(t, "nanum_api_errors_total", "Error responses made by the API transport.", h.errors);
    counter(t, "nanum_api_timeouts_total", "API connections closed by a request, idle or response timeout.",
            h.timeouts);
    counter(t, "nanum_api_slow_readers_dropped_total", "API clients dropped for not reading their response.",
            h.slow_readers_dropped);
}

int nanumd_metrics_render(struct nanumd *d, char **out, size_t *len)
{
    struct text t = {.cap = 16384};
    t.data = malloc(t.cap);
    if (t.data == NULL)
        return NODE_E_NOMEM;
    t.data[0] = '\0';
    family(&t, "nanum_build_info", "gauge", "Always 1; the labels say which build runs.");
    put(&t, "nanum_build_info{version=\"%s\",role=\"%s\"} 1\n", NANUM_VERSION,
        d->options.validator ? "validator" : "watcher");
    render_ledger(d, &t);
    render_consensus(d, &t);
    render_transactions(d, &t);
    render_peers(d, &t);
    render_catchup(d, &t);
    render_validator_list(d, &t);
    render_store_and_api(d, &t);
    if (t.failed) {
        free(t.data);
        return NODE_E_NOMEM;
    }
    *out = t.data;
    *len = t.len;
    return 0;
}

/* Appends ",name" (the first 12 characters of key's address) to out. */
static void append_name(char *out, size_t out_len, size_t *used, const uint8_t key[NODE_KEY_BYTES])
{
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(key, address);
    /* 12 characters name a validator well enough in a log line. */
    int n = snprintf(out + *used, out_len - *used, "%s%.12s", *used ? "," : "", address);
    if (n > 0 && *used + (size_t)n < out_len)
        *used += (size_t)n;
    else
        out[*used] = '\0'; /* no room: the name is left out whole */
}

size_t nanumd_metrics_silent_validators(struct nanumd *d, uint64_t slot, char *out, size_t out_len)
{
    enum { ENVELOPES_MAX = 256, NAMES_BYTES = 200 };
    const struct scp_envelope *heard[ENVELOPES_MAX];
    size_t heard_count = d->scp ? scp_latest_envelopes(d->scp, slot, heard, ENVELOPES_MAX) : 0;
    static net_peer_info peers[NANUMD_METRICS_PEERS_MAX]; /* the loop thread only */
    size_t peer_count = 0;
    if (d->net != NULL)
        net_peers(d->net, peers, NANUMD_METRICS_PEERS_MAX, &peer_count);
    if (peer_count > NANUMD_METRICS_PEERS_MAX)
        peer_count = NANUMD_METRICS_PEERS_MAX;
    char silent[NAMES_BYTES] = "", gone[NAMES_BYTES] = "";
    size_t silent_used = 0, gone_used = 0, silent_count = 0, gone_count = 0;
    for (uint32_t i = 0; i < d->validators.count; i++) {
        const uint8_t *key = d->validators.validators[i].node_key;
        if (memcmp(key, d->options.node_pk, NODE_KEY_BYTES) == 0)
            continue; /* ourselves */
        bool heard_from = false, connected = false;
        for (size_t k = 0; k < heard_count && !heard_from; k++)
            heard_from = memcmp(heard[k]->statement.node_id, key, NODE_KEY_BYTES) == 0;
        for (size_t k = 0; k < peer_count && !connected; k++)
            connected = memcmp(peers[k].public_key, key, NODE_KEY_BYTES) == 0;
        if (!heard_from) {
            silent_count++;
            append_name(silent, sizeof silent, &silent_used, key);
        }
        if (!connected) {
            gone_count++;
            append_name(gone, sizeof gone, &gone_used, key);
        }
    }
    snprintf(out, out_len, "not_heard_from=%zu validators=%s disconnected=%zu disconnected_validators=%s",
             silent_count, silent_count ? silent : "-", gone_count, gone_count ? gone : "-");
    return silent_count;
}

void nanumd_metrics_watch_stall(struct nanumd *d)
{
    if (!d->nominated || d->stopping || d->stats.slot_started_ms == 0)
        return;
    uint64_t now = uv_now(d->loop);
    uint64_t open_ms = now - d->stats.slot_started_ms;
    if (open_ms < NANUMD_STALL_LOG_MS || now - d->metrics.stall_logged_ms < NANUMD_STALL_LOG_MS)
        return;
    d->metrics.stall_logged_ms = now;
    const char *phase = "nominating";
    for (int p = 0; p < NANUMD_PHASE_COUNT; p++)
        if (d->metrics.phase_slot[p] == d->slot)
            phase = phase_names[p];
    char who[NANUMD_SILENT_TEXT_BYTES];
    nanumd_metrics_silent_validators(d, d->slot, who, sizeof who);
    NODE_LOG(NODE_LOG_WARN, "consensus_stalled", "slot=%llu phase=%s open_ms=%llu %s", (unsigned long long)d->slot,
             phase, (unsigned long long)open_ms, who);
}
