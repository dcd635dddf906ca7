/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_hlc.c: the hybrid logical clock (hlc.c) with explicit wall-clock values.
 *
 * Layout under test: version = ms << 16 | counter << 4 | tag (12-bit counter, 4-bit tag).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cluster/cluster.h"

#define T0 1790000000000ull /* a realistic wall clock in ms (2026) */

static unsigned counter_of(uint64_t v) { return (unsigned)((v >> 4) & 0xfffu); }
static unsigned tag_of(uint64_t v) { return (unsigned)(v & 15u); }

static void test_init_tag(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 5);
    assert_int_equal(h.tag, 5);
    assert_true(h.last == 0);
    cluster_hlc_init(&h, 17); /* folded into 0..15 */
    assert_int_equal(h.tag, 1);
    cluster_hlc_init(&h, 0xffffffffu);
    assert_int_equal(h.tag, 15);
}

static void test_new_millisecond(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 9);
    uint64_t v = cluster_hlc_next(&h, T0);
    assert_true(CLUSTER_HLC_MS(v) == T0);
    assert_int_equal(counter_of(v), 0);
    assert_int_equal(tag_of(v), 9);
    assert_true(h.last == v);
    /* a later millisecond starts the counter again */
    (void)cluster_hlc_next(&h, T0);
    (void)cluster_hlc_next(&h, T0);
    v = cluster_hlc_next(&h, T0 + 3);
    assert_true(CLUSTER_HLC_MS(v) == T0 + 3);
    assert_int_equal(counter_of(v), 0);
    assert_int_equal(tag_of(v), 9);
}

static void test_monotonic_within_ms(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 3);
    uint64_t prev = cluster_hlc_next(&h, T0);
    for (unsigned i = 1; i < 1000; i++) {
        uint64_t v = cluster_hlc_next(&h, T0);
        assert_true(v > prev);
        assert_true(CLUSTER_HLC_MS(v) == T0);
        assert_int_equal(counter_of(v), i);
        assert_int_equal(tag_of(v), 3);
        prev = v;
    }
}

static void test_clock_goes_backwards(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 2);
    uint64_t a = cluster_hlc_next(&h, T0 + 1000);
    /* NTP steps the clock back by 900 ms: versions keep increasing, stuck at the old ms */
    uint64_t b = cluster_hlc_next(&h, T0 + 100);
    assert_true(b > a);
    assert_true(CLUSTER_HLC_MS(b) == T0 + 1000);
    assert_int_equal(counter_of(b), 1);
    uint64_t c = cluster_hlc_next(&h, T0 + 999);
    assert_true(c > b);
    assert_true(CLUSTER_HLC_MS(c) == T0 + 1000);
    /* once the wall clock passes the old value, versions follow it again */
    uint64_t d = cluster_hlc_next(&h, T0 + 1001);
    assert_true(d > c);
    assert_true(CLUSTER_HLC_MS(d) == T0 + 1001);
    assert_int_equal(counter_of(d), 0);
    /* the clock at 0 (never happens, but must not break monotonicity) */
    uint64_t e = cluster_hlc_next(&h, 0);
    assert_true(e > d);
}

static void test_counter_overflow(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 7);
    uint64_t prev = 0;
    /* 4096 versions fit in one millisecond (counter 0..4095) */
    for (unsigned i = 0; i < 4096; i++) {
        uint64_t v = cluster_hlc_next(&h, T0);
        assert_true(v > prev);
        assert_true(CLUSTER_HLC_MS(v) == T0);
        assert_int_equal(counter_of(v), i);
        assert_int_equal(tag_of(v), 7);
        prev = v;
    }
    /* the 4097th borrows the next millisecond, counter back to 0, tag intact */
    uint64_t v = cluster_hlc_next(&h, T0);
    assert_true(v > prev);
    assert_true(CLUSTER_HLC_MS(v) == T0 + 1);
    assert_int_equal(counter_of(v), 0);
    assert_int_equal(tag_of(v), 7);
    /* when the wall clock reaches that millisecond the counter continues from there */
    uint64_t w = cluster_hlc_next(&h, T0 + 1);
    assert_true(w > v);
    assert_true(CLUSTER_HLC_MS(w) == T0 + 1);
    assert_int_equal(counter_of(w), 1);
    /* a long burst: strictly increasing, borrowing several milliseconds */
    prev = w;
    for (unsigned i = 0; i < 3 * 4096; i++) {
        uint64_t x = cluster_hlc_next(&h, T0 + 1);
        assert_true(x > prev);
        assert_int_equal(tag_of(x), 7);
        prev = x;
    }
    assert_true(CLUSTER_HLC_MS(prev) == T0 + 4);
}

static void test_tag_zero(void **state)
{
    (void)state;
    /* tag 0: last == wall exactly after the first version; the next must still be larger */
    cluster_hlc h;
    cluster_hlc_init(&h, 0);
    uint64_t a = cluster_hlc_next(&h, T0);
    uint64_t b = cluster_hlc_next(&h, T0);
    assert_true(a == T0 << 16);
    assert_true(b > a);
    assert_int_equal(counter_of(b), 1);
    assert_int_equal(tag_of(b), 0);
}

static void test_tags_differ(void **state)
{
    (void)state;
    /* two nodes writing in the same millisecond with the same counter get different versions,
     * ordered by tag */
    cluster_hlc a, b;
    cluster_hlc_init(&a, 4);
    cluster_hlc_init(&b, 11);
    for (int i = 0; i < 50; i++) {
        uint64_t va = cluster_hlc_next(&a, T0 + (uint64_t)i / 10);
        uint64_t vb = cluster_hlc_next(&b, T0 + (uint64_t)i / 10);
        assert_true(va != vb);
        assert_true(va < vb);
        assert_true(va >> 4 == vb >> 4);
    }
}

static void test_observe_merges(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 1);
    uint64_t mine = cluster_hlc_next(&h, T0);
    /* a peer 200 ms ahead (within a 500 ms bound): accepted, and our next version is larger */
    cluster_hlc peer;
    cluster_hlc_init(&peer, 14);
    uint64_t theirs = cluster_hlc_next(&peer, T0 + 200);
    assert_int_equal(cluster_hlc_observe(&h, theirs, T0, 500), 0);
    assert_true(h.last == theirs);
    uint64_t next = cluster_hlc_next(&h, T0 + 1);
    assert_true(next > theirs);
    assert_true(next > mine);
    assert_true(CLUSTER_HLC_MS(next) == T0 + 200);
    assert_int_equal(tag_of(next), 1); /* our tag, not the peer's */
    /* an older version changes nothing */
    uint64_t before = h.last;
    assert_int_equal(cluster_hlc_observe(&h, mine, T0 + 1, 500), 0);
    assert_true(h.last == before);
    assert_int_equal(cluster_hlc_observe(&h, 0, T0 + 1, 500), 0);
    assert_true(h.last == before);
    /* causality across a chain: a -> b -> c, each write after observing the previous one */
    cluster_hlc c;
    cluster_hlc_init(&c, 0);
    uint64_t vb = cluster_hlc_next(&peer, T0 + 210);
    assert_int_equal(cluster_hlc_observe(&c, vb, T0 - 100, 500), 0); /* c's wall clock behind */
    uint64_t vc = cluster_hlc_next(&c, T0 - 100);
    assert_true(vc > vb);
}

static void test_observe_refuses_future(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 1);
    uint64_t mine = cluster_hlc_next(&h, T0);
    /* exactly max-offset ahead: accepted */
    uint64_t edge = (T0 + 500) << 16 | 0xfff5u;
    cluster_hlc g = h;
    assert_int_equal(cluster_hlc_observe(&g, edge, T0, 500), 0);
    assert_true(g.last == edge);
    /* one millisecond more: refused, and nothing merged */
    uint64_t over = (T0 + 501) << 16;
    assert_int_equal(cluster_hlc_observe(&h, over, T0, 500), -1);
    assert_true(h.last == mine);
    uint64_t far = (T0 + 3600 * 1000) << 16;
    assert_int_equal(cluster_hlc_observe(&h, far, T0, 500), -1);
    assert_int_equal(cluster_hlc_observe(&h, UINT64_MAX, T0, 500), -1);
    assert_true(h.last == mine);
    /* our versions are not dragged forward by the refused ones */
    uint64_t v = cluster_hlc_next(&h, T0);
    assert_true(CLUSTER_HLC_MS(v) == T0);
    /* max-offset 0: only versions up to our own millisecond */
    assert_int_equal(cluster_hlc_observe(&h, (T0 << 16) | 0xffffu, T0, 0), 0);
    assert_int_equal(cluster_hlc_observe(&h, (T0 + 1) << 16, T0, 0), -1);
}

static void test_peek(void **state)
{
    (void)state;
    cluster_hlc h;
    cluster_hlc_init(&h, 6);
    /* a fresh clock reads the wall clock, not 0: what a just-started node stamps its HELLO with */
    assert_true(cluster_hlc_peek(&h, T0) == T0 << 16);
    assert_true(h.last == 0);
    /* behind the last version (the wall clock stepped back): the last version; nothing issued */
    uint64_t v = cluster_hlc_next(&h, T0 + 1000);
    assert_true(cluster_hlc_peek(&h, T0) == v);
    assert_true(h.last == v);
    assert_true(cluster_hlc_next(&h, T0 + 1000) > v);
    /* never below a version issued or observed, so a frame's stamp bounds what it carries */
    assert_int_equal(cluster_hlc_observe(&h, (T0 + 1200) << 16 | 0x35u, T0 + 1100, 500), 0);
    assert_true(cluster_hlc_peek(&h, T0 + 1100) == h.last);
    assert_true(cluster_hlc_peek(&h, T0 + 5000) == (uint64_t)(T0 + 5000) << 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_tag),
        cmocka_unit_test(test_new_millisecond),
        cmocka_unit_test(test_monotonic_within_ms),
        cmocka_unit_test(test_clock_goes_backwards),
        cmocka_unit_test(test_counter_overflow),
        cmocka_unit_test(test_tag_zero),
        cmocka_unit_test(test_tags_differ),
        cmocka_unit_test(test_observe_merges),
        cmocka_unit_test(test_observe_refuses_future),
        cmocka_unit_test(test_peek),
    };
    return cmocka_run_group_tests_name("cluster hlc", tests, NULL, NULL);
}
