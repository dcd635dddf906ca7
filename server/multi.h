/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * multi.h: MULTI/EXEC transactions and WATCH (implemented in cmd_multi.c).
 *
 * Queued commands are copies of their arguments (the query buffer moves on while a transaction is
 * open).  WATCH is optimistic locking as in Redis: a client watching a key is flagged dirty when
 * the key is written, deleted, expired or flushed, and its next EXEC then fails with a null reply.
 */
#ifndef SERVER_MULTI_H
#define SERVER_MULTI_H

#include <stddef.h>

#include "resp/resp.h"

struct srv_client;
struct srv_command;
struct srv_key;

/* Queue a command inside MULTI (copies argv) and reply +QUEUED.  Aborts on out of memory. */
void srv_multi_queue(struct srv_client *c, struct srv_command *cmd, int argc, const resp_arg *argv);

/* The dispatcher refused a request before running it (`msg` is its error text).  When that
 * request is EXEC (inside MULTI or not, as in Redis), any transaction is discarded and the reply is
 * Redis's "EXECABORT Transaction discarded because of: <msg without 'ERR '>"; returns 1.
 * Otherwise returns 0 and the caller replies `msg` itself. */
int srv_multi_abort_exec(struct srv_client *c, const struct srv_command *cmd, const char *msg);

/* Forget the transaction and every watched key of a client (DISCARD, RESET, client close). */
void srv_multi_reset(struct srv_client *c);

/* A key was modified: flag every client watching it.  Cheap when nobody watches anything. */
void srv_watch_touch(const struct srv_key *k);

/* Every key was removed (FLUSHALL/FLUSHDB): flag every client watching a key that existed. */
void srv_watch_touch_all(void);

/* A key expired or was evicted (called from the keyspace's removal hook). */
void srv_watch_touch_raw(const void *key, size_t klen);

/* 1 when the client's open transaction queued a command that writes (EXEC then needs a quorum
 * in a cluster, like any write). */
int srv_multi_writes_queued(const struct srv_client *c);

/* 1 when cmd is EXEC. */
int srv_multi_is_exec(const struct srv_command *cmd);

#endif /* SERVER_MULTI_H */
