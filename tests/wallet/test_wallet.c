/*
 * test_wallet.c — unit tests of the wallet's pieces that need no node: the
 * keystore (sealing, wrong passphrase, damaged files, file mode), plain key
 * files, the quorum rule, ledger and Merkle-path verification against
 * tampering, time and hour arithmetic, option parsing and exit codes.
 *
 * The end-to-end behaviour against real nodes is tests/wallet/test_cli.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>

#include "wallet.h"

/* Cheap argon2id costs: the tests pin behaviour, not the cost. */
#define TEST_OPS crypto_pwhash_OPSLIMIT_MIN
#define TEST_MEM crypto_pwhash_MEMLIMIT_MIN

/* cmocka prints both values of assert_int_equal; names make codes readable. */
#define assert_code(actual, expected)                                                                 \
    do {                                                                                              \
        int a_ = (actual), e_ = (expected);                                                           \
        if (a_ != e_)                                                                                 \
            fail_msg("%s is %d (%s), expected %d (%s)", #actual, a_, wallet_errname(a_), e_,          \
                     wallet_errname(e_));                                                             \
    } while (0)

/* Fails with both strings unless needle is in haystack. */
#define assert_contains(haystack, needle)                                                  \
    do {                                                                                   \
        if (strstr((haystack), (needle)) == NULL)                                          \
            fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));              \
    } while (0)

static const uint8_t test_seed[WALLET_SEED_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};

static char *sealed(const char *passphrase)
{
    char *text = NULL;
    assert_code(wallet_keystore_seal(test_seed, passphrase, "test", TEST_OPS, TEST_MEM, &text), 0);
    return text;
}

static void keystore_opens_with_its_passphrase_to_the_same_seed(void **state)
{
    (void)state;
    char *text = sealed("correct horse");
    uint8_t seed[WALLET_SEED_BYTES], pk[NODE_KEY_BYTES], stated[NODE_KEY_BYTES];
    assert_code(wallet_keystore_open(text, strlen(text), "correct horse", seed, pk), 0);
    assert_memory_equal(seed, test_seed, sizeof seed);
    assert_code(wallet_keystore_public(text, strlen(text), stated), 0);
    assert_memory_equal(pk, stated, sizeof pk);
    assert_null(strstr(text, "0102030405")); /* the seed is not in the file in clear */
    free(text);
}

static void keystore_wrong_passphrase_is_bad_passphrase_not_garbage(void **state)
{
    (void)state;
    char *text = sealed("correct horse");
    uint8_t seed[WALLET_SEED_BYTES], pk[NODE_KEY_BYTES];
    memset(seed, 0xAA, sizeof seed);
    assert_code(wallet_keystore_open(text, strlen(text), "wrong horse", seed, pk), WALLET_E_BAD_PASSPHRASE);
    uint8_t zero[WALLET_SEED_BYTES] = {0};
    assert_memory_equal(seed, zero, sizeof seed); /* nothing half-opened is left behind */
    free(text);
}

/* Replaces the first occurrence of from in text (same length) with to. */
static void patch(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
}

static void damaged_keystore_is_a_keystore_error(void **state)
{
    (void)state;
    uint8_t seed[WALLET_SEED_BYTES], pk[NODE_KEY_BYTES];
    char *text = sealed("pw");
    /* Truncated in the middle. */
    assert_code(wallet_keystore_open(text, strlen(text) / 2, "pw", seed, pk), WALLET_E_KEYSTORE);
    /* Not JSON at all. */
    assert_code(wallet_keystore_open("garbage", 7, "pw", seed, pk), WALLET_E_KEYSTORE);
    /* Another kind of file. */
    char *other = strdup(text);
    patch(other, "nanum-wallet-keystore", "nanum-wallet-keystorX");
    assert_code(wallet_keystore_open(other, strlen(other), "pw", seed, pk), WALLET_E_KEYSTORE);
    free(other);
    /* A KDF cost far above the limit is refused before any work. */
    json_error_t jerr;
    json_t *obj = json_loads(text, 0, &jerr);
    json_object_set_new(json_object_get(obj, "kdf"), "memlimit", json_integer((json_int_t)1 << 40));
    other = json_dumps(obj, 0);
    json_decref(obj);
    assert_code(wallet_keystore_open(other, strlen(other), "pw", seed, pk), WALLET_E_KEYSTORE);
    free(other);
    free(text);
}

static void keystore_with_edited_address_is_refused(void **state)
{
    (void)state;
    char *text = sealed("pw"), *other = sealed("pw");
    uint8_t seed[WALLET_SEED_BYTES], pk[NODE_KEY_BYTES], other_seed[WALLET_SEED_BYTES] = {9};
    char *third = NULL;
    assert_code(wallet_keystore_seal(other_seed, "pw", "x", TEST_OPS, TEST_MEM, &third), 0);
    /* Put the third key's address into the first file: the seal no longer matches. */
    const char *a = strstr(text, "\"public\": \"") + 11, *b = strstr(third, "\"public\": \"") + 11;
    memcpy((char *)a, b, NODE_ADDRESS_TEXT_BYTES);
    assert_code(wallet_keystore_open(text, strlen(text), "pw", seed, pk), WALLET_E_KEYSTORE);
    free(text);
    free(other);
    free(third);
}

static void new_files_are_mode_0600_and_never_overwritten(void **state)
{
    (void)state;
    char dir[] = "/tmp/nanum-wallet-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/k.json", dir);
    assert_code(wallet_write_new_file(path, "{}"), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_code(wallet_write_new_file(path, "{\"x\":1}"), WALLET_E_EXISTS);
    char *text;
    size_t len;
    assert_code(wallet_read_file(path, 4096, &text, &len), 0);
    assert_string_equal(text, "{}\n");
    free(text);
    unlink(path);
    rmdir(dir);
}

static void plain_key_file_gives_its_seed_and_a_mismatch_is_refused(void **state)
{
    (void)state;
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], seed[WALLET_SEED_BYTES];
    crypto_sign_seed_keypair(pk, sk, test_seed);
    char address[NODE_ADDRESS_TEXT_BYTES + 1], hex[65], text[512];
    node_address_encode(pk, address);
    node_hex_encode(test_seed, 32, hex);
    snprintf(text, sizeof text, "{\"version\":1,\"kind\":\"nanum-wallet-key-plain\",\"public\":\"%s\",\"seed\":\"%s\"}",
             address, hex);
    assert_code(wallet_plain_key_parse(text, strlen(text), seed), 0);
    assert_memory_equal(seed, test_seed, sizeof seed);
    hex[0] = hex[0] == '0' ? '1' : '0'; /* a different seed: no longer the stated key */
    snprintf(text, sizeof text, "{\"version\":1,\"kind\":\"nanum-wallet-key-plain\",\"public\":\"%s\",\"seed\":\"%s\"}",
             address, hex);
    assert_code(wallet_plain_key_parse(text, strlen(text), seed), WALLET_E_KEYSTORE);
    snprintf(text, sizeof text, "{\"version\":1,\"kind\":\"nanum-node-key\",\"public\":\"%s\",\"seed\":\"%s\"}",
             address, hex);
    assert_code(wallet_plain_key_parse(text, strlen(text), seed), WALLET_E_KEYSTORE);
}

/* --- Quorum and ledger verification ------------------------------------------------- */

#define TEST_VALIDATORS 4

struct fixture {
    uint8_t pk[TEST_VALIDATORS][32], sk[TEST_VALIDATORS][64];
    struct node_validator v[TEST_VALIDATORS];
    struct node_validator_set set;
    struct wallet_validators known; /* before = after = set */
    struct wallet_ctx ctx;
};

/* Four validators sorted by node key (as a ledger keeps them), one org
 * each like `nanumd testnet`, or two orgs of two. */
static void fixture_make(struct fixture *f, bool shared_org)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < TEST_VALIDATORS; i++) {
        uint8_t seed[32] = {(uint8_t)(i + 1)};
        crypto_sign_seed_keypair(f->pk[i], f->sk[i], seed);
    }
    for (int i = 0; i < TEST_VALIDATORS; i++)
        for (int j = i + 1; j < TEST_VALIDATORS; j++)
            if (memcmp(f->pk[j], f->pk[i], 32) < 0) {
                uint8_t pk[32], sk[64];
                memcpy(pk, f->pk[i], 32), memcpy(sk, f->sk[i], 64);
                memcpy(f->pk[i], f->pk[j], 32), memcpy(f->sk[i], f->sk[j], 64);
                memcpy(f->pk[j], pk, 32), memcpy(f->sk[j], sk, 64);
            }
    for (int i = 0; i < TEST_VALIDATORS; i++) {
        memcpy(f->v[i].node_key, f->pk[i], 32);
        f->v[i].org[0] = shared_org ? (uint8_t)(i / 2 + 1) : (uint8_t)(i + 1);
        snprintf(f->v[i].address, sizeof f->v[i].address, "127.0.0.1:%d", 9000 + i);
    }
    f->set.count = TEST_VALIDATORS;
    f->set.validators = f->v;
    f->known.before = f->known.after = f->set;
    f->known.threshold_bp_before = f->known.threshold_bp_after = 6667;
    memset(f->ctx.network_id, 7, NODE_HASH_BYTES);
    f->ctx.network_known = true;
    f->ctx.node_url = "http://test";
}

static void quorum_needs_two_thirds_of_orgs_plus_one(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    assert_true(wallet_quorum_satisfied(&f.set, 6667, (const uint8_t(*)[32])f.pk, 4));
    assert_true(wallet_quorum_satisfied(&f.set, 6667, (const uint8_t(*)[32])f.pk, 3));
    assert_false(wallet_quorum_satisfied(&f.set, 6667, (const uint8_t(*)[32])f.pk, 2));
    assert_false(wallet_quorum_satisfied(&f.set, 6667, (const uint8_t(*)[32])f.pk, 0));
    /* Two orgs of two validators: each org needs both of its two (majority of 2). */
    fixture_make(&f, true);
    assert_false(wallet_quorum_satisfied(&f.set, 6667, (const uint8_t(*)[32])f.pk, 3));
    assert_true(wallet_quorum_satisfied(&f.set, 6667, (const uint8_t(*)[32])f.pk, 4));
}

#define TEST_TXS 5

/* A ledger as GET /v1/ledgers/H?proofs=1 serves it, signed by the first signers validators. */
static json_t *ledger_json(struct fixture *f, uint64_t height, int signers)
{
    uint8_t envs[TEST_TXS][40], leaves[TEST_TXS][32], path[64][32];
    struct node_header h = {.version = NODE_HEADER_VERSION, .height = height, .close_time_ms = 1700000000000ULL};
    assert_int_equal(node_validator_set_hash(&f->set, h.validator_set_hash), 0);
    for (int i = 0; i < TEST_TXS; i++) {
        memset(envs[i], 'a' + i, sizeof envs[i]);
        node_merkle_leaf(envs[i], sizeof envs[i], leaves[i]);
    }
    assert_int_equal(node_merkle_root((const uint8_t(*)[32])leaves, TEST_TXS, h.tx_set_hash), 0);
    struct node_buf b;
    node_buf_init(&b);
    assert_int_equal(node_header_encode(&h, &b), 0);
    char hex[2048];
    node_hex_encode(b.data, b.len, hex);
    node_buf_free(&b);
    uint8_t hash[32], sig[64];
    node_header_hash(&h, f->ctx.network_id, hash);
    json_t *cert = json_array(), *txs = json_array();
    for (int i = 0; i < signers; i++) {
        char addr[NODE_ADDRESS_TEXT_BYTES + 1], sig_hex[129];
        node_sign(NODE_DOMAIN_HEADER, f->ctx.network_id, hash, 32, f->sk[i], sig);
        node_address_encode(f->pk[i], addr);
        node_hex_encode(sig, 64, sig_hex);
        json_array_append_new(cert, json_pack("{s:s, s:s}", "node_key", addr, "signature", sig_hex));
    }
    for (size_t i = 0; i < TEST_TXS; i++) {
        size_t len;
        char env_hex[81], p_hex[65];
        node_merkle_path((const uint8_t(*)[32])leaves, TEST_TXS, i, path, &len);
        json_t *p = json_array();
        for (size_t k = 0; k < len; k++) {
            node_hex_encode(path[k], 32, p_hex);
            json_array_append_new(p, json_string(p_hex));
        }
        node_hex_encode(envs[i], sizeof envs[i], env_hex);
        json_array_append_new(txs, json_pack("{s:s, s:o}", "envelope", env_hex, "merkle_path", p));
    }
    return json_pack("{s:I, s:s, s:o, s:o}", "height", (json_int_t)height, "header_bytes", hex, "certificate", cert,
                     "transactions", txs);
}

static int verify(struct fixture *f, json_t *l, uint64_t height, long tx)
{
    uint8_t hash[32];
    f->ctx.message[0] = '\0';
    return wallet_verify_ledger(&f->ctx, l, height, &f->known, tx, hash);
}

static void honest_ledger_and_every_merkle_path_verify(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    json_t *l = ledger_json(&f, 9, 3);
    assert_code(verify(&f, l, 9, -1), 0);
    for (long i = 0; i < TEST_TXS; i++)
        assert_code(verify(&f, l, 9, i), 0);
    json_decref(l);
}

/* Flips one hex digit of a string field in place. */
static void flip_hex(json_t *obj, const char *key, size_t at)
{
    char *s = strdup(json_string_value(json_object_get(obj, key)));
    s[at] = s[at] == '0' ? '1' : '0';
    json_object_set_new(obj, key, json_string(s));
    free(s);
}

static void tampered_ledger_is_caught_and_the_failure_named(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    /* Too few signers. */
    json_t *l = ledger_json(&f, 9, 2);
    assert_code(verify(&f, l, 9, -1), WALLET_E_VERIFY);
    assert_contains(f.ctx.message, "not a quorum");
    json_decref(l);
    /* A header field changed after signing (the close time, inside header_bytes). */
    l = ledger_json(&f, 9, 4);
    flip_hex(l, "header_bytes", strlen(json_string_value(json_object_get(l, "header_bytes"))) - 1);
    int rc = verify(&f, l, 9, -1);
    assert_code(rc, WALLET_E_VERIFY);
    json_decref(l);
    /* A signature changed. */
    l = ledger_json(&f, 9, 4);
    flip_hex(json_array_get(json_object_get(l, "certificate"), 0), "signature", 10);
    assert_code(verify(&f, l, 9, -1), WALLET_E_VERIFY);
    assert_contains(f.ctx.message, "does not match the header");
    json_decref(l);
    /* A transaction changed. */
    l = ledger_json(&f, 9, 4);
    flip_hex(json_array_get(json_object_get(l, "transactions"), 2), "envelope", 4);
    assert_code(verify(&f, l, 9, -1), WALLET_E_VERIFY);
    assert_contains(f.ctx.message, "tx_set_hash");
    json_decref(l);
    /* The header of another height. */
    l = ledger_json(&f, 9, 4);
    assert_code(verify(&f, l, 10, -1), WALLET_E_VERIFY);
    assert_contains(f.ctx.message, "served the header of ledger 9");
    json_decref(l);
}

static void tampered_merkle_path_is_caught(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    json_t *l = ledger_json(&f, 9, 4);
    json_t *tx = json_array_get(json_object_get(l, "transactions"), 3);
    json_t *path = json_object_get(tx, "merkle_path");
    char *first = strdup(json_string_value(json_array_get(path, 0)));
    first[0] = first[0] == '0' ? '1' : '0';
    json_array_set_new(path, 0, json_string(first));
    free(first);
    assert_code(verify(&f, l, 9, 3), WALLET_E_VERIFY);
    assert_contains(f.ctx.message, "Merkle path of transaction 3");
    /* The other transactions' proofs are unaffected. */
    assert_code(verify(&f, l, 9, 1), 0);
    json_decref(l);
}

static void signatures_of_non_validators_do_not_count(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    /* Only the first two are validators at this height; all four sign. */
    f.set.count = 2;
    f.known.before = f.known.after = f.set;
    json_t *l = ledger_json(&f, 9, 4);
    /* Two orgs: 2 of 2 meets ⌊2 × 2/3⌋ + 1 = 2. */
    assert_code(verify(&f, l, 9, -1), 0);
    json_decref(l);
    l = ledger_json(&f, 9, 1);
    assert_code(verify(&f, l, 9, -1), WALLET_E_VERIFY);
    json_decref(l);
}

static void header_committing_to_another_validator_set_is_caught(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    json_t *l = ledger_json(&f, 9, 4);
    /* The wallet knows of a removal the header does not reflect. */
    f.known.after.count = 3;
    assert_code(verify(&f, l, 9, -1), WALLET_E_VERIFY);
    assert_contains(f.ctx.message, "validator set other");
    json_decref(l);
}

static void new_set_signing_at_a_change_is_accepted(void **state)
{
    (void)state;
    struct fixture f;
    fixture_make(&f, false);
    /* Before: only validators 2 and 3 (the first two sign nothing valid there);
     * after this ledger: all four, which the header commits to. */
    json_t *l = ledger_json(&f, 9, 3);
    f.known.before.validators = &f.v[2];
    f.known.before.count = 2;
    assert_code(verify(&f, l, 9, -1), 0);
    json_decref(l);
}

/* --- Formatting, parsing, options, exit codes ------------------------------------------ */

static void every_started_hour_is_billed(void **state)
{
    (void)state;
    assert_int_equal(wallet_hours(0, 3600), 1);
    assert_int_equal(wallet_hours(0, 3601), 2);
    assert_int_equal(wallet_hours(100, 100 + 2 * 3600 + 600), 3);
    assert_int_equal(wallet_hours(5, 5), 0);
}

static void times_parse_as_local_time_or_unix_seconds(void **state)
{
    (void)state;
    uint64_t t, u;
    assert_code(wallet_time_parse("1700000000", &t), 0);
    assert_int_equal(t, 1700000000);
    assert_code(wallet_time_parse("2026-11-22T14:00", &t), 0);
    assert_code(wallet_time_parse("2026-11-22 15:00", &u), 0);
    assert_int_equal(u - t, 3600);
    assert_string_equal(wallet_time(t), "2026-11-22 14:00");
    assert_code(wallet_time_parse("2026-13-01T00:00", &t), WALLET_E_USAGE);
    assert_code(wallet_time_parse("tomorrow", &t), WALLET_E_USAGE);
    assert_code(wallet_time_parse("2026-11-22T14:00x", &t), WALLET_E_USAGE);
}

static void options_are_taken_wherever_they_stand(void **state)
{
    (void)state;
    struct wallet_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    char *words[] = {"pay", "--memo", "lunch", "nabc", "--yes", "12.50"};
    ctx.argc = 6;
    memcpy(ctx.argv, words, sizeof words);
    const char *memo;
    assert_code(wallet_take_option(&ctx, "--memo", &memo), 0);
    assert_string_equal(memo, "lunch");
    assert_true(wallet_take_flag(&ctx, "--yes"));
    assert_code(wallet_expect_args(&ctx, 2, 2, "pay TO AMOUNT"), 0);
    assert_string_equal(ctx.argv[1], "nabc");
    assert_string_equal(ctx.argv[2], "12.50");
    char *bad[] = {"pay", "x", "--bogus"};
    ctx.argc = 3;
    memcpy(ctx.argv, bad, sizeof bad);
    assert_code(wallet_expect_args(&ctx, 1, 2, "pay TO AMOUNT"), WALLET_E_USAGE);
    assert_contains(ctx.message, "--bogus");
}

static void exit_codes_are_distinct_per_kind_of_failure(void **state)
{
    (void)state;
    assert_int_equal(wallet_exit_code(0), 0);
    assert_int_equal(wallet_exit_code(WALLET_E_USAGE), 2);
    assert_int_equal(wallet_exit_code(WALLET_E_REJECTED), 3);
    assert_int_equal(wallet_exit_code(WALLET_E_UNREACHABLE), 4);
    assert_int_equal(wallet_exit_code(WALLET_E_VERIFY), 5);
    assert_int_equal(wallet_exit_code(WALLET_E_NOT_FOUND), 6);
    assert_int_equal(wallet_exit_code(WALLET_E_WRONG_NETWORK), 7);
    assert_int_equal(wallet_exit_code(WALLET_E_BAD_PASSPHRASE), 1);
    assert_string_equal(wallet_errname(WALLET_E_VERIFY), "WALLET_E_VERIFY");
}

static void member_errors_have_a_sentence_saying_what_to_do(void **state)
{
    (void)state;
    const char *results[] = {"no_source_account", "insufficient_balance", "booking_overlap", "not_owner",
                             "too_early_to_complete"};
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
        if (wallet_result_hint(results[i]) == NULL)
            fail_msg("no hint for %s", results[i]);
    assert_null(wallet_result_hint("no_such_result"));
}

int main(void)
{
    if (node_crypto_init() != 0)
        return 1;
    setenv("TZ", "UTC", 1); /* times_parse: a fixed zone without summer time */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(keystore_opens_with_its_passphrase_to_the_same_seed),
        cmocka_unit_test(keystore_wrong_passphrase_is_bad_passphrase_not_garbage),
        cmocka_unit_test(damaged_keystore_is_a_keystore_error),
        cmocka_unit_test(keystore_with_edited_address_is_refused),
        cmocka_unit_test(new_files_are_mode_0600_and_never_overwritten),
        cmocka_unit_test(plain_key_file_gives_its_seed_and_a_mismatch_is_refused),
        cmocka_unit_test(quorum_needs_two_thirds_of_orgs_plus_one),
        cmocka_unit_test(honest_ledger_and_every_merkle_path_verify),
        cmocka_unit_test(tampered_ledger_is_caught_and_the_failure_named),
        cmocka_unit_test(tampered_merkle_path_is_caught),
        cmocka_unit_test(signatures_of_non_validators_do_not_count),
        cmocka_unit_test(header_committing_to_another_validator_set_is_caught),
        cmocka_unit_test(new_set_signing_at_a_change_is_accepted),
        cmocka_unit_test(every_started_hour_is_billed),
        cmocka_unit_test(times_parse_as_local_time_or_unix_seconds),
        cmocka_unit_test(options_are_taken_wherever_they_stand),
        cmocka_unit_test(exit_codes_are_distinct_per_kind_of_failure),
        cmocka_unit_test(member_errors_have_a_sentence_saying_what_to_do),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
