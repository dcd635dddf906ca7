/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client.h: one connected client (RESP over TCP): its buffers, protocol state and the reply
 * helpers every command uses.
 *
 * Replies are appended to the client's output buffer; net.c writes them once per read event (one
 * write per batch of pipelined commands, not one per reply).  The reply helpers honour CLIENT
 * REPLY OFF/SKIP, so commands never check that themselves.
 *
 * Lifetime: clients are created by net.c on accept and freed only from net.c (srv_client_close
 * marks and frees once no callback is running on the client), never in the middle of a command.
 */
#ifndef SERVER_CLIENT_H
#define SERVER_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "resp/resp.h"
#include "server/ratelimit.h"
#include "server/server.h"

struct event;
struct srv_command;
struct srv_multi_cmd;
struct srv_watched;
struct ssl_st;

/* Client flags. */
#define SRV_CLIENT_CLOSE_AFTER_REPLY 0x0001u /* QUIT, protocol error: flush then close */
#define SRV_CLIENT_CLOSE_ASAP 0x0002u        /* close without flushing (CLIENT KILL, limits) */
#define SRV_CLIENT_MULTI 0x0004u             /* inside MULTI */
#define SRV_CLIENT_DIRTY_CAS 0x0008u         /* a WATCHed key changed: EXEC must fail */
#define SRV_CLIENT_DIRTY_EXEC 0x0010u        /* a command failed while queueing: EXEC aborts */
#define SRV_CLIENT_REPLY_OFF 0x0020u         /* CLIENT REPLY OFF */
#define SRV_CLIENT_REPLY_SKIP_NEXT 0x0040u   /* CLIENT REPLY SKIP: mute the next command */
#define SRV_CLIENT_REPLY_SKIP 0x0080u        /* the running command is muted */
#define SRV_CLIENT_AUTHENTICATED 0x0100u
#define SRV_CLIENT_BLOCKED 0x0200u           /* waiting (replication ack, WAIT): input paused */
#define SRV_CLIENT_READ_PAUSED 0x0400u       /* output over the high watermark: not reading */
#define SRV_CLIENT_IN_CALLBACK 0x0800u       /* a libevent callback is running on it */
#define SRV_CLIENT_NO_EVICT 0x1000u
#define SRV_CLIENT_NO_TOUCH 0x2000u
#define SRV_CLIENT_CLOSING 0x4000u           /* closed: freed when the callback unwinds */
#define SRV_CLIENT_PENDING 0x8000u           /* complete requests wait in the query buffer */

#define SRV_CLIENT_MUTED (SRV_CLIENT_REPLY_OFF | SRV_CLIENT_REPLY_SKIP)

typedef struct srv_client {
    uint64_t id;
    int fd;
    unsigned flags;
    int resp;                       /* RESP2 or RESP3 */
    struct event *ev_read;
    struct event *ev_write;

    /* Input: qbuf[qpos..qlen) is unconsumed; the parser works from qbuf + qpos. */
    char *qbuf;
    size_t qpos, qlen, qcap;
    size_t qbuf_peak;
    resp_parser parser;

    /* Output: out.data[0..out.len) waits to be written; out_sent bytes of it are already gone. */
    resp_wbuf out;
    size_t out_sent;
    size_t out_peak;

    /* Identity and bookkeeping for CLIENT LIST / INFO. */
    char addr[64];                  /* "ip:port" of the peer */
    char laddr[64];                 /* "ip:port" of our side */
    srv_ipaddr peer_ip;             /* addr parsed for resp-rate-limit; len 0 until needed */
    char *name;                     /* CLIENT SETNAME, or NULL */
    char *lib_name, *lib_ver;       /* CLIENT SETINFO, or NULL */
    uint64_t ctime_ms;
    uint64_t last_interaction_ms;
    const struct srv_command *last_cmd;
    size_t argv_mem;                /* bytes of the arguments of the running command */

    /* TLS (tls.c): the session of a tls-port client, NULL for plain TCP; SRV_TLS_* state bits;
     * the length of a blocked SSL_write, which must be repeated as it was. */
    struct ssl_st *ssl;
    unsigned tls_flags;
    size_t tls_write_len;
    /* client-output-buffer-limit: when pending output went above <soft>; 0 = it is not. */
    uint64_t obuf_soft_since_ms;

    /* Replication (replica.c): while `holding`, net.c sends nothing past hold_from, which is
     * where the reply of the request waiting for its quorum starts. */
    size_t hold_from;
    int holding;
    uint64_t repl_seq;              /* the write this client waits for, 0 = none */
    uint64_t last_write_seq;        /* its latest replicated write (WAIT) */
    long long wait_replicas;        /* WAIT in progress: peers wanted (0 = not waiting) */
    uint64_t wait_deadline_ms;      /* ... until then (UINT64_MAX = no limit) */
    srv_list_node wait_node;        /* in replica.c's list of waiting clients */

    /* MULTI/EXEC and WATCH (cmd_multi.c). */
    struct srv_multi_cmd *mstate;   /* queued commands, or NULL */
    int mcount, mcap;
    size_t mstate_mem;
    struct srv_watched *watched;    /* keys this client WATCHes, or NULL */

    srv_list_node node;             /* in srv.clients */
} srv_client;

/* ---- replies: every helper appends one element; nothing is sent while the client is muted. */

/* Muted: CLIENT REPLY OFF/SKIP, or being closed (CLOSE_ASAP: nothing more will be sent). */
static inline int srv_client_muted(const srv_client *c)
{
    return (c->flags & (SRV_CLIENT_MUTED | SRV_CLIENT_CLOSE_ASAP)) != 0;
}

void srv_reply_raw(srv_client *c, const void *p, size_t len);
void srv_reply_ok(srv_client *c);                             /* +OK */
void srv_reply_simple(srv_client *c, const char *s);          /* +s */
void srv_reply_int(srv_client *c, long long v);               /* :v */
void srv_reply_bulk(srv_client *c, const void *p, size_t len);
void srv_reply_bulk_cstr(srv_client *c, const char *s);
void srv_reply_bulk_int(srv_client *c, long long v);          /* a bulk holding decimal text */
void srv_reply_null(srv_client *c);                           /* $-1 / _ */
void srv_reply_null_array(srv_client *c);                     /* *-1 / _ */
void srv_reply_array(srv_client *c, long long n);
void srv_reply_map(srv_client *c, long long n);               /* n pairs */
void srv_reply_set(srv_client *c, long long n);
void srv_reply_double(srv_client *c, double v);
void srv_reply_bool(srv_client *c, int v);
void srv_reply_verbatim(srv_client *c, const char *p, size_t len); /* txt in RESP3, bulk in RESP2 */

/* An error reply.  `msg` is the full text without the leading '-' ("ERR syntax error", "WRONGTYPE
 * ..."); a text that does not start with an upper-case code gets "ERR " prepended.  Counts the
 * error in the statistics. */
void srv_reply_error(srv_client *c, const char *msg);
void srv_reply_errorf(srv_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Shared error texts (Redis's exact wording). */
#define SRV_ERR_SYNTAX "ERR syntax error"
#define SRV_ERR_NOT_INT "ERR value is not an integer or out of range"
#define SRV_ERR_NOT_FLOAT "ERR value is not a valid float"
#define SRV_ERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"
#define SRV_ERR_NO_SUCH_KEY "ERR no such key"
#define SRV_ERR_OVERFLOW "ERR increment or decrement would overflow"
#define SRV_ERR_OOM "OOM command not allowed when used memory > 'maxmemory'."
#define SRV_ERR_PERSIST "ERR keys cannot be made persistent: every key has a time to live"

/* Reply "ERR wrong number of arguments for '<name>' command" (name as COMMAND shows it). */
void srv_reply_arity_error(srv_client *c, const char *fullname);

/* ---- lifecycle (net.c calls these) */

/* Allocate a client for an accepted socket; NULL when out of memory.  Adds it to srv.clients. */
srv_client *srv_client_create(int fd);

/* Request the client to be closed: immediately when no callback runs on it, otherwise as soon as
 * the running callback returns.  Safe to call more than once. */
void srv_client_close(srv_client *c);

/* Free a client that is already unlinked from the loop (net.c). */
void srv_client_free(srv_client *c);

/* Bytes of memory a client holds (buffers, names, queued MULTI commands). */
size_t srv_client_memory(const srv_client *c);

/*
 * client-output-buffer-limit (normal class).  Returns 1 when the client has been marked
 * CLOSE_ASAP because its pending output is above <hard>, or has been above <soft> for
 * <soft-seconds> as of now_ms (the soft clock starts at the first check that finds it above);
 * counted in srv.stats and logged at verbose level.  The reply helpers check <hard> themselves
 * before appending, so a huge reply is never built; net.c calls this after each batch of
 * commands and from the hz timer (a slow reader adds nothing but must still be caught).
 */
int srv_client_check_output_limits(srv_client *c, uint64_t now_ms);

/* Set the parser limits from the configuration and the client's authentication state. */
void srv_client_update_limits(srv_client *c);

/* The full name of the client's last command ("client|list"), written to buf. */
const char *srv_client_last_cmd_name(const srv_client *c, char *buf, size_t len);

/* One CLIENT LIST line for the client (without trailing newline) into a malloc'ed string. */
char *srv_client_info_line(const srv_client *c);

/* Find a connected client by id; NULL when none. */
srv_client *srv_client_by_id(uint64_t id);

#endif /* SERVER_CLIENT_H */
