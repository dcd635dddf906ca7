/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelimit.c: token buckets per client address in a fixed-size table, plus the address parsing,
 * CIDR matching and X-Forwarded-For resolution the HTTP front door needs (ratelimit.h).
 *
 * Why a fixed table and not a growing map: a limiter is a defence, so its own memory must not be
 * something an attacker can grow.  REPRAM kept one map entry per address and pruned it every five
 * minutes; ten million spoofed or rotating IPv6 sources would have grown it without bound in
 * between.  Here the table is allocated once (SRV_RATELIMIT_SLOTS entries) and never grows.
 *
 * How it works.  An address hashes (keyed by a random seed) to a home slot and lives in one of the
 * SRV_RATELIMIT_WINDOW slots that follow.  Slots are never emptied once used, so a lookup stops at
 * the first empty slot of the window.  A bucket holds fractional tokens and the time of its last
 * refill; refilling adds (now - last) * rate / 1000 tokens, capped at burst, so no fraction of
 * time is lost (REPRAM refilled int(elapsed * rate) and dropped the remainder on every call).
 *
 * Reclaiming idle buckets.  A bucket that would be full after refilling is indistinguishable from
 * no bucket at all: forgetting it loses nothing.  So a new address that finds no free slot in its
 * window takes over the slot whose bucket is fullest after refill; an idle one when there is any.
 * Only when every bucket in the window is still below full (more than WINDOW busy addresses hash
 * next to each other, i.e. the table is under real pressure) does a busy bucket get reset; that is
 * counted (srv_ratelimit_overflows) so operators can see it.  Memory stays fixed; the limit stays
 * exact for every address whose bucket survives, and fails open, not closed, under overload.
 *
 * IPv6 addresses are keyed by their /64: a host usually owns a whole /64 and can rotate through
 * it at will, so per-address buckets would not limit it at all.
 *
 * What can go wrong: the wall clock going backwards adds no tokens (elapsed time counts as 0); a
 * rate of 0 is the caller's "off" and must not reach srv_ratelimit_take (it asserts rate > 0).
 * Not thread-safe.  Start reading at srv_ratelimit_take.
 */
#include "server/ratelimit.h"

#include <arpa/inet.h>
#include <assert.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---- addresses */

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void set_v6(srv_ipaddr *out, const uint8_t bytes[16])
{
    memset(out, 0, sizeof *out);
    if (memcmp(bytes, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
        out->len = 4;
        memcpy(out->bytes, bytes + 12, 4);
    } else {
        out->len = 16;
        memcpy(out->bytes, bytes, 16);
    }
}

int srv_ipaddr_parse(const char *s, size_t len, srv_ipaddr *out)
{
    char buf[SRV_IPADDR_TEXT];
    uint8_t raw[16];

    memset(out, 0, sizeof *out);
    if (len == 0 || len >= sizeof buf) return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(s, '\0', len) != NULL) return -1;
    if (inet_pton(AF_INET, buf, raw) == 1) {
        out->len = 4;
        memcpy(out->bytes, raw, 4);
        return 0;
    }
    if (inet_pton(AF_INET6, buf, raw) == 1) {
        set_v6(out, raw);
        return 0;
    }
    return -1;
}

int srv_ipaddr_from_sockaddr(const void *sockaddr, srv_ipaddr *out)
{
    const struct sockaddr *sa = sockaddr;

    memset(out, 0, sizeof *out);
    if (sa == NULL) return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = sockaddr;
        out->len = 4;
        memcpy(out->bytes, &in->sin_addr, 4);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = sockaddr;
        set_v6(out, in6->sin6_addr.s6_addr);
        return 0;
    }
    return -1;
}

const char *srv_ipaddr_format(const srv_ipaddr *a, char *buf, size_t buflen)
{
    if (buflen == 0) return buf;
    if (a->len == 4 && inet_ntop(AF_INET, a->bytes, buf, (socklen_t)buflen)) return buf;
    if (a->len == 16 && inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)buflen)) return buf;
    snprintf(buf, buflen, "-");
    return buf;
}

int srv_cidr_parse(const char *s, size_t len, srv_cidr *out)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    unsigned long bits;

    memset(out, 0, sizeof *out);
    if (srv_ipaddr_parse(s, alen, &out->net) != 0) return -1;
    bits = out->net.len * 8u;
    if (slash != NULL) {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3) return -1;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9') return -1;
            bits = bits * 10 + (unsigned long)(*p - '0');
        }
        if (bits > out->net.len * 8u) return -1;
    }
    out->bits = (uint8_t)bits;
    for (unsigned i = 0; i < out->net.len; i++) { /* clear the host part */
        unsigned keep = bits > i * 8 ? bits - i * 8 : 0;
        if (keep < 8) out->net.bytes[i] &= (uint8_t)(0xff00u >> keep);
    }
    return 0;
}

static int in_network(const srv_cidr *n, const srv_ipaddr *a)
{
    unsigned full = n->bits / 8, rest = n->bits % 8;

    if (n->net.len != a->len) return 0;
    if (memcmp(n->net.bytes, a->bytes, full) != 0) return 0;
    if (rest == 0) return 1;
    return ((n->net.bytes[full] ^ a->bytes[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

int srv_cidr_match(const srv_cidr *list, size_t n, const srv_ipaddr *a)
{
    if (a->len == 0) return 0;
    for (size_t i = 0; i < n; i++)
        if (in_network(&list[i], a)) return 1;
    return 0;
}

/* One X-Forwarded-For entry, with optional spaces, brackets and port.  0 or -1. */
static int parse_forwarded_entry(const char *s, size_t len, srv_ipaddr *out)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) len--;
    if (len > 0 && s[0] == '[') { /* [v6] or [v6]:port */
        const char *close = memchr(s, ']', len);
        if (close == NULL) return -1;
        return srv_ipaddr_parse(s + 1, (size_t)(close - s - 1), out);
    }
    if (srv_ipaddr_parse(s, len, out) == 0) return 0;
    const char *colon = memchr(s, ':', len); /* v4:port (a bare v6 parsed above) */
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL &&
        srv_ipaddr_parse(s, (size_t)(colon - s), out) == 0 && out->len == 4)
        return 0;
    return -1;
}

void srv_ipaddr_from_forwarded(const srv_ipaddr *peer, const char *const *xff, size_t nxff,
                               const srv_cidr *trusted, size_t ntrusted, srv_ipaddr *client)
{
    *client = *peer;
    if (!srv_cidr_match(trusted, ntrusted, peer)) return;
    for (size_t h = nxff; h-- > 0;) {
        const char *v = xff[h];
        size_t end = strlen(v);
        while (end > 0) { /* entries of this header, right to left */
            size_t start = end;
            srv_ipaddr a;
            while (start > 0 && v[start - 1] != ',') start--;
            if (parse_forwarded_entry(v + start, end - start, &a) != 0) return;
            *client = a;
            if (!srv_cidr_match(trusted, ntrusted, &a)) return;
            end = start > 0 ? start - 1 : 0;
        }
    }
}

/* ---- token buckets */

typedef struct bucket {
    srv_ipaddr key; /* len 0: never used */
    double tokens;
    uint64_t last_ms;
} bucket;

struct srv_ratelimit {
    bucket *slots;
    size_t mask;
    uint64_t seed;
    size_t used;
    uint64_t overflows;
};

srv_ratelimit *srv_ratelimit_create(size_t slots, uint64_t seed)
{
    size_t n = SRV_RATELIMIT_WINDOW;
    srv_ratelimit *rl = calloc(1, sizeof *rl);

    if (rl == NULL) return NULL;
    if (slots == 0) slots = SRV_RATELIMIT_SLOTS;
    while (n < slots) n *= 2;
    rl->slots = calloc(n, sizeof *rl->slots);
    if (rl->slots == NULL) {
        free(rl);
        return NULL;
    }
    rl->mask = n - 1;
    rl->seed = seed;
    return rl;
}

void srv_ratelimit_free(srv_ratelimit *rl)
{
    if (rl == NULL) return;
    free(rl->slots);
    free(rl);
}

size_t srv_ratelimit_tracked(const srv_ratelimit *rl) { return rl->used; }
uint64_t srv_ratelimit_overflows(const srv_ratelimit *rl) { return rl->overflows; }

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint64_t key_hash(const srv_ratelimit *rl, const srv_ipaddr *k)
{
    uint64_t w0, w1;

    memcpy(&w0, k->bytes, 8);
    memcpy(&w1, k->bytes + 8, 8);
    return mix(mix(rl->seed ^ w0 ^ k->len) ^ w1);
}

/* The bucket key of an address: IPv6 keeps its /64. */
static void bucket_key(const srv_ipaddr *ip, srv_ipaddr *k)
{
    memset(k, 0, sizeof *k);
    k->len = ip->len;
    memcpy(k->bytes, ip->bytes, ip->len == 16 ? 8 : ip->len);
}

static double refilled(const bucket *b, uint64_t now_ms, double rate, double burst)
{
    double t = b->tokens;
    if (now_ms > b->last_ms) t += (double)(now_ms - b->last_ms) * rate / 1000.0;
    return t < burst ? t : burst;
}

/* The slot of key k: its own bucket, else a free or reclaimable one (reset to a full bucket). */
static bucket *find_slot(srv_ratelimit *rl, const srv_ipaddr *k, uint64_t now_ms, double rate,
                         double burst)
{
    size_t home = (size_t)key_hash(rl, k);
    bucket *victim = NULL;
    double best = -1.0;

    for (size_t i = 0; i < SRV_RATELIMIT_WINDOW; i++) {
        bucket *b = &rl->slots[(home + i) & rl->mask];
        if (b->key.len == 0) {
            victim = b;
            rl->used++;
            break;
        }
        if (memcmp(&b->key, k, sizeof *k) == 0) return b;
        double t = refilled(b, now_ms, rate, burst);
        if (t > best) {
            best = t;
            victim = b;
        }
    }
    if (victim->key.len != 0 && best < burst) rl->overflows++;
    victim->key = *k;
    victim->tokens = burst;
    victim->last_ms = now_ms;
    return victim;
}

int srv_ratelimit_take(srv_ratelimit *rl, const srv_ipaddr *ip, uint64_t now_ms, double rate,
                       double burst, uint64_t *retry_after_ms)
{
    srv_ipaddr k;
    bucket *b;

    assert(rate > 0 && burst >= 1);
    bucket_key(ip, &k);
    b = find_slot(rl, &k, now_ms, rate, burst);
    b->tokens = refilled(b, now_ms, rate, burst);
    b->last_ms = now_ms; /* also when the clock went back: refilling resumes from here */
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 1;
    }
    if (retry_after_ms != NULL) {
        double ms = ceil((1.0 - b->tokens) * 1000.0 / rate - 1e-6); /* 1e-6: rounding noise */
        *retry_after_ms = ms < 1 ? 1 : (uint64_t)ms;
    }
    return 0;
}
