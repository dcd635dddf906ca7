/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cluster.c: the public API of cluster/ (cluster.h): configuration checks, object lifetime,
 * status queries.  The protocol lives in core.c and repl.c, the transport in bus.c.
 *
 * The configuration is checked as a whole here so the server can print one clear reason and
 * exit before opening any port: an unauthenticated bus is refused unless cluster-insecure is set,
 * half-configured TLS (certificate without key or CA) is refused, and a too-short secret is
 * refused (a short shared key makes the bus guessable offline from one recorded handshake).
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_bus.h"
#include "cluster/cluster_internal.h"

#define SECRET_MIN_LEN 16u
#define FRAME_MIN_BYTES (64u * 1024u)

static const char *own(cluster *cl, const char *s)
{
    if (!s) return NULL;
    char **o = realloc(cl->owned, sizeof *o * (size_t)(cl->nowned + 1));
    if (!o) return NULL;
    cl->owned = o;
    char *c = strdup(s);
    if (!c) return NULL;
    cl->owned[cl->nowned++] = c;
    return c;
}

static int own_list(cluster *cl, const char *const *src, int n, const char *const **dst)
{
    const char **a = calloc((size_t)n + 1, sizeof *a);
    if (!a) return -1;
    for (int i = 0; i < n; i++)
        if (!(a[i] = own(cl, src[i]))) {
            free(a);
            return -1;
        }
    *dst = a;
    return 0;
}

static int copy_config(cluster *cl, const cluster_config *c)
{
    cl->cfg = *c;
    cl->cfg.bind = cl->cfg.seeds = cl->cfg.members = NULL;
    if (!(cl->cfg.node_name = own(cl, c->node_name)) ||
        !(cl->cfg.cluster_name = own(cl, c->cluster_name)))
        return -1;
    cl->cfg.tls_cert_file = own(cl, c->tls_cert_file);
    cl->cfg.tls_key_file = own(cl, c->tls_key_file);
    cl->cfg.tls_ca_file = own(cl, c->tls_ca_file);
    cl->cfg.secret = own(cl, c->secret);
    cl->cfg.secret_accept = own(cl, c->secret_accept);
    if (own_list(cl, c->bind, c->bind_count, &cl->cfg.bind) < 0 ||
        own_list(cl, c->seeds, c->seed_count, &cl->cfg.seeds) < 0 ||
        own_list(cl, c->members, c->member_count, &cl->cfg.members) < 0)
        return -1;
    return 0;
}

static const char *check_config(const cluster_config *c)
{
    if (!c->node_name || !c->node_name[0] || strlen(c->node_name) > CL_STR_MAX)
        return "node-name must be set (1..255 characters)";
    if (!c->cluster_name || !c->cluster_name[0] || strlen(c->cluster_name) > CL_STR_MAX)
        return "cluster-name must be set (1..255 characters)";
    if (c->cluster_size < 1 || c->cluster_size > 64) return "cluster-size must be 1..64";
    if (c->member_count > 0) {
        int self = 0;
        if (c->member_count != c->cluster_size)
            return "cluster-members must name exactly cluster-size nodes";
        for (int i = 0; i < c->member_count; i++) self |= strcmp(c->members[i], c->node_name) == 0;
        if (!self) return "cluster-members must include this node's node-name";
    }
    if (!c->hlc || c->node_timeout_ms == 0 || c->write_timeout_ms == 0) return "internal: missing settings";
    if (c->max_frame_bytes < FRAME_MIN_BYTES) return "internal: max frame size too small";
    int tls = c->tls_cert_file || c->tls_key_file || c->tls_ca_file;
    if (tls && !(c->tls_cert_file && c->tls_key_file && c->tls_ca_file))
        return "cluster-tls-cert-file, cluster-tls-key-file and cluster-tls-ca-cert-file go "
               "together: set all three";
    if (tls && c->secret) return "set either cluster-secret or cluster-tls-*, not both";
    if (c->secret && strlen(c->secret) < SECRET_MIN_LEN)
        return "cluster-secret must be at least 16 characters (e.g. 32 random hex digits)";
    if (c->secret_accept && !c->secret)
        return "cluster-secret-accept needs cluster-secret: it only adds a second secret to it";
    if (c->secret_accept && strlen(c->secret_accept) < SECRET_MIN_LEN)
        return "cluster-secret-accept must be at least 16 characters, as cluster-secret";
    if (!tls && !c->secret && !c->insecure)
        return "the cluster bus has no authentication: set cluster-secret, or "
               "cluster-tls-cert-file/-key-file/-ca-cert-file, or (for tests only) "
               "cluster-insecure yes";
    return NULL;
}

static unsigned name_tag(const char *name)
{
    unsigned h = 2166136261u;
    for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h & 15u;
}

static void free_owned(cluster *cl)
{
    for (int i = 0; i < cl->nowned; i++) free(cl->owned[i]);
    free(cl->owned);
    free((void *)cl->cfg.bind);
    free((void *)cl->cfg.seeds);
    free((void *)cl->cfg.members);
}

cluster *cl_create_with_transport(const cluster_config *cfg, const cluster_callbacks *cb,
                                  const cl_transport_ops *ops, void *tr_state, char *err,
                                  size_t errlen)
{
    cluster *cl = cluster_create(NULL, cfg, cb, err, errlen);
    if (!cl) return NULL;
    cl->tr = ops;
    cl->tr_state = tr_state;
    return cl;
}

cluster *cluster_create(struct event_base *base, const cluster_config *cfg,
                        const cluster_callbacks *cb, char *err, size_t errlen)
{
    const char *why = check_config(cfg);
    if (why) {
        snprintf(err, errlen, "%s", why);
        return NULL;
    }
    cluster *cl = calloc(1, sizeof *cl);
    if (!cl) goto nomem;
    cl->cb = *cb;
    if (copy_config(cl, cfg) < 0) goto nomem;
    cl->quorum = cfg->cluster_size / 2 + 1;
    unsigned char raw[20];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        snprintf(err, errlen, "no randomness for the run id");
        goto fail;
    }
    for (size_t i = 0; i < sizeof raw; i++) snprintf(cl->run_id + 2 * i, 3, "%02x", raw[i]);
    cluster_hlc_init(cl->cfg.hlc, name_tag(cfg->node_name));
    if (cl_core_init(cl, err, errlen) < 0) goto fail;
    if (cl_repl_init(cl) < 0 || cl_sync_init(cl) < 0) goto nomem;
    if (base && !cl_bus_create(cl, base, err, errlen)) goto fail; /* no base: a test transport */
    return cl;
nomem:
    snprintf(err, errlen, "out of memory");
fail:
    if (cl) {
        cl_repl_free(cl);
        cl_sync_free(cl);
        cl_core_free(cl);
        free_owned(cl);
        free(cl);
    }
    return NULL;
}

int cluster_start(cluster *cl, char *err, size_t errlen)
{
    return cl_bus_start((bus *)cl->tr_state, err, errlen);
}

void cluster_free(cluster *cl)
{
    if (!cl) return;
    if (cl->tr_free) cl->tr_free(cl); /* links first: they reference peers */
    else cl_bus_free((bus *)cl->tr_state);
    cl_repl_free(cl);
    cl_sync_free(cl);
    cl_core_free(cl);
    free_owned(cl);
    free(cl);
}

int cluster_can_write(const cluster *cl)
{
    int reachable = 1;
    for (int i = 0; i < cl->npeers; i++) {
        const cl_peer *p = cl->peers[i];
        if (p->name[0] && !p->is_self && p->state == CLUSTER_PEER_OK && p->out &&
            p->out->state == CL_LINK_READY)
            reachable++;
    }
    return reachable >= cl->quorum;
}

int cluster_peer_count(const cluster *cl)
{
    int n = 0;
    for (int i = 0; i < cl->npeers; i++)
        if (!cl->peers[i]->is_self) n++;
    return n;
}

void cluster_peer_get(const cluster *cl, int i, cluster_peer_info *out)
{
    memset(out, 0, sizeof *out);
    for (int k = 0; k < cl->npeers; k++) {
        const cl_peer *p = cl->peers[k];
        if (p->is_self || i-- > 0) continue;
        out->name = p->name[0] ? p->name : NULL;
        out->addr = p->addr;
        out->run_id = p->run_id;
        out->client_port = p->client_port;
        out->http_port = p->http_port;
        out->state = p->state;
        /* OK means both ways (cluster.h): a peer we hear from but cannot send to yet (our link
         * to it is still being dialled) is not counted by cluster_can_write, and writes made
         * now never reach it, so it is not shown as connected either. */
        if (p->state == CLUSTER_PEER_OK && !(p->out && p->out->state == CL_LINK_READY))
            out->state = CLUSTER_PEER_CONNECTING;
        out->last_heard_ms = p->last_rx_ms;
        out->acked_seq = p->acked_seq;
        out->queued_bytes = p->out ? cl->tr->queued(p->out) : 0;
        out->lag_ms = 0;
        for (size_t w = 0; w < cl->pend_len; w++) {
            const cl_pending *pw = &cl->pend[(cl->pend_head + w) % cl->pend_cap];
            if (pw->seq > p->acked_seq) {
                uint64_t now = cl_now(cl), sent = pw->deadline_ms - cl->cfg.write_timeout_ms;
                out->lag_ms = now > sent ? now - sent : 0;
                break;
            }
        }
        return;
    }
}

const cluster_stats *cluster_get_stats(const cluster *cl) { return &cl->stats; }
const char *cluster_run_id(const cluster *cl) { return cl->run_id; }
