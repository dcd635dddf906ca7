/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_encode.c: server/encode.c: percent-decoding (binary keys, malformed escapes), query
 * parameters, JSON strings of binary keys (escapes, UTF-8 validation, the \udcXX bytes and that
 * Python's surrogateescape reading of them gives the bytes back), base64, RFC 3339 times, Go-style
 * durations, Prometheus text escaping and the constant-time token comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

#include "server/encode.h"

/* The contents of b as a NUL-terminated string (the buffer is emptied). */
static const char *take(struct evbuffer *b)
{
    static char out[1024];
    size_t n = evbuffer_get_length(b);
    assert_true(n < sizeof out);
    evbuffer_remove(b, out, n);
    out[n] = '\0';
    return out;
}

static void test_url_decode(void **state)
{
    char out[64];
    size_t n;

    (void)state;
    assert_int_equal(srv_url_decode("a%20b%2Fc", 9, 0, out, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "a b/c", 5);
    assert_int_equal(srv_url_decode("%00%ff%FF", 9, 0, out, &n), 0); /* binary, either case */
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\0\xff\xff", 3);
    assert_int_equal(srv_url_decode("a+b", 3, 0, out, &n), 0); /* paths keep '+' */
    assert_memory_equal(out, "a+b", 3);
    assert_int_equal(srv_url_decode("a+b", 3, 1, out, &n), 0); /* query strings: a space */
    assert_memory_equal(out, "a b", 3);
    assert_int_equal(srv_url_decode("", 0, 0, out, &n), 0);
    assert_int_equal(n, 0);
    static const char *const bad[] = {"%", "%2", "a%zz", "%g0", "%0g", "ok%", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(srv_url_decode(bad[i], strlen(bad[i]), 0, out, &n), -1);
}

static void test_query_get(void **state)
{
    const char *v;
    size_t n;

    (void)state;
    assert_int_equal(srv_query_get("ttl=60&x=1", "ttl", &v, &n), 1);
    assert_int_equal(n, 2);
    assert_memory_equal(v, "60", 2);
    assert_int_equal(srv_query_get("ttlx=1&ttl=2", "ttl", &v, &n), 1); /* whole names only */
    assert_memory_equal(v, "2", 1);
    assert_int_equal(srv_query_get("ttl=1&ttl=2", "ttl", &v, &n), 1); /* the first wins */
    assert_memory_equal(v, "1", 1);
    assert_int_equal(srv_query_get("x=1&ttl", "ttl", &v, &n), 1); /* present, empty */
    assert_int_equal(n, 0);
    assert_int_equal(srv_query_get("x=1&&prefix=a%26b", "prefix", &v, &n), 1);
    assert_int_equal(n, 5);
    assert_int_equal(srv_query_get("x=1", "ttl", &v, &n), 0);
    assert_int_equal(srv_query_get("", "ttl", &v, &n), 0);
    assert_int_equal(srv_query_get(NULL, "ttl", &v, &n), 0);
}

static void test_json_string(void **state)
{
    struct evbuffer *b = evbuffer_new();

    (void)state;
    srv_json_string(b, "plain key:1", 11);
    assert_string_equal(take(b), "\"plain key:1\"");
    srv_json_string(b, "q\"b\\s/", 6);
    assert_string_equal(take(b), "\"q\\\"b\\\\s/\"");
    srv_json_string(b, "\n\r\t\b\f\x01\x1f\x7f", 8);
    assert_string_equal(take(b), "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
    srv_json_string(b, "\0", 1);
    assert_string_equal(take(b), "\"\\u0000\"");
    /* valid UTF-8 passes through: 2, 3 and 4 byte sequences */
    srv_json_string(b, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14);
    assert_string_equal(take(b), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* bytes outside UTF-8 become lone low surrogates, one per byte */
    srv_json_string(b, "a\xff" "b", 3);
    assert_string_equal(take(b), "\"a\\udcffb\"");
    srv_json_string(b, "\xc0\x80", 2); /* overlong NUL */
    assert_string_equal(take(b), "\"\\udcc0\\udc80\"");
    srv_json_string(b, "\xed\xa0\x80", 3); /* an encoded surrogate is not UTF-8 */
    assert_string_equal(take(b), "\"\\udced\\udca0\\udc80\"");
    srv_json_string(b, "\xe2\x82", 2); /* truncated sequence */
    assert_string_equal(take(b), "\"\\udce2\\udc82\"");
    srv_json_string(b, "\xf4\x90\x80\x80", 4); /* above U+10FFFF */
    assert_string_equal(take(b), "\"\\udcf4\\udc90\\udc80\\udc80\"");
    srv_json_string(b, "", 0);
    assert_string_equal(take(b), "\"\"");
    evbuffer_free(b);
}

static void test_json_base64(void **state)
{
    struct evbuffer *b = evbuffer_new();
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"\"\"", "\"Zg==\"", "\"Zm8=\"", "\"Zm9v\"",
                                       "\"Zm9vYg==\"", "\"Zm9vYmE=\"", "\"Zm9vYmFy\""};

    (void)state;
    for (int i = 0; i < 7; i++) { /* RFC 4648's test vectors */
        srv_json_base64(b, in[i], strlen(in[i]));
        assert_string_equal(take(b), want[i]);
    }
    srv_json_base64(b, "\0\xff\xfe", 3);
    assert_string_equal(take(b), "\"AP/+\"");
    evbuffer_free(b);
}

static void test_times(void **state)
{
    char buf[40];

    (void)state;
    assert_int_equal(srv_format_rfc3339_ms(0, buf, sizeof buf), 24);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    srv_format_rfc3339_ms(1700000000123ULL, buf, sizeof buf);
    assert_string_equal(buf, "2023-11-14T22:13:20.123Z");
    srv_format_rfc3339_ms(951782400999ULL, buf, sizeof buf); /* a leap day */
    assert_string_equal(buf, "2000-02-29T00:00:00.999Z");
    srv_format_duration_s(0, buf, sizeof buf);
    assert_string_equal(buf, "0s");
    srv_format_duration_s(59, buf, sizeof buf);
    assert_string_equal(buf, "59s");
    srv_format_duration_s(60, buf, sizeof buf);
    assert_string_equal(buf, "1m0s");
    srv_format_duration_s(3723, buf, sizeof buf);
    assert_string_equal(buf, "1h2m3s");
    srv_format_duration_s(90000, buf, sizeof buf);
    assert_string_equal(buf, "25h0m0s");
}

static void test_prometheus_text(void **state)
{
    struct evbuffer *b = evbuffer_new();

    (void)state;
    srv_prom_label_value(b, "plain|sub");
    assert_string_equal(take(b), "plain|sub");
    srv_prom_label_value(b, "a\"b\\c\nd");
    assert_string_equal(take(b), "a\\\"b\\\\c\\nd");
    srv_prom_family(b, "repram_x_total", "counter", "Help with \\ and \"quotes\"\nand a line.");
    assert_string_equal(take(b), "# HELP repram_x_total Help with \\\\ and \"quotes\"\\n"
                                 "and a line.\n"
                                 "# TYPE repram_x_total counter\n");
    evbuffer_free(b);
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_true(srv_token_equal("s3cret", 6, "s3cret", 6));
    assert_false(srv_token_equal("s3creT", 6, "s3cret", 6));
    assert_false(srv_token_equal("s3cre", 5, "s3cret", 6));
    assert_false(srv_token_equal("s3crets3cret", 12, "s3cret", 6)); /* a repeat is not equal */
    assert_false(srv_token_equal("", 0, "s3cret", 6));
    assert_false(srv_token_equal("", 0, "", 0)); /* no secret: nothing matches */
    assert_false(srv_token_equal("x", 1, "", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_decode),
        cmocka_unit_test(test_query_get),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_json_base64),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_prometheus_text),
        cmocka_unit_test(test_token_equal),
    };
    return cmocka_run_group_tests_name("server/encode", tests, NULL, NULL);
}
