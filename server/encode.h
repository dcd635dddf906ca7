/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * encode.h: the text codecs of the HTTP surface, all pure: percent-decoding of paths and query
 * strings, JSON strings for binary keys, base64, RFC 3339 timestamps, Prometheus text escaping,
 * and a constant-time token comparison.  Writers append to a libevent evbuffer (the HTTP reply
 * body); nothing here logs, allocates beyond the evbuffer, or reads global state.
 */
#ifndef SERVER_ENCODE_H
#define SERVER_ENCODE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/*
 * Percent-decode in[0..len) into out (room for len bytes; the result is never longer).  "%XX"
 * (either case) becomes byte 0xXX, %00 included: keys are binary.  With plus_as_space (query
 * strings, application/x-www-form-urlencoded) '+' becomes a space.  A '%' not followed by two
 * hex digits is an error: 0, or -1 (out then holds garbage).  *outlen gets the decoded length.
 */
int srv_url_decode(const char *in, size_t len, int plus_as_space, char *out, size_t *outlen);

/*
 * Find parameter `name` in a raw query string ("a=1&b=2", NULL or "" for none).  The first
 * occurrence wins; a parameter without '=' has an empty value.  The name is compared undecoded.
 * Returns 1 and sets *val and *vlen to the raw (still encoded) value, or 0 when absent.
 */
int srv_query_get(const char *query, const char *name, const char **val, size_t *vlen);

/*
 * Append p[0..len) as a JSON string, quotes included.  Valid UTF-8 is written as is, except '"',
 * '\\' and control characters, which are escaped.  A byte that is not part of valid UTF-8 (keys are
 * binary) is written as "\udcXX", XX being the byte: a lone low surrogate, which valid UTF-8 can
 * never produce, so the encoding is unambiguous and reversible.  This is Python's
 * "surrogateescape" (PEP 383): json.loads(s).encode("utf-8", "surrogateescape") gives the bytes
 * back.  O(len).
 */
void srv_json_string(struct evbuffer *out, const void *p, size_t len);

/* Append p[0..len) as a quoted JSON string of its standard base64 (RFC 4648, with padding). */
void srv_json_base64(struct evbuffer *out, const void *p, size_t len);

/* "2006-01-02T15:04:05.000Z" for a wall-clock time in ms since the epoch (UTC, RFC 3339 with
 * milliseconds).  Writes at most buflen bytes, NUL included; returns the length. */
size_t srv_format_rfc3339_ms(uint64_t ms, char *buf, size_t buflen);

/* A duration as Go prints one: "1h2m3s", "45s", "0s".  Returns the length (snprintf rules). */
int srv_format_duration_s(uint64_t seconds, char *buf, size_t buflen);

/* Append s as the value of a Prometheus label, without quotes: '\\', '"' and newline escaped. */
void srv_prom_label_value(struct evbuffer *out, const char *s);

/* Append "# HELP name text\n# TYPE name type\n" (text escaped as the format requires). */
void srv_prom_family(struct evbuffer *out, const char *name, const char *type, const char *help);

/*
 * Compare a presented token with the secret in time that depends only on the presented length,
 * never on where they differ or on the secret's length.  1 when equal, else 0.  An empty secret
 * never matches (callers treat "" as "no token configured" before asking).
 */
int srv_token_equal(const void *given, size_t glen, const void *secret, size_t slen);

#endif /* SERVER_ENCODE_H */
