/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * info.c: INFO, REPRAM STATUS and REPRAM NODES, and the few statistics only they use.
 *
 * INFO speaks Redis 7.0's dialect because clients parse it: ioredis's ready check reads
 * `loading`, Redis's own test suite greps `redis_version`, `used_memory`, `used_cpu_user`,
 * `rejected_calls` (commandstats only), `mem_allocator`, and monitoring tools read the usual
 * `field:value` lines.  Section selection follows Redis 7.0's genInfoSectionDict: no argument or
 * "default" = the default sections; "all" and "everything" = every section; other words name
 * sections case-insensitively; unknown words add nothing; each section appears once, in a fixed
 * order, separated by a blank line.  Fields that describe machinery repram does not have
 * (persistence, replication backlog, forks) are reported with the values a Redis with that
 * machinery switched off reports, so dashboards show "off" rather than break.
 *
 * Figures: used_memory is the heap in use from glibc's mallinfo2() (in-use small blocks plus
 * mmap'ed blocks), not an allocator-specific counter, so mem_allocator says "libc"; this also
 * keeps Redis's test suite off its jemalloc-only checks.  AddressSanitizer builds replace malloc,
 * so there it is the sanitizer allocator's own count of bytes in use (freed blocks waiting in its
 * quarantine excluded), which keeps the soak test's "back to baseline" check meaningful under
 * ASan (redis-tests/soak/soak.py).  used_memory_dataset is the keyspace's own accounting (ttl/),
 * which is also what maxmemory limits.  Rates (instantaneous_*) come from
 * 16 samples taken every 100 ms by srv_info_cron on the hz timer, as Redis's serverCron does;
 * sampling on INFO calls instead was rejected because the rate would depend on how often INFO is
 * asked.  avg_ttl is estimated from a small sample of keys on each INFO (Redis also estimates it).
 *
 * Values are never reported: only counts, sizes and configuration.
 * Event-loop thread only.  Start reading at srv_info_cmd.
 */
/* RUSAGE_THREAD (used_cpu_*_main_thread) is a GNU extension. */
#define _GNU_SOURCE

#include "server/info.h"

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define INFO_ASAN 1
#elif defined(__has_feature)     /* clang */
#if __has_feature(address_sanitizer)
#define INFO_ASAN 1
#endif
#endif
#ifdef INFO_ASAN
/* From the sanitizer runtime (clang's <sanitizer/allocator_interface.h>, which gcc lacks). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include <event2/event.h>
#include <limits.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/db.h"
#include "server/loop.h"
#include "server/replica.h"
#include "server/server.h"
#include "server/util.h"

#define COMPAT_REDIS_VERSION "7.0.15" /* what clients are told they talk to */
#define METRIC_SAMPLES 16             /* Redis's STATS_METRIC_SAMPLES */
#define METRIC_PERIOD_MS 100          /* sampling period, as Redis's serverCron */
#define ERROR_CODES_MAX 128           /* Redis's ERROR_STATS_NUMBER */
#define AVG_TTL_SAMPLES 32            /* keys looked at to estimate avg_ttl */

/* ---- statistics kept here */

typedef struct metric {
    uint64_t last_ms, last_value;
    uint64_t samples[METRIC_SAMPLES]; /* per second */
    unsigned idx;
} metric;

enum { METRIC_OPS, METRIC_NET_IN, METRIC_NET_OUT, METRIC_COUNT };

static metric metrics[METRIC_COUNT];
static size_t mem_peak, mem_startup;
/* Peak of srv_info_tracked_memory, sampled by srv_info_cron; see section_memory for its use. */
static size_t tracked_peak;

typedef struct error_count {
    char code[32];
    uint64_t count;
} error_count;

static error_count errors[ERROR_CODES_MAX]; /* sorted by code (Redis lists them in byte order) */
static int error_codes;

static size_t clients_memory(void)
{
    size_t n = 0;
    for (srv_list_node *l = srv.clients.next; l != &srv.clients; l = l->next)
        n += srv_client_memory(srv_container_of(l, srv_client, node));
    return n;
}

size_t srv_info_tracked_memory(void) { return srv_db_memory() + clients_memory(); }

size_t srv_info_used_memory(void)
{
#ifdef INFO_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    size_t used = mi.uordblks + mi.hblkhd;
    /* When malloc is not glibc's (another sanitizer's allocator) mallinfo2 reports nothing: fall
     * back to the memory we account ourselves. */
    return used ? used : srv_db_memory() + clients_memory();
#endif
}

static void metric_track(metric *m, uint64_t now_ms, uint64_t value)
{
    if (m->last_ms && value >= m->last_value && now_ms > m->last_ms)
        m->samples[m->idx++ % METRIC_SAMPLES] = (value - m->last_value) * 1000 / (now_ms - m->last_ms);
    m->last_ms = now_ms;
    m->last_value = value;
}

static uint64_t metric_rate(const metric *m)
{
    uint64_t sum = 0;
    for (int i = 0; i < METRIC_SAMPLES; i++) sum += m->samples[i];
    return sum / METRIC_SAMPLES;
}

void srv_info_cron(void)
{
    uint64_t now = srv_now_ms();
    if (now - metrics[METRIC_OPS].last_ms < METRIC_PERIOD_MS) return;
    metric_track(&metrics[METRIC_OPS], now, srv.stats.commands_processed);
    metric_track(&metrics[METRIC_NET_IN], now, srv.stats.net_input_bytes);
    metric_track(&metrics[METRIC_NET_OUT], now, srv.stats.net_output_bytes);
    /* No mallinfo2 here: it walks every free chunk of the heap, which takes milliseconds once a
     * large keyspace has churned (10 ms at 500k keys under replicated writes), and at 10 calls a
     * second it stalled every client for 10 % of the time.  The peak is tracked on our own O(1)
     * accounting instead and turned into a heap figure when INFO asks (section_memory). */
    if (mem_startup == 0) mem_startup = srv_info_used_memory(); /* once, on an empty heap */
    size_t tracked = srv_info_tracked_memory();
    if (tracked > tracked_peak) tracked_peak = tracked;
}

void srv_info_count_error(const char *msg)
{
    size_t n = 0;
    while (msg[n] >= 'A' && msg[n] <= 'Z' && n < sizeof errors[0].code - 1) n++;
    if (n == 0 || msg[n] != ' ') {
        msg = "ERR";
        n = 3;
    }
    int i = 0;
    for (; i < error_codes; i++) {
        int cmp = strncmp(errors[i].code, msg, n);
        if (cmp == 0 && errors[i].code[n] == '\0') {
            errors[i].count++;
            return;
        }
        if (cmp > 0 || (cmp == 0 && errors[i].code[n] != '\0')) break;
    }
    if (error_codes == ERROR_CODES_MAX) return;
    memmove(&errors[i + 1], &errors[i], sizeof errors[0] * (size_t)(error_codes - i));
    memcpy(errors[i].code, msg, n);
    errors[i].code[n] = '\0';
    errors[i].count = 1;
    error_codes++;
}

void srv_info_reset_stats(void)
{
    memset(metrics, 0, sizeof metrics);
    memset(errors, 0, sizeof errors);
    error_codes = 0;
}

/* ---- text building */

static void addf(resp_wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(resp_wbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        resp_add_raw(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    resp_add_raw(b, big, (size_t)n);
    free(big);
}

/* Redis's bytesToHuman. */
static const char *human(unsigned long long n, char *buf, size_t len)
{
    static const char units[] = "KMGTP";
    if (n < 1024) {
        snprintf(buf, len, "%lluB", n);
        return buf;
    }
    double d = (double)n / 1024;
    for (int i = 0; units[i]; i++, d /= 1024) {
        if (d < 1024 || units[i + 1] == '\0') {
            snprintf(buf, len, "%.2f%c", d, units[i]);
            return buf;
        }
    }
    return buf;
}

static const char *node_name(void)
{
    return srv.cfg.node_name[0] ? srv.cfg.node_name : srv.hostname;
}

static uint64_t uptime_s(void) { return (srv_now_ms() - srv.start_ms) / 1000; }

/* ---- sections */

static void section_server(resp_wbuf *b)
{
    struct utsname u;
    char exe[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (uname(&u) != 0) memset(&u, 0, sizeof u);
    uint64_t up = uptime_s();
    addf(b, "# Server\r\nredis_version:%s\r\nrepram_version:%s\r\nredis_git_sha1:00000000\r\n"
            "redis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:%s %s %s\r\n"
            "arch_bits:%d\r\nmultiplexing_api:%s\r\n",
         COMPAT_REDIS_VERSION, REPRAM_VERSION, u.sysname, u.release, u.machine,
         (int)(sizeof(void *) * 8), srv.base ? event_base_get_method(srv.base) : "none");
#if defined(__GNUC__)
    addf(b, "gcc_version:%d.%d.%d\r\n", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#endif
    addf(b, "process_id:%d\r\nprocess_supervised:no\r\nrun_id:%s\r\ntcp_port:%d\r\n"
            "server_time_usec:%llu\r\nuptime_in_seconds:%llu\r\nuptime_in_days:%llu\r\nhz:%d\r\n"
            "configured_hz:%d\r\nexecutable:%s\r\nconfig_file:%s\r\nio_threads_active:0\r\n",
         (int)srv.pid, srv.run_id, srv.cfg.port, (unsigned long long)srv_ustime(),
         (unsigned long long)up, (unsigned long long)(up / 86400), srv.cfg.hz, srv.cfg.hz, exe,
         srv.config_file ? srv.config_file : "");
}

static void section_clients(resp_wbuf *b)
{
    size_t max_in = 0, max_out = 0;
    int blocked = 0;
    for (srv_list_node *n = srv.clients.next; n != &srv.clients; n = n->next) {
        const srv_client *c = srv_container_of(n, srv_client, node);
        if (c->qbuf_peak > max_in) max_in = c->qbuf_peak;
        if (c->out_peak > max_out) max_out = c->out_peak;
        if (c->flags & SRV_CLIENT_BLOCKED) blocked++;
    }
    addf(b, "# Clients\r\nconnected_clients:%d\r\ncluster_connections:0\r\nmaxclients:%d\r\n"
            "client_recent_max_input_buffer:%zu\r\nclient_recent_max_output_buffer:%zu\r\n"
            "blocked_clients:%d\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n",
         srv.client_count, srv.cfg.maxclients, max_in, max_out, blocked);
}

static size_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void section_memory(resp_wbuf *b)
{
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    size_t used = srv_info_used_memory(), rss = rss_bytes(), dataset = srv_db_memory();
    size_t clients = clients_memory();
    /* The peak between two INFO calls is estimated: the heap now plus how far our own accounting
     * has fallen since its peak (the rest of the heap is assumed not to have moved). */
    size_t tracked = dataset + clients;
    if (tracked > tracked_peak) tracked_peak = tracked;
    if (used + (tracked_peak - tracked) > mem_peak) mem_peak = used + (tracked_peak - tracked);
    size_t overhead = used > dataset ? used - dataset : 0;
    unsigned long long total = (unsigned long long)sysconf(_SC_PHYS_PAGES) *
                               (unsigned long long)sysconf(_SC_PAGESIZE);
    addf(b, "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%zu\r\n"
            "used_memory_rss_human:%s\r\nused_memory_peak:%zu\r\nused_memory_peak_human:%s\r\n"
            "used_memory_peak_perc:%.2f%%\r\nused_memory_overhead:%zu\r\n"
            "used_memory_startup:%zu\r\nused_memory_dataset:%zu\r\n"
            "used_memory_dataset_perc:%.2f%%\r\ntotal_system_memory:%llu\r\n"
            "total_system_memory_human:%s\r\n",
         used, human(used, h1, sizeof h1), rss, human(rss, h2, sizeof h2), mem_peak,
         human(mem_peak, h3, sizeof h3), mem_peak ? 100.0 * (double)used / (double)mem_peak : 0.0,
         overhead, mem_startup, dataset, used ? 100.0 * (double)dataset / (double)used : 0.0, total,
         human(total, h4, sizeof h4));
    addf(b, "maxmemory:%lld\r\nmaxmemory_human:%s\r\nmaxmemory_policy:%s\r\n"
            "mem_fragmentation_ratio:%.2f\r\nmem_fragmentation_bytes:%lld\r\n"
            "mem_clients_normal:%zu\r\nmem_allocator:libc\r\nlazyfree_pending_objects:0\r\n",
         srv.cfg.maxmemory, human((unsigned long long)srv.cfg.maxmemory, h5, sizeof h5),
         srv.cfg.maxmemory_policy == SRV_MAXMEMORY_VOLATILE_TTL ? "volatile-ttl" : "noeviction",
         used ? (double)rss / (double)used : 0.0, (long long)rss - (long long)used, clients);
}

static void section_persistence(resp_wbuf *b)
{
    /* repram never persists: these are Redis's values with saving and AOF off. */
    addf(b, "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\n"
            "rdb_bgsave_in_progress:0\r\nrdb_last_save_time:%llu\r\nrdb_last_bgsave_status:ok\r\n"
            "rdb_last_bgsave_time_sec:-1\r\nrdb_current_bgsave_time_sec:-1\r\nrdb_saves:0\r\n"
            "aof_enabled:0\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
            "aof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n"
            "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_last_write_status:ok\r\n",
         (unsigned long long)(srv.start_ms / 1000));
}

static void section_stats(resp_wbuf *b)
{
    const srv_stats *s = &srv.stats;
    addf(b, "# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
            "instantaneous_ops_per_sec:%llu\r\ntotal_net_input_bytes:%llu\r\n"
            "total_net_output_bytes:%llu\r\ntotal_net_repl_input_bytes:0\r\n"
            "total_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:%.2f\r\n"
            "instantaneous_output_kbps:%.2f\r\ninstantaneous_input_repl_kbps:0.00\r\n"
            "instantaneous_output_repl_kbps:0.00\r\nrejected_connections:%llu\r\n"
            "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n",
         (unsigned long long)s->connections_received, (unsigned long long)s->commands_processed,
         (unsigned long long)metric_rate(&metrics[METRIC_OPS]),
         (unsigned long long)s->net_input_bytes, (unsigned long long)s->net_output_bytes,
         (double)metric_rate(&metrics[METRIC_NET_IN]) / 1024,
         (double)metric_rate(&metrics[METRIC_NET_OUT]) / 1024,
         (unsigned long long)s->rejected_connections);
    addf(b, "expired_keys:%llu\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\n"
            "evicted_keys:%llu\r\nevicted_clients:0\r\nkeyspace_hits:%llu\r\n"
            "keyspace_misses:%llu\r\npubsub_channels:0\r\npubsub_patterns:0\r\n"
            "pubsubshard_channels:0\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\n"
            "tracking_total_keys:0\r\ntracking_total_items:0\r\ntracking_total_prefixes:0\r\n"
            "unexpected_error_replies:%llu\r\ntotal_error_replies:%llu\r\n"
            "acl_access_denied_auth:%llu\r\n",
         (unsigned long long)srv_db_expired_keys(), (unsigned long long)srv_db_evicted_keys(),
         (unsigned long long)s->keyspace_hits, (unsigned long long)s->keyspace_misses,
         (unsigned long long)s->unexpected_error_replies,
         (unsigned long long)s->total_error_replies, (unsigned long long)s->auth_failures);
}

static void section_replication(resp_wbuf *b)
{
    addf(b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\n"
            "master_failover_state:no-failover\r\nmaster_replid:%s\r\n"
            "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n"
            "second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:0\r\n"
            "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
         srv.run_id);
}

static void section_cpu(resp_wbuf *b)
{
    struct rusage self, children, thread;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    getrusage(RUSAGE_THREAD, &thread);
    addf(b, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n"
            "used_cpu_sys_children:%ld.%06ld\r\nused_cpu_user_children:%ld.%06ld\r\n"
            "used_cpu_sys_main_thread:%ld.%06ld\r\nused_cpu_user_main_thread:%ld.%06ld\r\n",
         (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
         (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec,
         (long)children.ru_stime.tv_usec, (long)children.ru_utime.tv_sec,
         (long)children.ru_utime.tv_usec, (long)thread.ru_stime.tv_sec,
         (long)thread.ru_stime.tv_usec, (long)thread.ru_utime.tv_sec,
         (long)thread.ru_utime.tv_usec);
}

static void cmdstat_one(srv_command *cmd, void *priv)
{
    const srv_cmd_stats *s = &cmd->stats;
    if (!s->calls && !s->failed_calls && !s->rejected_calls) return;
    addf(priv, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
               "failed_calls=%llu\r\n",
         cmd->fullname, (unsigned long long)s->calls, (unsigned long long)s->usec,
         s->calls ? (double)s->usec / (double)s->calls : 0.0,
         (unsigned long long)s->rejected_calls, (unsigned long long)s->failed_calls);
}

static void section_commandstats(resp_wbuf *b)
{
    addf(b, "# Commandstats\r\n");
    srv_commands_foreach(cmdstat_one, b);
}

static void section_errorstats(resp_wbuf *b)
{
    addf(b, "# Errorstats\r\n");
    for (int i = 0; i < error_codes; i++)
        addf(b, "errorstat_%s:count=%llu\r\n", errors[i].code, (unsigned long long)errors[i].count);
}

typedef struct ttl_sample {
    uint64_t now, sum;
    unsigned n;
} ttl_sample;

static void ttl_visit(void *priv, const ttl_entry *e)
{
    ttl_sample *s = priv;
    uint64_t at = ttl_entry_expire_at(e);
    if (s->n >= AVG_TTL_SAMPLES || at <= s->now) return;
    s->sum += at - s->now;
    s->n++;
}

/* Mean remaining TTL in ms over a few keys from a random cursor (no side effects on the keys). */
static uint64_t avg_ttl_ms(void)
{
    ttl_sample s = {srv_now_ms(), 0, 0};
    uint64_t cursor = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
    for (int round = 0; round < 8 && s.n < AVG_TTL_SAMPLES; round++)
        cursor = ttl_dict_scan(srv.db, cursor, 16, s.now, 0, ttl_visit, &s);
    return s.n ? s.sum / s.n : 0;
}

static void section_keyspace(resp_wbuf *b)
{
    addf(b, "# Keyspace\r\n");
    size_t keys = srv_db_size();
    if (keys) /* every key has a TTL here, so expires == keys */
        addf(b, "db0:keys=%zu,expires=%zu,avg_ttl=%llu\r\n", keys, keys,
             (unsigned long long)avg_ttl_ms());
}

static void section_repram(resp_wbuf *b)
{
    const srv_stats *s = &srv.stats;
    char small[4096], *cluster_lines = small;
    size_t need = srv_repl_info(small, sizeof small);
    if (need >= sizeof small) { /* many peers: the whole text, never a cut one */
        cluster_lines = malloc(need + 1);
        if (!cluster_lines) abort(); /* as addf */
        srv_repl_info(cluster_lines, need + 1);
    }
    addf(b, "# Repram\r\nrepram_version:%s\r\nnode_name:%s\r\n%sdefault_ttl:%lld\r\n"
            "max_ttl:%lld\r\nttl_clamp:%s\r\n"
            "max_key_size:%lld\r\nmax_value_size:%lld\r\nkeys:%zu\r\ntombstones:%zu\r\n"
            "dataset_bytes:%zu\r\n",
         REPRAM_VERSION, node_name(), cluster_lines, srv.cfg.default_ttl_s, srv.cfg.max_ttl_s,
         srv.cfg.ttl_clamp ? "yes" : "no", srv.cfg.max_key_size, srv.cfg.max_value_size,
         srv_db_size(), ttl_dict_tombstones(srv.db), srv_db_memory());
    if (cluster_lines != small) free(cluster_lines);
    addf(b, "oom_rejections:%llu\r\noversize_rejections:%llu\r\nrejected_commands:%llu\r\n"
            "protocol_errors:%llu\r\nquerybuf_limit_closes:%llu\r\nstats_reset_at_ms:%llu\r\n",
         (unsigned long long)s->oom_rejections, (unsigned long long)s->oversize_rejections,
         (unsigned long long)s->rejected_calls, (unsigned long long)s->protocol_errors,
         (unsigned long long)s->querybuf_limit_closes, (unsigned long long)srv.stat_reset_ms);
    addf(b, "loop_busy_pct:%d\r\nloop_polling:%d\r\nloop_poll_hits:%llu\r\n"
            "loop_poll_idle_us:%llu\r\nloop_sleeps:%llu\r\n",
         srv.loop.busy_pct, srv.loop.polling && srv.cfg.busy_poll_us > 0,
         (unsigned long long)srv.loop.poll_hits, (unsigned long long)(srv.loop.poll_idle_ns / 1000),
         (unsigned long long)(srv_loop_sleeps() - srv.loop_sleeps_base));
    addf(b, "obuf_hard_limit_closes:%llu\r\nobuf_soft_limit_closes:%llu\r\n"
            "multi_queue_rejections:%llu\r\nscan_count_clamps:%llu\r\n"
            "keys_limit_rejections:%llu\r\n"
            "protected_mode_rejections:%llu\r\ntls_handshake_failures:%llu\r\n"
            "tls_handshake_timeouts:%llu\r\ntls_clients:%d\r\n",
         (unsigned long long)s->obuf_hard_limit_closes,
         (unsigned long long)s->obuf_soft_limit_closes,
         (unsigned long long)s->multi_queue_rejections, (unsigned long long)s->scan_count_clamps,
         (unsigned long long)s->keys_limit_rejections,
         (unsigned long long)s->protected_mode_rejections,
         (unsigned long long)s->tls_handshake_failures,
         (unsigned long long)s->tls_handshake_timeouts, srv.tls_client_count);
}

/* ---- INFO */

typedef void section_fn(resp_wbuf *b);

static const struct section {
    const char *name;
    section_fn *fn;
    int in_default;
} sections[] = {
    {"server", section_server, 1},           {"clients", section_clients, 1},
    {"memory", section_memory, 1},           {"persistence", section_persistence, 1},
    {"stats", section_stats, 1},             {"replication", section_replication, 1},
    {"cpu", section_cpu, 1},                 {"modules", NULL, 1},
    {"commandstats", section_commandstats, 0}, {"errorstats", section_errorstats, 1},
    {"cluster", NULL, 1},                    {"keyspace", section_keyspace, 1},
    {"repram", section_repram, 1},
};
#define SECTION_COUNT (sizeof sections / sizeof sections[0])

static void emit_section(resp_wbuf *b, const struct section *s)
{
    if (b->len) resp_add_raw(b, "\r\n", 2);
    if (s->fn) s->fn(b);
    else if (strcmp(s->name, "modules") == 0) addf(b, "# Modules\r\n");
    else addf(b, "# Cluster\r\ncluster_enabled:0\r\n");
}

/* Mark the sections one INFO argument asks for. */
static void select_sections(const resp_arg *a, int *want)
{
    int all = srv_strcaseeq_len(a->ptr, a->len, "all") ||
              srv_strcaseeq_len(a->ptr, a->len, "everything");
    int dflt = srv_strcaseeq_len(a->ptr, a->len, "default");
    for (size_t i = 0; i < SECTION_COUNT; i++) {
        if (all || (dflt && sections[i].in_default) ||
            srv_strcaseeq_len(a->ptr, a->len, sections[i].name) ||
            (i == 7 && srv_strcaseeq_len(a->ptr, a->len, "module_list")))
            want[i] = 1;
    }
}

void srv_info_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    int want[SECTION_COUNT] = {0};
    static const resp_arg dflt = {"default", 7};
    if (argc == 1) select_sections(&dflt, want);
    for (int i = 1; i < argc; i++) select_sections(&argv[i], want);
    resp_wbuf b;
    resp_wbuf_init(&b);
    for (size_t i = 0; i < SECTION_COUNT; i++)
        if (want[i]) emit_section(&b, &sections[i]);
    if (resp_wbuf_failed(&b)) abort();
    srv_reply_verbatim(c, b.data ? b.data : "", b.len);
    resp_wbuf_deinit(&b);
}

/* ---- REPRAM */

static void map_str(srv_client *c, const char *k, const char *v)
{
    srv_reply_bulk_cstr(c, k);
    srv_reply_bulk_cstr(c, v);
}

static void map_int(srv_client *c, const char *k, long long v)
{
    srv_reply_bulk_cstr(c, k);
    srv_reply_int(c, v);
}

/* Voters reachable now, this node included. */
static int nodes_reachable(const cluster *cl)
{
    int n = 1;
    for (int i = 0; cl && i < cluster_peer_count(cl); i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        if (pi.name && pi.state == CLUSTER_PEER_OK) n++;
    }
    return n;
}

void srv_repram_status_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    const cluster *cl = srv_repl_cluster();
    srv_reply_map(c, 13);
    map_str(c, "node", node_name());
    map_str(c, "version", REPRAM_VERSION);
    map_str(c, "run_id", cl ? cluster_run_id(cl) : srv.run_id);
    map_str(c, "mode", cl ? "cluster" : "single");
    map_int(c, "cluster_size", srv.cfg.cluster_size);
    map_int(c, "quorum", cl ? cluster_quorum(cl) : 1);
    map_int(c, "nodes_alive", nodes_reachable(cl));
    map_int(c, "can_write", srv_repl_can_write());
    map_str(c, "state", srv.shutdown_asap ? "shutting-down" : "ok");
    map_int(c, "keys", (long long)srv_db_size());
    map_int(c, "dataset_bytes", (long long)srv_db_memory());
    map_int(c, "used_memory", (long long)srv_info_used_memory());
    map_int(c, "uptime_in_seconds", (long long)uptime_s());
}

static const char *peer_state_name(enum cluster_peer_state s)
{
    switch (s) {
    case CLUSTER_PEER_OK: return "connected";
    case CLUSTER_PEER_PFAIL: return "suspected";
    case CLUSTER_PEER_FAIL: return "failed";
    default: return "connecting";
    }
}

/* One line per node:
 *   "<run_id> <node-name> <bus-address> <client-port> <flags> <state>\n"
 * flags: myself and/or voter; state: connected, connecting, suspected (silent for node-timeout),
 * failed (a majority agrees).  Unknown fields (a seed not reached yet) are "-". */
void srv_repram_nodes_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    const cluster *cl = srv_repl_cluster();
    resp_wbuf b;
    resp_wbuf_init(&b);
    const char *addr = srv.cfg.bind_count > 0 ? srv.cfg.bind[0] : "-";
    int bus = srv.cfg.cluster_port ? srv.cfg.cluster_port : srv.cfg.port + 10000;
    addf(&b, "%s %s %s:%d %d myself,voter connected\n", cl ? cluster_run_id(cl) : srv.run_id,
         node_name(), addr, bus, srv.cfg.port);
    for (int i = 0; cl && i < cluster_peer_count(cl); i++) {
        cluster_peer_info pi;
        cluster_peer_get(cl, i, &pi);
        addf(&b, "%s %s %s %d voter %s\n", pi.run_id && pi.run_id[0] ? pi.run_id : "-",
             pi.name ? pi.name : "-", pi.addr, pi.client_port, peer_state_name(pi.state));
    }
    if (resp_wbuf_failed(&b)) abort();
    srv_reply_verbatim(c, b.data, b.len);
    resp_wbuf_deinit(&b);
}
