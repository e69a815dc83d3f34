/*
 * test_validator_list.c — the cooperative's validator list as data
 * (node/daemon/validator_list.h): signing, the JSON document, every check the
 * fetcher applies, the comparison with the ledger's set; and the metrics'
 * histogram buckets (node/daemon/metrics.h).
 *
 * The fetcher itself (curl on the loop, backoff, cache) runs against a real
 * HTTP server in tests/operate/test_operate.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "metrics.h"
#include "validator_list.h"

#define NOW_S 1800000000u

struct fixture {
    uint8_t network_id[NODE_HASH_BYTES];
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    struct nanumd_vlist list;
};

/* A list of n validators (keys 1.., org 0xAA or 0xBB), signed. */
static void make_list(struct fixture *f, uint32_t n, uint64_t sequence)
{
    nanumd_vlist_free(&f->list);
    f->list.sequence = sequence;
    f->list.valid_from_s = NOW_S - 100;
    f->list.expires_s = NOW_S + 100;
    f->list.count = n;
    f->list.validators = calloc(n, sizeof *f->list.validators);
    assert_non_null(f->list.validators);
    for (uint32_t i = 0; i < n; i++) {
        memset(f->list.validators[i].node_key, (int)(i + 1), NODE_KEY_BYTES);
        memset(f->list.validators[i].org, i % 2 ? 0xBB : 0xAA, NODE_KEY_BYTES);
        snprintf(f->list.validators[i].address, sizeof f->list.validators[i].address, "127.0.0.1:%u", 7700 + i);
    }
    assert_int_equal(nanumd_vlist_sign(&f->list, f->network_id, f->sk), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_int_equal(sodium_init() >= 0, 1);
    crypto_sign_keypair(f->pk, f->sk);
    memset(f->network_id, 0x42, sizeof f->network_id);
    make_list(f, 3, 7);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nanumd_vlist_free(&f->list);
    free(f);
    return 0;
}

static int check(const struct fixture *f, const struct nanumd_vlist *l, uint64_t last_sequence)
{
    return nanumd_vlist_check(l, f->pk, f->network_id, NOW_S, last_sequence);
}

static void signed_list_round_trips_through_json_and_verifies(void **state)
{
    struct fixture *f = *state;
    char *json;
    assert_int_equal(nanumd_vlist_to_json(&f->list, &json), 0);
    struct nanumd_vlist back;
    char err[256] = "";
    assert_int_equal(nanumd_vlist_parse(json, strlen(json), &back, err, sizeof err), 0);
    assert_int_equal(back.sequence, 7);
    assert_int_equal(back.count, 3);
    assert_memory_equal(back.publisher, f->pk, NODE_KEY_BYTES);
    assert_string_equal(back.validators[2].address, "127.0.0.1:7702");
    assert_int_equal(check(f, &back, 0), 0);
    nanumd_vlist_free(&back);
    free(json);
}

static void tampered_list_fails_its_signature(void **state)
{
    struct fixture *f = *state;
    f->list.validators[1].address[0] = '9';
    assert_int_equal(check(f, &f->list, 0), NANUMD_VLIST_E_SIGNATURE);
    make_list(f, 3, 7);
    f->list.expires_s++;
    assert_int_equal(check(f, &f->list, 0), NANUMD_VLIST_E_SIGNATURE);
}

static void list_signed_for_another_network_fails_its_signature(void **state)
{
    struct fixture *f = *state;
    uint8_t other[NODE_HASH_BYTES];
    memset(other, 0x43, sizeof other);
    assert_int_equal(nanumd_vlist_check(&f->list, f->pk, other, NOW_S, 0), NANUMD_VLIST_E_SIGNATURE);
}

static void list_from_another_publisher_is_refused(void **state)
{
    struct fixture *f = *state;
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    crypto_sign_keypair(pk, sk);
    assert_int_equal(nanumd_vlist_sign(&f->list, f->network_id, sk), 0);
    assert_int_equal(check(f, &f->list, 0), NANUMD_VLIST_E_PUBLISHER);
}

static void older_sequence_is_refused_same_or_newer_accepted(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(check(f, &f->list, 8), NANUMD_VLIST_E_OLD_SEQUENCE);
    assert_int_equal(check(f, &f->list, 7), 0);
    assert_int_equal(check(f, &f->list, 6), 0);
}

static void expired_and_not_yet_valid_lists_are_refused(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(nanumd_vlist_check(&f->list, f->pk, f->network_id, NOW_S + 100, 0), NANUMD_VLIST_E_EXPIRED);
    assert_int_equal(nanumd_vlist_check(&f->list, f->pk, f->network_id, NOW_S + 99, 0), 0);
    assert_int_equal(nanumd_vlist_check(&f->list, f->pk, f->network_id, NOW_S - 101, 0),
                     NANUMD_VLIST_E_NOT_YET_VALID);
}

/* Parses text (a JSON document) and returns the code. */
static int parse_code(const char *text)
{
    struct nanumd_vlist l;
    char err[256];
    int rc = nanumd_vlist_parse(text, strlen(text), &l, err, sizeof err);
    nanumd_vlist_free(&l);
    return rc;
}

static void malformed_documents_are_refused(void **state)
{
    struct fixture *f = *state;
    char *json;
    /* Swap two validators: the order is part of the canonical form. */
    struct node_validator first = f->list.validators[0];
    f->list.validators[0] = f->list.validators[1];
    f->list.validators[1] = first;
    assert_int_equal(nanumd_vlist_to_json(&f->list, &json), 0);
    assert_int_equal(parse_code(json), NANUMD_VLIST_E_MALFORMED);
    free(json);
    assert_int_equal(parse_code("[]"), NANUMD_VLIST_E_MALFORMED);
    assert_int_equal(parse_code("{\"version\": 2}"), NANUMD_VLIST_E_MALFORMED);
    assert_int_equal(parse_code("not json"), NANUMD_VLIST_E_MALFORMED);
    char *big = malloc(NANUMD_VLIST_DOCUMENT_BYTES_MAX + 2);
    memset(big, ' ', NANUMD_VLIST_DOCUMENT_BYTES_MAX + 1);
    big[NANUMD_VLIST_DOCUMENT_BYTES_MAX + 1] = '\0';
    assert_int_equal(parse_code(big), NANUMD_VLIST_E_TOO_LARGE);
    free(big);
}

static void comparison_counts_list_only_and_ledger_only_validators(void **state)
{
    struct fixture *f = *state;
    struct node_validator set_entries[3];
    memcpy(set_entries, f->list.validators, sizeof set_entries);
    struct node_validator_set set = {.count = 3, .validators = set_entries};
    uint32_t missing, extra;
    assert_int_equal(nanumd_vlist_compare(&f->list, &set, &missing, &extra), 0);
    set.count = 2; /* the ledger lacks the third */
    assert_int_equal(nanumd_vlist_compare(&f->list, &set, &missing, &extra), 1);
    assert_int_equal(missing, 1);
    assert_int_equal(extra, 0);
    set.count = 3;
    memset(set_entries[2].node_key, 0x7F, NODE_KEY_BYTES); /* another key instead */
    set_entries[0].org[0] ^= 1;                              /* and an org moved */
    assert_int_equal(nanumd_vlist_compare(&f->list, &set, &missing, &extra), 3);
    assert_int_equal(missing, 2);
    assert_int_equal(extra, 1);
}

static void outcome_labels_name_every_code(void **state)
{
    (void)state;
    assert_string_equal(nanumd_vlist_outcome(0), "accepted");
    assert_string_equal(nanumd_vlist_outcome(NANUMD_VLIST_E_SIGNATURE), "bad_signature");
    assert_string_equal(nanumd_vlist_outcome(NANUMD_VLIST_E_OLD_SEQUENCE), "old_sequence");
    assert_string_equal(nanumd_vlist_outcome(NANUMD_VLIST_E_EXPIRED), "expired");
    assert_true(-NANUMD_VLIST_E_INVALID < NANUMD_VLIST_OUTCOMES);
}

static void histogram_puts_each_observation_in_its_bucket(void **state)
{
    (void)state;
    struct nanumd_histogram h;
    memset(&h, 0, sizeof h);
    nanumd_metrics_observe(&h, 0);      /* <= 50 ms */
    nanumd_metrics_observe(&h, 50);     /* <= 50 ms: bounds are inclusive */
    nanumd_metrics_observe(&h, 51);     /* <= 100 ms */
    nanumd_metrics_observe(&h, 99999);  /* beyond every bucket: +Inf only */
    assert_int_equal(h.counts[0], 2);
    assert_int_equal(h.counts[1], 1);
    assert_int_equal(h.count, 4);
    assert_int_equal(h.sum_ms, 100100);
    uint64_t in_buckets = 0;
    for (int k = 0; k < NANUMD_METRICS_BUCKETS; k++)
        in_buckets += h.counts[k];
    assert_int_equal(in_buckets, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(signed_list_round_trips_through_json_and_verifies, setup, teardown),
        cmocka_unit_test_setup_teardown(tampered_list_fails_its_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(list_signed_for_another_network_fails_its_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(list_from_another_publisher_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(older_sequence_is_refused_same_or_newer_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_and_not_yet_valid_lists_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_documents_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(comparison_counts_list_only_and_ledger_only_validators, setup, teardown),
        cmocka_unit_test(outcome_labels_name_every_code),
        cmocka_unit_test(histogram_puts_each_observation_in_its_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
