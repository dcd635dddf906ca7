/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_debug.c: DEBUG, hooks for tests (refused unless enable-debug-command allows it).
 *
 *   DEBUG LOG <message>           write a line to the log (Redis's test harness sends it)
 *   DEBUG STATE                   this node's repair state: mode, loading, bootstrap phase, keys,
 *                                 tombstones, shadows, keyspace digest, clock offset, bus delay
 *   DEBUG KEYINFO <key>           a key's version (and its wall-clock ms), absolute expiry,
 *                                 tombstone flag and shadow; nil when the node holds nothing
 *   DEBUG DIGEST                  the keyspace digest as 16 hex digits (equal on converged nodes)
 *   DEBUG BUS-DELAY <ms>          hold every cluster-bus frame this node sends for ms (0 = off)
 *   DEBUG CLOCK-OFFSET <ms>       add ms (may be negative) to this node's wall clock
 *
 * Why: the fault-injection suite must observe versions, expiries and digests exactly, and inject
 * delay and clock skew without netem or LD_PRELOAD (DESIGN.md section 7, research cluster.md).
 * One command rather than a container so the permission check comes before anything else, as in
 * Redis, with Redis's text.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "server/client.h"
#include "server/commands.h"
#include "server/db.h"
#include "server/digest.h"
#include "server/log.h"
#include "server/replica.h"
#include "server/server.h"
#include "server/shadow.h"

static int from_loopback(const srv_client *c)
{
    return strncmp(c->addr, "127.", 4) == 0 || strncmp(c->addr, "::1:", 4) == 0;
}

static int allowed(const srv_client *c)
{
    int mode = srv.cfg.enable_debug_command;
    return mode == SRV_DEBUG_YES || (mode == SRV_DEBUG_LOCAL && from_loopback(c));
}

static int word(const resp_arg *a, const char *w)
{
    size_t n = strlen(w);
    return a->len == n && strncasecmp(a->ptr, w, n) == 0;
}

static void pair_int(srv_client *c, const char *k, long long v)
{
    srv_reply_bulk_cstr(c, k);
    srv_reply_int(c, v);
}

static void pair_str(srv_client *c, const char *k, const char *v)
{
    srv_reply_bulk_cstr(c, k);
    srv_reply_bulk_cstr(c, v);
}

static void state(srv_client *c)
{
    char digest[24];
    snprintf(digest, sizeof digest, "%016llx", (unsigned long long)srv_digest_total());
    struct cluster *cl = srv_repl_cluster();
    cluster_sync_info si = {0};
    if (cl) cluster_sync_get(cl, &si);
    srv_reply_map(c, 9);
    pair_str(c, "mode", cl ? "cluster" : "single");
    pair_int(c, "loading", srv.loading);
    pair_str(c, "bootstrap_phase", cl ? si.phase : "done");
    pair_int(c, "keys", (long long)srv_db_size());
    pair_int(c, "tombstones", (long long)ttl_dict_tombstones(srv.db));
    pair_int(c, "shadows", (long long)srv_shadow_count());
    pair_str(c, "digest", digest);
    pair_int(c, "clock_offset_ms", srv.clock_offset_ms);
    pair_int(c, "hlc_ms", (long long)CLUSTER_HLC_MS(srv.hlc.last));
}

static void keyinfo(srv_client *c, const resp_arg *key)
{
    srv_key k;
    srv_key_from_arg(&k, key);
    ttl_entry *e = ttl_dict_find(srv.db, k.hash, k.ptr, k.len, 0, 1);
    if (!e) {
        srv_reply_null(c);
        return;
    }
    srv_reply_map(c, 5);
    pair_int(c, "version", (long long)ttl_entry_version(e));
    pair_int(c, "version_ms", (long long)CLUSTER_HLC_MS(ttl_entry_version(e)));
    pair_int(c, "expire_at_ms", (long long)ttl_entry_expire_at(e));
    pair_int(c, "tombstone", ttl_entry_is_tombstone(e));
    pair_int(c, "shadow_until_ms", (long long)srv_shadow_of(&k, e));
}

static int number_or_reply(srv_client *c, const resp_arg *a, long long *v)
{
    if (resp_str_to_ll(a->ptr, a->len, v)) return 0;
    srv_reply_error(c, SRV_ERR_NOT_INT);
    return -1;
}

static void debug_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    long long v;
    if (!allowed(c)) {
        srv_reply_error(c, "ERR DEBUG command not allowed. If the enable-debug-command option is "
                           "set to \"local\", you can run it from a local connection, otherwise "
                           "you need to set this option in the configuration file, and then "
                           "restart the server.");
        return;
    }
    if (argc == 3 && word(&argv[1], "log")) {
        srv_log(SRV_LOG_NOTICE, "DEBUG LOG: %.*s", (int)(argv[2].len > 200 ? 200 : argv[2].len),
                argv[2].ptr);
        srv_reply_ok(c);
    } else if (argc == 2 && word(&argv[1], "state")) {
        state(c);
    } else if (argc == 3 && word(&argv[1], "keyinfo")) {
        keyinfo(c, &argv[2]);
    } else if (argc == 2 && word(&argv[1], "digest")) {
        char digest[24];
        snprintf(digest, sizeof digest, "%016llx", (unsigned long long)srv_digest_total());
        srv_reply_bulk_cstr(c, digest);
    } else if (argc == 3 && word(&argv[1], "bus-delay")) {
        if (number_or_reply(c, &argv[2], &v) < 0) return;
        if (!srv_repl_cluster() || v < 0) {
            srv_reply_error(c, "ERR DEBUG BUS-DELAY needs a cluster and a delay >= 0 ms");
            return;
        }
        cluster_debug_set_bus_delay(srv_repl_cluster(), (uint64_t)v);
        srv_reply_ok(c);
    } else if (argc == 3 && word(&argv[1], "clock-offset")) {
        if (number_or_reply(c, &argv[2], &v) < 0) return;
        srv.clock_offset_ms = v;
        srv_update_time();
        srv_reply_ok(c);
    } else if (argc == 2 && word(&argv[1], "help")) {
        static const char *const lines[] = {
            "DEBUG <subcommand> [<arg> ...]. Subcommands are:",
            "LOG <message>", "    Write a line to the server log.",
            "STATE", "    Repair state of this node.",
            "KEYINFO <key>", "    Version, expiry, tombstone flag and shadow of a key.",
            "DIGEST", "    The keyspace digest (equal on converged nodes).",
            "BUS-DELAY <ms>", "    Hold every cluster-bus frame this node sends for <ms>.",
            "CLOCK-OFFSET <ms>", "    Add <ms> to this node's wall clock.",
            "HELP", "    Print this help."};
        srv_reply_array(c, (long long)(sizeof lines / sizeof lines[0]));
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) srv_reply_simple(c, lines[i]);
    } else {
        srv_reply_errorf(c, "ERR Unknown subcommand or wrong number of arguments for '%.*s'. Try "
                            "DEBUG HELP.", (int)(argv[1].len > 128 ? 128 : argv[1].len),
                         argv[1].ptr);
    }
}

srv_command srv_cmds_debug[] = {
    {.name = "debug", .fn = debug_cmd, .arity = -2,
     .flags = SRV_CMD_ADMIN | SRV_CMD_NOSCRIPT | SRV_CMD_LOADING | SRV_CMD_STALE,
     .acl = "admin slow dangerous", .group = "server", .since = "1.0.0",
     .summary = "A container for debugging commands", .complexity = "Depends on subcommand."},
    {.name = NULL},
};
