/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * alloc_internal.h: the one allocation entry point of resp/, private to the module.
 *
 * Every buffer in resp/ grows through resp_realloc(), so a test can make any chosen allocation
 * fail by pointing resp_realloc_hook at its own function (see resp/tests/mock_alloc.c) and check
 * that RESP_ERR_NOMEM comes back and sticks.  A function pointer is used instead of
 * -Wl,--wrap=realloc because --wrap misses calls inside the same object and needs link flags the
 * unit-test rules do not pass.  Memory is always released with plain free().
 */
#ifndef RESP_ALLOC_INTERNAL_H
#define RESP_ALLOC_INTERNAL_H

#include <stddef.h>

typedef void *resp_realloc_fn(void *ptr, size_t size);

/* realloc() unless a test replaced it.  Never called with size 0. */
extern resp_realloc_fn *resp_realloc_hook;

static inline void *resp_realloc(void *ptr, size_t size) { return resp_realloc_hook(ptr, size); }

#endif /* RESP_ALLOC_INTERNAL_H */
