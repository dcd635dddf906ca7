/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client.c: the network half of librepram.  A repram client is a hiredis 0.14 blocking context
 * plus a copy of the key context; every operation blinds the key name, seals or opens the value
 * (crypto.c) and speaks plain Redis commands: SET name blob EX ttl, GET, DEL, TTL, EXISTS.  Any
 * Redis-protocol server works, which is also how the tests run against Debian's redis-server.
 *
 * Errors.  Each call returns one REPRAM_ERR_* code and leaves a message in db->errstr.  Failures
 * that leave the byte stream in an unknown state (connect failure, time-out, broken connection,
 * protocol violation, AUTH refused at connect) are sticky: the hiredis context is dropped and every
 * later call returns the same code until repram_reset.  Replies such as "-ERR ..." are not sticky:
 * the stream is still in step.  Time-outs come from hiredis as REDIS_ERR_IO with errno EAGAIN
 * (SO_RCVTIMEO/SO_SNDTIMEO expired) or ETIMEDOUT (connect); errno is read right after the call.
 *
 * Batches.  mput/mget append up to PIPE_MAX_CMDS commands (or PIPE_MAX_BYTES of request) and then
 * read their replies, window after window.  Why windows: writing an unbounded batch before reading
 * anything can deadlock against a server that stops reading a client whose replies pile up (repram
 * applies exactly that backpressure), and it would hold the whole batch in memory twice.
 *
 * SIGPIPE.  hiredis 0.14 writes with write(2), so a peer that closed the socket would raise
 * SIGPIPE and kill a host process that did not ignore it.  A library may not change the process's
 * signal disposition, so around each network exchange the calling thread blocks SIGPIPE, and a
 * SIGPIPE that became pending meanwhile is consumed before the old mask comes back.
 *
 * Threads: a client belongs to one thread at a time (like a hiredis context).  Start reading at
 * repram_put.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "repram_internal.h"

/* Commands appended before their replies are read in mput/mget (see "Batches" above). */
#define PIPE_MAX_CMDS 256
/* Request bytes appended before replies are read in mput: bounds the client's output buffer. */
#define PIPE_MAX_BYTES ((size_t)8 << 20)
/* Marks a batch item whose command was sent and whose reply is awaited (never a result code). */
#define ITEM_PENDING 1
/* Longest time-out accepted, in ms (one day): larger values are certainly mistakes. */
#define TIMEOUT_MAX_MS 86400000

struct repram {
    repram_keys *keys;
    char *host;
    int port;
    int connect_timeout_ms;
    int io_timeout_ms;
    char *username;
    char *password;
    redisContext *rc; /* NULL while not connected */
    int err;          /* sticky error, REPRAM_OK when none */
    char errstr[REPRAM_ERRSTR_MAX];
};

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(repram *db, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(db->errstr, sizeof(db->errstr), fmt, ap);
    va_end(ap);
    return code;
}

static void disconnect(repram *db)
{
    if (db->rc != NULL) redisFree(db->rc);
    db->rc = NULL;
}

/* Make code sticky: drop the connection, so nothing more is read from a stream out of step. */
static int sticky(repram *db, int code)
{
    disconnect(db);
    db->err = code;
    return code;
}

/* ---- SIGPIPE guard ----------------------------------------------------------------------- */

typedef struct pipe_guard {
    sigset_t old;
    int was_pending;
} pipe_guard;

static void guard_enter(pipe_guard *g)
{
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->was_pending = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
}

static void guard_leave(pipe_guard *g)
{
    int saved = errno;
    sigset_t set, pending;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigemptyset(&pending);
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    errno = saved;
}

/* ---- errors from hiredis ----------------------------------------------------------------- */

/* The hiredis context failed (a NULL reply or REDIS_ERR); saved_errno is errno right after. */
static int context_failure(repram *db, int saved_errno, const char *what)
{
    const redisContext *c = db->rc;
    int code = REPRAM_ERR_CONNECTION;
    if (c->err == REDIS_ERR_IO &&
        (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT))
        code = REPRAM_ERR_TIMEOUT;
    else if (c->err == REDIS_ERR_PROTOCOL)
        code = REPRAM_ERR_PROTOCOL;
    else if (c->err == REDIS_ERR_OOM)
        code = REPRAM_ERR_NOMEM;
    if (code == REPRAM_ERR_TIMEOUT)
        fail(db, code, "%s: no answer from %s:%d within %d ms", what, db->host, db->port,
             db->io_timeout_ms);
    else
        fail(db, code, "%s: %s:%d: %s", what, db->host, db->port, c->errstr);
    return sticky(db, code);
}

/* An error reply: NOAUTH and WRONGPASS are authentication errors, the rest server errors. */
static int reply_failure(repram *db, const redisReply *r, const char *what)
{
    int code = REPRAM_ERR_SERVER;
    if (r->len >= 6 && (strncmp(r->str, "NOAUTH", 6) == 0 ||
                        (r->len >= 9 && strncmp(r->str, "WRONGPASS", 9) == 0)))
        code = REPRAM_ERR_AUTH;
    int n = r->len > 200 ? 200 : (int)r->len;
    return fail(db, code, "%s: server replied: %.*s", what, n, r->str);
}

static int unexpected(repram *db, const redisReply *r, const char *what)
{
    fail(db, REPRAM_ERR_PROTOCOL, "%s: unexpected reply of type %d from %s:%d", what, r->type,
         db->host, db->port);
    return sticky(db, REPRAM_ERR_PROTOCOL);
}

/* ---- lifecycle --------------------------------------------------------------------------- */

void repram_config_init(repram_config *cfg)
{
    if (cfg == NULL) return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->host = "127.0.0.1";
    cfg->port = 6379;
    cfg->connect_timeout_ms = 2000;
    cfg->io_timeout_ms = 5000;
}

static char *dup_str(const char *s, int *nomem)
{
    if (s == NULL) return NULL;
    char *d = strdup(s);
    if (d == NULL) *nomem = 1;
    return d;
}

int repram_create(repram **out, const repram_config *cfg, const repram_keys *keys)
{
    if (out == NULL || cfg == NULL || keys == NULL) return REPRAM_ERR_INVALID;
    if (cfg->port < 1 || cfg->port > 65535 || cfg->connect_timeout_ms < 1 ||
        cfg->connect_timeout_ms > TIMEOUT_MAX_MS || cfg->io_timeout_ms < 1 ||
        cfg->io_timeout_ms > TIMEOUT_MAX_MS)
        return REPRAM_ERR_INVALID;
    repram *db = calloc(1, sizeof(*db));
    if (db == NULL) return REPRAM_ERR_NOMEM;
    int nomem = 0;
    db->host = dup_str(cfg->host != NULL ? cfg->host : "127.0.0.1", &nomem);
    db->username = dup_str(cfg->username, &nomem);
    db->password = dup_str(cfg->password, &nomem);
    db->keys = repram_keys_dup(keys);
    if (nomem || db->keys == NULL) {
        repram_free(db);
        return REPRAM_ERR_NOMEM;
    }
    db->port = cfg->port;
    db->connect_timeout_ms = cfg->connect_timeout_ms;
    db->io_timeout_ms = cfg->io_timeout_ms;
    *out = db;
    return REPRAM_OK;
}

static void wipe_str(char *s)
{
    if (s == NULL) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void repram_free(repram *db)
{
    if (db == NULL) return;
    disconnect(db);
    repram_keys_free(db->keys);
    free(db->host);
    wipe_str(db->username);
    wipe_str(db->password);
    OPENSSL_cleanse(db, sizeof(*db));
    free(db);
}

const char *repram_errstr(const repram *db)
{
    return db == NULL ? "no client" : db->errstr;
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

/* Send AUTH on a fresh connection; a refusal is sticky (no command could succeed anyway). */
static int authenticate(repram *db)
{
    const char *argv[3] = {"AUTH", NULL, NULL};
    size_t lens[3] = {4, 0, 0};
    int argc = 1;
    if (db->username != NULL) {
        argv[argc] = db->username;
        lens[argc++] = strlen(db->username);
    }
    argv[argc] = db->password;
    lens[argc++] = strlen(db->password);
    pipe_guard g;
    guard_enter(&g);
    redisReply *r = redisCommandArgv(db->rc, argc, argv, lens);
    int saved = errno;
    guard_leave(&g);
    if (r == NULL) return context_failure(db, saved, "AUTH");
    int rc = REPRAM_OK;
    if (r->type == REDIS_REPLY_ERROR) {
        reply_failure(db, r, "AUTH");
        rc = sticky(db, REPRAM_ERR_AUTH);
    } else if (r->type != REDIS_REPLY_STATUS) {
        rc = unexpected(db, r, "AUTH");
    }
    freeReplyObject(r);
    return rc;
}

static int do_connect(repram *db)
{
    redisContext *c = redisConnectWithTimeout(db->host, db->port, ms_to_tv(db->connect_timeout_ms));
    int saved = errno;
    if (c == NULL) return fail(db, REPRAM_ERR_NOMEM, "connect: out of memory");
    if (c->err != 0) {
        int code = c->err == REDIS_ERR_IO && saved == ETIMEDOUT ? REPRAM_ERR_TIMEOUT
                                                                : REPRAM_ERR_CONNECT;
        if (code == REPRAM_ERR_TIMEOUT)
            fail(db, code, "connect to %s:%d: no answer within %d ms", db->host, db->port,
                 db->connect_timeout_ms);
        else
            fail(db, code, "connect to %s:%d: %s", db->host, db->port, c->errstr);
        redisFree(c);
        return sticky(db, code);
    }
    db->rc = c;
    if (redisSetTimeout(c, ms_to_tv(db->io_timeout_ms)) != REDIS_OK)
        return context_failure(db, errno, "connect");
    if (db->password != NULL) return authenticate(db);
    return REPRAM_OK;
}

/* Start of every operation: fail fast on a sticky error, connect when needed. */
static int begin(repram *db)
{
    if (db->err != REPRAM_OK) return db->err;
    db->errstr[0] = '\0';
    if (db->rc == NULL) return do_connect(db);
    return REPRAM_OK;
}

int repram_connect(repram *db)
{
    if (db == NULL) return REPRAM_ERR_INVALID;
    return begin(db);
}

int repram_reset(repram *db)
{
    if (db == NULL) return REPRAM_ERR_INVALID;
    disconnect(db);
    db->err = REPRAM_OK;
    db->errstr[0] = '\0';
    return do_connect(db);
}

/* ---- single commands --------------------------------------------------------------------- */

/* One command, one reply.  Error replies become SERVER/AUTH; *out is set only on success. */
static int command(repram *db, const char *what, int argc, const char **argv, const size_t *lens,
                   redisReply **out)
{
    pipe_guard g;
    guard_enter(&g);
    redisReply *r = redisCommandArgv(db->rc, argc, argv, lens);
    int saved = errno;
    guard_leave(&g);
    if (r == NULL) return context_failure(db, saved, what);
    if (r->type == REDIS_REPLY_ERROR) {
        int rc = reply_failure(db, r, what);
        freeReplyObject(r);
        return rc;
    }
    *out = r;
    return REPRAM_OK;
}

static int check_key(const void *key, size_t key_len)
{
    return key == NULL && key_len > 0 ? REPRAM_ERR_INVALID : REPRAM_OK;
}

/* Blind key into stored (at least REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1 bytes). */
static int blind(repram *db, const char *what, const void *key, size_t key_len, char *stored,
                 size_t *stored_len)
{
    int rc = repram_blind(db->keys, key, key_len, stored, REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1,
                          stored_len);
    if (rc != REPRAM_OK) return fail(db, rc, "%s: %s", what, repram_strerror(rc));
    return REPRAM_OK;
}

/* Seal one value for its stored name with a fresh nonce. */
static int seal(repram *db, const char *stored, size_t stored_len, const void *value,
                size_t value_len, void **blob, size_t *blob_len)
{
    uint8_t nonce[RP_NONCE_LEN];
    if (RAND_bytes(nonce, sizeof(nonce)) != 1) return REPRAM_ERR_CRYPTO;
    return repram_seal_stored(db->keys, stored, stored_len, value, value_len, nonce, blob,
                              blob_len);
}

static int put_args_ok(const void *key, size_t key_len, const void *value, size_t value_len,
                       long long ttl_s)
{
    if (check_key(key, key_len) != REPRAM_OK || (value == NULL && value_len > 0) || ttl_s < 1)
        return REPRAM_ERR_INVALID;
    if (value_len > REPRAM_VALUE_MAX) return REPRAM_ERR_TOO_LARGE;
    return REPRAM_OK;
}

int repram_put(repram *db, const void *key, size_t key_len, const void *value, size_t value_len,
               long long ttl_s)
{
    if (db == NULL) return REPRAM_ERR_INVALID;
    int rc = put_args_ok(key, key_len, value, value_len, ttl_s);
    if (rc != REPRAM_OK) return fail(db, rc, "put: %s", repram_strerror(rc));
    if ((rc = begin(db)) != REPRAM_OK) return rc;
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
    size_t stored_len;
    void *blob = NULL;
    size_t blob_len = 0;
    if ((rc = blind(db, "put", key, key_len, stored, &stored_len)) != REPRAM_OK) return rc;
    rc = seal(db, stored, stored_len, value, value_len, &blob, &blob_len);
    if (rc != REPRAM_OK) return fail(db, rc, "put: %s", repram_strerror(rc));
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%lld", ttl_s);
    const char *argv[5] = {"SET", stored, blob, "EX", ttl};
    size_t lens[5] = {3, stored_len, blob_len, 2, strlen(ttl)};
    redisReply *r = NULL;
    rc = command(db, "put", 5, argv, lens, &r);
    repram_buf_free(blob);
    if (rc != REPRAM_OK) return rc;
    if (r->type != REDIS_REPLY_STATUS) rc = unexpected(db, r, "put");
    freeReplyObject(r);
    return rc;
}

/* Turn a GET reply into a value (opened for stored) or an error code. */
static int open_reply(repram *db, const redisReply *r, const char *stored, size_t stored_len,
                      void **value, size_t *value_len, const char *what)
{
    if (r->type == REDIS_REPLY_NIL) return fail(db, REPRAM_ERR_NOT_FOUND, "%s: key not found", what);
    if (r->type == REDIS_REPLY_ERROR) return reply_failure(db, r, what);
    if (r->type != REDIS_REPLY_STRING) return unexpected(db, r, what);
    int rc = repram_open_stored(db->keys, stored, stored_len, r->str, r->len, value, value_len);
    if (rc != REPRAM_OK) return fail(db, rc, "%s: %s", what, repram_strerror(rc));
    return REPRAM_OK;
}

int repram_get(repram *db, const void *key, size_t key_len, void **value, size_t *value_len)
{
    if (value != NULL) *value = NULL;
    if (db == NULL || value == NULL || value_len == NULL || check_key(key, key_len) != REPRAM_OK)
        return db == NULL ? REPRAM_ERR_INVALID : fail(db, REPRAM_ERR_INVALID, "get: invalid argument");
    int rc = begin(db);
    if (rc != REPRAM_OK) return rc;
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
    size_t stored_len;
    if ((rc = blind(db, "get", key, key_len, stored, &stored_len)) != REPRAM_OK) return rc;
    const char *argv[2] = {"GET", stored};
    size_t lens[2] = {3, stored_len};
    redisReply *r = NULL;
    if ((rc = command(db, "get", 2, argv, lens, &r)) != REPRAM_OK) return rc;
    rc = open_reply(db, r, stored, stored_len, value, value_len, "get");
    freeReplyObject(r);
    return rc;
}

/* A command on one stored name whose reply must be an integer. */
static int int_command(repram *db, const char *cmd, const char *what, const void *key,
                       size_t key_len, long long *result)
{
    if (check_key(key, key_len) != REPRAM_OK)
        return fail(db, REPRAM_ERR_INVALID, "%s: invalid argument", what);
    int rc = begin(db);
    if (rc != REPRAM_OK) return rc;
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
    size_t stored_len;
    if ((rc = blind(db, what, key, key_len, stored, &stored_len)) != REPRAM_OK) return rc;
    const char *argv[2] = {cmd, stored};
    size_t lens[2] = {strlen(cmd), stored_len};
    redisReply *r = NULL;
    if ((rc = command(db, what, 2, argv, lens, &r)) != REPRAM_OK) return rc;
    if (r->type == REDIS_REPLY_INTEGER)
        *result = r->integer;
    else
        rc = unexpected(db, r, what);
    freeReplyObject(r);
    return rc;
}

int repram_del(repram *db, const void *key, size_t key_len)
{
    if (db == NULL) return REPRAM_ERR_INVALID;
    long long n = 0;
    int rc = int_command(db, "DEL", "del", key, key_len, &n);
    if (rc == REPRAM_OK && n == 0) rc = fail(db, REPRAM_ERR_NOT_FOUND, "del: key not found");
    return rc;
}

int repram_ttl(repram *db, const void *key, size_t key_len, long long *ttl_s)
{
    if (db == NULL || ttl_s == NULL) return REPRAM_ERR_INVALID;
    long long n = 0;
    int rc = int_command(db, "TTL", "ttl", key, key_len, &n);
    if (rc != REPRAM_OK) return rc;
    if (n == -2) return fail(db, REPRAM_ERR_NOT_FOUND, "ttl: key not found");
    *ttl_s = n;
    return REPRAM_OK;
}

int repram_exists(repram *db, const void *key, size_t key_len, int *exists)
{
    if (db == NULL || exists == NULL) return REPRAM_ERR_INVALID;
    long long n = 0;
    int rc = int_command(db, "EXISTS", "exists", key, key_len, &n);
    if (rc == REPRAM_OK) *exists = n > 0;
    return rc;
}

/* ---- batches ----------------------------------------------------------------------------- */

/* Bookkeeping of one mput/mget: which item failed first (by index) and with what message. */
typedef struct batch {
    repram *db;
    const char *what;
    size_t first_idx; /* valid when first_code != REPRAM_OK */
    int first_code;
    char first_msg[REPRAM_ERRSTR_MAX];
} batch;

/* Item i failed with code; db->errstr holds its message, or is empty. */
static void batch_note(batch *b, size_t i, int code)
{
    if (b->first_code != REPRAM_OK && i >= b->first_idx) return;
    b->first_idx = i;
    b->first_code = code;
    const char *msg = b->db->errstr[0] != '\0' ? b->db->errstr : repram_strerror(code);
    snprintf(b->first_msg, sizeof(b->first_msg), "%s: item %zu: %.200s", b->what, i, msg);
}

/* Read one pending reply.  On a context failure the error is sticky and *r stays NULL. */
static int next_reply(repram *db, const char *what, redisReply **r)
{
    void *reply = NULL;
    pipe_guard g;
    guard_enter(&g);
    int ok = redisGetReply(db->rc, &reply);
    int saved = errno;
    guard_leave(&g);
    if (ok != REDIS_OK || reply == NULL) return context_failure(db, saved, what);
    *r = reply;
    return REPRAM_OK;
}

static int batch_end(batch *b)
{
    if (b->first_code == REPRAM_OK) {
        b->db->errstr[0] = '\0';
        return REPRAM_OK;
    }
    memcpy(b->db->errstr, b->first_msg, sizeof(b->first_msg));
    return b->first_code;
}

/* Append SET for item i; its status becomes ITEM_PENDING or an error.  Returns request bytes. */
static size_t mput_append(repram *db, repram_put_item *it)
{
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
    size_t stored_len;
    void *blob = NULL;
    size_t blob_len = 0;
    int s = repram_blind(db->keys, it->key, it->key_len, stored, sizeof(stored), &stored_len);
    if (s == REPRAM_OK) s = seal(db, stored, stored_len, it->value, it->value_len, &blob, &blob_len);
    if (s == REPRAM_OK) {
        char ttl[24];
        snprintf(ttl, sizeof(ttl), "%lld", it->ttl_s);
        const char *argv[5] = {"SET", stored, blob, "EX", ttl};
        size_t lens[5] = {3, stored_len, blob_len, 2, strlen(ttl)};
        s = redisAppendCommandArgv(db->rc, 5, argv, lens) == REDIS_OK ? ITEM_PENDING
                                                                    : REPRAM_ERR_NOMEM;
    }
    repram_buf_free(blob);
    it->status = s;
    return blob_len + stored_len + 64;
}

int repram_mput(repram *db, repram_put_item *items, size_t n)
{
    if (db == NULL || (items == NULL && n > 0)) return REPRAM_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        int rc = put_args_ok(items[i].key, items[i].key_len, items[i].value, items[i].value_len,
                             items[i].ttl_s);
        if (rc != REPRAM_OK) {
            for (size_t j = 0; j < n; j++) items[j].status = rc;
            return fail(db, rc, "mput: item %zu: %s", i, repram_strerror(rc));
        }
    }
    int rc = begin(db);
    if (rc != REPRAM_OK) {
        for (size_t j = 0; j < n; j++) items[j].status = rc;
        return rc;
    }
    batch b = {.db = db, .what = "mput"};
    for (size_t i = 0; i < n;) {
        size_t start = i, bytes = 0;
        for (; i < n && i - start < PIPE_MAX_CMDS && bytes < PIPE_MAX_BYTES; i++) {
            db->errstr[0] = '\0';
            bytes += mput_append(db, &items[i]);
            if (items[i].status != ITEM_PENDING) batch_note(&b, i, items[i].status);
        }
        for (size_t j = start; j < i; j++) {
            if (items[j].status != ITEM_PENDING) continue;
            redisReply *r = NULL;
            db->errstr[0] = '\0';
            int s = next_reply(db, "mput", &r);
            if (s == REPRAM_OK) {
                if (r->type == REDIS_REPLY_ERROR) s = reply_failure(db, r, "SET");
                else if (r->type != REDIS_REPLY_STATUS) s = unexpected(db, r, "SET");
                freeReplyObject(r);
            }
            items[j].status = s;
            if (s == REPRAM_OK) continue;
            batch_note(&b, j, s);
            if (db->err != REPRAM_OK) { /* sticky: nothing more can be read or sent */
                for (size_t k = j + 1; k < n; k++)
                    if (k >= i || items[k].status == ITEM_PENDING) items[k].status = s;
                return batch_end(&b);
            }
        }
    }
    return batch_end(&b);
}

int repram_mget(repram *db, repram_get_item *items, size_t n)
{
    if (db == NULL || (items == NULL && n > 0)) return REPRAM_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        items[i].value = NULL;
        items[i].value_len = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_key(items[i].key, items[i].key_len) != REPRAM_OK) {
            for (size_t j = 0; j < n; j++) items[j].status = REPRAM_ERR_INVALID;
            return fail(db, REPRAM_ERR_INVALID, "mget: item %zu: invalid argument", i);
        }
    }
    int rc = begin(db);
    if (rc != REPRAM_OK) {
        for (size_t j = 0; j < n; j++) items[j].status = rc;
        return rc;
    }
    batch b = {.db = db, .what = "mget"};
    char stored[REPRAM_PREFIX_MAX + REPRAM_NAME_LEN + 1];
    size_t stored_len;
    for (size_t i = 0; i < n;) {
        size_t start = i;
        for (; i < n && i - start < PIPE_MAX_CMDS; i++) {
            int s = repram_blind(db->keys, items[i].key, items[i].key_len, stored, sizeof(stored),
                                 &stored_len);
            if (s == REPRAM_OK) {
                const char *argv[2] = {"GET", stored};
                size_t lens[2] = {3, stored_len};
                s = redisAppendCommandArgv(db->rc, 2, argv, lens) == REDIS_OK ? ITEM_PENDING
                                                                            : REPRAM_ERR_NOMEM;
            }
            items[i].status = s;
            db->errstr[0] = '\0';
            if (s != ITEM_PENDING) batch_note(&b, i, s);
        }
        for (size_t j = start; j < i; j++) {
            if (items[j].status != ITEM_PENDING) continue;
            redisReply *r = NULL;
            db->errstr[0] = '\0';
            int s = next_reply(db, "mget", &r);
            if (s == REPRAM_OK) {
                /* Blinding cannot fail here: it succeeded for this item when it was appended. */
                s = repram_blind(db->keys, items[j].key, items[j].key_len, stored, sizeof(stored),
                                 &stored_len);
                if (s == REPRAM_OK)
                    s = open_reply(db, r, stored, stored_len, &items[j].value,
                                   &items[j].value_len, "GET");
                freeReplyObject(r);
            }
            items[j].status = s;
            if (s == REPRAM_OK || s == REPRAM_ERR_NOT_FOUND) continue;
            batch_note(&b, j, s);
            if (db->err != REPRAM_OK) {
                for (size_t k = j + 1; k < n; k++)
                    if (k >= i || items[k].status == ITEM_PENDING) items[k].status = s;
                return batch_end(&b);
            }
        }
    }
    return batch_end(&b);
}
