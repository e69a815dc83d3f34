/*
 * chain.c — the chain of ledgers on the store (node/ledger/ledger.h).
 *
 * Closing a ledger:
 *   1. verify every envelope's signature on every core (node/ledger/verifier.c),
 *      overlapping with
 *   2. ledger_begin, ledger_apply_tx for each in order, ledger_end — into the
 *      overlay;
 *   3. index each transaction id (tx_index) in the overlay;
 *   4. state hash = H(previous state hash, this ledger's state changes);
 *      header = {version, height, previous header hash, close time, Merkle
 *      root of the envelopes, results hash, state hash, validator-set hash};
 *   5. one storage batch: the block, every overlay change; commit (fsync);
 *   6. drop the overlay: the store is now the state.
 * A failure before step 5's commit leaves the store as it was.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger.h"
#include "ledger_internal.h"
#include "storage.h"

#define CHAIN_META_NETWORK_ID "network_id"
#define CHAIN_PROGRESS_EVERY 1000

/* --- The overlay's base: the store ------------------------------------------- */

static int store_base_get(void *ctx, unsigned table, const uint8_t *key, size_t key_len,
                          uint8_t **value, size_t *value_len)
{
    int rc = store_get(ctx, table, key, key_len, value, value_len);
    if (rc == STORE_E_NOT_FOUND)
        return 1;
    return rc;
}

/* --- Committing the overlay ------------------------------------------------------ */

static int batch_change(void *ctx, unsigned table, const uint8_t *key, size_t key_len,
                        const uint8_t *value, size_t value_len)
{
    store_batch *b = ctx;
    return value != NULL ? store_batch_put(b, table, key, key_len, value, value_len)
                         : store_batch_delete(b, table, key, key_len);
}

/* Writes block bytes and all overlay changes in one batch and commits. */
static int commit_ledger(ledger_chain *c, uint64_t height, const struct node_buf *block,
                         bool write_network_id)
{
    store_batch *b;
    int rc = store_batch_begin(c->store, &b);
    if (rc != 0)
        return rc;
    rc = store_batch_append_block(b, height, block->data, block->len);
    if (rc == 0)
        rc = ledger_state_changes(c->state, batch_change, b);
    if (rc == 0)
        rc = ledger__history_stage(c, b, height);
    if (rc == 0 && write_network_id)
        rc = store_batch_meta_put(b, CHAIN_META_NETWORK_ID, c->network_id, NODE_HASH_BYTES);
    if (rc != 0) {
        store_batch_abort(b);
        ledger__history_committed(c, false);
        return rc;
    }
    rc = store_batch_commit(b);
    ledger__history_committed(c, rc == 0);
    return rc;
}

/* --- Building a ledger ----------------------------------------------------------- */

struct built {
    struct node_block block;
    struct node_buf bytes;
    uint8_t hash[NODE_HASH_BYTES];
};

static void built_free(struct built *b)
{
    free(b->block.results);
    node_buf_free(&b->bytes);
}

/* true for results that left no trace (no fee, no sequence): such a copy of
 * a transaction may be followed by the real one, which must win the index. */
static bool result_without_effect(uint16_t code)
{
    return code == LEDGER_MALFORMED || code == LEDGER_BAD_SIGNATURE || code == LEDGER_COMMONS_SOURCE ||
           code == LEDGER_NO_SOURCE || code == LEDGER_BAD_SEQ || code == LEDGER_FEE_TOO_LOW;
}

/*
 * Records each transaction's place in tx_index: height (8), position (4) and
 * result code (2), big-endian.  The transaction id does not cover the
 * signature, so the first copy with an effect wins; a copy without effect
 * (a forged signature, a replay) is indexed only until a real one comes.
 */
static int index_transactions(ledger_chain *c, uint64_t height, const uint8_t *const *txs,
                              const size_t *lens, const struct node_tx_result *results, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct node_tx_envelope env;
        uint8_t id[NODE_HASH_BYTES], where[14];
        const uint8_t *existing;
        size_t existing_len;
        if (node_envelope_open(txs[i], lens[i], c->network_id, false, &env, id) != 0)
            continue; /* malformed: it has no id to look up */
        int rc = ledger_state_get(c->state, LEDGER_TABLE_TX_INDEX, id, sizeof id, &existing,
                                  &existing_len);
        if (rc < 0)
            return rc;
        if (rc == 0 && (existing_len != sizeof where ||
                        !result_without_effect((uint16_t)(existing[12] << 8 | existing[13])) ||
                        result_without_effect(results[i].code)))
            continue;
        for (int k = 0; k < 8; k++)
            where[k] = (uint8_t)(height >> (56 - 8 * k));
        for (int k = 0; k < 4; k++)
            where[8 + k] = (uint8_t)(i >> (24 - 8 * k));
        where[12] = (uint8_t)(results[i].code >> 8);
        where[13] = (uint8_t)results[i].code;
        if ((rc = ledger_state_put(c->state, LEDGER_TABLE_TX_INDEX, id, sizeof id, where,
                                   sizeof where)) != 0)
            return rc;
    }
    return 0;
}

/* Fills the header's body-derived fields and the state and validator hashes. */
static int finish_header(ledger_chain *c, struct node_header *h, const uint8_t *const *txs,
                         const size_t *lens, const struct node_tx_result *results, uint32_t count)
{
    uint8_t (*leaves)[NODE_HASH_BYTES] = malloc((count ? count : 1) * sizeof *leaves);
    if (leaves == NULL)
        return NODE_E_NOMEM;
    for (uint32_t i = 0; i < count; i++)
        node_merkle_leaf(txs[i], lens[i], leaves[i]);
    int rc = node_merkle_root((const uint8_t(*)[NODE_HASH_BYTES])leaves, count, h->tx_set_hash);
    free(leaves);
    if (rc == 0)
        rc = node_results_hash(results, count, h->results_hash);
    if (rc == 0)
        rc = ledger_state_hash(c->state, c->last.state_hash, h->state_hash);
    struct node_validator_set set;
    if (rc == 0 && (rc = ledger_validators_get(c->state, &set)) == 0) {
        rc = node_validator_set_hash(&set, h->validator_set_hash);
        node_validator_set_free(&set);
    }
    return rc < 0 ? rc : (rc == 1 ? LEDGER_E_STATE_DAMAGED : rc);
}

/* Applies txs as ledger last+1 into the overlay and builds its block. */
static int build_ledger(ledger_chain *c, uint64_t close_time_ms, const uint8_t *const *txs,
                        const size_t *lens, uint32_t count, struct ledger__verifier *verifier,
                        struct built *out)
{
    memset(out, 0, sizeof *out);
    node_buf_init(&out->bytes);
    /* The rules work in seconds (bookings, deadlines); the header keeps ms. */
    struct ledger_context ctx = {.height = c->last.height + 1, .close_time = close_time_ms / 1000};
    memcpy(ctx.network_id, c->network_id, NODE_HASH_BYTES);
    out->block.results = calloc(count ? count : 1, sizeof *out->block.results);
    if (out->block.results == NULL)
        return NODE_E_NOMEM;
    int rc = ledger_begin(c->state, &ctx);
    for (uint32_t i = 0; rc == 0 && i < count; i++)
        rc = ledger_apply_tx(c->state, &ctx, txs[i], lens[i], ledger__verifier_wait(verifier, i),
                             &out->block.results[i]);
    if (rc == 0)
        rc = ledger_end(c->state, &ctx);
    if (rc == 0)
        rc = index_transactions(c, ctx.height, txs, lens, out->block.results, count);
    struct node_header *h = &out->block.header;
    h->version = NODE_HEADER_VERSION;
    h->height = ctx.height;
    h->close_time_ms = close_time_ms;
    memcpy(h->previous_hash, c->last_hash, NODE_HASH_BYTES);
    if (rc == 0)
        rc = finish_header(c, h, txs, lens, out->block.results, count);
    out->block.tx_count = count;
    out->block.tx_bytes = (uint8_t **)txs;
    out->block.tx_lens = (size_t *)lens;
    if (rc == 0)
        rc = node_block_encode(&out->block, &out->bytes);
    if (rc == 0)
        rc = node_header_hash(h, c->network_id, out->hash);
    return rc;
}

/* Commits a built ledger and makes it the last one; drops the overlay. */
static int adopt(ledger_chain *c, struct built *b)
{
    int rc = commit_ledger(c, b->block.header.height, &b->bytes, false);
    ledger_state_clear(c->state);
    if (rc == 0) {
        c->last = b->block.header;
        memcpy(c->last_hash, b->hash, NODE_HASH_BYTES);
    }
    return rc;
}

int ledger_chain_close_ledger(ledger_chain *c, uint64_t close_time_ms, const uint8_t *const *txs,
                              const size_t *lens, uint32_t count, struct node_header *header)
{
    return ledger_chain_close_ledger_checked(c, close_time_ms, txs, lens, count, NULL, header);
}

int ledger_chain_close_ledger_checked(ledger_chain *c, uint64_t close_time_ms, const uint8_t *const *txs,
                                      const size_t *lens, uint32_t count, const bool *checked,
                                      struct node_header *header)
{
    struct node_params params;
    int rc = ledger_params_get(c->state, &params);
    if (rc != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    if (close_time_ms <= c->last.close_time_ms)
        return NODE_E_INVALID;
    if (count > params.values[NODE_PARAM_tx_per_ledger_max])
        return NODE_E_TOO_MANY;
    for (uint32_t i = 0; i < count; i++)
        if (lens[i] > NODE_TX_BYTES_MAX)
            return NODE_E_TOO_LONG; /* the block could not be read back */
    struct ledger__verifier *verifier;
    if ((rc = ledger__verifier_start(c->network_id, txs, lens, count, checked, c->verify_threads,
                                     &verifier)) != 0)
        return rc;
    struct built b;
    rc = build_ledger(c, close_time_ms, txs, lens, count, verifier, &b);
    ledger__verifier_finish(verifier);
    if (rc == 0)
        rc = adopt(c, &b);
    else
        ledger_state_clear(c->state);
    if (rc == 0 && header != NULL)
        *header = b.block.header;
    built_free(&b);
    return rc;
}

int ledger_chain_apply_block(ledger_chain *c, const uint8_t *bytes, size_t len)
{
    return ledger_chain_apply_block_known(c, bytes, len, NULL, NULL);
}

int ledger_chain_apply_block_known(ledger_chain *c, const uint8_t *bytes, size_t len,
                                   bool (*known)(void *ctx, const uint8_t *tx, size_t tx_len), void *ctx)
{
    struct node_block given;
    int rc = node_block_decode(bytes, len, &given);
    if (rc != 0)
        return rc;
    if (given.header.height != c->last.height + 1 ||
        memcmp(given.header.previous_hash, c->last_hash, NODE_HASH_BYTES) != 0 ||
        given.header.close_time_ms <= c->last.close_time_ms) {
        node_block_free(&given);
        return LEDGER_E_CHAIN;
    }
    struct node_params params;
    if ((rc = ledger_params_get(c->state, &params)) != 0 ||
        given.tx_count > params.values[NODE_PARAM_tx_per_ledger_max]) {
        node_block_free(&given);
        ledger_state_clear(c->state);
        return rc < 0 ? rc : LEDGER_E_CHAIN;
    }
    bool *checked = NULL;
    if (known != NULL && given.tx_count > 0) {
        checked = calloc(given.tx_count, sizeof *checked);
        for (uint32_t i = 0; checked != NULL && i < given.tx_count; i++)
            checked[i] = known(ctx, given.tx_bytes[i], given.tx_lens[i]);
    }
    struct ledger__verifier *verifier;
    rc = ledger__verifier_start(c->network_id, (const uint8_t *const *)given.tx_bytes, given.tx_lens,
                                given.tx_count, checked, c->verify_threads, &verifier);
    if (rc != 0) {
        free(checked);
        node_block_free(&given);
        return rc;
    }
    struct built b;
    rc = build_ledger(c, given.header.close_time_ms, (const uint8_t *const *)given.tx_bytes,
                      given.tx_lens, given.tx_count, verifier, &b);
    ledger__verifier_finish(verifier);
    free(checked);
    /* The replay must reproduce the block exactly: header and results. */
    if (rc == 0 && (b.bytes.len != len || memcmp(b.bytes.data, bytes, len) != 0))
        rc = LEDGER_E_CHAIN;
    if (rc == 0)
        rc = adopt(c, &b);
    else
        ledger_state_clear(c->state);
    built_free(&b);
    node_block_free(&given);
    return rc;
}

/* --- Opening ------------------------------------------------------------------------ */

static int write_genesis(ledger_chain *c, const struct node_genesis *g)
{
    int rc = ledger_apply_genesis(c->state, g);
    struct built b;
    memset(&b, 0, sizeof b);
    node_buf_init(&b.bytes);
    struct node_header *h = &b.block.header;
    h->version = NODE_HEADER_VERSION;
    h->height = 0;
    h->close_time_ms = g->close_time * 1000; /* genesis JSON says seconds */
    memset(c->last.state_hash, 0, NODE_HASH_BYTES);
    if (rc == 0)
        rc = finish_header(c, h, NULL, NULL, NULL, 0);
    if (rc == 0)
        rc = node_block_encode(&b.block, &b.bytes);
    if (rc == 0)
        rc = node_header_hash(h, c->network_id, b.hash);
    if (rc == 0)
        rc = commit_ledger(c, 0, &b.bytes, true);
    ledger_state_clear(c->state);
    if (rc == 0) {
        c->last = *h;
        memcpy(c->last_hash, b.hash, NODE_HASH_BYTES);
    }
    node_buf_free(&b.bytes);
    return rc;
}

/* Loads the last block's header; checks the store's network id. */
static int load_last(ledger_chain *c, char *err, size_t err_len)
{
    uint8_t *id = NULL, *bytes = NULL;
    size_t id_len = 0, len = 0;
    uint64_t height;
    bool has;
    if (store_meta_get(c->store, CHAIN_META_NETWORK_ID, &id, &id_len) != 0 ||
        id_len != NODE_HASH_BYTES || memcmp(id, c->network_id, NODE_HASH_BYTES) != 0) {
        free(id);
        snprintf(err, err_len, "the data directory belongs to another network (genesis differs)");
        return LEDGER_E_OTHER_NETWORK;
    }
    free(id);
    int rc = store_last_height(c->store, &height, &has);
    if (rc == 0 && !has)
        rc = STORE_E_NOT_FOUND;
    if (rc == 0)
        rc = store_block_get(c->store, height, &bytes, &len);
    if (rc != 0) {
        snprintf(err, err_len, "cannot read the last ledger: %s", store_strerror(rc));
        return rc;
    }
    struct node_block blk;
    rc = node_block_decode(bytes, len, &blk);
    free(bytes);
    if (rc != 0) {
        snprintf(err, err_len, "ledger %llu does not decode: %s", (unsigned long long)height,
                 node_strerror(rc));
        return LEDGER_E_CHAIN;
    }
    c->last = blk.header;
    node_block_free(&blk);
    return node_header_hash(&c->last, c->network_id, c->last_hash);
}

int ledger_chain_open(const char *dir, const struct node_genesis *genesis,
                      const struct ledger_chain_options *options, ledger_chain **out,
                      char *err, size_t err_len)
{
    char scratch[8];
    if (err == NULL) {
        err = scratch;
        err_len = sizeof scratch;
    }
    err[0] = '\0';
    if (node_crypto_init() != 0)
        return NODE_E_INVALID;
    ledger_chain *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NODE_E_NOMEM;
    memcpy(c->network_id, genesis->network_id, NODE_HASH_BYTES);
    c->verify_threads = options ? options->verify_threads : 0;
    struct store_options so = {.map_size_initial = options ? options->map_size_initial : 0,
                               .no_sync = options && options->no_sync,
                               .tables = ledger_table_names,
                               .tables_count = LEDGER_TABLE_COUNT};
    int rc = store_open(dir, &so, &c->store);
    if (rc != 0) {
        snprintf(err, err_len, "%s: %s", dir, store_strerror(rc));
        free(c);
        return rc;
    }
    struct ledger_base base = {.ctx = c->store, .get = store_base_get};
    rc = ledger_state_create(&base, &c->state);
    uint64_t height;
    bool has = false;
    if (rc == 0)
        rc = store_last_height(c->store, &height, &has);
    if (rc == 0)
        rc = has ? load_last(c, err, err_len) : write_genesis(c, genesis);
    if (rc == 0 && has)
        rc = ledger__history_open(c, genesis, err, err_len);
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, err_len, "%s", ledger_strerror(rc));
        ledger_chain_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void ledger_chain_close(ledger_chain *c)
{
    if (c == NULL)
        return;
    ledger__history_close(c);
    ledger_state_destroy(c->state);
    store_close(c->store);
    free(c);
}

void ledger_chain_last(const ledger_chain *c, struct node_header *header,
                       uint8_t hash[static NODE_HASH_BYTES])
{
    if (header != NULL)
        *header = c->last;
    memcpy(hash, c->last_hash, NODE_HASH_BYTES);
}

ledger_state *ledger_chain_state(ledger_chain *c)
{
    return c->state;
}

struct store *ledger_chain_store(ledger_chain *c)
{
    return c->store;
}

void ledger_chain_set_validator_check(ledger_chain *c, ledger_validator_check check, void *ctx)
{
    ledger_state_set_validator_check(c->state, check, ctx);
}

int ledger_chain_block(ledger_chain *c, uint64_t height, uint8_t **bytes, size_t *len)
{
    int rc = store_block_get(c->store, height, bytes, len);
    return rc == STORE_E_NOT_FOUND ? 1 : rc;
}

static void height_key(uint64_t height, uint8_t key[8])
{
    for (int k = 0; k < 8; k++)
        key[k] = (uint8_t)(height >> (56 - 8 * k));
}

/* One put in its own durable batch: for the tables written outside a
 * ledger's commit (certificates, own statements). */
static int put_alone(ledger_chain *c, unsigned table, const uint8_t *key, size_t key_len, const uint8_t *value,
                     size_t value_len)
{
    store_batch *batch;
    int rc = store_batch_begin(c->store, &batch);
    if (rc != 0)
        return rc;
    rc = store_batch_put(batch, table, key, key_len, value, value_len);
    if (rc != 0) {
        store_batch_abort(batch);
        return rc;
    }
    return store_batch_commit(batch);
}

int ledger_chain_certificate_get(ledger_chain *c, uint64_t height, struct node_certificate *out)
{
    uint8_t key[8], *bytes = NULL;
    size_t len = 0;
    height_key(height, key);
    out->count = 0;
    int rc = store_get(c->store, LEDGER_TABLE_CERTIFICATES, key, sizeof key, &bytes, &len);
    if (rc == STORE_E_NOT_FOUND)
        return 0;
    if (rc != 0)
        return rc;
    rc = node_certificate_decode(bytes, len, out);
    free(bytes);
    if (rc != 0)
        out->count = 0; /* a damaged certificate is rebuilt from signatures */
    return 0;
}

int ledger_chain_certificate_put(ledger_chain *c, uint64_t height, const struct node_certificate *cert)
{
    uint8_t key[8];
    height_key(height, key);
    struct node_buf b;
    node_buf_init(&b);
    int rc = node_certificate_encode(cert, &b);
    if (rc == 0)
        rc = put_alone(c, LEDGER_TABLE_CERTIFICATES, key, sizeof key, b.data, b.len);
    node_buf_free(&b);
    return rc;
}

static const uint8_t own_statements_key[] = {'o', 'w', 'n'};

int ledger_chain_own_statements_get(ledger_chain *c, uint8_t **bytes, size_t *len)
{
    int rc = store_get(c->store, LEDGER_TABLE_CONSENSUS, own_statements_key, sizeof own_statements_key, bytes, len);
    return rc == STORE_E_NOT_FOUND ? 1 : rc;
}

int ledger_chain_own_statements_put(ledger_chain *c, const uint8_t *bytes, size_t len)
{
    return put_alone(c, LEDGER_TABLE_CONSENSUS, own_statements_key, sizeof own_statements_key, bytes, len);
}

int ledger_chain_find_tx(ledger_chain *c, const uint8_t id[static NODE_HASH_BYTES],
                         uint64_t *height, uint32_t *index, uint16_t *code)
{
    const uint8_t *v;
    size_t n;
    int rc = ledger_state_get(c->state, LEDGER_TABLE_TX_INDEX, id, NODE_HASH_BYTES, &v, &n);
    if (rc != 0)
        return rc;
    if (n != 14)
        return LEDGER_E_STATE_DAMAGED;
    *height = 0;
    *index = 0;
    for (int k = 0; k < 8; k++)
        *height = *height << 8 | v[k];
    for (int k = 8; k < 12; k++)
        *index = *index << 8 | v[k];
    if (code != NULL)
        *code = (uint16_t)(v[12] << 8 | v[13]);
    ledger_state_clear(c->state); /* reads must not accumulate in the cache */
    return 0;
}

static int digest_entry(void *ctx, const uint8_t *key, size_t key_len, const uint8_t *value,
                        size_t value_len)
{
    crypto_generichash_state *h = ctx;
    uint8_t lens[8];
    for (int k = 0; k < 4; k++) {
        lens[k] = (uint8_t)(key_len >> (24 - 8 * k));
        lens[4 + k] = (uint8_t)(value_len >> (24 - 8 * k));
    }
    crypto_generichash_update(h, lens, sizeof lens);
    crypto_generichash_update(h, key, key_len);
    crypto_generichash_update(h, value, value_len);
    return 0;
}

int ledger_chain_state_digest(ledger_chain *c, uint8_t out[static NODE_HASH_BYTES])
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, NODE_HASH_BYTES);
    for (unsigned t = 0; t < LEDGER_TABLE_STATE_COUNT; t++) {
        uint8_t table = (uint8_t)t;
        crypto_generichash_update(&h, &table, 1);
        int rc = store_scan(c->store, t, NULL, 0, digest_entry, &h);
        if (rc != 0)
            return rc;
    }
    crypto_generichash_final(&h, out, NODE_HASH_BYTES);
    return 0;
}

/* --- The integrity check ------------------------------------------------------------ */

struct verify_walk {
    const uint8_t *network_id;
    bool have_previous;
    uint64_t expected_height;
    uint8_t previous_hash[NODE_HASH_BYTES];
    uint64_t checked;
    char *err;
    size_t err_len;
    void (*progress)(void *ctx, uint64_t height);
    void *progress_ctx;
};

/* Checks that the block's body matches its header's tx_set and results hashes. */
static int check_body(const struct node_block *blk, char *err, size_t err_len)
{
    uint8_t (*leaves)[NODE_HASH_BYTES] = malloc((blk->tx_count ? blk->tx_count : 1) * sizeof *leaves);
    uint8_t root[NODE_HASH_BYTES], results[NODE_HASH_BYTES];
    if (leaves == NULL)
        return NODE_E_NOMEM;
    for (uint32_t i = 0; i < blk->tx_count; i++)
        node_merkle_leaf(blk->tx_bytes[i], blk->tx_lens[i], leaves[i]);
    node_merkle_root((const uint8_t(*)[NODE_HASH_BYTES])leaves, blk->tx_count, root);
    free(leaves);
    if (memcmp(root, blk->header.tx_set_hash, NODE_HASH_BYTES) != 0) {
        snprintf(err, err_len, "transactions do not match the header's tx_set_hash");
        return LEDGER_E_CHAIN;
    }
    node_results_hash(blk->results, blk->tx_count, results);
    if (memcmp(results, blk->header.results_hash, NODE_HASH_BYTES) != 0) {
        snprintf(err, err_len, "results do not match the header's results_hash");
        return LEDGER_E_CHAIN;
    }
    return 0;
}

static int verify_one(void *ctx, uint64_t height, const uint8_t *bytes, size_t len)
{
    struct verify_walk *w = ctx;
    struct node_block blk;
    int rc = node_block_decode(bytes, len, &blk);
    if (rc != 0) {
        snprintf(w->err, w->err_len, "does not decode: %s", node_strerror(rc));
        return 1;
    }
    rc = 1;
    if (blk.header.height != height || (w->have_previous && height != w->expected_height))
        snprintf(w->err, w->err_len, "header says height %llu",
                 (unsigned long long)blk.header.height);
    else if (w->have_previous && memcmp(blk.header.previous_hash, w->previous_hash, NODE_HASH_BYTES) != 0)
        snprintf(w->err, w->err_len, "previous_hash is not the hash of ledger %llu",
                 (unsigned long long)(height - 1));
    else if (check_body(&blk, w->err, w->err_len) == 0)
        rc = 0;
    if (rc == 0) {
        node_header_hash(&blk.header, w->network_id, w->previous_hash);
        w->have_previous = true;
        w->expected_height = height + 1;
        w->checked++;
        if (w->progress != NULL && w->checked % CHAIN_PROGRESS_EVERY == 0)
            w->progress(w->progress_ctx, height);
    }
    node_block_free(&blk);
    return rc;
}

int ledger_chain_verify(const char *dir, const uint8_t *network_id,
                        uint64_t *blocks_checked, uint64_t *bad_height, char *err, size_t err_len,
                        void (*progress)(void *ctx, uint64_t height), void *progress_ctx)
{
    store *s;
    struct store_options so = {.tables = ledger_table_names, .tables_count = LEDGER_TABLE_COUNT};
    char inner[256] = "";
    *blocks_checked = 0;
    *bad_height = 0;
    /* Read-only: never create a store where there is none. */
    char data_file[4096];
    struct stat st;
    snprintf(data_file, sizeof data_file, "%s/data.mdb", dir);
    if (stat(data_file, &st) != 0) {
        snprintf(err, err_len, "%s: no ledger store here (no data.mdb)", dir);
        return NODE_E_IO;
    }
    int rc = store_open(dir, &so, &s);
    if (rc != 0) {
        snprintf(err, err_len, "%s: %s", dir, store_strerror(rc));
        return rc;
    }
    uint8_t stored_id[NODE_HASH_BYTES];
    if (network_id == NULL) {
        /* Take the network id the store was created for. */
        uint8_t *id = NULL;
        size_t id_len = 0;
        if (store_meta_get(s, CHAIN_META_NETWORK_ID, &id, &id_len) != 0 || id_len != NODE_HASH_BYTES) {
            free(id);
            store_close(s);
            snprintf(err, err_len, "%s: not a nanum ledger store (no network id)", dir);
            return LEDGER_E_CHAIN;
        }
        memcpy(stored_id, id, NODE_HASH_BYTES);
        free(id);
        network_id = stored_id;
    }
    struct verify_walk w = {.network_id = network_id, .err = inner, .err_len = sizeof inner,
                            .progress = progress, .progress_ctx = progress_ctx};
    rc = store_blocks_walk(s, 0, verify_one, &w, bad_height);
    *blocks_checked = w.checked;
    store_close(s);
    if (rc == 0)
        return 0;
    if (rc == STORE_E_CORRUPT)
        snprintf(err, err_len, "ledger %llu: stored bytes fail their checksum",
                 (unsigned long long)*bad_height);
    else if (rc == STORE_E_WALK_STOPPED)
        snprintf(err, err_len, "ledger %llu: %s", (unsigned long long)*bad_height, inner);
    else
        snprintf(err, err_len, "%s", store_strerror(rc));
    return LEDGER_E_CHAIN;
}
