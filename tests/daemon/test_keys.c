/*
 * test_keys.c — key files (node/daemon/keys.c): `nanumd keygen` writes a 0600 file
 * and prints its address, refuses to replace a key without --force, and
 * loading round-trips while every damaged file is a clear error.
 */
#include "helpers.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>

#include "keys.h"
#include "protocol.h"

struct fixture {
    char dir[PATH_MAX];
    char key[PATH_MAX + 32];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    make_temp_dir(f->dir);
    snprintf(f->key, sizeof f->key, "%s/node.key", f->dir);
    *state = f;
    return node_crypto_init();
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    remove_tree(f->dir);
    free(f);
    return 0;
}

/* Runs nanumd_keygen_main with args, capturing its stdout into out. */
static int run_keygen(const struct fixture *f, char *out, size_t out_size, int argc, ...)
{
    char *argv[8] = {"keygen"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc && i < 8; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return run_captured(nanumd_keygen_main, argc, argv, f->dir, out, out_size);
}

/* Replaces the first occurrence of from with to in the file at path. */
static void edit_file(const char *path, const char *from, const char *to)
{
    char text[4096], edited[4096];
    read_file_text(path, text, sizeof text);
    char *at = strstr(text, from);
    if (at == NULL)
        fail_msg("\"%s\" not found in %s", from, text);
    snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    write_file(path, edited);
    chmod(path, 0600);
}

static void expect_load_error(const char *path, int rc, const char *phrase)
{
    uint8_t pk[32], sk[64];
    char err[512];
    int got = node_key_load(path, pk, sk, err, sizeof err);
    if (got != rc)
        fail_msg("expected %s, got %s (%s)", node_key_errname(rc), node_key_errname(got), err);
    assert_contains(err, phrase);
    uint8_t zero[64] = {0};
    assert_memory_equal(sk, zero, 64);
}

static void keygen_writes_a_0600_file_and_prints_its_address(void **state)
{
    struct fixture *f = *state;
    char out[256];
    assert_int_equal(run_keygen(f, out, sizeof out, 3, "--out", f->key), 0);
    struct stat st;
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    uint8_t pk[32], sk[64];
    char err[512], address[NODE_ADDRESS_TEXT_BYTES + 1], printed[NODE_ADDRESS_TEXT_BYTES + 2];
    assert_int_equal(node_key_load(f->key, pk, sk, err, sizeof err), 0);
    node_address_encode(pk, address);
    snprintf(printed, sizeof printed, "%s\n", address);
    assert_string_equal(out, printed);
    char text[4096];
    read_file_text(f->key, text, sizeof text);
    assert_contains(text, "\"kind\": \"nanum-node-key\"");
    assert_contains(text, "\"version\": 1");
}

static void load_round_trips_a_key_that_signs_and_verifies(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[32], pk2[32], sk[64], sig[64], network[32] = {7};
    char err[512];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err), 0);
    assert_int_equal(node_key_load(f->key, pk2, sk, err, sizeof err), 0);
    assert_memory_equal(pk, pk2, 32);
    assert_memory_equal(sk + 32, pk, 32);
    const uint8_t message[] = "hello";
    assert_int_equal(node_sign(NODE_DOMAIN_TX, network, message, sizeof message, sk, sig), 0);
    assert_int_equal(node_verify(NODE_DOMAIN_TX, network, message, sizeof message, pk, sig), 0);
    uint8_t seed[32];
    memset(seed, 0x42, sizeof seed);
    assert_int_equal(node_key_file_write(f->key, NODE_KEY_KIND_NODE, seed, true, err, sizeof err), 0);
    assert_int_equal(node_key_load(f->key, pk2, sk, err, sizeof err), 0);
    assert_memory_equal(sk, seed, 32);
}

static void keygen_refuses_to_replace_a_key_without_force(void **state)
{
    struct fixture *f = *state;
    char out[256], first[256], before[4096], after[4096];
    assert_int_equal(run_keygen(f, first, sizeof first, 3, "--out", f->key), 0);
    read_file_text(f->key, before, sizeof before);
    assert_int_equal(run_keygen(f, out, sizeof out, 3, "--out", f->key), 1);
    read_file_text(f->key, after, sizeof after);
    assert_string_equal(before, after);
    char err[512];
    uint8_t pk[32];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err),
                     NODE_KEY_E_EXISTS);
    assert_contains(err, "already exists; refusing to replace a key (--force replaces it)");
    assert_int_equal(run_keygen(f, out, sizeof out, 4, "--out", f->key, "--force"), 0);
    assert_string_not_equal(out, first);
    struct stat st;
    assert_int_equal(stat(f->key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void keygen_usage_errors_exit_64(void **state)
{
    struct fixture *f = *state;
    char out[256];
    assert_int_equal(run_keygen(f, out, sizeof out, 1), 64);
    assert_int_equal(run_keygen(f, out, sizeof out, 2, "--out"), 64);
    assert_int_equal(run_keygen(f, out, sizeof out, 4, "--out", f->key, "--bogus"), 64);
    assert_int_equal(access(f->key, F_OK), -1);
}

static void writing_leaves_no_temporary_file_behind(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[32];
    char err[512];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err), 0);
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, true, pk, err, sizeof err), 0);
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err),
                     NODE_KEY_E_EXISTS);
    DIR *d = opendir(f->dir);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') {
            entries++;
            assert_string_equal(e->d_name, "node.key");
        }
    closedir(d);
    assert_int_equal(entries, 1);
}

static void wrong_kind_is_a_clear_error(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[32];
    char err[512];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_WALLET_PLAIN, false, pk, err,
                                       sizeof err), 0);
    expect_load_error(f->key, NODE_KEY_E_KIND,
                      "holds a key of kind 'nanum-wallet-key-plain', not 'nanum-node-key'");
}

static void tampered_public_key_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[32], other[32];
    char err[512], address[NODE_ADDRESS_TEXT_BYTES + 1], other_address[NODE_ADDRESS_TEXT_BYTES + 1];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err), 0);
    node_address_encode(pk, address);
    memset(other, 9, sizeof other);
    node_address_encode(other, other_address);
    edit_file(f->key, address, other_address);
    expect_load_error(f->key, NODE_KEY_E_MISMATCH, "the public key does not match the seed");
    /* A one-character typo in the address is caught by its checksum. */
    char from[7], to[7];
    memcpy(from, other_address + 10, 6);
    from[6] = '\0';
    memcpy(to, from, sizeof to);
    to[0] = from[0] == 'a' ? 'b' : 'a';
    edit_file(f->key, from, to);
    expect_load_error(f->key, NODE_KEY_E_FORMAT, "public: ");
}

static void bad_seed_hex_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t seed[32];
    char err[512], hex[65];
    memset(seed, 0xab, sizeof seed);
    node_hex_encode(seed, 32, hex);
    assert_int_equal(node_key_file_write(f->key, NODE_KEY_KIND_NODE, seed, false, err, sizeof err), 0);
    edit_file(f->key, "abababab", "abababzz");
    expect_load_error(f->key, NODE_KEY_E_FORMAT, "seed must be 64 hex digits");
    edit_file(f->key, "abababzz", "ababab");
    expect_load_error(f->key, NODE_KEY_E_FORMAT, "seed must be 64 hex digits");
}

static void malformed_files_are_clear_errors(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[32];
    char err[512];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err), 0);
    edit_file(f->key, "\"version\": 1", "\"version\": 2");
    expect_load_error(f->key, NODE_KEY_E_VERSION, "version must be 1");
    edit_file(f->key, "\"version\": 2", "\"version\": 1, \"comment\": \"x\"");
    expect_load_error(f->key, NODE_KEY_E_FORMAT, "unknown field 'comment'");
    write_file(f->key, "not json\n");
    expect_load_error(f->key, NODE_KEY_E_FORMAT, "not a key file (JSON object)");
    write_file(f->key, "{\"version\":1,\"kind\":\"nanum-node-key\"}");
    expect_load_error(f->key, NODE_KEY_E_FORMAT, "public is missing");
    char big[5000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file(f->key, big);
    expect_load_error(f->key, NODE_KEY_E_TOO_LARGE, "larger than 4096 bytes");
    unlink(f->key);
    expect_load_error(f->key, NODE_KEY_E_IO, "cannot open");
    expect_load_error(f->dir, NODE_KEY_E_IO, "not a regular file");
}

static void group_readable_key_loads_with_a_warning(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[32], pk2[32], sk[64];
    char err[512];
    assert_int_equal(node_key_generate(f->key, NODE_KEY_KIND_NODE, false, pk, err, sizeof err), 0);
    assert_int_equal(chmod(f->key, 0640), 0);
    assert_int_equal(node_key_load(f->key, pk2, sk, err, sizeof err),
                     NODE_KEY_WARN_READABLE_BY_OTHERS);
    assert_memory_equal(pk, pk2, 32);
    assert_contains(err, "can be read by other users; run: chmod 600");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keygen_writes_a_0600_file_and_prints_its_address, setup, teardown),
        cmocka_unit_test_setup_teardown(load_round_trips_a_key_that_signs_and_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(keygen_refuses_to_replace_a_key_without_force, setup, teardown),
        cmocka_unit_test_setup_teardown(keygen_usage_errors_exit_64, setup, teardown),
        cmocka_unit_test_setup_teardown(writing_leaves_no_temporary_file_behind, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_kind_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(tampered_public_key_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_seed_hex_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_files_are_clear_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(group_readable_key_loads_with_a_warning, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
