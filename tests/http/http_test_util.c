/*
 * http_test_util.c — the fixture (server on a loop thread, recording
 * handler) and the raw-socket client of http_test_util.h.
 *
 * Read next: tests/http/test_http.c.
 */
#define _GNU_SOURCE /* memmem, pthread_timedjoin_np */
#include "http_test_util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Copies text into a fixed field, truncated. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Records what the handler saw. */
static void record_request(struct fixture *f, const struct http_request *r)
{
    if (f->record_count == FIXTURE_RECORDS_MAX)
        return;
    struct record *rec = &f->records[f->record_count++];
    memset(rec, 0, sizeof *rec);
    rec->method = (int)r->method;
    copy_text(rec->method_name, sizeof rec->method_name, r->method_name);
    copy_text(rec->path, sizeof rec->path, r->path);
    copy_text(rec->query, sizeof rec->query, r->query);
    copy_text(rec->authorization, sizeof rec->authorization, r->authorization);
    rec->has_authorization = r->authorization != NULL;
    copy_text(rec->content_type, sizeof rec->content_type, r->content_type);
    copy_text(rec->accept, sizeof rec->accept, r->accept);
    rec->body_len = r->body_len < RECORD_BODY_MAX ? r->body_len
                                                  : RECORD_BODY_MAX;
    memcpy(rec->body, r->body, rec->body_len);
    copy_text(rec->remote_address, sizeof rec->remote_address,
              r->remote_address);
    rec->remote_port = r->remote_port;
    rec->http_minor = r->http_minor;
}

/* Counts a broken expectation inside the handler: cmocka's assertions
 * must not run on the loop thread; fixture_stop() checks the count. */
static void handler_expect(struct fixture *f, bool ok)
{
    if (ok)
        return;
    pthread_mutex_lock(&f->mutex);
    f->handler_errors++;
    pthread_mutex_unlock(&f->mutex);
}

/* Defers the response and keeps its handle. */
static void handle_defer(struct fixture *f, struct http_response *response)
{
    struct http_deferred handle;
    handler_expect(f, http_response_defer(response, &handle) == 0);
    handler_expect(f, http_response_defer(response, &handle) ==
                          HTTP_E_ALREADY);
    handler_expect(f, http_response_json(response, 200, "{}") ==
                          HTTP_E_INVALID);
    pthread_mutex_lock(&f->mutex);
    if (f->deferred_count < FIXTURE_DEFERRED_MAX)
        f->deferred[f->deferred_count++] = handle;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mutex);
}

/* The test handler (loop thread): records, then routes by path. */
static void test_handler(void *ctx, const struct http_request *request,
                         struct http_response *response)
{
    struct fixture *f = ctx;
    pthread_mutex_lock(&f->mutex);
    record_request(f, request);
    size_t n = f->record_count;
    size_t big = f->big_body_bytes;
    pthread_mutex_unlock(&f->mutex);
    if (strcmp(request->path, "/defer") == 0) {
        handle_defer(f, response);
        return;
    }
    if (strcmp(request->path, "/none") == 0)
        return;
    if (strcmp(request->path, "/close-server") == 0) {
        http_server_close(f->server);
        f->server = NULL; /* job_close() then closes nothing twice */
        handler_expect(f, http_response_json(response, 200, "{}") ==
                              HTTP_E_INVALID);
        return;
    }
    if (strcmp(request->path, "/big") == 0) {
        char *body = malloc(big);
        handler_expect(f, body != NULL);
        if (body == NULL)
            return;
        memset(body, 'x', big);
        handler_expect(f, http_response_set(response, 200, "text/plain", body,
                                            big) == 0);
        free(body);
        return;
    }
    json_t *json = json_pack("{s:s,s:I}", "path", request->path, "n",
                             (json_int_t)n);
    if (json == NULL) { /* the path is not UTF-8 (hostile input test) */
        handler_expect(f, http_response_error(response, 400, "bad_path",
                                              "path is not UTF-8") == 0);
        return;
    }
    char *text = json_dumps(json, JSON_COMPACT);
    handler_expect(f, text != NULL &&
                          http_response_json(response, 200, text) == 0);
    free(text);
    json_decref(json);
}

/* Async callback: runs the posted job and signals its end. */
static void on_wake(uv_async_t *async)
{
    struct fixture *f = async->data;
    pthread_mutex_lock(&f->mutex);
    void (*job)(struct fixture *, void *) = f->job;
    void *arg = f->job_arg;
    bool pending = f->job_pending;
    f->job_pending = false;
    pthread_mutex_unlock(&f->mutex);
    if (!pending)
        return;
    job(f, arg);
    pthread_mutex_lock(&f->mutex);
    f->job_done = true;
    pthread_cond_broadcast(&f->cond);
    pthread_mutex_unlock(&f->mutex);
}

/* The server's thread: runs the loop until every handle is closed. */
static void *loop_thread(void *arg)
{
    struct fixture *f = arg;
    uv_run(&f->loop, UV_RUN_DEFAULT);
    return NULL;
}

struct fixture *fixture_try_start(const struct http_config *config)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    struct http_config c = *config;
    c.port = 0;
    int rc = http_server_create(&f->loop, &c, test_handler, f, &f->server);
    if (rc == HTTP_E_LISTEN) {
        uv_run(&f->loop, UV_RUN_DEFAULT); /* the listener's close */
        assert_int_equal(uv_loop_close(&f->loop), 0);
        free(f);
        return NULL;
    }
    assert_int_equal(rc, 0);
    pthread_mutex_init(&f->mutex, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cond, &attr);
    pthread_condattr_destroy(&attr);
    f->port = http_server_listen_port(f->server);
    assert_int_not_equal(f->port, 0);
    assert_int_equal(uv_async_init(&f->loop, &f->wake, on_wake), 0);
    f->wake.data = f;
    f->big_body_bytes = 1024;
    assert_int_equal(pthread_create(&f->thread, NULL, loop_thread, f), 0);
    f->thread_started = true;
    return f;
}

struct fixture *fixture_start(const struct http_config *config)
{
    struct fixture *f = fixture_try_start(config);
    assert_non_null(f);
    return f;
}

/* Waits on f->cond until *flag or the deadline; returns *flag. */
static bool wait_flag(struct fixture *f, bool *flag, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (!*flag)
        if (pthread_cond_timedwait(&f->cond, &f->mutex, &deadline) == ETIMEDOUT)
            break;
    return *flag;
}

void fixture_run(struct fixture *f, void (*job)(struct fixture *, void *),
                 void *arg)
{
    pthread_mutex_lock(&f->mutex);
    f->job = job;
    f->job_arg = arg;
    f->job_pending = true;
    f->job_done = false;
    pthread_mutex_unlock(&f->mutex);
    uv_async_send(&f->wake);
    pthread_mutex_lock(&f->mutex);
    bool done = wait_flag(f, &f->job_done, TEST_DEADLINE_MS);
    pthread_mutex_unlock(&f->mutex);
    assert_true(done);
}

/* Loop-thread job: closes the server and the wake-up handle. */
static void job_close(struct fixture *f, void *arg)
{
    (void)arg;
    http_server_close(f->server);
    f->server = NULL;
    uv_close((uv_handle_t *)&f->wake, NULL);
}

void fixture_stop(struct fixture *f)
{
    fixture_run(f, job_close, NULL);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += TEST_DEADLINE_MS / 1000;
    assert_int_equal(pthread_timedjoin_np(f->thread, NULL, &deadline), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    assert_int_equal(f->handler_errors, 0);
    pthread_cond_destroy(&f->cond);
    pthread_mutex_destroy(&f->mutex);
    free(f);
}

/* Loop-thread job: copies the counters. */
static void job_stats(struct fixture *f, void *arg)
{
    http_server_stats(f->server, arg);
}

void fixture_stats(struct fixture *f, struct http_stats *out)
{
    fixture_run(f, job_stats, out);
}

size_t fixture_record_count(struct fixture *f)
{
    pthread_mutex_lock(&f->mutex);
    size_t n = f->record_count;
    pthread_mutex_unlock(&f->mutex);
    return n;
}

void fixture_record(struct fixture *f, size_t i, struct record *out)
{
    pthread_mutex_lock(&f->mutex);
    assert_in_range(i, 0, f->record_count - 1);
    *out = f->records[i];
    pthread_mutex_unlock(&f->mutex);
}

/* Waits on the condition variable until enough requests were deferred. */
void fixture_wait_deferred(struct fixture *f, size_t count)
{
    int64_t deadline = now_ms() + TEST_DEADLINE_MS;
    pthread_mutex_lock(&f->mutex);
    while (f->deferred_count < count && now_ms() < deadline) {
        bool never = false;
        wait_flag(f, &never, 50); /* woken by the handler's broadcast */
    }
    size_t got = f->deferred_count;
    pthread_mutex_unlock(&f->mutex);
    assert_int_equal(got, count);
}

struct respond_job {
    size_t index;
    int status;
    const char *json;
    int rc;
};

/* Loop-thread job: answers one deferred request. */
static void job_respond(struct fixture *f, void *arg)
{
    struct respond_job *job = arg;
    pthread_mutex_lock(&f->mutex);
    struct http_deferred handle = f->deferred[job->index];
    pthread_mutex_unlock(&f->mutex);
    job->rc = http_respond_json(handle, job->status, job->json);
}

int fixture_respond(struct fixture *f, size_t i, int status, const char *json)
{
    struct respond_job job = {.index = i, .status = status, .json = json};
    fixture_run(f, job_respond, &job);
    return job.rc;
}

/* ---- client ---- */

/* Connects a client socket to addr; fails the test on error. */
static struct client *client_connect_to(const struct sockaddr *addr,
                                        socklen_t len)
{
    struct client *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    int rc = connect(c->fd, addr, len);
    assert_int_equal(rc, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return c;
}

struct client *client_connect(uint16_t port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    return client_connect_to((struct sockaddr *)&addr, sizeof addr);
}

struct client *client_connect6(uint16_t port)
{
    struct sockaddr_in6 addr = {.sin6_family = AF_INET6,
                                .sin6_port = htons(port),
                                .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    return client_connect_to((struct sockaddr *)&addr, sizeof addr);
}

bool client_send(struct client *c, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool client_send_text(struct client *c, const char *text)
{
    return client_send(c, text, strlen(text));
}

/* Reads what is available within the deadline into c->buf.  Returns >0
 * bytes read, 0 on EOF or reset, -2 on timeout. */
static int client_fill(struct client *c, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -2;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return -2;
        if (c->len == sizeof c->buf)
            c->len = 0; /* discard: only client_wait_closed fills it so */
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        c->len += (size_t)n;
        return (int)n;
    }
}

/* Copies the value of header name from the head text into dst. */
static void head_value(const char *head, const char *name, char *dst,
                       size_t cap)
{
    dst[0] = '\0';
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line != NULL;
         line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_len) == 0 && start[name_len] == ':') {
            const char *v = start + name_len + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            if (len >= cap)
                len = cap - 1;
            memcpy(dst, v, len);
            dst[len] = '\0';
            return;
        }
    }
}

/* Parses a complete head (up to and excluding the blank line). */
static void reply_parse_head(struct reply *r, const char *head)
{
    r->status = 0;
    sscanf(head, "HTTP/1.%*d %d", &r->status);
    head_value(head, "Connection", r->connection, sizeof r->connection);
    head_value(head, "Content-Type", r->content_type, sizeof r->content_type);
    head_value(head, "Cache-Control", r->cache_control,
               sizeof r->cache_control);
    char length[32];
    head_value(head, "Content-Length", length, sizeof length);
    r->content_length = length[0] != '\0' ? strtol(length, NULL, 10) : -1;
}

/* Reads one response; a response to HEAD has no body whatever its
 * Content-Length says. */
static int read_reply(struct client *c, int timeout_ms, bool to_head,
                      struct reply *out)
{
    int64_t deadline = now_ms() + timeout_ms;
    memset(out, 0, sizeof *out);
    for (;;) {
        char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (end != NULL) {
            size_t head_len = (size_t)(end - c->buf) + 4;
            char head[8192];
            size_t copy = head_len < sizeof head ? head_len : sizeof head - 1;
            memcpy(head, c->buf, copy);
            head[copy] = '\0';
            reply_parse_head(out, head);
            size_t body = out->content_length > 0 && !to_head
                              ? (size_t)out->content_length
                              : 0;
            assert_true(body < sizeof out->body);
            if (c->len >= head_len + body) {
                memcpy(out->body, c->buf + head_len, body);
                out->body[body] = '\0';
                out->body_len = body;
                memmove(c->buf, c->buf + head_len + body,
                        c->len - head_len - body);
                c->len -= head_len + body;
                return 0;
            }
        }
        int rc = client_fill(c, deadline);
        if (rc == 0)
            return -1;
        if (rc < 0)
            return rc;
    }
}

int client_read_reply(struct client *c, int timeout_ms, struct reply *out)
{
    return read_reply(c, timeout_ms, false, out);
}

int client_read_head_reply(struct client *c, int timeout_ms, struct reply *out)
{
    return read_reply(c, timeout_ms, true, out);
}

bool client_wait_closed(struct client *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int rc = client_fill(c, deadline);
        if (rc == 0)
            return true;
        if (rc < 0)
            return false;
        c->len = 0;
    }
}

void client_close(struct client *c)
{
    if (c == NULL)
        return;
    close(c->fd);
    free(c);
}

void assert_error_json(const struct reply *r, const char *code)
{
    assert_string_equal(r->content_type, "application/json");
    json_error_t error;
    json_t *root = json_loadb(r->body, r->body_len, 0, &error);
    if (root == NULL)
        fail_msg("not JSON: %s (%s)", r->body, error.text);
    const char *got = NULL, *message = NULL;
    int rc = json_unpack(root, "{s:{s:s,s:s}}", "error", "code", &got,
                         "message", &message);
    assert_int_equal(rc, 0);
    assert_string_equal(got, code);
    assert_true(strlen(message) > 0);
    json_decref(root);
}
