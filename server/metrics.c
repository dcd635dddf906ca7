/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.c: the Prometheus exposition of the node (text format 0.0.4, served on /metrics and
 * /v1/metrics by http_api.c).
 *
 * Design: nothing is registered at run time and nothing is counted twice.  A scrape reads the
 * counters the server keeps anyway: srv.stats (every field, through stat_rows below), the
 * per-command statistics of the command table (calls, failures, refusals, latency buckets, filled
 * by srv_call), the HTTP routes' statistics (http.c), the keyspace and the cluster.  Recording
 * therefore costs the request paths one array increment, and a scrape O(commands + routes).
 * Rejected: a registry of metric objects with labels hashed at observation time, as client
 * libraries do; it costs a hash lookup per request and a second copy of every counter.
 *
 * Naming follows Prometheus's conventions: repram_ prefix, base units (_seconds, _bytes),
 * counters end in _total, one family per quantity with protocol="resp"|"http" as a label where
 * both front doors have it.  Every family's HELP and TYPE lines appear once, before its samples.
 * CONFIG RESETSTAT resets counters, which Prometheus's rate() handles as a counter reset.
 *
 * Values never appear: only counts, sizes, durations and configuration.
 * Event-loop thread only.  Start reading at srv_metrics_write.
 */
#include "server/metrics.h"

#include <event2/buffer.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/db.h"
#include "server/encode.h"
#include "server/http.h"
#include "server/info.h"
#include "server/loop.h"
#include "server/replica.h"
#include "server/server.h"

#define REQUESTS "repram_requests_total"
#define DURATION "repram_request_duration_seconds"

/*
 * Every srv_stats field, in any order: the family it is exported as (NULL: internal, not a
 * counter of its own), its labels and the family's help text (rows of one family share it; the
 * first row's is printed).  Adding a field to srv_stats means adding its row here: the static
 * assertion below fails the build otherwise.
 */
#define ROW(field, family, labels, help) {offsetof(srv_stats, field), family, labels, help}
#define RESP "protocol=\"resp\""
#define HTTP "protocol=\"http\""
static const struct stat_row {
    size_t offset;
    const char *family;
    const char *labels;
    const char *help;
} stat_rows[] = {
    ROW(connections_received, "repram_connections_received_total", RESP,
        "Client connections accepted."),
    ROW(http_connections_received, "repram_connections_received_total", HTTP, ""),
    ROW(rejected_connections, "repram_connections_rejected_total", RESP,
        "Client connections refused at the connection limit (maxclients, http-max-connections)."),
    ROW(http_rejected_connections, "repram_connections_rejected_total", HTTP, ""),
    ROW(protected_mode_rejections, "repram_protected_mode_rejections_total", "",
        "Non-loopback clients refused by protected-mode."),
    ROW(commands_processed, "repram_commands_processed_total", "", "RESP commands run."),
    ROW(keyspace_hits, "repram_keyspace_hits_total", "", "Key lookups that found their key."),
    ROW(keyspace_misses, "repram_keyspace_misses_total", "", "Key lookups that did not."),
    ROW(expired_keys_base, NULL, "", ""),
    ROW(evicted_keys_base, NULL, "", ""),
    ROW(net_input_bytes, "repram_net_input_bytes_total", RESP, "Bytes read from clients."),
    ROW(net_output_bytes, "repram_net_output_bytes_total", RESP, "Bytes written to clients."),
    ROW(total_error_replies, "repram_error_replies_total", RESP, "Error replies sent."),
    ROW(unexpected_error_replies, "repram_unexpected_error_replies_total", RESP,
        "Error replies of an unexpected kind (server bugs)."),
    ROW(rejected_calls, "repram_rejected_requests_total", RESP,
        "Requests refused before running (RESP: arity, authentication, memory, limits; HTTP: "
        "every status of 400 or more but 404)."),
    ROW(http_rejected_requests, "repram_rejected_requests_total", HTTP, ""),
    ROW(resp_rate_limited, "repram_rate_limited_requests_total", RESP,
        "Requests refused by the per-address rate limit (resp-rate-limit, http-rate-limit)."),
    ROW(http_rate_limited, "repram_rate_limited_requests_total", HTTP, ""),
    ROW(oversize_rejections, "repram_oversized_requests_total", RESP,
        "Requests refused for a key, value, body or TTL over its limit."),
    ROW(http_oversize_rejections, "repram_oversized_requests_total", HTTP, ""),
    ROW(protocol_errors, "repram_protocol_errors_total", RESP,
        "Malformed requests (RESP: the connection is closed; HTTP: 400 from the HTTP parser)."),
    ROW(http_protocol_errors, "repram_protocol_errors_total", HTTP, ""),
    ROW(querybuf_limit_closes, "repram_querybuf_limit_closes_total", "",
        "RESP connections closed at client-query-buffer-limit."),
    ROW(obuf_hard_limit_closes, "repram_output_buffer_limit_closes_total", "limit=\"hard\"",
        "RESP connections closed at client-output-buffer-limit."),
    ROW(obuf_soft_limit_closes, "repram_output_buffer_limit_closes_total", "limit=\"soft\"", ""),
    ROW(multi_queue_rejections, "repram_multi_queue_rejections_total", "",
        "MULTI queueing refused by multi-max-commands or, for the bytes queued, "
        "client-query-buffer-limit."),
    ROW(scan_count_clamps, "repram_scan_count_clamps_total", "",
        "SCAN calls whose COUNT was lowered to scan-max-count."),
    ROW(keys_limit_rejections, "repram_keys_limit_rejections_total", "",
        "KEYS calls refused by keys-max-reply."),
    ROW(tls_handshake_failures, "repram_tls_handshake_failures_total", "reason=\"error\"",
        "TLS handshakes that failed or timed out."),
    ROW(tls_handshake_timeouts, "repram_tls_handshake_failures_total", "reason=\"timeout\"", ""),
    ROW(auth_failures, "repram_auth_failures_total", "",
        "RESP AUTH and HELLO ... AUTH attempts refused with WRONGPASS."),
    ROW(oom_rejections, "repram_oom_rejections_total", "", "Writes refused at maxmemory."),
    ROW(http_header_timeouts, "repram_http_header_timeouts_total", "",
        "HTTP connections closed because a request head was not complete within "
        "http-read-header-timeout."),
    ROW(http_unauthorized, "repram_http_unauthorized_total", "",
        "HTTP writes refused for a missing or wrong http-write-token."),
};
#define STAT_ROWS (sizeof stat_rows / sizeof stat_rows[0])
_Static_assert(sizeof(srv_stats) == STAT_ROWS * sizeof(uint64_t),
               "every srv_stats field needs its row in metrics.c's stat_rows");

/* "le" of each latency bucket, in seconds (metrics.h's bounds). */
static const char *const bucket_le[SRV_LATENCY_BUCKETS] = {
    "1e-05", "2.5e-05", "5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
    "0.01",  "0.025",   "0.05",  "0.1",    "0.25",    "0.5",    "1",     "+Inf"};

static void u64(struct evbuffer *out, uint64_t v)
{
    evbuffer_add_printf(out, "%llu\n", (unsigned long long)v);
}

/* "name{labels} value\n" (labels may be ""). */
static void sample(struct evbuffer *out, const char *name, const char *labels, uint64_t v)
{
    if (labels[0]) evbuffer_add_printf(out, "%s{%s} ", name, labels);
    else evbuffer_add_printf(out, "%s ", name);
    u64(out, v);
}

static void gauge(struct evbuffer *out, const char *name, const char *help, uint64_t v)
{
    srv_prom_family(out, name, "gauge", help);
    sample(out, name, "", v);
}

static void counter(struct evbuffer *out, const char *name, const char *help, uint64_t v)
{
    srv_prom_family(out, name, "counter", help);
    sample(out, name, "", v);
}

void srv_metrics_request_sample(struct evbuffer *out, const char *protocol, const char *command,
                                const char *result, uint64_t value)
{
    evbuffer_add_printf(out, REQUESTS "{protocol=\"%s\",command=\"", protocol);
    srv_prom_label_value(out, command);
    evbuffer_add_printf(out, "\",result=\"%s\"} ", result);
    u64(out, value);
}

void srv_metrics_latency_series(struct evbuffer *out, const char *protocol, const char *command,
                                const uint64_t bucket[SRV_LATENCY_BUCKETS], uint64_t sum_us)
{
    uint64_t total = 0;
    for (int i = 0; i < SRV_LATENCY_BUCKETS; i++) {
        total += bucket[i];
        evbuffer_add_printf(out, DURATION "_bucket{protocol=\"%s\",command=\"", protocol);
        srv_prom_label_value(out, command);
        evbuffer_add_printf(out, "\",le=\"%s\"} ", bucket_le[i]);
        u64(out, total);
    }
    evbuffer_add_printf(out, DURATION "_sum{protocol=\"%s\",command=\"", protocol);
    srv_prom_label_value(out, command);
    evbuffer_add_printf(out, "\"} %llu.%06llu\n", (unsigned long long)(sum_us / 1000000),
                        (unsigned long long)(sum_us % 1000000));
    evbuffer_add_printf(out, DURATION "_count{protocol=\"%s\",command=\"", protocol);
    srv_prom_label_value(out, command);
    evbuffer_add(out, "\"} ", 3);
    u64(out, total);
}

/* ---- RESP commands */

static void resp_requests(srv_command *cmd, void *priv)
{
    struct evbuffer *out = priv;
    const srv_cmd_stats *s = &cmd->stats;
    if (s->calls > s->failed_calls)
        srv_metrics_request_sample(out, "resp", cmd->fullname, "ok", s->calls - s->failed_calls);
    if (s->failed_calls)
        srv_metrics_request_sample(out, "resp", cmd->fullname, "error", s->failed_calls);
    if (s->rejected_calls)
        srv_metrics_request_sample(out, "resp", cmd->fullname, "rejected", s->rejected_calls);
}

static void resp_latency(srv_command *cmd, void *priv)
{
    if (cmd->stats.calls == 0) return;
    srv_metrics_latency_series(priv, "resp", cmd->fullname, cmd->stats.latency, cmd->stats.usec);
}

/* ---- srv.stats */

static void write_stats(struct evbuffer *out)
{
    for (size_t i = 0; i < STAT_ROWS; i++) {
        const struct stat_row *r = &stat_rows[i];
        size_t j;
        if (!r->family) continue;
        for (j = 0; j < i; j++) /* the family was written with its first row */
            if (stat_rows[j].family && strcmp(stat_rows[j].family, r->family) == 0) break;
        if (j < i) continue;
        srv_prom_family(out, r->family, "counter", r->help);
        for (j = i; j < STAT_ROWS; j++) {
            if (!stat_rows[j].family || strcmp(stat_rows[j].family, r->family) != 0) continue;
            uint64_t v;
            memcpy(&v, (const char *)&srv.stats + stat_rows[j].offset, sizeof v);
            sample(out, r->family, stat_rows[j].labels, v);
        }
    }
}

/* The event loop (loop.c): how busy it is, apart from busy polling, and what polling did. */
static void write_loop(struct evbuffer *out)
{
    int pct = srv.loop.busy_pct;
    uint64_t idle_us = srv.loop.poll_idle_ns / 1000;
    srv_prom_family(out, "repram_event_loop_busy_ratio", "gauge",
                    "Share of the last 10 ms window the event loop spent working, busy polling "
                    "excluded (0 to 1): the load to watch, since polling makes CPU use read high.");
    evbuffer_add_printf(out, "repram_event_loop_busy_ratio %d.%02d\n", pct / 100, pct % 100);
    counter(out, "repram_event_loop_sleeps_total",
            "Times the event loop slept (voluntary context switches of its thread).",
            srv_loop_sleeps() - srv.loop_sleeps_base);
    counter(out, "repram_event_loop_poll_hits_total",
            "Busy polls that found events to handle, each a sleep and wake-up saved (busy-poll-us).",
            srv.loop.poll_hits);
    srv_prom_family(out, "repram_event_loop_poll_idle_seconds_total", "counter",
                    "Time spent busy polling without finding an event.");
    evbuffer_add_printf(out, "repram_event_loop_poll_idle_seconds_total %llu.%06llu\n",
                        (unsigned long long)(idle_us / 1000000), (unsigned long long)(idle_us % 1000000));
}

void srv_metrics_write(struct evbuffer *out)
{
    const char *node = srv.cfg.node_name[0] ? srv.cfg.node_name : srv.hostname;
    char labels[64];

    srv_prom_family(out, "repram_build_info", "gauge", "Version and node name (value 1).");
    evbuffer_add_printf(out, "repram_build_info{version=\"%s\",node=\"", REPRAM_VERSION);
    srv_prom_label_value(out, node);
    evbuffer_add(out, "\"} 1\n", 5);
    gauge(out, "repram_start_time_seconds", "Start time, seconds since the epoch.",
          srv.start_ms / 1000);
    gauge(out, "repram_uptime_seconds", "Seconds since start.",
          (srv_now_ms() - srv.start_ms) / 1000);
    gauge(out, "repram_keys", "Live keys.", srv_db_size());
    gauge(out, "repram_memory_used_bytes",
          "Bytes held by the keyspace (keys, values, overhead): what maxmemory limits.",
          srv_db_memory());
    gauge(out, "repram_memory_max_bytes", "maxmemory; 0 = no limit.", (uint64_t)srv.cfg.maxmemory);
    gauge(out, "repram_memory_heap_bytes", "Heap the process has allocated.",
          srv_info_used_memory());
    counter(out, "repram_expired_keys_total", "Keys removed because their TTL passed.",
            srv_db_expired_keys());
    counter(out, "repram_evicted_keys_total", "Keys evicted at maxmemory (volatile-ttl).",
            srv_db_evicted_keys());

    srv_prom_family(out, "repram_connections", "gauge", "Client connections open now.");
    snprintf(labels, sizeof labels, RESP);
    sample(out, "repram_connections", labels, (uint64_t)srv.client_count);
    snprintf(labels, sizeof labels, HTTP);
    sample(out, "repram_connections", labels, (uint64_t)srv_http_connection_count());

    srv_prom_family(out, REQUESTS, "counter",
                    "Requests by protocol, command (RESP) or route (HTTP), and result (RESP: ok, "
                    "error, rejected; HTTP: the status code).");
    srv_commands_foreach(resp_requests, out);
    srv_http_metrics_requests(out);
    srv_prom_family(out, DURATION, "histogram", "Time to answer a request, seconds.");
    srv_commands_foreach(resp_latency, out);
    srv_http_metrics_latency(out);

    write_stats(out);
    write_loop(out);
    srv_metrics_write_cluster(out);
}

/* ---- the cluster */

void srv_metrics_write_cluster(struct evbuffer *out)
{
    /* The cluster families of DESIGN.md section 9: peers by state, replication acks and lag,
     * quorum failures and time-outs, anti-entropy rounds and repaired buckets, bootstrap. */
    static const char *const states[] = {"connecting", "ok", "suspected", "failed"};
    cluster *cl = srv_repl_cluster();
    uint64_t by_state[4] = {0, 0, 0, 0};

    if (!cl) return;
    const cluster_stats *st = cluster_get_stats(cl);
    int n = cluster_peer_count(cl);
    gauge(out, "repram_cluster_size", "Voting members configured (cluster-size).",
          (uint64_t)srv.cfg.cluster_size);
    gauge(out, "repram_cluster_quorum", "Voters a write needs, this node included.",
          (uint64_t)cluster_quorum(cl));
    srv_prom_family(out, "repram_peers", "gauge", "Peers by state.");
    for (int i = 0; i < n; i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        if ((unsigned)pi.state < 4) by_state[pi.state]++;
    }
    for (int s = 0; s < 4; s++) {
        char labels[32];
        snprintf(labels, sizeof labels, "state=\"%s\"", states[s]);
        sample(out, "repram_peers", labels, by_state[s]);
    }
    srv_prom_family(out, "repram_peer_replication_lag_seconds", "gauge",
                    "Age of the oldest write a peer has not acknowledged.");
    for (int i = 0; i < n; i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        if (!pi.name) continue;
        evbuffer_add(out, "repram_peer_replication_lag_seconds{peer=\"", 42);
        srv_prom_label_value(out, pi.name);
        evbuffer_add_printf(out, "\"} %llu.%03llu\n", (unsigned long long)(pi.lag_ms / 1000),
                            (unsigned long long)(pi.lag_ms % 1000));
    }
    counter(out, "repram_replicated_writes_total", "Writes sent to the peers.",
            st->writes_replicated);
    srv_prom_family(out, "repram_replicated_write_results_total", "counter",
                    "Writes by outcome: quorum reached, timed out, or refused with no quorum "
                    "reachable (nothing applied).");
    sample(out, "repram_replicated_write_results_total", "result=\"quorum\"", st->writes_acked);
    sample(out, "repram_replicated_write_results_total", "result=\"timeout\"",
           st->writes_timed_out);
    sample(out, "repram_replicated_write_results_total", "result=\"noreplicas\"",
           srv_repl_writes_refused());
    counter(out, "repram_replication_acks_total", "Acknowledgements received from peers.",
            st->acks_received);
    counter(out, "repram_replication_records_applied_total", "Batches from peers applied here.",
            st->records_applied);
    srv_prom_family(out, "repram_bus_bytes_total", "counter", "Cluster bus bytes.");
    sample(out, "repram_bus_bytes_total", "direction=\"in\"", st->bytes_in);
    sample(out, "repram_bus_bytes_total", "direction=\"out\"", st->bytes_out);
    counter(out, "repram_bus_frames_rejected_total", "Bus frames dropped (non-members, malformed).",
            st->frames_rejected);
    counter(out, "repram_bus_auth_failures_total", "Bus handshakes refused.", st->auth_failures);
    counter(out, "repram_bus_clock_rejections_total", "Bus frames stamped beyond max-clock-offset.",
            st->clock_rejections);
    counter(out, "repram_bus_link_resets_total", "Bus links reset (full queue, silence).",
            st->link_resets);
    counter(out, "repram_anti_entropy_rounds_total", "Anti-entropy rounds completed.",
            st->ae_rounds);
    counter(out, "repram_anti_entropy_rounds_in_sync_total",
            "Anti-entropy rounds that found nothing to repair.", st->ae_rounds_in_sync);
    counter(out, "repram_anti_entropy_buckets_repaired_total",
            "Digest buckets exchanged because they differed.", st->ae_buckets_repaired);
    counter(out, "repram_anti_entropy_buckets_settled_total",
            "Digest buckets that differed at first but matched when compared again (writes in "
            "flight): not exchanged.", st->ae_buckets_settled);
    counter(out, "repram_anti_entropy_rounds_settled_total",
            "Anti-entropy rounds whose differences all settled on re-check (also counted in "
            "sync).", st->ae_rounds_settled);
    srv_prom_family(out, "repram_repair_bytes_total", "counter",
                    "Bytes of anti-entropy and bootstrap streams.");
    sample(out, "repram_repair_bytes_total", "direction=\"in\"", st->repair_bytes_in);
    sample(out, "repram_repair_bytes_total", "direction=\"out\"", st->repair_bytes_out);
    counter(out, "repram_bootstraps_served_total", "Keyspace copies streamed to joining peers.",
            st->syncs_served);
    counter(out, "repram_wipes_total",
            "Times this node dropped its data after an isolation longer than tombstone-grace.",
            st->wipes);
    cluster_sync_info si;
    cluster_sync_get(cl, &si);
    gauge(out, "repram_loading", "1 while the node bootstraps (answers -LOADING).",
          (uint64_t)si.loading);
    gauge(out, "repram_bootstrap_bytes", "Bytes received in the current or last bootstrap.",
          si.bytes);
}
