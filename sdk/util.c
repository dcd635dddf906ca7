/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.c: the small pieces every other SDK file uses: result-code names, the wiping buffer
 * allocator, HMAC-SHA256, and the hex and base64 codecs for key text and stored names.
 *
 * Why a size header on returned buffers: the caller frees values with one call,
 * repram_buf_free(p), and the library must wipe them (they hold plaintext) without asking the
 * caller for the length.  The header is a max_align_t-sized union, so the pointer handed out stays
 * suitably aligned for any type.  Rejected: returning a struct {ptr,len} (clumsier for callers)
 * and a free function that takes the length (easy to get wrong).
 *
 * The codecs are written here rather than taken from EVP_EncodeBlock/EVP_DecodeBlock because
 * those only do padded standard base64 and silently accept trailing garbage; key text must be
 * exactly one key or an error.
 *
 * HMAC goes through EVP_MAC (OpenSSL 3.0); the HMAC_CTX API is deprecated there.  A keyed
 * template is made once per key context and duplicated per use: fetching and keying per call
 * made a small seal three times slower.
 *
 * No global state; everything is safe to call from any thread.  Start reading at repram_strerror.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "repram_internal.h"

const char *repram_strerror(int err)
{
    switch (err) {
    case REPRAM_OK: return "success";
    case REPRAM_ERR_INVALID: return "invalid argument";
    case REPRAM_ERR_NOMEM: return "out of memory";
    case REPRAM_ERR_NOT_FOUND: return "key not found";
    case REPRAM_ERR_WRONG_KEY: return "wrong key (the blob was sealed with another key)";
    case REPRAM_ERR_TAMPERED: return "tampered blob (authentication failed)";
    case REPRAM_ERR_TRUNCATED: return "truncated blob";
    case REPRAM_ERR_VERSION: return "unknown blob format version";
    case REPRAM_ERR_NOT_BLOB: return "not a repram blob";
    case REPRAM_ERR_KEY_FORMAT: return "key is not 32 bytes of hex or base64";
    case REPRAM_ERR_IO: return "cannot read key file";
    case REPRAM_ERR_CRYPTO: return "cryptographic library failure";
    case REPRAM_ERR_CONNECT: return "cannot connect to server";
    case REPRAM_ERR_TIMEOUT: return "time-out";
    case REPRAM_ERR_CONNECTION: return "connection to server lost";
    case REPRAM_ERR_AUTH: return "authentication failed";
    case REPRAM_ERR_SERVER: return "server error";
    case REPRAM_ERR_PROTOCOL: return "unexpected reply from server";
    case REPRAM_ERR_TOO_LARGE: return "value too large";
    default: return "unknown error code";
    }
}

const char *repram_version(void)
{
    return REPRAM_VERSION_STRING;
}

/* ---- buffers ----------------------------------------------------------------------------- */

typedef union buf_header {
    size_t size; /* bytes after the header, NUL byte included */
    max_align_t align;
} buf_header;

void *repram_buf_alloc(size_t len)
{
    if (len > SIZE_MAX - sizeof(buf_header) - 1) return NULL;
    buf_header *h = malloc(sizeof(buf_header) + len + 1);
    if (h == NULL) return NULL;
    h->size = len + 1;
    unsigned char *p = (unsigned char *)(h + 1);
    p[len] = '\0';
    /* Not a leak: repram_buf_free finds h again one header before p. */
    /* cppcheck-suppress memleak */
    return p;
}

void repram_buf_free(void *buf)
{
    if (buf == NULL) return;
    buf_header *h = (buf_header *)buf - 1;
    OPENSSL_cleanse(buf, h->size);
    free(h);
}

/* ---- HMAC-SHA256 ------------------------------------------------------------------------- */

EVP_MAC_CTX *repram_hmac_new(const uint8_t key[32])
{
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = alg != NULL ? EVP_MAC_CTX_new(alg) : NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx != NULL && EVP_MAC_init(ctx, key, 32, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    EVP_MAC_free(alg); /* the context holds its own reference */
    return ctx;
}

int repram_hmac2(const EVP_MAC_CTX *tmpl, const void *a, size_t alen, const void *b, size_t blen,
                 uint8_t mac[32])
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(tmpl);
    if (ctx == NULL) return REPRAM_ERR_NOMEM;
    size_t outlen = 0;
    int ok = (alen == 0 || EVP_MAC_update(ctx, a, alen) == 1) &&
             (blen == 0 || EVP_MAC_update(ctx, b, blen) == 1) &&
             EVP_MAC_final(ctx, mac, &outlen, 32) == 1 && outlen == 32;
    EVP_MAC_CTX_free(ctx);
    return ok ? REPRAM_OK : REPRAM_ERR_CRYPTO;
}

/* ---- hex and base64 ---------------------------------------------------------------------- */

void repram_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int repram_hex_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if (len % 2 != 0 || len / 2 > cap) return REPRAM_ERR_KEY_FORMAT;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0) return REPRAM_ERR_KEY_FORMAT;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return REPRAM_OK;
}

void repram_b64url_encode(const uint8_t *in, size_t len, char *out, size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
    }
    *out_len = o;
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

int repram_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    while (len > 0 && in[len - 1] == '=') len--;
    if (len % 4 == 1) return REPRAM_ERR_KEY_FORMAT;
    size_t need = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
    if (need > cap) return REPRAM_ERR_KEY_FORMAT;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(in[i]);
        if (v < 0) return REPRAM_ERR_KEY_FORMAT;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, or the text is not the canonical encoding of any bytes. */
    if (acc != 0) return REPRAM_ERR_KEY_FORMAT;
    *out_len = o;
    return REPRAM_OK;
}
