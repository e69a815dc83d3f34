/*
 * cmd_tx.c — `nanum tx HASH [--verify]`: a transaction's status and content;
 * with --verify, its ledger is checked (cli/verify.c) and so is its Merkle
 * path into that ledger, and the envelope at that place must hash to HASH.
 *
 * Read next: cli/verify.c.
 */
#include <string.h>

#include "wallet.h"

/* Checks that the envelope at index in ledger is the transaction asked for. */
static int check_envelope(struct wallet_ctx *ctx, const json_t *ledger, uint64_t index, const char *hash,
                          struct node_tx_envelope *env)
{
    json_t *t = json_array_get(json_object_get(ledger, "transactions"), index);
    const char *hex = wallet_json_str(t, "envelope");
    uint8_t bytes[NODE_TX_BYTES_MAX], id[NODE_HASH_BYTES];
    char id_hex[2 * NODE_HASH_BYTES + 1];
    size_t len = hex ? strlen(hex) / 2 : 0;
    if (hex == NULL || len > sizeof bytes || node_hex_decode(hex, bytes, len) != 0 ||
        node_envelope_decode(bytes, len, env) != 0 || node_tx_hash(&env->tx, ctx->network_id, id) != 0)
        return wallet_fail(ctx, WALLET_E_VERIFY, "verification FAILED for the node %s: the envelope at ledger %s index "
                           "%llu does not decode", ctx->node_url, wallet_json_str(ledger, "height") ?: "?",
                           (unsigned long long)index);
    node_hex_encode(id, NODE_HASH_BYTES, id_hex);
    if (strcmp(id_hex, hash) != 0)
        return wallet_fail(ctx, WALLET_E_VERIFY,
                           "verification FAILED for the node %s: the transaction it places at ledger %llu index %llu "
                           "is %s, not %s",
                           ctx->node_url, (unsigned long long)wallet_json_u64(ledger, "height", 0),
                           (unsigned long long)index, id_hex, hash);
    return 0;
}

/* Fetches and verifies the ledger that holds the transaction. */
static int verify_tx(struct wallet_ctx *ctx, const json_t *status, const char *hash, struct node_tx_envelope *env)
{
    uint64_t height = wallet_json_u64(status, "height", 0), index = wallet_json_u64(status, "index", 0);
    char which[32];
    snprintf(which, sizeof which, "%llu", (unsigned long long)height);
    json_t *l = NULL;
    uint8_t header_hash[NODE_HASH_BYTES];
    int rc = wallet_network(ctx);
    rc = rc ? rc : wallet_fetch_ledger(ctx, which, true, &l);
    rc = rc ? rc : wallet_verify_fetched(ctx, l, height, (long)index, header_hash);
    rc = rc ? rc : check_envelope(ctx, l, index, hash, env);
    json_decref(l);
    return rc;
}

int wallet_cmd_tx(struct wallet_ctx *ctx)
{
    bool verify = wallet_take_flag(ctx, "--verify");
    int rc = wallet_expect_args(ctx, 1, 1, "tx HASH [--verify]");
    uint8_t id[NODE_HASH_BYTES];
    if (rc == 0 && (strlen(ctx->argv[1]) != 64 || node_hex_decode(ctx->argv[1], id, sizeof id) != 0))
        rc = wallet_fail(ctx, WALLET_E_USAGE, "a transaction hash is 64 hexadecimal digits");
    if (rc != 0)
        return rc;
    char hash[2 * NODE_HASH_BYTES + 1], path[96];
    node_hex_encode(id, sizeof id, hash);
    snprintf(path, sizeof path, "/v1/tx/%s", hash);
    json_t *s = NULL;
    rc = wallet_get_ok(ctx, path, &s);
    if (rc != 0)
        return rc;
    const char *status = wallet_json_str(s, "status") ?: "?";
    bool in_ledger = strcmp(status, "committed") == 0 || strcmp(status, "failed") == 0;
    struct node_tx_envelope env;
    if (verify && !in_ledger)
        rc = wallet_fail(ctx, strcmp(status, "unknown") == 0 ? WALLET_E_NOT_FOUND : WALLET_E_USAGE,
                         "transaction %s is %s at %s: only a transaction in a ledger can be verified", hash, status,
                         ctx->node_url);
    if (rc == 0 && verify)
        rc = verify_tx(ctx, s, hash, &env);
    if (rc != 0) {
        json_decref(s);
        return rc;
    }
    if (ctx->json) {
        json_object_set_new(s, "verified", json_boolean(verify));
        if (verify)
            json_object_set_new(s, "type", json_string(node_tx_type_name(env.tx.type)));
        wallet_print_json(s);
        return 0;
    }
    printf("transaction %s\nstatus      %s\n", hash, status);
    if (in_ledger)
        printf("ledger      %llu, index %llu\nresult      %s: %s\n", (unsigned long long)wallet_json_u64(s, "height", 0),
               (unsigned long long)wallet_json_u64(s, "index", 0), wallet_json_str(s, "result") ?: "?",
               wallet_json_str(s, "message") ?: "");
    if (verify) {
        char source[NODE_ADDRESS_TEXT_BYTES + 1];
        node_address_encode(env.tx.source, source);
        printf("type        %s from %s, seq %llu, fee %s\n", node_tx_type_name(env.tx.type) ?: "?", source,
               (unsigned long long)env.tx.seq, wallet_amount(env.tx.fee));
        puts("verified: its ledger's certificate is a quorum of the validators in force, and its Merkle path leads "
             "to that ledger's header");
    }
    json_decref(s);
    return 0;
}
