/*
 * cmd_balance.c — `nanum balance [ADDRESS]`: an account's balance, what it
 * holds in escrow, its roles and trust record (the keystore's own account
 * when no address is given).
 *
 * Read next: spec/api.md GET /v1/accounts/{address}.
 */
#include "wallet.h"

int wallet_address_arg(struct wallet_ctx *ctx, int index, char out[static NODE_ADDRESS_TEXT_BYTES + 1])
{
    uint8_t key[NODE_KEY_BYTES];
    int rc = index < ctx->argc ? wallet_parse_address(ctx, ctx->argv[index], key) : wallet_load_public(ctx, key);
    if (rc == 0)
        node_address_encode(key, out);
    return rc;
}

int wallet_cmd_balance(struct wallet_ctx *ctx)
{
    char address[NODE_ADDRESS_TEXT_BYTES + 1], path[96];
    int rc = wallet_expect_args(ctx, 0, 1, "balance [ADDRESS]");
    if (rc == 0)
        rc = wallet_address_arg(ctx, 1, address);
    if (rc != 0)
        return rc;
    snprintf(path, sizeof path, "/v1/accounts/%s", address);
    json_t *a = NULL;
    rc = wallet_get_ok(ctx, path, &a);
    if (rc == WALLET_E_NOT_FOUND) {
        ctx->message[0] = '\0';
        return wallet_fail(ctx, rc,
                           "unknown account %s: it does not exist yet; it comes into being when someone pays it at "
                           "least the minimum balance (`nanum pay %s AMOUNT`)",
                           address, address);
    }
    if (rc != 0)
        return rc;
    if (ctx->json) {
        wallet_print_json(a);
        return 0;
    }
    json_t *trust = json_object_get(a, "trust"), *roles = json_object_get(a, "roles");
    printf("address   %s\n", address);
    if (wallet_json_str(a, "name") != NULL && wallet_json_str(a, "name")[0] != '\0')
        printf("name      %s\n", wallet_json_str(a, "name"));
    printf("balance   %s\n", wallet_amount(wallet_json_u64(a, "balance_minor", 0)));
    printf("escrow    %s\n", wallet_amount(wallet_json_u64(a, "held_minor", 0)));
    printf("roles     ");
    size_t i;
    json_t *r;
    json_array_foreach(roles, i, r) printf("%s%s", i ? ", " : "", json_string_value(r));
    printf("%s\n", json_array_size(roles) ? "" : "none");
    printf("seq       %llu\n", (unsigned long long)wallet_json_u64(a, "seq", 0));
    unsigned long long count = wallet_json_u64(trust, "rating_count", 0), sum = wallet_json_u64(trust, "rating_sum", 0);
    printf("trust     %llu completed as renter, %llu as owner; ", (unsigned long long)wallet_json_u64(trust, "completed_as_renter", 0),
           (unsigned long long)wallet_json_u64(trust, "completed_as_owner", 0));
    if (count > 0)
        printf("rated %.2f from %llu rating%s\n", (double)sum / (double)count, count, count == 1 ? "" : "s");
    else
        printf("not rated yet\n");
    json_decref(a);
    return 0;
}
