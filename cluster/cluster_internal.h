/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_internal.h: what the files of cluster/ share.  Not for use outside cluster/.
 *
 * The module is split in three layers:
 *   frame.c      wire format: frame header and payload fields, bounds-checked (no I/O)
 *   core.c       the protocol: handshake, membership, gossip, failure detection  (no I/O)
 *   repl.c       replication bookkeeping: pending writes, acknowledgements, quorum (no I/O)
 *   bus.c, tls.c the libevent + OpenSSL transport (sockets, TLS, timers, DNS)
 * The core drives the transport only through cl_transport_ops, so unit tests can run several
 * nodes in one process over an in-memory transport with a fake clock.
 */
#ifndef CLUSTER_CLUSTER_INTERNAL_H
#define CLUSTER_CLUSTER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster.h"

/* ---- wire format (frame.c) ------------------------------------------------------------------
 *
 * Every frame: a 20-byte header in network byte order, then the payload.
 *   magic u32 "RPB1" | total length u32 (header included) | version u16 | type u16 | hlc u64
 * The length is checked against the receiver's limit before any allocation.  `hlc` is the
 * sender's clock when it sent the frame: every frame merges clocks and is checked for skew.
 */
#define CL_MAGIC 0x52504231u /* "RPB1" */
#define CL_VERSION 1u
#define CL_HEADER_LEN 20u
#define CL_STR_MAX 255u        /* longest string field (names, addresses, reasons) */
#define CL_GOSSIP_MAX 64u      /* most member entries in one PING/PONG */

enum cl_frame_type {
    CL_HELLO = 1,     /* dialer -> acceptor: who I am */
    CL_HELLO_OK = 2,  /* acceptor -> dialer: who I am; the link is ready */
    CL_HELLO_ERR = 3, /* acceptor -> dialer: refused, with a reason; then close */
    CL_PING = 4,      /* dialer -> acceptor: liveness + gossip */
    CL_PONG = 5,      /* acceptor -> dialer: liveness + gossip */
    CL_REPL = 6,      /* dialer -> acceptor: seq u64 + opaque batch */
    CL_ACK = 7,       /* acceptor -> dialer: cumulative seq u64 */
    CL_ERROR = 8,     /* either way: a reason the receiver should log (e.g. clock skew) */
    /* anti-entropy (sync.c): I = the node running the round, R = its peer */
    CL_AE_TOPS = 9,     /* I -> R: round u32, 64 top digests (again in the round: re-check) */
    CL_AE_LEAVES = 10,  /* R -> I: round u32, n u8, n x (top u8, 64 leaf digests); n = 0: in sync */
    CL_AE_BUCKETS = 11, /* I -> R: round u32, bitmap of the buckets that differ */
    CL_AE_RECORDS = 12, /* both ways: round u32, records of those buckets */
    CL_AE_DONE = 13,    /* both ways: round u32; the sender has sent all its records (I -> R
                         * before any AE_BUCKETS: nothing to exchange, the round ended in sync) */
    /* bootstrap (sync.c): J = the joining node, P = the peer it copies */
    CL_SYNC_REQ = 14,     /* J -> P: id u32 */
    CL_SYNC_RECORDS = 15, /* P -> J: id u32, records */
    CL_SYNC_DONE = 16,    /* P -> J: id u32, status u8 (0 complete, 1 refused: P is not ready) */
    CL_TYPE_MAX = 16
};

#define CL_BITMAP_BYTES (CLUSTER_DIGEST_BUCKETS / 8)

typedef struct cl_frame_header {
    uint32_t len;   /* total, header included */
    uint16_t type;
    uint64_t hlc;
} cl_frame_header;

/* Results of cl_frame_parse_header. */
#define CL_FRAME_OK 0
#define CL_FRAME_SHORT 1        /* fewer than CL_HEADER_LEN bytes */
#define CL_FRAME_BAD_MAGIC (-1)
#define CL_FRAME_BAD_VERSION (-2)
#define CL_FRAME_BAD_LENGTH (-3) /* shorter than the header or over the limit */
#define CL_FRAME_BAD_TYPE (-4)

/* Decode and validate a header from buf[0..n).  max_len bounds the total length. */
int cl_frame_parse_header(const uint8_t *buf, size_t n, size_t max_len, cl_frame_header *h);
const char *cl_frame_strerror(int rc);

/* A growable output buffer for building one frame (allocation failure is sticky). */
typedef struct cl_wbuf {
    uint8_t *data;
    size_t len, cap;
    int failed;
} cl_wbuf;

void cl_wbuf_init(cl_wbuf *w);
void cl_wbuf_free(cl_wbuf *w);
/* Start a frame: writes the header with a placeholder length. */
void cl_frame_begin(cl_wbuf *w, uint16_t type, uint64_t hlc);
/* Patch the length field; returns 0, or -1 after an allocation failure. */
int cl_frame_end(cl_wbuf *w);
void cl_put_u8(cl_wbuf *w, uint8_t v);
void cl_put_u16(cl_wbuf *w, uint16_t v);
void cl_put_u32(cl_wbuf *w, uint32_t v);
void cl_put_u64(cl_wbuf *w, uint64_t v);
void cl_put_bytes(cl_wbuf *w, const void *p, size_t n);
void cl_put_str(cl_wbuf *w, const char *s); /* u8 length + bytes, truncated to CL_STR_MAX */

/* A bounds-checked reader over a payload; any overrun sets `bad` and yields zeros. */
typedef struct cl_reader {
    const uint8_t *p;
    size_t left;
    int bad;
} cl_reader;

void cl_reader_init(cl_reader *r, const void *p, size_t n);
uint8_t cl_get_u8(cl_reader *r);
uint16_t cl_get_u16(cl_reader *r);
uint32_t cl_get_u32(cl_reader *r);
uint64_t cl_get_u64(cl_reader *r);
/* Copy a string field into out (NUL-terminated; out has CL_STR_MAX + 1 bytes).  Strings with a
 * NUL or another control character (< 0x20, 0x7f) inside are rejected (bad). */
void cl_get_str(cl_reader *r, char *out);

/* ---- decoded payloads (frame.c) -------------------------------------------------------------- */

typedef struct cl_hello {
    char cluster_name[CL_STR_MAX + 1];
    char node_name[CL_STR_MAX + 1];
    char run_id[CL_STR_MAX + 1];
    uint16_t client_port, http_port, bus_port;
    uint32_t cluster_size;
    uint8_t ready; /* 1: holds the cluster's data (not bootstrapping) */
} cl_hello;

typedef struct cl_gossip_entry {
    char name[CL_STR_MAX + 1];
    char addr[CL_STR_MAX + 1];
    uint8_t state; /* enum cluster_peer_state as the sender sees that member */
    uint16_t client_port, http_port;
} cl_gossip_entry;

void cl_encode_hello(cl_wbuf *w, uint16_t type, uint64_t hlc, const cl_hello *h);
int cl_decode_hello(const void *payload, size_t n, cl_hello *h); /* 0 or -1 */

/* PING/PONG: the sender's readiness, then its view of the other members. */
void cl_encode_gossip(cl_wbuf *w, uint16_t type, uint64_t hlc, uint8_t ready,
                      const cl_gossip_entry *e, int n);
/* Decodes up to max entries into e and the sender's readiness into *ready; returns the count, or
 * -1 when malformed. */
int cl_decode_gossip(const void *payload, size_t n, uint8_t *ready, cl_gossip_entry *e, int max);

/* ---- links, peers, the cluster object ------------------------------------------------------- */

enum cl_link_state {
    CL_LINK_CONNECTING = 0, /* TCP/TLS not up yet */
    CL_LINK_HANDSHAKE = 1,  /* transport up; HELLO sent (outbound) or awaited (inbound) */
    CL_LINK_READY = 2,      /* identified peer; frames flow */
    CL_LINK_CLOSED = 3
};

struct cl_peer;

/* Phases of the anti-entropy round this node initiates (sync.c). */
enum cl_round_phase {
    CL_ROUND_IDLE = 0,
    CL_ROUND_COMPARING = 1,  /* AE_TOPS sent, waiting for AE_LEAVES */
    CL_ROUND_EXCHANGING = 2, /* AE_BUCKETS sent: records flow both ways until both AE_DONE */
    CL_ROUND_SETTLING = 3,   /* buckets differed: waiting CL_AE_CONFIRM_DELAY_MS to compare again */
    CL_ROUND_RECHECKING = 4  /* AE_TOPS sent again, waiting for AE_LEAVES */
};

/* How long a round waits before it compares again the buckets it found different, in ms.  A
 * replicated write is applied on its coordinator before it reaches the peers, so under write load
 * two nodes' digests almost never match exactly: a write is "in flight" for a bus trip plus a
 * loop turn on each side.  On a saturated two-core host the slowest acknowledged write took
 * 3-12 ms with anti-entropy off (bench/README.md, "Findings and fixes").  50 ms is four times
 * that, 1 % of the default ae-interval, and a real difference (a write lost with a reset link or
 * in a partition) only waits that much longer for its repair.  Shorter lets slow in-flight
 * writes through as differences (each costs a keyspace scan on both nodes); longer only delays
 * real repairs. */
#define CL_AE_CONFIRM_DELAY_MS 50u

/* A stream of records this node sends on a link, produced chunk by chunk by the server's collect
 * callback as the link drains and the repair bandwidth allows (sync.c). */
typedef struct cl_stream {
    int active;
    uint16_t type, done_type;      /* CL_AE_RECORDS/CL_AE_DONE or CL_SYNC_RECORDS/CL_SYNC_DONE */
    uint32_t id;                   /* round or sync id, repeated in every frame */
    uint8_t *buckets;              /* CL_BITMAP_BYTES, or NULL for every bucket */
    uint64_t cursor;
} cl_stream;

typedef struct cl_link {
    cluster *cl;
    struct cl_peer *peer; /* NULL until the handshake identified it */
    int outbound;         /* 1: we dialled (we send requests on it) */
    enum cl_link_state state;
    uint64_t opened_ms;
    uint64_t last_frame_ms; /* timer time of the last frame received on this link */
    uint64_t last_rx_seq; /* inbound: highest REPL seq received on this link */
    int ack_pending;      /* inbound: an ACK for last_rx_seq is owed */
    cl_stream resp;       /* inbound: records we stream to the peer (its AE round, its sync) */
    uint32_t ae_round;    /* inbound: the peer's anti-entropy round we take part in */
    uint64_t ae_round_ms; /* inbound: timer time that round's digests were compared here */
    int ae_remote_done;   /* inbound: the peer sent all its records of that round */
    int ae_exchanging;    /* inbound: AE_BUCKETS of that round arrived (records flow) */
    char remote_ip[64];   /* as seen on the socket (inbound), for the peer's address */
    void *tr;             /* the transport's handle */
} cl_link;

typedef struct cl_fail_report {
    const struct cl_peer *reporter; /* a named peer (named peers are never freed) */
    uint64_t at_ms;
} cl_fail_report;

typedef struct cl_peer {
    char name[CL_STR_MAX + 1];   /* "" while known only by a seed address */
    char addr[CL_STR_MAX + 1];   /* where we dial it: "host:port" */
    char run_id[CL_STR_MAX + 1];
    uint16_t client_port, http_port;
    int is_seed;                 /* came from the configuration */
    int is_self;                 /* a seed that turned out to be this node */
    enum cluster_peer_state state;
    uint64_t last_rx_ms;         /* any frame from it, on any link */
    cl_link *out;                /* our link to it */
    cl_link *in;                 /* its link to us (the latest) */
    uint64_t next_dial_ms;
    uint64_t backoff_ms;
    uint64_t session_start;      /* first of our seqs sent on the current outbound session */
    uint64_t acked_seq;          /* highest of our seqs it acknowledged this session */
    cl_fail_report reports[16];  /* other voters that see it failing */
    int nreports;
    int logged_down;             /* a "lost contact" line was logged */
    int ready;                   /* it holds the cluster's data (not bootstrapping) */
    int ae_soon;                 /* run anti-entropy with it soon (it just came back) */
    uint64_t ae_ok_ms;           /* timer time the last completed round with it began (0: none) */
} cl_peer;

/* The transport.  All calls are made from the event-loop thread. */
typedef struct cl_transport_ops {
    /* Start a connection to "host:port"; returns a link in CL_LINK_CONNECTING or NULL (counted as
     * a failed dial).  The transport later calls cl_core_link_up() or cl_core_link_down(). */
    cl_link *(*dial)(cluster *cl, const char *addr);
    /* Queue bytes on a link; 0, or -1 when the link is unusable. */
    int (*send)(cl_link *l, const void *p, size_t n);
    /* Bytes queued and not yet written. */
    size_t (*queued)(const cl_link *l);
    /* Close a link now; the transport frees its handle and then calls cl_core_link_down(). */
    void (*close)(cl_link *l);
    /* mTLS: 1 when the peer's certificate covers `name`; other modes return 1. */
    int (*name_ok)(const cl_link *l, const char *name);
    /* Run cl_repl_progress soon, from the event loop (never from inside this call). */
    void (*wake)(cluster *cl);
} cl_transport_ops;

/* A write waiting for acknowledgements (repl.c). */
typedef struct cl_pending {
    uint64_t seq;
    void *cookie;
    uint64_t deadline_ms;
    int done;         /* completed out of order; popped when it reaches the head */
} cl_pending;

struct cluster {
    cluster_config cfg;          /* strings below point into owned copies */
    char **owned;                /* copies of the configuration strings */
    int nowned;
    cluster_callbacks cb;
    const cl_transport_ops *tr;
    void *tr_state;              /* the transport's own state (bus.c) */
    void (*tr_free)(cluster *cl);/* frees a test transport's links; NULL for the bus */
    char run_id[41];
    int quorum;

    cl_peer **peers;
    int npeers, cap_peers;

    /* repl.c */
    uint64_t next_seq;           /* next seq to assign (starts at 1) */
    cl_pending *pend;            /* ring buffer of pending writes, in seq order */
    size_t pend_head, pend_len, pend_cap;

    uint64_t last_tick_ms;
    uint64_t last_ping_ms;
    cluster_stats stats;
    cl_wbuf scratch;             /* frame being built */

    /* sync.c: this node's anti-entropy round as its initiator */
    struct {
        enum cl_round_phase phase;
        cl_peer *peer;
        uint32_t round;
        int remote_done;
        cl_stream out;           /* our records of the differing buckets */
        uint64_t started_ms;     /* last progress (a round without any for long is dropped) */
        uint64_t began_ms;       /* when the first tops were sent */
        int for_bootstrap;       /* success ends the bootstrap */
        int confirm;             /* repair only what still differs at a re-check */
        uint64_t recheck_at_ms;  /* CL_ROUND_SETTLING: when to compare again */
        uint8_t suspect[CL_BITMAP_BYTES]; /* buckets that differed at the first comparison */
    } ae;
    uint64_t next_ae_ms;
    int ae_rr;                   /* round-robin position over the peers */
    uint64_t ready_ms;           /* timer time the node became ready (start, bootstrap, wipe) */
    /* bootstrap */
    int loading;
    int sync_phase;              /* 0 waiting, 1 streaming, 2 verifying, 3 done */
    cl_peer *sync_peer;
    uint32_t sync_id;
    uint64_t sync_batches, sync_bytes, sync_started_wall, sync_finished_wall;
    uint64_t started_ms;         /* timer time the node started */
    /* repair bandwidth: a token bucket in bytes */
    double tokens;
    uint64_t tokens_at_ms;
    cluster_buf collect_buf;
};

/* Create a cluster driven by another transport (unit tests): no sockets, no timers; the caller
 * delivers frames and calls cl_core_tick itself.  Set cl->tr_free to close its links. */
cluster *cl_create_with_transport(const cluster_config *cfg, const cluster_callbacks *cb,
                                  const cl_transport_ops *ops, void *tr_state, char *err,
                                  size_t errlen);

/* ---- core.c: entry points for the transport ---- */

/* Create/free the protocol state (cluster_create/free call these). */
int cl_core_init(cluster *cl, char *err, size_t errlen);
void cl_core_free(cluster *cl);

/* A new link: outbound ones after TCP (+TLS) is up, inbound ones after accept (+TLS). */
void cl_core_link_up(cl_link *l);
/* The link is gone (either side closed, error, or cl_transport_ops.close). */
void cl_core_link_down(cl_link *l);
/* One complete frame.  Returns 0, or -1 when the link must be closed. */
int cl_core_frame(cl_link *l, const cl_frame_header *h, const uint8_t *payload, size_t n);
/* End of a batch of frames read together: flush owed acknowledgements. */
void cl_core_batch_end(cl_link *l);
/* Periodic work (dial, ping, failure detection, write time-outs); call every ~10 ms. */
void cl_core_tick(cluster *cl, uint64_t now_ms);

/* Timer time (monotonic ms) and wall-clock time (versions, clock-skew checks), through the
 * server's callbacks. */
uint64_t cl_now(const cluster *cl);
uint64_t cl_wall(const cluster *cl);
/* The stamp of every frame this node sends: its clock read at the current wall-clock time. */
uint64_t cl_hlc_now(const cluster *cl);

/* Log through the server's callback (printf-style). */
void cl_log(const cluster *cl, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Allocate a link for the transport (it sets `tr`); the core frees it in cl_core_link_down. */
cl_link *cl_link_new(cluster *cl, int outbound);

/* Send a built frame on a link (counts it); -1 when the transport refused it. */
int cl_send_frame(cl_link *l, const cl_wbuf *w);

/* ---- repl.c ---- */
int cl_repl_init(cluster *cl);
void cl_repl_free(cluster *cl);
/* An ACK for `seq` arrived from peer p: record it and complete writes that reached quorum. */
void cl_repl_on_ack(cluster *cl, cl_peer *p, uint64_t seq);
/* A REPL frame arrived on an inbound link. */
int cl_repl_on_frame(cl_link *l, const uint8_t *payload, size_t n);
/* Complete what has quorum, expire what timed out; called from ticks and acks. */
void cl_repl_progress(cluster *cl, uint64_t now_ms);
/* Peers whose current session acknowledged seq. */
int cl_repl_acks_for(const cluster *cl, uint64_t seq);

/* ---- sync.c: anti-entropy and bootstrap ---- */
int cl_sync_init(cluster *cl);
void cl_sync_free(cluster *cl);
/* Periodic work: start rounds and bootstraps, produce stream chunks, detect long isolation. */
void cl_sync_tick(cluster *cl, uint64_t now);
/* A repair frame (types CL_AE_* and CL_SYNC_*) on a ready link.  0, or -1 to close it. */
int cl_sync_frame(cl_link *l, uint16_t type, const uint8_t *payload, size_t n);
/* The link is going away: abandon what it carried. */
void cl_sync_link_down(cl_link *l);
/* A peer became reachable again (or is new): compare with it soon. */
void cl_sync_peer_back(cluster *cl, cl_peer *p);

#endif /* CLUSTER_CLUSTER_INTERNAL_H */
