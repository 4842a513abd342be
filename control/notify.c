/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * systemd's service notification (sd_notify(3)) for a Type=notify unit:
 * READY=1 once ports, workers and the control socket are up, STATUS= lines
 * (at start, every CP_NOTIFY_STATUS_US and at stop), STOPPING=1 when the
 * daemon starts to wind down, and WATCHDOG=1 at half of $WATCHDOG_USEC.
 *
 * A watchdog ping is sent only when every worker's loop counter advanced
 * since the previous check: a worker stuck in a loop (or parked by the
 * test-only tunable test_stall) stops the pings, so systemd restarts the
 * daemon, while the control thread alone staying alive proves nothing
 * about the dataplane.
 *
 * Without $NOTIFY_SOCKET (not started by systemd) every call is a no-op.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>

#include "cp.h"
#include "conn.h"
#include "router_api.h"

#define CP_NOTIFY_STATUS_US 10000000u /* us: STATUS= refresh while running */

struct cp_notify {
	struct cp_ctx *cp;
	uint64_t wd_half_us;          /* 0: no watchdog asked for */
	uint64_t loops[DP_MAX_WORKERS]; /* each worker's loops at the last check */
	struct cp_timer wd_timer;
	struct cp_timer status_timer;
};

/* "routing: N connectors, M sessions" for STATUS= and the journal. */
static void send_status(struct cp_ctx *cp, const char *state)
{
	sd_notifyf(0, "STATUS=%s: %u connectors, %u sessions", state,
		   (unsigned)dp_conn_count(cp->rt), cp_sessions_up(cp));
}

/* Every worker advanced since the last call (and the baseline moves on). */
static int workers_progress(struct cp_notify *n)
{
	uint64_t now[DP_MAX_WORKERS];
	unsigned w, nw = n->cp->rt->n_workers;
	int all = 1;

	dp_router_worker_loops(n->cp->rt, now);
	for (w = 0; w < nw; w++) {
		if (now[w] == n->loops[w])
			all = 0;
		n->loops[w] = now[w];
	}
	return all;
}

static void on_watchdog(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_notify *n = t->arg;

	/* A stalled worker: no ping, and systemd's deadline runs out. The
	 * check goes on, so a worker that recovers in time resumes them. */
	if (workers_progress(n))
		sd_notify(0, "WATCHDOG=1");
	cp_timer_arm(l, t, now + n->wd_half_us);
}

static void on_status(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_notify *n = t->arg;

	send_status(n->cp, "routing");
	cp_timer_arm(l, t, now + CP_NOTIFY_STATUS_US);
}

int cp_notify_ready(struct cp_ctx *cp)
{
	struct cp_notify *n;
	uint64_t usec = 0;
	const char *sock = getenv("NOTIFY_SOCKET");

	if (sock == NULL || sock[0] == '\0')
		return 0;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	n->cp = cp;
	cp_timer_init(&n->wd_timer, on_watchdog, n);
	cp_timer_init(&n->status_timer, on_status, n);
	/* > 0 only when $WATCHDOG_USEC is set (and $WATCHDOG_PID is us). */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		n->wd_half_us = usec / 2 > 0 ? usec / 2 : 1;
	cp->notify = n;
	/* The baseline: the first ping needs progress after this point. */
	workers_progress(n);
	sd_notifyf(0, "READY=1\nSTATUS=routing: %u connectors, %u sessions",
		   (unsigned)dp_conn_count(cp->rt), cp_sessions_up(cp));
	if (n->wd_half_us != 0)
		cp_timer_arm(cp->loop, &n->wd_timer, cp_now_us() + n->wd_half_us);
	cp_timer_arm(cp->loop, &n->status_timer, cp_now_us() + CP_NOTIFY_STATUS_US);
	return 0;
}

void cp_notify_stopping(struct cp_ctx *cp)
{
	struct cp_notify *n = cp->notify;

	if (n == NULL)
		return;
	/* No pings while winding down: a drain is bounded by its own timeout
	 * and the unit's TimeoutStopSec= bounds the rest. */
	cp_timer_cancel(cp->loop, &n->wd_timer);
	cp_timer_cancel(cp->loop, &n->status_timer);
	sd_notifyf(0, "STOPPING=1\nSTATUS=stopping: %u connectors, %u sessions",
		   (unsigned)dp_conn_count(cp->rt), cp_sessions_up(cp));
}

void cp_notify_fini(struct cp_ctx *cp)
{
	struct cp_notify *n = cp->notify;

	if (n == NULL)
		return;
	cp_timer_cancel(cp->loop, &n->wd_timer);
	cp_timer_cancel(cp->loop, &n->status_timer);
	send_status(cp, "stopped");
	free(n);
	cp->notify = NULL;
}
