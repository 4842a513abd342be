/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control API handlers (see api.h). Each handler parses its arguments,
 * calls one cp_* action and describes the result; none changes state by
 * itself, so the config loader, the socket and the tests cannot disagree
 * about what an operation does. Messages name the object, because the
 * operator reading them typed many at once (gwartctl batch).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_cycles.h>

#include <gwart/auth.h>
#include <gwart/ctl.h>

#include "api.h"
#include "capture.h"
#include "conn.h"
#include "cp.h"
#include "metrics.h"
#include "reload.h"
#include "route.h"
#include "router_api.h"
#include "sock.h"

#ifndef GWART_VERSION
#define GWART_VERSION "unknown"
#endif

struct api_req {
	struct cp_ctx *cp;
	json_t *args;     /* always an object */
	json_t *result;   /* set by the handler on success (NULL: null) */
	char err[256];    /* set by the handler on failure (empty: strerror) */
};

typedef int (*api_fn)(struct api_req *r);

static int errf(struct api_req *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int errf(struct api_req *r, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return rc;
}

#define J_INT(o, k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))

/* ---- arguments ------------------------------------------------------------------- */

/* 0: *out set; 1: optional and absent; negative: bad (message in r->err). */
static int arg_uint(struct api_req *r, const char *key, int required, uint64_t min, uint64_t max,
		    uint64_t *out)
{
	json_t *v = json_object_get(r->args, key);

	if (v == NULL)
		return required ? errf(r, -EINVAL, "missing argument \"%s\"", key) : 1;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return errf(r, -EINVAL, "argument \"%s\" must be an integer in [%llu, %llu]", key,
			    (unsigned long long)min, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int arg_str(struct api_req *r, const char *key, int required, const char **out)
{
	json_t *v = json_object_get(r->args, key);

	if (v == NULL)
		return required ? errf(r, -EINVAL, "missing argument \"%s\"", key) : 1;
	if (!json_is_string(v))
		return errf(r, -EINVAL, "argument \"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

static int arg_conn_id(struct api_req *r, uint32_t *id)
{
	uint64_t v = 0;
	int rc = arg_uint(r, "id", 1, 1, DP_MAX_CONNECTORS - 1, &v);

	*id = (uint32_t)v;
	return rc;
}

/* ---- descriptions ---------------------------------------------------------------- */

/* A connector's key as listings show it: that it is set and its
 * fingerprint, never the key. */
static void key_json(const struct cp_ctx *cp, json_t *o, uint32_t id)
{
	char hex[CP_KEY_ID_HEX];

	if (cp_connector_key_id(cp, id, hex) == 0) {
		json_object_set_new(o, "key", json_string("set"));
		json_object_set_new(o, "key_id", json_string(hex));
	} else {
		json_object_set_new(o, "key", json_null());
		json_object_set_new(o, "key_id", json_null());
	}
}

/* The authentication refusals counted for connector @id. */
static void auth_stats_json(const struct cp_ctx *cp, json_t *o, uint32_t id)
{
	static const struct cp_auth_stats none;
	const struct cp_auth_stats *st = cp->auth[id] != NULL ? &cp->auth[id]->st : &none;

	J_INT(o, "hello_auth_failed", st->hello_auth_failed);
	J_INT(o, "hello_replayed", st->hello_replayed);
	J_INT(o, "hello_addr_refused", st->hello_addr_refused);
	J_INT(o, "auth_failed", st->auth_failed);
	J_INT(o, "replayed", st->replayed);
	J_INT(o, "stale", st->stale);
	J_INT(o, "sessions_moved", st->sessions_moved);
}

static json_t *conn_json(const struct cp_ctx *cp, const struct dp_conn *c)
{
	const struct dp_router *rt = cp->rt;
	struct dp_conn_snap snap = {0};
	const struct dp_conn_stats *cs = &snap.stats;
	json_t *o;

	if (dp_conn_snapshot(rt, c->id, &snap) != 0)
		return NULL;
	o = json_object();
	char ip[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 8];

	if (o == NULL)
		return NULL;
	J_INT(o, "id", c->id);
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "enabled", json_boolean(c->enabled));
	json_object_set_new(o, "up", json_boolean(c->up));
	J_INT(o, "epoch", c->epoch);
	J_INT(o, "owner", c->owner);
	if (c->ip_be != 0 && inet_ntop(AF_INET, &c->ip_be, ip, sizeof(ip)) != NULL) {
		snprintf(addr, sizeof(addr), "%s:%u", ip, ntohs(c->udp_be));
		json_object_set_new(o, "address", json_string(addr));
	} else {
		json_object_set_new(o, "address", json_null());
	}
	J_INT(o, "custody", snap.held);
	J_INT(o, "rx_data", cs->rx_data);
	J_INT(o, "routed", cs->routed);
	J_INT(o, "dups", cs->dups);
	J_INT(o, "nacked", cs->nacked);
	J_INT(o, "tx_data", cs->tx_data);
	J_INT(o, "retransmits", cs->retransmits);
	J_INT(o, "delivered", cs->delivered);
	J_INT(o, "drops", 0); /* no per-connector drop counter: drops are per reason */
	key_json(cp, o, c->id);
	auth_stats_json(cp, o, c->id);
	return o;
}

/* Ages in milliseconds: monotonic timestamps mean nothing to an operator. */
static json_t *age_ms(uint64_t now, uint64_t then)
{
	if (then == 0)
		return json_null();
	return json_integer((json_int_t)(now > then ? (now - then) / 1000 : 0));
}

static json_t *sess_json(const struct dp_conn *c, const struct cp_session *s, uint64_t now)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	J_INT(o, "id", c->id);
	json_object_set_new(o, "name", json_string(c->name));
	json_object_set_new(o, "state", json_string(s->state == CP_SESS_UP ? "up" : "down"));
	json_object_set_new(o, "draining", json_boolean(s->draining));
	J_INT(o, "epoch", s->epoch);
	json_object_set_new(o, "since_ms", age_ms(now, s->state == CP_SESS_UP ? s->up_since_us
									     : s->down_since_us));
	json_object_set_new(o, "last_rx_age_ms", age_ms(now, s->last_rx_us));
	J_INT(o, "opens", s->opens);
	J_INT(o, "closes", s->closes);
	J_INT(o, "timeouts", s->timeouts);
	J_INT(o, "byes", s->byes);
	J_INT(o, "stale", s->stale);
	J_INT(o, "probe_attempt", s->probe_attempt);
	if (s->state == CP_SESS_DOWN && s->next_probe_us != 0 && c->ip_be != 0)
		J_INT(o, "next_probe_in_ms",
		      s->next_probe_us > now ? (s->next_probe_us - now) / 1000 : 0);
	else
		json_object_set_new(o, "next_probe_in_ms", json_null());
	J_INT(o, "last_backoff_ms", s->last_delay_us / 1000);
	return o;
}

static const char *route_kind(unsigned k)
{
	return k == DP_ROUTE_EXACT ? "exact" : k == DP_ROUTE_SUFFIX ? "suffix" : "any";
}

static json_t *tunable_json(struct cp_ctx *cp, unsigned i)
{
	const char *unit, *name;
	uint64_t min, max, v = 0;
	json_t *o;

	name = cp_tunable_info(i, &unit, &min, &max);
	if (name == NULL || cp_tunable_get(cp, name, &v) != 0 || (o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "name", json_string(name));
	J_INT(o, "value", v);
	json_object_set_new(o, "unit", json_string(unit));
	J_INT(o, "min", min);
	J_INT(o, "max", max);
	return o;
}

static json_t *sock_json(const struct cp_ctx *cp)
{
	struct cp_sock_stats s;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	cp_sock_get_stats(cp->sock, &s);
	json_object_set_new(o, "path", cp_sock_path(cp->sock) ? json_string(cp_sock_path(cp->sock))
							    : json_null());
	J_INT(o, "clients_open", s.clients_open);
	J_INT(o, "clients_total", s.clients_total);
	J_INT(o, "refused_cred", s.refused_cred);
	J_INT(o, "refused_full", s.refused_full);
	J_INT(o, "bad_requests", s.bad_requests);
	J_INT(o, "bad_too_long", s.bad_too_long);
	J_INT(o, "bad_malformed", s.bad_malformed);
	J_INT(o, "bad_too_deep", s.bad_too_deep);
	J_INT(o, "clients_idle_closed", s.clients_idle_closed);
	J_INT(o, "clients_evicted", s.clients_evicted);
	J_INT(o, "requests", s.requests);
	J_INT(o, "accept_errors", s.accept_errors);
	J_INT(o, "busy_us", s.busy_us);
	return o;
}

/* ---- handlers -------------------------------------------------------------------- */

static int h_status(struct api_req *r)
{
	struct cp_ctx *cp = r->cp;
	struct dp_router *rt = cp->rt;
	json_t *o = json_object(), *addrs = json_array();
	unsigned i, conns = 0;

	if (o == NULL || addrs == NULL) {
		json_decref(o);
		json_decref(addrs);
		return -ENOMEM;
	}
	conns = dp_conn_count(rt);
	for (i = 0; i < rt->n_ports; i++) {
		char ip[INET_ADDRSTRLEN];

		if (inet_ntop(AF_INET, &rt->ports[i].ip_be, ip, sizeof(ip)) != NULL)
			json_array_append_new(addrs, json_string(ip));
	}
	json_object_set_new(o, "version", json_string(GWART_VERSION));
	json_object_set_new(o, "uptime_s",
			    json_real(cp->start_tsc ? (double)(rte_rdtsc() - cp->start_tsc) /
							      (double)rte_get_tsc_hz()
						    : 0.0));
	J_INT(o, "workers", rt->n_workers);
	J_INT(o, "ports", rt->n_ports);
	json_object_set_new(o, "addresses", addrs);
	J_INT(o, "udp_port", ntohs(rt->udp_be));
	J_INT(o, "connectors", conns);
	J_INT(o, "sessions_up", cp_sessions_up(cp));
	J_INT(o, "routes", dp_route_count(rt->routes));
	J_INT(o, "custody", cp_custody_total(cp));
	json_object_set_new(o, "draining", json_boolean(cp->shutdown_drain));
	json_object_set_new(o, "socket", sock_json(cp));
	r->result = o;
	return 0;
}

/* The stats file's object, plus the socket's counters. */
static int h_stats(struct api_req *r)
{
	r->result = cp_stats_json(r->cp);
	if (r->result == NULL)
		return -ENOMEM;
	json_object_set_new(r->result, "socket", sock_json(r->cp));
	/* The /metrics endpoint's own counters, when it is on. */
	if (r->cp->metrics != NULL)
		json_object_set_new(r->result, "metrics", cp_metrics_json(r->cp));
	return 0;
}

/* connectors / sessions: every one, or {"id": N} for one. */
static int list_conns(struct api_req *r, int sessions)
{
	uint64_t now = cp_now_us(), one = 0;
	uint32_t id, lo = 1, hi = DP_MAX_CONNECTORS - 1;
	json_t *arr;
	int rc = arg_uint(r, "id", 0, 1, DP_MAX_CONNECTORS - 1, &one);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		if (dp_conn_peek(r->cp->rt, (uint32_t)one) == NULL)
			return errf(r, -ENOENT, "no connector %llu", (unsigned long long)one);
		lo = hi = (uint32_t)one;
	}
	arr = json_array();
	if (arr == NULL)
		return -ENOMEM;
	for (id = dp_conn_next(r->cp->rt, lo - 1); id != 0 && id <= hi;
	     id = dp_conn_next(r->cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(r->cp->rt, id);
		json_t *o;

		o = sessions ? sess_json(c, cp_session_get(r->cp, id), now) : conn_json(r->cp, c);
		if (json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	r->result = arr;
	return 0;
}

static int h_connectors(struct api_req *r)
{
	return list_conns(r, 0);
}

static int h_sessions(struct api_req *r)
{
	return list_conns(r, 1);
}

struct route_list {
	json_t *arr;
	const char *type;  /* filter, or NULL */
	uint64_t limit;
	int failed;
};

static int route_cb(const struct dp_route *rt, void *arg)
{
	struct route_list *l = arg;
	json_t *o, *tg;
	unsigned i;

	if (l->type != NULL && strcasecmp(l->type, rt->type) != 0)
		return 0;
	if (json_array_size(l->arr) >= l->limit)
		return 1;
	o = json_object();
	tg = json_array();
	if (o == NULL || tg == NULL || json_array_append_new(l->arr, o) != 0) {
		json_decref(tg);
		l->failed = 1;
		return 1;
	}
	json_object_set_new(o, "type", json_string(rt->type));
	json_object_set_new(o, "pattern", json_string(rt->pattern));
	json_object_set_new(o, "kind", json_string(route_kind(rt->kind)));
	for (i = 0; i < rt->n_targets; i++) {
		json_t *t = json_object();

		J_INT(t, "connector", rt->targets[i].conn_id);
		J_INT(t, "cost", rt->targets[i].cost);
		json_array_append_new(tg, t);
	}
	json_object_set_new(o, "targets", tg);
	return 0;
}

/* routes [{"type": T}] [{"limit": N}]: in the index's order. */
static int h_routes(struct api_req *r)
{
	struct route_list l = {.limit = UINT32_MAX};
	int rc;

	if ((rc = arg_str(r, "type", 0, &l.type)) < 0 ||
	    (rc = arg_uint(r, "limit", 0, 0, UINT32_MAX, &l.limit)) < 0)
		return rc;
	l.arr = json_array();
	if (l.arr == NULL)
		return -ENOMEM;
	dp_route_foreach(r->cp->rt->routes, route_cb, &l);
	if (l.failed) {
		json_decref(l.arr);
		return -ENOMEM;
	}
	r->result = l.arr;
	return 0;
}

/* -EINVAL from a route action: say what the pattern rules reject. */
static int bad_route(struct api_req *r, const char *type, const char *pattern)
{
	struct dp_rm_pattern p;
	const char *why = NULL;

	if (dp_rm_normalise(type, pattern, &p, &why) == 0 || why == NULL)
		why = "a connector listed twice";
	return errf(r, -EINVAL, "bad route %s %s: %s", type, pattern, why);
}

static int h_route_add(struct api_req *r)
{
	struct dp_route_target t[DP_ROUTE_TARGETS_MAX];
	const char *type = NULL, *pattern = NULL;
	json_t *arr = json_object_get(r->args, "targets");
	uint32_t before;
	unsigned i, n;
	int rc;

	if ((rc = arg_str(r, "type", 1, &type)) < 0 ||
	    (rc = arg_str(r, "pattern", 1, &pattern)) < 0)
		return rc;
	if (cp_route_targets_parse(arr, t, &n, r->err, sizeof(r->err)) != 0) {
		char why[sizeof(r->err)];

		/* The array itself is the argument; an element is named. */
		if (r->err[0] != '"')
			return -EINVAL;
		memcpy(why, r->err, sizeof(why));
		return errf(r, -EINVAL, "argument %s", why);
	}
	for (i = 0; i < n; i++)
		if (dp_conn_peek(r->cp->rt, t[i].conn_id) == NULL)
			return errf(r, -ENOENT, "no connector %u", t[i].conn_id);
	before = dp_route_count(r->cp->rt->routes);
	rc = cp_route_add(r->cp, type, pattern, t, n);
	if (rc == -EINVAL)
		return bad_route(r, type, pattern);
	if (rc == -EEXIST)
		return errf(r, rc, "route %s %s collides with another route's key", type, pattern);
	if (rc == -ENOSPC)
		return errf(r, rc, "route table full");
	if (rc != 0)
		return rc;
	r->result = json_pack("{s:s, s:s, s:b}", "type", type, "pattern", pattern, "replaced",
			      dp_route_count(r->cp->rt->routes) == before);
	return 0;
}

static int h_route_del(struct api_req *r)
{
	const char *type = NULL, *pattern = NULL;
	int rc;

	if ((rc = arg_str(r, "type", 1, &type)) < 0 ||
	    (rc = arg_str(r, "pattern", 1, &pattern)) < 0)
		return rc;
	rc = cp_route_del(r->cp, type, pattern);
	if (rc == -ENOENT)
		return errf(r, rc, "no route %s %s", type, pattern);
	if (rc == -EINVAL)
		return bad_route(r, type, pattern);
	return rc;
}

static int conn_result(struct api_req *r, uint32_t id)
{
	const struct dp_conn *c = dp_conn_peek(r->cp->rt, id);

	r->result = c != NULL ? conn_json(r->cp, c) : NULL;
	return 0;
}

/* The "key" argument: the key text (gwartctl reads a --key-file and sends
 * its text). Never echoed in a message. */
static int arg_key(struct api_req *r, uint8_t key[GW_KEY_LEN])
{
	const char *text = NULL;
	json_t *v = json_object_get(r->args, "key");
	int rc = arg_str(r, "key", 1, &text);

	if (rc < 0)
		return rc;
	rc = gw_key_parse(text, json_string_length(v), key);
	/* jansson frees without wiping: the request's copy goes now. */
	gw_auth_wipe((char *)text, json_string_length(v));
	if (rc != 0)
		return errf(r, -EINVAL, "argument \"key\" must be 64 hexadecimal digits or the "
					"base64 of 32 bytes, not all zero");
	return 0;
}

static int h_conn_add(struct api_req *r)
{
	const char *name = NULL, *p;
	uint8_t key[GW_KEY_LEN];
	uint32_t id = 0;
	int rc;

	if ((rc = arg_conn_id(r, &id)) < 0 || (rc = arg_str(r, "name", 1, &name)) < 0)
		return rc;
	/* Names show in tables and logs: printable, no blanks. */
	for (p = name; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~')
			break;
	if (*p != '\0' || p == name || p - name > 31)
		return errf(r, -EINVAL, "connector name must be 1 to 31 printable ASCII "
					"characters without blanks");
	if ((rc = arg_key(r, key)) < 0)
		return rc;
	rc = cp_connector_add(r->cp, id, name, key);
	gw_auth_wipe(key, sizeof(key));
	if (rc == -EEXIST)
		return errf(r, rc, "connector %u exists (%s)", id,
			    dp_conn_peek(r->cp->rt, id)->name);
	return rc != 0 ? rc : conn_result(r, id);
}

/* connector.set_key {id, key}: a live session is closed (cp_connector_set_key). */
static int h_conn_set_key(struct api_req *r)
{
	uint8_t key[GW_KEY_LEN];
	uint32_t id = 0;
	int rc;

	if ((rc = arg_conn_id(r, &id)) < 0 || (rc = arg_key(r, key)) < 0)
		return rc;
	rc = cp_connector_set_key(r->cp, id, key);
	gw_auth_wipe(key, sizeof(key));
	if (rc == -ENOENT)
		return errf(r, rc, "no connector %u", id);
	return rc != 0 ? rc : conn_result(r, id);
}

struct ref_find {
	uint32_t id;
	char what[300];
};

static int ref_cb(const struct dp_route *rt, void *arg)
{
	struct ref_find *f = arg;
	unsigned i;

	for (i = 0; i < rt->n_targets; i++)
		if (rt->targets[i].conn_id == f->id) {
			snprintf(f->what, sizeof(f->what), "%s %s", rt->type, rt->pattern);
			return 1;
		}
	return 0;
}

static int h_conn_del(struct api_req *r)
{
	struct ref_find f;
	uint32_t id = 0, held = 0;
	int rc;

	if ((rc = arg_conn_id(r, &id)) < 0)
		return rc;
	rc = cp_connector_del(r->cp, id);
	if (rc == -ENOENT)
		return errf(r, rc, "no connector %u", id);
	if (rc != -EBUSY)
		return rc;
	/* Say why, so the operator knows what to do first. */
	f.id = id;
	if (dp_route_foreach(r->cp->rt->routes, ref_cb, &f) != 0)
		return errf(r, rc, "connector %u is a target of route %s: delete or change the "
				   "route first", id, f.what);
	cp_connector_custody(r->cp, id, &held);
	return errf(r, rc, "connector %u holds %u message(s) in custody: drain it first", id, held);
}

/* enable, disable, reconnect: same shape, one action each. */
static int conn_op(struct api_req *r, int op)
{
	uint32_t id = 0;
	int rc;

	if ((rc = arg_conn_id(r, &id)) < 0)
		return rc;
	rc = op == 2 ? cp_connector_reconnect(r->cp, id) : cp_connector_enable(r->cp, id, op);
	if (rc == -ENOENT)
		return errf(r, rc, "no connector %u", id);
	return rc != 0 ? rc : conn_result(r, id);
}

static int h_conn_enable(struct api_req *r)
{
	return conn_op(r, 1);
}

static int h_conn_disable(struct api_req *r)
{
	return conn_op(r, 0);
}

static int h_conn_reconnect(struct api_req *r)
{
	return conn_op(r, 2);
}

static int h_conn_drain(struct api_req *r)
{
	uint32_t id = 0, held = 0;
	int rc;

	if ((rc = arg_conn_id(r, &id)) < 0)
		return rc;
	rc = cp_connector_drain(r->cp, id);
	if (rc == 0)
		rc = cp_connector_custody(r->cp, id, &held);
	if (rc == -ENOENT)
		return errf(r, rc, "no connector %u", id);
	if (rc != 0)
		return rc;
	r->result = json_pack("{s:i, s:b, s:I}", "id", (int)id, "draining", 1, "custody",
			      (json_int_t)held);
	return 0;
}

static int h_get(struct api_req *r)
{
	const char *name = NULL;
	unsigned i;
	int rc = arg_str(r, "name", 0, &name), idx;

	if (rc < 0)
		return rc;
	if (rc == 0) {
		idx = cp_tunable_index(name);
		if (idx < 0)
			return errf(r, -ENOENT, "no tunable %s", name);
		r->result = tunable_json(r->cp, (unsigned)idx);
		return r->result != NULL ? 0 : -ENOMEM;
	}
	r->result = json_array();
	for (i = 0; cp_tunable_info(i, NULL, NULL, NULL) != NULL; i++)
		if (json_array_append_new(r->result, tunable_json(r->cp, i)) != 0)
			return -ENOMEM;
	return 0;
}

static int h_set(struct api_req *r)
{
	const char *name = NULL, *unit;
	uint64_t v = 0, min, max;
	int rc, idx;

	if ((rc = arg_str(r, "name", 1, &name)) < 0 ||
	    (rc = arg_uint(r, "value", 1, 0, INT64_MAX, &v)) < 0)
		return rc;
	idx = cp_tunable_index(name);
	if (idx < 0 && strcmp(name, "log_level") == 0)
		return errf(r, -ENOENT, "no tunable log_level: log levels are per type now "
					"(gwartctl log TYPE LEVEL, log.set)");
	if (idx < 0)
		return errf(r, -ENOENT, "no tunable %s", name);
	cp_tunable_info((unsigned)idx, &unit, &min, &max);
	if (v < min || v > max)
		return errf(r, -EINVAL, "%s: %llu is out of range [%llu, %llu] %s", name,
			    (unsigned long long)v, (unsigned long long)min,
			    (unsigned long long)max, unit);
	/* Cross-field rules and test-only tunables: the action says why. */
	rc = cp_tunable_set_err(r->cp, name, v, r->err, sizeof(r->err));
	if (rc != 0)
		return rc;
	r->result = tunable_json(r->cp, (unsigned)idx);
	return 0;
}

/* log.get: every gwart log type and its level. */
static int h_log_get(struct api_req *r)
{
	json_t *types = json_object();
	unsigned t;

	if (types == NULL)
		return -ENOMEM;
	for (t = 0; t < CP_LOG_N_TYPES; t++)
		json_object_set_new(types, cp_log_type_name(t),
				    json_string(cp_log_level_name((unsigned)cp_log_get_level(t))));
	r->result = json_pack("{s:o}", "types", types);
	return r->result != NULL ? 0 : -ENOMEM;
}

/* log.set {type, level}: answers as log.get. */
static int h_log_set(struct api_req *r)
{
	const char *type = NULL, *level = NULL;
	int rc;

	if ((rc = arg_str(r, "type", 1, &type)) < 0 || (rc = arg_str(r, "level", 1, &level)) < 0)
		return rc;
	rc = cp_log_set(type, level);
	if (rc == -ENOENT)
		return errf(r, rc, "no log type %s (dataplane, control, session, config or all)",
			    type);
	if (rc == -EINVAL)
		return errf(r, rc, "no log level %s (emerg, alert, crit, err, warning, notice, "
				   "info or debug)", level);
	return rc != 0 ? rc : h_log_get(r);
}

static int h_shutdown(struct api_req *r)
{
	json_t *d = json_object_get(r->args, "drain");
	uint64_t timeout_ms = 30000;
	int rc;

	if (d != NULL && !json_is_boolean(d))
		return errf(r, -EINVAL, "argument \"drain\" must be true or false");
	rc = arg_uint(r, "timeout_ms", 0, 0, 3600000, &timeout_ms);
	if (rc < 0)
		return rc;
	rc = cp_shutdown(r->cp, json_is_true(d), (unsigned)timeout_ms);
	if (rc != 0)
		return rc;
	r->result = json_pack("{s:b, s:I, s:I}", "drain", json_is_true(d), "timeout_ms",
			      (json_int_t)timeout_ms, "custody",
			      (json_int_t)cp_custody_total(r->cp));
	return 0;
}

/* ---- packet capture (capture.c) -------------------------------------------------- */

static int h_capture_start(struct api_req *r)
{
	struct cp_capture_params p = {0};
	uint64_t conn = 0, snaplen = 0;
	int rc;

	if ((rc = arg_str(r, "file", 1, &p.file)) < 0 ||
	    (rc = arg_uint(r, "connector", 0, 1, DP_MAX_CONNECTORS - 1, &conn)) < 0 ||
	    (rc = arg_uint(r, "snaplen", 0, 1, CP_CAPTURE_MAX_SNAPLEN, &snaplen)) < 0)
		return rc;
	p.conn = (uint32_t)conn;
	p.snaplen = (uint32_t)snaplen;
	rc = cp_capture_start(r->cp, &p, r->err, sizeof(r->err));
	if (rc != 0)
		return rc;
	r->result = json_pack("{s:s}", "file", p.file);
	return 0;
}

static int h_capture_stop(struct api_req *r)
{
	struct cp_capture_count n;
	char file[CP_CAPTURE_PATH_MAX];
	int rc = cp_capture_stop(r->cp, &n, file);

	if (rc == -ENOENT)
		return errf(r, rc, "no capture is running");
	if (rc != 0)
		return rc;
	r->result = json_pack("{s:s, s:I, s:I, s:I}", "file", file, "frames", (json_int_t)n.frames,
			      "bytes", (json_int_t)n.bytes, "dropped", (json_int_t)n.dropped);
	return 0;
}

static int h_capture_status(struct api_req *r)
{
	r->result = cp_capture_status_json(r->cp);
	return r->result != NULL ? 0 : -ENOMEM;
}

/* config.reload {file?}: the file is read by gwartd (an absolute path:
 * gwartctl resolves it), never its text over the socket. */
static int h_config_reload(struct api_req *r)
{
	struct cp_reload_report rep;
	const char *file = NULL, *used = NULL;
	int rc = arg_str(r, "file", 0, &file);

	if (rc < 0)
		return rc;
	if (rc == 0 && file[0] != '/')
		return errf(r, -EINVAL, "argument \"file\" must be an absolute path");
	rc = cp_config_reload_file(r->cp, rc == 0 ? file : NULL, &rep, &used, r->err,
				   sizeof(r->err));
	if (rc != 0)
		return rc;
	r->result = json_pack("{s:s, s:o}", "file", used, "applied", cp_reload_report_json(&rep));
	return r->result != NULL ? 0 : -ENOMEM;
}

static int h_config_show(struct api_req *r)
{
	json_t *wk = json_object_get(r->args, "with_keys"), *cfg;
	int rc;

	if (wk != NULL && !json_is_boolean(wk))
		return errf(r, -EINVAL, "argument \"with_keys\" must be true or false");
	cfg = cp_config_show(r->cp, json_is_true(wk), &rc, r->err, sizeof(r->err));
	if (cfg == NULL)
		return rc;
	r->result = json_pack("{s:o}", "config", cfg);
	return r->result != NULL ? 0 : -ENOMEM;
}

/* ---- dispatch -------------------------------------------------------------------- */

static const struct {
	const char *cmd;
	api_fn fn;
} api_cmds[] = {
	{GW_CTL_CMD_STATUS, h_status},              /* {} */
	{GW_CTL_CMD_STATS, h_stats},                /* {} */
	{GW_CTL_CMD_CONNECTORS, h_connectors},      /* {id?} */
	{GW_CTL_CMD_SESSIONS, h_sessions},          /* {id?} */
	{GW_CTL_CMD_ROUTES, h_routes},              /* {type?, limit?} */
	{GW_CTL_CMD_ROUTE_ADD, h_route_add},        /* {type, pattern, targets: [{connector, cost?}]} */
	{GW_CTL_CMD_ROUTE_DEL, h_route_del},        /* {type, pattern} */
	{GW_CTL_CMD_CONN_ADD, h_conn_add},          /* {id, name, key} */
	{GW_CTL_CMD_CONN_SET_KEY, h_conn_set_key},  /* {id, key} */
	{GW_CTL_CMD_CONN_DEL, h_conn_del},          /* {id} */
	{GW_CTL_CMD_CONN_ENABLE, h_conn_enable},    /* {id} */
	{GW_CTL_CMD_CONN_DISABLE, h_conn_disable},  /* {id} */
	{GW_CTL_CMD_CONN_RECONNECT, h_conn_reconnect}, /* {id} */
	{GW_CTL_CMD_CONN_DRAIN, h_conn_drain},      /* {id} -> {id, draining, custody} */
	{GW_CTL_CMD_GET, h_get},                    /* {name?} */
	{GW_CTL_CMD_SET, h_set},                    /* {name, value} */
	{GW_CTL_CMD_SHUTDOWN, h_shutdown},          /* {drain?, timeout_ms?} */
	{GW_CTL_CMD_CAPTURE_START, h_capture_start}, /* {file, connector?, snaplen?} -> {file} */
	{GW_CTL_CMD_CAPTURE_STOP, h_capture_stop},  /* {} -> {file, frames, bytes, dropped} */
	{GW_CTL_CMD_CAPTURE_STATUS, h_capture_status}, /* {} -> {active, file?, ...} */
	{GW_CTL_CMD_CONFIG_RELOAD, h_config_reload}, /* {file?} -> {file, applied} */
	{GW_CTL_CMD_CONFIG_SHOW, h_config_show},    /* {with_keys?} -> {config} */
	{GW_CTL_CMD_LOG_GET, h_log_get},            /* {} -> {types: {name: level}} */
	{GW_CTL_CMD_LOG_SET, h_log_set},            /* {type, level} -> as log.get */
};

const char *cp_api_cmd_name(unsigned i)
{
	return i < sizeof(api_cmds) / sizeof(api_cmds[0]) ? api_cmds[i].cmd : NULL;
}

int cp_api_parse_request(json_t *req, unsigned *cmd, json_t **args, char *err, size_t errlen)
{
	json_t *c = json_object_get(req, "cmd"), *a = json_object_get(req, "args");
	unsigned i;

	if (!json_is_string(c)) {
		snprintf(err, errlen, "bad request: needs a \"cmd\" string");
		return -EINVAL;
	}
	if (a != NULL && !json_is_object(a)) {
		snprintf(err, errlen, "bad request: \"args\" must be an object");
		return -EINVAL;
	}
	for (i = 0; cp_api_cmd_name(i) != NULL; i++)
		if (strcmp(api_cmds[i].cmd, json_string_value(c)) == 0) {
			*cmd = i;
			*args = a;
			return 0;
		}
	snprintf(err, errlen, "unknown command \"%s\"", json_string_value(c));
	return -EOPNOTSUPP;
}

json_t *cp_api_handle(struct cp_ctx *cp, json_t *req)
{
	json_t *id = json_object_get(req, "id"), *args = NULL, *rep;
	struct api_req r = {.cp = cp};
	unsigned i = 0;
	int rc;

	rc = cp_api_parse_request(req, &i, &args, r.err, sizeof(r.err));
	if (rc == -EINVAL)
		return cp_sock_error(EINVAL, r.err); /* a bad envelope: no "id" echoed */
	if (rc == 0) {
		r.args = args != NULL ? json_incref(args) : json_object();
		rc = r.args != NULL ? api_cmds[i].fn(&r) : -ENOMEM;
		json_decref(r.args);
	}
	if (rc == 0) {
		rep = json_pack("{s:b, s:o}", "ok", 1, "result",
				r.result != NULL ? r.result : json_null());
	} else {
		json_decref(r.result);
		rep = cp_sock_error(rc, r.err);
	}
	if (rep != NULL && id != NULL)
		json_object_set(rep, "id", id);
	return rep;
}

json_t *cp_api_sock_handler(void *cp, json_t *req)
{
	return cp_api_handle(cp, req);
}
