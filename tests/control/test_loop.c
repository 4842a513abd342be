/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control event loop (control/loop.c), without an EAL: the timer heap
 * against a reference under random arms, moves and cancels; fd readiness
 * and interest changes; pollers' intervals; sleeping until the earliest
 * deadline; the hooks around the sleep.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "loop.h"

#define N_TIMERS 512

static struct cp_loop *loop;

static void setup(void)
{
	loop = cp_loop_create();
	cr_assert_not_null(loop);
}

static void teardown(void)
{
	cp_loop_destroy(loop);
}

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 30);

static struct {
	uint64_t fired_at[N_TIMERS];
	unsigned order[N_TIMERS];
	unsigned n;
} rec;

static void on_fire(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	(void)l;
	rec.fired_at[(uintptr_t)t->arg] = now;
	rec.order[rec.n++] = (unsigned)(uintptr_t)t->arg;
}

/* Random arms, re-arms and cancels; then every armed timer fires exactly
 * once, in deadline order, and no cancelled one does. */
Test(loop, timer_heap_against_reference)
{
	static struct cp_timer t[N_TIMERS];
	uint64_t when[N_TIMERS] = {0}, rng = 88172645463325252ull;
	unsigned i, k, armed = 0;

	memset(&rec, 0, sizeof(rec));
	for (i = 0; i < N_TIMERS; i++)
		cp_timer_init(&t[i], on_fire, (void *)(uintptr_t)i);
	for (k = 0; k < 20000; k++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		i = (unsigned)(rng % N_TIMERS);
		if ((rng >> 20) % 4 == 0) {
			cp_timer_cancel(loop, &t[i]);
			when[i] = 0;
		} else {
			when[i] = 1 + (rng >> 32) % 1000000;
			cr_assert_eq(cp_timer_arm(loop, &t[i], when[i]), 0);
		}
	}
	for (i = 0; i < N_TIMERS; i++) {
		cr_assert_eq(cp_timer_armed(&t[i]), when[i] != 0, "timer %u", i);
		armed += when[i] != 0;
	}
	cr_assert_eq(cp_loop_timer_count(loop), armed);
	cr_assert_eq(cp_loop_run_timers(loop, 0), 0, "nothing due at 0");
	cr_assert_eq(cp_loop_run_timers(loop, 1000000), armed);
	cr_assert_eq(rec.n, armed);
	for (k = 1; k < rec.n; k++)
		cr_assert_leq(when[rec.order[k - 1]], when[rec.order[k]], "fired out of order");
	for (i = 0; i < N_TIMERS; i++)
		cr_assert_eq(rec.fired_at[i] != 0, when[i] != 0, "timer %u fired wrongly", i);
	cr_assert_eq(cp_loop_timer_count(loop), 0);
}

static void rearm_self(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	unsigned *n = t->arg;

	if (++*n < 3)
		cp_timer_arm(l, t, now + 10);
}

Test(loop, timer_rearms_from_callback)
{
	struct cp_timer t;
	unsigned n = 0;

	cp_timer_init(&t, rearm_self, &n);
	cp_timer_arm(loop, &t, 5);
	cr_assert_eq(cp_loop_run_timers(loop, 5), 1);
	cr_assert_eq(cp_loop_run_timers(loop, 14), 0, "re-armed for 15");
	cr_assert_eq(cp_loop_run_timers(loop, 15), 1);
	cr_assert_eq(cp_loop_run_timers(loop, 25), 1);
	cr_assert_eq(n, 3);
	cr_assert(!cp_timer_armed(&t));
}

static void rearm_now(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	unsigned *n = t->arg;

	++*n;
	cp_timer_arm(l, t, now);
}

/* A timer re-armed for a time already past waits for the next run: one
 * run does bounded work. */
Test(loop, timer_rearmed_in_the_past_waits)
{
	struct cp_timer t;
	unsigned n = 0;

	cp_timer_init(&t, rearm_now, &n);
	cp_timer_arm(loop, &t, 5);
	cr_assert_eq(cp_loop_run_timers(loop, 10), 1);
	cr_assert_eq(cp_loop_run_timers(loop, 10), 1);
	cr_assert_eq(n, 2);
	cp_timer_cancel(loop, &t);
}

static struct {
	unsigned calls, mask;
	unsigned polls, poll_work;
	unsigned sleeps, wakes, each;
} seen;

static void on_fd(struct cp_loop *l, int fd, unsigned mask, void *arg)
{
	char buf[16];

	(void)l;
	(void)arg;
	seen.calls++;
	seen.mask |= mask;
	if (mask & CP_LOOP_READ)
		cr_assert_gt(read(fd, buf, sizeof(buf)), 0);
}

Test(loop, fd_readiness_and_interest)
{
	int p[2];

	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(cp_loop_fd_set(loop, p[0], CP_LOOP_READ, on_fd, NULL), 0);
	cp_loop_once(loop, 0);
	cr_assert_eq(seen.calls, 0, "nothing to read yet");
	cr_assert_eq(write(p[1], "x", 1), 1);
	cp_loop_once(loop, 0);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(seen.mask, CP_LOOP_READ);
	/* Writable end: ready at once for WRITE, never for READ. */
	cr_assert_eq(cp_loop_fd_set(loop, p[1], CP_LOOP_WRITE, on_fd, NULL), 0);
	cp_loop_once(loop, 0);
	cr_assert_eq(seen.calls, 2);
	cr_assert_eq(seen.mask, CP_LOOP_READ | CP_LOOP_WRITE);
	/* Removed: no more calls. */
	cp_loop_fd_del(loop, p[1]);
	cp_loop_once(loop, 0);
	cr_assert_eq(seen.calls, 2);
	cr_assert_eq(cp_loop_fd_set(loop, p[1], 0, on_fd, NULL), 0, "mask 0 removes");
	close(p[0]);
	close(p[1]);
}

static unsigned poller(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	seen.polls++;
	if (seen.poll_work > 0) {
		seen.poll_work--;
		return 1;
	}
	return 0;
}

static void h_each(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	seen.each++;
}

static void h_sleep(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	seen.sleeps++;
}

static void h_wake(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	seen.wakes++;
}

/* A poller that reports work is called again without a sleep; an idle one
 * lets the loop sleep about its interval, with the sleep hooks around it. */
Test(loop, poller_interval_and_sleep)
{
	const struct cp_loop_hooks hooks = {
		.each = h_each, .before_sleep = h_sleep, .after_sleep = h_wake};
	uint64_t t0, dt;
	unsigned i;

	memset(&seen, 0, sizeof(seen));
	cp_loop_set_hooks(loop, &hooks);
	cr_assert_eq(cp_loop_poller_add(loop, 2000, poller, NULL), 0);
	seen.poll_work = 3;
	for (i = 0; i < 3; i++)
		cp_loop_once(loop, 1000000);
	cr_assert_eq(seen.polls, 3);
	cr_assert_eq(seen.sleeps, 0, "no sleep while the poller finds work");
	t0 = cp_now_us();
	cp_loop_once(loop, 1000000); /* idle poll, then sleeps <= 2 ms */
	cp_loop_once(loop, 1000000); /* the poller is due again */
	dt = cp_now_us() - t0;
	cr_assert_eq(seen.polls, 5);
	cr_assert_geq(seen.sleeps, 1);
	cr_assert_eq(seen.sleeps, seen.wakes);
	cr_assert_eq(seen.each, 5);
	cr_assert(dt >= 1500 && dt < 500000, "slept %llu us for a 2 ms interval",
		  (unsigned long long)dt);
}

/* The sleep ends at the earliest timer, well before the wait bound. */
Test(loop, sleeps_until_earliest_timer)
{
	struct cp_timer t;
	uint64_t t0 = cp_now_us(), dt;

	memset(&rec, 0, sizeof(rec));
	cp_timer_init(&t, on_fire, (void *)(uintptr_t)0);
	cp_timer_arm(loop, &t, t0 + 3000);
	while (rec.n == 0 && cp_now_us() - t0 < 1000000)
		cp_loop_once(loop, 1000000);
	dt = cp_now_us() - t0;
	cr_assert_eq(rec.n, 1);
	cr_assert(dt >= 3000 && dt < 500000, "fired after %llu us", (unsigned long long)dt);
}

static void stopper(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	(void)t;
	(void)now;
	cp_loop_stop(l);
}

Test(loop, run_until_stopped_or_quit)
{
	volatile sig_atomic_t quit = 1;
	struct cp_timer t;

	cp_loop_run(loop, &quit); /* returns at once */
	cp_timer_init(&t, stopper, NULL);
	cp_timer_arm(loop, &t, cp_now_us() + 1000);
	cp_loop_run(loop, NULL);
	cr_assert(!cp_timer_armed(&t));
}
