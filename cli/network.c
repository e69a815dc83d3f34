/*
 * network.c — which network the wallet talks to, and what it knows about it
 * without asking the node to be honest: the genesis file (when configured)
 * fixes the network id, the first validator set and the first parameters;
 * governance changes since are read from /v1/proposals (enacted proposals
 * only) and applied in order of effect.
 *
 * Read next: cli/verify.c (what the validator set is used for).
 */
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

#define NETWORK_CHANGES_MAX 256 /* enacted changes considered (one list answer) */

static int load_genesis(struct wallet_ctx *ctx)
{
    if (ctx->genesis != NULL || ctx->genesis_path == NULL)
        return 0;
    struct node_genesis *g = calloc(1, sizeof *g);
    char err[256] = "";
    if (g == NULL)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    int rc = node_genesis_load(ctx->genesis_path, g, err, sizeof err);
    if (rc != 0) {
        free(g);
        return wallet_fail(ctx, WALLET_E_IO, "cannot use the genesis file %s: %s", ctx->genesis_path,
                           err[0] ? err : node_strerror(rc));
    }
    ctx->genesis = g;
    return 0;
}

int wallet_network(struct wallet_ctx *ctx)
{
    if (ctx->network_known)
        return 0;
    int rc = load_genesis(ctx);
    json_t *status = NULL;
    if (rc == 0)
        rc = wallet_get_ok(ctx, "/v1/status", &status);
    if (rc != 0)
        return rc;
    const char *hex = wallet_json_str(status, "network_id");
    uint8_t id[NODE_HASH_BYTES];
    if (hex == NULL || strlen(hex) != 2 * NODE_HASH_BYTES || node_hex_decode(hex, id, NODE_HASH_BYTES) != 0) {
        json_decref(status);
        return wallet_fail(ctx, WALLET_E_BAD_RESPONSE, "the node at %s did not say its network id", ctx->node_url);
    }
    if (ctx->genesis != NULL && memcmp(id, ctx->genesis->network_id, NODE_HASH_BYTES) != 0) {
        char mine[2 * NODE_HASH_BYTES + 1];
        node_hex_encode(ctx->genesis->network_id, NODE_HASH_BYTES, mine);
        rc = wallet_fail(ctx, WALLET_E_WRONG_NETWORK,
                         "wrong network: the node at %s is on network %.16s…, but the genesis %s is network "
                         "%.16s…; use a node of your network (--node) or the right genesis (--genesis)",
                         ctx->node_url, hex, ctx->genesis_path, mine);
        json_decref(status);
        return rc;
    }
    json_decref(status);
    memcpy(ctx->network_id, id, NODE_HASH_BYTES);
    ctx->network_known = true;
    return 0;
}

/* An enacted proposal, for ordering by effect. */
struct change {
    uint64_t effective_height, id;
    const json_t *proposal;
};

static int change_order(const void *a, const void *b)
{
    const struct change *x = a, *y = b;
    if (x->effective_height != y->effective_height)
        return x->effective_height < y->effective_height ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Enacted proposals of one kind, in order of effect; *list borrows from *root.
 * strict: a truncated list is an error (for verification). */
static int enacted(struct wallet_ctx *ctx, const char *kind_prefix, bool strict, json_t **root,
                   struct change *list, size_t *count)
{
    int rc = wallet_get_ok(ctx, "/v1/proposals", root);
    if (rc != 0)
        return rc;
    json_t *items = json_object_get(*root, "proposals");
    /* A cut list could hide a validator change; verification must not guess. */
    if (strict && json_is_true(json_object_get(*root, "truncated")))
        return wallet_fail(ctx, WALLET_E_VERIFY,
                           "the node lists only part of the proposals, so the validator changes since the genesis "
                           "cannot all be known; verification is not possible through the node at %s",
                           ctx->node_url);
    size_t i;
    json_t *p;
    *count = 0;
    json_array_foreach(items, i, p) {
        const char *kind = wallet_json_str(p, "kind"), *status = wallet_json_str(p, "status");
        if (kind == NULL || status == NULL || strncmp(kind, kind_prefix, strlen(kind_prefix)) != 0 ||
            strcmp(status, "enacted") != 0 || *count >= NETWORK_CHANGES_MAX)
            continue;
        list[(*count)++] = (struct change){wallet_json_u64(p, "effective_height", 0), wallet_json_u64(p, "id", 0), p};
    }
    qsort(list, *count, sizeof *list, change_order);
    return 0;
}

/* The parameter's value after ledger height_max (UINT64_MAX: now). */
static int param_at(struct wallet_ctx *ctx, unsigned param_id, uint64_t height_max, uint64_t *value)
{
    struct node_params params;
    node_params_default(&params);
    int rc = load_genesis(ctx);
    if (rc != 0)
        return rc;
    if (ctx->genesis != NULL)
        params = ctx->genesis->params;
    *value = params.values[param_id];
    json_t *root = NULL;
    struct change *list = calloc(NETWORK_CHANGES_MAX, sizeof *list);
    size_t count = 0;
    if (list == NULL)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    rc = enacted(ctx, "param.set", height_max != UINT64_MAX, &root, list, &count);
    for (size_t i = 0; rc == 0 && i < count && list[i].effective_height <= height_max; i++) {
        json_t *body = json_object_get(list[i].proposal, "body");
        const char *name = wallet_json_str(body, "param");
        if (name != NULL && node_param_id(name) == (int)param_id)
            *value = wallet_json_u64(body, "value", *value);
    }
    free(list);
    json_decref(root);
    return rc;
}

int wallet_param(struct wallet_ctx *ctx, unsigned param_id, uint64_t *value)
{
    return param_at(ctx, param_id, UINT64_MAX, value);
}

/* Applies one validator.add or validator.remove body to set. */
static int apply_validator_change(struct node_validator_set *set, const json_t *p)
{
    json_t *body = json_object_get(p, "body");
    uint8_t key[NODE_KEY_BYTES];
    const char *node_key = wallet_json_str(body, "node_key");
    if (node_key == NULL || node_address_decode(node_key, key) != 0)
        return WALLET_E_BAD_RESPONSE;
    uint32_t at = 0;
    while (at < set->count && memcmp(set->validators[at].node_key, key, NODE_KEY_BYTES) != 0)
        at++;
    if (strcmp(wallet_json_str(p, "kind"), "validator.remove") == 0) {
        if (at < set->count) {
            memmove(&set->validators[at], &set->validators[at + 1],
                    (set->count - at - 1) * sizeof set->validators[0]);
            set->count--;
        }
        return 0;
    }
    const char *org = wallet_json_str(body, "org"), *hint = wallet_json_str(body, "address");
    if (at < set->count || set->count >= NODE_VALIDATORS_MAX)
        return 0;
    struct node_validator v;
    memset(&v, 0, sizeof v);
    memcpy(v.node_key, key, NODE_KEY_BYTES);
    if (org == NULL || node_address_decode(org, v.org) != 0 || hint == NULL ||
        strlen(hint) > NODE_ADDRESS_HINT_BYTES_MAX)
        return WALLET_E_BAD_RESPONSE;
    snprintf(v.address, sizeof v.address, "%s", hint);
    /* Keep the set sorted by node key, as the ledger keeps it (spec/encoding.md §5.7). */
    at = 0;
    while (at < set->count && memcmp(set->validators[at].node_key, key, NODE_KEY_BYTES) < 0)
        at++;
    memmove(&set->validators[at + 1], &set->validators[at], (set->count - at) * sizeof set->validators[0]);
    set->validators[at] = v;
    set->count++;
    return 0;
}

/* The validator set after ledger height_max, from the genesis and list. */
static int set_at(struct wallet_ctx *ctx, const struct change *list, size_t count, uint64_t height_max,
                  struct node_validator_set *out)
{
    out->count = ctx->genesis->validators.count;
    out->validators = calloc(NODE_VALIDATORS_MAX + 1, sizeof *out->validators);
    if (out->validators == NULL)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    memcpy(out->validators, ctx->genesis->validators.validators, out->count * sizeof *out->validators);
    for (size_t i = 0; i < count && list[i].effective_height <= height_max; i++)
        if (apply_validator_change(out, list[i].proposal) != 0)
            return wallet_fail(ctx, WALLET_E_BAD_RESPONSE, "proposal %llu has a malformed validator change",
                               (unsigned long long)list[i].id);
    return 0;
}

int wallet_validators_for(struct wallet_ctx *ctx, uint64_t height, struct wallet_validators *v)
{
    memset(v, 0, sizeof *v);
    int rc = load_genesis(ctx);
    if (rc != 0)
        return rc;
    if (ctx->genesis == NULL)
        return wallet_fail(ctx, WALLET_E_USAGE,
                           "verification needs the network's genesis file: give --genesis FILE or set NANUM_GENESIS");
    struct change *list = calloc(NETWORK_CHANGES_MAX, sizeof *list);
    json_t *root = NULL;
    size_t count = 0;
    if (list == NULL)
        return wallet_fail(ctx, WALLET_E_NOMEM, "out of memory");
    rc = enacted(ctx, "validator.", true, &root, list, &count);
    rc = rc ? rc : set_at(ctx, list, count, height - 1, &v->before);
    rc = rc ? rc : set_at(ctx, list, count, height, &v->after);
    rc = rc ? rc : param_at(ctx, NODE_PARAM_quorum_threshold_bp, height - 1, &v->threshold_bp_before);
    rc = rc ? rc : param_at(ctx, NODE_PARAM_quorum_threshold_bp, height, &v->threshold_bp_after);
    free(list);
    json_decref(root);
    if (rc != 0)
        wallet_validators_free(v);
    return rc;
}

void wallet_validators_free(struct wallet_validators *v)
{
    if (v == NULL)
        return;
    node_validator_set_free(&v->before);
    node_validator_set_free(&v->after);
}
