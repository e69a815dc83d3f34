/*
 * test_store_crash.c — the crash test: a writer process (crash_writer.c)
 * commits a hash-linked chain of ledgers, durably, and reports each committed
 * height on a pipe; the test SIGKILLs it at random moments, CRASH_RUNS times,
 * and after each kill opens the store and checks that
 *   - every block passes its checksum, heights are consecutive from 1, and
 *     each block names the hash of the one before (walked by a callback);
 *   - the last height the writer reported is there (a reported commit is
 *     never lost), and at most one more (committed, killed before reporting);
 *   - the state table and meta agree with the last block, because they were
 *     written in the same batch.
 * The next writer continues the chain from where the last one died.
 *
 * The kill moment is random twice over: after a random number of reported
 * commits, then after a random poll window of a few milliseconds, so kills
 * land inside commits, inside fsync and inside map growth.  The seed is
 * printed; NANUM_TEST_SEED=N repeats a run.  Nothing sleeps: every wait is a
 * poll() with a deadline.
 *
 * Usage: test-store-crash PATH_TO_storage-crash-writer (meson passes it).
 *
 * Read next: crash_chain.h, spec/storage.md "Durability".
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "crash_chain.h"
#include "storage.h"
#include "store_test_util.h"

#define CRASH_RUNS 100
#define CRASH_REPORTS_BEFORE_KILL_MAX 6   /* random 1..this reported commits */
#define CRASH_EXTRA_WINDOW_MS_MAX 8       /* then a random 0..this poll window */
#define CRASH_REPORT_DEADLINE_MS 20000    /* a writer that reports nothing is stuck */
#define CRASH_WRITER_COMMITS_MAX "100000" /* the writer stops by itself after */

static const char *writer_path;
static const char *const chain_tables[] = {CRASH_CHAIN_TABLE};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads whatever the pipe holds within timeout_ms into the report buffer;
 * completed 8-byte reports update *last.  Returns false at end of file. */
struct reports {
    uint8_t partial[8];
    size_t partial_len;
    uint64_t count;
    uint64_t last;
};

static bool reports_read(int fd, struct reports *r, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready = poll(&p, 1, timeout_ms);
    if (ready < 0 && errno == EINTR)
        return true;
    assert_int_not_equal(ready, -1);
    if (ready == 0)
        return true;
    uint8_t buf[512];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
        return true;
    assert_int_not_equal(n, -1);
    if (n == 0)
        return false;
    for (ssize_t i = 0; i < n; i++) {
        r->partial[r->partial_len++] = buf[i];
        if (r->partial_len == 8) {
            uint64_t h = crash_chain_be64_get(r->partial);
            assert_true(h > r->last);
            r->last = h;
            r->count++;
            r->partial_len = 0;
        }
    }
    return true;
}

/* Starts the writer with its stdout on a pipe; returns the read end. */
static pid_t writer_start(const char *dir, int *read_fd)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_int_not_equal(pid, -1);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(writer_path, writer_path, dir, CRASH_WRITER_COMMITS_MAX, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    *read_fd = fds[0];
    return pid;
}

/* Lets the writer report `reports_wanted` commits, waits a further random
 * window, kills it with SIGKILL and collects every report it made. */
static void writer_run_and_kill(const char *dir, unsigned reports_wanted, int window_ms,
                                struct reports *r)
{
    int fd;
    pid_t pid = writer_start(dir, &fd);
    uint64_t target = r->count + reports_wanted;
    int64_t deadline = now_ms() + CRASH_REPORT_DEADLINE_MS;
    bool open_pipe = true;
    while (open_pipe && r->count < target) {
        if (now_ms() > deadline)
            fail_msg("writer reported %llu of %llu commits before the deadline",
                     (unsigned long long)r->count, (unsigned long long)target);
        open_pipe = reports_read(fd, r, 100);
    }
    assert_true(open_pipe); /* the writer died by itself: see its stderr */
    int64_t window_end = now_ms() + window_ms;
    while (open_pipe && now_ms() < window_end)
        open_pipe = reports_read(fd, r, (int)(window_end - now_ms()));
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    /* Reports written before the kill are still in the pipe. */
    while (reports_read(fd, r, CRASH_REPORT_DEADLINE_MS))
        ;
    close(fd);
}

struct chain_check {
    uint64_t next_height;
    uint8_t prev[CRASH_CHAIN_HASH_BYTES];
};

static int chain_check_block(void *ctx, uint64_t height, const uint8_t *bytes, size_t len)
{
    struct chain_check *c = ctx;
    if (height != c->next_height || !crash_chain_payload_valid(height, c->prev, bytes, len))
        return 1;
    crash_chain_hash(bytes, len, c->prev);
    c->next_height = height + 1;
    return 0;
}

/* Opens the store the writer left and checks chain, reports and state.
 * Returns the last height found. */
static uint64_t store_check_after_kill(const char *dir, uint64_t last_reported)
{
    struct store_options options = {.tables = chain_tables, .tables_count = 1};
    store *s = NULL;
    assert_string_equal(store_errname(store_open(dir, &options, &s)), "STORE_OK");
    struct chain_check c = {.next_height = 1};
    uint64_t bad = 0;
    int rc = store_blocks_walk(s, 0, chain_check_block, &c, &bad);
    if (rc != 0)
        fail_msg("walk: %s at height %llu", store_errname(rc), (unsigned long long)bad);
    uint64_t last = c.next_height - 1;
    assert_u64_at_least(last, last_reported);
    assert_u64_at_least(last_reported + 1, last);
    uint8_t *tip = NULL;
    size_t tip_len = 0;
    assert_string_equal(store_errname(store_get(s, 0, (const uint8_t *)CRASH_CHAIN_TIP_KEY,
                                                strlen(CRASH_CHAIN_TIP_KEY), &tip, &tip_len)),
                        "STORE_OK");
    uint8_t expected[CRASH_CHAIN_TIP_BYTES];
    crash_chain_tip(last, c.prev, expected);
    assert_int_equal(tip_len, sizeof expected);
    assert_int_equal(crash_chain_be64_get(tip), last);
    assert_memory_equal(tip, expected, sizeof expected);
    free(tip);
    uint8_t *meta = NULL;
    size_t meta_len = 0;
    assert_string_equal(store_errname(store_meta_get(s, "tip_height", &meta, &meta_len)),
                        "STORE_OK");
    assert_int_equal(meta_len, 8);
    assert_int_equal(crash_chain_be64_get(meta), last);
    free(meta);
    store_close(s);
    return last;
}

static void killed_writer_never_loses_a_reported_commit(void **state)
{
    (void)state;
    const char *seed_env = getenv("NANUM_TEST_SEED");
    unsigned seed = seed_env ? (unsigned)strtoul(seed_env, NULL, 10)
                             : (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("# crash test seed %u (NANUM_TEST_SEED=%u repeats it)\n", seed, seed);
    srand(seed);
    signal(SIGPIPE, SIG_IGN);
    char *dir = store_test_dir_make();
    struct reports r = {0};
    int64_t started = now_ms();
    unsigned unreported = 0; /* kills between a commit and its report */
    for (int run = 0; run < CRASH_RUNS; run++) {
        unsigned wanted = 1 + (unsigned)rand() % CRASH_REPORTS_BEFORE_KILL_MAX;
        int window_ms = rand() % (CRASH_EXTRA_WINDOW_MS_MAX + 1);
        writer_run_and_kill(dir, wanted, window_ms, &r);
        uint64_t last = store_check_after_kill(dir, r.last);
        if (last != r.last) {
            unreported++;
            r.last = last; /* the next writer continues after it */
        }
    }
    print_message("# %d kills, %llu reported commits, %u committed but unreported, "
                  "last height %llu, %lld ms\n", CRASH_RUNS, (unsigned long long)r.count,
                  unreported, (unsigned long long)r.last, (long long)(now_ms() - started));
    store_test_dir_remove(dir);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test-store-crash PATH_TO_storage-crash-writer\n");
        return 2;
    }
    writer_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_writer_never_loses_a_reported_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
