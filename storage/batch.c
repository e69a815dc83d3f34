/*
 * batch.c — write batches and the one-transaction commit.
 *
 * A batch lives in memory until commit: every key and value is copied into
 * one growing arena and each operation records offsets into it, so the
 * caller's buffers may be reused at once.  The block, if any, is kept as its
 * final record (BLAKE2b-256 of the payload, then the payload).  Commit is one
 * LMDB write transaction: append-only check, block, state operations in the
 * order added, meta operations in the order added, commit.  If anything fails
 * the transaction is aborted and nothing is visible.  The map is grown before
 * the transaction (map.c) and, if LMDB still reports MDB_MAP_FULL, the whole
 * batch is retried after growing, at most STORE_COMMIT_RETRIES_MAX times.
 *
 * Read next: map.c (growth policy), read.c (reads), spec/storage.md.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Dirty pages counted per operation by the estimate, at most: beyond this
 * the estimate would reserve gigabytes for batches of tiny values, and the
 * MDB_MAP_FULL retry covers the rare batch that needs more. */
#define STORE__ESTIMATE_OPS_PAGES_MAX 65536
/* Pages every commit may dirty whatever it writes: the root and branch pages
 * of the touched trees, the free-list and the meta page. */
#define STORE__ESTIMATE_FIXED_PAGES 16

enum batch_op_kind { BATCH_OP_PUT, BATCH_OP_DELETE, BATCH_OP_META_PUT };

struct batch_op {
    enum batch_op_kind kind;
    unsigned table;        /* caller table id; unused for meta */
    size_t key_offset;     /* into the arena */
    size_t key_len;
    size_t value_offset;   /* into the arena; unused for deletes */
    size_t value_len;
};

struct store_batch {
    store *s;
    int error;                 /* first failed add call, returned by commit */
    bool has_block;
    uint64_t height;
    uint8_t *block_record;     /* hash || payload */
    size_t block_record_len;
    struct batch_op *ops;
    size_t ops_count;
    size_t ops_capacity;
    uint8_t *arena;
    size_t arena_len;
    size_t arena_capacity;
};

int store_batch_begin(store *s, store_batch **out)
{
    if (s == NULL || out == NULL)
        return STORE_E_INVALID;
    *out = NULL;
    if (s->batch_open)
        return STORE_E_BUSY;
    store_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return STORE_E_NOMEM;
    b->s = s;
    s->batch_open = true;
    *out = b;
    return 0;
}

void store_batch_abort(store_batch *b)
{
    if (b == NULL)
        return;
    b->s->batch_open = false;
    free(b->block_record);
    free(b->ops);
    free(b->arena);
    free(b);
}

/* Remembers the first failure of an add call so that commit refuses the
 * batch; returns rc for the caller's convenience. */
static int batch_fail(store_batch *b, int rc)
{
    if (b->error == 0)
        b->error = rc;
    return rc;
}

/* Copies len bytes into the arena, doubling it as needed; *offset says where
 * they went (offsets, not pointers, survive realloc). */
static int arena_copy(store_batch *b, const uint8_t *bytes, size_t len, size_t *offset)
{
    if (len > SIZE_MAX - b->arena_len)
        return STORE_E_NOMEM;
    size_t need = b->arena_len + len;
    if (need > b->arena_capacity) {
        size_t capacity = b->arena_capacity ? b->arena_capacity : 4096;
        while (capacity < need) {
            if (capacity > SIZE_MAX / 2)
                return STORE_E_NOMEM;
            capacity *= 2;
        }
        uint8_t *grown = realloc(b->arena, capacity);
        if (grown == NULL)
            return STORE_E_NOMEM;
        b->arena = grown;
        b->arena_capacity = capacity;
    }
    if (len > 0)
        memcpy(b->arena + b->arena_len, bytes, len);
    *offset = b->arena_len;
    b->arena_len = need;
    return 0;
}

/* Appends one operation, copying key and value. */
static int op_add(store_batch *b, enum batch_op_kind kind, unsigned table,
                  const uint8_t *key, size_t key_len,
                  const uint8_t *value, size_t value_len)
{
    if (b->ops_count >= STORE_BATCH_OPS_MAX)
        return STORE_E_TOO_BIG;
    if (b->ops_count == b->ops_capacity) {
        size_t capacity = b->ops_capacity ? b->ops_capacity * 2 : 64;
        struct batch_op *grown = realloc(b->ops, capacity * sizeof *grown);
        if (grown == NULL)
            return STORE_E_NOMEM;
        b->ops = grown;
        b->ops_capacity = capacity;
    }
    struct batch_op op = {.kind = kind, .table = table,
                          .key_len = key_len, .value_len = value_len};
    int rc = arena_copy(b, key, key_len, &op.key_offset);
    if (rc == 0 && kind != BATCH_OP_DELETE)
        rc = arena_copy(b, value, value_len, &op.value_offset);
    if (rc != 0)
        return rc;
    b->ops[b->ops_count++] = op;
    return 0;
}

int store_batch_append_block(store_batch *b, uint64_t height,
                             const uint8_t *bytes, size_t len)
{
    if (b == NULL)
        return STORE_E_INVALID;
    if (b->error != 0)
        return b->error;
    if (b->has_block || bytes == NULL || len == 0)
        return batch_fail(b, STORE_E_INVALID);
    if (len > STORE_VALUE_MAX)
        return batch_fail(b, STORE_E_TOO_BIG);
    uint8_t *record = malloc(STORE_BLOCK_HASH_BYTES + len);
    if (record == NULL)
        return batch_fail(b, STORE_E_NOMEM);
    memcpy(record + STORE_BLOCK_HASH_BYTES, bytes, len);
    crypto_generichash(record, STORE_BLOCK_HASH_BYTES, record + STORE_BLOCK_HASH_BYTES,
                       len, NULL, 0);
    b->block_record = record;
    b->block_record_len = STORE_BLOCK_HASH_BYTES + len;
    b->height = height;
    b->has_block = true;
    return 0;
}

/* Checks a table id and key shared by puts and deletes. */
static int table_key_check(const store_batch *b, unsigned table,
                           const uint8_t *key, size_t key_len)
{
    if (table >= b->s->tables_count || key == NULL || key_len == 0)
        return STORE_E_INVALID;
    if (key_len > STORE_KEY_MAX)
        return STORE_E_TOO_BIG;
    return 0;
}

int store_batch_put(store_batch *b, unsigned table, const uint8_t *key, size_t key_len,
                    const uint8_t *value, size_t value_len)
{
    if (b == NULL)
        return STORE_E_INVALID;
    if (b->error != 0)
        return b->error;
    int rc = table_key_check(b, table, key, key_len);
    if (rc == 0 && value == NULL && value_len > 0)
        rc = STORE_E_INVALID;
    if (rc == 0 && value_len > STORE_VALUE_MAX)
        rc = STORE_E_TOO_BIG;
    if (rc == 0)
        rc = op_add(b, BATCH_OP_PUT, table, key, key_len, value, value_len);
    return rc == 0 ? 0 : batch_fail(b, rc);
}

int store_batch_delete(store_batch *b, unsigned table, const uint8_t *key, size_t key_len)
{
    if (b == NULL)
        return STORE_E_INVALID;
    if (b->error != 0)
        return b->error;
    int rc = table_key_check(b, table, key, key_len);
    if (rc == 0)
        rc = op_add(b, BATCH_OP_DELETE, table, key, key_len, NULL, 0);
    return rc == 0 ? 0 : batch_fail(b, rc);
}

int store_batch_meta_put(store_batch *b, const char *name,
                         const uint8_t *value, size_t value_len)
{
    if (b == NULL)
        return STORE_E_INVALID;
    if (b->error != 0)
        return b->error;
    size_t name_len = name ? strnlen(name, STORE_META_NAME_MAX + 1) : 0;
    int rc = 0;
    if (name_len == 0 || (value == NULL && value_len > 0))
        rc = STORE_E_INVALID;
    else if (name_len > STORE_META_NAME_MAX || value_len > STORE_META_VALUE_MAX)
        rc = STORE_E_TOO_BIG;
    else if (strncmp(name, STORE__META_RESERVED_PREFIX,
                     strlen(STORE__META_RESERVED_PREFIX)) == 0)
        rc = STORE_E_INVALID; /* the store's own names */
    if (rc == 0)
        rc = op_add(b, BATCH_OP_META_PUT, 0, (const uint8_t *)name, name_len,
                    value, value_len);
    return rc == 0 ? 0 : batch_fail(b, rc);
}

/* LMDB reports a full map as an error like any other; inside a commit it
 * means "grow and retry", everything else is translated. */
static int put_result(int mdb_rc)
{
    return mdb_rc == MDB_MAP_FULL ? STORE__E_RETRY_MAP_FULL : store__from_mdb(mdb_rc);
}

/* The append-only rule, checked inside the write transaction so no other
 * writer can slip a block in between: the new height must be last + 1, or
 * anything if the log is empty. */
static int append_check(store_batch *b, MDB_txn *txn)
{
    MDB_cursor *cursor;
    int rc = mdb_cursor_open(txn, b->s->dbi_blocks, &cursor);
    if (rc != 0)
        return store__from_mdb(rc);
    MDB_val key, value;
    rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    mdb_cursor_close(cursor);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return store__from_mdb(rc);
    uint64_t last;
    if (!store__height_from_key(&key, &last))
        return STORE_E_CORRUPT;
    if (b->height <= last)
        return STORE_E_APPEND_ONLY;
    if (b->height != last + 1)
        return STORE_E_HEIGHT_GAP;
    return 0;
}

/* Writes the block record after checking the rule and, once more, that the
 * record's hash matches its payload (memory it sat in since append). */
static int block_write(store_batch *b, MDB_txn *txn)
{
    if (!b->has_block)
        return 0;
    int rc = append_check(b, txn);
    if (rc != 0)
        return rc;
    const uint8_t *payload;
    size_t payload_len;
    MDB_val record = {b->block_record_len, b->block_record};
    rc = store__record_check(&record, &payload, &payload_len);
    if (rc != 0)
        return rc;
    uint8_t key_bytes[STORE__HEIGHT_KEY_BYTES];
    store__height_key(b->height, key_bytes);
    MDB_val key = {sizeof key_bytes, key_bytes};
    /* MDB_APPEND: the key is past the last one (checked above), so LMDB may
     * fill pages sequentially; MDB_NOOVERWRITE keeps the rule in LMDB too. */
    return put_result(mdb_put(txn, b->s->dbi_blocks, &key, &record,
                              MDB_NOOVERWRITE | MDB_APPEND));
}

/* Applies the state operations (meta == false) or the meta puts (true), in
 * the order they were added. */
static int ops_write(store_batch *b, MDB_txn *txn, bool meta)
{
    for (size_t i = 0; i < b->ops_count; i++) {
        const struct batch_op *op = &b->ops[i];
        if ((op->kind == BATCH_OP_META_PUT) != meta)
            continue;
        MDB_dbi dbi = meta ? b->s->dbi_meta : b->s->dbi_tables[op->table];
        MDB_val key = {op->key_len, b->arena + op->key_offset};
        int rc;
        if (op->kind == BATCH_OP_DELETE) {
            rc = mdb_del(txn, dbi, &key, NULL);
            if (rc == MDB_NOTFOUND)
                rc = 0;
        } else {
            MDB_val value = {op->value_len, b->arena + op->value_offset};
            rc = mdb_put(txn, dbi, &key, &value, 0);
        }
        if (rc != 0)
            return put_result(rc);
    }
    return 0;
}

/* Fires the test fault if it is the one armed for this point (one-shot). */
static int fault_point(store *s, enum store_fault here)
{
    if (s->fault != here)
        return 0;
    s->fault = STORE_FAULT_NONE;
    return STORE_E_INJECTED;
}

/* One attempt: one write transaction, committed or aborted whole. */
static int commit_once(store_batch *b)
{
    store *s = b->s;
    MDB_txn *txn;
    int rc = store__txn_begin(s, 0, &txn);
    if (rc != 0)
        return rc;
    rc = block_write(b, txn);
    if (rc == 0)
        rc = fault_point(s, STORE_FAULT_AFTER_BLOCK_WRITE);
    if (rc == 0)
        rc = ops_write(b, txn, false);
    if (rc == 0)
        rc = ops_write(b, txn, true);
    if (rc == 0)
        rc = fault_point(s, STORE_FAULT_BEFORE_COMMIT);
    if (rc == 0 && fault_point(s, STORE_FAULT_MAP_FULL) != 0)
        rc = STORE__E_RETRY_MAP_FULL;
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return put_result(mdb_txn_commit(txn));
}

/* Bytes the batch may add to the map: twice its keys and values (pages are
 * between half and wholly full, overflow pages round up) plus pages the
 * B-tree copies on write. */
static uint64_t batch_estimate(const store_batch *b)
{
    uint64_t bytes = b->arena_len + b->block_record_len + STORE__HEIGHT_KEY_BYTES;
    uint64_t ops = b->ops_count + (b->has_block ? 1 : 0);
    if (ops > STORE__ESTIMATE_OPS_PAGES_MAX)
        ops = STORE__ESTIMATE_OPS_PAGES_MAX;
    return 2 * bytes + (uint64_t)b->s->page_size * (ops + STORE__ESTIMATE_FIXED_PAGES);
}

/* Grows ahead, commits, and on MDB_MAP_FULL grows again and retries the
 * whole batch, a bounded number of times. */
static int commit_with_growth(store_batch *b)
{
    int rc = store__map_reserve(b->s, batch_estimate(b));
    for (int attempt = 0; rc == 0 && attempt < STORE_COMMIT_RETRIES_MAX; attempt++) {
        rc = commit_once(b);
        if (rc != STORE__E_RETRY_MAP_FULL)
            return rc;
        rc = store__map_grow_after_full(b->s);
    }
    return rc == 0 ? STORE_E_DISK_FULL : rc;
}

int store_batch_commit(store_batch *b)
{
    if (b == NULL)
        return STORE_E_INVALID;
    int rc = b->error != 0 ? b->error : commit_with_growth(b);
    store_batch_abort(b);
    return rc;
}
