/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reply.c: the reply encoder: a growable output buffer (resp_wbuf) and one resp_add_* function
 * per RESP2/RESP3 element a server sends.
 *
 * What: every resp_add_* appends one complete element, or an aggregate header whose elements the
 * caller appends next.  Functions taking `proto` write the RESP3 type for RESP3 and Redis 7.0's
 * RESP2 fallback otherwise (null -> "$-1", map -> flat array, double -> bulk string, ...).
 *
 * Why: the server renders all replies of one read callback into one buffer and writes it with
 * one syscall, as Redis does with its 16 KiB static reply buffer.  Each element is produced with
 * one reserve (a capacity check) and straight stores into the buffer; integers are formatted by
 * number.c, never by printf.  Only doubles use snprintf, because "%.17g" is the exact text Redis
 * 7.0 sends and reproducing it by hand would be a liability.  Rejected: a chunk list like Redis's
 * reply list; one contiguous buffer is simpler, and backpressure (STYLE.md 8.7) bounds it.
 *
 * Out of memory: the first failed allocation sets b->err to RESP_ERR_NOMEM; from then on every
 * append is ignored and resp_wbuf_reserve() returns NULL, so callers check once per batch
 * (resp_wbuf_failed()) instead of after every element.  Invariant: b->len <= b->cap, and
 * b->err != 0 means the contents are incomplete and must not be sent.
 *
 * Threading: none; a resp_wbuf belongs to one connection.  Start reading at wbuf_room().
 */
#include "resp.h"

#include "alloc_internal.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First allocation of a buffer, in bytes: enough for typical small replies; growth doubles. */
#define WBUF_INITIAL 256

/* Longest header: type byte, "-9223372036854775808" (20 digits) and CRLF. */
#define HEADER_MAX (1 + 20 + 2)

/* Longest "%.17g" text: sign, 17 digits, point, "e-308": about 24 bytes; with margin. */
#define DOUBLE_TEXT_MAX 32

void resp_wbuf_init(resp_wbuf *b) { memset(b, 0, sizeof(*b)); }

void resp_wbuf_deinit(resp_wbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* Grow so that n more bytes fit; returns 0 or -1 (b->err set). */
static int wbuf_grow(resp_wbuf *b, size_t n)
{
    size_t need, cap;
    char *d;

    /* No object may exceed PTRDIFF_MAX bytes; asking malloc for more is pointless. */
    if (n > (size_t)PTRDIFF_MAX - b->len)
        goto nomem;
    need = b->len + n;
    cap = b->cap > 0 ? b->cap : WBUF_INITIAL;
    while (cap < need) {
        if (cap > (size_t)PTRDIFF_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    d = resp_realloc(b->data, cap);
    if (d == NULL)
        goto nomem;
    b->data = d;
    b->cap = cap;
    return 0;
nomem:
    b->err = RESP_ERR_NOMEM;
    return -1;
}

/* Where n more bytes go, or NULL once the buffer has failed. */
static char *wbuf_room(resp_wbuf *b, size_t n)
{
    if (b->err != 0)
        return NULL;
    if (b->data == NULL || b->cap - b->len < n) {
        if (wbuf_grow(b, n) != 0)
            return NULL;
    }
    return b->data + b->len;
}

char *resp_wbuf_reserve(resp_wbuf *b, size_t n) { return wbuf_room(b, n); }

void resp_wbuf_consume(resp_wbuf *b, size_t n)
{
    assert(n <= b->len);
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void resp_wbuf_shrink(resp_wbuf *b, size_t keep)
{
    size_t want = b->len > keep ? b->len : keep;
    char *d;

    if (want >= b->cap)
        return;
    if (want == 0) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
        return;
    }
    /* A failed shrink keeps the larger block: nothing is lost, so it is not an error. */
    d = resp_realloc(b->data, want);
    if (d != NULL) {
        b->data = d;
        b->cap = want;
    }
}

/* Write "<type><n>\r\n" at w; returns the end. */
static char *put_header(char *w, char type, long long n)
{
    *w++ = type;
    w += resp_ll_to_str(w, n);
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

static void commit_to(resp_wbuf *b, const char *end) { b->len = (size_t)(end - b->data); }

void resp_add_raw(resp_wbuf *b, const void *p, size_t len)
{
    char *w = wbuf_room(b, len);
    if (w == NULL)
        return;
    if (len > 0)
        memcpy(w, p, len);
    b->len += len;
}

/* "<type><bytes>\r\n" for simple strings and errors. */
static char *put_line(resp_wbuf *b, char type, const char *s, size_t len)
{
    char *w;

    if (len > SIZE_MAX - 3) {
        b->err = RESP_ERR_NOMEM;
        return NULL;
    }
    w = wbuf_room(b, len + 3);
    if (w == NULL)
        return NULL;
    *w++ = type;
    if (len > 0)
        memcpy(w, s, len);
    w[len] = '\r';
    w[len + 1] = '\n';
    b->len += len + 3;
    return w;
}

void resp_add_simple(resp_wbuf *b, const char *s, size_t len) { (void)put_line(b, '+', s, len); }

void resp_add_error(resp_wbuf *b, const char *s, size_t len)
{
    /* Redis maps CR and LF to spaces so that an error stays one protocol line. */
    char *text = put_line(b, '-', s, len);
    size_t i;

    if (text == NULL)
        return;
    for (i = 0; i < len; i++) {
        if (text[i] == '\r' || text[i] == '\n')
            text[i] = ' ';
    }
}

void resp_add_int(resp_wbuf *b, long long v)
{
    char *w = wbuf_room(b, HEADER_MAX);
    if (w != NULL)
        commit_to(b, put_header(w, ':', v));
}

void resp_add_bulk(resp_wbuf *b, const void *p, size_t len)
{
    char *w;

    if (len > SIZE_MAX - HEADER_MAX - 2) {
        b->err = RESP_ERR_NOMEM;
        return;
    }
    w = wbuf_room(b, HEADER_MAX + len + 2);
    if (w == NULL)
        return;
    w = put_header(w, '$', (long long)len);
    if (len > 0)
        memcpy(w, p, len);
    w += len;
    *w++ = '\r';
    *w++ = '\n';
    commit_to(b, w);
}

void resp_add_bulk_int(resp_wbuf *b, long long v)
{
    char digits[21];
    size_t n = resp_ll_to_str(digits, v);
    resp_add_bulk(b, digits, n);
}

void resp_add_null(resp_wbuf *b, int proto)
{
    if (proto == RESP3)
        resp_add_raw(b, "_\r\n", 3);
    else
        resp_add_raw(b, "$-1\r\n", 5);
}

void resp_add_null_array(resp_wbuf *b, int proto)
{
    if (proto == RESP3)
        resp_add_raw(b, "_\r\n", 3);
    else
        resp_add_raw(b, "*-1\r\n", 5);
}

static void add_header(resp_wbuf *b, char type, long long n)
{
    char *w = wbuf_room(b, HEADER_MAX);
    if (w != NULL)
        commit_to(b, put_header(w, type, n));
}

void resp_add_array(resp_wbuf *b, long long n) { add_header(b, '*', n); }

void resp_add_map(resp_wbuf *b, long long n, int proto)
{
    if (proto == RESP3)
        add_header(b, '%', n);
    else
        add_header(b, '*', 2 * n);
}

void resp_add_set(resp_wbuf *b, long long n, int proto)
{
    add_header(b, proto == RESP3 ? '~' : '*', n);
}

void resp_add_double(resp_wbuf *b, double v, int proto)
{
    char text[DOUBLE_TEXT_MAX];
    int n;

    /* Redis spells infinities itself (libc spellings vary); NaN is left to "%.17g", which gives
     * glibc's "nan" (or "-nan" when the sign bit is set), exactly what Redis 7.0 sends. */
    if (isinf(v)) {
        n = v > 0 ? 3 : 4;
        memcpy(text, v > 0 ? "inf" : "-inf", (size_t)n);
    } else {
        n = snprintf(text, sizeof(text), "%.17g", v);
        if (n < 0 || (size_t)n >= sizeof(text)) {
            b->err = RESP_ERR_NOMEM; /* cannot happen with %.17g; fail loudly if it does */
            return;
        }
    }
    if (proto == RESP3) {
        char *w = wbuf_room(b, (size_t)n + 3);
        if (w == NULL)
            return;
        *w++ = ',';
        memcpy(w, text, (size_t)n);
        w += n;
        *w++ = '\r';
        *w++ = '\n';
        commit_to(b, w);
    } else {
        resp_add_bulk(b, text, (size_t)n);
    }
}

void resp_add_bool(resp_wbuf *b, int v, int proto)
{
    if (proto == RESP3)
        resp_add_raw(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        resp_add_raw(b, v ? ":1\r\n" : ":0\r\n", 4);
}

void resp_add_verbatim(resp_wbuf *b, const char *fmt, const void *p, size_t len, int proto)
{
    char *w;

    if (proto != RESP3) {
        resp_add_bulk(b, p, len);
        return;
    }
    if (len > SIZE_MAX - HEADER_MAX - 6) {
        b->err = RESP_ERR_NOMEM;
        return;
    }
    w = wbuf_room(b, HEADER_MAX + 4 + len + 2);
    if (w == NULL)
        return;
    w = put_header(w, '=', (long long)len + 4);
    memcpy(w, fmt, 3);
    w[3] = ':';
    w += 4;
    if (len > 0)
        memcpy(w, p, len);
    w += len;
    *w++ = '\r';
    *w++ = '\n';
    commit_to(b, w);
}
