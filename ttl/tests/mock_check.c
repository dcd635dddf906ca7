/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_check.c: white-box invariant checks and small helpers shared by the ttl/ tests.  (Named
 * mock_* because the Makefile links every ttl/tests/mock_*.c into each ttl test binary.)
 *
 * check_dict() re-derives everything the dictionary keeps incrementally and compares: slot words
 * (tag, exact or saturated distance, Robin Hood order), the expiry index (lower bounds, heap
 * shape, position map), entry counts, the migration cursor and the memory model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ttl/tests/support.h"

const uint8_t test_seed[16] = {0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
                               0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

size_t test_key(char *buf, size_t cap, const char *prefix, unsigned n)
{
    int len = snprintf(buf, cap, "%s%u", prefix, n);
    assert_true(len > 0 && (size_t)len < cap);
    return (size_t)len;
}

uint64_t test_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void check_heap(const struct ttl_index *ix, size_t nseg)
{
    for (size_t i = 0; i < nseg; i++) {
        assert_true(ix->heap[i] < nseg);
        assert_int_equal(ix->pos[ix->heap[i]], i);
        if (i > 0)
            assert_true(ix->min[ix->heap[(i - 1) / 2]] <= ix->min[ix->heap[i]]);
    }
}

/* One slot: tag, distance, index bound; returns its exact distance. */
static size_t check_slot(const ttl_dict *d, const struct ttl_table *t, size_t i, uint64_t w)
{
    const ttl_entry *e = ttl_slot_entry(w);
    uint64_t h = ttl_hash_entry(d, e);
    size_t dist = (i - (h & t->mask)) & t->mask;
    unsigned sd = ttl_slot_dist(w);
    int kind = ttl_entry_is_tombstone(e);

    assert_int_equal((w >> TTL_SLOT_TAG_SHIFT) & 0xff, h >> 56);
    assert_int_equal(sd, dist < TTL_SLOT_DIST_SAT ? dist : TTL_SLOT_DIST_SAT);
    assert_non_null(t->idx[kind].min);
    assert_true(t->idx[kind].min[i / TTL_SEG_SLOTS] <= ttl_entry_expire_at(e));
    assert_true(ttl_entry_expire_at(e) >= 1 && ttl_entry_expire_at(e) <= TTL_EXPIRE_MAX);
    return dist;
}

static void check_table(const ttl_dict *d, const struct ttl_table *t, size_t *live,
                        size_t *tombs, size_t *bytes)
{
    size_t nslots = t->mask + 1, used = 0, nseg = nslots / TTL_SEG_SLOTS;

    assert_true(nslots >= TTL_MIN_SLOTS && (nslots & t->mask) == 0);
    for (size_t i = 0; i < nslots; i++) {
        uint64_t w = t->slots[i], pw = t->slots[(i - 1) & t->mask];
        size_t dist, slot, ignored;
        const ttl_entry *e;
        if (w == 0)
            continue;
        used++;
        e = ttl_slot_entry(w);
        dist = check_slot(d, t, i, w);
        /* Robin Hood order: a displaced entry follows an entry at most one step closer. */
        if (dist > 0) {
            assert_true(pw != 0);
            assert_true(dist <= ttl_table_true_dist(d, t, (i - 1) & t->mask, pw) + 1);
        }
        assert_true(ttl_table_find(d, t, ttl_hash_entry(d, e), e->data, e->klen, &slot,
                                   &ignored));
        assert_int_equal(slot, i);
        *live += !ttl_entry_is_tombstone(e);
        *tombs += ttl_entry_is_tombstone(e);
        *bytes += ttl_entry_chunk(e);
    }
    assert_int_equal(used, t->used);
    assert_true(used * 10 <= nslots * 9);
    check_heap(&t->idx[0], nseg);
    if (t->idx[1].min != NULL)
        check_heap(&t->idx[1], nseg);
    assert_int_equal(t->idx[1].min != NULL, d->tomb_index);
}

void check_dict(const ttl_dict *d)
{
    size_t live = 0, tombs = 0, bytes = 0, mem = sizeof(ttl_dict);

    assert_non_null(d->ht);
    check_table(d, d->ht, &live, &tombs, &bytes);
    mem += ttl_table_mem(d->ht);
    if (d->old != NULL) {
        assert_true(d->old != d->ht);
        check_table(d, d->old, &live, &tombs, &bytes);
        mem += ttl_table_mem(d->old);
        /* old may be empty if removals (not migration) drained it; the next tidy frees it. */
        for (size_t i = 0; i < d->migrate_pos; i++)
            assert_int_equal(d->old->slots[i], 0);
        /* A key lives in one table only. */
        for (size_t i = 0; i <= d->old->mask; i++) {
            const ttl_entry *e = ttl_slot_entry(d->old->slots[i]);
            size_t slot, dist;
            if (e != NULL)
                assert_false(ttl_table_find(d, d->ht, ttl_hash_entry(d, e), e->data, e->klen,
                                            &slot, &dist));
        }
    } else {
        assert_int_equal(d->migrate_pos, 0);
    }
    assert_int_equal(live, ttl_dict_size(d));
    assert_int_equal(tombs, ttl_dict_tombstones(d));
    assert_int_equal(mem + bytes, ttl_dict_mem_bytes(d));
}

static size_t table_entry_bytes(const struct ttl_table *t)
{
    size_t bytes = 0;
    for (size_t i = 0; t != NULL && i <= t->mask; i++)
        if (t->slots[i] != 0)
            bytes += ttl_entry_chunk(ttl_slot_entry(t->slots[i]));
    return bytes;
}

size_t check_entry_bytes(const ttl_dict *d)
{
    return table_entry_bytes(d->ht) + table_entry_bytes(d->old);
}
