/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loop.c: the node's event loop: libevent's, plus a short busy poll while the node is busy.
 *
 * Why poll.  When a server has handled everything it sleeps in epoll_wait, and the next request
 * has to wake it.  Linux charges that wake-up to whoever sent the bytes: the sender's send()
 * runs the TCP receive path of our socket and the wake-up of our thread, which on an idle CPU
 * means an inter-processor interrupt, and on a virtual machine whose host does not poll halted
 * vCPUs (guest_halt_poll_ns=0, as on the benchmark machine) a VM exit as well.  Measured with
 * perf on a redis-benchmark client (bench/README.md): against repram it spent 12 % of its CPU in
 * that wake-up, against Redis 5 %, because Redis, slower per request, was asleep less often
 * (0.01-0.05 sleeps per request against repram's 0.12-0.14).  The faster server made its client
 * slower, and every request that finds the server asleep waits for the wake-up.  So after
 * handling events the loop keeps looking for more, with epoll and no time-out, for busy-poll-us
 * after the last one, and only then blocks.
 *
 * Why only while busy.  Polling spends CPU that sleeping would have left idle.  The loop measures
 * each 10 ms window: the thread's CPU time less the time it polled for nothing, over the
 * window's length.  It polls only after a window that was at least half busy (min_busy_pct), so
 * a lightly loaded node keeps sleeping and its CPU use stays proportional to its work; a node
 * past half a core may show up to a full core in top, of which busy_pct (INFO loop_busy_pct)
 * is the real work.  Hypervisors' halt polling follows the same reasoning one level down.
 *
 * Politeness.  Every empty poll pass ends in sched_yield(), so another runnable thread on this
 * CPU (a peer node or a client on a small machine) runs first; time lost to it counts as idle,
 * so a contended CPU lowers busy_pct and turns polling off.
 *
 * How work is seen: libevent counts the callbacks it makes active; event_base_get_max_events
 * (EVENT_BASE_COUNT_ACTIVE) read and cleared around a non-blocking pass says whether the pass
 * ran any (client, bus, HTTP or timer).  No callback needs to report itself.
 *
 * Rejected: polling always (a full core at any load); SO_BUSY_POLL and epoll's busy-poll
 * settings (they poll a network device's receive queue, and loopback or a device without NAPI
 * has none to poll); a fixed poll after every wake-up without the busy test (it turned a node at
 * 20 % into one at 100 %).
 *
 * Event-loop thread only.  Start reading at srv_loop_run.
 */
/* RUSAGE_THREAD is a GNU extension. */
#define _GNU_SOURCE

#include "server/loop.h"

#include <event2/event.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int srv_loop_busy_pct(uint64_t cpu_ns, uint64_t idle_ns, uint64_t wall_ns)
{
    if (wall_ns == 0) return 0;
    uint64_t work = cpu_ns > idle_ns ? cpu_ns - idle_ns : 0;
    if (work >= wall_ns) return 100;
    return (int)(work * 100 / wall_ns);
}

uint64_t srv_loop_sleeps(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
    return (uint64_t)ru.ru_nvcsw;
}

/* Close the window once it is SRV_LOOP_WINDOW_NS long: judge it and start the next.  A window
 * ends only when the loop comes round, so after a long sleep it spans the sleep, which is what
 * makes an idle node stop polling. */
static void window_roll(srv_loop_stats *st, uint64_t now, int min_busy_pct)
{
    if (now - st->win_start_ns < SRV_LOOP_WINDOW_NS) return;
    uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    st->busy_pct = srv_loop_busy_pct(cpu - st->win_cpu_ns, st->win_idle_ns, now - st->win_start_ns);
    st->polling = st->busy_pct >= min_busy_pct;
    st->win_start_ns = now;
    st->win_cpu_ns = cpu;
    st->win_idle_ns = 0;
}

static int stopped(struct event_base *base)
{
    return event_base_got_break(base) || event_base_got_exit(base);
}

/* Non-blocking passes until busy-poll-us passes without an event, polling stops being
 * justified, or the loop is told to stop.  Returns 0 to go on to a blocking wait, or what
 * srv_loop_run must return. */
static int poll_for_work(struct event_base *base, const int *busy_poll_us, int min_busy_pct,
                         srv_loop_stats *st)
{
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    uint64_t last_work = now;
    for (;;) {
        int span_us = *busy_poll_us;
        if (span_us <= 0 || !st->polling || now - last_work >= (uint64_t)span_us * 1000u) return 0;
        event_base_get_max_events(base, EVENT_BASE_COUNT_ACTIVE, 1);
        int rc = event_base_loop(base, EVLOOP_NONBLOCK);
        if (rc != 0) return rc;
        int worked = event_base_get_max_events(base, EVENT_BASE_COUNT_ACTIVE, 0) > 0;
        if (worked) st->poll_hits++;
        if (stopped(base)) return -2;
        if (!worked) sched_yield();
        uint64_t t = clock_ns(CLOCK_MONOTONIC);
        if (worked) {
            last_work = t;
        } else {
            st->poll_idle_ns += t - now;
            st->win_idle_ns += t - now;
        }
        now = t;
        window_roll(st, now, min_busy_pct);
    }
}

int srv_loop_run(struct event_base *base, const int *busy_poll_us, int min_busy_pct,
                 srv_loop_stats *st)
{
    memset(st, 0, sizeof *st);
    st->win_start_ns = clock_ns(CLOCK_MONOTONIC);
    st->win_cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    st->polling = min_busy_pct <= 0; /* otherwise from the end of the first window */
    for (;;) {
        int rc = event_base_loop(base, EVLOOP_ONCE);
        if (rc != 0) return rc;
        if (stopped(base)) return 0;
        window_roll(st, clock_ns(CLOCK_MONOTONIC), min_busy_pct);
        rc = poll_for_work(base, busy_poll_us, min_busy_pct, st);
        if (rc == -2) return 0;
        if (rc != 0) return rc;
    }
}
