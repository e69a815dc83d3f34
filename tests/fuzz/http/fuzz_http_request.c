/*
 * fuzz_http_request.c — libFuzzer target for the request path of
 * node/http/http.c, through a real connection.
 *
 * Each input is sent by a client socket to a fresh server on 127.0.0.1
 * (port 0), followed by the client's FIN; the loop runs until the server
 * let go of the connection.  The first byte picks what the handler does
 * (answer, answer nothing, defer the first request and answer it on the
 * next loop turn); the
 * rest is the request bytes.  What must hold: no crash or sanitizer report,
 * the connection always ends (bounded loop turns), everything the server
 * sent parses as HTTP/1.1 responses (checked unless the input holds
 * "HEAD": a response to HEAD announces a body it does not carry, which a
 * response parser cannot tell without the requests), and after
 * http_server_close() the loop closes.
 *
 * Linked with tests/fuzz/replay_main.c it replays the seed corpus in
 * tests/fuzz/corpus/http-request as a unit test.
 *
 * Read next: node/http/http.c, tests/http/test_http.c.
 */
#define _GNU_SOURCE /* memmem */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#include "http.h"

/* Loop turns one input may take; each turn waits at most a timer. */
#define FUZZ_TURNS_MAX 20000
#define FUZZ_INPUT_BYTES_MAX 65536

struct fuzz_state {
    int mode;
    struct http_deferred deferred;
    bool has_deferred, deferred_once;
    uv_check_t check;
};

/* Answers with the request body, answers nothing, or defers (mode). */
static void fuzz_handler(void *ctx, const struct http_request *request,
                         struct http_response *response)
{
    struct fuzz_state *s = ctx;
    if (s->mode == 1)
        return; /* the server answers 500 */
    if (s->mode == 2 && !s->deferred_once &&
        http_response_defer(response, &s->deferred) == 0) {
        s->has_deferred = s->deferred_once = true;
        return;
    }
    http_response_set(response, 200, "text/plain", request->body,
                      request->body_len);
}

/* Answers the deferred request one loop turn after it was deferred. */
static void fuzz_on_check(uv_check_t *check)
{
    struct fuzz_state *s = check->data;
    if (!s->has_deferred)
        return;
    s->has_deferred = false;
    http_respond_json(s->deferred, 200, "{\"late\":true}");
}

/* Drains what the server sent into the response parser; returns false
 * once the server closed the connection. */
static bool fuzz_drain(int fd, http_parser *parser,
                       const http_parser_settings *settings, bool check)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        if (check) {
            size_t parsed = http_parser_execute(parser, settings, buf,
                                                (size_t)n);
            /* The server must only ever send well-formed responses. */
            assert(HTTP_PARSER_ERRNO(parser) == HPE_OK);
            assert(parsed == (size_t)n);
            (void)parsed;
        }
        if (n == 0)
            return false;
    }
}

/* Connects a client to port and sends data then its FIN; returns the
 * socket, or -1 when no connection could be made. */
static int fuzz_client(uint16_t port, const uint8_t *data, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        /* Local ports exhausted by a long fuzzing run (TIME_WAIT): not a
         * finding about the server; skip the input. */
        close(fd);
        return -1;
    }
    /* The kernel buffers the whole input (bounded by FUZZ_INPUT_BYTES_MAX)
     * before the server reads, so a blocking send cannot stall. */
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the server already answered and closed */
        sent += (size_t)n;
    }
    shutdown(fd, SHUT_WR);
    return fd;
}

/* Sends one input and runs the loop until the server let go of it. */
static void fuzz_run(uv_loop_t *loop, struct http_server *server,
                     const uint8_t *data, size_t size)
{
    int fd = fuzz_client(http_server_listen_port(server), data, size);
    if (fd < 0)
        return;
    http_parser parser;
    http_parser_init(&parser, HTTP_RESPONSE);
    http_parser_settings settings;
    http_parser_settings_init(&settings);
    bool open = true;
    bool check = memmem(data, size, "HEAD", 4) == NULL;
    struct http_stats stats;
    for (int turn = 0; turn < FUZZ_TURNS_MAX; turn++) {
        uv_run(loop, UV_RUN_NOWAIT);
        open = open && fuzz_drain(fd, &parser, &settings, check);
        http_server_stats(server, &stats);
        if (!open && stats.connections_open == 0)
            break;
        if (open)
            uv_run(loop, UV_RUN_ONCE);
    }
    assert(!open); /* the connection always ends */
    /* Reset rather than TIME_WAIT: thousands of inputs a second would
     * otherwise exhaust the ephemeral ports. */
    struct linger hard = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_INPUT_BYTES_MAX)
        return 0;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct http_config config;
    http_config_default(&config);
    config.header_bytes_max = 1024;
    config.body_bytes_max = 4096;
    config.request_timeout_ms = 200;
    config.idle_timeout_ms = 200;
    config.response_timeout_ms = 200;
    config.requests_per_connection_max = 16;
    struct fuzz_state state = {.mode = data[0] % 3};
    uv_check_init(&loop, &state.check);
    state.check.data = &state;
    uv_check_start(&state.check, fuzz_on_check);
    struct http_server *server = NULL;
    int rc = http_server_create(&loop, &config, fuzz_handler, &state, &server);
    assert(rc == 0);
    (void)rc;
    fuzz_run(&loop, server, data + 1, size - 1);
    http_server_close(server);
    uv_close((uv_handle_t *)&state.check, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&loop);
    assert(rc == 0);
    return 0;
}
