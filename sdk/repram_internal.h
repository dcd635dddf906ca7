/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * repram_internal.h: what the SDK's own files share and the public header does not show.  Every
 * name here is hidden from the shared library (-fvisibility=hidden); the unit tests, linked with
 * the static archive, may call them.
 */
#ifndef SDK_REPRAM_INTERNAL_H
#define SDK_REPRAM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "repram.h"

/* Blob layout, FORMAT.md section 3.  Offsets in bytes. */
#define RP_MAGIC "RPRM"
#define RP_MAGIC_LEN 4
#define RP_OFF_VERSION 4
#define RP_OFF_SUITE 5
#define RP_OFF_FLAGS 6
#define RP_OFF_LENGTH 8
#define RP_OFF_CHECK 12
#define RP_OFF_NONCE 16
#define RP_HEADER_LEN 28 /* everything before the ciphertext; the first part of the AAD */
#define RP_SUITE_1 1     /* AES-256-GCM, HMAC-SHA256 names, HKDF-SHA256 subkeys */
#define RP_NONCE_LEN 12
#define RP_CHECK_LEN 4
#define RP_TAG_LEN 16
#define RP_NAME_MARK "rp1:"
#define RP_NAME_MARK_LEN 4
#define RP_MAC_B64_LEN 43 /* base64url of 32 bytes, no padding */

/* Invariant: REPRAM_BLOB_OVERHEAD == RP_HEADER_LEN + RP_TAG_LEN. */
_Static_assert(REPRAM_BLOB_OVERHEAD == RP_HEADER_LEN + RP_TAG_LEN, "blob overhead");
_Static_assert(REPRAM_NAME_LEN == RP_NAME_MARK_LEN + RP_MAC_B64_LEN, "stored name length");

/* HKDF and scrypt labels, FORMAT.md section 2. */
#define RP_HKDF_SALT "repram.v1.hkdf"
#define RP_INFO_VALUE "repram.v1.value"
#define RP_INFO_NAME "repram.v1.name"
#define RP_INFO_CHECK "repram.v1.check"
#define RP_SCRYPT_SALT "repram.v1.scrypt:"

struct repram_keys {
    uint8_t value_key[32]; /* AES-256-GCM key */
    uint8_t name_key[32];  /* HMAC-SHA256 key for names */
    uint8_t check_key[32]; /* HMAC-SHA256 key for the key-check bytes */
    char prefix[REPRAM_PREFIX_MAX + 1];
    size_t prefix_len;
    /* Keyed templates, made once: every operation duplicates one (EVP_MAC_CTX_dup,
     * EVP_CIPHER_CTX_copy) instead of fetching and keying anew, which costs more than sealing a
     * small value.  Both copy functions take a const source and only read it, so threads may
     * share the templates. */
    EVP_MAC_CTX *name_mac;
    EVP_MAC_CTX *check_mac;
    EVP_CIPHER_CTX *gcm_enc;
    EVP_CIPHER_CTX *gcm_dec;
};

/* Buffers handed to callers: a hidden size header in front, so repram_buf_free can wipe them.
 * Always one byte longer than asked and NUL-terminated there. */
void *repram_buf_alloc(size_t len);

/* A deep copy of keys (for a client), or NULL when out of memory. */
repram_keys *repram_keys_dup(const repram_keys *keys);

/* A keyed HMAC-SHA256 template for key[32], or NULL (out of memory or no algorithm). */
EVP_MAC_CTX *repram_hmac_new(const uint8_t key[32]);
/* HMAC-SHA256 with template tmpl over a || b into mac[32].  REPRAM_OK, NOMEM or CRYPTO. */
int repram_hmac2(const EVP_MAC_CTX *tmpl, const void *a, size_t alen, const void *b, size_t blen,
                 uint8_t mac[32]);

/* Text codecs.  Decoders skip nothing: the input must be exactly the encoding. */
void repram_hex_encode(const uint8_t *in, size_t len, char *out); /* 2*len chars, no NUL */
int repram_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);
void repram_b64url_encode(const uint8_t *in, size_t len, char *out, size_t *out_len); /* no NUL */
/* Accepts the standard and URL-safe alphabets, with or without '=' padding. */
int repram_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* Seal/open by stored name (the AAD), and with a given nonce: the core that repram_seal and
 * repram_open wrap, and the seam the tests use to flip bits in the associated data. */
int repram_seal_stored(const repram_keys *keys, const char *stored, size_t stored_len,
                       const void *value, size_t value_len, const uint8_t nonce[RP_NONCE_LEN],
                       void **blob, size_t *blob_len);
int repram_open_stored(const repram_keys *keys, const char *stored, size_t stored_len,
                       const void *blob, size_t blob_len, void **value, size_t *value_len);

#endif /* SDK_REPRAM_INTERNAL_H */
