/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_loop.c: server/loop.c: the busy share arithmetic, and the loop on a real event base driven
 * by chains of short timers: stopping (loopbreak, loopexit, no events left), polling that picks
 * events up without sleeping (counted in voluntary context switches), busy-poll-us 0 and a
 * change of it at run time, an idle loop that never polls, a busy one that starts to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <event2/event.h>
#include <string.h>
#include <time.h>

#include "server/loop.h"

#define MS 1000000ull

/* A chain of `left` timer events `gap_us` apart; each may burn CPU, and the last one stops the
 * loop (break or exit). */
typedef struct chain {
    struct event_base *base;
    struct event *ev;
    int left, ticks;
    int gap_us;
    uint64_t burn_ns;      /* thread CPU time to spend in each tick */
    int use_exit;          /* stop with loopexit instead of loopbreak */
    int *busy_poll_us;     /* set to 0 at tick `change_at` (when > 0) */
    int change_at;
    uint64_t hits_at_change;
    srv_loop_stats *st;
    int saw_polling;
} chain;

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void arm(chain *c)
{
    struct timeval tv = {0, c->gap_us};
    evtimer_add(c->ev, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    chain *c = arg;
    c->ticks++;
    if (c->burn_ns) {
        uint64_t until = thread_ns() + c->burn_ns;
        while (thread_ns() < until) {
        }
    }
    if (c->st && c->st->polling) c->saw_polling = 1;
    if (c->change_at && c->ticks == c->change_at) {
        *c->busy_poll_us = 0;
        c->hits_at_change = c->st->poll_hits;
    }
    if (--c->left > 0) {
        arm(c);
    } else if (c->use_exit) {
        event_base_loopexit(c->base, NULL);
    } else {
        event_base_loopbreak(c->base);
    }
}

/* libevent reads a coarse clock (4 ms steps here) unless asked for a precise one; the chains
 * need timers a fraction of a millisecond apart. */
static struct event_base *precise_base(void)
{
    struct event_config *cfg = event_config_new();
    assert_non_null(cfg);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    struct event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

static void chain_init(chain *c, int ticks, int gap_us)
{
    memset(c, 0, sizeof *c);
    c->base = precise_base();
    assert_non_null(c->base);
    c->ev = evtimer_new(c->base, on_tick, c);
    assert_non_null(c->ev);
    c->left = ticks;
    c->gap_us = gap_us;
}

static int chain_run(chain *c, int *busy_poll_us, int min_busy_pct, srv_loop_stats *st)
{
    c->st = st;
    c->busy_poll_us = busy_poll_us;
    arm(c);
    return srv_loop_run(c->base, busy_poll_us, min_busy_pct, st);
}

static void chain_free(chain *c)
{
    event_free(c->ev);
    event_base_free(c->base);
}

static void test_busy_pct(void **state)
{
    (void)state;
    assert_int_equal(srv_loop_busy_pct(5 * MS, 0, 0), 0);            /* empty window */
    assert_int_equal(srv_loop_busy_pct(7 * MS, 0, 10 * MS), 70);
    assert_int_equal(srv_loop_busy_pct(10 * MS, 4 * MS, 10 * MS), 60); /* polling is not work */
    assert_int_equal(srv_loop_busy_pct(2 * MS, 3 * MS, 10 * MS), 0);   /* never below 0 */
    assert_int_equal(srv_loop_busy_pct(12 * MS, 0, 10 * MS), 100);     /* never above 100 */
    assert_int_equal(srv_loop_busy_pct(4999999, 0, 10 * MS), 49);      /* rounds down */
}

static void test_no_events_returns_1(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    int busy = 50;
    srv_loop_stats st;
    assert_int_equal(srv_loop_run(base, &busy, 0, &st), 1);
    event_base_free(base);
}

/* Timers 200 us apart are handled by the poll, without one sleep; loopbreak inside the poll
 * ends the run. */
static void test_poll_takes_close_events_without_sleeping(void **state)
{
    (void)state;
    chain c;
    srv_loop_stats st;
    int busy = 5000;
    chain_init(&c, 50, 200);
    uint64_t sleeps = srv_loop_sleeps();
    assert_int_equal(chain_run(&c, &busy, 0, &st), 0);
    sleeps = srv_loop_sleeps() - sleeps;
    assert_int_equal(c.ticks, 50);
    assert_true(st.poll_hits >= 25);
    assert_true(st.poll_idle_ns > 0);
    assert_true(sleeps <= 5);
    chain_free(&c);

    /* the same chain without polling sleeps before nearly every tick */
    busy = 0;
    chain_init(&c, 50, 200);
    sleeps = srv_loop_sleeps();
    assert_int_equal(chain_run(&c, &busy, 0, &st), 0);
    sleeps = srv_loop_sleeps() - sleeps;
    assert_int_equal(c.ticks, 50);
    assert_int_equal(st.poll_hits, 0);
    assert_int_equal(st.poll_idle_ns, 0);
    assert_true(sleeps >= 25);
    chain_free(&c);
}

static void test_loopexit_inside_poll(void **state)
{
    (void)state;
    chain c;
    srv_loop_stats st;
    int busy = 5000;
    chain_init(&c, 10, 100);
    c.use_exit = 1;
    assert_int_equal(chain_run(&c, &busy, 0, &st), 0);
    assert_int_equal(c.ticks, 10);
    assert_true(st.poll_hits > 0); /* the exit came while polling */
    chain_free(&c);
}

/* busy-poll-us read at every poll: set to 0 from a callback, polling stops at once. */
static void test_busy_poll_changed_at_run_time(void **state)
{
    (void)state;
    chain c;
    srv_loop_stats st;
    int busy = 5000;
    chain_init(&c, 40, 200);
    c.change_at = 20;
    assert_int_equal(chain_run(&c, &busy, 0, &st), 0);
    assert_int_equal(c.ticks, 40);
    assert_true(c.hits_at_change >= 10);
    assert_true(st.poll_hits <= c.hits_at_change + 1); /* at most the pass that changed it */
    chain_free(&c);
}

/* A loop with little to do (a tick every 2 ms) never polls under the production threshold. */
static void test_idle_loop_never_polls(void **state)
{
    (void)state;
    chain c;
    srv_loop_stats st;
    int busy = 1000;
    chain_init(&c, 40, 2000);
    assert_int_equal(chain_run(&c, &busy, SRV_LOOP_MIN_BUSY_PCT, &st), 0);
    assert_int_equal(c.ticks, 40);
    assert_int_equal(c.saw_polling, 0);
    assert_int_equal(st.poll_hits, 0);
    assert_int_equal(st.poll_idle_ns, 0);
    assert_true(st.busy_pct < SRV_LOOP_MIN_BUSY_PCT);
    chain_free(&c);
}

/* Ticks that each burn 1 ms of CPU 100 us apart keep the thread over 90 % busy: after a window
 * or two the loop polls, and the busy share it reports excludes the polling. */
static void test_busy_loop_starts_polling(void **state)
{
    (void)state;
    chain c;
    srv_loop_stats st;
    int busy = 1000;
    chain_init(&c, 60, 100);
    c.burn_ns = MS;
    assert_int_equal(chain_run(&c, &busy, SRV_LOOP_MIN_BUSY_PCT, &st), 0);
    assert_int_equal(c.ticks, 60);
    assert_int_equal(c.saw_polling, 1);
    assert_true(st.poll_hits > 0);
    assert_true(st.busy_pct >= SRV_LOOP_MIN_BUSY_PCT);
    chain_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_pct),
        cmocka_unit_test(test_no_events_returns_1),
        cmocka_unit_test(test_poll_takes_close_events_without_sleeping),
        cmocka_unit_test(test_loopexit_inside_poll),
        cmocka_unit_test(test_busy_poll_changed_at_run_time),
        cmocka_unit_test(test_idle_loop_never_polls),
        cmocka_unit_test(test_busy_loop_starts_polling),
    };
    return cmocka_run_group_tests_name("server/loop", tests, NULL, NULL);
}
