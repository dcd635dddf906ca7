/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_frame.c: libFuzzer target for the cluster bus decoder: the frame header, the HELLO and
 * PING/PONG payload decoders (frame.c), and every frame handler behind them (core.c, repl.c,
 * sync.c), reached the way peers reach them: bytes on bus links.
 *
 * Input layout: byte 0 chooses the node's situation, byte 1 how the rest is read.
 *   byte 0, bit 0  the link a single stream goes to: 0 = inbound (a peer at 10.0.0.2 dialled
 *                  us), 1 = outbound (we dialled the seed 10.0.0.2:7000; our HELLO goes first)
 *           bit 1  repair on (anti-entropy and bootstrap callbacks set, so AE_* and SYNC_* are
 *                  decoded)
 *           bit 2  the node starts empty and must bootstrap (with bit 1)
 *           bit 3  cluster-members is set (n1 n2 n3)
 *           bit 4  the transport says a peer's certificate covers only the name "n2" (mTLS)
 *           bit 5  the server replicates a write before each frame (so ACKs cover something);
 *                  every third is cancelled, as when its client goes away
 *           bit 6  each frame is its own read (batch end after every frame, not once per chunk)
 *           bit 7  links report more bytes queued than max-queue-bytes (the reset path)
 *   byte 1 = 0: the rest is one byte stream on the link chosen by bit 0.
 *   byte 1 != 0: the rest is chunks [ctl u8][n u8][n bytes], each n bytes arriving on one of
 *          three connections, as TCP segments them: ctl bits 0-1 = 0 (or 3) the inbound link
 *          from 10.0.0.2, 1 the outbound link (exists only when the node dialled), 2 an inbound
 *          link from 10.0.0.3; bit 2 = that peer hangs up after the chunk (a later chunk to an
 *          inbound slot is a new connection); bits 4-7 = then 250 ms x that much time passes.
 *          Two or three links let a peer be known by more than one connection at once (seed
 *          merging, restarts, duplicate names, a full cluster).
 *
 * The seam: a real cluster object (cl_create_with_transport) on a transport defined here, with a
 * fake clock.  Outbound links exist only when the node dials (one at a time, any address), and
 * come up when bytes first arrive on them; inbound links are accepted when bytes first arrive.
 * Each link's bytes are cut into frames exactly as bus.c's deliver_frames does (header checked
 * against max-frame-bytes before the payload is buffered), each payload handed over in a heap
 * block of exactly its size so ASan sees any read past it, and a close requested while a link's
 * frame is being handled is deferred, as bus.c does.  The node ticks after every frame (10 ms of
 * fake time) and for about five seconds after the input ends (time-outs, suspicion, re-dials,
 * the wipe after tombstone-grace).  The run id is fixed so an input replays the same way.
 * Rejected: calling the decoders only; the handlers are where a hostile peer's bytes steer
 * state (peer table, streams, pending writes), and they are what a crash there would be in.
 *
 * Checks, beyond "no crash, no sanitizer report, no leak":
 *   1. Canonical decoding: a payload cl_decode_hello or cl_decode_gossip accepts, encoded again,
 *      gives back exactly the same bytes (run on the raw input and on every delivered payload);
 *      decoding gossip into a smaller array keeps the first entries and no more.
 *   2. Header decoding is monotonic in the length limit and never accepts a length outside
 *      [CL_HEADER_LEN, limit].
 *   3. Every frame the node sends back is well formed: its header parses, its length is what
 *      was sent, and HELLO, PING/PONG, ACK, ERROR and the repair frames decode or have their
 *      fixed sizes.
 *   4. No log line carries a control character (peer-supplied names reach the log).
 *   5. After the run (core.c's invariants): at most cluster-size - 1 named peers, a peer marked
 *      as this node itself has no links, the node counted every frame it was given, no frame
 *      dragged its clock further ahead of the wall clock than max-clock-offset, and the status
 *      queries (cluster_peer_get, cluster_sync_get, ...) give sane answers.
 *   6. The write contract of cluster.h: write_done is never called from inside
 *      cluster_replicate, comes exactly once for every write (with NULL for a cancelled one),
 *      and never for a write twice.
 *
 * A failed check calls abort(), which libFuzzer reports as a crash with the input saved.
 * Build and run: `make fuzz` (see the Makefile); seeds live in cluster/fuzz/corpus_frame/.
 * FUZZ_FRAME_VERBOSE=1 prints the node's log lines and the frames it sends (to replay an input).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz_frame: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define MODE_OUTBOUND 0x01u
#define MODE_REPAIR 0x02u
#define MODE_LOADING 0x04u
#define MODE_MEMBERS 0x08u
#define MODE_CERT 0x10u
#define MODE_REPLICATE 0x20u
#define MODE_BATCH_EACH 0x40u
#define MODE_QUEUE_FULL 0x80u

#define MAX_FRAME (1u << 20) /* max-frame-bytes of the node under test (the server's default) */
#define T0_WALL_MS 1790000000000ull
#define T0_MONO_MS 1000000ull
#define STEP_MS 10u          /* fake time per frame: one tick of the bus timer */
#define RUN_ID "0123456789abcdef0123456789abcdef01234567" /* fixed, so inputs replay alike */

/* ---- the transport: up to three connections */

#define SLOTS 3
#define SLOT_OUT 1     /* the outbound slot; 0 and 2 are inbound */
#define MAX_WRITES 512 /* writes tracked per input (MODE_REPLICATE) */

typedef struct slot {
    cl_link *l;        /* NULL: no connection */
    int up;            /* cl_core_link_up was called (outbound: the connect completed) */
    int delivering;    /* inside cl_core_frame for it: a close is deferred, as bus.c does */
    int closing;
    uint8_t *buf;      /* bytes received and not yet a whole frame */
    size_t len, cap;
} slot;

static slot slots[SLOTS];
static const char *const slot_ip[SLOTS] = {"10.0.0.2", NULL, "10.0.0.3"};
static unsigned mode;
static uint64_t mono_ms, wall_ms, frames;
static cluster_hlc hlc;
static cl_wbuf enc; /* re-encoding buffer for the canonical-form checks */
static cl_gossip_entry gossip[CL_GOSSIP_MAX], gossip2[CL_GOSSIP_MAX];
static struct {
    int in_replicate;
    uint64_t n, cancelled_n, null_done;
    uint8_t done[MAX_WRITES + 1], cancelled[MAX_WRITES + 1];
} wr;

static void check_sent(const uint8_t *p, size_t n);

static slot *slot_of(const cl_link *l)
{
    slot *s = l->tr;
    CHECK(s >= slots && s < slots + SLOTS && s->l == l);
    return s;
}

/* The link is gone: forget its bytes and tell the core (which frees it). */
static void slot_drop(slot *s)
{
    cl_link *l = s->l;
    s->l = NULL;
    s->up = s->delivering = s->closing = 0;
    s->len = 0;
    cl_core_link_down(l);
}

static cl_link *op_dial(cluster *cl, const char *addr)
{
    (void)addr; /* every address leads to the one outbound connection the input controls */
    slot *s = &slots[SLOT_OUT];
    if (s->l) return NULL; /* busy: counted as a failed dial, retried later */
    cl_link *l = cl_link_new(cl, 1);
    CHECK(l != NULL);
    s->l = l;
    l->tr = s;
    return l;
}

static int op_send(cl_link *l, const void *p, size_t n)
{
    slot *s = slot_of(l);
    if (!s->up || s->closing) return -1;
    check_sent(p, n);
    return 0;
}

static size_t op_queued(const cl_link *l)
{
    return (mode & MODE_QUEUE_FULL) && l->state == CL_LINK_READY ? (size_t)2 << 20 : 0;
}

static void op_close(cl_link *l)
{
    slot *s = slot_of(l);
    if (s->delivering) {
        s->closing = 1;
        l->state = CL_LINK_CLOSED;
        return;
    }
    slot_drop(s);
}

static int op_name_ok(const cl_link *l, const char *name)
{
    (void)l;
    return !(mode & MODE_CERT) || strcmp(name, "n2") == 0;
}

static void op_wake(cluster *cl) { (void)cl; }

static const cl_transport_ops ops = {
    .dial = op_dial,
    .send = op_send,
    .queued = op_queued,
    .close = op_close,
    .name_ok = op_name_ok,
    .wake = op_wake,
};

static void tr_free(cluster *cl)
{
    (void)cl;
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].l) slot_drop(&slots[i]);
}

/* ---- the server's side: callbacks */

static int cb_apply(void *priv, const void *batch, size_t len, const char *from, int origin)
{
    const uint8_t *b = batch;
    unsigned sum = 0;
    (void)priv;
    CHECK(from != NULL && from[0] != '\0');
    CHECK(origin == CLUSTER_FROM_LIVE || origin == CLUSTER_FROM_REPAIR);
    for (size_t i = 0; i < len; i++) sum += b[i]; /* touch every byte: ASan checks the range */
    (void)sum;
    return len > 0 && b[0] == 0xff ? -1 : 0; /* the server's "malformed batch" */
}

static void cb_done(void *priv, void *cookie, int status, int acks)
{
    (void)priv;
    CHECK(!wr.in_replicate);
    CHECK(status == CLUSTER_WRITE_OK || status == CLUSTER_WRITE_TIMEOUT ||
          status == CLUSTER_WRITE_ABORTED);
    CHECK(acks >= 0);
    if (!cookie) {
        wr.null_done++;
        return;
    }
    uintptr_t k = (uintptr_t)cookie;
    CHECK(k >= 1 && k <= wr.n && !wr.done[k] && !wr.cancelled[k]);
    wr.done[k] = 1;
}

static uint64_t cb_now(void *priv)
{
    (void)priv;
    return wall_ms;
}

static uint64_t cb_mono(void *priv)
{
    (void)priv;
    return mono_ms;
}

static void cb_log(void *priv, int level, const char *msg)
{
    (void)priv;
    (void)level;
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        CHECK(*p >= 0x20 && *p != 0x7f);
    if (getenv("FUZZ_FRAME_VERBOSE")) fprintf(stderr, "fuzz_frame: log: %s\n", msg);
}

/* An empty keyspace: every digest is 0, so a peer's all-zero digests mean "in sync". */
static void cb_tops(void *priv, uint64_t *tops)
{
    (void)priv;
    memset(tops, 0, sizeof *tops * CLUSTER_DIGEST_TOPS);
}

static void cb_leaves(void *priv, unsigned top, uint64_t *leaves)
{
    (void)priv;
    CHECK(top < CLUSTER_DIGEST_TOPS);
    memset(leaves, 0, sizeof *leaves * CLUSTER_DIGEST_LEAVES);
}

/* Three chunks of records per stream, whatever the buckets. */
static int cb_collect(void *priv, const uint8_t *buckets, uint64_t *cursor, cluster_buf *out,
                      size_t max_bytes)
{
    static const uint8_t rec[16] = "fuzz-record-0001";
    (void)priv;
    (void)buckets;
    CHECK(max_bytes > 0);
    if (cluster_buf_append(out, rec, sizeof rec) < 0) return -1;
    *cursor = *cursor >= 2 ? 0 : *cursor + 1;
    return 0;
}

static void cb_ready(void *priv) { (void)priv; }
static void cb_wipe(void *priv) { (void)priv; }

/* ---- checks */

static uint8_t *exact_copy(const void *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    CHECK(c != NULL);
    if (n) memcpy(c, p, n);
    return c;
}

/* The bytes after the header of the frame in enc equal p[0..n). */
static void check_reencoded(const uint8_t *p, size_t n)
{
    CHECK(cl_frame_end(&enc) == 0);
    CHECK(enc.len == CL_HEADER_LEN + n);
    CHECK(n == 0 || memcmp(enc.data + CL_HEADER_LEN, p, n) == 0);
}

/* Checks 1 and 2 on one byte string (copied to a block of exactly its size). */
static void check_decoders(const uint8_t *src, size_t n)
{
    uint8_t *p = exact_copy(src, n);
    cl_hello h;
    if (cl_decode_hello(p, n, &h) == 0) {
        cl_encode_hello(&enc, CL_HELLO, 0, &h);
        check_reencoded(p, n);
    }
    uint8_t ready = 0, ready2 = 0;
    int count = cl_decode_gossip(p, n, &ready, gossip, (int)CL_GOSSIP_MAX);
    if (count >= 0) {
        cl_encode_gossip(&enc, CL_PING, 0, ready, gossip, count);
        check_reencoded(p, n);
        int few = cl_decode_gossip(p, n, &ready2, gossip2, 2);
        CHECK(few == (count < 2 ? count : 2) && ready2 == ready);
        for (int i = 0; i < few; i++)
            CHECK(strcmp(gossip[i].name, gossip2[i].name) == 0 &&
                  strcmp(gossip[i].addr, gossip2[i].addr) == 0 &&
                  gossip[i].state == gossip2[i].state &&
                  gossip[i].client_port == gossip2[i].client_port &&
                  gossip[i].http_port == gossip2[i].http_port);
    } else {
        CHECK(cl_decode_gossip(p, n, &ready2, gossip2, 2) < 0);
    }
    cl_frame_header small, big;
    int rs = cl_frame_parse_header(p, n, 64, &small);
    int rb = cl_frame_parse_header(p, n, MAX_FRAME, &big);
    if (n < CL_HEADER_LEN) CHECK(rs == CL_FRAME_SHORT && rb == CL_FRAME_SHORT);
    if (rs == CL_FRAME_OK) {
        CHECK(rb == CL_FRAME_OK && small.len == big.len && small.type == big.type &&
              small.hlc == big.hlc);
        CHECK(small.len >= CL_HEADER_LEN && small.len <= 64);
    }
    if (rb == CL_FRAME_OK) CHECK(big.len >= CL_HEADER_LEN && big.len <= MAX_FRAME);
    free(p);
}

/* Check 3: a frame the node sent. */
static void check_sent(const uint8_t *frame, size_t n)
{
    cl_frame_header h;
    CHECK(cl_frame_parse_header(frame, n, MAX_FRAME, &h) == CL_FRAME_OK);
    CHECK(h.len == n);
    if (getenv("FUZZ_FRAME_VERBOSE"))
        fprintf(stderr, "fuzz_frame: sent type %u, %zu bytes\n", h.type, n);
    const uint8_t *p = frame + CL_HEADER_LEN;
    size_t pn = n - CL_HEADER_LEN;
    cl_hello hello;
    uint8_t ready;
    cl_reader r;
    char text[CL_STR_MAX + 1];
    switch (h.type) {
    case CL_HELLO:
    case CL_HELLO_OK: CHECK(cl_decode_hello(p, pn, &hello) == 0); break;
    case CL_PING:
    case CL_PONG: CHECK(cl_decode_gossip(p, pn, &ready, gossip2, (int)CL_GOSSIP_MAX) >= 0); break;
    case CL_HELLO_ERR:
    case CL_ERROR:
        cl_reader_init(&r, p, pn);
        cl_get_str(&r, text);
        CHECK(!r.bad && r.left == 0);
        break;
    case CL_ACK: CHECK(pn == 8); break;
    case CL_AE_TOPS: CHECK(pn == 4 + 8 * CLUSTER_DIGEST_TOPS); break;
    case CL_AE_BUCKETS: CHECK(pn == 4 + CL_BITMAP_BYTES); break;
    case CL_AE_DONE:
    case CL_SYNC_REQ: CHECK(pn == 4); break;
    case CL_SYNC_DONE: CHECK(pn == 5); break;
    case CL_AE_LEAVES: CHECK(pn >= 5 && (pn - 5) % (1 + 8 * CLUSTER_DIGEST_LEAVES) == 0); break;
    case CL_REPL: CHECK(pn >= 8); break;
    case CL_AE_RECORDS:
    case CL_SYNC_RECORDS: CHECK(pn >= 4); break;
    default: CHECK(!"a frame type the node never sends");
    }
}

/* Check 5. */
static void check_invariants(cluster *cl)
{
    int named = 0;
    for (int i = 0; i < cl->npeers; i++) {
        const cl_peer *p = cl->peers[i];
        if (p->name[0] && !p->is_self) named++;
        if (p->is_self) CHECK(p->out == NULL && p->in == NULL);
        CHECK(p->state <= CLUSTER_PEER_FAIL);
    }
    CHECK(named <= cl->cfg.cluster_size - 1);
    CHECK(cl->stats.frames_in == frames);
    CHECK(CLUSTER_HLC_MS(hlc.last) <= wall_ms + cl->cfg.max_clock_offset_ms);
    int can = cluster_can_write(cl);
    CHECK(can == 0 || can == 1);
    CHECK(cluster_quorum(cl) == 2 && cluster_get_stats(cl) != NULL);
    CHECK(strlen(cluster_run_id(cl)) == 40);
    for (int i = 0; i < cluster_peer_count(cl); i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        CHECK(pi.addr != NULL && strlen(pi.addr) <= CL_STR_MAX);
        CHECK(pi.name == NULL || (pi.name[0] != '\0' && strlen(pi.name) <= CL_STR_MAX));
        CHECK(pi.state <= CLUSTER_PEER_FAIL);
    }
    cluster_sync_info si;
    cluster_sync_get(cl, &si);
    CHECK(si.phase != NULL && (si.loading == 0 || si.loading == 1));
    for (uint64_t k = 1; k <= wr.n; k++) CHECK(cluster_acks(cl, k) >= 0);
}

/* ---- one input */

static cluster *node_create(void)
{
    static const char *const seeds[] = {"10.0.0.2:7000"};
    static const char *const members[] = {"n1", "n2", "n3"};
    cluster_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.node_name = "n1";
    cfg.cluster_name = "fuzz";
    cfg.cluster_size = 3;
    cfg.port = 7000;
    cfg.seeds = seeds;
    cfg.seed_count = 1;
    if (mode & MODE_MEMBERS) {
        cfg.members = members;
        cfg.member_count = 3;
    }
    cfg.client_port = 6379;
    cfg.http_port = 8080;
    cfg.insecure = 1;
    cfg.node_timeout_ms = 1000;
    cfg.write_timeout_ms = 2000;
    cfg.max_clock_offset_ms = 500;
    cfg.ae_interval_ms = 50; /* rounds start within a few frames */
    cfg.grace_ms = 2000; /* short: the wipe after a long isolation is reachable */
    cfg.repair_bytes_per_s = 1u << 20;
    cfg.start_loading = (mode & MODE_LOADING) != 0;
    cfg.max_queue_bytes = 1u << 20;
    cfg.max_frame_bytes = MAX_FRAME;
    cfg.hlc = &hlc;

    cluster_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.apply = cb_apply;
    cb.write_done = cb_done;
    cb.now_ms = cb_now;
    cb.mono_ms = cb_mono;
    cb.log = cb_log;
    if (mode & MODE_REPAIR) {
        cb.digest_tops = cb_tops;
        cb.digest_leaves = cb_leaves;
        cb.collect = cb_collect;
        cb.ready = cb_ready;
        cb.wipe = cb_wipe;
    }
    char err[256];
    cluster *cl = cl_create_with_transport(&cfg, &cb, &ops, NULL, err, sizeof err);
    if (!cl) {
        fprintf(stderr, "fuzz_frame: cluster_create: %s\n", err);
        abort();
    }
    cl->tr_free = tr_free;
    snprintf(cl->run_id, sizeof cl->run_id, "%s", RUN_ID);
    return cl;
}

static void advance(cluster *cl, uint64_t ms)
{
    mono_ms += ms;
    wall_ms += ms;
    cl_core_tick(cl, mono_ms);
}

/* The server writes something, and sometimes its client goes away before the answer. */
static void replicate(cluster *cl)
{
    if (wr.n >= MAX_WRITES) return;
    uint64_t k = ++wr.n;
    wr.in_replicate = 1;
    uint64_t seq = cluster_replicate(cl, "w", 1, (void *)(uintptr_t)k);
    wr.in_replicate = 0;
    CHECK(seq > 0);
    if (k % 3 == 0 && !wr.done[k]) {
        cluster_cancel(cl, seq);
        wr.cancelled[k] = 1;
        wr.cancelled_n++;
    }
}

/* Bytes arrive on slot i: connect or accept first, then deliver every whole frame as bus.c's
 * deliver_frames does.  Returns 0, or -1 when the link is closed. */
static int receive(cluster *cl, int i, const uint8_t *p, size_t n)
{
    slot *s = &slots[i];
    if (!s->l) {
        if (i == SLOT_OUT) return -1; /* the node did not dial: nobody to send to */
        cl_link *l = cl_link_new(cl, 0);
        CHECK(l != NULL);
        snprintf(l->remote_ip, sizeof l->remote_ip, "%s", slot_ip[i]);
        s->l = l;
        l->tr = s;
    }
    if (!s->up) {
        s->up = 1;
        cl_core_link_up(s->l); /* an outbound link sends its HELLO now */
        if (!s->l) return -1;
    }
    if (s->cap - s->len < n) {
        size_t cap = s->len + n + 256;
        uint8_t *b = realloc(s->buf, cap);
        CHECK(b != NULL);
        s->buf = b;
        s->cap = cap;
    }
    if (n) memcpy(s->buf + s->len, p, n);
    s->len += n;
    size_t off = 0;
    int rc = 0;
    while (rc == 0 && s->len - off >= CL_HEADER_LEN) {
        cl_frame_header h;
        if (cl_frame_parse_header(s->buf + off, CL_HEADER_LEN, MAX_FRAME, &h) != CL_FRAME_OK) {
            cl->stats.frames_rejected++;
            rc = -1;
            break;
        }
        if (s->len - off < h.len) break; /* wait for the rest */
        if (mode & MODE_REPLICATE) replicate(cl);
        size_t plen = h.len - CL_HEADER_LEN;
        uint8_t *payload = exact_copy(s->buf + off + CL_HEADER_LEN, plen);
        check_decoders(payload, plen);
        s->delivering = 1;
        rc = cl_core_frame(s->l, &h, payload, plen);
        s->delivering = 0;
        frames++;
        free(payload);
        off += h.len;
        if (rc < 0 || s->closing) {
            rc = -1;
            break;
        }
        if (mode & MODE_BATCH_EACH) cl_core_batch_end(s->l);
        advance(cl, STEP_MS);
        if (!s->l) return -1; /* the tick closed it */
    }
    if (rc < 0) {
        slot_drop(s);
        return -1;
    }
    if (off > 0) { /* (buf is still NULL when nothing arrived yet) */
        memmove(s->buf, s->buf + off, s->len - off);
        s->len -= off;
    }
    if (!(mode & MODE_BATCH_EACH)) cl_core_batch_end(s->l);
    return 0;
}

static void hang_up(int i)
{
    if (slots[i].l) slot_drop(&slots[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    mode = data[0];
    int chunked = data[1] != 0;
    const uint8_t *in = data + 2;
    size_t n = size - 2;
    check_decoders(in, n);

    mono_ms = T0_MONO_MS;
    wall_ms = T0_WALL_MS;
    frames = 0;
    memset(&wr, 0, sizeof wr);
    for (int i = 0; i < SLOTS; i++) {
        slots[i].l = NULL;
        slots[i].up = slots[i].delivering = slots[i].closing = 0;
        slots[i].len = 0;
    }
    cluster *cl = node_create();
    advance(cl, STEP_MS); /* the first tick dials the seed */

    if (!chunked) {
        receive(cl, (mode & MODE_OUTBOUND) ? SLOT_OUT : 0, in, n);
    } else {
        size_t off = 0;
        while (n - off >= 2) {
            unsigned ctl = in[off];
            size_t len = in[off + 1];
            if (len > n - off - 2) len = n - off - 2;
            int i = (ctl & 3) == 3 ? 0 : (int)(ctl & 3);
            receive(cl, i, in + off + 2, len);
            off += 2 + len;
            if (ctl & 4) hang_up(i);
            for (unsigned t = 0; t < ctl >> 4; t++) advance(cl, 250); /* ticks, not a stall */
        }
    }
    /* The peers hang up; the node keeps running for a few seconds. */
    for (int i = 0; i < SLOTS; i++) hang_up(i);
    for (int i = 0; i < 12; i++) advance(cl, 400);
    check_invariants(cl);
    cluster_free(cl);
    /* Check 6: every write answered once (the cancelled ones with NULL). */
    for (uint64_t k = 1; k <= wr.n; k++) CHECK(wr.done[k] || wr.cancelled[k]);
    CHECK(wr.null_done == wr.cancelled_n);
    return 0;
}
