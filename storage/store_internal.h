/*
 * store_internal.h — what the files of storage/ share and nothing outside
 * sees: the store and batch structures, the LMDB error translation, the
 * transaction helper that survives MDB_MAP_RESIZED, and the map growth policy.
 *
 * Read next: store.c (open, close, errors), map.c (growth), batch.c (the
 * one-transaction commit), read.c (reads and the walk).
 */
#ifndef NANUM_STORE_INTERNAL_H
#define NANUM_STORE_INTERNAL_H

#include <lmdb.h>

#include "storage.h"

/* Bytes of a block key: the height, 8 bytes big-endian, so that LMDB's
 * byte-wise key order is height order. */
#define STORE__HEIGHT_KEY_BYTES 8

/* The store's reserved meta names start with this prefix; callers may not
 * write them. */
#define STORE__META_RESERVED_PREFIX "store_"
#define STORE__META_FORMAT_VERSION "store_format_version"

/* Internal-only result of one commit attempt: the map filled up, grow and
 * retry.  Never returned to a caller. */
#define STORE__E_RETRY_MAP_FULL 1

struct store {
    MDB_env *env;
    MDB_dbi dbi_blocks;
    MDB_dbi dbi_meta;
    MDB_dbi dbi_tables[STORE_TABLES_MAX];
    unsigned tables_count;
    char *path;                 /* the directory, for statvfs */
    unsigned page_size;         /* LMDB page size, bytes */
    uint64_t map_grow_count;    /* growths since open */
    unsigned stale_readers_cleared;
    enum store_fault fault;     /* one-shot, for tests */
    bool batch_open;            /* one batch at a time per handle */
};

/* Translates an LMDB or errno code (non-zero) into a STORE_E_* code. */
int store__from_mdb(int rc);

/* Begins a transaction (flags 0 or MDB_RDONLY).  If another process grew the
 * map (MDB_MAP_RESIZED), adopts the new size and tries again. */
int store__txn_begin(store *s, unsigned flags, MDB_txn **txn);

/* Writes height h as an 8-byte big-endian key. */
void store__height_key(uint64_t height, uint8_t key[static STORE__HEIGHT_KEY_BYTES]);

/* Reads an 8-byte big-endian block key; false if the key is malformed. */
bool store__height_from_key(const MDB_val *key, uint64_t *height);

/* Checks a block record read from LMDB (hash || payload); on success points
 * *payload and *len into it.  STORE_E_CORRUPT if short or if the hash fails. */
int store__record_check(const MDB_val *record, const uint8_t **payload, size_t *len);

/* Map growth (map.c).  store__map_reserve grows the map ahead of a commit
 * that may write about estimate_bytes; store__map_grow_after_full grows it
 * after LMDB reported MDB_MAP_FULL.  Both must be called with no transaction
 * open in this process. */
int store__map_reserve(store *s, uint64_t estimate_bytes);
int store__map_grow_after_full(store *s);

/* Map size and bytes in use (last page + 1, times page size). */
int store__map_usage(store *s, uint64_t *map_size, uint64_t *map_used);

#endif
