/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls.c: RESP over TLS (tls-port) with OpenSSL 3.
 *
 * What: builds one SSL_CTX from the tls-* options at start-up, and gives net.c read/write calls
 * for TLS clients that behave like read(2)/write(2) on a non-blocking socket.
 *
 * Why this shape: net.c keeps its own buffers and raw events for plain clients (see its header:
 * no bufferevents, one write per batch).  TLS slots in underneath as a per-client branch on
 * c->ssl in the two places net.c touches the socket, so the plain path costs one predictable
 * branch and nothing else.  Rejected: bufferevent_openssl for RESP (it would bring back the
 * double buffering and the per-reply event toggling net.c was written to avoid) and a BIO pair
 * (an extra copy of every byte).  OpenSSL reads and writes the socket itself (SSL_set_fd).
 *
 * What can go wrong, and what is done about it:
 *   - A TLS read can need to write (handshake messages, key updates) and a write can need to
 *     read.  SSL_get_error's WANT_WRITE on a read / WANT_READ on a write is recorded in
 *     c->tls_flags; net.c then waits for that readiness and repeats the call.
 *   - A blocked SSL_write must be repeated with the same bytes and length.  The bytes are the
 *     unsent head of the client's output buffer, which may move when the buffer is compacted
 *     (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) but never changes; the length is remembered here.
 *   - Data OpenSSL has decrypted but net.c has not taken (SSL_pending) does not make the socket
 *     readable again: net.c asks srv_tls_pending() after each read.
 *   - A client that connects and never finishes the handshake holds a slot: net.c's timer closes
 *     it after tls-handshake-timeout.
 *   - Renegotiation is disabled (a client could make the server do expensive work at will), as
 *     are TLS versions before 1.2.  Idle connections release their record buffers
 *     (SSL_MODE_RELEASE_BUFFERS), which matters with thousands of mostly idle clients.
 *   - A client that closes without close_notify is a normal end of stream, as for plain TCP
 *     (SSL_OP_IGNORE_UNEXPECTED_EOF): RESP frames itself, so truncation is visible anyway.
 *
 * Start-up errors name the option and the file, and say which check failed, because "SSL
 * error" is useless at 3 a.m.: each file is opened and parsed by us before OpenSSL loads it.
 *
 * Event-loop thread only (OpenSSL's per-thread error queue is used without locking).
 * Start reading at srv_tls_init, then srv_tls_read.
 */
#include "server/tls.h"

#include <dirent.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "server/client.h"
#include "server/config.h"
#include "server/log.h"
#include "server/server.h"

/* Session-ID context: without one, resuming a session fails once client certificates are
 * verified.  Any constant unique to this service will do. */
static const unsigned char SESSION_ID_CONTEXT[] = "repram-resp";

/* PEM password callback: keys must not be encrypted, and OpenSSL must never prompt on a
 * terminal, so every request for a passphrase fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/* OpenSSL's reason for the oldest queued error ("certificate verify failed"), then clear the
 * queue.  `fallback` when the queue is empty. */
static const char *ssl_reason(const char *fallback)
{
    static char buf[160];
    unsigned long e = ERR_peek_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    snprintf(buf, sizeof buf, "%s", r ? r : fallback);
    ERR_clear_error();
    return buf;
}

/* ---- start-up: the context */

/* Open `path` (option `opt`) for reading, logging why not. */
static FILE *open_or_log(const char *opt, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        srv_log(SRV_LOG_WARNING, "option '%s': cannot open %s: %s", opt, path, strerror(errno));
        return NULL;
    }
    /* fopen succeeds on a directory; the first read then fails with EISDIR. */
    if (fgetc(f) == EOF && ferror(f)) {
        srv_log(SRV_LOG_WARNING, "option '%s': cannot read %s: %s", opt, path, strerror(errno));
        fclose(f);
        return NULL;
    }
    rewind(f);
    return f;
}

/* The first certificate of a PEM file, or NULL after logging why. */
static X509 *read_cert_or_log(const char *opt, const char *path)
{
    FILE *f = open_or_log(opt, path);
    if (!f) return NULL;
    X509 *x = PEM_read_X509(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!x)
        srv_log(SRV_LOG_WARNING, "option '%s': %s holds no PEM certificate (%s)", opt, path,
                ssl_reason("no certificate found"));
    return x;
}

static EVP_PKEY *read_key_or_log(const char *path)
{
    FILE *f = open_or_log("tls-key-file", path);
    if (!f) return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (!k) {
        const char *why = ssl_reason("no key found");
        if (strstr(why, "bad decrypt") || strstr(why, "password") || strstr(why, "passphrase"))
            srv_log(SRV_LOG_WARNING, "option 'tls-key-file': %s is encrypted with a passphrase, "
                    "which repram does not support (decrypt it with 'openssl pkey')", path);
        else
            srv_log(SRV_LOG_WARNING, "option 'tls-key-file': %s holds no PEM private key (%s)",
                    path, why);
    }
    return k;
}

/* Certificate, key and their match. */
static int load_identity(SSL_CTX *ctx)
{
    const char *cert_path = srv.cfg.tls_cert_file, *key_path = srv.cfg.tls_key_file;
    X509 *cert = read_cert_or_log("tls-cert-file", cert_path);
    if (!cert) return -1;
    EVP_PKEY *key = read_key_or_log(key_path);
    int rc = -1;
    if (!key) goto out;
    if (!X509_check_private_key(cert, key)) {
        ERR_clear_error();
        srv_log(SRV_LOG_WARNING, "option 'tls-key-file': the key in %s does not match the "
                "certificate in %s (option 'tls-cert-file')", key_path, cert_path);
        goto out;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
        srv_log(SRV_LOG_WARNING, "option 'tls-cert-file': the certificate in %s has expired; "
                "clients that check it will refuse to connect", cert_path);
    /* The chain file may hold intermediates after the leaf: let OpenSSL take all of them. */
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
        srv_log(SRV_LOG_WARNING, "option 'tls-cert-file': cannot use %s: %s", cert_path,
                ssl_reason("unknown error"));
        goto out;
    }
    if (SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        srv_log(SRV_LOG_WARNING, "option 'tls-key-file': cannot use %s: %s", key_path,
                ssl_reason("unknown error"));
        goto out;
    }
    rc = 0;
out:
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/* CA certificates that client certificates must chain to. */
static int load_client_ca(SSL_CTX *ctx)
{
    const char *file = srv.cfg.tls_ca_cert_file[0] ? srv.cfg.tls_ca_cert_file : NULL;
    const char *dir = srv.cfg.tls_ca_cert_dir[0] ? srv.cfg.tls_ca_cert_dir : NULL;
    if (file) {
        X509 *ca = read_cert_or_log("tls-ca-cert-file", file);
        if (!ca) return -1;
        X509_free(ca);
    }
    if (dir) {
        DIR *d = opendir(dir);
        if (!d) {
            srv_log(SRV_LOG_WARNING, "option 'tls-ca-cert-dir': cannot open %s: %s", dir,
                    strerror(errno));
            return -1;
        }
        closedir(d);
    }
    if (!file && !dir) return 0;
    if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1) {
        srv_log(SRV_LOG_WARNING, "option '%s': cannot load CA certificates from %s: %s",
                file ? "tls-ca-cert-file" : "tls-ca-cert-dir", file ? file : dir,
                ssl_reason("unknown error"));
        return -1;
    }
    /* Tell clients which CAs we accept, so one with several certificates picks the right one. */
    if (file) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(file);
        if (names) SSL_CTX_set_client_CA_list(ctx, names);
        ERR_clear_error();
    }
    return 0;
}

static int set_protocols_and_ciphers(SSL_CTX *ctx)
{
    unsigned mask = 0;
    char bad[72];
    if (config_parse_tls_protocols(srv.cfg.tls_protocols, &mask, bad, sizeof bad) != 0)
        return -1; /* config_validate has refused this already */
    int min = (mask & SRV_TLS_PROTO_12) ? TLS1_2_VERSION : TLS1_3_VERSION;
    int max = (mask & SRV_TLS_PROTO_13) ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, min) || !SSL_CTX_set_max_proto_version(ctx, max)) {
        srv_log(SRV_LOG_WARNING, "option 'tls-protocols': OpenSSL refused '%s': %s",
                srv.cfg.tls_protocols, ssl_reason("unknown error"));
        return -1;
    }
    if (srv.cfg.tls_ciphers[0] && SSL_CTX_set_cipher_list(ctx, srv.cfg.tls_ciphers) != 1) {
        srv_log(SRV_LOG_WARNING, "option 'tls-ciphers': no usable cipher in '%s' (%s)",
                srv.cfg.tls_ciphers, ssl_reason("unknown error"));
        return -1;
    }
    if (srv.cfg.tls_ciphersuites[0] &&
        SSL_CTX_set_ciphersuites(ctx, srv.cfg.tls_ciphersuites) != 1) {
        srv_log(SRV_LOG_WARNING, "option 'tls-ciphersuites': no usable cipher suite in '%s' (%s)",
                srv.cfg.tls_ciphersuites, ssl_reason("unknown error"));
        return -1;
    }
    return 0;
}

int srv_tls_init(void)
{
    if (srv.cfg.tls_port == 0 && !srv.cfg.http_tls) return 0;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        srv_log(SRV_LOG_WARNING, "cannot create the TLS context: %s", ssl_reason("out of memory"));
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
    SSL_CTX_set_session_id_context(ctx, SESSION_ID_CONTEXT, sizeof SESSION_ID_CONTEXT - 1);
    SSL_CTX_set_dh_auto(ctx, 1);
    if (load_identity(ctx) < 0 || load_client_ca(ctx) < 0 || set_protocols_and_ciphers(ctx) < 0) {
        SSL_CTX_free(ctx);
        return -1;
    }
    int verify = SSL_VERIFY_NONE;
    if (srv.cfg.tls_auth_clients == SRV_TLS_AUTH_YES)
        verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else if (srv.cfg.tls_auth_clients == SRV_TLS_AUTH_OPTIONAL)
        verify = SSL_VERIFY_PEER;
    SSL_CTX_set_verify(ctx, verify, NULL);
    srv.tls_ctx = ctx;
    return 0;
}

void srv_tls_free(void)
{
    SSL_CTX_free(srv.tls_ctx);
    srv.tls_ctx = NULL;
}

/* ---- connections */

int srv_tls_attach(srv_client *c)
{
    SSL *ssl = SSL_new(srv.tls_ctx);
    if (!ssl || SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        ERR_clear_error();
        return -1;
    }
    SSL_set_accept_state(ssl);
    c->ssl = ssl;
    c->tls_flags = SRV_TLS_HANDSHAKING;
    srv.tls_client_count++;
    return 0;
}

void srv_tls_detach(srv_client *c)
{
    if (!c->ssl) return;
    /* One attempt at close_notify, only on a healthy, established session: a failed or
     * half-done one must not be touched again (OpenSSL's rule), and we never wait for the
     * peer's answer. */
    if (!(c->tls_flags & (SRV_TLS_DEAD | SRV_TLS_HANDSHAKING))) {
        ERR_clear_error();
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    SSL_free(c->ssl);
    c->ssl = NULL;
    c->tls_flags = 0;
    srv.tls_client_count--;
}

/* Map a failed SSL_* call onto read(2)/write(2) conventions.  `wants_other` is the flag to set
 * when the call needs the opposite direction of readiness. */
static ssize_t io_fail(srv_client *c, int ret, unsigned wants_other, int other_err)
{
    int saved = errno;
    int err = SSL_get_error(c->ssl, ret);
    switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        if (err == other_err) c->tls_flags |= wants_other;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF) */
        c->tls_flags |= SRV_TLS_DEAD;
        return 0;
    case SSL_ERROR_SYSCALL:
        c->tls_flags |= SRV_TLS_DEAD;
        ERR_clear_error();
        errno = saved ? saved : ECONNRESET;
        return -1;
    default:
        c->tls_flags |= SRV_TLS_DEAD;
        srv_log(SRV_LOG_VERBOSE, "TLS error on client id=%llu addr=%s: %s",
                (unsigned long long)c->id, c->addr, ssl_reason("protocol error"));
        errno = EPROTO;
        return -1;
    }
}

ssize_t srv_tls_read(srv_client *c, void *buf, size_t len)
{
    c->tls_flags &= ~SRV_TLS_READ_WANTS_WRITE;
    int want = len > (size_t)INT32_MAX ? INT32_MAX : (int)len;
    ERR_clear_error(); /* SSL_get_error needs an empty queue */
    errno = 0;
    int n = SSL_read(c->ssl, buf, want);
    if (n > 0) return n;
    return io_fail(c, n, SRV_TLS_READ_WANTS_WRITE, SSL_ERROR_WANT_WRITE);
}

ssize_t srv_tls_write(srv_client *c, const void *buf, size_t len)
{
    size_t want = len > (size_t)INT32_MAX ? (size_t)INT32_MAX : len;
    /* OpenSSL's rule: repeat a blocked write with the same length (the bytes are the same). */
    if ((c->tls_flags & SRV_TLS_WRITE_RETRY) && c->tls_write_len <= want) want = c->tls_write_len;
    c->tls_flags &= ~(SRV_TLS_WRITE_WANTS_READ | SRV_TLS_WRITE_RETRY);
    ERR_clear_error();
    errno = 0;
    int n = SSL_write(c->ssl, buf, (int)want);
    if (n > 0) return n;
    ssize_t r = io_fail(c, n, SRV_TLS_WRITE_WANTS_READ, SSL_ERROR_WANT_READ);
    if (r < 0 && errno == EAGAIN) {
        c->tls_flags |= SRV_TLS_WRITE_RETRY;
        c->tls_write_len = want;
    }
    return r < 0 ? r : -1; /* a write never reports end of stream */
}

size_t srv_tls_pending(const srv_client *c)
{
    int n = SSL_pending(c->ssl);
    return n > 0 ? (size_t)n : 0;
}

/* The client certificate's subject for the log, or "none". */
static void peer_subject(SSL *ssl, char *buf, size_t len)
{
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (!peer) {
        snprintf(buf, len, "none");
        return;
    }
    X509_NAME_oneline(X509_get_subject_name(peer), buf, (int)len);
    X509_free(peer);
}

int srv_tls_handshake(srv_client *c)
{
    c->tls_flags &= ~SRV_TLS_READ_WANTS_WRITE;
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        c->tls_flags &= ~SRV_TLS_HANDSHAKING;
        if (srv_log_level <= SRV_LOG_VERBOSE) {
            char subject[256];
            peer_subject(c->ssl, subject, sizeof subject);
            srv_log(SRV_LOG_VERBOSE, "TLS client id=%llu addr=%s: %s %s, client certificate %s",
                    (unsigned long long)c->id, c->addr, SSL_get_version(c->ssl),
                    SSL_get_cipher_name(c->ssl), subject);
        }
        return 1;
    }
    int err = SSL_get_error(c->ssl, rc);
    if (err == SSL_ERROR_WANT_READ) return 0;
    if (err == SSL_ERROR_WANT_WRITE) {
        c->tls_flags |= SRV_TLS_READ_WANTS_WRITE;
        return 0;
    }
    const char *why;
    if (err == SSL_ERROR_SYSCALL)
        why = errno ? strerror(errno) : "connection closed by the client";
    else if (err == SSL_ERROR_ZERO_RETURN)
        why = "connection closed by the client";
    else
        why = ssl_reason("protocol error");
    c->tls_flags |= SRV_TLS_DEAD;
    srv.stats.tls_handshake_failures++;
    srv_log(SRV_LOG_VERBOSE, "TLS handshake failed for client id=%llu addr=%s: %s",
            (unsigned long long)c->id, c->addr, why);
    ERR_clear_error();
    return -1;
}
