/*
 * cmd_history.c — `nanum history [ADDRESS] [--ledgers N]`: the account's
 * recent transactions (sent, and payments received) and its bookings.
 *
 * The API has no per-account transaction index, so this walks back from the
 * newest ledger over at most N ledgers (default HISTORY_LEDGERS_DEFAULT,
 * at most WALLET_HISTORY_LEDGERS_MAX), decoding each envelope here.
 *
 * Read next: spec/wallet.md "history".
 */
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

#define HISTORY_LEDGERS_DEFAULT 500

/* One transaction of the account as a JSON row, or NULL if it is not one. */
static json_t *history_row(const json_t *t, const uint8_t key[NODE_KEY_BYTES], uint64_t height)
{
    const char *hex = wallet_json_str(t, "envelope");
    uint8_t bytes[NODE_TX_BYTES_MAX];
    size_t len = hex ? strlen(hex) / 2 : 0;
    struct node_tx_envelope env;
    if (hex == NULL || len > sizeof bytes || node_hex_decode(hex, bytes, len) != 0 ||
        node_envelope_decode(bytes, len, &env) != 0)
        return NULL;
    bool sent = memcmp(env.tx.source, key, NODE_KEY_BYTES) == 0;
    bool received = env.tx.type == NODE_TX_PAY && memcmp(env.tx.body.pay.destination, key, NODE_KEY_BYTES) == 0;
    if (!sent && !received)
        return NULL;
    char other[NODE_ADDRESS_TEXT_BYTES + 1] = "";
    if (env.tx.type == NODE_TX_PAY)
        node_address_encode(sent ? env.tx.body.pay.destination : env.tx.source, other);
    json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "height", (json_int_t)height, "type",
                            node_tx_type_name(env.tx.type) ?: "?", "direction", sent ? "out" : "in", "result",
                            wallet_json_str(t, "result") ?: "?", "hash", wallet_json_str(t, "hash") ?: "?", "memo",
                            env.tx.memo);
    if (env.tx.type == NODE_TX_PAY) {
        json_object_set_new(row, "amount", json_string(wallet_amount(env.tx.body.pay.amount)));
        json_object_set_new(row, "counterparty", json_string(other));
    }
    return row;
}

/* Walks back over at most ledgers_max ledgers from the newest. */
static int scan(struct wallet_ctx *ctx, const uint8_t key[NODE_KEY_BYTES], uint64_t ledgers_max, json_t *rows,
                uint64_t *scanned)
{
    json_t *latest = NULL;
    int rc = wallet_fetch_ledger(ctx, "latest", false, &latest);
    if (rc != 0)
        return rc;
    uint64_t top = wallet_json_u64(latest, "height", 0);
    json_decref(latest);
    *scanned = 0;
    for (uint64_t h = top; h >= 1 && *scanned < ledgers_max; h--, (*scanned)++) {
        char which[32];
        snprintf(which, sizeof which, "%llu", (unsigned long long)h);
        json_t *l = NULL, *t;
        rc = wallet_fetch_ledger(ctx, which, false, &l);
        if (rc != 0)
            return rc;
        size_t i;
        json_array_foreach(json_object_get(l, "transactions"), i, t) {
            json_t *row = history_row(t, key, h);
            if (row != NULL)
                json_array_append_new(rows, row);
        }
        json_decref(l);
    }
    return 0;
}

static void print_history(const json_t *rows, const json_t *bookings, uint64_t scanned)
{
    size_t i;
    json_t *r;
    printf("transactions in the last %llu ledgers:\n%8s  %-16s %-3s %10s  %-16s %s\n", (unsigned long long)scanned,
           "LEDGER", "TYPE", "DIR", "AMOUNT", "COUNTERPARTY", "RESULT");
    json_array_foreach(rows, i, r)
        printf("%8llu  %-16s %-3s %10s  %-16.14s %s\n", (unsigned long long)wallet_json_u64(r, "height", 0),
               wallet_json_str(r, "type"), wallet_json_str(r, "direction"), wallet_json_str(r, "amount") ?: "",
               wallet_json_str(r, "counterparty") ?: "", wallet_json_str(r, "result"));
    printf("bookings:\n%8s  %8s  %-16s  %-16s  %10s %10s  %s\n", "ID", "RESOURCE", "FROM", "TO", "PRICE", "DEPOSIT",
           "STATUS");
    json_array_foreach(bookings, i, r)
        printf("%8llu  %8llu  %-16s  %-16s  %10s %10s  %s\n", (unsigned long long)wallet_json_u64(r, "id", 0),
               (unsigned long long)wallet_json_u64(r, "resource_id", 0), wallet_time(wallet_json_u64(r, "start", 0)),
               wallet_time(wallet_json_u64(r, "end", 0)), wallet_json_str(r, "price_total") ?: "?",
               wallet_json_str(r, "deposit") ?: "?", wallet_json_str(r, "status") ?: "?");
}

int wallet_cmd_history(struct wallet_ctx *ctx)
{
    const char *ledgers = NULL;
    char address[NODE_ADDRESS_TEXT_BYTES + 1], path[128];
    uint64_t ledgers_max = HISTORY_LEDGERS_DEFAULT, scanned = 0;
    uint8_t key[NODE_KEY_BYTES];
    int rc = wallet_take_option(ctx, "--ledgers", &ledgers);
    rc = rc ? rc : wallet_expect_args(ctx, 0, 1, "history [ADDRESS] [--ledgers N]");
    if (rc == 0 && ledgers != NULL && (wallet_parse_id(ctx, ledgers, "ledger count", &ledgers_max) != 0 ||
                                       ledgers_max > WALLET_HISTORY_LEDGERS_MAX))
        return wallet_fail(ctx, WALLET_E_USAGE, "--ledgers takes 1 to %u", WALLET_HISTORY_LEDGERS_MAX);
    rc = rc ? rc : wallet_address_arg(ctx, 1, address);
    if (rc != 0)
        return rc;
    node_address_decode(address, key);
    json_t *rows = json_array(), *bookings = NULL;
    rc = scan(ctx, key, ledgers_max, rows, &scanned);
    snprintf(path, sizeof path, "/v1/bookings?account=%s", address);
    rc = rc ? rc : wallet_get_ok(ctx, path, &bookings);
    if (rc == 0 && ctx->json)
        wallet_print_json(json_pack("{s:s, s:O, s:O, s:I}", "address", address, "transactions", rows, "bookings",
                                    json_object_get(bookings, "bookings"), "ledgers_scanned", (json_int_t)scanned));
    else if (rc == 0)
        print_history(rows, json_object_get(bookings, "bookings"), scanned);
    json_decref(rows);
    json_decref(bookings);
    return rc;
}
