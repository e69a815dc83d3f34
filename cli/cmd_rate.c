/*
 * cmd_rate.c — `nanum rate BOOKING STARS`: after completion, each party
 * rates the other once, 1 to 5 stars, into their trust record.
 *
 * Read next: spec/transactions.md §booking.rate.
 */
#include <string.h>

#include "wallet.h"

int wallet_cmd_rate(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    int rc = wallet_expect_args(ctx, 2, 2, "rate BOOKING STARS");
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "booking", &tx.body.booking_rate.booking_id);
    const char *stars = rc == 0 ? ctx->argv[2] : "";
    if (rc == 0 && (strlen(stars) != 1 || stars[0] < '1' || stars[0] > '5'))
        rc = wallet_fail(ctx, WALLET_E_USAGE, "STARS is a whole number from 1 to 5");
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_BOOKING_RATE;
    tx.body.booking_rate.stars = (uint8_t)(stars[0] - '0');
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    if (!ctx->json && out.committed)
        printf("rated booking %s: %s star%s\n", ctx->argv[1], stars, stars[0] == '1' ? "" : "s");
    wallet_tx_print(ctx, &out, json_pack("{s:I, s:i}", "booking_id", (json_int_t)tx.body.booking_rate.booking_id,
                                         "stars", stars[0] - '0'));
    return 0;
}
