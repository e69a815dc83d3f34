/*
 * store_test_util.h — helpers shared by the storage tests: a fresh store
 * directory under $TMPDIR (removed again by the test), opening a store with
 * the tests' tables, and committing a ledger-like batch in one call.
 *
 * Read next: test_store.c (unit tests), test_store_processes.c (stale
 * readers and the crash test).
 */
#ifndef NANUM_STORE_TEST_UTIL_H
#define NANUM_STORE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "storage.h"

/* assert_true for orderings, printing both values (include cmocka.h first). */
#define assert_u64_at_least(value, minimum)                                    \
    do {                                                                       \
        unsigned long long value_ = (value), minimum_ = (minimum);             \
        if (value_ < minimum_)                                                 \
            fail_msg("%s = %llu, expected at least %s = %llu", #value, value_, \
                     #minimum, minimum_);                                      \
    } while (0)

/* Table ids of the tests' stores: the order of store_test_tables. */
enum { TEST_TABLE_ACCOUNTS = 0, TEST_TABLE_BOOKINGS = 1, TEST_TABLES_COUNT = 2 };
extern const char *const store_test_tables[TEST_TABLES_COUNT];

/* Creates an empty directory; the caller frees the string after removing it
 * with store_test_dir_remove. */
char *store_test_dir_make(void);
/* Removes the LMDB files and the directory (tests make nothing else there). */
void store_test_dir_remove(char *dir);

/* Opens the test tables in dir, no_sync and the given initial map size (0 for
 * the default); fails the test on error. */
store *store_test_open(const char *dir, uint64_t map_size_initial);

/* Commits one batch: block `height` with `bytes`, and accounts[key] = value.
 * Returns the commit's result. */
int store_test_commit(store *s, uint64_t height, const uint8_t *bytes, size_t len,
                      const char *key, const char *value);

/* Reads accounts[key] as a string ("" if absent) into buf. */
int store_test_get_string(store *s, const char *key, char *buf, size_t buf_len);

#endif
