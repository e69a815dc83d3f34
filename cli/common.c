/*
 * common.c — the wallet's error table, exit codes, and the helpers every
 * command uses to take its options and words off the command line.
 *
 * Read next: cli/nanum.c (global options), cli/wallet.h.
 */
#include <stdarg.h>
#include <string.h>

#include "wallet.h"

/* Returns the sentence of an error code (never NULL). */
const char *wallet_strerror(int code)
{
    switch (code) {
#define WALLET_ERROR_MESSAGE(name, value, message) \
    case value:                                   \
        return message;
        WALLET_ERRORS(WALLET_ERROR_MESSAGE)
#undef WALLET_ERROR_MESSAGE
    case 0:
        return "ok";
    default:
        return "unknown error";
    }
}

/* Returns the name of an error code (never NULL). */
const char *wallet_errname(int code)
{
    switch (code) {
#define WALLET_ERROR_NAME(name, value, message) \
    case value:                                \
        return #name;
        WALLET_ERRORS(WALLET_ERROR_NAME)
#undef WALLET_ERROR_NAME
    case 0:
        return "OK";
    default:
        return "WALLET_E_UNKNOWN";
    }
}

/* One error, one exit code: the documented contract with scripts. */
int wallet_exit_code(int code)
{
    switch (code) {
    case 0:
        return WALLET_EXIT_OK;
    case WALLET_E_USAGE:
        return WALLET_EXIT_USAGE;
    case WALLET_E_REJECTED:
        return WALLET_EXIT_REJECTED;
    case WALLET_E_UNREACHABLE:
    case WALLET_E_BAD_RESPONSE:
    case WALLET_E_TIMEOUT:
        return WALLET_EXIT_UNREACHABLE;
    case WALLET_E_VERIFY:
        return WALLET_EXIT_VERIFY;
    case WALLET_E_NOT_FOUND:
        return WALLET_EXIT_NOT_FOUND;
    case WALLET_E_WRONG_NETWORK:
        return WALLET_EXIT_WRONG_NETWORK;
    default:
        return WALLET_EXIT_ERROR;
    }
}

/* Keeps the first message: the innermost failure knows the most. */
int wallet_fail(struct wallet_ctx *ctx, int code, const char *fmt, ...)
{
    if (ctx->message[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->message, sizeof ctx->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Removes the word at i from the command's words. */
static void remove_word(struct wallet_ctx *ctx, int i, int count)
{
    memmove(&ctx->argv[i], &ctx->argv[i + count], (size_t)(ctx->argc - i - count) * sizeof ctx->argv[0]);
    ctx->argc -= count;
}

/* Flags are searched after the command name (argv[0]); "--" is not special. */
bool wallet_take_flag(struct wallet_ctx *ctx, const char *flag)
{
    for (int i = 1; i < ctx->argc; i++) {
        if (strcmp(ctx->argv[i], flag) == 0) {
            remove_word(ctx, i, 1);
            return true;
        }
    }
    return false;
}

/* Takes "--opt VALUE" or "--opt=VALUE"; the last occurrence wins. */
int wallet_take_option(struct wallet_ctx *ctx, const char *opt, const char **value)
{
    size_t n = strlen(opt);
    *value = NULL;
    for (int i = 1; i < ctx->argc;) {
        const char *w = ctx->argv[i];
        if (strncmp(w, opt, n) == 0 && w[n] == '=') {
            *value = w + n + 1;
            remove_word(ctx, i, 1);
        } else if (strcmp(w, opt) == 0) {
            if (i + 1 >= ctx->argc)
                return wallet_fail(ctx, WALLET_E_USAGE, "%s needs a value", opt);
            *value = ctx->argv[i + 1];
            remove_word(ctx, i, 2);
        } else {
            i++;
        }
    }
    return 0;
}

/* Called after every option was taken: what is left must be the words. */
int wallet_expect_args(struct wallet_ctx *ctx, int min, int max, const char *usage)
{
    for (int i = 1; i < ctx->argc; i++) {
        const char *w = ctx->argv[i];
        if (w[0] == '-' && w[1] == '-')
            return wallet_fail(ctx, WALLET_E_USAGE, "unknown option %s; usage: nanum %s", w, usage);
    }
    int words = ctx->argc - 1;
    if (words < min || words > max)
        return wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum %s", usage);
    return 0;
}
