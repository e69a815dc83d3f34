/*
 * verify.h — internal: the pipelined signature verifier used by chain.c
 * (node/verify.c says how it works).
 */
#ifndef NANUM_NODE_VERIFY_H
#define NANUM_NODE_VERIFY_H

#include "chain.h"

#define LEDGER_VERIFY_THREADS_MAX 8

struct ledger__verifier;

/* Starts verifying txs[0..count) on `threads` threads (0: one per core). */
/* checked (may be NULL) marks envelopes whose signatures are already known good. */
int ledger__verifier_start(const uint8_t network_id[static NODE_HASH_BYTES],
                           const uint8_t *const *txs, const size_t *lens, uint32_t count,
                           const bool *checked, unsigned threads, struct ledger__verifier **out);
/* Returns transaction i's status, verifying other chunks while it waits. */
enum ledger_signature ledger__verifier_wait(struct ledger__verifier *v, uint32_t i);
/* Finishes (joins the workers) and frees.  NULL is allowed. */
void ledger__verifier_finish(struct ledger__verifier *v);
unsigned ledger__verify_threads_default(void);

#endif
