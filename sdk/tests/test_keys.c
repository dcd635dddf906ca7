/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_keys.c: key contexts (keys.c) and the codecs under them (util.c): master keys as hex and
 * base64 text and in key files, passphrase derivation with its required namespace and parameter
 * checks, key generation, and the client's configuration checks that need no server.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdk/repram_internal.h"

static const char HEX_KEY[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static repram_keys *reference(void)
{
    uint8_t mk[REPRAM_KEY_BYTES];
    for (int i = 0; i < REPRAM_KEY_BYTES; i++) mk[i] = (uint8_t)i;
    repram_keys *k = NULL;
    assert_int_equal(repram_keys_create(&k, mk), REPRAM_OK);
    return k;
}

static void assert_same_keys(const repram_keys *a, const repram_keys *b)
{
    assert_memory_equal(a->value_key, b->value_key, 32);
    assert_memory_equal(a->name_key, b->name_key, 32);
    assert_memory_equal(a->check_key, b->check_key, 32);
}

static void expect_text(const char *text, int want)
{
    repram_keys *ref = reference(), *k = NULL;
    int rc = repram_keys_create_text(&k, text, strlen(text));
    if (rc != want) fail_msg("\"%s\": got %d (%s), want %d", text, rc, repram_strerror(rc), want);
    if (rc == REPRAM_OK) assert_same_keys(ref, k);
    else assert_null(k);
    repram_keys_free(k);
    repram_keys_free(ref);
}

static void test_key_text_forms(void **state)
{
    (void)state;
    expect_text(HEX_KEY, REPRAM_OK);
    expect_text("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", REPRAM_OK);
    expect_text("  \t000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\r\n", REPRAM_OK);
    /* base64 of the same 32 bytes: standard with padding, without, and URL-safe. */
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", REPRAM_OK);
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", REPRAM_OK);
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", REPRAM_OK);
}

static void test_key_text_rejected(void **state)
{
    (void)state;
    expect_text("", REPRAM_ERR_KEY_FORMAT);
    expect_text("   \n", REPRAM_ERR_KEY_FORMAT);
    expect_text("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", REPRAM_ERR_KEY_FORMAT);
    expect_text("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", REPRAM_ERR_KEY_FORMAT);
    expect_text("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", REPRAM_ERR_KEY_FORMAT);
    expect_text("0001020304050607 08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", REPRAM_ERR_KEY_FORMAT);
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", REPRAM_ERR_KEY_FORMAT); /* 31 bytes */
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", REPRAM_ERR_KEY_FORMAT); /* 33 */
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", REPRAM_ERR_KEY_FORMAT); /* bits */
    expect_text("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=", REPRAM_ERR_KEY_FORMAT);
    expect_text("correct horse battery staple", REPRAM_ERR_KEY_FORMAT);
    repram_keys *k = NULL;
    assert_int_equal(repram_keys_create_text(NULL, HEX_KEY, 64), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_create_text(&k, NULL, 3), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_create(&k, NULL), REPRAM_ERR_INVALID);
}

static char tmp_path[64];

static const char *write_file(const char *content, size_t len)
{
    strcpy(tmp_path, "/tmp/repram-keytest.XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

static void expect_file(const char *content, int want)
{
    repram_keys *ref = reference(), *k = NULL;
    const char *path = write_file(content, strlen(content));
    int rc = repram_keys_create_file(&k, path);
    unlink(path);
    if (rc != want) fail_msg("file \"%s\": got %d (%s), want %d", content, rc, repram_strerror(rc), want);
    if (rc == REPRAM_OK) assert_same_keys(ref, k);
    repram_keys_free(k);
    repram_keys_free(ref);
}

static void test_key_files(void **state)
{
    (void)state;
    expect_file("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", REPRAM_OK);
    expect_file("# repram master key, made by repram keygen\n# keep it secret\n"
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n", REPRAM_OK);
    expect_file("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", REPRAM_OK);
    expect_file("", REPRAM_ERR_KEY_FORMAT);
    expect_file("# only a comment\n", REPRAM_ERR_KEY_FORMAT);
    expect_file("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
                "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                REPRAM_ERR_KEY_FORMAT);
    expect_file("key = 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
                REPRAM_ERR_KEY_FORMAT);

    /* Larger than 4 KiB, even if it is all comment. */
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, '#', 4999);
    big[4999] = '\0';
    expect_file(big, REPRAM_ERR_KEY_FORMAT);
    free(big);

    repram_keys *k = NULL;
    errno = 0;
    assert_int_equal(repram_keys_create_file(&k, "/nonexistent/repram.key"), REPRAM_ERR_IO);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(repram_keys_create_file(&k, "/"), REPRAM_ERR_IO);
    assert_int_equal(repram_keys_create_file(&k, NULL), REPRAM_ERR_INVALID);
    assert_null(k);
}

static void test_passphrase(void **state)
{
    (void)state;
    repram_scrypt_params fast = {1024, 8, 1};
    repram_keys *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    const char *pw = "correct horse battery staple";
    assert_int_equal(repram_keys_create_passphrase(&a, pw, strlen(pw), "ns1", 3, &fast), REPRAM_OK);
    assert_int_equal(repram_keys_create_passphrase(&b, pw, strlen(pw), "ns1", 3, &fast), REPRAM_OK);
    assert_int_equal(repram_keys_create_passphrase(&c, pw, strlen(pw), "ns2", 3, &fast), REPRAM_OK);
    repram_scrypt_params other = {2048, 8, 1};
    assert_int_equal(repram_keys_create_passphrase(&d, pw, strlen(pw), "ns1", 3, &other), REPRAM_OK);
    assert_same_keys(a, b); /* deterministic */
    assert_memory_not_equal(a->value_key, c->value_key, 32); /* the namespace is the salt */
    assert_memory_not_equal(a->value_key, d->value_key, 32); /* parameters matter */
    repram_keys_free(a);
    repram_keys_free(b);
    repram_keys_free(c);
    repram_keys_free(d);

    /* An empty passphrase is weak but well defined. */
    assert_int_equal(repram_keys_create_passphrase(&a, "", 0, "ns", 2, &fast), REPRAM_OK);
    repram_keys_free(a);
}

static void test_passphrase_rejected(void **state)
{
    (void)state;
    repram_keys *k = NULL;
    repram_scrypt_params p = {1024, 8, 1};
    char ns[REPRAM_NAMESPACE_MAX + 1];
    memset(ns, 'n', sizeof(ns));
    assert_int_equal(repram_keys_create_passphrase(&k, "pw", 2, "", 0, &p), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_create_passphrase(&k, "pw", 2, NULL, 2, &p), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_create_passphrase(&k, "pw", 2, ns, sizeof(ns), &p), REPRAM_ERR_INVALID);
    assert_int_equal(repram_keys_create_passphrase(&k, NULL, 2, "ns", 2, &p), REPRAM_ERR_INVALID);
    repram_scrypt_params bad[] = {
        {1000, 8, 1},          /* not a power of two */
        {1, 8, 1},             /* too small */
        {(uint64_t)1 << 21, 8, 1}, /* too large */
        {1024, 0, 1},
        {1024, 8, 0},
        {1 << 20, 16, 1},      /* 2 GiB of memory */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(repram_keys_create_passphrase(&k, "pw", 2, "ns", 2, &bad[i]), REPRAM_ERR_INVALID);
    assert_null(k);
}

static void test_keygen(void **state)
{
    (void)state;
    uint8_t a[REPRAM_KEY_BYTES], b[REPRAM_KEY_BYTES];
    assert_int_equal(repram_keygen(a), REPRAM_OK);
    assert_int_equal(repram_keygen(b), REPRAM_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    char hex[REPRAM_KEY_TEXT_LEN + 1];
    repram_key_to_hex(a, hex);
    assert_int_equal(strlen(hex), REPRAM_KEY_TEXT_LEN);
    repram_keys *k1 = NULL, *k2 = NULL;
    assert_int_equal(repram_keys_create_text(&k1, hex, strlen(hex)), REPRAM_OK);
    assert_int_equal(repram_keys_create(&k2, a), REPRAM_OK);
    assert_same_keys(k1, k2);
    repram_keys_free(k1);
    repram_keys_free(k2);
    assert_int_equal(repram_keygen(NULL), REPRAM_ERR_INVALID);
}

static void test_codecs(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors, URL-safe alphabet, no padding. */
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < 7; i++) {
        char out[16];
        size_t n = 0;
        repram_b64url_encode((const uint8_t *)in[i], strlen(in[i]), out, &n);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(out, want[i], n);
        uint8_t back[16];
        size_t m = 0;
        assert_int_equal(repram_b64_decode(out, n, back, sizeof(back), &m), REPRAM_OK);
        assert_int_equal(m, strlen(in[i]));
        assert_memory_equal(back, in[i], m);
    }
    uint8_t bytes[] = {0xfb, 0xff, 0xbf};
    char out[8];
    size_t n = 0;
    repram_b64url_encode(bytes, 3, out, &n);
    assert_memory_equal(out, "-_-_", 4);
    uint8_t back[4];
    assert_int_equal(repram_b64_decode("+/+/", 4, back, sizeof(back), &n), REPRAM_OK);
    assert_memory_equal(back, bytes, 3);
    assert_int_equal(repram_b64_decode("Zm9vY", 5, back, sizeof(back), &n), REPRAM_ERR_KEY_FORMAT);
    assert_int_equal(repram_hex_decode("0g", 2, back, sizeof(back), &n), REPRAM_ERR_KEY_FORMAT);
    assert_int_equal(repram_hex_decode("abc", 3, back, sizeof(back), &n), REPRAM_ERR_KEY_FORMAT);
}

static void test_client_config(void **state)
{
    (void)state;
    repram_config cfg;
    repram_config_init(&cfg);
    assert_string_equal(cfg.host, "127.0.0.1");
    assert_int_equal(cfg.port, 6379);
    assert_int_equal(cfg.connect_timeout_ms, 2000);
    assert_int_equal(cfg.io_timeout_ms, 5000);
    assert_null(cfg.password);
    assert_null(cfg.username);
    repram_keys *k = reference();
    repram *db = NULL;
    cfg.port = 0;
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_ERR_INVALID);
    cfg.port = 65536;
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_ERR_INVALID);
    cfg.port = 6379;
    cfg.io_timeout_ms = 0;
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_ERR_INVALID);
    cfg.io_timeout_ms = 5000;
    cfg.connect_timeout_ms = -1;
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_ERR_INVALID);
    cfg.connect_timeout_ms = 2000;
    assert_int_equal(repram_create(&db, NULL, k), REPRAM_ERR_INVALID);
    assert_int_equal(repram_create(&db, &cfg, NULL), REPRAM_ERR_INVALID);
    assert_null(db);
    cfg.password = "secret";
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_OK);
    repram_keys_free(k); /* the client has its own copy */
    assert_string_equal(repram_errstr(db), "");
    /* Argument errors need no connection. */
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 0), REPRAM_ERR_INVALID);
    assert_int_equal(repram_put(db, "k", 1, NULL, 1, 10), REPRAM_ERR_INVALID);
    assert_int_equal(repram_put(db, "k", 1, "v", REPRAM_VALUE_MAX + 1, 10), REPRAM_ERR_TOO_LARGE);
    assert_non_null(strstr(repram_errstr(db), "too large"));
    repram_free(db);
    repram_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_text_forms),
        cmocka_unit_test(test_key_text_rejected),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_passphrase),
        cmocka_unit_test(test_passphrase_rejected),
        cmocka_unit_test(test_keygen),
        cmocka_unit_test(test_codecs),
        cmocka_unit_test(test_client_config),
    };
    return cmocka_run_group_tests_name("sdk keys", tests, NULL, NULL);
}
