/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * replica.h: the server's side of replication (replica.c): records, write tickets, apply.
 *
 * A request that changes keys (one command, or a whole MULTI/EXEC) is replicated as one batch:
 * db.c notes every key it writes (srv_repl_note_key), and when the request ends the final state
 * of each noted key (value, version, absolute expiry; or a tombstone) is encoded and handed to the
 * cluster.  Encoding the final state rather than the operation makes every command replicate the
 * same way (INCR, APPEND, RENAME, EXPIRE ...) and makes applying idempotent: a receiver keeps
 * whichever version is newer.
 *
 * Single node (cluster-size 1): nothing is noted, nothing is sent; every call here is a branch on
 * a NULL pointer.
 */
#ifndef SERVER_REPLICA_H
#define SERVER_REPLICA_H

#include <stddef.h>
#include <stdint.h>

struct srv_client;
struct srv_key;

/* Start the cluster if cluster-size > 1.  0, or -1 after logging why (the server exits). */
int srv_repl_start(void);
void srv_repl_stop(void);

/* 1 when this node runs in a cluster. */
int srv_repl_enabled(void);

/* 1 when a write may start now (a quorum of voters is reachable); always 1 on a single node. */
int srv_repl_can_write(void);

/* srv_repl_can_write for a write about to start: a refusal (NOREPLICAS, HTTP 503) is counted. */
int srv_repl_admit_write(void);

/* Writes refused so far because no quorum was reachable. */
uint64_t srv_repl_writes_refused(void);

/* A key was written (stored, changed, deleted) by the running request. */
void srv_repl_note_key(const struct srv_key *k);

/* FLUSHALL/FLUSHDB with the version the flush was stamped with. */
void srv_repl_note_flush(uint64_t version);

/*
 * The running request has finished.  When it changed keys in a cluster, its batch is sent and
 * the caller must wait: for a RESP client the reply is held and the client blocked until the
 * quorum answers.  Returns 1 when the client was blocked, 0 otherwise.
 */
int srv_repl_finish_client(struct srv_client *c);

/* Outcome of a write for front doors other than RESP (HTTP). */
enum srv_repl_outcome {
    SRV_REPL_DONE = 0,       /* single node, or a quorum holds it */
    SRV_REPL_TIMEOUT = 1,    /* stored here, no quorum within write-timeout (may still spread) */
    SRV_REPL_ABORTED = 2     /* the node is shutting down */
};
typedef void srv_repl_done_fn(void *ctx, enum srv_repl_outcome outcome);

/* Like srv_repl_finish_client for another front door: returns 0 when nothing needs waiting for
 * (done is not called), 1 when `done(ctx, ...)` will be called later, exactly once. */
int srv_repl_finish(srv_repl_done_fn *done, void *ctx);

/* The client is going away while blocked on a write: forget it. */
void srv_repl_client_gone(struct srv_client *c);

/* Peers that acknowledged the client's latest write (WAIT); on a single node 0. */
int srv_repl_acks_for_client(const struct srv_client *c);

/* WAIT numreplicas timeout: reply at once when enough peers already acknowledged the client's
 * latest write (or on a single node: 0), otherwise block the client until they have or until
 * timeout_ms passes (0 = no time limit), then reply the count. */
void srv_repl_wait(struct srv_client *c, long long numreplicas, long long timeout_ms);

/* Grace period of tombstones, milliseconds (how long a delete shadows older copies). */
uint64_t srv_repl_tombstone_grace_ms(void);

/* The cluster lines of INFO's repram section ("field:value\r\n" each) into buf, like
 * snprintf: returns the length of the whole text; when that is >= len, buf holds only its
 * beginning (NUL-terminated if len > 0) and the caller asks again with a larger buffer. */
size_t srv_repl_info(char *buf, size_t len);

/* The cluster object, or NULL on a single node (status commands and metrics read it). */
struct cluster *srv_repl_cluster(void);

#endif /* SERVER_REPLICA_H */
