/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * number.c: decimal integers the way Redis reads and writes them.
 *
 * What: resp_str_to_ll() accepts exactly the strings Redis 7.0's string2ll() accepts (used for
 * "*<count>" and "$<len>" lines here, and by the server for every integer argument), and
 * resp_ll_to_str()/resp_ull_to_str() format integers for replies without printf.
 *
 * Why: the set of accepted spellings is part of the protocol.  "+1", " 1", "01", "-0" and "" are
 * all rejected by Redis ("Protocol error: invalid multibulk length", "value is not an integer"),
 * so strtoll() (which takes spaces, '+' and leading zeros) would be wrong.  Formatting runs for
 * every integer reply, so it writes two digits per division from a 200-byte table instead of
 * going through snprintf's format interpreter (rejected: snprintf, ~5x slower on short values).
 *
 * Invariants: no function here allocates, reads global state or depends on the locale.
 * Threading: pure functions, safe from any thread.
 * Start reading at resp_str_to_ll().
 */
#include "resp.h"

#include <limits.h>
#include <string.h>

/* Longest valid input: "-9223372036854775808" (20 bytes).  Anything longer either has a leading
 * zero or overflows, so rejecting it up front changes no result and bounds the work. */
#define LL_MAX_CHARS 20

/* Digit pairs "00".."99": the two characters of n live at digit_pairs[2n], [2n+1]. */
static const char digit_pairs[201] = "0001020304050607080910111213141516171819"
                                     "2021222324252627282930313233343536373839"
                                     "4041424344454647484950515253545556575859"
                                     "6061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

int resp_str_to_ll(const char *s, size_t len, long long *out)
{
    size_t i = 0;
    int negative = 0;
    unsigned long long v;

    if (len == 0 || len > LL_MAX_CHARS)
        return 0;
    if (len == 1 && s[0] == '0') {
        if (out)
            *out = 0;
        return 1;
    }
    if (s[0] == '-') {
        negative = 1;
        i = 1;
        if (len == 1)
            return 0;
    }
    /* The first digit must be 1-9: this rejects "-0", "00" and every other leading zero. */
    if (s[i] < '1' || s[i] > '9')
        return 0;
    v = (unsigned long long)(s[i++] - '0');
    for (; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return 0;
        d = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        /* -(v - 1) - 1 stays inside long long even for v == 2^63. */
        if (out)
            *out = -(long long)(v - 1) - 1;
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        if (out)
            *out = (long long)v;
    }
    return 1;
}

size_t resp_ull_to_str(char *dst, unsigned long long v)
{
    char tmp[20]; /* ULLONG_MAX has 20 digits */
    size_t i = sizeof(tmp);
    size_t n;

    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        i -= 2;
        memcpy(tmp + i, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        i -= 2;
        memcpy(tmp + i, digit_pairs + 2 * v, 2);
    } else {
        tmp[--i] = (char)('0' + v);
    }
    n = sizeof(tmp) - i;
    memcpy(dst, tmp + i, n);
    return n;
}

size_t resp_ll_to_str(char *dst, long long v)
{
    if (v < 0) {
        /* Unsigned negation is defined for LLONG_MIN too. */
        dst[0] = '-';
        return 1 + resp_ull_to_str(dst + 1, 0ULL - (unsigned long long)v);
    }
    return resp_ull_to_str(dst, (unsigned long long)v);
}
