/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_internal.h: what http.c (the evhttp server: connections, limits, replies) and http_api.c
 * (the routes of REPRAM's v1 API) share.  Nothing outside those two files includes it.
 */
#ifndef SERVER_HTTP_INTERNAL_H
#define SERVER_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "server/ratelimit.h"

struct evbuffer;
struct evhttp_request;

/* Routes, for statistics (labels of repram_requests_total) and dispatch.  HEAD is counted with
 * GET, except on /v1/data where it is its own route. */
enum srv_http_route {
    SRV_HTTP_DATA_GET,
    SRV_HTTP_DATA_HEAD,
    SRV_HTTP_DATA_PUT,
    SRV_HTTP_DATA_DELETE,
    SRV_HTTP_KEYS,
    SRV_HTTP_HEALTH,
    SRV_HTTP_STATUS,
    SRV_HTTP_TOPOLOGY,
    SRV_HTTP_METRICS,
    SRV_HTTP_NOT_FOUND,     /* unknown path */
    SRV_HTTP_BAD_METHOD,    /* known path, method it does not take (405) */
    SRV_HTTP_INVALID,       /* refused by evhttp before routing (malformed, too large) */
    SRV_HTTP_ROUTES
};

/* Label text of each route ("PUT /v1/data/{key}"). */
extern const char *const srv_http_route_names[SRV_HTTP_ROUTES];

/* One request being answered.  Plain data: a write waiting for its quorum keeps a heap copy. */
typedef struct srv_http_req {
    struct evhttp_request *req; /* owned by evhttp until the reply is sent */
    int method;                 /* EVHTTP_REQ_* */
    int route;                  /* enum srv_http_route */
    const char *path;           /* raw (percent-encoded) path, owned by req */
    const char *query;          /* raw query string, or NULL */
    srv_ipaddr client;          /* the client (X-Forwarded-For applied for trusted proxies) */
    uint64_t start_us;
    int ok_status;              /* writes: the status once a quorum holds it (201, 204, 404) */
    const char *error;          /* the error text of the reply, for the log line */
} srv_http_req;

/* http_api.c: the route of a method and raw path (cheap; no decoding). */
int srv_http_route_of(int method, const char *path);

/* http_api.c: answer r (every route replies exactly once, possibly later for writes). */
void srv_http_dispatch(srv_http_req *r);

/* http.c: the body of r's reply, to append to before srv_http_reply. */
struct evbuffer *srv_http_body(srv_http_req *r);

/*
 * http.c: send the reply of r with status `code` and the body appended to srv_http_body(r),
 * adding the security headers, Content-Type (when ctype is not NULL) and, for HEAD, the
 * Content-Length of the body, which is not sent.  Updates the route's statistics, logs a status
 * >= 400 at verbose level (route, status and r->error: never a key or a value), and moves the
 * connection's read-header deadline on to the next request.  r->req is NULL afterwards.
 */
void srv_http_reply(srv_http_req *r, int code, const char *ctype);

/* srv_http_reply with the JSON body {"error": msg} (any body appended so far is dropped). */
void srv_http_reply_error(srv_http_req *r, int code, const char *msg);

/* Add a response header to r before replying. */
void srv_http_add_header(srv_http_req *r, const char *name, const char *value);

/* A request header, or NULL (case-insensitive name; the first occurrence). */
const char *srv_http_header(const srv_http_req *r, const char *name);

#endif /* SERVER_HTTP_INTERNAL_H */
