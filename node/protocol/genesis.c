/*
 * genesis.c — reads the genesis JSON document (spec/genesis.md), validates it
 * field by field, and computes the network id: BLAKE2b-256 of its canonical
 * msgpack encoding (not of the JSON text, so formatting does not matter).
 *
 * Errors name the field: "accounts[2].balance: not an amount like 12.50".
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol_internal.h"

#define GENESIS_VERSION 1

/* Every genesis error is NODE_E_GENESIS with a sentence naming the field. */
#define fail(err, err_len, ...) node_fail(NODE_E_GENESIS, (err), (err_len), __VA_ARGS__)

/* Checks that obj has no keys beyond allowed (a typo is an error, not a
 * silently ignored field). */
static int check_keys(json_t *obj, const char *const *allowed, const char *where, char *err,
                      size_t err_len)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool known = false;
        for (size_t i = 0; allowed[i] != NULL; i++)
            known = known || strcmp(key, allowed[i]) == 0;
        if (!known)
            return fail(err, err_len, "%s%s: unknown field", where, key);
    }
    return 0;
}

static int get_text(json_t *obj, const char *key, size_t max, bool required, char *out,
                    const char *where, char *err, size_t err_len)
{
    json_t *v = json_object_get(obj, key);
    out[0] = '\0';
    if (v == NULL)
        return required ? fail(err, err_len, "%s%s: missing", where, key) : 0;
    if (!json_is_string(v))
        return fail(err, err_len, "%s%s: must be a string", where, key);
    size_t len = json_string_length(v);
    if (len > max)
        return fail(err, err_len, "%s%s: longer than %zu bytes", where, key, max);
    if (!node__utf8_valid(json_string_value(v), len))
        return fail(err, err_len, "%s%s: not valid UTF-8 text", where, key);
    memcpy(out, json_string_value(v), len + 1);
    return 0;
}

static int get_key(json_t *obj, const char *key, uint8_t out[NODE_KEY_BYTES], const char *where,
                   char *err, size_t err_len)
{
    char text[NODE_ADDRESS_TEXT_BYTES + 2];
    int rc = get_text(obj, key, NODE_ADDRESS_TEXT_BYTES + 1, true, text, where, err, err_len);
    if (rc != 0)
        return rc;
    rc = node_address_decode(text, out);
    if (rc != 0)
        return fail(err, err_len, "%s%s: %s", where, key, node_strerror(rc));
    return 0;
}

static int get_amount(json_t *obj, const char *key, uint64_t *out, const char *where, char *err,
                      size_t err_len)
{
    json_t *v = json_object_get(obj, key);
    *out = 0;
    if (v == NULL)
        return 0;
    if (!json_is_string(v))
        return fail(err, err_len, "%s%s: must be a string like \"12.50\"", where, key);
    int rc = node_amount_parse(json_string_value(v), out);
    if (rc != 0)
        return fail(err, err_len, "%s%s: %s", where, key, node_strerror(rc));
    return 0;
}

static int parse_params(json_t *root, struct node_params *params, char *err, size_t err_len)
{
    node_params_default(params);
    json_t *obj = json_object_get(root, "params");
    if (obj == NULL)
        return 0;
    if (!json_is_object(obj))
        return fail(err, err_len, "params: must be an object");
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        int id = node_param_id(key);
        if (id < 0)
            return fail(err, err_len, "params.%s: unknown parameter", key);
        if (!json_is_integer(value) || json_integer_value(value) < 0)
            return fail(err, err_len, "params.%s: must be a non-negative integer", key);
        uint64_t v = (uint64_t)json_integer_value(value);
        if (!node_param_valid((unsigned)id, v))
            return fail(err, err_len, "params.%s: %llu is out of the allowed range", key,
                        (unsigned long long)v);
        params->values[id] = v;
    }
    return 0;
}

static int compare_accounts(const void *a, const void *b)
{
    return memcmp(((const struct node_genesis_account *)a)->key,
                  ((const struct node_genesis_account *)b)->key, NODE_KEY_BYTES);
}

static int compare_validators(const void *a, const void *b)
{
    return memcmp(((const struct node_validator *)a)->node_key,
                  ((const struct node_validator *)b)->node_key, NODE_KEY_BYTES);
}

static int parse_account(json_t *item, size_t i, struct node_genesis_account *a, char *err,
                         size_t err_len)
{
    static const char *const allowed[] = {"address", "balance", "roles", "name", NULL};
    char where[48];
    snprintf(where, sizeof where, "accounts[%zu].", i);
    if (!json_is_object(item))
        return fail(err, err_len, "accounts[%zu]: must be an object", i);
    int rc;
    if ((rc = check_keys(item, allowed, where, err, err_len)) != 0 ||
        (rc = get_key(item, "address", a->key, where, err, err_len)) != 0 ||
        (rc = get_amount(item, "balance", &a->balance, where, err, err_len)) != 0 ||
        (rc = get_text(item, "name", NODE_NAME_BYTES_MAX, false, a->name, where, err, err_len)) != 0)
        return rc;
    if (memcmp(a->key, node_commons_key, NODE_KEY_BYTES) == 0)
        return fail(err, err_len, "%saddress: the commons fund is not an account to list; use commons_balance", where);
    json_t *roles = json_object_get(item, "roles");
    a->flags = 0;
    if (roles != NULL && !json_is_array(roles))
        return fail(err, err_len, "%sroles: must be an array of \"member\" and \"org\"", where);
    size_t k;
    json_t *role;
    json_array_foreach(roles, k, role) {
        const char *name = json_is_string(role) ? json_string_value(role) : "";
        if (strcmp(name, "member") == 0)
            a->flags |= NODE_ACCOUNT_MEMBER;
        else if (strcmp(name, "org") == 0)
            a->flags |= NODE_ACCOUNT_ORG;
        else
            return fail(err, err_len, "%sroles[%zu]: must be \"member\" or \"org\"", where, k);
    }
    if ((a->flags & NODE_ACCOUNT_ORG) && a->name[0] == '\0')
        return fail(err, err_len, "%sname: an org needs a name", where);
    return 0;
}

static int parse_accounts(json_t *root, struct node_genesis *g, char *err, size_t err_len)
{
    json_t *list = json_object_get(root, "accounts");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return fail(err, err_len, "accounts: must be a non-empty array");
    if (json_array_size(list) > NODE_GENESIS_ACCOUNTS_MAX)
        return fail(err, err_len, "accounts: more than %d", NODE_GENESIS_ACCOUNTS_MAX);
    size_t n = json_array_size(list);
    g->accounts = calloc(n, sizeof *g->accounts);
    if (g->accounts == NULL)
        return NODE_E_NOMEM;
    g->account_count = (uint32_t)n;
    uint64_t total = g->commons_balance;
    for (size_t i = 0; i < n; i++) {
        int rc = parse_account(json_array_get(list, i), i, &g->accounts[i], err, err_len);
        if (rc != 0)
            return rc;
        if (!node_add_u64(total, g->accounts[i].balance, &total))
            return fail(err, err_len, "accounts[%zu].balance: the total supply overflows", i);
        if (g->accounts[i].balance > 0 && g->accounts[i].balance < g->params.values[NODE_PARAM_min_balance])
            return fail(err, err_len, "accounts[%zu].balance: below min_balance", i);
    }
    qsort(g->accounts, n, sizeof *g->accounts, compare_accounts);
    for (size_t i = 1; i < n; i++)
        if (memcmp(g->accounts[i - 1].key, g->accounts[i].key, NODE_KEY_BYTES) == 0) {
            char text[NODE_ADDRESS_TEXT_BYTES + 1];
            node_address_encode(g->accounts[i].key, text);
            return fail(err, err_len, "accounts: %s is listed twice", text);
        }
    bool any_member = false;
    for (size_t i = 0; i < n; i++)
        any_member = any_member || (g->accounts[i].flags & NODE_ACCOUNT_MEMBER);
    if (!any_member)
        return fail(err, err_len, "accounts: at least one account needs the \"member\" role (governance needs voters)");
    return 0;
}

static const struct node_genesis_account *find_account(const struct node_genesis *g,
                                                       const uint8_t key[NODE_KEY_BYTES])
{
    struct node_genesis_account probe;
    memcpy(probe.key, key, NODE_KEY_BYTES);
    return bsearch(&probe, g->accounts, g->account_count, sizeof probe, compare_accounts);
}

static int parse_validators(json_t *root, struct node_genesis *g, char *err, size_t err_len)
{
    static const char *const allowed[] = {"node_key", "org", "address", NULL};
    json_t *list = json_object_get(root, "validators");
    if (!json_is_array(list) || json_array_size(list) == 0)
        return fail(err, err_len, "validators: must be a non-empty array");
    size_t n = json_array_size(list);
    if (n > NODE_VALIDATORS_MAX)
        return fail(err, err_len, "validators: more than %d", NODE_VALIDATORS_MAX);
    g->validators.validators = calloc(n, sizeof *g->validators.validators);
    if (g->validators.validators == NULL)
        return NODE_E_NOMEM;
    g->validators.count = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        json_t *item = json_array_get(list, i);
        struct node_validator *v = &g->validators.validators[i];
        char where[48];
        snprintf(where, sizeof where, "validators[%zu].", i);
        if (!json_is_object(item))
            return fail(err, err_len, "validators[%zu]: must be an object", i);
        int rc;
        if ((rc = check_keys(item, allowed, where, err, err_len)) != 0 ||
            (rc = get_key(item, "node_key", v->node_key, where, err, err_len)) != 0 ||
            (rc = get_key(item, "org", v->org, where, err, err_len)) != 0 ||
            (rc = get_text(item, "address", NODE_ADDRESS_HINT_BYTES_MAX, false, v->address, where,
                           err, err_len)) != 0)
            return rc;
        const struct node_genesis_account *org = find_account(g, v->org);
        if (org == NULL || !(org->flags & NODE_ACCOUNT_ORG))
            return fail(err, err_len, "%sorg: not an account with the \"org\" role", where);
    }
    qsort(g->validators.validators, n, sizeof *g->validators.validators, compare_validators);
    for (size_t i = 1; i < n; i++)
        if (memcmp(g->validators.validators[i - 1].node_key, g->validators.validators[i].node_key,
                   NODE_KEY_BYTES) == 0)
            return fail(err, err_len, "validators: a node key is listed twice");
    return 0;
}

static int parse_root(json_t *root, struct node_genesis *g, char *err, size_t err_len)
{
    static const char *const allowed[] = {"version", "network", "close_time", "params",
                                          "accounts", "validators", "commons_balance", NULL};
    if (!json_is_object(root))
        return fail(err, err_len, "genesis: must be a JSON object");
    int rc = check_keys(root, allowed, "", err, err_len);
    if (rc != 0)
        return rc;
    json_t *version = json_object_get(root, "version");
    if (!json_is_integer(version) || json_integer_value(version) != GENESIS_VERSION)
        return fail(err, err_len, "version: must be %d", GENESIS_VERSION);
    if ((rc = get_text(root, "network", NODE_NETWORK_NAME_BYTES_MAX, true, g->network, "", err,
                       err_len)) != 0)
        return rc;
    if (g->network[0] == '\0')
        return fail(err, err_len, "network: must not be empty");
    json_t *close_time = json_object_get(root, "close_time");
    if (!json_is_integer(close_time) || json_integer_value(close_time) <= 0)
        return fail(err, err_len, "close_time: must be a positive integer (unix seconds)");
    g->close_time = (uint64_t)json_integer_value(close_time);
    if ((rc = parse_params(root, &g->params, err, err_len)) != 0 ||
        (rc = get_amount(root, "commons_balance", &g->commons_balance, "", err, err_len)) != 0 ||
        (rc = parse_accounts(root, g, err, err_len)) != 0)
        return rc;
    return parse_validators(root, g, err, err_len);
}

int node_genesis_parse(const char *json_text, size_t len, struct node_genesis *out, char *err,
                       size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (err != NULL && err_len > 0)
        err[0] = '\0';
    if (len > NODE_GENESIS_BYTES_MAX)
        return fail(err, err_len, "genesis: larger than %u bytes", NODE_GENESIS_BYTES_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return fail(err, err_len, "genesis: line %d column %d: %s", jerr.line, jerr.column,
                    jerr.text);
    int rc = parse_root(root, out, err, err_len);
    json_decref(root);
    if (rc == 0) {
        struct node_buf b;
        node_buf_init(&b);
        rc = node_genesis_encode(out, &b);
        if (rc == 0)
            node_hash(b.data, b.len, out->network_id);
        node_buf_free(&b);
    }
    if (rc != 0)
        node_genesis_free(out);
    return rc;
}

int node_genesis_load(const char *path, struct node_genesis *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (err != NULL)
            snprintf(err, err_len, "%s: cannot open", path);
        return NODE_E_IO;
    }
    char *text = malloc(NODE_GENESIS_BYTES_MAX + 1);
    if (text == NULL) {
        fclose(f);
        return NODE_E_NOMEM;
    }
    size_t len = fread(text, 1, NODE_GENESIS_BYTES_MAX + 1, f);
    bool read_error = ferror(f) != 0;
    fclose(f);
    int rc;
    if (read_error) {
        if (err != NULL)
            snprintf(err, err_len, "%s: read error", path);
        rc = NODE_E_IO;
    } else {
        rc = node_genesis_parse(text, len, out, err, err_len);
    }
    free(text);
    return rc;
}

int node_genesis_encode(const struct node_genesis *g, struct node_buf *out)
{
    msgpack_packer pk;
    node__packer_init(&pk, out);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint64(&pk, GENESIS_VERSION);
    node__pack_str(&pk, g->network);
    msgpack_pack_uint64(&pk, g->close_time);
    int rc = node_params_encode(&g->params, out);
    if (rc != 0)
        return rc;
    msgpack_pack_array(&pk, g->account_count);
    for (uint32_t i = 0; i < g->account_count; i++) {
        const struct node_genesis_account *a = &g->accounts[i];
        msgpack_pack_array(&pk, 4);
        node__pack_bin(&pk, a->key, NODE_KEY_BYTES);
        msgpack_pack_uint64(&pk, a->balance);
        msgpack_pack_uint64(&pk, a->flags);
        node__pack_str(&pk, a->name);
    }
    if ((rc = node_validator_set_encode(&g->validators, out)) != 0)
        return rc;
    msgpack_pack_uint64(&pk, g->commons_balance);
    return out->failed ? NODE_E_NOMEM : 0;
}

void node_genesis_free(struct node_genesis *g)
{
    if (g == NULL)
        return;
    free(g->accounts);
    g->accounts = NULL;
    g->account_count = 0;
    node_validator_set_free(&g->validators);
}
