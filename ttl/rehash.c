/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rehash.c: incremental resize (grow x2 at load 0.8, shrink when under 1/16 full).
 *
 * What: while resizing, the dictionary holds two tables.  `ht` (the new one) receives every new
 * key; `old` is drained slot by slot, in index order, by a cursor (migrate_pos).  Lookups and
 * deletes try ht, then old.  Updates of a key already in old stay there.
 *
 * How the drain works: at slot i of old, while slot i holds an entry, move that entry to ht and
 * backward-shift-delete it from old; the shift may pull the next displaced entry into i, so slot
 * i is re-checked until empty; then the cursor advances.  Since old only ever loses entries
 * through ordinary Robin Hood deletion it stays a valid Robin Hood table, so lookups in it need
 * no special case and no tombstone slots.  Slots before the cursor are empty and stay empty:
 * nothing is inserted into old, and a backward shift only moves entries to lower slots within
 * its own run, which ends at the first empty slot (at the latest the cursor's predecessor).
 * So old is empty when the cursor reaches its end, and it is freed as soon as it holds no entry.
 *
 * Why incremental: a table of 2^21 slots holds 1.6M keys; migrating it at once stalls the event
 * loop for about 100 ms.  Each write does TTL_REHASH_STEPS_PER_WRITE slots (about 0.3 us), and the
 * server's timer calls ttl_dict_rehash() for read-mostly workloads.  Migration needs each key's
 * full hash (the slot keeps only 8 bits of it), so it rehashes the key: the entry is read anyway
 * to maintain the new table's expiry index.
 *
 * Limits: if inserts during a resize would push ht past load 0.9 (possible only while shrinking),
 * the migration is finished synchronously first.  A failed allocation of a bigger table is not an
 * error until the load would pass 0.9: the table keeps working, just with longer probes.
 * Start reading at ttl_rehash_reserve().
 */
#include "ttl/ttl_internal.h"

#include <assert.h>
#include <stdlib.h>

/* Grow when an insert would take the load above 4/5. */
#define GROW_LOAD_NUM 4u
#define GROW_LOAD_DEN 5u
/* Hard load limit (9/10): never exceeded; a resize is forced or the insert fails. */
#define HARD_LOAD_NUM 9u
#define HARD_LOAD_DEN 10u
/* Shrink when fewer than 1/16 of the slots are used, to a size with load at most 2/5. */
#define SHRINK_USED_DEN 16u
#define SHRINK_TARGET_NUM 2u
#define SHRINK_TARGET_DEN 5u

static void rehash_done(ttl_dict *d)
{
    assert(d->old->used == 0);
    d->mem_bytes -= ttl_table_mem(d->old);
    ttl_table_release(d->old);
    d->old = NULL;
    d->migrate_pos = 0;
}

/* Make `fresh` (an initialised, empty table) the new ht and start draining the current one. */
static void rehash_install(ttl_dict *d, const struct ttl_table *fresh)
{
    struct ttl_table *next = d->ht == &d->tabs[0] ? &d->tabs[1] : &d->tabs[0];

    assert(d->old == NULL && next->slots == NULL);
    *next = *fresh;
    d->mem_bytes += ttl_table_mem(next);
    d->old = d->ht;
    d->ht = next;
    d->migrate_pos = 0;
    if (d->old->used == 0)
        rehash_done(d);
}

static int rehash_start(ttl_dict *d, size_t nslots)
{
    struct ttl_table fresh;

    if (ttl_table_init(&fresh, nslots, d->tomb_index) != TTL_OK)
        return TTL_ERR_NOMEM;
    rehash_install(d, &fresh);
    return TTL_OK;
}

/* Move every entry that is in slot i of old (re-checking i after each backward shift). */
static void migrate_slot(ttl_dict *d, size_t i)
{
    struct ttl_table *from = d->old, *to = d->ht;
    uint64_t w;

    while ((w = from->slots[i]) != 0) {
        ttl_entry *e = ttl_slot_entry(w);
        uint64_t hash = ttl_hash_entry(d, e);
        size_t dist, at = ttl_table_probe_free(d, to, hash, &dist);
        ttl_table_place(to, at, dist, hash, e);
        ttl_table_unlink(d, from, i);
    }
}

/* Migrate up to `steps` non-empty slots, skipping at most TTL_REHASH_EMPTY_VISITS empty slots
 * per step, then free old if it is drained. */
void ttl_rehash_steps(ttl_dict *d, size_t steps)
{
    struct ttl_table *from = d->old;
    size_t nslots = from->mask + 1;
    size_t empty_left = steps > SIZE_MAX / TTL_REHASH_EMPTY_VISITS
                            ? SIZE_MAX
                            : steps * TTL_REHASH_EMPTY_VISITS;

    while (steps > 0 && from->used > 0) {
        assert(d->migrate_pos < nslots);
        if (from->slots[d->migrate_pos] == 0) {
            d->migrate_pos++;
            if (--empty_left == 0)
                break;
            continue;
        }
        migrate_slot(d, d->migrate_pos++);
        steps--;
    }
    if (from->used == 0)
        rehash_done(d);
}

void ttl_rehash_finish(ttl_dict *d)
{
    if (d->old != NULL)
        ttl_rehash_steps(d, SIZE_MAX);
}

/*
 * Make room in ht for one more entry.  Sets *moved to 1 when the layout of ht changed (a resize
 * started or a migration was finished), so an insertion point found earlier is stale.
 * The bigger table is allocated before anything changes, so TTL_ERR_NOMEM (returned only when
 * the entry cannot go in without passing the hard load limit) leaves the dictionary unchanged.
 */
int ttl_rehash_reserve(ttl_dict *d, int *moved)
{
    size_t total = d->ht->used + (d->old ? d->old->used : 0) + 1;
    size_t nslots = d->ht->mask + 1;
    int fits_hard = total * HARD_LOAD_DEN <= nslots * HARD_LOAD_NUM;
    struct ttl_table fresh;

    if (d->old != NULL ? fits_hard : total * GROW_LOAD_DEN <= nslots * GROW_LOAD_NUM)
        return TTL_OK;
    /* Not rehashing and past 0.8, or rehashing and ht would pass 0.9: double ht (after finishing
     * the current migration, which leaves ht holding everything at load > 0.8). */
    if (ttl_table_init(&fresh, nslots * 2, d->tomb_index) != TTL_OK)
        return d->old == NULL && fits_hard ? TTL_OK : TTL_ERR_NOMEM;
    ttl_rehash_finish(d);
    rehash_install(d, &fresh);
    *moved = 1;
    return TTL_OK;
}

/* After removals: free old if removals (not migration) emptied it, or start shrinking when the
 * table is mostly empty.  Failure to allocate is ignored: the big table keeps working and the
 * next removal tries again.  Not called in the middle of a sweep or walk, since it may free old. */
void ttl_rehash_tidy(ttl_dict *d)
{
    size_t nslots = d->ht->mask + 1, used = d->ht->used, target = TTL_MIN_SLOTS;

    if (d->old != NULL && d->old->used == 0)
        rehash_done(d);
    if (d->old != NULL || nslots <= TTL_MIN_SLOTS || used * SHRINK_USED_DEN >= nslots)
        return;
    while (target < nslots && used * SHRINK_TARGET_DEN > target * SHRINK_TARGET_NUM)
        target *= 2;
    if (target < nslots)
        (void)rehash_start(d, target);
}

int ttl_dict_rehash(ttl_dict *d, size_t steps)
{
    ttl_rehash_tidy(d);
    if (d->old != NULL && steps > 0)
        ttl_rehash_steps(d, steps);
    return d->old != NULL;
}

int ttl_dict_is_rehashing(const ttl_dict *d) { return d->old != NULL; }

size_t ttl_dict_slots(const ttl_dict *d)
{
    return d->ht->mask + 1 + (d->old ? d->old->mask + 1 : 0);
}
