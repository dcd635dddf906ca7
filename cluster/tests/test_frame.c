/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_frame.c: the bus wire format (frame.c).
 *
 * The decoder is the part of the bus an unauthenticated or hostile sender reaches first, so
 * besides round trips these tests feed it every truncation of valid payloads, trailing bytes,
 * strings with NUL bytes, lengths that lie, and a deterministic random-corruption loop.  Every
 * input is copied into a heap block of exactly its size, so a read one byte past the end is
 * caught by valgrind (make test) or AddressSanitizer (make SANITIZE=address,undefined).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster_internal.h"

#define MAX_FRAME (1u << 20)

/* A heap copy of exactly n bytes (n may be 0: a 1-byte block that must not be read). */
static uint8_t rdy; /* the sender's ready flag decoded from PING/PONG */

static uint8_t *exact_copy(const void *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    assert_non_null(c);
    if (n) memcpy(c, p, n);
    return c;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* A valid 20-byte header for `type` and total length `len`. */
static void make_header(uint8_t *h, uint32_t len, uint16_t type, uint64_t hlc)
{
    put_be32(h, CL_MAGIC);
    put_be32(h + 4, len);
    put_be16(h + 8, CL_VERSION);
    put_be16(h + 10, type);
    put_be32(h + 12, (uint32_t)(hlc >> 32));
    put_be32(h + 16, (uint32_t)hlc);
}

static int parse_exact(const uint8_t *buf, size_t n, size_t max, cl_frame_header *h)
{
    uint8_t *c = exact_copy(buf, n);
    int rc = cl_frame_parse_header(c, n, max, h);
    free(c);
    return rc;
}

/* ---- header */

static void test_header_ok(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    make_header(h, 100, CL_PING, 0x0123456789abcdefull);
    cl_frame_header fh;
    assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_OK);
    assert_int_equal(fh.len, 100);
    assert_int_equal(fh.type, CL_PING);
    assert_true(fh.hlc == 0x0123456789abcdefull);
    /* the header alone is a valid (empty) frame */
    make_header(h, CL_HEADER_LEN, CL_ERROR, 1);
    assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_OK);
    /* every type in range */
    for (uint16_t t = 1; t <= CL_TYPE_MAX; t++) {
        make_header(h, 64, t, 0);
        assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_OK);
        assert_int_equal(fh.type, t);
    }
    /* bytes after the header are not looked at */
    uint8_t big[64];
    memset(big, 0xee, sizeof big);
    make_header(big, 64, CL_REPL, 0);
    assert_int_equal(parse_exact(big, sizeof big, MAX_FRAME, &fh), CL_FRAME_OK);
}

static void test_header_short(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    make_header(h, 100, CL_PING, 0);
    cl_frame_header fh;
    for (size_t n = 0; n < CL_HEADER_LEN; n++)
        assert_int_equal(parse_exact(h, n, MAX_FRAME, &fh), CL_FRAME_SHORT);
}

static void test_header_bad_magic(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    cl_frame_header fh;
    for (int byte = 0; byte < 4; byte++) {
        make_header(h, 100, CL_PING, 0);
        h[byte] ^= 0x20;
        assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_BAD_MAGIC);
    }
    /* an HTTP or RESP client hitting the bus port by mistake */
    const char *http = "GET / HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(parse_exact((const uint8_t *)http, CL_HEADER_LEN, MAX_FRAME, &fh),
                     CL_FRAME_BAD_MAGIC);
    const char *resp = "*1\r\n$4\r\nPING\r\n\r\n\r\n\r\n";
    assert_int_equal(parse_exact((const uint8_t *)resp, CL_HEADER_LEN, MAX_FRAME, &fh),
                     CL_FRAME_BAD_MAGIC);
    /* a TLS ClientHello on a plain bus */
    uint8_t tls[CL_HEADER_LEN] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03};
    assert_int_equal(parse_exact(tls, sizeof tls, MAX_FRAME, &fh), CL_FRAME_BAD_MAGIC);
}

static void test_header_bad_version(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    cl_frame_header fh;
    const uint16_t bad[] = {0, CL_VERSION + 1, 0x0100, 0xffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_header(h, 100, CL_PING, 0);
        put_be16(h + 8, bad[i]);
        assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_BAD_VERSION);
    }
}

static void test_header_bad_length(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    cl_frame_header fh;
    /* shorter than the header itself */
    for (uint32_t len = 0; len < CL_HEADER_LEN; len++) {
        make_header(h, len, CL_PING, 0);
        assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_BAD_LENGTH);
    }
    /* absurd lengths: refused before anything could be allocated for them */
    const uint32_t huge[] = {MAX_FRAME + 1, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        make_header(h, huge[i], CL_REPL, 0);
        assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_BAD_LENGTH);
    }
}

static void test_header_max_length(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    cl_frame_header fh;
    const size_t limits[] = {CL_HEADER_LEN, 64 * 1024, MAX_FRAME, 0xffffffffu};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        size_t max = limits[i];
        make_header(h, (uint32_t)max, CL_REPL, 0);
        assert_int_equal(parse_exact(h, sizeof h, max, &fh), CL_FRAME_OK);
        assert_int_equal(fh.len, (uint32_t)max);
        if (max < 0xffffffffu) {
            make_header(h, (uint32_t)max + 1, CL_REPL, 0);
            assert_int_equal(parse_exact(h, sizeof h, max, &fh), CL_FRAME_BAD_LENGTH);
        }
    }
}

static void test_header_bad_type(void **state)
{
    (void)state;
    uint8_t h[CL_HEADER_LEN];
    cl_frame_header fh;
    const uint16_t bad[] = {0, CL_TYPE_MAX + 1, 0x0100, 0xffff};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        make_header(h, 100, bad[i], 0);
        assert_int_equal(parse_exact(h, sizeof h, MAX_FRAME, &fh), CL_FRAME_BAD_TYPE);
    }
}

static void test_strerror(void **state)
{
    (void)state;
    const int codes[] = {CL_FRAME_OK,           CL_FRAME_SHORT,      CL_FRAME_BAD_MAGIC,
                         CL_FRAME_BAD_VERSION,  CL_FRAME_BAD_LENGTH, CL_FRAME_BAD_TYPE};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = cl_frame_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(s, cl_frame_strerror(codes[j]));
    }
    assert_string_equal(cl_frame_strerror(-99), "unknown error");
}

/* ---- writer and reader primitives */

static void test_writer_layout(void **state)
{
    (void)state;
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_frame_begin(&w, CL_ACK, 0x1122334455667788ull);
    cl_put_u8(&w, 0xab);
    cl_put_u16(&w, 0xcdef);
    cl_put_u32(&w, 0x01020304u);
    cl_put_u64(&w, 0x05060708090a0b0cull);
    cl_put_bytes(&w, "xyz", 3);
    cl_put_bytes(&w, NULL, 0);
    assert_int_equal(cl_frame_end(&w), 0);
    static const uint8_t want[] = {
        0x52, 0x50, 0x42, 0x31, 0, 0, 0, 38, 0, 1, 0, 7, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
        0x77, 0x88, 0xab, 0xcd, 0xef, 1,  2, 3, 4, 5,  6, 7, 8, 9, 10, 11, 12, 'x', 'y', 'z'};
    assert_int_equal(w.len, sizeof want);
    assert_memory_equal(w.data, want, sizeof want);
    cl_frame_header h;
    assert_int_equal(cl_frame_parse_header(w.data, w.len, MAX_FRAME, &h), CL_FRAME_OK);
    assert_int_equal(h.len, w.len);

    cl_reader r;
    cl_reader_init(&r, w.data + CL_HEADER_LEN, w.len - CL_HEADER_LEN);
    assert_int_equal(cl_get_u8(&r), 0xab);
    assert_int_equal(cl_get_u16(&r), 0xcdef);
    assert_int_equal(cl_get_u32(&r), 0x01020304u);
    assert_true(cl_get_u64(&r) == 0x05060708090a0b0cull);
    assert_int_equal(r.left, 3);
    assert_false(r.bad);

    /* beginning a new frame reuses the buffer */
    cl_frame_begin(&w, CL_PING, 0);
    assert_int_equal(w.len, CL_HEADER_LEN);
    assert_int_equal(cl_frame_end(&w), 0);
    assert_int_equal(w.data[7], CL_HEADER_LEN);
    cl_wbuf_free(&w);
    cl_wbuf_free(&w); /* freeing twice is harmless */
}

static void test_writer_grows(void **state)
{
    (void)state;
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_frame_begin(&w, CL_REPL, 0);
    static uint8_t blob[100000];
    for (size_t i = 0; i < sizeof blob; i++) blob[i] = (uint8_t)(i * 7);
    cl_put_bytes(&w, blob, sizeof blob);
    assert_int_equal(cl_frame_end(&w), 0);
    assert_int_equal(w.len, CL_HEADER_LEN + sizeof blob);
    assert_memory_equal(w.data + CL_HEADER_LEN, blob, sizeof blob);
    /* a sticky failure makes cl_frame_end refuse the frame */
    w.failed = 1;
    cl_put_u8(&w, 1);
    assert_int_equal(cl_frame_end(&w), -1);
    cl_wbuf_free(&w);
}

static void test_reader_overrun(void **state)
{
    (void)state;
    uint8_t *b = exact_copy("\x01\x02\x03\x04\x05\x06\x07", 7);
    cl_reader r;
    cl_reader_init(&r, b, 7);
    assert_true(cl_get_u64(&r) == 0); /* 7 bytes: too short */
    assert_true(r.bad);
    /* sticky: even a one-byte read now fails */
    assert_int_equal(cl_get_u8(&r), 0);
    assert_true(r.bad);

    cl_reader_init(&r, b, 7);
    assert_int_equal(cl_get_u32(&r), 0x01020304u);
    assert_int_equal(cl_get_u16(&r), 0x0506);
    assert_int_equal(cl_get_u16(&r), 0); /* 1 byte left */
    assert_true(r.bad);

    cl_reader_init(&r, b, 0);
    assert_int_equal(cl_get_u8(&r), 0);
    assert_true(r.bad);
    free(b);
}

static void test_strings(void **state)
{
    (void)state;
    char out[CL_STR_MAX + 1];
    cl_reader r;
    /* a normal string */
    uint8_t *b = exact_copy("\x03" "abc", 4);
    cl_reader_init(&r, b, 4);
    cl_get_str(&r, out);
    assert_false(r.bad);
    assert_string_equal(out, "abc");
    free(b);
    /* the empty string */
    b = exact_copy("\x00", 1);
    cl_reader_init(&r, b, 1);
    cl_get_str(&r, out);
    assert_false(r.bad);
    assert_string_equal(out, "");
    free(b);
    /* a NUL inside, at the start, at the end */
    const char *nul[] = {"\x03" "a\0c", "\x03" "\0bc", "\x03" "ab\0"};
    for (size_t i = 0; i < 3; i++) {
        b = exact_copy(nul[i], 4);
        cl_reader_init(&r, b, 4);
        cl_get_str(&r, out);
        assert_true(r.bad);
        free(b);
    }
    /* control characters: they would forge log lines */
    const char *ctl[] = {"\x03" "a\nc", "\x03" "\rbc", "\x03" "ab\x1b", "\x03" "a\x7f" "c", "\x03" "\x01zz"};
    for (size_t i = 0; i < sizeof ctl / sizeof ctl[0]; i++) {
        b = exact_copy(ctl[i], 4);
        cl_reader_init(&r, b, 4);
        cl_get_str(&r, out);
        assert_true(r.bad);
        free(b);
    }
    /* bytes >= 0x80 (UTF-8 names) are fine */
    b = exact_copy("\x04" "n\xc3\xa9" "e", 5);
    cl_reader_init(&r, b, 5);
    cl_get_str(&r, out);
    assert_false(r.bad);
    assert_string_equal(out, "n\xc3\xa9" "e");
    free(b);
    /* a length that runs past the end */
    b = exact_copy("\x05" "abc", 4);
    cl_reader_init(&r, b, 4);
    cl_get_str(&r, out);
    assert_true(r.bad);
    assert_string_equal(out, "");
    free(b);
    /* the longest string, and truncation of a longer one when writing */
    char longs[400];
    memset(longs, 'q', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_frame_begin(&w, CL_ERROR, 0);
    cl_put_str(&w, longs);
    assert_int_equal(cl_frame_end(&w), 0);
    assert_int_equal(w.len, CL_HEADER_LEN + 1 + CL_STR_MAX);
    b = exact_copy(w.data + CL_HEADER_LEN, w.len - CL_HEADER_LEN);
    cl_reader_init(&r, b, w.len - CL_HEADER_LEN);
    cl_get_str(&r, out);
    assert_false(r.bad);
    assert_int_equal(strlen(out), CL_STR_MAX);
    assert_int_equal(r.left, 0);
    free(b);
    cl_wbuf_free(&w);
}

/* ---- HELLO */

static void sample_hello(cl_hello *h)
{
    memset(h, 0, sizeof *h);
    strcpy(h->cluster_name, "prod-eu");
    strcpy(h->node_name, "node-2.repram.svc");
    strcpy(h->run_id, "0123456789abcdef0123456789abcdef01234567");
    h->client_port = 6380;
    h->http_port = 8081;
    h->bus_port = 16380;
    h->cluster_size = 5;
}

/* Encode, check the header, return a heap copy of exactly the payload. */
static uint8_t *encode_payload(cl_wbuf *w, uint16_t type, size_t *n)
{
    assert_int_equal(cl_frame_end(w), 0);
    cl_frame_header fh;
    assert_int_equal(cl_frame_parse_header(w->data, w->len, MAX_FRAME, &fh), CL_FRAME_OK);
    assert_int_equal(fh.type, type);
    assert_int_equal(fh.len, w->len);
    *n = w->len - CL_HEADER_LEN;
    return exact_copy(w->data + CL_HEADER_LEN, *n);
}

/* The payload of a gossip frame of `type` with entries in[0..count-1] (caller frees). */
static uint8_t *gossip_payload(uint16_t type, const cl_gossip_entry *in, int count, size_t *n)
{
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_encode_gossip(&w, type, 0, 1, in, count);
    uint8_t *p = encode_payload(&w, type, n);
    cl_wbuf_free(&w);
    return p;
}

static void test_hello_round_trip(void **state)
{
    (void)state;
    const uint16_t types[] = {CL_HELLO, CL_HELLO_OK};
    for (size_t t = 0; t < 2; t++) {
        cl_hello in, out;
        sample_hello(&in);
        cl_wbuf w;
        cl_wbuf_init(&w);
        cl_encode_hello(&w, types[t], 77, &in);
        size_t n;
        uint8_t *p = encode_payload(&w, types[t], &n);
        memset(&out, 0x5a, sizeof out);
        assert_int_equal(cl_decode_hello(p, n, &out), 0);
        assert_string_equal(out.cluster_name, in.cluster_name);
        assert_string_equal(out.node_name, in.node_name);
        assert_string_equal(out.run_id, in.run_id);
        assert_int_equal(out.client_port, 6380);
        assert_int_equal(out.http_port, 8081);
        assert_int_equal(out.bus_port, 16380);
        assert_int_equal(out.cluster_size, 5);
        free(p);
        cl_wbuf_free(&w);
    }
    /* extreme values survive too */
    cl_hello in, out;
    sample_hello(&in);
    in.client_port = in.http_port = in.bus_port = 65535;
    in.cluster_size = 0xffffffffu;
    memset(in.cluster_name, 'c', CL_STR_MAX);
    in.cluster_name[CL_STR_MAX] = '\0';
    in.run_id[0] = '\0';
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_encode_hello(&w, CL_HELLO, 0, &in);
    size_t n;
    uint8_t *p = encode_payload(&w, CL_HELLO, &n);
    assert_int_equal(cl_decode_hello(p, n, &out), 0);
    assert_string_equal(out.cluster_name, in.cluster_name);
    assert_string_equal(out.run_id, "");
    assert_int_equal(out.bus_port, 65535);
    assert_true(out.cluster_size == 0xffffffffu);
    free(p);
    cl_wbuf_free(&w);
}

static void test_hello_truncations(void **state)
{
    (void)state;
    cl_hello in, out;
    sample_hello(&in);
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_encode_hello(&w, CL_HELLO, 0, &in);
    size_t n;
    uint8_t *p = encode_payload(&w, CL_HELLO, &n);
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = exact_copy(p, k);
        assert_int_equal(cl_decode_hello(c, k, &out), -1);
        free(c);
    }
    /* trailing bytes */
    for (size_t extra = 1; extra <= 3; extra++) {
        uint8_t *c = malloc(n + extra);
        assert_non_null(c);
        memcpy(c, p, n);
        memset(c + n, 0, extra);
        assert_int_equal(cl_decode_hello(c, n + extra, &out), -1);
        free(c);
    }
    free(p);
    cl_wbuf_free(&w);
}

static void test_hello_bad_strings(void **state)
{
    (void)state;
    cl_hello in, out;
    sample_hello(&in);
    cl_wbuf w;
    cl_wbuf_init(&w);
    cl_encode_hello(&w, CL_HELLO, 0, &in);
    size_t n;
    uint8_t *p = encode_payload(&w, CL_HELLO, &n);
    /* a NUL at every position of every string field */
    size_t at = 0;
    for (int field = 0; field < 3; field++) {
        size_t len = p[at];
        for (size_t i = 0; i < len; i++) {
            uint8_t *c = exact_copy(p, n);
            c[at + 1 + i] = 0;
            assert_int_equal(cl_decode_hello(c, n, &out), -1);
            free(c);
        }
        at += 1 + len;
    }
    free(p);
    /* an empty node name */
    sample_hello(&in);
    in.node_name[0] = '\0';
    cl_encode_hello(&w, CL_HELLO, 0, &in);
    p = encode_payload(&w, CL_HELLO, &n);
    assert_int_equal(cl_decode_hello(p, n, &out), -1);
    free(p);
    cl_wbuf_free(&w);
}

/* ---- PING / PONG */

static void sample_entries(cl_gossip_entry *e, int n)
{
    for (int i = 0; i < n; i++) {
        memset(&e[i], 0, sizeof e[i]);
        snprintf(e[i].name, sizeof e[i].name, "node-%d", i);
        snprintf(e[i].addr, sizeof e[i].addr, "10.0.%d.%d:16379", i / 200, i % 200);
        e[i].state = (uint8_t)(i % 4);
        e[i].client_port = (uint16_t)(6379 + i);
        e[i].http_port = (uint16_t)(i % 3 ? 8080 + i : 0);
    }
}

static void test_gossip_round_trip(void **state)
{
    (void)state;
    static cl_gossip_entry in[CL_GOSSIP_MAX], out[CL_GOSSIP_MAX];
    const int counts[] = {0, 1, 2, 7, (int)CL_GOSSIP_MAX};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        for (int ping = 0; ping < 2; ping++) {
            int n = counts[c];
            uint16_t type = ping ? CL_PING : CL_PONG;
            sample_entries(in, n);
            cl_wbuf w;
            cl_wbuf_init(&w);
            cl_encode_gossip(&w, type, 5, 1, in, n);
            size_t len;
            uint8_t *p = encode_payload(&w, type, &len);
            memset(out, 0x5a, sizeof out);
            assert_int_equal(cl_decode_gossip(p, len, &rdy, out, (int)CL_GOSSIP_MAX), n);
            for (int i = 0; i < n; i++) {
                assert_string_equal(out[i].name, in[i].name);
                assert_string_equal(out[i].addr, in[i].addr);
                assert_int_equal(out[i].state, in[i].state);
                assert_int_equal(out[i].client_port, in[i].client_port);
                assert_int_equal(out[i].http_port, in[i].http_port);
            }
            /* a receiver keeping fewer entries still validates the rest */
            if (n > 2) {
                assert_int_equal(cl_decode_gossip(p, len, &rdy, out, 2), 2);
                assert_string_equal(out[1].name, in[1].name);
                uint8_t *bad = exact_copy(p, len);
                bad[len - 5] = 9; /* the last entry's state: out of range */
                assert_int_equal(cl_decode_gossip(bad, len, &rdy, out, 2), -1);
                free(bad);
            }
            free(p);
            cl_wbuf_free(&w);
        }
    }
}

static void test_gossip_truncations(void **state)
{
    (void)state;
    cl_gossip_entry in[5], out[5];
    sample_entries(in, 5);
    size_t n;
    uint8_t *p = gossip_payload(CL_PING, in, 5, &n);
    for (size_t k = 0; k < n; k++) {
        uint8_t *c = exact_copy(p, k);
        assert_int_equal(cl_decode_gossip(c, k, &rdy, out, 5), -1);
        free(c);
    }
    for (size_t extra = 1; extra <= 3; extra++) {
        uint8_t *c = malloc(n + extra);
        assert_non_null(c);
        memcpy(c, p, n);
        memset(c + n, 'x', extra);
        assert_int_equal(cl_decode_gossip(c, n + extra, &rdy, out, 5), -1);
        free(c);
    }
    free(p);
}

static void test_gossip_bad_fields(void **state)
{
    (void)state;
    cl_gossip_entry in[2], out[2];
    sample_entries(in, 2);
    size_t n;
    uint8_t *p = gossip_payload(CL_PONG, in, 2, &n);
    /* NUL inside the first entry's name and address (after the ready flag and the count) */
    size_t name_at = 2, addr_at = 2 + 1 + p[2];
    for (size_t i = 0; i < p[name_at]; i++) {
        uint8_t *c = exact_copy(p, n);
        c[name_at + 1 + i] = 0;
        assert_int_equal(cl_decode_gossip(c, n, &rdy, out, 2), -1);
        free(c);
    }
    for (size_t i = 0; i < p[addr_at]; i++) {
        uint8_t *c = exact_copy(p, n);
        c[addr_at + 1 + i] = 0;
        assert_int_equal(cl_decode_gossip(c, n, &rdy, out, 2), -1);
        free(c);
    }
    /* a state beyond FAIL */
    size_t state_at = addr_at + 1 + p[addr_at];
    for (int s = CLUSTER_PEER_FAIL + 1; s < 256; s += 37) {
        uint8_t *c = exact_copy(p, n);
        c[state_at] = (uint8_t)s;
        assert_int_equal(cl_decode_gossip(c, n, &rdy, out, 2), -1);
        free(c);
    }
    /* a count that claims more entries than there are, and one over the limit */
    uint8_t *c = exact_copy(p, n);
    c[1] = 3;
    assert_int_equal(cl_decode_gossip(c, n, &rdy, out, 2), -1);
    c[1] = 1; /* fewer: the second entry becomes trailing bytes */
    assert_int_equal(cl_decode_gossip(c, n, &rdy, out, 2), -1);
    c[1] = 2;
    c[0] = 2; /* a ready flag that is neither 0 nor 1 */
    assert_int_equal(cl_decode_gossip(c, n, &rdy, out, 2), -1);
    free(c);
    uint8_t over[2] = {1, CL_GOSSIP_MAX + 1};
    c = exact_copy(over, 2);
    assert_int_equal(cl_decode_gossip(c, 2, &rdy, out, 2), -1);
    free(c);
    free(p);
    /* an empty name (an address alone says nothing about membership) */
    sample_entries(in, 2);
    in[1].name[0] = '\0';
    p = gossip_payload(CL_PONG, in, 2, &n);
    assert_int_equal(cl_decode_gossip(p, n, &rdy, out, 2), -1);
    free(p);
    /* the empty payload */
    c = exact_copy("", 0);
    assert_int_equal(cl_decode_gossip(c, 0, &rdy, out, 2), -1);
    free(c);
}

/* ---- random corruption */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

/* Decode buf[0..n) as a frame of whatever type its header says; must never crash. */
static void decode_any(const uint8_t *buf, size_t n)
{
    cl_frame_header h;
    int rc = cl_frame_parse_header(buf, n, 4096, &h);
    if (rc != CL_FRAME_OK) {
        assert_true(rc == CL_FRAME_SHORT || rc < 0);
        return;
    }
    assert_true(h.len >= CL_HEADER_LEN && h.len <= 4096);
    if (h.len > n) return; /* incomplete: a transport would wait for more */
    const uint8_t *p = buf + CL_HEADER_LEN;
    size_t len = h.len - CL_HEADER_LEN;
    uint8_t *c = exact_copy(p, len);
    cl_hello hello;
    static cl_gossip_entry e[CL_GOSSIP_MAX];
    char s[CL_STR_MAX + 1];
    cl_reader r;
    switch (h.type) {
    case CL_HELLO:
    case CL_HELLO_OK:
        if (cl_decode_hello(c, len, &hello) == 0) {
            assert_true(strlen(hello.node_name) > 0 && strlen(hello.node_name) <= CL_STR_MAX);
            assert_true(strlen(hello.cluster_name) <= CL_STR_MAX);
        }
        break;
    case CL_PING:
    case CL_PONG: {
        int k = cl_decode_gossip(c, len, &rdy, e, (int)(rnd() % (CL_GOSSIP_MAX + 1)));
        assert_true(k >= -1 && k <= (int)CL_GOSSIP_MAX);
        for (int i = 0; i < k; i++) assert_true(e[i].state <= CLUSTER_PEER_FAIL);
        break;
    }
    default:
        cl_reader_init(&r, c, len);
        cl_get_str(&r, s);
        (void)cl_get_u64(&r);
        assert_true(strlen(s) <= CL_STR_MAX);
        break;
    }
    free(c);
}

static void test_random_corruption(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ull;
    /* three valid frames to start from */
    cl_wbuf seeds[4];
    cl_hello hello;
    sample_hello(&hello);
    cl_gossip_entry e[6];
    sample_entries(e, 6);
    for (int i = 0; i < 4; i++) cl_wbuf_init(&seeds[i]);
    cl_encode_hello(&seeds[0], CL_HELLO, 1, &hello);
    cl_encode_gossip(&seeds[1], CL_PING, 2, 1, e, 6);
    cl_frame_begin(&seeds[2], CL_HELLO_ERR, 3);
    cl_put_str(&seeds[2], "duplicate node name");
    cl_frame_begin(&seeds[3], CL_ACK, 4);
    cl_put_u64(&seeds[3], 12345);
    for (int i = 0; i < 4; i++) assert_int_equal(cl_frame_end(&seeds[i]), 0);

    uint8_t buf[1024];
    for (int iter = 0; iter < 20000; iter++) {
        const cl_wbuf *s = &seeds[rnd() % 4];
        size_t n = s->len;
        memcpy(buf, s->data, n);
        int edits = 1 + (int)(rnd() % 4);
        for (int k = 0; k < edits; k++) {
            switch (rnd() % 6) {
            case 0: /* flip a bit */
                buf[rnd() % n] ^= (uint8_t)(1u << (rnd() % 8));
                break;
            case 1: /* random byte, biased to the payload */
                if (n > CL_HEADER_LEN) buf[CL_HEADER_LEN + rnd() % (n - CL_HEADER_LEN)] = (uint8_t)rnd();
                else buf[rnd() % n] = (uint8_t)rnd();
                break;
            case 2: /* truncate */
                n = rnd() % (n + 1);
                break;
            case 3: /* append garbage */
                if (n < sizeof buf - 16) {
                    size_t add = 1 + rnd() % 16;
                    for (size_t j = 0; j < add; j++) buf[n + j] = (uint8_t)rnd();
                    n += add;
                }
                break;
            case 4: /* make the length field agree with the new size (reach the decoders) */
                if (n >= 8) put_be32(buf + 4, (uint32_t)n);
                break;
            default: /* change the type */
                if (n >= 12) put_be16(buf + 10, (uint16_t)(1 + rnd() % CL_TYPE_MAX));
                break;
            }
            if (n == 0) break;
        }
        if (n >= 8 && rnd() % 2) put_be32(buf + 4, (uint32_t)n);
        uint8_t *c = exact_copy(buf, n);
        decode_any(c, n);
        free(c);
    }
    for (int i = 0; i < 4; i++) cl_wbuf_free(&seeds[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_ok),
        cmocka_unit_test(test_header_short),
        cmocka_unit_test(test_header_bad_magic),
        cmocka_unit_test(test_header_bad_version),
        cmocka_unit_test(test_header_bad_length),
        cmocka_unit_test(test_header_max_length),
        cmocka_unit_test(test_header_bad_type),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_writer_layout),
        cmocka_unit_test(test_writer_grows),
        cmocka_unit_test(test_reader_overrun),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_hello_round_trip),
        cmocka_unit_test(test_hello_truncations),
        cmocka_unit_test(test_hello_bad_strings),
        cmocka_unit_test(test_gossip_round_trip),
        cmocka_unit_test(test_gossip_truncations),
        cmocka_unit_test(test_gossip_bad_fields),
        cmocka_unit_test(test_random_corruption),
    };
    return cmocka_run_group_tests_name("cluster frame", tests, NULL, NULL);
}
