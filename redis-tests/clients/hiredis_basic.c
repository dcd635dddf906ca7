/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hiredis_basic.c: black-box checks of the server with hiredis (Debian's 0.14.1, RESP2 only).
 *
 * Usage: hiredis_basic PORT [HOST].  Each check prints one TAP line, "ok - hiredis: NAME" or
 * "not ok - hiredis: NAME" followed by "#   detail" lines; the exit status is 1 when any check
 * failed, 2 when the server cannot be reached at all.
 *
 * Why a separate C program: hiredis is what C applications (and our own SDK) use, and its reply
 * reader is strict about RESP2 framing, so a malformed length or a missing CRLF in a reply shows
 * up here as a protocol error rather than as a silently wrong value.  Every socket call has a
 * time-out (redisSetTimeout), so a server that stops answering makes a check fail instead of
 * hanging the suite.
 *
 * It includes <hiredis.h> only: the tests are a black box and use no project header.
 */
#include <hiredis.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* Commands sent in the pipelining check: half SET, half GET, so order mistakes show. */
#define PIPELINE_COMMANDS 1000
/* Size of the large binary value: big enough to cross several socket reads on both sides. */
#define BIG_VALUE_BYTES (1024 * 1024)
/* Per-call socket time-out in seconds. */
#define IO_TIMEOUT_S 10

static int failures;
static char detail[512];

static void tap(int ok, const char *name)
{
    printf("%s - hiredis: %s\n", ok ? "ok" : "not ok", name);
    if (!ok) {
        failures++;
        printf("#   %s\n", detail);
    }
    detail[0] = '\0';
    fflush(stdout);
}

static void set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_detail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
}

static const char *type_name(int type)
{
    switch (type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "unknown";
    }
}

/* Send argv (binary-safe) and return the reply, or NULL with detail set. */
static redisReply *cmd(redisContext *c, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (r == NULL)
        set_detail("no reply to %s: %s", argv[0], c->errstr[0] ? c->errstr : "connection lost");
    return r;
}

/* The reply must be of TYPE; for strings, statuses and errors also equal to TEXT (if given). */
static int expect(redisReply *r, int type, const char *text)
{
    if (r == NULL)
        return 0;
    if (r->type != type) {
        set_detail("reply type %s, want %s (%.*s)", type_name(r->type), type_name(type),
                   (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
                    r->type == REDIS_REPLY_ERROR) ? (int)(r->len > 200 ? 200 : r->len) : 0,
                   r->str ? r->str : "");
        return 0;
    }
    if (text != NULL && (r->len != strlen(text) || memcmp(r->str, text, r->len) != 0)) {
        set_detail("reply \"%.*s\", want \"%s\"", (int)(r->len > 200 ? 200 : r->len), r->str, text);
        return 0;
    }
    return 1;
}

static int expect_int(redisReply *r, long long want)
{
    if (!expect(r, REDIS_REPLY_INTEGER, NULL))
        return 0;
    if (r->integer != want) {
        set_detail("integer %lld, want %lld", r->integer, want);
        return 0;
    }
    return 1;
}

/* Run one command given as NUL-terminated words and check its reply; frees the reply. */
static int run_expect(redisContext *c, int type, const char *text, int argc, ...)
{
    const char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 16; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    redisReply *r = cmd(c, argc, argv, NULL);
    int ok = expect(r, type, text);
    freeReplyObject(r);
    return ok;
}

static int run_int(redisContext *c, long long want, int argc, ...)
{
    const char *argv[16];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 16; i++)
        argv[i] = va_arg(ap, const char *);
    va_end(ap);
    redisReply *r = cmd(c, argc, argv, NULL);
    int ok = expect_int(r, want);
    freeReplyObject(r);
    return ok;
}

static int check_binary_values(redisContext *c)
{
    /* Every byte value, CR/LF and NUL inside both key and value. */
    char key[] = {'h', 'r', ':', 'b', '\0', '\r', '\n', 'k'};
    char small[512];
    for (size_t i = 0; i < sizeof(small); i++)
        small[i] = (char)(i & 0xff);
    const char *set[] = {"SET", key, small};
    size_t set_len[] = {3, sizeof(key), sizeof(small)};
    redisReply *r = cmd(c, 3, set, set_len);
    int ok = expect(r, REDIS_REPLY_STATUS, "OK");
    freeReplyObject(r);
    if (!ok)
        return 0;
    const char *get[] = {"GET", key};
    size_t get_len[] = {3, sizeof(key)};
    r = cmd(c, 2, get, get_len);
    ok = expect(r, REDIS_REPLY_STRING, NULL);
    if (ok && (r->len != sizeof(small) || memcmp(r->str, small, sizeof(small)) != 0)) {
        set_detail("value read back differs (length %zu, want %zu)", r->len, sizeof(small));
        ok = 0;
    }
    freeReplyObject(r);
    return ok;
}

static int check_big_value(redisContext *c)
{
    char *big = malloc(BIG_VALUE_BYTES);
    if (big == NULL) {
        set_detail("out of memory");
        return 0;
    }
    unsigned x = 12345;
    for (size_t i = 0; i < BIG_VALUE_BYTES; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (char)(x >> 16);
    }
    const char *set[] = {"SET", "hr:big", big, "EX", "60"};
    size_t set_len[] = {3, 6, BIG_VALUE_BYTES, 2, 2};
    redisReply *r = cmd(c, 5, set, set_len);
    int ok = expect(r, REDIS_REPLY_STATUS, "OK");
    freeReplyObject(r);
    if (ok) {
        r = redisCommand(c, "GET hr:big");
        if (r == NULL)
            set_detail("no reply to GET: %s", c->errstr);
        ok = expect(r, REDIS_REPLY_STRING, NULL);
        if (ok && (r->len != BIG_VALUE_BYTES || memcmp(r->str, big, BIG_VALUE_BYTES) != 0)) {
            set_detail("1 MiB value read back differs (length %zu)", r->len);
            ok = 0;
        }
        freeReplyObject(r);
    }
    if (ok)
        ok = run_int(c, BIG_VALUE_BYTES, 2, "STRLEN", "hr:big");
    free(big);
    return ok;
}

static int check_pipeline(redisContext *c)
{
    char key[32], val[32];
    for (int i = 0; i < PIPELINE_COMMANDS / 2; i++) {
        snprintf(key, sizeof(key), "hr:p:%d", i);
        snprintf(val, sizeof(val), "value-%d", i);
        const char *set[] = {"SET", key, val, "EX", "60"};
        const char *get[] = {"GET", key};
        if (redisAppendCommandArgv(c, 5, set, NULL) != REDIS_OK ||
            redisAppendCommandArgv(c, 2, get, NULL) != REDIS_OK) {
            set_detail("redisAppendCommandArgv failed: %s", c->errstr);
            return 0;
        }
    }
    int ok = 1;
    for (int i = 0; i < PIPELINE_COMMANDS; i++) {
        void *reply = NULL;
        if (redisGetReply(c, &reply) != REDIS_OK) {
            set_detail("redisGetReply failed at reply %d: %s", i, c->errstr);
            return 0;
        }
        redisReply *r = reply;
        if (ok) {
            if (i % 2 == 0) {
                ok = expect(r, REDIS_REPLY_STATUS, "OK");
            } else {
                snprintf(val, sizeof(val), "value-%d", i / 2);
                ok = expect(r, REDIS_REPLY_STRING, val);
            }
            if (!ok) {
                char keep[sizeof(detail)];
                memcpy(keep, detail, sizeof(keep));
                set_detail("reply %d: %s", i, keep);
            }
        }
        freeReplyObject(r);
    }
    return ok;
}

static int check_nil(redisContext *c)
{
    run_expect(c, REDIS_REPLY_INTEGER, NULL, 2, "DEL", "hr:nil");
    if (!run_expect(c, REDIS_REPLY_NIL, NULL, 2, "GET", "hr:nil"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_STATUS, "OK", 3, "SET", "hr:nil", "x"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_NIL, NULL, 4, "SET", "hr:nil", "y", "NX"))
        return 0;
    redisReply *r = redisCommand(c, "MGET hr:nil hr:nothing");
    if (r == NULL) {
        set_detail("no reply to MGET: %s", c->errstr);
        return 0;
    }
    int ok = expect(r, REDIS_REPLY_ARRAY, NULL);
    if (ok && r->elements != 2) {
        set_detail("MGET returned %zu elements, want 2", r->elements);
        ok = 0;
    }
    if (ok)
        ok = expect(r->element[0], REDIS_REPLY_STRING, "x") &&
             expect(r->element[1], REDIS_REPLY_NIL, NULL);
    freeReplyObject(r);
    if (ok)
        ok = run_expect(c, REDIS_REPLY_NIL, NULL, 2, "GETDEL", "hr:nothing");
    return ok;
}

static int check_integers(redisContext *c)
{
    run_expect(c, REDIS_REPLY_INTEGER, NULL, 2, "DEL", "hr:n");
    return run_int(c, 1, 2, "INCR", "hr:n") && run_int(c, 11, 3, "INCRBY", "hr:n", "10") &&
           run_int(c, -9223372036854775796LL, 3, "DECRBY", "hr:n", "9223372036854775807") &&
           run_int(c, 1, 3, "EXPIRE", "hr:n", "100") && run_int(c, 100, 2, "TTL", "hr:n") &&
           run_int(c, -2, 2, "TTL", "hr:none") && run_int(c, 0, 3, "EXPIRE", "hr:none", "5") &&
           run_int(c, 1, 3, "EXISTS", "hr:n", "hr:none");
}

static int check_errors(redisContext *c)
{
    if (!run_expect(c, REDIS_REPLY_ERROR,
                    "ERR unknown command 'foobar', with args beginning with: 'a' 'b' ", 3,
                    "foobar", "a", "b"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_ERROR, "ERR wrong number of arguments for 'get' command", 1,
                    "GET"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_ERROR, "ERR syntax error", 5, "SET", "hr:e", "v", "NX", "XX"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_STATUS, "OK", 3, "SET", "hr:e", "abc"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_ERROR, "ERR value is not an integer or out of range", 2, "INCR",
                    "hr:e"))
        return 0;
    if (!run_expect(c, REDIS_REPLY_ERROR, "ERR invalid expire time in 'set' command", 5, "SET",
                    "hr:e", "v", "EX", "0"))
        return 0;
    /* The connection is still usable after error replies. */
    return run_expect(c, REDIS_REPLY_STATUS, "PONG", 1, "PING");
}

static int check_multi_exec(redisContext *c)
{
    if (!run_expect(c, REDIS_REPLY_STATUS, "OK", 1, "MULTI") ||
        !run_expect(c, REDIS_REPLY_STATUS, "QUEUED", 3, "SET", "hr:tx", "5") ||
        !run_expect(c, REDIS_REPLY_STATUS, "QUEUED", 2, "INCR", "hr:tx") ||
        !run_expect(c, REDIS_REPLY_STATUS, "QUEUED", 2, "GET", "hr:nothing"))
        return 0;
    redisReply *r = redisCommand(c, "EXEC");
    if (r == NULL) {
        set_detail("no reply to EXEC: %s", c->errstr);
        return 0;
    }
    int ok = expect(r, REDIS_REPLY_ARRAY, NULL);
    if (ok && r->elements != 3) {
        set_detail("EXEC returned %zu elements, want 3", r->elements);
        ok = 0;
    }
    if (ok)
        ok = expect(r->element[0], REDIS_REPLY_STATUS, "OK") && expect_int(r->element[1], 6) &&
             expect(r->element[2], REDIS_REPLY_NIL, NULL);
    freeReplyObject(r);
    return ok;
}

static int check_quit(redisContext *c)
{
    if (!run_expect(c, REDIS_REPLY_STATUS, "OK", 1, "QUIT"))
        return 0;
    redisReply *r = redisCommand(c, "PING");
    if (r != NULL) {
        set_detail("the connection still answers after QUIT (reply type %s)", type_name(r->type));
        freeReplyObject(r);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    const char *host = argc > 2 ? argv[2] : "127.0.0.1";
    struct timeval tv = {IO_TIMEOUT_S, 0};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (c == NULL || c->err) {
        set_detail("cannot connect to %s:%d: %s", host, port, c ? c->errstr : "out of memory");
        tap(0, "connect");
        redisFree(c);
        return 2;
    }
    redisSetTimeout(c, tv);
    tap(run_expect(c, REDIS_REPLY_STATUS, "PONG", 1, "PING"), "connect and PING");
    tap(check_binary_values(c), "SET/GET binary-safe key and value (NUL, CR, LF, every byte)");
    tap(check_big_value(c), "SET/GET a 1 MiB binary value");
    tap(check_pipeline(c), "pipelining 1000 commands (redisAppendCommandArgv/redisGetReply)");
    tap(check_nil(c), "nil replies (GET, SET NX, MGET element, GETDEL)");
    tap(check_integers(c), "integer replies (INCR, INCRBY, DECRBY, EXPIRE, TTL, EXISTS)");
    tap(check_errors(c), "error replies with Redis's exact texts");
    tap(check_multi_exec(c), "MULTI/EXEC array reply");
    tap(check_quit(c), "QUIT replies OK and closes");
    redisFree(c);
    return failures ? 1 : 0;
}
