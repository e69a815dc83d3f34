/*
 * nanumd.c — the nanum daemon's entry point: a table of subcommands.
 *
 * Today it answers --help and --version; the validator node itself (config,
 * herder, overlay, HTTP API) is built by the node issue and is not here yet.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: nanumd --config FILE      run a node (not built yet)\n"
          "       nanumd --help | --version\n", out);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        puts("nanumd " NANUM_VERSION);
        return 0;
    }
    usage(stderr);
    fputs("nanumd: the validator node is not built yet (see issue: nanumd)\n", stderr);
    return 64;
}
