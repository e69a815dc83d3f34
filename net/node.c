/*
 * node.c — the public API of net.h: a node's life on the caller's loop,
 * listening, the address book and dialing with backoff, bans, the tick
 * timer, the flush handle, flooding, broadcast and send.
 *
 * One node owns: a listening TCP handle (optional), a repeating tick timer
 * (timeouts, pings, dials, ban expiry), an unreferenced prepare handle that
 * flushes dirty connections once per loop turn, and every connection.
 * handles_open counts them; net_destroy() closes all and the last close
 * callback frees the node, so nothing is left on the loop.
 *
 * Read next: net/conn.c (one connection), spec/network.md.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* ---- defaults and validation ---- */

/* Fills the defaults written in spec/network.md. */
void net_limits_default(net_limits *limits)
{
    *limits = (net_limits){
        .inbound_peers_max = 64,
        .outbound_peers_max = 16,
        .outbound_peers_target = 8,
        .address_book_max = 1024,
        .queue_messages_max = 4096,
        .queue_bytes_max = 32u << 20,
        .credit_messages = 512,
        .credit_bytes = 8u << 20,
        .seen_max = 1u << 16,
        .replay_max = 1u << 14,
        .handshake_timeout_ms = 5000,
        .ping_interval_ms = 5000,
        .idle_timeout_ms = 30000,
        .backoff_base_ms = 250,
        .backoff_max_ms = 60000,
        .ban_ms = 10 * 60 * 1000,
        .control_frames_per_second_max = 256,
    };
}

/* True when every limit that must be positive is. */
static bool limits_valid(const net_limits *l)
{
    return l->inbound_peers_max > 0 && l->outbound_peers_max > 0 &&
           l->address_book_max > 0 && l->queue_messages_max > 0 &&
           l->queue_bytes_max > 0 && l->credit_messages > 0 &&
           l->credit_bytes > NET__CONTROL_PAYLOAD_MAX && l->seen_max > 0 &&
           l->replay_max > 0 && l->handshake_timeout_ms > 0 &&
           l->ping_interval_ms > 0 && l->idle_timeout_ms > 0 &&
           l->backoff_base_ms > 0 && l->backoff_max_ms >= l->backoff_base_ms &&
           l->ban_ms > 0 && l->control_frames_per_second_max > 0;
}

/* ---- node handles and their lifetime ---- */

/* Frees the node's memory (all handles are closed). */
static void node_free(struct net_node *net)
{
    net__seen_free(&net->seen);
    net__seen_free(&net->replay);
    free(net->addresses);
    if (net->plain != NULL) {
        sodium_memzero(net->plain, net->plain_cap);
        free(net->plain);
    }
    sodium_memzero(net->seal_scratch, sizeof net->seal_scratch);
    sodium_memzero(net->secret_key, sizeof net->secret_key);
    free(net);
}

/* One handle finished closing; the last one of a destroyed node frees it. */
void net__conn_freed(struct net_node *net)
{
    net->handles_open--;
    if (net->destroying && net->handles_open == 0)
        node_free(net);
}

/* Close callback of the node's own handles (listener, tick, flusher). */
static void node_on_handle_closed(uv_handle_t *handle)
{
    net__conn_freed(handle->data);
}

/* Queues conn for the next flush. */
void net__mark_dirty(net__conn *conn)
{
    if (conn->dirty)
        return;
    conn->dirty = true;
    conn->dirty_next = conn->net->dirty;
    conn->net->dirty = conn;
}

/* Before the loop polls: hand every dirty output buffer to libuv. */
static void node_on_flush(uv_prepare_t *handle)
{
    struct net_node *net = handle->data;
    while (net->dirty != NULL) {
        net__conn *conn = net->dirty;
        net->dirty = conn->dirty_next;
        conn->dirty = false;
        conn->dirty_next = NULL;
        net__conn_flush(conn);
    }
}

/* ---- addresses ---- */

/* Parses a numeric IPv4 or IPv6 address. */
static int parse_address(const char *host, uint16_t port,
                         struct sockaddr_storage *out)
{
    memset(out, 0, sizeof *out);
    if (host == NULL)
        return NET_E_ADDRESS;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
        return 0;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
        return 0;
    return NET_E_ADDRESS;
}

/* True when a and b are the same ip and port. */
static bool same_address(const struct sockaddr_storage *a,
                         const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port &&
               x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* Finds or adds an address; NULL when the book is full. */
static net__address *address_add(struct net_node *net,
                                 const struct sockaddr_storage *sa)
{
    for (uint32_t i = 0; i < net->address_count; i++)
        if (same_address(&net->addresses[i].sockaddr, sa))
            return &net->addresses[i];
    if (net->address_count >= net->limits.address_book_max)
        return NULL;
    net__address *a = &net->addresses[net->address_count++];
    memset(a, 0, sizeof *a);
    a->sockaddr = *sa;
    a->next_attempt_ms = uv_now(net->loop);
    return a;
}

/* The delay before attempt `attempts` (>= 1): base * 2^(attempts-1),
 * capped, then jittered uniformly into [d/2, d] so that peers that lost
 * the same node do not redial it in lockstep. */
static uint64_t backoff_ms(const net_limits *limits, uint32_t attempts)
{
    uint32_t shift = attempts > 0 ? attempts - 1 : 0;
    if (shift > NET__BACKOFF_SHIFT_MAX)
        shift = NET__BACKOFF_SHIFT_MAX;
    uint64_t d = (uint64_t)limits->backoff_base_ms << shift;
    if (d > limits->backoff_max_ms)
        d = limits->backoff_max_ms;
    uint64_t half = d / 2;
    return d - half + randombytes_uniform((uint32_t)half + 1);
}

/* True while key is banned (expired bans are forgotten here). */
bool net_is_banned(const struct net_node *net, const uint8_t key[32])
{
    uint64_t now = uv_now(net->loop);
    for (uint32_t i = 0; i < net->ban_count; i++)
        if (memcmp(net->bans[i].key, key, 32) == 0)
            return net->bans[i].until_ms > now;
    return false;
}

/* The up (or authenticated) connection with this key, if any. */
static net__conn *conn_with_key(struct net_node *net, const uint8_t key[32],
                                const net__conn *except)
{
    for (net__conn *c = net->conns; c != NULL; c = c->next)
        if (c != except && !c->closing &&
            (c->state == NET__CONN_UP || c->state == NET__CONN_WAIT_CREDIT) &&
            memcmp(c->info.public_key, key, 32) == 0)
            return c;
    return NULL;
}

/* Dials address a. */
static void node_dial(struct net_node *net, net__address *a)
{
    net__conn *conn = net__conn_new(net, true);
    if (conn == NULL) {
        a->attempts++;
        a->next_attempt_ms = uv_now(net->loop) + backoff_ms(&net->limits,
                                                            a->attempts);
        return;
    }
    conn->address_index = a - net->addresses;
    a->conn = conn;
    net__conn_start_dial(conn, (const struct sockaddr *)&a->sockaddr);
}

/* Counts outbound connections that are up. */
static uint32_t outbound_up(const struct net_node *net)
{
    uint32_t n = 0;
    for (const net__conn *c = net->conns; c != NULL; c = c->next)
        n += !c->closing && c->info.outbound && c->state == NET__CONN_UP;
    return n;
}

/* Dials every address that is due: configured ones always, learned ones
 * while fewer than outbound_peers_target outbound peers are up. */
static void node_dial_due(struct net_node *net)
{
    uint64_t now = uv_now(net->loop);
    uint32_t up = outbound_up(net);
    for (uint32_t i = 0; i < net->address_count; i++) {
        net__address *a = &net->addresses[i];
        if (net->outbound_count >= net->limits.outbound_peers_max)
            return;
        if (a->conn != NULL || a->is_self || now < a->next_attempt_ms)
            continue;
        if (!a->configured && up >= net->limits.outbound_peers_target)
            continue;
        if (a->has_key &&
            (net_is_banned(net, a->key) || conn_with_key(net, a->key, NULL)))
            continue;
        node_dial(net, a);
    }
}

/* ---- peer lifecycle hooks for conn.c ---- */

/* Refuses ourselves, banned keys, and the loser of a duplicate pair. */
int net__admit_identity(net__conn *conn)
{
    struct net_node *net = conn->net;
    const uint8_t *key = conn->info.public_key;
    if (memcmp(key, net->public_key, 32) == 0)
        return NET_E_SELF;
    if (net_is_banned(net, key))
        return NET_E_BANNED;
    net__conn *other = conn_with_key(net, key, conn);
    if (other == NULL)
        return 0;
    /* Both ends must keep the same connection: the newer one when both
     * were dialed by the same side (the older is likely dead), else the
     * one dialed by the node with the smaller key. */
    bool keep_new;
    if (other->info.outbound == conn->info.outbound)
        keep_new = true;
    else
        keep_new = conn->info.outbound ==
                   (memcmp(net->public_key, key, 32) < 0);
    if (!keep_new)
        return NET_E_DUPLICATE;
    net__conn_close(other, NET_E_DUPLICATE, false);
    return 0;
}

/* Sends our peers frame: our listen port and addresses that worked. */
static void send_peers(net__conn *conn)
{
    struct net_node *net = conn->net;
    net__peers_payload peers;
    memset(&peers, 0, sizeof peers);
    peers.listen_port = net->listen_port;
    for (uint32_t i = 0; i < net->address_count &&
                       peers.count < NET__PEERS_FRAME_ENTRIES_MAX; i++) {
        const net__address *a = &net->addresses[i];
        if (!a->has_key || a->is_self)
            continue;
        net__peer_address *e = &peers.entries[peers.count++];
        if (a->sockaddr.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s6 = (const void *)&a->sockaddr;
            e->family = 6;
            memcpy(e->ip, &s6->sin6_addr, 16);
            e->port = ntohs(s6->sin6_port);
        } else {
            const struct sockaddr_in *s4 = (const void *)&a->sockaddr;
            e->family = 4;
            memcpy(e->ip, &s4->sin_addr, 4);
            e->port = ntohs(s4->sin_port);
        }
    }
    uint8_t payload[NET__CONTROL_PAYLOAD_MAX];
    size_t n = net__peers_encode(&peers, payload);
    net__conn_send_control(conn, NET__TYPE_PEERS, payload, n);
}

/* The handshake completed: remember the key, tell the peer, tell the app. */
void net__peer_up(net__conn *conn)
{
    struct net_node *net = conn->net;
    conn->state = NET__CONN_UP;
    conn->info.connected_ms = uv_now(net->loop);
    conn->last_receive_ms = conn->info.connected_ms;
    net->stats.handshakes_completed++;
    if (conn->address_index >= 0) {
        net__address *a = &net->addresses[conn->address_index];
        a->has_key = true;
        memcpy(a->key, conn->info.public_key, 32);
        a->attempts = 0;
    }
    send_peers(conn);
    if (!conn->closing && net->callbacks.on_peer_up != NULL)
        net->callbacks.on_peer_up(net->callbacks.user, &conn->info);
}

/* Bookkeeping when a connection closes; see net_internal.h. */
void net__conn_closed(net__conn *conn, int reason)
{
    struct net_node *net = conn->net;
    bool was_up = conn->state == NET__CONN_UP;
    if (conn->info.outbound)
        net->outbound_count--;
    else
        net->inbound_count--;
    if (conn->address_index >= 0) {
        net__address *a = &net->addresses[conn->address_index];
        if (a->conn == conn)
            a->conn = NULL;
        if (reason == NET_E_SELF)
            a->is_self = true;
        if (was_up || reason == NET_E_DUPLICATE)
            a->attempts = 0;
        a->attempts++;
        a->next_attempt_ms = uv_now(net->loop) + backoff_ms(&net->limits,
                                                            a->attempts);
    }
    if (net->destroying)
        return;
    if (was_up) {
        if (net->callbacks.on_peer_down != NULL)
            net->callbacks.on_peer_down(net->callbacks.user, &conn->info,
                                        reason);
    } else {
        net->stats.handshakes_failed++;
        if (net->callbacks.on_connection_failed != NULL)
            net->callbacks.on_connection_failed(net->callbacks.user,
                                                conn->info.address,
                                                conn->info.outbound, reason);
    }
}

/* Learns the sender's listen address and the addresses it shares. */
void net__learn_peers(net__conn *conn, const net__peers_payload *peers)
{
    struct net_node *net = conn->net;
    struct sockaddr_storage sa;
    int len = sizeof sa;
    if (peers->listen_port != 0 &&
        uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&sa, &len) == 0) {
        if (sa.ss_family == AF_INET)
            ((struct sockaddr_in *)&sa)->sin_port = htons(peers->listen_port);
        else
            ((struct sockaddr_in6 *)&sa)->sin6_port = htons(peers->listen_port);
        net__address *a = address_add(net, &sa);
        if (a != NULL && !a->configured && a->conn == NULL) {
            a->has_key = true;
            memcpy(a->key, conn->info.public_key, 32);
        }
    }
    for (uint8_t i = 0; i < peers->count; i++) {
        const net__peer_address *e = &peers->entries[i];
        memset(&sa, 0, sizeof sa);
        if (e->family == 4) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
            s4->sin_family = AF_INET;
            memcpy(&s4->sin_addr, e->ip, 4);
            s4->sin_port = htons(e->port);
        } else {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
            s6->sin6_family = AF_INET6;
            memcpy(&s6->sin6_addr, e->ip, 16);
            s6->sin6_port = htons(e->port);
        }
        address_add(net, &sa);
    }
}

/* ---- bans ---- */

/* Bans key until now + duration_ms and drops its connections. */
void net__ban_key(struct net_node *net, const uint8_t key[32],
                  uint64_t duration_ms)
{
    uint64_t now = uv_now(net->loop);
    net__ban *slot = NULL;
    for (uint32_t i = 0; i < net->ban_count && slot == NULL; i++)
        if (memcmp(net->bans[i].key, key, 32) == 0 ||
            net->bans[i].until_ms <= now)
            slot = &net->bans[i];
    if (slot == NULL && net->ban_count < NET__BANS_MAX)
        slot = &net->bans[net->ban_count++];
    if (slot == NULL) { /* full of live bans: replace the one ending first */
        slot = &net->bans[0];
        for (uint32_t i = 1; i < net->ban_count; i++)
            if (net->bans[i].until_ms < slot->until_ms)
                slot = &net->bans[i];
    }
    memcpy(slot->key, key, 32);
    slot->until_ms = now + duration_ms;
    for (net__conn *c = net->conns; c != NULL; c = c->next)
        if (!c->closing &&
            (c->state == NET__CONN_UP || c->state == NET__CONN_WAIT_CREDIT) &&
            memcmp(c->info.public_key, key, 32) == 0)
            net__conn_close(c, NET_E_BANNED, false);
}

/* Bans a key for duration_ms (see net.h). */
int net_ban(net_node *net, const uint8_t public_key[NET_PUBLIC_KEY_BYTES],
            uint64_t duration_ms)
{
    if (net == NULL || public_key == NULL || duration_ms == 0)
        return NET_E_INVALID;
    /* The loop's cached time may be a turn old; the ban counts from now. */
    uv_update_time(net->loop);
    net__ban_key(net, public_key, duration_ms);
    return 0;
}

/* Lifts a ban; NET_E_NO_PEER when none was in force. */
int net_unban(net_node *net, const uint8_t public_key[NET_PUBLIC_KEY_BYTES])
{
    if (net == NULL || public_key == NULL)
        return NET_E_INVALID;
    for (uint32_t i = 0; i < net->ban_count; i++) {
        if (memcmp(net->bans[i].key, public_key, 32) == 0) {
            bool live = net->bans[i].until_ms > uv_now(net->loop);
            net->bans[i] = net->bans[--net->ban_count];
            return live ? 0 : NET_E_NO_PEER;
        }
    }
    return NET_E_NO_PEER;
}

/* ---- flooding and delivery ---- */

/* The seen-set id of a message: BLAKE2b-256(type || payload). */
void net_message_id(uint8_t type, const void *payload, size_t len,
                    uint8_t out[NET_MESSAGE_ID_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, NET_MESSAGE_ID_BYTES);
    crypto_generichash_update(&st, &type, 1);
    crypto_generichash_update(&st, payload, len);
    crypto_generichash_final(&st, out, NET_MESSAGE_ID_BYTES);
}

/* Sends [type, payload] to every up peer except `except`, sharing one
 * queued copy among the peers that cannot take it at once.  Returns how
 * many peers took it, or NET_E_NOMEM when none did for want of memory. */
static int flood(struct net_node *net, uint8_t type, const uint8_t *payload,
                 size_t len, const net__conn *except)
{
    int queued = 0;
    bool out_of_memory = false;
    net__msg *shared = NULL;
    for (net__conn *c = net->conns; c != NULL; c = c->next) {
        if (c == except || c->closing || c->state != NET__CONN_UP)
            continue;
        int rc = net__conn_send(c, type, payload, len, &shared);
        if (rc == 0)
            queued++;
        else if (rc == NET_E_NOMEM)
            out_of_memory = true;
    }
    if (shared != NULL)
        net__msg_unref(shared);
    return queued == 0 && out_of_memory ? NET_E_NOMEM : queued;
}

/* An application frame passed its checks: de-duplicate and relay flooded
 * types, then hand it to the application. */
void net__deliver(net__conn *conn, uint8_t type, const uint8_t *payload,
                  size_t len)
{
    struct net_node *net = conn->net;
    if (net->types[type].flood) {
        uint8_t id[NET_MESSAGE_ID_BYTES];
        net_message_id(type, payload, len, id);
        if (!net__seen_insert(&net->seen, id)) {
            net->stats.messages_duplicate++;
            return;
        }
        flood(net, type, payload, len, conn);
    }
    net->stats.messages_delivered++;
    if (net->callbacks.on_message != NULL)
        net->callbacks.on_message(net->callbacks.user, &conn->info, type,
                                  payload, len);
}

/* Checks a type and a payload size against the registry. */
static int check_payload(const struct net_node *net, uint8_t type, size_t len)
{
    if (type < NET_TYPE_USER_MIN || !net->types[type].registered)
        return NET_E_TYPE;
    if (len > net->types[type].bytes_max)
        return NET_E_TOO_BIG;
    return 0;
}

/* Queues a payload to every up peer; flooded types enter the seen-set
 * first so the echo is not delivered back.  Returns the peers reached. */
int net_broadcast(net_node *net, uint8_t type, const void *payload,
                  size_t len)
{
    if (net == NULL || (payload == NULL && len > 0) || net->destroying)
        return NET_E_INVALID;
    int rc = check_payload(net, type, len);
    if (rc != 0)
        return rc;
    if (net->types[type].flood) {
        uint8_t id[NET_MESSAGE_ID_BYTES];
        net_message_id(type, payload, len, id);
        net__seen_insert(&net->seen, id);
    }
    return flood(net, type, payload, len, NULL);
}

/* The up connection with this id, or NULL. */
static net__conn *conn_by_id(const struct net_node *net, uint64_t peer_id)
{
    for (net__conn *c = net->conns; c != NULL; c = c->next)
        if (c->info.id == peer_id && !c->closing && c->state == NET__CONN_UP)
            return c;
    return NULL;
}

/* Queues a payload to one up peer. */
int net_send(net_node *net, uint64_t peer_id, uint8_t type, const void *payload,
             size_t len)
{
    if (net == NULL || (payload == NULL && len > 0) || net->destroying)
        return NET_E_INVALID;
    int rc = check_payload(net, type, len);
    if (rc != 0)
        return rc;
    net__conn *conn = conn_by_id(net, peer_id);
    if (conn == NULL)
        return NET_E_NO_PEER;
    net__msg *shared = NULL;
    rc = net__conn_send(conn, type, payload, len, &shared);
    if (shared != NULL)
        net__msg_unref(shared);
    return rc;
}

int net_set_urgent(net_node *net, uint8_t type, bool urgent)
{
    if (net == NULL || type < NET_TYPE_USER_MIN || !net->types[type].registered)
        return NET_E_TYPE;
    net->types[type].urgent = urgent;
    return 0;
}

/* Registers or updates a payload type and recomputes the frame bound. */
int net_register_type(net_node *net, uint8_t type, uint32_t bytes_max,
                      bool flood)
{
    if (net == NULL)
        return NET_E_INVALID;
    if (type < NET_TYPE_USER_MIN)
        return NET_E_TYPE;
    if (bytes_max > net->limits.credit_bytes ||
        bytes_max > NET_PAYLOAD_BYTES_MAX ||
        bytes_max > net->limits.queue_bytes_max)
        return NET_E_INVALID;
    net->types[type] = (net__type){.registered = true, .flood = flood,
                                   .urgent = net->types[type].urgent, .bytes_max = bytes_max};
    uint32_t max = NET__CONTROL_PAYLOAD_MAX;
    for (int t = NET_TYPE_USER_MIN; t < 256; t++)
        if (net->types[t].registered && net->types[t].bytes_max > max)
            max = net->types[t].bytes_max;
    net->frame_plain_max = 1 + max;
    return 0;
}

/* ---- queries ---- */

/* The bound port, or 0 when not listening. */
uint16_t net_listen_port(const net_node *net)
{
    return net != NULL && net->listening ? net->listen_port : 0;
}

/* Copies the up peers' info; *count_out gets how many are up. */
int net_peers(const net_node *net, net_peer_info *out, size_t capacity,
              size_t *count_out)
{
    if (net == NULL || count_out == NULL || (out == NULL && capacity > 0))
        return NET_E_INVALID;
    size_t n = 0;
    for (const net__conn *c = net->conns; c != NULL; c = c->next) {
        if (c->closing || c->state != NET__CONN_UP)
            continue;
        if (n < capacity)
            out[n] = c->info;
        n++;
    }
    *count_out = n;
    return 0;
}

/* Copies the node-wide counters. */
void net_get_stats(const net_node *net, net_stats *out)
{
    *out = net->stats;
}

/* Closes one peer gracefully (close frame, then shutdown). */
int net_disconnect(net_node *net, uint64_t peer_id)
{
    if (net == NULL)
        return NET_E_INVALID;
    net__conn *conn = conn_by_id(net, peer_id);
    if (conn == NULL)
        return NET_E_NO_PEER;
    net__conn_close(conn, NET_E_LOCAL_CLOSE, true);
    return 0;
}

/* Test hook: stops or resumes reading one peer's socket. */
int net_debug_pause_reading(net_node *net, uint64_t peer_id, bool paused)
{
    if (net == NULL)
        return NET_E_INVALID;
    net__conn *conn = conn_by_id(net, peer_id);
    if (conn == NULL)
        return NET_E_NO_PEER;
    conn->read_paused = paused;
    if (paused)
        uv_read_stop((uv_stream_t *)&conn->tcp);
    else
        net__conn_resume_reading(conn);
    return 0;
}

/* ---- the tick, accepting, create and destroy ---- */

static void node_on_connection(uv_stream_t *server, int status);

/* Every tick: connection timeouts and pings, then due dials. */
static void node_on_tick(uv_timer_t *timer)
{
    struct net_node *net = timer->data;
    uint64_t now = uv_now(net->loop);
    for (net__conn *c = net->conns; c != NULL; c = c->next)
        net__conn_tick(c, now);
    if (net->accept_pending)
        node_on_connection((uv_stream_t *)&net->listener, 0);
    node_dial_due(net);
}

/* A connection is waiting: accept it, or refuse it over the limit. */
static void node_on_connection(uv_stream_t *server, int status)
{
    struct net_node *net = server->data;
    if (status < 0 || net->destroying)
        return;
    bool full = net->inbound_count >= net->limits.inbound_peers_max;
    net__conn *conn = net__conn_new(net, false);
    /* Out of memory: libuv holds the socket and stops watching the
     * listener until it is accepted, so the tick retries. */
    net->accept_pending = conn == NULL;
    if (conn == NULL)
        return;
    if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
        net__conn_close(conn, NET_E_UV, false);
        return;
    }
    if (full) {
        net__conn_close(conn, NET_E_LIMIT, false);
        return;
    }
    net__conn_start_accepted(conn);
}

/* Binds and listens on the configured address. */
static int node_listen(struct net_node *net, const net_config *config)
{
    struct sockaddr_storage sa;
    int rc = parse_address(config->listen_host, config->listen_port, &sa);
    if (rc != 0)
        return rc;
    if (uv_tcp_init(net->loop, &net->listener) != 0)
        return NET_E_UV;
    net->handles_open++;
    net->listener.data = net;
    net->listening = true;
    if (uv_tcp_bind(&net->listener, (const struct sockaddr *)&sa, 0) != 0 ||
        uv_listen((uv_stream_t *)&net->listener, 128, node_on_connection) != 0)
        return NET_E_UV;
    int len = sizeof sa;
    if (uv_tcp_getsockname(&net->listener, (struct sockaddr *)&sa, &len) != 0)
        return NET_E_UV;
    net->listen_port = ntohs(sa.ss_family == AF_INET6
                                 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                 : ((struct sockaddr_in *)&sa)->sin_port);
    return 0;
}

/* Checks a configuration before anything is allocated. */
static int config_check(const net_config *config)
{
    if (config == NULL || config->loop == NULL ||
        !limits_valid(&config->limits))
        return NET_E_INVALID;
    /* libsodium's secret key is seed || public key: they must match. */
    if (memcmp(config->secret_key + 32, config->public_key, 32) != 0)
        return NET_E_INVALID;
    return 0;
}

/* Starts the tick and flush handles. */
static int node_start_handles(struct net_node *net)
{
    const net_limits *l = &net->limits;
    uint64_t tick = l->handshake_timeout_ms;
    if (l->ping_interval_ms < tick)
        tick = l->ping_interval_ms;
    if (l->backoff_base_ms < tick)
        tick = l->backoff_base_ms;
    tick /= 4;
    if (tick < NET__TICK_MS_MIN)
        tick = NET__TICK_MS_MIN;
    if (tick > NET__TICK_MS_MAX)
        tick = NET__TICK_MS_MAX;
    if (uv_timer_init(net->loop, &net->tick) != 0)
        return NET_E_UV;
    net->handles_open++;
    net->tick.data = net;
    if (uv_prepare_init(net->loop, &net->flusher) != 0)
        return NET_E_UV;
    net->handles_open++;
    net->flusher.data = net;
    uv_unref((uv_handle_t *)&net->flusher);
    if (uv_timer_start(&net->tick, node_on_tick, tick, tick) != 0 ||
        uv_prepare_start(&net->flusher, node_on_flush) != 0)
        return NET_E_UV;
    return 0;
}

/* Creates a node: copies the config, starts the tick and flush handles
 * and the listener.  On failure what was started is being closed. */
int net_create(const net_config *config, net_node **out)
{
    if (out == NULL)
        return NET_E_INVALID;
    *out = NULL;
    int rc = config_check(config);
    if (rc != 0)
        return rc;
    if (sodium_init() < 0)
        return NET_E_SODIUM;
    struct net_node *net = calloc(1, sizeof *net);
    if (net == NULL)
        return NET_E_NOMEM;
    net->loop = config->loop;
    memcpy(net->network_id, config->network_id, 32);
    memcpy(net->public_key, config->public_key, 32);
    memcpy(net->secret_key, config->secret_key, 64);
    net->limits = config->limits;
    net->callbacks = config->callbacks;
    net->frame_plain_max = 1 + NET__CONTROL_PAYLOAD_MAX;
    net->addresses = calloc(config->limits.address_book_max,
                            sizeof *net->addresses);
    if (net->addresses == NULL) {
        node_free(net);
        return NET_E_NOMEM;
    }
    rc = net__seen_init(&net->seen, config->limits.seen_max);
    if (rc == 0)
        rc = net__seen_init(&net->replay, config->limits.replay_max);
    if (rc != 0) {
        node_free(net);
        return rc;
    }
    rc = node_start_handles(net);
    if (rc == 0 && config->listen_host != NULL)
        rc = node_listen(net, config);
    if (rc != 0) {
        net_destroy(net);
        return rc;
    }
    *out = net;
    return 0;
}

/* Closes everything; the last close callback frees the node. */
void net_destroy(net_node *net)
{
    if (net == NULL || net->destroying)
        return;
    net->destroying = true;
    for (net__conn *c = net->conns; c != NULL; c = c->next) {
        net__conn_close(c, NET_E_SHUTDOWN, false);
        net__conn_close_handle(c); /* also those closing gracefully */
    }
    if (net->listening)
        uv_close((uv_handle_t *)&net->listener, node_on_handle_closed);
    if (net->tick.data == net)
        uv_close((uv_handle_t *)&net->tick, node_on_handle_closed);
    if (net->flusher.data == net)
        uv_close((uv_handle_t *)&net->flusher, node_on_handle_closed);
    sodium_memzero(net->secret_key, sizeof net->secret_key);
    if (net->handles_open == 0)
        node_free(net);
}

/* Adds a configured address (dialed now and after every drop). */
int net_add_peer(net_node *net, const char *host, uint16_t port)
{
    if (net == NULL || port == 0 || net->destroying)
        return NET_E_INVALID;
    struct sockaddr_storage sa;
    int rc = parse_address(host, port, &sa);
    if (rc != 0)
        return rc;
    net__address *a = address_add(net, &sa);
    if (a == NULL)
        return NET_E_LIMIT;
    a->configured = true;
    node_dial_due(net);
    return 0;
}
