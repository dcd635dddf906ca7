/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * table.c: one open-addressing table (linear probing, Robin Hood order, backward-shift deletion).
 *
 * What: probing for a key, for an insertion point and for an entry pointer; placing an entry at
 * its Robin Hood position; unlinking an entry.  Nothing here allocates entries, calls hooks or
 * knows about the second table of a resize: that is dict.c and rehash.c.
 *
 * Why: the memory budget (~165 bytes per key in total for 16-byte keys with 100-byte values) rules
 * out chaining (a next pointer per entry plus a bucket array) and a separate expires dict.  An
 * open-addressing table of 8-byte slot words costs 8 bytes per slot and nothing per entry.  The
 * word carries an 8-bit hash tag and the probe distance, so a probe compares (tag, distance)
 * in one instruction and touches an entry only on a 1-in-256 false tag match or the real key.
 * Robin Hood ordering keeps probe sequences short at load 0.8 and lets an unsuccessful probe
 * stop early; backward-shift deletion means there are no tombstone slots to clean up, so the
 * table never degrades under churn.  Rejected: quadratic probing and cuckoo hashing (no cheap
 * incremental-rehash order, no backward shift), tombstone slots (need periodic rebuilds).
 *
 * Invariants (see ttl_internal.h): Robin Hood order; stored distance exact below 255; every entry
 * placement calls ttl_index_note() so the expiry index stays a lower bound.  When an entry moves
 * by one slot (insert shift, backward shift) only a move across a segment boundary can break the
 * index invariant, so only those moves touch the entry.
 * Threading: none (the dictionary's owner thread).
 * Start reading at ttl_table_find(), then ttl_table_place() and ttl_table_unlink().
 */
#include "ttl/ttl_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

size_t ttl_table_bytes(size_t nslots, int with_tombs)
{
    size_t index = ttl_index_bytes(nslots / TTL_SEG_SLOTS);
    return nslots * sizeof(uint64_t) + index * (with_tombs ? 2 : 1);
}

size_t ttl_table_mem(const struct ttl_table *t)
{
    return t->slots ? ttl_table_bytes(t->mask + 1, t->idx[1].min != NULL) : 0;
}

void ttl_table_release(struct ttl_table *t)
{
    free(t->slots);
    ttl_index_release(&t->idx[0]);
    ttl_index_release(&t->idx[1]);
    memset(t, 0, sizeof *t);
}

/* calloc for the slots: large tables come from fresh mmap'd pages that are already zero, so
 * starting a resize does not stall on clearing megabytes. */
int ttl_table_init(struct ttl_table *t, size_t nslots, int with_tombs)
{
    size_t nseg = nslots / TTL_SEG_SLOTS;

    memset(t, 0, sizeof *t);
    assert(nslots >= TTL_MIN_SLOTS && (nslots & (nslots - 1)) == 0);
    if (nslots > TTL_MAX_SLOTS)
        return TTL_ERR_NOMEM;
    t->slots = ttl_calloc_hook(nslots, sizeof(uint64_t));
    if (t->slots == NULL || ttl_index_init(&t->idx[0], nseg) != TTL_OK)
        goto fail;
    if (with_tombs && ttl_index_init(&t->idx[1], nseg) != TTL_OK)
        goto fail;
    t->mask = nslots - 1;
    return TTL_OK;
fail:
    ttl_table_release(t);
    return TTL_ERR_NOMEM;
}

/* The exact probe distance of the entry in slot i (word w), recomputing the hash when the stored
 * distance is saturated.  Slow path: with SipHash a distance of 255 essentially never occurs. */
size_t ttl_table_true_dist(const ttl_dict *d, const struct ttl_table *t, size_t i, uint64_t w)
{
    unsigned sd = ttl_slot_dist(w);
    if (sd < TTL_SLOT_DIST_SAT)
        return sd;
    return (i - (ttl_hash_entry(d, ttl_slot_entry(w)) & t->mask)) & t->mask;
}

/* Robin Hood stop rule: may a probe at distance n stop at the entry in slot i?  Yes when that
 * entry is closer to its home than we are to ours: our key would have displaced it. */
static inline int probe_ends(const ttl_dict *d, const struct ttl_table *t, size_t i, uint64_t w,
                             size_t n)
{
    unsigned sd = ttl_slot_dist(w);
    if (sd >= n)
        return 0;
    return sd < TTL_SLOT_DIST_SAT || ttl_table_true_dist(d, t, i, w) < n;
}

static inline int key_equals(const ttl_entry *e, const void *key, size_t klen)
{
    return e->klen == klen && (klen == 0 || memcmp(e->data, key, klen) == 0);
}

/*
 * Look a key up.  Returns 1 and its slot when found.  Otherwise returns 0 with *slot and *dist
 * set to where the key would be inserted (the Robin Hood position), for ttl_table_place().
 */
int ttl_table_find(const ttl_dict *d, const struct ttl_table *t, uint64_t hash, const void *key,
                   size_t klen, size_t *slot, size_t *dist)
{
    const uint64_t *slots = t->slots;
    size_t mask = t->mask, i = hash & mask, n = 0;
    uint64_t tag = ttl_slot_tag(hash);

    for (;; i = (i + 1) & mask, n++) {
        uint64_t w = slots[i];
        uint64_t want = tag | (uint64_t)(n < TTL_SLOT_DIST_SAT ? n : TTL_SLOT_DIST_SAT)
                                  << TTL_SLOT_DIST_SHIFT;
        if (w == 0)
            break;
        if ((w & ~TTL_SLOT_PTR_MASK) == want && key_equals(ttl_slot_entry(w), key, klen)) {
            *slot = i;
            return 1;
        }
        if (probe_ends(d, t, i, w, n))
            break;
    }
    *slot = i;
    *dist = n;
    return 0;
}

/* The insertion position for a key known to be absent from t (migration: no key compares). */
size_t ttl_table_probe_free(const ttl_dict *d, const struct ttl_table *t, uint64_t hash,
                            size_t *dist)
{
    size_t mask = t->mask, i = hash & mask, n = 0;

    for (;; i = (i + 1) & mask, n++) {
        uint64_t w = t->slots[i];
        if (w == 0 || probe_ends(d, t, i, w, n))
            break;
    }
    *dist = n;
    return i;
}

/* Find the slot holding entry e (whose key hashes to `hash`).  Returns 1 when found. */
int ttl_table_locate(const ttl_dict *d, const struct ttl_table *t, uint64_t hash,
                     const ttl_entry *e, size_t *slot)
{
    size_t mask = t->mask, i = hash & mask, n = 0;

    for (;; i = (i + 1) & mask, n++) {
        uint64_t w = t->slots[i];
        if (w == 0)
            return 0;
        if (ttl_slot_entry(w) == e) {
            *slot = i;
            return 1;
        }
        if (probe_ends(d, t, i, w, n))
            return 0;
    }
}

/*
 * Place entry e at its Robin Hood position (slot, dist) as returned by ttl_table_find() or
 * ttl_table_probe_free(): the run of entries from `slot` up to the next empty slot moves forward
 * by one (each one step further from its home), then e goes into `slot`.  Shifting the whole run
 * is equivalent to the textbook swap-as-you-go insertion (it only permutes entries of equal
 * home) and keeps every home's entries contiguous.  The table must have a free slot.
 */
void ttl_table_place(struct ttl_table *t, size_t slot, size_t dist, uint64_t hash, ttl_entry *e)
{
    uint64_t *slots = t->slots;
    size_t mask = t->mask, q = slot;

    while (slots[q] != 0)
        q = (q + 1) & mask;
    while (q != slot) {
        size_t prev = (q - 1) & mask;
        uint64_t w = slots[prev];
        if (ttl_slot_dist(w) < TTL_SLOT_DIST_SAT)
            w += TTL_SLOT_DIST_ONE;
        slots[q] = w;
        if (q % TTL_SEG_SLOTS == 0) /* crossed into the next segment */
            ttl_index_note(t, q, ttl_slot_entry(w));
        q = prev;
    }
    slots[slot] = ttl_slot_make(e, hash, dist);
    ttl_index_note(t, slot, e);
    t->used++;
}

/*
 * Remove the entry in `slot` from the table (the entry itself is not touched): backward shift.
 * Every following entry that is not at its home moves back by one, until an empty slot or an
 * entry at distance 0.  No tombstone slot is left behind.
 */
void ttl_table_unlink(const ttl_dict *d, struct ttl_table *t, size_t slot)
{
    uint64_t *slots = t->slots;
    size_t mask = t->mask, j = slot;

    assert(slots[slot] != 0);
    for (;;) {
        size_t next = (j + 1) & mask;
        uint64_t w = slots[next];
        unsigned sd = ttl_slot_dist(w);
        if (w == 0 || sd == 0)
            break;
        if (sd < TTL_SLOT_DIST_SAT) {
            w -= TTL_SLOT_DIST_ONE;
        } else {
            uint64_t nd = ttl_table_true_dist(d, t, next, w) - 1;
            if (nd > TTL_SLOT_DIST_SAT)
                nd = TTL_SLOT_DIST_SAT;
            w = (w & ~(UINT64_C(0xff) << TTL_SLOT_DIST_SHIFT)) | nd << TTL_SLOT_DIST_SHIFT;
        }
        slots[j] = w;
        if (next % TTL_SEG_SLOTS == 0) /* crossed back into the previous segment */
            ttl_index_note(t, j, ttl_slot_entry(w));
        j = next;
    }
    slots[j] = 0;
    t->used--;
}
