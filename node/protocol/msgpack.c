/*
 * mp.c — the strict msgpack reader and the packer glue behind node/protocol/protocol_internal.h.
 *
 * Accepted encodings (spec/encoding.md §2): positive fixint, uint 8/16/32/64;
 * fixarray, array 16/32; bin 8/16/32; fixstr, str 8/16/32; true/false.  Each
 * only when no shorter form could hold the value.  Everything else is
 * refused: negative integers, floats, nil, ext, and maps.
 */
#include <string.h>

#include "protocol_internal.h"

static uint64_t read_be(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads a big-endian length or value of `bytes` bytes after the tag byte. */
static int read_tail(struct node__reader *r, unsigned bytes, uint64_t *value)
{
    if ((size_t)(r->end - r->p) < 1 + (size_t)bytes)
        return NODE_E_TRUNCATED;
    *value = read_be(r->p + 1, bytes);
    r->p += 1 + bytes;
    return 0;
}

/* Classifies the tag of a value that is not what the caller wanted. */
static int wrong_type(uint8_t tag)
{
    if ((tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf)
        return NODE_E_MAP_NOT_ALLOWED;
    return NODE_E_WRONG_TYPE;
}

int node__read_array(struct node__reader *r, uint32_t *count)
{
    if (r->p >= r->end)
        return NODE_E_TRUNCATED;
    uint8_t tag = r->p[0];
    uint64_t n;
    int rc;
    if ((tag & 0xf0) == 0x90) {
        *count = tag & 0x0f;
        r->p++;
        return 0;
    }
    if (tag == 0xdc) {
        if ((rc = read_tail(r, 2, &n)) != 0)
            return rc;
        if (n < 16)
            return NODE_E_NON_MINIMAL;
    } else if (tag == 0xdd) {
        if ((rc = read_tail(r, 4, &n)) != 0)
            return rc;
        if (n < 65536)
            return NODE_E_NON_MINIMAL;
    } else {
        return wrong_type(tag);
    }
    /* Every element takes at least one byte: a count beyond the input is a
     * truncation, caught here before any caller allocates for it. */
    if (n > (uint64_t)(r->end - r->p))
        return NODE_E_TRUNCATED;
    *count = (uint32_t)n;
    return 0;
}

int node__read_array_exact(struct node__reader *r, uint32_t count)
{
    uint32_t n;
    int rc = node__read_array(r, &n);
    if (rc != 0)
        return rc;
    return n == count ? 0 : NODE_E_FIELD_COUNT;
}

int node__read_uint(struct node__reader *r, uint64_t max, uint64_t *value)
{
    if (r->p >= r->end)
        return NODE_E_TRUNCATED;
    uint8_t tag = r->p[0];
    uint64_t v;
    int rc;
    if (tag <= 0x7f) {
        v = tag;
        r->p++;
    } else if (tag >= 0xcc && tag <= 0xcf) {
        static const unsigned widths[] = {1, 2, 4, 8};
        static const uint64_t floors[] = {0x80, 0x100, 0x10000, 0x100000000ULL};
        unsigned i = tag - 0xcc;
        const uint8_t *start = r->p;
        if ((rc = read_tail(r, widths[i], &v)) != 0)
            return rc;
        if (v < floors[i]) {
            r->p = start;
            return NODE_E_NON_MINIMAL;
        }
    } else {
        return wrong_type(tag);
    }
    if (v > max)
        return NODE_E_BAD_VALUE;
    *value = v;
    return 0;
}

int node__read_u32(struct node__reader *r, uint32_t max, uint32_t *value)
{
    uint64_t v;
    int rc = node__read_uint(r, max, &v);
    if (rc == 0)
        *value = (uint32_t)v;
    return rc;
}

int node__read_u16(struct node__reader *r, uint16_t max, uint16_t *value)
{
    uint64_t v;
    int rc = node__read_uint(r, max, &v);
    if (rc == 0)
        *value = (uint16_t)v;
    return rc;
}

int node__read_u8(struct node__reader *r, uint8_t max, uint8_t *value)
{
    uint64_t v;
    int rc = node__read_uint(r, max, &v);
    if (rc == 0)
        *value = (uint8_t)v;
    return rc;
}

int node__read_bool(struct node__reader *r, bool *value)
{
    if (r->p >= r->end)
        return NODE_E_TRUNCATED;
    if (r->p[0] == 0xc2 || r->p[0] == 0xc3) {
        *value = r->p[0] == 0xc3;
        r->p++;
        return 0;
    }
    return wrong_type(r->p[0]);
}

/* Reads a bin or str header; *len is the body length, the cursor is left on
 * the body.  is_str selects which family is accepted. */
static int read_blob_header(struct node__reader *r, bool is_str, size_t *len)
{
    if (r->p >= r->end)
        return NODE_E_TRUNCATED;
    uint8_t tag = r->p[0];
    uint64_t n;
    int rc;
    unsigned width;
    if (is_str && (tag & 0xe0) == 0xa0) {
        n = tag & 0x1f;
        r->p++;
        width = 0;
    } else if ((is_str && tag >= 0xd9 && tag <= 0xdb) || (!is_str && tag >= 0xc4 && tag <= 0xc6)) {
        unsigned i = is_str ? tag - 0xd9 : tag - 0xc4;
        width = 1u << i; /* 1, 2, 4 */
        if ((rc = read_tail(r, width, &n)) != 0)
            return rc;
        uint64_t floor = width == 1 ? (is_str ? 32 : 0) : width == 2 ? 256 : 65536;
        if (n < floor)
            return NODE_E_NON_MINIMAL;
    } else {
        return wrong_type(tag);
    }
    if (n > (uint64_t)(r->end - r->p))
        return NODE_E_TRUNCATED;
    *len = (size_t)n;
    return 0;
}

int node__read_bin(struct node__reader *r, size_t max, const uint8_t **bytes, size_t *len)
{
    size_t n;
    int rc = read_blob_header(r, false, &n);
    if (rc != 0)
        return rc;
    if (n > max)
        return NODE_E_TOO_LONG;
    *bytes = r->p;
    *len = n;
    r->p += n;
    return 0;
}

int node__read_bin_fixed(struct node__reader *r, uint8_t *out, size_t len)
{
    const uint8_t *bytes;
    size_t n;
    int rc = node__read_bin(r, SIZE_MAX, &bytes, &n);
    if (rc != 0)
        return rc;
    if (n != len)
        return NODE_E_BAD_LENGTH;
    memcpy(out, bytes, len);
    return 0;
}

int node__read_str(struct node__reader *r, size_t max, char *out)
{
    size_t n;
    int rc = read_blob_header(r, true, &n);
    if (rc != 0)
        return rc;
    if (n > max)
        return NODE_E_TOO_LONG;
    if (!node__utf8_valid((const char *)r->p, n))
        return NODE_E_BAD_UTF8;
    memcpy(out, r->p, n);
    out[n] = '\0';
    r->p += n;
    return 0;
}

int node__read_end(const struct node__reader *r)
{
    return r->p == r->end ? 0 : NODE_E_TRAILING_BYTES;
}

bool node__utf8_valid(const char *text, size_t len)
{
    const uint8_t *s = (const uint8_t *)text;
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        uint32_t cp;
        unsigned extra;
        if (c == 0)
            return false; /* NUL would truncate the C string */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f;
            extra = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f;
            extra = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07;
            extra = 3;
        } else {
            return false;
        }
        if (len - i <= extra)
            return false;
        for (unsigned k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += 1 + extra;
    }
    return true;
}

static int buf_write(void *data, const char *bytes, size_t len)
{
    return node_buf_append(data, bytes, len) == 0 ? 0 : -1;
}

void node__packer_init(msgpack_packer *pk, struct node_buf *out)
{
    msgpack_packer_init(pk, out, buf_write);
}

void node__pack_bin(msgpack_packer *pk, const uint8_t *bytes, size_t len)
{
    msgpack_pack_bin(pk, len);
    msgpack_pack_bin_body(pk, bytes, len);
}

void node__pack_str(msgpack_packer *pk, const char *text)
{
    size_t len = strlen(text);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, text, len);
}

void node__pack_bool(msgpack_packer *pk, bool value)
{
    if (value)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}
