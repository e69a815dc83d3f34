/*
 * storage.h — nanum's durable store: an append-only block log plus state
 * tables, on LMDB.
 *
 * The store keeps bytes.  It knows nothing of sharing, transactions or
 * consensus: the caller names its state tables when it opens the store, hands
 * it opaque block bytes, and decides what a "valid chain" means (see
 * store_blocks_walk).  What the store does promise:
 *
 *   - Blocks are append-only.  Block h can be written once, only right after
 *     block h-1 (or as the first block, at any height the caller chooses when
 *     the log is empty); an attempt to overwrite or delete a block is refused
 *     with STORE_E_APPEND_ONLY and changes nothing.
 *   - One batch is one LMDB write transaction: the block, every state change
 *     and every index change of a ledger become visible together or not at
 *     all, also across a crash or power cut (durable by default: LMDB syncs on
 *     commit).
 *   - The map grows ahead of need (checking free disk first) and a commit that
 *     meets MDB_MAP_FULL is retried after growing; a commit never fails for
 *     want of map space while the disk has room.
 *   - Every block record carries a BLAKE2b-256 checksum of its bytes, checked
 *     right before writing and right after reading back.
 *   - Stale reader slots left by dead processes are cleared at open; read
 *     transactions are short (one per call) so pages are reclaimed.
 *
 * Errors are negative STORE_E_* codes (0 is success); store_strerror() and
 * store_errname() describe them.  The library never logs or exits.
 *
 * Threads: a store handle, and every batch and callback of it, is used from
 * one thread at a time.  The map is grown with mdb_env_set_mapsize(), which
 * LMDB allows only while this process has no transaction open; keeping each
 * handle on one thread is what makes that true.  Callbacks (walk, scan) run
 * inside a read transaction and must not call the store.  Other processes may
 * open the same directory (LMDB's lock file arbitrates; at most one writer).
 *
 * Read next: spec/storage.md (layout and guarantees), storage/store.c.
 */
#ifndef NANUM_STORAGE_H
#define NANUM_STORAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/* X(name, value, message) — one table yields codes, names and messages. */
#define STORE_ERRORS(X)                                                        \
    X(STORE_E_IO, -1, "I/O error from the file system or LMDB")                \
    X(STORE_E_NOMEM, -2, "out of memory")                                     \
    X(STORE_E_INVALID, -3, "invalid argument")                                \
    X(STORE_E_NOT_FOUND, -4, "no such key")                                   \
    X(STORE_E_APPEND_ONLY, -5, "the block log is append-only: refused")       \
    X(STORE_E_HEIGHT_GAP, -6, "block height does not follow the last block")  \
    X(STORE_E_CORRUPT, -7, "stored bytes fail their checksum or format")      \
    X(STORE_E_DISK_FULL, -8, "not enough free disk to grow the map")          \
    X(STORE_E_TOO_BIG, -9, "key or value over its limit")                     \
    X(STORE_E_TABLES, -10, "too many tables, or a table name is invalid")      \
    X(STORE_E_VERSION, -11, "store was written by an unknown format version")  \
    X(STORE_E_INJECTED, -12, "failure injected by a test")                    \
    X(STORE_E_BUSY, -13, "store is in use by a write batch already")           \
    X(STORE_E_WALK_STOPPED, -14, "chain walk stopped by the caller's check")

enum store_error {
#define STORE_ERROR_ENUM(name, value, message) name = value,
    STORE_ERRORS(STORE_ERROR_ENUM)
#undef STORE_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *store_strerror(int code);
/* Returns the code's name, e.g. "STORE_E_IO" (never NULL). */
const char *store_errname(int code);

/* Limits (also in spec/limits.md). */
#define STORE_TABLES_MAX 16          /* caller state tables per store */
#define STORE_TABLE_NAME_MAX 32      /* bytes, without the terminating NUL */
#define STORE_KEY_MAX 256            /* bytes; below LMDB's 511 */
#define STORE_VALUE_MAX (64u << 20)  /* bytes: one value or one block */
#define STORE_BATCH_OPS_MAX 1000000  /* puts and deletes in one batch */
/* Added with the implementation (spec/storage.md "Limits" says why): */
#define STORE_META_NAME_MAX 64       /* bytes, without the terminating NUL */
#define STORE_META_VALUE_MAX (64u << 10) /* bytes: meta values are small */
#define STORE_COMMIT_RETRIES_MAX 8   /* MAP_FULL -> grow -> retry, per commit */
#define STORE_WALK_CHUNK_BLOCKS 1000 /* blocks per read transaction in a walk */
#define STORE_MAP_SIZE_DEFAULT (64ull << 20) /* initial map when 0 is passed */
#define STORE_MAP_SIZE_MIN (64ull << 10)     /* smaller initial sizes are raised */
#define STORE_MAP_SIZE_MAX (1ull << 40)      /* 1 TiB: the map never grows past */
#define STORE_FORMAT_VERSION 1u      /* meta "store_format_version" */
#define STORE_BLOCK_HASH_BYTES 32    /* BLAKE2b-256 before each block record */

typedef struct store store;
typedef struct store_batch store_batch;

struct store_options {
    /* Initial map size in bytes; 0 means the default (64 MiB).  Tests pass a
     * tiny size to exercise growth. */
    uint64_t map_size_initial;
    /* false (the default) syncs every commit.  true skips fsync: for
     * throw-away test stores only, never for a node's data. */
    bool no_sync;
    /* Names of the caller's state tables (NUL-terminated strings, each at
     * most STORE_TABLE_NAME_MAX bytes, letters, digits and '_').  Table ids
     * used below are indexes into this array.  The names "blocks" and "meta"
     * are reserved for the store's own tables. */
    const char *const *tables;
    unsigned tables_count;
};

/*
 * Opens (creating if needed) the store in directory path, which must exist.
 * Clears stale reader slots.  On success *out owns the store; free it with
 * store_close().  If the directory holds a store of another format version,
 * returns STORE_E_VERSION.
 */
int store_open(const char *path, const struct store_options *options, store **out);

/* Closes the store; no batch may be open.  NULL is allowed. */
void store_close(store *s);

/* --- Blocks ------------------------------------------------------------- */

/* OUT *height: the height of the last block, or 0 with *has_blocks = false
 * when the log is empty. */
int store_last_height(store *s, uint64_t *height, bool *has_blocks);

/*
 * Copies block `height` into a fresh malloc'd buffer (*bytes, *len; the
 * caller frees it).  The record's checksum is verified after reading:
 * STORE_E_CORRUPT if it fails.  STORE_E_NOT_FOUND if there is no such block.
 */
int store_block_get(store *s, uint64_t height, uint8_t **bytes, size_t *len);

/*
 * Walks blocks from `from_height` to the last one in order, calling
 * check(ctx, height, bytes, len) for each, in one read transaction per
 * chunk of blocks (so a long walk does not pin old pages forever).
 * Checksums are verified before check() is called.  If check returns non-zero
 * the walk stops and store_blocks_walk returns STORE_E_WALK_STOPPED with
 * *bad_height set; a checksum failure returns STORE_E_CORRUPT with
 * *bad_height set.  Heights must be consecutive; a gap is STORE_E_CORRUPT.
 */
int store_blocks_walk(store *s, uint64_t from_height,
                      int (*check)(void *ctx, uint64_t height,
                                   const uint8_t *bytes, size_t len),
                      void *ctx, uint64_t *bad_height);

/* --- State -------------------------------------------------------------- */

/*
 * Copies the value of key in table `table` into a fresh malloc'd buffer
 * (*value, *len; the caller frees it).  STORE_E_NOT_FOUND if absent.
 */
int store_get(store *s, unsigned table, const uint8_t *key, size_t key_len,
              uint8_t **value, size_t *len);

/*
 * Visits, in key order, every entry of `table` whose key starts with
 * prefix (prefix_len may be 0: all entries).  visit returns 0 to go on,
 * non-zero to stop (then store_scan returns that value).  The bytes passed to
 * visit are valid only during the call.
 */
int store_scan(store *s, unsigned table, const uint8_t *prefix, size_t prefix_len,
               int (*visit)(void *ctx, const uint8_t *key, size_t key_len,
                            const uint8_t *value, size_t value_len),
               void *ctx);

/* The store's own meta table: small named values (name ≤ 64 bytes). */
int store_meta_get(store *s, const char *name, uint8_t **value, size_t *len);

/* --- Writing: one batch is one atomic commit ---------------------------- */

/* Starts an empty in-memory batch.  Nothing touches the disk until commit. */
int store_batch_begin(store *s, store_batch **out);

/* Adds block `height` to the batch (at most one block per batch). */
int store_batch_append_block(store_batch *b, uint64_t height,
                             const uint8_t *bytes, size_t len);

/* Adds a put (copying key and value) or a delete to the batch.
 * Added precision: an add call that fails (bad table, size over a limit, out
 * of memory) leaves the batch holding that first error; store_batch_commit()
 * then returns it and writes nothing, so a ledger is never committed in part.
 * Deleting an absent key is not an error. */
int store_batch_put(store_batch *b, unsigned table, const uint8_t *key, size_t key_len,
                    const uint8_t *value, size_t value_len);
int store_batch_delete(store_batch *b, unsigned table, const uint8_t *key, size_t key_len);
int store_batch_meta_put(store_batch *b, const char *name,
                         const uint8_t *value, size_t value_len);

/*
 * Writes the whole batch in one LMDB write transaction and commits it (with
 * fsync unless no_sync).  Either everything in the batch is visible after
 * return 0, or nothing is.  Grows the map as needed.  Frees the batch in
 * every case.  Refuses (STORE_E_APPEND_ONLY / STORE_E_HEIGHT_GAP) a block
 * that would overwrite one or leave a gap, before writing anything.
 */
int store_batch_commit(store_batch *b);

/* Drops the batch without writing anything.  NULL is allowed. */
void store_batch_abort(store_batch *b);

/* --- Operations and tests ----------------------------------------------- */

struct store_stats {
    uint64_t map_size;       /* bytes */
    uint64_t map_used;       /* bytes in use (last page × page size) */
    uint64_t blocks;         /* number of blocks */
    uint64_t map_grow_count; /* times the map grew since open */
};
int store_stats_get(store *s, struct store_stats *out);

/*
 * Fault injection for tests: the next commit fails with STORE_E_INJECTED at
 * the chosen point, inside the write transaction, which is then aborted.
 */
enum store_fault {
    STORE_FAULT_NONE = 0,
    STORE_FAULT_AFTER_BLOCK_WRITE, /* block written, state not yet */
    STORE_FAULT_BEFORE_COMMIT,     /* everything written, not committed */
    /* Added: the next map growth sees a full disk (statvfs reports no free
     * bytes), so a commit that needs growth fails with STORE_E_DISK_FULL
     * before its write transaction begins. */
    STORE_FAULT_DISK_FULL,
    /* Added: the next commit attempt ends, after writing everything, as if
     * LMDB had reported MDB_MAP_FULL; the store must grow and retry. */
    STORE_FAULT_MAP_FULL,
};
void store_fault_inject(store *s, enum store_fault fault);

/*
 * Added: the LMDB reader table, for operations and the stale-reader test.
 * slots_in_use counts reader slots held by live processes (this one's
 * included: LMDB keeps a thread's slot between read transactions);
 * stale_cleared_at_open is how many slots of dead processes store_open()
 * cleared with mdb_reader_check.
 */
struct store_reader_info {
    unsigned slots_in_use;
    unsigned stale_cleared_at_open;
};
int store_reader_info_get(store *s, struct store_reader_info *out);

#endif
