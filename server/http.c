/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http.c: the HTTP front door: libevent's evhttp on `bind` x http-port, with the protections evhttp
 * lacks built around it, and the reply path every route uses.  The routes (REPRAM's v1 API) are
 * in http_api.c; both share the keyspace and write path of RESP (db.h), on the same event loop.
 *
 * What evhttp (libevent 2.1.12) gives us and what it does not:
 *   - body and header size limits (evhttp_set_max_body_size / _max_headers_size): used.  Over
 *     the body limit evhttp answers 413 itself, over the header limit 400, both with its own HTML
 *     page and without calling us (on_output adds our security headers to such pages);
 *   - a per-connection inactivity time-out (evhttp_set_timeout_tv): used as http-idle-timeout;
 *   - no deadline for the request head.  Its time-out is reset by every byte, so a client
 *     trickling one header byte a second holds a connection forever (slow loris).  Filled here:
 *     a timer per connection bounds the head of each request to http-read-header-timeout;
 *   - no connection cap, and no callback when a connection opens or closes (2.1 has no
 *     evhttp_set_newreqcb): filled here, see "Connections" below;
 *   - no count of the requests it refuses on its own: filled by watching the replies it writes.
 *
 * Connections.  evhttp_set_bevcb lets us create each connection's bufferevent.  We keep an extra
 * reference to it (bufferevent_incref), so it stays valid however evhttp ends the connection, and
 * attach two evbuffer callbacks: on input (feeds the header scanner) and on output (spots replies
 * evhttp wrote itself).  As soon as evhttp has set the connection up (the first input, or a timer
 * that fires at once), we "attach": evhttp keeps its evhttp_connection as the bufferevent's
 * callback argument, which bufferevent_getcb returns; we check it with
 * evhttp_connection_get_bufferevent and install a close callback (evhttp calls it when it frees
 * the connection, for whatever reason), which releases our state and the reference.  If evhttp
 * freed the connection before we attached (its callbacks are then NULL), the timer releases it.
 * Connections beyond http-max-connections are marked at creation and answered 503 (with a raw
 * reply: no request exists yet) as soon as they attach; the count includes them until they close.
 * With http-tls the bufferevent is an OpenSSL one (tls_bufferevent; tls.c's context), so all of
 * the above sees plaintext; raw replies then go through the session when it is established.
 *
 * The read-header deadline.  Each connection is in one of four states: HEADERS (reading a request
 * head: the timer is armed for its deadline), BODY, HANDLING (evhttp stops reading while a request
 * is answered), IDLE (between requests of a keep-alive connection: only the idle time-out
 * applies).  The deadline starts at accept for the first request and with the first byte of each
 * later one.  The end of the head is found by scanning the bytes as they arrive for the blank line,
 * with evhttp's line rule (LF or CRLF); after a reply, bytes already buffered (a pipelined request)
 * are scanned at once.  On expiry the client gets a best-effort 408 and the connection is freed.
 *
 * Invariants: a conn is in `conns` and counted from on_new_connection to release(); after
 * attaching it is in by_fd[fd] until release(); nothing touches a conn after release().
 * Event-loop thread only.  Start reading at on_new_connection, then on_request.
 */
#include "server/http.h"

#include <errno.h>
#include <sys/queue.h> /* before keyvalq_struct.h: TAILQ_FOREACH */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/encode.h"
#include "server/http_internal.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/ratelimit.h"
#include "server/server.h"

/* Headers on every reply (and in the raw 503/408 replies). */
#define SECURITY_HEADERS                                                                           \
    "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nCache-Control: no-store\r\n"     \
    "Content-Security-Policy: default-src 'none'\r\nReferrer-Policy: no-referrer\r\n"
static const char *const security_headers[][2] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Cache-Control", "no-store"},
    {"Content-Security-Policy", "default-src 'none'"},
    {"Referrer-Policy", "no-referrer"},
};

#define MAX_BOUND 16      /* listening addresses (config.c's LIST_MAX) */
#define MAX_FORWARDED 16  /* X-Forwarded-For headers looked at per request */
#define DRAIN_BYTES 65536 /* unread input dropped before a raw reply, so close() sends no RST */

enum conn_state { CONN_HEADERS, CONN_BODY, CONN_HANDLING, CONN_IDLE };

#define CONN_ATTACHED 0x1u /* evcon known, close callback installed */
#define CONN_REJECT 0x2u   /* over http-max-connections: to be answered 503 and closed */
#define CONN_REPLYING 0x4u /* inside evhttp_send_reply: the output is ours */
#define CONN_FOREIGN 0x8u  /* evhttp answered on its own (already counted) */

typedef struct http_conn {
    struct bufferevent *bev;         /* created by us, with one extra reference */
    struct evhttp_connection *evcon; /* NULL until attached */
    struct event *timer;             /* attach at once, then the read-header deadline */
    struct evbuffer_cb_entry *in_cb, *out_cb;
    int fd;                          /* -1 until attached */
    unsigned flags;
    enum conn_state state;
    uint64_t deadline_ms;            /* end of the head being read (CONN_HEADERS) */
    size_t line_len;                 /* header scanner: bytes of the current line */
    unsigned char last;              /* and its last byte */
    int seen_line;                   /* a non-empty line of this head was seen */
    srv_ipaddr peer;
    srv_list_node node;              /* in conns */
} http_conn;

static struct evhttp *http;
static struct evhttp_bound_socket *bound[MAX_BOUND];
static int nbound;
static srv_list_node conns;
static int conn_count;
static http_conn **by_fd;
static int by_fd_cap;
static srv_cidr *trusted;
static size_t ntrusted;
static srv_ratelimit *limiter;

/* ---- statistics per route and status */

static const int stat_codes[] = {200, 201, 202, 204, 400, 401, 404, 405, 408,
                                 413, 417, 429, 500, 501, 503, 505, 507};
#define NCODES (sizeof stat_codes / sizeof stat_codes[0])

static struct route_stats {
    uint64_t by_code[NCODES + 1]; /* the last one: any other status */
    uint64_t latency[SRV_LATENCY_BUCKETS];
    uint64_t usec;
} stats[SRV_HTTP_ROUTES];

static size_t code_index(int code)
{
    for (size_t i = 0; i < NCODES; i++)
        if (stat_codes[i] == code) return i;
    return NCODES;
}

/* For log lines of requests no route took (the path is not logged: it holds the key). */
static const char *method_name(int method)
{
    switch (method) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "?";
    }
}

static const char *reason(int code)
{
    switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    case 507: return "Insufficient Storage";
    default: return code < 500 ? "Client Error" : "Server Error";
    }
}

void srv_http_metrics_requests(struct evbuffer *out)
{
    char code[8];
    for (int r = 0; r < SRV_HTTP_ROUTES; r++) {
        for (size_t i = 0; i <= NCODES; i++) {
            if (stats[r].by_code[i] == 0) continue;
            if (i < NCODES) snprintf(code, sizeof code, "%d", stat_codes[i]);
            else snprintf(code, sizeof code, "other");
            srv_metrics_request_sample(out, "http", srv_http_route_names[r], code,
                                       stats[r].by_code[i]);
        }
    }
}

void srv_http_metrics_latency(struct evbuffer *out)
{
    for (int r = 0; r < SRV_HTTP_ROUTES; r++) {
        uint64_t n = 0;
        for (int b = 0; b < SRV_LATENCY_BUCKETS; b++) n += stats[r].latency[b];
        if (n > 0)
            srv_metrics_latency_series(out, "http", srv_http_route_names[r], stats[r].latency,
                                       stats[r].usec);
    }
}

int srv_http_connection_count(void) { return conn_count; }

/* ---- connections */

static uint64_t header_timeout_ms(void)
{
    return (uint64_t)srv.cfg.http_read_header_timeout_s * 1000;
}

static void arm(http_conn *c, uint64_t in_ms)
{
    struct timeval tv = {(time_t)(in_ms / 1000), (suseconds_t)(in_ms % 1000 * 1000)};
    event_add(c->timer, &tv);
}

static void release(http_conn *c)
{
    if (c->fd >= 0 && c->fd < by_fd_cap && by_fd[c->fd] == c) by_fd[c->fd] = NULL;
    event_free(c->timer);
    evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
    evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->out_cb);
    srv_list_remove(&c->node);
    conn_count--;
    bufferevent_decref(c->bev);
    free(c);
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    evhttp_connection_set_closecb(evcon, NULL, NULL);
    release(arg);
}

static void index_fd(http_conn *c)
{
    if (c->fd < 0) return;
    if (c->fd >= by_fd_cap) {
        int cap = by_fd_cap ? by_fd_cap : 256;
        while (cap <= c->fd) cap *= 2;
        http_conn **p = realloc(by_fd, sizeof *p * (size_t)cap);
        if (!p) abort();
        memset(p + by_fd_cap, 0, sizeof *p * (size_t)(cap - by_fd_cap));
        by_fd = p;
        by_fd_cap = cap;
    }
    by_fd[c->fd] = c;
}

/* Learn evhttp's connection object (see the file comment).  0, or -1 when evhttp had already
 * freed the connection: then c has been released. */
static int attach(http_conn *c)
{
    bufferevent_data_cb readcb = NULL;
    void *arg = NULL;

    if (c->flags & CONN_ATTACHED) return 0;
    bufferevent_getcb(c->bev, &readcb, NULL, NULL, &arg);
    if (readcb == NULL) {
        release(c);
        return -1;
    }
    c->evcon = arg;
    if (evhttp_connection_get_bufferevent(c->evcon) != c->bev) {
        /* Not libevent 2.1's evhttp: the assumption this file rests on is gone. */
        srv_log(SRV_LOG_WARNING, "http: libevent's evhttp does not keep its connection as the "
                "bufferevent argument; this libevent is not supported");
        abort();
    }
    c->fd = bufferevent_getfd(c->bev);
    index_fd(c);
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    srv_ipaddr_from_sockaddr(evhttp_connection_get_addr(c->evcon), &c->peer);
    c->flags |= CONN_ATTACHED;
    return 0;
}

static http_conn *conn_of(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon) return NULL;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    int fd = bufferevent_getfd(bev);
    if (fd < 0 || fd >= by_fd_cap || !by_fd[fd] || by_fd[fd]->bev != bev) return NULL;
    return by_fd[fd];
}

/* Write a complete reply straight to the socket (no request object exists), best effort. */
static void raw_reply(http_conn *c, const char *text)
{
    char sink[4096];
    size_t dropped = 0;
    ssize_t n;
    SSL *ssl = srv.cfg.http_tls ? bufferevent_openssl_get_ssl(c->bev) : NULL;
    if (ssl) {
        /* HTTPS: through the session, once it is established (nothing else is being written
         * on a connection that is refused or timed out), else nothing can be said. */
        if (SSL_is_init_finished(ssl)) {
            ERR_clear_error();
            if (SSL_write(ssl, text, (int)strlen(text)) <= 0) ERR_clear_error();
        }
        return;
    }
    while (dropped < DRAIN_BYTES && (n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT)) > 0)
        dropped += (size_t)n;
    n = send(c->fd, text, strlen(text), MSG_DONTWAIT | MSG_NOSIGNAL);
    (void)n;
}

static void log_conn(const http_conn *c, const char *what)
{
    char ip[SRV_IPADDR_TEXT];
    srv_log(SRV_LOG_VERBOSE, "http %s: %s", srv_ipaddr_format(&c->peer, ip, sizeof ip), what);
}

static void reject_connection(http_conn *c)
{
    static const char text[] =
        "HTTP/1.1 503 Service Unavailable\r\n" SECURITY_HEADERS
        "Content-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\n"
        "Content-Length: 32\r\n\r\n{\"error\":\"too many connections\"}";
    _Static_assert(sizeof "{\"error\":\"too many connections\"}" - 1 == 32, "Content-Length");
    log_conn(c, "refused: http-max-connections reached (503)");
    raw_reply(c, text);
    evhttp_connection_free(c->evcon); /* calls on_close: c is released */
}

static void header_timeout(http_conn *c)
{
    static const char text[] = "HTTP/1.1 408 Request Timeout\r\n" SECURITY_HEADERS
                               "Connection: close\r\nContent-Length: 0\r\n\r\n";
    srv.stats.http_header_timeouts++;
    log_conn(c, "closed: request headers not complete within http-read-header-timeout (408)");
    raw_reply(c, text);
    evhttp_connection_free(c->evcon);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    http_conn *c = arg;
    (void)fd;
    (void)what;
    srv_update_time();
    if (attach(c) < 0) return;
    if (c->flags & CONN_REJECT) {
        reject_connection(c);
        return;
    }
    if (c->state != CONN_HEADERS) return;
    uint64_t now = srv_now_ms();
    if (now < c->deadline_ms) arm(c, c->deadline_ms - now);
    else header_timeout(c);
}

/* A request head starts now: arm its deadline and reset the scanner. */
static void start_head(http_conn *c)
{
    srv_update_time();
    c->state = CONN_HEADERS;
    c->line_len = 0;
    c->last = 0;
    c->seen_line = 0;
    c->deadline_ms = srv_now_ms() + header_timeout_ms();
    arm(c, header_timeout_ms());
}

/* Scan head bytes; 1 at the blank line that ends the head (evhttp's rule: LF, optional CR). */
static int scan_head(http_conn *c, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\n') {
            c->line_len++;
            c->last = p[i];
            continue;
        }
        size_t content = c->line_len - (c->line_len > 0 && c->last == '\r');
        if (content == 0 && c->seen_line) return 1;
        if (content > 0) c->seen_line = 1;
        c->line_len = 0;
        c->last = 0;
    }
    return 0;
}

/* Scan buf from `offset` to its end while in CONN_HEADERS; at the end of the head, go to BODY. */
static void scan_from(http_conn *c, struct evbuffer *buf, size_t offset)
{
    struct evbuffer_ptr pos;
    size_t len = evbuffer_get_length(buf);

    if (offset >= len || evbuffer_ptr_set(buf, &pos, offset, EVBUFFER_PTR_SET) < 0) return;
    size_t left = len - offset;
    while (left > 0 && c->state == CONN_HEADERS) {
        struct evbuffer_iovec v[8];
        int n = evbuffer_peek(buf, (ev_ssize_t)left, &pos, v, 8);
        size_t done = 0;
        for (int i = 0; i < n && i < 8 && done < left; i++) {
            size_t take = v[i].iov_len < left - done ? v[i].iov_len : left - done;
            if (scan_head(c, v[i].iov_base, take)) {
                c->state = CONN_BODY;
                event_del(c->timer);
                return;
            }
            done += take;
        }
        if (done == 0) return;
        left -= done;
        if (evbuffer_ptr_set(buf, &pos, done, EVBUFFER_PTR_ADD) < 0) return;
    }
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    http_conn *c = arg;
    size_t len = evbuffer_get_length(buf);

    if (info->n_added == 0) return;
    if (attach(c) < 0) return; /* cannot fail here: the connection is being read */
    if (c->flags & CONN_REJECT) {
        event_active(c->timer, EV_TIMEOUT, 0);
        return;
    }
    if (c->state == CONN_IDLE) start_head(c);
    size_t added = info->n_added < len ? info->n_added : len;
    if (c->state == CONN_HEADERS) scan_from(c, buf, len - added);
}

/* Copy up to n bytes at pos.  Not evbuffer_copyout_from: that refuses a buffer whose start is
 * frozen, which a socket bufferevent's output is outside its own write callback (so a reply
 * evhttp writes from an event other than that callback went unseen). */
static size_t peek_bytes(struct evbuffer *buf, struct evbuffer_ptr *pos, char *out, size_t n)
{
    struct evbuffer_iovec v[4];
    int k = evbuffer_peek(buf, (ev_ssize_t)n, pos, v, 4);
    size_t got = 0;
    for (int i = 0; i < k && i < 4 && got < n; i++) {
        size_t take = v[i].iov_len < n - got ? v[i].iov_len : n - got;
        memcpy(out + got, v[i].iov_base, take);
        got += take;
    }
    return got;
}

/* A reply evhttp wrote without us (malformed request, head or body over the limit, 501...):
 * count it like ours, and give it our security headers.  evhttp writes such a reply's status line
 * with one evbuffer_add_printf, then its headers one by one, so this callback sees the status line
 * alone ("HTTP/1.x NNN reason\r\n") and appending here puts the headers right after it, before
 * evhttp's own.  A status line that arrives in any other shape is still counted. */
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    http_conn *c = arg;
    char head[128];
    struct evbuffer_ptr pos;
    size_t len = evbuffer_get_length(buf);

    if (info->n_added < 13 || (c->flags & (CONN_REPLYING | CONN_FOREIGN))) return;
    size_t want = info->n_added < sizeof head ? info->n_added : sizeof head;
    if (evbuffer_ptr_set(buf, &pos, len - info->n_added, EVBUFFER_PTR_SET) < 0) return;
    if (peek_bytes(buf, &pos, head, want) != want) return;
    if (memcmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ') return;
    int code = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    if (code < 200) return; /* 100 Continue */
    c->flags |= CONN_FOREIGN; /* before the append below, which calls back here */
    char *eol = memchr(head, '\n', want);
    if (want == info->n_added && eol == head + want - 1 && head[want - 2] == '\r')
        evbuffer_add(buf, SECURITY_HEADERS, sizeof SECURITY_HEADERS - 1);
    stats[SRV_HTTP_INVALID].by_code[code_index(code)]++;
    if (code == 413) srv.stats.http_oversize_rejections++;
    if (code == 400) srv.stats.http_protocol_errors++;
    if (code >= 400 && code != 404) srv.stats.http_rejected_requests++;
    char what[96];
    snprintf(what, sizeof what, "request refused by the HTTP parser (%d)", code);
    log_conn(c, what);
}

static long long body_limit(void)
{
    return srv.cfg.http_max_body > 0 ? srv.cfg.http_max_body : srv.cfg.max_value_size;
}

/* Limits evhttp copies into each new connection: set them now so CONFIG SET applies. */
static void apply_limits(void)
{
    struct timeval idle = {(time_t)srv.cfg.http_idle_timeout_s, 0};
    evhttp_set_max_body_size(http, (ev_ssize_t)body_limit());
    evhttp_set_max_headers_size(http, (ev_ssize_t)srv.cfg.http_max_header_size);
    evhttp_set_timeout_tv(http, &idle);
}

/* http-tls: an OpenSSL bufferevent in server mode with the context of tls.c; evhttp hands it its
 * socket later (as libevent's https-server sample does).  Everything above it (the header
 * scanner, the limits, evhttp) sees plaintext.  A client that closes without close_notify ends
 * the connection like a plain EOF. */
static struct bufferevent *tls_bufferevent(struct event_base *base)
{
    SSL *ssl = SSL_new(srv.tls_ctx);
    if (!ssl) abort();
    struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl,
                                                             BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
    if (!bev) abort();
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
    http_conn *c = calloc(1, sizeof *c);
    (void)arg;
    if (!c) abort();
    c->bev = srv.cfg.http_tls ? tls_bufferevent(base)
                              : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->timer = evtimer_new(base, on_timer, c);
    if (!c->bev || !c->timer) abort();
    bufferevent_incref(c->bev);
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(c->bev), on_input, c);
    c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->bev), on_output, c);
    if (!c->in_cb || !c->out_cb) abort();
    c->fd = -1;
    srv_update_time();
    c->state = CONN_HEADERS;
    c->deadline_ms = srv_now_ms() + header_timeout_ms();
    srv_list_push_back(&conns, &c->node);
    conn_count++;
    srv.stats.http_connections_received++;
    if (conn_count > srv.cfg.http_max_connections || srv.shutdown_asap) {
        c->flags |= CONN_REJECT;
        srv.stats.http_rejected_connections++;
    }
    apply_limits();
    event_active(c->timer, EV_TIMEOUT, 0); /* attach as soon as evhttp is done setting up */
    return c->bev;
}

/* After a reply: the next request's head may already be buffered (pipelining). */
static void next_request(http_conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->state = CONN_IDLE;
    if (evbuffer_get_length(in) > 0) {
        start_head(c);
        scan_from(c, in, 0);
    }
}

/* ---- replies */

struct evbuffer *srv_http_body(srv_http_req *r) { return evhttp_request_get_output_buffer(r->req); }

void srv_http_add_header(srv_http_req *r, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

const char *srv_http_header(const srv_http_req *r, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

void srv_http_reply(srv_http_req *r, int code, const char *ctype)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);
    struct evbuffer *body = evhttp_request_get_output_buffer(r->req);
    size_t blen = evbuffer_get_length(body);
    struct route_stats *st = &stats[r->route];
    uint64_t us = srv_ustime() - r->start_us;

    for (size_t i = 0; i < sizeof security_headers / sizeof security_headers[0]; i++)
        evhttp_add_header(h, security_headers[i][0], security_headers[i][1]);
    if (ctype && code != 204) evhttp_add_header(h, "Content-Type", ctype);
    if (r->method == EVHTTP_REQ_HEAD && code != 204) {
        /* HEAD: the headers of the GET reply, without its body (evhttp would send it). */
        if (blen > 0 && !evhttp_find_header(h, "Content-Length")) {
            char n[24];
            snprintf(n, sizeof n, "%zu", blen);
            evhttp_add_header(h, "Content-Length", n);
        }
        evbuffer_drain(body, blen);
    }
    st->by_code[code_index(code)]++;
    st->latency[srv_latency_bucket(us)]++;
    st->usec += us;
    if (code >= 400) {
        char ip[SRV_IPADDR_TEXT];
        if (code != 404) srv.stats.http_rejected_requests++;
        int generic = r->route == SRV_HTTP_NOT_FOUND || r->route == SRV_HTTP_BAD_METHOD;
        srv_log(SRV_LOG_VERBOSE, "http %s: %s%s%s -> %d%s%s",
                srv_ipaddr_format(&r->client, ip, sizeof ip), generic ? method_name(r->method) : "",
                generic ? " " : "", srv_http_route_names[r->route], code, r->error ? ": " : "",
                r->error ? r->error : "");
    }
    http_conn *c = conn_of(r->req);
    if (c) c->flags |= CONN_REPLYING;
    evhttp_send_reply(r->req, code, reason(code), NULL);
    r->req = NULL;
    if (c) {
        c->flags &= ~CONN_REPLYING;
        next_request(c);
    }
}

void srv_http_reply_error(srv_http_req *r, int code, const char *msg)
{
    struct evbuffer *b = srv_http_body(r);
    evbuffer_drain(b, evbuffer_get_length(b));
    evbuffer_add(b, "{\"error\":", 9);
    srv_json_string(b, msg, strlen(msg));
    evbuffer_add(b, "}\n", 2);
    r->error = msg;
    srv_http_reply(r, code, "application/json");
}

/* ---- requests */

/* The client address: the peer, or what trusted proxies say it is. */
static void client_address(srv_http_req *r, const http_conn *c)
{
    srv_ipaddr peer;
    const char *xff[MAX_FORWARDED];
    size_t n = 0;

    if (c) peer = c->peer;
    else
        srv_ipaddr_from_sockaddr(evhttp_connection_get_addr(evhttp_request_get_connection(r->req)),
                                 &peer);
    r->client = peer;
    if (ntrusted == 0 || !srv_cidr_match(trusted, ntrusted, &peer)) return;
    struct evkeyval *kv;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(r->req), next) {
        if (n < MAX_FORWARDED && strcasecmp(kv->key, "X-Forwarded-For") == 0) xff[n++] = kv->value;
    }
    srv_ipaddr_from_forwarded(&peer, xff, n, trusted, ntrusted, &r->client);
}

/* http-rate-limit: 1 (and the 429 sent) when the client is over its limit. */
static int rate_limited(srv_http_req *r)
{
    uint64_t retry_ms = 0;
    char secs[24];

    if (srv.cfg.http_rate_limit <= 0) return 0;
    if (!limiter) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = (uint64_t)srv_ustime();
        limiter = srv_ratelimit_create(0, seed);
        if (!limiter) abort();
    }
    if (srv_ratelimit_take(limiter, &r->client, srv_now_ms(), srv.cfg.http_rate_limit,
                           srv.cfg.http_rate_burst, &retry_ms))
        return 0;
    srv.stats.http_rate_limited++;
    snprintf(secs, sizeof secs, "%llu", (unsigned long long)((retry_ms + 999) / 1000));
    srv_http_add_header(r, "Retry-After", secs);
    srv_http_reply_error(r, 429, "rate limit exceeded: too many requests from this address");
    return 1;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    srv_http_req r;
    (void)arg;
    srv_update_time();
    memset(&r, 0, sizeof r);
    r.req = req;
    r.start_us = srv_ustime();
    r.method = (int)evhttp_request_get_command(req);
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    r.path = u ? evhttp_uri_get_path(u) : NULL;
    if (!r.path || !r.path[0]) r.path = "/";
    r.query = u ? evhttp_uri_get_query(u) : NULL;
    r.route = srv_http_route_of(r.method, r.path);
    http_conn *c = conn_of(req);
    if (c) {
        c->state = CONN_HANDLING;
        event_del(c->timer);
    }
    client_address(&r, c);
    if ((c && (c->flags & CONN_REJECT)) || srv.shutdown_asap) {
        if (c) c->flags &= ~CONN_REJECT; /* answered here: the timer has nothing left to do */
        srv_http_add_header(&r, "Connection", "close");
        srv_http_add_header(&r, "Retry-After", "1");
        srv_http_reply_error(&r, 503, srv.shutdown_asap ? "the node is shutting down"
                                                        : "too many connections");
        return;
    }
    if (rate_limited(&r)) return;
    srv_http_dispatch(&r);
}

/* ---- start and stop */

static int listen_one(const char *addr)
{
    char portstr[16];
    struct addrinfo hints = {0}, *res = NULL;
    const char *host = addr;

    snprintf(portstr, sizeof portstr, "%d", srv.cfg.http_port);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    if (strcmp(addr, "*") == 0) host = "0.0.0.0";
    else if (strcmp(addr, "::*") == 0 || strcmp(addr, "-::*") == 0) host = "::";
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        srv_log(SRV_LOG_WARNING, "cannot resolve bind address '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    if (res->ai_family == AF_INET6) flags |= LEV_OPT_BIND_IPV6ONLY;
    struct evconnlistener *l = evconnlistener_new_bind(srv.base, NULL, NULL, flags,
                                                       srv.cfg.tcp_backlog, res->ai_addr,
                                                       (int)res->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (!l) {
        srv_log(SRV_LOG_WARNING, "could not listen for HTTP on %s:%d: %s", addr, srv.cfg.http_port,
                strerror(err));
        return -1;
    }
    bound[nbound] = evhttp_bind_listener(http, l);
    if (!bound[nbound]) abort();
    nbound++;
    srv_log(SRV_LOG_NOTICE, "listening for HTTP%s on %s:%d", srv.cfg.http_tls ? "S" : "", addr,
            srv.cfg.http_port);
    return 0;
}

static int parse_trusted(void)
{
    int n = srv.cfg.http_trusted_proxy_count;
    if (n == 0) return 0;
    trusted = calloc((size_t)n, sizeof *trusted);
    if (!trusted) abort();
    for (int i = 0; i < n; i++) {
        const char *s = srv.cfg.http_trusted_proxies[i];
        if (srv_cidr_parse(s, strlen(s), &trusted[i]) != 0) { /* config_validate checked it */
            srv_log(SRV_LOG_WARNING, "http-trusted-proxies: '%s' is not an address or network", s);
            return -1;
        }
    }
    ntrusted = (size_t)n;
    return 0;
}

int srv_http_start(void)
{
    srv_list_init(&conns);
    if (srv.cfg.http_port == 0) return 0;
    if (parse_trusted() < 0) return -1;
    http = evhttp_new(srv.base);
    if (!http) {
        srv_log(SRV_LOG_WARNING, "could not create the HTTP server");
        return -1;
    }
    evhttp_set_gencb(http, on_request, NULL);
    evhttp_set_bevcb(http, on_new_connection, NULL);
    /* Everything but TRACE and CONNECT reaches the router, which answers 405 with Allow. */
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_POST |
                                         EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(http, NULL);
    apply_limits();
    for (int i = 0; i < srv.cfg.bind_count && i < MAX_BOUND; i++)
        if (listen_one(srv.cfg.bind[i]) < 0) return -1;
    return 0;
}

void srv_http_close_listeners(void)
{
    for (int i = 0; i < nbound; i++) evhttp_del_accept_socket(http, bound[i]);
    nbound = 0;
}

void srv_http_stop(void)
{
    if (http) evhttp_free(http); /* frees every connection: on_close releases attached ones */
    http = NULL;
    nbound = 0;
    while (conns.next && !srv_list_empty(&conns)) /* never attached: evhttp has let them go */
        release(srv_container_of(conns.next, http_conn, node));
    free(by_fd);
    by_fd = NULL;
    by_fd_cap = 0;
    free(trusted);
    trusted = NULL;
    ntrusted = 0;
    srv_ratelimit_free(limiter);
    limiter = NULL;
}
