/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_store.c: the keyspace of mock_store.h.  Linear scans: tests hold a few hundred entries.
 */
#include "cluster/tests/mock_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return mix64(h);
}

static unsigned bucket_of(const char *key) { return (unsigned)(key_hash(key) % CLUSTER_DIGEST_BUCKETS); }

unsigned mstore_bucket(const char *key) { return bucket_of(key); }

static uint64_t entry_hash(const mstore_entry *e)
{
    return mix64(key_hash(e->key) ^ mix64(e->version) ^ (e->tomb ? 0x8000000000000001ull : 0));
}

static mstore_entry *find(mstore *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->e[i].key, key) == 0) return &s->e[i];
    return NULL;
}

const mstore_entry *mstore_get(const mstore *s, const char *key) { return find((mstore *)s, key); }

void mstore_put(mstore *s, const char *key, const char *val, uint64_t version, uint64_t expire,
                int tomb)
{
    mstore_entry *e = find(s, key);
    if (!e) {
        if (s->n == MSTORE_MAX) abort();
        e = &s->e[s->n++];
    }
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->val, sizeof e->val, "%s", val ? val : "");
    e->version = version;
    e->expire = expire;
    e->tomb = tomb;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

size_t mstore_record(const mstore_entry *e, uint8_t *buf)
{
    size_t kl = strlen(e->key), vl = strlen(e->val), at = 0;
    buf[at++] = (uint8_t)kl;
    memcpy(buf + at, e->key, kl);
    at += kl;
    put_u64(buf + at, e->version);
    put_u64(buf + at + 8, e->expire);
    at += 16;
    buf[at++] = (uint8_t)e->tomb;
    buf[at++] = (uint8_t)vl;
    memcpy(buf + at, e->val, vl);
    return at + vl;
}

int mstore_apply(mstore *s, const void *batch, size_t len, uint64_t now)
{
    const uint8_t *p = batch;
    while (len > 0) {
        mstore_entry in;
        memset(&in, 0, sizeof in);
        size_t kl = p[0];
        if (kl >= sizeof in.key || len < 1 + kl + 18) return -1;
        memcpy(in.key, p + 1, kl);
        in.version = get_u64(p + 1 + kl);
        in.expire = get_u64(p + 9 + kl);
        in.tomb = p[17 + kl];
        size_t vl = p[18 + kl];
        if (vl >= sizeof in.val || len < 19 + kl + vl) return -1;
        memcpy(in.val, p + 19 + kl, vl);
        size_t n = 19 + kl + vl;
        p += n;
        len -= n;
        if (in.expire <= now) continue;
        mstore_entry *e = find(s, in.key);
        if (e && e->version >= in.version) continue;
        mstore_put(s, in.key, in.val, in.version, in.expire, in.tomb);
        s->applied++;
    }
    return 0;
}

uint64_t mstore_digest(const mstore *s)
{
    uint64_t x = 0;
    for (int i = 0; i < s->n; i++) x ^= entry_hash(&s->e[i]);
    return x;
}

void mstore_leaves(mstore *s, unsigned top, uint64_t *leaves)
{
    memset(leaves, 0, sizeof *leaves * CLUSTER_DIGEST_LEAVES);
    for (int i = 0; i < s->n; i++) {
        unsigned b = bucket_of(s->e[i].key);
        if (b / CLUSTER_DIGEST_LEAVES == top) leaves[b % CLUSTER_DIGEST_LEAVES] ^= entry_hash(&s->e[i]);
    }
}

void mstore_tops(mstore *s, uint64_t *tops)
{
    memset(tops, 0, sizeof *tops * CLUSTER_DIGEST_TOPS);
    for (int i = 0; i < s->n; i++) tops[bucket_of(s->e[i].key) / CLUSTER_DIGEST_LEAVES] ^= entry_hash(&s->e[i]);
}

int mstore_collect(mstore *s, const uint8_t *buckets, uint64_t *cursor, cluster_buf *out,
                   size_t max_bytes, uint64_t now)
{
    s->collect_calls++;
    for (size_t k = 0; k < sizeof s->collected; k++) s->collected[k] |= buckets ? buckets[k] : 0xff;
    uint64_t i = *cursor;
    for (; i < (uint64_t)s->n && out->len < max_bytes; i++) {
        const mstore_entry *e = &s->e[i];
        unsigned b = bucket_of(e->key);
        if (e->expire <= now || (buckets && !(buckets[b / 8] & (1u << (b % 8))))) continue;
        uint8_t rec[96];
        if (cluster_buf_append(out, rec, mstore_record(e, rec)) < 0) return -1;
    }
    *cursor = i < (uint64_t)s->n ? i : 0;
    return 0;
}

void mstore_ready(mstore *s)
{
    s->loading = 0;
    s->ready_calls++;
}

void mstore_wipe(mstore *s)
{
    s->n = 0;
    s->loading = 1;
    s->wipe_calls++;
}
