/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.c: glob matching and strict number parsing for server/.
 *
 * Why: KEYS, SCAN MATCH and CONFIG GET take Redis glob patterns, and the configuration takes
 * Redis-style sizes ("512mb") and our durations ("7d").  Both are small, pure and easy to get
 * subtly wrong, so they live here with their own unit test (tests/test_util.c).
 *
 * Glob design: Redis's matcher recurses at every '*', which is exponential on patterns such as
 * "a*a*a*...b" unless it carries extra state to cut the search.  We use the classic
 * "remember the last star" backtracking instead: every pattern element other than '*' consumes
 * exactly one byte, so when a match fails it is enough to retry from the most recent star with
 * one more byte swallowed by it.  Earlier stars never need revisiting, because whatever an
 * earlier star could absorb, the latest star can absorb too.  That bounds the work by
 * O(plen * slen) with O(1) space.  Rejected: a DP table (O(plen * slen) memory for long keys)
 * and recursion with memoisation (stack depth proportional to the pattern).
 *
 * Parsing design: no strtoll/strtoull.  They accept leading spaces, '+' and, for the unsigned
 * variant, a '-' that wraps around, which is how Redis's memtoull must re-check its input.  Our
 * parsers take explicit (pointer, length) pairs, accept exactly the documented syntax and report
 * overflow separately from bad syntax, so config.c can say which one it was.
 *
 * Invariant: no function here allocates, logs or keeps state.  Start reading at
 * srv_glob_match().
 */
#include "server/util.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

static unsigned char fold(unsigned char c, int nocase)
{
    return (nocase && c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/*
 * Match one byte c against the class that starts just after '[' at pat[i], and return in *next
 * the index just past the class (past its ']', or plen when the class is not closed).
 */
static int match_class(const unsigned char *pat, size_t plen, size_t i, unsigned char c,
                       int nocase, size_t *next)
{
    int negate = 0, hit = 0;

    c = fold(c, nocase);
    if (i < plen && pat[i] == '^') {
        negate = 1;
        i++;
    }
    while (i < plen && pat[i] != ']') {
        if (pat[i] == '\\' && i + 1 < plen) {
            hit |= fold(pat[i + 1], nocase) == c;
            i += 2;
        } else if (i + 2 < plen && pat[i + 1] == '-') {
            unsigned char lo = fold(pat[i], nocase), hi = fold(pat[i + 2], nocase);
            if (lo > hi) {
                unsigned char t = lo;
                lo = hi;
                hi = t;
            }
            hit |= c >= lo && c <= hi;
            i += 3;
        } else {
            hit |= fold(pat[i], nocase) == c;
            i++;
        }
    }
    *next = i < plen ? i + 1 : plen;
    return negate ? !hit : hit;
}

/* Match one non-star pattern element at pat[i] against byte c; *next is the index after it. */
static int match_element(const unsigned char *pat, size_t plen, size_t i, unsigned char c,
                         int nocase, size_t *next)
{
    switch (pat[i]) {
    case '?':
        *next = i + 1;
        return 1;
    case '[':
        return match_class(pat, plen, i + 1, c, nocase, next);
    case '\\':
        /* The escaped byte, or a trailing lone backslash, is a literal. */
        if (i + 1 < plen) i++;
        /* fall through */
    default:
        *next = i + 1;
        return fold(pat[i], nocase) == fold(c, nocase);
    }
}

/*
 * How it works: p and s walk the pattern and the string.  A run of stars records a restart
 * point (star_p = the element after the stars, star_s = where the star's match ends so far).
 * When an element fails, the latest star takes one more byte and matching resumes from star_p.
 *
 * What can go wrong: restarting from an earlier star is never needed (see the file comment), so
 * the only state is one (star_p, star_s) pair.  Each restart advances star_s, and between two
 * restarts p moves forward at most plen times, hence O(plen * slen).
 *
 * Limitations: elements must consume exactly one byte, which holds for Redis's language (no
 * alternation or repetition other than '*').
 */
int srv_glob_match(const char *pattern, size_t plen, const char *string, size_t slen, int nocase)
{
    const unsigned char *pat = (const unsigned char *)pattern;
    const unsigned char *str = (const unsigned char *)string;
    size_t p = 0, s = 0, star_p = SIZE_MAX, star_s = 0, next;

    while (s < slen) {
        if (p < plen && pat[p] == '*') {
            while (p < plen && pat[p] == '*') p++;
            if (p == plen) return 1; /* a trailing star swallows the rest */
            star_p = p;
            star_s = s;
        } else if (p < plen && match_element(pat, plen, p, str[s], nocase, &next)) {
            p = next;
            s++;
        } else if (star_p != SIZE_MAX) {
            p = star_p;
            s = ++star_s;
        } else {
            return 0;
        }
    }
    while (p < plen && pat[p] == '*') p++;
    return p == plen;
}

/* Accumulate the decimal digits at s[*i..len) into *v (at least one).  0, or a SRV_PARSE_* error. */
static int parse_digits(const char *s, size_t len, size_t *i, unsigned long long *v)
{
    size_t start = *i;
    unsigned long long acc = 0;
    int overflow = 0;

    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (acc > (ULLONG_MAX - d) / 10) overflow = 1;
        else acc = acc * 10 + d;
    }
    if (*i == start) return SRV_PARSE_INVALID;
    *v = acc;
    return overflow ? SRV_PARSE_OVERFLOW : SRV_PARSE_OK;
}

int srv_parse_ll(const char *s, size_t len, long long *out)
{
    size_t i = 0;
    int neg = 0, rc;
    unsigned long long v;

    if (len > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    rc = parse_digits(s, len, &i, &v);
    if (rc == SRV_PARSE_INVALID || i != len) return SRV_PARSE_INVALID;
    if (rc == SRV_PARSE_OVERFLOW) return rc;
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return SRV_PARSE_OVERFLOW;
        *out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)v;
    } else {
        if (v > (unsigned long long)LLONG_MAX) return SRV_PARSE_OVERFLOW;
        *out = (long long)v;
    }
    return SRV_PARSE_OK;
}

typedef struct unit_mul {
    const char *suffix;
    unsigned long long mul;
} unit_mul;

/* Parse digits followed by one optional suffix of the table (or none: multiplier 1). */
static int parse_with_units(const char *s, size_t len, const unit_mul *units, long long *out)
{
    size_t i = 0;
    unsigned long long v, mul = 0;
    int rc = parse_digits(s, len, &i, &v);

    if (rc == SRV_PARSE_INVALID) return rc;
    if (i == len) {
        mul = 1;
    } else {
        for (const unit_mul *u = units; u->suffix != NULL; u++)
            if (srv_strcaseeq_len(s + i, len - i, u->suffix)) mul = u->mul;
        if (mul == 0) return SRV_PARSE_INVALID;
    }
    if (rc == SRV_PARSE_OVERFLOW || v > (unsigned long long)LLONG_MAX / mul)
        return SRV_PARSE_OVERFLOW;
    *out = (long long)(v * mul);
    return SRV_PARSE_OK;
}

int srv_parse_bytes(const char *s, size_t len, long long *out)
{
    static const unit_mul units[] = {
        {"b", 1ULL},
        {"k", 1000ULL},
        {"kb", 1024ULL},
        {"m", 1000ULL * 1000},
        {"mb", 1024ULL * 1024},
        {"g", 1000ULL * 1000 * 1000},
        {"gb", 1024ULL * 1024 * 1024},
        {NULL, 0},
    };
    return parse_with_units(s, len, units, out);
}

int srv_parse_seconds(const char *s, size_t len, long long *out)
{
    static const unit_mul units[] = {
        {"s", 1ULL}, {"m", 60ULL}, {"h", 3600ULL}, {"d", 86400ULL}, {NULL, 0},
    };
    return parse_with_units(s, len, units, out);
}

int srv_parse_millis(const char *s, size_t len, long long *out)
{
    static const unit_mul units[] = {
        {"ms", 1ULL}, {"s", 1000ULL}, {"m", 60000ULL}, {"h", 3600000ULL}, {NULL, 0},
    };
    return parse_with_units(s, len, units, out);
}

int srv_parse_bool(const char *s, size_t len, int *out)
{
    static const char *const yes[] = {"yes", "true", "on", NULL};
    static const char *const no[] = {"no", "false", "off", NULL};

    for (int i = 0; yes[i] != NULL; i++) {
        if (srv_strcaseeq_len(s, len, yes[i])) {
            *out = 1;
            return SRV_PARSE_OK;
        }
        if (srv_strcaseeq_len(s, len, no[i])) {
            *out = 0;
            return SRV_PARSE_OK;
        }
    }
    return SRV_PARSE_INVALID;
}

int srv_strcaseeq_len(const char *s, size_t len, const char *word)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (word[i] == '\0') return 0;
        if (fold((unsigned char)s[i], 1) != fold((unsigned char)word[i], 1)) return 0;
    }
    return word[i] == '\0';
}

int srv_format_bytes(long long n, char *buf, size_t buflen)
{
    static const struct {
        const char *suffix;
        long long mul;
    } units[] = {{"gb", 1024LL * 1024 * 1024}, {"mb", 1024LL * 1024}, {"kb", 1024LL}};

    for (size_t i = 0; n > 0 && i < sizeof units / sizeof units[0]; i++)
        if (n % units[i].mul == 0)
            return snprintf(buf, buflen, "%lld%s", n / units[i].mul, units[i].suffix);
    return snprintf(buf, buflen, "%lld", n);
}
