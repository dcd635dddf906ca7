/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_client.c: the network half of librepram (client.c) against a fake RESP server that runs in
 * a thread of this process on a loopback port.  The fake is a tiny key-value store (SET ... EX,
 * GET, DEL, TTL, EXISTS, AUTH) with switches for misbehaviour: never answer, close at once, send
 * garbage, replace the next reply, refuse long TTLs, demand AUTH.  So every error path (connect
 * refused and timed out, I/O time-out, lost connection, protocol violation, server and auth
 * errors, sticky errors and reset) is tested without a real server; the integration suite
 * (redis-tests/harness/suite-sdk) repeats the important ones against a real one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdk/repram.h"

/* ---- the fake server --------------------------------------------------------------------- */

enum { FAKE_KV, FAKE_SILENT, FAKE_CLOSE, FAKE_GARBAGE };

#define FAKE_MAX_KEYS 2048
#define FAKE_MAX_ARGS 8

typedef struct entry {
    char *key;
    size_t key_len;
    char *val;
    size_t val_len;
    long long ttl;
} entry;

typedef struct fake {
    int lfd;
    int port;
    pthread_t thread;
    atomic_int stop;
    pthread_mutex_t mu; /* guards everything below */
    int mode;
    const char *user, *pass; /* demanded by AUTH when pass != NULL */
    long long max_ttl;       /* SET ... EX above this is refused */
    const char *override;    /* raw reply for the next command, once */
    int connections;
    int commands;
    entry e[FAKE_MAX_KEYS];
    int n;
} fake;

static void send_all(int fd, const void *p, size_t len)
{
    const char *b = p;
    while (len > 0) {
        ssize_t w = send(fd, b, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        b += w;
        len -= (size_t)w;
    }
}

static void send_fmt(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void send_fmt(int fd, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    send_all(fd, buf, (size_t)n);
}

/* One complete "*N\r\n$len\r\n...": 1 and *used, or 0 when more bytes are needed. */
static int parse(const char *b, size_t len, int *argc, const char **argv, size_t *argl, size_t *used)
{
    size_t p = 0;
    if (len < 4 || b[0] != '*') return 0;
    char *end;
    long n = strtol(b + 1, &end, 10);
    p = (size_t)(end - b) + 2;
    if (p > len || n < 1 || n > FAKE_MAX_ARGS) return 0;
    for (long i = 0; i < n; i++) {
        if (p + 4 > len || b[p] != '$') return 0;
        long l = strtol(b + p + 1, &end, 10);
        size_t q = (size_t)(end - b) + 2;
        if (q + (size_t)l + 2 > len) return 0;
        argv[i] = b + q;
        argl[i] = (size_t)l;
        p = q + (size_t)l + 2;
    }
    *argc = (int)n;
    *used = p;
    return 1;
}

static int is(const char *a, size_t l, const char *s)
{
    return l == strlen(s) && strncasecmp(a, s, l) == 0;
}

static entry *lookup(fake *f, const char *k, size_t kl)
{
    for (int i = 0; i < f->n; i++)
        if (f->e[i].key != NULL && f->e[i].key_len == kl && memcmp(f->e[i].key, k, kl) == 0)
            return &f->e[i];
    return NULL;
}

static void drop(entry *e)
{
    free(e->key);
    free(e->val);
    memset(e, 0, sizeof(*e));
}

/* Execute one command under f->mu and reply. */
static void execute(fake *f, int fd, int *authed, int argc, const char **argv, size_t *argl)
{
    f->commands++;
    if (f->override != NULL) {
        send_all(fd, f->override, strlen(f->override));
        f->override = NULL;
        return;
    }
    if (f->mode == FAKE_GARBAGE) {
        send_all(fd, "!@#$\r\n", 6);
        return;
    }
    const char *c = argv[0];
    size_t cl = argl[0];
    if (is(c, cl, "AUTH")) {
        if (f->pass == NULL) {
            send_fmt(fd, "-ERR AUTH <password> called without any password configured\r\n");
        } else {
            const char *u = argc == 3 ? argv[1] : "default";
            size_t ul = argc == 3 ? argl[1] : 7;
            const char *want_u = f->user != NULL ? f->user : "default";
            if (is(u, ul, want_u) && is(argv[argc - 1], argl[argc - 1], f->pass)) {
                *authed = 1;
                send_fmt(fd, "+OK\r\n");
            } else {
                send_fmt(fd, "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
            }
        }
        return;
    }
    if (f->pass != NULL && !*authed) {
        send_fmt(fd, "-NOAUTH Authentication required.\r\n");
        return;
    }
    entry *e = argc >= 2 ? lookup(f, argv[1], argl[1]) : NULL;
    if (is(c, cl, "SET") && argc == 5 && is(argv[3], argl[3], "EX")) {
        long long ttl = strtoll(argv[4], NULL, 10);
        if (f->max_ttl > 0 && ttl > f->max_ttl) {
            send_fmt(fd, "-ERR ttl exceeds max-ttl\r\n");
            return;
        }
        if (e == NULL) {
            for (int i = 0; i < f->n && e == NULL; i++)
                if (f->e[i].key == NULL) e = &f->e[i];
            if (e == NULL && f->n < FAKE_MAX_KEYS) e = &f->e[f->n++];
            if (e == NULL) {
                send_fmt(fd, "-OOM full\r\n");
                return;
            }
        } else {
            drop(e);
        }
        e->key = malloc(argl[1]);
        e->val = malloc(argl[2] + 1);
        memcpy(e->key, argv[1], argl[1]);
        memcpy(e->val, argv[2], argl[2]);
        e->key_len = argl[1];
        e->val_len = argl[2];
        e->ttl = ttl;
        send_fmt(fd, "+OK\r\n");
    } else if (is(c, cl, "GET") && argc == 2) {
        if (e == NULL) {
            send_fmt(fd, "$-1\r\n");
        } else {
            send_fmt(fd, "$%zu\r\n", e->val_len);
            send_all(fd, e->val, e->val_len);
            send_all(fd, "\r\n", 2);
        }
    } else if (is(c, cl, "DEL") && argc == 2) {
        send_fmt(fd, ":%d\r\n", e != NULL);
        if (e != NULL) drop(e);
    } else if (is(c, cl, "TTL") && argc == 2) {
        send_fmt(fd, ":%lld\r\n", e != NULL ? e->ttl : -2);
    } else if (is(c, cl, "EXISTS") && argc == 2) {
        send_fmt(fd, ":%d\r\n", e != NULL);
    } else {
        send_fmt(fd, "-ERR unknown command\r\n");
    }
}

static void serve(fake *f, int fd)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int authed = 0;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r <= 0) break;
        len += (size_t)r;
        pthread_mutex_lock(&f->mu);
        int mode = f->mode;
        pthread_mutex_unlock(&f->mu);
        if (mode == FAKE_SILENT) {
            len = 0;
            continue;
        }
        int argc;
        const char *argv[FAKE_MAX_ARGS];
        size_t argl[FAKE_MAX_ARGS], used;
        size_t off = 0;
        while (parse(buf + off, len - off, &argc, argv, argl, &used)) {
            pthread_mutex_lock(&f->mu);
            execute(f, fd, &authed, argc, argv, argl);
            pthread_mutex_unlock(&f->mu);
            off += used;
        }
        memmove(buf, buf + off, len - off);
        len -= off;
    }
    free(buf);
}

static void *fake_main(void *arg)
{
    fake *f = arg;
    while (!atomic_load(&f->stop)) {
        struct pollfd p = {f->lfd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0) continue;
        pthread_mutex_lock(&f->mu);
        f->connections++;
        int mode = f->mode;
        pthread_mutex_unlock(&f->mu);
        if (mode != FAKE_CLOSE) serve(f, fd);
        close(fd);
    }
    return NULL;
}

/* Listening socket on 127.0.0.1 with an ephemeral port. */
static int listen_any(int backlog, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t al = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static fake *fake_start(int mode)
{
    fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    pthread_mutex_init(&f->mu, NULL);
    f->mode = mode;
    f->lfd = listen_any(16, &f->port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
    return f;
}

static void fake_stop(fake *f)
{
    atomic_store(&f->stop, 1);
    pthread_join(f->thread, NULL);
    close(f->lfd);
    for (int i = 0; i < f->n; i++) drop(&f->e[i]);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

static void fake_set(fake *f, int mode, const char *override)
{
    pthread_mutex_lock(&f->mu);
    f->mode = mode;
    f->override = override;
    pthread_mutex_unlock(&f->mu);
}

/* ---- client helpers ---------------------------------------------------------------------- */

static repram_keys *test_keys(void)
{
    static const char hex[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    repram_keys *k = NULL;
    assert_int_equal(repram_keys_create_text(&k, hex, sizeof(hex) - 1), REPRAM_OK);
    return k;
}

static repram *client(int port, const char *user, const char *pass, int io_ms)
{
    repram_config cfg;
    repram_config_init(&cfg);
    cfg.port = port;
    cfg.username = user;
    cfg.password = pass;
    cfg.io_timeout_ms = io_ms;
    cfg.connect_timeout_ms = 500;
    repram_keys *k = test_keys();
    repram *db = NULL;
    assert_int_equal(repram_create(&db, &cfg, k), REPRAM_OK);
    repram_keys_free(k);
    return db;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int contains(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return 1;
    return 0;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_operations(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_KV);
    repram *db = client(f->port, NULL, NULL, 2000);
    const char *secret = "the eagle lands at midnight";
    assert_int_equal(repram_put(db, "greeting", 8, secret, strlen(secret), 60), REPRAM_OK);
    assert_string_equal(repram_errstr(db), "");

    /* What the server holds: a blinded name and a blob, neither revealing the plaintext. */
    pthread_mutex_lock(&f->mu);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->e[0].key_len, REPRAM_NAME_LEN);
    assert_memory_equal(f->e[0].key, "rp1:", 4);
    assert_false(contains(f->e[0].key, f->e[0].key_len, "greeting"));
    assert_int_equal(f->e[0].val_len, strlen(secret) + REPRAM_BLOB_OVERHEAD);
    assert_false(contains(f->e[0].val, f->e[0].val_len, "eagle"));
    assert_int_equal(f->e[0].ttl, 60);
    pthread_mutex_unlock(&f->mu);

    void *v = NULL;
    size_t vl = 0;
    assert_int_equal(repram_get(db, "greeting", 8, &v, &vl), REPRAM_OK);
    assert_int_equal(vl, strlen(secret));
    assert_string_equal(v, secret);
    repram_buf_free(v);
    int ex = -1;
    assert_int_equal(repram_exists(db, "greeting", 8, &ex), REPRAM_OK);
    assert_int_equal(ex, 1);
    long long ttl = 0;
    assert_int_equal(repram_ttl(db, "greeting", 8, &ttl), REPRAM_OK);
    assert_int_equal(ttl, 60);
    assert_int_equal(repram_del(db, "greeting", 8), REPRAM_OK);
    assert_int_equal(repram_del(db, "greeting", 8), REPRAM_ERR_NOT_FOUND);
    assert_int_equal(repram_get(db, "greeting", 8, &v, &vl), REPRAM_ERR_NOT_FOUND);
    assert_null(v);
    assert_non_null(strstr(repram_errstr(db), "not found"));
    assert_int_equal(repram_ttl(db, "greeting", 8, &ttl), REPRAM_ERR_NOT_FOUND);
    assert_int_equal(repram_exists(db, "greeting", 8, &ex), REPRAM_OK);
    assert_int_equal(ex, 0);
    /* Empty and binary values, binary and empty names. */
    assert_int_equal(repram_put(db, "", 0, NULL, 0, 5), REPRAM_OK);
    assert_int_equal(repram_get(db, "", 0, &v, &vl), REPRAM_OK);
    assert_int_equal(vl, 0);
    repram_buf_free(v);
    assert_int_equal(repram_put(db, "\0\1", 2, "\0\r\n\0", 4, 5), REPRAM_OK);
    assert_int_equal(repram_get(db, "\0\1", 2, &v, &vl), REPRAM_OK);
    assert_int_equal(vl, 4);
    assert_memory_equal(v, "\0\r\n\0", 4);
    repram_buf_free(v);
    assert_int_equal(f->connections, 1); /* one connection for everything */
    repram_free(db);
    fake_stop(f);
}

static void test_server_error_is_not_sticky(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_KV);
    f->max_ttl = 100;
    repram *db = client(f->port, NULL, NULL, 2000);
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 1000), REPRAM_ERR_SERVER);
    assert_non_null(strstr(repram_errstr(db), "ERR ttl exceeds max-ttl"));
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 100), REPRAM_OK);
    assert_string_equal(repram_errstr(db), "");
    repram_free(db);
    fake_stop(f);
}

static void test_auth(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_KV);
    f->pass = "sesame";
    void *v = NULL;
    size_t vl = 0;

    repram *db = client(f->port, NULL, NULL, 2000); /* no password: NOAUTH, not sticky */
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_AUTH);
    assert_non_null(strstr(repram_errstr(db), "NOAUTH"));
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_AUTH);
    repram_free(db);

    db = client(f->port, NULL, "wrong", 2000); /* refused at connect: sticky */
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_AUTH);
    assert_non_null(strstr(repram_errstr(db), "WRONGPASS"));
    int before = f->connections;
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 9), REPRAM_ERR_AUTH);
    assert_int_equal(f->connections, before); /* failed fast, no new connection */
    repram_free(db);

    db = client(f->port, NULL, "sesame", 2000);
    assert_int_equal(repram_connect(db), REPRAM_OK);
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 9), REPRAM_OK);
    repram_free(db);

    f->user = "alice"; /* ACL form: AUTH user password */
    db = client(f->port, "alice", "sesame", 2000);
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_OK);
    repram_buf_free(v);
    repram_free(db);
    fake_stop(f);
}

static void test_connect_refused(void **state)
{
    (void)state;
    int port;
    int fd = listen_any(1, &port);
    close(fd); /* nothing listens there now */
    repram *db = client(port, NULL, NULL, 500);
    assert_int_equal(repram_connect(db), REPRAM_ERR_CONNECT);
    assert_non_null(strstr(repram_errstr(db), "refused"));
    void *v = NULL;
    size_t vl;
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_CONNECT); /* sticky */
    assert_int_equal(repram_reset(db), REPRAM_ERR_CONNECT);
    repram_free(db);
}

static void test_connect_timeout(void **state)
{
    (void)state;
    /* A listener with a full accept queue drops new SYNs, so connecting hangs until time-out. */
    int port;
    int lfd = listen_any(0, &port);
    int filler = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof(a)), 0);
    repram *db = client(port, NULL, NULL, 500);
    long long t0 = now_ms();
    assert_int_equal(repram_connect(db), REPRAM_ERR_TIMEOUT);
    long long took = now_ms() - t0;
    assert_true(took >= 400 && took < 3000);
    assert_non_null(strstr(repram_errstr(db), "500 ms"));
    repram_free(db);
    close(filler);
    close(lfd);
}

static void test_io_timeout_and_reset(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_SILENT);
    repram *db = client(f->port, NULL, NULL, 200);
    void *v = NULL;
    size_t vl;
    long long t0 = now_ms();
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_TIMEOUT);
    long long took = now_ms() - t0;
    assert_true(took >= 150 && took < 3000);
    assert_non_null(strstr(repram_errstr(db), "no answer"));
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 9), REPRAM_ERR_TIMEOUT); /* sticky */
    fake_set(f, FAKE_KV, NULL);
    assert_int_equal(repram_reset(db), REPRAM_OK);
    assert_string_equal(repram_errstr(db), "");
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 9), REPRAM_OK);
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_OK);
    repram_buf_free(v);
    repram_free(db);
    fake_stop(f);
}

static void test_connection_closed(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_CLOSE);
    repram *db = client(f->port, NULL, NULL, 2000);
    void *v = NULL;
    size_t vl;
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_CONNECTION);
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_CONNECTION);
    repram_free(db);
    fake_stop(f);
}

static void test_no_sigpipe(void **state)
{
    (void)state;
    /* The default SIGPIPE action kills the process: writing a large value to a server that has
     * closed the connection must come back as an error instead. */
    signal(SIGPIPE, SIG_DFL);
    fake *f = fake_start(FAKE_CLOSE);
    repram *db = client(f->port, NULL, NULL, 2000);
    size_t len = (size_t)8 << 20;
    char *big = calloc(1, len);
    assert_non_null(big);
    assert_int_equal(repram_connect(db), REPRAM_OK);
    usleep(100 * 1000); /* let the fake close its end */
    int rc = repram_put(db, "k", 1, big, len, 9);
    assert_int_equal(rc, REPRAM_ERR_CONNECTION);
    sigset_t pending;
    sigpending(&pending);
    assert_false(sigismember(&pending, SIGPIPE));
    free(big);
    repram_free(db);
    fake_stop(f);
}

static void test_protocol_errors(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_GARBAGE);
    repram *db = client(f->port, NULL, NULL, 2000);
    void *v = NULL;
    size_t vl;
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_PROTOCOL);
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_PROTOCOL); /* sticky */
    fake_set(f, FAKE_KV, ":5\r\n"); /* well-formed, but not what GET answers */
    assert_int_equal(repram_reset(db), REPRAM_OK);
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_PROTOCOL);
    assert_non_null(strstr(repram_errstr(db), "unexpected reply"));
    fake_set(f, FAKE_KV, "$5\r\nhello\r\n"); /* a string that no SDK wrote: not sticky */
    assert_int_equal(repram_reset(db), REPRAM_OK);
    assert_int_equal(repram_get(db, "k", 1, &v, &vl), REPRAM_ERR_NOT_BLOB);
    assert_null(v);
    assert_int_equal(repram_put(db, "k", 1, "v", 1, 9), REPRAM_OK);
    repram_free(db);
    fake_stop(f);
}

#define BATCH 600 /* more than two pipeline windows of 256 */

static void test_batches(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_KV);
    f->max_ttl = 1000;
    repram *db = client(f->port, NULL, NULL, 2000);
    static char names[BATCH + 10][16], vals[BATCH][32];
    static repram_put_item puts[BATCH];
    static repram_get_item gets[BATCH + 10];
    for (int i = 0; i < BATCH; i++) {
        snprintf(names[i], sizeof(names[i]), "key-%d", i);
        snprintf(vals[i], sizeof(vals[i]), "value number %d", i);
        puts[i] = (repram_put_item){names[i], strlen(names[i]), vals[i], strlen(vals[i]), 100, 99};
    }
    assert_int_equal(repram_mput(db, puts, BATCH), REPRAM_OK);
    for (int i = 0; i < BATCH; i++) assert_int_equal(puts[i].status, REPRAM_OK);
    assert_int_equal(f->n, BATCH);
    assert_int_equal(f->connections, 1);

    for (int i = 0; i < BATCH + 10; i++) {
        if (i >= BATCH) snprintf(names[i], sizeof(names[i]), "missing-%d", i);
        gets[i] = (repram_get_item){names[i], strlen(names[i]), NULL, 0, 99};
    }
    assert_int_equal(repram_mget(db, gets, BATCH + 10), REPRAM_OK);
    for (int i = 0; i < BATCH + 10; i++) {
        if (i < BATCH) {
            assert_int_equal(gets[i].status, REPRAM_OK);
            assert_int_equal(gets[i].value_len, strlen(vals[i]));
            assert_memory_equal(gets[i].value, vals[i], gets[i].value_len);
        } else {
            assert_int_equal(gets[i].status, REPRAM_ERR_NOT_FOUND);
            assert_null(gets[i].value);
        }
        repram_buf_free(gets[i].value);
    }

    /* One item refused by the server: it alone fails, and the batch reports it. */
    puts[17].ttl_s = 5000;
    puts[300].ttl_s = 6000;
    assert_int_equal(repram_mput(db, puts, BATCH), REPRAM_ERR_SERVER);
    assert_non_null(strstr(repram_errstr(db), "item 17"));
    for (int i = 0; i < BATCH; i++)
        assert_int_equal(puts[i].status, i == 17 || i == 300 ? REPRAM_ERR_SERVER : REPRAM_OK);
    puts[17].ttl_s = puts[300].ttl_s = 100;

    /* One stored blob altered on the server: that item is TAMPERED, the rest open. */
    pthread_mutex_lock(&f->mu);
    f->e[5].val[40] ^= 1;
    pthread_mutex_unlock(&f->mu);
    assert_int_equal(repram_mget(db, gets, BATCH), REPRAM_ERR_TAMPERED);
    assert_non_null(strstr(repram_errstr(db), "item 5"));
    for (int i = 0; i < BATCH; i++) {
        assert_int_equal(gets[i].status, i == 5 ? REPRAM_ERR_TAMPERED : REPRAM_OK);
        repram_buf_free(gets[i].value);
    }

    /* Argument errors are found before anything is sent. */
    int before = f->commands;
    puts[3].ttl_s = 0;
    assert_int_equal(repram_mput(db, puts, BATCH), REPRAM_ERR_INVALID);
    assert_int_equal(f->commands, before);
    assert_int_equal(repram_mput(db, puts, 0), REPRAM_OK);
    assert_int_equal(repram_mget(db, gets, 0), REPRAM_OK);
    repram_free(db);
    fake_stop(f);
}

static void test_batch_connection_lost(void **state)
{
    (void)state;
    fake *f = fake_start(FAKE_SILENT);
    repram *db = client(f->port, NULL, NULL, 200);
    repram_get_item gets[3] = {{"a", 1, NULL, 0, 0}, {"b", 1, NULL, 0, 0}, {"c", 1, NULL, 0, 0}};
    assert_int_equal(repram_mget(db, gets, 3), REPRAM_ERR_TIMEOUT);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gets[i].status, REPRAM_ERR_TIMEOUT);
        assert_null(gets[i].value);
    }
    repram_put_item puts[2] = {{"a", 1, "x", 1, 5, 0}, {"b", 1, "y", 1, 5, 0}};
    assert_int_equal(repram_mput(db, puts, 2), REPRAM_ERR_TIMEOUT); /* sticky */
    assert_int_equal(puts[0].status, REPRAM_ERR_TIMEOUT);
    assert_int_equal(puts[1].status, REPRAM_ERR_TIMEOUT);
    repram_free(db);
    fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_operations),
        cmocka_unit_test(test_server_error_is_not_sticky),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_connect_refused),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_io_timeout_and_reset),
        cmocka_unit_test(test_connection_closed),
        cmocka_unit_test(test_no_sigpipe),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_batches),
        cmocka_unit_test(test_batch_connection_lost),
    };
    return cmocka_run_group_tests_name("sdk client", tests, NULL, NULL);
}
