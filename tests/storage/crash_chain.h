/*
 * crash_chain.h — the chain the crash test writes and checks.  Block h's
 * payload is: height (8 bytes big-endian), BLAKE2b-256 of block h-1's payload
 * (zeros for block 1), then filler bytes whose length varies with h.  The
 * same batch sets chain["tip"] = height || hash(payload) and meta
 * "tip_height" = height, so a checker can tell whether state and block were
 * committed together.
 *
 * Read next: crash_writer.c (the writer), test_store_crash.c (the checker).
 */
#ifndef NANUM_CRASH_CHAIN_H
#define NANUM_CRASH_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRASH_CHAIN_HASH_BYTES 32
#define CRASH_CHAIN_HEADER_BYTES (8 + CRASH_CHAIN_HASH_BYTES)
#define CRASH_CHAIN_FILLER_MAX 6000
#define CRASH_CHAIN_PAYLOAD_MAX (CRASH_CHAIN_HEADER_BYTES + CRASH_CHAIN_FILLER_MAX)
#define CRASH_CHAIN_TIP_BYTES (8 + CRASH_CHAIN_HASH_BYTES)
#define CRASH_CHAIN_TABLE "chain"
#define CRASH_CHAIN_TIP_KEY "tip"

/* Fills payload (CRASH_CHAIN_PAYLOAD_MAX bytes of room) for block height
 * after a block whose payload hashed to prev; returns its length. */
size_t crash_chain_payload(uint64_t height, const uint8_t prev[CRASH_CHAIN_HASH_BYTES],
                           uint8_t *payload);

/* The chain["tip"] value for block height with payload hash `hash`. */
void crash_chain_tip(uint64_t height, const uint8_t hash[CRASH_CHAIN_HASH_BYTES],
                     uint8_t tip[CRASH_CHAIN_TIP_BYTES]);

/* Hashes a payload the way the chain links blocks. */
void crash_chain_hash(const uint8_t *payload, size_t len, uint8_t hash[CRASH_CHAIN_HASH_BYTES]);

/* Checks that payload is block `height` following prev; false if not. */
bool crash_chain_payload_valid(uint64_t height, const uint8_t prev[CRASH_CHAIN_HASH_BYTES],
                               const uint8_t *payload, size_t len);

void crash_chain_be64_put(uint64_t value, uint8_t out[8]);
uint64_t crash_chain_be64_get(const uint8_t in[8]);

#endif
