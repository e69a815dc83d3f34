/*
 * workload.h — a seeded generator of realistic, valid sharing traffic: pays,
 * resource registrations, bookings and their cancellations, completions and
 * ratings, proposals and votes, signed with correct sequence numbers.
 *
 * Used by the determinism test and bench-apply.  The generator predicts the
 * ids the ledger will assign (resources, bookings, proposals) by keeping its
 * own model, and only emits transactions that its model says succeed, so
 * nearly every transaction applies with `ok`; the tests check how many did.
 */
#ifndef NANUM_TEST_WORKLOAD_H
#define NANUM_TEST_WORKLOAD_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

#define WL_ACCOUNTS_MAX 1024
#define WL_RESOURCES_MAX 4096
#define WL_BOOKINGS_MAX 65536
#define WL_HOUR 3600ULL

struct wl_booking {
    uint64_t id, start;
    uint16_t renter, owner;
    uint8_t state; /* 0 active, 1 done (cancelled or completed), 2 completed unrated */
};

struct workload {
    uint64_t rng;
    uint32_t accounts;
    uint8_t pk[WL_ACCOUNTS_MAX][NODE_KEY_BYTES];
    uint8_t sk[WL_ACCOUNTS_MAX][NODE_SECRET_KEY_BYTES];
    uint64_t seq[WL_ACCOUNTS_MAX];
    uint32_t resources;
    uint16_t resource_owner[WL_RESOURCES_MAX];
    uint64_t resource_next_slot[WL_RESOURCES_MAX];
    uint32_t bookings;
    struct wl_booking booking[WL_BOOKINGS_MAX];
    uint64_t proposals;
    uint32_t votes_on_current;
    uint64_t close_time;
    struct node_genesis genesis;
};

static inline uint64_t wl_rand(struct workload *w)
{
    /* splitmix64: small, seedable, the same everywhere. */
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline int wl_compare_accounts(const void *a, const void *b)
{
    return memcmp(((const struct node_genesis_account *)a)->key,
                  ((const struct node_genesis_account *)b)->key, NODE_KEY_BYTES);
}

/* Makes `accounts` members (the first is also an org running one validator)
 * with 1,000,000.00 each, keys derived from seed. */
static inline void wl_init(struct workload *w, uint64_t seed, uint32_t accounts)
{
    memset(w, 0, sizeof *w);
    w->rng = seed;
    w->accounts = accounts;
    struct node_genesis *g = &w->genesis;
    snprintf(g->network, sizeof g->network, "workload");
    g->close_time = 1767225600;
    w->close_time = g->close_time;
    node_params_default(&g->params);
    g->params.values[NODE_PARAM_tx_per_ledger_max] = 100000;
    g->account_count = accounts;
    g->accounts = calloc(accounts, sizeof *g->accounts);
    for (uint32_t i = 0; i < accounts; i++) {
        uint8_t seed_bytes[crypto_sign_SEEDBYTES] = {0};
        memcpy(seed_bytes, &i, sizeof i);
        memcpy(seed_bytes + 8, &seed, sizeof seed);
        crypto_sign_seed_keypair(w->pk[i], w->sk[i], seed_bytes);
        memcpy(g->accounts[i].key, w->pk[i], NODE_KEY_BYTES);
        g->accounts[i].balance = 100000000ULL;
        g->accounts[i].flags = NODE_ACCOUNT_MEMBER | (i == 0 ? NODE_ACCOUNT_ORG : 0);
        if (i == 0)
            snprintf(g->accounts[i].name, sizeof g->accounts[i].name, "Workload Co-op");
    }
    uint8_t org[NODE_KEY_BYTES];
    memcpy(org, w->pk[0], NODE_KEY_BYTES);
    qsort(g->accounts, accounts, sizeof *g->accounts, wl_compare_accounts);
    g->validators.count = 1;
    g->validators.validators = calloc(1, sizeof *g->validators.validators);
    memset(g->validators.validators[0].node_key, 0x77, NODE_KEY_BYTES);
    memcpy(g->validators.validators[0].org, org, NODE_KEY_BYTES);
    struct node_buf b;
    node_buf_init(&b);
    node_genesis_encode(g, &b);
    node_hash(b.data, b.len, g->network_id);
    node_buf_free(&b);
}

static inline uint32_t wl_pick(struct workload *w, uint32_t n)
{
    return (uint32_t)(wl_rand(w) % n);
}

static inline struct node_tx wl_tx(struct workload *w, uint32_t who, unsigned type)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = NODE_TX_VERSION;
    tx.type = (uint8_t)type;
    memcpy(tx.source, w->pk[who], NODE_KEY_BYTES);
    tx.seq = ++w->seq[who];
    tx.fee = 1;
    return tx;
}

/* Fills tx with the next transaction (sig by the source's key) and returns
 * the signer. */
static inline uint32_t wl_next(struct workload *w, struct node_tx *tx)
{
    uint32_t roll = wl_pick(w, 100);
    uint32_t who = wl_pick(w, w->accounts);
    if (roll < 8 && w->resources < WL_RESOURCES_MAX) {
        *tx = wl_tx(w, who, NODE_TX_RESOURCE_REGISTER);
        tx->body.resource_register.kind = (uint8_t)(1 + wl_pick(w, 4));
        snprintf(tx->body.resource_register.title, sizeof tx->body.resource_register.title,
                 "resource %u", w->resources + 1);
        tx->body.resource_register.price_per_hour = 100 + wl_pick(w, 2000);
        tx->body.resource_register.deposit = wl_pick(w, 5000);
        w->resource_owner[w->resources] = (uint16_t)who;
        w->resource_next_slot[w->resources] = 0;
        w->resources++;
        return who;
    }
    if (roll < 40 && w->resources > 0 && w->bookings < WL_BOOKINGS_MAX) {
        uint32_t r = wl_pick(w, w->resources);
        if (w->resource_owner[r] == who)
            who = (who + 1) % w->accounts;
        *tx = wl_tx(w, who, NODE_TX_BOOKING_CREATE);
        uint64_t start = w->close_time + WL_HOUR * (1 + w->resource_next_slot[r]++);
        tx->body.booking_create = (struct node_tx_booking_create){r + 1, start, start + WL_HOUR, UINT64_MAX};
        w->booking[w->bookings] = (struct wl_booking){w->bookings + 1, start, (uint16_t)who,
                                                      w->resource_owner[r], 0};
        w->bookings++;
        return who;
    }
    if (roll < 60 && w->bookings > 0) {
        struct wl_booking *b = &w->booking[wl_pick(w, w->bookings)];
        if (b->state == 0 && b->start > w->close_time) {
            *tx = wl_tx(w, b->renter, NODE_TX_BOOKING_CANCEL);
            tx->body.booking_cancel.booking_id = b->id;
            b->state = 1;
            return b->renter;
        }
        if (b->state == 0) {
            *tx = wl_tx(w, b->owner, NODE_TX_BOOKING_COMPLETE);
            tx->body.booking_complete.booking_id = b->id;
            b->state = 2;
            return b->owner;
        }
        if (b->state == 2) {
            *tx = wl_tx(w, b->renter, NODE_TX_BOOKING_RATE);
            tx->body.booking_rate = (struct node_tx_booking_rate){b->id, (uint8_t)(1 + wl_pick(w, 5))};
            b->state = 1;
            return b->renter;
        }
    }
    if (roll < 62 && w->votes_on_current == 0) {
        *tx = wl_tx(w, who, NODE_TX_GOV_PROPOSE);
        tx->body.gov_propose.kind = NODE_PROPOSAL_PARAM_SET;
        snprintf(tx->body.gov_propose.title, sizeof tx->body.gov_propose.title, "keep the fee");
        tx->body.gov_propose.u.param_set.param_id = NODE_PARAM_coop_fee_bp;
        tx->body.gov_propose.u.param_set.value = 400 + w->proposals % 200;
        w->proposals++;
        w->votes_on_current = 1;
        return who;
    }
    if (roll < 70 && w->votes_on_current > 0) {
        /* Members vote in order, each once, until two thirds said yes. */
        who = w->votes_on_current - 1;
        *tx = wl_tx(w, who, NODE_TX_GOV_VOTE);
        tx->body.gov_vote = (struct node_tx_gov_vote){w->proposals, true};
        if (++w->votes_on_current > (w->accounts * 2 + 2) / 3)
            w->votes_on_current = 0;
        return who;
    }
    *tx = wl_tx(w, who, NODE_TX_PAY);
    memcpy(tx->body.pay.destination, w->pk[(who + 1 + wl_pick(w, w->accounts - 1)) % w->accounts],
           NODE_KEY_BYTES);
    tx->body.pay.amount = 1 + wl_pick(w, 10000);
    return who;
}

/* Appends count signed envelopes for a ledger closing at close_time. */
static inline void wl_ledger(struct workload *w, uint64_t close_time, uint32_t count,
                             struct node_buf *envs)
{
    w->close_time = close_time;
    for (uint32_t i = 0; i < count; i++) {
        struct node_tx tx;
        struct node_tx_envelope env;
        uint32_t who = wl_next(w, &tx);
        node_buf_init(&envs[i]);
        if (node_tx_sign(&tx, w->genesis.network_id, w->sk[who], &env) != 0 ||
            node_envelope_encode(&env, &envs[i]) != 0)
            abort();
    }
}

#endif
