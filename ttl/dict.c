/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dict.c: the public face of the expiring dictionary: create/free, set, find, delete, clear,
 * value resizing, expiry changes, counters and memory accounting.
 *
 * What: every entry is one allocation (20-byte header, key, value; see ttl.h) and the tables hold
 * only pointers to entries, so an entry never moves when other keys come and go.  This file owns
 * the entries' lifetime: it allocates them, reuses them in place when an overwrite fits in the
 * same malloc size class, calls the removal hook and frees them.
 *
 * Why: the budget is about 165 bytes per key (16-byte key, 100-byte value) with everything
 * included.  One allocation per entry sized to its malloc chunk costs 144 bytes for that shape;
 * the table adds 8 bytes per slot (about 17 per key at load 0.48 just after doubling) and the
 * expiry index half a byte per slot.  Redis spends about 240 (dictEntry, robj, sds key and value,
 * and a second dictEntry in the expires dict).
 *
 * Allocation sizes: an entry of n bytes is requested as the usable size of its glibc chunk
 * (chunk(n) - 8), which is the same chunk glibc would give for n.  So the memory is identical,
 * and an entry can be rewritten in place with any size of the same class without writing past
 * the requested size (which ASan and valgrind would rightly flag).
 *
 * Memory accounting: mem_bytes is kept exact against the model (chunk sizes of entries, 8 bytes
 * per slot, index arrays, the dict struct) at every change, so reading it is O(1).
 *
 * Invariants: d->live + d->tombs == ht->used + old->used; mem_bytes equals the model.
 * Threading: one thread owns a dictionary; the hooks in alloc.c are process-wide.
 * Start reading at ttl_dict_set() and ttl_dict_find().
 */
#include "ttl/ttl_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t ttl_hash_bytes(const ttl_dict *d, const void *key, size_t klen)
{
    if (d->hash_override != NULL)
        return d->hash_override(key, klen);
    return ttl_siphash13(d->k0, d->k1, key, klen);
}

uint64_t ttl_hash_entry(const ttl_dict *d, const ttl_entry *e)
{
    return ttl_hash_bytes(d, e->data, e->klen);
}

uint64_t ttl_dict_hash(const ttl_dict *d, const void *key, size_t klen)
{
    return ttl_hash_bytes(d, key, klen);
}

void ttl_dict_set_hash_override(ttl_dict *d, ttl_hash_fn *fn)
{
    assert(d->live + d->tombs == 0);
    d->hash_override = fn;
}

size_t ttl_entry_alloc_size(size_t klen, size_t vlen)
{
    return ttl_chunk_bytes(TTL_ENTRY_HDR + klen + vlen);
}

/* An entry of `bytes` bytes, requested at its chunk's usable size (see the file comment).  NULL
 * when out of memory or when the pointer does not fit a slot's 48 bits (never on Linux x86-64 or
 * arm64, whose user addresses are below 2^48 unless mmap is asked for more). */
static ttl_entry *entry_alloc(size_t bytes)
{
    void *p = ttl_malloc_hook(ttl_chunk_bytes(bytes) - TTL_MALLOC_OVERHEAD);
    if (p != NULL && (uintptr_t)p > TTL_SLOT_PTR_MASK) {
        free(p);
        return NULL;
    }
    return p;
}

static uint64_t clamp_expire(uint64_t at_ms)
{
    if (at_ms < 1)
        return 1;
    return at_ms > TTL_EXPIRE_MAX ? TTL_EXPIRE_MAX : at_ms;
}

ttl_dict *ttl_dict_create(const uint8_t seed[16])
{
    ttl_dict *d = ttl_malloc_hook(sizeof *d);

    if (d == NULL)
        return NULL;
    memset(d, 0, sizeof *d);
    d->k0 = load_le64(seed);
    d->k1 = load_le64(seed + 8);
    if (ttl_table_init(&d->tabs[0], TTL_MIN_SLOTS, 0) != TTL_OK) {
        free(d);
        return NULL;
    }
    d->ht = &d->tabs[0];
    d->mem_bytes = sizeof *d + ttl_table_mem(d->ht);
    return d;
}

static void free_entries(ttl_dict *d, struct ttl_table *t, int call_hook)
{
    for (size_t i = 0; t->slots != NULL && i <= t->mask; i++) {
        ttl_entry *e = ttl_slot_entry(t->slots[i]);
        if (e == NULL)
            continue;
        if (call_hook && d->hook != NULL)
            d->hook(d->hook_priv, e, TTL_REMOVED_DELETED);
        free(e);
    }
}

void ttl_dict_free(ttl_dict *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        free_entries(d, &d->tabs[i], 0);
        ttl_table_release(&d->tabs[i]);
    }
    free(d);
}

void ttl_dict_set_remove_hook(ttl_dict *d, ttl_remove_fn *fn, void *priv)
{
    d->hook = fn;
    d->hook_priv = priv;
}

/* Unlink the entry in `slot` of t, account for it, call the hook, free it. */
void ttl_dict_remove_at(ttl_dict *d, struct ttl_table *t, size_t slot, enum ttl_reason why)
{
    ttl_entry *e = ttl_slot_entry(t->slots[slot]);

    ttl_table_unlink(d, t, slot);
    if (ttl_entry_is_tombstone(e)) {
        d->tombs--;
    } else {
        d->live--;
        d->stats.expired += why == TTL_REMOVED_EXPIRED;
        d->stats.evicted += why == TTL_REMOVED_EVICTED;
    }
    d->mem_bytes -= ttl_entry_chunk(e);
    if (d->hook != NULL)
        d->hook(d->hook_priv, e, why);
    free(e);
}

int ttl_dict_locate(const ttl_dict *d, const ttl_entry *e, struct ttl_table **t, size_t *slot)
{
    uint64_t hash = ttl_hash_entry(d, e);

    if (ttl_table_locate(d, d->ht, hash, e, slot)) {
        *t = d->ht;
        return 1;
    }
    if (d->old != NULL && ttl_table_locate(d, d->old, hash, e, slot)) {
        *t = d->old;
        return 1;
    }
    return 0;
}

/* What a store writes into an entry. */
struct store {
    const void *key, *val;
    size_t klen, vlen;
    uint32_t flags;
    uint64_t expire_at_ms, version;
};

static void entry_fill(ttl_entry *e, const struct store *s, int with_key)
{
    e->version = s->version;
    ttl_entry_put_expire(e, s->expire_at_ms);
    e->klen = (uint16_t)s->klen;
    e->vlen_flags = (uint32_t)s->vlen | s->flags;
    if (with_key && s->klen > 0)
        memcpy(e->data, s->key, s->klen);
    if (s->vlen > 0)
        memcpy(e->data + s->klen, s->val, s->vlen);
}

static void count_entry(ttl_dict *d, const ttl_entry *e, int delta)
{
    if (ttl_entry_is_tombstone(e))
        d->tombs += (size_t)delta;
    else
        d->live += (size_t)delta;
}

/* Overwrite the entry in `slot` of t: in place when the size class is unchanged (the hot path:
 * no allocation), otherwise into a new allocation that replaces the old one in the slot. */
static int store_replace(ttl_dict *d, struct ttl_table *t, size_t slot, const struct store *s,
                         ttl_entry **out)
{
    ttl_entry *old = ttl_slot_entry(t->slots[slot]), *e = old;
    size_t old_chunk = ttl_entry_chunk(old);
    size_t new_bytes = TTL_ENTRY_HDR + s->klen + s->vlen;

    if (ttl_chunk_bytes(new_bytes) != old_chunk) {
        e = entry_alloc(new_bytes);
        if (e == NULL)
            return TTL_ERR_NOMEM;
    }
    if (d->hook != NULL)
        d->hook(d->hook_priv, old, TTL_REMOVED_REPLACED);
    count_entry(d, old, -1);
    entry_fill(e, s, e != old);
    count_entry(d, e, +1);
    if (e != old) {
        t->slots[slot] = (t->slots[slot] & ~TTL_SLOT_PTR_MASK) | (uint64_t)(uintptr_t)e;
        d->mem_bytes = d->mem_bytes - old_chunk + ttl_entry_chunk(e);
        free(old);
    }
    ttl_index_note(t, slot, e);
    if (out != NULL)
        *out = e;
    return TTL_OK;
}

/* Insert a key known to be absent; (slot, dist) is its position in ht found by the lookup. */
static int store_insert(ttl_dict *d, uint64_t hash, size_t slot, size_t dist,
                        const struct store *s, ttl_entry **out)
{
    ttl_entry *e = entry_alloc(TTL_ENTRY_HDR + s->klen + s->vlen);
    int moved = 0;

    if (e == NULL)
        return TTL_ERR_NOMEM;
    if (ttl_rehash_reserve(d, &moved) != TTL_OK) {
        free(e);
        return TTL_ERR_NOMEM;
    }
    entry_fill(e, s, 1);
    if (moved)
        slot = ttl_table_probe_free(d, d->ht, hash, &dist);
    ttl_table_place(d->ht, slot, dist, hash, e);
    count_entry(d, e, +1);
    d->mem_bytes += ttl_entry_chunk(e);
    if (out != NULL)
        *out = e;
    return TTL_OK;
}

/* Migration work is done after a successful store, so a failed one changes nothing at all; the
 * lookup's insertion point is used before anything can move. */
static int store(ttl_dict *d, uint64_t hash, const struct store *s, ttl_entry **out)
{
    size_t slot, dist, oslot, odist;
    int rc;

    if (s->klen > TTL_KEY_MAX || s->vlen > TTL_VALUE_MAX)
        return TTL_ERR_TOOBIG;
    if (ttl_table_find(d, d->ht, hash, s->key, s->klen, &slot, &dist))
        rc = store_replace(d, d->ht, slot, s, out);
    else if (d->old != NULL && ttl_table_find(d, d->old, hash, s->key, s->klen, &oslot, &odist))
        rc = store_replace(d, d->old, oslot, s, out);
    else
        rc = store_insert(d, hash, slot, dist, s, out);
    if (rc == TTL_OK && d->old != NULL)
        ttl_rehash_steps(d, TTL_REHASH_STEPS_PER_WRITE);
    return rc;
}

int ttl_dict_set(ttl_dict *d, uint64_t hash, const void *key, size_t klen, const void *val,
                 size_t vlen, uint64_t expire_at_ms, uint64_t version, ttl_entry **out)
{
    struct store s = {key, val, klen, vlen, 0, clamp_expire(expire_at_ms), version};
    return store(d, hash, &s, out);
}

/* The tombstone index is allocated on the first tombstone, so a dictionary that never sees one
 * (a single node) does not pay half a byte per slot for it. */
static int enable_tomb_index(ttl_dict *d)
{
    struct ttl_table *tabs[2] = {d->ht, d->old};
    size_t nseg[2] = {0, 0};

    for (int i = 0; i < 2 && tabs[i] != NULL; i++) {
        nseg[i] = (tabs[i]->mask + 1) / TTL_SEG_SLOTS;
        if (ttl_index_init(&tabs[i]->idx[1], nseg[i]) != TTL_OK) {
            if (i == 1)
                ttl_index_release(&tabs[0]->idx[1]);
            return TTL_ERR_NOMEM;
        }
    }
    d->mem_bytes += ttl_index_bytes(nseg[0]) + ttl_index_bytes(nseg[1]);
    d->tomb_index = 1;
    return TTL_OK;
}

static void disable_tomb_index(ttl_dict *d)
{
    struct ttl_table *tabs[2] = {d->ht, d->old};

    for (int i = 0; i < 2 && tabs[i] != NULL; i++) {
        d->mem_bytes -= ttl_index_bytes((tabs[i]->mask + 1) / TTL_SEG_SLOTS);
        ttl_index_release(&tabs[i]->idx[1]);
    }
    d->tomb_index = 0;
}

int ttl_dict_set_tombstone(ttl_dict *d, uint64_t hash, const void *key, size_t klen,
                           uint64_t expire_at_ms, uint64_t version, ttl_entry **out)
{
    struct store s = {key, NULL, klen, 0, TTL_ENTRY_TOMBSTONE, clamp_expire(expire_at_ms),
                      version};
    int enabled_now = 0, rc;

    if (klen > TTL_KEY_MAX)
        return TTL_ERR_TOOBIG;
    if (!d->tomb_index) {
        if (enable_tomb_index(d) != TTL_OK)
            return TTL_ERR_NOMEM;
        enabled_now = 1;
    }
    rc = store(d, hash, &s, out);
    if (rc != TTL_OK && enabled_now)
        disable_tomb_index(d); /* leave no trace, memory accounting included */
    return rc;
}

/* Look a key up in ht, then old.  Returns the table holding it, or NULL. */
static struct ttl_table *lookup(const ttl_dict *d, uint64_t hash, const void *key, size_t klen,
                                size_t *slot)
{
    size_t dist;

    if (ttl_table_find(d, d->ht, hash, key, klen, slot, &dist))
        return d->ht;
    if (d->old != NULL && ttl_table_find(d, d->old, hash, key, klen, slot, &dist))
        return d->old;
    return NULL;
}

ttl_entry *ttl_dict_find(ttl_dict *d, uint64_t hash, const void *key, size_t klen, uint64_t now_ms,
                         int tombstones)
{
    size_t slot;
    struct ttl_table *t = lookup(d, hash, key, klen, &slot);
    ttl_entry *e;

    if (t == NULL)
        return NULL;
    e = ttl_slot_entry(t->slots[slot]);
    if (ttl_entry_expire_at(e) <= now_ms) {
        ttl_dict_remove_at(d, t, slot, TTL_REMOVED_EXPIRED);
        return NULL;
    }
    if (!tombstones && ttl_entry_is_tombstone(e))
        return NULL;
    return e;
}

int ttl_dict_delete(ttl_dict *d, uint64_t hash, const void *key, size_t klen)
{
    size_t slot;
    struct ttl_table *t;

    if (d->old != NULL)
        ttl_rehash_steps(d, TTL_REHASH_STEPS_PER_WRITE);
    t = lookup(d, hash, key, klen, &slot);
    if (t == NULL)
        return 0;
    ttl_dict_remove_at(d, t, slot, TTL_REMOVED_DELETED);
    ttl_rehash_tidy(d);
    return 1;
}

/* Reset a table in place to empty (used by clear when a fresh table cannot be allocated). */
static void table_reset(struct ttl_table *t)
{
    size_t nseg = (t->mask + 1) / TTL_SEG_SLOTS;

    memset(t->slots, 0, (t->mask + 1) * sizeof(uint64_t));
    t->used = 0;
    for (int k = 0; k < 2; k++) {
        for (size_t s = 0; t->idx[k].min != NULL && s < nseg; s++) {
            t->idx[k].min[s] = UINT64_MAX;
            t->idx[k].pos[s] = (uint32_t)s;
            t->idx[k].heap[s] = (uint32_t)s;
        }
    }
}

void ttl_dict_clear(ttl_dict *d)
{
    struct ttl_table fresh;

    free_entries(d, d->ht, 1);
    if (d->old != NULL)
        free_entries(d, d->old, 1);
    d->live = 0;
    d->tombs = 0;
    if (ttl_table_init(&fresh, TTL_MIN_SLOTS, 0) == TTL_OK) {
        ttl_table_release(&d->tabs[0]);
        ttl_table_release(&d->tabs[1]);
        d->tabs[0] = fresh;
        d->ht = &d->tabs[0];
        d->tomb_index = 0;
    } else {
        if (d->old != NULL)
            ttl_table_release(d->old);
        table_reset(d->ht);
    }
    d->old = NULL;
    d->migrate_pos = 0;
    d->mem_bytes = sizeof *d + ttl_table_mem(d->ht);
}

int ttl_dict_resize_value(ttl_dict *d, ttl_entry **ep, size_t new_vlen)
{
    ttl_entry *e = *ep, *ne;
    uint32_t flags = e->vlen_flags & ~TTL_ENTRY_VLEN_MASK;
    size_t old_vlen = ttl_entry_vlen(e), old_chunk = ttl_entry_chunk(e);
    size_t new_bytes = TTL_ENTRY_HDR + e->klen + new_vlen, slot;
    struct ttl_table *t;
    int found;

    if (new_vlen > TTL_VALUE_MAX)
        return TTL_ERR_TOOBIG;
    if (ttl_chunk_bytes(new_bytes) == old_chunk) {
        e->vlen_flags = flags | (uint32_t)new_vlen;
        return TTL_OK;
    }
    found = ttl_dict_locate(d, e, &t, &slot);
    assert(found); /* the entry must belong to d */
    if (!found)
        return TTL_ERR_NOMEM;
    ne = entry_alloc(new_bytes);
    if (ne == NULL)
        return TTL_ERR_NOMEM;
    memcpy(ne, e, TTL_ENTRY_HDR + e->klen + (old_vlen < new_vlen ? old_vlen : new_vlen));
    ne->vlen_flags = flags | (uint32_t)new_vlen;
    t->slots[slot] = (t->slots[slot] & ~TTL_SLOT_PTR_MASK) | (uint64_t)(uintptr_t)ne;
    d->mem_bytes = d->mem_bytes - old_chunk + ttl_entry_chunk(ne);
    free(e);
    *ep = ne;
    return TTL_OK;
}

void ttl_dict_set_expire(ttl_dict *d, ttl_entry *e, uint64_t expire_at_ms)
{
    uint64_t was = ttl_entry_expire_at(e), at = clamp_expire(expire_at_ms);
    struct ttl_table *t;
    size_t slot;

    ttl_entry_put_expire(e, at);
    if (at >= was)
        return; /* the segment's bound stays a valid (looser) lower bound */
    if (ttl_dict_locate(d, e, &t, &slot))
        ttl_index_note(t, slot, e);
    else
        assert(!"ttl_dict_set_expire: entry not in the dictionary");
}

size_t ttl_dict_size(const ttl_dict *d) { return d->live; }
size_t ttl_dict_tombstones(const ttl_dict *d) { return d->tombs; }
size_t ttl_dict_mem_bytes(const ttl_dict *d) { return d->mem_bytes; }
const ttl_stats *ttl_dict_stats(const ttl_dict *d) { return &d->stats; }

const char *ttl_strerror(int code)
{
    switch (code) {
    case TTL_OK:
        return "ok";
    case TTL_ERR_NOMEM:
        return "out of memory";
    case TTL_ERR_TOOBIG:
        return "key or value too long";
    default:
        return "unknown ttl error";
    }
}
