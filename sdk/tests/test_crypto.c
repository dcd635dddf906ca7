/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_crypto.c: the offline half of librepram: sealing, opening and blinding (crypto.c), without
 * a server.  Round trips of empty, small, binary and 10 MiB values; every single-bit change of a
 * blob and of its associated data is rejected with the error class FORMAT.md section 5 predicts;
 * every truncation is rejected; a wrong key is reported as such; 100 000 nonces never repeat.
 *
 * The 10 MiB and 100 000-nonce tests are sized to finish in seconds under valgrind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdk/repram_internal.h"

/* Values in the nonce sample: large enough to make a repeat of a broken generator certain,
 * small enough for valgrind. */
#define NONCE_SAMPLE 100000

static repram_keys *keys_from_byte(uint8_t b, const char *prefix)
{
    uint8_t mk[REPRAM_KEY_BYTES];
    memset(mk, b, sizeof(mk));
    repram_keys *k = NULL;
    assert_int_equal(repram_keys_create(&k, mk), REPRAM_OK);
    assert_int_equal(repram_keys_set_prefix(k, prefix), REPRAM_OK);
    return k;
}

static void round_trip(const void *name, size_t name_len, const void *value, size_t len)
{
    repram_keys *k = keys_from_byte(7, "rt:");
    void *blob = NULL, *back = NULL;
    size_t blob_len = 0, back_len = 0;
    assert_int_equal(repram_seal(k, name, name_len, value, len, &blob, &blob_len), REPRAM_OK);
    assert_int_equal(blob_len, len + REPRAM_BLOB_OVERHEAD);
    assert_memory_equal(blob, "RPRM\x01\x01\x00\x00", 8);
    assert_int_equal(repram_open(k, name, name_len, blob, blob_len, &back, &back_len), REPRAM_OK);
    assert_int_equal(back_len, len);
    if (len > 0) assert_memory_equal(back, value, len);
    assert_int_equal(((const char *)back)[len], '\0');
    repram_buf_free(blob);
    repram_buf_free(back);
    repram_keys_free(k);
}

static void test_round_trip_empty(void **state)
{
    (void)state;
    round_trip("k", 1, NULL, 0);
    round_trip("", 0, "", 0);
}

static void test_round_trip_small(void **state)
{
    (void)state;
    round_trip("greeting", 8, "hello, repram", 13);
}

static void test_round_trip_binary(void **state)
{
    (void)state;
    uint8_t v[256];
    for (int i = 0; i < 256; i++) v[i] = (uint8_t)(255 - i);
    round_trip("\0\xff\n name", 8, v, sizeof(v));
}

static void test_round_trip_10mib(void **state)
{
    (void)state;
    size_t len = (size_t)10 << 20;
    uint8_t *v = malloc(len);
    assert_non_null(v);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v[i] = (uint8_t)x;
    }
    round_trip("big", 3, v, len);
    free(v);
}

/* The error FORMAT.md section 5 predicts for one flipped bit at byte off of a blob whose value
 * has len bytes. */
static int expected_for_flip(size_t off, size_t len)
{
    if (off < 4) return REPRAM_ERR_NOT_BLOB;
    if (off < 8) return REPRAM_ERR_VERSION;
    if (off < 12) return -100; /* length field: TRUNCATED or TAMPERED, by direction */
    if (off < 28) return REPRAM_ERR_WRONG_KEY; /* key check or nonce */
    (void)len;
    return REPRAM_ERR_TAMPERED;                /* ciphertext and tag */
}

static void test_every_bit_flip_rejected(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(1, "");
    const char *value = "attack at dawn";
    size_t len = strlen(value);
    void *blob = NULL;
    size_t blob_len = 0;
    assert_int_equal(repram_seal(k, "n", 1, value, len, &blob, &blob_len), REPRAM_OK);
    uint8_t *copy = malloc(blob_len);
    assert_non_null(copy);
    for (size_t bit = 0; bit < blob_len * 8; bit++) {
        memcpy(copy, blob, blob_len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        void *out = (void *)1;
        size_t out_len = 0;
        int rc = repram_open(k, "n", 1, copy, blob_len, &out, &out_len);
        assert_null(out);
        int want = expected_for_flip(bit / 8, len);
        if (want == -100) {
            if (rc != REPRAM_ERR_TRUNCATED && rc != REPRAM_ERR_TAMPERED) fail_msg("bit %zu: rc %d", bit, rc);
        } else if (rc != want) {
            fail_msg("bit %zu (byte %zu): got %d (%s), want %d", bit, bit / 8, rc,
                     repram_strerror(rc), want);
        }
    }
    free(copy);
    repram_buf_free(blob);
    repram_keys_free(k);
}

/* Associated data: every bit of the stored name (prefix included) matters. */
static void test_every_aad_bit_flip_rejected(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(2, "tenant/");
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
    size_t stored_len = 0;
    assert_int_equal(repram_blind(k, "name", 4, stored, sizeof(stored), &stored_len), REPRAM_OK);
    uint8_t nonce[RP_NONCE_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};
    void *blob = NULL, *out = NULL;
    size_t blob_len = 0, out_len = 0;
    assert_int_equal(repram_seal_stored(k, stored, stored_len, "v", 1, nonce, &blob, &blob_len),
                     REPRAM_OK);
    assert_int_equal(repram_open_stored(k, stored, stored_len, blob, blob_len, &out, &out_len),
                     REPRAM_OK);
    repram_buf_free(out);
    for (size_t bit = 0; bit < stored_len * 8; bit++) {
        char aad[sizeof(stored)];
        memcpy(aad, stored, stored_len);
        aad[bit / 8] ^= (char)(1u << (bit % 8));
        out = (void *)1;
        assert_int_equal(repram_open_stored(k, aad, stored_len, blob, blob_len, &out, &out_len),
                         REPRAM_ERR_TAMPERED);
        assert_null(out);
    }
    /* A shorter or longer name is different associated data too. */
    assert_int_equal(repram_open_stored(k, stored, stored_len - 1, blob, blob_len, &out, &out_len),
                     REPRAM_ERR_TAMPERED);
    /* And the same name under another prefix. */
    repram_keys *k2 = keys_from_byte(2, "tenant:");
    assert_int_equal(repram_open(k2, "name", 4, blob, blob_len, &out, &out_len), REPRAM_ERR_TAMPERED);
    repram_keys_free(k2);
    repram_buf_free(blob);
    repram_keys_free(k);
}

static void test_every_truncation_rejected(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(3, "");
    void *blob = NULL, *out = NULL;
    size_t blob_len = 0, out_len = 0;
    assert_int_equal(repram_seal(k, "n", 1, "some value", 10, &blob, &blob_len), REPRAM_OK);
    for (size_t n = 0; n < blob_len; n++) {
        int rc = repram_open(k, "n", 1, blob, n, &out, &out_len);
        assert_int_equal(rc, n == 0 ? REPRAM_ERR_NOT_BLOB : REPRAM_ERR_TRUNCATED);
        assert_null(out);
    }
    /* One byte too many is not a truncation: it is tampering. */
    uint8_t *longer = malloc(blob_len + 1);
    assert_non_null(longer);
    memcpy(longer, blob, blob_len);
    longer[blob_len] = 0;
    assert_int_equal(repram_open(k, "n", 1, longer, blob_len + 1, &out, &out_len), REPRAM_ERR_TAMPERED);
    free(longer);
    repram_buf_free(blob);
    repram_keys_free(k);
}

static void test_wrong_key_rejected(void **state)
{
    (void)state;
    repram_keys *a = keys_from_byte(4, ""), *b = keys_from_byte(5, "");
    void *blob = NULL, *out = NULL;
    size_t blob_len = 0, out_len = 0;
    /* Over many blobs (random nonces) the 32-bit key check always catches another key. */
    for (int i = 0; i < 200; i++) {
        assert_int_equal(repram_seal(a, "n", 1, "secret", 6, &blob, &blob_len), REPRAM_OK);
        out = (void *)1;
        assert_int_equal(repram_open(b, "n", 1, blob, blob_len, &out, &out_len), REPRAM_ERR_WRONG_KEY);
        assert_null(out);
        repram_buf_free(blob);
    }
    /* Blinding differs too: the normal symptom of a wrong key is "not found". */
    char sa[REPRAM_NAME_LEN + 1], sb[REPRAM_NAME_LEN + 1];
    assert_int_equal(repram_blind(a, "n", 1, sa, sizeof(sa), NULL), REPRAM_OK);
    assert_int_equal(repram_blind(b, "n", 1, sb, sizeof(sb), NULL), REPRAM_OK);
    assert_string_not_equal(sa, sb);
    repram_keys_free(a);
    repram_keys_free(b);
}

static void test_foreign_values_rejected(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(6, "");
    void *out = NULL;
    size_t out_len = 0;
    assert_int_equal(repram_open(k, "n", 1, "hello", 5, &out, &out_len), REPRAM_ERR_NOT_BLOB);
    assert_int_equal(repram_open(k, "n", 1, "", 0, &out, &out_len), REPRAM_ERR_NOT_BLOB);
    assert_int_equal(repram_open(k, "n", 1, NULL, 0, &out, &out_len), REPRAM_ERR_NOT_BLOB);
    assert_int_equal(repram_open(k, "n", 1, "RPR", 3, &out, &out_len), REPRAM_ERR_TRUNCATED);
    uint8_t v2[64] = "RPRM\x02\x01";
    assert_int_equal(repram_open(k, "n", 1, v2, sizeof(v2), &out, &out_len), REPRAM_ERR_VERSION);
    repram_keys_free(k);
}

static int cmp_nonce(const void *a, const void *b)
{
    return memcmp(a, b, RP_NONCE_LEN);
}

static int cmp_check(const void *a, const void *b)
{
    return memcmp(a, b, RP_CHECK_LEN);
}

static void test_nonces_never_repeat(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(8, "");
    uint8_t *nonces = malloc((size_t)NONCE_SAMPLE * RP_NONCE_LEN);
    uint8_t *checks = malloc((size_t)NONCE_SAMPLE * RP_CHECK_LEN);
    assert_non_null(nonces);
    assert_non_null(checks);
    for (size_t i = 0; i < NONCE_SAMPLE; i++) {
        void *blob = NULL;
        size_t blob_len = 0;
        assert_int_equal(repram_seal(k, "same name", 9, "same value", 10, &blob, &blob_len), REPRAM_OK);
        memcpy(nonces + i * RP_NONCE_LEN, (uint8_t *)blob + RP_OFF_NONCE, RP_NONCE_LEN);
        memcpy(checks + i * RP_CHECK_LEN, (uint8_t *)blob + RP_OFF_CHECK, RP_CHECK_LEN);
        repram_buf_free(blob);
    }
    qsort(nonces, NONCE_SAMPLE, RP_NONCE_LEN, cmp_nonce);
    for (size_t i = 1; i < NONCE_SAMPLE; i++)
        if (memcmp(nonces + (i - 1) * RP_NONCE_LEN, nonces + i * RP_NONCE_LEN, RP_NONCE_LEN) == 0)
            fail_msg("nonce repeated within %d writes", NONCE_SAMPLE);
    /* The key check follows the nonce, so it must not be a constant key id: with 32 bits and
     * 100 000 samples a few birthday collisions are expected, thousands are not. */
    qsort(checks, NONCE_SAMPLE, RP_CHECK_LEN, cmp_check);
    size_t same = 0;
    for (size_t i = 1; i < NONCE_SAMPLE; i++)
        same += memcmp(checks + (i - 1) * RP_CHECK_LEN, checks + i * RP_CHECK_LEN, RP_CHECK_LEN) == 0;
    assert_true(same < 20);
    free(nonces);
    free(checks);
    repram_keys_free(k);
}

static void test_blind(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(9, "");
    char a[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1], b[sizeof(a)];
    size_t alen = 0, blen = 0;
    assert_int_equal(repram_blind(k, "user:1", 6, a, sizeof(a), &alen), REPRAM_OK);
    assert_int_equal(alen, REPRAM_NAME_LEN);
    assert_int_equal(strlen(a), alen);
    assert_memory_equal(a, "rp1:", 4);
    for (size_t i = 4; i < alen; i++)
        assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", a[i]));
    assert_int_equal(repram_blind(k, "user:1", 6, b, sizeof(b), &blen), REPRAM_OK);
    assert_string_equal(a, b); /* deterministic */
    assert_int_equal(repram_blind(k, "user:2", 6, b, sizeof(b), &blen), REPRAM_OK);
    assert_string_not_equal(a, b);
    assert_null(strstr(a, "user"));
    /* A prefix is kept in clear and changes the MAC part as well. */
    assert_int_equal(repram_keys_set_prefix(k, "app1:"), REPRAM_OK);
    assert_int_equal(repram_blind(k, "user:1", 6, b, sizeof(b), &blen), REPRAM_OK);
    assert_int_equal(blen, 5 + REPRAM_NAME_LEN);
    assert_memory_equal(b, "app1:rp1:", 9);
    assert_string_not_equal(a + 4, b + 9);
    /* Too small an output buffer. */
    assert_int_equal(repram_blind(k, "x", 1, b, blen, &blen), REPRAM_ERR_INVALID);
    repram_keys_free(k);
}

static void test_prefix_rules(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(10, "");
    char p[REPRAM_PREFIX_MAX + 2];
    memset(p, 'a', sizeof(p));
    p[REPRAM_PREFIX_MAX] = '\0';
    assert_int_equal(repram_keys_set_prefix(k, p), REPRAM_OK);
    p[REPRAM_PREFIX_MAX] = 'a';
    p[REPRAM_PREFIX_MAX + 1] = '\0';
    assert_int_equal(repram_keys_set_prefix(k, p), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_set_prefix(k, "has space"), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_set_prefix(k, "tab\t"), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_set_prefix(k, "\x80high"), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_set_prefix(k, NULL), REPRAM_OK);
    assert_int_equal(repram_keys_set_prefix(k, ""), REPRAM_OK);
    assert_int_equal(repram_keys_set_prefix(NULL, "x"), REPRAM_ERR_INVALID);
    repram_keys_free(k);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    repram_keys *k = keys_from_byte(11, "");
    void *blob = NULL, *out = NULL;
    size_t len = 0;
    assert_int_equal(repram_seal(NULL, "n", 1, "v", 1, &blob, &len), REPRAM_ERR_INVALID);
    assert_int_equal(repram_seal(k, NULL, 1, "v", 1, &blob, &len), REPRAM_ERR_INVALID);
    assert_int_equal(repram_seal(k, "n", 1, NULL, 1, &blob, &len), REPRAM_ERR_INVALID);
    assert_int_equal(repram_seal(k, "n", 1, "v", 1, NULL, &len), REPRAM_ERR_INVALID);
    /* The size check comes before the value is read, so a short buffer is safe here. */
    assert_int_equal(repram_seal(k, "n", 1, "v", REPRAM_VALUE_MAX + 1, &blob, &len), REPRAM_ERR_TOO_LARGE);
    assert_int_equal(repram_open(k, "n", 1, "v", 1, NULL, &len), REPRAM_ERR_INVALID);
    assert_int_equal(repram_open(k, "n", 1, NULL, 5, &out, &len), REPRAM_ERR_INVALID);
    assert_int_equal(repram_blind(k, "n", 1, NULL, 100, NULL), REPRAM_ERR_INVALID);
    repram_buf_free(NULL);
    repram_keys_free(NULL);
    repram_keys_free(k);
}

static void test_strerror_distinct(void **state)
{
    (void)state;
    const char *seen[32];
    int n = 0;
    for (int code = REPRAM_OK; code >= REPRAM_ERR_TOO_LARGE; code--) {
        const char *s = repram_strerror(code);
        assert_non_null(s);
        assert_string_not_equal(s, repram_strerror(-1000));
        for (int i = 0; i < n; i++) assert_string_not_equal(s, seen[i]);
        seen[n++] = s;
    }
    assert_string_equal(repram_version(), REPRAM_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_empty),
        cmocka_unit_test(test_round_trip_small),
        cmocka_unit_test(test_round_trip_binary),
        cmocka_unit_test(test_round_trip_10mib),
        cmocka_unit_test(test_every_bit_flip_rejected),
        cmocka_unit_test(test_every_aad_bit_flip_rejected),
        cmocka_unit_test(test_every_truncation_rejected),
        cmocka_unit_test(test_wrong_key_rejected),
        cmocka_unit_test(test_foreign_values_rejected),
        cmocka_unit_test(test_nonces_never_repeat),
        cmocka_unit_test(test_blind),
        cmocka_unit_test(test_prefix_rules),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_strerror_distinct),
    };
    return cmocka_run_group_tests_name("sdk crypto", tests, NULL, NULL);
}
