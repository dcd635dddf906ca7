/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_http.c: libFuzzer target for the HTTP request path: whatever bytes a client sends on one
 * connection to http-port, through libevent's evhttp parser, http.c (connection tracking, the
 * read-header scanner, X-Forwarded-For for trusted proxies, the rate limiter, replies) and
 * http_api.c (routing, percent-decoding of keys, ?ttl= and X-TTL parsing, the bearer token,
 * /v1/keys paging with prefix, limit, cursor and encoding), down to the keyspace.
 *
 * The seam: the real server code, in process, on a loopback socket of its own.  Rejected: a
 * request struct handed straight to the handlers, which would skip evhttp's parser and
 * http.c's own header scanner (the parts that see raw bytes first), and would need evhttp
 * request objects built by hand.  One input = one connection: connect, send the input, close
 * our sending side, run the loop until the server closes or goes quiet, then empty the
 * keyspace so runs do not depend on each other.
 *
 * Configuration, chosen once so every code path is reachable from the input: a write token
 * ("fuzz-token"), 127.0.0.0/8 as trusted proxies (X-Forwarded-For is parsed), the rate limiter
 * on but too generous to refuse, small limits (4 KiB headers, 64 KiB bodies, 512-byte keys).
 *
 * Checks: no crash or sanitizer report; the reply starts with a status line and a three-digit
 * status; the server never sends more than a bound per input (a reply loop would show); once the
 * client has gone, the server holds no HTTP connection (none leaks).
 * Build and run: `make fuzz` (the Makefile); seeds in server/fuzz/corpus_http/.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/commands.h"
#include "server/config.h"
#include "server/db.h"
#include "server/http.h"
#include "server/log.h"
#include "server/replica.h"
#include "server/server.h"

srv_server srv; /* main.c's, which the target does not link */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loop turns without any byte from the server before a run gives up waiting. */
#define QUIET_TURNS 50
/* Most bytes the server may send for one input before we call it a runaway. */
#define MAX_REPLY_BYTES (64u << 20)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_http: check failed at line %d: %s\n", __LINE__, #cond);  \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

static struct sockaddr_in server_addr;

static void set(const char *name, const char *value)
{
    char err[256];
    const srv_option *o = config_find_option(name);
    if (!o || config_set_option(&srv.cfg, o, value, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_http: cannot set %s: %s\n", name, o ? err : "unknown option");
        abort();
    }
}

/* A port nothing listens on (the kernel's choice). */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(s, (struct sockaddr *)&a, &len) == 0);
    close(s);
    return ntohs(a.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char port[16];
    srv_list_init(&srv.clients);
    CHECK(config_init(&srv.cfg) == 0);
    snprintf(port, sizeof port, "%d", free_port());
    set("port", "0");
    set("bind", "127.0.0.1");
    set("http-port", port);
    set("http-write-token", "fuzz-token");
    set("http-trusted-proxies", "127.0.0.0/8 ::1");
    set("http-rate-limit", "100000000");
    set("http-rate-burst", "100000000");
    set("http-max-header-size", "4kb");
    set("http-max-body", "64kb");
    set("loglevel", "warning");
    srv_log_level = SRV_LOG_WARNING + 1; /* quiet: refused requests are the normal case here */
    srv.pid = getpid();
    snprintf(srv.hostname, sizeof srv.hostname, "fuzz");
    srv.start_ms = srv.stat_reset_ms = srv_now_ms();
    CHECK(srv_db_init() == 0 && srv_commands_init() == 0);
    srv.base = event_base_new();
    CHECK(srv.base != NULL);
    CHECK(srv_http_start() == 0);
    CHECK(srv_repl_start() == 0);
    server_addr.sin_family = AF_INET;
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_addr.sin_port = htons((uint16_t)srv.cfg.http_port);
    return 0;
}

/* The first reply starts with a status line: "HTTP/x.y NNN " (evhttp answers with the
 * request's version, whatever digits it had). */
static void check_replies(const char *buf, size_t len)
{
    const char *sp = len > 5 ? memchr(buf, ' ', len < 24 ? len : 24) : NULL;
    if (len < 24 || !sp) return;
    CHECK(memcmp(buf, "HTTP/", 5) == 0);
    CHECK(sp[1] >= '1' && sp[1] <= '5' && sp[2] >= '0' && sp[2] <= '9' && sp[4] == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char reply[1 << 16];
    size_t reply_len = 0, total = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    /* Close with a reset: thousands of inputs a second would otherwise fill the ephemeral
     * ports with TIME_WAIT sockets within a minute. */
    struct linger lg = {1, 0};
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    if (connect(fd, (struct sockaddr *)&server_addr, sizeof server_addr) != 0) {
        /* libFuzzer's timer signal can interrupt connect; it then completes on its own. */
        struct pollfd p = {fd, POLLOUT, 0};
        int err = errno, soerr = 0;
        socklen_t len = sizeof soerr;
        if (err == EINTR && poll(&p, 1, 5000) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
            err = 0;
        if (err) {
            fprintf(stderr, "fuzz_http: connect: %s\n", strerror(err ? err : soerr));
            abort();
        }
    }
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    size_t sent = 0;
    int quiet = 0, closed = 0;
    while (!closed && quiet < QUIET_TURNS) {
        if (sent < size) {
            ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0) sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN) sent = size; /* the server closed already */
            if (sent == size) shutdown(fd, SHUT_WR);
        }
        event_base_loop(srv.base, EVLOOP_NONBLOCK);
        int got = 0;
        for (;;) {
            char buf[8192];
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n > 0) {
                got = 1;
                total += (size_t)n;
                CHECK(total <= MAX_REPLY_BYTES);
                size_t room = sizeof reply - reply_len;
                size_t take = (size_t)n < room ? (size_t)n : room;
                memcpy(reply + reply_len, buf, take);
                reply_len += take;
                continue;
            }
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = 1;
            break;
        }
        quiet = got ? 0 : quiet + 1;
    }
    check_replies(reply, reply_len);
    close(fd);
    /* Let the server see the close and free the connection (it must: a connection that
     * outlives its client is a leak), then forget the keys. */
    for (int i = 0; i < 200 && srv_http_connection_count() > 0; i++)
        event_base_loop(srv.base, EVLOOP_NONBLOCK);
    CHECK(srv_http_connection_count() == 0);
    srv_db_flush();
    return 0;
}
