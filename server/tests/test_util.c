/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_util.c: server/util.c: glob matching (Redis's KEYS pattern language, binary safety,
 * case folding, the nested-star regression) and the strict size/duration/integer/boolean
 * parsers.
 *
 * The glob tests end with a randomized comparison against a deliberately naive recursive
 * matcher written here from the documented semantics; it is exponential, so it only sees short
 * inputs, but it checks thousands of pattern/string pairs that nobody would write by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/util.h"

/* Match two NUL-terminated strings (the common case in these tests). */
static int gm(const char *pat, const char *str)
{
    return srv_glob_match(pat, strlen(pat), str, strlen(str), 0);
}

static int gm_nocase(const char *pat, const char *str)
{
    return srv_glob_match(pat, strlen(pat), str, strlen(str), 1);
}

static void test_glob_basics(void **state)
{
    (void)state;
    assert_true(gm("", ""));
    assert_false(gm("", "a"));
    assert_false(gm("a", ""));
    assert_true(gm("*", ""));
    assert_true(gm("**", ""));
    assert_true(gm("*", "anything at all"));
    assert_true(gm("abc", "abc"));
    assert_false(gm("abc", "abcd"));
    assert_false(gm("abcd", "abc"));
    assert_true(gm("a*", "abc"));
    assert_true(gm("*c", "abc"));
    assert_true(gm("a*c", "ac"));
    assert_true(gm("a*c", "abbbc"));
    assert_false(gm("a*c", "abcb"));
    assert_true(gm("a*b*c", "axxbyyc"));
    assert_true(gm("*a*", "bab"));
    assert_false(gm("?", ""));
    assert_true(gm("a?c", "abc"));
    assert_false(gm("a?c", "ac"));
    assert_true(gm("???", "xyz"));
    assert_true(gm("*?", "a"));
    assert_false(gm("*??", "a"));
    assert_true(gm("foo*", "foo_a"));
    assert_false(gm("foo*", "key_x"));
}

/* The examples of Redis's KEYS documentation. */
static void test_glob_redis_doc_examples(void **state)
{
    (void)state;
    assert_true(gm("h?llo", "hello"));
    assert_true(gm("h?llo", "hallo"));
    assert_true(gm("h?llo", "hxllo"));
    assert_true(gm("h*llo", "hllo"));
    assert_true(gm("h*llo", "heeeello"));
    assert_true(gm("h[ae]llo", "hello"));
    assert_true(gm("h[ae]llo", "hallo"));
    assert_false(gm("h[ae]llo", "hillo"));
    assert_true(gm("h[^e]llo", "hallo"));
    assert_true(gm("h[^e]llo", "hbllo"));
    assert_false(gm("h[^e]llo", "hello"));
    assert_true(gm("h[a-b]llo", "hallo"));
    assert_true(gm("h[a-b]llo", "hbllo"));
    assert_false(gm("h[a-b]llo", "hcllo"));
}

static void test_glob_classes(void **state)
{
    (void)state;
    assert_true(gm("[z-a]", "m")); /* a reversed range means the same range */
    assert_true(gm("[z-a]", "a"));
    assert_true(gm("[z-a]", "z"));
    assert_false(gm("[z-a]", "A"));
    assert_true(gm("[a-cx-z]", "y"));
    assert_false(gm("[a-cx-z]", "d"));
    assert_true(gm("[^a-c]", "d"));
    assert_false(gm("[^a-c]", "b"));
    assert_true(gm("[abc]*", "cat"));
    assert_false(gm("[]", "a")); /* an empty class matches nothing */
    assert_false(gm("[]", ""));
    assert_true(gm("[^]", "x")); /* and its negation any byte */
    assert_true(gm("[abc", "b")); /* an unclosed class runs to the end of the pattern */
    assert_false(gm("[abc", "d"));
    assert_false(gm("a[", "a"));
    assert_true(gm("[-a]", "-")); /* '-' first is a literal */
    assert_true(gm("[a-]", "a")); /* "a-]" is a range a..']' with the class left open */
    assert_true(gm("[a-]", "]"));
    assert_true(gm("x[?*]y", "x*y")); /* '?' and '*' are literals inside a class */
    assert_false(gm("x[?*]y", "xzy"));
}

static void test_glob_escapes(void **state)
{
    (void)state;
    assert_true(gm("h\\*llo", "h*llo"));
    assert_false(gm("h\\*llo", "hello"));
    assert_true(gm("\\?", "?"));
    assert_false(gm("\\?", "a"));
    assert_true(gm("\\[a]", "[a]"));
    assert_true(gm("\\\\", "\\"));
    assert_true(gm("ab\\", "ab\\")); /* a trailing backslash is a literal backslash */
    assert_false(gm("ab\\", "ab"));
    assert_true(gm("[\\]]", "]"));
    assert_true(gm("[\\^a]", "^"));
    assert_true(gm("[a\\-z]", "-"));
    assert_false(gm("[a\\-z]", "b"));
    assert_true(gm("[\\\\]", "\\"));
}

static void test_glob_nocase(void **state)
{
    (void)state;
    assert_false(gm("HELLO", "hello"));
    assert_true(gm_nocase("HELLO", "hello"));
    assert_true(gm_nocase("h*O", "HellO"));
    assert_true(gm_nocase("[A-C]x", "bX"));
    assert_true(gm_nocase("[a-c]x", "BX"));
    assert_false(gm_nocase("[^A-C]", "b"));
    assert_true(gm_nocase("\\A", "a"));
    assert_true(gm_nocase("max*", "MAXMEMORY-POLICY"));
    assert_false(gm_nocase("[@]", "`")); /* only letters fold: '@' and '`' differ by 0x20 */
}

static void test_glob_binary(void **state)
{
    (void)state;
    assert_true(srv_glob_match("a\0*", 3, "a\0bc", 4, 0));
    assert_false(srv_glob_match("a\0b", 3, "a\0c", 3, 0));
    assert_true(srv_glob_match("?", 1, "\0", 1, 0));
    assert_true(srv_glob_match("[\0]", 3, "\0", 1, 0));
    assert_true(srv_glob_match("*\0", 2, "xyz\0", 4, 0));
    assert_false(srv_glob_match("*\0", 2, "xyz", 3, 0));
    assert_true(gm("[\x80-\xff]", "\xc3"));
    assert_false(gm("[\x80-\xff]", "a"));
    assert_true(gm("\xc3\xa9*", "\xc3\xa9t\xc3\xa9"));
    /* Lengths rule, not NUL bytes: only the first two bytes of each buffer take part. */
    assert_true(srv_glob_match("abX", 2, "abY", 2, 0));
    assert_true(srv_glob_match("*", 1, "whatever", 0, 0));
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Redis's "Regression for pattern matching long nested loops", and harder variants.  A
 * matcher that recurses at every star needs on the order of C(n, k) steps for these; ours needs
 * at most plen * slen.  The time bound is generous (valgrind runs these 20-50x slower) and only
 * there to turn an exponential regression into a failure instead of a hang.
 */
static void test_glob_nested_stars_are_not_exponential(void **state)
{
    static char pat[10002], str[10001];
    struct timespec t0;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_false(gm("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

    memset(str, 'a', 10000);
    for (int i = 0; i < 50; i++) memcpy(pat + 2 * i, "*a", 2);
    memcpy(pat + 100, "b", 2);
    assert_false(gm(pat, str));
    pat[100] = '\0';
    assert_true(gm(pat, str));

    memset(pat, '*', 50); /* fifty stars against a long string */
    pat[50] = '\0';
    assert_true(gm(pat, str));

    for (int i = 0; i < 1000; i++) memcpy(pat + 2 * i, "*?", 2);
    pat[2000] = '\0';
    str[1000] = '\0';
    assert_true(gm(pat, str));
    str[999] = '\0';
    assert_false(gm(pat, str));
    assert_true(seconds_since(&t0) < 10.0);
}

/* ---- randomized comparison with a naive reference ---- */

/* One class at p (just after '['): sets *hit, returns the index after it. */
static size_t ref_class(const char *p, size_t plen, size_t i, unsigned char c, int *hit)
{
    int neg = i < plen && p[i] == '^';
    int h = 0;

    if (neg) i++;
    for (; i < plen && p[i] != ']'; i++) {
        if (p[i] == '\\' && i + 1 < plen) {
            h |= (unsigned char)p[++i] == c;
        } else if (i + 2 < plen && p[i + 1] == '-') {
            unsigned char a = (unsigned char)p[i], b = (unsigned char)p[i + 2];
            h |= (a <= b) ? (c >= a && c <= b) : (c >= b && c <= a);
            i += 2;
        } else {
            h |= (unsigned char)p[i] == c;
        }
    }
    *hit = neg ? !h : h;
    return i < plen ? i + 1 : plen;
}

/* Exponential textbook matcher: a star tries every split. */
static int ref_match(const char *p, size_t plen, const char *s, size_t slen)
{
    size_t next;
    int hit;

    if (plen == 0) return slen == 0;
    if (p[0] == '*') {
        for (size_t k = 0; k <= slen; k++)
            if (ref_match(p + 1, plen - 1, s + k, slen - k)) return 1;
        return 0;
    }
    if (slen == 0) return 0;
    if (p[0] == '?') return ref_match(p + 1, plen - 1, s + 1, slen - 1);
    if (p[0] == '[') {
        next = ref_class(p, plen, 1, (unsigned char)s[0], &hit);
        return hit && ref_match(p + next, plen - next, s + 1, slen - 1);
    }
    if (p[0] == '\\' && plen >= 2) {
        p++;
        plen--;
    }
    return p[0] == s[0] && ref_match(p + 1, plen - 1, s + 1, slen - 1);
}

static void test_glob_matches_reference(void **state)
{
    static const char pat_alpha[] = "ab*?[]^-\\";
    char pat[8], str[8];
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 200000; round++) {
        size_t plen, slen;
        seed = seed * 1103515245u + 12345u;
        plen = (seed >> 8) % 8;
        slen = (seed >> 16) % 7;
        for (size_t i = 0; i < plen; i++) {
            seed = seed * 1103515245u + 12345u;
            pat[i] = pat_alpha[(seed >> 16) % (sizeof pat_alpha - 1)];
        }
        for (size_t i = 0; i < slen; i++) {
            seed = seed * 1103515245u + 12345u;
            str[i] = "ab]-"[(seed >> 16) % 4];
        }
        if (srv_glob_match(pat, plen, str, slen, 0) != ref_match(pat, plen, str, slen))
            fail_msg("pattern '%.*s' string '%.*s': got %d", (int)plen, pat, (int)slen, str,
                     srv_glob_match(pat, plen, str, slen, 0));
    }
}

/* ---- parsers ---- */

static int pb(const char *s, long long *v)
{
    return srv_parse_bytes(s, strlen(s), v);
}

static int ps(const char *s, long long *v)
{
    return srv_parse_seconds(s, strlen(s), v);
}

static int pl(const char *s, long long *v)
{
    return srv_parse_ll(s, strlen(s), v);
}

static void test_parse_bytes(void **state)
{
    static const struct {
        const char *in;
        long long out;
    } good[] = {
        {"0", 0},
        {"1", 1},
        {"10b", 10},
        {"10B", 10},
        {"1k", 1000},
        {"1kb", 1024},
        {"1KB", 1024},
        {"1Kb", 1024},
        {"5m", 5000000},
        {"5mb", 5242880},
        {"1g", 1000000000},
        {"1gb", 1073741824},
        {"1GB", 1073741824},
        {"512mb", 536870912},
        {"007", 7},
        {"9223372036854775807", LLONG_MAX},
        {"8589934591gb", LLONG_MAX - 1073741823},
    };
    static const char *const invalid[] = {
        "", "-1", "+1", " 1", "1 ", "1.5mb", "1kbb", "1t", "kb", "1 kb", "0x10", "1e3", "mb1",
    };
    long long v = -7;

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        assert_int_equal(pb(good[i].in, &v), SRV_PARSE_OK);
        assert_true(v == good[i].out);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        v = -7;
        assert_int_equal(pb(invalid[i], &v), SRV_PARSE_INVALID);
        assert_true(v == -7); /* untouched on error */
    }
    assert_int_equal(pb("9223372036854775808", &v), SRV_PARSE_OVERFLOW);
    assert_int_equal(pb("8589934592gb", &v), SRV_PARSE_OVERFLOW); /* exactly 2^63 */
    assert_int_equal(pb("99999999999999999999999", &v), SRV_PARSE_OVERFLOW);
    assert_int_equal(pb("99999999999999999999999x", &v), SRV_PARSE_INVALID);
    assert_int_equal(srv_parse_bytes("12kbXX", 4, &v), SRV_PARSE_OK); /* the length rules */
    assert_true(v == 12288);
}

static void test_parse_seconds(void **state)
{
    long long v = -7;

    (void)state;
    assert_int_equal(ps("0", &v), SRV_PARSE_OK);
    assert_true(v == 0);
    assert_int_equal(ps("30", &v), SRV_PARSE_OK);
    assert_true(v == 30);
    assert_int_equal(ps("30s", &v), SRV_PARSE_OK);
    assert_true(v == 30);
    assert_int_equal(ps("5m", &v), SRV_PARSE_OK);
    assert_true(v == 300);
    assert_int_equal(ps("2h", &v), SRV_PARSE_OK);
    assert_true(v == 7200);
    assert_int_equal(ps("7d", &v), SRV_PARSE_OK);
    assert_true(v == 604800);
    assert_int_equal(ps("7D", &v), SRV_PARSE_OK);
    assert_true(v == 604800);
    assert_int_equal(ps("106751991167300d", &v), SRV_PARSE_OK);
    assert_int_equal(ps("106751991167301d", &v), SRV_PARSE_OVERFLOW);
    v = -7;
    assert_int_equal(ps("", &v), SRV_PARSE_INVALID);
    assert_int_equal(ps("s", &v), SRV_PARSE_INVALID);
    assert_int_equal(ps("-5", &v), SRV_PARSE_INVALID);
    assert_int_equal(ps("1w", &v), SRV_PARSE_INVALID);
    assert_int_equal(ps("1ms", &v), SRV_PARSE_INVALID);
    assert_int_equal(ps("1h30m", &v), SRV_PARSE_INVALID);
    assert_int_equal(ps("1.5h", &v), SRV_PARSE_INVALID);
    assert_true(v == -7);
}

static void test_parse_ll(void **state)
{
    long long v = -7;

    (void)state;
    assert_int_equal(pl("0", &v), SRV_PARSE_OK);
    assert_true(v == 0);
    assert_int_equal(pl("-42", &v), SRV_PARSE_OK);
    assert_true(v == -42);
    assert_int_equal(pl("007", &v), SRV_PARSE_OK);
    assert_true(v == 7);
    assert_int_equal(pl("9223372036854775807", &v), SRV_PARSE_OK);
    assert_true(v == LLONG_MAX);
    assert_int_equal(pl("-9223372036854775808", &v), SRV_PARSE_OK);
    assert_true(v == LLONG_MIN);
    assert_int_equal(pl("9223372036854775808", &v), SRV_PARSE_OVERFLOW);
    assert_int_equal(pl("-9223372036854775809", &v), SRV_PARSE_OVERFLOW);
    assert_int_equal(pl("18446744073709551616", &v), SRV_PARSE_OVERFLOW);
    v = -7;
    assert_int_equal(pl("", &v), SRV_PARSE_INVALID);
    assert_int_equal(pl("-", &v), SRV_PARSE_INVALID);
    assert_int_equal(pl("--1", &v), SRV_PARSE_INVALID);
    assert_int_equal(pl("+1", &v), SRV_PARSE_INVALID);
    assert_int_equal(pl("1e3", &v), SRV_PARSE_INVALID);
    assert_int_equal(pl(" 1", &v), SRV_PARSE_INVALID);
    assert_int_equal(pl("1k", &v), SRV_PARSE_INVALID);
    assert_true(v == -7);
    assert_int_equal(srv_parse_ll("123abc", 3, &v), SRV_PARSE_OK);
    assert_true(v == 123);
}

static void test_parse_bool(void **state)
{
    static const char *const yes[] = {"yes", "YES", "Yes", "true", "True", "on", "ON"};
    static const char *const no[] = {"no", "NO", "false", "FALSE", "off", "Off"};
    static const char *const bad[] = {"", "y", "n", "1", "0", "yess", "nope", " yes"};
    int v;

    (void)state;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        v = -1;
        assert_int_equal(srv_parse_bool(yes[i], strlen(yes[i]), &v), SRV_PARSE_OK);
        assert_int_equal(v, 1);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        v = -1;
        assert_int_equal(srv_parse_bool(no[i], strlen(no[i]), &v), SRV_PARSE_OK);
        assert_int_equal(v, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(srv_parse_bool(bad[i], strlen(bad[i]), &v), SRV_PARSE_INVALID);
}

static void test_strcaseeq_len(void **state)
{
    (void)state;
    assert_true(srv_strcaseeq_len("abc", 3, "ABC"));
    assert_true(srv_strcaseeq_len("", 0, ""));
    assert_false(srv_strcaseeq_len("ab", 2, "abc"));
    assert_false(srv_strcaseeq_len("abcd", 4, "abc"));
    assert_true(srv_strcaseeq_len("abcd", 3, "abc"));
    assert_false(srv_strcaseeq_len("a\0c", 3, "a"));
}

static void test_format_bytes(void **state)
{
    static const struct {
        long long n;
        const char *text;
    } cases[] = {
        {0, "0"},           {1, "1"},          {1000, "1000"},   {1024, "1kb"},
        {1536, "1536"},     {1572864, "1536kb"}, {536870912, "512mb"}, {1073741824, "1gb"},
        {LLONG_MAX, "9223372036854775807"},
    };
    char buf[32];
    long long back;

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(srv_format_bytes(cases[i].n, buf, sizeof buf), strlen(cases[i].text));
        assert_string_equal(buf, cases[i].text);
        assert_int_equal(pb(buf, &back), SRV_PARSE_OK);
        assert_true(back == cases[i].n);
    }
    assert_int_equal(srv_format_bytes(536870912, buf, 3), 5); /* snprintf rules */
    assert_string_equal(buf, "51");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_basics),
        cmocka_unit_test(test_glob_redis_doc_examples),
        cmocka_unit_test(test_glob_classes),
        cmocka_unit_test(test_glob_escapes),
        cmocka_unit_test(test_glob_nocase),
        cmocka_unit_test(test_glob_binary),
        cmocka_unit_test(test_glob_nested_stars_are_not_exponential),
        cmocka_unit_test(test_glob_matches_reference),
        cmocka_unit_test(test_parse_bytes),
        cmocka_unit_test(test_parse_seconds),
        cmocka_unit_test(test_parse_ll),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_strcaseeq_len),
        cmocka_unit_test(test_format_bytes),
    };
    return cmocka_run_group_tests_name("server/util", tests, NULL, NULL);
}
