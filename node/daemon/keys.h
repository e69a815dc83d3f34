/*
 * keys.h — key files: a node's Ed25519 identity (`nanumd keygen`) and, in the
 * same format, the plain demo wallet keys that `nanumd testnet` writes.
 *
 * A key file is a small JSON object (spec/config.md, "Key files"):
 *     {"version":1,"kind":"nanum-node-key","public":"n...","seed":"<64 hex>"}
 * written with mode 0600, atomically (temporary file, fsync, then link or
 * rename), and never over an existing file unless asked.  Loading checks the
 * version, the kind, and that the seed regenerates the public key, so a typo
 * or a tampered file is an error rather than a different identity.  Secrets
 * are wiped with sodium_memzero.
 *
 * Errors are negative NODE_KEY_E_* codes; node_key_strerror() describes them.
 * The library never logs or exits; nanumd_keygen_main() is the command.
 *
 * Read next: node/daemon/keys.c, spec/config.md.
 */
#ifndef NANUM_NODE_KEYS_H
#define NANUM_NODE_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_KEY_ERRORS(X)                                                                 \
    X(NODE_KEY_E_IO, -1, "cannot read or write the key file")                              \
    X(NODE_KEY_E_EXISTS, -2, "the key file already exists")                                \
    X(NODE_KEY_E_FORMAT, -3, "not a nanum key file")                                       \
    X(NODE_KEY_E_VERSION, -4, "unsupported key file version")                              \
    X(NODE_KEY_E_KIND, -5, "the file holds a different kind of key")                       \
    X(NODE_KEY_E_MISMATCH, -6, "the public key does not match the seed")                   \
    X(NODE_KEY_E_TOO_LARGE, -7, "the key file is larger than a key file can be")           \
    X(NODE_KEY_E_CRYPTO, -8, "libsodium failed")                                           \
    X(NODE_KEY_E_INVALID, -9, "invalid argument")

enum node_key_error {
#define NODE_KEY_ERROR_ENUM(name, value, message) name = value,
    NODE_KEY_ERRORS(NODE_KEY_ERROR_ENUM)
#undef NODE_KEY_ERROR_ENUM
};

/*
 * node_key_load's positive result: the key was loaded and is good, but the
 * file can be read by its group or by everyone.  The caller decides whether
 * to warn or refuse; err holds the warning.
 */
#define NODE_KEY_WARN_READABLE_BY_OTHERS 1

/* Returns a sentence describing code (never NULL). */
const char *node_key_strerror(int code);
/* Returns the code's name, e.g. "NODE_KEY_E_KIND" (never NULL). */
const char *node_key_errname(int code);

#define NODE_KEY_FILE_VERSION 1
#define NODE_KEY_FILE_BYTES_MAX 4096       /* a key file is about 200 bytes */
#define NODE_KEY_SEED_BYTES 32
#define NODE_KEY_KIND_NODE "nanum-node-key"
#define NODE_KEY_KIND_WALLET_PLAIN "nanum-wallet-key-plain" /* demo wallets only */

/*
 * Writes a key file of the given kind for seed at path: mode 0600, written to
 * a temporary file in the same directory, fsync'd, then put in place and the
 * directory fsync'd.  Without overwrite, an existing path is never replaced
 * (NODE_KEY_E_EXISTS), even if it appears while writing.  The public key is
 * derived from the seed.  err (may be NULL) gets a sentence on error.
 */
int node_key_file_write(const char *path, const char *kind,
                        const uint8_t seed[static NODE_KEY_SEED_BYTES], bool overwrite,
                        char *err, size_t err_len);

/*
 * Reads the key file at path, which must be of kind expected_kind.  OUT:
 * public_key (32 bytes) and secret_key (libsodium's 64-byte form, seed ||
 * public key).  Returns 0; NODE_KEY_WARN_READABLE_BY_OTHERS (keys loaded, see
 * above); or a negative NODE_KEY_E_* code, with a sentence in err, and both
 * outputs zeroed.
 */
int node_key_file_load(const char *path, const char *expected_kind, uint8_t public_key[static 32],
                       uint8_t secret_key[static 64], char *err, size_t err_len);

/* node_key_file_load of a node key (kind "nanum-node-key"). */
int node_key_load(const char *path, uint8_t public_key[static 32], uint8_t secret_key[static 64],
                  char *err, size_t err_len);

/*
 * Generates a fresh node key into path (see node_key_file_write) and returns
 * its public key in public_key.
 */
int node_key_generate(const char *path, const char *kind, bool overwrite,
                      uint8_t public_key[static 32], char *err, size_t err_len);

/* `nanumd keygen --out FILE [--force]` (argv[0] is "keygen").  Prints the new
 * public address on stdout.  Exit codes: 0 ok, 64 usage, 1 other. */
int nanumd_keygen_main(int argc, char **argv);

#endif
