/*
 * test_http.c — the HTTP/1.1 server of node/http/http.h over real sockets on
 * 127.0.0.1 (port 0): requests reach the handler intact, keep-alive and
 * pipelining, every limit answered with its JSON error while the server
 * keeps serving, slowloris, deferred responses (also to clients that left),
 * backpressure on clients that do not read, graceful stop and close.
 *
 * The server runs on a uv loop in a second thread (http_test_util.c); the
 * test thread is the client and waits with poll() deadlines, never sleeps.
 *
 * Read next: node/http/http.h, tests/http/http_test_util.h.
 */
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "http_test_util.h"

/* A config small enough that tests hit every limit quickly. */
static struct http_config small_config(void)
{
    struct http_config c;
    http_config_default(&c);
    c.connections_max = 8;
    c.header_bytes_max = 1024;
    c.body_bytes_max = 4096;
    c.output_bytes_max = 64 * 1024;
    c.request_timeout_ms = 2000;
    c.idle_timeout_ms = 2000;
    c.response_timeout_ms = 2000;
    return c;
}

/* Sends a request and reads its reply; fails the test if none comes. */
static void exchange(struct client *c, const char *request, struct reply *r)
{
    assert_true(client_send_text(c, request));
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
}

static void get_reaches_handler_with_raw_path_and_query(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c,
             "GET /accounts/a%20b?limit=5&from=x%2Fy HTTP/1.1\r\n"
             "Host: localhost\r\nAuthorization: Bearer t0k3n \r\n"
             "Accept: application/json\r\n\r\n",
             r);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->content_type, "application/json");
    assert_string_equal(r->cache_control, "no-store");
    assert_string_equal(r->connection, "keep-alive");
    assert_int_equal(r->content_length, (long)r->body_len);
    assert_string_equal(r->body, "{\"path\":\"/accounts/a%20b\",\"n\":1}");
    struct record rec;
    fixture_record(f, 0, &rec);
    assert_int_equal(rec.method, HTTP_METHOD_GET);
    assert_string_equal(rec.method_name, "GET");
    assert_string_equal(rec.path, "/accounts/a%20b");
    assert_string_equal(rec.query, "limit=5&from=x%2Fy");
    assert_string_equal(rec.authorization, "Bearer t0k3n");
    assert_string_equal(rec.accept, "application/json");
    assert_false(rec.body_len);
    assert_string_equal(rec.remote_address, "127.0.0.1");
    assert_int_not_equal(rec.remote_port, 0);
    assert_int_equal(rec.http_minor, 1);
    free(r);
    client_close(c);
    fixture_stop(f);
}

static void post_body_reaches_handler_intact(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    static const uint8_t body[] = {'{', 0, 1, 2, '\r', '\n', 0xff, '}'};
    char head[256];
    snprintf(head, sizeof head,
             "POST /tx HTTP/1.1\r\nContent-Type: application/msgpack\r\n"
             "Content-Length: %zu\r\n\r\n", sizeof body);
    assert_true(client_send_text(c, head));
    assert_true(client_send(c, body, sizeof body));
    struct reply *r = malloc(sizeof *r);
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_int_equal(r->status, 200);
    struct record rec;
    fixture_record(f, 0, &rec);
    assert_int_equal(rec.method, HTTP_METHOD_POST);
    assert_string_equal(rec.path, "/tx");
    assert_string_equal(rec.query, "");
    assert_string_equal(rec.content_type, "application/msgpack");
    assert_false(rec.has_authorization);
    assert_int_equal(rec.body_len, sizeof body);
    assert_memory_equal(rec.body, body, sizeof body);
    free(r);
    client_close(c);
    fixture_stop(f);
}

static void keep_alive_serves_two_requests_on_one_connection(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c, "GET /one HTTP/1.1\r\n\r\n", r);
    assert_string_equal(r->connection, "keep-alive");
    exchange(c, "GET /two HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->body, "{\"path\":\"/two\",\"n\":2}");
    struct record one, two;
    fixture_record(f, 0, &one);
    fixture_record(f, 1, &two);
    assert_int_equal(one.remote_port, two.remote_port);
    struct http_stats stats;
    fixture_stats(f, &stats);
    assert_int_equal(stats.connections_accepted, 1);
    free(r);
    client_close(c);
    fixture_stop(f);
}

static void pipelined_requests_are_answered_in_order(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    assert_true(client_send_text(c,
        "GET /p1 HTTP/1.1\r\n\r\n"
        "POST /p2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
        "GET /p3 HTTP/1.1\r\nConnection: close\r\n\r\n"));
    struct reply *r = malloc(sizeof *r);
    const char *expected[] = {
        "{\"path\":\"/p1\",\"n\":1}",
        "{\"path\":\"/p2\",\"n\":2}",
        "{\"path\":\"/p3\",\"n\":3}",
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
        assert_string_equal(r->body, expected[i]);
        assert_string_equal(r->connection, i < 2 ? "keep-alive" : "close");
    }
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    struct record rec;
    fixture_record(f, 1, &rec);
    assert_int_equal(rec.body_len, 3);
    assert_memory_equal(rec.body, "abc", 3);
    free(r);
    client_close(c);
    fixture_stop(f);
}

static void connection_close_and_http10_close_after_response(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct reply *r = malloc(sizeof *r);
    struct client *c = client_connect(f->port);
    exchange(c, "GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", r);
    assert_string_equal(r->connection, "close");
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    client_close(c);

    c = client_connect(f->port);
    exchange(c, "GET /b HTTP/1.0\r\n\r\n", r);
    assert_int_equal(r->status, 200);
    assert_string_equal(r->connection, "close");
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    client_close(c);

    c = client_connect(f->port);
    exchange(c, "GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r);
    assert_string_equal(r->connection, "keep-alive");
    exchange(c, "GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r);
    assert_string_equal(r->body, "{\"path\":\"/d\",\"n\":4}");
    client_close(c);
    free(r);
    fixture_stop(f);
}

static void requests_per_connection_max_closes_after_the_last(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.requests_per_connection_max = 2;
    struct fixture *f = fixture_start(&config);
    struct reply *r = malloc(sizeof *r);
    struct client *c = client_connect(f->port);
    exchange(c, "GET /1 HTTP/1.1\r\n\r\n", r);
    assert_string_equal(r->connection, "keep-alive");
    exchange(c, "GET /2 HTTP/1.1\r\n\r\n", r);
    assert_string_equal(r->connection, "close");
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    client_close(c);
    free(r);
    fixture_stop(f);
}

/* Sends request on a new connection; expects the JSON error code with
 * status, then the close. */
static void expect_error(struct fixture *f, const char *request, size_t len,
                         int status, const char *code)
{
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    assert_true(client_send(c, request, len));
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_int_equal(r->status, status);
    assert_string_equal(r->connection, "close");
    assert_string_equal(r->cache_control, "no-store");
    assert_error_json(r, code);
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    client_close(c);
    free(r);
}

/* Asserts that a plain GET on a new connection is answered 200. */
static void expect_served(struct fixture *f)
{
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c, "GET /still-here HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 200);
    client_close(c);
    free(r);
}

static void oversized_body_gets_413_and_server_keeps_serving(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    char request[512];
    int n = snprintf(request, sizeof request,
                     "POST /tx HTTP/1.1\r\nContent-Length: %u\r\n\r\nxxxx",
                     config.body_bytes_max + 1);
    expect_error(f, request, (size_t)n, 413, "body_too_large");
    expect_served(f);
    /* At exactly the limit the body is accepted. */
    struct client *c = client_connect(f->port);
    char *body = malloc(config.body_bytes_max);
    memset(body, 'b', config.body_bytes_max);
    n = snprintf(request, sizeof request,
                 "POST /tx HTTP/1.1\r\nContent-Length: %u\r\n\r\n",
                 config.body_bytes_max);
    assert_true(client_send(c, request, (size_t)n));
    assert_true(client_send(c, body, config.body_bytes_max));
    struct reply *r = malloc(sizeof *r);
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_int_equal(r->status, 200);
    free(r);
    free(body);
    client_close(c);
    fixture_stop(f);
}

static void oversized_headers_get_431(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    char request[4096];
    char filler[2000];
    memset(filler, 'a', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    int n = snprintf(request, sizeof request,
                     "GET / HTTP/1.1\r\nX-Filler: %s\r\n\r\n", filler);
    expect_error(f, request, (size_t)n, 431, "header_too_large");
    n = snprintf(request, sizeof request, "GET /%s HTTP/1.1\r\n\r\n", filler);
    expect_error(f, request, (size_t)n, 431, "header_too_large");
    /* Many small headers count too. */
    size_t len = (size_t)snprintf(request, sizeof request, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(request + len, sizeof request - len,
                                "X-%d: v\r\n", i);
    len += (size_t)snprintf(request + len, sizeof request - len, "\r\n");
    expect_error(f, request, len, 431, "header_too_large");
    expect_served(f);
    fixture_stop(f);
}

static void malformed_requests_get_400(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/9.1\r\n\r\n",
        "GET http://example.org/ HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n",
    };
    /* Only the last one holds a NUL: its length is counted by hand. */
    size_t lens[] = {0, 0, 0, 0, 0, 0, 29};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = lens[i] ? lens[i] : strlen(bad[i]);
        expect_error(f, bad[i], len, 400, "bad_request");
    }
    expect_served(f);
    fixture_stop(f);
}

static void chunked_body_gets_411(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    const char *request = "POST /tx HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                          "\r\n3\r\nabc\r\n0\r\n\r\n";
    expect_error(f, request, strlen(request), 411, "length_required");
    expect_served(f);
    fixture_stop(f);
}

static void expect_100_continue_is_answered_before_the_body(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c, "POST /tx HTTP/1.1\r\nExpect: 100-continue\r\n"
                "Content-Length: 5\r\n\r\n", r);
    assert_int_equal(r->status, 100);
    exchange(c, "hello", r);
    assert_int_equal(r->status, 200);
    struct record rec;
    fixture_record(f, 0, &rec);
    assert_int_equal(rec.body_len, 5);
    assert_memory_equal(rec.body, "hello", 5);
    client_close(c);
    free(r);
    const char *big = "POST /tx HTTP/1.1\r\nExpect: 100-continue\r\n"
                      "Content-Length: 999999\r\n\r\n";
    expect_error(f, big, strlen(big), 413, "body_too_large");
    const char *odd = "POST /tx HTTP/1.1\r\nExpect: teapot\r\n"
                      "Content-Length: 1\r\n\r\n";
    expect_error(f, odd, strlen(odd), 417, "expectation_failed");
    fixture_stop(f);
}

static void handler_without_response_gets_500_internal(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c, "GET /none HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 500);
    assert_error_json(r, "internal");
    /* The request was read whole: the connection serves the next one. */
    assert_string_equal(r->connection, "keep-alive");
    assert_true(client_send_text(c, "HEAD /x HTTP/1.1\r\n\r\n"));
    assert_int_equal(client_read_head_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_int_equal(r->status, 200);
    assert_true(r->content_length > 0);
    assert_int_equal(r->body_len, 0);
    exchange(c, "GET /after-head HTTP/1.1\r\n\r\n", r);
    assert_string_equal(r->body, "{\"path\":\"/after-head\",\"n\":3}");
    client_close(c);
    free(r);
    fixture_stop(f);
}

/* Waits (polling every few ms, with a deadline) until pred(stats). */
static void wait_stats(struct fixture *f, bool (*pred)(const struct http_stats *),
                       struct http_stats *stats)
{
    int64_t deadline = now_ms() + TEST_DEADLINE_MS;
    for (;;) {
        fixture_stats(f, stats);
        if (pred(stats) || now_ms() > deadline)
            break;
        poll(NULL, 0, 5);
    }
    assert_true(pred(stats));
}

static bool no_connection_open(const struct http_stats *s)
{
    return s->connections_open == 0 && s->deferred_pending == 0;
}

static bool one_connection_open(const struct http_stats *s)
{
    return s->connections_open == 1;
}

static void connection_limit_refuses_the_extra_one_with_503(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.connections_max = 2;
    struct fixture *f = fixture_start(&config);
    struct reply *r = malloc(sizeof *r);
    struct client *a = client_connect(f->port);
    struct client *b = client_connect(f->port);
    exchange(a, "GET /a HTTP/1.1\r\n\r\n", r);
    exchange(b, "GET /b HTTP/1.1\r\n\r\n", r);
    struct client *extra = client_connect(f->port);
    assert_int_equal(client_read_reply(extra, TEST_DEADLINE_MS, r), 0);
    assert_int_equal(r->status, 503);
    assert_error_json(r, "too_many_connections");
    assert_true(client_wait_closed(extra, TEST_DEADLINE_MS));
    client_close(extra);
    /* Once a slot is free again, a new client is served. */
    client_close(a);
    struct http_stats stats;
    wait_stats(f, one_connection_open, &stats);
    assert_int_equal(stats.connections_refused, 1);
    expect_served(f);
    exchange(b, "GET /b2 HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 200);
    client_close(b);
    free(r);
    fixture_stop(f);
}

static void slowloris_is_cut_while_another_client_is_served(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.request_timeout_ms = 800;
    struct fixture *f = fixture_start(&config);
    enum { SLOW = 4 };
    const char *text = "GET /slow HTTP/1.1\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaa"
                       "aaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    struct client *slow[SLOW];
    for (int i = 0; i < SLOW; i++)
        slow[i] = client_connect(f->port);
    int64_t start = now_ms(), cut_ms = -1, fast_latency_ms = -1;
    struct reply *r = malloc(sizeof *r);
    for (size_t sent = 0; sent < strlen(text) && cut_ms < 0; sent++) {
        for (int i = 0; i < SLOW; i++)
            client_send(slow[i], text + sent, 1);
        if (sent == 3) { /* the slow clients are mid-request: serve another */
            struct client *fast = client_connect(f->port);
            int64_t t0 = now_ms();
            exchange(fast, "GET /fast HTTP/1.1\r\n\r\n", r);
            fast_latency_ms = now_ms() - t0;
            assert_int_equal(r->status, 200);
            client_close(fast);
        }
        /* Pace at one byte per 100 ms, watching for the server's answer. */
        struct pollfd pfd = {.fd = slow[0]->fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) > 0)
            cut_ms = now_ms() - start;
    }
    assert_true(cut_ms >= 0);
    for (int i = 0; i < SLOW; i++) {
        assert_int_equal(client_read_reply(slow[i], TEST_DEADLINE_MS, r), 0);
        assert_int_equal(r->status, 408);
        assert_error_json(r, "request_timeout");
        assert_true(client_wait_closed(slow[i], TEST_DEADLINE_MS));
        client_close(slow[i]);
    }
    print_message("# slowloris cut after %lld ms (timeout %u ms); "
                  "other client's latency %lld ms\n", (long long)cut_ms,
                  config.request_timeout_ms, (long long)fast_latency_ms);
    assert_in_range(cut_ms, config.request_timeout_ms - 50,
                    config.request_timeout_ms + 700);
    assert_in_range(fast_latency_ms, 0, config.request_timeout_ms / 4);
    struct http_stats stats;
    fixture_stats(f, &stats);
    assert_int_equal(stats.timeouts, SLOW);
    assert_int_equal(fixture_record_count(f), 1);
    free(r);
    fixture_stop(f);
}

static void deferred_response_is_delivered_later_in_order(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    assert_true(client_send_text(c, "GET /defer?long=poll HTTP/1.1\r\n\r\n"
                                    "GET /after HTTP/1.1\r\n\r\n"));
    fixture_wait_deferred(f, 1);
    /* The pipelined request waits for the deferred answer. */
    assert_int_equal(client_read_reply(c, 50, r), -2);
    assert_int_equal(fixture_record_count(f), 1);
    assert_int_equal(fixture_respond(f, 0, 202, "{\"late\":true}"), 0);
    assert_int_equal(fixture_respond(f, 0, 200, "{}"), HTTP_E_GONE);
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_int_equal(r->status, 202);
    assert_string_equal(r->body, "{\"late\":true}");
    assert_string_equal(r->connection, "keep-alive");
    assert_string_equal(r->cache_control, "no-store");
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_string_equal(r->body, "{\"path\":\"/after\",\"n\":2}");
    struct http_stats stats;
    fixture_stats(f, &stats);
    assert_int_equal(stats.deferred_pending, 0);
    client_close(c);
    free(r);
    fixture_stop(f);
}

static void deferred_response_to_a_client_that_left_is_refused_safely(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    assert_true(client_send_text(c, "GET /defer HTTP/1.1\r\n\r\n"));
    fixture_wait_deferred(f, 1);
    client_close(c);
    struct http_stats stats;
    wait_stats(f, no_connection_open, &stats);
    assert_int_equal(fixture_respond(f, 0, 200, "{}"), HTTP_E_GONE);
    /* A new connection takes the same slot: the old handle stays stale. */
    c = client_connect(f->port);
    assert_true(client_send_text(c, "GET /defer HTTP/1.1\r\n\r\n"));
    fixture_wait_deferred(f, 2);
    assert_int_equal(fixture_respond(f, 0, 200, "{\"old\":1}"), HTTP_E_GONE);
    assert_int_equal(fixture_respond(f, 1, 200, "{\"new\":1}"), 0);
    struct reply *r = malloc(sizeof *r);
    assert_int_equal(client_read_reply(c, TEST_DEADLINE_MS, r), 0);
    assert_string_equal(r->body, "{\"new\":1}");
    client_close(c);
    free(r);
    fixture_stop(f);
}

static void deferred_response_not_given_in_time_gets_500(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.response_timeout_ms = 300;
    struct fixture *f = fixture_start(&config);
    struct client *c = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c, "GET /defer HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 500);
    assert_error_json(r, "internal");
    fixture_wait_deferred(f, 1);
    assert_int_equal(fixture_respond(f, 0, 200, "{}"), HTTP_E_GONE);
    exchange(c, "GET /next HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 200);
    client_close(c);
    free(r);
    fixture_stop(f);
}

static bool one_slow_reader_dropped(const struct http_stats *s)
{
    return s->slow_readers_dropped == 1 && s->connections_open == 0;
}

static void client_that_does_not_read_is_dropped_with_output_bounded(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.output_bytes_max = 128 * 1024;
    config.idle_timeout_ms = 700;
    struct fixture *f = fixture_start(&config);
    pthread_mutex_lock(&f->mutex);
    f->big_body_bytes = 100000;
    pthread_mutex_unlock(&f->mutex);
    struct client *c = client_connect(f->port);
    enum { PIPELINED = 300 };
    for (int i = 0; i < PIPELINED; i++)
        assert_true(client_send_text(c, "GET /big HTTP/1.1\r\n\r\n"));
    /* Meanwhile others are served. */
    expect_served(f);
    struct http_stats stats;
    wait_stats(f, one_slow_reader_dropped, &stats);
    print_message("# non-reading client: %llu of %d pipelined requests "
                  "handled before the drop\n",
                  (unsigned long long)stats.requests - 1, PIPELINED);
    /* Backpressure: without it all 300 (30 MB of output) would be made. */
    assert_in_range(stats.requests, 2, PIPELINED / 2);
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    client_close(c);
    expect_served(f);
    fixture_stop(f);
}

static void job_stop_accepting(struct fixture *f, void *arg)
{
    (void)arg;
    http_server_stop_accepting(f->server);
    http_server_stop_accepting(f->server);
}

/* Returns true if a connection to port is refused. */
static bool connect_is_refused(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    close(fd);
    return rc < 0;
}

static void stop_accepting_finishes_requests_in_flight(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    uint16_t port = f->port;
    struct reply *r = malloc(sizeof *r);
    struct client *idle = client_connect(port);
    exchange(idle, "GET /idle HTTP/1.1\r\n\r\n", r);
    struct client *busy = client_connect(port);
    assert_true(client_send_text(busy, "GET /defer HTTP/1.1\r\n\r\n"));
    fixture_wait_deferred(f, 1);
    fixture_run(f, job_stop_accepting, NULL);
    assert_true(client_wait_closed(idle, TEST_DEADLINE_MS));
    assert_true(connect_is_refused(port));
    assert_int_equal(fixture_respond(f, 0, 200, "{\"done\":true}"), 0);
    assert_int_equal(client_read_reply(busy, TEST_DEADLINE_MS, r), 0);
    assert_string_equal(r->body, "{\"done\":true}");
    assert_string_equal(r->connection, "close");
    assert_true(client_wait_closed(busy, TEST_DEADLINE_MS));
    struct http_stats stats;
    wait_stats(f, no_connection_open, &stats);
    client_close(idle);
    client_close(busy);
    free(r);
    fixture_stop(f);
}

static bool three_open_one_deferred(const struct http_stats *s)
{
    return s->connections_open == 3 && s->deferred_pending == 1;
}

static void close_with_open_connections_leaves_the_loop_closable(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct reply *r = malloc(sizeof *r);
    struct client *idle = client_connect(f->port);
    exchange(idle, "GET /idle HTTP/1.1\r\n\r\n", r);
    struct client *partial = client_connect(f->port);
    assert_true(client_send_text(partial, "POST /tx HTTP/1.1\r\n"
                                          "Content-Length: 100\r\n\r\nabc"));
    struct client *deferred = client_connect(f->port);
    assert_true(client_send_text(deferred, "GET /defer HTTP/1.1\r\n\r\n"));
    struct http_stats stats;
    wait_stats(f, three_open_one_deferred, &stats);
    fixture_stop(f); /* asserts uv_loop_close() == 0 */
    assert_true(client_wait_closed(idle, TEST_DEADLINE_MS));
    assert_true(client_wait_closed(partial, TEST_DEADLINE_MS));
    assert_true(client_wait_closed(deferred, TEST_DEADLINE_MS));
    client_close(idle);
    client_close(partial);
    client_close(deferred);
    free(r);
}

static void handler_may_close_the_server(void **state)
{
    (void)state;
    struct http_config config = small_config();
    struct fixture *f = fixture_start(&config);
    struct client *other = client_connect(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(other, "GET /first HTTP/1.1\r\n\r\n", r);
    struct client *c = client_connect(f->port);
    assert_true(client_send_text(c, "GET /close-server HTTP/1.1\r\n\r\n"
                                    "GET /never HTTP/1.1\r\n\r\n"));
    assert_true(client_wait_closed(c, TEST_DEADLINE_MS));
    assert_true(client_wait_closed(other, TEST_DEADLINE_MS));
    assert_int_equal(fixture_record_count(f), 2);
    fixture_stop(f);
    client_close(c);
    client_close(other);
    free(r);
}

/* xorshift64*: the random bytes of the robustness test, seeded. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Fills buf with one hostile input: random bytes, or a valid request
 * with bytes flipped, or one cut short.  Returns its length. */
static size_t hostile_input(uint64_t *seed, char *buf, size_t cap)
{
    static const char *valid =
        "POST /tx?a=1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        "Authorization: Bearer abc\r\nExpect: 100-continue\r\n"
        "Content-Length: 4\r\n\r\nbody";
    size_t len = strlen(valid);
    assert_true(len < cap);
    uint64_t kind = next_random(seed) % 3;
    if (kind == 0) {
        len = 1 + next_random(seed) % (cap - 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)next_random(seed);
        return len;
    }
    memcpy(buf, valid, len);
    if (kind == 1) {
        for (int flips = 1 + (int)(next_random(seed) % 4); flips > 0; flips--)
            buf[next_random(seed) % len] = (char)next_random(seed);
        return len;
    }
    return 1 + next_random(seed) % (len - 1);
}

static void hostile_bytes_never_break_the_server(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.connections_max = 64;
    config.request_timeout_ms = 300;
    config.idle_timeout_ms = 300;
    struct fixture *f = fixture_start(&config);
    uint64_t seed = 0x6e616e756dull; /* "nanum" */
    enum { ROUNDS = 4, PER_ROUND = 32 };
    for (int round = 0; round < ROUNDS; round++) {
        struct client *c[PER_ROUND];
        char input[400];
        for (int i = 0; i < PER_ROUND; i++) {
            c[i] = client_connect(f->port);
            size_t len = hostile_input(&seed, input, sizeof input);
            client_send(c[i], input, len);
        }
        /* Each ends: answered and closed, or timed out and closed. */
        for (int i = 0; i < PER_ROUND; i++) {
            assert_true(client_wait_closed(c[i], TEST_DEADLINE_MS));
            client_close(c[i]);
        }
    }
    struct http_stats stats;
    wait_stats(f, no_connection_open, &stats);
    print_message("# hostile inputs: %d, handled %llu, errors %llu, "
                  "timeouts %llu\n", ROUNDS * PER_ROUND,
                  (unsigned long long)stats.requests,
                  (unsigned long long)stats.errors,
                  (unsigned long long)stats.timeouts);
    expect_served(f);
    fixture_stop(f);
}

static void ipv6_loopback_is_served_when_available(void **state)
{
    (void)state;
    struct http_config config = small_config();
    config.host = "::1";
    struct fixture *f = fixture_try_start(&config);
    if (f == NULL)
        skip(); /* no IPv6 on this host */
    struct client *c = client_connect6(f->port);
    struct reply *r = malloc(sizeof *r);
    exchange(c, "GET /v6 HTTP/1.1\r\n\r\n", r);
    assert_int_equal(r->status, 200);
    struct record rec;
    fixture_record(f, 0, &rec);
    assert_string_equal(rec.remote_address, "::1");
    client_close(c);
    free(r);
    fixture_stop(f);
}

static void noop_handler(void *ctx, const struct http_request *request,
                         struct http_response *response)
{
    (void)ctx;
    (void)request;
    (void)response;
}

static void create_refuses_bad_config_and_busy_port(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct http_config config;
    http_config_default(&config);
    struct http_server *a = NULL, *b = NULL;
    assert_int_equal(http_server_create(&loop, &config, noop_handler, NULL, &a),
                     0);
    struct http_config bad = config;
    bad.connections_max = 0;
    assert_int_equal(http_server_create(&loop, &bad, noop_handler, NULL, &b),
                     HTTP_E_INVALID);
    bad = config;
    bad.host = "localhost";
    assert_int_equal(http_server_create(&loop, &bad, noop_handler, NULL, &b),
                     HTTP_E_ADDRESS);
    bad = config;
    bad.port = http_server_listen_port(a);
    assert_int_equal(http_server_create(&loop, &bad, noop_handler, NULL, &b),
                     HTTP_E_LISTEN);
    assert_null(b);
    http_server_close(a);
    http_server_close(NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void every_error_code_has_a_name_and_a_message(void **state)
{
    (void)state;
    static const int codes[] = {
#define HTTP_TEST_CODE(name, value, message) name,
        HTTP_ERRORS(HTTP_TEST_CODE)
#undef HTTP_TEST_CODE
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        assert_true(codes[i] < 0);
        assert_string_not_equal(http_errname(codes[i]), "HTTP_E_UNKNOWN");
        assert_string_not_equal(http_strerror(codes[i]), "unknown http error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(http_errname(codes[i]),
                                    http_errname(codes[j]));
    }
    assert_string_equal(http_errname(0), "HTTP_OK");
    assert_string_equal(http_errname(-999), "HTTP_E_UNKNOWN");
    assert_string_equal(http_strerror(HTTP_E_GONE),
                        "the connection of this deferred response is gone");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_reaches_handler_with_raw_path_and_query),
        cmocka_unit_test(post_body_reaches_handler_intact),
        cmocka_unit_test(keep_alive_serves_two_requests_on_one_connection),
        cmocka_unit_test(pipelined_requests_are_answered_in_order),
        cmocka_unit_test(connection_close_and_http10_close_after_response),
        cmocka_unit_test(requests_per_connection_max_closes_after_the_last),
        cmocka_unit_test(oversized_body_gets_413_and_server_keeps_serving),
        cmocka_unit_test(oversized_headers_get_431),
        cmocka_unit_test(malformed_requests_get_400),
        cmocka_unit_test(chunked_body_gets_411),
        cmocka_unit_test(expect_100_continue_is_answered_before_the_body),
        cmocka_unit_test(handler_without_response_gets_500_internal),
        cmocka_unit_test(connection_limit_refuses_the_extra_one_with_503),
        cmocka_unit_test(slowloris_is_cut_while_another_client_is_served),
        cmocka_unit_test(deferred_response_is_delivered_later_in_order),
        cmocka_unit_test(deferred_response_to_a_client_that_left_is_refused_safely),
        cmocka_unit_test(deferred_response_not_given_in_time_gets_500),
        cmocka_unit_test(client_that_does_not_read_is_dropped_with_output_bounded),
        cmocka_unit_test(stop_accepting_finishes_requests_in_flight),
        cmocka_unit_test(close_with_open_connections_leaves_the_loop_closable),
        cmocka_unit_test(handler_may_close_the_server),
        cmocka_unit_test(hostile_bytes_never_break_the_server),
        cmocka_unit_test(ipv6_loopback_is_served_when_available),
        cmocka_unit_test(create_refuses_bad_config_and_busy_port),
        cmocka_unit_test(every_error_code_has_a_name_and_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
