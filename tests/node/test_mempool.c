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
#include "ledger.h"

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

/* Eviction takes the lowest fee, then the earliest arrival, whatever went
 * before: 5,000 random admissions (random fees, replacements, evictions
 * with their followers) into a pool of 16, each followed by a comparison
 * of the pool's choice with a search over what the pool still holds. */
static void eviction_order_matches_a_full_search(void **unused)
{
    (void)unused;
    struct env e = {.f = fx_new()};
    struct node_mempool_limits limits = {.txs_max = 16, .bytes_max = 1 << 20};
    assert_int_equal(node_mempool_create(&limits, e.f->ctx.network_id, &e.m), 0);
    enum { STEPS = 5000 };
    static struct {
        uint8_t id[NODE_HASH_BYTES];
        int who;
        uint64_t seq, fee, order;
        bool superseded; /* the same transaction was admitted again later */
    } seen[STEPS];
    size_t seen_count = 0;
    uint64_t order = 0;
    static const int who_of[] = {FX_ALICE, FX_BOB, FX_CAROL, FX_DAVE};
    srand(7);
    for (int step = 0; step < STEPS; step++) {
        int who = who_of[rand() % 4];
        /* The account's next sequence is one past its highest waiting one
         * (evictions drop followers); sometimes resend one (a replacement). */
        uint64_t next = 1;
        for (size_t i = 0; i < seen_count; i++)
            if (seen[i].who == who && !seen[i].superseded && node_mempool_contains(e.m, seen[i].id) &&
                seen[i].seq + 1 > next)
                next = seen[i].seq + 1;
        if (next > 1 && rand() % 5 == 0)
            next--;
        if (next > NODE_MEMPOOL_SEQ_AHEAD_MAX)
            continue;
        uint64_t fee = 1 + (uint64_t)(rand() % 20) + (uint64_t)step / 40; /* later ones can outbid */
        struct node_buf b;
        enum mempool_verdict v;
        uint8_t id[NODE_HASH_BYTES];
        pay_bytes(e.f, who, next, fee, who, &b);
        assert_int_equal(node_mempool_add(e.m, e.f->st, b.data, b.len, (uint64_t)step, &v, id), 0);
        node_buf_free(&b);
        if (v == MEMPOOL_ADMITTED) {
            /* An evicted transaction sent again has the same id. */
            for (size_t i = 0; i < seen_count; i++)
                if (memcmp(seen[i].id, id, NODE_HASH_BYTES) == 0)
                    seen[i].superseded = true;
            memcpy(seen[seen_count].id, id, NODE_HASH_BYTES);
            seen[seen_count].superseded = false;
            seen[seen_count].who = who;
            seen[seen_count].seq = next;
            seen[seen_count].fee = fee;
            seen[seen_count].order = ++order;
            seen_count++;
        }
        size_t best = SIZE_MAX, live = 0;
        for (size_t i = 0; i < seen_count; i++) {
            if (seen[i].superseded || !node_mempool_contains(e.m, seen[i].id))
                continue;
            live++;
            if (best == SIZE_MAX || seen[i].fee < seen[best].fee ||
                (seen[i].fee == seen[best].fee && seen[i].order < seen[best].order))
                best = i;
        }
        assert_int_equal(live, node_mempool_count(e.m));
        uint8_t got[NODE_HASH_BYTES];
        uint64_t got_fee = 0;
        assert_int_equal(node_mempool_cheapest(e.m, got, &got_fee), best != SIZE_MAX);
        if (best != SIZE_MAX) {
            assert_memory_equal(got, seen[best].id, NODE_HASH_BYTES);
            assert_int_equal(got_fee, seen[best].fee);
        }
    }
    if (seen_count < 1000) /* the pool must have turned over many times */
        fail_msg("only %zu admissions", seen_count);
    node_mempool_destroy(e.m);
    fx_free(e.f);
}

/* Replacements leave their predecessors behind in the eviction order
 * without eviction ever looking at them; the order is rebuilt from the
 * pool when they pile up, and stays right. */
static void replacements_keep_the_eviction_order(void **unused)
{
    (void)unused;
    struct env e = {.f = fx_new()};
    struct node_mempool_limits limits = {.txs_max = 16, .bytes_max = 1 << 20};
    assert_int_equal(node_mempool_create(&limits, e.f->ctx.network_id, &e.m), 0);
    uint64_t fee[17], arrival[17], order = 0;
    uint8_t ids[17][NODE_HASH_BYTES];
    for (uint64_t s = 1; s <= 16; s++) {
        struct node_buf b;
        enum mempool_verdict v;
        fee[s] = 10;
        pay_bytes(e.f, FX_ALICE, s, fee[s], FX_ALICE, &b);
        assert_int_equal(node_mempool_add(e.m, e.f->st, b.data, b.len, s, &v, ids[s]), 0);
        assert_verdict(v, MEMPOOL_ADMITTED);
        arrival[s] = ++order;
        node_buf_free(&b);
    }
    srand(11);
    for (int round = 0; round < 2000; round++) {
        uint64_t s = 1 + (uint64_t)(rand() % 16);
        struct node_buf b;
        enum mempool_verdict v;
        pay_bytes(e.f, FX_ALICE, s, fee[s] + 1, FX_ALICE, &b);
        assert_int_equal(node_mempool_add(e.m, e.f->st, b.data, b.len, 100 + (uint64_t)round, &v, ids[s]), 0);
        assert_verdict(v, MEMPOOL_ADMITTED);
        fee[s]++;
        arrival[s] = ++order;
        node_buf_free(&b);
        uint64_t best = 1;
        for (uint64_t k = 2; k <= 16; k++)
            if (fee[k] < fee[best] || (fee[k] == fee[best] && arrival[k] < arrival[best]))
                best = k;
        uint8_t got[NODE_HASH_BYTES];
        uint64_t got_fee;
        assert_true(node_mempool_cheapest(e.m, got, &got_fee));
        assert_memory_equal(got, ids[best], NODE_HASH_BYTES);
        assert_int_equal(node_mempool_count(e.m), 16);
    }
    node_mempool_destroy(e.m);
    fx_free(e.f);
}

/* A transaction waits NODE_MEMPOOL_TX_TTL_MS at most; those after it in
 * its account go with it (they could not apply without it); younger ones
 * stay. */
static void old_transactions_expire_with_their_followers(void **state)
{
    struct env *e = *state;
    struct node_buf b;
    enum mempool_verdict v;
    uint8_t alice1[NODE_HASH_BYTES], alice2[NODE_HASH_BYTES], bob1[NODE_HASH_BYTES];
    pay_bytes(e->f, FX_ALICE, 1, 1, FX_ALICE, &b);
    assert_int_equal(node_mempool_add(e->m, e->f->st, b.data, b.len, 1000, &v, alice1), 0);
    node_buf_free(&b);
    pay_bytes(e->f, FX_ALICE, 2, 1, FX_ALICE, &b);
    assert_int_equal(node_mempool_add(e->m, e->f->st, b.data, b.len, 500000, &v, alice2), 0);
    node_buf_free(&b);
    pay_bytes(e->f, FX_BOB, 1, 1, FX_BOB, &b);
    assert_int_equal(node_mempool_add(e->m, e->f->st, b.data, b.len, 600000, &v, bob1), 0);
    node_buf_free(&b);
    uint32_t dropped = 99;
    node_mempool_expire(e->m, 1000 + NODE_MEMPOOL_TX_TTL_MS - 1, NODE_MEMPOOL_TX_TTL_MS, &dropped);
    assert_int_equal(dropped, 0); /* one millisecond short */
    assert_int_equal(node_mempool_count(e->m), 3);
    node_mempool_expire(e->m, 1000 + NODE_MEMPOOL_TX_TTL_MS, NODE_MEMPOOL_TX_TTL_MS, &dropped);
    assert_int_equal(dropped, 2); /* alice's first, and her second behind it */
    assert_false(node_mempool_contains(e->m, alice1));
    assert_false(node_mempool_contains(e->m, alice2));
    assert_true(node_mempool_contains(e->m, bob1));
    assert_int_equal(node_mempool_oldest_ms(e->m), 600000);
    node_mempool_expire(e->m, 600000 + NODE_MEMPOOL_TX_TTL_MS, NODE_MEMPOOL_TX_TTL_MS, &dropped);
    assert_int_equal(dropped, 1);
    assert_int_equal(node_mempool_count(e->m), 0);
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
        T(old_transactions_expire_with_their_followers),
        cmocka_unit_test(signature_cache_remembers_good_signatures_only),
        cmocka_unit_test(eviction_order_matches_a_full_search),
        cmocka_unit_test(replacements_keep_the_eviction_order),
        cmocka_unit_test(every_verdict_has_a_name_and_message),
    };
    return cmocka_run_group_tests_name("mempool", tests, NULL, NULL);
}
