/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's event loop, after Redis's ae.c: file descriptors
 * (epoll), one-shot timers kept in a min-heap, and pollers for sources that
 * are not file descriptors (the ring of session frames from the workers),
 * each with a poll interval. An iteration runs what is ready and then
 * sleeps until the earliest deadline: the next timer, the next poller due,
 * or an fd becoming ready. Every function takes the loop first; callbacks
 * are typedefs. Pure libc and Linux: no DPDK, so tests use it directly.
 *
 * Threading: one thread owns a loop; nothing here is thread-safe.
 */
#ifndef GWART_CP_LOOP_H
#define GWART_CP_LOOP_H

#include <signal.h>
#include <stdint.h>

struct cp_loop;

#define CP_LOOP_READ 1u   /* fd readable (EPOLLIN, hang-ups and errors included) */
#define CP_LOOP_WRITE 2u  /* fd writable (EPOLLOUT) */

/* Called with the readiness @mask (CP_LOOP_READ | CP_LOOP_WRITE). */
typedef void (*cp_loop_fd_fn)(struct cp_loop *l, int fd, unsigned mask, void *arg);
/* Returns the work it did; nonzero means "poll again without sleeping". */
typedef unsigned (*cp_loop_poll_fn)(struct cp_loop *l, void *arg);
/* A timer fired at @now_us; it is disarmed, the callback may re-arm it. */
struct cp_timer;
typedef void (*cp_timer_fn)(struct cp_loop *l, struct cp_timer *t, uint64_t now_us);
/* Around the sleep (RCU offline/online) and at the top of each iteration
 * (a quiescent state). */
typedef void (*cp_loop_hook_fn)(struct cp_loop *l, void *arg);

/* A timer, embedded in its owner's struct (caa_container_of gets back to
 * it): arming needs no allocation, and there is one per owner at most. */
struct cp_timer {
	uint64_t when_us;   /* deadline, monotonic us */
	unsigned slot;      /* heap position + 1; 0: not armed */
	cp_timer_fn fn;
	void *arg;
};

struct cp_loop_hooks {
	cp_loop_hook_fn each;          /* top of every iteration */
	cp_loop_hook_fn before_sleep;
	cp_loop_hook_fn after_sleep;
	void *arg;
};

/* Monotonic microseconds (the protocol core's dp_clock_mono_us()): the
 * loop's clock. */
uint64_t cp_now_us(void);

/* NULL when out of memory or out of file descriptors. */
struct cp_loop *cp_loop_create(void);
void cp_loop_destroy(struct cp_loop *l);
void cp_loop_set_hooks(struct cp_loop *l, const struct cp_loop_hooks *h);

/* Watch @fd for @mask (0: stop watching it but keep it registered is not a
 * thing: 0 removes it). Re-setting the same fd changes mask and callback.
 * 0 or negative errno. */
int cp_loop_fd_set(struct cp_loop *l, int fd, unsigned mask, cp_loop_fd_fn fn, void *arg);
/* Forget @fd (before closing it). */
void cp_loop_fd_del(struct cp_loop *l, int fd);

/* Call @fn at least every @interval_us while the loop runs (and at once
 * again when it reported work). Up to CP_LOOP_MAX_POLLERS. 0 or -ENOSPC. */
#define CP_LOOP_MAX_POLLERS 4
int cp_loop_poller_add(struct cp_loop *l, uint64_t interval_us, cp_loop_poll_fn fn, void *arg);

/* Timers: init once, then arm (insert or move) and cancel any number of
 * times; O(log n) each. Arming for a time already past fires it on the
 * next iteration. */
void cp_timer_init(struct cp_timer *t, cp_timer_fn fn, void *arg);
int cp_timer_arm(struct cp_loop *l, struct cp_timer *t, uint64_t when_us);
void cp_timer_cancel(struct cp_loop *l, struct cp_timer *t);
static inline int cp_timer_armed(const struct cp_timer *t)
{
	return t->slot != 0;
}
/* Armed timers (tests and gauges). */
unsigned cp_loop_timer_count(const struct cp_loop *l);
/* Fire every timer due at @now_us, earliest first; returns how many. The
 * loop calls it with its clock; tests call it with theirs. */
unsigned cp_loop_run_timers(struct cp_loop *l, uint64_t now_us);

/* One iteration: hooks, pollers, fds, timers; then sleep at most
 * @max_wait_us (less when a deadline comes first; none when work was done). */
void cp_loop_once(struct cp_loop *l, uint64_t max_wait_us);
/* Iterate until cp_loop_stop() or until *@quit (a signal flag) is set. */
void cp_loop_run(struct cp_loop *l, const volatile sig_atomic_t *quit);
void cp_loop_stop(struct cp_loop *l);

#endif
