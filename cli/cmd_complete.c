/*
 * cmd_complete.c — `nanum complete BOOKING [--claim AMOUNT]`: the owner from
 * the booking's start (with an optional damage claim of at most the
 * deposit), or the renter after end + grace; the price less the
 * cooperative's fee goes to the owner, the fee to the commons fund, the
 * deposit less the claim back to the renter.
 *
 * Read next: spec/transactions.md §booking.complete.
 */
#include <string.h>

#include "wallet.h"

int wallet_cmd_complete(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    const char *claim = NULL;
    int rc = wallet_take_option(ctx, "--claim", &claim);
    rc = rc ? rc : wallet_expect_args(ctx, 1, 1, "complete BOOKING [--claim AMOUNT]");
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "booking", &tx.body.booking_complete.booking_id);
    if (rc == 0 && claim != NULL)
        rc = wallet_parse_amount(ctx, claim, &tx.body.booking_complete.damage_claim);
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_BOOKING_COMPLETE;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    if (!ctx->json && out.committed)
        printf("completed booking %s%s%s\n", ctx->argv[1], claim ? " with a damage claim of " : "",
               claim ? wallet_amount(tx.body.booking_complete.damage_claim) : "");
    wallet_tx_print(ctx, &out, json_pack("{s:I, s:s}", "booking_id", (json_int_t)tx.body.booking_complete.booking_id,
                                         "damage_claim", wallet_amount(tx.body.booking_complete.damage_claim)));
    return 0;
}
