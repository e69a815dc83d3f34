/*
 * frame.c — frames and the control payloads inside them, as pure functions.
 *
 * A frame on the wire is a 4-byte big-endian length L followed by L bytes:
 * one crypto_secretstream_xchacha20poly1305 message (tag MESSAGE) whose
 * plaintext is [type byte, payload] and whose additional data is the length
 * field itself, so a peer cannot change where frames end.  The length is
 * checked against the node's bound before any byte of the frame is buffered
 * beyond it, so an oversized length is rejected at once.
 *
 * Control payloads (types below NET_TYPE_USER_MIN) have fixed layouts with
 * big-endian integers; every decoder rejects short input and trailing bytes.
 *
 * Read next: net/conn.c.
 */
#include <string.h>

#include "net_internal.h"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES

/* Appends length || seal([type, payload]) to out: the type byte is sealed
 * first, then the payload straight from the caller's buffer (no copy).
 * 0 or NET_E_NOMEM. */
int net__frame_seal(net__stream *tx, uint8_t type, const uint8_t *payload,
                    size_t len, net__buf *out)
{
    size_t sealed = 1 + len + ABYTES;
    int rc = net__buf_reserve(out, NET__FRAME_LENGTH_BYTES + sealed);
    if (rc != 0)
        return rc;
    uint8_t *p = net__buf_head(out) + out->len;
    net__put_u32(p, (uint32_t)sealed);
    rc = net__stream_push_parts(tx, p + NET__FRAME_LENGTH_BYTES, &type, 1,
                                payload, len, p, NET__FRAME_LENGTH_BYTES,
                                crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    if (rc != 0)
        return rc;
    out->len += NET__FRAME_LENGTH_BYTES + sealed;
    return 0;
}

/* Seals a contiguous [type, payload] straight into out. */
int net__frame_seal_plain(net__stream *tx, const uint8_t *plain,
                          size_t plain_len, net__buf *out)
{
    size_t sealed = plain_len + ABYTES;
    int rc = net__buf_reserve(out, NET__FRAME_LENGTH_BYTES + sealed);
    if (rc != 0)
        return rc;
    uint8_t *p = net__buf_head(out) + out->len;
    net__put_u32(p, (uint32_t)sealed);
    rc = net__stream_push(tx, p + NET__FRAME_LENGTH_BYTES, plain, plain_len,
                          p, NET__FRAME_LENGTH_BYTES,
                          crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    if (rc != 0)
        return rc;
    out->len += NET__FRAME_LENGTH_BYTES + sealed;
    return 0;
}

/* Opens the frame at in[0..in_len) into plain; see net_internal.h. */
int net__frame_open(net__stream *rx, const uint8_t *in, size_t in_len,
                    size_t plain_max, uint8_t *plain, size_t *consumed, uint8_t *type,
                    size_t *payload_len)
{
    if (in_len < NET__FRAME_LENGTH_BYTES)
        return 0;
    uint32_t sealed = net__get_u32(in);
    if (sealed < 1 + ABYTES || sealed - ABYTES > plain_max)
        return NET_E_FRAME;
    if (in_len - NET__FRAME_LENGTH_BYTES < sealed)
        return 0;
    size_t plain_len = 0;
    uint8_t tag = 0;
    int rc = net__stream_pull(rx, plain, &plain_len, &tag,
                              in + NET__FRAME_LENGTH_BYTES, sealed, in,
                              NET__FRAME_LENGTH_BYTES);
    if (rc != 0)
        return rc;
    if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE ||
        plain_len < 1)
        return NET_E_FRAME;
    *consumed = NET__FRAME_LENGTH_BYTES + sealed;
    *type = plain[0];
    *payload_len = plain_len - 1;
    return 1;
}

/* CREDIT: u32 messages || u32 bytes. */
size_t net__credit_encode(uint32_t messages, uint32_t bytes, uint8_t *out)
{
    net__put_u32(out, messages);
    net__put_u32(out + 4, bytes);
    return 8;
}

/* Decodes exactly one payload of this layout; NET_E_PROTOCOL otherwise. */
int net__credit_decode(const uint8_t *in, size_t len, uint32_t *messages,
                       uint32_t *bytes)
{
    if (len != 8)
        return NET_E_PROTOCOL;
    *messages = net__get_u32(in);
    *bytes = net__get_u32(in + 4);
    return 0;
}

/* PEERS: u16 listen port || u8 count || count x (u8 family 4|6, 4 or 16
 * address bytes, u16 port). */
size_t net__peers_encode(const net__peers_payload *peers, uint8_t *out)
{
    size_t n = 0;
    uint8_t count = peers->count <= NET__PEERS_FRAME_ENTRIES_MAX
                        ? peers->count
                        : NET__PEERS_FRAME_ENTRIES_MAX;
    out[n++] = (uint8_t)(peers->listen_port >> 8);
    out[n++] = (uint8_t)peers->listen_port;
    out[n++] = count;
    for (uint8_t i = 0; i < count; i++) {
        const net__peer_address *a = &peers->entries[i];
        size_t ip_len = a->family == 6 ? 16 : 4;
        out[n++] = a->family == 6 ? 6 : 4;
        memcpy(out + n, a->ip, ip_len), n += ip_len;
        out[n++] = (uint8_t)(a->port >> 8);
        out[n++] = (uint8_t)a->port;
    }
    return n;
}

/* Decodes exactly one payload of this layout; NET_E_PROTOCOL otherwise. */
int net__peers_decode(const uint8_t *in, size_t len, net__peers_payload *out)
{
    memset(out, 0, sizeof *out);
    if (len < 3)
        return NET_E_PROTOCOL;
    out->listen_port = (uint16_t)(in[0] << 8 | in[1]);
    out->count = in[2];
    if (out->count > NET__PEERS_FRAME_ENTRIES_MAX)
        return NET_E_PROTOCOL;
    size_t n = 3;
    for (uint8_t i = 0; i < out->count; i++) {
        net__peer_address *a = &out->entries[i];
        if (n >= len || (in[n] != 4 && in[n] != 6))
            return NET_E_PROTOCOL;
        a->family = in[n++];
        size_t ip_len = a->family == 6 ? 16 : 4;
        if (len - n < ip_len + 2)
            return NET_E_PROTOCOL;
        memcpy(a->ip, in + n, ip_len), n += ip_len;
        a->port = (uint16_t)(in[n] << 8 | in[n + 1]);
        n += 2;
        if (a->port == 0)
            return NET_E_PROTOCOL;
    }
    return n == len ? 0 : NET_E_PROTOCOL;
}

/* CLOSE: i32 reason, two's complement big-endian. */
size_t net__close_encode(int32_t reason, uint8_t *out)
{
    net__put_u32(out, (uint32_t)reason);
    return 4;
}

/* Decodes exactly one payload of this layout; NET_E_PROTOCOL otherwise. */
int net__close_decode(const uint8_t *in, size_t len, int32_t *reason)
{
    if (len != 4)
        return NET_E_PROTOCOL;
    *reason = (int32_t)net__get_u32(in);
    return 0;
}
