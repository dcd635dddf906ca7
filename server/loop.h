/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * loop.h: the node's event loop: libevent's, with a short busy poll while the node is busy.
 */
#ifndef SERVER_LOOP_H
#define SERVER_LOOP_H

#include <stdint.h>

struct event_base;

/* Share of a measuring window the loop must have spent working before it polls at all. */
#define SRV_LOOP_MIN_BUSY_PCT 50

/* Length of one measuring window. */
#define SRV_LOOP_WINDOW_NS (10u * 1000 * 1000)

/* What the loop measured.  The caller owns the storage (srv.loop); srv_loop_run fills it.
 * Fields after `polling` are the loop's own bookkeeping. */
typedef struct srv_loop_stats {
    uint64_t poll_hits;    /* poll passes that found an event to handle (a sleep saved) */
    uint64_t poll_idle_ns; /* time spent polling without finding one, sched_yield included */
    int busy_pct;          /* work share of the last completed window, polling excluded, 0..100 */
    int polling;           /* 1: that window was busy enough, the loop polls before sleeping */
    /* private */
    uint64_t win_start_ns, win_cpu_ns, win_idle_ns;
} srv_loop_stats;

/*
 * Run `base` until event_base_loopbreak or event_base_loopexit, as event_base_dispatch does,
 * except that after handling events, while the last window was at least `min_busy_pct` % busy,
 * it keeps polling (epoll with no time-out, sched_yield between empty passes) for up to
 * *busy_poll_us microseconds after the last event before it blocks.  *busy_poll_us is read at
 * every poll, so a new value (CONFIG SET) applies at once; 0 never polls.  min_busy_pct 0 polls
 * from the start, any other value from the end of the first window.  `st` is zeroed first.
 * Returns 0 when stopped by loopbreak/loopexit, 1 when no events remain, -1 on a libevent error.
 * Event-loop thread only.
 */
int srv_loop_run(struct event_base *base, const int *busy_poll_us, int min_busy_pct,
                 srv_loop_stats *st);

/*
 * Work share of a window in whole percent, 0..100: the thread's CPU time `cpu_ns` less the time
 * it spent polling for nothing `idle_ns` (never below 0), over the window's length `wall_ns`
 * (0 gives 0).  Pure; srv_loop_run uses it at the end of every window.
 */
int srv_loop_busy_pct(uint64_t cpu_ns, uint64_t idle_ns, uint64_t wall_ns);

/* Voluntary context switches of the calling thread (getrusage RUSAGE_THREAD): how often it
 * slept, nearly always in the wait for events.  INFO and /metrics report it. */
uint64_t srv_loop_sleeps(void);

#endif
