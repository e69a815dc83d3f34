/*
 * keymap.c — the 32-byte-key hash table of node/ledger/ledger.h.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "protocol.h"

static char tombstone;
#define KEYMAP_TOMBSTONE ((void *)&tombstone)

static uint8_t hash_key[crypto_shorthash_KEYBYTES];
static bool hash_key_ready;

static size_t slot_of(const struct keymap *m, const uint8_t key[32])
{
    uint8_t out[crypto_shorthash_BYTES];
    uint64_t h;
    crypto_shorthash(out, key, 32, hash_key);
    memcpy(&h, out, sizeof h);
    return (size_t)h & (m->capacity - 1);
}

static int alloc_slots(struct keymap *m, size_t capacity)
{
    m->slots = calloc(capacity, sizeof *m->slots);
    if (m->slots == NULL)
        return NODE_E_NOMEM;
    m->capacity = capacity;
    m->count = 0;
    m->used = 0;
    return 0;
}

int keymap_init(struct keymap *m)
{
    if (node_crypto_init() != 0)
        return NODE_E_INVALID;
    if (!hash_key_ready) {
        crypto_shorthash_keygen(hash_key);
        hash_key_ready = true;
    }
    return alloc_slots(m, 64);
}

void keymap_free(struct keymap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static struct keymap_slot *find(const struct keymap *m, const uint8_t key[32])
{
    size_t mask = m->capacity - 1;
    for (size_t i = slot_of(m, key), probes = 0; probes < m->capacity; i = (i + 1) & mask, probes++) {
        struct keymap_slot *s = &m->slots[i];
        if (s->value == NULL)
            return NULL;
        if (s->value != KEYMAP_TOMBSTONE && memcmp(s->key, key, 32) == 0)
            return s;
    }
    return NULL;
}

void *keymap_get(const struct keymap *m, const uint8_t key[32])
{
    struct keymap_slot *s = find(m, key);
    return s ? s->value : NULL;
}

static int rehash(struct keymap *m, size_t capacity)
{
    struct keymap old = *m;
    if (alloc_slots(m, capacity) != 0) {
        *m = old;
        return NODE_E_NOMEM;
    }
    for (size_t i = 0; i < old.capacity; i++)
        if (old.slots[i].value != NULL && old.slots[i].value != KEYMAP_TOMBSTONE)
            keymap_put(m, old.slots[i].key, old.slots[i].value);
    free(old.slots);
    return 0;
}

int keymap_put(struct keymap *m, const uint8_t key[32], void *value)
{
    struct keymap_slot *existing = find(m, key);
    if (existing != NULL) {
        existing->value = value;
        return 0;
    }
    if ((m->used + 1) * 2 > m->capacity) {
        size_t capacity = (m->count + 1) * 4 > m->capacity ? m->capacity * 2 : m->capacity;
        if (rehash(m, capacity) != 0)
            return NODE_E_NOMEM;
    }
    size_t mask = m->capacity - 1;
    for (size_t i = slot_of(m, key);; i = (i + 1) & mask) {
        struct keymap_slot *s = &m->slots[i];
        if (s->value == NULL || s->value == KEYMAP_TOMBSTONE) {
            if (s->value == NULL)
                m->used++;
            memcpy(s->key, key, 32);
            s->value = value;
            m->count++;
            return 0;
        }
    }
}

void *keymap_remove(struct keymap *m, const uint8_t key[32])
{
    struct keymap_slot *s = find(m, key);
    if (s == NULL)
        return NULL;
    void *value = s->value;
    s->value = KEYMAP_TOMBSTONE;
    m->count--;
    return value;
}

bool keymap_next(const struct keymap *m, size_t *cursor, const uint8_t **key, void **value)
{
    while (*cursor < m->capacity) {
        struct keymap_slot *s = &m->slots[(*cursor)++];
        if (s->value != NULL && s->value != KEYMAP_TOMBSTONE) {
            *key = s->key;
            *value = s->value;
            return true;
        }
    }
    return false;
}
