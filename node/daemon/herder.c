/*
 * herder.c — the consensus driver: it turns waiting transactions into
 * ledgers by running SCP (consensus/) over values
 *     [tx-set Merkle root, close time ms, tx count, upgrades]
 * and applies what the network externalizes (DESIGN §7, spec/node.md).
 *
 * A slot (= the next ledger height) starts when transactions have waited
 * batch_window_ms, or idle_close_ms passed since the last ledger.  The
 * validator then selects a tx set from its mempool, keeps it to answer
 * get_txset, and nominates.  Envelopes that name a tx set this node does
 * not have wait in a bounded queue while the set is fetched (get_txset).  On externalize the
 * ledger is applied and committed (node/ledger/chain.c), its header hash signed and
 * the signature flooded; signatures from a quorum of validators make the
 * ledger's certificate (stored in the certificates table).
 *
 * The quorum set is derived from the ledger's validator set and the
 * quorum_threshold_bp parameter (node/protocol/protocol.h): one inner set per org (a
 * simple majority of its validators), and by default ⌊2n/3⌋ + 1 of the n
 * orgs at the top (DESIGN §5).
 *
 * Read next: node/daemon/overlay.c, node/daemon/catchup.c.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "ledger.h"
#include "protocol.h"
#include "log.h"

/* The wall clock in unix milliseconds: close times are proposed from it and
 * checked against it (drift), nothing else. */
static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void short_hex(const uint8_t *bytes, char out[17])
{
    node_hex_encode(bytes, 8, out);
}

/* --- Tx sets ---------------------------------------------------------------------- */

const struct node_txset *nanumd_txset_find(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES])
{
    struct nanumd_txset_entry *e = keymap_get(&d->txsets, hash);
    return e ? e->set : NULL;
}

/* Drops the oldest tx sets beyond the bound (by age only). */
static void txsets_trim(struct nanumd *d)
{
    while (d->txsets.count > NANUMD_TXSETS_MAX) {
        size_t cursor = 0;
        const uint8_t *key, *oldest_key = NULL;
        void *value;
        uint64_t oldest = UINT64_MAX;
        while (keymap_next(&d->txsets, &cursor, &key, &value)) {
            struct nanumd_txset_entry *e = value;
            if (e->added_ms < oldest) {
                oldest = e->added_ms;
                oldest_key = key;
            }
        }
        if (oldest_key == NULL)
            return;
        uint8_t copy[NODE_HASH_BYTES];
        memcpy(copy, oldest_key, NODE_HASH_BYTES);
        struct nanumd_txset_entry *e = keymap_remove(&d->txsets, copy);
        node_txset_free(e->set);
        free(e);
    }
}

/* Keeps set (taking ownership); an existing one with the same root wins. */
static struct nanumd_txset_entry *txsets_add(struct nanumd *d, struct node_txset *set)
{
    struct nanumd_txset_entry *e = keymap_get(&d->txsets, set->hash);
    if (e != NULL) {
        node_txset_free(set);
        return e;
    }
    e = calloc(1, sizeof *e);
    if (e == NULL || keymap_put(&d->txsets, set->hash, e) != 0) {
        free(e);
        node_txset_free(set);
        return NULL;
    }
    e->set = set;
    e->added_ms = uv_now(d->loop);
    txsets_trim(d);
    return keymap_get(&d->txsets, set->hash);
}

/*
 * A tx set is valid for the next ledger when it is within the limit, every
 * envelope decodes, each account's transactions carry consecutive sequence
 * numbers from the account's next one, fees reach the base fee, and the
 * signatures of transactions this node has not already checked (in its
 * mempool or its signature cache) verify.
 */
static bool txset_valid(struct nanumd *d, const struct node_txset *set)
{
    ledger_state *st = ledger_chain_state(d->chain);
    struct node_params params;
    if (ledger_params_get(st, &params) != 0 || set->count > params.values[NODE_PARAM_tx_per_ledger_max])
        return false;
    struct keymap next_seq;
    if (keymap_init(&next_seq) != 0)
        return false;
    bool ok = true;
    uint64_t *seqs = calloc(set->count ? set->count : 1, sizeof *seqs);
    uint32_t seqs_used = 0;
    for (uint32_t i = 0; ok && i < set->count; i++) {
        struct node_tx_envelope env;
        uint8_t id[NODE_HASH_BYTES];
        if (seqs == NULL || node_envelope_open(set->txs[i], set->lens[i], d->network_id, false, &env, id) != 0 ||
            env.tx.fee < params.values[NODE_PARAM_base_fee]) {
            ok = false;
            break;
        }
        uint64_t *expected = keymap_get(&next_seq, env.tx.source);
        if (expected == NULL) {
            struct node_account a;
            if (ledger_account_get(st, env.tx.source, &a) != 0) {
                ok = false;
                break;
            }
            expected = &seqs[seqs_used++];
            *expected = a.seq + 1;
            keymap_put(&next_seq, env.tx.source, expected);
        }
        if (env.tx.seq != *expected) {
            ok = false;
            break;
        }
        (*expected)++;
        if (!node_mempool_contains_exact(d->mempool, id, set->txs[i], set->lens[i]) &&
            node_sigcache_open(node_mempool_sigcache(d->mempool), set->txs[i], set->lens[i], d->network_id,
                               &env, id) != 0)
            ok = false;
    }
    keymap_free(&next_seq);
    free(seqs);
    return ok;
}

bool nanumd_signature_known(void *ctx, const uint8_t *tx, size_t len)
{
    struct nanumd *d = ctx;
    struct node_tx_envelope env;
    uint8_t id[NODE_HASH_BYTES];
    return node_envelope_open(tx, len, d->network_id, false, &env, id) == 0 &&
           (node_mempool_contains_exact(d->mempool, id, tx, len) ||
            node_sigcache_known(node_mempool_sigcache(d->mempool), &env, id));
}

/* Asks every peer for the tx set with this Merkle root (get_txset). */
static void request_txset(struct nanumd *d, const uint8_t hash[NODE_HASH_BYTES])
{
    struct node_buf b;
    node_buf_init(&b);
    if (node_txset_request_encode(hash, &b) == 0)
        nanumd_overlay_broadcast(d, NODE_MSG_GET_TXSET, &b);
    node_buf_free(&b);
}

/* --- Values -------------------------------------------------------------------------- */

static enum scp_validation validate_value(void *ctx, uint64_t slot, const struct scp_value *value,
                                          bool nomination)
{
    struct nanumd *d = ctx;
    (void)nomination;
    struct node_value v;
    struct node_header last;
    uint8_t last_hash[NODE_HASH_BYTES];
    if (node_value_decode(value->bytes, value->size, &v) != 0)
        return SCP_VALUE_INVALID;
    ledger_chain_last(d->chain, &last, last_hash);
    if (slot != last.height + 1)
        return SCP_VALUE_MAYBE_VALID; /* not the ledger we can judge now */
    struct node_params params;
    if (ledger_params_get(ledger_chain_state(d->chain), &params) != 0)
        return SCP_VALUE_MAYBE_VALID;
    if (v.close_time_ms <= last.close_time_ms ||
        v.close_time_ms > wall_ms() + params.values[NODE_PARAM_close_time_drift_max_s] * 1000)
        return SCP_VALUE_INVALID;
    struct nanumd_txset_entry *e = keymap_get(&d->txsets, v.tx_set_hash);
    if (e == NULL)
        return SCP_VALUE_MAYBE_VALID;
    /* Validity depends on the state (sequence numbers): judge per slot. */
    if (e->checked_slot != slot) {
        e->valid = txset_valid(d, e->set);
        e->checked_slot = slot;
    }
    return e->valid && e->set->count == v.tx_count ? SCP_VALUE_VALID : SCP_VALUE_INVALID;
}

/* Deterministic combination, from the values alone (a node may confirm a
 * candidate whose set it has not fetched yet): the candidate with the most
 * transactions (ties: the larger root), with the latest close time. */
static int combine_candidates(void *ctx, uint64_t slot, const struct scp_value *candidates,
                              size_t count, struct scp_value *out)
{
    (void)ctx;
    (void)slot;
    struct node_value best = {0}, v;
    uint64_t close_time_ms = 0;
    int64_t best_count = -1;
    for (size_t i = 0; i < count; i++) {
        if (node_value_decode(candidates[i].bytes, candidates[i].size, &v) != 0)
            continue;
        int64_t n = v.tx_count;
        if (n > best_count || (n == best_count && memcmp(v.tx_set_hash, best.tx_set_hash, NODE_HASH_BYTES) > 0)) {
            best = v;
            best_count = n;
        }
        if (v.close_time_ms > close_time_ms)
            close_time_ms = v.close_time_ms;
    }
    if (best_count < 0)
        return -1;
    best.close_time_ms = close_time_ms;
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_value_encode(&best, &b);
    if (rc == 0 && b.len <= SCP_VALUE_BYTES_MAX) {
        memcpy(out->bytes, b.data, b.len);
        out->size = (uint32_t)b.len;
    }
    node_buf_free(&b);
    return rc;
}

/* --- Signing, persistence, emission ------------------------------------------------ */

static int scp_sign(void *ctx, const uint8_t *message, size_t size, uint8_t signature[SCP_SIGNATURE_BYTES])
{
    struct nanumd *d = ctx;
    return node_sign(NODE_DOMAIN_SCP, d->network_id, message, size, d->options.node_sk, signature);
}

static bool scp_verify(void *ctx, const uint8_t node_id[SCP_NODE_ID_BYTES], const uint8_t *message,
                       size_t size, const uint8_t signature[SCP_SIGNATURE_BYTES])
{
    struct nanumd *d = ctx;
    return node_verify(NODE_DOMAIN_SCP, d->network_id, message, size, node_id, signature) == 0;
}

static void scp_hash(void *ctx, const uint8_t *data, size_t size, uint8_t out[SCP_HASH_BYTES])
{
    (void)ctx;
    node_hash(data, size, out);
}

static const struct scp_qset *get_qset(void *ctx, const uint8_t hash[SCP_HASH_BYTES])
{
    struct nanumd *d = ctx;
    return memcmp(hash, d->qset_hash, SCP_HASH_BYTES) == 0 ? d->qset : NULL;
}

/* Stores the node's latest own statements durably: [slot, [envelope...]]. */
static int persist(void *ctx, uint64_t slot, const struct scp_envelope *const *own, size_t count)
{
    struct nanumd *d = ctx;
    if (!d->options.validator)
        return 0;
    if (count > NODE_OWN_STATEMENTS_MAX)
        return -1;
    struct node_own_statements record = {.slot = slot, .count = (uint32_t)count};
    uint8_t buf[NODE_OWN_STATEMENTS_MAX][SCP_ENVELOPE_BYTES_MAX];
    int rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        rc = scp_envelope_encode(own[i], buf[i], sizeof buf[i], &record.lens[i]);
        record.envelopes[i] = buf[i];
    }
    struct node_buf b;
    node_buf_init(&b);
    if (rc == 0)
        rc = node_own_statements_encode(&record, &b);
    if (rc == 0)
        rc = ledger_chain_own_statements_put(d->chain, b.data, b.len);
    node_buf_free(&b);
    if (rc != 0)
        NODE_LOG(NODE_LOG_ERROR, "consensus_persist_failed", "slot=%llu", (unsigned long long)slot);
    return rc == 0 ? 0 : -1;
}

/* Test-only Byzantine behaviour: a validator configured to equivocate sends
 * each peer a differently-valued nomination for the same slot. */
static void emit_equivocating(struct nanumd *d, const struct scp_envelope *envelope)
{
    net_peer_info peers[NANUMD_PEERS_MAX];
    size_t count = 0;
    net_peers(d->net, peers, NANUMD_PEERS_MAX, &count);
    for (size_t i = 0; i < count && i < NANUMD_PEERS_MAX; i++) {
        struct scp_envelope forged = *envelope;
        struct scp_nominate *n = &forged.statement.u.nominate;
        struct node_value v;
        if (n->votes_count == 0 || node_value_decode(n->votes[0].bytes, n->votes[0].size, &v) != 0)
            continue;
        v.close_time_ms += i + 1; /* a different value for each peer */
        struct node_buf b;
        node_buf_init(&b);
        node_value_encode(&v, &b);
        memcpy(n->votes[0].bytes, b.data, b.len);
        n->votes[0].size = (uint32_t)b.len;
        n->votes_count = 1;
        n->accepted_count = 0;
        node_buf_free(&b);
        uint8_t msg[SCP_ENVELOPE_BYTES_MAX], out[SCP_ENVELOPE_BYTES_MAX];
        size_t len;
        if (scp_statement_encode(&forged.statement, msg, sizeof msg, &len) != 0 ||
            scp_sign(d, msg, len, forged.signature) != 0 ||
            scp_envelope_encode(&forged, out, sizeof out, &len) != 0)
            continue;
        struct node_buf payload = {.data = out, .len = len};
        nanumd_overlay_send(d, peers[i].id, NODE_MSG_SCP, &payload);
    }
}

static void emit(void *ctx, const struct scp_envelope *envelope)
{
    struct nanumd *d = ctx;
    if (!d->options.validator)
        return; /* watchers follow; they do not speak */
    if (d->options.equivocate && envelope->statement.type == SCP_STATEMENT_NOMINATE) {
        emit_equivocating(d, envelope);
        return;
    }
    uint8_t out[SCP_ENVELOPE_BYTES_MAX];
    size_t len;
    if (scp_envelope_encode(envelope, out, sizeof out, &len) != 0)
        return;
    struct node_buf payload = {.data = out, .len = len};
    nanumd_overlay_broadcast(d, NODE_MSG_SCP, &payload);
}

/* --- Timers ------------------------------------------------------------------------- */

static void on_scp_timer(uv_timer_t *t)
{
    struct nanumd *d = t->data;
    enum scp_timer which = t == &d->scp_timers[SCP_TIMER_NOMINATION] ? SCP_TIMER_NOMINATION : SCP_TIMER_BALLOT;
    if (d->scp != NULL)
        scp_timer_fired(d->scp, d->scp_timer_slot[which], which);
}

static void set_timer(void *ctx, uint64_t slot, enum scp_timer timer, uint64_t delay_ms)
{
    struct nanumd *d = ctx;
    d->scp_timer_slot[timer] = slot;
    uv_timer_start(&d->scp_timers[timer], on_scp_timer, delay_ms, 0);
}

static void cancel_timer(void *ctx, uint64_t slot, enum scp_timer timer)
{
    struct nanumd *d = ctx;
    if (d->scp_timer_slot[timer] == slot)
        uv_timer_stop(&d->scp_timers[timer]);
}

static void apply_externalized(uv_timer_t *t);

static void externalized(void *ctx, uint64_t slot, const struct scp_value *value)
{
    struct nanumd *d = ctx;
    /* Apply after the library returns: a driver callback must not call in. */
    d->externalized_pending = true;
    d->externalized_slot = slot;
    d->externalized_value = *value;
    uv_timer_start(&d->work, apply_externalized, 0, 0);
}

/* Round timeouts (network parameters nomination_timeout_ms and
 * ballot_timeout_ms): short, growing linearly.  A nomination round fails when
 * nodes pick different leaders (about one round in sixteen with four
 * validators); waiting a whole second then would dominate the tail latency
 * of a network that closes ledgers in tens of milliseconds.  Ballot
 * timers run only once a quorum was heard at the counter, so they can be
 * short too; both grow with the round so a slow network still converges. */
static uint64_t scp_timeout(void *ctx, enum scp_timer timer, uint32_t round)
{
    struct nanumd *d = ctx;
    uint64_t step = timer == SCP_TIMER_NOMINATION ? d->nomination_timeout_ms : d->ballot_timeout_ms;
    uint64_t ms = step * (round ? round : 1);
    return ms < SCP_TIMEOUT_MS_MAX ? ms : SCP_TIMEOUT_MS_MAX;
}

static void scp_event(void *ctx, const struct scp_event *event)
{
    struct nanumd *d = ctx;
    static const char *const names[] = {"nominating_value", "candidate_updated", "ballot_bumped",
                                        "heard_from_quorum", "accepted_prepared", "confirmed_prepared",
                                        "accepted_commit", "envelope_rejected"};
    nanumd_metrics_consensus_event(d, event);
    if (event->type == SCP_EVENT_BALLOT_BUMPED && event->counter > 1) {
        char who[NANUMD_SILENT_TEXT_BYTES];
        nanumd_metrics_silent_validators(d, event->slot, who, sizeof who);
        NODE_LOG(NODE_LOG_INFO, "consensus_ballot_timeout", "slot=%llu counter=%u %s", (unsigned long long)event->slot,
                 event->counter, who);
    } else
        NODE_LOG(NODE_LOG_DEBUG, "consensus_step", "slot=%llu phase=%s counter=%u",
                 (unsigned long long)event->slot, names[event->type], event->counter);
}

/* --- Ledger signatures and certificates --------------------------------------------- */

static const uint8_t *recent_hash(struct nanumd *d, uint64_t height)
{
    struct nanumd_recent_header *r = &d->recent[height % NANUMD_RECENT_HEADERS];
    return r->height == height ? r->hash : NULL;
}

static bool is_validator(const struct nanumd *d, const uint8_t key[NODE_KEY_BYTES])
{
    for (uint32_t i = 0; i < d->validators.count; i++)
        if (memcmp(d->validators.validators[i].node_key, key, NODE_KEY_BYTES) == 0)
            return true;
    return false;
}

/* True if the signatures of validators in cert satisfy the quorum set;
 * verify: check each signature (else they are known good). */
static bool certificate_quorum(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES],
                               const struct node_certificate *cert, bool verify)
{
    uint8_t (*signers)[SCP_NODE_ID_BYTES] = malloc((cert->count ? cert->count : 1) * SCP_NODE_ID_BYTES);
    if (signers == NULL)
        return false;
    size_t n = 0;
    for (uint32_t i = 0; i < cert->count; i++) {
        if (!is_validator(d, cert->signers[i].node_key))
            continue;
        if (verify && node_verify(NODE_DOMAIN_HEADER, d->network_id, hash, NODE_HASH_BYTES,
                                  cert->signers[i].node_key, cert->signers[i].signature) != 0)
            continue;
        memcpy(signers[n++], cert->signers[i].node_key, SCP_NODE_ID_BYTES);
    }
    bool quorum = scp_qset_is_slice_satisfied(d->qset, (const uint8_t(*)[SCP_NODE_ID_BYTES])signers, n);
    free(signers);
    return quorum;
}

bool nanumd_certificate_valid(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES],
                              const struct node_certificate *cert)
{
    return certificate_quorum(d, hash, cert, true);
}

bool nanumd_certificate_keep_valid(struct nanumd *d, const uint8_t hash[static NODE_HASH_BYTES],
                                   struct node_certificate *cert)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < cert->count; i++)
        if (is_validator(d, cert->signers[i].node_key) &&
            node_verify(NODE_DOMAIN_HEADER, d->network_id, hash, NODE_HASH_BYTES, cert->signers[i].node_key,
                        cert->signers[i].signature) == 0)
            cert->signers[kept++] = cert->signers[i]; /* order kept: still sorted */
    cert->count = kept;
    return certificate_quorum(d, hash, cert, false);
}

/* Adds a checked signature of our own recent ledger to its certificate,
 * gathered in memory; stores the certificate when it first reaches a quorum
 * and again when every validator has signed (two writes per ledger, not one
 * per signature). */
static void certificate_add(struct nanumd *d, const struct node_ledger_sig *sig)
{
    struct nanumd_recent_header *r = &d->recent[sig->height % NANUMD_RECENT_HEADERS];
    if (r->height != sig->height)
        return;
    if (r->cert == NULL) {
        r->cert = malloc(sizeof *r->cert);
        if (r->cert == NULL || nanumd_certificate_load(d, sig->height, r->cert) != 0) {
            free(r->cert);
            r->cert = NULL;
            return;
        }
    }
    /* Every signature here was checked: this one by handle_ledger_sig, the
     * others when they arrived or before they were stored.  So the quorum
     * test counts signers without verifying again (n checks per ledger,
     * not 2n²). */
    bool had_quorum = certificate_quorum(d, sig->header_hash, r->cert, false);
    if (node_certificate_add(r->cert, sig->node_key, sig->signature)) {
        bool quorum = certificate_quorum(d, sig->header_hash, r->cert, false);
        if ((quorum && !had_quorum) || (quorum && r->cert->count == d->validators.count))
            nanumd_certificate_store(d, sig->height, r->cert);
    }
}

/* Checks one ledger signature against our own header for that height. */
static void handle_ledger_sig(struct nanumd *d, const struct node_ledger_sig *sig)
{
    const uint8_t *ours = recent_hash(d, sig->height);
    if (ours == NULL)
        return; /* too old to matter here */
    if (!is_validator(d, sig->node_key) ||
        node_verify(NODE_DOMAIN_HEADER, d->network_id, sig->header_hash, NODE_HASH_BYTES, sig->node_key,
                    sig->signature) != 0) {
        NODE_LOG(NODE_LOG_WARN, "ledger_signature_rejected", "height=%llu reason=not_a_validator_or_bad_signature",
                 (unsigned long long)sig->height);
        return;
    }
    if (memcmp(ours, sig->header_hash, NODE_HASH_BYTES) != 0) {
        char who[NODE_ADDRESS_TEXT_BYTES + 1], theirs[17], mine[17];
        node_address_encode(sig->node_key, who);
        short_hex(sig->header_hash, theirs);
        short_hex(ours, mine);
        d->stats.hash_mismatches++;
        NODE_LOG(NODE_LOG_ERROR, "ledger_hash_mismatch", "height=%llu validator=%s theirs=%s ours=%s",
                 (unsigned long long)sig->height, who, theirs, mine);
        return;
    }
    certificate_add(d, sig);
}

void nanumd_herder_receive_ledger_sig(struct nanumd *d, const uint8_t *bytes, size_t len)
{
    struct node_ledger_sig sig;
    if (node_ledger_sig_decode(bytes, len, &sig) != 0)
        return;
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    if (sig.height <= last.height) {
        handle_ledger_sig(d, &sig);
        return;
    }
    if (sig.height > last.height + NANUMD_RECENT_HEADERS || d->pending_sig_count >= NANUMD_PENDING_SIGS_MAX)
        return;
    d->pending_sigs[d->pending_sig_count++] = sig;
}

/* Signs our header, floods the signature, and checks signatures that came early. */
static void sign_ledger(struct nanumd *d, const struct node_header *header, const uint8_t hash[NODE_HASH_BYTES])
{
    struct nanumd_recent_header *r = &d->recent[header->height % NANUMD_RECENT_HEADERS];
    free(r->cert); /* the slot's previous ledger is long settled */
    r->cert = NULL;
    r->height = header->height;
    memcpy(r->hash, hash, NODE_HASH_BYTES);
    /* A ledger replayed during catch-up far behind the network needs no
     * signature from us: its certificate came with it. */
    bool recent = header->height + NANUMD_RECENT_HEADERS > d->best_peer_height;
    if (d->options.validator && recent && is_validator(d, d->options.node_pk)) {
        struct node_ledger_sig sig = {.height = header->height};
        memcpy(sig.header_hash, hash, NODE_HASH_BYTES);
        memcpy(sig.node_key, d->options.node_pk, NODE_KEY_BYTES);
        node_sign(NODE_DOMAIN_HEADER, d->network_id, hash, NODE_HASH_BYTES, d->options.node_sk, sig.signature);
        certificate_add(d, &sig);
        struct node_buf b;
        node_buf_init(&b);
        if (node_ledger_sig_encode(&sig, &b) == 0)
            nanumd_overlay_broadcast(d, NODE_MSG_LEDGER_SIG, &b);
        node_buf_free(&b);
    }
    uint32_t kept = 0;
    for (uint32_t i = 0; i < d->pending_sig_count; i++) {
        if (d->pending_sigs[i].height == header->height)
            handle_ledger_sig(d, &d->pending_sigs[i]);
        else if (d->pending_sigs[i].height > header->height)
            d->pending_sigs[kept++] = d->pending_sigs[i];
    }
    d->pending_sig_count = kept;
}

static void retry_parked(struct nanumd *d);

/* --- Applying what was decided -------------------------------------------------------- */

void nanumd_herder_ledger_committed(struct nanumd *d, const struct node_header *header,
                                    const uint8_t hash[static NODE_HASH_BYTES],
                                    const uint8_t *const *txs, const size_t *lens, uint32_t count)
{
    uint8_t (*ids)[NODE_HASH_BYTES] = malloc((count ? count : 1) * sizeof *ids);
    uint32_t n = 0;
    for (uint32_t i = 0; ids != NULL && i < count; i++) {
        struct node_tx_envelope env;
        if (node_envelope_decode(txs[i], lens[i], &env) == 0 && node_tx_hash(&env.tx, d->network_id, ids[n]) == 0)
            n++;
    }
    ledger_state *st = ledger_chain_state(d->chain);
    node_mempool_remove_applied(d->mempool, st, (const uint8_t(*)[NODE_HASH_BYTES])ids, ids ? n : 0);
    free(ids);
    uint32_t expired = 0;
    node_mempool_expire(d->mempool, uv_now(d->loop), NODE_MEMPOOL_TX_TTL_MS, &expired);
    if (expired > 0) {
        d->stats.txs_expired += expired;
        NODE_LOG(NODE_LOG_INFO, "mempool_expired", "count=%u max_age_s=%u", expired,
                 (unsigned)(NODE_MEMPOOL_TX_TTL_MS / 1000));
    }
    sign_ledger(d, header, hash);
    d->slot = header->height + 1;
    d->nominated = false;
    d->last_close_ms = uv_now(d->loop);
    if (d->scp != NULL && header->height > 2)
        scp_purge_slots_below(d->scp, header->height - 1);
    nanumd_herder_refresh_validators(d);
    nanumd_overlay_send_status(d, 0);
    ledger_state_clear(st);
    /* Peers that closed first may already be nominating the new slot. */
    retry_parked(d);
}

/* Counts applied and failed transactions of the block just committed. */
static void count_results(struct nanumd *d, uint64_t height)
{
    uint8_t *bytes;
    size_t len;
    struct node_block blk;
    if (ledger_chain_block(d->chain, height, &bytes, &len) != 0)
        return;
    if (node_block_decode(bytes, len, &blk) == 0) {
        for (uint32_t i = 0; i < blk.tx_count; i++) {
            nanumd_metrics_tx_result(d, blk.results[i].code);
            if (blk.results[i].code == LEDGER_OK)
                d->stats.txs_applied++;
            else
                d->stats.txs_failed++;
        }
        node_block_free(&blk);
    }
    free(bytes);
}

static void apply_externalized(uv_timer_t *t)
{
    struct nanumd *d = t->data;
    if (!d->externalized_pending)
        return;
    d->externalized_pending = false;
    struct node_header last;
    uint8_t last_hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, last_hash);
    if (d->externalized_slot != last.height + 1)
        return; /* already applied (catch-up got there first) */
    struct node_value v;
    const struct node_txset *set = NULL;
    if (node_value_decode(d->externalized_value.bytes, d->externalized_value.size, &v) != 0) {
        NODE_LOG(NODE_LOG_ERROR, "externalized_value_unusable", "slot=%llu", (unsigned long long)d->externalized_slot);
        return;
    }
    if ((set = nanumd_txset_find(d, v.tx_set_hash)) == NULL) {
        /* Agreed, but the set is gone from our cache: fetch it and apply
         * when it arrives (nanumd_herder_receive_txset). */
        d->externalized_pending = true;
        request_txset(d, v.tx_set_hash);
        NODE_LOG(NODE_LOG_WARN, "externalized_txset_missing", "slot=%llu action=fetching",
                 (unsigned long long)d->externalized_slot);
        return;
    }
    uv_update_time(d->loop);
    uint64_t started = uv_now(d->loop);
    uint64_t started_ns = uv_hrtime();
    struct node_header header;
    /* Signatures this node already checked (admission, tx-set validity) are
     * not checked again. */
    bool *checked = calloc(set->count ? set->count : 1, sizeof *checked);
    for (uint32_t i = 0; checked != NULL && i < set->count; i++)
        checked[i] = nanumd_signature_known(d, set->txs[i], set->lens[i]);
    int rc = ledger_chain_close_ledger_checked(d->chain, v.close_time_ms, set->txs, set->lens, set->count,
                                               checked, &header);
    free(checked);
    if (rc != 0) {
        NODE_LOG(NODE_LOG_ERROR, "ledger_close_failed", "slot=%llu error=%s", (unsigned long long)d->externalized_slot,
                 node_errname(rc));
        return;
    }
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, NULL, hash);
    d->stats.ledgers_closed++;
    d->stats.last_close_latency_ms = uv_now(d->loop) - d->stats.slot_started_ms;
    nanumd_metrics_ledger_closed(d, header.height, d->stats.last_close_latency_ms);
    count_results(d, header.height);
    char hex[17];
    short_hex(hash, hex);
    NODE_LOG(NODE_LOG_INFO, "ledger_closed", "height=%llu txs=%u hash=%s consensus_ms=%llu apply_ms=%llu",
             (unsigned long long)header.height, set->count, hex,
             (unsigned long long)(started - d->stats.slot_started_ms),
             (unsigned long long)((uv_hrtime() - started_ns) / 1000000));
    /* set stays valid through the call: the cache is trimmed only when a
     * set is added, and the callee reads the transactions first. */
    nanumd_herder_ledger_committed(d, &header, hash, set->txs, set->lens, set->count);
}

/* --- Starting a slot ------------------------------------------------------------------- */

static void nominate(struct nanumd *d)
{
    struct node_header last;
    uint8_t last_hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, last_hash);
    ledger_state *st = ledger_chain_state(d->chain);
    struct node_params params;
    if (ledger_params_get(st, &params) != 0)
        return;
    uint32_t max = (uint32_t)params.values[NODE_PARAM_tx_per_ledger_max];
    if (max > NODE_TXSET_TXS_MAX)
        max = NODE_TXSET_TXS_MAX;
    const uint8_t **txs = malloc(max * sizeof *txs);
    size_t *lens = malloc(max * sizeof *lens);
    uint32_t count = 0;
    struct node_txset *set = NULL;
    if (txs == NULL || lens == NULL || node_mempool_select(d->mempool, st, last_hash, max, txs, lens, &count) != 0 ||
        node_txset_build(txs, lens, count, &set) != 0) {
        free(txs);
        free(lens);
        return;
    }
    free(txs);
    free(lens);
    struct nanumd_txset_entry *e = txsets_add(d, set);
    if (e == NULL)
        return;
    e->checked_slot = d->slot; /* built from our own checked mempool, in order */
    e->valid = true;
    /* The set is not pushed: most nominated values are never voted for
     * (only round leaders' are), so peers fetch the ones they meet in
     * envelopes (get_txset), and the answer floods from there. */
    struct node_buf b;
    node_buf_init(&b);
    uint64_t now_ms = wall_ms();
    struct node_value v = {.close_time_ms = now_ms > last.close_time_ms ? now_ms : last.close_time_ms + 1,
                           .tx_count = e->set->count};
    memcpy(v.tx_set_hash, e->set->hash, NODE_HASH_BYTES);
    struct scp_value value, previous = {.size = NODE_HASH_BYTES};
    memcpy(previous.bytes, last_hash, NODE_HASH_BYTES);
    if (node_value_encode(&v, &b) == 0) {
        memcpy(value.bytes, b.data, b.len);
        value.size = (uint32_t)b.len;
        d->nominated = true;
        d->stats.slot_started_ms = uv_now(d->loop);
        NODE_LOG(NODE_LOG_DEBUG, "slot_started", "slot=%llu txs=%u", (unsigned long long)d->slot, e->set->count);
        int rc = scp_nominate(d->scp, d->slot, &value, &previous);
        if (rc != 0) {
            NODE_LOG(NODE_LOG_WARN, "nominate_failed", "slot=%llu error=%s", (unsigned long long)d->slot, scp_errname(rc));
            d->nominated = false; /* propose again at the next tick */
        }
    }
    node_buf_free(&b);
    ledger_state_clear(st);
}

void nanumd_herder_tick(struct nanumd *d)
{
    nanumd_metrics_watch_stall(d); /* a log line while a slot stays open */
    if (d->scp == NULL || d->stopping || d->nominated || !d->options.validator || !d->synced)
        return;
    struct node_params params;
    ledger_state *st = ledger_chain_state(d->chain);
    if (ledger_params_get(st, &params) != 0)
        return;
    uint64_t now = uv_now(d->loop);
    uint64_t oldest = node_mempool_oldest_ms(d->mempool);
    bool batch_ready = node_mempool_count(d->mempool) > 0 &&
                       now >= oldest + params.values[NODE_PARAM_batch_window_ms];
    if (batch_ready) {
        /* Waiting transactions that cannot apply yet (a sequence gap) do
         * not make a ledger. */
        const uint8_t *one[1];
        size_t one_len[1];
        uint32_t selectable = 0;
        uint8_t seed[NODE_HASH_BYTES] = {0};
        node_mempool_select(d->mempool, st, seed, 1, one, one_len, &selectable);
        batch_ready = selectable > 0;
    }
    bool idle = now >= d->last_close_ms + params.values[NODE_PARAM_idle_close_ms];
    if (batch_ready || idle)
        nominate(d);
}

/* --- Envelopes in ------------------------------------------------------------------------ */

/* Collects the values an envelope names. */
static size_t envelope_values(const struct scp_envelope *e, const struct scp_value **out, size_t cap)
{
    const struct scp_statement *s = &e->statement;
    size_t n = 0;
#define ADD(v)                                  \
    do {                                        \
        if (n < cap && (v)->size > 0)           \
            out[n++] = (v);                     \
    } while (0)
    switch (s->type) {
    case SCP_STATEMENT_NOMINATE:
        for (uint32_t i = 0; i < s->u.nominate.votes_count; i++)
            ADD(&s->u.nominate.votes[i]);
        for (uint32_t i = 0; i < s->u.nominate.accepted_count; i++)
            ADD(&s->u.nominate.accepted[i]);
        break;
    case SCP_STATEMENT_PREPARE:
        ADD(&s->u.prepare.ballot.value);
        if (s->u.prepare.prepared.counter > 0)
            ADD(&s->u.prepare.prepared.value);
        if (s->u.prepare.prepared_prime.counter > 0)
            ADD(&s->u.prepare.prepared_prime.value);
        break;
    case SCP_STATEMENT_CONFIRM:
        ADD(&s->u.confirm.ballot.value);
        break;
    case SCP_STATEMENT_EXTERNALIZE:
        ADD(&s->u.externalize.commit.value);
        break;
    }
#undef ADD
    return n;
}

/* True when every tx set the envelope names is here; asks peers for the others. */
static bool txsets_present(struct nanumd *d, const struct scp_envelope *e)
{
    const struct scp_value *values[2 * SCP_NOMINATE_VALUES_MAX + 3];
    size_t n = envelope_values(e, values, sizeof values / sizeof values[0]);
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        struct node_value v;
        if (node_value_decode(values[i]->bytes, values[i]->size, &v) != 0)
            continue; /* the library will refuse the value itself */
        if (nanumd_txset_find(d, v.tx_set_hash) != NULL)
            continue;
        all = false;
        /* Ask once a second at most: every holder answers with the whole set. */
        uint64_t now = uv_now(d->loop);
        uint64_t *asked = keymap_get(&d->txset_requests, v.tx_set_hash);
        if (asked != NULL && now < *asked + NANUMD_TXSET_REQUEST_MS)
            continue;
        if (asked == NULL && d->txset_requests.count < NANUMD_PENDING_ENVELOPES_MAX &&
            (asked = malloc(sizeof *asked)) != NULL && keymap_put(&d->txset_requests, v.tx_set_hash, asked) != 0) {
            free(asked);
            asked = NULL;
        }
        if (asked != NULL)
            *asked = now;
        request_txset(d, v.tx_set_hash);
    }
    return all;
}

/* Watches nominations for equivocation: two nominations from one validator
 * for one slot where neither's values contain the other's cannot both come
 * from an honest node (its nomination sets only grow). */
static bool contains_all(const struct scp_nominate *big, const struct scp_nominate *small)
{
    for (uint32_t i = 0; i < small->votes_count; i++) {
        bool found = false;
        for (uint32_t k = 0; k < big->votes_count && !found; k++)
            found = big->votes[k].size == small->votes[i].size &&
                    memcmp(big->votes[k].bytes, small->votes[i].bytes, small->votes[i].size) == 0;
        if (!found)
            return false;
    }
    return true;
}

static void watch_equivocation(struct nanumd *d, const struct scp_envelope *e)
{
    const struct scp_statement *s = &e->statement;
    if (s->type != SCP_STATEMENT_NOMINATE || s->slot < d->watch_slot)
        return;
    /* Only signed statements can be evidence: check before comparing. */
    uint8_t msg[SCP_ENVELOPE_BYTES_MAX];
    size_t msg_len;
    if (scp_statement_encode(s, msg, sizeof msg, &msg_len) != 0 ||
        !scp_verify(d, s->node_id, msg, msg_len, e->signature))
        return;
    if (s->slot > d->watch_slot) {
        size_t cursor = 0;
        const uint8_t *key;
        void *value;
        while (keymap_next(&d->watch, &cursor, &key, &value))
            free(value);
        keymap_free(&d->watch);
        keymap_init(&d->watch);
        d->watch_slot = s->slot;
    }
    struct scp_nominate *seen = keymap_get(&d->watch, s->node_id);
    if (seen == NULL) {
        seen = malloc(sizeof *seen);
        if (seen != NULL && keymap_put(&d->watch, s->node_id, seen) == 0)
            *seen = s->u.nominate;
        else
            free(seen);
        return;
    }
    if (!contains_all(&s->u.nominate, seen) && !contains_all(seen, &s->u.nominate)) {
        char who[NODE_ADDRESS_TEXT_BYTES + 1];
        node_address_encode(s->node_id, who);
        d->stats.equivocations_seen++;
        NODE_LOG(NODE_LOG_ERROR, "equivocation_detected", "slot=%llu validator=%s kind=nomination",
                 (unsigned long long)s->slot, who);
    }
    if (contains_all(&s->u.nominate, seen))
        *seen = s->u.nominate;
}

static void feed_envelope(struct nanumd *d, const struct scp_envelope *e)
{
    int rc = scp_receive_envelope(d->scp, e);
    if (rc != 0 && rc != SCP_E_OLD_STATEMENT)
        NODE_LOG(NODE_LOG_DEBUG, "envelope_refused", "slot=%llu error=%s",
                 (unsigned long long)e->statement.slot, scp_errname(rc));
}

static void park_envelope(struct nanumd *d, const struct scp_envelope *e)
{
    if (d->pending_count == NANUMD_PENDING_ENVELOPES_MAX) {
        memmove(&d->pending[0], &d->pending[1], (d->pending_count - 1) * sizeof d->pending[0]);
        d->pending_count--;
    }
    d->pending[d->pending_count].envelope = *e;
    d->pending[d->pending_count].received_ms = uv_now(d->loop);
    d->pending_count++;
}

/* Feeds parked envelopes whose tx sets arrived. */
static void retry_parked(struct nanumd *d)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < d->pending_count; i++) {
        struct nanumd_pending_envelope *p = &d->pending[i];
        if (p->envelope.statement.slot < d->slot)
            continue;
        if (p->envelope.statement.slot == d->slot && txsets_present(d, &p->envelope))
            feed_envelope(d, &p->envelope);
        else
            d->pending[kept++] = *p;
    }
    d->pending_count = kept;
}

void nanumd_herder_receive_envelope(struct nanumd *d, const uint8_t *bytes, size_t len)
{
    struct scp_envelope *e = malloc(sizeof *e);
    if (e == NULL)
        return;
    if (d->scp == NULL || scp_envelope_decode(bytes, len, e) != 0) {
        free(e);
        return;
    }
    uint64_t slot = e->statement.slot;
    if (slot + 1 < d->slot) {
        free(e);
        return; /* long decided */
    }
    watch_equivocation(d, e);
    if (slot > d->slot) {
        /* The network is ahead: keep the next slot's statements for later.
         * One slot ahead is normal while we finish applying; two or more
         * means we missed ledgers. */
        if (slot == d->slot + 1)
            park_envelope(d, e);
        else
            nanumd_catchup_maybe_start(d, 0);
        free(e);
        return;
    }
    if (slot == d->slot && !txsets_present(d, e))
        park_envelope(d, e);
    else
        feed_envelope(d, e);
    free(e);
}

void nanumd_herder_receive_txset(struct nanumd *d, const uint8_t *bytes, size_t len)
{
    struct node_txset *set;
    if (node_txset_decode(bytes, len, &set) != 0)
        return;
    free(keymap_remove(&d->txset_requests, set->hash));
    if (txsets_add(d, set) == NULL)
        return;
    retry_parked(d);
    if (d->externalized_pending)
        uv_timer_start(&d->work, apply_externalized, 0, 0); /* it was waiting for this set */
}

/* --- Life cycle ----------------------------------------------------------------------- */

static void restore_own_statements(struct nanumd *d)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (ledger_chain_own_statements_get(d->chain, &bytes, &len) != 0)
        return;
    struct node_own_statements record;
    if (node_own_statements_decode(bytes, len, &record) == 0 && record.slot == d->slot) {
        for (uint32_t i = 0; i < record.count; i++) {
            struct scp_envelope e;
            if (scp_envelope_decode(record.envelopes[i], record.lens[i], &e) != 0)
                break;
            int rc = scp_restore(d->scp, &e);
            NODE_LOG(NODE_LOG_INFO, "consensus_restored", "slot=%llu result=%s", (unsigned long long)record.slot,
                     scp_errname(rc));
        }
    }
    free(bytes);
}

int nanumd_herder_refresh_validators(struct nanumd *d)
{
    struct node_validator_set set;
    uint8_t hash[NODE_HASH_BYTES];
    int rc = ledger_validators_get(ledger_chain_state(d->chain), &set);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    struct node_params params;
    if ((rc = ledger_params_get(ledger_chain_state(d->chain), &params)) != 0) {
        node_validator_set_free(&set);
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    }
    d->nomination_timeout_ms = params.values[NODE_PARAM_nomination_timeout_ms];
    d->ballot_timeout_ms = params.values[NODE_PARAM_ballot_timeout_ms];
    /* The quorum set depends on the set and on the threshold parameter. */
    uint8_t set_hash[NODE_HASH_BYTES + 8];
    node_validator_set_hash(&set, set_hash);
    for (int k = 0; k < 8; k++)
        set_hash[NODE_HASH_BYTES + k] = (uint8_t)(params.values[NODE_PARAM_quorum_threshold_bp] >> (56 - 8 * k));
    node_hash(set_hash, sizeof set_hash, hash);
    if (d->scp != NULL && memcmp(hash, d->validator_set_hash, NODE_HASH_BYTES) == 0) {
        node_validator_set_free(&set);
        return 0;
    }
    struct scp_qset *qset;
    if ((rc = node_quorum_build(&set, params.values[NODE_PARAM_quorum_threshold_bp], &qset)) != 0) {
        node_validator_set_free(&set);
        return rc;
    }
    struct scp_driver driver = {
        .ctx = d, .sign = scp_sign, .verify = scp_verify, .hash = scp_hash,
        .validate_value = validate_value, .combine_candidates = combine_candidates,
        .get_qset = get_qset, .persist = persist, .emit = emit, .set_timer = set_timer,
        .cancel_timer = cancel_timer, .externalized = externalized, .event = scp_event,
        .timeout_ms = scp_timeout};
    struct scp *scp;
    if ((rc = scp_create(&driver, d->options.node_pk, qset, &scp)) != 0) {
        free(qset);
        node_validator_set_free(&set);
        return NODE_E_INVALID;
    }
    scp_destroy(d->scp);
    free(d->qset);
    node_validator_set_free(&d->validators);
    d->scp = scp;
    d->qset = qset;
    d->validators = set;
    memcpy(d->validator_set_hash, hash, NODE_HASH_BYTES);
    scp_local_qset_hash(scp, d->qset_hash);
    for (int t = 0; t < SCP_TIMERS_COUNT; t++)
        uv_timer_stop(&d->scp_timers[t]);
    NODE_LOG(NODE_LOG_INFO, "validator_set", "validators=%u orgs=%u threshold=%u", set.count, qset->inner_count,
             qset->threshold);
    return 0;
}

static void on_tick(uv_timer_t *t)
{
    struct nanumd *d = t->data;
    nanumd_herder_tick(d);
    nanumd_catchup_tick(d);
    uint64_t now = uv_now(d->loop);
    if (d->scp != NULL && d->options.validator && now >= d->last_rebroadcast_ms + NANUMD_REBROADCAST_MS) {
        /* Re-send our latest statements: they repair message loss and help
         * peers that (re)joined during the slot. */
        d->last_rebroadcast_ms = now;
        const struct scp_envelope *own[2];
        size_t n = scp_own_envelopes(d->scp, d->slot, own, 2);
        for (size_t i = 0; i < n; i++) {
            uint8_t out[SCP_ENVELOPE_BYTES_MAX];
            size_t len;
            if (scp_envelope_encode(own[i], out, sizeof out, &len) == 0) {
                struct node_buf payload = {.data = out, .len = len};
                net_peer_info peers[NANUMD_PEERS_MAX];
                size_t count = 0;
                net_peers(d->net, peers, NANUMD_PEERS_MAX, &count);
                for (size_t k = 0; k < count && k < NANUMD_PEERS_MAX; k++)
                    nanumd_overlay_send(d, peers[k].id, NODE_MSG_SCP, &payload);
            }
        }
    }
}

int nanumd_herder_start(struct nanumd *d)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    d->slot = last.height + 1;
    d->recent[last.height % NANUMD_RECENT_HEADERS].height = last.height;
    memcpy(d->recent[last.height % NANUMD_RECENT_HEADERS].hash, hash, NODE_HASH_BYTES);
    for (int t = 0; t < SCP_TIMERS_COUNT; t++) {
        uv_timer_init(d->loop, &d->scp_timers[t]);
        d->scp_timers[t].data = d;
    }
    uv_timer_init(d->loop, &d->work);
    d->work.data = d;
    uv_timer_init(d->loop, &d->tick);
    d->tick.data = d;
    d->herder_started = true; /* from here on, stop must close what start made */
    d->pending = calloc(NANUMD_PENDING_ENVELOPES_MAX, sizeof *d->pending);
    d->pending_sigs = calloc(NANUMD_PENDING_SIGS_MAX, sizeof *d->pending_sigs);
    if (d->pending == NULL || d->pending_sigs == NULL || keymap_init(&d->txsets) != 0 ||
        keymap_init(&d->watch) != 0 || keymap_init(&d->txset_requests) != 0)
        return NODE_E_NOMEM;
    int rc = nanumd_herder_refresh_validators(d);
    if (rc != 0)
        return rc;
    restore_own_statements(d);
    d->last_close_ms = uv_now(d->loop);
    uv_timer_start(&d->tick, on_tick, NANUMD_TICK_MS, NANUMD_TICK_MS);
    return 0;
}

void nanumd_herder_stop(struct nanumd *d)
{
    if (!d->herder_started)
        return; /* start failed before the handles existed */
    d->herder_started = false;
    uv_timer_stop(&d->tick);
    uv_timer_stop(&d->work);
    for (int t = 0; t < SCP_TIMERS_COUNT; t++)
        uv_timer_stop(&d->scp_timers[t]);
    uv_close((uv_handle_t *)&d->tick, NULL);
    uv_close((uv_handle_t *)&d->work, NULL);
    for (int t = 0; t < SCP_TIMERS_COUNT; t++)
        uv_close((uv_handle_t *)&d->scp_timers[t], NULL);
    scp_destroy(d->scp);
    d->scp = NULL;
    free(d->qset);
    d->qset = NULL;
    node_validator_set_free(&d->validators);
    size_t cursor = 0;
    const uint8_t *key;
    void *value;
    while (keymap_next(&d->txsets, &cursor, &key, &value)) {
        struct nanumd_txset_entry *e = value;
        node_txset_free(e->set);
        free(e);
    }
    keymap_free(&d->txsets);
    cursor = 0;
    while (keymap_next(&d->watch, &cursor, &key, &value))
        free(value);
    keymap_free(&d->watch);
    cursor = 0;
    while (keymap_next(&d->txset_requests, &cursor, &key, &value))
        free(value);
    keymap_free(&d->txset_requests);
    free(d->pending);
    free(d->pending_sigs);
    for (int i = 0; i < NANUMD_RECENT_HEADERS; i++) {
        free(d->recent[i].cert);
        d->recent[i].cert = NULL;
    }
}
