/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_store.h: a tiny keyspace standing in for the server in tests of sync.c (mock_store.c):
 * entries (key, version, absolute expiry, tombstone flag, short value), last-writer-wins apply,
 * bucket digests, a resumable collect, and the ready/wipe callbacks.  Attach one to a node of
 * the mock network (mnet_node.store) before mnet_start and the node runs with repair on.
 *
 * Records (opaque to cluster/): klen u8 | key | version u64 | expire u64 | tomb u8 | vlen u8 | val
 */
#ifndef CLUSTER_TESTS_MOCK_STORE_H
#define CLUSTER_TESTS_MOCK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster.h"

#define MSTORE_MAX 2048

typedef struct mstore_entry {
    char key[32];
    char val[32];
    uint64_t version, expire;
    int tomb;
} mstore_entry;

typedef struct mstore {
    mstore_entry e[MSTORE_MAX];
    int n;
    int loading;    /* 1 until the ready callback (the node starts empty, as the server does) */
    int ready_calls, wipe_calls;
    int applied;    /* records applied (newer than what was held) */
    int collect_calls;
    uint8_t collected[CLUSTER_DIGEST_BUCKETS / 8]; /* every bucket a collect asked for */
} mstore;

/* Store an entry as a local write would (no replication). */
void mstore_put(mstore *s, const char *key, const char *val, uint64_t version, uint64_t expire,
                int tomb);
/* The entry for key, or NULL. */
const mstore_entry *mstore_get(const mstore *s, const char *key);
/* Encode one record into buf (returns its length; buf holds at least 96 bytes). */
size_t mstore_record(const mstore_entry *e, uint8_t *buf);
/* Apply a batch of records by last-writer-wins at wall time now (expired records are skipped).
 * 0, or -1 when malformed. */
int mstore_apply(mstore *s, const void *batch, size_t len, uint64_t now);
/* The digest bucket (0 .. CLUSTER_DIGEST_BUCKETS-1) of a key. */
unsigned mstore_bucket(const char *key);
/* Digest of every held entry (equal stores have equal digests). */
uint64_t mstore_digest(const mstore *s);

/* Repair callbacks for cluster_callbacks; `s` is the store. */
void mstore_tops(mstore *s, uint64_t *tops);
void mstore_leaves(mstore *s, unsigned top, uint64_t *leaves);
int mstore_collect(mstore *s, const uint8_t *buckets, uint64_t *cursor, cluster_buf *out,
                   size_t max_bytes, uint64_t now);
void mstore_ready(mstore *s);
void mstore_wipe(mstore *s);

#endif /* CLUSTER_TESTS_MOCK_STORE_H */
