/*
 * keys.c — key files (format in spec/config.md): writing them atomically with
 * mode 0600, loading them with every check, and the `nanumd keygen` command.
 *
 * Writing: the text goes to a mkstemp() file beside the target (so the final
 * step stays on one file system), is fsync'd, and is then put in place with
 * link() when the target must not be replaced — link fails if the target
 * exists, so there is no window between "check" and "write" — or rename()
 * when it may be.  The directory is fsync'd last, so a key that was reported
 * written survives a power cut.
 *
 * Loading: the seed is the secret; the public key is stored beside it only so
 * a person can see which key a file holds, and loading refuses a file whose
 * public key is not the one the seed generates.
 *
 * Read next: node/daemon/keys.h, node/daemon/testnet.c (which writes many key files).
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol.h"

#define EXIT_USAGE 64
#define KEY_FILE_PATH_BYTES_MAX 4096

const char *node_key_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
    case NODE_KEY_WARN_READABLE_BY_OTHERS:
        return "the key file can be read by other users";
#define NODE_KEY_ERROR_MESSAGE(name, value, message) \
    case name:                                       \
        return message;
        NODE_KEY_ERRORS(NODE_KEY_ERROR_MESSAGE)
#undef NODE_KEY_ERROR_MESSAGE
    }
    return "unknown error";
}

const char *node_key_errname(int code)
{
    switch (code) {
    case 0:
        return "OK";
    case NODE_KEY_WARN_READABLE_BY_OTHERS:
        return "NODE_KEY_WARN_READABLE_BY_OTHERS";
#define NODE_KEY_ERROR_NAME(name, value, message) \
    case name:                                    \
        return #name;
        NODE_KEY_ERRORS(NODE_KEY_ERROR_NAME)
#undef NODE_KEY_ERROR_NAME
    }
    return "NODE_KEY_E_UNKNOWN_CODE";
}

#define fail node_fail /* node/protocol/util.c */

/* A kind is a short lowercase word with dashes: it is written into JSON
 * without escaping, so nothing else may appear in it. */
static bool kind_valid(const char *kind)
{
    size_t len = strlen(kind);
    return len > 0 && len <= 64 && strspn(kind, "abcdefghijklmnopqrstuvwxyz-") == len;
}

/* --- Writing ------------------------------------------------------------------- */

/* Formats the key file's text for seed into text (size bytes); returns its
 * length, or 0 if libsodium failed.  The hex seed is wiped from the stack. */
static size_t format_key_file(const char *kind, const uint8_t seed[NODE_KEY_SEED_BYTES],
                              char *text, size_t size, uint8_t public_key[NODE_KEY_BYTES])
{
    uint8_t secret_key[NODE_SECRET_KEY_BYTES];
    char address[NODE_ADDRESS_TEXT_BYTES + 1], hex[2 * NODE_KEY_SEED_BYTES + 1];
    if (crypto_sign_seed_keypair(public_key, secret_key, seed) != 0)
        return 0;
    sodium_memzero(secret_key, sizeof secret_key);
    node_address_encode(public_key, address);
    node_hex_encode(seed, NODE_KEY_SEED_BYTES, hex);
    int n = snprintf(text, size,
                     "{\n  \"version\": %d,\n  \"kind\": \"%s\",\n  \"public\": \"%s\",\n"
                     "  \"seed\": \"%s\"\n}\n",
                     NODE_KEY_FILE_VERSION, kind, address, hex);
    sodium_memzero(hex, sizeof hex);
    return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Writes all len bytes to fd, retrying after signals; false on failure. */
static bool write_all(int fd, const char *bytes, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, bytes, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        bytes += n;
        len -= (size_t)n;
    }
    return true;
}

/* fsyncs the directory holding path, so a new name in it is durable. */
static bool sync_parent_dir(const char *path)
{
    char dir[KEY_FILE_PATH_BYTES_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Writes text into a new 0600 temporary file beside path; its name goes to
 * tmp_path.  Returns 0 or NODE_KEY_E_IO. */
static int write_temporary(const char *path, const char *text, size_t len, char *tmp_path,
                           size_t tmp_size, char *err, size_t err_len)
{
    if ((size_t)snprintf(tmp_path, tmp_size, "%s.tmp-XXXXXX", path) >= tmp_size)
        return fail(NODE_KEY_E_INVALID, err, err_len, "%s: path too long", path);
    int fd = mkstemp(tmp_path);
    if (fd < 0)
        return fail(NODE_KEY_E_IO, err, err_len, "%s: cannot create a temporary file in its directory: %s", path,
                    strerror(errno));
    bool ok = fchmod(fd, S_IRUSR | S_IWUSR) == 0 && write_all(fd, text, len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        unlink(tmp_path);
        return fail(NODE_KEY_E_IO, err, err_len, "%s: cannot write: %s", tmp_path,
                    strerror(saved));
    }
    return 0;
}

/* Puts the written temporary file in place of path (see the file comment). */
static int install_temporary(const char *tmp_path, const char *path, bool overwrite, char *err,
                             size_t err_len)
{
    if (overwrite) {
        if (rename(tmp_path, path) != 0) {
            int saved = errno;
            unlink(tmp_path);
            return fail(NODE_KEY_E_IO, err, err_len, "%s: cannot replace: %s", path,
                        strerror(saved));
        }
    } else {
        int linked = link(tmp_path, path), saved = errno;
        unlink(tmp_path);
        if (linked != 0 && saved == EEXIST)
            return fail(NODE_KEY_E_EXISTS, err, err_len,
                        "%s already exists; refusing to replace a key (--force replaces it)",
                        path);
        if (linked != 0)
            return fail(NODE_KEY_E_IO, err, err_len, "%s: cannot create: %s", path,
                        strerror(saved));
    }
    if (!sync_parent_dir(path))
        return fail(NODE_KEY_E_IO, err, err_len, "%s: cannot sync its directory: %s", path,
                    strerror(errno));
    return 0;
}

int node_key_file_write(const char *path, const char *kind,
                        const uint8_t seed[static NODE_KEY_SEED_BYTES], bool overwrite,
                        char *err, size_t err_len)
{
    if (path == NULL || path[0] == '\0' || kind == NULL || !kind_valid(kind))
        return fail(NODE_KEY_E_INVALID, err, err_len, "a key file needs a path and a kind");
    if (node_crypto_init() != 0)
        return fail(NODE_KEY_E_CRYPTO, err, err_len, "libsodium failed to start");
    struct stat st;
    if (!overwrite && lstat(path, &st) == 0)
        return fail(NODE_KEY_E_EXISTS, err, err_len,
                    "%s already exists; refusing to replace a key (--force replaces it)", path);
    char text[NODE_KEY_FILE_BYTES_MAX + 1], tmp_path[KEY_FILE_PATH_BYTES_MAX];
    uint8_t public_key[NODE_KEY_BYTES];
    size_t len = format_key_file(kind, seed, text, sizeof text, public_key);
    int rc = len == 0 ? fail(NODE_KEY_E_CRYPTO, err, err_len, "cannot derive the key pair")
                      : write_temporary(path, text, len, tmp_path, sizeof tmp_path, err, err_len);
    sodium_memzero(text, sizeof text);
    if (rc != 0)
        return rc;
    return install_temporary(tmp_path, path, overwrite, err, err_len);
}

int node_key_generate(const char *path, const char *kind, bool overwrite,
                      uint8_t public_key[static 32], char *err, size_t err_len)
{
    if (node_crypto_init() != 0)
        return fail(NODE_KEY_E_CRYPTO, err, err_len, "libsodium failed to start");
    uint8_t seed[NODE_KEY_SEED_BYTES], secret_key[NODE_SECRET_KEY_BYTES];
    randombytes_buf(seed, sizeof seed);
    int rc = crypto_sign_seed_keypair(public_key, secret_key, seed) == 0
                 ? node_key_file_write(path, kind, seed, overwrite, err, err_len)
                 : fail(NODE_KEY_E_CRYPTO, err, err_len, "cannot derive the key pair");
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(secret_key, sizeof secret_key);
    return rc;
}

/* --- Loading ------------------------------------------------------------------- */

/* Reads the whole file (at most NODE_KEY_FILE_BYTES_MAX bytes) into text
 * (NODE_KEY_FILE_BYTES_MAX + 1 bytes), NUL-ended, and reports whether its group
 * or others have any access to it. */
static int read_key_text(const char *path, char *text, size_t *len, bool *open_to_others,
                         char *err, size_t err_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(NODE_KEY_E_IO, err, err_len, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(NODE_KEY_E_IO, err, err_len, "%s: not a regular file", path);
    }
    if (st.st_size > NODE_KEY_FILE_BYTES_MAX) {
        close(fd);
        return fail(NODE_KEY_E_TOO_LARGE, err, err_len, "%s: larger than %d bytes", path,
                    NODE_KEY_FILE_BYTES_MAX);
    }
    *open_to_others = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
    *len = 0;
    while (*len < NODE_KEY_FILE_BYTES_MAX) { /* bounded even if the file grows meanwhile */
        ssize_t n = read(fd, text + *len, NODE_KEY_FILE_BYTES_MAX - *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            return fail(NODE_KEY_E_IO, err, err_len, "%s: read error: %s", path, strerror(saved));
        }
        if (n == 0)
            break;
        *len += (size_t)n;
    }
    close(fd);
    text[*len] = '\0';
    return 0;
}

/* Checks the fields other than the seed; the seed's hex text goes to
 * seed_text (pointing into root). */
static int check_fields(json_t *root, const char *path, const char *expected_kind,
                        uint8_t public_key[NODE_KEY_BYTES], const char **seed_text, char *err,
                        size_t err_len)
{
    static const char *const allowed[] = {"version", "kind", "public", "seed"};
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        bool known = false;
        for (size_t i = 0; i < 4; i++)
            known = known || strcmp(key, allowed[i]) == 0;
        if (!known)
            return fail(NODE_KEY_E_FORMAT, err, err_len, "%s: unknown field '%s'", path, key);
    }
    json_t *version = json_object_get(root, "version");
    if (!json_is_integer(version) || json_integer_value(version) != NODE_KEY_FILE_VERSION)
        return fail(NODE_KEY_E_VERSION, err, err_len, "%s: version must be %d", path,
                    NODE_KEY_FILE_VERSION);
    const char *kind = json_string_value(json_object_get(root, "kind"));
    if (kind == NULL)
        return fail(NODE_KEY_E_FORMAT, err, err_len, "%s: kind is missing", path);
    if (strcmp(kind, expected_kind) != 0)
        return fail(NODE_KEY_E_KIND, err, err_len, "%s holds a key of kind '%.64s', not '%s'",
                    path, kind, expected_kind);
    const char *address = json_string_value(json_object_get(root, "public"));
    if (address == NULL)
        return fail(NODE_KEY_E_FORMAT, err, err_len, "%s: public is missing", path);
    int rc = node_address_decode(address, public_key);
    if (rc != 0)
        return fail(NODE_KEY_E_FORMAT, err, err_len, "%s: public: %s", path, node_strerror(rc));
    *seed_text = json_string_value(json_object_get(root, "seed"));
    if (*seed_text == NULL)
        return fail(NODE_KEY_E_FORMAT, err, err_len, "%s: seed is missing", path);
    return 0;
}

/* Derives the key pair from the hex seed and checks it against public_key. */
static int check_seed(const char *seed_text, const char *path,
                      const uint8_t public_key[NODE_KEY_BYTES], uint8_t secret_key[64],
                      char *err, size_t err_len)
{
    uint8_t seed[NODE_KEY_SEED_BYTES], derived[NODE_KEY_BYTES];
    int rc = 0;
    if (strlen(seed_text) != 2 * NODE_KEY_SEED_BYTES ||
        node_hex_decode(seed_text, seed, sizeof seed) != 0)
        rc = fail(NODE_KEY_E_FORMAT, err, err_len, "%s: seed must be %d hex digits", path,
                  2 * NODE_KEY_SEED_BYTES);
    else if (crypto_sign_seed_keypair(derived, secret_key, seed) != 0)
        rc = fail(NODE_KEY_E_CRYPTO, err, err_len, "%s: cannot derive the key pair", path);
    else if (sodium_memcmp(derived, public_key, NODE_KEY_BYTES) != 0)
        rc = fail(NODE_KEY_E_MISMATCH, err, err_len,
                  "%s: the public key does not match the seed (the file was changed)", path);
    sodium_memzero(seed, sizeof seed);
    return rc;
}

/* Parses text and fills the keys; wipes jansson's copy of the seed. */
static int parse_key_text(const char *text, size_t len, const char *path,
                          const char *expected_kind, uint8_t public_key[32],
                          uint8_t secret_key[64], char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root)) {
        json_decref(root);
        return fail(NODE_KEY_E_FORMAT, err, err_len, "%s: not a key file (JSON object): %s",
                    path, root == NULL ? jerr.text : "not an object");
    }
    const char *seed_text = NULL;
    int rc = check_fields(root, path, expected_kind, public_key, &seed_text, err, err_len);
    if (rc == 0)
        rc = check_seed(seed_text, path, public_key, secret_key, err, err_len);
    json_t *seed = json_object_get(root, "seed");
    if (json_is_string(seed)) /* the object is ours: wipe the secret before freeing it */
        sodium_memzero((char *)json_string_value(seed), json_string_length(seed));
    json_decref(root);
    return rc;
}

int node_key_file_load(const char *path, const char *expected_kind, uint8_t public_key[static 32],
                       uint8_t secret_key[static 64], char *err, size_t err_len)
{
    memset(public_key, 0, NODE_KEY_BYTES);
    sodium_memzero(secret_key, NODE_SECRET_KEY_BYTES);
    if (path == NULL || expected_kind == NULL)
        return fail(NODE_KEY_E_INVALID, err, err_len, "a key file needs a path and a kind");
    if (node_crypto_init() != 0)
        return fail(NODE_KEY_E_CRYPTO, err, err_len, "libsodium failed to start");
    char text[NODE_KEY_FILE_BYTES_MAX + 1];
    size_t len = 0;
    bool open_to_others = false;
    int rc = read_key_text(path, text, &len, &open_to_others, err, err_len);
    if (rc == 0)
        rc = parse_key_text(text, len, path, expected_kind, public_key, secret_key, err, err_len);
    sodium_memzero(text, sizeof text);
    if (rc != 0) {
        memset(public_key, 0, NODE_KEY_BYTES);
        sodium_memzero(secret_key, NODE_SECRET_KEY_BYTES);
        return rc;
    }
    if (open_to_others)
        return fail(NODE_KEY_WARN_READABLE_BY_OTHERS, err, err_len,
                    "%s can be read by other users; run: chmod 600 %s", path, path);
    return 0;
}

int node_key_load(const char *path, uint8_t public_key[static 32], uint8_t secret_key[static 64],
                  char *err, size_t err_len)
{
    return node_key_file_load(path, NODE_KEY_KIND_NODE, public_key, secret_key, err, err_len);
}

/* --- nanumd keygen ------------------------------------------------------------- */

/* Prints the command's usage to out. */
static void keygen_usage(FILE *out)
{
    fputs("usage: nanumd keygen --out FILE [--force]\n"
          "  writes a new Ed25519 node key (mode 0600) and prints its public address;\n"
          "  --force replaces an existing FILE\n",
          out);
}

int nanumd_keygen_main(int argc, char **argv)
{
    const char *out = NULL;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--out") == 0) {
            fputs("keygen: --out needs a FILE\n", stderr);
            keygen_usage(stderr);
            return EXIT_USAGE;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            keygen_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "keygen: unexpected argument '%s'\n", argv[i]);
            keygen_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (out == NULL || out[0] == '\0') {
        fputs("keygen: --out FILE is required\n", stderr);
        keygen_usage(stderr);
        return EXIT_USAGE;
    }
    uint8_t public_key[NODE_KEY_BYTES];
    char err[512], address[NODE_ADDRESS_TEXT_BYTES + 1];
    int rc = node_key_generate(out, NODE_KEY_KIND_NODE, force, public_key, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "keygen: %s\n", err);
        return 1;
    }
    node_address_encode(public_key, address);
    printf("%s\n", address);
    return 0;
}
