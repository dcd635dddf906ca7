/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * db.h: the keyspace as commands see it.  Wraps ttl/ with the server's rules:
 *
 *  - TTL policy (DESIGN.md section 4): a write that names no TTL gets default-ttl; every TTL is
 *    capped by max-ttl (refused, or clamped when ttl-clamp is yes); expiries are absolute
 *    wall-clock milliseconds fixed once, here, by the node that takes the write.
 *  - Versions: every write is stamped with a hybrid-logical-clock version (48-bit ms, 16-bit
 *    counter) so replicas can order writes (last writer wins).
 *  - Limits: max-key-size and max-value-size are checked before anything is stored; maxmemory is
 *    checked by the dispatcher before a command that may grow memory runs.
 *  - Side effects of writes: WATCH invalidation and keyspace statistics.  Every write goes through
 *    the functions below, never straight to ttl/, so replication can hook one place.
 *
 * Keys are hashed once per command: build a srv_key with srv_key_init() and pass it around.
 */
#ifndef SERVER_DB_H
#define SERVER_DB_H

#include <stddef.h>
#include <stdint.h>

#include "resp/resp.h"
#include "ttl/ttl.h"

struct srv_client;

typedef struct srv_key {
    const char *ptr;
    size_t len;
    uint64_t hash;
} srv_key;

/* Initialise the keyspace (random hash seed).  0, or -1 when out of memory. */
int srv_db_init(void);
void srv_db_free(void);

/* Describe a key argument and hash it (once). */
void srv_key_init(srv_key *k, const char *ptr, size_t len);
static inline void srv_key_from_arg(srv_key *k, const resp_arg *a) { srv_key_init(k, a->ptr, a->len); }

/* Look a key up for reading: counts a keyspace hit or miss.  Expired keys are removed and NULL is
 * returned.  The entry is borrowed (see ttl.h for how long it stays valid). */
ttl_entry *srv_db_lookup_read(const srv_key *k);

/* Look a key up before writing it (no hit/miss statistics). */
ttl_entry *srv_db_lookup_write(const srv_key *k);

/* Look a key up without side effects on statistics or expiry (an entry already due counts as
 * absent but is left in place).  For WATCH and introspection. */
ttl_entry *srv_db_peek(const srv_key *k);

/*
 * Store a value.  expire_at_ms is absolute; a value <= now deletes the key instead (the write
 * happened and expired at once).  Checks max-value-size and max-key-size first: on failure it
 * replies the error and returns -1 (the *_or_reply contract); nothing is stored.  On success
 * returns 0 and sets *out (if not NULL) to the new entry (NULL when the key was deleted).
 */
int srv_db_set_or_reply(struct srv_client *c, const srv_key *k, const void *val, size_t vlen,
                        uint64_t expire_at_ms, ttl_entry **out);

/* Check a key length and a value length against max-key-size and max-value-size before anything
 * is stored or replied, so a command can refuse a whole request (SET ... GET, MSET) up front.
 * Replies the error and returns -1 on failure; 0 otherwise.  srv_db_set_or_reply makes the same
 * checks. */
int srv_db_check_sizes_or_reply(struct srv_client *c, size_t klen, size_t vlen);

/*
 * The same rules for front doors without a RESP client (HTTP): these return a code instead of
 * replying, and count nothing (the caller counts its refusals); the *_or_reply functions above
 * and below are these plus Redis's error texts.
 */
#define SRV_DB_OK 0
#define SRV_DB_ERR_KEY_SIZE (-1)    /* key longer than max-key-size */
#define SRV_DB_ERR_VALUE_SIZE (-2)  /* value longer than max-value-size */
#define SRV_DB_ERR_TTL_INVALID (-3) /* expire time not positive (allow_past 0), or overflowing */
#define SRV_DB_ERR_TTL_MAX (-4)     /* TTL above max-ttl, and ttl-clamp is no */

/* SRV_DB_OK, SRV_DB_ERR_KEY_SIZE (checked first) or SRV_DB_ERR_VALUE_SIZE. */
int srv_db_check_sizes(size_t klen, size_t vlen);

/* srv_db_set_or_reply without a client: SRV_DB_OK, or a size error and nothing stored. */
int srv_db_set(const srv_key *k, const void *val, size_t vlen, uint64_t expire_at_ms,
               ttl_entry **out);

/* Delete a key.  Returns 1 when a live key was deleted, 0 otherwise. */
int srv_db_delete(const srv_key *k);

/* Change an entry's expiry (absolute; <= now deletes the key).  Returns 1 when the key still
 * exists afterwards, 0 when it was deleted. */
int srv_db_set_expire(const srv_key *k, ttl_entry *e, uint64_t expire_at_ms);

/* Grow or shrink an entry's value for APPEND/SETRANGE, checking max-value-size (reply and -1 on
 * failure).  *e may move.  Stamps a new version; the caller then writes the new bytes. */
int srv_db_resize_value_or_reply(struct srv_client *c, const srv_key *k, ttl_entry **e,
                                 size_t new_len);

/* Record an in-place change of an entry's value (INCR and friends edit the bytes directly):
 * stamps a new version and runs the write side effects. */
void srv_db_touch_write(const srv_key *k, ttl_entry *e);

/* Remove every key (FLUSHALL/FLUSHDB). */
void srv_db_flush(void);

/* Store a peer's write exactly as it was made (its version and expiry; a tombstone when asked;
 * `shadow` as its record carried, see shadow.h): no limits, no TTL policy, no re-replication.
 * replica.c has already decided it is newer. */
void srv_db_store_replica(const srv_key *k, const void *val, size_t vlen, uint64_t expire_at_ms,
                          uint64_t version, int tombstone, uint64_t shadow);

/* Remove an entry because a peer's FLUSH superseded it (no tombstone, no re-replication). */
void srv_db_drop_replica(const srv_key *k);

/* Number of live keys; keys with a TTL (all of them, in repram). */
size_t srv_db_size(void);

/* Bytes used by the keyspace (keys, values, table, expiry index). */
size_t srv_db_memory(void);

/* Expired and evicted key counters (since start or CONFIG RESETSTAT). */
uint64_t srv_db_expired_keys(void);
uint64_t srv_db_evicted_keys(void);

/* ---- TTL policy */

/* Kinds of expiry argument, as in SET/GETEX/EXPIRE*. */
enum srv_ttl_unit {
    SRV_TTL_SECONDS,     /* EX, EXPIRE, SETEX: relative seconds */
    SRV_TTL_MILLISECONDS,/* PX, PEXPIRE, PSETEX: relative milliseconds */
    SRV_TTL_UNIX_S,      /* EXAT, EXPIREAT: absolute seconds */
    SRV_TTL_UNIX_MS      /* PXAT, PEXPIREAT: absolute milliseconds */
};

/*
 * Turn a TTL argument into an absolute expiry, with Redis's errors for bad numbers and repram's
 * max-ttl rule.  `cmd` is the command name used in the error text ("set").  For SET-like commands
 * (`allow_past` 0) a relative value <= 0 is "invalid expire time"; EXPIRE-like commands pass 1 and
 * get a time in the past (the key is deleted).  On error replies and returns -1.
 */
int srv_ttl_parse_or_reply(struct srv_client *c, const resp_arg *arg, enum srv_ttl_unit unit,
                           const char *cmd, int allow_past, uint64_t *expire_at_ms);

/* Same, for a value already parsed as an integer. */
int srv_ttl_from_ll_or_reply(struct srv_client *c, long long v, enum srv_ttl_unit unit,
                             const char *cmd, int allow_past, uint64_t *expire_at_ms);

/* The same policy without a client: SRV_DB_OK (and *expire_at_ms set), SRV_DB_ERR_TTL_INVALID
 * or SRV_DB_ERR_TTL_MAX (*expire_at_ms untouched). */
int srv_ttl_from_ll(long long v, enum srv_ttl_unit unit, int allow_past, uint64_t *expire_at_ms);

/* The absolute expiry for a write that names no TTL: now + default-ttl. */
uint64_t srv_ttl_default_expire(void);

/* ---- memory admission (the dispatcher calls it for commands flagged denyoom) */

/* With maxmemory set: evict (volatile-ttl) or refuse (noeviction, -OOM reply) so that about
 * `incoming` more bytes fit.  Returns 0 when the command may run, -1 after replying. */
int srv_db_make_room_or_reply(struct srv_client *c, size_t incoming);

/* The same admission check without a reply: 0 when about `incoming` more bytes fit (after
 * evicting under volatile-ttl), -1 otherwise (counted as an OOM rejection).  EXEC uses it, since
 * its refusal is an EXECABORT that quotes the OOM text rather than the plain -OOM reply. */
int srv_db_make_room(size_t incoming);

/* ---- housekeeping (called from timers in net.c) */

/* Active expiry with a time budget in microseconds.  Returns the keys removed. */
size_t srv_db_active_expire(uint64_t budget_us);

/* When the next key is due (UINT64_MAX when none). */
uint64_t srv_db_next_expiry(void);

/* Incremental rehash work for about `budget_us` microseconds. */
void srv_db_rehash(uint64_t budget_us);

/* ---- versions */

/* A new version for a local write, strictly greater than every version seen so far. */
uint64_t srv_db_next_version(void);

#endif /* SERVER_DB_H */
