/*
 * cmd_export.c — `nanum export [--name NAME] --out FILE`: writes the key in
 * its text form (the plain key file of spec/config.md, kind
 * nanum-wallet-key-plain) to a new file of mode 0600, after the passphrase.
 * The secret goes only to that file, never to the terminal.
 *
 * Read next: cli/cmd_import.c.
 */
#include <sodium.h>
#include <string.h>

#include "wallet.h"

int wallet_cmd_export(struct wallet_ctx *ctx)
{
    const char *out = NULL;
    int rc = wallet_take_option(ctx, "--out", &out);
    if (rc == 0)
        rc = wallet_expect_args(ctx, 0, 0, "export [--name NAME] --out FILE");
    if (rc == 0 && out == NULL)
        rc = wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum export [--name NAME] --out FILE");
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    if (rc == 0)
        rc = wallet_load_secret(ctx, pk, sk);
    if (rc != 0)
        return rc;
    char address[NODE_ADDRESS_TEXT_BYTES + 1], seed_hex[2 * WALLET_SEED_BYTES + 1];
    node_address_encode(pk, address);
    node_hex_encode(sk, WALLET_SEED_BYTES, seed_hex); /* libsodium's secret key starts with the seed */
    sodium_memzero(sk, sizeof sk);
    /* Formatted here rather than through jansson, so that every copy of the
     * secret is one this function wipes.  No field needs JSON escaping. */
    char text[256];
    snprintf(text, sizeof text,
             "{\n  \"version\": 1,\n  \"kind\": \"nanum-wallet-key-plain\",\n  \"public\": \"%s\",\n"
             "  \"seed\": \"%s\"\n}",
             address, seed_hex);
    sodium_memzero(seed_hex, sizeof seed_hex);
    rc = wallet_write_new_file(out, text);
    sodium_memzero(text, sizeof text);
    if (rc != 0)
        return wallet_fail(ctx, rc, "cannot write %s: %s", out, wallet_strerror(rc));
    if (ctx->json)
        wallet_print_json(json_pack("{s:s, s:s}", "address", address, "file", out));
    else
        printf("wrote the secret key of %s to %s (mode 0600): keep it safe, anyone holding it can spend\n",
               address, out);
    return 0;
}
