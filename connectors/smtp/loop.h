/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-smtp's event loop, in the manner of Redis's ae.c: one poll() over
 * the descriptors registered with it, each with its callback, and a list
 * of "tick" callbacks run every turn that say how soon they want the next
 * one (their timers). Every function takes the loop first; callbacks are
 * typedefs. Nothing here allocates after gs_loop_new() except when the
 * table of descriptors grows (bounded by the caller's own limits).
 *
 * Threading: one thread; callbacks run inside gs_loop_once(). A callback
 * may add and delete descriptors (its own included) freely.
 */
#ifndef GWART_SMTP_LOOP_H
#define GWART_SMTP_LOOP_H

#include <poll.h>
#include <stdint.h>

struct gs_loop;

/* @revents as poll() returned them (POLLIN, POLLOUT, POLLERR, POLLHUP). */
typedef void (*gs_fd_fn)(struct gs_loop *l, int fd, int revents, void *arg);
/* Runs every turn with the monotonic time; returns the milliseconds until
 * it wants to run again (-1: no timer of its own). */
typedef int (*gs_tick_fn)(struct gs_loop *l, uint64_t now_ms, void *arg);

struct gs_loop *gs_loop_new(void);
void gs_loop_free(struct gs_loop *l);

/* Watch @fd for @events (POLLIN|POLLOUT). 0, -EEXIST, -ENOMEM. */
int gs_loop_add(struct gs_loop *l, int fd, short events, gs_fd_fn fn, void *arg);
/* Change the events of a watched fd. */
void gs_loop_set(struct gs_loop *l, int fd, short events);
/* Stop watching @fd (before closing it). */
void gs_loop_del(struct gs_loop *l, int fd);

int gs_loop_tick(struct gs_loop *l, gs_tick_fn fn, void *arg);

/* One turn: the ticks, then poll() for at most the smallest delay they
 * asked (and @max_ms), then the callbacks of the ready descriptors. 0 or
 * a negative errno of poll() (EINTR is 0: a signal ends the turn). */
int gs_loop_once(struct gs_loop *l, int max_ms);

/* Monotonic milliseconds. */
uint64_t gs_now_ms(void);

#endif
