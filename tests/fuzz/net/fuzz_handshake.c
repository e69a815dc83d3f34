/*
 * fuzz_handshake.c — libFuzzer target for the handshake parsers
 * (net/handshake.c): whatever bytes arrive as message 1, 2 or 3, the
 * parsers refuse or accept them without reading out of bounds, and never
 * accept a forged identity.
 *
 * The first input byte picks a mode:
 *   0: bytes 1..64 are message 1 as received by a listener; if they are
 *      accepted, message 2 is written and the next 136 bytes are tried as
 *      message 3 (which must fail: nobody here holds a key that signs).
 *   1: as 0, but the network MAC of message 1 is made valid first, so the
 *      fuzzer reaches the low-order check and the key derivation.
 *   2: bytes 1..168 are message 2 as received by a dialer (must fail).
 *
 * Read next: spec/network.md.
 */
#include <assert.h>
#include <string.h>

#include "net_internal.h"

static uint8_t network_id[32];
static uint8_t public_key[32], secret_key[64];

/* One fixed identity per process: keys are not what is fuzzed. */
static void fuzz_init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    uint8_t seed[32];
    memset(seed, 7, sizeof seed);
    memset(network_id, 9, sizeof network_id);
    crypto_sign_seed_keypair(public_key, secret_key, seed);
}

/* Makes msg1's MAC valid for the fuzz network id. */
static void fix_mac(uint8_t msg1[NET__HS_MSG1_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, network_id, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)NET__HS_TAG "/hello",
                              sizeof NET__HS_TAG - 1 + 6);
    crypto_generichash_update(&st, msg1, 32);
    crypto_generichash_final(&st, msg1 + 32, 32);
}

static void fuzz_listener(const uint8_t *data, size_t size, bool valid_mac)
{
    if (size < NET__HS_MSG1_BYTES)
        return;
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES], msg2[NET__HS_MSG2_BYTES];
    memcpy(msg1, data, sizeof msg1);
    if (valid_mac)
        fix_mac(msg1);
    net__hs_init(&hs, false, network_id, public_key, secret_key);
    if (net__hs_read_msg1(&hs, msg1) == 0) {
        net__hs_write_msg2(&hs, msg2);
        data += NET__HS_MSG1_BYTES;
        size -= NET__HS_MSG1_BYTES;
        if (size >= NET__HS_MSG3_BYTES)
            assert(net__hs_read_msg3(&hs, data) == NET_E_AUTH);
    }
    net__hs_wipe(&hs);
}

static void fuzz_dialer(const uint8_t *data, size_t size)
{
    if (size < NET__HS_MSG2_BYTES)
        return;
    net__hs hs;
    uint8_t msg1[NET__HS_MSG1_BYTES];
    net__hs_init(&hs, true, network_id, public_key, secret_key);
    net__hs_write_msg1(&hs, msg1);
    assert(net__hs_read_msg2(&hs, data) != 0);
    net__hs_wipe(&hs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0 || size == 0)
        return 0;
    fuzz_init();
    switch (data[0] % 3) {
    case 0:
        fuzz_listener(data + 1, size - 1, false);
        break;
    case 1:
        fuzz_listener(data + 1, size - 1, true);
        break;
    default:
        fuzz_dialer(data + 1, size - 1);
        break;
    }
    return 0;
}
