/*
 * catchup.c — bringing a node that is behind up to date (DESIGN §7).
 *
 * Peers tell each other their height (status) when they connect and after
 * every ledger.  A node that learns a peer is ahead asks it for the next
 * ledgers in batches (get_ledgers); the answer carries each block with its
 * certificate.  Each ledger is accepted only if
 *   - its certificate holds valid signatures, over the header hash, of
 *     validators of the set in force (the set after the previous ledger)
 *     that together satisfy the quorum set — so no single peer can forge
 *     one;
 *   - it extends our chain (height and previous hash); and
 *   - replaying its transactions reproduces the block byte for byte (state
 *     hash included): node/ledger/chain.c ledger_chain_apply_block.
 * Requests rotate over the peers that are ahead, and a request unanswered
 * for NANUMD_CATCHUP_TIMEOUT_MS is sent again to another.  Progress is
 * logged with a rate and an estimate of the time left.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

int nanumd_certificate_load(struct nanumd *d, uint64_t height, struct node_certificate *out)
{
    return ledger_chain_certificate_get(d->chain, height, out);
}

int nanumd_certificate_store(struct nanumd *d, uint64_t height, const struct node_certificate *cert)
{
    return ledger_chain_certificate_put(d->chain, height, cert);
}

/* --- What peers claim ---------------------------------------------------------- */

static void recompute_best(struct nanumd *d)
{
    uint64_t best = 0;
    for (uint32_t i = 0; i < d->peer_height_count; i++)
        if (d->peer_heights[i].height > best)
            best = d->peer_heights[i].height;
    d->best_peer_height = best;
}

/* Records what a connected peer says its height is.  Claims are believed
 * only until the peer fails to serve them (disbelieve below). */
static void set_peer_height(struct nanumd *d, uint64_t peer, uint64_t height)
{
    uint32_t i = 0;
    while (i < d->peer_height_count && d->peer_heights[i].peer != peer)
        i++;
    if (i == d->peer_height_count) {
        if (i == NANUMD_PEER_HEIGHTS_MAX)
            return;
        d->peer_heights[d->peer_height_count++].peer = peer;
    }
    d->peer_heights[i].height = height;
    recompute_best(d);
}

void nanumd_catchup_forget_peer(struct nanumd *d, uint64_t peer)
{
    for (uint32_t i = 0; i < d->peer_height_count; i++)
        if (d->peer_heights[i].peer == peer) {
            d->peer_heights[i] = d->peer_heights[--d->peer_height_count];
            break;
        }
    recompute_best(d);
}

/* A peer that claimed ledgers but did not deliver them: its claim no longer
 * counts (a lying peer must not keep us "behind" and out of consensus). */
static void disbelieve(struct nanumd *d, uint64_t peer, uint64_t our_height)
{
    for (uint32_t i = 0; i < d->peer_height_count; i++)
        if (d->peer_heights[i].peer == peer && d->peer_heights[i].height > our_height)
            d->peer_heights[i].height = our_height;
    recompute_best(d);
}

/* A peer that claims to be ahead, rotating so a silent one cannot stall us;
 * 0 if none is. */
static uint64_t pick_peer_ahead(struct nanumd *d, uint64_t our_height)
{
    uint32_t ahead = 0;
    for (uint32_t i = 0; i < d->peer_height_count; i++)
        ahead += d->peer_heights[i].height > our_height;
    if (ahead == 0)
        return 0;
    uint32_t pick = (uint32_t)((our_height + uv_now(d->loop) / NANUMD_CATCHUP_TIMEOUT_MS) % ahead);
    for (uint32_t i = 0; i < d->peer_height_count; i++)
        if (d->peer_heights[i].height > our_height && pick-- == 0)
            return d->peer_heights[i].peer;
    return 0;
}

/* Sends get_ledgers for the ledgers after ours to `peer` (0: a peer ahead). */
static void request_ledgers(struct nanumd *d, uint64_t peer)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    if (peer == 0 && (peer = pick_peer_ahead(d, last.height)) == 0)
        return;
    d->catchup_peer = peer;
    struct node_range r = {.from = last.height + 1, .count = NODE_LEDGERS_BATCH_MAX};
    struct node_buf b;
    node_buf_init(&b);
    if (node_range_encode(&r, &b) == 0)
        nanumd_overlay_send(d, peer, NODE_MSG_GET_LEDGERS, &b);
    node_buf_free(&b);
    d->catchup_requested_ms = uv_now(d->loop);
    d->catchup_from = r.from;
    if (d->catchup_started_ms == 0) {
        d->catchup_started_ms = uv_now(d->loop);
        d->catchup_start_height = last.height;
        NODE_LOG(NODE_LOG_INFO, "catchup_started", "height=%llu target=%llu", (unsigned long long)last.height,
                 (unsigned long long)d->best_peer_height);
    }
}

void nanumd_catchup_maybe_start(struct nanumd *d, uint64_t peer)
{
    if (d->catchup_requested_ms != 0 || d->stopping)
        return;
    request_ledgers(d, peer);
}

void nanumd_catchup_on_status(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len)
{
    struct node_status s;
    if (node_status_decode(bytes, len, &s) != 0)
        return;
    set_peer_height(d, peer, s.height);
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    if (s.height == last.height && memcmp(s.header_hash, hash, NODE_HASH_BYTES) != 0) {
        char theirs[17], ours[17];
        node_hex_encode(s.header_hash, 8, theirs);
        node_hex_encode(hash, 8, ours);
        d->stats.hash_mismatches++;
        NODE_LOG(NODE_LOG_ERROR, "ledger_hash_mismatch", "height=%llu theirs=%s ours=%s source=status",
                 (unsigned long long)s.height, theirs, ours);
    }
    /* One ledger behind is normal while a slot closes; more, or one for a
     * while, means we missed ledgers. */
    bool behind = s.height > last.height + 1 ||
                  (s.height > last.height && uv_now(d->loop) > d->last_close_ms + 1000);
    if (behind)
        nanumd_catchup_maybe_start(d, peer);
}

void nanumd_catchup_on_get_ledgers(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len)
{
    struct node_range r;
    if (node_range_decode(bytes, len, &r) != 0 || r.from == 0)
        return;
    /* Count what fits first, then write: the array header comes first. */
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    uint64_t end = r.from + r.count;
    if (end > last.height + 1)
        end = last.height + 1;
    uint8_t *blocks[NODE_LEDGERS_BATCH_MAX];
    size_t block_lens[NODE_LEDGERS_BATCH_MAX];
    struct node_buf certs[NODE_LEDGERS_BATCH_MAX];
    uint32_t n = 0;
    size_t total = 0;
    struct node_certificate *cert = malloc(sizeof *cert);
    for (uint64_t h = r.from; cert != NULL && h < end && n < NODE_LEDGERS_BATCH_MAX; h++) {
        if (ledger_chain_block(d->chain, h, &blocks[n], &block_lens[n]) != 0)
            break;
        node_buf_init(&certs[n]);
        if (nanumd_certificate_load(d, h, cert) != 0 || node_certificate_encode(cert, &certs[n]) != 0 ||
            total + block_lens[n] + certs[n].len + 16 > NODE_LEDGERS_BYTES_MAX) {
            free(blocks[n]);
            node_buf_free(&certs[n]);
            break;
        }
        total += block_lens[n] + certs[n].len + 16;
        n++;
    }
    free(cert);
    struct node_ledgers *answer = malloc(sizeof *answer);
    struct node_buf out;
    node_buf_init(&out);
    if (answer != NULL) {
        answer->count = n;
        for (uint32_t i = 0; i < n; i++) {
            answer->entries[i].block = blocks[i];
            answer->entries[i].block_len = block_lens[i];
            answer->entries[i].certificate = certs[i].data;
            answer->entries[i].certificate_len = certs[i].len;
        }
        if (n > 0 && node_ledgers_encode(answer, &out) == 0)
            nanumd_overlay_send(d, peer, NODE_MSG_LEDGERS, &out);
    }
    for (uint32_t i = 0; i < n; i++) {
        free(blocks[i]);
        node_buf_free(&certs[i]);
    }
    free(answer);
    node_buf_free(&out);
}

/* Checks and applies one fetched ledger; 0, or why it was refused. */
static int apply_fetched(struct nanumd *d, const uint8_t *block, size_t block_len, const uint8_t *cert_bytes,
                         size_t cert_len)
{
    struct node_header header;
    struct node_block blk;
    int rc = node_block_decode(block, block_len, &blk);
    if (rc != 0)
        return rc;
    header = blk.header;
    node_block_free(&blk);
    uint8_t hash[NODE_HASH_BYTES];
    node_header_hash(&header, d->network_id, hash);
    struct node_certificate *cert = malloc(sizeof *cert);
    if (cert == NULL)
        return NODE_E_NOMEM;
    rc = node_certificate_decode(cert_bytes, cert_len, cert);
    /* Forged signatures are dropped before anything is stored. */
    if (rc == 0 && !nanumd_certificate_keep_valid(d, hash, cert))
        rc = LEDGER_E_CHAIN; /* no quorum of valid signatures (yet): ask again later */
    if (rc == 0)
        rc = ledger_chain_apply_block_known(d->chain, block, block_len, nanumd_signature_known, d);
    if (rc == 0)
        nanumd_certificate_store(d, header.height, cert);
    free(cert);
    if (rc != 0)
        return rc;
    d->stats.ledgers_caught_up++;
    /* Mempool cleanup, signatures, status and a fresh consensus slot. */
    struct node_block applied;
    if (node_block_decode(block, block_len, &applied) == 0) {
        nanumd_herder_ledger_committed(d, &header, hash, (const uint8_t *const *)applied.tx_bytes,
                                       applied.tx_lens, applied.tx_count);
        node_block_free(&applied);
    }
    return 0;
}

static void log_progress(struct nanumd *d, uint64_t height, bool done)
{
    uint64_t now = uv_now(d->loop);
    if (!done && now < d->catchup_last_log_ms + 1000)
        return;
    d->catchup_last_log_ms = now;
    double seconds = (double)(now - d->catchup_started_ms) / 1000.0;
    uint64_t gained = height - d->catchup_start_height;
    double rate = seconds > 0 ? (double)gained / seconds : 0;
    uint64_t left = d->best_peer_height > height ? d->best_peer_height - height : 0;
    if (done)
        NODE_LOG(NODE_LOG_INFO, "catchup_done", "height=%llu ledgers=%llu seconds=%.1f rate_per_s=%.0f",
                 (unsigned long long)height, (unsigned long long)gained, seconds, rate);
    else
        NODE_LOG(NODE_LOG_INFO, "catchup_progress", "height=%llu target=%llu rate_per_s=%.0f eta_s=%.0f",
                 (unsigned long long)height, (unsigned long long)d->best_peer_height, rate,
                 rate > 0 ? (double)left / rate : -1.0);
}

void nanumd_catchup_on_ledgers(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len)
{
    /* Only the answer to our request counts: unsolicited ledgers would cost
     * certificate checks and could cancel the request in flight. */
    if (d->catchup_requested_ms == 0 || peer != d->catchup_peer)
        return;
    struct node_ledgers *answer = malloc(sizeof *answer);
    if (answer == NULL)
        return;
    if (node_ledgers_decode(bytes, len, answer) != 0) {
        free(answer); /* refused whole; the request times out and goes elsewhere */
        return;
    }
    uint64_t applied = 0;
    for (uint32_t i = 0; i < answer->count; i++) {
        const uint8_t *block = answer->entries[i].block, *cert = answer->entries[i].certificate;
        size_t block_len = answer->entries[i].block_len, cert_len = answer->entries[i].certificate_len;
        struct node_header last;
        uint8_t hash[NODE_HASH_BYTES];
        ledger_chain_last(d->chain, &last, hash);
        struct node_block peek;
        if (node_block_decode(block, block_len, &peek) != 0)
            break;
        uint64_t height = peek.header.height;
        node_block_free(&peek);
        if (height <= last.height)
            continue; /* we have it (consensus got there first) */
        int rc = apply_fetched(d, block, block_len, cert, cert_len);
        if (rc != 0) {
            NODE_LOG(NODE_LOG_WARN, "catchup_ledger_refused", "height=%llu error=%s",
                     (unsigned long long)height, node_errname(rc));
            break; /* ask again later, perhaps of another peer */
        }
        applied++;
    }
    free(answer);
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    d->catchup_requested_ms = 0;
    if (applied == 0)
        disbelieve(d, peer, last.height);
    if (applied > 0 && last.height < d->best_peer_height) {
        log_progress(d, last.height, false);
        request_ledgers(d, peer);
    } else if (d->catchup_started_ms != 0 && last.height >= d->best_peer_height) {
        log_progress(d, last.height, true);
        d->catchup_started_ms = 0;
    }
}

void nanumd_catchup_tick(struct nanumd *d)
{
    uint64_t now = uv_now(d->loop);
    if (d->catchup_requested_ms != 0 && now > d->catchup_requested_ms + NANUMD_CATCHUP_TIMEOUT_MS) {
        d->catchup_requested_ms = 0;
        struct node_header before;
        uint8_t before_hash[NODE_HASH_BYTES];
        ledger_chain_last(d->chain, &before, before_hash);
        disbelieve(d, d->catchup_peer, before.height);
        request_ledgers(d, 0); /* unanswered: ask someone else */
    }
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    /* Synced: no peer we know of is ahead, and no catch-up is running. */
    bool synced = d->catchup_requested_ms == 0 && d->best_peer_height <= last.height + 1;
    if (synced != d->synced) {
        d->synced = synced;
        NODE_LOG(NODE_LOG_INFO, synced ? "synced" : "behind", "height=%llu best_peer=%llu",
                 (unsigned long long)last.height, (unsigned long long)d->best_peer_height);
    }
}
