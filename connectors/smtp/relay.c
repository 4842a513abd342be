/* SPDX-License-Identifier: BSD-3-Clause */
/* Outgoing SMTP transactions (relay.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

struct gs_relay {
	struct gs_relay *next, *prev; /* every live relay, for the idle timers */
	struct gs_loop *loop;
	int fd;
	int connected;
	struct smtp_cli *cli;
	uint32_t idle_ms;
	uint64_t deadline_ms;
	gs_relay_done_fn done;
	void *arg;
};

static struct gs_relay *relays;
static struct gs_relay_stats rst;

int gs_addr_parse(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	char *end;
	long port;

	if (!colon || colon == s)
		return -EINVAL;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port <= 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;

		host[hl - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -EINVAL;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;

	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -EINVAL;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	*len = sizeof(*a4);
	return 0;
}

static void relay_free(struct gs_relay *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		relays = r->next;
	if (r->next)
		r->next->prev = r->prev;
	if (r->fd >= 0) {
		gs_loop_del(r->loop, r->fd);
		close(r->fd);
	}
	smtp_cli_free(r->cli);
	free(r);
}

static void finish(struct gs_relay *r)
{
	size_t n;
	const char *out;

	/* QUIT, if it is queued and the socket takes it now; not waited for. */
	if (r->fd >= 0 && r->connected) {
		out = smtp_cli_out(r->cli, &n);
		if (n)
			send(r->fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	rst.done++;
	r->done(r->arg, r->cli);
	relay_free(r);
}

static void update_events(struct gs_relay *r)
{
	size_t n;

	if (!r->connected) {
		gs_loop_set(r->loop, r->fd, POLLOUT);
		return;
	}
	smtp_cli_out(r->cli, &n);
	gs_loop_set(r->loop, r->fd, (short)(POLLIN | (n ? POLLOUT : 0)));
}

static void on_io(struct gs_loop *l, int fd, int revents, void *arg)
{
	struct gs_relay *r = arg;
	char buf[8192];

	(void)l;
	if (!r->connected) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			rst.connect_failed++;
			smtp_cli_lost(r->cli);
			finish(r);
			return;
		}
		r->connected = 1;
		r->deadline_ms = gs_now_ms() + r->idle_ms;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);

		if (got > 0) {
			smtp_cli_feed(r->cli, buf, (size_t)got);
			r->deadline_ms = gs_now_ms() + r->idle_ms;
		} else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
			if (!smtp_cli_done(r->cli)) {
				rst.lost++;
				smtp_cli_lost(r->cli);
			}
			finish(r);
			return;
		}
	}
	if (smtp_cli_done(r->cli)) {
		finish(r);
		return;
	}
	/* Write as much as the socket takes. */
	for (;;) {
		size_t n;
		const char *out = smtp_cli_out(r->cli, &n);
		ssize_t w;

		if (!n)
			break;
		w = send(fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			rst.lost++;
			smtp_cli_lost(r->cli);
			finish(r);
			return;
		}
		smtp_cli_out_consume(r->cli, (size_t)w);
		r->deadline_ms = gs_now_ms() + r->idle_ms;
	}
	update_events(r);
}

struct gs_relay *gs_relay_start(struct gs_loop *l, const struct sockaddr_storage *sa,
				socklen_t salen, const char *helo, const struct smtp_cli_mail *m,
				uint32_t idle_ms, gs_relay_done_fn done, void *arg, int *err)
{
	struct smtp_cli_cfg cc = { .helo = helo };
	struct gs_relay *r = calloc(1, sizeof(*r));
	int one = 1;

	if (!r) {
		*err = -ENOMEM;
		return NULL;
	}
	r->fd = -1;
	r->loop = l;
	r->idle_ms = idle_ms;
	r->done = done;
	r->arg = arg;
	r->cli = smtp_cli_new(&cc, m);
	if (!r->cli) {
		*err = -(errno ? errno : EINVAL);
		free(r);
		return NULL;
	}
	r->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		*err = -errno;
		smtp_cli_free(r->cli);
		free(r);
		return NULL;
	}
	setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r->next = relays;
	if (relays)
		relays->prev = r;
	relays = r;
	rst.started++;
	r->deadline_ms = gs_now_ms() + idle_ms;
	if (gs_loop_add(l, r->fd, POLLOUT, on_io, r) < 0) {
		*err = -ENOMEM;
		close(r->fd);
		r->fd = -1;
		relay_free(r);
		return NULL;
	}
	if (connect(r->fd, (const struct sockaddr *)sa, salen) < 0 && errno != EINPROGRESS) {
		/* Reported as a failed connection: the caller retries as for any. */
		rst.connect_failed++;
		smtp_cli_lost(r->cli);
		r->deadline_ms = 0; /* finished by the next tick, not from inside start */
	}
	return r;
}

void gs_relay_abort(struct gs_relay *r)
{
	if (r)
		relay_free(r);
}

int gs_relay_tick(struct gs_loop *l, uint64_t now_ms, void *arg)
{
	struct gs_relay *r = relays, *next;
	int wait = -1;

	(void)l;
	(void)arg;
	for (; r; r = next) {
		next = r->next;
		if (smtp_cli_done(r->cli) || now_ms >= r->deadline_ms) {
			if (!smtp_cli_done(r->cli)) {
				rst.timeouts++;
				smtp_cli_timeout(r->cli);
			}
			finish(r);
			continue;
		}
		if (wait < 0 || r->deadline_ms - now_ms < (uint64_t)wait)
			wait = (int)(r->deadline_ms - now_ms);
	}
	return wait;
}

void gs_relay_get_stats(struct gs_relay_stats *st)
{
	*st = rst;
}
