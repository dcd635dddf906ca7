/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * parser_internal.h: what parser.c and inline.c share.  Private to resp/.
 */
#ifndef RESP_PARSER_INTERNAL_H
#define RESP_PARSER_INTERNAL_H

#include "resp.h"

/*
 * Make argv and arg_off hold at least `need` entries, growing geometrically.  Returns 0, or
 * RESP_ERR_NOMEM with the parser's sticky error set (the arrays are left as they were).
 */
int resp_parser_grow_args(resp_parser *p, int need);

/*
 * Set the sticky error: code is RESP_ERR_PROTOCOL or RESP_ERR_NOMEM, text is the client-visible
 * message for a protocol error.  Returns code.
 */
int resp_parser_fail(resp_parser *p, int code, const char *text);

/*
 * Split one complete inline line (without its '\n' and the optional '\r' before it) into
 * arguments the way Redis 7.0's sdssplitargs() does.  The line holds no NUL byte (the caller
 * never completes a line across one).  Unescaped arguments go to p->scratch; on RESP_OK p->argc,
 * p->argv[i].len and p->arg_off[i] (offsets into scratch) describe them.  Returns RESP_OK,
 * RESP_ERR_PROTOCOL ("unbalanced quotes in request") or RESP_ERR_NOMEM, errors being sticky.
 */
int resp_inline_split(resp_parser *p, const char *line, size_t len);

#endif /* RESP_PARSER_INTERNAL_H */
