/*
 * http.c — the HTTP/1.1 server of node/http/http.h: libuv TCP, http-parser for
 * requests, jansson for the server's own JSON errors.
 *
 * How a connection moves (enum conn_state):
 *
 *   IDLE ──first byte of a request──▶ RECEIVING ──message complete──▶
 *   HANDLING (handler runs) ──response set──▶ IDLE (keep-alive) or CLOSING
 *                           └─deferred──▶ DEFERRED ──http_respond──▶ same
 *   any ──uv_close──▶ CLOSED (memory freed when both handles closed)
 *
 * One timer per connection serves the state it is in: idle_timeout_ms in
 * IDLE (also the time a client gets to drain our output), request_timeout_ms
 * from the first byte of a request to its last (slowloris), response
 * timeout in DEFERRED, a short linger in CLOSING.
 *
 * Bytes are read into a fixed per-connection input buffer and fed to the
 * parser, which pauses itself at the end of every message; the request is
 * dispatched, answered, and only then is the next pipelined request parsed
 * — and only once libuv handed the previous response to the kernel
 * (backpressure), so a connection never holds more than one response of at
 * most output_bytes_max.  Closing after an error or "Connection: close" is a
 * lingering close: shut down our side after the response, read and discard
 * what the client still sends until its FIN (bounded in time and bytes), so
 * the client reads the response instead of a reset.
 *
 * Read next: node/http/http.h (what it promises), spec/api.md (Transport),
 * tests/http/test_http.c.
 */
#include "http.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>
#include <jansson.h>
#include <sodium.h>

/* Per-connection read buffer: unparsed input, mostly pipelined requests. */
#define HTTP_INPUT_BYTES 16384u
#define HTTP_LISTEN_BACKLOG 128
/* Connections being told 503 at once; beyond this they are closed bare. */
#define HTTP_REFUSING_MAX 64u
/* After our last response: how long and how much we read and discard while
 * waiting for the client's FIN. */
#define HTTP_LINGER_MS 1000u
#define HTTP_LINGER_BYTES_MAX (256u << 10)
/* Status line and the server's headers, without the content type. */
#define HTTP_HEAD_BYTES_MAX (200u + HTTP_CONTENT_TYPE_BYTES_MAX)
/* Header-byte overhead counted per header line (": " and CRLF) and for the
 * request line (method, spaces, version, CRLF). */
#define HTTP_HEADER_LINE_OVERHEAD 4u
#define HTTP_REQUEST_LINE_OVERHEAD 20u
#define HTTP_SLOT_NONE UINT32_MAX

enum conn_state {
    CONN_IDLE,      /* between requests */
    CONN_RECEIVING, /* a request has begun */
    CONN_HANDLING,  /* the handler runs */
    CONN_DEFERRED,  /* waiting for http_respond() */
    CONN_CLOSING,   /* last response queued: shutdown, discard, wait FIN */
    CONN_CLOSED,    /* uv_close() called */
};

/* One response on its way: the uv_write request and the bytes it sends. */
struct output {
    uv_write_t req;
    struct conn *conn;
    size_t len;
    char data[];
};

struct http_response {
    struct conn *conn;
    struct output *out; /* composed, not yet queued */
    bool out_keep_alive;      /* what out's Connection header says */
    bool deferred;
};

/* Where each part of the request sits in the arena. */
enum request_part { PART_NONE, PART_URL, PART_FIELD, PART_VALUE };

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shutdown;
    struct http_server *server;
    struct conn *prev, *next; /* server's list of live connections */
    uint32_t slot;                  /* HTTP_SLOT_NONE: being refused */
    int handles_open;
    enum conn_state state;
    bool reading, eof, keep_alive, head_request;
    uint32_t requests_count;
    uint64_t deferred_generation; /* 0: nothing deferred */
    uint64_t linger_bytes;
    http_parser parser;
    /* Error found inside a parser callback, answered after it returns. */
    int error_status;
    const char *error_code, *error_message;
    /* The request being parsed: url, names and values, NUL-terminated. */
    char *arena;
    size_t arena_len, arena_cap, header_bytes, header_count;
    enum request_part part;
    const char *path, *query; /* into the arena, set by headers_complete */
    size_t header_name_off[HTTP_HEADERS_MAX], header_value_off[HTTP_HEADERS_MAX];
    uint8_t *body;
    size_t body_len, body_cap;
    struct http_response response;
    char remote_address[HTTP_ADDRESS_TEXT_MAX];
    uint16_t remote_port;
    size_t in_len;
    char in[HTTP_INPUT_BYTES];
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct http_config config; /* config.host is not kept: read once */
    http_handler handler;
    void *ctx;
    bool listening, stopping, closing;
    uint64_t handles_open;  /* listener + connection structs not yet freed */
    struct conn *conns; /* every connection not CLOSED */
    struct conn **slots;
    uint32_t *free_slots;   /* stack of free slot indexes */
    uint32_t free_count;
    uint32_t refusing;
    uint64_t generation;    /* last deferred generation handed out */
    struct http_stats stats;
};

static const uint8_t http_empty_body[1];

static void conn_process(struct conn *conn);
static void conn_close(struct conn *conn);

/* ---- error table ------------------------------------------------------ */

/* Returns the sentence for code, or a generic one for unknown codes. */
const char *http_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define HTTP_ERROR_MESSAGE(name, value, message)                               \
    case value:                                                               \
        return message;
        HTTP_ERRORS(HTTP_ERROR_MESSAGE)
#undef HTTP_ERROR_MESSAGE
    default:
        return "unknown http error";
    }
}

/* Returns the code's name, "HTTP_OK" for 0, or "HTTP_E_UNKNOWN". */
const char *http_errname(int code)
{
    switch (code) {
    case 0:
        return "HTTP_OK";
#define HTTP_ERROR_NAME(name, value, message)                                  \
    case value:                                                               \
        return #name;
        HTTP_ERRORS(HTTP_ERROR_NAME)
#undef HTTP_ERROR_NAME
    default:
        return "HTTP_E_UNKNOWN";
    }
}

/* Fills *config with the defaults written in spec/api.md. */
void http_config_default(struct http_config *config)
{
    *config = (struct http_config){
        .host = "127.0.0.1",
        .port = 0,
        .connections_max = 256,
        .header_bytes_max = 16384,
        .body_bytes_max = 64u << 10,
        .output_bytes_max = 8u << 20,
        .request_timeout_ms = 10000,
        .idle_timeout_ms = 30000,
        .response_timeout_ms = 60000,
        .requests_per_connection_max = 1000,
    };
}

/* Returns true when every field is inside its bounds (http.h). */
static bool config_is_valid(const struct http_config *c)
{
    return c->connections_max >= 1 &&
           c->connections_max <= HTTP_CONNECTIONS_MAX_LIMIT &&
           c->header_bytes_max >= HTTP_HEADER_BYTES_MIN &&
           c->header_bytes_max <= HTTP_HEADER_BYTES_MAX_LIMIT &&
           c->body_bytes_max >= 1 &&
           c->body_bytes_max <= HTTP_BODY_BYTES_MAX_LIMIT &&
           c->output_bytes_max >= HTTP_OUTPUT_BYTES_MIN &&
           c->request_timeout_ms >= 1 && c->idle_timeout_ms >= 1 &&
           c->response_timeout_ms >= 1 &&
           c->requests_per_connection_max >= 1;
}

/* ---- responses --------------------------------------------------------- */

/* Returns the reason phrase for status, "" for codes http-parser does not
 * name (the phrase is optional in HTTP/1.1). */
static const char *status_reason(int status)
{
    const char *reason = http_status_str((enum http_status)status);
    return reason[0] == '<' ? "" : reason;
}

/* Returns true when text is a header value we may send: short, printable,
 * no CR/LF (header injection). */
static bool content_type_is_valid(const char *text)
{
    size_t len = strlen(text);
    if (len == 0 || len > HTTP_CONTENT_TYPE_BYTES_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Builds the bytes of one response (status line, our headers, body) for
 * conn's current request into *out.  HEAD gets the headers only; 204 and
 * 304 carry no body and no Content-Length.  Returns 0, HTTP_E_INVALID,
 * HTTP_E_TOO_LARGE or HTTP_E_NOMEM. */
static int output_compose(const struct conn *conn, int status,
                          const char *content_type, const void *body,
                          size_t body_len, bool keep_alive,
                          struct output **out)
{
    if (status < 200 || status > 599 || (body == NULL && body_len > 0))
        return HTTP_E_INVALID;
    if (content_type == NULL)
        content_type = "application/json";
    if (!content_type_is_valid(content_type))
        return HTTP_E_INVALID;
    bool bodiless = status == 204 || status == 304;
    if (bodiless && body_len > 0)
        return HTTP_E_INVALID;
    char head[HTTP_HEAD_BYTES_MAX + 1];
    char length_line[48] = "";
    if (!bodiless)
        snprintf(length_line, sizeof length_line,
                 "Content-Length: %zu\r\n", body_len);
    int head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s"
                            "Connection: %s\r\nCache-Control: no-store\r\n\r\n",
                            status, status_reason(status), content_type,
                            length_line, keep_alive ? "keep-alive" : "close");
    assert(head_len > 0 && (size_t)head_len < sizeof head);
    size_t send_len = conn->head_request || bodiless ? 0 : body_len;
    size_t total = (size_t)head_len + send_len;
    if (body_len > conn->server->config.output_bytes_max ||
        total > conn->server->config.output_bytes_max)
        return HTTP_E_TOO_LARGE;
    struct output *o = malloc(sizeof *o + total);
    if (o == NULL)
        return HTTP_E_NOMEM;
    memcpy(o->data, head, (size_t)head_len);
    if (send_len > 0)
        memcpy(o->data + head_len, body, send_len);
    o->len = total;
    o->conn = NULL;
    *out = o;
    return 0;
}

/* Returns a malloc'ed {"error":{"code":...,"message":...}} or NULL (no
 * memory, or strings that are not UTF-8). */
static char *error_json(const char *code, const char *message)
{
    json_t *root = json_pack("{s:{s:s,s:s}}", "error", "code", code,
                             "message", message);
    if (root == NULL)
        return NULL;
    char *text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}

/* Returns true when the response to conn's current request may keep the
 * connection open. */
static bool conn_keeps_alive(const struct conn *conn)
{
    const struct http_server *server = conn->server;
    return conn->keep_alive && !conn->eof && !server->stopping &&
           conn->requests_count < server->config.requests_per_connection_max;
}

/* ---- connection lifecycle --------------------------------------------- */

/* Frees a connection once both its handles reported closed; frees the
 * server too when it was closing and this was its last handle. */
static void server_handle_released(struct http_server *server)
{
    assert(server->handles_open > 0);
    server->handles_open--;
    if (server->closing && server->handles_open == 0) {
        free(server->slots);
        free(server->free_slots);
        free(server);
    }
}

/* Close callback of both connection handles. */
static void conn_on_handle_closed(uv_handle_t *handle)
{
    struct conn *conn = handle->data;
    if (--conn->handles_open > 0)
        return;
    struct http_server *server = conn->server;
    free(conn->response.out);
    free(conn->body);
    /* Request heads carry Authorization tokens: wipe what is left. */
    if (conn->arena != NULL)
        sodium_memzero(conn->arena, conn->arena_cap);
    free(conn->arena);
    sodium_memzero(conn->in, sizeof conn->in);
    free(conn);
    server_handle_released(server);
}

/* Closes conn now: its slot is freed at once (its deferred handle goes
 * stale), its memory when libuv reports both handles closed.  Queued
 * writes are cancelled.  Idempotent. */
static void conn_close(struct conn *conn)
{
    if (conn->state == CONN_CLOSED)
        return;
    struct http_server *server = conn->server;
    if (conn->state == CONN_DEFERRED)
        server->stats.deferred_pending--;
    conn->state = CONN_CLOSED;
    conn->deferred_generation = 0;
    if (conn->slot != HTTP_SLOT_NONE) {
        server->slots[conn->slot] = NULL;
        server->free_slots[server->free_count++] = conn->slot;
        server->stats.connections_open--;
    } else {
        server->refusing--;
    }
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        server->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
    uv_close((uv_handle_t *)&conn->tcp, conn_on_handle_closed);
    uv_close((uv_handle_t *)&conn->timer, conn_on_handle_closed);
}

static void conn_on_timer(uv_timer_t *timer);

/* (Re)arms conn's one timer for timeout_ms. */
static void conn_arm_timer(struct conn *conn, uint32_t timeout_ms)
{
    uv_timer_start(&conn->timer, conn_on_timer, timeout_ms, 0);
}

static void conn_on_alloc(uv_handle_t *handle, size_t suggested,
                          uv_buf_t *buf);
static void conn_on_read(uv_stream_t *stream, ssize_t nread,
                         const uv_buf_t *buf);

/* Reads while there is room for input (always while closing: that input is
 * discarded) and the client has not closed its side. */
static void conn_update_reading(struct conn *conn)
{
    if (conn->state == CONN_CLOSED)
        return;
    bool want = !conn->eof && (conn->state == CONN_CLOSING ||
                               conn->in_len < HTTP_INPUT_BYTES);
    if (want && !conn->reading) {
        if (uv_read_start((uv_stream_t *)&conn->tcp, conn_on_alloc,
                          conn_on_read) < 0) {
            conn_close(conn);
            return;
        }
        conn->reading = true;
    } else if (!want && conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = false;
    }
}

/* Shutdown callback: our side is closed after the last response.  When
 * the client had closed its side already there is nothing to wait for; a
 * failure other than cancellation means the socket is gone. */
static void conn_on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *conn = req->data;
    if ((status < 0 && status != UV_ECANCELED) || (status == 0 && conn->eof))
        conn_close(conn);
}

/* Starts the lingering close: after the queued output, shut down our side,
 * then read and discard until the client's FIN or HTTP_LINGER_MS. */
static void conn_begin_closing(struct conn *conn)
{
    if (conn->state == CONN_CLOSED || conn->state == CONN_CLOSING)
        return;
    assert(conn->state != CONN_DEFERRED);
    conn->state = CONN_CLOSING;
    conn->in_len = 0;
    conn_arm_timer(conn, HTTP_LINGER_MS);
    conn->shutdown.data = conn;
    if (uv_shutdown(&conn->shutdown, (uv_stream_t *)&conn->tcp,
                    conn_on_shutdown) < 0) {
        conn_close(conn);
        return;
    }
    conn_update_reading(conn);
}

/* Write callback: frees the output; once everything was handed to the
 * kernel, the next pipelined request may be parsed. */
static void conn_on_write(uv_write_t *req, int status)
{
    struct output *out = (struct output *)req;
    struct conn *conn = out->conn;
    free(out);
    if (conn->state == CONN_CLOSED)
        return;
    if (status < 0) {
        conn_close(conn);
        return;
    }
    if (conn->state == CONN_IDLE || conn->state == CONN_RECEIVING) {
        conn_process(conn);
        conn_update_reading(conn);
    }
}

/* Queues out on conn's socket; out is owned by libuv until conn_on_write.
 * Returns 0, or HTTP_E_GONE after closing conn when libuv refused. */
static int conn_queue(struct conn *conn, struct output *out)
{
    out->conn = conn;
    uv_buf_t buf = uv_buf_init(out->data, (unsigned int)out->len);
    if (uv_write(&out->req, (uv_stream_t *)&conn->tcp, &buf, 1,
                 conn_on_write) < 0) {
        free(out);
        conn_close(conn);
        return HTTP_E_GONE;
    }
    return 0;
}

/* Sends an error produced by the server itself, as JSON, and closes. */
static void conn_send_error(struct conn *conn, int status,
                            const char *code, const char *message)
{
    conn->server->stats.errors++;
    char *json = error_json(code, message);
    struct output *out = NULL;
    if (json != NULL &&
        output_compose(conn, status, NULL, json, strlen(json), false, &out) == 0)
        conn_queue(conn, out);
    free(json);
    conn_begin_closing(conn);
}

/* Ends the current request after its response was queued: keep the
 * connection for the next request or close it, as the response said. */
static void conn_finish_request(struct conn *conn, bool keep_alive)
{
    free(conn->body);
    conn->body = NULL;
    conn->body_len = conn->body_cap = 0;
    conn->response = (struct http_response){.conn = conn};
    if (conn->state == CONN_CLOSED)
        return;
    if (!keep_alive) {
        conn_begin_closing(conn);
        return;
    }
    conn->state = CONN_IDLE;
    conn_arm_timer(conn, conn->server->config.idle_timeout_ms);
}

/* Answers the current request with the server's 500 "internal" (the
 * request was read whole, so the connection may be kept). */
static void conn_send_internal(struct conn *conn, const char *message)
{
    conn->server->stats.errors++;
    bool keep = conn_keeps_alive(conn);
    char *json = error_json("internal", message);
    struct output *out = NULL;
    if (json == NULL ||
        output_compose(conn, 500, NULL, json, strlen(json), keep, &out) != 0) {
        free(json);
        conn_close(conn);
        return;
    }
    free(json);
    if (conn_queue(conn, out) == 0)
        conn_finish_request(conn, keep);
}

/* ---- parser callbacks ------------------------------------------------- */

/* Records an error to answer once the parser returns; returns the value
 * that makes http-parser stop (-1 works for every callback). */
static int parse_fail(struct conn *conn, int status, const char *code,
                      const char *message)
{
    if (conn->error_status == 0) {
        conn->error_status = status;
        conn->error_code = code;
        conn->error_message = message;
    }
    return -1;
}

/* Appends a piece of the url, a header name or value to the arena,
 * starting a new part when the kind changes.  Returns 0 or -1 (431). */
static int arena_append(struct conn *conn, enum request_part part,
                        const char *data, size_t len)
{
    if (conn->part != part) {
        if (conn->part != PART_NONE)
            conn->arena[conn->arena_len++] = '\0';
        if (part == PART_FIELD) {
            if (conn->header_count == HTTP_HEADERS_MAX)
                return parse_fail(conn, 431, "header_too_large",
                                  "too many header lines");
            conn->header_value_off[conn->header_count] = SIZE_MAX;
            conn->header_name_off[conn->header_count++] = conn->arena_len;
            conn->header_bytes += HTTP_HEADER_LINE_OVERHEAD;
        } else if (part == PART_VALUE) {
            conn->header_value_off[conn->header_count - 1] = conn->arena_len;
        }
        conn->part = part;
    }
    conn->header_bytes += len;
    if (conn->header_bytes > conn->server->config.header_bytes_max)
        return parse_fail(conn, 431, "header_too_large",
                          "request line and headers exceed header_bytes_max");
    /* header_bytes bounds the data; the NULs fit in the arena's reserve. */
    assert(conn->arena_len + len + 1 <= conn->arena_cap);
    memcpy(conn->arena + conn->arena_len, data, len);
    conn->arena_len += len;
    return 0;
}

/* A request begins: reset its state and start the request deadline
 * (slowloris: the whole request must arrive within request_timeout_ms). */
static int on_message_begin(http_parser *parser)
{
    struct conn *conn = parser->data;
    conn->state = CONN_RECEIVING;
    conn->arena_len = 0;
    conn->header_count = 0;
    conn->header_bytes = HTTP_REQUEST_LINE_OVERHEAD;
    conn->part = PART_NONE;
    conn->head_request = false;
    conn_arm_timer(conn, conn->server->config.request_timeout_ms);
    return 0;
}

/* A piece of the request target. */
static int on_url(http_parser *parser, const char *at, size_t len)
{
    return arena_append(parser->data, PART_URL, at, len);
}

/* A piece of a header name. */
static int on_header_field(http_parser *parser, const char *at, size_t len)
{
    return arena_append(parser->data, PART_FIELD, at, len);
}

/* A piece of a header value (empty values come as one empty piece). */
static int on_header_value(http_parser *parser, const char *at, size_t len)
{
    struct conn *conn = parser->data;
    if (conn->header_count == 0)
        return parse_fail(conn, 400, "bad_request", "header value first");
    return arena_append(conn, PART_VALUE, at, len);
}

/* Returns the value of conn's first header called name, or NULL. */
static const char *conn_header(const struct conn *conn, const char *name)
{
    for (size_t i = 0; i < conn->header_count; i++)
        if (strcasecmp(conn->arena + conn->header_name_off[i], name) == 0)
            return conn->arena + conn->header_value_off[i];
    return NULL;
}

/* Terminates the last part, gives empty values their "", trims trailing
 * blanks, and splits the url into path and query (the fragment, which
 * clients should not send, is dropped).  Returns 0 or -1 (400). */
static int request_finish_head(struct conn *conn)
{
    conn->arena[conn->arena_len++] = '\0';
    conn->part = PART_NONE;
    for (size_t i = 0; i < conn->header_count; i++) {
        char *name = conn->arena + conn->header_name_off[i];
        if (conn->header_value_off[i] == SIZE_MAX)
            conn->header_value_off[i] = conn->header_name_off[i] + strlen(name);
        char *value = conn->arena + conn->header_value_off[i];
        size_t len = strlen(value);
        while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
            value[--len] = '\0';
    }
    char *url = conn->arena;
    if (url[0] != '/')
        return parse_fail(conn, 400, "bad_request",
                          "request target must be a path starting with '/'");
    char *fragment = strchr(url, '#');
    if (fragment != NULL)
        *fragment = '\0';
    char *question = strchr(url, '?');
    conn->path = url;
    conn->query = "";
    if (question != NULL) {
        *question = '\0';
        conn->query = question + 1;
    }
    return 0;
}

/* Writes "100 Continue" ahead of the response (it is queued before it). */
static int conn_send_continue(struct conn *conn)
{
    static const char text[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct output *out = malloc(sizeof *out + sizeof text - 1);
    if (out == NULL)
        return parse_fail(conn, 500, "internal", "out of memory");
    memcpy(out->data, text, sizeof text - 1);
    out->len = sizeof text - 1;
    return conn_queue(conn, out) == 0 ? 0 : -1;
}

/* Checks what the head announces (length, chunking, expectations) and
 * prepares the body buffer.  Returns 0, or -1 with the error recorded
 * (http-parser reads 1 and 2 as "skip body", so -1 it is). */
static int on_headers_complete(http_parser *parser)
{
    struct conn *conn = parser->data;
    const struct http_config *config = &conn->server->config;
    if (request_finish_head(conn) < 0)
        return -1;
    if (parser->http_major != 1)
        return parse_fail(conn, 400, "bad_request", "only HTTP/1.x is served");
    conn->head_request = parser->method == HTTP_HEAD;
    conn->keep_alive = http_should_keep_alive(parser) && !parser->upgrade;
    if (parser->flags & F_CHUNKED)
        return parse_fail(conn, 411, "length_required",
                          "chunked request bodies are not accepted: "
                          "send Content-Length");
    uint64_t length = (parser->flags & F_CONTENTLENGTH) ? parser->content_length
                                                        : 0;
    if (length > config->body_bytes_max)
        return parse_fail(conn, 413, "body_too_large",
                          "Content-Length exceeds body_bytes_max");
    const char *expect = conn_header(conn, "Expect");
    if (expect != NULL) {
        if (strcasecmp(expect, "100-continue") != 0)
            return parse_fail(conn, 417, "expectation_failed",
                              "only Expect: 100-continue is understood");
        if (parser->http_minor >= 1 && length > 0 &&
            conn_send_continue(conn) < 0)
            return -1;
    }
    if (length > 0) {
        conn->body = malloc((size_t)length);
        if (conn->body == NULL)
            return parse_fail(conn, 500, "internal", "out of memory");
        conn->body_cap = (size_t)length;
    }
    conn->body_len = 0;
    return 0;
}

/* A piece of the body, copied into the buffer sized by Content-Length. */
static int on_body(http_parser *parser, const char *at, size_t len)
{
    struct conn *conn = parser->data;
    /* http-parser never delivers more than Content-Length bytes. */
    assert(conn->body_len + len <= conn->body_cap);
    memcpy(conn->body + conn->body_len, at, len);
    conn->body_len += len;
    return 0;
}

/* Pauses the parser after each message so that the request is answered
 * before the next pipelined one is parsed. */
static int on_message_complete(http_parser *parser)
{
    http_parser_pause(parser, 1);
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ---- requests --------------------------------------------------------- */

/* Maps http-parser's method to the API's enum. */
static enum http_request_method method_of(unsigned int method)
{
    switch (method) {
    case HTTP_GET:
        return HTTP_METHOD_GET;
    case HTTP_HEAD:
        return HTTP_METHOD_HEAD;
    case HTTP_POST:
        return HTTP_METHOD_POST;
    case HTTP_PUT:
        return HTTP_METHOD_PUT;
    case HTTP_DELETE:
        return HTTP_METHOD_DELETE;
    case HTTP_PATCH:
        return HTTP_METHOD_PATCH;
    case HTTP_OPTIONS:
        return HTTP_METHOD_OPTIONS;
    default:
        return HTTP_METHOD_OTHER;
    }
}

/* Fills *request (and headers[]) from conn's parsed request. */
static void request_build(const struct conn *conn,
                          struct http_request *request,
                          struct http_header *headers)
{
    for (size_t i = 0; i < conn->header_count; i++)
        headers[i] = (struct http_header){
            .name = conn->arena + conn->header_name_off[i],
            .value = conn->arena + conn->header_value_off[i],
        };
    *request = (struct http_request){
        .method = method_of(conn->parser.method),
        .method_name = http_method_str((enum http_method)conn->parser.method),
        .path = conn->path,
        .query = conn->query,
        .authorization = conn_header(conn, "Authorization"),
        .content_type = conn_header(conn, "Content-Type"),
        .accept = conn_header(conn, "Accept"),
        .headers = headers,
        .header_count = conn->header_count,
        .body = conn->body != NULL ? conn->body : http_empty_body,
        .body_len = conn->body_len,
        .remote_port = conn->remote_port,
        .http_minor = (uint8_t)conn->parser.http_minor,
    };
    memcpy(request->remote_address, conn->remote_address,
           sizeof request->remote_address);
}

/* Returns the value of the first header called name, or NULL. */
const char *http_request_header(const struct http_request *request,
                                const char *name)
{
    if (request == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < request->header_count; i++)
        if (strcasecmp(request->headers[i].name, name) == 0)
            return request->headers[i].value;
    return NULL;
}

/* Runs the handler on the complete request and sends what it set, unless
 * it deferred the response or closed the connection meanwhile. */
static void conn_dispatch(struct conn *conn)
{
    struct http_server *server = conn->server;
    struct http_header headers[HTTP_HEADERS_MAX];
    struct http_request request;
    request_build(conn, &request, headers);
    conn->requests_count++;
    server->stats.requests++;
    conn->state = CONN_HANDLING;
    uv_timer_stop(&conn->timer);
    conn->response = (struct http_response){.conn = conn};
    server->handler(server->ctx, &request, &conn->response);
    /* The request is gone for the handler; its Authorization goes too. */
    sodium_memzero(conn->arena, conn->arena_len);
    sodium_memzero(headers, sizeof headers);
    if (conn->state == CONN_CLOSED)
        return;
    if (conn->response.deferred) {
        conn->state = CONN_DEFERRED;
        conn_arm_timer(conn, server->config.response_timeout_ms);
        return;
    }
    struct output *out = conn->response.out;
    if (out == NULL) {
        conn_send_internal(conn, "the handler gave no response");
        return;
    }
    bool keep = conn->response.out_keep_alive;
    conn->response.out = NULL;
    if (conn_queue(conn, out) == 0)
        conn_finish_request(conn, keep);
}

/* Answers a parse error: the one a callback recorded, else by errno. */
static void conn_fail_parse(struct conn *conn, enum http_errno err)
{
    if (conn->error_status != 0) {
        int status = conn->error_status;
        conn->error_status = 0;
        conn_send_error(conn, status, conn->error_code, conn->error_message);
    } else if (err == HPE_HEADER_OVERFLOW) {
        conn_send_error(conn, 431, "header_too_large",
                        "request line and headers are too large");
    } else {
        conn_send_error(conn, 400, "bad_request", http_errno_description(err));
    }
}

/* Drops the first n input bytes (the parser consumed them). */
static void input_consume(struct conn *conn, size_t n)
{
    assert(n <= conn->in_len);
    memmove(conn->in, conn->in + n, conn->in_len - n);
    conn->in_len -= n;
    sodium_memzero(conn->in + conn->in_len, n); /* tokens do not linger */
}

/* Parses buffered input and answers each complete request, in order,
 * while the connection can take one: not waiting for a response, and
 * nothing left in libuv's write queue (backpressure on clients that do
 * not read).  Every turn consumes input or stops, so it ends. */
static void conn_process(struct conn *conn)
{
    uv_stream_t *stream = (uv_stream_t *)&conn->tcp;
    while ((conn->state == CONN_IDLE || conn->state == CONN_RECEIVING) &&
           conn->in_len > 0 && uv_stream_get_write_queue_size(stream) == 0) {
        size_t n = http_parser_execute(&conn->parser, &parser_settings,
                                       conn->in, conn->in_len);
        enum http_errno err = HTTP_PARSER_ERRNO(&conn->parser);
        if (conn->state == CONN_CLOSED)
            return;
        input_consume(conn, n > conn->in_len ? conn->in_len : n);
        if (err == HPE_PAUSED) {
            http_parser_pause(&conn->parser, 0);
            conn_dispatch(conn);
        } else if (err != HPE_OK) {
            conn_fail_parse(conn, err);
            return;
        } else if (n == 0) {
            break;
        }
    }
    bool quiet = uv_stream_get_write_queue_size(stream) == 0;
    if (conn->state == CONN_IDLE && quiet && conn->in_len == 0 &&
        (conn->eof || conn->server->stopping))
        conn_close(conn);
    else if (conn->state == CONN_RECEIVING && conn->eof)
        conn_close(conn); /* the client went away mid-request */
}

/* ---- reading and timers ----------------------------------------------- */

/* Lends libuv the free tail of the input buffer, or all of it while
 * closing (that input is discarded). */
static void conn_on_alloc(uv_handle_t *handle, size_t suggested,
                          uv_buf_t *buf)
{
    (void)suggested;
    struct conn *conn = handle->data;
    if (conn->state == CONN_CLOSING || conn->state == CONN_CLOSED) {
        *buf = uv_buf_init(conn->in, HTTP_INPUT_BYTES);
        return;
    }
    *buf = uv_buf_init(conn->in + conn->in_len,
                       (unsigned int)(HTTP_INPUT_BYTES - conn->in_len));
}

/* The client closed its side (or the socket failed).  A client waiting
 * for a deferred response that closes has gone away (long-poll abort);
 * otherwise what it sent before its FIN is still answered. */
static void conn_on_eof(struct conn *conn, ssize_t nread)
{
    if (nread != UV_EOF || conn->state == CONN_CLOSING ||
        conn->state == CONN_DEFERRED) {
        conn_close(conn);
        return;
    }
    conn->eof = true;
    conn_update_reading(conn);
    conn_process(conn);
}

/* Read callback: bytes land in the input buffer (conn_on_alloc) and are
 * parsed, kept for later while a response is deferred, or discarded while
 * closing. */
static void conn_on_read(uv_stream_t *stream, ssize_t nread,
                         const uv_buf_t *buf)
{
    (void)buf;
    struct conn *conn = stream->data;
    if (conn->state == CONN_CLOSED || nread == 0)
        return;
    if (nread == UV_ENOBUFS) { /* the buffer is full: wait for room */
        uv_read_stop(stream);
        conn->reading = false;
        return;
    }
    if (nread < 0) {
        conn_on_eof(conn, nread);
        return;
    }
    if (conn->state == CONN_CLOSING) {
        conn->linger_bytes += (uint64_t)nread;
        if (conn->linger_bytes > HTTP_LINGER_BYTES_MAX)
            conn_close(conn);
        return;
    }
    conn->in_len += (size_t)nread;
    assert(conn->in_len <= HTTP_INPUT_BYTES);
    conn_process(conn);
    conn_update_reading(conn);
}

/* The timer of the state conn is in fired (see the file comment). */
static void conn_on_timer(uv_timer_t *timer)
{
    struct conn *conn = timer->data;
    struct http_server *server = conn->server;
    switch (conn->state) {
    case CONN_IDLE:
        server->stats.timeouts++;
        if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) > 0)
            server->stats.slow_readers_dropped++;
        conn_close(conn);
        break;
    case CONN_RECEIVING:
        server->stats.timeouts++;
        conn_send_error(conn, 408, "request_timeout",
                        "the request did not arrive within request_timeout_ms");
        break;
    case CONN_DEFERRED:
        server->stats.timeouts++;
        server->stats.deferred_pending--;
        conn->deferred_generation = 0;
        conn->state = CONN_HANDLING;
        conn_send_internal(conn, "no response within response_timeout_ms");
        if (conn->state == CONN_IDLE) {
            conn_process(conn);
            conn_update_reading(conn);
        }
        break;
    case CONN_CLOSING:
        conn_close(conn);
        break;
    case CONN_HANDLING:
    case CONN_CLOSED:
        break;
    }
}

/* ---- accepting -------------------------------------------------------- */

/* Records the peer's numeric address and port for the handler. */
static void conn_read_peer(struct conn *conn)
{
    struct sockaddr_storage peer;
    int len = (int)sizeof peer;
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&peer, &len) < 0)
        return;
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&peer;
        uv_ip4_name(v4, conn->remote_address, sizeof conn->remote_address);
        conn->remote_port = ntohs(v4->sin_port);
    } else if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&peer;
        uv_ip6_name(v6, conn->remote_address, sizeof conn->remote_address);
        conn->remote_port = ntohs(v6->sin6_port);
    }
}

/* Gives conn a slot and starts serving it.  Returns 0 or an HTTP_E_*. */
static int conn_start(struct conn *conn)
{
    struct http_server *server = conn->server;
    conn->slot = server->free_slots[--server->free_count];
    server->slots[conn->slot] = conn;
    server->stats.connections_accepted++;
    server->stats.connections_open++;
    /* Data is bounded by header_bytes_max; each part adds one NUL. */
    conn->arena_cap = server->config.header_bytes_max + 2 * HTTP_HEADERS_MAX + 4;
    conn->arena = malloc(conn->arena_cap);
    if (conn->arena == NULL)
        return HTTP_E_NOMEM;
    http_parser_init(&conn->parser, HTTP_REQUEST);
    conn->parser.data = conn;
    conn->response.conn = conn;
    conn_read_peer(conn);
    uv_tcp_nodelay(&conn->tcp, 1);
    conn->state = CONN_IDLE;
    conn_arm_timer(conn, server->config.idle_timeout_ms);
    conn_update_reading(conn);
    return 0;
}

/* Answers a connection beyond connections_max with 503, or closes it bare
 * when too many are being answered already. */
static void conn_refuse(struct conn *conn)
{
    struct http_server *server = conn->server;
    server->stats.connections_refused++;
    conn->slot = HTTP_SLOT_NONE;
    server->refusing++;
    conn->state = CONN_IDLE;
    if (server->refusing > HTTP_REFUSING_MAX) {
        conn_close(conn);
        return;
    }
    conn_send_error(conn, 503, "too_many_connections",
                    "the server has connections_max connections open");
}

/* Accepts a connection: it gets a slot and is served, or is refused. */
static void server_on_connection(uv_stream_t *listener, int status)
{
    struct http_server *server = listener->data;
    if (status < 0 || server->stopping)
        return;
    struct conn *conn = calloc(1, sizeof *conn);
    if (conn == NULL)
        return; /* libuv holds the connection and pauses the listener */
    conn->server = server;
    uv_tcp_init(server->loop, &conn->tcp);
    uv_timer_init(server->loop, &conn->timer);
    conn->tcp.data = conn->timer.data = conn;
    conn->handles_open = 2;
    server->handles_open++;
    conn->next = server->conns;
    if (server->conns != NULL)
        server->conns->prev = conn;
    server->conns = conn;
    conn->slot = HTTP_SLOT_NONE;
    server->refusing++; /* until it gets a slot: conn_close() counts it */
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) < 0) {
        conn_close(conn);
        return;
    }
    server->refusing--;
    if (server->free_count == 0) {
        conn_refuse(conn);
        return;
    }
    if (conn_start(conn) < 0)
        conn_close(conn);
}

/* ---- the server ------------------------------------------------------- */

/* Parses config->host (numeric) and port into *addr. */
static int server_address(const struct http_config *config,
                          struct sockaddr_storage *addr)
{
    const char *host = config->host != NULL ? config->host : "127.0.0.1";
    memset(addr, 0, sizeof *addr);
    if (uv_ip4_addr(host, config->port, (struct sockaddr_in *)addr) == 0)
        return 0;
    if (uv_ip6_addr(host, config->port, (struct sockaddr_in6 *)addr) == 0)
        return 0;
    return HTTP_E_ADDRESS;
}

/* Allocates the server and its slot tables (no handle yet). */
static struct http_server *server_alloc(const struct http_config *config)
{
    struct http_server *server = calloc(1, sizeof *server);
    if (server == NULL)
        return NULL;
    server->config = *config;
    server->config.host = NULL; /* the caller's string may not outlive us */
    server->slots = calloc(config->connections_max, sizeof *server->slots);
    server->free_slots = calloc(config->connections_max,
                                sizeof *server->free_slots);
    if (server->slots == NULL || server->free_slots == NULL) {
        free(server->slots);
        free(server->free_slots);
        free(server);
        return NULL;
    }
    /* Lowest slot on top of the stack, so slots are reused in order. */
    for (uint32_t i = 0; i < config->connections_max; i++)
        server->free_slots[i] = config->connections_max - 1 - i;
    server->free_count = config->connections_max;
    return server;
}

/* The listener's close callback: one handle fewer to wait for. */
static void server_on_listener_closed(uv_handle_t *handle)
{
    server_handle_released(handle->data);
}

/* Creates, binds and starts the listener (see http.h). */
int http_server_create(uv_loop_t *loop, const struct http_config *config,
                       http_handler handler, void *ctx,
                       struct http_server **out)
{
    if (loop == NULL || config == NULL || handler == NULL || out == NULL ||
        !config_is_valid(config))
        return HTTP_E_INVALID;
    struct sockaddr_storage addr;
    int rc = server_address(config, &addr);
    if (rc < 0)
        return rc;
    struct http_server *server = server_alloc(config);
    if (server == NULL)
        return HTTP_E_NOMEM;
    server->loop = loop;
    server->handler = handler;
    server->ctx = ctx;
    if (uv_tcp_init(loop, &server->listener) < 0) {
        free(server->slots);
        free(server->free_slots);
        free(server);
        return HTTP_E_UV;
    }
    server->listener.data = server;
    server->handles_open = 1;
    server->listening = true;
    if (uv_tcp_bind(&server->listener, (const struct sockaddr *)&addr, 0) < 0 ||
        uv_listen((uv_stream_t *)&server->listener, HTTP_LISTEN_BACKLOG,
                  server_on_connection) < 0) {
        http_server_close(server);
        return HTTP_E_LISTEN;
    }
    *out = server;
    return 0;
}

/* Returns the bound port, or 0 once the listener is closed. */
uint16_t http_server_listen_port(const struct http_server *server)
{
    if (server == NULL || !server->listening)
        return 0;
    struct sockaddr_storage addr;
    int len = (int)sizeof addr;
    if (uv_tcp_getsockname(&server->listener, (struct sockaddr *)&addr, &len) < 0)
        return 0;
    if (addr.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&addr)->sin_port);
    if (addr.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&addr)->sin6_port);
    return 0;
}

/* Closes the listener once. */
static void server_close_listener(struct http_server *server)
{
    if (!server->listening)
        return;
    server->listening = false;
    uv_close((uv_handle_t *)&server->listener, server_on_listener_closed);
}

/* Stops accepting; closes connections with nothing in flight. */
void http_server_stop_accepting(struct http_server *server)
{
    if (server == NULL || server->stopping)
        return;
    server->stopping = true;
    server_close_listener(server);
    struct conn *next;
    for (struct conn *conn = server->conns; conn != NULL; conn = next) {
        next = conn->next;
        if (conn->state == CONN_IDLE && conn->in_len == 0 &&
            uv_stream_get_write_queue_size((uv_stream_t *)&conn->tcp) == 0)
            conn_close(conn);
    }
}

/* Closes everything; memory goes in the close callbacks. */
void http_server_close(struct http_server *server)
{
    if (server == NULL || server->closing)
        return;
    server->stopping = true;
    server->closing = true;
    server_close_listener(server);
    while (server->conns != NULL)
        conn_close(server->conns);
    if (server->handles_open == 0) {
        free(server->slots);
        free(server->free_slots);
        free(server);
    }
}

/* Copies the counters. */
void http_server_stats(const struct http_server *server, struct http_stats *out)
{
    if (server == NULL || out == NULL)
        return;
    *out = server->stats;
}

/* ---- the response API ------------------------------------------------- */

/* Composes a response for the request the handler is running for. */
int http_response_set(struct http_response *response, int status,
                      const char *content_type, const void *body,
                      size_t body_len)
{
    if (response == NULL || response->conn == NULL || response->deferred ||
        response->conn->state != CONN_HANDLING)
        return HTTP_E_INVALID;
    bool keep = conn_keeps_alive(response->conn);
    struct output *out = NULL;
    int rc = output_compose(response->conn, status, content_type, body,
                            body_len, keep, &out);
    if (rc < 0)
        return rc;
    free(response->out);
    response->out = out;
    response->out_keep_alive = keep;
    return 0;
}

/* http_response_set() for JSON text. */
int http_response_json(struct http_response *response, int status,
                       const char *json_text)
{
    if (json_text == NULL)
        return HTTP_E_INVALID;
    return http_response_set(response, status, "application/json", json_text,
                             strlen(json_text));
}

/* An error in the server's own JSON format. */
int http_response_error(struct http_response *response, int status,
                        const char *code, const char *message)
{
    if (code == NULL || message == NULL)
        return HTTP_E_INVALID;
    char *json = error_json(code, message);
    if (json == NULL)
        return HTTP_E_INVALID;
    int rc = http_response_json(response, status, json);
    free(json);
    return rc;
}

/* Marks the response deferred and hands out its handle. */
int http_response_defer(struct http_response *response,
                        struct http_deferred *out)
{
    if (response == NULL || response->conn == NULL || out == NULL ||
        response->conn->state != CONN_HANDLING)
        return HTTP_E_INVALID;
    if (response->deferred)
        return HTTP_E_ALREADY;
    struct conn *conn = response->conn;
    struct http_server *server = conn->server;
    free(response->out);
    response->out = NULL;
    response->deferred = true;
    conn->deferred_generation = ++server->generation;
    server->stats.deferred_pending++;
    *out = (struct http_deferred){
        .server = server,
        .slot = conn->slot,
        .generation = conn->deferred_generation,
    };
    return 0;
}

/* Gives a deferred response if its request is still waiting. */
int http_respond(struct http_deferred deferred, int status,
                 const char *content_type, const void *body, size_t body_len)
{
    struct http_server *server = deferred.server;
    if (server == NULL || deferred.generation == 0)
        return HTTP_E_INVALID;
    if (server->closing)
        return HTTP_E_GONE;
    if (deferred.slot >= server->config.connections_max)
        return HTTP_E_INVALID;
    struct conn *conn = server->slots[deferred.slot];
    if (conn == NULL || conn->state != CONN_DEFERRED ||
        conn->deferred_generation != deferred.generation)
        return HTTP_E_GONE;
    bool keep = conn_keeps_alive(conn);
    struct output *out = NULL;
    int rc = output_compose(conn, status, content_type, body, body_len, keep,
                            &out);
    if (rc < 0)
        return rc;
    server->stats.deferred_pending--;
    conn->deferred_generation = 0;
    conn->state = CONN_HANDLING;
    if (conn_queue(conn, out) < 0)
        return HTTP_E_GONE;
    conn_finish_request(conn, keep);
    if (conn->state == CONN_IDLE) {
        conn_process(conn);
        conn_update_reading(conn);
    }
    return 0;
}

/* http_respond() for JSON text. */
int http_respond_json(struct http_deferred deferred, int status,
                      const char *json_text)
{
    if (json_text == NULL)
        return HTTP_E_INVALID;
    return http_respond(deferred, status, "application/json", json_text,
                        strlen(json_text));
}
