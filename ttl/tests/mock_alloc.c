/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_alloc.c: allocation failure injection for the ttl/ tests, through the seam of
 * ttl/alloc.c.  Arming a failure installs the counting hooks; mock_alloc_reset() puts malloc and
 * calloc back.  Single-threaded, like the tests.
 */
#include <stdlib.h>

#include "ttl/tests/support.h"

static long calls;
static long fail_from = -1; /* fail every call with index >= fail_from */
static long fail_only = -1; /* fail just the call with this index */

static int should_fail(void)
{
    long i = calls++;
    return (fail_from >= 0 && i >= fail_from) || i == fail_only;
}

static void *mock_malloc(size_t n) { return should_fail() ? NULL : malloc(n); }
static void *mock_calloc(size_t n, size_t sz) { return should_fail() ? NULL : calloc(n, sz); }

static void arm(long from, long only)
{
    calls = 0;
    fail_from = from;
    fail_only = only;
    ttl_malloc_hook = mock_malloc;
    ttl_calloc_hook = mock_calloc;
}

void mock_alloc_fail_after(long n) { arm(n, -1); }
void mock_alloc_fail_nth(long n) { arm(-1, n); }
long mock_alloc_calls(void) { return calls; }

long mock_alloc_reset(void)
{
    long n = calls;
    ttl_malloc_hook = malloc;
    ttl_calloc_hook = calloc;
    fail_from = -1;
    fail_only = -1;
    calls = 0;
    return n;
}
