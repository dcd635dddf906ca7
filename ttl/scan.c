/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * scan.c: cursor iteration (SCAN, KEYS, anti-entropy digests) and random entries (RANDOMKEY).
 *
 * What: ttl_dict_scan() walks home buckets in reverse-binary cursor order, the order Redis's
 * dictScan made famous, adapted to an open-addressing Robin Hood table; ttl_dict_random() picks a
 * random slot and walks forward to a live entry.
 *
 * Why: a stateless 64-bit cursor is what SCAN needs (the client holds it, the server forgets it),
 * and reverse-binary order is the one known order that survives table growth and shrinking
 * between calls without missing entries.  Rejected: iterating raw slot indices (Robin Hood shifts
 * and resizes move entries across the cursor) and snapshotting keys (memory per scan).
 *
 * Invariants used: Robin Hood order keeps the entries of one home contiguous and sorted by home,
 * so the entries of home b are found by walking forward from slot b and stopping at the first
 * empty slot or the first entry whose home lies after b.
 * Threading: the owner thread.  Visitors must not modify the dictionary.
 * Start reading at ttl_dict_scan().
 */
#include "ttl/ttl_internal.h"

/* Report the entries whose home is slot b of table t. */
static size_t visit_home(const ttl_dict *d, const struct ttl_table *t, size_t b, uint64_t now_ms,
                         int tombstones, ttl_scan_fn *fn, void *priv)
{
    size_t i = b, n = 0, seen = 0;

    for (; n <= t->mask; i = (i + 1) & t->mask, n++) {
        uint64_t w = t->slots[i];
        size_t dist;
        const ttl_entry *e;
        if (w == 0)
            break;
        dist = ttl_table_true_dist(d, t, i, w);
        if (dist < n)
            break; /* home after b: b's run is over */
        if (dist > n)
            continue; /* home before b, displaced past it */
        e = ttl_slot_entry(w);
        if (ttl_entry_expire_at(e) <= now_ms || (ttl_entry_is_tombstone(e) && !tombstones))
            continue;
        fn(priv, e);
        seen++;
    }
    return seen;
}

static uint64_t reverse_bits(uint64_t v)
{
    v = (v >> 1 & UINT64_C(0x5555555555555555)) | (v & UINT64_C(0x5555555555555555)) << 1;
    v = (v >> 2 & UINT64_C(0x3333333333333333)) | (v & UINT64_C(0x3333333333333333)) << 2;
    v = (v >> 4 & UINT64_C(0x0f0f0f0f0f0f0f0f)) | (v & UINT64_C(0x0f0f0f0f0f0f0f0f)) << 4;
    v = (v >> 8 & UINT64_C(0x00ff00ff00ff00ff)) | (v & UINT64_C(0x00ff00ff00ff00ff)) << 8;
    v = (v >> 16 & UINT64_C(0x0000ffff0000ffff)) | (v & UINT64_C(0x0000ffff0000ffff)) << 16;
    return v >> 32 | v << 32;
}

/*
 * How it works: the cursor names a home bucket (cursor & mask).  Read the cursor with its bits
 * reversed and call that the counter: each step adds one to the counter at the bit just below the
 * table's size bits, so with 8 buckets the cursor runs 0, 4, 2, 6, 1, 5, 3, 7 and then 0 (done).
 * Between calls the cursor has no bits above the mask, and the buckets of a 2^k table already
 * visited are exactly those whose k-bit reversed number is below the counter's top k bits.
 *   - Growth to 2^(k+1) splits bucket b into b and b + 2^k.  Both have b's reversed number as
 *     their top k bits, and the counter's extra bit is 0, so they count as visited exactly when
 *     b did: every entry not yet reported is still ahead, and nothing repeats.
 *   - Shrinking to 2^(k-1) merges b and b + 2^(k-1).  The merged bucket is ahead of the cursor if
 *     either half was, so its entries come again in full: duplicates, never misses.
 * While resizing, one step visits the bucket in the smaller table and every expansion of it in
 * the larger table, so an entry is reported wherever the migration has put it.
 *
 * Home buckets in a Robin Hood table: an entry belongs to home b = (slot - distance) & mask.  Its
 * entries are contiguous starting at or after slot b (displaced entries of earlier homes may sit
 * in front of them), so visit_home walks forward from b, skips entries with a larger distance
 * than the walk (earlier homes), reports those with an equal distance, and stops at an empty slot
 * or a smaller distance (later homes).  Insertions and deletions between calls move entries only
 * within their home's run and never change homes, so the argument above is unaffected.
 *
 * What can go wrong: an entry present for the whole scan is always reported at least once;
 * entries added or removed during the scan may or may not be; an entry may be reported twice
 * when the table shrank or while a resize is in progress.  Expired entries are skipped, not
 * removed (visiting is read-only).  The visitor must not modify the dictionary: the walk would
 * lose its place.
 *
 * Limitations: count is a number of home buckets (an expansion counts as one), not of entries, so
 * a call may report nothing (sparse table) or more than count entries; the cursor is only
 * meaningful with the dictionary that produced it.
 */
uint64_t ttl_dict_scan(ttl_dict *d, uint64_t cursor, size_t count, uint64_t now_ms, int tombstones,
                       ttl_scan_fn *fn, void *priv)
{
    uint64_t v = cursor;
    size_t buckets = 0;

    do {
        const struct ttl_table *small = d->ht, *big = d->old;
        uint64_t m0, m1;
        if (big != NULL && big->mask < small->mask) {
            small = d->old;
            big = d->ht;
        }
        m0 = small->mask;
        visit_home(d, small, v & m0, now_ms, tombstones, fn, priv);
        buckets++;
        if (big != NULL) {
            m1 = big->mask;
            do {
                visit_home(d, big, v & m1, now_ms, tombstones, fn, priv);
                buckets++;
                /* Next expansion: increment the bits of m1 that are not in m0. */
                v = (((v | m0) + 1) & ~m0) | (v & m0);
            } while (v & (m0 ^ m1));
        }
        /* Reverse-binary increment over the bits of the smaller mask. */
        v |= ~m0;
        v = reverse_bits(v);
        v++;
        v = reverse_bits(v);
    } while (v != 0 && buckets < count);
    return v;
}

/* Walk t from slot `start` for at most one full turn, removing expired entries met, and return
 * the first live non-tombstone entry. */
static ttl_entry *walk_to_live(ttl_dict *d, struct ttl_table *t, size_t start, uint64_t now_ms)
{
    size_t i = start, left = t->mask + 1;

    while (left > 0 && d->live > 0) {
        uint64_t w = t->slots[i];
        if (w != 0) {
            ttl_entry *e = ttl_slot_entry(w);
            if (ttl_entry_expire_at(e) <= now_ms) {
                ttl_dict_remove_at(d, t, i, TTL_REMOVED_EXPIRED);
                continue; /* the backward shift may have filled slot i */
            }
            if (!ttl_entry_is_tombstone(e))
                return e;
        }
        i = (i + 1) & t->mask;
        left--;
    }
    return NULL;
}

/*
 * How it works: r picks a slot among all slots of both tables; the walk goes forward from there
 * to the first live entry.  Not uniform: an entry that follows a long gap is chosen more often
 * (the same bias as Redis's dictGetRandomKey has with chain lengths).  Expired entries met are
 * removed, so the function returns NULL only when no live entry remains (size() == 0 after the
 * call).  Cost: a few slots at normal loads; a full table walk when almost everything is expired
 * or a tombstone.
 */
ttl_entry *ttl_dict_random(ttl_dict *d, uint64_t r, uint64_t now_ms)
{
    struct ttl_table *first = d->ht, *second = d->old;
    size_t n0 = d->ht->mask + 1, n1 = d->old ? d->old->mask + 1 : 0;
    uint64_t pick;
    ttl_entry *e;

    if (d->live == 0)
        return NULL;
    pick = r % (n0 + n1);
    if (pick >= n0) {
        first = d->old;
        second = d->ht;
        pick -= n0;
    }
    e = walk_to_live(d, first, (size_t)pick, now_ms);
    if (e == NULL && second != NULL)
        e = walk_to_live(d, second, 0, now_ms);
    return e;
}
