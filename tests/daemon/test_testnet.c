/*
 * test_testnet.c — `nanumd testnet` (node/daemon/testnet.c): a testnet of four
 * validators and a watcher is written, and every part of it is read back with
 * the readers nanumd uses (genesis, node_config_load, node_key_load), checked
 * against the others (keys in the genesis, ports, peers) and against
 * testnet.json.  Also: usage errors, and no earlier testnet or ledger is
 * written over by mistake.
 */
#include "helpers.h"

#include <dirent.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"
#include "keys.h"
#include "protocol.h"
#include "testnet.h"

#define VALIDATORS 4
#define WATCHERS 1
#define NODES (VALIDATORS + WATCHERS)
#define BASE_PORT 21000
#define CLOSE_TIME "1767225600"

struct fixture {
    char root[PATH_MAX]; /* removed at teardown */
    char dir[PATH_MAX + 16];
    char output[4096];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    make_temp_dir(f->root);
    snprintf(f->dir, sizeof f->dir, "%s/net", f->root);
    *state = f;
    return node_crypto_init();
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    remove_tree(f->root);
    free(f);
    return 0;
}

/* Runs `nanumd testnet` on f->dir with the standard shape plus extra args. */
static int run_testnet(struct fixture *f, const char *extra)
{
    char *argv[16] = {"testnet", "--validators", "4", "--watchers", "1", "--dir", f->dir,
                      "--base-port", "21000", "--close-time", CLOSE_TIME};
    int argc = 11;
    if (extra != NULL)
        argv[argc++] = (char *)extra;
    return run_captured(nanumd_testnet_main, argc, argv, f->root, f->output, sizeof f->output);
}

static const struct node_validator *find_validator(const struct node_genesis *g,
                                                   const uint8_t key[32])
{
    for (uint32_t i = 0; i < g->validators.count; i++)
        if (memcmp(g->validators.validators[i].node_key, key, 32) == 0)
            return &g->validators.validators[i];
    return NULL;
}

static const struct node_genesis_account *find_account(const struct node_genesis *g,
                                                       const uint8_t key[32])
{
    for (uint32_t i = 0; i < g->account_count; i++)
        if (memcmp(g->accounts[i].key, key, 32) == 0)
            return &g->accounts[i];
    return NULL;
}

/* Loads DIR/wallets/NAME.key and checks its genesis account. */
static void check_wallet(const struct fixture *f, const struct node_genesis *g, const char *name,
                         uint64_t balance, uint32_t flags, uint8_t key_out[32])
{
    char path[PATH_MAX + 64], err[512];
    uint8_t sk[64];
    snprintf(path, sizeof path, "%s/wallets/%s.key", f->dir, name);
    int rc = node_key_file_load(path, NODE_KEY_KIND_WALLET_PLAIN, key_out, sk, err, sizeof err);
    if (rc != 0)
        fail_msg("%s: %s", name, err);
    const struct node_genesis_account *a = find_account(g, key_out);
    if (a == NULL)
        fail_msg("wallet %s is not an account of the genesis", name);
    assert_int_equal(a->balance, balance);
    assert_int_equal(a->flags, flags);
}

/* Loads nodeK's config and key and checks them against the genesis.  Returns
 * the node's public key in key_out and its two ports in ports[]. */
static void check_node(const struct fixture *f, const struct node_genesis *g, uint32_t k,
                       const uint8_t org_keys[][32], uint16_t ports[2], uint8_t key_out[32])
{
    char path[PATH_MAX + 64], expected[PATH_MAX + 64], err[NODE_CONFIG_ERROR_BYTES_MAX];
    struct node_config c;
    snprintf(path, sizeof path, "%s/node%u/nanumd.ini", f->dir, k);
    if (node_config_load(path, &c, err, sizeof err) != 0)
        fail_msg("node%u: %s", k, err);
    assert_int_equal(c.role, k <= VALIDATORS ? NODE_CONFIG_ROLE_VALIDATOR : NODE_CONFIG_ROLE_WATCHER);
    snprintf(expected, sizeof expected, "%s/genesis.json", f->dir);
    assert_string_equal(c.genesis, expected);
    snprintf(expected, sizeof expected, "%s/node%u/data", f->dir, k);
    assert_string_equal(c.data_dir, expected);
    DIR *d = opendir(c.data_dir);
    assert_non_null(d);
    closedir(d);
    assert_string_equal(c.p2p_listen.host, "127.0.0.1");
    assert_int_equal(c.p2p_listen.port, BASE_PORT + 2 * k);
    assert_int_equal(c.api_listen.port, BASE_PORT + 2 * k + 1);
    ports[0] = c.p2p_listen.port;
    ports[1] = c.api_listen.port;
    assert_int_equal(c.peer_count, k <= VALIDATORS ? VALIDATORS - 1 : VALIDATORS);
    for (uint32_t i = 0; i < c.peer_count; i++) {
        assert_int_not_equal(c.peers[i].port, c.p2p_listen.port);
        assert_in_range(c.peers[i].port, BASE_PORT + 2, BASE_PORT + 2 * VALIDATORS);
    }
    uint8_t sk[64];
    if (node_key_load(c.node_key, key_out, sk, err, sizeof err) != 0)
        fail_msg("node%u: %s", k, err); /* also fails on a group-readable key */
    const struct node_validator *v = find_validator(g, key_out);
    if (k > VALIDATORS) {
        assert_null(v);
        return;
    }
    if (v == NULL)
        fail_msg("node%u's key is not a validator of the genesis", k);
    assert_memory_equal(v->org, org_keys[k - 1], 32);
    snprintf(expected, sizeof expected, "127.0.0.1:%u", BASE_PORT + 2 * k);
    assert_string_equal(v->address, expected);
}

static void check_summary(const struct fixture *f, const struct node_genesis *g,
                          const uint8_t node_keys[][32])
{
    char path[PATH_MAX + 64], hex[65], address[NODE_ADDRESS_TEXT_BYTES + 1], api[64];
    snprintf(path, sizeof path, "%s/testnet.json", f->dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        fail_msg("testnet.json: line %d: %s", jerr.line, jerr.text);
    node_hex_encode(g->network_id, 32, hex);
    assert_string_equal(json_string_value(json_object_get(root, "network_id")), hex);
    json_t *validators = json_object_get(root, "validators");
    assert_int_equal(json_array_size(validators), VALIDATORS);
    assert_int_equal(json_array_size(json_object_get(root, "watchers")), WATCHERS);
    assert_int_equal(json_array_size(json_object_get(root, "wallets")), VALIDATORS + 6);
    for (uint32_t k = 1; k <= VALIDATORS; k++) {
        json_t *v = json_array_get(validators, k - 1);
        node_address_encode(node_keys[k - 1], address);
        assert_string_equal(json_string_value(json_object_get(v, "public")), address);
        snprintf(api, sizeof api, "http://127.0.0.1:%u", BASE_PORT + 2 * k + 1);
        assert_string_equal(json_string_value(json_object_get(v, "api")), api);
    }
    json_t *alice = json_array_get(json_object_get(root, "wallets"), VALIDATORS + 1);
    assert_string_equal(json_string_value(json_object_get(alice, "key")), "wallets/alice.key");
    json_decref(root);
}

static void testnet_of_four_validators_and_a_watcher_is_complete_and_consistent(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(run_testnet(f, NULL), 0);
    assert_contains(f->output, "wrote a testnet of 4 validators and 1 watcher");
    char path[PATH_MAX + 64], err[512];
    struct node_genesis g;
    snprintf(path, sizeof path, "%s/genesis.json", f->dir);
    if (node_genesis_load(path, &g, err, sizeof err) != 0)
        fail_msg("genesis.json: %s", err);
    assert_string_equal(g.network, "nanum-testnet");
    assert_int_equal(g.close_time, 1767225600);
    assert_int_equal(g.validators.count, VALIDATORS);
    assert_int_equal(g.account_count, VALIDATORS + 6);
    assert_int_equal(g.params.values[NODE_PARAM_complete_grace_s], 3600);
    assert_int_equal(g.params.values[NODE_PARAM_coop_fee_bp], 500);

    uint8_t org_keys[VALIDATORS][32], node_keys[NODES][32], key[32];
    char name[16];
    for (uint32_t k = 1; k <= VALIDATORS; k++) {
        snprintf(name, sizeof name, "coop%u", k);
        check_wallet(f, &g, name, 1000000, NODE_ACCOUNT_ORG | NODE_ACCOUNT_MEMBER, org_keys[k - 1]);
    }
    check_wallet(f, &g, "operator", 5000000, NODE_ACCOUNT_MEMBER, key);
    const char *members[] = {"alice", "bob", "carol", "dave"};
    for (size_t i = 0; i < 4; i++)
        check_wallet(f, &g, members[i], 100000, NODE_ACCOUNT_MEMBER, key);
    check_wallet(f, &g, "erin", 50000, 0, key);

    uint16_t ports[2 * NODES];
    for (uint32_t k = 1; k <= NODES; k++)
        check_node(f, &g, k, org_keys, &ports[2 * (k - 1)], node_keys[k - 1]);
    for (size_t i = 0; i < 2 * NODES; i++)
        for (size_t j = i + 1; j < 2 * NODES; j++)
            assert_int_not_equal(ports[i], ports[j]);
    check_summary(f, &g, node_keys);

    char readme[2048];
    snprintf(path, sizeof path, "%s/wallets/README.txt", f->dir);
    read_file_text(path, readme, sizeof readme);
    assert_contains(readme, "NOT encrypted");
    node_genesis_free(&g);
}

static void existing_testnet_is_kept_without_force_and_replaced_with_it(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX + 64], before[65536], after[65536];
    assert_int_equal(run_testnet(f, NULL), 0);
    snprintf(path, sizeof path, "%s/genesis.json", f->dir);
    read_file_text(path, before, sizeof before);
    assert_int_equal(run_testnet(f, NULL), 1);
    read_file_text(path, after, sizeof after);
    assert_string_equal(before, after);
    char err[512];
    struct node_testnet_options o = {.validators = 4, .watchers = 1, .dir = f->dir,
                                     .base_port = BASE_PORT};
    assert_int_equal(node_testnet_create(&o, NULL, err, sizeof err), NODE_TESTNET_E_EXISTS);
    assert_contains(err, "already holds a testnet (genesis.json); use --force to write over it");
    assert_int_equal(run_testnet(f, "--force"), 0);
    read_file_text(path, after, sizeof after);
    assert_string_not_equal(before, after); /* new keys */
}

static void non_empty_directory_or_data_is_never_written_over_by_mistake(void **state)
{
    struct fixture *f = *state;
    char path[PATH_MAX + 64], err[512];
    assert_int_equal(mkdir(f->dir, 0755), 0);
    snprintf(path, sizeof path, "%s/notes.txt", f->dir);
    write_file(path, "mine\n");
    struct node_testnet_options o = {.validators = 2, .dir = f->dir, .base_port = BASE_PORT};
    assert_int_equal(node_testnet_create(&o, NULL, err, sizeof err), NODE_TESTNET_E_EXISTS);
    assert_contains(err, "is not empty; choose an empty directory or use --force");
    o.force = true;
    assert_int_equal(node_testnet_create(&o, NULL, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/node1/data/data.mdb", f->dir);
    write_file(path, "a ledger\n");
    assert_int_equal(node_testnet_create(&o, NULL, err, sizeof err), NODE_TESTNET_E_EXISTS);
    assert_contains(err, "node1/data is not empty (a ledger of an earlier testnet?); delete it first");
    char text[64];
    read_file_text(path, text, sizeof text);
    assert_string_equal(text, "a ledger\n");
}

static void usage_errors_exit_64_with_a_reason(void **state)
{
    struct fixture *f = *state;
    static const char *const cases[][12] = {
        {"testnet", "--validators", "4", "--base-port", "21000"},
        {"testnet", "--validators", "0", "--dir", "x", "--base-port", "21000"},
        {"testnet", "--validators", "65", "--dir", "x", "--base-port", "21000"},
        {"testnet", "--validators", "4", "--dir", "x", "--base-port", "0"},
        {"testnet", "--validators", "4", "--dir", "x", "--base-port", "65530"},
        {"testnet", "--validators", "four", "--dir", "x", "--base-port", "21000"},
        {"testnet", "--validators", "4", "--dir", "x", "--base-port", "21000", "--speed", "9"},
        {"testnet", "--validators", "4", "--dir", "x", "--base-port"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int argc = 0;
        while (argc < 12 && cases[i][argc] != NULL)
            argc++;
        char out[256];
        int rc = run_captured(nanumd_testnet_main, argc, (char **)cases[i], f->root, out, sizeof out);
        if (rc != 64)
            fail_msg("case %zu: expected exit 64, got %d", i, rc);
    }
    assert_int_equal(access("x", F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            testnet_of_four_validators_and_a_watcher_is_complete_and_consistent, setup, teardown),
        cmocka_unit_test_setup_teardown(
            existing_testnet_is_kept_without_force_and_replaced_with_it, setup, teardown),
        cmocka_unit_test_setup_teardown(
            non_empty_directory_or_data_is_never_written_over_by_mistake, setup, teardown),
        cmocka_unit_test_setup_teardown(usage_errors_exit_64_with_a_reason, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
