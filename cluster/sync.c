/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sync.c: repair.  Anti-entropy rounds between two nodes, the bootstrap of a node that starts
 * empty, the wipe of a node cut off for longer than the tombstone grace, and the bandwidth cap
 * that keeps repair from starving live writes.
 *
 * Anti-entropy (every ae-interval with one peer, round-robin, and at once when a peer comes back):
 *   I -> R  AE_TOPS     64 top digests (each the XOR of 64 bucket digests)
 *   R -> I  AE_LEAVES   the 64 bucket digests under every top that differs (none: in sync)
 *   I       waits CL_AE_CONFIRM_DELAY_MS, then compares again with the same round number:
 *   I -> R  AE_TOPS     R -> I  AE_LEAVES
 *   I -> R  AE_BUCKETS  the buckets that differed both times; I starts streaming its records of
 *                       them (AE_DONE instead when none did: the round ended in sync)
 *   R       streams its records of the same buckets back
 *   both    AE_DONE when all their records are sent; both apply what they receive by
 *           last-writer-wins, so after one round both hold the newer of every differing entry.
 * Only the buckets that differ are exchanged, so a node back from a short partition moves only
 * what it missed; an in-sync round costs one round trip of about 1 KB.  Expired entries are never
 * shipped (the server's collect skips them).
 *
 * Confirmation: under write load two nodes' digests rarely match exactly, only because some
 * writes are applied on one node and still on their way to the other.  Streaming such a bucket
 * is pure waste, and costly: collecting the records of even one bucket scans the whole keyspace
 * on both nodes.  A difference that is real (a write lost with a reset link or a partition)
 * stays; one caused by writes in flight is gone a moment later.  So the initiator compares a
 * second time and exchanges only the intersection; when it is empty the round ends as in sync
 * (ae_buckets_settled, ae_rounds_settled count them).  Rejected: leaving entries younger than the
 * round out of the digests (the server would need a second digest per bucket), and a new frame
 * to ask for the leaves of chosen tops (a repeated AE_TOPS answers the same question, and an
 * older responder takes it for a new comparison, so mixed versions interoperate).  Rounds that
 * exist to repair a known gap do not confirm: the bootstrap's verifying round and the one run
 * when a peer comes back stream at once, as fast as before.
 * The round still counts as begun when its first tops were sent: every bucket then matched at
 * the first comparison, at the second, or was exchanged, and the long-isolation argument below
 * holds for the earlier time.  The responder keeps that time across the re-check too, and learns
 * of a round that ended without an exchange from an AE_DONE sent before any AE_BUCKETS, so both
 * sides book the in-sync round as they did when the first comparison matched.  A round
 * abandoned while settling holds nothing to free (the suspect bitmap lives in cl->ae).
 *
 * Bootstrap: a node that starts empty (always, at start: nothing is persisted) answers -LOADING
 * until it has streamed every live entry from one ready peer (SYNC_REQ / SYNC_RECORDS /
 * SYNC_DONE) while applying live writes by last-writer-wins, and completed one anti-entropy
 * round with a second ready peer (or the same one, when it is the only one).  When no peer is
 * ready and a quorum of voters (this node included) has been reachable for node-timeout, all of
 * them are empty: the cluster is starting fresh and the node becomes ready at once.
 *
 * Long isolation: a delete acknowledged by a majority leaves tombstones that live for the
 * tombstone grace G.  A ready node has seen every such delete if, within the last G, it began
 * anti-entropy rounds with enough distinct voters that they and it make a majority (majorities
 * intersect, so one of them held the tombstone when the round compared digests).  A node that
 * cannot show that (cut off alone, or together with other members of a minority, which compare
 * with each other but have all missed the same deletes) may hold values whose tombstones the
 * others are about to forget; it wipes itself and bootstraps again (DESIGN.md section 7).
 *
 * Bandwidth: every repair stream is produced in chunks from the 10 ms tick, only while its link
 * has less than STREAM_QUEUE_MAX bytes queued and a token bucket refilled at
 * repair-bytes-per-second has tokens, so live REPL frames never wait behind much repair data.
 *
 * Invariants: at most one round runs with this node as initiator; a link's responder stream
 * (l->resp) serves one round or one bootstrap at a time; cl->ae.out is active only while
 * exchanging.  Event-loop thread only.
 * Start reading at cl_sync_tick.
 */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"

#define STREAM_CHUNK 65536u            /* bytes of records per frame (more for one big value) */
#define STREAM_QUEUE_MAX (256u * 1024) /* produce only while the link holds less than this */
#define COLLECT_CALLS_PER_TICK 16      /* bound the scanning work one stream does per tick */
#define AE_ROUND_TIMEOUT_MS 30000u     /* a round that makes no progress is abandoned */
#define TOKEN_BURST_S 0.1              /* token bucket depth, in seconds of bandwidth */

enum { PHASE_WAITING = 0, PHASE_STREAMING = 1, PHASE_VERIFYING = 2, PHASE_DONE = 3 };
static const char *const phase_names[] = {"waiting", "streaming", "verifying", "done"};

int cluster_buf_append(cluster_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) return -1;
            cap *= 2;
        }
        uint8_t *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* now - then for timer times, 0 when `then` is later: times taken with cl_now() during a tick
 * can be a millisecond or two past the `now` the tick started with. */
static uint64_t elapsed(uint64_t now, uint64_t then) { return now > then ? now - then : 0; }

static int repair_on(const cluster *cl)
{
    return cl->cb.digest_tops && cl->cb.digest_leaves && cl->cb.collect;
}

int cl_sync_init(cluster *cl)
{
    cl->loading = repair_on(cl) && cl->cfg.start_loading;
    cl->sync_phase = cl->loading ? PHASE_WAITING : PHASE_DONE;
    cl->started_ms = cl->ready_ms = cl->tokens_at_ms = cl_now(cl);
    cl->next_ae_ms = cl->started_ms + cl->cfg.ae_interval_ms;
    return 0;
}

static void stream_stop(cl_stream *s)
{
    free(s->buckets);
    memset(s, 0, sizeof *s);
}

void cl_sync_free(cluster *cl)
{
    stream_stop(&cl->ae.out);
    free(cl->collect_buf.data);
    memset(&cl->collect_buf, 0, sizeof cl->collect_buf);
}

/* ---- small frame helpers */

static int send_id(cl_link *l, uint16_t type, uint32_t id)
{
    cl_wbuf *w = &l->cl->scratch;
    cl_frame_begin(w, type, cl_hlc_now(l->cl));
    cl_put_u32(w, id);
    return cl_frame_end(w) == 0 ? cl_send_frame(l, w) : -1;
}

static int stream_start(cl_stream *s, uint16_t type, uint16_t done_type, uint32_t id,
                        const uint8_t *buckets)
{
    stream_stop(s);
    if (buckets) {
        s->buckets = malloc(CL_BITMAP_BYTES);
        if (!s->buckets) return -1;
        memcpy(s->buckets, buckets, CL_BITMAP_BYTES);
    }
    s->type = type;
    s->done_type = done_type;
    s->id = id;
    s->active = 1;
    return 0;
}

/* ---- producing streams */

static void refill_tokens(cluster *cl, uint64_t now)
{
    double rate = (double)cl->cfg.repair_bytes_per_s;
    cl->tokens += rate * (double)(now - cl->tokens_at_ms) / 1000.0;
    if (cl->tokens > rate * TOKEN_BURST_S) cl->tokens = rate * TOKEN_BURST_S;
    cl->tokens_at_ms = now;
}

/* Send the next chunks of one stream.  Returns 1 when the stream finished, -1 on failure. */
static int stream_pump(cluster *cl, cl_stream *s, cl_link *l)
{
    for (int calls = 0; calls < COLLECT_CALLS_PER_TICK; calls++) {
        if (cl->tokens <= 0 || cl->tr->queued(l) >= STREAM_QUEUE_MAX) return 0;
        cluster_buf *b = &cl->collect_buf;
        b->len = 0;
        if (cl->cb.collect(cl->cb.priv, s->buckets, &s->cursor, b, STREAM_CHUNK) < 0) return -1;
        if (b->len > 0) {
            cl_wbuf *w = &cl->scratch;
            cl_frame_begin(w, s->type, cl_hlc_now(cl));
            cl_put_u32(w, s->id);
            cl_put_bytes(w, b->data, b->len);
            if (cl_frame_end(w) < 0 || cl_send_frame(l, w) < 0) return -1;
            cl->tokens -= (double)w->len;
            cl->stats.repair_bytes_out += w->len;
        }
        if (s->cursor == 0) {
            if (s->done_type == CL_SYNC_DONE) {
                cl_wbuf *w = &cl->scratch;
                cl_frame_begin(w, CL_SYNC_DONE, cl_hlc_now(cl));
                cl_put_u32(w, s->id);
                cl_put_u8(w, 0);
                if (cl_frame_end(w) < 0 || cl_send_frame(l, w) < 0) return -1;
            } else if (send_id(l, s->done_type, s->id) < 0) {
                return -1;
            }
            stream_stop(s);
            return 1;
        }
    }
    return 0;
}

/* A round with p, whose digests were compared at `began`, is complete on this side. */
static void round_finished(cluster *cl, cl_peer *p, uint64_t began, int in_sync)
{
    cl->stats.ae_rounds++;
    if (in_sync) cl->stats.ae_rounds_in_sync++;
    if (p && began > p->ae_ok_ms) p->ae_ok_ms = began;
}

static void ae_reset(cluster *cl)
{
    stream_stop(&cl->ae.out);
    cl->ae.phase = CL_ROUND_IDLE;
    cl->ae.peer = NULL;
    cl->ae.remote_done = 0;
    cl->ae.for_bootstrap = 0;
    cl->ae.confirm = 0;
}

static void become_ready(cluster *cl, const char *how)
{
    cl->loading = 0;
    cl->sync_phase = PHASE_DONE;
    cl->sync_finished_wall = cl_wall(cl);
    cl->ready_ms = cl_now(cl);
    cl_log(cl, CLUSTER_LOG_NOTICE, "bootstrap complete (%s): serving reads", how);
    if (cl->cb.ready) cl->cb.ready(cl->cb.priv);
}

/* This node's round succeeded (both sides sent everything, or nothing differed). */
static void ae_success(cluster *cl, int in_sync)
{
    int boot = cl->ae.for_bootstrap;
    round_finished(cl, cl->ae.peer, cl->ae.began_ms, in_sync);
    ae_reset(cl);
    if (boot && cl->loading) become_ready(cl, "verified with anti-entropy");
}

static void pump_streams(cluster *cl)
{
    if (cl->ae.phase == CL_ROUND_EXCHANGING && cl->ae.out.active && cl->ae.peer &&
        cl->ae.peer->out) {
        int rc = stream_pump(cl, &cl->ae.out, cl->ae.peer->out);
        if (rc < 0) ae_reset(cl);
        else if (rc == 1 && cl->ae.remote_done) ae_success(cl, 0);
    }
    for (int i = 0; i < cl->npeers; i++) {
        cl_link *l = cl->peers[i]->in;
        if (!l || l->state != CL_LINK_READY || !l->resp.active) continue;
        int was_ae = l->resp.type == CL_AE_RECORDS;
        int rc = stream_pump(cl, &l->resp, l);
        if (rc < 0) {
            stream_stop(&l->resp);
        } else if (rc == 1 && was_ae && l->ae_remote_done) {
            round_finished(cl, l->peer, l->ae_round_ms, 0);
            l->ae_round = 0;
        }
    }
}

/* ---- starting rounds and bootstraps */

static int usable(const cl_peer *p)
{
    return p->name[0] && !p->is_self && p->state == CLUSTER_PEER_OK && p->out &&
           p->out->state == CL_LINK_READY;
}

static int send_tops(cluster *cl, cl_link *l, uint32_t round)
{
    uint64_t tops[CLUSTER_DIGEST_TOPS];
    cl->cb.digest_tops(cl->cb.priv, tops);
    cl_wbuf *w = &cl->scratch;
    cl_frame_begin(w, CL_AE_TOPS, cl_hlc_now(cl));
    cl_put_u32(w, round);
    for (int i = 0; i < CLUSTER_DIGEST_TOPS; i++) cl_put_u64(w, tops[i]);
    return cl_frame_end(w) == 0 ? cl_send_frame(l, w) : -1;
}

static void ae_start(cluster *cl, cl_peer *p, int for_bootstrap)
{
    if (!cl->cb.digest_tops) return;
    uint32_t round = ++cl->ae.round ? cl->ae.round : ++cl->ae.round;
    if (send_tops(cl, p->out, round) < 0) return;
    cl->ae.phase = CL_ROUND_COMPARING;
    cl->ae.peer = p;
    cl->ae.remote_done = 0;
    cl->ae.began_ms = cl->ae.started_ms = cl_now(cl);
    cl->ae.for_bootstrap = for_bootstrap;
    cl->ae.confirm = !for_bootstrap && !p->ae_soon; /* repairs of a known gap go at once */
    p->ae_soon = 0;
}

/* The settle delay of a round that found differences is over: compare again. */
static void ae_recheck(cluster *cl, uint64_t now)
{
    if (cl->ae.phase != CL_ROUND_SETTLING || now < cl->ae.recheck_at_ms) return;
    cl_peer *p = cl->ae.peer;
    if (!p || !p->out || p->out->state != CL_LINK_READY ||
        send_tops(cl, p->out, cl->ae.round) < 0) {
        ae_reset(cl);
        return;
    }
    cl->ae.phase = CL_ROUND_RECHECKING;
    cl->ae.started_ms = cl_now(cl);
}

/* The next peer to compare with: one that just came back first, else round-robin. */
static cl_peer *ae_pick(cluster *cl, int want_ready)
{
    for (int i = 0; i < cl->npeers; i++) {
        cl_peer *p = cl->peers[i];
        if (p->ae_soon && usable(p) && (!want_ready || p->ready)) return p;
    }
    for (int k = 0; k < cl->npeers; k++) {
        cl_peer *p = cl->peers[(cl->ae_rr + k) % cl->npeers];
        if (usable(p) && (!want_ready || p->ready)) {
            cl->ae_rr = (cl->ae_rr + k + 1) % cl->npeers;
            return p;
        }
    }
    return NULL;
}

/* How long a node waits, with a quorum reachable and no ready peer, before deciding the whole
 * cluster is new: long enough for every link to come up (a ready peer would then be seen). */
static uint64_t fresh_wait(const cluster *cl)
{
    return cl->cfg.node_timeout_ms < 1000 ? cl->cfg.node_timeout_ms : 1000;
}

static void bootstrap_step(cluster *cl, uint64_t now)
{
    if (cl->sync_phase == PHASE_WAITING) {
        cl_peer *src = NULL;
        int reachable = 1, ready = 0;
        for (int i = 0; i < cl->npeers; i++) {
            cl_peer *p = cl->peers[i];
            if (!usable(p)) continue;
            reachable++;
            if (p->ready) {
                ready++;
                if (!src) src = p;
            }
        }
        if (src) {
            cl->sync_peer = src;
            cl->sync_id++;
            cl->sync_batches = cl->sync_bytes = 0;
            cl->sync_started_wall = cl_wall(cl);
            if (send_id(src->out, CL_SYNC_REQ, cl->sync_id) == 0) {
                cl->sync_phase = PHASE_STREAMING;
                cl_log(cl, CLUSTER_LOG_NOTICE, "bootstrap: copying the keyspace from %s", src->name);
            }
        } else if (reachable >= cl->quorum && elapsed(now, cl->started_ms) >= fresh_wait(cl)) {
            /* A quorum is up and nobody holds data: the whole cluster is starting empty. */
            become_ready(cl, "no peer holds data: a new cluster");
        }
    } else if (cl->sync_phase == PHASE_VERIFYING && cl->ae.phase == CL_ROUND_IDLE) {
        cl_peer *other = NULL;
        for (int i = 0; i < cl->npeers && !other; i++)
            if (cl->peers[i] != cl->sync_peer && usable(cl->peers[i]) && cl->peers[i]->ready)
                other = cl->peers[i];
        if (!other && cl->sync_peer && usable(cl->sync_peer)) other = cl->sync_peer;
        if (other) ae_start(cl, other, 1);
    }
}

static void check_isolation(cluster *cl, uint64_t now)
{
    /* Without anti-entropy no round ever completes: that says nothing about isolation. */
    if (cl->loading || cl->cfg.grace_ms == 0 || cl->cfg.ae_interval_ms == 0) return;
    if (elapsed(now, cl->ready_ms) <= cl->cfg.grace_ms) return;
    int recent = 0; /* voters compared with within the grace period */
    for (int i = 0; i < cl->npeers; i++) {
        const cl_peer *p = cl->peers[i];
        if (p->name[0] && !p->is_self && p->ae_ok_ms &&
            elapsed(now, p->ae_ok_ms) <= cl->cfg.grace_ms)
            recent++;
    }
    if (recent + 1 >= cl->quorum) return;
    cl->stats.wipes++;
    cl_log(cl, CLUSTER_LOG_WARNING, "anti-entropy with %d other voter(s) in the last %llu ms (the "
           "tombstone grace), a majority needs %d: this node may have missed deletes; dropping "
           "local data and bootstrapping again", recent, (unsigned long long)cl->cfg.grace_ms,
           cl->quorum - 1);
    ae_reset(cl);
    if (cl->cb.wipe) cl->cb.wipe(cl->cb.priv);
    cl->loading = 1;
    cl->sync_phase = PHASE_WAITING;
    cl->sync_peer = NULL;
    cl->started_ms = now;
    cl->ready_ms = now;
}

void cl_sync_tick(cluster *cl, uint64_t now)
{
    if (!repair_on(cl)) return;
    refill_tokens(cl, now);
    if (cl->loading) bootstrap_step(cl, now);
    if (cl->ae.phase != CL_ROUND_IDLE && elapsed(now, cl->ae.started_ms) > AE_ROUND_TIMEOUT_MS) {
        cl_log(cl, CLUSTER_LOG_VERBOSE, "anti-entropy round with %s abandoned (no progress)",
               cl->ae.peer ? cl->ae.peer->name : "?");
        ae_reset(cl);
    }
    ae_recheck(cl, now);
    if (!cl->loading && cl->ae.phase == CL_ROUND_IDLE && cl->cfg.ae_interval_ms) {
        int due = now >= cl->next_ae_ms;
        for (int i = 0; i < cl->npeers && !due; i++) due = cl->peers[i]->ae_soon && usable(cl->peers[i]);
        if (due) {
            cl_peer *p = ae_pick(cl, 0);
            if (p) ae_start(cl, p, 0);
            cl->next_ae_ms = now + cl->cfg.ae_interval_ms;
        }
    }
    pump_streams(cl);
    check_isolation(cl, now);
}

void cl_sync_peer_back(cluster *cl, cl_peer *p)
{
    (void)cl;
    p->ae_soon = 1;
}

void cl_sync_link_down(cl_link *l)
{
    cluster *cl = l->cl;
    stream_stop(&l->resp);
    cl_peer *p = l->peer;
    if (!p || !l->outbound) return;
    if (cl->ae.peer == p) ae_reset(cl);
    if (cl->sync_peer == p && cl->sync_phase == PHASE_STREAMING) {
        cl_log(cl, CLUSTER_LOG_NOTICE, "bootstrap: lost %s mid-stream; starting over", p->name);
        cl->sync_phase = PHASE_WAITING;
        cl->sync_peer = NULL;
    }
}

/* ---- frames */

/* R: the initiator's tops; answer the leaves of every top that differs. */
static int on_ae_tops(cl_link *l, cl_reader *r)
{
    cluster *cl = l->cl;
    uint32_t round = cl_get_u32(r);
    uint64_t theirs[CLUSTER_DIGEST_TOPS], ours[CLUSTER_DIGEST_TOPS];
    for (int i = 0; i < CLUSTER_DIGEST_TOPS; i++) theirs[i] = cl_get_u64(r);
    if (r->bad || r->left || l->outbound) return -1;
    if (cl->loading) return send_id(l, CL_AE_DONE, round) < 0 ? -1 : 0; /* not a reference yet */
    /* The same round again, before any AE_BUCKETS: the initiator re-checks what differed.  The
     * round keeps the time of its first comparison. */
    int recheck = round != 0 && round == l->ae_round && !l->ae_exchanging;
    stream_stop(&l->resp);
    l->ae_round = round;
    if (!recheck) l->ae_round_ms = cl_now(cl);
    l->ae_remote_done = 0;
    l->ae_exchanging = 0;
    cl->cb.digest_tops(cl->cb.priv, ours);
    cl_wbuf *w = &cl->scratch;
    cl_frame_begin(w, CL_AE_LEAVES, cl_hlc_now(cl));
    cl_put_u32(w, round);
    uint8_t n = 0;
    for (int i = 0; i < CLUSTER_DIGEST_TOPS; i++) n += theirs[i] != ours[i];
    cl_put_u8(w, n);
    for (unsigned t = 0; t < CLUSTER_DIGEST_TOPS; t++) {
        if (theirs[t] == ours[t]) continue;
        uint64_t leaves[CLUSTER_DIGEST_LEAVES];
        cl->cb.digest_leaves(cl->cb.priv, t, leaves);
        cl_put_u8(w, (uint8_t)t);
        for (int i = 0; i < CLUSTER_DIGEST_LEAVES; i++) cl_put_u64(w, leaves[i]);
    }
    if (cl_frame_end(w) < 0 || cl_send_frame(l, w) < 0) return -1;
    if (n == 0) {
        round_finished(cl, l->peer, l->ae_round_ms, 1);
        l->ae_round = 0;
    }
    return 0;
}

/* Compare the n tops of leaves in r with ours: set the bit of every bucket that differs in
 * bitmap (zeroed first) and return how many do, or -1 when the payload is malformed. */
static int diff_leaves(cluster *cl, cl_reader *r, unsigned n, uint8_t *bitmap)
{
    memset(bitmap, 0, CL_BITMAP_BYTES);
    int differing = 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned t = cl_get_u8(r);
        uint64_t ours[CLUSTER_DIGEST_LEAVES];
        if (t >= CLUSTER_DIGEST_TOPS) return -1;
        cl->cb.digest_leaves(cl->cb.priv, t, ours);
        for (unsigned i = 0; i < CLUSTER_DIGEST_LEAVES; i++) {
            uint64_t theirs = cl_get_u64(r);
            if (theirs == ours[i]) continue;
            unsigned b = t * CLUSTER_DIGEST_LEAVES + i;
            bitmap[b / 8] |= (uint8_t)(1u << (b % 8));
            differing++;
        }
    }
    return r->bad || r->left ? -1 : differing;
}

/* Keep in bitmap only the buckets that also differed at the first comparison, count the others
 * that differed then as settled, and return how many are left. */
static int confirm_buckets(cluster *cl, uint8_t *bitmap)
{
    int left = 0, settled = 0;
    for (unsigned i = 0; i < CL_BITMAP_BYTES; i++) {
        settled += __builtin_popcount(cl->ae.suspect[i] & (uint8_t)~bitmap[i]);
        bitmap[i] &= cl->ae.suspect[i];
        left += __builtin_popcount(bitmap[i]);
    }
    cl->stats.ae_buckets_settled += (uint64_t)settled;
    if (left == 0) cl->stats.ae_rounds_settled++;
    return left;
}

/* I: the responder's leaves.  At the first comparison of a confirming round, remember the
 * buckets that differ and wait; otherwise start exchanging those that (still) differ. */
static int on_ae_leaves(cl_link *l, cl_reader *r)
{
    cluster *cl = l->cl;
    uint32_t round = cl_get_u32(r);
    unsigned n = cl_get_u8(r);
    if (r->bad || !l->outbound || n > CLUSTER_DIGEST_TOPS) return -1;
    int phase = cl->ae.phase;
    if ((phase != CL_ROUND_COMPARING && phase != CL_ROUND_RECHECKING) || cl->ae.peer != l->peer ||
        round != cl->ae.round)
        return 0;
    uint8_t bitmap[CL_BITMAP_BYTES];
    int differing = diff_leaves(cl, r, n, bitmap);
    if (differing < 0) return -1;
    if (phase == CL_ROUND_RECHECKING) differing = confirm_buckets(cl, bitmap);
    if (differing == 0) {
        /* In sync (or became so since the tops were sent).  A responder that saw differing tops
         * waits for AE_BUCKETS: tell it there will be none.  If this frame is lost, the
         * responder only misses counting the round; the next AE_TOPS replaces it. */
        if (n > 0) (void)send_id(l, CL_AE_DONE, round);
        ae_success(cl, 1);
        return 0;
    }
    if (phase == CL_ROUND_COMPARING && cl->ae.confirm) {
        memcpy(cl->ae.suspect, bitmap, sizeof bitmap);
        cl->ae.phase = CL_ROUND_SETTLING;
        cl->ae.started_ms = cl_now(cl);
        cl->ae.recheck_at_ms = cl->ae.started_ms + CL_AE_CONFIRM_DELAY_MS;
        return 0;
    }
    cl->stats.ae_buckets_repaired += (uint64_t)differing;
    cl_wbuf *w = &cl->scratch;
    cl_frame_begin(w, CL_AE_BUCKETS, cl_hlc_now(cl));
    cl_put_u32(w, round);
    cl_put_bytes(w, bitmap, sizeof bitmap);
    if (cl_frame_end(w) < 0 || cl_send_frame(l, w) < 0) return -1;
    if (stream_start(&cl->ae.out, CL_AE_RECORDS, CL_AE_DONE, round, bitmap) < 0) return -1;
    cl->ae.phase = CL_ROUND_EXCHANGING;
    cl->ae.started_ms = cl_now(cl);
    return 0;
}

/* Streams answer on the inbound link the request came on, and pump_streams finds them through
 * peer->in.  A peer may have had two inbound links for a moment (a seed dial and a dial to an
 * address it learned, one of which it then drops): the one it sends requests on is the one it
 * kept, so it becomes peer->in.  Otherwise a stream could sit on a link nothing pumps, and a
 * joining node would wait for SYNC_DONE forever. */
static void adopt_inbound(cl_link *l)
{
    if (l->peer && !l->outbound && l->state == CL_LINK_READY) l->peer->in = l;
}

static int on_ae_buckets(cl_link *l, cl_reader *r)
{
    uint32_t round = cl_get_u32(r);
    if (r->bad || r->left != CL_BITMAP_BYTES || l->outbound) return -1;
    if (round != l->ae_round) return 0;
    adopt_inbound(l);
    l->ae_exchanging = 1;
    return stream_start(&l->resp, CL_AE_RECORDS, CL_AE_DONE, round, r->p);
}

static int on_records(cl_link *l, uint16_t type, cl_reader *r)
{
    cluster *cl = l->cl;
    uint32_t id = cl_get_u32(r);
    if (r->bad) return -1;
    if (type == CL_SYNC_RECORDS) {
        if (!l->outbound || cl->sync_phase != PHASE_STREAMING || l->peer != cl->sync_peer ||
            id != cl->sync_id)
            return 0;
        cl->sync_batches++;
        cl->sync_bytes += r->left;
    }
    cl->stats.repair_bytes_in += r->left;
    if (cl->cb.apply(cl->cb.priv, r->p, r->left, l->peer->name, CLUSTER_FROM_REPAIR) < 0) {
        cl_log(cl, CLUSTER_LOG_WARNING, "repair stream from %s: malformed records", l->peer->name);
        return -1;
    }
    return 0;
}

static int on_ae_done(cl_link *l, cl_reader *r)
{
    cluster *cl = l->cl;
    uint32_t round = cl_get_u32(r);
    if (r->bad || r->left) return -1;
    if (l->outbound) {
        if (cl->ae.peer != l->peer || round != cl->ae.round) return 0;
        if (cl->ae.phase != CL_ROUND_EXCHANGING) { /* refused (the peer is bootstrapping) */
            ae_reset(cl);
            return 0;
        }
        cl->ae.remote_done = 1;
        if (!cl->ae.out.active) ae_success(cl, 0);
        return 0;
    }
    if (round != l->ae_round) return 0;
    l->ae_remote_done = 1;
    if (!l->resp.active) { /* before any AE_BUCKETS: the initiator found nothing to exchange */
        round_finished(cl, l->peer, l->ae_round_ms, !l->ae_exchanging);
        l->ae_round = 0;
    }
    return 0;
}

static int on_sync_req(cl_link *l, cl_reader *r)
{
    cluster *cl = l->cl;
    uint32_t id = cl_get_u32(r);
    if (r->bad || r->left || l->outbound) return -1;
    if (cl->loading) {
        cl_wbuf *w = &cl->scratch;
        cl_frame_begin(w, CL_SYNC_DONE, cl_hlc_now(cl));
        cl_put_u32(w, id);
        cl_put_u8(w, 1);
        return cl_frame_end(w) == 0 && cl_send_frame(l, w) == 0 ? 0 : -1;
    }
    cl->stats.syncs_served++;
    adopt_inbound(l);
    cl_log(cl, CLUSTER_LOG_NOTICE, "bootstrap: streaming the keyspace to %s", l->peer->name);
    return stream_start(&l->resp, CL_SYNC_RECORDS, CL_SYNC_DONE, id, NULL);
}

static int on_sync_done(cl_link *l, cl_reader *r)
{
    cluster *cl = l->cl;
    uint32_t id = cl_get_u32(r);
    unsigned status = cl_get_u8(r);
    if (r->bad || r->left || !l->outbound) return -1;
    if (cl->sync_phase != PHASE_STREAMING || l->peer != cl->sync_peer || id != cl->sync_id)
        return 0;
    if (status != 0) {
        cl->sync_phase = PHASE_WAITING; /* it was not ready after all: pick another */
        cl->sync_peer = NULL;
        return 0;
    }
    cl_log(cl, CLUSTER_LOG_NOTICE, "bootstrap: %llu batches (%llu bytes) from %s; verifying",
           (unsigned long long)cl->sync_batches, (unsigned long long)cl->sync_bytes, l->peer->name);
    cl->sync_phase = PHASE_VERIFYING;
    return 0;
}

int cl_sync_frame(cl_link *l, uint16_t type, const uint8_t *payload, size_t n)
{
    if (!repair_on(l->cl)) return -1;
    cl_reader r;
    cl_reader_init(&r, payload, n);
    switch (type) {
    case CL_AE_TOPS: return on_ae_tops(l, &r);
    case CL_AE_LEAVES: return on_ae_leaves(l, &r);
    case CL_AE_BUCKETS: return on_ae_buckets(l, &r);
    case CL_AE_RECORDS:
    case CL_SYNC_RECORDS: return on_records(l, type, &r);
    case CL_AE_DONE: return on_ae_done(l, &r);
    case CL_SYNC_REQ: return on_sync_req(l, &r);
    case CL_SYNC_DONE: return on_sync_done(l, &r);
    default: return -1;
    }
}

void cluster_sync_get(const cluster *cl, cluster_sync_info *out)
{
    memset(out, 0, sizeof *out);
    out->loading = cl->loading;
    out->phase = phase_names[cl->sync_phase & 3];
    out->source = cl->sync_peer ? cl->sync_peer->name : NULL;
    out->records_batches = cl->sync_batches;
    out->bytes = cl->sync_bytes;
    out->started_ms = cl->sync_started_wall;
    out->finished_ms = cl->sync_finished_wall;
}
