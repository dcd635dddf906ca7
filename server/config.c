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
#include "server/ratelimit.h"
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
static const char *const debug_names[] = {"no", "yes", "local", NULL};
static const char *const tls_auth_names[] = {"no", "yes", "optional", NULL};

_Static_assert(SRV_MAXMEMORY_NOEVICTION == 0 && SRV_MAXMEMORY_VOLATILE_TTL == 1,
               "policy_names is indexed by enum srv_maxmemory_policy");
_Static_assert(SRV_LOG_DEBUG == 0 && SRV_LOG_VERBOSE == 1 && SRV_LOG_NOTICE == 2 &&
                   SRV_LOG_WARNING == 3,
               "loglevel_names is indexed by SRV_LOG_*");
_Static_assert(SRV_TLS_AUTH_NO == 0 && SRV_TLS_AUTH_YES == 1 && SRV_TLS_AUTH_OPTIONAL == 2,
               "tls_auth_names is indexed by enum srv_tls_auth");
_Static_assert(offsetof(srv_config, bind_count) == offsetof(srv_config, bind) + sizeof(char **),
               "a list field is followed by its int count");
_Static_assert(offsetof(srv_config, seed_count) == offsetof(srv_config, seeds) + sizeof(char **),
               "a list field is followed by its int count");
_Static_assert(offsetof(srv_config, cluster_member_count) ==
                   offsetof(srv_config, cluster_members) + sizeof(char **),
               "a list field is followed by its int count");
_Static_assert(offsetof(srv_config, http_trusted_proxy_count) ==
                   offsetof(srv_config, http_trusted_proxies) + sizeof(char **),
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
    {"protected-mode", SRV_OPT_BOOL, OFF(protected_mode), "yes", 0, 0, NULL, MUT, "",
     "yes: without requirepass, refuse clients that are not on loopback"},
    {"lock-memory", SRV_OPT_BOOL, OFF(lock_memory), "no", 0, 0, NULL, 0, "",
     "yes: mlockall() at start-up so values never reach swap (needs RLIMIT_MEMLOCK)"},
    /* TLS */
    {"tls-port", SRV_OPT_INT, OFF(tls_port), "0", 0, 65535, NULL, 0, "",
     "TCP port for RESP over TLS; 0 = no TLS listener"},
    {"tls-cert-file", SRV_OPT_STRING, OFF(tls_cert_file), "", 0, 0, NULL, 0, "path",
     "server certificate (PEM, may hold the chain)"},
    {"tls-key-file", SRV_OPT_STRING, OFF(tls_key_file), "", 0, 0, NULL, 0, "path",
     "private key of tls-cert-file (PEM, unencrypted)"},
    {"tls-ca-cert-file", SRV_OPT_STRING, OFF(tls_ca_cert_file), "", 0, 0, NULL, 0, "path",
     "CA certificates (PEM) that client certificates must chain to"},
    {"tls-ca-cert-dir", SRV_OPT_STRING, OFF(tls_ca_cert_dir), "", 0, 0, NULL, 0, "path",
     "directory of hashed CA certificates (c_rehash), as an alternative"},
    {"tls-auth-clients", SRV_OPT_ENUM, OFF(tls_auth_clients), "yes", 0, 0, tls_auth_names, 0, "",
     "client certificates: not asked for, required, or checked when offered"},
    {"tls-protocols", SRV_OPT_STRING, OFF(tls_protocols), "TLSv1.2 TLSv1.3", 0, 0, NULL, 0,
     "words", "TLS versions accepted: TLSv1.2 and/or TLSv1.3"},
    {"tls-ciphers", SRV_OPT_STRING, OFF(tls_ciphers), "", 0, 0, NULL, 0, "list",
     "TLS 1.2 cipher list (OpenSSL syntax); empty = OpenSSL's default"},
    {"tls-ciphersuites", SRV_OPT_STRING, OFF(tls_ciphersuites), "", 0, 0, NULL, 0, "list",
     "TLS 1.3 cipher suites (OpenSSL syntax); empty = OpenSSL's default"},
    {"tls-handshake-timeout", SRV_OPT_SECONDS, OFF(tls_handshake_timeout_s), "10", 1, 3600, NULL,
     MUT, "seconds", "close a TLS client that has not finished its handshake by then"},
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
    {"client-output-buffer-limit", SRV_OPT_OBUF, OFF(obuf_limit), "normal 256mb 64mb 60", 0, 0,
     NULL, MUT, "limits", "disconnect a client whose pending replies pass <hard>, or stay above "
     "<soft> for <soft-seconds>"},
    {"multi-max-commands", SRV_OPT_INT, OFF(multi_max_commands), "10000", 0, INT_MAX, NULL, MUT,
     "commands", "commands one MULTI may queue; 0 = no limit"},
    {"scan-max-count", SRV_OPT_INT, OFF(scan_max_count), "10000", 0, INT_MAX, NULL, MUT, "keys",
     "SCAN's COUNT is lowered to this; 0 = no limit"},
    {"keys-max-reply", SRV_OPT_INT, OFF(keys_max_reply), "100000", 0, INT_MAX, NULL, MUT, "keys",
     "KEYS refuses a pattern matching more keys (use SCAN); 0 = no limit"},
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
    {"busy-poll-us", SRV_OPT_INT, OFF(busy_poll_us), "50", 0, 1000, NULL, MUT, "microseconds",
     "while the node is at least half busy, look for new requests this long before sleeping; "
     "0 = always sleep"},
    {"loglevel", SRV_OPT_ENUM, OFF(loglevel), "notice", 0, 0, loglevel_names, MUT, "",
     "least severe level that is logged"},
    {"logfile", SRV_OPT_STRING, OFF(logfile), "", 0, 0, NULL, 0, "path",
     "file the log is appended to; empty = stderr"},
    {"node-name", SRV_OPT_STRING, OFF(node_name), "", 0, 0, NULL, 0, "name",
     "name of this node in the cluster; empty = the host name"},
    {"pidfile", SRV_OPT_STRING, OFF(pidfile), "", 0, 0, NULL, 0, "path",
     "file to write the process id to; empty = none"},
    /* cluster */
    {"cluster-size", SRV_OPT_INT, OFF(cluster_size), "1", 1, 64, NULL, 0, "nodes",
     "voting members, this node included; 1 = a single node, no cluster"},
    {"cluster-port", SRV_OPT_INT, OFF(cluster_port), "0", 0, 65535, NULL, 0, "",
     "cluster bus port; 0 = port + 10000"},
    {"seeds", SRV_OPT_LIST, OFF(seeds), "", 0, 0, NULL, 0, "host:port list",
     "bus addresses of other members (names are resolved again on every retry)"},
    {"cluster-members", SRV_OPT_LIST, OFF(cluster_members), "", 0, 0, NULL, 0, "names",
     "node names of the voters (this node's included); only these are admitted"},
    {"cluster-name", SRV_OPT_STRING, OFF(cluster_name), "repram", 0, 0, NULL, 0, "name",
     "all members must use the same; nodes of another cluster are refused"},
    {"cluster-secret", SRV_OPT_STRING, OFF(cluster_secret), "", 0, 0, NULL, SRV_OPT_SENSITIVE,
     "secret", "shared secret authenticating and encrypting the bus (TLS 1.3 PSK); >= 16 chars"},
    {"cluster-secret-accept", SRV_OPT_STRING, OFF(cluster_secret_accept), "", 0, 0, NULL,
     SRV_OPT_SENSITIVE, "secret",
     "a second secret peers may dial with while the cluster secret is rotated; this node dials "
     "with cluster-secret; empty = none"},
    {"cluster-tls-cert-file", SRV_OPT_STRING, OFF(cluster_tls_cert_file), "", 0, 0, NULL, 0,
     "path", "this node's certificate for mutual TLS on the bus (with key and CA files)"},
    {"cluster-tls-key-file", SRV_OPT_STRING, OFF(cluster_tls_key_file), "", 0, 0, NULL, 0,
     "path", "private key of cluster-tls-cert-file"},
    {"cluster-tls-ca-cert-file", SRV_OPT_STRING, OFF(cluster_tls_ca_cert_file), "", 0, 0, NULL,
     0, "path", "CA that signs every member's bus certificate"},
    {"cluster-insecure", SRV_OPT_BOOL, OFF(cluster_insecure), "no", 0, 0, NULL, 0, "",
     "yes: allow an unauthenticated, unencrypted bus (tests only)"},
    {"node-timeout", SRV_OPT_MILLIS, OFF(node_timeout_ms), "5000", 100, 600000, NULL, 0, "ms",
     "a peer silent this long is suspected; failed once a majority agrees"},
    {"write-timeout", SRV_OPT_MILLIS, OFF(write_timeout_ms), "1000", 10, 600000, NULL, MUT, "ms",
     "how long a write waits for a majority before an error (outcome unknown)"},
    {"max-clock-offset", SRV_OPT_MILLIS, OFF(max_clock_offset_ms), "500", 1, 600000, NULL, 0,
     "ms", "frames from a peer whose clock is further ahead are refused"},
    {"cluster-queue-limit", SRV_OPT_BYTES, OFF(cluster_queue_limit), "64mb", 1 * MB, LLONG_MAX,
     NULL, MUT, "bytes", "bytes queued to one peer before its link is reset"},
    {"tombstone-grace", SRV_OPT_SECONDS, OFF(tombstone_grace_s), "300", 1, 86400, NULL, 0,
     "seconds", "how long a delete shadows older copies; a node cut off longer wipes itself"},
    {"ae-interval", SRV_OPT_MILLIS, OFF(ae_interval_ms), "5000", 0, 3600000, NULL, 0, "ms",
     "anti-entropy round with one peer this often; 0 = off"},
    {"repair-bandwidth", SRV_OPT_BYTES, OFF(repair_bandwidth), "32mb", 64 * 1024, LLONG_MAX, NULL,
     0, "bytes/s", "bandwidth cap of anti-entropy and bootstrap streams"},
    {"enable-debug-command", SRV_OPT_ENUM, OFF(enable_debug_command), "no", 0, 0, debug_names, 0,
     "", "DEBUG (test hooks: clock offset, bus delay, key versions): no, yes or local"},
    /* HTTP and rate limits */
    {"http-port", SRV_OPT_INT, OFF(http_port), "8080", 0, 65535, NULL, 0, "",
     "TCP port for the HTTP API (REPRAM's v1 API, /metrics); 0 = no HTTP listener"},
    {"http-tls", SRV_OPT_BOOL, OFF(http_tls), "no", 0, 0, NULL, 0, "",
     "yes: http-port speaks HTTPS, with the tls-* certificate, key and client policy"},
    {"http-max-body", SRV_OPT_BYTES, OFF(http_max_body), "0", 0, 1 * GB, NULL, MUT, "bytes",
     "largest HTTP request body; 0 = max-value-size, else at least max-value-size"},
    {"http-max-header-size", SRV_OPT_BYTES, OFF(http_max_header_size), "16kb", 1 * KB, 1 * MB,
     NULL, MUT, "bytes", "largest HTTP request line plus headers"},
    {"http-read-header-timeout", SRV_OPT_SECONDS, OFF(http_read_header_timeout_s), "10", 1, 3600,
     NULL, MUT, "seconds", "time a client has to send a request's line and headers"},
    {"http-idle-timeout", SRV_OPT_SECONDS, OFF(http_idle_timeout_s), "60", 1, 86400, NULL, MUT,
     "seconds", "close an HTTP connection silent this long (between or within requests)"},
    {"http-max-connections", SRV_OPT_INT, OFF(http_max_connections), "1024", 1, 1000000, NULL,
     MUT, "connections", "HTTP connections open at once; more are answered 503"},
    {"http-rate-limit", SRV_OPT_INT, OFF(http_rate_limit), "100", 0, 100000000, NULL, MUT,
     "requests/s", "HTTP requests per second per client address; 0 = no limit"},
    {"http-rate-burst", SRV_OPT_INT, OFF(http_rate_burst), "200", 1, 100000000, NULL, MUT,
     "requests", "HTTP requests a client address may send at once above http-rate-limit"},
    {"http-trusted-proxies", SRV_OPT_LIST, OFF(http_trusted_proxies), "", 0, 0, NULL, 0,
     "addresses", "proxies (IP or CIDR) whose X-Forwarded-For names the client"},
    {"http-write-token", SRV_OPT_STRING, OFF(http_write_token), "", 0, 0, NULL,
     MUT | SRV_OPT_SENSITIVE, "token", "bearer token HTTP PUT and DELETE need; empty = none"},
    {"http-read-token", SRV_OPT_STRING, OFF(http_read_token), "", 0, 0, NULL,
     MUT | SRV_OPT_SENSITIVE, "token",
     "bearer token HTTP reads of data and key lists need (the write token also works); empty = none"},
    {"resp-rate-limit", SRV_OPT_INT, OFF(resp_rate_limit), "0", 0, 100000000, NULL, MUT,
     "commands/s", "RESP commands per second per client address; 0 = no limit"},
    {"resp-rate-burst", SRV_OPT_INT, OFF(resp_rate_burst), "200", 1, 100000000, NULL, MUT,
     "commands", "RESP commands a client address may send at once above resp-rate-limit"},
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
    else snprintf(buf, buflen, "%s..%s%s", lo, hi,
                  o->type == SRV_OPT_SECONDS ? " seconds" : o->type == SRV_OPT_MILLIS ? " ms" : "");
}

static int parse_number(const srv_option *o, const char *v, long long *out, char *err,
                        size_t errlen)
{
    size_t len = strlen(v);
    char range[96];
    int rc;

    if (o->type == SRV_OPT_BYTES) rc = srv_parse_bytes(v, len, out);
    else if (o->type == SRV_OPT_SECONDS) rc = srv_parse_seconds(v, len, out);
    else if (o->type == SRV_OPT_MILLIS) rc = srv_parse_millis(v, len, out);
    else rc = srv_parse_ll(v, len, out);

    if (rc == SRV_PARSE_INVALID && o->type == SRV_OPT_BYTES)
        return opt_err(err, errlen, o, "invalid memory size '%.64s' (expected bytes, or a number "
                       "with k, kb, m, mb, g or gb)", v);
    if (rc == SRV_PARSE_INVALID && o->type == SRV_OPT_SECONDS)
        return opt_err(err, errlen, o, "invalid duration '%.64s' (expected seconds, or a number "
                       "with s, m, h or d)", v);
    if (rc == SRV_PARSE_INVALID && o->type == SRV_OPT_MILLIS)
        return opt_err(err, errlen, o, "invalid duration '%.64s' (expected milliseconds, or a "
                       "number with ms, s, m or h)", v);
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

/*
 * client-output-buffer-limit: Redis's "<class> <hard> <soft> <soft-seconds>" groups, of which
 * only the normal class applies here (repram has neither replicas nor pub/sub clients: replica,
 * slave and pubsub groups are checked and ignored, so Redis configurations and tools still
 * work), or the three numbers alone for the normal class.  Sizes take the memory units.
 */
static int set_obuf(srv_config *c, const srv_option *o, const char *v, char *err, size_t errlen)
{
    static const char *const usage = "expected '[normal] <hard> <soft> <soft-seconds>' (e.g. "
                                     "'normal 256mb 64mb 60')";
    char words[12][64];
    int n = 0;
    srv_obuf_limit lim = *(srv_obuf_limit *)field(c, o);

    for (const char *p = v;;) {
        size_t len;
        p += strspn(p, " \t");
        if (*p == '\0') break;
        len = strcspn(p, " \t");
        if (n == 12 || len >= sizeof words[0]) return opt_err(err, errlen, o, "%s", usage);
        memcpy(words[n], p, len);
        words[n++][len] = '\0';
        p += len;
    }
    int bare = n == 3 && words[0][0] >= '0' && words[0][0] <= '9';
    if (n == 0 || (!bare && n % 4 != 0)) return opt_err(err, errlen, o, "%s", usage);
    for (int i = 0; i < n; i += bare ? 3 : 4) {
        const char *cls = bare ? "normal" : words[i];
        const char *num[3] = {words[i + !bare], words[i + !bare + 1], words[i + !bare + 2]};
        long long hard, soft, secs;
        int normal = strcasecmp(cls, "normal") == 0;
        if (!normal && strcasecmp(cls, "replica") != 0 && strcasecmp(cls, "slave") != 0 &&
            strcasecmp(cls, "pubsub") != 0)
            return opt_err(err, errlen, o, "unknown client class '%.64s' (expected normal, replica "
                           "or pubsub)", cls);
        if (srv_parse_bytes(num[0], strlen(num[0]), &hard) != SRV_PARSE_OK ||
            srv_parse_bytes(num[1], strlen(num[1]), &soft) != SRV_PARSE_OK)
            return opt_err(err, errlen, o, "invalid memory size in '%.64s %.64s' (expected bytes, "
                           "or a number with k, kb, m, mb, g or gb)", num[0], num[1]);
        if (srv_parse_seconds(num[2], strlen(num[2]), &secs) != SRV_PARSE_OK || secs > INT_MAX)
            return opt_err(err, errlen, o, "invalid soft-seconds '%.64s'", num[2]);
        if (hard < 0 || soft < 0) return opt_err(err, errlen, o, "%s", usage);
        if (normal) {
            lim.hard_bytes = hard;
            lim.soft_bytes = soft;
            lim.soft_s = secs;
        }
    }
    *(srv_obuf_limit *)field(c, o) = lim;
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
    case SRV_OPT_MILLIS:
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
    case SRV_OPT_OBUF:
        return set_obuf(c, o, value, err, errlen);
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

/* A seed is "host:port" or "[v6]:port" with a port in 1..65535. */
static int valid_seed(const char *seed)
{
    const char *colon = strrchr(seed, ':');
    long long port;
    if (!colon || colon == seed) return 0;
    if (srv_parse_ll(colon + 1, strlen(colon + 1), &port) != SRV_PARSE_OK) return 0;
    return port >= 1 && port <= 65535;
}

static int validate_cluster(const srv_config *c, char *err, size_t errlen)
{
    for (int i = 0; i < c->seed_count; i++) {
        if (!valid_seed(c->seeds[i])) {
            seterr(err, errlen, "option 'seeds': '%.64s' is not host:port", c->seeds[i]);
            return -1;
        }
    }
    if (c->cluster_size > 1 && c->cluster_port == 0 && c->port + 10000 > 65535) {
        seterr(err, errlen, "option 'cluster-port': port + 10000 is above 65535; set "
               "cluster-port explicitly");
        return -1;
    }
    return 0;
}

int config_parse_tls_protocols(const char *text, unsigned *mask, char *bad, size_t badlen)
{
    *mask = 0;
    if (bad && badlen) bad[0] = '\0';
    for (const char *p = text;;) {
        p += strspn(p, " \t");
        if (*p == '\0') break;
        size_t len = strcspn(p, " \t");
        if (len == 7 && strncasecmp(p, "TLSv1.2", 7) == 0) *mask |= SRV_TLS_PROTO_12;
        else if (len == 7 && strncasecmp(p, "TLSv1.3", 7) == 0) *mask |= SRV_TLS_PROTO_13;
        else {
            if (bad && badlen) snprintf(bad, badlen, "%.*s", (int)(len < 64 ? len : 64), p);
            return -1;
        }
        p += len;
    }
    return *mask ? 0 : -1;
}

/* The TLS options belong together: a port needs a certificate and a key, client certificates
 * need a CA to check them against. */
static int validate_tls(const srv_config *c, char *err, size_t errlen)
{
    char bad[72];
    unsigned mask;

    if (config_parse_tls_protocols(c->tls_protocols, &mask, bad, sizeof bad) != 0) {
        if (bad[0])
            seterr(err, errlen, "option 'tls-protocols': unknown or unsupported protocol '%s' "
                   "(expected TLSv1.2 and/or TLSv1.3)", bad);
        else
            seterr(err, errlen, "option 'tls-protocols': name at least one of TLSv1.2 and "
                   "TLSv1.3");
        return -1;
    }
    if (c->tls_port == 0 && !c->http_tls) return 0;
    if (c->tls_port != 0 && c->tls_port == c->port) {
        seterr(err, errlen, "option 'tls-port' (%d) must differ from option 'port'", c->tls_port);
        return -1;
    }
    if (c->tls_cert_file[0] == '\0' || c->tls_key_file[0] == '\0') {
        seterr(err, errlen, "option '%s' is set, so options 'tls-cert-file' and 'tls-key-file' "
               "are needed", c->tls_port != 0 ? "tls-port" : "http-tls");
        return -1;
    }
    if (c->tls_auth_clients != SRV_TLS_AUTH_NO && c->tls_ca_cert_file[0] == '\0' &&
        c->tls_ca_cert_dir[0] == '\0') {
        seterr(err, errlen, "option 'tls-auth-clients' is '%s', so option 'tls-ca-cert-file' "
               "(or 'tls-ca-cert-dir') is needed to check client certificates; or set "
               "tls-auth-clients no", tls_auth_names[c->tls_auth_clients]);
        return -1;
    }
    return 0;
}

/* The HTTP front door's cross-option rules. */
static int validate_http(const srv_config *c, char *err, size_t errlen)
{
    char a[32], b[32];

    if (c->http_port != 0 && c->bind_count == 0) {
        seterr(err, errlen, "option 'bind': at least one address is needed when 'http-port' is "
               "not 0");
        return -1;
    }
    if (c->http_port != 0 && (c->http_port == c->port || c->http_port == c->tls_port)) {
        seterr(err, errlen, "option 'http-port' (%d) must differ from options 'port' and "
               "'tls-port'", c->http_port);
        return -1;
    }
    if (c->http_max_body != 0 && c->http_max_body < c->max_value_size) {
        srv_format_bytes(c->http_max_body, a, sizeof a);
        srv_format_bytes(c->max_value_size, b, sizeof b);
        seterr(err, errlen, "option 'http-max-body' (%s) must be 0 or at least option "
               "'max-value-size' (%s)", a, b);
        return -1;
    }
    for (int i = 0; i < c->http_trusted_proxy_count; i++) {
        srv_cidr net;
        const char *s = c->http_trusted_proxies[i];
        if (srv_cidr_parse(s, strlen(s), &net) != 0) {
            seterr(err, errlen, "option 'http-trusted-proxies': '%.64s' is not an IP address or "
                   "network (ADDR or ADDR/BITS)", s);
            return -1;
        }
    }
    return 0;
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
    if (c->tls_port != 0 && c->bind_count == 0) {
        seterr(err, errlen, "option 'bind': at least one address is needed when 'tls-port' is "
               "not 0");
        return -1;
    }
    if (validate_tls(c, err, errlen) != 0) return -1;
    if (validate_http(c, err, errlen) != 0) return -1;
    if (!valid_node_name(c->node_name)) {
        seterr(err, errlen, "option 'node-name': at most %d bytes, without spaces or control "
               "characters", NODE_NAME_MAX);
        return -1;
    }
    return validate_cluster(c, err, errlen);
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
    case SRV_OPT_MILLIS:
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
    case SRV_OPT_OBUF: {
        const srv_obuf_limit *l = cfield(c, o);
        char text[96];
        snprintf(text, sizeof text, "normal %lld %lld %lld", l->hard_bytes, l->soft_bytes,
                 l->soft_s);
        return append(buf, buflen, 0, text);
    }
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
