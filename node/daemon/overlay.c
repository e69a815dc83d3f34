/*
 * overlay.c — the node's peer messages (node/protocol/protocol.h) over net/: it
 * registers the message types with their size limits, dispatches what
 * arrives to the herder and catch-up, and admits transactions from peers
 * and from the API into the mempool (flooding the new ones).
 *
 * Bad input from a peer is dropped here without effect: decoders are
 * strict and every handler checks before it acts.  net/ bans peers that
 * break the framing; content that is well-framed but wrong is ignored.
 */
#include <string.h>

#include "daemon.h"
#include "log.h"

void nanumd_overlay_broadcast(struct nanumd *d, enum node_msg_type type, const struct node_buf *payload)
{
    if (d->net != NULL)
        net_broadcast(d->net, (uint8_t)type, payload->data, payload->len);
}

void nanumd_overlay_send(struct nanumd *d, uint64_t peer, enum node_msg_type type,
                         const struct node_buf *payload)
{
    if (d->net != NULL)
        net_send(d->net, peer, (uint8_t)type, payload->data, payload->len);
}

void nanumd_overlay_send_status(struct nanumd *d, uint64_t peer)
{
    struct node_status status;
    struct node_header last;
    ledger_chain_last(d->chain, &last, status.header_hash);
    status.height = last.height;
    struct node_buf b;
    node_buf_init(&b);
    if (node_status_encode(&status, &b) == 0) {
        if (peer != 0) {
            nanumd_overlay_send(d, peer, NODE_MSG_STATUS, &b);
        } else {
            net_peer_info peers[NANUMD_PEERS_MAX];
            size_t count = 0;
            net_peers(d->net, peers, NANUMD_PEERS_MAX, &count);
            for (size_t i = 0; i < count && i < NANUMD_PEERS_MAX; i++)
                nanumd_overlay_send(d, peers[i].id, NODE_MSG_STATUS, &b);
        }
    }
    node_buf_free(&b);
}

/* Floods the transactions admitted from the API since the last flush: one
 * alone as a tx message, several as one txs message, so that a busy node
 * pays the overlay's per-message costs (sealing, opening, message ids,
 * seen-set entries, at every peer and every relay) once per batch rather
 * than once per transaction. */
static void flush_tx_batch(struct nanumd *d)
{
    struct node_txs *batch = &d->tx_batch;
    if (batch->count == 1 && d->net != NULL) {
        net_broadcast(d->net, NODE_MSG_TX, batch->txs[0], batch->lens[0]);
    } else if (batch->count > 1) {
        struct node_buf b;
        node_buf_init(&b);
        if (node_txs_encode(batch, &b) == 0) {
            nanumd_overlay_broadcast(d, NODE_MSG_TXS, &b);
            d->stats.tx_batches_sent++;
            d->stats.txs_batched += batch->count;
        }
        node_buf_free(&b);
    }
    batch->count = 0;
    d->tx_batch_used = 0;
}

static void on_tx_flush(uv_check_t *handle)
{
    flush_tx_batch(handle->data);
}

/* Queues an admitted API transaction for the end-of-turn flood. */
static void batch_tx(struct nanumd *d, const uint8_t *bytes, size_t len)
{
    if (d->net == NULL)
        return;
    if (!d->tx_flush_started) { /* no batching (not started): flood now */
        net_broadcast(d->net, NODE_MSG_TX, bytes, len);
        return;
    }
    struct node_txs *batch = &d->tx_batch;
    uint8_t *at = d->tx_batch_bytes + d->tx_batch_used; /* room: len <= NODE_TX_BYTES_MAX */
    memcpy(at, bytes, len);
    batch->txs[batch->count] = at;
    batch->lens[batch->count++] = len;
    d->tx_batch_used += len;
    if (batch->count == NODE_TX_BATCH_MAX)
        flush_tx_batch(d);
}

int nanumd_submit_tx(struct nanumd *d, const uint8_t *bytes, size_t len, bool from_peer,
                     enum mempool_verdict *verdict, uint8_t id[NODE_HASH_BYTES])
{
    ledger_state *st = ledger_chain_state(d->chain);
    int rc = node_mempool_add(d->mempool, st, bytes, len, uv_now(d->loop), verdict, id);
    ledger_state_clear(st);
    if (rc != 0)
        return rc;
    if (!from_peer)
        d->stats.txs_submitted++;
    if (from_peer && *verdict == MEMPOOL_ADMITTED)
        d->stats.txs_from_peers++;
    /* Peers' copies are relayed by the flood layer itself; ours go out at
     * the end of this loop turn, with the others submitted in it. */
    if (*verdict == MEMPOOL_ADMITTED && !from_peer)
        batch_tx(d, bytes, len);
    return 0;
}

/* A txs message: each transaction as if it came alone, in order.  One
 * that does not decode whole is ignored whole. */
static void on_txs(struct nanumd *d, const uint8_t *payload, size_t len)
{
    struct node_txs batch;
    if (node_txs_decode(payload, len, &batch) != 0)
        return;
    for (uint32_t i = 0; i < batch.count && !d->stopping; i++) {
        enum mempool_verdict verdict;
        nanumd_submit_tx(d, batch.txs[i], batch.lens[i], true, &verdict, NULL);
    }
}

/* Answers get_txset: the set, if we have it. */
static void on_get_txset(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len)
{
    uint8_t root[NODE_HASH_BYTES];
    if (node_txset_request_decode(bytes, len, root) != 0)
        return;
    const struct node_txset *set = nanumd_txset_find(d, root);
    if (set == NULL)
        return;
    struct node_buf b;
    node_buf_init(&b);
    if (node_txset_encode(set, &b) == 0)
        nanumd_overlay_send(d, peer, NODE_MSG_TXSET, &b);
    node_buf_free(&b);
}

/* Answers get_scp: our latest envelopes of a slot, for a peer that joined late. */
static void on_get_scp(struct nanumd *d, uint64_t peer, const uint8_t *bytes, size_t len)
{
    struct node_range r;
    if (d->scp == NULL || node_range_decode(bytes, len, &r) != 0)
        return;
    const struct scp_envelope *latest[64];
    size_t n = scp_latest_envelopes(d->scp, r.from, latest, 64);
    for (size_t i = 0; i < n; i++) {
        uint8_t out[SCP_ENVELOPE_BYTES_MAX];
        size_t out_len;
        if (scp_envelope_encode(latest[i], out, sizeof out, &out_len) == 0) {
            struct node_buf payload = {.data = out, .len = out_len};
            nanumd_overlay_send(d, peer, NODE_MSG_SCP, &payload);
        }
    }
}

static void on_message(void *user, const net_peer_info *peer, uint8_t type, const uint8_t *payload,
                       size_t len)
{
    struct nanumd *d = user;
    if (d->stopping)
        return;
    enum mempool_verdict verdict;
    switch (type) {
    case NODE_MSG_TX:
        nanumd_submit_tx(d, payload, len, true, &verdict, NULL);
        break;
    case NODE_MSG_TXS:
        on_txs(d, payload, len);
        break;
    case NODE_MSG_SCP:
        nanumd_herder_receive_envelope(d, payload, len);
        break;
    case NODE_MSG_TXSET:
        nanumd_herder_receive_txset(d, payload, len);
        break;
    case NODE_MSG_GET_TXSET:
        on_get_txset(d, peer->id, payload, len);
        break;
    case NODE_MSG_LEDGER_SIG:
        nanumd_herder_receive_ledger_sig(d, payload, len);
        break;
    case NODE_MSG_STATUS:
        nanumd_catchup_on_status(d, peer->id, payload, len);
        break;
    case NODE_MSG_GET_LEDGERS:
        nanumd_catchup_on_get_ledgers(d, peer->id, payload, len);
        break;
    case NODE_MSG_LEDGERS:
        nanumd_catchup_on_ledgers(d, peer->id, payload, len);
        break;
    case NODE_MSG_GET_SCP:
        on_get_scp(d, peer->id, payload, len);
        break;
    default:
        break;
    }
}

static void on_peer_up(void *user, const net_peer_info *peer)
{
    struct nanumd *d = user;
    char who[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(peer->public_key, who);
    NODE_LOG(NODE_LOG_INFO, "peer_up", "peer=%s address=%s outbound=%s", who, peer->address,
             peer->outbound ? "yes" : "no");
    nanumd_overlay_send_status(d, peer->id);
    /* Ask for the current slot's statements: we may have missed them. */
    struct node_range r = {.from = d->slot, .count = 1};
    struct node_buf b;
    node_buf_init(&b);
    if (node_range_encode(&r, &b) == 0)
        nanumd_overlay_send(d, peer->id, NODE_MSG_GET_SCP, &b);
    node_buf_free(&b);
}

static void on_peer_down(void *user, const net_peer_info *peer, int reason)
{
    struct nanumd *d = user;
    nanumd_catchup_forget_peer(d, peer->id);
    char who[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(peer->public_key, who);
    NODE_LOG(NODE_LOG_INFO, "peer_down", "peer=%s address=%s reason=%s", who, peer->address,
             net_errname(reason));
}

static void on_connection_failed(void *user, const char *address, bool outbound, int reason)
{
    (void)user;
    NODE_LOG(NODE_LOG_DEBUG, "peer_connection_failed", "address=%s outbound=%s reason=%s", address,
             outbound ? "yes" : "no", net_errname(reason));
}

int nanumd_overlay_start(struct nanumd *d)
{
    net_config config;
    memset(&config, 0, sizeof config);
    config.loop = d->loop;
    memcpy(config.network_id, d->network_id, NODE_HASH_BYTES);
    memcpy(config.public_key, d->options.node_pk, NODE_KEY_BYTES);
    memcpy(config.secret_key, d->options.node_sk, NODE_SECRET_KEY_BYTES);
    config.listen_host = d->options.p2p_host;
    config.listen_port = d->options.p2p_port;
    net_limits_default(&config.limits);
    if (d->options.inbound_max > 0)
        config.limits.inbound_peers_max = d->options.inbound_max;
    if (d->options.outbound_max > 0)
        config.limits.outbound_peers_max = d->options.outbound_max;
    config.limits.backoff_max_ms = 2000; /* validators are few: find them again fast */
    /* Each transaction is its own message: a peer busy applying a large
     * ledger must not overflow at the default depth and be dropped. */
    config.limits.queue_messages_max = 65536;
    config.limits.queue_bytes_max = 128u << 20;
    config.callbacks = (net_callbacks){.user = d, .on_message = on_message, .on_peer_up = on_peer_up,
                                       .on_peer_down = on_peer_down,
                                       .on_connection_failed = on_connection_failed};
    int rc = net_create(&config, &d->net);
    if (rc != 0) {
        NODE_LOG(NODE_LOG_ERROR, "p2p_start_failed", "listen=%s:%u error=%s", d->options.p2p_host,
                 d->options.p2p_port, net_strerror(rc));
        return rc;
    }
    static const struct {
        uint8_t type;
        uint32_t bytes_max;
        bool flood;
    } types[] = {
        {NODE_MSG_TX, NODE_TX_BYTES_MAX, true},
        {NODE_MSG_TXS, NODE_TX_BATCH_BYTES_MAX, true},
        {NODE_MSG_SCP, SCP_ENVELOPE_BYTES_MAX, true},
        {NODE_MSG_TXSET, NODE_TXSET_BYTES_MAX, true},
        {NODE_MSG_GET_TXSET, NODE_HASH_BYTES + 2, false},
        {NODE_MSG_LEDGER_SIG, 256, true},
        {NODE_MSG_STATUS, 64, false},
        {NODE_MSG_GET_LEDGERS, 32, false},
        {NODE_MSG_LEDGERS, NODE_LEDGERS_BYTES_MAX, false},
        {NODE_MSG_GET_SCP, 32, false},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if ((rc = net_register_type(d->net, types[i].type, types[i].bytes_max, types[i].flood)) != 0) {
            NODE_LOG(NODE_LOG_ERROR, "p2p_start_failed", "type=%u error=%s", types[i].type, net_strerror(rc));
            return rc;
        }
    /* Consensus traffic goes before queued transactions (net_set_urgent). */
    static const uint8_t urgent[] = {NODE_MSG_SCP,    NODE_MSG_TXSET,  NODE_MSG_LEDGER_SIG,
                                     NODE_MSG_STATUS, NODE_MSG_GET_TXSET, NODE_MSG_GET_SCP};
    for (size_t i = 0; i < sizeof urgent; i++)
        net_set_urgent(d->net, urgent[i], true);
    uv_check_init(d->loop, &d->tx_flush);
    d->tx_flush.data = d;
    uv_check_start(&d->tx_flush, on_tx_flush);
    d->tx_flush_started = true;
    for (uint32_t i = 0; i < d->options.peer_count; i++)
        net_add_peer(d->net, d->options.peers[i].host, d->options.peers[i].port);
    NODE_LOG(NODE_LOG_INFO, "p2p_listening", "address=%s:%u peers=%u", d->options.p2p_host,
             net_listen_port(d->net), d->options.peer_count);
    return 0;
}
