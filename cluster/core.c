/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * core.c: the bus protocol without I/O: handshake, identity, gossip, failure detection, dialling.
 *
 * What: the transport hands this file links and complete frames; it answers with frames through
 * cl_transport_ops and keeps the peer table.  repl.c handles REPL/ACK on top of the same links.
 *
 * Identity: a peer is known by its configured node name.  Seeds start as nameless entries with an
 * address; the first HELLO_OK tells us whom we reached, and a seed that turns out to be a member
 * we already know is merged into it.  A seed that answers with our own run id is ourselves (the
 * seed list may include this node, as in a Kubernetes StatefulSet) and is never dialled again.
 * At most cluster-size - 1 distinct peer names are admitted; a further name is refused, so quorum
 * is always counted among a fixed number of voters.
 *
 * Liveness and failure (Redis's cluster bus and Lifeguard, adapted):
 *   - any frame from a peer, on either of our two links with it, counts as liveness;
 *   - we PING every peer on our outbound link every ping interval (min(1 s, node-timeout / 4));
 *   - silent for node-timeout -> PFAIL (our opinion) and the outbound link is re-dialled;
 *   - PFAIL plus PFAIL/FAIL reports from other voters, gossiped on PING/PONG and valid for
 *     2 x node-timeout, reaching the quorum -> FAIL;
 *   - local health: if our own timer fired more than node-timeout / 2 late (the process was
 *     stopped or starved), we forget every silence measured across the gap instead of accusing
 *     peers of our own stall.
 *
 * What can go wrong: two nodes configured with the same name; the second is refused ("duplicate
 * node name") and logged on both sides.  Mixed cluster names or sizes are refused at HELLO.
 *
 * Invariants: a link in CL_LINK_READY has `peer` set and is that peer's `out` (outbound) or `in`
 * (inbound); a peer with is_self set has no links.  Event-loop thread only.
 * Start reading at cl_core_frame.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"

#define PING_INTERVAL_MAX_MS 1000u
#define DIAL_BACKOFF_MIN_MS 100u
#define DIAL_BACKOFF_MAX_MS 5000u
#define HANDSHAKE_TIMEOUT_MIN_MS 5000u

uint64_t cl_now(const cluster *cl)
{
    return cl->cb.mono_ms ? cl->cb.mono_ms(cl->cb.priv) : cl->cb.now_ms(cl->cb.priv);
}

uint64_t cl_wall(const cluster *cl) { return cl->cb.now_ms(cl->cb.priv); }

void cl_log(const cluster *cl, int level, const char *fmt, ...)
{
    if (!cl->cb.log) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cl->cb.log(cl->cb.priv, level, buf);
}

static const char *peer_label(const cl_peer *p) { return p->name[0] ? p->name : p->addr; }

static uint64_t ping_interval(const cluster *cl)
{
    uint64_t quarter = cl->cfg.node_timeout_ms / 4;
    return quarter < PING_INTERVAL_MAX_MS ? (quarter ? quarter : 1) : PING_INTERVAL_MAX_MS;
}

/* ---- peer table */

static cl_peer *peer_add(cluster *cl, const char *name, const char *addr)
{
    if (cl->npeers == cl->cap_peers) {
        int cap = cl->cap_peers ? cl->cap_peers * 2 : 8;
        cl_peer **p = realloc(cl->peers, sizeof *p * (size_t)cap);
        if (!p) return NULL;
        cl->peers = p;
        cl->cap_peers = cap;
    }
    cl_peer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->name, sizeof p->name, "%s", name ? name : "");
    snprintf(p->addr, sizeof p->addr, "%s", addr ? addr : "");
    p->state = CLUSTER_PEER_CONNECTING;
    p->backoff_ms = DIAL_BACKOFF_MIN_MS;
    cl->peers[cl->npeers++] = p;
    return p;
}

static void peer_remove(cluster *cl, cl_peer *p)
{
    for (int i = 0; i < cl->npeers; i++) {
        if (cl->peers[i] != p) continue;
        memmove(&cl->peers[i], &cl->peers[i + 1], sizeof *cl->peers * (size_t)(cl->npeers - i - 1));
        cl->npeers--;
        break;
    }
    free(p);
}

static cl_peer *peer_by_name(const cluster *cl, const char *name)
{
    for (int i = 0; i < cl->npeers; i++)
        if (cl->peers[i]->name[0] && strcmp(cl->peers[i]->name, name) == 0) return cl->peers[i];
    return NULL;
}

static int named_peers(const cluster *cl)
{
    int n = 0;
    for (int i = 0; i < cl->npeers; i++)
        if (cl->peers[i]->name[0] && !cl->peers[i]->is_self) n++;
    return n;
}

int cl_core_init(cluster *cl, char *err, size_t errlen)
{
    for (int i = 0; i < cl->cfg.seed_count; i++) {
        if (!peer_add(cl, NULL, cl->cfg.seeds[i])) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        cl->peers[cl->npeers - 1]->is_seed = 1;
    }
    cl_wbuf_init(&cl->scratch);
    return 0;
}

void cl_core_free(cluster *cl)
{
    for (int i = 0; i < cl->npeers; i++) free(cl->peers[i]);
    free(cl->peers);
    cl->peers = NULL;
    cl->npeers = cl->cap_peers = 0;
    cl_wbuf_free(&cl->scratch);
}

/* ---- links */

cl_link *cl_link_new(cluster *cl, int outbound)
{
    cl_link *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->cl = cl;
    l->outbound = outbound;
    l->state = CL_LINK_CONNECTING;
    l->opened_ms = cl_now(cl);
    return l;
}

int cl_send_frame(cl_link *l, const cl_wbuf *w)
{
    cluster *cl = l->cl;
    if (w->failed || l->state == CL_LINK_CLOSED) return -1;
    if (cl->tr->send(l, w->data, w->len) < 0) return -1;
    cl->stats.frames_out++;
    cl->stats.bytes_out += w->len;
    return 0;
}

static void close_link(cl_link *l)
{
    if (l->state != CL_LINK_CLOSED) l->cl->tr->close(l);
}

static void fill_hello(const cluster *cl, cl_hello *h)
{
    memset(h, 0, sizeof *h);
    snprintf(h->cluster_name, sizeof h->cluster_name, "%s", cl->cfg.cluster_name);
    snprintf(h->node_name, sizeof h->node_name, "%s", cl->cfg.node_name);
    snprintf(h->run_id, sizeof h->run_id, "%s", cl->run_id);
    h->client_port = (uint16_t)cl->cfg.client_port;
    h->http_port = (uint16_t)cl->cfg.http_port;
    h->bus_port = (uint16_t)cl->cfg.port;
    h->cluster_size = (uint32_t)cl->cfg.cluster_size;
    h->ready = !cl->loading;
}

uint64_t cl_hlc_now(const cluster *cl) { return cluster_hlc_peek(cl->cfg.hlc, cl_wall(cl)); }

static void send_hello(cl_link *l, uint16_t type)
{
    cl_hello h;
    fill_hello(l->cl, &h);
    cl_encode_hello(&l->cl->scratch, type, cl_hlc_now(l->cl), &h);
    if (cl_frame_end(&l->cl->scratch) == 0) cl_send_frame(l, &l->cl->scratch);
}

static void send_reason(cl_link *l, uint16_t type, const char *reason)
{
    cl_wbuf *w = &l->cl->scratch;
    cl_frame_begin(w, type, cl_hlc_now(l->cl));
    cl_put_str(w, reason);
    if (cl_frame_end(w) == 0) cl_send_frame(l, w);
}

void cl_core_link_up(cl_link *l)
{
    l->state = CL_LINK_HANDSHAKE;
    l->opened_ms = cl_now(l->cl);
    if (l->outbound) send_hello(l, CL_HELLO);
}

void cl_core_link_down(cl_link *l)
{
    cluster *cl = l->cl;
    cl_peer *p = l->peer;
    cl_sync_link_down(l);
    l->state = CL_LINK_CLOSED;
    if (p) {
        if (p->out == l) {
            p->out = NULL;
            uint64_t now = cl_now(cl);
            p->next_dial_ms = now + p->backoff_ms;
            p->backoff_ms = p->backoff_ms * 2 > DIAL_BACKOFF_MAX_MS ? DIAL_BACKOFF_MAX_MS
                                                                    : p->backoff_ms * 2;
        }
        if (p->in == l) p->in = NULL;
    }
    free(l);
}

/* ---- handshake */

/* We are hearing from p right now on a ready link other than l. */
static int live_elsewhere(const cluster *cl, const cl_peer *p, const cl_link *l)
{
    int linked = (p->in && p->in != l && p->in->state == CL_LINK_READY) ||
                 (p->out && p->out != l && p->out->state == CL_LINK_READY);
    uint64_t now = cl_now(cl);
    return linked && now >= p->last_rx_ms && now - p->last_rx_ms <= cl->cfg.node_timeout_ms;
}

/* Checks shared by both sides of a handshake; returns a refusal reason or NULL. */
static const char *check_hello(cluster *cl, const cl_link *l, const cl_hello *h)
{
    if (strcmp(h->cluster_name, cl->cfg.cluster_name) != 0) return "cluster name differs";
    if (h->cluster_size != (uint32_t)cl->cfg.cluster_size) return "cluster-size differs";
    if (strcmp(h->node_name, cl->cfg.node_name) == 0)
        return strcmp(h->run_id, cl->run_id) == 0 ? "self" : "duplicate node name";
    if (!cl->tr->name_ok(l, h->node_name)) return "certificate does not match node name";
    if (cl->cfg.member_count > 0) {
        int listed = 0;
        for (int i = 0; i < cl->cfg.member_count; i++)
            listed |= strcmp(cl->cfg.members[i], h->node_name) == 0;
        if (!listed) return "not one of cluster-members";
    }
    cl_peer *known = peer_by_name(cl, h->node_name);
    if (!known && named_peers(cl) >= cl->cfg.cluster_size - 1) return "cluster is full";
    /* Another run id under a name we are hearing from right now is a second node configured
     * with that name, not a restart (a restarted process's old links die with it; a half-open
     * one goes silent and stops counting after node-timeout). */
    if (known && known->run_id[0] && strcmp(known->run_id, h->run_id) != 0 &&
        live_elsewhere(cl, known, l))
        return "duplicate node name";
    return NULL;
}

static void note_restart(cluster *cl, cl_peer *p, const cl_hello *h)
{
    if (p->run_id[0] && strcmp(p->run_id, h->run_id) != 0)
        cl_log(cl, CLUSTER_LOG_NOTICE, "peer %s restarted (run id %.8s -> %.8s)", p->name,
               p->run_id, h->run_id);
    snprintf(p->run_id, sizeof p->run_id, "%s", h->run_id);
    p->client_port = h->client_port;
    p->http_port = h->http_port;
    p->ready = h->ready;
}

static void mark_alive(cluster *cl, cl_peer *p)
{
    p->last_rx_ms = cl_now(cl);
    if (p->state != CLUSTER_PEER_OK) {
        if (p->logged_down)
            cl_log(cl, CLUSTER_LOG_NOTICE, "peer %s is reachable again", peer_label(p));
        p->logged_down = 0;
        p->state = CLUSTER_PEER_OK;
        p->nreports = 0;
        cl_sync_peer_back(cl, p); /* it may have missed writes, or we may have */
    }
}

/* Inbound HELLO: identify the dialer, answer HELLO_OK or HELLO_ERR. */
static int on_hello(cl_link *l, const uint8_t *payload, size_t n)
{
    cluster *cl = l->cl;
    cl_hello h;
    if (l->outbound || l->state != CL_LINK_HANDSHAKE || cl_decode_hello(payload, n, &h) < 0)
        return -1;
    const char *why = check_hello(cl, l, &h);
    if (why) {
        if (strcmp(why, "self") != 0) {
            cl->stats.auth_failures++;
            cl_log(cl, CLUSTER_LOG_WARNING, "refused bus link from %s (%s): %s", h.node_name,
                   l->remote_ip, why);
        }
        send_reason(l, CL_HELLO_ERR, why);
        return -1;
    }
    cl_peer *p = peer_by_name(cl, h.node_name);
    if (!p) {
        char addr[CL_STR_MAX + 1];
        snprintf(addr, sizeof addr, "%s:%u", l->remote_ip, (unsigned)h.bus_port);
        p = peer_add(cl, h.node_name, addr);
        if (!p) return -1;
        cl_log(cl, CLUSTER_LOG_NOTICE, "new peer %s at %s", p->name, p->addr);
    }
    /* A member we cannot reach, dialling in: dial it back where it is now (a restarted
     * process may have a new address).  Configured seed addresses are kept: they are names
     * resolved again on every dial. */
    if (!p->is_seed && (!p->out || p->out->state != CL_LINK_READY))
        snprintf(p->addr, sizeof p->addr, "%s:%u", l->remote_ip, (unsigned)h.bus_port);
    /* A new incarnation's link replaces the old one's.  A second link from the same
     * incarnation is left alone: it is usually a seed dial that the dialer is about to drop as
     * a duplicate, while the older link is the one carrying its writes (closing that one here
     * lost the batches in flight on it).  The dialer closes whichever link it does not keep. */
    int restarted = p->run_id[0] && strcmp(p->run_id, h.run_id) != 0;
    note_restart(cl, p, &h);
    if (p->in && p->in != l && restarted) close_link(p->in);
    p->in = l;
    l->peer = p;
    l->state = CL_LINK_READY;
    mark_alive(cl, p);
    send_hello(l, CL_HELLO_OK);
    /* A peer that dialled us and that we cannot reach yet: try it now. */
    if (!p->out) p->next_dial_ms = 0;
    return 0;
}

/* The seed entry `seed` turned out to be the named peer `named`: keep one entry.  Returns NULL
 * when `named` already has a link to it: the caller then fails the handshake, so the transport
 * closes this duplicate (a link is never closed from inside its own frame callback). */
static cl_peer *merge_seed(cluster *cl, cl_peer *seed, cl_peer *named, cl_link *l)
{
    if (named->out && named->out != l) {
        /* Keep the configured address (a name re-resolved on every dial) for later dials. */
        snprintf(named->addr, sizeof named->addr, "%s", seed->addr);
        named->is_seed = 1;
        seed->out = NULL;
        l->peer = NULL;
        peer_remove(cl, seed);
        return NULL;
    }
    named->out = l;
    named->is_seed = 1;
    snprintf(named->addr, sizeof named->addr, "%s", seed->addr);
    seed->out = NULL;
    peer_remove(cl, seed);
    return named;
}

static void send_ping(cl_link *l, uint16_t type);

/* Outbound HELLO_OK: we know whom we reached; the session starts. */
static int on_hello_ok(cl_link *l, const uint8_t *payload, size_t n)
{
    cluster *cl = l->cl;
    cl_hello h;
    if (!l->outbound || l->state != CL_LINK_HANDSHAKE || cl_decode_hello(payload, n, &h) < 0)
        return -1;
    const char *why = check_hello(cl, l, &h);
    cl_peer *p = l->peer;
    if (why) {
        if (strcmp(why, "self") == 0) {
            p->is_self = 1;
        } else {
            cl->stats.auth_failures++;
            cl_log(cl, CLUSTER_LOG_WARNING, "refused bus link to %s (%s): %s", p->addr,
                   h.node_name, why);
        }
        return -1;
    }
    cl_peer *named = peer_by_name(cl, h.node_name);
    if (!p->name[0]) {
        if (named && named != p) {
            p = merge_seed(cl, p, named, l);
            if (!p) return -1; /* a duplicate of a link we already have */
        } else {
            snprintf(p->name, sizeof p->name, "%s", h.node_name);
        }
    } else if (strcmp(p->name, h.node_name) != 0) {
        cl_log(cl, CLUSTER_LOG_WARNING, "%s answered as %s, not %s", p->addr, h.node_name, p->name);
        return -1;
    } else if (p->out != l) {
        return -1; /* a seed entry merged into this peer already gave it another link */
    }
    l->peer = p;
    note_restart(cl, p, &h);
    l->state = CL_LINK_READY;
    p->backoff_ms = DIAL_BACKOFF_MIN_MS;
    p->session_start = cl->next_seq;
    p->acked_seq = 0;
    mark_alive(cl, p);
    cl_log(cl, CLUSTER_LOG_NOTICE, "bus link to %s (%s) is up", p->name, p->addr);
    send_ping(l, CL_PING);
    return 0;
}

static int on_hello_err(cl_link *l, const uint8_t *payload, size_t n)
{
    cluster *cl = l->cl;
    char why[CL_STR_MAX + 1];
    cl_reader r;
    cl_reader_init(&r, payload, n);
    cl_get_str(&r, why);
    if (!l->outbound || r.bad) return -1;
    if (strcmp(why, "self") == 0) {
        if (l->peer) l->peer->is_self = 1;
    } else {
        cl->stats.auth_failures++;
        cl_log(cl, CLUSTER_LOG_WARNING, "bus link to %s refused by the peer: %s",
               l->peer ? peer_label(l->peer) : "?", why);
    }
    return -1;
}

/* ---- gossip */

static void send_ping(cl_link *l, uint16_t type)
{
    cluster *cl = l->cl;
    cl_gossip_entry e[CL_GOSSIP_MAX];
    int n = 0;
    for (int i = 0; i < cl->npeers && n < (int)CL_GOSSIP_MAX; i++) {
        const cl_peer *p = cl->peers[i];
        if (!p->name[0] || p->is_self || p == l->peer) continue;
        memset(&e[n], 0, sizeof e[n]);
        snprintf(e[n].name, sizeof e[n].name, "%s", p->name);
        snprintf(e[n].addr, sizeof e[n].addr, "%s", p->addr);
        e[n].state = (uint8_t)p->state;
        e[n].client_port = p->client_port;
        e[n].http_port = p->http_port;
        n++;
    }
    cl_encode_gossip(&cl->scratch, type, cl_hlc_now(cl), (uint8_t)!cl->loading, e, n);
    if (cl_frame_end(&cl->scratch) == 0) cl_send_frame(l, &cl->scratch);
}

static void record_report(cl_peer *target, const cl_peer *reporter, int failing, uint64_t now)
{
    for (int i = 0; i < target->nreports; i++) {
        if (target->reports[i].reporter != reporter) continue;
        if (failing) {
            target->reports[i].at_ms = now;
        } else {
            target->reports[i] = target->reports[--target->nreports];
        }
        return;
    }
    if (failing && target->nreports < (int)(sizeof target->reports / sizeof target->reports[0])) {
        target->reports[target->nreports].reporter = reporter;
        target->reports[target->nreports].at_ms = now;
        target->nreports++;
    }
}

static void merge_gossip(cluster *cl, cl_peer *from, const cl_gossip_entry *e, int n)
{
    uint64_t now = cl_now(cl);
    for (int i = 0; i < n; i++) {
        if (strcmp(e[i].name, cl->cfg.node_name) == 0) continue;
        cl_peer *p = peer_by_name(cl, e[i].name);
        if (!p) {
            if (!e[i].addr[0] || named_peers(cl) >= cl->cfg.cluster_size - 1) continue;
            p = peer_add(cl, e[i].name, e[i].addr);
            if (!p) continue;
            cl_log(cl, CLUSTER_LOG_NOTICE, "learned of peer %s at %s from %s", p->name, p->addr,
                   from->name);
        }
        if (!p->client_port) p->client_port = e[i].client_port;
        if (!p->http_port) p->http_port = e[i].http_port;
        record_report(p, from, e[i].state == CLUSTER_PEER_PFAIL || e[i].state == CLUSTER_PEER_FAIL,
                      now);
    }
}

static int on_gossip(cl_link *l, const cl_frame_header *h, const uint8_t *payload, size_t n)
{
    cluster *cl = l->cl;
    int ping = h->type == CL_PING;
    if (ping == l->outbound) return -1; /* PING goes out on outbound links, PONG comes back */
    cl_gossip_entry e[CL_GOSSIP_MAX];
    uint8_t ready;
    int count = cl_decode_gossip(payload, n, &ready, e, (int)CL_GOSSIP_MAX);
    if (count < 0) return -1;
    l->peer->ready = ready;
    merge_gossip(cl, l->peer, e, count);
    if (ping) send_ping(l, CL_PONG);
    return 0;
}

static int on_error_frame(cl_link *l, const uint8_t *payload, size_t n)
{
    char why[CL_STR_MAX + 1];
    cl_reader r;
    cl_reader_init(&r, payload, n);
    cl_get_str(&r, why);
    if (r.bad) return -1;
    cl_log(l->cl, CLUSTER_LOG_WARNING, "peer %s reports: %s", l->peer ? peer_label(l->peer) : "?",
           why);
    return 0;
}

/* ---- frames */

static int clock_ok(cl_link *l, const cl_frame_header *h)
{
    cluster *cl = l->cl;
    uint64_t now = cl_wall(cl);
    if (cluster_hlc_observe(cl->cfg.hlc, h->hlc, now, cl->cfg.max_clock_offset_ms) == 0) return 1;
    cl->stats.clock_rejections++;
    if (cl->stats.clock_rejections % 1000 == 1) {
        char why[128];
        snprintf(why, sizeof why, "clock %llu ms ahead of %s, over max-clock-offset %llu ms",
                 (unsigned long long)(CLUSTER_HLC_MS(h->hlc) - now), cl->cfg.node_name,
                 (unsigned long long)cl->cfg.max_clock_offset_ms);
        cl_log(cl, CLUSTER_LOG_WARNING, "refusing frames from %s: %s",
               l->peer ? peer_label(l->peer) : l->remote_ip, why);
        send_reason(l, CL_ERROR, why);
    }
    return 0;
}

int cl_core_frame(cl_link *l, const cl_frame_header *h, const uint8_t *payload, size_t n)
{
    cluster *cl = l->cl;
    cl->stats.frames_in++;
    cl->stats.bytes_in += h->len;
    l->last_frame_ms = cl_now(cl);
    if (l->state == CL_LINK_HANDSHAKE) {
        /* A node whose clock runs ahead is refused before it becomes a member: otherwise it
         * would flap between suspected and connected, and its writes carry future versions. */
        uint64_t wall = cl_wall(cl);
        if (h->type != CL_HELLO_ERR && CLUSTER_HLC_MS(h->hlc) > wall + cl->cfg.max_clock_offset_ms) {
            char why[128];
            snprintf(why, sizeof why, "clock %llu ms ahead, over max-clock-offset %llu ms",
                     (unsigned long long)(CLUSTER_HLC_MS(h->hlc) - wall),
                     (unsigned long long)cl->cfg.max_clock_offset_ms);
            cl->stats.clock_rejections++;
            cl_log(cl, CLUSTER_LOG_WARNING, "refused bus link with %s: %s", l->remote_ip[0] ?
                   l->remote_ip : (l->peer ? peer_label(l->peer) : "?"), why);
            if (h->type == CL_HELLO) send_reason(l, CL_HELLO_ERR, why);
            return -1;
        }
        int rc = -1;
        if (h->type == CL_HELLO) rc = on_hello(l, payload, n);
        else if (h->type == CL_HELLO_OK) rc = on_hello_ok(l, payload, n);
        else if (h->type == CL_HELLO_ERR) rc = on_hello_err(l, payload, n);
        if (rc < 0 && h->type != CL_HELLO_ERR) cl->stats.frames_rejected++;
        if (rc == 0 && l->state == CL_LINK_READY) clock_ok(l, h);
        return rc;
    }
    if (l->state != CL_LINK_READY || !l->peer) {
        cl->stats.frames_rejected++;
        return -1;
    }
    /* A refused REPL ends the link: the receiver's next cumulative ACK would otherwise cover
     * the batch it dropped, and the sender would count a write nobody applied. */
    if (!clock_ok(l, h)) return h->type == CL_REPL ? -1 : 0;
    mark_alive(cl, l->peer);
    int rc;
    switch (h->type) {
    case CL_PING:
    case CL_PONG:
        rc = on_gossip(l, h, payload, n);
        if (rc < 0) cl->stats.frames_rejected++;
        return rc;
    case CL_REPL:
        if (l->outbound) break;
        return cl_repl_on_frame(l, payload, n);
    case CL_ACK: {
        if (!l->outbound) break;
        cl_reader r;
        cl_reader_init(&r, payload, n);
        uint64_t seq = cl_get_u64(&r);
        if (r.bad || r.left) break;
        cl_repl_on_ack(cl, l->peer, seq);
        return 0;
    }
    case CL_ERROR:
        rc = on_error_frame(l, payload, n);
        if (rc < 0) cl->stats.frames_rejected++;
        return rc;
    default:
        if (h->type >= CL_AE_TOPS && h->type <= CL_SYNC_DONE) {
            rc = cl_sync_frame(l, h->type, payload, n);
            if (rc < 0) cl->stats.frames_rejected++;
            return rc;
        }
        break;
    }
    cl->stats.frames_rejected++;
    return -1;
}

void cl_core_batch_end(cl_link *l)
{
    if (!l->ack_pending || l->state != CL_LINK_READY) return;
    cl_wbuf *w = &l->cl->scratch;
    cl_frame_begin(w, CL_ACK, cl_hlc_now(l->cl));
    cl_put_u64(w, l->last_rx_seq);
    if (cl_frame_end(w) == 0 && cl_send_frame(l, w) == 0) l->ack_pending = 0;
}

/* ---- periodic work */

static int count_reports(const cl_peer *p, uint64_t now, uint64_t validity)
{
    int n = 0;
    for (int i = 0; i < p->nreports; i++)
        if (now - p->reports[i].at_ms <= validity) n++;
    return n;
}

static void update_state(cluster *cl, cl_peer *p, uint64_t now)
{
    if (!p->name[0] || p->is_self || p->last_rx_ms == 0) return;
    /* now < last_rx_ms when the wall clock was stepped back: no silence, not years of it */
    uint64_t silence = now > p->last_rx_ms ? now - p->last_rx_ms : 0;
    if (silence <= cl->cfg.node_timeout_ms) return;
    if (p->state == CLUSTER_PEER_OK || p->state == CLUSTER_PEER_CONNECTING) {
        p->state = CLUSTER_PEER_PFAIL;
        p->logged_down = 1;
        cl_log(cl, CLUSTER_LOG_WARNING, "peer %s silent for %llu ms: suspected", p->name,
               (unsigned long long)silence);
        if (p->out) close_link(p->out); /* re-dial: the link may be half dead */
    }
    if (p->state == CLUSTER_PEER_PFAIL &&
        count_reports(p, now, 2 * cl->cfg.node_timeout_ms) + 1 >= cl->quorum) {
        p->state = CLUSTER_PEER_FAIL;
        cl_log(cl, CLUSTER_LOG_WARNING, "peer %s marked failed (a majority of voters agree)",
               p->name);
    }
}

static void maintain_links(cluster *cl, cl_peer *p, uint64_t now)
{
    /* The peer pings on its link to us every second: one silent for 2 x node-timeout is dead
     * (half-open after a crash or a partition) and only holds a socket. */
    cl_link *in = p->in;
    if (in && in->state == CL_LINK_READY && now > in->last_frame_ms &&
        now - in->last_frame_ms > 2 * cl->cfg.node_timeout_ms) {
        cl_log(cl, CLUSTER_LOG_VERBOSE, "bus link from %s silent; closing it", peer_label(p));
        close_link(in);
    }
    if (p->is_self) return;
    uint64_t hs_limit = cl->cfg.node_timeout_ms > HANDSHAKE_TIMEOUT_MIN_MS
                            ? cl->cfg.node_timeout_ms
                            : HANDSHAKE_TIMEOUT_MIN_MS;
    cl_link *l = p->out;
    if (l && l->state != CL_LINK_READY && now - l->opened_ms > hs_limit) {
        cl_log(cl, CLUSTER_LOG_VERBOSE, "bus link to %s: handshake timed out", peer_label(p));
        close_link(l);
        return;
    }
    if (l && l->state == CL_LINK_READY && cl->tr->queued(l) > cl->cfg.max_queue_bytes) {
        cl->stats.link_resets++;
        cl_log(cl, CLUSTER_LOG_WARNING, "bus link to %s: %zu bytes queued, over the limit; "
               "resetting it", p->name, cl->tr->queued(l));
        close_link(l);
        return;
    }
    if (!p->out && now >= p->next_dial_ms) {
        p->out = cl->tr->dial(cl, p->addr);
        if (p->out) {
            p->out->peer = p;
        } else {
            p->next_dial_ms = now + p->backoff_ms;
            p->backoff_ms = p->backoff_ms * 2 > DIAL_BACKOFF_MAX_MS ? DIAL_BACKOFF_MAX_MS
                                                                    : p->backoff_ms * 2;
        }
    }
}

/* Our own loop stalled (stopped process, starved CPU): silences measured across the gap say
 * nothing about the peers, so start measuring afresh. */
static void forgive_stall(cluster *cl, uint64_t now, uint64_t gap)
{
    cl_log(cl, CLUSTER_LOG_WARNING, "this node's event loop stalled for %llu ms; not suspecting "
           "peers for that gap", (unsigned long long)gap);
    for (int i = 0; i < cl->npeers; i++) {
        cl_peer *p = cl->peers[i];
        if (p->last_rx_ms) p->last_rx_ms = now;
        p->nreports = 0;
    }
}

void cl_core_tick(cluster *cl, uint64_t now)
{
    if (cl->last_tick_ms && now > cl->last_tick_ms &&
        now - cl->last_tick_ms > cl->cfg.node_timeout_ms / 2)
        forgive_stall(cl, now, now - cl->last_tick_ms);
    cl->last_tick_ms = now;
    int ping = now - cl->last_ping_ms >= ping_interval(cl);
    if (ping) cl->last_ping_ms = now;
    for (int i = 0; i < cl->npeers; i++) {
        cl_peer *p = cl->peers[i];
        update_state(cl, p, now);
        maintain_links(cl, p, now);
        if (ping && p->out && p->out->state == CL_LINK_READY) send_ping(p->out, CL_PING);
    }
    cl_repl_progress(cl, now);
    cl_sync_tick(cl, now);
}
