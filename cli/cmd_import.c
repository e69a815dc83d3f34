/*
 * cmd_import.c — `nanum import [--name NAME] --plain-key-file FILE`: seals a
 * key given in its text form (the plain key file of spec/config.md "Key
 * files", kind nanum-wallet-key-plain — what `nanum export` and `nanumd
 * testnet` write) into a new encrypted keystore.  FILE "-" reads stdin.
 *
 * Read next: cli/cmd_export.c, the reverse.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

/* Reads the text form from stdin, bounded like a file. */
static int read_stdin(char **text, size_t *len)
{
    char *buf = malloc(WALLET_KEYSTORE_BYTES_MAX + 1);
    if (buf == NULL)
        return WALLET_E_NOMEM;
    size_t n = fread(buf, 1, WALLET_KEYSTORE_BYTES_MAX + 1, stdin);
    if (n > WALLET_KEYSTORE_BYTES_MAX) {
        free(buf);
        return WALLET_E_KEYSTORE;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

int wallet_cmd_import(struct wallet_ctx *ctx)
{
    const char *file = NULL;
    int rc = wallet_take_option(ctx, "--plain-key-file", &file);
    if (rc == 0)
        rc = wallet_expect_args(ctx, 0, 0, "import [--name NAME] --plain-key-file FILE|-");
    if (rc == 0 && file == NULL)
        rc = wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum import [--name NAME] --plain-key-file FILE|-");
    if (rc != 0)
        return rc;
    char *text = NULL;
    size_t len = 0;
    rc = strcmp(file, "-") == 0 ? read_stdin(&text, &len) : wallet_read_file(file, WALLET_KEYSTORE_BYTES_MAX, &text, &len);
    if (rc != 0)
        return wallet_fail(ctx, rc, "cannot read the key file %s: %s", file, wallet_strerror(rc));
    uint8_t seed[WALLET_SEED_BYTES];
    rc = wallet_plain_key_parse(text, len, seed);
    sodium_memzero(text, len);
    free(text);
    if (rc != 0)
        return wallet_fail(ctx, rc,
                           "%s is not a plain key file (JSON with version 1, kind \"nanum-wallet-key-plain\", public, "
                           "seed; spec/config.md)",
                           file);
    rc = wallet_store_new_key(ctx, seed);
    sodium_memzero(seed, sizeof seed);
    return rc;
}
