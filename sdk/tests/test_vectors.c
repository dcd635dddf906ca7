/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_vectors.c: reproduce the test vectors of sdk/FORMAT.md section 9 byte for byte through
 * the public API.  The vectors are read from the document itself (REPRAM_FORMAT_MD, default
 * sdk/FORMAT.md from the top of the tree, where suite-unit runs), so the specification and the
 * code cannot drift apart silently.
 *
 * Linked with -Wl,--wrap=RAND_bytes (Makefile: SDK_TEST_LDFLAGS_test_vectors): the wrapper hands
 * out the vector's nonce to repram_seal, or fails on request, and otherwise calls the real
 * function.  The names __wrap_/__real_ are the linker's convention, not ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdk/repram_internal.h"

/* ---- RAND_bytes seam --------------------------------------------------------------------- */

static uint8_t queued[64];
static int queued_len;
static int rand_fails;

int __real_RAND_bytes(unsigned char *buf, int num);
int __wrap_RAND_bytes(unsigned char *buf, int num);
int __wrap_RAND_bytes(unsigned char *buf, int num)
{
    if (rand_fails) return 0;
    if (queued_len > 0) {
        assert_int_equal(num, queued_len);
        memcpy(buf, queued, (size_t)num);
        queued_len = 0;
        return 1;
    }
    return __real_RAND_bytes(buf, num);
}

/* ---- FORMAT.md parsing ------------------------------------------------------------------- */

#define MAX_VECTORS 64
#define MAX_FIELDS 12

typedef struct vector {
    char *id;
    int n;
    char *field[MAX_FIELDS];
    char *value[MAX_FIELDS];
} vector;

static vector vecs[MAX_VECTORS];
static int nvecs;
static char *doc;

static const char *get(const vector *v, const char *field)
{
    for (int i = 0; i < v->n; i++)
        if (strcmp(v->field[i], field) == 0) return v->value[i];
    return NULL;
}

static const char *need(const vector *v, const char *field)
{
    const char *s = get(v, field);
    if (s == NULL) fail_msg("vector %s has no field %s", v->id, field);
    return s;
}

static const vector *find(const char *id)
{
    for (int i = 0; i < nvecs; i++)
        if (strcmp(vecs[i].id, id) == 0) return &vecs[i];
    fail_msg("no vector %s in FORMAT.md", id);
    return NULL;
}

/* Split doc in place: ```-fenced blocks starting "vector: ID" become vectors. */
static int load(void **state)
{
    (void)state;
    const char *path = getenv("REPRAM_FORMAT_MD");
    if (path == NULL) path = "sdk/FORMAT.md";
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s (run from the top of the tree or set REPRAM_FORMAT_MD)\n", path);
        return -1;
    }
    doc = calloc(1, 1 << 20);
    size_t n = doc != NULL ? fread(doc, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (n == 0) return -1;
    int in_block = 0;
    vector *cur = NULL;
    for (char *line = doc, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL) *next++ = '\0';
        if (strncmp(line, "```", 3) == 0) {
            in_block = !in_block;
            cur = NULL;
            continue;
        }
        char *colon = strchr(line, ':');
        if (!in_block || colon == NULL) continue;
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ') value++;
        size_t vl = strlen(value);
        while (vl > 0 && (value[vl - 1] == ' ' || value[vl - 1] == '\r')) value[--vl] = '\0';
        if (strcmp(line, "vector") == 0) {
            if (nvecs == MAX_VECTORS) return -1;
            cur = &vecs[nvecs++];
            cur->id = value;
        } else if (cur != NULL && cur->n < MAX_FIELDS) {
            cur->field[cur->n] = line;
            cur->value[cur->n++] = value;
        }
    }
    return nvecs > 0 ? 0 : -1;
}

static int unload(void **state)
{
    (void)state;
    free(doc);
    return 0;
}

/* Hex field into a fresh buffer (caller frees); *len its length. */
static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    uint8_t *out = malloc(n / 2 + 1);
    assert_non_null(out);
    assert_int_equal(repram_hex_decode(hex, n, out, n / 2 + 1, len), REPRAM_OK);
    return out;
}

static repram_keys *keys_of(const vector *v, const char *master_hex, const char *prefix)
{
    repram_keys *k = NULL;
    assert_int_equal(repram_keys_create_text(&k, master_hex, strlen(master_hex)), REPRAM_OK);
    assert_int_equal(repram_keys_set_prefix(k, prefix), REPRAM_OK);
    (void)v;
    return k;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex, const char *what)
{
    char *hex = malloc(2 * len + 1);
    assert_non_null(hex);
    repram_hex_encode(got, len, hex);
    hex[2 * len] = '\0';
    if (strcmp(hex, want_hex) != 0) fail_msg("%s:\n got  %s\n want %s", what, hex, want_hex);
    free(hex);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_subkeys(void **state)
{
    (void)state;
    const vector *v = find("keys-1");
    repram_keys *k = keys_of(v, need(v, "master_key"), "");
    assert_hex(k->value_key, 32, need(v, "value_key"), "value key");
    assert_hex(k->name_key, 32, need(v, "name_key"), "name key");
    assert_hex(k->check_key, 32, need(v, "check_key"), "check key");
    repram_keys_free(k);
}

static void test_seal_vectors(void **state)
{
    (void)state;
    int seen = 0;
    for (int i = 0; i < nvecs; i++) {
        const vector *v = &vecs[i];
        if (strncmp(v->id, "seal-", 5) != 0) continue;
        seen++;
        repram_keys *k = keys_of(v, need(v, "master_key"), need(v, "prefix"));
        size_t name_len, pt_len, nonce_len, blob_len;
        uint8_t *name = unhex(need(v, "name_hex"), &name_len);
        uint8_t *pt = unhex(need(v, "plaintext_hex"), &pt_len);
        uint8_t *nonce = unhex(need(v, "nonce"), &nonce_len);
        uint8_t *want = unhex(need(v, "blob"), &blob_len);

        char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
        assert_int_equal(repram_blind(k, name, name_len, stored, sizeof(stored), NULL), REPRAM_OK);
        assert_string_equal(stored, need(v, "stored_name"));

        memcpy(queued, nonce, nonce_len);
        queued_len = (int)nonce_len;
        void *blob = NULL, *back = NULL;
        size_t got_len = 0, back_len = 0;
        assert_int_equal(repram_seal(k, name, name_len, pt, pt_len, &blob, &got_len), REPRAM_OK);
        assert_int_equal(queued_len, 0); /* the nonce came from RAND_bytes */
        assert_hex(blob, got_len, need(v, "blob"), v->id);

        assert_int_equal(repram_open(k, name, name_len, want, blob_len, &back, &back_len), REPRAM_OK);
        assert_int_equal(back_len, pt_len);
        if (pt_len > 0) assert_memory_equal(back, pt, pt_len);
        repram_buf_free(blob);
        repram_buf_free(back);
        free(name);
        free(pt);
        free(nonce);
        free(want);
        repram_keys_free(k);
    }
    assert_true(seen >= 3);
}

static void test_scrypt_vectors(void **state)
{
    (void)state;
    int seen = 0;
    for (int i = 0; i < nvecs; i++) {
        const vector *v = &vecs[i];
        if (strncmp(v->id, "scrypt-", 7) != 0) continue;
        seen++;
        repram_scrypt_params p = {strtoull(need(v, "n"), NULL, 10),
                                  (uint32_t)strtoul(need(v, "r"), NULL, 10),
                                  (uint32_t)strtoul(need(v, "p"), NULL, 10)};
        const char *pw = need(v, "passphrase"), *ns = need(v, "namespace");
        repram_keys *k = NULL, *ref = keys_of(v, need(v, "master_key"), "");
        assert_int_equal(repram_keys_create_passphrase(&k, pw, strlen(pw), ns, strlen(ns), &p), REPRAM_OK);
        assert_memory_equal(k->value_key, ref->value_key, 32);
        assert_memory_equal(k->name_key, ref->name_key, 32);
        assert_memory_equal(k->check_key, ref->check_key, 32);
        char stored[REPRAM_NAME_LEN + 1];
        assert_int_equal(repram_blind(k, "greeting", 8, stored, sizeof(stored), NULL), REPRAM_OK);
        assert_string_equal(stored, need(v, "stored_name"));
        repram_keys_free(k);
        repram_keys_free(ref);
    }
    assert_true(seen >= 2);
}

static int error_code(const char *name)
{
    static const struct { const char *name; int code; } map[] = {
        {"NOT_BLOB", REPRAM_ERR_NOT_BLOB}, {"VERSION", REPRAM_ERR_VERSION},
        {"TRUNCATED", REPRAM_ERR_TRUNCATED}, {"TAMPERED", REPRAM_ERR_TAMPERED},
        {"WRONG_KEY", REPRAM_ERR_WRONG_KEY},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(map[i].name, name) == 0) return map[i].code;
    fail_msg("unknown error class %s", name);
    return 0;
}

/* Apply an edit of FORMAT.md section 9.4 to blob (capacity cap); returns the new length. */
static size_t apply_edit(uint8_t *blob, size_t len, size_t cap, const char *edit)
{
    char op[16] = "";
    long off = 0;
    char hex[64] = "";
    if (strcmp(edit, "none") == 0) return len;
    if (sscanf(edit, "keep %ld", &off) == 1) return (size_t)off;
    if (sscanf(edit, "append %63s", hex) == 1) {
        size_t n = 0;
        assert_int_equal(repram_hex_decode(hex, strlen(hex), blob + len, cap - len, &n), REPRAM_OK);
        return len + n;
    }
    assert_int_equal(sscanf(edit, "%15s %ld %63s", op, &off, hex), 3);
    uint8_t bytes[32];
    size_t n = 0;
    assert_int_equal(repram_hex_decode(hex, strlen(hex), bytes, sizeof(bytes), &n), REPRAM_OK);
    size_t at = off < 0 ? len - (size_t)-off : (size_t)off;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(op, "set") == 0) blob[at + i] = bytes[i];
        else if (strcmp(op, "xor") == 0) blob[at + i] ^= bytes[i];
        else fail_msg("unknown edit %s", edit);
    }
    return len;
}

static void test_reject_vectors(void **state)
{
    (void)state;
    int seen = 0;
    for (int i = 0; i < nvecs; i++) {
        const vector *v = &vecs[i];
        if (strncmp(v->id, "reject-", 7) != 0) continue;
        seen++;
        const vector *base = find(need(v, "base"));
        const char *mk = get(v, "master_key") ? get(v, "master_key") : need(base, "master_key");
        const char *nh = get(v, "name_hex") ? get(v, "name_hex") : need(base, "name_hex");
        repram_keys *k = keys_of(v, mk, need(base, "prefix"));
        size_t name_len, blob_len;
        uint8_t *name = unhex(nh, &name_len);
        uint8_t *orig = unhex(need(base, "blob"), &blob_len);
        uint8_t *blob = calloc(1, blob_len + 64);
        assert_non_null(blob);
        memcpy(blob, orig, blob_len);
        blob_len = apply_edit(blob, blob_len, blob_len + 64, need(v, "edit"));
        void *out = (void *)1;
        size_t out_len = 0;
        int rc = repram_open(k, name, name_len, blob, blob_len, &out, &out_len);
        int want = error_code(need(v, "error"));
        if (rc != want) fail_msg("%s: got %s, want %s", v->id, repram_strerror(rc), need(v, "error"));
        assert_null(out);
        free(name);
        free(orig);
        free(blob);
        repram_keys_free(k);
    }
    assert_true(seen >= 10);
}

static void test_random_source_failure(void **state)
{
    (void)state;
    const vector *v = find("seal-1");
    repram_keys *k = keys_of(v, need(v, "master_key"), "");
    void *blob = NULL;
    size_t len = 0;
    uint8_t key[REPRAM_KEY_BYTES];
    rand_fails = 1;
    assert_int_equal(repram_seal(k, "n", 1, "v", 1, &blob, &len), REPRAM_ERR_CRYPTO);
    assert_null(blob);
    assert_int_equal(repram_keygen(key), REPRAM_ERR_CRYPTO);
    rand_fails = 0;
    repram_keys_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subkeys),
        cmocka_unit_test(test_seal_vectors),
        cmocka_unit_test(test_scrypt_vectors),
        cmocka_unit_test(test_reject_vectors),
        cmocka_unit_test(test_random_source_failure),
    };
    return cmocka_run_group_tests_name("sdk FORMAT.md vectors", tests, load, unload);
}
