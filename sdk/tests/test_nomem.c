/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_nomem.c: every allocation the SDK makes itself is checked.  Linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup (Makefile:
 * SDK_TEST_LDFLAGS_test_nomem), so the calls from librepram.a go through the wrappers below.  The
 * test runs one scenario again and again, failing the 1st, 2nd, 3rd ... allocation, until a run
 * needs no failure.  Each run must end in REPRAM_OK or REPRAM_ERR_NOMEM, never crash, and (under
 * valgrind or ASan) leak nothing.  Allocations inside libcrypto and hiredis are outside this seam.
 * The names __wrap_/__real_ are the linker's convention, not ours.
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

#include "sdk/repram_internal.h"

static long countdown = -1; /* allocations left before the one that fails; -1: none fails */
static int injected;

static int should_fail(void)
{
    if (countdown < 0) return 0;
    if (countdown-- > 0) return 0;
    injected = 1;
    return 1;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

void *__wrap_malloc(size_t n)
{
    return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return should_fail() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return should_fail() ? NULL : __real_strdup(s);
}

static const char HEX_KEY[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static char key_path[64];

/* Everything the SDK does without a server.  Returns the first failure, or REPRAM_OK. */
static int scenario(void)
{
    repram_keys *k = NULL, *kf = NULL;
    repram *db = NULL;
    void *blob = NULL, *back = NULL;
    size_t blob_len = 0, back_len = 0;
    int rc = repram_keys_create_text(&k, HEX_KEY, sizeof(HEX_KEY) - 1);
    if (rc == REPRAM_OK) rc = repram_keys_create_file(&kf, key_path);
    if (rc == REPRAM_OK) rc = repram_keys_set_prefix(k, "p:");
    if (rc == REPRAM_OK) rc = repram_seal(k, "name", 4, "value", 5, &blob, &blob_len);
    if (rc == REPRAM_OK) rc = repram_open(k, "name", 4, blob, blob_len, &back, &back_len);
    if (rc == REPRAM_OK && (back_len != 5 || memcmp(back, "value", 5) != 0)) rc = -999;
    if (rc == REPRAM_OK) {
        repram_config cfg;
        repram_config_init(&cfg);
        cfg.username = "user";
        cfg.password = "secret";
        rc = repram_create(&db, &cfg, kf);
    }
    repram_free(db);
    repram_buf_free(blob);
    repram_buf_free(back);
    repram_keys_free(k);
    repram_keys_free(kf);
    return rc;
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    strcpy(key_path, "/tmp/repram-nomem.XXXXXX");
    int fd = mkstemp(key_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, HEX_KEY, sizeof(HEX_KEY) - 1), (ssize_t)sizeof(HEX_KEY) - 1);
    close(fd);

    long n;
    for (n = 0; n < 1000; n++) {
        countdown = n;
        injected = 0;
        int rc = scenario();
        countdown = -1;
        if (!injected) {
            assert_int_equal(rc, REPRAM_OK);
            break;
        }
        if (rc != REPRAM_ERR_NOMEM) fail_msg("allocation %ld failed: got %d (%s)", n, rc, repram_strerror(rc));
    }
    unlink(key_path);
    assert_true(n > 5); /* the scenario does allocate: the seam works */
    assert_true(n < 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_failure),
    };
    return cmocka_run_group_tests_name("sdk out of memory", tests, NULL, NULL);
}
