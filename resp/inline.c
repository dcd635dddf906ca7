/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * inline.c: splitting an inline request ("SET k 'a b'\r\n") into arguments.
 *
 * What: resp_inline_split() gives the same arguments, and fails on the same lines, as Redis
 * 7.0's sdssplitargs() does for processInlineBuffer().  parser.c finds the line; this file only
 * splits it.  Inline requests come from telnet/nc users and from redis-cli's piped input, so
 * they are rare on the hot path, but the rules are client visible:
 *  - arguments are separated by whitespace; leading blanks are C isspace() (space, \t, \n, \v,
 *    \f, \r), but an unquoted argument ends only at space, \t, \n or \r, so "a\vb" is one
 *    argument;
 *  - "double quotes" take \n \r \t \b \a, \xHH (two hex digits, either case) and backslash plus
 *    any other byte meaning that byte ("\q" is "q", "\x4" is "x4");
 *  - 'single quotes' take only \' as an escape;
 *  - a quote may open in the middle of an argument (a"b c" is "ab c"), but a closing quote must
 *    be followed by whitespace or the end of the line, and a quote left open is an error
 *    ("Protocol error: unbalanced quotes in request");
 *  - "" is an empty argument; a blank line has no arguments.
 *
 * Why: the output is written into the parser's scratch buffer, one allocation sized to the
 * longest line seen (at most RESP_INLINE_MAX bytes), instead of one allocation per argument as
 * sdssplitargs() does.  Unescaping never makes an argument longer than its source, so a scratch
 * buffer as long as the line always suffices.
 *
 * Invariants: the output offset never passes the input offset (Invariant: o <= i), hence the
 * scratch bound above.  The line never contains a NUL (parser.c never completes a line across
 * one), so "the end of the line" here is where Redis's C string ends.
 * Threading: none.  Start reading at resp_inline_split().
 */
#include "parser_internal.h"

#include "alloc_internal.h"

#include <assert.h>

/* Smallest scratch buffer: covers typical hand-typed commands in one allocation. */
#define SCRATCH_INITIAL 64

/* Byte k of the line, or NUL past its end (as a C string reads). */
#define AT(k) ((k) < len ? line[(k)] : '\0')

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static char unescape(char c)
{
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
    }
}

/* A closing quote at line[i] is valid only before whitespace or the end of the line. */
static int quote_closes(const char *line, size_t len, size_t i)
{
    return AT(i + 1) == '\0' || is_space(AT(i + 1));
}

/*
 * Copy one argument starting at line[*pos] (not a blank) to out[*o...], unescaping it, and leave
 * *pos after it.  Returns 0, or -1 for unbalanced quotes.
 */
static int split_one(const char *line, size_t len, size_t *pos, char *out, size_t *o)
{
    enum { PLAIN, DOUBLE_QUOTED, SINGLE_QUOTED } mode = PLAIN;
    size_t i = *pos, w = *o;

    for (;;) {
        char c = AT(i);

        assert(w <= i);
        if (mode == DOUBLE_QUOTED) {
            if (c == '\\' && AT(i + 1) == 'x' && hex_value(AT(i + 2)) >= 0 &&
                hex_value(AT(i + 3)) >= 0) {
                out[w++] = (char)(hex_value(AT(i + 2)) * 16 + hex_value(AT(i + 3)));
                i += 4;
            } else if (c == '\\' && AT(i + 1) != '\0') {
                out[w++] = unescape(AT(i + 1));
                i += 2;
            } else if (c == '"') {
                if (!quote_closes(line, len, i))
                    return -1;
                i++;
                break;
            } else if (c == '\0') {
                return -1;
            } else {
                out[w++] = c;
                i++;
            }
        } else if (mode == SINGLE_QUOTED) {
            if (c == '\\' && AT(i + 1) == '\'') {
                out[w++] = '\'';
                i += 2;
            } else if (c == '\'') {
                if (!quote_closes(line, len, i))
                    return -1;
                i++;
                break;
            } else if (c == '\0') {
                return -1;
            } else {
                out[w++] = c;
                i++;
            }
        } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
            if (c != '\0')
                i++;
            break;
        } else {
            if (c == '"')
                mode = DOUBLE_QUOTED;
            else if (c == '\'')
                mode = SINGLE_QUOTED;
            else
                out[w++] = c;
            i++;
        }
    }
    *pos = i;
    *o = w;
    return 0;
}

static int grow_scratch(resp_parser *p, size_t need)
{
    size_t cap = p->scratch_cap > 0 ? p->scratch_cap : SCRATCH_INITIAL;
    char *s;

    while (cap < need)
        cap *= 2;
    s = resp_realloc(p->scratch, cap);
    if (s == NULL)
        return resp_parser_fail(p, RESP_ERR_NOMEM, "out of memory");
    p->scratch = s;
    p->scratch_cap = cap;
    return 0;
}

int resp_inline_split(resp_parser *p, const char *line, size_t len)
{
    size_t i = 0, o = 0;

    p->argc = 0;
    for (;;) {
        size_t start;
        int n;

        while (i < len && is_space(line[i]))
            i++;
        if (i >= len)
            return RESP_OK;
        /* Sized for the whole line at the first argument, so blank lines allocate nothing. */
        if (len > p->scratch_cap && grow_scratch(p, len) != 0)
            return RESP_ERR_NOMEM;
        start = o;
        if (split_one(line, len, &i, p->scratch, &o) != 0)
            return resp_parser_fail(p, RESP_ERR_PROTOCOL,
                                    "Protocol error: unbalanced quotes in request");
        n = p->argc;
        if (n == p->argv_cap && resp_parser_grow_args(p, n + 1) != 0)
            return RESP_ERR_NOMEM;
        p->arg_off[n] = start;
        p->argv[n].len = o - start;
        p->argc = n + 1;
    }
}
