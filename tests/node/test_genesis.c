/*
 * test_genesis.c — reading the genesis file: a valid document, the network
 * id's independence from JSON formatting, and one clear error per mistake,
 * naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "protocol.h"

static char org[NODE_ADDRESS_TEXT_BYTES + 1], alice[NODE_ADDRESS_TEXT_BYTES + 1],
    node1[NODE_ADDRESS_TEXT_BYTES + 1];

static void make_addresses(void)
{
    uint8_t pk[NODE_KEY_BYTES];
    memset(pk, 1, sizeof pk);
    node_address_encode(pk, org);
    memset(pk, 2, sizeof pk);
    node_address_encode(pk, alice);
    memset(pk, 3, sizeof pk);
    node_address_encode(pk, node1);
}

/* A valid genesis, with `extra` spliced in as the last top-level field(s)
 * (replacing a field of the same name is done by the callers' own text). */
static const char *params_json = "{\"coop_fee_bp\":300}";

static char *genesis_text(const char *accounts, const char *validators, const char *extra)
{
    static char text[8192];
    char default_accounts[1024], default_validators[512];
    snprintf(default_accounts, sizeof default_accounts,
             "[{\"address\":\"%s\",\"balance\":\"5000.00\",\"roles\":[\"org\",\"member\"],"
             "\"name\":\"Hanbat Car Co-op\"},"
             "{\"address\":\"%s\",\"balance\":\"120.50\",\"roles\":[\"member\"]}]",
             org, alice);
    snprintf(default_validators, sizeof default_validators,
             "[{\"node_key\":\"%s\",\"org\":\"%s\",\"address\":\"127.0.0.1:7701\"}]", node1, org);
    snprintf(text, sizeof text,
             "{\"version\":1,\"network\":\"hanbat-local\",\"close_time\":1767225600,"
             "\"params\":%s,\"accounts\":%s,\"validators\":%s%s}",
             params_json, accounts ? accounts : default_accounts, validators ? validators : default_validators,
             extra ? extra : "");
    return text;
}

static int parse(const char *text, struct node_genesis *g, char *err, size_t err_len)
{
    return node_genesis_parse(text, strlen(text), g, err, err_len);
}

static void valid_genesis_is_read_with_its_accounts_validators_and_params(void **state)
{
    (void)state;
    struct node_genesis g;
    char err[256];
    int rc = parse(genesis_text(NULL, NULL, NULL), &g, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(g.network, "hanbat-local");
    assert_int_equal(g.account_count, 2);
    assert_int_equal(g.validators.count, 1);
    assert_int_equal(g.params.values[NODE_PARAM_coop_fee_bp], 300);
    assert_int_equal(g.params.values[NODE_PARAM_base_fee], 1);
    uint64_t total = g.accounts[0].balance + g.accounts[1].balance;
    assert_int_equal(total, 512050);
    node_genesis_free(&g);
}

static void network_id_ignores_formatting_but_not_content(void **state)
{
    (void)state;
    struct node_genesis a, b, c;
    char err[256];
    char *text = strdup(genesis_text(NULL, NULL, NULL));
    assert_int_equal(parse(text, &a, err, sizeof err), 0);
    /* Same content, other spacing and key order. */
    char spaced[9000];
    snprintf(spaced, sizeof spaced, "  {\n  \"network\" : \"hanbat-local\",%s", strchr(text, '{') + 1);
    char *dup = strstr(spaced, ",\"network\":\"hanbat-local\"");
    assert_non_null(dup);
    memmove(dup, dup + strlen(",\"network\":\"hanbat-local\""),
            strlen(dup + strlen(",\"network\":\"hanbat-local\"")) + 1);
    assert_int_equal(parse(spaced, &b, err, sizeof err), 0);
    assert_memory_equal(a.network_id, b.network_id, NODE_HASH_BYTES);
    char *renamed = strdup(text);
    memcpy(strstr(renamed, "hanbat-local"), "hanbat-LOCAL", 12);
    assert_int_equal(parse(renamed, &c, err, sizeof err), 0);
    assert_memory_not_equal(a.network_id, c.network_id, NODE_HASH_BYTES);
    node_genesis_free(&a);
    node_genesis_free(&b);
    node_genesis_free(&c);
    free(text);
    free(renamed);
}

/* Parses text, expects NODE_E_GENESIS and an error containing `needle`. */
static void expect_error(const char *text, const char *needle)
{
    struct node_genesis g;
    char err[256] = "";
    int rc = parse(text, &g, err, sizeof err);
    if (rc != NODE_E_GENESIS || strstr(err, needle) == NULL)
        fail_msg("got %s \"%s\", expected an error mentioning \"%s\"", node_errname(rc), err, needle);
}

static void each_mistake_is_named_by_its_field(void **state)
{
    (void)state;
    char accounts[1024], validators[512];
    expect_error("{", "line 1");
    expect_error("[]", "must be a JSON object");
    expect_error(genesis_text(NULL, NULL, ",\"validator\":1"), "validator: unknown field");
    expect_error(genesis_text("[]", NULL, NULL), "accounts: must be a non-empty array");
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"balance\":12.5}]", alice);
    expect_error(genesis_text(accounts, NULL, NULL), "accounts[0].balance: must be a string");
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"balance\":\"12.505\"}]", alice);
    expect_error(genesis_text(accounts, NULL, NULL), "accounts[0].balance: not an amount");
    char typo[NODE_ADDRESS_TEXT_BYTES + 1];
    memcpy(typo, alice, sizeof typo);
    typo[30] = typo[30] == 'a' ? 'b' : 'a';
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"balance\":\"1\"}]", typo);
    expect_error(genesis_text(accounts, NULL, NULL), "accounts[0].address");
    snprintf(accounts, sizeof accounts,
             "[{\"address\":\"%s\",\"balance\":\"1.00\"},{\"address\":\"%s\",\"balance\":\"2.00\"}]",
             alice, alice);
    expect_error(genesis_text(accounts, NULL, NULL), "listed twice");
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"balance\":\"5.00\"}]", alice);
    expect_error(genesis_text(accounts, NULL, NULL), "at least one account needs the \"member\" role");
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"roles\":[\"admin\"]}]", alice);
    expect_error(genesis_text(accounts, NULL, NULL), "accounts[0].roles[0]");
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"roles\":[\"org\"]}]", org);
    expect_error(genesis_text(accounts, NULL, NULL), "accounts[0].name: an org needs a name");
    snprintf(accounts, sizeof accounts, "[{\"address\":\"%s\",\"balance\":\"0.50\"}]", alice);
    expect_error(genesis_text(accounts, NULL, NULL), "below min_balance");
    expect_error(genesis_text(NULL, "[]", NULL), "validators: must be a non-empty array");
    snprintf(validators, sizeof validators, "[{\"node_key\":\"%s\",\"org\":\"%s\"}]", node1, alice);
    expect_error(genesis_text(NULL, validators, NULL), "validators[0].org: not an account with the \"org\" role");
    snprintf(validators, sizeof validators,
             "[{\"node_key\":\"%s\",\"org\":\"%s\"},{\"node_key\":\"%s\",\"org\":\"%s\"}]", node1,
             org, node1, org);
    expect_error(genesis_text(NULL, validators, NULL), "listed twice");
    expect_error("{\"version\":2}", "version: must be 1");
    expect_error("{\"version\":1,\"network\":\"x\",\"close_time\":0}", "close_time");
}

static void params_are_checked_against_their_ranges(void **state)
{
    (void)state;
    params_json = "{\"coop_fee_bp\":9999}";
    expect_error(genesis_text(NULL, NULL, NULL), "params.coop_fee_bp: 9999 is out of the allowed range");
    params_json = "{\"base_fee\":-1}";
    expect_error(genesis_text(NULL, NULL, NULL), "params.base_fee: must be a non-negative integer");
    params_json = "{\"coop_fee_xx\":1}";
    expect_error(genesis_text(NULL, NULL, NULL), "params.coop_fee_xx: unknown parameter");
    params_json = "{\"coop_fee_bp\":300}";
}

static void missing_file_is_an_io_error(void **state)
{
    (void)state;
    struct node_genesis g;
    char err[256];
    assert_int_equal(node_genesis_load("/nonexistent/genesis.json", &g, err, sizeof err), NODE_E_IO);
    assert_non_null(strstr(err, "cannot open"));
}

int main(void)
{
    make_addresses();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_genesis_is_read_with_its_accounts_validators_and_params),
        cmocka_unit_test(network_id_ignores_formatting_but_not_content),
        cmocka_unit_test(each_mistake_is_named_by_its_field),
        cmocka_unit_test(params_are_checked_against_their_ranges),
        cmocka_unit_test(missing_file_is_an_io_error),
    };
    return cmocka_run_group_tests_name("genesis", tests, NULL, NULL);
}
