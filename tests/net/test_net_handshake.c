/*
 * test_net_handshake.c — two nodes authenticate each other and exchange
 * messages; every kind of bad handshake or frame is rejected while the
 * node keeps serving its good peer (checked before and after each).
 *
 * Read next: tests/net/test_net_peers.c.
 */
#include <string.h>

#include "net_test_util.h"

typedef struct pair {
    test_env env;
    test_node a, b;
    net_limits limits;
} pair;

/* Starts a (listening) and b (dialing a) and waits for both to be up. */
static int pair_setup(void **state)
{
    pair *p = calloc(1, sizeof *p);
    test_env_init(&p->env);
    test_limits(&p->limits);
    p->limits.handshake_timeout_ms = 300;
    test_node_keys(&p->a);
    test_node_keys(&p->b);
    test_node_start(&p->env, &p->a, &p->limits, 0);
    test_node_start(&p->env, &p->b, &p->limits, 0);
    assert_int_equal(net_add_peer(p->b.net, "127.0.0.1", p->a.port), 0);
    WAIT_UNTIL(&p->env, p->a.peers_up == 1 && p->b.peers_up == 1, 3000);
    *state = p;
    return 0;
}

static int pair_teardown(void **state)
{
    pair *p = *state;
    test_node *nodes[] = {&p->a, &p->b};
    test_env_finish(&p->env, nodes, 2);
    free(p);
    return 0;
}

/* a and b still exchange messages both ways, and neither lost the other. */
static void assert_pair_serving(pair *p)
{
    static uint32_t round = 1000;
    uint8_t msg[8];
    net_peer_info peer_b;
    assert_true(test_peer(&p->a, p->b.public_key, &peer_b));
    net__put_u32(msg, ++round);
    randombytes_buf(msg + 4, 4);
    uint64_t before_b = p->b.delivered, before_a = p->a.delivered;
    assert_int_equal(net_send(p->a.net, peer_b.id, TEST_TYPE_DIRECT, msg,
                              sizeof msg), 0);
    assert_int_equal(net_broadcast(p->b.net, TEST_TYPE_FLOOD, msg, sizeof msg),
                     1);
    WAIT_UNTIL(&p->env, p->b.delivered == before_b + 1 &&
                            p->a.delivered == before_a + 1, 3000);
    assert_int_equal(p->a.peers_down, 0);
    assert_int_equal(p->b.peers_down, 0);
}

static void two_nodes_handshake_and_exchange_messages_both_ways(void **state)
{
    pair *p = *state;
    net_peer_info at_a, at_b;
    assert_true(test_peer(&p->a, p->b.public_key, &at_a));
    assert_true(test_peer(&p->b, p->a.public_key, &at_b));
    assert_memory_equal(at_a.public_key, p->b.public_key, 32);
    assert_memory_equal(at_b.public_key, p->a.public_key, 32);
    assert_false(at_a.outbound);
    assert_true(at_b.outbound);

    const char hello[] = "hello from a";
    assert_int_equal(net_send(p->a.net, at_a.id, TEST_TYPE_DIRECT, hello,
                              sizeof hello), 0);
    WAIT_UNTIL(&p->env, p->b.delivered == 1, 3000);
    assert_int_equal(p->b.last_type, TEST_TYPE_DIRECT);
    assert_int_equal(p->b.last_len, sizeof hello);
    assert_memory_equal(p->b.last_payload, hello, sizeof hello);
    assert_memory_equal(p->b.last_from, p->a.public_key, 32);

    const char reply[] = "and back from b";
    assert_int_equal(net_send(p->b.net, at_b.id, TEST_TYPE_DIRECT, reply,
                              sizeof reply), 0);
    WAIT_UNTIL(&p->env, p->a.delivered == 1, 3000);
    assert_memory_equal(p->a.last_payload, reply, sizeof reply);
    assert_memory_equal(p->a.last_from, p->b.public_key, 32);

    /* Round-trip times come from pings. */
    WAIT_UNTIL(&p->env, (test_peer(&p->a, p->b.public_key, &at_a),
                         at_a.rtt_ms >= 0), 3000);
    assert_true(at_a.bytes_sent > 0 && at_a.bytes_received > 0);
    assert_int_equal(at_a.messages_sent, 1);
    assert_int_equal(at_a.messages_received, 1);
}

static void unregistered_or_oversized_sends_are_refused(void **state)
{
    pair *p = *state;
    net_peer_info at_a;
    assert_true(test_peer(&p->a, p->b.public_key, &at_a));
    static uint8_t big[TEST_PAYLOAD_MAX + 1];
    assert_int_equal(net_send(p->a.net, at_a.id, 99, "x", 1), NET_E_TYPE);
    assert_int_equal(net_send(p->a.net, at_a.id, 3, "x", 1), NET_E_TYPE);
    assert_int_equal(net_send(p->a.net, at_a.id, TEST_TYPE_DIRECT, big,
                              sizeof big), NET_E_TOO_BIG);
    assert_int_equal(net_send(p->a.net, 424242, TEST_TYPE_DIRECT, "x", 1),
                     NET_E_NO_PEER);
    assert_pair_serving(p);
}

/* Waits for the node to drop the raw client and checks why. */
static void expect_rejected(pair *p, raw_client *client, int reason)
{
    uint32_t failures = p->a.connections_failed;
    raw_wait_closed(&p->env, client);
    WAIT_UNTIL(&p->env, p->a.connections_failed > failures, 3000);
    if (p->a.last_failure_reason != reason)
        fail_msg("rejected with %s, expected %s",
                 net_errname(p->a.last_failure_reason), net_errname(reason));
    raw_close(client);
}

static void another_network_is_rejected(void **state)
{
    pair *p = *state;
    net__hs hs;
    uint8_t other_network[32], msg1[NET__HS_MSG1_BYTES];
    randombytes_buf(other_network, 32);
    net__hs_init(&hs, true, other_network, p->b.public_key, p->b.secret_key);
    net__hs_write_msg1(&hs, msg1);
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_send(&client, msg1, sizeof msg1);
    expect_rejected(p, &client, NET_E_NETWORK);
    assert_int_equal(client.in_len, 0); /* it learned nothing */
    assert_pair_serving(p);
}

static void bad_signature_is_rejected(void **state)
{
    pair *p = *state;
    /* Claims one key but signs the transcript with another. */
    uint8_t other_pk[32], other_sk[64];
    crypto_sign_keypair(other_pk, other_sk);
    uint8_t claimed_pk[32], claimed_sk[64];
    crypto_sign_keypair(claimed_pk, claimed_sk);
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES], msg3[NET__HS_MSG3_BYTES];
    net__hs_init(&hs, true, p->env.network_id, claimed_pk, other_sk);
    net__hs_write_msg1(&hs, msg1);
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_send(&client, msg1, sizeof msg1);
    raw_wait_bytes(&p->env, &client, NET__HS_MSG2_BYTES);
    assert_int_equal(net__hs_read_msg2(&hs, client.in), 0);
    assert_memory_equal(hs.peer_public, p->a.public_key, 32);
    net__hs_write_msg3(&hs, msg3);
    raw_send(&client, msg3, sizeof msg3);
    expect_rejected(p, &client, NET_E_AUTH);
    assert_false(test_peer(&p->a, claimed_pk, NULL));
    assert_pair_serving(p);
}

static void replayed_first_message_is_rejected(void **state)
{
    pair *p = *state;
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES];
    net__hs_init(&hs, true, p->env.network_id, p->b.public_key,
                 p->b.secret_key);
    net__hs_write_msg1(&hs, msg1);
    raw_client first, replay;
    raw_connect(&first, p->a.port);
    raw_send(&first, msg1, sizeof msg1);
    raw_wait_bytes(&p->env, &first, NET__HS_MSG2_BYTES);
    raw_connect(&replay, p->a.port);
    raw_send(&replay, msg1, sizeof msg1);
    expect_rejected(p, &replay, NET_E_REPLAY);
    assert_int_equal(replay.in_len, 0);
    raw_close(&first);
    assert_pair_serving(p);
}

static void truncated_handshake_is_dropped_after_the_timeout(void **state)
{
    pair *p = *state;
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES];
    net__hs_init(&hs, true, p->env.network_id, p->b.public_key,
                 p->b.secret_key);
    net__hs_write_msg1(&hs, msg1);
    raw_client client;
    raw_connect(&client, p->a.port);
    uint64_t start = test_now_ms();
    raw_send(&client, msg1, 40);
    expect_rejected(p, &client, NET_E_TIMEOUT);
    uint64_t took = test_now_ms() - start;
    if (took < p->limits.handshake_timeout_ms)
        fail_msg("dropped after %u ms, before the %u ms limit", (unsigned)took,
                 (unsigned)p->limits.handshake_timeout_ms);
    assert_pair_serving(p);

    /* A handshake cut short by closing is dropped too. */
    raw_connect(&client, p->a.port);
    raw_send(&client, msg1, 10);
    uint32_t failures = p->a.connections_failed;
    raw_close(&client);
    WAIT_UNTIL(&p->env, p->a.connections_failed > failures, 3000);
    assert_reason(p->a.last_failure_reason, NET_E_CLOSED);
    assert_pair_serving(p);
}

static void garbage_bytes_are_rejected(void **state)
{
    pair *p = *state;
    uint8_t garbage[300];
    randombytes_buf(garbage, sizeof garbage);
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_send(&client, garbage, sizeof garbage);
    expect_rejected(p, &client, NET_E_NETWORK);
    assert_pair_serving(p);
}

static void low_order_key_is_rejected(void **state)
{
    pair *p = *state;
    /* The all-zero point has order 1; its MAC is right, so only the
     * low-order check can refuse it. */
    uint8_t msg1[NET__HS_MSG1_BYTES] = {0};
    crypto_generichash_state st;
    crypto_generichash_init(&st, p->env.network_id, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)NET__HS_TAG "/hello",
                              sizeof NET__HS_TAG - 1 + 6);
    crypto_generichash_update(&st, msg1, 32);
    crypto_generichash_final(&st, msg1 + 32, 32);
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_send(&client, msg1, sizeof msg1);
    expect_rejected(p, &client, NET_E_LOW_ORDER);
    assert_pair_serving(p);
}

static void oversized_frame_drops_and_bans_the_peer(void **state)
{
    pair *p = *state;
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    net__stream tx;
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_handshake(&p->env, &client, pk, sk, &tx);
    WAIT_UNTIL(&p->env, test_peer(&p->a, pk, NULL), 3000);
    uint32_t downs = p->a.peers_down;
    uint8_t length[4];
    net__put_u32(length, 0x7fffffffu);
    raw_send(&client, length, sizeof length);
    raw_wait_closed(&p->env, &client);
    WAIT_UNTIL(&p->env, p->a.peers_down == downs + 1, 3000);
    if (p->a.last_down_reason != NET_E_FRAME)
        fail_msg("dropped with %s, expected NET_E_FRAME",
                 net_errname(p->a.last_down_reason));
    assert_true(net_is_banned(p->a.net, pk));
    raw_close(&client);
    net__stream_wipe(&tx);

    /* While banned, the same key is refused at the handshake. */
    raw_connect(&client, p->a.port);
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES], msg3[NET__HS_MSG3_BYTES];
    net__hs_init(&hs, true, p->env.network_id, pk, sk);
    net__hs_write_msg1(&hs, msg1);
    raw_send(&client, msg1, sizeof msg1);
    raw_wait_bytes(&p->env, &client, NET__HS_MSG2_BYTES);
    assert_int_equal(net__hs_read_msg2(&hs, client.in), 0);
    net__hs_write_msg3(&hs, msg3);
    raw_send(&client, msg3, sizeof msg3);
    expect_rejected(p, &client, NET_E_BANNED);
    p->a.peers_down = 0; /* that drop was the point of the test */
    assert_pair_serving(p);
}

static void forged_frame_drops_and_bans_the_peer(void **state)
{
    pair *p = *state;
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    net__stream tx;
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_handshake(&p->env, &client, pk, sk, &tx);
    WAIT_UNTIL(&p->env, test_peer(&p->a, pk, NULL), 3000);
    /* A well-sized frame whose ciphertext is not from the stream. */
    uint8_t frame[4 + 40];
    net__put_u32(frame, 40);
    randombytes_buf(frame + 4, 40);
    raw_send(&client, frame, sizeof frame);
    raw_wait_closed(&p->env, &client);
    WAIT_UNTIL(&p->env, net_is_banned(p->a.net, pk), 3000);
    assert_reason(p->a.last_down_reason, NET_E_FRAME);
    raw_close(&client);
    net__stream_wipe(&tx);
    p->a.peers_down = 0;
    assert_pair_serving(p);
}

static void frame_beyond_credit_drops_and_bans_the_peer(void **state)
{
    pair *p = *state;
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    net__stream tx;
    raw_client client;
    raw_connect(&client, p->a.port);
    raw_handshake(&p->env, &client, pk, sk, &tx);
    WAIT_UNTIL(&p->env, test_peer(&p->a, pk, NULL), 3000);
    /* The node granted credit_messages; send one more than that. */
    net__buf out = {0};
    uint8_t payload[8] = {0};
    for (uint32_t i = 0; i <= p->limits.credit_messages; i++)
        assert_int_equal(net__frame_seal(&tx, TEST_TYPE_DIRECT, payload,
                                         sizeof payload, &out), 0);
    raw_send(&client, net__buf_head(&out), out.len);
    net__buf_free(&out);
    raw_wait_closed(&p->env, &client);
    WAIT_UNTIL(&p->env, net_is_banned(p->a.net, pk), 3000);
    assert_reason(p->a.last_down_reason, NET_E_CREDIT);
    raw_close(&client);
    net__stream_wipe(&tx);
    p->a.peers_down = 0;
    assert_pair_serving(p);
}

/* Keeps a stream of messages going from a to b and back while `rounds`
 * turns of the loop pass; returns how many were sent each way. */
static uint32_t traffic_turns(pair *p, uint32_t rounds, uint32_t *sent)
{
    net_peer_info at_a;
    assert_true(test_peer(&p->a, p->b.public_key, &at_a));
    for (uint32_t i = 0; i < rounds; i++) {
        uint8_t msg[64];
        net__put_u32(msg, 2000 + *sent);
        randombytes_buf(msg + 4, sizeof msg - 4);
        assert_int_equal(net_send(p->a.net, at_a.id, TEST_TYPE_DIRECT, msg,
                                  sizeof msg), 0);
        assert_int_equal(net_broadcast(p->b.net, TEST_TYPE_FLOOD, msg,
                                       sizeof msg), 1);
        (*sent)++;
        test_turn(&p->env);
    }
    return *sent;
}

static void attacks_during_traffic_do_not_disturb_the_good_peer(void **state)
{
    pair *p = *state;
    enum { CLIENTS = 24 };
    raw_client clients[CLIENTS];
    uint32_t sent = 0;
    uint64_t a_before = p->a.delivered, b_before = p->b.delivered;
    for (int i = 0; i < CLIENTS; i++) {
        raw_connect(&clients[i], p->a.port);
        uint8_t bytes[200];
        randombytes_buf(bytes, sizeof bytes);
        /* garbage, a truncated hello, or nothing at all (slow) */
        size_t len = i % 3 == 0 ? sizeof bytes : i % 3 == 1 ? 20 : 0;
        if (len > 0)
            raw_send(&clients[i], bytes, len);
        traffic_turns(p, 5, &sent);
    }
    /* Until every attacker is gone, the good pair keeps talking. */
    for (int i = 0; i < CLIENTS; i++) {
        while (!raw_poll(&clients[i])) {
            traffic_turns(p, 1, &sent);
            assert_true(sent < 100000);
        }
        raw_close(&clients[i]);
    }
    WAIT_UNTIL(&p->env, p->a.delivered == a_before + sent &&
                            p->b.delivered == b_before + sent, 3000);
    assert_int_equal(p->a.connections_failed, CLIENTS);
    assert_int_equal(p->a.peers_down, 0);
    assert_int_equal(p->b.peers_down, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, pair_setup, pair_teardown)
        T(two_nodes_handshake_and_exchange_messages_both_ways),
        T(unregistered_or_oversized_sends_are_refused),
        T(another_network_is_rejected),
        T(bad_signature_is_rejected),
        T(replayed_first_message_is_rejected),
        T(truncated_handshake_is_dropped_after_the_timeout),
        T(garbage_bytes_are_rejected),
        T(low_order_key_is_rejected),
        T(oversized_frame_drops_and_bans_the_peer),
        T(forged_frame_drops_and_bans_the_peer),
        T(frame_beyond_credit_drops_and_bans_the_peer),
        T(attacks_during_traffic_do_not_disturb_the_good_peer),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
