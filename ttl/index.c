/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * index.c: the expiry index, one binary min-heap of table segments per table and entry kind.
 *
 * What: a table's slots are cut into segments of TTL_SEG_SLOTS.  For each segment the index keeps
 * min[seg], a lower bound of the expiries of the entries in it (UINT64_MAX when it holds none),
 * and a min-heap of all segments ordered by that bound.  The heap top says which segment to sweep
 * next for active expiry and eviction, and ttl_dict_next_expiry() is the smallest top.
 *
 * Why: DESIGN.md asks for an expiry index, not random sampling, and the memory budget (about 165
 * bytes per 16-byte key with a 100-byte value, all included) leaves no room for a per-entry heap
 * node or timer-wheel link (Redis pays 24+ bytes per key for its expires dict).  A bound per 32
 * slots costs 16 bytes per segment (8 for min, 4 for pos, 4 for heap), half a byte per slot.
 * Keeping only a lower bound makes the common updates free: deleting an entry or extending its
 * expiry leaves the bound valid (just loose); only placing an entry, or shortening an expiry, may
 * lower it (sift-up, O(log segments)).  Sweeps make the bound exact again.  Rejected: a timing
 * wheel (needs a link per entry), an exact per-segment minimum (every delete would rescan), and a
 * heap per entry (8+ bytes per key plus position bookkeeping on every Robin Hood move).
 *
 * Invariant: heap[pos[s]] == s for every segment s, and min[heap[parent(i)]] <= min[heap[i]].
 * The entry invariant (bound <= expiry of every entry of the segment) is kept by the callers
 * through ttl_index_note() (ttl_internal.h).
 * Start reading at ttl_index_note() in ttl_internal.h, then ttl_index_update() here.
 */
#include "ttl/ttl_internal.h"

#include <stdlib.h>

/* Bytes per segment: min (8) + pos (4) + heap (4). */
#define INDEX_BYTES_PER_SEG (sizeof(uint64_t) + 2 * sizeof(uint32_t))

size_t ttl_index_bytes(size_t nseg) { return nseg * INDEX_BYTES_PER_SEG; }

int ttl_index_init(struct ttl_index *ix, size_t nseg)
{
    unsigned char *block = ttl_malloc_hook(ttl_index_bytes(nseg));

    if (block == NULL)
        return TTL_ERR_NOMEM;
    ix->min = (uint64_t *)(void *)block;
    ix->pos = (uint32_t *)(void *)(block + nseg * sizeof(uint64_t));
    ix->heap = ix->pos + nseg;
    /* All bounds equal: the identity permutation is a valid heap. */
    for (size_t s = 0; s < nseg; s++) {
        ix->min[s] = UINT64_MAX;
        ix->pos[s] = (uint32_t)s;
        ix->heap[s] = (uint32_t)s;
    }
    return TTL_OK;
}

void ttl_index_release(struct ttl_index *ix)
{
    free(ix->min);
    ix->min = NULL;
    ix->pos = NULL;
    ix->heap = NULL;
}

static void sift_up(struct ttl_index *ix, uint32_t i)
{
    uint32_t seg = ix->heap[i];
    uint64_t key = ix->min[seg];

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        uint32_t pseg = ix->heap[parent];
        if (ix->min[pseg] <= key)
            break;
        ix->heap[i] = pseg;
        ix->pos[pseg] = i;
        i = parent;
    }
    ix->heap[i] = seg;
    ix->pos[seg] = i;
}

static void sift_down(struct ttl_index *ix, uint32_t i, size_t n)
{
    uint32_t seg = ix->heap[i];
    uint64_t key = ix->min[seg];

    for (;;) {
        size_t c = 2 * (size_t)i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ix->min[ix->heap[c + 1]] < ix->min[ix->heap[c]])
            c++;
        if (ix->min[ix->heap[c]] >= key)
            break;
        ix->heap[i] = ix->heap[c];
        ix->pos[ix->heap[i]] = i;
        i = (uint32_t)c;
    }
    ix->heap[i] = seg;
    ix->pos[seg] = i;
}

/* Lower the bound of `seg` to `bound` (callers checked bound < min[seg]). */
void ttl_index_lower(struct ttl_index *ix, size_t seg, uint64_t bound)
{
    ix->min[seg] = bound;
    sift_up(ix, ix->pos[seg]);
}

/* Set the bound of `seg` to any value (after a sweep computed the true minimum). */
void ttl_index_update(struct ttl_index *ix, size_t nseg, size_t seg, uint64_t bound)
{
    uint64_t was = ix->min[seg];

    ix->min[seg] = bound;
    if (bound < was)
        sift_up(ix, ix->pos[seg]);
    else if (bound > was)
        sift_down(ix, ix->pos[seg], nseg);
}
