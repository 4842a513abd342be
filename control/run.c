/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's run: its context (cp_init/cp_fini), the event loop's
 * wiring (the session-frame poller, RCU quiescent states and offline sleep,
 * periodic statistics, the run's duration) and shutdown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu-qsbr.h>

#include "cp.h"
#include "frames.h"
#include "router_api.h"

#define CP_SHUTDOWN_CHECK_US 1000 /* us: custody re-read during a drain shutdown */

static unsigned frames_poller(struct cp_loop *l, void *arg)
{
	(void)l;
	return cp_frames_poll(arg);
}

/* The control thread is a QSBR reader: a quiescent state per iteration,
 * and offline while asleep so grace periods need not wait for it. */
static void hook_each(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	rcu_quiescent_state();
}

static void hook_sleep(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	rcu_thread_offline();
}

static void hook_wake(struct cp_loop *l, void *arg)
{
	(void)l;
	(void)arg;
	rcu_thread_online();
}

static void on_drain_check(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_ctx *cp = t->arg;

	if (cp_custody_total(cp) == 0 || now >= cp->shutdown_deadline_us)
		cp_loop_stop(l);
	else
		cp_timer_arm(l, t, now + CP_SHUTDOWN_CHECK_US);
}

static void on_stats(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_ctx *cp = t->arg;

	cp_stats_print(cp, stdout);
	fflush(stdout);
	cp_timer_arm(l, t, now + (uint64_t)cp->stats_interval_s * 1000000u);
}

static void on_end(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	(void)t;
	(void)now;
	cp_loop_stop(l);
}

int cp_init(struct cp_ctx *cp, struct dp_router *rt)
{
	const struct cp_loop_hooks hooks = {
		.each = hook_each, .before_sleep = hook_sleep, .after_sleep = hook_wake};
	int rc;

	cp->rt = rt;
	cp_settings_defaults(&cp->set);
	rc = cp_log_rte_init();
	if (rc != 0)
		return rc;
	/* Every HELLO and KEEPALIVE is authenticated here (libsodium's
	 * AES-256-GCM needs AES-NI and PCLMUL). */
	rc = gw_auth_init();
	if (rc != 0)
		return rc;
	cp->auth = calloc(DP_MAX_CONNECTORS, sizeof(*cp->auth));
	cp->hello_ctr_kept = calloc(DP_MAX_CONNECTORS, sizeof(*cp->hello_ctr_kept));
	if (cp->auth == NULL || cp->hello_ctr_kept == NULL) {
		rc = -ENOMEM;
		goto err_auth;
	}
	cp->loop = cp_loop_create();
	if (cp->loop == NULL) {
		rc = -ENOMEM;
		goto err_auth;
	}
	cp_loop_set_hooks(cp->loop, &hooks);
	rc = cp_sessions_init(&cp->sess, DP_MAX_CONNECTORS, cp->loop, &cp->set,
			      &cp_frames_session_ops, cp);
	if (rc != 0)
		goto err_loop;
	cp_sessions_set_dead_us(&cp->sess, (uint64_t)rt->tun->keepalive_ms *
						   rt->tun->keepalive_mult * 1000u);
	rc = cp_loop_poller_add(cp->loop, CP_FRAMES_POLL_US, frames_poller, cp);
	if (rc != 0)
		goto err_sess;
	cp_timer_init(&cp->drain_timer, on_drain_check, cp);
	cp_timer_init(&cp->stats_timer, on_stats, cp);
	cp_timer_init(&cp->end_timer, on_end, cp);
	cp_logwatch_init(cp);
	return 0;

err_sess:
	cp_sessions_fini(&cp->sess);
err_loop:
	cp_loop_destroy(cp->loop);
	cp->loop = NULL;
err_auth:
	free(cp->auth);
	cp->auth = NULL;
	free(cp->hello_ctr_kept);
	cp->hello_ctr_kept = NULL;
	return rc;
}

void cp_fini(struct cp_ctx *cp)
{
	uint32_t id;

	if (cp->loop == NULL)
		return;
	cp_sessions_fini(&cp->sess);
	cp_loop_destroy(cp->loop);
	cp->loop = NULL;
	/* Secrets are wiped, not just freed. */
	for (id = 0; id < DP_MAX_CONNECTORS; id++)
		cp_auth_destroy(cp->auth[id]);
	free(cp->auth);
	cp->auth = NULL;
	free(cp->hello_ctr_kept);
	cp->hello_ctr_kept = NULL;
}

void cp_ctl_run(struct cp_ctx *cp, volatile sig_atomic_t *quit, double duration_s,
		unsigned stats_interval_s)
{
	uint64_t now = cp_now_us();

	if (duration_s > 0)
		cp_timer_arm(cp->loop, &cp->end_timer, now + (uint64_t)(duration_s * 1e6));
	cp->stats_interval_s = stats_interval_s;
	if (stats_interval_s != 0)
		cp_timer_arm(cp->loop, &cp->stats_timer,
			     now + (uint64_t)stats_interval_s * 1000000u);
	cp_logwatch_start(cp);
	cp_loop_run(cp->loop, quit);
	cp_logwatch_stop(cp);
	cp_timer_cancel(cp->loop, &cp->end_timer);
	cp_timer_cancel(cp->loop, &cp->stats_timer);
	cp_timer_cancel(cp->loop, &cp->drain_timer);
}

int cp_shutdown(struct cp_ctx *cp, int drain, unsigned timeout_ms)
{
	cp_notify_stopping(cp);
	if (drain) {
		cp->shutdown_drain = 1;
		cp->shutdown_deadline_us = cp_now_us() + (uint64_t)timeout_ms * 1000u;
		dp_router_set_refuse(cp->rt, 1);
		return cp_timer_arm(cp->loop, &cp->drain_timer, cp_now_us());
	}
	cp_loop_stop(cp->loop);
	return 0;
}
