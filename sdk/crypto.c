/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * crypto.c: the blob format of FORMAT.md: blinding key names, sealing and opening values.  No
 * network here, so all of it is unit-tested without a server.
 *
 * A blob is   header(28) = "RPRM" | version 1 | suite 1 | flags 0 (2) | value length (4, BE)
 *                          | key check (4) | nonce (12)
 *             ciphertext (value length) | GCM tag (16)
 * and the associated data is header || stored key name, so a blob moved to another key name, or
 * with any header byte changed, fails authentication.
 *
 * How opening classifies a failure (FORMAT.md section 5), cheapest and most specific first:
 *   magic wrong -> NOT_BLOB; version, suite or flags unknown -> VERSION; fewer bytes than the
 *   header and tag, or than the length field says -> TRUNCATED; more -> TAMPERED; key check
 *   mismatch -> WRONG_KEY; GCM tag mismatch -> TAMPERED.
 * The key check is HMAC(check_key, nonce) cut to 4 bytes: it depends on a per-blob random value,
 * so it links no two blobs together (a constant key id would tell the server which blobs share a
 * key).  What can go wrong: the nonce or the check bytes themselves altered in storage also read
 * as WRONG_KEY; and one wrong key in 2^32 passes the check and is reported TAMPERED.  Either way
 * the blob is rejected; only the diagnosis is approximate.
 *
 * Invariant: opening never returns plaintext that failed authentication: GCM decrypts into a
 * buffer that is wiped and freed unless the tag verifies.
 * Threads: only reads the key context; per-call OpenSSL contexts.  Start at repram_seal_stored.
 */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "repram_internal.h"

/* EVP_*Update take int lengths; feed large values in pieces of this many bytes. */
#define GCM_CHUNK ((size_t)1 << 20)

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Stored name into out (prefix + REPRAM_NAME_LEN bytes, no NUL). */
static int blind_into(const repram_keys *keys, const void *name, size_t name_len, char *out)
{
    uint8_t mac[32];
    uint8_t plen = (uint8_t)keys->prefix_len;
    uint8_t head[1 + REPRAM_PREFIX_MAX];
    head[0] = plen;
    memcpy(head + 1, keys->prefix, plen);
    int rc = repram_hmac2(keys->name_mac, head, 1u + plen, name, name_len, mac);
    if (rc != REPRAM_OK) return rc;
    memcpy(out, keys->prefix, plen);
    memcpy(out + plen, RP_NAME_MARK, RP_NAME_MARK_LEN);
    size_t n;
    repram_b64url_encode(mac, sizeof(mac), out + plen + RP_NAME_MARK_LEN, &n);
    return REPRAM_OK;
}

int repram_blind(const repram_keys *keys, const void *name, size_t name_len, char *out, size_t cap,
                 size_t *out_len)
{
    if (keys == NULL || out == NULL || (name == NULL && name_len > 0)) return REPRAM_ERR_INVALID;
    size_t len = keys->prefix_len + REPRAM_NAME_LEN;
    if (cap < len + 1) return REPRAM_ERR_INVALID;
    int rc = blind_into(keys, name, name_len, out);
    if (rc != REPRAM_OK) return rc;
    out[len] = '\0';
    if (out_len != NULL) *out_len = len;
    return REPRAM_OK;
}

static int key_check(const repram_keys *keys, const uint8_t *nonce, uint8_t check[RP_CHECK_LEN])
{
    uint8_t mac[32];
    int rc = repram_hmac2(keys->check_mac, nonce, RP_NONCE_LEN, NULL, 0, mac);
    if (rc == REPRAM_OK) memcpy(check, mac, RP_CHECK_LEN);
    return rc;
}

/* Run data through an encrypt (enc=1) or decrypt (enc=0) context in int-sized pieces. */
static int gcm_update(EVP_CIPHER_CTX *ctx, int enc, uint8_t *out, const uint8_t *in, size_t len)
{
    for (size_t done = 0; done < len;) {
        size_t n = len - done < GCM_CHUNK ? len - done : GCM_CHUNK;
        int outl = 0;
        int ok = enc ? EVP_EncryptUpdate(ctx, out + done, &outl, in + done, (int)n)
                     : EVP_DecryptUpdate(ctx, out + done, &outl, in + done, (int)n);
        if (ok != 1 || (size_t)outl != n) return 0;
        done += n;
    }
    return 1;
}

/* Feed the associated data: the header, then the stored name. */
static int gcm_aad(EVP_CIPHER_CTX *ctx, int enc, const uint8_t *header, const char *stored,
                   size_t stored_len)
{
    int outl = 0;
    int ok = enc ? EVP_EncryptUpdate(ctx, NULL, &outl, header, RP_HEADER_LEN)
                 : EVP_DecryptUpdate(ctx, NULL, &outl, header, RP_HEADER_LEN);
    if (ok != 1) return 0;
    if (stored_len == 0) return 1;
    return enc ? EVP_EncryptUpdate(ctx, NULL, &outl, (const uint8_t *)stored, (int)stored_len) == 1
               : EVP_DecryptUpdate(ctx, NULL, &outl, (const uint8_t *)stored, (int)stored_len) == 1;
}

int repram_seal_stored(const repram_keys *keys, const char *stored, size_t stored_len,
                       const void *value, size_t value_len, const uint8_t nonce[RP_NONCE_LEN],
                       void **blob, size_t *blob_len)
{
    if (keys == NULL || stored == NULL || stored_len > INT_MAX || nonce == NULL ||
        (value == NULL && value_len > 0) || blob == NULL || blob_len == NULL)
        return REPRAM_ERR_INVALID;
    if (value_len > REPRAM_VALUE_MAX) return REPRAM_ERR_TOO_LARGE;
    size_t total = value_len + REPRAM_BLOB_OVERHEAD;
    uint8_t *b = repram_buf_alloc(total);
    if (b == NULL) return REPRAM_ERR_NOMEM;

    memcpy(b, RP_MAGIC, RP_MAGIC_LEN);
    b[RP_OFF_VERSION] = REPRAM_FORMAT_VERSION;
    b[RP_OFF_SUITE] = RP_SUITE_1;
    b[RP_OFF_FLAGS] = 0;
    b[RP_OFF_FLAGS + 1] = 0;
    put_be32(b + RP_OFF_LENGTH, (uint32_t)value_len);
    memcpy(b + RP_OFF_NONCE, nonce, RP_NONCE_LEN);
    int rc = key_check(keys, nonce, b + RP_OFF_CHECK);
    if (rc != REPRAM_OK) goto fail;

    rc = REPRAM_ERR_NOMEM;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) goto fail;
    rc = REPRAM_ERR_CRYPTO;
    int outl = 0;
    int ok = EVP_CIPHER_CTX_copy(ctx, keys->gcm_enc) == 1 &&
             EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) == 1 &&
             gcm_aad(ctx, 1, b, stored, stored_len) &&
             gcm_update(ctx, 1, b + RP_HEADER_LEN, value, value_len) &&
             EVP_EncryptFinal_ex(ctx, b + RP_HEADER_LEN + value_len, &outl) == 1 && outl == 0 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, RP_TAG_LEN,
                                 b + RP_HEADER_LEN + value_len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) goto fail;
    *blob = b;
    *blob_len = total;
    return REPRAM_OK;
fail:
    repram_buf_free(b);
    return rc;
}

/* Header checks of FORMAT.md section 5, before any cryptography. */
static int check_header(const uint8_t *b, size_t len)
{
    size_t m = len < RP_MAGIC_LEN ? len : RP_MAGIC_LEN;
    if (memcmp(b, RP_MAGIC, m) != 0) return REPRAM_ERR_NOT_BLOB;
    if (len <= RP_OFF_VERSION) return REPRAM_ERR_TRUNCATED;
    if (b[RP_OFF_VERSION] != REPRAM_FORMAT_VERSION) return REPRAM_ERR_VERSION;
    if (len <= RP_OFF_SUITE) return REPRAM_ERR_TRUNCATED;
    if (b[RP_OFF_SUITE] != RP_SUITE_1) return REPRAM_ERR_VERSION;
    if (len < RP_OFF_FLAGS + 2) return REPRAM_ERR_TRUNCATED;
    if (b[RP_OFF_FLAGS] != 0 || b[RP_OFF_FLAGS + 1] != 0) return REPRAM_ERR_VERSION;
    if (len < REPRAM_BLOB_OVERHEAD) return REPRAM_ERR_TRUNCATED;
    uint64_t want = (uint64_t)get_be32(b + RP_OFF_LENGTH) + REPRAM_BLOB_OVERHEAD;
    if (len < want) return REPRAM_ERR_TRUNCATED;
    if (len > want) return REPRAM_ERR_TAMPERED;
    return REPRAM_OK;
}

int repram_open_stored(const repram_keys *keys, const char *stored, size_t stored_len,
                       const void *blob, size_t blob_len, void **value, size_t *value_len)
{
    if (value != NULL) *value = NULL;
    if (keys == NULL || stored == NULL || stored_len > INT_MAX || (blob == NULL && blob_len > 0) ||
        value == NULL || value_len == NULL)
        return REPRAM_ERR_INVALID;
    const uint8_t *b = blob;
    int rc = blob_len == 0 ? REPRAM_ERR_NOT_BLOB : check_header(b, blob_len);
    if (rc != REPRAM_OK) return rc;

    uint8_t check[RP_CHECK_LEN];
    rc = key_check(keys, b + RP_OFF_NONCE, check);
    if (rc != REPRAM_OK) return rc;
    if (CRYPTO_memcmp(check, b + RP_OFF_CHECK, RP_CHECK_LEN) != 0) return REPRAM_ERR_WRONG_KEY;

    size_t len = blob_len - REPRAM_BLOB_OVERHEAD;
    uint8_t *out = repram_buf_alloc(len);
    if (out == NULL) return REPRAM_ERR_NOMEM;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        repram_buf_free(out);
        return REPRAM_ERR_NOMEM;
    }
    uint8_t tag[RP_TAG_LEN];
    memcpy(tag, b + RP_HEADER_LEN + len, RP_TAG_LEN);
    int outl = 0;
    rc = REPRAM_ERR_CRYPTO;
    if (EVP_CIPHER_CTX_copy(ctx, keys->gcm_dec) == 1 &&
        EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, b + RP_OFF_NONCE) == 1 &&
        gcm_aad(ctx, 0, b, stored, stored_len) &&
        gcm_update(ctx, 0, out, b + RP_HEADER_LEN, len) &&
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, RP_TAG_LEN, tag) == 1)
        rc = EVP_DecryptFinal_ex(ctx, out + len, &outl) == 1 ? REPRAM_OK : REPRAM_ERR_TAMPERED;
    EVP_CIPHER_CTX_free(ctx);
    if (rc != REPRAM_OK) {
        repram_buf_free(out);
        return rc;
    }
    out[len] = '\0';
    *value = out;
    *value_len = len;
    return REPRAM_OK;
}

int repram_seal(const repram_keys *keys, const void *name, size_t name_len, const void *value,
                size_t value_len, void **blob, size_t *blob_len)
{
    if (keys == NULL || (name == NULL && name_len > 0)) return REPRAM_ERR_INVALID;
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN];
    int rc = blind_into(keys, name, name_len, stored);
    if (rc != REPRAM_OK) return rc;
    uint8_t nonce[RP_NONCE_LEN];
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) return REPRAM_ERR_CRYPTO;
    return repram_seal_stored(keys, stored, keys->prefix_len + REPRAM_NAME_LEN, value, value_len,
                              nonce, blob, blob_len);
}

int repram_open(const repram_keys *keys, const void *name, size_t name_len, const void *blob,
                size_t blob_len, void **value, size_t *value_len)
{
    if (value != NULL) *value = NULL;
    if (keys == NULL || (name == NULL && name_len > 0)) return REPRAM_ERR_INVALID;
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN];
    int rc = blind_into(keys, name, name_len, stored);
    if (rc != REPRAM_OK) return rc;
    return repram_open_stored(keys, stored, keys->prefix_len + REPRAM_NAME_LEN, blob, blob_len,
                              value, value_len);
}
