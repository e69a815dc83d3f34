/*
 * test_store.c — unit tests of storage/: the append-only rule, atomic
 * commits (with injected faults), persistence across reopen, map growth from
 * a tiny map, checksums catching bytes corrupted on disk, the chain walk,
 * state gets, scans and deletes, limits, table names and the error table.
 *
 * Every test works in its own directory under $TMPDIR and removes it.
 * Failures print both values: error codes are compared by name.
 *
 * Read next: test_store_processes.c (stale readers, crash test),
 * spec/storage.md (what these tests pin down).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "storage.h"
#include "store_test_util.h"

#define assert_store_rc(rc, expected) \
    assert_string_equal(store_errname(rc), store_errname(expected))

struct fixture {
    char *dir;
    store *s;
};

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = store_test_dir_make();
    f->s = store_test_open(f->dir, 0);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    store_test_dir_remove(f->dir);
    free(f);
    return 0;
}

/* Closes and opens the fixture's store again. */
static void fixture_reopen(struct fixture *f)
{
    store_close(f->s);
    f->s = store_test_open(f->dir, 0);
}

static const uint8_t block_a[] = "block one: payload bytes";
static const uint8_t block_b[] = "block two: other bytes";

/* Asserts block `height` holds exactly `bytes`. */
static void assert_block(store *s, uint64_t height, const uint8_t *bytes, size_t len)
{
    uint8_t *got = NULL;
    size_t got_len = 0;
    assert_store_rc(store_block_get(s, height, &got, &got_len), 0);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, bytes, len);
    free(got);
}

static void assert_last_height(store *s, bool has_blocks, uint64_t height)
{
    uint64_t got = 12345;
    bool got_has = !has_blocks;
    assert_store_rc(store_last_height(s, &got, &got_has), 0);
    assert_int_equal(got_has, has_blocks);
    assert_int_equal(got, height);
}

static void error_table_names_and_messages_cover_every_code(void **state)
{
    (void)state;
    int count = 0;
#define CHECK_ERROR(name, value, message)                                      \
    assert_string_equal(store_errname(value), #name);                          \
    assert_string_equal(store_strerror(value), message);                       \
    assert_true(value < 0);                                                    \
    count++;
    STORE_ERRORS(CHECK_ERROR)
#undef CHECK_ERROR
    assert_int_equal(count, 14);
    assert_string_equal(store_errname(0), "STORE_OK");
    assert_string_equal(store_errname(-999), "STORE_E_UNKNOWN");
    assert_non_null(store_strerror(-999));
    assert_non_null(store_strerror(0));
}

static void new_store_is_empty_with_format_version(void **state)
{
    struct fixture *f = *state;
    assert_last_height(f->s, false, 0);
    uint8_t *v = NULL;
    size_t len = 0;
    assert_store_rc(store_meta_get(f->s, "store_format_version", &v, &len), 0);
    assert_int_equal(len, 4);
    assert_int_equal(v[3], STORE_FORMAT_VERSION);
    free(v);
    struct store_stats st;
    assert_store_rc(store_stats_get(f->s, &st), 0);
    assert_int_equal(st.blocks, 0);
    assert_int_equal(st.map_size, STORE_MAP_SIZE_DEFAULT);
}

static void append_only_refuses_overwrite(void **state)
{
    struct fixture *f = *state;
    assert_store_rc(store_test_commit(f->s, 7, block_a, sizeof block_a, "alice", "10"), 0);
    assert_store_rc(store_test_commit(f->s, 7, block_b, sizeof block_b, "alice", "99"),
                    STORE_E_APPEND_ONLY);
    assert_store_rc(store_test_commit(f->s, 3, block_b, sizeof block_b, "bob", "1"),
                    STORE_E_APPEND_ONLY);
    assert_block(f->s, 7, block_a, sizeof block_a);
    char value[32];
    assert_store_rc(store_test_get_string(f->s, "alice", value, sizeof value), 0);
    assert_string_equal(value, "10");
    assert_store_rc(store_test_get_string(f->s, "bob", value, sizeof value),
                    STORE_E_NOT_FOUND);
    assert_last_height(f->s, true, 7);
}

static void append_only_refuses_height_gap(void **state)
{
    struct fixture *f = *state;
    assert_store_rc(store_test_commit(f->s, 1, block_a, sizeof block_a, NULL, NULL), 0);
    assert_store_rc(store_test_commit(f->s, 3, block_b, sizeof block_b, "carol", "5"),
                    STORE_E_HEIGHT_GAP);
    uint8_t *got = NULL;
    size_t len = 0;
    assert_store_rc(store_block_get(f->s, 3, &got, &len), STORE_E_NOT_FOUND);
    assert_null(got);
    char value[32];
    assert_store_rc(store_test_get_string(f->s, "carol", value, sizeof value),
                    STORE_E_NOT_FOUND);
    assert_block(f->s, 1, block_a, sizeof block_a);
    assert_store_rc(store_test_commit(f->s, 2, block_b, sizeof block_b, NULL, NULL), 0);
    assert_last_height(f->s, true, 2);
}

static void first_block_may_have_any_height(void **state)
{
    struct fixture *f = *state;
    assert_store_rc(store_test_commit(f->s, 1000, block_a, sizeof block_a, NULL, NULL), 0);
    assert_last_height(f->s, true, 1000);
    assert_store_rc(store_test_commit(f->s, 1001, block_b, sizeof block_b, NULL, NULL), 0);
    assert_store_rc(store_test_commit(f->s, 999, block_b, sizeof block_b, NULL, NULL),
                    STORE_E_APPEND_ONLY);
}

/* Commits block 1 with alice=1 and meta tip=1, then a batch of block 2 with
 * alice=2, bob=2 and meta tip=2 that fails at `fault`; asserts nothing of
 * the second batch is visible, before and after reopening. */
static void assert_fault_leaves_nothing(struct fixture *f, enum store_fault fault)
{
    assert_store_rc(store_test_commit(f->s, 1, block_a, sizeof block_a, "alice", "1"), 0);
    store_fault_inject(f->s, fault);
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_append_block(b, 2, block_b, sizeof block_b), 0);
    assert_store_rc(store_batch_put(b, TEST_TABLE_ACCOUNTS, (const uint8_t *)"alice", 5,
                                    (const uint8_t *)"2", 1), 0);
    assert_store_rc(store_batch_put(b, TEST_TABLE_ACCOUNTS, (const uint8_t *)"bob", 3,
                                    (const uint8_t *)"2", 1), 0);
    assert_store_rc(store_batch_meta_put(b, "tip", (const uint8_t *)"2", 1), 0);
    assert_store_rc(store_batch_commit(b), STORE_E_INJECTED);
    for (int round = 0; round < 2; round++) {
        assert_last_height(f->s, true, 1);
        char value[32];
        assert_store_rc(store_test_get_string(f->s, "alice", value, sizeof value), 0);
        assert_string_equal(value, "1");
        assert_store_rc(store_test_get_string(f->s, "bob", value, sizeof value),
                        STORE_E_NOT_FOUND);
        uint8_t *meta = NULL;
        size_t len = 0;
        assert_store_rc(store_meta_get(f->s, "tip", &meta, &len), STORE_E_NOT_FOUND);
        fixture_reopen(f);
    }
    /* The fault was one-shot: the same batch now commits. */
    assert_store_rc(store_test_commit(f->s, 2, block_b, sizeof block_b, "bob", "2"), 0);
}

static void fault_after_block_write_leaves_nothing_visible(void **state)
{
    assert_fault_leaves_nothing(*state, STORE_FAULT_AFTER_BLOCK_WRITE);
}

static void fault_before_commit_leaves_nothing_visible(void **state)
{
    assert_fault_leaves_nothing(*state, STORE_FAULT_BEFORE_COMMIT);
}

static void blocks_state_and_meta_persist_across_reopen(void **state)
{
    struct fixture *f = *state;
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_append_block(b, 5, block_a, sizeof block_a), 0);
    assert_store_rc(store_batch_put(b, TEST_TABLE_BOOKINGS, (const uint8_t *)"k", 1,
                                    (const uint8_t *)"booked", 6), 0);
    assert_store_rc(store_batch_meta_put(b, "network_id", (const uint8_t *)"coop", 4), 0);
    assert_store_rc(store_batch_commit(b), 0);
    assert_store_rc(store_test_commit(f->s, 6, block_b, sizeof block_b, "alice", "7"), 0);
    fixture_reopen(f);
    assert_last_height(f->s, true, 6);
    assert_block(f->s, 5, block_a, sizeof block_a);
    assert_block(f->s, 6, block_b, sizeof block_b);
    uint8_t *v = NULL;
    size_t len = 0;
    assert_store_rc(store_get(f->s, TEST_TABLE_BOOKINGS, (const uint8_t *)"k", 1, &v, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(v, "booked", 6);
    free(v);
    assert_store_rc(store_meta_get(f->s, "network_id", &v, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(v, "coop", 4);
    free(v);
    char value[32];
    assert_store_rc(store_test_get_string(f->s, "alice", value, sizeof value), 0);
    assert_string_equal(value, "7");
}

#define GROWTH_LEDGERS 300
#define GROWTH_LEDGER_BYTES (100 * 1024)

static void map_grows_from_tiny_initial_size(void **state)
{
    (void)state;
    char *dir = store_test_dir_make();
    store *s = store_test_open(dir, 64 * 1024);
    struct store_stats st;
    assert_store_rc(store_stats_get(s, &st), 0);
    uint64_t map_size_initial = st.map_size;
    assert_int_equal(map_size_initial, 64 * 1024);
    uint8_t *payload = malloc(GROWTH_LEDGER_BYTES);
    assert_non_null(payload);
    for (uint64_t h = 1; h <= GROWTH_LEDGERS; h++) {
        memset(payload, (int)(h & 0xff), GROWTH_LEDGER_BYTES);
        char key[32], value[32];
        snprintf(key, sizeof key, "acct%03u", (unsigned)(h % 50));
        snprintf(value, sizeof value, "%llu", (unsigned long long)h);
        assert_store_rc(store_test_commit(s, h, payload, GROWTH_LEDGER_BYTES, key, value), 0);
    }
    free(payload);
    assert_store_rc(store_stats_get(s, &st), 0);
    assert_int_equal(st.blocks, GROWTH_LEDGERS);
    assert_u64_at_least(st.map_grow_count, 3);
    assert_u64_at_least(st.map_size, (uint64_t)GROWTH_LEDGERS * GROWTH_LEDGER_BYTES);
    assert_u64_at_least(st.map_size, st.map_used);
    print_message("# map grew %llu times: %llu -> %llu bytes, %llu used\n",
                  (unsigned long long)st.map_grow_count,
                  (unsigned long long)map_size_initial, (unsigned long long)st.map_size,
                  (unsigned long long)st.map_used);
    store_close(s);
    /* The grown size is recorded in the environment and kept at reopen. */
    s = store_test_open(dir, 64 * 1024);
    struct store_stats reopened;
    assert_store_rc(store_stats_get(s, &reopened), 0);
    assert_int_equal(reopened.map_size, st.map_size);
    assert_int_equal(reopened.blocks, GROWTH_LEDGERS);
    store_close(s);
    store_test_dir_remove(dir);
}

static void disk_full_at_growth_writes_nothing(void **state)
{
    (void)state;
    char *dir = store_test_dir_make();
    store *s = store_test_open(dir, 64 * 1024);
    size_t len = 1 << 20; /* far past 75% of 64 KiB: growth needed */
    uint8_t *payload = calloc(1, len);
    assert_non_null(payload);
    store_fault_inject(s, STORE_FAULT_DISK_FULL);
    assert_store_rc(store_test_commit(s, 1, payload, len, "alice", "1"), STORE_E_DISK_FULL);
    assert_last_height(s, false, 0);
    char value[8];
    assert_store_rc(store_test_get_string(s, "alice", value, sizeof value), STORE_E_NOT_FOUND);
    struct store_stats st;
    assert_store_rc(store_stats_get(s, &st), 0);
    assert_int_equal(st.map_grow_count, 0);
    /* With the disk back, the same commit goes through. */
    assert_store_rc(store_test_commit(s, 1, payload, len, "alice", "1"), 0);
    free(payload);
    store_close(s);
    store_test_dir_remove(dir);
}

static void map_full_during_commit_grows_and_retries(void **state)
{
    struct fixture *f = *state;
    struct store_stats before, after;
    assert_store_rc(store_stats_get(f->s, &before), 0);
    store_fault_inject(f->s, STORE_FAULT_MAP_FULL);
    assert_store_rc(store_test_commit(f->s, 1, block_a, sizeof block_a, "alice", "1"), 0);
    assert_store_rc(store_stats_get(f->s, &after), 0);
    assert_int_equal(after.map_grow_count, before.map_grow_count + 1);
    assert_u64_at_least(after.map_size, 2 * before.map_size);
    assert_block(f->s, 1, block_a, sizeof block_a);
    char value[8];
    assert_store_rc(store_test_get_string(f->s, "alice", value, sizeof value), 0);
    assert_string_equal(value, "1");
}

/* Flips one byte of every copy of marker in the file; returns copies found. */
static int flip_marker_bytes(const char *path, const char *marker)
{
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    assert_u64_at_least(size, 1);
    uint8_t *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    rewind(fp);
    assert_int_equal(fread(bytes, 1, (size_t)size, fp), (size_t)size);
    size_t mlen = strlen(marker);
    int found = 0;
    for (size_t i = 0; i + mlen <= (size_t)size; i++) {
        if (memcmp(bytes + i, marker, mlen) != 0)
            continue;
        fseek(fp, (long)(i + mlen / 2), SEEK_SET);
        fputc(bytes[i + mlen / 2] ^ 0x01, fp);
        found++;
    }
    fclose(fp);
    free(bytes);
    return found;
}

static int walk_accept_all(void *ctx, uint64_t height, const uint8_t *bytes, size_t len)
{
    (void)height, (void)bytes, (void)len;
    (*(unsigned *)ctx)++;
    return 0;
}

static void corrupted_block_is_reported_by_get_and_walk(void **state)
{
    struct fixture *f = *state;
    static const char marker[] = "NANUM-CORRUPTION-MARKER-7f3a91";
    uint8_t payload[6000];
    memset(payload, 'x', sizeof payload);
    memcpy(payload + 3000, marker, strlen(marker));
    assert_store_rc(store_test_commit(f->s, 1, block_a, sizeof block_a, NULL, NULL), 0);
    assert_store_rc(store_test_commit(f->s, 2, payload, sizeof payload, NULL, NULL), 0);
    assert_store_rc(store_test_commit(f->s, 3, block_b, sizeof block_b, NULL, NULL), 0);
    store_close(f->s);
    f->s = NULL;
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    assert_u64_at_least(flip_marker_bytes(path, marker), 1);
    f->s = store_test_open(f->dir, 0);
    uint8_t *got = NULL;
    size_t len = 0;
    assert_store_rc(store_block_get(f->s, 2, &got, &len), STORE_E_CORRUPT);
    assert_null(got);
    assert_block(f->s, 1, block_a, sizeof block_a);
    unsigned visited = 0;
    uint64_t bad = 0;
    assert_store_rc(store_blocks_walk(f->s, 0, walk_accept_all, &visited, &bad),
                    STORE_E_CORRUPT);
    assert_int_equal(bad, 2);
    assert_int_equal(visited, 1);
}

struct walk_record {
    uint64_t heights[4000];
    unsigned count;
    uint64_t refuse_at;   /* 0: accept everything */
};

static int walk_record_check(void *ctx, uint64_t height, const uint8_t *bytes, size_t len)
{
    struct walk_record *w = ctx;
    uint64_t encoded;
    assert_int_equal(len, sizeof encoded);
    memcpy(&encoded, bytes, sizeof encoded);
    assert_int_equal(encoded, height);
    if (w->count < 4000)
        w->heights[w->count] = height;
    w->count++;
    return height == w->refuse_at;
}

/* Commits blocks first..last, each holding its own height. */
static void commit_height_blocks(store *s, uint64_t first, uint64_t last)
{
    for (uint64_t h = first; h <= last; h++)
        assert_store_rc(store_test_commit(s, h, (const uint8_t *)&h, sizeof h, NULL, NULL), 0);
}

static void walk_visits_every_block_in_order_across_chunks(void **state)
{
    struct fixture *f = *state;
    uint64_t last = 10 + STORE_WALK_CHUNK_BLOCKS * 2 + 17;
    commit_height_blocks(f->s, 10, last);
    static struct walk_record w;
    memset(&w, 0, sizeof w);
    uint64_t bad = 99;
    assert_store_rc(store_blocks_walk(f->s, 0, walk_record_check, &w, &bad), 0);
    assert_int_equal(w.count, last - 10 + 1);
    for (unsigned i = 0; i < w.count; i++)
        assert_int_equal(w.heights[i], 10 + i);
    memset(&w, 0, sizeof w);
    assert_store_rc(store_blocks_walk(f->s, 1500, walk_record_check, &w, &bad), 0);
    assert_int_equal(w.count, last - 1500 + 1);
    assert_int_equal(w.heights[0], 1500);
    memset(&w, 0, sizeof w);
    assert_store_rc(store_blocks_walk(f->s, last + 1, walk_record_check, &w, &bad), 0);
    assert_int_equal(w.count, 0);
}

static void walk_stops_at_callers_bad_height(void **state)
{
    struct fixture *f = *state;
    commit_height_blocks(f->s, 1, 50);
    static struct walk_record w;
    memset(&w, 0, sizeof w);
    w.refuse_at = 37;
    uint64_t bad = 0;
    assert_store_rc(store_blocks_walk(f->s, 1, walk_record_check, &w, &bad),
                    STORE_E_WALK_STOPPED);
    assert_int_equal(bad, 37);
    assert_int_equal(w.count, 37);
}

static void walk_of_empty_log_visits_nothing(void **state)
{
    struct fixture *f = *state;
    unsigned visited = 0;
    uint64_t bad = 5;
    assert_store_rc(store_blocks_walk(f->s, 0, walk_accept_all, &visited, &bad), 0);
    assert_int_equal(visited, 0);
}

struct scan_record {
    char keys[8][16];
    unsigned count;
    unsigned stop_after;  /* 0: never stop */
};

static int scan_record_visit(void *ctx, const uint8_t *key, size_t key_len,
                             const uint8_t *value, size_t value_len)
{
    struct scan_record *r = ctx;
    (void)value, (void)value_len;
    assert_true(r->count < 8);
    assert_true(key_len < 16);
    memcpy(r->keys[r->count], key, key_len);
    r->keys[r->count][key_len] = '\0';
    r->count++;
    return r->stop_after != 0 && r->count == r->stop_after ? 42 : 0;
}

static void scan_visits_only_keys_with_prefix_in_order(void **state)
{
    struct fixture *f = *state;
    static const char *const keys[] = {"res/b", "book/1", "res/a", "res/c", "rez", "re"};
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    for (unsigned i = 0; i < 6; i++)
        assert_store_rc(store_batch_put(b, TEST_TABLE_BOOKINGS, (const uint8_t *)keys[i],
                                        strlen(keys[i]), (const uint8_t *)"v", 1), 0);
    assert_store_rc(store_batch_commit(b), 0);
    struct scan_record r = {0};
    assert_store_rc(store_scan(f->s, TEST_TABLE_BOOKINGS, (const uint8_t *)"res/", 4,
                               scan_record_visit, &r), 0);
    assert_int_equal(r.count, 3);
    assert_string_equal(r.keys[0], "res/a");
    assert_string_equal(r.keys[1], "res/b");
    assert_string_equal(r.keys[2], "res/c");
    memset(&r, 0, sizeof r);
    assert_store_rc(store_scan(f->s, TEST_TABLE_BOOKINGS, NULL, 0, scan_record_visit, &r), 0);
    assert_int_equal(r.count, 6);
    assert_string_equal(r.keys[0], "book/1");
    memset(&r, 0, sizeof r);
    r.stop_after = 2;
    assert_int_equal(store_scan(f->s, TEST_TABLE_BOOKINGS, NULL, 0, scan_record_visit, &r), 42);
    assert_int_equal(r.count, 2);
    memset(&r, 0, sizeof r);
    assert_store_rc(store_scan(f->s, TEST_TABLE_ACCOUNTS, NULL, 0, scan_record_visit, &r), 0);
    assert_int_equal(r.count, 0);
}

static void get_of_absent_key_is_not_found_and_delete_removes(void **state)
{
    struct fixture *f = *state;
    char value[32];
    assert_store_rc(store_test_get_string(f->s, "nobody", value, sizeof value),
                    STORE_E_NOT_FOUND);
    assert_store_rc(store_test_commit(f->s, 0, NULL, 0, "alice", "3"), 0);
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_delete(b, TEST_TABLE_ACCOUNTS, (const uint8_t *)"alice", 5), 0);
    assert_store_rc(store_batch_delete(b, TEST_TABLE_ACCOUNTS, (const uint8_t *)"ghost", 5), 0);
    assert_store_rc(store_batch_commit(b), 0);
    assert_store_rc(store_test_get_string(f->s, "alice", value, sizeof value),
                    STORE_E_NOT_FOUND);
    uint8_t *meta = NULL;
    size_t len = 0;
    assert_store_rc(store_meta_get(f->s, "absent", &meta, &len), STORE_E_NOT_FOUND);
}

static void empty_value_round_trips(void **state)
{
    struct fixture *f = *state;
    assert_store_rc(store_test_commit(f->s, 0, NULL, 0, "empty", ""), 0);
    uint8_t *v = NULL;
    size_t len = 99;
    assert_store_rc(store_get(f->s, TEST_TABLE_ACCOUNTS, (const uint8_t *)"empty", 5, &v, &len), 0);
    assert_int_equal(len, 0);
    assert_non_null(v);
    free(v);
}

static void keys_and_values_over_limits_are_too_big(void **state)
{
    struct fixture *f = *state;
    static uint8_t big_key[STORE_KEY_MAX + 1];
    memset(big_key, 'k', sizeof big_key);
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_put(b, 0, big_key, STORE_KEY_MAX, (const uint8_t *)"v", 1), 0);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_put(b, 0, big_key, STORE_KEY_MAX + 1, (const uint8_t *)"v", 1),
                    STORE_E_TOO_BIG);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    uint8_t byte = 0;
    /* The length is checked before the bytes are read. */
    assert_store_rc(store_batch_put(b, 0, (const uint8_t *)"k", 1, &byte,
                                    (size_t)STORE_VALUE_MAX + 1), STORE_E_TOO_BIG);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_append_block(b, 1, &byte, (size_t)STORE_VALUE_MAX + 1),
                    STORE_E_TOO_BIG);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_meta_put(b, "m", &byte, STORE_META_VALUE_MAX + 1),
                    STORE_E_TOO_BIG);
    store_batch_abort(b);
    char long_name[STORE_META_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_meta_put(b, long_name, &byte, 1), STORE_E_TOO_BIG);
    store_batch_abort(b);
    uint8_t *v = NULL;
    size_t len = 0;
    assert_store_rc(store_get(f->s, 0, big_key, STORE_KEY_MAX + 1, &v, &len), STORE_E_TOO_BIG);
}

static void failed_add_makes_commit_write_nothing(void **state)
{
    struct fixture *f = *state;
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_append_block(b, 1, block_a, sizeof block_a), 0);
    assert_store_rc(store_batch_put(b, 0, (const uint8_t *)"alice", 5, (const uint8_t *)"1", 1), 0);
    assert_store_rc(store_batch_put(b, 9, (const uint8_t *)"bob", 3, (const uint8_t *)"1", 1),
                    STORE_E_INVALID);
    assert_store_rc(store_batch_commit(b), STORE_E_INVALID);
    assert_last_height(f->s, false, 0);
    char value[8];
    assert_store_rc(store_test_get_string(f->s, "alice", value, sizeof value),
                    STORE_E_NOT_FOUND);
}

static void invalid_table_ids_and_arguments_are_refused(void **state)
{
    struct fixture *f = *state;
    store_batch *b = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_delete(b, TEST_TABLES_COUNT, (const uint8_t *)"k", 1),
                    STORE_E_INVALID);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_put(b, 0, (const uint8_t *)"k", 0, (const uint8_t *)"v", 1),
                    STORE_E_INVALID);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_meta_put(b, "store_format_version", (const uint8_t *)"v", 1),
                    STORE_E_INVALID);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_append_block(b, 1, block_a, sizeof block_a), 0);
    assert_store_rc(store_batch_append_block(b, 2, block_b, sizeof block_b), STORE_E_INVALID);
    store_batch_abort(b);
    uint8_t *v = NULL;
    size_t len = 0;
    assert_store_rc(store_get(f->s, TEST_TABLES_COUNT, (const uint8_t *)"k", 1, &v, &len),
                    STORE_E_INVALID);
    struct scan_record r = {0};
    assert_store_rc(store_scan(f->s, 100, NULL, 0, scan_record_visit, &r), STORE_E_INVALID);
    assert_store_rc(store_batch_commit(NULL), STORE_E_INVALID);
    store_batch_abort(NULL);
    store_close(NULL);
}

static void second_open_batch_is_busy(void **state)
{
    struct fixture *f = *state;
    store_batch *b = NULL, *second = NULL;
    assert_store_rc(store_batch_begin(f->s, &b), 0);
    assert_store_rc(store_batch_begin(f->s, &second), STORE_E_BUSY);
    assert_null(second);
    store_batch_abort(b);
    assert_store_rc(store_batch_begin(f->s, &second), 0);
    store_batch_abort(second);
}

/* Opens dir with the given tables and returns store_open's result. */
static int open_with_tables(const char *dir, const char *const *tables, unsigned count)
{
    struct store_options o = {.no_sync = true, .tables = tables, .tables_count = count};
    store *s = NULL;
    int rc = store_open(dir, &o, &s);
    store_close(s);
    return rc;
}

static void invalid_table_names_are_refused_at_open(void **state)
{
    (void)state;
    char *dir = store_test_dir_make();
    static const char *const reserved[] = {"accounts", "blocks"};
    static const char *const meta[] = {"meta"};
    static const char *const bad_char[] = {"tx-index"};
    static const char *const empty[] = {""};
    static const char *const dup[] = {"votes", "votes"};
    static const char *const too_long[] = {"a23456789012345678901234567890123"};
    static const char *const longest[] = {"a2345678901234567890123456789012"};
    static const char *const many[STORE_TABLES_MAX + 1] = {
        "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8",
        "t9", "t10", "t11", "t12", "t13", "t14", "t15", "t16"};
    assert_store_rc(open_with_tables(dir, reserved, 2), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, meta, 1), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, bad_char, 1), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, empty, 1), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, dup, 2), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, too_long, 1), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, many, STORE_TABLES_MAX + 1), STORE_E_TABLES);
    assert_store_rc(open_with_tables(dir, longest, 1), 0);
    assert_store_rc(open_with_tables(dir, many, STORE_TABLES_MAX), 0);
    store *s = NULL;
    assert_store_rc(store_open(NULL, NULL, &s), STORE_E_INVALID);
    assert_store_rc(store_open("/nonexistent/nanum-store-dir", NULL, &s), STORE_E_IO);
    assert_null(s);
    store_test_dir_remove(dir);
}

static void unknown_format_version_is_refused(void **state)
{
    struct fixture *f = *state;
    store_close(f->s);
    f->s = NULL;
    /* Rewrite the version with LMDB directly, as a future store would. */
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_set_maxdbs(env, 4), 0);
    assert_int_equal(mdb_env_open(env, f->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    uint8_t version[4] = {0, 0, 0, 99};
    MDB_val key = {strlen("store_format_version"), "store_format_version"};
    MDB_val value = {sizeof version, version};
    assert_int_equal(mdb_put(txn, dbi, &key, &value, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    store *s = NULL;
    struct store_options o = {.tables = store_test_tables, .tables_count = TEST_TABLES_COUNT};
    assert_store_rc(store_open(f->dir, &o, &s), STORE_E_VERSION);
    assert_null(s);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(error_table_names_and_messages_cover_every_code),
        T(new_store_is_empty_with_format_version),
        T(append_only_refuses_overwrite),
        T(append_only_refuses_height_gap),
        T(first_block_may_have_any_height),
        T(fault_after_block_write_leaves_nothing_visible),
        T(fault_before_commit_leaves_nothing_visible),
        T(blocks_state_and_meta_persist_across_reopen),
        cmocka_unit_test(map_grows_from_tiny_initial_size),
        cmocka_unit_test(disk_full_at_growth_writes_nothing),
        T(map_full_during_commit_grows_and_retries),
        T(corrupted_block_is_reported_by_get_and_walk),
        T(walk_visits_every_block_in_order_across_chunks),
        T(walk_stops_at_callers_bad_height),
        T(walk_of_empty_log_visits_nothing),
        T(scan_visits_only_keys_with_prefix_in_order),
        T(get_of_absent_key_is_not_found_and_delete_removes),
        T(empty_value_round_trips),
        T(keys_and_values_over_limits_are_too_big),
        T(failed_add_makes_commit_write_nothing),
        T(invalid_table_ids_and_arguments_are_refused),
        T(second_open_batch_is_busy),
        cmocka_unit_test(invalid_table_names_are_refused_at_open),
        T(unknown_format_version_is_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
