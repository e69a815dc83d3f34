/*
 * mp.h — node/'s internal msgpack helpers: a strict reader and a packer.
 *
 * Writing goes through msgpack-c's packer, which always picks the shortest
 * encoding.  Reading is our own cursor over the bytes, because nanum's
 * decoding is strict (DESIGN §3): only the shortest encoding of each length
 * and integer is accepted, maps are refused where arrays belong, and each
 * violation has its own error code.  A strictly decoded message therefore
 * re-encodes to the same bytes; the codec tests check that for every type.
 *
 * Read next: node/protocol/codec.c.
 */
#ifndef NANUM_NODE_MP_H
#define NANUM_NODE_MP_H

#include <msgpack.h>

#include "protocol.h"

struct node__reader {
    const uint8_t *p;
    const uint8_t *end;
};

static inline void node__reader_init(struct node__reader *r, const uint8_t *bytes, size_t len)
{
    r->p = bytes;
    r->end = bytes + len;
}

/* Each returns 0 or a NODE_E_* code, and advances the cursor on success. */
int node__read_array(struct node__reader *r, uint32_t *count);
int node__read_array_exact(struct node__reader *r, uint32_t count);
int node__read_uint(struct node__reader *r, uint64_t max, uint64_t *value);
int node__read_u32(struct node__reader *r, uint32_t max, uint32_t *value);
int node__read_u16(struct node__reader *r, uint16_t max, uint16_t *value);
int node__read_u8(struct node__reader *r, uint8_t max, uint8_t *value);
int node__read_bool(struct node__reader *r, bool *value);
/* A bin of any length up to max: *bytes points into the input. */
int node__read_bin(struct node__reader *r, size_t max, const uint8_t **bytes, size_t *len);
/* A bin of exactly len bytes, copied to out. */
int node__read_bin_fixed(struct node__reader *r, uint8_t *out, size_t len);
/* A UTF-8 str of at most max bytes, copied NUL-terminated into out (max+1). */
int node__read_str(struct node__reader *r, size_t max, char *out);
/* NODE_E_TRAILING_BYTES unless the cursor is at the end. */
int node__read_end(const struct node__reader *r);

/* true if text (len bytes) is valid UTF-8 without NUL or overlong forms. */
bool node__utf8_valid(const char *text, size_t len);

/* A packer that appends to a node_buf. */
void node__packer_init(msgpack_packer *pk, struct node_buf *out);
void node__pack_bin(msgpack_packer *pk, const uint8_t *bytes, size_t len);
void node__pack_str(msgpack_packer *pk, const char *text);
void node__pack_bool(msgpack_packer *pk, bool value);

/* Returns from the calling function with expr's code when it is not 0. */
#define TRY(expr)              \
    do {                       \
        int rc_ = (expr);      \
        if (rc_ != 0)          \
            return rc_;        \
    } while (0)

/* The end of every encoder: NODE_E_NOMEM if an append failed. */
static inline int node__finish(const struct node_buf *out)
{
    return out->failed ? NODE_E_NOMEM : 0;
}

/* Shared by the transaction and record codecs (node/protocol/codec.c). */
void node__pack_proposal_body(msgpack_packer *pk, const struct node_proposal_body *b);
int node__read_proposal_body(struct node__reader *r, struct node_proposal_body *b);
void node__pack_validator(msgpack_packer *pk, const struct node_validator *v);
int node__read_validator(struct node__reader *r, struct node_validator *v);

#endif
