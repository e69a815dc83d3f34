/*
 * crash_chain.c — see crash_chain.h.
 */
#include "crash_chain.h"

#include <string.h>

#include <sodium.h>

void crash_chain_be64_put(uint64_t value, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(value & 0xffu);
        value >>= 8;
    }
}

uint64_t crash_chain_be64_get(const uint8_t in[8])
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}

void crash_chain_hash(const uint8_t *payload, size_t len, uint8_t hash[CRASH_CHAIN_HASH_BYTES])
{
    crypto_generichash(hash, CRASH_CHAIN_HASH_BYTES, payload, len, NULL, 0);
}

/* The filler length varies so that blocks land at different page offsets and
 * some records need overflow pages, some not. */
static size_t filler_len(uint64_t height)
{
    return (size_t)((height * 2654435761u) % CRASH_CHAIN_FILLER_MAX);
}

size_t crash_chain_payload(uint64_t height, const uint8_t prev[CRASH_CHAIN_HASH_BYTES],
                           uint8_t *payload)
{
    crash_chain_be64_put(height, payload);
    memcpy(payload + 8, prev, CRASH_CHAIN_HASH_BYTES);
    size_t n = filler_len(height);
    for (size_t i = 0; i < n; i++)
        payload[CRASH_CHAIN_HEADER_BYTES + i] = (uint8_t)(height + i);
    return CRASH_CHAIN_HEADER_BYTES + n;
}

void crash_chain_tip(uint64_t height, const uint8_t hash[CRASH_CHAIN_HASH_BYTES],
                     uint8_t tip[CRASH_CHAIN_TIP_BYTES])
{
    crash_chain_be64_put(height, tip);
    memcpy(tip + 8, hash, CRASH_CHAIN_HASH_BYTES);
}

bool crash_chain_payload_valid(uint64_t height, const uint8_t prev[CRASH_CHAIN_HASH_BYTES],
                               const uint8_t *payload, size_t len)
{
    uint8_t expected[CRASH_CHAIN_PAYLOAD_MAX];
    size_t expected_len = crash_chain_payload(height, prev, expected);
    return len == expected_len && memcmp(payload, expected, len) == 0;
}
