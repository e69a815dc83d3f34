/*
 * sim.c — the consensus simulator of sim.h.
 *
 * Model.  Time is virtual (milliseconds); one binary heap of events ordered
 * by (time, sequence) drives everything, and one splitmix64 stream seeded
 * by the seed draws every random choice, so a (scenario, seed) pair always
 * replays the same run.  Each node runs the real library behind a driver
 * whose emit encodes the envelope (the real codec) and hands a copy per
 * peer to the network: per-link delay (which reorders), loss, duplication,
 * and partitions that drop messages between the sides.  A small "herder"
 * per node nominates slot k+1 a moment after deciding slot k, with the
 * decided value as `previous`, and rebroadcasts its own latest statements
 * now and then (so loss and partitions are survivable, as in a real node).
 *
 * Faults.  Crashes destroy a node's scp instance and its timers; a restart
 * builds a new one from the statements the driver persisted.  Byzantine
 * nodes are silent, send garbage (random bytes, mutated envelopes, signed
 * nonsense), or equivocate: two instances of the library with different
 * proposals share the node's identity, one talking to the even-numbered
 * peers and one to the odd-numbered.
 *
 * Checks (every run): Safety, Validity, Liveness, Self-consistency; see
 * check_* below and spec/consensus.md § Simulator.
 */
#include "sim.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus.h"
#include "fake_driver.h"

#define SIM_NODES_MAX 9
#define SIM_LIVENESS_MS 120000u      /* after the last fault heals */
#define SIM_REBROADCAST_MS 1500u
#define SIM_CLOSE_MS 150u            /* herder: pause between slots */
#define SIM_EVENTS_PROCESSED_MAX 3000000u
#define SIM_GARBAGE_BYTES_MAX 300u
#define SIM_PARTITIONS_MAX 2
#define SIM_CRASHES_MAX 2

enum node_kind { HONEST, BYZ_SILENT, BYZ_GARBAGE, BYZ_EQUIVOCATE };
enum event_kind { EV_DELIVER, EV_TIMER, EV_NOMINATE, EV_REBROADCAST, EV_GARBAGE,
                  EV_CRASH, EV_RESTART, EV_PARTITION, EV_HEAL };

struct event {
    uint64_t at_ms, seq;
    enum event_kind kind;
    int node, instance, timer, partition;
    uint32_t incarnation;
    uint64_t slot, generation;
    uint8_t *bytes;
    size_t size;
};

struct sim;

/* One library instance and its herder; honest nodes have one. */
struct instance {
    struct sim *sim;
    int node, which;
    struct scp *scp;
    struct scp_driver driver;
    bool decided[SIM_SLOTS_MAX + 1];
    struct scp_value *decided_value;           /* [SIM_SLOTS_MAX + 1] */
    uint64_t timer_generation[SIM_SLOTS_MAX + 1][SCP_TIMERS_COUNT];
    /* the "disk": latest own statements per slot, as persisted */
    size_t persisted_count[SIM_SLOTS_MAX + 1];
    struct scp_envelope *persisted;            /* [(SIM_SLOTS_MAX + 1) * 2] */
    /* what this node said last, across restarts (self-consistency) */
    struct scp_envelope *said;                 /* [(SIM_SLOTS_MAX + 1) * 2] */
    bool said_nomination[SIM_SLOTS_MAX + 1], said_ballot[SIM_SLOTS_MAX + 1];
};

struct node {
    uint8_t id[SCP_NODE_ID_BYTES];
    enum node_kind kind;
    bool up;
    uint32_t incarnation;
    int instances;
    struct instance inst[2];
    const struct scp_qset *qset;
    uint64_t done_ms;
};

struct sim {
    struct sim_options options;
    struct sim_result *result;
    uint64_t rng, now_ms, seq, heal_ms;
    int n;
    struct node nodes[SIM_NODES_MAX];
    uint8_t ids[SIM_NODES_MAX][SCP_NODE_ID_BYTES];
    struct scp_qset qsets[SIM_NODES_MAX], inner[3];
    double loss, duplication;
    uint32_t delay_min_ms, delay_max_ms;
    bool partition_active[SIM_PARTITIONS_MAX];
    uint32_t partition_side[SIM_PARTITIONS_MAX];   /* bit i: node i on side B */
    struct event *heap;
    size_t heap_count, heap_capacity;
    struct scp_value *proposals;                   /* [slot][node][2] */
    bool proposed[SIM_SLOTS_MAX + 1][SIM_NODES_MAX][2];
    uint8_t last_bytes[SCP_ENVELOPE_BYTES_MAX];    /* a valid envelope to mutate */
    size_t last_size;
    struct scp_envelope *decode_buffer;
    uint8_t qset_hashes[SIM_NODES_MAX][SCP_HASH_BYTES];
    bool failed;
};

/* ---- randomness ------------------------------------------------------------------- */

static uint64_t rnd(struct sim *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rnd_range(struct sim *s, uint64_t lo, uint64_t hi)
{
    return lo + rnd(s) % (hi - lo + 1);
}

static double rnd_unit(struct sim *s)
{
    return (double)(rnd(s) >> 11) / (double)(1ull << 53);
}

/* ---- failures and tracing ------------------------------------------------------------ */

static void fail(struct sim *s, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct sim *s, const char *format, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    va_list ap;
    va_start(ap, format);
    vsnprintf(s->result->failure, sizeof s->result->failure, format, ap);
    va_end(ap);
}

static void trace(struct sim *s, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void trace(struct sim *s, const char *format, ...)
{
    if (!s->options.verbose)
        return;
    va_list ap;
    va_start(ap, format);
    fprintf(stderr, "%8" PRIu64 " ms  ", s->now_ms);
    vfprintf(stderr, format, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- event heap ------------------------------------------------------------------------ */

static bool event_before(const struct event *a, const struct event *b)
{
    return a->at_ms != b->at_ms ? a->at_ms < b->at_ms : a->seq < b->seq;
}

static void push(struct sim *s, struct event ev)
{
    if (s->heap_count == s->heap_capacity) {
        size_t capacity = s->heap_capacity ? s->heap_capacity * 2 : 1024;
        struct event *grown = realloc(s->heap, capacity * sizeof *grown);
        if (grown == NULL) {
            fail(s, "out of memory for events");
            free(ev.bytes);
            return;
        }
        s->heap = grown;
        s->heap_capacity = capacity;
    }
    ev.seq = s->seq++;
    size_t i = s->heap_count++;
    while (i > 0 && event_before(&ev, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = ev;
}

static struct event pop(struct sim *s)
{
    struct event top = s->heap[0];
    struct event last = s->heap[--s->heap_count];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= s->heap_count)
            break;
        if (child + 1 < s->heap_count && event_before(&s->heap[child + 1], &s->heap[child]))
            child++;
        if (!event_before(&s->heap[child], &last))
            break;
        s->heap[i] = s->heap[child];
        i = child;
    }
    if (s->heap_count)
        s->heap[i] = last;
    return top;
}

/* ---- network ------------------------------------------------------------------------------ */

static bool link_open(const struct sim *s, int from, int to)
{
    for (int p = 0; p < SIM_PARTITIONS_MAX; p++)
        if (s->partition_active[p] &&
            (((s->partition_side[p] >> from) & 1u) != ((s->partition_side[p] >> to) & 1u)))
            return false;
    return true;
}

/* Queues bytes from -> to with the link's delay, loss and duplication. */
static void transmit(struct sim *s, int from, int to, const uint8_t *bytes, size_t size)
{
    if (!link_open(s, from, to))
        return;
    int copies = 1;
    if (s->options.faults && rnd_unit(s) < s->loss)
        copies = 0;
    if (copies && s->options.faults && rnd_unit(s) < s->duplication)
        copies = 2;
    for (int c = 0; c < copies; c++) {
        uint8_t *copy = malloc(size ? size : 1);
        if (copy == NULL) {
            fail(s, "out of memory for messages");
            return;
        }
        memcpy(copy, bytes, size);
        struct event ev = {.at_ms = s->now_ms + rnd_range(s, s->delay_min_ms, s->delay_max_ms),
                           .kind = EV_DELIVER, .node = to, .bytes = copy, .size = size};
        push(s, ev);
    }
}

/* Sends an envelope of instance `inst` to the peers it talks to. */
static void broadcast(struct instance *inst, const struct scp_envelope *env)
{
    struct sim *s = inst->sim;
    uint8_t bytes[SCP_ENVELOPE_BYTES_MAX];
    size_t size;
    int rc = scp_envelope_encode(env, bytes, sizeof bytes, &size);
    if (rc) {
        fail(s, "node %d emitted an envelope that does not encode: %s", inst->node, scp_errname(rc));
        return;
    }
    memcpy(s->last_bytes, bytes, size);
    s->last_size = size;
    bool equivocating = s->nodes[inst->node].kind == BYZ_EQUIVOCATE;
    for (int to = 0; to < s->n; to++)
        if (to != inst->node && (!equivocating || to % 2 == inst->which))
            transmit(s, inst->node, to, bytes, size);
}

/* ---- driver -------------------------------------------------------------------------------- */

static int sim_sign(void *ctx, const uint8_t *message, size_t size,
                    uint8_t signature[SCP_SIGNATURE_BYTES])
{
    struct instance *inst = ctx;
    fake_signature(inst->sim->nodes[inst->node].id, message, size, signature);
    return 0;
}

/* Values are "s<slot>-n<node>" or, from an equivocator's second instance,
 * "s<slot>-n<node>b"; anything else is invalid. */
static enum scp_validation sim_validate(void *ctx, uint64_t slot, const struct scp_value *value,
                                        bool nomination)
{
    struct instance *inst = ctx;
    (void)nomination;
    if (slot < 1 || slot > inst->sim->options.slots)
        return SCP_VALUE_INVALID;
    for (int node = 0; node < inst->sim->n; node++)
        for (int which = 0; which < 2; which++) {
            const struct scp_value *p = &inst->sim->proposals[(slot * SIM_NODES_MAX + (uint64_t)node) * 2 + (uint64_t)which];
            if (scp_value_compare(p, value) == 0)
                return SCP_VALUE_VALID;
        }
    return SCP_VALUE_INVALID;
}

static const struct scp_qset *sim_get_qset(void *ctx, const uint8_t hash[SCP_HASH_BYTES])
{
    struct instance *inst = ctx;
    struct sim *s = inst->sim;
    for (int i = 0; i < s->n; i++)
        if (memcmp(s->qset_hashes[i], hash, SCP_HASH_BYTES) == 0)
            return s->nodes[i].qset;
    return NULL;
}

static int sim_persist(void *ctx, uint64_t slot, const struct scp_envelope *const *own, size_t count)
{
    struct instance *inst = ctx;
    if (slot > SIM_SLOTS_MAX || count > 2)
        return -1;
    for (size_t i = 0; i < count; i++)
        inst->persisted[slot * 2 + i] = *own[i];
    inst->persisted_count[slot] = count;
    return 0;
}

static const struct scp_value *ballot_value(const struct scp_statement *st)
{
    if (st->type == SCP_STATEMENT_PREPARE)
        return &st->u.prepare.ballot.value;
    if (st->type == SCP_STATEMENT_CONFIRM)
        return &st->u.confirm.ballot.value;
    return &st->u.externalize.commit.value;
}

/* Self-consistency: each statement an honest node emits supersedes what it
 * said before in the slot (across restarts), and once it accepted a commit
 * (CONFIRM) it never speaks of another value. */
static void check_self_consistency(struct instance *inst, const struct scp_envelope *env)
{
    struct sim *s = inst->sim;
    const struct scp_statement *st = &env->statement;
    uint64_t slot = st->slot;
    bool nomination = st->type == SCP_STATEMENT_NOMINATE;
    bool *said = nomination ? &inst->said_nomination[slot] : &inst->said_ballot[slot];
    struct scp_envelope *before = &inst->said[slot * 2 + (nomination ? 0 : 1)];
    if (*said && !scp_statement_is_newer(&before->statement, st))
        fail(s, "self-consistency: node %d slot %" PRIu64 " emitted a %d statement not newer than its %d",
             inst->node, slot, (int)st->type, (int)before->statement.type);
    if (*said && !nomination && before->statement.type != SCP_STATEMENT_PREPARE &&
        scp_value_compare(ballot_value(&before->statement), ballot_value(st)) != 0)
        fail(s, "self-consistency: node %d slot %" PRIu64 " changed value after accepting commit",
             inst->node, slot);
    bool persisted = false;
    for (size_t i = 0; i < inst->persisted_count[slot]; i++)
        persisted |= memcmp(inst->persisted[slot * 2 + i].signature, env->signature,
                            SCP_SIGNATURE_BYTES) == 0;
    if (!persisted)
        fail(s, "crash safety: node %d emitted a statement it had not persisted", inst->node);
    *before = *env;
    *said = true;
}

static void trace_statement(struct sim *s, const struct instance *inst,
                            const struct scp_statement *st)
{
    static const char *types[] = {"NOMINATE", "PREPARE", "CONFIRM", "EXTERNALIZE"};
    const struct scp_value *v = st->type == SCP_STATEMENT_NOMINATE ? NULL : ballot_value(st);
    uint32_t a = 0, b = 0, c = 0, d = 0;
    if (st->type == SCP_STATEMENT_NOMINATE) {
        a = st->u.nominate.votes_count;
        b = st->u.nominate.accepted_count;
    } else if (st->type == SCP_STATEMENT_PREPARE) {
        a = st->u.prepare.ballot.counter;
        b = st->u.prepare.prepared.counter;
        c = st->u.prepare.commit_counter;
        d = st->u.prepare.high_counter;
    } else if (st->type == SCP_STATEMENT_CONFIRM) {
        a = st->u.confirm.ballot.counter;
        b = st->u.confirm.prepared_counter;
        c = st->u.confirm.commit_counter;
        d = st->u.confirm.high_counter;
    } else {
        a = st->u.externalize.commit.counter;
        d = st->u.externalize.high_counter;
    }
    trace(s, "node %d.%d emits slot %" PRIu64 " %s %u %u %u %u %.*s", inst->node, inst->which,
          st->slot, types[st->type], a, b, c, d, v ? (int)v->size : 0, v ? (const char *)v->bytes : "");
}

static void sim_emit(void *ctx, const struct scp_envelope *env)
{
    struct instance *inst = ctx;
    struct sim *s = inst->sim;
    if (env->statement.slot < 1 || env->statement.slot > s->options.slots) {
        fail(s, "node %d emitted for slot %" PRIu64 " outside the run", inst->node, env->statement.slot);
        return;
    }
    if (s->nodes[inst->node].kind == HONEST)
        check_self_consistency(inst, env);
    if (s->options.verbose)
        trace_statement(s, inst, &env->statement);
    broadcast(inst, env);
}

static void sim_set_timer(void *ctx, uint64_t slot, enum scp_timer timer, uint64_t delay_ms)
{
    struct instance *inst = ctx;
    struct sim *s = inst->sim;
    if (slot > SIM_SLOTS_MAX)
        return;
    uint64_t generation = ++inst->timer_generation[slot][timer];
    struct event ev = {.at_ms = s->now_ms + delay_ms, .kind = EV_TIMER, .node = inst->node,
                       .instance = inst->which, .incarnation = s->nodes[inst->node].incarnation,
                       .slot = slot, .timer = (int)timer, .generation = generation};
    push(s, ev);
}

static void sim_cancel_timer(void *ctx, uint64_t slot, enum scp_timer timer)
{
    struct instance *inst = ctx;
    if (slot <= SIM_SLOTS_MAX)
        inst->timer_generation[slot][timer]++;
}

static void sim_externalized(void *ctx, uint64_t slot, const struct scp_value *value)
{
    struct instance *inst = ctx;
    struct sim *s = inst->sim;
    if (slot < 1 || slot > s->options.slots)
        return;
    if (inst->decided[slot]) {
        fail(s, "node %d externalized slot %" PRIu64 " twice", inst->node, slot);
        return;
    }
    inst->decided[slot] = true;
    inst->decided_value[slot] = *value;
    trace(s, "node %d.%d externalizes slot %" PRIu64 " = %.*s", inst->node, inst->which, slot,
          (int)value->size, (const char *)value->bytes);
    if (s->nodes[inst->node].kind == HONEST)
        s->result->slots_externalized++;
    if (slot < s->options.slots && !inst->decided[slot + 1]) {
        struct event ev = {.at_ms = s->now_ms + SIM_CLOSE_MS, .kind = EV_NOMINATE,
                           .node = inst->node, .instance = inst->which,
                           .incarnation = s->nodes[inst->node].incarnation, .slot = slot + 1};
        push(s, ev);
    }
}

/* ---- nodes and herders ----------------------------------------------------------------------- */

static const struct scp_value *proposal(struct sim *s, uint64_t slot, int node, int which)
{
    return &s->proposals[(slot * SIM_NODES_MAX + (uint64_t)node) * 2 + (uint64_t)which];
}

static int instance_start(struct sim *s, struct instance *inst)
{
    struct node *node = &s->nodes[inst->node];
    inst->driver = (struct scp_driver){
        .ctx = inst, .sign = sim_sign, .verify = fake_verify, .hash = fake_hash,
        .validate_value = sim_validate, .combine_candidates = fake_combine,
        .get_qset = sim_get_qset, .persist = sim_persist, .emit = sim_emit,
        .set_timer = sim_set_timer, .cancel_timer = sim_cancel_timer,
        .externalized = sim_externalized,
    };
    int rc = scp_create(&inst->driver, node->id, node->qset, &inst->scp);
    if (rc)
        fail(s, "scp_create for node %d: %s", inst->node, scp_errname(rc));
    return rc;
}

/* The herder nominates the first undecided slot with its own proposal. */
static void herder_nominate(struct sim *s, struct instance *inst, uint64_t slot)
{
    if (inst->scp == NULL || slot < 1 || slot > s->options.slots || inst->decided[slot])
        return;
    const struct scp_value *previous = slot > 1 && inst->decided[slot - 1]
                                           ? &inst->decided_value[slot - 1]
                                           : proposal(s, 0, 0, 0);
    s->proposed[slot][inst->node][inst->which] = true;
    int rc = scp_nominate(inst->scp, slot, proposal(s, slot, inst->node, inst->which), previous);
    if (rc && s->nodes[inst->node].kind == HONEST)
        fail(s, "scp_nominate node %d slot %" PRIu64 ": %s", inst->node, slot, scp_errname(rc));
}

static void deliver(struct sim *s, struct event *ev)
{
    struct node *node = &s->nodes[ev->node];
    if (!node->up || node->kind == BYZ_SILENT || node->kind == BYZ_GARBAGE)
        return;
    if (scp_envelope_decode(ev->bytes, ev->size, s->decode_buffer) != 0)
        return;
    uint64_t slot = s->decode_buffer->statement.slot;
    if (slot < 1 || slot > s->options.slots) /* the herder's slot window */
        return;
    for (int i = 0; i < node->instances; i++) {
        s->result->envelopes_delivered++;
        int rc = scp_receive_envelope(node->inst[i].scp, s->decode_buffer);
        if (rc == SCP_E_NO_MEMORY || rc == SCP_E_SLOT_LIMIT || rc == SCP_E_PERSIST)
            fail(s, "node %d could not take an envelope: %s", ev->node, scp_errname(rc));
    }
}

static void rebroadcast(struct sim *s, int n)
{
    struct node *node = &s->nodes[n];
    for (int i = 0; i < node->instances; i++) {
        if (node->inst[i].scp == NULL)
            continue;
        for (uint64_t slot = 1; slot <= s->options.slots; slot++) {
            const struct scp_envelope *own[2];
            size_t count = scp_own_envelopes(node->inst[i].scp, slot, own, 2);
            for (size_t k = 0; k < count; k++)
                broadcast(&node->inst[i], own[k]);
        }
    }
    struct event next = {.at_ms = s->now_ms + SIM_REBROADCAST_MS, .kind = EV_REBROADCAST, .node = n};
    push(s, next);
}

static void crash(struct sim *s, int n)
{
    struct node *node = &s->nodes[n];
    if (!node->up)
        return;
    trace(s, "node %d crashes", n);
    node->up = false;
    node->incarnation++;
    scp_destroy(node->inst[0].scp);
    node->inst[0].scp = NULL;
    s->result->crashes++;
}

/* A restart: a new instance, restored from the persisted statements, and
 * the herder resumes at the first undecided slot. */
static void restart(struct sim *s, int n)
{
    struct node *node = &s->nodes[n];
    if (node->up)
        return;
    trace(s, "node %d restarts", n);
    struct instance *inst = &node->inst[0];
    if (instance_start(s, inst) != 0)
        return;
    node->up = true;
    for (uint64_t slot = 1; slot <= s->options.slots; slot++)
        for (size_t i = 0; i < inst->persisted_count[slot]; i++) {
            int rc = scp_restore(inst->scp, &inst->persisted[slot * 2 + i]);
            if (rc)
                fail(s, "node %d restore slot %" PRIu64 ": %s", n, slot, scp_errname(rc));
        }
    for (uint64_t slot = 1; slot <= s->options.slots; slot++)
        if (!inst->decided[slot]) {
            herder_nominate(s, inst, slot);
            break;
        }
}

/* Garbage: random bytes, a mutated valid envelope, or a well-signed
 * statement with random fields, to a random peer. */
static void send_garbage(struct sim *s, int n)
{
    uint8_t bytes[SCP_ENVELOPE_BYTES_MAX];
    size_t size = 0;
    switch (rnd(s) % 3) {
    case 0:
        size = rnd_range(s, 1, SIM_GARBAGE_BYTES_MAX);
        for (size_t i = 0; i < size; i++)
            bytes[i] = (uint8_t)rnd(s);
        break;
    case 1:
        size = s->last_size;
        memcpy(bytes, s->last_bytes, size);
        if (size)
            bytes[rnd(s) % size] ^= (uint8_t)(1u << (rnd(s) % 8));
        break;
    default: {
        struct scp_envelope *env = calloc(1, sizeof *env);
        if (env == NULL)
            return;
        memcpy(env->statement.node_id, s->nodes[n].id, SCP_NODE_ID_BYTES);
        env->statement.slot = rnd_range(s, 0, s->options.slots + 1);
        env->statement.type = (enum scp_statement_type)rnd_range(s, 1, 3);
        struct scp_ballot *b = env->statement.type == SCP_STATEMENT_PREPARE ? &env->statement.u.prepare.ballot
                             : env->statement.type == SCP_STATEMENT_CONFIRM ? &env->statement.u.confirm.ballot
                                                                            : &env->statement.u.externalize.commit;
        b->counter = (uint32_t)rnd_range(s, 1, 5);
        b->value = *proposal(s, rnd_range(s, 1, s->options.slots), (int)rnd_range(s, 0, (uint64_t)s->n - 1), 0);
        env->statement.u.confirm.high_counter = (uint32_t)rnd_range(s, 0, 6);
        if (scp_statement_encode(&env->statement, bytes, sizeof bytes, &size) == 0)
            fake_signature(env->statement.node_id, bytes, size, env->signature);
        if (scp_envelope_encode(env, bytes, sizeof bytes, &size) != 0)
            size = 0;
        free(env);
        break;
    }
    }
    s->result->garbage_sent++;
    transmit(s, n, (int)rnd_range(s, 0, (uint64_t)s->n - 1), bytes, size);
    struct event next = {.at_ms = s->now_ms + rnd_range(s, 50, 400), .kind = EV_GARBAGE, .node = n};
    push(s, next);
}

/* ---- topologies and fault plans ---------------------------------------------------------- */

const char *sim_topology_name(enum sim_topology t)
{
    static const char *names[] = {"four-threshold-three", "seven-threshold-five",
                                  "tiered-three-orgs", "no-intersection"};
    return (unsigned)t < SIM_TOPOLOGIES_COUNT ? names[t] : "?";
}

static void build_topology(struct sim *s)
{
    typedef const uint8_t(*ids_t)[SCP_NODE_ID_BYTES];
    ids_t ids = (ids_t)s->ids;
    switch (s->options.topology) {
    case SIM_FOUR_OF_THRESHOLD_THREE:
        s->n = 4;
        s->qsets[0] = (struct scp_qset){3, 4, ids, 0, NULL};
        break;
    case SIM_SEVEN_OF_THRESHOLD_FIVE:
        s->n = 7;
        s->qsets[0] = (struct scp_qset){5, 7, ids, 0, NULL};
        break;
    case SIM_TIERED_THREE_ORGS:
        /* DESIGN.md §5 default: each org a simple majority of its three
         * validators, the top set floor(2n/3) + 1 = 3 of the 3 orgs. */
        s->n = 9;
        for (int o = 0; o < 3; o++)
            s->inner[o] = (struct scp_qset){2, 3, ids + 3 * o, 0, NULL};
        s->qsets[0] = (struct scp_qset){3, 0, NULL, 3, s->inner};
        break;
    default:
        /* Group {0,1,2} trusts 2 of {0,1,2,3}, group {3,4,5} 2 of {3,4,5,0}:
         * {0,1} and {3,4} are disjoint quorums. */
        s->n = 6;
        memcpy(s->ids[6], s->ids[0], SCP_NODE_ID_BYTES);
        s->qsets[0] = (struct scp_qset){2, 4, ids, 0, NULL};
        s->qsets[1] = (struct scp_qset){2, 4, ids + 3, 0, NULL};
        break;
    }
}

static void check_topology(struct sim *s)
{
    struct scp_network_node net[SIM_NODES_MAX];
    for (int i = 0; i < s->n; i++) {
        memcpy(net[i].id, s->nodes[i].id, SCP_NODE_ID_BYTES);
        net[i].qset = s->nodes[i].qset;
    }
    struct scp_intersection verdict;
    int rc = scp_check_intersection(net, (size_t)s->n, 0, &verdict);
    if (rc)
        fail(s, "intersection checker: %s", scp_errname(rc));
    s->result->intersects = rc == 0 && verdict.intersects;
    if ((s->options.topology == SIM_NO_INTERSECTION) == s->result->intersects)
        fail(s, "intersection checker says %d for %s", (int)s->result->intersects,
             sim_topology_name(s->options.topology));
    scp_intersection_free(&verdict);
}

/* Byzantine nodes stay within what the topology tolerates for safety and
 * liveness: f = 1 of 4 (t=3), 2 of 7 (t=5), 1 of 9 (tiered), 0 otherwise. */
static int byzantine_max(enum sim_topology t)
{
    static const int f[] = {1, 2, 1, 0};
    return f[t];
}

static void plan_faults(struct sim *s)
{
    s->loss = rnd_unit(s) * 0.15;
    s->duplication = rnd_unit(s) * 0.10;
    s->delay_min_ms = 1;
    s->delay_max_ms = (uint32_t)rnd_range(s, 5, 300);
    int byzantine = (int)rnd_range(s, 0, (uint64_t)byzantine_max(s->options.topology));
    for (int k = 0; k < byzantine; k++) {
        int n = (int)rnd_range(s, 0, (uint64_t)s->n - 1);
        if (s->nodes[n].kind != HONEST)
            continue;
        s->nodes[n].kind = (enum node_kind)rnd_range(s, BYZ_SILENT, BYZ_EQUIVOCATE);
        s->result->byzantine++;
    }
    int partitions = (int)rnd_range(s, 0, SIM_PARTITIONS_MAX);
    for (int p = 0; p < partitions; p++) {
        uint64_t start = rnd_range(s, 0, 8000), end = start + rnd_range(s, 500, 8000);
        s->partition_side[p] = (uint32_t)rnd(s);
        push(s, (struct event){.at_ms = start, .kind = EV_PARTITION, .partition = p});
        push(s, (struct event){.at_ms = end, .kind = EV_HEAL, .partition = p});
        s->heal_ms = end > s->heal_ms ? end : s->heal_ms;
        s->result->partitions++;
    }
    int crashes = (int)rnd_range(s, 0, SIM_CRASHES_MAX);
    for (int c = 0; c < crashes; c++) {
        int n = (int)rnd_range(s, 0, (uint64_t)s->n - 1);
        if (s->nodes[n].kind != HONEST)
            continue;
        uint64_t at = rnd_range(s, 0, 10000), back = at + rnd_range(s, 200, 6000);
        push(s, (struct event){.at_ms = at, .kind = EV_CRASH, .node = n});
        push(s, (struct event){.at_ms = back, .kind = EV_RESTART, .node = n});
        s->heal_ms = back > s->heal_ms ? back : s->heal_ms;
    }
}

static int setup(struct sim *s)
{
    for (int i = 0; i < SIM_NODES_MAX; i++) {
        uint8_t seed[2] = {(uint8_t)i, 0x5a};
        fake_hash(NULL, seed, sizeof seed, s->ids[i]);
    }
    build_topology(s);
    s->proposals = calloc((SIM_SLOTS_MAX + 1) * SIM_NODES_MAX * 2, sizeof *s->proposals);
    s->decode_buffer = malloc(sizeof *s->decode_buffer);
    if (s->proposals == NULL || s->decode_buffer == NULL)
        return -1;
    struct scp_value *genesis = &s->proposals[0];
    genesis->size = (uint32_t)snprintf((char *)genesis->bytes, SCP_VALUE_BYTES_MAX, "genesis");
    for (uint64_t slot = 1; slot <= SIM_SLOTS_MAX; slot++)
        for (int n = 0; n < s->n; n++)
            for (int w = 0; w < 2; w++) {
                struct scp_value *v = &s->proposals[(slot * SIM_NODES_MAX + (uint64_t)n) * 2 + (uint64_t)w];
                v->size = (uint32_t)snprintf((char *)v->bytes, SCP_VALUE_BYTES_MAX, "s%" PRIu64 "-n%d%s",
                                             slot, n, w ? "b" : "");
            }
    for (int i = 0; i < s->n; i++) {
        struct node *node = &s->nodes[i];
        memcpy(node->id, s->ids[i], SCP_NODE_ID_BYTES);
        node->qset = s->options.topology == SIM_NO_INTERSECTION && i >= 3 ? &s->qsets[1] : &s->qsets[0];
        node->up = true;
        uint8_t buffer[4096];
        size_t size;
        if (scp_qset_encode(node->qset, buffer, sizeof buffer, &size) != 0)
            return -1;
        fake_hash(NULL, buffer, size, s->qset_hashes[i]);
    }
    if (s->options.faults)
        plan_faults(s);
    for (int i = 0; i < s->n; i++) {
        struct node *node = &s->nodes[i];
        node->instances = node->kind == BYZ_EQUIVOCATE ? 2 : node->kind == HONEST ? 1 : 0;
        for (int k = 0; k < node->instances; k++) {
            struct instance *inst = &node->inst[k];
            inst->sim = s;
            inst->node = i;
            inst->which = k;
            inst->decided_value = calloc(SIM_SLOTS_MAX + 1, sizeof *inst->decided_value);
            inst->persisted = calloc((SIM_SLOTS_MAX + 1) * 2, sizeof *inst->persisted);
            inst->said = calloc((SIM_SLOTS_MAX + 1) * 2, sizeof *inst->said);
            if (!inst->decided_value || !inst->persisted || !inst->said || instance_start(s, inst))
                return -1;
            push(s, (struct event){.at_ms = rnd_range(s, 0, 50), .kind = EV_NOMINATE, .node = i,
                                   .instance = k, .slot = 1});
        }
        if (node->instances)
            push(s, (struct event){.at_ms = SIM_REBROADCAST_MS, .kind = EV_REBROADCAST, .node = i});
        if (node->kind == BYZ_GARBAGE)
            push(s, (struct event){.at_ms = rnd_range(s, 0, 200), .kind = EV_GARBAGE, .node = i});
    }
    check_topology(s);
    return 0;
}

/* ---- the run ------------------------------------------------------------------------------------ */

static bool honest_done(const struct sim *s, int n)
{
    const struct instance *inst = &s->nodes[n].inst[0];
    for (uint64_t slot = 1; slot <= s->options.slots; slot++)
        if (!inst->decided[slot])
            return false;
    return true;
}

static bool all_done(struct sim *s)
{
    uint64_t last = 0;
    for (int n = 0; n < s->n; n++) {
        if (s->nodes[n].kind != HONEST)
            continue;
        if (!honest_done(s, n))
            return false;
        last = s->nodes[n].done_ms > last ? s->nodes[n].done_ms : last;
    }
    s->result->virtual_ms = last;
    return true;
}

static void dispatch(struct sim *s, struct event *ev)
{
    struct node *node = &s->nodes[ev->node];
    struct instance *inst = &node->inst[ev->instance];
    switch (ev->kind) {
    case EV_DELIVER:
        deliver(s, ev);
        break;
    case EV_TIMER:
        if (node->up && ev->incarnation == node->incarnation && inst->scp &&
            ev->generation == inst->timer_generation[ev->slot][ev->timer])
            scp_timer_fired(inst->scp, ev->slot, (enum scp_timer)ev->timer);
        break;
    case EV_NOMINATE:
        if (node->up && ev->incarnation == node->incarnation)
            herder_nominate(s, inst, ev->slot);
        break;
    case EV_REBROADCAST:
        if (node->up)
            rebroadcast(s, ev->node);
        else
            push(s, (struct event){.at_ms = s->now_ms + SIM_REBROADCAST_MS, .kind = EV_REBROADCAST,
                                   .node = ev->node});
        break;
    case EV_GARBAGE:
        send_garbage(s, ev->node);
        break;
    case EV_CRASH:
        crash(s, ev->node);
        break;
    case EV_RESTART:
        restart(s, ev->node);
        break;
    case EV_PARTITION:
        trace(s, "partition %d: sides %#x", ev->partition, s->partition_side[ev->partition]);
        s->partition_active[ev->partition] = true;
        break;
    case EV_HEAL:
        trace(s, "partition %d heals", ev->partition);
        s->partition_active[ev->partition] = false;
        break;
    }
}

/* Safety (where the checker says quorums intersect) and Validity. */
static void check_decisions(struct sim *s)
{
    for (uint64_t slot = 1; slot <= s->options.slots; slot++) {
        const struct scp_value *first = NULL;
        int first_node = -1;
        for (int n = 0; n < s->n; n++) {
            const struct instance *inst = &s->nodes[n].inst[0];
            if (s->nodes[n].kind != HONEST || !inst->decided[slot])
                continue;
            const struct scp_value *v = &inst->decided_value[slot];
            bool proposed = false;
            for (int p = 0; p < s->n; p++)
                for (int w = 0; w < 2; w++)
                    proposed |= s->proposed[slot][p][w] &&
                                scp_value_compare(proposal(s, slot, p, w), v) == 0;
            if (!proposed)
                fail(s, "validity: node %d decided an unproposed value in slot %" PRIu64, n, slot);
            if (first == NULL) {
                first = v;
                first_node = n;
            } else if (scp_value_compare(first, v) != 0 && !s->result->intersects) {
                s->result->diverged = true;
            } else if (scp_value_compare(first, v) != 0) {
                fail(s, "safety: slot %" PRIu64 ": node %d decided %.*s, node %d decided %.*s", slot,
                     first_node, (int)first->size, (const char *)first->bytes, n, (int)v->size,
                     (const char *)v->bytes);
            }
        }
    }
}

static void run_events(struct sim *s)
{
    uint64_t deadline = s->heal_ms + SIM_LIVENESS_MS;
    for (uint64_t processed = 0; !s->failed && s->heap_count > 0; processed++) {
        if (processed >= SIM_EVENTS_PROCESSED_MAX) {
            fail(s, "event budget of %u exhausted at %" PRIu64 " ms", SIM_EVENTS_PROCESSED_MAX, s->now_ms);
            break;
        }
        struct event ev = pop(s);
        s->now_ms = ev.at_ms;
        if (s->now_ms > deadline) {
            free(ev.bytes);
            break;
        }
        dispatch(s, &ev);
        free(ev.bytes);
        for (int n = 0; n < s->n; n++)
            if (s->nodes[n].kind == HONEST && s->nodes[n].done_ms == 0 && honest_done(s, n))
                s->nodes[n].done_ms = s->now_ms ? s->now_ms : 1;
        if (all_done(s))
            return;
    }
    /* SCP promises liveness to intact nodes only; without quorum
     * intersection no node is intact (a node can be stuck having accepted a
     * commit that the other side never confirms). */
    if (!s->failed && s->result->intersects) {
        for (int n = 0; n < s->n; n++)
            if (s->nodes[n].kind == HONEST && !honest_done(s, n)) {
                fail(s, "liveness: node %d has not decided every slot %u ms after the last heal (at %" PRIu64 " ms)",
                     n, SIM_LIVENESS_MS, s->heal_ms);
                break;
            }
    }
}

static void teardown(struct sim *s)
{
    for (int i = 0; i < s->n; i++)
        for (int k = 0; k < s->nodes[i].instances; k++) {
            struct instance *inst = &s->nodes[i].inst[k];
            scp_destroy(inst->scp);
            free(inst->decided_value);
            free(inst->persisted);
            free(inst->said);
        }
    for (size_t i = 0; i < s->heap_count; i++)
        free(s->heap[i].bytes);
    free(s->heap);
    free(s->proposals);
    free(s->decode_buffer);
}

/* Promises one complete run with every check applied; result->ok says
 * whether all held, result->failure names the first that did not. */
bool sim_run(const struct sim_options *options, struct sim_result *result)
{
    memset(result, 0, sizeof *result);
    struct sim *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(result->failure, sizeof result->failure, "out of memory");
        return false;
    }
    s->options = *options;
    if (s->options.slots < 1 || s->options.slots > SIM_SLOTS_MAX)
        s->options.slots = 3;
    s->result = result;
    s->rng = options->seed * 0x2545f4914f6cdd1dull + (uint64_t)options->topology;
    s->delay_min_ms = 1;
    s->delay_max_ms = 20;
    if (setup(s) != 0)
        fail(s, "setup failed");
    if (!s->failed)
        run_events(s);
    check_decisions(s);
    result->ok = !s->failed;
    teardown(s);
    free(s);
    return result->ok;
}
