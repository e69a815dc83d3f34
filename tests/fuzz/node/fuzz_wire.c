/*
 * fuzz_wire.c — fuzz target for the node's peer-message decoders
 * (node/protocol/protocol.h): the first byte picks the decoder, the rest is the payload a
 * peer sent.  No crash or leak; what is accepted re-encodes to the same
 * bytes (the codecs are strict: one encoding per value).
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts unless the encoder wrote exactly in[0..len). */
static void same(int rc, struct node_buf *b, const uint8_t *in, size_t len)
{
    if (rc != 0 || b->len != len || memcmp(b->data, in, len) != 0)
        abort();
    node_buf_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    struct node_buf b;
    node_buf_init(&b);
    switch (data[0] % 7) {
    case 0: {
        struct node_value v;
        if (node_value_decode(p, n, &v) == 0)
            same(node_value_encode(&v, &b), &b, p, n);
        break;
    }
    case 1: {
        struct node_txset *set;
        if (node_txset_decode(p, n, &set) == 0) {
            same(node_txset_encode(set, &b), &b, p, n);
            node_txset_free(set);
        }
        break;
    }
    case 2: {
        struct node_ledger_sig s;
        if (node_ledger_sig_decode(p, n, &s) == 0)
            same(node_ledger_sig_encode(&s, &b), &b, p, n);
        break;
    }
    case 3: {
        static struct node_certificate c;
        if (node_certificate_decode(p, n, &c) == 0)
            same(node_certificate_encode(&c, &b), &b, p, n);
        break;
    }
    case 4: {
        struct node_status s;
        if (node_status_decode(p, n, &s) == 0)
            same(node_status_encode(&s, &b), &b, p, n);
        break;
    }
    case 5: {
        struct node_range r;
        if (node_range_decode(p, n, &r) == 0)
            same(node_range_encode(&r, &b), &b, p, n);
        break;
    }
    default: {
        struct node_txs t;
        if (node_txs_decode(p, n, &t) == 0) {
            if (t.count < NODE_TX_BATCH_MIN || t.count > NODE_TX_BATCH_MAX)
                abort();
            same(node_txs_encode(&t, &b), &b, p, n);
        }
        break;
    }
    }
    node_buf_free(&b);
    return 0;
}
