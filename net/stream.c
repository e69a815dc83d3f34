/*
 * stream.c — secretstream messages sealed and opened with OpenSSL's
 * ChaCha20 and Poly1305.
 *
 * The bytes on the wire are exactly libsodium's
 * crypto_secretstream_xchacha20poly1305 (spec/network.md §2.1): libsodium
 * still derives the stream state (init_push / init_pull in the handshake)
 * and rekeys it; only the per-message work runs here, because OpenSSL's
 * AVX-512 ChaCha20 and Poly1305 are about three times faster than
 * libsodium 1.0.18's on the machines we run (spec/network.md §9).
 *
 * One message, with key k, nonce n (4-byte little-endian counter || 8-byte
 * inonce), tag t, additional data A and message M:
 *   - ChaCha20 (IETF) under (k, n): keystream block 0 gives the Poly1305
 *     key; block 1 enciphers B = t || 63 zero bytes; blocks 2.. encipher M.
 *   - The MAC is Poly1305 over A, zeros to a multiple of 16, E(B), E(M),
 *     then (|M| mod 16) zero bytes — libsodium's padding, which is not
 *     RFC 8439's, so OpenSSL's fused AEAD cannot be used —, then |A| and
 *     64 + |M| as 64-bit little-endian integers.
 *   - The wire carries E(B)[0] || E(M) || MAC; the receiver rebuilds
 *     E(B)[1..63], which is keystream block 1 itself.
 *   - Both sides then XOR the MAC's first 8 bytes into the inonce and
 *     increment the counter; a REKEY tag or a counter wrap rekeys
 *     (libsodium's crypto_secretstream_xchacha20poly1305_rekey).
 *
 * tests/net/test_net_stream.c checks every path against libsodium itself.
 *
 * Read next: net/frame.c.
 */
#include <string.h>

#include <openssl/evp.h>

#include "net_internal.h"

#define BLOCK 64
#define MAC_BYTES 16
#define COUNTER_BYTES 4
#define INONCE_BYTES 8
#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

_Static_assert(ABYTES == 1 + MAC_BYTES, "secretstream: tag byte + MAC");

void net__stream_init(net__stream *st,
                      const crypto_secretstream_xchacha20poly1305_state *s)
{
    memset(st, 0, sizeof *st);
    st->s = *s;
}

void net__stream_wipe(net__stream *st)
{
    EVP_CIPHER_CTX_free(st->cipher); /* each clears its key material */
    EVP_MAC_CTX_free(st->mac);
    sodium_memzero(st, sizeof *st);
}

/* The OpenSSL contexts, created on first use.  0 or NET_E_NOMEM. */
static int stream_contexts(net__stream *st)
{
    if (st->cipher != NULL)
        return 0;
    EVP_MAC *poly = EVP_MAC_fetch(NULL, "POLY1305", NULL);
    st->mac = poly != NULL ? EVP_MAC_CTX_new(poly) : NULL;
    EVP_MAC_free(poly); /* the context holds its own reference */
    st->cipher = EVP_CIPHER_CTX_new();
    if (st->mac == NULL || st->cipher == NULL ||
        EVP_EncryptInit_ex(st->cipher, EVP_chacha20(), NULL, NULL, NULL) != 1) {
        EVP_CIPHER_CTX_free(st->cipher);
        EVP_MAC_CTX_free(st->mac);
        st->cipher = NULL;
        st->mac = NULL;
        return NET_E_NOMEM;
    }
    return 0;
}

/* XORs len bytes of keystream into in, to out (any length). */
static int stream_xor(net__stream *st, uint8_t *out, const uint8_t *in,
                      size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? 1 << 30 : (int)len, n = 0;
        if (EVP_EncryptUpdate(st->cipher, out, &n, in, chunk) != 1 ||
            n != chunk)
            return -1;
        out += chunk, in += chunk, len -= (size_t)chunk;
    }
    return 0;
}

static int stream_mac_update(net__stream *st, const uint8_t *p, size_t len)
{
    return len == 0 || EVP_MAC_update(st->mac, p, len) == 1 ? 0 : -1;
}

/* Positions the keystream at block 0 of this message and reads blocks 0
 * and 1: the MAC is keyed and *b1 is keystream block 1.  The cipher is then
 * at block 2, where the message starts. */
static int stream_begin(net__stream *st, uint8_t b1[BLOCK])
{
    static const uint8_t zeros[2 * BLOCK];
    uint8_t iv[16] = {0}, blocks[2 * BLOCK];
    memcpy(iv + COUNTER_BYTES, st->s.nonce, sizeof st->s.nonce);
    int rc = -1;
    /* The key is loaded once (and again after a rekey); each message sets
     * only the counter and nonce. */
    const uint8_t *key = st->cipher_keyed ? NULL : st->s.k;
    if (EVP_EncryptInit_ex(st->cipher, NULL, NULL, key, iv) == 1) {
        st->cipher_keyed = true;
        if (stream_xor(st, blocks, zeros, sizeof blocks) == 0 &&
            EVP_MAC_init(st->mac, blocks, 32, NULL) == 1) {
            memcpy(b1, blocks + BLOCK, BLOCK);
            rc = 0;
        }
    }
    sodium_memzero(blocks, sizeof blocks);
    return rc;
}

/* Absorbs A and its padding, E(B), the ciphertext, libsodium's padding and
 * the lengths, and writes the MAC.  Short pieces are gathered so that
 * Poly1305 sees four updates, not seven. */
static int stream_finish(net__stream *st, const uint8_t *ad, size_t ad_len,
                         const uint8_t eb[BLOCK], const uint8_t *c,
                         size_t len, uint8_t mac[MAC_BYTES])
{
    uint8_t head[16 + BLOCK] = {0}, tail[15 + 16] = {0};
    size_t head_len = 0, out_len = 0, pad = len & 0xf;
    if (ad_len <= 16) {
        if (ad_len > 0)
            memcpy(head, ad, ad_len);
        head_len = ad_len == 0 ? 0 : 16;
    } else if (stream_mac_update(st, ad, ad_len) != 0 ||
               stream_mac_update(st, head, (0x10 - ad_len) & 0xf) != 0) {
        return -1;
    }
    memcpy(head + head_len, eb, BLOCK);
    uint64_t a = ad_len, m = BLOCK + (uint64_t)len;
    for (int i = 0; i < 8; i++) {
        tail[pad + i] = (uint8_t)(a >> (8 * i));
        tail[pad + 8 + i] = (uint8_t)(m >> (8 * i));
    }
    int rc = stream_mac_update(st, head, head_len + BLOCK) != 0 ||
                     stream_mac_update(st, c, len) != 0 ||
                     stream_mac_update(st, tail, pad + 16) != 0 ||
                     EVP_MAC_final(st->mac, mac, &out_len, MAC_BYTES) != 1 ||
                     out_len != MAC_BYTES
                 ? -1
                 : 0;
    sodium_memzero(head, sizeof head);
    return rc;
}

/* The state update both sides make after a message with this MAC. */
static void stream_advance(net__stream *st, const uint8_t mac[MAC_BYTES],
                           uint8_t tag)
{
    uint8_t *inonce = st->s.nonce + COUNTER_BYTES;
    for (size_t i = 0; i < INONCE_BYTES; i++)
        inonce[i] ^= mac[i];
    sodium_increment(st->s.nonce, COUNTER_BYTES);
    if ((tag & crypto_secretstream_xchacha20poly1305_TAG_REKEY) != 0 ||
        sodium_is_zero(st->s.nonce, COUNTER_BYTES)) {
        crypto_secretstream_xchacha20poly1305_rekey(&st->s);
        st->cipher_keyed = false;
    }
}

int net__stream_push_parts(net__stream *st, uint8_t *c, const uint8_t *m1,
                           size_t m1_len, const uint8_t *m2, size_t m2_len,
                           const uint8_t *ad, size_t ad_len, uint8_t tag)
{
    if (stream_contexts(st) != 0)
        return NET_E_NOMEM;
    uint8_t eb[BLOCK];
    size_t len = m1_len + m2_len;
    uint8_t *mac = c + 1 + len;
    int rc = stream_begin(st, eb);
    eb[0] ^= tag; /* E(B) = B xor keystream block 1 */
    if (rc != 0 || stream_xor(st, c + 1, m1, m1_len) != 0 ||
        stream_xor(st, c + 1 + m1_len, m2, m2_len) != 0 ||
        stream_finish(st, ad, ad_len, eb, c + 1, len, mac) != 0) {
        sodium_memzero(eb, sizeof eb);
        return NET_E_NOMEM; /* OpenSSL failed for want of resources */
    }
    c[0] = eb[0];
    sodium_memzero(eb, sizeof eb);
    stream_advance(st, mac, tag);
    return 0;
}

int net__stream_push(net__stream *st, uint8_t *c, const uint8_t *m,
                     size_t m_len, const uint8_t *ad, size_t ad_len,
                     uint8_t tag)
{
    return net__stream_push_parts(st, c, m, m_len, NULL, 0, ad, ad_len, tag);
}

int net__stream_pull(net__stream *st, uint8_t *m, size_t *m_len,
                     uint8_t *tag, const uint8_t *c, size_t c_len,
                     const uint8_t *ad, size_t ad_len)
{
    if (c_len < ABYTES)
        return NET_E_FRAME;
    if (stream_contexts(st) != 0)
        return NET_E_NOMEM;
    size_t len = c_len - ABYTES;
    uint8_t eb[BLOCK], mac[MAC_BYTES], received[MAC_BYTES];
    memcpy(received, c + 1 + len, MAC_BYTES); /* m may overlap c */
    if (stream_begin(st, eb) != 0) {
        sodium_memzero(eb, sizeof eb);
        return NET_E_NOMEM;
    }
    uint8_t tag_keystream = eb[0];
    eb[0] = c[0]; /* E(B): the received byte, then keystream block 1 */
    int rc = stream_finish(st, ad, ad_len, eb, c + 1, len, mac);
    sodium_memzero(eb, sizeof eb);
    if (rc != 0)
        return NET_E_NOMEM;
    if (crypto_verify_16(mac, received) != 0)
        return NET_E_FRAME; /* forged: nothing deciphered, state unchanged */
    if (stream_xor(st, m, c + 1, len) != 0)
        return NET_E_NOMEM;
    *tag = (uint8_t)(c[0] ^ tag_keystream);
    *m_len = len;
    stream_advance(st, received, *tag);
    return 0;
}
