/*
 * samples.h — one sample transaction of every type and proposal kind, built
 * from fixed keys.  They are the round-trip cases of the codec tests and the
 * test vectors of spec/vectors/transactions.txt (tests/node/make_vectors.c
 * prints them; test_codec.c checks the file against them).
 */
#ifndef NANUM_TEST_SAMPLES_H
#define NANUM_TEST_SAMPLES_H

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "protocol.h"

#define SAMPLE_COUNT 15

/* The vectors' network id: BLAKE2b-256 of the ASCII "nanum test vectors". */
static inline void sample_network_id(uint8_t out[NODE_HASH_BYTES])
{
    static const char text[] = "nanum test vectors";
    node_hash((const uint8_t *)text, sizeof text - 1, out);
}

/* Ed25519 key from a seed of 32 equal bytes. */
static inline void sample_key(uint8_t seed_byte, uint8_t pk[NODE_KEY_BYTES],
                              uint8_t sk[NODE_SECRET_KEY_BYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, seed_byte, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* Fills *tx with sample i (0 ≤ i < SAMPLE_COUNT) and returns its name. */
static inline const char *sample_tx(int i, struct node_tx *tx, uint8_t sk[NODE_SECRET_KEY_BYTES])
{
    uint8_t other[NODE_KEY_BYTES], other_sk[NODE_SECRET_KEY_BYTES];
    memset(tx, 0, sizeof *tx);
    tx->version = NODE_TX_VERSION;
    sample_key(1, tx->source, sk);
    sample_key(2, other, other_sk);
    tx->seq = 7;
    tx->fee = 1;
    struct node_proposal_body *p = &tx->body.gov_propose;
    switch (i) {
    case 0:
        tx->type = NODE_TX_PAY;
        memcpy(tx->body.pay.destination, other, NODE_KEY_BYTES);
        tx->body.pay.amount = 1250;
        snprintf(tx->memo, sizeof tx->memo, "점심 값 lunch");
        return "pay";
    case 1:
        tx->type = NODE_TX_RESOURCE_REGISTER;
        tx->body.resource_register = (struct node_tx_resource_register){
            .kind = NODE_RESOURCE_CAR, .title = "Kia Ray (blue)", .price_per_hour = 1200,
            .deposit = 5000, .min_completed = 1, .min_rating_x100 = 350};
        return "resource.register";
    case 2:
        tx->type = NODE_TX_RESOURCE_UPDATE;
        tx->body.resource_update = (struct node_tx_resource_update){
            .resource_id = 3, .price_per_hour = 1500, .deposit = 5000, .active = false};
        return "resource.update";
    case 3:
        tx->type = NODE_TX_BOOKING_CREATE;
        tx->body.booking_create = (struct node_tx_booking_create){
            .resource_id = 3, .start = 1767261600, .end = 1767268800, .escrow_max = 7400};
        return "booking.create";
    case 4:
        tx->type = NODE_TX_BOOKING_CANCEL;
        tx->body.booking_cancel.booking_id = 12;
        return "booking.cancel";
    case 5:
        tx->type = NODE_TX_BOOKING_COMPLETE;
        tx->body.booking_complete = (struct node_tx_booking_complete){12, 2000};
        return "booking.complete";
    case 6:
        tx->type = NODE_TX_BOOKING_RATE;
        tx->body.booking_rate = (struct node_tx_booking_rate){12, 5};
        return "booking.rate";
    case 7:
        tx->type = NODE_TX_GOV_VOTE;
        tx->body.gov_vote = (struct node_tx_gov_vote){4, true};
        return "gov.vote";
    default:
        break;
    }
    tx->type = NODE_TX_GOV_PROPOSE;
    switch (i) {
    case 8:
        p->kind = NODE_PROPOSAL_VALIDATOR_ADD;
        snprintf(p->title, sizeof p->title, "Add the library's validator");
        memcpy(p->u.validator_add.node_key, other, NODE_KEY_BYTES);
        memcpy(p->u.validator_add.org, tx->source, NODE_KEY_BYTES);
        snprintf(p->u.validator_add.address, sizeof p->u.validator_add.address,
                 "validator.library.example:7700");
        return "gov.propose validator.add";
    case 9:
        p->kind = NODE_PROPOSAL_VALIDATOR_REMOVE;
        snprintf(p->title, sizeof p->title, "Retire node 3");
        memcpy(p->u.validator_remove.node_key, other, NODE_KEY_BYTES);
        return "gov.propose validator.remove";
    case 10:
        p->kind = NODE_PROPOSAL_ORG_ADMIT;
        snprintf(p->title, sizeof p->title, "Admit the bike co-op");
        memcpy(p->u.org_admit.account, other, NODE_KEY_BYTES);
        snprintf(p->u.org_admit.name, sizeof p->u.org_admit.name, "Daejeon Bike Co-op");
        return "gov.propose org.admit";
    case 11:
        p->kind = NODE_PROPOSAL_MEMBER_ADMIT;
        snprintf(p->title, sizeof p->title, "Welcome Minji");
        memcpy(p->u.member.account, other, NODE_KEY_BYTES);
        return "gov.propose member.admit";
    case 12:
        p->kind = NODE_PROPOSAL_MEMBER_REMOVE;
        snprintf(p->title, sizeof p->title, "Member left");
        memcpy(p->u.member.account, other, NODE_KEY_BYTES);
        return "gov.propose member.remove";
    case 13:
        p->kind = NODE_PROPOSAL_PARAM_SET;
        snprintf(p->title, sizeof p->title, "Lower the booking fee to 3%%");
        p->u.param_set.param_id = NODE_PARAM_coop_fee_bp;
        p->u.param_set.value = 300;
        return "gov.propose param.set";
    default:
        p->kind = NODE_PROPOSAL_TREASURY_PAY;
        snprintf(p->title, sizeof p->title, "New child seats");
        memcpy(p->u.treasury_pay.destination, other, NODE_KEY_BYTES);
        p->u.treasury_pay.amount = 45000;
        return "gov.propose treasury.pay";
    }
}

#endif
