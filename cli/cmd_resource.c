/*
 * cmd_resource.c — `nanum resource register|update|list|show`: list a car,
 * parking space, tool or room; change its terms; see what can be booked.
 * After a register is committed, the new resource's id (assigned by the
 * ledger) is found among the owner's resources created at that height.
 *
 * Read next: spec/transactions.md §resource.register, spec/wallet.md.
 */
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

#define RESOURCE_USAGE                                                                              \
    "resource register --kind car|parking|tool|room --title TEXT --price AMOUNT --deposit AMOUNT " \
    "[--min-completed N] [--min-rating STARS] | update ID [--price A] [--deposit A] [--min-completed N] " \
    "[--min-rating STARS] [--active yes|no] | list [--owner ADDRESS] | show ID"

/* The terms given on the line, as text until they are applied. */
struct terms {
    const char *price, *deposit, *min_completed, *min_rating;
};

static int take_terms(struct wallet_ctx *ctx, struct terms *t)
{
    int rc = wallet_take_option(ctx, "--price", &t->price);
    rc = rc ? rc : wallet_take_option(ctx, "--deposit", &t->deposit);
    rc = rc ? rc : wallet_take_option(ctx, "--min-completed", &t->min_completed);
    rc = rc ? rc : wallet_take_option(ctx, "--min-rating", &t->min_rating);
    return rc;
}

/* Parses the terms that were given over the current values. */
static int apply_terms(struct wallet_ctx *ctx, const struct terms *t, uint64_t *price, uint64_t *deposit,
                       uint32_t *min_completed, uint16_t *min_rating_x100)
{
    int rc = 0;
    if (t->price != NULL)
        rc = wallet_parse_amount(ctx, t->price, price);
    if (rc == 0 && t->deposit != NULL)
        rc = wallet_parse_amount(ctx, t->deposit, deposit);
    uint64_t v;
    if (rc == 0 && t->min_completed != NULL) {
        char *end;
        v = strtoull(t->min_completed, &end, 10);
        if (t->min_completed[0] == '\0' || *end != '\0' || v > UINT32_MAX)
            return wallet_fail(ctx, WALLET_E_USAGE, "--min-completed takes a whole number");
        *min_completed = (uint32_t)v;
    }
    if (rc == 0 && t->min_rating != NULL) { /* "4.5" stars is 450 in hundredths, like an amount */
        if (node_amount_parse(t->min_rating, &v) != 0 || v > 500)
            return wallet_fail(ctx, WALLET_E_USAGE, "--min-rating takes 0 to 5 stars, like 4.5");
        *min_rating_x100 = (uint16_t)v;
    }
    return rc;
}

static int parse_kind(struct wallet_ctx *ctx, const char *kind, uint8_t *out)
{
    for (unsigned k = NODE_RESOURCE_CAR; k <= NODE_RESOURCE_ROOM; k++)
        if (kind != NULL && strcmp(node_resource_kind_name(k), kind) == 0) {
            *out = (uint8_t)k;
            return 0;
        }
    return wallet_fail(ctx, WALLET_E_USAGE, "--kind is one of car, parking, tool, room");
}

/* The id of the newest resource of owner created at height, or 0. */
static uint64_t find_new_resource(struct wallet_ctx *ctx, const uint8_t owner[NODE_KEY_BYTES], uint64_t height)
{
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(owner, address);
    json_t *root = NULL, *r;
    uint64_t id = 0;
    size_t i;
    if (wallet_get_ok(ctx, "/v1/resources", &root) != 0)
        return 0;
    json_array_foreach(json_object_get(root, "resources"), i, r) {
        const char *o = wallet_json_str(r, "owner");
        if (o != NULL && strcmp(o, address) == 0 && wallet_json_u64(r, "created_height", 0) == height &&
            wallet_json_u64(r, "id", 0) > id)
            id = wallet_json_u64(r, "id", 0);
    }
    json_decref(root);
    return id;
}

static int resource_register(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    struct node_tx_resource_register *b = &tx.body.resource_register;
    const char *kind = NULL, *title = NULL;
    int rc = wallet_take_option(ctx, "--kind", &kind);
    rc = rc ? rc : wallet_take_option(ctx, "--title", &title);
    struct terms t = {0};
    rc = rc ? rc : take_terms(ctx, &t);
    rc = rc ? rc : wallet_expect_args(ctx, 0, 0, RESOURCE_USAGE);
    rc = rc ? rc : apply_terms(ctx, &t, &b->price_per_hour, &b->deposit, &b->min_completed, &b->min_rating_x100);
    rc = rc ? rc : parse_kind(ctx, kind, &b->kind);
    if (rc == 0 && (title == NULL || title[0] == '\0' || strlen(title) > NODE_TITLE_BYTES_MAX))
        rc = wallet_fail(ctx, WALLET_E_USAGE, "--title is required, at most %d bytes", NODE_TITLE_BYTES_MAX);
    if (rc != 0)
        return rc;
    snprintf(b->title, sizeof b->title, "%s", title);
    tx.type = NODE_TX_RESOURCE_REGISTER;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    uint64_t id = out.committed ? find_new_resource(ctx, out.source, out.height) : 0;
    if (!ctx->json && id != 0)
        printf("registered resource %llu: %s \"%s\", %s per hour, deposit %s\n", (unsigned long long)id, kind,
               b->title, wallet_amount(b->price_per_hour), wallet_amount(b->deposit));
    wallet_tx_print(ctx, &out, id ? json_pack("{s:I}", "resource_id", (json_int_t)id) : NULL);
    return 0;
}

/* Fetches /v1/resources/ID with a member-facing message on 404. */
static int get_resource(struct wallet_ctx *ctx, uint64_t id, json_t **out)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/resources/%llu", (unsigned long long)id);
    int rc = wallet_get_ok(ctx, path, out);
    if (rc == WALLET_E_NOT_FOUND) {
        ctx->message[0] = '\0';
        return wallet_fail(ctx, rc, "no resource %llu: see `nanum resource list`", (unsigned long long)id);
    }
    return rc;
}

static int resource_update(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    struct node_tx_resource_update *b = &tx.body.resource_update;
    const char *active = NULL;
    json_t *r = NULL;
    struct terms t = {0};
    int rc = wallet_take_option(ctx, "--active", &active);
    rc = rc ? rc : take_terms(ctx, &t);
    rc = rc ? rc : wallet_expect_args(ctx, 1, 1, RESOURCE_USAGE);
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "resource", &b->resource_id);
    rc = rc ? rc : get_resource(ctx, b->resource_id, &r);
    if (rc != 0)
        return rc;
    /* Unchanged terms are the current ones. */
    b->price_per_hour = wallet_json_u64(r, "price_per_hour_minor", 0);
    b->deposit = wallet_json_u64(r, "deposit_minor", 0);
    b->min_completed = (uint32_t)wallet_json_u64(r, "min_completed", 0);
    b->min_rating_x100 = (uint16_t)wallet_json_u64(r, "min_rating_x100", 0);
    b->active = json_is_true(json_object_get(r, "active"));
    json_decref(r);
    rc = apply_terms(ctx, &t, &b->price_per_hour, &b->deposit, &b->min_completed, &b->min_rating_x100);
    if (rc == 0 && active != NULL) {
        if (strcmp(active, "yes") != 0 && strcmp(active, "no") != 0)
            return wallet_fail(ctx, WALLET_E_USAGE, "--active takes yes or no");
        b->active = strcmp(active, "yes") == 0;
    }
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_RESOURCE_UPDATE;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc == 0)
        wallet_tx_print(ctx, &out, json_pack("{s:I}", "resource_id", (json_int_t)b->resource_id));
    return rc;
}

static void print_resource_row(const json_t *r)
{
    printf("%6llu  %-8s %-24.24s %10s %10s  %-8s %.12s…\n", (unsigned long long)wallet_json_u64(r, "id", 0),
           wallet_json_str(r, "kind") ?: "?", wallet_json_str(r, "title") ?: "",
           wallet_amount(wallet_json_u64(r, "price_per_hour_minor", 0)),
           wallet_amount(wallet_json_u64(r, "deposit_minor", 0)),
           json_is_true(json_object_get(r, "active")) ? "yes" : "no", wallet_json_str(r, "owner") ?: "?");
}

static int resource_list(struct wallet_ctx *ctx)
{
    const char *owner = NULL;
    int rc = wallet_take_option(ctx, "--owner", &owner);
    rc = rc ? rc : wallet_expect_args(ctx, 0, 0, RESOURCE_USAGE);
    uint8_t key[NODE_KEY_BYTES];
    if (rc == 0 && owner != NULL)
        rc = wallet_parse_address(ctx, owner, key);
    json_t *root = NULL, *r;
    rc = rc ? rc : wallet_get_ok(ctx, "/v1/resources", &root);
    if (rc != 0)
        return rc;
    json_t *kept = json_array();
    size_t i;
    json_array_foreach(json_object_get(root, "resources"), i, r) {
        const char *o = wallet_json_str(r, "owner");
        if (owner == NULL || (o != NULL && strcmp(o, owner) == 0))
            json_array_append(kept, r);
    }
    if (ctx->json) {
        wallet_print_json(json_pack("{s:o, s:O}", "resources", kept, "truncated", json_object_get(root, "truncated")));
    } else {
        printf("%6s  %-8s %-24s %10s %10s  %-8s %s\n", "ID", "KIND", "TITLE", "PRICE/H", "DEPOSIT", "ACTIVE", "OWNER");
        json_array_foreach(kept, i, r) print_resource_row(r);
        json_decref(kept);
    }
    json_decref(root);
    return 0;
}

static int resource_show(struct wallet_ctx *ctx)
{
    uint64_t id = 0;
    json_t *r = NULL, *bookings = NULL;
    char path[64];
    int rc = wallet_expect_args(ctx, 1, 1, RESOURCE_USAGE);
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "resource", &id);
    rc = rc ? rc : get_resource(ctx, id, &r);
    snprintf(path, sizeof path, "/v1/bookings?resource=%llu", (unsigned long long)id);
    rc = rc ? rc : wallet_get_ok(ctx, path, &bookings);
    if (rc != 0) {
        json_decref(r);
        return rc;
    }
    if (ctx->json) {
        json_object_set(r, "bookings", json_object_get(bookings, "bookings"));
        wallet_print_json(r);
        json_decref(bookings);
        return 0;
    }
    printf("resource  %llu (%s) \"%s\"\nowner     %s\nprice     %s per hour\ndeposit   %s\nactive    %s\n",
           (unsigned long long)id, wallet_json_str(r, "kind") ?: "?", wallet_json_str(r, "title") ?: "",
           wallet_json_str(r, "owner") ?: "?", wallet_amount(wallet_json_u64(r, "price_per_hour_minor", 0)),
           wallet_amount(wallet_json_u64(r, "deposit_minor", 0)), json_is_true(json_object_get(r, "active")) ? "yes" : "no");
    printf("bookings:\n%8s  %-16s  %-16s  %-10s %s\n", "ID", "FROM", "TO", "STATUS", "RENTER");
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(bookings, "bookings"), i, b)
        printf("%8llu  %-16s  %-16s  %-10s %.12s…\n", (unsigned long long)wallet_json_u64(b, "id", 0),
               wallet_time(wallet_json_u64(b, "start", 0)), wallet_time(wallet_json_u64(b, "end", 0)),
               wallet_json_str(b, "status") ?: "?", wallet_json_str(b, "renter") ?: "?");
    json_decref(r);
    json_decref(bookings);
    return 0;
}

int wallet_cmd_resource(struct wallet_ctx *ctx)
{
    const char *sub = ctx->argc >= 2 ? ctx->argv[1] : "";
    if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0 || strcmp(sub, "register") == 0 ||
        strcmp(sub, "update") == 0) {
        /* The sub-command word becomes argv[0], so positional words start at 1. */
        ctx->argv[0] = ctx->argv[1];
        memmove(&ctx->argv[1], &ctx->argv[2], (size_t)(ctx->argc - 2) * sizeof ctx->argv[0]);
        ctx->argc--;
        if (strcmp(sub, "list") == 0)
            return resource_list(ctx);
        if (strcmp(sub, "show") == 0)
            return resource_show(ctx);
        if (strcmp(sub, "register") == 0)
            return resource_register(ctx);
        return resource_update(ctx);
    }
    return wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum %s", RESOURCE_USAGE);
}
