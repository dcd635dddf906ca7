/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_multi.c: MULTI, EXEC, DISCARD, WATCH and UNWATCH (Redis 7.0 semantics), and the WATCH
 * bookkeeping the keyspace calls into (multi.h).
 *
 * Transactions.  While a client is in MULTI the dispatcher hands every command that is not a
 * transaction control command (flag SRV_CMD_NOMULTI: MULTI EXEC DISCARD WATCH QUIT RESET) to
 * srv_multi_queue.  The query buffer moves on while the transaction is open, so each queued
 * command is copied into one allocation holding its resp_arg array followed by the argument bytes
 * (one malloc and one free per command, and the argv pointers need no fix-up).  EXEC replays the
 * queue through srv_call, which does the per-command accounting exactly as for a direct call.
 * A refusal while queueing (unknown command, arity, NOAUTH, OOM) sets DIRTY_EXEC in the
 * dispatcher, and EXEC then answers EXECABORT.
 *
 * WATCH.  Optimistic locking: a table maps each watched key to the list of (client, key) records
 * watching it, and each client keeps its own records in a singly linked list.  Writes call
 * srv_watch_touch with the key already hashed; when nobody watches anything (srv.watched_key_count
 * == 0) the write path never gets here, so WATCH costs nothing unless used.  The table hashes
 * with the keyspace's keyed SipHash (ttl_dict_hash), so clients cannot build collision chains.
 * Rejected: a per-client array scanned on every write (O(clients x keys) per write), and Redis's
 * per-db dict of lists (we have one db, and intrusive records avoid a list allocation per key).
 *
 * Expired keys follow Redis 7.0 (multi.c): a key that was already logically expired when WATCHed
 * ("stale") is remembered as such.  Its later removal (lazy or active expiry, DEL, FLUSHALL) is
 * no logical change and does not fail EXEC; writing a new value to it does.  A key that was live
 * when WATCHed and has expired by EXEC time fails EXEC even if nobody has removed it yet.
 *
 * Invariants:
 *   - srv.watched_key_count == number of keys in the table; the table is freed when it drops to 0.
 *   - a watch_key is in the table iff its watcher list is non-empty.
 *   - c->mstate[0..mcount) are queued commands; c->mstate_mem counts every byte they hold.
 * Event-loop thread only.  Start reading at exec_cmd, then srv_watch_touch.
 */
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/db.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/server.h"

/* Buckets of the watch table when it is created; it doubles when keys outnumber buckets. */
#define WATCH_TABLE_INITIAL 16

typedef struct srv_multi_cmd {
    srv_command *cmd;
    int argc;
    resp_arg *argv; /* one allocation: argc resp_arg, then the argument bytes */
    size_t alloc;   /* bytes of that allocation */
} srv_multi_cmd;

typedef struct watch_key {
    struct watch_key *next; /* bucket chain */
    uint64_t hash;
    srv_list_node watchers; /* srv_watched.key_node */
    size_t klen;
    char key[];
} watch_key;

/* One client watching one key. */
typedef struct srv_watched {
    struct srv_watched *next; /* the client's next record */
    srv_list_node key_node;   /* in watch_key.watchers */
    watch_key *wk;
    srv_client *client;
    int expired; /* the key was logically expired (but present) when WATCHed */
} srv_watched;

typedef struct srv_watch_table {
    watch_key **buckets;
    size_t mask;
} srv_watch_table;

static void nomem(void)
{
    srv_log(SRV_LOG_WARNING, "out of memory in MULTI/WATCH");
    abort();
}

/* ---- the watch table */

static watch_key *table_find(uint64_t hash, const void *key, size_t klen)
{
    if (!srv.watches) return NULL;
    for (watch_key *w = srv.watches->buckets[hash & srv.watches->mask]; w; w = w->next)
        if (w->hash == hash && w->klen == klen && memcmp(w->key, key, klen) == 0) return w;
    return NULL;
}

static void table_grow(void)
{
    srv_watch_table *t = srv.watches;
    size_t n = (t->mask + 1) * 2;
    watch_key **b = calloc(n, sizeof *b);
    if (!b) nomem();
    for (size_t i = 0; i <= t->mask; i++) {
        watch_key *w = t->buckets[i];
        while (w) {
            watch_key *next = w->next;
            w->next = b[w->hash & (n - 1)];
            b[w->hash & (n - 1)] = w;
            w = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->mask = n - 1;
}

static watch_key *table_add(uint64_t hash, const void *key, size_t klen)
{
    if (!srv.watches) {
        srv.watches = calloc(1, sizeof *srv.watches);
        if (!srv.watches) nomem();
        srv.watches->buckets = calloc(WATCH_TABLE_INITIAL, sizeof *srv.watches->buckets);
        if (!srv.watches->buckets) nomem();
        srv.watches->mask = WATCH_TABLE_INITIAL - 1;
    } else if (srv.watched_key_count > srv.watches->mask) {
        table_grow();
    }
    watch_key *w = malloc(sizeof *w + klen);
    if (!w) nomem();
    w->hash = hash;
    w->klen = klen;
    memcpy(w->key, key, klen);
    srv_list_init(&w->watchers);
    w->next = srv.watches->buckets[hash & srv.watches->mask];
    srv.watches->buckets[hash & srv.watches->mask] = w;
    srv.watched_key_count++;
    return w;
}

static void table_remove(watch_key *w)
{
    watch_key **p = &srv.watches->buckets[w->hash & srv.watches->mask];
    while (*p != w) p = &(*p)->next;
    *p = w->next;
    free(w);
    if (--srv.watched_key_count == 0) {
        free(srv.watches->buckets);
        free(srv.watches);
        srv.watches = NULL;
    }
}

/* Physically present in the keyspace (even if already due), tombstones excluded.  A `now` of 0
 * keeps ttl_dict_find from expiring it on the way. */
static const ttl_entry *present(uint64_t hash, const void *key, size_t klen)
{
    return ttl_dict_find(srv.db, hash, key, klen, 0, 0);
}

static int stale(const ttl_entry *e) { return e && ttl_entry_expire_at(e) <= srv_now_ms(); }

/* ---- per-client watching */

static void watch_key_for(srv_client *c, const resp_arg *a)
{
    srv_key k;
    srv_key_from_arg(&k, a);
    watch_key *w = table_find(k.hash, a->ptr, a->len);
    if (w) {
        for (srv_list_node *n = w->watchers.next; n != &w->watchers; n = n->next)
            if (srv_container_of(n, srv_watched, key_node)->client == c) return;
    } else {
        w = table_add(k.hash, a->ptr, a->len);
    }
    srv_watched *r = malloc(sizeof *r);
    if (!r) nomem();
    r->wk = w;
    r->client = c;
    r->expired = stale(present(k.hash, a->ptr, a->len));
    srv_list_init(&r->key_node);
    srv_list_push_back(&w->watchers, &r->key_node);
    r->next = c->watched;
    c->watched = r;
}

static void unwatch_all(srv_client *c)
{
    srv_watched *r = c->watched;
    while (r) {
        srv_watched *next = r->next;
        watch_key *w = r->wk;
        srv_list_remove(&r->key_node);
        if (srv_list_empty(&w->watchers)) table_remove(w);
        free(r);
        r = next;
    }
    c->watched = NULL;
}

/* EXEC: a key that was live when WATCHed and is due now (even if not yet removed) changed. */
static int watched_key_expired(const srv_client *c)
{
    for (const srv_watched *r = c->watched; r; r = r->next) {
        if (r->expired) continue;
        if (stale(present(r->wk->hash, r->wk->key, r->wk->klen))) return 1;
    }
    return 0;
}

/*
 * Flag the watchers of one key.  `now_present` says whether the key is in the keyspace after the
 * change (-1: look it up, only if some watcher needs to know).  A watcher that saw the key stale
 * is not flagged when the key is gone now (the stale key was merely removed), and forgets that
 * it was stale, as Redis 7.0's touchWatchedKey does.
 */
static void touch_watchers(watch_key *w, int now_present)
{
    for (srv_list_node *n = w->watchers.next; n != &w->watchers; n = n->next) {
        srv_watched *r = srv_container_of(n, srv_watched, key_node);
        if (r->client->flags & SRV_CLIENT_DIRTY_CAS) continue;
        if (r->expired) {
            if (now_present < 0) now_present = present(w->hash, w->key, w->klen) != NULL;
            if (!now_present) {
                r->expired = 0;
                continue;
            }
        }
        r->client->flags |= SRV_CLIENT_DIRTY_CAS;
    }
}

void srv_watch_touch(const srv_key *k)
{
    if (srv.watched_key_count == 0) return;
    watch_key *w = table_find(k->hash, k->ptr, k->len);
    if (w) touch_watchers(w, -1);
}

void srv_watch_touch_raw(const void *key, size_t klen)
{
    if (srv.watched_key_count == 0) return;
    /* Called from the keyspace's removal hook: the key is leaving, and the dictionary must not
     * be looked into from here.  So it counts as absent. */
    watch_key *w = table_find(ttl_dict_hash(srv.db, key, klen), key, klen);
    if (w) touch_watchers(w, 0);
}

void srv_watch_touch_all(void)
{
    /* Called before the keyspace is emptied.  Only keys present now are touched (Redis 7.0's
     * touchAllWatchedKeysInDb): a watched key that does not exist does not change. */
    if (srv.watched_key_count == 0) return;
    for (size_t i = 0; i <= srv.watches->mask; i++) {
        for (watch_key *w = srv.watches->buckets[i]; w; w = w->next) {
            if (!present(w->hash, w->key, w->klen)) continue;
            for (srv_list_node *n = w->watchers.next; n != &w->watchers; n = n->next) {
                srv_watched *r = srv_container_of(n, srv_watched, key_node);
                if (r->expired) r->expired = 0; /* a stale key removed: no logical change */
                else r->client->flags |= SRV_CLIENT_DIRTY_CAS;
            }
        }
    }
}

/* ---- the transaction queue */

void srv_multi_queue(srv_client *c, srv_command *cmd, int argc, const resp_arg *argv)
{
    if (c->mcount == c->mcap) {
        int cap = c->mcap ? c->mcap * 2 : 4;
        srv_multi_cmd *m = realloc(c->mstate, sizeof *m * (size_t)cap);
        if (!m) nomem();
        c->mstate_mem += sizeof *m * (size_t)(cap - c->mcap);
        c->mstate = m;
        c->mcap = cap;
    }
    size_t bytes = sizeof(resp_arg) * (size_t)argc;
    for (int i = 0; i < argc; i++) bytes += argv[i].len;
    resp_arg *copy = malloc(bytes ? bytes : 1);
    if (!copy) nomem();
    char *p = (char *)(copy + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        copy[i].ptr = p;
        copy[i].len = argv[i].len;
        p += argv[i].len;
    }
    srv_multi_cmd *m = &c->mstate[c->mcount++];
    m->cmd = cmd;
    m->argc = argc;
    m->argv = copy;
    m->alloc = bytes;
    c->mstate_mem += bytes;
    srv_reply_raw(c, "+QUEUED\r\n", 9);
}

void srv_multi_reset(srv_client *c)
{
    for (int i = 0; i < c->mcount; i++) free(c->mstate[i].argv);
    free(c->mstate);
    c->mstate = NULL;
    c->mcount = c->mcap = 0;
    c->mstate_mem = 0;
    c->flags &= ~(SRV_CLIENT_MULTI | SRV_CLIENT_DIRTY_CAS | SRV_CLIENT_DIRTY_EXEC);
    unwatch_all(c);
}

/* Discard the transaction and reply "EXECABORT Transaction discarded because of: <reason>". */
static void exec_abort(srv_client *c, const char *reason)
{
    if (strncmp(reason, "ERR ", 4) == 0) reason += 4;
    srv_multi_reset(c);
    srv_reply_errorf(c, "EXECABORT Transaction discarded because of: %s", reason);
}

/* ---- commands */

static void multi_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    if (c->flags & SRV_CLIENT_MULTI) {
        srv_reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= SRV_CLIENT_MULTI;
    srv_reply_ok(c);
}

static void discard_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    if (!(c->flags & SRV_CLIENT_MULTI)) {
        srv_reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    srv_multi_reset(c);
    srv_reply_ok(c);
}

/* Bytes the queued memory-growing commands bring, or 0 when none of them is denyoom. */
static size_t queued_denyoom_bytes(const srv_client *c, int *any)
{
    size_t n = 0;
    *any = 0;
    for (int i = 0; i < c->mcount; i++) {
        if (!(c->mstate[i].cmd->flags & SRV_CMD_DENYOOM)) continue;
        *any = 1;
        n += c->mstate[i].alloc;
    }
    return n;
}

static void exec_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    if (!(c->flags & SRV_CLIENT_MULTI)) {
        srv_reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    int any_denyoom;
    size_t incoming = queued_denyoom_bytes(c, &any_denyoom);
    if (any_denyoom && srv.cfg.maxmemory > 0 && srv_db_make_room(incoming) < 0) {
        exec_abort(c, SRV_ERR_OOM);
        return;
    }
    if (watched_key_expired(c)) c->flags |= SRV_CLIENT_DIRTY_CAS;
    if (c->flags & (SRV_CLIENT_DIRTY_EXEC | SRV_CLIENT_DIRTY_CAS)) {
        int aborted = (c->flags & SRV_CLIENT_DIRTY_EXEC) != 0;
        srv_multi_reset(c);
        if (aborted) srv_reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
        else srv_reply_null_array(c);
        return;
    }
    const srv_command *self = c->last_cmd;
    unwatch_all(c); /* nothing can fail the transaction any more: stop tracking at once */
    srv_reply_array(c, c->mcount);
    for (int i = 0; i < c->mcount; i++) {
        srv_multi_cmd *m = &c->mstate[i];
        srv_call(c, m->cmd, m->argc, m->argv);
    }
    c->last_cmd = self;
    srv_multi_reset(c);
}

int srv_multi_writes_queued(const srv_client *c)
{
    for (int i = 0; i < c->mcount; i++)
        if (c->mstate[i].cmd->flags & SRV_CMD_WRITE) return 1;
    return 0;
}

int srv_multi_is_exec(const srv_command *cmd) { return cmd && cmd->fn == exec_cmd; }

int srv_multi_abort_exec(srv_client *c, const srv_command *cmd, const char *msg)
{
    /* Redis answers this way whether or not a transaction is open. */
    if (!cmd || cmd->fn != exec_cmd) return 0;
    exec_abort(c, msg);
    return 1;
}

static void watch_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    if (c->flags & SRV_CLIENT_MULTI) {
        srv_reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    /* Already doomed: watching more keys cannot change the outcome. */
    if (!(c->flags & SRV_CLIENT_DIRTY_CAS))
        for (int i = 1; i < argc; i++) watch_key_for(c, &argv[i]);
    srv_reply_ok(c);
}

static void unwatch_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    unwatch_all(c);
    c->flags &= ~SRV_CLIENT_DIRTY_CAS;
    srv_reply_ok(c);
}

/* Flags every transaction command shares (Redis 7.0: noscript loading stale). */
#define TX_FLAGS (SRV_CMD_NOSCRIPT | SRV_CMD_LOADING | SRV_CMD_STALE)

#define TX_CMD(n, f, ar, fl, fk, lk, ks, since_, sum, cx)                                            \
    {.name = n, .fn = f, .arity = ar, .flags = fl, .acl = "transaction", .first_key = fk,           \
     .last_key = lk, .key_step = ks, .group = "transactions", .since = since_, .summary = sum,      \
     .complexity = cx}

srv_command srv_cmds_multi[] = {
    TX_CMD("multi", multi_cmd, 1, TX_FLAGS | SRV_CMD_FAST | SRV_CMD_NOMULTI, 0, 0, 0, "1.2.0",
           "Mark the start of a transaction block", "O(1)"),
    TX_CMD("exec", exec_cmd, 1, TX_FLAGS | SRV_CMD_SKIP_SLOWLOG | SRV_CMD_NOMULTI, 0, 0, 0,
           "1.2.0", "Execute all commands issued after MULTI",
           "Depends on commands in the transaction"),
    TX_CMD("discard", discard_cmd, 1, TX_FLAGS | SRV_CMD_FAST | SRV_CMD_NOMULTI, 0, 0, 0, "2.0.0",
           "Discard all commands issued after MULTI",
           "O(N), when N is the number of queued commands"),
    TX_CMD("watch", watch_cmd, -2, TX_FLAGS | SRV_CMD_FAST | SRV_CMD_NOMULTI, 1, -1, 1, "2.2.0",
           "Watch the given keys to determine execution of the MULTI/EXEC block",
           "O(1) for every key."),
    /* UNWATCH is queued inside MULTI, as in Redis. */
    TX_CMD("unwatch", unwatch_cmd, 1, TX_FLAGS | SRV_CMD_FAST, 0, 0, 0, "2.2.0",
           "Forget about all watched keys", "O(1)"),
    {.name = NULL},
};
