/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_keys.c: the keys-and-TTL command family (Redis's "generic" group plus DBSIZE, FLUSHALL and
 * FLUSHDB): DEL UNLINK EXISTS TOUCH TYPE, TTL PTTL EXPIRETIME PEXPIRETIME, EXPIRE PEXPIRE EXPIREAT
 * PEXPIREAT (NX XX GT LT), PERSIST (refused), KEYS SCAN RANDOMKEY DBSIZE, RENAME RENAMENX COPY,
 * FLUSHALL FLUSHDB.
 *
 * What the user sees is Redis 7.0.15, byte for byte, except where repram's data model differs by
 * design (DESIGN.md section 4):
 *   - every key has a time to live, so TTL/PTTL/EXPIRETIME/PEXPIRETIME never answer -1, EXPIRE NX
 *     never applies (the key always "has an expiry") and EXPIRE XX always does;
 *   - PERSIST is refused with SRV_ERR_PERSIST, for existing and missing keys alike: the command
 *     cannot succeed on any key, and an answer that depends on the key would suggest otherwise;
 *   - an EXPIRE-family value beyond max-ttl is refused (or clamped with ttl-clamp yes) before the
 *     key is looked up, exactly like Redis treats an overflowing value;
 *   - one database: COPY ... DB n accepts only 0, with Redis's text for an out-of-range index;
 *   - TYPE knows only "string"; SCAN TYPE string matches every key, any other type none.
 *
 * Why it looks like this:
 *   - Hot commands (DEL EXISTS TTL EXPIRE) hash each key once (srv_key_from_arg), do one lookup and
 *     allocate nothing.  Every write goes through db.h, never straight to ttl/, so WATCH,
 *     versions and (later) replication see it.
 *   - KEYS and SCAN need their element count before the first element.  Rather than scanning
 *     twice or patching a header into the output buffer, they collect borrowed entry pointers in
 *     one reusable array, then reply.  Rejected: a deferred-length reply helper (a header change
 *     for two commands) and a count pass (matching every key twice).
 *   - SCAN's COUNT follows Redis's loop: keep visiting buckets until COUNT keys were examined (before
 *     MATCH/TYPE filtering), the cursor wraps, or 10 x COUNT buckets were visited, so a selective
 *     MATCH costs the same per call as in Redis.  Unlike Redis, COUNT is capped at scan-max-count
 *     and KEYS refuses a reply of more than keys-max-reply keys (it stops collecting there), so
 *     one call cannot take unbounded time or memory.
 *
 * Invariants:
 *   - Entry pointers in `collected` are borrowed from srv.db and used only before the command
 *     returns; nothing modifies the dictionary between collecting and replying (ttl_dict_scan is
 *     read-only; entries never move when other keys change).
 *   - Each handler replies exactly once.  Option parsers are *_or_reply: on failure the error is
 *     already queued.
 *
 * Threading: event-loop thread only (srv.db and the static buffers below have no locks).
 *
 * Start reading at cmd_expire_generic (the TTL rules), then cmd_scan.
 */
#include "server/commands.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/client.h"
#include "server/db.h"
#include "server/log.h"
#include "server/server.h"
#include "server/util.h"
#include "ttl/ttl.h"

/* ---- small helpers */

/* The argument as Redis's strcasecmp sees it: up to its first NUL byte. */
static size_t cstr_len(const resp_arg *a)
{
    const char *z = memchr(a->ptr, '\0', a->len);
    return z ? (size_t)(z - a->ptr) : a->len;
}

/* Case-insensitive option keyword match, with Redis's C-string view of the argument. */
static int word_eq(const resp_arg *a, const char *word)
{
    return srv_strcaseeq_len(a->ptr, cstr_len(a), word);
}

static void nomem(const char *what)
{
    srv_log(SRV_LOG_WARNING, "out of memory while %s", what);
    abort();
}

/* "ERR <prefix><arg>", the argument cut at its first NUL and stripped of trailing CR/LF, as
 * Redis's addReplyErrorFormat("...%s", arg) produces.  Error path only, so it may allocate. */
static void reply_error_with_arg(srv_client *c, const char *prefix, const resp_arg *arg)
{
    size_t n = cstr_len(arg), plen = strlen(prefix);
    while (n > 0 && (arg->ptr[n - 1] == '\r' || arg->ptr[n - 1] == '\n')) n--;
    char *msg = malloc(plen + n + 1);
    if (!msg) nomem("formatting an error");
    memcpy(msg, prefix, plen);
    memcpy(msg + plen, arg->ptr, n);
    msg[plen + n] = '\0';
    srv_reply_error(c, msg);
    free(msg);
}

/* ---- DEL UNLINK EXISTS TOUCH TYPE */

/* UNLINK is DEL: values are freed at once (a string's memory goes back in O(1) pieces). */
static void cmd_del(srv_client *c, int argc, const resp_arg *argv)
{
    long long deleted = 0;
    for (int i = 1; i < argc; i++) {
        srv_key k;
        srv_key_from_arg(&k, &argv[i]);
        deleted += srv_db_delete(&k);
    }
    srv_reply_int(c, deleted);
}

/* EXISTS and TOUCH: count the arguments naming a live key (repeats count again, as in Redis). */
static void cmd_exists(srv_client *c, int argc, const resp_arg *argv)
{
    long long found = 0;
    for (int i = 1; i < argc; i++) {
        srv_key k;
        srv_key_from_arg(&k, &argv[i]);
        if (srv_db_lookup_read(&k)) found++;
    }
    srv_reply_int(c, found);
}

static void cmd_type(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    if (srv_db_lookup_read(&k)) srv_reply_raw(c, "+string\r\n", 9);
    else srv_reply_raw(c, "+none\r\n", 7);
}

/* ---- TTL PTTL EXPIRETIME PEXPIRETIME */

/*
 * -2 for a missing key, else the remaining (or absolute) time; never -1, since every key has an
 * expiry.  Seconds are rounded to the nearest second ((ms + 500) / 1000), as Redis does.
 */
static void reply_ttl(srv_client *c, const resp_arg *key, int in_ms, int absolute)
{
    srv_key k;
    srv_key_from_arg(&k, key);
    ttl_entry *e = srv_db_lookup_read(&k);
    if (!e) {
        srv_reply_int(c, -2);
        return;
    }
    uint64_t at = ttl_entry_expire_at(e), now = srv_now_ms();
    uint64_t v = absolute ? at : (at > now ? at - now : 0);
    srv_reply_int(c, (long long)(in_ms ? v : (v + 500) / 1000));
}

static void cmd_ttl(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    reply_ttl(c, &argv[1], 0, 0);
}

static void cmd_pttl(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    reply_ttl(c, &argv[1], 1, 0);
}

static void cmd_expiretime(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    reply_ttl(c, &argv[1], 0, 1);
}

static void cmd_pexpiretime(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    reply_ttl(c, &argv[1], 1, 1);
}

/* ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST */

#define EXPIRE_NX 0x1u /* set only when the key has no expiry: never, in repram */
#define EXPIRE_XX 0x2u /* set only when the key has an expiry: always, in repram */
#define EXPIRE_GT 0x4u /* set only when the new expiry is later than the current one */
#define EXPIRE_LT 0x8u /* set only when the new expiry is earlier than the current one */

/* Redis 7.0 reads every option first (an unknown one fails at once), then checks conflicts: NX
 * with anything else before GT with LT. */
static int parse_expire_flags_or_reply(srv_client *c, int argc, const resp_arg *argv,
                                       unsigned *flags)
{
    unsigned f = 0;
    for (int i = 3; i < argc; i++) {
        if (word_eq(&argv[i], "nx")) f |= EXPIRE_NX;
        else if (word_eq(&argv[i], "xx")) f |= EXPIRE_XX;
        else if (word_eq(&argv[i], "gt")) f |= EXPIRE_GT;
        else if (word_eq(&argv[i], "lt")) f |= EXPIRE_LT;
        else {
            reply_error_with_arg(c, "ERR Unsupported option ", &argv[i]);
            return -1;
        }
    }
    if ((f & EXPIRE_NX) && (f & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        srv_reply_error(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((f & EXPIRE_GT) && (f & EXPIRE_LT)) {
        srv_reply_error(c, "ERR GT and LT options at the same time are not compatible");
        return -1;
    }
    *flags = f;
    return 0;
}

/*
 * The four EXPIRE commands.  Order of checks as in Redis: options, then the number (Redis's
 * overflow errors; repram adds max-ttl here, so an over-long TTL is refused even for a missing
 * key), then the key (missing: 0), then the NX/XX/GT/LT condition, then apply.  A time at or
 * before now deletes the key and still answers 1.  GT/LT compare against the expiry that would
 * be stored (after ttl-clamp, and 1 for any time in the past).
 */
static void cmd_expire_generic(srv_client *c, int argc, const resp_arg *argv,
                               enum srv_ttl_unit unit, const char *name)
{
    unsigned flags;
    uint64_t when;
    if (parse_expire_flags_or_reply(c, argc, argv, &flags) < 0) return;
    if (srv_ttl_parse_or_reply(c, &argv[2], unit, name, 1, &when) < 0) return;

    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_write(&k);
    if (!e) {
        srv_reply_int(c, 0);
        return;
    }
    uint64_t current = ttl_entry_expire_at(e);
    if ((flags & EXPIRE_NX) || ((flags & EXPIRE_GT) && when <= current) ||
        ((flags & EXPIRE_LT) && when >= current)) {
        srv_reply_int(c, 0);
        return;
    }
    srv_db_set_expire(&k, e, when);
    srv_reply_int(c, 1);
}

static void cmd_expire(srv_client *c, int argc, const resp_arg *argv)
{
    cmd_expire_generic(c, argc, argv, SRV_TTL_SECONDS, "expire");
}

static void cmd_pexpire(srv_client *c, int argc, const resp_arg *argv)
{
    cmd_expire_generic(c, argc, argv, SRV_TTL_MILLISECONDS, "pexpire");
}

static void cmd_expireat(srv_client *c, int argc, const resp_arg *argv)
{
    cmd_expire_generic(c, argc, argv, SRV_TTL_UNIX_S, "expireat");
}

static void cmd_pexpireat(srv_client *c, int argc, const resp_arg *argv)
{
    cmd_expire_generic(c, argc, argv, SRV_TTL_UNIX_MS, "pexpireat");
}

static void cmd_persist(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_reply_error(c, SRV_ERR_PERSIST);
}

/* ---- key collection for KEYS and SCAN */

/* Borrowed entries collected by one KEYS/SCAN call.  Reused across calls (no allocation in steady
 * state); released when a call needed more than KEYBUF_KEEP slots, so one huge KEYS does not pin
 * its memory for the life of the process. */
#define KEYBUF_KEEP 65536 /* entries (512 KiB of pointers) kept between calls */

static const ttl_entry **keybuf;
static size_t keybuf_cap;

typedef struct key_collector {
    const char *pat;     /* MATCH/KEYS pattern, or NULL to take every key */
    size_t plen;
    int keep;            /* 0: examine and count only (SCAN TYPE other than string) */
    size_t examined;     /* keys visited, before any filter (SCAN's COUNT budget) */
    size_t matched;      /* keys that passed the pattern (SCAN TYPE's keyspace hits) */
    size_t n;            /* keys collected in keybuf */
    size_t limit;        /* collect at most this many (KEYS: keys-max-reply); 0 = no limit */
    int over;            /* more keys matched than `limit` */
} key_collector;

static void collect_key(void *priv, const ttl_entry *e)
{
    key_collector *col = priv;
    col->examined++;
    if (col->pat) {
        size_t klen;
        const char *key = ttl_entry_key(e, &klen);
        if (!srv_glob_match(col->pat, col->plen, key, klen, 0)) return;
    }
    col->matched++;
    if (!col->keep) return;
    if (col->limit && col->n >= col->limit) {
        col->over = 1; /* stop growing: the reply will be refused */
        return;
    }
    if (col->n == keybuf_cap) {
        size_t cap = keybuf_cap ? keybuf_cap * 2 : 64;
        const ttl_entry **grown = realloc(keybuf, cap * sizeof *grown);
        if (!grown) nomem("collecting keys");
        keybuf = grown;
        keybuf_cap = cap;
    }
    keybuf[col->n++] = e;
}

static void collector_init(key_collector *col, const char *pat, size_t plen)
{
    memset(col, 0, sizeof *col);
    /* "*" matches everything: skip the matcher (KEYS * and SCAN MATCH * fast path). */
    if (pat && !(plen == 1 && pat[0] == '*')) {
        col->pat = pat;
        col->plen = plen;
    }
    col->keep = 1;
}

/* Drop the collection buffer when it grew beyond what is worth keeping between calls. */
static void reply_collected_release(void)
{
    if (keybuf_cap > KEYBUF_KEEP) {
        free(keybuf);
        keybuf = NULL;
        keybuf_cap = 0;
    }
}

/* Reply the collected keys as an array, then drop an oversized buffer. */
static void reply_collected(srv_client *c, const key_collector *col)
{
    srv_reply_array(c, (long long)col->n);
    for (size_t i = 0; i < col->n; i++) {
        size_t klen;
        const void *key = ttl_entry_key(keybuf[i], &klen);
        srv_reply_bulk(c, key, klen);
    }
    reply_collected_release();
}

/* ---- KEYS SCAN RANDOMKEY DBSIZE */

static void cmd_keys(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    key_collector col;
    collector_init(&col, argv[1].ptr, argv[1].len);
    col.limit = (size_t)srv.cfg.keys_max_reply;
    /* One call with an unlimited bucket budget walks the whole table (cursor 0 back to 0). */
    ttl_dict_scan(srv.db, 0, SIZE_MAX, srv_now_ms(), 0, collect_key, &col);
    if (col.over) {
        srv.stats.keys_limit_rejections++;
        srv_reply_errorf(c, "ERR KEYS matched more than keys-max-reply (%d) keys: use SCAN "
                         "instead", srv.cfg.keys_max_reply);
        col.n = 0;
        reply_collected_release();
        return;
    }
    reply_collected(c, &col);
}

/*
 * The cursor as Redis's strtoul-based parser accepts it: an optional sign ('-' wraps modulo 2^64),
 * decimal digits, and nothing after them but the end of the argument or a NUL byte.  Leading
 * white space, an overflow or other bytes are "ERR invalid cursor".  An empty argument is cursor
 * 0, as in Redis.
 */
static int parse_cursor_or_reply(srv_client *c, const resp_arg *a, uint64_t *cursor)
{
    const char *p = a->ptr, *end = a->ptr + cstr_len(a);
    int neg = 0;
    uint64_t v = 0;
    if (p < end && (*p == '+' || *p == '-')) neg = *p++ == '-';
    const char *digits = p;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) goto invalid;
        v = v * 10 + d;
    }
    if (p != end) goto invalid;
    if (p == digits && a->ptr != end) goto invalid; /* a sign alone */
    *cursor = neg ? (uint64_t)0 - v : v;
    return 0;
invalid:
    srv_reply_error(c, "ERR invalid cursor");
    return -1;
}

typedef struct scan_opts {
    long long count;     /* keys to examine per call (Redis's COUNT, default 10) */
    const char *pat;     /* MATCH pattern or NULL */
    size_t plen;
    int has_type;        /* TYPE given */
    int type_string;     /* TYPE names "string" (any case) */
} scan_opts;

static int parse_scan_opts_or_reply(srv_client *c, int argc, const resp_arg *argv, scan_opts *o)
{
    memset(o, 0, sizeof *o);
    o->count = 10;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) goto syntax; /* every option takes a value */
        if (word_eq(&argv[i], "count")) {
            if (!resp_str_to_ll(argv[i + 1].ptr, argv[i + 1].len, &o->count)) {
                srv_reply_error(c, SRV_ERR_NOT_INT);
                return -1;
            }
            if (o->count < 1) goto syntax;
        } else if (word_eq(&argv[i], "match")) {
            o->pat = argv[i + 1].ptr;
            o->plen = argv[i + 1].len;
        } else if (word_eq(&argv[i], "type")) {
            o->has_type = 1;
            o->type_string = word_eq(&argv[i + 1], "string");
        } else {
            goto syntax;
        }
    }
    return 0;
syntax:
    srv_reply_error(c, SRV_ERR_SYNTAX);
    return -1;
}

/* Visit buckets until COUNT keys were examined, the cursor wrapped, or 10 x COUNT buckets were
 * visited (Redis's bound for sparse tables).  Returns the next cursor. */
static uint64_t scan_buckets(uint64_t cursor, long long count, key_collector *col)
{
    size_t want = (size_t)count;
    size_t budget = want > SIZE_MAX / 10 ? SIZE_MAX : want * 10;
    uint64_t now = srv_now_ms();
    do {
        size_t step = want - col->examined; /* at least one bucket per key still wanted */
        if (step > budget) step = budget;
        cursor = ttl_dict_scan(srv.db, cursor, step, now, 0, collect_key, col);
        budget -= step;
    } while (cursor != 0 && budget > 0 && col->examined < want);
    return cursor;
}

static void cmd_scan(srv_client *c, int argc, const resp_arg *argv)
{
    uint64_t cursor;
    scan_opts o;
    if (parse_cursor_or_reply(c, &argv[1], &cursor) < 0) return;
    if (parse_scan_opts_or_reply(c, argc, argv, &o) < 0) return;
    /* scan-max-count bounds the work of one call; returning fewer keys is within SCAN's
     * contract, so clients asking for more keep working. */
    if (srv.cfg.scan_max_count > 0 && o.count > srv.cfg.scan_max_count) {
        o.count = srv.cfg.scan_max_count;
        srv.stats.scan_count_clamps++;
    }

    key_collector col;
    collector_init(&col, o.pat, o.plen);
    col.keep = !o.has_type || o.type_string;
    cursor = scan_buckets(cursor, o.count, &col);
    /* Redis looks each key up to learn its type, which counts as a keyspace hit. */
    if (o.has_type) srv.stats.keyspace_hits += col.matched;

    char buf[24];
    srv_reply_array(c, 2);
    srv_reply_bulk(c, buf, resp_ull_to_str(buf, cursor));
    reply_collected(c, &col);
}

/* xorshift64* (Vigna): fast and plenty for picking a slot.  Seeded from getrandom on first use;
 * a zero state would stick, so it is never left at zero. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    if (rng_state == 0) {
        if (getrandom(&rng_state, sizeof rng_state, 0) != (ssize_t)sizeof rng_state)
            rng_state = srv_ustime();
        rng_state |= 1;
    }
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static void cmd_randomkey(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    ttl_entry *e = ttl_dict_random(srv.db, rng_next(), srv_now_ms());
    if (!e) {
        srv_reply_null(c);
        return;
    }
    size_t klen;
    const void *key = ttl_entry_key(e, &klen);
    srv_reply_bulk(c, key, klen);
}

static void cmd_dbsize(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_reply_int(c, (long long)srv_db_size());
}

/* ---- RENAME RENAMENX COPY */

static int same_arg(const resp_arg *a, const resp_arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/*
 * RENAME/RENAMENX: the destination gets the source's value and absolute expiry under a new
 * version, then the source goes.  Checks in Redis's order: missing source ("no such key") even
 * when both names are equal; equal names are a no-op (OK, or 0 for RENAMENX); RENAMENX onto a
 * live key is 0.  The destination's key-size limit is checked before anything changes.
 */
static void cmd_rename_generic(srv_client *c, const resp_arg *argv, int nx)
{
    srv_key src, dst;
    srv_key_from_arg(&src, &argv[1]);
    ttl_entry *e = srv_db_lookup_write(&src);
    if (!e) {
        srv_reply_error(c, SRV_ERR_NO_SUCH_KEY);
        return;
    }
    if (same_arg(&argv[1], &argv[2])) {
        if (nx) srv_reply_int(c, 0);
        else srv_reply_ok(c);
        return;
    }
    srv_key_from_arg(&dst, &argv[2]);
    /* Looking dst up may lazily expire dst, never src: e stays valid. */
    if (nx && srv_db_lookup_write(&dst)) {
        srv_reply_int(c, 0);
        return;
    }
    size_t vlen;
    const void *val = ttl_entry_value(e, &vlen);
    if (srv_db_set_or_reply(c, &dst, val, vlen, ttl_entry_expire_at(e), NULL) < 0) return;
    srv_db_delete(&src);
    if (nx) srv_reply_int(c, 1);
    else srv_reply_ok(c);
}

static void cmd_rename(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    cmd_rename_generic(c, argv, 0);
}

static void cmd_renamenx(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    cmd_rename_generic(c, argv, 1);
}

/* COPY's DB argument, read as Redis's getIntFromObjectOrReply then selectDb: only 0 exists. */
static int parse_copy_db_or_reply(srv_client *c, const resp_arg *a)
{
    long long db;
    if (!resp_str_to_ll(a->ptr, a->len, &db)) {
        srv_reply_error(c, SRV_ERR_NOT_INT);
        return -1;
    }
    if (db < INT_MIN || db > INT_MAX) {
        srv_reply_errorf(c, "ERR value is out of range, value must between %d and %d", INT_MIN,
                         INT_MAX);
        return -1;
    }
    if (db != 0) {
        srv_reply_error(c, "ERR DB index is out of range");
        return -1;
    }
    return 0;
}

static int parse_copy_opts_or_reply(srv_client *c, int argc, const resp_arg *argv, int *replace)
{
    *replace = 0;
    for (int i = 3; i < argc; i++) {
        if (word_eq(&argv[i], "replace")) {
            *replace = 1;
        } else if (word_eq(&argv[i], "db") && i + 1 < argc) {
            if (parse_copy_db_or_reply(c, &argv[++i]) < 0) return -1;
        } else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* COPY: value and absolute expiry to a new version of the destination.  0 when the source is
 * missing or the destination exists without REPLACE. */
static void cmd_copy(srv_client *c, int argc, const resp_arg *argv)
{
    int replace;
    if (parse_copy_opts_or_reply(c, argc, argv, &replace) < 0) return;
    if (same_arg(&argv[1], &argv[2])) {
        srv_reply_error(c, "ERR source and destination objects are the same");
        return;
    }
    srv_key src, dst;
    srv_key_from_arg(&src, &argv[1]);
    ttl_entry *e = srv_db_lookup_read(&src);
    if (!e) {
        srv_reply_int(c, 0);
        return;
    }
    srv_key_from_arg(&dst, &argv[2]);
    if (!replace && srv_db_lookup_write(&dst)) {
        srv_reply_int(c, 0);
        return;
    }
    size_t vlen;
    const void *val = ttl_entry_value(e, &vlen);
    if (srv_db_set_or_reply(c, &dst, val, vlen, ttl_entry_expire_at(e), NULL) < 0) return;
    srv_reply_int(c, 1);
}

/* ---- FLUSHALL FLUSHDB */

/* One database, so both flush everything.  ASYNC and SYNC are accepted; freeing is synchronous
 * (entries are single allocations, so a flush is one pass over the table). */
static void cmd_flush(srv_client *c, int argc, const resp_arg *argv)
{
    if (argc > 2 || (argc == 2 && !word_eq(&argv[1], "sync") && !word_eq(&argv[1], "async"))) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    srv_db_flush();
    srv_reply_ok(c);
}

/* ---- the table */

#define KEYS_CMD(n, f, ar, fl, acl_, fk, lk, ks, grp, since_, sum, cx)                            \
    {                                                                                             \
        .name = (n), .fn = (f), .arity = (ar), .flags = (fl), .acl = (acl_), .first_key = (fk),   \
        .last_key = (lk), .key_step = (ks), .group = (grp), .since = (since_), .summary = (sum),  \
        .complexity = (cx)                                                                        \
    }

#define W SRV_CMD_WRITE
#define R SRV_CMD_READONLY
#define F SRV_CMD_FAST

srv_command srv_cmds_keys[] = {
    KEYS_CMD("del", cmd_del, -2, W, "keyspace write slow", 1, -1, 1, "generic", "1.0.0",
             "Delete a key",
             "O(N) where N is the number of keys that will be removed. When a key to remove holds a "
             "value other than a string, the individual complexity for this key is O(M) where M is "
             "the number of elements in the list, set, sorted set or hash. Removing a single key "
             "that holds a string value is O(1)."),
    KEYS_CMD("unlink", cmd_del, -2, W | F, "keyspace write fast", 1, -1, 1, "generic", "4.0.0",
             "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non "
             "blocking.",
             "O(1) for each key removed regardless of its size. Then the command does O(N) work in "
             "a different thread in order to reclaim memory, where N is the number of allocations "
             "the deleted objects where composed of."),
    KEYS_CMD("exists", cmd_exists, -2, R | F, "keyspace read fast", 1, -1, 1, "generic", "1.0.0",
             "Determine if a key exists", "O(N) where N is the number of keys to check."),
    KEYS_CMD("touch", cmd_exists, -2, R | F, "keyspace read fast", 1, -1, 1, "generic", "3.2.1",
             "Alters the last access time of a key(s). Returns the number of existing keys "
             "specified.",
             "O(N) where N is the number of keys that will be touched."),
    KEYS_CMD("type", cmd_type, 2, R | F, "keyspace read fast", 1, 1, 1, "generic", "1.0.0",
             "Determine the type stored at key", "O(1)"),
    KEYS_CMD("ttl", cmd_ttl, 2, R | F, "keyspace read fast", 1, 1, 1, "generic", "1.0.0",
             "Get the time to live for a key in seconds", "O(1)"),
    KEYS_CMD("pttl", cmd_pttl, 2, R | F, "keyspace read fast", 1, 1, 1, "generic", "2.6.0",
             "Get the time to live for a key in milliseconds", "O(1)"),
    KEYS_CMD("expiretime", cmd_expiretime, 2, R | F, "keyspace read fast", 1, 1, 1, "generic",
             "7.0.0", "Get the expiration Unix timestamp for a key", "O(1)"),
    KEYS_CMD("pexpiretime", cmd_pexpiretime, 2, R | F, "keyspace read fast", 1, 1, 1, "generic",
             "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", "O(1)"),
    KEYS_CMD("expire", cmd_expire, -3, W | F, "keyspace write fast", 1, 1, 1, "generic", "1.0.0",
             "Set a key's time to live in seconds", "O(1)"),
    KEYS_CMD("pexpire", cmd_pexpire, -3, W | F, "keyspace write fast", 1, 1, 1, "generic",
             "2.6.0", "Set a key's time to live in milliseconds", "O(1)"),
    KEYS_CMD("expireat", cmd_expireat, -3, W | F, "keyspace write fast", 1, 1, 1, "generic",
             "1.2.0", "Set the expiration for a key as a UNIX timestamp", "O(1)"),
    KEYS_CMD("pexpireat", cmd_pexpireat, -3, W | F, "keyspace write fast", 1, 1, 1, "generic",
             "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
             "O(1)"),
    KEYS_CMD("persist", cmd_persist, 2, W | F, "keyspace write fast", 1, 1, 1, "generic", "2.2.0",
             "Remove the expiration from a key", "O(1)"),
    KEYS_CMD("keys", cmd_keys, 2, R, "keyspace read slow dangerous", 0, 0, 0, "generic", "1.0.0",
             "Find all keys matching the given pattern",
             "O(N) with N being the number of keys in the database, under the assumption that the "
             "key names in the database and the given pattern have limited length."),
    KEYS_CMD("scan", cmd_scan, -2, R, "keyspace read slow", 0, 0, 0, "generic", "2.8.0",
             "Incrementally iterate the keys space",
             "O(1) for every call. O(N) for a complete iteration, including enough command calls "
             "for the cursor to return back to 0. N is the number of elements inside the "
             "collection."),
    KEYS_CMD("randomkey", cmd_randomkey, 1, R, "keyspace read slow", 0, 0, 0, "generic", "1.0.0",
             "Return a random key from the keyspace", "O(1)"),
    KEYS_CMD("dbsize", cmd_dbsize, 1, R | F, "keyspace read fast", 0, 0, 0, "server", "1.0.0",
             "Return the number of keys in the selected database", "O(1)"),
    KEYS_CMD("rename", cmd_rename, 3, W, "keyspace write slow", 1, 2, 1, "generic", "1.0.0",
             "Rename a key", "O(1)"),
    KEYS_CMD("renamenx", cmd_renamenx, 3, W | F, "keyspace write fast", 1, 2, 1, "generic",
             "1.0.0", "Rename a key, only if the new key does not exist", "O(1)"),
    KEYS_CMD("copy", cmd_copy, -3, W | SRV_CMD_DENYOOM, "keyspace write slow", 1, 2, 1, "generic",
             "6.2.0", "Copy a key",
             "O(N) worst case for collections, where N is the number of nested items. O(1) for "
             "string values."),
    KEYS_CMD("flushall", cmd_flush, -1, W, "keyspace write slow dangerous", 0, 0, 0, "server",
             "1.0.0", "Remove all keys from all databases",
             "O(N) where N is the total number of keys in all databases"),
    KEYS_CMD("flushdb", cmd_flush, -1, W, "keyspace write slow dangerous", 0, 0, 0, "server",
             "1.0.0", "Remove all keys from the current database",
             "O(N) where N is the number of keys in the selected database"),
    {.name = NULL},
};

#undef W
#undef R
#undef F
