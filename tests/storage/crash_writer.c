/*
 * crash_writer.c — `storage-crash-writer DIR MAX_COMMITS`: the process the
 * crash test kills.  It opens the store in DIR (durable: fsync per commit),
 * continues the chain of crash_chain.h from the last block, and after every
 * commit that returned 0 writes the committed height (8 bytes, big-endian) to
 * standard output, a pipe to the test.  It stops by itself after MAX_COMMITS
 * commits or when the pipe is gone (the test ended), so no writer outlives
 * its test for long.
 *
 * Exit codes: 0 done, 2 usage, 3 store error (message on stderr).
 *
 * Read next: test_store_crash.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash_chain.h"
#include "storage.h"

static const char *const tables[] = {CRASH_CHAIN_TABLE};

static int fail(const char *what, int rc)
{
    fprintf(stderr, "storage-crash-writer: %s: %s (%s)\n", what, store_errname(rc),
            store_strerror(rc));
    return 3;
}

/* Finds where the chain stands: the next height and the last payload's hash. */
static int chain_resume(store *s, uint64_t *next, uint8_t prev[CRASH_CHAIN_HASH_BYTES])
{
    uint64_t last = 0;
    bool has_blocks = false;
    int rc = store_last_height(s, &last, &has_blocks);
    if (rc != 0)
        return rc;
    memset(prev, 0, CRASH_CHAIN_HASH_BYTES);
    *next = 1;
    if (!has_blocks)
        return 0;
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = store_block_get(s, last, &bytes, &len);
    if (rc != 0)
        return rc;
    crash_chain_hash(bytes, len, prev);
    free(bytes);
    *next = last + 1;
    return 0;
}

/* Commits block height and its state in one batch. */
static int commit_one(store *s, uint64_t height, uint8_t prev[CRASH_CHAIN_HASH_BYTES])
{
    static uint8_t payload[CRASH_CHAIN_PAYLOAD_MAX];
    size_t len = crash_chain_payload(height, prev, payload);
    uint8_t hash[CRASH_CHAIN_HASH_BYTES], tip[CRASH_CHAIN_TIP_BYTES], height_be[8];
    crash_chain_hash(payload, len, hash);
    crash_chain_tip(height, hash, tip);
    crash_chain_be64_put(height, height_be);
    store_batch *b = NULL;
    int rc = store_batch_begin(s, &b);
    if (rc != 0)
        return rc;
    rc = store_batch_append_block(b, height, payload, len);
    if (rc == 0)
        rc = store_batch_put(b, 0, (const uint8_t *)CRASH_CHAIN_TIP_KEY,
                             strlen(CRASH_CHAIN_TIP_KEY), tip, sizeof tip);
    if (rc == 0)
        rc = store_batch_put(b, 0, height_be, sizeof height_be, hash, sizeof hash);
    if (rc == 0)
        rc = store_batch_meta_put(b, "tip_height", height_be, sizeof height_be);
    if (rc != 0) {
        store_batch_abort(b);
        return rc;
    }
    rc = store_batch_commit(b);
    if (rc == 0)
        memcpy(prev, hash, CRASH_CHAIN_HASH_BYTES);
    return rc;
}

/* Writes all of buf; false if the reader is gone. */
static bool report(const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: storage-crash-writer DIR MAX_COMMITS\n");
        return 2;
    }
    long long max_commits = atoll(argv[2]);
    struct store_options options = {.tables = tables, .tables_count = 1,
                                    .map_size_initial = 256 * 1024};
    store *s = NULL;
    int rc = store_open(argv[1], &options, &s);
    if (rc != 0)
        return fail("open", rc);
    uint64_t height;
    uint8_t prev[CRASH_CHAIN_HASH_BYTES];
    rc = chain_resume(s, &height, prev);
    for (long long i = 0; rc == 0 && i < max_commits; i++, height++) {
        rc = commit_one(s, height, prev);
        uint8_t height_be[8];
        crash_chain_be64_put(height, height_be);
        if (rc == 0 && !report(height_be, sizeof height_be))
            break;
    }
    store_close(s);
    return rc == 0 ? 0 : fail("commit", rc);
}
