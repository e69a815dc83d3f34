/*
 * mempool.c — the pool of waiting transactions (node/ledger/ledger.h).
 *
 * Each entry is indexed twice: by transaction id (dedupe, lookups from the
 * API) and in its source account's queue, kept sorted by sequence number
 * (selection, eviction of followers).  Accounts' queues are small; the pool
 * is bounded by NODE_MEMPOOL_TXS_MAX so every scan here is bounded too.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

struct entry {
    uint8_t id[NODE_HASH_BYTES];
    uint8_t source[NODE_KEY_BYTES];
    uint64_t seq, fee, arrival_ms, arrival_order;
    uint8_t *bytes;
    size_t len;
};

struct fee_item {
    uint64_t fee, order;
    uint8_t id[NODE_HASH_BYTES];
};

struct account_queue {
    uint8_t key[NODE_KEY_BYTES];
    uint32_t count, cap;
    struct entry **entries; /* sorted by seq */
    uint8_t order_key[NODE_HASH_BYTES]; /* scratch for selection */
};

struct node_mempool {
    struct node_mempool_limits limits;
    uint8_t network_id[NODE_HASH_BYTES];
    struct keymap by_id;      /* id → entry */
    struct keymap by_account; /* key → account_queue */
    struct node_sigcache verified; /* signatures already checked */
    uint64_t bytes;
    uint64_t arrivals;
    uint64_t oldest_ms;       /* arrival of the oldest entry, when oldest_valid */
    bool oldest_valid;        /* recomputed lazily after the oldest leaves */
    /* Eviction order: a binary min-heap on (fee, arrival order).  Entries
     * that left the pool stay in it until they reach the top (an item is
     * live when by_id still maps its id to an entry of its arrival order);
     * it is rebuilt from the pool when the dead outnumber the live. */
    struct fee_item *heap;
    size_t heap_count, heap_cap;
};

const char *mempool_verdict_name(unsigned verdict)
{
    switch (verdict) {
#define MEMPOOL_VERDICT_NAME(name, code, text, message) \
    case code:                                          \
        return text;
        MEMPOOL_REJECTS(MEMPOOL_VERDICT_NAME)
#undef MEMPOOL_VERDICT_NAME
    default:
        return NULL;
    }
}

const char *mempool_verdict_message(unsigned verdict)
{
    switch (verdict) {
#define MEMPOOL_VERDICT_MESSAGE(name, code, text, message) \
    case code:                                             \
        return message;
        MEMPOOL_REJECTS(MEMPOOL_VERDICT_MESSAGE)
#undef MEMPOOL_VERDICT_MESSAGE
    default:
        return NULL;
    }
}

int node_mempool_create(const struct node_mempool_limits *limits,
                        const uint8_t network_id[static NODE_HASH_BYTES], node_mempool **out)
{
    node_mempool *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NODE_E_NOMEM;
    m->limits = limits ? *limits
                       : (struct node_mempool_limits){NODE_MEMPOOL_TXS_MAX, NODE_MEMPOOL_BYTES_MAX};
    memcpy(m->network_id, network_id, NODE_HASH_BYTES);
    if (keymap_init(&m->by_id) != 0 || keymap_init(&m->by_account) != 0 ||
        node_sigcache_init(&m->verified, NODE_SIGCACHE_ENTRIES) != 0) {
        node_mempool_destroy(m);
        return NODE_E_NOMEM;
    }
    *out = m;
    return 0;
}

static void queue_free(struct account_queue *q)
{
    free(q->entries);
    free(q);
}

void node_mempool_destroy(node_mempool *m)
{
    if (m == NULL)
        return;
    size_t cursor = 0;
    const uint8_t *key;
    void *value;
    while (keymap_next(&m->by_id, &cursor, &key, &value)) {
        struct entry *e = value;
        free(e->bytes);
        free(e);
    }
    cursor = 0;
    while (keymap_next(&m->by_account, &cursor, &key, &value))
        queue_free(value);
    keymap_free(&m->by_id);
    keymap_free(&m->by_account);
    node_sigcache_free(&m->verified);
    free(m->heap);
    free(m);
}

bool node_mempool_contains(const node_mempool *m, const uint8_t id[static NODE_HASH_BYTES])
{
    return keymap_get(&m->by_id, id) != NULL;
}

bool node_mempool_contains_exact(const node_mempool *m, const uint8_t id[static NODE_HASH_BYTES],
                                 const uint8_t *bytes, size_t len)
{
    const struct entry *e = keymap_get(&m->by_id, id);
    return e != NULL && e->len == len && memcmp(e->bytes, bytes, len) == 0;
}

struct node_sigcache *node_mempool_sigcache(node_mempool *m)
{
    return &m->verified;
}

uint32_t node_mempool_count(const node_mempool *m)
{
    return (uint32_t)m->by_id.count;
}

uint64_t node_mempool_bytes(const node_mempool *m)
{
    return m->bytes;
}

uint64_t node_mempool_oldest_ms(const node_mempool *m)
{
    /* The cache is logically const: the answer does not change. */
    node_mempool *mut = (node_mempool *)m;
    if (m->oldest_valid)
        return m->oldest_ms;
    uint64_t oldest = 0;
    size_t cursor = 0;
    const uint8_t *key;
    void *value;
    while (keymap_next(&m->by_id, &cursor, &key, &value)) {
        const struct entry *e = value;
        if (oldest == 0 || e->arrival_ms < oldest)
            oldest = e->arrival_ms;
    }
    mut->oldest_ms = oldest;
    mut->oldest_valid = true;
    return oldest;
}

/* Removes entry e from both indexes and frees it. */
static void drop_entry(node_mempool *m, struct entry *e)
{
    struct account_queue *q = keymap_get(&m->by_account, e->source);
    if (q != NULL) {
        for (uint32_t i = 0; i < q->count; i++)
            if (q->entries[i] == e) {
                memmove(&q->entries[i], &q->entries[i + 1], (q->count - i - 1) * sizeof *q->entries);
                q->count--;
                break;
            }
        if (q->count == 0)
            queue_free(keymap_remove(&m->by_account, q->key));
    }
    keymap_remove(&m->by_id, e->id);
    m->bytes -= e->len;
    if (m->oldest_valid && e->arrival_ms <= m->oldest_ms)
        m->oldest_valid = false;
    free(e->bytes);
    free(e);
}

/* Drops e and every later sequence of its account (they can no longer apply). */
static void drop_with_followers(node_mempool *m, struct entry *e)
{
    struct account_queue *q = keymap_get(&m->by_account, e->source);
    uint64_t seq = e->seq;
    while (q != NULL && q->count > 0 && q->entries[q->count - 1]->seq >= seq) {
        bool last = q->count == 1;
        drop_entry(m, q->entries[q->count - 1]);
        if (last)
            break;
    }
}

static bool fee_before(const struct fee_item *a, const struct fee_item *b)
{
    return a->fee < b->fee || (a->fee == b->fee && a->order < b->order);
}

static void heap_down(struct fee_item *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, min = i;
        if (l < n && fee_before(&h[l], &h[min]))
            min = l;
        if (r < n && fee_before(&h[r], &h[min]))
            min = r;
        if (min == i)
            return;
        struct fee_item t = h[i];
        h[i] = h[min];
        h[min] = t;
        i = min;
    }
}

static void heap_pop(node_mempool *m)
{
    m->heap[0] = m->heap[--m->heap_count];
    heap_down(m->heap, m->heap_count, 0);
}

/* Rebuilds the heap from the pool's entries: only live items. */
static void heap_rebuild(node_mempool *m)
{
    size_t n = 0, cursor = 0;
    const uint8_t *key;
    void *value;
    while (keymap_next(&m->by_id, &cursor, &key, &value) && n < m->heap_cap) {
        const struct entry *e = value;
        m->heap[n].fee = e->fee;
        m->heap[n].order = e->arrival_order;
        memcpy(m->heap[n].id, e->id, NODE_HASH_BYTES);
        n++;
    }
    m->heap_count = n;
    for (size_t i = n / 2; i-- > 0;)
        heap_down(m->heap, n, i);
}

/* Adds e to the eviction order.  0 or NODE_E_NOMEM. */
static int heap_push(node_mempool *m, const struct entry *e)
{
    if (m->heap_count > 2 * (size_t)m->by_id.count + 64)
        heap_rebuild(m); /* mostly dead: shrink before growing */
    if (m->heap_count == m->heap_cap) {
        size_t cap = m->heap_cap ? 2 * m->heap_cap : 1024;
        struct fee_item *grown = realloc(m->heap, cap * sizeof *grown);
        if (grown == NULL)
            return NODE_E_NOMEM;
        m->heap = grown;
        m->heap_cap = cap;
    }
    size_t i = m->heap_count++;
    m->heap[i] = (struct fee_item){.fee = e->fee, .order = e->arrival_order};
    memcpy(m->heap[i].id, e->id, NODE_HASH_BYTES);
    while (i > 0 && fee_before(&m->heap[i], &m->heap[(i - 1) / 2])) {
        struct fee_item t = m->heap[i];
        m->heap[i] = m->heap[(i - 1) / 2];
        m->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
    return 0;
}

/* The cheapest entry (lowest fee, then oldest), or NULL if empty: the top
 * of the heap once the items of departed entries are popped off. */
static struct entry *cheapest(node_mempool *m)
{
    while (m->heap_count > 0) {
        struct entry *e = keymap_get(&m->by_id, m->heap[0].id);
        if (e != NULL && e->arrival_order == m->heap[0].order)
            return e;
        heap_pop(m);
    }
    return NULL;
}

bool node_mempool_cheapest(node_mempool *m, uint8_t id[NODE_HASH_BYTES], uint64_t *fee)
{
    const struct entry *e = cheapest(m);
    if (e == NULL)
        return false;
    memcpy(id, e->id, NODE_HASH_BYTES);
    *fee = e->fee;
    return true;
}

/* False if the pool is full and nothing in it is cheaper than fee: then
 * make_room would refuse, and the newcomer is refused before its signature
 * is checked.  (True does not promise room: make_room decides.) */
static bool room_possible(node_mempool *m, size_t len, uint64_t fee)
{
    if (m->by_id.count + 1 <= m->limits.txs_max && m->bytes + len <= m->limits.bytes_max)
        return true;
    const struct entry *worst = cheapest(m);
    return worst != NULL && worst->fee < fee;
}

/* Makes room for len more bytes; false if the newcomer (fee) is not worth it. */
static bool make_room(node_mempool *m, size_t len, uint64_t fee)
{
    while (m->by_id.count + 1 > m->limits.txs_max || m->bytes + len > m->limits.bytes_max) {
        struct entry *worst = cheapest(m);
        if (worst == NULL || worst->fee >= fee)
            return false;
        drop_with_followers(m, worst);
    }
    return true;
}

/* Checks the envelope against the state (everything but the signature,
 * which costs more than all the rest: spec/node.md §12.1); returns a verdict
 * or a negative error. */
static int admission_checks(ledger_state *state, const struct node_tx_envelope *env,
                            struct account_queue *q, struct entry **replaces)
{
    const struct node_tx *tx = &env->tx;
    *replaces = NULL;
    if (memcmp(tx->source, node_commons_key, NODE_KEY_BYTES) == 0)
        return MEMPOOL_COMMONS_SOURCE;
    struct node_account account;
    struct node_params params;
    int rc = ledger_account_get(state, tx->source, &account);
    if (rc < 0)
        return rc;
    if (rc == 1)
        return MEMPOOL_NO_SOURCE;
    if ((rc = ledger_params_get(state, &params)) != 0)
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    if (tx->fee < params.values[NODE_PARAM_base_fee])
        return MEMPOOL_FEE_TOO_LOW;
    if (tx->seq <= account.seq || tx->seq - account.seq > NODE_MEMPOOL_SEQ_AHEAD_MAX)
        return MEMPOOL_BAD_SEQ;
    uint64_t fees = tx->fee;
    for (uint32_t i = 0; q != NULL && i < q->count; i++) {
        if (q->entries[i]->seq == tx->seq) {
            if (q->entries[i]->fee >= tx->fee)
                return MEMPOOL_SEQ_TAKEN;
            *replaces = q->entries[i]; /* a higher fee replaces it */
            continue;
        }
        if (!node_add_u64(fees, q->entries[i]->fee, &fees))
            return MEMPOOL_INSUFFICIENT_FEE;
    }
    return fees <= account.balance ? MEMPOOL_ADMITTED : MEMPOOL_INSUFFICIENT_FEE;
}

static int queue_insert(node_mempool *m, struct entry *e)
{
    struct account_queue *q = keymap_get(&m->by_account, e->source);
    if (q == NULL) {
        q = calloc(1, sizeof *q);
        if (q == NULL)
            return NODE_E_NOMEM;
        memcpy(q->key, e->source, NODE_KEY_BYTES);
        if (keymap_put(&m->by_account, q->key, q) != 0) {
            free(q);
            return NODE_E_NOMEM;
        }
    }
    if (q->count == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : 4;
        struct entry **grown = realloc(q->entries, cap * sizeof *grown);
        if (grown == NULL)
            return NODE_E_NOMEM;
        q->entries = grown;
        q->cap = cap;
    }
    uint32_t at = q->count;
    while (at > 0 && q->entries[at - 1]->seq > e->seq)
        at--;
    memmove(&q->entries[at + 1], &q->entries[at], (q->count - at) * sizeof *q->entries);
    q->entries[at] = e;
    q->count++;
    return 0;
}

int node_mempool_add(node_mempool *m, ledger_state *state, const uint8_t *bytes, size_t len,
                     uint64_t now_ms, enum mempool_verdict *verdict, uint8_t id[NODE_HASH_BYTES])
{
    struct node_tx_envelope env;
    uint8_t tx_id[NODE_HASH_BYTES];
    *verdict = MEMPOOL_MALFORMED;
    if (len > NODE_TX_BYTES_MAX) {
        *verdict = MEMPOOL_TOO_LARGE;
        return 0;
    }
    if (node_envelope_open(bytes, len, m->network_id, false, &env, tx_id) != 0)
        return 0;
    if (id != NULL)
        memcpy(id, tx_id, NODE_HASH_BYTES);
    if (keymap_get(&m->by_id, tx_id) != NULL) {
        *verdict = MEMPOOL_DUPLICATE;
        return 0;
    }
    struct entry *replaces;
    int rc = admission_checks(state, &env, keymap_get(&m->by_account, env.tx.source), &replaces);
    if (rc < 0)
        return rc;
    *verdict = (enum mempool_verdict)rc;
    if (rc != MEMPOOL_ADMITTED)
        return 0;
    /* Room first: a refused newcomer must not cost the transaction it
     * would have replaced.  A replacement keeps the count; it only needs
     * its extra bytes, and evicts nothing.  The signature, the costly
     * check, comes after every check that can refuse without it. */
    bool replace_fits = replaces != NULL && m->bytes - replaces->len + len <= m->limits.bytes_max;
    if (replaces != NULL ? !replace_fits : !room_possible(m, len, env.tx.fee)) {
        *verdict = MEMPOOL_FULL;
        return 0;
    }
    struct node_tx_envelope checked;
    if (node_sigcache_open(&m->verified, bytes, len, m->network_id, &checked, tx_id) != 0) {
        *verdict = MEMPOOL_BAD_SIGNATURE;
        return 0;
    }
    if (replaces == NULL && !make_room(m, len, env.tx.fee)) {
        *verdict = MEMPOOL_FULL;
        return 0;
    }
    if (replaces != NULL)
        drop_entry(m, replaces);
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL || (e->bytes = malloc(len)) == NULL) {
        free(e);
        return NODE_E_NOMEM;
    }
    memcpy(e->id, tx_id, NODE_HASH_BYTES);
    memcpy(e->source, env.tx.source, NODE_KEY_BYTES);
    memcpy(e->bytes, bytes, len);
    e->len = len;
    e->seq = env.tx.seq;
    e->fee = env.tx.fee;
    e->arrival_ms = now_ms;
    e->arrival_order = ++m->arrivals;
    if (keymap_put(&m->by_id, e->id, e) != 0 || queue_insert(m, e) != 0 || heap_push(m, e) != 0) {
        m->bytes += len; /* drop_entry takes it back */
        drop_entry(m, e); /* undoes whichever of the three were done */
        return NODE_E_NOMEM;
    }
    m->bytes += len;
    if (m->by_id.count == 1 || (m->oldest_valid && now_ms < m->oldest_ms)) {
        m->oldest_ms = now_ms;
        m->oldest_valid = true;
    }
    return 0;
}

static int compare_queues(const void *a, const void *b)
{
    const struct account_queue *x = *(struct account_queue *const *)a;
    const struct account_queue *y = *(struct account_queue *const *)b;
    return memcmp(x->order_key, y->order_key, NODE_HASH_BYTES);
}

int node_mempool_select(node_mempool *m, ledger_state *state, const uint8_t seed[static NODE_HASH_BYTES],
                        uint32_t max, const uint8_t **txs, size_t *lens, uint32_t *count)
{
    *count = 0;
    size_t n = m->by_account.count, k = 0, cursor = 0;
    struct account_queue **queues = malloc((n ? n : 1) * sizeof *queues);
    if (queues == NULL)
        return NODE_E_NOMEM;
    const uint8_t *key;
    void *value;
    while (keymap_next(&m->by_account, &cursor, &key, &value)) {
        struct account_queue *q = value;
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, NODE_HASH_BYTES);
        crypto_generichash_update(&h, seed, NODE_HASH_BYTES);
        crypto_generichash_update(&h, q->key, NODE_KEY_BYTES);
        crypto_generichash_final(&h, q->order_key, NODE_HASH_BYTES);
        queues[k++] = q;
    }
    qsort(queues, k, sizeof *queues, compare_queues);
    int rc = 0;
    for (size_t i = 0; i < k && *count < max; i++) {
        struct node_account account;
        rc = ledger_account_get(state, queues[i]->key, &account);
        if (rc < 0)
            break;
        rc = 0;
        uint64_t next = account.seq + 1;
        for (uint32_t j = 0; j < queues[i]->count && *count < max; j++) {
            struct entry *e = queues[i]->entries[j];
            if (e->seq < next)
                continue;
            if (e->seq != next)
                break; /* a gap: later ones cannot apply yet */
            txs[*count] = e->bytes;
            lens[*count] = e->len;
            (*count)++;
            next++;
        }
    }
    free(queues);
    return rc;
}

void node_mempool_expire(node_mempool *m, uint64_t now_ms, uint64_t max_age_ms, uint32_t *dropped)
{
    uint32_t before = (uint32_t)m->by_id.count;
    /* The oldest arrival is cached: a young pool costs no walk. */
    if (before > 0 && now_ms >= max_age_ms && node_mempool_oldest_ms(m) <= now_ms - max_age_ms) {
        uint64_t limit = now_ms - max_age_ms;
        /* Collect first: dropping changes the table being walked. */
        size_t n = 0, cursor = 0;
        uint8_t (*ids)[NODE_HASH_BYTES] = malloc((m->by_id.count ? m->by_id.count : 1) * sizeof *ids);
        const uint8_t *key;
        void *value;
        while (ids != NULL && keymap_next(&m->by_id, &cursor, &key, &value))
            if (((struct entry *)value)->arrival_ms <= limit)
                memcpy(ids[n++], key, NODE_HASH_BYTES);
        for (size_t i = 0; i < n; i++) {
            struct entry *e = keymap_get(&m->by_id, ids[i]);
            if (e != NULL) /* not already gone as a follower */
                drop_with_followers(m, e);
        }
        free(ids);
    }
    if (dropped != NULL)
        *dropped = before - (uint32_t)m->by_id.count;
}

int node_mempool_remove_applied(node_mempool *m, ledger_state *state,
                                const uint8_t (*ids)[NODE_HASH_BYTES], uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        struct entry *e = keymap_get(&m->by_id, ids[i]);
        if (e != NULL)
            drop_entry(m, e);
    }
    /* Anything whose sequence the ledger has passed can never apply. */
    size_t n = m->by_account.count, k = 0, cursor = 0;
    uint8_t (*accounts)[NODE_KEY_BYTES] = malloc((n ? n : 1) * sizeof *accounts);
    if (accounts == NULL)
        return NODE_E_NOMEM;
    const uint8_t *key;
    void *value;
    while (keymap_next(&m->by_account, &cursor, &key, &value))
        memcpy(accounts[k++], key, NODE_KEY_BYTES);
    /* So is anything below a base fee that governance has just raised. */
    struct node_params params;
    int rc = ledger_params_get(state, &params);
    if (rc != 0) {
        free(accounts);
        return rc < 0 ? rc : LEDGER_E_STATE_DAMAGED;
    }
    for (size_t i = 0; i < k && rc == 0; i++) {
        struct account_queue *q = keymap_get(&m->by_account, accounts[i]);
        for (uint32_t j = 0; q != NULL && j < q->count; j++)
            if (q->entries[j]->fee < params.values[NODE_PARAM_base_fee]) {
                drop_with_followers(m, q->entries[j]);
                break;
            }
    }
    for (size_t i = 0; i < k && rc == 0; i++) {
        struct node_account account;
        rc = ledger_account_get(state, accounts[i], &account);
        if (rc == 1) {
            rc = 0;
            continue;
        }
        struct account_queue *q;
        while (rc == 0 && (q = keymap_get(&m->by_account, accounts[i])) != NULL &&
               q->entries[0]->seq <= account.seq)
            drop_entry(m, q->entries[0]);
    }
    free(accounts);
    return rc < 0 ? rc : 0;
}
