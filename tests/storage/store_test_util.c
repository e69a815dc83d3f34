/*
 * store_test_util.c — see store_test_util.h.
 */
#include "store_test_util.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

const char *const store_test_tables[TEST_TABLES_COUNT] = {"accounts", "bookings"};

char *store_test_dir_make(void)
{
    const char *tmp = getenv("TMPDIR");
    char template[4096];
    snprintf(template, sizeof template, "%s/nanum-store-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    char *dir = mkdtemp(template);
    assert_non_null(dir);
    char *copy = strdup(dir);
    assert_non_null(copy);
    return copy;
}

void store_test_dir_remove(char *dir)
{
    if (dir == NULL)
        return;
    char path[4096 + 16];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    free(dir);
}

store *store_test_open(const char *dir, uint64_t map_size_initial)
{
    struct store_options options = {
        .map_size_initial = map_size_initial,
        .no_sync = true,
        .tables = store_test_tables,
        .tables_count = TEST_TABLES_COUNT,
    };
    store *s = NULL;
    int rc = store_open(dir, &options, &s);
    assert_string_equal(store_errname(rc), "STORE_OK");
    assert_non_null(s);
    return s;
}

int store_test_commit(store *s, uint64_t height, const uint8_t *bytes, size_t len,
                      const char *key, const char *value)
{
    store_batch *b = NULL;
    int rc = store_batch_begin(s, &b);
    if (rc != 0)
        return rc;
    if (bytes != NULL)
        rc = store_batch_append_block(b, height, bytes, len);
    if (rc == 0 && key != NULL)
        rc = store_batch_put(b, TEST_TABLE_ACCOUNTS, (const uint8_t *)key, strlen(key),
                             (const uint8_t *)value, strlen(value));
    if (rc != 0) {
        store_batch_abort(b);
        return rc;
    }
    return store_batch_commit(b);
}

int store_test_get_string(store *s, const char *key, char *buf, size_t buf_len)
{
    uint8_t *value = NULL;
    size_t len = 0;
    buf[0] = '\0';
    int rc = store_get(s, TEST_TABLE_ACCOUNTS, (const uint8_t *)key, strlen(key),
                       &value, &len);
    if (rc == 0) {
        size_t n = len < buf_len - 1 ? len : buf_len - 1;
        memcpy(buf, value, n);
        buf[n] = '\0';
    }
    free(value);
    return rc;
}
