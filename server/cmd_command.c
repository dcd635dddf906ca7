/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_command.c: COMMAND (bare, COUNT, INFO, DOCS, LIST, GETKEYS, HELP), the Redis 7.0 view of the
 * command table, and the HELP reply layout the containers share (srv_reply_help).
 *
 * COMMAND reads the same srv_command tables the dispatcher runs, so what it reports cannot drift
 * from what the server does.  Two things Redis 7.0 reports are not in those tables: command tips
 * and key-spec flags (RO/RW/OW/RM access ...), plus the "allow_busy" flag.  They are pure
 * documentation for cluster-aware clients, so a small private table (`meta`) below supplies them
 * for the commands repram implements; a command missing from it gets no tips and key-spec flags
 * derived from readonly/write.  Key specs themselves are derived from first/last/step: one range
 * spec, or (when the meta entry lists several flag groups, as for RENAME) one spec per key.
 * ACL categories are the table's own words plus those Redis implies from the flags (write ->
 * @write, fast -> @fast else @slow, admin -> @admin @dangerous ...), listed in Redis's bit order.
 *
 * COMMAND DOCS gives summary, since, group, complexity and subcommands; Redis's argument specs
 * and history are not kept (redis-cli only needs the map shape to be right).
 *
 * The table entry for COMMAND itself is in cmd_server.c with the other server commands.
 * Event-loop thread only.  Start reading at command_info_one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/info.h"
#include "server/server.h"
#include "server/util.h"

static int arg_is(const resp_arg *a, const char *word)
{
    return srv_strcaseeq_len(a->ptr, a->len, word);
}

/* ---- HELP layout shared by the containers */

void srv_reply_help(srv_client *c, const resp_arg *cmd, const char *const *lines)
{
    char head[96];
    size_t n = 0, len = cmd->len < 32 ? cmd->len : 32;
    while (lines[n]) n++;
    for (size_t i = 0; i < len; i++) {
        char ch = cmd->ptr[i];
        head[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
    }
    strcpy(head + len, " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    srv_reply_array(c, (long long)n + 3);
    srv_reply_simple(c, head);
    for (size_t i = 0; i < n; i++) srv_reply_simple(c, lines[i]);
    srv_reply_simple(c, "HELP");
    srv_reply_simple(c, "    Prints this help.");
}

/* ---- COMMAND */

/* What Redis 7.0 reports beyond our tables (see the file comment). */
typedef struct cmd_meta {
    const char *name;  /* full name */
    const char *tips;  /* space separated */
    const char *keys;  /* key-spec flags; '|' separates one spec per key */
    const char *notes; /* key-spec notes */
} cmd_meta;

#define T_MULTI_SUM "request_policy:multi_shard response_policy:agg_sum"
#define T_ALL_OK "request_policy:all_shards response_policy:all_succeeded"

static const cmd_meta meta[] = {
    {"get", NULL, "RO access", NULL},
    {"set", NULL, "RW access update variable_flags",
     "RW and ACCESS due to the optional `GET` argument"},
    {"setex", NULL, "OW update", NULL},
    {"psetex", NULL, "OW update", NULL},
    {"setnx", NULL, "OW insert", NULL},
    {"getex", NULL, "RW access update", "RW and UPDATE because it changes the TTL"},
    {"getdel", NULL, "RW access delete", NULL},
    {"getset", NULL, "RW access update", NULL},
    {"mget", "request_policy:multi_shard", "RO access", NULL},
    {"mset", "request_policy:multi_shard response_policy:all_succeeded", "OW update", NULL},
    {"msetnx", "request_policy:multi_shard response_policy:agg_min", "OW insert", NULL},
    {"strlen", NULL, "RO", NULL},
    {"append", NULL, "RW insert", NULL},
    {"getrange", NULL, "RO access", NULL},
    {"substr", NULL, "RO access", NULL},
    {"setrange", NULL, "RW update", NULL},
    {"incr", NULL, "RW access update", NULL},
    {"incrby", NULL, "RW access update", NULL},
    {"decr", NULL, "RW access update", NULL},
    {"decrby", NULL, "RW access update", NULL},
    {"incrbyfloat", NULL, "RW access update", NULL},
    {"setbit", NULL, "RW access update", NULL},
    {"getbit", NULL, "RO access", NULL},
    {"lcs", NULL, "RO access", NULL},
    {"del", T_MULTI_SUM, "RM delete", NULL},
    {"unlink", T_MULTI_SUM, "RM delete", NULL},
    {"exists", T_MULTI_SUM, "RO", NULL},
    {"touch", T_MULTI_SUM, "RO", NULL},
    {"type", NULL, "RO", NULL},
    {"ttl", "nondeterministic_output", "RO access", NULL},
    {"pttl", "nondeterministic_output", "RO access", NULL},
    {"expire", NULL, "RW update", NULL},
    {"pexpire", NULL, "RW update", NULL},
    {"expireat", NULL, "RW update", NULL},
    {"pexpireat", NULL, "RW update", NULL},
    {"persist", NULL, "RW update", NULL},
    {"expiretime", NULL, "RO access", NULL},
    {"pexpiretime", NULL, "RO access", NULL},
    {"keys", "request_policy:all_shards nondeterministic_output_order", NULL, NULL},
    {"scan", "nondeterministic_output request_policy:special", NULL, NULL},
    {"randomkey", "request_policy:all_shards nondeterministic_output", NULL, NULL},
    {"dbsize", "request_policy:all_shards response_policy:agg_sum", NULL, NULL},
    {"rename", NULL, "RW access delete|OW update", NULL},
    {"renamenx", NULL, "RW access delete|OW insert", NULL},
    {"copy", NULL, "RO access|OW update", NULL},
    {"flushall", T_ALL_OK, NULL, NULL},
    {"flushdb", T_ALL_OK, NULL, NULL},
    {"ping", T_ALL_OK, NULL, NULL},
    {"watch", NULL, "RO", NULL},
    {"info", "nondeterministic_output request_policy:all_shards response_policy:special", NULL,
     NULL},
    {"client|list", "nondeterministic_output", NULL, NULL},
    {"client|info", "nondeterministic_output", NULL, NULL},
    {"config|set", "request_policy:all_nodes response_policy:all_succeeded", NULL, NULL},
    {"command", "nondeterministic_output_order", NULL, NULL},
    {"command|docs", "nondeterministic_output_order", NULL, NULL},
    {"command|info", "nondeterministic_output_order", NULL, NULL},
    {"command|list", "nondeterministic_output_order", NULL, NULL},
    {"time", "nondeterministic_output", NULL, NULL},
    {"wait", "request_policy:all_shards response_policy:agg_min", NULL, NULL},
    {"function|flush", T_ALL_OK, NULL, NULL},
};

/* Commands Redis flags "allow_busy" (they may run while a script is busy). */
static const char *const allow_busy[] = {"quit",  "reset",   "hello",    "auth",     "multi",
                                         "discard", "watch", "unwatch", "shutdown", NULL};

static const cmd_meta *meta_find(const srv_command *cmd)
{
    for (size_t i = 0; i < sizeof meta / sizeof meta[0]; i++)
        if (strcmp(meta[i].name, cmd->fullname) == 0) return &meta[i];
    return NULL;
}

/* Number of non-empty words of s separated by sep. */
static int count_words(const char *s, char sep)
{
    int n = 0;
    for (const char *p = s; p && *p; p++)
        if (*p != sep && (p == s || p[-1] == sep)) n++;
    return n;
}

/* Reply the space-separated words of s[0..len) as a set of simple (bulk == 0) or bulk strings. */
static void reply_words(srv_client *c, const char *s, size_t len, int bulk)
{
    int n = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && (i == 0 || s[i - 1] == ' ')) n++;
    srv_reply_set(c, n);
    for (size_t i = 0; i < len;) {
        while (i < len && s[i] == ' ') i++;
        size_t j = i;
        while (j < len && s[j] != ' ') j++;
        if (j == i) break;
        if (bulk) {
            srv_reply_bulk(c, s + i, j - i);
        } else {
            char w[64]; /* key-spec flag words are short ("variable_flags") */
            size_t wl = j - i < sizeof w - 1 ? j - i : sizeof w - 1;
            memcpy(w, s + i, wl);
            w[wl] = '\0';
            srv_reply_simple(c, w);
        }
        i = j;
    }
}

static const struct {
    unsigned flag;
    const char *name;
} flag_names[] = {
    {SRV_CMD_WRITE, "write"},       {SRV_CMD_READONLY, "readonly"},
    {SRV_CMD_DENYOOM, "denyoom"},   {SRV_CMD_ADMIN, "admin"},
    {SRV_CMD_NOSCRIPT, "noscript"}, {SRV_CMD_LOADING, "loading"},
    {SRV_CMD_STALE, "stale"},       {SRV_CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {SRV_CMD_FAST, "fast"},         {SRV_CMD_NOAUTH, "no_auth"},
    {SRV_CMD_NO_MULTI_QUEUE, "no_multi"},
};

static int is_allow_busy(const srv_command *cmd)
{
    for (int i = 0; allow_busy[i]; i++)
        if (strcmp(allow_busy[i], cmd->fullname) == 0) return 1;
    return 0;
}

static void reply_flags(srv_client *c, const srv_command *cmd)
{
    int n = is_allow_busy(cmd);
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (cmd->flags & flag_names[i].flag) n++;
    srv_reply_set(c, n);
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
        if (cmd->flags & flag_names[i].flag) srv_reply_simple(c, flag_names[i].name);
    if (is_allow_busy(cmd)) srv_reply_simple(c, "allow_busy");
}

/* Redis's ACL categories, in its bit order (COMMAND INFO lists them in this order). */
static const char *const acl_names[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
    "connection", "transaction", "scripting", NULL};

static int acl_bit(const char *w, size_t len)
{
    for (int i = 0; acl_names[i]; i++)
        if (srv_strcaseeq_len(w, len, acl_names[i])) return i;
    return -1;
}

/* The command's categories: its own plus those its flags imply (setImplicitACLCategories). */
static unsigned long acl_mask(const srv_command *cmd)
{
    unsigned long m = 0;
    const char *s = cmd->acl ? cmd->acl : "";
    for (size_t i = 0, len = strlen(s); i < len;) {
        size_t j = i;
        while (j < len && s[j] != ' ') j++;
        int b = acl_bit(s + i, j - i);
        if (b >= 0) m |= 1ul << b;
        i = j + 1;
    }
    if (cmd->flags & SRV_CMD_WRITE) m |= 1ul << 2;
    if (cmd->flags & SRV_CMD_READONLY && !(m & 1ul << 20)) m |= 1ul << 1;
    if (cmd->flags & SRV_CMD_ADMIN) m |= 1ul << 13 | 1ul << 17;
    if (cmd->flags & SRV_CMD_FAST) m |= 1ul << 14;
    if (!(m & 1ul << 14)) m |= 1ul << 15;
    return m;
}

static void reply_acl(srv_client *c, const srv_command *cmd)
{
    unsigned long m = acl_mask(cmd);
    int n = 0;
    for (int i = 0; acl_names[i]; i++) n += (m >> i) & 1;
    srv_reply_set(c, n);
    for (int i = 0; acl_names[i]; i++) {
        char w[32];
        if (!((m >> i) & 1)) continue;
        snprintf(w, sizeof w, "@%s", acl_names[i]);
        srv_reply_simple(c, w);
    }
}

static void reply_key_spec(srv_client *c, const char *notes, const char *flags, size_t flen,
                           long long index, long long lastkey, long long step)
{
    srv_reply_map(c, notes ? 4 : 3);
    if (notes) {
        srv_reply_bulk_cstr(c, "notes");
        srv_reply_bulk_cstr(c, notes);
    }
    srv_reply_bulk_cstr(c, "flags");
    reply_words(c, flags, flen, 0);
    srv_reply_bulk_cstr(c, "begin_search");
    srv_reply_map(c, 2);
    srv_reply_bulk_cstr(c, "type");
    srv_reply_bulk_cstr(c, "index");
    srv_reply_bulk_cstr(c, "spec");
    srv_reply_map(c, 1);
    srv_reply_bulk_cstr(c, "index");
    srv_reply_int(c, index);
    srv_reply_bulk_cstr(c, "find_keys");
    srv_reply_map(c, 2);
    srv_reply_bulk_cstr(c, "type");
    srv_reply_bulk_cstr(c, "range");
    srv_reply_bulk_cstr(c, "spec");
    srv_reply_map(c, 3);
    srv_reply_bulk_cstr(c, "lastkey");
    srv_reply_int(c, lastkey);
    srv_reply_bulk_cstr(c, "keystep");
    srv_reply_int(c, step);
    srv_reply_bulk_cstr(c, "limit");
    srv_reply_int(c, 0);
}

static void reply_key_specs(srv_client *c, const srv_command *cmd, const cmd_meta *m)
{
    /* A set in RESP3, as Redis sends it. */
    if (cmd->first_key <= 0) {
        srv_reply_set(c, 0);
        return;
    }
    const char *flags = m && m->keys ? m->keys : (cmd->flags & SRV_CMD_WRITE) ? "RW update" : "RO";
    int specs = count_words(flags, '|');
    srv_reply_set(c, specs);
    if (specs == 1) {
        long long last = cmd->last_key < 0 ? cmd->last_key : cmd->last_key - cmd->first_key;
        reply_key_spec(c, m ? m->notes : NULL, flags, strlen(flags), cmd->first_key, last,
                       cmd->key_step);
        return;
    }
    const char *p = flags;
    for (int i = 0; i < specs; i++) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        reply_key_spec(c, i == 0 && m ? m->notes : NULL, p, len,
                       cmd->first_key + (long long)i * cmd->key_step, 0, 1);
        p = end ? end + 1 : p + len;
    }
}

/* One COMMAND INFO entry: Redis 7.0's 10 elements. */
static void command_info_one(srv_client *c, const srv_command *cmd)
{
    const cmd_meta *m = meta_find(cmd);
    srv_reply_array(c, 10);
    srv_reply_bulk_cstr(c, cmd->fullname);
    srv_reply_int(c, cmd->arity);
    reply_flags(c, cmd);
    srv_reply_int(c, cmd->first_key);
    srv_reply_int(c, cmd->last_key);
    srv_reply_int(c, cmd->key_step);
    reply_acl(c, cmd);
    reply_words(c, m && m->tips ? m->tips : "", m && m->tips ? strlen(m->tips) : 0, 1);
    reply_key_specs(c, cmd, m);
    int subs = 0;
    for (const srv_command *s = cmd->subcommands; s && s->name; s++) subs++;
    /* Redis sends an empty set when there are no subcommands, an array otherwise. */
    if (subs == 0) srv_reply_set(c, 0);
    else srv_reply_array(c, subs);
    for (const srv_command *s = cmd->subcommands; s && s->name; s++) command_info_one(c, s);
}

/* Look a command up by "name" or "container|sub" (case-insensitive); NULL when unknown. */
static srv_command *lookup_fullname(const resp_arg *a)
{
    const char *bar = memchr(a->ptr, '|', a->len);
    if (!bar) return srv_command_lookup(a->ptr, a->len);
    size_t blen = (size_t)(bar - a->ptr), slen = a->len - blen - 1;
    if (memchr(bar + 1, '|', slen)) return NULL;
    srv_command *base = srv_command_lookup(a->ptr, blen);
    if (!base || !base->subcommands) return NULL;
    return srv_subcommand_lookup(base, bar + 1, slen);
}

static void visit_info(srv_command *cmd, void *priv)
{
    if (!cmd->parent) command_info_one(priv, cmd);
}

void srv_command_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_reply_array(c, srv_commands_count());
    srv_commands_foreach(visit_info, c);
}

static void command_count_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_reply_int(c, srv_commands_count());
}

static void command_info_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    if (argc == 2) {
        srv_command_cmd(c, argc, argv);
        return;
    }
    srv_reply_array(c, argc - 2);
    for (int i = 2; i < argc; i++) {
        const srv_command *cmd = lookup_fullname(&argv[i]);
        if (cmd) command_info_one(c, cmd);
        else srv_reply_null(c);
    }
}

static int doc_fields(const srv_command *cmd)
{
    return !!cmd->summary + !!cmd->since + !!cmd->group + !!cmd->complexity +
           (cmd->subcommands && cmd->subcommands->name ? 1 : 0);
}

static void command_docs_one(srv_client *c, const srv_command *cmd)
{
    srv_reply_bulk_cstr(c, cmd->fullname);
    srv_reply_map(c, doc_fields(cmd));
    const char *keys[] = {"summary", "since", "group", "complexity"};
    const char *vals[] = {cmd->summary, cmd->since, cmd->group, cmd->complexity};
    for (int i = 0; i < 4; i++) {
        if (!vals[i]) continue;
        srv_reply_bulk_cstr(c, keys[i]);
        srv_reply_bulk_cstr(c, vals[i]);
    }
    if (!(cmd->subcommands && cmd->subcommands->name)) return;
    int subs = 0;
    for (const srv_command *s = cmd->subcommands; s->name; s++) subs++;
    srv_reply_bulk_cstr(c, "subcommands");
    srv_reply_map(c, subs);
    for (const srv_command *s = cmd->subcommands; s->name; s++) command_docs_one(c, s);
}

static void visit_docs(srv_command *cmd, void *priv)
{
    if (!cmd->parent) command_docs_one(priv, cmd);
}

/* COMMAND DOCS [name ...]: a map name -> documentation map; unknown names are left out. */
static void command_docs_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    if (argc == 2) {
        srv_reply_map(c, srv_commands_count());
        srv_commands_foreach(visit_docs, c);
        return;
    }
    int found = 0;
    for (int i = 2; i < argc; i++) found += lookup_fullname(&argv[i]) != NULL;
    srv_reply_map(c, found);
    for (int i = 2; i < argc; i++) {
        const srv_command *cmd = lookup_fullname(&argv[i]);
        if (cmd) command_docs_one(c, cmd);
    }
}

typedef struct list_filter {
    int type; /* 0 none, 1 module, 2 aclcat, 3 pattern */
    const resp_arg *arg;
    int count;
    srv_client *c; /* NULL while counting */
} list_filter;

static void visit_list(srv_command *cmd, void *priv)
{
    list_filter *f = priv;
    const char *name = cmd->fullname;
    if (f->type == 1) return; /* no modules */
    if (f->type == 2) {
        int b = acl_bit(f->arg->ptr, f->arg->len);
        if (b < 0 || !((acl_mask(cmd) >> b) & 1)) return;
    }
    if (f->type == 3 && !srv_glob_match(f->arg->ptr, f->arg->len, name, strlen(name), 1)) return;
    if (f->c) srv_reply_bulk_cstr(f->c, name);
    else f->count++;
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern] */
static void command_list_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    list_filter f = {0, NULL, 0, NULL};
    if (argc != 2) {
        if (argc != 5 || !arg_is(&argv[2], "filterby")) {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
        if (arg_is(&argv[3], "module")) f.type = 1;
        else if (arg_is(&argv[3], "aclcat")) f.type = 2;
        else if (arg_is(&argv[3], "pattern")) f.type = 3;
        else {
            srv_reply_error(c, SRV_ERR_SYNTAX);
            return;
        }
        f.arg = &argv[4];
    }
    srv_commands_foreach(visit_list, &f);
    srv_reply_array(c, f.count);
    f.c = c;
    srv_commands_foreach(visit_list, &f);
}

/* COMMAND GETKEYS command arg ...: the key arguments, from first/last/step as Redis does. */
static void command_getkeys_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    const resp_arg *cargv = argv + 2;
    int cargc = argc - 2;
    srv_command *cmd = srv_command_lookup(cargv[0].ptr, cargv[0].len);
    if (cmd && cmd->subcommands && cargc >= 2)
        cmd = srv_subcommand_lookup(cmd, cargv[1].ptr, cargv[1].len);
    if (!cmd) {
        srv_reply_error(c, "ERR Invalid command specified");
        return;
    }
    if (cmd->first_key <= 0) {
        srv_reply_error(c, "ERR The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != cargc) || cargc < -cmd->arity) {
        srv_reply_error(c, "ERR Invalid number of arguments specified for command");
        return;
    }
    int last = cmd->last_key < 0 ? cargc + cmd->last_key : cmd->last_key;
    int step = cmd->key_step > 0 ? cmd->key_step : 1, n = 0;
    if (last >= cargc) last = cargc - 1;
    for (int i = cmd->first_key; i <= last; i += step) n++;
    if (n == 0) {
        srv_reply_error(c, "ERR Invalid arguments specified for command");
        return;
    }
    srv_reply_array(c, n);
    for (int i = cmd->first_key; i <= last; i += step) srv_reply_bulk(c, cargv[i].ptr, cargv[i].len);
}

static void command_help_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    static const char *const lines[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        NULL,
    };
    srv_reply_help(c, &argv[0], lines);
}

#define LS (SRV_CMD_LOADING | SRV_CMD_STALE)
#define CMD(n, f, ar, since_, sum, cx)                                                              \
    {.name = n, .fn = f, .arity = ar, .flags = LS, .acl = "connection", .group = "server",         \
     .since = since_, .summary = sum, .complexity = cx}
#define N_LOOKUP "O(N) where N is the number of commands to look up"

srv_command srv_command_subcommands[] = {
    CMD("count", command_count_cmd, 2, "2.8.13", "Get total number of Redis commands", "O(1)"),
    CMD("docs", command_docs_cmd, -2, "7.0.0", "Get array of specific Redis command documentation",
        N_LOOKUP),
    CMD("getkeys", command_getkeys_cmd, -4, "2.8.13", "Extract keys given a full Redis command",
        "O(N) where N is the number of arguments to the command"),
    CMD("info", command_info_cmd, -2, "2.8.13",
        "Get array of specific Redis command details, or all when no argument is given.",
        N_LOOKUP),
    CMD("list", command_list_cmd, -2, "7.0.0", "Get an array of Redis command names",
        "O(N) where N is the total number of Redis commands"),
    CMD("help", command_help_cmd, 2, "5.0.0", "Show helpful text about the different subcommands",
        "O(1)"),
    {.name = NULL},
};
