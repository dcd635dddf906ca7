/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * keys.c: key contexts.  A master key (32 bytes, given raw, as hex or base64 text, in a file, or
 * derived from a passphrase with scrypt) is turned into three independent subkeys with
 * HKDF-SHA256: one seals values (AES-256-GCM), one blinds key names (HMAC-SHA256), one makes the
 * key-check bytes that tell "wrong key" apart from "tampered".  The labels are in FORMAT.md
 * section 2 and in repram_internal.h.
 *
 * Why subkeys: one key must never serve two algorithms (AES-GCM and HMAC), and a leak of one
 * subkey (e.g. names blinded by a helper that only needs the name key) must not reveal the others.
 * The master key is wiped as soon as the subkeys exist; a context never holds it.
 *
 * Why scrypt with an explicit namespace as salt: there is no per-blob salt (every blob of a user
 * must be readable with one derivation, and names must blind the same way each time), so the salt
 * is per user or application, and the API makes the caller name it.  The parameters are the
 * caller's to record; FORMAT.md fixes the defaults.  PBKDF2 (what the original REPRAM used) was
 * rejected: it is not memory-hard.
 *
 * Invariant: a repram_keys is never modified after repram_keys_set_prefix, so any number of
 * threads may read it.  Every buffer that held key material is wiped with OPENSSL_cleanse.
 * Start reading at repram_keys_create.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "repram_internal.h"

/* Largest key file we read: a key is 64 characters; the rest is room for comments. */
#define KEY_FILE_MAX 4096
/* Upper bound on scrypt's memory (bytes): refuses parameters that would need more. */
#define SCRYPT_MAXMEM ((uint64_t)1 << 30)

int repram_keygen(uint8_t key[REPRAM_KEY_BYTES])
{
    if (key == NULL) return REPRAM_ERR_INVALID;
    if (RAND_bytes(key, REPRAM_KEY_BYTES) != 1) return REPRAM_ERR_CRYPTO;
    return REPRAM_OK;
}

void repram_key_to_hex(const uint8_t key[REPRAM_KEY_BYTES], char out[REPRAM_KEY_TEXT_LEN + 1])
{
    repram_hex_encode(key, REPRAM_KEY_BYTES, out);
    out[REPRAM_KEY_TEXT_LEN] = '\0';
}

/* HKDF-SHA256 (extract and expand) of the master key with our fixed salt and the given info. */
static int hkdf(const uint8_t master[32], const char *info, uint8_t out[32])
{
    int rc = REPRAM_ERR_CRYPTO;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    char digest[] = "SHA256";
    char salt[] = RP_HKDF_SALT;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)master, 32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, strlen(salt)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info)),
        OSSL_PARAM_construct_end(),
    };
    if (ctx != NULL && EVP_KDF_derive(ctx, out, 32, params) == 1) rc = REPRAM_OK;
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return rc;
}

/* One AES-256-GCM context keyed for encryption (enc=1) or decryption (enc=0); the nonce comes
 * per use.  GCM's default IV length is 12 bytes, our nonce length. */
static EVP_CIPHER_CTX *gcm_new(const uint8_t key[32], int enc)
{
    EVP_CIPHER *alg = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_CIPHER_CTX *ctx = alg != NULL ? EVP_CIPHER_CTX_new() : NULL;
    if (ctx != NULL && EVP_CipherInit_ex(ctx, alg, NULL, key, NULL, enc) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        ctx = NULL;
    }
    EVP_CIPHER_free(alg); /* the context holds its own reference */
    return ctx;
}

/* The keyed templates of repram_internal.h.  Failure is out of memory in practice. */
static int make_templates(repram_keys *k)
{
    k->name_mac = repram_hmac_new(k->name_key);
    k->check_mac = repram_hmac_new(k->check_key);
    k->gcm_enc = gcm_new(k->value_key, 1);
    k->gcm_dec = gcm_new(k->value_key, 0);
    if (k->name_mac && k->check_mac && k->gcm_enc && k->gcm_dec) return REPRAM_OK;
    return REPRAM_ERR_NOMEM;
}

int repram_keys_create(repram_keys **out, const uint8_t key[REPRAM_KEY_BYTES])
{
    if (out == NULL || key == NULL) return REPRAM_ERR_INVALID;
    repram_keys *k = calloc(1, sizeof(*k));
    if (k == NULL) return REPRAM_ERR_NOMEM;
    int rc = hkdf(key, RP_INFO_VALUE, k->value_key);
    if (rc == REPRAM_OK) rc = hkdf(key, RP_INFO_NAME, k->name_key);
    if (rc == REPRAM_OK) rc = hkdf(key, RP_INFO_CHECK, k->check_key);
    if (rc == REPRAM_OK) rc = make_templates(k);
    if (rc != REPRAM_OK) {
        repram_keys_free(k);
        return rc;
    }
    *out = k;
    return REPRAM_OK;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int repram_keys_create_text(repram_keys **out, const char *text, size_t len)
{
    if (out == NULL || (text == NULL && len > 0)) return REPRAM_ERR_INVALID;
    while (len > 0 && is_space(*text)) text++, len--;
    while (len > 0 && is_space(text[len - 1])) len--;
    uint8_t key[REPRAM_KEY_BYTES + 3];
    size_t n = 0;
    int rc;
    if (len == REPRAM_KEY_TEXT_LEN)
        rc = repram_hex_decode(text, len, key, sizeof(key), &n);
    else
        rc = repram_b64_decode(text, len, key, sizeof(key), &n);
    if (rc == REPRAM_OK && n != REPRAM_KEY_BYTES) rc = REPRAM_ERR_KEY_FORMAT;
    if (rc == REPRAM_OK) rc = repram_keys_create(out, key);
    OPENSSL_cleanse(key, sizeof(key));
    return rc;
}

/* Read the whole of path (at most KEY_FILE_MAX bytes) into buf.  Leaves errno set on IO errors. */
static int read_key_file(const char *path, char *buf, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return REPRAM_ERR_IO;
    size_t n = 0;
    int rc = REPRAM_OK;
    for (;;) {
        if (n == cap) {
            char extra;
            ssize_t r = read(fd, &extra, 1);
            if (r > 0) rc = REPRAM_ERR_KEY_FORMAT;
            else if (r < 0 && errno != EINTR) rc = REPRAM_ERR_IO;
            else if (r < 0) continue;
            break;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            rc = REPRAM_ERR_IO;
            break;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    *len = n;
    return rc;
}

int repram_keys_create_file(repram_keys **out, const char *path)
{
    if (out == NULL || path == NULL) return REPRAM_ERR_INVALID;
    char *buf = malloc(KEY_FILE_MAX);
    if (buf == NULL) return REPRAM_ERR_NOMEM;
    size_t len = 0;
    int rc = read_key_file(path, buf, KEY_FILE_MAX, &len);
    if (rc == REPRAM_OK) {
        /* Blank out comment lines, so the rest is the key and white space. */
        int line_start = 1, comment = 0;
        for (size_t i = 0; i < len; i++) {
            if (line_start && buf[i] == '#') comment = 1;
            line_start = buf[i] == '\n';
            if (line_start) comment = 0;
            if (comment) buf[i] = ' ';
        }
        /* The key must be one token: white space inside it means something else is there. */
        size_t a = 0, b = len;
        while (a < b && is_space(buf[a])) a++;
        while (b > a && is_space(buf[b - 1])) b--;
        for (size_t i = a; i < b; i++)
            if (is_space(buf[i])) rc = REPRAM_ERR_KEY_FORMAT;
        if (rc == REPRAM_OK) rc = repram_keys_create_text(out, buf + a, b - a);
    }
    int saved = errno;
    OPENSSL_cleanse(buf, KEY_FILE_MAX);
    free(buf);
    errno = saved;
    return rc;
}

static int scrypt_params_ok(const repram_scrypt_params *p)
{
    if (p->n < 2 || p->n > ((uint64_t)1 << 20) || (p->n & (p->n - 1)) != 0) return 0;
    if (p->r < 1 || p->p < 1 || (uint64_t)p->r * p->p >= ((uint64_t)1 << 30)) return 0;
    /* scrypt needs 128*r*N bytes for V plus 128*r*p for B; keep well inside SCRYPT_MAXMEM. */
    if ((uint64_t)128 * p->r * (p->n + p->p + 2) > SCRYPT_MAXMEM) return 0;
    return 1;
}

int repram_keys_create_passphrase(repram_keys **out, const char *pass, size_t pass_len,
                                  const char *ns, size_t ns_len,
                                  const repram_scrypt_params *params)
{
    repram_scrypt_params defaults = {REPRAM_SCRYPT_N, REPRAM_SCRYPT_R, REPRAM_SCRYPT_P};
    if (params == NULL) params = &defaults;
    if (out == NULL || (pass == NULL && pass_len > 0) || ns == NULL || ns_len == 0 ||
        ns_len > REPRAM_NAMESPACE_MAX || !scrypt_params_ok(params))
        return REPRAM_ERR_INVALID;

    uint8_t salt[sizeof(RP_SCRYPT_SALT) - 1 + REPRAM_NAMESPACE_MAX];
    size_t salt_len = sizeof(RP_SCRYPT_SALT) - 1;
    memcpy(salt, RP_SCRYPT_SALT, salt_len);
    memcpy(salt + salt_len, ns, ns_len);
    salt_len += ns_len;

    uint8_t master[REPRAM_KEY_BYTES];
    uint64_t n = params->n, maxmem = SCRYPT_MAXMEM + ((uint64_t)1 << 20);
    uint32_t r = params->r, p = params->p;
    /* OpenSSL rejects an empty password octet string pointer; give it a valid one. */
    static const char empty[1] = "";
    OSSL_PARAM kp[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                          (void *)(pass_len > 0 ? pass : empty), pass_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt, salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
    EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
    int rc = REPRAM_ERR_CRYPTO;
    if (ctx != NULL && EVP_KDF_derive(ctx, master, sizeof(master), kp) == 1)
        rc = repram_keys_create(out, master);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    OPENSSL_cleanse(master, sizeof(master));
    return rc;
}

int repram_keys_set_prefix(repram_keys *keys, const char *prefix)
{
    if (keys == NULL) return REPRAM_ERR_INVALID;
    size_t len = prefix == NULL ? 0 : strlen(prefix);
    if (len > REPRAM_PREFIX_MAX) return REPRAM_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if (prefix[i] < 0x21 || prefix[i] > 0x7e) return REPRAM_ERR_INVALID;
    if (len > 0) memcpy(keys->prefix, prefix, len);
    keys->prefix[len] = '\0';
    keys->prefix_len = len;
    return REPRAM_OK;
}

static void free_templates(repram_keys *k)
{
    EVP_MAC_CTX_free(k->name_mac);
    EVP_MAC_CTX_free(k->check_mac);
    EVP_CIPHER_CTX_free(k->gcm_enc);
    EVP_CIPHER_CTX_free(k->gcm_dec);
}

repram_keys *repram_keys_dup(const repram_keys *keys)
{
    repram_keys *k = calloc(1, sizeof(*k));
    if (k == NULL) return NULL;
    memcpy(k->value_key, keys->value_key, sizeof(k->value_key));
    memcpy(k->name_key, keys->name_key, sizeof(k->name_key));
    memcpy(k->check_key, keys->check_key, sizeof(k->check_key));
    memcpy(k->prefix, keys->prefix, sizeof(k->prefix));
    k->prefix_len = keys->prefix_len;
    if (make_templates(k) != REPRAM_OK) {
        repram_keys_free(k);
        return NULL;
    }
    return k;
}

void repram_keys_free(repram_keys *keys)
{
    if (keys == NULL) return;
    free_templates(keys);
    OPENSSL_cleanse(keys, sizeof(*keys));
    free(keys);
}
