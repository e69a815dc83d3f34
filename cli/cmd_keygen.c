/*
 * cmd_keygen.c — `nanum keygen [--name NAME]`: a fresh Ed25519 key sealed
 * in HOME/keys/NAME.json (mode 0600, never over an existing keystore).  The
 * secret is never printed; the address is.  The sealing itself is shared
 * with `nanum import` (wallet_store_new_key).
 *
 * Read next: cli/keystore.c.
 */
#include <sodium.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "wallet.h"

/* Creates HOME and HOME/keys (0700) if missing. */
static int make_dirs(struct wallet_ctx *ctx)
{
    char path[WALLET_PATH_BYTES_MAX];
    if (mkdir(ctx->home, 0700) != 0 && errno != EEXIST)
        return wallet_fail(ctx, WALLET_E_IO, "cannot create %s: %s", ctx->home, strerror(errno));
    snprintf(path, sizeof path, "%s/keys", ctx->home);
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return wallet_fail(ctx, WALLET_E_IO, "cannot create %s: %s", path, strerror(errno));
    return 0;
}


/* Seals seed under a passphrase (asked twice) into the chosen keystore and
 * prints its address. */
int wallet_store_new_key(struct wallet_ctx *ctx, const uint8_t seed[static WALLET_SEED_BYTES])
{
    char path[WALLET_PATH_BYTES_MAX], passphrase[WALLET_PASSPHRASE_BYTES_MAX], *text = NULL;
    int rc = wallet_keystore_path(ctx, path);
    if (rc == 0)
        rc = make_dirs(ctx);
    if (rc == 0 && access(path, F_OK) == 0)
        return wallet_fail(ctx, WALLET_E_EXISTS, "the keystore %s already exists: choose another --name", path);
    if (rc == 0)
        rc = wallet_passphrase(ctx, true, passphrase);
    if (rc != 0)
        return rc;
    if (passphrase[0] == '\0')
        return wallet_fail(ctx, WALLET_E_USAGE, "an empty passphrase protects nothing: choose one");
    rc = wallet_keystore_seal(seed, passphrase, ctx->key_name, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE, &text);
    sodium_memzero(passphrase, sizeof passphrase);
    if (rc == 0)
        rc = wallet_write_new_file(path, text);
    free(text);
    if (rc != 0)
        return wallet_fail(ctx, rc, "cannot write the keystore %s: %s", path, wallet_strerror(rc));
    uint8_t pk[NODE_KEY_BYTES];
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
    rc = wallet_load_public(ctx, pk);
    if (rc != 0)
        return rc;
    node_address_encode(pk, address);
    if (ctx->json)
        wallet_print_json(json_pack("{s:s, s:s, s:s}", "name", ctx->key_name, "address", address, "keystore", path));
    else
        printf("%s\nkeystore %s (encrypted with your passphrase; keep a backup)\n", address, path);
    return 0;
}

int wallet_cmd_keygen(struct wallet_ctx *ctx)
{
    int rc = wallet_expect_args(ctx, 0, 0, "keygen [--name NAME]");
    if (rc != 0)
        return rc;
    if (node_crypto_init() != 0)
        return wallet_fail(ctx, WALLET_E_CRYPTO, "libsodium cannot start");
    uint8_t seed[WALLET_SEED_BYTES];
    randombytes_buf(seed, sizeof seed);
    rc = wallet_store_new_key(ctx, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}
