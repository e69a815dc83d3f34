/*
 * buffer.c — net__buf, the growable byte buffer behind every connection's
 * input and output.
 *
 * Consumed bytes are dropped lazily: the used region slides forward and is
 * moved back to the start only when room is needed, so parsing a batch of
 * frames costs one memmove at most.  Memory is wiped before it is freed
 * because input buffers hold ciphertext next to plaintext lengths and output
 * buffers may hold handshake bytes.
 *
 * Read next: net/seen.c.
 */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* Makes room for `extra` bytes after the used region: first by moving the
 * used bytes to the front, then by doubling.  0 or NET_E_NOMEM. */
int net__buf_reserve(net__buf *buf, size_t extra)
{
    if (buf->start + buf->len + extra <= buf->cap)
        return 0;
    if (buf->start > 0) {
        memmove(buf->data, buf->data + buf->start, buf->len);
        buf->start = 0;
        if (buf->len + extra <= buf->cap)
            return 0;
    }
    size_t cap = buf->cap ? buf->cap : 4096;
    while (cap < buf->len + extra) {
        if (cap > SIZE_MAX / 2)
            return NET_E_NOMEM;
        cap *= 2;
    }
    uint8_t *grown = realloc(buf->data, cap);
    if (grown == NULL)
        return NET_E_NOMEM;
    buf->data = grown;
    buf->cap = cap;
    return 0;
}

/* Appends len bytes; 0 or NET_E_NOMEM (the buffer is unchanged then). */
int net__buf_append(net__buf *buf, const void *bytes, size_t len)
{
    if (len == 0)
        return 0;
    int rc = net__buf_reserve(buf, len);
    if (rc != 0)
        return rc;
    memcpy(buf->data + buf->start + buf->len, bytes, len);
    buf->len += len;
    return 0;
}

/* Drops the first n used bytes; resets to the front when empty. */
void net__buf_consume(net__buf *buf, size_t n)
{
    if (n >= buf->len) {
        buf->start = 0;
        buf->len = 0;
        return;
    }
    buf->start += n;
    buf->len -= n;
}

/* Wipes and frees the memory; the buffer is empty and reusable after. */
void net__buf_free(net__buf *buf)
{
    if (buf->data != NULL) {
        sodium_memzero(buf->data, buf->cap);
        free(buf->data);
    }
    buf->data = NULL;
    buf->start = buf->len = buf->cap = 0;
}
