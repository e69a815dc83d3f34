/*
 * test_qset.c — quorum sets (sanity, canonical encoding, hash, predicates,
 * weights), the envelope codec, and the error table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"

typedef const uint8_t (*ids_t)[SCP_NODE_ID_BYTES];

static uint8_t ids[1100][SCP_NODE_ID_BYTES];

static void make_ids(void)
{
    for (unsigned i = 0; i < 1100; i++) {
        memset(ids[i], 0, SCP_NODE_ID_BYTES);
        ids[i][0] = (uint8_t)(i >> 8);
        ids[i][1] = (uint8_t)i;
        ids[i][2] = 0xab;
    }
}

static void qset_threshold_must_be_between_one_and_the_entries(void **state)
{
    (void)state;
    struct scp_qset q = {0, 3, (ids_t)ids, 0, NULL};
    assert_int_equal(scp_qset_check(&q), SCP_E_QSET_THRESHOLD);
    q.threshold = 4;
    assert_int_equal(scp_qset_check(&q), SCP_E_QSET_THRESHOLD);
    q.threshold = 3;
    assert_int_equal(scp_qset_check(&q), 0);
}

static void qset_naming_a_node_twice_is_refused_even_across_inner_sets(void **state)
{
    (void)state;
    struct scp_qset inner = {1, 2, (ids_t)ids + 1, 0, NULL};
    struct scp_qset q = {1, 2, (ids_t)ids, 1, &inner};
    assert_int_equal(scp_qset_check(&q), SCP_E_QSET_DUPLICATE);
    q.validators_count = 1;
    assert_int_equal(scp_qset_check(&q), 0);
}

static void qset_nested_deeper_than_four_levels_is_refused(void **state)
{
    (void)state;
    struct scp_qset levels[5];
    for (int i = 0; i < 5; i++)
        levels[i] = (struct scp_qset){1, 1, (ids_t)ids + i, i < 4 ? 1u : 0u, i < 4 ? &levels[i + 1] : NULL};
    assert_int_equal(scp_qset_check(&levels[0]), SCP_E_QSET_DEPTH);
    assert_int_equal(scp_qset_check(&levels[1]), 0);
}

static void qset_with_more_than_a_thousand_nodes_is_refused(void **state)
{
    (void)state;
    struct scp_qset inner = {1, 600, (ids_t)ids + 500, 0, NULL};
    struct scp_qset q = {1, 500, (ids_t)ids, 1, &inner};
    assert_int_equal(scp_qset_check(&q), SCP_E_QSET_SIZE);
    inner.validators_count = 500;
    assert_int_equal(scp_qset_check(&q), 0);
}

static void qset_encoding_is_canonical_and_round_trips(void **state)
{
    (void)state;
    struct scp_qset inner[2] = {{2, 3, (ids_t)ids + 10, 0, NULL}, {1, 2, (ids_t)ids + 20, 0, NULL}};
    struct scp_qset q = {2, 2, (ids_t)ids, 2, inner};
    uint8_t a[4096], b[4096];
    size_t a_size, b_size;
    assert_int_equal(scp_qset_encode(&q, a, sizeof a, &a_size), 0);
    struct scp_qset *decoded;
    assert_int_equal(scp_qset_decode(a, a_size, &decoded), 0);
    assert_int_equal(scp_qset_encode(decoded, b, sizeof b, &b_size), 0);
    assert_int_equal(a_size, b_size);
    assert_memory_equal(a, b, a_size);
    assert_int_equal(decoded->inner[0].threshold, 2);
    assert_memory_equal(decoded->inner[1].validators[1], ids[21], SCP_NODE_ID_BYTES);
    scp_qset_free(decoded);
    assert_int_equal(scp_qset_encode(&q, a, 10, &a_size), SCP_E_BUFFER_TOO_SMALL);
    struct scp_driver driver = {.hash = fake_hash};
    uint8_t h1[SCP_HASH_BYTES], h2[SCP_HASH_BYTES];
    assert_int_equal(scp_qset_hash(&driver, &q, h1), 0);
    fake_hash(NULL, b, b_size, h2);
    assert_memory_equal(h1, h2, SCP_HASH_BYTES);
}

static void qset_decoder_refuses_trailing_bytes_and_non_canonical_integers(void **state)
{
    (void)state;
    struct scp_qset q = {1, 1, (ids_t)ids, 0, NULL};
    uint8_t a[256], b[256];
    size_t size;
    struct scp_qset *decoded = NULL;
    assert_int_equal(scp_qset_encode(&q, a, sizeof a, &size), 0);
    a[size] = 0xc0;
    assert_int_equal(scp_qset_decode(a, size + 1, &decoded), SCP_E_TRAILING_BYTES);
    /* threshold 1 as uint8 (0xcc 0x01) instead of positive fixint */
    b[0] = a[0];
    b[1] = 0xcc;
    b[2] = 0x01;
    memcpy(b + 3, a + 2, size - 2);
    assert_int_equal(scp_qset_decode(b, size + 1, &decoded), SCP_E_NON_CANONICAL);
    assert_null(decoded);
    a[1] = 2; /* threshold 2 of 1 */
    assert_int_equal(scp_qset_decode(a, size, &decoded), SCP_E_QSET_THRESHOLD);
}

static void slice_and_vblocking_tests_follow_nested_thresholds(void **state)
{
    (void)state;
    /* 2 of {org A = 2 of {0,1,2}, org B = 2 of {3,4,5}, node 6} */
    struct scp_qset orgs[2] = {{2, 3, (ids_t)ids, 0, NULL}, {2, 3, (ids_t)ids + 3, 0, NULL}};
    struct scp_qset q = {2, 1, (ids_t)ids + 6, 2, orgs};
    uint8_t set[4][SCP_NODE_ID_BYTES];
    memcpy(set[0], ids[0], 32);
    memcpy(set[1], ids[1], 32);
    memcpy(set[2], ids[6], 32);
    assert_true(scp_qset_is_slice_satisfied(&q, (ids_t)set, 3));
    assert_false(scp_qset_is_slice_satisfied(&q, (ids_t)set, 2));
    /* v-blocking needs 2 of the 3 entries blocked: org A blocked by 2 of
     * its nodes, plus node 6. */
    assert_true(scp_qset_is_vblocking(&q, (ids_t)set, 3));
    assert_false(scp_qset_is_vblocking(&q, (ids_t)set, 2));
    memcpy(set[2], ids[3], 32);
    assert_false(scp_qset_is_vblocking(&q, (ids_t)set, 3));
}

static void node_weight_is_the_product_of_threshold_fractions(void **state)
{
    (void)state;
    struct scp_qset orgs[2] = {{2, 3, (ids_t)ids, 0, NULL}, {1, 1, (ids_t)ids + 3, 0, NULL}};
    struct scp_qset q = {1, 0, NULL, 2, orgs};
    uint64_t w = scp_qset_node_weight(&q, ids[0]);
    uint64_t expected = (uint64_t)(((unsigned __int128)UINT64_MAX * 2 / 3) / 2);
    assert_int_equal(w, expected);
    assert_int_equal(scp_qset_node_weight(&q, ids[9]), 0);
}

/* ---- codec ------------------------------------------------------------------ */

static void fill_statement(struct scp_envelope *env, enum scp_statement_type type)
{
    memset(env, 0, sizeof *env);
    test_node_id(env->statement.node_id, 2);
    env->statement.slot = 123456789;
    env->statement.type = type;
    memset(env->statement.qset_hash, 7, SCP_HASH_BYTES);
    switch (type) {
    case SCP_STATEMENT_NOMINATE:
        test_value(&env->statement.u.nominate.votes[0], "a");
        test_value(&env->statement.u.nominate.votes[1], "b");
        env->statement.u.nominate.votes_count = 2;
        test_value(&env->statement.u.nominate.accepted[0], "a");
        env->statement.u.nominate.accepted_count = 1;
        break;
    case SCP_STATEMENT_PREPARE:
        env->statement.u.prepare.ballot.counter = 3;
        test_value(&env->statement.u.prepare.ballot.value, "x");
        env->statement.u.prepare.prepared.counter = 2;
        test_value(&env->statement.u.prepare.prepared.value, "x");
        env->statement.u.prepare.prepared_prime.counter = 1;
        test_value(&env->statement.u.prepare.prepared_prime.value, "w");
        env->statement.u.prepare.commit_counter = 1;
        env->statement.u.prepare.high_counter = 2;
        break;
    case SCP_STATEMENT_CONFIRM:
        env->statement.u.confirm.ballot.counter = 4;
        test_value(&env->statement.u.confirm.ballot.value, "x");
        env->statement.u.confirm.prepared_counter = 4;
        env->statement.u.confirm.commit_counter = 2;
        env->statement.u.confirm.high_counter = 3;
        break;
    case SCP_STATEMENT_EXTERNALIZE:
        env->statement.u.externalize.commit.counter = 2;
        test_value(&env->statement.u.externalize.commit.value, "x");
        env->statement.u.externalize.high_counter = 5;
        break;
    }
    test_sign(env);
}

static void envelope_of_every_type_round_trips_byte_for_byte(void **state)
{
    (void)state;
    static struct scp_envelope env, decoded;
    static uint8_t a[SCP_ENVELOPE_BYTES_MAX], b[SCP_ENVELOPE_BYTES_MAX];
    for (int type = 0; type <= 3; type++) {
        size_t a_size, b_size;
        fill_statement(&env, (enum scp_statement_type)type);
        assert_int_equal(scp_statement_check(&env.statement), 0);
        assert_int_equal(scp_envelope_encode(&env, a, sizeof a, &a_size), 0);
        assert_int_equal(scp_envelope_decode(a, a_size, &decoded), 0);
        assert_int_equal(decoded.statement.type, type);
        assert_int_equal(decoded.statement.slot, 123456789);
        assert_int_equal(scp_envelope_encode(&decoded, b, sizeof b, &b_size), 0);
        assert_int_equal(a_size, b_size);
        assert_memory_equal(a, b, a_size);
        assert_false(scp_statement_is_newer(&env.statement, &decoded.statement));
    }
}

static void envelope_decoder_refuses_trailing_bytes_and_truncation(void **state)
{
    (void)state;
    static struct scp_envelope env, decoded;
    static uint8_t a[SCP_ENVELOPE_BYTES_MAX];
    size_t size;
    fill_statement(&env, SCP_STATEMENT_PREPARE);
    assert_int_equal(scp_envelope_encode(&env, a, sizeof a, &size), 0);
    a[size] = 0;
    assert_int_equal(scp_envelope_decode(a, size + 1, &decoded), SCP_E_TRAILING_BYTES);
    for (size_t cut = 0; cut < size; cut++)
        assert_int_not_equal(scp_envelope_decode(a, cut, &decoded), 0);
}

static void envelope_decoder_refuses_maps_and_wrong_field_counts(void **state)
{
    (void)state;
    static struct scp_envelope decoded;
    const uint8_t map[] = {0x82, 0x00, 0x00, 0x01, 0x01};
    assert_int_equal(scp_envelope_decode(map, sizeof map, &decoded), SCP_E_DECODE);
    const uint8_t three[] = {0x93, 0x00, 0x00, 0x00};
    assert_int_equal(scp_envelope_decode(three, sizeof three, &decoded), SCP_E_DECODE);
    const uint8_t empty[] = {0x90};
    assert_int_equal(scp_envelope_decode(empty, sizeof empty, &decoded), SCP_E_DECODE);
}

static void envelope_decoder_refuses_huge_counts_before_allocating(void **state)
{
    (void)state;
    static struct scp_envelope decoded;
    const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00};
    assert_int_equal(scp_envelope_decode(huge_array, sizeof huge_array, &decoded), SCP_E_DECODE);
    const uint8_t huge_bin[] = {0xc6, 0xff, 0xff, 0xff, 0xf0, 0x00};
    assert_int_equal(scp_envelope_decode(huge_bin, sizeof huge_bin, &decoded), SCP_E_DECODE);
    uint8_t deep[64];
    memset(deep, 0x91, sizeof deep);
    assert_int_equal(scp_envelope_decode(deep, sizeof deep, &decoded), SCP_E_DECODE);
}

static void envelope_decoder_refuses_non_canonical_integers(void **state)
{
    (void)state;
    static struct scp_envelope env, decoded;
    static uint8_t a[SCP_ENVELOPE_BYTES_MAX], b[SCP_ENVELOPE_BYTES_MAX];
    size_t size;
    fill_statement(&env, SCP_STATEMENT_EXTERNALIZE);
    env.statement.u.externalize.high_counter = 9;
    test_sign(&env);
    assert_int_equal(scp_envelope_encode(&env, a, sizeof a, &size), 0);
    /* the last integer before the signature bin (0xc4 0x40) is fixint 9 */
    size_t at = size - SCP_SIGNATURE_BYTES - 3;
    assert_int_equal(a[at], 0x09);
    memcpy(b, a, at);
    b[at] = 0xcc;
    b[at + 1] = 0x09;
    memcpy(b + at + 2, a + at + 1, size - at - 1);
    assert_int_equal(scp_envelope_decode(b, size + 1, &decoded), SCP_E_NON_CANONICAL);
}

static void envelope_encoder_refuses_values_beyond_the_limit(void **state)
{
    (void)state;
    static struct scp_envelope env;
    static uint8_t a[SCP_ENVELOPE_BYTES_MAX];
    size_t size;
    fill_statement(&env, SCP_STATEMENT_CONFIRM);
    env.statement.u.confirm.ballot.value.size = SCP_VALUE_BYTES_MAX + 1;
    assert_int_equal(scp_envelope_encode(&env, a, sizeof a, &size), SCP_E_LIMIT);
    fill_statement(&env, SCP_STATEMENT_NOMINATE);
    env.statement.u.nominate.votes_count = SCP_NOMINATE_VALUES_MAX + 1;
    assert_int_equal(scp_envelope_encode(&env, a, sizeof a, &size), SCP_E_LIMIT);
}

static void every_error_code_has_a_name_and_a_message(void **state)
{
    (void)state;
    assert_string_equal(scp_errname(SCP_E_DECODE), "SCP_E_DECODE");
    assert_string_equal(scp_errname(0), "OK");
    assert_string_equal(scp_errname(-999), "SCP_E_?");
    for (int code = -1; code >= SCP_E_UNKNOWN_NODE; code--) {
        assert_string_not_equal(scp_errname(code), "SCP_E_?");
        assert_string_not_equal(scp_strerror(code), "unknown consensus error");
    }
}

int main(void)
{
    make_ids();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qset_threshold_must_be_between_one_and_the_entries),
        cmocka_unit_test(qset_naming_a_node_twice_is_refused_even_across_inner_sets),
        cmocka_unit_test(qset_nested_deeper_than_four_levels_is_refused),
        cmocka_unit_test(qset_with_more_than_a_thousand_nodes_is_refused),
        cmocka_unit_test(qset_encoding_is_canonical_and_round_trips),
        cmocka_unit_test(qset_decoder_refuses_trailing_bytes_and_non_canonical_integers),
        cmocka_unit_test(slice_and_vblocking_tests_follow_nested_thresholds),
        cmocka_unit_test(node_weight_is_the_product_of_threshold_fractions),
        cmocka_unit_test(envelope_of_every_type_round_trips_byte_for_byte),
        cmocka_unit_test(envelope_decoder_refuses_trailing_bytes_and_truncation),
        cmocka_unit_test(envelope_decoder_refuses_maps_and_wrong_field_counts),
        cmocka_unit_test(envelope_decoder_refuses_huge_counts_before_allocating),
        cmocka_unit_test(envelope_decoder_refuses_non_canonical_integers),
        cmocka_unit_test(envelope_encoder_refuses_values_beyond_the_limit),
        cmocka_unit_test(every_error_code_has_a_name_and_a_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
