/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * repl.c: majority-acknowledged replication bookkeeping.
 *
 * How it works.  Each replicated batch gets the next sequence number of this node and goes, in a
 * REPL frame, to every peer whose outbound link is ready.  A receiver applies batches in the order
 * they arrive on the link and acknowledges cumulatively: "ACK S" means "I applied everything of
 * yours with sequence <= S that was sent on this link".  Because a TCP connection delivers in
 * order, a cumulative ACK is exact within one connection; across a reconnect it is not (batches
 * sent while the link was down never arrive), so every peer records the first sequence of its
 * current session, and an ACK counts for write w only if session_start <= w.seq <= acked_seq.
 *
 * Pending writes live in a ring in sequence order.  Within one session the acknowledgements of an
 * earlier write include a later one's, so writes mostly complete in order; across a reconnect a
 * later write can be covered while an earlier one is not, so progress checks every pending write
 * and completes it as soon as it has its quorum, then pops completed writes off the head.
 * Cost: O(pending x peers) per progress call.
 *
 * What can go wrong: a peer that applied a batch and then lost the link before its ACK arrived is
 * not counted; the write may time out even though a quorum holds it.  That is the honest answer
 * ("outcome unknown"), never a false OK.  The quorum is computed from the configured cluster size,
 * so a minority can never reach it.
 *
 * Event-loop thread only.  Start reading at cluster_replicate.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"

#define PEND_INITIAL 256

int cl_repl_init(cluster *cl)
{
    cl->next_seq = 1;
    cl->pend = calloc(PEND_INITIAL, sizeof *cl->pend);
    if (!cl->pend) return -1;
    cl->pend_cap = PEND_INITIAL;
    cl->pend_head = cl->pend_len = 0;
    return 0;
}

static cl_pending *pend_at(const cluster *cl, size_t i)
{
    return &cl->pend[(cl->pend_head + i) % cl->pend_cap];
}

static int pend_push(cluster *cl, const cl_pending *w)
{
    if (cl->pend_len == cl->pend_cap) {
        size_t cap = cl->pend_cap * 2;
        cl_pending *p = malloc(sizeof *p * cap);
        if (!p) return -1;
        for (size_t i = 0; i < cl->pend_len; i++) p[i] = *pend_at(cl, i);
        free(cl->pend);
        cl->pend = p;
        cl->pend_cap = cap;
        cl->pend_head = 0;
    }
    *pend_at(cl, cl->pend_len++) = *w;
    return 0;
}

static void complete(cluster *cl, cl_pending *w, int status, int acks)
{
    w->done = 1;
    if (status == CLUSTER_WRITE_OK) cl->stats.writes_acked++;
    else if (status == CLUSTER_WRITE_TIMEOUT) cl->stats.writes_timed_out++;
    if (cl->cb.write_done) cl->cb.write_done(cl->cb.priv, w->cookie, status, acks);
}

static void pop_done(cluster *cl)
{
    while (cl->pend_len > 0 && pend_at(cl, 0)->done) {
        cl->pend_head = (cl->pend_head + 1) % cl->pend_cap;
        cl->pend_len--;
    }
}

void cl_repl_free(cluster *cl)
{
    for (size_t i = 0; i < cl->pend_len; i++) {
        cl_pending *w = pend_at(cl, i);
        if (!w->done) complete(cl, w, CLUSTER_WRITE_ABORTED, cl_repl_acks_for(cl, w->seq));
    }
    free(cl->pend);
    cl->pend = NULL;
    cl->pend_cap = cl->pend_len = 0;
}

int cl_repl_acks_for(const cluster *cl, uint64_t seq)
{
    int n = 0;
    for (int i = 0; i < cl->npeers; i++) {
        const cl_peer *p = cl->peers[i];
        if (p->name[0] && !p->is_self && p->session_start && p->session_start <= seq &&
            p->acked_seq >= seq)
            n++;
    }
    return n;
}

/*
 * Complete every pending write that has its quorum or has passed its deadline.  Usually the
 * oldest completes first (a cumulative ACK covers all earlier writes of a session), but a write
 * sent before a peer's link came up is not covered by that peer's ACKs while a later one is; such
 * a later write must not wait behind the older one.  O(pending x peers).
 */
void cl_repl_progress(cluster *cl, uint64_t now)
{
    for (size_t i = 0; i < cl->pend_len; i++) {
        cl_pending *w = pend_at(cl, i);
        if (w->done) continue;
        int acks = cl_repl_acks_for(cl, w->seq);
        if (acks + 1 >= cl->quorum) complete(cl, w, CLUSTER_WRITE_OK, acks);
        else if (now >= w->deadline_ms) complete(cl, w, CLUSTER_WRITE_TIMEOUT, acks);
    }
    pop_done(cl);
}

void cl_repl_on_ack(cluster *cl, cl_peer *p, uint64_t seq)
{
    cl->stats.acks_received++;
    if (seq >= cl->next_seq) return; /* acknowledges something never sent: ignore */
    if (seq > p->acked_seq) p->acked_seq = seq;
    cl_repl_progress(cl, cl_now(cl));
}

int cl_repl_on_frame(cl_link *l, const uint8_t *payload, size_t n)
{
    cluster *cl = l->cl;
    cl_reader r;
    cl_reader_init(&r, payload, n);
    uint64_t seq = cl_get_u64(&r);
    if (r.bad || seq <= l->last_rx_seq) {
        cl_log(cl, CLUSTER_LOG_WARNING, "bus link from %s: replication sequence out of order",
               l->peer->name);
        cl->stats.frames_rejected++;
        return -1;
    }
    if (cl->cb.apply(cl->cb.priv, r.p, r.left, l->peer->name, CLUSTER_FROM_LIVE) < 0) {
        cl_log(cl, CLUSTER_LOG_WARNING, "bus link from %s: malformed replication batch",
               l->peer->name);
        cl->stats.frames_rejected++;
        return -1;
    }
    cl->stats.records_applied++;
    l->last_rx_seq = seq;
    l->ack_pending = 1;
    return 0;
}

/* ---- public API */

uint64_t cluster_replicate(cluster *cl, const void *batch, size_t len, void *cookie)
{
    uint64_t seq = cl->next_seq++;
    uint64_t now = cl_now(cl);
    cl_wbuf *w = &cl->scratch;
    cl_frame_begin(w, CL_REPL, cl_hlc_now(cl));
    cl_put_u64(w, seq);
    cl_put_bytes(w, batch, len);
    if (cl_frame_end(w) == 0) {
        for (int i = 0; i < cl->npeers; i++) {
            cl_peer *p = cl->peers[i];
            if (p->out && p->out->state == CL_LINK_READY) cl_send_frame(p->out, w);
        }
    }
    cl_pending pw = {seq, cookie, now + cl->cfg.write_timeout_ms, 0};
    if (pend_push(cl, &pw) < 0) return 0; /* out of memory: the write cannot be tracked */
    cl->stats.writes_replicated++;
    if (cl->quorum <= 1) cl->tr->wake(cl);
    return seq;
}

void cluster_cancel(cluster *cl, uint64_t seq)
{
    size_t lo = 0, hi = cl->pend_len;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        cl_pending *w = pend_at(cl, mid);
        if (w->seq == seq) {
            w->cookie = NULL;
            return;
        }
        if (w->seq < seq) lo = mid + 1;
        else hi = mid;
    }
}

int cluster_acks(const cluster *cl, uint64_t seq) { return cl_repl_acks_for(cl, seq); }
int cluster_quorum(const cluster *cl) { return cl->quorum; }
