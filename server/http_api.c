/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * http_api.c: REPRAM's v1 HTTP API (DESIGN.md section 6) on the keyspace RESP uses.
 *
 *   PUT    /v1/data/{key}   body = value; TTL from ?ttl= (wins) or X-TTL, in seconds, else
 *                           default-ttl.  201 stored (on a quorum in a cluster), 202 stored here
 *                           but no quorum within write-timeout, 400 bad key or TTL (JSON error:
 *                           never a silent default), 401 write token, 413 value or body too
 *                           large, 503 no quorum reachable (nothing stored), 507 maxmemory.
 *   GET    /v1/data/{key}   200 value (application/octet-stream) with X-Created-At (RFC 3339 UTC,
 *   HEAD   /v1/data/{key}   milliseconds), X-Original-TTL and X-Remaining-TTL (seconds); 404.
 *   DELETE /v1/data/{key}   204 deleted, 404 no such key (202/503 as PUT in a cluster).
 *   GET    /v1/keys         ?prefix= &limit= (default 1000, at most 10000) &cursor= &encoding=
 *                           {"keys":[...],"next_cursor":"N"}; next_cursor is absent on the last
 *                           page.  Hash order, like SCAN: a page may hold fewer keys than limit
 *                           (the work per request is bounded) or a few more (a bucket is never
 *                           split); every key present for the whole iteration is listed at least
 *                           once.  Keys are JSON strings; bytes that are not UTF-8 appear as
 *                           \udcXX (see encode.h), or use encoding=base64.
 *   GET    /v1/health, /health          {"status":"ok","node_id":...}
 *   GET    /v1/status                   node, version, uptime, keys, memory, peers
 *   GET    /v1/topology                 this node and its peers
 *   GET    /v1/metrics, /metrics        Prometheus text (metrics.c)
 *   HEAD works wherever GET does; other methods on these paths: 405 with Allow; other paths: 404.
 *
 * Keys are the rest of the path after /v1/data/, percent-decoded (binary-safe: %00 is a byte,
 * '/' is allowed); a malformed escape or an empty key is 400, a key over max-key-size 400.
 *
 * Writes: PUT and DELETE apply through db.h exactly as SET and DEL do (same TTL policy, limits,
 * versions, WATCH invalidation, replication notes), then write_applied() hands the request to the
 * cluster and write_finished() answers with the outcome; on a single node at once.
 *
 * Compatibility choices: success bodies are REPRAM's ("OK", "Accepted (quorum pending)") and a
 * missing key is a 404 with an empty body, as its clients expect; errors are JSON {"error": ...}.
 * Where REPRAM silently replaced a bad TTL with 3600 and clamped to [300, 86400], we refuse
 * (400) and apply repram's own default-ttl / max-ttl.  Rejected for /v1/keys: REPRAM's sorted
 * listing with the last key as cursor, which sorts every key on every call; the scan cursor of
 * ttl/ gives the same guarantees (each key at least once) at O(page) cost.
 *
 * Event-loop thread only.  Start reading at srv_http_dispatch.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster/cluster.h"
#include "resp/resp.h"
#include "server/config.h"
#include "server/db.h"
#include "server/encode.h"
#include "server/http_internal.h"
#include "server/info.h"
#include "server/metrics.h"
#include "server/replica.h"
#include "server/server.h"

#define DATA_PREFIX "/v1/data/"
#define DATA_PREFIX_LEN (sizeof DATA_PREFIX - 1)

#define KEYS_DEFAULT_LIMIT 1000 /* keys per /v1/keys page when no limit is given */
#define KEYS_MAX_LIMIT 10000    /* larger limits are lowered to this: bounds one reply */
#define KEYS_SCAN_STEP 16       /* home buckets per ttl_dict_scan call */
#define KEYS_BUCKETS_PER_KEY 64 /* scan budget: buckets visited per key of limit, so a prefix
                                   that matches little cannot make one request walk the table */

const char *const srv_http_route_names[SRV_HTTP_ROUTES] = {
    "GET /v1/data/{key}", "HEAD /v1/data/{key}", "PUT /v1/data/{key}", "DELETE /v1/data/{key}",
    "GET /v1/keys",       "GET /v1/health",      "GET /v1/status",     "GET /v1/topology",
    "GET /v1/metrics",    "not found",           "method not allowed", "invalid",
};

/* Decoded keys and prefixes; grows to the longest seen (bounded by the header limit). */
static char *scratch;
static size_t scratch_cap;

static char *scratch_for(size_t n)
{
    if (n > scratch_cap) {
        char *p = realloc(scratch, n);
        if (!p) abort();
        scratch = p;
        scratch_cap = n;
    }
    return scratch;
}

static const char *node_name(void)
{
    return srv.cfg.node_name[0] ? srv.cfg.node_name : srv.hostname;
}

int srv_http_route_of(int method, const char *path)
{
    int get = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD;
    int route;

    if (strncmp(path, DATA_PREFIX, DATA_PREFIX_LEN) == 0) {
        switch (method) {
        case EVHTTP_REQ_GET: return SRV_HTTP_DATA_GET;
        case EVHTTP_REQ_HEAD: return SRV_HTTP_DATA_HEAD;
        case EVHTTP_REQ_PUT: return SRV_HTTP_DATA_PUT;
        case EVHTTP_REQ_DELETE: return SRV_HTTP_DATA_DELETE;
        default: return SRV_HTTP_BAD_METHOD;
        }
    }
    if (strcmp(path, "/v1/keys") == 0) route = SRV_HTTP_KEYS;
    else if (strcmp(path, "/v1/health") == 0 || strcmp(path, "/health") == 0)
        route = SRV_HTTP_HEALTH;
    else if (strcmp(path, "/v1/status") == 0) route = SRV_HTTP_STATUS;
    else if (strcmp(path, "/v1/topology") == 0) route = SRV_HTTP_TOPOLOGY;
    else if (strcmp(path, "/v1/metrics") == 0 || strcmp(path, "/metrics") == 0)
        route = SRV_HTTP_METRICS;
    else return SRV_HTTP_NOT_FOUND;
    return get ? route : SRV_HTTP_BAD_METHOD;
}

static void reply_errorf(srv_http_req *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_errorf(srv_http_req *r, int code, const char *fmt, ...)
{
    static char msg[160]; /* lives until the log line of this reply is written */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_http_reply_error(r, code, msg);
}

/* ---- keys and TTLs */

/* Decode the key of a /v1/data/ path.  0 with *key (valid until the next request), or -1 after
 * replying 400. */
static int data_key(srv_http_req *r, const char **key, size_t *klen)
{
    const char *enc = r->path + DATA_PREFIX_LEN;
    size_t elen = strlen(enc);

    if (elen == 0) {
        srv_http_reply_error(r, 400, "empty key");
        return -1;
    }
    /* Each decoded byte takes 1 to 3 encoded ones: refuse an obviously long key undecoded. */
    if (elen > (size_t)srv.cfg.max_key_size * 3) goto too_long;
    char *buf = scratch_for(elen);
    if (srv_url_decode(enc, elen, 0, buf, klen) != 0) {
        srv_http_reply_error(r, 400, "invalid key: malformed percent-encoding");
        return -1;
    }
    if (srv_db_check_sizes(*klen, 0) != SRV_DB_OK) goto too_long;
    *key = buf;
    return 0;
too_long:
    srv.stats.http_oversize_rejections++;
    reply_errorf(r, 400, "key exceeds max-key-size (%lld bytes)", srv.cfg.max_key_size);
    return -1;
}

/* The absolute expiry of a PUT: ?ttl= (first), else X-TTL, else default-ttl.  0, or -1 after
 * replying 400: a TTL that is given must be a whole number of seconds in [1, max-ttl]. */
static int put_expiry(srv_http_req *r, uint64_t *expire_at_ms)
{
    char text[24];
    const char *raw;
    size_t rlen, tlen;
    long long v;

    if (srv_query_get(r->query, "ttl", &raw, &rlen)) {
        if (rlen >= sizeof text || srv_url_decode(raw, rlen, 1, text, &tlen) != 0) tlen = 0;
    } else if ((raw = srv_http_header(r, "X-TTL")) != NULL) {
        tlen = strlen(raw);
        if (tlen >= sizeof text) tlen = 0;
        else memcpy(text, raw, tlen);
    } else {
        *expire_at_ms = srv_ttl_default_expire();
        return 0;
    }
    if (tlen == 0 || !resp_str_to_ll(text, tlen, &v)) {
        srv_http_reply_error(r, 400, "invalid TTL: expected a whole number of seconds");
        return -1;
    }
    switch (srv_ttl_from_ll(v, SRV_TTL_SECONDS, 0, expire_at_ms)) {
    case SRV_DB_OK: return 0;
    case SRV_DB_ERR_TTL_MAX:
        srv.stats.http_oversize_rejections++;
        reply_errorf(r, 400, "TTL exceeds max-ttl (%lld seconds)", srv.cfg.max_ttl_s);
        return -1;
    default:
        srv_http_reply_error(r, 400, "invalid TTL: must be at least 1 second");
        return -1;
    }
}

/* 1 when the request carries "Authorization: Bearer <token>" (token non-empty). */
static int bearer_is(srv_http_req *r, const char *token)
{
    const char *auth = srv_http_header(r, "Authorization");
    if (!token[0] || !auth || strncasecmp(auth, "Bearer ", 7) != 0) return 0;
    const char *given = auth + 7;
    while (*given == ' ') given++;
    return srv_token_equal(given, strlen(given), token, strlen(token));
}

static int unauthorized(srv_http_req *r, const char *what)
{
    srv.stats.http_unauthorized++;
    srv_http_add_header(r, "WWW-Authenticate", "Bearer realm=\"repram\"");
    reply_errorf(r, 401, "a valid %s token is required (Authorization: Bearer ...)", what);
    return 0;
}

/* http-write-token: PUT and DELETE need "Authorization: Bearer <token>" when one is set. */
static int write_allowed(srv_http_req *r)
{
    if (!srv.cfg.http_write_token[0] || bearer_is(r, srv.cfg.http_write_token)) return 1;
    return unauthorized(r, "write");
}

/* http-read-token: GET/HEAD of data and /v1/keys need it (or the write token) when one is set.
 * Health, status, topology and metrics stay open for probes and scrapers: they hold no key or
 * value. */
static int read_allowed(srv_http_req *r)
{
    if (!srv.cfg.http_read_token[0] || bearer_is(r, srv.cfg.http_read_token) ||
        bearer_is(r, srv.cfg.http_write_token))
        return 1;
    return unauthorized(r, "read");
}

/* ---- writes: apply here, then wait for the cluster */

static void write_finished(srv_http_req *r, enum srv_repl_outcome outcome)
{
    switch (outcome) {
    case SRV_REPL_DONE:
        if (r->ok_status == 201) {
            evbuffer_add(srv_http_body(r), "OK", 2); /* REPRAM's body */
            srv_http_reply(r, 201, "text/plain; charset=utf-8");
        } else {
            srv_http_reply(r, r->ok_status, NULL);
        }
        return;
    case SRV_REPL_TIMEOUT:
        evbuffer_add(srv_http_body(r), "Accepted (quorum pending)", 25); /* REPRAM's body */
        srv_http_reply(r, 202, "text/plain; charset=utf-8");
        return;
    case SRV_REPL_ABORTED:
    default:
        srv_http_add_header(r, "Retry-After", "1");
        srv_http_reply_error(r, 503, "the node is shutting down; the write may or may not have "
                                     "reached the other nodes");
        return;
    }
}

static void on_replicated(void *ctx, enum srv_repl_outcome outcome)
{
    srv_http_req *w = ctx;
    srv_update_time();
    write_finished(w, outcome);
    free(w);
}

/* The write is applied locally (db.c noted its keys): answer now on a single node, or when a
 * quorum holds it (or write-timeout passes) in a cluster.  The request waits in a heap copy. */
static void write_applied(srv_http_req *r, int ok_status)
{
    r->ok_status = ok_status;
    if (!srv_repl_enabled()) {
        write_finished(r, SRV_REPL_DONE);
        return;
    }
    srv_http_req *w = malloc(sizeof *w);
    if (!w) abort();
    *w = *r;
    if (srv_repl_finish(on_replicated, w)) return;
    write_finished(w, SRV_REPL_DONE); /* nothing changed (DELETE of a missing key) */
    free(w);
}

/* In a cluster, a write needs a reachable quorum before anything is applied. */
static int quorum_reachable(srv_http_req *r)
{
    if (srv_repl_admit_write()) return 1;
    srv_http_add_header(r, "Retry-After", "1");
    srv_http_reply_error(r, 503, "no majority of the cluster is reachable; nothing was stored");
    return 0;
}

static void put_data(srv_http_req *r)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
    size_t vlen = evbuffer_get_length(in);
    const char *key;
    size_t klen;
    uint64_t expire_at_ms;
    srv_key k;

    if (!write_allowed(r) || data_key(r, &key, &klen) < 0 || put_expiry(r, &expire_at_ms) < 0)
        return;
    if (srv_db_check_sizes(klen, vlen) != SRV_DB_OK) {
        srv.stats.http_oversize_rejections++;
        reply_errorf(r, 413, "value exceeds max-value-size (%lld bytes)", srv.cfg.max_value_size);
        return;
    }
    if (!quorum_reachable(r)) return;
    if (srv_db_make_room(klen + vlen) < 0) {
        srv_http_reply_error(r, 507, "out of memory: maxmemory is reached");
        return;
    }
    const void *val = vlen > 0 ? (const void *)evbuffer_pullup(in, -1) : (const void *)"";
    srv_key_init(&k, key, klen);
    if (srv_db_set(&k, val, vlen, expire_at_ms, NULL) != SRV_DB_OK) { /* sizes checked above */
        srv_http_reply_error(r, 413, "value too large");
        return;
    }
    write_applied(r, 201);
}

static void delete_data(srv_http_req *r)
{
    const char *key;
    size_t klen;
    srv_key k;

    if (!write_allowed(r) || data_key(r, &key, &klen) < 0 || !quorum_reachable(r)) return;
    srv_key_init(&k, key, klen);
    write_applied(r, srv_db_delete(&k) ? 204 : 404);
}

/* ---- reads */

static void get_data(srv_http_req *r)
{
    const char *key;
    size_t klen, vlen;
    srv_key k;
    char num[32];

    if (!read_allowed(r) || data_key(r, &key, &klen) < 0) return;
    srv_key_init(&k, key, klen);
    ttl_entry *e = srv_db_lookup_read(&k);
    if (!e) {
        srv_http_reply(r, 404, NULL);
        return;
    }
    uint64_t now = srv_now_ms(), created = CLUSTER_HLC_MS(ttl_entry_version(e));
    uint64_t expire = ttl_entry_expire_at(e);
    const void *val = ttl_entry_value(e, &vlen);
    srv_format_rfc3339_ms(created, num, sizeof num);
    srv_http_add_header(r, "X-Created-At", num);
    uint64_t original_s = expire > created ? (expire - created + 500) / 1000 : 0;
    uint64_t remaining_s = expire > now ? (expire - now + 500) / 1000 : 0;
    snprintf(num, sizeof num, "%llu", (unsigned long long)original_s);
    srv_http_add_header(r, "X-Original-TTL", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)remaining_s);
    srv_http_add_header(r, "X-Remaining-TTL", num);
    if (r->method == EVHTTP_REQ_HEAD) {
        snprintf(num, sizeof num, "%zu", vlen);
        srv_http_add_header(r, "Content-Length", num);
    } else {
        evbuffer_add(srv_http_body(r), val, vlen);
    }
    srv_http_reply(r, 200, "application/octet-stream");
}

typedef struct key_page {
    struct evbuffer *out;
    const char *prefix;
    size_t plen;
    size_t count;
    int base64;
} key_page;

static void page_visit(void *priv, const ttl_entry *e)
{
    key_page *p = priv;
    size_t klen;
    const char *key = ttl_entry_key(e, &klen);

    if (klen < p->plen || memcmp(key, p->prefix, p->plen) != 0) return;
    if (p->count++ > 0) evbuffer_add(p->out, ",", 1);
    if (p->base64) srv_json_base64(p->out, key, klen);
    else srv_json_string(p->out, key, klen);
}

/* A decimal query parameter in [1, max] (or any uint64 for max 0); 0, or -1 when malformed. */
static int query_number(const srv_http_req *r, const char *name, uint64_t *out)
{
    const char *raw;
    size_t len;
    uint64_t v = 0;

    if (!srv_query_get(r->query, name, &raw, &len) || len == 0) return 0;
    if (len > 20) return -1;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] < '0' || raw[i] > '9') return -1;
        uint64_t d = (uint64_t)(raw[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static void list_keys(srv_http_req *r)
{
    uint64_t limit = KEYS_DEFAULT_LIMIT, cursor = 0;
    const char *raw;
    size_t len;
    key_page p = {srv_http_body(r), "", 0, 0, 0};

    if (!read_allowed(r)) return;
    if (query_number(r, "limit", &limit) < 0 || limit == 0) {
        srv_http_reply_error(r, 400, "invalid limit: expected a whole number above 0");
        return;
    }
    if (limit > KEYS_MAX_LIMIT) limit = KEYS_MAX_LIMIT;
    if (query_number(r, "cursor", &cursor) < 0) {
        srv_http_reply_error(r, 400, "invalid cursor: use the next_cursor of the previous page");
        return;
    }
    if (srv_query_get(r->query, "encoding", &raw, &len)) {
        p.base64 = len == 6 && memcmp(raw, "base64", 6) == 0;
        if (!p.base64 && !(len == 4 && memcmp(raw, "utf8", 4) == 0)) {
            srv_http_reply_error(r, 400, "invalid encoding: expected utf8 or base64");
            return;
        }
    }
    if (srv_query_get(r->query, "prefix", &raw, &len) && len > 0) {
        char *buf = scratch_for(len);
        if (srv_url_decode(raw, len, 1, buf, &p.plen) != 0) {
            srv_http_reply_error(r, 400, "invalid prefix: malformed percent-encoding");
            return;
        }
        p.prefix = buf;
    }
    evbuffer_add(p.out, "{\"keys\":[", 9);
    uint64_t budget = limit * KEYS_BUCKETS_PER_KEY;
    do {
        cursor = ttl_dict_scan(srv.db, cursor, KEYS_SCAN_STEP, srv_now_ms(), 0, page_visit, &p);
        budget = budget > KEYS_SCAN_STEP ? budget - KEYS_SCAN_STEP : 0;
    } while (cursor != 0 && p.count < limit && budget > 0);
    evbuffer_add(p.out, "]", 1);
    if (cursor != 0)
        evbuffer_add_printf(p.out, ",\"next_cursor\":\"%llu\"", (unsigned long long)cursor);
    evbuffer_add(p.out, "}\n", 2);
    srv_http_reply(r, 200, "application/json");
}

/* ---- node information */

static const char *peer_state(enum cluster_peer_state s)
{
    switch (s) {
    case CLUSTER_PEER_OK: return "ok";
    case CLUSTER_PEER_PFAIL: return "suspected";
    case CLUSTER_PEER_FAIL: return "failed";
    case CLUSTER_PEER_CONNECTING:
    default: return "connecting";
    }
}

/* The peers array of /v1/status and /v1/topology: [] on a single node. */
static void write_peers(struct evbuffer *out)
{
    cluster *cl = srv_repl_cluster();
    int n = cl ? cluster_peer_count(cl) : 0;

    evbuffer_add(out, "[", 1);
    for (int i = 0; i < n; i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        evbuffer_add_printf(out, "%s{\"id\":", i ? "," : "");
        if (pi.name) srv_json_string(out, pi.name, strlen(pi.name));
        else evbuffer_add(out, "null", 4);
        evbuffer_add(out, ",\"address\":", 11);
        srv_json_string(out, pi.addr ? pi.addr : "", pi.addr ? strlen(pi.addr) : 0);
        evbuffer_add_printf(out, ",\"port\":%d,\"http_port\":%d,\"state\":\"%s\"}", pi.client_port,
                            pi.http_port, peer_state(pi.state));
    }
    evbuffer_add(out, "]", 1);
}

/* 200 when the node serves data; 503 while it bootstraps (a readiness probe then keeps traffic
 * away until it holds the cluster's keys). */
static void health(srv_http_req *r)
{
    struct evbuffer *out = srv_http_body(r);
    const char *status = srv.loading ? "loading" : "ok";
    evbuffer_add_printf(out, "{\"status\":\"%s\",\"node_id\":", status);
    srv_json_string(out, node_name(), strlen(node_name()));
    evbuffer_add(out, "}\n", 2);
    srv_http_reply(r, srv.loading ? 503 : 200, "application/json");
}

static void status(srv_http_req *r)
{
    struct evbuffer *out = srv_http_body(r);
    uint64_t up = (srv_now_ms() - srv.start_ms) / 1000;
    char dur[48];

    srv_format_duration_s(up, dur, sizeof dur);
    evbuffer_add(out, "{\"status\":\"ok\",\"node_id\":", 25);
    srv_json_string(out, node_name(), strlen(node_name()));
    evbuffer_add_printf(out,
                        ",\"run_id\":\"%s\",\"version\":\"%s\",\"mode\":\"%s\",\"cluster_size\":%d,"
                        "\"uptime\":\"%s\",\"uptime_seconds\":%llu,\"keys\":%zu,"
                        "\"memory\":{\"used_bytes\":%zu,\"max_bytes\":%lld,\"heap_bytes\":%zu},"
                        "\"peers\":",
                        srv.run_id, REPRAM_VERSION, srv_repl_enabled() ? "cluster" : "single",
                        srv_repl_enabled() ? srv.cfg.cluster_size : 1, dur,
                        (unsigned long long)up, srv_db_size(), srv_db_memory(), srv.cfg.maxmemory,
                        srv_info_used_memory());
    write_peers(out);
    evbuffer_add(out, "}\n", 2);
    srv_http_reply(r, 200, "application/json");
}

static void topology(srv_http_req *r)
{
    struct evbuffer *out = srv_http_body(r);
    const char *addr = srv.cfg.bind_count > 0 ? srv.cfg.bind[0] : "";

    evbuffer_add(out, "{\"node_id\":", 11);
    srv_json_string(out, node_name(), strlen(node_name()));
    evbuffer_add_printf(out, ",\"cluster_size\":%d,\"self\":{\"id\":",
                        srv_repl_enabled() ? srv.cfg.cluster_size : 1);
    srv_json_string(out, node_name(), strlen(node_name()));
    evbuffer_add(out, ",\"address\":", 11);
    srv_json_string(out, addr, strlen(addr));
    evbuffer_add_printf(out, ",\"port\":%d,\"http_port\":%d,\"state\":\"ok\"},\"peers\":",
                        srv.cfg.port, srv.cfg.http_port);
    write_peers(out);
    evbuffer_add(out, "}\n", 2);
    srv_http_reply(r, 200, "application/json");
}

static void metrics(srv_http_req *r)
{
    srv_metrics_write(srv_http_body(r));
    srv_http_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8");
}

void srv_http_dispatch(srv_http_req *r)
{
    switch (r->route) {
    case SRV_HTTP_DATA_GET:
    case SRV_HTTP_DATA_HEAD: get_data(r); return;
    case SRV_HTTP_DATA_PUT: put_data(r); return;
    case SRV_HTTP_DATA_DELETE: delete_data(r); return;
    case SRV_HTTP_KEYS: list_keys(r); return;
    case SRV_HTTP_HEALTH: health(r); return;
    case SRV_HTTP_STATUS: status(r); return;
    case SRV_HTTP_TOPOLOGY: topology(r); return;
    case SRV_HTTP_METRICS: metrics(r); return;
    case SRV_HTTP_BAD_METHOD:
        srv_http_add_header(r, "Allow", strncmp(r->path, DATA_PREFIX, DATA_PREFIX_LEN) == 0
                                            ? "GET, HEAD, PUT, DELETE"
                                            : "GET, HEAD");
        srv_http_reply_error(r, 405, "method not allowed");
        return;
    default: srv_http_reply_error(r, 404, "not found"); return;
    }
}
