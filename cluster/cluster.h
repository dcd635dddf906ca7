/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster.h: the cluster bus, membership, failure detection and majority-acknowledged
 * replication.  See DESIGN.md section 7.
 *
 * Model.  `cluster-size` voters; the write quorum is floor(size/2)+1 counting the coordinator,
 * computed from the configured size, never from the peers currently alive.  Every node dials
 * every other member (its outbound link carries its own requests: HELLO, PING, REPL, sync
 * requests) and accepts their links (on which it answers: HELLO_OK, PONG, ACK).  Members are
 * found from `seeds` (host:port, re-resolved on every dial) and from the member lists carried by
 * PING/PONG.  Links are authenticated (TLS 1.3 with a cluster CA, or TLS 1.3 with a pre-shared key
 * derived from `cluster-secret`) unless the operator chose `cluster-insecure`.
 *
 * Replication.  The server applies a write locally, encodes it as an opaque batch of records and
 * calls cluster_replicate(); the batch goes to every reachable member on its outbound link
 * (frames queued during one event-loop turn leave in one write).  Receivers hand the batch to the
 * apply callback and acknowledge cumulatively per link ("everything up to seq S of this link's
 * session").  The write completes when quorum-1 peers acknowledged it, or fails after
 * `write-timeout` (outcome unknown: the value may still appear).
 *
 * Records are opaque here: cluster/ never interprets payloads and never includes server/ or
 * ttl/.  Versions are hybrid-logical-clock values (hlc.h) that the server stamps.
 *
 * Threading: one event-loop thread; every function must be called from it.
 */
#ifndef CLUSTER_CLUSTER_H
#define CLUSTER_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef struct cluster cluster;

/* ---------------------------------------------------------------------------------------------
 * Hybrid logical clock (Kulkarni et al.): versions are (wall-clock ms << 16) | logical, where the
 * logical part is (counter << 4) | node tag.  A node's versions strictly increase, stay close to
 * wall-clock time, and after observing a peer's version every later local version is larger, so
 * causally ordered writes are ordered by version everywhere.  The 4-bit node tag (from the node
 * name) makes equal versions from two nodes unlikely; exact ties are broken by content, above
 * this module.  Used by the server in single-node mode too.
 */
typedef struct cluster_hlc {
    uint64_t last;   /* the last version issued or observed */
    unsigned tag;    /* 0..15 */
} cluster_hlc;

#define CLUSTER_HLC_MS(v) ((v) >> 16)

/* Start a clock; `tag` is folded into 0..15. */
void cluster_hlc_init(cluster_hlc *h, unsigned tag);

/* A new version for a local write at wall-clock now_ms: > every version seen so far. */
uint64_t cluster_hlc_next(cluster_hlc *h, uint64_t now_ms);

/* The clock's reading at wall-clock now_ms, without issuing a version: max(now, last).  Every
 * bus frame carries it, so peers see how far ahead this node's clock runs even while it writes
 * nothing (and a frame's stamp is never below a version it carries). */
uint64_t cluster_hlc_peek(const cluster_hlc *h, uint64_t now_ms);

/* Merge a version received from a peer.  Returns 0, or -1 (and merges nothing) when its wall
 * clock part is more than max_offset_ms ahead of now_ms. */
int cluster_hlc_observe(cluster_hlc *h, uint64_t remote, uint64_t now_ms, uint64_t max_offset_ms);

/* Results of a replicated write (the `status` of cluster_write_done_fn). */
#define CLUSTER_WRITE_OK 0         /* held by a quorum of voters */
#define CLUSTER_WRITE_TIMEOUT (-1) /* no quorum within write-timeout: outcome unknown */
#define CLUSTER_WRITE_ABORTED (-2) /* the node is shutting down: outcome unknown */

/* A growable byte buffer the server fills with records for repair (cluster_buf_append). */
typedef struct cluster_buf {
    uint8_t *data;
    size_t len, cap;
} cluster_buf;

/* Append n bytes; 0, or -1 when out of memory (the buffer is unchanged). */
int cluster_buf_append(cluster_buf *b, const void *p, size_t n);

/* Anti-entropy digests: SRV-side buckets grouped into CLUSTER_DIGEST_TOPS tops of
 * CLUSTER_DIGEST_LEAVES buckets each. */
#define CLUSTER_DIGEST_TOPS 64
#define CLUSTER_DIGEST_LEAVES 64
#define CLUSTER_DIGEST_BUCKETS (CLUSTER_DIGEST_TOPS * CLUSTER_DIGEST_LEAVES)

/* Where a batch of records comes from (the apply callback's `origin`). */
#define CLUSTER_FROM_LIVE 0   /* a peer's write, just made (REPL) */
#define CLUSTER_FROM_REPAIR 1 /* anti-entropy or bootstrap: possibly old, still live */

/* Peer states as REPRAM NODES and metrics show them. */
enum cluster_peer_state {
    CLUSTER_PEER_CONNECTING = 0, /* no authenticated link yet */
    CLUSTER_PEER_OK = 1,         /* links up, heard from within node-timeout */
    CLUSTER_PEER_PFAIL = 2,      /* silent for node-timeout (our own opinion) */
    CLUSTER_PEER_FAIL = 3        /* a majority of voters agree it is unreachable */
};

typedef struct cluster_config {
    const char *node_name;   /* stable identity of this node (unique in the cluster) */
    const char *cluster_name;/* all members must agree; mixes of clusters are refused */
    int cluster_size;        /* voters, including this node */
    const char *const *bind; /* addresses to listen on for the bus */
    int bind_count;
    int port;                /* bus port */
    const char *const *seeds;/* "host:port" bus addresses of other members (may include self) */
    int seed_count;
    const char *const *members; /* node names of the voters (this node included), or none: */
    int member_count;           /* then the first cluster-size - 1 names to connect are admitted */
    int client_port;         /* RESP port, advertised to peers for REPRAM NODES */
    int http_port;           /* HTTP port, advertised likewise (0 = none) */
    /* authentication: exactly one of (tls files), (secret), (insecure) */
    const char *tls_cert_file, *tls_key_file, *tls_ca_file;
    const char *secret;
    const char *secret_accept; /* optional second secret peers may dial with (rotation) */
    int insecure;
    uint64_t node_timeout_ms;     /* silence before a peer is suspected */
    uint64_t write_timeout_ms;    /* how long a write waits for its quorum */
    uint64_t max_clock_offset_ms; /* frames stamped further ahead of our clock are refused */
    uint64_t ae_interval_ms;      /* anti-entropy round with one peer this often (0 = off) */
    uint64_t grace_ms;            /* tombstone grace: cut off longer than this -> wipe */
    uint64_t repair_bytes_per_s;  /* bandwidth cap of repair and bootstrap streams */
    int start_loading;            /* 1: the node starts empty and must bootstrap */
    size_t max_queue_bytes;       /* per-peer unsent bytes before the link is reset */
    size_t max_frame_bytes;       /* largest frame accepted (checked before allocating) */
    cluster_hlc *hlc;             /* the node's clock, shared with the server */
} cluster_config;

/*
 * Callbacks into the server.  All run on the event-loop thread, from cluster/'s own event
 * callbacks (never re-entrantly from a cluster_* call made by the server).
 */
typedef struct cluster_callbacks {
    void *priv;
    /* Apply a batch of records received from peer `from` (its name, for logging); origin is
     * CLUSTER_FROM_LIVE or CLUSTER_FROM_REPAIR.  Return 0, or a negative value when the batch is
     * malformed: the link is then closed and the error counted. */
    int (*apply)(void *priv, const void *batch, size_t len, const char *from, int origin);
    /* A write submitted with cluster_replicate() has finished; `cookie` is what was passed then
     * (NULL if cancelled).  `acks` is the number of peers that acknowledged it.  It must not call
     * cluster_replicate (defer new writes to the event loop). */
    void (*write_done)(void *priv, void *cookie, int status, int acks);
    /* Wall-clock milliseconds (injectable for tests). */
    uint64_t (*now_ms)(void *priv);
    /* One log line (no trailing newline); level is CLUSTER_LOG_*.  May be NULL. */
    void (*log)(void *priv, int level, const char *msg);
    /* Monotonic milliseconds for every timer (time-outs, silence, back-off), so a step of the
     * wall clock is never mistaken for silence or a stall.  NULL: now_ms is used. */
    uint64_t (*mono_ms)(void *priv);
    /* ---- repair (all may be NULL: anti-entropy and bootstrap are then off) ---- */
    /* The CLUSTER_DIGEST_TOPS top digests of the local keyspace. */
    void (*digest_tops)(void *priv, uint64_t *tops);
    /* The CLUSTER_DIGEST_LEAVES bucket digests under one top. */
    void (*digest_leaves)(void *priv, unsigned top, uint64_t *leaves);
    /* Append to out the live records of the buckets whose bit is set in `buckets`
     * (CLUSTER_DIGEST_BUCKETS bits; NULL = every bucket), continuing the scan at *cursor (0 =
     * start), until out holds about max_bytes.  Sets *cursor to 0 when the scan is complete.
     * Returns 0, or -1 when out of memory. */
    int (*collect)(void *priv, const uint8_t *buckets, uint64_t *cursor, cluster_buf *out,
                   size_t max_bytes);
    /* Bootstrap finished: the node holds what its peers hold and may serve reads. */
    void (*ready)(void *priv);
    /* The node lost contact with every voter for longer than the tombstone grace period: it
     * must drop every entry (without replicating) and wait for a bootstrap (-LOADING). */
    void (*wipe)(void *priv);
} cluster_callbacks;

#define CLUSTER_LOG_DEBUG 0
#define CLUSTER_LOG_VERBOSE 1
#define CLUSTER_LOG_NOTICE 2
#define CLUSTER_LOG_WARNING 3

/*
 * Check the configuration and create the cluster object (no sockets yet).  Returns NULL with a
 * message in err (e.g. "cluster-size is 3 but no authentication is configured: set
 * cluster-secret or cluster-tls-*, or cluster-insecure yes") when it is unusable.
 */
cluster *cluster_create(struct event_base *base, const cluster_config *cfg,
                        const cluster_callbacks *cb, char *err, size_t errlen);

/* Listen on the bus port and start dialling seeds.  0, or -1 with err filled. */
int cluster_start(cluster *cl, char *err, size_t errlen);

/* Stop: every pending write completes with CLUSTER_WRITE_ABORTED, links close.  NULL accepted. */
void cluster_free(cluster *cl);

/* 1 when at least a quorum of voters (this node included) is reachable, so a write may start;
 * 0 means the caller must refuse it (-NOREPLICAS) without applying anything. */
int cluster_can_write(const cluster *cl);

/*
 * Replicate a batch that was just applied locally.  The batch is copied.  Returns the write's
 * sequence number (> 0); write_done(cookie, ...) is called later (never from inside this call,
 * even when no peer is needed, e.g. cluster-size 1).  Returns 0 when out of memory: the write is
 * then not tracked and write_done is not called for it.
 */
uint64_t cluster_replicate(cluster *cl, const void *batch, size_t len, void *cookie);

/* The owner of `cookie` is going away (client closed): write_done will get NULL instead. */
void cluster_cancel(cluster *cl, uint64_t seq);

/* Peers (not counting this node) that acknowledged the write with sequence `seq`; for WAIT. */
int cluster_acks(const cluster *cl, uint64_t seq);

/* Quorum (voters, this node included) a write needs. */
int cluster_quorum(const cluster *cl);

/* ---- status, for REPRAM NODES / STATUS, INFO and metrics */

typedef struct cluster_peer_info {
    const char *name;        /* NULL while the peer is known only by a seed address */
    const char *addr;        /* bus address "host:port" */
    const char *run_id;
    int client_port, http_port;
    enum cluster_peer_state state;
    uint64_t last_heard_ms;  /* wall clock of the last frame from it, 0 = never */
    uint64_t acked_seq;      /* highest of our writes it acknowledged this session */
    size_t queued_bytes;     /* our unsent bytes to it */
    uint64_t lag_ms;         /* age of our oldest write it has not acknowledged */
} cluster_peer_info;

/* Number of peers (members other than this node, plus unresolved seeds). */
int cluster_peer_count(const cluster *cl);

/* Fill *out for peer i (0 <= i < cluster_peer_count).  Pointers are borrowed until the next
 * event-loop turn. */
void cluster_peer_get(const cluster *cl, int i, cluster_peer_info *out);

/* Bootstrap progress (INFO repram, metrics). */
typedef struct cluster_sync_info {
    int loading;                /* 1 until bootstrap completes */
    const char *phase;          /* "waiting", "streaming", "verifying", "done" */
    const char *source;         /* peer streaming to us, or NULL */
    uint64_t records_batches;   /* batches received from it */
    uint64_t bytes;             /* bytes received from it */
    uint64_t started_ms, finished_ms; /* wall clock */
} cluster_sync_info;

void cluster_sync_get(const cluster *cl, cluster_sync_info *out);

typedef struct cluster_stats {
    uint64_t writes_replicated;   /* cluster_replicate calls */
    uint64_t writes_acked;        /* completed with a quorum */
    uint64_t writes_timed_out;
    uint64_t acks_received;
    uint64_t frames_in, frames_out, bytes_in, bytes_out;
    uint64_t frames_rejected;     /* from non-members, before authentication, malformed */
    uint64_t auth_failures;       /* handshakes refused */
    uint64_t clock_rejections;    /* frames stamped beyond max-clock-offset */
    uint64_t link_resets;         /* links dropped for a full queue or silence */
    uint64_t records_applied;     /* batches handed to apply */
    uint64_t ae_rounds;           /* anti-entropy rounds completed (either side) */
    uint64_t ae_rounds_in_sync;   /* ... that found nothing to repair */
    uint64_t ae_buckets_repaired; /* buckets exchanged because they differed */
    uint64_t ae_buckets_settled;  /* differed at a round's first comparison, not at its re-check
                                   * (writes in flight): not exchanged */
    uint64_t ae_rounds_settled;   /* rounds whose differences all settled (also in_sync) */
    uint64_t repair_bytes_out, repair_bytes_in;
    uint64_t syncs_served;        /* bootstrap streams sent to a joining peer */
    uint64_t wipes;               /* times this node wiped itself after a long isolation */
} cluster_stats;

const cluster_stats *cluster_get_stats(const cluster *cl);

/* This node's run id (40 hex characters, new at every start). */
const char *cluster_run_id(const cluster *cl);

/* Tests only (DEBUG BUS-DELAY): hold every frame this node sends for `ms` milliseconds before
 * writing it (0 = off).  Order on each link is kept. */
void cluster_debug_set_bus_delay(cluster *cl, uint64_t ms);

#endif /* CLUSTER_CLUSTER_H */
