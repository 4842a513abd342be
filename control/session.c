/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sessions and connector lifecycle on the control thread: the per-connector
 * state machine (control/SESSIONS.md), failure detection (keepalive interval
 * x multiplier, as BFD), router-driven reconnection with exponential backoff
 * and jitter (gRPC's defaults, all tunable) that never gives up, and the
 * connector operations that need the workers' cooperation (delete).
 *
 * Q201280 (a connector that never reconnects) is ruled out because nothing
 * here waits for an operator: every path out of UP schedules a probe, and
 * every probe schedules the next. Q199817 (leaking session handles) is ruled
 * out because a session is a slot in a fixed table, opened and closed only
 * by cp_sess_open()/cp_sess_close(), whose counts are exported.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include <gwart/wire.h>

#include "backoff.h"
#include "conn.h"
#include "cp.h"
#include "pkt.h"
#include "route.h"
#include "router_api.h"
#include "session.h"

uint64_t cp_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void cp_log(struct cp_ctx *cp, unsigned level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char buf[256];
	va_list ap;

	if (cp->rt == NULL || level > cp->rt->tun->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gwartd: %.3f %s: %s\n", (double)cp_now_us() / 1e6,
		names[level > 3 ? 3 : level], buf);
}

int cp_init(struct cp_ctx *cp, struct dp_router *rt)
{
	cp->rt = rt;
	cp->sess = calloc(DP_MAX_CONNECTORS, sizeof(*cp->sess));
	if (cp->sess == NULL)
		return -ENOMEM;
	cp->rng = cp_now_us() * 0x9E3779B97F4A7C15ull | 1;
	return 0;
}

void cp_fini(struct cp_ctx *cp)
{
	free(cp->sess);
	cp->sess = NULL;
}

const struct cp_session *cp_session_get(const struct cp_ctx *cp, uint32_t id)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS || dp_conn_peek(cp->rt, id) == NULL)
		return NULL;
	return &cp->sess[id];
}

unsigned cp_sessions_up(const struct cp_ctx *cp)
{
	return (unsigned)(cp->stats.sessions_up - cp->stats.sessions_down);
}

uint64_t cp_session_backoff_us(struct cp_ctx *cp, unsigned attempt)
{
	const struct dp_tunables *t = cp->rt->tun;
	const struct cp_backoff b = {
		.initial_us = (uint64_t)t->backoff_initial_ms * 1000u,
		.mult_pct = t->backoff_mult_pct,
		.jitter_pct = t->backoff_jitter_pct,
		.max_us = (uint64_t)t->backoff_max_ms * 1000u,
	};

	return cp_backoff_us(&b, attempt, &cp->rng);
}

/* ---- the state machine --------------------------------------------------------
 * Only these two functions change state; each open is paired with one close. */

void cp_sess_open(struct cp_ctx *cp, uint32_t id, uint32_t epoch, uint64_t now)
{
	struct cp_session *s = &cp->sess[id];

	if (s->state == CP_SESS_UP)
		cp_sess_close(cp, id, CP_CLOSE_REPLACED, now);
	s->state = CP_SESS_UP;
	s->epoch = epoch;
	s->last_rx_us = now;
	s->up_since_us = now;
	s->opens++;
	s->probe_attempt = 0;
	s->next_probe_us = 0;
	cp->stats.sessions_up++;
	cp_log(cp, 2, "connector %u: session up, epoch %u", id, epoch);
}

void cp_sess_close(struct cp_ctx *cp, uint32_t id, enum cp_close_why why, uint64_t now)
{
	struct cp_session *s = &cp->sess[id];

	if (s->state != CP_SESS_UP)
		return;
	s->state = CP_SESS_DOWN;
	s->down_since_us = now;
	s->closes++;
	cp->stats.sessions_down++;
	if (why == CP_CLOSE_TIMEOUT)
		s->timeouts++;
	else if (why == CP_CLOSE_BYE)
		s->byes++;
	/* Workers stop transmitting to it and hold its messages in custody;
	 * a replaced session is republished by the caller instead. */
	if (why != CP_CLOSE_REPLACED)
		dp_conn_session_down(cp->rt, id);
	/* Start reconnecting: the first probe after one backoff delay (a
	 * connector that said BYE is probed too: it may come back). */
	s->probe_attempt = 0;
	s->last_delay_us = cp_session_backoff_us(cp, 0);
	s->next_probe_us = now + s->last_delay_us;
	cp_log(cp, why == CP_CLOSE_TIMEOUT ? 1 : 2, "connector %u: session down (%s), epoch %u",
	       id,
	       why == CP_CLOSE_TIMEOUT ? "no keepalive"
	       : why == CP_CLOSE_BYE   ? "bye"
	       : why == CP_CLOSE_ADMIN ? "operator"
				       : "replaced",
	       s->epoch);
}

void cp_sess_rx(struct cp_ctx *cp, uint32_t id, uint64_t now)
{
	cp->sess[id].last_rx_us = now;
}

/* A probe: KEEPALIVE with epoch 0 to the connector's last address means
 * "the router has no session for you: say HELLO" (PROTOCOL.md 12.3). */
static void send_probe(struct cp_ctx *cp, const struct dp_conn *c)
{
	struct dp_router *rt = cp->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = cp_now_us()};

	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac, c->ip_be,
			     c->udp_be, GW_HDR_LEN, &pl);
	if (m == NULL) {
		cp->stats.tx_failed++;
		return;
	}
	gw_wire_encode_keepalive(pl, GW_HDR_LEN, &h);
	cp->stats.probes++;
	cp_ctl_tx(cp, c->owner, c->port, m);
}

uint64_t cp_session_tick(struct cp_ctx *cp, uint64_t now)
{
	const struct dp_tunables *t = cp->rt->tun;
	uint64_t dead_us = (uint64_t)t->keepalive_ms * t->keepalive_mult * 1000u;
	uint64_t next = now + 100000; /* at least every 100 ms */
	uint32_t id;

	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(cp->rt, id);
		struct cp_session *s;

		if (c == NULL)
			continue;
		s = &cp->sess[id];
		if (s->state == CP_SESS_UP) {
			if (now - s->last_rx_us >= dead_us)
				cp_sess_close(cp, id, CP_CLOSE_TIMEOUT, now);
			else if (s->last_rx_us + dead_us < next)
				next = s->last_rx_us + dead_us;
		}
		if (s->state == CP_SESS_DOWN && s->next_probe_us != 0 && c->ip_be != 0) {
			if (now >= s->next_probe_us) {
				send_probe(cp, c);
				cp_log(cp, 3, "connector %u: reconnection probe %u", id,
				       s->probe_attempt);
				s->probe_attempt++;
				s->last_delay_us = cp_session_backoff_us(cp, s->probe_attempt);
				s->next_probe_us = now + s->last_delay_us;
			}
			if (s->next_probe_us < next)
				next = s->next_probe_us;
		}
		if (s->draining) {
			struct dp_conn_snap snap;

			if (dp_conn_snapshot(cp->rt, id, &snap) == 0 && snap.held == 0)
				s->draining = 0;
		}
	}
	return next;
}

/* ---- connector operations -------------------------------------------------- */

int cp_connector_add(struct cp_ctx *cp, uint32_t id, const char *name)
{
	int rc = dp_conn_create(cp->rt, id, name);

	if (rc == 0 && cp->sess != NULL)
		memset(&cp->sess[id], 0, sizeof(cp->sess[id]));
	return rc;
}

int cp_connector_enable(struct cp_ctx *cp, uint32_t id, int enabled)
{
	if (enabled && cp->sess != NULL && id < DP_MAX_CONNECTORS)
		cp->sess[id].draining = 0;
	return dp_conn_set_enabled(cp->rt, id, enabled);
}

int cp_connector_reconnect(struct cp_ctx *cp, uint32_t id)
{
	const struct dp_conn *c = dp_conn_peek(cp->rt, id);
	uint64_t now = cp_now_us();

	if (c == NULL)
		return -ENOENT;
	if (cp->sess[id].state == CP_SESS_UP)
		cp_sess_close(cp, id, CP_CLOSE_ADMIN, now);
	/* Probe right away rather than after a backoff delay. */
	cp->sess[id].next_probe_us = now;
	return 0;
}

int cp_connector_drain(struct cp_ctx *cp, uint32_t id)
{
	int rc = dp_conn_set_enabled(cp->rt, id, 0);

	if (rc == 0)
		cp->sess[id].draining = 1;
	return rc;
}

int cp_connector_custody(struct cp_ctx *cp, uint32_t id, uint32_t *held)
{
	struct dp_conn_snap snap;
	int rc = dp_conn_snapshot(cp->rt, id, &snap);

	if (rc == 0)
		*held = snap.held;
	return rc;
}

struct ref_scan {
	uint32_t id;
	int found;
};

static int route_refs(const struct dp_route *r, void *arg)
{
	struct ref_scan *rs = arg;
	unsigned i;

	for (i = 0; i < r->n_targets; i++)
		if (r->targets[i].conn_id == rs->id) {
			rs->found = 1;
			return 1;
		}
	return 0;
}

/*
 * Delete a connector: refused while a route names it (the route must go
 * first) or custody holds messages for it (drain first: nothing acknowledged
 * is dropped); then its session is closed and the dataplane removes it
 * (dp_conn_delete: unpublish, grace period, owner's acknowledgement, free).
 */
int cp_connector_del(struct cp_ctx *cp, uint32_t id)
{
	struct dp_router *rt = cp->rt;
	struct dp_conn_snap snap;
	struct ref_scan rs = {.id = id};
	unsigned lost;
	int rc;

	if (dp_conn_snapshot(rt, id, &snap) != 0)
		return -ENOENT;
	dp_route_foreach(rt->routes, route_refs, &rs);
	if (rs.found || snap.held != 0)
		return -EBUSY;
	cp_sess_close(cp, id, CP_CLOSE_ADMIN, cp_now_us());
	rc = dp_conn_delete(rt, id, &lost);
	if (rc == -ETIMEDOUT) {
		/* The owner did not answer: its state is leaked, the
		 * connector is gone all the same. */
		cp->stats.tx_failed++;
		rc = 0;
	}
	if (rc != 0)
		return rc;
	cp->stats.deleted_in_custody += lost;
	memset(&cp->sess[id], 0, sizeof(cp->sess[id]));
	return 0;
}

int cp_shutdown(struct cp_ctx *cp, int drain, unsigned timeout_ms)
{
	if (drain) {
		cp->shutdown_drain = 1;
		cp->shutdown_deadline_us = cp_now_us() + (uint64_t)timeout_ms * 1000u;
		dp_router_set_refuse(cp->rt, 1);
		return 0;
	}
	if (cp->quit != NULL)
		*cp->quit = 1;
	return 0;
}
