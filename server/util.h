/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * util.h: small pure helpers shared inside server/: Redis's glob-style pattern matching (KEYS,
 * SCAN MATCH, CONFIG GET) and the strict number parsers the configuration uses (integers, memory
 * sizes, durations, booleans).  Nothing here allocates, logs or reads global state, so every
 * function is safe to call from any thread.
 */
#ifndef SERVER_UTIL_H
#define SERVER_UTIL_H

#include <stddef.h>

/* Results of the srv_parse_* functions. */
#define SRV_PARSE_OK 0
#define SRV_PARSE_INVALID (-1)  /* not in the expected syntax (empty, sign, garbage, unit) */
#define SRV_PARSE_OVERFLOW (-2) /* well-formed, but does not fit in a long long */

/*
 * Match str[0..slen) against the glob pattern pat[0..plen), the pattern language of Redis's KEYS:
 *   *       any run of bytes, including none
 *   ?       any single byte
 *   [abc]   one byte of the set; [^abc] one byte not in it; [a-z] a range (a reversed range such
 *           as [z-a] means the same as [a-z]); \x inside a class is a literal x; an empty class
 *           [] matches nothing and [^] any byte; a class with no closing ] runs to the end of
 *           the pattern
 *   \x      the byte x itself (a trailing lone backslash matches a backslash)
 * nocase != 0 compares ASCII letters case-insensitively (ranges included).
 * Returns 1 on a match, 0 otherwise.  Both buffers are binary-safe and need no terminating NUL.
 * Complexity: O(plen * slen) time in the worst case and O(1) space; never exponential, whatever
 * the number of stars.  Bytes compare as unsigned values (Redis compares range bounds as plain
 * char, which is signed on x86; only ranges whose bounds are above 0x7f differ).
 */
int srv_glob_match(const char *pat, size_t plen, const char *str, size_t slen, int nocase);

/*
 * Parse s[0..len) as a decimal integer: an optional '-', then one or more digits, nothing else
 * (no spaces, no '+', no base prefix).  Returns SRV_PARSE_OK and sets *out, SRV_PARSE_INVALID, or
 * SRV_PARSE_OVERFLOW when the value is outside [LLONG_MIN, LLONG_MAX].  *out is untouched on error.
 */
int srv_parse_ll(const char *s, size_t len, long long *out);

/*
 * Parse s[0..len) as a memory size in bytes, with Redis's memtoull units: digits, then optionally
 * one of b, k (1000), kb (1024), m (1000^2), mb (1024^2), g (1000^3), gb (1024^3), in any case.
 * Signs, spaces, fractions and other units are SRV_PARSE_INVALID; a result above LLONG_MAX is
 * SRV_PARSE_OVERFLOW.  *out is untouched on error.
 */
int srv_parse_bytes(const char *s, size_t len, long long *out);

/*
 * Parse s[0..len) as a duration in seconds: digits, then optionally one of s (seconds),
 * m (minutes), h (hours) or d (days), in any case.  Same error rules as srv_parse_bytes.
 */
int srv_parse_seconds(const char *s, size_t len, long long *out);

/* Like srv_parse_seconds, for milliseconds: a plain number is milliseconds; units ms, s, m, h. */
int srv_parse_millis(const char *s, size_t len, long long *out);

/*
 * Parse a boolean: yes/no, true/false, on/off (YAML 1.1's spellings), in any case.  Returns
 * SRV_PARSE_OK and sets *out to 1 or 0, or SRV_PARSE_INVALID.
 */
int srv_parse_bool(const char *s, size_t len, int *out);

/*
 * Compare s[0..len) with the NUL-terminated word, ignoring ASCII case.  Returns 1 when they are
 * equal (same length too), 0 otherwise.
 */
int srv_strcaseeq_len(const char *s, size_t len, const char *word);

/*
 * Write n as bytes text into buf (always NUL-terminated): with the largest of gb, mb, kb that
 * divides it exactly ("512mb", "1gb", "1536kb"), else as a plain number ("1000").  For messages
 * and --help; the result parses back with srv_parse_bytes.  Returns the length it needed
 * (snprintf rules).
 */
int srv_format_bytes(long long n, char *buf, size_t buflen);

#endif /* SERVER_UTIL_H */
