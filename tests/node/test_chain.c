/*
 * test_chain.c — the chain of ledgers on a real store: genesis, closing and
 * reopening, replay of another node's blocks (and refusal of tampered ones),
 * atomic commits under injected faults, the integrity check, and
 * determinism over 10,000 transactions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ledger.h"
#include "storage.h"
#include "workload.h"

#define assert_code(actual, expected)                                                     \
    do {                                                                                  \
        int a_ = (actual), e_ = (expected);                                               \
        if (a_ != e_)                                                                     \
            fail_msg("got %s (%d), expected %s (%d)", ledger_errname(a_), a_,               \
                     ledger_errname(e_), e_);                                               \
    } while (0)

struct env {
    char dir[2][64];
    struct workload *w;
};

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    for (int i = 0; i < 2; i++) {
        snprintf(e->dir[i], sizeof e->dir[i], "/tmp/nanum-chain-XXXXXX");
        if (mkdtemp(e->dir[i]) == NULL)
            return -1;
    }
    e->w = malloc(sizeof *e->w);
    wl_init(e->w, 42, 50);
    *state = e;
    return 0;
}

static void remove_dir(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct env *e = *state;
    for (int i = 0; i < 2; i++)
        remove_dir(e->dir[i]);
    node_genesis_free(&e->w->genesis);
    free(e->w);
    free(e);
    return 0;
}

static ledger_chain *open_chain(struct env *e, int which)
{
    ledger_chain *c = NULL;
    char err[256];
    struct ledger_chain_options o = {.no_sync = true};
    int rc = ledger_chain_open(e->dir[which], &e->w->genesis, &o, &c, err, sizeof err);
    if (rc != 0)
        fail_msg("open %s: %s (%s)", e->dir[which], ledger_errname(rc), err);
    return c;
}

/* Closes one ledger of n workload transactions; returns how many were ok. */
static uint32_t close_ledger(ledger_chain *c, struct workload *w, uint32_t n,
                             struct node_header *h)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(c, &last, hash);
    uint64_t close_time_ms = last.close_time_ms + 1800 * 1000;
    struct node_buf *envs = calloc(n ? n : 1, sizeof *envs);
    const uint8_t **txs = calloc(n ? n : 1, sizeof *txs);
    size_t *lens = calloc(n ? n : 1, sizeof *lens);
    wl_ledger(w, close_time_ms / 1000, n, envs);
    for (uint32_t i = 0; i < n; i++) {
        txs[i] = envs[i].data;
        lens[i] = envs[i].len;
    }
    assert_code(ledger_chain_close_ledger(c, close_time_ms, txs, lens, n, h), 0);
    uint32_t ok = 0;
    uint8_t *bytes;
    size_t len;
    struct node_block blk;
    assert_code(ledger_chain_block(c, h->height, &bytes, &len), 0);
    assert_code(node_block_decode(bytes, len, &blk), 0);
    for (uint32_t i = 0; i < blk.tx_count; i++)
        ok += blk.results[i].code == 0;
    node_block_free(&blk);
    free(bytes);
    for (uint32_t i = 0; i < n; i++)
        node_buf_free(&envs[i]);
    free(envs);
    free(txs);
    free(lens);
    return ok;
}

static void genesis_is_ledger_zero_and_survives_reopen(void **state)
{
    struct env *e = *state;
    ledger_chain *c = open_chain(e, 0);
    struct node_header h;
    uint8_t hash[NODE_HASH_BYTES], again[NODE_HASH_BYTES];
    ledger_chain_last(c, &h, hash);
    assert_int_equal(h.height, 0);
    assert_int_equal(h.close_time_ms, e->w->genesis.close_time * 1000);
    ledger_chain_close(c);
    c = open_chain(e, 0);
    ledger_chain_last(c, &h, again);
    assert_memory_equal(hash, again, NODE_HASH_BYTES);
    struct node_account a;
    assert_int_equal(ledger_account_get(ledger_chain_state(c), e->w->pk[3], &a), 0);
    assert_int_equal(a.balance, 100000000ULL);
    ledger_chain_close(c);
}

static void store_of_another_network_is_refused(void **state)
{
    struct env *e = *state;
    ledger_chain_close(open_chain(e, 0));
    struct node_genesis other = e->w->genesis;
    other.network_id[0] ^= 1;
    ledger_chain *c = NULL;
    char err[256];
    assert_code(ledger_chain_open(e->dir[0], &other, NULL, &c, err, sizeof err), LEDGER_E_OTHER_NETWORK);
    assert_non_null(strstr(err, "another network"));
    assert_null(c);
}

static void closed_ledgers_persist_and_index_their_transactions(void **state)
{
    struct env *e = *state;
    ledger_chain *c = open_chain(e, 0);
    struct node_header h;
    for (int i = 0; i < 5; i++)
        assert_int_equal(close_ledger(c, e->w, 40, &h), 40);
    assert_int_equal(h.height, 5);
    uint8_t hash[NODE_HASH_BYTES], digest[NODE_HASH_BYTES], digest2[NODE_HASH_BYTES];
    ledger_chain_last(c, NULL, hash);
    assert_code(ledger_chain_state_digest(c, digest), 0);
    /* Find the third transaction of ledger 4 by its id. */
    uint8_t *bytes;
    size_t len;
    struct node_block blk;
    struct node_tx_envelope env;
    uint8_t id[NODE_HASH_BYTES];
    assert_code(ledger_chain_block(c, 4, &bytes, &len), 0);
    assert_code(node_block_decode(bytes, len, &blk), 0);
    assert_code(node_envelope_decode(blk.tx_bytes[2], blk.tx_lens[2], &env), 0);
    node_tx_hash(&env.tx, e->w->genesis.network_id, id);
    node_block_free(&blk);
    free(bytes);
    ledger_chain_close(c);
    c = open_chain(e, 0);
    struct node_header reopened;
    uint8_t hash2[NODE_HASH_BYTES];
    ledger_chain_last(c, &reopened, hash2);
    assert_int_equal(reopened.height, 5);
    assert_memory_equal(hash, hash2, NODE_HASH_BYTES);
    assert_code(ledger_chain_state_digest(c, digest2), 0);
    assert_memory_equal(digest, digest2, NODE_HASH_BYTES);
    uint64_t height;
    uint32_t index;
    assert_code(ledger_chain_find_tx(c, id, &height, &index, NULL), 0);
    assert_int_equal(height, 4);
    assert_int_equal(index, 2);
    id[0] ^= 1;
    assert_int_equal(ledger_chain_find_tx(c, id, &height, &index, NULL), 1);
    ledger_chain_close(c);
}

static void another_node_replays_blocks_to_the_same_hashes(void **state)
{
    struct env *e = *state;
    ledger_chain *a = open_chain(e, 0), *b = open_chain(e, 1);
    struct node_header h;
    for (int i = 0; i < 4; i++)
        close_ledger(a, e->w, 30, &h);
    for (uint64_t height = 1; height <= 4; height++) {
        uint8_t *bytes;
        size_t len;
        assert_code(ledger_chain_block(a, height, &bytes, &len), 0);
        assert_code(ledger_chain_apply_block(b, bytes, len), 0);
        free(bytes);
    }
    uint8_t ha[NODE_HASH_BYTES], hb[NODE_HASH_BYTES];
    ledger_chain_last(a, NULL, ha);
    ledger_chain_last(b, NULL, hb);
    assert_memory_equal(ha, hb, NODE_HASH_BYTES);
    ledger_chain_close(a);
    ledger_chain_close(b);
}

static void tampered_block_is_refused_and_commits_nothing(void **state)
{
    struct env *e = *state;
    ledger_chain *a = open_chain(e, 0), *b = open_chain(e, 1);
    struct node_header h;
    close_ledger(a, e->w, 20, &h);
    uint8_t *bytes;
    size_t len;
    assert_code(ledger_chain_block(a, 1, &bytes, &len), 0);
    struct node_block blk;
    assert_code(node_block_decode(bytes, len, &blk), 0);
    /* A forged result code; the header is unchanged. */
    blk.results[3].code = 33;
    struct node_buf forged;
    node_buf_init(&forged);
    assert_code(node_block_encode(&blk, &forged), 0);
    assert_code(ledger_chain_apply_block(b, forged.data, forged.len), LEDGER_E_CHAIN);
    /* A flipped byte in the header's state hash. */
    blk.results[3].code = 0;
    blk.header.state_hash[0] ^= 1;
    node_buf_reset(&forged);
    assert_code(node_block_encode(&blk, &forged), 0);
    assert_code(ledger_chain_apply_block(b, forged.data, forged.len), LEDGER_E_CHAIN);
    /* Garbage. */
    assert_int_not_equal(ledger_chain_apply_block(b, bytes, len / 2), 0);
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(b, &last, hash);
    assert_int_equal(last.height, 0);
    /* The genuine block still applies afterwards. */
    assert_code(ledger_chain_apply_block(b, bytes, len), 0);
    node_buf_free(&forged);
    node_block_free(&blk);
    free(bytes);
    ledger_chain_close(a);
    ledger_chain_close(b);
}

static void injected_failure_during_commit_leaves_nothing_after_reopen(void **state)
{
    struct env *e = *state;
    ledger_chain *c = open_chain(e, 0);
    struct node_header h;
    close_ledger(c, e->w, 10, &h);
    uint8_t digest[NODE_HASH_BYTES], after[NODE_HASH_BYTES];
    assert_code(ledger_chain_state_digest(c, digest), 0);
    static const enum store_fault faults[] = {STORE_FAULT_AFTER_BLOCK_WRITE, STORE_FAULT_BEFORE_COMMIT};
    for (int i = 0; i < 2; i++) {
        store_fault_inject(ledger_chain_store(c), faults[i]);
        struct node_buf envs[10];
        const uint8_t *txs[10];
        size_t lens[10];
        struct workload copy = *e->w; /* do not advance the real model */
        wl_ledger(&copy, h.close_time_ms / 1000 + 60, 10, envs);
        for (int k = 0; k < 10; k++) {
            txs[k] = envs[k].data;
            lens[k] = envs[k].len;
        }
        struct node_header failed;
        assert_code(ledger_chain_close_ledger(c, h.close_time_ms + 60000, txs, lens, 10, &failed),
                    STORE_E_INJECTED);
        for (int k = 0; k < 10; k++)
            node_buf_free(&envs[k]);
    }
    ledger_chain_close(c);
    c = open_chain(e, 0);
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(c, &last, hash);
    assert_int_equal(last.height, 1);
    assert_code(ledger_chain_state_digest(c, after), 0);
    assert_memory_equal(digest, after, NODE_HASH_BYTES);
    /* And the chain goes on from there. */
    assert_int_equal(close_ledger(c, e->w, 10, &h), 10);
    assert_int_equal(h.height, 2);
    ledger_chain_close(c);
}

static void integrity_check_passes_a_good_chain_and_names_a_bad_ledger(void **state)
{
    struct env *e = *state;
    ledger_chain *c = open_chain(e, 0);
    struct node_header h;
    for (int i = 0; i < 3; i++)
        close_ledger(c, e->w, 10, &h);
    /* Append a block whose previous_hash is wrong, through the store itself
     * (the chain would never write one). */
    uint8_t *bytes;
    size_t len;
    assert_code(ledger_chain_block(c, 3, &bytes, &len), 0);
    struct node_block blk;
    assert_code(node_block_decode(bytes, len, &blk), 0);
    free(bytes);
    ledger_chain_close(c);
    uint64_t checked, bad;
    char err[256];
    assert_code(ledger_chain_verify(e->dir[0], e->w->genesis.network_id, &checked, &bad, err,
                                    sizeof err, NULL, NULL), 0);
    assert_int_equal(checked, 4);
    blk.header.height = 4;
    struct node_buf b;
    node_buf_init(&b);
    assert_code(node_block_encode(&blk, &b), 0);
    store *s;
    struct store_options so = {.no_sync = true, .tables = ledger_table_names,
                               .tables_count = LEDGER_TABLE_COUNT};
    assert_int_equal(store_open(e->dir[0], &so, &s), 0);
    store_batch *batch;
    assert_int_equal(store_batch_begin(s, &batch), 0);
    assert_int_equal(store_batch_append_block(batch, 4, b.data, b.len), 0);
    assert_int_equal(store_batch_commit(batch), 0);
    store_close(s);
    assert_code(ledger_chain_verify(e->dir[0], e->w->genesis.network_id, &checked, &bad, err,
                                    sizeof err, NULL, NULL), LEDGER_E_CHAIN);
    assert_int_equal(bad, 4);
    assert_int_equal(checked, 4);
    assert_non_null(strstr(err, "previous_hash"));
    node_buf_free(&b);
    node_block_free(&blk);
}

/* 10,000 transactions over 100 ledgers, twice from genesis into two stores:
 * every header and the final full state are identical. */
static void ten_thousand_transactions_give_identical_state_twice(void **state)
{
    struct env *e = *state;
    uint8_t headers[2][100][NODE_HASH_BYTES], digest[2][NODE_HASH_BYTES];
    uint32_t ok[2] = {0, 0};
    for (int run = 0; run < 2; run++) {
        struct workload *w = malloc(sizeof *w);
        wl_init(w, 7, 200);
        ledger_chain *c = NULL;
        char err[256];
        struct ledger_chain_options o = {.no_sync = true};
        assert_code(ledger_chain_open(e->dir[run], &w->genesis, &o, &c, err, sizeof err), 0);
        for (int l = 0; l < 100; l++) {
            struct node_header h;
            ok[run] += close_ledger(c, w, 100, &h);
            ledger_chain_last(c, NULL, headers[run][l]);
        }
        assert_code(ledger_chain_state_digest(c, digest[run]), 0);
        ledger_chain_close(c);
        node_genesis_free(&w->genesis);
        free(w);
    }
    for (int l = 0; l < 100; l++)
        if (memcmp(headers[0][l], headers[1][l], NODE_HASH_BYTES) != 0)
            fail_msg("ledger %d differs between the two runs", l + 1);
    assert_memory_equal(digest[0], digest[1], NODE_HASH_BYTES);
    assert_int_equal(ok[0], ok[1]);
    /* The workload is meant to be valid: nearly all of it must apply. */
    print_message("# %u of 10000 transactions applied ok\n", ok[0]);
    if (ok[0] < 9900)
        fail_msg("only %u of 10000 transactions applied", ok[0]);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    if (node_crypto_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        T(genesis_is_ledger_zero_and_survives_reopen),
        T(store_of_another_network_is_refused),
        T(closed_ledgers_persist_and_index_their_transactions),
        T(another_node_replays_blocks_to_the_same_hashes),
        T(tampered_block_is_refused_and_commits_nothing),
        T(injected_failure_during_commit_leaves_nothing_after_reopen),
        T(integrity_check_passes_a_good_chain_and_names_a_bad_ledger),
        T(ten_thousand_transactions_give_identical_state_twice),
    };
    return cmocka_run_group_tests_name("chain", tests, NULL, NULL);
}
