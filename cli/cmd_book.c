/*
 * cmd_book.c — `nanum book RESOURCE --from TIME --to TIME`: shows the price
 * (every started hour counts), the deposit and the escrow total, asks before
 * signing (on a terminal; --yes skips the question), and books with
 * escrow_max set to exactly the total shown, so a price raised meanwhile
 * makes the booking fail rather than cost more.  The booking's id, assigned
 * by the ledger, is found among the renter's bookings created at the commit's
 * height.
 *
 * Read next: spec/transactions.md §booking.create, cli/txn.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wallet.h"

#define BOOK_USAGE "book RESOURCE --from TIME --to TIME   (TIME: 2026-11-22T14:00 local, or unix seconds)"

/* Asks on the terminal; false unless the member types y or yes. */
static int confirm(struct wallet_ctx *ctx)
{
    if (ctx->yes)
        return 0;
    if (!isatty(STDIN_FILENO))
        return wallet_fail(ctx, WALLET_E_USAGE,
                           "not on a terminal, so the booking cannot be confirmed: add --yes to book without the "
                           "question");
    fputs("Sign and submit this booking? [y/N] ", stderr);
    fflush(stderr);
    char line[16] = "";
    if (fgets(line, sizeof line, stdin) == NULL)
        line[0] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 || strcmp(line, "yes") == 0)
        return 0;
    return wallet_fail(ctx, WALLET_E_DECLINED, "not booked: you declined");
}

/* The new booking's id, or 0 if it cannot be found. */
static uint64_t find_new_booking(struct wallet_ctx *ctx, const struct wallet_tx_outcome *out,
                                 const struct node_tx_booking_create *b)
{
    char address[NODE_ADDRESS_TEXT_BYTES + 1], path[128];
    node_address_encode(out->source, address);
    snprintf(path, sizeof path, "/v1/bookings?account=%s", address);
    json_t *root = NULL, *x;
    uint64_t id = 0;
    size_t i;
    if (wallet_get_ok(ctx, path, &root) != 0)
        return 0;
    json_array_foreach(json_object_get(root, "bookings"), i, x) {
        const char *renter = wallet_json_str(x, "renter");
        if (renter != NULL && strcmp(renter, address) == 0 && wallet_json_u64(x, "created_height", 0) == out->height &&
            wallet_json_u64(x, "resource_id", 0) == b->resource_id && wallet_json_u64(x, "start", 0) == b->start &&
            wallet_json_u64(x, "end", 0) == b->end)
            id = wallet_json_u64(x, "id", 0);
    }
    json_decref(root);
    return id;
}

/* Reads the resource's terms and computes the price and escrow to show. */
static int quote(struct wallet_ctx *ctx, struct node_tx_booking_create *b, uint64_t *price_total,
                 uint64_t *deposit, char *title, size_t title_len)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/resources/%llu", (unsigned long long)b->resource_id);
    json_t *r = NULL;
    int rc = wallet_get_ok(ctx, path, &r);
    if (rc == WALLET_E_NOT_FOUND) {
        ctx->message[0] = '\0';
        return wallet_fail(ctx, rc, "no resource %llu: see `nanum resource list`", (unsigned long long)b->resource_id);
    }
    if (rc != 0)
        return rc;
    uint64_t price = wallet_json_u64(r, "price_per_hour_minor", 0), hours = wallet_hours(b->start, b->end);
    *deposit = wallet_json_u64(r, "deposit_minor", 0);
    snprintf(title, title_len, "%s \"%s\"", wallet_json_str(r, "kind") ?: "?", wallet_json_str(r, "title") ?: "");
    bool active = json_is_true(json_object_get(r, "active"));
    json_decref(r);
    if (!active)
        return wallet_fail(ctx, WALLET_E_REJECTED, "resource %llu is not open for booking (inactive)",
                           (unsigned long long)b->resource_id);
    if (!node_mul_u64(price, hours, price_total) || !node_add_u64(*price_total, *deposit, &b->escrow_max))
        return wallet_fail(ctx, WALLET_E_USAGE, "the price of that booking overflows");
    if (!ctx->json)
        printf("Booking %s (resource %llu)\n  from    %s\n  to      %s  (%llu started hour%s)\n"
               "  price   %s  (%llu × %s)\n  deposit %s  (returned at completion, less any damage claim)\n"
               "  escrow  %s  (held from your balance until then)\n",
               title, (unsigned long long)b->resource_id, wallet_time(b->start), wallet_time(b->end),
               (unsigned long long)hours, hours == 1 ? "" : "s", wallet_amount(*price_total),
               (unsigned long long)hours, wallet_amount(price), wallet_amount(*deposit),
               wallet_amount(b->escrow_max));
    return 0;
}

int wallet_cmd_book(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    struct node_tx_booking_create *b = &tx.body.booking_create;
    const char *from = NULL, *to = NULL;
    int rc = wallet_take_option(ctx, "--from", &from);
    rc = rc ? rc : wallet_take_option(ctx, "--to", &to);
    rc = rc ? rc : wallet_expect_args(ctx, 1, 1, BOOK_USAGE);
    if (rc == 0 && (from == NULL || to == NULL))
        rc = wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum %s", BOOK_USAGE);
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "resource", &b->resource_id);
    if (rc == 0 && (wallet_time_parse(from, &b->start) != 0 || wallet_time_parse(to, &b->end) != 0))
        rc = wallet_fail(ctx, WALLET_E_USAGE, "times look like 2026-11-22T14:00 (local time) or unix seconds");
    if (rc == 0 && b->end <= b->start)
        rc = wallet_fail(ctx, WALLET_E_USAGE, "--to must be after --from");
    uint64_t price_total = 0, deposit = 0;
    char title[NODE_TITLE_BYTES_MAX + 32];
    rc = rc ? rc : quote(ctx, b, &price_total, &deposit, title, sizeof title);
    rc = rc ? rc : confirm(ctx);
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_BOOKING_CREATE;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    uint64_t id = out.committed ? find_new_booking(ctx, &out, b) : 0;
    if (!ctx->json && id != 0)
        printf("booked: booking %llu\n", (unsigned long long)id);
    json_t *extra = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s}", "resource_id", (json_int_t)b->resource_id, "start",
                              (json_int_t)b->start, "end", (json_int_t)b->end, "price", wallet_amount(price_total),
                              "deposit", wallet_amount(deposit), "escrow", wallet_amount(b->escrow_max));
    if (id != 0)
        json_object_set_new(extra, "booking_id", json_integer((json_int_t)id));
    wallet_tx_print(ctx, &out, extra);
    return 0;
}
