/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_alloc.c: a counting allocator that can be told to fail, for the out-of-memory tests.
 *
 * It plugs into resp/'s allocation seam (resp_realloc_hook, see resp/alloc_internal.h), so every
 * buffer growth in the parser and the encoder goes through it.  Tests install it, plan a
 * failure with mock_alloc_fail_after(), and uninstall it in their teardown.  Not thread safe;
 * cmocka runs tests one at a time.
 */
#include "resp_test.h"

#include "resp/alloc_internal.h"

#include <stdlib.h>

static long calls;
static long fail_after = -1; /* successes left before failing; < 0: never fail */

static void *mock_realloc(void *ptr, size_t size)
{
    calls++;
    if (fail_after == 0)
        return NULL;
    if (fail_after > 0)
        fail_after--;
    return realloc(ptr, size);
}

void mock_alloc_install(void)
{
    calls = 0;
    fail_after = -1;
    resp_realloc_hook = mock_realloc;
}

void mock_alloc_uninstall(void)
{
    calls = 0;
    fail_after = -1;
    resp_realloc_hook = realloc;
}

void mock_alloc_fail_after(long n) { fail_after = n; }

long mock_alloc_calls(void) { return calls; }
