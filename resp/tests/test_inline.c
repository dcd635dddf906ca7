/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_inline.c: inline requests: line endings, blank lines, sdssplitargs() quoting rules,
 * unbalanced quotes, the 64 KiB line limit and its NUL quirk, scratch/argv growth and NOMEM.
 *
 * Expected arguments were checked against redis-server 7.0.15 (ECHO of each quoted form, and
 * the accept/reject decision and error text of each bad line).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resp_test.h"

#define UNBALANCED "error -1 \"Protocol error: unbalanced quotes in request\"\n"

static const feed_case good_cases[] = {
    /* Line endings: LF alone or CRLF; only one CR is stripped, further blanks are trimmed. */
    CASE("PING\r\n", "ok 6 \"PING\"\n" MORE0),
    CASE("PING\n", "ok 5 \"PING\"\n" MORE0),
    CASE("  ping  \r\n", "ok 10 \"ping\"\n" MORE0),
    CASE("\rPING\r\n", "ok 7 \"PING\"\n" MORE0),
    CASE("PING\r\r\n", "ok 7 \"PING\"\n" MORE0),
    /* Blank lines are empty requests (argc 0). */
    CASE("\r\n", "ok 2\n" MORE0),
    CASE("\n", "ok 1\n" MORE0),
    CASE("   \r\n", "ok 5\n" MORE0),
    CASE("\r\r\n", "ok 3\n" MORE0),
    CASE("\t \v\f\n", "ok 5\n" MORE0),
    CASE("a\n\nb\n", "ok 2 \"a\"\nok 1\nok 2 \"b\"\n" MORE0),
    CASE("A B\nC D\r\n", "ok 4 \"A\" \"B\"\nok 5 \"C\" \"D\"\n" MORE0),
    /* Separators: space, tab, CR, LF end an unquoted argument; \v and \f do not (but are
     * skipped as leading blanks). */
    CASE("SET a b\r\n", "ok 9 \"SET\" \"a\" \"b\"\n" MORE0),
    CASE("a\tb\r\n", "ok 5 \"a\" \"b\"\n" MORE0),
    CASE("a\rb\n", "ok 4 \"a\" \"b\"\n" MORE0),
    CASE("ECHO a\vb\r\n", "ok 10 \"ECHO\" \"a\\x0bb\"\n" MORE0),
    CASE("ECHO \v\fb\r\n", "ok 10 \"ECHO\" \"b\"\n" MORE0),
    CASE("ECHO \xc3\xa9\r\n", "ok 9 \"ECHO\" \"\\xc3\\xa9\"\n" MORE0),
    /* Inline is anything not starting with '*'. */
    CASE("$4\r\n", "ok 4 \"$4\"\n" MORE0),
    /* Double quotes: escapes, \xHH, any other escaped byte is itself. */
    CASE("ECHO \"a\\x41\\x4\\q\\n\"\r\n", "ok 21 \"ECHO\" \"aAx4q\\n\"\n" MORE0),
    CASE("ECHO \"\\x00\\X41\"\r\n", "ok 17 \"ECHO\" \"\\x00X41\"\n" MORE0),
    CASE("ECHO \"\\x4G\"\r\n", "ok 13 \"ECHO\" \"x4G\"\n" MORE0),
    CASE("ECHO \"\\xfF\"\r\n", "ok 13 \"ECHO\" \"\\xff\"\n" MORE0),
    CASE("ECHO \"a\\tb\\rc\\bd\\ae\\\\f\\\"g\"\r\n",
         "ok 28 \"ECHO\" \"a\\tb\\rc\\x08d\\x07e\\\\f\\\"g\"\n" MORE0),
    /* Single quotes: only \' is an escape. */
    CASE("ECHO 'a\\'b\\n'\r\n", "ok 15 \"ECHO\" \"a'b\\\\n\"\n" MORE0),
    CASE("ECHO 'a\\x41\\''\r\n", "ok 16 \"ECHO\" \"a\\\\x41'\"\n" MORE0),
    /* Empty quoted arguments are arguments. */
    CASE("ECHO \"\"\r\n", "ok 9 \"ECHO\" \"\"\n" MORE0),
    CASE("\"\"\r\n", "ok 4 \"\"\n" MORE0),
    CASE("\"a\" 'b'\t\"\"\n", "ok 11 \"a\" \"b\" \"\"\n" MORE0),
    /* A closing quote may be followed by any C isspace() byte, \v included. */
    CASE("ECHO \"a\"\v\r\n", "ok 11 \"ECHO\" \"a\"\n" MORE0),
    CASE("ECHO \"a\"\r\r\n", "ok 11 \"ECHO\" \"a\"\n" MORE0),
    /* A quote may open inside an argument. */
    CASE("ECHO a\"b c\" d\r\n", "ok 15 \"ECHO\" \"ab c\" \"d\"\n" MORE0),
    CASE("x\"\\\"\"\n", "ok 6 \"x\\\"\"\n" MORE0),
    CASE("SET k \"multi word\" 'single word'\n",
         "ok 33 \"SET\" \"k\" \"multi word\" \"single word\"\n" MORE0),
};

static void test_good_lines(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++)
        feed_expect(&lim, good_cases[i].in, good_cases[i].len, good_cases[i].want);
}

static void test_partial_lines(void **state)
{
    resp_limits lim = feed_default_limits();

    (void)state;
    feed_expect(&lim, S("PING"), "more need=5 busy=1\n");
    feed_expect(&lim, S("PING\r"), "more need=6 busy=1\n");
    feed_expect(&lim, S("PING\r\nPI"), "ok 6 \"PING\"\nmore need=3 busy=1\n");
    feed_expect(&lim, S("ECHO \"unterminated"), "more need=19 busy=1\n");
}

static const feed_case bad_cases[] = {
    CASE("ECHO \"a\"b\r\n", UNBALANCED),
    CASE("ECHO \"ab\r\n", UNBALANCED),
    CASE("ECHO 'ab\r\n", UNBALANCED),
    CASE("ECHO 'a'b\r\n", UNBALANCED),
    CASE("ECHO a\"b c\"d\r\n", UNBALANCED),
    CASE("ECHO \"a\\\"\r\n", UNBALANCED),
    CASE("ECHO \"a\\\r\n", UNBALANCED),
    CASE("'a''b'\n", UNBALANCED),
    CASE("\"\r\n", UNBALANCED),
    CASE("'\n", UNBALANCED),
    CASE("PING\r\nECHO \"x\r\nPING\r\n", "ok 6 \"PING\"\n" UNBALANCED),
};

static void test_unbalanced_quotes(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        feed_expect(&lim, bad_cases[i].in, bad_cases[i].len, bad_cases[i].want);
}

static void test_too_big_inline(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t n = RESP_INLINE_MAX + 64;
    char *buf = malloc(n);
    char *t;

    (void)state;
    assert_non_null(buf);
    memset(buf, 'a', n);
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 1, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big inline request\"\n", "no LF");
    free(t);
    t = feed_check(&lim, buf, RESP_INLINE_MAX, NULL, 0);
    feed_same(t, "more need=65537 busy=1\n", "no LF, one short");
    free(t);

    /* LF at offset 65536 (a 65536-byte line) is accepted, at 65537 it is not. */
    memcpy(buf, "ECHO ", 5);
    buf[RESP_INLINE_MAX] = '\n';
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 1, NULL, 0);
    assert_true(strncmp(t, "ok 65537 \"ECHO\" \"aaaa", 21) == 0);
    assert_non_null(strstr(t, "aaa\"\n" MORE0));
    free(t);
    buf[RESP_INLINE_MAX] = 'a';
    buf[RESP_INLINE_MAX + 1] = '\n';
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 2, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big inline request\"\n", "LF past limit");
    free(t);

    /* The window counts from the line's start, not from the buffer's. */
    memset(buf, 'a', n);
    memcpy(buf, "PING\r\n", 6);
    t = feed_check(&lim, buf, 6 + RESP_INLINE_MAX, NULL, 0);
    feed_same(t, "ok 6 \"PING\"\nmore need=65537 busy=1\n", "second line");
    free(t);
    free(buf);
}

/* Redis finds the LF with strchr(): a NUL hides it and every later line. */
static void test_nul_in_inline(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t n = 8 + RESP_INLINE_MAX;
    char *buf = malloc(n);
    char *t;

    (void)state;
    assert_non_null(buf);
    feed_expect(&lim, S("PING\0\r\nPING\r\n"), "more need=65537 busy=1\n");
    feed_expect(&lim, S("\0"), "more need=65537 busy=1\n");
    feed_expect(&lim, S("PING\r\nECHO a\0b\r\n"), "ok 6 \"PING\"\nmore need=65537 busy=1\n");
    memset(buf, 'x', n);
    memcpy(buf, "PING\0\r\n", 7);
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 1, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big inline request\"\n", "NUL");
    free(t);
    free(buf);
}

/* Many arguments and a long line grow argv and scratch; the same line again allocates nothing. */
static void test_growth_and_steady_state(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t n = 0, used;
    char *line = malloc(8000), *want = malloc(16000);
    size_t wn = 0;
    resp_parser p;
    long calls;
    int i;

    (void)state;
    assert_non_null(line);
    assert_non_null(want);
    for (i = 0; i < 1000; i++)
        n += (size_t)sprintf(line + n, i % 2 ? "'%d' " : "\"%d\" ", i);
    line[n++] = '\n';
    wn += (size_t)sprintf(want, "ok %zu", n);
    for (i = 0; i < 1000; i++)
        wn += (size_t)sprintf(want + wn, " \"%d\"", i);
    strcpy(want + wn, "\n" MORE0);
    free(feed_check(&lim, line, n, want, 0));

    mock_alloc_install();
    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, line, n, &used), RESP_OK);
    assert_int_equal(resp_parser_argc(&p), 1000);
    calls = mock_alloc_calls();
    assert_true(calls <= 2 * 7 + 8);
    for (i = 0; i < 3; i++) {
        assert_int_equal(resp_parser_parse(&p, line, n, &used), RESP_OK);
        assert_int_equal(resp_parser_parse(&p, S("SET a b\r\n"), &used), RESP_OK);
    }
    assert_int_equal(mock_alloc_calls(), calls);
    resp_parser_deinit(&p);
    mock_alloc_uninstall();
    free(line);
    free(want);
}

static void test_inline_nomem(void **state)
{
    resp_limits lim = feed_default_limits();
    resp_parser p;
    size_t used;

    (void)state;
    mock_alloc_install();
    resp_parser_init(&p, &lim);
    mock_alloc_fail_after(0); /* scratch */
    assert_int_equal(resp_parser_parse(&p, S("SET a b\r\n"), &used), RESP_ERR_NOMEM);
    assert_int_equal(used, 0);
    assert_string_equal(resp_parser_errstr(&p), "out of memory");
    resp_parser_reset(&p);
    mock_alloc_fail_after(1); /* argv after scratch */
    assert_int_equal(resp_parser_parse(&p, S("SET a b\r\n"), &used), RESP_ERR_NOMEM);
    resp_parser_reset(&p);
    mock_alloc_fail_after(-1);
    assert_int_equal(resp_parser_parse(&p, S("SET a b\r\n"), &used), RESP_OK);
    assert_int_equal(resp_parser_argc(&p), 3);
    /* A blank line allocates nothing at all. */
    resp_parser_deinit(&p);
    resp_parser_init(&p, &lim);
    mock_alloc_fail_after(0);
    assert_int_equal(resp_parser_parse(&p, S("  \r\n"), &used), RESP_OK);
    assert_int_equal(resp_parser_argc(&p), 0);
    resp_parser_deinit(&p);
}

static int teardown_alloc(void **state)
{
    (void)state;
    mock_alloc_uninstall();
    return 0;
}

/* Inline and multibulk requests mixed in one stream, split everywhere. */
static void test_concatenated(void **state)
{
    static const char tail_in[] = "*1\r\n$4\r\nPING\r\n";
    static const char tail_want[] = "ok 14 \"PING\"\n";
    resp_limits lim = feed_default_limits();
    size_t total = 0, wtotal = 0, i, ncase = sizeof(good_cases) / sizeof(good_cases[0]);
    char *in, *want;

    (void)state;
    for (i = 0; i < ncase; i++) {
        total += good_cases[i].len + sizeof(tail_in);
        wtotal += strlen(good_cases[i].want) + sizeof(tail_want);
    }
    in = malloc(total + 1);
    want = malloc(wtotal + sizeof(MORE0));
    assert_non_null(in);
    assert_non_null(want);
    total = wtotal = 0;
    for (i = 0; i < ncase; i++) {
        size_t wl = strlen(good_cases[i].want) - strlen(MORE0);
        memcpy(in + total, good_cases[i].in, good_cases[i].len);
        total += good_cases[i].len;
        memcpy(want + wtotal, good_cases[i].want, wl);
        wtotal += wl;
        if (i % 3 == 0) {
            memcpy(in + total, tail_in, sizeof(tail_in) - 1);
            total += sizeof(tail_in) - 1;
            memcpy(want + wtotal, tail_want, sizeof(tail_want) - 1);
            wtotal += sizeof(tail_want) - 1;
        }
    }
    strcpy(want + wtotal, MORE0);
    feed_expect(&lim, in, total, want);
    free(in);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_lines),
        cmocka_unit_test(test_partial_lines),
        cmocka_unit_test(test_unbalanced_quotes),
        cmocka_unit_test(test_too_big_inline),
        cmocka_unit_test(test_nul_in_inline),
        cmocka_unit_test_teardown(test_growth_and_steady_state, teardown_alloc),
        cmocka_unit_test_teardown(test_inline_nomem, teardown_alloc),
        cmocka_unit_test(test_concatenated),
    };
    return cmocka_run_group_tests_name("resp_inline", tests, NULL, NULL);
}
