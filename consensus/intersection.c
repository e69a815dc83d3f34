/*
 * intersection.c — the quorum-intersection checker (spec/consensus.md
 * § Intersection): decides whether every two quorums of a network share a
 * node and, when not, names two disjoint quorums.
 *
 * Method (after Lachowski 2019, "Complexity of the quorum intersection
 * property of the Federated Byzantine Agreement System"):
 *   1. Every minimal quorum lies inside one strongly connected component of
 *      the "appears in the quorum set of" graph.  If two components each
 *      hold a quorum, those quorums are disjoint: done.
 *   2. Otherwise all minimal quorums lie in the one component S that holds
 *      a quorum.  Search the subsets C of S by branching on one node at a
 *      time (in or out), looking for a quorum C with |C| <= |S|/2 whose
 *      complement in S still holds a quorum.  Prune a branch when C exceeds
 *      |S|/2, when no quorum fits between C and C ∪ remaining, or when the
 *      complement of C holds no quorum any more.
 * Worst case exponential (the problem is co-NP-hard); a step budget bounds
 * it.  Read consensus.h § quorum intersection first.
 */
#include <stdlib.h>

#include "scp_internal.h"

#define ABSENT UINT32_MAX

/* A quorum set with validators as node indices (ABSENT if not a node). */
struct cqset {
    uint32_t threshold;
    uint32_t validators_count;
    uint32_t *validators;
    uint32_t inner_count;
    struct cqset *inner;
};

struct checker {
    size_t n;
    size_t words;
    struct cqset **qsets;               /* NULL: node without a quorum set */
    uint32_t **deps;                    /* every node named in the qset */
    uint32_t *deps_count;
    uint64_t steps, steps_max;
    bool found;
    uint64_t *split;                    /* the quorum C when found */
    const uint64_t *scc;                /* the component searched */
    size_t scc_size;
};

/* ---- bitsets ----------------------------------------------------------------- */

/* True when i is in the set (ABSENT never is). */
static bool bit(const uint64_t *s, uint32_t i)
{
    return i != ABSENT && (s[i / 64] >> (i % 64)) & 1u;
}

/* Adds i to the set. */
static void set_bit(uint64_t *s, uint32_t i)
{
    s[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Removes i from the set. */
static void clear_bit(uint64_t *s, uint32_t i)
{
    s[i / 64] &= ~((uint64_t)1 << (i % 64));
}

/* Number of nodes in the set. */
static size_t popcount(const struct checker *ck, const uint64_t *s)
{
    size_t c = 0;
    for (size_t w = 0; w < ck->words; w++)
        c += (size_t)__builtin_popcountll(s[w]);
    return c;
}

/* True when a ⊆ b. */
static bool is_subset(const struct checker *ck, const uint64_t *a, const uint64_t *b)
{
    for (size_t w = 0; w < ck->words; w++)
        if (a[w] & ~b[w])
            return false;
    return true;
}

/* True when the set is empty. */
static bool is_empty(const struct checker *ck, const uint64_t *s)
{
    for (size_t w = 0; w < ck->words; w++)
        if (s[w])
            return false;
    return true;
}

/* ---- compiling quorum sets ------------------------------------------------------ */

struct id_index {
    const uint8_t *id;
    uint32_t index;
};

/* qsort/bsearch order of node ids. */
static int id_index_cmp(const void *a, const void *b)
{
    return memcmp(((const struct id_index *)a)->id, ((const struct id_index *)b)->id,
                  SCP_NODE_ID_BYTES);
}

/* Index of a node id, or ABSENT when it is not in the network. */
static uint32_t lookup(const struct id_index *ids, size_t n, const uint8_t *id)
{
    struct id_index key = {id, 0};
    const struct id_index *hit = bsearch(&key, ids, n, sizeof *ids, id_index_cmp);
    return hit ? hit->index : ABSENT;
}

/* Frees what compile() allocated below q. */
static void free_cq(struct cqset *q)
{
    if (q == NULL)
        return;
    for (uint32_t i = 0; q->inner && i < q->inner_count; i++)
        free_cq(&q->inner[i]);
    free(q->validators);
    free(q->inner);
}

/* Translates a quorum set into node indices. */
static int compile(struct cqset *dst, const struct scp_qset *src,
                   const struct id_index *ids, size_t n, int depth)
{
    if (depth > SCP_QSET_DEPTH_MAX)
        return SCP_E_QSET_DEPTH;
    dst->threshold = src->threshold;
    dst->validators_count = src->validators_count;
    dst->inner_count = src->inner_count;
    dst->validators = calloc(src->validators_count + 1, sizeof *dst->validators);
    dst->inner = calloc(src->inner_count + 1, sizeof *dst->inner);
    if (!dst->validators || !dst->inner)
        return SCP_E_NO_MEMORY;
    for (uint32_t i = 0; i < src->validators_count; i++)
        dst->validators[i] = lookup(ids, n, src->validators[i]);
    for (uint32_t i = 0; i < src->inner_count; i++) {
        int rc = compile(&dst->inner[i], &src->inner[i], ids, n, depth + 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Lists the nodes a quorum set names (graph edges), at most max. */
static void collect_deps(const struct cqset *q, uint32_t *out, uint32_t *count, size_t max)
{
    for (uint32_t i = 0; i < q->validators_count; i++)
        if (q->validators[i] != ABSENT && *count < max)
            out[(*count)++] = q->validators[i];
    for (uint32_t i = 0; i < q->inner_count; i++)
        collect_deps(&q->inner[i], out, count, max);
}

/* ---- quorums ----------------------------------------------------------------------- */

/* True when some slice of q lies inside the set. */
static bool sat(const struct cqset *q, const uint64_t *s)
{
    uint32_t needed = q->threshold;
    if (needed == 0)
        return false;
    for (uint32_t i = 0; i < q->validators_count; i++)
        if (bit(s, q->validators[i]) && --needed == 0)
            return true;
    for (uint32_t i = 0; i < q->inner_count; i++)
        if (sat(&q->inner[i], s) && --needed == 0)
            return true;
    return false;
}

/* Promises s shrunk to the largest quorum inside it (possibly empty). */
static void max_quorum(const struct checker *ck, uint64_t *s)
{
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t w = 0; w < ck->words; w++)
            for (uint64_t bits = s[w]; bits; bits &= bits - 1) {
                uint32_t i = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
                if (ck->qsets[i] == NULL || !sat(ck->qsets[i], s)) {
                    clear_bit(s, i);
                    changed = true;
                }
            }
    }
}

/* ---- strongly connected components (Tarjan, iterative) ------------------------------- */

struct tarjan {
    uint32_t *index, *low, *stack, *component;
    bool *on_stack;
    uint32_t *call_node, *call_edge;
    uint32_t next_index, stack_size, components;
};

/* Tarjan's algorithm from root, with an explicit stack (no recursion). */
static void tarjan_visit(const struct checker *ck, struct tarjan *t, uint32_t root)
{
    uint32_t depth = 0;
    t->call_node[0] = root;
    t->call_edge[0] = 0;
    t->index[root] = t->low[root] = t->next_index++;
    t->stack[t->stack_size++] = root;
    t->on_stack[root] = true;
    for (;;) {
        uint32_t v = t->call_node[depth];
        if (t->call_edge[depth] < ck->deps_count[v]) {
            uint32_t w = ck->deps[v][t->call_edge[depth]++];
            if (t->index[w] == ABSENT) {
                t->index[w] = t->low[w] = t->next_index++;
                t->stack[t->stack_size++] = w;
                t->on_stack[w] = true;
                depth++;
                t->call_node[depth] = w;
                t->call_edge[depth] = 0;
            } else if (t->on_stack[w] && t->index[w] < t->low[v]) {
                t->low[v] = t->index[w];
            }
            continue;
        }
        if (t->low[v] == t->index[v]) {
            uint32_t w;
            do {
                w = t->stack[--t->stack_size];
                t->on_stack[w] = false;
                t->component[w] = t->components;
            } while (w != v);
            t->components++;
        }
        if (depth == 0)
            return;
        depth--;
        uint32_t parent = t->call_node[depth];
        if (t->low[v] < t->low[parent])
            t->low[parent] = t->low[v];
    }
}

/* Promises component[i] for every node; returns the number of components. */
static uint32_t components(const struct checker *ck, uint32_t *component)
{
    struct tarjan t = {0};
    size_t n = ck->n;
    t.index = malloc(n * sizeof *t.index);
    t.low = malloc(n * sizeof *t.low);
    t.stack = malloc(n * sizeof *t.stack);
    t.call_node = malloc(n * sizeof *t.call_node);
    t.call_edge = malloc(n * sizeof *t.call_edge);
    t.on_stack = calloc(n, sizeof *t.on_stack);
    t.component = component;
    uint32_t result = ABSENT;
    if (t.index && t.low && t.stack && t.call_node && t.call_edge && t.on_stack) {
        for (size_t i = 0; i < n; i++)
            t.index[i] = ABSENT;
        for (uint32_t i = 0; i < n; i++)
            if (t.index[i] == ABSENT)
                tarjan_visit(ck, &t, i);
        result = t.components;
    }
    free(t.index);
    free(t.low);
    free(t.stack);
    free(t.call_node);
    free(t.call_edge);
    free(t.on_stack);
    return result;
}

/* ---- the search ------------------------------------------------------------------------ */

/* Picks the next node to branch on: a dependency of a committed node that
 * is still possible, else the first possible node. */
static uint32_t pick(const struct checker *ck, const uint64_t *committed,
                     const uint64_t *possible)
{
    for (size_t w = 0; w < ck->words; w++)
        for (uint64_t bits = committed[w]; bits; bits &= bits - 1) {
            uint32_t i = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
            for (uint32_t d = 0; d < ck->deps_count[i]; d++)
                if (bit(possible, ck->deps[i][d]))
                    return ck->deps[i][d];
        }
    for (size_t w = 0; w < ck->words; w++)
        if (possible[w])
            return (uint32_t)(w * 64 + (size_t)__builtin_ctzll(possible[w]));
    return ABSENT;
}

/* Explores the subsets Q with committed ⊆ Q ⊆ committed ∪ remaining.
 * work holds 3 * words scratch words per remaining recursion level. */
static int search(struct checker *ck, const uint64_t *committed,
                  const uint64_t *remaining, uint64_t *work)
{
    if (ck->found)
        return 0;
    if (++ck->steps > ck->steps_max)
        return SCP_E_CHECK_BUDGET;
    size_t words = ck->words;
    uint64_t *possible = work, *complement = work + words, *next = work + 2 * words;
    if (popcount(ck, committed) > ck->scc_size / 2)
        return 0;
    for (size_t w = 0; w < words; w++)
        possible[w] = committed[w] | remaining[w];
    max_quorum(ck, possible);
    if (!is_subset(ck, committed, possible))
        return 0;
    for (size_t w = 0; w < words; w++)
        complement[w] = ck->scc[w] & ~committed[w];
    max_quorum(ck, complement);
    if (is_empty(ck, complement))
        return 0;
    memcpy(next, committed, words * sizeof *next);
    max_quorum(ck, next);
    if (!is_empty(ck, committed) && memcmp(next, committed, words * sizeof *next) == 0) {
        ck->found = true;
        memcpy(ck->split, committed, words * sizeof *next);
        return 0;
    }
    for (size_t w = 0; w < words; w++)
        possible[w] &= remaining[w];
    uint32_t v = pick(ck, committed, possible);
    if (v == ABSENT)
        return 0;
    /* possible becomes the remaining set of both children. */
    clear_bit(possible, v);
    memcpy(next, committed, words * sizeof *next);
    set_bit(next, v);
    int rc = search(ck, next, possible, work + 3 * words);
    if (rc == 0 && !ck->found) {
        memcpy(next, possible, words * sizeof *next);
        rc = search(ck, committed, next, work + 3 * words);
    }
    return rc;
}

/* ---- API ---------------------------------------------------------------------------------- */

/* Frees everything checker_init allocated. */
static void checker_free(struct checker *ck)
{
    for (size_t i = 0; ck->qsets && i < ck->n; i++) {
        free_cq(ck->qsets[i]);
        free(ck->qsets[i]);
    }
    for (size_t i = 0; ck->deps && i < ck->n; i++)
        free(ck->deps[i]);
    free(ck->qsets);
    free(ck->deps);
    free(ck->deps_count);
    free(ck->split);
}

/* Compiles every node's quorum set (checked sane) and its edges. */
static int checker_init(struct checker *ck, const struct scp_network_node *nodes, size_t n)
{
    ck->n = n;
    ck->words = (n + 63) / 64;
    ck->qsets = calloc(n, sizeof *ck->qsets);
    ck->deps = calloc(n, sizeof *ck->deps);
    ck->deps_count = calloc(n, sizeof *ck->deps_count);
    ck->split = calloc(ck->words, sizeof *ck->split);
    struct id_index *ids = malloc(n * sizeof *ids);
    int rc = (ck->qsets && ck->deps && ck->deps_count && ck->split && ids) ? 0 : SCP_E_NO_MEMORY;
    for (size_t i = 0; rc == 0 && i < n; i++)
        ids[i] = (struct id_index){nodes[i].id, (uint32_t)i};
    if (rc == 0)
        qsort(ids, n, sizeof *ids, id_index_cmp);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (nodes[i].qset == NULL)
            continue;
        rc = scp_qset_check(nodes[i].qset);
        ck->qsets[i] = rc ? NULL : calloc(1, sizeof(struct cqset));
        if (rc == 0 && ck->qsets[i] == NULL)
            rc = SCP_E_NO_MEMORY;
        if (rc == 0)
            rc = compile(ck->qsets[i], nodes[i].qset, ids, n, 1);
        ck->deps[i] = rc ? NULL : malloc(SCP_QSET_NODES_MAX * sizeof(uint32_t));
        if (rc == 0 && ck->deps[i] == NULL)
            rc = SCP_E_NO_MEMORY;
        if (rc == 0)
            collect_deps(ck->qsets[i], ck->deps[i], &ck->deps_count[i], SCP_QSET_NODES_MAX);
    }
    free(ids);
    return rc;
}

/* Converts a set into a sorted index array owned by the caller. */
static int to_indices(const struct checker *ck, const uint64_t *s, uint32_t **out, size_t *count)
{
    *count = popcount(ck, s);
    *out = malloc((*count + 1) * sizeof **out);
    if (*out == NULL)
        return SCP_E_NO_MEMORY;
    size_t k = 0;
    for (uint32_t i = 0; i < ck->n; i++)
        if (bit(s, i))
            (*out)[k++] = i;
    return 0;
}

/* Step 1: quorums per component.  Sets *main_component to the only one
 * holding a quorum, or reports a split of two. */
static int by_component(struct checker *ck, const uint32_t *component, uint32_t count,
                        uint64_t *set, uint32_t *main_component,
                        struct scp_intersection *out)
{
    uint64_t *first = calloc(ck->words, sizeof *first);
    if (first == NULL)
        return SCP_E_NO_MEMORY;
    int rc = 0;
    *main_component = ABSENT;
    for (uint32_t c = 0; c < count && rc == 0; c++) {
        memset(set, 0, ck->words * sizeof *set);
        for (uint32_t i = 0; i < ck->n; i++)
            if (component[i] == c)
                set_bit(set, i);
        max_quorum(ck, set);
        if (is_empty(ck, set))
            continue;
        out->has_quorum = true;
        if (*main_component == ABSENT) {
            *main_component = c;
            memcpy(first, set, ck->words * sizeof *set);
            continue;
        }
        out->intersects = false;
        rc = to_indices(ck, first, &out->quorum_a, &out->quorum_a_count);
        if (rc == 0)
            rc = to_indices(ck, set, &out->quorum_b, &out->quorum_b_count);
        break;
    }
    free(first);
    return rc;
}

/* Step 2: search inside the one component holding quorums. */
static int within_component(struct checker *ck, const uint32_t *component,
                            uint32_t main_component, struct scp_intersection *out)
{
    size_t words = ck->words;
    uint64_t *scc = calloc(words, sizeof *scc);
    uint64_t *start = calloc(2 * words, sizeof *start);
    uint64_t *work = calloc(3 * words * (ck->n + 3), sizeof *work);
    int rc = (scc && start && work) ? 0 : SCP_E_NO_MEMORY;
    if (rc == 0) {
        for (uint32_t i = 0; i < ck->n; i++)
            if (component[i] == main_component)
                set_bit(scc, i);
        ck->scc = scc;
        ck->scc_size = popcount(ck, scc);
        memcpy(start + words, scc, words * sizeof *scc);
        rc = search(ck, start, start + words, work);
    }
    if (rc == 0 && ck->found) {
        out->intersects = false;
        for (size_t w = 0; w < words; w++)
            scc[w] &= ~ck->split[w];
        max_quorum(ck, scc);
        rc = to_indices(ck, ck->split, &out->quorum_a, &out->quorum_a_count);
        if (rc == 0)
            rc = to_indices(ck, scc, &out->quorum_b, &out->quorum_b_count);
    }
    free(scc);
    free(start);
    free(work);
    return rc;
}

/* Promises the verdict (and a split when there is one) within steps_max
 * search steps, or an error with *out holding no arrays. */
int scp_check_intersection(const struct scp_network_node *nodes, size_t count,
                           uint64_t steps_max, struct scp_intersection *out)
{
    memset(out, 0, sizeof *out);
    out->intersects = true;
    if ((nodes == NULL && count) || count >= ABSENT)
        return SCP_E_INVALID_ARGUMENT;
    if (count == 0)
        return 0;
    struct checker ck = {0};
    ck.steps_max = steps_max ? steps_max : SCP_CHECK_STEPS_MAX_DEFAULT;
    int rc = checker_init(&ck, nodes, count);
    uint32_t *component = malloc(count * sizeof *component);
    uint64_t *set = calloc(ck.words + 1, sizeof *set);
    if (rc == 0 && (component == NULL || set == NULL))
        rc = SCP_E_NO_MEMORY;
    uint32_t n_components = rc == 0 ? components(&ck, component) : 0;
    if (rc == 0 && n_components == ABSENT)
        rc = SCP_E_NO_MEMORY;
    uint32_t main_component = ABSENT;
    if (rc == 0)
        rc = by_component(&ck, component, n_components, set, &main_component, out);
    if (rc == 0 && out->intersects && main_component != ABSENT)
        rc = within_component(&ck, component, main_component, out);
    out->steps = ck.steps;
    free(component);
    free(set);
    checker_free(&ck);
    if (rc) {
        scp_intersection_free(out);
        out->intersects = false;
    }
    return rc;
}

/* Promises the arrays freed and zeroed. */
void scp_intersection_free(struct scp_intersection *result)
{
    if (result == NULL)
        return;
    free(result->quorum_a);
    free(result->quorum_b);
    result->quorum_a = result->quorum_b = NULL;
    result->quorum_a_count = result->quorum_b_count = 0;
}

/* Promises: true when the members form a nonempty quorum of the network. */
bool scp_is_quorum(const struct scp_network_node *nodes, size_t count,
                   const uint32_t *members, size_t members_count)
{
    struct checker ck = {0};
    if (members_count == 0 || checker_init(&ck, nodes, count) != 0) {
        checker_free(&ck);
        return false;
    }
    uint64_t *set = calloc(ck.words + 1, sizeof *set);
    bool result = set != NULL;
    for (size_t i = 0; result && i < members_count; i++) {
        if (members[i] >= count)
            result = false;
        else
            set_bit(set, members[i]);
    }
    if (result) {
        size_t before = popcount(&ck, set);
        max_quorum(&ck, set);
        result = popcount(&ck, set) == before;
    }
    free(set);
    checker_free(&ck);
    return result;
}
