/*
 * test_codec.c — the canonical codec: round trips of every type, each strict
 * rejection with its own code, addresses, amounts, Merkle proofs, and the
 * spec's test vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "samples.h"

static const char *vectors_path;

#define assert_code(actual, expected)                                                     \
    do {                                                                                  \
        int a_ = (actual), e_ = (expected);                                               \
        if (a_ != e_)                                                                     \
            fail_msg("got %s (%d), expected %s (%d)", node_errname(a_), a_,               \
                     node_errname(e_), e_);                                               \
    } while (0)

/* Encodes sample i as a signed envelope into b. */
static void sample_envelope(int i, struct node_buf *b)
{
    struct node_tx tx;
    uint8_t sk[NODE_SECRET_KEY_BYTES], network_id[NODE_HASH_BYTES];
    struct node_tx_envelope env;
    sample_network_id(network_id);
    sample_tx(i, &tx, sk);
    assert_int_equal(node_tx_sign(&tx, network_id, sk, &env), 0);
    node_buf_init(b);
    assert_code(node_envelope_encode(&env, b), 0);
}

static void every_transaction_type_round_trips_to_identical_bytes(void **state)
{
    (void)state;
    uint8_t network_id[NODE_HASH_BYTES];
    sample_network_id(network_id);
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        struct node_buf b, again;
        sample_envelope(i, &b);
        struct node_tx_envelope decoded;
        assert_code(node_envelope_decode(b.data, b.len, &decoded), 0);
        assert_code(node_envelope_verify(&decoded, network_id), 0);
        /* The fast path from the bytes agrees with the re-encoding one. */
        uint8_t id_open[NODE_HASH_BYTES], id_hash[NODE_HASH_BYTES];
        struct node_tx_envelope opened;
        assert_code(node_envelope_open(b.data, b.len, network_id, true, &opened, id_open), 0);
        assert_code(node_tx_hash(&decoded.tx, network_id, id_hash), 0);
        assert_memory_equal(id_open, id_hash, NODE_HASH_BYTES);
        b.data[b.len - 1] ^= 1;
        assert_code(node_envelope_open(b.data, b.len, network_id, true, &opened, NULL), NODE_E_BAD_SIGNATURE);
        b.data[b.len - 1] ^= 1;
        node_buf_init(&again);
        assert_code(node_envelope_encode(&decoded, &again), 0);
        assert_int_equal(again.len, b.len);
        assert_memory_equal(again.data, b.data, b.len);
        node_buf_free(&b);
        node_buf_free(&again);
    }
}

static void every_prefix_of_an_envelope_is_truncated(void **state)
{
    (void)state;
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        struct node_buf b;
        sample_envelope(i, &b);
        struct node_tx_envelope env;
        for (size_t len = 0; len < b.len; len++)
            assert_code(node_envelope_decode(b.data, len, &env), NODE_E_TRUNCATED);
        node_buf_free(&b);
    }
}

/* Decodes bytes with one edit applied: at offset `at`, remove `cut` bytes and
 * insert `insert` (len n). */
static int decode_edited(const struct node_buf *b, size_t at, size_t cut, const uint8_t *insert,
                         size_t n)
{
    uint8_t buf[2 * NODE_TX_BYTES_MAX];
    memcpy(buf, b->data, at);
    memcpy(buf + at, insert, n);
    memcpy(buf + at + n, b->data + at + cut, b->len - at - cut);
    struct node_tx_envelope env;
    return node_envelope_decode(buf, b->len - cut + n, &env);
}

/* Offsets in a pay envelope: 0x92 [0x97 version type source(0xc4 0x20 +32)
 * seq fee memo body] sig. */
#define AT_TX_ARRAY 1
#define AT_VERSION 2
#define AT_TYPE 3
#define AT_SOURCE 4
#define AT_SEQ (AT_SOURCE + 34)
#define AT_FEE (AT_SEQ + 1)
#define AT_MEMO (AT_FEE + 1)

static void strict_decoding_rejects_each_violation_with_its_own_code(void **state)
{
    (void)state;
    struct node_buf b;
    sample_envelope(4, &b); /* booking.cancel, empty memo: fixed offsets */
    assert_int_equal(b.data[AT_VERSION], 1);
    assert_int_equal(b.data[AT_MEMO], 0xa0);
    static const uint8_t trailing[] = {0x00};
    assert_code(decode_edited(&b, b.len, 0, trailing, 1), NODE_E_TRAILING_BYTES);
    static const uint8_t map7[] = {0x87};
    assert_code(decode_edited(&b, AT_TX_ARRAY, 1, map7, 1), NODE_E_MAP_NOT_ALLOWED);
    static const uint8_t array6[] = {0x96};
    assert_code(decode_edited(&b, AT_TX_ARRAY, 1, array6, 1), NODE_E_FIELD_COUNT);
    static const uint8_t long_array[] = {0xdc, 0x00, 0x07};
    assert_code(decode_edited(&b, AT_TX_ARRAY, 1, long_array, 3), NODE_E_NON_MINIMAL);
    static const uint8_t long_int[] = {0xcc, 0x07};
    assert_code(decode_edited(&b, AT_SEQ, 1, long_int, 2), NODE_E_NON_MINIMAL);
    static const uint8_t long_int16[] = {0xcd, 0x00, 0x07};
    assert_code(decode_edited(&b, AT_SEQ, 1, long_int16, 3), NODE_E_NON_MINIMAL);
    static const uint8_t long_str[] = {0xd9, 0x00};
    assert_code(decode_edited(&b, AT_MEMO, 1, long_str, 2), NODE_E_NON_MINIMAL);
    static const uint8_t str_version[] = {0xa1, '1'};
    assert_code(decode_edited(&b, AT_VERSION, 1, str_version, 2), NODE_E_WRONG_TYPE);
    static const uint8_t negative[] = {0xff};
    assert_code(decode_edited(&b, AT_SEQ, 1, negative, 1), NODE_E_WRONG_TYPE);
    static const uint8_t nil[] = {0xc0};
    assert_code(decode_edited(&b, AT_FEE, 1, nil, 1), NODE_E_WRONG_TYPE);
    static const uint8_t version2[] = {0x02};
    assert_code(decode_edited(&b, AT_VERSION, 1, version2, 1), NODE_E_VERSION);
    static const uint8_t type99[] = {0x63};
    assert_code(decode_edited(&b, AT_TYPE, 1, type99, 1), NODE_E_UNKNOWN_TYPE);
    uint8_t key31[33] = {0xc4, 0x1f};
    assert_code(decode_edited(&b, AT_SOURCE, 34, key31, 33), NODE_E_BAD_LENGTH);
    static const uint8_t bad_utf8[] = {0xa2, 0xc3, 0x28};
    assert_code(decode_edited(&b, AT_MEMO, 1, bad_utf8, 3), NODE_E_BAD_UTF8);
    static const uint8_t nul_text[] = {0xa1, 0x00};
    assert_code(decode_edited(&b, AT_MEMO, 1, nul_text, 2), NODE_E_BAD_UTF8);
    uint8_t memo65[2 + 65] = {0xd9, 65};
    memset(memo65 + 2, 'a', 65);
    assert_code(decode_edited(&b, AT_MEMO, 1, memo65, sizeof memo65), NODE_E_TOO_LONG);
    uint8_t memo64[2 + 64] = {0xd9, 64};
    memset(memo64 + 2, 'a', 64);
    assert_code(decode_edited(&b, AT_MEMO, 1, memo64, sizeof memo64), 0);
    node_buf_free(&b);
}

static void values_out_of_range_are_rejected(void **state)
{
    (void)state;
    struct node_buf b;
    sample_envelope(6, &b); /* booking.rate: body [12, 5] just before the signature */
    size_t at_stars = b.len - 66 - 1;
    assert_int_equal(b.data[at_stars], 5);
    static const uint8_t zero[] = {0x00}, six[] = {0x06};
    assert_code(decode_edited(&b, at_stars, 1, zero, 1), NODE_E_BAD_VALUE);
    assert_code(decode_edited(&b, at_stars, 1, six, 1), NODE_E_BAD_VALUE);
    node_buf_free(&b);
    uint8_t big[NODE_TX_BYTES_MAX + 1] = {0};
    struct node_tx_envelope env;
    assert_code(node_envelope_decode(big, sizeof big, &env), NODE_E_TOO_LONG);
}

static void encoder_refuses_what_decoder_would_refuse(void **state)
{
    (void)state;
    struct node_tx tx;
    uint8_t sk[NODE_SECRET_KEY_BYTES];
    struct node_buf b;
    node_buf_init(&b);
    sample_tx(0, &tx, sk);
    memset(tx.memo, 'x', NODE_MEMO_BYTES_MAX);
    tx.memo[NODE_MEMO_BYTES_MAX] = '\0';
    assert_code(node_tx_encode(&tx, &b), 0);
    tx.type = 42;
    assert_code(node_tx_encode(&tx, &b), NODE_E_UNKNOWN_TYPE);
    node_buf_free(&b);
}

static void records_round_trip(void **state)
{
    (void)state;
    struct node_buf b;
    node_buf_init(&b);
    struct node_account a = {.balance = 123456789, .seq = 42, .flags = NODE_ACCOUNT_MEMBER,
                             .held = 6200, .completed_as_renter = 3, .completed_as_owner = 1,
                             .rating_sum = 14, .rating_count = 3, .name = "민지"};
    struct node_account a2 = a;
    assert_code(node_account_encode(&a, &b), 0);
    memset(&a2, 0, sizeof a2);
    assert_code(node_account_decode(b.data, b.len, &a2), 0);
    assert_memory_equal(&a, &a2, sizeof a);
    node_buf_reset(&b);

    struct node_booking k = {.id = 9, .resource_id = 3, .start = 100, .end = 7300,
                             .price_total = 2400, .deposit = 5000, .status = NODE_BOOKING_COMPLETED,
                             .damage_claim = 10, .coop_fee = 120, .rated_by_owner = true,
                             .created_height = 5, .closed_height = 8};
    struct node_booking k2;
    assert_code(node_booking_encode(&k, &b), 0);
    assert_code(node_booking_decode(b.data, b.len, &k2), 0);
    assert_memory_equal(&k, &k2, sizeof k);
    node_buf_reset(&b);

    struct node_proposal p;
    memset(&p, 0, sizeof p);
    uint8_t sk[NODE_SECRET_KEY_BYTES];
    struct node_tx tx;
    sample_tx(8, &tx, sk);
    p.id = 4;
    p.body = tx.body.gov_propose;
    p.status = NODE_PROPOSAL_ENACTED;
    p.yes = 3;
    assert_code(node_proposal_encode(&p, &b), 0);
    struct node_buf again;
    node_buf_init(&again);
    struct node_proposal p2;
    assert_code(node_proposal_decode(b.data, b.len, &p2), 0);
    assert_code(node_proposal_encode(&p2, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    node_buf_free(&again);
    node_buf_free(&b);
}

static void header_and_block_round_trip(void **state)
{
    (void)state;
    struct node_block blk;
    memset(&blk, 0, sizeof blk);
    blk.header.version = NODE_HEADER_VERSION;
    blk.header.height = 77;
    blk.header.close_time_ms = 1767225700123;
    memset(blk.header.previous_hash, 0xab, NODE_HASH_BYTES);
    struct node_buf envs[3];
    uint8_t *bytes[3];
    size_t lens[3];
    struct node_tx_result results[3] = {{0, 1}, {33, 1}, {4, 0}};
    for (int i = 0; i < 3; i++) {
        sample_envelope(i, &envs[i]);
        bytes[i] = envs[i].data;
        lens[i] = envs[i].len;
    }
    blk.tx_count = 3;
    blk.tx_bytes = bytes;
    blk.tx_lens = lens;
    blk.results = results;
    struct node_buf b, again;
    node_buf_init(&b);
    node_buf_init(&again);
    assert_code(node_block_encode(&blk, &b), 0);
    struct node_block decoded;
    assert_code(node_block_decode(b.data, b.len, &decoded), 0);
    assert_int_equal(decoded.tx_count, 3);
    assert_int_equal(decoded.results[1].code, 33);
    assert_code(node_block_encode(&decoded, &again), 0);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    node_block_free(&decoded);
    for (size_t len = 0; len < b.len; len += 7)
        assert_int_not_equal(node_block_decode(b.data, len, &decoded), 0);
    for (int i = 0; i < 3; i++)
        node_buf_free(&envs[i]);
    node_buf_free(&b);
    node_buf_free(&again);
}

static void address_round_trips_and_every_single_typo_is_caught(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 4; seed++) {
        uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES], back[NODE_KEY_BYTES];
        char text[NODE_ADDRESS_TEXT_BYTES + 1];
        sample_key((uint8_t)seed, pk, sk);
        node_address_encode(pk, text);
        assert_int_equal(strlen(text), NODE_ADDRESS_TEXT_BYTES);
        assert_code(node_address_decode(text, back), 0);
        assert_memory_equal(pk, back, NODE_KEY_BYTES);
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
        for (size_t i = 1; i < NODE_ADDRESS_TEXT_BYTES; i++) {
            char saved = text[i];
            for (int k = 0; k < 32; k++) {
                if (alphabet[k] == saved)
                    continue;
                text[i] = alphabet[k];
                assert_int_not_equal(node_address_decode(text, back), 0);
            }
            text[i] = saved;
            if (i + 1 < NODE_ADDRESS_TEXT_BYTES && text[i] != text[i + 1]) {
                text[i] = text[i + 1];
                text[i + 1] = saved;
                assert_int_not_equal(node_address_decode(text, back), 0);
                text[i + 1] = text[i];
                text[i] = saved;
            }
        }
        text[5] = (char)(text[5] - 32); /* upper case is not the canonical form */
        assert_code(node_address_decode(text, back), NODE_E_BAD_ADDRESS);
    }
    uint8_t back[NODE_KEY_BYTES];
    assert_code(node_address_decode("nabc", back), NODE_E_BAD_ADDRESS);
    assert_code(node_address_decode("", back), NODE_E_BAD_ADDRESS);
}

static void amounts_parse_and_format_with_two_decimals(void **state)
{
    (void)state;
    static const struct { const char *text; uint64_t value; } good[] = {
        {"0", 0}, {"12", 1200}, {"12.5", 1250}, {"12.50", 1250}, {"0.01", 1},
        {"184467440737095516.15", UINT64_MAX}, {"007", 700}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t v = 1;
        assert_code(node_amount_parse(good[i].text, &v), 0);
        assert_int_equal(v, good[i].value);
    }
    static const char *const bad[] = {"", "-1", "+1", "1.", ".5", "1.234", "1,5", " 1",
                                      "1 ", "1e3", "abc", "1..2", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        assert_code(node_amount_parse(bad[i], &v), NODE_E_BAD_AMOUNT);
    }
    uint64_t v;
    assert_code(node_amount_parse("184467440737095516.16", &v), NODE_E_AMOUNT_OVERFLOW);
    assert_code(node_amount_parse("99999999999999999999", &v), NODE_E_AMOUNT_OVERFLOW);
    char text[NODE_AMOUNT_TEXT_BYTES_MAX];
    node_amount_format(1250, text);
    assert_string_equal(text, "12.50");
    node_amount_format(7, text);
    assert_string_equal(text, "0.07");
    node_amount_format(UINT64_MAX, text);
    assert_string_equal(text, "184467440737095516.15");
}

static void merkle_paths_prove_every_leaf_and_nothing_else(void **state)
{
    (void)state;
    uint8_t leaves[17][NODE_HASH_BYTES], root[NODE_HASH_BYTES], path[64][NODE_HASH_BYTES];
    for (int i = 0; i < 17; i++) {
        uint8_t byte = (uint8_t)i;
        node_merkle_leaf(&byte, 1, leaves[i]);
    }
    for (size_t n = 1; n <= 17; n++) {
        assert_code(node_merkle_root((const uint8_t(*)[NODE_HASH_BYTES])leaves, n, root), 0);
        for (size_t i = 0; i < n; i++) {
            size_t len;
            assert_code(node_merkle_path((const uint8_t(*)[NODE_HASH_BYTES])leaves, n, i, path, &len), 0);
            assert_true(node_merkle_verify(leaves[i], i, n, (const uint8_t(*)[NODE_HASH_BYTES])path, len, root));
            assert_false(node_merkle_verify(leaves[(i + 1) % 17], i, n, (const uint8_t(*)[NODE_HASH_BYTES])path, len, root) && n > 1);
            if (len > 0) {
                path[0][0] ^= 1;
                assert_false(node_merkle_verify(leaves[i], i, n, (const uint8_t(*)[NODE_HASH_BYTES])path, len, root));
            }
        }
    }
    /* One leaf: the root is the leaf hash itself. */
    assert_code(node_merkle_root((const uint8_t(*)[NODE_HASH_BYTES])leaves, 1, root), 0);
    assert_memory_equal(root, leaves[0], NODE_HASH_BYTES);
}

static void spec_vectors_match_the_code(void **state)
{
    (void)state;
    FILE *f = fopen(vectors_path, "r");
    if (f == NULL)
        fail_msg("cannot open %s", vectors_path);
    char line[4096], name[4096] = "";
    int seen = 0;
    uint8_t network_id[NODE_HASH_BYTES];
    sample_network_id(network_id);
    while (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "name: ", 6) == 0)
            snprintf(name, sizeof name, "%s", line + 6);
        if (strncmp(line, "envelope: ", 10) != 0)
            continue;
        const char *hex = line + 10;
        struct node_tx tx;
        uint8_t sk[NODE_SECRET_KEY_BYTES];
        const char *expected_name = sample_tx(seen, &tx, sk);
        if (strcmp(name, expected_name) != 0)
            fail_msg("vector %d is '%s', expected '%s'", seen, name, expected_name);
        struct node_buf b;
        sample_envelope(seen, &b);
        char *ours = malloc(2 * b.len + 1);
        node_hex_encode(b.data, b.len, ours);
        if (strcmp(ours, hex) != 0)
            fail_msg("vector '%s':\n  file %s\n  code %s", name, hex, ours);
        struct node_tx_envelope env;
        assert_code(node_envelope_decode(b.data, b.len, &env), 0);
        assert_code(node_envelope_verify(&env, network_id), 0);
        free(ours);
        node_buf_free(&b);
        seen++;
    }
    fclose(f);
    assert_int_equal(seen, SAMPLE_COUNT);
}

int main(int argc, char **argv)
{
    vectors_path = argc > 1 ? argv[1] : "spec/vectors/transactions.txt";
    if (node_crypto_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_transaction_type_round_trips_to_identical_bytes),
        cmocka_unit_test(every_prefix_of_an_envelope_is_truncated),
        cmocka_unit_test(strict_decoding_rejects_each_violation_with_its_own_code),
        cmocka_unit_test(values_out_of_range_are_rejected),
        cmocka_unit_test(encoder_refuses_what_decoder_would_refuse),
        cmocka_unit_test(records_round_trip),
        cmocka_unit_test(header_and_block_round_trip),
        cmocka_unit_test(address_round_trips_and_every_single_typo_is_caught),
        cmocka_unit_test(amounts_parse_and_format_with_two_decimals),
        cmocka_unit_test(merkle_paths_prove_every_leaf_and_nothing_else),
        cmocka_unit_test(spec_vectors_match_the_code),
    };
    return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}
