/*
 * nanum.c — the members' wallet: global options, the configuration, and the
 * table of subcommands, one file each (cli/cmd_*.c).
 *
 * Global options may stand anywhere on the line; the rest is the command's.
 * Settings come from, in order: the option, the environment, HOME/config.json
 * ({"node": URL, "genesis": FILE}), the default.  Errors print one sentence
 * on stderr (and, with --json, {"error": {...}} on stdout) and exit with the
 * documented code (spec/wallet.md "Exit codes").
 *
 * Read next: cli/wallet.h, then any cmd_*.c.
 */
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

#define NANUM_NODE_DEFAULT "http://127.0.0.1:8700" /* nanumd's default API address (spec/config.md) */

static const struct wallet_command commands[] = {
    {"keygen", wallet_cmd_keygen, "keygen [--name NAME]", "create a key in a new encrypted keystore"},
    {"address", wallet_cmd_address, "address [--name NAME]", "show the keystore's address"},
    {"import", wallet_cmd_import, "import [--name NAME] --plain-key-file FILE", "import a key from its text form"},
    {"export", wallet_cmd_export, "export [--name NAME] --out FILE", "write the key in its text form (secret!)"},
    {"balance", wallet_cmd_balance, "balance [ADDRESS]", "balance, escrow and trust record"},
    {"pay", wallet_cmd_pay, "pay TO AMOUNT [--memo TEXT]", "pay credits to an address"},
    {"resource", wallet_cmd_resource, "resource register|update|list|show ...", "list and manage resources"},
    {"book", wallet_cmd_book, "book RESOURCE --from TIME --to TIME", "book a resource (asks first; --yes)"},
    {"cancel", wallet_cmd_cancel, "cancel BOOKING", "cancel a booking"},
    {"complete", wallet_cmd_complete, "complete BOOKING [--claim AMOUNT]", "complete a booking"},
    {"rate", wallet_cmd_rate, "rate BOOKING STARS", "rate the other party of a completed booking (1-5)"},
    {"history", wallet_cmd_history, "history [ADDRESS] [--ledgers N]", "recent transactions and bookings"},
    {"gov", wallet_cmd_gov, "gov propose|vote|list|show ...", "governance proposals and votes"},
    {"status", wallet_cmd_status, "status", "the node's status"},
    {"ledger", wallet_cmd_ledger, "ledger HEIGHT|latest [--verify]", "show (and verify) a ledger"},
    {"tx", wallet_cmd_tx, "tx HASH [--verify]", "show (and verify) a transaction"},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fputs("usage: nanum [GLOBAL OPTIONS] COMMAND [ARGS]\n\ncommands:\n", out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-44s %s\n", commands[i].usage, commands[i].help);
    fputs("\nglobal options (anywhere on the line):\n"
          "  --node URL      the node's API (NANUM_NODE; default " NANUM_NODE_DEFAULT ")\n"
          "  --home DIR      keystores and config (NANUM_HOME; default ~/.nanum)\n"
          "  --name NAME     which keystore (NANUM_WALLET; default \"default\")\n"
          "  --genesis FILE  the network's genesis, for checks (NANUM_GENESIS)\n"
          "  --json          machine-readable output (spec/wallet.md)\n"
          "  --yes           do not ask for confirmation\n"
          "  --no-wait       return a transaction's hash without waiting\n"
          "  --fee AMOUNT    the fee (default: the network's base fee)\n"
          "exit codes: 0 ok, 1 error, 2 usage, 3 rejected, 4 node unreachable,\n"
          "            5 verification failed, 6 not found, 7 wrong network\n",
          out);
}

/* Reads HOME/config.json for the settings not given otherwise.  The strings
 * are kept for the life of the process. */
static void read_config(struct wallet_ctx *ctx)
{
    char path[WALLET_PATH_BYTES_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/config.json", ctx->home) >= sizeof path)
        return;
    json_error_t jerr;
    json_t *cfg = json_load_file(path, 0, &jerr);
    if (cfg == NULL)
        return; /* no config file is the usual case */
    const char *node = wallet_json_str(cfg, "node"), *genesis = wallet_json_str(cfg, "genesis");
    if (ctx->node_url == NULL && node != NULL)
        ctx->node_url = strdup(node);
    if (ctx->genesis_path == NULL && genesis != NULL)
        ctx->genesis_path = strdup(genesis);
    json_decref(cfg);
}

/* Options given on the line, then the environment, then config, then defaults. */
static int settle(struct wallet_ctx *ctx)
{
    const char *fee = NULL;
    int rc = 0;
    rc = rc ? rc : wallet_take_option(ctx, "--node", &ctx->node_url);
    rc = rc ? rc : wallet_take_option(ctx, "--home", &ctx->home);
    rc = rc ? rc : wallet_take_option(ctx, "--genesis", &ctx->genesis_path);
    rc = rc ? rc : wallet_take_option(ctx, "--fee", &fee);
    if (rc != 0)
        return rc;
    ctx->json = wallet_take_flag(ctx, "--json");
    ctx->yes = wallet_take_flag(ctx, "--yes");
    ctx->no_wait = wallet_take_flag(ctx, "--no-wait");
    if (fee != NULL) {
        rc = wallet_parse_amount(ctx, fee, &ctx->fee);
        ctx->fee_set = rc == 0;
    }
    static char home[WALLET_PATH_BYTES_MAX];
    if (ctx->node_url == NULL)
        ctx->node_url = getenv("NANUM_NODE");
    if (ctx->home == NULL)
        ctx->home = getenv("NANUM_HOME");
    if (ctx->home == NULL) {
        const char *user = getenv("HOME");
        snprintf(home, sizeof home, "%s/.nanum", user ? user : ".");
        ctx->home = home;
    }
    if (ctx->genesis_path == NULL)
        ctx->genesis_path = getenv("NANUM_GENESIS");
    read_config(ctx);
    if (ctx->node_url == NULL)
        ctx->node_url = NANUM_NODE_DEFAULT;
    return rc;
}

/* --name is global too, except for keygen and import where it names the new keystore:
 * the same meaning, so one option serves both. */
static int take_name(struct wallet_ctx *ctx)
{
    int rc = wallet_take_option(ctx, "--name", &ctx->key_name);
    if (ctx->key_name == NULL)
        ctx->key_name = getenv("NANUM_WALLET");
    if (ctx->key_name == NULL)
        ctx->key_name = "default";
    return rc;
}

static int report(struct wallet_ctx *ctx, int rc)
{
    if (rc == 0)
        return 0;
    const char *message = ctx->message[0] ? ctx->message : wallet_strerror(rc);
    fprintf(stderr, "nanum: %s\n", message);
    if (ctx->json) {
        json_t *err = json_pack("{s:s, s:s, s:i}", "code", wallet_errname(rc), "message", message, "exit",
                                wallet_exit_code(rc));
        if (ctx->result[0] != '\0')
            json_object_set_new(err, "result", json_string(ctx->result));
        wallet_print_json(json_pack("{s:o}", "error", err));
    }
    return wallet_exit_code(rc);
}

int main(int argc, char **argv)
{
    static struct wallet_ctx ctx;
    if (argc - 1 > WALLET_ARGS_MAX) {
        fprintf(stderr, "nanum: more than %d words on the command line\n", WALLET_ARGS_MAX);
        return WALLET_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++)
        ctx.argv[ctx.argc++] = argv[i];
    if (ctx.argc >= 1 && (strcmp(ctx.argv[0], "--help") == 0 || strcmp(ctx.argv[0], "-h") == 0 ||
                          strcmp(ctx.argv[0], "help") == 0)) {
        usage(stdout);
        return 0;
    }
    if (ctx.argc >= 1 && strcmp(ctx.argv[0], "--version") == 0) {
        puts("nanum " NANUM_VERSION);
        return 0;
    }
    /* Global options may come before the command: move the command word first. */
    memmove(&ctx.argv[1], &ctx.argv[0], (size_t)ctx.argc * sizeof ctx.argv[0]);
    ctx.argv[0] = "nanum";
    ctx.argc++;
    int rc = settle(&ctx);
    if (rc == 0)
        rc = take_name(&ctx);
    if (rc != 0)
        return report(&ctx, rc);
    if (ctx.argc < 2) {
        usage(stderr);
        return WALLET_EXIT_USAGE;
    }
    memmove(&ctx.argv[0], &ctx.argv[1], (size_t)(ctx.argc - 1) * sizeof ctx.argv[0]);
    ctx.argc--;
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(commands[i].name, ctx.argv[0]) == 0) {
            rc = commands[i].run(&ctx);
            wallet_http_cleanup();
            if (ctx.genesis != NULL) {
                node_genesis_free(ctx.genesis);
                free(ctx.genesis);
            }
            return report(&ctx, rc);
        }
    }
    fprintf(stderr, "nanum: unknown command '%s' (nanum --help lists them)\n", ctx.argv[0]);
    return WALLET_EXIT_USAGE;
}
