/*
 * daemon.c — `nanumd --config FILE`: starts a node, runs its loop, stops it
 * cleanly on SIGINT/SIGTERM.
 *
 * Start order: config → genesis → node key → chain (LMDB) → mempool →
 * herder (consensus) → overlay (p2p) → API.  Stop order is the reverse; a
 * signal is handled between loop callbacks, so a ledger being committed is
 * always finished first, and LMDB is closed properly.
 *
 * Read next: node/daemon/herder.c.
 */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "http.h"
#include "keys.h"
#include "log.h"

ledger_state *nanumd_state(struct nanumd *d)
{
    return ledger_chain_state(d->chain);
}

int nanumd_start(struct nanumd *d, uv_loop_t *loop, const struct nanumd_options *options,
                 const struct node_genesis *genesis)
{
    memset(d, 0, sizeof *d);
    d->loop = loop;
    d->options = *options;
    d->genesis = *genesis;
    memcpy(d->network_id, genesis->network_id, NODE_HASH_BYTES);
    char err[512];
    struct ledger_chain_options chain_options = {.no_sync = !options->sync};
    int rc = ledger_chain_open(options->data_dir, genesis, &chain_options, &d->chain, err, sizeof err);
    if (rc != 0) {
        NODE_LOG(NODE_LOG_ERROR, "storage_open_failed", "dir=%s error=\"%s\"", options->data_dir, err);
        return rc;
    }
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    char hex[2 * NODE_HASH_BYTES + 1], who[NODE_ADDRESS_TEXT_BYTES + 1];
    ledger_chain_last(d->chain, &last, hash);
    node_hex_encode(hash, NODE_HASH_BYTES, hex);
    node_address_encode(options->node_pk, who);
    NODE_LOG(NODE_LOG_INFO, "node_starting", "role=%s node=%s height=%llu ledger_hash=%s",
             options->validator ? "validator" : "watcher", who, (unsigned long long)last.height, hex);
    if ((rc = node_mempool_create(NULL, d->network_id, &d->mempool)) != 0 ||
        (rc = nanumd_herder_start(d)) != 0 || (rc = nanumd_overlay_start(d)) != 0 ||
        (rc = nanumd_api_start(d)) != 0)
        return rc;
    if ((rc = nanumd_vlist_start(d, &options->vlist)) != 0) {
        NODE_LOG(NODE_LOG_ERROR, "validator_list_start_failed", "error=\"%s\"", nanumd_vlist_strerror(rc));
        return rc;
    }
    return 0;
}

void nanumd_stop(struct nanumd *d)
{
    d->stopping = true;
    nanumd_vlist_stop(d);
    nanumd_api_stop(d);
    if (d->tx_flush_started) { /* the batch is dropped: its transactions
                                  die with the mempool */
        uv_check_stop(&d->tx_flush);
        d->tx_flush_started = false;
    }
    net_destroy(d->net);
    d->net = NULL;
    nanumd_herder_stop(d);
    node_mempool_destroy(d->mempool);
    d->mempool = NULL;
    ledger_chain_close(d->chain);
    d->chain = NULL;
}

/* --- From the config file to options ------------------------------------------- */

/* [validator_list]: the fetcher runs when a publisher and a URL are set. */
static void vlist_options_from_config(const struct node_config *config, struct nanumd_vlist_options *v)
{
    v->enabled = config->validator_list_publisher_set && config->validator_list_url_count > 0;
    memcpy(v->publisher, config->validator_list_publisher, NODE_KEY_BYTES);
    v->url_count = config->validator_list_url_count;
    for (uint32_t i = 0; i < v->url_count && i < NANUMD_VLIST_URLS_MAX; i++)
        snprintf(v->urls[i], sizeof v->urls[i], "%s", config->validator_list_urls[i]);
    v->refresh_s = config->validator_list_refresh_s;
    if (config->validator_list_cache_file[0] != '\0')
        snprintf(v->cache_file, sizeof v->cache_file, "%s", config->validator_list_cache_file);
    else
        snprintf(v->cache_file, sizeof v->cache_file, "%s/validator-list.json", config->data_dir);
}

static int options_from_config(const struct node_config *config, struct nanumd_options *o, char *err,
                               size_t err_len)
{
    memset(o, 0, sizeof *o);
    o->validator = config->role == NODE_CONFIG_ROLE_VALIDATOR;
    snprintf(o->data_dir, sizeof o->data_dir, "%s", config->data_dir);
    int rc = node_key_load(config->node_key, o->node_pk, o->node_sk, err, err_len);
    if (rc < 0)
        return rc;
    if (rc > 0)
        NODE_LOG(NODE_LOG_WARN, "node_key_readable_by_others", "file=%s advice=\"chmod 600 it\"", config->node_key);
    snprintf(o->p2p_host, sizeof o->p2p_host, "%s", config->p2p_listen.host);
    o->p2p_port = config->p2p_listen.port;
    o->peer_count = config->peer_count < NANUMD_PEERS_MAX ? config->peer_count : NANUMD_PEERS_MAX;
    for (uint32_t i = 0; i < o->peer_count; i++) {
        snprintf(o->peers[i].host, sizeof o->peers[i].host, "%s", config->peers[i].host);
        o->peers[i].port = config->peers[i].port;
    }
    o->inbound_max = config->inbound_max;
    o->outbound_max = config->outbound_max;
    snprintf(o->api_host, sizeof o->api_host, "%s", config->api_listen.host);
    o->api_port = config->api_listen.port;
    o->api_connections_max = config->api_connections_max;
    o->api_body_bytes_max = config->api_body_bytes_max;
    o->api_request_timeout_ms = config->api_request_timeout_ms;
    o->sync = config->storage_sync;
    o->equivocate = config->testing_equivocate;
    snprintf(o->api_admin_token, sizeof o->api_admin_token, "%s", config->api_admin_token);
    vlist_options_from_config(config, &o->vlist);
    return 0;
}

static void on_signal(uv_signal_t *handle, int signum)
{
    struct nanumd *d = handle->data;
    NODE_LOG(NODE_LOG_INFO, "node_stopping", "signal=%s", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_stop(d->loop);
}

static void close_handle(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, NULL);
}

/* `nanumd --config FILE`: runs until SIGINT or SIGTERM.  Exit 0 after a
 * clean stop, 1 if the node could not start. */
int nanumd_run_main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: nanumd --config FILE\n", stderr);
        return 64;
    }
    struct node_config *config = malloc(sizeof *config);
    struct nanumd *d = calloc(1, sizeof *d);
    struct nanumd_options *options = malloc(sizeof *options);
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    struct node_genesis genesis;
    int status = 1;
    if (config == NULL || d == NULL || options == NULL)
        goto out;
    if (node_config_load(argv[1], config, err, sizeof err) != 0) {
        fprintf(stderr, "nanumd: %s\n", err);
        goto out;
    }
    node_log_level = (int)config->log_level;
    if (node_genesis_load(config->genesis, &genesis, err, sizeof err) != 0) {
        NODE_LOG(NODE_LOG_ERROR, "genesis_invalid", "file=%s error=\"%s\"", config->genesis, err);
        goto out;
    }
    if (options_from_config(config, options, err, sizeof err) != 0) {
        NODE_LOG(NODE_LOG_ERROR, "node_key_invalid", "file=%s error=\"%s\"", config->node_key, err);
        node_genesis_free(&genesis);
        goto out;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_signal_t sigint, sigterm;
    uv_signal_init(&loop, &sigint);
    uv_signal_init(&loop, &sigterm);
    sigint.data = sigterm.data = d;
    uv_signal_start(&sigint, on_signal, SIGINT);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    if (nanumd_start(d, &loop, options, &genesis) == 0) {
        NODE_LOG(NODE_LOG_INFO, "node_started", "p2p=%s:%u api=%s:%u", options->p2p_host,
                 net_listen_port(d->net), options->api_host, options->api_port);
        uv_run(&loop, UV_RUN_DEFAULT);
        status = 0;
    }
    nanumd_stop(d);
    uv_walk(&loop, close_handle, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        NODE_LOG(NODE_LOG_WARN, "loop_not_closed", NULL);
    NODE_LOG(NODE_LOG_INFO, status == 0 ? "node_stopped" : "node_start_failed", NULL);
    node_genesis_free(&genesis);
out:
    if (options != NULL)
        sodium_memzero(options, sizeof *options);
    if (d != NULL)
        sodium_memzero(&d->options, sizeof d->options);
    free(options);
    free(config);
    free(d);
    return status;
}
