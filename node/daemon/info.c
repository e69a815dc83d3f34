/*
 * info.c — `nanumd info --config FILE`: what an operator asks first about a
 * node: who it is (node key, role), which network (name, id), how far it is
 * (height, synced), whom it talks to (peers) and whether its quorum is
 * healthy (validators, quorum intersection, validator-list status).
 *
 * A running node is asked through its API (GET /v1/status and /metrics at
 * the configured [api] listen address, with libcurl; a few seconds at
 * most).  When nothing answers there, the node is taken to be stopped and
 * the data directory is read instead: identity, network and height only.
 *
 * Read next: node/daemon/metrics.c (the metric names parsed here).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger.h"
#include "config.h"
#include "info.h"
#include "keys.h"

#define INFO_RESPONSE_BYTES_MAX (1u << 20) /* /metrics of a busy node is ~20 KiB */
#define INFO_TIMEOUT_MS 3000

struct body {
    char *data;
    size_t len;
};

/* curl write callback: appends to the body, refusing more than the limit. */
static size_t on_write(char *data, size_t size, size_t count, void *userp)
{
    struct body *b = userp;
    size_t n = size * count;
    if (b->len + n > INFO_RESPONSE_BYTES_MAX)
        return 0;
    char *grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, data, n);
    b->len += n;
    grown[b->len] = '\0';
    b->data = grown;
    return n;
}

/* GETs path from the node's API; the body (malloc'd) or NULL. */
static char *api_get(const struct node_config *config, const char *path)
{
    char endpoint[NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX], url[128];
    node_config_endpoint_format(&config->api_listen, endpoint);
    snprintf(url, sizeof url, "http://%s%s", endpoint, path);
    CURL *easy = curl_easy_init();
    struct body b = {0};
    long status = 0;
    if (easy == NULL)
        return NULL;
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)INFO_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    if (rc != CURLE_OK || status != 200) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

/* The value of the first sample of metric `name` (exact name, with or
 * without labels) in a Prometheus text, or fallback. */
static double metric_value(const char *text, const char *name, const char *labels, double fallback)
{
    size_t n = strlen(name), l = labels ? strlen(labels) : 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, name, n) != 0)
            continue;
        const char *rest = line + n;
        if (labels != NULL) {
            if (strncmp(rest, labels, l) != 0)
                continue;
            rest += l;
        }
        if (*rest == ' ')
            return strtod(rest + 1, NULL);
    }
    return fallback;
}

/* Prints what the running node's /v1/status and /metrics say. */
static void print_running(const char *status_text, const char *metrics)
{
    json_error_t jerr;
    json_t *s = json_loads(status_text, 0, &jerr);
    printf("state:        running (API answered)\n");
    printf("role:         %s\n", json_string_value(json_object_get(s, "role")));
    printf("height:       %lld%s\n", (long long)json_integer_value(json_object_get(s, "height")),
           json_is_true(json_object_get(s, "synced")) ? " (synced)" : " (catching up)");
    printf("peers:        %lld\n", (long long)json_integer_value(json_object_get(s, "peers")));
    printf("validators:   %lld\n", (long long)json_integer_value(json_object_get(s, "validators")));
    if (metrics != NULL) {
        double qi = metric_value(metrics, "nanum_quorum_intersection", NULL, -1);
        printf("quorum:       %s\n", qi > 0.5    ? "healthy (every two quorums intersect)"
                                     : qi > -0.5 ? "SPLIT POSSIBLE (two disjoint quorums exist)"
                                                 : "unknown (the check gave up or there are no validators)");
        printf("ballot timeouts since start: %.0f\n",
               metric_value(metrics, "nanum_consensus_ballot_timeouts_total", NULL, 0));
        if (metric_value(metrics, "nanum_validator_list_configured", NULL, 0) > 0.5) {
            double seq = metric_value(metrics, "nanum_validator_list_sequence", NULL, 0);
            double expired = metric_value(metrics, "nanum_validator_list_expired", NULL, 1);
            double list_only = metric_value(metrics, "nanum_validator_list_mismatch_validators",
                                            "{side=\"list_only\"}", 0);
            double ledger_only = metric_value(metrics, "nanum_validator_list_mismatch_validators",
                                              "{side=\"ledger_only\"}", 0);
            printf("validator list: sequence %.0f%s, %s\n", seq, expired > 0.5 ? " (EXPIRED or none)" : "",
                   list_only + ledger_only > 0 ? "DIFFERS from the ledger's set" : "matches the ledger's set");
        } else {
            printf("validator list: not configured\n");
        }
    }
    json_decref(s);
}

/* The node does not answer: reads its data directory. */
static int print_stopped(const struct node_config *config, const struct node_genesis *genesis)
{
    char path[NODE_CONFIG_PATH_BYTES_MAX + 16];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", config->data_dir);
    printf("state:        stopped (no answer from the API)\n");
    if (stat(path, &st) != 0) {
        printf("height:       none (no ledger in %s)\n", config->data_dir);
        return 0;
    }
    ledger_chain *chain;
    char err[512];
    struct ledger_chain_options options = {0};
    if (ledger_chain_open(config->data_dir, genesis, &options, &chain, err, sizeof err) != 0) {
        fprintf(stderr, "info: %s: %s\n", config->data_dir, err);
        return 1;
    }
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(chain, &last, hash);
    printf("height:       %llu (from %s)\n", (unsigned long long)last.height, config->data_dir);
    ledger_chain_close(chain);
    return 0;
}

/* `nanumd info --config FILE` (argv[0] is "info").  Exit 0, 64 usage, 1. */
int nanumd_info_main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--config") != 0) {
        fputs("usage: nanumd info --config FILE\n", stderr);
        return 64;
    }
    struct node_config *config = malloc(sizeof *config);
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    if (config == NULL || node_config_load(argv[2], config, err, sizeof err) != 0) {
        fprintf(stderr, "info: %s\n", config ? err : "out of memory");
        free(config);
        return 1;
    }
    struct node_genesis genesis;
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    int status = 1;
    if (node_genesis_load(config->genesis, &genesis, err, sizeof err) != 0) {
        fprintf(stderr, "info: %s: %s\n", config->genesis, err);
        goto out;
    }
    int key_rc = node_key_load(config->node_key, pk, sk, err, sizeof err);
    sodium_memzero(sk, sizeof sk); /* only the public half is shown */
    char who[NODE_ADDRESS_TEXT_BYTES + 1] = "(unreadable key file)", id[2 * NODE_HASH_BYTES + 1];
    if (key_rc >= 0)
        node_address_encode(pk, who);
    node_hex_encode(genesis.network_id, NODE_HASH_BYTES, id);
    printf("node key:     %s\nconfig role:  %s\nnetwork:      %s\nnetwork id:   %s\n", who,
           node_config_role_name(config->role), genesis.network, id);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char *status_text = api_get(config, "/v1/status");
    if (status_text != NULL) {
        char *metrics = api_get(config, "/metrics");
        print_running(status_text, metrics);
        free(metrics);
        free(status_text);
        status = 0;
    } else {
        status = print_stopped(config, &genesis);
    }
    curl_global_cleanup();
    node_genesis_free(&genesis);
out:
    node_config_wipe(config);
    free(config);
    return status;
}
