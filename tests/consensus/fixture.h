/*
 * fixture.h — the four-node fixture of the ballot and nomination unit
 * tests: nodes 0..3, every quorum set "3 of {0,1,2,3}", the node under
 * test is node 0 with a recording fake driver (fake_driver.h).  Helpers
 * send it hand-made statements from the other nodes.
 */
#ifndef NANUM_TESTS_FIXTURE_H
#define NANUM_TESTS_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_driver.h"

#define SLOT 7u

struct fixture {
    struct fake_driver fake;
    struct scp_driver driver;
    struct scp *scp;
    uint8_t ids[4][SCP_NODE_ID_BYTES];
    struct scp_qset qset;
};

static inline struct fixture *fixture_new(uint32_t threshold, uint32_t nodes)
{
    struct fixture *f = calloc(1, sizeof *f);
    for (unsigned i = 0; i < 4; i++)
        test_node_id(f->ids[i], i);
    f->qset = (struct scp_qset){threshold, nodes,
                                (const uint8_t(*)[SCP_NODE_ID_BYTES])f->ids, 0, NULL};
    fake_init(&f->fake, &f->driver, f->ids[0]);
    fake_add_qset(&f->fake, &f->qset);
    assert_int_equal(scp_create(&f->driver, f->ids[0], &f->qset, &f->scp), 0);
    return f;
}

static inline void fixture_free(struct fixture *f)
{
    scp_destroy(f->scp);
    fake_free(&f->fake);
    free(f);
}

static inline struct scp_envelope *envelope_new(struct fixture *f, unsigned node,
                                                enum scp_statement_type type)
{
    struct scp_envelope *env = calloc(1, sizeof *env);
    test_stamp(&env->statement, node, SLOT, &f->qset);
    env->statement.type = type;
    return env;
}

static inline int deliver(struct fixture *f, struct scp_envelope *env)
{
    test_sign(env);
    int rc = scp_receive_envelope(f->scp, env);
    free(env);
    return rc;
}

static inline void ballot_of(struct scp_ballot *b, uint32_t counter, const char *value)
{
    b->counter = counter;
    if (value)
        test_value(&b->value, value);
    else
        b->value.size = 0;
}

/* PREPARE <(n, x), (pn, px), (ppn, ppx), nC, nH> from `node`. */
static inline int send_prepare(struct fixture *f, unsigned node, uint32_t n, const char *x,
                               uint32_t pn, const char *px, uint32_t ppn, const char *ppx,
                               uint32_t nc, uint32_t nh)
{
    struct scp_envelope *env = envelope_new(f, node, SCP_STATEMENT_PREPARE);
    struct scp_prepare *p = &env->statement.u.prepare;
    ballot_of(&p->ballot, n, x);
    ballot_of(&p->prepared, pn, px);
    ballot_of(&p->prepared_prime, ppn, ppx);
    p->commit_counter = nc;
    p->high_counter = nh;
    return deliver(f, env);
}

static inline int send_confirm(struct fixture *f, unsigned node, uint32_t n, const char *x,
                               uint32_t np, uint32_t nc, uint32_t nh)
{
    struct scp_envelope *env = envelope_new(f, node, SCP_STATEMENT_CONFIRM);
    struct scp_confirm *c = &env->statement.u.confirm;
    ballot_of(&c->ballot, n, x);
    c->prepared_counter = np;
    c->commit_counter = nc;
    c->high_counter = nh;
    return deliver(f, env);
}

static inline int send_externalize(struct fixture *f, unsigned node, uint32_t n,
                                   const char *x, uint32_t nh)
{
    struct scp_envelope *env = envelope_new(f, node, SCP_STATEMENT_EXTERNALIZE);
    ballot_of(&env->statement.u.externalize.commit, n, x);
    env->statement.u.externalize.high_counter = nh;
    return deliver(f, env);
}

/* NOMINATE with comma-free single-letter value lists, e.g. "xy", "". */
static inline int send_nominate(struct fixture *f, unsigned node, const char *votes,
                                const char *accepted)
{
    struct scp_envelope *env = envelope_new(f, node, SCP_STATEMENT_NOMINATE);
    struct scp_nominate *n = &env->statement.u.nominate;
    for (const char *c = votes; *c; c++) {
        char one[2] = {*c, 0};
        test_value(&n->votes[n->votes_count++], one);
    }
    for (const char *c = accepted; *c; c++) {
        char one[2] = {*c, 0};
        test_value(&n->accepted[n->accepted_count++], one);
    }
    return deliver(f, env);
}

static inline void assert_value(const struct scp_value *v, const char *text)
{
    char got[SCP_VALUE_BYTES_MAX + 1];
    memcpy(got, v->bytes, v->size);
    got[v->size] = 0;
    assert_string_equal(got, text);
}

static inline void assert_ballot(const struct scp_ballot *b, uint32_t n, const char *x)
{
    assert_int_equal(b->counter, n);
    if (n)
        assert_value(&b->value, x);
}

/* The last ballot statement (or, for NOMINATE, nomination statement) node
 * 0 emitted, checked to be of `type`. */
static inline const struct scp_statement *last_of(struct fixture *f,
                                                  enum scp_statement_type type)
{
    bool nomination = type == SCP_STATEMENT_NOMINATE;
    for (size_t i = f->fake.emitted_count; i-- > 0;) {
        const struct scp_statement *st = &f->fake.emitted[i].statement;
        if ((st->type == SCP_STATEMENT_NOMINATE) == nomination) {
            assert_int_equal(st->type, type);
            return st;
        }
    }
    fail_msg("no statement of type %d emitted", (int)type);
    return NULL;
}

/* Drives node 0 through nomination to ballot <1, x>: it nominates x and
 * nodes 1..3 report x accepted, so x is accepted and confirmed. */
static inline void start_ballot(struct fixture *f, const char *x)
{
    struct scp_value v, prev;
    test_value(&v, x);
    test_value(&prev, "genesis");
    assert_int_equal(scp_nominate(f->scp, SLOT, &v, &prev), 0);
    for (unsigned node = 1; node <= 3; node++)
        assert_int_equal(send_nominate(f, node, x, x), 0);
    const struct scp_statement *st = last_of(f, SCP_STATEMENT_PREPARE);
    assert_ballot(&st->u.prepare.ballot, 1, x);
}

#endif
