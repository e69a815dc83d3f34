/*
 * cmd_pay.c — `nanum pay TO AMOUNT [--memo TEXT]`: a payment, signed here.
 *
 * Read next: cli/txn.c.
 */
#include <string.h>

#include "wallet.h"

int wallet_cmd_pay(struct wallet_ctx *ctx)
{
    const char *memo = NULL;
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    int rc = wallet_take_option(ctx, "--memo", &memo);
    if (rc == 0)
        rc = wallet_expect_args(ctx, 2, 2, "pay TO AMOUNT [--memo TEXT]");
    if (rc == 0)
        rc = wallet_parse_address(ctx, ctx->argv[1], tx.body.pay.destination);
    if (rc == 0)
        rc = wallet_parse_amount(ctx, ctx->argv[2], &tx.body.pay.amount);
    if (rc == 0 && memo != NULL && strlen(memo) > NODE_MEMO_BYTES_MAX)
        rc = wallet_fail(ctx, WALLET_E_USAGE, "the memo is longer than %d bytes", NODE_MEMO_BYTES_MAX);
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_PAY;
    if (memo != NULL)
        snprintf(tx.memo, sizeof tx.memo, "%s", memo);
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    if (!ctx->json)
        printf("payment of %s to %s\n", wallet_amount(tx.body.pay.amount), ctx->argv[1]);
    wallet_tx_print(ctx, &out, json_pack("{s:s, s:s}", "amount", wallet_amount(tx.body.pay.amount), "to", ctx->argv[1]));
    return 0;
}
