/*
 * validator_list.c — the cooperative's signed validator list: the document
 * (JSON outside, canonical msgpack under the signature), the checks, and the
 * fetcher that runs libcurl's multi interface on the daemon's libuv loop.
 *
 * How curl meets libuv: curl tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION → one uv_poll_t per socket) and when to call it
 * back anyway (CURLMOPT_TIMERFUNCTION → one uv_timer_t); we tell curl what
 * happened with curl_multi_socket_action().  No call here waits on the
 * network, so a slow or dead list server never stalls consensus.
 *
 * The file ends with the `nanumd validator-list sign|verify` commands.
 *
 * Read next: spec/validator-list.md (the format), node/daemon/metrics.c (what the
 * status becomes).
 */
#define _GNU_SOURCE /* strptime, timegm */
#include "validator_list.h"

#include <curl/curl.h>
#include <sodium.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "keys.h"
#include "log.h"

/* --- Errors ------------------------------------------------------------------------ */

const char *nanumd_vlist_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define NANUMD_VLIST_ERROR_MESSAGE(name, value, label, message) \
    case name:                                                   \
        return message;
        NANUMD_VLIST_ERRORS(NANUMD_VLIST_ERROR_MESSAGE)
#undef NANUMD_VLIST_ERROR_MESSAGE
    }
    return "unknown error";
}

const char *nanumd_vlist_outcome(int code)
{
    switch (code) {
    case 0:
        return "accepted";
#define NANUMD_VLIST_ERROR_LABEL(name, value, label, message) \
    case name:                                                 \
        return label;
        NANUMD_VLIST_ERRORS(NANUMD_VLIST_ERROR_LABEL)
#undef NANUMD_VLIST_ERROR_LABEL
    }
    return "unknown";
}

/* --- The document -------------------------------------------------------------------- */

void nanumd_vlist_free(struct nanumd_vlist *l)
{
    if (l == NULL)
        return;
    free(l->validators);
    memset(l, 0, sizeof *l);
}

int nanumd_vlist_body_encode(const struct nanumd_vlist *l, struct node_buf *out)
{
    struct node_validator_list body = {.sequence = l->sequence, .valid_from_s = l->valid_from_s,
                                       .expires_s = l->expires_s, .count = l->count,
                                       .validators = l->validators};
    memcpy(body.publisher, l->publisher, NODE_KEY_BYTES);
    int rc = node_validator_list_encode(&body, out);
    return rc == 0 ? 0 : rc == NODE_E_TOO_MANY ? NANUMD_VLIST_E_TOO_LARGE : NANUMD_VLIST_E_NOMEM;
}

int nanumd_vlist_sign(struct nanumd_vlist *l, const uint8_t network_id[static NODE_HASH_BYTES],
                      const uint8_t secret_key[static NODE_SECRET_KEY_BYTES])
{
    /* libsodium's secret key is seed || public key. */
    memcpy(l->publisher, secret_key + 32, NODE_KEY_BYTES);
    struct node_buf body;
    node_buf_init(&body);
    int rc = nanumd_vlist_body_encode(l, &body);
    if (rc == 0 && node_sign(NODE_DOMAIN_VALIDATOR_LIST, network_id, body.data, body.len, secret_key,
                             l->signature) != 0)
        rc = NANUMD_VLIST_E_INVALID;
    node_buf_free(&body);
    return rc;
}

/* The key as a nanum address string. */
static json_t *address_json(const uint8_t key[NODE_KEY_BYTES])
{
    char text[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(key, text);
    return json_string(text);
}

int nanumd_vlist_to_json(const struct nanumd_vlist *l, char **out)
{
    json_t *list = json_array();
    for (uint32_t i = 0; i < l->count; i++)
        json_array_append_new(list, json_pack("{s:o, s:o, s:s}", "node_key", address_json(l->validators[i].node_key),
                                              "org", address_json(l->validators[i].org), "address",
                                              l->validators[i].address));
    char sig[2 * NODE_SIGNATURE_BYTES + 1];
    node_hex_encode(l->signature, NODE_SIGNATURE_BYTES, sig);
    json_t *doc = json_pack("{s:i, s:o, s:I, s:I, s:I, s:o, s:s}", "version", 1, "publisher",
                            address_json(l->publisher), "sequence", (json_int_t)l->sequence, "valid_from",
                            (json_int_t)l->valid_from_s, "expires", (json_int_t)l->expires_s, "validators",
                            list, "signature", sig);
    if (doc == NULL)
        return NANUMD_VLIST_E_NOMEM;
    *out = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return *out ? 0 : NANUMD_VLIST_E_NOMEM;
}

/* Writes what into err (if any) and returns rc: one line per refusal. */
static int fail(char *err, size_t err_len, int rc, const char *what)
{
    if (err != NULL && err_len > 0)
        snprintf(err, err_len, "%s", what);
    return rc;
}

/* Reads a non-negative integer field; false if absent or of another type. */
static bool get_u64(json_t *obj, const char *name, uint64_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

/* Reads an address field into key; false if absent or not an address. */
static bool get_key(json_t *obj, const char *name, uint8_t key[NODE_KEY_BYTES])
{
    const char *text = json_string_value(json_object_get(obj, name));
    return text != NULL && node_address_decode(text, key) == 0;
}

/* Parses one validators[] entry into v; false when malformed. */
static bool parse_validator(json_t *entry, struct node_validator *v)
{
    const char *address = json_string_value(json_object_get(entry, "address"));
    if (!json_is_object(entry) || !get_key(entry, "node_key", v->node_key) || !get_key(entry, "org", v->org) ||
        address == NULL || strlen(address) > NODE_ADDRESS_HINT_BYTES_MAX)
        return false;
    snprintf(v->address, sizeof v->address, "%s", address);
    return true;
}

/* Parses validators[] into out (allocating it); the order is checked. */
static int parse_validators(json_t *array, struct nanumd_vlist *out, char *err, size_t err_len)
{
    size_t n = json_array_size(array);
    if (!json_is_array(array) || n > NODE_VALIDATORS_MAX)
        return fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "'validators' must be an array of at most 1000 entries");
    out->validators = calloc(n ? n : 1, sizeof *out->validators);
    if (out->validators == NULL)
        return NANUMD_VLIST_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!parse_validator(json_array_get(array, i), &out->validators[i]))
            return fail(err, err_len, NANUMD_VLIST_E_MALFORMED,
                        "a validators[] entry needs node_key and org addresses and an address hint");
        /* Canonical order: ascending node keys, no key twice. */
        if (i > 0 && memcmp(out->validators[i - 1].node_key, out->validators[i].node_key, NODE_KEY_BYTES) >= 0)
            return fail(err, err_len, NANUMD_VLIST_E_MALFORMED,
                        "validators[] must be sorted by node key, each key once");
        out->count = (uint32_t)i + 1;
    }
    return 0;
}

/* Parses every member of the document but the validators, then them. */
static int parse_root(json_t *root, struct nanumd_vlist *out, char *err, size_t err_len)
{
    uint64_t version = 0;
    const char *sig = json_string_value(json_object_get(root, "signature"));
    if (!json_is_object(root) || !get_u64(root, "version", &version) || version != 1)
        return fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "expected a JSON object with \"version\": 1");
    if (!get_key(root, "publisher", out->publisher))
        return fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "'publisher' must be a node address");
    if (!get_u64(root, "sequence", &out->sequence) || !get_u64(root, "valid_from", &out->valid_from_s) ||
        !get_u64(root, "expires", &out->expires_s))
        return fail(err, err_len, NANUMD_VLIST_E_MALFORMED,
                    "'sequence', 'valid_from' and 'expires' must be non-negative integers");
    if (sig == NULL || strlen(sig) != 2 * NODE_SIGNATURE_BYTES ||
        node_hex_decode(sig, out->signature, NODE_SIGNATURE_BYTES) != 0)
        return fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "'signature' must be 128 hexadecimal digits");
    return parse_validators(json_object_get(root, "validators"), out, err, err_len);
}

int nanumd_vlist_parse(const char *text, size_t len, struct nanumd_vlist *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (len > NANUMD_VLIST_DOCUMENT_BYTES_MAX)
        return fail(err, err_len, NANUMD_VLIST_E_TOO_LARGE, "the document is over 512 KiB");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "the document is not JSON");
    int rc = parse_root(root, out, err, err_len);
    json_decref(root);
    if (rc != 0)
        nanumd_vlist_free(out);
    return rc;
}

int nanumd_vlist_check(const struct nanumd_vlist *l, const uint8_t publisher[static NODE_KEY_BYTES],
                       const uint8_t network_id[static NODE_HASH_BYTES], uint64_t now_s,
                       uint64_t last_sequence)
{
    if (memcmp(l->publisher, publisher, NODE_KEY_BYTES) != 0)
        return NANUMD_VLIST_E_PUBLISHER;
    struct node_buf body;
    node_buf_init(&body);
    int rc = nanumd_vlist_body_encode(l, &body);
    if (rc == 0 && node_verify(NODE_DOMAIN_VALIDATOR_LIST, network_id, body.data, body.len, publisher,
                               l->signature) != 0)
        rc = NANUMD_VLIST_E_SIGNATURE;
    node_buf_free(&body);
    if (rc != 0)
        return rc;
    if (l->sequence < last_sequence)
        return NANUMD_VLIST_E_OLD_SEQUENCE;
    if (now_s < l->valid_from_s)
        return NANUMD_VLIST_E_NOT_YET_VALID;
    if (now_s >= l->expires_s)
        return NANUMD_VLIST_E_EXPIRED;
    return 0;
}

uint32_t nanumd_vlist_compare(const struct nanumd_vlist *l, const struct node_validator_set *set,
                              uint32_t *missing, uint32_t *extra)
{
    /* Both are sorted by node key: one merge pass. */
    uint32_t i = 0, j = 0, miss = 0, more = 0;
    while (i < l->count || j < set->count) {
        int c = i == l->count   ? 1
                : j == set->count ? -1
                                  : memcmp(l->validators[i].node_key, set->validators[j].node_key, NODE_KEY_BYTES);
        if (c < 0) {
            miss++, i++;
        } else if (c > 0) {
            more++, j++;
        } else {
            if (memcmp(l->validators[i].org, set->validators[j].org, NODE_KEY_BYTES) != 0)
                miss++;
            i++, j++;
        }
    }
    *missing = miss;
    *extra = more;
    return miss + more;
}


/* --- The fetcher ----------------------------------------------------------------------- */

struct nanumd_vlist_fetcher {
    struct nanumd *d;
    struct nanumd_vlist_options options;
    struct nanumd_vlist held;       /* the last good list (status.have_list) */
    struct nanumd_vlist_status status;
    CURLM *multi;
    CURL *easy;                     /* the fetch in flight, or NULL */
    char url[NANUMD_VLIST_URL_BYTES_MAX + 1]; /* of the fetch in flight */
    uv_timer_t curl_timer;          /* curl's own timeouts */
    uv_timer_t refresh_timer;       /* the next fetch */
    int handles_open;               /* the two timers: freed after both closed */
    struct node_buf body;
    bool body_too_large;            /* the write callback refused more */
    uint32_t url_index;
    uint64_t next_attempt_ms;       /* uv_now of the next fetch */
    uint32_t learned_count;
    char learned[NANUMD_VLIST_PEERS_LEARNED_MAX][NODE_ADDRESS_HINT_BYTES_MAX + 1];
};

/* The wall clock in unix seconds: validity windows are in it. */
static uint64_t unix_now_s(void)
{
    return (uint64_t)time(NULL);
}

/* One socket curl asked us to watch; freed in its close callback. */
struct vlist_socket {
    uv_poll_t poll;
    curl_socket_t fd;
    struct nanumd_vlist_fetcher *f;
};

static void fetch_start(uv_timer_t *t);
static void check_done(struct nanumd_vlist_fetcher *f);

/* Arms the next fetch delay_ms from now. */
static void schedule_fetch(struct nanumd_vlist_fetcher *f, uint64_t delay_ms)
{
    f->next_attempt_ms = uv_now(f->d->loop) + delay_ms;
    uv_timer_start(&f->refresh_timer, fetch_start, delay_ms, 0);
}

/* The retry delay after `failures` failures in a row: doubling from
 * NANUMD_VLIST_BACKOFF_MS_MIN, never beyond the refresh interval. */
static uint64_t backoff_ms(const struct nanumd_vlist_fetcher *f, uint32_t failures)
{
    uint64_t refresh_ms = (uint64_t)f->options.refresh_s * 1000;
    uint32_t shift = failures > 1 ? failures - 1 : 0;
    uint64_t delay = shift >= 20 ? refresh_ms : (uint64_t)NANUMD_VLIST_BACKOFF_MS_MIN << shift;
    return delay < refresh_ms ? delay : refresh_ms;
}

/* Frees a watched socket once libuv has closed its poll handle. */
static void socket_closed(uv_handle_t *h)
{
    free(h->data);
}

/* A watched socket is ready: tells curl, then collects finished transfers. */
static void on_poll(uv_poll_t *poll, int status, int events)
{
    struct vlist_socket *s = poll->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    struct nanumd_vlist_fetcher *f = s->f; /* s may be freed by the call below */
    int running;
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    check_done(f);
}

/* CURLMOPT_SOCKETFUNCTION: watch, re-watch or forget one socket. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct nanumd_vlist_fetcher *f = userp;
    struct vlist_socket *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, socket_closed);
            curl_multi_assign(f->multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL || uv_poll_init_socket(f->d->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->fd = fd;
        s->f = f;
        s->poll.data = s;
        curl_multi_assign(f->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    return uv_poll_start(&s->poll, events, on_poll) == 0 ? 0 : -1;
}

/* curl's timer fired: lets it time out or retry, then collects. */
static void on_curl_timeout(uv_timer_t *t)
{
    struct nanumd_vlist_fetcher *f = t->data;
    int running;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(f);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be called back in timeout_ms. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct nanumd_vlist_fetcher *f = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&f->curl_timer);
    else
        uv_timer_start(&f->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* curl write callback: keeps the body, refusing more than the limit. */
static size_t on_curl_write(char *data, size_t size, size_t count, void *userp)
{
    struct nanumd_vlist_fetcher *f = userp;
    size_t n = size * count;
    if (f->body.len + n > NANUMD_VLIST_DOCUMENT_BYTES_MAX) {
        f->body_too_large = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    if (node_buf_append(&f->body, data, n) != 0)
        return 0;
    return n;
}

/* Writes the accepted document to the cache file: a temporary file, fsync,
 * rename, so a crash leaves the old cache or the new one. */
static void cache_write(struct nanumd_vlist_fetcher *f, const uint8_t *bytes, size_t len)
{
    char tmp[sizeof f->options.cache_file + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", f->options.cache_file);
    FILE *out = fopen(tmp, "wb");
    bool ok = out != NULL && fwrite(bytes, 1, len, out) == len && fflush(out) == 0 && fsync(fileno(out)) == 0;
    if (out != NULL)
        ok = fclose(out) == 0 && ok;
    if (ok && rename(tmp, f->options.cache_file) == 0)
        return;
    unlink(tmp);
    NODE_LOG(NODE_LOG_WARN, "validator_list_cache_write_failed", "file=%s error=\"%s\"", f->options.cache_file,
             strerror(errno));
}

/* Dials the address hints of the held list that are new to us. */
static void learn_peers(struct nanumd_vlist_fetcher *f)
{
    struct nanumd *d = f->d;
    for (uint32_t i = 0; i < f->held.count && f->learned_count < NANUMD_VLIST_PEERS_LEARNED_MAX; i++) {
        const struct node_validator *v = &f->held.validators[i];
        if (memcmp(v->node_key, d->options.node_pk, NODE_KEY_BYTES) == 0 || v->address[0] == '\0' || d->net == NULL)
            continue;
        bool known = false;
        for (uint32_t k = 0; k < f->learned_count && !known; k++)
            known = strcmp(f->learned[k], v->address) == 0;
        struct node_config_endpoint ep;
        char why[160];
        if (known || node_config_endpoint_parse(v->address, &ep, why, sizeof why) != 0)
            continue;
        for (uint32_t k = 0; k < d->options.peer_count && !known; k++)
            known = d->options.peers[k].port == ep.port && strcmp(d->options.peers[k].host, ep.host) == 0;
        snprintf(f->learned[f->learned_count++], sizeof f->learned[0], "%s", v->address);
        if (known || net_add_peer(d->net, ep.host, ep.port) != 0)
            continue;
        f->status.peers_learned++;
        NODE_LOG(NODE_LOG_INFO, "validator_list_peer_added", "address=%s", v->address);
    }
}

/* Logs loudly when the held list and the ledger disagree. */
static void report_comparison(struct nanumd_vlist_fetcher *f)
{
    uint32_t missing, extra;
    if (nanumd_vlist_compare(&f->held, &f->d->validators, &missing, &extra) != 0)
        NODE_LOG(NODE_LOG_WARN, "validator_list_mismatch",
                 "sequence=%llu list_only=%u ledger_only=%u trust=ledger "
                 "advice=\"the cooperative's list and the ledger's validator set differ; consensus keeps "
                 "the ledger's set\"",
                 (unsigned long long)f->held.sequence, missing, extra);
    if (unix_now_s() >= f->held.expires_s)
        NODE_LOG(NODE_LOG_WARN, "validator_list_expired", "sequence=%llu expires=%llu",
                 (unsigned long long)f->held.sequence, (unsigned long long)f->held.expires_s);
}

/* Takes a good list (owned from now on) and its document bytes. */
static void accept_list(struct nanumd_vlist_fetcher *f, struct nanumd_vlist *l, const uint8_t *doc, size_t len)
{
    bool same = f->status.have_list && l->sequence == f->held.sequence;
    nanumd_vlist_free(&f->held);
    f->held = *l;
    memset(l, 0, sizeof *l);
    f->status.have_list = true;
    f->status.last_success_s = unix_now_s();
    if (!same) {
        cache_write(f, doc, len);
        NODE_LOG(NODE_LOG_INFO, "validator_list_accepted", "sequence=%llu validators=%u expires=%llu url=%s",
                 (unsigned long long)f->held.sequence, f->held.count, (unsigned long long)f->held.expires_s,
                 f->url);
    }
    report_comparison(f);
    learn_peers(f);
}

/* Judges a fetched document: 0 when accepted, else the reason. */
static int judge(struct nanumd_vlist_fetcher *f, long http_status, CURLcode result)
{
    char err[256] = "";
    if (f->body_too_large || result == CURLE_FILESIZE_EXCEEDED) {
        NODE_LOG(NODE_LOG_WARN, "validator_list_rejected", "reason=too_large url=%s limit_bytes=%u trust=unchanged",
                 f->url, NANUMD_VLIST_DOCUMENT_BYTES_MAX);
        return NANUMD_VLIST_E_TOO_LARGE;
    }
    if (result != CURLE_OK || http_status != 200) {
        NODE_LOG(NODE_LOG_WARN, "validator_list_fetch_failed", "url=%s http_status=%ld error=\"%s\" failures=%u",
                 f->url, http_status, result != CURLE_OK ? curl_easy_strerror(result) : "not 200",
                 f->status.consecutive_failures + 1);
        return NANUMD_VLIST_E_FETCH;
    }
    struct nanumd_vlist l;
    int rc = nanumd_vlist_parse((const char *)f->body.data, f->body.len, &l, err, sizeof err);
    if (rc == 0) {
        uint64_t floor = f->status.have_list ? f->held.sequence : 0;
        rc = nanumd_vlist_check(&l, f->options.publisher, f->d->network_id, unix_now_s(), floor);
        /* The same sequence must be the same list: a second list under one
         * number is as suspect as an older one. */
        if (rc == 0 && f->status.have_list && l.sequence == f->held.sequence &&
            memcmp(l.signature, f->held.signature, NODE_SIGNATURE_BYTES) != 0)
            rc = NANUMD_VLIST_E_OLD_SEQUENCE;
    }
    if (rc == 0) {
        accept_list(f, &l, f->body.data, f->body.len);
        return 0;
    }
    NODE_LOG(NODE_LOG_WARN, "validator_list_rejected",
             "reason=%s url=%s sequence=%llu held_sequence=%llu detail=\"%s\" trust=unchanged", nanumd_vlist_outcome(rc),
             f->url, (unsigned long long)l.sequence, (unsigned long long)(f->status.have_list ? f->held.sequence : 0),
             err[0] ? err : nanumd_vlist_strerror(rc));
    nanumd_vlist_free(&l);
    return rc;
}

/* Collects finished transfers, judges them and schedules the next fetch. */
static void check_done(struct nanumd_vlist_fetcher *f)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE || msg->easy_handle != f->easy)
            continue;
        long http_status = 0;
        curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &http_status);
        CURLcode result = msg->data.result;
        curl_multi_remove_handle(f->multi, f->easy);
        curl_easy_cleanup(f->easy);
        f->easy = NULL;
        int rc = judge(f, http_status, result);
        node_buf_free(&f->body);
        f->status.last_outcome = rc;
        f->status.outcomes[-rc < NANUMD_VLIST_OUTCOMES ? -rc : 0]++;
        if (rc == 0) {
            f->status.consecutive_failures = 0;
            schedule_fetch(f, (uint64_t)f->options.refresh_s * 1000);
        } else {
            f->status.consecutive_failures++;
            f->url_index++; /* the next mirror, if there is one */
            uint64_t delay = backoff_ms(f, f->status.consecutive_failures);
            NODE_LOG(NODE_LOG_INFO, "validator_list_retry", "in_ms=%llu failures=%u", (unsigned long long)delay,
                     f->status.consecutive_failures);
            schedule_fetch(f, delay);
        }
        return;
    }
}

/* refresh_timer: starts one fetch from the current URL. */
static void fetch_start(uv_timer_t *t)
{
    struct nanumd_vlist_fetcher *f = t->data;
    if (f->easy != NULL || f->d->stopping)
        return;
    snprintf(f->url, sizeof f->url, "%s", f->options.urls[f->url_index % f->options.url_count]);
    node_buf_init(&f->body);
    f->body_too_large = false;
    CURL *easy = curl_easy_init();
    if (easy == NULL) {
        schedule_fetch(f, backoff_ms(f, ++f->status.consecutive_failures));
        return;
    }
    curl_easy_setopt(easy, CURLOPT_URL, f->url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)NANUMD_VLIST_FETCH_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)NANUMD_VLIST_DOCUMENT_BYTES_MAX);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_curl_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "nanumd/" NANUM_VERSION);
    f->easy = easy;
    if (curl_multi_add_handle(f->multi, easy) != CURLM_OK) {
        curl_easy_cleanup(easy);
        f->easy = NULL;
        schedule_fetch(f, backoff_ms(f, ++f->status.consecutive_failures));
    }
}

/* Loads the cached list, if any: it keeps the sequence floor across
 * restarts, so an older list replayed by a server is still refused. */
static void cache_load(struct nanumd_vlist_fetcher *f)
{
    FILE *in = fopen(f->options.cache_file, "rb");
    if (in == NULL)
        return;
    char *text = malloc(NANUMD_VLIST_DOCUMENT_BYTES_MAX + 1);
    size_t len = text ? fread(text, 1, NANUMD_VLIST_DOCUMENT_BYTES_MAX + 1, in) : 0;
    fclose(in);
    struct nanumd_vlist l = {0};
    char err[256] = "";
    int rc = text ? nanumd_vlist_parse(text, len, &l, err, sizeof err) : NANUMD_VLIST_E_NOMEM;
    if (rc == 0) {
        rc = nanumd_vlist_check(&l, f->options.publisher, f->d->network_id, unix_now_s(), 0);
        if (rc == NANUMD_VLIST_E_EXPIRED || rc == NANUMD_VLIST_E_NOT_YET_VALID)
            rc = 0; /* still the floor; reported as expired by the status */
    }
    if (rc == 0) {
        snprintf(f->url, sizeof f->url, "cache");
        f->held = l;
        f->status.have_list = true;
        NODE_LOG(NODE_LOG_INFO, "validator_list_cache_loaded", "file=%s sequence=%llu validators=%u",
                 f->options.cache_file, (unsigned long long)l.sequence, l.count);
    } else {
        nanumd_vlist_free(&l);
        NODE_LOG(NODE_LOG_WARN, "validator_list_cache_rejected", "file=%s reason=%s detail=\"%s\"",
                 f->options.cache_file, nanumd_vlist_outcome(rc), err[0] ? err : nanumd_vlist_strerror(rc));
    }
    free(text);
}

int nanumd_vlist_start(struct nanumd *d, const struct nanumd_vlist_options *options)
{
    if (!options->enabled)
        return 0;
    if (options->url_count == 0 || options->refresh_s == 0)
        return NANUMD_VLIST_E_INVALID;
    struct nanumd_vlist_fetcher *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NANUMD_VLIST_E_NOMEM;
    f->d = d;
    f->options = *options;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    f->multi = curl_multi_init();
    if (f->multi == NULL) {
        free(f);
        return NANUMD_VLIST_E_NOMEM;
    }
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    uv_timer_init(d->loop, &f->curl_timer);
    uv_timer_init(d->loop, &f->refresh_timer);
    f->curl_timer.data = f->refresh_timer.data = f;
    f->handles_open = 2;
    d->vlist = f;
    cache_load(f);
    if (f->status.have_list)
        report_comparison(f);
    char who[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(options->publisher, who);
    NODE_LOG(NODE_LOG_INFO, "validator_list_fetcher_started", "publisher=%s urls=%u refresh_s=%u", who,
             options->url_count, options->refresh_s);
    schedule_fetch(f, 0);
    return 0;
}

/* Frees the fetcher after both of its timers are closed. */
static void timer_closed(uv_handle_t *h)
{
    struct nanumd_vlist_fetcher *f = h->data;
    if (--f->handles_open == 0)
        free(f);
}

void nanumd_vlist_stop(struct nanumd *d)
{
    struct nanumd_vlist_fetcher *f = d->vlist;
    if (f == NULL)
        return;
    d->vlist = NULL;
    /* Removing the transfer makes curl forget its sockets (CURL_POLL_REMOVE),
     * which closes their polls. */
    if (f->easy != NULL) {
        curl_multi_remove_handle(f->multi, f->easy);
        curl_easy_cleanup(f->easy);
        f->easy = NULL;
    }
    curl_multi_cleanup(f->multi);
    node_buf_free(&f->body);
    nanumd_vlist_free(&f->held);
    uv_timer_stop(&f->curl_timer);
    uv_timer_stop(&f->refresh_timer);
    uv_close((uv_handle_t *)&f->curl_timer, timer_closed);
    uv_close((uv_handle_t *)&f->refresh_timer, timer_closed);
}

bool nanumd_vlist_status_get(const struct nanumd *d, struct nanumd_vlist_status *out)
{
    const struct nanumd_vlist_fetcher *f = d->vlist;
    if (f == NULL)
        return false;
    *out = f->status;
    if (f->status.have_list) {
        out->sequence = f->held.sequence;
        out->expires_s = f->held.expires_s;
        out->validators = f->held.count;
        out->expired = unix_now_s() >= f->held.expires_s;
        nanumd_vlist_compare(&f->held, &d->validators, &out->mismatch_missing, &out->mismatch_extra);
    }
    uint64_t now = uv_now(d->loop);
    out->next_attempt_in_ms = f->easy == NULL && f->next_attempt_ms > now ? f->next_attempt_ms - now : 0;
    return true;
}

/* --- `nanumd validator-list sign|verify` ------------------------------------------------ */

/* Parses unix seconds or "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
static bool parse_time(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno == 0 && *end == '\0' && end != text) {
        *out = v;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return false;
    time_t t = timegm(&tm);
    if (t < 0)
        return false;
    *out = (uint64_t)t;
    return true;
}

/* qsort order of validators: node key bytes, ascending. */
static int compare_validators(const void *a, const void *b)
{
    return memcmp(((const struct node_validator *)a)->node_key, ((const struct node_validator *)b)->node_key,
                  NODE_KEY_BYTES);
}

/* Reads the validators file: a JSON array of {node_key, org, address}. */
static int read_validators(const char *path, struct nanumd_vlist *l, char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(err, err_len, "%s:%d: %s", path, jerr.line, jerr.text);
        return NANUMD_VLIST_E_MALFORMED;
    }
    json_t *array = json_is_array(root) ? root : json_object_get(root, "validators");
    size_t n = json_array_size(array);
    int rc = 0;
    l->validators = calloc(n ? n : 1, sizeof *l->validators);
    if (!json_is_array(array) || n > NODE_VALIDATORS_MAX || l->validators == NULL)
        rc = fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "expected a JSON array of at most 1000 validators");
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!parse_validator(json_array_get(array, i), &l->validators[i]))
            rc = fail(err, err_len, NANUMD_VLIST_E_MALFORMED,
                      "each validator needs \"node_key\" and \"org\" addresses and an \"address\" hint");
    json_decref(root);
    if (rc != 0)
        return rc;
    l->count = (uint32_t)n;
    qsort(l->validators, n, sizeof *l->validators, compare_validators);
    for (size_t i = 1; i < n; i++)
        if (memcmp(l->validators[i - 1].node_key, l->validators[i].node_key, NODE_KEY_BYTES) == 0)
            return fail(err, err_len, NANUMD_VLIST_E_MALFORMED, "a node key is listed twice");
    return 0;
}

struct sign_args {
    const char *key, *genesis, *validators, *out, *document, *publisher;
    const char *sequence, *expires, *valid_from;
};

/* Reads --name value pairs into a; false on an unknown or valueless flag. */
static bool read_args(int argc, char **argv, struct sign_args *a)
{
    static const struct {
        const char *flag;
        size_t offset;
    } flags[] = {
        {"--key", offsetof(struct sign_args, key)},           {"--genesis", offsetof(struct sign_args, genesis)},
        {"--validators", offsetof(struct sign_args, validators)}, {"--out", offsetof(struct sign_args, out)},
        {"--sequence", offsetof(struct sign_args, sequence)}, {"--expires", offsetof(struct sign_args, expires)},
        {"--valid-from", offsetof(struct sign_args, valid_from)}, {"--publisher", offsetof(struct sign_args, publisher)},
    };
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        size_t k = 0;
        while (k < sizeof flags / sizeof flags[0] && strcmp(argv[i], flags[k].flag) != 0)
            k++;
        if (k == sizeof flags / sizeof flags[0]) {
            if (argv[i][0] == '-' || a->document != NULL)
                return false;
            a->document = argv[i];
            continue;
        }
        if (i + 1 >= argc)
            return false;
        *(const char **)((char *)a + flags[k].offset) = argv[++i];
    }
    return true;
}

/* Writes text and a newline to path (stdout if NULL); 0 or -1. */
static int write_output(const char *path, const char *text)
{
    FILE *out = path ? fopen(path, "w") : stdout;
    if (out == NULL)
        return -1;
    int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;
    if (path != NULL && fclose(out) != 0)
        rc = -1;
    return rc;
}

/* `validator-list sign`: builds, signs and writes a list; exit code. */
static int sign_command(const struct sign_args *a)
{
    uint64_t now = unix_now_s();
    struct nanumd_vlist l = {.valid_from_s = now};
    struct node_genesis g;
    char err[512];
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    if (!a->key || !a->genesis || !a->validators || !a->sequence || !a->expires ||
        !parse_time(a->sequence, &l.sequence) || !parse_time(a->expires, &l.expires_s) ||
        (a->valid_from && !parse_time(a->valid_from, &l.valid_from_s))) {
        fputs("usage: nanumd validator-list sign --key FILE --genesis FILE --sequence N --expires TIME "
              "--validators FILE [--valid-from TIME] [--out FILE]\n  TIME: unix seconds or 2027-01-31T00:00:00Z\n",
              stderr);
        return 64;
    }
    if (node_genesis_load(a->genesis, &g, err, sizeof err) != 0) {
        fprintf(stderr, "validator-list: %s: %s\n", a->genesis, err);
        return 65;
    }
    int status = 1;
    char *text = NULL;
    if (node_key_load(a->key, pk, sk, err, sizeof err) < 0)
        fprintf(stderr, "validator-list: %s: %s\n", a->key, err);
    else if (read_validators(a->validators, &l, err, sizeof err) != 0)
        fprintf(stderr, "validator-list: %s: %s\n", a->validators, err);
    else if (l.expires_s <= l.valid_from_s)
        fputs("validator-list: --expires must be after --valid-from (default: now)\n", stderr);
    else if (nanumd_vlist_sign(&l, g.network_id, sk) != 0 || nanumd_vlist_to_json(&l, &text) != 0 ||
             write_output(a->out, text) != 0)
        fprintf(stderr, "validator-list: could not sign or write the list\n");
    else
        status = 0;
    sodium_memzero(sk, sizeof sk);
    free(text);
    nanumd_vlist_free(&l);
    node_genesis_free(&g);
    return status;
}

/* Reads a whole file (at most the document limit) into a malloc'd buffer. */
static char *read_document(const char *path, size_t *len)
{
    FILE *in = fopen(path, "rb");
    char *text = in ? malloc(NANUMD_VLIST_DOCUMENT_BYTES_MAX + 1) : NULL;
    *len = text ? fread(text, 1, NANUMD_VLIST_DOCUMENT_BYTES_MAX + 1, in) : 0;
    if (in != NULL)
        fclose(in);
    return text;
}

/* `validator-list verify --publisher ADDRESS --genesis FILE DOCUMENT`:
 * exit 0 when the list would be accepted now, 65 with the reason if not. */
static int verify_command(const struct sign_args *a)
{
    uint8_t publisher[NODE_KEY_BYTES];
    struct node_genesis g;
    char err[512] = "";
    if (!a->publisher || !a->genesis || !a->document || node_address_decode(a->publisher, publisher) != 0) {
        fputs("usage: nanumd validator-list verify --publisher ADDRESS --genesis FILE DOCUMENT\n", stderr);
        return 64;
    }
    if (node_genesis_load(a->genesis, &g, err, sizeof err) != 0) {
        fprintf(stderr, "validator-list: %s: %s\n", a->genesis, err);
        return 65;
    }
    size_t len;
    char *text = read_document(a->document, &len);
    struct nanumd_vlist l = {0};
    int rc = text ? nanumd_vlist_parse(text, len, &l, err, sizeof err) : NANUMD_VLIST_E_IO;
    if (rc == 0)
        rc = nanumd_vlist_check(&l, publisher, g.network_id, unix_now_s(), 0);
    if (rc == 0)
        printf("ok: sequence %llu, %u validators, expires %llu\n", (unsigned long long)l.sequence, l.count,
               (unsigned long long)l.expires_s);
    else
        fprintf(stderr, "validator-list: %s: %s (%s)\n", a->document, nanumd_vlist_outcome(rc),
                err[0] ? err : nanumd_vlist_strerror(rc));
    free(text);
    nanumd_vlist_free(&l);
    node_genesis_free(&g);
    return rc == 0 ? 0 : 65;
}

int nanumd_vlist_main(int argc, char **argv)
{
    struct sign_args a;
    bool ok = argc >= 2 && read_args(argc, argv, &a);
    if (ok && strcmp(argv[1], "sign") == 0 && a.document == NULL)
        return sign_command(&a);
    if (ok && strcmp(argv[1], "verify") == 0)
        return verify_command(&a);
    fputs("usage: nanumd validator-list sign --key FILE --genesis FILE --sequence N --expires TIME "
          "--validators FILE [--valid-from TIME] [--out FILE]\n"
          "       nanumd validator-list verify --publisher ADDRESS --genesis FILE DOCUMENT\n",
          stderr);
    return 64;
}
