/*
 * http_test_util.h — what the HTTP server tests share: a server on a uv
 * loop running in a second thread, a handler that records what it saw, and
 * a raw-socket client with poll() deadlines.
 *
 * The server is only touched from its loop thread: the test thread asks
 * for work there with fixture_run() (uv_async + a condition variable with
 * a deadline), and reads the handler's records under the fixture's mutex.
 *
 * Read next: tests/http/test_http.c.
 */
#ifndef NANUM_HTTP_TEST_UTIL_H
#define NANUM_HTTP_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "http.h"

#define FIXTURE_RECORDS_MAX 64
#define FIXTURE_DEFERRED_MAX 16
#define RECORD_TEXT_MAX 256
#define RECORD_BODY_MAX 8192
/* How long any single wait of a test may take before it fails. */
#define TEST_DEADLINE_MS 5000

/* What the handler saw of one request (copied, on the loop thread). */
struct record {
    int method;
    char method_name[16];
    char path[RECORD_TEXT_MAX];
    char query[RECORD_TEXT_MAX];
    char authorization[RECORD_TEXT_MAX]; /* "" when absent */
    char content_type[RECORD_TEXT_MAX];
    char accept[RECORD_TEXT_MAX];
    bool has_authorization;
    uint8_t body[RECORD_BODY_MAX];
    size_t body_len;
    char remote_address[HTTP_ADDRESS_TEXT_MAX];
    uint16_t remote_port;
    uint8_t http_minor;
};

struct fixture {
    uv_loop_t loop;
    uv_async_t wake;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    struct http_server *server;
    uint16_t port;
    /* One job at a time for the loop thread (fixture_run). */
    void (*job)(struct fixture *f, void *arg);
    void *job_arg;
    bool job_pending, job_done;
    /* Written by the handler under mutex. */
    struct record records[FIXTURE_RECORDS_MAX];
    size_t record_count;
    struct http_deferred deferred[FIXTURE_DEFERRED_MAX];
    size_t deferred_count;
    size_t big_body_bytes; /* size of the /big response body */
    int handler_errors;    /* expectations broken inside the handler */
};

/* Starts a server with config (port forced to 0) and its loop thread;
 * fails the test on error.  Routes: /defer defers, /none answers nothing,
 * /big answers big_body_bytes, /close-server closes the server from the
 * handler, anything else {"path":...,"n":...}. */
struct fixture *fixture_start(const struct http_config *config);
/* fixture_start(), but returns NULL when the address cannot be bound
 * (HTTP_E_LISTEN: e.g. no IPv6 on this host). */
struct fixture *fixture_try_start(const struct http_config *config);
/* Closes the server on its loop, joins the thread, asserts that
 * uv_loop_close() succeeds, frees f. */
void fixture_stop(struct fixture *f);
/* Runs job(f, arg) on the loop thread and waits for it (deadline). */
void fixture_run(struct fixture *f, void (*job)(struct fixture *, void *),
                 void *arg);
/* Copies the server's counters (taken on the loop thread). */
void fixture_stats(struct fixture *f, struct http_stats *out);
/* Number of requests the handler saw; copy of record i. */
size_t fixture_record_count(struct fixture *f);
void fixture_record(struct fixture *f, size_t i, struct record *out);
/* Waits until the handler deferred `count` requests in all (deadline). */
void fixture_wait_deferred(struct fixture *f, size_t count);
/* http_respond_json() on deferred handle i, on the loop thread. */
int fixture_respond(struct fixture *f, size_t i, int status, const char *json);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t now_ms(void);

/* A raw HTTP client connection. */
struct client {
    int fd;
    size_t len;
    char buf[1 << 16];
};

struct reply {
    int status;
    char connection[64];
    char content_type[128];
    char cache_control[64];
    long content_length; /* -1 when absent */
    char body[1 << 16];  /* NUL-terminated */
    size_t body_len;
};

/* Connects to 127.0.0.1:port, or [::1]:port (blocking); fails the test
 * on error. */
struct client *client_connect(uint16_t port);
struct client *client_connect6(uint16_t port);
/* Sends all of data; returns false if the peer is gone. */
bool client_send(struct client *c, const void *data, size_t len);
bool client_send_text(struct client *c, const char *text);
/* Reads one response within timeout_ms.  Returns 0, -1 when the
 * connection closed first, -2 on timeout. */
int client_read_reply(struct client *c, int timeout_ms, struct reply *out);
/* client_read_reply() for the response to a HEAD request (no body). */
int client_read_head_reply(struct client *c, int timeout_ms, struct reply *out);
/* Waits for the server to close the connection (EOF or reset), discarding
 * what arrives.  Returns true if it closed within timeout_ms. */
bool client_wait_closed(struct client *c, int timeout_ms);
void client_close(struct client *c);

/* Asserts that body is {"error":{"code":code,"message":<string>}}. */
void assert_error_json(const struct reply *r, const char *code);

#endif
