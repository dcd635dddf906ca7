/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_cluster.c: replication bookkeeping and quorum accounting of cluster/ (repl.c, with the
 * handshake of core.c): several nodes in one process over the in-memory transport of
 * mock_transport.c, with a fake clock.  Membership, failure detection and admission are in
 * test_membership.c.
 *
 * Timing used throughout: node-timeout 1000 ms (so pings every 250 ms, stall threshold 500 ms),
 * write-timeout 2000 ms, max-clock-offset 500 ms; mnet_run steps the clock 10 ms at a time, as
 * the bus's 10 ms tick does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/tests/cluster_test_support.h"

/* ---- forming a cluster */

static void test_form_three_with_self_in_seeds(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    assert_healthy(3);
    for (int i = 0; i < 3; i++) {
        /* the seed that is this node was recognised and is not listed as a peer */
        assert_int_equal(cluster_peer_count(CL(i)), 2);
        int self = 0;
        for (int k = 0; k < CL(i)->npeers; k++) self += CL(i)->peers[k]->is_self;
        assert_int_equal(self, 1);
        assert_int_equal(ST(i)->auth_failures, 0);
        assert_int_equal(ST(i)->clock_rejections, 0);
        assert_int_equal(cluster_quorum(CL(i)), 2);
        /* peers carry what their HELLO said */
        for (int k = 0; k < 2; k++) {
            cluster_peer_info pi;
            cluster_peer_get(CL(i), k, &pi);
            assert_non_null(pi.name);
            assert_int_equal(strlen(pi.run_id), 40);
            int idx = pi.name[0] - 'a';
            assert_int_equal(pi.client_port, 6000 + idx);
            assert_string_equal(pi.addr, net.nodes[idx].addr);
            assert_true(pi.last_heard_ms > 0);
        }
        assert_int_equal(strlen(cluster_run_id(CL(i))), 40);
    }
    assert_string_not_equal(cluster_run_id(CL(A)), cluster_run_id(CL(B)));
    /* the self seed is not dialled again and again */
    int dials = net.nodes[A].dials;
    mnet_run(&net, 5000, 10);
    assert_int_equal(net.nodes[A].dials, dials);
    assert_healthy(3);
}

static void test_form_five_from_one_seed(void **state)
{
    (void)state;
    /* every node knows only the first one: the rest is learned from gossip */
    for (int i = 0; i < 5; i++) mnet_add(&net, NAMES[i]);
    for (int i = 0; i < 5; i++) {
        cluster_config cfg;
        mnet_config(&net, i, 5, &cfg);
        cfg.seed_count = 1;
        assert_int_equal(mnet_start(&net, i, &cfg), 0);
    }
    mnet_run(&net, 3000, 10);
    assert_healthy(5);
    for (int i = 0; i < 5; i++) assert_int_equal(cluster_quorum(CL(i)), 3);
}

/* ---- quorum accounting */

static void test_write_completes_only_after_acks(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    int cookie = 0;
    mnet_block(&net, B, A, 1);
    mnet_block(&net, C, A, 1);
    uint64_t seq = write_at(A, "set k1 v1", &cookie);
    assert_int_equal(net.nodes[A].ndone, 0); /* never from inside cluster_replicate */
    mnet_pump(&net);
    /* both peers applied it, but no ACK reached A: still waiting */
    assert_int_equal(net.nodes[B].applied, 1);
    assert_int_equal(net.nodes[C].applied, 1);
    assert_int_equal(net.nodes[B].last_batch_len, 9);
    assert_memory_equal(net.nodes[B].last_batch, "set k1 v1", 9);
    assert_int_equal(net.nodes[A].ndone, 0);
    assert_int_equal(cluster_acks(CL(A), seq), 0);
    /* B's ACK: self + B = 2 = quorum */
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 1);
    assert_ptr_equal(net.nodes[A].done[0].cookie, &cookie);
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_OK);
    assert_int_equal(net.nodes[A].done[0].acks, 1);
    assert_int_equal(cluster_acks(CL(A), seq), 1);
    /* C's ACK arrives later: WAIT would now see 2 */
    mnet_block(&net, C, A, 0);
    mnet_pump(&net);
    assert_int_equal(cluster_acks(CL(A), seq), 2);
    assert_int_equal(net.nodes[A].ndone, 1);
    assert_int_equal(ST(A)->writes_replicated, 1);
    assert_int_equal(ST(A)->writes_acked, 1);
    assert_int_equal(ST(A)->acks_received, 2);
    assert_int_equal(ST(B)->records_applied, 1);
}

static void test_five_nodes_need_two_acks(void **state)
{
    (void)state;
    form(5, 5, 5, 2000);
    for (int i = B; i <= E; i++) mnet_block(&net, i, A, 1);
    int cookie = 0;
    uint64_t seq = write_at(A, "w", &cookie);
    mnet_pump(&net);
    for (int i = B; i <= E; i++) assert_int_equal(net.nodes[i].applied, 1);
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(cluster_acks(CL(A), seq), 1);
    assert_int_equal(net.nodes[A].ndone, 0); /* 2 of 5 is not a majority */
    mnet_block(&net, C, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 1);
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_OK);
    assert_int_equal(net.nodes[A].done[0].acks, 2);
}

static void test_quorum_counts_configured_size(void **state)
{
    (void)state;
    /* five voters configured, only A and B running: 2 of 5 reachable */
    form(5, 2, 5, 2000);
    assert_int_equal(mnet_state(&net, A, "b"), CLUSTER_PEER_OK);
    assert_int_equal(cluster_quorum(CL(A)), 3);
    assert_int_equal(cluster_can_write(CL(A)), 0);
    assert_int_equal(cluster_can_write(CL(B)), 0);
    /* a write forced through anyway: B acknowledges, which is not enough, ever */
    int cookie = 0;
    uint64_t seq = write_at(A, "w", &cookie);
    mnet_run(&net, 1990, 10);
    assert_int_equal(net.nodes[B].applied, 1);
    assert_int_equal(cluster_acks(CL(A), seq), 1);
    assert_int_equal(net.nodes[A].ndone, 0);
    mnet_run(&net, 20, 10);
    assert_int_equal(net.nodes[A].ndone, 1);
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_TIMEOUT);
    assert_int_equal(net.nodes[A].done[0].acks, 1);
    assert_int_equal(ST(A)->writes_timed_out, 1);
    assert_int_equal(ST(A)->writes_acked, 0);
    /* a third voter joins: now writes complete */
    cluster_config cfg;
    mnet_config(&net, C, 5, &cfg);
    assert_int_equal(mnet_start(&net, C, &cfg), 0);
    mnet_run(&net, 1000, 10);
    assert_int_equal(cluster_can_write(CL(A)), 1);
    write_at(A, "w2", &cookie);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 2);
    assert_int_equal(net.nodes[A].done[1].status, CLUSTER_WRITE_OK);
    assert_int_equal(net.nodes[A].done[1].acks, 2);
    /* and losing two of the three again (partitioned away) stops them */
    mnet_isolate(&net, A, 1);
    mnet_run(&net, 1100, 10);
    assert_int_equal(cluster_can_write(CL(A)), 0);
}

static void test_cumulative_acks_complete_in_order(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    mnet_block(&net, B, A, 1);
    mnet_block(&net, C, A, 1);
    int cookies[3] = {0};
    uint64_t s1 = write_at(A, "one", &cookies[0]);
    uint64_t s2 = write_at(A, "two", &cookies[1]);
    uint64_t s3 = write_at(A, "three", &cookies[2]);
    assert_true(s1 < s2 && s2 < s3);
    uint64_t frames_before = ST(B)->frames_out;
    mnet_pump(&net);
    assert_int_equal(net.nodes[B].applied, 3);
    /* one cumulative ACK for the three batches read together */
    assert_int_equal(ST(B)->frames_out - frames_before, 1);
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 3);
    for (int i = 0; i < 3; i++) {
        assert_ptr_equal(net.nodes[A].done[i].cookie, &cookies[i]);
        assert_int_equal(net.nodes[A].done[i].status, CLUSTER_WRITE_OK);
    }
    assert_int_equal(ST(A)->acks_received, 1);
    mnet_block(&net, C, A, 0);
    mnet_pump(&net);
    assert_int_equal(cluster_acks(CL(A), s2), 2);
}

static void test_head_of_line_completion_order(void **state)
{
    (void)state;
    /* A later write that has its quorum waits for the earlier one: replies keep order */
    form(3, 3, 3, 1000);
    mnet_block(&net, B, A, 1);
    mnet_block(&net, C, A, 1);
    int c1 = 1, c2 = 2;
    write_at(A, "first", &c1);
    mnet_pump(&net);
    write_at(A, "second", &c2);
    mnet_pump(&net);
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 2);
    assert_ptr_equal(net.nodes[A].done[0].cookie, &c1);
    assert_ptr_equal(net.nodes[A].done[1].cookie, &c2);
}

static void test_session_accounting(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    /* Only B can acknowledge; A -> B bytes are held, so B never sees w1. */
    mnet_partition(&net, A, C, 1);
    mnet_block(&net, A, B, 1);
    int c1 = 1, c2 = 2;
    uint64_t w1 = write_at(A, "w1", &c1);
    mnet_pump(&net);
    assert_int_equal(net.nodes[B].applied, 0);
    /* the link resets: w1 is lost with it */
    mnet_sever(&net, A, B);
    mnet_block(&net, A, B, 0);
    mnet_run(&net, 300, 10); /* re-dial after the 100 ms back-off, new session */
    assert_true(out_ready(A, "b"));
    cl_peer *pb = mnet_peer(&net, A, "b");
    assert_true(pb->session_start > w1);
    uint64_t w2 = write_at(A, "w2", &c2);
    mnet_pump(&net);
    /* B acknowledged "everything up to w2 on this link": that says nothing about w1 */
    assert_int_equal(net.nodes[B].applied, 1);
    assert_memory_equal(net.nodes[B].last_batch, "w2", 2);
    assert_true(pb->acked_seq >= w2);
    assert_int_equal(cluster_acks(CL(A), w2), 1);
    assert_int_equal(cluster_acks(CL(A), w1), 0);
    /* w2 has its quorum: it is answered at once, without waiting behind w1 */
    assert_int_equal(net.nodes[A].ndone, 1);
    assert_ptr_equal(net.nodes[A].done[0].cookie, &c2);
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_OK);
    /* w1 times out (outcome unknown) */
    mnet_run(&net, 2000, 10);
    assert_int_equal(net.nodes[A].ndone, 2);
    assert_ptr_equal(net.nodes[A].done[1].cookie, &c1);
    assert_int_equal(net.nodes[A].done[1].status, CLUSTER_WRITE_TIMEOUT);
    assert_int_equal(net.nodes[A].done[1].acks, 0);
}

static void test_session_ack_lost_with_link(void **state)
{
    (void)state;
    /* B applied w1 but its ACK died with the connection: w1 is indeterminate, never OK */
    form(3, 3, 3, 1000);
    mnet_partition(&net, A, C, 1);
    mnet_block(&net, B, A, 1);
    int c1 = 1;
    uint64_t w1 = write_at(A, "w1", &c1);
    mnet_pump(&net);
    assert_int_equal(net.nodes[B].applied, 1);
    mnet_sever(&net, A, B);
    mnet_block(&net, B, A, 0);
    mnet_run(&net, 2100, 10);
    assert_int_equal(cluster_acks(CL(A), w1), 0);
    assert_int_equal(net.nodes[A].ndone, 1);
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_TIMEOUT);
}

static void test_pending_ring_grows_and_wraps(void **state)
{
    (void)state;
    /* the pending-write FIFO starts with 256 slots: wrap it, grow it while wrapped, cancel
     * across the wrap; completions stay in sequence order */
    form(3, 3, 3, 1000);
    static int tags[600];
    mnet_block(&net, B, A, 1);
    mnet_block(&net, C, A, 1);
    for (int i = 0; i < 200; i++) write_at(A, "x", &tags[i]);
    mnet_pump(&net);
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 200);
    mnet_block(&net, B, A, 1);
    uint64_t seqs[400];
    for (int i = 0; i < 400; i++) seqs[i] = write_at(A, "y", &tags[200 + i]);
    cluster_cancel(CL(A), seqs[10]);  /* in the part that wrapped before the growth */
    cluster_cancel(CL(A), seqs[300]); /* beyond the old capacity */
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 200);
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 600);
    for (int i = 0; i < 600; i++) {
        void *want = (i == 210 || i == 500) ? NULL : &tags[i];
        assert_ptr_equal(net.nodes[A].done[i].cookie, want);
        assert_int_equal(net.nodes[A].done[i].status, CLUSTER_WRITE_OK);
    }
}

static void test_cancel(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    mnet_block(&net, B, A, 1);
    mnet_block(&net, C, A, 1);
    int c1 = 1, c2 = 2, c3 = 3;
    uint64_t s1 = write_at(A, "1", &c1);
    uint64_t s2 = write_at(A, "2", &c2);
    uint64_t s3 = write_at(A, "3", &c3);
    cluster_cancel(CL(A), s2);
    cluster_cancel(CL(A), 9999); /* unknown: ignored */
    cluster_cancel(CL(A), 0);
    mnet_pump(&net);
    mnet_block(&net, B, A, 0);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].ndone, 3);
    assert_ptr_equal(net.nodes[A].done[0].cookie, &c1);
    assert_null(net.nodes[A].done[1].cookie); /* the client went away */
    assert_int_equal(net.nodes[A].done[1].status, CLUSTER_WRITE_OK);
    assert_ptr_equal(net.nodes[A].done[2].cookie, &c3);
    /* cancelling a completed write changes nothing */
    cluster_cancel(CL(A), s1);
    cluster_cancel(CL(A), s3);
    mnet_run(&net, 100, 10);
    assert_int_equal(net.nodes[A].ndone, 3);
}

static void test_single_node_completes_on_wake(void **state)
{
    (void)state;
    mnet_add(&net, "solo");
    cluster_config cfg;
    mnet_config(&net, 0, 1, &cfg);
    cfg.seed_count = 0;
    assert_int_equal(mnet_start(&net, 0, &cfg), 0);
    assert_int_equal(cluster_quorum(CL(0)), 1);
    assert_int_equal(cluster_can_write(CL(0)), 1);
    int c = 0;
    write_at(0, "x", &c);
    assert_int_equal(net.nodes[0].ndone, 0);
    assert_int_equal(net.nodes[0].wake_pending, 1);
    mnet_pump(&net);
    assert_int_equal(net.nodes[0].ndone, 1);
    assert_int_equal(net.nodes[0].done[0].status, CLUSTER_WRITE_OK);
    assert_int_equal(net.nodes[0].done[0].acks, 0);
}

static void test_shutdown_aborts_pending(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    mnet_block(&net, B, A, 1);
    mnet_block(&net, C, A, 1);
    int c1 = 1, c2 = 2;
    write_at(A, "1", &c1);
    write_at(A, "2", &c2);
    mnet_pump(&net);
    mnet_kill(&net, A);
    assert_int_equal(net.nodes[A].ndone, 2);
    assert_ptr_equal(net.nodes[A].done[0].cookie, &c1);
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_ABORTED);
    assert_int_equal(net.nodes[A].done[1].status, CLUSTER_WRITE_ABORTED);
    /* the others notice */
    mnet_block(&net, B, A, 0);
    mnet_block(&net, C, A, 0);
    mnet_run(&net, 1500, 10);
    assert_true(mnet_state(&net, B, "a") == CLUSTER_PEER_PFAIL ||
                mnet_state(&net, B, "a") == CLUSTER_PEER_FAIL);
}

static void test_apply_failure_closes_link(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    net.nodes[B].apply_fail = 1;
    uint64_t rejected = ST(B)->frames_rejected;
    int c = 0;
    uint64_t seq = write_at(A, "bad", &c);
    mnet_pump(&net);
    assert_int_equal(ST(B)->frames_rejected, rejected + 1);
    assert_null(mnet_peer(&net, B, "a")->in); /* the link it came on is closed */
    assert_int_equal(net.nodes[A].ndone, 1); /* C's ACK suffices */
    assert_int_equal(net.nodes[A].done[0].status, CLUSTER_WRITE_OK);
    assert_int_equal(cluster_acks(CL(A), seq), 1);
    net.nodes[B].apply_fail = 0;
    mnet_run(&net, 1000, 10);
    assert_healthy(3);
}

/* ---- clocks and queues */

static void test_clock_offset_refused(void **state)
{
    (void)state;
    form(3, 3, 3, 1000);
    /* C's wall clock runs 2 s ahead, over max-clock-offset (500 ms) */
    net.nodes[C].skew_ms = 2000;
    int ck = 0;
    uint64_t seq = write_at(C, "from the future", &ck);
    (void)seq;
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].applied, 0);
    assert_int_equal(net.nodes[B].applied, 0);
    assert_true(ST(A)->clock_rejections >= 1);
    assert_true(ST(B)->clock_rejections >= 1);
    /* A's clock was not dragged into the future */
    assert_true(CLUSTER_HLC_MS(net.nodes[A].hlc.last) <= net.now_ms + 500);
    /* Everything C sends now carries its clock: A stops hearing it and suspects it (a
     * re-dialled handshake makes it look alive again for a moment, which is harmless: its
     * REPLs and ACKs are refused all the same). */
    int saw_suspect = 0;
    for (int t = 0; t < 210; t++) {
        mnet_run(&net, 10, 10);
        if (mnet_state(&net, A, "c") != CLUSTER_PEER_OK) saw_suspect = 1;
    }
    assert_true(saw_suspect);
    /* C's write never reached a quorum, and nobody else applied it */
    assert_int_equal(net.nodes[C].ndone, 1);
    assert_int_equal(net.nodes[C].done[0].status, CLUSTER_WRITE_TIMEOUT);
    assert_int_equal(net.nodes[A].applied, 0);
    assert_int_equal(net.nodes[B].applied, 0);
    assert_true(CLUSTER_HLC_MS(net.nodes[B].hlc.last) <= net.now_ms + 500);
}

static void test_clock_ahead_refused_while_idle(void **state)
{
    (void)state;
    /* C's clock jumps 2 s ahead and C writes nothing: its PINGs and PONGs carry its clock all
     * the same, so A and B refuse them and stop hearing it, without being dragged forward */
    form(3, 3, 3, 1000);
    net.nodes[C].skew_ms = 2000;
    mnet_run(&net, 1500, 10);
    assert_true(ST(A)->clock_rejections >= 1);
    assert_true(ST(B)->clock_rejections >= 1);
    assert_int_not_equal(mnet_state(&net, A, "c"), CLUSTER_PEER_OK);
    assert_int_not_equal(mnet_state(&net, B, "c"), CLUSTER_PEER_OK);
    assert_int_equal(mnet_state(&net, A, "b"), CLUSTER_PEER_OK);
    assert_true(CLUSTER_HLC_MS(net.nodes[A].hlc.last) <= net.now_ms + 500);
    assert_true(CLUSTER_HLC_MS(net.nodes[B].hlc.last) <= net.now_ms + 500);
    /* a node that starts with its clock ahead is refused at the handshake: it never joins */
    mnet_kill(&net, C);
    mnet_run(&net, 2000, 10);
    uint64_t rej = ST(A)->clock_rejections;
    cluster_config cfg;
    mnet_config(&net, C, 3, &cfg);
    assert_int_equal(mnet_start(&net, C, &cfg), 0);
    for (int t = 0; t < 300; t++) {
        mnet_run(&net, 10, 10);
        assert_int_not_equal(mnet_state(&net, A, "c"), CLUSTER_PEER_OK);
        assert_int_not_equal(mnet_state(&net, B, "c"), CLUSTER_PEER_OK);
    }
    assert_true(ST(A)->clock_rejections > rej);
    assert_int_equal(cluster_can_write(CL(C)), 0);
    /* its clock put right, it joins */
    net.nodes[C].skew_ms = 0;
    mnet_run(&net, 6000, 10);
    assert_healthy(3);
}

static void test_clock_rejected_repl_never_acked(void **state)
{
    (void)state;
    /* A REPL refused for its clock must not be covered by a later cumulative ACK. */
    form(3, 3, 3, 1000);
    net.nodes[C].skew_ms = 600; /* 100 ms over the limit */
    int c1 = 1, c2 = 2;
    write_at(C, "w1", &c1);
    mnet_pump(&net);
    assert_int_equal(net.nodes[A].applied, 0);
    assert_int_equal(net.nodes[B].applied, 0);
    /* 200 ms later C's clock is fixed; its next version is still at its last ms (400 ms
     * ahead now), which is within the limit */
    net.nodes[C].skew_ms = 0;
    mnet_advance(&net, 200);
    write_at(C, "w2", &c2);
    mnet_pump(&net);
    mnet_run(&net, 2500, 10);
    assert_int_equal(net.nodes[C].ndone, 2);
    /* nobody but C holds w1: it must not be answered OK (w2 may complete before it) */
    int i1 = net.nodes[C].done[0].cookie == &c1 ? 0 : 1;
    assert_ptr_equal(net.nodes[C].done[i1].cookie, &c1);
    assert_int_not_equal(net.nodes[C].done[i1].status, CLUSTER_WRITE_OK);
}

static void test_queue_limit_resets_link(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) mnet_add(&net, NAMES[i]);
    for (int i = 0; i < 3; i++) {
        cluster_config cfg;
        mnet_config(&net, i, 3, &cfg);
        cfg.max_queue_bytes = 4096;
        assert_int_equal(mnet_start(&net, i, &cfg), 0);
    }
    mnet_run(&net, 1000, 10);
    mnet_block(&net, A, B, 1); /* B stops reading (bytes pile up in A's queue) */
    char big[600];
    memset(big, 'v', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    int ck = 0;
    for (int i = 0; i < 10; i++) write_at(A, big, &ck);
    mnet_pump(&net);
    assert_true(mnet_peer(&net, A, "b")->out != NULL);
    mnet_run(&net, 20, 10);
    assert_int_equal(ST(A)->link_resets, 1);
    assert_false(out_ready(A, "b"));
    assert_int_equal(net.nodes[A].ndone, 10); /* C acknowledged them all */
    mnet_block(&net, A, B, 0);
    mnet_run(&net, 3000, 10);
    assert_healthy(3);
}

/* A deterministic stream of random frames on an identified link: no crash, no overrun. */
static void test_config_checks(void **state)
{
    (void)state;
    mnet_add(&net, "a");
    cluster_config cfg;
    char err[256];
    cluster_callbacks cb = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    /* no authentication */
    mnet_config(&net, 0, 3, &cfg);
    cfg.insecure = 0;
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "cluster-secret"));
    assert_non_null(strstr(err, "cluster-insecure"));
    /* a short secret */
    cfg.secret = "short";
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "16"));
    /* a second secret without a first, or a short one */
    cfg.secret = NULL;
    cfg.secret_accept = "0123456789abcdef0123";
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "cluster-secret-accept needs cluster-secret"));
    cfg.secret = "0123456789abcdef0123";
    cfg.secret_accept = "short";
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "cluster-secret-accept must be at least 16"));
    cfg.secret_accept = NULL;
    /* half a TLS configuration */
    cfg.secret = NULL;
    cfg.tls_cert_file = "/x/cert.pem";
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "cluster-tls-key-file"));
    /* both a secret and TLS */
    cfg.tls_key_file = "/x/key.pem";
    cfg.tls_ca_file = "/x/ca.pem";
    cfg.secret = "0123456789abcdef0123";
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "either"));
    /* no node name, bad sizes */
    mnet_config(&net, 0, 3, &cfg);
    cfg.node_name = "";
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "node-name"));
    mnet_config(&net, 0, 0, &cfg);
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
    assert_non_null(strstr(err, "cluster-size"));
    mnet_config(&net, 0, 65, &cfg);
    assert_null(cluster_create(NULL, &cfg, &cb, err, sizeof err));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_form_three_with_self_in_seeds),
        T(test_form_five_from_one_seed),
        T(test_write_completes_only_after_acks),
        T(test_five_nodes_need_two_acks),
        T(test_quorum_counts_configured_size),
        T(test_cumulative_acks_complete_in_order),
        T(test_head_of_line_completion_order),
        T(test_session_accounting),
        T(test_session_ack_lost_with_link),
        T(test_cancel),
        T(test_pending_ring_grows_and_wraps),
        T(test_single_node_completes_on_wake),
        T(test_shutdown_aborts_pending),
        T(test_apply_failure_closes_link),
        T(test_clock_offset_refused),
        T(test_clock_ahead_refused_while_idle),
        T(test_clock_rejected_repl_never_acked),
        T(test_queue_limit_resets_link),
        T(test_config_checks),
    };
#undef T
    return cmocka_run_group_tests_name("cluster replication", tests, NULL, NULL);
}
