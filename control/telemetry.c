/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /gwart/... telemetry commands (telemetry.h): registration, the hand-off
 * from DPDK's telemetry threads to the control thread, each command's reply
 * (built from cp_stats_json() and the control API's own handlers, never
 * from counters read some other way) and its conversion to rte_tel_data.
 *
 * The hand-off: a request lives on its telemetry thread's stack, queued
 * under tel.mu; the eventfd wakes the control loop, which builds every
 * queued reply while holding tel.mu and then wakes the waiters. A waiter
 * leaves only with tel.mu held, so the control thread never sees a request
 * whose thread has gone: a timed-out waiter unlinks its own request first.
 * DPDK 22.11 has no way to unregister a command, so the callbacks outlive
 * the control context: they read only this file's static state, and once
 * cp_telemetry_fini() cleared tel.cp they answer an error at once.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_telemetry.h>

#include <gwart/ctl.h>

#include "api.h"
#include "cp.h"
#include "telemetry.h"

struct tel_req {
	const char *cmd;
	const char *params;  /* NULL: none */
	json_t *reply;       /* set by the control thread (or fini) with done */
	int done;
	struct tel_req *next;
};

static struct {
	pthread_mutex_t mu;      /* everything below */
	pthread_cond_t cv;       /* CLOCK_MONOTONIC; a reply is done */
	int cv_ready;            /* cv initialised (once per process) */
	int registered;          /* commands registered (once per process) */
	struct cp_ctx *cp;       /* NULL: no control thread answers */
	int efd;                 /* eventfd the control loop watches */
	struct tel_req *head, **tail;
	unsigned queued;
} tel = {.mu = PTHREAD_MUTEX_INITIALIZER, .efd = -1};

#define TEL_ADD(field) __atomic_fetch_add(&tel.cp->tel_stats.field, 1, __ATOMIC_RELAXED)

static json_t *tel_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* {"errno": "ENOENT", "error": TEXT}: the control API's error, less "ok". */
static json_t *tel_error(int err, const char *fmt, ...)
{
	const char *name = strerrorname_np(err < 0 ? -err : err);
	char text[RTE_TEL_MAX_STRING_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:s}", "errno", name != NULL ? name : "EIO", "error", text);
}

/* ---- replies (control thread) ------------------------------------------------------ */

static int no_params(const char *params)
{
	return params == NULL || params[0] == '\0';
}

/* A control API command through cp_api_handle(), the socket's own
 * dispatcher: its handler, its argument checks, its messages. */
static json_t *api_call(struct cp_ctx *cp, const char *cmd, json_t *args)
{
	json_t *req = json_pack("{s:s, s:o}", "cmd", cmd, "args", args), *rep, *res;

	if (req == NULL)
		return NULL;
	rep = cp_api_handle(cp, req);
	json_decref(req);
	if (rep == NULL)
		return NULL;
	if (json_is_true(json_object_get(rep, "ok"))) {
		res = json_incref(json_object_get(rep, "result"));
	} else {
		json_object_del(rep, "ok");
		res = json_incref(rep);
	}
	json_decref(rep);
	return res;
}

static json_t *r_stats(struct cp_ctx *cp, const char *cmd, const char *params)
{
	if (!no_params(params))
		return tel_error(EINVAL, "%s takes no parameter", cmd);
	return cp_stats_json(cp);
}

/* One member of the stats object: the same snapshot code, a part shown. */
static json_t *stats_part(struct cp_ctx *cp, const char *key)
{
	json_t *root = cp_stats_json(cp), *part;

	if (root == NULL)
		return NULL;
	part = json_incref(json_object_get(root, key));
	json_decref(root);
	return part;
}

static json_t *r_workers(struct cp_ctx *cp, const char *cmd, const char *params)
{
	if (!no_params(params))
		return tel_error(EINVAL, "%s takes no parameter", cmd);
	return stats_part(cp, "workers");
}

/* /gwart/drops[,REASON]: every reason, or one. */
static json_t *r_drops(struct cp_ctx *cp, const char *cmd, const char *params)
{
	json_t *drops = stats_part(cp, "drops"), *one, *v;

	if (drops == NULL || no_params(params))
		return drops;
	v = json_object_get(drops, params);
	one = v != NULL ? json_pack("{s:O}", params, v)
			: tel_error(ENOENT, "no drop reason \"%.40s\" (%s lists them)", params, cmd);
	json_decref(drops);
	return one;
}

/* /gwart/connectors[,ID] and /gwart/sessions[,ID]: the API's list, or the
 * one object. */
static json_t *conn_list(struct cp_ctx *cp, const char *cmd, const char *params,
			 const char *api_cmd)
{
	json_t *res, *one;
	char *end;
	unsigned long id;

	if (no_params(params))
		return api_call(cp, api_cmd, json_object());
	errno = 0;
	id = strtoul(params, &end, 10);
	if (params[0] < '0' || params[0] > '9' || *end != '\0' || errno != 0 ||
	    id > GW_CTL_MAX_CONN_ID)
		return tel_error(EINVAL, "%s takes a connector id, 1..%u, not \"%.40s\"", cmd,
				 GW_CTL_MAX_CONN_ID, params);
	res = api_call(cp, api_cmd, json_pack("{s:I}", "id", (json_int_t)id));
	if (!json_is_array(res))
		return res; /* an error object (EINVAL for 0, ENOENT) */
	one = json_incref(json_array_get(res, 0));
	json_decref(res);
	return one;
}

static json_t *r_connectors(struct cp_ctx *cp, const char *cmd, const char *params)
{
	return conn_list(cp, cmd, params, GW_CTL_CMD_CONNECTORS);
}

static json_t *r_sessions(struct cp_ctx *cp, const char *cmd, const char *params)
{
	return conn_list(cp, cmd, params, GW_CTL_CMD_SESSIONS);
}

static json_t *r_routes(struct cp_ctx *cp, const char *cmd, const char *params)
{
	(void)cmd;
	return api_call(cp, GW_CTL_CMD_ROUTES,
			no_params(params) ? json_object() : json_pack("{s:s}", "type", params));
}

static const struct {
	const char *cmd;
	json_t *(*fn)(struct cp_ctx *cp, const char *cmd, const char *params);
	const char *help; /* < RTE_TEL_MAX_STRING_LEN */
} tel_cmds[] = {
	{"/gwart/stats", r_stats,
	 "gwartd's counters (gwartctl stats). Takes no parameters"},
	{"/gwart/connectors", r_connectors,
	 "Connectors, their address, custody and counters. Parameters: int connector id (optional)"},
	{"/gwart/sessions", r_sessions,
	 "Session state, probes and backoff. Parameters: int connector id (optional)"},
	{"/gwart/routes", r_routes,
	 "Routes and their targets. Parameters: string address type (optional)"},
	{"/gwart/workers", r_workers, "Per-worker counters. Takes no parameters"},
	{"/gwart/drops", r_drops,
	 "Drops by reason. Parameters: string reason (optional)"},
};

#define TEL_N_CMDS (sizeof(tel_cmds) / sizeof(tel_cmds[0]))

/* The fitted reply to @cmd (an error object for an unknown one), counted. */
static json_t *build(struct cp_ctx *cp, const char *cmd, const char *params)
{
	struct cp_telemetry_cut cut;
	json_t *raw = NULL, *fit;
	unsigned i;

	for (i = 0; i < TEL_N_CMDS; i++)
		if (strcmp(tel_cmds[i].cmd, cmd) == 0) {
			raw = tel_cmds[i].fn(cp, cmd, params);
			break;
		}
	if (i == TEL_N_CMDS)
		raw = tel_error(EOPNOTSUPP, "unknown command %.60s", cmd);
	if (raw == NULL)
		raw = tel_error(ENOMEM, "out of memory");
	if (json_is_object(raw) && json_object_get(raw, "errno") != NULL &&
	    json_object_get(raw, "error") != NULL)
		TEL_ADD(errors);
	/* DPDK writes {"CMD":REPLY} into its buffer, NUL included. */
	fit = cp_telemetry_fit(raw, CP_TELEMETRY_REPLY_MAX - strlen(cmd) - 6, &cut);
	json_decref(raw);
	if (fit == NULL)
		return tel_error(ENOMEM, "reply does not fit %u bytes", CP_TELEMETRY_REPLY_MAX);
	if (cut.entries_omitted || cut.strings_cut || cut.keys_renamed)
		TEL_ADD(truncated);
	TEL_ADD(answered);
	return fit;
}

/* The eventfd is readable: answer everything queued. */
static void on_requests(struct cp_loop *l, int fd, unsigned mask, void *arg)
{
	struct cp_ctx *cp = arg;
	uint64_t n;
	struct tel_req *r;

	(void)l;
	(void)mask;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&tel.mu);
	while ((r = tel.head) != NULL) {
		tel.head = r->next;
		if (tel.head == NULL)
			tel.tail = &tel.head;
		tel.queued--;
		r->reply = build(cp, r->cmd, r->params);
		r->done = 1;
	}
	pthread_cond_broadcast(&tel.cv);
	pthread_mutex_unlock(&tel.mu);
}

/* ---- the telemetry threads' side -------------------------------------------------- */

static void unlink_req(struct tel_req *req)
{
	struct tel_req **p;

	for (p = &tel.head; *p != NULL; p = &(*p)->next)
		if (*p == req) {
			*p = req->next;
			if (*p == NULL)
				tel.tail = p;
			tel.queued--;
			return;
		}
}

json_t *cp_telemetry_ask(const char *cmd, const char *params, unsigned timeout_ms)
{
	struct tel_req req = {.cmd = cmd, .params = params};
	const uint64_t one = 1;
	struct timespec dl;
	json_t *rep;

	pthread_mutex_lock(&tel.mu);
	if (tel.cp == NULL) {
		pthread_mutex_unlock(&tel.mu);
		return tel_error(ESHUTDOWN, "gwartd is not running: no control thread answers");
	}
	TEL_ADD(requests);
	if (tel.queued >= CP_TELEMETRY_QUEUE_MAX) {
		TEL_ADD(refused);
		pthread_mutex_unlock(&tel.mu);
		return tel_error(EBUSY, "%u telemetry requests wait already", tel.queued);
	}
	*tel.tail = &req;
	tel.tail = &req.next;
	tel.queued++;
	if (write(tel.efd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
		unlink_req(&req);
		pthread_mutex_unlock(&tel.mu);
		return tel_error(errno, "cannot wake the control thread");
	}
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	while (!req.done)
		if (pthread_cond_timedwait(&tel.cv, &tel.mu, &dl) == ETIMEDOUT)
			break;
	if (req.done) {
		rep = req.reply;
	} else {
		/* Still queued (the control thread builds with tel.mu held, so
		 * it is not half-way through it): take it back. */
		unlink_req(&req);
		if (tel.cp != NULL)
			TEL_ADD(timeouts);
		rep = tel_error(ETIMEDOUT, "the control thread did not answer within %u ms",
				timeout_ms);
	}
	pthread_mutex_unlock(&tel.mu);
	return rep;
}

/* jansson -> rte_tel_data; @v is fitted, so no limit is hit. Containers
 * come from @pool (pre-allocated: a half-built reply cannot be undone). */
struct tel_pool {
	struct rte_tel_data **d;
	unsigned n, used;
};

static unsigned count_containers(const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;
	unsigned n = 0;

	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, m)
			n += (json_is_object(m) || json_is_array(m)) + count_containers(m);
	else if (json_is_array(v))
		json_array_foreach(v, i, m)
			n += count_containers(m);
	return n;
}

static void to_tel(json_t *v, struct rte_tel_data *d, struct tel_pool *pool)
{
	const char *k;
	json_t *m;
	size_t i;

	if (json_is_array(v)) {
		int numbers = json_array_size(v) == 0 || json_is_integer(json_array_get(v, 0));

		rte_tel_data_start_array(d, numbers ? RTE_TEL_U64_VAL : RTE_TEL_STRING_VAL);
		json_array_foreach(v, i, m) {
			if (numbers)
				rte_tel_data_add_array_u64(d, (uint64_t)json_integer_value(m));
			else
				rte_tel_data_add_array_string(d, json_string_value(m));
		}
		return;
	}
	if (!json_is_object(v)) {
		rte_tel_data_string(d, json_is_string(v) ? json_string_value(v) : "?");
		return;
	}
	rte_tel_data_start_dict(d);
	json_object_foreach(v, k, m) {
		if (json_is_object(m) || json_is_array(m)) {
			struct rte_tel_data *c = pool->d[pool->used++];

			to_tel(m, c, pool);
			rte_tel_data_add_dict_container(d, k, c, 0);
		} else if (json_is_string(m)) {
			rte_tel_data_add_dict_string(d, k, json_string_value(m));
		} else if (json_integer_value(m) >= 0) {
			rte_tel_data_add_dict_u64(d, k, (uint64_t)json_integer_value(m));
		} else {
			rte_tel_data_add_dict_int(d, k, (int)json_integer_value(m));
		}
	}
}

/* Every /gwart/... command (DPDK's telemetry thread). */
static int tel_cb(const char *cmd, const char *params, struct rte_tel_data *d)
{
	json_t *rep = cp_telemetry_ask(cmd, params, CP_TELEMETRY_TIMEOUT_MS);
	struct tel_pool pool = {0};
	unsigned i;

	if (rep == NULL) {
		rte_tel_data_string(d, "ENOMEM: out of memory");
		return 0;
	}
	pool.n = count_containers(rep);
	pool.d = calloc(pool.n ? pool.n : 1, sizeof(*pool.d));
	for (i = 0; pool.d != NULL && i < pool.n; i++)
		if ((pool.d[i] = rte_tel_data_alloc()) == NULL)
			break;
	if (pool.d == NULL || i < pool.n) {
		while (pool.d != NULL && i-- > 0)
			rte_tel_data_free(pool.d[i]);
		rte_tel_data_string(d, "ENOMEM: out of memory");
	} else {
		/* DPDK frees the containers (keep = 0) once written. */
		to_tel(rep, d, &pool);
	}
	free(pool.d);
	json_decref(rep);
	return 0;
}

/* ---- set-up ------------------------------------------------------------------------- */

int cp_telemetry_init(struct cp_ctx *cp)
{
	pthread_condattr_t ca;
	unsigned i;
	int rc, efd;

	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return -errno;
	pthread_mutex_lock(&tel.mu);
	if (!tel.cv_ready) {
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&tel.cv, &ca);
		pthread_condattr_destroy(&ca);
		tel.cv_ready = 1;
	}
	rc = tel.cp != NULL ? -EBUSY : 0;
	for (i = 0; rc == 0 && !tel.registered && i < TEL_N_CMDS; i++)
		rc = rte_telemetry_register_cmd(tel_cmds[i].cmd, tel_cb, tel_cmds[i].help);
	if (rc == 0)
		tel.registered = 1;
	if (rc == 0)
		rc = cp_loop_fd_set(cp->loop, efd, CP_LOOP_READ, on_requests, cp);
	if (rc != 0) {
		pthread_mutex_unlock(&tel.mu);
		close(efd);
		return rc;
	}
	tel.efd = efd;
	tel.head = NULL;
	tel.tail = &tel.head;
	tel.queued = 0;
	tel.cp = cp;
	pthread_mutex_unlock(&tel.mu);
	return 0;
}

void cp_telemetry_fini(struct cp_ctx *cp)
{
	struct tel_req *r;

	pthread_mutex_lock(&tel.mu);
	if (tel.cp != cp || cp == NULL) {
		pthread_mutex_unlock(&tel.mu);
		return;
	}
	while ((r = tel.head) != NULL) {
		tel.head = r->next;
		r->reply = tel_error(ESHUTDOWN, "gwartd is stopping");
		r->done = 1;
	}
	tel.tail = &tel.head;
	tel.queued = 0;
	tel.cp = NULL;
	cp_loop_fd_del(cp->loop, tel.efd);
	close(tel.efd);
	tel.efd = -1;
	pthread_cond_broadcast(&tel.cv);
	pthread_mutex_unlock(&tel.mu);
}
