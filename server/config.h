/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config.h: every server option in one table.  Sources, lowest priority first: built-in defaults,
 * the YAML file (--config FILE), REPRAM_* environment variables, --name value flags.  The same
 * table drives CONFIG GET/SET, --help and the documentation test that compares it with
 * conf/repram.yaml.
 *
 * Errors name where the bad value came from: "FILE:LINE: option 'NAME': ...", "environment
 * variable REPRAM_NAME: ...", "command line option --NAME: ...".
 */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include <stddef.h>
#include <stdio.h>

/* The server's version, printed by --version ("repram-server 0.1.0") and INFO. */
#define REPRAM_VERSION "0.1.0"

enum srv_maxmemory_policy { SRV_MAXMEMORY_NOEVICTION = 0, SRV_MAXMEMORY_VOLATILE_TTL = 1 };
enum srv_debug_command { SRV_DEBUG_NO = 0, SRV_DEBUG_YES = 1, SRV_DEBUG_LOCAL = 2 };

/* tls-auth-clients, Redis's three values: no certificate asked for; required; checked only
 * when the client offers one. */
enum srv_tls_auth { SRV_TLS_AUTH_NO = 0, SRV_TLS_AUTH_YES = 1, SRV_TLS_AUTH_OPTIONAL = 2 };

/* client-output-buffer-limit for normal clients (Redis's syntax "normal <hard> <soft>
 * <soft-seconds>"): a client whose pending output exceeds hard_bytes, or stays above soft_bytes
 * for soft_s seconds, is disconnected.  0 disables a limit. */
typedef struct srv_obuf_limit {
    long long hard_bytes;
    long long soft_bytes;
    long long soft_s;
} srv_obuf_limit;

typedef struct srv_config {
    /* network */
    int port;                /* RESP port; 0 = do not listen for RESP over TCP */
    char **bind;             /* addresses to listen on (NULL-terminated array) */
    int bind_count;          /* must follow bind: a list field is followed by its count */
    int tcp_backlog;
    int maxclients;
    long long timeout_s;     /* close clients idle this long; 0 = never */
    long long tcp_keepalive_s;
    /* security */
    char *requirepass;       /* "" = no password */
    int protected_mode;      /* refuse non-loopback clients while there is no password */
    int lock_memory;         /* mlockall() at start-up so values never reach swap */
    /* TLS (tls.c) */
    int tls_port;            /* RESP over TLS; 0 = off */
    char *tls_cert_file;
    char *tls_key_file;
    char *tls_ca_cert_file;
    char *tls_ca_cert_dir;
    int tls_auth_clients;    /* enum srv_tls_auth */
    char *tls_protocols;     /* "TLSv1.2 TLSv1.3" */
    char *tls_ciphers;       /* TLS 1.2 cipher list; "" = OpenSSL's default */
    char *tls_ciphersuites;  /* TLS 1.3 suites; "" = OpenSSL's default */
    long long tls_handshake_timeout_s;
    /* memory and limits */
    long long maxmemory;     /* bytes; 0 = no limit */
    int maxmemory_policy;    /* enum srv_maxmemory_policy */
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    long long max_key_size;
    long long max_value_size;
    srv_obuf_limit obuf_limit; /* client-output-buffer-limit, normal class */
    int multi_max_commands;  /* commands a MULTI may queue; 0 = no limit */
    int scan_max_count;      /* SCAN's COUNT is lowered to this; 0 = no limit */
    int keys_max_reply;      /* KEYS refuses to return more keys; 0 = no limit */
    /* time to live */
    long long default_ttl_s;
    long long max_ttl_s;
    int ttl_clamp;           /* 1: a TTL above max-ttl is lowered to it instead of refused */
    /* internals and operations */
    int hz;                  /* background timer frequency */
    int busy_poll_us;        /* poll this long after the last event while busy; 0 = never */
    int loglevel;            /* SRV_LOG_* */
    char *logfile;           /* "" = stderr */
    char *node_name;         /* "" = the host name, which the server resolves itself */
    char *pidfile;           /* "" = none */
    /* cluster */
    int cluster_size;        /* voting members, this node included; 1 = single node */
    int cluster_port;        /* bus port; 0 = RESP port + 10000 */
    char **seeds;            /* bus addresses "host:port" of other members */
    int seed_count;          /* must follow seeds */
    char **cluster_members;  /* node names of the voters; empty = first come, first admitted */
    int cluster_member_count;/* must follow cluster_members */
    char *cluster_name;
    char *cluster_secret;    /* shared secret: the bus runs TLS 1.3 with a key derived from it */
    char *cluster_secret_accept; /* a second secret peers may use (rotation); "" = none */
    char *cluster_tls_cert_file, *cluster_tls_key_file, *cluster_tls_ca_cert_file;
    int cluster_insecure;    /* 1: allow a plain-TCP bus (tests only) */
    long long node_timeout_ms;
    long long write_timeout_ms;
    long long max_clock_offset_ms;
    long long cluster_queue_limit; /* bytes queued to one peer before its link is reset */
    long long tombstone_grace_s;   /* how long a delete shadows older copies; isolation limit */
    long long ae_interval_ms;      /* anti-entropy round with one peer this often; 0 = off */
    long long repair_bandwidth;    /* bytes per second for repair and bootstrap streams */
    int enable_debug_command;      /* enum srv_debug_command */
    /* HTTP front door and rate limits (http.c, ratelimit.c) */
    int http_port;           /* REPRAM's v1 HTTP API; 0 = off */
    int http_tls;            /* 1: http-port speaks HTTPS with the tls-* certificate (tls.c) */
    long long http_max_body; /* bytes; 0 = max-value-size */
    long long http_max_header_size;
    long long http_read_header_timeout_s;
    long long http_idle_timeout_s;
    int http_max_connections;
    int http_rate_limit;     /* requests per second per client address; 0 = off */
    int http_rate_burst;
    char **http_trusted_proxies; /* addresses or networks whose X-Forwarded-For is believed */
    int http_trusted_proxy_count; /* must follow http_trusted_proxies */
    char *http_write_token;  /* "" = PUT and DELETE need no token */
    char *http_read_token;   /* "" = GET/HEAD of data and /v1/keys need no token */
    int resp_rate_limit;     /* commands per second per client address; 0 = off */
    int resp_rate_burst;
} srv_config;

/* What an option is. */
enum srv_opt_type {
    SRV_OPT_INT,      /* integer in [min, max] */
    SRV_OPT_BYTES,    /* memory size: 123, 1k (1000), 1kb (1024), 5mb, 1gb ... */
    SRV_OPT_SECONDS,  /* duration: 30, 30s, 5m, 2h, 7d; stored in seconds */
    SRV_OPT_MILLIS,   /* duration: 500, 500ms, 2s, 1m; stored in milliseconds */
    SRV_OPT_BOOL,     /* yes/no (also true/false) */
    SRV_OPT_ENUM,     /* one word of a fixed list */
    SRV_OPT_STRING,
    SRV_OPT_LIST,     /* YAML sequence or space-separated words */
    SRV_OPT_OBUF      /* client-output-buffer-limit: [normal] <hard> <soft> <soft-seconds> */
};

#define SRV_OPT_MUTABLE 0x1   /* CONFIG SET may change it at run time */
#define SRV_OPT_SENSITIVE 0x2 /* never printed in logs */

typedef struct srv_option {
    const char *name;        /* "maxmemory" */
    enum srv_opt_type type;
    size_t offset;           /* of the field in srv_config */
    const char *def;         /* default, in the same syntax as the file */
    long long min, max;      /* numeric range (ints, bytes, seconds) */
    const char *const *enum_names; /* SRV_OPT_ENUM: NULL-terminated, index = stored value */
    int flags;
    const char *unit;        /* for --help: "bytes", "seconds", "" */
    const char *help;        /* one line */
} srv_option;

/* The option table (terminated by an entry whose name is NULL). */
extern const srv_option srv_options[];

/* Find an option by name (case-insensitive); NULL when unknown. */
const srv_option *config_find_option(const char *name);

/* Fill c with the built-in defaults.  Returns 0 (or -1 when out of memory).  After it, string
 * fields are never NULL ("" = unset) and bind is a NULL-terminated array (possibly empty). */
int config_init(srv_config *c);

/* Release the strings and lists held by c (NULL is fine).  c may be config_init'ed again. */
void config_free(srv_config *c);

/*
 * Apply the command line, the environment and the file named by --config to c (which
 * config_init has filled), in priority order (file, then environment, then flags), then run
 * config_validate.  argv[0] is skipped.  Flags are "--name value" or "--name=value"; unknown
 * flags, stray words and a flag without a value are errors.  Unknown REPRAM_* variables are
 * ignored (the SDK uses REPRAM_KEY, REPRAM_HOST, ...); a bad value of a known one is an error.
 * Returns:
 *   0   ready to run;
 *   1   --help or --version was given and its text has been written to `out`: exit 0;
 *  -1   an error, described in err ("FILE:LINE: option 'NAME': ..."): exit non-zero.
 * envp is the environment (NULL-terminated "NAME=value" strings).
 */
int config_load(srv_config *c, int argc, char **argv, char **envp, FILE *out, char *err,
                size_t errlen);

/* Load one YAML file into c (used by config_load; exposed for tests).  The file is a flat
 * mapping of option name -> scalar (-> sequence of scalars for list options); anything else,
 * an unknown name, a duplicate name or a bad value is an error "PATH:LINE: ...".  An empty file
 * is fine.  On error c may hold some of the file's values; the caller exits anyway. */
int config_load_file(srv_config *c, const char *path, char *err, size_t errlen);

/* Set one option from text, checking type and range, whatever its SRV_OPT_MUTABLE flag (CONFIG
 * SET checks that).  0, or -1 with err filled as "option 'NAME': reason" (the caller prefixes
 * the source) and c unchanged.  Replacing a string or list frees the old one, so pointers
 * borrowed from c die here.  Cross-option rules are config_validate's job. */
int config_set_option(srv_config *c, const srv_option *o, const char *value, char *err,
                      size_t errlen);

/* Cross-option checks after everything is loaded: default-ttl <= max-ttl, max-value-size <=
 * proto-max-bulk-len, at least one bind address unless port and tls-port are 0, node-name
 * without spaces or control characters (at most 255 bytes), tls-protocols names known versions,
 * and with tls-port set: a certificate and a key, a CA unless tls-auth-clients is no, tls-port
 * differs from port; with http-port set: a bind address, a port other than port and tls-port;
 * http-max-body 0 or at least max-value-size; http-trusted-proxies entries are addresses or
 * networks.  0 or -1 with err filled ("option 'NAME' ...").  Files are not opened here
 * (tls.c does that at start-up).
 * CONFIG SET: keep the old value's config_format_option text, set, validate, and on failure
 * set the old text back. */
int config_validate(const srv_config *c, char *err, size_t errlen);

/* tls-protocols: the versions named in `text` (words TLSv1.2 and TLSv1.3, any case) as a mask
 * of SRV_TLS_PROTO_*.  0, or -1 when a word is unknown (copied into bad, truncated) or none is
 * named (bad is ""). */
#define SRV_TLS_PROTO_12 0x1u
#define SRV_TLS_PROTO_13 0x2u
int config_parse_tls_protocols(const char *text, unsigned *mask, char *bad, size_t badlen);

/* The current value of an option as text, as CONFIG GET shows it (bytes and seconds as plain
 * integers, booleans as yes/no, lists space-separated).  Returns the length written (always
 * NUL-terminated, truncated to buflen-1). */
size_t config_format_option(const srv_config *c, const srv_option *o, char *buf, size_t buflen);

/* Write --help (usage, then every option with unit, default and help text) to out. */
void config_print_help(FILE *out);

#endif /* SERVER_CONFIG_H */
