/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_server.c: server administration commands: CONFIG (GET, SET, RESETSTAT, HELP), TIME, WAIT,
 * FUNCTION FLUSH, SHUTDOWN, and the table entries of INFO and REPRAM (handlers in info.c) and of
 * COMMAND (handlers in cmd_command.c), so every server command is listed in one table.
 *
 * CONFIG drives the option table of config.c.  CONFIG GET takes several patterns (7.0), matched
 * case-insensitively with Redis's glob language; a plain name is shown as the client typed it.
 * CONFIG SET is atomic over all its pairs, as in 7.0: every name is checked first (unknown,
 * immutable, duplicate), then the values are applied one by one with the previous values kept as
 * text; a bad value or a failed cross-option check (config_validate) restores them all.  Error
 * texts are Redis's ("CONFIG SET failed (possibly related to argument 'x') - <reason>"), with the
 * reason worded as Redis words it for the option's type.  Changes take effect at once: log level,
 * timer rate, password and protocol limits of every connected client.
 *
 * Nothing here is persistent: CONFIG REWRITE does not exist, and SHUTDOWN SAVE refuses.
 * Event-loop thread only.  Start reading at config_set_cmd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/db.h"
#include "server/info.h"
#include "server/log.h"
#include "server/loop.h"
#include "server/net.h"
#include "server/replica.h"
#include "server/server.h"
#include "server/util.h"

#define OPTION_NAME_MAX 64 /* longer names are not options: no lookup needed */

static int arg_is(const resp_arg *a, const char *word)
{
    return srv_strcaseeq_len(a->ptr, a->len, word);
}

static int arg_len128(const resp_arg *a) { return (int)(a->len < 128 ? a->len : 128); }

/* ---- CONFIG */

static size_t option_count(void)
{
    size_t n = 0;
    while (srv_options[n].name) n++;
    return n;
}

/* Copy an argument into a NUL-terminated buffer; 0 when it does not fit or holds a NUL byte. */
static int arg_cstr(const resp_arg *a, char *buf, size_t cap)
{
    if (a->len >= cap || memchr(a->ptr, '\0', a->len)) return 0;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    return 1;
}

static const srv_option *find_option_arg(const resp_arg *a)
{
    char name[OPTION_NAME_MAX + 1];
    return arg_cstr(a, name, sizeof name) ? config_find_option(name) : NULL;
}

/* CONFIG GET pattern [pattern ...]: a name without glob characters is looked up directly and
 * shown as typed; patterns match option names case-insensitively.  Each option appears once. */
static void config_get_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    size_t nopt = option_count(), found = 0;
    const resp_arg **shown = calloc(nopt ? nopt : 1, sizeof *shown);
    static const resp_arg canonical = {NULL, 0};
    if (!shown) abort();
    for (int i = 2; i < argc; i++) {
        const resp_arg *p = &argv[i];
        int glob = memchr(p->ptr, '*', p->len) || memchr(p->ptr, '?', p->len) ||
                   memchr(p->ptr, '[', p->len);
        for (size_t o = 0; o < nopt; o++) {
            if (shown[o]) continue;
            const char *name = srv_options[o].name;
            if (glob ? srv_glob_match(p->ptr, p->len, name, strlen(name), 1)
                     : srv_strcaseeq_len(p->ptr, p->len, name)) {
                shown[o] = glob ? &canonical : p;
                found++;
            }
        }
    }
    srv_reply_map(c, (long long)found);
    for (size_t o = 0; o < nopt; o++) {
        char value[1024];
        if (!shown[o]) continue;
        if (shown[o]->ptr) srv_reply_bulk(c, shown[o]->ptr, shown[o]->len);
        else srv_reply_bulk_cstr(c, srv_options[o].name);
        size_t n = config_format_option(&srv.cfg, &srv_options[o], value, sizeof value);
        srv_reply_bulk(c, value, n);
    }
    free(shown);
}

/* Redis's wording for a value an option refuses. */
static void bad_value_reason(const srv_option *o, const char *v, const char *cfg_err, char *out,
                             size_t cap)
{
    long long n;
    int rc = SRV_PARSE_OK;
    if (o->type == SRV_OPT_INT) rc = srv_parse_ll(v, strlen(v), &n);
    else if (o->type == SRV_OPT_BYTES) rc = srv_parse_bytes(v, strlen(v), &n);
    else if (o->type == SRV_OPT_SECONDS) rc = srv_parse_seconds(v, strlen(v), &n);
    if (rc == SRV_PARSE_INVALID && o->type == SRV_OPT_SECONDS)
        rc = srv_parse_ll(v, strlen(v), &n); /* "-1" is a number out of range, as in Redis */
    switch (o->type) {
    case SRV_OPT_INT:
    case SRV_OPT_BYTES:
    case SRV_OPT_SECONDS:
        if (rc != SRV_PARSE_OK)
            snprintf(out, cap, "%s", o->type == SRV_OPT_BYTES
                                         ? "argument must be a memory value"
                                         : "argument couldn't be parsed into an integer");
        else
            snprintf(out, cap, "argument must be between %lld and %lld inclusive", o->min, o->max);
        return;
    case SRV_OPT_BOOL:
        snprintf(out, cap, "argument must be 'yes' or 'no'");
        return;
    case SRV_OPT_ENUM: {
        size_t len = (size_t)snprintf(out, cap, "argument(s) must be one of the following: ");
        for (int i = 0; o->enum_names[i] && len < cap; i++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? ", " : "", o->enum_names[i]);
        return;
    }
    default: { /* config.c's own reason, without its "option 'x': " prefix */
        const char *p = strstr(cfg_err, "': ");
        snprintf(out, cap, "%s", p ? p + 3 : cfg_err);
        return;
    }
    }
}

/* Check every name before anything changes.  Returns 0, or -1 after replying. */
static int config_set_check_or_reply(srv_client *c, int argc, const resp_arg *argv,
                                     const srv_option **opts)
{
    int pairs = (argc - 2) / 2;
    for (int i = 0; i < pairs; i++) {
        const resp_arg *name = &argv[2 + 2 * i];
        opts[i] = find_option_arg(name);
        const char *why = NULL;
        if (!opts[i]) {
            srv_reply_errorf(c, "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                             arg_len128(name), name->ptr);
            return -1;
        }
        if (!(opts[i]->flags & SRV_OPT_MUTABLE)) why = "can't set immutable config";
        for (int j = 0; j < i && !why; j++)
            if (opts[j] == opts[i]) why = "duplicate parameter";
        if (why) {
            srv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                             arg_len128(name), name->ptr, why);
            return -1;
        }
    }
    return 0;
}

static void restore_options(const srv_option **opts, char **old, int n)
{
    char err[256];
    for (int i = n - 1; i >= 0; i--)
        if (config_set_option(&srv.cfg, opts[i], old[i], err, sizeof err) != 0)
            srv_log(SRV_LOG_WARNING, "CONFIG SET: could not restore %s: %s", opts[i]->name, err);
}

/* Side effects of changed options on running state. */
static void config_apply(const srv_option *o)
{
    if (strcmp(o->name, "loglevel") == 0) srv_log_level = srv.cfg.loglevel;
    else if (strcmp(o->name, "hz") == 0) srv_net_update_hz();
    else if (strcmp(o->name, "requirepass") == 0 || strcmp(o->name, "proto-max-bulk-len") == 0) {
        /* With no password every connection may run commands (Redis checks the default user's
         * nopass flag on each command); limits follow the authentication state. */
        for (srv_list_node *n = srv.clients.next; n != &srv.clients; n = n->next) {
            srv_client *cl = srv_container_of(n, srv_client, node);
            if (srv.cfg.requirepass[0] == '\0') cl->flags |= SRV_CLIENT_AUTHENTICATED;
            srv_client_update_limits(cl);
        }
    }
}

/* Apply the values in order; on a bad value restore the earlier ones.  Returns 0 or -1. */
static int config_set_values_or_reply(srv_client *c, const resp_arg *argv,
                                      const srv_option **opts, char **old, int pairs)
{
    char value[4096], err[256], reason[512];
    for (int i = 0; i < pairs; i++) {
        const resp_arg *v = &argv[3 + 2 * i];
        size_t n = config_format_option(&srv.cfg, opts[i], value, sizeof value);
        if (!(old[i] = malloc(n + 1))) abort();
        memcpy(old[i], value, n + 1);
        int ok = arg_cstr(v, value, sizeof value);
        if (ok) ok = config_set_option(&srv.cfg, opts[i], value, err, sizeof err) == 0;
        else snprintf(err, sizeof err, "option '%s': invalid value", opts[i]->name);
        if (!ok) {
            bad_value_reason(opts[i], value, err, reason, sizeof reason);
            restore_options(opts, old, i);
            srv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                             opts[i]->name, reason);
            return -1;
        }
    }
    if (config_validate(&srv.cfg, err, sizeof err) != 0) {
        restore_options(opts, old, pairs);
        srv_reply_errorf(c, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                         opts[0]->name, err);
        return -1;
    }
    return 0;
}

static void config_set_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    if (argc % 2) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    int pairs = (argc - 2) / 2;
    const srv_option **opts = calloc((size_t)pairs, sizeof *opts);
    char **old = calloc((size_t)pairs, sizeof *old);
    if (!opts || !old) abort();
    if (config_set_check_or_reply(c, argc, argv, opts) == 0 &&
        config_set_values_or_reply(c, argv, opts, old, pairs) == 0) {
        for (int i = 0; i < pairs; i++) config_apply(opts[i]);
        srv_reply_ok(c);
    }
    for (int i = 0; i < pairs; i++) free(old[i]);
    free(old);
    free(opts);
}

/* CONFIG RESETSTAT: what Redis's resetServerStats clears; expired/evicted restart from the
 * keyspace's current totals. */
static void config_resetstat_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    memset(&srv.stats, 0, sizeof srv.stats);
    srv.stats.expired_keys_base = ttl_dict_stats(srv.db)->expired;
    srv.stats.evicted_keys_base = ttl_dict_stats(srv.db)->evicted;
    srv_commands_reset_stats();
    srv_info_reset_stats();
    srv.loop.poll_hits = 0;
    srv.loop.poll_idle_ns = 0;
    srv.loop_sleeps_base = srv_loop_sleeps();
    srv.stat_reset_ms = srv_now_ms();
    srv_reply_ok(c);
}

static void config_help_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    static const char *const lines[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        NULL,
    };
    srv_reply_help(c, &argv[0], lines);
}

/* ---- TIME, WAIT, FUNCTION, SHUTDOWN */

static void time_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    uint64_t us = srv_ustime();
    srv_reply_array(c, 2);
    srv_reply_bulk_int(c, (long long)(us / 1000000));
    srv_reply_bulk_int(c, (long long)(us % 1000000));
}

/* WAIT numreplicas timeout.  A single node has no replica to wait for: the count (0) comes back
 * at once, after Redis's argument checks.  The cluster work makes this count acknowledgements. */
static void wait_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    long long n, timeout;
    if (!resp_str_to_ll(argv[1].ptr, argv[1].len, &n)) {
        srv_reply_error(c, SRV_ERR_NOT_INT);
        return;
    }
    if (!resp_str_to_ll(argv[2].ptr, argv[2].len, &timeout)) {
        srv_reply_error(c, "ERR timeout is not an integer or out of range");
        return;
    }
    if (timeout < 0) {
        srv_reply_error(c, "ERR timeout is negative");
        return;
    }
    srv_repl_wait(c, n, timeout);
}

/* FUNCTION FLUSH [ASYNC|SYNC]: there are no functions; Redis's test harness sends it. */
static void function_flush_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    if (argc > 3) {
        srv_reply_errorf(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try "
                            "FUNCTION HELP.",
                         arg_len128(&argv[1]), argv[1].ptr);
    } else if (argc == 3 && !arg_is(&argv[2], "async") && !arg_is(&argv[2], "sync")) {
        srv_reply_error(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
    } else {
        srv_reply_ok(c);
    }
}

static void function_help_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    static const char *const lines[] = {
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries (there are none: functions are not supported).",
        NULL,
    };
    srv_reply_help(c, &argv[0], lines);
}

/*
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT].  Nothing is ever saved, so SAVE fails the way a
 * failing save fails in Redis ("Errors trying to SHUTDOWN"), unless FORCE says to go on anyway;
 * NOSAVE, NOW and no option shut down.  On success there is no reply: the connection closes.
 */
static void shutdown_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    int save = 0, nosave = 0, force = 0, abort_req = 0, other = 0;
    for (int i = 1; i < argc; i++) {
        if (arg_is(&argv[i], "nosave")) nosave = 1;
        else if (arg_is(&argv[i], "save")) save = 1;
        else if (arg_is(&argv[i], "now")) other = 1;
        else if (arg_is(&argv[i], "force")) force = 1;
        else if (arg_is(&argv[i], "abort")) abort_req = 1;
        else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
    }
    if ((abort_req && (save || nosave || force || other)) || (save && nosave)) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (abort_req) {
        srv_reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    if (save && !force) {
        srv_log(SRV_LOG_WARNING, "SHUTDOWN SAVE refused: repram never writes data to disk (use "
                                 "SHUTDOWN, SHUTDOWN NOSAVE or SHUTDOWN SAVE FORCE)");
        srv_reply_error(c, "ERR Errors trying to SHUTDOWN. Check logs.");
        return;
    }
    srv_log(SRV_LOG_WARNING, "User requested shutdown...");
    c->flags |= SRV_CLIENT_CLOSE_AFTER_REPLY;
    srv_net_shutdown(0);
}

static void repram_help_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    static const char *const lines[] = {
        "STATUS",
        "    Return this node's state: name, mode, cluster size, quorum, keys and memory.",
        "NODES",
        "    Return the cluster's nodes, one line each.",
        NULL,
    };
    srv_reply_help(c, &argv[0], lines);
}

/* ---- the table */

#define CMD(n, f, ar, fl, a, grp, since_, sum, cx)                                                  \
    {.name = n, .fn = f, .arity = ar, .flags = fl, .acl = a, .group = grp, .since = since_,        \
     .summary = sum, .complexity = cx}
#define ADMIN_FLAGS (SRV_CMD_ADMIN | SRV_CMD_NOSCRIPT | SRV_CMD_LOADING | SRV_CMD_STALE)
#define LS (SRV_CMD_LOADING | SRV_CMD_STALE)
#define HELP_SUMMARY "Show helpful text about the different subcommands"
#define N_COMMANDS "O(N) where N is the total number of Redis commands"
#define N_LOOKUP "O(N) where N is the number of commands to look up"
#define N_PARAMS "O(N) when N is the number of configuration parameters provided"

static srv_command config_subcommands[] = {
    CMD("get", config_get_cmd, -3, ADMIN_FLAGS, "", "server", "2.0.0",
        "Get the values of configuration parameters", N_PARAMS),
    CMD("set", config_set_cmd, -4, ADMIN_FLAGS, "", "server", "2.0.0",
        "Set configuration parameters to the given values", N_PARAMS),
    CMD("resetstat", config_resetstat_cmd, 2, ADMIN_FLAGS, "", "server", "2.0.0",
        "Reset the stats returned by INFO", "O(1)"),
    CMD("help", config_help_cmd, 2, LS, "", "server", "5.0.0", HELP_SUMMARY, "O(1)"),
    {.name = NULL},
};

static srv_command function_subcommands[] = {
    CMD("flush", function_flush_cmd, -2, SRV_CMD_WRITE | SRV_CMD_NOSCRIPT, "scripting",
        "scripting", "7.0.0", "Deleting all functions",
        "O(N) where N is the number of functions deleted"),
    CMD("help", function_help_cmd, 2, LS, "scripting", "scripting", "7.0.0", HELP_SUMMARY, "O(1)"),
    {.name = NULL},
};

static srv_command repram_subcommands[] = {
    CMD("status", srv_repram_status_cmd, 2, LS, "", "server", REPRAM_VERSION,
        "Show this node's state: name, mode, cluster size and quorum, keys and memory", "O(1)"),
    CMD("nodes", srv_repram_nodes_cmd, 2, LS, "", "server", REPRAM_VERSION,
        "List the cluster's nodes, one line each",
        "O(N) where N is the number of nodes in the cluster"),
    CMD("help", repram_help_cmd, 2, LS, "", "server", REPRAM_VERSION, HELP_SUMMARY, "O(1)"),
    {.name = NULL},
};

srv_command srv_cmds_server[] = {
    CMD("info", srv_info_cmd, -1, LS, "dangerous", "server", "1.0.0",
        "Get information and statistics about the server", "O(1)"),
    {.name = "config", .arity = -2, .acl = "", .subcommands = config_subcommands,
     .group = "server", .since = "2.0.0",
     .summary = "A container for server configuration commands",
     .complexity = "Depends on subcommand."},
    {.name = "command", .fn = srv_command_cmd, .arity = -1, .flags = LS, .acl = "connection",
     .subcommands = srv_command_subcommands, .group = "server", .since = "2.8.13",
     .summary = "Get array of Redis command details", .complexity = N_COMMANDS},
    CMD("time", time_cmd, 1, LS | SRV_CMD_FAST, "", "server", "2.6.0",
        "Return the current server time", "O(1)"),
    CMD("wait", wait_cmd, 3, SRV_CMD_NOSCRIPT, "connection", "generic", "3.0.0",
        "Wait for the synchronous replication of all the write commands sent in the context of "
        "the current connection",
        "O(1)"),
    {.name = "function", .arity = -2, .acl = "", .subcommands = function_subcommands,
     .group = "scripting", .since = "7.0.0", .summary = "A container for function commands",
     .complexity = "Depends on subcommand."},
    CMD("shutdown", shutdown_cmd, -1, ADMIN_FLAGS | SRV_CMD_NO_MULTI_QUEUE, "", "server", "1.0.0",
        "Synchronously save the dataset to disk and then shut down the server",
        "O(N) when saving, where N is the total number of keys in all databases when saving "
        "data, otherwise O(1)"),
    {.name = "repram", .arity = -2, .acl = "", .subcommands = repram_subcommands,
     .group = "server", .since = REPRAM_VERSION,
     .summary = "A container for repram cluster status commands",
     .complexity = "Depends on subcommand."},
    {.name = NULL},
};
