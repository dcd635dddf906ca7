/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc.c: the allocation seam of resp/ (see alloc_internal.h for why it exists).
 *
 * Production code never changes the hook, so it costs one indirect call per buffer growth, which
 * happens O(log size) times per connection and never per request in steady state.
 * Threading: tests change the hook while no parser or buffer is in use; nothing else writes it.
 */
#include "alloc_internal.h"

#include <stdlib.h>

resp_realloc_fn *resp_realloc_hook = realloc;
