/*
 * keymap.h — internal: a hash table from 32-byte keys (transaction ids,
 * account keys, tx-set hashes) to pointers.  Open addressing, SipHash with a
 * per-process random key (keys come from the network: no chosen-collision
 * flooding), tombstones on delete, grows at half full.  Iteration order is
 * not deterministic: callers that need an order sort.
 */
#ifndef NANUM_KEYMAP_H
#define NANUM_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keymap_slot {
    uint8_t key[32];
    void *value; /* NULL: empty; KEYMAP_TOMBSTONE: deleted */
};

struct keymap {
    struct keymap_slot *slots;
    size_t capacity; /* power of two */
    size_t count;    /* live entries */
    size_t used;     /* live + tombstones */
};

int keymap_init(struct keymap *m);
void keymap_free(struct keymap *m);
void *keymap_get(const struct keymap *m, const uint8_t key[32]);
/* Inserts or replaces; value must not be NULL.  0 or NODE_E_NOMEM. */
int keymap_put(struct keymap *m, const uint8_t key[32], void *value);
/* Removes and returns the value, or NULL if absent. */
void *keymap_remove(struct keymap *m, const uint8_t key[32]);
/* Iteration: for (size_t i = 0; keymap_next(m, &i, &key, &value);) */
bool keymap_next(const struct keymap *m, size_t *cursor, const uint8_t **key, void **value);

#endif
