/*
 * consensus.h — nanum's Stellar Consensus Protocol library (prefix scp_).
 *
 * This is the one public header of consensus/.  It implements SCP as in
 * draft-mazieres-dinrg-scp (read spec/consensus.md next, then the draft):
 *
 *   - quorum sets: sanity checks, canonical encoding, hashing (§ "Quorum sets");
 *   - federated voting predicates: quorum and v-blocking tests;
 *   - the per-slot state machine: nomination, then the ballot protocol
 *     (PREPARE / CONFIRM / EXTERNALIZE);
 *   - the strict msgpack codec of envelopes;
 *   - a quorum-intersection checker over a whole network's quorum sets.
 *
 * The library is pure: it never reads a clock, a socket, a file or a random
 * source, never logs and never exits.  Everything that touches the world goes
 * through `struct scp_driver`, a table of callbacks the caller implements
 * (nanumd with libsodium and libuv; the simulator in tests/consensus/ with a
 * virtual clock).  Calls in are scp_nominate(), scp_receive_envelope() and
 * scp_timer_fired(); calls out are the driver's callbacks, made synchronously
 * from inside those calls.  A driver callback must not call back into the
 * same `struct scp` (queue the work and do it after the call returns).
 *
 * Errors are 0 or a negative SCP_E_* code; scp_errname()/scp_strerror() turn
 * a code into its name and message.
 */
#ifndef NANUM_CONSENSUS_H
#define NANUM_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- limits (spec/consensus.md § Limits) ------------------------------ */

#define SCP_NODE_ID_BYTES 32         /* Ed25519 public key */
#define SCP_HASH_BYTES 32            /* BLAKE2b-256 in nanumd */
#define SCP_SIGNATURE_BYTES 64       /* Ed25519 detached signature */
#define SCP_VALUE_BYTES_MAX 1024     /* one opaque consensus value */
#define SCP_QSET_DEPTH_MAX 4         /* nesting levels, the top set is level 1 */
#define SCP_QSET_NODES_MAX 1000      /* validators counted over all levels */
#define SCP_QSET_ENTRIES_MAX 1000    /* validators + inner sets of one set */
#define SCP_QSET_ENCODED_BYTES_MAX (SCP_QSET_NODES_MAX * 40 + 4096)
#define SCP_NOMINATE_VALUES_MAX 8    /* votes, and again accepted, per NOMINATE */
#define SCP_ENVELOPE_BYTES_MAX (2 * SCP_NOMINATE_VALUES_MAX * (SCP_VALUE_BYTES_MAX + 8) + 512)
#define SCP_CANDIDATES_MAX SCP_NOMINATE_VALUES_MAX
#define SCP_SLOTS_MAX 16             /* slots one scp instance tracks at once */
#define SCP_ADVANCE_DEPTH_MAX 50     /* recursion of the ballot state machine */
#define SCP_TIMEOUT_MS_MAX (30u * 60u * 1000u)
#define SCP_COUNTER_INFINITY UINT32_MAX /* the draft's ballot counter "∞" */

/* ---- errors ------------------------------------------------------------ */

/* X(name, value, message): the one table of consensus/ errors. */
#define SCP_ERRORS(X)                                                          \
    X(SCP_E_INVALID_ARGUMENT, -1, "invalid argument")                          \
    X(SCP_E_NO_MEMORY, -2, "out of memory")                                    \
    X(SCP_E_QSET_THRESHOLD, -3, "quorum set threshold is not in 1..entries")   \
    X(SCP_E_QSET_DUPLICATE, -4, "quorum set names a node twice")               \
    X(SCP_E_QSET_DEPTH, -5, "quorum set nested too deep")                      \
    X(SCP_E_QSET_SIZE, -6, "quorum set has too many nodes or entries")         \
    X(SCP_E_QSET_UNKNOWN, -7, "quorum set of the statement is unknown")        \
    X(SCP_E_BUFFER_TOO_SMALL, -8, "output buffer too small")                   \
    X(SCP_E_DECODE, -9, "malformed encoding")                                  \
    X(SCP_E_NON_CANONICAL, -10, "encoding is not canonical")                   \
    X(SCP_E_TRAILING_BYTES, -11, "trailing bytes after the message")           \
    X(SCP_E_LIMIT, -12, "a field exceeds its limit")                           \
    X(SCP_E_BAD_SIGNATURE, -13, "signature does not verify")                   \
    X(SCP_E_INSANE_STATEMENT, -14, "statement breaks the draft's validity rules") \
    X(SCP_E_OLD_STATEMENT, -15, "statement is not newer than one already seen") \
    X(SCP_E_INVALID_VALUE, -16, "statement carries an invalid value")          \
    X(SCP_E_SLOT_LIMIT, -17, "too many slots in progress")                     \
    X(SCP_E_DRIVER, -18, "a driver callback failed")                           \
    X(SCP_E_PERSIST, -19, "persisting own statements failed; nothing emitted") \
    X(SCP_E_STATE, -20, "call not allowed in the slot's current state")        \
    X(SCP_E_CHECK_BUDGET, -21, "intersection check exceeded its step budget")  \
    X(SCP_E_UNKNOWN_NODE, -22, "node is not in the network")

enum scp_error {
#define SCP__ERROR_ENUM(name, value, message) name = value,
    SCP_ERRORS(SCP__ERROR_ENUM)
#undef SCP__ERROR_ENUM
};

/* Returns the symbolic name of an error code ("SCP_E_DECODE"), or "OK" for
 * 0, or "SCP_E_?" for a value not in the table.  Never NULL. */
const char *scp_errname(int code);
/* Returns a one-line English message for an error code.  Never NULL. */
const char *scp_strerror(int code);

/* ---- values, ballots, quorum sets ------------------------------------- */

/* An opaque consensus value; ordering is lexicographic by bytes, then size. */
struct scp_value {
    uint32_t size;                      /* 1..SCP_VALUE_BYTES_MAX */
    uint8_t bytes[SCP_VALUE_BYTES_MAX];
};

/* A ballot <counter, value>; counter 0 means "no ballot". */
struct scp_ballot {
    uint32_t counter;
    struct scp_value value;
};

/*
 * A quorum set: `threshold` of the entries (validators and inner sets) must
 * agree.  Memory is owned by whoever built it; the library only reads it.
 * Sane (scp_qset_check): 1 <= threshold <= entries, no node twice anywhere,
 * depth <= SCP_QSET_DEPTH_MAX, at most SCP_QSET_NODES_MAX nodes.
 */
struct scp_qset {
    uint32_t threshold;
    uint32_t validators_count;
    const uint8_t (*validators)[SCP_NODE_ID_BYTES];
    uint32_t inner_count;
    const struct scp_qset *inner;
};

/* ---- statements and envelopes ----------------------------------------- */

enum scp_statement_type {
    SCP_STATEMENT_NOMINATE = 0,
    SCP_STATEMENT_PREPARE = 1,
    SCP_STATEMENT_CONFIRM = 2,
    SCP_STATEMENT_EXTERNALIZE = 3,
};

/* NOMINATE: votes X and accepted Y, each strictly ascending, not both empty. */
struct scp_nominate {
    uint32_t votes_count;
    struct scp_value votes[SCP_NOMINATE_VALUES_MAX];
    uint32_t accepted_count;
    struct scp_value accepted[SCP_NOMINATE_VALUES_MAX];
};

/* PREPARE <b, p, p', c.n, h.n>; a counter of 0 in p/p' means absent. */
struct scp_prepare {
    struct scp_ballot ballot;
    struct scp_ballot prepared;
    struct scp_ballot prepared_prime;
    uint32_t commit_counter;            /* nC, 0 if not voting to commit */
    uint32_t high_counter;              /* nH */
};

/* CONFIRM <b, p.n, c.n, h.n>: all ballots share b.value. */
struct scp_confirm {
    struct scp_ballot ballot;
    uint32_t prepared_counter;
    uint32_t commit_counter;
    uint32_t high_counter;
};

/* EXTERNALIZE <c, h.n>. */
struct scp_externalize {
    struct scp_ballot commit;
    uint32_t high_counter;
};

struct scp_statement {
    uint8_t node_id[SCP_NODE_ID_BYTES];
    uint64_t slot;
    uint8_t qset_hash[SCP_HASH_BYTES];  /* sender's quorum set */
    enum scp_statement_type type;
    union {
        struct scp_nominate nominate;
        struct scp_prepare prepare;
        struct scp_confirm confirm;
        struct scp_externalize externalize;
    } u;
};

struct scp_envelope {
    struct scp_statement statement;
    uint8_t signature[SCP_SIGNATURE_BYTES];
};

/* ---- codec (strict msgpack, spec/consensus.md § Encoding) -------------- */

/* Writes the canonical encoding of `statement` (the bytes that are signed)
 * into out[0..capacity); sets *size_out.  0 or SCP_E_BUFFER_TOO_SMALL /
 * SCP_E_LIMIT / SCP_E_INVALID_ARGUMENT. */
int scp_statement_encode(const struct scp_statement *statement, uint8_t *out,
                         size_t capacity, size_t *size_out);
/* Writes the canonical encoding of an envelope (statement, signature). */
int scp_envelope_encode(const struct scp_envelope *envelope, uint8_t *out,
                        size_t capacity, size_t *size_out);
/* Decodes exactly one envelope from data[0..size): arrays with exact field
 * counts and types, limits enforced, no trailing bytes, and the bytes must be
 * the canonical encoding of the result.  Semantic rules (sorted votes, the
 * draft's ballot rules) are checked by scp_statement_check(). */
int scp_envelope_decode(const uint8_t *data, size_t size,
                        struct scp_envelope *out);
/* Checks the draft's validity rules for a statement ("isStatementSane"):
 * sorted nomination lists, ballot counter relations.  0 or
 * SCP_E_INSANE_STATEMENT. */
int scp_statement_check(const struct scp_statement *statement);

/* Encodes a quorum set canonically: [threshold, [ids...], [inner...]]. */
int scp_qset_encode(const struct scp_qset *qset, uint8_t *out, size_t capacity,
                    size_t *size_out);
/* Decodes a quorum set into one heap block (free with scp_qset_free);
 * strict like scp_envelope_decode, and the result is sane. */
int scp_qset_decode(const uint8_t *data, size_t size, struct scp_qset **out);
/* Frees a quorum set returned by scp_qset_decode or scp_qset_clone (NULL ok). */
void scp_qset_free(struct scp_qset *qset);
/* Deep-copies a quorum set into one heap block. */
int scp_qset_clone(const struct scp_qset *qset, struct scp_qset **out);
/* Checks a quorum set's sanity: 0 or SCP_E_QSET_*. */
int scp_qset_check(const struct scp_qset *qset);

struct scp_driver;
/* Computes a sane set's hash, driver->hash over its canonical encoding (the
 * hash statements carry).  0 or SCP_E_QSET_* / SCP_E_NO_MEMORY. */
int scp_qset_hash(const struct scp_driver *driver, const struct scp_qset *qset,
                  uint8_t out[SCP_HASH_BYTES]);

/* ---- driver ------------------------------------------------------------ */

/* Result of validating a value (draft: "fully validated" or not). */
enum scp_validation {
    SCP_VALUE_INVALID = 0,
    SCP_VALUE_MAYBE_VALID = 1,          /* cannot tell yet, e.g. node is behind */
    SCP_VALUE_VALID = 2,
};

enum scp_timer {
    SCP_TIMER_NOMINATION = 0,
    SCP_TIMER_BALLOT = 1,
};
#define SCP_TIMERS_COUNT 2

/* Monitoring events; the hook is optional and must not call back in. */
enum scp_event_type {
    SCP_EVENT_NOMINATING_VALUE,         /* value: a new value voted for */
    SCP_EVENT_CANDIDATE_UPDATED,        /* value: the new composite candidate */
    SCP_EVENT_BALLOT_BUMPED,            /* counter: new ballot counter */
    SCP_EVENT_HEARD_FROM_QUORUM,        /* counter: ballot counter */
    SCP_EVENT_ACCEPTED_PREPARED,        /* counter */
    SCP_EVENT_CONFIRMED_PREPARED,       /* counter */
    SCP_EVENT_ACCEPTED_COMMIT,          /* counter */
    SCP_EVENT_ENVELOPE_REJECTED,        /* error: why a received one was refused */
};

struct scp_event {
    enum scp_event_type type;
    uint64_t slot;
    uint32_t counter;
    int error;
    const struct scp_value *value;      /* may be NULL */
};

/*
 * The driver: everything the library needs from the world.  All callbacks
 * are required unless marked optional; `ctx` is passed back unchanged.
 */
struct scp_driver {
    void *ctx;
    /* Signs `message` (the canonical statement bytes) with the local node's
     * key into signature; nanumd prefixes its domain tag and network id.
     * Returns 0 or a negative value (the library then emits nothing). */
    int (*sign)(void *ctx, const uint8_t *message, size_t size,
                uint8_t signature[SCP_SIGNATURE_BYTES]);
    /* Returns true when signature is node_id's signature of message. */
    bool (*verify)(void *ctx, const uint8_t node_id[SCP_NODE_ID_BYTES],
                   const uint8_t *message, size_t size,
                   const uint8_t signature[SCP_SIGNATURE_BYTES]);
    /* Hashes data into out (BLAKE2b-256 in nanumd); must be deterministic. */
    void (*hash)(void *ctx, const uint8_t *data, size_t size,
                 uint8_t out[SCP_HASH_BYTES]);
    /* Judges a value for a slot; `nomination` is true during nomination. */
    enum scp_validation (*validate_value)(void *ctx, uint64_t slot,
                                          const struct scp_value *value,
                                          bool nomination);
    /* Combines confirmed candidates (sorted, >= 1) into the composite value
     * the ballot protocol starts from.  Returns 0 or a negative value. */
    int (*combine_candidates)(void *ctx, uint64_t slot,
                              const struct scp_value *candidates, size_t count,
                              struct scp_value *out);
    /* Returns the quorum set whose hash is `hash`, or NULL when unknown (the
     * envelope is then refused with SCP_E_QSET_UNKNOWN; fetch and resubmit).
     * The pointer must stay valid while the scp instance lives. */
    const struct scp_qset *(*get_qset)(void *ctx,
                                       const uint8_t hash[SCP_HASH_BYTES]);
    /* Called before every emission with the node's latest own statements of
     * the slot (nomination and/or ballot, count 1..2).  The caller must store
     * them durably before returning 0; a negative return suppresses the
     * emission (SCP_E_PERSIST).  A restarted node hands them back through
     * scp_restore(). */
    int (*persist)(void *ctx, uint64_t slot,
                   const struct scp_envelope *const *own, size_t count);
    /* Sends a signed envelope to the network (after persist succeeded). */
    void (*emit)(void *ctx, const struct scp_envelope *envelope);
    /* Arms (re-arms) the one timer `timer` of `slot`: after delay_ms the
     * caller calls scp_timer_fired(scp, slot, timer). */
    void (*set_timer)(void *ctx, uint64_t slot, enum scp_timer timer,
                      uint64_t delay_ms);
    /* Disarms the timer; a no-op when it is not armed. */
    void (*cancel_timer)(void *ctx, uint64_t slot, enum scp_timer timer);
    /* The slot's value is decided; called exactly once per slot. */
    void (*externalized)(void *ctx, uint64_t slot,
                         const struct scp_value *value);
    /* Optional: monitoring events. */
    void (*event)(void *ctx, const struct scp_event *event);
    /* Optional: timeout of a round (nomination) or ballot counter; when NULL
     * the library uses scp_timeout_ms_default(). */
    uint64_t (*timeout_ms)(void *ctx, enum scp_timer timer, uint32_t round);
};

/* The default timeout: 1 s per round or counter (round 1 = 1 s), capped at
 * SCP_TIMEOUT_MS_MAX.  Grows linearly like stellar-core's. */
uint64_t scp_timeout_ms_default(enum scp_timer timer, uint32_t round);

/* ---- the state machine ------------------------------------------------- */

struct scp;

/* Creates an instance for node `node_id` with quorum set `qset` (copied).
 * `driver` is copied.  0 or SCP_E_INVALID_ARGUMENT / SCP_E_QSET_* /
 * SCP_E_NO_MEMORY.  *out is NULL on failure. */
int scp_create(const struct scp_driver *driver,
               const uint8_t node_id[SCP_NODE_ID_BYTES],
               const struct scp_qset *qset, struct scp **out);
/* Frees the instance and every slot (NULL ok).  Arms no timers. */
void scp_destroy(struct scp *scp);
/* The hash of the local quorum set (through the driver's hash). */
void scp_local_qset_hash(const struct scp *scp, uint8_t out[SCP_HASH_BYTES]);

/* Starts (or, with a later call, restarts) nomination for `slot` proposing
 * `value`, with `previous` the value decided for slot - 1 (it seeds leader
 * selection).  Returns 0 (also when there is nothing to do) or an error. */
int scp_nominate(struct scp *scp, uint64_t slot, const struct scp_value *value,
                 const struct scp_value *previous);
/* Processes an envelope from the network (including copies of our own).
 * 0 when it was accepted as new, or a negative code saying why not
 * (SCP_E_OLD_STATEMENT for duplicates).  Rejection is an operating error. */
int scp_receive_envelope(struct scp *scp, const struct scp_envelope *envelope);
/* The caller's timer for (slot, timer) fired. Stale calls are harmless. */
int scp_timer_fired(struct scp *scp, uint64_t slot, enum scp_timer timer);
/* Restores the node's own statement (as persisted) after a restart, before
 * any other call for the slot: state is set so that no later statement
 * contradicts it.  0 or an error. */
int scp_restore(struct scp *scp, const struct scp_envelope *own);
/* Forgets every slot below `slot` (after the caller no longer needs them). */
void scp_purge_slots_below(struct scp *scp, uint64_t slot);
/* Copies up to `capacity` of the latest envelopes known for `slot` (own and
 * peers', the ones that justify the node's state) into out; returns the
 * count.  Used to rebroadcast and to help a peer that is behind. */
size_t scp_latest_envelopes(const struct scp *scp, uint64_t slot,
                            const struct scp_envelope **out, size_t capacity);
/* Copies the node's own latest envelopes for `slot` (0..2) into out. */
size_t scp_own_envelopes(const struct scp *scp, uint64_t slot,
                         const struct scp_envelope **out, size_t capacity);
/* True (and *value_out set, if not NULL) when `slot` was externalized. */
bool scp_externalized_value(const struct scp *scp, uint64_t slot,
                            struct scp_value *value_out);

/* ---- federated voting predicates -------------------------------------- */

/* True when some slice of `qset` is contained in nodes[0..count). */
bool scp_qset_is_slice_satisfied(const struct scp_qset *qset,
                                 const uint8_t (*nodes)[SCP_NODE_ID_BYTES],
                                 size_t count);
/* True when nodes[0..count) intersects every slice of `qset` (v-blocking). */
bool scp_qset_is_vblocking(const struct scp_qset *qset,
                           const uint8_t (*nodes)[SCP_NODE_ID_BYTES],
                           size_t count);
/* The weight of node_id in qset in [0, UINT64_MAX] (draft § nomination:
 * fraction of slices containing it, scaled to 2^64 - 1). */
uint64_t scp_qset_node_weight(const struct scp_qset *qset,
                              const uint8_t node_id[SCP_NODE_ID_BYTES]);

/* ---- quorum intersection (spec/consensus.md § Intersection) ----------- */

/* One node of a network: its id and its quorum set (NULL when unknown; such
 * a node is never part of a quorum). */
struct scp_network_node {
    uint8_t id[SCP_NODE_ID_BYTES];
    const struct scp_qset *qset;
};

/* Verdict of scp_check_intersection.  When `intersects` is false, quorum_a
 * and quorum_b are two disjoint quorums, as indices into the node array. */
struct scp_intersection {
    bool intersects;
    bool has_quorum;                    /* false: the network has no quorum */
    uint32_t *quorum_a;
    size_t quorum_a_count;
    uint32_t *quorum_b;
    size_t quorum_b_count;
    uint64_t steps;                     /* search steps spent */
};

#define SCP_CHECK_STEPS_MAX_DEFAULT 5000000u

/* Decides whether every two quorums of the network intersect.  Nodes named
 * in quorum sets but absent from `nodes` count as nodes without a quorum
 * set.  Spends at most steps_max search steps (0: the default), then returns
 * SCP_E_CHECK_BUDGET.  Free the result with scp_intersection_free. */
int scp_check_intersection(const struct scp_network_node *nodes, size_t count,
                           uint64_t steps_max, struct scp_intersection *out);
/* Frees the arrays of a result (the struct itself is the caller's). */
void scp_intersection_free(struct scp_intersection *result);
/* Returns true when nodes (indices into `nodes`) form a quorum: every one
 * has a quorum set with a slice inside the set. */
bool scp_is_quorum(const struct scp_network_node *nodes, size_t count,
                   const uint32_t *members, size_t members_count);

/* ---- comparisons used by callers and tests ----------------------------- */

/* Compares values: <0, 0, >0 (bytes lexicographically, then size). */
int scp_value_compare(const struct scp_value *a, const struct scp_value *b);
/* Compares ballots by counter, then value. */
int scp_ballot_compare(const struct scp_ballot *a, const struct scp_ballot *b);
/* True when `newer` supersedes `older` (same node and slot) by the draft's
 * ordering of statements; equal statements are not newer. */
bool scp_statement_is_newer(const struct scp_statement *older,
                            const struct scp_statement *newer);

#endif
