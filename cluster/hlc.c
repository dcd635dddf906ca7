/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * hlc.c: the hybrid logical clock that versions every write (see cluster.h).
 *
 * How it works: a version is (ms << 16) | (counter << 4) | tag.  A local write takes
 * max(now, last) in the millisecond part; within one millisecond the 12-bit counter advances; when
 * it would overflow (4096 writes in one ms on one node) the clock borrows the next millisecond,
 * which the wall clock soon catches up with.  Observing a peer's version raises `last` to it, so
 * every later local version is larger than anything this node has seen: a write that follows
 * another causally (through any chain of nodes) always gets the larger version.
 *
 * What can go wrong: a peer whose wall clock runs ahead would drag every clock in the cluster
 * forward.  cluster_hlc_observe refuses versions more than max-offset ahead of our wall clock;
 * the caller drops such frames and counts them.  Frames are stamped with cluster_hlc_peek (our
 * clock read now), not with the last version alone: a node that has just started, or writes
 * nothing, would otherwise send old stamps and be taken in however far its clock runs ahead.
 * Within that bound, writes to one key through two different nodes closer together than the skew
 * may be ordered against real time: this is the documented cost of last-writer-wins.
 */
#include "cluster/cluster.h"

void cluster_hlc_init(cluster_hlc *h, unsigned tag)
{
    h->last = 0;
    h->tag = tag & 15u;
}

uint64_t cluster_hlc_next(cluster_hlc *h, uint64_t now_ms)
{
    uint64_t wall = now_ms << 16;
    /* A new millisecond starts the counter at 0; otherwise advance the counter past `last`
     * (bits 4..15), which carries into the millisecond part when the counter is exhausted.
     * Either way the result, with the tag in bits 0..3, is greater than `last`. */
    uint64_t v = wall > h->last ? wall : (h->last | 15u) + 1;
    h->last = v | h->tag;
    return h->last;
}

uint64_t cluster_hlc_peek(const cluster_hlc *h, uint64_t now_ms)
{
    uint64_t wall = now_ms << 16;
    return wall > h->last ? wall : h->last;
}

int cluster_hlc_observe(cluster_hlc *h, uint64_t remote, uint64_t now_ms, uint64_t max_offset_ms)
{
    if (CLUSTER_HLC_MS(remote) > now_ms + max_offset_ms) return -1;
    if (remote > h->last) h->last = remote;
    return 0;
}
