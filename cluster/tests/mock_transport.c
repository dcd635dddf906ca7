/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_transport.c: an in-memory transport and test network for cluster/ (see mock_transport.h).
 *
 * A connection (mconn) has two sides: 0 is the dialer, 1 the acceptor.  Each side has the
 * cl_link the core gave or got (NULL once that side closed) and a byte queue of what it sent.
 * mnet_pump moves bytes from queues into the other side's cl_core_frame, one whole frame at a
 * time (the header is checked the way bus.c checks it, against the receiver's max-frame-bytes,
 * before anything is copied), and calls cl_core_batch_end after each side's batch, as bus.c
 * does after each read.  A side that closes still has its queued bytes delivered (TCP sends what
 * the kernel holds before the FIN), then the other side sees EOF; mnet_sever instead drops
 * everything at once (a reset).
 *
 * Blocked directions hold bytes and EOFs (TCP retransmits until the partition heals) and refuse
 * new connections; a paused node neither receives nor accepts, like a stopped process whose
 * kernel still holds the bytes.
 *
 * Lifetime: the core frees a cl_link in cl_core_link_down; this file never touches a link after
 * calling that, and sets the side's pointer to NULL first.  Connections are freed when both sides
 * are gone (a raw side is gone only once the test closed it).
 */
#include "cluster/tests/mock_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MC_CONNECTING, MC_OPEN, MC_DEAD };

typedef struct mbytes {
    uint8_t *p;
    size_t len, cap;
} mbytes;

typedef struct mend {
    mconn *c;
    int side;
} mend;

struct mconn {
    mnet *net;
    int node[2];       /* node index of each side; -1 for a raw endpoint */
    int target;        /* the node a dial resolved to (-1: nobody there) */
    cl_link *link[2];  /* NULL: that side is gone (or is raw) */
    int gone[2];       /* side closed */
    int eof_done[2];   /* the other side was told about side s closing */
    mbytes q[2];       /* bytes sent by side s, not yet delivered */
    int state;
    mend end[2];
    /* raw endpoint (side 0) */
    int raw;
    int raw_user_closed;
    mbytes rx;
    mconn *next;
};

static void bytes_append(mbytes *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) abort();
        b->p = q;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void bytes_consume(mbytes *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void bytes_free(mbytes *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static mnet_node *node_of(const cluster *cl) { return (mnet_node *)cl->tr_state; }
static uint64_t node_now(const mnet_node *n) { return (uint64_t)((int64_t)n->net->now_ms + n->skew_ms); }

/* ---- callbacks into the "server" */

static int cb_apply(void *priv, const void *batch, size_t len, const char *from, int origin)
{
    (void)from;
    (void)origin;
    mnet_node *n = priv;
    if (n->apply_fail) return -1;
    if (n->store && mstore_apply(n->store, batch, len, node_now(n)) < 0) return -1;
    n->applied++;
    n->last_batch_len = len < sizeof n->last_batch ? len : sizeof n->last_batch;
    memcpy(n->last_batch, batch, n->last_batch_len);
    return 0;
}

static void cb_done(void *priv, void *cookie, int status, int acks)
{
    mnet_node *n = priv;
    if (n->ndone < MNET_MAX_DONE) { /* the first ones are kept; all are counted */
        n->done[n->ndone].cookie = cookie;
        n->done[n->ndone].status = status;
        n->done[n->ndone].acks = acks;
    }
    n->ndone++;
}

static uint64_t cb_now(void *priv)
{
    const mnet_node *n = priv;
    return node_now(n) + (uint64_t)(n->in_tick ? n->tick_cost_ms : 0);
}

/* ---- repair callbacks (nodes with a store) */

static void cb_tops(void *priv, uint64_t *tops) { mstore_tops(((mnet_node *)priv)->store, tops); }

static void cb_leaves(void *priv, unsigned top, uint64_t *leaves)
{
    mstore_leaves(((mnet_node *)priv)->store, top, leaves);
}

static int cb_collect(void *priv, const uint8_t *buckets, uint64_t *cursor, cluster_buf *out,
                      size_t max_bytes)
{
    mnet_node *n = priv;
    return mstore_collect(n->store, buckets, cursor, out, max_bytes, cb_now(n));
}

static void cb_ready(void *priv) { mstore_ready(((mnet_node *)priv)->store); }
static void cb_wipe(void *priv) { mstore_wipe(((mnet_node *)priv)->store); }

static void cb_log(void *priv, int level, const char *msg)
{
    mnet_node *n = priv;
    n->nlog++;
    if (strstr(msg, "event loop stalled")) n->nlog_stalled++;
    snprintf(n->last_log, sizeof n->last_log, "%s", msg);
    if (n->net->verbose) fprintf(stderr, "[%llu %s L%d] %s\n",
                                 (unsigned long long)(n->net->now_ms - MNET_T0), n->name, level, msg);
}

/* ---- transport ops */

static int resolve(mnet *net, const char *addr)
{
    for (int i = 0; i < net->n; i++)
        if (strcmp(net->nodes[i].addr, addr) == 0) return i;
    /* "name:7000": the running node of that name (DNS that follows a restarted pod) */
    const char *colon = strrchr(addr, ':');
    if (!colon) return -1;
    size_t hl = (size_t)(colon - addr);
    for (int i = 0; i < net->n; i++)
        if (net->nodes[i].cl && strlen(net->nodes[i].name) == hl &&
            memcmp(net->nodes[i].name, addr, hl) == 0)
            return i;
    return -1;
}

static mconn *conn_new(mnet *net)
{
    mconn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->net = net;
    c->end[0].c = c->end[1].c = c;
    c->end[0].side = 0;
    c->end[1].side = 1;
    c->node[0] = c->node[1] = -1;
    c->target = -1;
    c->next = net->conns;
    net->conns = c;
    return c;
}

static cl_link *op_dial(cluster *cl, const char *addr)
{
    mnet_node *n = node_of(cl);
    n->dials++;
    if (n->dial_fail) return NULL;
    cl_link *l = cl_link_new(cl, 1);
    if (!l) return NULL;
    mconn *c = conn_new(n->net);
    c->node[0] = n->idx;
    c->target = resolve(n->net, addr);
    c->link[0] = l;
    c->state = MC_CONNECTING;
    l->tr = &c->end[0];
    return l;
}

static int op_send(cl_link *l, const void *p, size_t n)
{
    mend *e = l->tr;
    if (!e) return -1;
    mconn *c = e->c;
    if (c->state != MC_OPEN || c->gone[e->side]) return -1;
    bytes_append(&c->q[e->side], p, n);
    return 0;
}

static size_t op_queued(const cl_link *l)
{
    const mend *e = l->tr;
    return e ? e->c->q[e->side].len : 0;
}

/* One side goes away: the core is told at once, the other side later (EOF). */
static void side_down(mconn *c, int s)
{
    cl_link *l = c->link[s];
    c->link[s] = NULL;
    c->gone[s] = 1;
    if (c->state == MC_CONNECTING) c->state = MC_DEAD;
    if (l) {
        l->tr = NULL;
        cl_core_link_down(l);
    }
}

static void op_close(cl_link *l)
{
    mend *e = l->tr;
    if (!e) {
        cl_core_link_down(l);
        return;
    }
    side_down(e->c, e->side);
}

static int op_name_ok(const cl_link *l, const char *name)
{
    const mend *e = l->tr;
    if (!e) return 0;
    mnet *net = e->c->net;
    if (!net->mtls) return 1;
    int remote = e->c->node[1 - e->side];
    if (remote < 0) return 1;
    const mnet_node *r = &net->nodes[remote];
    const char *cert = r->cert_name[0] ? r->cert_name : r->name;
    return strcmp(cert, name) == 0;
}

static void op_wake(cluster *cl) { node_of(cl)->wake_pending = 1; }

static const cl_transport_ops mock_ops = {
    .dial = op_dial,
    .send = op_send,
    .queued = op_queued,
    .close = op_close,
    .name_ok = op_name_ok,
    .wake = op_wake,
};

/* cluster_free: drop every link of this node (the others see EOF). */
static void op_tr_free(cluster *cl)
{
    mnet_node *n = node_of(cl);
    for (mconn *c = n->net->conns; c; c = c->next)
        for (int s = 0; s < 2; s++)
            if (c->node[s] == n->idx && c->link[s] && c->link[s]->cl == cl) side_down(c, s);
}

/* ---- network */

void mnet_init(mnet *net)
{
    memset(net, 0, sizeof *net);
    net->now_ms = MNET_T0;
}

static void conn_free(mconn *c)
{
    bytes_free(&c->q[0]);
    bytes_free(&c->q[1]);
    bytes_free(&c->rx);
    free(c);
}

void mnet_free(mnet *net)
{
    for (int i = 0; i < net->n; i++) mnet_kill(net, i);
    while (net->conns) {
        mconn *c = net->conns;
        net->conns = c->next;
        conn_free(c);
    }
}

int mnet_add(mnet *net, const char *name)
{
    if (net->n >= MNET_MAX_NODES) abort();
    int i = net->n++;
    mnet_node *n = &net->nodes[i];
    memset(n, 0, sizeof *n);
    n->net = net;
    n->idx = i;
    snprintf(n->name, sizeof n->name, "%s", name);
    snprintf(n->ip, sizeof n->ip, "10.0.0.%d", i + 1);
    snprintf(n->addr, sizeof n->addr, "10.0.0.%d:7000", i + 1);
    return i;
}

static const char *seed_table[MNET_MAX_NODES];

void mnet_config(mnet *net, int idx, int size, cluster_config *cfg)
{
    mnet_node *n = &net->nodes[idx];
    memset(cfg, 0, sizeof *cfg);
    cfg->node_name = n->name;
    cfg->cluster_name = "test";
    cfg->cluster_size = size;
    cfg->port = 7000;
    for (int i = 0; i < net->n; i++) seed_table[i] = net->nodes[i].addr;
    cfg->seeds = seed_table;
    cfg->seed_count = net->n;
    cfg->client_port = 6000 + idx;
    cfg->insecure = 1;
    cfg->node_timeout_ms = 1000;
    cfg->write_timeout_ms = 2000;
    cfg->max_clock_offset_ms = 500;
    cfg->max_queue_bytes = 1u << 20;
    cfg->max_frame_bytes = 1u << 20;
    cfg->hlc = &n->hlc;
}

int mnet_start(mnet *net, int idx, const cluster_config *cfg)
{
    mnet_node *n = &net->nodes[idx];
    cluster_callbacks cb = {n, cb_apply, cb_done, cb_now, cb_log, NULL,
                            NULL, NULL, NULL, NULL, NULL}; /* repair off unless n->store is set */
    if (n->store) {
        cb.digest_tops = cb_tops;
        cb.digest_leaves = cb_leaves;
        cb.collect = cb_collect;
        cb.ready = cb_ready;
        cb.wipe = cb_wipe;
        n->store->loading = cfg->start_loading;
    }
    n->cl = cl_create_with_transport(cfg, &cb, &mock_ops, n, n->err, sizeof n->err);
    if (!n->cl) return -1;
    n->cl->tr_free = op_tr_free;
    return 0;
}

void mnet_start_all(mnet *net, int count, int size)
{
    for (int i = 0; i < count; i++) {
        cluster_config cfg;
        mnet_config(net, i, size, &cfg);
        if (mnet_start(net, i, &cfg) < 0) {
            fprintf(stderr, "mnet_start %s: %s\n", net->nodes[i].name, net->nodes[i].err);
            abort();
        }
    }
}

void mnet_kill(mnet *net, int idx)
{
    mnet_node *n = &net->nodes[idx];
    if (!n->cl) return;
    cluster_free(n->cl); /* write_done callbacks (ABORTED) are recorded in n->done */
    n->cl = NULL;
    n->paused = 0;
    n->wake_pending = 0;
}

void mnet_tick(mnet *net)
{
    for (int i = 0; i < net->n; i++) {
        mnet_node *n = &net->nodes[i];
        if (n->cl && !n->paused) {
            n->in_tick = 1;
            cl_core_tick(n->cl, node_now(n));
            n->in_tick = 0;
        }
    }
}

static int held(const mnet *net, int from, int to)
{
    if (to >= 0 && net->nodes[to].paused) return 1;
    return from >= 0 && to >= 0 && net->blocked[from][to];
}

/* Connect or refuse a dial.  Returns 1 when something happened. */
static int pump_connect(mnet *net, mconn *c)
{
    int src = c->node[0], dst = c->target;
    if (!c->link[0]) {
        c->state = MC_DEAD;
        return 1;
    }
    if (dst < 0 || !net->nodes[dst].cl || net->blocked[src][dst] || net->blocked[dst][src]) {
        net->refused++;
        side_down(c, 0);
        return 1;
    }
    if (net->nodes[dst].paused) return 0; /* the listen backlog holds it */
    cl_link *in = cl_link_new(net->nodes[dst].cl, 0);
    if (!in) abort();
    snprintf(in->remote_ip, sizeof in->remote_ip, "%s", net->nodes[src].ip);
    in->tr = &c->end[1];
    c->node[1] = dst;
    c->link[1] = in;
    c->state = MC_OPEN;
    net->connects++;
    cl_core_link_up(in);
    if (c->link[1] == in) cl_core_link_up(c->link[0]);
    return 1;
}

/* Deliver what side s sent to side r.  Returns 1 when something moved. */
static int pump_side(mnet *net, mconn *c, int s)
{
    int r = 1 - s;
    mbytes *q = &c->q[s];
    if (q->len == 0) return 0;
    if (c->gone[r]) { /* nobody reads it any more */
        q->len = 0;
        return 1;
    }
    if (held(net, c->node[s], c->node[r])) return 0;
    if (c->raw && r == 0) {
        bytes_append(&c->rx, q->p, q->len);
        q->len = 0;
        return 1;
    }
    cl_link *l = c->link[r];
    cluster *cl = l->cl;
    int moved = 0;
    while (q->len >= CL_HEADER_LEN && c->link[r] == l) {
        cl_frame_header h;
        int rc = cl_frame_parse_header(q->p, q->len, cl->cfg.max_frame_bytes, &h);
        if (rc != CL_FRAME_OK) {
            cl->stats.frames_rejected++;
            q->len = 0;
            side_down(c, r);
            return 1;
        }
        if (q->len < h.len) break;
        size_t n = h.len - CL_HEADER_LEN;
        uint8_t *payload = malloc(n ? n : 1);
        if (!payload) abort();
        memcpy(payload, q->p + CL_HEADER_LEN, n);
        bytes_consume(q, h.len);
        moved = 1;
        net->nodes[c->node[r]].frames_rx[h.type]++; /* the header check bounded the type */
        rc = cl_core_frame(l, &h, payload, n);
        free(payload);
        if (rc < 0 && c->link[r] == l) side_down(c, r);
    }
    if (moved && c->link[r] == l) cl_core_batch_end(l);
    return moved;
}

/* Side s closed: once its bytes are delivered, tell side r. */
static int pump_eof(mnet *net, mconn *c, int s)
{
    int r = 1 - s;
    if (!c->gone[s] || c->eof_done[s] || c->q[s].len) return 0;
    if (c->gone[r]) {
        c->eof_done[s] = 1;
        return 0;
    }
    if (held(net, c->node[s], c->node[r])) return 0;
    c->eof_done[s] = 1;
    if (c->raw && r == 0) {
        c->gone[0] = 1;
        return 1;
    }
    side_down(c, r);
    return 1;
}

static int conn_finished(const mconn *c)
{
    if (c->raw && !c->raw_user_closed) return 0;
    if (c->state == MC_DEAD) return 1;
    return c->gone[0] && c->gone[1] && c->q[0].len == 0 && c->q[1].len == 0;
}

void mnet_pump(mnet *net)
{
    for (int round = 0; round < 100000; round++) {
        int progress = 0;
        for (mconn *c = net->conns; c; c = c->next) {
            if (c->state == MC_CONNECTING) {
                progress |= pump_connect(net, c);
                continue;
            }
            if (c->state != MC_OPEN) continue;
            for (int s = 0; s < 2; s++) progress |= pump_side(net, c, s);
            for (int s = 0; s < 2; s++) progress |= pump_eof(net, c, s);
        }
        for (int i = 0; i < net->n; i++) {
            mnet_node *n = &net->nodes[i];
            if (n->cl && n->wake_pending && !n->paused) {
                n->wake_pending = 0;
                cl_repl_progress(n->cl, node_now(n));
                progress = 1;
            }
        }
        /* free finished connections */
        for (mconn **pc = &net->conns; *pc;) {
            if (conn_finished(*pc)) {
                mconn *dead = *pc;
                *pc = dead->next;
                conn_free(dead);
            } else {
                pc = &(*pc)->next;
            }
        }
        if (!progress) return;
    }
    fprintf(stderr, "mnet_pump: the network never settled\n");
    abort();
}

void mnet_run(mnet *net, uint64_t ms, uint64_t step)
{
    for (uint64_t t = 0; t < ms; t += step) {
        net->now_ms += step;
        mnet_tick(net);
        mnet_pump(net);
    }
}

void mnet_advance(mnet *net, uint64_t ms) { net->now_ms += ms; }

void mnet_block(mnet *net, int from, int to, int on) { net->blocked[from][to] = on; }

void mnet_partition(mnet *net, int a, int b, int on)
{
    net->blocked[a][b] = on;
    net->blocked[b][a] = on;
}

void mnet_isolate(mnet *net, int a, int on)
{
    for (int i = 0; i < MNET_MAX_NODES; i++)
        if (i != a) mnet_partition(net, a, i, on);
}

void mnet_sever(mnet *net, int a, int b)
{
    for (mconn *c = net->conns; c; c = c->next) {
        if (!((c->node[0] == a && (c->node[1] == b || c->target == b)) ||
              (c->node[0] == b && (c->node[1] == a || c->target == a))))
            continue;
        c->q[0].len = c->q[1].len = 0;
        c->eof_done[0] = c->eof_done[1] = 1;
        for (int s = 0; s < 2; s++)
            if (!c->gone[s]) side_down(c, s);
        c->state = MC_DEAD;
    }
}

cl_peer *mnet_peer(mnet *net, int idx, const char *name)
{
    cluster *cl = net->nodes[idx].cl;
    if (!cl) return NULL;
    for (int i = 0; i < cl->npeers; i++)
        if (strcmp(cl->peers[i]->name, name) == 0) return cl->peers[i];
    return NULL;
}

int mnet_state(mnet *net, int idx, const char *name)
{
    cl_peer *p = mnet_peer(net, idx, name);
    return p ? (int)p->state : -1;
}

size_t mnet_inflight(const mnet *net)
{
    size_t n = 0;
    for (const mconn *c = net->conns; c; c = c->next) n += c->q[0].len + c->q[1].len;
    return n;
}

/* ---- raw endpoints: an mraw pointer is the mconn itself */

mraw *mnet_raw_connect(mnet *net, int dst, const char *ip)
{
    mconn *c = conn_new(net);
    c->raw = 1;
    c->target = dst;
    c->node[1] = dst;
    if (!net->nodes[dst].cl) {
        c->gone[0] = c->gone[1] = 1;
        c->state = MC_DEAD;
        return (mraw *)c;
    }
    cl_link *in = cl_link_new(net->nodes[dst].cl, 0);
    if (!in) abort();
    snprintf(in->remote_ip, sizeof in->remote_ip, "%s", ip);
    in->tr = &c->end[1];
    c->link[1] = in;
    c->state = MC_OPEN;
    cl_core_link_up(in);
    return (mraw *)c;
}

void mnet_raw_send(mraw *r, const void *p, size_t n)
{
    mconn *c = (mconn *)r;
    if (c->gone[0] || c->state != MC_OPEN) return;
    bytes_append(&c->q[0], p, n);
}

void mnet_raw_send_frame(mraw *r, cl_wbuf *w)
{
    if (cl_frame_end(w) != 0) abort();
    mnet_raw_send(r, w->data, w->len);
}

int mnet_raw_closed(const mraw *r)
{
    const mconn *c = (const mconn *)r;
    return c->gone[1] || c->state != MC_OPEN;
}

const uint8_t *mnet_raw_received(const mraw *r, size_t *n)
{
    const mconn *c = (const mconn *)r;
    *n = c->rx.len;
    return c->rx.p;
}

void mnet_raw_close(mraw *r)
{
    mconn *c = (mconn *)r;
    c->raw_user_closed = 1;
    c->gone[0] = 1;
    c->q[0].len = 0;
}
