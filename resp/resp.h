/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resp.h: the Redis protocol (RESP2 and RESP3) for a server: an incremental request parser and a
 * reply encoder.  No I/O, no clock, no allocation per request once buffers have grown.
 *
 * Parser use, from a connection's read path:
 *
 *     resp_parser p;                      // embedded in the connection
 *     resp_parser_init(&p, &limits);
 *     ... bytes arrive in buf[0..len), where buf starts at the first byte not yet consumed ...
 *     size_t used;
 *     int rc = resp_parser_parse(&p, buf, len, &used);
 *     RESP_OK        -> one request: resp_parser_argc(&p) / resp_parser_argv(&p); used bytes done
 *     RESP_NEED_MORE -> keep buf as it is, append more bytes, call again with the same start
 *     RESP_ERR_*     -> reply "-ERR " resp_parser_errstr(&p) and close the connection
 *
 * The buffer may move (realloc, compaction) between calls that return RESP_NEED_MORE: the parser
 * remembers offsets from the start of the request, never addresses, and never rescans bytes it has
 * already examined.
 */
#ifndef RESP_RESP_H
#define RESP_RESP_H

#include <stddef.h>
#include <stdint.h>

/* Results.  Incremental calls have three distinct outcomes: OK, NEED_MORE and an error. */
#define RESP_OK 0
#define RESP_NEED_MORE 1
#define RESP_ERR_PROTOCOL (-1) /* malformed or over a limit; the text is in resp_parser_errstr() */
#define RESP_ERR_NOMEM (-2)    /* an allocation failed; the parser is unusable until reset */

/* Redis 7.0's fixed protocol limits. */
#define RESP_INLINE_MAX 65536        /* bytes in an inline request, or in a count line */
#define RESP_MULTIBULK_MAX 2147483647 /* elements in one multibulk request (INT_MAX) */
#define RESP_UNAUTH_MULTIBULK_MAX 10  /* before AUTH, when a password is required */
#define RESP_UNAUTH_BULK_MAX 16384

/* RESP protocol versions a connection can speak (HELLO 2 / HELLO 3). */
#define RESP2 2
#define RESP3 3

typedef struct resp_limits {
    long long max_bulk_len;      /* proto-max-bulk-len: a longer $<n> is a protocol error */
    long long max_multibulk_len; /* usually RESP_MULTIBULK_MAX */
    int unauthenticated;         /* 1: stricter pre-AUTH caps and their own error texts */
} resp_limits;

/* One argument of a request: a byte string, not NUL-terminated. */
typedef struct resp_arg {
    const char *ptr;
    size_t len;
} resp_arg;

/*
 * The parser.  Embedded in each connection; every field is private (use the functions below).
 * Invariant: between requests all offsets are 0; argc and argv describe the request returned by
 * the last RESP_OK until the next call of resp_parser_parse() begins a new request.
 */
typedef struct resp_parser {
    resp_limits lim;
    int state;            /* where the next byte goes: see parser.c */
    int err;              /* sticky: 0, RESP_ERR_PROTOCOL or RESP_ERR_NOMEM */
    size_t scan;          /* offset from the request start of the first byte not yet examined */
    long long mb_left;    /* multibulk elements still to come */
    long long bulk_len;   /* length of the bulk being read, -1 when none */
    size_t bulk_start;    /* offset of that bulk's first byte (of its "$" line while reading it) */
    int argc;             /* arguments complete so far */
    int argv_cap;         /* capacity of argv and arg_off */
    resp_arg *argv;       /* filled with addresses when a request completes */
    size_t *arg_off;      /* per argument: offset (multibulk: from request start; inline: in scratch) */
    char *scratch;        /* unescaped inline arguments */
    size_t scratch_cap;
    char errstr[128];
} resp_parser;

/*
 * Prepare a parser with the given limits (copied).  Allocates nothing until the first request.
 * Returns RESP_OK.  Pair with resp_parser_deinit().
 */
int resp_parser_init(resp_parser *p, const resp_limits *lim);

/* Release the parser's buffers.  The parser may be initialised again afterwards. */
void resp_parser_deinit(resp_parser *p);

/*
 * Forget any partial request and clear a sticky error; keeps buffers and limits.  Call it when the
 * caller throws away the bytes it has been passing (e.g. a connection is recycled).
 */
void resp_parser_reset(resp_parser *p);

/*
 * Change the limits, e.g. after AUTH succeeds.  Takes effect from the next request; a request
 * already under way keeps the limits it started with only for the lengths already checked.
 */
void resp_parser_set_limits(resp_parser *p, const resp_limits *lim);

/*
 * Parse at most one request from buf[0..len).  buf must begin at the start of the request this
 * parser is working on (the byte after the previous complete request).
 *
 * RESP_OK:        a request is complete and *used is its size in bytes.  resp_parser_argc() and
 *                 resp_parser_argv() describe it; argument pointers point into buf (multibulk) or
 *                 into the parser's scratch (inline) and stay valid until the next call to parse,
 *                 reset or deinit, and as long as buf is neither moved nor overwritten.  argc may
 *                 be 0 (an empty inline line, or a multibulk count <= 0): nothing to run.
 * RESP_NEED_MORE: *used is 0; call again with the same start once more bytes are there.
 *                 resp_parser_need() tells how many bytes (from buf) the parser wants at least.
 * RESP_ERR_PROTOCOL / RESP_ERR_NOMEM: *used is 0; sticky until reset.  For a protocol error
 *                 resp_parser_errstr() is Redis's text, e.g. "Protocol error: invalid bulk length",
 *                 to be sent as "-ERR <text>" before closing the connection.
 *
 * Cost: O(new bytes) per call: bytes already examined are not scanned again.
 */
int resp_parser_parse(resp_parser *p, const char *buf, size_t len, size_t *used);

/*
 * After RESP_NEED_MORE: the smallest buffer length (counted from the request start) at which the
 * parser can make progress.  For a bulk argument this is the end of its payload plus CRLF, so a
 * reader can grow its buffer once for a large value instead of many times.
 */
size_t resp_parser_need(const resp_parser *p);

/* The request returned by the last RESP_OK.  Borrowed; see resp_parser_parse() for lifetime. */
static inline int resp_parser_argc(const resp_parser *p) { return p->argc; }
static inline const resp_arg *resp_parser_argv(const resp_parser *p) { return p->argv; }

/* The sticky error's text ("" when none). */
static inline const char *resp_parser_errstr(const resp_parser *p) { return p->errstr; }

/* True while the parser holds part of a request (bytes examined but no request returned yet). */
static inline int resp_parser_busy(const resp_parser *p) { return p->scan != 0; }

/* A short static description of a result code. */
const char *resp_strerror(int code);

/* ---------------------------------------------------------------------------------------------
 * Reply encoding.  A resp_wbuf is a growable byte buffer; every resp_add_* appends one complete
 * protocol element (or an aggregate header whose elements follow).  Functions that take `proto`
 * write the RESP3 type when proto == RESP3 and the RESP2 equivalent otherwise.
 *
 * Allocation failure is sticky: the buffer sets `err` to RESP_ERR_NOMEM and ignores further
 * appends; the caller checks resp_wbuf_failed() once per batch.  Integers are formatted without
 * printf.  Buffers grow geometrically and never shrink unless asked (resp_wbuf_shrink()).
 */
typedef struct resp_wbuf {
    char *data;
    size_t len; /* bytes written */
    size_t cap;
    int err; /* 0 or RESP_ERR_NOMEM */
} resp_wbuf;

void resp_wbuf_init(resp_wbuf *b);
void resp_wbuf_deinit(resp_wbuf *b);
static inline int resp_wbuf_failed(const resp_wbuf *b) { return b->err != 0; }

/* Make room for n more bytes and return where they go (NULL after a failure); the caller writes
 * at most n bytes there and then calls resp_wbuf_commit(b, written). */
char *resp_wbuf_reserve(resp_wbuf *b, size_t n);
static inline void resp_wbuf_commit(resp_wbuf *b, size_t n) { b->len += n; }

/* Drop the first n bytes (already sent), moving the rest to the front. */
void resp_wbuf_consume(resp_wbuf *b, size_t n);

/* Release memory above max(len, keep) bytes; used when a connection goes idle. */
void resp_wbuf_shrink(resp_wbuf *b, size_t keep);

/* Raw bytes, already encoded (pre-rendered constants such as "+OK\r\n"). */
void resp_add_raw(resp_wbuf *b, const void *p, size_t len);

/* "+<s>\r\n".  s must not contain CR or LF (not checked). */
void resp_add_simple(resp_wbuf *b, const char *s, size_t len);

/* "-<s>\r\n", s including its code ("ERR syntax error"); CR and LF in s become spaces. */
void resp_add_error(resp_wbuf *b, const char *s, size_t len);

/* ":<v>\r\n" */
void resp_add_int(resp_wbuf *b, long long v);

/* "$<len>\r\n<bytes>\r\n" */
void resp_add_bulk(resp_wbuf *b, const void *p, size_t len);

/* A bulk string holding the decimal text of v (RESP2 and RESP3 alike). */
void resp_add_bulk_int(resp_wbuf *b, long long v);

/* The null reply: "$-1\r\n" (RESP2) or "_\r\n" (RESP3). */
void resp_add_null(resp_wbuf *b, int proto);

/* The null array: "*-1\r\n" (RESP2) or "_\r\n" (RESP3). */
void resp_add_null_array(resp_wbuf *b, int proto);

/* Aggregate headers; n elements (a map: n key/value pairs) must follow. */
void resp_add_array(resp_wbuf *b, long long n);
void resp_add_map(resp_wbuf *b, long long n, int proto);   /* "%n" or "*<2n>" */
void resp_add_set(resp_wbuf *b, long long n, int proto);   /* "~n" or "*n" */

/* A double: ",<v>\r\n" (RESP3) or a bulk string (RESP2), formatted as Redis does (%.17g, with
 * "inf"/"-inf"/"nan"). */
void resp_add_double(resp_wbuf *b, double v, int proto);

/* A boolean: "#t"/"#f" (RESP3) or ":1"/":0" (RESP2). */
void resp_add_bool(resp_wbuf *b, int v, int proto);

/* Verbatim text: "=<len+4>\r\n<fmt>:<bytes>\r\n" (RESP3; fmt is 3 characters such as "txt") or a
 * plain bulk string (RESP2). */
void resp_add_verbatim(resp_wbuf *b, const char *fmt, const void *p, size_t len, int proto);

/* Helpers shared with the server: exact Redis integer parsing and formatting. */

/* Parse a whole buffer as a signed 64-bit decimal with Redis's string2ll rules (optional '-', no
 * '+', no spaces, no leading zeros except "0" itself, no overflow).  1 on success, 0 otherwise. */
int resp_str_to_ll(const char *s, size_t len, long long *out);

/* Write v in decimal to dst (at least 21 bytes); returns the length (no NUL written). */
size_t resp_ll_to_str(char *dst, long long v);

/* Same for an unsigned value (dst at least 20 bytes). */
size_t resp_ull_to_str(char *dst, unsigned long long v);

#endif /* RESP_RESP_H */
