/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_reply.c: every resp_add_* in RESP2 and RESP3, byte for byte, plus resp_wbuf growth,
 * reserve/commit, consume, shrink and sticky NOMEM.
 *
 * The double texts were captured from redis-server 7.0.15 (ZSCORE in RESP2 and after HELLO 3):
 * 3 -> "3", 0.1 -> "0.10000000000000001", inf/-inf, 1e300 -> "1.0000000000000001e+300".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_test.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static resp_wbuf wb;

static int setup(void **state)
{
    (void)state;
    resp_wbuf_init(&wb);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    resp_wbuf_deinit(&wb);
    mock_alloc_uninstall();
    return 0;
}

/* The buffer holds exactly `want`; then empty it. */
static void expect_bytes(const char *want, size_t n)
{
    assert_false(resp_wbuf_failed(&wb));
    if (wb.len != n || memcmp(wb.data, want, n) != 0)
        fail_msg("got %zu bytes \"%.*s\", want %zu bytes \"%.*s\"", wb.len, (int)wb.len, wb.data, n,
                 (int)n, want);
    wb.len = 0;
}

#define EXPECT(lit) expect_bytes((lit), sizeof(lit) - 1)

static void test_simple_error_raw(void **state)
{
    (void)state;
    resp_add_simple(&wb, S("OK"));
    EXPECT("+OK\r\n");
    resp_add_simple(&wb, S(""));
    EXPECT("+\r\n");
    resp_add_error(&wb, S("ERR syntax error"));
    EXPECT("-ERR syntax error\r\n");
    resp_add_error(&wb, S("ERR a\r\nb\rc\nd"));
    EXPECT("-ERR a  b c d\r\n");
    resp_add_error(&wb, S("Protocol error: expected '$', got '\r'"));
    EXPECT("-Protocol error: expected '$', got ' '\r\n");
    resp_add_raw(&wb, S("+PONG\r\n"));
    resp_add_raw(&wb, "", 0);
    EXPECT("+PONG\r\n");
}

static void test_integers(void **state)
{
    (void)state;
    resp_add_int(&wb, 0);
    EXPECT(":0\r\n");
    resp_add_int(&wb, -1);
    EXPECT(":-1\r\n");
    resp_add_int(&wb, 1234567890123LL);
    EXPECT(":1234567890123\r\n");
    resp_add_int(&wb, LLONG_MAX);
    EXPECT(":9223372036854775807\r\n");
    resp_add_int(&wb, LLONG_MIN);
    EXPECT(":-9223372036854775808\r\n");
    resp_add_bulk_int(&wb, 42);
    EXPECT("$2\r\n42\r\n");
    resp_add_bulk_int(&wb, LLONG_MIN);
    EXPECT("$20\r\n-9223372036854775808\r\n");
    resp_add_bulk_int(&wb, 0);
    EXPECT("$1\r\n0\r\n");
}

static void test_bulk(void **state)
{
    (void)state;
    resp_add_bulk(&wb, S("hello"));
    EXPECT("$5\r\nhello\r\n");
    resp_add_bulk(&wb, "", 0);
    EXPECT("$0\r\n\r\n");
    resp_add_bulk(&wb, NULL, 0);
    EXPECT("$0\r\n\r\n");
    resp_add_bulk(&wb, S("a\0\r\nb"));
    EXPECT("$5\r\na\0\r\nb\r\n");
}

static void test_null_bool(void **state)
{
    (void)state;
    resp_add_null(&wb, RESP2);
    EXPECT("$-1\r\n");
    resp_add_null(&wb, RESP3);
    EXPECT("_\r\n");
    resp_add_null_array(&wb, RESP2);
    EXPECT("*-1\r\n");
    resp_add_null_array(&wb, RESP3);
    EXPECT("_\r\n");
    resp_add_bool(&wb, 1, RESP2);
    EXPECT(":1\r\n");
    resp_add_bool(&wb, 0, RESP2);
    EXPECT(":0\r\n");
    resp_add_bool(&wb, 7, RESP3);
    EXPECT("#t\r\n");
    resp_add_bool(&wb, 0, RESP3);
    EXPECT("#f\r\n");
}

static void test_aggregates(void **state)
{
    (void)state;
    resp_add_array(&wb, 0);
    EXPECT("*0\r\n");
    resp_add_array(&wb, 3);
    EXPECT("*3\r\n");
    resp_add_array(&wb, -1);
    EXPECT("*-1\r\n");
    resp_add_map(&wb, 7, RESP3);
    EXPECT("%7\r\n");
    resp_add_map(&wb, 7, RESP2);
    EXPECT("*14\r\n");
    resp_add_map(&wb, 0, RESP2);
    EXPECT("*0\r\n");
    resp_add_set(&wb, 2, RESP3);
    EXPECT("~2\r\n");
    resp_add_set(&wb, 2, RESP2);
    EXPECT("*2\r\n");
    /* A CONFIG GET-like reply, as captured from Redis 7.0.15. */
    resp_add_map(&wb, 1, RESP3);
    resp_add_bulk(&wb, S("maxclients"));
    resp_add_bulk(&wb, S("10000"));
    EXPECT("%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
}

static void test_doubles(void **state)
{
    (void)state;
    resp_add_double(&wb, 3.0, RESP3);
    EXPECT(",3\r\n");
    resp_add_double(&wb, 3.0, RESP2);
    EXPECT("$1\r\n3\r\n");
    resp_add_double(&wb, 0.1, RESP3);
    EXPECT(",0.10000000000000001\r\n");
    resp_add_double(&wb, 0.1, RESP2);
    EXPECT("$19\r\n0.10000000000000001\r\n");
    resp_add_double(&wb, INFINITY, RESP3);
    EXPECT(",inf\r\n");
    resp_add_double(&wb, -INFINITY, RESP3);
    EXPECT(",-inf\r\n");
    resp_add_double(&wb, INFINITY, RESP2);
    EXPECT("$3\r\ninf\r\n");
    resp_add_double(&wb, -INFINITY, RESP2);
    EXPECT("$4\r\n-inf\r\n");
    resp_add_double(&wb, NAN, RESP3);
    EXPECT(",nan\r\n");
    resp_add_double(&wb, NAN, RESP2);
    EXPECT("$3\r\nnan\r\n");
    resp_add_double(&wb, 1e300, RESP3);
    EXPECT(",1.0000000000000001e+300\r\n");
    resp_add_double(&wb, 123456789012345678.0, RESP2);
    EXPECT("$22\r\n1.2345678901234568e+17\r\n");
    resp_add_double(&wb, 1.5e-7, RESP3);
    EXPECT(",1.4999999999999999e-07\r\n");
    resp_add_double(&wb, -0.0, RESP3);
    EXPECT(",-0\r\n");
    resp_add_double(&wb, 0.0, RESP2);
    EXPECT("$1\r\n0\r\n");
    resp_add_double(&wb, -2.5, RESP3);
    EXPECT(",-2.5\r\n");
    resp_add_double(&wb, -1.7976931348623157e308, RESP3);
    EXPECT(",-1.7976931348623157e+308\r\n");
    resp_add_double(&wb, 4.9406564584124654e-324, RESP3);
    EXPECT(",4.9406564584124654e-324\r\n");
}

static void test_verbatim(void **state)
{
    (void)state;
    resp_add_verbatim(&wb, "txt", S("# Keyspace\r\n"), RESP3);
    EXPECT("=16\r\ntxt:# Keyspace\r\n\r\n");
    resp_add_verbatim(&wb, "txt", S("# Keyspace\r\n"), RESP2);
    EXPECT("$12\r\n# Keyspace\r\n\r\n");
    resp_add_verbatim(&wb, "mkd", "", 0, RESP3);
    EXPECT("=4\r\nmkd:\r\n");
    resp_add_verbatim(&wb, "txt", "", 0, RESP2);
    EXPECT("$0\r\n\r\n");
}

static void test_growth_reserve_consume_shrink(void **state)
{
    enum { BIG = 1 << 20 };
    char *big = malloc(BIG), *w;
    size_t i, before;

    (void)state;
    assert_non_null(big);
    for (i = 0; i < BIG; i++)
        big[i] = (char)(i * 7);

    /* Many small appends, then a large one: contents stay exact across reallocations. */
    for (i = 0; i < 10000; i++)
        resp_add_int(&wb, (long long)i);
    resp_add_bulk(&wb, big, BIG);
    assert_false(resp_wbuf_failed(&wb));
    assert_true(wb.cap >= wb.len);
    {
        char tmp[32];
        size_t off = 0;
        for (i = 0; i < 10000; i++) {
            size_t n = resp_ll_to_str(tmp + 1, (long long)i);
            tmp[0] = ':';
            memcpy(tmp + 1 + n, "\r\n", 2);
            assert_memory_equal(wb.data + off, tmp, n + 3);
            off += n + 3;
        }
        assert_memory_equal(wb.data + off, "$1048576\r\n", 10);
        assert_memory_equal(wb.data + off + 10, big, BIG);
        assert_memory_equal(wb.data + off + 10 + BIG, "\r\n", 2);

        /* consume moves the rest to the front */
        resp_wbuf_consume(&wb, off);
        assert_int_equal(wb.len, 10 + BIG + 2);
        assert_memory_equal(wb.data, "$1048576\r\n", 10);
        resp_wbuf_consume(&wb, 10);
        assert_memory_equal(wb.data, big, BIG);
        resp_wbuf_consume(&wb, wb.len);
        assert_int_equal(wb.len, 0);
        resp_wbuf_consume(&wb, 0);
    }

    /* shrink keeps max(len, keep) */
    resp_add_simple(&wb, S("OK"));
    resp_wbuf_shrink(&wb, 100);
    assert_int_equal(wb.cap, 100);
    resp_wbuf_shrink(&wb, 1000); /* never grows */
    assert_int_equal(wb.cap, 100);
    resp_wbuf_shrink(&wb, 0);
    assert_int_equal(wb.cap, 5);
    EXPECT("+OK\r\n");
    resp_wbuf_shrink(&wb, 0);
    assert_int_equal(wb.cap, 0);
    assert_null(wb.data);
    resp_add_int(&wb, 5);
    EXPECT(":5\r\n");

    /* reserve + commit */
    w = resp_wbuf_reserve(&wb, 6);
    assert_non_null(w);
    memcpy(w, "+PONG\r\n", 7 - 1);
    resp_wbuf_commit(&wb, 6);
    before = wb.cap;
    w = resp_wbuf_reserve(&wb, 0);
    assert_non_null(w);
    assert_int_equal(wb.cap, before);
    resp_add_raw(&wb, "\n", 1);
    EXPECT("+PONG\r\n");
    free(big);
}

static void test_reserve_on_empty(void **state)
{
    (void)state;
    assert_non_null(resp_wbuf_reserve(&wb, 0));
    assert_int_equal(wb.len, 0);
}

static void test_nomem_sticky(void **state)
{
    char *w;

    (void)state;
    mock_alloc_install();

    /* First allocation fails: nothing is written and everything later is ignored. */
    mock_alloc_fail_after(0);
    resp_add_simple(&wb, S("OK"));
    assert_true(resp_wbuf_failed(&wb));
    assert_int_equal(wb.err, RESP_ERR_NOMEM);
    mock_alloc_fail_after(-1);
    resp_add_int(&wb, 1);
    resp_add_bulk(&wb, S("x"));
    resp_add_error(&wb, S("ERR x"));
    resp_add_double(&wb, 1.0, RESP3);
    resp_add_verbatim(&wb, "txt", S("x"), RESP3);
    resp_add_map(&wb, 1, RESP2);
    resp_add_null(&wb, RESP2);
    resp_add_bool(&wb, 1, RESP3);
    assert_null(resp_wbuf_reserve(&wb, 1));
    assert_int_equal(wb.len, 0);
    assert_true(resp_wbuf_failed(&wb));
    resp_wbuf_deinit(&wb);

    /* Fail while growing a buffer that has contents: they are kept, the flag sticks. */
    resp_wbuf_init(&wb);
    resp_add_simple(&wb, S("OK"));
    mock_alloc_fail_after(0);
    resp_add_bulk(&wb, NULL, 0);
    w = malloc(100000);
    assert_non_null(w);
    memset(w, 'z', 100000);
    resp_add_bulk(&wb, w, 100000);
    free(w);
    assert_true(resp_wbuf_failed(&wb));
    assert_true(wb.len >= 5);
    assert_memory_equal(wb.data, "+OK\r\n", 5);
    mock_alloc_fail_after(-1);
    resp_add_int(&wb, 1);
    assert_true(resp_wbuf_failed(&wb));

    /* A failed shrink is not an error and keeps the data. */
    resp_wbuf_deinit(&wb);
    resp_wbuf_init(&wb);
    resp_add_bulk(&wb, S("0123456789"));
    mock_alloc_fail_after(0);
    resp_wbuf_shrink(&wb, 0);
    assert_false(resp_wbuf_failed(&wb));
    mock_alloc_fail_after(-1);
    EXPECT("$10\r\n0123456789\r\n");

    /* Sizes that cannot be represented fail cleanly without allocating. */
    resp_add_bulk(&wb, "", SIZE_MAX - 4);
    assert_true(resp_wbuf_failed(&wb));
    resp_wbuf_deinit(&wb);
    resp_wbuf_init(&wb);
    assert_null(resp_wbuf_reserve(&wb, SIZE_MAX));
    assert_true(resp_wbuf_failed(&wb));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_simple_error_raw, setup, teardown),
        cmocka_unit_test_setup_teardown(test_integers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_bool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aggregates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_doubles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growth_reserve_consume_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_on_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nomem_sticky, setup, teardown),
    };
    return cmocka_run_group_tests_name("resp_reply", tests, NULL, NULL);
}
