/*
 * validator_list.h — the cooperative's signed validator list (DESIGN §7,
 * spec/validator-list.md): the document, its signature, and the fetcher
 * that keeps a running node's copy fresh.
 *
 * Two halves:
 *   - pure functions over struct nanumd_vlist (parse, sign, check, compare
 *     with the ledger's validator set, write as JSON), used by the
 *     `nanumd validator-list sign` command, by the fetcher and by tests;
 *   - the fetcher: libcurl's multi interface driven by the daemon's libuv
 *     loop (a uv_poll_t per socket, one uv_timer_t for curl's timeout), so
 *     no fetch ever blocks the loop.  It refreshes on an interval, backs off
 *     on failure, caches the last good list on disk, and reports.
 *
 * The list never changes whom the node trusts: the ledger's validator set
 * (changed only by governance) does.  A list that disagrees with the ledger,
 * is older than the last good one, is badly signed or has expired is a loud
 * log line and a metric.  What the list does change: the peers the node
 * dials (its address hints).
 *
 * Read next: node/daemon/validator_list.c, node/daemon/metrics.c (what is reported).
 */
#ifndef NANUM_NODE_VALIDATOR_LIST_H
#define NANUM_NODE_VALIDATOR_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol.h"

struct nanumd;

/* X(name, value, outcome label, message): one table yields the codes, the
 * outcome labels of the metrics and log lines, and the messages. */
#define NANUMD_VLIST_ERRORS(X)                                                                      \
    X(NANUMD_VLIST_E_MALFORMED, -1, "malformed", "the document is not a valid validator list")      \
    X(NANUMD_VLIST_E_PUBLISHER, -2, "wrong_publisher", "the list is not from the configured publisher") \
    X(NANUMD_VLIST_E_SIGNATURE, -3, "bad_signature", "the signature does not verify")               \
    X(NANUMD_VLIST_E_OLD_SEQUENCE, -4, "old_sequence", "the sequence is older than the last good list") \
    X(NANUMD_VLIST_E_EXPIRED, -5, "expired", "the list has expired")                                 \
    X(NANUMD_VLIST_E_NOT_YET_VALID, -6, "not_yet_valid", "the list's validity starts in the future") \
    X(NANUMD_VLIST_E_TOO_LARGE, -7, "too_large", "the document is over its size limit")             \
    X(NANUMD_VLIST_E_FETCH, -8, "fetch_failed", "the list could not be fetched")                     \
    X(NANUMD_VLIST_E_IO, -9, "io", "a file could not be read or written")                            \
    X(NANUMD_VLIST_E_NOMEM, -10, "nomem", "out of memory")                                           \
    X(NANUMD_VLIST_E_INVALID, -11, "invalid", "invalid argument")

enum nanumd_vlist_error {
#define NANUMD_VLIST_ERROR_ENUM(name, value, label, message) name = value,
    NANUMD_VLIST_ERRORS(NANUMD_VLIST_ERROR_ENUM)
#undef NANUMD_VLIST_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *nanumd_vlist_strerror(int code);
/* Returns the outcome label of code: "accepted" for 0, "bad_signature"... */
const char *nanumd_vlist_outcome(int code);

/* Limits (spec/limits.md). */
#define NANUMD_VLIST_DOCUMENT_BYTES_MAX (512u << 10) /* a fetched or cached document */
#define NANUMD_VLIST_URLS_MAX 4                      /* [validator_list] url entries */
#define NANUMD_VLIST_URL_BYTES_MAX 160               /* one URL */
#define NANUMD_VLIST_FETCH_TIMEOUT_MS 10000          /* one HTTP fetch, all of it */
#define NANUMD_VLIST_BACKOFF_MS_MIN 1000             /* first retry after a failure */
#define NANUMD_VLIST_PEERS_LEARNED_MAX 64            /* address hints dialled */
#define NANUMD_VLIST_OUTCOMES 12                     /* 0 and the codes above */

/* One list: the signed body and its signature. */
struct nanumd_vlist {
    uint8_t publisher[NODE_KEY_BYTES];
    uint64_t sequence;
    uint64_t valid_from_s;  /* unix seconds */
    uint64_t expires_s;     /* unix seconds; valid while now < expires_s */
    uint32_t count;
    struct node_validator *validators; /* owned; count entries, NODE_VALIDATORS_MAX at most */
    uint8_t signature[NODE_SIGNATURE_BYTES];
};

/* Frees the validators of l (NULL-safe) and zeroes it. */
void nanumd_vlist_free(struct nanumd_vlist *l);

/* Appends the canonical msgpack of l's body (everything but the signature)
 * to out: [publisher, sequence, valid_from_s, expires_s, [[node_key, org,
 * address]...]].  Returns 0 or NANUMD_VLIST_E_NOMEM. */
int nanumd_vlist_body_encode(const struct nanumd_vlist *l, struct node_buf *out);

/* Signs l with secret_key for network_id: sets publisher (from the key) and
 * signature.  Returns 0 or a negative code. */
int nanumd_vlist_sign(struct nanumd_vlist *l, const uint8_t network_id[static NODE_HASH_BYTES],
                      const uint8_t secret_key[static NODE_SECRET_KEY_BYTES]);

/* Writes l as the JSON document of spec/validator-list.md into *out
 * (malloc'd, NUL-terminated; the caller frees).  Returns 0 or a code. */
int nanumd_vlist_to_json(const struct nanumd_vlist *l, char **out);

/* Parses a JSON document (len bytes) into out (nanumd_vlist_free it).
 * Checks form only, not the signature.  Returns 0 or
 * NANUMD_VLIST_E_MALFORMED / _TOO_LARGE / _NOMEM with a sentence in err. */
int nanumd_vlist_parse(const char *text, size_t len, struct nanumd_vlist *out, char *err, size_t err_len);

/* Checks l against the trusted publisher key, the network, the clock and
 * the last good sequence (0: none yet).  Returns 0 or, in this order,
 * NANUMD_VLIST_E_PUBLISHER, _SIGNATURE, _OLD_SEQUENCE, _NOT_YET_VALID,
 * _EXPIRED. */
int nanumd_vlist_check(const struct nanumd_vlist *l, const uint8_t publisher[static NODE_KEY_BYTES],
                       const uint8_t network_id[static NODE_HASH_BYTES], uint64_t now_s,
                       uint64_t last_sequence);

/* Compares l with the ledger's set by node key (and org of keys in both).
 * OUT: missing = in the list but not the ledger (or with another org),
 * extra = in the ledger but not the list.  Returns missing + extra. */
uint32_t nanumd_vlist_compare(const struct nanumd_vlist *l, const struct node_validator_set *set,
                              uint32_t *missing, uint32_t *extra);

/* --- The fetcher on a running node ----------------------------------------------- */

/* What the fetcher is told (from [validator_list] in the config file). */
struct nanumd_vlist_options {
    bool enabled;
    uint8_t publisher[NODE_KEY_BYTES];
    uint32_t url_count;
    char urls[NANUMD_VLIST_URLS_MAX][NANUMD_VLIST_URL_BYTES_MAX + 1];
    uint32_t refresh_s;
    char cache_file[4096];
};

/* What the metrics and the admin API read. */
struct nanumd_vlist_status {
    bool have_list;                 /* a good list is held */
    uint64_t sequence;              /* of the held list */
    uint64_t expires_s;
    uint32_t validators;            /* in the held list */
    bool expired;                   /* the held list has expired */
    uint32_t mismatch_missing;      /* see nanumd_vlist_compare */
    uint32_t mismatch_extra;
    uint64_t last_success_s;        /* unix time of the last good fetch; 0 never */
    uint32_t consecutive_failures;
    uint64_t next_attempt_in_ms;
    int last_outcome;               /* 0 or a NANUMD_VLIST_E_* code */
    uint64_t outcomes[NANUMD_VLIST_OUTCOMES]; /* index -code (0: accepted) */
    uint32_t peers_learned;
};

/* Starts the fetcher of d if options->enabled (else does nothing): loads
 * the cached list, then fetches at once and every refresh_s.  Returns 0 or
 * a negative code (the node then does not start). */
int nanumd_vlist_start(struct nanumd *d, const struct nanumd_vlist_options *options);
/* Stops fetching; handles are closed (run the loop once more).  NULL-safe. */
void nanumd_vlist_stop(struct nanumd *d);
/* Copies the fetcher's status into *out; false when no fetcher runs. */
bool nanumd_vlist_status_get(const struct nanumd *d, struct nanumd_vlist_status *out);
/* Compares the held list again, after the ledger's validator set changed. */
void nanumd_vlist_validators_changed(struct nanumd *d);

/* `nanumd validator-list sign ...` (argv[0] is "validator-list"). */
int nanumd_vlist_main(int argc, char **argv);

#endif
