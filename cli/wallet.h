/*
 * wallet.h — the internals of the wallet `nanum` shared by its files: error
 * codes and exit codes, the run context (options, node URL, output mode),
 * the HTTP client, the keystore, formatting, transaction submission and
 * proof checks.  Each subcommand lives in its own cmd_*.c file and is listed
 * in the table in nanum.c (the wireguard-tools shape).
 *
 * The wallet links the protocol part of node/ (protocol.h: types, codec,
 * signing, genesis; quorum.h), consensus/ (to check a quorum), libcurl,
 * jansson and libsodium — never the daemon.  The
 * user-visible behaviour (commands, output, JSON, exit codes) is specified in
 * spec/wallet.md.
 *
 * Read next: cli/nanum.c (options and the command table), cli/txn.c (how a
 * transaction is built, signed, submitted and awaited), cli/verify.c.
 */
#ifndef NANUM_WALLET_H
#define NANUM_WALLET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "protocol.h"

/* --- Errors (library-style: negative codes, one table) -------------------- */

#define WALLET_ERRORS(X)                                                                      \
    X(WALLET_E_USAGE, -1, "wrong command-line usage")                                         \
    X(WALLET_E_IO, -2, "cannot read or write a file")                                         \
    X(WALLET_E_NOMEM, -3, "out of memory")                                                    \
    X(WALLET_E_UNREACHABLE, -4, "the node cannot be reached")                                 \
    X(WALLET_E_BAD_RESPONSE, -5, "the node's answer is not what the API promises")            \
    X(WALLET_E_NOT_FOUND, -6, "no such account, resource, booking, proposal or transaction") \
    X(WALLET_E_REJECTED, -7, "the transaction was rejected")                                  \
    X(WALLET_E_BAD_PASSPHRASE, -8, "wrong passphrase")                                        \
    X(WALLET_E_KEYSTORE, -9, "the keystore file is damaged or not a keystore")                \
    X(WALLET_E_EXISTS, -10, "the file already exists")                                        \
    X(WALLET_E_VERIFY, -11, "verification failed")                                            \
    X(WALLET_E_WRONG_NETWORK, -12, "the node is on a different network")                      \
    X(WALLET_E_DECLINED, -13, "declined at the prompt")                                       \
    X(WALLET_E_TIMEOUT, -14, "gave up waiting")                                               \
    X(WALLET_E_CRYPTO, -15, "libsodium failed")

enum wallet_error {
#define WALLET_ERROR_ENUM(name, value, message) name = value,
    WALLET_ERRORS(WALLET_ERROR_ENUM)
#undef WALLET_ERROR_ENUM
};
const char *wallet_strerror(int code);
const char *wallet_errname(int code);

/* Exit codes (spec/wallet.md "Exit codes"): scripts rely on them. */
enum wallet_exit {
    WALLET_EXIT_OK = 0,
    WALLET_EXIT_ERROR = 1,       /* local trouble: keystore, passphrase, file, declined */
    WALLET_EXIT_USAGE = 2,
    WALLET_EXIT_REJECTED = 3,    /* refused by the node or failed in the ledger */
    WALLET_EXIT_UNREACHABLE = 4, /* no answer, or not an API answer */
    WALLET_EXIT_VERIFY = 5,      /* a proof did not check: the node lied or broke */
    WALLET_EXIT_NOT_FOUND = 6,
    WALLET_EXIT_WRONG_NETWORK = 7,
};
/* Maps an error code (0 or negative) to the exit code of the process. */
int wallet_exit_code(int code);

/* --- Limits ----------------------------------------------------------------- */

#define WALLET_RESPONSE_BYTES_MAX (32u << 20) /* one API answer (a ledger with proofs) */
#define WALLET_ARGS_MAX 64                    /* words on one command line */
#define WALLET_PATH_BYTES_MAX 4096
#define WALLET_PASSPHRASE_BYTES_MAX 1024
#define WALLET_NAME_BYTES_MAX 64              /* a keystore name */
#define WALLET_WAIT_MS_MAX 60000              /* how long to wait for a commit */
#define WALLET_POLL_MS 100                    /* between two status polls */
#define WALLET_HISTORY_LEDGERS_MAX 100000     /* ledgers `history` may scan */
#define WALLET_KEYSTORE_BYTES_MAX 4096
#define WALLET_MESSAGE_BYTES_MAX 512

/* --- The run: options and the current command's words ---------------------- */

struct wallet_ctx {
    const char *node_url;     /* --node, NANUM_NODE, config, or the default */
    const char *home;         /* --home, NANUM_HOME, or ~/.nanum */
    const char *key_name;     /* --name, NANUM_WALLET, or "default" */
    const char *genesis_path; /* --genesis, NANUM_GENESIS, or config */
    bool json;                /* --json: machine output on stdout */
    bool yes;                 /* --yes: no confirmation questions */
    bool no_wait;             /* --no-wait: return the hash at once */
    bool fee_set;
    uint64_t fee;             /* --fee, in minor units */
    /* The command's own words, global options removed. */
    int argc;
    char *argv[WALLET_ARGS_MAX];
    /* Filled lazily. */
    bool network_known;
    uint8_t network_id[NODE_HASH_BYTES];
    struct node_genesis *genesis; /* loaded when genesis_path is set */
    char message[WALLET_MESSAGE_BYTES_MAX]; /* the sentence for the member on error */
    char result[64];          /* the node's refusal or ledger result name, if any */
};

/* Sets ctx->message (printf-style) and returns code, for `return wallet_fail(...)`. */
int wallet_fail(struct wallet_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Removes "--flag" from the command's words; true if it was there. */
bool wallet_take_flag(struct wallet_ctx *ctx, const char *flag);
/* Removes "--opt VALUE" (or --opt=VALUE); *value is NULL if absent.
 * WALLET_E_USAGE if the option is given without a value. */
int wallet_take_option(struct wallet_ctx *ctx, const char *opt, const char **value);
/* WALLET_E_USAGE (with a message) unless exactly between min and max
 * positional words remain and none of them looks like an option. */
int wallet_expect_args(struct wallet_ctx *ctx, int min, int max, const char *usage);

/* A subcommand: argv[0] is its name. */
struct wallet_command {
    const char *name;
    int (*run)(struct wallet_ctx *ctx);
    const char *usage;
    const char *help;
};

/* --- HTTP client (http.c): one per process, over libcurl ------------------- */

/*
 * GET path from the node; on a JSON answer *out is the parsed body (owned by
 * the caller) and *status the HTTP status.  WALLET_E_UNREACHABLE (message
 * names the URL) when no HTTP answer came; WALLET_E_BAD_RESPONSE when the
 * body is not JSON.
 */
int wallet_http_get(struct wallet_ctx *ctx, const char *path, long *status, json_t **out);
/* POSTs {"tx": hex} to /v1/tx; same results as wallet_http_get. */
int wallet_http_post_tx(struct wallet_ctx *ctx, const char *hex, long *status, json_t **out);
/* GET that expects 200: otherwise the API error becomes the message, and a 404
 * is WALLET_E_NOT_FOUND. */
int wallet_get_ok(struct wallet_ctx *ctx, const char *path, json_t **out);
void wallet_http_cleanup(void);

/* --- Network identity (network.c) ------------------------------------------ */

/* Loads the genesis (if configured) and makes sure the node is on that
 * network; without a genesis, takes the node's network id.  Idempotent. */
int wallet_network(struct wallet_ctx *ctx);
/* The current value of a network parameter: genesis (or the default), then
 * every enacted param.set proposal in order of effect. */
int wallet_param(struct wallet_ctx *ctx, unsigned param_id, uint64_t *value);

/*
 * What signs ledger H, known from the genesis and the enacted governance
 * changes: the validator set and quorum threshold after ledger H - 1 (in
 * force while H was agreed) and after ledger H (what H's header commits to
 * in validator_set_hash).  Sets are sorted by node key.
 */
struct wallet_validators {
    struct node_validator_set before, after;
    uint64_t threshold_bp_before, threshold_bp_after;
};
/* Fills v for ledger height (>= 1).  Needs the genesis. */
int wallet_validators_for(struct wallet_ctx *ctx, uint64_t height, struct wallet_validators *v);
void wallet_validators_free(struct wallet_validators *v);

/* --- Keystore (keystore.c) -------------------------------------------------- */

#define WALLET_SEED_BYTES 32
#define WALLET_KEYSTORE_KIND "nanum-wallet-keystore"

/* The passphrase: NANUM_PASSPHRASE, else a prompt on the terminal without
 * echo (twice when confirm).  WALLET_E_USAGE when neither is possible. */
int wallet_passphrase(struct wallet_ctx *ctx, bool confirm, char out[static WALLET_PASSPHRASE_BYTES_MAX]);

/* Seals seed under passphrase into the JSON text of a keystore (caller frees
 * *text).  opslimit/memlimit are argon2id's costs. */
int wallet_keystore_seal(const uint8_t seed[static WALLET_SEED_BYTES], const char *passphrase,
                         const char *name, unsigned long long opslimit, size_t memlimit, char **text);
/* Opens a keystore's JSON text: WALLET_E_KEYSTORE if it is not a well-formed
 * keystore, WALLET_E_BAD_PASSPHRASE if the passphrase does not open it. */
int wallet_keystore_open(const char *text, size_t len, const char *passphrase,
                         uint8_t seed[static WALLET_SEED_BYTES], uint8_t public_key[static NODE_KEY_BYTES]);
/* Reads the public address of a keystore without the passphrase. */
int wallet_keystore_public(const char *text, size_t len, uint8_t public_key[static NODE_KEY_BYTES]);
/* Reads a plain key file (spec/config.md "Key files"). */
int wallet_plain_key_parse(const char *text, size_t len, uint8_t seed[static WALLET_SEED_BYTES]);
/* Writes text to path with mode 0600, never over an existing file. */
int wallet_write_new_file(const char *path, const char *text);
/* Reads at most max bytes of path into *text (NUL-terminated, caller frees). */
int wallet_read_file(const char *path, size_t max, char **text, size_t *len);
/* The keystore path of ctx->key_name: HOME/keys/NAME.json. */
int wallet_keystore_path(struct wallet_ctx *ctx, char out[static WALLET_PATH_BYTES_MAX]);
/* Seals seed under a passphrase (asked twice) into the chosen keystore, which
 * must not exist yet, and prints its address (cmd_keygen.c). */
int wallet_store_new_key(struct wallet_ctx *ctx, const uint8_t seed[static WALLET_SEED_BYTES]);
/* Loads the public key of the chosen keystore (no passphrase). */
int wallet_load_public(struct wallet_ctx *ctx, uint8_t public_key[static NODE_KEY_BYTES]);
/* Loads the secret key of the chosen keystore, asking for the passphrase. */
int wallet_load_secret(struct wallet_ctx *ctx, uint8_t public_key[static NODE_KEY_BYTES],
                       uint8_t secret_key[static NODE_SECRET_KEY_BYTES]);

/* --- Formatting (format.c) -------------------------------------------------- */

/* "12.50" of minor units (static rotating buffers: up to 8 in one printf). */
const char *wallet_amount(uint64_t minor);
/* Local time "2026-11-22 14:00" of unix seconds (rotating buffers). */
const char *wallet_time(uint64_t unix_s);
/* Parses "2026-11-22T14:00" (local), "2026-11-22 14:00", or unix seconds. */
int wallet_time_parse(const char *text, uint64_t *unix_s);
/* Whole started hours of [start, end): ceil((end - start) / 3600). */
uint64_t wallet_hours(uint64_t start, uint64_t end);
/* An unsigned JSON integer field, or def if absent / not an integer. */
uint64_t wallet_json_u64(const json_t *obj, const char *key, uint64_t def);
const char *wallet_json_str(const json_t *obj, const char *key);
/* Prints obj as indented JSON on stdout (steals obj). */
void wallet_print_json(json_t *obj);
/* Parses a positive decimal id. */
int wallet_parse_id(struct wallet_ctx *ctx, const char *text, const char *what, uint64_t *out);
/* Parses an address, with a message that says what went wrong. */
int wallet_parse_address(struct wallet_ctx *ctx, const char *text, uint8_t key[static NODE_KEY_BYTES]);
/* Parses an amount, with a message. */
int wallet_parse_amount(struct wallet_ctx *ctx, const char *text, uint64_t *out);

/* --- Transactions (txn.c) ---------------------------------------------------- */

/* The outcome of submitting a transaction. */
struct wallet_tx_outcome {
    char hash[2 * NODE_HASH_BYTES + 1];
    bool committed;       /* in a ledger (ok or failed) */
    uint64_t height;
    unsigned result_code; /* ledger result; 0 ok */
    char result[64];      /* its name */
    uint8_t source[NODE_KEY_BYTES];
};

/*
 * Builds, signs and submits tx for the chosen keystore: fills source, seq
 * (the account's last + 1) and fee, signs locally, POSTs, and unless
 * --no-wait waits until it is committed or failed.  Returns 0 when it was
 * accepted (and, waiting, committed with result ok); WALLET_E_REJECTED with a
 * sentence saying what to do otherwise.  out may be NULL.
 */
int wallet_tx_submit(struct wallet_ctx *ctx, struct node_tx *tx, struct wallet_tx_outcome *out);
/* Prints the outcome (human or JSON, adding extra's fields; steals extra). */
void wallet_tx_print(struct wallet_ctx *ctx, const struct wallet_tx_outcome *out, json_t *extra);
/* A sentence that tells a member what to do about result name (or NULL). */
const char *wallet_result_hint(const char *result);

/* --- Proofs (verify.c) ------------------------------------------------------- */

/* true if signers satisfy the network's quorum set for set and threshold_bp
 * (node_quorum_build: per org a simple majority; at the top
 * min(n, ⌊n × threshold_bp / 10,000⌋ + 1) of the n orgs). */
bool wallet_quorum_satisfied(const struct node_validator_set *set, uint64_t threshold_bp,
                             const uint8_t (*signers)[NODE_KEY_BYTES], size_t count);
/*
 * Checks a ledger JSON (GET /v1/ledgers/H?proofs=1) without trusting the
 * node: header bytes decode and have the height asked for; the header's
 * validator_set_hash is that of v->after; certificate signatures over the
 * recomputed header hash by a quorum of v->before (or, at a change, of
 * v->after); the Merkle root of the envelopes is the header's tx_set_hash;
 * and, if only_tx_index >= 0, that transaction's Merkle path.  On failure
 * returns WALLET_E_VERIFY with the failure named in ctx->message.
 * header_hash gets the recomputed hash.
 */
int wallet_verify_ledger(struct wallet_ctx *ctx, const json_t *ledger, uint64_t height,
                         const struct wallet_validators *v, long only_tx_index,
                         uint8_t header_hash[static NODE_HASH_BYTES]);

/* The address at argv[index], or the keystore's own when absent (cmd_balance.c). */
int wallet_address_arg(struct wallet_ctx *ctx, int index, char out[static NODE_ADDRESS_TEXT_BYTES + 1]);
/* GET /v1/ledgers/WHICH[?proofs=1] (cmd_ledger.c). */
int wallet_fetch_ledger(struct wallet_ctx *ctx, const char *which, bool proofs, json_t **out);
/* Checks a fetched ledger against the validators known for height, naming
 * the node in the message on failure (cmd_ledger.c). */
int wallet_verify_fetched(struct wallet_ctx *ctx, const json_t *ledger, uint64_t height, long tx_index,
                          uint8_t hash[static NODE_HASH_BYTES]);

/* --- Commands (one file each) ------------------------------------------------- */

int wallet_cmd_keygen(struct wallet_ctx *ctx);
int wallet_cmd_address(struct wallet_ctx *ctx);
int wallet_cmd_import(struct wallet_ctx *ctx);
int wallet_cmd_export(struct wallet_ctx *ctx);
int wallet_cmd_balance(struct wallet_ctx *ctx);
int wallet_cmd_pay(struct wallet_ctx *ctx);
int wallet_cmd_resource(struct wallet_ctx *ctx);
int wallet_cmd_book(struct wallet_ctx *ctx);
int wallet_cmd_cancel(struct wallet_ctx *ctx);
int wallet_cmd_complete(struct wallet_ctx *ctx);
int wallet_cmd_rate(struct wallet_ctx *ctx);
int wallet_cmd_history(struct wallet_ctx *ctx);
int wallet_cmd_gov(struct wallet_ctx *ctx);
int wallet_cmd_status(struct wallet_ctx *ctx);
int wallet_cmd_ledger(struct wallet_ctx *ctx);
int wallet_cmd_tx(struct wallet_ctx *ctx);

#endif
