/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_alloc.c: allocation failure injection.  Every allocation an operation makes is failed in
 * turn; each TTL_ERR_NOMEM must leave the dictionary exactly as it was (contents, counts, memory
 * accounting, structure), and nothing may leak (valgrind checks that in the unit suite).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttl/tests/support.h"

#define T0 1000
#define FAR 9000000

static int setup(void **state)
{
    *state = ttl_dict_create(test_seed);
    return *state == NULL;
}

static int teardown(void **state)
{
    mock_alloc_reset();
    ttl_dict_free(*state);
    return 0;
}

/* An order-independent digest of everything observable about the entries. */
struct snapshot {
    uint64_t digest;
    size_t live, tombs, mem, slots;
};

static void digest_visit(void *priv, const ttl_entry *e)
{
    uint64_t *sum = priv;
    size_t kl, vl;
    const void *k = ttl_entry_key(e, &kl), *v = ttl_entry_value(e, &vl);
    uint64_t h = ttl_siphash13(1, 2, k, kl) ^ ttl_siphash13(3, 4, v, vl) * 3;
    h ^= ttl_entry_version(e) * 5 + ttl_entry_expire_at(e) * 7;
    h ^= (uint64_t)ttl_entry_is_tombstone(e);
    *sum += ttl_siphash13(5, 6, &h, sizeof h);
}

static struct snapshot snap(ttl_dict *d)
{
    struct snapshot s = {0, ttl_dict_size(d), ttl_dict_tombstones(d), ttl_dict_mem_bytes(d),
                         ttl_dict_slots(d)};
    uint64_t c = 0;
    /* No resize can happen during the scan: it only reads. */
    do
        c = ttl_dict_scan(d, c, 64, 0, 1, digest_visit, &s.digest);
    while (c != 0);
    return s;
}

static void assert_same(const struct snapshot *a, const struct snapshot *b)
{
    assert_true(a->digest == b->digest);
    assert_int_equal(a->live, b->live);
    assert_int_equal(a->tombs, b->tombs);
    assert_int_equal(a->mem, b->mem);
    assert_int_equal(a->slots, b->slots);
}

typedef int op_fn(ttl_dict *d, unsigned arg);

/*
 * Run op with its n-th allocation failing, for n = 0, 1, ... until a run makes fewer than n+1
 * allocations (so no failure was injected and it must succeed).  After every failed run the
 * dictionary must be unchanged.  Returns how many runs failed with TTL_ERR_NOMEM.
 */
static unsigned each_failure(ttl_dict *d, op_fn *op, unsigned arg)
{
    unsigned failures = 0;
    for (long n = 0;; n++) {
        struct snapshot before = snap(d), after;
        mock_alloc_fail_nth(n);
        int rc = op(d, arg);
        long calls = mock_alloc_reset();
        if (rc == TTL_ERR_NOMEM) {
            after = snap(d);
            assert_same(&before, &after);
            check_dict(d);
            failures++;
            continue;
        }
        assert_int_equal(rc, TTL_OK);
        check_dict(d);
        if (calls <= n)
            return failures;
        /* The failure was absorbed (a growth that could wait); undo and try the next. */
        assert_true(op(d, arg | 0x80000000u) == TTL_OK);
    }
}

static size_t key_of(char *k, size_t cap, unsigned i)
{
    return test_key(k, cap, "fail:", i & 0x7fffffffu);
}

/* Set key i (a value of i % 300 bytes); with the top bit of arg set, delete it instead. */
static int op_set(ttl_dict *d, unsigned arg)
{
    static char v[300];
    char k[32];
    size_t kl = key_of(k, sizeof k, arg);
    uint64_t h = ttl_dict_hash(d, k, kl);
    if (arg & 0x80000000u)
        return ttl_dict_delete(d, h, k, kl) == 1 ? TTL_OK : TTL_ERR_NOMEM;
    return ttl_dict_set(d, h, k, kl, v, (arg & 0x7fffffffu) % 300, FAR, 1, NULL);
}

static int op_tombstone(ttl_dict *d, unsigned arg)
{
    char k[32];
    size_t kl = key_of(k, sizeof k, arg);
    uint64_t h = ttl_dict_hash(d, k, kl);
    if (arg & 0x80000000u)
        return ttl_dict_delete(d, h, k, kl) == 1 ? TTL_OK : TTL_ERR_NOMEM;
    return ttl_dict_set_tombstone(d, h, k, kl, FAR, 2, NULL);
}

static void test_create_fails(void **state)
{
    (void)state;
    for (long n = 0;; n++) {
        mock_alloc_fail_nth(n);
        ttl_dict *d = ttl_dict_create(test_seed);
        long calls = mock_alloc_reset();
        if (d != NULL) {
            assert_true(calls <= n);
            check_dict(d);
            ttl_dict_free(d);
            break;
        }
    }
}

static void test_set_fails_unchanged(void **state)
{
    ttl_dict *d = *state;
    unsigned total_failures = 0;

    /* Grow through several resizes, failing every allocation of every insert. */
    for (unsigned i = 0; i < 600; i++) {
        total_failures += each_failure(d, op_set, i);
        assert_int_equal(op_set(d, i), TTL_OK);
    }
    assert_true(total_failures >= 600);
    assert_int_equal(ttl_dict_size(d), 600);
    /* Overwrites in another size class need a new allocation; in the same class none. */
    for (unsigned i = 0; i < 600; i += 7) {
        char k[32], v[300] = {0};
        size_t kl = key_of(k, sizeof k, i);
        mock_alloc_fail_after(0);
        int rc = ttl_dict_set(d, ttl_dict_hash(d, k, kl), k, kl, v, (i + 150) % 300, FAR, 3, NULL);
        mock_alloc_reset();
        if (ttl_entry_alloc_size(kl, (i + 150) % 300) == ttl_entry_alloc_size(kl, i % 300))
            assert_int_equal(rc, TTL_OK);
        else
            assert_int_equal(rc, TTL_ERR_NOMEM);
        check_dict(d);
    }
}

static void test_growth_failure_is_absorbed(void **state)
{
    ttl_dict *d = *state;
    unsigned i = 0;
    int rc;

    /* With every table allocation failing, inserts go on up to load 0.9, then fail cleanly. */
    for (;; i++) {
        char k[32];
        size_t kl = key_of(k, sizeof k, i);
        struct snapshot before = snap(d);
        mock_alloc_fail_after(1); /* the entry (call 0) succeeds, any table allocation fails */
        rc = ttl_dict_set(d, ttl_dict_hash(d, k, kl), k, kl, "v", 1, FAR, 1, NULL);
        mock_alloc_reset();
        if (rc != TTL_OK) {
            assert_int_equal(rc, TTL_ERR_NOMEM);
            struct snapshot after = snap(d);
            assert_same(&before, &after);
            break;
        }
    }
    assert_int_equal(ttl_dict_slots(d), 64);
    assert_int_equal(i, 57); /* 57 entries fit under load 0.9 in 64 slots, the 58th does not */
    check_dict(d);
    /* Once memory is back, the next insert grows the table. */
    assert_int_equal(op_set(d, 1000), TTL_OK);
    assert_true(ttl_dict_slots(d) > 64);
    check_dict(d);
}

static void test_tombstone_index_failure(void **state)
{
    ttl_dict *d = *state;

    for (unsigned i = 0; i < 300; i++)
        assert_int_equal(op_set(d, i), TTL_OK);
    /* The first tombstone allocates the tombstone index (for both tables if resizing). */
    assert_true(each_failure(d, op_tombstone, 5000) >= 2);
    assert_int_equal(ttl_dict_tombstones(d), 1);
    assert_int_equal(op_tombstone(d, 5000), TTL_OK);
    assert_int_equal(ttl_dict_tombstones(d), 1);
    /* Tombstones replacing values, during later growth too. */
    for (unsigned i = 0; i < 600; i += 3)
        each_failure(d, op_tombstone, i);
    check_dict(d);
}

static void test_resize_value_failure(void **state)
{
    ttl_dict *d = *state;
    ttl_entry *e, *before;
    char v[64];

    memset(v, 'q', sizeof v);
    assert_int_equal(ttl_dict_set(d, ttl_dict_hash(d, "rv", 2), "rv", 2, v, sizeof v, FAR, 1, &e),
                     TTL_OK);
    before = e;
    struct snapshot s0 = snap(d);
    mock_alloc_fail_after(0);
    assert_int_equal(ttl_dict_resize_value(d, &e, 5000), TTL_ERR_NOMEM);
    assert_int_equal(ttl_dict_resize_value(d, &e, 3), TTL_ERR_NOMEM);
    assert_int_equal(ttl_dict_resize_value(d, &e, 60), TTL_OK); /* same class: no allocation */
    assert_int_equal(ttl_dict_resize_value(d, &e, 64), TTL_OK);
    mock_alloc_reset();
    assert_ptr_equal(e, before);
    struct snapshot s1 = snap(d);
    assert_same(&s0, &s1);
    check_dict(d);
}

static void test_clear_and_shrink_without_memory(void **state)
{
    ttl_dict *d = *state;

    for (unsigned i = 0; i < 2000; i++)
        assert_int_equal(op_set(d, i), TTL_OK);
    while (ttl_dict_rehash(d, 100))
        ;
    size_t big = ttl_dict_slots(d);
    /* Deletes never fail; a shrink that cannot allocate simply does not happen. */
    mock_alloc_fail_after(0);
    for (unsigned i = 0; i < 1990; i++)
        assert_int_equal(op_set(d, i | 0x80000000u), TTL_OK);
    assert_int_equal(ttl_dict_slots(d), big);
    check_dict(d);
    /* clear keeps the big table, emptied, when no fresh one can be allocated. */
    ttl_dict_clear(d);
    mock_alloc_reset();
    assert_int_equal(ttl_dict_size(d), 0);
    assert_int_equal(ttl_dict_mem_bytes(d), sizeof(ttl_dict) + ttl_table_bytes(big, 0));
    check_dict(d);
    assert_int_equal(op_set(d, 1), TTL_OK);
    ttl_dict_rehash(d, 10); /* now the shrink can start */
    while (ttl_dict_rehash(d, 10))
        ;
    assert_int_equal(ttl_dict_slots(d), 64);
    check_dict(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_fails),
        cmocka_unit_test_setup_teardown(test_set_fails_unchanged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_failure_is_absorbed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tombstone_index_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resize_value_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear_and_shrink_without_memory, setup, teardown),
    };
    return cmocka_run_group_tests_name("ttl alloc", tests, NULL, NULL);
}
