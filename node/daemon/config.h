/*
 * config.h — nanumd's configuration file: an INI file (read with inih) whose
 * sections and keys are listed, with their defaults and meaning, in
 * spec/config.md.
 *
 * Reading is strict: an unknown section or key, a key given twice, a value
 * out of range or a malformed HOST:PORT is an error whose message names the
 * file and line ("nanumd.ini:12: unknown key 'listn' in [p2p]").  Paths in the
 * file are relative to the file's own directory; the struct holds them
 * absolute, so the daemon can change directory without changing meaning.
 *
 * The struct is plain data: fixed-size arrays with named limits, no pointers,
 * so it can be copied and compared.  Errors are negative NODE_CONFIG_E_*
 * codes; node_config_strerror() describes them.  Nothing here logs or exits.
 *
 * Read next: node/daemon/config.c (the key table), spec/config.md.
 */
#ifndef NANUM_NODE_CONFIG_H
#define NANUM_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_CONFIG_ERRORS(X)                                                          \
    X(NODE_CONFIG_E_IO, -1, "cannot read the configuration file")                      \
    X(NODE_CONFIG_E_SYNTAX, -2, "a line is neither 'key = value' nor a [section]")     \
    X(NODE_CONFIG_E_UNKNOWN, -3, "unknown section or key")                             \
    X(NODE_CONFIG_E_BAD_VALUE, -4, "a value is malformed or out of range")             \
    X(NODE_CONFIG_E_MISSING, -5, "a required key is missing")                          \
    X(NODE_CONFIG_E_DUPLICATE, -6, "a key is given twice")                             \
    X(NODE_CONFIG_E_TOO_LONG, -7, "the file, a line or a value is over its limit")     \
    X(NODE_CONFIG_E_INVALID, -8, "invalid argument")

enum node_config_error {
#define NODE_CONFIG_ERROR_ENUM(name, value, message) name = value,
    NODE_CONFIG_ERRORS(NODE_CONFIG_ERROR_ENUM)
#undef NODE_CONFIG_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *node_config_strerror(int code);
/* Returns the code's name, e.g. "NODE_CONFIG_E_UNKNOWN" (never NULL). */
const char *node_config_errname(int code);

/* --- Limits (spec/config.md) ---------------------------------------------- */

#define NODE_CONFIG_FILE_BYTES_MAX 65536   /* the whole file */
#define NODE_CONFIG_LINE_BYTES_MAX 190     /* one line; inih's buffer is 200 */
#define NODE_CONFIG_PATH_BYTES_MAX 1023    /* a resolved, absolute path */
#define NODE_CONFIG_HOST_BYTES_MAX 45      /* numeric IPv6 text, INET6_ADDRSTRLEN - 1 */
#define NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX 56 /* "[host]:65535" + NUL */
#define NODE_CONFIG_PEERS_MAX 64           /* entries in [p2p] peers */
#define NODE_CONFIG_TOKEN_BYTES_MIN 16     /* [api] admin_token */
#define NODE_CONFIG_TOKEN_BYTES_MAX 128
#define NODE_CONFIG_ERROR_BYTES_MAX 512    /* a good size for the err buffer */
#define NODE_CONFIG_VALIDATOR_LIST_URLS_MAX 4 /* [validator_list] url entries */
#define NODE_CONFIG_URL_BYTES_MAX 160      /* one URL */

/* Defaults (spec/config.md). */
#define NODE_CONFIG_DEFAULT_DATA_DIR "data"
#define NODE_CONFIG_DEFAULT_P2P_HOST "127.0.0.1"
#define NODE_CONFIG_DEFAULT_P2P_PORT 7700
#define NODE_CONFIG_DEFAULT_API_HOST "127.0.0.1"
#define NODE_CONFIG_DEFAULT_API_PORT 8700
#define NODE_CONFIG_DEFAULT_INBOUND_MAX 32
#define NODE_CONFIG_DEFAULT_OUTBOUND_MAX 16
#define NODE_CONFIG_DEFAULT_API_CONNECTIONS_MAX 64
#define NODE_CONFIG_DEFAULT_API_BODY_BYTES_MAX 65536
#define NODE_CONFIG_DEFAULT_API_REQUEST_TIMEOUT_MS 10000
#define NODE_CONFIG_DEFAULT_VALIDATOR_LIST_REFRESH_S 300

enum node_config_role {
    NODE_CONFIG_ROLE_WATCHER = 0,   /* follows consensus, serves the API */
    NODE_CONFIG_ROLE_VALIDATOR = 1, /* votes with its node key */
};

enum node_config_log_level {
    NODE_CONFIG_LOG_ERROR = 0,
    NODE_CONFIG_LOG_WARN = 1,
    NODE_CONFIG_LOG_INFO = 2,
    NODE_CONFIG_LOG_DEBUG = 3,
};

/* A numeric IPv4 or IPv6 address and a port (1..65535).  host holds the
 * address without brackets, ready for uv_ip4_addr()/uv_ip6_addr(). */
struct node_config_endpoint {
    char host[NODE_CONFIG_HOST_BYTES_MAX + 1];
    uint16_t port;
    bool ipv6;
};

struct node_config {
    /* [node] */
    enum node_config_role role;
    char data_dir[NODE_CONFIG_PATH_BYTES_MAX + 1];  /* absolute after load */
    char genesis[NODE_CONFIG_PATH_BYTES_MAX + 1];   /* absolute; required */
    char node_key[NODE_CONFIG_PATH_BYTES_MAX + 1];  /* absolute; required */
    enum node_config_log_level log_level;
    /* [p2p] */
    struct node_config_endpoint p2p_listen;
    uint32_t peer_count;
    struct node_config_endpoint peers[NODE_CONFIG_PEERS_MAX];
    uint32_t inbound_max;
    uint32_t outbound_max;
    /* [api] */
    struct node_config_endpoint api_listen;
    uint32_t api_connections_max;
    uint32_t api_body_bytes_max;
    uint32_t api_request_timeout_ms;
    char api_admin_token[NODE_CONFIG_TOKEN_BYTES_MAX + 1]; /* "": admin endpoints off */
    /* [consensus] */
    char quorum_file[NODE_CONFIG_PATH_BYTES_MAX + 1];      /* "": derive from the ledger */
    /* [validator_list] — off unless publisher and url are set */
    bool validator_list_publisher_set;
    uint8_t validator_list_publisher[32];                  /* the publisher's node key */
    uint32_t validator_list_url_count;
    char validator_list_urls[NODE_CONFIG_VALIDATOR_LIST_URLS_MAX][NODE_CONFIG_URL_BYTES_MAX + 1];
    uint32_t validator_list_refresh_s;
    char validator_list_cache_file[NODE_CONFIG_PATH_BYTES_MAX + 1]; /* "": DATA_DIR/validator-list.json */
    /* [storage] */
    bool storage_sync;
    /* [testing] — test-only switches; never set on a real network */
    bool testing_equivocate;
};

/* Fills out with every default.  data_dir is the relative "data" (resolved
 * against the config file's directory by the loaders); genesis and node_key
 * are empty (required in a file). */
void node_config_defaults(struct node_config *out);

/*
 * Reads the INI file at path into out (defaults first, then the file).
 * Relative paths are resolved against the file's directory.  Returns 0, or a
 * negative NODE_CONFIG_E_* code with a sentence in err that starts with
 * "path:line: " when a line is at fault.  On error *out holds no secret.
 */
int node_config_load(const char *path, struct node_config *out, char *err, size_t err_len);

/*
 * As node_config_load, for text already in memory (len bytes, no NUL needed).
 * name is the file name used in messages; base_dir (absolute) is what relative
 * paths are resolved against.
 */
int node_config_parse(const char *text, size_t len, const char *name, const char *base_dir,
                      struct node_config *out, char *err, size_t err_len);

/* Parses "1.2.3.4:7700" or "[::1]:7700" (numeric addresses only).
 * Returns 0 or NODE_CONFIG_E_BAD_VALUE with a sentence in err. */
int node_config_endpoint_parse(const char *text, struct node_config_endpoint *out, char *err,
                               size_t err_len);

/* Writes the endpoint as text ("1.2.3.4:7700", "[::1]:7700") into out. */
void node_config_endpoint_format(const struct node_config_endpoint *endpoint,
                                 char out[static NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX]);

/* Returns "validator"/"watcher" and "error"/"warn"/"info"/"debug". */
const char *node_config_role_name(enum node_config_role role);
const char *node_config_log_level_name(enum node_config_log_level level);

/* Wipes the whole struct (it may hold the admin token) with sodium_memzero. */
void node_config_wipe(struct node_config *config);

#endif
