/*
 * testnet.c — `nanumd testnet`: a local network in one directory, like the
 * testnet commands of other consensus engines (spec/config.md, "nanumd
 * testnet").
 *
 * The steps, in order: check the directory; make every key in memory (node
 * keys, one org account per validator, the demo wallets); build the genesis
 * document and read it back with node_genesis_parse, so a testnet is never
 * written around a genesis the daemon would refuse; then write the node
 * directories, the wallets and testnet.json; genesis.json goes last, so a run
 * that fails midway leaves no directory that looks complete.
 *
 * Ports: node K (1-based) listens on base + 2K for peers and base + 2K + 1 for
 * its API, so each node's pair is easy to find and no two nodes share one.
 *
 * Read next: node/daemon/keys.c (key files), node/daemon/config.c (what reads nanumd.ini).
 */
#include "testnet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "keys.h"
#include "protocol.h"

#define EXIT_USAGE 64
#define IDENTITY_NAME_BYTES_MAX 15

const char *node_testnet_strerror(int code)
{
    switch (code) {
    case 0:
        return "success";
#define NODE_TESTNET_ERROR_MESSAGE(name, value, message) \
    case name:                                           \
        return message;
        NODE_TESTNET_ERRORS(NODE_TESTNET_ERROR_MESSAGE)
#undef NODE_TESTNET_ERROR_MESSAGE
    }
    return "unknown error";
}

#define fail node_fail /* node/protocol/util.c */

/* --- The plan: every key and name, made before anything is written -------- */

struct identity {
    char name[IDENTITY_NAME_BYTES_MAX + 1];
    uint8_t seed[NODE_KEY_SEED_BYTES]; /* secret */
    uint8_t public_key[NODE_KEY_BYTES];
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
};

/* The demo wallets of every testnet (balances in minor units). */
static const struct {
    const char *name;
    uint64_t balance;
    uint32_t flags;
} demo_wallets[] = {
    {"operator", 5000000, NODE_ACCOUNT_MEMBER}, /* a car-share operator */
    {"alice", 100000, NODE_ACCOUNT_MEMBER},
    {"bob", 100000, NODE_ACCOUNT_MEMBER},
    {"carol", 100000, NODE_ACCOUNT_MEMBER},
    {"dave", 100000, NODE_ACCOUNT_MEMBER},
    {"erin", 50000, 0}, /* holds credits but has no role */
};
#define DEMO_WALLET_COUNT (sizeof demo_wallets / sizeof demo_wallets[0])
#define ORG_BALANCE 1000000 /* 10,000.00 per co-op */

struct plan {
    const struct node_testnet_options *options;
    uint64_t close_time;
    uint32_t node_count;                  /* validators + watchers */
    struct identity *nodes;               /* node_count; nodes[k - 1] is node k */
    struct identity *orgs;                /* options->validators; orgs[k - 1] runs node k */
    struct identity demo[DEMO_WALLET_COUNT];
    uint8_t network_id[NODE_HASH_BYTES];
    char *genesis_text;                   /* owned */
};

/* Makes a fresh random key pair named name into id. */
static int make_identity(struct identity *id, const char *name)
{
    uint8_t secret_key[NODE_SECRET_KEY_BYTES];
    snprintf(id->name, sizeof id->name, "%s", name);
    randombytes_buf(id->seed, sizeof id->seed);
    int rc = crypto_sign_seed_keypair(id->public_key, secret_key, id->seed);
    sodium_memzero(secret_key, sizeof secret_key);
    node_address_encode(id->public_key, id->address);
    return rc == 0 ? 0 : NODE_TESTNET_E_CRYPTO;
}

/* Node k's ports (see the file comment) and role: the first N nodes vote. */
static uint16_t p2p_port(const struct plan *p, uint32_t k)
{
    return (uint16_t)(p->options->base_port + 2 * k);
}

static uint16_t api_port(const struct plan *p, uint32_t k)
{
    return (uint16_t)(p->options->base_port + 2 * k + 1);
}

static bool is_validator(const struct plan *p, uint32_t k)
{
    return k <= p->options->validators;
}

/* Allocates and fills every identity.  Returns 0 or a NODE_TESTNET_E_* code. */
static int plan_keys(struct plan *p)
{
    uint32_t validators = p->options->validators;
    p->node_count = validators + p->options->watchers;
    p->nodes = calloc(p->node_count, sizeof *p->nodes);
    p->orgs = calloc(validators, sizeof *p->orgs);
    if (p->nodes == NULL || p->orgs == NULL)
        return NODE_TESTNET_E_NOMEM;
    char name[IDENTITY_NAME_BYTES_MAX + 1];
    int rc = 0;
    for (uint32_t k = 1; k <= p->node_count && rc == 0; k++) {
        snprintf(name, sizeof name, "node%u", k);
        rc = make_identity(&p->nodes[k - 1], name);
    }
    for (uint32_t k = 1; k <= validators && rc == 0; k++) {
        snprintf(name, sizeof name, "coop%u", k);
        rc = make_identity(&p->orgs[k - 1], name);
    }
    for (size_t i = 0; i < DEMO_WALLET_COUNT && rc == 0; i++)
        rc = make_identity(&p->demo[i], demo_wallets[i].name);
    return rc;
}

/* Wipes every seed and frees what the plan owns. */
static void plan_free(struct plan *p)
{
    if (p->nodes != NULL)
        sodium_memzero(p->nodes, p->node_count * sizeof *p->nodes);
    if (p->orgs != NULL)
        sodium_memzero(p->orgs, p->options->validators * sizeof *p->orgs);
    sodium_memzero(p->demo, sizeof p->demo);
    free(p->nodes);
    free(p->orgs);
    free(p->genesis_text);
}

/* --- genesis.json ----------------------------------------------------------- */

/* The genesis "roles" array of an account with flags. */
static json_t *roles_json(uint32_t flags)
{
    json_t *roles = json_array();
    if (flags & NODE_ACCOUNT_ORG)
        json_array_append_new(roles, json_string("org"));
    if (flags & NODE_ACCOUNT_MEMBER)
        json_array_append_new(roles, json_string("member"));
    return roles;
}

/* One genesis account; org_name is given for orgs only (their name is required). */
static json_t *account_json(const struct identity *id, uint64_t balance, uint32_t flags,
                            const char *org_name)
{
    char amount[NODE_AMOUNT_TEXT_BYTES_MAX];
    node_amount_format(balance, amount);
    json_t *a = json_object();
    json_object_set_new(a, "address", json_string(id->address));
    json_object_set_new(a, "balance", json_string(amount));
    json_object_set_new(a, "roles", roles_json(flags));
    if (org_name != NULL)
        json_object_set_new(a, "name", json_string(org_name));
    return a;
}

/* Builds the genesis document (only public keys appear in it). */
static json_t *genesis_json(const struct plan *p)
{
    json_t *accounts = json_array(), *validators = json_array();
    char org_name[32], endpoint[NODE_CONFIG_ENDPOINT_TEXT_BYTES_MAX];
    for (uint32_t k = 1; k <= p->options->validators; k++) {
        snprintf(org_name, sizeof org_name, "Co-op %u", k);
        json_array_append_new(accounts, account_json(&p->orgs[k - 1], ORG_BALANCE,
                                                     NODE_ACCOUNT_ORG | NODE_ACCOUNT_MEMBER,
                                                     org_name));
        snprintf(endpoint, sizeof endpoint, "127.0.0.1:%u", (unsigned)p2p_port(p, k));
        json_t *v = json_object();
        json_object_set_new(v, "node_key", json_string(p->nodes[k - 1].address));
        json_object_set_new(v, "org", json_string(p->orgs[k - 1].address));
        json_object_set_new(v, "address", json_string(endpoint));
        json_array_append_new(validators, v);
    }
    for (size_t i = 0; i < DEMO_WALLET_COUNT; i++)
        json_array_append_new(accounts, account_json(&p->demo[i], demo_wallets[i].balance,
                                                     demo_wallets[i].flags, NULL));
    json_t *params = json_object();
    json_object_set_new(params, "complete_grace_s", json_integer(NODE_TESTNET_COMPLETE_GRACE_S));
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "network", json_string(NODE_TESTNET_NETWORK));
    json_object_set_new(root, "close_time", json_integer((json_int_t)p->close_time));
    json_object_set_new(root, "params", params);
    json_object_set_new(root, "accounts", accounts);
    json_object_set_new(root, "validators", validators);
    return root;
}

/* Builds genesis.json's text and reads it back as nanumd will, which also
 * yields the network id. */
static int plan_genesis(struct plan *p, char *err, size_t err_len)
{
    json_t *root = genesis_json(p);
    p->genesis_text = root != NULL ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (p->genesis_text == NULL)
        return fail(NODE_TESTNET_E_NOMEM, err, err_len, "out of memory building genesis.json");
    struct node_genesis g;
    char why[512];
    int rc = node_genesis_parse(p->genesis_text, strlen(p->genesis_text), &g, why, sizeof why);
    if (rc != 0)
        return fail(NODE_TESTNET_E_GENESIS, err, err_len,
                    "the genesis built does not read back: %s", why);
    bool complete = g.validators.count == p->options->validators &&
                    g.account_count == p->options->validators + DEMO_WALLET_COUNT;
    memcpy(p->network_id, g.network_id, NODE_HASH_BYTES);
    node_genesis_free(&g);
    if (!complete)
        return fail(NODE_TESTNET_E_GENESIS, err, err_len,
                    "the genesis built reads back with other counts of accounts or validators");
    return 0;
}

/* --- Files and directories -------------------------------------------------- */

/* Formats a path under dir into out (PATH_MAX); false if it does not fit. */
static bool join_path(char *out, const char *dir, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool join_path(char *out, const char *dir, const char *fmt, ...)
{
    int n = snprintf(out, PATH_MAX, "%s/", dir);
    if (n < 0 || n >= PATH_MAX)
        return false;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(out + n, (size_t)(PATH_MAX - n), fmt, ap);
    va_end(ap);
    return m >= 0 && m < PATH_MAX - n;
}

/* Writes all of text to fd; false (errno set) on failure. */
static bool write_all(int fd, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        text += n;
        len -= (size_t)n;
    }
    return true;
}

/* Writes text to path atomically (temporary file, fsync, rename), mode mode. */
static int write_text_file(const char *path, const char *text, mode_t mode, char *err,
                           size_t err_len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return fail(NODE_TESTNET_E_IO, err, err_len, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return fail(NODE_TESTNET_E_IO, err, err_len, "cannot create a file beside %s: %s", path,
                    strerror(errno));
    int problem = 0;
    if (fchmod(fd, mode) != 0 || !write_all(fd, text, strlen(text)) || fsync(fd) != 0)
        problem = errno;
    if (close(fd) != 0 && problem == 0)
        problem = errno;
    if (problem == 0 && rename(tmp, path) != 0)
        problem = errno;
    if (problem == 0)
        return 0;
    unlink(tmp);
    return fail(NODE_TESTNET_E_IO, err, err_len, "cannot write %s: %s", path, strerror(problem));
}

/* Creates dir with mode, or accepts it if it is already a directory. */
static int make_dir(const char *dir, mode_t mode, char *err, size_t err_len)
{
    struct stat st;
    if (mkdir(dir, mode) == 0 || (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
        return 0;
    return fail(NODE_TESTNET_E_IO, err, err_len, "cannot create the directory %s: %s", dir,
                strerror(errno == 0 ? EEXIST : errno));
}

/* Creates dir and any missing parents (like mkdir -p). */
static int make_dirs(const char *dir, char *err, size_t err_len)
{
    char partial[PATH_MAX];
    if (snprintf(partial, sizeof partial, "%s", dir) >= (int)sizeof partial)
        return fail(NODE_TESTNET_E_INVALID, err, err_len, "%s: path too long", dir);
    for (char *p = partial + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = make_dir(partial, 0755, err, err_len);
        *p = '/';
        if (rc != 0)
            return rc;
    }
    return make_dir(partial, 0755, err, err_len);
}

/* 1 if dir has no entries, 0 if it has some, -1 if it cannot be read. */
static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int empty = 1;
    struct dirent *e;
    while (empty && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* Checks that dir may be written (see node_testnet_create) and creates it. */
static int prepare_dir(const char *dir, bool force, char *err, size_t err_len)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return make_dirs(dir, err, err_len);
    if (!S_ISDIR(st.st_mode))
        return fail(NODE_TESTNET_E_EXISTS, err, err_len, "%s exists and is not a directory", dir);
    if (force)
        return 0;
    char genesis[PATH_MAX];
    if (join_path(genesis, dir, "genesis.json") && stat(genesis, &st) == 0)
        return fail(NODE_TESTNET_E_EXISTS, err, err_len,
                    "%s already holds a testnet (genesis.json); use --force to write over it",
                    dir);
    int empty = dir_is_empty(dir);
    if (empty < 0)
        return fail(NODE_TESTNET_E_IO, err, err_len, "cannot read the directory %s: %s", dir,
                    strerror(errno));
    if (empty == 0)
        return fail(NODE_TESTNET_E_EXISTS, err, err_len,
                    "%s is not empty; choose an empty directory or use --force", dir);
    return 0;
}

/* --- Node directories --------------------------------------------------------- */

static void buf_printf(struct node_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends formatted text to b (b->failed records a lack of memory). */
static void buf_printf(struct node_buf *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        b->failed = true;
    else
        node_buf_append(b, line, (size_t)n);
}

/* Writes node k's nanumd.ini text into b; every line stays well under
 * NODE_CONFIG_LINE_BYTES_MAX (one peer per `peers =` line). */
static void node_ini_text(const struct plan *p, uint32_t k, struct node_buf *b)
{
    buf_printf(b, "; nanumd configuration of node%u of a local testnet, written by\n"
                  "; `nanumd testnet`.  Every key is described in spec/config.md.\n\n",
               k);
    buf_printf(b, "[node]\nrole = %s\ndata_dir = data\ngenesis = ../genesis.json\n"
                  "node_key = node.key\nlog_level = info\n\n",
               is_validator(p, k) ? "validator" : "watcher");
    buf_printf(b, "[p2p]\nlisten = 127.0.0.1:%u\n", (unsigned)p2p_port(p, k));
    for (uint32_t peer = 1; peer <= p->options->validators; peer++)
        if (peer != k)
            buf_printf(b, "peers = 127.0.0.1:%u\n", (unsigned)p2p_port(p, peer));
    buf_printf(b, "\n[api]\nlisten = 127.0.0.1:%u\n\n", (unsigned)api_port(p, k));
    buf_printf(b, "[storage]\nsync = true\n");
    node_buf_append(b, "", 1); /* the NUL, so the text is a C string */
}

/* Creates DIR/nodeK with its key, config and empty data directory. */
static int write_node_dir(const struct plan *p, uint32_t k, char *err, size_t err_len)
{
    const char *dir = p->options->dir;
    char node_dir[PATH_MAX], path[PATH_MAX];
    if (!join_path(node_dir, dir, "node%u", k))
        return fail(NODE_TESTNET_E_INVALID, err, err_len, "%s: path too long", dir);
    int rc = make_dir(node_dir, 0755, err, err_len);
    if (rc != 0)
        return rc;
    join_path(path, node_dir, "data");
    if ((rc = make_dir(path, 0700, err, err_len)) != 0)
        return rc;
    if (dir_is_empty(path) != 1)
        return fail(NODE_TESTNET_E_EXISTS, err, err_len,
                    "%s is not empty (a ledger of an earlier testnet?); delete it first", path);
    join_path(path, node_dir, "node.key");
    char why[512];
    rc = node_key_file_write(path, NODE_KEY_KIND_NODE, p->nodes[k - 1].seed, p->options->force,
                             why, sizeof why);
    if (rc != 0)
        return fail(rc == NODE_KEY_E_EXISTS ? NODE_TESTNET_E_EXISTS : NODE_TESTNET_E_IO, err,
                    err_len, "%s", why);
    struct node_buf ini;
    node_buf_init(&ini);
    node_ini_text(p, k, &ini);
    join_path(path, node_dir, "nanumd.ini");
    rc = ini.failed ? fail(NODE_TESTNET_E_NOMEM, err, err_len, "out of memory")
                    : write_text_file(path, (const char *)ini.data, 0644, err, err_len);
    node_buf_free(&ini);
    return rc;
}

/* --- Wallets -------------------------------------------------------------------- */

static const char wallets_readme[] =
    "These are the demo wallets of a local nanum testnet, written by `nanumd testnet`.\n"
    "\n"
    "Their keys are NOT encrypted: each NAME.key file holds the secret seed in plain\n"
    "hex (kind \"nanum-wallet-key-plain\"), so demos and tests can use them without a\n"
    "passphrase.  Never use these files, or this format, for credits that matter; the\n"
    "wallet's own keystore is encrypted with a passphrase.\n";

/* Writes DIR/wallets/NAME.key for one wallet identity. */
static int write_wallet(const struct plan *p, const struct identity *id, char *err,
                        size_t err_len)
{
    char path[PATH_MAX], why[512];
    if (!join_path(path, p->options->dir, "wallets/%s.key", id->name))
        return fail(NODE_TESTNET_E_INVALID, err, err_len, "%s: path too long", p->options->dir);
    int rc = node_key_file_write(path, NODE_KEY_KIND_WALLET_PLAIN, id->seed, p->options->force,
                                 why, sizeof why);
    if (rc != 0)
        return fail(rc == NODE_KEY_E_EXISTS ? NODE_TESTNET_E_EXISTS : NODE_TESTNET_E_IO, err,
                    err_len, "%s", why);
    return 0;
}

/* Writes DIR/wallets: one key file per co-op and demo wallet, and a README. */
static int write_wallets(const struct plan *p, char *err, size_t err_len)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if (!join_path(dir, p->options->dir, "wallets") || !join_path(path, dir, "README.txt"))
        return fail(NODE_TESTNET_E_INVALID, err, err_len, "%s: path too long", p->options->dir);
    int rc = make_dir(dir, 0700, err, err_len);
    for (uint32_t k = 1; k <= p->options->validators && rc == 0; k++)
        rc = write_wallet(p, &p->orgs[k - 1], err, err_len);
    for (size_t i = 0; i < DEMO_WALLET_COUNT && rc == 0; i++)
        rc = write_wallet(p, &p->demo[i], err, err_len);
    if (rc == 0)
        rc = write_text_file(path, wallets_readme, 0644, err, err_len);
    return rc;
}

/* --- testnet.json ------------------------------------------------------------------ */

/* testnet.json's entry for node k. */
static json_t *node_summary(const struct plan *p, uint32_t k)
{
    char text[64];
    json_t *n = json_object();
    json_object_set_new(n, "name", json_string(p->nodes[k - 1].name));
    json_object_set_new(n, "public", json_string(p->nodes[k - 1].address));
    snprintf(text, sizeof text, "127.0.0.1:%u", (unsigned)p2p_port(p, k));
    json_object_set_new(n, "p2p", json_string(text));
    snprintf(text, sizeof text, "http://127.0.0.1:%u", (unsigned)api_port(p, k));
    json_object_set_new(n, "api", json_string(text));
    snprintf(text, sizeof text, "node%u/nanumd.ini", k);
    json_object_set_new(n, "config", json_string(text));
    if (is_validator(p, k))
        json_object_set_new(n, "org", json_string(p->orgs[k - 1].name));
    return n;
}

/* testnet.json's entry for one wallet. */
static json_t *wallet_summary(const struct identity *id, uint64_t balance, uint32_t flags)
{
    char amount[NODE_AMOUNT_TEXT_BYTES_MAX], key[64];
    node_amount_format(balance, amount);
    snprintf(key, sizeof key, "wallets/%s.key", id->name);
    json_t *w = json_object();
    json_object_set_new(w, "name", json_string(id->name));
    json_object_set_new(w, "address", json_string(id->address));
    json_object_set_new(w, "key", json_string(key));
    json_object_set_new(w, "balance", json_string(amount));
    json_object_set_new(w, "roles", roles_json(flags));
    return w;
}

/* Builds the summary that scripts and tests read (no secrets in it). */
static json_t *testnet_summary(const struct plan *p)
{
    char hex[2 * NODE_HASH_BYTES + 1];
    node_hex_encode(p->network_id, NODE_HASH_BYTES, hex);
    json_t *validators = json_array(), *watchers = json_array(), *wallets = json_array();
    for (uint32_t k = 1; k <= p->node_count; k++)
        json_array_append_new(is_validator(p, k) ? validators : watchers, node_summary(p, k));
    for (uint32_t k = 1; k <= p->options->validators; k++)
        json_array_append_new(wallets, wallet_summary(&p->orgs[k - 1], ORG_BALANCE,
                                                      NODE_ACCOUNT_ORG | NODE_ACCOUNT_MEMBER));
    for (size_t i = 0; i < DEMO_WALLET_COUNT; i++)
        json_array_append_new(wallets, wallet_summary(&p->demo[i], demo_wallets[i].balance,
                                                      demo_wallets[i].flags));
    json_t *root = json_object();
    json_object_set_new(root, "network", json_string(NODE_TESTNET_NETWORK));
    json_object_set_new(root, "network_id", json_string(hex));
    json_object_set_new(root, "close_time", json_integer((json_int_t)p->close_time));
    json_object_set_new(root, "genesis", json_string("genesis.json"));
    json_object_set_new(root, "validators", validators);
    json_object_set_new(root, "watchers", watchers);
    json_object_set_new(root, "wallets", wallets);
    return root;
}

/* Writes a JSON document (consumed: root is freed) to path. */
static int write_json_file(const char *path, json_t *root, char *err, size_t err_len)
{
    char *text = root != NULL ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (text == NULL)
        return fail(NODE_TESTNET_E_NOMEM, err, err_len, "out of memory writing %s", path);
    size_t len = strlen(text);
    char *with_newline = realloc(text, len + 2);
    if (with_newline == NULL) {
        free(text);
        return fail(NODE_TESTNET_E_NOMEM, err, err_len, "out of memory writing %s", path);
    }
    memcpy(with_newline + len, "\n", 2);
    int rc = write_text_file(path, with_newline, 0644, err, err_len);
    free(with_newline);
    return rc;
}

/* --- The whole testnet ------------------------------------------------------------ */

/* Checks counts, the directory and that every port fits below 65536. */
static int check_options(const struct node_testnet_options *o, char *err, size_t err_len)
{
    if (o->dir == NULL || o->dir[0] == '\0')
        return fail(NODE_TESTNET_E_INVALID, err, err_len, "a directory is required");
    if (o->validators < 1 || o->validators > NODE_TESTNET_VALIDATORS_MAX)
        return fail(NODE_TESTNET_E_INVALID, err, err_len,
                    "the number of validators must be from 1 to %d", NODE_TESTNET_VALIDATORS_MAX);
    if (o->watchers > NODE_TESTNET_WATCHERS_MAX)
        return fail(NODE_TESTNET_E_INVALID, err, err_len,
                    "the number of watchers must be from 0 to %d", NODE_TESTNET_WATCHERS_MAX);
    uint64_t last_port = (uint64_t)o->base_port + 2u * (o->validators + o->watchers) + 1;
    if (o->base_port < 1 || last_port > 65535)
        return fail(NODE_TESTNET_E_INVALID, err, err_len,
                    "the base port must be at least 1 and leave room for %u ports below 65536 "
                    "(the last would be %llu)",
                    2u * (o->validators + o->watchers), (unsigned long long)last_port);
    return 0;
}

/* Writes every file of the plan; genesis.json last (see the file comment). */
static int write_plan(const struct plan *p, char *err, size_t err_len)
{
    char path[PATH_MAX];
    int rc = 0;
    for (uint32_t k = 1; k <= p->node_count && rc == 0; k++)
        rc = write_node_dir(p, k, err, err_len);
    if (rc == 0)
        rc = write_wallets(p, err, err_len);
    if (rc == 0 && !join_path(path, p->options->dir, "testnet.json"))
        rc = fail(NODE_TESTNET_E_INVALID, err, err_len, "%s: path too long", p->options->dir);
    if (rc == 0)
        rc = write_json_file(path, testnet_summary(p), err, err_len);
    if (rc == 0 && !join_path(path, p->options->dir, "genesis.json"))
        rc = fail(NODE_TESTNET_E_INVALID, err, err_len, "%s: path too long", p->options->dir);
    if (rc == 0)
        rc = write_text_file(path, p->genesis_text, 0644, err, err_len);
    return rc;
}

int node_testnet_create(const struct node_testnet_options *options, uint8_t *network_id,
                        char *err, size_t err_len)
{
    int rc = check_options(options, err, err_len);
    if (rc != 0)
        return rc;
    if (node_crypto_init() != 0)
        return fail(NODE_TESTNET_E_CRYPTO, err, err_len, "libsodium failed to start");
    struct plan p = {.options = options, .close_time = options->close_time};
    if (p.close_time == 0)
        p.close_time = (uint64_t)time(NULL) / 60 * 60;
    rc = prepare_dir(options->dir, options->force, err, err_len);
    if (rc == 0 && (rc = plan_keys(&p)) != 0)
        fail(rc, err, err_len, "%s", node_testnet_strerror(rc));
    if (rc == 0)
        rc = plan_genesis(&p, err, err_len);
    if (rc == 0)
        rc = write_plan(&p, err, err_len);
    if (rc == 0 && network_id != NULL)
        memcpy(network_id, p.network_id, NODE_HASH_BYTES);
    plan_free(&p);
    return rc;
}

/* --- nanumd testnet --------------------------------------------------------------- */

/* Prints the command's usage to out. */
static void testnet_usage(FILE *out)
{
    fprintf(out,
            "usage: nanumd testnet --validators N [--watchers W] --dir DIR --base-port P\n"
            "                      [--close-time UNIX] [--force]\n"
            "  writes DIR/genesis.json, DIR/nodeK/{node.key,nanumd.ini,data/} for K = 1..N+W,\n"
            "  DIR/wallets/ (plain demo keys) and DIR/testnet.json.  Node K listens on\n"
            "  127.0.0.1:P+2K (peers) and 127.0.0.1:P+2K+1 (API).  N is 1..%d, W is 0..%d.\n"
            "  --close-time sets the genesis close time (default: now, to the minute);\n"
            "  --force writes over an earlier testnet in DIR.\n",
            NODE_TESTNET_VALIDATORS_MAX, NODE_TESTNET_WATCHERS_MAX);
}

/* Parses a decimal number no greater than max; false for anything else. */
static bool parse_number(const char *text, uint64_t max, uint64_t *out)
{
    size_t len = strlen(text);
    if (len == 0 || len > 19 || strspn(text, "0123456789") != len)
        return false;
    *out = strtoull(text, NULL, 10);
    return *out <= max;
}

/* Parses value as a number in [min, max] for option name; prints why not. */
static bool option_number(const char *name, const char *value, uint64_t min, uint64_t max,
                          uint64_t *out)
{
    if (parse_number(value, max, out) && *out >= min)
        return true;
    fprintf(stderr, "testnet: %s: '%s' must be a number from %llu to %llu\n", name, value,
            (unsigned long long)min, (unsigned long long)max);
    return false;
}

/* Reads one option and its value from argv at *i (advancing *i past the
 * value).  Returns 0, or EXIT_USAGE after printing what is wrong. */
static int parse_option(int argc, char **argv, int *i, struct node_testnet_options *o,
                        bool *have_validators, bool *have_port)
{
    const char *name = argv[*i];
    if (strcmp(name, "--force") == 0) {
        o->force = true;
        return 0;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "testnet: %s needs a value\n", name);
        return EXIT_USAGE;
    }
    const char *value = argv[++*i];
    uint64_t v = 0;
    bool ok = true;
    if (strcmp(name, "--dir") == 0) {
        o->dir = value;
    } else if (strcmp(name, "--validators") == 0) {
        ok = option_number(name, value, 1, NODE_TESTNET_VALIDATORS_MAX, &v);
        o->validators = (uint32_t)v;
        *have_validators = true;
    } else if (strcmp(name, "--watchers") == 0) {
        ok = option_number(name, value, 0, NODE_TESTNET_WATCHERS_MAX, &v);
        o->watchers = (uint32_t)v;
    } else if (strcmp(name, "--base-port") == 0) {
        ok = option_number(name, value, 1, 65535, &v);
        o->base_port = (uint32_t)v;
        *have_port = true;
    } else if (strcmp(name, "--close-time") == 0) {
        ok = option_number(name, value, 1, (uint64_t)INT64_MAX, &v);
        o->close_time = v;
    } else {
        fprintf(stderr, "testnet: unknown option '%s'\n", name);
        ok = false;
    }
    return ok ? 0 : EXIT_USAGE;
}

int nanumd_testnet_main(int argc, char **argv)
{
    struct node_testnet_options o = {0};
    bool have_validators = false, have_port = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            testnet_usage(stdout);
            return 0;
        }
        if (parse_option(argc, argv, &i, &o, &have_validators, &have_port) != 0) {
            testnet_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!have_validators || !have_port || o.dir == NULL || o.dir[0] == '\0') {
        fputs("testnet: --validators, --dir and --base-port are required\n", stderr);
        testnet_usage(stderr);
        return EXIT_USAGE;
    }
    char err[1024];
    uint8_t network_id[NODE_HASH_BYTES];
    int rc = node_testnet_create(&o, network_id, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "testnet: %s\n", err);
        return rc == NODE_TESTNET_E_INVALID ? EXIT_USAGE : 1;
    }
    char hex[2 * NODE_HASH_BYTES + 1];
    node_hex_encode(network_id, NODE_HASH_BYTES, hex);
    printf("wrote a testnet of %u validator%s and %u watcher%s to %s\n", o.validators,
           o.validators == 1 ? "" : "s", o.watchers, o.watchers == 1 ? "" : "s", o.dir);
    printf("network id %s\n", hex);
    printf("start node K with: nanumd --config %s/nodeK/nanumd.ini\n", o.dir);
    return 0;
}
