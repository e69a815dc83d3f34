/*
 * keystore.c — the wallet's keys at rest: a JSON keystore file holding the
 * Ed25519 seed sealed with XSalsa20-Poly1305 (crypto_secretbox) under a key
 * derived from a passphrase with argon2id (crypto_pwhash), mode 0600.  Also
 * reads the plain key files that `nanumd testnet` writes (spec/config.md
 * "Key files"), which is the text form of `nanum import` / `nanum export`,
 * and asks for passphrases without echo.
 *
 * A wrong passphrase fails the secretbox's authentication, so it is always
 * told apart from a damaged file: the file's shape is checked first, and
 * after opening, the seed must regenerate the stored public key.
 *
 * Read next: spec/wallet.md "Keystore".
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "wallet.h"

#define KEYSTORE_VERSION 1
#define KEYSTORE_KDF "argon2id13"
#define KEYSTORE_MEMLIMIT_MAX (1024u << 20) /* refuse files that ask for more than 1 GiB */
#define KEYSTORE_OPSLIMIT_MAX 64u
#define KEYSTORE_SALT_BYTES crypto_pwhash_SALTBYTES
#define KEYSTORE_NONCE_BYTES crypto_secretbox_NONCEBYTES
#define KEYSTORE_BOX_BYTES (crypto_secretbox_MACBYTES + WALLET_SEED_BYTES)

/* Reads one line from the terminal with echo off. */
static int read_hidden(const char *prompt, char out[static WALLET_PASSPHRASE_BYTES_MAX])
{
    /* The controlling terminal, else a terminal on stdin (a pty without
     * being the session's controlling terminal, as under some drivers). */
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && isatty(STDIN_FILENO))
        fd = dup(STDIN_FILENO);
    if (fd < 0)
        return WALLET_E_USAGE;
    struct termios old, quiet;
    bool restore = tcgetattr(fd, &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* The prompt is a courtesy; reading still works. */
    }
    size_t n = 0;
    char c;
    while (n + 1 < WALLET_PASSPHRASE_BYTES_MAX && read(fd, &c, 1) == 1 && c != '\n')
        out[n++] = c;
    out[n] = '\0';
    if (restore)
        tcsetattr(fd, TCSAFLUSH, &old);
    close(fd);
    return 0;
}

int wallet_passphrase(struct wallet_ctx *ctx, bool confirm, char out[static WALLET_PASSPHRASE_BYTES_MAX])
{
    const char *env = getenv("NANUM_PASSPHRASE");
    if (env != NULL) {
        if (strlen(env) >= WALLET_PASSPHRASE_BYTES_MAX)
            return wallet_fail(ctx, WALLET_E_USAGE, "NANUM_PASSPHRASE is longer than %u bytes",
                               WALLET_PASSPHRASE_BYTES_MAX - 1);
        snprintf(out, WALLET_PASSPHRASE_BYTES_MAX, "%s", env);
        return 0;
    }
    if (read_hidden("Passphrase: ", out) != 0)
        return wallet_fail(ctx, WALLET_E_USAGE,
                           "no terminal to ask for the passphrase: set NANUM_PASSPHRASE for scripts");
    if (confirm) {
        char again[WALLET_PASSPHRASE_BYTES_MAX];
        read_hidden("Passphrase again: ", again);
        bool same = strcmp(again, out) == 0;
        sodium_memzero(again, sizeof again);
        if (!same) {
            sodium_memzero(out, WALLET_PASSPHRASE_BYTES_MAX);
            return wallet_fail(ctx, WALLET_E_USAGE, "the two passphrases differ; run the command again");
        }
    }
    return 0;
}

static json_t *hex_json(const uint8_t *bytes, size_t len)
{
    char hex[2 * 64 + 1];
    node_hex_encode(bytes, len, hex);
    return json_string(hex);
}

int wallet_keystore_seal(const uint8_t seed[static WALLET_SEED_BYTES], const char *passphrase, const char *name,
                         unsigned long long opslimit, size_t memlimit, char **text)
{
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    uint8_t salt[KEYSTORE_SALT_BYTES], nonce[KEYSTORE_NONCE_BYTES], box[KEYSTORE_BOX_BYTES];
    uint8_t key[crypto_secretbox_KEYBYTES];
    if (node_crypto_init() != 0)
        return WALLET_E_CRYPTO;
    crypto_sign_seed_keypair(pk, sk, seed);
    sodium_memzero(sk, sizeof sk);
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), salt, opslimit, memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return WALLET_E_NOMEM; /* argon2id could not get its memory */
    crypto_secretbox_easy(box, seed, WALLET_SEED_BYTES, nonce, key);
    sodium_memzero(key, sizeof key);
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(pk, address);
    json_t *kdf = json_pack("{s:s, s:I, s:I, s:o}", "alg", KEYSTORE_KDF, "opslimit", (json_int_t)opslimit,
                            "memlimit", (json_int_t)memlimit, "salt", hex_json(salt, sizeof salt));
    json_t *obj = json_pack("{s:i, s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "version", KEYSTORE_VERSION, "kind",
                            WALLET_KEYSTORE_KIND, "name", name, "public", address, "kdf", kdf, "cipher",
                            "xsalsa20poly1305", "nonce", hex_json(nonce, sizeof nonce), "ciphertext",
                            hex_json(box, sizeof box));
    *text = obj != NULL ? json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    json_decref(obj);
    return *text != NULL ? 0 : WALLET_E_NOMEM;
}

/* The sealed parts of a keystore, checked for shape. */
struct keystore_parts {
    uint8_t public_key[NODE_KEY_BYTES];
    uint64_t opslimit, memlimit;
    uint8_t salt[KEYSTORE_SALT_BYTES], nonce[KEYSTORE_NONCE_BYTES], box[KEYSTORE_BOX_BYTES];
};

static bool hex_field(const json_t *obj, const char *key, uint8_t *out, size_t len)
{
    const char *hex = wallet_json_str(obj, key);
    return hex != NULL && strlen(hex) == 2 * len && node_hex_decode(hex, out, len) == 0;
}

static int keystore_parse(const char *text, size_t len, struct keystore_parts *p)
{
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, 0, &jerr);
    json_t *kdf = json_object_get(obj, "kdf");
    const char *kind = wallet_json_str(obj, "kind"), *alg = wallet_json_str(kdf, "alg");
    const char *address = wallet_json_str(obj, "public"), *cipher = wallet_json_str(obj, "cipher");
    int rc = WALLET_E_KEYSTORE;
    if (obj == NULL || kind == NULL || strcmp(kind, WALLET_KEYSTORE_KIND) != 0 ||
        wallet_json_u64(obj, "version", 0) != KEYSTORE_VERSION || alg == NULL || strcmp(alg, KEYSTORE_KDF) != 0 ||
        cipher == NULL || strcmp(cipher, "xsalsa20poly1305") != 0 || address == NULL ||
        node_address_decode(address, p->public_key) != 0)
        goto done;
    p->opslimit = wallet_json_u64(kdf, "opslimit", 0);
    p->memlimit = wallet_json_u64(kdf, "memlimit", 0);
    if (p->opslimit < crypto_pwhash_OPSLIMIT_MIN || p->opslimit > KEYSTORE_OPSLIMIT_MAX ||
        p->memlimit < crypto_pwhash_MEMLIMIT_MIN || p->memlimit > KEYSTORE_MEMLIMIT_MAX)
        goto done;
    if (hex_field(kdf, "salt", p->salt, sizeof p->salt) && hex_field(obj, "nonce", p->nonce, sizeof p->nonce) &&
        hex_field(obj, "ciphertext", p->box, sizeof p->box))
        rc = 0;
done:
    json_decref(obj);
    return rc;
}

int wallet_keystore_public(const char *text, size_t len, uint8_t public_key[static NODE_KEY_BYTES])
{
    struct keystore_parts p;
    int rc = keystore_parse(text, len, &p);
    if (rc == 0)
        memcpy(public_key, p.public_key, NODE_KEY_BYTES);
    return rc;
}

int wallet_keystore_open(const char *text, size_t len, const char *passphrase,
                         uint8_t seed[static WALLET_SEED_BYTES], uint8_t public_key[static NODE_KEY_BYTES])
{
    struct keystore_parts p;
    uint8_t key[crypto_secretbox_KEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    int rc = keystore_parse(text, len, &p);
    if (rc != 0)
        return rc;
    if (node_crypto_init() != 0)
        return WALLET_E_CRYPTO;
    if (crypto_pwhash(key, sizeof key, passphrase, strlen(passphrase), p.salt, p.opslimit, (size_t)p.memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return WALLET_E_NOMEM;
    rc = crypto_secretbox_open_easy(seed, p.box, sizeof p.box, p.nonce, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0) {
        sodium_memzero(seed, WALLET_SEED_BYTES);
        return WALLET_E_BAD_PASSPHRASE;
    }
    crypto_sign_seed_keypair(public_key, sk, seed);
    sodium_memzero(sk, sizeof sk);
    if (sodium_memcmp(public_key, p.public_key, NODE_KEY_BYTES) != 0) {
        sodium_memzero(seed, WALLET_SEED_BYTES);
        return WALLET_E_KEYSTORE; /* sealed seed and stated address disagree: edited file */
    }
    return 0;
}

int wallet_plain_key_parse(const char *text, size_t len, uint8_t seed[static WALLET_SEED_BYTES])
{
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, 0, &jerr);
    const char *kind = wallet_json_str(obj, "kind"), *address = wallet_json_str(obj, "public");
    uint8_t stated[NODE_KEY_BYTES], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    int rc = WALLET_E_KEYSTORE;
    if (obj != NULL && kind != NULL && strcmp(kind, "nanum-wallet-key-plain") == 0 &&
        wallet_json_u64(obj, "version", 0) == 1 && json_object_size(obj) == 4 && address != NULL &&
        node_address_decode(address, stated) == 0 && hex_field(obj, "seed", seed, WALLET_SEED_BYTES) &&
        node_crypto_init() == 0) {
        crypto_sign_seed_keypair(pk, sk, seed);
        sodium_memzero(sk, sizeof sk);
        rc = memcmp(pk, stated, NODE_KEY_BYTES) == 0 ? 0 : WALLET_E_KEYSTORE;
    }
    if (rc != 0)
        sodium_memzero(seed, WALLET_SEED_BYTES);
    json_decref(obj);
    return rc;
}

int wallet_write_new_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? WALLET_E_EXISTS : WALLET_E_IO;
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0) {
            close(fd);
            unlink(path);
            return WALLET_E_IO;
        }
        done += (size_t)n;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        close(fd);
        unlink(path);
        return WALLET_E_IO;
    }
    return close(fd) == 0 ? 0 : WALLET_E_IO;
}

int wallet_read_file(const char *path, size_t max, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return errno == ENOENT ? WALLET_E_NOT_FOUND : WALLET_E_IO;
    char *buf = malloc(max + 1);
    size_t n = buf != NULL ? fread(buf, 1, max + 1, f) : 0;
    bool error = ferror(f) != 0;
    fclose(f);
    if (buf == NULL || error || n > max) {
        free(buf);
        return buf == NULL ? WALLET_E_NOMEM : WALLET_E_KEYSTORE;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

/* --- The chosen keystore of this run ------------------------------------------------ */

/* A keystore name becomes a file name: letters, digits, '-', '_', '.'. */
static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    return n > 0 && n <= WALLET_NAME_BYTES_MAX && name[0] != '.' &&
           strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

int wallet_keystore_path(struct wallet_ctx *ctx, char out[static WALLET_PATH_BYTES_MAX])
{
    if (!name_ok(ctx->key_name))
        return wallet_fail(ctx, WALLET_E_USAGE,
                           "'%s' is not a keystore name: use letters, digits, '-', '_' and '.' (at most %u)",
                           ctx->key_name, WALLET_NAME_BYTES_MAX);
    if ((size_t)snprintf(out, WALLET_PATH_BYTES_MAX, "%s/keys/%s.json", ctx->home, ctx->key_name) >=
        WALLET_PATH_BYTES_MAX)
        return wallet_fail(ctx, WALLET_E_USAGE, "the keystore path is too long");
    return 0;
}

/* Reads the chosen keystore's text, with member-facing messages. */
static int read_keystore(struct wallet_ctx *ctx, char path[static WALLET_PATH_BYTES_MAX], char **text, size_t *len)
{
    int rc = wallet_keystore_path(ctx, path);
    if (rc != 0)
        return rc;
    rc = wallet_read_file(path, WALLET_KEYSTORE_BYTES_MAX, text, len);
    if (rc == WALLET_E_NOT_FOUND)
        return wallet_fail(ctx, WALLET_E_NOT_FOUND,
                           "no keystore '%s' (%s): create one with `nanum keygen --name %s` or `nanum import`",
                           ctx->key_name, path, ctx->key_name);
    if (rc != 0)
        return wallet_fail(ctx, rc, "cannot read the keystore %s: %s", path, wallet_strerror(rc));
    return 0;
}

int wallet_load_public(struct wallet_ctx *ctx, uint8_t public_key[static NODE_KEY_BYTES])
{
    char path[WALLET_PATH_BYTES_MAX], *text;
    size_t len;
    int rc = read_keystore(ctx, path, &text, &len);
    if (rc != 0)
        return rc;
    rc = wallet_keystore_public(text, len, public_key);
    free(text);
    if (rc != 0)
        return wallet_fail(ctx, rc, "the keystore %s is damaged or not a nanum keystore: restore it from a backup "
                           "or import the key again", path);
    return 0;
}

int wallet_load_secret(struct wallet_ctx *ctx, uint8_t public_key[static NODE_KEY_BYTES],
                       uint8_t secret_key[static NODE_SECRET_KEY_BYTES])
{
    char path[WALLET_PATH_BYTES_MAX], *text;
    size_t len;
    int rc = read_keystore(ctx, path, &text, &len);
    if (rc != 0)
        return rc;
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
        fprintf(stderr, "warning: %s can be read by other users; run chmod 600 %s\n", path, path);
    char passphrase[WALLET_PASSPHRASE_BYTES_MAX];
    uint8_t seed[WALLET_SEED_BYTES];
    rc = wallet_keystore_public(text, len, public_key);
    if (rc == 0)
        rc = wallet_passphrase(ctx, false, passphrase);
    if (rc == 0) {
        rc = wallet_keystore_open(text, len, passphrase, seed, public_key);
        sodium_memzero(passphrase, sizeof passphrase);
    }
    free(text);
    if (rc == 0) {
        crypto_sign_seed_keypair(public_key, secret_key, seed);
        sodium_memzero(seed, sizeof seed);
        return 0;
    }
    if (rc == WALLET_E_BAD_PASSPHRASE)
        return wallet_fail(ctx, rc, "wrong passphrase for the keystore '%s' (%s): try again; scripts set "
                           "NANUM_PASSPHRASE", ctx->key_name, path);
    if (rc == WALLET_E_KEYSTORE)
        return wallet_fail(ctx, rc, "the keystore %s is damaged or not a nanum keystore: restore it from a backup "
                           "or import the key again", path);
    return rc;
}
