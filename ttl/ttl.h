/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ttl.h: the expiring dictionary.  Binary-safe keys and values, every entry with an absolute
 * expiry (wall-clock milliseconds) and a 64-bit version; lazy expiry on access, active expiry
 * driven by an expiry index, incremental resize, and exact memory accounting.
 *
 * The dictionary never reads the clock: every call that needs the time takes `now_ms`.  It is not
 * thread-safe; one thread owns it (the server's data thread).
 *
 * Keys are hashed once per command by the caller (ttl_dict_hash) and the hash is passed to every
 * call about that key.
 *
 * Entries are owned by the dictionary.  A `ttl_entry *` returned by a call is borrowed.  Each
 * entry is its own allocation and the table holds only pointers, so inserting, deleting or
 * rehashing *other* keys never moves it: the pointer stays valid until that entry itself is
 * replaced (set, set_tombstone), resized (resize_value), removed (delete, expire, evict, random,
 * clear, or lazy expiry by a find of the same key).
 */
#ifndef TTL_TTL_H
#define TTL_TTL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TTL_OK 0
#define TTL_ERR_NOMEM (-1)  /* an allocation failed; the dictionary is unchanged */
#define TTL_ERR_TOOBIG (-2) /* key or value longer than TTL_KEY_MAX / TTL_VALUE_MAX */

#define TTL_KEY_MAX 65535u                 /* longest key the entry layout can hold */
#define TTL_VALUE_MAX ((1u << 30) - 1)     /* longest value (the server caps lower) */
#define TTL_EXPIRE_MAX ((UINT64_C(1) << 48) - 1) /* latest expiry, ms since the epoch */

/* Why an entry left the dictionary (for the removal hook and statistics). */
enum ttl_reason {
    TTL_REMOVED_DELETED = 0, /* ttl_dict_delete / clear */
    TTL_REMOVED_EXPIRED = 1, /* its expiry passed (lazy or active) */
    TTL_REMOVED_EVICTED = 2, /* ttl_dict_evict (maxmemory) */
    TTL_REMOVED_REPLACED = 3 /* overwritten by ttl_dict_set */
};

/*
 * An entry: one allocation holding a 20-byte header, the key and the value.  Fields are private;
 * use the accessors.  Layout (packed by hand, little-endian 48-bit expiry):
 *   version (8) | expire_at_ms (6) | key length (2) | value length and flags (4) | key | value
 */
typedef struct ttl_entry {
    uint64_t version;
    uint8_t expire_at[6];
    uint16_t klen;
    uint32_t vlen_flags; /* low 30 bits: value length; bit 30: tombstone */
    unsigned char data[];
} ttl_entry;

#define TTL_ENTRY_TOMBSTONE (UINT32_C(1) << 30)
#define TTL_ENTRY_VLEN_MASK (TTL_ENTRY_TOMBSTONE - 1)

static inline const void *ttl_entry_key(const ttl_entry *e, size_t *len)
{
    *len = e->klen;
    return e->data;
}
static inline size_t ttl_entry_vlen(const ttl_entry *e) { return e->vlen_flags & TTL_ENTRY_VLEN_MASK; }
static inline const void *ttl_entry_value(const ttl_entry *e, size_t *len)
{
    *len = ttl_entry_vlen(e);
    return e->data + e->klen;
}
/* Writable view of the value, for in-place edits that keep its length (SETRANGE, INCR). */
static inline void *ttl_entry_value_mut(ttl_entry *e) { return e->data + e->klen; }
static inline uint64_t ttl_entry_version(const ttl_entry *e) { return e->version; }
static inline void ttl_entry_set_version(ttl_entry *e, uint64_t v) { e->version = v; }
static inline int ttl_entry_is_tombstone(const ttl_entry *e)
{
    return (e->vlen_flags & TTL_ENTRY_TOMBSTONE) != 0;
}
static inline uint64_t ttl_entry_expire_at(const ttl_entry *e)
{
    const uint8_t *x = e->expire_at;
    return (uint64_t)x[0] | (uint64_t)x[1] << 8 | (uint64_t)x[2] << 16 | (uint64_t)x[3] << 24 |
           (uint64_t)x[4] << 32 | (uint64_t)x[5] << 40;
}

typedef struct ttl_dict ttl_dict;

/* Called for every entry that leaves the dictionary, just before it is freed (not called by
 * ttl_dict_free).  It must not modify the dictionary. */
typedef void ttl_remove_fn(void *priv, const ttl_entry *e, enum ttl_reason why);

/* Visitor for ttl_dict_scan().  The entry is borrowed for the duration of the call; the visitor
 * must not modify the dictionary. */
typedef void ttl_scan_fn(void *priv, const ttl_entry *e);

typedef struct ttl_stats {
    uint64_t expired;      /* live entries removed because their expiry passed (not tombstones) */
    uint64_t evicted;      /* entries removed by ttl_dict_evict */
    uint64_t expire_scans; /* index segments examined by active expiry */
} ttl_stats;

/*
 * Create an empty dictionary.  `seed` keys the hash function (SipHash-1-3); give 16 random bytes
 * so clients cannot choose colliding keys.  Returns NULL when out of memory.
 */
ttl_dict *ttl_dict_create(const uint8_t seed[16]);

/* Free the dictionary and every entry (no hooks are called).  NULL is accepted. */
void ttl_dict_free(ttl_dict *d);

/* Install the removal hook (NULL to remove it). */
void ttl_dict_set_remove_hook(ttl_dict *d, ttl_remove_fn *fn, void *priv);

/* The keyed hash of a key.  Compute it once per command and pass it to the calls below. */
uint64_t ttl_dict_hash(const ttl_dict *d, const void *key, size_t klen);

/* SipHash-1-3 of data under an explicit 16-byte key, independent of any dictionary (for hashes
 * that several processes must agree on). */
uint64_t ttl_hash_keyed(const uint8_t seed[16], const void *data, size_t len);

/*
 * Find the entry for a key.  An entry whose expiry is <= now_ms is removed on the spot (reason
 * EXPIRED) and NULL is returned.  Tombstones are returned like live entries when `tombstones` is
 * 1 and treated as absent when it is 0.  O(1) expected.
 */
ttl_entry *ttl_dict_find(ttl_dict *d, uint64_t hash, const void *key, size_t klen, uint64_t now_ms,
                         int tombstones);

/*
 * Store key -> value with the given absolute expiry and version, replacing any entry for the key
 * (removal hook with reason REPLACED; its allocation is reused when the size class allows, so
 * *out may equal the old entry's pointer).  expire_at_ms should be in [1, TTL_EXPIRE_MAX]; values
 * outside are clamped into it.  On success *out (if not NULL) is the new entry.
 * TTL_ERR_TOOBIG / TTL_ERR_NOMEM leave the dictionary unchanged.  O(1) expected, amortised; while
 * a resize is in progress a successful call also migrates a few slots.
 */
int ttl_dict_set(ttl_dict *d, uint64_t hash, const void *key, size_t klen, const void *val,
                 size_t vlen, uint64_t expire_at_ms, uint64_t version, ttl_entry **out);

/*
 * Store a tombstone for a key (an entry with no value and the tombstone flag), replacing any
 * entry.  It expires at expire_at_ms like any entry.  Same results as ttl_dict_set.
 */
int ttl_dict_set_tombstone(ttl_dict *d, uint64_t hash, const void *key, size_t klen,
                           uint64_t expire_at_ms, uint64_t version, ttl_entry **out);

/*
 * Change the length of an entry's value to new_vlen, keeping the first min(old, new) bytes (the
 * rest is uninitialised).  The entry may move: *e is updated.  Used by APPEND and SETRANGE.
 */
int ttl_dict_resize_value(ttl_dict *d, ttl_entry **e, size_t new_vlen);

/* Change an entry's expiry (1..TTL_EXPIRE_MAX, clamped).  Extending is O(1); shortening hashes the
 * key to find the entry's slot and updates the index, O(log n) at worst. */
void ttl_dict_set_expire(ttl_dict *d, ttl_entry *e, uint64_t expire_at_ms);

/* Remove the entry for a key (reason DELETED).  Returns 1 if one was removed, 0 if none.
 * Tombstones are removed too, and so is an entry already due but not yet expired (it counts as
 * removed: call ttl_dict_find first when the answer must ignore due entries). */
int ttl_dict_delete(ttl_dict *d, uint64_t hash, const void *key, size_t klen);

/* Remove every entry (reason DELETED) and shrink the table to its initial size. */
void ttl_dict_clear(ttl_dict *d);

/*
 * Active expiry.  Removes entries whose expiry is <= now_ms (reason EXPIRED), examining at most
 * `max_slots` table slots, and returns how many it removed.  *more is set to 1 when due entries
 * may remain (call again, after checking the caller's own time budget), 0 otherwise.  `more` may
 * be NULL.
 *
 * Slots are examined in whole index segments of 32: max_slots is rounded down to a multiple of
 * 32, except that any max_slots > 0 examines at least one segment; 0 examines nothing.  Cost is
 * bounded by that plus, per removed entry, its backward shift and O(log n) per segment touched.
 */
size_t ttl_dict_expire(ttl_dict *d, uint64_t now_ms, size_t max_slots, int *more);

/* A lower bound on the earliest expiry in the dictionary (UINT64_MAX when empty): the time at
 * which ttl_dict_expire next has work.  O(1). */
uint64_t ttl_dict_next_expiry(const ttl_dict *d);

/*
 * Evict the live entry with the nearest expiry (reason EVICTED), for maxmemory's volatile-ttl.
 * Tombstones are never evicted; due entries met on the way are removed as EXPIRED.  Returns 1
 * when an entry was evicted, 0 when the dictionary holds no live entry.  Usually sweeps one index
 * segment, O(segment + log n); segments whose expiry bound went stale cost one more sweep each
 * (amortised against the operations that made them stale).  The choice is exact unless more than
 * four segments hold stale bounds below the nearest expiry.
 */
int ttl_dict_evict(ttl_dict *d, uint64_t now_ms);

/*
 * Iterate with a cursor, Redis SCAN style: start with 0, call again with the returned cursor until
 * it returns 0.  Every entry present for the whole iteration is visited at least once, even across
 * resizes; some may be visited twice.  Expired entries (expiry <= now_ms) and tombstones are
 * skipped unless `tombstones` is 1 (then tombstones are visited, expired entries still are not).
 * Each call visits the entries of about `count` home buckets.
 */
uint64_t ttl_dict_scan(ttl_dict *d, uint64_t cursor, size_t count, uint64_t now_ms, int tombstones,
                       ttl_scan_fn *fn, void *priv);

/*
 * A pseudo-random live entry (not uniform), or NULL when there is none.  `r` is a random number
 * supplied by the caller.  Expired entries met on the way are removed.
 */
ttl_entry *ttl_dict_random(ttl_dict *d, uint64_t r, uint64_t now_ms);

/* Do up to `steps` units of incremental resize work (each unit migrates one slot and may skip up
 * to 10 empty ones).  Also frees a drained old table and starts a shrink that became due after
 * removals.  Returns 1 while a resize is still in progress.  Call it from the server's timer: reads
 * never migrate, so a read-only workload relies on it to finish a resize. */
int ttl_dict_rehash(ttl_dict *d, size_t steps);

/* Live entries (excluding tombstones; including entries already due but not yet removed). */
size_t ttl_dict_size(const ttl_dict *d);

/* Tombstones held. */
size_t ttl_dict_tombstones(const ttl_dict *d);

/* Bytes accounted to the dictionary: entry allocations as the allocator rounds them (including
 * its per-allocation header), plus the tables and the expiry index. */
size_t ttl_dict_mem_bytes(const ttl_dict *d);

/* The allocation size one entry with these lengths is accounted at (for admission checks). */
size_t ttl_entry_alloc_size(size_t klen, size_t vlen);

/* Table slots (both tables while resizing); for INFO and tests. */
size_t ttl_dict_slots(const ttl_dict *d);
int ttl_dict_is_rehashing(const ttl_dict *d);

const ttl_stats *ttl_dict_stats(const ttl_dict *d);

const char *ttl_strerror(int code);

#endif /* TTL_TTL_H */
