/*
 * test_net_codec.c — net/'s pure parts without sockets: the seen-set, the
 * handshake in memory, frames, control payloads, the error table and
 * configuration checks.
 *
 * Read next: tests/net/test_net_handshake.c.
 */
#include <string.h>

#include "net_test_util.h"

static void seen_set_forgets_the_oldest_beyond_its_capacity(void **state)
{
    (void)state;
    net__seen seen;
    assert_int_equal(net__seen_init(&seen, 100), 0);
    uint8_t ids[150][32];
    for (int i = 0; i < 150; i++) {
        randombytes_buf(ids[i], 32);
        assert_true(net__seen_insert(&seen, ids[i]));
        assert_false(net__seen_insert(&seen, ids[i]));
    }
    assert_int_equal(seen.count, 100);
    for (int i = 0; i < 50; i++)
        assert_false(net__seen_contains(&seen, ids[i]));
    for (int i = 50; i < 150; i++)
        assert_true(net__seen_contains(&seen, ids[i]));
    net__seen_free(&seen);
}

/* True if the 32 bytes of key appear anywhere in bytes. */
static bool contains(const uint8_t *bytes, size_t len, const uint8_t key[32])
{
    for (size_t i = 0; i + 32 <= len; i++)
        if (memcmp(bytes + i, key, 32) == 0)
            return true;
    return false;
}

/* Runs messages 1 and 2 in memory between two fresh identities. */
static void handshake_pair(net__hs *dialer, net__hs *listener,
                           const uint8_t network_id[32], uint8_t msg1[64],
                           uint8_t msg2[NET__HS_MSG2_BYTES], uint8_t pk_d[32],
                           uint8_t pk_l[32])
{
    uint8_t sk_d[64], sk_l[64];
    crypto_sign_keypair(pk_d, sk_d);
    crypto_sign_keypair(pk_l, sk_l);
    net__hs_init(dialer, true, network_id, pk_d, sk_d);
    net__hs_init(listener, false, network_id, pk_l, sk_l);
    net__hs_write_msg1(dialer, msg1);
    assert_int_equal(net__hs_read_msg1(listener, msg1), 0);
    net__hs_write_msg2(listener, msg2);
}

static void handshake_in_memory_agrees_on_identities_and_streams(void **state)
{
    (void)state;
    uint8_t network_id[32], pk_d[32], pk_l[32];
    uint8_t msg1[64], msg2[NET__HS_MSG2_BYTES], msg3[NET__HS_MSG3_BYTES];
    randombytes_buf(network_id, 32);
    net__hs d, l;
    handshake_pair(&d, &l, network_id, msg1, msg2, pk_d, pk_l);
    assert_int_equal(net__hs_read_msg2(&d, msg2), 0);
    net__hs_write_msg3(&d, msg3);
    assert_int_equal(net__hs_read_msg3(&l, msg3), 0);
    assert_memory_equal(d.peer_public, pk_l, 32);
    assert_memory_equal(l.peer_public, pk_d, 32);
    /* Each side's tx stream opens on the other's rx stream. */
    net__buf wire = {0};
    uint8_t plain[64], type = 0;
    size_t consumed = 0, len = 0;
    net__stream d_tx, d_rx, l_tx, l_rx;
    net__stream_init(&d_tx, &d.tx);
    net__stream_init(&d_rx, &d.rx);
    net__stream_init(&l_tx, &l.tx);
    net__stream_init(&l_rx, &l.rx);
    assert_int_equal(net__frame_seal(&d_tx, 42, (const uint8_t *)"ping", 4,
                                     &wire), 0);
    assert_int_equal(net__frame_open(&l_rx, net__buf_head(&wire), wire.len,
                                     sizeof plain, plain, &consumed, &type,
                                     &len), 1);
    assert_int_equal(type, 42);
    assert_int_equal(len, 4);
    assert_memory_equal(plain + 1, "ping", 4);
    net__buf_consume(&wire, consumed);
    assert_int_equal(net__frame_seal(&l_tx, 43, NULL, 0, &wire), 0);
    assert_int_equal(net__frame_open(&d_rx, net__buf_head(&wire), wire.len,
                                     sizeof plain, plain, &consumed, &type,
                                     &len), 1);
    assert_int_equal(type, 43);
    assert_int_equal(len, 0);
    net__buf_free(&wire);
    net__stream_wipe(&d_tx);
    net__stream_wipe(&d_rx);
    net__stream_wipe(&l_tx);
    net__stream_wipe(&l_rx);
    /* The identities travel encrypted. */
    assert_false(contains(msg2, sizeof msg2, pk_l));
    assert_false(contains(msg3, sizeof msg3, pk_d));
}

static void any_flipped_bit_in_messages_2_and_3_fails(void **state)
{
    (void)state;
    uint8_t network_id[32], pk_d[32], pk_l[32];
    uint8_t msg1[64], msg2[NET__HS_MSG2_BYTES], msg3[NET__HS_MSG3_BYTES];
    randombytes_buf(network_id, 32);
    for (size_t bit = 0; bit < NET__HS_MSG2_BYTES * 8; bit += 7) {
        net__hs d, l;
        handshake_pair(&d, &l, network_id, msg1, msg2, pk_d, pk_l);
        msg2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(net__hs_read_msg2(&d, msg2), 0);
    }
    for (size_t bit = 0; bit < NET__HS_MSG3_BYTES * 8; bit += 7) {
        net__hs d, l;
        handshake_pair(&d, &l, network_id, msg1, msg2, pk_d, pk_l);
        assert_int_equal(net__hs_read_msg2(&d, msg2), 0);
        net__hs_write_msg3(&d, msg3);
        msg3[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_reason(net__hs_read_msg3(&l, msg3), NET_E_AUTH);
    }
}

static void message_2_from_another_handshake_fails(void **state)
{
    (void)state;
    uint8_t network_id[32], pk_d[32], pk_l[32];
    uint8_t msg1[64], msg2[NET__HS_MSG2_BYTES];
    uint8_t old_msg2[NET__HS_MSG2_BYTES];
    randombytes_buf(network_id, 32);
    net__hs d, l;
    handshake_pair(&d, &l, network_id, msg1, old_msg2, pk_d, pk_l);
    handshake_pair(&d, &l, network_id, msg1, msg2, pk_d, pk_l);
    assert_reason(net__hs_read_msg2(&d, old_msg2), NET_E_AUTH);
}

static void frame_lengths_are_bounded_before_buffering(void **state)
{
    (void)state;
    crypto_secretstream_xchacha20poly1305_state pull;
    uint8_t key[32] = {0}, header[24] = {0}, plain[128], type;
    size_t consumed = 0, len = 0;
    crypto_secretstream_xchacha20poly1305_init_pull(&pull, header, key);
    net__stream rx;
    net__stream_init(&rx, &pull);
    uint8_t frame[4];
    net__put_u32(frame, 1000); /* > 17 + 128 */
    assert_reason(net__frame_open(&rx, frame, 4, sizeof plain, plain,
                                  &consumed, &type, &len), NET_E_FRAME);
    net__put_u32(frame, 17); /* no room for the type byte */
    assert_reason(net__frame_open(&rx, frame, 4, sizeof plain, plain,
                                  &consumed, &type, &len), NET_E_FRAME);
    net__put_u32(frame, 100); /* valid length, bytes still missing */
    assert_int_equal(net__frame_open(&rx, frame, 4, sizeof plain, plain,
                                     &consumed, &type, &len), 0);
    assert_int_equal(net__frame_open(&rx, frame, 3, sizeof plain, plain,
                                     &consumed, &type, &len), 0);
    net__stream_wipe(&rx);
}

static void control_payloads_round_trip_and_reject_trailing_bytes(void **state)
{
    (void)state;
    uint8_t out[NET__CONTROL_PAYLOAD_MAX + 1];
    uint32_t m, b;
    int32_t reason;
    size_t n = net__credit_encode(7, 9000, out);
    assert_int_equal(net__credit_decode(out, n, &m, &b), 0);
    assert_int_equal(m, 7);
    assert_int_equal(b, 9000);
    assert_reason(net__credit_decode(out, n + 1, &m, &b), NET_E_PROTOCOL);
    n = net__close_encode(NET_E_CREDIT, out);
    assert_int_equal(net__close_decode(out, n, &reason), 0);
    assert_reason(reason, NET_E_CREDIT);
    net__peers_payload peers = {.listen_port = 7000, .count = 2}, back;
    peers.entries[0] = (net__peer_address){4, {127, 0, 0, 1}, 7001};
    peers.entries[1] = (net__peer_address){6, {[15] = 1}, 7002};
    n = net__peers_encode(&peers, out);
    assert_int_equal(n, 3 + 7 + 19);
    assert_int_equal(net__peers_decode(out, n, &back), 0);
    assert_int_equal(back.listen_port, 7000);
    assert_int_equal(back.count, 2);
    assert_int_equal(back.entries[1].port, 7002);
    assert_reason(net__peers_decode(out, n - 1, &back), NET_E_PROTOCOL);
    out[2] = NET__PEERS_FRAME_ENTRIES_MAX + 1;
    assert_reason(net__peers_decode(out, n, &back), NET_E_PROTOCOL);
}

static void every_error_code_has_a_name_and_a_message(void **state)
{
    (void)state;
#define CHECK_ERROR(name, value, message)                                     \
    assert_string_equal(net_errname(value), #name);                           \
    assert_string_equal(net_strerror(value), message);
    NET_ERRORS(CHECK_ERROR)
#undef CHECK_ERROR
    assert_string_equal(net_errname(0), "NET_OK");
    assert_string_equal(net_errname(-999), "NET_E_UNKNOWN");
}

static void create_refuses_bad_configurations(void **state)
{
    (void)state;
    test_env env;
    test_env_init(&env);
    test_node node = {0};
    test_node_keys(&node);
    net_config config;
    memset(&config, 0, sizeof config);
    config.loop = &env.loop;
    memcpy(config.public_key, node.public_key, 32);
    memcpy(config.secret_key, node.secret_key, 64);
    net_limits_default(&config.limits);
    net_node *net = NULL;
    config.public_key[0] ^= 1; /* does not match the secret key */
    assert_reason(net_create(&config, &net), NET_E_INVALID);
    config.public_key[0] ^= 1;
    config.limits.queue_messages_max = 0;
    assert_reason(net_create(&config, &net), NET_E_INVALID);
    net_limits_default(&config.limits);
    config.listen_host = "not an address";
    assert_reason(net_create(&config, &net), NET_E_ADDRESS);
    assert_null(net);
    config.listen_host = NULL; /* a node that only dials */
    assert_int_equal(net_create(&config, &net), 0);
    assert_int_equal(net_listen_port(net), 0);
    assert_reason(net_register_type(net, 3, 10, false), NET_E_TYPE);
    assert_reason(net_register_type(net, 200, config.limits.credit_bytes + 1,
                                    false), NET_E_INVALID);
    assert_reason(net_add_peer(net, "localhost", 1), NET_E_ADDRESS);
    assert_reason(net_broadcast(net, 200, "x", 1), NET_E_TYPE);
    test_node *nodes[] = {&node};
    node.net = net;
    test_env_finish(&env, nodes, 1);
}

static void destroy_mid_handshake_leaves_nothing_on_the_loop(void **state)
{
    (void)state;
    test_env env;
    test_env_init(&env);
    static test_node a, b;
    test_node_keys(&a);
    test_node_keys(&b);
    net_limits limits;
    test_limits(&limits);
    test_node_start(&env, &a, &limits, 0);
    test_node_start(&env, &b, &limits, 0);
    /* A dial to a port nobody listens on, a raw client stuck after its
     * hello, and a live pair: all torn down at once. */
    assert_int_equal(net_add_peer(a.net, "127.0.0.1", 1), 0);
    assert_int_equal(net_add_peer(a.net, "127.0.0.1", b.port), 0);
    raw_client client;
    raw_connect(&client, a.port);
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES];
    net__hs_init(&hs, true, env.network_id, b.public_key, b.secret_key);
    net__hs_write_msg1(&hs, msg1);
    raw_send(&client, msg1, sizeof msg1);
    raw_wait_bytes(&env, &client, NET__HS_MSG2_BYTES);
    WAIT_UNTIL(&env, a.peers_up == 1 && b.peers_up == 1, 3000);
    uint32_t downs = a.peers_down;
    test_node *nodes[] = {&a, &b};
    test_env_finish(&env, nodes, 2);
    assert_int_equal(a.peers_down, downs); /* no callbacks after destroy */
    raw_close(&client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seen_set_forgets_the_oldest_beyond_its_capacity),
        cmocka_unit_test(handshake_in_memory_agrees_on_identities_and_streams),
        cmocka_unit_test(any_flipped_bit_in_messages_2_and_3_fails),
        cmocka_unit_test(message_2_from_another_handshake_fails),
        cmocka_unit_test(frame_lengths_are_bounded_before_buffering),
        cmocka_unit_test(control_payloads_round_trip_and_reject_trailing_bytes),
        cmocka_unit_test(every_error_code_has_a_name_and_a_message),
        cmocka_unit_test(create_refuses_bad_configurations),
        cmocka_unit_test(destroy_mid_handshake_leaves_nothing_on_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
