/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sync.c: repair (sync.c): bootstrap of an empty node, anti-entropy after a partition, the
 * confirmation of differences before they are repaired, the wipe after an isolation longer than
 * the tombstone grace, and the timer arithmetic around them.
 * Nodes run over the in-memory transport with a mock keyspace each (mock_store.h), fake clock.
 *
 * Timing: node-timeout 1000 ms, ae-interval 100 ms, tombstone grace 2000 ms unless a test says
 * otherwise; mnet_run steps the clock 10 ms at a time.
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

#define GRACE_MS 2000
#define TTL_MS 600000

static mstore stores[MNET_MAX_NODES];

/* Start node i (declared already) with an empty store, repair at `bytes_per_s`. */
static void start_at(int i, int size, uint64_t bytes_per_s)
{
    cluster_config cfg;
    mnet_config(&net, i, size, &cfg);
    cfg.ae_interval_ms = 100;
    cfg.grace_ms = GRACE_MS;
    cfg.repair_bytes_per_s = bytes_per_s;
    cfg.start_loading = 1;
    memset(&stores[i], 0, sizeof stores[i]);
    net.nodes[i].store = &stores[i];
    assert_int_equal(mnet_start(&net, i, &cfg), 0);
}

static void start_one(int i, int size) { start_at(i, size, 1u << 20); }

/* Declare `declared` nodes and start the first `count`, repair at `bytes_per_s`. */
static void form_at(int declared, int count, int size, uint64_t bytes_per_s)
{
    for (int i = 0; i < declared; i++) {
        mnet_add(&net, NAMES[i]);
        memset(&stores[i], 0, sizeof stores[i]);
        net.nodes[i].store = &stores[i];
    }
    for (int i = 0; i < count; i++) start_at(i, size, bytes_per_s);
}

static void form_repair(int declared, int count, int size) { form_at(declared, count, size, 1u << 20); }

/* A local write on node i, replicated as the server would (tomb: a delete). */
static void put(int i, const char *key, const char *val, int tomb)
{
    uint64_t v = cluster_hlc_next(&net.nodes[i].hlc, now_of(i));
    mstore_put(&stores[i], key, val, v, now_of(i) + (tomb ? GRACE_MS : TTL_MS), tomb);
    uint8_t rec[96];
    size_t n = mstore_record(mstore_get(&stores[i], key), rec);
    assert_true(cluster_replicate(CL(i), rec, n, NULL) > 0);
}

/* Only in node i's store (as if the write reached no one else). */
static void put_local(int i, const char *key, const char *val)
{
    uint64_t v = cluster_hlc_next(&net.nodes[i].hlc, now_of(i));
    mstore_put(&stores[i], key, val, v, now_of(i) + TTL_MS, 0);
}


static void run_until_ready(int count, uint64_t max_ms)
{
    for (uint64_t t = 0; t < max_ms; t += 10) {
        int all = 1;
        for (int i = 0; i < count; i++) all &= net.nodes[i].cl && CL(i)->loading == 0;
        if (all) return;
        mnet_run(&net, 10, 10);
    }
    fail_msg("nodes still loading after %llu ms", (unsigned long long)max_ms);
}

static void assert_same_digest(int count)
{
    for (int i = 1; i < count; i++)
        assert_int_equal(mstore_digest(&stores[i]), mstore_digest(&stores[0]));
}

/* ---- bootstrap */

static void test_fresh_cluster_then_joiner_bootstraps(void **state)
{
    (void)state;
    form_repair(3, 2, 3);
    run_until_ready(2, 3000);
    assert_int_equal(stores[A].loading, 0);
    assert_int_equal(stores[B].loading, 0);
    char key[32];
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof key, "k%d", i);
        put(i % 2 ? B : A, key, "v", 0);
    }
    mnet_run(&net, 200, 10);
    assert_int_equal(stores[A].n, 200);
    assert_int_equal(stores[B].n, 200);
    start_one(C, 3);
    assert_int_equal(CL(C)->loading, 1);
    mnet_run(&net, 20, 10);
    assert_int_equal(CL(C)->loading, 1); /* nothing copied yet: still loading */
    run_until_ready(3, 3000);
    assert_int_equal(stores[C].n, 200);
    assert_int_equal(stores[C].ready_calls, 1);
    assert_same_digest(3);
    assert_true(cluster_get_stats(CL(A))->syncs_served + cluster_get_stats(CL(B))->syncs_served >= 1);
}

/* A bootstrap's verifying round must be able to start and finish although the clock moves on
 * while a tick runs (the round's start time is then later than the tick's `now`). */
static void test_bootstrap_completes_when_ticks_take_time(void **state)
{
    (void)state;
    form_repair(3, 2, 3);
    run_until_ready(2, 3000);
    put(A, "x", "1", 0);
    mnet_run(&net, 100, 10);
    net.nodes[C].tick_cost_ms = 1;
    start_one(C, 3);
    run_until_ready(3, 5000);
    assert_non_null(mstore_get(&stores[C], "x"));
}

/* A source that stops mid-stream (SIGSTOP: nothing more arrives) is suspected after node-timeout,
 * its link re-dialled, and the joiner starts over and copies everything from the other one. */
static void test_bootstrap_source_stops_mid_stream(void **state)
{
    (void)state;
    form_at(3, 2, 3, 16u << 10); /* slow sources: a copy is still running when one stops */
    run_until_ready(2, 3000);
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "key-%05d", i);
        put(i % 2 ? B : A, key, "0123456789abcdef0123456789abcdef", 0);
    }
    mnet_run(&net, 300, 10);
    assert_int_equal(stores[A].n, 2000);
    assert_int_equal(stores[B].n, 2000);
    start_one(C, 3);
    int src = -1;
    for (int t = 0; t < 300 && src < 0; t++) {
        mnet_run(&net, 10, 10);
        if (CL(C)->sync_phase == 1 && CL(C)->sync_peer && CL(C)->sync_batches > 0)
            src = strcmp(CL(C)->sync_peer->name, NAMES[A]) == 0 ? A : B;
    }
    assert_true(src >= 0);
    assert_true(stores[C].n < 2000); /* still copying */
    net.nodes[src].paused = 1;
    for (uint64_t t = 0; t < 20000 && CL(C)->loading; t += 10) mnet_run(&net, 10, 10);
    assert_int_equal(CL(C)->loading, 0);
    assert_int_equal(stores[C].n, 2000);
    assert_int_equal(mstore_digest(&stores[C]), mstore_digest(&stores[src == A ? B : A]));
}

/* ---- anti-entropy */

static void test_ae_repairs_partitioned_node(void **state)
{
    (void)state;
    form_repair(3, 3, 3);
    run_until_ready(3, 3000);
    mnet_isolate(&net, C, 1);
    mnet_run(&net, 1200, 10);
    char key[32];
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "p%d", i);
        put(A, key, "v", 0);
    }
    mnet_run(&net, 300, 10);
    assert_int_equal(stores[C].n, 0);
    mnet_isolate(&net, C, 0);
    mnet_run(&net, 3000, 10);
    assert_int_equal(stores[C].n, 50);
    assert_same_digest(3);
    assert_int_equal(stores[C].wipe_calls, 0);
}

/* A round that ends inside a tick (its stream's last chunk is sent from the tick) while the
 * clock moved on during that tick must not look like a round from the future: the isolation
 * check once computed now - last_round as a negative number, i.e. 2^64 - 1 ms, and wiped a
 * healthy node. */
static void test_round_ending_in_tick_does_not_wipe(void **state)
{
    (void)state;
    form_repair(2, 2, 2);
    net.nodes[A].tick_cost_ms = 1;
    net.nodes[B].tick_cost_ms = 1;
    run_until_ready(2, 3000);
    char key[32];
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 20; i++) {
            snprintf(key, sizeof key, "r%d-%d", round, i);
            put_local(round % 2 ? A : B, key, "v");
        }
        mnet_run(&net, 250, 10);
        assert_int_equal(stores[A].wipe_calls, 0);
        assert_int_equal(stores[B].wipe_calls, 0);
    }
    assert_int_equal(stores[A].n, 400);
    assert_same_digest(2);
    assert_true(cluster_get_stats(CL(A))->ae_rounds > 10);
}

/* ---- confirming differences before repairing them
 *
 * Two nodes; only A starts rounds (B's ae-interval is 0), so every round is A's and its phases
 * can be watched between steps.  A difference is made with put_local on A; "the write arrives"
 * is a copy of A's entry into B's store. */

static void form_pair(void)
{
    mnet_add(&net, NAMES[A]);
    mnet_add(&net, NAMES[B]);
    start_one(A, 2);
    cluster_config cfg;
    mnet_config(&net, B, 2, &cfg);
    cfg.grace_ms = GRACE_MS;
    cfg.repair_bytes_per_s = 1u << 20;
    cfg.start_loading = 1;
    memset(&stores[B], 0, sizeof stores[B]);
    net.nodes[B].store = &stores[B];
    assert_int_equal(mnet_start(&net, B, &cfg), 0);
    run_until_ready(2, 3000);
    mnet_run(&net, 300, 10); /* the first rounds (peers just came up: no confirmation) are over */
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_IDLE);
}

/* Step until A's round is in `phase`. */
static void wait_phase(int phase, uint64_t max_ms)
{
    for (uint64_t t = 0; t < max_ms && (int)CL(A)->ae.phase != phase; t += 10) mnet_run(&net, 10, 10);
    assert_int_equal(CL(A)->ae.phase, phase);
}

/* Step while A's round is settling; it must compare again after the delay, within a tick. */
static void wait_recheck(void)
{
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_SETTLING);
    uint64_t since = CL(A)->ae.started_ms; /* A's clock is the network's */
    while (CL(A)->ae.phase == CL_ROUND_SETTLING) {
        assert_true(net.now_ms - since < CL_AE_CONFIRM_DELAY_MS + 10);
        mnet_run(&net, 10, 10);
    }
    assert_true(net.now_ms - since >= CL_AE_CONFIRM_DELAY_MS);
}

static void arrive_at_b(const char *key)
{
    const mstore_entry *e = mstore_get(&stores[A], key);
    assert_non_null(e);
    mstore_put(&stores[B], e->key, e->val, e->version, e->expire, e->tomb);
}

static int bit(const uint8_t *bitmap, unsigned b) { return (bitmap[b / 8] >> (b % 8)) & 1; }

static int bits(const uint8_t *bitmap)
{
    int n = 0;
    for (unsigned b = 0; b < CLUSTER_DIGEST_BUCKETS; b++) n += bit(bitmap, b);
    return n;
}

/* A key made of prefix and a number, in another bucket than `other` (NULL: any bucket). */
static void key_outside(char *key, size_t len, const char *prefix, const char *other)
{
    for (int i = 0;; i++) {
        snprintf(key, len, "%s%d", prefix, i);
        if (!other || mstore_bucket(key) != mstore_bucket(other)) return;
    }
}

/* A write still in flight at the first comparison arrives before the re-check: nothing is
 * streamed or even collected, the round ends in sync on both sides, booked at the time of its
 * first comparison, and the settled bucket is counted. */
static void test_ae_difference_settles_before_recheck(void **state)
{
    (void)state;
    form_pair();
    put_local(A, "inflight", "v");
    cluster_stats a0 = *ST(A), b0 = *ST(B);
    int buckets0 = net.nodes[B].frames_rx[CL_AE_BUCKETS];
    int rec_a = net.nodes[A].frames_rx[CL_AE_RECORDS], rec_b = net.nodes[B].frames_rx[CL_AE_RECORDS];
    int coll_a = stores[A].collect_calls, coll_b = stores[B].collect_calls;
    wait_phase(CL_ROUND_SETTLING, 300);
    uint64_t began = CL(A)->ae.began_ms;
    assert_int_equal(bits(CL(A)->ae.suspect), 1);
    assert_true(bit(CL(A)->ae.suspect, mstore_bucket("inflight")));
    arrive_at_b("inflight");
    wait_recheck();
    /* the round is over on both sides, as an in-sync round, begun at the first comparison */
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_IDLE);
    assert_int_equal(ST(A)->ae_rounds, a0.ae_rounds + 1);
    assert_int_equal(ST(A)->ae_rounds_in_sync, a0.ae_rounds_in_sync + 1);
    assert_int_equal(ST(B)->ae_rounds, b0.ae_rounds + 1);
    assert_int_equal(ST(B)->ae_rounds_in_sync, b0.ae_rounds_in_sync + 1);
    assert_int_equal(mnet_peer(&net, A, NAMES[B])->ae_ok_ms, began);
    assert_int_equal(mnet_peer(&net, B, NAMES[A])->ae_ok_ms, began);
    assert_int_equal(ST(A)->ae_buckets_settled, a0.ae_buckets_settled + 1);
    assert_int_equal(ST(A)->ae_rounds_settled, a0.ae_rounds_settled + 1);
    mnet_run(&net, 500, 10); /* later rounds are in sync */
    assert_int_equal(net.nodes[B].frames_rx[CL_AE_BUCKETS], buckets0);
    assert_int_equal(net.nodes[A].frames_rx[CL_AE_RECORDS], rec_a);
    assert_int_equal(net.nodes[B].frames_rx[CL_AE_RECORDS], rec_b);
    assert_int_equal(stores[A].collect_calls, coll_a);
    assert_int_equal(stores[B].collect_calls, coll_b);
    assert_int_equal(ST(A)->ae_buckets_repaired, a0.ae_buckets_repaired);
    assert_int_equal(ST(A)->ae_buckets_settled, a0.ae_buckets_settled + 1);
    assert_true(ST(A)->ae_rounds > a0.ae_rounds + 2);
    assert_int_equal(ST(A)->ae_rounds - a0.ae_rounds, ST(A)->ae_rounds_in_sync - a0.ae_rounds_in_sync);
}

/* A difference that is real (the write never reaches B) is repaired as before, once the settle
 * delay is over, and only its bucket is collected. */
static void test_ae_persistent_difference_repaired_after_delay(void **state)
{
    (void)state;
    form_pair();
    put_local(A, "lost", "v");
    cluster_stats a0 = *ST(A);
    int buckets0 = net.nodes[B].frames_rx[CL_AE_BUCKETS];
    wait_phase(CL_ROUND_SETTLING, 300);
    uint64_t began = CL(A)->ae.began_ms;
    memset(stores[A].collected, 0, sizeof stores[A].collected);
    memset(stores[B].collected, 0, sizeof stores[B].collected);
    int coll_a = stores[A].collect_calls, coll_b = stores[B].collect_calls;
    mnet_run(&net, CL_AE_CONFIRM_DELAY_MS - 10, 10); /* still settling: nothing moves yet */
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_SETTLING);
    assert_int_equal(net.nodes[B].frames_rx[CL_AE_BUCKETS], buckets0);
    assert_int_equal(stores[A].collect_calls, coll_a);
    assert_int_equal(stores[B].collect_calls, coll_b);
    assert_null(mstore_get(&stores[B], "lost"));
    wait_recheck();
    assert_int_equal(net.nodes[B].frames_rx[CL_AE_BUCKETS], buckets0 + 1);
    for (int t = 0; t < 10 && CL(A)->ae.phase != CL_ROUND_IDLE; t++) mnet_run(&net, 10, 10);
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_IDLE);
    assert_non_null(mstore_get(&stores[B], "lost"));
    assert_same_digest(2);
    assert_int_equal(ST(A)->ae_buckets_repaired, a0.ae_buckets_repaired + 1);
    assert_int_equal(ST(A)->ae_buckets_settled, a0.ae_buckets_settled);
    assert_int_equal(ST(A)->ae_rounds_settled, a0.ae_rounds_settled);
    assert_int_equal(ST(A)->ae_rounds, a0.ae_rounds + 1);
    assert_int_equal(ST(A)->ae_rounds_in_sync, a0.ae_rounds_in_sync);
    assert_int_equal(mnet_peer(&net, A, NAMES[B])->ae_ok_ms, began);
    assert_int_equal(mnet_peer(&net, B, NAMES[A])->ae_ok_ms, began);
    for (int x = A; x <= B; x++) {
        assert_int_equal(bits(stores[x].collected), 1);
        assert_true(bit(stores[x].collected, mstore_bucket("lost")));
    }
}

/* Two buckets differ; one settles before the re-check: only the other is exchanged. */
static void test_ae_streams_only_buckets_that_stay_different(void **state)
{
    (void)state;
    form_pair();
    char settles[32], stays[32];
    key_outside(settles, sizeof settles, "settles", NULL);
    key_outside(stays, sizeof stays, "stays", settles);
    put_local(A, settles, "v");
    put_local(A, stays, "v");
    cluster_stats a0 = *ST(A);
    wait_phase(CL_ROUND_SETTLING, 300);
    assert_int_equal(bits(CL(A)->ae.suspect), 2);
    memset(stores[A].collected, 0, sizeof stores[A].collected);
    memset(stores[B].collected, 0, sizeof stores[B].collected);
    int applied_b = stores[B].applied;
    arrive_at_b(settles);
    wait_recheck();
    for (int t = 0; t < 10 && CL(A)->ae.phase != CL_ROUND_IDLE; t++) mnet_run(&net, 10, 10);
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_IDLE);
    assert_non_null(mstore_get(&stores[B], stays));
    assert_int_equal(stores[B].applied, applied_b + 1); /* only `stays` came */
    assert_same_digest(2);
    for (int x = A; x <= B; x++) {
        assert_int_equal(bits(stores[x].collected), 1);
        assert_true(bit(stores[x].collected, mstore_bucket(stays)));
    }
    assert_int_equal(ST(A)->ae_buckets_repaired, a0.ae_buckets_repaired + 1);
    assert_int_equal(ST(A)->ae_buckets_settled, a0.ae_buckets_settled + 1);
    assert_int_equal(ST(A)->ae_rounds_settled, a0.ae_rounds_settled);
}

/* The first difference settles but another write is in flight at the re-check: the responder
 * answered the re-check with differing leaves and waits for AE_BUCKETS; the initiator's AE_DONE
 * ends the round there as in sync.  The new difference is confirmed by a later round. */
static void test_ae_new_difference_at_recheck_waits_for_next_round(void **state)
{
    (void)state;
    form_pair();
    char first[32], second[32];
    key_outside(first, sizeof first, "first", NULL);
    key_outside(second, sizeof second, "second", first);
    put_local(A, first, "v");
    cluster_stats a0 = *ST(A), b0 = *ST(B);
    int buckets0 = net.nodes[B].frames_rx[CL_AE_BUCKETS];
    int done0 = net.nodes[B].frames_rx[CL_AE_DONE];
    wait_phase(CL_ROUND_SETTLING, 300);
    uint64_t began = CL(A)->ae.began_ms;
    arrive_at_b(first);
    put_local(A, second, "v");
    wait_recheck();
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_IDLE);
    assert_int_equal(net.nodes[B].frames_rx[CL_AE_BUCKETS], buckets0);
    assert_int_equal(net.nodes[B].frames_rx[CL_AE_DONE], done0 + 1);
    assert_int_equal(ST(A)->ae_rounds_settled, a0.ae_rounds_settled + 1);
    assert_int_equal(ST(A)->ae_buckets_settled, a0.ae_buckets_settled + 1);
    assert_int_equal(ST(B)->ae_rounds, b0.ae_rounds + 1);
    assert_int_equal(ST(B)->ae_rounds_in_sync, b0.ae_rounds_in_sync + 1);
    assert_int_equal(mnet_peer(&net, B, NAMES[A])->ae_ok_ms, began);
    assert_null(mstore_get(&stores[B], second));
    /* the next round sees it twice and repairs it */
    wait_phase(CL_ROUND_SETTLING, 300);
    wait_recheck();
    mnet_run(&net, 50, 10);
    assert_non_null(mstore_get(&stores[B], second));
    assert_same_digest(2);
    assert_int_equal(ST(A)->ae_buckets_repaired, a0.ae_buckets_repaired + 1);
}

/* A peer that comes back gets its round at once, without waiting to confirm. */
static void test_ae_peer_back_repairs_without_delay(void **state)
{
    (void)state;
    form_pair();
    mnet_partition(&net, A, B, 1);
    mnet_run(&net, 1200, 10); /* both suspect each other */
    assert_int_equal(mnet_state(&net, A, NAMES[B]), CLUSTER_PEER_PFAIL);
    put_local(A, "missed", "v");
    cluster_stats a0 = *ST(A);
    mnet_partition(&net, A, B, 0);
    int settling = 0;
    for (int t = 0; t < 100 && !mstore_get(&stores[B], "missed"); t++) {
        mnet_run(&net, 10, 10);
        settling |= CL(A)->ae.phase == CL_ROUND_SETTLING;
    }
    assert_non_null(mstore_get(&stores[B], "missed"));
    assert_false(settling);
    assert_int_equal(ST(A)->ae_buckets_settled, a0.ae_buckets_settled);
    assert_true(ST(A)->ae_buckets_repaired > a0.ae_buckets_repaired);
}

/* A round abandoned while it settles (the link breaks) leaves nothing behind; the difference is
 * repaired by a later round. */
static void test_ae_round_abandoned_while_settling(void **state)
{
    (void)state;
    form_pair();
    put_local(A, "x", "v");
    wait_phase(CL_ROUND_SETTLING, 300);
    mnet_sever(&net, A, B);
    assert_int_equal(CL(A)->ae.phase, CL_ROUND_IDLE);
    assert_null(CL(A)->ae.peer);
    for (int t = 0; t < 300 && !mstore_get(&stores[B], "x"); t++) mnet_run(&net, 10, 10);
    assert_non_null(mstore_get(&stores[B], "x"));
    assert_same_digest(2);
}

/* ---- isolation longer than the grace period */

static void test_long_isolation_wipes_and_rebootstraps(void **state)
{
    (void)state;
    form_repair(3, 3, 3);
    run_until_ready(3, 3000);
    put(A, "gone", "v", 0);
    put(A, "kept", "v", 0);
    mnet_run(&net, 200, 10);
    assert_non_null(mstore_get(&stores[C], "gone"));
    mnet_isolate(&net, C, 1);
    mnet_run(&net, 100, 10);
    put(A, "gone", "", 1); /* DEL: a tombstone for the grace period */
    mnet_run(&net, GRACE_MS + 500, 10);
    assert_int_equal(stores[C].wipe_calls, 1);
    assert_int_equal(CL(C)->loading, 1);
    assert_int_equal(stores[A].wipe_calls, 0);
    assert_int_equal(stores[B].wipe_calls, 0);
    mnet_run(&net, 1000, 10); /* the tombstone expires on A and B */
    mnet_isolate(&net, C, 0);
    run_until_ready(3, 8000);
    mnet_run(&net, 500, 10);
    const mstore_entry *e = mstore_get(&stores[C], "gone");
    assert_true(e == NULL || e->tomb);
    assert_non_null(mstore_get(&stores[C], "kept"));
}

/* Two nodes of five cut off together keep comparing with each other, but neither has seen the
 * deletes the majority made meanwhile: they must wipe too.  The majority never does. */
static void test_minority_pair_wipes(void **state)
{
    (void)state;
    form_repair(5, 5, 5);
    run_until_ready(5, 4000);
    put(A, "k", "v", 0);
    mnet_run(&net, 300, 10);
    for (int x = A; x <= C; x++)
        for (int y = D; y <= E; y++) mnet_partition(&net, x, y, 1);
    mnet_run(&net, 100, 10);
    put(A, "k", "", 1);
    mnet_run(&net, GRACE_MS + 800, 10);
    assert_true(cluster_get_stats(CL(D))->ae_rounds > 5); /* D and E kept comparing */
    assert_int_equal(stores[D].wipe_calls, 1);
    assert_int_equal(stores[E].wipe_calls, 1);
    for (int x = A; x <= C; x++) assert_int_equal(stores[x].wipe_calls, 0);
    mnet_run(&net, 1000, 10);
    for (int x = A; x <= C; x++)
        for (int y = D; y <= E; y++) mnet_partition(&net, x, y, 0);
    run_until_ready(5, 10000);
    mnet_run(&net, 1000, 10);
    for (int x = A; x <= E; x++) {
        const mstore_entry *e = mstore_get(&stores[x], "k");
        assert_true(e == NULL || e->tomb);
    }
}

/* A majority that loses one member keeps comparing with the others: no wipe. */
static void test_majority_with_a_dead_member_keeps_data(void **state)
{
    (void)state;
    form_repair(5, 5, 5);
    run_until_ready(5, 4000);
    put(A, "k", "v", 0);
    mnet_run(&net, 300, 10);
    mnet_kill(&net, E);
    mnet_kill(&net, D);
    mnet_run(&net, 3 * GRACE_MS, 10);
    for (int x = A; x <= C; x++) {
        assert_int_equal(stores[x].wipe_calls, 0);
        assert_non_null(mstore_get(&stores[x], "k"));
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fresh_cluster_then_joiner_bootstraps),
        T(test_bootstrap_completes_when_ticks_take_time),
        T(test_bootstrap_source_stops_mid_stream),
        T(test_ae_repairs_partitioned_node),
        T(test_round_ending_in_tick_does_not_wipe),
        T(test_ae_difference_settles_before_recheck),
        T(test_ae_persistent_difference_repaired_after_delay),
        T(test_ae_streams_only_buckets_that_stay_different),
        T(test_ae_new_difference_at_recheck_waits_for_next_round),
        T(test_ae_peer_back_repairs_without_delay),
        T(test_ae_round_abandoned_while_settling),
        T(test_long_isolation_wipes_and_rebootstraps),
        T(test_minority_pair_wipes),
        T(test_majority_with_a_dead_member_keeps_data),
    };
    return cmocka_run_group_tests_name("cluster sync", tests, NULL, NULL);
}
