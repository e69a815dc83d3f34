/*
 * api.c — the node's HTTP/JSON API (spec/api.md), on node/http/http.c.
 *
 *   POST /v1/tx                     submit a signed transaction
 *   GET  /v1/tx/{id}                pending / committed / failed / unknown
 *   GET  /v1/accounts/{address}
 *   GET  /v1/ledgers/{height}       header, transactions, certificate
 *   GET  /v1/ledgers/latest           (?proofs=1 adds Merkle paths)
 *   GET  /v1/resources, /v1/resources/{id}
 *   GET  /v1/bookings?resource=ID | ?account=ADDRESS
 *   GET  /v1/proposals
 *   GET  /v1/status
 *   GET  /metrics                   Prometheus text format (node/daemon/metrics.c)
 *   GET  /v1/admin/peers            with Authorization: Bearer [api] admin_token
 *   GET  /v1/admin/validator-list
 *
 * Every error is {"error": {"code": "...", "message": "..."}} with a stable
 * code.  Handlers only read: the state through the chain's overlay (whose
 * cache is dropped after each request) and tables through the store.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "http.h"
#include "log.h"
#include "storage.h"

#define API_LIST_MAX 200 /* entries in one list response */

/* --- JSON helpers ----------------------------------------------------------------- */

static json_t *json_hex(const uint8_t *bytes, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (hex == NULL)
        return json_null();
    node_hex_encode(bytes, len, hex);
    json_t *s = json_string(hex);
    free(hex);
    return s;
}

static json_t *json_address(const uint8_t key[NODE_KEY_BYTES])
{
    char text[NODE_ADDRESS_TEXT_BYTES + 1];
    node_address_encode(key, text);
    return json_string(text);
}

static json_t *json_amount(uint64_t minor)
{
    char text[NODE_AMOUNT_TEXT_BYTES_MAX];
    node_amount_format(minor, text);
    return json_string(text);
}

/* Sends obj (stolen) as the response. */
static void reply(struct http_response *resp, int status, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == NULL) {
        http_response_error(resp, 500, "internal", "could not build the response");
        return;
    }
    http_response_json(resp, status, text);
    free(text);
}

static void reply_error(struct http_response *resp, int status, const char *code, const char *message)
{
    http_response_error(resp, status, code, message);
}

/* --- Records as JSON ------------------------------------------------------------------ */

static json_t *account_json(const struct node_account *a)
{
    json_t *roles = json_array();
    if (a->flags & NODE_ACCOUNT_MEMBER)
        json_array_append_new(roles, json_string("member"));
    if (a->flags & NODE_ACCOUNT_ORG)
        json_array_append_new(roles, json_string("org"));
    json_t *trust = json_pack("{s:I, s:I, s:I, s:I}", "completed_as_renter", (json_int_t)a->completed_as_renter,
                              "completed_as_owner", (json_int_t)a->completed_as_owner, "rating_sum",
                              (json_int_t)a->rating_sum, "rating_count", (json_int_t)a->rating_count);
    if (a->rating_count > 0)
        json_object_set_new(trust, "rating_average", json_real((double)a->rating_sum / a->rating_count));
    bool commons = memcmp(a->key, node_commons_key, NODE_KEY_BYTES) == 0;
    return json_pack("{s:o, s:o, s:I, s:I, s:o, s:I, s:o, s:o, s:s, s:b}", "address", json_address(a->key),
                     "balance", json_amount(a->balance), "balance_minor", (json_int_t)a->balance, "seq",
                     (json_int_t)a->seq, "held", json_amount(a->held), "held_minor", (json_int_t)a->held,
                     "roles", roles, "trust", trust, "name", a->name, "commons_fund", commons);
}

static json_t *resource_json(const struct node_resource *r)
{
    return json_pack("{s:I, s:o, s:s, s:s, s:o, s:I, s:o, s:I, s:I, s:I, s:b, s:I}", "id", (json_int_t)r->id,
                     "owner", json_address(r->owner), "kind", node_resource_kind_name(r->kind), "title",
                     r->title, "price_per_hour", json_amount(r->price_per_hour), "price_per_hour_minor",
                     (json_int_t)r->price_per_hour, "deposit", json_amount(r->deposit), "deposit_minor",
                     (json_int_t)r->deposit, "min_completed", (json_int_t)r->min_completed,
                     "min_rating_x100", (json_int_t)r->min_rating_x100, "active", r->active,
                     "created_height", (json_int_t)r->created_height);
}

static json_t *booking_json(const struct node_booking *b)
{
    return json_pack("{s:I, s:I, s:o, s:o, s:I, s:I, s:o, s:o, s:s, s:o, s:o, s:b, s:b, s:I, s:I}", "id",
                     (json_int_t)b->id, "resource_id", (json_int_t)b->resource_id, "renter",
                     json_address(b->renter), "owner", json_address(b->owner), "start", (json_int_t)b->start,
                     "end", (json_int_t)b->end, "price_total", json_amount(b->price_total), "deposit",
                     json_amount(b->deposit), "status", node_booking_status_name(b->status), "damage_claim",
                     json_amount(b->damage_claim), "coop_fee", json_amount(b->coop_fee), "rated_by_renter",
                     b->rated_by_renter, "rated_by_owner", b->rated_by_owner, "created_height",
                     (json_int_t)b->created_height, "closed_height", (json_int_t)b->closed_height);
}

static json_t *proposal_json(const struct node_proposal *p)
{
    json_t *body = json_object();
    const struct node_proposal_body *b = &p->body;
    switch (b->kind) {
    case NODE_PROPOSAL_VALIDATOR_ADD:
        json_object_set_new(body, "node_key", json_address(b->u.validator_add.node_key));
        json_object_set_new(body, "org", json_address(b->u.validator_add.org));
        json_object_set_new(body, "address", json_string(b->u.validator_add.address));
        break;
    case NODE_PROPOSAL_VALIDATOR_REMOVE:
        json_object_set_new(body, "node_key", json_address(b->u.validator_remove.node_key));
        break;
    case NODE_PROPOSAL_ORG_ADMIT:
        json_object_set_new(body, "account", json_address(b->u.org_admit.account));
        json_object_set_new(body, "name", json_string(b->u.org_admit.name));
        break;
    case NODE_PROPOSAL_MEMBER_ADMIT:
    case NODE_PROPOSAL_MEMBER_REMOVE:
        json_object_set_new(body, "account", json_address(b->u.member.account));
        break;
    case NODE_PROPOSAL_PARAM_SET:
        json_object_set_new(body, "param", json_string(node_param_name(b->u.param_set.param_id)));
        json_object_set_new(body, "value", json_integer((json_int_t)b->u.param_set.value));
        break;
    case NODE_PROPOSAL_TREASURY_PAY:
        json_object_set_new(body, "destination", json_address(b->u.treasury_pay.destination));
        json_object_set_new(body, "amount", json_amount(b->u.treasury_pay.amount));
        break;
    }
    json_t *obj = json_pack("{s:I, s:o, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:s, s:I, s:I}", "id", (json_int_t)p->id,
                            "proposer", json_address(p->proposer), "kind", node_proposal_kind_name(b->kind),
                            "title", b->title, "body", body, "created_height", (json_int_t)p->created_height,
                            "deadline", (json_int_t)p->deadline, "yes", (json_int_t)p->yes, "no",
                            (json_int_t)p->no, "status", node_proposal_status_name(p->status),
                            "decided_height", (json_int_t)p->decided_height, "effective_height",
                            (json_int_t)p->effective_height);
    if (p->status == NODE_PROPOSAL_ENACT_FAILED)
        json_object_set_new(obj, "enact_result", json_string(ledger_result_name(p->enact_result)));
    return obj;
}

/* --- Handlers ---------------------------------------------------------------------------- */

/* Reads the submitted bytes: raw msgpack, hex text, or JSON {"tx": "hex"}. */
static int submitted_bytes(const struct http_request *req, uint8_t *out, size_t *len, const char **why)
{
    const char *type = req->content_type ? req->content_type : "";
    if (strncmp(type, "application/msgpack", 19) == 0 || strncmp(type, "application/octet-stream", 24) == 0) {
        if (req->body_len > NODE_TX_BYTES_MAX) {
            *why = "the transaction is over the size limit";
            return -1;
        }
        memcpy(out, req->body, req->body_len);
        *len = req->body_len;
        return 0;
    }
    char hex[2 * NODE_TX_BYTES_MAX + 1];
    if (strncmp(type, "application/json", 16) == 0) {
        json_error_t jerr;
        json_t *root = json_loadb((const char *)req->body, req->body_len, 0, &jerr);
        const char *tx = root ? json_string_value(json_object_get(root, "tx")) : NULL;
        if (tx == NULL || strlen(tx) >= sizeof hex) {
            json_decref(root);
            *why = "expected a JSON object {\"tx\": \"<hex of the signed transaction>\"}";
            return -1;
        }
        snprintf(hex, sizeof hex, "%s", tx);
        json_decref(root);
    } else {
        size_t n = req->body_len;
        while (n > 0 && (req->body[n - 1] == '\n' || req->body[n - 1] == '\r' || req->body[n - 1] == ' '))
            n--;
        if (n >= sizeof hex) {
            *why = "the transaction is over the size limit";
            return -1;
        }
        memcpy(hex, req->body, n);
        hex[n] = '\0';
    }
    size_t bytes = strlen(hex) / 2;
    if (strlen(hex) % 2 != 0 || bytes == 0 || node_hex_decode(hex, out, bytes) != 0) {
        *why = "the body is not valid hexadecimal";
        return -1;
    }
    *len = bytes;
    return 0;
}

static void post_tx(struct nanumd *d, const struct http_request *req, struct http_response *resp)
{
    uint8_t bytes[NODE_TX_BYTES_MAX];
    size_t len = 0;
    const char *why = NULL;
    if (submitted_bytes(req, bytes, &len, &why) != 0) {
        reply_error(resp, 400, "bad_encoding", why);
        return;
    }
    enum mempool_verdict verdict;
    uint8_t id[NODE_HASH_BYTES];
    memset(id, 0, sizeof id);
    if (nanumd_submit_tx(d, bytes, len, false, &verdict, id) != 0) {
        reply_error(resp, 500, "internal", "the node could not check the transaction");
        return;
    }
    if (verdict == MEMPOOL_ADMITTED || verdict == MEMPOOL_DUPLICATE) {
        /* The answer every accepted submission gets, written directly (no
         * JSON tree): booking systems send thousands a second. */
        char hex[2 * NODE_HASH_BYTES + 1], text[2 * NODE_HASH_BYTES + 64];
        node_hex_encode(id, NODE_HASH_BYTES, hex);
        snprintf(text, sizeof text, "{\"hash\":\"%s\",\"status\":\"pending\"}", hex);
        http_response_json(resp, verdict == MEMPOOL_ADMITTED ? 202 : 200, text);
        return;
    }
    /* Already committed?  Then say so rather than "bad_seq". */
    uint64_t height;
    uint32_t index;
    uint16_t code;
    if (verdict == MEMPOOL_BAD_SEQ && ledger_chain_find_tx(d->chain, id, &height, &index, &code) == 0) {
        reply(resp, 200, json_pack("{s:o, s:s, s:I}", "hash", json_hex(id, NODE_HASH_BYTES), "status",
                                   code == LEDGER_OK ? "committed" : "failed", "height", (json_int_t)height));
        return;
    }
    reply_error(resp, verdict == MEMPOOL_FULL ? 503 : 400, mempool_verdict_name(verdict),
                mempool_verdict_message(verdict));
}

static bool parse_hash(const char *text, uint8_t out[NODE_HASH_BYTES])
{
    return strlen(text) == 2 * NODE_HASH_BYTES && node_hex_decode(text, out, NODE_HASH_BYTES) == 0;
}

static void get_tx(struct nanumd *d, const char *arg, struct http_response *resp)
{
    uint8_t id[NODE_HASH_BYTES];
    if (!parse_hash(arg, id)) {
        reply_error(resp, 400, "bad_hash", "a transaction id is 64 hexadecimal digits");
        return;
    }
    uint64_t height;
    uint32_t index;
    uint16_t code;
    if (ledger_chain_find_tx(d->chain, id, &height, &index, &code) == 0) {
        reply(resp, 200, json_pack("{s:o, s:s, s:I, s:I, s:s, s:i, s:s}", "hash", json_hex(id, NODE_HASH_BYTES),
                                   "status", code == LEDGER_OK ? "committed" : "failed", "height",
                                   (json_int_t)height, "index", (json_int_t)index, "result",
                                   ledger_result_name(code), "result_code", (int)code, "message",
                                   ledger_result_message(code)));
        return;
    }
    const char *status = node_mempool_contains(d->mempool, id) ? "pending" : "unknown";
    reply(resp, 200, json_pack("{s:o, s:s}", "hash", json_hex(id, NODE_HASH_BYTES), "status", status));
}

static void get_account(struct nanumd *d, const char *arg, struct http_response *resp)
{
    uint8_t key[NODE_KEY_BYTES];
    int rc = node_address_decode(arg, key);
    if (rc != 0) {
        reply_error(resp, 400, rc == NODE_E_BAD_CHECKSUM ? "bad_checksum" : "bad_address", node_strerror(rc));
        return;
    }
    struct node_account a;
    rc = ledger_account_get(nanumd_state(d), key, &a);
    if (rc == 1) {
        reply_error(resp, 404, "unknown_account",
                    "no such account: it comes into being when it first receives at least the minimum balance");
        return;
    }
    if (rc != 0) {
        reply_error(resp, 500, "internal", "cannot read the account");
        return;
    }
    reply(resp, 200, account_json(&a));
}

/* The ledger at height (spec/api.md): header fields, transactions with
 * results, the certificate; with proofs, each transaction's Merkle path;
 * brief, each transaction is only its hash, result and fee (what a client
 * following its own commits needs: a tenth of the bytes of a
 * 5,000-transaction ledger). */
static json_t *ledger_json(struct nanumd *d, uint64_t height, bool proofs, bool brief)
{
    uint8_t *bytes;
    size_t len;
    struct node_block blk;
    if (ledger_chain_block(d->chain, height, &bytes, &len) != 0)
        return NULL;
    int rc = node_block_decode(bytes, len, &blk);
    free(bytes);
    if (rc != 0)
        return NULL;
    const struct node_header *h = &blk.header;
    uint8_t hash[NODE_HASH_BYTES];
    node_header_hash(h, d->network_id, hash);
    struct node_buf header_bytes;
    node_buf_init(&header_bytes);
    node_header_encode(h, &header_bytes);
    json_t *header = json_pack("{s:I, s:I, s:o, s:I, s:o, s:o, s:o, s:o}", "version", (json_int_t)h->version,
                               "height", (json_int_t)h->height, "previous_hash", json_hex(h->previous_hash, 32),
                               "close_time_ms", (json_int_t)h->close_time_ms, "tx_set_hash", json_hex(h->tx_set_hash, 32),
                               "results_hash", json_hex(h->results_hash, 32), "state_hash",
                               json_hex(h->state_hash, 32), "validator_set_hash", json_hex(h->validator_set_hash, 32));
    uint8_t (*leaves)[NODE_HASH_BYTES] = proofs ? malloc((blk.tx_count ? blk.tx_count : 1) * sizeof *leaves) : NULL;
    for (uint32_t i = 0; leaves != NULL && i < blk.tx_count; i++)
        node_merkle_leaf(blk.tx_bytes[i], blk.tx_lens[i], leaves[i]);
    json_t *txs = json_array();
    for (uint32_t i = 0; i < blk.tx_count; i++) {
        struct node_tx_envelope env;
        uint8_t id[NODE_HASH_BYTES];
        json_t *t = json_pack("{s:s, s:i, s:o}", "result", ledger_result_name(blk.results[i].code), "result_code",
                              (int)blk.results[i].code, "fee_charged", json_amount(blk.results[i].fee_charged));
        if (!brief)
            json_object_set_new(t, "envelope", json_hex(blk.tx_bytes[i], blk.tx_lens[i]));
        if (node_envelope_open(blk.tx_bytes[i], blk.tx_lens[i], d->network_id, false, &env, id) == 0) {
            json_object_set_new(t, "hash", json_hex(id, NODE_HASH_BYTES));
            if (!brief) {
                json_object_set_new(t, "type", json_string(node_tx_type_name(env.tx.type)));
                json_object_set_new(t, "source", json_address(env.tx.source));
            }
        }
        if (proofs && leaves != NULL) {
            uint8_t path[64][NODE_HASH_BYTES];
            size_t path_len;
            json_t *p = json_array();
            if (node_merkle_path((const uint8_t(*)[NODE_HASH_BYTES])leaves, blk.tx_count, i, path, &path_len) == 0)
                for (size_t k = 0; k < path_len; k++)
                    json_array_append_new(p, json_hex(path[k], NODE_HASH_BYTES));
            json_object_set_new(t, "merkle_path", p);
        }
        json_array_append_new(txs, t);
    }
    free(leaves);
    struct node_certificate *cert = malloc(sizeof *cert);
    json_t *signers = json_array();
    bool quorum = false;
    if (cert != NULL && nanumd_certificate_load(d, height, cert) == 0) {
        for (uint32_t i = 0; i < cert->count; i++)
            json_array_append_new(signers, json_pack("{s:o, s:o}", "node_key", json_address(cert->signers[i].node_key),
                                                     "signature", json_hex(cert->signers[i].signature, 64)));
        quorum = height == 0 || nanumd_certificate_valid(d, hash, cert);
    }
    free(cert);
    json_t *obj = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:b}", "height", (json_int_t)h->height, "hash",
                            json_hex(hash, 32), "header", header, "header_bytes",
                            json_hex(header_bytes.data, header_bytes.len), "transactions", txs, "certificate",
                            signers, "certificate_quorum", quorum);
    node_buf_free(&header_bytes);
    node_block_free(&blk);
    return obj;
}

static void get_ledger(struct nanumd *d, const char *arg, const char *query, struct http_response *resp)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    uint64_t height = last.height;
    if (strcmp(arg, "latest") != 0) {
        char *end;
        unsigned long long v = strtoull(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || arg[0] == '-') {
            reply_error(resp, 400, "bad_height", "a ledger height is a whole number, or \"latest\"");
            return;
        }
        height = v;
    }
    if (height > last.height) {
        reply_error(resp, 404, "unknown_ledger", "no ledger at that height yet");
        return;
    }
    json_t *obj = ledger_json(d, height, strstr(query, "proofs=1") != NULL, strstr(query, "brief=1") != NULL);
    if (obj == NULL) {
        reply_error(resp, 500, "internal", "cannot read the ledger");
        return;
    }
    reply(resp, 200, obj);
}

/* --- Lists from the store ---------------------------------------------------------------- */

struct list_ctx {
    json_t *items;
    int kind; /* 0 resources, 1 bookings, 2 proposals */
    uint64_t resource_filter;
    bool by_account;
    uint8_t account[NODE_KEY_BYTES];
};

static int list_visit(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len)
{
    (void)key;
    (void)key_len;
    struct list_ctx *l = ctx;
    if (json_array_size(l->items) >= API_LIST_MAX)
        return 1;
    if (l->kind == 0) {
        struct node_resource r;
        if (node_resource_decode(value, value_len, &r) == 0)
            json_array_append_new(l->items, resource_json(&r));
    } else if (l->kind == 1) {
        struct node_booking b;
        if (node_booking_decode(value, value_len, &b) != 0)
            return 0;
        if (l->resource_filter != 0 && b.resource_id != l->resource_filter)
            return 0;
        if (l->by_account && memcmp(b.renter, l->account, NODE_KEY_BYTES) != 0 &&
            memcmp(b.owner, l->account, NODE_KEY_BYTES) != 0)
            return 0;
        json_array_append_new(l->items, booking_json(&b));
    } else {
        struct node_proposal p;
        if (node_proposal_decode(value, value_len, &p) == 0)
            json_array_append_new(l->items, proposal_json(&p));
    }
    return 0;
}

static void list_table(struct nanumd *d, unsigned table, struct list_ctx *l, const char *name,
                       struct http_response *resp)
{
    l->items = json_array();
    int rc = store_scan(ledger_chain_store(d->chain), table, NULL, 0, list_visit, l);
    if (rc < 0) {
        json_decref(l->items);
        reply_error(resp, 500, "internal", "cannot read the table");
        return;
    }
    reply(resp, 200, json_pack("{s:o, s:b}", name, l->items, "truncated", rc == 1));
}

/* Value of key in a query string like "a=1&b=2", copied into out. */
static bool query_value(const char *query, const char *key, char *out, size_t out_len)
{
    size_t key_len = strlen(key);
    for (const char *p = query; p != NULL && *p != '\0';) {
        if (strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
            const char *v = p + key_len + 1;
            size_t n = strcspn(v, "&");
            if (n >= out_len)
                return false;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
        p = strchr(p, '&');
        if (p != NULL)
            p++;
    }
    return false;
}

static void get_bookings(struct nanumd *d, const char *query, struct http_response *resp)
{
    struct list_ctx l = {.kind = 1};
    char value[NODE_ADDRESS_TEXT_BYTES + 2];
    if (query_value(query, "resource", value, sizeof value)) {
        char *end;
        l.resource_filter = strtoull(value, &end, 10);
        if (*end != '\0' || l.resource_filter == 0) {
            reply_error(resp, 400, "bad_resource", "resource= takes a resource id");
            return;
        }
    } else if (query_value(query, "account", value, sizeof value)) {
        if (node_address_decode(value, l.account) != 0) {
            reply_error(resp, 400, "bad_address", "account= takes an address");
            return;
        }
        l.by_account = true;
    } else {
        reply_error(resp, 400, "missing_filter", "give ?resource=ID or ?account=ADDRESS");
        return;
    }
    list_table(d, LEDGER_TABLE_BOOKINGS, &l, "bookings", resp);
}

static void get_resource(struct nanumd *d, const char *arg, struct http_response *resp)
{
    char *end;
    uint64_t id = strtoull(arg, &end, 10);
    struct node_resource r;
    if (*arg == '\0' || *end != '\0') {
        reply_error(resp, 400, "bad_resource", "a resource id is a whole number");
        return;
    }
    int rc = ledger_resource_get(nanumd_state(d), id, &r);
    if (rc != 0) {
        reply_error(resp, rc == 1 ? 404 : 500, rc == 1 ? "unknown_resource" : "internal",
                    rc == 1 ? "no such resource" : "cannot read the resource");
        return;
    }
    reply(resp, 200, resource_json(&r));
}

static void get_status(struct nanumd *d, struct http_response *resp)
{
    struct node_header last;
    uint8_t hash[NODE_HASH_BYTES];
    ledger_chain_last(d->chain, &last, hash);
    size_t peers = 0;
    net_peers(d->net, NULL, 0, &peers);
    json_t *obj = json_pack(
        "{s:I, s:o, s:I, s:o, s:s, s:o, s:I, s:b, s:I, s:{s:I, s:I}, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:s}",
        "height", (json_int_t)last.height, "ledger_hash", json_hex(hash, 32), "close_time_ms",
        (json_int_t)last.close_time_ms, "network_id", json_hex(d->network_id, 32), "role",
        d->options.validator ? "validator" : "watcher", "node_key", json_address(d->options.node_pk), "peers",
        (json_int_t)peers, "synced", d->synced, "validators", (json_int_t)d->validators.count, "mempool", "count",
        (json_int_t)node_mempool_count(d->mempool), "bytes", (json_int_t)node_mempool_bytes(d->mempool),
        "best_peer_height", (json_int_t)d->best_peer_height, "stats", "ledgers_closed",
        (json_int_t)d->stats.ledgers_closed, "ledgers_caught_up", (json_int_t)d->stats.ledgers_caught_up,
        "txs_applied", (json_int_t)d->stats.txs_applied, "txs_failed", (json_int_t)d->stats.txs_failed,
        "txs_submitted", (json_int_t)d->stats.txs_submitted, "equivocations_seen",
        (json_int_t)d->stats.equivocations_seen, "hash_mismatches", (json_int_t)d->stats.hash_mismatches,
        "version", NANUM_VERSION);
    json_t *stats = json_object_get(obj, "stats");
    json_object_set_new(stats, "txs_from_peers", json_integer((json_int_t)d->stats.txs_from_peers));
    json_object_set_new(stats, "tx_batches_sent", json_integer((json_int_t)d->stats.tx_batches_sent));
    json_object_set_new(stats, "txs_batched", json_integer((json_int_t)d->stats.txs_batched));
    reply(resp, 200, obj);
}

/* --- Operations: /metrics and /v1/admin/... ------------------------------------------------ */

static void get_metrics(struct nanumd *d, struct http_response *resp)
{
    char *text;
    size_t len;
    if (nanumd_metrics_render(d, &text, &len) != 0) {
        reply_error(resp, 500, "internal", "could not build the metrics");
        return;
    }
    if (http_response_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len) != 0)
        reply_error(resp, 500, "internal", "the metrics are over the response limit");
    free(text);
}

/* True when the request carries the configured admin token.  Without a
 * token in the config the admin endpoints are off (403); the comparison
 * takes the same time wherever the tokens differ. */
static bool admin_allowed(struct nanumd *d, const struct http_request *req, struct http_response *resp)
{
    const char *token = d->options.api_admin_token;
    if (token[0] == '\0') {
        reply_error(resp, 403, "admin_disabled", "set [api] admin_token to use the admin endpoints");
        return false;
    }
    const char *auth = req->authorization;
    size_t len = strlen(token);
    if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || strlen(auth + 7) != len ||
        sodium_memcmp(auth + 7, token, len) != 0) {
        reply_error(resp, 401, "unauthorized", "send Authorization: Bearer <[api] admin_token>");
        return false;
    }
    return true;
}

/* GET /v1/admin/peers: every connected peer with its traffic. */
static void get_admin_peers(struct nanumd *d, struct http_response *resp)
{
    enum { PEERS_MAX = 256 };
    net_peer_info *peers = calloc(PEERS_MAX, sizeof *peers);
    size_t count = 0;
    if (peers == NULL) {
        reply_error(resp, 500, "internal", "out of memory");
        return;
    }
    net_peers(d->net, peers, PEERS_MAX, &count);
    json_t *list = json_array();
    uint64_t now = uv_now(d->loop);
    for (size_t i = 0; i < count && i < PEERS_MAX; i++) {
        const net_peer_info *p = &peers[i];
        json_array_append_new(
            list, json_pack("{s:o, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "node_key",
                            json_address(p->public_key), "address", p->address, "direction",
                            p->outbound ? "outbound" : "inbound", "connected_s",
                            (json_int_t)((now - p->connected_ms) / 1000), "bytes_sent", (json_int_t)p->bytes_sent,
                            "bytes_received", (json_int_t)p->bytes_received, "messages_sent",
                            (json_int_t)p->messages_sent, "messages_received", (json_int_t)p->messages_received,
                            "queue_messages", (json_int_t)p->queue_messages, "queue_bytes",
                            (json_int_t)p->queue_bytes, "rtt_ms", (json_int_t)p->rtt_ms));
    }
    free(peers);
    reply(resp, 200, json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(list), "peers", list));
}

/* GET /v1/admin/validator-list: the fetcher's status. */
static void get_admin_validator_list(struct nanumd *d, struct http_response *resp)
{
    struct nanumd_vlist_status s;
    if (!nanumd_vlist_status_get(d, &s)) {
        reply(resp, 200, json_pack("{s:b}", "configured", 0));
        return;
    }
    reply(resp, 200,
          json_pack("{s:b, s:b, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:s, s:I}", "configured", 1, "have_list",
                    s.have_list, "sequence", (json_int_t)s.sequence, "expires", (json_int_t)s.expires_s,
                    "validators", (json_int_t)s.validators, "expired", s.expired, "list_only",
                    (json_int_t)s.mismatch_missing, "ledger_only", (json_int_t)s.mismatch_extra,
                    "last_success", (json_int_t)s.last_success_s, "consecutive_failures",
                    (json_int_t)s.consecutive_failures, "last_outcome", nanumd_vlist_outcome(s.last_outcome),
                    "next_fetch_ms", (json_int_t)s.next_attempt_in_ms));
}

static void route_admin(struct nanumd *d, const struct http_request *req, struct http_response *resp)
{
    if (!admin_allowed(d, req, resp))
        return;
    if (strcmp(req->path, "/v1/admin/peers") == 0)
        get_admin_peers(d, resp);
    else if (strcmp(req->path, "/v1/admin/validator-list") == 0)
        get_admin_validator_list(d, resp);
    else
        reply_error(resp, 404, "not_found", "no such admin endpoint (see spec/api.md)");
}

/* --- Routing --------------------------------------------------------------------------- */

static void route(struct nanumd *d, const struct http_request *req, struct http_response *resp)
{
    const char *path = req->path;
    bool get = req->method == HTTP_METHOD_GET || req->method == HTTP_METHOD_HEAD;
    if (strcmp(path, "/v1/tx") == 0) {
        if (req->method != HTTP_METHOD_POST)
            reply_error(resp, 405, "method_not_allowed", "POST a signed transaction here");
        else
            post_tx(d, req, resp);
        return;
    }
    if (!get) {
        reply_error(resp, 405, "method_not_allowed", "this endpoint only answers GET");
        return;
    }
    if (strncmp(path, "/v1/tx/", 7) == 0)
        get_tx(d, path + 7, resp);
    else if (strncmp(path, "/v1/accounts/", 13) == 0)
        get_account(d, path + 13, resp);
    else if (strncmp(path, "/v1/ledgers/", 12) == 0)
        get_ledger(d, path + 12, req->query, resp);
    else if (strcmp(path, "/v1/resources") == 0) {
        struct list_ctx l = {.kind = 0};
        list_table(d, LEDGER_TABLE_RESOURCES, &l, "resources", resp);
    } else if (strncmp(path, "/v1/resources/", 14) == 0)
        get_resource(d, path + 14, resp);
    else if (strcmp(path, "/v1/bookings") == 0)
        get_bookings(d, req->query, resp);
    else if (strcmp(path, "/v1/proposals") == 0) {
        struct list_ctx l = {.kind = 2};
        list_table(d, LEDGER_TABLE_PROPOSALS, &l, "proposals", resp);
    } else if (strcmp(path, "/v1/status") == 0)
        get_status(d, resp);
    else if (strcmp(path, "/metrics") == 0)
        get_metrics(d, resp);
    else if (strncmp(path, "/v1/admin/", 10) == 0)
        route_admin(d, req, resp);
    else
        reply_error(resp, 404, "not_found", "no such endpoint (see spec/api.md)");
}

static void handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct nanumd *d = ctx;
    if (d->stopping) {
        reply_error(resp, 503, "stopping", "the node is shutting down");
        return;
    }
    route(d, req, resp);
    ledger_state_clear(nanumd_state(d)); /* reads must not pile up in the cache */
}

int nanumd_api_start(struct nanumd *d)
{
    struct http_config config;
    http_config_default(&config);
    config.host = d->options.api_host;
    config.port = d->options.api_port;
    if (d->options.api_connections_max > 0)
        config.connections_max = d->options.api_connections_max;
    if (d->options.api_body_bytes_max > 0)
        config.body_bytes_max = d->options.api_body_bytes_max;
    if (d->options.api_request_timeout_ms > 0)
        config.request_timeout_ms = d->options.api_request_timeout_ms;
    config.output_bytes_max = 16u << 20; /* a ledger of 5,000 transactions with proofs */
    int rc = http_server_create(d->loop, &config, handle, d, &d->http);
    if (rc != 0) {
        NODE_LOG(NODE_LOG_ERROR, "api_start_failed", "listen=%s:%u error=\"%s\"", d->options.api_host,
                 d->options.api_port, http_strerror(rc));
        return rc;
    }
    NODE_LOG(NODE_LOG_INFO, "api_listening", "address=%s:%u", d->options.api_host, http_server_listen_port(d->http));
    return 0;
}

void nanumd_api_stop(struct nanumd *d)
{
    if (d->http != NULL) {
        http_server_close(d->http);
        d->http = NULL;
    }
}
