/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * db.c: the keyspace with the server's rules on top of ttl/ (see db.h for the rules themselves).
 *
 * Why a layer at all: ttl/ is a pure data structure that knows nothing of configuration, clients
 * or replication.  Every policy a user can observe (default and maximum TTL, size limits,
 * maxmemory, versions, WATCH invalidation) is decided here, once, so commands stay short and the
 * cluster work can hook every write in one file.
 *
 * TTL arithmetic follows Redis 7.0 exactly for the errors it reports ("invalid expire time in
 * 'set' command" for non-positive or overflowing values; EXPIRE-family values in the past delete
 * the key), then applies repram's max-ttl (refuse, or clamp with ttl-clamp yes).
 *
 * Event-loop thread only.  Start reading at srv_db_set_or_reply.
 */
#include "server/db.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/client.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/net.h"
#include "server/server.h"

static void on_remove(void *priv, const ttl_entry *e, enum ttl_reason why)
{
    (void)priv;
    if (srv.watched_key_count == 0) return;
    if (why == TTL_REMOVED_EXPIRED || why == TTL_REMOVED_EVICTED) {
        size_t klen;
        const void *key = ttl_entry_key(e, &klen);
        srv_watch_touch_raw(key, klen);
    }
}

int srv_db_init(void)
{
    uint8_t seed[16];
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        srv_log(SRV_LOG_WARNING, "getrandom failed; cannot seed the key hash");
        return -1;
    }
    srv.db = ttl_dict_create(seed);
    if (!srv.db) return -1;
    ttl_dict_set_remove_hook(srv.db, on_remove, NULL);
    return 0;
}

void srv_db_free(void)
{
    ttl_dict_free(srv.db);
    srv.db = NULL;
}

void srv_key_init(srv_key *k, const char *ptr, size_t len)
{
    k->ptr = ptr;
    k->len = len;
    k->hash = ttl_dict_hash(srv.db, ptr, len);
}

ttl_entry *srv_db_lookup_read(const srv_key *k)
{
    ttl_entry *e = ttl_dict_find(srv.db, k->hash, k->ptr, k->len, srv_now_ms(), 0);
    if (e) srv.stats.keyspace_hits++;
    else srv.stats.keyspace_misses++;
    return e;
}

ttl_entry *srv_db_lookup_write(const srv_key *k)
{
    return ttl_dict_find(srv.db, k->hash, k->ptr, k->len, srv_now_ms(), 0);
}

ttl_entry *srv_db_peek(const srv_key *k)
{
    /* A `now` of 0 disables lazy expiry in ttl_dict_find; judge expiry here instead. */
    ttl_entry *e = ttl_dict_find(srv.db, k->hash, k->ptr, k->len, 0, 0);
    if (e && ttl_entry_expire_at(e) <= srv_now_ms()) return NULL;
    return e;
}

uint64_t srv_db_next_version(void)
{
    uint64_t v = srv_now_ms() << 16;
    srv.last_version = v > srv.last_version ? v : srv.last_version + 1;
    return srv.last_version;
}

static void after_write(const srv_key *k, uint64_t expire_at_ms)
{
    if (srv.watched_key_count) srv_watch_touch(k);
    srv_net_note_expiry(expire_at_ms);
}

static int check_key_size_or_reply(srv_client *c, size_t klen)
{
    if ((long long)klen <= srv.cfg.max_key_size) return 0;
    srv.stats.oversize_rejections++;
    srv_reply_errorf(c, "ERR key exceeds max-key-size (%lld bytes)", srv.cfg.max_key_size);
    return -1;
}

static int check_value_size_or_reply(srv_client *c, size_t vlen)
{
    if ((long long)vlen <= srv.cfg.max_value_size) return 0;
    srv.stats.oversize_rejections++;
    srv_reply_errorf(c, "ERR value exceeds max-value-size (%lld bytes)", srv.cfg.max_value_size);
    return -1;
}

int srv_db_check_sizes_or_reply(srv_client *c, size_t klen, size_t vlen)
{
    if (check_key_size_or_reply(c, klen) < 0 || check_value_size_or_reply(c, vlen) < 0) return -1;
    return 0;
}

static void nomem(const char *what)
{
    srv_log(SRV_LOG_WARNING, "out of memory while %s", what);
    abort();
}

int srv_db_set_or_reply(srv_client *c, const srv_key *k, const void *val, size_t vlen,
                        uint64_t expire_at_ms, ttl_entry **out)
{
    if (srv_db_check_sizes_or_reply(c, k->len, vlen) < 0) return -1;
    if (out) *out = NULL;
    if (expire_at_ms <= srv_now_ms()) {
        srv_db_delete(k);
        return 0;
    }
    int rc = ttl_dict_set(srv.db, k->hash, k->ptr, k->len, val, vlen, expire_at_ms,
                          srv_db_next_version(), out);
    if (rc == TTL_ERR_NOMEM) nomem("storing a key");
    if (rc != TTL_OK) { /* unreachable: sizes were checked against smaller limits above */
        srv_reply_error(c, "ERR value too large");
        return -1;
    }
    after_write(k, expire_at_ms);
    return 0;
}

int srv_db_delete(const srv_key *k)
{
    ttl_entry *e = ttl_dict_find(srv.db, k->hash, k->ptr, k->len, srv_now_ms(), 1);
    if (!e) return 0;
    int live = !ttl_entry_is_tombstone(e);
    ttl_dict_delete(srv.db, k->hash, k->ptr, k->len);
    if (live && srv.watched_key_count) srv_watch_touch(k);
    return live;
}

int srv_db_set_expire(const srv_key *k, ttl_entry *e, uint64_t expire_at_ms)
{
    if (expire_at_ms <= srv_now_ms()) {
        srv_db_delete(k);
        return 0;
    }
    ttl_dict_set_expire(srv.db, e, expire_at_ms);
    ttl_entry_set_version(e, srv_db_next_version());
    after_write(k, expire_at_ms);
    return 1;
}

int srv_db_resize_value_or_reply(srv_client *c, const srv_key *k, ttl_entry **e, size_t new_len)
{
    if (check_value_size_or_reply(c, new_len) < 0) return -1;
    if (ttl_dict_resize_value(srv.db, e, new_len) != TTL_OK) nomem("growing a value");
    ttl_entry_set_version(*e, srv_db_next_version());
    if (srv.watched_key_count) srv_watch_touch(k);
    return 0;
}

void srv_db_touch_write(const srv_key *k, ttl_entry *e)
{
    ttl_entry_set_version(e, srv_db_next_version());
    if (srv.watched_key_count) srv_watch_touch(k);
}

void srv_db_flush(void)
{
    if (srv.watched_key_count) srv_watch_touch_all();
    ttl_dict_clear(srv.db);
}

size_t srv_db_size(void) { return ttl_dict_size(srv.db); }
size_t srv_db_memory(void) { return ttl_dict_mem_bytes(srv.db); }

uint64_t srv_db_expired_keys(void) { return ttl_dict_stats(srv.db)->expired - srv.stats.expired_keys_base; }
uint64_t srv_db_evicted_keys(void) { return ttl_dict_stats(srv.db)->evicted - srv.stats.evicted_keys_base; }

/* ---- TTL policy */

uint64_t srv_ttl_default_expire(void)
{
    return srv_now_ms() + (uint64_t)srv.cfg.default_ttl_s * 1000;
}

static int invalid_expire(srv_client *c, const char *cmd)
{
    srv_reply_errorf(c, "ERR invalid expire time in '%s' command", cmd);
    return -1;
}

/* Redis's arithmetic: returns 0 with an absolute time in ms (possibly in the past), or -1. */
static int absolute_ms(long long v, enum srv_ttl_unit unit, int allow_past, long long now,
                       long long *abs_ms)
{
    int seconds = unit == SRV_TTL_SECONDS || unit == SRV_TTL_UNIX_S;
    int relative = unit == SRV_TTL_SECONDS || unit == SRV_TTL_MILLISECONDS;
    if (!allow_past && v <= 0) return -1;
    if (seconds) {
        if (v > LLONG_MAX / 1000 || v < LLONG_MIN / 1000) return -1;
        v *= 1000;
    }
    if (relative) {
        if (v > 0 && v > LLONG_MAX - now) return -1;
        v += now;
    }
    *abs_ms = v;
    return 0;
}

int srv_ttl_from_ll_or_reply(srv_client *c, long long v, enum srv_ttl_unit unit, const char *cmd,
                             int allow_past, uint64_t *expire_at_ms)
{
    long long now = (long long)srv_now_ms();
    long long abs_ms;
    if (absolute_ms(v, unit, allow_past, now, &abs_ms) < 0) return invalid_expire(c, cmd);
    if (abs_ms <= now) {
        *expire_at_ms = abs_ms > 0 ? (uint64_t)abs_ms : 1; /* in the past: the key goes */
        return 0;
    }
    long long max_ms = srv.cfg.max_ttl_s * 1000;
    if (abs_ms - now > max_ms || (uint64_t)abs_ms > TTL_EXPIRE_MAX) {
        if (!srv.cfg.ttl_clamp) {
            srv.stats.oversize_rejections++;
            srv_reply_errorf(c, "ERR expire time exceeds max-ttl (%lld seconds) in '%s' command",
                             srv.cfg.max_ttl_s, cmd);
            return -1;
        }
        abs_ms = now + max_ms;
    }
    *expire_at_ms = (uint64_t)abs_ms;
    return 0;
}

int srv_ttl_parse_or_reply(srv_client *c, const resp_arg *arg, enum srv_ttl_unit unit,
                           const char *cmd, int allow_past, uint64_t *expire_at_ms)
{
    long long v;
    if (!resp_str_to_ll(arg->ptr, arg->len, &v)) {
        srv_reply_error(c, SRV_ERR_NOT_INT);
        return -1;
    }
    return srv_ttl_from_ll_or_reply(c, v, unit, cmd, allow_past, expire_at_ms);
}

/* ---- memory */

int srv_db_make_room(size_t incoming)
{
    size_t limit = (size_t)srv.cfg.maxmemory;
    if (limit == 0 || srv_db_memory() + incoming <= limit) return 0;
    if (srv.cfg.maxmemory_policy == SRV_MAXMEMORY_VOLATILE_TTL) {
        uint64_t now = srv_now_ms();
        while (srv_db_memory() + incoming > limit && ttl_dict_evict(srv.db, now)) {
        }
        if (srv_db_memory() + incoming <= limit) return 0;
    }
    srv.stats.oom_rejections++;
    return -1;
}

int srv_db_make_room_or_reply(srv_client *c, size_t incoming)
{
    if (srv_db_make_room(incoming) == 0) return 0;
    srv_reply_error(c, SRV_ERR_OOM);
    return -1;
}

/* ---- housekeeping */

size_t srv_db_active_expire(uint64_t budget_us)
{
    uint64_t start = srv_ustime();
    uint64_t now = start / 1000;
    size_t total = 0;
    int more = 1;
    while (more) {
        total += ttl_dict_expire(srv.db, now, 1024, &more);
        if (srv_ustime() - start >= budget_us) break;
    }
    return total;
}

uint64_t srv_db_next_expiry(void) { return ttl_dict_next_expiry(srv.db); }

void srv_db_rehash(uint64_t budget_us)
{
    uint64_t start = srv_ustime();
    while (ttl_dict_rehash(srv.db, 256)) {
        if (srv_ustime() - start >= budget_us) break;
    }
}
