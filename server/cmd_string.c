/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_string.c: the string command family (GET, SET and its options, SETEX, PSETEX, SETNX,
 * GETEX, GETDEL, GETSET, MGET, MSET, MSETNX, STRLEN, APPEND, GETRANGE/SUBSTR, SETRANGE, the INCR
 * family and INCRBYFLOAT) and its command table, srv_cmds_string[].
 *
 * What the user sees is Redis 7.0.15: the same option grammar, the same order of checks and the
 * same replies and error texts byte for byte, in RESP2 and RESP3 (the reply helpers pick the
 * shape).  Where repram differs, it differs by design (DESIGN.md section 4, db.h):
 *   - every key has a TTL: a write that names none gets default-ttl; a plain SET (no EX/PX/EXAT/
 *     PXAT/KEEPTTL) on an existing key resets it to default-ttl where Redis would remove it;
 *     in-place edits of an existing key (INCR family, APPEND, SETRANGE) keep its expiry;
 *   - TTLs over max-ttl are refused (or clamped) by srv_ttl_parse_or_reply;
 *   - GETEX ... PERSIST is refused with SRV_ERR_PERSIST, after the option syntax is checked and
 *     before the key is looked up (so the refusal does not depend on the key existing);
 *   - max-key-size / max-value-size are checked before anything is stored or replied; Redis's own
 *     proto-max-bulk-len check for APPEND and SETRANGE comes first, as in Redis.
 *
 * Why this shape: SET and GET are the hottest commands, so SET parses its options with one pass
 * and a switch on the option's length (no strcasecmp chain), keeps conflicts in one flag word
 * (Redis's parseExtendedStringArgumentsOrReply idea, written our way), hashes the key once and
 * looks it up at most once (plain SET does not look it up at all: ttl_dict_set replaces).  No
 * command here allocates except SETRANGE creating a key at an offset > 0 (it needs a zero-filled
 * buffer; rejected alternative: create an empty key and grow it, which would cost two writes and
 * leave a key behind if the growth were refused).
 *
 * Invariants:
 *   - a handler replies exactly once; every helper named *_or_reply has replied when it fails;
 *   - a reply that carries an old value (SET ... GET, GETSET) is queued only after every check
 *     that could still fail the store has passed (check_sizes_or_reply), so the store cannot
 *     then fail and produce a second reply;
 *   - borrowed ttl_entry pointers are not used after a call that may replace or resize the entry.
 *
 * Event-loop thread only; nothing here blocks, logs or reads the clock other than through db.h.
 * Start reading at set_cmd and parse_options_or_reply, then incr_generic.
 */
#include "server/commands.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/db.h"
#include "server/server.h"

#define ERR_STRING_TOO_LONG "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
#define ERR_OFFSET_RANGE "ERR offset is out of range"
#define ERR_NAN_INF "ERR increment would produce NaN or Infinity"
#define ERR_DECR_OVERFLOW "ERR decrement would overflow"

/* Longest text Redis parses as a long double (its MAX_LONG_DOUBLE_CHARS, 5 KiB), and the buffer
 * INCRBYFLOAT formats into: "%.17Lf" of the largest long double (~1.2e4932) needs ~4,950 bytes. */
#define LONG_DOUBLE_CHARS 5120

/* Largest value SETRANGE may zero-fill on the stack when it creates a key at an offset. */
#define SETRANGE_STACK_BYTES 512

/* ---- small shared helpers */

static void reply_value(srv_client *c, const ttl_entry *e)
{
    size_t len;
    const void *v = ttl_entry_value(e, &len);
    srv_reply_bulk(c, v, len);
}

static void reply_value_or_null(srv_client *c, const ttl_entry *e)
{
    if (e) reply_value(c, e);
    else srv_reply_null(c);
}

/* Redis's proto-max-bulk-len rule for a string that would grow to size + extra bytes (APPEND,
 * SETRANGE); the sum is checked without overflowing. */
static int check_string_length_or_reply(srv_client *c, unsigned long long size,
                                        unsigned long long extra)
{
    unsigned long long max = (unsigned long long)srv.cfg.proto_max_bulk_len;
    if (extra > max || size > max - extra) {
        srv_reply_error(c, ERR_STRING_TOO_LONG);
        return -1;
    }
    return 0;
}

static int parse_ll_or_reply(srv_client *c, const resp_arg *a, long long *out)
{
    if (resp_str_to_ll(a->ptr, a->len, out)) return 0;
    srv_reply_error(c, SRV_ERR_NOT_INT);
    return -1;
}

/* ---- SET / GETEX option parsing */

#define OPT_NX 0x001u
#define OPT_XX 0x002u
#define OPT_GET 0x004u
#define OPT_KEEPTTL 0x008u
#define OPT_PERSIST 0x010u
#define OPT_EX 0x020u
#define OPT_PX 0x040u
#define OPT_EXAT 0x080u
#define OPT_PXAT 0x100u
#define OPT_EXPIRE (OPT_EX | OPT_PX | OPT_EXAT | OPT_PXAT)

/* Which options a command accepts. */
#define OPTS_SET (OPT_NX | OPT_XX | OPT_GET | OPT_KEEPTTL | OPT_EXPIRE)
#define OPTS_GETEX (OPT_PERSIST | OPT_EXPIRE)

typedef struct str_opts {
    unsigned flags;
    const resp_arg *expire;   /* the argument after EX/PX/EXAT/PXAT, or NULL */
    enum srv_ttl_unit unit;
} str_opts;

/* Case-insensitive compare of a with a lower-case word of the same length.  (b | 0x20) equals
 * a lower-case letter only for that letter in either case, and every word here is letters. */
static int word_eq(const resp_arg *a, const char *lower)
{
    for (size_t i = 0; i < a->len; i++)
        if (((unsigned char)a->ptr[i] | 0x20) != (unsigned char)lower[i]) return 0;
    return 1;
}

/* The OPT_* bit an argument names, or 0.  Dispatches on length, then compares one word. */
static unsigned option_bit(const resp_arg *a)
{
    switch (a->len) {
    case 2:
        switch (a->ptr[0] | 0x20) {
        case 'n': return word_eq(a, "nx") ? OPT_NX : 0;
        case 'x': return word_eq(a, "xx") ? OPT_XX : 0;
        case 'e': return word_eq(a, "ex") ? OPT_EX : 0;
        case 'p': return word_eq(a, "px") ? OPT_PX : 0;
        default: return 0;
        }
    case 3: return word_eq(a, "get") ? OPT_GET : 0;
    case 4:
        if ((a->ptr[0] | 0x20) == 'e') return word_eq(a, "exat") ? OPT_EXAT : 0;
        return word_eq(a, "pxat") ? OPT_PXAT : 0;
    case 7:
        if ((a->ptr[0] | 0x20) == 'k') return word_eq(a, "keepttl") ? OPT_KEEPTTL : 0;
        return word_eq(a, "persist") ? OPT_PERSIST : 0;
    default: return 0;
    }
}

/* The options an option may not be combined with (Redis 7.0's rules: GET combines with NX since
 * 7.0; repeating an option is fine, and for the expiry options the last value wins). */
static unsigned option_conflicts(unsigned bit)
{
    switch (bit) {
    case OPT_NX: return OPT_XX;
    case OPT_XX: return OPT_NX;
    case OPT_KEEPTTL: return OPT_PERSIST | OPT_EXPIRE;
    case OPT_PERSIST: return OPT_KEEPTTL | OPT_EXPIRE;
    case OPT_EX: case OPT_PX: case OPT_EXAT: case OPT_PXAT:
        return OPT_KEEPTTL | OPT_PERSIST | (OPT_EXPIRE & ~bit);
    default: return 0;
    }
}

static enum srv_ttl_unit option_unit(unsigned bit)
{
    switch (bit) {
    case OPT_PX: return SRV_TTL_MILLISECONDS;
    case OPT_EXAT: return SRV_TTL_UNIX_S;
    case OPT_PXAT: return SRV_TTL_UNIX_MS;
    default: return SRV_TTL_SECONDS;
    }
}

/*
 * Parse argv[first..argc) as SET or GETEX options (`allowed` is OPTS_SET or OPTS_GETEX).  Any
 * unknown word, option of the other command, conflicting pair or expiry option without a value
 * is "ERR syntax error".  The expiry value is only located here, not parsed: as in Redis, a
 * syntax error anywhere wins over a bad number.  Returns 0, or -1 after replying.
 */
static int parse_options_or_reply(srv_client *c, int argc, const resp_arg *argv, int first,
                                  unsigned allowed, str_opts *o)
{
    o->flags = 0;
    o->expire = NULL;
    o->unit = SRV_TTL_SECONDS;
    for (int j = first; j < argc; j++) {
        unsigned bit = option_bit(&argv[j]) & allowed;
        if (bit == 0 || (o->flags & option_conflicts(bit))) goto syntax;
        if (bit & OPT_EXPIRE) {
            if (j + 1 >= argc) goto syntax;
            o->expire = &argv[++j];
            o->unit = option_unit(bit);
        }
        o->flags |= bit;
    }
    return 0;
syntax:
    srv_reply_error(c, SRV_ERR_SYNTAX);
    return -1;
}

/* ---- GET, SET and friends */

static void get_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    reply_value_or_null(c, srv_db_lookup_read(&k));
}

/* SET with NX, XX, GET or KEEPTTL: one lookup, then at most one store. */
static void set_conditional(srv_client *c, const srv_key *k, const resp_arg *val,
                            const str_opts *o, uint64_t expire_at_ms)
{
    if (srv_db_check_sizes_or_reply(c, k->len, val->len) < 0) return;
    int get = (o->flags & OPT_GET) != 0;
    ttl_entry *e = get ? srv_db_lookup_read(k) : srv_db_lookup_write(k);
    if (get) reply_value_or_null(c, e);
    if (((o->flags & OPT_NX) && e) || ((o->flags & OPT_XX) && !e)) {
        if (!get) srv_reply_null(c);
        return;
    }
    if (!o->expire)
        expire_at_ms = (e && (o->flags & OPT_KEEPTTL)) ? ttl_entry_expire_at(e)
                                                       : srv_ttl_default_expire();
    if (srv_db_set_or_reply(c, k, val->ptr, val->len, expire_at_ms, NULL) < 0) return;
    if (!get) srv_reply_ok(c);
}

static void set_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    str_opts o;
    uint64_t expire_at_ms = 0;
    if (parse_options_or_reply(c, argc, argv, 3, OPTS_SET, &o) < 0) return;
    if (o.expire && srv_ttl_parse_or_reply(c, o.expire, o.unit, "set", 0, &expire_at_ms) < 0)
        return;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    if (o.flags & (OPT_NX | OPT_XX | OPT_GET | OPT_KEEPTTL)) {
        set_conditional(c, &k, &argv[2], &o, expire_at_ms);
        return;
    }
    /* The hot path: no lookup, ttl_dict_set replaces any previous value. */
    if (!o.expire) expire_at_ms = srv_ttl_default_expire();
    if (srv_db_set_or_reply(c, &k, argv[2].ptr, argv[2].len, expire_at_ms, NULL) == 0)
        srv_reply_ok(c);
}

static void setex_generic(srv_client *c, const resp_arg *argv, enum srv_ttl_unit unit,
                          const char *name)
{
    uint64_t expire_at_ms;
    if (srv_ttl_parse_or_reply(c, &argv[2], unit, name, 0, &expire_at_ms) < 0) return;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    if (srv_db_set_or_reply(c, &k, argv[3].ptr, argv[3].len, expire_at_ms, NULL) == 0)
        srv_reply_ok(c);
}

static void setex_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    setex_generic(c, argv, SRV_TTL_SECONDS, "setex");
}

static void psetex_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    setex_generic(c, argv, SRV_TTL_MILLISECONDS, "psetex");
}

static void setnx_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    if (srv_db_check_sizes_or_reply(c, k.len, argv[2].len) < 0) return;
    if (srv_db_lookup_write(&k)) {
        srv_reply_int(c, 0);
        return;
    }
    if (srv_db_set_or_reply(c, &k, argv[2].ptr, argv[2].len, srv_ttl_default_expire(), NULL) == 0)
        srv_reply_int(c, 1);
}

static void getset_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    if (srv_db_check_sizes_or_reply(c, k.len, argv[2].len) < 0) return;
    reply_value_or_null(c, srv_db_lookup_read(&k));
    srv_db_set_or_reply(c, &k, argv[2].ptr, argv[2].len, srv_ttl_default_expire(), NULL);
}

/* GETEX: Redis checks syntax, then looks the key up (a missing key is a null reply, whatever the
 * expiry value), then validates the expiry; repram refuses PERSIST right after the syntax. */
static void getex_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    str_opts o;
    if (parse_options_or_reply(c, argc, argv, 2, OPTS_GETEX, &o) < 0) return;
    if (o.flags & OPT_PERSIST) {
        srv_reply_error(c, SRV_ERR_PERSIST);
        return;
    }
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_read(&k);
    if (!e) {
        srv_reply_null(c);
        return;
    }
    uint64_t expire_at_ms;
    if (o.expire && srv_ttl_parse_or_reply(c, o.expire, o.unit, "getex", 0, &expire_at_ms) < 0)
        return;
    reply_value(c, e);
    if (o.expire) srv_db_set_expire(&k, e, expire_at_ms); /* in the past: deletes the key */
}

static void getdel_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_read(&k);
    if (!e) {
        srv_reply_null(c);
        return;
    }
    reply_value(c, e);
    srv_db_delete(&k);
}

/* ---- multi-key commands */

static void mget_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    srv_reply_array(c, argc - 1);
    for (int j = 1; j < argc; j++) {
        srv_key k;
        srv_key_from_arg(&k, &argv[j]);
        reply_value_or_null(c, srv_db_lookup_read(&k));
    }
}

/* MSET and MSETNX.  Every pair is validated before the first is stored, so a refused pair leaves
 * the keyspace untouched (Redis has no per-pair failure; repram's size limits add one).  MSETNX
 * hashes its keys twice (existence pass, store pass); it is rare enough not to keep a key array. */
static void mset_generic(srv_client *c, int argc, const resp_arg *argv, int nx)
{
    if (argc % 2 == 0) {
        srv_reply_arity_error(c, nx ? "msetnx" : "mset");
        return;
    }
    for (int j = 1; j < argc; j += 2)
        if (srv_db_check_sizes_or_reply(c, argv[j].len, argv[j + 1].len) < 0) return;
    if (nx) {
        for (int j = 1; j < argc; j += 2) {
            srv_key k;
            srv_key_from_arg(&k, &argv[j]);
            if (srv_db_lookup_write(&k)) {
                srv_reply_int(c, 0);
                return;
            }
        }
    }
    uint64_t expire_at_ms = srv_ttl_default_expire();
    for (int j = 1; j < argc; j += 2) {
        srv_key k;
        srv_key_from_arg(&k, &argv[j]);
        if (srv_db_set_or_reply(c, &k, argv[j + 1].ptr, argv[j + 1].len, expire_at_ms, NULL) < 0)
            return; /* unreachable: sizes were checked above */
    }
    if (nx) srv_reply_int(c, 1);
    else srv_reply_ok(c);
}

static void mset_cmd(srv_client *c, int argc, const resp_arg *argv) { mset_generic(c, argc, argv, 0); }
static void msetnx_cmd(srv_client *c, int argc, const resp_arg *argv) { mset_generic(c, argc, argv, 1); }

/* ---- length, append and ranges */

static void strlen_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_read(&k);
    srv_reply_int(c, e ? (long long)ttl_entry_vlen(e) : 0);
}

static void append_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    const resp_arg *add = &argv[2];
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_write(&k);
    if (!e) { /* creates the key, even with an empty value, as Redis does */
        if (srv_db_set_or_reply(c, &k, add->ptr, add->len, srv_ttl_default_expire(), NULL) == 0)
            srv_reply_int(c, (long long)add->len);
        return;
    }
    size_t old = ttl_entry_vlen(e);
    if (check_string_length_or_reply(c, old, add->len) < 0) return;
    if (add->len == 0) {
        srv_db_touch_write(&k, e); /* Redis counts an empty append as a modification */
    } else {
        if (srv_db_resize_value_or_reply(c, &k, &e, old + add->len) < 0) return;
        memcpy((char *)ttl_entry_value_mut(e) + old, add->ptr, add->len);
    }
    srv_reply_int(c, (long long)(old + add->len));
}

/* GETRANGE and SUBSTR: Redis's index rules (negative indexes count from the end, the range is
 * clamped to the string, an empty or inverted range is an empty string). */
static void getrange_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    long long start, end;
    if (parse_ll_or_reply(c, &argv[2], &start) < 0 || parse_ll_or_reply(c, &argv[3], &end) < 0)
        return;
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_read(&k);
    size_t vlen = 0;
    const char *v = e ? ttl_entry_value(e, &vlen) : NULL;
    long long len = (long long)vlen;
    if (!e || (start < 0 && end < 0 && start > end)) goto empty;
    if (start < 0) start += len;
    if (end < 0) end += len;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= len) end = len - 1;
    if (len == 0 || start > end) goto empty;
    srv_reply_bulk(c, v + start, (size_t)(end - start + 1));
    return;
empty:
    srv_reply_bulk(c, "", 0);
}

/* SETRANGE on a missing key: a new value of offset zero bytes then the argument. */
static void setrange_create(srv_client *c, const srv_key *k, size_t offset, const resp_arg *val)
{
    size_t len = offset + val->len;
    if (srv_db_check_sizes_or_reply(c, k->len, len) < 0) return;
    uint64_t expire_at_ms = srv_ttl_default_expire();
    if (offset == 0) {
        if (srv_db_set_or_reply(c, k, val->ptr, val->len, expire_at_ms, NULL) == 0)
            srv_reply_int(c, (long long)len);
        return;
    }
    char stack[SETRANGE_STACK_BYTES];
    char *buf = len <= sizeof stack ? stack : malloc(len);
    if (!buf) abort(); /* server/ policy: out of memory is fatal (STYLE.md section 4) */
    memset(buf, 0, offset);
    memcpy(buf + offset, val->ptr, val->len);
    if (srv_db_set_or_reply(c, k, buf, len, expire_at_ms, NULL) == 0)
        srv_reply_int(c, (long long)len);
    if (buf != stack) free(buf);
}

static void setrange_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    const resp_arg *val = &argv[3];
    long long offset;
    if (parse_ll_or_reply(c, &argv[2], &offset) < 0) return;
    if (offset < 0) {
        srv_reply_error(c, ERR_OFFSET_RANGE);
        return;
    }
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_write(&k);
    size_t old = e ? ttl_entry_vlen(e) : 0;
    if (val->len == 0) { /* nothing to write: no key is created, none is modified */
        srv_reply_int(c, (long long)old);
        return;
    }
    if (check_string_length_or_reply(c, (unsigned long long)offset, val->len) < 0) return;
    size_t off = (size_t)offset, end = off + val->len;
    if (!e) {
        setrange_create(c, &k, off, val);
        return;
    }
    if (end > old) {
        if (srv_db_resize_value_or_reply(c, &k, &e, end) < 0) return;
        if (off > old) memset((char *)ttl_entry_value_mut(e) + old, 0, off - old);
    } else {
        srv_db_touch_write(&k, e);
    }
    memcpy((char *)ttl_entry_value_mut(e) + off, val->ptr, val->len);
    srv_reply_int(c, (long long)(end > old ? end : old));
}

/* ---- counters */

/* Store a counter's new text: a new key gets default-ttl; an existing key is edited in place
 * when the length is unchanged and resized otherwise, keeping its expiry either way. */
static int store_number_or_reply(srv_client *c, const srv_key *k, ttl_entry *e, const char *txt,
                                 size_t len)
{
    if (!e) return srv_db_set_or_reply(c, k, txt, len, srv_ttl_default_expire(), NULL);
    if (ttl_entry_vlen(e) == len) {
        memcpy(ttl_entry_value_mut(e), txt, len);
        srv_db_touch_write(k, e);
        return 0;
    }
    if (srv_db_resize_value_or_reply(c, k, &e, len) < 0) return -1;
    memcpy(ttl_entry_value_mut(e), txt, len);
    return 0;
}

static void incr_generic(srv_client *c, const resp_arg *key, long long by)
{
    srv_key k;
    srv_key_from_arg(&k, key);
    ttl_entry *e = srv_db_lookup_write(&k);
    long long v = 0;
    if (e) {
        size_t len;
        const char *p = ttl_entry_value(e, &len);
        if (!resp_str_to_ll(p, len, &v)) {
            srv_reply_error(c, SRV_ERR_NOT_INT);
            return;
        }
    }
    if ((by < 0 && v < 0 && by < LLONG_MIN - v) || (by > 0 && v > 0 && by > LLONG_MAX - v)) {
        srv_reply_error(c, SRV_ERR_OVERFLOW);
        return;
    }
    v += by;
    char txt[24];
    size_t n = resp_ll_to_str(txt, v);
    if (store_number_or_reply(c, &k, e, txt, n) == 0) srv_reply_int(c, v);
}

static void incr_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    incr_generic(c, &argv[1], 1);
}

static void decr_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    incr_generic(c, &argv[1], -1);
}

static void incrby_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    long long by;
    if (parse_ll_or_reply(c, &argv[2], &by) == 0) incr_generic(c, &argv[1], by);
}

static void decrby_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    long long by;
    if (parse_ll_or_reply(c, &argv[2], &by) < 0) return;
    if (by == LLONG_MIN) { /* its negation does not exist */
        srv_reply_error(c, ERR_DECR_OVERFLOW);
        return;
    }
    incr_generic(c, &argv[1], -by);
}

/*
 * Parse a long double the way Redis 7.0 accepts one: strtold over the whole text (so hex, "inf"
 * and exponents are fine), nothing before or after it (no spaces, no embedded NUL), no NaN, and
 * no overflow to infinity or underflow to zero.  Returns 1 on success.
 */
static int parse_long_double(const char *s, size_t len, long double *out)
{
    char buf[LONG_DOUBLE_CHARS];
    if (len == 0 || len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == ' ' || (buf[0] >= '\t' && buf[0] <= '\r')) return 0;
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if ((size_t)(end - buf) != len || isnan(v)) return 0;
    if (errno == ERANGE && (isinf(v) || v == 0)) return 0;
    *out = v;
    return 1;
}

/* Redis's "human" long double text: "%.17Lf", then trailing zeros and a bare point dropped, and
 * "-0" written as "0".  Returns the length (buf holds LONG_DOUBLE_CHARS bytes). */
static size_t format_long_double(char *buf, long double v)
{
    int n = snprintf(buf, LONG_DOUBLE_CHARS, "%.17Lf", v);
    size_t len = n > 0 && n < LONG_DOUBLE_CHARS ? (size_t)n : 0;
    if (memchr(buf, '.', len)) {
        while (len > 0 && buf[len - 1] == '0') len--;
        if (len > 0 && buf[len - 1] == '.') len--;
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    return len;
}

static void incrbyfloat_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    long double by, v = 0;
    if (!parse_long_double(argv[2].ptr, argv[2].len, &by)) {
        srv_reply_error(c, SRV_ERR_NOT_FLOAT);
        return;
    }
    srv_key k;
    srv_key_from_arg(&k, &argv[1]);
    ttl_entry *e = srv_db_lookup_write(&k);
    if (e) {
        size_t len;
        const char *p = ttl_entry_value(e, &len);
        if (!parse_long_double(p, len, &v)) {
            srv_reply_error(c, SRV_ERR_NOT_FLOAT);
            return;
        }
    }
    v += by;
    if (isnan(v) || isinf(v)) {
        srv_reply_error(c, ERR_NAN_INF);
        return;
    }
    char txt[LONG_DOUBLE_CHARS];
    size_t n = format_long_double(txt, v);
    if (store_number_or_reply(c, &k, e, txt, n) == 0) srv_reply_bulk(c, txt, n);
}

/* ---- the table (metadata as Redis 7.0's COMMAND INFO / COMMAND DOCS report it) */

#define RO_FAST (SRV_CMD_READONLY | SRV_CMD_FAST)
#define W_OOM (SRV_CMD_WRITE | SRV_CMD_DENYOOM)
#define W_OOM_FAST (SRV_CMD_WRITE | SRV_CMD_DENYOOM | SRV_CMD_FAST)
#define W_FAST (SRV_CMD_WRITE | SRV_CMD_FAST)

#define STRING_CMD(nm, f, ar, fl, acl_, fk, lk, ks, since_, summary_, cx)                       \
    {                                                                                          \
        .name = nm, .fn = f, .arity = ar, .flags = fl, .acl = acl_, .first_key = fk,            \
        .last_key = lk, .key_step = ks, .group = "string", .since = since_,                     \
        .summary = summary_, .complexity = cx                                                  \
    }

#define CX_GETRANGE                                                                             \
    "O(N) where N is the length of the returned string. The complexity is ultimately "          \
    "determined by the returned length, but because creating a substring from an existing "     \
    "string is very cheap, it can be considered O(1) for small strings."

srv_command srv_cmds_string[] = {
    STRING_CMD("get", get_cmd, 2, RO_FAST, "read string fast", 1, 1, 1, "1.0.0",
               "Get the value of a key", "O(1)"),
    STRING_CMD("set", set_cmd, -3, W_OOM, "write string slow", 1, 1, 1, "1.0.0",
               "Set the string value of a key", "O(1)"),
    STRING_CMD("setex", setex_cmd, 4, W_OOM, "write string slow", 1, 1, 1, "2.0.0",
               "Set the value and expiration of a key", "O(1)"),
    STRING_CMD("psetex", psetex_cmd, 4, W_OOM, "write string slow", 1, 1, 1, "2.6.0",
               "Set the value and expiration in milliseconds of a key", "O(1)"),
    STRING_CMD("setnx", setnx_cmd, 3, W_OOM_FAST, "write string fast", 1, 1, 1, "1.0.0",
               "Set the value of a key, only if the key does not exist", "O(1)"),
    STRING_CMD("getex", getex_cmd, -2, W_FAST, "write string fast", 1, 1, 1, "6.2.0",
               "Get the value of a key and optionally set its expiration", "O(1)"),
    STRING_CMD("getdel", getdel_cmd, 2, W_FAST, "write string fast", 1, 1, 1, "6.2.0",
               "Get the value of a key and delete the key", "O(1)"),
    STRING_CMD("getset", getset_cmd, 3, W_OOM_FAST, "write string fast", 1, 1, 1, "1.0.0",
               "Set the string value of a key and return its old value", "O(1)"),
    STRING_CMD("mget", mget_cmd, -2, RO_FAST, "read string fast", 1, -1, 1, "1.0.0",
               "Get the values of all the given keys",
               "O(N) where N is the number of keys to retrieve."),
    STRING_CMD("mset", mset_cmd, -3, W_OOM, "write string slow", 1, -1, 2, "1.0.1",
               "Set multiple keys to multiple values",
               "O(N) where N is the number of keys to set."),
    STRING_CMD("msetnx", msetnx_cmd, -3, W_OOM, "write string slow", 1, -1, 2, "1.0.1",
               "Set multiple keys to multiple values, only if none of the keys exist",
               "O(N) where N is the number of keys to set."),
    STRING_CMD("strlen", strlen_cmd, 2, RO_FAST, "read string fast", 1, 1, 1, "2.2.0",
               "Get the length of the value stored in a key", "O(1)"),
    STRING_CMD("append", append_cmd, 3, W_OOM_FAST, "write string fast", 1, 1, 1, "2.0.0",
               "Append a value to a key",
               "O(1). The amortized time complexity is O(1) assuming the appended value is small "
               "and the already present value is of any size, since the dynamic string library "
               "used by Redis will double the free space available on every reallocation."),
    STRING_CMD("getrange", getrange_cmd, 4, SRV_CMD_READONLY, "read string slow", 1, 1, 1,
               "2.4.0", "Get a substring of the string stored at a key", CX_GETRANGE),
    STRING_CMD("substr", getrange_cmd, 4, SRV_CMD_READONLY, "read string slow", 1, 1, 1, "1.0.0",
               "Get a substring of the string stored at a key", CX_GETRANGE),
    STRING_CMD("setrange", setrange_cmd, 4, W_OOM, "write string slow", 1, 1, 1, "2.2.0",
               "Overwrite part of a string at key starting at the specified offset",
               "O(1), not counting the time taken to copy the new string in place. Usually, this "
               "string is very small so the amortized complexity is O(1). Otherwise, complexity "
               "is O(M) with M being the length of the value argument."),
    STRING_CMD("incr", incr_cmd, 2, W_OOM_FAST, "write string fast", 1, 1, 1, "1.0.0",
               "Increment the integer value of a key by one", "O(1)"),
    STRING_CMD("incrby", incrby_cmd, 3, W_OOM_FAST, "write string fast", 1, 1, 1, "1.0.0",
               "Increment the integer value of a key by the given amount", "O(1)"),
    STRING_CMD("decr", decr_cmd, 2, W_OOM_FAST, "write string fast", 1, 1, 1, "1.0.0",
               "Decrement the integer value of a key by one", "O(1)"),
    STRING_CMD("decrby", decrby_cmd, 3, W_OOM_FAST, "write string fast", 1, 1, 1, "1.0.0",
               "Decrement the integer value of a key by the given number", "O(1)"),
    STRING_CMD("incrbyfloat", incrbyfloat_cmd, 3, W_OOM_FAST, "write string fast", 1, 1, 1,
               "2.6.0", "Increment the float value of a key by the given amount", "O(1)"),
    {.name = NULL},
};
