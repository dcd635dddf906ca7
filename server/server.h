/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * server.h: the state of the running node that several server/ files share: configuration, the
 * event base, the keyspace, the client list and the statistics INFO reports.  There is one
 * instance, `srv`, owned by the data thread; nothing here is locked.
 *
 * This is deliberately not a "god header": it declares state, not functions.  The functions live
 * in the header of the file that owns them (client.h, net.h, db.h, commands.h).
 */
#ifndef SERVER_SERVER_H
#define SERVER_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cluster/cluster.h"
#include "server/config.h"
#include "server/loop.h"

struct event_base;
struct event;
struct evconnlistener;
struct srv_client;
typedef struct ttl_dict ttl_dict;

/* Intrusive doubly-linked list node and head (STYLE.md 8.9: queues never allocate). */
typedef struct srv_list_node {
    struct srv_list_node *prev, *next;
} srv_list_node;

typedef struct srv_stats {
    uint64_t connections_received;  /* accepted connections */
    uint64_t rejected_connections;  /* refused because of maxclients */
    uint64_t commands_processed;
    uint64_t keyspace_hits, keyspace_misses;
    uint64_t expired_keys_base;     /* expired keys counted before the last FLUSHALL/RESETSTAT */
    uint64_t evicted_keys_base;
    uint64_t net_input_bytes, net_output_bytes;
    uint64_t total_error_replies;
    uint64_t rejected_calls;        /* commands refused before running (arity, auth, OOM, ...) */
    uint64_t unexpected_error_replies;
    uint64_t protocol_errors;       /* connections closed after a protocol error */
    uint64_t querybuf_limit_closes; /* connections closed at client-query-buffer-limit */
    uint64_t oom_rejections;        /* writes refused by maxmemory noeviction */
    uint64_t oversize_rejections;   /* keys/values/TTLs over their limits */
    /* Limit hits (issue 8), one counter per limit; INFO repram and /metrics show them. */
    uint64_t obuf_hard_limit_closes; /* client-output-buffer-limit <hard> passed: closed */
    uint64_t obuf_soft_limit_closes; /* over <soft> for <soft-seconds>: closed */
    uint64_t multi_queue_rejections; /* MULTI queueing refused (multi-max-commands, bytes) */
    uint64_t scan_count_clamps;      /* SCAN calls whose COUNT was lowered to scan-max-count */
    uint64_t keys_limit_rejections;  /* KEYS refused by keys-max-reply */
    uint64_t protected_mode_rejections; /* non-loopback clients refused by protected-mode */
    uint64_t tls_handshake_failures; /* TLS handshake failed (bad or missing certificate, ...) */
    uint64_t tls_handshake_timeouts; /* TLS handshake not done within tls-handshake-timeout */
    uint64_t auth_failures;          /* AUTH or HELLO ... AUTH refused (WRONGPASS) */
    /* Rate limits and the HTTP front door (issue 3). */
    uint64_t resp_rate_limited;        /* RESP commands refused by resp-rate-limit */
    uint64_t http_connections_received;
    uint64_t http_rejected_connections; /* refused at http-max-connections (503) */
    uint64_t http_rate_limited;        /* HTTP requests refused by http-rate-limit (429) */
    uint64_t http_oversize_rejections; /* keys, values, bodies, TTLs over their limits (400/413) */
    uint64_t http_rejected_requests;   /* HTTP responses with a status >= 400 other than 404 */
    uint64_t http_protocol_errors;     /* malformed requests or headers evhttp refused (400) */
    uint64_t http_header_timeouts;     /* closed: headers not complete in http-read-header-timeout */
    uint64_t http_unauthorized;        /* PUT/DELETE without the right http-write-token (401) */
    /* Every field above is exported on /metrics by the stat_rows table in metrics.c; adding a
     * field without its row there fails the build (a static assertion counts them). */
} srv_stats;

typedef struct srv_server {
    srv_config cfg;
    const char *config_file;        /* absolute path, or NULL */
    struct event_base *base;
    struct evconnlistener **listeners;
    int listener_count;
    struct event *cron_ev;          /* hz timer: idle clients, rehash, stats */
    struct event *expire_ev;        /* active expiry, armed for the next due key */
    struct event *sigterm_ev, *sigint_ev;

    ttl_dict *db;
    cluster_hlc hlc;                /* versions of writes (shared with the cluster bus) */

    srv_list_node clients;          /* every connected client */
    int client_count;
    int tls_client_count;           /* of which over TLS (tls-port) */
    struct ssl_ctx_st *tls_ctx;     /* tls.c: the RESP TLS context, NULL without tls-port */
    uint64_t next_client_id;
    struct srv_client *current;     /* client whose command is running, or NULL */

    srv_stats stats;
    srv_loop_stats loop;            /* the event loop's busy share and polling (loop.c) */
    uint64_t loop_sleeps_base;      /* srv_loop_sleeps() at the last CONFIG RESETSTAT */
    uint64_t start_ms;              /* wall clock at start */
    uint64_t stat_reset_ms;
    pid_t pid;
    char run_id[41];
    char hostname[256];

    int loading;                    /* cluster bootstrap in progress: data commands get -LOADING */
    long long clock_offset_ms;      /* DEBUG CLOCK-OFFSET: added to the wall clock (tests only) */
    int shutdown_asap;              /* SIGTERM/SHUTDOWN: stop accepting, drain, exit */
    int exit_code;

    size_t watched_key_count;       /* keys some client WATCHes; 0 skips the touch path */
    struct srv_watch_table *watches;
} srv_server;

extern srv_server srv;

/* Wall-clock milliseconds as of the start of the running event callback (srv_update_time). */
uint64_t srv_now_ms(void);

/* Read the wall clock into the cache srv_now_ms() returns; called at the start of every event
 * callback (and by code that must see the time move, such as timers). */
void srv_update_time(void);

/* Wall-clock microseconds, not cached (for TIME and latency figures). */
uint64_t srv_ustime(void);

/* Intrusive list helpers. */
static inline void srv_list_init(srv_list_node *h) { h->prev = h->next = h; }
static inline int srv_list_empty(const srv_list_node *h) { return h->next == h; }
static inline void srv_list_push_back(srv_list_node *h, srv_list_node *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}
static inline void srv_list_remove(srv_list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}
#define srv_container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif /* SERVER_SERVER_H */
