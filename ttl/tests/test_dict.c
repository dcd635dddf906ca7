/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_dict.c: the basic contract of ttl/: set, find, delete, overwrite, binary and empty keys,
 * size limits, lazy expiry, tombstones, value resizing, the removal hook, memory accounting and
 * the hash function.  Time is whatever now_ms the test passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttl/tests/support.h"

#define T0 1000000 /* an arbitrary "now" in ms */

struct removal {
    char key[64];
    size_t klen;
    enum ttl_reason why;
};

struct hook_log {
    size_t n;
    struct removal r[64];
};

static void log_hook(void *priv, const ttl_entry *e, enum ttl_reason why)
{
    struct hook_log *log = priv;
    size_t klen;
    const void *key = ttl_entry_key(e, &klen);
    if (log->n < 64 && klen < sizeof log->r[0].key) {
        memcpy(log->r[log->n].key, key, klen);
        log->r[log->n].klen = klen;
        log->r[log->n].why = why;
    }
    log->n++;
}

static int setup(void **state)
{
    *state = ttl_dict_create(test_seed);
    return *state == NULL;
}

static int teardown(void **state)
{
    ttl_dict_free(*state);
    return 0;
}

static int put(ttl_dict *d, const void *k, size_t kl, const void *v, size_t vl, uint64_t at)
{
    return ttl_dict_set(d, ttl_dict_hash(d, k, kl), k, kl, v, vl, at, 7, NULL);
}

static ttl_entry *get(ttl_dict *d, const void *k, size_t kl, uint64_t now)
{
    return ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, now, 0);
}

static void assert_value(const ttl_entry *e, const void *v, size_t vl)
{
    size_t len;
    const void *p;
    assert_non_null(e);
    p = ttl_entry_value(e, &len);
    assert_int_equal(len, vl);
    if (vl > 0)
        assert_memory_equal(p, v, vl);
}

static void test_siphash_vectors(void **state)
{
    uint8_t msg[64];
    (void)state;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    /* SipHash-2-4 reference vectors (key 00..0f, message 00..len-1), from the paper. */
    uint64_t k0 = UINT64_C(0x0706050403020100), k1 = UINT64_C(0x0f0e0d0c0b0a0908);
    assert_true(ttl_siphash24(k0, k1, msg, 0) == UINT64_C(0x726fdb47dd0e0e31));
    assert_true(ttl_siphash24(k0, k1, msg, 15) == UINT64_C(0xa129ca6149be45e5));
    /* SipHash-1-3 with the zero key, as CPython 3.11 computes hash(bytes) with
     * PYTHONHASHSEED=0. */
    assert_true(ttl_siphash13(0, 0, "a", 1) == UINT64_C(0x407448d2b89b1813));
    assert_true(ttl_siphash13(0, 0, msg, 7) == UINT64_C(0x2f098ab0c751325a));
    assert_true(ttl_siphash13(0, 0, msg, 8) == UINT64_C(0xead411e67ebe2eea));
    assert_true(ttl_siphash13(0, 0, msg, 15) == UINT64_C(0xf30eb725bb91c9ea));
    assert_true(ttl_siphash13(0, 0, msg, 16) == UINT64_C(0x8972188433a5c5b7));
    assert_true(ttl_siphash13(0, 0, "hello world, this is siphash-1-3", 32) ==
                UINT64_C(0x49d6d8fdf1813d95));
}

static void test_hash_is_keyed(void **state)
{
    ttl_dict *d = *state;
    uint8_t other_seed[16] = {1};
    ttl_dict *d2 = ttl_dict_create(other_seed);
    assert_non_null(d2);
    assert_true(ttl_dict_hash(d, "key", 3) != ttl_dict_hash(d2, "key", 3));
    assert_true(ttl_dict_hash(d, "key", 3) == ttl_dict_hash(d, "key", 3));
    ttl_dict_free(d2);
}

static void test_set_find_delete(void **state)
{
    ttl_dict *d = *state;
    ttl_entry *e = NULL;
    uint64_t h = ttl_dict_hash(d, "alpha", 5);

    assert_null(get(d, "alpha", 5, T0));
    assert_int_equal(ttl_dict_set(d, h, "alpha", 5, "one", 3, T0 + 100, 42, &e), TTL_OK);
    assert_non_null(e);
    assert_ptr_equal(ttl_dict_find(d, h, "alpha", 5, T0, 0), e);
    assert_value(e, "one", 3);
    assert_int_equal(ttl_entry_version(e), 42);
    assert_int_equal(ttl_entry_expire_at(e), T0 + 100);
    size_t kl;
    assert_memory_equal(ttl_entry_key(e, &kl), "alpha", 5);
    assert_int_equal(kl, 5);
    assert_int_equal(ttl_dict_size(d), 1);
    assert_null(get(d, "alph", 4, T0));
    assert_null(get(d, "alphaa", 6, T0));
    check_dict(d);

    assert_int_equal(ttl_dict_delete(d, h, "alpha", 5), 1);
    assert_int_equal(ttl_dict_delete(d, h, "alpha", 5), 0);
    assert_null(get(d, "alpha", 5, T0));
    assert_int_equal(ttl_dict_size(d), 0);
    check_dict(d);
}

static void test_overwrite(void **state)
{
    ttl_dict *d = *state;
    struct hook_log log = {0};
    ttl_entry *e1, *e2, *e3;
    char big[300];
    uint64_t h = ttl_dict_hash(d, "k", 1);

    memset(big, 'x', sizeof big);
    ttl_dict_set_remove_hook(d, log_hook, &log);
    assert_int_equal(ttl_dict_set(d, h, "k", 1, "0123456789", 10, T0 + 10, 1, &e1), TTL_OK);
    /* Same size class (21+10 and 21+12 bytes both use a 48-byte chunk): reused in place. */
    assert_int_equal(ttl_dict_set(d, h, "k", 1, "abcdefghijkl", 12, T0 + 5, 2, &e2), TTL_OK);
    assert_ptr_equal(e1, e2);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.r[0].why, TTL_REMOVED_REPLACED);
    assert_value(get(d, "k", 1, T0), "abcdefghijkl", 12);
    assert_int_equal(ttl_entry_version(e2), 2);
    assert_int_equal(ttl_entry_expire_at(e2), T0 + 5);
    check_dict(d);
    /* Another size class: a new allocation replaces the old one. */
    assert_int_equal(ttl_dict_set(d, h, "k", 1, big, sizeof big, T0 + 20, 3, &e3), TTL_OK);
    assert_int_equal(log.n, 2);
    assert_value(get(d, "k", 1, T0), big, sizeof big);
    assert_int_equal(ttl_dict_size(d), 1);
    check_dict(d);
    /* And back to small. */
    assert_int_equal(put(d, "k", 1, "", 0, T0 + 20), TTL_OK);
    assert_value(get(d, "k", 1, T0), "", 0);
    assert_int_equal(log.n, 3);
    assert_int_equal(ttl_dict_size(d), 1);
    check_dict(d);
}

static void test_binary_and_empty(void **state)
{
    ttl_dict *d = *state;
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, k3[] = {0}, v[] = {0, 1, 0, 2};

    assert_int_equal(put(d, k1, 3, v, 4, T0 + 1), TTL_OK);
    assert_int_equal(put(d, k2, 3, "x", 1, T0 + 1), TTL_OK);
    assert_int_equal(put(d, k3, 1, "nul", 3, T0 + 1), TTL_OK);
    assert_int_equal(put(d, "", 0, "empty key", 9, T0 + 1), TTL_OK);
    assert_int_equal(put(d, "a", 1, NULL, 0, T0 + 1), TTL_OK);
    assert_value(get(d, k1, 3, T0), v, 4);
    assert_value(get(d, k2, 3, T0), "x", 1);
    assert_value(get(d, k3, 1, T0), "nul", 3);
    assert_value(get(d, "", 0, T0), "empty key", 9);
    assert_value(get(d, "a", 1, T0), "", 0);
    assert_null(get(d, "a\0", 2, T0));
    assert_int_equal(ttl_dict_size(d), 5);
    check_dict(d);
    assert_int_equal(ttl_dict_delete(d, ttl_dict_hash(d, NULL, 0), NULL, 0), 1);
    assert_null(get(d, "", 0, T0));
    assert_value(get(d, k3, 1, T0), "nul", 3);
    check_dict(d);
}

static void test_too_big(void **state)
{
    ttl_dict *d = *state;
    char *key = malloc(TTL_KEY_MAX + 1);
    size_t mem = ttl_dict_mem_bytes(d);

    assert_non_null(key);
    memset(key, 'k', TTL_KEY_MAX + 1);
    assert_int_equal(put(d, key, TTL_KEY_MAX + 1, "v", 1, T0 + 1), TTL_ERR_TOOBIG);
    assert_int_equal(ttl_dict_set_tombstone(d, 0, key, TTL_KEY_MAX + 1, T0 + 1, 1, NULL),
                     TTL_ERR_TOOBIG);
    /* The value is never read when its length is refused. */
    assert_int_equal(put(d, "k", 1, NULL, (size_t)TTL_VALUE_MAX + 1, T0 + 1), TTL_ERR_TOOBIG);
    assert_int_equal(ttl_dict_mem_bytes(d), mem);
    assert_int_equal(ttl_dict_size(d), 0);
    /* The longest key fits. */
    assert_int_equal(put(d, key, TTL_KEY_MAX, "v", 1, T0 + 1), TTL_OK);
    assert_value(get(d, key, TTL_KEY_MAX, T0), "v", 1);
    ttl_entry *e = get(d, key, TTL_KEY_MAX, T0);
    assert_int_equal(ttl_dict_resize_value(d, &e, (size_t)TTL_VALUE_MAX + 1), TTL_ERR_TOOBIG);
    check_dict(d);
    free(key);
    assert_string_equal(ttl_strerror(TTL_ERR_TOOBIG), "key or value too long");
    assert_string_equal(ttl_strerror(TTL_ERR_NOMEM), "out of memory");
    assert_string_equal(ttl_strerror(TTL_OK), "ok");
    assert_non_null(ttl_strerror(-99));
}

static void test_lazy_expiry(void **state)
{
    ttl_dict *d = *state;
    struct hook_log log = {0};

    ttl_dict_set_remove_hook(d, log_hook, &log);
    assert_int_equal(put(d, "e", 1, "v", 1, T0), TTL_OK);
    assert_non_null(get(d, "e", 1, T0 - 1));
    assert_int_equal(log.n, 0);
    assert_null(get(d, "e", 1, T0)); /* expire_at == now: gone */
    assert_int_equal(log.n, 1);
    assert_int_equal(log.r[0].why, TTL_REMOVED_EXPIRED);
    assert_int_equal(ttl_dict_stats(d)->expired, 1);
    assert_int_equal(ttl_dict_size(d), 0);
    assert_null(get(d, "e", 1, T0 - 1)); /* really removed, not hidden */
    check_dict(d);
}

static void test_expire_clamped(void **state)
{
    ttl_dict *d = *state;
    ttl_entry *e;
    assert_int_equal(ttl_dict_set(d, ttl_dict_hash(d, "a", 1), "a", 1, "", 0, 0, 1, &e), TTL_OK);
    assert_int_equal(ttl_entry_expire_at(e), 1);
    assert_int_equal(ttl_dict_set(d, ttl_dict_hash(d, "b", 1), "b", 1, "", 0, UINT64_MAX, 1, &e),
                     TTL_OK);
    assert_true(ttl_entry_expire_at(e) == TTL_EXPIRE_MAX);
    ttl_dict_set_expire(d, e, UINT64_C(1) << 60);
    assert_true(ttl_entry_expire_at(e) == TTL_EXPIRE_MAX);
    check_dict(d);
}

static void count_visit(void *priv, const ttl_entry *e)
{
    (void)e;
    (*(size_t *)priv)++;
}

static size_t scan_all(ttl_dict *d, uint64_t now, int tombs)
{
    size_t n = 0;
    uint64_t c = 0;
    do
        c = ttl_dict_scan(d, c, 10, now, tombs, count_visit, &n);
    while (c != 0);
    return n;
}

static void test_tombstones(void **state)
{
    ttl_dict *d = *state;
    uint64_t h = ttl_dict_hash(d, "gone", 4);
    ttl_entry *e;
    struct hook_log log = {0};

    ttl_dict_set_remove_hook(d, log_hook, &log);
    assert_int_equal(put(d, "gone", 4, "value", 5, T0 + 100), TTL_OK);
    assert_int_equal(put(d, "live", 4, "value", 5, T0 + 500), TTL_OK);
    assert_int_equal(ttl_dict_set_tombstone(d, h, "gone", 4, T0 + 50, 9, &e), TTL_OK);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.r[0].why, TTL_REMOVED_REPLACED);
    assert_true(ttl_entry_is_tombstone(e));
    assert_int_equal(ttl_entry_vlen(e), 0);
    assert_int_equal(ttl_entry_version(e), 9);
    assert_int_equal(ttl_dict_size(d), 1);
    assert_int_equal(ttl_dict_tombstones(d), 1);
    assert_null(ttl_dict_find(d, h, "gone", 4, T0, 0));
    assert_ptr_equal(ttl_dict_find(d, h, "gone", 4, T0, 1), e);
    assert_int_equal(scan_all(d, T0, 0), 1);
    assert_int_equal(scan_all(d, T0, 1), 2);
    for (uint64_t r = 0; r < 200; r++) {
        ttl_entry *x = ttl_dict_random(d, r * 7919, T0);
        assert_non_null(x);
        assert_false(ttl_entry_is_tombstone(x));
    }
    check_dict(d);
    /* Eviction takes the live key even though the tombstone expires first. */
    assert_int_equal(ttl_dict_evict(d, T0), 1);
    assert_int_equal(ttl_dict_size(d), 0);
    assert_int_equal(ttl_dict_evict(d, T0), 0);
    assert_int_equal(ttl_dict_tombstones(d), 1);
    assert_int_equal(ttl_dict_stats(d)->evicted, 1);
    /* The tombstone expires like any entry, but does not count as an expired key. */
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 50);
    int more;
    assert_int_equal(ttl_dict_expire(d, T0 + 50, 1000, &more), 1);
    assert_int_equal(more, 0);
    assert_int_equal(ttl_dict_tombstones(d), 0);
    assert_int_equal(ttl_dict_stats(d)->expired, 0);
    assert_int_equal(log.r[log.n - 1].why, TTL_REMOVED_EXPIRED);
    check_dict(d);
    /* A tombstone is replaced by a value and the other way round; delete removes tombstones. */
    assert_int_equal(ttl_dict_set_tombstone(d, h, "gone", 4, T0 + 50, 10, NULL), TTL_OK);
    assert_int_equal(put(d, "gone", 4, "back", 4, T0 + 60), TTL_OK);
    assert_int_equal(ttl_dict_size(d), 1);
    assert_int_equal(ttl_dict_tombstones(d), 0);
    assert_value(get(d, "gone", 4, T0), "back", 4);
    assert_int_equal(ttl_dict_set_tombstone(d, h, "gone", 4, T0 + 50, 11, NULL), TTL_OK);
    assert_int_equal(ttl_dict_delete(d, h, "gone", 4), 1);
    assert_int_equal(ttl_dict_tombstones(d), 0);
    assert_null(ttl_dict_random(d, 1, T0));
    check_dict(d);
    /* An expired tombstone is removed by a find that asks for tombstones. */
    assert_int_equal(ttl_dict_set_tombstone(d, h, "gone", 4, T0 + 50, 12, NULL), TTL_OK);
    assert_null(ttl_dict_find(d, h, "gone", 4, T0 + 50, 1));
    assert_int_equal(ttl_dict_tombstones(d), 0);
    check_dict(d);
}

static void test_resize_value(void **state)
{
    ttl_dict *d = *state;
    ttl_entry *e, *orig;
    char buf[1000];

    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)('a' + i % 26);
    assert_int_equal(ttl_dict_set(d, ttl_dict_hash(d, "rv", 2), "rv", 2, buf, 10, T0 + 9, 1, &e),
                     TTL_OK);
    orig = e;
    /* 20+2+10 = 32 -> chunk 48 (usable 40): growing to 18 stays in place. */
    assert_int_equal(ttl_dict_resize_value(d, &e, 18), TTL_OK);
    assert_ptr_equal(e, orig);
    memcpy(ttl_entry_value_mut(e), buf, 18);
    assert_value(get(d, "rv", 2, T0), buf, 18);
    check_dict(d);
    /* Growing past the class moves the entry and keeps the old bytes. */
    assert_int_equal(ttl_dict_resize_value(d, &e, 900), TTL_OK);
    assert_ptr_equal(get(d, "rv", 2, T0), e);
    assert_memory_equal(ttl_entry_value_mut(e), buf, 18);
    memcpy(ttl_entry_value_mut(e), buf, 900);
    assert_value(get(d, "rv", 2, T0), buf, 900);
    check_dict(d);
    assert_int_equal(ttl_dict_resize_value(d, &e, 3), TTL_OK);
    assert_value(get(d, "rv", 2, T0), buf, 3);
    assert_int_equal(ttl_entry_expire_at(e), T0 + 9);
    assert_int_equal(ttl_entry_version(e), 1);
    check_dict(d);
}

static void test_removal_hook_reasons(void **state)
{
    ttl_dict *d = *state;
    struct hook_log log = {0};
    char k[16];

    ttl_dict_set_remove_hook(d, log_hook, &log);
    for (unsigned i = 0; i < 5; i++) {
        size_t kl = test_key(k, sizeof k, "h", i);
        assert_int_equal(put(d, k, kl, "v", 1, T0 + i), TTL_OK);
    }
    assert_int_equal(ttl_dict_delete(d, ttl_dict_hash(d, "h0", 2), "h0", 2), 1);
    assert_int_equal(log.r[0].why, TTL_REMOVED_DELETED);
    assert_int_equal(ttl_dict_evict(d, T0), 1); /* h1 is nearest to expiry */
    assert_int_equal(log.r[1].why, TTL_REMOVED_EVICTED);
    assert_memory_equal(log.r[1].key, "h1", 2);
    assert_int_equal(ttl_dict_expire(d, T0 + 2, 100, NULL), 1);
    assert_int_equal(log.r[2].why, TTL_REMOVED_EXPIRED);
    assert_memory_equal(log.r[2].key, "h2", 2);
    assert_int_equal(put(d, "h3", 2, "w", 1, T0 + 9), TTL_OK);
    assert_int_equal(log.r[3].why, TTL_REMOVED_REPLACED);
    ttl_dict_clear(d);
    assert_int_equal(log.n, 6);
    assert_int_equal(log.r[4].why, TTL_REMOVED_DELETED);
    assert_int_equal(log.r[5].why, TTL_REMOVED_DELETED);
    assert_int_equal(ttl_dict_size(d), 0);
    check_dict(d);
    /* ttl_dict_free calls no hook. */
    assert_int_equal(put(d, "h9", 2, "v", 1, T0 + 9), TTL_OK);
    ttl_dict_free(d);
    *state = NULL;
    assert_int_equal(log.n, 6);
    ttl_dict_free(NULL);
}

static void test_memory_accounting(void **state)
{
    ttl_dict *d = *state;
    size_t base = ttl_dict_mem_bytes(d), entries = 0;
    char k[32], v[200];

    memset(v, 'v', sizeof v);
    assert_int_equal(ttl_entry_alloc_size(16, 100), 144);
    assert_int_equal(ttl_entry_alloc_size(0, 0), 32);
    assert_int_equal(ttl_entry_alloc_size(0, 4), 32);
    assert_int_equal(ttl_entry_alloc_size(0, 5), 48);
    assert_int_equal(base, sizeof(ttl_dict) + 64 * 8 + 2 * 16);
    assert_int_equal(ttl_dict_slots(d), 64);
    for (unsigned i = 0; i < 3000; i++) {
        size_t kl = test_key(k, sizeof k, "mem-", i), vl = i % 200;
        assert_int_equal(put(d, k, kl, v, vl, T0 + 1000 + i), TTL_OK);
        entries += ttl_entry_alloc_size(kl, vl);
        if (i % 500 == 0)
            check_dict(d);
    }
    assert_int_equal(check_entry_bytes(d), entries);
    check_dict(d);
    /* A tombstone index appears with the first tombstone. */
    size_t before = ttl_dict_mem_bytes(d), slots = ttl_dict_slots(d);
    assert_int_equal(ttl_dict_set_tombstone(d, ttl_dict_hash(d, "t", 1), "t", 1, T0 + 5, 1, NULL),
                     TTL_OK);
    assert_int_equal(ttl_dict_mem_bytes(d), before + slots / 32 * 16 + ttl_entry_alloc_size(1, 0));
    check_dict(d);
    for (unsigned i = 0; i < 3000; i++) {
        size_t kl = test_key(k, sizeof k, "mem-", i);
        assert_int_equal(ttl_dict_delete(d, ttl_dict_hash(d, k, kl), k, kl), 1);
    }
    assert_int_equal(ttl_dict_delete(d, ttl_dict_hash(d, "t", 1), "t", 1), 1);
    while (ttl_dict_rehash(d, 100))
        ;
    check_dict(d);
    assert_int_equal(ttl_dict_slots(d), 64);
    assert_int_equal(ttl_dict_mem_bytes(d), base + 2 * 16); /* + the tombstone index */
    ttl_dict_clear(d);
    assert_int_equal(ttl_dict_mem_bytes(d), base);
    /* clear from a big table goes back to the baseline too. */
    for (unsigned i = 0; i < 500; i++) {
        size_t kl = test_key(k, sizeof k, "c-", i);
        assert_int_equal(put(d, k, kl, v, 50, T0 + 1000), TTL_OK);
    }
    ttl_dict_clear(d);
    assert_int_equal(ttl_dict_mem_bytes(d), base);
    assert_int_equal(ttl_dict_slots(d), 64);
    check_dict(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test_setup_teardown(test_hash_is_keyed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_find_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_binary_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lazy_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_clamped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removal_hook_reasons, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_accounting, setup, teardown),
    };
    return cmocka_run_group_tests_name("ttl dict", tests, NULL, NULL);
}
