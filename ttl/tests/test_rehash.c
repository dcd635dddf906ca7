/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_rehash.c: lookup, insert, update and delete while a resize (grow or shrink) is in
 * progress, checking every key after every step; colliding hashes that saturate the stored probe
 * distance; the SCAN guarantee across growth and shrinking; random entries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttl/tests/support.h"

#define T0 1000
#define FAR (T0 + 1000000)
#define MAXK 4096

/* Which keys "key:<i>" should be present, and with which version. */
struct model {
    uint64_t version[MAXK]; /* 0 = absent */
};

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

static void set_n(ttl_dict *d, struct model *m, unsigned i, uint64_t version)
{
    char k[32];
    size_t kl = test_key(k, sizeof k, "key:", i);
    assert_int_equal(ttl_dict_set(d, ttl_dict_hash(d, k, kl), k, kl, k, kl, FAR, version, NULL),
                     TTL_OK);
    m->version[i] = version;
}

static void del_n(ttl_dict *d, struct model *m, unsigned i)
{
    char k[32];
    size_t kl = test_key(k, sizeof k, "key:", i);
    assert_int_equal(ttl_dict_delete(d, ttl_dict_hash(d, k, kl), k, kl), m->version[i] != 0);
    m->version[i] = 0;
}

static void verify(ttl_dict *d, const struct model *m, unsigned upto)
{
    size_t n = 0;
    for (unsigned i = 0; i < upto; i++) {
        char k[32];
        size_t kl = test_key(k, sizeof k, "key:", i), vl;
        ttl_entry *e = ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, T0, 0);
        if (m->version[i] == 0) {
            assert_null(e);
            continue;
        }
        assert_non_null(e);
        assert_int_equal(ttl_entry_version(e), m->version[i]);
        assert_memory_equal(ttl_entry_value(e, &vl), k, kl);
        n++;
    }
    assert_int_equal(ttl_dict_size(d), n);
    check_dict(d);
}

static void test_ops_during_grow(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    unsigned n = 0, steps = 0;

    memset(&m, 0, sizeof m);
    /* Several doublings (64 -> 2048); during each resize mix every operation. */
    while (n < 1500) {
        set_n(d, &m, n, 1);
        n++;
        if (!ttl_dict_is_rehashing(d))
            continue;
        steps++;
        set_n(d, &m, n / 2, 2);     /* update (the key may be in either table) */
        del_n(d, &m, n / 3);        /* delete */
        set_n(d, &m, n / 3, 3);     /* re-insert: goes to the new table */
        verify(d, &m, n + 1);
    }
    assert_true(steps > 10);
    while (ttl_dict_rehash(d, 1))
        verify(d, &m, n);
    verify(d, &m, n);
}

static void test_ops_during_shrink(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    unsigned n = 3000, steps = 0;

    memset(&m, 0, sizeof m);
    for (unsigned i = 0; i < n; i++)
        set_n(d, &m, i, 1);
    while (ttl_dict_rehash(d, 100))
        ;
    size_t big = ttl_dict_slots(d);
    for (unsigned i = 0; i < n; i++) {
        del_n(d, &m, i);
        if (!ttl_dict_is_rehashing(d))
            continue;
        steps++;
        unsigned live = n - 1 - (i + 1) / 2; /* a key still present */
        if (m.version[live] != 0)
            set_n(d, &m, live, m.version[live] + 1);
        set_n(d, &m, i, 5); /* insert during shrink */
        del_n(d, &m, i);
        verify(d, &m, n);
    }
    assert_true(steps > 5);
    while (ttl_dict_rehash(d, 1))
        ;
    assert_true(ttl_dict_slots(d) < big);
    assert_int_equal(ttl_dict_slots(d), 64);
    verify(d, &m, n);
}

static void test_rehash_steps_bounded(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    unsigned n = 0;

    memset(&m, 0, sizeof m);
    while (!ttl_dict_is_rehashing(d) || n < 400)
        set_n(d, &m, n++, 1);
    /* Each call with steps=1 moves at most one slot's entries (plus what shifts into it). */
    while (ttl_dict_is_rehashing(d)) {
        size_t before = d->old->used;
        int still = ttl_dict_rehash(d, 1);
        assert_true(still == ttl_dict_is_rehashing(d));
        if (still)
            assert_true(before - d->old->used <= 16);
    }
    assert_int_equal(ttl_dict_rehash(d, 0), 0);
    verify(d, &m, n);
}

/* A terrible hash: every key on one of `homes` home slots, same tag. */
static unsigned homes = 1;
static uint64_t bad_hash(const void *key, size_t len)
{
    uint64_t h = 0;
    const unsigned char *p = key;
    for (size_t i = 0; i < len; i++)
        h = h * 31 + p[i];
    return (h % homes) * 7;
}

static void test_saturated_distances(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    int more;

    memset(&m, 0, sizeof m);
    for (unsigned pass = 0; pass < 2; pass++) {
        homes = pass == 0 ? 1 : 3;
        ttl_dict_set_hash_override(d, bad_hash);
        for (unsigned i = 0; i < 700; i++) {
            set_n(d, &m, i, 1);
            if (i % 97 == 0)
                verify(d, &m, 701);
        }
        verify(d, &m, 701);
        size_t saturated = 0;
        for (size_t i = 0; i <= d->ht->mask; i++)
            saturated += ttl_slot_dist(d->ht->slots[i]) == TTL_SLOT_DIST_SAT;
        assert_true(saturated > 100);
        for (unsigned i = 0; i < 700; i += 3) {
            del_n(d, &m, i);
            set_n(d, &m, i + 1, 2);
        }
        verify(d, &m, 701);
        /* Expire a few through the index, so sweeps cross saturated runs. */
        char k[32];
        for (unsigned i = 1; i < 700; i += 50) {
            size_t kl = test_key(k, sizeof k, "key:", i);
            ttl_entry *e = ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, T0, 0);
            if (e == NULL)
                continue;
            ttl_dict_set_expire(d, e, T0 + 1);
            m.version[i] = 0;
        }
        ttl_dict_expire(d, T0 + 1, SIZE_MAX, &more);
        assert_int_equal(more, 0);
        verify(d, &m, 701);
        for (unsigned i = 0; i < 701; i++)
            if (m.version[i] != 0)
                del_n(d, &m, i);
        while (ttl_dict_rehash(d, 10))
            ;
        verify(d, &m, 701);
        assert_int_equal(ttl_dict_size(d), 0);
    }
}

/* ---- SCAN ---- */

struct seen {
    unsigned char hit[MAXK];
    size_t calls;
};

static void scan_visit(void *priv, const ttl_entry *e)
{
    struct seen *s = priv;
    size_t kl;
    const char *k = ttl_entry_key(e, &kl);
    char buf[32];
    assert_true(kl > 4 && kl < sizeof buf);
    memcpy(buf, k + 4, kl - 4);
    buf[kl - 4] = 0;
    unsigned i = (unsigned)strtoul(buf, NULL, 10);
    assert_true(i < MAXK);
    s->hit[i] = 1;
    s->calls++;
}

/*
 * Keys [0, stable) stay for the whole scan; between cursor calls other keys come and go in
 * waves large enough to grow and shrink the table several times.  Every stable key must be seen.
 */
static void scan_with_churn(ttl_dict *d, unsigned stable, unsigned churn, size_t count)
{
    static struct model m;
    static struct seen s;
    uint64_t cursor = 0, rng = stable * 31 + churn;
    unsigned calls = 0;
    size_t min_slots = SIZE_MAX, max_slots = 0;
    int saw_rehash = 0;

    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    for (unsigned i = 0; i < stable; i++)
        set_n(d, &m, i, 1);
    do {
        cursor = ttl_dict_scan(d, cursor, count, T0, 0, scan_visit, &s);
        calls++;
        /* Phase: grow for a while, then shrink, then grow again. */
        int growing = (calls / 40) % 2 == 0;
        for (unsigned j = 0; j < 40; j++) {
            unsigned k = stable + (unsigned)(test_rand(&rng) % churn);
            if (growing)
                set_n(d, &m, k, 1);
            else if (m.version[k] != 0)
                del_n(d, &m, k);
        }
        if (!growing)
            for (unsigned k = stable; k < stable + churn; k++)
                if (m.version[k] != 0 && test_rand(&rng) % 4 == 0)
                    del_n(d, &m, k);
        saw_rehash |= ttl_dict_is_rehashing(d);
        if (ttl_dict_slots(d) < min_slots)
            min_slots = ttl_dict_slots(d);
        if (ttl_dict_slots(d) > max_slots)
            max_slots = ttl_dict_slots(d);
    } while (cursor != 0);
    for (unsigned i = 0; i < stable; i++)
        assert_true(s.hit[i]);
    assert_true(saw_rehash);
    assert_true(calls > 100);
    assert_true(max_slots >= 4 * min_slots);
    check_dict(d);
}

static void test_scan_guarantee(void **state)
{
    ttl_dict *d = *state;
    scan_with_churn(d, 20, 2000, 1);
}

static void test_scan_guarantee_more_stable(void **state)
{
    ttl_dict *d = *state;
    scan_with_churn(d, 200, 3000, 3);
}

static void test_scan_complete_and_filters(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    static struct seen s;
    uint64_t cursor = 0;

    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    for (unsigned i = 0; i < 1000; i++)
        set_n(d, &m, i, 1);
    char k[32];
    size_t kl = test_key(k, sizeof k, "key:", 5);
    ttl_dict_set_expire(d, ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, T0, 0), T0);
    do
        cursor = ttl_dict_scan(d, cursor, 100, T0, 0, scan_visit, &s);
    while (cursor != 0);
    /* Without churn every key is reported exactly once; the expired one is skipped. */
    assert_int_equal(s.calls, 999);
    assert_false(s.hit[5]);
    assert_int_equal(ttl_dict_size(d), 1000); /* scanning removes nothing */
}

static void test_random(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    static struct seen s;

    memset(&m, 0, sizeof m);
    memset(&s, 0, sizeof s);
    assert_null(ttl_dict_random(d, 12345, T0));
    for (unsigned i = 0; i < 300; i++)
        set_n(d, &m, i, 1);
    uint64_t rng = 3;
    for (unsigned j = 0; j < 20000; j++) {
        ttl_entry *e = ttl_dict_random(d, test_rand(&rng), T0);
        assert_non_null(e);
        scan_visit(&s, e);
    }
    unsigned distinct = 0;
    for (unsigned i = 0; i < 300; i++)
        distinct += s.hit[i];
    assert_true(distinct > 250);
    /* Expired entries met on the way are removed; NULL only once nothing live is left. */
    char k[32];
    for (unsigned i = 0; i < 300; i++) {
        size_t kl = test_key(k, sizeof k, "key:", i);
        ttl_entry *e = ttl_dict_find(d, ttl_dict_hash(d, k, kl), k, kl, T0, 0);
        ttl_dict_set_expire(d, e, i == 123 ? FAR : T0 + 1);
    }
    ttl_entry *e = ttl_dict_random(d, 0, T0 + 1);
    assert_non_null(e);
    size_t kl;
    assert_memory_equal(ttl_entry_key(e, &kl), "key:123", 7);
    check_dict(d);
    ttl_dict_set_expire(d, e, T0 + 1);
    assert_null(ttl_dict_random(d, 99, T0 + 1));
    assert_int_equal(ttl_dict_size(d), 0);
    assert_int_equal(ttl_dict_stats(d)->expired, 300);
    check_dict(d);
}

static void test_random_during_rehash(void **state)
{
    ttl_dict *d = *state;
    static struct model m;
    unsigned n = 0;

    memset(&m, 0, sizeof m);
    while (!ttl_dict_is_rehashing(d) || n < 100)
        set_n(d, &m, n++, 1);
    uint64_t rng = 11;
    for (unsigned j = 0; j < 2000; j++)
        assert_non_null(ttl_dict_random(d, test_rand(&rng), T0));
    check_dict(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ops_during_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ops_during_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehash_steps_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saturated_distances, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_guarantee_more_stable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_complete_and_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_during_rehash, setup, teardown),
    };
    return cmocka_run_group_tests_name("ttl rehash", tests, NULL, NULL);
}
