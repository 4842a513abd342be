/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rate-limited log lines about what the workers did: once a second the
 * control thread reads the drop counters (the workers only count: no
 * syscall, no lock, no line on the fast path) and, for each reason that
 * rose, writes at most one line per log_drop_interval_s under
 * gwart.dataplane, saying how many, over how long, and what to do:
 *
 *   drops: 1234 AUTH_FAILED in the last 10 s (frames whose tag did not
 *   verify: check connector keys (gwartctl connectors: key_id); gwartctl
 *   stats); 9 similar lines suppressed
 *
 * A line counts every drop since the previous line of its reason; a rise
 * refused by the limit is a "similar line suppressed", and drops left
 * unreported when the reason goes quiet are written once the limit
 * allows, so the last line of a burst is never lost. The same tick
 * flushes the session summaries of flapping connectors (session.c).
 */
#include <stdio.h>
#include <string.h>

#include "cp.h"
#include "log.h"
#include "router_api.h"

static void drop_line(struct cp_logwatch *w, unsigned r, uint64_t cur, uint64_t now,
		      uint64_t supp)
{
	uint64_t secs = (now - w->base_us[r] + 500000) / 1000000u;
	char tail[64] = "";

	if (supp != 0)
		snprintf(tail, sizeof(tail), "; %llu similar line%s suppressed",
			 (unsigned long long)supp, supp == 1 ? "" : "s");
	cp_log(CP_LOG_DATAPLANE, CP_LOG_WARNING,
	       "drops: %llu %s in the last %llu s (%s; gwartctl stats)%s",
	       (unsigned long long)(cur - w->base[r]), dp_drop_name(r),
	       (unsigned long long)(secs != 0 ? secs : 1), dp_drop_advice(r), tail);
	w->lines++;
	w->base[r] = cur;
	w->base_us[r] = now;
}

static void on_tick(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_ctx *cp = t->arg;
	struct cp_logwatch *w = &cp->logwatch;
	uint64_t interval = (uint64_t)cp->set.log_drop_interval_s * 1000000u;
	int on = cp_log_enabled(CP_LOG_DATAPLANE, CP_LOG_WARNING);
	struct dp_worker_stats s;
	unsigned r;

	dp_router_stats(cp->rt, &s);
	for (r = 0; r < DP_DROP_COUNT; r++) {
		uint64_t cur = s.drops[r], supp = 0;
		int rose = cur != w->seen[r];

		w->seen[r] = cur;
		if (!on || cur == w->base[r]) {
			/* Nothing to report (or nobody to read it): the next
			 * line counts from here. */
			w->base[r] = cur;
			w->base_us[r] = now;
			continue;
		}
		if (rose) {
			if (cp_ratelimit_allow(&w->rl[r], now, interval, 1, &supp))
				drop_line(w, r, cur, now, supp);
			else
				w->suppressed++;
		} else if (cp_ratelimit_ready(&w->rl[r], now, interval, 1) &&
			   cp_ratelimit_allow(&w->rl[r], now, interval, 1, &supp)) {
			/* Quiet now, drops of the last rises unreported. */
			drop_line(w, r, cur, now, supp);
		}
	}
	cp_sessions_log_flush(&cp->sess, now);
	cp_timer_arm(l, t, now + CP_LOGWATCH_TICK_US);
}

void cp_logwatch_init(struct cp_ctx *cp)
{
	memset(&cp->logwatch, 0, sizeof(cp->logwatch));
	cp_timer_init(&cp->logwatch.timer, on_tick, cp);
}

int cp_logwatch_start(struct cp_ctx *cp)
{
	struct cp_logwatch *w = &cp->logwatch;
	uint64_t now = cp_now_us();
	struct dp_worker_stats s;
	unsigned r;

	/* Drops counted before (none at start-up; a test's own) are not news. */
	dp_router_stats(cp->rt, &s);
	for (r = 0; r < DP_DROP_COUNT; r++) {
		w->seen[r] = w->base[r] = s.drops[r];
		w->base_us[r] = now;
	}
	return cp_timer_arm(cp->loop, &w->timer, now + CP_LOGWATCH_TICK_US);
}

void cp_logwatch_stop(struct cp_ctx *cp)
{
	cp_timer_cancel(cp->loop, &cp->logwatch.timer);
}
