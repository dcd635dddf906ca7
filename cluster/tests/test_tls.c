/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_tls.c: the bus's shared-secret TLS contexts (tls.c), two of them at a time shaking hands
 * through an in-memory BIO pair: the same secret connects, a different secret or cluster name
 * does not, and every pair of neighbouring steps of a secret rotation (A; A + accept B;
 * B + accept A; B) connects in both directions while steps two apart need not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cluster/cluster_tls.h"

#define A "secret-A-0123456789abcdef"
#define B "secret-B-0123456789abcdef"
#define C "secret-C-0123456789abcdef"

static SSL_CTX *ctx(const char *secret, const char *accept, const char *cluster_name)
{
    char err[256] = "";
    SSL_CTX *c = cl_tls_ctx_psk(secret, accept, cluster_name, err, sizeof err);
    if (!c) fail_msg("cl_tls_ctx_psk: %s", err);
    return c;
}

/* Dialer `d` against acceptor `a`: 1 when the handshake completes on both sides and a byte
 * written by each side reads back on the other (both derived the same traffic keys). */
static int connects(SSL_CTX *d, SSL_CTX *a)
{
    SSL *c = SSL_new(d), *s = SSL_new(a);
    BIO *cb = NULL, *sb = NULL;
    assert_true(c && s && BIO_new_bio_pair(&cb, 0, &sb, 0) == 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);
    int cdone = 0, sdone = 0, failed = 0;
    for (int round = 0; round < 20 && !(cdone && sdone) && !failed; round++) {
        SSL *side[2] = {c, s};
        int *done[2] = {&cdone, &sdone};
        for (int i = 0; i < 2 && !failed; i++) {
            if (*done[i]) continue;
            int r = SSL_do_handshake(side[i]);
            if (r == 1) {
                *done[i] = 1;
                continue;
            }
            int e = SSL_get_error(side[i], r);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) failed = 1;
        }
    }
    int ok = cdone && sdone && !failed;
    if (ok) {
        char x = 0, y = 0;
        ok = SSL_write(c, "x", 1) == 1 && SSL_read(s, &x, 1) == 1 && x == 'x' &&
             SSL_write(s, "y", 1) == 1 && SSL_read(c, &y, 1) == 1 && y == 'y';
    }
    SSL_free(c);
    SSL_free(s);
    ERR_clear_error();
    return ok;
}

static void test_same_secret_connects(void **state)
{
    (void)state;
    SSL_CTX *a1 = ctx(A, NULL, "repram"), *a2 = ctx(A, NULL, "repram");
    SSL_CTX *b = ctx(B, NULL, "repram"), *other = ctx(A, NULL, "other");
    assert_true(connects(a1, a2));
    assert_true(connects(a2, a1));
    assert_false(connects(a1, b)); /* another secret */
    assert_false(connects(b, a1));
    assert_false(connects(a1, other)); /* another cluster name: another key and identity */
    SSL_CTX_free(a1);
    SSL_CTX_free(a2);
    SSL_CTX_free(b);
    SSL_CTX_free(other);
}

/* The rotation of docs/operations.md: every node goes A -> A+B -> B+A -> B, one rolling restart
 * per arrow, so live nodes are at most one step apart and each such pair must connect both
 * ways.  Nodes two or more steps apart share a key only by accident of direction. */
static void test_rotation_steps_connect(void **state)
{
    (void)state;
    SSL_CTX *step[4] = {ctx(A, NULL, "repram"), ctx(A, B, "repram"), ctx(B, A, "repram"),
                        ctx(B, NULL, "repram")};
    for (int i = 0; i < 4; i++) {
        assert_true(connects(step[i], step[i]));
        if (i + 1 < 4) {
            if (!connects(step[i], step[i + 1])) fail_msg("step %d cannot dial step %d", i, i + 1);
            if (!connects(step[i + 1], step[i])) fail_msg("step %d cannot dial step %d", i + 1, i);
        }
    }
    assert_false(connects(step[0], step[3])); /* A alone and B alone share nothing */
    assert_false(connects(step[3], step[0]));
    /* a stranger's secret is refused by a node that accepts two */
    SSL_CTX *c = ctx(C, NULL, "repram"), *cb = ctx(C, B, "repram");
    assert_false(connects(c, step[1]));
    assert_false(connects(c, step[2]));
    assert_false(connects(cb, step[1])); /* dials with C, which neither key of step 1 is */
    assert_false(connects(step[1], c));
    SSL_CTX_free(c);
    SSL_CTX_free(cb);
    for (int i = 0; i < 4; i++) SSL_CTX_free(step[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_secret_connects),
        cmocka_unit_test(test_rotation_steps_connect),
    };
    return cmocka_run_group_tests_name("cluster/tls", tests, NULL, NULL);
}
