/*
 * testnet.h — `nanumd testnet`: writes everything a local test network needs
 * into one directory: a genesis file, one directory per node (key, config,
 * empty data directory), plain demo wallet keys and a machine-readable
 * summary (testnet.json) for scripts and tests.  The layout is described in
 * spec/config.md ("nanumd testnet").
 *
 * Errors are negative NODE_TESTNET_E_* codes with a sentence in err; the
 * library part (node_testnet_create) never prints or exits.
 *
 * Read next: node/daemon/testnet.c, node/daemon/config.h, node/daemon/keys.h.
 */
#ifndef NANUM_NODE_TESTNET_H
#define NANUM_NODE_TESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_TESTNET_ERRORS(X)                                                          \
    X(NODE_TESTNET_E_INVALID, -1, "invalid testnet options")                            \
    X(NODE_TESTNET_E_EXISTS, -2, "the directory already holds files")                   \
    X(NODE_TESTNET_E_IO, -3, "cannot create a file or directory")                       \
    X(NODE_TESTNET_E_GENESIS, -4, "the genesis written does not read back")             \
    X(NODE_TESTNET_E_NOMEM, -5, "out of memory")                                        \
    X(NODE_TESTNET_E_CRYPTO, -6, "libsodium failed")

enum node_testnet_error {
#define NODE_TESTNET_ERROR_ENUM(name, value, message) name = value,
    NODE_TESTNET_ERRORS(NODE_TESTNET_ERROR_ENUM)
#undef NODE_TESTNET_ERROR_ENUM
};

/* Returns a sentence describing code (never NULL). */
const char *node_testnet_strerror(int code);

/* Limits.  Every validator peers with every other, so validators - 1 must fit
 * in [p2p] peers (NODE_CONFIG_PEERS_MAX). */
#define NODE_TESTNET_VALIDATORS_MAX 64
#define NODE_TESTNET_WATCHERS_MAX 64
#define NODE_TESTNET_NETWORK "nanum-testnet"
#define NODE_TESTNET_COMPLETE_GRACE_S 3600

struct node_testnet_options {
    uint32_t validators;  /* 1..NODE_TESTNET_VALIDATORS_MAX */
    uint32_t watchers;    /* 0..NODE_TESTNET_WATCHERS_MAX */
    const char *dir;      /* created if missing */
    uint32_t base_port;   /* node K listens on base + 2K (p2p) and base + 2K + 1 (API) */
    uint64_t close_time;  /* the genesis close time, unix seconds; 0: now, to the minute */
    bool force;           /* write over an earlier testnet in dir */
};

/*
 * Writes the testnet described by options.  Without force, dir must be missing
 * or empty.  With force, files are replaced, but a node's data directory that
 * is not empty is never deleted: that is an error, so no ledger is lost by a
 * mistyped command.  genesis.json is written last, so a run that fails midway
 * leaves no directory that looks complete.  OUT: network_id (32 bytes, may be
 * NULL).  Returns 0 or a negative NODE_TESTNET_E_* code with a sentence in err.
 */
int node_testnet_create(const struct node_testnet_options *options, uint8_t *network_id,
                        char *err, size_t err_len);

/* `nanumd testnet --validators N [--watchers W] --dir DIR --base-port P
 * [--close-time UNIX] [--force]` (argv[0] is "testnet").  Exit codes: 0 ok,
 * 64 usage, 1 other. */
int nanumd_testnet_main(int argc, char **argv);

#endif
