/*
 * helpers.h — shared by the tests of node/daemon/config.c, node/daemon/keys.c and
 * node/daemon/testnet.c: a temporary directory per test (removed afterwards), file
 * writing, and an assertion that a message contains a phrase, which prints
 * both when it fails.
 */
#ifndef NANUM_TESTS_CONFIG_HELPERS_H
#define NANUM_TESTS_CONFIG_HELPERS_H

#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define assert_contains(haystack, needle)                                                  \
    do {                                                                                   \
        const char *h_ = (haystack), *n_ = (needle);                                       \
        if (h_ == NULL || strstr(h_, n_) == NULL)                                          \
            fail_msg("expected \"%s\" to contain \"%s\"", h_ ? h_ : "(null)", n_);         \
    } while (0)

/* Makes a fresh directory under $TMPDIR (or /tmp) into out (PATH_MAX). */
static inline void make_temp_dir(char *out)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, PATH_MAX, "%s/nanum-config-test-XXXXXX", base != NULL ? base : "/tmp");
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        abort();
    }
    /* mkdtemp's result may hold a symlink (e.g. /tmp); resolve it so tests can
     * compare with the absolute paths the loaders store. */
    char resolved[PATH_MAX];
    if (realpath(out, resolved) != NULL)
        snprintf(out, PATH_MAX, "%s", resolved);
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything in it. */
static inline void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text to path (mode 0644), aborting on failure. */
static inline void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Reads up to size - 1 bytes of path into out, NUL-ended; returns the length. */
static inline size_t read_file_text(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        out[0] = '\0';
        return 0;
    }
    size_t n = fread(out, 1, size - 1, f);
    fclose(f);
    out[n] = '\0';
    return n;
}

/* Runs a command's main function with argv, capturing its stdout into out
 * (a scratch file in scratch_dir holds it meanwhile), so nothing it prints
 * reaches the TAP stream.  Returns the command's exit code. */
static inline int run_captured(int (*command)(int, char **), int argc, char **argv,
                               const char *scratch_dir, char *out, size_t out_size)
{
    char capture[PATH_MAX + 32];
    snprintf(capture, sizeof capture, "%s/stdout.txt", scratch_dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0) {
        perror("capturing stdout");
        abort();
    }
    close(fd);
    int rc = command(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    read_file_text(capture, out, out_size);
    unlink(capture);
    return rc;
}

#endif
