/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * info.h: introspection: INFO (Redis 7.0's sections and fields, plus a `repram` section), REPRAM
 * STATUS / NODES and the statistics only they need (instantaneous rates, the memory peak, error
 * counts by code), all in info.c; and COMMAND (cmd_command.c) with the HELP reply layout every
 * container shares.
 *
 * The command table entries for INFO, REPRAM and COMMAND live in cmd_server.c next to the other
 * server commands; their handlers are declared here.
 */
#ifndef SERVER_INFO_H
#define SERVER_INFO_H

#include <stddef.h>

#include "resp/resp.h"
#include "server/commands.h"

struct srv_client;

/* INFO [section ...]: a bulk string (RESP2) or verbatim text (RESP3).  Unknown sections add
 * nothing, so "INFO nosuch" is an empty text, as in Redis. */
void srv_info_cmd(struct srv_client *c, int argc, const resp_arg *argv);

/* REPRAM STATUS: a map of this node's state (a flat array under RESP2). */
void srv_repram_status_cmd(struct srv_client *c, int argc, const resp_arg *argv);

/* REPRAM NODES: one text line per cluster member (today: this node). */
void srv_repram_nodes_cmd(struct srv_client *c, int argc, const resp_arg *argv);

/*
 * Periodic work for INFO: samples the command and network counters every 100 ms (16 samples give
 * instantaneous_ops_per_sec and the kbps figures, as Redis does) and tracks the memory peak.
 * Call from the hz timer; it does nothing until 100 ms have passed since its last sample, so any
 * hz works.  O(clients); no heap walk (mallinfo2) after the first call.
 */
void srv_info_cron(void);

/* Count one error reply by its code (the leading upper-case word of `msg`, or "ERR") for INFO
 * errorstats.  At most 128 distinct codes are kept, as in Redis; later new codes are not listed. */
void srv_info_count_error(const char *msg);

/* CONFIG RESETSTAT: forget the error counts and the rate samples. */
void srv_info_reset_stats(void);

/* Bytes of heap the process has allocated and not freed (glibc mallinfo2: in-use small blocks
 * plus mmap'ed blocks): INFO used_memory.  It walks the heap's free lists, milliseconds on a
 * large churned heap: call it when asked for the figure, never from a timer under load. */
size_t srv_info_used_memory(void);

/* Bytes the server accounts itself: the keyspace (ttl/) plus client buffers.  O(clients), no
 * heap walk, so timers may call it; it leaves out libraries' and the cluster's own buffers. */
size_t srv_info_tracked_memory(void);

/* ---- cmd_command.c */

/* Bare COMMAND: every command's COMMAND INFO entry. */
void srv_command_cmd(struct srv_client *c, int argc, const resp_arg *argv);

/* COMMAND's subcommands (COUNT, DOCS, GETKEYS, INFO, LIST, HELP), terminated by a NULL name. */
extern srv_command srv_command_subcommands[];

/* Reply a container's HELP the way Redis lays it out: "<CMD> <subcommand> [<arg> [value] [opt]
 * ...]. Subcommands are:", then `lines` (NULL-terminated), then "HELP" and its description, each
 * a simple string.  `cmd` is argv[0] as the client typed it (shown upper-cased). */
void srv_reply_help(struct srv_client *c, const resp_arg *cmd, const char *const *lines);

#endif /* SERVER_INFO_H */
