/*
 * scp_internal.h — declarations shared by the files of consensus/; nothing
 * here is public.  Read consensus.h first, then slot.c (the per-slot entry
 * points), nomination.c and ballot.c (the two protocols), codec.c.
 *
 * Names: cross-file internals carry the prefix scp__, statics none.
 */
#ifndef NANUM_SCP_INTERNAL_H
#define NANUM_SCP_INTERNAL_H

#include <msgpack.h>
#include <string.h>

#include "consensus.h"

/* Nodes whose statements one slot remembers (the draft's set M). */
#define SCP_SLOT_NODES_MAX (SCP_QSET_NODES_MAX + 24)
/* Round leaders remembered per slot; further leaders are not added. */
#define SCP_NOMINATION_LEADERS_MAX 64
/* msgpack nesting accepted by the decoder's pre-check. */
#define SCP_MSGPACK_DEPTH_MAX (SCP_QSET_DEPTH_MAX * 2 + 6)

/* ---- msgpack helpers (codec.c) ---------------------------------------- */

/* A bounded output buffer for msgpack_packer; `overflow` sticks. */
struct scp__writer {
    uint8_t *bytes;
    size_t capacity;
    size_t size;
    bool overflow;
};
void scp__writer_init(struct scp__writer *w, msgpack_packer *pk, uint8_t *out,
                      size_t capacity);
/* Checks that data[0..size) is exactly one msgpack object whose container
 * counts fit in the remaining bytes, nested at most depth_max; this bounds
 * what msgpack_unpack_next allocates.  0 or SCP_E_DECODE/TRAILING_BYTES. */
int scp__msgpack_precheck(const uint8_t *data, size_t size, int depth_max);
/* Unpacks one object (after the pre-check); 0 or SCP_E_DECODE. */
int scp__msgpack_unpack(const uint8_t *data, size_t size,
                        msgpack_unpacked *result);
bool scp__obj_array(const msgpack_object *o, uint32_t count);
bool scp__obj_uint(const msgpack_object *o, uint64_t max, uint64_t *out);
bool scp__obj_bin_exact(const msgpack_object *o, uint8_t *out, size_t size);

/* ---- quorum-set predicates (qset.c) ------------------------------------ */

/* Membership test over some set of nodes. */
typedef bool (*scp__member_fn)(const void *arg, const uint8_t id[SCP_NODE_ID_BYTES]);
bool scp__slice_satisfied(const struct scp_qset *qset, scp__member_fn member,
                          const void *arg);
bool scp__vblocking(const struct scp_qset *qset, scp__member_fn member,
                    const void *arg);
bool scp__qset_contains(const struct scp_qset *qset,
                        const uint8_t id[SCP_NODE_ID_BYTES]);
void scp__qset_hash(const struct scp_driver *driver, const struct scp_qset *qset,
                    uint8_t out[SCP_HASH_BYTES]);

/* ---- slot state ------------------------------------------------------- */

enum scp__phase { SCP__PREPARE = 0, SCP__CONFIRM = 1, SCP__EXTERNALIZE = 2 };

/* The latest statements of one node in one slot (draft: M[v]). */
struct scp__known {
    uint8_t node_id[SCP_NODE_ID_BYTES];
    bool has_nomination;
    bool has_ballot;
    const struct scp_qset *nomination_qset;
    const struct scp_qset *ballot_qset;
    struct scp_envelope nomination;
    struct scp_envelope ballot;
};

struct scp__nomination {
    bool started;
    uint32_t round;
    uint32_t votes_count;
    struct scp_value votes[SCP_NOMINATE_VALUES_MAX];
    uint32_t accepted_count;
    struct scp_value accepted[SCP_NOMINATE_VALUES_MAX];
    uint32_t candidates_count;
    struct scp_value candidates[SCP_CANDIDATES_MAX];
    uint32_t leaders_count;
    uint8_t leaders[SCP_NOMINATION_LEADERS_MAX][SCP_NODE_ID_BYTES];
    bool has_composite;
    struct scp_value composite;
    bool has_proposal;
    struct scp_value proposal;
    struct scp_value previous;
    bool has_last;                      /* last statement generated */
    struct scp_envelope last;
    bool has_emitted;                   /* last statement handed to emit */
    struct scp_envelope emitted;
};

/* Ballot protocol state (draft § ballot): counter 0 means "absent". */
struct scp__ballot {
    enum scp__phase phase;
    struct scp_ballot b, p, p_prime, h, c;
    bool has_override;                  /* the draft's z, from h or commit */
    struct scp_value value_override;
    bool heard_from_quorum;
    int depth;                          /* advance recursion level */
    bool has_last;
    struct scp_envelope last;
    bool has_emitted;
    struct scp_envelope emitted;
};

struct scp__slot {
    uint64_t index;
    bool fully_validated;               /* false once a MAYBE_VALID value seen */
    bool externalized;
    struct scp_value externalized_value;
    size_t known_count;
    struct scp__known **known;          /* sorted by node id */
    struct scp__nomination nom;
    struct scp__ballot bal;
};

struct scp {
    struct scp_driver driver;
    uint8_t node_id[SCP_NODE_ID_BYTES];
    struct scp_qset *qset;
    uint8_t qset_hash[SCP_HASH_BYTES];
    struct scp__slot *slots[SCP_SLOTS_MAX];
    uint8_t scratch[SCP_ENVELOPE_BYTES_MAX]; /* statement bytes to sign/verify */
};

/* slot.c */
struct scp__slot *scp__slot_get(struct scp *scp, uint64_t index, bool create,
                                int *error);
struct scp__known *scp__known_find(const struct scp__slot *slot,
                                   const uint8_t id[SCP_NODE_ID_BYTES]);
/* Stores env as the latest statement of its node; 0 or an error. */
int scp__record(struct scp__slot *slot, const struct scp_envelope *env,
                const struct scp_qset *qset);
/* Validates every value of a statement: the weakest verdict. */
enum scp_validation scp__validate_statement(struct scp *scp, uint64_t slot,
                                            const struct scp_statement *st);
/* Signs and processes our own new statement as if received (draft: a node
 * counts its own votes).  0 or an error. */
int scp__self_process(struct scp *scp, struct scp__slot *slot,
                      struct scp_envelope *env);
/* Persists the own latest statements and emits env. */
int scp__send(struct scp *scp, struct scp__slot *slot,
              const struct scp_envelope *env);
void scp__event(struct scp *scp, enum scp_event_type type, uint64_t slot,
                uint32_t counter, const struct scp_value *value);
uint64_t scp__timeout(struct scp *scp, enum scp_timer timer, uint32_t round);

/* Statement predicates for federated voting. */
typedef bool (*scp__statement_pred)(const struct scp_statement *st,
                                    const void *arg);
/* Draft § federated voting: a quorum (containing the local node's slice)
 * whose members' statements satisfy pred. `ballot` selects M's kind. */
bool scp__federated_ratify(const struct scp *scp, const struct scp__slot *slot,
                           bool ballot, scp__statement_pred pred,
                           const void *arg);
/* Accept: a v-blocking set accepted, or a quorum voted or accepted. */
bool scp__federated_accept(const struct scp *scp, const struct scp__slot *slot,
                           bool ballot, scp__statement_pred voted,
                           scp__statement_pred accepted, const void *arg);
bool scp__vblocking_with(const struct scp *scp, const struct scp__slot *slot,
                         bool ballot, scp__statement_pred pred, const void *arg);

/* nomination.c */
int scp__nomination_process(struct scp *scp, struct scp__slot *slot,
                            const struct scp_envelope *env,
                            const struct scp_qset *qset);
int scp__nominate(struct scp *scp, struct scp__slot *slot,
                  const struct scp_value *value,
                  const struct scp_value *previous, bool timed_out);
void scp__nomination_stop(struct scp *scp, struct scp__slot *slot);
int scp__nomination_restore(struct scp *scp, struct scp__slot *slot,
                            const struct scp_envelope *env);
bool scp__nomination_newer(const struct scp_nominate *older,
                           const struct scp_nominate *newer);

/* ballot.c */
int scp__ballot_process(struct scp *scp, struct scp__slot *slot,
                        const struct scp_envelope *env,
                        const struct scp_qset *qset);
/* Draft: bump to a ballot carrying `value` (the composite candidate) when
 * force or no ballot yet. */
bool scp__ballot_bump(struct scp *scp, struct scp__slot *slot,
                      const struct scp_value *value, bool force);
int scp__ballot_timer_fired(struct scp *scp, struct scp__slot *slot);
int scp__ballot_restore(struct scp *scp, struct scp__slot *slot,
                        const struct scp_envelope *env);
bool scp__ballot_newer(const struct scp_statement *older,
                       const struct scp_statement *newer);
/* The ballot a statement works on (draft: its b, or <∞,x> for EXTERNALIZE). */
void scp__working_ballot(const struct scp_statement *st, struct scp_ballot *out);

static inline bool scp__id_equal(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, SCP_NODE_ID_BYTES) == 0;
}

#endif
