/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.h: the node's Prometheus metrics (GET /metrics and /v1/metrics) and the latency
 * histogram buckets the request paths fill.
 *
 * Recording is done where requests are already measured, with no allocation, lock or string work:
 * srv_call (commands.c) adds each RESP call to its command's srv_cmd_stats.latency[] bucket, and
 * the HTTP front door keeps the same arrays per route.  Everything else is read at scrape time
 * from the counters that exist anyway (srv.stats, the keyspace, the command table), so a scrape
 * costs O(commands + routes) and nothing is kept twice.
 *
 * Values are never exported: only counts, sizes, times and configuration.
 */
#ifndef SERVER_METRICS_H
#define SERVER_METRICS_H

#include <stdint.h>

struct evbuffer;

/* Latency histogram buckets: upper bounds 10 us, 25 us, 50 us, 100 us ... 500 ms, 1 s (the
 * 1-2.5-5 series, 16 bounds) plus the +Inf bucket.  An in-memory GET takes a few microseconds and
 * a replicated write a few milliseconds, so the range covers both with ~2.5x resolution. */
#define SRV_LATENCY_BUCKETS 17

/* The bucket of a duration in microseconds: the first whose bound is >= us (Prometheus's "le").
 * Non-cumulative: each call increments exactly one bucket.  O(buckets), usually one compare. */
static inline unsigned srv_latency_bucket(uint64_t us)
{
    static const uint32_t bound_us[SRV_LATENCY_BUCKETS - 1] = {
        10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
        1000000};
    unsigned i = 0;
    while (i < SRV_LATENCY_BUCKETS - 1 && us > bound_us[i]) i++;
    return i;
}

/* Write the whole exposition (Prometheus text format 0.0.4) to out.  Event-loop thread only. */
void srv_metrics_write(struct evbuffer *out);

/* Append one sample of repram_requests_total{protocol, command, result} (no HELP/TYPE lines).
 * Label values are escaped here. */
void srv_metrics_request_sample(struct evbuffer *out, const char *protocol, const char *command,
                                const char *result, uint64_t value);

/* Append one series of repram_request_duration_seconds{protocol, command}: its _bucket lines
 * (cumulative, from the non-cumulative `bucket` counts), _sum and _count. */
void srv_metrics_latency_series(struct evbuffer *out, const char *protocol, const char *command,
                                const uint64_t bucket[SRV_LATENCY_BUCKETS], uint64_t sum_us);

/*
 * Cluster hook: the cluster's families (DESIGN.md section 9: peers by state, replication acks and
 * lag, quorum failures and time-outs, anti-entropy rounds and repaired keys, bootstrap progress).
 * srv_metrics_write calls it last; each family must write its own HELP/TYPE lines once.  Empty
 * until cluster/ is wired into the server.
 */
void srv_metrics_write_cluster(struct evbuffer *out);

#endif /* SERVER_METRICS_H */
