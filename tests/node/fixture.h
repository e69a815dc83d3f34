/*
 * fixture.h — a small ledger for tests: deterministic keys, a genesis with an
 * org, members and a non-member, and helpers that sign and apply one
 * transaction and report its result code.
 *
 * Accounts (index → role):  0 org "Hanbat Car Co-op" (org, member)
 *                            1 alice (member)   2 bob (member)
 *                            3 carol (no role)  4 dave (member)
 * Each starts with 1,000.00.  Validators: three node keys of org 0.
 */
#ifndef NANUM_TEST_FIXTURE_H
#define NANUM_TEST_FIXTURE_H

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

#define FX_ACCOUNTS 6  /* index 5: not in genesis ("erin") */
#define FX_VALIDATORS 3
#define FX_GENESIS_TIME 1767225600ULL /* 2026-01-01T00:00:00Z */
#define FX_BALANCE 100000ULL          /* 1,000.00 */

enum { FX_ORG = 0, FX_ALICE, FX_BOB, FX_CAROL, FX_DAVE, FX_ERIN };

struct fx {
    ledger_state *st;
    struct ledger_context ctx;
    struct node_genesis genesis;
    uint8_t pk[FX_ACCOUNTS][NODE_KEY_BYTES];
    uint8_t sk[FX_ACCOUNTS][NODE_SECRET_KEY_BYTES];
    uint8_t node_pk[FX_VALIDATORS][NODE_KEY_BYTES];
    struct node_tx_result last;
};

/* A keypair from a one-byte seed: the same everywhere, every run. */
static inline void fx_keypair(uint8_t seed_byte, uint8_t pk[NODE_KEY_BYTES],
                              uint8_t sk[NODE_SECRET_KEY_BYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* Builds the genesis described above (as node_genesis_parse would). */
static inline void fx_genesis(struct fx *f)
{
    struct node_genesis *g = &f->genesis;
    memset(g, 0, sizeof *g);
    snprintf(g->network, sizeof g->network, "fixture");
    g->close_time = FX_GENESIS_TIME;
    node_params_default(&g->params);
    g->account_count = 5;
    g->accounts = calloc(5, sizeof *g->accounts);
    static const uint32_t flags[5] = {NODE_ACCOUNT_ORG | NODE_ACCOUNT_MEMBER, NODE_ACCOUNT_MEMBER,
                                      NODE_ACCOUNT_MEMBER, 0, NODE_ACCOUNT_MEMBER};
    for (int i = 0; i < 5; i++) {
        memcpy(g->accounts[i].key, f->pk[i], NODE_KEY_BYTES);
        g->accounts[i].balance = FX_BALANCE;
        g->accounts[i].flags = flags[i];
    }
    snprintf(g->accounts[0].name, sizeof g->accounts[0].name, "Hanbat Car Co-op");
    g->validators.count = FX_VALIDATORS;
    g->validators.validators = calloc(FX_VALIDATORS, sizeof *g->validators.validators);
    for (int i = 0; i < FX_VALIDATORS; i++) {
        memcpy(g->validators.validators[i].node_key, f->node_pk[i], NODE_KEY_BYTES);
        memcpy(g->validators.validators[i].org, f->pk[FX_ORG], NODE_KEY_BYTES);
    }
    /* Sorted by key, as the parser leaves them. */
    for (uint32_t i = 1; i < g->account_count; i++)
        for (uint32_t j = i; j > 0 && memcmp(g->accounts[j - 1].key, g->accounts[j].key, 32) > 0; j--) {
            struct node_genesis_account t = g->accounts[j];
            g->accounts[j] = g->accounts[j - 1];
            g->accounts[j - 1] = t;
        }
    for (uint32_t i = 1; i < FX_VALIDATORS; i++)
        for (uint32_t j = i; j > 0 && memcmp(g->validators.validators[j - 1].node_key,
                                             g->validators.validators[j].node_key, 32) > 0; j--) {
            struct node_validator t = g->validators.validators[j];
            g->validators.validators[j] = g->validators.validators[j - 1];
            g->validators.validators[j - 1] = t;
        }
    struct node_buf b;
    node_buf_init(&b);
    node_genesis_encode(g, &b);
    node_hash(b.data, b.len, g->network_id);
    node_buf_free(&b);
}

static inline struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof *f);
    if (f == NULL || node_crypto_init() != 0)
        abort();
    for (int i = 0; i < FX_ACCOUNTS; i++)
        fx_keypair((uint8_t)(i + 1), f->pk[i], f->sk[i]);
    for (int i = 0; i < FX_VALIDATORS; i++) {
        uint8_t sk[NODE_SECRET_KEY_BYTES];
        fx_keypair((uint8_t)(100 + i), f->node_pk[i], sk);
    }
    fx_genesis(f);
    if (ledger_state_create(NULL, &f->st) != 0 || ledger_apply_genesis(f->st, &f->genesis) != 0)
        abort();
    f->ctx.height = 1;
    f->ctx.close_time = FX_GENESIS_TIME + 60;
    memcpy(f->ctx.network_id, f->genesis.network_id, NODE_HASH_BYTES);
    return f;
}

static inline void fx_free(struct fx *f)
{
    if (f == NULL)
        return;
    ledger_state_destroy(f->st);
    node_genesis_free(&f->genesis);
    free(f);
}

static inline struct node_account fx_account(struct fx *f, int who)
{
    struct node_account a;
    memset(&a, 0, sizeof a);
    if (ledger_account_get(f->st, f->pk[who], &a) != 0)
        memset(&a, 0, sizeof a);
    return a;
}

static inline struct node_account fx_commons(struct fx *f)
{
    struct node_account a;
    memset(&a, 0, sizeof a);
    ledger_account_get(f->st, node_commons_key, &a);
    return a;
}

/* A transaction of `type` from `who` with the next sequence number and the
 * base fee; the caller fills the body. */
static inline struct node_tx fx_tx(struct fx *f, int who, unsigned type)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = NODE_TX_VERSION;
    tx.type = (uint8_t)type;
    memcpy(tx.source, f->pk[who], NODE_KEY_BYTES);
    tx.seq = fx_account(f, who).seq + 1;
    struct node_params p;
    ledger_params_get(f->st, &p);
    tx.fee = p.values[NODE_PARAM_base_fee];
    return tx;
}

/* Signs tx with who's key, applies it, and returns the result code. */
static inline unsigned fx_apply_as(struct fx *f, int signer, const struct node_tx *tx)
{
    struct node_tx_envelope env;
    struct node_buf b;
    node_buf_init(&b);
    if (node_tx_sign(tx, f->ctx.network_id, f->sk[signer], &env) != 0 ||
        node_envelope_encode(&env, &b) != 0)
        abort();
    if (ledger_apply_tx(f->st, &f->ctx, b.data, b.len, LEDGER_SIGNATURE_UNCHECKED, &f->last) != 0)
        abort();
    node_buf_free(&b);
    return f->last.code;
}

static inline unsigned fx_apply(struct fx *f, int who, const struct node_tx *tx)
{
    return fx_apply_as(f, who, tx);
}

/* Closes the current ledger and opens the next, `seconds` later. */
static inline void fx_next_ledger(struct fx *f, uint64_t seconds)
{
    if (ledger_end(f->st, &f->ctx) != 0)
        abort();
    f->ctx.height++;
    f->ctx.close_time += seconds;
    if (ledger_begin(f->st, &f->ctx) != 0)
        abort();
}

/* Applies a pay of amount from `from` to key. */
static inline unsigned fx_pay(struct fx *f, int from, const uint8_t to[NODE_KEY_BYTES],
                              uint64_t amount)
{
    struct node_tx tx = fx_tx(f, from, NODE_TX_PAY);
    memcpy(tx.body.pay.destination, to, NODE_KEY_BYTES);
    tx.body.pay.amount = amount;
    return fx_apply(f, from, &tx);
}

/* Registers a resource owned by `who`; returns the result code. */
static inline unsigned fx_register(struct fx *f, int who, unsigned kind, uint64_t price_per_hour,
                                   uint64_t deposit)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_RESOURCE_REGISTER);
    tx.body.resource_register.kind = (uint8_t)kind;
    snprintf(tx.body.resource_register.title, sizeof tx.body.resource_register.title,
             "Kia Ray #%d", who);
    tx.body.resource_register.price_per_hour = price_per_hour;
    tx.body.resource_register.deposit = deposit;
    return fx_apply(f, who, &tx);
}

static inline unsigned fx_book(struct fx *f, int who, uint64_t resource_id, uint64_t start,
                               uint64_t end)
{
    struct node_tx tx = fx_tx(f, who, NODE_TX_BOOKING_CREATE);
    tx.body.booking_create.resource_id = resource_id;
    tx.body.booking_create.start = start;
    tx.body.booking_create.end = end;
    tx.body.booking_create.escrow_max = UINT64_MAX;
    return fx_apply(f, who, &tx);
}

#endif
