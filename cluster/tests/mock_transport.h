/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mock_transport.h: an in-memory network of cluster nodes for unit tests (mock_transport.c).
 *
 * Every node is a real `cluster` created with cl_create_with_transport; links are pairs of byte
 * queues.  Nothing happens by itself: the test advances a fake clock (mnet_run, mnet_advance),
 * ticks nodes (mnet_tick) and pumps the network (mnet_pump), which completes connects, delivers
 * the queued bytes as frames through cl_core_frame/cl_core_batch_end, and delivers closes.  A
 * partition matrix holds bytes (as TCP would, retransmitting) and refuses new connections
 * between chosen nodes; mnet_sever cuts existing connections like a reset.
 *
 * Each node's callbacks record what the cluster told the "server": batches applied, writes
 * completed (cookie, status, acks), log lines.  Frames are delivered from heap blocks of exactly
 * their size, so an out-of-bounds read in the core is caught by valgrind or ASan.
 */
#ifndef CLUSTER_TESTS_MOCK_TRANSPORT_H
#define CLUSTER_TESTS_MOCK_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cluster/cluster_internal.h"
#include "cluster/tests/mock_store.h"

#define MNET_MAX_NODES 8
#define MNET_MAX_DONE 1024
#define MNET_T0 1790000000000ull

struct mnet;

typedef struct mnet_done {
    void *cookie;
    int status;
    int acks;
} mnet_done;

typedef struct mnet_node {
    struct mnet *net;
    int idx;
    cluster *cl;           /* NULL when not running */
    cluster_hlc hlc;
    char name[64];
    char addr[64];         /* "10.0.0.<idx+1>:7000" */
    char ip[32];
    char cert_name[64];    /* mTLS simulation: the name its certificate covers ("" = its name) */
    int64_t skew_ms;       /* this node's wall clock = net clock + skew */
    int paused;            /* SIGSTOP: no ticks, receives nothing, accepts nothing */
    int apply_fail;        /* the apply callback returns -1 */
    int dial_fail;         /* its dials fail at once (e.g. its outbound traffic is filtered) */
    mstore *store;         /* set before mnet_start: repair on, records applied to this store */
    int tick_cost_ms;      /* time that passes while its tick runs (seen by callbacks within) */
    int in_tick;
    /* what the cluster reported */
    int applied;
    uint8_t last_batch[512];
    size_t last_batch_len;
    int ndone;             /* completions; the first MNET_MAX_DONE are in done[] */
    mnet_done done[MNET_MAX_DONE];
    int dials;             /* transport dial calls */
    int frames_rx[CL_TYPE_MAX + 1]; /* frames delivered to it, by type */
    int wake_pending;
    int nlog;
    int nlog_stalled;      /* lines saying this node's own loop stalled */
    char last_log[256];
    char err[256];         /* from cluster_create */
} mnet_node;

typedef struct mconn mconn;

typedef struct mnet {
    uint64_t now_ms;
    int n;
    mnet_node nodes[MNET_MAX_NODES];
    int blocked[MNET_MAX_NODES][MNET_MAX_NODES]; /* 1: bytes from i to j are held, i<->j dials refused */
    int mtls;              /* name_ok checks cert_name */
    int verbose;           /* print log lines */
    mconn *conns;
    int connects, refused; /* counters */
} mnet;

/* A test-controlled endpoint connected to a node's bus (a hand-written peer). */
typedef struct mraw mraw;

void mnet_init(mnet *net);
/* Stop every node and free everything. */
void mnet_free(mnet *net);

/* Declare a node (no cluster yet); returns its index. */
int mnet_add(mnet *net, const char *name);
/* Defaults: cluster "test", size `size`, insecure, seeds = every declared node's address
 * (including its own), node-timeout 1000, write-timeout 2000, max-clock-offset 500. */
void mnet_config(mnet *net, int idx, int size, cluster_config *cfg);
/* Create the node's cluster from cfg; 0, or -1 with node->err set. */
int mnet_start(mnet *net, int idx, const cluster_config *cfg);
/* mnet_config + mnet_start for nodes 0..count-1, each with cluster-size `size`. */
void mnet_start_all(mnet *net, int count, int size);
/* kill -9: free the node's cluster; its connections see EOF. */
void mnet_kill(mnet *net, int idx);

/* Tick every running, unpaused node at its own clock. */
void mnet_tick(mnet *net);
/* Deliver until nothing moves (bounded). */
void mnet_pump(mnet *net);
/* Advance the clock by `ms` in steps of `step` ms, ticking and pumping at each step. */
void mnet_run(mnet *net, uint64_t ms, uint64_t step);
/* Advance the clock without ticking anyone. */
void mnet_advance(mnet *net, uint64_t ms);

/* Partition control. */
void mnet_block(mnet *net, int from, int to, int on);   /* one direction */
void mnet_partition(mnet *net, int a, int b, int on);   /* both directions */
void mnet_isolate(mnet *net, int a, int on);            /* a from everyone */
/* Reset every connection between a and b now (queued bytes are lost). */
void mnet_sever(mnet *net, int a, int b);

/* The peer entry named `name` on node idx (NULL when unknown). */
cl_peer *mnet_peer(mnet *net, int idx, const char *name);
/* Its state, or -1 when unknown. */
int mnet_state(mnet *net, int idx, const char *name);
/* Bytes in flight (all queues). */
size_t mnet_inflight(const mnet *net);

/* Raw endpoints: connect to node dst's bus as a hand-written peer with IP `ip`. */
mraw *mnet_raw_connect(mnet *net, int dst, const char *ip);
void mnet_raw_send(mraw *r, const void *p, size_t n);
/* Send a built frame. */
void mnet_raw_send_frame(mraw *r, cl_wbuf *w);
/* 1 when the node closed the connection (or it never came up). */
int mnet_raw_closed(const mraw *r);
/* Bytes the node sent to the raw endpoint so far (borrowed; valid until the next pump). */
const uint8_t *mnet_raw_received(const mraw *r, size_t *n);
void mnet_raw_close(mraw *r);

#endif /* CLUSTER_TESTS_MOCK_TRANSPORT_H */
