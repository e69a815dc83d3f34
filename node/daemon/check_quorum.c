/*
 * check_quorum.c — the `check-quorum` subcommand of nanumd (check_quorum.h).
 *
 * Input, either of:
 *   stellar-core:  {"nodes": [{"node": ID, "qset": {"t": N, "v": [ID | qset, ...]}}, ...]}
 *   stellarbeat:   [{"publicKey": ID, "quorumSet": {"threshold": N,
 *                    "validators": [ID, ...], "innerQuorumSets": [qset, ...]}}, ...]
 * Node ids are opaque strings.  A node whose quorum set is missing, null or
 * empty (threshold 0, no entries), and a node named in some quorum set but
 * not listed, has no quorum set: it is reported and can be in no quorum.
 * Each distinct id becomes a 32-byte library id holding its index.
 *
 * Exit: 0 every two quorums intersect; 1 they do not (two disjoint quorums
 * printed); 2 bad input, with a message naming the problem.
 */
#include "check_quorum.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus.h"

#define CHECK_QUORUM_NODES_MAX 100000u

struct network {
    size_t count, capacity;
    char **names;
    struct scp_qset **qsets;            /* NULL: no quorum set */
    bool *listed;
    char error[512];
};

/* Records the input problem for the error message; returns -1. */
static int bad(struct network *net, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static int bad(struct network *net, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    vsnprintf(net->error, sizeof net->error, format, ap);
    va_end(ap);
    return -1;
}

/* Returns the index of `name`, adding it (unlisted) when new; -1 if full. */
static long node_index(struct network *net, const char *name)
{
    for (size_t i = 0; i < net->count; i++)
        if (strcmp(net->names[i], name) == 0)
            return (long)i;
    if (net->count >= CHECK_QUORUM_NODES_MAX)
        return -1;
    if (net->count == net->capacity) {
        size_t capacity = net->capacity ? net->capacity * 2 : 64;
        char **names = realloc(net->names, capacity * sizeof *names);
        if (names)
            net->names = names;
        struct scp_qset **qsets = realloc(net->qsets, capacity * sizeof *qsets);
        if (qsets)
            net->qsets = qsets;
        bool *listed = realloc(net->listed, capacity * sizeof *listed);
        if (listed)
            net->listed = listed;
        if (!names || !qsets || !listed)
            return -1;
        net->capacity = capacity;
    }
    net->names[net->count] = strdup(name);
    if (net->names[net->count] == NULL)
        return -1;
    net->qsets[net->count] = NULL;
    net->listed[net->count] = false;
    return (long)net->count++;
}

/* The 32-byte library id of node number `index`. */
static void id_of(size_t index, uint8_t id[SCP_NODE_ID_BYTES])
{
    memset(id, 0, SCP_NODE_ID_BYTES);
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)(index >> (8 * (7 - i)));
}

/* Frees what parse_qset allocated below q (not q itself). */
static void qset_free(struct scp_qset *q)
{
    if (q == NULL)
        return;
    for (uint32_t i = 0; q->inner && i < q->inner_count; i++)
        qset_free((struct scp_qset *)&q->inner[i]);
    free((void *)q->validators);
    free((void *)q->inner);
}

/* The two formats differ only in names and in how inner sets are listed. */
struct format {
    const char *threshold, *validators, *inner; /* inner NULL: nested in validators */
};

/* Parses one quorum set (either format) into out, checking its shape. */
static int parse_qset(struct network *net, const struct format *f, const json_t *obj,
                      struct scp_qset *out, const char *owner, int depth)
{
    memset(out, 0, sizeof *out);
    if (depth > SCP_QSET_DEPTH_MAX)
        return bad(net, "node %s: quorum set nested deeper than %d levels", owner, SCP_QSET_DEPTH_MAX);
    const json_t *t = json_object_get(obj, f->threshold);
    const json_t *v = json_object_get(obj, f->validators);
    const json_t *in = f->inner ? json_object_get(obj, f->inner) : NULL;
    if (!json_is_object(obj) || !json_is_integer(t) || json_integer_value(t) < 0 ||
        json_integer_value(t) > UINT32_MAX || (v && !json_is_array(v)) || (in && !json_is_array(in)))
        return bad(net, "node %s: quorum set needs \"%s\" (integer) and \"%s\" (array)", owner,
                   f->threshold, f->validators);
    size_t nv = json_array_size(v), ni = json_array_size(in);
    if (nv + ni > SCP_QSET_ENTRIES_MAX)
        return bad(net, "node %s: quorum set has more than %d entries", owner, SCP_QSET_ENTRIES_MAX);
    out->threshold = (uint32_t)json_integer_value(t);
    uint8_t (*ids)[SCP_NODE_ID_BYTES] = calloc(nv + 1, SCP_NODE_ID_BYTES);
    struct scp_qset *inner = calloc(nv + ni + 1, sizeof *inner);
    out->validators = (const uint8_t(*)[SCP_NODE_ID_BYTES])ids;
    out->inner = inner;
    if (!ids || !inner)
        return bad(net, "out of memory");
    for (size_t i = 0; i < nv; i++) {
        const json_t *e = json_array_get(v, i);
        if (json_is_string(e)) {
            long index = node_index(net, json_string_value(e));
            if (index < 0)
                return bad(net, "too many nodes (limit %u)", CHECK_QUORUM_NODES_MAX);
            id_of((size_t)index, ids[out->validators_count++]);
        } else if (f->inner == NULL && json_is_object(e)) {
            if (parse_qset(net, f, e, &inner[out->inner_count++], owner, depth + 1))
                return -1;
        } else {
            return bad(net, "node %s: quorum set entry %zu is not a node id%s", owner, i,
                       f->inner ? "" : " or a quorum set");
        }
    }
    for (size_t i = 0; i < ni; i++)
        if (parse_qset(net, f, json_array_get(in, i), &inner[out->inner_count++], owner, depth + 1))
            return -1;
    return 0;
}

/* One node entry: id and quorum set (absent, null or empty: none). */
static int parse_node(struct network *net, const struct format *f, const json_t *entry,
                      const char *id_key, const char *qset_key)
{
    const json_t *id = json_object_get(entry, id_key);
    if (!json_is_object(entry) || !json_is_string(id))
        return bad(net, "every node needs a string \"%s\"", id_key);
    long index = node_index(net, json_string_value(id));
    if (index < 0)
        return bad(net, "too many nodes (limit %u)", CHECK_QUORUM_NODES_MAX);
    if (net->listed[index])
        return bad(net, "node %s is listed twice", json_string_value(id));
    net->listed[index] = true;
    const json_t *q = json_object_get(entry, qset_key);
    if (q == NULL || json_is_null(q))
        return 0;
    struct scp_qset *qset = calloc(1, sizeof *qset);
    if (qset == NULL)
        return bad(net, "out of memory");
    const char *owner = net->names[index];
    int rc = parse_qset(net, f, q, qset, owner, 1);
    if (rc == 0 && qset->threshold == 0 && qset->validators_count + qset->inner_count == 0) {
        qset_free(qset);
        free(qset);
        return 0;
    }
    net->qsets[index] = qset;
    if (rc)
        return rc;
    rc = scp_qset_check(qset);
    if (rc)
        return bad(net, "node %s: %s", net->names[index], scp_strerror(rc));
    return 0;
}

/* Parses the whole file in whichever format it is. */
static int parse_network(struct network *net, const json_t *root)
{
    static const struct format core = {"t", "v", NULL};
    static const struct format beat = {"threshold", "validators", "innerQuorumSets"};
    const json_t *nodes = json_is_object(root) ? json_object_get(root, "nodes") : root;
    if (!json_is_array(nodes))
        return bad(net, "expected {\"nodes\": [...]} (stellar-core) or a list of nodes (stellarbeat)");
    bool is_core = json_is_object(root);
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        const json_t *entry = json_array_get(nodes, i);
        int rc = is_core ? parse_node(net, &core, entry, "node", "qset")
                         : parse_node(net, &beat, entry, "publicKey", "quorumSet");
        if (rc)
            return rc;
    }
    if (net->count == 0)
        return bad(net, "the network lists no nodes");
    return 0;
}

/* Frees names and quorum sets. */
static void network_free(struct network *net)
{
    for (size_t i = 0; i < net->count; i++) {
        free(net->names[i]);
        qset_free(net->qsets[i]);
        free(net->qsets[i]);
    }
    free(net->names);
    free(net->qsets);
    free(net->listed);
}

/* Prints the names of a quorum's members, comma-separated. */
static void print_names(const struct network *net, const uint32_t *members, size_t count)
{
    for (size_t i = 0; i < count; i++)
        printf("%s%s", i ? ", " : "", net->names[members[i]]);
    putchar('\n');
}

/* Reports nodes without a quorum set, listed or only referenced. */
static void report_missing(const struct network *net)
{
    for (int unlisted = 0; unlisted < 2; unlisted++) {
        size_t shown = 0;
        for (size_t i = 0; i < net->count; i++) {
            if (net->qsets[i] != NULL || net->listed[i] == (bool)unlisted)
                continue;
            if (shown++ == 0)
                printf("%s", unlisted ? "referenced but not listed (no quorum set): "
                                      : "listed without a quorum set: ");
            else
                printf(", ");
            printf("%s", net->names[i]);
        }
        if (shown)
            putchar('\n');
    }
}

/* Runs the checker and prints the verdict; returns the exit code. */
static int decide(struct network *net, const char *path)
{
    struct scp_network_node *nodes = calloc(net->count, sizeof *nodes);
    if (nodes == NULL) {
        fprintf(stderr, "check-quorum: out of memory\n");
        return NANUMD_CHECK_QUORUM_BAD_INPUT;
    }
    for (size_t i = 0; i < net->count; i++) {
        id_of(i, nodes[i].id);
        nodes[i].qset = net->qsets[i];
    }
    struct scp_intersection r;
    int rc = scp_check_intersection(nodes, net->count, 0, &r);
    free(nodes);
    if (rc) {
        fprintf(stderr, "check-quorum: %s: %s\n", path, scp_strerror(rc));
        return NANUMD_CHECK_QUORUM_BAD_INPUT;
    }
    printf("nodes: %zu\n", net->count);
    report_missing(net);
    int exit_code = NANUMD_CHECK_QUORUM_INTERSECTS;
    if (!r.has_quorum) {
        printf("verdict: the network has no quorum at all (trivially intersecting)\n");
    } else if (r.intersects) {
        printf("verdict: every two quorums intersect\n");
    } else {
        printf("verdict: NO quorum intersection; two disjoint quorums:\n  quorum 1: ");
        print_names(net, r.quorum_a, r.quorum_a_count);
        printf("  quorum 2: ");
        print_names(net, r.quorum_b, r.quorum_b_count);
        exit_code = NANUMD_CHECK_QUORUM_SPLIT;
    }
    scp_intersection_free(&r);
    return exit_code;
}

/* Promises an exit code of check_quorum.h and one message on every error. */
int nanumd_check_quorum(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: nanumd check-quorum FILE   (stellar-core or stellarbeat JSON)\n");
        return NANUMD_CHECK_QUORUM_BAD_INPUT;
    }
    const char *path = argv[1];
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);
    if (root == NULL) {
        fprintf(stderr, "check-quorum: %s:%d:%d: %s\n", path, error.line, error.column, error.text);
        return NANUMD_CHECK_QUORUM_BAD_INPUT;
    }
    struct network net = {0};
    int exit_code;
    if (parse_network(&net, root) != 0) {
        fprintf(stderr, "check-quorum: %s: %s\n", path, net.error);
        exit_code = NANUMD_CHECK_QUORUM_BAD_INPUT;
    } else {
        exit_code = decide(&net, path);
    }
    network_free(&net);
    json_decref(root);
    return exit_code;
}
