/*
 * handshake.c — the three handshake messages of DESIGN.md §6, as pure
 * functions: bytes in, bytes out, keys and secretstream states at the end.
 * conn.c drives them over a socket; the fuzz target and the tests' raw
 * clients call them directly.  spec/network.md gives the same bytes.
 *
 *   1. dialer -> listener   e_d || MAC(key = network id, TAG "/hello" e_d)
 *   2. listener -> dialer   e_l || AEAD(box_key, n = 2,
 *                               pk_l || sig_l || stream header l)
 *   3. dialer -> listener   AEAD(box_key, n = 3, pk_d || sig_d || header d)
 *
 * e_d, e_l are fresh crypto_kx (X25519) keys; crypto_kx turns them into two
 * directional keys (dialer = client), which BLAKE2b binds to the network id
 * and the transcript to give the box key and one secretstream key per
 * direction.  sig_l signs TAG || network id || 2 || msg1 || e_l || pk_l and
 * sig_d signs TAG || network id || 3 || msg1 || e_l || pk_l || pk_d (the
 * domain-tag convention of DESIGN.md §3).  So: another network fails the
 * MAC before anything is revealed; identities travel encrypted; each
 * signature covers both fresh ephemeral keys, so nothing recorded from an
 * old handshake verifies in a new one (a replayed message 1 is also refused
 * early by the listener's replay cache, conn.c); crypto_kx refuses
 * low-order points because their shared secret is all zero.
 *
 * Read next: net/frame.c.
 */
#include <string.h>

#include "net_internal.h"

#define HS_TAG_BYTES (sizeof NET__HS_TAG - 1)
#define HS_SIGNED_BYTES_MAX (HS_TAG_BYTES + 32 + 1 + NET__HS_MSG1_BYTES + 96)
#define HS_PLAIN_BYTES                                                        \
    (32 + 64 + crypto_secretstream_xchacha20poly1305_HEADERBYTES)

/* Starts a handshake with a fresh ephemeral key pair. */
void net__hs_init(net__hs *hs, bool dialer, const uint8_t network_id[32],
                  const uint8_t own_public[32], const uint8_t own_secret[64])
{
    memset(hs, 0, sizeof *hs);
    hs->dialer = dialer;
    memcpy(hs->network_id, network_id, 32);
    memcpy(hs->own_public, own_public, 32);
    memcpy(hs->own_secret, own_secret, 64);
    crypto_kx_keypair(hs->ephemeral_public, hs->ephemeral_secret);
}

/* The network MAC of message 1 over the dialer's ephemeral key. */
static void hs_hello_mac(const net__hs *hs, const uint8_t ephemeral[32],
                         uint8_t mac[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, hs->network_id, 32, 32);
    crypto_generichash_update(&st, (const uint8_t *)NET__HS_TAG "/hello",
                              HS_TAG_BYTES + 6);
    crypto_generichash_update(&st, ephemeral, 32);
    crypto_generichash_final(&st, mac, 32);
}

/* BLAKE2b-256 keyed by key over TAG label || network id || msg1 || e_l. */
static void hs_derive(const net__hs *hs, const uint8_t *key, size_t key_len,
                      const char *label, uint8_t out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, key_len, 32);
    crypto_generichash_update(&st, (const uint8_t *)NET__HS_TAG,
                              HS_TAG_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
    crypto_generichash_update(&st, hs->network_id, 32);
    crypto_generichash_update(&st, hs->msg1, NET__HS_MSG1_BYTES);
    crypto_generichash_update(&st, hs->listener_ephemeral, 32);
    crypto_generichash_final(&st, out, 32);
    sodium_memzero(&st, sizeof st);
}

/* Runs crypto_kx on the two ephemeral keys and derives the box key and
 * the stream keys.  NET_E_LOW_ORDER when the peer's key is a low-order
 * point (crypto_kx refuses an all-zero shared secret). */
static int hs_keys(net__hs *hs, const uint8_t peer_ephemeral[32])
{
    uint8_t keys[64]; /* dialer->listener || listener->dialer */
    int rc;
    if (hs->dialer)
        rc = crypto_kx_client_session_keys(keys + 32, keys, hs->ephemeral_public,
                                           hs->ephemeral_secret, peer_ephemeral);
    else
        rc = crypto_kx_server_session_keys(keys, keys + 32, hs->ephemeral_public,
                                           hs->ephemeral_secret, peer_ephemeral);
    if (rc != 0)
        return NET_E_LOW_ORDER;
    hs_derive(hs, keys, 64, "/box", hs->box_key);
    hs_derive(hs, keys, 32, "/stream", hs->dialer ? hs->stream_key_tx
                                                  : hs->stream_key_rx);
    hs_derive(hs, keys + 32, 32, "/stream", hs->dialer ? hs->stream_key_rx
                                                       : hs->stream_key_tx);
    sodium_memzero(keys, sizeof keys);
    return 0;
}

/* Builds the bytes a signature covers: TAG || network id || step ||
 * msg1 || e_l || pk_l [|| pk_d].  Returns their length. */
static size_t hs_signed_bytes(const net__hs *hs, uint8_t step,
                              const uint8_t *dialer_public, uint8_t *out)
{
    size_t n = 0;
    memcpy(out + n, NET__HS_TAG, HS_TAG_BYTES), n += HS_TAG_BYTES;
    memcpy(out + n, hs->network_id, 32), n += 32;
    out[n++] = step;
    memcpy(out + n, hs->msg1, NET__HS_MSG1_BYTES), n += NET__HS_MSG1_BYTES;
    memcpy(out + n, hs->listener_ephemeral, 32), n += 32;
    memcpy(out + n, hs->listener_public, 32), n += 32;
    if (dialer_public != NULL)
        memcpy(out + n, dialer_public, 32), n += 32;
    return n;
}

/* The AEAD's associated data: TAG || network id || msg1 || e_l. */
static size_t hs_ad(const net__hs *hs, uint8_t *out)
{
    size_t n = 0;
    memcpy(out + n, NET__HS_TAG, HS_TAG_BYTES), n += HS_TAG_BYTES;
    memcpy(out + n, hs->network_id, 32), n += 32;
    memcpy(out + n, hs->msg1, NET__HS_MSG1_BYTES), n += NET__HS_MSG1_BYTES;
    memcpy(out + n, hs->listener_ephemeral, 32), n += 32;
    return n;
}

/* Seals own key || signature || a new tx stream header into out. */
static void hs_seal_identity(net__hs *hs, uint8_t step,
                             uint8_t out[NET__HS_SEALED_BYTES])
{
    uint8_t signed_bytes[HS_SIGNED_BYTES_MAX];
    uint8_t plain[HS_PLAIN_BYTES];
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
    uint8_t ad[HS_SIGNED_BYTES_MAX];
    size_t n = hs_signed_bytes(hs, step, hs->dialer ? hs->own_public : NULL,
                               signed_bytes);
    memcpy(plain, hs->own_public, 32);
    crypto_sign_detached(plain + 32, NULL, signed_bytes, n, hs->own_secret);
    crypto_secretstream_xchacha20poly1305_init_push(&hs->tx, plain + 96,
                                                    hs->stream_key_tx);
    nonce[sizeof nonce - 1] = step;
    size_t ad_len = hs_ad(hs, ad);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out, NULL, plain, sizeof plain,
                                               ad, ad_len, NULL, nonce,
                                               hs->box_key);
    sodium_memzero(plain, sizeof plain);
}

/* Opens a sealed identity of step `step`, checks its signature and starts
 * the rx stream.  NET_E_AUTH on any failure. */
static int hs_open_identity(net__hs *hs, uint8_t step,
                            const uint8_t in[NET__HS_SEALED_BYTES])
{
    uint8_t plain[HS_PLAIN_BYTES];
    uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES] = {0};
    uint8_t ad[HS_SIGNED_BYTES_MAX];
    uint8_t signed_bytes[HS_SIGNED_BYTES_MAX];
    nonce[sizeof nonce - 1] = step;
    size_t ad_len = hs_ad(hs, ad);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            plain, NULL, NULL, in, NET__HS_SEALED_BYTES, ad, ad_len, nonce,
            hs->box_key) != 0)
        return NET_E_AUTH;
    if (step == 2)
        memcpy(hs->listener_public, plain, 32);
    size_t n = hs_signed_bytes(hs, step, step == 3 ? plain : NULL,
                               signed_bytes);
    int rc = 0;
    if (crypto_sign_verify_detached(plain + 32, signed_bytes, n, plain) != 0 ||
        crypto_secretstream_xchacha20poly1305_init_pull(&hs->rx, plain + 96,
                                                        hs->stream_key_rx) != 0)
        rc = NET_E_AUTH;
    else
        memcpy(hs->peer_public, plain, 32);
    sodium_memzero(plain, sizeof plain);
    return rc;
}

/* Dialer: message 1 is the ephemeral key and the network MAC over it. */
void net__hs_write_msg1(net__hs *hs, uint8_t out[NET__HS_MSG1_BYTES])
{
    memcpy(hs->msg1, hs->ephemeral_public, 32);
    hs_hello_mac(hs, hs->ephemeral_public, hs->msg1 + 32);
    memcpy(out, hs->msg1, NET__HS_MSG1_BYTES);
}

/* Listener: the MAC proves the same network id; then the keys. */
int net__hs_read_msg1(net__hs *hs, const uint8_t in[NET__HS_MSG1_BYTES])
{
    uint8_t mac[32];
    hs_hello_mac(hs, in, mac);
    if (crypto_verify_32(mac, in + 32) != 0)
        return NET_E_NETWORK;
    memcpy(hs->msg1, in, NET__HS_MSG1_BYTES);
    memcpy(hs->listener_ephemeral, hs->ephemeral_public, 32);
    memcpy(hs->listener_public, hs->own_public, 32);
    return hs_keys(hs, in);
}

/* Listener: e_l, then the sealed identity, signature and stream header. */
void net__hs_write_msg2(net__hs *hs, uint8_t out[NET__HS_MSG2_BYTES])
{
    memcpy(out, hs->ephemeral_public, 32);
    hs_seal_identity(hs, 2, out + 32);
}

/* Dialer: keys from e_l, then the listener's identity and signature. */
int net__hs_read_msg2(net__hs *hs, const uint8_t in[NET__HS_MSG2_BYTES])
{
    memcpy(hs->listener_ephemeral, in, 32);
    int rc = hs_keys(hs, in);
    if (rc != 0)
        return rc;
    return hs_open_identity(hs, 2, in + 32);
}

/* Dialer: the sealed identity, signature and stream header. */
void net__hs_write_msg3(net__hs *hs, uint8_t out[NET__HS_MSG3_BYTES])
{
    hs_seal_identity(hs, 3, out);
}

/* Listener: the dialer's identity and signature. */
int net__hs_read_msg3(net__hs *hs, const uint8_t in[NET__HS_MSG3_BYTES])
{
    return hs_open_identity(hs, 3, in);
}

/* Wipes every secret the handshake holds. */
void net__hs_wipe(net__hs *hs)
{
    sodium_memzero(hs, sizeof *hs);
}
