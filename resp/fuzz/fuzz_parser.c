/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_parser.c: libFuzzer target for the RESP request parser and the reply encoder.
 *
 * Input layout: byte 0 chooses the limits (bits 0-2) and the way the stream is cut, the rest
 * is the byte stream a client sends; with bits 3 and 4 set the stream starts with a run-length
 * encoded filler, so inputs of a few bytes reach the 64 KiB line limits.  For every input the
 * target checks, beyond "no crash, no sanitizer report":
 *
 *   1. Split invariance: the stream parsed in one piece and the stream fed in pseudo-random
 *      chunks, each parse call given a fresh exactly-sized copy of the unconsumed bytes (the
 *      worst case of a connection that reallocs its buffer), give the same transcript of
 *      requests and errors.  A parser that keeps an address or reads past `len` is caught by
 *      ASan in the moving run.
 *   2. The call contract: *used is 0 unless RESP_OK, used <= len, need() > len after NEED_MORE,
 *      errors are sticky.
 *   3. Round trip: every request re-encoded as a multibulk with the reply encoder parses back
 *      to the same arguments and exactly the encoded length.
 *   4. Integers: an argument resp_str_to_ll accepts is canonical, so formatting the value back
 *      with resp_ll_to_str gives the same bytes.
 *   5. The error, simple, verbatim, double and aggregate encoders accept any bytes and produce
 *      exactly one RESP element that no CR or LF of the payload can split (checked for errors).
 *
 * A failed check calls abort(), which libFuzzer reports as a crash with the input saved.
 * Build and run: `make fuzz` (see the Makefile); seeds live in resp/fuzz/corpus_parser/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp/resp.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#endif
#endif
#ifndef POISON
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_parser: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* A growable transcript: what the parser returned, in a comparable form. */
typedef struct transcript {
    unsigned char *p;
    size_t len, cap;
} transcript;

static void tr_add(transcript *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n) cap *= 2;
        unsigned char *q = realloc(t->p, cap);
        CHECK(q != NULL);
        t->p = q;
        t->cap = cap;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
}

static void tr_add_size(transcript *t, size_t v) { tr_add(t, &v, sizeof v); }

/* Append one request (argc, then each argument's length and bytes) to the transcript. */
static void tr_request(transcript *t, const resp_parser *p, size_t used)
{
    int argc = resp_parser_argc(p);
    const resp_arg *argv = resp_parser_argv(p);
    tr_add(t, "R", 1);
    tr_add_size(t, used);
    tr_add_size(t, (size_t)argc);
    for (int i = 0; i < argc; i++) {
        tr_add_size(t, argv[i].len);
        tr_add(t, argv[i].ptr, argv[i].len);
    }
}

/* Re-encode the request as a multibulk and parse it back with default limits. */
static void check_round_trip(const resp_parser *p)
{
    int argc = resp_parser_argc(p);
    const resp_arg *argv = resp_parser_argv(p);
    if (argc == 0) return;
    resp_wbuf b;
    resp_wbuf_init(&b);
    resp_add_array(&b, argc);
    for (int i = 0; i < argc; i++) resp_add_bulk(&b, argv[i].ptr, argv[i].len);
    CHECK(!resp_wbuf_failed(&b));

    resp_limits lim = {512LL * 1024 * 1024, RESP_MULTIBULK_MAX, 0};
    resp_parser q;
    resp_parser_init(&q, &lim);
    size_t used = 0;
    CHECK(resp_parser_parse(&q, b.data, b.len, &used) == RESP_OK);
    CHECK(used == b.len);
    CHECK(resp_parser_argc(&q) == argc);
    for (int i = 0; i < argc; i++) {
        const resp_arg *a = &resp_parser_argv(&q)[i];
        CHECK(a->len == argv[i].len);
        CHECK(a->len == 0 || memcmp(a->ptr, argv[i].ptr, a->len) == 0);
    }
    resp_parser_deinit(&q);
    resp_wbuf_deinit(&b);
}

/* Integer parsing is canonical, and the encoders take any bytes. */
static void check_encoders(const resp_arg *a)
{
    long long v;
    if (resp_str_to_ll(a->ptr, a->len, &v)) {
        char buf[32];
        size_t n = resp_ll_to_str(buf, v);
        CHECK(n == a->len && memcmp(buf, a->ptr, n) == 0);
    }
    resp_wbuf b;
    resp_wbuf_init(&b);
    resp_add_error(&b, a->ptr, a->len);
    /* An error line must be one line whatever the text holds. */
    CHECK(b.len == a->len + 3 && b.data[0] == '-');
    CHECK(memchr(b.data, '\r', b.len - 2) == NULL && memchr(b.data, '\n', b.len - 2) == NULL);
    resp_add_verbatim(&b, "txt", a->ptr, a->len, RESP3);
    resp_add_verbatim(&b, "txt", a->ptr, a->len, RESP2);
    resp_add_bulk(&b, a->ptr, a->len);
    resp_add_map(&b, (long long)a->len, RESP3);
    resp_add_set(&b, -(long long)a->len, RESP2);
    resp_add_double(&b, (double)a->len / 3.0, RESP3);
    resp_add_bulk_int(&b, (long long)a->len * -7);
    CHECK(!resp_wbuf_failed(&b));
    resp_wbuf_deinit(&b);
}

/*
 * The moving run hands every parse call a copy of the unconsumed bytes in a different buffer
 * and poisons the previous copy (ASan reports any later read of it; without ASan it is
 * overwritten, so a kept address changes the transcript).  Two reused buffers instead of a
 * malloc per call: ASan serves big blocks with mmap, which made a fresh copy per call cost more
 * than the parsing.
 */
static char *copies[2];
static size_t copy_cap[2];
static int copy_next;

static char *moving_copy(const char *src, size_t n)
{
    int i = copy_next;
    copy_next ^= 1;
    if (copy_cap[i] < n + 1) {
        free(copies[i]);
        copy_cap[i] = (n + 1) * 2;
        copies[i] = malloc(copy_cap[i]);
        CHECK(copies[i] != NULL);
    }
    UNPOISON(copies[i], copy_cap[i]);
    if (n) memcpy(copies[i], src, n);
    return copies[i];
}

static void retire(char *copy, size_t n)
{
    if (!copy) return;
    memset(copy, 0xa5, n);
    POISON(copy, n);
}

/* Parse a whole stream the way a connection does, recording the transcript. */
static void run(const resp_limits *lim, const char *in, size_t n, uint32_t seed, int moving,
                transcript *t, int checks)
{
    resp_parser p;
    resp_parser_init(&p, lim);
    size_t consumed = 0, received = 0;
    uint32_t rng = seed | 1;
    int failed = 0;
    while (!failed) {
        if (moving) {
            /* xorshift32: mostly small chunks, sometimes a large one; about 32 chunks at
             * most for a long stream, so the copies below stay cheap. */
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            size_t small = n / 16 > 64 ? n / 16 : 64;
            size_t chunk = (rng & 0x100) && n < 8192 ? (rng % 4096) + 1 : (rng % small) + 1;
            received = received + chunk > n ? n : received + chunk;
        } else {
            received = n;
        }
        for (;;) {
            size_t avail = received - consumed;
            const char *buf = in + consumed;
            char *copy = NULL;
            if (moving) {
                copy = moving_copy(buf, avail);
                buf = copy;
            }
            size_t used = 777;
            int rc = resp_parser_parse(&p, buf, avail, &used);
            if (rc == RESP_OK) {
                CHECK(used > 0 && used <= avail);
                CHECK(!resp_parser_busy(&p));
                tr_request(t, &p, used);
                if (checks) {
                    check_round_trip(&p);
                    for (int i = 0; i < resp_parser_argc(&p) && i < 8; i++)
                        check_encoders(&resp_parser_argv(&p)[i]);
                }
                consumed += used;
                retire(copy, avail);
                continue;
            }
            CHECK(used == 0);
            if (rc == RESP_NEED_MORE) {
                CHECK(resp_parser_need(&p) > avail);
                CHECK(resp_parser_busy(&p) == (avail > 0));
            } else {
                CHECK(rc == RESP_ERR_PROTOCOL);
                tr_add(t, "E", 1);
                tr_add(t, resp_parser_errstr(&p), strlen(resp_parser_errstr(&p)));
                /* Sticky. */
                size_t u2 = 9;
                CHECK(resp_parser_parse(&p, "PING\r\n", 6, &u2) == rc && u2 == 0);
                failed = 1;
            }
            retire(copy, avail);
            break;
        }
        if (received == n) break;
    }
    if (!failed) {
        tr_add(t, "M", 1);
        tr_add_size(t, resp_parser_need(&p));
    }
    resp_parser_deinit(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t mode = data[0];
    const char *in = (const char *)data + 1;
    size_t n = size - 1;
    char *expanded = NULL;
    if ((mode & 0x18) == 0x18 && n >= 4) {
        /* Long lines without long inputs: [filler][count hi][count lo] stream, and the filler
         * byte is repeated 2 * (count % 36000) times after the stream's first byte (reaching
         * past the 64 KiB line limit), so the fuzzer mutates 4 bytes instead of 70000. */
        size_t count = 2 * ((((size_t)(uint8_t)in[1] << 8) | (uint8_t)in[2]) % 36000);
        char filler = in[0];
        const char *rest = in + 3;
        size_t rn = n - 3;
        expanded = malloc(rn + count + 1);
        CHECK(expanded != NULL);
        expanded[0] = rest[0];
        memset(expanded + 1, filler, count);
        memcpy(expanded + 1 + count, rest + 1, rn - 1);
        in = expanded;
        n = rn + count;
    }

    resp_limits lim;
    lim.max_bulk_len = (mode & 2) ? 1024 * 1024 : 512LL * 1024 * 1024; /* 1 MiB is the minimum */
    lim.max_multibulk_len = (mode & 4) ? 100 : RESP_MULTIBULK_MAX;
    lim.unauthenticated = mode & 1;

    transcript whole = {0}, chunked = {0};
    run(&lim, in, n, 0, 0, &whole, 1);
    run(&lim, in, n, (uint32_t)mode * 2654435761u + (uint32_t)n, 1, &chunked, 0);
    if (whole.len != chunked.len || memcmp(whole.p, chunked.p, whole.len) != 0) {
        fprintf(stderr, "fuzz_parser: whole and chunked parses differ\n");
        abort();
    }
    free(whole.p);
    free(chunked.p);
    free(expanded);
    return 0;
}
