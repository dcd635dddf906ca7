/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ttl_internal.h: the private layout of the expiring dictionary, shared by the files of ttl/ and
 * by its unit tests only.  Nothing outside ttl/ may include it.
 *
 * A table is an array of 64-bit slot words (open addressing, linear probing, Robin Hood order,
 * backward-shift deletion, no tombstone slots):
 *
 *   bits  0..47  entry pointer (0 = empty slot)
 *   bits 48..55  tag: the top 8 bits of the key's hash, compared before the entry is touched
 *   bits 56..63  probe distance from the home slot (hash & mask), saturating at 255
 *
 * Invariant: walking forward from any slot up to the next empty one, homes never decrease
 *            (cyclically), so all entries of one home are contiguous and a probe for a key may
 *            stop at the first slot whose distance is smaller than its own.
 * Invariant: a stored distance below 255 is exact; 255 means "255 or more, recompute from the
 *            key's hash" (ttl_table_true_dist).
 *
 * Each table is split into segments of TTL_SEG_SLOTS slots.  Per segment and per kind (live
 * entries, tombstones) an index keeps a lower bound of the expiries in the segment, and a binary
 * min-heap of the segments ordered by that bound:
 *
 * Invariant: for every entry e in slot s: idx[kind(e)].min[s / TTL_SEG_SLOTS] <= expire(e).
 *            Every placement of an entry into a slot calls ttl_index_note() to keep it.
 * Invariant: a key lives in exactly one table; new keys always go to `ht`.
 */
#ifndef TTL_TTL_INTERNAL_H
#define TTL_TTL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ttl/ttl.h"

/* Slots per expiry-index segment.  32 slots of 8 bytes are four cache lines, cheap to sweep in
 * one go, and the index then costs 16 bytes per 32 slots (0.5 byte per slot) per kind. */
#define TTL_SEG_SLOTS 32u

/* Slots of a fresh table, and the floor for shrinking (two index segments). */
#define TTL_MIN_SLOTS 64u

/* Largest table: heap positions are uint32_t, so at most 2^32 segments. */
#define TTL_MAX_SLOTS ((size_t)1 << 37)

#define TTL_SLOT_PTR_MASK ((UINT64_C(1) << 48) - 1)
#define TTL_SLOT_TAG_SHIFT 48
#define TTL_SLOT_DIST_SHIFT 56
#define TTL_SLOT_DIST_SAT 255u
#define TTL_SLOT_DIST_ONE (UINT64_C(1) << TTL_SLOT_DIST_SHIFT)

/* Entry header bytes: the key starts here (20; sizeof(ttl_entry) is 24 because of padding). */
#define TTL_ENTRY_HDR offsetof(ttl_entry, data)

/* glibc malloc model: a chunk is the request plus an 8-byte size word, rounded up to 16 bytes,
 * and never below 32 bytes.  The usable part of a chunk is its size minus 8. */
#define TTL_MALLOC_OVERHEAD 8u
#define TTL_MALLOC_ALIGN 16u
#define TTL_MALLOC_MIN_CHUNK 32u

/* Work done for resizing by each write (set, set_tombstone, delete): slots migrated, each after
 * skipping at most TTL_REHASH_EMPTY_VISITS empty slots.  4 finishes a doubling migration after
 * about a quarter of the table's size in writes, long before the new table fills. */
#define TTL_REHASH_STEPS_PER_WRITE 4u
#define TTL_REHASH_EMPTY_VISITS 10u

/* The allocation seam.  Production code never changes these; tests point them at failing
 * allocators to prove that every TTL_ERR_NOMEM leaves the dictionary unchanged.  Memory is always
 * released with plain free(). */
typedef void *ttl_malloc_fn(size_t size);
typedef void *ttl_calloc_fn(size_t n, size_t size);
extern ttl_malloc_fn *ttl_malloc_hook;
extern ttl_calloc_fn *ttl_calloc_hook;

/* Test seam: a replacement hash (to force collisions and saturated distances). */
typedef uint64_t ttl_hash_fn(const void *key, size_t len);

struct ttl_index {
    uint64_t *min;  /* [nseg] lower bound of the expiries in the segment, UINT64_MAX if none */
    uint32_t *pos;  /* [nseg] position of the segment in heap[] */
    uint32_t *heap; /* [nseg] segment numbers, a binary min-heap on min[] */
};

struct ttl_table {
    uint64_t *slots;          /* NULL when the table is not in use */
    size_t mask;              /* slots - 1, slots a power of two >= TTL_MIN_SLOTS */
    size_t used;              /* entries held, tombstones included */
    struct ttl_index idx[2];  /* [0] live entries, [1] tombstones (min NULL until the first) */
};

struct ttl_dict {
    struct ttl_table *ht;     /* receives every new key */
    struct ttl_table *old;    /* being drained into ht, or NULL */
    size_t migrate_pos;       /* next slot of old to migrate; slots before it are empty */
    size_t live;              /* entries that are not tombstones */
    size_t tombs;             /* tombstones */
    size_t mem_bytes;         /* see ttl_dict_mem_bytes() */
    uint64_t k0, k1;          /* SipHash key */
    ttl_hash_fn *hash_override;
    int tomb_index;           /* 1: every table in use has idx[1] */
    ttl_remove_fn *hook;
    void *hook_priv;
    ttl_stats stats;
    struct ttl_table tabs[2]; /* storage for ht and old */
};

/* ---- slot words ---- */

static inline ttl_entry *ttl_slot_entry(uint64_t w)
{
    return (ttl_entry *)(uintptr_t)(w & TTL_SLOT_PTR_MASK);
}
static inline unsigned ttl_slot_dist(uint64_t w) { return (unsigned)(w >> TTL_SLOT_DIST_SHIFT); }
static inline uint64_t ttl_slot_tag(uint64_t hash)
{
    return (hash >> 56) << TTL_SLOT_TAG_SHIFT;
}
static inline uint64_t ttl_slot_make(const ttl_entry *e, uint64_t hash, size_t dist)
{
    uint64_t d = dist < TTL_SLOT_DIST_SAT ? dist : TTL_SLOT_DIST_SAT;
    return (uint64_t)(uintptr_t)e | ttl_slot_tag(hash) | d << TTL_SLOT_DIST_SHIFT;
}

/* ---- entries ---- */

static inline size_t ttl_chunk_bytes(size_t request)
{
    size_t align_mask = TTL_MALLOC_ALIGN - 1;
    size_t c = (request + TTL_MALLOC_OVERHEAD + align_mask) & ~align_mask;
    return c < TTL_MALLOC_MIN_CHUNK ? TTL_MALLOC_MIN_CHUNK : c;
}
static inline size_t ttl_entry_bytes(const ttl_entry *e)
{
    return TTL_ENTRY_HDR + e->klen + ttl_entry_vlen(e);
}
static inline size_t ttl_entry_chunk(const ttl_entry *e)
{
    return ttl_chunk_bytes(ttl_entry_bytes(e));
}
static inline void ttl_entry_put_expire(ttl_entry *e, uint64_t at_ms)
{
    for (int i = 0; i < 6; i++)
        e->expire_at[i] = (uint8_t)(at_ms >> (8 * i));
}

/* ---- siphash.c ---- */
uint64_t ttl_siphash13(uint64_t k0, uint64_t k1, const void *data, size_t len);
uint64_t ttl_siphash24(uint64_t k0, uint64_t k1, const void *data, size_t len); /* tests only */

/* ---- index.c ---- */
int ttl_index_init(struct ttl_index *ix, size_t nseg);
void ttl_index_release(struct ttl_index *ix);
size_t ttl_index_bytes(size_t nseg);
void ttl_index_lower(struct ttl_index *ix, size_t seg, uint64_t bound);
void ttl_index_update(struct ttl_index *ix, size_t nseg, size_t seg, uint64_t bound);

static inline uint64_t ttl_index_top(const struct ttl_index *ix, size_t *seg)
{
    *seg = ix->heap[0];
    return ix->min[ix->heap[0]];
}

/* Keep the index invariant after placing entry e into slot `slot` of table t. */
static inline void ttl_index_note(struct ttl_table *t, size_t slot, const ttl_entry *e)
{
    struct ttl_index *ix = &t->idx[ttl_entry_is_tombstone(e)];
    uint64_t at = ttl_entry_expire_at(e);
    size_t seg = slot / TTL_SEG_SLOTS;
    if (at < ix->min[seg])
        ttl_index_lower(ix, seg, at);
}

/* ---- table.c ---- */
int ttl_table_init(struct ttl_table *t, size_t nslots, int with_tombs);
void ttl_table_release(struct ttl_table *t);
size_t ttl_table_bytes(size_t nslots, int with_tombs);
size_t ttl_table_mem(const struct ttl_table *t);
size_t ttl_table_true_dist(const ttl_dict *d, const struct ttl_table *t, size_t i, uint64_t w);
int ttl_table_find(const ttl_dict *d, const struct ttl_table *t, uint64_t hash, const void *key,
                   size_t klen, size_t *slot, size_t *dist);
size_t ttl_table_probe_free(const ttl_dict *d, const struct ttl_table *t, uint64_t hash,
                            size_t *dist);
int ttl_table_locate(const ttl_dict *d, const struct ttl_table *t, uint64_t hash,
                     const ttl_entry *e, size_t *slot);
void ttl_table_place(struct ttl_table *t, size_t slot, size_t dist, uint64_t hash, ttl_entry *e);
void ttl_table_unlink(const ttl_dict *d, struct ttl_table *t, size_t slot);

/* ---- rehash.c ---- */
void ttl_rehash_steps(ttl_dict *d, size_t steps);
void ttl_rehash_finish(ttl_dict *d);
int ttl_rehash_reserve(ttl_dict *d, int *moved);
void ttl_rehash_tidy(ttl_dict *d);

/* ---- dict.c ---- */
uint64_t ttl_hash_bytes(const ttl_dict *d, const void *key, size_t klen);
uint64_t ttl_hash_entry(const ttl_dict *d, const ttl_entry *e);
void ttl_dict_remove_at(ttl_dict *d, struct ttl_table *t, size_t slot, enum ttl_reason why);
int ttl_dict_locate(const ttl_dict *d, const ttl_entry *e, struct ttl_table **t, size_t *slot);
/* Test seam: replace the hash function; only on an empty dictionary. */
void ttl_dict_set_hash_override(ttl_dict *d, ttl_hash_fn *fn);

#endif /* TTL_TTL_INTERNAL_H */
