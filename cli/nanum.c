/*
 * nanum.c — the members' wallet: entry point and subcommand table.
 *
 * Today it answers --help and --version; the wallet commands are built by the
 * wallet issue and are not here yet.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: nanum COMMAND [ARGS]   (wallet commands not built yet)\n"
          "       nanum --help | --version\n", out);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        puts("nanum " NANUM_VERSION);
        return 0;
    }
    usage(stderr);
    return 64;
}
