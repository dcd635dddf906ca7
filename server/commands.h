/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * commands.h: the command table and the dispatcher.
 *
 * Each command family (cmd_string.c, cmd_keys.c, cmd_conn.c, cmd_server.c, cmd_multi.c) owns a
 * table of srv_command entries next to its handlers; the dispatcher indexes all of them in one
 * lookup table at start-up.  A table per family keeps a command's metadata (arity, flags, key
 * positions, documentation) beside its code, and is still one registry: COMMAND COUNT/INFO/DOCS/
 * LIST and the dispatcher read the same entries.
 *
 * Arity follows Redis: n > 0 means exactly n arguments including the name, n < 0 means at least
 * -n.  Containers (CONFIG, CLIENT, COMMAND, FUNCTION, REPRAM) have `subcommands`; a subcommand's
 * arity counts the container name too ("config get x" is 3), as in Redis.
 */
#ifndef SERVER_COMMANDS_H
#define SERVER_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "resp/resp.h"
#include "server/metrics.h"

struct srv_client;

/* A handler: argv[0] is the command name (argv[1] the subcommand for containers).  Handlers reply
 * exactly once (one element, possibly an aggregate) unless they block the client. */
typedef void srv_cmd_fn(struct srv_client *c, int argc, const resp_arg *argv);

/* Command flags (COMMAND INFO shows them under Redis's names). */
#define SRV_CMD_WRITE 0x0001u     /* "write": modifies the keyspace */
#define SRV_CMD_READONLY 0x0002u  /* "readonly" */
#define SRV_CMD_DENYOOM 0x0004u   /* "denyoom": refused when over maxmemory (noeviction) */
#define SRV_CMD_ADMIN 0x0008u     /* "admin" */
#define SRV_CMD_FAST 0x0010u      /* "fast": O(1) or O(log n) */
#define SRV_CMD_NOAUTH 0x0020u    /* "no_auth": allowed before AUTH */
#define SRV_CMD_NOMULTI 0x0040u   /* runs at once inside MULTI (MULTI EXEC DISCARD WATCH ...) */
#define SRV_CMD_LOADING 0x0080u   /* "loading": allowed while the node bootstraps */
#define SRV_CMD_STALE 0x0100u     /* "stale" */
#define SRV_CMD_NOSCRIPT 0x0200u  /* "noscript" */
#define SRV_CMD_SKIP_SLOWLOG 0x0400u /* "skip_slowlog" */
#define SRV_CMD_NO_MULTI_QUEUE 0x0800u /* "no_multi": refused inside MULTI */

typedef struct srv_cmd_stats {
    uint64_t calls;
    uint64_t usec;
    uint64_t rejected_calls;
    uint64_t failed_calls;
    uint64_t latency[SRV_LATENCY_BUCKETS]; /* calls by duration (metrics.h buckets); sum = calls */
} srv_cmd_stats;

typedef struct srv_command {
    const char *name;         /* lower case; for a subcommand just its own word ("get") */
    srv_cmd_fn *fn;           /* NULL for a container */
    int arity;
    unsigned flags;
    const char *acl;          /* every ACL category as Redis lists it, in its order, space separated,
                                 without '@', including read/write/fast/slow ("write string fast") */
    int first_key, last_key, key_step; /* 0 0 0 when the command takes no key; last -1 = to end */
    struct srv_command *subcommands;   /* array terminated by an entry with name NULL */
    const char *group;        /* "string", "generic", "connection", "server", "transactions" */
    const char *since;        /* Redis version that introduced it, e.g. "2.6.12" */
    const char *summary;
    const char *complexity;
    /* Filled in at start-up and by the dispatcher: */
    struct srv_command *parent;
    char fullname[48];        /* "config|get" */
    srv_cmd_stats stats;
} srv_command;

/* The family tables, each terminated by an entry whose name is NULL. */
extern srv_command srv_cmds_string[];
extern srv_command srv_cmds_keys[];
extern srv_command srv_cmds_conn[];
extern srv_command srv_cmds_server[];
extern srv_command srv_cmds_multi[];
extern srv_command srv_cmds_debug[];

/* Build the lookup table.  Returns 0, or -1 when out of memory.  Call once at start-up. */
int srv_commands_init(void);
void srv_commands_free(void);

/* Find a top-level command by name (case-insensitive); NULL when unknown. */
srv_command *srv_command_lookup(const char *name, size_t len);

/* Find a subcommand of a container (case-insensitive); NULL when unknown. */
srv_command *srv_subcommand_lookup(const srv_command *parent, const char *name, size_t len);

/* Visit every command (top level and subcommands), in table order. */
typedef void srv_command_visit_fn(srv_command *cmd, void *priv);
void srv_commands_foreach(srv_command_visit_fn *fn, void *priv);

/* Number of top-level commands (COMMAND COUNT). */
int srv_commands_count(void);

/*
 * Run one request from a client: look the command up, check arity, authentication, MULTI
 * queueing and memory, then call it and account for it.  Every refusal replies with Redis's
 * text.  Called by net.c for each parsed request with argc > 0; argv stays valid for the call.
 */
void srv_process_command(struct srv_client *c, int argc, const resp_arg *argv);

/*
 * Call a command that has passed every check (used by srv_process_command and EXEC).  Updates
 * the per-command statistics.
 */
void srv_call(struct srv_client *c, srv_command *cmd, int argc, const resp_arg *argv);

/* Resolve argv to a command or subcommand and validate arity without replying.  Returns the
 * command, or NULL with *err set to a static/heap error description written into errbuf. */
srv_command *srv_command_resolve(int argc, const resp_arg *argv, char *errbuf, size_t errlen);

/* Reset every command's statistics (CONFIG RESETSTAT). */
void srv_commands_reset_stats(void);

#endif /* SERVER_COMMANDS_H */
