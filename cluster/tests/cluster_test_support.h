/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster_test_support.h: what test_cluster.c and test_membership.c share: one network per
 * test (set up and torn down by cmocka), node names, and small helpers.  Include after
 * <cmocka.h>; every function is static inline, so each test binary has its own copy.
 */
#ifndef CLUSTER_TESTS_CLUSTER_TEST_SUPPORT_H
#define CLUSTER_TESTS_CLUSTER_TEST_SUPPORT_H

#include <stdlib.h>
#include <string.h>

#include "cluster/tests/mock_transport.h"

enum { A, B, C, D, E, F };
static const char *const NAMES[] = {"a", "b", "c", "d", "e", "f", "g", "h"};

static mnet net;

static inline int setup(void **state)
{
    (void)state;
    mnet_init(&net);
    net.verbose = getenv("MNET_VERBOSE") != NULL;
    return 0;
}

static inline int teardown(void **state)
{
    (void)state;
    mnet_free(&net);
    return 0;
}

/* Declare `declared` nodes, start the first `count` with cluster-size `size`, let them talk. */
static inline void form(int declared, int count, int size, uint64_t run_ms)
{
    for (int i = 0; i < declared; i++) mnet_add(&net, NAMES[i]);
    mnet_start_all(&net, count, size);
    mnet_run(&net, run_ms, 10);
}

static inline cluster *CL(int i) { return net.nodes[i].cl; }
static inline const cluster_stats *ST(int i) { return cluster_get_stats(net.nodes[i].cl); }
static inline uint64_t now_of(int i) { return net.now_ms + (uint64_t)net.nodes[i].skew_ms; }

/* What the server does for a write: stamp a version, then replicate the batch. */
static inline uint64_t write_at(int i, const char *payload, void *cookie)
{
    (void)cluster_hlc_next(&net.nodes[i].hlc, now_of(i));
    uint64_t seq = cluster_replicate(CL(i), payload, strlen(payload), cookie);
    assert_true(seq > 0);
    return seq;
}

static inline int named_peers_ok(int i)
{
    int n = 0;
    for (int k = 0; k < cluster_peer_count(CL(i)); k++) {
        cluster_peer_info pi;
        cluster_peer_get(CL(i), k, &pi);
        if (pi.name && pi.state == CLUSTER_PEER_OK) n++;
    }
    return n;
}

static inline int out_ready(int i, const char *name)
{
    cl_peer *p = mnet_peer(&net, i, name);
    return p && p->out && p->out->state == CL_LINK_READY;
}

static inline void assert_healthy(int count)
{
    for (int i = 0; i < count; i++) {
        assert_int_equal(named_peers_ok(i), count - 1);
        for (int k = 0; k < count; k++)
            if (k != i) {
                assert_int_equal(mnet_state(&net, i, NAMES[k]), CLUSTER_PEER_OK);
                assert_true(out_ready(i, NAMES[k]));
            }
        assert_int_equal(cluster_can_write(CL(i)), 1);
    }
}

static inline int logged(int i, const char *needle) { return strstr(net.nodes[i].last_log, needle) != NULL; }

#endif /* CLUSTER_TESTS_CLUSTER_TEST_SUPPORT_H */
