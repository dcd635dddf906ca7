/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * main.c: the repram-server process.
 *
 * Start-up order: configuration (file, environment, flags; exit 1 with a message naming the source
 * of any error) -> logging -> hardening (no core dumps: values must never reach disk; with
 * lock-memory, mlockall so they never reach swap) -> keyspace and command table -> event base,
 * TLS context (exit 1 naming the option and file at fault) and listeners (exit 1 when a port
 * cannot be bound) -> timers and signals -> loop.  Nothing is written to the file system unless
 * pidfile or logfile is set.  SIGTERM/SIGINT/SHUTDOWN stop the listeners, flush pending replies
 * for up to 2 s and leave the loop; everything is then freed so valgrind sees a clean exit.
 *
 * Where to start reading: main(), then net.c (client I/O), loop.c (the loop) and commands.c
 * (dispatch).
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "server/commands.h"
#include "server/config.h"
#include "server/db.h"
#include "server/http.h"
#include "server/log.h"
#include "server/net.h"
#include "server/replica.h"
#include "server/server.h"
#include "server/tls.h"

srv_server srv;

/* Values live only in memory: a core dump would write them to disk. */
static void disable_core_dumps(void)
{
    struct rlimit rl = {0, 0};
    if (setrlimit(RLIMIT_CORE, &rl) != 0)
        srv_log(SRV_LOG_WARNING, "could not disable core dumps: %s", strerror(errno));
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        srv_log(SRV_LOG_WARNING, "could not mark the process non-dumpable: %s", strerror(errno));
}

/*
 * lock-memory yes: keep every page of the process in RAM (values must not reach swap either).
 * MCL_ONFAULT locks pages as they are first touched instead of populating every mapping up
 * front, so address space that is reserved but never used costs nothing.  Failure is fatal:
 * running unlocked when the operator asked for locking would silently break the promise.
 */
static int lock_memory(void)
{
    if (!srv.cfg.lock_memory) return 0;
    int flags = MCL_CURRENT | MCL_FUTURE;
#ifdef MCL_ONFAULT
    flags |= MCL_ONFAULT;
#endif
    if (mlockall(flags) == 0) {
        srv_log(SRV_LOG_NOTICE, "memory locked (lock-memory yes): values will not be swapped");
        return 0;
    }
    int err = errno;
    struct rlimit rl = {0, 0};
    char limit[32] = "unknown";
    if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
        if (rl.rlim_cur == RLIM_INFINITY) snprintf(limit, sizeof limit, "unlimited");
        else snprintf(limit, sizeof limit, "%llu bytes", (unsigned long long)rl.rlim_cur);
    }
    srv_log(SRV_LOG_WARNING, "option 'lock-memory' is yes but mlockall failed: %s (RLIMIT_MEMLOCK "
            "is %s); raise the locked-memory limit (ulimit -l unlimited, LimitMEMLOCK=infinity "
            "under systemd, the IPC_LOCK capability in a container) or set lock-memory no",
            strerror(err), limit);
    return -1;
}

static void make_run_id(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[20];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) memset(raw, 0, sizeof raw);
    for (size_t i = 0; i < sizeof raw; i++) {
        srv.run_id[2 * i] = hex[raw[i] >> 4];
        srv.run_id[2 * i + 1] = hex[raw[i] & 15];
    }
    srv.run_id[40] = '\0';
}

static int write_pidfile(void)
{
    if (!srv.cfg.pidfile[0]) return 0;
    FILE *f = fopen(srv.cfg.pidfile, "w");
    if (!f) {
        srv_log(SRV_LOG_WARNING, "cannot write pidfile %s: %s", srv.cfg.pidfile, strerror(errno));
        return -1;
    }
    fprintf(f, "%d\n", (int)srv.pid);
    fclose(f);
    return 0;
}

static struct event_base *make_base(void)
{
    struct event_config *cfg = event_config_new();
    if (!cfg) return NULL;
    /* After this many callbacks libevent polls for new I/O even if callbacks remain active, so a
     * client with a long pipeline cannot keep the others from being read. */
    event_config_set_max_dispatch_interval(cfg, NULL, 64, 0);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static void cleanup(void)
{
    srv_net_close_listeners();
    srv_repl_stop(); /* before the clients: writes still waiting end with an error to them */
    srv_http_stop(); /* after the cluster: HTTP writes waiting for a quorum have been answered */
    srv_net_free_clients();
    srv_net_stop();
    srv_db_free();
    srv_commands_free();
    if (srv.base) event_base_free(srv.base);
    srv.base = NULL;
    srv_tls_free();
    if (srv.cfg.pidfile && srv.cfg.pidfile[0]) unlink(srv.cfg.pidfile);
    srv_log_close();
    config_free(&srv.cfg);
}

static int setup(void)
{
    if (srv_db_init() < 0 || srv_commands_init() < 0) {
        srv_log(SRV_LOG_WARNING, "out of memory at start-up");
        return -1;
    }
    srv.base = make_base();
    if (!srv.base) {
        srv_log(SRV_LOG_WARNING, "could not create the event loop");
        return -1;
    }
    if (srv_tls_init() < 0 || srv_net_listen() < 0) return -1;
    if (srv_http_start() < 0) return -1;
    if (srv_net_start() < 0) {
        srv_log(SRV_LOG_WARNING, "could not create timers");
        return -1;
    }
    if (srv_repl_start() < 0) return -1;
    return write_pidfile();
}

int main(int argc, char **argv, char **envp)
{
    char err[512];
    srv_list_init(&srv.clients);
    if (config_init(&srv.cfg) < 0) {
        fprintf(stderr, "repram-server: out of memory\n");
        return 1;
    }
    int rc = config_load(&srv.cfg, argc, argv, envp, stdout, err, sizeof err);
    if (rc != 0) {
        if (rc < 0) fprintf(stderr, "repram-server: %s\n", err);
        config_free(&srv.cfg);
        return rc < 0 ? 1 : 0;
    }
    srv_log_level = srv.cfg.loglevel;
    if (srv.cfg.logfile[0] && srv_log_open(srv.cfg.logfile) < 0) {
        fprintf(stderr, "repram-server: cannot open logfile %s: %s\n", srv.cfg.logfile,
                strerror(errno));
        config_free(&srv.cfg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    disable_core_dumps();
    if (lock_memory() < 0) {
        config_free(&srv.cfg);
        return 1;
    }
    srv.pid = getpid();
    make_run_id();
    if (gethostname(srv.hostname, sizeof srv.hostname - 1) != 0) strcpy(srv.hostname, "localhost");
    srv.start_ms = srv.stat_reset_ms = srv_now_ms();
    srv_log(SRV_LOG_NOTICE, "repram-server %s starting (pid %d)", REPRAM_VERSION, (int)srv.pid);
    if (setup() < 0) {
        cleanup();
        return 1;
    }
    srv_log(SRV_LOG_NOTICE, "ready to accept connections");
    srv_loop_run(srv.base, &srv.cfg.busy_poll_us, SRV_LOOP_MIN_BUSY_PCT, &srv.loop);
    srv_log(SRV_LOG_NOTICE, "repram-server is now ready to exit, bye bye...");
    int code = srv.exit_code;
    cleanup();
    return code;
}
