/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_feed.c: the split-everywhere harness for the parser tests (STYLE.md section 9: "feed every
 * input split at every byte offset and get identical results").
 *
 * A simulated connection receives a byte stream in chunks, calls resp_parser_parse() until it
 * asks for more, drains consumed bytes, and writes what happened into a text transcript.  The
 * same stream fed all at once, byte by byte, split in two at every offset, in pseudo-random
 * chunks and exactly as resp_parser_need() asks must give the same transcript.  Along the way it
 * checks the contract of every call: *used is 0 unless RESP_OK, need() exceeds what is there,
 * busy() is set while a request is partial, errors are sticky, multibulk arguments point into
 * the buffer passed and inline ones do not.
 *
 * "Moving" runs hand each call a fresh malloc'd copy of exactly the unconsumed bytes and free it
 * afterwards, which is the worst case of a caller that reallocs its buffer: under valgrind or
 * ASan a parser that keeps an address or reads past `len` fails at once.
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

/* Streams up to this size also get byte-by-byte runs with a moving buffer. */
#define SMALL_STREAM 4096

typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_add(strbuf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = realloc(b->s, cap);
        assert_non_null(b->s);
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    assert_true(n >= 0 && (size_t)n < sizeof(tmp));
    sb_add(b, tmp, (size_t)n);
}

static int plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

static void sb_escaped(strbuf *b, const char *p, size_t n)
{
    size_t i = 0;

    sb_add(b, "\"", 1);
    while (i < n) {
        size_t run = i;
        unsigned char c;

        while (run < n && plain((unsigned char)p[run]))
            run++;
        sb_add(b, p + i, run - i); /* plain bytes in one go: the 1 MiB tests log a lot */
        if (run == n)
            break;
        c = (unsigned char)p[run];
        switch (c) {
        case '\r': sb_add(b, "\\r", 2); break;
        case '\n': sb_add(b, "\\n", 2); break;
        case '\t': sb_add(b, "\\t", 2); break;
        case '"': sb_add(b, "\\\"", 2); break;
        case '\\': sb_add(b, "\\\\", 2); break;
        default: sb_printf(b, "\\x%02x", c);
        }
        i = run + 1;
    }
    sb_add(b, "\"", 1);
}

struct conn {
    const char *in;
    size_t n;
    size_t consumed, received;
    int move;
    int failed; /* a sticky error was logged */
    resp_parser p;
    strbuf log;
};

static int inside(const char *ptr, const char *lo, size_t len)
{
    uintptr_t a = (uintptr_t)ptr, b = (uintptr_t)lo;
    return a >= b && a <= b + len;
}

static void log_request(struct conn *c, const char *buf, size_t avail, size_t used)
{
    int argc = resp_parser_argc(&c->p), i;
    const resp_arg *argv = resp_parser_argv(&c->p);
    int multibulk = buf[0] == '*';

    assert_true(used > 0 && used <= avail);
    assert_false(resp_parser_busy(&c->p));
    sb_printf(&c->log, "ok %zu", used);
    for (i = 0; i < argc; i++) {
        if (multibulk) {
            /* Multibulk arguments are slices of the caller's buffer, inside this request. */
            assert_true(inside(argv[i].ptr, buf, used));
            assert_true(inside(argv[i].ptr + argv[i].len, buf, used));
        } else {
            /* Inline arguments are unescaped into the parser's scratch. */
            assert_false(argv[i].len > 0 && inside(argv[i].ptr, buf, avail));
        }
        sb_add(&c->log, " ", 1);
        sb_escaped(&c->log, argv[i].ptr, argv[i].len);
    }
    sb_add(&c->log, "\n", 1);
}

/* Parse what has been received until the parser wants more or fails. */
static void drain(struct conn *c)
{
    while (!c->failed) {
        size_t avail = c->received - c->consumed;
        size_t used = 12345;
        const char *buf = c->in + c->consumed;
        char *copy = NULL;
        int rc;

        if (c->move) {
            copy = malloc(avail > 0 ? avail : 1);
            assert_non_null(copy);
            memcpy(copy, buf, avail);
            buf = copy;
        }
        rc = resp_parser_parse(&c->p, buf, avail, &used);
        if (rc == RESP_OK) {
            log_request(c, buf, avail, used);
            c->consumed += used;
        } else if (rc == RESP_NEED_MORE) {
            assert_int_equal(used, 0);
            assert_true(resp_parser_need(&c->p) > avail);
            assert_int_equal(resp_parser_busy(&c->p), avail > 0);
        } else {
            char text[sizeof(c->p.errstr)];
            assert_int_equal(used, 0);
            assert_true(rc == RESP_ERR_PROTOCOL || rc == RESP_ERR_NOMEM);
            sb_printf(&c->log, "error %d ", rc);
            sb_escaped(&c->log, resp_parser_errstr(&c->p), strlen(resp_parser_errstr(&c->p)));
            sb_add(&c->log, "\n", 1);
            /* Sticky: the same answer again, whatever the input. */
            strcpy(text, resp_parser_errstr(&c->p));
            used = 7;
            assert_int_equal(resp_parser_parse(&c->p, "*1\r\n$1\r\nx\r\n", 11, &used), rc);
            assert_int_equal(used, 0);
            assert_string_equal(resp_parser_errstr(&c->p), text);
            c->failed = 1;
        }
        free(copy);
        if (rc != RESP_OK)
            return;
    }
}

static void conn_init(struct conn *c, const resp_limits *lim, const char *in, size_t n, int move)
{
    memset(c, 0, sizeof(*c));
    c->in = in;
    c->n = n;
    c->move = move;
    resp_parser_init(&c->p, lim);
    sb_add(&c->log, "", 0);
}

static char *conn_finish(struct conn *c)
{
    if (!c->failed)
        sb_printf(&c->log, "more need=%zu busy=%d\n", resp_parser_need(&c->p),
                  resp_parser_busy(&c->p));
    resp_parser_deinit(&c->p);
    return c->log.s;
}

char *feed_run(const resp_limits *lim, const char *in, size_t n, const size_t *cuts, size_t ncuts,
               int move)
{
    struct conn c;
    size_t i;

    conn_init(&c, lim, in, n, move);
    for (i = 0; i <= ncuts && !c.failed; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        if (to > n || (to <= c.received && i < ncuts))
            continue;
        c.received = to;
        drain(&c);
    }
    return conn_finish(&c);
}

char *feed_run_need(const resp_limits *lim, const char *in, size_t n, int move)
{
    struct conn c;
    size_t fed_need = 0; /* the need we fed exactly, 0 when the last feed was not need-driven */
    size_t fed_at = 0;   /* c.consumed when we did */

    conn_init(&c, lim, in, n, move);
    for (;;) {
        size_t need, target;

        drain(&c);
        if (c.failed)
            break;
        need = resp_parser_need(&c.p);
        if (fed_need != 0 && c.consumed == fed_at)
            assert_true(need > fed_need); /* feeding exactly `need` bytes made progress */
        if (c.received == n)
            break;
        target = need > n - c.consumed ? n : c.consumed + need;
        fed_need = target == c.consumed + need ? need : 0;
        fed_at = c.consumed;
        c.received = target;
    }
    return conn_finish(&c);
}

void feed_same(const char *a, const char *b, const char *what)
{
    size_t i = 0;

    while (a[i] != '\0' && a[i] == b[i])
        i++;
    if (a[i] == b[i])
        return;
    {
        size_t from = i > 60 ? i - 60 : 0;
        print_error("%s: transcripts differ at byte %zu\n  got:  ...%.160s\n  want: ...%.160s\n",
                    what, i, a + from, b + from);
    }
    fail();
}

static void same_and_free(char *got, const char *want, const char *what)
{
    feed_same(got, want, what);
    free(got);
}

/* Deterministic pseudo-random numbers (a 64-bit LCG), so failures reproduce. */
static uint64_t lcg_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

char *feed_check(const resp_limits *lim, const char *in, size_t n, const char *expected,
                 int exhaustive)
{
    char *ref = feed_run(lim, in, n, NULL, 0, 0);
    size_t *cuts = NULL;
    size_t k, seed;
    char what[64];

    if (expected != NULL)
        feed_same(ref, expected, "all at once");
    same_and_free(feed_run(lim, in, n, NULL, 0, 1), ref, "all at once, moved");

    if (n > 1) {
        cuts = malloc((n - 1) * sizeof(*cuts));
        assert_non_null(cuts);
        for (k = 1; k < n; k++)
            cuts[k - 1] = k;
        same_and_free(feed_run(lim, in, n, cuts, n - 1, 0), ref, "byte by byte");
        if (exhaustive || n <= SMALL_STREAM)
            same_and_free(feed_run(lim, in, n, cuts, n - 1, 1), ref, "byte by byte, moved");
    }

    /* Two pieces, split at every offset (or at a sample of offsets for long streams). */
    for (k = 1; k < n; k++) {
        size_t step = n / 29 + 1;
        int near_limit = k + 3 >= RESP_INLINE_MAX && k <= RESP_INLINE_MAX + 8;
        if (!exhaustive && n > SMALL_STREAM && k > 8 && k + 8 < n && k % step != 0 && !near_limit)
            continue;
        snprintf(what, sizeof(what), "split at %zu", k);
        same_and_free(feed_run(lim, in, n, &k, 1, 1), ref, what);
    }

    /* Pseudo-random chunks. */
    for (seed = 1; seed <= 3 && n > 1; seed++) {
        uint64_t s = seed;
        size_t max_chunk = n / 32 > 8 ? n / 32 : 8, nc = 0, at = 0;
        while (at < n) {
            at += 1 + (size_t)(lcg_next(&s) % max_chunk);
            if (at < n)
                cuts[nc++] = at;
        }
        snprintf(what, sizeof(what), "random chunks, seed %zu", seed);
        same_and_free(feed_run(lim, in, n, cuts, nc, 1), ref, what);
    }
    free(cuts);

    same_and_free(feed_run_need(lim, in, n, 0), ref, "need-driven");
    /* Need-driven feeding goes byte by byte through lines, so moving is quadratic: small only. */
    if (exhaustive || n <= SMALL_STREAM)
        same_and_free(feed_run_need(lim, in, n, 1), ref, "need-driven, moved");
    return ref;
}

void feed_expect(const resp_limits *lim, const char *in, size_t n, const char *expected)
{
    free(feed_check(lim, in, n, expected, 1));
}

resp_limits feed_default_limits(void)
{
    resp_limits lim;

    lim.max_bulk_len = 512LL * 1024 * 1024;
    lim.max_multibulk_len = RESP_MULTIBULK_MAX;
    lim.unauthenticated = 0;
    return lim;
}
