/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * digest.c: the incrementally maintained keyspace digest (see digest.h).
 *
 * Why XOR: it is its own inverse, so adding and removing an entry are the same operation and the
 * order of changes does not matter; two nodes holding the same set of (key, version, tombstone)
 * triples have equal digests whatever the history.  The per-entry hash is SipHash of the key
 * under a fixed key, mixed with the version and the tombstone bit through a strong 64-bit
 * finaliser, so a collision between different states is a 2^-64 event per bucket.
 *
 * What can go wrong: an entry that expired on one node and is not yet removed on the other makes
 * their buckets differ for a few milliseconds; anti-entropy then exchanges that bucket, both sides
 * skip the expired entry, and nothing is shipped.  A missed toggle would make a bucket differ
 * forever (and be re-exchanged every round); every mutation of the keyspace therefore goes
 * through db.c, which calls srv_digest_toggle, and tests compare digests of converged nodes.
 *
 * Cost: one SipHash of the key per change, only in a cluster.
 */
#include "server/digest.h"

#include <stdlib.h>
#include <string.h>

#include "server/server.h"
#include "ttl/ttl.h"

static const uint8_t DIGEST_SEED[16] = {'r', 'e', 'p', 'r', 'a', 'm', '-', 'd',
                                        'i', 'g', 'e', 's', 't', '-', 'v', '1'};

static uint64_t *buckets; /* NULL when disabled */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

static uint64_t key_hash(const void *key, size_t klen)
{
    return ttl_hash_keyed(DIGEST_SEED, key, klen);
}

unsigned srv_digest_bucket(const void *key, size_t klen)
{
    return (unsigned)(key_hash(key, klen) >> 52); /* top 12 bits: 4096 buckets */
}

void srv_digest_toggle(const void *key, size_t klen, uint64_t version, int tombstone)
{
    if (!buckets) return;
    uint64_t h = key_hash(key, klen);
    buckets[h >> 52] ^= mix64(h ^ mix64(version) ^ (tombstone ? UINT64_C(0x8000000000000001) : 0));
}

static void add_entry(void *priv, const ttl_entry *e)
{
    (void)priv;
    size_t klen;
    const void *key = ttl_entry_key(e, &klen);
    srv_digest_toggle(key, klen, ttl_entry_version(e), ttl_entry_is_tombstone(e));
}

int srv_digest_enable(void)
{
    if (buckets) return 0;
    buckets = calloc(SRV_DIGEST_BUCKETS, sizeof *buckets);
    if (!buckets) return -1;
    /* now = 0: count every entry held, due or not, exactly as the removal hook will undo them. */
    uint64_t cursor = 0;
    do {
        cursor = ttl_dict_scan(srv.db, cursor, 1024, 0, 1, add_entry, NULL);
    } while (cursor != 0);
    return 0;
}

void srv_digest_disable(void)
{
    free(buckets);
    buckets = NULL;
}

int srv_digest_enabled(void) { return buckets != NULL; }

void srv_digest_tops(uint64_t out[SRV_DIGEST_TOPS])
{
    const unsigned per = SRV_DIGEST_BUCKETS / SRV_DIGEST_TOPS;
    for (unsigned t = 0; t < SRV_DIGEST_TOPS; t++) {
        uint64_t x = 0;
        for (unsigned i = 0; buckets && i < per; i++) x ^= buckets[t * per + i];
        out[t] = x;
    }
}

void srv_digest_leaves(unsigned top, uint64_t out[SRV_DIGEST_BUCKETS / SRV_DIGEST_TOPS])
{
    const unsigned per = SRV_DIGEST_BUCKETS / SRV_DIGEST_TOPS;
    for (unsigned i = 0; i < per; i++) out[i] = buckets && top < SRV_DIGEST_TOPS ? buckets[top * per + i] : 0;
}

uint64_t srv_digest_total(void)
{
    uint64_t x = 0;
    for (unsigned i = 0; buckets && i < SRV_DIGEST_BUCKETS; i++) x ^= buckets[i];
    return x;
}
