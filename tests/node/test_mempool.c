/*
 * test_mempool.c — admission, bounds and eviction, selection order, and
 * cleanup after a ledger.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "fixture.h"
#include "mempool.h"
#include "sigcache.h"

#define assert_verdict(actual, expected)                                                  \
    do {                                                                                  \
        unsigned a_ = (actual), e_ = (expected);                                          \
        if (a_ != e_)                                                                     \
            fail_msg("verdict %s, expected %s", mempool_verdict_name(a_),                 \
                     mempool_verdict_name(e_));                                           \
    } while (0)

struct env {
    struct fx *f;
    node_mempool *m;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    e->f = fx_new();
    struct node_mempool_limits limits = {.txs_max = 8, .bytes_max = 1 << 20};
    if (node_mempool_create(&limits, e->f->ctx.network_id, &e->m) != 0)
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    node_mempool_destroy(e->m);
    fx_free(e->f);
    free(e);
    return 0;
}

/* A signed pay from `who` with explicit seq and fee, encoded into b. */
static void pay_bytes(struct fx *f, int who, uint64_t seq, uint64_t fee, int signer, struct node_buf *b)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_PAY);
    tx.seq = seq;
    tx.fee = fee;
    memcpy(tx.body.pay.destination, f->pk[FX_BOB], NODE_KEY_BYTES);
    tx.body.pay.amount = 100;
    struct node_tx_envelope env;
    node_buf_init(b);
    node_tx_sign(&tx, f->ctx.network_id, f->sk[signer], &env);
    node_envelope_encode(&env, b);
}

static enum mempool_verdict add(struct env *e, int who, uint64_t seq, uint64_t fee, int signer)
{
    struct node_buf b;
    enum mempool_verdict v;
    pay_bytes(e->f, who, seq, fee, signer, &b);
    assert_int_equal(node_mempool_add(e->m, e->f->st, b.data, b.len, seq, &v, NULL), 0);
    node_buf_free(&b);
    return v;
}

static void admission_checks_signature_account_sequence_and_fee(void **state)
{
    struct env *e = *state;
    assert_verdict(add(e, FX_ALICE, 1, 1, FX_ALICE), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_ALICE, 1, 1, FX_ALICE), MEMPOOL_DUPLICATE);
    assert_verdict(add(e, FX_ALICE, 2, 1, FX_BOB), MEMPOOL_BAD_SIGNATURE);
    assert_verdict(add(e, FX_ERIN, 1, 1, FX_ERIN), MEMPOOL_NO_SOURCE);
    assert_verdict(add(e, FX_ALICE, 0, 1, FX_ALICE), MEMPOOL_BAD_SEQ);
    assert_verdict(add(e, FX_ALICE, 1 + NODE_MEMPOOL_SEQ_AHEAD_MAX, 1, FX_ALICE), MEMPOOL_BAD_SEQ);
    assert_verdict(add(e, FX_ALICE, 2, 0, FX_ALICE), MEMPOOL_FEE_TOO_LOW);
    assert_verdict(add(e, FX_BOB, 1, FX_BALANCE + 1, FX_BOB), MEMPOOL_INSUFFICIENT_FEE);
    static const uint8_t junk[] = {0x91, 0x01};
    enum mempool_verdict v;
    assert_int_equal(node_mempool_add(e->m, e->f->st, junk, sizeof junk, 0, &v, NULL), 0);
    assert_verdict(v, MEMPOOL_MALFORMED);
    assert_int_equal(node_mempool_count(e->m), 1);
}

static void same_sequence_is_replaced_only_by_a_higher_fee(void **state)
{
    struct env *e = *state;
    assert_verdict(add(e, FX_ALICE, 1, 5, FX_ALICE), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_ALICE, 1, 5, FX_ALICE), MEMPOOL_DUPLICATE);
    assert_verdict(add(e, FX_ALICE, 1, 4, FX_ALICE), MEMPOOL_SEQ_TAKEN);
    assert_verdict(add(e, FX_ALICE, 1, 9, FX_ALICE), MEMPOOL_ADMITTED);
    assert_int_equal(node_mempool_count(e->m), 1);
}

static void full_pool_evicts_the_cheapest_and_its_followers(void **state)
{
    struct env *e = *state;
    /* alice 1..3 at fee 1, bob 1..5 at fee 3: eight, the limit. */
    for (uint64_t s = 1; s <= 3; s++)
        assert_verdict(add(e, FX_ALICE, s, 1, FX_ALICE), MEMPOOL_ADMITTED);
    for (uint64_t s = 1; s <= 5; s++)
        assert_verdict(add(e, FX_BOB, s, 3, FX_BOB), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_DAVE, 1, 1, FX_DAVE), MEMPOOL_FULL);
    /* Paying more evicts alice's oldest cheapest (seq 1) and so seqs 2, 3. */
    assert_verdict(add(e, FX_DAVE, 1, 2, FX_DAVE), MEMPOOL_ADMITTED);
    assert_int_equal(node_mempool_count(e->m), 6);
}

static void selection_takes_consecutive_runs_from_each_account(void **state)
{
    struct env *e = *state;
    assert_verdict(add(e, FX_ALICE, 1, 1, FX_ALICE), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_ALICE, 2, 1, FX_ALICE), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_ALICE, 4, 1, FX_ALICE), MEMPOOL_ADMITTED); /* gap at 3 */
    assert_verdict(add(e, FX_BOB, 2, 1, FX_BOB), MEMPOOL_ADMITTED);     /* gap at 1 */
    assert_verdict(add(e, FX_DAVE, 1, 1, FX_DAVE), MEMPOOL_ADMITTED);
    const uint8_t *txs[8];
    size_t lens[8];
    uint32_t count;
    uint8_t seed[NODE_HASH_BYTES] = {1};
    assert_int_equal(node_mempool_select(e->m, e->f->st, seed, 8, txs, lens, &count), 0);
    assert_int_equal(count, 3);
    /* Applied in that order, all three succeed. */
    for (uint32_t i = 0; i < count; i++) {
        struct node_tx_result r;
        assert_int_equal(ledger_apply_tx(e->f->st, &e->f->ctx, txs[i], lens[i],
                                         LEDGER_SIGNATURE_UNCHECKED, &r), 0);
        assert_int_equal(r.code, LEDGER_OK);
    }
    /* And the limit is respected. */
    assert_int_equal(node_mempool_select(e->m, e->f->st, seed, 1, txs, lens, &count), 0);
    assert_true(count <= 1);
}

static void applied_and_passed_transactions_leave_the_pool(void **state)
{
    struct env *e = *state;
    uint8_t id[NODE_HASH_BYTES];
    struct node_buf b;
    enum mempool_verdict v;
    pay_bytes(e->f, FX_ALICE, 1, 1, FX_ALICE, &b);
    assert_int_equal(node_mempool_add(e->m, e->f->st, b.data, b.len, 0, &v, id), 0);
    assert_true(node_mempool_contains(e->m, id));
    assert_verdict(add(e, FX_BOB, 1, 1, FX_BOB), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_BOB, 2, 1, FX_BOB), MEMPOOL_ADMITTED);
    /* Bob's seq 1 and 2 get used by other transactions in the ledger. */
    assert_int_equal(fx_pay(e->f, FX_BOB, e->f->pk[FX_ALICE], 100), LEDGER_OK);
    assert_int_equal(fx_pay(e->f, FX_BOB, e->f->pk[FX_ALICE], 100), LEDGER_OK);
    struct node_tx_result r;
    assert_int_equal(ledger_apply_tx(e->f->st, &e->f->ctx, b.data, b.len, LEDGER_SIGNATURE_UNCHECKED, &r), 0);
    assert_int_equal(node_mempool_remove_applied(e->m, e->f->st, (const uint8_t(*)[NODE_HASH_BYTES])id, 1), 0);
    assert_false(node_mempool_contains(e->m, id));
    assert_int_equal(node_mempool_count(e->m), 0);
    assert_int_equal(node_mempool_bytes(e->m), 0);
    node_buf_free(&b);
}

static void raised_base_fee_clears_cheaper_transactions(void **state)
{
    struct env *e = *state;
    assert_verdict(add(e, FX_ALICE, 1, 1, FX_ALICE), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_ALICE, 2, 5, FX_ALICE), MEMPOOL_ADMITTED);
    assert_verdict(add(e, FX_BOB, 1, 5, FX_BOB), MEMPOOL_ADMITTED);
    /* Governance raised the base fee to 3: alice's seq 1 can never apply,
     * and so neither can her seq 2 behind it. */
    struct node_params p;
    assert_int_equal(ledger_params_get(e->f->st, &p), 0);
    p.values[NODE_PARAM_base_fee] = 3;
    struct node_buf b;
    node_buf_init(&b);
    assert_int_equal(node_params_encode(&p, &b), 0);
    assert_int_equal(ledger_state_put(e->f->st, LEDGER_TABLE_GLOBALS, (const uint8_t *)"params", 6, b.data, b.len), 0);
    node_buf_free(&b);
    assert_int_equal(node_mempool_remove_applied(e->m, e->f->st, NULL, 0), 0);
    assert_int_equal(node_mempool_count(e->m), 1);
}

static void every_verdict_has_a_name_and_message(void **state)
{
    (void)state;
#define CHECK(name, code, text, message)                 \
    assert_string_equal(mempool_verdict_name(code), text); \
    assert_non_null(mempool_verdict_message(code));
    MEMPOOL_REJECTS(CHECK)
#undef CHECK
}

/* The signature is the costly check, so it comes after every check that
 * can refuse without it (spec/node.md §12.1): a bad signature on a
 * transaction that is refused anyway is never verified. */
static void signature_is_checked_last(void **state)
{
    struct env *e = *state;
    struct node_sigcache *c = node_mempool_sigcache(e->m);
    assert_verdict(add(e, FX_ALICE, 0, 1, FX_BOB), MEMPOOL_BAD_SEQ);
    assert_verdict(add(e, FX_ALICE, 2, 0, FX_BOB), MEMPOOL_FEE_TOO_LOW);
    assert_verdict(add(e, FX_ERIN, 1, 1, FX_BOB), MEMPOOL_NO_SOURCE);
    assert_int_equal(c->misses + c->hits, 0);
    /* A full pool where nothing is cheaper refuses before verifying too. */
    for (uint64_t s = 1; s <= 8; s++)
        assert_verdict(add(e, FX_ALICE, s, 1, FX_ALICE), MEMPOOL_ADMITTED);
    assert_int_equal(c->misses, 8);
    assert_verdict(add(e, FX_BOB, 1, 1, FX_DAVE), MEMPOOL_FULL);
    assert_int_equal(c->misses, 8);
    /* A richer newcomer is verified, and a forged one is refused as such. */
    assert_verdict(add(e, FX_BOB, 1, 2, FX_DAVE), MEMPOOL_BAD_SIGNATURE);
    assert_int_equal(c->misses, 9);
    assert_int_equal(node_mempool_count(e->m), 8);
}

/* A signature checked once is not checked again while it is remembered;
 * the same transaction with another signature is not covered; the oldest
 * entries leave first. */
static void signature_cache_remembers_good_signatures_only(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct node_sigcache c;
    assert_int_equal(node_sigcache_init(&c, 2), 0);
    struct node_buf good[3], forged;
    for (int i = 0; i < 3; i++)
        pay_bytes(f, FX_ALICE, (uint64_t)i + 1, 1, FX_ALICE, &good[i]);
    pay_bytes(f, FX_ALICE, 1, 1, FX_BOB, &forged); /* same tx as good[0] */
    struct node_tx_envelope env;
    uint8_t id[NODE_HASH_BYTES], forged_id[NODE_HASH_BYTES];
    assert_int_equal(node_sigcache_open(&c, good[0].data, good[0].len, f->ctx.network_id, &env, id), 0);
    assert_true(node_sigcache_known(&c, &env, id));
    assert_int_equal(node_sigcache_open(&c, good[0].data, good[0].len, f->ctx.network_id, &env, id), 0);
    assert_int_equal(c.hits, 1);
    assert_int_equal(c.misses, 1);
    assert_int_not_equal(
        node_sigcache_open(&c, forged.data, forged.len, f->ctx.network_id, &env, forged_id), 0);
    assert_memory_equal(forged_id, id, NODE_HASH_BYTES); /* same id, other signature */
    assert_false(node_sigcache_known(&c, &env, forged_id));
    assert_int_not_equal(
        node_sigcache_open(&c, forged.data, forged.len, f->ctx.network_id, &env, forged_id), 0);
    assert_int_equal(c.misses, 3); /* a bad signature is never remembered */
    /* Capacity 2: the third good signature pushes out the first. */
    assert_int_equal(node_sigcache_open(&c, good[1].data, good[1].len, f->ctx.network_id, &env, id), 0);
    assert_int_equal(node_sigcache_open(&c, good[2].data, good[2].len, f->ctx.network_id, &env, id), 0);
    assert_int_equal(node_envelope_open(good[0].data, good[0].len, f->ctx.network_id, false, &env, id), 0);
    assert_false(node_sigcache_known(&c, &env, id));
    assert_int_equal(node_envelope_open(good[2].data, good[2].len, f->ctx.network_id, false, &env, id), 0);
    assert_true(node_sigcache_known(&c, &env, id));
    for (int i = 0; i < 3; i++)
        node_buf_free(&good[i]);
    node_buf_free(&forged);
    node_sigcache_free(&c);
    fx_free(f);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(admission_checks_signature_account_sequence_and_fee),
        T(same_sequence_is_replaced_only_by_a_higher_fee),
        T(full_pool_evicts_the_cheapest_and_its_followers),
        T(selection_takes_consecutive_runs_from_each_account),
        T(applied_and_passed_transactions_leave_the_pool),
        T(raised_base_fee_clears_cheaper_transactions),
        T(signature_is_checked_last),
        cmocka_unit_test(signature_cache_remembers_good_signatures_only),
        cmocka_unit_test(every_verdict_has_a_name_and_message),
    };
    return cmocka_run_group_tests_name("mempool", tests, NULL, NULL);
}
