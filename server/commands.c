/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.c: command registry and dispatcher.
 *
 * What: indexes the family tables (cmd_*.c) in one open-addressing table keyed by lower-case name,
 * and runs each request through the checks Redis 7.0 applies, in Redis's order, with its texts:
 * unknown command -> unknown subcommand -> arity -> authentication -> memory (denyoom) -> MULTI
 * queueing -> call.  A refusal inside MULTI marks the transaction so EXEC aborts (EXECABORT).
 *
 * Why a private index rather than a switch or a sorted array: lookup is on the hot path of every
 * request; one FNV-1a hash of the (at most 32-byte) name and a probe or two beats a binary search,
 * and the index is built once from the tables so nothing is listed twice.
 *
 * Invariants: every srv_command reachable from the index has fullname and parent set; the index
 * is read-only after srv_commands_init.  Event-loop thread only.
 */
#include "server/commands.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "server/client.h"
#include "server/db.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/ratelimit.h"
#include "server/replica.h"
#include "server/shadow.h"
#include "server/server.h"

#define NAME_MAX_LEN 32 /* longer names cannot be commands: no lookup needed */

static srv_command **index_slots;
static srv_ratelimit *resp_limiter; /* resp-rate-limit's buckets, created on first use */
static size_t index_mask;
static int top_count;

static srv_command *const *family_tables(size_t *n)
{
    static srv_command *const tables[] = {srv_cmds_string, srv_cmds_keys, srv_cmds_conn,
                                          srv_cmds_server, srv_cmds_multi, srv_cmds_debug};
    *n = sizeof tables / sizeof tables[0];
    return tables;
}

static uint32_t name_hash(const char *lower, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)lower[i]) * 16777619u;
    return h;
}

/* Lower-case name into buf (NAME_MAX_LEN + 1).  Returns 0 when too long to be a command. */
static int lower_name(const char *name, size_t len, char *buf)
{
    if (len == 0 || len > NAME_MAX_LEN) return 0;
    for (size_t i = 0; i < len; i++) buf[i] = (char)tolower((unsigned char)name[i]);
    buf[len] = '\0';
    return 1;
}

static void index_insert(srv_command *cmd)
{
    size_t i = name_hash(cmd->name, strlen(cmd->name)) & index_mask;
    while (index_slots[i]) i = (i + 1) & index_mask;
    index_slots[i] = cmd;
}

static void setup_subcommands(srv_command *parent)
{
    for (srv_command *s = parent->subcommands; s && s->name; s++) {
        s->parent = parent;
        snprintf(s->fullname, sizeof s->fullname, "%s|%s", parent->name, s->name);
    }
}

int srv_commands_init(void)
{
    size_t nt;
    srv_command *const *tables = family_tables(&nt);
    top_count = 0;
    for (size_t t = 0; t < nt; t++)
        for (srv_command *c = tables[t]; c->name; c++) top_count++;
    size_t cap = 64;
    while (cap < (size_t)top_count * 4) cap *= 2;
    index_slots = calloc(cap, sizeof *index_slots);
    if (!index_slots) return -1;
    index_mask = cap - 1;
    for (size_t t = 0; t < nt; t++) {
        for (srv_command *c = tables[t]; c->name; c++) {
            snprintf(c->fullname, sizeof c->fullname, "%s", c->name);
            c->parent = NULL;
            setup_subcommands(c);
            index_insert(c);
        }
    }
    return 0;
}

void srv_commands_free(void)
{
    free(index_slots);
    index_slots = NULL;
    srv_ratelimit_free(resp_limiter);
    resp_limiter = NULL;
}

srv_command *srv_command_lookup(const char *name, size_t len)
{
    char buf[NAME_MAX_LEN + 1];
    if (!lower_name(name, len, buf)) return NULL;
    size_t i = name_hash(buf, len) & index_mask;
    for (srv_command *c; (c = index_slots[i]) != NULL; i = (i + 1) & index_mask)
        if (strncmp(c->name, buf, len) == 0 && c->name[len] == '\0') return c;
    return NULL;
}

srv_command *srv_subcommand_lookup(const srv_command *parent, const char *name, size_t len)
{
    char buf[NAME_MAX_LEN + 1];
    if (!lower_name(name, len, buf)) return NULL;
    for (srv_command *s = parent->subcommands; s && s->name; s++)
        if (strcmp(s->name, buf) == 0) return s;
    return NULL;
}

void srv_commands_foreach(srv_command_visit_fn *fn, void *priv)
{
    size_t nt;
    srv_command *const *tables = family_tables(&nt);
    for (size_t t = 0; t < nt; t++) {
        for (srv_command *c = tables[t]; c->name; c++) {
            fn(c, priv);
            for (srv_command *s = c->subcommands; s && s->name; s++) fn(s, priv);
        }
    }
}

int srv_commands_count(void) { return top_count; }

static void reset_one(srv_command *cmd, void *priv)
{
    (void)priv;
    memset(&cmd->stats, 0, sizeof cmd->stats);
}

void srv_commands_reset_stats(void) { srv_commands_foreach(reset_one, NULL); }

/* ---- rejections */

/* Append "'arg' " for each argument while the text is shorter than 128 bytes, as Redis does. */
static void format_args(char *out, size_t cap, int argc, const resp_arg *argv, int from)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = from; i < argc && len < 128; i++) {
        size_t room = 128 - len;
        size_t n = argv[i].len < room ? argv[i].len : room;
        if (len + n + 3 >= cap) break;
        out[len++] = '\'';
        memcpy(out + len, argv[i].ptr, n);
        len += n;
        out[len++] = '\'';
        out[len++] = ' ';
        out[len] = '\0';
    }
}

/* A refused request: counted, and inside MULTI it poisons the transaction. */
static void count_rejection(srv_client *c, srv_command *cmd)
{
    srv.stats.rejected_calls++;
    if (cmd) cmd->stats.rejected_calls++;
    if (c->flags & SRV_CLIENT_MULTI) c->flags |= SRV_CLIENT_DIRTY_EXEC;
}

static void reject(srv_client *c, srv_command *cmd, const char *msg)
{
    count_rejection(c, cmd);
    if (srv_multi_abort_exec(c, cmd, msg)) return; /* EXEC itself refused: EXECABORT */
    srv_reply_error(c, msg);
}

static void upper_copy(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) dst[i] = (char)toupper((unsigned char)src[i]);
    dst[i] = '\0';
}

srv_command *srv_command_resolve(int argc, const resp_arg *argv, char *errbuf, size_t errlen)
{
    srv_command *cmd = srv_command_lookup(argv[0].ptr, argv[0].len);
    if (!cmd) {
        char args[192];
        format_args(args, sizeof args, argc, argv, 1);
        int n = (int)(argv[0].len < 128 ? argv[0].len : 128);
        snprintf(errbuf, errlen, "ERR unknown command '%.*s', with args beginning with: %s", n,
                 argv[0].ptr, args);
        return NULL;
    }
    if (cmd->subcommands && argc >= 2) {
        srv_command *sub = srv_subcommand_lookup(cmd, argv[1].ptr, argv[1].len);
        if (!sub) {
            char up[NAME_MAX_LEN + 1];
            upper_copy(up, cmd->name, sizeof up);
            int n = (int)(argv[1].len < 128 ? argv[1].len : 128);
            snprintf(errbuf, errlen, "ERR unknown subcommand '%.*s'. Try %s HELP.", n, argv[1].ptr,
                     up);
            return NULL;
        }
        cmd = sub;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        snprintf(errbuf, errlen, "ERR wrong number of arguments for '%s' command", cmd->fullname);
        return NULL;
    }
    return cmd;
}

/* ---- dispatch */

void srv_call(srv_client *c, srv_command *cmd, int argc, const resp_arg *argv)
{
    uint64_t errors = srv.stats.total_error_replies;
    uint64_t start = srv_ustime();
    c->last_cmd = cmd;
    cmd->fn(c, argc, argv);
    uint64_t us = srv_ustime() - start;
    cmd->stats.usec += us;
    cmd->stats.latency[srv_latency_bucket(us)]++;
    cmd->stats.calls++;
    if (srv.stats.total_error_replies > errors) cmd->stats.failed_calls++; /* > : RESETSTAT */
    srv.stats.commands_processed++;
}

static int is_transaction_control(const srv_command *cmd)
{
    return (cmd->flags & SRV_CMD_NOMULTI) != 0;
}

static size_t args_bytes(int argc, const resp_arg *argv)
{
    size_t n = 0;
    for (int i = 0; i < argc; i++) n += argv[i].len;
    return n;
}

/*
 * A MULTI queue is client memory nothing else bounds: at most multi-max-commands commands, and
 * its bytes count toward client-query-buffer-limit (they are requests not yet run).  Refusing
 * poisons the transaction like any queueing error, so a half-queued transaction never runs.
 * Returns 1 after replying the refusal.
 */
static int multi_queue_full_or_reply(srv_client *c, srv_command *cmd, int argc,
                                     const resp_arg *argv)
{
    char msg[160];
    if (srv.cfg.multi_max_commands > 0 && c->mcount >= srv.cfg.multi_max_commands)
        snprintf(msg, sizeof msg, "ERR MULTI queue is full (multi-max-commands is %d): EXEC or "
                 "DISCARD", srv.cfg.multi_max_commands);
    else if ((long long)(c->mstate_mem + args_bytes(argc, argv)) >
             srv.cfg.client_query_buffer_limit)
        snprintf(msg, sizeof msg, "ERR MULTI queue would exceed client-query-buffer-limit (%lld "
                 "bytes): EXEC or DISCARD", srv.cfg.client_query_buffer_limit);
    else
        return 0;
    srv.stats.multi_queue_rejections++;
    reject(c, cmd, msg);
    return 1;
}

/* ---- resp-rate-limit (off by default) */

#define RATE_LIMIT_ERR "ERR rate limit exceeded for this client address (resp-rate-limit)"

/* 1 when c's address is over resp-rate-limit (counted; the caller refuses the request). */
static int rate_limited(srv_client *c)
{
    if (!resp_limiter) {
        uint64_t seed = 0;
        if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = srv_ustime();
        resp_limiter = srv_ratelimit_create(0, seed);
        if (!resp_limiter) abort();
    }
    if (c->peer_ip.len == 0) { /* c->addr is "ip:port" (IPv6 without brackets) */
        const char *colon = strrchr(c->addr, ':');
        srv_ipaddr_parse(c->addr, colon ? (size_t)(colon - c->addr) : strlen(c->addr), &c->peer_ip);
    }
    if (srv_ratelimit_take(resp_limiter, &c->peer_ip, srv_now_ms(), (double)srv.cfg.resp_rate_limit,
                           (double)srv.cfg.resp_rate_burst, NULL))
        return 0;
    srv.stats.resp_rate_limited++;
    return 1;
}

static void process(srv_client *c, int argc, const resp_arg *argv)
{
    char err[512];
    if (srv.cfg.resp_rate_limit > 0 && rate_limited(c)) {
        reject(c, srv_command_lookup(argv[0].ptr, argv[0].len), RATE_LIMIT_ERR);
        return;
    }
    srv_command *cmd = srv_command_resolve(argc, argv, err, sizeof err);
    if (!cmd) {
        /* Attribute arity errors to the known command for its statistics. */
        srv_command *known = srv_command_lookup(argv[0].ptr, argv[0].len);
        if (known && known->subcommands && argc >= 2) {
            srv_command *sub = srv_subcommand_lookup(known, argv[1].ptr, argv[1].len);
            if (sub) known = sub;
        }
        reject(c, known, err);
        return;
    }
    if (!(c->flags & SRV_CLIENT_AUTHENTICATED) && !(cmd->flags & SRV_CMD_NOAUTH)) {
        reject(c, cmd, "NOAUTH Authentication required.");
        return;
    }
    if (srv.loading && !(cmd->flags & SRV_CMD_LOADING)) {
        reject(c, cmd, "LOADING Redis is loading the dataset in memory");
        return;
    }
    if ((c->flags & SRV_CLIENT_MULTI) && (cmd->flags & SRV_CMD_NO_MULTI_QUEUE)) {
        reject(c, cmd, "ERR Command not allowed inside a transaction");
        return;
    }
    /* In a cluster a write needs a reachable quorum before anything is applied (Redis's
     * min-replicas rule and text).  Queueing inside MULTI is not a write; EXEC of writes is. */
    int writes = (cmd->flags & SRV_CMD_WRITE) ||
                 (srv_multi_is_exec(cmd) && srv_multi_writes_queued(c));
    int queueing = (c->flags & SRV_CLIENT_MULTI) && !srv_multi_is_exec(cmd);
    if (writes && !queueing && !srv_repl_admit_write()) {
        reject(c, cmd, "NOREPLICAS Not enough good replicas to write.");
        return;
    }
    /* Over maxmemory, Redis also refuses to queue anything inside MULTI (the queue itself
     * grows); EXEC checks its queued denyoom commands itself (cmd_multi.c). */
    int grows = (cmd->flags & SRV_CMD_DENYOOM) ||
                ((c->flags & SRV_CLIENT_MULTI) && !is_transaction_control(cmd));
    if (grows && srv.cfg.maxmemory > 0) {
        if (srv_db_make_room_or_reply(c, args_bytes(argc, argv)) < 0) {
            count_rejection(c, cmd);
            return;
        }
    }
    if ((c->flags & SRV_CLIENT_MULTI) && !is_transaction_control(cmd)) {
        if (multi_queue_full_or_reply(c, cmd, argc, argv)) return;
        srv_multi_queue(c, cmd, argc, argv);
        return;
    }
    srv_call(c, cmd, argc, argv);
}

void srv_process_command(srv_client *c, int argc, const resp_arg *argv)
{
    srv.current = c;
    c->argv_mem = args_bytes(argc, argv);
    c->hold_from = c->out.len;
    process(c, argc, argv);
    srv_shadow_flush();        /* markers of shortened lifetimes a lookup just expired */
    srv_repl_finish_client(c); /* in a cluster: hold the reply until a majority has the change */
    c->argv_mem = 0;
    /* CLIENT REPLY SKIP mutes exactly the command after it. */
    c->flags &= ~SRV_CLIENT_REPLY_SKIP;
    if (c->flags & SRV_CLIENT_REPLY_SKIP_NEXT) {
        c->flags &= ~SRV_CLIENT_REPLY_SKIP_NEXT;
        c->flags |= SRV_CLIENT_REPLY_SKIP;
    }
    srv.current = NULL;
}
