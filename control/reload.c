/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration reload and show (see reload.h): a diff of the running
 * state against a parsed file, every check first, then the cp_* actions in
 * an order that keeps every route's connectors in place; and the running
 * state printed back as a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <gwart/auth.h>

#include "conn.h"
#include "config.h"
#include "cp.h"
#include "log.h"
#include "reload.h"
#include "route.h"
#include "router_api.h"

/* Read at start-up only: a reload that changes one is refused. */
static const char *const restart_only[] = {"udp_port", "control", "ports", "eal",
					   "metrics",  "capture", NULL};

/* Where a connector's key came from: config show prints the path while the
 * connector still has the key that was read from it. */
struct key_src {
	char *path;                    /* NULL: not from a file */
	uint8_t key_id[CP_KEY_ID_LEN]; /* the fingerprint of the key read from it */
};

struct cp_reload {
	char *path;              /* the --config file (absolute), NULL: embedded default */
	json_t *startup;         /* the restart-only members as start-up read them */
	struct key_src *ksrc;    /* [DP_MAX_CONNECTORS] */
	uint8_t *pending;        /* [DP_MAX_CONNECTORS]: delete once custody is empty */
	unsigned n_pending;
	struct cp_timer pending_timer;
	int sig_pipe[2];         /* SIGHUP: the handler writes, the loop reads */
};

/* The handler's end of the pipe (a signal handler has no argument). */
static int sighup_wfd = -1;

static void on_pending(struct cp_loop *l, struct cp_timer *t, uint64_t now);

static struct cp_reload *rl_create(struct cp_ctx *cp)
{
	struct cp_reload *rl = calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	rl->sig_pipe[0] = rl->sig_pipe[1] = -1;
	rl->ksrc = calloc(DP_MAX_CONNECTORS, sizeof(*rl->ksrc));
	rl->pending = calloc(DP_MAX_CONNECTORS, 1);
	rl->startup = json_object();
	if (rl->ksrc == NULL || rl->pending == NULL || rl->startup == NULL) {
		free(rl->ksrc);
		free(rl->pending);
		json_decref(rl->startup);
		free(rl);
		return NULL;
	}
	cp_timer_init(&rl->pending_timer, on_pending, cp);
	return rl;
}

/* The state, created empty when start-up did not record any (tests). */
static struct cp_reload *rl_get(struct cp_ctx *cp)
{
	if (cp->reload == NULL)
		cp->reload = rl_create(cp);
	return cp->reload;
}

static void ksrc_set(struct cp_ctx *cp, uint32_t id, const char *path)
{
	struct key_src *k = &cp->reload->ksrc[id];

	free(k->path);
	k->path = NULL;
	if (path != NULL && cp->auth[id] != NULL && (k->path = strdup(path)) != NULL)
		memcpy(k->key_id, cp->auth[id]->key_id, CP_KEY_ID_LEN);
}

int cp_reload_init(struct cp_ctx *cp, const char *path, const struct cp_config *started)
{
	struct cp_reload *rl = rl_get(cp);
	const char *const *k;
	size_t i;

	if (rl == NULL)
		return -ENOMEM;
	if (path != NULL) {
		/* gwartd never changes directory, but a reload must find the
		 * file whatever the client's directory was. */
		rl->path = realpath(path, NULL);
		if (rl->path == NULL && (rl->path = strdup(path)) == NULL)
			return -ENOMEM;
	}
	for (k = restart_only; *k != NULL; k++) {
		json_t *v = json_object_get(started->doc, *k);

		if (v != NULL && json_object_set_new(rl->startup, *k, json_deep_copy(v)) != 0)
			return -ENOMEM;
	}
	for (i = 0; i < started->n_connectors; i++) {
		const struct cp_config_connector *c = &started->connectors[i];

		if (c->key_file != NULL && c->id > 0 && c->id < DP_MAX_CONNECTORS)
			ksrc_set(cp, (uint32_t)c->id, c->key_file);
	}
	return 0;
}

void cp_reload_fini(struct cp_ctx *cp)
{
	struct cp_reload *rl = cp->reload;
	uint32_t id;

	if (rl == NULL)
		return;
	cp_timer_cancel(cp->loop, &rl->pending_timer);
	if (rl->sig_pipe[0] >= 0) {
		signal(SIGHUP, SIG_IGN);
		sighup_wfd = -1;
		cp_loop_fd_del(cp->loop, rl->sig_pipe[0]);
		close(rl->sig_pipe[0]);
		close(rl->sig_pipe[1]);
	}
	for (id = 0; id < DP_MAX_CONNECTORS; id++)
		free(rl->ksrc[id].path);
	free(rl->ksrc);
	free(rl->pending);
	json_decref(rl->startup);
	free(rl->path);
	free(rl);
	cp->reload = NULL;
}

/* ---- pending deletes --------------------------------------------------------------- */

static void pending_clear(struct cp_reload *rl, uint32_t id)
{
	if (rl->pending[id]) {
		rl->pending[id] = 0;
		rl->n_pending--;
	}
}

/* A pending delete, tried again: gone once custody is empty. A connector
 * some route names again (an operator's route.add since) is kept. */
static void on_pending(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_ctx *cp = t->arg;
	struct cp_reload *rl = cp->reload;
	uint32_t id, held;

	for (id = 1; id < DP_MAX_CONNECTORS && rl->n_pending != 0; id++) {
		int rc;

		if (!rl->pending[id])
			continue;
		if (cp_connector_custody(cp, id, &held) != 0) {
			pending_clear(rl, id); /* deleted by an operator meanwhile */
			continue;
		}
		if (held != 0)
			continue;
		rc = cp_connector_del(cp, id);
		if (rc == -EBUSY) {
			cp_connector_custody(cp, id, &held);
			if (held != 0)
				continue; /* a message arrived in between */
			cp_log(CP_LOG_CONFIG, CP_LOG_WARNING,
			       "reload: connector %u is a route's target again: not deleted", id);
		} else if (rc != 0) {
			cp_log(CP_LOG_CONFIG, CP_LOG_ERR, "reload: connector %u: delete failed: %s",
			       id, strerror(-rc));
		} else {
			cp_log(CP_LOG_CONFIG, CP_LOG_INFO, "reload: connector %u deleted (custody empty)",
			       id);
			ksrc_set(cp, id, NULL);
		}
		pending_clear(rl, id);
	}
	if (rl->n_pending != 0)
		cp_timer_arm(l, t, now + CP_RELOAD_PENDING_US);
}

/* ---- checks ------------------------------------------------------------------------ */

/* The restart-only members that differ from start-up's, "a, b" in @out. */
static int restart_changed(const struct cp_reload *rl, json_t *doc, char *out, size_t len)
{
	const char *const *k;
	int n = 0;

	out[0] = '\0';
	for (k = restart_only; *k != NULL; k++) {
		json_t *was = json_object_get(rl->startup, *k), *now = json_object_get(doc, *k);

		if (was == NULL && now == NULL)
			continue;
		if (was != NULL && now != NULL && json_equal(was, now))
			continue;
		snprintf(out + strlen(out), len - strlen(out), "%s%s", n++ ? ", " : "", *k);
	}
	return n;
}

/* Constant time: the comparison says nothing of the running key. */
static int key_differs(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;
	unsigned i;

	for (i = 0; i < GW_KEY_LEN; i++)
		d |= a[i] ^ b[i];
	return d != 0;
}

static const struct cp_config_connector *file_conn(const struct cp_config *c, uint32_t id,
						   size_t *at)
{
	size_t i;

	for (i = 0; i < c->n_connectors; i++)
		if (c->connectors[i].id == (int64_t)id) {
			if (at != NULL)
				*at = i;
			return &c->connectors[i];
		}
	return NULL;
}

/* ---- routes ------------------------------------------------------------------------ */

/* A route's identity: its normalised type and pattern. */
static int route_ident(const char *type, const char *pattern, char *out, size_t len)
{
	struct dp_rm_pattern p;

	if (dp_rm_normalise(type, pattern, &p, NULL) != 0)
		return -EINVAL;
	snprintf(out, len, "%s %s", p.type, p.pattern);
	return 0;
}

/* Targets as the table keeps them: by cost, stable (dp_route_add's order). */
static void targets_sorted(const struct dp_route_target *in, unsigned n,
			   struct dp_route_target *out)
{
	unsigned i, j;

	for (i = 0; i < n; i++) {
		struct dp_route_target t = in[i];

		for (j = i; j > 0 && out[j - 1].cost > t.cost; j--)
			out[j] = out[j - 1];
		out[j] = t;
	}
}

struct route_diff {
	const struct cp_config *next;
	json_t *want;      /* ident -> index in next->routes */
	uint8_t *same;     /* [n_routes]: running already has exactly these targets */
	uint8_t *exists;   /* [n_routes]: running has the route (a replace, not an add) */
	json_t *del;       /* [[type, pattern]...]: running routes the file lacks */
	int failed;
};

static int route_diff_cb(const struct dp_route *r, void *arg)
{
	struct route_diff *d = arg;
	struct dp_route_target t[DP_ROUTE_TARGETS_MAX];
	const struct cp_config_route *fr;
	char id[300];
	json_t *at;
	size_t i;

	snprintf(id, sizeof(id), "%s %s", r->type, r->pattern);
	at = json_object_get(d->want, id);
	if (at == NULL) {
		if (json_array_append_new(d->del, json_pack("[ss]", r->type, r->pattern)) != 0)
			d->failed = 1;
		return d->failed;
	}
	i = (size_t)json_integer_value(at);
	fr = &d->next->routes[i];
	d->exists[i] = 1;
	targets_sorted(fr->targets, fr->n_targets, t);
	d->same[i] = fr->n_targets == r->n_targets &&
		     memcmp(t, r->targets, r->n_targets * sizeof(t[0])) == 0;
	return 0;
}

/* ---- reload ------------------------------------------------------------------------ */

int cp_config_reload(struct cp_ctx *cp, const struct cp_config *next,
		     struct cp_reload_report *rep, char *err, size_t errlen)
{
	struct cp_reload *rl = rl_get(cp);
	uint64_t v[CP_TUNABLES_MAX], cur[CP_TUNABLES_MAX];
	struct route_diff rd = {.next = next};
	uint8_t (*keys)[GW_KEY_LEN] = NULL;
	unsigned i, blame[2], stall = (unsigned)cp_tunable_index("test_stall");
	char what[256];
	uint32_t id;
	size_t k;
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	if (rl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* ---- every check, before the first change ---- */
	if (restart_changed(rl, next->doc, what, sizeof(what)) != 0) {
		snprintf(err, errlen, "restart-only key(s) changed: %s (nothing applied; restart "
				      "gwartd to change them)", what);
		cp->stats.reloads_refused++;
		return -EINVAL;
	}
	cp_tunables_get_all(cp, cur);
	for (i = 0; i < cp_tunable_count(); i++)
		v[i] = cp_tunable_default(i);
	v[stall] = cur[stall]; /* a test's own business unless the file names it */
	for (k = 0; k < next->n_tunables; k++)
		v[cp_tunable_index(next->tunables[k].name)] = next->tunables[k].value;
	if (v[stall] != cur[stall] && !cp->test_hooks) {
		snprintf(err, errlen, "test_stall is a test-only tunable: gwartd must be started "
				      "with --test-hooks (nothing applied)");
		cp->stats.reloads_refused++;
		return -EPERM;
	}
	if (cp_tunables_check(v, blame, what, sizeof(what)) != 0) {
		snprintf(err, errlen, "%s (nothing applied)", what);
		cp->stats.reloads_refused++;
		return -EINVAL;
	}
	/* Keys: every key file read now, so a missing one changes nothing. */
	keys = calloc(next->n_connectors + 1, GW_KEY_LEN);
	rd.want = json_object();
	rd.del = json_array();
	rd.same = calloc(next->n_routes + 1, 1);
	rd.exists = calloc(next->n_routes + 1, 1);
	if (keys == NULL || rd.want == NULL || rd.del == NULL || rd.same == NULL ||
	    rd.exists == NULL) {
		snprintf(err, errlen, "out of memory (nothing applied)");
		rc = -ENOMEM;
		goto out;
	}
	for (k = 0; k < next->n_connectors; k++) {
		const struct cp_config_connector *c = &next->connectors[k];

		if (c->key_file == NULL) {
			memcpy(keys[k], c->key, GW_KEY_LEN);
			continue;
		}
		rc = cp_config_read_key(c->key_file, keys[k], what, sizeof(what));
		if (rc != 0) {
			snprintf(err, errlen, "connectors[%zu] (id %lld): %s (nothing applied)", k,
				 (long long)c->id, what);
			cp->stats.reloads_refused++;
			goto out;
		}
	}
	/* Routes: what the running table has already, and what it must lose. */
	for (k = 0; k < next->n_routes; k++) {
		char ident[300];

		if (route_ident(next->routes[k].type, next->routes[k].pattern, ident,
				sizeof(ident)) != 0 ||
		    json_object_set_new(rd.want, ident, json_integer((json_int_t)k)) != 0) {
			snprintf(err, errlen, "routes[%zu]: out of memory (nothing applied)", k);
			rc = -ENOMEM;
			goto out;
		}
	}
	dp_route_foreach(cp->rt->routes, route_diff_cb, &rd);
	if (rd.failed) {
		snprintf(err, errlen, "out of memory (nothing applied)");
		rc = -ENOMEM;
		goto out;
	}

	/* ---- changes: tunables, connectors in, routes, connectors out ---- */
	for (i = 0; i < cp_tunable_count(); i++)
		rep->tunables_changed += v[i] != cur[i];
	if (rep->tunables_changed != 0 && (rc = cp_tunables_set_all(cp, v, err, errlen)) != 0)
		goto partial;
	/* Log levels the file names (checked by the parse; a type the
	 * command line's --log-level set is kept, log.h). */
	{
		int was[CP_LOG_N_TYPES];

		for (i = 0; i < CP_LOG_N_TYPES; i++)
			was[i] = cp_log_get_level(i);
		cp_log_apply_config(next->log_levels);
		for (i = 0; i < CP_LOG_N_TYPES; i++)
			rep->log_levels_changed += cp_log_get_level(i) != was[i];
	}
	for (k = 0; k < next->n_connectors; k++) {
		const struct cp_config_connector *c = &next->connectors[k];
		const struct dp_conn *dc;

		id = (uint32_t)c->id;
		dc = dp_conn_peek(cp->rt, id);
		if (dc == NULL) {
			rc = cp_connector_add(cp, id, c->name, keys[k]);
			if (rc == 0 && c->enabled == 0)
				rc = cp_connector_enable(cp, id, 0);
			if (rc == 0 && c->allow.n != 0)
				rc = cp_connector_set_allow(cp, id, &c->allow);
			if (rc != 0) {
				snprintf(err, errlen, "connectors[%zu] (id %u): add: %s", k, id,
					 strerror(-rc));
				goto partial;
			}
			rep->connectors_added++;
			ksrc_set(cp, id, c->key_file);
			continue;
		}
		if (strcmp(dc->name, c->name) != 0) {
			rc = cp_connector_rename(cp, id, c->name);
			if (rc != 0) {
				snprintf(err, errlen, "connectors[%zu] (id %u): rename: %s", k, id,
					 strerror(-rc));
				goto partial;
			}
			rep->connectors_renamed++;
		}
		if (key_differs(cp->auth[id]->secret, keys[k])) {
			rc = cp_connector_set_key(cp, id, keys[k]);
			if (rc != 0) {
				snprintf(err, errlen, "connectors[%zu] (id %u): set key: %s", k, id,
					 strerror(-rc));
				goto partial;
			}
			rep->keys_changed++;
		}
		/* allow_from (absent: any address): for the next HELLO; a live
		 * session from an address no longer allowed is closed. */
		if (!cp_allow_equal(&cp->auth[id]->allow, &c->allow)) {
			rc = cp_connector_set_allow(cp, id, &c->allow);
			if (rc != 0) {
				snprintf(err, errlen, "connectors[%zu] (id %u): allow_from: %s", k, id,
					 strerror(-rc));
				goto partial;
			}
		}
		ksrc_set(cp, id, c->key_file);
		/* Named again: a delete still pending from an earlier reload is off. */
		pending_clear(rl, id);
		dc = dp_conn_peek(cp->rt, id);
		if (c->enabled >= 0 && (int)dc->enabled != c->enabled) {
			rc = cp_connector_enable(cp, id, c->enabled);
			if (rc != 0) {
				snprintf(err, errlen, "connectors[%zu] (id %u): %s: %s", k, id,
					 c->enabled ? "enable" : "disable", strerror(-rc));
				goto partial;
			}
			if (c->enabled)
				rep->connectors_enabled++;
			else
				rep->connectors_disabled++;
		}
	}
	/* Added or replaced in place: a replaced route is never absent. */
	for (k = 0; k < next->n_routes; k++) {
		const struct cp_config_route *r = &next->routes[k];

		char ident[300];

		/* The same route twice in a file: the later one is the one. */
		if (rd.same[k] || route_ident(r->type, r->pattern, ident, sizeof(ident)) != 0 ||
		    json_integer_value(json_object_get(rd.want, ident)) != (json_int_t)k)
			continue;
		rc = cp_route_add(cp, r->type, r->pattern, r->targets, r->n_targets);
		if (rc != 0) {
			snprintf(err, errlen, "routes[%zu] (%s:%s): %s", k, r->type, r->pattern,
				 rc == -ENOSPC ? "route table full" : strerror(-rc));
			goto partial;
		}
		if (rd.exists[k])
			rep->routes_changed++;
		else
			rep->routes_added++;
	}
	for (k = 0; k < json_array_size(rd.del); k++) {
		json_t *p = json_array_get(rd.del, k);
		const char *type = json_string_value(json_array_get(p, 0));
		const char *pattern = json_string_value(json_array_get(p, 1));

		rc = cp_route_del(cp, type, pattern);
		if (rc != 0) {
			snprintf(err, errlen, "route %s %s: delete: %s", type, pattern,
				 strerror(-rc));
			goto partial;
		}
		rep->routes_deleted++;
	}
	/* Last, when no route names them. Custody is never dropped: a
	 * connector still holding messages goes once they are delivered. */
	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		uint32_t held = 0;

		if (file_conn(next, id, NULL) != NULL || rl->pending[id])
			continue;
		rc = cp_connector_del(cp, id);
		if (rc == 0) {
			rep->connectors_deleted++;
			ksrc_set(cp, id, NULL);
			continue;
		}
		if (rc == -EBUSY && cp_connector_custody(cp, id, &held) == 0 && held != 0) {
			rl->pending[id] = 1;
			rl->n_pending++;
			rc = 0;
			continue;
		}
		snprintf(err, errlen, "connector %u: delete: %s", id, strerror(-rc));
		goto partial;
	}
	if (rl->n_pending != 0 && !cp_timer_armed(&rl->pending_timer))
		cp_timer_arm(cp->loop, &rl->pending_timer, cp_now_us() + CP_RELOAD_PENDING_US);
	cp->stats.reloads++;
	goto out;

partial:
	cp->stats.reloads++;
	snprintf(what, sizeof(what), "%s", err);
	snprintf(err, errlen, "%s (applied part-way: the changes before it stay)", what);
out:
	for (id = 1; id < DP_MAX_CONNECTORS && rl->n_pending != 0; id++)
		rep->connectors_pending += rl->pending[id];
	if (keys != NULL)
		gw_auth_wipe(keys, (next->n_connectors + 1) * GW_KEY_LEN);
	free(keys);
	free(rd.same);
	free(rd.exists);
	json_decref(rd.want);
	json_decref(rd.del);
	return rc;
}

int cp_config_reload_file(struct cp_ctx *cp, const char *path, struct cp_reload_report *rep,
			  const char **used, char *err, size_t errlen)
{
	struct cp_config cfg;
	char why[512], *text;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (path == NULL) {
		if (rl_get(cp) == NULL || cp->reload->path == NULL) {
			snprintf(err, errlen, "gwartd was started without --config: give a FILE");
			return -ENOENT;
		}
		path = cp->reload->path;
	}
	*used = path;
	text = cp_config_read_file(path, why, sizeof(why));
	if (text == NULL) {
		cp->stats.reloads_refused++;
		snprintf(err, errlen, "cannot read %s (nothing applied)", why);
		return -ENOENT;
	}
	rc = cp_config_parse(&cfg, text, why, sizeof(why));
	gw_auth_wipe(text, strlen(text)); /* the text may hold keys */
	free(text);
	if (rc != 0) {
		cp->stats.reloads_refused++;
		snprintf(err, errlen, "%s: %s (nothing applied; gwartd --check-config %s lists "
				      "every error)", path, why, path);
		return rc;
	}
	rc = cp_config_reload(cp, &cfg, rep, why, sizeof(why));
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	cp_config_free(&cfg);
	return rc;
}

json_t *cp_reload_report_json(const struct cp_reload_report *r)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
			 "connectors_added", r->connectors_added, "connectors_deleted",
			 r->connectors_deleted, "connectors_pending", r->connectors_pending,
			 "connectors_renamed", r->connectors_renamed, "keys_changed",
			 r->keys_changed, "connectors_enabled", r->connectors_enabled,
			 "connectors_disabled", r->connectors_disabled, "routes_added",
			 r->routes_added, "routes_changed", r->routes_changed, "routes_deleted",
			 r->routes_deleted, "tunables_changed", r->tunables_changed,
			 "log_levels_changed", r->log_levels_changed);
}

/* ---- show -------------------------------------------------------------------------- */

static int show_route_cb(const struct dp_route *r, void *arg)
{
	json_t *arr = arg, *tg = json_array(), *o;
	unsigned i;

	for (i = 0; tg != NULL && i < r->n_targets; i++)
		json_array_append_new(tg, json_pack("{s:I, s:I}", "connector",
						    (json_int_t)r->targets[i].conn_id, "cost",
						    (json_int_t)r->targets[i].cost));
	o = json_pack("{s:s, s:s, s:o?}", "type", r->type, "pattern", r->pattern, "targets", tg);
	return json_array_append_new(arr, o) != 0;
}

static int route_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "type")),
		       json_string_value(json_object_get(y, "type")));

	return c != 0 ? c
		      : strcmp(json_string_value(json_object_get(x, "pattern")),
			       json_string_value(json_object_get(y, "pattern")));
}

/* Routes in type, pattern order: the same state prints the same file. */
static json_t *show_routes(struct cp_ctx *cp)
{
	json_t *arr = json_array(), *sorted = json_array(), **v;
	size_t i, n;

	if (arr == NULL || sorted == NULL || dp_route_foreach(cp->rt->routes, show_route_cb, arr))
		goto fail;
	n = json_array_size(arr);
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, n, sizeof(*v), route_cmp);
	for (i = 0; i < n; i++)
		json_array_append(sorted, v[i]);
	free(v);
	json_decref(arr);
	return sorted;
fail:
	json_decref(arr);
	json_decref(sorted);
	return NULL;
}

json_t *cp_config_show(struct cp_ctx *cp, int with_keys, int *rc, char *err, size_t errlen)
{
	struct cp_reload *rl = rl_get(cp);
	json_t *o = json_object(), *tun = json_object(), *conns = json_array(), *routes;
	const char *const *k;
	uint64_t v[CP_TUNABLES_MAX];
	unsigned i;
	uint32_t id;

	*rc = -ENOMEM;
	snprintf(err, errlen, "out of memory");
	if (rl == NULL || o == NULL || tun == NULL || conns == NULL)
		goto fail;
	for (k = restart_only; *k != NULL; k++)
		if (json_object_get(rl->startup, *k) != NULL)
			json_object_set(o, *k, json_object_get(rl->startup, *k));
	cp_tunables_get_all(cp, v);
	for (i = 0; i < cp_tunable_count(); i++) {
		const char *name = cp_tunable_info(i, NULL, NULL, NULL);

		if (strcmp(name, "test_stall") != 0)
			json_object_set_new(tun, name, json_integer((json_int_t)v[i]));
	}
	json_object_set_new(o, "tunables", tun);
	tun = NULL;
	/* Every type's level now (log.h): reloading them changes nothing. */
	if (json_object_set_new(o, "log", json_object()) != 0)
		goto fail;
	for (i = 0; i < CP_LOG_N_TYPES; i++)
		json_object_set_new(json_object_get(o, "log"), cp_log_type_name(i) + 6,
				    json_string(cp_log_level_name((unsigned)cp_log_get_level(i))));
	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(cp->rt, id);
		const struct cp_auth *a = cp->auth[id];
		const struct key_src *ks = &rl->ksrc[id];
		json_t *j;

		if (rl->pending[id])
			continue; /* going, once its custody is delivered */
		j = json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", c->name);
		if (j == NULL || json_array_append_new(conns, j) != 0)
			goto fail;
		if (ks->path != NULL && a != NULL &&
		    memcmp(ks->key_id, a->key_id, CP_KEY_ID_LEN) == 0) {
			json_object_set_new(j, "key_file", json_string(ks->path));
		} else if (with_keys && a != NULL) {
			char hex[2 * GW_KEY_LEN + 1];

			for (i = 0; i < GW_KEY_LEN; i++)
				snprintf(hex + 2 * i, 3, "%02x", a->secret[i]);
			json_object_set_new(j, "key", json_string(hex));
			gw_auth_wipe(hex, sizeof(hex));
		} else {
			*rc = -EPERM;
			snprintf(err, errlen,
				 "connector %u (%s) has a key that came from no key_file (inline "
				 "or set through gwartctl): config show --with-keys prints it",
				 id, c->name);
			goto fail;
		}
		if (!c->enabled)
			json_object_set_new(j, "enabled", json_false());
		if (a != NULL && a->allow.n != 0) {
			json_t *al = json_array();

			for (i = 0; i < a->allow.n; i++) {
				char t[CP_ALLOW_TEXT];

				cp_allow_format(&a->allow.e[i], t);
				json_array_append_new(al, json_string(t));
			}
			json_object_set_new(j, "allow_from", al);
		}
	}
	json_object_set_new(o, "connectors", conns);
	conns = NULL;
	routes = show_routes(cp);
	if (routes == NULL)
		goto fail;
	json_object_set_new(o, "routes", routes);
	*rc = 0;
	err[0] = '\0';
	return o;
fail:
	json_decref(o);
	json_decref(tun);
	json_decref(conns);
	return NULL;
}

/* ---- SIGHUP ------------------------------------------------------------------------ */

static void on_sighup(int sig)
{
	int e = errno; /* a handler must leave errno as it found it */
	char b = (char)sig;

	if (sighup_wfd >= 0 && write(sighup_wfd, &b, 1) < 0) {
		/* full pipe: a reload is already due */
	}
	errno = e;
}

static void on_sighup_fd(struct cp_loop *l, int fd, unsigned mask, void *arg)
{
	struct cp_ctx *cp = arg;
	struct cp_reload_report rep;
	const char *used = NULL;
	char b[64], err[768];
	int rc;

	(void)l;
	(void)mask;
	while (read(fd, b, sizeof(b)) > 0)
		; /* several signals, one reload */
	rc = cp_config_reload_file(cp, NULL, &rep, &used, err, sizeof(err));
	if (rc != 0) {
		cp_log(CP_LOG_CONFIG, CP_LOG_ERR, "reload (SIGHUP) refused: %s", err);
		return;
	}
	/* At notice: the operator asked for it (the journal under systemd). */
	cp_log(CP_LOG_CONFIG, CP_LOG_NOTICE,
	       "reload (SIGHUP) %s: connectors +%u -%u (%u pending) renamed %u keys %u, "
	       "routes +%u ~%u -%u, tunables %u, log levels %u",
	       used, rep.connectors_added, rep.connectors_deleted, rep.connectors_pending,
	       rep.connectors_renamed, rep.keys_changed, rep.routes_added, rep.routes_changed,
	       rep.routes_deleted, rep.tunables_changed, rep.log_levels_changed);
}

int cp_reload_sighup_init(struct cp_ctx *cp)
{
	struct cp_reload *rl = rl_get(cp);
	struct sigaction sa;
	int rc;

	if (rl == NULL)
		return -ENOMEM;
	if (pipe2(rl->sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
		return -errno;
	rc = cp_loop_fd_set(cp->loop, rl->sig_pipe[0], CP_LOOP_READ, on_sighup_fd, cp);
	if (rc != 0) {
		close(rl->sig_pipe[0]);
		close(rl->sig_pipe[1]);
		rl->sig_pipe[0] = rl->sig_pipe[1] = -1;
		return rc;
	}
	sighup_wfd = rl->sig_pipe[1];
	/* Any thread may take the signal (the workers do not block it): the
	 * handler only writes a byte; the control loop does the work. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sighup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGHUP, &sa, NULL) != 0)
		return -errno;
	return 0;
}
