/*
 * format.c — how the wallet shows and reads amounts, times, ids and
 * addresses: amounts as 12.50, times in local time, JSON printed stably.
 *
 * Read next: spec/wallet.md "Output".
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wallet.h"

#define FORMAT_RING 8 /* results of wallet_amount/wallet_time usable in one printf */

/* A ring of buffers, so several formatted values can share one printf. */
const char *wallet_amount(uint64_t minor)
{
    static char ring[FORMAT_RING][NODE_AMOUNT_TEXT_BYTES_MAX];
    static unsigned next;
    char *out = ring[next++ % FORMAT_RING];
    node_amount_format(minor, out);
    return out;
}

const char *wallet_time(uint64_t unix_s)
{
    static char ring[FORMAT_RING][32];
    static unsigned next;
    char *out = ring[next++ % FORMAT_RING];
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, 32, "@%llu", (unsigned long long)unix_s);
    return out;
}

/* Accepts unix seconds, or YYYY-MM-DD[T ]HH:MM[:SS] in local time. */
int wallet_time_parse(const char *text, uint64_t *unix_s)
{
    size_t n = strlen(text);
    if (n > 0 && n <= 20 && strspn(text, "0123456789") == n) {
        errno = 0;
        unsigned long long v = strtoull(text, NULL, 10);
        if (errno != 0)
            return WALLET_E_USAGE;
        *unix_s = v;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int sec = 0, used = 0;
    char sep = 0;
    if (sscanf(text, "%4d-%2d-%2d%c%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &sep, &tm.tm_hour,
               &tm.tm_min, &used) != 6 || (sep != 'T' && sep != ' '))
        return WALLET_E_USAGE;
    if (text[used] == ':') {
        int more = 0;
        if (sscanf(text + used, ":%2d%n", &sec, &more) != 1)
            return WALLET_E_USAGE;
        used += more;
    }
    if (text[used] != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || sec > 59)
        return WALLET_E_USAGE;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    tm.tm_sec = sec;
    tm.tm_isdst = -1; /* let the C library decide summer time for that date */
    time_t t = mktime(&tm);
    if (t == (time_t)-1 || t < 0)
        return WALLET_E_USAGE;
    *unix_s = (uint64_t)t;
    return 0;
}

/* Every started hour counts (spec/transactions.md §booking.create). */
uint64_t wallet_hours(uint64_t start, uint64_t end)
{
    if (end <= start)
        return 0;
    return (end - start) / 3600 + ((end - start) % 3600 != 0);
}

uint64_t wallet_json_u64(const json_t *obj, const char *key, uint64_t def)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return def;
    return (uint64_t)json_integer_value(v);
}

const char *wallet_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Sorted keys and two-space indent: stable output for scripts. */
void wallet_print_json(json_t *obj)
{
    char *text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (text != NULL) {
        puts(text);
        free(text);
    }
    json_decref(obj);
}

int wallet_parse_id(struct wallet_ctx *ctx, const char *text, const char *what, uint64_t *out)
{
    size_t n = strlen(text);
    errno = 0;
    unsigned long long v = n > 0 && n <= 20 && strspn(text, "0123456789") == n ? strtoull(text, NULL, 10) : 0;
    if (v == 0 || errno != 0)
        return wallet_fail(ctx, WALLET_E_USAGE, "'%s' is not a %s id (a whole number from 1)", text, what);
    *out = v;
    return 0;
}

int wallet_parse_address(struct wallet_ctx *ctx, const char *text, uint8_t key[static NODE_KEY_BYTES])
{
    int rc = node_address_decode(text, key);
    if (rc == NODE_E_BAD_CHECKSUM)
        return wallet_fail(ctx, WALLET_E_USAGE, "'%s': the address' checksum does not match; check it for a typo",
                           text);
    if (rc != 0)
        return wallet_fail(ctx, WALLET_E_USAGE, "'%s' is not a nanum address (n followed by 60 characters)", text);
    return 0;
}

int wallet_parse_amount(struct wallet_ctx *ctx, const char *text, uint64_t *out)
{
    if (node_amount_parse(text, out) != 0)
        return wallet_fail(ctx, WALLET_E_USAGE, "'%s' is not an amount: write it like 12 or 12.50", text);
    return 0;
}
