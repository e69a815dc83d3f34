/*
 * map.c — the map growth policy.  LMDB's map is a fixed-size window on the
 * data file; a write that does not fit fails with MDB_MAP_FULL.  The store
 * grows the map before a commit that could come near the end (ahead of need)
 * and again if a commit still meets MDB_MAP_FULL, checking first that the disk
 * can hold what the commit will write.
 *
 * The policy, in spec/storage.md "Map growth": grow when used + estimate would
 * pass 75% of the map; the new size is at least double, at least enough for
 * used + estimate to be 75% of it, rounded up to a whole MiB, at most
 * STORE_MAP_SIZE_MAX, and at most what the disk can back.
 *
 * Read next: batch.c, which estimates a batch and calls these.
 */
#include "store_internal.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define STORE__MIB (1ull << 20)

/* Free bytes on the store's file system for an unprivileged writer, and the
 * current length of data.mdb (the map may be larger than the file: LMDB
 * extends the file only as pages are written).  The test fault
 * STORE_FAULT_DISK_FULL makes the disk look full, once. */
static int disk_room(store *s, uint64_t *free_bytes)
{
    if (s->fault == STORE_FAULT_DISK_FULL) {
        s->fault = STORE_FAULT_NONE;
        *free_bytes = 0;
        return 0;
    }
    struct statvfs vfs;
    if (statvfs(s->path, &vfs) != 0)
        return errno == ENOMEM ? STORE_E_NOMEM : STORE_E_IO;
    *free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    return 0;
}

static int data_file_size(store *s, uint64_t *size)
{
    int fd;
    int rc = mdb_env_get_fd(s->env, &fd);
    if (rc != 0)
        return store__from_mdb(rc);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return STORE_E_IO;
    *size = (uint64_t)st.st_size;
    return 0;
}

/* Grows the map to at least `needed` bytes of room (used + estimate) and at
 * least `target` bytes, refusing with STORE_E_DISK_FULL when the disk cannot
 * hold `needed` (map_size is the present size).  A target the disk cannot back is cut down to what it can,
 * never below `needed`: the map is virtual, the disk is what must hold the
 * pages. */
static int map_grow_to(store *s, uint64_t map_size, uint64_t needed, uint64_t target)
{
    if (needed > STORE_MAP_SIZE_MAX)
        return STORE_E_DISK_FULL;
    uint64_t free_bytes = 0, file_size = 0;
    int rc = disk_room(s, &free_bytes);
    if (rc == 0)
        rc = data_file_size(s, &file_size);
    if (rc != 0)
        return rc;
    uint64_t can_back = file_size + free_bytes;
    if (needed > can_back)
        return STORE_E_DISK_FULL;
    if (target > can_back)
        target = can_back;
    if (target > STORE_MAP_SIZE_MAX)
        target = STORE_MAP_SIZE_MAX;
    if (target < needed)
        target = needed;
    /* Whole pages: LMDB counts the map in pages. */
    target -= target % s->page_size;
    if (target < needed)
        target += s->page_size;
    /* The disk cut the target below the present map, which already holds
     * `needed`: keep the map as it is rather than shrink it. */
    if (target <= map_size)
        return 0;
    rc = mdb_env_set_mapsize(s->env, (size_t)target);
    if (rc != 0)
        return store__from_mdb(rc);
    s->map_grow_count++;
    return 0;
}

/* 75% headroom: used + estimate must stay below 3/4 of the map. */
static uint64_t size_for_headroom(uint64_t bytes)
{
    uint64_t size = bytes / 3 * 4 + 4;
    return (size + STORE__MIB - 1) / STORE__MIB * STORE__MIB;
}

int store__map_reserve(store *s, uint64_t estimate_bytes)
{
    uint64_t map_size, map_used;
    int rc = store__map_usage(s, &map_size, &map_used);
    if (rc != 0)
        return rc;
    uint64_t want = map_used + estimate_bytes;
    if (want <= map_size / 4 * 3)
        return 0;
    uint64_t target = size_for_headroom(want);
    if (target < map_size * 2)
        target = map_size * 2;
    return map_grow_to(s, map_size, want, target);
}

int store__map_grow_after_full(store *s)
{
    uint64_t map_size, map_used;
    int rc = store__map_usage(s, &map_size, &map_used);
    if (rc != 0)
        return rc;
    /* The estimate fell short: LMDB needed more than the map had.  Ask the
     * disk for at least one more map's worth. */
    if (map_size >= STORE_MAP_SIZE_MAX)
        return STORE_E_DISK_FULL;
    return map_grow_to(s, map_size, map_size + s->page_size, map_size * 2);
}
