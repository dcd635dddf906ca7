/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * client.c: the client object and the reply helpers.
 *
 * What: allocation and release of a connection's state, the reply helpers commands use (thin
 * wrappers over resp/'s encoder that respect CLIENT REPLY OFF/SKIP and pick RESP2 or RESP3 per
 * client), shared error texts, and the CLIENT LIST line.
 *
 * Why this shape: commands never touch buffers or sockets; they append replies through these
 * helpers and net.c decides when bytes go out.  Muting lives here, in one place, so a command
 * cannot forget it.  An out-of-memory condition while appending is fatal for the server (STYLE.md
 * section 4, server/ policy): we abort rather than send a truncated reply.
 *
 * Invariant: a client is in srv.clients from srv_client_create until srv_client_free.
 * Event-loop thread only.  Start reading at srv_reply_error (the error-text rules).
 */
#include "server/client.h"

#include <ctype.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/commands.h"
#include "server/info.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/tls.h"
#include "server/replica.h"

static void out_check(srv_client *c)
{
    if (resp_wbuf_failed(&c->out)) {
        srv_log(SRV_LOG_WARNING, "out of memory growing a reply buffer to %zu bytes", c->out.cap);
        abort();
    }
}

/* ---- client-output-buffer-limit */

static void close_for_output(srv_client *c, const char *which, long long limit)
{
    c->flags |= SRV_CLIENT_CLOSE_ASAP;
    if (which[0] == 'h') srv.stats.obuf_hard_limit_closes++;
    else srv.stats.obuf_soft_limit_closes++;
    srv_log(SRV_LOG_VERBOSE, "closing client id=%llu addr=%s: %zu bytes of replies pending, over "
            "client-output-buffer-limit %s limit (%lld bytes)", (unsigned long long)c->id,
            c->addr, c->out.len - c->out_sent, which, limit);
}

/* A reply of `add` bytes would take pending output past <hard>: close instead of appending.
 * One comparison on the reply path; only replies that can be large call it. */
static int over_hard_limit(srv_client *c, size_t add)
{
    long long hard = srv.cfg.obuf_limit.hard_bytes;
    if (hard <= 0 || c->out.len - c->out_sent + add <= (unsigned long long)hard) return 0;
    close_for_output(c, "hard", hard);
    return 1;
}

int srv_client_check_output_limits(srv_client *c, uint64_t now_ms)
{
    const srv_obuf_limit *l = &srv.cfg.obuf_limit;
    size_t pending = c->out.len - c->out_sent;
    if (c->flags & SRV_CLIENT_CLOSE_ASAP) return 1;
    if (l->hard_bytes > 0 && pending > (unsigned long long)l->hard_bytes) {
        close_for_output(c, "hard", l->hard_bytes);
        return 1;
    }
    if (l->soft_bytes <= 0 || pending <= (unsigned long long)l->soft_bytes) {
        c->obuf_soft_since_ms = 0;
        return 0;
    }
    if (c->obuf_soft_since_ms == 0) c->obuf_soft_since_ms = now_ms ? now_ms : 1;
    if (now_ms - c->obuf_soft_since_ms < (uint64_t)l->soft_s * 1000) return 0;
    close_for_output(c, "soft", l->soft_bytes);
    return 1;
}

void srv_reply_raw(srv_client *c, const void *p, size_t len)
{
    if (srv_client_muted(c) || over_hard_limit(c, len)) return;
    resp_add_raw(&c->out, p, len);
    out_check(c);
}

void srv_reply_ok(srv_client *c) { srv_reply_raw(c, "+OK\r\n", 5); }

void srv_reply_simple(srv_client *c, const char *s)
{
    if (srv_client_muted(c)) return;
    resp_add_simple(&c->out, s, strlen(s));
    out_check(c);
}

void srv_reply_int(srv_client *c, long long v)
{
    if (srv_client_muted(c)) return;
    /* The two most common integer replies are pre-rendered (STYLE.md 8.4). */
    if (v == 0) resp_add_raw(&c->out, ":0\r\n", 4);
    else if (v == 1) resp_add_raw(&c->out, ":1\r\n", 4);
    else resp_add_int(&c->out, v);
    out_check(c);
}

void srv_reply_bulk(srv_client *c, const void *p, size_t len)
{
    if (srv_client_muted(c) || over_hard_limit(c, len)) return;
    resp_add_bulk(&c->out, p, len);
    out_check(c);
}

void srv_reply_bulk_cstr(srv_client *c, const char *s) { srv_reply_bulk(c, s, strlen(s)); }

void srv_reply_bulk_int(srv_client *c, long long v)
{
    if (srv_client_muted(c)) return;
    resp_add_bulk_int(&c->out, v);
    out_check(c);
}

void srv_reply_null(srv_client *c)
{
    if (srv_client_muted(c)) return;
    resp_add_null(&c->out, c->resp);
    out_check(c);
}

void srv_reply_null_array(srv_client *c)
{
    if (srv_client_muted(c)) return;
    resp_add_null_array(&c->out, c->resp);
    out_check(c);
}

void srv_reply_array(srv_client *c, long long n)
{
    if (srv_client_muted(c)) return;
    resp_add_array(&c->out, n);
    out_check(c);
}

void srv_reply_map(srv_client *c, long long n)
{
    if (srv_client_muted(c)) return;
    resp_add_map(&c->out, n, c->resp);
    out_check(c);
}

void srv_reply_set(srv_client *c, long long n)
{
    if (srv_client_muted(c)) return;
    resp_add_set(&c->out, n, c->resp);
    out_check(c);
}

void srv_reply_double(srv_client *c, double v)
{
    if (srv_client_muted(c)) return;
    resp_add_double(&c->out, v, c->resp);
    out_check(c);
}

void srv_reply_bool(srv_client *c, int v)
{
    if (srv_client_muted(c)) return;
    resp_add_bool(&c->out, v, c->resp);
    out_check(c);
}

void srv_reply_verbatim(srv_client *c, const char *p, size_t len)
{
    if (srv_client_muted(c) || over_hard_limit(c, len)) return;
    resp_add_verbatim(&c->out, "txt", p, len, c->resp);
    out_check(c);
}

/*
 * Error replies.  Redis prefixes "ERR " to texts that do not start with an error code; an error
 * code is a run of upper-case letters followed by a space (e.g. "WRONGTYPE ...", "NOAUTH ...").
 * We follow the same rule so call sites can pass either form.
 */
static int has_error_code(const char *msg)
{
    const char *p = msg;
    while (*p >= 'A' && *p <= 'Z') p++;
    return p != msg && *p == ' ';
}

void srv_reply_error(srv_client *c, const char *msg)
{
    srv.stats.total_error_replies++;
    srv_info_count_error(msg);
    if (srv_client_muted(c)) return;
    if (has_error_code(msg)) {
        resp_add_error(&c->out, msg, strlen(msg));
    } else {
        size_t n = strlen(msg);
        char *tmp = malloc(n + 5);
        if (!tmp) abort();
        memcpy(tmp, "ERR ", 4);
        memcpy(tmp + 4, msg, n + 1);
        resp_add_error(&c->out, tmp, n + 4);
        free(tmp);
    }
    out_check(c);
}

void srv_reply_errorf(srv_client *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    srv_reply_error(c, buf);
}

void srv_reply_arity_error(srv_client *c, const char *fullname)
{
    srv_reply_errorf(c, "ERR wrong number of arguments for '%s' command", fullname);
}

/* ---- lifecycle */

srv_client *srv_client_create(int fd)
{
    srv_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->fd = fd;
    c->id = ++srv.next_client_id;
    c->resp = RESP2;
    c->ctime_ms = c->last_interaction_ms = srv_now_ms();
    if (srv.cfg.requirepass[0] == '\0') c->flags |= SRV_CLIENT_AUTHENTICATED;
    resp_limits lim = {0};
    lim.max_bulk_len = srv.cfg.proto_max_bulk_len;
    lim.max_multibulk_len = RESP_MULTIBULK_MAX;
    resp_parser_init(&c->parser, &lim);
    srv_client_update_limits(c);
    resp_wbuf_init(&c->out);
    srv_list_init(&c->node);
    srv_list_init(&c->wait_node);
    srv_list_push_back(&srv.clients, &c->node);
    srv.client_count++;
    return c;
}

void srv_client_update_limits(srv_client *c)
{
    resp_limits lim;
    lim.max_bulk_len = srv.cfg.proto_max_bulk_len;
    lim.max_multibulk_len = RESP_MULTIBULK_MAX;
    lim.unauthenticated = !(c->flags & SRV_CLIENT_AUTHENTICATED);
    resp_parser_set_limits(&c->parser, &lim);
}

void srv_client_free(srv_client *c)
{
    if (!c) return;
    srv_multi_reset(c);
    srv_repl_client_gone(c);
    srv_list_remove(&c->node);
    srv.client_count--;
    if (srv.current == c) srv.current = NULL;
    if (c->ev_read) event_free(c->ev_read);
    if (c->ev_write) event_free(c->ev_write);
    srv_tls_detach(c);
    if (c->fd >= 0) close(c->fd);
    resp_parser_deinit(&c->parser);
    resp_wbuf_deinit(&c->out);
    free(c->qbuf);
    free(c->name);
    free(c->lib_name);
    free(c->lib_ver);
    free(c);
}

size_t srv_client_memory(const srv_client *c)
{
    return sizeof *c + c->qcap + c->out.cap + c->parser.scratch_cap +
           (size_t)c->parser.argv_cap * (sizeof(resp_arg) + sizeof(size_t)) + c->mstate_mem;
}

const char *srv_client_last_cmd_name(const srv_client *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s", c->last_cmd ? c->last_cmd->fullname : "NULL");
    return buf;
}

srv_client *srv_client_by_id(uint64_t id)
{
    for (srv_list_node *n = srv.clients.next; n != &srv.clients; n = n->next) {
        srv_client *c = srv_container_of(n, srv_client, node);
        if (c->id == id && !(c->flags & SRV_CLIENT_CLOSING)) return c;
    }
    return NULL;
}

/* printf into a new malloc'ed string (asprintf is not in C11). */
static char *fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    char *s = malloc((size_t)n + 1);
    if (!s) abort();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* Redis's single-letter client flags, in its order. */
static void flags_string(const srv_client *c, char *buf)
{
    char *p = buf;
    if (c->flags & SRV_CLIENT_MULTI) *p++ = 'x';
    if (c->flags & SRV_CLIENT_BLOCKED) *p++ = 'b';
    if (c->flags & SRV_CLIENT_DIRTY_CAS) *p++ = 'd';
    if (c->flags & SRV_CLIENT_CLOSE_AFTER_REPLY) *p++ = 'c';
    if (c->flags & SRV_CLIENT_CLOSE_ASAP) *p++ = 'A';
    if (c->flags & SRV_CLIENT_NO_EVICT) *p++ = 'e';
    if (c->flags & SRV_CLIENT_NO_TOUCH) *p++ = 'T';
    if (p == buf) *p++ = 'N';
    *p = '\0';
}

char *srv_client_info_line(const srv_client *c)
{
    char flags[16], cmd[64];
    uint64_t now = srv_now_ms();
    uint64_t age = now > c->ctime_ms ? (now - c->ctime_ms) / 1000 : 0;
    uint64_t idle = now > c->last_interaction_ms ? (now - c->last_interaction_ms) / 1000 : 0;
    const char *events = c->ev_write && event_pending(c->ev_write, EV_WRITE, NULL) ? "rw" : "r";
    size_t obl = c->out.len - c->out_sent;
    flags_string(c, flags);
    srv_client_last_cmd_name(c, cmd, sizeof cmd);
    return fmt_alloc("id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu flags=%s db=0 "
                     "sub=0 psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu "
                     "multi-mem=%zu rbs=%zu rbp=%zu obl=%zu oll=0 omem=0 tot-mem=%zu events=%s "
                     "cmd=%s user=default redir=-1 resp=%d lib-name=%s lib-ver=%s",
                     (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
                     (unsigned long long)age, (unsigned long long)idle, flags,
                     (c->flags & SRV_CLIENT_MULTI) ? c->mcount : -1, c->qlen - c->qpos,
                     c->qcap - c->qlen, c->argv_mem, c->mstate_mem, c->out.cap, c->out_peak, obl,
                     srv_client_memory(c), events, cmd, c->resp, c->lib_name ? c->lib_name : "",
                     c->lib_ver ? c->lib_ver : "");
}
