/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_tls.h: TLS contexts for the bus (tls.c).  Private to cluster/.
 */
#ifndef CLUSTER_CLUSTER_TLS_H
#define CLUSTER_CLUSTER_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "cluster/cluster_internal.h"

/* A TLS 1.3 context authenticated by a key derived from the shared secret; `accept` (or NULL)
 * is a second secret whose key peers may also use (rotation, see tls.c).  Dials always use
 * `secret`.  NULL + err. */
SSL_CTX *cl_tls_ctx_psk(const char *secret, const char *accept, const char *cluster_name,
                        char *err, size_t errlen);

/* A TLS 1.3 context for mutual TLS with the cluster CA.  NULL + err naming the option and file. */
SSL_CTX *cl_tls_ctx_certs(const char *cert_file, const char *key_file, const char *ca_file,
                          char *err, size_t errlen);

/* 1 when the peer's verified certificate covers `name` (SAN DNS entries, else CN). */
int cl_tls_cert_covers(SSL *ssl, const char *name);

/* The last OpenSSL error as text (clears the queue). */
void cl_tls_error(char *buf, size_t len);

#endif /* CLUSTER_CLUSTER_TLS_H */
