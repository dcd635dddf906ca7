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
#include "server/digest.h"
#include "server/shadow.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/net.h"
#include "server/replica.h"
#include "server/server.h"

/* Every entry that leaves the dictionary (deleted, expired, evicted, replaced) passes here. */
static void on_remove(void *priv, const ttl_entry *e, enum ttl_reason why)
{
    (void)priv;
    size_t klen;
    const void *key = ttl_entry_key(e, &klen);
    srv_digest_toggle(key, klen, ttl_entry_version(e), ttl_entry_is_tombstone(e));
    if (why == TTL_REMOVED_REPLACED) srv_shadow_on_replaced(e);
    else if (why == TTL_REMOVED_EXPIRED) srv_shadow_on_expired(e);
    if (srv.watched_key_count && (why == TTL_REMOVED_EXPIRED || why == TTL_REMOVED_EVICTED))
        srv_watch_touch_raw(key, klen);
}

/* An entry was stored: count it in the keyspace digest (a cluster's anti-entropy compares it). */
static void entered(const srv_key *k, const ttl_entry *e)
{
    srv_digest_toggle(k->ptr, k->len, ttl_entry_version(e), ttl_entry_is_tombstone(e));
}

/* Give an entry changed in place a new version, keeping the digest and its shadow in step.
 * old_expire is its expiry before the change (EXPIRE may have shortened it). */
static void bump_version(const srv_key *k, ttl_entry *e, uint64_t old_expire)
{
    uint64_t old = ttl_entry_version(e);
    srv_digest_toggle(k->ptr, k->len, old, 0);
    ttl_entry_set_version(e, srv_db_next_version());
    srv_digest_toggle(k->ptr, k->len, ttl_entry_version(e), 0);
    srv_shadow_rebase(k, old, old_expire, e);
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
    cluster_hlc_init(&srv.hlc, 0); /* the cluster, if any, re-tags it with the node's name */
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

uint64_t srv_db_next_version(void) { return cluster_hlc_next(&srv.hlc, srv_now_ms()); }

static void after_write(const srv_key *k, uint64_t expire_at_ms)
{
    if (srv.watched_key_count) srv_watch_touch(k);
    srv_repl_note_key(k);
    srv_net_note_expiry(expire_at_ms);
}

/*
 * In a cluster a delete leaves a tombstone, so an older copy of the value arriving late from a
 * peer (or met by repair) cannot bring it back.  It must shadow the value as long as that could
 * still live, bounded by the grace period.  On a single node nothing can come back: no tombstone.
 */
static void leave_tombstone(const srv_key *k, uint64_t value_expire_at)
{
    uint64_t now = srv_now_ms();
    uint64_t until = now + srv_repl_tombstone_grace_ms();
    if (value_expire_at > now && value_expire_at < until) until = value_expire_at;
    ttl_entry *e;
    int rc = ttl_dict_set_tombstone(srv.db, k->hash, k->ptr, k->len, until, srv_db_next_version(),
                                    &e);
    if (rc == TTL_ERR_NOMEM) {
        srv_log(SRV_LOG_WARNING, "out of memory while storing a tombstone");
        abort();
    }
    entered(k, e);
    srv_repl_note_key(k);
}

int srv_db_check_sizes(size_t klen, size_t vlen)
{
    if ((long long)klen > srv.cfg.max_key_size) return SRV_DB_ERR_KEY_SIZE;
    if ((long long)vlen > srv.cfg.max_value_size) return SRV_DB_ERR_VALUE_SIZE;
    return SRV_DB_OK;
}

/* Reply the Redis-style text of a size error from srv_db_check_sizes (counted). */
static int size_error_reply(srv_client *c, int rc)
{
    srv.stats.oversize_rejections++;
    if (rc == SRV_DB_ERR_KEY_SIZE)
        srv_reply_errorf(c, "ERR key exceeds max-key-size (%lld bytes)", srv.cfg.max_key_size);
    else
        srv_reply_errorf(c, "ERR value exceeds max-value-size (%lld bytes)", srv.cfg.max_value_size);
    return -1;
}

int srv_db_check_sizes_or_reply(srv_client *c, size_t klen, size_t vlen)
{
    int rc = srv_db_check_sizes(klen, vlen);
    return rc == SRV_DB_OK ? 0 : size_error_reply(c, rc);
}

static void nomem(const char *what)
{
    srv_log(SRV_LOG_WARNING, "out of memory while %s", what);
    abort();
}

int srv_db_set(const srv_key *k, const void *val, size_t vlen, uint64_t expire_at_ms,
               ttl_entry **out)
{
    int rc = srv_db_check_sizes(k->len, vlen);
    if (rc != SRV_DB_OK) return rc;
    if (out) *out = NULL;
    if (expire_at_ms <= srv_now_ms()) {
        /* Written already expired: the key goes; in a cluster the newer (dead) version must
         * also supersede any copy a peer holds, even if this node had none. */
        if (!srv_db_delete(k) && srv_repl_enabled()) leave_tombstone(k, 0);
        return SRV_DB_OK;
    }
    ttl_entry *e;
    srv_shadow_before_store();
    rc = ttl_dict_set(srv.db, k->hash, k->ptr, k->len, val, vlen, expire_at_ms,
                      srv_db_next_version(), &e);
    if (rc == TTL_ERR_NOMEM) nomem("storing a key");
    if (rc != TTL_OK) return SRV_DB_ERR_VALUE_SIZE; /* unreachable: sizes were checked above */
    if (out) *out = e;
    entered(k, e);
    srv_shadow_after_store(k, e, 0);
    after_write(k, expire_at_ms);
    return SRV_DB_OK;
}

int srv_db_set_or_reply(srv_client *c, const srv_key *k, const void *val, size_t vlen,
                        uint64_t expire_at_ms, ttl_entry **out)
{
    if (srv_db_check_sizes_or_reply(c, k->len, vlen) < 0) return -1;
    if (srv_db_set(k, val, vlen, expire_at_ms, out) != SRV_DB_OK) {
        srv_reply_error(c, "ERR value too large");
        return -1;
    }
    return 0;
}

int srv_db_delete(const srv_key *k)
{
    ttl_entry *e = ttl_dict_find(srv.db, k->hash, k->ptr, k->len, srv_now_ms(), 1);
    if (!e || ttl_entry_is_tombstone(e)) return 0;
    if (srv.watched_key_count) srv_watch_touch(k);
    if (srv_repl_enabled()) {
        /* shadow the value as long as it, or an older copy it replaced, could live */
        uint64_t until = ttl_entry_expire_at(e), shadow = srv_shadow_of(k, e);
        leave_tombstone(k, shadow > until ? shadow : until);
    } else {
        ttl_dict_delete(srv.db, k->hash, k->ptr, k->len);
    }
    return 1;
}

int srv_db_set_expire(const srv_key *k, ttl_entry *e, uint64_t expire_at_ms)
{
    if (expire_at_ms <= srv_now_ms()) {
        srv_db_delete(k);
        return 0;
    }
    uint64_t old_expire = ttl_entry_expire_at(e);
    ttl_dict_set_expire(srv.db, e, expire_at_ms);
    bump_version(k, e, old_expire);
    after_write(k, expire_at_ms);
    return 1;
}

int srv_db_resize_value_or_reply(srv_client *c, const srv_key *k, ttl_entry **e, size_t new_len)
{
    if (srv_db_check_sizes(0, new_len) != SRV_DB_OK) return size_error_reply(c, SRV_DB_ERR_VALUE_SIZE);
    if (ttl_dict_resize_value(srv.db, e, new_len) != TTL_OK) nomem("growing a value");
    bump_version(k, *e, ttl_entry_expire_at(*e));
    if (srv.watched_key_count) srv_watch_touch(k);
    srv_repl_note_key(k);
    return 0;
}

void srv_db_touch_write(const srv_key *k, ttl_entry *e)
{
    bump_version(k, e, ttl_entry_expire_at(e));
    if (srv.watched_key_count) srv_watch_touch(k);
    srv_repl_note_key(k);
}

void srv_db_flush(void)
{
    if (srv.watched_key_count) srv_watch_touch_all();
    ttl_dict_clear(srv.db);
    srv_repl_note_flush(srv_db_next_version());
}

/* ---- writes that arrive from peers (replica.c decides them by last-writer-wins) */

void srv_db_store_replica(const srv_key *k, const void *val, size_t vlen, uint64_t expire_at_ms,
                          uint64_t version, int tombstone, uint64_t shadow)
{
    ttl_entry *e;
    srv_shadow_before_store();
    int rc = tombstone ? ttl_dict_set_tombstone(srv.db, k->hash, k->ptr, k->len, expire_at_ms,
                                                version, &e)
                       : ttl_dict_set(srv.db, k->hash, k->ptr, k->len, val, vlen, expire_at_ms,
                                      version, &e);
    if (rc == TTL_ERR_NOMEM) nomem("storing a replicated key");
    if (rc != TTL_OK) return; /* longer than ttl/ can hold: replica.c checked the limits */
    entered(k, e);
    if (!tombstone) srv_shadow_after_store(k, e, shadow);
    if (srv.watched_key_count) srv_watch_touch(k);
    srv_net_note_expiry(expire_at_ms);
}

void srv_db_drop_replica(const srv_key *k)
{
    ttl_dict_delete(srv.db, k->hash, k->ptr, k->len);
    if (srv.watched_key_count) srv_watch_touch(k);
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

int srv_ttl_from_ll(long long v, enum srv_ttl_unit unit, int allow_past, uint64_t *expire_at_ms)
{
    long long now = (long long)srv_now_ms();
    long long abs_ms;
    if (absolute_ms(v, unit, allow_past, now, &abs_ms) < 0) return SRV_DB_ERR_TTL_INVALID;
    if (abs_ms <= now) {
        *expire_at_ms = abs_ms > 0 ? (uint64_t)abs_ms : 1; /* in the past: the key goes */
        return SRV_DB_OK;
    }
    long long max_ms = srv.cfg.max_ttl_s * 1000;
    if (abs_ms - now > max_ms || (uint64_t)abs_ms > TTL_EXPIRE_MAX) {
        if (!srv.cfg.ttl_clamp) return SRV_DB_ERR_TTL_MAX;
        abs_ms = now + max_ms;
    }
    *expire_at_ms = (uint64_t)abs_ms;
    return SRV_DB_OK;
}

int srv_ttl_from_ll_or_reply(srv_client *c, long long v, enum srv_ttl_unit unit, const char *cmd,
                             int allow_past, uint64_t *expire_at_ms)
{
    int rc = srv_ttl_from_ll(v, unit, allow_past, expire_at_ms);
    if (rc == SRV_DB_ERR_TTL_INVALID) return invalid_expire(c, cmd);
    if (rc == SRV_DB_ERR_TTL_MAX) {
        srv.stats.oversize_rejections++;
        srv_reply_errorf(c, "ERR expire time exceeds max-ttl (%lld seconds) in '%s' command",
                         srv.cfg.max_ttl_s, cmd);
        return -1;
    }
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
    srv_shadow_flush(); /* markers of shortened lifetimes that just ended */
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
