/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_number.c: resp_str_to_ll() (Redis's string2ll rules) and the printf-free formatters.
 *
 * string2ll accepts exactly the canonical decimal spelling of a long long: the text that
 * printf("%lld") produces.  That gives an independent oracle for a brute-force sweep, besides
 * the named edge cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_test.h"

static int parses(const char *s, long long *v) { return resp_str_to_ll(s, strlen(s), v); }

static void test_str_to_ll_edges(void **state)
{
    static const char *const bad[] = {
        "", "-", "+1", "+0", "-0", "01", "00", "-01", " 1", "1 ", "1a", "a1", "0x10", "1.0", "1e3",
        "9223372036854775808", "-9223372036854775809", "18446744073709551615",
        "18446744073709551616", "99999999999999999999", "-99999999999999999999",
        "100000000000000000000", "--1", "\t1", "1\n",
    };
    long long v;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        if (parses(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(v, 42); /* untouched on failure */
    }
    assert_true(parses("0", &v));
    assert_int_equal(v, 0);
    assert_true(parses("1", &v));
    assert_int_equal(v, 1);
    assert_true(parses("-1", &v));
    assert_int_equal(v, -1);
    assert_true(parses("10", &v));
    assert_int_equal(v, 10);
    assert_true(parses("9223372036854775807", &v));
    assert_true(v == LLONG_MAX);
    assert_true(parses("-9223372036854775808", &v));
    assert_true(v == LLONG_MIN);
    assert_true(parses("-9223372036854775807", &v));
    assert_true(v == -LLONG_MAX);
    /* The length is respected: the bytes after it do not count, NUL is not special. */
    assert_true(resp_str_to_ll("123", 2, &v));
    assert_int_equal(v, 12);
    assert_false(resp_str_to_ll("1\0", 2, &v));
    assert_false(resp_str_to_ll("0", 0, &v));
    /* out may be NULL. */
    assert_true(resp_str_to_ll("77", 2, NULL));
    assert_true(resp_str_to_ll("0", 1, NULL));
    assert_true(resp_str_to_ll("-5", 2, NULL));
    assert_false(resp_str_to_ll("x", 1, NULL));
}

/* The oracle: canonical iff strtoll takes all of it without overflow and "%lld" gives it back. */
static int oracle(const char *s, size_t len, long long *out)
{
    char tmp[64], back[32];
    char *end;
    long long v;

    if (len == 0 || len >= sizeof(tmp) || memchr(s, '\0', len) != NULL)
        return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return 0;
    snprintf(back, sizeof(back), "%lld", v);
    if (strcmp(back, tmp) != 0)
        return 0;
    *out = v;
    return 1;
}

static void check_against_oracle(const char *s, size_t len)
{
    long long a = 0, b = 0;
    int ra = resp_str_to_ll(s, len, &a);
    int rb = oracle(s, len, &b);

    if (ra != rb || (ra && a != b))
        fail_msg("\"%.*s\": got %d/%lld, oracle %d/%lld", (int)len, s, ra, a, rb, b);
}

static void test_str_to_ll_sweep(void **state)
{
    static const char alphabet[] = "0129-+ a";
    const size_t na = sizeof(alphabet) - 1;
    char s[32];
    size_t len, idx, total, k;
    uint64_t seed = 7;

    (void)state;
    /* Every string of up to 4 characters over the alphabet. */
    for (len = 0; len <= 4; len++) {
        total = 1;
        for (k = 0; k < len; k++)
            total *= na;
        for (idx = 0; idx < total; idx++) {
            size_t x = idx;
            for (k = 0; k < len; k++) {
                s[k] = alphabet[x % na];
                x /= na;
            }
            check_against_oracle(s, len);
        }
    }
    /* Long digit strings around the overflow boundary. */
    for (k = 0; k < 200000; k++) {
        size_t i;
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        len = 17 + (size_t)(seed >> 60) % 5;
        for (i = 0; i < len; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            s[i] = (char)('0' + (seed >> 33) % 10);
        }
        if (k % 2)
            s[0] = '-';
        if (k % 5 == 0)
            memcpy(s + (k % 2), "922337203685477580", 18);
        check_against_oracle(s, len);
    }
}

static void check_format(long long v)
{
    char want[32], got[32];
    size_t n = resp_ll_to_str(got, v);
    int wn = snprintf(want, sizeof(want), "%lld", v);
    long long back;

    assert_int_equal(n, (size_t)wn);
    assert_memory_equal(got, want, n);
    assert_true(resp_str_to_ll(got, n, &back));
    assert_true(back == v);
}

static void check_uformat(unsigned long long v)
{
    char want[32], got[32];
    size_t n = resp_ull_to_str(got, v);
    int wn = snprintf(want, sizeof(want), "%llu", v);

    assert_int_equal(n, (size_t)wn);
    assert_memory_equal(got, want, n);
}

static void test_ll_to_str(void **state)
{
    long long p = 1;
    uint64_t seed = 1;
    int i;

    (void)state;
    check_format(0);
    check_format(LLONG_MAX);
    check_format(LLONG_MIN);
    check_format(LLONG_MIN + 1);
    for (i = -1000; i <= 1000; i++)
        check_format(i);
    for (i = 0; i < 19; i++) {
        check_format(p);
        check_format(p - 1);
        check_format(p + 1);
        check_format(-p);
        check_format(-p + 1);
        check_format(-p - 1);
        if (i < 18)
            p *= 10;
    }
    for (i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        check_format((long long)seed >> (seed & 63));
    }
    check_uformat(0);
    check_uformat(9);
    check_uformat(10);
    check_uformat(ULLONG_MAX);
    check_uformat((unsigned long long)LLONG_MAX + 1);
    for (i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        check_uformat(seed >> (seed & 63));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_to_ll_edges),
        cmocka_unit_test(test_str_to_ll_sweep),
        cmocka_unit_test(test_ll_to_str),
    };
    return cmocka_run_group_tests_name("resp_number", tests, NULL, NULL);
}
