/*
 * seen.c — net__seen, a bounded set of 32-byte ids that forgets the oldest.
 *
 * Used twice: the flood seen-set (message ids, so each flooded message is
 * delivered once and relayed once) and the handshake replay cache (the
 * dialers' ephemeral keys, so a replayed first message is refused at once).
 * Ids are hashes or random keys, so their first bytes index the buckets
 * directly.  Insertion order is a ring; when it is full the oldest id is
 * unlinked from its bucket chain and its slot reused.
 *
 * Read next: net/handshake.c.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

#define SEEN_NONE UINT32_MAX

/* The bucket of an id: its first four bytes (ids are uniformly random). */
static uint32_t seen_bucket(const net__seen *seen, const uint8_t id[32])
{
    return net__get_u32(id) & (seen->bucket_count - 1);
}

/* Allocates a set for `capacity` ids with about two buckets per id.
 * 0, NET_E_INVALID (capacity 0) or NET_E_NOMEM. */
int net__seen_init(net__seen *seen, uint32_t capacity)
{
    memset(seen, 0, sizeof *seen);
    if (capacity == 0 || capacity > (1u << 28))
        return NET_E_INVALID;
    uint32_t buckets = 1;
    while (buckets < capacity * 2u)
        buckets <<= 1;
    seen->ids = malloc((size_t)capacity * sizeof *seen->ids);
    seen->chain = malloc((size_t)capacity * sizeof *seen->chain);
    seen->buckets = malloc((size_t)buckets * sizeof *seen->buckets);
    if (seen->ids == NULL || seen->chain == NULL || seen->buckets == NULL) {
        net__seen_free(seen);
        return NET_E_NOMEM;
    }
    memset(seen->buckets, 0xff, (size_t)buckets * sizeof *seen->buckets);
    seen->capacity = capacity;
    seen->bucket_count = buckets;
    return 0;
}

/* Frees the set; NULL-safe on a zeroed set. */
void net__seen_free(net__seen *seen)
{
    free(seen->ids);
    free(seen->chain);
    free(seen->buckets);
    memset(seen, 0, sizeof *seen);
}

/* True if id was inserted and not yet evicted. */
bool net__seen_contains(const net__seen *seen, const uint8_t id[32])
{
    uint32_t i = seen->buckets[seen_bucket(seen, id)];
    for (uint32_t steps = 0; i != SEEN_NONE && steps <= seen->capacity;
         steps++) {
        if (memcmp(seen->ids[i], id, 32) == 0)
            return true;
        i = seen->chain[i];
    }
    return false;
}

/* Unlinks slot i from its bucket chain (it is about to be reused). */
static void seen_unlink(net__seen *seen, uint32_t i)
{
    uint32_t *link = &seen->buckets[seen_bucket(seen, seen->ids[i])];
    while (*link != SEEN_NONE) {
        if (*link == i) {
            *link = seen->chain[i];
            return;
        }
        link = &seen->chain[*link];
    }
}

/* Inserts id, evicting the oldest when full.  False if already present. */
bool net__seen_insert(net__seen *seen, const uint8_t id[32])
{
    if (net__seen_contains(seen, id))
        return false;
    uint32_t i = seen->next;
    if (seen->count == seen->capacity)
        seen_unlink(seen, i);
    else
        seen->count++;
    memcpy(seen->ids[i], id, 32);
    uint32_t b = seen_bucket(seen, id);
    seen->chain[i] = seen->buckets[b];
    seen->buckets[b] = i;
    seen->next = (i + 1) % seen->capacity;
    return true;
}
