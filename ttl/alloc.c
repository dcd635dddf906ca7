/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc.c: the allocation seam of ttl/ (see ttl_internal.h).
 *
 * Every allocation of the module goes through these two pointers so that a unit test can make
 * any chosen allocation fail and check that TTL_ERR_NOMEM leaves the dictionary unchanged.  A
 * function pointer is used instead of -Wl,--wrap=malloc because --wrap misses calls inside the
 * same object and needs link flags the unit-test rules do not pass.  It costs one indirect call
 * per allocation, and the hot path (find, overwrite within the same size class) allocates nothing.
 * Threading: tests change the hooks while no dictionary is being modified; nothing else writes
 * them.
 */
#include "ttl/ttl_internal.h"

#include <stdlib.h>

ttl_malloc_fn *ttl_malloc_hook = malloc;
ttl_calloc_fn *ttl_calloc_hook = calloc;
