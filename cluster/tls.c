/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls.c: TLS for the cluster bus.
 *
 * Two ways to authenticate a bus link, both TLS 1.3 only:
 *   - mutual TLS: every node has a certificate signed by the cluster's CA; both sides require and
 *     verify the other's chain, and after HELLO the peer's certificate must cover the node name it
 *     claims (X509_check_host: subjectAltName DNS entries, else the common name), so a node cannot
 *     pose as another member even with a valid certificate of its own.
 *   - a shared secret: TLS 1.3 with an external pre-shared key.  The key is HKDF-SHA256 of
 *     `cluster-secret` (salt "repram-bus-psk-v1", info = cluster name), the identity names the
 *     cluster.  Both sides prove they hold the key in a handshake with fresh randomness from both,
 *     which is the challenge-response: a recorded handshake or session cannot be replayed into a
 *     new connection, and TLS's record sequence numbers reject replayed or reordered frames inside
 *     one.  No certificates are involved; early data (0-RTT, replayable) is never enabled.
 *     Rotation: `cluster-secret-accept` adds a second key that peers may dial with, while this
 *     node dials with `cluster-secret`.  The acceptor must know which key a dialer used before
 *     the handshake can check it, so a node with two keys names its key in the identity,
 *     "repram-bus:<cluster>#<key id>", the key id being 8 hex digits of another HKDF output of
 *     the secret (it reveals nothing a recorded handshake's binder does not already let an
 *     attacker test a guess against).  A node with one key sends the plain identity, as nodes
 *     always did, and an acceptor takes the plain identity as its cluster-secret: so nodes
 *     without the option interoperate with older releases, and the three rolling restarts of
 *     a rotation (A + accept B; B + accept A; B) never leave two live nodes without a key
 *     they both accept (docs/operations.md).
 * Rejected: a home-made HMAC challenge over plain TCP.  It would authenticate the handshake but
 * leave every replicated value readable on the network and the rest of the stream forgeable.
 *
 * Errors are reported with the file or option concerned, e.g. "cluster-tls-key-file
 * /x/key.pem: key does not match the certificate".
 */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cluster_tls.h"

#define PSK_LEN 32
#define BUS_READ_AHEAD_BYTES (64u * 1024)
static const unsigned char TLS_AES_128_GCM_SHA256_ID[2] = {0x13, 0x01};

#define KEY_ID_HEX 8

/* keys[0] is cluster-secret (used to dial), keys[1] cluster-secret-accept when set. */
typedef struct psk_state {
    unsigned char keys[2][PSK_LEN];
    char ids[2][CL_STR_MAX + 16 + KEY_ID_HEX]; /* "repram-bus:<cluster>#<key id>" */
    char plain[CL_STR_MAX + 16];               /* "repram-bus:<cluster>": keys[0] */
    int nkeys;
} psk_state;

static int psk_index = -1; /* ex_data slot of the SSL_CTX holding psk_state */

static void last_ssl_error(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, len);
    else snprintf(buf, len, "unknown error");
    ERR_clear_error();
}

static SSL_SESSION *psk_session(SSL *ssl, const unsigned char *key)
{
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, TLS_AES_128_GCM_SHA256_ID);
    SSL_SESSION *s = cipher ? SSL_SESSION_new() : NULL;
    if (!s) return NULL;
    if (!SSL_SESSION_set1_master_key(s, key, PSK_LEN) || !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return NULL;
    }
    return s;
}

static const psk_state *ssl_psk(SSL *ssl)
{
    return SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), psk_index);
}

static int psk_use_session(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                           SSL_SESSION **sess)
{
    const psk_state *ps = ssl_psk(ssl);
    if (!ps) return 0;
    if (md && md != EVP_sha256()) { /* the server chose a suite our PSK cannot serve */
        *sess = NULL;
        return 1;
    }
    *sess = psk_session(ssl, ps->keys[0]);
    *id = (const unsigned char *)(ps->nkeys > 1 ? ps->ids[0] : ps->plain);
    *idlen = strlen((const char *)*id);
    return *sess != NULL;
}

static int identity_is(const unsigned char *identity, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(identity, want, len) == 0;
}

static int psk_find_session(SSL *ssl, const unsigned char *identity, size_t identity_len,
                            SSL_SESSION **sess)
{
    const psk_state *ps = ssl_psk(ssl);
    *sess = NULL;
    if (!ps) return 1;
    const unsigned char *key = NULL;
    if (identity_is(identity, identity_len, ps->plain)) key = ps->keys[0];
    for (int i = 0; i < ps->nkeys && !key; i++)
        if (identity_is(identity, identity_len, ps->ids[i])) key = ps->keys[i];
    if (!key) return 1; /* no PSK: with no certificate configured the handshake then fails */
    *sess = psk_session(ssl, key);
    return *sess != NULL;
}

static void free_psk(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (ptr) {
        OPENSSL_cleanse(ptr, sizeof(psk_state));
        OPENSSL_free(ptr);
    }
}

/* HKDF-SHA256 of the secret with `salt`, info = cluster name: `outlen` bytes. */
static int derive(const char *secret, const char *salt, const char *cluster_name,
                  unsigned char *out, size_t want)
{
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
    size_t outlen = want;
    int ok = kctx && EVP_PKEY_derive_init(kctx) > 0 &&
             EVP_PKEY_CTX_set_hkdf_md(kctx, EVP_sha256()) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_salt(kctx, (const unsigned char *)salt, (int)strlen(salt)) > 0 &&
             EVP_PKEY_CTX_set1_hkdf_key(kctx, (const unsigned char *)secret, (int)strlen(secret)) > 0 &&
             EVP_PKEY_CTX_add1_hkdf_info(kctx, (const unsigned char *)cluster_name,
                                         (int)strlen(cluster_name)) > 0 &&
             EVP_PKEY_derive(kctx, out, &outlen) > 0 && outlen == want;
    EVP_PKEY_CTX_free(kctx);
    return ok ? 0 : -1;
}

/* The key and its identity "repram-bus:<cluster>#<key id>" for one secret. */
static int derive_key(psk_state *ps, int i, const char *secret, const char *cluster_name)
{
    unsigned char kid[KEY_ID_HEX / 2];
    if (derive(secret, "repram-bus-psk-v1", cluster_name, ps->keys[i], PSK_LEN) < 0 ||
        derive(secret, "repram-bus-key-id-v1", cluster_name, kid, sizeof kid) < 0)
        return -1;
    int n = snprintf(ps->ids[i], sizeof ps->ids[i], "repram-bus:%s#", cluster_name);
    for (size_t j = 0; j < sizeof kid; j++)
        n += snprintf(ps->ids[i] + n, sizeof ps->ids[i] - (size_t)n, "%02x", kid[j]);
    return 0;
}

static SSL_CTX *new_ctx(char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* bus.c takes every record the kernel holds in one read(2) (see its header) */
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_default_read_buffer_len(ctx, BUS_READ_AHEAD_BYTES);
    return ctx;
}

SSL_CTX *cl_tls_ctx_psk(const char *secret, const char *accept, const char *cluster_name,
                        char *err, size_t errlen)
{
    if (psk_index < 0) psk_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_psk);
    SSL_CTX *ctx = new_ctx(err, errlen);
    if (!ctx) return NULL;
    psk_state *ps = OPENSSL_zalloc(sizeof *ps);
    if (!ps || derive_key(ps, 0, secret, cluster_name) < 0 ||
        (accept && derive_key(ps, 1, accept, cluster_name) < 0)) {
        if (ps) OPENSSL_cleanse(ps, sizeof *ps);
        OPENSSL_free(ps);
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "cannot derive the bus key from cluster-secret%s",
                 accept ? " or cluster-secret-accept" : "");
        return NULL;
    }
    ps->nkeys = accept ? 2 : 1;
    snprintf(ps->plain, sizeof ps->plain, "repram-bus:%s", cluster_name);
    /* The PSK is bound to SHA-256; a server that picked a SHA-384 suite would ignore it and fall
     * back to certificates, which this context has none of. */
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_ex_data(ctx, psk_index, ps);
    SSL_CTX_set_psk_use_session_callback(ctx, psk_use_session);
    SSL_CTX_set_psk_find_session_callback(ctx, psk_find_session);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

SSL_CTX *cl_tls_ctx_certs(const char *cert_file, const char *key_file, const char *ca_file,
                          char *err, size_t errlen)
{
    char why[256];
    SSL_CTX *ctx = new_ctx(err, errlen);
    if (!ctx) return NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        last_ssl_error(why, sizeof why);
        snprintf(err, errlen, "cluster-tls-cert-file %s: %s", cert_file, why);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        last_ssl_error(why, sizeof why);
        snprintf(err, errlen, "cluster-tls-key-file %s: %s", key_file, why);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        snprintf(err, errlen, "cluster-tls-key-file %s: key does not match the certificate %s",
                 key_file, cert_file);
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        last_ssl_error(why, sizeof why);
        snprintf(err, errlen, "cluster-tls-ca-cert-file %s: %s", ca_file, why);
        goto fail;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

int cl_tls_cert_covers(SSL *ssl, const char *name)
{
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return 0;
    int ok = X509_check_host(cert, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
    X509_free(cert);
    return ok;
}

void cl_tls_error(char *buf, size_t len) { last_ssl_error(buf, len); }
