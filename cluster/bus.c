/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bus.c: the cluster bus transport over libevent: listeners, dialling, TLS, frame extraction,
 * timers.  Implements cl_transport_ops for core.c and repl.c.
 *
 * Why raw events and direct SSL calls (as server/net.c does for clients), not bufferevents: a
 * follower wakes once per replication batch, thousands of times a second, and a bufferevent
 * spends six system calls on each wake-up: epoll_wait, a read, a second read that only says
 * EAGAIN, and an epoll_ctl on each side of the write that sends the acknowledgement (write
 * interest is turned on when output appears and off when it drains).  Here each link has one
 * persistent read event; a wake-up costs epoll_wait, one read and one write:
 *   - OpenSSL reads ahead (read_ahead, a 64 KiB record buffer), so one read(2) takes every
 *     record the kernel holds; reading stops when OpenSSL has nothing buffered
 *     (SSL_has_pending) instead of asking the socket again; level-triggered epoll reports
 *     whatever arrives later.
 *   - Frames sent during a loop pass are appended to the link's output buffer and written at the
 *     end of the pass: by the read callback for its own link (the acknowledgement of the batch
 *     just applied), otherwise by one "flush" event made active by the first send of the pass,
 *     which runs after the callbacks already queued (every client request of the pass), so
 *     replication is still batched per pass.  The write event is added only while the kernel
 *     does not take everything.
 * TLS needs two extra rules: a read may need the socket writable and a write may need it
 * readable (read_wants_write / write_wants_read: the call is repeated on that readiness), and a
 * write that could not finish must be repeated with at least the same bytes, which holds
 * because the output buffer only grows at its end (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER lets it
 * be compacted in between).  Plain TCP (cluster-insecure) takes the same path with read/write.
 *
 * Frame extraction: the 20-byte header is validated (length against max-frame-bytes) before the
 * input buffer grows to hold the frame; frames are delivered from the buffer in place.  Reading
 * stops after READ_BUDGET bytes per wake-up so one busy link cannot starve clients.
 *
 * Names in addresses are resolved asynchronously (evdns) on every dial, so a restarted pod with
 * a new IP under the same headless-service name is found again.  TCP_NODELAY on every link:
 * acknowledgements are latency-critical.  An accepted connection that has not identified itself
 * (TLS and HELLO) within the handshake limit is closed by the tick: it only holds a socket.
 *
 * Lifetime: a link is freed only outside its own callbacks (in_callback / closing), and the core
 * is told (cl_core_link_down) exactly once, when the link leaves it.  A closed link may stay
 * behind for up to LINGER_MS without its core link (l == NULL) while the last few bytes queued
 * before the close (a HELLO_ERR, say) are written.
 * Event-loop thread only.  Start reading at on_io.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster_bus.h"
#include "cluster/cluster_tls.h"

#define TICK_MS 10
#define READ_CHUNK (64u * 1024)    /* room offered to one read */
#define READ_BUDGET (512u * 1024)  /* bytes read per wake-up before other events get a turn */
#define BUF_KEEP (256u * 1024)     /* an emptied buffer larger than this is released */
#define LINGER_MS 1000             /* longest wait for the last frames of a closed link */
#define LINGER_MAX_BYTES 4096u     /* a refusal is a few dozen bytes; a backlog is dropped */
#define HANDSHAKE_MIN_MS 5000u     /* inbound links: TLS + HELLO within max(this, node-timeout) */

/* A chunk held back by DEBUG BUS-DELAY. */
typedef struct delayed {
    struct delayed *next;
    uint64_t due_ms;
    size_t len;
    unsigned char data[];
} delayed;

/* Bytes [off, len) of p are live. */
typedef struct iobuf {
    unsigned char *p;
    size_t off, len, cap;
} iobuf;

enum { PH_RESOLVING, PH_CONNECTING, PH_HANDSHAKE, PH_OPEN, PH_LINGER };

/* What a name resolution in flight calls back with: the link, or NULL once the link is gone.
 * A cancelled resolution still calls back, later (libevent defers it), and frees this then. */
typedef struct dial_req {
    struct bus_link *bl;
} dial_req;

typedef struct bus_link {
    cl_link *l; /* NULL while lingering */
    struct bus *b;
    delayed *held, *held_tail; /* frames waiting for their injected delay, oldest first */
    evutil_socket_t fd;
    SSL *ssl;
    struct event *ev_read;  /* persistent; added once the socket is connected */
    struct event *ev_write; /* persistent; added only while something waits for room */
    struct evdns_getaddrinfo_request *dns;
    dial_req *dreq; /* set while dns is */
    iobuf in, out;
    uint64_t linger_until;
    char host[CL_STR_MAX + 1];
    char port[16];
    int phase;
    int hs_wants_write;   /* the TLS handshake waits for room to write */
    int read_wants_write; /* an SSL_read must be repeated once the socket is writable */
    int write_wants_read; /* an SSL_write must be repeated once the socket is readable */
    int write_armed;      /* ev_write is added */
    int dirty;            /* output appended since the last flush */
    int in_callback;
    int closing;
    int dialing; /* inside bus_dial: a failure is reported by its return value */
    struct bus_link *prev, *next; /* every link, lingering ones too, for the tick and shutdown */
} bus_link;

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
    struct event *flush_ev;
    int flush_armed;
    bus_link *links;
    uint64_t delay_ms; /* DEBUG BUS-DELAY */
};

static bus *bus_of(const cluster *cl) { return (bus *)cl->tr_state; }

static const cl_transport_ops bus_ops;

/* ---- buffers */

static void iobuf_free(iobuf *x)
{
    free(x->p);
    memset(x, 0, sizeof *x);
}

static size_t iobuf_used(const iobuf *x) { return x->len - x->off; }

/* After consuming: empty buffers restart at 0, large empty ones are released. */
static void iobuf_settle(iobuf *x)
{
    if (x->off < x->len) return;
    x->off = x->len = 0;
    if (x->cap > BUF_KEEP) iobuf_free(x);
}

/* Make room for `need` more bytes after len, compacting first.  -1: out of memory. */
static int iobuf_room(iobuf *x, size_t need)
{
    if (x->cap - x->len >= need) return 0;
    if (x->off) {
        memmove(x->p, x->p + x->off, x->len - x->off);
        x->len -= x->off;
        x->off = 0;
        if (x->cap - x->len >= need) return 0;
    }
    size_t cap = x->cap ? x->cap : 16384;
    while (cap - x->len < need) {
        if (cap > SIZE_MAX / 2) return -1;
        cap *= 2;
    }
    unsigned char *p = realloc(x->p, cap);
    if (!p) return -1;
    x->p = p;
    x->cap = cap;
    return 0;
}

/* ---- link list, write interest and freeing */

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

/* ev_write is wanted while connecting, while the handshake or a read waits for room, and while
 * output is pending that is not waiting for readability instead. */
static void sync_write_interest(bus_link *bl)
{
    if (!bl->ev_write) return;
    int want;
    switch (bl->phase) {
    case PH_CONNECTING: want = 1; break;
    case PH_HANDSHAKE: want = bl->hs_wants_write; break;
    case PH_OPEN:
    case PH_LINGER:
        want = bl->read_wants_write || (iobuf_used(&bl->out) > 0 && !bl->write_wants_read);
        break;
    default: want = 0; break;
    }
    if (want && !bl->write_armed) event_add(bl->ev_write, NULL);
    else if (!want && bl->write_armed) event_del(bl->ev_write);
    bl->write_armed = want;
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

/* Release the socket side: events, TLS state, descriptor, buffers. */
static void release_io(bus_link *bl)
{
    if (bl->dns) {
        bl->dreq->bl = NULL; /* its callback, made later, only frees dreq */
        evdns_getaddrinfo_cancel(bl->dns);
    }
    bl->dns = NULL;
    bl->dreq = NULL;
    if (bl->ev_read) event_free(bl->ev_read);
    if (bl->ev_write) event_free(bl->ev_write);
    bl->ev_read = bl->ev_write = NULL;
    bl->write_armed = 0;
    if (bl->ssl) SSL_free(bl->ssl);
    bl->ssl = NULL;
    if (bl->fd >= 0) close(bl->fd);
    bl->fd = -1;
    iobuf_free(&bl->in);
    iobuf_free(&bl->out);
    free_held(bl);
}

static void destroy(bus *b, bus_link *bl)
{
    untrack(b, bl);
    release_io(bl);
    free(bl);
}

/* Flush then close (le-proxy's rule): the frames a link queued just before it was closed are
 * often the reason for the close (HELLO_ERR "self", "cluster is full" ...); closing at once would
 * drop them.  Returns 1 when the link now lingers. */
static int start_linger(bus_link *bl)
{
    size_t pending = iobuf_used(&bl->out);
    if (bl->phase != PH_OPEN || pending == 0 || pending > LINGER_MAX_BYTES) return 0;
    bl->phase = PH_LINGER;
    bl->linger_until = cl_now(bl->b->cl) + LINGER_MS;
    free_held(bl);
    iobuf_free(&bl->in);
    if (bl->ev_read) event_del(bl->ev_read);
    bl->read_wants_write = bl->write_wants_read = 0;
    sync_write_interest(bl);
    return 1;
}

/* Detach the link from the core (told exactly once) and free or linger the transport side. */
static void free_link(bus_link *bl, int linger)
{
    bus *b = bl->b;
    cl_link *l = bl->l;
    bl->l = NULL;
    if (!(linger && start_linger(bl))) destroy(b, bl);
    if (l) {
        l->tr = NULL;
        cl_core_link_down(l);
    }
}

static void close_link(bus_link *bl)
{
    if (bl->closing) return;
    bl->closing = 1;
    if (bl->l) bl->l->state = CL_LINK_CLOSED;
    if (!bl->in_callback) free_link(bl, 1);
}

static void bus_close(cl_link *l)
{
    if (l->tr) close_link(l->tr);
}

/* ---- writing */

/* Write what the kernel takes.  -1: the link is dead. */
static int flush_out(bus_link *bl)
{
    iobuf *o = &bl->out;
    bl->dirty = 0;
    bl->write_wants_read = 0;
    while (o->off < o->len) {
        size_t n = o->len - o->off;
        if (bl->ssl) {
            int r = SSL_write(bl->ssl, o->p + o->off, n > INT_MAX ? INT_MAX : (int)n);
            if (r > 0) {
                o->off += (size_t)r;
                continue;
            }
            int e = SSL_get_error(bl->ssl, r);
            if (e == SSL_ERROR_WANT_WRITE) break;
            if (e == SSL_ERROR_WANT_READ) {
                bl->write_wants_read = 1;
                break;
            }
            ERR_clear_error();
            return -1;
        }
        ssize_t r = write(bl->fd, o->p + o->off, n);
        if (r > 0) {
            o->off += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return -1;
    }
    iobuf_settle(o);
    return 0;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    bus *b = arg;
    b->flush_armed = 0;
    for (bus_link *bl = b->links, *next; bl; bl = next) {
        next = bl->next;
        if (!bl->dirty || bl->phase != PH_OPEN) continue;
        if (bl->write_armed) { /* the kernel is full: the write event sends it */
            bl->dirty = 0;
            continue;
        }
        if (flush_out(bl) < 0) {
            /* closing may free other links too: start over (each pass frees one) */
            close_link(bl);
            next = b->links;
            continue;
        }
        sync_write_interest(bl);
    }
}

/* Queue bytes for the end of this loop pass. */
static int queue_out(bus_link *bl, const void *p, size_t n)
{
    if (iobuf_room(&bl->out, n) < 0) return -1;
    memcpy(bl->out.p + bl->out.len, p, n);
    bl->out.len += n;
    if (!bl->dirty) {
        bl->dirty = 1;
        bus *b = bl->b;
        if (!b->flush_armed) {
            b->flush_armed = 1;
            event_active(b->flush_ev, EV_TIMEOUT, 0);
        }
    }
    return 0;
}

/* ---- reading */

/* Deliver every complete frame in the input buffer.  Returns -1 when the link must close. */
static int deliver_frames(bus_link *bl)
{
    cluster *cl = bl->b->cl;
    iobuf *in = &bl->in;
    while (bl->l && in->len - in->off >= CL_HEADER_LEN) {
        cl_frame_header h;
        int rc = cl_frame_parse_header(in->p + in->off, CL_HEADER_LEN, cl->cfg.max_frame_bytes,
                                       &h);
        if (rc != CL_FRAME_OK) {
            cl->stats.frames_rejected++;
            cl_log(cl, CLUSTER_LOG_WARNING, "bus link %s: %s; closing it", bl->host,
                   cl_frame_strerror(rc));
            return -1;
        }
        if (in->len - in->off < h.len) {
            /* Validated above: room for the whole frame, so the next reads complete it. */
            return iobuf_room(in, h.len - (in->len - in->off));
        }
        const uint8_t *frame = in->p + in->off;
        in->off += h.len; /* the buffer does not move while the core reads the frame */
        rc = cl_core_frame(bl->l, &h, frame + CL_HEADER_LEN, h.len - CL_HEADER_LEN);
        if (rc < 0 || bl->closing) return -1;
    }
    iobuf_settle(in);
    return 0;
}

/* One read of at most `room` bytes into the input buffer (which has that room): >0 bytes, 0
 * nothing more for now, -1 the link is over (end of stream, an error, a broken record). */
static ssize_t read_some(bus_link *bl, size_t room)
{
    iobuf *in = &bl->in;
    for (;;) {
        if (bl->ssl) {
            int r = SSL_read(bl->ssl, in->p + in->len, room > INT_MAX ? INT_MAX : (int)room);
            if (r > 0) {
                in->len += (size_t)r;
                return r;
            }
            int e = SSL_get_error(bl->ssl, r);
            if (e == SSL_ERROR_WANT_READ) return 0;
            if (e == SSL_ERROR_WANT_WRITE) {
                bl->read_wants_write = 1;
                return 0;
            }
            ERR_clear_error();
            return -1;
        }
        ssize_t r = read(bl->fd, in->p + in->len, room);
        if (r > 0) {
            in->len += (size_t)r;
            return r;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
}

/* Read and deliver what is there, up to READ_BUDGET bytes.  -1: the link must close.
 * Frames are delivered after every read, so the buffer holds at most one partial frame plus
 * one read. */
static int read_in(bus_link *bl)
{
    size_t total = 0;
    bl->read_wants_write = 0;
    for (;;) {
        if (iobuf_room(&bl->in, READ_CHUNK) < 0) return -1;
        size_t room = bl->in.cap - bl->in.len;
        ssize_t r = read_some(bl, room);
        if (r < 0) return -1;
        if (r == 0) return 0;
        total += (size_t)r;
        if (deliver_frames(bl) < 0) return -1;
        /* Stop when the kernel's data was all taken: a plain read that did not fill the room,
         * or OpenSSL holding nothing more (it read ahead everything the socket had). */
        int more = bl->ssl ? SSL_has_pending(bl->ssl) : (size_t)r >= room;
        if (!more) return 0;
        if (total >= READ_BUDGET) {
            /* decrypted-ahead data does not make the socket readable again: come back */
            if (bl->ssl) event_active(bl->ev_read, EV_READ, 0);
            return 0;
        }
    }
}

/* ---- connecting and the TLS handshake */

static void set_nodelay(evutil_socket_t fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void link_established(bus_link *bl)
{
    bl->phase = PH_OPEN;
    cl_core_link_up(bl->l);
}

/* Advance the TLS handshake.  1: done, 0: waiting, -1: failed (logged and counted). */
static int handshake_step(bus_link *bl)
{
    cluster *cl = bl->b->cl;
    int r = SSL_do_handshake(bl->ssl);
    bl->hs_wants_write = 0;
    if (r == 1) return 1;
    int e = SSL_get_error(bl->ssl, r);
    if (e == SSL_ERROR_WANT_READ) return 0;
    if (e == SSL_ERROR_WANT_WRITE) {
        bl->hs_wants_write = 1;
        return 0;
    }
    char why[256];
    if (e == SSL_ERROR_SSL) {
        cl_tls_error(why, sizeof why);
        cl->stats.auth_failures++;
        cl_log(cl, CLUSTER_LOG_WARNING, "bus TLS handshake with %s failed: %s", bl->host, why);
    } else {
        int err = errno;
        ERR_clear_error();
        cl_log(cl, CLUSTER_LOG_VERBOSE, "bus connection with %s closed during the TLS handshake%s%s",
               bl->host, e == SSL_ERROR_SYSCALL && r < 0 ? ": " : "",
               e == SSL_ERROR_SYSCALL && r < 0 ? strerror(err) : "");
    }
    return -1;
}

/* The socket is connected (accepted, or our connect finished): start TLS or go straight up. */
static int socket_ready(bus_link *bl)
{
    set_nodelay(bl->fd);
    if (event_add(bl->ev_read, NULL) < 0) return -1;
    if (!bl->ssl) {
        link_established(bl);
        return 0;
    }
    bl->phase = PH_HANDSHAKE;
    return 0;
}

/* The outbound connect() finished: did it succeed? */
static int connect_finished(bus_link *bl)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(bl->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == EINPROGRESS || err == EALREADY) return 0;
    if (err) {
        cl_log(bl->b->cl, CLUSTER_LOG_VERBOSE, "bus connection to %s failed: %s", bl->host,
               strerror(err));
        return -1;
    }
    return socket_ready(bl);
}

/* ---- the link's I/O callback */

static int open_io(bus_link *bl, short what)
{
    if (((what & EV_WRITE) && !bl->write_wants_read) ||
        ((what & EV_READ) && bl->write_wants_read)) {
        if (flush_out(bl) < 0) return -1;
    }
    if ((what & EV_READ) || ((what & EV_WRITE) && bl->read_wants_write)) {
        if (read_in(bl) < 0) return -1;
        if (bl->l && !bl->closing) cl_core_batch_end(bl->l);
    }
    /* the acknowledgement of what was just applied leaves now, not in a later pass */
    if (bl->dirty && !bl->closing && bl->phase == PH_OPEN && flush_out(bl) < 0) return -1;
    return 0;
}

static int link_io(bus_link *bl, short what)
{
    switch (bl->phase) {
    case PH_CONNECTING:
        if (!(what & EV_WRITE)) return 0;
        if (connect_finished(bl) < 0) return -1;
        if (bl->phase != PH_HANDSHAKE) return 0;
        what = EV_WRITE; /* send the ClientHello now */
        /* fall through */
    case PH_HANDSHAKE: {
        int rc = handshake_step(bl);
        if (rc <= 0) return rc;
        link_established(bl);
        if (bl->closing) return -1;
        /* frames may have come with the peer's last flight, already read ahead by OpenSSL */
        return open_io(bl, EV_READ);
    }
    case PH_OPEN:
        return open_io(bl, what);
    case PH_LINGER:
        if (flush_out(bl) < 0 || iobuf_used(&bl->out) == 0) return -1;
        return 0;
    default:
        return 0;
    }
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    bus_link *bl = arg;
    bl->in_callback = 1;
    int rc = link_io(bl, what);
    bl->in_callback = 0;
    if (bl->phase == PH_LINGER) {
        if (rc < 0) destroy(bl->b, bl);
        else sync_write_interest(bl);
        return;
    }
    if (rc < 0 || bl->closing) {
        bl->closing = 0;
        close_link(bl);
        return;
    }
    sync_write_interest(bl);
}

/* ---- creating links */

static bus_link *new_bus_link(bus *b, int outbound)
{
    bus_link *bl = calloc(1, sizeof *bl);
    if (!bl) return NULL;
    bl->fd = -1;
    bl->b = b;
    bl->l = cl_link_new(b->cl, outbound);
    if (!bl->l) {
        free(bl);
        return NULL;
    }
    bl->l->tr = bl;
    track(b, bl);
    return bl;
}

/* Events and TLS state for a connected or connecting socket (owned by bl from here on). */
static int attach_socket(bus_link *bl, evutil_socket_t fd, int accepting)
{
    bus *b = bl->b;
    bl->fd = fd;
    bl->ev_read = event_new(b->base, fd, EV_READ | EV_PERSIST, on_io, bl);
    bl->ev_write = event_new(b->base, fd, EV_WRITE | EV_PERSIST, on_io, bl);
    if (!bl->ev_read || !bl->ev_write) return -1;
    if (!b->ctx) return 0;
    bl->ssl = SSL_new(b->ctx);
    if (!bl->ssl || SSL_set_fd(bl->ssl, fd) != 1) return -1;
    SSL_set_mode(bl->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (accepting) {
        SSL_set_accept_state(bl->ssl);
    } else {
        SSL_set_connect_state(bl->ssl);
        SSL_set_tlsext_host_name(bl->ssl, bl->host);
    }
    return 0;
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
    bl->in_callback = 1; /* the core may close it while it comes up */
    int rc = attach_socket(bl, fd, 1);
    if (rc == 0) rc = socket_ready(bl);
    bl->in_callback = 0;
    if (rc < 0 || bl->closing) {
        bl->closing = 0;
        close_link(bl);
        return;
    }
    sync_write_interest(bl);
}

/* Start a non-blocking connect.  0: under way (or done), -1: failed. */
static int connect_to(bus_link *bl, const struct sockaddr *sa, socklen_t len)
{
    evutil_socket_t fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (attach_socket(bl, fd, 0) < 0) return -1; /* fd is bl's now: release_io closes it */
    /* Even a connect that succeeds at once is finished from the write event: the core learns
     * of the link from bus_dial's return value before it hears that the link is up. */
    if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) return -1;
    bl->phase = PH_CONNECTING;
    sync_write_interest(bl);
    return 0;
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
    dial_req *dr = arg;
    bus_link *bl = dr->bl;
    free(dr);
    if (!bl) { /* cancelled: the link is gone */
        if (res) evutil_freeaddrinfo(res);
        return;
    }
    bl->dns = NULL;
    bl->dreq = NULL;
    int failed = result != 0 || !res || connect_to(bl, res->ai_addr, res->ai_addrlen) < 0;
    if (failed)
        cl_log(bl->b->cl, CLUSTER_LOG_VERBOSE, "cannot reach bus address %s:%s: %s", bl->host,
               bl->port, result ? evutil_gai_strerror(result) : "connect failed");
    if (res) evutil_freeaddrinfo(res);
    if (!failed) return;
    if (bl->dialing) bl->closing = 1; /* answered inside bus_dial: it reports the failure */
    else close_link(bl);
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
        free(bl->l);
        destroy(b, bl);
        return NULL;
    }
    struct evutil_addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    /* evdns answers numeric hosts (and some failures) at once, calling on_resolved before it
     * returns; `dialing` tells on_resolved to leave a failure to us. */
    dial_req *dr = malloc(sizeof *dr);
    if (!dr) {
        free(bl->l);
        destroy(b, bl);
        return NULL;
    }
    dr->bl = bl;
    bl->dreq = dr;
    bl->dialing = 1;
    bl->dns = evdns_getaddrinfo(b->dns, bl->host, bl->port, &hints, on_resolved, dr);
    bl->dialing = 0;
    if (!bl->dns && bl->dreq) { /* neither under way nor answered */
        free(dr);
        bl->dreq = NULL;
        bl->closing = 1;
    }
    if (bl->closing) {
        /* Failed before the core knew of the link: free it here, report a failed dial. */
        free(bl->l);
        destroy(b, bl);
        return NULL;
    }
    return bl->l;
}

/* ---- sending */

static int bus_send(cl_link *l, const void *p, size_t n)
{
    bus_link *bl = l->tr;
    if (!bl || bl->closing || bl->phase != PH_OPEN) return -1;
    bus *b = bl->b;
    if (b->delay_ms == 0 && !bl->held) return queue_out(bl, p, n);
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

/* Queue the held frames whose injected delay has passed (from the tick). */
static void release_held(bus_link *bl, uint64_t now)
{
    while (bl->held && bl->held->due_ms <= now) {
        delayed *d = bl->held;
        if (queue_out(bl, d->data, d->len) < 0) return;
        bl->held = d->next;
        if (!bl->held) bl->held_tail = NULL;
        free(d);
    }
}

void cluster_debug_set_bus_delay(cluster *cl, uint64_t ms)
{
    if (cl->tr == &bus_ops) bus_of(cl)->delay_ms = ms;
}

static size_t bus_queued(const cl_link *l)
{
    const bus_link *bl = l->tr;
    return bl ? iobuf_used(&bl->out) : 0;
}

static int bus_name_ok(const cl_link *l, const char *name)
{
    const bus_link *bl = l->tr;
    if (!bl || !bl->ssl || !bus_of(l->cl)->mtls) return 1; /* plain or shared key: no names */
    return cl_tls_cert_covers(bl->ssl, name);
}

/* ---- timers */

/* The link the tick must end now, if any: a linger that ran out, or an accepted connection
 * that has not identified itself in time. */
static bus_link *overdue_link(bus *b, uint64_t now)
{
    const cluster *cl = b->cl;
    uint64_t hs_limit =
        cl->cfg.node_timeout_ms > HANDSHAKE_MIN_MS ? cl->cfg.node_timeout_ms : HANDSHAKE_MIN_MS;
    for (bus_link *bl = b->links; bl; bl = bl->next) {
        if (bl->closing && bl->phase != PH_LINGER) continue;
        if (bl->phase == PH_LINGER && now >= bl->linger_until) return bl;
        const cl_link *l = bl->l;
        if (l && !l->outbound && l->state != CL_LINK_READY && l->state != CL_LINK_CLOSED &&
            now > l->opened_ms && now - l->opened_ms > hs_limit)
            return bl;
    }
    return NULL;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cluster *cl = arg;
    bus *b = bus_of(cl);
    uint64_t now = cl_now(cl);
    for (bus_link *bl = b->links; bl; bl = bl->next)
        if (bl->held && bl->phase == PH_OPEN && !bl->closing) release_held(bl, now);
    for (bus_link *bl; (bl = overdue_link(b, now)) != NULL;) {
        if (bl->phase == PH_LINGER) {
            destroy(b, bl);
            continue;
        }
        cl_log(cl, CLUSTER_LOG_VERBOSE, "bus link from %s: no handshake in time; closing it",
               bl->host);
        close_link(bl);
    }
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
        b->ctx = cl_tls_ctx_psk(c->secret, c->secret_accept, c->cluster_name, err, errlen);
    }
    if ((c->tls_cert_file || c->secret) && !b->ctx) {
        free(b);
        return NULL;
    }
    b->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    if (!b->dns) b->dns = evdns_base_new(base, 0); /* no resolv.conf: numeric addresses only */
    b->tick_ev = event_new(base, -1, EV_PERSIST, on_tick, cl);
    b->wake_ev = event_new(base, -1, 0, on_wake, cl);
    b->flush_ev = event_new(base, -1, 0, on_flush, b);
    if (!b->dns || !b->tick_ev || !b->wake_ev || !b->flush_ev) {
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
        bus_link *bl = b->links;
        bl->in_callback = 0;
        bl->closing = 1;
        if (bl->l) bl->l->state = CL_LINK_CLOSED;
        free_link(bl, 0);
    }
    if (b->tick_ev) event_free(b->tick_ev);
    if (b->wake_ev) event_free(b->wake_ev);
    if (b->flush_ev) event_free(b->flush_ev);
    if (b->dns) evdns_base_free(b->dns, 0);
    if (b->ctx) SSL_CTX_free(b->ctx);
    free(b);
}
