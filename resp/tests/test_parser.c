/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_parser.c: multibulk requests, protocol errors, limits, resp_parser_need(), moving
 * buffers, allocation behaviour and NOMEM.  Inline requests are in test_inline.c.
 *
 * Every expected transcript below was checked against redis-server 7.0.15 (same requests, same
 * accept/reject decisions and error texts); the feed harness (mock_feed.c) then requires the same
 * transcript for every way of splitting the input.
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

#define E_MB "error -1 \"Protocol error: invalid multibulk length\"\n"
#define E_BULK "error -1 \"Protocol error: invalid bulk length\"\n"

static const feed_case good_cases[] = {
    CASE("*1\r\n$4\r\nPING\r\n", "ok 14 \"PING\"\n" MORE0),
    CASE("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", "ok 26 \"SET\" \"k\" \"\"\n" MORE0),
    /* Binary payloads: NUL, CR and LF inside a bulk are data. */
    CASE("*2\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n", "ok 25 \"ECHO\" \"a\\x00\\r\\nb\"\n" MORE0),
    CASE("*1\r\n$10\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
         "ok 21 \"\\r\\n\\r\\n\\r\\n\\r\\n\\r\\n\"\n" MORE0),
    CASE("*2\r\n$1\r\n*\r\n$1\r\n$\r\n", "ok 18 \"*\" \"$\"\n" MORE0),
    CASE("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
         "ok 14 \"PING\"\nok 22 \"GET\" \"key\"\n" MORE0),
    /* Redis checks neither the byte after a header's CR nor the two bytes after a payload. */
    CASE("*1\rX$4\r\nPING\r\n", "ok 14 \"PING\"\n" MORE0),
    CASE("*1\r\n$4\rXPING\r\n", "ok 14 \"PING\"\n" MORE0),
    CASE("*1\r\n$4\r\nPINGXY", "ok 14 \"PING\"\n" MORE0),
    /* Counts <= 0 are empty requests, consumed silently. */
    CASE("*0\r\n", "ok 4\n" MORE0),
    CASE("*-1\r\n", "ok 5\n" MORE0),
    CASE("*-10\r\n", "ok 6\n" MORE0),
    CASE("*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n", "ok 4\nok 5\nok 14 \"PING\"\n" MORE0),
};

static void test_good_requests(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++)
        feed_expect(&lim, good_cases[i].in, good_cases[i].len, good_cases[i].want);
}

/* Partial requests: what need() asks for at the end of the stream. */
static void test_partial_requests(void **state)
{
    resp_limits lim = feed_default_limits();

    (void)state;
    feed_expect(&lim, S(""), MORE0);
    feed_expect(&lim, S("*"), "more need=2 busy=1\n");
    feed_expect(&lim, S("*1"), "more need=3 busy=1\n");
    feed_expect(&lim, S("*1\r"), "more need=4 busy=1\n"); /* the byte after CR */
    feed_expect(&lim, S("*1\r\n"), "more need=5 busy=1\n");
    feed_expect(&lim, S("*1\r\n$4"), "more need=7 busy=1\n");
    feed_expect(&lim, S("*1\r\n$4\r"), "more need=8 busy=1\n");
    feed_expect(&lim, S("*1\r\n$4\r\n"), "more need=14 busy=1\n"); /* payload + CRLF */
    feed_expect(&lim, S("*1\r\n$4\r\nPI"), "more need=14 busy=1\n");
    feed_expect(&lim, S("*1\r\n$4\r\nPING\r"), "more need=14 busy=1\n");
    feed_expect(&lim, S("*2\r\n$4\r\nECHO\r\n$100\r\n"), "more need=122 busy=1\n");
    /* "*2147483647" alone is a valid start of a request. */
    feed_expect(&lim, S("*2147483647\r\n$1\r\na\r\n"), "more need=21 busy=1\n");
    feed_expect(&lim, S("*1\r\n$536870912\r\n"), "more need=536870930 busy=1\n");
    /* A header whose first byte is wrong fails only once its CR and one more byte are there. */
    feed_expect(&lim, S("*1\r\nx\r"), "more need=7 busy=1\n");
}

static const feed_case error_cases[] = {
    /* invalid multibulk length: not a string2ll number, or over the limit */
    CASE("*abc\r\n", E_MB),
    CASE("*\r\n", E_MB),
    CASE("*-0\r\n", E_MB),
    CASE("*+1\r\n", E_MB),
    CASE("*01\r\n", E_MB),
    CASE("* 1\r\n", E_MB),
    CASE("*1 \r\n", E_MB),
    CASE("*2147483648\r\n", E_MB),
    CASE("*99999999999999999999\r\n", E_MB),
    CASE("*x\r", "more need=4 busy=1\n"),
    /* expected '$' (the byte printed as Redis's %c does; the server maps CR/LF to spaces) */
    CASE("*1\r\nfoo\r\n", "error -1 \"Protocol error: expected '$', got 'f'\"\n"),
    CASE("*1\r\n\r\n", "error -1 \"Protocol error: expected '$', got '\\r'\"\n"),
    CASE("*1\r\n\xff" "4\r\nPING\r\n", "error -1 \"Protocol error: expected '$', got '\\xff'\"\n"),
    CASE("*2\r\n$3\r\nGET\r\n:1\r\n", "error -1 \"Protocol error: expected '$', got ':'\"\n"),
    CASE("*1\r\n$4\r\nPING\r\n*1\r\n*4\r\nPING\r\n",
         "ok 14 \"PING\"\nerror -1 \"Protocol error: expected '$', got '*'\"\n"),
    /* invalid bulk length: not a number, negative, or over proto-max-bulk-len */
    CASE("*1\r\n$-1\r\n", E_BULK),
    CASE("*1\r\n$-0\r\n", E_BULK),
    CASE("*1\r\n$-100\r\n", E_BULK),
    CASE("*1\r\n$\r\n", E_BULK),
    CASE("*1\r\n$ 4\r\nPING\r\n", E_BULK),
    CASE("*1\r\n$+4\r\nPING\r\n", E_BULK),
    CASE("*1\r\n$04\r\nPING\r\n", E_BULK),
    CASE("*1\r\n$abc\r\n", E_BULK),
    CASE("*1\r\n$536870913\r\n", E_BULK),
    CASE("*1\r\n$9223372036854775808\r\n", E_BULK),
    CASE("*2\r\n$3\r\nGET\r\n$-1\r\n", E_BULK),
};

static void test_protocol_errors(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++)
        feed_expect(&lim, error_cases[i].in, error_cases[i].len, error_cases[i].want);
}

static void test_custom_limits(void **state)
{
    resp_limits lim = feed_default_limits();

    (void)state;
    lim.max_multibulk_len = 3;
    lim.max_bulk_len = 5;
    feed_expect(&lim, S("*3\r\n$5\r\nabcde\r\n$0\r\n\r\n$1\r\nx\r\n"),
                "ok 28 \"abcde\" \"\" \"x\"\n" MORE0);
    feed_expect(&lim, S("*4\r\n"), E_MB);
    feed_expect(&lim, S("*1\r\n$6\r\n"), E_BULK);
}

static void test_unauthenticated_limits(void **state)
{
    resp_limits lim = feed_default_limits();
    char *big;
    size_t n;

    (void)state;
    lim.unauthenticated = 1;
    feed_expect(&lim, S("*11\r\n"),
                "error -1 \"Protocol error: unauthenticated multibulk length\"\n");
    feed_expect(&lim, S("*10\r\n$16385\r\n"),
                "error -1 \"Protocol error: unauthenticated bulk length\"\n");
    /* Redis checks "invalid" before "unauthenticated". */
    feed_expect(&lim, S("*2147483648\r\n"), E_MB);
    feed_expect(&lim, S("*abc\r\n"), E_MB);
    feed_expect(&lim, S("*1\r\n$-1\r\n"), E_BULK);
    feed_expect(&lim, S("*1\r\n$600000000\r\n"), E_BULK);
    /* At the caps exactly, and empty requests, are fine. */
    feed_expect(&lim, S("*10\r\n$16384\r\n"), "more need=16399 busy=1\n");
    feed_expect(&lim, S("*-100\r\n"), "ok 7\n" MORE0);

    n = 4 + 8 + 16384 + 2;
    big = malloc(n);
    assert_non_null(big);
    memcpy(big, "*1\r\n$16384\r\n", 12);
    memset(big + 12, 'a', 16384);
    memcpy(big + 12 + 16384, "\r\n", 2);
    {
        char *t = feed_check(&lim, big, n, NULL, 0);
        assert_true(strncmp(t, "ok 16398 \"aaa", 13) == 0);
        free(t);
    }
    free(big);
}

/* A line with no terminator within RESP_INLINE_MAX bytes of its start. */
static void test_too_big_count_strings(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t n = 4 + RESP_INLINE_MAX + 8;
    char *buf = malloc(n);
    char *t;

    (void)state;
    assert_non_null(buf);

    /* "*" and 65536 more bytes without CR: too big.  One byte less: still waiting. */
    memset(buf, '1', n);
    buf[0] = '*';
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 1, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big mbulk count string\"\n", "mbulk");
    free(t);
    t = feed_check(&lim, buf, RESP_INLINE_MAX, NULL, 0);
    feed_same(t, "more need=65537 busy=1\n", "mbulk, one short");
    free(t);

    /* A CR at offset 65536 is still seen (the count is then invalid); at 65537 it is not. */
    memset(buf + 1, ' ', n - 1);
    memcpy(buf + RESP_INLINE_MAX, "\r\n", 2);
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 2, NULL, 0);
    feed_same(t, E_MB, "mbulk CR at limit");
    free(t);
    memset(buf + 1, ' ', n - 1);
    memcpy(buf + RESP_INLINE_MAX + 1, "\r\n", 2);
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 3, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big mbulk count string\"\n",
              "mbulk CR past limit");
    free(t);

    /* The same for a bulk header, counted from the header's start (offset 4). */
    memset(buf, '1', n);
    memcpy(buf, "*1\r\n$", 5);
    t = feed_check(&lim, buf, 4 + RESP_INLINE_MAX + 1, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big bulk count string\"\n", "bulk");
    free(t);
    t = feed_check(&lim, buf, 4 + RESP_INLINE_MAX, NULL, 0);
    feed_same(t, "more need=65541 busy=1\n", "bulk, one short");
    free(t);
    free(buf);
}

/* Redis finds CR with strchr(): a NUL before it hides it, so the request can only end in the
 * "too big" error once more than RESP_INLINE_MAX bytes follow the line's start. */
static void test_nul_hides_terminator(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t n = 20 + RESP_INLINE_MAX + 8;
    char *buf = malloc(n);
    char *t;

    (void)state;
    assert_non_null(buf);
    memset(buf, 'x', n);
    memcpy(buf, "*\0\r\n", 4);
    t = feed_check(&lim, buf, RESP_INLINE_MAX, NULL, 0);
    feed_same(t, "more need=65537 busy=1\n", "mbulk NUL, waiting");
    free(t);
    t = feed_check(&lim, buf, RESP_INLINE_MAX + 1, NULL, 0);
    feed_same(t, "error -1 \"Protocol error: too big mbulk count string\"\n", "mbulk NUL");
    free(t);

    /* Bytes after the NUL are never looked at, even complete requests. */
    memset(buf, 'x', n);
    memcpy(buf, "*1\r\n$4\r\nPING\r\n*1\r\n$\0\r\n*1\r\n$4\r\nPING\r\n", 36);
    t = feed_check(&lim, buf, 36, NULL, 1);
    feed_same(t, "ok 14 \"PING\"\nmore need=65541 busy=1\n", "bulk NUL, waiting");
    free(t);
    t = feed_check(&lim, buf, 14 + 4 + RESP_INLINE_MAX + 1, NULL, 0);
    feed_same(t, "ok 14 \"PING\"\nerror -1 \"Protocol error: too big bulk count string\"\n",
              "bulk NUL");
    free(t);
    free(buf);
}

/* 10000 arguments in one request; argv grows geometrically, never from the count. */
static void test_many_arguments(void **state)
{
    enum { NARGS = 10000 };
    resp_limits lim = feed_default_limits();
    size_t cap = 16 + NARGS * 16, n = 0, wn = 0, used;
    char *buf = malloc(cap), *want = malloc(cap + 64);
    resp_parser p;
    long allocs;
    int i;

    (void)state;
    assert_non_null(buf);
    assert_non_null(want);
    n += (size_t)sprintf(buf + n, "*%d\r\n", NARGS);
    for (i = 0; i < NARGS; i++) {
        char arg[16];
        int len = sprintf(arg, "a%d", i);
        n += (size_t)sprintf(buf + n, "$%d\r\n%s\r\n", len, arg);
    }
    wn += (size_t)sprintf(want, "ok %zu", n);
    for (i = 0; i < NARGS; i++)
        wn += (size_t)sprintf(want + wn, " \"a%d\"", i);
    strcpy(want + wn, "\n" MORE0);
    free(feed_check(&lim, buf, n, want, 0));

    mock_alloc_install();
    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, buf, n, &used), RESP_OK);
    assert_int_equal(used, n);
    assert_int_equal(resp_parser_argc(&p), NARGS);
    assert_true(p.argv_cap >= NARGS && p.argv_cap < 2 * NARGS);
    allocs = mock_alloc_calls();
    assert_true(allocs <= 2 * 11); /* 16 -> 16384 in doublings, two arrays */
    /* Steady state: the same request again allocates nothing. */
    assert_int_equal(resp_parser_parse(&p, buf, n, &used), RESP_OK);
    assert_int_equal(mock_alloc_calls(), allocs);
    resp_parser_deinit(&p);

    /* A huge count allocates only for the arguments that arrive. */
    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, S("*2147483647\r\n$1\r\na\r\n$1\r\nb\r\n"), &used),
                     RESP_NEED_MORE);
    assert_int_equal(p.argv_cap, 16);
    assert_int_equal(mock_alloc_calls(), allocs + 2);
    resp_parser_deinit(&p);
    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, S("*2147483647\r\n"), &used), RESP_NEED_MORE);
    assert_int_equal(p.argv_cap, 0);
    resp_parser_deinit(&p);
    mock_alloc_uninstall();
    free(buf);
    free(want);
}

/* A 1 MiB argument: need() asks for the whole payload at once, and nothing is scanned twice. */
static void test_large_bulk(void **state)
{
    enum { BIG = 1 << 20 };
    resp_limits lim = feed_default_limits();
    const char *hdr = "*2\r\n$3\r\nSET\r\n$1048576\r\n";
    size_t hl = strlen(hdr), n = hl + BIG + 2, used, i;
    char *buf = malloc(n);
    char *t;
    resp_parser p;

    (void)state;
    assert_non_null(buf);
    memcpy(buf, hdr, hl);
    for (i = 0; i < BIG; i++)
        buf[hl + i] = (char)('a' + i % 26);
    memcpy(buf + hl + 12345, "\r\n\0", 3);
    memcpy(buf + n - 2, "\r\n", 2);

    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, buf, hl, &used), RESP_NEED_MORE);
    assert_int_equal(resp_parser_need(&p), n);
    assert_true(resp_parser_busy(&p));
    assert_int_equal(resp_parser_parse(&p, buf, n - 1, &used), RESP_NEED_MORE);
    assert_int_equal(resp_parser_need(&p), n);
    assert_int_equal(resp_parser_parse(&p, buf, n, &used), RESP_OK);
    assert_int_equal(used, n);
    assert_int_equal(resp_parser_argc(&p), 2);
    assert_ptr_equal(resp_parser_argv(&p)[1].ptr, buf + hl);
    assert_int_equal(resp_parser_argv(&p)[1].len, BIG);
    assert_false(resp_parser_busy(&p));
    resp_parser_deinit(&p);

    t = feed_check(&lim, buf, n, NULL, 0);
    assert_true(strncmp(t, "ok 1048601 \"SET\" \"abcdef", 24) == 0);
    assert_non_null(strstr(t, "\\r\\n\\x00"));
    assert_non_null(strstr(t, "\"\n" MORE0));
    free(t);
    free(buf);
}

/* The buffer moves between NEED_MORE calls; arguments point into the last one passed. */
static void test_buffer_moves(void **state)
{
    resp_limits lim = feed_default_limits();
    const char *req = "*2\r\n$3\r\nGET\r\n$5\r\nhello\r\n";
    size_t n = strlen(req), k, used;
    resp_parser p;

    (void)state;
    resp_parser_init(&p, &lim);
    for (k = 0; k < n; k++) {
        char *a = malloc(k + 1), *b = malloc(n);
        assert_non_null(a);
        assert_non_null(b);
        memcpy(a, req, k);
        assert_int_equal(resp_parser_parse(&p, a, k, &used), RESP_NEED_MORE);
        free(a);
        memcpy(b, req, n);
        assert_int_equal(resp_parser_parse(&p, b, n, &used), RESP_OK);
        assert_int_equal(used, n);
        assert_ptr_equal(resp_parser_argv(&p)[0].ptr, b + 8);
        assert_ptr_equal(resp_parser_argv(&p)[1].ptr, b + 17);
        assert_memory_equal(resp_parser_argv(&p)[1].ptr, "hello", 5);
        free(b);
    }
    resp_parser_deinit(&p);
}

static void test_need(void **state)
{
    resp_limits lim = feed_default_limits();
    resp_parser p;
    size_t used;

    (void)state;
    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_need(&p), 1);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$5\r\nhel"), &used), RESP_NEED_MORE);
    assert_int_equal(resp_parser_need(&p), 15);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$5\r\nhello\r\n"), &used), RESP_OK);
    assert_int_equal(resp_parser_need(&p), 1);
    assert_int_equal(resp_parser_parse(&p, S("*1\r"), &used), RESP_NEED_MORE);
    assert_int_equal(resp_parser_need(&p), 4);
    resp_parser_deinit(&p);
}

static void test_reset_and_limits(void **state)
{
    resp_limits lim = feed_default_limits();
    resp_parser p;
    size_t used;

    (void)state;
    lim.unauthenticated = 1;
    resp_parser_init(&p, &lim);
    assert_string_equal(resp_parser_errstr(&p), "");

    /* A partial request is forgotten by reset. */
    assert_int_equal(resp_parser_parse(&p, S("*3\r\n$3\r\nSET\r\n$1"), &used), RESP_NEED_MORE);
    assert_true(resp_parser_busy(&p));
    resp_parser_reset(&p);
    assert_false(resp_parser_busy(&p));
    assert_int_equal(resp_parser_argc(&p), 0);
    assert_int_equal(resp_parser_parse(&p, S("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n"), &used), RESP_OK);
    assert_int_equal(resp_parser_argc(&p), 2);

    /* Pre-AUTH caps, then AUTH succeeds and the caps go. */
    assert_int_equal(resp_parser_parse(&p, S("*11\r\n"), &used), RESP_ERR_PROTOCOL);
    assert_string_equal(resp_parser_errstr(&p), "Protocol error: unauthenticated multibulk length");
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$1\r\nx\r\n"), &used), RESP_ERR_PROTOCOL);
    resp_parser_reset(&p);
    assert_string_equal(resp_parser_errstr(&p), "");
    lim.unauthenticated = 0;
    resp_parser_set_limits(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, S("*11\r\n"), &used), RESP_NEED_MORE);
    resp_parser_reset(&p);

    /* deinit then init again. */
    resp_parser_deinit(&p);
    resp_parser_init(&p, &lim);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$4\r\nPING\r\n"), &used), RESP_OK);
    resp_parser_deinit(&p);
    resp_parser_deinit(&p); /* twice is harmless */
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(resp_strerror(RESP_OK), "ok");
    assert_string_equal(resp_strerror(RESP_NEED_MORE), "need more data");
    assert_string_equal(resp_strerror(RESP_ERR_PROTOCOL), "protocol error");
    assert_string_equal(resp_strerror(RESP_ERR_NOMEM), "out of memory");
    assert_string_equal(resp_strerror(12345), "unknown error");
}

static int teardown_alloc(void **state)
{
    (void)state;
    mock_alloc_uninstall();
    return 0;
}

static void test_nomem(void **state)
{
    resp_limits lim = feed_default_limits();
    resp_parser p;
    size_t used;

    (void)state;
    mock_alloc_install();

    /* The first argv allocation fails. */
    resp_parser_init(&p, &lim);
    mock_alloc_fail_after(0);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$4\r\nPING\r\n"), &used), RESP_ERR_NOMEM);
    assert_int_equal(used, 0);
    assert_string_equal(resp_parser_errstr(&p), "out of memory");
    /* Sticky, even once memory is back. */
    mock_alloc_fail_after(-1);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$4\r\nPING\r\n"), &used), RESP_ERR_NOMEM);
    resp_parser_reset(&p);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$4\r\nPING\r\n"), &used), RESP_OK);
    resp_parser_deinit(&p);

    /* argv succeeds, arg_off fails: nothing leaks, and a retry after reset works. */
    resp_parser_init(&p, &lim);
    mock_alloc_fail_after(1);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$4\r\nPING\r\n"), &used), RESP_ERR_NOMEM);
    mock_alloc_fail_after(-1);
    resp_parser_reset(&p);
    assert_int_equal(resp_parser_parse(&p, S("*1\r\n$4\r\nPING\r\n"), &used), RESP_OK);
    resp_parser_deinit(&p);
}

/* Fail the k-th allocation for every k while parsing requests that grow every array. */
static void test_nomem_everywhere(void **state)
{
    resp_limits lim = feed_default_limits();
    char req[4096];
    size_t n = 0, used;
    long k;
    int i;

    (void)state;
    n += (size_t)sprintf(req + n, "*40\r\n");
    for (i = 0; i < 40; i++)
        n += (size_t)sprintf(req + n, "$2\r\n%02d\r\n", i);
    mock_alloc_install();
    for (k = 0; k < 12; k++) {
        resp_parser p;
        int rc;

        resp_parser_init(&p, &lim);
        mock_alloc_fail_after(k);
        rc = resp_parser_parse(&p, req, n, &used);
        if (rc == RESP_OK) {
            assert_int_equal(resp_parser_argc(&p), 40);
            rc = resp_parser_parse(&p, S("SET \"a b\" 'c d' e f g h i j k l m n o p q r s\r\n"),
                                   &used);
        }
        assert_true(rc == RESP_OK || rc == RESP_ERR_NOMEM);
        if (rc == RESP_OK)
            assert_int_equal(resp_parser_argc(&p), 18);
        else
            assert_int_equal(resp_parser_parse(&p, req, n, &used), RESP_ERR_NOMEM);
        resp_parser_deinit(&p);
    }
}

/* All complete cases above, concatenated, split everywhere. */
static void test_concatenated(void **state)
{
    resp_limits lim = feed_default_limits();
    size_t total = 0, wtotal = 0, i;
    char *in, *want;

    (void)state;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        total += good_cases[i].len;
        wtotal += strlen(good_cases[i].want);
    }
    in = malloc(total + 1);
    want = malloc(wtotal + 1);
    assert_non_null(in);
    assert_non_null(want);
    total = wtotal = 0;
    for (i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
        size_t wl = strlen(good_cases[i].want) - strlen(MORE0);
        memcpy(in + total, good_cases[i].in, good_cases[i].len);
        total += good_cases[i].len;
        memcpy(want + wtotal, good_cases[i].want, wl);
        wtotal += wl;
    }
    strcpy(want + wtotal, MORE0);
    feed_expect(&lim, in, total, want);
    free(in);
    free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_requests),
        cmocka_unit_test(test_partial_requests),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_custom_limits),
        cmocka_unit_test(test_unauthenticated_limits),
        cmocka_unit_test(test_too_big_count_strings),
        cmocka_unit_test(test_nul_hides_terminator),
        cmocka_unit_test_teardown(test_many_arguments, teardown_alloc),
        cmocka_unit_test(test_large_bulk),
        cmocka_unit_test(test_buffer_moves),
        cmocka_unit_test(test_need),
        cmocka_unit_test(test_reset_and_limits),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test_teardown(test_nomem, teardown_alloc),
        cmocka_unit_test_teardown(test_nomem_everywhere, teardown_alloc),
        cmocka_unit_test(test_concatenated),
    };
    return cmocka_run_group_tests_name("resp_parser", tests, NULL, NULL);
}
