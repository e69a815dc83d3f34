/*
 * fuzz_genesis.c — fuzz target for the genesis reader: any bytes give either
 * a parsed genesis or NODE_E_GENESIS with a message, never a crash or leak;
 * an accepted genesis re-parses to the same network id.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct node_genesis g, again;
    char err[256];
    int rc = node_genesis_parse((const char *)data, size, &g, err, sizeof err);
    if (rc != 0) {
        if (rc == NODE_E_GENESIS && err[0] == '\0')
            abort(); /* every refusal says why */
        return 0;
    }
    if (node_genesis_parse((const char *)data, size, &again, err, sizeof err) != 0 ||
        memcmp(g.network_id, again.network_id, NODE_HASH_BYTES) != 0)
        abort();
    node_genesis_free(&g);
    node_genesis_free(&again);
    return 0;
}
