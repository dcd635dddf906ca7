/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parser.c: the incremental request parser (multibulk and inline requests), behind resp.h.
 *
 * What: resp_parser_parse() turns the bytes of one client request into an argv of slices, with
 * exactly the acceptance rules, limits and error texts of Redis 7.0.15's processMultibulkBuffer()
 * and processInlineBuffer().  Inline argument splitting lives in inline.c.
 *
 * Why this design:
 *  - The parser does no I/O and owns no input buffer (hiredis's reader model): the connection
 *    keeps its bytes, passes the unconsumed part on every call, and drains *used bytes after a
 *    request.  The parser therefore stores only offsets from the request start (never addresses),
 *    so the caller may realloc or compact its buffer between calls.
 *  - Three distinct outcomes (OK, NEED_MORE, error).  Redis returns C_ERR both for "need bytes"
 *    and "bad protocol" and tells them apart with side flags; that is the bug class we avoid.
 *  - Multibulk arguments are not copied: argv points into the caller's buffer.  Redis copies
 *    every argument into an robj; we leave copying to ttl/ when it stores a value.
 *  - Rejected: a state machine driven byte by byte through a switch.  Here lines are found with
 *    a tight loop and payloads are skipped by length, which is simpler and faster.
 *
 * How it works: the request is a sequence of lines and payloads.  For a line, `scan` walks
 * forward looking for its terminator (CR for "*<n>" and "$<n>", LF for inline) and remembers in
 * `state` what it saw, so the next call continues where the last one stopped.  For a payload,
 * `bulk_start` and `bulk_len` say where it lies and the parser simply waits until the buffer
 * reaches bulk_start + bulk_len + 2 (resp_parser_need()), never looking at the payload bytes.
 *
 * Redis quirks kept on purpose, each checked against redis-server 7.0.15:
 *  - Redis finds terminators with strchr(), which stops at a NUL byte: a NUL before the CR/LF
 *    of a line hides every later terminator.  The request then never completes and fails with
 *    the "too big ..." error once more than RESP_INLINE_MAX bytes are buffered after the line's
 *    start.  `state & ST_NUL_SEEN` records this.
 *  - The byte after a header's CR is not checked to be LF (it only has to be present), and the
 *    two bytes after a payload are not checked to be CRLF.
 *  - The '$' check happens only once the header's CR and the byte after it have arrived.
 *  - Errors are checked in Redis's order: not a number or over the limit first, then the
 *    stricter unauthenticated caps.
 *  - A count <= 0 ("*0", "*-1") is an empty request that is consumed silently.
 *
 * What can go wrong: a line's terminator past the window (RESP_INLINE_MAX + 1 bytes from the
 * line's start) is an error, whereas Redis, which checks only after each 16 KiB read, may accept
 * such a line when it arrives in one read.  We chose the deterministic rule so that results never
 * depend on how the input was split.  Every line we accept, Redis accepts too.
 *
 * Invariants:
 *  - Invariant: p->scan <= the length passed by the last call (checked by assert).
 *  - Invariant: in ST_IDLE every offset is 0; argc keeps the last request's count until the next
 *    call of resp_parser_parse() starts a new request.
 *  - Invariant: limits are checked before any allocation they govern; argv grows only when an
 *    argument header has actually arrived, so "*2147483647" alone allocates nothing.
 *
 * Threading: none; one parser belongs to one connection on the event-loop thread.
 * Start reading at resp_parser_parse().
 */
#include "parser_internal.h"

#include "alloc_internal.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* p->state: a kind in the low bits, plus flags describing the line being scanned. */
#define ST_IDLE 0        /* no byte of a request examined */
#define ST_INLINE 1      /* looking for the inline request's LF */
#define ST_MB_COUNT 2    /* looking for the CR of "*<count>" */
#define ST_BULK_HEADER 3 /* looking for the CR of "$<len>"; bulk_start is the header's offset */
#define ST_BULK_BODY 4   /* waiting for bulk_start + bulk_len + 2 bytes */
#define ST_KIND_MASK 0x0f
#define ST_TERM_SEEN 0x10 /* buf[scan - 1] is the line's terminator */
#define ST_NUL_SEEN 0x20  /* buf[scan - 1] is a NUL met before any terminator */

/* A line's terminator must lie within this many bytes of the line's start.  Redis fails a
 * request once more than RESP_INLINE_MAX bytes after the line's start hold no terminator. */
#define LINE_WINDOW ((size_t)RESP_INLINE_MAX + 1)

/* argv entries allocated at the first argument: most commands have fewer, so a connection
 * normally allocates its arrays once.  Growth doubles from here. */
#define ARGV_INITIAL 16

/* find_line() outcomes */
#define LINE_FOUND 0
#define LINE_PARTIAL 1
#define LINE_TOO_BIG 2

int resp_parser_init(resp_parser *p, const resp_limits *lim)
{
    memset(p, 0, sizeof(*p));
    p->lim = *lim;
    p->bulk_len = -1;
    return RESP_OK;
}

void resp_parser_deinit(resp_parser *p)
{
    free(p->argv);
    free(p->arg_off);
    free(p->scratch);
    p->argv = NULL;
    p->arg_off = NULL;
    p->scratch = NULL;
    p->argv_cap = 0;
    p->scratch_cap = 0;
    resp_parser_reset(p);
}

static void forget_request(resp_parser *p)
{
    p->state = ST_IDLE;
    p->scan = 0;
    p->mb_left = 0;
    p->bulk_len = -1;
    p->bulk_start = 0;
}

void resp_parser_reset(resp_parser *p)
{
    forget_request(p);
    p->argc = 0;
    p->err = 0;
    p->errstr[0] = '\0';
}

void resp_parser_set_limits(resp_parser *p, const resp_limits *lim) { p->lim = *lim; }

const char *resp_strerror(int code)
{
    switch (code) {
    case RESP_OK: return "ok";
    case RESP_NEED_MORE: return "need more data";
    case RESP_ERR_PROTOCOL: return "protocol error";
    case RESP_ERR_NOMEM: return "out of memory";
    default: return "unknown error";
    }
}

int resp_parser_fail(resp_parser *p, int code, const char *text)
{
    p->err = code;
    snprintf(p->errstr, sizeof(p->errstr), "%s", text);
    return code;
}

int resp_parser_grow_args(resp_parser *p, int need)
{
    size_t cap = p->argv_cap > 0 ? (size_t)p->argv_cap : ARGV_INITIAL;
    resp_arg *argv;
    size_t *off;

    if (need <= p->argv_cap)
        return 0;
    while (cap < (size_t)need)
        cap *= 2;
    if (cap > INT_MAX)
        cap = INT_MAX;
    if (cap > SIZE_MAX / sizeof(*argv))
        return resp_parser_fail(p, RESP_ERR_NOMEM, "out of memory");
    argv = resp_realloc(p->argv, cap * sizeof(*argv));
    if (argv == NULL)
        return resp_parser_fail(p, RESP_ERR_NOMEM, "out of memory");
    p->argv = argv;
    /* If this one fails, argv is merely larger than argv_cap says, which is harmless. */
    off = resp_realloc(p->arg_off, cap * sizeof(*off));
    if (off == NULL)
        return resp_parser_fail(p, RESP_ERR_NOMEM, "out of memory");
    p->arg_off = off;
    p->argv_cap = (int)cap;
    return 0;
}

/* Offset of the line being scanned, from the request start. */
static size_t line_start(const resp_parser *p)
{
    return (p->state & ST_KIND_MASK) == ST_BULK_HEADER ? p->bulk_start : 0;
}

/*
 * Look for the terminator `term` of the line starting at `start`, continuing from p->scan.
 * `after` is how many bytes must follow the terminator before the line counts as complete
 * (1 for "\r?" headers, 0 for inline LF).  On LINE_FOUND *term_at is its offset.
 * O(new bytes): what was examined is summarised in p->scan and the ST_*_SEEN flags.
 */
static int find_line(resp_parser *p, const char *buf, size_t len, size_t start, char term,
                     size_t after, size_t *term_at)
{
    if (!(p->state & (ST_TERM_SEEN | ST_NUL_SEEN))) {
        size_t end = start + LINE_WINDOW < len ? start + LINE_WINDOW : len;
        size_t i = p->scan;

        while (i < end && buf[i] != term && buf[i] != '\0')
            i++;
        if (i < end) {
            p->state |= buf[i] == term ? ST_TERM_SEEN : ST_NUL_SEEN;
            i++;
        }
        p->scan = i;
    }
    if (p->state & ST_TERM_SEEN) {
        *term_at = p->scan - 1;
        return len >= p->scan + after ? LINE_FOUND : LINE_PARTIAL;
    }
    /* No terminator yet, or a NUL hides every later one. */
    return len - start > RESP_INLINE_MAX ? LINE_TOO_BIG : LINE_PARTIAL;
}

/* A line just completed: clear the flags and move to `kind`. */
static void next_state(resp_parser *p, int kind) { p->state = kind; }

static int line_status(resp_parser *p, int rc, const char *too_big)
{
    return rc == LINE_TOO_BIG ? resp_parser_fail(p, RESP_ERR_PROTOCOL, too_big) : RESP_NEED_MORE;
}

static int parse_count(resp_parser *p, const char *buf, size_t len)
{
    size_t cr;
    long long n;
    int rc = find_line(p, buf, len, 0, '\r', 1, &cr);

    if (rc != LINE_FOUND)
        return line_status(p, rc, "Protocol error: too big mbulk count string");
    if (!resp_str_to_ll(buf + 1, cr - 1, &n) || n > p->lim.max_multibulk_len || n > INT_MAX)
        return resp_parser_fail(p, RESP_ERR_PROTOCOL, "Protocol error: invalid multibulk length");
    if (p->lim.unauthenticated && n > RESP_UNAUTH_MULTIBULK_MAX)
        return resp_parser_fail(p, RESP_ERR_PROTOCOL,
                                "Protocol error: unauthenticated multibulk length");
    p->scan = cr + 2;
    if (n <= 0)
        return RESP_OK; /* "*0", "*-1": an empty request, consumed */
    p->mb_left = n;
    p->bulk_start = p->scan;
    next_state(p, ST_BULK_HEADER);
    return RESP_NEED_MORE; /* not a result: the caller goes on with the first header */
}

static int parse_bulk_header(resp_parser *p, const char *buf, size_t len)
{
    size_t hdr = p->bulk_start;
    size_t cr;
    long long n;
    int rc = find_line(p, buf, len, hdr, '\r', 1, &cr);

    if (rc != LINE_FOUND)
        return line_status(p, rc, "Protocol error: too big bulk count string");
    if (buf[hdr] != '$') {
        p->err = RESP_ERR_PROTOCOL;
        snprintf(p->errstr, sizeof(p->errstr), "Protocol error: expected '$', got '%c'", buf[hdr]);
        return p->err;
    }
    if (!resp_str_to_ll(buf + hdr + 1, cr - hdr - 1, &n) || n < 0 || n > p->lim.max_bulk_len)
        return resp_parser_fail(p, RESP_ERR_PROTOCOL, "Protocol error: invalid bulk length");
    if (p->lim.unauthenticated && n > RESP_UNAUTH_BULK_MAX)
        return resp_parser_fail(p, RESP_ERR_PROTOCOL,
                                "Protocol error: unauthenticated bulk length");
    /* Limits are checked; the argument is real, so it may take an argv slot now. */
    if (p->argc == p->argv_cap && resp_parser_grow_args(p, p->argc + 1) != 0)
        return RESP_ERR_NOMEM;
    p->bulk_start = cr + 2;
    p->bulk_len = n;
    p->scan = p->bulk_start;
    next_state(p, ST_BULK_BODY);
    return RESP_NEED_MORE;
}

/*
 * The body of a multibulk request: headers and payloads until mb_left reaches 0.  Returns
 * RESP_OK with p->scan at the request's end, RESP_NEED_MORE, or a sticky error.
 */
static int parse_bulks(resp_parser *p, const char *buf, size_t len)
{
    for (;;) {
        int i;

        if ((p->state & ST_KIND_MASK) == ST_BULK_HEADER) {
            int rc = parse_bulk_header(p, buf, len);
            if (rc != RESP_NEED_MORE || (p->state & ST_KIND_MASK) != ST_BULK_BODY)
                return rc;
        }
        /* Compare in unsigned long long: bulk_len + 2 may not fit a 32-bit size_t. */
        if ((unsigned long long)(len - p->bulk_start) < (unsigned long long)p->bulk_len + 2)
            return RESP_NEED_MORE;
        i = p->argc++;
        p->arg_off[i] = p->bulk_start;
        p->argv[i].len = (size_t)p->bulk_len;
        p->scan = p->bulk_start + (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        if (--p->mb_left == 0) {
            for (i = 0; i < p->argc; i++)
                p->argv[i].ptr = buf + p->arg_off[i];
            return RESP_OK;
        }
        p->bulk_start = p->scan;
        next_state(p, ST_BULK_HEADER);
    }
}

static int parse_inline(resp_parser *p, const char *buf, size_t len)
{
    size_t lf, n;
    int rc = find_line(p, buf, len, 0, '\n', 0, &lf);
    int i;

    if (rc != LINE_FOUND)
        return line_status(p, rc, "Protocol error: too big inline request");
    n = lf;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    rc = resp_inline_split(p, buf, n);
    if (rc != RESP_OK)
        return rc;
    for (i = 0; i < p->argc; i++)
        p->argv[i].ptr = p->scratch + p->arg_off[i];
    p->scan = lf + 1;
    return RESP_OK;
}

int resp_parser_parse(resp_parser *p, const char *buf, size_t len, size_t *used)
{
    int rc;

    *used = 0;
    if (p->err != 0)
        return p->err;
    assert(len >= p->scan);
    if (p->state == ST_IDLE) {
        p->argc = 0;
        if (len == 0)
            return RESP_NEED_MORE;
        if (buf[0] == '*') {
            p->state = ST_MB_COUNT;
            p->scan = 1;
        } else {
            p->state = ST_INLINE;
        }
    }
    switch (p->state & ST_KIND_MASK) {
    case ST_INLINE:
        rc = parse_inline(p, buf, len);
        break;
    case ST_MB_COUNT:
        rc = parse_count(p, buf, len);
        if (rc != RESP_NEED_MORE || (p->state & ST_KIND_MASK) == ST_MB_COUNT)
            break;
        rc = parse_bulks(p, buf, len);
        break;
    default:
        rc = parse_bulks(p, buf, len);
        break;
    }
    if (rc == RESP_OK) {
        *used = p->scan;
        forget_request(p);
    }
    return rc;
}

size_t resp_parser_need(const resp_parser *p)
{
    if ((p->state & ST_KIND_MASK) == ST_BULK_BODY) {
        unsigned long long end =
            (unsigned long long)p->bulk_start + (unsigned long long)p->bulk_len + 2;
        return end > SIZE_MAX ? SIZE_MAX : (size_t)end;
    }
    if (p->state & ST_NUL_SEEN)
        return line_start(p) + LINE_WINDOW; /* only the "too big" error can come next */
    return p->scan + 1;
}
