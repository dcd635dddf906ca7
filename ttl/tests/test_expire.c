/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_expire.c: active expiry (exactly the due entries, bounded work, `more`), the next-expiry
 * hint, expiry changes in both directions, and eviction order.  Fake clock: the now_ms passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttl/tests/support.h"

#define T0 5000000

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

static ttl_entry *put_n(ttl_dict *d, unsigned i, uint64_t at)
{
    char k[32];
    size_t kl = test_key(k, sizeof k, "key:", i);
    ttl_entry *e = NULL;
    assert_int_equal(ttl_dict_set(d, ttl_dict_hash(d, k, kl), k, kl, k, kl, at, i, &e), TTL_OK);
    return e;
}

/* Look key i up without expiring anything (now = 0). */
static ttl_entry *peek_n(ttl_dict *d, unsigned i)
{
    char k[32];
    size_t kl = test_key(k, sizeof k, "key:", i);
    return ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, 0, 1);
}

struct expired_log {
    uint64_t now;
    size_t n;
};

static void expect_due(void *priv, const ttl_entry *e, enum ttl_reason why)
{
    struct expired_log *log = priv;
    assert_int_equal(why, TTL_REMOVED_EXPIRED);
    assert_true(ttl_entry_expire_at(e) <= log->now);
    log->n++;
}

static void test_active_expiry_exact(void **state)
{
    ttl_dict *d = *state;
    enum { N = 5000 };
    static uint64_t at[N];
    uint64_t rng = 1;
    struct expired_log log = {0, 0};
    int more;

    for (unsigned i = 0; i < N; i++) {
        at[i] = T0 + test_rand(&rng) % 10000;
        put_n(d, i, at[i]);
    }
    ttl_dict_set_remove_hook(d, expect_due, &log);
    for (uint64_t now = T0; now <= T0 + 10000; now += 1250) {
        size_t expect = 0;
        log.now = now;
        size_t removed = ttl_dict_expire(d, now, SIZE_MAX, &more);
        assert_int_equal(more, 0);
        assert_true(ttl_dict_next_expiry(d) > now);
        for (unsigned i = 0; i < N; i++) {
            if (at[i] > now) {
                assert_non_null(peek_n(d, i));
                expect++;
            } else {
                assert_null(peek_n(d, i));
            }
        }
        assert_int_equal(ttl_dict_size(d), expect);
        assert_int_equal(log.n, N - expect);
        assert_true(removed <= log.n);
        check_dict(d);
    }
    assert_int_equal(ttl_dict_stats(d)->expired, N);
    assert_int_equal(ttl_dict_next_expiry(d), UINT64_MAX);
    ttl_dict_set_remove_hook(d, NULL, NULL);
}

static void test_active_expiry_bounded(void **state)
{
    ttl_dict *d = *state;
    enum { N = 4000 };
    size_t total = 0, calls = 0;
    int more = 0;

    for (unsigned i = 0; i < N; i++)
        put_n(d, i, T0 + i % 7);
    assert_int_equal(ttl_dict_expire(d, T0 + 100, 0, &more), 0); /* no budget, no work */
    assert_int_equal(more, 1);
    assert_int_equal(ttl_dict_expire(d, T0 - 1, 1000, &more), 0); /* nothing due yet */
    assert_int_equal(more, 0);
    do {
        uint64_t scans = ttl_dict_stats(d)->expire_scans;
        total += ttl_dict_expire(d, T0 + 100, 64, &more);
        /* 64 slots = two segments of 32. */
        assert_true(ttl_dict_stats(d)->expire_scans - scans <= 2);
        calls++;
        if (calls % 16 == 0)
            check_dict(d);
    } while (more);
    assert_int_equal(total, N);
    assert_true(calls > 20);
    assert_int_equal(ttl_dict_size(d), 0);
    /* A budget below one segment still sweeps one (or nothing could ever progress). */
    for (unsigned i = 0; i < 100; i++)
        put_n(d, i, T0);
    uint64_t scans = ttl_dict_stats(d)->expire_scans;
    size_t got = ttl_dict_expire(d, T0, 1, &more);
    assert_int_equal(ttl_dict_stats(d)->expire_scans - scans, 1);
    assert_true(got > 0 && got < 100);
    assert_int_equal(more, 1);
    while (more)
        ttl_dict_expire(d, T0, 1, &more);
    assert_int_equal(ttl_dict_size(d), 0);
    while (ttl_dict_rehash(d, 100))
        ;
    assert_int_equal(ttl_dict_slots(d), 64);
    check_dict(d);
}

static void test_next_expiry(void **state)
{
    ttl_dict *d = *state;

    assert_int_equal(ttl_dict_next_expiry(d), UINT64_MAX);
    put_n(d, 1, T0 + 500);
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 500);
    put_n(d, 2, T0 + 300);
    put_n(d, 3, T0 + 900);
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 300);
    ttl_dict_set_expire(d, peek_n(d, 3), T0 + 100);
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 100);
    assert_int_equal(ttl_dict_expire(d, T0 + 100, 1000, NULL), 1);
    /* A lower bound: the sweep made it exact again. */
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 300);
    check_dict(d);
}

static void test_set_expire(void **state)
{
    ttl_dict *d = *state;
    int more;

    for (unsigned i = 0; i < 1000; i++)
        put_n(d, i, T0 + 1000);
    /* Earlier: active expiry at the new time finds it. */
    ttl_dict_set_expire(d, peek_n(d, 10), T0 + 10);
    ttl_dict_set_expire(d, peek_n(d, 20), T0 + 20);
    check_dict(d);
    assert_int_equal(ttl_dict_expire(d, T0 + 9, SIZE_MAX, &more), 0);
    assert_int_equal(ttl_dict_expire(d, T0 + 10, SIZE_MAX, &more), 1);
    assert_null(peek_n(d, 10));
    assert_non_null(peek_n(d, 20));
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 20);
    /* Later: it survives its old deadline, lazily and actively, and goes at the new one. */
    ttl_dict_set_expire(d, peek_n(d, 20), T0 + 5000);
    ttl_dict_set_expire(d, peek_n(d, 30), T0 + 5000);
    assert_non_null(peek_n(d, 30));
    assert_int_equal(ttl_dict_expire(d, T0 + 1000, SIZE_MAX, &more), 997);
    assert_int_equal(more, 0);
    char k[32];
    size_t kl = test_key(k, sizeof k, "key:", 30);
    assert_non_null(ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, T0 + 4999, 0));
    assert_null(ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, T0 + 5000, 0));
    assert_int_equal(ttl_dict_size(d), 1);
    assert_int_equal(ttl_dict_expire(d, T0 + 5000, SIZE_MAX, &more), 1);
    assert_int_equal(ttl_dict_size(d), 0);
    check_dict(d);
}

struct evict_log {
    uint64_t last;
    size_t evicted, expired;
};

static void evict_hook(void *priv, const ttl_entry *e, enum ttl_reason why)
{
    struct evict_log *log = priv;
    if (why == TTL_REMOVED_EVICTED) {
        assert_false(ttl_entry_is_tombstone(e));
        assert_true(ttl_entry_expire_at(e) >= log->last);
        log->last = ttl_entry_expire_at(e);
        log->evicted++;
    } else {
        assert_int_equal(why, TTL_REMOVED_EXPIRED);
        log->expired++;
    }
}

static void test_evict_order(void **state)
{
    ttl_dict *d = *state;
    enum { N = 3000 };
    uint64_t rng = 7;
    struct evict_log log = {0, 0, 0};

    for (unsigned i = 0; i < N; i++)
        put_n(d, i, T0 + 1 + test_rand(&rng) % 100000);
    ttl_dict_set_remove_hook(d, evict_hook, &log);
    for (unsigned i = 0; i < N; i++) {
        assert_int_equal(ttl_dict_evict(d, T0), 1);
        if (i % 500 == 0)
            check_dict(d);
    }
    assert_int_equal(ttl_dict_evict(d, T0), 0);
    assert_int_equal(log.evicted, N);
    assert_int_equal(log.expired, 0);
    assert_int_equal(ttl_dict_stats(d)->evicted, N);
    check_dict(d);
}

static void test_evict_removes_expired_first(void **state)
{
    ttl_dict *d = *state;
    struct evict_log log = {0, 0, 0};

    for (unsigned i = 0; i < 200; i++)
        put_n(d, i, i < 100 ? T0 - 1 : T0 + i);
    ttl_dict_set_remove_hook(d, evict_hook, &log);
    assert_int_equal(ttl_dict_evict(d, T0), 1);
    assert_int_equal(log.evicted, 1);
    assert_int_equal(log.last, T0 + 100);
    assert_true(log.expired > 0);
    /* Only expired entries left: they go as EXPIRED and nothing is evicted. */
    for (unsigned i = 0; i < 200; i++)
        if (peek_n(d, i) != NULL)
            ttl_dict_set_expire(d, peek_n(d, i), T0 - 1);
    assert_int_equal(ttl_dict_evict(d, T0), 0);
    assert_int_equal(log.evicted, 1);
    assert_int_equal(log.expired, 199);
    assert_int_equal(ttl_dict_size(d), 0);
    check_dict(d);
}

static void test_evict_skips_tombstones(void **state)
{
    ttl_dict *d = *state;
    char k[32];

    /* Many tombstones expiring before every live key, so whole segments hold only tombstones. */
    for (unsigned i = 0; i < 2000; i++) {
        size_t kl = test_key(k, sizeof k, "tomb:", i);
        assert_int_equal(ttl_dict_set_tombstone(d, ttl_dict_hash(d, k, kl), k, kl, T0 + 10, 1,
                                                NULL),
                         TTL_OK);
    }
    for (unsigned i = 0; i < 20; i++)
        put_n(d, i, T0 + 1000 + i);
    for (unsigned i = 0; i < 20; i++)
        assert_int_equal(ttl_dict_evict(d, T0), 1);
    assert_int_equal(ttl_dict_evict(d, T0), 0);
    assert_int_equal(ttl_dict_size(d), 0);
    assert_int_equal(ttl_dict_tombstones(d), 2000);
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 10);
    check_dict(d);
    int more;
    assert_int_equal(ttl_dict_expire(d, T0 + 10, SIZE_MAX, &more), 2000);
    assert_int_equal(ttl_dict_tombstones(d), 0);
    check_dict(d);
}

static void test_expire_during_rehash(void **state)
{
    ttl_dict *d = *state;
    unsigned n = 0;
    int more;

    /* Insert until a resize starts, then expire half of everything while it is in progress. */
    while (!ttl_dict_is_rehashing(d) || n < 60)
        put_n(d, n, T0 + n % 2), n++;
    assert_true(ttl_dict_is_rehashing(d));
    check_dict(d);
    assert_int_equal(ttl_dict_expire(d, T0, SIZE_MAX, &more), (n + 1) / 2);
    assert_int_equal(more, 0);
    check_dict(d);
    for (unsigned i = 0; i < n; i++)
        assert_true((peek_n(d, i) != NULL) == (i % 2 == 1));
    assert_int_equal(ttl_dict_next_expiry(d), T0 + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_active_expiry_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_active_expiry_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_removes_expired_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evict_skips_tombstones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expire_during_rehash, setup, teardown),
    };
    return cmocka_run_group_tests_name("ttl expire", tests, NULL, NULL);
}
