/*
 * make_vectors.c — prints spec/vectors/transactions.txt: for every sample
 * transaction, its name, the hex of its signed envelope, and its id.
 *
 *   build/tests/node/make-vectors > spec/vectors/transactions.txt
 *
 * test_codec.c checks the committed file against the code, byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>

#include "samples.h"

int main(void)
{
    if (node_crypto_init() != 0)
        return 1;
    uint8_t network_id[NODE_HASH_BYTES];
    sample_network_id(network_id);
    char hex[2 * NODE_TX_BYTES_MAX + 1];
    node_hex_encode(network_id, NODE_HASH_BYTES, hex);
    printf("# nanum transaction test vectors (spec/encoding.md, spec/transactions.md)\n"
           "# Keys: Ed25519 from 32-byte seeds of 0x01 (source) and 0x02 (other party).\n"
           "# network_id = BLAKE2b-256(\"nanum test vectors\") = %s\n"
           "# Each vector: a line 'name: <name>', then 'envelope: <hex>', then 'tx_id: <hex>'.\n",
           hex);
    for (int i = 0; i < SAMPLE_COUNT; i++) {
        struct node_tx tx;
        uint8_t sk[NODE_SECRET_KEY_BYTES], id[NODE_HASH_BYTES];
        const char *name = sample_tx(i, &tx, sk);
        struct node_tx_envelope env;
        struct node_buf b;
        node_buf_init(&b);
        if (node_tx_sign(&tx, network_id, sk, &env) != 0 || node_envelope_encode(&env, &b) != 0 ||
            node_tx_hash(&tx, network_id, id) != 0)
            return 1;
        node_hex_encode(b.data, b.len, hex);
        printf("\nname: %s\nenvelope: %s\n", name, hex);
        node_hex_encode(id, NODE_HASH_BYTES, hex);
        printf("tx_id: %s\n", hex);
        node_buf_free(&b);
    }
    return 0;
}
