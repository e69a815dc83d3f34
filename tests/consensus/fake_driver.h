/*
 * fake_driver.h — a recording driver for unit tests of consensus/: it keeps
 * every emitted envelope, the persisted statements, armed timers and
 * externalized values, so a test can drive one node by hand-crafted
 * statements and check exactly what it says.  Also the test helpers that
 * build node ids, values, quorum sets and signed envelopes.
 * Read consensus/consensus.h first; used by test_ballot.c, test_nomination.c.
 */
#ifndef NANUM_TESTS_FAKE_DRIVER_H
#define NANUM_TESTS_FAKE_DRIVER_H

#include "consensus.h"

#define FAKE_EMITTED_MAX 256
#define FAKE_QSETS_MAX 16
#define FAKE_NODES_MAX 16

struct fake_timer {
    bool armed;
    uint64_t slot;
    uint64_t delay_ms;
    unsigned arm_count;
};

struct fake_driver {
    uint8_t node_id[SCP_NODE_ID_BYTES];
    size_t emitted_count;
    struct scp_envelope *emitted;          /* FAKE_EMITTED_MAX */
    size_t persist_calls;
    size_t persisted_count;
    struct scp_envelope persisted[2];
    int persist_result;                    /* returned by persist */
    bool persisted_before_emit;            /* every emit saw its own persist */
    struct fake_timer timers[SCP_TIMERS_COUNT];
    size_t externalized_count;
    uint64_t externalized_slot;
    struct scp_value externalized_value;
    size_t qsets_count;
    uint8_t qset_hashes[FAKE_QSETS_MAX][SCP_HASH_BYTES];
    const struct scp_qset *qsets[FAKE_QSETS_MAX];
    uint8_t invalid_first_byte;            /* values starting with it: invalid */
    uint8_t maybe_first_byte;              /* ... maybe valid */
    size_t events[16];
};

/* Test hash (BLAKE2b-256 through libsodium) and a keyed-hash "signature":
 * the signature of m by n is H(n || m) twice; anyone can forge it, which
 * is fine in a test that has no attacker who signs as someone else. */
void fake_hash(void *ctx, const uint8_t *data, size_t size, uint8_t out[SCP_HASH_BYTES]);
void fake_signature(const uint8_t node_id[SCP_NODE_ID_BYTES], const uint8_t *message,
                    size_t size, uint8_t signature[SCP_SIGNATURE_BYTES]);
bool fake_verify(void *ctx, const uint8_t node_id[SCP_NODE_ID_BYTES],
                 const uint8_t *message, size_t size,
                 const uint8_t signature[SCP_SIGNATURE_BYTES]);
/* combine_candidates of the tests: the greatest candidate. */
int fake_combine(void *ctx, uint64_t slot, const struct scp_value *candidates,
                 size_t count, struct scp_value *out);

/* Sets up a recording driver for node `node_id`; free with fake_free. */
void fake_init(struct fake_driver *fake, struct scp_driver *driver,
               const uint8_t node_id[SCP_NODE_ID_BYTES]);
void fake_free(struct fake_driver *fake);
/* Registers a quorum set so get_qset finds it by hash. */
void fake_add_qset(struct fake_driver *fake, const struct scp_qset *qset);
/* The most recent emitted envelope, or NULL. */
const struct scp_envelope *fake_last(const struct fake_driver *fake);

/* Helpers: node id i (bytes i+1 repeated), value from a string. */
void test_node_id(uint8_t out[SCP_NODE_ID_BYTES], unsigned i);
void test_value(struct scp_value *out, const char *text);
/* Signs `env` as its statement's node with the fake signature. */
void test_sign(struct scp_envelope *env);
/* Fills node id, slot and qset hash of a statement. */
void test_stamp(struct scp_statement *st, unsigned node, uint64_t slot,
                const struct scp_qset *qset);

#endif
