/*
 * nanumd.c — the nanum daemon's entry point: a table of subcommands, one
 * function each (wireguard-tools style).
 *
 * Running a node is node/daemon/daemon.c; the offline commands are here or in the
 * file their table entry names.
 */
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "check_quorum.h"
#include "daemon.h"
#include "info.h"
#include "keys.h"
#include "testnet.h"
#include "validator_list.h"

#define EXIT_USAGE 64
#define EXIT_DATA 65 /* the data checked is bad */

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
    const char *help;
};

static void print_progress(void *ctx, uint64_t height)
{
    (void)ctx;
    fprintf(stderr, "verify-db: checked up to ledger %llu\n", (unsigned long long)height);
}

/* nanumd verify-db DIR: the read-only integrity check of a node's store. */
static int command_verify_db(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: nanumd verify-db DIR\n", stderr);
        return EXIT_USAGE;
    }
    uint64_t checked, bad;
    char err[512];
    int rc = ledger_chain_verify(argv[1], NULL, &checked, &bad, err, sizeof err, print_progress, NULL);
    if (rc == 0) {
        printf("ok: %llu ledgers checked (heights, hash chain, transaction roots, results)\n",
               (unsigned long long)checked);
        return 0;
    }
    fprintf(stderr, "verify-db: %s\n", err);
    if (rc == LEDGER_E_CHAIN)
        fprintf(stderr, "verify-db: the first bad ledger is %llu; %llu before it are good\n",
                (unsigned long long)bad, (unsigned long long)checked);
    return rc == LEDGER_E_CHAIN ? EXIT_DATA : 1;
}

/* nanumd genesis-id FILE: validates a genesis file and prints its network id. */
static int command_genesis_id(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: nanumd genesis-id FILE\n", stderr);
        return EXIT_USAGE;
    }
    struct node_genesis g;
    char err[512];
    if (node_genesis_load(argv[1], &g, err, sizeof err) != 0) {
        fprintf(stderr, "genesis-id: %s: %s\n", argv[1], err);
        return EXIT_DATA;
    }
    char hex[2 * NODE_HASH_BYTES + 1];
    node_hex_encode(g.network_id, NODE_HASH_BYTES, hex);
    printf("%s\n", hex);
    node_genesis_free(&g);
    return 0;
}

static const struct command commands[] = {
    {"verify-db", command_verify_db, "verify-db DIR", "check a data directory's ledger chain"},
    {"genesis-id", command_genesis_id, "genesis-id FILE", "validate a genesis file, print its network id"},
    {"--config", nanumd_run_main, "--config FILE", "run a node until SIGINT or SIGTERM"},
    {"keygen", nanumd_keygen_main, "keygen --out FILE [--force]", "write a new node key"},
    {"testnet", nanumd_testnet_main, "testnet --validators N [--watchers W] --dir DIR --base-port P",
     "write a local test network's genesis, keys and configs"},
    {"check-quorum", nanumd_check_quorum, "check-quorum FILE", "do all quorums of a network intersect?"},
    {"info", nanumd_info_main, "info --config FILE", "a node's identity, network, height, peers, quorum health"},
    {"validator-list", nanumd_vlist_main,
     "validator-list sign --key FILE --genesis FILE --sequence N --expires TIME --validators FILE [--out FILE]",
     "sign the cooperative's validator list (also: validator-list verify --publisher ADDRESS --genesis FILE DOC)"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: nanumd COMMAND [ARGS]\n\ncommands:\n", out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  nanumd %-24s\n      %s\n", commands[i].usage, commands[i].help);
    fputs("  nanumd --help | --version\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("nanumd " NANUM_VERSION);
        return 0;
    }
    if (node_crypto_init() != 0) {
        fputs("nanumd: libsodium failed to start\n", stderr);
        return 1;
    }
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "nanumd: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return EXIT_USAGE;
}
