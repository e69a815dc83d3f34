/*
 * make_test_store.c — writes a small ledger store for command tests:
 *
 *   make-test-store DIR LEDGERS [--bad-tail]
 *
 * LEDGERS ledgers of 20 workload transactions each; with --bad-tail, one
 * more block whose previous_hash is wrong is appended through the raw store
 * (something only disk damage or a bug could produce).
 *
 *   make-test-store DIR --forever
 *
 * Continues the chain in DIR (durably) until killed, printing each height
 * right after its commit returned: the crash test's writer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "storage.h"
#include "workload.h"

static int append_bad_block(const char *dir, ledger_chain *c, uint64_t height)
{
    uint8_t *bytes;
    size_t len;
    struct node_block blk;
    if (ledger_chain_block(c, height, &bytes, &len) != 0 || node_block_decode(bytes, len, &blk) != 0)
        return 1;
    free(bytes);
    ledger_chain_close(c);
    blk.header.height = height + 1;
    struct node_buf b;
    node_buf_init(&b);
    node_block_encode(&blk, &b);
    store *s;
    store_batch *batch;
    struct store_options so = {.tables = ledger_table_names, .tables_count = LEDGER_TABLE_COUNT};
    int rc = store_open(dir, &so, &s) || store_batch_begin(s, &batch) ||
             store_batch_append_block(batch, height + 1, b.data, b.len) || store_batch_commit(batch);
    store_close(s);
    node_buf_free(&b);
    node_block_free(&blk);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 3 || node_crypto_init() != 0)
        return 64;
    static struct workload w;
    wl_init(&w, 5, 30);
    ledger_chain *c;
    char err[256];
    if (ledger_chain_open(argv[1], &w.genesis, NULL, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    bool forever = strcmp(argv[2], "--forever") == 0;
    int ledgers = forever ? 0 : atoi(argv[2]);
    struct node_header last;
    uint8_t last_hash[NODE_HASH_BYTES];
    ledger_chain_last(c, &last, last_hash);
    for (int l = 1; forever || l <= ledgers; l++) {
        struct node_buf envs[20];
        const uint8_t *txs[20];
        size_t lens[20];
        uint64_t t = last.close_time_ms + 60000 * (uint64_t)l;
        wl_ledger(&w, t / 1000, 20, envs);
        for (int i = 0; i < 20; i++) {
            txs[i] = envs[i].data;
            lens[i] = envs[i].len;
        }
        struct node_header h;
        if (ledger_chain_close_ledger(c, t, txs, lens, 20, &h) != 0)
            return 1;
        if (forever) {
            printf("%llu\n", (unsigned long long)h.height);
            fflush(stdout);
        }
        for (int i = 0; i < 20; i++)
            node_buf_free(&envs[i]);
    }
    if (argc > 3 && strcmp(argv[3], "--bad-tail") == 0)
        return append_bad_block(argv[1], c, (uint64_t)ledgers);
    ledger_chain_close(c);
    return 0;
}
