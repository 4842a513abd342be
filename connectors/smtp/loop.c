/* SPDX-License-Identifier: BSD-3-Clause */
/* gwart-smtp's poll() loop (loop.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"

#define TICKS_MAX 8

struct gs_watch {
	int fd;
	short events;
	gs_fd_fn fn;
	void *arg;
};

struct gs_loop {
	struct gs_watch *w;
	struct pollfd *pfd;
	unsigned n, cap;
	struct {
		gs_tick_fn fn;
		void *arg;
	} tick[TICKS_MAX];
	unsigned nticks;
};

uint64_t gs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct gs_loop *gs_loop_new(void)
{
	return calloc(1, sizeof(struct gs_loop));
}

void gs_loop_free(struct gs_loop *l)
{
	if (!l)
		return;
	free(l->w);
	free(l->pfd);
	free(l);
}

static int find(const struct gs_loop *l, int fd)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->w[i].fd == fd)
			return (int)i;
	return -1;
}

int gs_loop_add(struct gs_loop *l, int fd, short events, gs_fd_fn fn, void *arg)
{
	if (find(l, fd) >= 0)
		return -EEXIST;
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 16;
		struct gs_watch *w = realloc(l->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		l->w = w;
		struct pollfd *p = realloc(l->pfd, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		l->pfd = p;
		l->cap = cap;
	}
	l->w[l->n++] = (struct gs_watch){ fd, events, fn, arg };
	return 0;
}

void gs_loop_set(struct gs_loop *l, int fd, short events)
{
	int i = find(l, fd);

	if (i >= 0)
		l->w[i].events = events;
}

void gs_loop_del(struct gs_loop *l, int fd)
{
	int i = find(l, fd);

	if (i < 0)
		return;
	l->w[i] = l->w[--l->n];
}

int gs_loop_tick(struct gs_loop *l, gs_tick_fn fn, void *arg)
{
	if (l->nticks == TICKS_MAX)
		return -ENOSPC;
	l->tick[l->nticks].fn = fn;
	l->tick[l->nticks++].arg = arg;
	return 0;
}

int gs_loop_once(struct gs_loop *l, int max_ms)
{
	uint64_t now = gs_now_ms();
	int timeout = max_ms, r;
	unsigned n;

	for (unsigned i = 0; i < l->nticks; i++) {
		int t = l->tick[i].fn(l, now, l->tick[i].arg);

		if (t >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
	}
	/* A snapshot: callbacks may change the table while we walk it. */
	n = l->n;
	for (unsigned i = 0; i < n; i++) {
		l->pfd[i].fd = l->w[i].fd;
		l->pfd[i].events = l->w[i].events;
		l->pfd[i].revents = 0;
	}
	r = poll(l->pfd, n, timeout);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	for (unsigned i = 0; i < n && r > 0; i++) {
		struct pollfd p = l->pfd[i];
		int k;

		if (!p.revents)
			continue;
		r--;
		/* Still watched, and still the same watch? */
		k = find(l, p.fd);
		if (k < 0)
			continue;
		l->w[k].fn(l, p.fd, p.revents, l->w[k].arg);
	}
	return 0;
}
