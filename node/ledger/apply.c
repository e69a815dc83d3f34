/*
 * apply.c — applying one transaction: the envelope checks, the fee, the
 * sequence number, and the dispatch to each type's rules; plus typed access
 * to the state tables and the `pay` rule.
 *
 * The order of checks is part of the protocol (spec/transactions.md §apply):
 *   1. the envelope decodes               else malformed            (no effect)
 *   2. the signature verifies             else bad_signature        (no effect)
 *   3. source is not the commons fund     else commons_cannot_sign  (no effect)
 *   4. the source account exists          else no_source_account    (no effect)
 *   5. seq = account's seq + 1            else bad_seq              (no effect)
 *   6. fee >= base_fee                    else fee_too_low          (no effect)
 *   7. the fee is charged (all of the balance, if it does not cover it:
 *      insufficient_balance_for_fee) and seq advances;
 *   8. the body's rules run; if they fail, their writes are rolled back and
 *      only step 7 remains.
 * Steps 1–6 change nothing, so an old or foreign transaction replayed into a
 * ledger costs its signer nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger_internal.h"

const char *const ledger_table_names[LEDGER_TABLE_COUNT] = {
    [LEDGER_TABLE_ACCOUNTS] = "accounts",
    [LEDGER_TABLE_RESOURCES] = "resources",
    [LEDGER_TABLE_BOOKINGS] = "bookings",
    [LEDGER_TABLE_BOOKINGS_BY_RESOURCE] = "bookings_by_resource",
    [LEDGER_TABLE_PROPOSALS] = "proposals",
    [LEDGER_TABLE_VOTES] = "votes",
    [LEDGER_TABLE_GLOBALS] = "globals",
    [LEDGER_TABLE_TX_INDEX] = "tx_index",
    [LEDGER_TABLE_CERTIFICATES] = "certificates",
    [LEDGER_TABLE_CONSENSUS] = "consensus",
    [LEDGER_TABLE_VALIDATOR_HISTORY] = "validator_history",
};

const char *ledger_result_name(unsigned code)
{
    switch (code) {
#define LEDGER_RESULT_NAME(name, value, text, message) \
    case value:                                        \
        return text;
        LEDGER_RESULTS(LEDGER_RESULT_NAME)
#undef LEDGER_RESULT_NAME
    default:
        return NULL;
    }
}

const char *ledger_result_message(unsigned code)
{
    switch (code) {
#define LEDGER_RESULT_MESSAGE(name, value, text, message) \
    case value:                                           \
        return message;
        LEDGER_RESULTS(LEDGER_RESULT_MESSAGE)
#undef LEDGER_RESULT_MESSAGE
    default:
        return NULL;
    }
}

void ledger__u64be(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)v;
        v >>= 8;
    }
}

/* --- Typed access -------------------------------------------------------------- */

/* Encodes with encode() and puts under (table, key). */
#define PUT_RECORD(st, table, key, key_len, encode, record)                         \
    do {                                                                            \
        struct node_buf b_;                                                         \
        node_buf_init(&b_);                                                         \
        int rc_ = encode(record, &b_);                                              \
        if (rc_ == 0)                                                               \
            rc_ = ledger_state_put(st, table, key, key_len, b_.data, b_.len);       \
        node_buf_free(&b_);                                                         \
        return rc_;                                                                 \
    } while (0)

/* Gets (table, key) and decodes it with decode(); 0, 1 (absent) or error.  A
 * stored record that does not decode is a broken store: LEDGER_E_STATE_DAMAGED. */
#define GET_RECORD(st, table, key, key_len, decode, out)                            \
    do {                                                                            \
        const uint8_t *v_;                                                          \
        size_t n_;                                                                  \
        int rc_ = ledger_state_get(st, table, key, key_len, &v_, &n_);              \
        if (rc_ != 0)                                                               \
            return rc_;                                                             \
        return decode(v_, n_, out) == 0 ? 0 : LEDGER_E_STATE_DAMAGED;                         \
    } while (0)

int ledger_account_get(ledger_state *st, const uint8_t key[static NODE_KEY_BYTES],
                       struct node_account *out)
{
    memcpy(out->key, key, NODE_KEY_BYTES);
    GET_RECORD(st, LEDGER_TABLE_ACCOUNTS, key, NODE_KEY_BYTES, node_account_decode, out);
}

int ledger_account_put(ledger_state *st, const struct node_account *a)
{
    PUT_RECORD(st, LEDGER_TABLE_ACCOUNTS, a->key, NODE_KEY_BYTES, node_account_encode, a);
}

int ledger_resource_get(ledger_state *st, uint64_t id, struct node_resource *out)
{
    uint8_t key[8];
    ledger__u64be(id, key);
    GET_RECORD(st, LEDGER_TABLE_RESOURCES, key, sizeof key, node_resource_decode, out);
}

int ledger__resource_put(ledger_state *st, const struct node_resource *r)
{
    uint8_t key[8];
    ledger__u64be(r->id, key);
    PUT_RECORD(st, LEDGER_TABLE_RESOURCES, key, sizeof key, node_resource_encode, r);
}

int ledger_booking_get(ledger_state *st, uint64_t id, struct node_booking *out)
{
    uint8_t key[8];
    ledger__u64be(id, key);
    GET_RECORD(st, LEDGER_TABLE_BOOKINGS, key, sizeof key, node_booking_decode, out);
}

int ledger__booking_put(ledger_state *st, const struct node_booking *b)
{
    uint8_t key[8];
    ledger__u64be(b->id, key);
    PUT_RECORD(st, LEDGER_TABLE_BOOKINGS, key, sizeof key, node_booking_encode, b);
}

int ledger_proposal_get(ledger_state *st, uint64_t id, struct node_proposal *out)
{
    uint8_t key[8];
    ledger__u64be(id, key);
    GET_RECORD(st, LEDGER_TABLE_PROPOSALS, key, sizeof key, node_proposal_decode, out);
}

int ledger__proposal_put(ledger_state *st, const struct node_proposal *p)
{
    uint8_t key[8];
    ledger__u64be(p->id, key);
    PUT_RECORD(st, LEDGER_TABLE_PROPOSALS, key, sizeof key, node_proposal_encode, p);
}

#define GKEY(name) ((const uint8_t *)(name))

int ledger_params_get(ledger_state *st, struct node_params *out)
{
    GET_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(LEDGER_GLOBAL_PARAMS), strlen(LEDGER_GLOBAL_PARAMS), node_params_decode, out);
}

int ledger__params_put(ledger_state *st, const struct node_params *p)
{
    PUT_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(LEDGER_GLOBAL_PARAMS), strlen(LEDGER_GLOBAL_PARAMS), node_params_encode, p);
}

int ledger_counters_get(ledger_state *st, struct node_counters *out)
{
    GET_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(LEDGER_GLOBAL_COUNTERS), strlen(LEDGER_GLOBAL_COUNTERS), node_counters_decode,
               out);
}

int ledger__counters_put(ledger_state *st, const struct node_counters *c)
{
    PUT_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(LEDGER_GLOBAL_COUNTERS), strlen(LEDGER_GLOBAL_COUNTERS), node_counters_encode,
               c);
}

int ledger_validators_get(ledger_state *st, struct node_validator_set *out)
{
    GET_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(LEDGER_GLOBAL_VALIDATORS), strlen(LEDGER_GLOBAL_VALIDATORS),
               node_validator_set_decode, out);
}

int ledger__validators_put(ledger_state *st, const struct node_validator_set *s)
{
    PUT_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(LEDGER_GLOBAL_VALIDATORS), strlen(LEDGER_GLOBAL_VALIDATORS),
               node_validator_set_encode, s);
}

static int id_list_encode(const struct ledger__id_list *l, struct node_buf *out)
{
    for (uint32_t i = 0; i < l->count; i++) {
        uint8_t be[8];
        ledger__u64be(l->ids[i], be);
        int rc = node_buf_append(out, be, sizeof be);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int id_list_decode(const uint8_t *bytes, size_t len, struct ledger__id_list *out)
{
    if (len % 8 != 0 || len / 8 > NODE_OPEN_PROPOSALS_MAX)
        return NODE_E_BAD_LENGTH;
    out->count = (uint32_t)(len / 8);
    for (uint32_t i = 0; i < out->count; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++)
            v = v << 8 | bytes[8 * i + k];
        out->ids[i] = v;
    }
    return 0;
}

int ledger__id_list_get(ledger_state *st, const char *name, struct ledger__id_list *out)
{
    out->count = 0;
    int rc;
    const uint8_t *v;
    size_t n;
    rc = ledger_state_get(st, LEDGER_TABLE_GLOBALS, GKEY(name), strlen(name), &v, &n);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return rc;
    return id_list_decode(v, n, out) == 0 ? 0 : LEDGER_E_STATE_DAMAGED;
}

int ledger__id_list_put(ledger_state *st, const char *name, const struct ledger__id_list *l)
{
    PUT_RECORD(st, LEDGER_TABLE_GLOBALS, GKEY(name), strlen(name), id_list_encode, l);
}

/* --- Money ------------------------------------------------------------------- */

unsigned ledger__transfer(struct node_account *from, struct node_account *to, uint64_t amount)
{
    uint64_t from_after, to_after;
    if (!node_sub_u64(from->balance, amount, &from_after))
        return LEDGER_INSUFFICIENT_BALANCE;
    if (!node_add_u64(to->balance, amount, &to_after))
        return LEDGER_OVERFLOW;
    from->balance = from_after;
    to->balance = to_after;
    return LEDGER_OK;
}

int ledger__commons_credit(ledger_state *st, uint64_t amount)
{
    struct node_account commons;
    int rc = ledger_account_get(st, node_commons_key, &commons);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        memset(&commons, 0, sizeof commons);
        memcpy(commons.key, node_commons_key, NODE_KEY_BYTES);
    }
    if (!node_add_u64(commons.balance, amount, &commons.balance))
        return LEDGER_OVERFLOW;
    LEDGER_TRY(ledger_account_put(st, &commons));
    return LEDGER_OK;
}

/* --- pay ----------------------------------------------------------------------- */

int ledger__apply_pay(ledger_state *st, const struct ledger_context *ctx, const struct node_tx *tx,
                      struct node_account *source)
{
    (void)ctx;
    const struct node_tx_pay *pay = &tx->body.pay;
    if (pay->amount == 0)
        return LEDGER_ZERO_AMOUNT;
    if (memcmp(pay->destination, source->key, NODE_KEY_BYTES) == 0)
        return LEDGER_SELF_PAYMENT;
    struct node_account dest;
    int rc = ledger_account_get(st, pay->destination, &dest);
    if (rc < 0)
        return rc;
    if (rc == 1) {
        /* A new account comes into being with at least the minimum balance;
         * the commons fund exists from genesis and needs no minimum. */
        struct node_params params;
        LEDGER_TRY(ledger_params_get(st, &params));
        if (pay->amount < params.values[NODE_PARAM_min_balance] &&
            memcmp(pay->destination, node_commons_key, NODE_KEY_BYTES) != 0)
            return LEDGER_BELOW_MIN_BALANCE;
        memset(&dest, 0, sizeof dest);
        memcpy(dest.key, pay->destination, NODE_KEY_BYTES);
    }
    unsigned result = ledger__transfer(source, &dest, pay->amount);
    if (result != LEDGER_OK)
        return (int)result;
    LEDGER_TRY(ledger_account_put(st, source));
    LEDGER_TRY(ledger_account_put(st, &dest));
    return LEDGER_OK;
}

/* --- One transaction ------------------------------------------------------------ */

typedef int (*body_rule)(ledger_state *, const struct ledger_context *, const struct node_tx *,
                         struct node_account *);

static const body_rule body_rules[] = {
    [NODE_TX_PAY] = ledger__apply_pay,
    [NODE_TX_RESOURCE_REGISTER] = ledger__apply_resource_register,
    [NODE_TX_RESOURCE_UPDATE] = ledger__apply_resource_update,
    [NODE_TX_BOOKING_CREATE] = ledger__apply_booking_create,
    [NODE_TX_BOOKING_CANCEL] = ledger__apply_booking_cancel,
    [NODE_TX_BOOKING_COMPLETE] = ledger__apply_booking_complete,
    [NODE_TX_BOOKING_RATE] = ledger__apply_booking_rate,
    [NODE_TX_GOV_PROPOSE] = ledger__apply_gov_propose,
    [NODE_TX_GOV_VOTE] = ledger__apply_gov_vote,
};

/* Steps 3–7 of the header comment.  Returns a result code (>= 0) or an
 * error; on LEDGER_OK the fee is charged and *source is the account after it. */
static int charge_fee(ledger_state *st, const struct node_tx *tx, struct node_account *source,
                      struct node_tx_result *result)
{
    if (memcmp(tx->source, node_commons_key, NODE_KEY_BYTES) == 0)
        return LEDGER_COMMONS_SOURCE;
    int rc = ledger_account_get(st, tx->source, source);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return LEDGER_NO_SOURCE;
    if (source->seq == UINT64_MAX || tx->seq != source->seq + 1)
        return LEDGER_BAD_SEQ;
    struct node_params params;
    LEDGER_TRY(ledger_params_get(st, &params));
    if (tx->fee < params.values[NODE_PARAM_base_fee])
        return LEDGER_FEE_TOO_LOW;
    uint64_t fee = tx->fee <= source->balance ? tx->fee : source->balance;
    source->balance -= fee;
    source->seq = tx->seq;
    LEDGER_TRY(ledger_account_put(st, source));
    rc = ledger__commons_credit(st, fee);
    if (rc != LEDGER_OK)
        return rc < 0 ? rc : LEDGER_OVERFLOW;
    result->fee_charged = fee;
    return fee == tx->fee ? LEDGER_OK : LEDGER_FEE_UNPAID;
}

int ledger_apply_tx(ledger_state *st, const struct ledger_context *ctx, const uint8_t *bytes,
                    size_t len, enum ledger_signature signature, struct node_tx_result *result)
{
    struct node_tx_envelope env;
    result->code = LEDGER_OK;
    result->fee_charged = 0;
    if (node_envelope_decode(bytes, len, &env) != 0) {
        result->code = LEDGER_MALFORMED;
        return 0;
    }
    if (signature == LEDGER_SIGNATURE_UNCHECKED)
        signature = node_envelope_open(bytes, len, ctx->network_id, true, &env, NULL) == 0
                        ? LEDGER_SIGNATURE_VALID
                        : LEDGER_SIGNATURE_INVALID;
    if (signature != LEDGER_SIGNATURE_VALID) {
        result->code = LEDGER_BAD_SIGNATURE;
        return 0;
    }
    size_t before_fee = ledger_state_savepoint(st);
    struct node_account source;
    int rc = charge_fee(st, &env.tx, &source, result);
    if (rc < 0)
        return rc;
    if (rc != LEDGER_OK) {
        /* Steps 3–6 leave nothing; an unpaid fee keeps its partial charge. */
        if (rc != LEDGER_FEE_UNPAID)
            ledger_state_rollback(st, before_fee);
        ledger_state_release(st);
        result->code = (uint16_t)rc;
        return 0;
    }
    size_t after_fee = ledger_state_savepoint(st);
    rc = body_rules[env.tx.type](st, ctx, &env.tx, &source);
    if (rc < 0)
        return rc;
    if (rc != LEDGER_OK)
        ledger_state_rollback(st, after_fee);
    ledger_state_release(st);
    result->code = (uint16_t)rc;
    return 0;
}
