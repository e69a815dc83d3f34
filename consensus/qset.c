/*
 * qset.c — quorum sets: sanity checks, canonical encoding and hash, deep
 * copies, and the two predicates federated voting is built on (a slice is
 * satisfied; a set is v-blocking), plus node weights for nomination.
 * Read consensus.h § quorum sets first; slot.c uses these predicates.
 */
#include <stdlib.h>

#include "scp_internal.h"

/* ---- sanity ------------------------------------------------------------ */

struct qset_census {
    size_t nodes;
    size_t sets;
    const uint8_t (*seen[SCP_QSET_NODES_MAX])[SCP_NODE_ID_BYTES];
};

/* Counts nodes and checks thresholds, duplicates, depth and size. */
static int census_add(struct qset_census *census, const struct scp_qset *qset,
                      int depth)
{
    if (depth > SCP_QSET_DEPTH_MAX)
        return SCP_E_QSET_DEPTH;
    uint64_t entries = (uint64_t)qset->validators_count + qset->inner_count;
    if (entries > SCP_QSET_ENTRIES_MAX)
        return SCP_E_QSET_SIZE;
    if (qset->threshold < 1 || qset->threshold > entries)
        return SCP_E_QSET_THRESHOLD;
    if ((qset->validators_count && !qset->validators) ||
        (qset->inner_count && !qset->inner))
        return SCP_E_INVALID_ARGUMENT;
    census->sets++;
    for (uint32_t i = 0; i < qset->validators_count; i++) {
        if (census->nodes >= SCP_QSET_NODES_MAX)
            return SCP_E_QSET_SIZE;
        for (size_t j = 0; j < census->nodes; j++)
            if (scp__id_equal(*census->seen[j], qset->validators[i]))
                return SCP_E_QSET_DUPLICATE;
        census->seen[census->nodes++] = &qset->validators[i];
    }
    for (uint32_t i = 0; i < qset->inner_count; i++) {
        int rc = census_add(census, &qset->inner[i], depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Promises 0 only for a sane set: thresholds in 1..entries at every level,
 * no node twice anywhere, depth and size within the limits. */
int scp_qset_check(const struct scp_qset *qset)
{
    if (qset == NULL)
        return SCP_E_INVALID_ARGUMENT;
    struct qset_census *census = calloc(1, sizeof *census);
    if (census == NULL)
        return SCP_E_NO_MEMORY;
    int rc = census_add(census, qset, 1);
    free(census);
    return rc;
}

/* ---- encoding ---------------------------------------------------------- */

/* Packs [threshold, [ids], [inner]] recursively. */
static int pack_qset(msgpack_packer *pk, const struct scp_qset *qset, int depth)
{
    if (depth > SCP_QSET_DEPTH_MAX)
        return SCP_E_QSET_DEPTH;
    msgpack_pack_array(pk, 3);
    msgpack_pack_uint32(pk, qset->threshold);
    msgpack_pack_array(pk, qset->validators_count);
    for (uint32_t i = 0; i < qset->validators_count; i++) {
        msgpack_pack_bin(pk, SCP_NODE_ID_BYTES);
        msgpack_pack_bin_body(pk, qset->validators[i], SCP_NODE_ID_BYTES);
    }
    msgpack_pack_array(pk, qset->inner_count);
    for (uint32_t i = 0; i < qset->inner_count; i++) {
        int rc = pack_qset(pk, &qset->inner[i], depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Promises the canonical bytes [threshold, [id...], [inner...]] of a sane
 * set; validators keep their order (the order is part of the hash). */
int scp_qset_encode(const struct scp_qset *qset, uint8_t *out, size_t capacity,
                    size_t *size_out)
{
    int rc = scp_qset_check(qset);
    if (rc)
        return rc;
    struct scp__writer w;
    msgpack_packer pk;
    scp__writer_init(&w, &pk, out, capacity);
    rc = pack_qset(&pk, qset, 1);
    if (rc)
        return rc;
    if (w.overflow)
        return SCP_E_BUFFER_TOO_SMALL;
    *size_out = w.size;
    return 0;
}

/* Promises the driver's hash of the canonical encoding; every caller has
 * checked the set, so scp_qset_hash cannot fail but for memory, in which
 * case the hash of nothing is used (and no statement will match it). */
void scp__qset_hash(const struct scp_driver *driver, const struct scp_qset *qset,
                    uint8_t out[SCP_HASH_BYTES])
{
    if (scp_qset_hash(driver, qset, out) != 0)
        driver->hash(driver->ctx, (const uint8_t *)"", 0, out);
}

/* Promises the hash statements carry for a sane set, or an error. */
int scp_qset_hash(const struct scp_driver *driver, const struct scp_qset *qset,
                  uint8_t out[SCP_HASH_BYTES])
{
    if (driver == NULL || driver->hash == NULL)
        return SCP_E_INVALID_ARGUMENT;
    int rc = scp_qset_check(qset);
    if (rc)
        return rc;
    uint8_t *buffer = malloc(SCP_QSET_ENCODED_BYTES_MAX);
    size_t size = 0;
    if (buffer == NULL)
        return SCP_E_NO_MEMORY;
    rc = scp_qset_encode(qset, buffer, SCP_QSET_ENCODED_BYTES_MAX, &size);
    if (rc == 0)
        driver->hash(driver->ctx, buffer, size, out);
    free(buffer);
    return rc;
}

/* ---- copies: one heap block per tree ------------------------------------ */

struct qset_arena {
    struct scp_qset *sets;
    size_t sets_used;
    uint8_t (*ids)[SCP_NODE_ID_BYTES];
    size_t ids_used;
};

/* Adds the inner sets and validators below qset to the counts. */
static void count_tree(const struct scp_qset *qset, size_t *sets, size_t *ids)
{
    *sets += qset->inner_count;
    *ids += qset->validators_count;
    for (uint32_t i = 0; i < qset->inner_count; i++)
        count_tree(&qset->inner[i], sets, ids);
}

/* Deep-copies src into dst using the arena's preallocated space. */
static void copy_tree(struct qset_arena *arena, struct scp_qset *dst,
                      const struct scp_qset *src)
{
    dst->threshold = src->threshold;
    dst->validators_count = src->validators_count;
    dst->inner_count = src->inner_count;
    uint8_t (*ids)[SCP_NODE_ID_BYTES] = arena->ids + arena->ids_used;
    arena->ids_used += src->validators_count;
    if (src->validators_count)
        memcpy(ids, src->validators, (size_t)src->validators_count * SCP_NODE_ID_BYTES);
    dst->validators = (const uint8_t(*)[SCP_NODE_ID_BYTES])ids;
    struct scp_qset *inner = arena->sets + arena->sets_used;
    arena->sets_used += src->inner_count;
    dst->inner = inner;
    for (uint32_t i = 0; i < src->inner_count; i++)
        copy_tree(arena, &inner[i], &src->inner[i]);
}

/* Promises a sane deep copy in one block, freed by scp_qset_free. */
int scp_qset_clone(const struct scp_qset *qset, struct scp_qset **out)
{
    *out = NULL;
    int rc = scp_qset_check(qset);
    if (rc)
        return rc;
    size_t sets = 1, ids = 0;
    count_tree(qset, &sets, &ids);
    size_t bytes = sets * sizeof(struct scp_qset) + ids * SCP_NODE_ID_BYTES;
    struct scp_qset *block = malloc(bytes);
    if (block == NULL)
        return SCP_E_NO_MEMORY;
    struct qset_arena arena = {
        .sets = block, .sets_used = 1,
        .ids = (uint8_t(*)[SCP_NODE_ID_BYTES])(block + sets), .ids_used = 0,
    };
    copy_tree(&arena, block, qset);
    *out = block;
    return 0;
}

/* Promises to free a block from scp_qset_clone/decode; NULL is a no-op. */
void scp_qset_free(struct scp_qset *qset)
{
    free(qset);
}

/* Walks a decoded object into a temporary tree of the same shape, checking
 * types and limits; the tree points into the msgpack zone. */
static int walk_qset(const msgpack_object *o, struct scp_qset *dst, int depth,
                     struct scp_qset *pool, size_t *pool_used, size_t pool_max)
{
    uint64_t threshold;
    if (depth > SCP_QSET_DEPTH_MAX)
        return SCP_E_QSET_DEPTH;
    if (!scp__obj_array(o, 3) || !scp__obj_uint(&o->via.array.ptr[0], UINT32_MAX, &threshold))
        return SCP_E_DECODE;
    const msgpack_object *ids = &o->via.array.ptr[1];
    const msgpack_object *inner = &o->via.array.ptr[2];
    if (ids->type != MSGPACK_OBJECT_ARRAY || inner->type != MSGPACK_OBJECT_ARRAY)
        return SCP_E_DECODE;
    if (ids->via.array.size > SCP_QSET_NODES_MAX || inner->via.array.size > SCP_QSET_ENTRIES_MAX)
        return SCP_E_QSET_SIZE;
    for (uint32_t i = 0; i < ids->via.array.size; i++) {
        const msgpack_object *id = &ids->via.array.ptr[i];
        if (id->type != MSGPACK_OBJECT_BIN || id->via.bin.size != SCP_NODE_ID_BYTES)
            return SCP_E_DECODE;
    }
    dst->threshold = (uint32_t)threshold;
    dst->validators_count = ids->via.array.size;
    /* msgpack_object bins are not contiguous: copy_tree reads them below. */
    dst->validators = NULL;
    dst->inner_count = inner->via.array.size;
    if (*pool_used + inner->via.array.size > pool_max)
        return SCP_E_QSET_SIZE;
    struct scp_qset *children = pool + *pool_used;
    *pool_used += inner->via.array.size;
    dst->inner = children;
    for (uint32_t i = 0; i < inner->via.array.size; i++) {
        int rc = walk_qset(&inner->via.array.ptr[i], &children[i], depth + 1,
                           pool, pool_used, pool_max);
        if (rc)
            return rc;
    }
    return 0;
}

/* Fills validator ids of a walked tree from the object tree into a flat
 * array so that scp_qset_clone can copy it. */
static void fill_ids(const msgpack_object *o, struct scp_qset *dst,
                     uint8_t (*ids)[SCP_NODE_ID_BYTES], size_t *ids_used)
{
    const msgpack_object *list = &o->via.array.ptr[1];
    uint8_t (*mine)[SCP_NODE_ID_BYTES] = ids + *ids_used;
    for (uint32_t i = 0; i < list->via.array.size; i++)
        memcpy(mine[i], list->via.array.ptr[i].via.bin.ptr, SCP_NODE_ID_BYTES);
    *ids_used += list->via.array.size;
    dst->validators = (const uint8_t(*)[SCP_NODE_ID_BYTES])mine;
    const msgpack_object *inner = &o->via.array.ptr[2];
    for (uint32_t i = 0; i < inner->via.array.size; i++)
        fill_ids(&inner->via.array.ptr[i], (struct scp_qset *)&dst->inner[i], ids, ids_used);
}

/* Builds, checks and re-encodes a decoded quorum set (canonical check). */
static int decode_walked(const msgpack_object *root, const uint8_t *data,
                         size_t size, struct scp_qset **out)
{
    const size_t pool_max = SCP_QSET_ENTRIES_MAX * 2;
    struct scp_qset *pool = calloc(pool_max + 1, sizeof *pool);
    uint8_t (*ids)[SCP_NODE_ID_BYTES] = malloc((size_t)SCP_QSET_NODES_MAX * 4 * SCP_NODE_ID_BYTES);
    size_t pool_used = 1, ids_used = 0;
    int rc = (pool && ids) ? 0 : SCP_E_NO_MEMORY;
    if (rc == 0)
        rc = walk_qset(root, &pool[0], 1, pool, &pool_used, pool_max);
    if (rc == 0) {
        size_t total = 0, sets = 0;
        count_tree(&pool[0], &sets, &total);
        rc = total > SCP_QSET_NODES_MAX ? SCP_E_QSET_SIZE : 0;
    }
    if (rc == 0) {
        fill_ids(root, &pool[0], ids, &ids_used);
        rc = scp_qset_clone(&pool[0], out);
    }
    if (rc == 0) {
        uint8_t *again = malloc(size);
        size_t again_size = 0;
        if (again == NULL)
            rc = SCP_E_NO_MEMORY;
        else if (scp_qset_encode(*out, again, size, &again_size) != 0 ||
                 again_size != size || memcmp(again, data, size) != 0)
            rc = SCP_E_NON_CANONICAL;
        free(again);
        if (rc) {
            scp_qset_free(*out);
            *out = NULL;
        }
    }
    free(pool);
    free(ids);
    return rc;
}

/* Promises a sane, canonically encoded set or an error and *out NULL. */
int scp_qset_decode(const uint8_t *data, size_t size, struct scp_qset **out)
{
    *out = NULL;
    if (data == NULL || size == 0 || size > SCP_QSET_ENCODED_BYTES_MAX)
        return size > SCP_QSET_ENCODED_BYTES_MAX ? SCP_E_LIMIT : SCP_E_DECODE;
    int rc = scp__msgpack_precheck(data, size, SCP_MSGPACK_DEPTH_MAX);
    if (rc)
        return rc;
    msgpack_unpacked result;
    rc = scp__msgpack_unpack(data, size, &result);
    if (rc)
        return rc;
    rc = decode_walked(&result.data, data, size, out);
    msgpack_unpacked_destroy(&result);
    return rc;
}

/* ---- predicates --------------------------------------------------------- */

/* Promises: true when threshold entries of qset are members or inner sets
 * with a satisfied slice (draft § quorum slices). */
bool scp__slice_satisfied(const struct scp_qset *qset, scp__member_fn member,
                          const void *arg)
{
    uint32_t needed = qset->threshold;
    uint32_t left = qset->validators_count + qset->inner_count;
    if (needed == 0)
        return true;
    for (uint32_t i = 0; i < qset->validators_count; i++, left--) {
        if (member(arg, qset->validators[i]) && --needed == 0)
            return true;
        if (left - 1 < needed)
            return false;
    }
    for (uint32_t i = 0; i < qset->inner_count; i++, left--) {
        if (scp__slice_satisfied(&qset->inner[i], member, arg) && --needed == 0)
            return true;
        if (left - 1 < needed)
            return false;
    }
    return false;
}

/* Promises: true when the members meet every slice, i.e. more than
 * entries - threshold entries are blocked (draft § v-blocking). */
bool scp__vblocking(const struct scp_qset *qset, scp__member_fn member,
                    const void *arg)
{
    if (qset->threshold == 0)
        return false;
    uint32_t entries = qset->validators_count + qset->inner_count;
    uint32_t needed = entries - qset->threshold + 1;
    for (uint32_t i = 0; i < qset->validators_count; i++)
        if (member(arg, qset->validators[i]) && --needed == 0)
            return true;
    for (uint32_t i = 0; i < qset->inner_count; i++)
        if (scp__vblocking(&qset->inner[i], member, arg) && --needed == 0)
            return true;
    return false;
}

/* Promises: true when id appears anywhere in qset. */
bool scp__qset_contains(const struct scp_qset *qset,
                        const uint8_t id[SCP_NODE_ID_BYTES])
{
    for (uint32_t i = 0; i < qset->validators_count; i++)
        if (scp__id_equal(qset->validators[i], id))
            return true;
    for (uint32_t i = 0; i < qset->inner_count; i++)
        if (scp__qset_contains(&qset->inner[i], id))
            return true;
    return false;
}

struct id_list {
    const uint8_t (*nodes)[SCP_NODE_ID_BYTES];
    size_t count;
};

/* Membership in an explicit id list. */
static bool in_list(const void *arg, const uint8_t id[SCP_NODE_ID_BYTES])
{
    const struct id_list *list = arg;
    for (size_t i = 0; i < list->count; i++)
        if (scp__id_equal(list->nodes[i], id))
            return true;
    return false;
}

/* Promises the slice test over an explicit list of nodes. */
bool scp_qset_is_slice_satisfied(const struct scp_qset *qset,
                                 const uint8_t (*nodes)[SCP_NODE_ID_BYTES],
                                 size_t count)
{
    struct id_list list = {nodes, count};
    return scp__slice_satisfied(qset, in_list, &list);
}

/* Promises the v-blocking test over an explicit list of nodes. */
bool scp_qset_is_vblocking(const struct scp_qset *qset,
                           const uint8_t (*nodes)[SCP_NODE_ID_BYTES],
                           size_t count)
{
    struct id_list list = {nodes, count};
    return scp__vblocking(qset, in_list, &list);
}

/* Promises weight = (2^64 - 1) * Π threshold/entries along the path to the
 * node's first occurrence, 0 when absent (draft § nomination, weight). */
uint64_t scp_qset_node_weight(const struct scp_qset *qset,
                              const uint8_t node_id[SCP_NODE_ID_BYTES])
{
    uint64_t entries = (uint64_t)qset->validators_count + qset->inner_count;
    if (entries == 0)
        return 0;
    for (uint32_t i = 0; i < qset->validators_count; i++)
        if (scp__id_equal(qset->validators[i], node_id))
            return (uint64_t)(((unsigned __int128)UINT64_MAX * qset->threshold) / entries);
    for (uint32_t i = 0; i < qset->inner_count; i++) {
        uint64_t w = scp_qset_node_weight(&qset->inner[i], node_id);
        if (w)
            return (uint64_t)(((unsigned __int128)w * qset->threshold) / entries);
    }
    return 0;
}
