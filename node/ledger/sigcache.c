/*
 * sigcache.c — a bounded FIFO set of verified (transaction id, signature)
 * pairs; see sigcache.h.
 *
 * Read next: node/ledger/mempool.c (admission), node/daemon/herder.c (tx-set validity).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "protocol.h"
#include "ledger.h"

int node_sigcache_init(struct node_sigcache *c, size_t capacity)
{
    memset(c, 0, sizeof *c);
    c->capacity = capacity > 0 ? capacity : 1;
    c->ring = calloc(c->capacity, sizeof *c->ring);
    if (c->ring == NULL || keymap_init(&c->set) != 0) {
        free(c->ring);
        c->ring = NULL;
        return NODE_E_NOMEM;
    }
    return 0;
}

void node_sigcache_free(struct node_sigcache *c)
{
    if (c->ring != NULL)
        keymap_free(&c->set);
    free(c->ring);
    memset(c, 0, sizeof *c);
}

static void entry_of(const struct node_tx_envelope *env, const uint8_t id[NODE_HASH_BYTES],
                     uint8_t entry[32])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, 32);
    crypto_generichash_update(&h, id, NODE_HASH_BYTES);
    crypto_generichash_update(&h, env->signature, NODE_SIGNATURE_BYTES);
    crypto_generichash_final(&h, entry, 32);
}

bool node_sigcache_known(const struct node_sigcache *c, const struct node_tx_envelope *env,
                         const uint8_t id[static NODE_HASH_BYTES])
{
    if (c == NULL || c->ring == NULL)
        return false;
    uint8_t entry[32];
    entry_of(env, id, entry);
    return keymap_get(&c->set, entry) != NULL;
}

/* Remembers an entry, evicting the oldest when full.  A failure to grow the
 * index only costs a later re-check. */
static void remember(struct node_sigcache *c, const uint8_t entry[32])
{
    if (keymap_get(&c->set, entry) != NULL)
        return;
    uint8_t (*slot)[32] = &c->ring[c->next];
    if (c->count == c->capacity)
        keymap_remove(&c->set, *slot);
    memcpy(*slot, entry, 32);
    if (keymap_put(&c->set, *slot, slot) != 0) {
        if (c->count == c->capacity)
            c->count--; /* the evicted slot stays empty */
        return;
    }
    c->next = (c->next + 1) % c->capacity;
    if (c->count < c->capacity)
        c->count++;
}

int node_sigcache_open(struct node_sigcache *c, const uint8_t *bytes, size_t len,
                       const uint8_t network_id[static NODE_HASH_BYTES],
                       struct node_tx_envelope *env, uint8_t id[NODE_HASH_BYTES])
{
    if (c == NULL || c->ring == NULL)
        return node_envelope_open(bytes, len, network_id, true, env, id);
    int rc = node_envelope_open(bytes, len, network_id, false, env, id);
    if (rc != 0)
        return rc;
    uint8_t entry[32];
    entry_of(env, id, entry);
    if (keymap_get(&c->set, entry) != NULL) {
        c->hits++;
        return 0;
    }
    c->misses++;
    if ((rc = node_envelope_open(bytes, len, network_id, true, env, NULL)) == 0)
        remember(c, entry);
    return rc;
}
