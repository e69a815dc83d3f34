/*
 * cmd_cancel.c — `nanum cancel BOOKING`: the renter before the start, or the
 * owner at any time; the escrow goes back to the renter.
 *
 * Read next: spec/transactions.md §booking.cancel.
 */
#include <string.h>

#include "wallet.h"

int wallet_cmd_cancel(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    int rc = wallet_expect_args(ctx, 1, 1, "cancel BOOKING");
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "booking", &tx.body.booking_cancel.booking_id);
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_BOOKING_CANCEL;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    if (!ctx->json && out.committed)
        printf("cancelled booking %s; the escrow is back with the renter\n", ctx->argv[1]);
    wallet_tx_print(ctx, &out, json_pack("{s:I}", "booking_id", (json_int_t)tx.body.booking_cancel.booking_id));
    return 0;
}
