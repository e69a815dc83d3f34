/*
 * cmd_address.c — `nanum address [--name NAME]`: the keystore's address,
 * read without the passphrase (the address is stored in clear).
 *
 * Read next: cli/keystore.c.
 */
#include "wallet.h"

int wallet_cmd_address(struct wallet_ctx *ctx)
{
    int rc = wallet_expect_args(ctx, 0, 0, "address [--name NAME]");
    uint8_t pk[NODE_KEY_BYTES];
    if (rc == 0)
        rc = wallet_load_public(ctx, pk);
    if (rc != 0)
        return rc;
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(pk, address);
    if (ctx->json)
        wallet_print_json(json_pack("{s:s, s:s}", "name", ctx->key_name, "address", address));
    else
        puts(address);
    return 0;
}
