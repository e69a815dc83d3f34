/*
 * state.c — the ledger state overlay: an in-memory table of (table, key) →
 * value over a read-only base, with savepoints.
 *
 * Reads fall through to the base once and are cached.  Writes go to the
 * overlay and are recorded in an undo log so a failed transaction can be
 * rolled back to its savepoint (its fee is charged after the rollback, in
 * node/ledger/apply.c).  The hash table uses SipHash with a per-process random key
 * (no flooding by chosen keys); its order never leaks out: changes are
 * visited sorted by (table, key), which is what makes the state hash and the
 * storage batch deterministic.
 */
#define _GNU_SOURCE /* qsort_r */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

struct entry {
    uint8_t table;
    bool present; /* false: absent in base, or deleted */
    bool dirty;   /* written in this overlay */
    uint16_t key_len;
    uint8_t *key;
    uint8_t *value;
    size_t value_len;
};

struct undo {
    uint32_t entry;
    bool present, dirty;
    uint8_t *value; /* the value before the write (owned by the undo log) */
    size_t value_len;
};

struct ledger_state {
    struct ledger_base base;
    bool has_base;
    struct entry *entries;
    uint32_t entry_count, entry_cap;
    uint32_t *slots; /* entry index + 1; 0 = empty */
    uint32_t slot_cap; /* power of two */
    struct undo *undo;
    size_t undo_count, undo_cap;
    ledger_validator_check validator_check;
    void *validator_check_ctx;
};

#define STATE_KEY_BYTES_MAX 256
static uint8_t siphash_key[crypto_shorthash_KEYBYTES];
static bool siphash_key_ready;

static uint64_t key_hash(unsigned table, const uint8_t *key, size_t len)
{
    uint8_t buf[1 + STATE_KEY_BYTES_MAX];
    uint8_t out[crypto_shorthash_BYTES];
    buf[0] = (uint8_t)table;
    memcpy(buf + 1, key, len);
    crypto_shorthash(out, buf, len + 1, siphash_key);
    uint64_t h;
    memcpy(&h, out, sizeof h);
    return h;
}

int ledger_state_create(const struct ledger_base *base, ledger_state **out)
{
    if (node_crypto_init() != 0)
        return NODE_E_INVALID;
    if (!siphash_key_ready) {
        crypto_shorthash_keygen(siphash_key);
        siphash_key_ready = true;
    }
    ledger_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NODE_E_NOMEM;
    if (base != NULL) {
        st->base = *base;
        st->has_base = true;
    }
    st->slot_cap = 1024;
    st->slots = calloc(st->slot_cap, sizeof *st->slots);
    if (st->slots == NULL) {
        free(st);
        return NODE_E_NOMEM;
    }
    *out = st;
    return 0;
}

static void free_undo(ledger_state *st)
{
    for (size_t i = 0; i < st->undo_count; i++)
        free(st->undo[i].value);
    st->undo_count = 0;
}

static uint32_t find_slot(const ledger_state *st, unsigned table, const uint8_t *key, size_t len);

void ledger_state_clear(ledger_state *st)
{
    free_undo(st);
    /* The table grows to fit a whole ledger's entries and keeps that size;
     * a clear after a few entries (one mempool admission) empties only
     * their slots instead of the whole table.  Every used slot belongs to
     * an entry, so this empties them all. */
    enum { FEW = 64 };
    uint32_t used[FEW];
    bool few = st->entry_count <= FEW && (uint64_t)st->entry_count * 16 < st->slot_cap;
    /* All positions first: emptying a slot breaks the probe chains of the
     * entries after it. */
    for (uint32_t i = 0; few && i < st->entry_count; i++)
        used[i] = find_slot(st, st->entries[i].table, st->entries[i].key, st->entries[i].key_len);
    for (uint32_t i = 0; few && i < st->entry_count; i++)
        st->slots[used[i]] = 0;
    for (uint32_t i = 0; i < st->entry_count; i++) {
        free(st->entries[i].key);
        free(st->entries[i].value);
    }
    if (!few)
        memset(st->slots, 0, st->slot_cap * sizeof *st->slots);
    st->entry_count = 0;
}

void ledger_state_destroy(ledger_state *st)
{
    if (st == NULL)
        return;
    ledger_state_clear(st);
    free(st->entries);
    free(st->slots);
    free(st->undo);
    free(st);
}

void ledger_state_set_validator_check(ledger_state *st, ledger_validator_check check, void *ctx)
{
    st->validator_check = check;
    st->validator_check_ctx = ctx;
}

unsigned ledger__validator_check(ledger_state *st, const struct node_validator_set *proposed);
unsigned ledger__validator_check(ledger_state *st, const struct node_validator_set *proposed)
{
    return st->validator_check ? st->validator_check(st->validator_check_ctx, proposed) : LEDGER_OK;
}

/* Returns the slot holding (table, key), or the empty slot where it belongs. */
static uint32_t find_slot(const ledger_state *st, unsigned table, const uint8_t *key, size_t len)
{
    uint32_t mask = st->slot_cap - 1;
    uint32_t i = (uint32_t)key_hash(table, key, len) & mask;
    for (;;) {
        uint32_t e = st->slots[i];
        if (e == 0)
            return i;
        const struct entry *en = &st->entries[e - 1];
        if (en->table == table && en->key_len == len && memcmp(en->key, key, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static int grow_slots(ledger_state *st)
{
    uint32_t cap = st->slot_cap * 2;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (slots == NULL)
        return NODE_E_NOMEM;
    free(st->slots);
    st->slots = slots;
    st->slot_cap = cap;
    for (uint32_t e = 0; e < st->entry_count; e++) {
        const struct entry *en = &st->entries[e];
        st->slots[find_slot(st, en->table, en->key, en->key_len)] = e + 1;
    }
    return 0;
}

/* Finds or creates the entry for (table, key); *created tells which. */
static int lookup(ledger_state *st, unsigned table, const uint8_t *key, size_t len,
                  uint32_t *index, bool *created)
{
    if (len == 0 || len > STATE_KEY_BYTES_MAX || table >= LEDGER_TABLE_COUNT)
        return NODE_E_INVALID;
    uint32_t slot = find_slot(st, table, key, len);
    if (st->slots[slot] != 0) {
        *index = st->slots[slot] - 1;
        *created = false;
        return 0;
    }
    if ((st->entry_count + 1) * 2 > st->slot_cap) {
        int rc = grow_slots(st);
        if (rc != 0)
            return rc;
        slot = find_slot(st, table, key, len);
    }
    if (st->entry_count == st->entry_cap) {
        uint32_t cap = st->entry_cap ? st->entry_cap * 2 : 256;
        struct entry *grown = realloc(st->entries, cap * sizeof *grown);
        if (grown == NULL)
            return NODE_E_NOMEM;
        st->entries = grown;
        st->entry_cap = cap;
    }
    struct entry *en = &st->entries[st->entry_count];
    memset(en, 0, sizeof *en);
    en->key = malloc(len);
    if (en->key == NULL)
        return NODE_E_NOMEM;
    memcpy(en->key, key, len);
    en->key_len = (uint16_t)len;
    en->table = (uint8_t)table;
    st->slots[slot] = ++st->entry_count;
    *index = st->entry_count - 1;
    *created = true;
    return 0;
}

int ledger_state_get(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len,
                     const uint8_t **value, size_t *value_len)
{
    uint32_t index;
    bool created;
    int rc = lookup(st, table, key, key_len, &index, &created);
    if (rc != 0)
        return rc;
    struct entry *en = &st->entries[index];
    if (created && st->has_base) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        rc = st->base.get(st->base.ctx, table, key, key_len, &bytes, &len);
        if (rc < 0)
            return rc;
        en->present = rc == 0;
        en->value = bytes;
        en->value_len = len;
    }
    if (!en->present)
        return 1;
    *value = en->value;
    *value_len = en->value_len;
    return 0;
}

static int push_undo(ledger_state *st, uint32_t index)
{
    if (st->undo_count == st->undo_cap) {
        size_t cap = st->undo_cap ? st->undo_cap * 2 : 256;
        struct undo *grown = realloc(st->undo, cap * sizeof *grown);
        if (grown == NULL)
            return NODE_E_NOMEM;
        st->undo = grown;
        st->undo_cap = cap;
    }
    struct entry *en = &st->entries[index];
    st->undo[st->undo_count++] = (struct undo){
        .entry = index, .present = en->present, .dirty = en->dirty,
        .value = en->value, .value_len = en->value_len};
    return 0;
}

static int write_entry(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len,
                       const uint8_t *value, size_t value_len, bool present)
{
    const uint8_t *old;
    size_t old_len;
    /* Load the base value first so a rollback restores it and "absent vs
     * deleted" stays exact. */
    int rc = ledger_state_get(st, table, key, key_len, &old, &old_len);
    if (rc < 0)
        return rc;
    uint32_t index;
    bool created;
    if ((rc = lookup(st, table, key, key_len, &index, &created)) != 0)
        return rc;
    uint8_t *copy = NULL;
    if (present) {
        copy = malloc(value_len ? value_len : 1);
        if (copy == NULL)
            return NODE_E_NOMEM;
        if (value_len > 0)
            memcpy(copy, value, value_len);
    }
    if ((rc = push_undo(st, index)) != 0) {
        free(copy);
        return rc;
    }
    struct entry *en = &st->entries[index];
    en->value = copy;
    en->value_len = present ? value_len : 0;
    en->present = present;
    en->dirty = true;
    return 0;
}

int ledger_state_put(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len,
                     const uint8_t *value, size_t value_len)
{
    if (value_len > NODE_RECORD_BYTES_MAX)
        return NODE_E_TOO_LONG;
    return write_entry(st, table, key, key_len, value, value_len, true);
}

int ledger_state_delete(ledger_state *st, unsigned table, const uint8_t *key, size_t key_len)
{
    return write_entry(st, table, key, key_len, NULL, 0, false);
}

size_t ledger_state_savepoint(ledger_state *st)
{
    return st->undo_count;
}

void ledger_state_rollback(ledger_state *st, size_t savepoint)
{
    while (st->undo_count > savepoint) {
        struct undo *u = &st->undo[--st->undo_count];
        struct entry *en = &st->entries[u->entry];
        free(en->value);
        en->value = u->value;
        en->value_len = u->value_len;
        en->present = u->present;
        en->dirty = u->dirty;
    }
}

void ledger_state_release(ledger_state *st)
{
    free_undo(st);
}

static int compare_entries(const void *a, const void *b, void *base)
{
    const struct entry *entries = base;
    const struct entry *x = &entries[*(const uint32_t *)a];
    const struct entry *y = &entries[*(const uint32_t *)b];
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c != 0)
        return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

int ledger_state_changes(ledger_state *st,
                         int (*visit)(void *ctx, unsigned table, const uint8_t *key, size_t key_len,
                                      const uint8_t *value, size_t value_len),
                         void *ctx)
{
    uint32_t *order = malloc((st->entry_count ? st->entry_count : 1) * sizeof *order);
    if (order == NULL)
        return NODE_E_NOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < st->entry_count; i++)
        if (st->entries[i].dirty)
            order[n++] = i;
    qsort_r(order, n, sizeof *order, compare_entries, st->entries);
    int rc = 0;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const struct entry *en = &st->entries[order[i]];
        rc = visit(ctx, en->table, en->key, en->key_len, en->present ? en->value : NULL,
                   en->value_len);
    }
    free(order);
    return rc;
}

static int hash_change(void *ctx, unsigned table, const uint8_t *key, size_t key_len,
                       const uint8_t *value, size_t value_len)
{
    crypto_generichash_state *h = ctx;
    if (table >= LEDGER_TABLE_STATE_COUNT)
        return 0;
    /* table, key length, key, presence, value length, value: unambiguous. */
    uint8_t head[1 + 2 + 1 + 4];
    head[0] = (uint8_t)table;
    head[1] = (uint8_t)(key_len >> 8);
    head[2] = (uint8_t)key_len;
    head[3] = value != NULL;
    head[4] = (uint8_t)(value_len >> 24);
    head[5] = (uint8_t)(value_len >> 16);
    head[6] = (uint8_t)(value_len >> 8);
    head[7] = (uint8_t)value_len;
    crypto_generichash_update(h, head, sizeof head);
    crypto_generichash_update(h, key, key_len);
    if (value != NULL)
        crypto_generichash_update(h, value, value_len);
    return 0;
}

int ledger_state_hash(ledger_state *st, const uint8_t previous[static NODE_HASH_BYTES],
                      uint8_t out[static NODE_HASH_BYTES])
{
    static const char tag[] = "nanum/state/v1";
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, NODE_HASH_BYTES);
    crypto_generichash_update(&h, (const uint8_t *)tag, sizeof tag);
    crypto_generichash_update(&h, previous, NODE_HASH_BYTES);
    int rc = ledger_state_changes(st, hash_change, &h);
    if (rc != 0)
        return rc;
    crypto_generichash_final(&h, out, NODE_HASH_BYTES);
    return 0;
}
