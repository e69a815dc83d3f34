/*
 * net_test_util.c — the shared harness of the net/ tests (see the header).
 *
 * Read next: tests/net/test_net_handshake.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net_test_util.h"

static void on_wake(uv_timer_t *timer)
{
    (void)timer;
}

void test_env_init(test_env *env)
{
    assert_int_equal(sodium_init() >= 0, 1);
    assert_int_equal(uv_loop_init(&env->loop), 0);
    assert_int_equal(uv_timer_init(&env->loop, &env->wake), 0);
    assert_int_equal(uv_timer_start(&env->wake, on_wake, 2, 2), 0);
    randombytes_buf(env->network_id, sizeof env->network_id);
}

void test_env_finish(test_env *env, test_node **nodes, size_t count)
{
    for (size_t i = 0; i < count; i++)
        test_node_stop(nodes[i]);
    uv_close((uv_handle_t *)&env->wake, NULL);
    /* Nothing may keep the loop alive: uv_run must return by itself. */
    uint64_t deadline = test_now_ms() + 2000;
    while (uv_run(&env->loop, UV_RUN_NOWAIT) != 0)
        assert_true(test_now_ms() < deadline);
    assert_int_equal(uv_loop_close(&env->loop), 0);
}

void test_turn(test_env *env)
{
    uv_run(&env->loop, UV_RUN_ONCE);
}

uint64_t test_now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

void test_run_for(test_env *env, uint64_t ms)
{
    uint64_t end = test_now_ms() + ms;
    while (test_now_ms() < end)
        test_turn(env);
}

void test_limits(net_limits *limits)
{
    net_limits_default(limits);
    limits->handshake_timeout_ms = 1000;
    limits->ping_interval_ms = 200;
    limits->idle_timeout_ms = 3000;
    limits->backoff_base_ms = 20;
    limits->backoff_max_ms = 200;
    limits->ban_ms = 60000;
    limits->outbound_peers_target = 0;
}

void test_node_keys(test_node *node)
{
    crypto_sign_keypair(node->public_key, node->secret_key);
}

static test_node *node_of(void *user)
{
    return user;
}

static void on_message(void *user, const net_peer_info *peer, uint8_t type,
                       const uint8_t *payload, size_t len)
{
    test_node *node = node_of(user);
    node->delivered++;
    if (type == TEST_TYPE_URGENT)
        node->urgent_position = node->delivered;
    node->delivered_bytes += len;
    node->last_type = type;
    node->last_len = len < TEST_PAYLOAD_MAX ? len : TEST_PAYLOAD_MAX;
    memcpy(node->last_payload, payload, node->last_len);
    memcpy(node->last_from, peer->public_key, 32);
    if (len >= 4) {
        uint32_t index = net__get_u32(payload);
        if (index < TEST_MESSAGES_MAX)
            node->counts[index]++;
    }
}

static void on_peer_up(void *user, const net_peer_info *peer)
{
    (void)peer;
    node_of(user)->peers_up++;
}

static void on_peer_down(void *user, const net_peer_info *peer, int reason)
{
    (void)peer;
    node_of(user)->peers_down++;
    node_of(user)->last_down_reason = reason;
}

static void on_connection_failed(void *user, const char *address,
                                 bool outbound, int reason)
{
    (void)address;
    (void)outbound;
    test_node *node = node_of(user);
    node->connections_failed++;
    node->last_failure_reason = reason;
    if (reason < 0 && -reason < 64)
        node->failure_reasons[-reason]++;
}

void test_node_start(test_env *env, test_node *node, const net_limits *limits,
                     uint16_t port)
{
    net_config config;
    memset(&config, 0, sizeof config);
    config.loop = &env->loop;
    memcpy(config.network_id, env->network_id, 32);
    memcpy(config.public_key, node->public_key, 32);
    memcpy(config.secret_key, node->secret_key, 64);
    config.listen_host = "127.0.0.1";
    config.listen_port = port;
    config.limits = *limits;
    config.callbacks = (net_callbacks){node, on_message, on_peer_up,
                                       on_peer_down, on_connection_failed};
    int rc = net_create(&config, &node->net);
    if (rc != 0)
        fail_msg("net_create: %s", net_errname(rc));
    node->port = net_listen_port(node->net);
    assert_int_not_equal(node->port, 0);
    assert_int_equal(net_register_type(node->net, TEST_TYPE_FLOOD,
                                       TEST_PAYLOAD_MAX, true), 0);
    assert_int_equal(net_register_type(node->net, TEST_TYPE_DIRECT,
                                       TEST_PAYLOAD_MAX, false), 0);
}

void test_node_stop(test_node *node)
{
    net_destroy(node->net);
    node->net = NULL;
}

size_t test_peer_count(const test_node *node)
{
    size_t n = 0;
    if (node->net != NULL)
        net_peers(node->net, NULL, 0, &n);
    return n;
}

bool test_peer(const test_node *node, const uint8_t key[32],
               net_peer_info *out)
{
    net_peer_info peers[TEST_NODES_MAX];
    size_t n = 0;
    if (node->net == NULL)
        return false;
    net_peers(node->net, peers, TEST_NODES_MAX, &n);
    for (size_t i = 0; i < n && i < TEST_NODES_MAX; i++) {
        if (memcmp(peers[i].public_key, key, 32) == 0) {
            if (out != NULL)
                *out = peers[i];
            return true;
        }
    }
    return false;
}

/* ---- raw client ---- */

void raw_connect(raw_client *client, uint16_t port)
{
    memset(client, 0, sizeof *client);
    client->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(client->fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(client->fd, (struct sockaddr *)&sa, sizeof sa),
                     0);
}

void raw_send(raw_client *client, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;
    while (len > 0) {
        ssize_t n = send(client->fd, p, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

bool raw_poll(raw_client *client)
{
    while (!client->closed_by_peer) {
        uint8_t scratch[4096];
        uint8_t *dst = client->in_len < sizeof client->in
                           ? client->in + client->in_len
                           : scratch;
        size_t room = client->in_len < sizeof client->in
                          ? sizeof client->in - client->in_len
                          : sizeof scratch;
        ssize_t n = recv(client->fd, dst, room, MSG_DONTWAIT);
        if (n > 0) {
            if (dst != scratch)
                client->in_len += (size_t)n;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        client->closed_by_peer = true; /* EOF or reset */
    }
    return client->closed_by_peer;
}

void raw_close(raw_client *client)
{
    if (client->fd >= 0)
        close(client->fd);
    client->fd = -1;
}

void raw_wait_bytes(test_env *env, raw_client *client, size_t len)
{
    WAIT_UNTIL(env, (raw_poll(client), client->in_len >= len ||
                                           client->closed_by_peer),
               3000);
    assert_true(client->in_len >= len);
}

void raw_wait_closed(test_env *env, raw_client *client)
{
    WAIT_UNTIL(env, raw_poll(client), 3000);
}

void raw_handshake(test_env *env, raw_client *client, const uint8_t pk[32],
                   const uint8_t sk[64],
                   net__stream *tx)
{
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES], msg3[NET__HS_MSG3_BYTES];
    net__hs_init(&hs, true, env->network_id, pk, sk);
    net__hs_write_msg1(&hs, msg1);
    raw_send(client, msg1, sizeof msg1);
    raw_wait_bytes(env, client, NET__HS_MSG2_BYTES);
    assert_int_equal(net__hs_read_msg2(&hs, client->in), 0);
    net__hs_write_msg3(&hs, msg3);
    raw_send(client, msg3, sizeof msg3);
    net__stream_init(tx, &hs.tx);
    net__hs_wipe(&hs);
}
