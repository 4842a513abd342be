/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session state machine and its one timer per session (see session.h).
 * Pure: the dataplane is reached through struct cp_session_ops only.
 *
 * Keepalives do not move the timer: they only stamp last_rx_us, and the
 * failure-detection timer, when it fires, re-arms itself for
 * last_rx_us + dead_us if the session turns out alive. So a keepalive
 * costs a store, and a live session costs one timer event per dead
 * interval.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/compiler.h>

#include "backoff.h"
#include "log.h"
#include "session.h"

static uint32_t sess_id(const struct cp_sessions *ss, const struct cp_session *s)
{
	return (uint32_t)(s - ss->s);
}

static void set_pending(struct cp_sessions *ss, struct cp_session *s, int pending)
{
	if (s->log_pending == !!pending)
		return;
	s->log_pending = !!pending;
	if (pending)
		ss->log_pending++;
	else
		ss->log_pending--;
}

/*
 * A session line (up, down) under gwart.session, rate limited per
 * connector: a line refused is counted, and the next one written says how
 * many were not and what to do about a connector that flaps.
 */
static void sess_log(struct cp_sessions *ss, struct cp_session *s, unsigned level, uint64_t now,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void sess_log(struct cp_sessions *ss, struct cp_session *s, unsigned level, uint64_t now,
		     const char *fmt, ...)
{
	uint64_t interval = (uint64_t)ss->set->log_flap_interval_s * 1000000u, supp = 0;
	uint32_t id = sess_id(ss, s);
	char what[256];
	va_list ap;

	if (!cp_log_enabled(CP_LOG_SESSION, level))
		return;
	if (!cp_ratelimit_allow(&s->log_rl, now, interval, CP_SESS_LOG_BURST, &supp)) {
		ss->log_suppressed++;
		set_pending(ss, s, 1);
		return;
	}
	set_pending(ss, s, 0);
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (supp == 0)
		cp_log(CP_LOG_SESSION, level, "connector %u: %s", id, what);
	else
		cp_log(CP_LOG_SESSION, level < CP_LOG_WARNING ? level : CP_LOG_WARNING,
		       "connector %u: %s; it flaps: %llu session change(s) not logged in the "
		       "last %llu s (check the connector's process and the path to it; "
		       "gwartctl sessions %u)",
		       id, what, (unsigned long long)supp,
		       (unsigned long long)((now - s->log_last_us + 500000) / 1000000u), id);
	s->log_last_us = now;
}

void cp_sessions_log_flush(struct cp_sessions *ss, uint64_t now)
{
	uint64_t interval = (uint64_t)ss->set->log_flap_interval_s * 1000000u;
	uint32_t id;

	if (ss->log_pending == 0)
		return;
	for (id = 0; id < ss->n_ids && ss->log_pending != 0; id++) {
		struct cp_session *s = &ss->s[id];

		if (!s->log_pending ||
		    !cp_ratelimit_ready(&s->log_rl, now, interval, CP_SESS_LOG_BURST))
			continue;
		if (s->state == CP_SESS_UP)
			sess_log(ss, s, CP_LOG_WARNING, now, "session up, epoch %u, for %llu s", s->epoch,
				 (unsigned long long)((now - s->up_since_us) / 1000000u));
		else
			sess_log(ss, s, CP_LOG_WARNING, now, "session down for %llu s, probing it",
				 (unsigned long long)((now - s->down_since_us) / 1000000u));
	}
}

/* The session's next deadline, 0 for none: failure detection while up,
 * the next probe while down (when there is an address to probe), the next
 * custody read while draining. */
static uint64_t deadline(const struct cp_sessions *ss, const struct cp_session *s)
{
	uint64_t d = 0;

	if (s->state == CP_SESS_UP)
		d = s->last_rx_us + ss->dead_us;
	else if (s->next_probe_us != 0 && !s->no_address)
		d = s->next_probe_us;
	if (s->draining && (d == 0 || s->drain_check_us < d))
		d = s->drain_check_us;
	return d;
}

static void rearm(struct cp_sessions *ss, struct cp_session *s)
{
	uint64_t d = deadline(ss, s);

	if (d == 0)
		cp_timer_cancel(ss->loop, &s->timer);
	else if (cp_timer_arm(ss->loop, &s->timer, d) != 0)
		/* Out of memory for the heap: retried at the next event of
		 * this session; say so rather than lose it silently. */
		cp_log(CP_LOG_SESSION, CP_LOG_ERR, "connector %u: cannot arm its timer (out of "
		       "memory): it is retried at the session's next event", sess_id(ss, s));
}

static void on_timer(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_session *s = caa_container_of(t, struct cp_session, timer);
	struct cp_sessions *ss = t->arg;
	uint32_t id = sess_id(ss, s);

	(void)l;
	if (s->state == CP_SESS_UP && now - s->last_rx_us >= ss->dead_us)
		cp_sess_close(ss, id, CP_CLOSE_TIMEOUT, now);
	else if (s->state == CP_SESS_DOWN && s->next_probe_us != 0 && !s->no_address &&
		 now >= s->next_probe_us) {
		if (ss->ops->probe(ss->arg, id) == 0) {
			cp_log(CP_LOG_SESSION, CP_LOG_DEBUG, "connector %u: reconnection probe %u",
			       id, s->probe_attempt);
			s->probe_attempt++;
			s->last_delay_us = cp_sess_backoff_us(ss, s->probe_attempt);
			s->next_probe_us = now + s->last_delay_us;
		} else {
			/* Never had a session: nothing to probe until it says
			 * HELLO (which opens one). */
			s->no_address = 1;
		}
	}
	if (s->draining && now >= s->drain_check_us) {
		if (ss->ops->custody(ss->arg, id) == 0)
			s->draining = 0;
		else
			s->drain_check_us = now + CP_SESS_DRAIN_CHECK_US;
	}
	rearm(ss, s);
}

int cp_sessions_init(struct cp_sessions *ss, uint32_t n_ids, struct cp_loop *loop,
		     const struct cp_settings *set, const struct cp_session_ops *ops, void *arg)
{
	uint32_t i;

	memset(ss, 0, sizeof(*ss));
	ss->s = calloc(n_ids, sizeof(*ss->s));
	if (ss->s == NULL)
		return -ENOMEM;
	ss->n_ids = n_ids;
	ss->loop = loop;
	ss->set = set;
	ss->ops = ops;
	ss->arg = arg;
	ss->dead_us = 3000000;
	ss->rng = cp_now_us() * 0x9E3779B97F4A7C15ull | 1;
	for (i = 0; i < n_ids; i++)
		cp_timer_init(&ss->s[i].timer, on_timer, ss);
	return 0;
}

void cp_sessions_fini(struct cp_sessions *ss)
{
	uint32_t i;

	if (ss->s == NULL)
		return;
	for (i = 0; i < ss->n_ids; i++)
		cp_timer_cancel(ss->loop, &ss->s[i].timer);
	free(ss->s);
	ss->s = NULL;
}

void cp_sessions_set_dead_us(struct cp_sessions *ss, uint64_t dead_us)
{
	ss->dead_us = dead_us;
}

void cp_sess_retime(struct cp_sessions *ss, uint32_t id)
{
	if (ss->s[id].state == CP_SESS_UP)
		rearm(ss, &ss->s[id]);
}

unsigned cp_sessions_up_now(const struct cp_sessions *ss)
{
	return (unsigned)(ss->ups - ss->downs);
}

uint64_t cp_sess_backoff_us(struct cp_sessions *ss, unsigned attempt)
{
	const struct cp_backoff b = {
		.initial_us = (uint64_t)ss->set->backoff_initial_ms * 1000u,
		.mult_pct = ss->set->backoff_mult_pct,
		.jitter_pct = ss->set->backoff_jitter_pct,
		.max_us = (uint64_t)ss->set->backoff_max_ms * 1000u,
	};

	return cp_backoff_us(&b, attempt, &ss->rng);
}

void cp_sess_reset(struct cp_sessions *ss, uint32_t id)
{
	struct cp_session *s = &ss->s[id];

	cp_timer_cancel(ss->loop, &s->timer);
	set_pending(ss, s, 0);
	memset(s, 0, sizeof(*s));
	cp_timer_init(&s->timer, on_timer, ss);
}

void cp_sess_open(struct cp_sessions *ss, uint32_t id, uint32_t epoch, uint64_t now)
{
	struct cp_session *s = &ss->s[id];

	if (s->state == CP_SESS_UP)
		cp_sess_close(ss, id, CP_CLOSE_REPLACED, now);
	s->state = CP_SESS_UP;
	s->epoch = epoch;
	s->last_rx_us = now;
	s->up_since_us = now;
	s->opens++;
	s->probe_attempt = 0;
	s->next_probe_us = 0;
	s->no_address = 0;
	ss->ups++;
	rearm(ss, s);
	sess_log(ss, s, CP_LOG_NOTICE, now, "session up, epoch %u", epoch);
}

void cp_sess_close(struct cp_sessions *ss, uint32_t id, enum cp_close_why why, uint64_t now)
{
	struct cp_session *s = &ss->s[id];

	if (s->state != CP_SESS_UP)
		return;
	s->state = CP_SESS_DOWN;
	s->down_since_us = now;
	s->closes++;
	ss->downs++;
	if (why == CP_CLOSE_TIMEOUT)
		s->timeouts++;
	else if (why == CP_CLOSE_BYE)
		s->byes++;
	/* Workers stop transmitting to it and hold its messages in custody;
	 * a replaced session is republished by the caller instead. */
	if (why != CP_CLOSE_REPLACED)
		ss->ops->down(ss->arg, id);
	/* Start reconnecting: the first probe after one backoff delay (a
	 * connector that said BYE is probed too: it may come back). */
	s->probe_attempt = 0;
	s->last_delay_us = cp_sess_backoff_us(ss, 0);
	s->next_probe_us = now + s->last_delay_us;
	s->no_address = 0;
	rearm(ss, s);
	if (why == CP_CLOSE_TIMEOUT)
		sess_log(ss, s, CP_LOG_WARNING, now,
			 "session down (no keepalive for %llu ms), epoch %u: check the connector's "
			 "process and the path to it; probing it",
			 (unsigned long long)(ss->dead_us / 1000u), s->epoch);
	else
		sess_log(ss, s, CP_LOG_NOTICE, now, "session down (%s), epoch %u%s",
			 why == CP_CLOSE_BYE ? "bye" : why == CP_CLOSE_ADMIN ? "operator" : "replaced",
			 s->epoch, why == CP_CLOSE_REPLACED ? "" : "; probing it");
}

void cp_sess_rx(struct cp_sessions *ss, uint32_t id, uint64_t now)
{
	ss->s[id].last_rx_us = now;
}

void cp_sess_reconnect(struct cp_sessions *ss, uint32_t id, uint64_t now)
{
	struct cp_session *s = &ss->s[id];

	if (s->state == CP_SESS_UP)
		cp_sess_close(ss, id, CP_CLOSE_ADMIN, now);
	/* Probe right away rather than after a backoff delay. */
	s->next_probe_us = now;
	s->no_address = 0;
	rearm(ss, s);
}

void cp_sess_set_draining(struct cp_sessions *ss, uint32_t id, int draining, uint64_t now)
{
	struct cp_session *s = &ss->s[id];

	s->draining = draining ? 1 : 0;
	/* First custody read on the next iteration, as the old 100 ms tick
	 * would have done at the latest. */
	s->drain_check_us = now;
	rearm(ss, s);
}
