/*
 * test_net_stream.c — net/stream.c against libsodium's secretstream.
 *
 * The frames are sealed with OpenSSL's ChaCha20-Poly1305 but must be, byte
 * for byte, what crypto_secretstream_xchacha20poly1305 would send; and the
 * state after each message must be the same, rekeys included.  libsodium
 * is the reference here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net_internal.h"

#define ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define TAG_MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_PUSH crypto_secretstream_xchacha20poly1305_TAG_PUSH
#define TAG_REKEY crypto_secretstream_xchacha20poly1305_TAG_REKEY
#define TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define MESSAGE_MAX 5000

typedef crypto_secretstream_xchacha20poly1305_state sodium_state;

/* A sender and receiver pair from one key and header. */
static void fresh_states(sodium_state *push, sodium_state *pull)
{
    uint8_t key[32], header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
    crypto_secretstream_xchacha20poly1305_keygen(key);
    crypto_secretstream_xchacha20poly1305_init_push(push, header, key);
    crypto_secretstream_xchacha20poly1305_init_pull(pull, header, key);
}

static void assert_same_state(const net__stream *ours, const sodium_state *ref)
{
    assert_memory_equal(ours->s.k, ref->k, sizeof ref->k);
    assert_memory_equal(ours->s.nonce, ref->nonce, sizeof ref->nonce);
}

/* The message length of step i: every small length, then scattered ones. */
static size_t length_of(unsigned i)
{
    return i < 200 ? i : (size_t)randombytes_uniform(MESSAGE_MAX + 1);
}

static uint8_t tag_of(unsigned i)
{
    static const uint8_t tags[] = {TAG_MESSAGE, TAG_MESSAGE, TAG_PUSH,
                                   TAG_MESSAGE, TAG_REKEY, TAG_FINAL};
    return tags[i % sizeof tags];
}

static void push_is_byte_for_byte_libsodium(void **unused)
{
    (void)unused;
    static uint8_t m[MESSAGE_MAX], ours[MESSAGE_MAX + ABYTES],
        ref[MESSAGE_MAX + ABYTES], ad[40];
    sodium_state push, pull;
    fresh_states(&push, &pull);
    net__stream st;
    net__stream_init(&st, &push);
    for (unsigned i = 0; i < 600; i++) {
        size_t len = length_of(i), ad_len = i % sizeof ad;
        uint8_t tag = tag_of(i);
        randombytes_buf(m, len);
        randombytes_buf(ad, ad_len);
        assert_int_equal(net__stream_push(&st, ours, m, len, ad, ad_len, tag), 0);
        unsigned long long ref_len = 0;
        crypto_secretstream_xchacha20poly1305_push(&push, ref, &ref_len, m, len,
                                                   ad, ad_len, tag);
        assert_int_equal(ref_len, len + ABYTES);
        assert_memory_equal(ours, ref, len + ABYTES);
        assert_same_state(&st, &push);
    }
    net__stream_wipe(&st);
}

static void pull_opens_what_libsodium_sealed(void **unused)
{
    (void)unused;
    static uint8_t m[MESSAGE_MAX], got[MESSAGE_MAX], c[MESSAGE_MAX + ABYTES],
        ad[40];
    sodium_state push, pull;
    fresh_states(&push, &pull);
    net__stream st;
    net__stream_init(&st, &pull);
    for (unsigned i = 0; i < 600; i++) {
        size_t len = length_of(i), ad_len = (i * 7) % sizeof ad, got_len = 0;
        uint8_t tag = tag_of(i), got_tag = 0xee;
        randombytes_buf(m, len);
        randombytes_buf(ad, ad_len);
        crypto_secretstream_xchacha20poly1305_push(&push, c, NULL, m, len, ad,
                                                   ad_len, tag);
        assert_int_equal(net__stream_pull(&st, got, &got_len, &got_tag, c,
                                          len + ABYTES, ad, ad_len), 0);
        assert_int_equal(got_len, len);
        assert_int_equal(got_tag, tag);
        assert_memory_equal(got, m, len);
        assert_same_state(&st, &push);
    }
    net__stream_wipe(&st);
}

static void two_parts_seal_as_one(void **unused)
{
    (void)unused;
    uint8_t m[300], one[300 + ABYTES], two[300 + ABYTES], ad[4] = {1, 2, 3, 4};
    sodium_state push, pull;
    fresh_states(&push, &pull);
    randombytes_buf(m, sizeof m);
    for (size_t split = 0; split <= sizeof m; split += 13) {
        net__stream a, b;
        net__stream_init(&a, &push);
        net__stream_init(&b, &push);
        assert_int_equal(net__stream_push(&a, one, m, sizeof m, ad, 4, TAG_MESSAGE), 0);
        assert_int_equal(net__stream_push_parts(&b, two, m, split, m + split,
                                                sizeof m - split, ad, 4,
                                                TAG_MESSAGE), 0);
        assert_memory_equal(one, two, sizeof one);
        assert_memory_equal(a.s.nonce, b.s.nonce, sizeof a.s.nonce);
        net__stream_wipe(&a);
        net__stream_wipe(&b);
    }
}

/* The 32-bit counter wraps after 2^32 messages; both sides rekey then. */
static void counter_wrap_rekeys_like_libsodium(void **unused)
{
    (void)unused;
    uint8_t m[100], c[100 + ABYTES], ref[100 + ABYTES], got[100];
    sodium_state push, pull;
    fresh_states(&push, &pull);
    memset(push.nonce, 0xff, 4); /* counter 2^32 - 1, little-endian */
    memset(pull.nonce, 0xff, 4);
    uint8_t initial_key[32];
    memcpy(initial_key, push.k, sizeof initial_key);
    net__stream tx, rx;
    net__stream_init(&tx, &push);
    net__stream_init(&rx, &pull);
    for (int i = 0; i < 3; i++) {
        randombytes_buf(m, sizeof m);
        assert_int_equal(net__stream_push(&tx, c, m, sizeof m, NULL, 0, TAG_MESSAGE), 0);
        crypto_secretstream_xchacha20poly1305_push(&push, ref, NULL, m, sizeof m,
                                                   NULL, 0, TAG_MESSAGE);
        assert_memory_equal(c, ref, sizeof c);
        assert_same_state(&tx, &push);
        size_t got_len = 0;
        uint8_t tag = 0;
        assert_int_equal(net__stream_pull(&rx, got, &got_len, &tag, c, sizeof c,
                                          NULL, 0), 0);
        assert_memory_equal(got, m, sizeof m);
        assert_same_state(&rx, &push);
    }
    /* The first message wrapped the counter: both sides rekeyed. */
    assert_memory_not_equal(tx.s.k, initial_key, sizeof initial_key);
    net__stream_wipe(&tx);
    net__stream_wipe(&rx);
}

/* Any changed bit of the ciphertext or the additional data fails, leaves
 * the state as it was and the output wiped; then the true message opens. */
static void forgeries_fail_and_change_nothing(void **unused)
{
    (void)unused;
    uint8_t m[64], c[64 + ABYTES], bad[64 + ABYTES], got[64], ad[4] = {9, 8, 7, 6};
    sodium_state push, pull;
    fresh_states(&push, &pull);
    randombytes_buf(m, sizeof m);
    crypto_secretstream_xchacha20poly1305_push(&push, c, NULL, m, sizeof m, ad,
                                               sizeof ad, TAG_MESSAGE);
    net__stream rx;
    net__stream_init(&rx, &pull);
    for (size_t bit = 0; bit < (sizeof c + sizeof ad) * 8; bit++) {
        uint8_t bad_ad[4];
        memcpy(bad, c, sizeof c);
        memcpy(bad_ad, ad, sizeof ad);
        if (bit < sizeof c * 8)
            bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        else
            bad_ad[bit / 8 - sizeof c] ^= (uint8_t)(1u << (bit % 8));
        memset(got, 0xaa, sizeof got);
        size_t got_len = 12345;
        uint8_t tag = 77;
        assert_int_equal(net__stream_pull(&rx, got, &got_len, &tag, bad, sizeof bad,
                                          bad_ad, sizeof bad_ad), NET_E_FRAME);
        assert_int_equal(got_len, 12345);
        assert_int_equal(tag, 77);
        for (size_t i = 0; i < sizeof got; i++)
            assert_int_equal(got[i], 0xaa); /* nothing deciphered */
        assert_same_state(&rx, &pull);
    }
    /* Too short to hold the tag byte and the MAC. */
    size_t got_len = 0;
    uint8_t tag = 0;
    assert_int_equal(net__stream_pull(&rx, got, &got_len, &tag, c, ABYTES - 1, ad,
                                      sizeof ad), NET_E_FRAME);
    assert_int_equal(net__stream_pull(&rx, got, &got_len, &tag, c, sizeof c, ad,
                                      sizeof ad), 0);
    assert_memory_equal(got, m, sizeof m);
    net__stream_wipe(&rx);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(push_is_byte_for_byte_libsodium),
        cmocka_unit_test(pull_opens_what_libsodium_sealed),
        cmocka_unit_test(two_parts_seal_as_one),
        cmocka_unit_test(counter_wrap_rekeys_like_libsodium),
        cmocka_unit_test(forgeries_fail_and_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
