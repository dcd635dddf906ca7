/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_live.c: librepram against a real server on 127.0.0.1:$REPRAM_TEST_PORT (with AUTH when
 * $REPRAM_TEST_PASSWORD is set).  redis-tests/harness/suite-sdk starts the server and runs this;
 * without REPRAM_TEST_PORT it runs nothing and says so, so the unit suite can build and run it.
 *
 * Covers what the fake server of test_client.c cannot prove: a real server accepts what the SDK
 * sends, values up to the repram default limit (10 MiB less the 44-byte overhead) round-trip,
 * batches pipeline through real replies, and TTLs are applied and honoured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdk/repram.h"

#define LIVE_BATCH 1000
#define LIVE_MAX_VALUE ((size_t)10 * 1024 * 1024 - REPRAM_BLOB_OVERHEAD)

static repram *connect_live(const char *prefix)
{
    static const char hex[] = "5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c";
    repram_keys *k = NULL;
    assert_int_equal(repram_keys_create_text(&k, hex, sizeof(hex) - 1), REPRAM_OK);
    assert_int_equal(repram_keys_set_prefix(k, prefix), REPRAM_OK);
    repram_config cfg;
    repram_config_init(&cfg);
    cfg.port = atoi(getenv("REPRAM_TEST_PORT"));
    cfg.password = getenv("REPRAM_TEST_PASSWORD");
    cfg.io_timeout_ms = 20000;
    repram *db = NULL;
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_OK);
    repram_keys_free(k);
    int rc = repram_connect(db);
    if (rc != REPRAM_OK) fail_msg("connect: %s", repram_errstr(db));
    return db;
}

static void round_trip(repram *db, size_t len)
{
    unsigned char *v = malloc(len + 1);
    assert_non_null(v);
    for (size_t i = 0; i < len; i++) v[i] = (unsigned char)(i * 131 + 7);
    char name[32];
    snprintf(name, sizeof(name), "size-%zu", len);
    int rc = repram_put(db, name, strlen(name), v, len, 60);
    if (rc != REPRAM_OK) fail_msg("put %zu bytes: %s", len, repram_errstr(db));
    void *back = NULL;
    size_t back_len = 0;
    rc = repram_get(db, name, strlen(name), &back, &back_len);
    if (rc != REPRAM_OK) fail_msg("get %zu bytes: %s", len, repram_errstr(db));
    assert_int_equal(back_len, len);
    if (len > 0) assert_memory_equal(back, v, len);
    assert_int_equal(repram_del(db, name, strlen(name)), REPRAM_OK);
    repram_buf_free(back);
    free(v);
}

static void test_live_round_trips(void **state)
{
    (void)state;
    repram *db = connect_live("live:");
    round_trip(db, 0);
    round_trip(db, 1);
    round_trip(db, 4096);
    round_trip(db, (size_t)1 << 20);
    round_trip(db, LIVE_MAX_VALUE);
    repram_free(db);
}

static void test_live_batches(void **state)
{
    (void)state;
    repram *db = connect_live("batch:");
    static char names[LIVE_BATCH][16], vals[LIVE_BATCH][24];
    static repram_put_item puts[LIVE_BATCH];
    static repram_get_item gets[LIVE_BATCH];
    for (int i = 0; i < LIVE_BATCH; i++) {
        snprintf(names[i], sizeof(names[i]), "item-%d", i);
        snprintf(vals[i], sizeof(vals[i]), "payload %d", i);
        puts[i] = (repram_put_item){names[i], strlen(names[i]), vals[i], strlen(vals[i]), 120, 0};
        gets[i] = (repram_get_item){names[i], strlen(names[i]), NULL, 0, 0};
    }
    int rc = repram_mput(db, puts, LIVE_BATCH);
    if (rc != REPRAM_OK) fail_msg("mput: %s", repram_errstr(db));
    assert_int_equal(repram_del(db, names[7], strlen(names[7])), REPRAM_OK);
    rc = repram_mget(db, gets, LIVE_BATCH);
    if (rc != REPRAM_OK) fail_msg("mget: %s", repram_errstr(db));
    for (int i = 0; i < LIVE_BATCH; i++) {
        if (i == 7) {
            assert_int_equal(gets[i].status, REPRAM_ERR_NOT_FOUND);
            continue;
        }
        assert_int_equal(gets[i].status, REPRAM_OK);
        assert_int_equal(gets[i].value_len, strlen(vals[i]));
        assert_memory_equal(gets[i].value, vals[i], gets[i].value_len);
        repram_buf_free(gets[i].value);
    }
    repram_free(db);
}

static void test_live_ttl(void **state)
{
    (void)state;
    repram *db = connect_live("ttl:");
    long long ttl = 0;
    assert_int_equal(repram_put(db, "long", 4, "x", 1, 600), REPRAM_OK);
    assert_int_equal(repram_ttl(db, "long", 4, &ttl), REPRAM_OK);
    assert_true(ttl >= 598 && ttl <= 600);
    assert_int_equal(repram_put(db, "short", 5, "x", 1, 1), REPRAM_OK);
    int ex = 0;
    assert_int_equal(repram_exists(db, "short", 5, &ex), REPRAM_OK);
    assert_int_equal(ex, 1);
    usleep(2200 * 1000);
    void *v = NULL;
    size_t vl = 0;
    assert_int_equal(repram_get(db, "short", 5, &v, &vl), REPRAM_ERR_NOT_FOUND);
    assert_int_equal(repram_exists(db, "short", 5, &ex), REPRAM_OK);
    assert_int_equal(ex, 0);
    assert_int_equal(repram_ttl(db, "short", 5, &ttl), REPRAM_ERR_NOT_FOUND);
    repram_free(db);
}

int main(void)
{
    if (getenv("REPRAM_TEST_PORT") == NULL) {
        printf("1..0 # SKIP REPRAM_TEST_PORT is not set (run by redis-tests/harness/suite-sdk)\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_round_trips),
        cmocka_unit_test(test_live_batches),
        cmocka_unit_test(test_live_ttl),
    };
    return cmocka_run_group_tests_name("sdk live server", tests, NULL, NULL);
}
