/*
 * test_store_processes.c — storage behaviour that needs more than one
 * process: the reader slot of a process killed inside a read transaction is
 * cleared at the next open (so LMDB reuses pages again), and a map grown by
 * another process is adopted (MDB_MAP_RESIZED) by one that had the store open.
 *
 * Children are forked (no exec) and open their own store after the fork, as
 * LMDB requires.  Each child blocks reading a pipe the parent holds, so it
 * also ends if the test dies; the test kills and reaps every child it starts.
 * Waits are poll() with a deadline, never sleeps.
 *
 * Read next: test_store_crash.c, spec/storage.md "Readers".
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage.h"
#include "store_test_util.h"

#define CHILD_READY_DEADLINE_MS 10000
#define REUSE_COMMITS 200
#define REUSE_VALUE_BYTES 8192

enum child_role {
    CHILD_HOLDS_STORE_OPEN,   /* opens the store and waits */
    CHILD_READS_FOREVER,      /* waits inside a read transaction (a scan) */
    CHILD_GROWS_MAP,          /* commits until the map has grown, then waits */
};

struct child {
    pid_t pid;
    int ready_fd;   /* child writes one byte when in position */
    int hold_fd;    /* parent's end; the child waits until it closes */
};

/* Blocks until the parent closes its end of the hold pipe. */
static void child_wait_for_parent(int hold_fd)
{
    char byte;
    while (read(hold_fd, &byte, 1) < 0 && errno == EINTR)
        ;
}

struct child_ctx {
    int ready_fd;
    int hold_fd;
};

static int child_scan_and_block(void *ctx, const uint8_t *key, size_t key_len,
                                const uint8_t *value, size_t value_len)
{
    struct child_ctx *c = ctx;
    (void)key, (void)key_len, (void)value, (void)value_len;
    if (write(c->ready_fd, "r", 1) != 1)
        _exit(4);
    child_wait_for_parent(c->hold_fd);
    return 1;
}

/* Commits 4 MiB in 64 KiB values so the map grows past its initial 1 MiB. */
static int child_grow_map(store *s)
{
    static uint8_t value[64 * 1024];
    for (unsigned i = 0; i < 64; i++) {
        char key[16];
        snprintf(key, sizeof key, "grow%02u", i);
        memset(value, (int)i, sizeof value);
        store_batch *b = NULL;
        int rc = store_batch_begin(s, &b);
        if (rc == 0)
            rc = store_batch_put(b, TEST_TABLE_BOOKINGS, (const uint8_t *)key, strlen(key),
                                 value, sizeof value);
        if (rc != 0) {
            store_batch_abort(b);
            return rc;
        }
        rc = store_batch_commit(b);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void child_main(const char *dir, enum child_role role, int ready_fd, int hold_fd)
{
    struct store_options o = {.no_sync = true, .tables = store_test_tables,
                              .tables_count = TEST_TABLES_COUNT};
    store *s = NULL;
    if (store_open(dir, &o, &s) != 0)
        _exit(3);
    if (role == CHILD_READS_FOREVER) {
        struct child_ctx c = {ready_fd, hold_fd};
        store_scan(s, TEST_TABLE_ACCOUNTS, NULL, 0, child_scan_and_block, &c);
        _exit(0);
    }
    if (role == CHILD_GROWS_MAP && child_grow_map(s) != 0)
        _exit(5);
    if (write(ready_fd, "r", 1) != 1)
        _exit(4);
    child_wait_for_parent(hold_fd);
    store_close(s);
    _exit(0);
}

/* Forks a child in `role` and waits (with a deadline) until it is ready. */
static struct child child_start(const char *dir, enum child_role role)
{
    int ready[2], hold[2];
    assert_int_equal(pipe(ready), 0);
    assert_int_equal(pipe(hold), 0);
    pid_t pid = fork();
    assert_int_not_equal(pid, -1);
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        child_main(dir, role, ready[1], hold[0]);
    }
    close(ready[1]);
    close(hold[0]);
    struct child c = {.pid = pid, .ready_fd = ready[0], .hold_fd = hold[1]};
    struct pollfd p = {.fd = c.ready_fd, .events = POLLIN};
    int n;
    do
        n = poll(&p, 1, CHILD_READY_DEADLINE_MS);
    while (n < 0 && errno == EINTR);
    assert_int_equal(n, 1);
    char byte = 0;
    assert_int_equal(read(c.ready_fd, &byte, 1), 1);
    assert_int_equal(byte, 'r');
    return c;
}

/* Ends a child: SIGKILL if `kill_it`, else by closing its hold pipe; reaps it. */
static void child_stop(struct child *c, bool kill_it)
{
    if (kill_it)
        kill(c->pid, SIGKILL);
    close(c->hold_fd);
    int status = 0;
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    close(c->ready_fd);
    if (kill_it)
        assert_int_equal(WTERMSIG(status), SIGKILL);
    else
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* Overwrites one key REUSE_COMMITS times and returns how far the map's used
 * end moved: small when freed pages are reused, large when a reader pins an
 * old snapshot. */
static uint64_t used_growth_while_overwriting(store *s)
{
    struct store_stats before, after;
    assert_string_equal(store_errname(store_stats_get(s, &before)), "STORE_OK");
    static char value[REUSE_VALUE_BYTES + 1];
    for (unsigned i = 0; i < REUSE_COMMITS; i++) {
        memset(value, 'a' + (int)(i % 26), REUSE_VALUE_BYTES);
        assert_string_equal(store_errname(store_test_commit(s, 0, NULL, 0, "hot", value)),
                            "STORE_OK");
    }
    assert_string_equal(store_errname(store_stats_get(s, &after)), "STORE_OK");
    return after.map_used - before.map_used;
}

static void stale_reader_of_killed_process_is_cleared_at_open(void **state)
{
    (void)state;
    char *dir = store_test_dir_make();
    store *s = store_test_open(dir, 0);
    assert_string_equal(store_errname(store_test_commit(s, 0, NULL, 0, "alice", "1")),
                        "STORE_OK");
    store_close(s);
    /* A live process keeps the environment open, so LMDB does not reset the
     * lock file when the next process opens it: only mdb_reader_check can
     * clear the dead reader's slot. */
    struct child keeper = child_start(dir, CHILD_HOLDS_STORE_OPEN);
    struct child reader = child_start(dir, CHILD_READS_FOREVER);
    child_stop(&reader, true);
    s = store_test_open(dir, 0);
    struct store_reader_info info;
    assert_string_equal(store_errname(store_reader_info_get(s, &info)), "STORE_OK");
    assert_int_equal(info.stale_cleared_at_open, 1);
    uint64_t growth = used_growth_while_overwriting(s);
    print_message("# used end moved %llu bytes over %d overwrites of %d bytes\n",
                  (unsigned long long)growth, REUSE_COMMITS, REUSE_VALUE_BYTES);
    /* Without reuse, 200 overwrites of 8 KiB move it by megabytes. */
    assert_u64_at_least(256 * 1024, growth);
    assert_string_equal(store_errname(store_reader_info_get(s, &info)), "STORE_OK");
    assert_u64_at_least(1, info.slots_in_use); /* ours at most: the dead one is gone */
    store_close(s);
    child_stop(&keeper, false);
    store_test_dir_remove(dir);
}

static void map_grown_by_another_process_is_adopted(void **state)
{
    (void)state;
    char *dir = store_test_dir_make();
    store *s = store_test_open(dir, 1 << 20);
    struct store_stats before;
    assert_string_equal(store_errname(store_stats_get(s, &before)), "STORE_OK");
    struct child grower = child_start(dir, CHILD_GROWS_MAP);
    /* Our map is still the old size; reading and writing must adopt the new. */
    uint8_t *v = NULL;
    size_t len = 0;
    assert_string_equal(store_errname(store_get(s, TEST_TABLE_BOOKINGS, (const uint8_t *)"grow63",
                                                6, &v, &len)), "STORE_OK");
    assert_int_equal(len, 64 * 1024);
    assert_int_equal(v[0], 63);
    free(v);
    assert_string_equal(store_errname(store_test_commit(s, 1, (const uint8_t *)"b", 1, "x", "y")),
                        "STORE_OK");
    struct store_stats after;
    assert_string_equal(store_errname(store_stats_get(s, &after)), "STORE_OK");
    assert_u64_at_least(after.map_size, 2 * before.map_size);
    child_stop(&grower, false);
    store_close(s);
    store_test_dir_remove(dir);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stale_reader_of_killed_process_is_cleared_at_open),
        cmocka_unit_test(map_grown_by_another_process_is_adopted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
