/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replica.c: replication as the server sees it: which keys a request changed, the records that
 * carry their final state, the write ticket that holds a client's reply until a majority holds
 * the change, and applying peers' records by last-writer-wins.  The bus itself is cluster/.
 *
 * Records (opaque to cluster/), concatenated into one batch per request, big-endian:
 *   op u8 (1 SET, 2 TOMBSTONE, 3 FLUSH) | version u64 | expire_at_ms u64 | shadow_until u64 |
 *   klen u32 | vlen u32 | key | value
 * SET carries the whole value, its absolute expiry and, when it shortened the key's lifetime,
 * until when older copies could live (shadow.h); TOMBSTONE (a delete) carries how long it must
 * shadow older copies; FLUSH carries only its version: every entry older than it goes, and
 * records older than it arriving later are refused.
 *
 * Last writer wins: a record is applied only when its version is greater than the local entry's
 * (tombstones included); equal versions from two nodes are broken by comparing the records'
 * bytes, so every replica keeps the same one.  A SET that arrives already expired still
 * supersedes an older local value (as a short-lived tombstone), so a late copy of an overwrite
 * with a shorter TTL cannot leave the old value alive on this node.
 *
 * Holding replies: when a RESP request produced records, the client is blocked (no further
 * pipelined request runs) and net.c sends nothing past `hold_from`; the reply is released when
 * the quorum answers, or replaced by an error when write-timeout passes.  Other clients are never
 * blocked: the event loop keeps serving them while the write waits.
 *
 * Event-loop thread only.  Start reading at srv_repl_finish_client and apply_batch.
 */
#include "server/replica.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "server/client.h"
#include "server/db.h"
#include "server/digest.h"
#include "server/shadow.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/net.h"
#include "server/server.h"

#define REC_SET 1
#define REC_TOMBSTONE 2
#define REC_FLUSH 3
#define REC_HEADER 33 /* op, version, expire, shadow, klen, vlen */

static cluster *cl;

/* Keys noted by the running request: u32 length + bytes each. */
static struct {
    char *buf;
    size_t len, cap;
    int flush;
    uint64_t flush_version;
} noted;

static uint64_t flush_horizon; /* records with a version <= this were superseded by a FLUSH */
static uint64_t stale_rejections; /* live records older than the grace period, refused */
static uint64_t writes_refused;   /* writes refused with no quorum reachable (nothing applied) */

/* Clients blocked in WAIT, checked every millisecond while there are any. */
#define WAIT_POLL_US 1000
static srv_list_node waiting = {&waiting, &waiting};
static struct event *wait_ev;

typedef struct waiter {
    srv_repl_done_fn *done;
    void *ctx;
} waiter;

/* ---- small byte helpers */

static void put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

static void noted_append(const void *p, size_t n)
{
    if (noted.cap - noted.len < n) {
        size_t cap = noted.cap ? noted.cap : 256;
        while (cap - noted.len < n) cap *= 2;
        char *b = realloc(noted.buf, cap);
        if (!b) abort();
        noted.buf = b;
        noted.cap = cap;
    }
    memcpy(noted.buf + noted.len, p, n);
    noted.len += n;
}

/* ---- noting */

static uint64_t grace_ms(void) { return (uint64_t)srv.cfg.tombstone_grace_s * 1000; }

int srv_repl_enabled(void) { return cl != NULL; }
int srv_repl_can_write(void) { return !cl || cluster_can_write(cl); }
uint64_t srv_repl_writes_refused(void) { return writes_refused; }

int srv_repl_admit_write(void)
{
    if (srv_repl_can_write()) return 1;
    writes_refused++;
    return 0;
}
uint64_t srv_repl_tombstone_grace_ms(void) { return grace_ms(); }

void srv_repl_note_key(const srv_key *k)
{
    if (!cl) return;
    unsigned char len[4];
    put_be(len, k->len, 4);
    noted_append(len, 4);
    noted_append(k->ptr, k->len);
}

void srv_repl_note_flush(uint64_t version)
{
    if (!cl) return;
    noted.len = 0; /* keys written earlier in this request are gone with the flush */
    noted.flush = 1;
    noted.flush_version = version;
    if (version > flush_horizon) flush_horizon = version;
}

/* ---- encoding a request's batch */

static void put_header(unsigned char *p, int op, uint64_t version, uint64_t expire,
                       uint64_t shadow, size_t klen, size_t vlen)
{
    p[0] = (unsigned char)op;
    put_be(p + 1, version, 8);
    put_be(p + 9, expire, 8);
    put_be(p + 17, shadow, 8);
    put_be(p + 25, klen, 4);
    put_be(p + 29, vlen, 4);
}

static void put_record(resp_wbuf *b, int op, uint64_t version, uint64_t expire, uint64_t shadow,
                       const void *key, size_t klen, const void *val, size_t vlen)
{
    unsigned char *p = (unsigned char *)resp_wbuf_reserve(b, REC_HEADER + klen + vlen);
    if (!p) abort();
    put_header(p, op, version, expire, shadow, klen, vlen);
    if (klen) memcpy(p + REC_HEADER, key, klen);
    if (vlen) memcpy(p + REC_HEADER + klen, val, vlen);
    resp_wbuf_commit(b, REC_HEADER + klen + vlen);
}

/* Encode the final state of every noted key; resets the notes.  Returns the batch length. */
static size_t encode_batch(resp_wbuf *b)
{
    b->len = 0;
    if (noted.flush) put_record(b, REC_FLUSH, noted.flush_version, 0, 0, NULL, 0, NULL, 0);
    for (size_t at = 0; at < noted.len;) {
        size_t klen = (size_t)get_be((const unsigned char *)noted.buf + at, 4);
        const char *key = noted.buf + at + 4;
        at += 4 + klen;
        uint64_t hash = ttl_dict_hash(srv.db, key, klen);
        /* now = 0: no lazy expiry here, the state is what the request left behind. */
        ttl_entry *e = ttl_dict_find(srv.db, hash, key, klen, 0, 1);
        if (!e) continue; /* written and gone within the request (e.g. an expired SET) */
        size_t vlen;
        const void *val = ttl_entry_value(e, &vlen);
        srv_key k = {key, klen, hash};
        put_record(b, ttl_entry_is_tombstone(e) ? REC_TOMBSTONE : REC_SET, ttl_entry_version(e),
                   ttl_entry_expire_at(e), srv_shadow_of(&k, e), key, klen, val, vlen);
    }
    noted.len = 0;
    noted.flush = 0;
    return b->len;
}

static int pending_changes(void) { return noted.len > 0 || noted.flush; }

/* ---- finishing a request */

static resp_wbuf batch;

int srv_repl_finish_client(srv_client *c)
{
    if (!cl || !pending_changes()) return 0;
    size_t n = encode_batch(&batch);
    if (n == 0) return 0;
    uint64_t seq = cluster_replicate(cl, batch.data, n, c);
    if (seq == 0) abort(); /* out of memory (server policy) */
    c->repl_seq = seq;
    c->last_write_seq = seq;
    c->holding = 1;
    c->flags |= SRV_CLIENT_BLOCKED;
    return 1;
}

int srv_repl_finish(srv_repl_done_fn *done, void *ctx)
{
    if (!cl || !pending_changes()) return 0;
    size_t n = encode_batch(&batch);
    if (n == 0) return 0;
    waiter *w = malloc(sizeof *w);
    if (!w) abort();
    w->done = done;
    w->ctx = ctx;
    /* Waiters are tagged with the low bit so write_done can tell them from clients. */
    if (cluster_replicate(cl, batch.data, n, (void *)((uintptr_t)w | 1u)) == 0) abort();
    /* w is owned by the cluster now (as a tagged cookie) and freed in write_done. */
    /* cppcheck-suppress memleak */
    return 1;
}

static void wait_done(srv_client *c, int acks)
{
    srv_list_remove(&c->wait_node);
    c->wait_replicas = 0;
    srv_reply_int(c, acks);
    srv_client_unblock(c);
}

static void on_wait_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    srv_update_time();
    uint64_t now = srv_now_ms();
    srv_list_node *n = waiting.next;
    while (n != &waiting) {
        srv_client *c = srv_container_of(n, srv_client, wait_node);
        n = n->next;
        int acks = srv_repl_acks_for_client(c);
        if (acks >= c->wait_replicas || now >= c->wait_deadline_ms) wait_done(c, acks);
    }
    if (!srv_list_empty(&waiting)) {
        struct timeval tv = {0, WAIT_POLL_US};
        event_add(wait_ev, &tv);
    }
}

void srv_repl_wait(srv_client *c, long long numreplicas, long long timeout_ms)
{
    int acks = srv_repl_acks_for_client(c);
    if (!cl || acks >= numreplicas || (c->flags & SRV_CLIENT_MULTI)) {
        srv_reply_int(c, acks); /* inside EXEC, WAIT cannot block (as in Redis) */
        return;
    }
    if (!wait_ev && !(wait_ev = evtimer_new(srv.base, on_wait_poll, NULL))) abort();
    c->wait_replicas = numreplicas;
    c->wait_deadline_ms = timeout_ms > 0 ? srv_now_ms() + (uint64_t)timeout_ms : UINT64_MAX;
    srv_list_push_back(&waiting, &c->wait_node);
    c->flags |= SRV_CLIENT_BLOCKED;
    struct timeval tv = {0, WAIT_POLL_US};
    event_add(wait_ev, &tv);
}

void srv_repl_client_gone(srv_client *c)
{
    if (cl && c->repl_seq) cluster_cancel(cl, c->repl_seq);
    c->repl_seq = 0;
    if (c->wait_replicas) {
        srv_list_remove(&c->wait_node);
        c->wait_replicas = 0;
    }
}

int srv_repl_acks_for_client(const srv_client *c)
{
    if (!cl) return 0;
    if (c->last_write_seq == 0) {
        int n = 0;
        for (int i = 0; i < cluster_peer_count(cl); i++) {
            cluster_peer_info pi;
            cluster_peer_get(cl, i, &pi);
            if (pi.name && pi.state == CLUSTER_PEER_OK) n++;
        }
        return n;
    }
    return cluster_acks(cl, c->last_write_seq);
}

static void on_write_done(void *priv, void *cookie, int status, int acks)
{
    (void)priv;
    (void)acks;
    if (!cookie) return;
    if ((uintptr_t)cookie & 1u) {
        waiter *w = (waiter *)((uintptr_t)cookie & ~(uintptr_t)1u);
        w->done(w->ctx, status == CLUSTER_WRITE_OK        ? SRV_REPL_DONE
                        : status == CLUSTER_WRITE_TIMEOUT ? SRV_REPL_TIMEOUT
                                                          : SRV_REPL_ABORTED);
        free(w);
        return;
    }
    srv_client *c = cookie;
    c->repl_seq = 0;
    c->holding = 0;
    if (status != CLUSTER_WRITE_OK) {
        /* Replace the held reply: the client must not read OK for a write without a quorum. */
        c->out.len = c->hold_from;
        if (status == CLUSTER_WRITE_TIMEOUT)
            srv_reply_errorf(c, "TIMEOUT no majority acknowledged the write within write-timeout "
                             "(%lld ms); it is stored on this node and may still reach the others",
                             srv.cfg.write_timeout_ms);
        else
            srv_reply_error(c, "TIMEOUT the node is shutting down; the write may or may not have "
                               "reached the others");
    }
    srv_client_unblock(c);
}

/* ---- applying a peer's batch */

/* Last writer wins; equal versions (two nodes, same ms, same counter, same tag) keep the record
 * whose bytes compare greater, which every replica decides the same way. */
static int newer(const ttl_entry *e, uint64_t version, uint64_t expire, const void *val,
                 size_t vlen, int tombstone)
{
    if (!e) return 1;
    if (version != ttl_entry_version(e)) return version > ttl_entry_version(e);
    size_t elen;
    const void *ev = ttl_entry_value(e, &elen);
    if (tombstone != ttl_entry_is_tombstone(e)) return tombstone; /* a delete wins a tie */
    if (expire != ttl_entry_expire_at(e)) return expire > ttl_entry_expire_at(e);
    size_t n = vlen < elen ? vlen : elen;
    int cmp = n ? memcmp(val, ev, n) : 0;
    return cmp > 0 || (cmp == 0 && vlen > elen);
}

static void apply_one(int op, uint64_t version, uint64_t expire, uint64_t shadow, const char *key,
                      size_t klen, const char *val, size_t vlen, uint64_t now)
{
    if (version <= flush_horizon) return;
    srv_key k;
    srv_key_init(&k, key, klen);
    ttl_entry *e = ttl_dict_find(srv.db, k.hash, key, klen, now, 1);
    int tombstone = op == REC_TOMBSTONE;
    if (!newer(e, version, expire, val, vlen, tombstone)) return;
    if (expire <= now) {
        /* Already expired on arrival: it still supersedes what we hold.  When it shadowed a
         * longer-lived version, it leaves the same marker its holders left (shadow.c); else a
         * short tombstone retires the older local copy. */
        uint64_t until = 0;
        if (!tombstone && shadow > expire) {
            uint64_t cap = expire + srv_repl_tombstone_grace_ms();
            until = shadow < cap ? shadow : cap;
        }
        if (until <= now) until = e ? now + 1000 : 0;
        if (until) srv_db_store_replica(&k, NULL, 0, until, version, 1, 0);
        return;
    }
    srv_db_store_replica(&k, val, vlen, expire, version, tombstone, shadow);
}

/* Remove every entry older than a FLUSH. */
typedef struct flush_scan {
    resp_wbuf keys; /* u32 length + bytes each */
    uint64_t version;
} flush_scan;

static void collect_older(void *priv, const ttl_entry *e)
{
    flush_scan *fs = priv;
    if (ttl_entry_version(e) >= fs->version) return;
    size_t klen;
    const void *key = ttl_entry_key(e, &klen);
    unsigned char len[4];
    put_be(len, klen, 4);
    resp_add_raw(&fs->keys, len, 4);
    resp_add_raw(&fs->keys, key, klen);
}

static void apply_flush(uint64_t version)
{
    if (version <= flush_horizon) return;
    flush_horizon = version;
    flush_scan fs = {{0}, version};
    resp_wbuf_init(&fs.keys);
    uint64_t cursor = 0;
    do {
        cursor = ttl_dict_scan(srv.db, cursor, 1024, 0, 1, collect_older, &fs);
    } while (cursor != 0);
    if (resp_wbuf_failed(&fs.keys)) abort();
    for (size_t at = 0; at < fs.keys.len;) {
        size_t klen = (size_t)get_be((const unsigned char *)fs.keys.data + at, 4);
        srv_key k;
        srv_key_init(&k, fs.keys.data + at + 4, klen);
        srv_db_drop_replica(&k);
        at += 4 + klen;
    }
    resp_wbuf_deinit(&fs.keys);
}

static int apply_batch(void *priv, const void *data, size_t len, const char *from, int origin)
{
    (void)priv;
    (void)from;
    const unsigned char *p = data;
    uint64_t now = srv_now_ms();
    /* A live write is minted moments before it arrives; one older than the grace period is a
     * stale or replayed frame whose key may have been deleted since, with its tombstone already
     * gone.  Repair streams are exempt: a long-lived value can be old and still live, and a node
     * only repairs while it has been in contact within the grace period (else it wipes). */
    uint64_t horizon = now > grace_ms() ? now - grace_ms() : 0;
    while (len > 0) {
        if (len < REC_HEADER) return -1;
        int op = p[0];
        uint64_t version = get_be(p + 1, 8), expire = get_be(p + 9, 8), shadow = get_be(p + 17, 8);
        uint64_t klen = get_be(p + 25, 4), vlen = get_be(p + 29, 4);
        if (op < REC_SET || op > REC_FLUSH || klen > TTL_KEY_MAX || vlen > TTL_VALUE_MAX ||
            len - REC_HEADER < klen + vlen || (op != REC_SET && vlen != 0) ||
            (op != REC_FLUSH && (expire == 0 || expire > TTL_EXPIRE_MAX)))
            return -1;
        const char *key = (const char *)p + REC_HEADER;
        if (origin == CLUSTER_FROM_LIVE && CLUSTER_HLC_MS(version) < horizon) stale_rejections++;
        else if (op == REC_FLUSH) apply_flush(version);
        else apply_one(op, version, expire, shadow, key, (size_t)klen, key + klen, (size_t)vlen, now);
        p += REC_HEADER + klen + vlen;
        len -= REC_HEADER + (size_t)(klen + vlen);
    }
    srv_shadow_flush();
    return 0;
}

/* ---- repair callbacks (anti-entropy and bootstrap, driven by cluster/sync.c) */

static void digest_tops_cb(void *priv, uint64_t *tops)
{
    (void)priv;
    srv_digest_tops(tops);
}

static void digest_leaves_cb(void *priv, unsigned top, uint64_t *leaves)
{
    (void)priv;
    srv_digest_leaves(top, leaves);
}

typedef struct collect_ctx {
    const uint8_t *buckets;
    cluster_buf *out;
    uint64_t now;
    int failed;
} collect_ctx;

static void collect_entry(void *priv, const ttl_entry *e)
{
    collect_ctx *cc = priv;
    size_t klen, vlen;
    const void *key = ttl_entry_key(e, &klen);
    if (cc->failed || ttl_entry_expire_at(e) <= cc->now) return; /* never ship the dead */
    if (cc->buckets) {
        unsigned b = srv_digest_bucket(key, klen);
        if (!(cc->buckets[b / 8] & (1u << (b % 8)))) return;
    }
    const void *val = ttl_entry_value(e, &vlen);
    unsigned char h[REC_HEADER];
    srv_key k = {key, klen, ttl_dict_hash(srv.db, key, klen)};
    uint64_t shadow = ttl_entry_is_tombstone(e) ? 0 : srv_shadow_of(&k, e);
    put_header(h, ttl_entry_is_tombstone(e) ? REC_TOMBSTONE : REC_SET, ttl_entry_version(e),
               ttl_entry_expire_at(e), shadow, klen, vlen);
    if (cluster_buf_append(cc->out, h, sizeof h) < 0 || cluster_buf_append(cc->out, key, klen) < 0 ||
        cluster_buf_append(cc->out, val, vlen) < 0)
        cc->failed = 1;
}

/* Scan on from *cursor, a bounded number of table buckets per call, adding the live records of
 * the wanted digest buckets until `out` holds max_bytes. */
static int collect_cb(void *priv, const uint8_t *buckets, uint64_t *cursor, cluster_buf *out,
                      size_t max_bytes)
{
    (void)priv;
    collect_ctx cc = {buckets, out, srv_now_ms(), 0};
    for (int i = 0; i < 16 && out->len < max_bytes; i++) {
        *cursor = ttl_dict_scan(srv.db, *cursor, 256, cc.now, 1, collect_entry, &cc);
        if (cc.failed) return -1;
        if (*cursor == 0) break;
    }
    return 0;
}

static void ready_cb(void *priv)
{
    (void)priv;
    srv.loading = 0;
}

/* Cut off for longer than the grace period: drop everything held, without replicating (this is
 * not a FLUSHALL), and wait for a bootstrap. */
static void wipe_cb(void *priv)
{
    (void)priv;
    if (srv.watched_key_count) srv_watch_touch_all();
    ttl_dict_clear(srv.db);
    srv.loading = 1;
}

/* ---- start and stop */

static uint64_t now_cb(void *priv)
{
    (void)priv;
    srv_update_time();
    return srv_now_ms();
}

static uint64_t mono_cb(void *priv)
{
    (void)priv;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void log_cb(void *priv, int level, const char *msg)
{
    (void)priv;
    static const int map[] = {SRV_LOG_DEBUG, SRV_LOG_VERBOSE, SRV_LOG_NOTICE, SRV_LOG_WARNING};
    srv_log(map[level & 3], "cluster: %s", msg);
}

int srv_repl_start(void)
{
    if (srv.cfg.cluster_size <= 1) return 0;
    char err[512];
    cluster_config cc;
    memset(&cc, 0, sizeof cc);
    cc.node_name = srv.cfg.node_name[0] ? srv.cfg.node_name : srv.hostname;
    cc.cluster_name = srv.cfg.cluster_name;
    cc.cluster_size = srv.cfg.cluster_size;
    cc.bind = (const char *const *)srv.cfg.bind;
    cc.bind_count = srv.cfg.bind_count;
    cc.port = srv.cfg.cluster_port ? srv.cfg.cluster_port : srv.cfg.port + 10000;
    cc.seeds = (const char *const *)srv.cfg.seeds;
    cc.seed_count = srv.cfg.seed_count;
    cc.members = (const char *const *)srv.cfg.cluster_members;
    cc.member_count = srv.cfg.cluster_member_count;
    cc.client_port = srv.cfg.port;
    cc.http_port = srv.cfg.http_port;
    cc.tls_cert_file = srv.cfg.cluster_tls_cert_file[0] ? srv.cfg.cluster_tls_cert_file : NULL;
    cc.tls_key_file = srv.cfg.cluster_tls_key_file[0] ? srv.cfg.cluster_tls_key_file : NULL;
    cc.tls_ca_file = srv.cfg.cluster_tls_ca_cert_file[0] ? srv.cfg.cluster_tls_ca_cert_file : NULL;
    cc.secret = srv.cfg.cluster_secret[0] ? srv.cfg.cluster_secret : NULL;
    cc.secret_accept = srv.cfg.cluster_secret_accept[0] ? srv.cfg.cluster_secret_accept : NULL;
    cc.insecure = srv.cfg.cluster_insecure;
    cc.node_timeout_ms = (uint64_t)srv.cfg.node_timeout_ms;
    cc.write_timeout_ms = (uint64_t)srv.cfg.write_timeout_ms;
    cc.max_clock_offset_ms = (uint64_t)srv.cfg.max_clock_offset_ms;
    cc.max_queue_bytes = (size_t)srv.cfg.cluster_queue_limit;
    cc.max_frame_bytes = (size_t)srv.cfg.max_value_size + (size_t)srv.cfg.max_key_size + (1u << 20);
    cc.hlc = &srv.hlc;
    cc.ae_interval_ms = (uint64_t)srv.cfg.ae_interval_ms;
    cc.grace_ms = grace_ms();
    cc.repair_bytes_per_s = (uint64_t)srv.cfg.repair_bandwidth;
    cc.start_loading = 1; /* nothing survives a restart: copy the keyspace from a peer first */
    cluster_callbacks cb = {NULL,           apply_batch,      on_write_done, now_cb,
                            log_cb,         mono_cb,          digest_tops_cb, digest_leaves_cb,
                            collect_cb,     ready_cb,         wipe_cb};
    srv.loading = 1;
    cl = cluster_create(srv.base, &cc, &cb, err, sizeof err);
    if (!cl || cluster_start(cl, err, sizeof err) < 0) {
        srv_log(SRV_LOG_WARNING, "cannot start the cluster: %s", err);
        cluster_free(cl);
        cl = NULL;
        srv.loading = 0;
        return -1;
    }
    resp_wbuf_init(&batch);
    if (srv_digest_enable() < 0 || srv_shadow_enable() < 0) abort();
    srv_log(SRV_LOG_NOTICE, "cluster: node %s, %d voters (quorum %d), bus port %d, %s", cc.node_name,
            cc.cluster_size, cluster_quorum(cl), cc.port,
            cc.tls_cert_file     ? "mutual TLS"
            : cc.secret_accept ? "TLS with the shared secret (a second one accepted)"
            : cc.secret        ? "TLS with the shared secret"
                               : "INSECURE plain TCP");
    return 0;
}

void srv_repl_stop(void)
{
    cluster_free(cl); /* pending writes complete as aborted: their clients get an error */
    cl = NULL;
    srv_digest_disable();
    srv_shadow_disable();
    while (!srv_list_empty(&waiting))
        wait_done(srv_container_of(waiting.next, srv_client, wait_node), 0);
    if (wait_ev) event_free(wait_ev);
    wait_ev = NULL;
    resp_wbuf_deinit(&batch);
    free(noted.buf);
    memset(&noted, 0, sizeof noted);
}

/* ---- status */

static const char *state_name(enum cluster_peer_state s)
{
    switch (s) {
    case CLUSTER_PEER_OK: return "connected";
    case CLUSTER_PEER_PFAIL: return "suspected";
    case CLUSTER_PEER_FAIL: return "failed";
    default: return "connecting";
    }
}

size_t srv_repl_info(char *buf, size_t len)
{
    size_t at = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        int n_ = snprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, __VA_ARGS__);     \
        if (n_ > 0) at += (size_t)n_;                                                              \
    } while (0)
    if (!cl) {
        ADD("mode:single\r\ncluster_size:1\r\nquorum:1\r\nnodes_reachable:1\r\n");
        return at;
    }
    const cluster_stats *st = cluster_get_stats(cl);
    int alive = 1;
    for (int i = 0; i < cluster_peer_count(cl); i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        if (pi.name && pi.state == CLUSTER_PEER_OK) alive++;
    }
    ADD("mode:cluster\r\ncluster_size:%d\r\nquorum:%d\r\nnodes_reachable:%d\r\n"
        "can_write:%d\r\n", srv.cfg.cluster_size, cluster_quorum(cl), alive, cluster_can_write(cl));
    cluster_sync_info si;
    cluster_sync_get(cl, &si);
    ADD("loading:%d\r\nbootstrap_phase:%s\r\nbootstrap_source:%s\r\nbootstrap_batches:%llu\r\n"
        "bootstrap_bytes:%llu\r\n", si.loading, si.phase, si.source ? si.source : "",
        (unsigned long long)si.records_batches, (unsigned long long)si.bytes);
    ADD("ae_rounds:%llu\r\nae_rounds_in_sync:%llu\r\nae_rounds_settled:%llu\r\n"
        "ae_buckets_repaired:%llu\r\nae_buckets_settled:%llu\r\n"
        "repair_bytes_in:%llu\r\nrepair_bytes_out:%llu\r\nsyncs_served:%llu\r\nwipes:%llu\r\n"
        "stale_rejections:%llu\r\n",
        (unsigned long long)st->ae_rounds, (unsigned long long)st->ae_rounds_in_sync,
        (unsigned long long)st->ae_rounds_settled, (unsigned long long)st->ae_buckets_repaired,
        (unsigned long long)st->ae_buckets_settled, (unsigned long long)st->repair_bytes_in,
        (unsigned long long)st->repair_bytes_out, (unsigned long long)st->syncs_served,
        (unsigned long long)st->wipes, (unsigned long long)stale_rejections);
    ADD("repl_writes:%llu\r\nrepl_writes_acked:%llu\r\nrepl_writes_timed_out:%llu\r\n"
        "repl_writes_refused:%llu\r\nrepl_acks_received:%llu\r\nrepl_batches_applied:%llu\r\n",
        (unsigned long long)st->writes_replicated, (unsigned long long)st->writes_acked,
        (unsigned long long)st->writes_timed_out, (unsigned long long)writes_refused,
        (unsigned long long)st->acks_received, (unsigned long long)st->records_applied);
    ADD("bus_frames_in:%llu\r\nbus_frames_out:%llu\r\nbus_bytes_in:%llu\r\nbus_bytes_out:%llu\r\n"
        "bus_frames_rejected:%llu\r\nbus_auth_failures:%llu\r\nbus_clock_rejections:%llu\r\n"
        "bus_link_resets:%llu\r\n",
        (unsigned long long)st->frames_in, (unsigned long long)st->frames_out,
        (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
        (unsigned long long)st->frames_rejected, (unsigned long long)st->auth_failures,
        (unsigned long long)st->clock_rejections, (unsigned long long)st->link_resets);
    for (int i = 0; i < cluster_peer_count(cl); i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        ADD("peer%d:name=%s,addr=%s,state=%s,client_port=%d,lag_ms=%llu,queued_bytes=%zu\r\n", i,
            pi.name ? pi.name : "?", pi.addr, state_name(pi.state), pi.client_port,
            (unsigned long long)pi.lag_ms, pi.queued_bytes);
    }
#undef ADD
    return at;
}

cluster *srv_repl_cluster(void) { return cl; }
