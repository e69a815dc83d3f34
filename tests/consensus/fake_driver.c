/*
 * fake_driver.c — the recording driver of fake_driver.h.
 */
#include "fake_driver.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void fake_hash(void *ctx, const uint8_t *data, size_t size, uint8_t out[SCP_HASH_BYTES])
{
    (void)ctx;
    crypto_generichash(out, SCP_HASH_BYTES, data, size, NULL, 0);
}

void fake_signature(const uint8_t node_id[SCP_NODE_ID_BYTES], const uint8_t *message,
                    size_t size, uint8_t signature[SCP_SIGNATURE_BYTES])
{
    crypto_generichash_state state;
    uint8_t digest[32];
    crypto_generichash_init(&state, NULL, 0, sizeof digest);
    crypto_generichash_update(&state, node_id, SCP_NODE_ID_BYTES);
    crypto_generichash_update(&state, message, size);
    crypto_generichash_final(&state, digest, sizeof digest);
    memcpy(signature, digest, 32);
    memcpy(signature + 32, digest, 32);
}

bool fake_verify(void *ctx, const uint8_t node_id[SCP_NODE_ID_BYTES],
                 const uint8_t *message, size_t size,
                 const uint8_t signature[SCP_SIGNATURE_BYTES])
{
    (void)ctx;
    uint8_t expected[SCP_SIGNATURE_BYTES];
    fake_signature(node_id, message, size, expected);
    return memcmp(expected, signature, SCP_SIGNATURE_BYTES) == 0;
}

int fake_combine(void *ctx, uint64_t slot, const struct scp_value *candidates,
                 size_t count, struct scp_value *out)
{
    (void)ctx;
    (void)slot;
    size_t best = 0;
    for (size_t i = 1; i < count; i++)
        if (scp_value_compare(&candidates[i], &candidates[best]) > 0)
            best = i;
    *out = candidates[best];
    return 0;
}

static int fake_sign(void *ctx, const uint8_t *message, size_t size,
                     uint8_t signature[SCP_SIGNATURE_BYTES])
{
    struct fake_driver *fake = ctx;
    fake_signature(fake->node_id, message, size, signature);
    return 0;
}

static enum scp_validation fake_validate(void *ctx, uint64_t slot,
                                         const struct scp_value *value, bool nomination)
{
    struct fake_driver *fake = ctx;
    (void)slot;
    (void)nomination;
    if (fake->invalid_first_byte && value->bytes[0] == fake->invalid_first_byte)
        return SCP_VALUE_INVALID;
    if (fake->maybe_first_byte && value->bytes[0] == fake->maybe_first_byte)
        return SCP_VALUE_MAYBE_VALID;
    return SCP_VALUE_VALID;
}

static const struct scp_qset *fake_get_qset(void *ctx, const uint8_t hash[SCP_HASH_BYTES])
{
    struct fake_driver *fake = ctx;
    for (size_t i = 0; i < fake->qsets_count; i++)
        if (memcmp(fake->qset_hashes[i], hash, SCP_HASH_BYTES) == 0)
            return fake->qsets[i];
    return NULL;
}

static int fake_persist(void *ctx, uint64_t slot, const struct scp_envelope *const *own,
                        size_t count)
{
    struct fake_driver *fake = ctx;
    (void)slot;
    fake->persist_calls++;
    if (fake->persist_result)
        return fake->persist_result;
    fake->persisted_count = count;
    for (size_t i = 0; i < count && i < 2; i++)
        fake->persisted[i] = *own[i];
    return 0;
}

static void fake_emit(void *ctx, const struct scp_envelope *envelope)
{
    struct fake_driver *fake = ctx;
    bool seen = false;
    for (size_t i = 0; i < fake->persisted_count; i++)
        seen |= memcmp(&fake->persisted[i].signature, envelope->signature,
                       SCP_SIGNATURE_BYTES) == 0;
    if (!seen)
        fake->persisted_before_emit = false;
    if (fake->emitted_count < FAKE_EMITTED_MAX)
        fake->emitted[fake->emitted_count++] = *envelope;
}

static void fake_set_timer(void *ctx, uint64_t slot, enum scp_timer timer, uint64_t delay_ms)
{
    struct fake_driver *fake = ctx;
    fake->timers[timer].armed = true;
    fake->timers[timer].slot = slot;
    fake->timers[timer].delay_ms = delay_ms;
    fake->timers[timer].arm_count++;
}

static void fake_cancel_timer(void *ctx, uint64_t slot, enum scp_timer timer)
{
    struct fake_driver *fake = ctx;
    (void)slot;
    fake->timers[timer].armed = false;
}

static void fake_externalized(void *ctx, uint64_t slot, const struct scp_value *value)
{
    struct fake_driver *fake = ctx;
    fake->externalized_count++;
    fake->externalized_slot = slot;
    fake->externalized_value = *value;
}

static void fake_event(void *ctx, const struct scp_event *event)
{
    struct fake_driver *fake = ctx;
    if ((size_t)event->type < sizeof fake->events / sizeof fake->events[0])
        fake->events[event->type]++;
}

void fake_init(struct fake_driver *fake, struct scp_driver *driver,
               const uint8_t node_id[SCP_NODE_ID_BYTES])
{
    memset(fake, 0, sizeof *fake);
    memcpy(fake->node_id, node_id, SCP_NODE_ID_BYTES);
    fake->emitted = calloc(FAKE_EMITTED_MAX, sizeof *fake->emitted);
    fake->persisted_before_emit = true;
    *driver = (struct scp_driver){
        .ctx = fake, .sign = fake_sign, .verify = fake_verify, .hash = fake_hash,
        .validate_value = fake_validate, .combine_candidates = fake_combine,
        .get_qset = fake_get_qset, .persist = fake_persist, .emit = fake_emit,
        .set_timer = fake_set_timer, .cancel_timer = fake_cancel_timer,
        .externalized = fake_externalized, .event = fake_event,
    };
}

void fake_free(struct fake_driver *fake)
{
    free(fake->emitted);
    fake->emitted = NULL;
}

void fake_add_qset(struct fake_driver *fake, const struct scp_qset *qset)
{
    uint8_t buffer[4096];
    size_t size;
    if (fake->qsets_count >= FAKE_QSETS_MAX || scp_qset_encode(qset, buffer, sizeof buffer, &size))
        abort();
    fake_hash(NULL, buffer, size, fake->qset_hashes[fake->qsets_count]);
    fake->qsets[fake->qsets_count++] = qset;
}

const struct scp_envelope *fake_last(const struct fake_driver *fake)
{
    return fake->emitted_count ? &fake->emitted[fake->emitted_count - 1] : NULL;
}

void test_node_id(uint8_t out[SCP_NODE_ID_BYTES], unsigned i)
{
    memset(out, (int)(i + 1), SCP_NODE_ID_BYTES);
}

void test_value(struct scp_value *out, const char *text)
{
    out->size = (uint32_t)strlen(text);
    memcpy(out->bytes, text, out->size);
}

void test_sign(struct scp_envelope *env)
{
    uint8_t buffer[SCP_ENVELOPE_BYTES_MAX];
    size_t size;
    if (scp_statement_encode(&env->statement, buffer, sizeof buffer, &size))
        abort();
    fake_signature(env->statement.node_id, buffer, size, env->signature);
}

void test_stamp(struct scp_statement *st, unsigned node, uint64_t slot,
                const struct scp_qset *qset)
{
    uint8_t buffer[4096];
    size_t size;
    test_node_id(st->node_id, node);
    st->slot = slot;
    if (scp_qset_encode(qset, buffer, sizeof buffer, &size))
        abort();
    fake_hash(NULL, buffer, size, st->qset_hash);
}
