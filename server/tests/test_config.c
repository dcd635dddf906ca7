/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_config.c: server/config.c: the option table, defaults, YAML files (good and bad, with
 * the exact error text and line), environment and flag priority, --help/--version, cross-option
 * validation, CONFIG GET formatting, and the shipped conf/repram.yaml.
 *
 * YAML cases are written to a private directory under /tmp made by the group setup; error
 * messages start with that path, so expectations are built as path + the rest.  The test runs
 * from the project root (the harness does cd there) so conf/repram.yaml is found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/config.h"
#include "server/log.h"

#define SHIPPED_CONF "conf/repram.yaml"

static char tmpdir[64];
static char path[128]; /* the file written by the last write_yaml() */
static char err[512];

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/repram-test-config-XXXXXX");
    return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "%s/t.yaml", tmpdir);
    unlink(path);
    return rmdir(tmpdir);
}

static const char *write_yaml(const char *text)
{
    FILE *f;

    snprintf(path, sizeof path, "%s/t.yaml", tmpdir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Load `text` as a file into a fresh default config; returns config_load_file's result. */
static int load_text(srv_config *c, const char *text)
{
    assert_int_equal(config_init(c), 0);
    err[0] = '\0';
    return config_load_file(c, write_yaml(text), err, sizeof err);
}

/* The file must fail with "PATH:" + rest. */
static void expect_file_error(const char *text, const char *rest)
{
    srv_config c;
    char want[640];

    assert_int_equal(load_text(&c, text), -1);
    snprintf(want, sizeof want, "%s:%s", path, rest);
    assert_string_equal(err, want);
    config_free(&c);
}

static const char *fmt(const srv_config *c, const char *name)
{
    static char buf[256];
    const srv_option *o = config_find_option(name);

    assert_non_null(o);
    config_format_option(c, o, buf, sizeof buf);
    return buf;
}

/* config_load with a NULL-terminated argument list (argv[0] included) and environment. */
static int load_args(srv_config *c, char **argv, char **envp, FILE *out)
{
    int argc = 0;

    while (argv[argc] != NULL) argc++;
    err[0] = '\0';
    return config_load(c, argc, argv, envp, out, err, sizeof err);
}

/* ---- the table and the defaults ---- */

static void test_table_is_sane(void **state)
{
    char buf[64];
    int count = 0;

    (void)state;
    for (const srv_option *o = srv_options; o->name != NULL; o++, count++) {
        assert_true(strspn(o->name, "abcdefghijklmnopqrstuvwxyz-") == strlen(o->name));
        assert_ptr_equal(config_find_option(o->name), o);
        snprintf(buf, sizeof buf, "%s", o->name);
        for (char *p = buf; *p; p++) *p = (char)(*p - ('a' <= *p && *p <= 'z' ? 32 : 0));
        assert_ptr_equal(config_find_option(buf), o); /* case-insensitive */
        assert_non_null(o->def);
        assert_non_null(o->unit);
        assert_true(o->help != NULL && o->help[0] != '\0');
        if (o->type == SRV_OPT_INT) assert_true(o->min >= INT_MIN && o->max <= INT_MAX);
        if (o->type == SRV_OPT_ENUM) assert_non_null(o->enum_names);
        if (o->type == SRV_OPT_INT || o->type == SRV_OPT_BYTES || o->type == SRV_OPT_SECONDS ||
            o->type == SRV_OPT_MILLIS)
            assert_true(o->min <= o->max);
    }
    assert_true(count >= 21); /* every option above was checked one by one */
    assert_null(config_find_option("maxmemroy"));
    assert_null(config_find_option(""));
    assert_null(config_find_option(NULL));
}

static void test_mutable_and_sensitive_flags(void **state)
{
    static const char *const mutable[] = {
        "timeout", "tcp-keepalive", "requirepass", "maxmemory", "maxmemory-policy",
        "proto-max-bulk-len", "client-query-buffer-limit", "max-key-size", "max-value-size",
        "default-ttl", "max-ttl", "ttl-clamp", "hz", "busy-poll-us", "loglevel", "maxclients",
        "write-timeout", "cluster-queue-limit", "protected-mode", "tls-handshake-timeout",
        "client-output-buffer-limit", "multi-max-commands", "scan-max-count", "keys-max-reply",
        "http-max-body", "http-max-header-size", "http-read-header-timeout", "http-idle-timeout",
        "http-max-connections", "http-rate-limit", "http-rate-burst", "http-write-token",
        "http-read-token",
        "resp-rate-limit", "resp-rate-burst",
        NULL,
    };
    static const char *const sensitive[] = {"requirepass", "cluster-secret", "cluster-secret-accept",
                                            "http-write-token",
                                            "http-read-token", NULL};

    (void)state;
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        int want = 0;
        for (int i = 0; mutable[i] != NULL; i++) want |= strcmp(mutable[i], o->name) == 0;
        assert_int_equal((o->flags & SRV_OPT_MUTABLE) != 0, want);
        int secret = 0;
        for (int i = 0; sensitive[i] != NULL; i++) secret |= strcmp(sensitive[i], o->name) == 0;
        assert_int_equal((o->flags & SRV_OPT_SENSITIVE) != 0, secret);
    }
}

static void test_defaults(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(c.port, 6379);
    assert_int_equal(c.bind_count, 1);
    assert_string_equal(c.bind[0], "127.0.0.1");
    assert_null(c.bind[1]);
    assert_int_equal(c.tcp_backlog, 511);
    assert_int_equal(c.maxclients, 10000);
    assert_true(c.timeout_s == 0 && c.tcp_keepalive_s == 300);
    assert_string_equal(c.requirepass, "");
    assert_true(c.maxmemory == 0);
    assert_int_equal(c.maxmemory_policy, SRV_MAXMEMORY_NOEVICTION);
    assert_true(c.proto_max_bulk_len == 512LL * 1024 * 1024);
    assert_true(c.client_query_buffer_limit == 1024LL * 1024 * 1024);
    assert_true(c.max_key_size == 512);
    assert_true(c.max_value_size == 10LL * 1024 * 1024);
    assert_true(c.default_ttl_s == 3600 && c.max_ttl_s == 604800);
    assert_int_equal(c.ttl_clamp, 0);
    assert_int_equal(c.hz, 10);
    assert_int_equal(c.busy_poll_us, 50);
    assert_int_equal(c.loglevel, SRV_LOG_NOTICE);
    assert_string_equal(c.logfile, "");
    assert_string_equal(c.node_name, "");
    assert_string_equal(c.pidfile, "");
    assert_int_equal(c.http_port, 8080);
    assert_true(c.http_max_body == 0 && c.http_max_header_size == 16384);
    assert_true(c.http_read_header_timeout_s == 10 && c.http_idle_timeout_s == 60);
    assert_int_equal(c.http_max_connections, 1024);
    assert_true(c.http_rate_limit == 100 && c.http_rate_burst == 200);
    assert_int_equal(c.http_trusted_proxy_count, 0);
    assert_string_equal(c.http_write_token, "");
    assert_string_equal(c.http_read_token, "");
    assert_true(c.resp_rate_limit == 0 && c.resp_rate_burst == 200);
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    config_free(&c);
    config_free(&c); /* fields are NULL now: a second free is harmless */
    config_free(NULL);
}

/* ---- good files ---- */

static void test_good_yaml(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(load_text(&c, "# a comment line\n"
                                   "port: 7000   # trailing comment\n"
                                   "bind:\n"
                                   "  - 10.0.0.1\n"
                                   "  - \"::1\"\n"
                                   "requirepass: \"s3cret # not a comment\"\n"
                                   "maxmemory: 1GB\n"
                                   "maxmemory-policy: VOLATILE-TTL\n"
                                   "max-value-size: '2mb'\n"
                                   "default-ttl: 2h\n"
                                   "max-ttl: 7d\n"
                                   "ttl-clamp: true\n"
                                   "timeout: 5m\n"
                                   "loglevel: warning\n"
                                   "logfile: /var/log/repram.log\n"
                                   "node-name: node-a\n"
                                   "pidfile:\n"
                                   "\n"
                                   "Hz: 50\n"),
                     0);
    assert_int_equal(c.port, 7000);
    assert_int_equal(c.bind_count, 2);
    assert_string_equal(c.bind[0], "10.0.0.1");
    assert_string_equal(c.bind[1], "::1");
    assert_string_equal(c.requirepass, "s3cret # not a comment");
    assert_true(c.maxmemory == 1073741824LL);
    assert_int_equal(c.maxmemory_policy, SRV_MAXMEMORY_VOLATILE_TTL);
    assert_true(c.max_value_size == 2097152);
    assert_true(c.default_ttl_s == 7200 && c.max_ttl_s == 604800 && c.timeout_s == 300);
    assert_int_equal(c.ttl_clamp, 1);
    assert_int_equal(c.loglevel, SRV_LOG_WARNING);
    assert_string_equal(c.logfile, "/var/log/repram.log");
    assert_string_equal(c.node_name, "node-a");
    assert_string_equal(c.pidfile, ""); /* YAML null reads as empty */
    assert_int_equal(c.hz, 50);
    assert_int_equal(c.tcp_backlog, 511); /* untouched options keep their default */
    config_free(&c);
}

static void test_good_yaml_lists(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(load_text(&c, "bind: [127.0.0.1, '::1']\n"), 0);
    assert_int_equal(c.bind_count, 2);
    assert_string_equal(fmt(&c, "bind"), "127.0.0.1 ::1");
    config_free(&c);

    assert_int_equal(load_text(&c, "bind: \"0.0.0.0   ::\"\n"), 0); /* space-separated string */
    assert_int_equal(c.bind_count, 2);
    assert_string_equal(c.bind[1], "::");
    config_free(&c);

    assert_int_equal(load_text(&c, "port: 0\nhttp-port: 0\nbind: []\n"), 0);
    assert_int_equal(c.bind_count, 0);
    assert_null(c.bind[0]);
    assert_int_equal(config_validate(&c, err, sizeof err), 0); /* no listener, no address */
    config_free(&c);
}

static void test_empty_files(void **state)
{
    static const char *const texts[] = {"", "# only a comment\n", "---\n", "---\n...\n", "~\n"};
    srv_config c;

    (void)state;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        assert_int_equal(load_text(&c, texts[i]), 0);
        assert_int_equal(c.port, 6379);
        config_free(&c);
    }
}

/* ---- bad files: exact messages with line numbers ---- */

static void test_bad_unknown_option(void **state)
{
    (void)state;
    expect_file_error("port: 6379\n\nmaxmemroy: 1gb\n", "3: unknown option 'maxmemroy'");
}

static void test_bad_values(void **state)
{
    (void)state;
    expect_file_error("port: 6379\nmaxmemory: abc\n",
                      "2: option 'maxmemory': invalid memory size 'abc' (expected bytes, or a "
                      "number with k, kb, m, mb, g or gb)");
    expect_file_error("maxmemory: -1\n", "1: option 'maxmemory': invalid memory size '-1' "
                                         "(expected bytes, or a number with k, kb, m, mb, g or gb)");
    expect_file_error("port: 70000\n", "1: option 'port': '70000' is out of range (0..65535)");
    expect_file_error("port: -1\n", "1: option 'port': '-1' is out of range (0..65535)");
    expect_file_error("port: 12ab\n", "1: option 'port': invalid integer '12ab'");
    expect_file_error("hz: 0\n", "1: option 'hz': '0' is out of range (1..500)");
    expect_file_error("busy-poll-us: 1001\n",
                      "1: option 'busy-poll-us': '1001' is out of range (0..1000)");
    expect_file_error("max-value-size: 1gb\n",
                      "1: option 'max-value-size': '1gb' is out of range (1..512mb)");
    expect_file_error("proto-max-bulk-len: 1000\n",
                      "1: option 'proto-max-bulk-len': '1000' is out of range (at least 1mb)");
    expect_file_error("maxmemory: 99999999999gb\n",
                      "1: option 'maxmemory': '99999999999gb' is out of range (0..9223372036854775807)");
    expect_file_error("default-ttl: 0\n",
                      "1: option 'default-ttl': '0' is out of range (1..3153600000 seconds)");
    expect_file_error("\n\ntimeout: 1w\n", "3: option 'timeout': invalid duration '1w' (expected "
                                           "seconds, or a number with s, m, h or d)");
    expect_file_error("ttl-clamp: maybe\n",
                      "1: option 'ttl-clamp': invalid boolean 'maybe' (expected yes or no)");
    expect_file_error("maxmemory-policy: allkeys-lru\n",
                      "1: option 'maxmemory-policy': invalid value 'allkeys-lru' (expected "
                      "noeviction or volatile-ttl)");
    expect_file_error("loglevel: loud\n", "1: option 'loglevel': invalid value 'loud' (expected "
                                          "debug, verbose, notice or warning)");
    /* A value on its own line is reported on that line. */
    expect_file_error("port: 1\nmaxmemory:\n  abc\n", "3: option 'maxmemory': invalid memory "
                      "size 'abc' (expected bytes, or a number with k, kb, m, mb, g or gb)");
    expect_file_error("port:\n", "1: option 'port': invalid integer ''");
}

static void test_bad_structure(void **state)
{
    (void)state;
    expect_file_error("hz: 10\nport:\n  tcp: 6379\n",
                      "2: option 'port': expected a single value, not a mapping");
    expect_file_error("port: {a: 1}\n", "1: option 'port': expected a single value, not a mapping");
    expect_file_error("hz: 10\nport:\n  - 6379\n",
                      "2: option 'port': expected a single value, not a sequence");
    expect_file_error("bind:\n  a: 1\n",
                      "1: option 'bind': expected a value or a sequence of values, not a mapping");
    expect_file_error("bind:\n  - a\n  - [b]\n",
                      "3: option 'bind': expected a sequence of single values");
    expect_file_error("bind:\n  - \"a b\"\n",
                      "2: option 'bind': invalid entry 'a b' (entries are single words)");
    expect_file_error("bind: [a, '']\n", "1: option 'bind': invalid entry '' (entries are single "
                                         "words)");
    expect_file_error("bind: a b c d e f g h i j k l m n o p q\n",
                      "1: option 'bind': too many entries (at most 16)");
    expect_file_error("port: 1\nhz: 2\nbind: x\nport: 2\n",
                      "4: duplicate option 'port' (first set on line 1)");
    expect_file_error("port: 1\nPORT: 2\n", "2: duplicate option 'port' (first set on line 1)");
    expect_file_error("- port\n- 6379\n", "1: expected a mapping of option names to values");
    expect_file_error("6379\n", "1: expected a mapping of option names to values");
    expect_file_error("? [port]\n: 1\n", "1: expected an option name");
    expect_file_error("port: 1\n---\nhz: 2\n", "2: only one YAML document is allowed");
    expect_file_error("port: &p 1\nhz: *p\n", "2: option 'hz': YAML aliases are not supported");
}

static void test_bad_yaml_syntax(void **state)
{
    (void)state;
    expect_file_error("port: 1: 2\n",
                      "1: YAML syntax error: mapping values are not allowed in this context");
    expect_file_error("port: 1\n- a\n", "2: YAML syntax error: did not find expected key (while "
                                        "parsing a block mapping that starts on line 1)");
    expect_file_error("hz: 1\nrequirepass: \"abc\n",
                      "3: YAML syntax error: found unexpected end of stream (while scanning a "
                      "quoted scalar that starts on line 2)");
    expect_file_error("port: 1\nhz: \xff\n", "2: YAML syntax error: invalid leading UTF-8 octet "
                                            "(at byte offset 12)");
}

static void test_bad_file(void **state)
{
    srv_config c;
    char want[256];

    (void)state;
    assert_int_equal(config_init(&c), 0);
    snprintf(want, sizeof want, "%s/missing.yaml", tmpdir);
    assert_int_equal(config_load_file(&c, want, err, sizeof err), -1);
    strncat(want, ": cannot open: No such file or directory", sizeof want - strlen(want) - 1);
    assert_string_equal(err, want);
    assert_int_equal(config_load_file(&c, tmpdir, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open: Is a directory", tmpdir);
    assert_string_equal(err, want);
    config_free(&c);
}

/* ---- config_set_option ---- */

static void test_set_option_is_atomic(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_set_option(&c, config_find_option("port"), "x", err, sizeof err), -1);
    assert_string_equal(err, "option 'port': invalid integer 'x'");
    assert_int_equal(c.port, 6379);
    assert_int_equal(config_set_option(&c, config_find_option("bind"),
                                       "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", err,
                                       sizeof err),
                     -1);
    assert_int_equal(c.bind_count, 1);
    assert_string_equal(c.bind[0], "127.0.0.1");
    assert_int_equal(config_set_option(&c, config_find_option("maxmemory-policy"), "lru", err,
                                       sizeof err),
                     -1);
    assert_int_equal(c.maxmemory_policy, SRV_MAXMEMORY_NOEVICTION);
    /* A long bad value is cut in the message, and err may be tiny or absent. */
    assert_int_equal(config_set_option(&c, config_find_option("hz"),
                                       "x123456789012345678901234567890123456789012345678901234"
                                       "5678901234567890",
                                       err, sizeof err),
                     -1);
    assert_string_equal(err, "option 'hz': invalid integer 'x123456789012345678901234567890123"
                             "456789012345678901234567890123'"); /* 64 bytes of it */
    assert_int_equal(config_set_option(&c, config_find_option("hz"), "x", err, 5), -1);
    assert_string_equal(err, "opti");
    assert_int_equal(config_set_option(&c, config_find_option("hz"), "x", NULL, 0), -1);
    config_free(&c);
}

/* ---- config_load: sources and priority ---- */

static void test_env_overrides_file_and_flags_override_env(void **state)
{
    srv_config c;
    char *argv[] = {"repram-server", "--config", path, "--port", "3000", NULL};
    char *envp[] = {"HOME=/root",         "REPRAM_PORT=2000",     "REPRAM_HZ=30",
                    "REPRAM_KEY=abc",     "REPRAM_HOST=x:1",      "REPRAM_PASSPHRASE=",
                    "REPRAM_port=1",      "REPRAM_PORTX=9",       "REPRAM_TTL_CLAMP=yes",
                    "REPRAM_HZ=40",       NULL};

    (void)state;
    write_yaml("port: 1000\nmaxmemory: 1mb\nhz: 20\nttl-clamp: no\n");
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(load_args(&c, argv, envp, stdout), 0);
    assert_int_equal(c.port, 3000);      /* flag > env > file */
    assert_int_equal(c.hz, 30);          /* env > file; the first of two variables wins */
    assert_int_equal(c.ttl_clamp, 1);    /* REPRAM_TTL_CLAMP: '-' is '_' */
    assert_true(c.maxmemory == 1048576); /* file > default */
    config_free(&c);
}

static void test_env_errors(void **state)
{
    srv_config c;
    char *argv[] = {"repram-server", NULL};
    char *bad_port[] = {"REPRAM_PORT=70000", NULL};
    char *bad_size[] = {"REPRAM_MAX_VALUE_SIZE=", NULL};

    (void)state;
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(load_args(&c, argv, bad_port, stdout), -1);
    assert_string_equal(err, "environment variable REPRAM_PORT: option 'port': '70000' is out of "
                             "range (0..65535)");
    assert_int_equal(load_args(&c, argv, bad_size, stdout), -1);
    assert_string_equal(err, "environment variable REPRAM_MAX_VALUE_SIZE: option "
                             "'max-value-size': invalid memory size '' (expected bytes, or a "
                             "number with k, kb, m, mb, g or gb)");
    assert_int_equal(load_args(&c, argv, NULL, stdout), 0); /* no environment at all */
    config_free(&c);
}

static void test_flags(void **state)
{
    srv_config c;
    char *argv[] = {"repram-server", "--port=7001",        "--bind", "10.0.0.1 10.0.0.2",
                    "--requirepass=",  "--MAXMEMORY", "2mb", "--hz=5",  "--hz", "6",
                    "--logfile",      "",              NULL};
    char *envp[] = {"REPRAM_REQUIREPASS=fromenv", NULL};

    (void)state;
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(load_args(&c, argv, envp, stdout), 0);
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.bind_count, 2);
    assert_string_equal(c.requirepass, ""); /* an explicit empty value beats the environment */
    assert_true(c.maxmemory == 2097152);
    assert_int_equal(c.hz, 6); /* the last flag wins */
    config_free(&c);
}

static void expect_args_error(char **argv, const char *want)
{
    srv_config c;

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(load_args(&c, argv, NULL, stdout), -1);
    assert_string_equal(err, want);
    config_free(&c);
}

static void test_flag_errors(void **state)
{
    char *unknown[] = {"repram-server", "--maxmemroy", "1gb", NULL};
    char *unknown_eq[] = {"repram-server", "--nope=1", NULL};
    char *missing[] = {"repram-server", "--port", NULL};
    char *missing_next[] = {"repram-server", "--port", "--hz", "5", NULL};
    char *stray[] = {"repram-server", "conf/repram.yaml", NULL};
    char *dash[] = {"repram-server", "-p", "1", NULL};
    char *bare[] = {"repram-server", "--", NULL};
    char *value[] = {"repram-server", "--port", "70000", NULL};
    char *value_eq[] = {"repram-server", "--timeout=soon", NULL};
    char *config_twice[] = {"repram-server", "--config", "a", "--config=b", NULL};
    char *config_empty[] = {"repram-server", "--config=", NULL};
    char *config_missing[] = {"repram-server", "--config", NULL};
    char *validate[] = {"repram-server", "--default-ttl", "8d", NULL};

    (void)state;
    expect_args_error(unknown, "command line: unknown option '--maxmemroy'");
    expect_args_error(unknown_eq, "command line: unknown option '--nope'");
    expect_args_error(missing, "command line option --port: missing value");
    expect_args_error(missing_next, "command line option --port: missing value");
    expect_args_error(stray, "command line: unexpected argument 'conf/repram.yaml' (options are "
                             "--NAME VALUE)");
    expect_args_error(dash, "command line: unexpected argument '-p' (options are --NAME VALUE)");
    expect_args_error(bare, "command line: unexpected argument '--' (options are --NAME VALUE)");
    expect_args_error(value, "command line option --port: option 'port': '70000' is out of range "
                             "(0..65535)");
    expect_args_error(value_eq, "command line option --timeout: option 'timeout': invalid "
                                "duration 'soon' (expected seconds, or a number with s, m, h or d)");
    expect_args_error(config_twice, "command line: --config given more than once");
    expect_args_error(config_empty, "command line option --config: missing value");
    expect_args_error(config_missing, "command line option --config: missing value");
    expect_args_error(validate, "option 'default-ttl' (691200 seconds) must not exceed option "
                                "'max-ttl' (604800 seconds)");
}

static void test_config_file_errors_through_load(void **state)
{
    srv_config c;
    char *argv[] = {"repram-server", "--config", path, NULL};
    char want[640];

    (void)state;
    write_yaml("port: 6379\nmaxmemory: abc\n");
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(load_args(&c, argv, NULL, stdout), -1);
    snprintf(want, sizeof want, "%s:2: option 'maxmemory': invalid memory size 'abc' (expected "
             "bytes, or a number with k, kb, m, mb, g or gb)", path);
    assert_string_equal(err, want);
    config_free(&c);
}

/* Run config_load and capture what it writes to `out`. */
static int load_capture(char **argv, char **text, size_t *len)
{
    srv_config c;
    FILE *out = open_memstream(text, len);
    int rc;

    assert_non_null(out);
    assert_int_equal(config_init(&c), 0);
    rc = load_args(&c, argv, NULL, out);
    assert_int_equal(fclose(out), 0);
    config_free(&c);
    return rc;
}

static void test_version(void **state)
{
    char *long_form[] = {"repram-server", "--version", NULL};
    char *short_form[] = {"repram-server", "--port", "1", "-v", NULL};
    char *text = NULL;
    size_t len;

    (void)state;
    assert_int_equal(load_capture(long_form, &text, &len), 1);
    assert_string_equal(text, "repram-server 0.1.0\n");
    free(text);
    assert_int_equal(load_capture(short_form, &text, &len), 1);
    assert_string_equal(text, "repram-server " REPRAM_VERSION "\n");
    free(text);
}

static void test_help(void **state)
{
    char *argv[] = {"repram-server", "--help", NULL};
    char *wins[] = {"repram-server", "--bogus", "--port", "--help", NULL};
    char *text = NULL, needle[64];
    size_t len;
    long column = -1;

    (void)state;
    assert_int_equal(load_capture(argv, &text, &len), 1);
    assert_non_null(strstr(text, "Usage: repram-server [--config FILE] [--OPTION VALUE ...]\n"));
    assert_non_null(strstr(text, "REPRAM_"));
    assert_true(strstr(text, "command line") < strstr(text, "environment"));
    assert_true(strstr(text, "environment") < strstr(text, "YAML file"));
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        const char *line, *help;
        snprintf(needle, sizeof needle, "\n  --%s ", o->name);
        line = strstr(text, needle);
        assert_non_null(line);
        help = strstr(line, o->help); /* every description starts in the same column */
        assert_non_null(help);
        if (column < 0) column = help - line;
        assert_int_equal(help - line, column);
        assert_non_null(strstr(line, o->def[0] ? o->def : "\"\""));
    }
    assert_non_null(strstr(text, "noeviction|volatile-ttl"));
    free(text);

    text = NULL;
    assert_int_equal(load_capture(wins, &text, &len), 1); /* help wins over bad arguments */
    free(text);
}

/* ---- validation ---- */

static void test_validate(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(config_init(&c), 0);
    c.default_ttl_s = 7200;
    c.max_ttl_s = 3600;
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'default-ttl' (7200 seconds) must not exceed option "
                             "'max-ttl' (3600 seconds)");
    c.max_ttl_s = 7200; /* equal is fine */
    assert_int_equal(config_validate(&c, err, sizeof err), 0);

    c.max_value_size = 512LL * 1024 * 1024;
    c.proto_max_bulk_len = 256LL * 1024 * 1024;
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'max-value-size' (512mb) must not exceed option "
                             "'proto-max-bulk-len' (256mb)");
    c.proto_max_bulk_len = c.max_value_size;
    assert_int_equal(config_validate(&c, err, sizeof err), 0);

    assert_int_equal(config_set_option(&c, config_find_option("bind"), "", err, sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'bind': at least one address is needed when 'port' is not 0");
    c.port = 0;
    c.http_port = 0; /* the HTTP listener needs an address too */
    assert_int_equal(config_validate(&c, err, sizeof err), 0);

    assert_int_equal(config_set_option(&c, config_find_option("node-name"), "my node", err,
                                       sizeof err),
                     0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'node-name': at most 255 bytes, without spaces or control "
                             "characters");
    config_free(&c);
}

/* ---- CONFIG GET formatting ---- */

static void test_format_option(void **state)
{
    static const struct {
        const char *name, *in, *out;
    } cases[] = {
        {"port", "7000", "7000"},
        {"maxmemory", "1gb", "1073741824"},
        {"maxmemory", "1k", "1000"},
        {"timeout", "5m", "300"},
        {"max-ttl", "7d", "604800"},
        {"ttl-clamp", "true", "yes"},
        {"ttl-clamp", "OFF", "no"},
        {"maxmemory-policy", "VOLATILE-TTL", "volatile-ttl"},
        {"loglevel", "Debug", "debug"},
        {"bind", "  a   b\tc ", "a b c"},
        {"bind", "", ""},
        {"requirepass", "p w", "p w"},
    };
    srv_config c;
    char buf[8];

    (void)state;
    assert_int_equal(config_init(&c), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(config_set_option(&c, config_find_option(cases[i].name), cases[i].in,
                                           err, sizeof err),
                         0);
        assert_string_equal(fmt(&c, cases[i].name), cases[i].out);
    }
    assert_int_equal(config_format_option(&c, config_find_option("maxmemory"), buf, 5), 4);
    assert_string_equal(buf, "1000");
    assert_int_equal(config_format_option(&c, config_find_option("maxmemory"), buf, 4), 3);
    assert_string_equal(buf, "100");
    assert_int_equal(config_set_option(&c, config_find_option("bind"), "a b c", err, sizeof err),
                     0);
    assert_int_equal(config_format_option(&c, config_find_option("bind"), buf, sizeof buf), 5);
    assert_int_equal(config_format_option(&c, config_find_option("bind"), buf, 4), 3);
    assert_string_equal(buf, "a b");
    assert_int_equal(config_format_option(&c, config_find_option("port"), buf, 0), 0);
    config_free(&c);
}

/* Copy every option of src into a fresh config through its text form; both must agree. */
static void round_trip(const srv_config *src)
{
    srv_config dst;
    char text[256];

    assert_int_equal(config_init(&dst), 0);
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        config_format_option(src, o, text, sizeof text);
        assert_int_equal(config_set_option(&dst, o, text, err, sizeof err), 0);
        assert_string_equal(fmt(&dst, o->name), text);
    }
    config_free(&dst);
}

static void test_format_round_trip(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(config_init(&c), 0);
    round_trip(&c);
    config_free(&c);
    assert_int_equal(load_text(&c, "port: 1\nbind: [a, b]\nmaxmemory: 3gb\nmax-ttl: 2d\n"
                                   "ttl-clamp: yes\nloglevel: verbose\nrequirepass: x y\n"
                                   "maxmemory-policy: volatile-ttl\nnode-name: n1\n"),
                     0);
    round_trip(&c);
    config_free(&c);
}

/* ---- security and limit options (issue 8) ---- */

static void test_security_defaults(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(config_init(&c), 0);
    assert_int_equal(c.protected_mode, 1);
    assert_int_equal(c.lock_memory, 0);
    assert_int_equal(c.tls_port, 0);
    assert_int_equal(c.tls_auth_clients, SRV_TLS_AUTH_YES);
    assert_string_equal(c.tls_protocols, "TLSv1.2 TLSv1.3");
    assert_true(c.tls_handshake_timeout_s == 10);
    assert_true(c.obuf_limit.hard_bytes == 256LL * 1024 * 1024);
    assert_true(c.obuf_limit.soft_bytes == 64LL * 1024 * 1024);
    assert_true(c.obuf_limit.soft_s == 60);
    assert_int_equal(c.multi_max_commands, 10000);
    assert_int_equal(c.scan_max_count, 10000);
    assert_int_equal(c.keys_max_reply, 100000);
    assert_string_equal(fmt(&c, "client-output-buffer-limit"), "normal 268435456 67108864 60");
    config_free(&c);
}

static void test_obuf_limit_syntax(void **state)
{
    static const struct {
        const char *in, *out;
    } good[] = {
        {"normal 1mb 512kb 10", "normal 1048576 524288 10"},
        {"4096 0 0", "normal 4096 0 0"},
        {"  NORMAL 0 0 0  ", "normal 0 0 0"},
        /* Redis's full default line: the other classes are accepted and ignored. */
        {"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", "normal 0 0 0"},
        {"pubsub 1 2 3 normal 7 8 1m", "normal 7 8 60"},
    };
    static const struct {
        const char *in, *err;
    } bad[] = {
        {"", "expected '[normal] <hard> <soft> <soft-seconds>' (e.g. 'normal 256mb 64mb 60')"},
        {"normal 1 2", "expected '[normal] <hard> <soft> <soft-seconds>' (e.g. 'normal 256mb "
                       "64mb 60')"},
        {"normal 1 2 3 4", "expected '[normal] <hard> <soft> <soft-seconds>' (e.g. 'normal "
                           "256mb 64mb 60')"},
        {"master 1 2 3", "unknown client class 'master' (expected normal, replica or pubsub)"},
        {"normal 1x 2 3", "invalid memory size in '1x 2' (expected bytes, or a number with k, "
                          "kb, m, mb, g or gb)"},
        {"normal 1 2 soon", "invalid soft-seconds 'soon'"},
    };
    const srv_option *o = config_find_option("client-output-buffer-limit");
    srv_config c;
    char want[512];

    (void)state;
    assert_non_null(o);
    assert_int_equal(config_init(&c), 0);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (config_set_option(&c, o, good[i].in, err, sizeof err) != 0)
            fail_msg("'%s': %s", good[i].in, err);
        assert_string_equal(fmt(&c, o->name), good[i].out);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(config_set_option(&c, o, bad[i].in, err, sizeof err), -1);
        snprintf(want, sizeof want, "option 'client-output-buffer-limit': %s", bad[i].err);
        assert_string_equal(err, want);
        assert_string_equal(fmt(&c, o->name), "normal 7 8 60"); /* unchanged */
    }
    config_free(&c);
}

static void test_tls_validate(void **state)
{
    srv_config c;
    unsigned mask;
    char bad[16];

    (void)state;
    assert_int_equal(config_parse_tls_protocols("tlsv1.3", &mask, bad, sizeof bad), 0);
    assert_int_equal(mask, SRV_TLS_PROTO_13);
    assert_int_equal(config_parse_tls_protocols(" TLSv1.2\tTLSv1.3 ", &mask, bad, sizeof bad), 0);
    assert_int_equal(mask, SRV_TLS_PROTO_12 | SRV_TLS_PROTO_13);
    assert_int_equal(config_parse_tls_protocols("TLSv1.1 TLSv1.2", &mask, bad, sizeof bad), -1);
    assert_string_equal(bad, "TLSv1.1");
    assert_int_equal(config_parse_tls_protocols("  ", &mask, bad, sizeof bad), -1);
    assert_string_equal(bad, "");

    assert_int_equal(config_init(&c), 0);
    assert_int_equal(config_set_option(&c, config_find_option("tls-protocols"), "TLSv1", err,
                                       sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'tls-protocols': unknown or unsupported protocol 'TLSv1' "
                             "(expected TLSv1.2 and/or TLSv1.3)");
    assert_int_equal(config_set_option(&c, config_find_option("tls-protocols"), "TLSv1.3", err,
                                       sizeof err), 0);
    c.tls_port = 6380;
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'tls-port' is set, so options 'tls-cert-file' and "
                             "'tls-key-file' are needed");
    assert_int_equal(config_set_option(&c, config_find_option("tls-cert-file"), "c.pem", err,
                                       sizeof err), 0);
    assert_int_equal(config_set_option(&c, config_find_option("tls-key-file"), "k.pem", err,
                                       sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'tls-auth-clients' is 'yes', so option 'tls-ca-cert-file' "
                             "(or 'tls-ca-cert-dir') is needed to check client certificates; "
                             "or set tls-auth-clients no");
    assert_int_equal(config_set_option(&c, config_find_option("tls-auth-clients"), "optional",
                                       err, sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_int_equal(config_set_option(&c, config_find_option("tls-ca-cert-dir"), "/etc/ssl",
                                       err, sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    c.port = 6380;
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'tls-port' (6380) must differ from option 'port'");
    c.port = 0; /* TLS only */
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    assert_int_equal(config_set_option(&c, config_find_option("bind"), "", err, sizeof err), 0);
    assert_int_equal(config_validate(&c, err, sizeof err), -1);
    assert_string_equal(err, "option 'bind': at least one address is needed when 'tls-port' is "
                             "not 0");
    config_free(&c);
}

/* ---- the HTTP front door's options (issue 3) ---- */

static void set_opt(srv_config *c, const char *name, const char *value)
{
    err[0] = '\0';
    if (config_set_option(c, config_find_option(name), value, err, sizeof err) != 0)
        fail_msg("%s %s: %s", name, value, err);
}

static void expect_invalid(srv_config *c, const char *want)
{
    assert_int_equal(config_validate(c, err, sizeof err), -1);
    assert_string_equal(err, want);
}

static void test_http_options(void **state)
{
    srv_config c;

    (void)state;
    assert_int_equal(config_init(&c), 0);
    /* http-max-body: 0 follows max-value-size, anything else must cover it */
    set_opt(&c, "http-max-body", "1mb");
    expect_invalid(&c, "option 'http-max-body' (1mb) must be 0 or at least option "
                       "'max-value-size' (10mb)");
    set_opt(&c, "http-max-body", "10mb");
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    set_opt(&c, "max-value-size", "20mb"); /* CONFIG SET of the other side is checked too */
    expect_invalid(&c, "option 'http-max-body' (10mb) must be 0 or at least option "
                       "'max-value-size' (20mb)");
    set_opt(&c, "http-max-body", "0");
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    /* ports */
    set_opt(&c, "http-port", "6379");
    expect_invalid(&c, "option 'http-port' (6379) must differ from options 'port' and 'tls-port'");
    set_opt(&c, "http-port", "8081");
    set_opt(&c, "bind", "");
    set_opt(&c, "port", "0");
    expect_invalid(&c, "option 'bind': at least one address is needed when 'http-port' is not 0");
    set_opt(&c, "http-port", "0");
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    set_opt(&c, "bind", "127.0.0.1");
    /* trusted proxies: addresses and networks, IPv4 and IPv6 */
    set_opt(&c, "http-trusted-proxies", "10.0.0.0/8 192.168.1.7 ::1 fd00::/8");
    assert_int_equal(c.http_trusted_proxy_count, 4);
    assert_int_equal(config_validate(&c, err, sizeof err), 0);
    set_opt(&c, "http-trusted-proxies", "10.0.0.0/33");
    expect_invalid(&c, "option 'http-trusted-proxies': '10.0.0.0/33' is not an IP address or "
                       "network (ADDR or ADDR/BITS)");
    set_opt(&c, "http-trusted-proxies", "10.0.0.1 proxy.example");
    expect_invalid(&c, "option 'http-trusted-proxies': 'proxy.example' is not an IP address or "
                       "network (ADDR or ADDR/BITS)");
    /* ranges */
    assert_int_equal(config_set_option(&c, config_find_option("http-rate-burst"), "0", err,
                                       sizeof err), -1);
    assert_int_equal(config_set_option(&c, config_find_option("http-read-header-timeout"), "0",
                                       err, sizeof err), -1);
    set_opt(&c, "http-rate-limit", "0"); /* off */
    set_opt(&c, "http-read-header-timeout", "2m");
    assert_true(c.http_read_header_timeout_s == 120);
    config_free(&c);
    /* a YAML sequence of proxies */
    assert_int_equal(load_text(&c, "http-trusted-proxies:\n  - 10.1.0.0/16\n  - 2001:db8::1\n"
                                   "http-write-token: s3cret\n"), 0);
    assert_int_equal(c.http_trusted_proxy_count, 2);
    assert_string_equal(c.http_trusted_proxies[1], "2001:db8::1");
    assert_string_equal(c.http_write_token, "s3cret");
    config_free(&c);
}

/* ---- the shipped conf/repram.yaml ---- */

static void test_shipped_conf_mentions_every_option(void **state)
{
    FILE *f = fopen(SHIPPED_CONF, "r");
    char line[512];
    int seen[256] = {0};

    (void)state;
    assert_non_null(f);
    while (fgets(line, sizeof line, f) != NULL) {
        int i = 0;
        for (const srv_option *o = srv_options; o->name != NULL; o++, i++) {
            size_t n = strlen(o->name);
            if (strncmp(line, o->name, n) == 0 && line[n] == ':') seen[i]++;
        }
    }
    fclose(f);
    for (int i = 0; srv_options[i].name != NULL; i++) {
        if (seen[i] != 1) fail_msg("%s has %d '%s:' lines", SHIPPED_CONF, seen[i],
                                   srv_options[i].name);
    }
}

static void test_shipped_conf_equals_defaults(void **state)
{
    srv_config def, file;
    char want[256];
    char *argv[] = {"repram-server", "--config", SHIPPED_CONF, NULL};

    (void)state;
    assert_int_equal(config_init(&def), 0);
    assert_int_equal(config_init(&file), 0);
    err[0] = '\0';
    if (config_load_file(&file, SHIPPED_CONF, err, sizeof err) != 0) fail_msg("%s", err);
    for (const srv_option *o = srv_options; o->name != NULL; o++) {
        config_format_option(&def, o, want, sizeof want);
        assert_string_equal(fmt(&file, o->name), want);
    }
    config_free(&file);
    assert_int_equal(config_init(&file), 0);
    assert_int_equal(load_args(&file, argv, NULL, stdout), 0);
    config_free(&file);
    config_free(&def);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_is_sane),
        cmocka_unit_test(test_mutable_and_sensitive_flags),
        cmocka_unit_test(test_http_options),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_good_yaml),
        cmocka_unit_test(test_good_yaml_lists),
        cmocka_unit_test(test_empty_files),
        cmocka_unit_test(test_bad_unknown_option),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_bad_structure),
        cmocka_unit_test(test_bad_yaml_syntax),
        cmocka_unit_test(test_bad_file),
        cmocka_unit_test(test_set_option_is_atomic),
        cmocka_unit_test(test_env_overrides_file_and_flags_override_env),
        cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_config_file_errors_through_load),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_format_option),
        cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_shipped_conf_mentions_every_option),
        cmocka_unit_test(test_shipped_conf_equals_defaults),
        cmocka_unit_test(test_security_defaults),
        cmocka_unit_test(test_obuf_limit_syntax),
        cmocka_unit_test(test_tls_validate),
    };
    return cmocka_run_group_tests_name("server/config", tests, group_setup, group_teardown);
}
