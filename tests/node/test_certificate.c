/*
 * test_certificate.c — the one certificate check (node_certificate_check,
 * node/protocol/certificate.c) against the validator set in force for a
 * ledger's height, as the chain records it (ledger_chain_validators_in_force,
 * node/ledger/history.c).
 *
 * A chain is grown by governance through two changes of its validator set:
 *   ledger 1  validator.add of V proposed       ledger 5  validator.remove of A proposed
 *   ledger 2  three votes: passed               ledger 6  three votes: passed
 *   ledger 3  enacted: the set is A B C V       ledger 7  enacted: the set is B C V
 * so ledgers 1–3 are agreed by {A, B, C}, ledgers 4–7 by {A, B, C, V} and
 * ledgers from 8 on by {B, C, V}.  All validators belong to one org, so a
 * quorum is a majority of the set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "ledger.h"
#include "storage.h"

#define assert_code(actual, expected)                                                          \
    do {                                                                                       \
        int a_ = (actual), e_ = (expected);                                                    \
        if (a_ != e_)                                                                          \
            fail_msg("got %s (%d), expected %s (%d)", ledger_errname(a_), a_, ledger_errname(e_), e_); \
    } while (0)

enum { A = 0, B = 1, C = 2, V = 3, SIGNERS = 4 };

struct env {
    struct fx *f;
    char dir[64];
    ledger_chain *chain;
    uint8_t node_pk[SIGNERS][NODE_KEY_BYTES];
    uint8_t node_sk[SIGNERS][NODE_SECRET_KEY_BYTES];
    uint8_t hash[16][NODE_HASH_BYTES]; /* header hash of each ledger */
};

/* Signed envelope bytes of tx from `who`, with its next sequence number. */
static struct node_buf envelope(struct env *e, int who, struct node_tx *tx)
{
    struct node_account a;
    assert_code(ledger_account_get(ledger_chain_state(e->chain), e->f->pk[who], &a), 0);
    ledger_state_clear(ledger_chain_state(e->chain));
    tx->seq = a.seq + 1;
    struct node_tx_envelope env;
    struct node_buf b;
    node_buf_init(&b);
    assert_code(node_tx_sign(tx, e->f->genesis.network_id, e->f->sk[who], &env), 0);
    assert_code(node_envelope_encode(&env, &b), 0);
    return b;
}

static struct node_tx tx_of(struct env *e, int who, unsigned type)
{
    struct node_tx tx = {.version = NODE_TX_VERSION, .type = (uint8_t)type, .fee = 10};
    memcpy(tx.source, e->f->pk[who], NODE_KEY_BYTES);
    return tx;
}

/* Closes the next ledger with the given envelopes; remembers its hash. */
static void close_with(struct env *e, struct node_buf *envs, uint32_t count)
{
    const uint8_t *txs[8];
    size_t lens[8];
    for (uint32_t i = 0; i < count; i++) {
        txs[i] = envs[i].data;
        lens[i] = envs[i].len;
    }
    struct node_header last, h;
    uint8_t last_hash[NODE_HASH_BYTES];
    ledger_chain_last(e->chain, &last, last_hash);
    assert_code(ledger_chain_close_ledger(e->chain, last.close_time_ms + 60000, txs, lens, count, &h), 0);
    ledger_chain_last(e->chain, NULL, e->hash[h.height]);
    for (uint32_t i = 0; i < count; i++)
        node_buf_free(&envs[i]);
}

static void propose_and_pass(struct env *e, struct node_proposal_body body, uint64_t proposal_id)
{
    struct node_tx p = tx_of(e, FX_ALICE, NODE_TX_GOV_PROPOSE);
    p.body.gov_propose = body;
    snprintf(p.body.gov_propose.title, sizeof p.body.gov_propose.title, "validator change %llu",
             (unsigned long long)proposal_id);
    struct node_buf one[1] = {envelope(e, FX_ALICE, &p)};
    close_with(e, one, 1);
    struct node_buf votes[3];
    int voters[3] = {FX_ALICE, FX_BOB, FX_DAVE};
    for (int i = 0; i < 3; i++) {
        struct node_tx v = tx_of(e, voters[i], NODE_TX_GOV_VOTE);
        v.body.gov_vote.proposal_id = proposal_id;
        v.body.gov_vote.yes = true;
        votes[i] = envelope(e, voters[i], &v);
    }
    close_with(e, votes, 3);
    close_with(e, NULL, 0); /* enacted at the start of this one */
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof *e);
    e->f = fx_new();
    for (int i = 0; i < SIGNERS; i++)
        fx_keypair((uint8_t)(i < V ? 100 + i : 200), e->node_pk[i], e->node_sk[i]);
    snprintf(e->dir, sizeof e->dir, "/tmp/nanum-cert-XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    struct ledger_chain_options o = {.no_sync = true};
    char err[256];
    if (ledger_chain_open(e->dir, &e->f->genesis, &o, &e->chain, err, sizeof err) != 0)
        return -1;
    struct node_proposal_body add = {.kind = NODE_PROPOSAL_VALIDATOR_ADD};
    memcpy(add.u.validator_add.node_key, e->node_pk[V], NODE_KEY_BYTES);
    memcpy(add.u.validator_add.org, e->f->pk[FX_ORG], NODE_KEY_BYTES);
    snprintf(add.u.validator_add.address, sizeof add.u.validator_add.address, "127.0.0.1:7010");
    propose_and_pass(e, add, 1);
    close_with(e, NULL, 0); /* ledger 4 */
    struct node_proposal_body removal = {.kind = NODE_PROPOSAL_VALIDATOR_REMOVE};
    memcpy(removal.u.validator_remove.node_key, e->node_pk[A], NODE_KEY_BYTES);
    propose_and_pass(e, removal, 2);
    close_with(e, NULL, 0); /* ledger 8 */
    *state = e;
    return 0;
}

static void remove_store(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct env *e = *state;
    ledger_chain_close(e->chain);
    remove_store(e->dir);
    fx_free(e->f);
    free(e);
    return 0;
}

/* A certificate of ledger `height` signed by the validators in `who`
 * (indexes into node_pk), sorted as the codec requires. */
static struct node_certificate *certificate(struct env *e, uint64_t height, const int *who, int count)
{
    struct node_certificate *c = calloc(1, sizeof *c);
    for (int i = 0; i < count; i++) {
        uint8_t sig[NODE_SIGNATURE_BYTES];
        assert_code(node_sign(NODE_DOMAIN_HEADER, e->f->genesis.network_id, e->hash[height], NODE_HASH_BYTES,
                              e->node_sk[who[i]], sig),
                    0);
        node_certificate_add(c, e->node_pk[who[i]], sig);
    }
    return c;
}

/* Checks cert of `height` against the set in force there. */
static int check(struct env *e, uint64_t height, const struct node_certificate *cert,
                 struct node_certificate_report *report)
{
    struct node_validator_era era;
    assert_code(ledger_chain_validators_in_force(e->chain, height, &era), 0);
    int rc = node_certificate_check(e->f->genesis.network_id, e->hash[height], cert, &era.set, era.threshold_bp,
                                    report);
    node_validator_set_free(&era.set);
    return rc;
}

static uint32_t set_size_in_force(struct env *e, uint64_t height)
{
    struct node_validator_era era;
    assert_code(ledger_chain_validators_in_force(e->chain, height, &era), 0);
    uint32_t n = era.set.count;
    node_validator_set_free(&era.set);
    return n;
}

static void the_set_in_force_changes_the_ledger_after_its_enactment(void **state)
{
    struct env *e = *state;
    uint32_t expected[] = {3, 3, 3, 3, 4, 4, 4, 4, 3, 3};
    for (uint64_t h = 0; h <= 9; h++)
        if (set_size_in_force(e, h) != expected[h])
            fail_msg("ledger %llu: %u validators in force, expected %u", (unsigned long long)h,
                     set_size_in_force(e, h), expected[h]);
    struct node_validator_era era;
    assert_code(ledger_chain_validators_in_force(e->chain, 10, &era), NODE_E_INVALID); /* not yet agreed */
}

static void a_certificate_across_a_validator_set_change_uses_the_set_in_force(void **state)
{
    struct env *e = *state;
    /* Ledger 3 enacted V's admission, but was agreed by A, B, C: two of them are a quorum. */
    struct node_certificate *c = certificate(e, 3, (int[]){A, B}, 2);
    assert_code(check(e, 3, c, NULL), 0);
    free(c);
    /* Ledger 4 is the first agreed by A, B, C, V: two of four are not a majority. */
    c = certificate(e, 4, (int[]){A, B}, 2);
    assert_code(check(e, 4, c, NULL), NODE_E_CERT_NO_QUORUM);
    free(c);
    c = certificate(e, 4, (int[]){A, B, V}, 3);
    assert_code(check(e, 4, c, NULL), 0);
    free(c);
    /* V's signature before it was admitted counts for nothing. */
    struct node_certificate_report report;
    c = certificate(e, 3, (int[]){A, V}, 2);
    assert_code(check(e, 3, c, &report), NODE_E_CERT_NO_QUORUM);
    assert_int_equal(report.ignored, 1);
    assert_int_equal(report.counted, 1);
    free(c);
}

static void a_signer_from_the_old_set_after_the_change_does_not_count(void **state)
{
    struct env *e = *state;
    struct node_certificate_report report;
    /* From ledger 8, A is no validator: A and B are one signer of three. */
    struct node_certificate *c = certificate(e, 8, (int[]){A, B}, 2);
    assert_code(check(e, 8, c, &report), NODE_E_CERT_NO_QUORUM);
    assert_int_equal(report.ignored, 1);
    free(c);
    c = certificate(e, 8, (int[]){A, B, V}, 3);
    assert_code(check(e, 8, c, &report), 0);
    assert_int_equal(report.counted, 2);
    free(c);
    /* Ledger 7 (the removal's) was still agreed by A, B, C, V: A counts. */
    c = certificate(e, 7, (int[]){A, B, V}, 3);
    assert_code(check(e, 7, c, &report), 0);
    assert_int_equal(report.counted, 3);
    free(c);
}

static void a_forged_signature_makes_the_certificate_invalid(void **state)
{
    struct env *e = *state;
    struct node_certificate_report report;
    struct node_certificate *c = certificate(e, 2, (int[]){A, B, C}, 3);
    c->signers[1].signature[10] ^= 1; /* still a quorum without it: refused all the same */
    assert_code(check(e, 2, c, &report), NODE_E_CERT_BAD_SIGNATURE);
    assert_int_equal(report.bad_index, 1);
    free(c);
    /* A good signature of another ledger is a forgery for this one. */
    c = certificate(e, 1, (int[]){A, B}, 2);
    assert_code(check(e, 2, c, NULL), NODE_E_CERT_BAD_SIGNATURE);
    free(c);
}

static void too_few_signers_are_no_quorum(void **state)
{
    struct env *e = *state;
    struct node_certificate *c = certificate(e, 2, (int[]){C}, 1);
    assert_code(check(e, 2, c, NULL), NODE_E_CERT_NO_QUORUM);
    c->count = 0;
    assert_code(check(e, 2, c, NULL), NODE_E_CERT_NO_QUORUM);
    free(c);
}

static void entries_out_of_order_are_refused(void **state)
{
    struct env *e = *state;
    struct node_certificate *c = certificate(e, 2, (int[]){A, B}, 2);
    struct node_certificate swapped = *c;
    swapped.signers[0] = c->signers[1];
    swapped.signers[1] = c->signers[0];
    assert_code(check(e, 2, &swapped, NULL), NODE_E_BAD_VALUE);
    free(c);
}

/* Deletes every entry of the validator_history table, as a store written
 * before the table existed would have none. */
static int collect_key(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    (void)value;
    (void)value_len;
    store_batch *b = ctx;
    return store_batch_delete(b, LEDGER_TABLE_VALIDATOR_HISTORY, key, key_len);
}

static void an_old_store_gets_its_history_rebuilt_at_open(void **state)
{
    struct env *e = *state;
    ledger_chain_close(e->chain);
    struct store_options so = {.no_sync = true, .tables = ledger_table_names, .tables_count = LEDGER_TABLE_COUNT};
    store *s;
    store_batch *b;
    assert_code(store_open(e->dir, &so, &s), 0);
    assert_code(store_batch_begin(s, &b), 0);
    assert_code(store_scan(s, LEDGER_TABLE_VALIDATOR_HISTORY, NULL, 0, collect_key, b), 0);
    assert_code(store_batch_commit(b), 0);
    store_close(s);
    struct ledger_chain_options o = {.no_sync = true};
    char err[256];
    assert_code(ledger_chain_open(e->dir, &e->f->genesis, &o, &e->chain, err, sizeof err), 0);
    a_certificate_across_a_validator_set_change_uses_the_set_in_force(state);
    a_signer_from_the_old_set_after_the_change_does_not_count(state);
    the_set_in_force_changes_the_ledger_after_its_enactment(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_set_in_force_changes_the_ledger_after_its_enactment),
        cmocka_unit_test(a_certificate_across_a_validator_set_change_uses_the_set_in_force),
        cmocka_unit_test(a_signer_from_the_old_set_after_the_change_does_not_count),
        cmocka_unit_test(a_forged_signature_makes_the_certificate_invalid),
        cmocka_unit_test(too_few_signers_are_no_quorum),
        cmocka_unit_test(entries_out_of_order_are_refused),
        cmocka_unit_test(an_old_store_gets_its_history_rebuilt_at_open),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
