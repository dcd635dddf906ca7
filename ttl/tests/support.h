/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * support.h: helpers shared by the ttl/ unit tests (implemented in mock_alloc.c and
 * mock_check.c, which the Makefile links into every ttl test binary).
 */
#ifndef TTL_TESTS_SUPPORT_H
#define TTL_TESTS_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ttl/ttl_internal.h"

/* ---- mock_alloc.c: allocation failure injection through ttl_malloc_hook/ttl_calloc_hook ---- */

/* Let `n` more allocations succeed, then fail every one until mock_alloc_reset(). */
void mock_alloc_fail_after(long n);
/* Fail only the allocation `n` calls from now (0 = the next one). */
void mock_alloc_fail_nth(long n);
/* Back to the real allocator; returns how many allocations were attempted since the last arm. */
long mock_alloc_reset(void);
/* Allocations attempted since the last arm or reset. */
long mock_alloc_calls(void);

/* ---- mock_check.c: white-box checks ---- */

/* Assert every structural invariant of d (Robin Hood order, exact distances and tags, index
 * bounds and heaps, counts, migration cursor, memory accounting).  O(n log n). */
void check_dict(const ttl_dict *d);

/* Sum of the model chunk sizes of all entries. */
size_t check_entry_bytes(const ttl_dict *d);

/* The seed used by the tests, and a helper building "prefix<n>" keys into buf; returns length. */
extern const uint8_t test_seed[16];
size_t test_key(char *buf, size_t cap, const char *prefix, unsigned n);

/* Deterministic PRNG (splitmix64). */
uint64_t test_rand(uint64_t *state);

#endif /* TTL_TESTS_SUPPORT_H */
