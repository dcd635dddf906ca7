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
    /* memory and limits */
    long long maxmemory;     /* bytes; 0 = no limit */
    int maxmemory_policy;    /* enum srv_maxmemory_policy */
    long long proto_max_bulk_len;
    long long client_query_buffer_limit;
    long long max_key_size;
    long long max_value_size;
    /* time to live */
    long long default_ttl_s;
    long long max_ttl_s;
    int ttl_clamp;           /* 1: a TTL above max-ttl is lowered to it instead of refused */
    /* internals and operations */
    int hz;                  /* background timer frequency */
    int loglevel;            /* SRV_LOG_* */
    char *logfile;           /* "" = stderr */
    char *node_name;         /* "" = the host name, which the server resolves itself */
    char *pidfile;           /* "" = none */
} srv_config;

/* What an option is. */
enum srv_opt_type {
    SRV_OPT_INT,      /* integer in [min, max] */
    SRV_OPT_BYTES,    /* memory size: 123, 1k (1000), 1kb (1024), 5mb, 1gb ... */
    SRV_OPT_SECONDS,  /* duration: 30, 30s, 5m, 2h, 7d; stored in seconds */
    SRV_OPT_BOOL,     /* yes/no (also true/false) */
    SRV_OPT_ENUM,     /* one word of a fixed list */
    SRV_OPT_STRING,
    SRV_OPT_LIST      /* YAML sequence or space-separated words */
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
 * proto-max-bulk-len, at least one bind address unless port is 0, node-name without spaces or
 * control characters (at most 255 bytes).  0 or -1 with err filled ("option 'NAME' ...").
 * CONFIG SET: keep the old value's config_format_option text, set, validate, and on failure
 * set the old text back. */
int config_validate(const srv_config *c, char *err, size_t errlen);

/* The current value of an option as text, as CONFIG GET shows it (bytes and seconds as plain
 * integers, booleans as yes/no, lists space-separated).  Returns the length written (always
 * NUL-terminated, truncated to buflen-1). */
size_t config_format_option(const srv_config *c, const srv_option *o, char *buf, size_t buflen);

/* Write --help (usage, then every option with unit, default and help text) to out. */
void config_print_help(FILE *out);

#endif /* SERVER_CONFIG_H */
