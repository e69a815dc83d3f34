/*
 * store.c — opening and closing a store, the error table, and the small
 * helpers every other file of storage/ uses: LMDB error translation, the
 * transaction begin that survives another process growing the map, block keys
 * and the block record check.
 *
 * A store is one LMDB environment in a directory (data.mdb and lock.mdb) with
 * named databases "blocks", "meta" and one per caller table.  The format
 * version lives in meta; spec/storage.md describes every byte.
 *
 * Read next: batch.c (writing), read.c (reading), map.c (map growth).
 */
#include "store_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

/* Attempts at a transaction begin that meets MDB_MAP_RESIZED: after adopting
 * the new size once, a second MDB_MAP_RESIZED means another process grew the
 * map again in between; more than a few in a row is not a race but a bug. */
#define STORE__TXN_BEGIN_TRIES_MAX 4

const char *store_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define STORE_ERROR_MESSAGE(name, value, message) case name: return message;
        STORE_ERRORS(STORE_ERROR_MESSAGE)
#undef STORE_ERROR_MESSAGE
    default:
        return "unknown store error code";
    }
}

const char *store_errname(int code)
{
    switch (code) {
    case 0:
        return "STORE_OK";
#define STORE_ERROR_NAME(name, value, message) case name: return #name;
        STORE_ERRORS(STORE_ERROR_NAME)
#undef STORE_ERROR_NAME
    default:
        return "STORE_E_UNKNOWN";
    }
}

/* Every LMDB and errno code the store can meet maps to the nearest STORE_E_*
 * code; the rest is STORE_E_IO, which is what an unknown failure of the
 * storage layer is. */
int store__from_mdb(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return STORE_E_NOT_FOUND;
    case MDB_KEYEXIST:
        return STORE_E_APPEND_ONLY;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_BAD_DBI:
    case MDB_INCOMPATIBLE:
        return STORE_E_CORRUPT;
    case MDB_VERSION_MISMATCH:
        return STORE_E_VERSION;
    case MDB_BAD_VALSIZE:
    case MDB_TXN_FULL: /* more dirty pages than one transaction may hold */
        return STORE_E_TOO_BIG;
    case MDB_DBS_FULL:
        return STORE_E_TABLES;
    case MDB_READERS_FULL:
    case MDB_BAD_RSLOT:
        return STORE_E_BUSY;
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
        return STORE_E_DISK_FULL;
    case ENOMEM:
        return STORE_E_NOMEM;
    case EINVAL:
        return STORE_E_INVALID;
    default:
        return STORE_E_IO;
    }
}

int store__txn_begin(store *s, unsigned flags, MDB_txn **txn)
{
    for (int attempt = 0; attempt < STORE__TXN_BEGIN_TRIES_MAX; attempt++) {
        int rc = mdb_txn_begin(s->env, NULL, flags, txn);
        if (rc != MDB_MAP_RESIZED)
            return store__from_mdb(rc);
        /* Another process grew the map past ours: adopt its size (0 means
         * "the size recorded in the environment").  No transaction of ours
         * is open here, which mdb_env_set_mapsize requires. */
        rc = mdb_env_set_mapsize(s->env, 0);
        if (rc != 0)
            return store__from_mdb(rc);
    }
    return STORE_E_BUSY;
}

void store__height_key(uint64_t height, uint8_t key[static STORE__HEIGHT_KEY_BYTES])
{
    for (int i = STORE__HEIGHT_KEY_BYTES - 1; i >= 0; i--) {
        key[i] = (uint8_t)(height & 0xffu);
        height >>= 8;
    }
}

bool store__height_from_key(const MDB_val *key, uint64_t *height)
{
    if (key->mv_size != STORE__HEIGHT_KEY_BYTES)
        return false;
    const uint8_t *p = key->mv_data;
    uint64_t h = 0;
    for (int i = 0; i < STORE__HEIGHT_KEY_BYTES; i++)
        h = (h << 8) | p[i];
    *height = h;
    return true;
}

/* A record is hash(payload) || payload; a record that is too short or whose
 * hash does not match its payload is corrupt, whatever else it holds. */
int store__record_check(const MDB_val *record, const uint8_t **payload, size_t *len)
{
    if (record->mv_size <= STORE_BLOCK_HASH_BYTES)
        return STORE_E_CORRUPT;
    const uint8_t *bytes = record->mv_data;
    size_t payload_len = record->mv_size - STORE_BLOCK_HASH_BYTES;
    uint8_t hash[STORE_BLOCK_HASH_BYTES];
    crypto_generichash(hash, sizeof hash, bytes + STORE_BLOCK_HASH_BYTES,
                       payload_len, NULL, 0);
    if (sodium_memcmp(hash, bytes, sizeof hash) != 0)
        return STORE_E_CORRUPT;
    *payload = bytes + STORE_BLOCK_HASH_BYTES;
    *len = payload_len;
    return 0;
}

/* Table names are 1..STORE_TABLE_NAME_MAX bytes of [A-Za-z0-9_], not one of
 * the store's own names, and not repeated. */
static int tables_validate(const struct store_options *o)
{
    if (o->tables_count > STORE_TABLES_MAX)
        return STORE_E_TABLES;
    if (o->tables_count > 0 && o->tables == NULL)
        return STORE_E_INVALID;
    for (unsigned i = 0; i < o->tables_count; i++) {
        const char *name = o->tables[i];
        if (name == NULL)
            return STORE_E_TABLES;
        size_t n = strnlen(name, STORE_TABLE_NAME_MAX + 1);
        if (n == 0 || n > STORE_TABLE_NAME_MAX)
            return STORE_E_TABLES;
        for (size_t k = 0; k < n; k++) {
            char c = name[k];
            bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_';
            if (!ok)
                return STORE_E_TABLES;
        }
        if (strcmp(name, "blocks") == 0 || strcmp(name, "meta") == 0)
            return STORE_E_TABLES;
        for (unsigned j = 0; j < i; j++)
            if (strcmp(name, o->tables[j]) == 0)
                return STORE_E_TABLES;
    }
    return 0;
}

/* Reads the format version in meta, or writes it into a fresh store.  A meta
 * table that holds entries but no version was not written by this store. */
static int format_version_settle(store *s, MDB_txn *txn)
{
    MDB_val key = {strlen(STORE__META_FORMAT_VERSION), STORE__META_FORMAT_VERSION};
    MDB_val value;
    int rc = mdb_get(txn, s->dbi_meta, &key, &value);
    if (rc == 0) {
        if (value.mv_size != 4)
            return STORE_E_CORRUPT;
        const uint8_t *p = value.mv_data;
        uint32_t version = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
                           ((uint32_t)p[2] << 8) | p[3];
        return version == STORE_FORMAT_VERSION ? 0 : STORE_E_VERSION;
    }
    if (rc != MDB_NOTFOUND)
        return store__from_mdb(rc);
    MDB_stat meta_stat, blocks_stat;
    rc = mdb_stat(txn, s->dbi_meta, &meta_stat);
    if (rc == 0)
        rc = mdb_stat(txn, s->dbi_blocks, &blocks_stat);
    if (rc != 0)
        return store__from_mdb(rc);
    if (meta_stat.ms_entries != 0 || blocks_stat.ms_entries != 0)
        return STORE_E_CORRUPT;
    uint8_t be[4] = {0, 0, 0, (uint8_t)STORE_FORMAT_VERSION};
    MDB_val put = {sizeof be, be};
    return store__from_mdb(mdb_put(txn, s->dbi_meta, &key, &put, 0));
}

/* Opens (creating) every named database and settles the format version, in
 * one write transaction: a store is either fully initialised or untouched. */
static int databases_open(store *s, const struct store_options *o)
{
    MDB_txn *txn;
    int rc = store__txn_begin(s, 0, &txn);
    if (rc != 0)
        return rc;
    int mrc = mdb_dbi_open(txn, "blocks", MDB_CREATE, &s->dbi_blocks);
    if (mrc == 0)
        mrc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->dbi_meta);
    for (unsigned i = 0; mrc == 0 && i < o->tables_count; i++)
        mrc = mdb_dbi_open(txn, o->tables[i], MDB_CREATE, &s->dbi_tables[i]);
    rc = store__from_mdb(mrc);
    if (rc == 0)
        rc = format_version_settle(s, txn);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return store__from_mdb(mdb_txn_commit(txn));
}

/* Creates the LMDB environment: sized for our databases, durable unless the
 * caller asked for no_sync, map size from the options only for a new store
 * (an existing one keeps the size recorded in it, which may have grown). */
static int env_open(store *s, const struct store_options *o)
{
    int rc = mdb_env_create(&s->env);
    if (rc != 0) {
        s->env = NULL;
        return store__from_mdb(rc);
    }
    rc = mdb_env_set_maxdbs(s->env, 2 + o->tables_count);
    size_t data_path_len = strlen(s->path) + sizeof "/data.mdb";
    char *data_path = malloc(data_path_len);
    if (data_path == NULL)
        return STORE_E_NOMEM;
    snprintf(data_path, data_path_len, "%s/data.mdb", s->path);
    struct stat st;
    bool exists = stat(data_path, &st) == 0;
    free(data_path);
    if (rc == 0 && !exists) {
        uint64_t size = o->map_size_initial ? o->map_size_initial : STORE_MAP_SIZE_DEFAULT;
        if (size < STORE_MAP_SIZE_MIN)
            size = STORE_MAP_SIZE_MIN;
        if (size > STORE_MAP_SIZE_MAX)
            size = STORE_MAP_SIZE_MAX;
        rc = mdb_env_set_mapsize(s->env, (size_t)size);
    }
    unsigned flags = o->no_sync ? (MDB_NOSYNC | MDB_NOMETASYNC) : 0;
    if (rc == 0)
        rc = mdb_env_open(s->env, s->path, flags, 0600);
    if (rc != 0)
        return store__from_mdb(rc);
    MDB_stat st_env;
    rc = mdb_env_stat(s->env, &st_env);
    if (rc != 0)
        return store__from_mdb(rc);
    s->page_size = st_env.ms_psize;
    int dead = 0;
    rc = mdb_reader_check(s->env, &dead);
    if (rc != 0)
        return store__from_mdb(rc);
    s->stale_readers_cleared = (unsigned)dead;
    return 0;
}

int store_open(const char *path, const struct store_options *options, store **out)
{
    static const struct store_options no_options = {0};
    if (path == NULL || out == NULL)
        return STORE_E_INVALID;
    *out = NULL;
    const struct store_options *o = options ? options : &no_options;
    int rc = tables_validate(o);
    if (rc != 0)
        return rc;
    if (sodium_init() < 0)
        return STORE_E_IO;
    store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return STORE_E_NOMEM;
    s->path = strdup(path);
    s->tables_count = o->tables_count;
    rc = s->path ? env_open(s, o) : STORE_E_NOMEM;
    if (rc == 0)
        rc = databases_open(s, o);
    if (rc != 0) {
        store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    if (s->env != NULL)
        mdb_env_close(s->env);
    free(s->path);
    free(s);
}

int store__map_usage(store *s, uint64_t *map_size, uint64_t *map_used)
{
    MDB_envinfo info;
    int rc = mdb_env_info(s->env, &info);
    if (rc != 0)
        return store__from_mdb(rc);
    *map_size = info.me_mapsize;
    *map_used = ((uint64_t)info.me_last_pgno + 1) * s->page_size;
    return 0;
}

int store_stats_get(store *s, struct store_stats *out)
{
    if (s == NULL || out == NULL)
        return STORE_E_INVALID;
    memset(out, 0, sizeof *out);
    int rc = store__map_usage(s, &out->map_size, &out->map_used);
    if (rc != 0)
        return rc;
    out->map_grow_count = s->map_grow_count;
    MDB_txn *txn;
    rc = store__txn_begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return rc;
    MDB_stat st;
    rc = store__from_mdb(mdb_stat(txn, s->dbi_blocks, &st));
    mdb_txn_abort(txn);
    if (rc == 0)
        out->blocks = st.ms_entries;
    return rc;
}

/* mdb_reader_list calls back once with a header line, then once per slot in
 * use, or once with "(no active readers)". */
static int reader_line_count(const char *msg, void *ctx)
{
    unsigned *count = ctx;
    if (strstr(msg, "pid") == NULL && strstr(msg, "no active readers") == NULL)
        (*count)++;
    return 0;
}

int store_reader_info_get(store *s, struct store_reader_info *out)
{
    if (s == NULL || out == NULL)
        return STORE_E_INVALID;
    unsigned count = 0;
    int rc = mdb_reader_list(s->env, reader_line_count, &count);
    if (rc < 0)
        return store__from_mdb(rc);
    out->slots_in_use = count;
    out->stale_cleared_at_open = s->stale_readers_cleared;
    return 0;
}

void store_fault_inject(store *s, enum store_fault fault)
{
    if (s != NULL)
        s->fault = fault;
}
