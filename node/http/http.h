/*
 * http.h — nanumd's HTTP/1.1 server: a small, hardened transport for the
 * HTTP/JSON API (DESIGN.md §7), on the caller's libuv loop.
 *
 * The server parses requests with http-parser and hands each complete
 * request to one handler function; routing, JSON bodies and endpoints are
 * the handler's business.  What the server promises:
 *
 *   - Limits: connections (global), request-line + header bytes, body bytes,
 *     requests per connection, unsent response bytes per connection; a whole
 *     request must arrive within request_timeout_ms (slowloris), a kept-alive
 *     connection may idle idle_timeout_ms, a deferred response must come
 *     within response_timeout_ms.
 *   - Keep-alive as HTTP/1.1 says (1.1 keeps by default, "Connection: close"
 *     is honoured, 1.0 closes unless it asks for keep-alive); pipelined
 *     requests are answered in order, one at a time: the next one is parsed
 *     only when the previous response was given and handed to the kernel.
 *   - Bodies are Content-Length only; a chunked request body is refused with
 *     411 length_required.  "Expect: 100-continue" gets "100 Continue" (or
 *     the 413 at once when the announced body is too large); any other
 *     expectation gets 417.
 *   - Every error the server itself produces is a JSON object
 *     {"error":{"code":"...","message":"..."}} with a stable code (the
 *     HTTP_ERROR_CODES table below; spec/api.md "Transport").  Such errors
 *     close the connection, except "internal" for a handler that gave no
 *     response, after which the connection may be kept.
 *   - Every response carries Content-Type, Content-Length, Connection and
 *     Cache-Control: no-store.
 *
 * Threads: a server lives on one uv_loop_t and every function here is
 * called from that loop's thread.  The server owns its handles;
 * http_server_close() closes them, memory is freed in the close callbacks,
 * so after it one more uv_run() finishes and uv_loop_close() succeeds.
 *
 * Errors are negative HTTP_E_* codes (0 is success); http_strerror() and
 * http_errname() describe them.  The library never logs or exits.
 *
 * Names: http-parser (which this file does not include) owns http_parser*,
 * http_method, http_status, HTTP_<METHOD>, HTTP_STATUS_*; the names here
 * stay clear of those.
 *
 * Read next: spec/api.md (Transport), node/http/http.c.
 */
#ifndef NANUM_HTTP_H
#define NANUM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* X(name, value, message) — one table yields codes, names and messages. */
#define HTTP_ERRORS(X)                                                         \
    X(HTTP_E_INVALID, -1, "invalid argument")                                 \
    X(HTTP_E_NOMEM, -2, "out of memory")                                      \
    X(HTTP_E_UV, -3, "a libuv call failed")                                   \
    X(HTTP_E_ADDRESS, -4, "host is not a numeric IPv4/IPv6 address")         \
    X(HTTP_E_LISTEN, -5, "cannot bind or listen on the address")             \
    X(HTTP_E_GONE, -6, "the connection of this deferred response is gone")   \
    X(HTTP_E_TOO_LARGE, -7, "response is larger than output_bytes_max")      \
    X(HTTP_E_ALREADY, -8, "this request was already deferred")               \
    X(HTTP_E_CLOSING, -9, "the server is closing")

enum http_error {
#define HTTP_ERROR_ENUM(name, value, message) name = value,
    HTTP_ERRORS(HTTP_ERROR_ENUM)
#undef HTTP_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *http_strerror(int code);
/* Returns the code's name, e.g. "HTTP_E_GONE" (never NULL). */
const char *http_errname(int code);

/* The JSON error codes the server itself sends, with their statuses:
 * X(code text, HTTP status).  Stable: clients switch on the text. */
#define HTTP_ERROR_CODES(X)                                                    \
    X("bad_request", 400)                                                      \
    X("request_timeout", 408)                                                  \
    X("length_required", 411)                                                  \
    X("body_too_large", 413)                                                   \
    X("expectation_failed", 417)                                               \
    X("header_too_large", 431)                                                 \
    X("internal", 500)                                                         \
    X("too_many_connections", 503)

/* Hard ceilings on the configuration (a config beyond them is invalid). */
#define HTTP_CONNECTIONS_MAX_LIMIT 65536u
/* http-parser refuses heads above 80 KiB by itself; stay below that. */
#define HTTP_HEADER_BYTES_MAX_LIMIT (64u << 10)
#define HTTP_HEADER_BYTES_MIN 256u
#define HTTP_BODY_BYTES_MAX_LIMIT (256u << 20)
#define HTTP_OUTPUT_BYTES_MIN 4096u
/* Headers kept per request (more is answered with 431). */
#define HTTP_HEADERS_MAX 64
/* "ffff:...:ffff" text of a peer address, NUL-terminated. */
#define HTTP_ADDRESS_TEXT_MAX 46
/* Content-Type of a response: at most this many bytes. */
#define HTTP_CONTENT_TYPE_BYTES_MAX 127

/* Every bound the server keeps.  http_config_default() fills the values
 * written in spec/api.md; tests shrink them.  Zero is invalid for every
 * field but port. */
struct http_config {
    const char *host;                  /* numeric IPv4/IPv6; NULL = 127.0.0.1 */
    uint16_t port;                     /* 0: the kernel picks one */
    uint32_t connections_max;          /* open connections, all clients */
    uint32_t header_bytes_max;         /* request line + headers, per request */
    uint32_t body_bytes_max;           /* Content-Length, per request */
    uint32_t output_bytes_max;         /* one response, headers included */
    uint32_t request_timeout_ms;       /* first byte to last byte of a request */
    uint32_t idle_timeout_ms;          /* keep-alive wait; output drain */
    uint32_t response_timeout_ms;      /* a deferred response must come */
    uint32_t requests_per_connection_max;
};

/* Fills *config with the defaults (spec/api.md, "Transport"). */
void http_config_default(struct http_config *config);

/* The request methods the API uses; anything else is HTTP_METHOD_OTHER and
 * its name is in http_request.method_name. */
enum http_request_method {
    HTTP_METHOD_OTHER = 0,
    HTTP_METHOD_GET,
    HTTP_METHOD_HEAD,
    HTTP_METHOD_POST,
    HTTP_METHOD_PUT,
    HTTP_METHOD_DELETE,
    HTTP_METHOD_PATCH,
    HTTP_METHOD_OPTIONS,
};

struct http_header {
    const char *name;  /* as sent; compare case-insensitively */
    const char *value; /* surrounding blanks removed */
};

/* One complete request.  Every pointer stays valid only while the handler
 * runs (a deferring handler copies what it keeps); the request line and
 * headers, Authorization included, are wiped when it returns.  Strings are
 * NUL-terminated; the body may hold any bytes and is never NULL. */
struct http_request {
    enum http_request_method method;
    const char *method_name;    /* "GET", "POST", ... */
    const char *path;           /* raw (percent-encoded), starts with '/' */
    const char *query;          /* raw text after '?', "" when none */
    const char *authorization;  /* NULL when absent */
    const char *content_type;   /* NULL when absent */
    const char *accept;         /* NULL when absent */
    const struct http_header *headers; /* all of them, in order */
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
    char remote_address[HTTP_ADDRESS_TEXT_MAX]; /* "127.0.0.1", "::1" */
    uint16_t remote_port;
    uint8_t http_minor;          /* 0 or 1 (major is always 1) */
};

/* Returns the value of the first header called name (case-insensitive), or
 * NULL. */
const char *http_request_header(const struct http_request *request,
                                const char *name);

/* The response a handler fills; owned by the server. */
struct http_response;

/* A response given later (long-poll).  A plain value: copy it freely.  It
 * names one request by (slot, generation); when that connection closed, the
 * request timed out or was answered, the generation no longer matches and
 * http_respond() returns HTTP_E_GONE without touching anything.  It must not
 * be used after http_server_close()'s memory is released (that is, once the
 * loop ran after http_server_close()). */
struct http_deferred {
    struct http_server *server;
    uint32_t slot;
    uint64_t generation;
};

/* Handles one request, synchronously, on the loop thread.  It either fills
 * response (http_response_set/json/error), or defers it
 * (http_response_defer), or does neither, in which case the client gets 500
 * "internal".  It may call http_server_close() or
 * http_server_stop_accepting(). */
typedef void (*http_handler)(void *ctx, const struct http_request *request,
                             struct http_response *response);

/* Sets the response: status (200..599), content_type (NULL means
 * "application/json"; no CR/LF, at most HTTP_CONTENT_TYPE_BYTES_MAX bytes),
 * body copied (body may be NULL when body_len is 0).  A second call replaces
 * the first.  Returns 0, HTTP_E_INVALID, HTTP_E_NOMEM or HTTP_E_TOO_LARGE
 * (headers + body beyond output_bytes_max); on error the response stays
 * unset. */
int http_response_set(struct http_response *response, int status,
                      const char *content_type, const void *body,
                      size_t body_len);

/* http_response_set() with "application/json" and json_text's bytes. */
int http_response_json(struct http_response *response, int status,
                       const char *json_text);

/* Sets a JSON error response in the server's own format:
 * {"error":{"code":code,"message":message}} (strings escaped). */
int http_response_error(struct http_response *response, int status,
                        const char *code, const char *message);

/* Defers the response: the handler returns, and the answer comes later
 * through http_respond(*out, ...) from the loop thread, within
 * response_timeout_ms (after which the client gets 500 "internal" and the
 * handle is stale).  Returns 0, HTTP_E_ALREADY or HTTP_E_INVALID.  Once
 * deferred, http_response_set() on this response returns HTTP_E_INVALID. */
int http_response_defer(struct http_response *response,
                        struct http_deferred *out);

/* Gives a deferred response (same arguments as http_response_set()).
 * When the connection has pipelined requests waiting, the next one is
 * handed to the handler before this returns (the handler may thus run
 * nested inside the caller).  Returns 0; HTTP_E_GONE when the connection closed, the request timed out
 * or was already answered (nothing happens: always safe to call);
 * HTTP_E_INVALID, HTTP_E_NOMEM or HTTP_E_TOO_LARGE, after which the request
 * is still pending and may be answered again. */
int http_respond(struct http_deferred deferred, int status,
                 const char *content_type, const void *body, size_t body_len);

/* http_respond() with "application/json" and json_text's bytes. */
int http_respond_json(struct http_deferred deferred, int status,
                      const char *json_text);

struct http_server;

/* Creates a server on loop, bound to config->host:config->port and
 * listening.  handler(ctx, ...) answers requests.  On success *out is set.
 * Returns 0, HTTP_E_INVALID (a config value out of range), HTTP_E_ADDRESS,
 * HTTP_E_LISTEN, HTTP_E_NOMEM or HTTP_E_UV.  On failure after the listener
 * was opened, its close is under way: run the loop once before
 * uv_loop_close(). */
int http_server_create(uv_loop_t *loop, const struct http_config *config,
                       http_handler handler, void *ctx,
                       struct http_server **out);

/* Returns the port the server listens on (useful after binding port 0), or
 * 0 once it stopped accepting. */
uint16_t http_server_listen_port(const struct http_server *server);

/* Graceful shutdown, first half: closes the listener; idle connections are
 * closed, requests in flight are answered with "Connection: close".  The
 * caller watches http_server_stats().connections_open reach 0, then calls
 * http_server_close().  Idempotent. */
void http_server_stop_accepting(struct http_server *server);

/* Closes the listener and every connection at once (pending responses are
 * dropped, deferred handles go stale).  Memory is freed in close callbacks:
 * run the loop once more.  NULL-safe; a second call does nothing. */
void http_server_close(struct http_server *server);

/* Counters for /metrics. */
struct http_stats {
    uint64_t connections_accepted;  /* given a slot */
    uint64_t connections_refused;   /* 503 too_many_connections or dropped */
    uint64_t connections_open;      /* holding a slot now */
    uint64_t requests;              /* handed to the handler */
    uint64_t errors;                /* error responses the server made */
    uint64_t timeouts;              /* request, idle, response timeouts */
    uint64_t slow_readers_dropped;  /* output not drained in time */
    uint64_t deferred_pending;      /* deferred, not yet answered */
};

/* Copies the server's counters into *out. */
void http_server_stats(const struct http_server *server,
                       struct http_stats *out);

#endif
