/*
 * read.c — every read: the last height, one block, the chain walk, state
 * gets and prefix scans, meta gets.  Each call is one short read transaction
 * (the walk: one per STORE_WALK_CHUNK_BLOCKS blocks) so that no reader pins
 * old pages and LMDB can reuse them.  Values are copied out before the
 * transaction ends, except inside callbacks, which see LMDB's own memory for
 * the length of the call.  Block records are checked (hash, key shape) right
 * after reading.
 *
 * Read next: batch.c (how the records were written), spec/storage.md.
 */
#include "store_internal.h"

#include <stdlib.h>
#include <string.h>

/* Copies an LMDB value into a fresh buffer (at least 1 byte, so an empty
 * value still yields a pointer the caller can free). */
static int value_copy(const void *data, size_t len, uint8_t **out, size_t *out_len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (copy == NULL)
        return STORE_E_NOMEM;
    if (len > 0)
        memcpy(copy, data, len);
    *out = copy;
    *out_len = len;
    return 0;
}

/* The height of the first (op MDB_FIRST) or last (MDB_LAST) block; *found
 * false when the log is empty. */
static int edge_height(store *s, MDB_cursor_op op, uint64_t *height, bool *found)
{
    *found = false;
    MDB_txn *txn;
    int rc = store__txn_begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *cursor;
    int mrc = mdb_cursor_open(txn, s->dbi_blocks, &cursor);
    MDB_val key, value;
    if (mrc == 0) {
        mrc = mdb_cursor_get(cursor, &key, &value, op);
        mdb_cursor_close(cursor);
    }
    if (mrc == 0)
        rc = store__height_from_key(&key, height) ? 0 : STORE_E_CORRUPT;
    else if (mrc != MDB_NOTFOUND)
        rc = store__from_mdb(mrc);
    mdb_txn_abort(txn);
    *found = rc == 0 && mrc == 0;
    return rc;
}

int store_last_height(store *s, uint64_t *height, bool *has_blocks)
{
    if (s == NULL || height == NULL || has_blocks == NULL)
        return STORE_E_INVALID;
    *height = 0;
    return edge_height(s, MDB_LAST, height, has_blocks);
}

int store_block_get(store *s, uint64_t height, uint8_t **bytes, size_t *len)
{
    if (s == NULL || bytes == NULL || len == NULL)
        return STORE_E_INVALID;
    *bytes = NULL;
    *len = 0;
    MDB_txn *txn;
    int rc = store__txn_begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    uint8_t key_bytes[STORE__HEIGHT_KEY_BYTES];
    store__height_key(height, key_bytes);
    MDB_val key = {sizeof key_bytes, key_bytes}, record;
    rc = store__from_mdb(mdb_get(txn, s->dbi_blocks, &key, &record));
    const uint8_t *payload;
    size_t payload_len;
    if (rc == 0)
        rc = store__record_check(&record, &payload, &payload_len);
    if (rc == 0)
        rc = value_copy(payload, payload_len, bytes, len);
    mdb_txn_abort(txn);
    return rc;
}

/* State of a walk between chunks. */
struct walk {
    uint64_t next_height;   /* the height the next block must have */
    bool done;
};

/* Positions the cursor on the first block at or after the walk's next
 * height; the caller checks it is exactly that height. */
static int walk_position(MDB_cursor *cursor, struct walk *w, MDB_val *key, MDB_val *record)
{
    uint8_t key_bytes[STORE__HEIGHT_KEY_BYTES];
    store__height_key(w->next_height, key_bytes);
    key->mv_size = sizeof key_bytes;
    key->mv_data = key_bytes;
    int rc = mdb_cursor_get(cursor, key, record, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) {
        w->done = true;
        return 0;
    }
    return store__from_mdb(rc);
}

/* The height of the first block, or *empty. */
static int first_height(store *s, uint64_t *first, bool *empty)
{
    bool found;
    int rc = edge_height(s, MDB_FIRST, first, &found);
    *empty = rc == 0 && !found;
    return rc;
}

/* Walks up to STORE_WALK_CHUNK_BLOCKS blocks in one read transaction. */
static int walk_chunk(store *s, struct walk *w,
                      int (*check)(void *, uint64_t, const uint8_t *, size_t),
                      void *ctx, uint64_t *bad_height)
{
    MDB_txn *txn;
    int rc = store__txn_begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *cursor = NULL;
    rc = store__from_mdb(mdb_cursor_open(txn, s->dbi_blocks, &cursor));
    MDB_val key, record;
    if (rc == 0)
        rc = walk_position(cursor, w, &key, &record);
    for (unsigned n = 0; rc == 0 && !w->done && n < STORE_WALK_CHUNK_BLOCKS; n++) {
        uint64_t height;
        const uint8_t *payload;
        size_t payload_len;
        if (!store__height_from_key(&key, &height) || height != w->next_height) {
            *bad_height = w->next_height; /* malformed key or a gap */
            rc = STORE_E_CORRUPT;
            break;
        }
        if (store__record_check(&record, &payload, &payload_len) != 0) {
            *bad_height = height;
            rc = STORE_E_CORRUPT;
            break;
        }
        if (check != NULL && check(ctx, height, payload, payload_len) != 0) {
            *bad_height = height;
            rc = STORE_E_WALK_STOPPED;
            break;
        }
        w->done = height == UINT64_MAX;
        w->next_height = height + 1;
        int mrc = mdb_cursor_get(cursor, &key, &record, MDB_NEXT);
        if (mrc == MDB_NOTFOUND)
            w->done = true;
        else if (mrc != 0)
            rc = store__from_mdb(mrc);
    }
    if (cursor != NULL)
        mdb_cursor_close(cursor);
    mdb_txn_abort(txn);
    return rc;
}

int store_blocks_walk(store *s, uint64_t from_height,
                      int (*check)(void *ctx, uint64_t height,
                                   const uint8_t *bytes, size_t len),
                      void *ctx, uint64_t *bad_height)
{
    if (s == NULL)
        return STORE_E_INVALID;
    uint64_t ignored;
    if (bad_height == NULL)
        bad_height = &ignored;
    *bad_height = 0;
    /* A log may begin above from_height: the walk then starts at its first
     * block.  From there every height is pinned, so a gap anywhere (also at
     * from_height) is caught. */
    uint64_t first;
    bool empty;
    int rc = first_height(s, &first, &empty);
    if (rc != 0 || empty)
        return rc;
    struct walk w = {.next_height = from_height > first ? from_height : first};
    /* Bounded by the log: each chunk advances at least one block or ends. */
    while (rc == 0 && !w.done)
        rc = walk_chunk(s, &w, check, ctx, bad_height);
    return rc;
}

/* Looks up one key of an LMDB database and copies the value out. */
static int get_copy(store *s, MDB_dbi dbi, const void *key_bytes, size_t key_len,
                    uint8_t **value, size_t *len)
{
    MDB_txn *txn;
    int rc = store__txn_begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    MDB_val key = {key_len, (void *)key_bytes}, found;
    rc = store__from_mdb(mdb_get(txn, dbi, &key, &found));
    if (rc == 0)
        rc = value_copy(found.mv_data, found.mv_size, value, len);
    mdb_txn_abort(txn);
    return rc;
}

int store_get(store *s, unsigned table, const uint8_t *key, size_t key_len,
              uint8_t **value, size_t *len)
{
    if (s == NULL || value == NULL || len == NULL || key == NULL || key_len == 0 ||
        table >= s->tables_count)
        return STORE_E_INVALID;
    *value = NULL;
    *len = 0;
    if (key_len > STORE_KEY_MAX)
        return STORE_E_TOO_BIG;
    return get_copy(s, s->dbi_tables[table], key, key_len, value, len);
}

int store_meta_get(store *s, const char *name, uint8_t **value, size_t *len)
{
    if (s == NULL || name == NULL || value == NULL || len == NULL)
        return STORE_E_INVALID;
    *value = NULL;
    *len = 0;
    size_t name_len = strnlen(name, STORE_META_NAME_MAX + 1);
    if (name_len == 0)
        return STORE_E_INVALID;
    if (name_len > STORE_META_NAME_MAX)
        return STORE_E_TOO_BIG;
    return get_copy(s, s->dbi_meta, name, name_len, value, len);
}

/* Visits the entries from the cursor's position while keys keep the prefix. */
static int scan_from(MDB_cursor *cursor, int first_op, const uint8_t *prefix,
                     size_t prefix_len,
                     int (*visit)(void *, const uint8_t *, size_t, const uint8_t *, size_t),
                     void *ctx)
{
    MDB_val key = {prefix_len, (void *)prefix}, value;
    int mrc = mdb_cursor_get(cursor, &key, &value, first_op);
    /* Bounded by the table's entries: every turn moves the cursor on. */
    while (mrc == 0) {
        if (prefix_len > 0 &&
            (key.mv_size < prefix_len || memcmp(key.mv_data, prefix, prefix_len) != 0))
            return 0;
        int stop = visit(ctx, key.mv_data, key.mv_size, value.mv_data, value.mv_size);
        if (stop != 0)
            return stop;
        mrc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT);
    }
    return mrc == MDB_NOTFOUND ? 0 : store__from_mdb(mrc);
}

int store_scan(store *s, unsigned table, const uint8_t *prefix, size_t prefix_len,
               int (*visit)(void *ctx, const uint8_t *key, size_t key_len,
                            const uint8_t *value, size_t value_len),
               void *ctx)
{
    if (s == NULL || visit == NULL || table >= s->tables_count ||
        (prefix == NULL && prefix_len > 0))
        return STORE_E_INVALID;
    if (prefix_len > STORE_KEY_MAX)
        return STORE_E_TOO_BIG;
    MDB_txn *txn;
    int rc = store__txn_begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    MDB_cursor *cursor;
    rc = store__from_mdb(mdb_cursor_open(txn, s->dbi_tables[table], &cursor));
    if (rc == 0) {
        rc = scan_from(cursor, prefix_len > 0 ? MDB_SET_RANGE : MDB_FIRST,
                       prefix, prefix_len, visit, ctx);
        mdb_cursor_close(cursor);
    }
    mdb_txn_abort(txn);
    return rc;
}
