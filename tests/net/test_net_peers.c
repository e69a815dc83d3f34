/*
 * test_net_peers.c — peers over time: reconnection with backoff after a
 * restart, bans that expire, idle peers, graceful close, the inbound limit,
 * flooding across an eight-node mesh, and a slow peer that is dropped
 * without slowing the others.
 *
 * Read next: tests/fuzz/net/fuzz_frame.c.
 */
#include <string.h>

#include "net_test_util.h"

static test_env env;
static test_node *nodes[TEST_NODES_MAX];

static int nodes_setup(void **state)
{
    (void)state;
    test_env_init(&env);
    for (size_t i = 0; i < TEST_NODES_MAX; i++) {
        nodes[i] = calloc(1, sizeof *nodes[i]);
        test_node_keys(nodes[i]);
    }
    return 0;
}

static int nodes_teardown(void **state)
{
    (void)state;
    test_env_finish(&env, nodes, TEST_NODES_MAX);
    for (size_t i = 0; i < TEST_NODES_MAX; i++)
        free(nodes[i]);
    return 0;
}

static void restarted_peer_is_redialed_within_the_backoff_bound(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1], *c = nodes[2];
    net_limits limits;
    test_limits(&limits);
    test_node_start(&env, a, &limits, 0);
    test_node_start(&env, b, &limits, 0);
    test_node_start(&env, c, &limits, 0);
    uint16_t b_port = b->port;
    assert_int_equal(net_add_peer(a->net, "127.0.0.1", b_port), 0);
    assert_int_equal(net_add_peer(c->net, "127.0.0.1", b_port), 0);
    WAIT_UNTIL(&env, a->peers_up == 1 && c->peers_up == 1 &&
                         b->peers_up == 2, 3000);

    test_node_stop(b);
    WAIT_UNTIL(&env, a->peers_down == 1 && c->peers_down == 1, 3000);
    /* Down long enough for several failed dials: backoff reaches its cap. */
    test_run_for(&env, 4 * limits.backoff_max_ms);
    assert_true(a->connections_failed >= 2 && c->connections_failed >= 2);

    uint64_t restarted = test_now_ms();
    test_node_start(&env, b, &limits, b_port);
    WAIT_UNTIL(&env, a->peers_up == 2 && c->peers_up == 2, 3000);
    uint64_t took = test_now_ms() - restarted;
    /* + a tick, the handshake, and slack for a loaded CI machine */
    uint64_t bound = limits.backoff_max_ms + 400;
    print_message("# both reconnected %u ms after the restart\n",
                  (unsigned)took);
    if (took > bound)
        fail_msg("reconnected after %u ms, bound %u ms", (unsigned)took,
                 (unsigned)bound);
    assert_true(test_peer(a, b->public_key, NULL));
    assert_true(test_peer(c, b->public_key, NULL));
}

static void ban_refuses_the_peer_until_it_expires(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1];
    net_limits limits;
    test_limits(&limits);
    test_node_start(&env, a, &limits, 0);
    test_node_start(&env, b, &limits, 0);
    assert_int_equal(net_add_peer(b->net, "127.0.0.1", a->port), 0);
    WAIT_UNTIL(&env, a->peers_up == 1 && b->peers_up == 1, 3000);

    const uint64_t ban_ms = 400;
    uint64_t banned_at = test_now_ms();
    assert_int_equal(net_ban(a->net, b->public_key, ban_ms), 0);
    assert_true(net_is_banned(a->net, b->public_key));
    WAIT_UNTIL(&env, a->peers_down == 1 && b->peers_down == 1, 3000);
    assert_reason(a->last_down_reason, NET_E_BANNED);
    /* b keeps redialing; a refuses while the ban lasts. */
    WAIT_UNTIL(&env, a->failure_reasons[-NET_E_BANNED] >= 1, 3000);
    WAIT_UNTIL(&env, a->peers_up == 2, 3000);
    uint64_t took = test_now_ms() - banned_at;
    print_message("# back %u ms after a %u ms ban\n", (unsigned)took,
                  (unsigned)ban_ms);
    if (took < ban_ms || took > ban_ms + limits.backoff_max_ms + 400)
        fail_msg("back after %u ms; ban %u ms, backoff cap %u ms",
                 (unsigned)took, (unsigned)ban_ms,
                 (unsigned)limits.backoff_max_ms);
    assert_false(net_is_banned(a->net, b->public_key));
    assert_reason(net_unban(a->net, b->public_key), NET_E_NO_PEER);
}

static void silent_peer_is_dropped_after_the_idle_timeout(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1];
    net_limits limits;
    test_limits(&limits);
    limits.idle_timeout_ms = 400;
    test_node_start(&env, a, &limits, 0);
    /* b, which will stop reading, must not time a out first. */
    net_limits patient = limits;
    patient.idle_timeout_ms = 10000;
    test_node_start(&env, b, &patient, 0);
    assert_int_equal(net_add_peer(b->net, "127.0.0.1", a->port), 0);
    WAIT_UNTIL(&env, a->peers_up == 1 && b->peers_up == 1, 3000);
    /* Pings keep a quiet but live peer up past the idle timeout. */
    test_run_for(&env, 2 * limits.idle_timeout_ms);
    assert_int_equal(a->peers_down, 0);
    /* b stops reading: it never answers a's pings. */
    net_peer_info at_b;
    assert_true(test_peer(b, a->public_key, &at_b));
    assert_int_equal(net_debug_pause_reading(b->net, at_b.id, true), 0);
    uint64_t paused = test_now_ms();
    WAIT_UNTIL(&env, a->peers_down == 1, 3000);
    assert_reason(a->last_down_reason, NET_E_TIMEOUT);
    assert_true(test_now_ms() - paused >= limits.idle_timeout_ms / 2);
}

static void disconnect_is_graceful_and_tells_the_peer(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1];
    net_limits limits;
    test_limits(&limits);
    test_node_start(&env, a, &limits, 0);
    test_node_start(&env, b, &limits, 0);
    assert_int_equal(net_add_peer(b->net, "127.0.0.1", a->port), 0);
    WAIT_UNTIL(&env, a->peers_up == 1 && b->peers_up == 1, 3000);
    net_peer_info at_a;
    assert_true(test_peer(a, b->public_key, &at_a));
    /* A message queued before the close still arrives. */
    assert_int_equal(net_send(a->net, at_a.id, TEST_TYPE_DIRECT, "last", 4),
                     0);
    assert_int_equal(net_disconnect(a->net, at_a.id), 0);
    WAIT_UNTIL(&env, a->peers_down == 1 && b->peers_down == 1, 3000);
    assert_reason(a->last_down_reason, NET_E_LOCAL_CLOSE);
    assert_reason(b->last_down_reason, NET_E_CLOSED);
    assert_int_equal(b->delivered, 1);
    /* b's configured address is redialed. */
    WAIT_UNTIL(&env, a->peers_up == 2 && b->peers_up == 2, 3000);
}

static void inbound_limit_refuses_extra_peers(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1], *c = nodes[2];
    net_limits limits;
    test_limits(&limits);
    limits.inbound_peers_max = 1;
    test_node_start(&env, a, &limits, 0);
    test_node_start(&env, b, &limits, 0);
    test_node_start(&env, c, &limits, 0);
    assert_int_equal(net_add_peer(b->net, "127.0.0.1", a->port), 0);
    WAIT_UNTIL(&env, a->peers_up == 1, 3000);
    assert_int_equal(net_add_peer(c->net, "127.0.0.1", a->port), 0);
    WAIT_UNTIL(&env, a->failure_reasons[-NET_E_LIMIT] >= 1, 3000);
    assert_int_equal(test_peer_count(a), 1);
    assert_true(test_peer(a, b->public_key, NULL));
}

static void outbound_limit_caps_dialed_peers(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1], *c = nodes[2];
    net_limits limits;
    test_limits(&limits);
    net_limits one = limits;
    one.outbound_peers_max = 1;
    test_node_start(&env, a, &one, 0);
    test_node_start(&env, b, &limits, 0);
    test_node_start(&env, c, &limits, 0);
    assert_int_equal(net_add_peer(a->net, "127.0.0.1", b->port), 0);
    assert_int_equal(net_add_peer(a->net, "127.0.0.1", c->port), 0);
    WAIT_UNTIL(&env, test_peer_count(a) == 1, 3000);
    test_run_for(&env, 3 * limits.backoff_max_ms);
    assert_int_equal(test_peer_count(a), 1);
    assert_int_equal(test_peer_count(b) + test_peer_count(c), 1);
    /* When that peer goes, the other configured one takes its place. */
    test_node *first = test_peer_count(b) == 1 ? b : c;
    test_node *second = first == b ? c : b;
    test_node_stop(first);
    WAIT_UNTIL(&env, test_peer(a, second->public_key, NULL), 3000);
    assert_int_equal(test_peer_count(a), 1);
}

static void learned_addresses_are_dialed_below_the_outbound_target(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1], *c = nodes[2];
    net_limits limits;
    test_limits(&limits);
    test_node_start(&env, a, &limits, 0);
    test_node_start(&env, b, &limits, 0);
    net_limits eager = limits;
    eager.outbound_peers_target = 2;
    test_node_start(&env, c, &eager, 0);
    assert_int_equal(net_add_peer(a->net, "127.0.0.1", b->port), 0);
    WAIT_UNTIL(&env, test_peer_count(b) == 1 && test_peer_count(a) == 1,
               3000);
    /* c knows only b; b's peers frame tells it where a listens. */
    assert_int_equal(net_add_peer(c->net, "127.0.0.1", b->port), 0);
    WAIT_UNTIL(&env, test_peer(c, a->public_key, NULL), 3000);
    assert_true(test_peer(a, c->public_key, NULL));
    /* b, whose target is 0, dialed nobody it learned. */
    test_run_for(&env, 100);
    assert_int_equal(test_peer_count(b), 2);
    assert_int_equal(a->connections_failed + b->connections_failed, 0);
}

/* Ring (i -> i+1) plus chords (i -> i+4, for i < 4): every degree is 3. */
static void mesh_start(size_t count, const net_limits *limits)
{
    for (size_t i = 0; i < count; i++)
        test_node_start(&env, nodes[i], limits, 0);
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(net_add_peer(nodes[i]->net, "127.0.0.1",
                                      nodes[(i + 1) % count]->port), 0);
        if (i < count / 2)
            assert_int_equal(net_add_peer(nodes[i]->net, "127.0.0.1",
                                          nodes[i + count / 2]->port), 0);
    }
}

static bool mesh_connected(size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (test_peer_count(nodes[i]) != 3)
            return false;
    return true;
}

static void eight_node_mesh_delivers_each_broadcast_exactly_once(void **state)
{
    (void)state;
    enum { NODES = 8, MESSAGES = 1000, DEGREE_SUM = 24 };
    net_limits limits;
    test_limits(&limits);
    mesh_start(NODES, &limits);
    WAIT_UNTIL(&env, mesh_connected(NODES), 5000);

    uint32_t sent_by[NODES] = {0};
    for (uint32_t m = 0; m < MESSAGES; m++) {
        uint8_t payload[64];
        net__put_u32(payload, m);
        randombytes_buf(payload + 4, sizeof payload - 4);
        uint32_t from = randombytes_uniform(NODES);
        sent_by[from]++;
        nodes[from]->counts[m] = UINT32_MAX; /* marks the origin */
        assert_int_equal(net_broadcast(nodes[from]->net, TEST_TYPE_FLOOD,
                                       payload, sizeof payload), 3);
        if (m % 50 == 0)
            test_turn(&env);
    }
    for (size_t i = 0; i < NODES; i++)
        WAIT_UNTIL(&env, nodes[i]->delivered == MESSAGES - sent_by[i], 5000);
    /* Let late duplicates arrive: they must not be delivered. */
    test_run_for(&env, 100);

    uint64_t frames = 0;
    for (size_t i = 0; i < NODES; i++) {
        net_stats stats;
        net_get_stats(nodes[i]->net, &stats);
        frames += stats.frames_sent;
        assert_int_equal(nodes[i]->delivered, MESSAGES - sent_by[i]);
        for (uint32_t m = 0; m < MESSAGES; m++)
            if (nodes[i]->counts[m] != UINT32_MAX &&
                nodes[i]->counts[m] != 1)
                fail_msg("node %zu got message %u %u times", i, m,
                         nodes[i]->counts[m]);
        assert_int_equal(nodes[i]->peers_down, 0);
    }
    print_message("# %.2f frames per message (degree sum %u)\n",
                  (double)frames / MESSAGES, DEGREE_SUM);
    if (frames > (uint64_t)MESSAGES * DEGREE_SUM)
        fail_msg("%llu frames for %u messages; bound %u per message",
                 (unsigned long long)frames, MESSAGES, DEGREE_SUM);
}

static bool all_delivered(test_node *const *list, size_t n, uint64_t each)
{
    for (size_t i = 0; i < n; i++)
        if (list[i]->delivered < each)
            return false;
    return true;
}

/* The deepest outbound queue among node's peers. */
static uint32_t max_queue(const test_node *node)
{
    net_peer_info peers[TEST_NODES_MAX];
    size_t n = 0;
    net_peers(node->net, peers, TEST_NODES_MAX, &n);
    uint32_t max = 0;
    for (size_t i = 0; i < n && i < TEST_NODES_MAX; i++)
        if (peers[i].queue_messages > max)
            max = peers[i].queue_messages;
    return max;
}

static void slow_peer_is_dropped_and_the_others_keep_their_speed(void **state)
{
    (void)state;
    test_node *hub = nodes[0], *slow = nodes[1], *c = nodes[2], *d = nodes[3];
    net_limits limits;
    test_limits(&limits);
    limits.queue_messages_max = 64;
    limits.queue_bytes_max = 1u << 20;
    limits.credit_messages = 16;
    limits.credit_bytes = 1u << 20;
    for (size_t i = 0; i < 4; i++)
        test_node_start(&env, nodes[i], &limits, 0);
    for (size_t i = 1; i < 4; i++)
        assert_int_equal(net_add_peer(nodes[i]->net, "127.0.0.1", hub->port),
                         0);
    WAIT_UNTIL(&env, test_peer_count(hub) == 3 && test_peer_count(slow) == 1 &&
                         test_peer_count(c) == 1 && test_peer_count(d) == 1,
               3000);
    net_peer_info at_slow;
    assert_true(test_peer(slow, hub->public_key, &at_slow));
    assert_int_equal(net_debug_pause_reading(slow->net, at_slow.id, true), 0);

    /* The hub floods 4 KiB messages; the slow peer's queue overflows. */
    static uint8_t payload[4096];
    uint32_t m = 0;
    while (hub->peers_down == 0) {
        assert_true(m < 2000);
        net__put_u32(payload, m++);
        net_broadcast(hub->net, TEST_TYPE_FLOOD, payload, sizeof payload);
        test_turn(&env);
    }
    assert_reason(hub->last_down_reason, NET_E_PEER_SLOW);
    assert_false(test_peer(hub, slow->public_key, NULL));
    net_stats stats;
    net_get_stats(hub->net, &stats);
    assert_int_equal(stats.peers_dropped_slow, 1);
    test_node *fast[] = {c, d};
    WAIT_UNTIL(&env, all_delivered(fast, 2, m), 3000);

    /* The others carry on at speed: 2,000 more 4 KiB messages. */
    uint64_t start = test_now_ms();
    for (uint32_t i = 0; i < 2000; i++) {
        /* A sender paces itself on the queue depth net_peers() reports. */
        while (max_queue(hub) > limits.queue_messages_max / 2)
            test_turn(&env);
        net__put_u32(payload, m++);
        assert_int_equal(net_broadcast(hub->net, TEST_TYPE_FLOOD, payload,
                                       sizeof payload), 2);
    }
    WAIT_UNTIL(&env, all_delivered(fast, 2, m), 5000);
    uint64_t took = test_now_ms() - start;
    print_message("# 2000 x 4 KiB to two peers in %u ms after the drop\n",
                  (unsigned)took);
    if (took > 2000)
        fail_msg("2000 messages took %u ms after the drop", (unsigned)took);
    assert_int_equal(c->peers_down, 0);
    assert_int_equal(d->peers_down, 0);
}

/* An urgent type (consensus) overtakes the messages queued before it. */
static void urgent_messages_overtake_the_queue(void **state)
{
    (void)state;
    test_node *a = nodes[0], *b = nodes[1];
    net_limits limits;
    test_limits(&limits);
    limits.credit_messages = 8; /* most of what a sends has to queue */
    test_node_start(&env, a, &limits, 0);
    test_node_start(&env, b, &limits, 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(net_register_type(nodes[i]->net, TEST_TYPE_URGENT, 1024, false), 0);
    assert_int_equal(net_set_urgent(a->net, TEST_TYPE_URGENT, true), 0);
    assert_int_equal(net_add_peer(b->net, "127.0.0.1", a->port), 0);
    WAIT_UNTIL(&env, test_peer_count(a) == 1 && test_peer_count(b) == 1, 3000);
    net_peer_info at_a;
    assert_true(test_peer(a, b->public_key, &at_a));
    static uint8_t payload[1024];
    for (uint32_t i = 0; i < 100; i++) {
        net__put_u32(payload, i);
        assert_int_equal(net_send(a->net, at_a.id, TEST_TYPE_DIRECT, payload, sizeof payload), 0);
    }
    net_peer_info queued;
    assert_true(test_peer(a, b->public_key, &queued));
    assert_true(queued.queue_messages > 50);
    net__put_u32(payload, 100);
    assert_int_equal(net_send(a->net, at_a.id, TEST_TYPE_URGENT, payload, 64), 0);
    WAIT_UNTIL(&env, b->delivered == 101, 5000);
    /* At most the 8 messages of one credit window went before it. */
    if (b->urgent_position == 0 || b->urgent_position > 1 + 2 * limits.credit_messages)
        fail_msg("the urgent message was delivered %llu-th of 101",
                 (unsigned long long)b->urgent_position);
    assert_int_equal(net_set_urgent(a->net, 99, true), NET_E_TYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, nodes_setup, nodes_teardown)
        T(restarted_peer_is_redialed_within_the_backoff_bound),
        T(urgent_messages_overtake_the_queue),
        T(ban_refuses_the_peer_until_it_expires),
        T(silent_peer_is_dropped_after_the_idle_timeout),
        T(disconnect_is_graceful_and_tells_the_peer),
        T(inbound_limit_refuses_extra_peers),
        T(outbound_limit_caps_dialed_peers),
        T(learned_addresses_are_dialed_below_the_outbound_target),
        T(eight_node_mesh_delivers_each_broadcast_exactly_once),
        T(slow_peer_is_dropped_and_the_others_keep_their_speed),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
