/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * expire.c: active expiry, eviction (volatile-ttl) and the next-expiry hint, all driven by the
 * segment index of index.c.
 *
 * What: the heaps (live and tombstone kinds, for ht and for old while resizing) order table
 * segments by a lower bound of their entries' expiries.  Active expiry repeatedly sweeps the
 * segment with the smallest bound while that bound is due; eviction sweeps the segment with the
 * smallest live bound and removes its nearest-to-expire live entry.
 *
 * Why: DESIGN.md wants due keys gone within ~100 ms at bounded cost per tick, without random
 * sampling (Redis's sampling leaves up to 25% of due keys behind under load) and without memory
 * per entry.  A sweep costs 32 slot reads plus one entry read per occupied slot (sequential
 * memory, prefetched) and one heap fix, and it makes the segment's bound exact again.
 * Rejected: a timing wheel or skip list (a link or node per entry, 8-24 bytes per key), and
 * random sampling (unbounded lag, and nothing to answer "when is the next expiry").
 *
 * Invariants: see ttl_internal.h.  Removing entries never breaks them (bounds only get looser),
 * and a backward shift that pulls an entry across a segment boundary lowers the receiving
 * segment's bound through ttl_index_note().
 * Threading: the owner thread; the server calls ttl_dict_expire from its timer.
 * Start reading at sweep_segment(), then ttl_dict_expire().
 */
#include "ttl/ttl_internal.h"

#include <stdlib.h>

/* Eviction compares at most this many segments with live entries before choosing (only segments
 * whose bound is below the best candidate so far are swept, so with tight bounds it is one). */
#define EVICT_MAX_SEGMENTS 4

#define NO_SLOT SIZE_MAX

struct seg_ref {
    struct ttl_table *t;
    size_t seg;
    uint64_t bound;
};

/* The segment with the smallest bound among the heaps of both tables, of live entries only or of
 * both kinds.  Returns 0 when every bound is UINT64_MAX (nothing of those kinds is held). */
static int top_segment(const ttl_dict *d, int with_tombs, struct seg_ref *r)
{
    struct ttl_table *tabs[2] = {d->ht, d->old};

    r->t = NULL;
    r->seg = 0;
    r->bound = UINT64_MAX;
    for (int i = 0; i < 2 && tabs[i] != NULL; i++) {
        for (int k = 0; k <= with_tombs; k++) {
            size_t seg;
            uint64_t b;
            if (tabs[i]->idx[k].min == NULL)
                continue;
            b = ttl_index_top(&tabs[i]->idx[k], &seg);
            if (b < r->bound) {
                r->t = tabs[i];
                r->seg = seg;
                r->bound = b;
            }
        }
    }
    return r->bound != UINT64_MAX;
}

uint64_t ttl_dict_next_expiry(const ttl_dict *d)
{
    struct seg_ref r;
    return top_segment(d, 1, &r) ? r.bound : UINT64_MAX;
}

/*
 * Sweep one segment: remove every entry whose expiry is <= now (reason EXPIRED), then set both
 * of the segment's bounds to the true minimum of what remains.  After a removal the same slot is
 * examined again, because the backward shift may have pulled the next entry into it.  Removals at
 * a slot only move entries from later slots, so slots already passed are final and the minimum
 * computed on the way is exact.  Returns the number removed; *best is the slot of the live entry
 * with the smallest expiry (NO_SLOT if none), which stays valid until the table changes again.
 */
static size_t sweep_segment(ttl_dict *d, struct ttl_table *t, size_t seg, uint64_t now_ms,
                            size_t *best)
{
    size_t base = seg * TTL_SEG_SLOTS, removed = 0, nseg = (t->mask + 1) / TTL_SEG_SLOTS;
    uint64_t lo[2] = {UINT64_MAX, UINT64_MAX};

    for (size_t s = base; s < base + TTL_SEG_SLOTS; s++)
        if (t->slots[s] != 0)
            __builtin_prefetch(ttl_slot_entry(t->slots[s]));
    *best = NO_SLOT;
    for (size_t s = base; s < base + TTL_SEG_SLOTS; s++) {
        uint64_t w;
        while ((w = t->slots[s]) != 0) {
            const ttl_entry *e = ttl_slot_entry(w);
            uint64_t at = ttl_entry_expire_at(e);
            int kind = ttl_entry_is_tombstone(e);
            if (at > now_ms) {
                if (at < lo[kind]) {
                    lo[kind] = at;
                    if (kind == 0)
                        *best = s;
                }
                break;
            }
            ttl_dict_remove_at(d, t, s, TTL_REMOVED_EXPIRED);
            removed++;
        }
    }
    ttl_index_update(&t->idx[0], nseg, seg, lo[0]);
    if (t->idx[1].min != NULL)
        ttl_index_update(&t->idx[1], nseg, seg, lo[1]);
    d->stats.expire_scans++;
    return removed;
}

/*
 * How it works: while the smallest segment bound of any heap is <= now, sweep that segment (see
 * sweep_segment), which removes its due entries and raises its bound to the true minimum of what
 * is left, so the next iteration looks at the next candidate.  Every due entry sits in a segment
 * whose bound is due, so when the loop ends because the top bound is in the future, nothing due
 * is left (*more = 0).  The budget is counted in segments of TTL_SEG_SLOTS slots.
 *
 * What can go wrong: a loose bound (the entry that set it was deleted or its expiry extended)
 * costs one useless sweep, which makes it exact; each such sweep pays for an earlier cheap
 * delete, so the work is amortised O(1) per operation.  All keys due at the same moment are
 * removed at a cost of one sweep per 32 slots: 1M due keys take well under 0.5 s in total,
 * spread over as many calls as the caller's budget asks.
 *
 * Limitations: the work per call is max_slots rounded down to whole segments, but at least one
 * segment (32 slots) when max_slots > 0, plus one re-examination per removed entry and the
 * backward shifts of removals.  A removal does not start a resize; a shrink that became due is
 * started once at the end of the call.
 */
size_t ttl_dict_expire(ttl_dict *d, uint64_t now_ms, size_t max_slots, int *more)
{
    size_t removed = 0, segs_left = max_slots / TTL_SEG_SLOTS, best;
    struct seg_ref r;
    int due = top_segment(d, 1, &r) && r.bound <= now_ms;

    if (segs_left == 0 && max_slots > 0)
        segs_left = 1;
    while (due && segs_left > 0) {
        removed += sweep_segment(d, r.t, r.seg, now_ms, &best);
        segs_left--;
        due = top_segment(d, 1, &r) && r.bound <= now_ms;
    }
    if (more != NULL)
        *more = due;
    if (removed > 0)
        ttl_rehash_tidy(d);
    return removed;
}

/*
 * How it works: sweep the segment with the smallest live bound (removing what is already due, as
 * EXPIRED); its bound is now exact, so its best live entry is the global minimum unless another
 * segment's (possibly loose) bound is still smaller.  Then sweep that one too, up to
 * EVICT_MAX_SEGMENTS segments holding live entries, and evict the best entry seen.  Segments whose
 * bound was stale and that turn out to hold no live entry are not counted: their live bound becomes
 * UINT64_MAX, so the loop ends, and it returns 0 only when no live entry is left.
 * Tombstones are never evicted (they guard deleted keys against resurrection by replicas), but
 * expired ones found on the way are removed.
 *
 * Limitations: with more than EVICT_MAX_SEGMENTS loose bounds below the true minimum, the entry
 * evicted may not be the very nearest to expiry, but it is among the nearest.
 */
int ttl_dict_evict(ttl_dict *d, uint64_t now_ms)
{
    ttl_entry *cand = NULL;
    uint64_t cand_at = UINT64_MAX;
    struct ttl_table *cand_t = NULL;
    size_t cand_slot = NO_SLOT, best;
    int rounds = 0;
    struct seg_ref r;

    while (rounds < EVICT_MAX_SEGMENTS && top_segment(d, 0, &r) && r.bound < cand_at) {
        sweep_segment(d, r.t, r.seg, now_ms, &best);
        if (cand != NULL)
            cand_slot = NO_SLOT; /* the sweep may have shifted the candidate */
        if (best == NO_SLOT)
            continue;
        rounds++;
        if (ttl_entry_expire_at(ttl_slot_entry(r.t->slots[best])) < cand_at) {
            cand = ttl_slot_entry(r.t->slots[best]);
            cand_at = ttl_entry_expire_at(cand);
            cand_t = r.t;
            cand_slot = best;
        }
    }
    if (cand == NULL)
        return 0;
    if (cand_slot == NO_SLOT && !ttl_dict_locate(d, cand, &cand_t, &cand_slot))
        return 0; /* cannot happen: sweeps never remove a live, undue entry */
    ttl_dict_remove_at(d, cand_t, cand_slot, TTL_REMOVED_EVICTED);
    ttl_rehash_tidy(d);
    return 1;
}
