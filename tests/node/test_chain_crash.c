/*
 * test_chain_crash.c — nothing committed is lost when the node is killed.
 *
 * A child process (make-test-store DIR --forever) closes ledgers on a
 * durable store and prints each height after its commit returns.  The test
 * kills it with SIGKILL at a random moment — after a random number of
 * reported commits, mid-way through the next — at least 20 times.  After
 * each kill: the integrity check passes over the whole chain, and the chain
 * reopens at or beyond the last height the child reported.  The next child
 * continues the same chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ledger.h"

#define KILLS 25
#define REPORT_TIMEOUT_MS 10000

static const char *writer_path;

/* Reads lines from fd until `reports` heights arrived (deadline per line);
 * returns the last height, or -1 on timeout/EOF. */
static long long read_reports(int fd, int reports)
{
    char buf[4096];
    size_t used = 0;
    long long last = -1;
    int seen = 0;
    while (seen < reports) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, REPORT_TIMEOUT_MS) <= 0)
            return -1;
        ssize_t n = read(fd, buf + used, sizeof buf - used - 1);
        if (n <= 0)
            return -1;
        used += (size_t)n;
        buf[used] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
            *nl = '\0';
            last = atoll(line);
            seen++;
            line = nl + 1;
        }
        used = strlen(line);
        memmove(buf, line, used);
    }
    return last;
}

static void killed_writer_never_loses_a_committed_ledger(void **state)
{
    (void)state;
    char dir[] = "/tmp/nanum-crash-XXXXXX";
    assert_non_null(mkdtemp(dir));
    unsigned seed = (unsigned)time(NULL);
    if (getenv("NANUM_TEST_SEED") != NULL)
        seed = (unsigned)atoi(getenv("NANUM_TEST_SEED"));
    print_message("# seed %u (NANUM_TEST_SEED=%u repeats this run)\n", seed, seed);
    srand(seed);
    long long reported = 0;
    for (int kill_no = 0; kill_no < KILLS; kill_no++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
            execl(writer_path, writer_path, dir, "--forever", (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        long long last = read_reports(fds[0], 1 + rand() % 4);
        /* Kill somewhere inside a following ledger: a random spin first. */
        for (volatile int spin = rand() % 200000; spin > 0; spin--)
            ;
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        close(fds[0]);
        if (last < 0)
            fail_msg("kill %d: the writer reported no commit in time", kill_no);
        assert_true(last > reported || kill_no == 0);
        reported = last;
        uint64_t checked, bad;
        char err[256];
        int rc = ledger_chain_verify(dir, NULL, &checked, &bad, err, sizeof err, NULL, NULL);
        if (rc != 0)
            fail_msg("kill %d: integrity check failed at ledger %llu: %s", kill_no,
                     (unsigned long long)bad, err);
        /* checked counts ledger 0 too: the last height is checked - 1. */
        if ((long long)checked - 1 < reported)
            fail_msg("kill %d: ledger %lld was reported committed, the store ends at %llu", kill_no,
                     reported, (unsigned long long)(checked - 1));
    }
    print_message("# %d kills, %lld ledgers committed and all present\n", KILLS, reported);
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    writer_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(killed_writer_never_loses_a_committed_ledger),
    };
    return cmocka_run_group_tests_name("chain-crash", tests, NULL, NULL);
}
