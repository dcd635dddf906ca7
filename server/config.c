/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.c: the option table and everything it drives: defaults, the YAML file, REPRAM_*
 * environment variables, --name value flags, cross-option checks, CONFIG GET formatting and
 * --help.
 *
 * Design: one table, srv_options[], names every option once with its type, field offset,
 * default text, range and help line.  Defaults are applied by parsing the default text through
 * the same config_set_option() that files, the environment, flags and CONFIG SET use, so a
 * default can never be something the parser would refuse, and there is one parser per type
 * instead of one per option.  Rejected: X-macros (hard to read and to grep) and Redis's
 * per-option callbacks (more power than twenty-odd options need).
 *
 * The YAML file is read with libyaml's event API and a small hand-written walk that accepts
 * only a flat mapping of option -> scalar (or -> sequence of scalars for list options).  The
 * event API keeps the source line of every key and value, which the error messages need, and
 * never builds a document tree.
 *
 * Invariants:
 *   - config_set_option() either stores the new value or leaves the config untouched (values are
 *     parsed completely before anything is freed), so CONFIG SET cannot half-apply a value.
 *   - After config_init(), string fields are never NULL ("" means unset) and a list field is a
 *     NULL-terminated array followed, in srv_config, by its int count.
 *   - Every error message starts with its source: "FILE:LINE: ", "environment variable
 *     REPRAM_X: ", "command line option --x: " (config_set_option itself adds "option 'x': ").
 *
 * Threading: none of this is thread-safe; it runs at startup and, for CONFIG SET, on the data
 * thread.  Start reading at config_load().
 */
#include "server/config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "server/log.h"
#include "server/util.h"

/* Entries in a list option (bind); Redis's CONFIG_BINDADDR_MAX is the same. */
#define LIST_MAX 16

/* Upper bound of every TTL option, in seconds: 100 years.  Far below the point where
 * now_ms + ttl_s * 1000 could overflow a 64-bit millisecond clock, and far above any useful
 * lifetime for an ephemeral key. */
#define TTL_MAX_S 3153600000LL

/* Longest node-name, in bytes: a DNS host name is at most 253 characters. */
#define NODE_NAME_MAX 255

/* Longest option name we look up; anything longer is unknown without further ado. */
#define NAME_MAX_LEN 64

#define KB 1024LL
#define MB (1024LL * 1024)
#define GB (1024LL * 1024 * 1024)
#define OFF(field) offsetof(srv_config, field)

static const char *const policy_names[] = {"noeviction", "volatile-ttl", NULL};
static const char *const loglevel_names[] = {"debug", "verbose", "notice", "warning", NULL};

_Static_assert(SRV_MAXMEMORY_NOEVICTION == 0 && SRV_MAXMEMORY_VOLATILE_TTL == 1,
               "policy_names is indexed by enum srv_maxmemory_policy");
_Static_assert(SRV_LOG_DEBUG == 0 && SRV_LOG_VERBOSE == 1 && SRV_LOG_NOTICE == 2 &&
                   SRV_LOG_WARNING == 3,
               "loglevel_names is indexed by SRV_LOG_*");
_Static_assert(offsetof(srv_config, bind_count) == offsetof(srv_config, bind) + sizeof(char **),
               "a list field is followed by its int count");

#define MUT SRV_OPT_MUTABLE

const srv_option srv_options[] = {
    /* network */
    {"port", SRV_OPT_INT, OFF(port), "6379", 0, 65535, NULL, 0, "",
     "TCP port for RESP clients; 0 = no TCP listener"},
    {"bind", SRV_OPT_LIST, OFF(bind), "127.0.0.1", 0, 0, NULL, 0, "addresses",
     "addresses to listen on (YAML sequence, or words split by spaces)"},
    {"tcp-backlog", SRV_OPT_INT, OFF(tcp_backlog), "511", 0, INT_MAX, NULL, 0, "connections",
     "listen(2) backlog of connections not yet accepted"},
    {"maxclients", SRV_OPT_INT, OFF(maxclients), "10000", 1, 1000000, NULL, MUT, "clients",
     "connected clients at most; more are refused"},
    {"timeout", SRV_OPT_SECONDS, OFF(timeout_s), "0", 0, INT_MAX, NULL, MUT, "seconds",
     "close a client idle this long; 0 = never"},
    {"tcp-keepalive", SRV_OPT_SECONDS, OFF(tcp_keepalive_s), "300", 0, INT_MAX, NULL, MUT,
     "seconds", "TCP keepalive probe interval for clients; 0 = off"},
    /* security */
    {"requirepass", SRV_OPT_STRING, OFF(requirepass), "", 0, 0, NULL, MUT | SRV_OPT_SENSITIVE,
     "password", "password clients must AUTH with; empty = no password"},
    /* memory and limits */
    {"maxmemory", SRV_OPT_BYTES, OFF(maxmemory), "0", 0, LLONG_MAX, NULL, MUT, "bytes",
     "memory for keys, values and overhead; 0 = no limit"},
    {"maxmemory-policy", SRV_OPT_ENUM, OFF(maxmemory_policy), "noeviction", 0, 0, policy_names,
     MUT, "", "at maxmemory: refuse writes, or evict keys nearest to expiry"},
    {"proto-max-bulk-len", SRV_OPT_BYTES, OFF(proto_max_bulk_len), "512mb", 1 * MB, LLONG_MAX,
     NULL, MUT, "bytes", "longest bulk string a client may send"},
    {"client-query-buffer-limit", SRV_OPT_BYTES, OFF(client_query_buffer_limit), "1gb", 1 * MB,
     LLONG_MAX, NULL, MUT, "bytes", "a client whose unread input grows past this is closed"},
    {"max-key-size", SRV_OPT_BYTES, OFF(max_key_size), "512", 1, 65535, NULL, MUT, "bytes",
     "longest key accepted"},
    {"max-value-size", SRV_OPT_BYTES, OFF(max_value_size), "10mb", 1, 512 * MB, NULL, MUT,
     "bytes", "longest value accepted"},
    /* time to live */
    {"default-ttl", SRV_OPT_SECONDS, OFF(default_ttl_s), "3600", 1, TTL_MAX_S, NULL, MUT,
     "seconds", "TTL of writes that give none"},
    {"max-ttl", SRV_OPT_SECONDS, OFF(max_ttl_s), "604800", 1, TTL_MAX_S, NULL, MUT, "seconds",
     "longest TTL a write may ask for"},
    {"ttl-clamp", SRV_OPT_BOOL, OFF(ttl_clamp), "no", 0, 0, NULL, MUT, "",
     "yes: lower a TTL above max-ttl to max-ttl; no: refuse the write"},
    /* operations */
    {"hz", SRV_OPT_INT, OFF(hz), "10", 1, 500, NULL, MUT, "per second",
     "background timer frequency (expiry, idle clients)"},
    {"loglevel", SRV_OPT_ENUM, OFF(loglevel), "notice", 0, 0, loglevel_names, MUT, "",
     "least severe level that is logged"},
    {"logfile", SRV_OPT_STRING, OFF(logfile), "", 0, 0, NULL, 0, "path",
     "file the log is appended to; empty = stderr"},
    {"node-name", SRV_OPT_STRING, OFF(node_name), "", 0, 0, NULL, 0, "name",
     "name of this node in the cluster; empty = the host name"},
    {"pidfile", SRV_OPT_STRING, OFF(pidfile), "", 0, 0, NULL, 0, "path",
     "file to write the process id to; empty = none"},
    {NULL, SRV_OPT_INT, 0, NULL, 0, 0, NULL, 0, NULL, NULL},
};

#define OPT_COUNT (sizeof srv_options / sizeof srv_options[0] - 1)

/* ------------------------------------------------------------------------------------------ */
/* Small helpers. */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "option 'NAME': " followed by the formatted reason. */
static int opt_err(char *err, size_t errlen, const srv_option *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int opt_err(char *err, size_t errlen, const srv_option *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL || errlen == 0) return -1;
    n = snprintf(err, errlen, "option '%s': ", o->name);
    if (n < 0 || (size_t)n >= errlen) return -1;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void *field(srv_config *c, const srv_option *o)
{
    return (char *)c + o->offset;
}

static const void *cfield(const srv_config *c, const srv_option *o)
{
    return (const char *)c + o->offset;
}

static int *list_count(srv_config *c, const srv_option *o)
{
    return (int *)((char *)c + o->offset + sizeof(char **));
}

static const srv_option *find_option_len(const char *name, size_t len)
{
    for (const srv_option *o = srv_options; o->name != NULL; o++)
        if (srv_strcaseeq_len(name, len, o->name)) return o;
    return NULL;
}

const srv_option *config_find_option(const char *name)
{
    return name == NULL ? NULL : find_option_len(name, strlen(name));
}

static void free_list(char **list)
{
    if (list == NULL) return;
    for (char **p = list; *p != NULL; p++) free(*p);
    free(list);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing one value (config_set_option). */

/* The valid range of a numeric option, as text for messages ("0..65535", "at least 1mb"). */
static void format_range(const srv_option *o, char *buf, size_t buflen)
{
    char lo[32], hi[32];

    if (o->type == SRV_OPT_BYTES) {
        srv_format_bytes(o->min, lo, sizeof lo);
        srv_format_bytes(o->max, hi, sizeof hi);
    } else {
        snprintf(lo, sizeof lo, "%lld", o->min);
        snprintf(hi, sizeof hi, "%lld", o->max);
    }
    if (o->max == LLONG_MAX && o->min > 0) snprintf(buf, buflen, "at least %s", lo);
    else snprintf(buf, buflen, "%s..%s%s", lo, hi, o->type == SRV_OPT_SECONDS ? " seconds" : "");
}

static int parse_number(const srv_option *o, const char *v, long long *out, char *err,
                        size_t errlen)
{
    size_t len = strlen(v);
    char range[96];
    int rc;

    if (o->type == SRV_OPT_BYTES) rc = srv_parse_bytes(v, len, out);
    else if (o->type == SRV_OPT_SECONDS) rc = srv_parse_seconds(v, len, out);
    else rc = srv_parse_ll(v, len, out);

    if (rc == SRV_PARSE_INVALID && o->type == SRV_OPT_BYTES)
        return opt_err(err, errlen, o, "invalid memory size '%.64s' (expected bytes, or a number "
                       "with k, kb, m, mb, g or gb)", v);
    if (rc == SRV_PARSE_INVALID && o->type == SRV_OPT_SECONDS)
        return opt_err(err, errlen, o, "invalid duration '%.64s' (expected seconds, or a number "
                       "with s, m, h or d)", v);
    if (rc == SRV_PARSE_INVALID) return opt_err(err, errlen, o, "invalid integer '%.64s'", v);
    if (rc == SRV_PARSE_OVERFLOW || *out < o->min || *out > o->max) {
        format_range(o, range, sizeof range);
        return opt_err(err, errlen, o, "'%.64s' is out of range (%s)", v, range);
    }
    return 0;
}

static int set_enum(srv_config *c, const srv_option *o, const char *v, char *err, size_t errlen)
{
    char names[128] = "";

    for (int i = 0; o->enum_names[i] != NULL; i++) {
        if (strcasecmp(v, o->enum_names[i]) == 0) {
            *(int *)field(c, o) = i;
            return 0;
        }
    }
    for (int i = 0; o->enum_names[i] != NULL; i++) {
        const char *sep = i == 0 ? "" : o->enum_names[i + 1] != NULL ? ", " : " or ";
        strncat(names, sep, sizeof names - strlen(names) - 1);
        strncat(names, o->enum_names[i], sizeof names - strlen(names) - 1);
    }
    return opt_err(err, errlen, o, "invalid value '%.64s' (expected %s)", v, names);
}

static int set_string(srv_config *c, const srv_option *o, const char *v, char *err,
                      size_t errlen)
{
    char **slot = field(c, o);
    char *copy = strdup(v);

    if (copy == NULL) return opt_err(err, errlen, o, "out of memory");
    free(*slot);
    *slot = copy;
    return 0;
}

/* Split v at spaces and tabs into a new NULL-terminated array of at most LIST_MAX words. */
static int split_list(const srv_option *o, const char *v, char ***out, int *count, char *err,
                      size_t errlen)
{
    char **list = calloc(LIST_MAX + 1, sizeof *list);
    int n = 0;

    if (list == NULL) return opt_err(err, errlen, o, "out of memory");
    for (const char *p = v;;) {
        size_t len;
        p += strspn(p, " \t");
        if (*p == '\0') break;
        len = strcspn(p, " \t");
        if (n == LIST_MAX) {
            free_list(list);
            return opt_err(err, errlen, o, "too many entries (at most %d)", LIST_MAX);
        }
        if ((list[n] = strndup(p, len)) == NULL) {
            free_list(list);
            return opt_err(err, errlen, o, "out of memory");
        }
        n++;
        p += len;
    }
    *out = list;
    *count = n;
    return 0;
}

static int set_list(srv_config *c, const srv_option *o, const char *v, char *err, size_t errlen)
{
    char ***slot = field(c, o);
    char **list = NULL;
    int n = 0;

    if (split_list(o, v, &list, &n, err, errlen) != 0) return -1;
    free_list(*slot);
    *slot = list;
    *list_count(c, o) = n;
    return 0;
}

int config_set_option(srv_config *c, const srv_option *o, const char *value, char *err,
                      size_t errlen)
{
    long long n;
    int b;

    switch (o->type) {
    case SRV_OPT_INT:
        if (parse_number(o, value, &n, err, errlen) != 0) return -1;
        *(int *)field(c, o) = (int)n;
        return 0;
    case SRV_OPT_BYTES:
    case SRV_OPT_SECONDS:
        if (parse_number(o, value, &n, err, errlen) != 0) return -1;
        *(long long *)field(c, o) = n;
        return 0;
    case SRV_OPT_BOOL:
        if (srv_parse_bool(value, strlen(value), &b) != SRV_PARSE_OK)
            return opt_err(err, errlen, o, "invalid boolean '%.64s' (expected yes or no)", value);
        *(int *)field(c, o) = b;
        return 0;
    case SRV_OPT_ENUM:
        return set_enum(c, o, value, err, errlen);
    case SRV_OPT_STRING:
        return set_string(c, o, value, err, errlen);
    case SRV_OPT_LIST:
        return set_list(c, o, value, err, errlen);
    }
    return opt_err(err, errlen, o, "unsupported option type");
}

/* ------------------------------------------------------------------------------------------ */
/* Lifecycle, validation, formatting, help. */

int config_init(srv_config *c)
{
    char err[256];

    memset(c, 0, sizeof *c);
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        /* The defaults are fixed text that tests/test_config.c parses, so the only way this
         * fails is an allocation failure. */
        if (config_set_option(c, o, o->def, err, sizeof err) != 0) {
            config_free(c);
            return -1;
        }
    }
    return 0;
}

void config_free(srv_config *c)
{
    if (c == NULL) return;
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        if (o->type == SRV_OPT_STRING) {
            char **slot = field(c, o);
            free(*slot);
            *slot = NULL;
        } else if (o->type == SRV_OPT_LIST) {
            char ***slot = field(c, o);
            free_list(*slot);
            *slot = NULL;
            *list_count(c, o) = 0;
        }
    }
}

static int valid_node_name(const char *s)
{
    size_t len = strlen(s);

    if (len > NODE_NAME_MAX) return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f) return 0;
    return 1;
}

int config_validate(const srv_config *c, char *err, size_t errlen)
{
    char a[32], b[32];

    if (c->default_ttl_s > c->max_ttl_s) {
        seterr(err, errlen, "option 'default-ttl' (%lld seconds) must not exceed option 'max-ttl' "
               "(%lld seconds)", c->default_ttl_s, c->max_ttl_s);
        return -1;
    }
    if (c->max_value_size > c->proto_max_bulk_len) {
        srv_format_bytes(c->max_value_size, a, sizeof a);
        srv_format_bytes(c->proto_max_bulk_len, b, sizeof b);
        seterr(err, errlen, "option 'max-value-size' (%s) must not exceed option "
               "'proto-max-bulk-len' (%s)", a, b);
        return -1;
    }
    if (c->port != 0 && c->bind_count == 0) {
        seterr(err, errlen, "option 'bind': at least one address is needed when 'port' is not 0");
        return -1;
    }
    if (!valid_node_name(c->node_name)) {
        seterr(err, errlen, "option 'node-name': at most %d bytes, without spaces or control "
               "characters", NODE_NAME_MAX);
        return -1;
    }
    return 0;
}

/* Append s at buf[at], truncating; returns the new length (at most buflen - 1). */
static size_t append(char *buf, size_t buflen, size_t at, const char *s)
{
    size_t len = strlen(s);

    if (at + len >= buflen) len = buflen - 1 - at;
    memcpy(buf + at, s, len);
    buf[at + len] = '\0';
    return at + len;
}

size_t config_format_option(const srv_config *c, const srv_option *o, char *buf, size_t buflen)
{
    char num[32];
    size_t at = 0;

    if (buflen == 0) return 0;
    buf[0] = '\0';
    switch (o->type) {
    case SRV_OPT_INT:
        snprintf(num, sizeof num, "%d", *(const int *)cfield(c, o));
        return append(buf, buflen, 0, num);
    case SRV_OPT_BYTES:
    case SRV_OPT_SECONDS:
        snprintf(num, sizeof num, "%lld", *(const long long *)cfield(c, o));
        return append(buf, buflen, 0, num);
    case SRV_OPT_BOOL:
        return append(buf, buflen, 0, *(const int *)cfield(c, o) ? "yes" : "no");
    case SRV_OPT_ENUM:
        return append(buf, buflen, 0, o->enum_names[*(const int *)cfield(c, o)]);
    case SRV_OPT_STRING:
        return append(buf, buflen, 0, *(char *const *)cfield(c, o));
    case SRV_OPT_LIST:
        for (char *const *p = *(char **const *)cfield(c, o); p != NULL && *p != NULL; p++)
            at = append(buf, buflen, append(buf, buflen, at, at > 0 ? " " : ""), *p);
        return at;
    }
    return 0;
}

/* The TYPE column of --help: the unit, or the kind of value. */
static const char *help_type(const srv_option *o)
{
    if (o->type == SRV_OPT_ENUM) return "enum";
    if (o->type == SRV_OPT_BOOL) return "yes|no";
    if (o->unit != NULL && o->unit[0] != '\0') return o->unit;
    return o->type == SRV_OPT_INT ? "integer" : "string";
}

/* The DESCRIPTION column: the help line, and for an enum its words ("... (a|b)"). */
static const char *help_text(const srv_option *o, char *buf, size_t buflen)
{
    size_t at;

    if (o->type != SRV_OPT_ENUM) return o->help;
    at = append(buf, buflen, 0, o->help);
    for (int i = 0; o->enum_names[i] != NULL; i++) {
        at = append(buf, buflen, at, i == 0 ? " (" : "|");
        at = append(buf, buflen, at, o->enum_names[i]);
    }
    append(buf, buflen, at, ")");
    return buf;
}

void config_print_help(FILE *out)
{
    int wname = 0, wtype = 0, wdef = 0;
    char text[256];

    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        int n = (int)strlen(o->name), t = (int)strlen(help_type(o));
        int d = o->def[0] ? (int)strlen(o->def) : 2;
        wname = n > wname ? n : wname;
        wtype = t > wtype ? t : wtype;
        wdef = d > wdef ? d : wdef;
    }
    fprintf(out,
            "Usage: repram-server [--config FILE] [--OPTION VALUE ...]\n\n"
            "Each option is taken from, highest priority first: the command line (--name value\n"
            "or --name=value), the environment (REPRAM_NAME, upper case with '-' as '_', e.g.\n"
            "REPRAM_MAXMEMORY=1gb), the YAML file given with --config (see conf/repram.yaml),\n"
            "and the built-in default.  Sizes take k, kb, m, mb, g or gb (k = 1000, kb = 1024);\n"
            "durations take s, m, h or d.\n\n"
            "  --config FILE    YAML configuration file\n"
            "  --help, -h       print this help and exit\n"
            "  --version, -v    print the version and exit\n\n");
    fprintf(out, "  %-*s  %-*s  %-*s  %s\n", wname + 2, "OPTION", wtype, "TYPE", wdef, "DEFAULT",
            "DESCRIPTION");
    for (const srv_option *o = srv_options; o->name != NULL; o++)
        fprintf(out, "  --%-*s  %-*s  %-*s  %s\n", wname, o->name, wtype, help_type(o), wdef,
                o->def[0] ? o->def : "\"\"", help_text(o, text, sizeof text));
}

/* ------------------------------------------------------------------------------------------ */
/* The YAML file. */

typedef struct yaml_load {
    yaml_parser_t parser;
    srv_config *c;
    FILE *f;
    const char *path;
    char *err;
    size_t errlen;
    unsigned long first_line[OPT_COUNT]; /* line an option was set on; 0 = not yet */
} yaml_load;

static int file_err(yaml_load *ld, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int file_err(yaml_load *ld, unsigned long line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    seterr(ld->err, ld->errlen, "%s:%lu: %s", ld->path, line, msg);
    return -1;
}

static unsigned long line_of(const yaml_event_t *ev)
{
    return (unsigned long)ev->start_mark.line + 1;
}

/* The line of byte `offset` of f (libyaml gives only an offset for encoding errors). */
static unsigned long line_at_offset(FILE *f, size_t offset)
{
    unsigned long line = 1;
    int ch;

    if (fseek(f, 0, SEEK_SET) != 0) return line;
    for (size_t i = 0; i < offset && (ch = getc(f)) != EOF; i++)
        if (ch == '\n') line++;
    return line;
}

/* libyaml's own description of a syntax error, with its line. */
static int syntax_err(yaml_load *ld)
{
    const yaml_parser_t *p = &ld->parser;
    const char *problem = p->problem ? p->problem : "unknown error";

    if (p->error == YAML_MEMORY_ERROR) {
        seterr(ld->err, ld->errlen, "%s: out of memory while reading YAML", ld->path);
        return -1;
    }
    if (p->error == YAML_READER_ERROR)
        return file_err(ld, line_at_offset(ld->f, p->problem_offset),
                        "YAML syntax error: %s (at byte offset %zu)", problem, p->problem_offset);
    if (p->context != NULL)
        return file_err(ld, (unsigned long)p->problem_mark.line + 1,
                        "YAML syntax error: %s (%s that starts on line %lu)", problem,
                        p->context, (unsigned long)p->context_mark.line + 1);
    return file_err(ld, (unsigned long)p->problem_mark.line + 1, "YAML syntax error: %s",
                    problem);
}

static int next_event(yaml_load *ld, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&ld->parser, ev)) return syntax_err(ld);
    return 0;
}

static const char *scalar_text(const yaml_event_t *ev)
{
    return (const char *)ev->data.scalar.value;
}

/* A plain empty, "~" or "null" scalar: YAML's null, which we read as the empty string. */
static int is_null_scalar(const yaml_event_t *ev)
{
    const char *v = scalar_text(ev);

    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0;
}

static int apply_scalar(yaml_load *ld, const srv_option *o, const yaml_event_t *ev)
{
    char msg[384];
    const char *v = is_null_scalar(ev) ? "" : scalar_text(ev);

    if (strlen(scalar_text(ev)) != ev->data.scalar.length)
        return file_err(ld, line_of(ev), "option '%s': value contains a NUL byte", o->name);
    if (config_set_option(ld->c, o, v, msg, sizeof msg) != 0)
        return file_err(ld, line_of(ev), "%s", msg);
    return 0;
}

/* Append one sequence item to the space-separated text of a list option. */
static int append_item(yaml_load *ld, const srv_option *o, const yaml_event_t *ev, char **text,
                       size_t *len)
{
    const char *v = scalar_text(ev);
    size_t n = ev->data.scalar.length;
    char *grown;

    if (ev->type != YAML_SCALAR_EVENT)
        return file_err(ld, line_of(ev), "option '%s': expected a sequence of single values",
                        o->name);
    if (n == 0 || strlen(v) != n || strcspn(v, " \t") != n)
        return file_err(ld, line_of(ev), "option '%s': invalid entry '%.64s' (entries are single "
                        "words)", o->name, v);
    if ((grown = realloc(*text, *len + n + 2)) == NULL)
        return file_err(ld, line_of(ev), "out of memory");
    *text = grown;
    if (*len > 0) (*text)[(*len)++] = ' ';
    memcpy(*text + *len, v, n + 1);
    *len += n;
    return 0;
}

/* The items of a sequence given to a list option, up to and including SEQUENCE_END. */
static int load_sequence(yaml_load *ld, const srv_option *o, unsigned long line)
{
    char *text = NULL, msg[384];
    size_t len = 0;
    int rc = 0;

    for (;;) {
        yaml_event_t ev;
        if (next_event(ld, &ev) != 0) {
            rc = -1;
            break;
        }
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        rc = append_item(ld, o, &ev, &text, &len);
        yaml_event_delete(&ev);
        if (rc != 0) break;
    }
    if (rc == 0 && config_set_option(ld->c, o, text ? text : "", msg, sizeof msg) != 0)
        rc = file_err(ld, line, "%s", msg);
    free(text);
    return rc;
}

/* The value that follows the key of option o (set on line `line`). */
static int load_value(yaml_load *ld, const srv_option *o, unsigned long line)
{
    yaml_event_t ev;
    int rc;

    if (next_event(ld, &ev) != 0) return -1;
    if (ev.type == YAML_SCALAR_EVENT)
        rc = apply_scalar(ld, o, &ev);
    else if (ev.type == YAML_SEQUENCE_START_EVENT && o->type == SRV_OPT_LIST)
        rc = load_sequence(ld, o, line);
    else if (ev.type == YAML_SEQUENCE_START_EVENT)
        rc = file_err(ld, line, "option '%s': expected a single value, not a sequence", o->name);
    else if (ev.type == YAML_MAPPING_START_EVENT)
        rc = file_err(ld, line, "option '%s': expected a %s, not a mapping", o->name,
                      o->type == SRV_OPT_LIST ? "value or a sequence of values" : "single value");
    else
        rc = file_err(ld, line, "option '%s': YAML aliases are not supported", o->name);
    yaml_event_delete(&ev);
    return rc;
}

/* One "name: value" entry, starting at the key event. */
static int load_entry(yaml_load *ld, const yaml_event_t *key)
{
    const char *name = scalar_text(key);
    unsigned long line = line_of(key);
    const srv_option *o = NULL;
    size_t idx;

    if (key->data.scalar.length <= NAME_MAX_LEN)
        o = find_option_len(name, key->data.scalar.length);
    if (o == NULL) return file_err(ld, line, "unknown option '%.64s'", name);
    idx = (size_t)(o - srv_options);
    if (ld->first_line[idx] != 0)
        return file_err(ld, line, "duplicate option '%s' (first set on line %lu)", o->name,
                        ld->first_line[idx]);
    ld->first_line[idx] = line;
    return load_value(ld, o, line);
}

/* The entries of the top-level mapping, up to and including MAPPING_END. */
static int load_mapping(yaml_load *ld)
{
    for (;;) {
        yaml_event_t ev;
        int rc;

        if (next_event(ld, &ev) != 0) return -1;
        if (ev.type == YAML_MAPPING_END_EVENT) rc = 1;
        else if (ev.type == YAML_SCALAR_EVENT) rc = load_entry(ld, &ev);
        else rc = file_err(ld, line_of(&ev), "expected an option name");
        yaml_event_delete(&ev);
        if (rc != 0) return rc > 0 ? 0 : -1;
    }
}

/* One document: a mapping, or nothing at all ("---" alone, or only comments). */
static int load_document(yaml_load *ld)
{
    yaml_event_t ev;
    int rc = 0;

    if (next_event(ld, &ev) != 0) return -1;
    if (ev.type == YAML_MAPPING_START_EVENT) rc = load_mapping(ld);
    else if (ev.type != YAML_SCALAR_EVENT || !is_null_scalar(&ev))
        rc = file_err(ld, line_of(&ev), "expected a mapping of option names to values");
    yaml_event_delete(&ev);
    if (rc != 0 || next_event(ld, &ev) != 0) return -1;
    yaml_event_delete(&ev); /* DOCUMENT_END: libyaml guarantees it comes next */
    return 0;
}

static int load_stream(yaml_load *ld)
{
    int docs = 0;

    for (;;) {
        yaml_event_t ev;
        yaml_event_type_t type;
        unsigned long line;

        if (next_event(ld, &ev) != 0) return -1;
        type = ev.type;
        line = line_of(&ev);
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT) return 0;
        if (type != YAML_DOCUMENT_START_EVENT) continue; /* STREAM_START */
        if (++docs > 1) return file_err(ld, line, "only one YAML document is allowed");
        if (load_document(ld) != 0) return -1;
    }
}

int config_load_file(srv_config *c, const char *path, char *err, size_t errlen)
{
    yaml_load *ld;
    struct stat st;
    FILE *f = fopen(path, "rb");
    int rc;

    if (f == NULL) {
        seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        seterr(err, errlen, "%s: cannot open: %s", path, strerror(EISDIR));
        fclose(f);
        return -1;
    }
    if ((ld = calloc(1, sizeof *ld)) == NULL || !yaml_parser_initialize(&ld->parser)) {
        seterr(err, errlen, "%s: out of memory", path);
        free(ld);
        fclose(f);
        return -1;
    }
    ld->c = c;
    ld->f = f;
    ld->path = path;
    ld->err = err;
    ld->errlen = errlen;
    yaml_parser_set_input_file(&ld->parser, f);
    rc = load_stream(ld);
    yaml_parser_delete(&ld->parser);
    free(ld);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* The command line and the environment. */

enum arg_kind { ARG_END, ARG_HELP, ARG_VERSION, ARG_CONFIG, ARG_OPTION, ARG_BAD };

typedef struct arg_iter {
    int argc;
    char **argv;
    int i;
} arg_iter;

typedef struct arg {
    enum arg_kind kind;
    const srv_option *opt; /* ARG_OPTION */
    const char *value;     /* ARG_CONFIG, ARG_OPTION */
} arg;

/*
 * The next item of the command line.  A flag takes its value after '=' or from the next
 * argument; a next argument that starts with "--" is not taken as a value, so "--port --bind x"
 * reports the missing port instead of refusing "--bind" as a port (use --name=--value for such a
 * value).  ARG_BAD fills err and moves on by one argument, so scanning can go on.
 */
static void next_arg(arg_iter *it, arg *a, char *err, size_t errlen)
{
    const char *s, *name, *eq;
    size_t namelen;

    memset(a, 0, sizeof *a);
    if (it->i >= it->argc) return;
    s = it->argv[it->i++];
    if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) a->kind = ARG_HELP;
    else if (strcmp(s, "--version") == 0 || strcmp(s, "-v") == 0) a->kind = ARG_VERSION;
    if (a->kind != ARG_END) return;
    a->kind = ARG_BAD;
    if (strncmp(s, "--", 2) != 0 || s[2] == '\0' || s[2] == '=') {
        seterr(err, errlen, "command line: unexpected argument '%.64s' (options are --NAME VALUE)",
               s);
        return;
    }
    name = s + 2;
    eq = strchr(name, '=');
    namelen = eq ? (size_t)(eq - name) : strlen(name);
    if (eq != NULL) a->value = eq + 1;
    else if (it->i < it->argc && strncmp(it->argv[it->i], "--", 2) != 0)
        a->value = it->argv[it->i++];
    if (srv_strcaseeq_len(name, namelen, "config")) a->kind = ARG_CONFIG;
    else if ((a->opt = find_option_len(name, namelen)) != NULL) a->kind = ARG_OPTION;
    else {
        seterr(err, errlen, "command line: unknown option '--%.*s'", (int)namelen, name);
        return;
    }
    if (a->value == NULL || (a->kind == ARG_CONFIG && a->value[0] == '\0')) {
        seterr(err, errlen, "command line option --%.*s: missing value", (int)namelen, name);
        a->kind = ARG_BAD;
    }
}

/*
 * First pass over argv: --help and --version win wherever they are (return 1 after printing),
 * --config is noted, and the first malformed argument is reported (-1) only when neither was
 * given.
 */
static int scan_args(int argc, char **argv, const char **file, FILE *out, char *err,
                     size_t errlen)
{
    arg_iter it = {argc, argv, 1};
    char msg[256], first_err[256] = "";
    arg a;

    for (next_arg(&it, &a, msg, sizeof msg); a.kind != ARG_END; next_arg(&it, &a, msg, sizeof msg)) {
        if (a.kind == ARG_HELP) {
            config_print_help(out);
            return 1;
        }
        if (a.kind == ARG_VERSION) {
            fprintf(out, "repram-server %s\n", REPRAM_VERSION);
            return 1;
        }
        if (a.kind == ARG_CONFIG && *file != NULL)
            seterr(msg, sizeof msg, "command line: --config given more than once");
        if (a.kind == ARG_CONFIG && *file == NULL) *file = a.value;
        else if ((a.kind == ARG_BAD || a.kind == ARG_CONFIG) && first_err[0] == '\0')
            memcpy(first_err, msg, sizeof msg);
    }
    if (first_err[0] == '\0') return 0;
    seterr(err, errlen, "%s", first_err);
    return -1;
}

/* Second pass: apply every --name value, in order (a later flag overrides an earlier one). */
static int apply_args(srv_config *c, int argc, char **argv, char *err, size_t errlen)
{
    arg_iter it = {argc, argv, 1};
    char msg[384];
    arg a;

    for (next_arg(&it, &a, msg, sizeof msg); a.kind != ARG_END; next_arg(&it, &a, msg, sizeof msg)) {
        if (a.kind == ARG_BAD) {
            seterr(err, errlen, "%s", msg);
            return -1;
        }
        if (a.kind != ARG_OPTION) continue;
        if (config_set_option(c, a.opt, a.value, msg, sizeof msg) != 0) {
            seterr(err, errlen, "command line option --%s: %s", a.opt->name, msg);
            return -1;
        }
    }
    return 0;
}

/* "REPRAM_" + the option name in upper case with '-' as '_'. */
static void env_name(const srv_option *o, char *buf, size_t buflen)
{
    size_t at = (size_t)snprintf(buf, buflen, "REPRAM_");

    for (const char *p = o->name; *p != '\0' && at + 1 < buflen; p++)
        buf[at++] = *p == '-' ? '_' : (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
    buf[at] = '\0';
}

/* The value of variable `name` in envp (the first one, as getenv would), or NULL. */
static const char *env_find(char **envp, const char *name)
{
    size_t len = strlen(name);

    for (char **e = envp; *e != NULL; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=') return *e + len + 1;
    return NULL;
}

static int apply_env(srv_config *c, char **envp, char *err, size_t errlen)
{
    char var[NAME_MAX_LEN + 16], msg[384];

    if (envp == NULL) return 0;
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        const char *v;
        env_name(o, var, sizeof var);
        if ((v = env_find(envp, var)) == NULL) continue;
        if (config_set_option(c, o, v, msg, sizeof msg) != 0) {
            seterr(err, errlen, "environment variable %s: %s", var, msg);
            return -1;
        }
    }
    return 0;
}

int config_load(srv_config *c, int argc, char **argv, char **envp, FILE *out, char *err,
                size_t errlen)
{
    const char *file = NULL;
    int rc = scan_args(argc, argv, &file, out, err, errlen);

    if (rc != 0) return rc;
    if (file != NULL && config_load_file(c, file, err, errlen) != 0) return -1;
    if (apply_env(c, envp, err, errlen) != 0) return -1;
    if (apply_args(c, argc, argv, err, errlen) != 0) return -1;
    return config_validate(c, err, errlen);
}
