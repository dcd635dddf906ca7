/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * shadow.c: shadows of shortened lifetimes and the markers they leave (see shadow.h).
 *
 * Storage: a second ttl_dict maps key -> shadow_until (8 bytes), stamped with the version of the
 * entry it belongs to and expiring at shadow_until itself, so it cleans up after itself and costs
 * nothing once the older copies it guards against could no longer be alive.  A lookup checks the
 * version: a shadow left by an earlier version of the key is ignored.
 *
 * Markers are decided inside the keyspace's removal hook (where the dictionary must not be
 * changed), queued, and inserted by srv_shadow_flush after the operation that expired the entry.
 * A marker takes the expired entry's version and lives until min(shadow_until, expiry + grace):
 * both depend only on the entry, so every node that held it creates the identical marker and
 * their digests stay equal.
 *
 * Example (DESIGN.md section 7, the shortened-TTL case): SET k v1 EX 600 reaches every node;
 * node C is cut off; SET k v2 EX 3 is acknowledged by A and B.  v2 records shadow_until = v1's
 * expiry.  When v2 expires on A and B they keep a marker with v2's version; when C comes back,
 * anti-entropy compares the bucket, C's v1 loses to the newer marker, and v1 never returns.
 */
#include "server/shadow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/db.h"
#include "server/replica.h"
#include "server/server.h"

static ttl_dict *side;

static struct {
    int valid;
    uint64_t expire, shadow; /* of the entry a store is replacing */
} replaced;

typedef struct marker {
    char *key;
    size_t klen;
    uint64_t version, until;
} marker;

static marker *queue;
static size_t nqueued, capqueued;

int srv_shadow_enable(void)
{
    uint8_t seed[16];
    if (side) return 0;
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) return -1;
    side = ttl_dict_create(seed);
    return side ? 0 : -1;
}

void srv_shadow_disable(void)
{
    ttl_dict_free(side);
    side = NULL;
    for (size_t i = 0; i < nqueued; i++) free(queue[i].key);
    free(queue);
    queue = NULL;
    nqueued = capqueued = 0;
}

size_t srv_shadow_count(void) { return side ? ttl_dict_size(side) : 0; }

static uint64_t lookup(const void *key, size_t klen, uint64_t version)
{
    if (!side || ttl_dict_size(side) == 0) return 0;
    uint64_t h = ttl_dict_hash(side, key, klen);
    ttl_entry *s = ttl_dict_find(side, h, key, klen, srv_now_ms(), 0);
    if (!s || ttl_entry_version(s) != version) return 0;
    uint64_t until;
    size_t vlen;
    memcpy(&until, ttl_entry_value(s, &vlen), sizeof until);
    return until;
}

uint64_t srv_shadow_of(const srv_key *k, const ttl_entry *e)
{
    return lookup(k->ptr, k->len, ttl_entry_version(e));
}

void srv_shadow_on_replaced(const ttl_entry *old)
{
    if (!side) return;
    size_t klen;
    const void *key = ttl_entry_key(old, &klen);
    replaced.valid = !ttl_entry_is_tombstone(old);
    replaced.expire = ttl_entry_expire_at(old);
    replaced.shadow = lookup(key, klen, ttl_entry_version(old));
}

static void set_shadow(const srv_key *k, uint64_t version, uint64_t until)
{
    uint64_t h = ttl_dict_hash(side, k->ptr, k->len);
    if (ttl_dict_set(side, h, k->ptr, k->len, &until, sizeof until, until, version, NULL) ==
        TTL_ERR_NOMEM)
        abort();
}

void srv_shadow_after_store(const srv_key *k, const ttl_entry *e, uint64_t incoming)
{
    if (!side) return;
    uint64_t s = incoming;
    if (replaced.valid) {
        if (replaced.expire > s) s = replaced.expire;
        if (replaced.shadow > s) s = replaced.shadow;
    }
    replaced.valid = 0;
    if (s > ttl_entry_expire_at(e) && s <= TTL_EXPIRE_MAX) set_shadow(k, ttl_entry_version(e), s);
}

void srv_shadow_on_expired(const ttl_entry *e)
{
    if (!side || ttl_entry_is_tombstone(e)) return;
    size_t klen;
    const void *key = ttl_entry_key(e, &klen);
    uint64_t until = lookup(key, klen, ttl_entry_version(e));
    uint64_t expire = ttl_entry_expire_at(e);
    if (until <= expire) return;
    uint64_t cap = expire + srv_repl_tombstone_grace_ms();
    if (until > cap) until = cap;
    if (nqueued == capqueued) {
        size_t cap2 = capqueued ? capqueued * 2 : 16;
        marker *q = realloc(queue, sizeof *q * cap2);
        if (!q) abort();
        queue = q;
        capqueued = cap2;
    }
    marker *m = &queue[nqueued];
    m->key = malloc(klen ? klen : 1);
    if (!m->key) abort();
    memcpy(m->key, key, klen);
    m->klen = klen;
    m->version = ttl_entry_version(e);
    m->until = until;
    nqueued++;
}

void srv_shadow_flush(void)
{
    uint64_t now = srv_now_ms();
    for (size_t i = 0; i < nqueued; i++) {
        marker *m = &queue[i];
        srv_key k;
        srv_key_init(&k, m->key, m->klen);
        ttl_entry *e = ttl_dict_find(srv.db, k.hash, k.ptr, k.len, now, 1);
        /* Only where nothing newer has been written in the meantime. */
        if (m->until > now && (!e || ttl_entry_version(e) < m->version))
            srv_db_store_replica(&k, NULL, 0, m->until, m->version, 1, 0);
        free(m->key);
    }
    nqueued = 0;
}

void srv_shadow_before_store(void) { replaced.valid = 0; }

void srv_shadow_rebase(const srv_key *k, uint64_t old_version, uint64_t old_expire,
                       const ttl_entry *e)
{
    if (!side) return;
    uint64_t s = lookup(k->ptr, k->len, old_version);
    if (old_expire > s) s = old_expire;
    if (s > ttl_entry_expire_at(e) && s <= TTL_EXPIRE_MAX) set_shadow(k, ttl_entry_version(e), s);
}
