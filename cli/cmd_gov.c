/*
 * cmd_gov.c — `nanum gov propose|vote|list|show`: one member, one vote.
 *
 *   gov propose param.set NAME VALUE [--title T]
 *   gov propose treasury.pay TO AMOUNT [--title T]
 *   gov propose member.admit|member.remove ADDRESS [--title T]
 *   gov propose org.admit ADDRESS NAME [--title T]
 *   gov propose validator.add NODE_KEY ORG HOST:PORT [--title T]
 *   gov propose validator.remove NODE_KEY [--title T]
 *   gov vote ID yes|no;  gov list;  gov show ID
 *
 * After a propose is committed, the proposal's id (assigned by the ledger)
 * is found among the proposals created at that height by this account.
 *
 * Read next: spec/transactions.md §gov.propose, §gov.vote.
 */
#include <stdlib.h>
#include <string.h>

#include "wallet.h"

#define GOV_USAGE "gov propose KIND ARGS... [--title TEXT] | vote ID yes|no | list | show ID"

/* The kind's words after "propose KIND" into the body. */
static int proposal_body(struct wallet_ctx *ctx, struct node_proposal_body *b)
{
    const char *kind = ctx->argv[1];
    char **w = &ctx->argv[2];
    int words = ctx->argc - 2;
    int rc = WALLET_E_USAGE;
    if (strcmp(kind, "param.set") == 0 && words == 2) {
        int id = node_param_id(w[0]);
        char *end;
        uint64_t value = strtoull(w[1], &end, 10);
        if (id < 0)
            return wallet_fail(ctx, rc, "no parameter '%s' (spec/transactions.md lists them)", w[0]);
        if (w[1][0] == '\0' || *end != '\0' || !node_param_valid((unsigned)id, value))
            return wallet_fail(ctx, rc, "'%s' is not an allowed value of %s", w[1], w[0]);
        b->kind = NODE_PROPOSAL_PARAM_SET;
        b->u.param_set.param_id = (uint16_t)id;
        b->u.param_set.value = value;
        return 0;
    }
    if (strcmp(kind, "treasury.pay") == 0 && words == 2) {
        b->kind = NODE_PROPOSAL_TREASURY_PAY;
        rc = wallet_parse_address(ctx, w[0], b->u.treasury_pay.destination);
        return rc ? rc : wallet_parse_amount(ctx, w[1], &b->u.treasury_pay.amount);
    }
    if ((strcmp(kind, "member.admit") == 0 || strcmp(kind, "member.remove") == 0) && words == 1) {
        b->kind = kind[7] == 'a' ? NODE_PROPOSAL_MEMBER_ADMIT : NODE_PROPOSAL_MEMBER_REMOVE;
        return wallet_parse_address(ctx, w[0], b->u.member.account);
    }
    if (strcmp(kind, "org.admit") == 0 && words == 2 && strlen(w[1]) <= NODE_NAME_BYTES_MAX) {
        b->kind = NODE_PROPOSAL_ORG_ADMIT;
        snprintf(b->u.org_admit.name, sizeof b->u.org_admit.name, "%s", w[1]);
        return wallet_parse_address(ctx, w[0], b->u.org_admit.account);
    }
    if (strcmp(kind, "validator.add") == 0 && words == 3 && strlen(w[2]) <= NODE_ADDRESS_HINT_BYTES_MAX) {
        b->kind = NODE_PROPOSAL_VALIDATOR_ADD;
        snprintf(b->u.validator_add.address, sizeof b->u.validator_add.address, "%s", w[2]);
        rc = wallet_parse_address(ctx, w[0], b->u.validator_add.node_key);
        return rc ? rc : wallet_parse_address(ctx, w[1], b->u.validator_add.org);
    }
    if (strcmp(kind, "validator.remove") == 0 && words == 1) {
        b->kind = NODE_PROPOSAL_VALIDATOR_REMOVE;
        return wallet_parse_address(ctx, w[0], b->u.validator_remove.node_key);
    }
    return wallet_fail(ctx, rc, "usage: nanum gov propose param.set NAME VALUE | treasury.pay TO AMOUNT | "
                       "member.admit ADDRESS | member.remove ADDRESS | org.admit ADDRESS NAME | "
                       "validator.add NODE_KEY ORG HOST:PORT | validator.remove NODE_KEY  [--title TEXT]");
}

/* The id of the proposal this account created at height, or 0. */
static uint64_t find_new_proposal(struct wallet_ctx *ctx, const struct wallet_tx_outcome *out)
{
    char address[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(out->source, address);
    json_t *root = NULL, *p;
    uint64_t id = 0;
    size_t i;
    if (wallet_get_ok(ctx, "/v1/proposals", &root) != 0)
        return 0;
    json_array_foreach(json_object_get(root, "proposals"), i, p) {
        const char *proposer = wallet_json_str(p, "proposer");
        if (proposer != NULL && strcmp(proposer, address) == 0 && wallet_json_u64(p, "created_height", 0) == out->height)
            id = wallet_json_u64(p, "id", 0);
    }
    json_decref(root);
    return id;
}

static int gov_propose(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    const char *title = NULL;
    int rc = wallet_take_option(ctx, "--title", &title);
    rc = rc ? rc : wallet_expect_args(ctx, 1, 4, GOV_USAGE);
    rc = rc ? rc : proposal_body(ctx, &tx.body.gov_propose);
    if (rc == 0 && title != NULL && strlen(title) > NODE_PROPOSAL_TITLE_BYTES_MAX)
        rc = wallet_fail(ctx, WALLET_E_USAGE, "the title is longer than %d bytes", NODE_PROPOSAL_TITLE_BYTES_MAX);
    if (rc != 0)
        return rc;
    if (title != NULL)
        snprintf(tx.body.gov_propose.title, sizeof tx.body.gov_propose.title, "%s", title);
    else /* the proposal's own words make its default title */
        for (int i = 1; i < ctx->argc; i++) {
            size_t used = strlen(tx.body.gov_propose.title);
            snprintf(tx.body.gov_propose.title + used, sizeof tx.body.gov_propose.title - used, "%s%s",
                     i > 1 ? " " : "", ctx->argv[i]);
        }
    tx.type = NODE_TX_GOV_PROPOSE;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    uint64_t id = out.committed ? find_new_proposal(ctx, &out) : 0;
    if (!ctx->json && id != 0)
        printf("proposal %llu: %s (vote with `nanum gov vote %llu yes|no`)\n", (unsigned long long)id,
               tx.body.gov_propose.title, (unsigned long long)id);
    wallet_tx_print(ctx, &out, id ? json_pack("{s:I}", "proposal_id", (json_int_t)id) : NULL);
    return 0;
}

static int gov_vote(struct wallet_ctx *ctx)
{
    struct node_tx tx;
    memset(&tx, 0, sizeof tx);
    int rc = wallet_expect_args(ctx, 2, 2, GOV_USAGE);
    rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "proposal", &tx.body.gov_vote.proposal_id);
    if (rc == 0 && strcmp(ctx->argv[2], "yes") != 0 && strcmp(ctx->argv[2], "no") != 0)
        rc = wallet_fail(ctx, WALLET_E_USAGE, "vote yes or no");
    if (rc != 0)
        return rc;
    tx.type = NODE_TX_GOV_VOTE;
    tx.body.gov_vote.yes = strcmp(ctx->argv[2], "yes") == 0;
    struct wallet_tx_outcome out;
    rc = wallet_tx_submit(ctx, &tx, &out);
    if (rc != 0)
        return rc;
    if (!ctx->json && out.committed)
        printf("voted %s on proposal %s\n", ctx->argv[2], ctx->argv[1]);
    wallet_tx_print(ctx, &out, json_pack("{s:I, s:b}", "proposal_id", (json_int_t)tx.body.gov_vote.proposal_id, "yes",
                                         tx.body.gov_vote.yes));
    return 0;
}

/* Lists all proposals, or shows the one with id (non-zero). */
static int gov_list(struct wallet_ctx *ctx, uint64_t only)
{
    json_t *root = NULL, *p, *found = NULL;
    int rc = wallet_get_ok(ctx, "/v1/proposals", &root);
    if (rc != 0)
        return rc;
    json_t *items = json_object_get(root, "proposals");
    size_t i;
    json_array_foreach(items, i, p) if (wallet_json_u64(p, "id", 0) == only) found = p;
    if (only != 0 && found == NULL) {
        json_decref(root);
        return wallet_fail(ctx, WALLET_E_NOT_FOUND, "no proposal %llu: see `nanum gov list`", (unsigned long long)only);
    }
    if (ctx->json) {
        wallet_print_json(json_incref(only ? found : root));
        json_decref(root);
        return 0;
    }
    if (only != 0) {
        char *body = json_dumps(json_object_get(found, "body"), JSON_COMPACT | JSON_SORT_KEYS);
        printf("proposal    %llu: %s\nkind        %s %s\nproposer    %s\nstatus      %s (yes %llu, no %llu)\n"
               "voting ends %s\n", (unsigned long long)only, wallet_json_str(found, "title") ?: "",
               wallet_json_str(found, "kind") ?: "?", body ? body : "", wallet_json_str(found, "proposer") ?: "?",
               wallet_json_str(found, "status") ?: "?", (unsigned long long)wallet_json_u64(found, "yes", 0),
               (unsigned long long)wallet_json_u64(found, "no", 0), wallet_time(wallet_json_u64(found, "deadline", 0)));
        if (wallet_json_u64(found, "effective_height", 0) != 0)
            printf("effective   at ledger %llu\n", (unsigned long long)wallet_json_u64(found, "effective_height", 0));
        free(body);
    } else {
        printf("%6s  %-18s %-12s %5s %5s  %s\n", "ID", "KIND", "STATUS", "YES", "NO", "TITLE");
        json_array_foreach(items, i, p)
            printf("%6llu  %-18s %-12s %5llu %5llu  %s\n", (unsigned long long)wallet_json_u64(p, "id", 0),
                   wallet_json_str(p, "kind") ?: "?", wallet_json_str(p, "status") ?: "?",
                   (unsigned long long)wallet_json_u64(p, "yes", 0), (unsigned long long)wallet_json_u64(p, "no", 0),
                   wallet_json_str(p, "title") ?: "");
    }
    json_decref(root);
    return 0;
}

int wallet_cmd_gov(struct wallet_ctx *ctx)
{
    const char *sub = ctx->argc >= 2 ? ctx->argv[1] : "";
    if (ctx->argc < 2)
        return wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum %s", GOV_USAGE);
    /* The sub-command word becomes argv[0], so positional words start at 1. */
    ctx->argv[0] = ctx->argv[1];
    memmove(&ctx->argv[1], &ctx->argv[2], (size_t)(ctx->argc - 2) * sizeof ctx->argv[0]);
    ctx->argc--;
    if (strcmp(sub, "propose") == 0)
        return gov_propose(ctx);
    if (strcmp(sub, "vote") == 0)
        return gov_vote(ctx);
    if (strcmp(sub, "list") == 0) {
        int rc = wallet_expect_args(ctx, 0, 0, GOV_USAGE);
        return rc ? rc : gov_list(ctx, 0);
    }
    if (strcmp(sub, "show") == 0) {
        uint64_t id = 0;
        int rc = wallet_expect_args(ctx, 1, 1, GOV_USAGE);
        rc = rc ? rc : wallet_parse_id(ctx, ctx->argv[1], "proposal", &id);
        return rc ? rc : gov_list(ctx, id);
    }
    return wallet_fail(ctx, WALLET_E_USAGE, "usage: nanum %s", GOV_USAGE);
}
