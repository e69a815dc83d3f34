/*
 * test_check_quorum.c — `nanumd check-quorum FILE` (node/daemon/check_quorum.c)
 * on the JSON fixtures in fixtures/: both input formats, both verdicts, the
 * report of nodes without quorum sets, and each kind of bad input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "check_quorum.h"

#define OUTPUT_BYTES_MAX 65536

static char output[OUTPUT_BYTES_MAX];

/* Runs the subcommand on fixtures/NAME with stdout and stderr captured
 * into `output`; returns its exit code. */
static int run(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FIXTURES_DIR, name);
    char *argv[] = {"check-quorum", path, NULL};
    fflush(stdout);
    fflush(stderr);
    FILE *capture = tmpfile();
    assert_non_null(capture);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(capture), 1);
    dup2(fileno(capture), 2);
    int rc = nanumd_check_quorum(2, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    rewind(capture);
    size_t n = fread(output, 1, sizeof output - 1, capture);
    output[n] = 0;
    fclose(capture);
    return rc;
}

static void assert_output_has(const char *text)
{
    if (strstr(output, text) == NULL)
        fail_msg("output lacks \"%s\":\n%s", text, output);
}

static void core_format_network_that_intersects_exits_zero(void **state)
{
    (void)state;
    assert_int_equal(run("core-intersecting.json"), NANUMD_CHECK_QUORUM_INTERSECTS);
    assert_output_has("verdict: every two quorums intersect");
    assert_output_has("listed without a quorum set: watcher");
}

static void core_format_split_network_exits_one_and_names_two_disjoint_quorums(void **state)
{
    (void)state;
    assert_int_equal(run("core-split.json"), NANUMD_CHECK_QUORUM_SPLIT);
    assert_output_has("NO quorum intersection");
    assert_output_has("quorum 1: ");
    assert_output_has("quorum 2: ");
}

static void stellarbeat_tiered_network_of_112_nodes_is_decided_quickly(void **state)
{
    (void)state;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(run("stellarbeat-tiered-intersecting.json"), NANUMD_CHECK_QUORUM_INTERSECTS);
    assert_output_has("listed without a quorum set: idle0, idle1, empty-qset");
    assert_int_equal(run("stellarbeat-tiered-split.json"), NANUMD_CHECK_QUORUM_SPLIT);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    assert_true(seconds < 10.0);
}

static void referenced_but_unlisted_nodes_are_reported_not_fatal(void **state)
{
    (void)state;
    assert_int_equal(run("stellarbeat-small.json"), NANUMD_CHECK_QUORUM_INTERSECTS);
    assert_output_has("referenced but not listed (no quorum set): ghost");
    assert_output_has("listed without a quorum set: lonely");
}

static void bad_inputs_exit_two_with_a_message_naming_the_problem(void **state)
{
    (void)state;
    assert_int_equal(run("bad-syntax.json"), NANUMD_CHECK_QUORUM_BAD_INPUT);
    assert_output_has("bad-syntax.json:");
    assert_int_equal(run("bad-shape.json"), NANUMD_CHECK_QUORUM_BAD_INPUT);
    assert_output_has("expected {\"nodes\"");
    assert_int_equal(run("core-bad-threshold.json"), NANUMD_CHECK_QUORUM_BAD_INPUT);
    assert_output_has("node a: quorum set threshold");
    assert_int_equal(run("core-too-deep.json"), NANUMD_CHECK_QUORUM_BAD_INPUT);
    assert_output_has("node a: quorum set nested deeper");
    assert_int_equal(run("does-not-exist.json"), NANUMD_CHECK_QUORUM_BAD_INPUT);
    char *argv[] = {"check-quorum", NULL};
    assert_int_equal(nanumd_check_quorum(1, argv), NANUMD_CHECK_QUORUM_BAD_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(core_format_network_that_intersects_exits_zero),
        cmocka_unit_test(core_format_split_network_exits_one_and_names_two_disjoint_quorums),
        cmocka_unit_test(stellarbeat_tiered_network_of_112_nodes_is_decided_quickly),
        cmocka_unit_test(referenced_but_unlisted_nodes_are_reported_not_fatal),
        cmocka_unit_test(bad_inputs_exit_two_with_a_message_naming_the_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
