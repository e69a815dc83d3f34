/*
 * conn.c — one peer connection on libuv TCP: the handshake driver, frame
 * dispatch, flow control, the outbound queue and close.
 *
 * Handlers never write to the socket: they append frames to the
 * connection's output buffer and mark it dirty; the node's prepare handle
 * flushes every dirty connection once per loop turn (Redis's beforeSleep).
 * Two exceptions write sooner: a credit grant (the peer may be idle
 * waiting for it) and an output buffer that reached its high-water mark.
 * A flush first writes what the socket takes at once; the rest goes to
 * the one uv_write in flight per connection, and new frames go to a second
 * buffer meanwhile; the two are swapped, never copied.
 *
 * Flow control (spec/network.md "Flow control"): each side grants the other
 * a window of application messages and payload bytes with CREDIT frames and
 * tops it up as it consumes frames.  Messages wait in a bounded per-peer
 * queue until credit and room in the output buffer let them be sealed; a
 * queue that overflows drops the peer (NET_E_PEER_SLOW), so one slow peer
 * never holds memory or time that the others need.  A peer that sends
 * beyond its grant misbehaves and is banned.
 *
 * Lifetime: net__conn_close() marks the connection closing (no callbacks
 * and no sends after it) and closes the handle, or first flushes a close
 * frame when graceful; the memory is freed in the handle's close callback.
 *
 * Read next: net/node.c.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

static void conn_on_close(uv_handle_t *handle);
static void conn_on_write(uv_write_t *req, int status);

/* Drops one reference to msg, freeing it with the last. */
void net__msg_unref(net__msg *msg)
{
    if (--msg->refs == 0)
        free(msg);
}

/* A shareable copy of a payload, one reference held by the caller. */
net__msg *net__msg_new(uint8_t type, const void *payload, size_t len)
{
    net__msg *msg = malloc(sizeof *msg + 1 + len);
    if (msg == NULL)
        return NULL;
    msg->refs = 1;
    msg->len = (uint32_t)len;
    msg->plain[0] = type;
    if (len > 0)
        memcpy(msg->plain + 1, payload, len);
    return msg;
}

/* Allocates a connection with its TCP handle, hooked into net->conns. */
net__conn *net__conn_new(struct net_node *net, bool outbound)
{
    net__conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL)
        return NULL;
    conn->queue = calloc(net->limits.queue_messages_max, sizeof *conn->queue);
    conn->hs = malloc(sizeof *conn->hs);
    if (conn->queue == NULL || conn->hs == NULL ||
        uv_tcp_init(net->loop, &conn->tcp) != 0) {
        free(conn->queue);
        free(conn->hs);
        free(conn);
        return NULL;
    }
    net->handles_open++;
    conn->tcp.data = conn;
    conn->connect_req.data = conn;
    conn->write_req.data = conn;
    conn->shutdown_req.data = conn;
    conn->net = net;
    conn->address_index = -1;
    conn->started_ms = uv_now(net->loop);
    conn->last_receive_ms = conn->started_ms;
    conn->info.id = ++net->next_peer_id;
    conn->info.outbound = outbound;
    conn->info.rtt_ms = -1;
    net__hs_init(conn->hs, outbound, net->network_id, net->public_key,
                 net->secret_key);
    conn->next = net->conns;
    if (net->conns != NULL)
        net->conns->prev = conn;
    net->conns = conn;
    if (outbound)
        net->outbound_count++;
    else
        net->inbound_count++;
    uv_tcp_nodelay(&conn->tcp, 1);
    return conn;
}

/* Hands the handle to uv_close once. */
void net__conn_close_handle(net__conn *conn)
{
    if (uv_is_closing((uv_handle_t *)&conn->tcp))
        return;
    uv_close((uv_handle_t *)&conn->tcp, conn_on_close);
}

/* Releases every queued message. */
static void conn_release_queue(net__conn *conn)
{
    uint32_t max = conn->net->limits.queue_messages_max;
    while (conn->urgent_count > 0) {
        net__msg_unref(conn->urgent[conn->urgent_head]);
        conn->urgent_head = (conn->urgent_head + 1) % NET__URGENT_QUEUE_MAX;
        conn->urgent_count--;
        conn->info.queue_messages--;
    }
    while (conn->info.queue_messages > 0) {
        net__msg_unref(conn->queue[conn->queue_head]);
        conn->queue_head = (conn->queue_head + 1) % max;
        conn->info.queue_messages--;
    }
    conn->info.queue_bytes = 0;
}

/* The handle is closed: unlink and free everything the connection owns. */
static void conn_on_close(uv_handle_t *handle)
{
    net__conn *conn = handle->data;
    struct net_node *net = conn->net;
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        net->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    for (net__conn **link = &net->dirty; *link != NULL;
         link = &(*link)->dirty_next) {
        if (*link == conn) {
            *link = conn->dirty_next;
            break;
        }
    }
    conn_release_queue(conn);
    free(conn->queue);
    if (conn->hs != NULL) {
        net__hs_wipe(conn->hs);
        free(conn->hs);
    }
    net__buf_free(&conn->in);
    net__buf_free(&conn->out);
    net__buf_free(&conn->writing_buf);
    net__stream_wipe(&conn->tx);
    net__stream_wipe(&conn->rx);
    free(conn);
    net__conn_freed(net);
}

/* Shutdown finished (or failed): the handle can go. */
static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    net__conn_close_handle(req->data);
}

/* Closes the connection; see net_internal.h. */
void net__conn_close(net__conn *conn, int reason, bool graceful)
{
    if (conn->closing)
        return;
    bool was_up = conn->state == NET__CONN_UP;
    conn->closing = true;
    conn_release_queue(conn);
    net__conn_closed(conn, reason);
    if (graceful && was_up && !conn->net->destroying &&
        !uv_is_closing((uv_handle_t *)&conn->tcp)) {
        uint8_t payload[4];
        size_t n = net__close_encode(reason, payload);
        conn->closing_gracefully = true;
        conn->closing_ms = uv_now(conn->net->loop);
        uv_read_stop((uv_stream_t *)&conn->tcp);
        if (net__frame_seal(&conn->tx, NET__TYPE_CLOSE, payload, n,
                            &conn->out) == 0) {
            net__conn_flush(conn);
            /* Written at once, the shutdown is under way already. */
            if (conn->writing || conn->shutting_down)
                return;
        }
    }
    net__conn_close_handle(conn);
}

/* Misbehaviour: close, and ban the key if the peer proved one. */
void net__conn_misbehaved(net__conn *conn, int reason)
{
    bool identified =
        conn->state == NET__CONN_UP || conn->state == NET__CONN_WAIT_CREDIT;
    uint8_t key[32];
    memcpy(key, conn->info.public_key, 32);
    net__conn_close(conn, reason, false);
    if (identified) {
        conn->net->stats.peers_banned++;
        net__ban_key(conn->net, key, conn->net->limits.ban_ms);
    }
}

/* The output buffer was written out: finish a graceful close, or refill
 * it from the queue (the refill is flushed at the latest before the loop
 * next polls). */
static void conn_written(net__conn *conn)
{
    if (conn->closing_gracefully) {
        if (conn->out.len > 0)
            net__conn_flush(conn);
        else if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp,
                             conn_on_shutdown) == 0)
            conn->shutting_down = true;
        else
            net__conn_close_handle(conn);
        return;
    }
    net__conn_pump(conn);
}

/* Hands the output buffer to libuv unless a write is in flight.  What the
 * socket takes at once is written synchronously: the buffer is then reused
 * while still in cache, and sending goes on without waiting a loop turn
 * for a write callback.  Only the rest goes to uv_write. */
void net__conn_flush(net__conn *conn)
{
    if (conn->writing || conn->out.len == 0 ||
        uv_is_closing((uv_handle_t *)&conn->tcp) ||
        (conn->closing && !conn->closing_gracefully))
        return;
    uv_buf_t buf = uv_buf_init((char *)net__buf_head(&conn->out),
                               (unsigned int)conn->out.len);
    int written = uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1);
    if (written < 0 && written != UV_EAGAIN) {
        net__conn_close(conn, NET_E_IO, false);
        net__conn_close_handle(conn);
        return;
    }
    if (written > 0) {
        conn->info.bytes_sent += (uint64_t)written;
        net__buf_consume(&conn->out, (size_t)written);
        if (conn->out.len == 0) {
            conn_written(conn);
            return;
        }
    }
    net__buf swap = conn->writing_buf;
    conn->writing_buf = conn->out;
    conn->out = swap;
    buf = uv_buf_init((char *)net__buf_head(&conn->writing_buf),
                      (unsigned int)conn->writing_buf.len);
    int rc = uv_write(&conn->write_req, (uv_stream_t *)&conn->tcp, &buf, 1,
                      conn_on_write);
    if (rc != 0) {
        net__conn_close(conn, NET_E_IO, false);
        net__conn_close_handle(conn);
        return;
    }
    conn->writing = true;
}

/* A write finished: count it, refill from the queue, write again. */
static void conn_on_write(uv_write_t *req, int status)
{
    net__conn *conn = req->data;
    conn->writing = false;
    if (uv_is_closing((uv_handle_t *)&conn->tcp))
        return;
    if (status < 0) {
        net__conn_close(conn, NET_E_IO, false);
        net__conn_close_handle(conn);
        return;
    }
    conn->info.bytes_sent += conn->writing_buf.len;
    net__buf_consume(&conn->writing_buf, conn->writing_buf.len);
    conn_written(conn);
    net__conn_flush(conn);
}

/* Appends one control frame to the output buffer. */
int net__conn_send_control(net__conn *conn, uint8_t type,
                           const uint8_t *payload, size_t len)
{
    if (conn->closing)
        return NET_E_NO_PEER;
    int rc = net__frame_seal(&conn->tx, type, payload, len, &conn->out);
    if (rc != 0) {
        net__conn_close(conn, rc, false);
        return rc;
    }
    net__mark_dirty(conn);
    return 0;
}

/* Seals one application frame's plaintext ([type, payload]) into the
 * output buffer and spends its credit.  0, or NET_E_NOMEM after closing
 * the connection. */
static int conn_seal_application(net__conn *conn, const uint8_t *plain,
                                 size_t payload_len)
{
    assert(conn->credit_messages > 0 && conn->credit_bytes >= payload_len);
    if (net__frame_seal_plain(&conn->tx, plain, 1 + payload_len,
                              &conn->out) != 0) {
        net__conn_close(conn, NET_E_NOMEM, false);
        return NET_E_NOMEM;
    }
    conn->credit_messages--;
    conn->credit_bytes -= payload_len;
    conn->info.messages_sent++;
    conn->net->stats.frames_sent++;
    return 0;
}

/* Seals queued messages into the output buffer while the peer's credit
 * and the output buffer's high-water mark allow. */
/* The next message to send: an urgent one first (a consensus statement must
 * not wait behind a transaction flood), else the queue's head; NULL if none.
 * *urgent says which. */
static net__msg *next_queued(net__conn *conn, bool *urgent)
{
    *urgent = conn->urgent_count > 0;
    if (*urgent)
        return conn->urgent[conn->urgent_head];
    return conn->info.queue_messages > 0 ? conn->queue[conn->queue_head] : NULL;
}

void net__conn_pump(net__conn *conn)
{
    uint32_t max = conn->net->limits.queue_messages_max;
    bool moved = false, urgent;
    net__msg *msg;
    while (conn->state == NET__CONN_UP && !conn->closing &&
           conn->out.len < NET__OUT_BUFFER_BYTES_HIGH && (msg = next_queued(conn, &urgent)) != NULL) {
        /* Urgent or not, every message takes credit. */
        if (conn->credit_messages == 0 || conn->credit_bytes < msg->len)
            break;
        if (conn_seal_application(conn, msg->plain, msg->len) != 0)
            return;
        conn->info.queue_messages--;
        conn->info.queue_bytes -= msg->len;
        if (urgent) {
            conn->urgent_head = (conn->urgent_head + 1) % NET__URGENT_QUEUE_MAX;
            conn->urgent_count--;
        } else {
            conn->queue_head = (conn->queue_head + 1) % max;
        }
        net__msg_unref(msg);
        moved = true;
    }
    if (moved)
        net__mark_dirty(conn);
}

/* Queues msg; a full queue drops the peer as too slow. */
int net__conn_enqueue(net__conn *conn, net__msg *msg)
{
    const net_limits *limits = &conn->net->limits;
    if (conn->closing || conn->state != NET__CONN_UP)
        return NET_E_NO_PEER;
    if (conn->info.queue_messages + 1 > limits->queue_messages_max ||
        conn->info.queue_bytes + msg->len > limits->queue_bytes_max) {
        conn->net->stats.peers_dropped_slow++;
        net__conn_close(conn, NET_E_PEER_SLOW, false);
        return NET_E_PEER_SLOW;
    }
    if (conn->net->types[msg->plain[0]].urgent && conn->urgent_count < NET__URGENT_QUEUE_MAX) {
        conn->urgent[(conn->urgent_head + conn->urgent_count) % NET__URGENT_QUEUE_MAX] = msg;
        conn->urgent_count++;
    } else {
        uint32_t queued = conn->info.queue_messages - conn->urgent_count;
        uint32_t slot = (conn->queue_head + queued) % limits->queue_messages_max;
        conn->queue[slot] = msg;
    }
    msg->refs++;
    conn->info.queue_messages++;
    conn->info.queue_bytes += msg->len;
    net__conn_pump(conn);
    return 0;
}

/* Sends a payload now when queueing it would only delay it; see
 * net_internal.h. */
int net__conn_send(net__conn *conn, uint8_t type, const uint8_t *payload,
                   size_t len, net__msg **shared)
{
    if (conn->closing || conn->state != NET__CONN_UP)
        return NET_E_NO_PEER;
    /* The same conditions under which net__conn_enqueue's pump would seal
     * it at once, so order, credit and the queue's bounds are unchanged;
     * what is saved is allocating, copying and freeing a message. */
    /* An urgent type only waits for other urgent messages. */
    uint32_t ahead = conn->net->types[type].urgent ? conn->urgent_count : conn->info.queue_messages;
    if (ahead == 0 && len <= NET__SEAL_DIRECT_BYTES_MAX &&
        conn->credit_messages > 0 && conn->credit_bytes >= len &&
        conn->out.len < NET__OUT_BUFFER_BYTES_HIGH) {
        uint8_t *plain = conn->net->seal_scratch;
        plain[0] = type;
        if (len > 0)
            memcpy(plain + 1, payload, len);
        int rc = conn_seal_application(conn, plain, len);
        if (rc != 0)
            return rc;
        net__mark_dirty(conn);
        /* A full buffer gains nothing by waiting for the loop turn's
         * flush, and would send the next payloads to the queue. */
        if (conn->out.len >= NET__OUT_BUFFER_BYTES_HIGH)
            net__conn_flush(conn);
        return 0;
    }
    if (*shared == NULL) {
        *shared = net__msg_new(type, payload, len);
        if (*shared == NULL)
            return NET_E_NOMEM;
    }
    return net__conn_enqueue(conn, *shared);
}

/* Grants the peer the window it used up, once enough is used that it
 * could be waiting (half the window, or less left than the largest
 * payload). */
static void conn_maybe_grant(net__conn *conn)
{
    const net_limits *limits = &conn->net->limits;
    if (conn->state != NET__CONN_UP || conn->closing ||
        conn->consumed_messages == 0)
        return;
    if (conn->grant_messages > limits->credit_messages / 2 &&
        conn->grant_bytes > limits->credit_bytes / 2 &&
        conn->grant_bytes >= conn->net->frame_plain_max - 1)
        return;
    uint8_t payload[8];
    size_t n = net__credit_encode((uint32_t)conn->consumed_messages,
                                  (uint32_t)conn->consumed_bytes, payload);
    conn->grant_messages += conn->consumed_messages;
    conn->grant_bytes += conn->consumed_bytes;
    conn->consumed_messages = conn->consumed_bytes = 0;
    /* Written now rather than at the end of the loop turn: the peer may be
     * idle waiting for it while we keep reading. */
    if (net__conn_send_control(conn, NET__TYPE_CREDIT, payload, n) == 0)
        net__conn_flush(conn);
}

/* Sends the first grant: the whole window. */
static void conn_grant_initial(net__conn *conn)
{
    uint8_t payload[8];
    const net_limits *limits = &conn->net->limits;
    conn->grant_messages = limits->credit_messages;
    conn->grant_bytes = limits->credit_bytes;
    size_t n = net__credit_encode(limits->credit_messages,
                                  limits->credit_bytes, payload);
    net__conn_send_control(conn, NET__TYPE_CREDIT, payload, n);
}

/* Takes the handshake's streams and wipes the rest of it (the peer's key
 * was taken by conn_admit_peer). */
static void conn_finish_handshake(net__conn *conn)
{
    net__stream_init(&conn->tx, &conn->hs->tx);
    net__stream_init(&conn->rx, &conn->hs->rx);
    net__hs_wipe(conn->hs);
    free(conn->hs);
    conn->hs = NULL;
}

/* Listener, message 1: network MAC, low-order check, replay cache; then
 * message 2 goes out.  Returns 0 or the code the connection closed with. */
static int conn_read_msg1(net__conn *conn)
{
    const uint8_t *in = net__buf_head(&conn->in);
    int rc = net__hs_read_msg1(conn->hs, in);
    if (rc == 0 && !net__seen_insert(&conn->net->replay, in))
        rc = NET_E_REPLAY;
    if (rc != 0) {
        net__conn_close(conn, rc, false);
        return rc;
    }
    net__buf_consume(&conn->in, NET__HS_MSG1_BYTES);
    uint8_t msg2[NET__HS_MSG2_BYTES];
    net__hs_write_msg2(conn->hs, msg2);
    rc = net__buf_append(&conn->out, msg2, sizeof msg2);
    if (rc != 0) {
        net__conn_close(conn, rc, false);
        return rc;
    }
    net__mark_dirty(conn);
    conn->state = NET__CONN_WAIT_MSG3;
    return 0;
}

/* After message 2 or 3 was read (rc): the peer's key is authenticated;
 * it is admitted (bans, duplicates, limits) or the connection closes. */
static int conn_admit_peer(net__conn *conn, int rc)
{
    if (rc == 0) {
        memcpy(conn->info.public_key, conn->hs->peer_public, 32);
        rc = net__admit_identity(conn);
    }
    if (rc != 0)
        net__conn_close(conn, rc, false);
    return rc;
}

/* Dialer, message 2: the listener's identity; then message 3 and our
 * first grant go out, and we wait for the listener's grant. */
static int conn_read_msg2(net__conn *conn)
{
    int rc = conn_admit_peer(conn, net__hs_read_msg2(conn->hs, net__buf_head(&conn->in)));
    if (rc != 0)
        return rc;
    net__buf_consume(&conn->in, NET__HS_MSG2_BYTES);
    uint8_t msg3[NET__HS_MSG3_BYTES];
    net__hs_write_msg3(conn->hs, msg3);
    conn_finish_handshake(conn);
    rc = net__buf_append(&conn->out, msg3, sizeof msg3);
    if (rc != 0) {
        net__conn_close(conn, rc, false);
        return rc;
    }
    net__mark_dirty(conn);
    conn->state = NET__CONN_WAIT_CREDIT;
    conn_grant_initial(conn);
    return conn->closing ? NET_E_NOMEM : 0;
}

/* Listener, message 3: the dialer's identity; the peer is up. */
static int conn_read_msg3(net__conn *conn)
{
    int rc = conn_admit_peer(conn, net__hs_read_msg3(conn->hs, net__buf_head(&conn->in)));
    if (rc != 0)
        return rc;
    net__buf_consume(&conn->in, NET__HS_MSG3_BYTES);
    conn_finish_handshake(conn);
    conn->state = NET__CONN_UP;
    conn_grant_initial(conn);
    if (!conn->closing)
        net__peer_up(conn);
    return conn->closing ? NET_E_CLOSED : 0;
}

/* Handles a control frame.  Control frames carry no credit, so their rate
 * is bounded per second instead. */
static void conn_control(net__conn *conn, uint8_t type, const uint8_t *p,
                         size_t len)
{
    uint64_t now = uv_now(conn->net->loop);
    if (now - conn->control_window_ms >= 1000) {
        conn->control_window_ms = now;
        conn->control_frames = 0;
    }
    /* Credit frames answer our own traffic (each must grant something),
     * so only the others count against the rate limit. */
    const net_limits *limits = &conn->net->limits;
    if (type != NET__TYPE_CREDIT &&
        ++conn->control_frames > limits->control_frames_per_second_max) {
        net__conn_misbehaved(conn, NET_E_PROTOCOL);
        return;
    }
    uint32_t messages, bytes;
    int32_t reason;
    net__peers_payload peers;
    switch (type) {
    case NET__TYPE_PING:
        if (len != 8)
            break;
        net__conn_send_control(conn, NET__TYPE_PONG, p, len);
        return;
    case NET__TYPE_PONG:
        if (len != 8 || !conn->ping_outstanding ||
            memcmp(p, &conn->ping_nonce, 8) != 0)
            break;
        conn->ping_outstanding = false;
        conn->info.rtt_ms = (int64_t)(now - conn->ping_sent_ms);
        return;
    case NET__TYPE_CREDIT:
        if (net__credit_decode(p, len, &messages, &bytes) != 0 ||
            (messages == 0 && bytes == 0) ||
            conn->credit_messages + messages > UINT32_MAX ||
            conn->credit_bytes + bytes > UINT32_MAX)
            break;
        conn->credit_messages += messages;
        conn->credit_bytes += bytes;
        net__conn_pump(conn);
        return;
    case NET__TYPE_PEERS:
        if (net__peers_decode(p, len, &peers) != 0)
            break;
        net__learn_peers(conn, &peers);
        return;
    case NET__TYPE_CLOSE:
        if (net__close_decode(p, len, &reason) != 0)
            break;
        net__conn_close(conn, NET_E_CLOSED, false);
        return;
    default:
        break;
    }
    net__conn_misbehaved(conn, NET_E_PROTOCOL);
}

/* Handles an application frame: registered type, size, credit. */
static void conn_application(net__conn *conn, uint8_t type, const uint8_t *p,
                             size_t len)
{
    const net__type *t = &conn->net->types[type];
    if (!t->registered) {
        net__conn_misbehaved(conn, NET_E_PROTOCOL);
        return;
    }
    if (len > t->bytes_max) {
        net__conn_misbehaved(conn, NET_E_FRAME);
        return;
    }
    if (conn->grant_messages == 0 || conn->grant_bytes < len) {
        net__conn_misbehaved(conn, NET_E_CREDIT);
        return;
    }
    conn->grant_messages--;
    conn->grant_bytes -= len;
    conn->consumed_messages++;
    conn->consumed_bytes += len;
    conn->info.messages_received++;
    net__deliver(conn, type, p, len);
}

/* Makes the node's plaintext scratch hold its current frame bound. */
static int conn_plain_room(struct net_node *net)
{
    if (net->plain_cap >= net->frame_plain_max)
        return 0;
    uint8_t *grown = realloc(net->plain, net->frame_plain_max);
    if (grown == NULL)
        return NET_E_NOMEM;
    net->plain = grown;
    net->plain_cap = net->frame_plain_max;
    return 0;
}

/* Opens and dispatches the frame at data[0..len).  1: handled (*consumed
 * set), 0: need more bytes, negative: the connection closed. */
static int conn_frame_at(net__conn *conn, const uint8_t *data, size_t len,
                         size_t *consumed)
{
    struct net_node *net = conn->net;
    size_t payload_len = 0;
    uint8_t type = 0;
    int rc = conn_plain_room(net);
    if (rc == 0)
        rc = net__frame_open(&conn->rx, data, len, net->frame_plain_max,
                             net->plain, consumed, &type, &payload_len);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        net__conn_misbehaved(conn, rc);
        return rc;
    }
    if (conn->state == NET__CONN_WAIT_CREDIT) {
        /* The listener's first frame is its grant: it admitted us. */
        if (type != NET__TYPE_CREDIT) {
            net__conn_misbehaved(conn, NET_E_PROTOCOL);
            return NET_E_PROTOCOL;
        }
        conn->state = NET__CONN_UP;
        net__peer_up(conn);
        if (conn->closing)
            return NET_E_CLOSED;
    }
    if (type < NET_TYPE_USER_MIN)
        conn_control(conn, type, net->plain + 1, payload_len);
    else
        conn_application(conn, type, net->plain + 1, payload_len);
    return conn->closing ? NET_E_CLOSED : 1;
}

/* Opens and dispatches the frame at the head of the input buffer. */
static int conn_read_frame(net__conn *conn)
{
    size_t consumed = 0;
    int rc = conn_frame_at(conn, net__buf_head(&conn->in), conn->in.len,
                           &consumed);
    if (rc == 1)
        net__buf_consume(&conn->in, consumed);
    return rc;
}

/* With nothing buffered, frames are opened straight from the read chunk;
 * only a partial frame at its end is copied.  Returns the bytes used. */
static size_t conn_frames_in_place(net__conn *conn, const uint8_t *data,
                                   size_t len)
{
    size_t used = 0;
    while (!conn->closing && conn->in.len == 0 &&
           (conn->state == NET__CONN_UP ||
            conn->state == NET__CONN_WAIT_CREDIT)) {
        size_t consumed = 0;
        if (conn_frame_at(conn, data + used, len - used, &consumed) != 1)
            break;
        used += consumed;
    }
    return used;
}

/* Parses everything complete in the input buffer. */
static void conn_process(net__conn *conn)
{
    static const size_t need[] = {
        [NET__CONN_WAIT_MSG1] = NET__HS_MSG1_BYTES,
        [NET__CONN_WAIT_MSG2] = NET__HS_MSG2_BYTES,
        [NET__CONN_WAIT_MSG3] = NET__HS_MSG3_BYTES,
    };
    while (!conn->closing) {
        int rc;
        switch (conn->state) {
        case NET__CONN_WAIT_MSG1:
        case NET__CONN_WAIT_MSG2:
        case NET__CONN_WAIT_MSG3:
            if (conn->in.len < need[conn->state])
                return;
            rc = conn->state == NET__CONN_WAIT_MSG1   ? conn_read_msg1(conn)
                 : conn->state == NET__CONN_WAIT_MSG2 ? conn_read_msg2(conn)
                                                      : conn_read_msg3(conn);
            break;
        case NET__CONN_WAIT_CREDIT:
        case NET__CONN_UP:
            rc = conn_read_frame(conn);
            if (rc == 0) {
                conn_maybe_grant(conn);
                return;
            }
            break;
        default:
            /* Bytes before our connect completed cannot happen. */
            net__conn_misbehaved(conn, NET_E_PROTOCOL);
            return;
        }
        if (rc < 0)
            return;
    }
}

/* Every read lands in the node's one chunk (callbacks never interleave). */
static void conn_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    net__conn *conn = handle->data;
    *buf = uv_buf_init((char *)conn->net->read_chunk, NET__READ_CHUNK_BYTES);
}

/* How many of the `len` bytes that arrived go to the input buffer: all of
 * them during the handshake; once frames flow, only what completes the
 * frame (or its length field) buffered there, so that the frames after it
 * are opened in place rather than copied. */
static size_t conn_bytes_to_buffer(const net__conn *conn, size_t len)
{
    if (conn->state != NET__CONN_UP && conn->state != NET__CONN_WAIT_CREDIT)
        return len;
    size_t have = conn->in.len, need;
    if (have < NET__FRAME_LENGTH_BYTES)
        need = NET__FRAME_LENGTH_BYTES - have;
    else
        need = NET__FRAME_LENGTH_BYTES +
               (size_t)net__get_u32(net__buf_head(&conn->in)) - have;
    /* A length that passed the bound check leaves need > 0; one that did
     * not has closed the connection already, but never take nothing. */
    if (need == 0 || need > len)
        return len;
    return need;
}

/* Bytes arrived: open the complete frames in place, buffer the rest, and
 * parse what the buffer completes. */
static void conn_on_read(uv_stream_t *stream, ssize_t nread,
                         const uv_buf_t *buf)
{
    net__conn *conn = stream->data;
    if (nread == 0 || conn->closing)
        return;
    if (nread < 0) {
        net__conn_close(conn, nread == UV_EOF ? NET_E_CLOSED : NET_E_IO,
                        false);
        return;
    }
    conn->info.bytes_received += (uint64_t)nread;
    conn->last_receive_ms = uv_now(conn->net->loop);
    const uint8_t *data = (const uint8_t *)buf->base;
    size_t len = (size_t)nread;
    /* Each pass consumes at least one byte: bounded by the read's size. */
    for (;;) {
        size_t used = conn_frames_in_place(conn, data, len);
        if (conn->closing)
            return;
        data += used;
        len -= used;
        size_t take = conn_bytes_to_buffer(conn, len);
        if (net__buf_append(&conn->in, data, take) != 0) {
            net__conn_close(conn, NET_E_NOMEM, false);
            return;
        }
        data += take;
        len -= take;
        /* Also with nothing buffered: it grants credit back. */
        conn_process(conn);
        if (len == 0 || conn->closing)
            return;
    }
}

/* Starts reading; a failure closes the connection. */
static int conn_read_start(net__conn *conn)
{
    int rc = uv_read_start((uv_stream_t *)&conn->tcp, conn_on_alloc,
                           conn_on_read);
    if (rc != 0) {
        net__conn_close(conn, NET_E_UV, false);
        return NET_E_UV;
    }
    return 0;
}

/* Formats a socket address as ip:port (or [ip]:port). */
static void conn_format_address(const struct sockaddr_storage *sa,
                                char out[NET_ADDRESS_TEXT_MAX])
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(s6, ip, sizeof ip);
        snprintf(out, NET_ADDRESS_TEXT_MAX, "[%s]:%u", ip,
                 (unsigned)ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        uv_ip4_name(s4, ip, sizeof ip);
        snprintf(out, NET_ADDRESS_TEXT_MAX, "%s:%u", ip,
                 (unsigned)ntohs(s4->sin_port));
    }
}

/* Listener side: the address, reading, then wait for message 1. */
int net__conn_start_accepted(net__conn *conn)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    memset(&sa, 0, sizeof sa);
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&sa, &len) == 0)
        conn_format_address(&sa, conn->info.address);
    conn->state = NET__CONN_WAIT_MSG1;
    return conn_read_start(conn);
}

/* The dial connected: send message 1 and wait for message 2. */
static void conn_on_connect(uv_connect_t *req, int status)
{
    net__conn *conn = req->data;
    if (conn->closing)
        return;
    if (status < 0) {
        net__conn_close(conn, NET_E_IO, false);
        return;
    }
    conn->started_ms = uv_now(conn->net->loop);
    if (conn_read_start(conn) != 0)
        return;
    uint8_t msg1[NET__HS_MSG1_BYTES];
    net__hs_write_msg1(conn->hs, msg1);
    if (net__buf_append(&conn->out, msg1, sizeof msg1) != 0) {
        net__conn_close(conn, NET_E_NOMEM, false);
        return;
    }
    net__mark_dirty(conn);
    conn->state = NET__CONN_WAIT_MSG2;
}

/* Dialer side: starts the TCP connect. */
int net__conn_start_dial(net__conn *conn, const struct sockaddr *addr)
{
    conn->state = NET__CONN_CONNECTING;
    conn_format_address((const struct sockaddr_storage *)addr,
                        conn->info.address);
    if (uv_tcp_connect(&conn->connect_req, &conn->tcp, addr,
                       conn_on_connect) != 0) {
        net__conn_close(conn, NET_E_IO, false);
        return NET_E_IO;
    }
    return 0;
}

/* Timeouts (handshake, idle, graceful close) and pings. */
void net__conn_tick(net__conn *conn, uint64_t now)
{
    const net_limits *limits = &conn->net->limits;
    if (uv_is_closing((uv_handle_t *)&conn->tcp))
        return;
    if (conn->closing) {
        if (now - conn->closing_ms > limits->handshake_timeout_ms)
            net__conn_close_handle(conn);
        return;
    }
    if (conn->state != NET__CONN_UP) {
        if (now - conn->started_ms > limits->handshake_timeout_ms)
            net__conn_close(conn, NET_E_TIMEOUT, false);
        return;
    }
    if (now - conn->last_receive_ms > limits->idle_timeout_ms ||
        (conn->ping_outstanding &&
         now - conn->ping_sent_ms > limits->idle_timeout_ms)) {
        net__conn_close(conn, NET_E_TIMEOUT, false);
        return;
    }
    if (!conn->ping_outstanding &&
        now - conn->ping_sent_ms >= limits->ping_interval_ms) {
        randombytes_buf(&conn->ping_nonce, sizeof conn->ping_nonce);
        conn->ping_outstanding = true;
        conn->ping_sent_ms = now;
        net__conn_send_control(conn, NET__TYPE_PING,
                               (const uint8_t *)&conn->ping_nonce, 8);
    }
}

/* Reading resumes after net_debug_pause_reading(). */
void net__conn_resume_reading(net__conn *conn)
{
    if (!conn->closing)
        conn_read_start(conn);
}
