/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's event loop (see loop.h): an epoll set, a binary
 * min-heap of embedded timers and a few interval pollers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "loop.h"

#define LOOP_EVENTS 32

struct loop_fd {
	unsigned mask;   /* 0: not registered */
	cp_loop_fd_fn fn;
	void *arg;
};

struct loop_poller {
	uint64_t interval_us;
	uint64_t next_us;
	cp_loop_poll_fn fn;
	void *arg;
};

struct cp_loop {
	int epfd;
	int stop;
	struct loop_fd *fds;      /* indexed by fd */
	unsigned n_fds;
	struct cp_timer **heap;   /* heap[0] is the earliest */
	unsigned n_timers, cap_timers;
	struct loop_poller pollers[CP_LOOP_MAX_POLLERS];
	unsigned n_pollers;
	struct cp_loop_hooks hooks;
};

uint64_t cp_now_us(void)
{
	return dp_clock_mono_us();
}

struct cp_loop *cp_loop_create(void)
{
	struct cp_loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void cp_loop_destroy(struct cp_loop *l)
{
	if (l == NULL)
		return;
	close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

void cp_loop_set_hooks(struct cp_loop *l, const struct cp_loop_hooks *h)
{
	l->hooks = *h;
}

/* ---- file descriptors ------------------------------------------------------------ */

int cp_loop_fd_set(struct cp_loop *l, int fd, unsigned mask, cp_loop_fd_fn fn, void *arg)
{
	struct epoll_event ev = {.data.fd = fd};
	struct loop_fd *f;
	int op;

	if (fd < 0)
		return -EBADF;
	if (mask == 0) {
		cp_loop_fd_del(l, fd);
		return 0;
	}
	if ((unsigned)fd >= l->n_fds) {
		unsigned n = l->n_fds ? l->n_fds : 64;
		struct loop_fd *p;

		while (n <= (unsigned)fd)
			n *= 2;
		p = realloc(l->fds, n * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		memset(p + l->n_fds, 0, (n - l->n_fds) * sizeof(*p));
		l->fds = p;
		l->n_fds = n;
	}
	f = &l->fds[fd];
	op = f->mask == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	/* Only a changed interest costs a system call. */
	if (f->mask != mask) {
		ev.events = (mask & CP_LOOP_READ ? EPOLLIN : 0u) |
			    (mask & CP_LOOP_WRITE ? EPOLLOUT : 0u);
		if (epoll_ctl(l->epfd, op, fd, &ev) != 0)
			return -errno;
	}
	f->mask = mask;
	f->fn = fn;
	f->arg = arg;
	return 0;
}

void cp_loop_fd_del(struct cp_loop *l, int fd)
{
	if (fd < 0 || (unsigned)fd >= l->n_fds || l->fds[fd].mask == 0)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].mask = 0;
}

/* ---- pollers --------------------------------------------------------------------- */

int cp_loop_poller_add(struct cp_loop *l, uint64_t interval_us, cp_loop_poll_fn fn, void *arg)
{
	if (l->n_pollers == CP_LOOP_MAX_POLLERS)
		return -ENOSPC;
	l->pollers[l->n_pollers++] = (struct loop_poller){
		.interval_us = interval_us, .next_us = 0, .fn = fn, .arg = arg};
	return 0;
}

/* ---- timers: a binary min-heap on when_us ------------------------------------------ */

static void heap_put(struct cp_loop *l, unsigned i, struct cp_timer *t)
{
	l->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct cp_loop *l, unsigned i)
{
	struct cp_timer *t = l->heap[i];

	while (i > 0) {
		unsigned p = (i - 1) / 2;

		if (l->heap[p]->when_us <= t->when_us)
			break;
		heap_put(l, i, l->heap[p]);
		i = p;
	}
	heap_put(l, i, t);
}

static void sift_down(struct cp_loop *l, unsigned i)
{
	struct cp_timer *t = l->heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= l->n_timers)
			break;
		if (c + 1 < l->n_timers && l->heap[c + 1]->when_us < l->heap[c]->when_us)
			c++;
		if (t->when_us <= l->heap[c]->when_us)
			break;
		heap_put(l, i, l->heap[c]);
		i = c;
	}
	heap_put(l, i, t);
}

void cp_timer_init(struct cp_timer *t, cp_timer_fn fn, void *arg)
{
	t->when_us = 0;
	t->slot = 0;
	t->fn = fn;
	t->arg = arg;
}

int cp_timer_arm(struct cp_loop *l, struct cp_timer *t, uint64_t when_us)
{
	if (t->slot != 0) {
		unsigned i = t->slot - 1;
		uint64_t old = t->when_us;

		t->when_us = when_us;
		if (when_us < old)
			sift_up(l, i);
		else
			sift_down(l, i);
		return 0;
	}
	if (l->n_timers == l->cap_timers) {
		unsigned cap = l->cap_timers ? 2 * l->cap_timers : 64;
		struct cp_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (h == NULL)
			return -ENOMEM;
		l->heap = h;
		l->cap_timers = cap;
	}
	t->when_us = when_us;
	heap_put(l, l->n_timers++, t);
	sift_up(l, l->n_timers - 1);
	return 0;
}

void cp_timer_cancel(struct cp_loop *l, struct cp_timer *t)
{
	unsigned i;
	struct cp_timer *last;

	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	last = l->heap[--l->n_timers];
	if (i == l->n_timers)
		return;
	heap_put(l, i, last);
	if (i > 0 && l->heap[(i - 1) / 2]->when_us > last->when_us)
		sift_up(l, i);
	else
		sift_down(l, i);
}

unsigned cp_loop_timer_count(const struct cp_loop *l)
{
	return l->n_timers;
}

unsigned cp_loop_run_timers(struct cp_loop *l, uint64_t now_us)
{
	unsigned n = 0, max = l->n_timers;

	/* At most as many as were armed on entry: a callback that re-arms
	 * for a time already past runs again next iteration, not in a loop
	 * here (the socket's "serve the rest" timer does that on purpose). */
	while (n < max && l->n_timers > 0 && l->heap[0]->when_us <= now_us) {
		struct cp_timer *t = l->heap[0];

		cp_timer_cancel(l, t);
		t->fn(l, t, now_us);
		n++;
	}
	return n;
}

/* ---- iterations ------------------------------------------------------------------- */

/* The wait until @when from @now, no longer than @cap. */
static uint64_t until(uint64_t now, uint64_t when, uint64_t cap)
{
	uint64_t d = when > now ? when - now : 0;

	return d < cap ? d : cap;
}

void cp_loop_once(struct cp_loop *l, uint64_t max_wait_us)
{
	struct epoll_event ev[LOOP_EVENTS];
	uint64_t now = cp_now_us(), wait = max_wait_us;
	unsigned work = 0, i;
	struct timespec ts;
	int n;

	if (l->hooks.each != NULL)
		l->hooks.each(l, l->hooks.arg);
	for (i = 0; i < l->n_pollers; i++) {
		struct loop_poller *p = &l->pollers[i];

		if (now < p->next_us)
			continue;
		if (p->fn(l, p->arg) != 0) {
			work++;
			p->next_us = now; /* more may be waiting */
		} else {
			p->next_us = now + p->interval_us;
		}
	}
	/* After the pollers: frames waiting in the ring (keepalives) count
	 * before a session timer declares anyone dead. */
	work += cp_loop_run_timers(l, cp_now_us());
	if (work != 0) {
		wait = 0;
	} else {
		/* Until the earliest deadline: the next timer or poller. */
		now = cp_now_us();
		if (l->n_timers > 0)
			wait = until(now, l->heap[0]->when_us, wait);
		for (i = 0; i < l->n_pollers; i++)
			wait = until(now, l->pollers[i].next_us, wait);
	}
	ts.tv_sec = (time_t)(wait / 1000000u);
	ts.tv_nsec = (long)(wait % 1000000u) * 1000;
	if (wait != 0 && l->hooks.before_sleep != NULL)
		l->hooks.before_sleep(l, l->hooks.arg);
	n = epoll_pwait2(l->epfd, ev, LOOP_EVENTS, &ts, NULL);
	if (wait != 0 && l->hooks.after_sleep != NULL)
		l->hooks.after_sleep(l, l->hooks.arg);
	for (i = 0; n > 0 && i < (unsigned)n; i++) {
		int fd = ev[i].data.fd;
		unsigned mask = 0;
		struct loop_fd *f;

		if ((unsigned)fd >= l->n_fds || l->fds[fd].mask == 0)
			continue; /* deleted by an earlier callback of this batch */
		f = &l->fds[fd];
		if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			mask |= CP_LOOP_READ;
		if (ev[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			mask |= CP_LOOP_WRITE;
		mask &= f->mask;
		if (mask != 0)
			f->fn(l, fd, mask, f->arg);
	}
}

void cp_loop_run(struct cp_loop *l, const volatile sig_atomic_t *quit)
{
	l->stop = 0;
	while (!l->stop && (quit == NULL || !*quit))
		cp_loop_once(l, 1000000);
}

void cp_loop_stop(struct cp_loop *l)
{
	l->stop = 1;
}
