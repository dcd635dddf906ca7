/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratelimit.h: per-client-address token buckets with bounded memory, and the address handling
 * they need: IPv4/IPv6 parsing, CIDR lists (http-trusted-proxies) and X-Forwarded-For resolution.
 *
 * Everything here is pure: no clock (callers pass now_ms), no global state, no logging, so the
 * unit tests drive it with an injected clock.  One thread per limiter (the data thread).
 */
#ifndef SERVER_RATELIMIT_H
#define SERVER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* An IP address: 4 bytes (IPv4, also what an IPv4-mapped IPv6 address becomes) or 16 (IPv6).
 * len 0 means "no address" (a Unix socket, or not parsed yet). */
typedef struct srv_ipaddr {
    uint8_t len;
    uint8_t bytes[16];
} srv_ipaddr;

/* A network: the first `bits` bits of `net` (0..32 for IPv4, 0..128 for IPv6). */
typedef struct srv_cidr {
    srv_ipaddr net;
    uint8_t bits;
} srv_cidr;

/* Longest text srv_ipaddr_format writes, NUL included (INET6_ADDRSTRLEN). */
#define SRV_IPADDR_TEXT 46

/* Parse s[0..len) as an IPv4 or IPv6 address (no port, no brackets, no zone).  IPv4-mapped IPv6
 * addresses (::ffff:a.b.c.d) become the IPv4 address.  0, or -1 when it is not an address. */
int srv_ipaddr_parse(const char *s, size_t len, srv_ipaddr *out);

/* The address of a struct sockaddr (AF_INET or AF_INET6; mapped addresses become IPv4).  0, or -1
 * (and len 0) for other families. */
int srv_ipaddr_from_sockaddr(const void *sockaddr, srv_ipaddr *out);

/* Text form ("192.0.2.1", "2001:db8::1", "-" for no address) into buf; returns buf. */
const char *srv_ipaddr_format(const srv_ipaddr *a, char *buf, size_t buflen);

/* Parse "ADDR" or "ADDR/BITS" (a bare address is a host: /32 or /128).  Host bits set below the
 * prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8).  0, or -1 when malformed. */
int srv_cidr_parse(const char *s, size_t len, srv_cidr *out);

/* 1 when `a` lies in one of the n networks of `list`, else 0.  O(n). */
int srv_cidr_match(const srv_cidr *list, size_t n, const srv_ipaddr *a);

/*
 * The client address of an HTTP request, given the TCP peer, the values of every X-Forwarded-For
 * header in order (each a comma-separated list) and the trusted proxies:
 *  - a peer that is not a trusted proxy is the client, whatever the headers say;
 *  - otherwise the entries are walked from the right (the hop nearest to us): the first entry
 *    that is not a trusted proxy is the client; when every entry is trusted, the left-most is;
 *  - an entry that is not an address (garbage, "unknown") ends the walk: the hop that appended
 *    it (the last trusted address seen) is used, so a forged value can never pick an address.
 * Entries may be "ADDR", "ADDR:PORT" (IPv4), "[ADDR]" or "[ADDR]:PORT" (IPv6), with spaces.
 */
void srv_ipaddr_from_forwarded(const srv_ipaddr *peer, const char *const *xff, size_t nxff,
                               const srv_cidr *trusted, size_t ntrusted, srv_ipaddr *client);

/* ---- token buckets */

typedef struct srv_ratelimit srv_ratelimit;

/* Slots of a limiter's table (rounded up to a power of two by srv_ratelimit_create).  16384 slots
 * of 40 bytes: 640 KiB per limiter, allocated once. */
#define SRV_RATELIMIT_SLOTS 16384

/* Create a limiter with room for `slots` client addresses (0 = SRV_RATELIMIT_SLOTS) whose table
 * hash is keyed by `seed` (give a random value: clients must not be able to aim at one slot).
 * NULL when out of memory. */
srv_ratelimit *srv_ratelimit_create(size_t slots, uint64_t seed);
void srv_ratelimit_free(srv_ratelimit *rl);

/*
 * Take one token from the bucket of address `ip` at time now_ms, for a limit of `rate` tokens per
 * second (> 0) and a bucket of `burst` tokens (>= 1).  Returns 1 when the request may go on, 0
 * when it is over the limit; then *retry_after_ms (if not NULL) is how long until a token is
 * available.  A new address starts with a full bucket.  IPv6 addresses share a bucket per /64
 * (one host usually owns a whole /64).  Rate and burst may change between calls (CONFIG SET).
 * O(1): at most SRV_RATELIMIT_WINDOW slots are looked at.
 */
int srv_ratelimit_take(srv_ratelimit *rl, const srv_ipaddr *ip, uint64_t now_ms, double rate,
                       double burst, uint64_t *retry_after_ms);

/* Slots probed per lookup: an address lives within this many slots of its hash. */
#define SRV_RATELIMIT_WINDOW 8

/* Addresses with a bucket, and buckets taken over while still below full (table pressure). */
size_t srv_ratelimit_tracked(const srv_ratelimit *rl);
uint64_t srv_ratelimit_overflows(const srv_ratelimit *rl);

#endif /* SERVER_RATELIMIT_H */
