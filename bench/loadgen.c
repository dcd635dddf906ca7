/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loadgen.c: a closed-loop RESP load generator for `make bench` (scenario 4, replicated writes).
 *
 * What: opens C connections to one server, and on each keeps exactly one request in flight: it
 * sends a request, waits for its reply (or replies), records the latency, and sends the next.
 * A request is `SET key:<12 random digits> <value> EX <seconds>`, optionally followed in the same
 * write() by `WAIT <replicas> <timeout-ms>` (Redis's way of waiting for replica acknowledgements);
 * the latency of such a pair runs from the write() to the WAIT reply.  GET and PING modes exist
 * for calibration.  It stops after N requests or T seconds, whichever comes first, then waits at
 * most DRAIN_TIMEOUT_MS for the replies still in flight, and prints one line of key=value pairs:
 *
 *   requests=... seconds=... rps=... p50_ms=... p90_ms=... p99_ms=... p999_ms=... max_ms=...
 *   errors=... wait_short=... unanswered=...
 *
 * `errors` counts error replies (and unexpected reply types), `wait_short` WAIT replies smaller
 * than the requested replica count (a WAIT that timed out), `unanswered` requests still without
 * a reply at the end.  The exit status is 0 when all three are 0, 1 otherwise, 2 on a usage or
 * connection error.
 *
 * Why not redis-benchmark: it has no way to send SET and WAIT as one unit per client and time
 * them together, and it needs a full core of its own at 50 clients, which on a two-core machine
 * takes CPU from the servers under test.  This program is one thread with epoll and uses
 * hiredis only for its reply reader (redisReader), so framing is checked strictly.
 *
 * Latencies are kept one per request (8 bytes each, up to the request limit) and sorted at the
 * end; percentiles are nearest-rank.  Event-loop: one thread; start reading at main().
 */
#include <hiredis.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long replies still in flight are waited for once the run has ended, in milliseconds:
 * longer than any WAIT timeout we send (1000 ms) so a slow WAIT is counted, not dropped. */
#define DRAIN_TIMEOUT_MS 3000
/* Bytes read from a socket per read() call. */
#define READ_CHUNK 16384
/* Longest request we build: two commands with a value of at most MAX_VALUE bytes. */
#define MAX_VALUE 4096
#define REQ_CAP (MAX_VALUE + 256)
/* Requests slower than this (ms) are written to the -S file, with when they started, so that
 * stalls can be lined up with what the servers were doing at the time. */
#define SLOW_MS 20

enum mode { MODE_SET, MODE_GET, MODE_PING };

struct options {
    const char *host;
    const char *port;
    int clients;
    uint64_t requests;
    double seconds;
    size_t value_bytes;
    uint64_t keyspace;
    long ex_seconds;
    int wait_replicas;  /* -1: no WAIT */
    long wait_timeout_ms;
    enum mode mode;
    uint64_t seed;
    const char *slow_log; /* -S: file that gets one line per request slower than SLOW_MS */
};

struct conn {
    int fd;
    redisReader *reader;
    char req[REQ_CAP];
    size_t req_len;
    size_t req_sent;
    int replies_due; /* replies still expected for the request in flight */
    int in_flight;
    uint64_t started_ns;
};

static struct options opt = {
    .host = "127.0.0.1",
    .port = "6379",
    .clients = 1,
    .requests = 10000,
    .seconds = 10.0,
    .value_bytes = 100,
    .keyspace = 1000000,
    .ex_seconds = 300,
    .wait_replicas = -1,
    .wait_timeout_ms = 1000,
    .mode = MODE_SET,
    .seed = 1,
};

static char value_buf[MAX_VALUE];
static uint64_t *lat_ns;
static uint64_t issued, completed, errors, wait_short;
static uint64_t last_done_ns; /* when the latest reply completed a request */
static uint64_t rng_state;
static int epfd;
static FILE *slow_file;
static uint64_t run_start_ns;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: cheap, and the same seed gives the same key sequence in every run. */
static uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen [-h host] [-p port] [-c clients] [-n requests] [-T seconds]\n"
            "               [-m set|get|ping] [-d value-bytes] [-r keyspace] [-e ex-seconds]\n"
            "               [-w wait-replicas] [-W wait-timeout-ms] [-s seed]\n"
            "               [-S slow-log-file]\n"
            "  -w N appends WAIT N <timeout> to every SET (Redis replication); default: no WAIT\n"
            "  -S F writes 'start-ms latency-ms connection' for every request slower than %d ms\n",
            SLOW_MS);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv)
{
    int ch;
    uint64_t v;
    while ((ch = getopt(argc, argv, "h:p:c:n:T:m:d:r:e:w:W:s:S:")) != -1) {
        switch (ch) {
        case 'h': opt.host = optarg; break;
        case 'p': opt.port = optarg; break;
        case 'c':
            if (parse_u64(optarg, &v) != 0 || v < 1 || v > 10000)
                return -1;
            opt.clients = (int)v;
            break;
        case 'n':
            if (parse_u64(optarg, &v) != 0 || v < 1 || v > 100000000)
                return -1;
            opt.requests = v;
            break;
        case 'T':
            opt.seconds = atof(optarg);
            if (opt.seconds <= 0)
                return -1;
            break;
        case 'm':
            if (strcmp(optarg, "set") == 0)
                opt.mode = MODE_SET;
            else if (strcmp(optarg, "get") == 0)
                opt.mode = MODE_GET;
            else if (strcmp(optarg, "ping") == 0)
                opt.mode = MODE_PING;
            else
                return -1;
            break;
        case 'd':
            if (parse_u64(optarg, &v) != 0 || v > MAX_VALUE)
                return -1;
            opt.value_bytes = (size_t)v;
            break;
        case 'r':
            if (parse_u64(optarg, &v) != 0 || v < 1 || v > UINT64_C(1000000000000))
                return -1;
            opt.keyspace = v;
            break;
        case 'e':
            if (parse_u64(optarg, &v) != 0 || v > 100000000)
                return -1;
            opt.ex_seconds = (long)v;
            break;
        case 'w':
            if (parse_u64(optarg, &v) != 0 || v > 100)
                return -1;
            opt.wait_replicas = (int)v;
            break;
        case 'W':
            if (parse_u64(optarg, &v) != 0 || v > 100000)
                return -1;
            opt.wait_timeout_ms = (long)v;
            break;
        case 's':
            if (parse_u64(optarg, &v) != 0)
                return -1;
            opt.seed = v ? v : 1;
            break;
        case 'S': opt.slow_log = optarg; break;
        default: return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

/* Build the next request into c->req.  Keys are "key:" plus 12 digits, like redis-benchmark's
 * __rand_int__, so both tools write the same key shapes. */
static void build_request(struct conn *c)
{
    char key[32];
    int klen = snprintf(key, sizeof(key), "key:%012llu",
                        (unsigned long long)(rng_next() % opt.keyspace));
    int n = 0;
    switch (opt.mode) {
    case MODE_SET: {
        char ex[24];
        int exlen = snprintf(ex, sizeof(ex), "%ld", opt.ex_seconds);
        n = snprintf(c->req, REQ_CAP, "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%zu\r\n", klen, key,
                     opt.value_bytes);
        memcpy(c->req + n, value_buf, opt.value_bytes);
        n += (int)opt.value_bytes;
        n += snprintf(c->req + n, REQ_CAP - (size_t)n, "\r\n$2\r\nEX\r\n$%d\r\n%s\r\n", exlen, ex);
        c->replies_due = 1;
        if (opt.wait_replicas >= 0) {
            char w[16], t[24];
            int wl = snprintf(w, sizeof(w), "%d", opt.wait_replicas);
            int tl = snprintf(t, sizeof(t), "%ld", opt.wait_timeout_ms);
            n += snprintf(c->req + n, REQ_CAP - (size_t)n, "*3\r\n$4\r\nWAIT\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
                          wl, w, tl, t);
            c->replies_due = 2;
        }
        break;
    }
    case MODE_GET:
        n = snprintf(c->req, REQ_CAP, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", klen, key);
        c->replies_due = 1;
        break;
    case MODE_PING:
        n = snprintf(c->req, REQ_CAP, "*1\r\n$4\r\nPING\r\n");
        c->replies_due = 1;
        break;
    }
    c->req_len = (size_t)n;
    c->req_sent = 0;
}

static void set_events(struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what is left of the request; arm EPOLLOUT only when the kernel does not take it all. */
static int send_pending(struct conn *c)
{
    while (c->req_sent < c->req_len) {
        ssize_t w = write(c->fd, c->req + c->req_sent, c->req_len - c->req_sent);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_events(c, EPOLLIN | EPOLLOUT);
                return 0;
            }
            perror("loadgen: write");
            return -1;
        }
        c->req_sent += (size_t)w;
    }
    return 0;
}

static int issue(struct conn *c)
{
    build_request(c);
    c->in_flight = 1;
    issued++;
    c->started_ns = now_ns();
    return send_pending(c);
}

/* Check one reply against what the request expects. */
static void check_reply(const struct conn *c, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR) {
        if (errors < 5)
            fprintf(stderr, "loadgen: error reply: %.*s\n", (int)r->len, r->str);
        errors++;
        return;
    }
    int is_wait_reply = opt.mode == MODE_SET && opt.wait_replicas >= 0 && c->replies_due == 1;
    if (is_wait_reply) {
        if (r->type != REDIS_REPLY_INTEGER)
            errors++;
        else if (r->integer < opt.wait_replicas)
            wait_short++;
    } else if (opt.mode == MODE_SET || opt.mode == MODE_PING) {
        if (r->type != REDIS_REPLY_STATUS)
            errors++;
    } else if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_NIL) {
        errors++;
    }
}

/* Read what the socket has and consume every complete reply.  Returns 1 when the request in
 * flight completed, 0 when more is due, -1 on a connection or protocol error. */
static int receive(struct conn *c)
{
    char buf[READ_CHUNK];
    for (;;) {
        ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            perror("loadgen: read");
            return -1;
        }
        if (r == 0) {
            fprintf(stderr, "loadgen: server closed the connection\n");
            return -1;
        }
        if (redisReaderFeed(c->reader, buf, (size_t)r) != REDIS_OK)
            return -1;
        if ((size_t)r < sizeof(buf))
            break;
    }
    int done = 0;
    for (;;) {
        void *reply = NULL;
        if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
            fprintf(stderr, "loadgen: protocol error: %s\n", c->reader->errstr);
            return -1;
        }
        if (reply == NULL)
            break;
        if (!c->in_flight) {
            freeReplyObject(reply);
            fprintf(stderr, "loadgen: reply with no request in flight\n");
            return -1;
        }
        check_reply(c, reply);
        freeReplyObject(reply);
        if (--c->replies_due == 0) {
            last_done_ns = now_ns();
            lat_ns[completed++] = last_done_ns - c->started_ns;
            if (slow_file && last_done_ns - c->started_ns > (uint64_t)SLOW_MS * 1000000u)
                fprintf(slow_file, "%.3f %.3f %d\n", (double)(c->started_ns - run_start_ns) / 1e6,
                        (double)(last_done_ns - c->started_ns) / 1e6, c->fd);
            c->in_flight = 0;
            done = 1;
        }
    }
    return done;
}

static int connect_one(struct conn *c)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    int rc = getaddrinfo(opt.host, opt.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "loadgen: %s:%s: %s\n", opt.host, opt.port, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        fprintf(stderr, "loadgen: cannot connect to %s:%s: %s\n", opt.host, opt.port, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    c->reader = redisReaderCreate();
    if (c->reader == NULL) {
        close(fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static double pct_ms(double p)
{
    if (completed == 0)
        return 0.0;
    uint64_t rank = (uint64_t)(p * (double)completed + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > completed)
        rank = completed;
    return (double)lat_ns[rank - 1] / 1e6;
}

/* The event loop.  Issues new requests until the count or the time runs out, then only
 * collects replies until every connection is idle or the drain time-out passes. */
static int run(struct conn *conns, uint64_t *elapsed_ns)
{
    struct epoll_event events[256];
    uint64_t start = now_ns();
    run_start_ns = start;
    uint64_t stop_at = start + (uint64_t)(opt.seconds * 1e9);
    uint64_t drain_until = 0;
    int issuing = 1;
    int in_flight = 0;

    for (int i = 0; i < opt.clients && issued < opt.requests; i++) {
        if (issue(&conns[i]) != 0)
            return -1;
        in_flight++;
    }
    while (in_flight > 0) {
        uint64_t t = now_ns();
        if (issuing && (t >= stop_at || issued >= opt.requests)) {
            issuing = 0;
            drain_until = t + (uint64_t)DRAIN_TIMEOUT_MS * 1000000u;
        }
        if (!issuing && t >= drain_until)
            break;
        int n = epoll_wait(epfd, events, 256, 100);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("loadgen: epoll_wait");
            return -1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (events[i].events & EPOLLOUT) {
                if (send_pending(c) != 0)
                    return -1;
                if (c->req_sent == c->req_len)
                    set_events(c, EPOLLIN);
            }
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                int rc = receive(c);
                if (rc < 0)
                    return -1;
                if (rc == 1) {
                    in_flight--;
                    if (issuing && issued < opt.requests) {
                        if (issue(c) != 0)
                            return -1;
                        in_flight++;
                    }
                }
            }
        }
    }
    *elapsed_ns = completed > 0 ? last_done_ns - start : 0;
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) != 0) {
        usage();
        return 2;
    }
    memset(value_buf, 'x', sizeof(value_buf));
    rng_state = opt.seed * UINT64_C(0x9E3779B97F4A7C15) | 1;
    lat_ns = malloc(opt.requests * sizeof(*lat_ns));
    struct conn *conns = calloc((size_t)opt.clients, sizeof(*conns));
    epfd = epoll_create1(0);
    if (lat_ns == NULL || conns == NULL || epfd < 0) {
        fprintf(stderr, "loadgen: out of memory\n");
        return 2;
    }
    for (int i = 0; i < opt.clients; i++) {
        if (connect_one(&conns[i]) != 0)
            return 2;
    }
    if (opt.slow_log != NULL && (slow_file = fopen(opt.slow_log, "w")) == NULL) {
        perror(opt.slow_log);
        return 2;
    }
    if (slow_file) {
        struct timespec wall;
        clock_gettime(CLOCK_REALTIME, &wall);
        fprintf(slow_file, "# run start (unix ms) %.3f\n",
                (double)wall.tv_sec * 1e3 + (double)wall.tv_nsec / 1e6);
    }
    uint64_t elapsed = 0;
    if (run(conns, &elapsed) != 0)
        return 2;

    uint64_t unanswered = issued - completed;
    qsort(lat_ns, completed, sizeof(*lat_ns), cmp_u64);
    /* Throughput: completed requests over the time from the first send to the last reply. */
    double secs = (double)elapsed / 1e9;
    printf("requests=%llu seconds=%.3f rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f "
           "max_ms=%.3f errors=%llu wait_short=%llu unanswered=%llu\n",
           (unsigned long long)completed, secs,
           secs > 0 ? (double)completed / secs : 0.0,
           pct_ms(0.50), pct_ms(0.90), pct_ms(0.99), pct_ms(0.999),
           completed ? (double)lat_ns[completed - 1] / 1e6 : 0.0, (unsigned long long)errors,
           (unsigned long long)wait_short, (unsigned long long)unanswered);
    for (int i = 0; i < opt.clients; i++) {
        if (conns[i].reader != NULL)
            redisReaderFree(conns[i].reader);
        if (conns[i].fd > 0)
            close(conns[i].fd);
    }
    free(conns);
    free(lat_ns);
    if (slow_file)
        fclose(slow_file);
    close(epfd);
    return errors == 0 && wait_short == 0 && unanswered == 0 ? 0 : 1;
}
