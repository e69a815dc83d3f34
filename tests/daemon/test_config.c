/*
 * test_config.c — nanumd's INI configuration (node/daemon/config.c): defaults, every
 * key, errors that name the file and line, value checks, and relative paths
 * resolved against the configuration file's directory.
 */
#include "helpers.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

#define BASE "/etc/nanum"
#define REQUIRED "[node]\ngenesis = genesis.json\nnode_key = node.key\n"

/* Parses text as "nanumd.ini" in BASE; returns the code, message in err. */
static int parse(const char *text, struct node_config *c, char *err)
{
    return node_config_parse(text, strlen(text), "nanumd.ini", BASE, c, err,
                             NODE_CONFIG_ERROR_BYTES_MAX);
}

/* Parses text, expecting code rc and an error message containing phrase. */
static void expect_error(const char *text, int rc, const char *phrase)
{
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    int got = parse(text, &c, err);
    if (got != rc)
        fail_msg("expected %s, got %s (%s) for:\n%s", node_config_errname(rc),
                 node_config_errname(got), err, text);
    assert_contains(err, phrase);
}

static void defaults_are_the_documented_values(void **state)
{
    (void)state;
    struct node_config c;
    node_config_defaults(&c);
    assert_int_equal(c.role, NODE_CONFIG_ROLE_WATCHER);
    assert_string_equal(c.data_dir, "data");
    assert_string_equal(c.genesis, "");
    assert_string_equal(c.node_key, "");
    assert_int_equal(c.log_level, NODE_CONFIG_LOG_INFO);
    assert_string_equal(c.p2p_listen.host, "127.0.0.1");
    assert_int_equal(c.p2p_listen.port, 7700);
    assert_int_equal(c.peer_count, 0);
    assert_int_equal(c.inbound_max, 32);
    assert_int_equal(c.outbound_max, 16);
    assert_string_equal(c.api_listen.host, "127.0.0.1");
    assert_int_equal(c.api_listen.port, 8700);
    assert_int_equal(c.api_connections_max, 64);
    assert_int_equal(c.api_body_bytes_max, 65536);
    assert_int_equal(c.api_request_timeout_ms, 10000);
    assert_string_equal(c.api_admin_token, "");
    assert_string_equal(c.quorum_file, "");
    assert_true(c.storage_sync);
    assert_false(c.testing_equivocate);
}

static void minimal_file_takes_every_default_and_resolves_data_dir(void **state)
{
    (void)state;
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    assert_int_equal(parse(REQUIRED, &c, err), 0);
    assert_string_equal(c.genesis, BASE "/genesis.json");
    assert_string_equal(c.node_key, BASE "/node.key");
    assert_string_equal(c.data_dir, BASE "/data");
    assert_int_equal(c.role, NODE_CONFIG_ROLE_WATCHER);
    assert_int_equal(c.p2p_listen.port, 7700);
    assert_int_equal(c.api_listen.port, 8700);
    assert_true(c.storage_sync);
}

static void every_key_is_parsed(void **state)
{
    (void)state;
    const char *text =
        "; a full configuration\n"
        "[node]\nrole = validator\ndata_dir = /var/lib/nanum\ngenesis = /srv/genesis.json\n"
        "node_key = keys/node.key\nlog_level = debug\n\n"
        "[p2p]\nlisten = 0.0.0.0:7701\npeers = 10.0.0.2:7700, 10.0.0.3:7700\n"
        "peers = [2001:db8::1]:7700\ninbound_max = 40\noutbound_max = 8\n\n"
        "[api]\nlisten = [::1]:8701\nconnections_max = 128\nbody_bytes_max = 1MiB\n"
        "request_timeout_ms = 2500\nadmin_token = s3cret-token-0123456789\n\n"
        "[consensus]\nquorum_file = quorum.json\n\n"
        "[storage]\nsync = false\n\n"
        "[testing]\nequivocate = yes\n";
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    assert_int_equal(parse(text, &c, err), 0);
    assert_int_equal(c.role, NODE_CONFIG_ROLE_VALIDATOR);
    assert_string_equal(c.data_dir, "/var/lib/nanum");
    assert_string_equal(c.genesis, "/srv/genesis.json");
    assert_string_equal(c.node_key, BASE "/keys/node.key");
    assert_int_equal(c.log_level, NODE_CONFIG_LOG_DEBUG);
    assert_string_equal(c.p2p_listen.host, "0.0.0.0");
    assert_int_equal(c.p2p_listen.port, 7701);
    assert_int_equal(c.peer_count, 3);
    assert_string_equal(c.peers[0].host, "10.0.0.2");
    assert_string_equal(c.peers[1].host, "10.0.0.3");
    assert_string_equal(c.peers[2].host, "2001:db8::1");
    assert_true(c.peers[2].ipv6);
    assert_int_equal(c.peers[2].port, 7700);
    assert_int_equal(c.inbound_max, 40);
    assert_int_equal(c.outbound_max, 8);
    assert_string_equal(c.api_listen.host, "::1");
    assert_true(c.api_listen.ipv6);
    assert_int_equal(c.api_listen.port, 8701);
    assert_int_equal(c.api_connections_max, 128);
    assert_int_equal(c.api_body_bytes_max, 1 << 20);
    assert_int_equal(c.api_request_timeout_ms, 2500);
    assert_string_equal(c.api_admin_token, "s3cret-token-0123456789");
    assert_string_equal(c.quorum_file, BASE "/quorum.json");
    assert_false(c.storage_sync);
    assert_true(c.testing_equivocate);
    char text_out[NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX];
    node_config_endpoint_format(&c.peers[2], text_out);
    assert_string_equal(text_out, "[2001:db8::1]:7700");
    node_config_wipe(&c);
    assert_string_equal(c.api_admin_token, "");
}

static void unknown_key_error_names_file_line_key_and_section(void **state)
{
    (void)state;
    expect_error(REQUIRED "\n[p2p]\nlistn = 127.0.0.1:7700\n", NODE_CONFIG_E_UNKNOWN,
                 "nanumd.ini:6: unknown key 'listn' in [p2p]");
}

static void unknown_section_error_names_its_header_line_even_when_empty(void **state)
{
    (void)state;
    expect_error(REQUIRED "[p2pp]\n[api]\n", NODE_CONFIG_E_UNKNOWN,
                 "nanumd.ini:4: unknown section [p2pp]");
    expect_error("genesis = x\n", NODE_CONFIG_E_UNKNOWN,
                 "nanumd.ini:1: key 'genesis' outside any [section]");
}

static void line_that_is_not_a_key_or_section_is_a_syntax_error_on_its_line(void **state)
{
    (void)state;
    expect_error(REQUIRED "[p2p]\njust some words\n", NODE_CONFIG_E_SYNTAX, "nanumd.ini:5: ");
    expect_error("[node\n", NODE_CONFIG_E_SYNTAX, "nanumd.ini:1: ");
}

static void port_zero_and_ports_over_65535_are_rejected(void **state)
{
    (void)state;
    expect_error(REQUIRED "[p2p]\nlisten = 127.0.0.1:0\n", NODE_CONFIG_E_BAD_VALUE,
                 "nanumd.ini:5: [p2p] listen: '127.0.0.1:0' is not HOST:PORT: the port must be");
    expect_error(REQUIRED "[api]\nlisten = 127.0.0.1:65536\n", NODE_CONFIG_E_BAD_VALUE,
                 "from 1 to 65535");
}

static void role_other_than_validator_or_watcher_is_rejected(void **state)
{
    (void)state;
    expect_error("[node]\nrole = boss\n", NODE_CONFIG_E_BAD_VALUE,
                 "nanumd.ini:2: [node] role: 'boss' is not one of validator, watcher");
    expect_error("[node]\nlog_level = loud\n", NODE_CONFIG_E_BAD_VALUE,
                 "'loud' is not one of error, warn, info, debug");
}

static void boolean_must_be_true_false_yes_no_1_or_0(void **state)
{
    (void)state;
    expect_error(REQUIRED "[storage]\nsync = maybe\n", NODE_CONFIG_E_BAD_VALUE,
                 "nanumd.ini:5: [storage] sync: 'maybe' is not a boolean");
    const char *ok[] = {"true", "yes", "1", "false", "no", "0"};
    for (size_t i = 0; i < 6; i++) {
        char text[256];
        snprintf(text, sizeof text, REQUIRED "[storage]\nsync = %s\n", ok[i]);
        struct node_config c;
        char err[NODE_CONFIG_ERROR_BYTES_MAX];
        assert_int_equal(parse(text, &c, err), 0);
        assert_int_equal(c.storage_sync, i < 3);
    }
}

static void malformed_host_port_is_rejected_with_the_reason(void **state)
{
    (void)state;
    static const struct { const char *value, *reason; } cases[] = {
        {"localhost:7700", "numeric IPv4 or [IPv6] address"},
        {"127.0.0.1", "the :PORT is missing"},
        {"::1:7700", "an IPv6 address is written [ADDRESS]:PORT"},
        {"[::1]7700", "an IPv6 address is written [ADDRESS]:PORT"},
        {"[127.0.0.1]:7700", "numeric IPv4 or [IPv6] address"},
        {"127.0.0.1:77x", "the port must be a number"},
        {"127.0.0.1:+80", "the port must be a number"},
        {":7700", "the address is empty"},
        {"300.1.1.1:7700", "numeric IPv4"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256], phrase[128];
        snprintf(text, sizeof text, REQUIRED "[p2p]\nlisten = %s\n", cases[i].value);
        snprintf(phrase, sizeof phrase, "'%s' is not HOST:PORT: ", cases[i].value);
        expect_error(text, NODE_CONFIG_E_BAD_VALUE, phrase);
        expect_error(text, NODE_CONFIG_E_BAD_VALUE, cases[i].reason);
    }
    expect_error(REQUIRED "[p2p]\npeers = 10.0.0.1:1, , 10.0.0.2:1\n", NODE_CONFIG_E_BAD_VALUE,
                 "empty entry in [p2p] peers");
    expect_error(REQUIRED "[p2p]\npeers = 10.0.0.1:1\npeers = 10.0.0.1:1\n",
                 NODE_CONFIG_E_DUPLICATE, "nanumd.ini:6: [p2p] peers: 10.0.0.1:1 is listed twice");
}

static void more_than_64_peers_are_rejected(void **state)
{
    (void)state;
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, REQUIRED "[p2p]\n");
    for (int i = 1; i <= NODE_CONFIG_PEERS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "peers = 10.0.%d.%d:7700\n", i / 8, i);
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    assert_int_equal(parse(text, &c, err), 0);
    assert_int_equal(c.peer_count, NODE_CONFIG_PEERS_MAX);
    snprintf(text + n, sizeof text - n, "peers = 10.9.9.9:7700\n");
    expect_error(text, NODE_CONFIG_E_TOO_LONG, "nanumd.ini:69: [p2p] peers: more than 64 peers");
}

static void numbers_and_sizes_are_checked_against_their_ranges(void **state)
{
    (void)state;
    expect_error(REQUIRED "[p2p]\ninbound_max = 1001\n", NODE_CONFIG_E_BAD_VALUE,
                 "[p2p] inbound_max: 1001 is out of range 0..1000");
    expect_error(REQUIRED "[p2p]\noutbound_max = -1\n", NODE_CONFIG_E_BAD_VALUE,
                 "'-1' is not a number");
    expect_error(REQUIRED "[api]\nconnections_max = 0\n", NODE_CONFIG_E_BAD_VALUE,
                 "out of range 1..10000");
    expect_error(REQUIRED "[api]\nbody_bytes_max = 64 KiB\n", NODE_CONFIG_E_BAD_VALUE,
                 "not a size like 65536, 64K or 1MiB");
    expect_error(REQUIRED "[api]\nbody_bytes_max = 17M\n", NODE_CONFIG_E_BAD_VALUE,
                 "out of range 1024..16777216");
    expect_error(REQUIRED "[api]\nrequest_timeout_ms = 99999999999999999999\n",
                 NODE_CONFIG_E_BAD_VALUE, "is not a number");
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    assert_int_equal(parse(REQUIRED "[api]\nbody_bytes_max = 64k\n", &c, err), 0);
    assert_int_equal(c.api_body_bytes_max, 65536);
}

static void required_keys_duplicates_and_combinations_are_checked(void **state)
{
    (void)state;
    expect_error("[node]\nnode_key = k\n", NODE_CONFIG_E_MISSING,
                 "nanumd.ini: [node] genesis is required");
    expect_error("[node]\ngenesis = g\n", NODE_CONFIG_E_MISSING, "[node] node_key is required");
    expect_error(REQUIRED "role = validator\nrole = watcher\n", NODE_CONFIG_E_DUPLICATE,
                 "nanumd.ini:5: 'role' in [node] is given twice");
    expect_error(REQUIRED "[testing]\nequivocate = true\n", NODE_CONFIG_E_BAD_VALUE,
                 "equivocate = true needs role = validator");
    expect_error(REQUIRED "[api]\nadmin_token = short\n", NODE_CONFIG_E_BAD_VALUE,
                 "[api] admin_token: must be 16 to 128 characters long");
    expect_error("[node]\ngenesis =\n", NODE_CONFIG_E_BAD_VALUE, "[node] genesis: empty path");
}

static void over_long_line_is_rejected_instead_of_being_split(void **state)
{
    (void)state;
    char text[1024];
    char path[300];
    memset(path, 'a', sizeof path - 1);
    path[sizeof path - 1] = '\0';
    snprintf(text, sizeof text, "[node]\ngenesis = %s\n", path);
    expect_error(text, NODE_CONFIG_E_TOO_LONG, "nanumd.ini:2: line longer than 190 bytes");
}

static void relative_paths_resolve_against_the_config_files_directory(void **state)
{
    (void)state;
    char dir[PATH_MAX], sub[PATH_MAX + 16], path[PATH_MAX + 32], expected[PATH_MAX + 64];
    make_temp_dir(dir);
    snprintf(sub, sizeof sub, "%s/node1", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(path, sizeof path, "%s/nanumd.ini", sub);
    write_file(path, "[node]\ngenesis = ../genesis.json\nnode_key = ./node.key\n"
                     "[consensus]\nquorum_file = q/quorum.json\n");
    /* Load through a relative path from another working directory. */
    char cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    int rc = node_config_load("node1/nanumd.ini", &c, err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    if (rc != 0)
        fail_msg("load failed: %s", err);
    snprintf(expected, sizeof expected, "%s/genesis.json", dir);
    assert_string_equal(c.genesis, expected);
    snprintf(expected, sizeof expected, "%s/node.key", sub);
    assert_string_equal(c.node_key, expected);
    snprintf(expected, sizeof expected, "%s/data", sub);
    assert_string_equal(c.data_dir, expected);
    snprintf(expected, sizeof expected, "%s/q/quorum.json", sub);
    assert_string_equal(c.quorum_file, expected);
    remove_tree(dir);
}

static void example_of_spec_config_md_parses(void **state)
{
    (void)state;
    const char *text = "; node1 of the Hanbat cooperative\n"
                       "[node]\n"
                       "role = validator\n"
                       "genesis = /etc/nanum/genesis.json\n"
                       "node_key = node.key          ; beside this file\n"
                       "data_dir = /var/lib/nanum\n"
                       "\n"
                       "[p2p]\n"
                       "listen = 0.0.0.0:7700\n"
                       "peers = 203.0.113.10:7700, 203.0.113.11:7700\n"
                       "peers = [2001:db8::12]:7700\n"
                       "\n"
                       "[api]\n"
                       "listen = 127.0.0.1:8700\n";
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    if (parse(text, &c, err) != 0)
        fail_msg("%s", err);
    assert_string_equal(c.node_key, BASE "/node.key");
    assert_int_equal(c.peer_count, 3);
    assert_string_equal(c.peers[2].host, "2001:db8::12");
}

static void indented_peers_line_continues_the_list(void **state)
{
    (void)state;
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    if (parse(REQUIRED "[p2p]\npeers = 10.0.0.1:1,\n  10.0.0.2:1\nlisten = 1.2.3.4:5\n", &c,
              err) != 0)
        fail_msg("%s", err);
    assert_int_equal(c.peer_count, 2);
    assert_string_equal(c.peers[1].host, "10.0.0.2");
}

static void load_errors_name_the_path(void **state)
{
    (void)state;
    char dir[PATH_MAX], path[PATH_MAX + 16];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/nanumd.ini", dir);
    struct node_config c;
    char err[NODE_CONFIG_ERROR_BYTES_MAX];
    assert_int_equal(node_config_load(path, &c, err, sizeof err), NODE_CONFIG_E_IO);
    assert_contains(err, "cannot open");
    write_file(path, "[p2p]\nlisten = 1.2.3.4:5\nlistn = 1\n");
    assert_int_equal(node_config_load(path, &c, err, sizeof err), NODE_CONFIG_E_UNKNOWN);
    char expected[PATH_MAX + 64];
    snprintf(expected, sizeof expected, "%s:3: unknown key 'listn' in [p2p]", path);
    assert_string_equal(err, expected);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_documented_values),
        cmocka_unit_test(minimal_file_takes_every_default_and_resolves_data_dir),
        cmocka_unit_test(every_key_is_parsed),
        cmocka_unit_test(unknown_key_error_names_file_line_key_and_section),
        cmocka_unit_test(unknown_section_error_names_its_header_line_even_when_empty),
        cmocka_unit_test(line_that_is_not_a_key_or_section_is_a_syntax_error_on_its_line),
        cmocka_unit_test(port_zero_and_ports_over_65535_are_rejected),
        cmocka_unit_test(role_other_than_validator_or_watcher_is_rejected),
        cmocka_unit_test(boolean_must_be_true_false_yes_no_1_or_0),
        cmocka_unit_test(malformed_host_port_is_rejected_with_the_reason),
        cmocka_unit_test(more_than_64_peers_are_rejected),
        cmocka_unit_test(numbers_and_sizes_are_checked_against_their_ranges),
        cmocka_unit_test(required_keys_duplicates_and_combinations_are_checked),
        cmocka_unit_test(over_long_line_is_rejected_instead_of_being_split),
        cmocka_unit_test(relative_paths_resolve_against_the_config_files_directory),
        cmocka_unit_test(example_of_spec_config_md_parses),
        cmocka_unit_test(indented_peers_line_continues_the_list),
        cmocka_unit_test(load_errors_name_the_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
