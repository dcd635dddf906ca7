/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bus.c: the cluster bus transport over libevent: listeners, dialling, TLS, frame extraction,
 * timers.  Implements cl_transport_ops for core.c and repl.c.
 *
 * Why bufferevents here (the client side of the server uses raw events): every bus link is
 * TLS in production, and bufferevent_openssl handles the non-blocking handshake, renegotiation-
 * free reads and writes and their interplay with the socket; links are few (one per peer and
 * direction), so the per-event cost that matters for thousands of clients does not matter here.
 * Frames queued during one loop turn leave in one write, which batches replication per turn.
 *
 * Frame extraction: the 20-byte header is copied out first and validated (length against
 * max-frame-bytes) before the payload is buffered further; while a large frame is incomplete the
 * read low-watermark is set to its length, so the callback runs once when it is all there instead
 * of re-examining a growing buffer.
 *
 * Names in addresses are resolved asynchronously (evdns) on every dial, so a restarted pod with
 * a new IP under the same headless-service name is found again.  TCP_NODELAY on every link:
 * acknowledgements are latency-critical.
 *
 * Lifetime: a link is freed only outside its own callbacks (in_callback / closing), and the core
 * is told (cl_core_link_down) exactly once, when the link is freed.  Its bufferevent may outlive
 * it briefly: the last few bytes queued before a close (a HELLO_ERR) are flushed first (linger).
 * Event-loop thread only.  Start reading at bus_dial and on_read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <openssl/err.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster_bus.h"
#include "cluster/cluster_tls.h"

#define TICK_MS 10

/* A chunk held back by DEBUG BUS-DELAY. */
typedef struct delayed {
    struct delayed *next;
    uint64_t due_ms;
    size_t len;
    unsigned char data[];
} delayed;

typedef struct bus_link {
    cl_link *l;
    delayed *held, *held_tail; /* frames waiting for their injected delay, oldest first */
    struct bufferevent *bev;
    SSL *ssl;
    struct evdns_getaddrinfo_request *dns;
    char host[CL_STR_MAX + 1];
    char port[16];
    int in_callback;
    int closing;
    int dialing; /* inside bus_dial: a failure is reported by its return value */
    int handshake_done;
    struct bus_link *prev, *next; /* every live link, for shutdown */
} bus_link;

/* A closed link whose last frames (a HELLO_ERR, say) are still being written. */
typedef struct lingering {
    struct bus *b;
    struct bufferevent *bev;
    struct lingering *prev, *next;
} lingering;

struct bus {
    cluster *cl;
    struct event_base *base;
    struct evconnlistener **listeners;
    int nlisteners;
    SSL_CTX *ctx; /* NULL: plain TCP (cluster-insecure) */
    int mtls;     /* ctx authenticates with certificates (else with the shared key) */
    struct evdns_base *dns;
    struct event *tick_ev;
    struct event *wake_ev;
    bus_link *links;
    lingering *lingers;
    uint64_t delay_ms; /* DEBUG BUS-DELAY */
};

static bus *bus_of(const cluster *cl) { return (bus *)cl->tr_state; }

static const cl_transport_ops bus_ops;

/* ---- link list and freeing */

static void track(bus *b, bus_link *bl)
{
    bl->next = b->links;
    if (b->links) b->links->prev = bl;
    b->links = bl;
}

static void untrack(bus *b, bus_link *bl)
{
    if (bl->prev) bl->prev->next = bl->next;
    else b->links = bl->next;
    if (bl->next) bl->next->prev = bl->prev;
}

static void linger_end(lingering *lg)
{
    if (lg->prev) lg->prev->next = lg->next;
    else lg->b->lingers = lg->next;
    if (lg->next) lg->next->prev = lg->prev;
    bufferevent_free(lg->bev);
    free(lg);
}

static void linger_written(struct bufferevent *bev, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) linger_end(arg);
}

static void linger_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    (void)what;
    linger_end(arg);
}

/* Flush then close (le-proxy's rule): the frames a link queued just before it was closed are
 * often the reason for the close (HELLO_ERR "self", "cluster is full" ...); freeing the
 * bufferevent at once would drop them.  Returns 1 when bev now belongs to the linger list. */
#define LINGER_MS 1000          /* longest wait for the last frames of a closed link */
#define LINGER_MAX_BYTES 4096u /* a refusal is a few dozen bytes; a backlog is dropped */
static int start_linger(bus *b, struct bufferevent *bev)
{
    size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
    if (pending == 0 || pending > LINGER_MAX_BYTES) return 0;
    lingering *lg = calloc(1, sizeof *lg);
    if (!lg) return 0;
    lg->b = b;
    lg->bev = bev;
    lg->next = b->lingers;
    if (b->lingers) b->lingers->prev = lg;
    b->lingers = lg;
    struct timeval tv = {LINGER_MS / 1000, (LINGER_MS % 1000) * 1000};
    bufferevent_disable(bev, EV_READ);
    bufferevent_setcb(bev, NULL, linger_written, linger_event, lg);
    bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
    bufferevent_set_timeouts(bev, NULL, &tv);
    bufferevent_enable(bev, EV_WRITE);
    return 1;
}

static void free_held(bus_link *bl)
{
    while (bl->held) {
        delayed *d = bl->held;
        bl->held = d->next;
        free(d);
    }
    bl->held_tail = NULL;
}

static void free_link(bus_link *bl, int linger)
{
    bus *b = bus_of(bl->l->cl);
    untrack(b, bl);
    free_held(bl);
    if (bl->dns) evdns_getaddrinfo_cancel(bl->dns);
    if (bl->bev) { /* frees the SSL and closes the socket */
        if (!(linger && bl->handshake_done && start_linger(b, bl->bev))) bufferevent_free(bl->bev);
    } else if (bl->ssl) {
        SSL_free(bl->ssl);
    }
    cl_link *l = bl->l;
    free(bl);
    cl_core_link_down(l);
}

static void bus_close(cl_link *l)
{
    bus_link *bl = l->tr;
    if (!bl || bl->closing) return;
    bl->closing = 1;
    l->state = CL_LINK_CLOSED;
    if (!bl->in_callback) free_link(bl, 1);
}

/* ---- reading */

static void set_nodelay(struct bufferevent *bev)
{
    int one = 1;
    evutil_socket_t fd = bufferevent_getfd(bev);
    if (fd >= 0) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* Deliver every complete frame in the input buffer.  Returns -1 when the link must close. */
static int deliver_frames(bus_link *bl)
{
    cluster *cl = bl->l->cl;
    struct evbuffer *in = bufferevent_get_input(bl->bev);
    for (;;) {
        uint8_t hdr[CL_HEADER_LEN];
        size_t avail = evbuffer_get_length(in);
        if (avail < CL_HEADER_LEN) break;
        evbuffer_copyout(in, hdr, CL_HEADER_LEN);
        cl_frame_header h;
        int rc = cl_frame_parse_header(hdr, CL_HEADER_LEN, cl->cfg.max_frame_bytes, &h);
        if (rc != CL_FRAME_OK) {
            cl->stats.frames_rejected++;
            cl_log(cl, CLUSTER_LOG_WARNING, "bus link %s: %s; closing it", bl->host,
                   cl_frame_strerror(rc));
            return -1;
        }
        if (avail < h.len) {
            bufferevent_setwatermark(bl->bev, EV_READ, h.len, 0);
            return 0;
        }
        const uint8_t *frame = evbuffer_pullup(in, h.len);
        if (!frame) return -1;
        rc = cl_core_frame(bl->l, &h, frame + CL_HEADER_LEN, h.len - CL_HEADER_LEN);
        evbuffer_drain(in, h.len);
        if (rc < 0 || bl->closing) return -1;
    }
    bufferevent_setwatermark(bl->bev, EV_READ, 0, 0);
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    bus_link *bl = arg;
    bl->in_callback = 1;
    int rc = deliver_frames(bl);
    if (rc == 0 && !bl->closing) cl_core_batch_end(bl->l);
    bl->in_callback = 0;
    if (rc < 0 || bl->closing) {
        bl->closing = 0;
        bus_close(bl->l);
    }
}

static void link_established(bus_link *bl)
{
    bl->handshake_done = 1;
    set_nodelay(bl->bev);
    bufferevent_enable(bl->bev, EV_READ | EV_WRITE);
    cl_core_link_up(bl->l);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    bus_link *bl = arg;
    cluster *cl = bl->l->cl;
    if (what & BEV_EVENT_CONNECTED) {
        bl->in_callback = 1;
        link_established(bl);
        bl->in_callback = 0;
        if (bl->closing) {
            bl->closing = 0;
            bus_close(bl->l);
        }
        return;
    }
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF | BEV_EVENT_TIMEOUT)) {
        if (!bl->handshake_done && bl->ssl && (what & BEV_EVENT_ERROR)) {
            char why[256];
            unsigned long e = bufferevent_get_openssl_error(bl->bev); /* libevent keeps it here */
            if (e) ERR_error_string_n(e, why, sizeof why);
            else cl_tls_error(why, sizeof why);
            cl->stats.auth_failures++;
            cl_log(cl, CLUSTER_LOG_WARNING, "bus TLS handshake with %s failed: %s", bl->host, why);
        } else if (!bl->handshake_done && (what & BEV_EVENT_ERROR)) {
            cl_log(cl, CLUSTER_LOG_VERBOSE, "bus connection to %s failed: %s", bl->host,
                   evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        }
        bus_close(bl->l);
    }
}

/* ---- creating links */

static bus_link *new_bus_link(bus *b, int outbound)
{
    bus_link *bl = calloc(1, sizeof *bl);
    if (!bl) return NULL;
    bl->l = cl_link_new(b->cl, outbound);
    if (!bl->l) {
        free(bl);
        return NULL;
    }
    bl->l->tr = bl;
    track(b, bl);
    return bl;
}

static struct bufferevent *make_bev(bus *b, bus_link *bl, evutil_socket_t fd, int accepting)
{
    int opts = BEV_OPT_CLOSE_ON_FREE;
    if (!b->ctx) return bufferevent_socket_new(b->base, fd, opts);
    bl->ssl = SSL_new(b->ctx);
    if (!bl->ssl) return NULL;
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        b->base, fd, bl->ssl, accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
        opts);
    if (bev) bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
                      int slen, void *arg)
{
    (void)lst;
    (void)slen;
    bus *b = arg;
    bus_link *bl = new_bus_link(b, 0);
    if (!bl) {
        close(fd);
        return;
    }
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr, bl->l->remote_ip,
                  sizeof bl->l->remote_ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr, bl->l->remote_ip,
                  sizeof bl->l->remote_ip);
    snprintf(bl->host, sizeof bl->host, "%s", bl->l->remote_ip);
    bl->bev = make_bev(b, bl, fd, 1);
    if (!bl->bev) {
        close(fd);
        free_link(bl, 0);
        return;
    }
    bufferevent_setcb(bl->bev, on_read, NULL, on_event, bl);
    if (b->ctx) {
        bufferevent_enable(bl->bev, EV_READ | EV_WRITE); /* the TLS handshake runs first */
    } else {
        link_established(bl);
    }
}

static int connect_to(bus_link *bl, const struct sockaddr *sa, socklen_t len)
{
    bus *b = bus_of(bl->l->cl);
    bl->bev = make_bev(b, bl, -1, 0);
    if (!bl->bev) return -1;
    bufferevent_setcb(bl->bev, on_read, NULL, on_event, bl);
    if (bl->ssl) SSL_set_tlsext_host_name(bl->ssl, bl->host);
    return bufferevent_socket_connect(bl->bev, (struct sockaddr *)sa, (int)len);
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    bus_link *bl = arg;
    bl->dns = NULL;
    if (result == EVUTIL_EAI_CANCEL) return; /* the link is being freed */
    int failed = result != 0 || !res || connect_to(bl, res->ai_addr, res->ai_addrlen) < 0;
    if (failed)
        cl_log(bl->l->cl, CLUSTER_LOG_VERBOSE, "cannot reach bus address %s:%s: %s", bl->host,
               bl->port, result ? evutil_gai_strerror(result) : "connect failed");
    if (res) evutil_freeaddrinfo(res);
    if (!failed) return;
    if (bl->dialing) bl->closing = 1; /* answered inside bus_dial: it reports the failure */
    else bus_close(bl->l);
}

/* Split "host:port" or "[v6]:port". */
static int split_addr(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || colon == addr || !colon[1]) return -1;
    const char *h = addr;
    size_t n = (size_t)(colon - addr);
    if (h[0] == '[' && n >= 2 && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n >= hlen || strlen(colon + 1) >= plen) return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, plen, "%s", colon + 1);
    return 0;
}

static cl_link *bus_dial(cluster *cl, const char *addr)
{
    bus *b = bus_of(cl);
    bus_link *bl = new_bus_link(b, 1);
    if (!bl) return NULL;
    if (split_addr(addr, bl->host, sizeof bl->host, bl->port, sizeof bl->port) < 0) {
        cl_log(cl, CLUSTER_LOG_WARNING, "bad bus address '%s' (expected host:port)", addr);
        untrack(b, bl);
        free(bl->l);
        free(bl);
        return NULL;
    }
    struct evutil_addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    /* evdns answers numeric hosts (and some failures) at once, calling on_resolved before it
     * returns; `dialing` tells on_resolved to leave a failure to us. */
    bl->dialing = 1;
    bl->dns = evdns_getaddrinfo(b->dns, bl->host, bl->port, &hints, on_resolved, bl);
    bl->dialing = 0;
    if (bl->closing) {
        /* Failed before the core knew of the link: free it here, report a failed dial. */
        untrack(b, bl);
        if (bl->bev) bufferevent_free(bl->bev);
        else if (bl->ssl) SSL_free(bl->ssl);
        free(bl->l);
        free(bl);
        return NULL;
    }
    return bl->l;
}

/* ---- sending */

static int bus_send(cl_link *l, const void *p, size_t n)
{
    bus_link *bl = l->tr;
    if (!bl || !bl->bev || bl->closing) return -1;
    bus *b = bus_of(l->cl);
    if (b->delay_ms == 0 && !bl->held) return bufferevent_write(bl->bev, p, n) == 0 ? 0 : -1;
    delayed *d = malloc(sizeof *d + n);
    if (!d) return -1;
    d->next = NULL;
    d->due_ms = cl_now(l->cl) + b->delay_ms;
    d->len = n;
    memcpy(d->data, p, n);
    if (bl->held_tail) bl->held_tail->next = d;
    else bl->held = d;
    bl->held_tail = d;
    return 0;
}

/* Write the held frames whose injected delay has passed (from the tick). */
static void release_held(bus *b, uint64_t now)
{
    for (bus_link *bl = b->links; bl; bl = bl->next) {
        while (bl->held && bl->held->due_ms <= now && bl->bev && !bl->closing) {
            delayed *d = bl->held;
            bufferevent_write(bl->bev, d->data, d->len);
            bl->held = d->next;
            if (!bl->held) bl->held_tail = NULL;
            free(d);
        }
    }
}

void cluster_debug_set_bus_delay(cluster *cl, uint64_t ms)
{
    if (cl->tr == &bus_ops) bus_of(cl)->delay_ms = ms;
}

static size_t bus_queued(const cl_link *l)
{
    const bus_link *bl = l->tr;
    return bl && bl->bev ? evbuffer_get_length(bufferevent_get_output(bl->bev)) : 0;
}

static int bus_name_ok(const cl_link *l, const char *name)
{
    const bus_link *bl = l->tr;
    if (!bl || !bl->ssl || !bus_of(l->cl)->mtls) return 1; /* plain or shared key: no names */
    return cl_tls_cert_covers(bl->ssl, name);
}

/* ---- timers */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cluster *cl = arg;
    uint64_t now = cl_now(cl);
    release_held(bus_of(cl), now);
    cl_core_tick(cl, now);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cluster *cl = arg;
    cl_repl_progress(cl, cl_now(cl));
}

static void bus_wake(cluster *cl) { event_active(bus_of(cl)->wake_ev, EV_TIMEOUT, 0); }

static const cl_transport_ops bus_ops = {
    .dial = bus_dial,
    .send = bus_send,
    .queued = bus_queued,
    .close = bus_close,
    .name_ok = bus_name_ok,
    .wake = bus_wake,
};

/* ---- setup */

bus *cl_bus_create(cluster *cl, struct event_base *base, char *err, size_t errlen)
{
    bus *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->cl = cl;
    b->base = base;
    const cluster_config *c = &cl->cfg;
    if (c->tls_cert_file) {
        b->ctx = cl_tls_ctx_certs(c->tls_cert_file, c->tls_key_file, c->tls_ca_file, err, errlen);
        b->mtls = 1;
    } else if (c->secret) {
        b->ctx = cl_tls_ctx_psk(c->secret, c->cluster_name, err, errlen);
    }
    if ((c->tls_cert_file || c->secret) && !b->ctx) {
        free(b);
        return NULL;
    }
    b->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!b->dns) b->dns = evdns_base_new(base, 0); /* no resolv.conf: numeric addresses only */
    b->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, cl);
    b->wake_ev = event_new(base, -1, 0, on_wake, cl);
    if (!b->dns || !b->tick_ev || !b->wake_ev) {
        snprintf(err, errlen, "out of memory");
        cl_bus_free(b);
        return NULL;
    }
    cl->tr = &bus_ops;
    cl->tr_state = b;
    return b;
}

static int listen_on(bus *b, const char *addr, int port, char *err, size_t errlen)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    const char *host = strcmp(addr, "*") == 0 ? "0.0.0.0" : addr;
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve bus bind address '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    if (res->ai_family == AF_INET6) flags |= LEV_OPT_BIND_IPV6ONLY;
    struct evconnlistener *l = evconnlistener_new_bind(b->base, on_accept, b, flags, 128,
                                                       res->ai_addr, (int)res->ai_addrlen);
    int e = errno;
    freeaddrinfo(res);
    if (!l) {
        snprintf(err, errlen, "could not listen for the cluster bus on %s:%d: %s", addr, port,
                 strerror(e));
        return -1;
    }
    struct evconnlistener **ls = realloc(b->listeners, sizeof *ls * (size_t)(b->nlisteners + 1));
    if (!ls) {
        evconnlistener_free(l);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->listeners = ls;
    b->listeners[b->nlisteners++] = l;
    return 0;
}

int cl_bus_start(bus *b, char *err, size_t errlen)
{
    const cluster_config *c = &b->cl->cfg;
    for (int i = 0; i < c->bind_count; i++)
        if (listen_on(b, c->bind[i], c->port, err, errlen) < 0) return -1;
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(b->tick_ev, &tv);
    cl_core_tick(b->cl, cl_now(b->cl)); /* dial the seeds now */
    return 0;
}

void cl_bus_free(bus *b)
{
    if (!b) return;
    for (int i = 0; i < b->nlisteners; i++) evconnlistener_free(b->listeners[i]);
    free(b->listeners);
    while (b->links) {
        b->links->in_callback = 0;
        b->links->closing = 1;
        free_link(b->links, 0);
    }
    while (b->lingers) linger_end(b->lingers);
    if (b->tick_ev) event_free(b->tick_ev);
    if (b->wake_ev) event_free(b->wake_ev);
    if (b->dns) evdns_base_free(b->dns, 0);
    if (b->ctx) SSL_CTX_free(b->ctx);
    free(b);
}
