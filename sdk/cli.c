/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.c: the `repram` command-line tool, a thin shell over librepram's public API (it includes
 * only repram.h, like any other user of the library).
 *
 *     repram put KEY [--ttl S] [FILE|-]     repram get KEY [-o FILE]     repram del KEY
 *     repram ttl KEY     repram exists KEY     repram keygen [-o FILE]
 *
 * Design choices:
 *   - One exit status per error class (usage(), EXIT_* below), so scripts can tell "not found"
 *     from "tampered" from "server down" without parsing messages.  Messages go to stderr, values
 *     to stdout or -o FILE, nothing else to stdout.
 *   - Key material comes from --key-file, else REPRAM_KEY, else REPRAM_PASSPHRASE, else a prompt
 *     on /dev/tty with echo off.  A key is never taken from the command line, where other users
 *     can read it (ps); --password is allowed for convenience, REPRAM_PASSWORD is preferred.
 *   - `put` without FILE reads standard input, but not from a terminal: typing a value by
 *     accident (the user forgot `< file`) would hang or store garbage.  `-` forces stdin.
 *   - `put` asks for a passphrase twice: a typo would store the value under a name no one can
 *     find again.
 *   - Files written by `get -o` and `keygen -o` are created mode 0600, and only after the value
 *     was fetched and opened, so a failure never truncates an existing file.  `keygen -o` refuses
 *     to overwrite a file: that would destroy a key and everything sealed with it.
 *   - Plaintext and passphrases are wiped from memory before the process exits.
 *
 * Start reading at main.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "repram.h"

/* Exit statuses, one per class of failure; listed in --help. */
#define EXIT_NOT_FOUND 1
#define EXIT_USAGE 2
#define EXIT_KEY 3
#define EXIT_CONNECTION 4
#define EXIT_TIMEOUT 5
#define EXIT_SERVER 6
#define EXIT_AUTH 7
#define EXIT_WRONG_KEY 8
#define EXIT_TAMPERED 9
#define EXIT_VERSION 10
#define EXIT_FILE 11
#define EXIT_INTERNAL 12

#define DEFAULT_TTL_S 3600 /* the repram server's own default-ttl */
#define PASSPHRASE_MAX 1024 /* bytes read from the terminal; longer input is refused */

static const char USAGE[] =
    "usage: repram [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Stores values encrypted (AES-256-GCM) under blinded key names (HMAC-SHA256) on a repram or\n"
    "any Redis-protocol server.  The server never sees key names or values.\n"
    "\n"
    "Commands:\n"
    "  put KEY [--ttl S] [FILE|-]  store FILE, or standard input, under KEY for S seconds\n"
    "                              (default 3600); standard input is not read from a terminal\n"
    "                              unless FILE is '-'\n"
    "  get KEY [-o FILE]           write the value of KEY to standard output, or to FILE (0600)\n"
    "  del KEY                     delete KEY\n"
    "  ttl KEY                     print the seconds KEY has left\n"
    "  exists KEY                  print 1 and exit 0 if KEY exists, print 0 and exit 1 if not\n"
    "  keygen [-o FILE]            print a new random master key (64 hex digits), or write it\n"
    "                              to FILE (0600, never overwritten)\n"
    "\n"
    "Connection:\n"
    "  --host HOST       server host (default 127.0.0.1; env REPRAM_HOST)\n"
    "  --port PORT       server port (default 6379; env REPRAM_PORT)\n"
    "  --user NAME       user name for AUTH (env REPRAM_USER)\n"
    "  --password PW     password for AUTH (env REPRAM_PASSWORD, which other users cannot see)\n"
    "  --timeout MS      connect and per-reply time-out in milliseconds (default 5000;\n"
    "                    env REPRAM_CLIENT_TIMEOUT)\n"
    "\n"
    "Key material (the first one given is used):\n"
    "  --key-file PATH   file holding the master key (hex or base64, '#' comments allowed)\n"
    "  REPRAM_KEY        environment: the master key as hex or base64\n"
    "  REPRAM_PASSPHRASE environment: a passphrase; without any of these, repram asks for one\n"
    "                    on the terminal (no echo; twice for put)\n"
    "  --namespace NS    salt of the passphrase, required with one (env REPRAM_NAMESPACE)\n"
    "  --scrypt N,R,P    scrypt cost of the passphrase (default 32768,8,1; env REPRAM_SCRYPT)\n"
    "  --prefix P        clear-text prefix of stored names, to share a server (env REPRAM_PREFIX)\n"
    "\n"
    "  -h, --help        this text      --version   print the version\n"
    "\n"
    "Exit status:\n"
    "   0  success\n"
    "   1  key not found (absent, expired, or written with another key)\n"
    "   2  usage error (bad option, argument or TTL)\n"
    "   3  key material missing or unusable (bad key file, no passphrase, no namespace)\n"
    "   4  cannot connect, connection lost, or a reply no Redis server would send\n"
    "   5  time-out\n"
    "   6  the server refused the command (e.g. TTL above max-ttl, value too large, OOM)\n"
    "   7  authentication failed\n"
    "   8  wrong key: the stored value was sealed with another key\n"
    "   9  tampered, truncated, or not a repram value\n"
    "  10  unknown format version\n"
    "  11  cannot read the input or write the output file\n"
    "  12  internal error (out of memory, crypto library failure)\n";

typedef struct options {
    const char *command;
    const char *key;        /* the KEY argument */
    const char *file;       /* put's FILE, or NULL */
    const char *out;        /* -o FILE */
    long long ttl_s;
    int ttl_given;
    const char *host;
    int port;
    const char *user;
    const char *password;
    int timeout_ms;
    const char *key_file;
    const char *ns;
    repram_scrypt_params scrypt;
    const char *prefix;
} options;

__attribute__((format(printf, 2, 3))) static void err(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "repram: ");
    if (cmd != NULL) fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "repram: %s%s%s\nTry 'repram --help'.\n", msg, arg ? ": " : "", arg ? arg : "");
    return EXIT_USAGE;
}

/* Exit status for a library result code. */
static int exit_for(int rc)
{
    switch (rc) {
    case REPRAM_OK: return 0;
    case REPRAM_ERR_NOT_FOUND: return EXIT_NOT_FOUND;
    case REPRAM_ERR_INVALID: return EXIT_USAGE;
    case REPRAM_ERR_KEY_FORMAT: return EXIT_KEY;
    case REPRAM_ERR_CONNECT:
    case REPRAM_ERR_CONNECTION:
    case REPRAM_ERR_PROTOCOL: return EXIT_CONNECTION;
    case REPRAM_ERR_TIMEOUT: return EXIT_TIMEOUT;
    case REPRAM_ERR_SERVER: return EXIT_SERVER;
    case REPRAM_ERR_AUTH: return EXIT_AUTH;
    case REPRAM_ERR_WRONG_KEY: return EXIT_WRONG_KEY;
    case REPRAM_ERR_TAMPERED:
    case REPRAM_ERR_TRUNCATED:
    case REPRAM_ERR_NOT_BLOB: return EXIT_TAMPERED;
    case REPRAM_ERR_VERSION: return EXIT_VERSION;
    case REPRAM_ERR_IO:
    case REPRAM_ERR_TOO_LARGE: return EXIT_FILE;
    default: return EXIT_INTERNAL;
    }
}

/* Whole decimal number in [lo, hi], nothing else. */
static int parse_num(const char *s, long long lo, long long hi, long long *out)
{
    if (s == NULL || *s == '\0') return 0;
    long long v = 0;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') return 0;
        if (v > (hi - (*p - '0')) / 10) return 0;
        v = v * 10 + (*p - '0');
    }
    if (v < lo) return 0;
    *out = v;
    return 1;
}

static int parse_scrypt(const char *s, repram_scrypt_params *p)
{
    char buf[64];
    if (strlen(s) >= sizeof(buf)) return 0;
    strcpy(buf, s);
    char *r = strchr(buf, ','), *q = r ? strchr(r + 1, ',') : NULL;
    if (r == NULL || q == NULL) return 0;
    *r++ = '\0';
    *q++ = '\0';
    long long n, rr, pp;
    if (!parse_num(buf, 2, 1 << 20, &n) || !parse_num(r, 1, 1 << 30, &rr) || !parse_num(q, 1, 1 << 30, &pp))
        return 0;
    p->n = (uint64_t)n;
    p->r = (uint32_t)rr;
    p->p = (uint32_t)pp;
    return 1;
}

/* Defaults, then environment; the command line overrides both in parse_args. */
static int parse_env(options *o)
{
    memset(o, 0, sizeof(*o));
    o->ttl_s = DEFAULT_TTL_S;
    o->host = getenv("REPRAM_HOST") ? getenv("REPRAM_HOST") : "127.0.0.1";
    o->port = 6379;
    o->timeout_ms = 5000;
    o->user = getenv("REPRAM_USER");
    o->password = getenv("REPRAM_PASSWORD");
    o->ns = getenv("REPRAM_NAMESPACE");
    o->prefix = getenv("REPRAM_PREFIX");
    o->scrypt = (repram_scrypt_params){REPRAM_SCRYPT_N, REPRAM_SCRYPT_R, REPRAM_SCRYPT_P};
    long long v;
    const char *e;
    if ((e = getenv("REPRAM_PORT")) != NULL) {
        if (!parse_num(e, 1, 65535, &v)) return usage_error("bad REPRAM_PORT", e);
        o->port = (int)v;
    }
    if ((e = getenv("REPRAM_CLIENT_TIMEOUT")) != NULL) {
        if (!parse_num(e, 1, 86400000, &v)) return usage_error("bad REPRAM_CLIENT_TIMEOUT", e);
        o->timeout_ms = (int)v;
    }
    if ((e = getenv("REPRAM_SCRYPT")) != NULL && !parse_scrypt(e, &o->scrypt))
        return usage_error("bad REPRAM_SCRYPT (want N,R,P)", e);
    return 0;
}

/* Options anywhere on the line, as "--name value" or "--name=value"; "--" ends them. */
static int parse_args(int argc, char **argv, options *o)
{
    const char *pos[4];
    int npos = 0, only_pos = 0;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (npos == 4) return usage_error("too many arguments", a);
            pos[npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(USAGE, stdout);
            exit(0);
        }
        if (strcmp(a, "--version") == 0) {
            printf("repram %s (blob format %d)\n", repram_version(), REPRAM_FORMAT_VERSION);
            exit(0);
        }
        char name[32];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        size_t nl = eq && strncmp(a, "--", 2) == 0 ? (size_t)(eq - a) : strlen(a);
        if (nl >= sizeof(name)) return usage_error("unknown option", a);
        memcpy(name, a, nl);
        name[nl] = '\0';
        if (eq != NULL && strncmp(a, "--", 2) == 0) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else return usage_error("option needs a value", a);
        long long v;
        if (strcmp(name, "--ttl") == 0) {
            if (!parse_num(val, 1, 1000000000000000000LL, &v)) return usage_error("bad --ttl (whole seconds, at least 1)", val);
            o->ttl_s = v;
            o->ttl_given = 1;
        } else if (strcmp(name, "-o") == 0 || strcmp(name, "--output") == 0) {
            o->out = val;
        } else if (strcmp(name, "--host") == 0) {
            o->host = val;
        } else if (strcmp(name, "--port") == 0) {
            if (!parse_num(val, 1, 65535, &v)) return usage_error("bad --port", val);
            o->port = (int)v;
        } else if (strcmp(name, "--user") == 0) {
            o->user = val;
        } else if (strcmp(name, "--password") == 0) {
            o->password = val;
        } else if (strcmp(name, "--timeout") == 0) {
            if (!parse_num(val, 1, 86400000, &v)) return usage_error("bad --timeout (milliseconds)", val);
            o->timeout_ms = (int)v;
        } else if (strcmp(name, "--key-file") == 0) {
            o->key_file = val;
        } else if (strcmp(name, "--namespace") == 0) {
            o->ns = val;
        } else if (strcmp(name, "--scrypt") == 0) {
            if (!parse_scrypt(val, &o->scrypt)) return usage_error("bad --scrypt (want N,R,P)", val);
        } else if (strcmp(name, "--prefix") == 0) {
            o->prefix = val;
        } else {
            return usage_error("unknown option", name);
        }
    }
    if (npos == 0) return usage_error("no command", NULL);
    o->command = pos[0];
    const char *c = o->command;
    int is_keygen = strcmp(c, "keygen") == 0, is_put = strcmp(c, "put") == 0;
    if (!is_keygen && !is_put && strcmp(c, "get") && strcmp(c, "del") && strcmp(c, "ttl") &&
        strcmp(c, "exists"))
        return usage_error("unknown command", c);
    int want = is_keygen ? 1 : 2, max = is_put ? 3 : want;
    if (npos < want) return usage_error("missing KEY", NULL);
    if (npos > max) return usage_error("too many arguments", pos[max]);
    o->key = npos > 1 ? pos[1] : NULL;
    o->file = npos > 2 ? pos[2] : NULL;
    if (o->ttl_given && !is_put) return usage_error("--ttl applies to put only", NULL);
    if (o->out != NULL && strcmp(c, "get") != 0 && !is_keygen)
        return usage_error("-o applies to get and keygen only", NULL);
    return 0;
}

/* ---- passphrase prompt ------------------------------------------------------------------- */

static int tty_fd = -1;
static struct termios tty_saved;

static void restore_tty(int sig)
{
    if (tty_fd >= 0) tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Ask on /dev/tty with echo off; buf gets the line without its newline.  -1 when no terminal. */
static int prompt(const char *text, char *buf, size_t cap)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return -1;
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        close(fd);
        return -1;
    }
    tty_saved = t;
    tty_fd = fd;
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], restore_tty);
    t.c_lflag &= (tcflag_t) ~(ECHO | ECHONL);
    t.c_lflag |= ICANON;
    tcsetattr(fd, TCSAFLUSH, &t);
    if (write(fd, text, strlen(text)) < 0) {} /* nothing to do if the prompt cannot be shown */
    size_t n = 0;
    int rc = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || c == '\n' || c == '\r') break;
        if (n + 1 >= cap) rc = -2;
        else buf[n++] = c;
    }
    buf[n] = '\0';
    tcsetattr(fd, TCSAFLUSH, &tty_saved);
    if (write(fd, "\n", 1) < 0) {}
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], SIG_DFL);
    tty_fd = -1;
    close(fd);
    return rc;
}

static void wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--) *v++ = 0;
}

/* Build the key context from the first source given (see USAGE). */
static int load_keys(const options *o, repram_keys **keys)
{
    int rc;
    const char *env_key = getenv("REPRAM_KEY");
    if (o->key_file != NULL) {
        struct stat st;
        rc = repram_keys_create_file(keys, o->key_file);
        if (rc == REPRAM_ERR_IO) {
            err(NULL, "cannot read key file %s: %s", o->key_file, strerror(errno));
            return EXIT_KEY;
        }
        if (rc == REPRAM_OK && stat(o->key_file, &st) == 0 && (st.st_mode & 077) != 0)
            err(NULL, "warning: key file %s is accessible by other users (chmod 600 %s)",
                o->key_file, o->key_file);
        if (rc != REPRAM_OK) {
            err(NULL, "key file %s: %s", o->key_file, repram_strerror(rc));
            return exit_for(rc) == EXIT_USAGE ? EXIT_KEY : exit_for(rc);
        }
    } else if (env_key != NULL) {
        rc = repram_keys_create_text(keys, env_key, strlen(env_key));
        if (rc != REPRAM_OK) {
            err(NULL, "REPRAM_KEY: %s", repram_strerror(rc));
            return exit_for(rc) == EXIT_USAGE ? EXIT_KEY : exit_for(rc);
        }
    } else {
        if (o->ns == NULL || *o->ns == '\0') {
            err(NULL, "no key: give --key-file or REPRAM_KEY, or a passphrase with --namespace "
                "(or REPRAM_NAMESPACE)");
            return EXIT_KEY;
        }
        char pass[PASSPHRASE_MAX + 1], again[PASSPHRASE_MAX + 1];
        const char *env_pass = getenv("REPRAM_PASSPHRASE");
        size_t len;
        if (env_pass != NULL) {
            len = strlen(env_pass);
            if (len > PASSPHRASE_MAX) {
                err(NULL, "REPRAM_PASSPHRASE is longer than %d bytes", PASSPHRASE_MAX);
                return EXIT_KEY;
            }
            memcpy(pass, env_pass, len + 1);
        } else {
            int pr = prompt("repram passphrase: ", pass, sizeof(pass));
            if (pr == 0 && strcmp(o->command, "put") == 0) {
                pr = prompt("repram passphrase (again): ", again, sizeof(again));
                if (pr == 0 && strcmp(pass, again) != 0) pr = -3;
                wipe(again, sizeof(again));
            }
            if (pr != 0) {
                wipe(pass, sizeof(pass));
                err(NULL, "%s",
                    pr == -1 ? "no key: give --key-file, REPRAM_KEY or REPRAM_PASSPHRASE "
                               "(there is no terminal to ask for a passphrase)"
                    : pr == -2 ? "passphrase longer than 1024 bytes"
                               : "the passphrases differ");
                return EXIT_KEY;
            }
            len = strlen(pass);
        }
        rc = repram_keys_create_passphrase(keys, pass, len, o->ns, strlen(o->ns), &o->scrypt);
        wipe(pass, sizeof(pass));
        if (rc != REPRAM_OK) {
            err(NULL, "passphrase: %s%s", repram_strerror(rc),
                rc == REPRAM_ERR_INVALID ? " (namespace of 1..255 bytes, scrypt N a power of 2)" : "");
            return rc == REPRAM_ERR_INVALID ? EXIT_KEY : exit_for(rc);
        }
    }
    if (o->prefix != NULL && repram_keys_set_prefix(*keys, o->prefix) != REPRAM_OK) {
        repram_keys_free(*keys);
        *keys = NULL;
        return usage_error("bad --prefix (at most 64 printable ASCII characters, no space)", o->prefix);
    }
    return 0;
}

/* ---- value input and output -------------------------------------------------------------- */

/* Read all of fd into a fresh buffer (wiped by the caller).  errno is set on failure. */
static int read_all(int fd, unsigned char **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    unsigned char *buf = malloc(cap);
    if (buf == NULL) return -1;
    for (;;) {
        if (n == cap) {
            if (cap > REPRAM_VALUE_MAX) {
                wipe(buf, n);
                free(buf);
                errno = EFBIG;
                return -1;
            }
            unsigned char *bigger = malloc(cap * 2);
            if (bigger == NULL) {
                wipe(buf, n);
                free(buf);
                return -1;
            }
            memcpy(bigger, buf, n);
            wipe(buf, n);
            free(buf);
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int saved = errno;
            wipe(buf, n);
            free(buf);
            errno = saved;
            return -1;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (n > REPRAM_VALUE_MAX) {
        wipe(buf, n);
        free(buf);
        errno = EFBIG;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int write_all(int fd, const void *p, size_t len)
{
    const unsigned char *b = p;
    while (len > 0) {
        ssize_t w = write(fd, b, len);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        b += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Write to stdout, or create path 0600 (O_EXCL when exclusive).  0, or EXIT_FILE after a message. */
static int emit(const char *cmd, const char *path, int exclusive, const void *p, size_t len)
{
    int fd = STDOUT_FILENO;
    if (path != NULL) {
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0600);
        if (fd < 0) {
            err(cmd, "cannot create %s: %s", path, strerror(errno));
            return EXIT_FILE;
        }
    }
    int bad = write_all(fd, p, len) != 0;
    int saved = errno;
    if (path != NULL && close(fd) != 0 && !bad) bad = 1, saved = errno;
    if (bad) {
        err(cmd, "cannot write %s: %s", path != NULL ? path : "standard output", strerror(saved));
        return EXIT_FILE;
    }
    return 0;
}

/* ---- commands ---------------------------------------------------------------------------- */

static int cmd_keygen(const options *o)
{
    unsigned char key[REPRAM_KEY_BYTES];
    char hex[REPRAM_KEY_TEXT_LEN + 2];
    int rc = repram_keygen(key);
    if (rc != REPRAM_OK) {
        err("keygen", "%s", repram_strerror(rc));
        return exit_for(rc);
    }
    repram_key_to_hex(key, hex);
    hex[REPRAM_KEY_TEXT_LEN] = '\n';
    int ex = emit("keygen", o->out, 1, hex, REPRAM_KEY_TEXT_LEN + 1);
    wipe(key, sizeof(key));
    wipe(hex, sizeof(hex));
    return ex;
}

/* The library's message already names the operation ("get: key not found"). */
static int fail_db(const char *cmd, repram *db, int rc)
{
    const char *msg = repram_errstr(db);
    if (*msg != '\0') err(NULL, "%s", msg);
    else err(cmd, "%s", repram_strerror(rc));
    return exit_for(rc);
}

static int cmd_put(const options *o, repram *db)
{
    int fd = STDIN_FILENO;
    if (o->file != NULL && strcmp(o->file, "-") != 0) {
        fd = open(o->file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err("put", "cannot open %s: %s", o->file, strerror(errno));
            return EXIT_FILE;
        }
    }
    unsigned char *value = NULL;
    size_t len = 0;
    int r = read_all(fd, &value, &len);
    int saved = errno;
    if (fd != STDIN_FILENO) close(fd);
    if (r != 0) {
        err("put", "cannot read %s: %s", o->file && strcmp(o->file, "-") ? o->file : "standard input",
            saved == EFBIG ? "larger than the largest value" : strerror(saved));
        return EXIT_FILE;
    }
    int rc = repram_put(db, o->key, strlen(o->key), value, len, o->ttl_s);
    wipe(value, len);
    free(value);
    return rc == REPRAM_OK ? 0 : fail_db("put", db, rc);
}

static int cmd_get(const options *o, repram *db)
{
    void *value = NULL;
    size_t len = 0;
    int rc = repram_get(db, o->key, strlen(o->key), &value, &len);
    if (rc != REPRAM_OK) return fail_db("get", db, rc);
    int ex = emit("get", o->out, 0, value, len);
    repram_buf_free(value);
    return ex;
}

static int cmd_simple(const options *o, repram *db)
{
    const char *c = o->command;
    size_t klen = strlen(o->key);
    int rc;
    if (strcmp(c, "del") == 0) {
        rc = repram_del(db, o->key, klen);
    } else if (strcmp(c, "ttl") == 0) {
        long long ttl = 0;
        rc = repram_ttl(db, o->key, klen, &ttl);
        if (rc == REPRAM_OK) printf("%lld\n", ttl);
    } else {
        int exists = 0;
        rc = repram_exists(db, o->key, klen, &exists);
        if (rc == REPRAM_OK) {
            printf("%d\n", exists);
            return exists ? 0 : EXIT_NOT_FOUND;
        }
    }
    return rc == REPRAM_OK ? 0 : fail_db(c, db, rc);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a closed stdout becomes EPIPE, exit 11, not a silent death */
    options o;
    int ex = parse_env(&o);
    if (ex == 0) ex = parse_args(argc, argv, &o);
    if (ex != 0) return ex;
    if (strcmp(o.command, "keygen") == 0) return cmd_keygen(&o);
    /* Before any passphrase prompt, which would otherwise read the value's terminal. */
    if (strcmp(o.command, "put") == 0 && o.file == NULL && isatty(STDIN_FILENO))
        return usage_error("put: refusing to read the value from a terminal; give FILE, or '-' "
                           "to type it", NULL);

    repram_keys *keys = NULL;
    if ((ex = load_keys(&o, &keys)) != 0) return ex;
    repram_config cfg;
    repram_config_init(&cfg);
    cfg.host = o.host;
    cfg.port = o.port;
    cfg.connect_timeout_ms = o.timeout_ms;
    cfg.io_timeout_ms = o.timeout_ms;
    cfg.username = o.user;
    cfg.password = o.password;
    repram *db = NULL;
    int rc = repram_create(&db, &cfg, keys);
    repram_keys_free(keys);
    if (rc != REPRAM_OK) {
        err(o.command, "%s", repram_strerror(rc));
        return exit_for(rc);
    }
    if (strcmp(o.command, "put") == 0) ex = cmd_put(&o, db);
    else if (strcmp(o.command, "get") == 0) ex = cmd_get(&o, db);
    else ex = cmd_simple(&o, db);
    repram_free(db);
    if (fflush(stdout) != 0 && ex == 0) {
        err(o.command, "cannot write standard output: %s", strerror(errno));
        ex = EXIT_FILE;
    }
    return ex;
}
