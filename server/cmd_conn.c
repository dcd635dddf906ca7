/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cmd_conn.c: the connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT and the CLIENT
 * container (ID, SETNAME, GETNAME, SETINFO, LIST, INFO, KILL, REPLY, NO-EVICT, NO-TOUCH, HELP).
 *
 * These are what client libraries send while connecting (redis-compat.md section 3: HELLO 3,
 * AUTH, CLIENT SETINFO/SETNAME, SELECT 0), so their replies and error texts follow Redis 7.0.15
 * byte for byte; CLIENT SETINFO and NO-TOUCH come from 7.2, which 7.0 lacks but every modern
 * client sends.
 *
 * Authentication: there is one user, "default", whose password is requirepass (empty = no
 * password, and then every connection starts authenticated).  Passwords are compared as SHA-256
 * digests with CRYPTO_memcmp, so the time taken does not depend on how much of a guess matches,
 * nor on the password's length.  A failed AUTH never de-authenticates a connection (as in Redis);
 * RESET does, when a password is configured.  The parser's stricter pre-AUTH limits follow the
 * flag through srv_client_update_limits.
 *
 * HELLO switches c->resp, which every later reply helper honours; RESET switches back to RESP2.
 *
 * Event-loop thread only.  Start reading at hello_cmd.
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/info.h"
#include "server/log.h"
#include "server/multi.h"
#include "server/server.h"
#include "server/util.h"

/* What HELLO reports: the Redis version clients expect to talk to (they gate features on it). */
#define COMPAT_REDIS_VERSION "7.0.15"

static int arg_is(const resp_arg *a, const char *word)
{
    return srv_strcaseeq_len(a->ptr, a->len, word);
}

static void nomem(void)
{
    abort(); /* server/ policy: out of memory is fatal (STYLE.md section 4) */
}

static char *dup_arg(const resp_arg *a)
{
    char *s = malloc(a->len + 1);
    if (!s) nomem();
    memcpy(s, a->ptr, a->len);
    s[a->len] = '\0';
    return s;
}

/* ---- authentication */

static void sha256(const void *p, size_t len, unsigned char out[32])
{
    unsigned int n = 0;
    if (!EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) || n != 32) {
        srv_log(SRV_LOG_WARNING, "SHA-256 failed while checking a password");
        abort();
    }
}

/* 1 when user/pass are the default user's credentials. */
static int credentials_ok(const resp_arg *user, const resp_arg *pass)
{
    if (user->len != 7 || memcmp(user->ptr, "default", 7) != 0) return 0;
    const char *want = srv.cfg.requirepass;
    if (want[0] == '\0') return 1; /* the default user has no password */
    unsigned char a[32], b[32];
    sha256(pass->ptr, pass->len, a);
    sha256(want, strlen(want), b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

/* Authenticate or reply WRONGPASS.  Returns 1 on success. */
static int authenticate_or_reply(srv_client *c, const resp_arg *user, const resp_arg *pass)
{
    if (!credentials_ok(user, pass)) {
        srv.stats.auth_failures++;
        srv_reply_error(c, "WRONGPASS invalid username-password pair or user is disabled.");
        return 0;
    }
    c->flags |= SRV_CLIENT_AUTHENTICATED;
    srv_client_update_limits(c);
    return 1;
}

static void auth_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    static const resp_arg default_user = {"default", 7};
    if (argc > 3) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    if (argc == 2 && srv.cfg.requirepass[0] == '\0') {
        srv_reply_error(c, "ERR AUTH <password> called without any password configured for the "
                           "default user. Are you sure your configuration is correct?");
        return;
    }
    const resp_arg *user = argc == 2 ? &default_user : &argv[1];
    if (authenticate_or_reply(c, user, &argv[argc - 1])) srv_reply_ok(c);
}

/* ---- simple connection commands */

static void ping_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    if (argc > 2) srv_reply_arity_error(c, "ping");
    else if (argc == 2) srv_reply_bulk(c, argv[1].ptr, argv[1].len);
    else srv_reply_raw(c, "+PONG\r\n", 7);
}

static void echo_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    srv_reply_bulk(c, argv[1].ptr, argv[1].len);
}

static void quit_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_reply_ok(c);
    c->flags |= SRV_CLIENT_CLOSE_AFTER_REPLY;
}

static void select_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    long long id;
    if (!resp_str_to_ll(argv[1].ptr, argv[1].len, &id))
        srv_reply_error(c, SRV_ERR_NOT_INT);
    else if (id < -2147483648LL || id > 2147483647LL)
        srv_reply_error(c, "ERR value is out of range, value must between -2147483648 and "
                           "2147483647");
    else if (id != 0) srv_reply_error(c, "ERR DB index is out of range");
    else srv_reply_ok(c);
}

/* Redis 7.0's resetCommand: back to the state of a new connection (MULTI and WATCH dropped,
 * RESP2, replies on, name cleared, de-authenticated when a password is set), reply +RESET. */
static void reset_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_multi_reset(c);
    c->resp = RESP2;
    free(c->name);
    c->name = NULL;
    c->flags &= ~(SRV_CLIENT_REPLY_OFF | SRV_CLIENT_REPLY_SKIP_NEXT);
    if (srv.cfg.requirepass[0] != '\0') c->flags &= ~SRV_CLIENT_AUTHENTICATED;
    else c->flags |= SRV_CLIENT_AUTHENTICATED;
    srv_client_update_limits(c);
    srv_reply_raw(c, "+RESET\r\n", 8);
}

/* ---- names and attributes */

/* CLIENT LIST must stay splittable at spaces: only '!'..'~' are allowed. */
static int printable_word(const resp_arg *v)
{
    for (size_t i = 0; i < v->len; i++)
        if (v->ptr[i] < '!' || v->ptr[i] > '~') return 0;
    return 1;
}

/* Set or clear (empty name) the connection name.  Returns 0, or -1 after replying the error. */
static int set_name_or_reply(srv_client *c, const resp_arg *name)
{
    if (!printable_word(name)) {
        srv_reply_error(c, "ERR Client names cannot contain spaces, newlines or special "
                           "characters.");
        return -1;
    }
    free(c->name);
    c->name = name->len ? dup_arg(name) : NULL;
    return 0;
}

/* ---- HELLO */

static void reply_hello(srv_client *c)
{
    srv_reply_map(c, 7);
    srv_reply_bulk_cstr(c, "server");
    srv_reply_bulk_cstr(c, "redis");
    srv_reply_bulk_cstr(c, "version");
    srv_reply_bulk_cstr(c, COMPAT_REDIS_VERSION);
    srv_reply_bulk_cstr(c, "proto");
    srv_reply_int(c, c->resp);
    srv_reply_bulk_cstr(c, "id");
    srv_reply_int(c, (long long)c->id);
    srv_reply_bulk_cstr(c, "mode");
    srv_reply_bulk_cstr(c, "standalone");
    srv_reply_bulk_cstr(c, "role");
    srv_reply_bulk_cstr(c, "master");
    srv_reply_bulk_cstr(c, "modules");
    srv_reply_array(c, 0);
}

/*
 * HELLO [protover [AUTH user pass] [SETNAME name]], in Redis 7.0's order: version, then every
 * option's syntax, then AUTH, then the authentication requirement, then SETNAME, and only then the
 * protocol switch, so a failing HELLO leaves the protocol unchanged.
 */
static void hello_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    long long ver = 0;
    const resp_arg *user = NULL, *pass = NULL, *name = NULL;
    if (argc >= 2) {
        if (!resp_str_to_ll(argv[1].ptr, argv[1].len, &ver)) {
            srv_reply_error(c, "ERR Protocol version is not an integer or out of range");
            return;
        }
        if (ver < 2 || ver > 3) {
            srv_reply_error(c, "NOPROTO unsupported protocol version");
            return;
        }
    }
    for (int j = 2; j < argc; j++) {
        int more = argc - 1 - j;
        if (arg_is(&argv[j], "auth") && more >= 2) {
            user = &argv[j + 1];
            pass = &argv[j + 2];
            j += 2;
        } else if (arg_is(&argv[j], "setname") && more >= 1) {
            name = &argv[++j];
        } else {
            int n = (int)(argv[j].len < 128 ? argv[j].len : 128);
            srv_reply_errorf(c, "ERR Syntax error in HELLO option '%.*s'", n, argv[j].ptr);
            return;
        }
    }
    if (user && !authenticate_or_reply(c, user, pass)) return;
    if (!(c->flags & SRV_CLIENT_AUTHENTICATED)) {
        srv_reply_error(c, "NOAUTH HELLO must be called with the client already authenticated, "
                           "otherwise the HELLO AUTH <user> <pass> option can be used to "
                           "authenticate the client and select the RESP protocol version at the "
                           "same time");
        return;
    }
    if (name && set_name_or_reply(c, name) < 0) return;
    if (ver) c->resp = (int)ver;
    reply_hello(c);
}

/* ---- CLIENT */

static void client_id_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    srv_reply_int(c, (long long)c->id);
}

static void client_setname_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    if (set_name_or_reply(c, &argv[2]) == 0) srv_reply_ok(c);
}

static void client_getname_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    if (c->name) srv_reply_bulk_cstr(c, c->name);
    else srv_reply_null(c);
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2): an empty value clears the attribute. */
static void client_setinfo_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    char **slot;
    int n = (int)(argv[2].len < 128 ? argv[2].len : 128);
    if (arg_is(&argv[2], "lib-name")) slot = &c->lib_name;
    else if (arg_is(&argv[2], "lib-ver")) slot = &c->lib_ver;
    else {
        srv_reply_errorf(c, "ERR Unrecognized option '%.*s'", n, argv[2].ptr);
        return;
    }
    if (!printable_word(&argv[3])) {
        srv_reply_errorf(c, "ERR %.*s cannot contain spaces, newlines or special characters.", n,
                         argv[2].ptr);
        return;
    }
    free(*slot);
    *slot = argv[3].len ? dup_arg(&argv[3]) : NULL;
    srv_reply_ok(c);
}

/* Client types for LIST/KILL TYPE: every connection here is "normal"; the others exist in Redis
 * and are accepted but never match.  Returns -1 for an unknown name. */
static int client_type(const resp_arg *a)
{
    if (arg_is(a, "normal")) return 0;
    if (arg_is(a, "slave") || arg_is(a, "replica")) return 1;
    if (arg_is(a, "pubsub")) return 2;
    if (arg_is(a, "master")) return 3;
    return -1;
}

static void append_info_line(resp_wbuf *b, const srv_client *cl)
{
    char *line = srv_client_info_line(cl);
    resp_add_raw(b, line, strlen(line));
    resp_add_raw(b, "\n", 1);
    free(line);
}

static void reply_text(srv_client *c, resp_wbuf *b)
{
    if (resp_wbuf_failed(b)) nomem();
    srv_reply_verbatim(c, b->data ? b->data : "", b->len);
    resp_wbuf_deinit(b);
}

static void client_info_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    (void)argv;
    resp_wbuf b;
    resp_wbuf_init(&b);
    append_info_line(&b, c);
    reply_text(c, &b);
}

/* CLIENT LIST [TYPE type | ID id [id ...]]: one filter at most, as in 7.0. */
static void client_list_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    int type = 0;
    resp_wbuf b;
    if (argc == 4 && arg_is(&argv[2], "type")) {
        if ((type = client_type(&argv[3])) < 0) {
            int n = (int)(argv[3].len < 128 ? argv[3].len : 128);
            srv_reply_errorf(c, "ERR Unknown client type '%.*s'", n, argv[3].ptr);
            return;
        }
    } else if (argc > 3 && arg_is(&argv[2], "id")) {
        long long id;
        for (int j = 3; j < argc; j++) {
            if (!resp_str_to_ll(argv[j].ptr, argv[j].len, &id)) {
                srv_reply_error(c, "ERR Invalid client ID");
                return;
            }
        }
        resp_wbuf_init(&b);
        for (int j = 3; j < argc; j++) {
            resp_str_to_ll(argv[j].ptr, argv[j].len, &id);
            srv_client *cl = id > 0 ? srv_client_by_id((uint64_t)id) : NULL;
            if (cl) append_info_line(&b, cl);
        }
        reply_text(c, &b);
        return;
    } else if (argc != 2) {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    resp_wbuf_init(&b);
    for (srv_list_node *n = srv.clients.next; type == 0 && n != &srv.clients; n = n->next) {
        srv_client *cl = srv_container_of(n, srv_client, node);
        if (!(cl->flags & SRV_CLIENT_CLOSING)) append_info_line(&b, cl);
    }
    reply_text(c, &b);
}

typedef struct kill_filter {
    const resp_arg *addr, *laddr;
    uint64_t id;
    int type; /* -1: any */
    int skipme;
} kill_filter;

static int str_eq_arg(const char *s, const resp_arg *a)
{
    return strlen(s) == a->len && memcmp(s, a->ptr, a->len) == 0;
}

/* Parse the new-style CLIENT KILL filters.  Returns 0, or -1 after replying the error. */
static int parse_kill_filter_or_reply(srv_client *c, int argc, const resp_arg *argv, kill_filter *f)
{
    for (int i = 2; i < argc; i += 2) {
        const resp_arg *opt = &argv[i], *val = &argv[i + 1];
        long long v;
        if (i + 1 >= argc) break; /* an option without its value */
        int n = (int)(val->len < 128 ? val->len : 128);
        if (arg_is(opt, "id")) {
            if (!resp_str_to_ll(val->ptr, val->len, &v) || v < 1) {
                srv_reply_error(c, "ERR client-id should be greater than 0");
                return -1;
            }
            f->id = (uint64_t)v;
        } else if (arg_is(opt, "type")) {
            if ((f->type = client_type(val)) < 0) {
                srv_reply_errorf(c, "ERR Unknown client type '%.*s'", n, val->ptr);
                return -1;
            }
        } else if (arg_is(opt, "addr")) {
            f->addr = val;
        } else if (arg_is(opt, "laddr")) {
            f->laddr = val;
        } else if (arg_is(opt, "user")) {
            if (!(val->len == 7 && memcmp(val->ptr, "default", 7) == 0)) {
                srv_reply_errorf(c, "ERR No such user '%.*s'", n, val->ptr);
                return -1;
            }
        } else if (arg_is(opt, "skipme") && (arg_is(val, "yes") || arg_is(val, "no"))) {
            f->skipme = arg_is(val, "yes");
        } else {
            break;
        }
        if (i + 2 >= argc) return 0;
    }
    srv_reply_error(c, SRV_ERR_SYNTAX);
    return -1;
}

static int kill_matches(const kill_filter *f, const srv_client *self, const srv_client *cl)
{
    if (cl->flags & SRV_CLIENT_CLOSING) return 0;
    if (f->addr && !str_eq_arg(cl->addr, f->addr)) return 0;
    if (f->laddr && !str_eq_arg(cl->laddr, f->laddr)) return 0;
    if (f->type > 0) return 0; /* only "normal" connections exist */
    if (f->id && cl->id != f->id) return 0;
    if (cl == self && f->skipme) return 0;
    return 1;
}

/* CLIENT KILL addr:port (old form: +OK or "No such client") or CLIENT KILL <filter> <value> ...
 * (new form: the number killed).  Killing yourself closes the connection after the reply. */
static void client_kill_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    kill_filter f = {NULL, NULL, 0, -1, 1};
    if (argc == 3) {
        f.addr = &argv[2];
        f.skipme = 0;
    } else if (parse_kill_filter_or_reply(c, argc, argv, &f) < 0) {
        return;
    }
    long long killed = 0;
    int kill_self = 0;
    srv_list_node *n = srv.clients.next;
    while (n != &srv.clients) {
        srv_client *cl = srv_container_of(n, srv_client, node);
        n = n->next; /* cl may be freed below */
        if (!kill_matches(&f, c, cl)) continue;
        killed++;
        if (cl == c) kill_self = 1;
        else srv_client_close(cl);
    }
    if (argc == 3) {
        if (killed == 0) srv_reply_error(c, "ERR No such client");
        else srv_reply_ok(c);
    } else {
        srv_reply_int(c, killed);
    }
    if (kill_self) c->flags |= SRV_CLIENT_CLOSE_AFTER_REPLY;
}

/* CLIENT REPLY ON|OFF|SKIP.  OFF and SKIP reply nothing; SKIP is ignored while OFF. */
static void client_reply_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    if (arg_is(&argv[2], "on")) {
        /* Also unmutes this very command when it follows CLIENT REPLY SKIP, as in Redis. */
        c->flags &= ~(SRV_CLIENT_REPLY_OFF | SRV_CLIENT_REPLY_SKIP_NEXT | SRV_CLIENT_REPLY_SKIP);
        srv_reply_ok(c);
    } else if (arg_is(&argv[2], "off")) {
        c->flags |= SRV_CLIENT_REPLY_OFF;
    } else if (arg_is(&argv[2], "skip")) {
        if (!(c->flags & SRV_CLIENT_REPLY_OFF)) c->flags |= SRV_CLIENT_REPLY_SKIP_NEXT;
    } else {
        srv_reply_error(c, SRV_ERR_SYNTAX);
    }
}

static void set_flag_on_off(srv_client *c, const resp_arg *v, unsigned flag)
{
    if (arg_is(v, "on")) c->flags |= flag;
    else if (arg_is(v, "off")) c->flags &= ~flag;
    else {
        srv_reply_error(c, SRV_ERR_SYNTAX);
        return;
    }
    srv_reply_ok(c);
}

/* Accepted for compatibility: nothing evicts clients and nothing tracks key access times. */
static void client_no_evict_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    set_flag_on_off(c, &argv[2], SRV_CLIENT_NO_EVICT);
}

static void client_no_touch_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    set_flag_on_off(c, &argv[2], SRV_CLIENT_NO_TOUCH);
}

static void client_help_cmd(srv_client *c, int argc, const resp_arg *argv)
{
    (void)argc;
    static const char *const lines[] = {
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
        NULL,
    };
    srv_reply_help(c, &argv[0], lines);
}

/* ---- the table */

#define CONN_FLAGS (SRV_CMD_LOADING | SRV_CMD_STALE)
#define HANDSHAKE_FLAGS (SRV_CMD_NOSCRIPT | CONN_FLAGS | SRV_CMD_FAST | SRV_CMD_NOAUTH)
#define CLIENT_FLAGS (SRV_CMD_NOSCRIPT | CONN_FLAGS)

#define CMD(n, f, ar, fl, since_, sum, cx)                                                          \
    {.name = n, .fn = f, .arity = ar, .flags = fl, .acl = "connection", .group = "connection",     \
     .since = since_, .summary = sum, .complexity = cx}

static srv_command client_subcommands[] = {
    CMD("id", client_id_cmd, 2, CLIENT_FLAGS, "5.0.0",
        "Returns the client ID for the current connection", "O(1)"),
    CMD("setname", client_setname_cmd, 3, CLIENT_FLAGS, "2.6.9", "Set the current connection name",
        "O(1)"),
    CMD("getname", client_getname_cmd, 2, CLIENT_FLAGS, "2.6.9", "Get the current connection name",
        "O(1)"),
    CMD("setinfo", client_setinfo_cmd, 4, CLIENT_FLAGS, "7.2.0",
        "Set client or connection specific info", "O(1)"),
    CMD("list", client_list_cmd, -2, SRV_CMD_ADMIN | CLIENT_FLAGS, "2.4.0",
        "Get the list of client connections",
        "O(N) where N is the number of client connections"),
    CMD("info", client_info_cmd, 2, CLIENT_FLAGS, "6.2.0",
        "Returns information about the current client connection.", "O(1)"),
    CMD("kill", client_kill_cmd, -3, SRV_CMD_ADMIN | CLIENT_FLAGS, "2.4.0",
        "Kill the connection of a client", "O(N) where N is the number of client connections"),
    CMD("reply", client_reply_cmd, 3, CLIENT_FLAGS, "3.2.0",
        "Instruct the server whether to reply to commands", "O(1)"),
    CMD("no-evict", client_no_evict_cmd, 3, SRV_CMD_ADMIN | CLIENT_FLAGS, "7.0.0",
        "Set client eviction mode for the current connection", "O(1)"),
    CMD("no-touch", client_no_touch_cmd, 3, CLIENT_FLAGS, "7.2.0",
        "Controls whether commands sent by the client will alter the LRU/LFU of the keys they "
        "access.",
        "O(1)"),
    CMD("help", client_help_cmd, 2, CONN_FLAGS, "5.0.0",
        "Show helpful text about the different subcommands", "O(1)"),
    {.name = NULL},
};

srv_command srv_cmds_conn[] = {
    CMD("ping", ping_cmd, -1, SRV_CMD_FAST, "1.0.0", "Ping the server", "O(1)"),
    CMD("echo", echo_cmd, 2, CONN_FLAGS | SRV_CMD_FAST, "1.0.0", "Echo the given string", "O(1)"),
    CMD("quit", quit_cmd, -1, HANDSHAKE_FLAGS | SRV_CMD_NOMULTI, "1.0.0", "Close the connection",
        "O(1)"),
    CMD("reset", reset_cmd, 1, HANDSHAKE_FLAGS | SRV_CMD_NOMULTI, "6.2.0", "Reset the connection",
        "O(1)"),
    CMD("hello", hello_cmd, -1, HANDSHAKE_FLAGS, "6.0.0", "Handshake with Redis", "O(1)"),
    CMD("auth", auth_cmd, -2, HANDSHAKE_FLAGS, "1.0.0", "Authenticate to the server",
        "O(N) where N is the number of passwords defined for the user"),
    CMD("select", select_cmd, 2, CONN_FLAGS | SRV_CMD_FAST, "1.0.0",
        "Change the selected database for the current connection", "O(1)"),
    {.name = "client", .arity = -2, .acl = "", .subcommands = client_subcommands,
     .group = "connection", .since = "2.4.0", .summary = "A container for client connection commands",
     .complexity = "Depends on subcommand."},
    {.name = NULL},
};
