/*
 * fuzz_block.c — fuzz target for the block decoder (blocks come from peers
 * during catch-up and from disk): no crash or leak; what is accepted
 * re-encodes to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct node_block blk;
    if (node_block_decode(data, size, &blk) != 0)
        return 0;
    struct node_buf again;
    node_buf_init(&again);
    if (node_block_encode(&blk, &again) != 0 || again.len != size ||
        memcmp(again.data, data, size) != 0)
        abort();
    node_buf_free(&again);
    node_block_free(&blk);
    return 0;
}
