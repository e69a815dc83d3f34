/*
 * txn.c — one transaction from the wallet to the ledger: read the account's
 * sequence, fill source/seq/fee, sign locally (the secret key never leaves
 * this process and is wiped after signing), POST /v1/tx, then poll
 * GET /v1/tx/{id} until the transaction is committed or failed, with a
 * deadline (WALLET_WAIT_MS_MAX).  Refusals and failures become a sentence
 * that tells the member what to do (wallet_result_hint).
 *
 * Read next: spec/wallet.md "Transactions", spec/api.md POST /v1/tx.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wallet.h"

#define TXN_UNKNOWN_MS_MAX 3000 /* "unknown" after admission for this long: dropped */

/* What to do about a refusal or a failed result, by its stable name. */
static const struct {
    const char *result;
    const char *hint;
} result_hints[] = {
    {"no_source_account", "your account does not exist yet: it comes into being when someone pays it at least "
                          "the minimum balance; ask a member to `nanum pay` you"},
    {"unknown_account", "that account does not exist yet: it comes into being when it receives at least the "
                        "minimum balance"},
    {"insufficient_balance", "your balance is too low for this: check `nanum balance` and get credits first"},
    {"insufficient_balance_for_fee", "your balance does not cover the fee: check `nanum balance`"},
    {"below_min_balance", "a new account must receive at least the minimum balance: pay more"},
    {"booking_overlap", "the resource is already booked for part of that time: see `nanum resource show ID` and "
                        "choose another time"},
    {"not_owner", "only the resource's owner may do this: use the owner's keystore (--name)"},
    {"not_party", "only the booking's renter or owner may do this: use their keystore (--name)"},
    {"too_early_to_complete", "too early: the owner may complete from the booking's start, the renter only once "
                              "complete_grace_s has passed after its end; try again later"},
    {"too_late_to_cancel", "the booking has started: only the owner can cancel it now"},
    {"escrow_over_max", "the price or deposit changed since you were shown them: run the command again"},
    {"trust_too_low", "your trust record is below the owner's minimum: complete more bookings first"},
    {"not_member", "only members may do this: ask the cooperative to admit you"},
    {"bad_seq", "another transaction of this account got in first: run the command again"},
    {"fee_too_low", "the network's base fee is higher: run again, or give --fee"},
    {"already_voted", "you have already voted on this proposal"},
    {"proposal_closed", "the proposal is no longer open: see `nanum gov show ID`"},
    {"already_rated", "you have already rated this booking"},
    {"not_completed", "only a completed booking can be rated: complete it first"},
    {"no_booking", "no such booking: check the id with `nanum history`"},
    {"no_resource", "no such resource: see `nanum resource list`"},
    {"own_resource", "you cannot book your own resource"},
    {"bad_time_range", "the start must be before the end, not too far in the past, and the booking not too long"},
};

const char *wallet_result_hint(const char *result)
{
    for (size_t i = 0; result != NULL && i < sizeof result_hints / sizeof result_hints[0]; i++)
        if (strcmp(result_hints[i].result, result) == 0)
            return result_hints[i].hint;
    return NULL;
}

/* The account's last sequence number (0 for an account that does not exist:
 * the node then refuses with no_source_account, which has a hint). */
static int account_seq(struct wallet_ctx *ctx, const uint8_t key[NODE_KEY_BYTES], uint64_t *seq)
{
    char path[96], address[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(key, address);
    snprintf(path, sizeof path, "/v1/accounts/%s", address);
    long status = 0;
    json_t *obj = NULL;
    int rc = wallet_http_get(ctx, path, &status, &obj);
    if (rc != 0)
        return rc;
    *seq = status == 200 ? wallet_json_u64(obj, "seq", 0) : 0;
    json_decref(obj);
    if (status != 200 && status != 404)
        return wallet_fail(ctx, WALLET_E_BAD_RESPONSE, "the node answered HTTP %ld for %s", status, path);
    return 0;
}

/* Turns a refusal or a failed result into the error and its sentence. */
static int refused(struct wallet_ctx *ctx, const char *result, const char *message, const char *when)
{
    const char *hint = wallet_result_hint(result);
    snprintf(ctx->result, sizeof ctx->result, "%s", result ? result : "");
    return wallet_fail(ctx, WALLET_E_REJECTED, "%s: %s (%s)%s%s", when, message ? message : "refused",
                       result ? result : "?", hint ? ". What to do: " : "", hint ? hint : "");
}

/* Polls the transaction until it is in a ledger, with a deadline. */
static int await_commit(struct wallet_ctx *ctx, struct wallet_tx_outcome *out)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/tx/%s", out->hash);
    struct timespec start, now, pause = {0, WALLET_POLL_MS * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        json_t *obj = NULL;
        int rc = wallet_get_ok(ctx, path, &obj);
        if (rc != 0)
            return rc;
        const char *status = wallet_json_str(obj, "status");
        if (status != NULL && (strcmp(status, "committed") == 0 || strcmp(status, "failed") == 0)) {
            out->committed = true;
            out->height = wallet_json_u64(obj, "height", 0);
            out->result_code = (unsigned)wallet_json_u64(obj, "result_code", 0);
            snprintf(out->result, sizeof out->result, "%s", wallet_json_str(obj, "result") ?: "?");
            rc = out->result_code == 0 ? 0 : refused(ctx, out->result, wallet_json_str(obj, "message"),
                                                      "the transaction failed in the ledger");
            json_decref(obj);
            return rc;
        }
        bool unknown = status != NULL && strcmp(status, "unknown") == 0;
        json_decref(obj);
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long waited_ms = (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
        /* Admitted, then neither pending nor in a ledger: the node dropped it
         * (after a grace for the moment between the pool and the index). */
        if (unknown && waited_ms > TXN_UNKNOWN_MS_MAX)
            return wallet_fail(ctx, WALLET_E_REJECTED,
                               "transaction %s was dropped by the node at %s without being committed: run the "
                               "command again", out->hash, ctx->node_url);
        if (waited_ms > WALLET_WAIT_MS_MAX)
            return wallet_fail(ctx, WALLET_E_TIMEOUT,
                               "transaction %s not committed after %d s; check later with `nanum tx %s`", out->hash,
                               WALLET_WAIT_MS_MAX / 1000, out->hash);
        nanosleep(&pause, NULL); /* a client polling a server: the pause is the poll interval */
    }
}

/* Signs tx with the chosen key into hex; the secret key is wiped here. */
static int sign_tx(struct wallet_ctx *ctx, struct node_tx *tx, struct wallet_tx_outcome *out, char *hex)
{
    uint8_t pk[NODE_KEY_BYTES], sk[NODE_SECRET_KEY_BYTES];
    int rc = wallet_load_secret(ctx, pk, sk);
    if (rc != 0)
        return rc;
    memcpy(tx->source, pk, NODE_KEY_BYTES);
    memcpy(out->source, pk, NODE_KEY_BYTES);
    uint64_t seq = 0, fee = ctx->fee;
    rc = account_seq(ctx, pk, &seq);
    if (rc == 0 && !ctx->fee_set)
        rc = wallet_param(ctx, NODE_PARAM_base_fee, &fee);
    struct node_tx_envelope env;
    struct node_buf buf;
    node_buf_init(&buf);
    uint8_t id[NODE_HASH_BYTES];
    if (rc == 0) {
        tx->version = NODE_TX_VERSION;
        tx->seq = seq + 1;
        tx->fee = fee;
        if (node_tx_sign(tx, ctx->network_id, sk, &env) != 0 || node_envelope_encode(&env, &buf) != 0 ||
            buf.len > NODE_TX_BYTES_MAX || node_tx_hash(tx, ctx->network_id, id) != 0)
            rc = wallet_fail(ctx, WALLET_E_USAGE, "the transaction cannot be encoded (a text too long?)");
    }
    sodium_memzero(sk, sizeof sk);
    if (rc == 0) {
        node_hex_encode(buf.data, buf.len, hex);
        node_hex_encode(id, NODE_HASH_BYTES, out->hash);
    }
    node_buf_free(&buf);
    return rc;
}

int wallet_tx_submit(struct wallet_ctx *ctx, struct node_tx *tx, struct wallet_tx_outcome *out)
{
    struct wallet_tx_outcome local;
    if (out == NULL)
        out = &local;
    memset(out, 0, sizeof *out);
    int rc = wallet_network(ctx);
    char hex[2 * NODE_TX_BYTES_MAX + 1];
    if (rc == 0)
        rc = sign_tx(ctx, tx, out, hex);
    long status = 0;
    json_t *answer = NULL;
    if (rc == 0)
        rc = wallet_http_post_tx(ctx, hex, &status, &answer);
    if (rc != 0)
        return rc;
    if (status != 200 && status != 202) {
        json_t *err = json_object_get(answer, "error");
        rc = refused(ctx, wallet_json_str(err, "code"), wallet_json_str(err, "message"),
                     "the node refused the transaction");
        json_decref(answer);
        return rc;
    }
    json_decref(answer);
    if (ctx->no_wait)
        return 0;
    return await_commit(ctx, out);
}

void wallet_tx_print(struct wallet_ctx *ctx, const struct wallet_tx_outcome *out, json_t *extra)
{
    if (ctx->json) {
        json_t *obj = json_pack("{s:s, s:s}", "hash", out->hash, "status",
                                out->committed ? (out->result_code == 0 ? "committed" : "failed") : "pending");
        if (out->committed) {
            json_object_set_new(obj, "height", json_integer((json_int_t)out->height));
            json_object_set_new(obj, "result", json_string(out->result));
        }
        if (extra != NULL)
            json_object_update(obj, extra);
        json_decref(extra);
        wallet_print_json(obj);
        return;
    }
    json_decref(extra);
    if (out->committed)
        printf("committed in ledger %llu: %s\ntransaction %s\n", (unsigned long long)out->height,
               out->result_code == 0 ? "ok" : out->result, out->hash);
    else
        printf("submitted (not waiting): transaction %s\n", out->hash);
}
