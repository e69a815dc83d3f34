/*
 * fuzz_envelope.c — fuzz target for the transaction decoder.
 *
 * For any input: the decoder must not crash or leak; if it accepts, the
 * result must re-encode to exactly the input (canonical), and msgpack-c's
 * own unpacker must read the same bytes as one complete object (we accept
 * nothing that is not msgpack).
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct node_tx_envelope env;
    if (node_envelope_decode(data, size, &env) != 0)
        return 0;
    struct node_buf again;
    node_buf_init(&again);
    if (node_envelope_encode(&env, &again) != 0 || again.len != size ||
        memcmp(again.data, data, size) != 0)
        abort(); /* accepted but not canonical */
    node_buf_free(&again);
    msgpack_zone zone;
    msgpack_zone_init(&zone, 2048);
    msgpack_object obj;
    size_t offset = 0;
    msgpack_unpack_return r = msgpack_unpack((const char *)data, size, &offset, &zone, &obj);
    if (r != MSGPACK_UNPACK_SUCCESS || offset != size || obj.type != MSGPACK_OBJECT_ARRAY)
        abort(); /* we accepted something msgpack-c does not read as one array */
    msgpack_zone_destroy(&zone);
    return 0;
}
