/*
 * config.c — reads nanumd's INI configuration (spec/config.md) with inih.
 *
 * Every section and key is one row of key_specs: its type, its place in
 * struct node_config and its range.  inih calls on_key() for each
 * `key = value`; on_key finds the row and parses the value with the parser for
 * the row's type.  inih reports only a line number for the errors it finds
 * itself and no line at all to the handler, so the text is fed to inih through
 * our own line reader (read_line), which counts lines: the handler then knows
 * the line it is looking at, and messages read "file:12: ...".  The reader also
 * refuses lines longer than inih's buffer (inih would silently cut them in
 * two) and catches an unknown [section] at its header, even an empty one.
 *
 * Read next: node/daemon/config.h (the struct), spec/config.md (every key).
 */
#include "config.h"
#include "protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Errors ----------------------------------------------------------------- */

const char *node_config_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define NODE_CONFIG_ERROR_MESSAGE(name, value, message) \
    case name:                                          \
        return message;
        NODE_CONFIG_ERRORS(NODE_CONFIG_ERROR_MESSAGE)
#undef NODE_CONFIG_ERROR_MESSAGE
    }
    return "unknown error";
}

const char *node_config_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
#define NODE_CONFIG_ERROR_NAME(name, value, message) \
    case name:                                       \
        return #name;
        NODE_CONFIG_ERRORS(NODE_CONFIG_ERROR_NAME)
#undef NODE_CONFIG_ERROR_NAME
    }
    return "NODE_CONFIG_E_UNKNOWN_CODE";
}

/* --- The key table ---------------------------------------------------------- */

enum key_kind {
    KIND_ROLE,      /* validator | watcher */
    KIND_LOG_LEVEL, /* error | warn | info | debug */
    KIND_PATH,      /* a path, resolved against the file's directory */
    KIND_ENDPOINT,  /* HOST:PORT */
    KIND_PEERS,     /* comma-separated HOST:PORT list; may be repeated */
    KIND_COUNT,     /* a decimal integer within [min, max] */
    KIND_SIZE,      /* bytes, optionally with K/KiB/M/MiB, within [min, max] */
    KIND_TOKEN,     /* visible ASCII, NODE_CONFIG_TOKEN_BYTES_MIN..MAX */
    KIND_BOOL,      /* true/false/yes/no/1/0 */
    KIND_KEY,       /* a node address ("n..."), 32-byte key */
    KIND_URL,       /* an http:// or https:// URL; may be repeated */
};

struct key_spec {
    const char *section;
    const char *name;
    enum key_kind kind;
    size_t offset;    /* into struct node_config */
    size_t size;      /* of the field, for text fields */
    uint64_t min, max; /* for KIND_COUNT and KIND_SIZE */
    bool required;
};

#define FIELD(f) offsetof(struct node_config, f), sizeof(((struct node_config *)0)->f)

static const struct key_spec key_specs[] = {
    {"node", "role", KIND_ROLE, FIELD(role), 0, 0, false},
    {"node", "data_dir", KIND_PATH, FIELD(data_dir), 0, 0, false},
    {"node", "genesis", KIND_PATH, FIELD(genesis), 0, 0, true},
    {"node", "node_key", KIND_PATH, FIELD(node_key), 0, 0, true},
    {"node", "log_level", KIND_LOG_LEVEL, FIELD(log_level), 0, 0, false},
    {"p2p", "listen", KIND_ENDPOINT, FIELD(p2p_listen), 0, 0, false},
    {"p2p", "peers", KIND_PEERS, FIELD(peers), 0, 0, false},
    {"p2p", "inbound_max", KIND_COUNT, FIELD(inbound_max), 0, 1000, false},
    {"p2p", "outbound_max", KIND_COUNT, FIELD(outbound_max), 0, 1000, false},
    {"api", "listen", KIND_ENDPOINT, FIELD(api_listen), 0, 0, false},
    {"api", "connections_max", KIND_COUNT, FIELD(api_connections_max), 1, 10000, false},
    {"api", "body_bytes_max", KIND_SIZE, FIELD(api_body_bytes_max), 1024, 16u << 20, false},
    {"api", "request_timeout_ms", KIND_COUNT, FIELD(api_request_timeout_ms), 100, 600000, false},
    {"api", "admin_token", KIND_TOKEN, FIELD(api_admin_token), 0, 0, false},
    {"consensus", "quorum_file", KIND_PATH, FIELD(quorum_file), 0, 0, false},
    {"validator_list", "publisher", KIND_KEY, FIELD(validator_list_publisher), 0, 0, false},
    {"validator_list", "url", KIND_URL, FIELD(validator_list_urls), 0, 0, false},
    {"validator_list", "refresh_s", KIND_COUNT, FIELD(validator_list_refresh_s), 1, 86400, false},
    {"validator_list", "cache_file", KIND_PATH, FIELD(validator_list_cache_file), 0, 0, false},
    {"storage", "sync", KIND_BOOL, FIELD(storage_sync), 0, 0, false},
    {"testing", "equivocate", KIND_BOOL, FIELD(testing_equivocate), 0, 0, false},
};
#define KEY_SPEC_COUNT (sizeof key_specs / sizeof key_specs[0])

/* true if any key lives in section. */
static bool section_known(const char *section)
{
    for (size_t i = 0; i < KEY_SPEC_COUNT; i++)
        if (strcmp(key_specs[i].section, section) == 0)
            return true;
    return false;
}

/* --- Parse state and error messages ----------------------------------------- */

struct parse_ctx {
    const char *text;
    size_t len;
    size_t pos;           /* next byte read_line hands to inih */
    int line;             /* number of the line inih is working on */
    const char *name;     /* file name for messages */
    const char *base_dir; /* absolute; relative paths are joined to it */
    struct node_config *out;
    bool seen[KEY_SPEC_COUNT];
    int rc;               /* first error, 0 if none */
    int rc_line;          /* its line (0: not tied to a line) */
    char *err;
    size_t err_len;
};

static void ctx_fail(struct parse_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first error only: later ones are often its consequences. */
static void ctx_fail(struct parse_ctx *ctx, int rc, const char *fmt, ...)
{
    if (ctx->rc != 0)
        return;
    ctx->rc = rc;
    ctx->rc_line = ctx->line;
    if (ctx->err == NULL || ctx->err_len == 0)
        return;
    int n = ctx->line > 0 ? snprintf(ctx->err, ctx->err_len, "%s:%d: ", ctx->name, ctx->line)
                          : snprintf(ctx->err, ctx->err_len, "%s: ", ctx->name);
    if (n < 0 || (size_t)n >= ctx->err_len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err + n, ctx->err_len - (size_t)n, fmt, ap);
    va_end(ap);
}

/* --- Value parsers (pure leaves; each writes *problem on failure) ----------- */

/* Parses a decimal integer of at most 19 digits, no sign, no spaces. */
static bool parse_decimal(const char *text, size_t len, uint64_t *out)
{
    if (len == 0 || len > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(text[i] - '0');
    }
    *out = v;
    return true;
}

/* Parses a byte size: digits, then nothing, "k", "K", "KiB", "M" or "MiB". */
static bool parse_size(const char *text, uint64_t *out)
{
    static const struct { const char *suffix; uint64_t factor; } units[] = {
        {"", 1}, {"k", 1024}, {"K", 1024}, {"KiB", 1024}, {"M", 1u << 20}, {"MiB", 1u << 20},
    };
    size_t digits = strspn(text, "0123456789");
    uint64_t v;
    if (!parse_decimal(text, digits, &v))
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(text + digits, units[i].suffix) == 0) {
            if (v > UINT64_MAX / units[i].factor)
                return false;
            *out = v * units[i].factor;
            return true;
        }
    return false;
}

/* Parses true/yes/1 and false/no/0 (lowercase only). */
static bool parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Writes "'text' is not HOST:PORT: why" into err. */
static int endpoint_fail(char *err, size_t err_len, const char *text, const char *why)
{
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "'%s' is not HOST:PORT: %s", text, why);
    return NODE_CONFIG_E_BAD_VALUE;
}

int node_config_endpoint_parse(const char *text, struct node_config_endpoint *out, char *err,
                               size_t err_len)
{
    memset(out, 0, sizeof *out);
    const char *host = text, *host_end, *colon;
    if (text[0] == '[') {
        host = text + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL || host_end[1] != ':')
            return endpoint_fail(err, err_len, text, "an IPv6 address is written [ADDRESS]:PORT");
        colon = host_end + 1;
        out->ipv6 = true;
    } else {
        colon = strrchr(text, ':');
        if (colon == NULL)
            return endpoint_fail(err, err_len, text, "the :PORT is missing");
        host_end = colon;
        if (memchr(text, ':', (size_t)(colon - text)) != NULL)
            return endpoint_fail(err, err_len, text, "an IPv6 address is written [ADDRESS]:PORT");
    }
    size_t host_len = (size_t)(host_end - host);
    if (host_len == 0 || host_len > NODE_CONFIG_HOST_BYTES_MAX)
        return endpoint_fail(err, err_len, text, "the address is empty or too long");
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    unsigned char probe[16];
    if (inet_pton(out->ipv6 ? AF_INET6 : AF_INET, out->host, probe) != 1)
        return endpoint_fail(err, err_len, text,
                             "the address must be a numeric IPv4 or [IPv6] address (no host names)");
    uint64_t port;
    if (!parse_decimal(colon + 1, strlen(colon + 1), &port) || port < 1 || port > 65535)
        return endpoint_fail(err, err_len, text, "the port must be a number from 1 to 65535");
    out->port = (uint16_t)port;
    return 0;
}

void node_config_endpoint_format(const struct node_config_endpoint *endpoint,
                                 char out[static NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX])
{
    snprintf(out, NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX, endpoint->ipv6 ? "[%s]:%u" : "%s:%u",
             endpoint->host, (unsigned)endpoint->port);
}

/*
 * Joins value to base (absolute, without symlinks: it came from realpath) into
 * out.  Leading "./" and "../" segments are folded into base, which is exact
 * because base holds no symlinks; later segments are kept as written, so the
 * kernel resolves them as the user meant.  Returns false if out is too small.
 */
static bool resolve_path(const char *base, const char *value, char *out, size_t out_size)
{
    if (value[0] == '/')
        return (size_t)snprintf(out, out_size, "%s", value) < out_size;
    char joined[NODE_CONFIG_PATH_BYTES_MAX + 1];
    if ((size_t)snprintf(joined, sizeof joined, "%s", base) >= sizeof joined)
        return false;
    size_t base_len = strlen(joined);
    while (base_len > 1 && joined[base_len - 1] == '/')
        joined[--base_len] = '\0';
    for (;;) {
        if (strncmp(value, "./", 2) == 0) {
            value += 2;
        } else if (strcmp(value, ".") == 0) {
            value += 1;
        } else if (strncmp(value, "../", 3) == 0 || strcmp(value, "..") == 0) {
            value += value[2] == '/' ? 3 : 2;
            char *slash = strrchr(joined, '/');
            if (slash != NULL)
                slash[slash == joined ? 1 : 0] = '\0';
        } else {
            break;
        }
        while (value[0] == '/')
            value++;
    }
    const char *sep = strcmp(joined, "/") == 0 || value[0] == '\0' ? "" : "/";
    return (size_t)snprintf(out, out_size, "%s%s%s", joined, sep, value) < out_size;
}

/* --- Applying one key ------------------------------------------------------- */

/* Adds each comma-separated entry of value to the peer list.  An empty entry
 * is an error, except after a trailing comma. */
static void apply_peers(struct parse_ctx *ctx, const char *value)
{
    struct node_config *c = ctx->out;
    const char *p = value;
    while (*p != '\0' && ctx->rc == 0) {
        size_t span = strcspn(p, ",");
        char entry[NODE_CONFIG_LINE_BYTES_MAX + 1];
        size_t start = strspn(p, " \t"), end = span;
        while (end > start && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end == start)
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "empty entry in [p2p] peers");
        memcpy(entry, p + start, end - start);
        entry[end - start] = '\0';
        if (c->peer_count == NODE_CONFIG_PEERS_MAX)
            return ctx_fail(ctx, NODE_CONFIG_E_TOO_LONG, "[p2p] peers: more than %d peers",
                            NODE_CONFIG_PEERS_MAX);
        char why[160];
        struct node_config_endpoint *peer = &c->peers[c->peer_count];
        if (node_config_endpoint_parse(entry, peer, why, sizeof why) != 0)
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[p2p] peers: %s", why);
        for (uint32_t i = 0; i < c->peer_count; i++)
            if (strcmp(c->peers[i].host, peer->host) == 0 && c->peers[i].port == peer->port)
                return ctx_fail(ctx, NODE_CONFIG_E_DUPLICATE, "[p2p] peers: %s is listed twice",
                                entry);
        c->peer_count++;
        p += span;
        if (*p == ',')
            p++; /* a trailing comma is allowed: the list may go on on the next line */
    }
}

/* Adds one validator-list URL: http(s), no blanks, within its limits. */
static void apply_url(struct parse_ctx *ctx, const char *value)
{
    struct node_config *c = ctx->out;
    size_t len = strlen(value);
    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
        return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[validator_list] url: '%s' is not an http:// or https:// URL",
                        value);
    if (len > NODE_CONFIG_URL_BYTES_MAX || strpbrk(value, " \t\"'") != NULL)
        return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE,
                        "[validator_list] url: at most %d characters, without blanks or quotes",
                        NODE_CONFIG_URL_BYTES_MAX);
    if (c->validator_list_url_count == NODE_CONFIG_VALIDATOR_LIST_URLS_MAX)
        return ctx_fail(ctx, NODE_CONFIG_E_TOO_LONG, "[validator_list] url: more than %d URLs",
                        NODE_CONFIG_VALIDATOR_LIST_URLS_MAX);
    memcpy(c->validator_list_urls[c->validator_list_url_count++], value, len + 1);
}

/* Parses a count or size and stores it (every such field is a uint32_t). */
static void apply_number(struct parse_ctx *ctx, const struct key_spec *spec, const char *value)
{
    uint64_t v;
    bool ok = spec->kind == KIND_SIZE ? parse_size(value, &v)
                                      : parse_decimal(value, strlen(value), &v);
    if (!ok)
        return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: '%s' is not %s", spec->section,
                        spec->name, value,
                        spec->kind == KIND_SIZE ? "a size like 65536, 64K or 1MiB" : "a number");
    if (v < spec->min || v > spec->max)
        return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: %s is out of range %llu..%llu",
                        spec->section, spec->name, value, (unsigned long long)spec->min,
                        (unsigned long long)spec->max);
    *(uint32_t *)((char *)ctx->out + spec->offset) = (uint32_t)v;
}

/* Checks and stores a bearer token: visible ASCII, within its length limits. */
static void apply_token(struct parse_ctx *ctx, const struct key_spec *spec, const char *value)
{
    size_t len = strlen(value);
    if (len < NODE_CONFIG_TOKEN_BYTES_MIN || len > NODE_CONFIG_TOKEN_BYTES_MAX)
        return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: must be %d to %d characters long",
                        spec->section, spec->name, NODE_CONFIG_TOKEN_BYTES_MIN,
                        NODE_CONFIG_TOKEN_BYTES_MAX);
    for (size_t i = 0; i < len; i++)
        if (value[i] < 0x21 || value[i] > 0x7e)
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE,
                            "[%s] %s: only visible ASCII characters (no spaces)", spec->section,
                            spec->name);
    memcpy((char *)ctx->out + spec->offset, value, len + 1);
}

/* Parses an enumerated word (role, log level) into the int field. */
static void apply_word(struct parse_ctx *ctx, const struct key_spec *spec, const char *value,
                       const char *const *words, size_t count, const char *expected)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(value, words[i]) == 0) {
            *(int *)((char *)ctx->out + spec->offset) = (int)i;
            return;
        }
    ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: '%s' is not one of %s", spec->section,
             spec->name, value, expected);
}

static const char *const role_names[] = {"watcher", "validator"};
static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

/* Parses value by the row's type into its field; errors go to ctx. */
static void apply_value(struct parse_ctx *ctx, const struct key_spec *spec, const char *value)
{
    char *field = (char *)ctx->out + spec->offset;
    char why[160];
    bool flag;
    switch (spec->kind) {
    case KIND_ROLE:
        return apply_word(ctx, spec, value, role_names, 2, "validator, watcher");
    case KIND_LOG_LEVEL:
        return apply_word(ctx, spec, value, log_level_names, 4, "error, warn, info, debug");
    case KIND_PATH:
        if (value[0] == '\0')
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: empty path", spec->section,
                            spec->name);
        if (!resolve_path(ctx->base_dir, value, field, spec->size))
            return ctx_fail(ctx, NODE_CONFIG_E_TOO_LONG, "[%s] %s: path longer than %d bytes",
                            spec->section, spec->name, NODE_CONFIG_PATH_BYTES_MAX);
        return;
    case KIND_ENDPOINT:
        if (node_config_endpoint_parse(value, (struct node_config_endpoint *)field, why,
                                       sizeof why) != 0)
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: %s", spec->section,
                            spec->name, why);
        return;
    case KIND_PEERS:
        return apply_peers(ctx, value);
    case KIND_COUNT:
    case KIND_SIZE:
        return apply_number(ctx, spec, value);
    case KIND_TOKEN:
        return apply_token(ctx, spec, value);
    case KIND_URL:
        return apply_url(ctx, value);
    case KIND_KEY:
        if (node_address_decode(value, (uint8_t *)field) != 0)
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE, "[%s] %s: '%s' is not a node address (n...)",
                            spec->section, spec->name, value);
        ctx->out->validator_list_publisher_set = true;
        return;
    case KIND_BOOL:
        if (!parse_bool(value, &flag))
            return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE,
                            "[%s] %s: '%s' is not a boolean (true/false/yes/no/1/0)",
                            spec->section, spec->name, value);
        *(bool *)field = flag;
        return;
    }
}

/* inih's handler: one `name = value` of section.  Returns 1 if it was taken,
 * 0 (inih's "error on this line") otherwise. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct parse_ctx *ctx = user;
    if (ctx->rc != 0)
        return 0;
    if (section[0] == '\0') {
        ctx_fail(ctx, NODE_CONFIG_E_UNKNOWN, "key '%s' outside any [section]", name);
        return 0;
    }
    if (!section_known(section)) {
        ctx_fail(ctx, NODE_CONFIG_E_UNKNOWN, "unknown section [%s]", section);
        return 0;
    }
    for (size_t i = 0; i < KEY_SPEC_COUNT; i++) {
        const struct key_spec *spec = &key_specs[i];
        if (strcmp(spec->section, section) != 0 || strcmp(spec->name, name) != 0)
            continue;
        if (ctx->seen[i] && spec->kind != KIND_PEERS && spec->kind != KIND_URL) {
            ctx_fail(ctx, NODE_CONFIG_E_DUPLICATE,
                     "'%s' in [%s] is given twice (or continued on an indented line)", name,
                     section);
            return 0;
        }
        ctx->seen[i] = true;
        apply_value(ctx, spec, value);
        return ctx->rc == 0;
    }
    ctx_fail(ctx, NODE_CONFIG_E_UNKNOWN, "unknown key '%s' in [%s]", name, section);
    return 0;
}

/* --- Feeding inih line by line ---------------------------------------------- */

/* Checks a line before inih sees it: not too long, no NUL byte, and a [section]
 * header at the start of a line names a known section. */
static bool check_line(struct parse_ctx *ctx, const char *line, size_t len, int buffer_bytes)
{
    size_t content = len;
    while (content > 0 && (line[content - 1] == '\n' || line[content - 1] == '\r'))
        content--;
    if (content > NODE_CONFIG_LINE_BYTES_MAX || len + 1 > (size_t)buffer_bytes) {
        ctx_fail(ctx, NODE_CONFIG_E_TOO_LONG,
                 "line longer than %d bytes (a long [p2p] peers list can be split over several 'peers =' lines)",
                 NODE_CONFIG_LINE_BYTES_MAX);
        return false;
    }
    if (memchr(line, '\0', len) != NULL) {
        ctx_fail(ctx, NODE_CONFIG_E_SYNTAX, "NUL byte in the file");
        return false;
    }
    if (line[0] == '[') {
        const char *end = memchr(line, ']', content);
        char section[NODE_CONFIG_LINE_BYTES_MAX + 1];
        if (end == NULL)
            return true; /* inih reports the broken header */
        memcpy(section, line + 1, (size_t)(end - line - 1));
        section[end - line - 1] = '\0';
        if (!section_known(section)) {
            ctx_fail(ctx, NODE_CONFIG_E_UNKNOWN, "unknown section [%s]", section);
            return false;
        }
    }
    return true;
}

/* inih's reader (fgets-like): hands over one line and counts it.  Returns NULL
 * at the end of the text, or to stop inih after an error found here. */
static char *read_line(char *buffer, int buffer_bytes, void *stream)
{
    struct parse_ctx *ctx = stream;
    if (ctx->pos >= ctx->len || ctx->rc != 0 || buffer_bytes < 2)
        return NULL;
    const char *line = ctx->text + ctx->pos;
    const char *newline = memchr(line, '\n', ctx->len - ctx->pos);
    size_t len = newline != NULL ? (size_t)(newline - line) + 1 : ctx->len - ctx->pos;
    ctx->line++;
    if (!check_line(ctx, line, len, buffer_bytes))
        return NULL;
    memcpy(buffer, line, len);
    buffer[len] = '\0';
    ctx->pos += len;
    return buffer;
}

/* --- Loading ---------------------------------------------------------------- */

void node_config_defaults(struct node_config *out)
{
    memset(out, 0, sizeof *out);
    out->role = NODE_CONFIG_ROLE_WATCHER;
    snprintf(out->data_dir, sizeof out->data_dir, "%s", NODE_CONFIG_DEFAULT_DATA_DIR);
    out->log_level = NODE_CONFIG_LOG_INFO;
    snprintf(out->p2p_listen.host, sizeof out->p2p_listen.host, "%s", NODE_CONFIG_DEFAULT_P2P_HOST);
    out->p2p_listen.port = NODE_CONFIG_DEFAULT_P2P_PORT;
    out->inbound_max = NODE_CONFIG_DEFAULT_INBOUND_MAX;
    out->outbound_max = NODE_CONFIG_DEFAULT_OUTBOUND_MAX;
    snprintf(out->api_listen.host, sizeof out->api_listen.host, "%s", NODE_CONFIG_DEFAULT_API_HOST);
    out->api_listen.port = NODE_CONFIG_DEFAULT_API_PORT;
    out->api_connections_max = NODE_CONFIG_DEFAULT_API_CONNECTIONS_MAX;
    out->api_body_bytes_max = NODE_CONFIG_DEFAULT_API_BODY_BYTES_MAX;
    out->api_request_timeout_ms = NODE_CONFIG_DEFAULT_API_REQUEST_TIMEOUT_MS;
    out->validator_list_refresh_s = NODE_CONFIG_DEFAULT_VALIDATOR_LIST_REFRESH_S;
    out->storage_sync = true;
}

/* Checks what no single line can: required keys and combinations. */
static void check_whole(struct parse_ctx *ctx)
{
    ctx->line = 0;
    for (size_t i = 0; i < KEY_SPEC_COUNT; i++)
        if (key_specs[i].required && !ctx->seen[i])
            return ctx_fail(ctx, NODE_CONFIG_E_MISSING, "[%s] %s is required",
                            key_specs[i].section, key_specs[i].name);
    if (ctx->out->testing_equivocate && ctx->out->role != NODE_CONFIG_ROLE_VALIDATOR)
        return ctx_fail(ctx, NODE_CONFIG_E_BAD_VALUE,
                        "[testing] equivocate = true needs role = validator");
    if (ctx->out->validator_list_publisher_set != (ctx->out->validator_list_url_count > 0))
        return ctx_fail(ctx, NODE_CONFIG_E_MISSING,
                        "[validator_list] needs both publisher and at least one url");
    char data_dir[NODE_CONFIG_PATH_BYTES_MAX + 1];
    memcpy(data_dir, ctx->out->data_dir, sizeof data_dir);
    if (!resolve_path(ctx->base_dir, data_dir, ctx->out->data_dir, sizeof ctx->out->data_dir))
        return ctx_fail(ctx, NODE_CONFIG_E_TOO_LONG, "[node] data_dir: path longer than %d bytes",
                        NODE_CONFIG_PATH_BYTES_MAX);
}

int node_config_parse(const char *text, size_t len, const char *name, const char *base_dir,
                      struct node_config *out, char *err, size_t err_len)
{
    node_config_defaults(out);
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    struct parse_ctx ctx = {.text = text, .len = len, .name = name != NULL ? name : "config",
                            .base_dir = base_dir,
                            .out = out, .err = err, .err_len = err_len};
    if (text == NULL || name == NULL || base_dir == NULL || base_dir[0] != '/') {
        ctx_fail(&ctx, NODE_CONFIG_E_INVALID, "the base directory must be an absolute path");
        return ctx.rc;
    }
    if (len > NODE_CONFIG_FILE_BYTES_MAX) {
        ctx_fail(&ctx, NODE_CONFIG_E_TOO_LONG, "larger than %d bytes", NODE_CONFIG_FILE_BYTES_MAX);
        return ctx.rc;
    }
    int ini_line = ini_parse_stream(read_line, &ctx, on_key, &ctx);
    if (ini_line > 0 && (ctx.rc == 0 || ini_line < ctx.rc_line)) {
        ctx.rc = 0; /* inih's own error came first: report it instead */
        ctx.line = ini_line;
        ctx_fail(&ctx, NODE_CONFIG_E_SYNTAX,
                 "expected 'key = value', a [section] header or a comment");
    } else if (ini_line < 0 && ctx.rc == 0) {
        ctx_fail(&ctx, NODE_CONFIG_E_IO, "inih failed (%d)", ini_line);
    }
    if (ctx.rc == 0)
        check_whole(&ctx);
    if (ctx.rc != 0)
        sodium_memzero(out->api_admin_token, sizeof out->api_admin_token);
    return ctx.rc;
}

/* Reads at most NODE_CONFIG_FILE_BYTES_MAX + 1 bytes of path into a malloc'd
 * buffer (so an over-long file is seen as such). */
static int read_file(const char *path, char **text, size_t *len, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return NODE_CONFIG_E_IO;
    }
    *text = malloc(NODE_CONFIG_FILE_BYTES_MAX + 1);
    if (*text == NULL) {
        fclose(f);
        snprintf(err, err_len, "%s: out of memory", path);
        return NODE_CONFIG_E_IO;
    }
    *len = fread(*text, 1, NODE_CONFIG_FILE_BYTES_MAX + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(*text);
        *text = NULL;
        snprintf(err, err_len, "%s: read error", path);
        return NODE_CONFIG_E_IO;
    }
    return 0;
}

int node_config_load(const char *path, struct node_config *out, char *err, size_t err_len)
{
    char scratch[NODE_CONFIG_ERROR_BYTES_MAX];
    if (err == NULL || err_len == 0) {
        err = scratch;
        err_len = sizeof scratch;
    }
    node_config_defaults(out);
    char dir[NODE_CONFIG_PATH_BYTES_MAX + 1], base[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, err_len);
    if (rc != 0)
        return rc;
    if (realpath(dir, base) == NULL) {
        snprintf(err, err_len, "%s: cannot resolve its directory: %s", path, strerror(errno));
        free(text);
        return NODE_CONFIG_E_IO;
    }
    rc = node_config_parse(text, len, path, base, out, err, err_len);
    sodium_memzero(text, len); /* it may hold the admin token */
    free(text);
    return rc;
}

const char *node_config_role_name(enum node_config_role role)
{
    return (unsigned)role < 2 ? role_names[role] : "unknown";
}

const char *node_config_log_level_name(enum node_config_log_level level)
{
    return (unsigned)level < 4 ? log_level_names[level] : "unknown";
}

void node_config_wipe(struct node_config *config)
{
    if (config != NULL)
        sodium_memzero(config, sizeof *config);
}
