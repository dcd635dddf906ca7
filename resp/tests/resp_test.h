/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * resp_test.h: helpers shared by the resp/ unit tests, implemented in mock_alloc.c and
 * mock_feed.c (the Makefile links every resp/tests/mock_*.c into every resp test binary).
 */
#ifndef RESP_TESTS_RESP_TEST_H
#define RESP_TESTS_RESP_TEST_H

#include <stddef.h>

#include "resp/resp.h"

/* ---- table-driven cases: an input (a literal, possibly with NUL bytes) and its transcript ---- */

#define S(lit) (lit), (sizeof(lit) - 1)

typedef struct feed_case {
    const char *in;
    size_t len;
    const char *want;
} feed_case;

#define CASE(lit, want) { (lit), sizeof(lit) - 1, (want) }
#define MORE0 "more need=1 busy=0\n" /* the transcript's end once everything was consumed */

/* ---- mock_alloc.c: a counting, failure-injecting allocator behind resp_realloc_hook ---- */

/* Route resp/ allocations through the mock: it counts calls and fails on demand. */
void mock_alloc_install(void);
/* Back to plain realloc; clears the counters and any planned failure. */
void mock_alloc_uninstall(void);
/* Let n more allocations succeed, then fail every later one (n < 0: never fail). */
void mock_alloc_fail_after(long n);
/* Allocation calls (successful or not) since install. */
long mock_alloc_calls(void);

/* ---- mock_feed.c: feed a byte stream to a parser in many ways and compare transcripts ---- */

/*
 * A transcript is text, one line per event:
 *     ok <used> "arg" "arg" ...     a request (arguments escaped as C strings)
 *     error <rc> <errstr>           a sticky error, after which feeding stops
 *     more need=<n> busy=<0|1>      the stream ended while the parser wanted more
 * The caller frees the returned string.
 *
 * feed_run() appends the stream to the connection buffer in chunks ending at cuts[0..ncuts)
 * (ascending, the last one n is implied) and parses after each chunk until NEED_MORE.  With
 * move != 0 every parse call gets a freshly allocated, exactly sized copy of the unconsumed bytes,
 * so a parser that keeps an address, or reads past len, is caught by valgrind or ASan.
 */
char *feed_run(const resp_limits *lim, const char *in, size_t n, const size_t *cuts, size_t ncuts,
               int move);

/* Feed exactly as much as resp_parser_need() asks each time, checking that this is enough to
 * make progress. */
char *feed_run_need(const resp_limits *lim, const char *in, size_t n, int move);

/*
 * Run the stream through every strategy and require identical transcripts: all at once, byte by
 * byte (moving the buffer when `exhaustive`), split in two at every offset (every offset when
 * `exhaustive`, else a sample including the RESP_INLINE_MAX boundary), pseudo-random chunks, and
 * need-driven.  If expected is not NULL the transcript must equal it.  Returns the transcript.
 */
char *feed_check(const resp_limits *lim, const char *in, size_t n, const char *expected,
                 int exhaustive);

/* feed_check() with exhaustive splitting, freeing the transcript. */
void feed_expect(const resp_limits *lim, const char *in, size_t n, const char *expected);

/* Default limits: proto-max-bulk-len 512 MiB, RESP_MULTIBULK_MAX, authenticated. */
resp_limits feed_default_limits(void);

/* Fail the test, showing the first difference, unless a and b are equal. */
void feed_same(const char *a, const char *b, const char *what);

#endif /* RESP_TESTS_RESP_TEST_H */
