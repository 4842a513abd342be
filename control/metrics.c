/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The /metrics endpoint (see metrics.h): libmicrohttpd without a thread of
 * its own. MHD_USE_EPOLL keeps every socket it owns in one epoll fd; that
 * fd is watched by the control loop, and MHD_run() runs when it is readable
 * or when MHD_get_timeout()'s deadline passes (idle connections, and
 * connections with data MHD has already read and not yet handled: a zero
 * timeout). So the page is built on the control thread, between two other
 * control events, from cp_stats_json(): nothing else reads counters.
 *
 * Limits: CP_METRICS_CONN_MAX connections at once (refused at accept by our
 * policy, so each refusal is counted; MHD's own limit sits above ours and
 * never bites), CP_METRICS_REQUEST_MAX bytes per connection (MHD answers a
 * larger request itself; its request line was seen and the handler never
 * ran, so it is counted as a bad request; a request line too long to fit
 * never reaches us at all: its connection closes without one, counted as
 * no_request), CP_METRICS_IDLE_S idle seconds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include <jansson.h>

#include "cp.h"
#include "metrics.h"

/* One per open connection (MHD's socket context points at it): whether a
 * request line was read on it. A slot for each connection MHD can hold. */
struct conn_slot {
	struct MHD_Connection *c; /* NULL: free */
	int request_seen;
};

struct cp_metrics {
	struct cp_ctx *cp;
	struct MHD_Daemon *d;
	int epfd;
	struct cp_timer timer;  /* MHD_get_timeout()'s deadline */
	uint32_t addr_be;
	uint16_t port;
	unsigned open;          /* connections open now */
	uint64_t connections;   /* accepted */
	uint64_t refused_conns; /* closed at accept: CP_METRICS_CONN_MAX open */
	uint64_t requests;      /* pages served (200) */
	uint64_t not_found;     /* another path (404) */
	uint64_t bad_method;    /* /metrics but not GET or HEAD (405) */
	uint64_t bad_requests;  /* refused by MHD before the handler (too large,
				 * malformed headers) or abandoned mid-request */
	uint64_t no_request;    /* connections closed before a request line was read */
	uint64_t timeouts;      /* a request under way when the connection timed out */
	uint64_t render_failed; /* out of memory building a page (500) */
	struct conn_slot slots[CP_METRICS_CONN_MAX + 1];
};

/* What a request's context points at: its request line was seen (MHD's
 * URI callback), or the handler answered it. */
static char req_seen, req_handled;

static void arm(struct cp_metrics *m);

/* MHD's messages while it starts (the operator's problem); once it runs
 * they are about clients (a request too large, a reset), which a client
 * must not be able to write into gwartd's log: those are counted instead. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct cp_metrics *m = cls;

	if (m->d != NULL)
		return;
	fputs("gwartd: metrics: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct cp_metrics *m = cls;

	(void)addr;
	(void)len;
	if (m->open >= CP_METRICS_CONN_MAX) {
		m->refused_conns++;
		return MHD_NO;
	}
	return MHD_YES;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **sock_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct cp_metrics *m = cls;
	struct conn_slot *s = *sock_ctx;
	unsigned i;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		m->open++;
		m->connections++;
		/* MHD holds at most CP_METRICS_CONN_MAX + 1: a slot is free */
		for (i = 0; i < CP_METRICS_CONN_MAX + 1 && m->slots[i].c != NULL; i++)
			;
		if (i < CP_METRICS_CONN_MAX + 1) {
			m->slots[i].c = c;
			m->slots[i].request_seen = 0;
			*sock_ctx = &m->slots[i];
		}
		return;
	}
	if (m->open > 0)
		m->open--;
	if (s != NULL) {
		if (!s->request_seen)
			m->no_request++;
		s->c = NULL;
	}
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct cp_metrics *m = cls;
	unsigned i;

	(void)uri;
	for (i = 0; i < CP_METRICS_CONN_MAX + 1; i++)
		if (m->slots[i].c == c)
			m->slots[i].request_seen = 1;
	return &req_seen;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
			 enum MHD_RequestTerminationCode toe)
{
	struct cp_metrics *m = cls;

	(void)c;
	if (toe == MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
		return;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		m->timeouts++;
	else if (*req_ctx == &req_seen)
		m->bad_requests++;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode, const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The page: cp_stats_json() and this endpoint's own counters. */
static enum MHD_Result serve(struct cp_metrics *m, struct MHD_Connection *c)
{
	static char oom[] = "out of memory\n";
	json_t *stats, *own;
	char *text = NULL;
	size_t len = 0;

	m->requests++;
	stats = cp_stats_json(m->cp);
	own = cp_metrics_json(m->cp);
	if (stats != NULL && own != NULL) {
		int rc = json_object_set_new(stats, "metrics", own); /* takes @own, even failing */

		own = NULL;
		if (rc == 0)
			text = cp_metrics_text_render(stats, &len);
	}
	json_decref(own);
	json_decref(stats);
	if (text == NULL) {
		m->requests--;
		m->render_failed++;
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, oom, sizeof(oom) - 1,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	return reply(c, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE,
		     "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **req_ctx)
{
	static char not_found[] = "not found: gwartd serves /metrics only\n";
	static char bad_method[] = "method not allowed: GET /metrics\n";
	struct cp_metrics *m = cls;

	(void)version;
	(void)upload;
	(void)upload_len;
	if (*req_ctx == &req_handled)
		return MHD_YES; /* a body after our answer: MHD discards it */
	*req_ctx = &req_handled;
	if (strcmp(url, "/metrics") != 0) {
		m->not_found++;
		return reply(c, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		m->bad_method++;
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method, sizeof(bad_method) - 1,
			     MHD_RESPMEM_PERSISTENT, "text/plain");
	}
	return serve(m, c);
}

/* ---- the control loop's side -------------------------------------------------------- */

static void run(struct cp_metrics *m)
{
	MHD_run(m->d);
	arm(m);
}

static void on_ready(struct cp_loop *l, int fd, unsigned mask, void *arg)
{
	(void)l;
	(void)fd;
	(void)mask;
	run(arg);
}

static void on_timer(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	(void)l;
	(void)now;
	run(t->arg);
}

/* MHD's next deadline as our timer (none: no timer); zero when it holds
 * data already read, so it runs on the next iteration without waiting. */
static void arm(struct cp_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(m->d, &ms) == MHD_YES)
		cp_timer_arm(m->cp->loop, &m->timer, cp_now_us() + (uint64_t)ms * 1000u);
	else
		cp_timer_cancel(m->cp->loop, &m->timer);
}

/* The listening socket, bound here so a failure is the bind's own errno. */
static int listen_on(uint32_t addr_be, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = addr_be};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, rc;

	if (fd < 0)
		return -errno;
	/* A restarted gwartd binds again while old connections linger. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    /* a backlog above the limit: connections over it are refused
	     * (and counted) at accept, not dropped unseen by the kernel */
	    listen(fd, 4 * CP_METRICS_CONN_MAX) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int cp_metrics_start(struct cp_ctx *cp, uint32_t addr_be, uint16_t port)
{
	const union MHD_DaemonInfo *info;
	struct cp_metrics *m;
	int rc, fd;

	if (cp->metrics != NULL)
		return -EALREADY;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	m->cp = cp;
	m->addr_be = addr_be;
	m->port = port;
	cp_timer_init(&m->timer, on_timer, m);
	fd = listen_on(addr_be, port);
	if (fd < 0) {
		rc = fd;
		goto err;
	}
	/* MHD owns @fd from here: MHD_stop_daemon() closes it. */
	m->d = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, on_accept, m, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m, /* first: it covers the others */
		MHD_OPTION_LISTEN_SOCKET, fd,
		/* ours refuses first (counted); MHD's never bites */
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)(CP_METRICS_CONN_MAX + 1),
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CP_METRICS_REQUEST_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CP_METRICS_IDLE_S,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, m,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
		MHD_OPTION_END);
	if (m->d == NULL) {
		close(fd);
		rc = -ENOMEM; /* MHD reports no cause; its log line says it */
		goto err;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL) {
		rc = -EIO;
		goto err_daemon;
	}
	m->epfd = info->epoll_fd;
	rc = cp_loop_fd_set(cp->loop, m->epfd, CP_LOOP_READ, on_ready, m);
	if (rc != 0)
		goto err_daemon;
	cp->metrics = m;
	arm(m);
	return 0;

err_daemon:
	MHD_stop_daemon(m->d);
err:
	free(m);
	return rc;
}

void cp_metrics_stop(struct cp_ctx *cp)
{
	struct cp_metrics *m = cp->metrics;

	if (m == NULL)
		return;
	cp_timer_cancel(cp->loop, &m->timer);
	cp_loop_fd_del(cp->loop, m->epfd);
	MHD_stop_daemon(m->d); /* closes the listening socket and every connection */
	free(m);
	cp->metrics = NULL;
}

json_t *cp_metrics_json(const struct cp_ctx *cp)
{
	const struct cp_metrics *m = cp->metrics;
	char addr[INET_ADDRSTRLEN];
	json_t *o;

	if (m == NULL || (o = json_object()) == NULL)
		return NULL;
#define J(k, v) json_object_set_new(o, k, json_integer((json_int_t)(v)))
	J("requests", m->requests);
	J("not_found", m->not_found);
	J("bad_method", m->bad_method);
	J("bad_requests", m->bad_requests);
	J("refused_conns", m->refused_conns);
	J("no_request", m->no_request);
	J("timeouts", m->timeouts);
	J("render_failed", m->render_failed);
	J("connections", m->connections);
	J("connections_open", m->open);
	J("port", m->port);
#undef J
	inet_ntop(AF_INET, &m->addr_be, addr, sizeof(addr));
	json_object_set_new(o, "address", json_string(addr));
	return o;
}
