/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.h: the HTTP front door (REPRAM's v1 API on http-port, libevent's evhttp): start, stop, and
 * the figures /metrics reads.  The API itself is described in http_api.c; the protections
 * (connection cap, read-header deadline, rate limit, size limits) in http.c.
 *
 * Event-loop thread only.
 */
#ifndef SERVER_HTTP_H
#define SERVER_HTTP_H

struct evbuffer;

/* Listen on every `bind` address at http-port (nothing when it is 0).  0, or -1 after logging
 * why (the server exits).  Call after the event base exists. */
int srv_http_start(void);

/* Stop accepting HTTP connections (graceful shutdown); open ones finish what they are doing. */
void srv_http_close_listeners(void);

/* Close every HTTP connection and free the server.  Call after the cluster has stopped, so no
 * write is still waiting for a quorum with its request. */
void srv_http_stop(void);

/* HTTP connections open now (those being refused at http-max-connections included). */
int srv_http_connection_count(void);

/* The HTTP samples of repram_requests_total and of repram_request_duration_seconds (metrics.c
 * writes the HELP and TYPE lines of those families). */
void srv_http_metrics_requests(struct evbuffer *out);
void srv_http_metrics_latency(struct evbuffer *out);

#endif /* SERVER_HTTP_H */
