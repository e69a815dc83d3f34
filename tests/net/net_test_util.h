/*
 * net_test_util.h — the harness the net/ tests share: a loop with a wake-up
 * timer, nodes that record what their callbacks saw, waiting for a
 * condition with a deadline (never sleeping), and a raw TCP client that
 * speaks whatever bytes a test wants (garbage, truncated or forged
 * handshakes) — the misbehaving peers live here, not in the library.
 *
 * Read next: tests/net/test_net_handshake.c.
 */
#ifndef NANUM_NET_TEST_UTIL_H
#define NANUM_NET_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include "net.h"
#include "net_internal.h"

#define TEST_NODES_MAX 16
#define TEST_MESSAGES_MAX 4096 /* message indexes a node counts */
#define TEST_TYPE_FLOOD 20     /* flooded test payloads */
#define TEST_TYPE_DIRECT 21    /* point-to-point test payloads */
#define TEST_TYPE_URGENT 22    /* registered and marked urgent by a test */
#define TEST_PAYLOAD_MAX (64u << 10)

typedef struct test_node {
    net_node *net;
    uint8_t public_key[32];
    uint8_t secret_key[64];
    uint16_t port;
    uint32_t peers_up;
    uint32_t peers_down;
    int last_down_reason;
    uint32_t connections_failed;
    int last_failure_reason;
    uint64_t delivered;
    uint64_t delivered_bytes;
    uint8_t last_type;
    uint64_t urgent_position;   /* deliveries so far when TEST_TYPE_URGENT came */
    uint8_t last_payload[TEST_PAYLOAD_MAX];
    size_t last_len;
    uint8_t last_from[32];
    uint32_t counts[TEST_MESSAGES_MAX]; /* deliveries per message index */
    int failure_reasons[64];            /* by -code, counts */
} test_node;

typedef struct test_env {
    uv_loop_t loop;
    uv_timer_t wake;
    uint8_t network_id[32];
} test_env;

/* Loop, wake-up timer and a random network id. */
void test_env_init(test_env *env);
/* Destroys the nodes given, runs the loop dry and asserts uv_loop_close()
 * succeeds: net_destroy() left nothing on the loop. */
void test_env_finish(test_env *env, test_node **nodes, size_t count);
/* One loop turn (returns within a few milliseconds). */
void test_turn(test_env *env);
/* Milliseconds of wall-clock time (monotonic). */
uint64_t test_now_ms(void);

/* Limits small enough for fast tests. */
void test_limits(net_limits *limits);
/* Fresh keys for a node. */
void test_node_keys(test_node *node);
/* Starts node on 127.0.0.1 (port 0 picks a free one, recorded in
 * node->port) with the test types registered. */
void test_node_start(test_env *env, test_node *node, const net_limits *limits,
                     uint16_t port);
/* Destroys node->net and clears the pointer (counters stay). */
void test_node_stop(test_node *node);
/* The number of up peers. */
size_t test_peer_count(const test_node *node);
/* Copies the peer with this key into *out; false if not up. */
bool test_peer(const test_node *node, const uint8_t key[32],
               net_peer_info *out);

/* Waits until expr holds, failing the test after timeout_ms. */
#define WAIT_UNTIL(env, expr, timeout_ms)                                     \
    do {                                                                      \
        uint64_t wait_deadline_ = test_now_ms() + (timeout_ms);               \
        while (!(expr)) {                                                     \
            if (test_now_ms() > wait_deadline_)                               \
                fail_msg("timed out after %u ms waiting for: %s",             \
                         (unsigned)(timeout_ms), #expr);                      \
            test_turn(env);                                                   \
        }                                                                     \
    } while (0)

/* Asserts two NET_E_* codes are equal, printing both names. */
#define assert_reason(actual, expected)                                       \
    do {                                                                      \
        int actual_ = (actual), expected_ = (expected);                       \
        if (actual_ != expected_)                                             \
            fail_msg("%s is %s, expected %s", #actual, net_errname(actual_),  \
                     net_errname(expected_));                                 \
    } while (0)

/* Runs the loop for ms milliseconds (to let things that must NOT happen
 * have their chance). */
void test_run_for(test_env *env, uint64_t ms);

/* ---- raw client ---- */
typedef struct raw_client {
    int fd;
    uint8_t in[4096];
    size_t in_len;
    bool closed_by_peer;
} raw_client;

/* Connects a blocking socket to 127.0.0.1:port. */
void raw_connect(raw_client *client, uint16_t port);
/* Sends all bytes. */
void raw_send(raw_client *client, const void *bytes, size_t len);
/* Reads what is available without blocking; notes EOF/reset.
 * Returns client->closed_by_peer. */
bool raw_poll(raw_client *client);
void raw_close(raw_client *client);
/* Runs the loop until the client has `len` bytes buffered. */
void raw_wait_bytes(test_env *env, raw_client *client, size_t len);
/* Runs the loop until the node closed the client's connection. */
void raw_wait_closed(test_env *env, raw_client *client);

/* A full, valid dialer handshake from a raw client with its own key:
 * returns with the connection up at the node's side (the node's credit
 * and peers frames may be unread).  tx is the client's sending stream. */
void raw_handshake(test_env *env, raw_client *client, const uint8_t pk[32],
                   const uint8_t sk[64],
                   net__stream *tx); /* the caller wipes *tx */

#endif
