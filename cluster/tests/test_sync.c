/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_sync.c: repair (sync.c): bootstrap of an empty node, anti-entropy after a partition, the
 * wipe after an isolation longer than the tombstone grace, and the timer arithmetic around them.
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
        T(test_long_isolation_wipes_and_rebootstraps),
        T(test_minority_pair_wipes),
        T(test_majority_with_a_dead_member_keeps_data),
    };
    return cmocka_run_group_tests_name("cluster sync", tests, NULL, NULL);
}
