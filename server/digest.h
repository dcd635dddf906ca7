/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * digest.h: a digest of the keyspace that two nodes can compare cheaply (digest.c).
 *
 * The keyspace is split into SRV_DIGEST_BUCKETS buckets by a hash every node computes the same
 * way (SipHash under a fixed key, unlike the table's random seed).  A bucket's digest is the XOR
 * of a 64-bit hash of (key, version, tombstone) over the entries in it, kept up to date on every
 * change, so comparing two nodes costs 64 top-level digests (each the XOR of 64 buckets) and then
 * only the buckets under a differing top.  Values are not hashed: a version names exactly one
 * write, so (key, version) identifies the state.
 *
 * Only maintained in a cluster (srv_digest_enable); otherwise every call is a branch.
 */
#ifndef SERVER_DIGEST_H
#define SERVER_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define SRV_DIGEST_BUCKETS 4096
#define SRV_DIGEST_TOPS 64 /* each top covers SRV_DIGEST_BUCKETS / SRV_DIGEST_TOPS buckets */

/* Start maintaining the digest (computed from the current keyspace).  0 or -1 (no memory). */
int srv_digest_enable(void);
void srv_digest_disable(void);
int srv_digest_enabled(void);

/* Bucket of a key (0 .. SRV_DIGEST_BUCKETS-1). */
unsigned srv_digest_bucket(const void *key, size_t klen);

/* An entry entered or left the keyspace (the same call both ways: XOR). */
void srv_digest_toggle(const void *key, size_t klen, uint64_t version, int tombstone);

/* The 64 top-level digests. */
void srv_digest_tops(uint64_t out[SRV_DIGEST_TOPS]);

/* The 64 bucket digests under top t. */
void srv_digest_leaves(unsigned top, uint64_t out[SRV_DIGEST_BUCKETS / SRV_DIGEST_TOPS]);

/* The whole keyspace in one number (XOR of every bucket): equal on two nodes with equal data. */
uint64_t srv_digest_total(void);

#endif /* SERVER_DIGEST_H */
