/*
 * fuzz_envelope.c — libFuzzer target for consensus/'s envelope decoder.
 *
 * Properties checked on every input: scp_envelope_decode never crashes;
 * whatever it accepts re-encodes to exactly the input bytes (strictness);
 * the same bytes as a quorum set decode strictly too; and an accepted
 * envelope fed to a fresh node (signatures always "valid", one fixed
 * quorum set) never breaks the state machine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus.h"

static uint8_t peers[4][SCP_NODE_ID_BYTES];

/* FNV-1a spread over 32 bytes: deterministic, not cryptographic. */
static void fuzz_hash(void *ctx, const uint8_t *data, size_t size, uint8_t out[SCP_HASH_BYTES])
{
    (void)ctx;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    for (int i = 0; i < SCP_HASH_BYTES; i++) {
        h = (h ^ (uint64_t)i) * 1099511628211ull;
        out[i] = (uint8_t)(h >> 56);
    }
}

static int fuzz_sign(void *ctx, const uint8_t *m, size_t n, uint8_t sig[SCP_SIGNATURE_BYTES])
{
    (void)ctx, (void)m, (void)n;
    memset(sig, 0, SCP_SIGNATURE_BYTES);
    return 0;
}

static bool fuzz_verify(void *ctx, const uint8_t id[SCP_NODE_ID_BYTES], const uint8_t *m, size_t n,
                        const uint8_t sig[SCP_SIGNATURE_BYTES])
{
    (void)ctx, (void)id, (void)m, (void)n, (void)sig;
    return true;
}

static enum scp_validation fuzz_validate(void *ctx, uint64_t slot, const struct scp_value *v, bool nom)
{
    (void)ctx, (void)slot, (void)nom;
    return v->bytes[0] == 0xff ? SCP_VALUE_INVALID : SCP_VALUE_VALID;
}

static int fuzz_combine(void *ctx, uint64_t slot, const struct scp_value *c, size_t count,
                        struct scp_value *out)
{
    (void)ctx, (void)slot;
    *out = c[count - 1];
    return 0;
}

static const struct scp_qset the_qset = {3, 4, (const uint8_t(*)[SCP_NODE_ID_BYTES])peers, 0, NULL};

static const struct scp_qset *fuzz_get_qset(void *ctx, const uint8_t hash[SCP_HASH_BYTES])
{
    (void)ctx, (void)hash;
    return &the_qset;
}

static int fuzz_persist(void *ctx, uint64_t slot, const struct scp_envelope *const *own, size_t n)
{
    (void)ctx, (void)slot, (void)own, (void)n;
    return 0;
}

static void fuzz_emit(void *ctx, const struct scp_envelope *env) { (void)ctx, (void)env; }
static void fuzz_set_timer(void *ctx, uint64_t s, enum scp_timer t, uint64_t ms) { (void)ctx, (void)s, (void)t, (void)ms; }
static void fuzz_cancel_timer(void *ctx, uint64_t s, enum scp_timer t) { (void)ctx, (void)s, (void)t; }
static void fuzz_externalized(void *ctx, uint64_t s, const struct scp_value *v) { (void)ctx, (void)s, (void)v; }

static void feed_to_node(const struct scp_envelope *env)
{
    static const struct scp_driver driver = {
        .sign = fuzz_sign, .verify = fuzz_verify, .hash = fuzz_hash,
        .validate_value = fuzz_validate, .combine_candidates = fuzz_combine,
        .get_qset = fuzz_get_qset, .persist = fuzz_persist, .emit = fuzz_emit,
        .set_timer = fuzz_set_timer, .cancel_timer = fuzz_cancel_timer,
        .externalized = fuzz_externalized,
    };
    for (int i = 0; i < 4; i++)
        memset(peers[i], i + 1, SCP_NODE_ID_BYTES);
    struct scp *scp;
    if (scp_create(&driver, peers[0], &the_qset, &scp) != 0)
        abort();
    struct scp_value v = {.size = 1, .bytes = {7}}, prev = {.size = 1, .bytes = {1}};
    scp_nominate(scp, env->statement.slot, &v, &prev);
    scp_receive_envelope(scp, env);
    scp_timer_fired(scp, env->statement.slot, SCP_TIMER_BALLOT);
    scp_destroy(scp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct scp_envelope env;
    static uint8_t again[SCP_ENVELOPE_BYTES_MAX];
    if (scp_envelope_decode(data, size, &env) == 0) {
        size_t again_size = 0;
        if (scp_envelope_encode(&env, again, sizeof again, &again_size) != 0 ||
            again_size != size || memcmp(again, data, size) != 0)
            abort();
        scp_statement_check(&env.statement);
        feed_to_node(&env);
    }
    struct scp_qset *qset = NULL;
    if (scp_qset_decode(data, size, &qset) == 0) {
        if (scp_qset_check(qset) != 0)
            abort();
        scp_qset_free(qset);
    }
    return 0;
}
