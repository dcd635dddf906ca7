/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tls.h: TLS for RESP clients (tls-port): the OpenSSL context built from the tls-* options, and
 * the per-connection calls net.c makes instead of read(2)/write(2) for a client that came in on
 * the TLS port.  Plain TCP clients never get here (c->ssl is NULL).
 *
 * The I/O calls behave like read(2)/write(2) on a non-blocking socket: > 0 bytes moved, 0 end
 * of stream (read only), -1 with errno EAGAIN when the socket must become ready first, or -1
 * with another errno when the connection is dead.  Which readiness a blocked call waits for is
 * kept in c->tls_flags, because TLS can need the opposite direction: a read may have to send
 * (SRV_TLS_READ_WANTS_WRITE), a write may have to receive (SRV_TLS_WRITE_WANTS_READ).  net.c
 * arms its events from these bits.
 *
 * Event-loop thread only.
 */
#ifndef SERVER_TLS_H
#define SERVER_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct srv_client;

/* c->tls_flags */
#define SRV_TLS_HANDSHAKING 0x01u      /* accepted, handshake not finished */
#define SRV_TLS_READ_WANTS_WRITE 0x02u /* the last read or handshake step waits for POLLOUT */
#define SRV_TLS_WRITE_WANTS_READ 0x04u /* the last write waits for POLLIN */
#define SRV_TLS_WRITE_RETRY 0x08u      /* a write must be repeated with c->tls_write_len bytes */
#define SRV_TLS_DEAD 0x10u             /* fatal error: no close_notify may be sent */

/*
 * Build the TLS context from srv.cfg (tls-cert-file, tls-key-file, tls-ca-cert-file/dir,
 * tls-auth-clients, tls-protocols, tls-ciphers, tls-ciphersuites) into srv.tls_ctx.  Files are
 * checked one by one so the start-up error names the option and the file and says what is
 * wrong: missing or unreadable (with errno's text), not a PEM certificate or key, or a key that
 * does not match the certificate.  Returns 0, or -1 after logging that error.  Does nothing
 * when neither tls-port nor http-tls is set.  The same context serves HTTPS (http.c).
 */
int srv_tls_init(void);

/* Free srv.tls_ctx (NULL is fine). */
void srv_tls_free(void);

/* Give an accepted client a TLS session in server mode; it starts in SRV_TLS_HANDSHAKING.
 * Returns 0, or -1 when OpenSSL cannot allocate one (the caller closes the client). */
int srv_tls_attach(struct srv_client *c);

/*
 * One step of the handshake.  Returns 1 when it is complete (SRV_TLS_HANDSHAKING cleared; the
 * protocol, cipher and client certificate are logged at verbose level), 0 when it waits for the
 * socket (SRV_TLS_READ_WANTS_WRITE tells which way), -1 when it failed: the reason (OpenSSL's,
 * e.g. "peer did not return a certificate") is logged at verbose level and counted in
 * srv.stats.tls_handshake_failures; the caller closes the client.
 */
int srv_tls_handshake(struct srv_client *c);

/* read(2) and write(2) through the session (see the file comment).  srv_tls_write may be asked
 * to repeat a blocked write: net.c passes the same unsent bytes again, and the length of the
 * blocked call is reused, as OpenSSL requires. */
ssize_t srv_tls_read(struct srv_client *c, void *buf, size_t len);
ssize_t srv_tls_write(struct srv_client *c, const void *buf, size_t len);

/* Bytes OpenSSL has already decrypted and holds for the client.  They do not make the socket
 * readable, so net.c must come back for them itself. */
size_t srv_tls_pending(const struct srv_client *c);

/* Send close_notify when the session is healthy (one non-blocking attempt) and free it. */
void srv_tls_detach(struct srv_client *c);

#endif /* SERVER_TLS_H */
