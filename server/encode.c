/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * encode.c: text codecs for the HTTP surface (see encode.h for each contract).
 *
 * Why hand-written: libevent's evhttp_uridecode leaves malformed escapes in place instead of
 * failing (a key "%zz" would silently mean the bytes "%zz"), and it cannot say how long a decoded
 * buffer containing %00 is without a second API; its evhttp_parse_query_str builds a heap list of
 * every parameter.  JSON needs a decision libraries do not make for us: how to show bytes that
 * are not UTF-8 (see srv_json_string).  These are small, so they live here with unit tests
 * (server/tests/test_encode.c) rather than behind a dependency.
 *
 * Writers append runs of bytes that need no escaping with one evbuffer_add each, so a long plain
 * key costs one copy, not one call per byte.  No state; any thread.  Start at srv_json_string.
 */
#include "server/encode.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int srv_url_decode(const char *in, size_t len, int plus_as_space, char *out, size_t *outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3) return -1; /* fewer than two hex digits left */
            hi = hexval((unsigned char)in[i + 1]);
            lo = hexval((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0) return -1;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = (char)(c == '+' && plus_as_space ? ' ' : c);
        }
    }
    *outlen = o;
    return 0;
}

int srv_query_get(const char *query, const char *name, const char **val, size_t *vlen)
{
    size_t nlen = strlen(name);

    if (query == NULL) return 0;
    for (const char *p = query; *p != '\0';) {
        size_t plen = strcspn(p, "&");
        const char *eq = memchr(p, '=', plen);
        size_t klen = eq ? (size_t)(eq - p) : plen;
        if (klen == nlen && memcmp(p, name, nlen) == 0) {
            *val = eq ? eq + 1 : p + plen;
            *vlen = eq ? plen - klen - 1 : 0;
            return 1;
        }
        p += plen;
        if (*p == '&') p++;
    }
    return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when s[0] does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */

    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0) lo = 0xa0;  /* no overlong forms */
        if (c == 0xed) hi = 0x9f;  /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;  /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < need + 1) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i <= need; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    return need + 1;
}

void srv_json_string(struct evbuffer *out, const void *p, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = p;
    size_t run = 0; /* start of the pending run of bytes written as they are */
    size_t i = 0;

    evbuffer_add(out, "\"", 1);
    while (i < len) {
        unsigned char c = s[i];
        size_t seq = utf8_seq(s + i, len - i);
        char esc[8];
        size_t elen = 0;
        if (seq > 1 || (seq == 1 && c >= 0x20 && c != '"' && c != '\\')) {
            i += seq;
            continue;
        }
        if (seq == 0) { /* a byte outside valid UTF-8: U+DC00 + byte */
            memcpy(esc, "\\udc", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        } else if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            elen = 2;
        } else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
            elen = 2;
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if (i > run) evbuffer_add(out, s + run, i - run);
        evbuffer_add(out, esc, elen);
        i++;
        run = i;
    }
    if (len > run) evbuffer_add(out, s + run, len - run);
    evbuffer_add(out, "\"", 1);
}

void srv_json_base64(struct evbuffer *out, const void *p, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = p;
    char quad[4];

    evbuffer_add(out, "\"", 1);
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16;
        if (i + 1 < len) v |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < len) v |= s[i + 2];
        quad[0] = tab[v >> 18 & 63];
        quad[1] = tab[v >> 12 & 63];
        quad[2] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        quad[3] = i + 2 < len ? tab[v & 63] : '=';
        evbuffer_add(out, quad, 4);
    }
    evbuffer_add(out, "\"", 1);
}

size_t srv_format_rfc3339_ms(uint64_t ms, char *buf, size_t buflen)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    int n;

    if (buflen == 0) return 0;
    if (gmtime_r(&secs, &tm) == NULL) {
        buf[0] = '\0';
        return 0;
    }
    n = snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(ms % 1000));
    if (n < 0) return 0;
    return (size_t)n < buflen ? (size_t)n : buflen - 1;
}

int srv_format_duration_s(uint64_t seconds, char *buf, size_t buflen)
{
    unsigned long long h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;

    if (h > 0) return snprintf(buf, buflen, "%lluh%llum%llus", h, m, s);
    if (m > 0) return snprintf(buf, buflen, "%llum%llus", m, s);
    return snprintf(buf, buflen, "%llus", s);
}

/* Append s with '\\', newline and (when quote) '"' escaped, as the text format wants. */
static void prom_escape(struct evbuffer *out, const char *s, int quote)
{
    const char *run = s;

    for (; *s != '\0'; s++) {
        const char *esc = NULL;
        if (*s == '\\') esc = "\\\\";
        else if (*s == '\n') esc = "\\n";
        else if (quote && *s == '"') esc = "\\\"";
        if (esc == NULL) continue;
        if (s > run) evbuffer_add(out, run, (size_t)(s - run));
        evbuffer_add(out, esc, 2);
        run = s + 1;
    }
    if (s > run) evbuffer_add(out, run, (size_t)(s - run));
}

void srv_prom_label_value(struct evbuffer *out, const char *s) { prom_escape(out, s, 1); }

void srv_prom_family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s ", name);
    prom_escape(out, help, 0);
    evbuffer_add_printf(out, "\n# TYPE %s %s\n", name, type);
}

int srv_token_equal(const void *given, size_t glen, const void *secret, size_t slen)
{
    const unsigned char *g = given, *s = secret;
    unsigned char diff = (unsigned char)(glen != slen);

    if (slen == 0) return 0;
    for (size_t i = 0; i < glen; i++) diff |= (unsigned char)(g[i] ^ s[i % slen]);
    return diff == 0;
}
