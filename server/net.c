/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net.c: listeners, client I/O, timers and shutdown.
 *
 * What: accepts connections, reads requests into each client's query buffer, runs them through
 * the parser and the dispatcher, and writes the replies back; runs the hz timer (idle clients,
 * buffer shrinking, rehash) and the expiry timer.
 *
 * Why raw events instead of bufferevents: a bufferevent turns its write interest on when output
 * appears and off when it drains, which costs two epoll_ctl calls per request/reply cycle, and it
 * copies input into an evbuffer we would then copy again into a contiguous buffer for the parser.
 * Here each client has one persistent read event; replies are written directly at the end of the
 * read callback (one write per batch of pipelined requests), and a write event is armed only when
 * the kernel does not take everything.  libevent still owns the loop, timers and signals.
 *
 * Flow for one readable event (on_readable):
 *   read into qbuf -> process_input: parse / srv_process_command, at most SRV_MAX_CMDS_PER_EVENT
 *   requests, stop early when the client blocks, is closing, or has SRV_OUT_HIGH_WATER bytes of
 *   output pending -> flush -> if complete requests remain, re-activate the event with EV_TIMEOUT
 *   as a "continue" mark (no read syscall for it) so other clients get their turn first.
 *
 * TLS clients (tls-port) take the same path.  The socket is touched in two places only,
 * conn_read and conn_write, which branch on c->ssl to tls.c; the plain path pays one predictable
 * branch.  What TLS adds is event bookkeeping (tls_event, tls_sync_events): a read may wait for
 * writability and a write for readability, and bytes OpenSSL has already decrypted do not make
 * the socket readable, so they are picked up with an explicit read event.  The handshake runs
 * in on_readable/on_writable before any request; tls-handshake-timeout bounds it (hz timer).
 *
 * Limits enforced here: maxclients and protected-mode at accept (protected mode after the
 * handshake for TLS), client-query-buffer-limit on read, client-output-buffer-limit after each
 * batch and on the hz timer (its hard limit also in client.c, before a reply is appended).
 *
 * Invariants:
 *   - qbuf[qpos..qlen) holds the unconsumed input; the parser always sees it from qpos.
 *   - argv slices point into qbuf, and qbuf never moves while a command runs (reads happen only
 *     in on_readable before processing).
 *   - A client is freed only outside its own callbacks (IN_CALLBACK / CLOSING bits).
 *
 * Event-loop thread only.  Start reading at on_readable.
 */
#include "server/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/db.h"
#include "server/http.h"
#include "server/info.h"
#include "server/log.h"
#include "server/server.h"
#include "server/tls.h"

static uint64_t expire_timer_at = UINT64_MAX; /* when the expiry timer fires next */
static uint64_t shutdown_deadline_ms;

/* ---- time */

/*
 * The wall clock is read once per event callback (srv_update_time) and every command in that
 * callback sees the same millisecond, so one command never observes time moving under it.
 * libevent's own cached time is not used: it derives wall time from the coarse monotonic clock
 * and resynchronises only every few seconds, which drifts by milliseconds.
 */
static uint64_t cached_now_ms;

void srv_update_time(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cached_now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
                    (uint64_t)srv.clock_offset_ms;
}

uint64_t srv_now_ms(void)
{
    if (cached_now_ms == 0) srv_update_time();
    return cached_now_ms;
}

uint64_t srv_ustime(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* ---- closing */

static void client_free_now(srv_client *c)
{
    srv_log(SRV_LOG_VERBOSE, "client id=%llu addr=%s closed", (unsigned long long)c->id, c->addr);
    srv_client_free(c);
}

void srv_client_close(srv_client *c)
{
    if (c->flags & SRV_CLIENT_IN_CALLBACK) {
        c->flags |= SRV_CLIENT_CLOSING;
        return;
    }
    client_free_now(c);
}

/* ---- output */

static size_t out_pending(const srv_client *c) { return c->out.len - c->out_sent; }

/* What may be written now: everything, except the reply of a write still waiting for its
 * quorum (replica.c holds it from hold_from on). */
static size_t sendable(const srv_client *c)
{
    return (c->holding ? c->hold_from : c->out.len) - c->out_sent;
}

/* Drop the first out_sent bytes from the buffer, keeping the hold mark on the same byte. */
static void compact_output(srv_client *c)
{
    if (c->out_sent == 0) return;
    resp_wbuf_consume(&c->out, c->out_sent);
    if (c->holding) c->hold_from -= c->out_sent;
    c->out_sent = 0;
}

/* The per-client I/O seam: TLS clients (tls-port) go through tls.c, plain ones straight to
 * the socket.  Same conventions as read(2)/write(2), so callers handle both alike. */
static inline ssize_t conn_read(srv_client *c, void *buf, size_t len)
{
    if (c->ssl) return srv_tls_read(c, buf, len);
    return read(c->fd, buf, len);
}

static inline ssize_t conn_write(srv_client *c, const void *buf, size_t len)
{
    if (c->ssl) return srv_tls_write(c, buf, len);
    return write(c->fd, buf, len);
}

static void write_interest(srv_client *c, int on)
{
    int pending = event_pending(c->ev_write, EV_WRITE, NULL);
    if (on && !pending) event_add(c->ev_write, NULL);
    else if (!on && pending) event_del(c->ev_write);
}

static void read_interest(srv_client *c, int on)
{
    if (on && srv.shutdown_asap) return; /* shutting down: no new input, see srv_net_shutdown */
    if (on && (c->flags & SRV_CLIENT_READ_PAUSED)) {
        c->flags &= ~SRV_CLIENT_READ_PAUSED;
        event_add(c->ev_read, NULL);
    } else if (!on && !(c->flags & SRV_CLIENT_READ_PAUSED)) {
        c->flags |= SRV_CLIENT_READ_PAUSED;
        event_del(c->ev_read);
    }
}

/* Write what the kernel takes.  Returns -1 when the connection is dead (caller closes). */
static int flush_output(srv_client *c)
{
    while (sendable(c) > 0) {
        ssize_t n = conn_write(c, c->out.data + c->out_sent, sendable(c));
        if (n > 0) {
            c->out_sent += (size_t)n;
            srv.stats.net_output_bytes += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return -1;
    }
    if (out_pending(c) == 0) {
        if (c->out.len > c->out_peak) c->out_peak = c->out.len;
        c->out.len = 0;
        c->out_sent = 0;
        write_interest(c, 0);
    } else if (sendable(c) == 0) {
        compact_output(c); /* only a held reply is left: nothing to write until it is released */
        write_interest(c, 0);
    } else {
        /* Compact once half the buffer is sent, so a slow reader's buffer does not only grow. */
        if (c->out_sent > c->out.len / 2) compact_output(c);
        write_interest(c, 1);
    }
    return 0;
}

/* ---- input */

/* Make room for `want` more bytes after qlen, compacting first.  Aborts on out of memory. */
static void qbuf_reserve(srv_client *c, size_t want)
{
    if (c->qpos > 0 && (c->qcap - c->qlen < want || c->qpos == c->qlen)) {
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
    }
    if (c->qcap - c->qlen >= want) return;
    size_t cap = c->qcap ? c->qcap : SRV_READ_CHUNK;
    while (cap - c->qlen < want) cap *= 2;
    char *p = realloc(c->qbuf, cap);
    if (!p) {
        srv_log(SRV_LOG_WARNING, "out of memory growing a query buffer to %zu bytes", cap);
        abort();
    }
    c->qbuf = p;
    c->qcap = cap;
}

/*
 * How much to read next.  Normally one chunk; while a large bulk argument is arriving, enough to
 * hold what has been announced, but never more than twice what has actually been received, so a
 * client that announces a huge bulk and sends nothing cannot make us allocate it.
 */
static size_t read_want(const srv_client *c)
{
    size_t have = c->qlen - c->qpos;
    size_t want = SRV_READ_CHUNK;
    if (resp_parser_busy(&c->parser)) {
        size_t need = resp_parser_need(&c->parser);
        if (need > have + want) {
            size_t more = need - have;
            size_t cap = have > want ? have : want;
            want = more < cap ? more : cap;
        }
    }
    return want;
}

/* Returns -1 when the client must be closed now (EOF, error, query buffer limit). */
static int read_input(srv_client *c)
{
    size_t have = c->qlen - c->qpos;
    if (resp_parser_busy(&c->parser)) {
        size_t need = resp_parser_need(&c->parser);
        if ((long long)need > srv.cfg.client_query_buffer_limit) goto over_limit;
    }
    size_t want = read_want(c);
    qbuf_reserve(c, want);
    ssize_t n = conn_read(c, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n > 0) {
        c->qlen += (size_t)n;
        srv.stats.net_input_bytes += (uint64_t)n;
        c->last_interaction_ms = srv_now_ms();
        if (c->qlen - c->qpos > c->qbuf_peak) c->qbuf_peak = c->qlen - c->qpos;
        if ((long long)(have + (size_t)n) > srv.cfg.client_query_buffer_limit) goto over_limit;
        return 0;
    }
    if (n == 0) return -1;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    srv_log(SRV_LOG_VERBOSE, "reading from client id=%llu: %s", (unsigned long long)c->id,
            strerror(errno));
    return -1;
over_limit:
    srv.stats.querybuf_limit_closes++;
    srv_log(SRV_LOG_WARNING,
            "closing client id=%llu addr=%s that reached client-query-buffer-limit (%lld bytes)",
            (unsigned long long)c->id, c->addr, srv.cfg.client_query_buffer_limit);
    return -1;
}

static int client_stopped(const srv_client *c)
{
    return (c->flags & (SRV_CLIENT_BLOCKED | SRV_CLIENT_CLOSE_AFTER_REPLY |
                        SRV_CLIENT_CLOSE_ASAP | SRV_CLIENT_CLOSING)) != 0;
}

/*
 * Run up to SRV_MAX_CMDS_PER_EVENT requests.  Returns 1 when it stopped with input left over
 * that may hold complete requests (budget spent, or SRV_OUT_HIGH_WATER bytes of output pending):
 * the caller must arrange to come back even if no new byte ever arrives on the socket.
 */
static int process_input(srv_client *c)
{
    int budget = SRV_MAX_CMDS_PER_EVENT;
    while (c->qpos < c->qlen && !client_stopped(c)) {
        if (out_pending(c) > SRV_OUT_HIGH_WATER || budget-- == 0) return 1;
        size_t used = 0;
        int rc = resp_parser_parse(&c->parser, c->qbuf + c->qpos, c->qlen - c->qpos, &used);
        if (rc == RESP_NEED_MORE) break;
        if (rc != RESP_OK) {
            if (rc == RESP_ERR_NOMEM) abort();
            srv.stats.protocol_errors++;
            srv_log(SRV_LOG_VERBOSE, "protocol error from client id=%llu addr=%s: %s",
                    (unsigned long long)c->id, c->addr, resp_parser_errstr(&c->parser));
            /* Sent even under CLIENT REPLY OFF, as Redis does, then the connection closes. */
            c->flags &= ~SRV_CLIENT_MUTED;
            srv_reply_errorf(c, "ERR %s", resp_parser_errstr(&c->parser));
            c->flags |= SRV_CLIENT_CLOSE_AFTER_REPLY;
            break;
        }
        int argc = resp_parser_argc(&c->parser);
        if (argc > 0) srv_process_command(c, argc, resp_parser_argv(&c->parser));
        c->qpos += used;
    }
    if (c->qpos == c->qlen) c->qpos = c->qlen = 0;
    return 0;
}

/* After processing: write, apply back-pressure, schedule continuation or close. */
static void after_processing(srv_client *c, int more)
{
    srv_client_check_output_limits(c, srv_now_ms()); /* marks CLOSE_ASAP when over */
    if (c->flags & (SRV_CLIENT_CLOSE_ASAP | SRV_CLIENT_CLOSING)) {
        c->flags |= SRV_CLIENT_CLOSING;
        return;
    }
    if (flush_output(c) < 0) {
        c->flags |= SRV_CLIENT_CLOSING;
        return;
    }
    if ((c->flags & SRV_CLIENT_CLOSE_AFTER_REPLY) && out_pending(c) == 0) {
        c->flags |= SRV_CLIENT_CLOSING;
        return;
    }
    if (out_pending(c) > SRV_OUT_HIGH_WATER) {
        read_interest(c, 0); /* on_writable resumes processing once the output drains */
        return;
    }
    if (c->flags & SRV_CLIENT_BLOCKED) return;
    read_interest(c, 1);
    if (more) {
        c->flags |= SRV_CLIENT_PENDING;
        event_active(c->ev_read, EV_TIMEOUT, 0);
    } else {
        c->flags &= ~SRV_CLIENT_PENDING;
    }
}

static void leave_callback(srv_client *c)
{
    c->flags &= ~SRV_CLIENT_IN_CALLBACK;
    if (c->flags & SRV_CLIENT_CLOSING) client_free_now(c);
}

/* A readable event (or the EV_TIMEOUT "continue" mark): read unless reading is paused, run
 * requests, write. */
static void handle_readable(srv_client *c, short what)
{
    if ((what & EV_READ) && !(c->flags & (SRV_CLIENT_CLOSE_AFTER_REPLY | SRV_CLIENT_READ_PAUSED)) &&
        !srv.shutdown_asap) {
        if (read_input(c) < 0) {
            c->flags |= SRV_CLIENT_CLOSING;
            return;
        }
    }
    int more = process_input(c);
    after_processing(c, more);
}

static void handle_writable(srv_client *c)
{
    if (flush_output(c) < 0) {
        c->flags |= SRV_CLIENT_CLOSING;
    } else if (out_pending(c) == 0) {
        if (c->flags & SRV_CLIENT_CLOSE_AFTER_REPLY) {
            c->flags |= SRV_CLIENT_CLOSING;
        } else if (c->flags & SRV_CLIENT_READ_PAUSED) {
            /* Drained: resume reading and run any pipelined requests still buffered. */
            int more = process_input(c);
            after_processing(c, more);
        }
    }
}

/* ---- TLS clients: the same handlers, driven by what the session waits for */

/* Redis 7.0's exact reply to a non-loopback client while protected mode applies. */
static const char protected_mode_msg[] =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

/* "ip:port" as format_addr writes it: is the ip on the loopback interface (127.0.0.0/8, ::1,
 * or 127.x mapped into IPv6)? */
static int addr_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "::1:", 4) == 0 ||
           strncmp(addr, "::ffff:127.", 11) == 0;
}

/* protected-mode: with no password, only loopback clients are served (checked when a client
 * arrives, after the TLS handshake for TLS clients, as Redis does). */
static int protected_mode_refuses(const char *addr)
{
    if (!srv.cfg.protected_mode || srv.cfg.requirepass[0] != '\0' || addr_is_loopback(addr))
        return 0;
    srv.stats.protected_mode_rejections++;
    srv_log(SRV_LOG_VERBOSE, "refused client from %s: protected mode (no requirepass, not "
            "loopback)", addr);
    return 1;
}

/* After every event of a TLS client: arm the events its session waits for.  A write blocked on
 * readability needs the read event even while reading is paused (handle_readable then reads
 * nothing), a read blocked on writability needs the write event, and bytes OpenSSL already holds
 * never make the socket readable, so they get a read event of their own. */
static void tls_sync_events(srv_client *c)
{
    if (c->flags & SRV_CLIENT_CLOSING) return;
    unsigned f = c->tls_flags;
    int want_write = (f & SRV_TLS_READ_WANTS_WRITE) ||
                     (sendable(c) > 0 && !(f & SRV_TLS_WRITE_WANTS_READ));
    int want_read = !(c->flags & SRV_CLIENT_READ_PAUSED) || (f & SRV_TLS_WRITE_WANTS_READ);
    write_interest(c, want_write);
    int reading = event_pending(c->ev_read, EV_READ, NULL) != 0;
    if (want_read && !reading) event_add(c->ev_read, NULL);
    else if (!want_read && reading) event_del(c->ev_read);
    if (!(c->flags & (SRV_CLIENT_READ_PAUSED | SRV_CLIENT_BLOCKED | SRV_CLIENT_CLOSE_AFTER_REPLY |
                      SRV_CLIENT_CLOSE_ASAP)) &&
        !srv.shutdown_asap && !(f & SRV_TLS_HANDSHAKING) && srv_tls_pending(c) > 0)
        event_active(c->ev_read, EV_READ, 0);
}

static void tls_event(srv_client *c, short what)
{
    if (c->tls_flags & SRV_TLS_HANDSHAKING) {
        int rc = srv_tls_handshake(c);
        if (rc < 0) c->flags |= SRV_CLIENT_CLOSING;
        if (rc <= 0) return;
        if (protected_mode_refuses(c->addr)) {
            srv_reply_raw(c, protected_mode_msg, sizeof protected_mode_msg - 1);
            c->flags |= SRV_CLIENT_CLOSE_AFTER_REPLY;
            after_processing(c, 0);
            return;
        }
        what |= EV_READ; /* requests may have come with the client's last handshake flight */
    }
    unsigned f = c->tls_flags;
    if (((what & EV_READ) && (f & SRV_TLS_WRITE_WANTS_READ)) ||
        ((what & EV_WRITE) && !(f & SRV_TLS_WRITE_WANTS_READ)))
        handle_writable(c);
    if (c->flags & SRV_CLIENT_CLOSING) return;
    if ((what & EV_WRITE) && (f & SRV_TLS_READ_WANTS_WRITE)) what |= EV_READ;
    if (what & (EV_READ | EV_TIMEOUT)) handle_readable(c, what);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    srv_client *c = arg;
    srv_update_time();
    c->flags |= SRV_CLIENT_IN_CALLBACK;
    if (c->ssl) {
        tls_event(c, what);
        tls_sync_events(c);
    } else {
        handle_readable(c, what);
    }
    leave_callback(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    srv_client *c = arg;
    srv_update_time();
    c->flags |= SRV_CLIENT_IN_CALLBACK;
    if (c->ssl) {
        tls_event(c, EV_WRITE);
        tls_sync_events(c);
    } else {
        handle_writable(c);
    }
    leave_callback(c);
}

void srv_client_unblock(srv_client *c)
{
    c->flags &= ~SRV_CLIENT_BLOCKED;
    event_active(c->ev_read, EV_TIMEOUT, 0);
}

/* ---- accepting */

static void format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    snprintf(buf, len, "%s:%d", host, port);
}

static void tune_socket(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (srv.cfg.tcp_keepalive_s > 0) {
        int idle = (int)srv.cfg.tcp_keepalive_s;
        int intvl = idle / 3 > 0 ? idle / 3 : 1;
        int cnt = 3;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int slen,
                      void *arg)
{
    (void)l;
    (void)slen;
    int tls = arg != NULL; /* the tls-port listeners pass a non-NULL argument */
    srv_update_time();
    srv.stats.connections_received++;
    if (srv.shutdown_asap) {
        close(fd);
        return;
    }
    if (srv.client_count >= srv.cfg.maxclients) {
        static const char msg[] = "-ERR max number of clients reached\r\n";
        if (!tls) { /* a TLS client could not read a plain-text error */
            ssize_t ignored = write(fd, msg, sizeof msg - 1);
            (void)ignored;
        }
        close(fd);
        srv.stats.rejected_connections++;
        return;
    }
    char addr[sizeof ((srv_client *)0)->addr];
    format_addr(sa, addr, sizeof addr);
    if (!tls && protected_mode_refuses(addr)) {
        ssize_t ignored = write(fd, protected_mode_msg, sizeof protected_mode_msg - 1);
        (void)ignored;
        close(fd);
        return;
    }
    tune_socket(fd);
    srv_client *c = srv_client_create(fd);
    if (!c) abort();
    memcpy(c->addr, addr, sizeof addr);
    if (tls && srv_tls_attach(c) < 0) {
        srv_log(SRV_LOG_WARNING, "out of memory for a TLS session (client from %s)", addr);
        srv_client_free(c);
        return;
    }
    struct sockaddr_storage local;
    socklen_t llen = sizeof local;
    if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
        format_addr((struct sockaddr *)&local, c->laddr, sizeof c->laddr);
    c->ev_read = event_new(srv.base, fd, EV_READ | EV_PERSIST, on_readable, c);
    c->ev_write = event_new(srv.base, fd, EV_WRITE | EV_PERSIST, on_writable, c);
    if (!c->ev_read || !c->ev_write) abort();
    event_add(c->ev_read, NULL);
    srv_log(SRV_LOG_VERBOSE, "accepted client id=%llu from %s", (unsigned long long)c->id, c->addr);
}

static void on_listener_error(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    /* EMFILE and friends: log and keep listening; the loop retries on the next event. */
    srv_log(SRV_LOG_WARNING, "accept failed: %s", strerror(errno));
}

static int listen_one(const char *addr, int port, int tls)
{
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    const char *host = addr;
    if (strcmp(addr, "*") == 0) {
        host = "0.0.0.0";
    } else if (strcmp(addr, "::*") == 0 || strcmp(addr, "-::*") == 0) {
        host = "::";
    }
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        srv_log(SRV_LOG_WARNING, "cannot resolve bind address '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    unsigned flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    if (res->ai_family == AF_INET6) flags |= LEV_OPT_BIND_IPV6ONLY;
    void *tls_mark = tls ? srv.tls_ctx : NULL; /* on_accept's argument: non-NULL means TLS */
    struct evconnlistener *l = evconnlistener_new_bind(srv.base, on_accept, tls_mark, flags,
                                                       srv.cfg.tcp_backlog, res->ai_addr,
                                                       (int)res->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (!l) {
        srv_log(SRV_LOG_WARNING, "could not listen on %s:%d: %s", addr, port, strerror(err));
        return -1;
    }
    evconnlistener_set_error_cb(l, on_listener_error);
    struct evconnlistener **ls = realloc(srv.listeners, sizeof *ls * (size_t)(srv.listener_count + 1));
    if (!ls) abort();
    srv.listeners = ls;
    srv.listeners[srv.listener_count++] = l;
    srv_log(SRV_LOG_NOTICE, "listening for RESP%s on %s:%d", tls ? " over TLS" : "", addr, port);
    return 0;
}

int srv_net_listen(void)
{
    for (int i = 0; srv.cfg.port != 0 && i < srv.cfg.bind_count; i++)
        if (listen_one(srv.cfg.bind[i], srv.cfg.port, 0) < 0) return -1;
    if (srv.cfg.tls_port != 0 && !srv.tls_ctx) {
        srv_log(SRV_LOG_WARNING, "tls-port is set but the TLS context is not loaded");
        return -1;
    }
    for (int i = 0; srv.cfg.tls_port != 0 && i < srv.cfg.bind_count; i++)
        if (listen_one(srv.cfg.bind[i], srv.cfg.tls_port, 1) < 0) return -1;
    return 0;
}

void srv_net_close_listeners(void)
{
    for (int i = 0; i < srv.listener_count; i++) evconnlistener_free(srv.listeners[i]);
    free(srv.listeners);
    srv.listeners = NULL;
    srv.listener_count = 0;
}

/* ---- timers */

/* Active expiry gets this much time per timer callback; when due keys remain it runs again on
 * the next loop turn, so a mass expiry proceeds in slices and clients are served in between. */
#define EXPIRE_SLICE_US 5000

static void arm_expire_timer(uint64_t at_ms)
{
    uint64_t now = srv_now_ms();
    struct timeval tv = {0, 0};
    if (at_ms > now) {
        uint64_t d = at_ms - now;
        tv.tv_sec = (time_t)(d / 1000);
        tv.tv_usec = (suseconds_t)((d % 1000) * 1000);
    }
    expire_timer_at = at_ms;
    event_add(srv.expire_ev, &tv);
}

void srv_net_note_expiry(uint64_t at_ms)
{
    if (at_ms < expire_timer_at && srv.expire_ev) arm_expire_timer(at_ms);
}

static void on_expire_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    srv_update_time();
    expire_timer_at = UINT64_MAX;
    srv_db_active_expire(EXPIRE_SLICE_US);
    uint64_t next = srv_db_next_expiry();
    if (next != UINT64_MAX) arm_expire_timer(next);
}

static void close_idle_clients(uint64_t now)
{
    if (srv.cfg.timeout_s <= 0) return;
    uint64_t limit = (uint64_t)srv.cfg.timeout_s * 1000;
    srv_list_node *n = srv.clients.next;
    while (n != &srv.clients) {
        srv_client *c = srv_container_of(n, srv_client, node);
        n = n->next;
        if (c->flags & (SRV_CLIENT_BLOCKED | SRV_CLIENT_IN_CALLBACK)) continue;
        if (now - c->last_interaction_ms > limit) {
            srv_log(SRV_LOG_VERBOSE, "closing idle client id=%llu", (unsigned long long)c->id);
            srv_client_close(c);
        }
    }
}

/* Limits that need the clock: TLS handshakes that take too long (a client that connects and
 * sends nothing must not hold a slot), and client-output-buffer-limit's soft limit, which a
 * reader that stopped reading hits without sending anything. */
static void enforce_client_limits(uint64_t now)
{
    uint64_t hs_limit = (uint64_t)srv.cfg.tls_handshake_timeout_s * 1000;
    srv_list_node *n = srv.clients.next;
    while (n != &srv.clients) {
        srv_client *c = srv_container_of(n, srv_client, node);
        n = n->next;
        if (c->flags & (SRV_CLIENT_IN_CALLBACK | SRV_CLIENT_CLOSING)) continue;
        if ((c->tls_flags & SRV_TLS_HANDSHAKING) && now - c->ctime_ms >= hs_limit) {
            srv.stats.tls_handshake_timeouts++;
            srv_log(SRV_LOG_VERBOSE, "closing client id=%llu addr=%s: no TLS handshake within "
                    "tls-handshake-timeout (%lld s)", (unsigned long long)c->id, c->addr,
                    srv.cfg.tls_handshake_timeout_s);
            srv_client_close(c);
        } else if (srv_client_check_output_limits(c, now)) {
            srv_client_close(c);
        }
    }
}

/* Give back buffer memory of clients that have nothing buffered (Redis's query-buffer shrink). */
static void shrink_idle_buffers(void)
{
    for (srv_list_node *n = srv.clients.next; n != &srv.clients; n = n->next) {
        srv_client *c = srv_container_of(n, srv_client, node);
        if (c->qlen == 0 && c->qcap > 2 * SRV_READ_CHUNK && !resp_parser_busy(&c->parser)) {
            free(c->qbuf);
            c->qbuf = NULL;
            c->qcap = 0;
        }
        if (out_pending(c) == 0 && c->out.cap > 2 * SRV_READ_CHUNK) resp_wbuf_shrink(&c->out, 0);
        c->qbuf_peak = c->qlen;
        c->out_peak = c->out.len;
    }
}

/*
 * Give freed heap pages back to the kernel.  glibc returns memory to the system only from the
 * top of its heap, so after a mass expiry, a FLUSHALL or thousands of closed connections the
 * process would keep its peak RSS although the memory is free; malloc_trim(0) releases every
 * free page.  It walks the heap, so it runs at most once a second: whenever the memory we account
 * ourselves (srv_info_tracked_memory: keyspace and client buffers) has dropped by TRIM_STEP_BYTES
 * from its high mark, and once each time the node falls idle (a second with no command and no
 * change to the keyspace, which replicated writes and expiry also make: the load is over, give
 * back what is left).  Nothing here calls mallinfo2: under load its heap walk took milliseconds
 * a call and stalled every client (bench/README.md, "Findings and fixes").
 */
#define TRIM_STEP_BYTES ((size_t)8 << 20) /* 8 MiB: trimming for less is not worth a heap walk */

static void release_free_memory(uint64_t now)
{
    static uint64_t last_ms, last_commands;
    static size_t high, last_dataset;
    static int trimmed_while_idle;
    if (now - last_ms < 1000) return;
    last_ms = now;
    size_t tracked = srv_info_tracked_memory(), dataset = srv_db_memory();
    int idle = srv.stats.commands_processed == last_commands && dataset == last_dataset;
    last_commands = srv.stats.commands_processed;
    last_dataset = dataset;
    if (tracked > high) high = tracked;
    if (high - tracked < TRIM_STEP_BYTES) {
        if (!idle) {
            trimmed_while_idle = 0;
            return;
        }
        if (trimmed_while_idle) return;
    }
    trimmed_while_idle = idle;
    malloc_trim(0);
    high = tracked;
}

/* A client still has work during shutdown: replies to send, or requests it sent before the
 * shutdown began that have not run yet (a partial request counts too, until the deadline). */
static int client_draining(const srv_client *c)
{
    return out_pending(c) > 0 || (c->qpos < c->qlen && !(c->flags & SRV_CLIENT_CLOSE_AFTER_REPLY));
}

static void check_shutdown(uint64_t now)
{
    int busy = 0;
    srv_list_node *n = srv.clients.next;
    while (n != &srv.clients) {
        srv_client *c = srv_container_of(n, srv_client, node);
        n = n->next;
        if (client_draining(c) && now < shutdown_deadline_ms) busy = 1;
        else if (!(c->flags & SRV_CLIENT_IN_CALLBACK)) srv_client_close(c);
    }
    if (!busy) event_base_loopbreak(srv.base);
}

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    srv_update_time();
    uint64_t now = srv_now_ms();
    if (srv.shutdown_asap) {
        check_shutdown(now);
        return;
    }
    close_idle_clients(now);
    enforce_client_limits(now);
    shrink_idle_buffers();
    release_free_memory(now);
    srv_info_cron();
    srv_db_rehash(1000);
    if (srv_db_next_expiry() <= now && expire_timer_at > now) arm_expire_timer(now);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    srv_log(SRV_LOG_NOTICE, "received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    srv_net_shutdown(0);
}

int srv_net_start(void)
{
    long us = 1000000L / srv.cfg.hz;
    struct timeval tv = {us / 1000000L, us % 1000000L};
    srv.cron_ev = event_new(srv.base, -1, EV_PERSIST, on_cron, NULL);
    srv.expire_ev = evtimer_new(srv.base, on_expire_timer, NULL);
    srv.sigterm_ev = evsignal_new(srv.base, SIGTERM, on_signal, NULL);
    srv.sigint_ev = evsignal_new(srv.base, SIGINT, on_signal, NULL);
    if (!srv.cron_ev || !srv.expire_ev || !srv.sigterm_ev || !srv.sigint_ev) return -1;
    event_add(srv.cron_ev, &tv);
    event_add(srv.sigterm_ev, NULL);
    event_add(srv.sigint_ev, NULL);
    return 0;
}

void srv_net_update_hz(void)
{
    if (!srv.cron_ev) return;
    long us = 1000000L / srv.cfg.hz;
    struct timeval tv = {us / 1000000L, us % 1000000L};
    event_add(srv.cron_ev, &tv);
}

void srv_net_stop(void)
{
    if (srv.cron_ev) event_free(srv.cron_ev);
    if (srv.expire_ev) event_free(srv.expire_ev);
    if (srv.sigterm_ev) event_free(srv.sigterm_ev);
    if (srv.sigint_ev) event_free(srv.sigint_ev);
    srv.cron_ev = srv.expire_ev = srv.sigterm_ev = srv.sigint_ev = NULL;
}

void srv_net_shutdown(int exit_code)
{
    if (srv.shutdown_asap) return;
    srv.shutdown_asap = 1;
    srv.exit_code = exit_code;
    shutdown_deadline_ms = srv_now_ms() + 2000;
    srv_net_close_listeners();
    srv_http_close_listeners(); /* HTTP requests still arriving are answered 503 */
    /* Stop reading: requests already received still run and their replies are flushed (the hz
     * timer below closes each client once it has nothing left), new input is not taken. */
    for (srv_list_node *n = srv.clients.next; n != &srv.clients; n = n->next) {
        srv_client *c = srv_container_of(n, srv_client, node);
        if (!(c->flags & SRV_CLIENT_READ_PAUSED)) {
            c->flags |= SRV_CLIENT_READ_PAUSED;
            event_del(c->ev_read);
        }
    }
    /* Run the cron soon so clients with nothing pending are closed at once. */
    struct timeval tv = {0, 1000};
    event_add(srv.cron_ev, &tv);
}

void srv_net_free_clients(void)
{
    while (!srv_list_empty(&srv.clients)) {
        srv_client *c = srv_container_of(srv.clients.next, srv_client, node);
        srv_client_free(c);
    }
}
