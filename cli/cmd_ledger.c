/*
 * cmd_ledger.c — `nanum ledger HEIGHT|latest [--verify]`: a ledger's header
 * and transactions; with --verify, checked against the validator set in
 * force (cli/verify.c) so a node that serves a forged ledger is caught and
 * named.
 *
 * Read next: cli/verify.c.
 */
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

/* Fetches a ledger by height or "latest", with a member-facing 404. */
int wallet_fetch_ledger(struct wallet_ctx *ctx, const char *which, bool proofs, json_t **out)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/ledgers/%s%s", which, proofs ? "?proofs=1" : "");
    int rc = wallet_get_ok(ctx, path, out);
    if (rc == WALLET_E_NOT_FOUND) {
        ctx->message[0] = '\0';
        return wallet_fail(ctx, rc, "no ledger %s at the node %s yet: see `nanum status` for the height", which,
                           ctx->node_url);
    }
    return rc;
}

/* Verifies ledger (of height) against the validator set in force. */
int wallet_verify_fetched(struct wallet_ctx *ctx, const json_t *ledger, uint64_t height, long tx_index,
                          uint8_t hash[static NODE_HASH_BYTES])
{
    if (height == 0)
        return wallet_fail(ctx, WALLET_E_USAGE, "ledger 0 is the genesis: it has no certificate; compare the "
                           "network id with `nanum status --genesis FILE` instead");
    struct wallet_validators v;
    memset(&v, 0, sizeof v);
    int rc = wallet_network(ctx);
    rc = rc ? rc : wallet_validators_for(ctx, height, &v);
    if (rc != 0)
        return rc;
    rc = wallet_verify_ledger(ctx, ledger, height, &v, tx_index, hash);
    wallet_validators_free(&v);
    if (rc == WALLET_E_VERIFY) {
        char again[WALLET_MESSAGE_BYTES_MAX];
        snprintf(again, sizeof again, "%s", ctx->message);
        ctx->message[0] = '\0';
        wallet_fail(ctx, rc, "verification FAILED for the node %s: %s", ctx->node_url, again);
    }
    return rc;
}

static void print_ledger(const json_t *l, bool verified, const uint8_t hash[NODE_HASH_BYTES])
{
    char hex[2 * NODE_HASH_BYTES + 1];
    if (verified)
        node_hex_encode(hash, NODE_HASH_BYTES, hex);
    json_t *header = json_object_get(l, "header"), *txs = json_object_get(l, "transactions"), *t;
    printf("ledger      %llu\nhash        %s\nclosed      %s\ntransactions %zu; certificate %zu signatures\n",
           (unsigned long long)wallet_json_u64(l, "height", 0), verified ? hex : (wallet_json_str(l, "hash") ?: "?"),
           wallet_time(wallet_json_u64(header, "close_time_ms", 0) / 1000), json_array_size(txs),
           json_array_size(json_object_get(l, "certificate")));
    if (json_array_size(txs) > 0)
        printf("%5s  %-18s %-16s %-28s %s\n", "INDEX", "TYPE", "SOURCE", "RESULT", "HASH");
    size_t i;
    json_array_foreach(txs, i, t)
        printf("%5zu  %-18s %.14s… %-28s %s\n", i, wallet_json_str(t, "type") ?: "?",
               wallet_json_str(t, "source") ?: "?", wallet_json_str(t, "result") ?: "?", wallet_json_str(t, "hash") ?: "?");
    if (verified)
        puts("verified: a quorum of the validators in force signed this header, and the transactions match it");
}

int wallet_cmd_ledger(struct wallet_ctx *ctx)
{
    bool verify = wallet_take_flag(ctx, "--verify");
    int rc = wallet_expect_args(ctx, 1, 1, "ledger HEIGHT|latest [--verify]");
    uint64_t height = 0;
    if (rc == 0 && strcmp(ctx->argv[1], "latest") != 0 && strcmp(ctx->argv[1], "0") != 0)
        rc = wallet_parse_id(ctx, ctx->argv[1], "ledger", &height);
    json_t *l = NULL;
    rc = rc ? rc : wallet_fetch_ledger(ctx, ctx->argv[1], false, &l);
    if (rc != 0)
        return rc;
    if (strcmp(ctx->argv[1], "latest") == 0)
        height = wallet_json_u64(l, "height", 0);
    uint8_t hash[NODE_HASH_BYTES];
    if (verify && (rc = wallet_verify_fetched(ctx, l, height, -1, hash)) != 0) {
        json_decref(l);
        return rc;
    }
    if (ctx->json) {
        if (verify) {
            char hex[2 * NODE_HASH_BYTES + 1];
            node_hex_encode(hash, NODE_HASH_BYTES, hex);
            json_object_set_new(l, "hash", json_string(hex));
        }
        json_object_set_new(l, "verified", json_boolean(verify));
        json_object_del(l, "certificate_quorum"); /* the node's own opinion: not what --verify means */
        wallet_print_json(l);
        return 0;
    }
    print_ledger(l, verify, hash);
    json_decref(l);
    return 0;
}
