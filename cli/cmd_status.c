/*
 * cmd_status.c — `nanum status`: the node's height, network, role, peers and
 * sync state; with a genesis configured, whether the node is on its network.
 *
 * Read next: spec/api.md GET /v1/status.
 */
#include "wallet.h"

int wallet_cmd_status(struct wallet_ctx *ctx)
{
    int rc = wallet_expect_args(ctx, 0, 0, "status");
    json_t *s = NULL;
    rc = rc ? rc : wallet_get_ok(ctx, "/v1/status", &s);
    if (rc != 0)
        return rc;
    bool checked = ctx->genesis_path != NULL;
    if (checked && (rc = wallet_network(ctx)) != 0) {
        json_decref(s);
        return rc;
    }
    if (ctx->json) {
        json_object_set_new(s, "node", json_string(ctx->node_url));
        json_object_set_new(s, "network_matches_genesis", checked ? json_true() : json_null());
        wallet_print_json(s);
        return 0;
    }
    json_t *mempool = json_object_get(s, "mempool");
    printf("node        %s (%s, version %s)\n", ctx->node_url, wallet_json_str(s, "role") ?: "?",
           wallet_json_str(s, "version") ?: "?");
    printf("network     %s%s\n", wallet_json_str(s, "network_id") ?: "?", checked ? " (matches the genesis)" : "");
    printf("height      %llu, closed %s\n", (unsigned long long)wallet_json_u64(s, "height", 0),
           wallet_time(wallet_json_u64(s, "close_time_ms", 0) / 1000));
    printf("ledger      %s\n", wallet_json_str(s, "ledger_hash") ?: "?");
    printf("synced      %s; %llu peers; %llu validators\n", json_is_true(json_object_get(s, "synced")) ? "yes" : "no",
           (unsigned long long)wallet_json_u64(s, "peers", 0), (unsigned long long)wallet_json_u64(s, "validators", 0));
    printf("mempool     %llu transactions\n", (unsigned long long)wallet_json_u64(mempool, "count", 0));
    json_decref(s);
    return 0;
}
