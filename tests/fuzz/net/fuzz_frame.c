/*
 * fuzz_frame.c — libFuzzer target for the frame decoder and the control
 * payload codecs (net/frame.c).
 *
 * The first input byte picks a mode:
 *   even: the rest is a wire stream read by a node: a 24-byte secretstream
 *         header, then frames; net__frame_open() must accept or refuse each
 *         without reading past the input (length bounds, authentication).
 *   odd:  the rest describes plaintext frames as [type, u16 length, bytes];
 *         each is sealed and opened again (it must round-trip exactly), and
 *         control payloads go through their decoders, which must re-encode
 *         to the same bytes when they accept.
 *
 * Read next: tests/fuzz/net/fuzz_handshake.c.
 */
#include <assert.h>
#include <string.h>

#include "net_internal.h"

#define FUZZ_PLAIN_MAX 4096

/* Feeds a wire stream to the decoder, frame after frame. */
static void fuzz_wire(const uint8_t *data, size_t size)
{
    static uint8_t plain[FUZZ_PLAIN_MAX];
    uint8_t key[32];
    memset(key, 0x42, sizeof key);
    if (size < crypto_secretstream_xchacha20poly1305_HEADERBYTES)
        return;
    crypto_secretstream_xchacha20poly1305_state state;
    if (crypto_secretstream_xchacha20poly1305_init_pull(&state, data, key) != 0)
        return;
    net__stream rx;
    net__stream_init(&rx, &state);
    data += crypto_secretstream_xchacha20poly1305_HEADERBYTES;
    size -= crypto_secretstream_xchacha20poly1305_HEADERBYTES;
    for (;;) {
        size_t consumed = 0, len = 0;
        uint8_t type = 0;
        int rc = net__frame_open(&rx, data, size, FUZZ_PLAIN_MAX, plain,
                                 &consumed, &type, &len);
        if (rc != 1)
            break;
        assert(consumed <= size && len + 1 <= FUZZ_PLAIN_MAX);
        data += consumed;
        size -= consumed;
    }
    net__stream_wipe(&rx);
}

/* Runs a control payload through its decoder and back. */
static void fuzz_control(uint8_t type, const uint8_t *p, size_t len)
{
    uint8_t out[NET__CONTROL_PAYLOAD_MAX];
    uint32_t messages, bytes;
    int32_t reason;
    net__peers_payload peers;
    if (net__credit_decode(p, len, &messages, &bytes) == 0) {
        assert(net__credit_encode(messages, bytes, out) == len);
        assert(memcmp(out, p, len) == 0);
    }
    if (net__close_decode(p, len, &reason) == 0) {
        assert(net__close_encode(reason, out) == len);
        assert(memcmp(out, p, len) == 0);
    }
    if (net__peers_decode(p, len, &peers) == 0) {
        assert(net__peers_encode(&peers, out) == len);
        assert(memcmp(out, p, len) == 0);
    }
    (void)type;
}

/* Seals and reopens each described frame. */
static void fuzz_roundtrip(const uint8_t *data, size_t size)
{
    static uint8_t plain[FUZZ_PLAIN_MAX];
    uint8_t key[32], header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    memset(key, 0x24, sizeof key);
    crypto_secretstream_xchacha20poly1305_state tx_state, rx_state;
    crypto_secretstream_xchacha20poly1305_init_push(&tx_state, header, key);
    crypto_secretstream_xchacha20poly1305_init_pull(&rx_state, header, key);
    net__stream tx, rx;
    net__stream_init(&tx, &tx_state);
    net__stream_init(&rx, &rx_state);
    net__buf wire = {0};
    while (size >= 3) {
        uint8_t type = data[0];
        size_t len = (size_t)(data[1] << 8 | data[2]);
        data += 3;
        size -= 3;
        if (len > size)
            len = size;
        if (len + 1 > FUZZ_PLAIN_MAX)
            len = FUZZ_PLAIN_MAX - 1;
        fuzz_control(type, data, len);
        if (net__frame_seal(&tx, type, data, len, &wire) != 0)
            break;
        size_t consumed = 0, got = 0;
        uint8_t got_type = 0;
        int rc = net__frame_open(&rx, net__buf_head(&wire), wire.len,
                                 FUZZ_PLAIN_MAX, plain, &consumed, &got_type,
                                 &got);
        assert(rc == 1 && consumed == wire.len);
        assert(got_type == type && got == len);
        assert(len == 0 || memcmp(plain + 1, data, len) == 0);
        net__buf_consume(&wire, consumed);
        data += len;
        size -= len;
    }
    net__buf_free(&wire);
    net__stream_wipe(&tx);
    net__stream_wipe(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0 || size == 0)
        return 0;
    if (data[0] & 1)
        fuzz_roundtrip(data + 1, size - 1);
    else
        fuzz_wire(data + 1, size - 1);
    return 0;
}
