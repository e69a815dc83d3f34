/*
 * sigcache.h — internal: the transaction signatures this node has already
 * seen verify, so that no signature is checked twice.
 *
 * A transaction reaches a validator up to three ways — submitted or flooded
 * into the mempool, inside a peer's tx set that must be validated, and in
 * the ledger that applies it — and an Ed25519 check costs ~50–80 µs, most of
 * a loaded validator's CPU.  The cache remembers the last `capacity` pairs
 * (transaction id, signature) that verified under this network; an entry
 * is the BLAKE2b-256 of the id and the signature, so the same transaction
 * with another signature is not covered.  Oldest entries leave first.
 * Single-threaded: the daemon's loop thread only.
 */
#ifndef NANUM_SIGCACHE_H
#define NANUM_SIGCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keymap.h"
#include "protocol.h"

#define NODE_SIGCACHE_ENTRIES 65536 /* > 10 ledgers at tx_per_ledger_max */

struct node_sigcache {
    struct keymap set;   /* entry -> the ring slot that holds it */
    uint8_t (*ring)[32]; /* entries in insertion order */
    size_t capacity, next, count;
    uint64_t hits, misses;
};

/* 0 or NODE_E_NOMEM. */
int node_sigcache_init(struct node_sigcache *c, size_t capacity);
void node_sigcache_free(struct node_sigcache *c);

/*
 * Opens envelope bytes (node_envelope_open) and checks the signature unless
 * the cache already holds this id and signature; a signature that verifies
 * is remembered.  c may be NULL (always checks).  0: decoded and the
 * signature is good (env and id set); otherwise as node_envelope_open.
 */
int node_sigcache_open(struct node_sigcache *c, const uint8_t *bytes, size_t len,
                       const uint8_t network_id[static NODE_HASH_BYTES],
                       struct node_tx_envelope *env, uint8_t id[NODE_HASH_BYTES]);

/* True if these envelope bytes (decoded as env, with this id) are known to
 * carry a good signature.  Does not verify. */
bool node_sigcache_known(const struct node_sigcache *c, const struct node_tx_envelope *env,
                         const uint8_t id[static NODE_HASH_BYTES]);

#endif
