/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_ratelimit.c: server/ratelimit.c: address parsing, CIDR lists, X-Forwarded-For resolution
 * (spoofing, malformed entries, several headers) and the token buckets driven by an injected
 * clock (refill without lost fractions, retry-after, clocks going back, rate changes, IPv6 /64
 * keys, bounded table with idle reclaim and counted overflow).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "server/ratelimit.h"

static srv_ipaddr ip(const char *s)
{
    srv_ipaddr a;
    if (srv_ipaddr_parse(s, strlen(s), &a) != 0) fail_msg("not an address: %s", s);
    return a;
}

static const char *text(const srv_ipaddr *a)
{
    static char buf[SRV_IPADDR_TEXT];
    return srv_ipaddr_format(a, buf, sizeof buf);
}

static void test_ipaddr_parse(void **state)
{
    srv_ipaddr a;

    (void)state;
    a = ip("192.0.2.7");
    assert_int_equal(a.len, 4);
    assert_string_equal(text(&a), "192.0.2.7");
    a = ip("2001:db8::1");
    assert_int_equal(a.len, 16);
    assert_string_equal(text(&a), "2001:db8::1");
    a = ip("::ffff:192.0.2.9"); /* IPv4-mapped: the same client as 192.0.2.9 */
    assert_int_equal(a.len, 4);
    assert_string_equal(text(&a), "192.0.2.9");
    static const char *const bad[] = {"", "1.2.3", "1.2.3.4 ", " 1.2.3.4", "256.1.1.1", "::g",
                                      "1.2.3.4:80", "[::1]", "localhost", NULL};
    for (int i = 0; bad[i]; i++) assert_int_equal(srv_ipaddr_parse(bad[i], strlen(bad[i]), &a), -1);
    assert_int_equal(srv_ipaddr_parse("1.2.3.4\0x", 9, &a), -1); /* an embedded NUL */
    assert_int_equal(a.len, 0);
    assert_string_equal(text(&a), "-");
}

static void test_cidr(void **state)
{
    srv_cidr n[4];
    srv_ipaddr a;

    (void)state;
    assert_int_equal(srv_cidr_parse("10.1.2.3/8", 10, &n[0]), 0); /* host bits are cleared */
    assert_int_equal(n[0].bits, 8);
    assert_string_equal(text(&n[0].net), "10.0.0.0");
    assert_int_equal(srv_cidr_parse("192.168.1.7", 11, &n[1]), 0);
    assert_int_equal(n[1].bits, 32);
    assert_int_equal(srv_cidr_parse("fd00::/8", 8, &n[2]), 0);
    assert_int_equal(srv_cidr_parse("172.16.0.0/12", 13, &n[3]), 0);

    a = ip("10.255.0.1");
    assert_true(srv_cidr_match(n, 4, &a));
    a = ip("11.0.0.1");
    assert_false(srv_cidr_match(n, 4, &a));
    a = ip("192.168.1.7");
    assert_true(srv_cidr_match(n, 4, &a));
    a = ip("192.168.1.8");
    assert_false(srv_cidr_match(n, 4, &a));
    a = ip("fdab::1");
    assert_true(srv_cidr_match(n, 4, &a));
    a = ip("fe80::1");
    assert_false(srv_cidr_match(n, 4, &a));
    a = ip("172.31.255.255"); /* /12 cuts inside a byte */
    assert_true(srv_cidr_match(n, 4, &a));
    a = ip("172.32.0.0");
    assert_false(srv_cidr_match(n, 4, &a));
    a = ip("::ffff:10.0.0.1"); /* mapped addresses match IPv4 networks */
    assert_true(srv_cidr_match(n, 4, &a));
    memset(&a, 0, sizeof a); /* no address matches nothing */
    assert_false(srv_cidr_match(n, 4, &a));

    srv_cidr all;
    assert_int_equal(srv_cidr_parse("0.0.0.0/0", 9, &all), 0);
    a = ip("8.8.8.8");
    assert_true(srv_cidr_match(&all, 1, &a));
    a = ip("2001:db8::1"); /* an IPv4 network never matches IPv6 */
    assert_false(srv_cidr_match(&all, 1, &a));

    static const char *const bad[] = {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/abc", "10.0.0.0/-1",
                                      "2001:db8::/129", "10.0.0.0/8/8", "/8", "10.0.0.0/0008",
                                      "example.com", NULL};
    for (int i = 0; bad[i]; i++) assert_int_equal(srv_cidr_parse(bad[i], strlen(bad[i]), &all), -1);
}

/* The client srv_ipaddr_from_forwarded picks, as text. */
static const char *client(const char *peer, const char *const *xff, size_t n)
{
    static srv_cidr trusted[2];
    static int ready;
    srv_ipaddr p = ip(peer), c;
    if (!ready) {
        srv_cidr_parse("10.0.0.0/8", 10, &trusted[0]);
        srv_cidr_parse("::1", 3, &trusted[1]);
        ready = 1;
    }
    srv_ipaddr_from_forwarded(&p, xff, n, trusted, 2, &c);
    return text(&c);
}

static void test_forwarded(void **state)
{
    (void)state;
    const char *one[] = {"1.1.1.1"};
    /* an untrusted peer is the client, whatever it claims */
    assert_string_equal(client("203.0.113.5", one, 1), "203.0.113.5");
    assert_string_equal(client("10.0.0.1", NULL, 0), "10.0.0.1");
    assert_string_equal(client("10.0.0.1", one, 1), "1.1.1.1");
    assert_string_equal(client("::1", one, 1), "1.1.1.1");
    /* the right-most untrusted entry: a client cannot spoof by prepending */
    const char *chain[] = {"6.6.6.6, 1.1.1.1, 10.0.0.2"};
    assert_string_equal(client("10.0.0.1", chain, 1), "1.1.1.1");
    const char *alltrusted[] = {"10.0.0.3,10.0.0.2"};
    assert_string_equal(client("10.0.0.1", alltrusted, 1), "10.0.0.3");
    /* several headers are one list, in order */
    const char *two[] = {"1.1.1.1", "10.0.0.2"};
    assert_string_equal(client("10.0.0.1", two, 2), "1.1.1.1");
    /* ports, brackets, spaces */
    const char *ports[] = {" [2001:db8::5]:1234 , 10.9.9.9:8080 "};
    assert_string_equal(client("10.0.0.1", ports, 1), "2001:db8::5");
    const char *v4port[] = {"1.2.3.4:80"};
    assert_string_equal(client("10.0.0.1", v4port, 1), "1.2.3.4");
    /* garbage ends the walk at the hop that appended it */
    const char *junk[] = {"1.1.1.1, unknown"};
    assert_string_equal(client("10.0.0.1", junk, 1), "10.0.0.1");
    const char *junk2[] = {"unknown, 10.0.0.7"};
    assert_string_equal(client("10.0.0.1", junk2, 1), "10.0.0.7");
    const char *empty[] = {""};
    assert_string_equal(client("10.0.0.1", empty, 1), "10.0.0.1");
    const char *commas[] = {"1.1.1.1,,"};
    assert_string_equal(client("10.0.0.1", commas, 1), "10.0.0.1");
}

static void test_bucket_refill(void **state)
{
    srv_ratelimit *rl = srv_ratelimit_create(64, 42);
    srv_ipaddr a = ip("192.0.2.1");
    uint64_t retry = 0;

    (void)state;
    assert_non_null(rl);
    /* a burst of 3 at 1 token/s */
    for (int i = 0; i < 3; i++) assert_true(srv_ratelimit_take(rl, &a, 1000, 1, 3, &retry));
    assert_false(srv_ratelimit_take(rl, &a, 1000, 1, 3, &retry));
    assert_int_equal(retry, 1000);
    assert_false(srv_ratelimit_take(rl, &a, 1999, 1, 3, &retry)); /* 0.999 tokens */
    assert_int_equal(retry, 1);
    assert_true(srv_ratelimit_take(rl, &a, 2000, 1, 3, NULL));
    assert_false(srv_ratelimit_take(rl, &a, 2000, 1, 3, NULL));
    /* a long pause refills to the burst, not beyond */
    for (int i = 0; i < 3; i++) assert_true(srv_ratelimit_take(rl, &a, 100000, 1, 3, NULL));
    assert_false(srv_ratelimit_take(rl, &a, 100000, 1, 3, NULL));

    /* no fraction of time is lost: sampled every 7 ms, 3/s still gives a token every 333.3 ms
     * (REPRAM's int(elapsed * rate) would add nothing at all at this sampling) */
    srv_ipaddr b = ip("192.0.2.2");
    assert_true(srv_ratelimit_take(rl, &b, 0, 3, 2, NULL));
    int allowed = 0;
    for (uint64_t t = 1; t <= 10000; t += 7) allowed += srv_ratelimit_take(rl, &b, t, 3, 2, NULL);
    assert_int_equal(allowed, 30); /* the token left at t=0, then 29.99 refilled in 9.997 s */
    assert_int_equal(srv_ratelimit_tracked(rl), 2);
    srv_ratelimit_free(rl);
    srv_ratelimit_free(NULL);
}

static void test_bucket_clock_and_rate_changes(void **state)
{
    srv_ratelimit *rl = srv_ratelimit_create(64, 7);
    srv_ipaddr a = ip("198.51.100.1");

    (void)state;
    assert_true(srv_ratelimit_take(rl, &a, 7200000, 10, 1, NULL));
    /* the clock goes back an hour: no tokens appear, and refilling resumes from there */
    assert_false(srv_ratelimit_take(rl, &a, 3600000, 10, 1, NULL));
    assert_true(srv_ratelimit_take(rl, &a, 3600000 + 100, 10, 1, NULL));
    /* a smaller burst caps what a bucket holds at once */
    srv_ipaddr b = ip("198.51.100.2");
    assert_true(srv_ratelimit_take(rl, &b, 0, 100, 200, NULL)); /* 199 left */
    int n = 0;
    while (srv_ratelimit_take(rl, &b, 0, 100, 5, NULL)) n++;
    assert_int_equal(n, 5);
    srv_ratelimit_free(rl);
}

static void test_bucket_keys(void **state)
{
    srv_ratelimit *rl = srv_ratelimit_create(64, 9);
    srv_ipaddr a = ip("2001:db8:1:2::1"), same64 = ip("2001:db8:1:2:ffff::9"),
               other64 = ip("2001:db8:1:3::1"), v4 = ip("203.0.113.1"), v4b = ip("203.0.113.2");

    (void)state;
    assert_true(srv_ratelimit_take(rl, &a, 0, 1, 1, NULL));
    assert_false(srv_ratelimit_take(rl, &same64, 0, 1, 1, NULL)); /* one bucket per /64 */
    assert_true(srv_ratelimit_take(rl, &other64, 0, 1, 1, NULL));
    assert_true(srv_ratelimit_take(rl, &v4, 0, 1, 1, NULL));
    assert_true(srv_ratelimit_take(rl, &v4b, 0, 1, 1, NULL)); /* IPv4: one per address */
    assert_false(srv_ratelimit_take(rl, &v4, 0, 1, 1, NULL));
    assert_int_equal(srv_ratelimit_tracked(rl), 4);
    srv_ratelimit_free(rl);
}

static void test_bucket_table_is_bounded(void **state)
{
    /* 8 slots = one probe window: every address competes for the same slots */
    srv_ratelimit *rl = srv_ratelimit_create(8, 1);
    char name[32];
    srv_ipaddr a;

    (void)state;
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "192.0.2.%d", i + 1);
        a = ip(name);
        assert_true(srv_ratelimit_take(rl, &a, 0, 1, 2, NULL)); /* each below full now */
    }
    assert_int_equal(srv_ratelimit_tracked(rl), 8);
    assert_int_equal(srv_ratelimit_overflows(rl), 0);
    /* a ninth busy address must take over a bucket that is still in use: counted */
    a = ip("192.0.2.100");
    assert_true(srv_ratelimit_take(rl, &a, 0, 1, 2, NULL));
    assert_int_equal(srv_ratelimit_overflows(rl), 1);
    assert_int_equal(srv_ratelimit_tracked(rl), 8); /* memory does not grow */
    /* later every bucket has refilled: new addresses reclaim idle ones at no cost */
    for (int i = 0; i < 50; i++) {
        snprintf(name, sizeof name, "198.51.100.%d", i + 1);
        a = ip(name);
        assert_true(srv_ratelimit_take(rl, &a, 10000 + (uint64_t)i * 10000, 1, 2, NULL));
    }
    assert_int_equal(srv_ratelimit_overflows(rl), 1);
    assert_int_equal(srv_ratelimit_tracked(rl), 8);
    srv_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipaddr_parse),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_forwarded),
        cmocka_unit_test(test_bucket_refill),
        cmocka_unit_test(test_bucket_clock_and_rate_changes),
        cmocka_unit_test(test_bucket_keys),
        cmocka_unit_test(test_bucket_table_is_bounded),
    };
    return cmocka_run_group_tests_name("server/ratelimit", tests, NULL, NULL);
}
