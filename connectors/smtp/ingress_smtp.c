/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ingress side's SMTP sessions (ingress.c has the custody): accepting
 * connections within --max-sessions, feeding smtp_server with what the
 * client sent and writing its replies back, stopping to read while a mail
 * waits for its answer, handing each whole mail to in_mail_take(), the
 * idle timeout and the shutdown's 421.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingress_int.h"
#include "relay.h"

static void sess_update(struct in_sess *s);

/* ---- SMTP sessions ---- */

/* Feed what is buffered, answer mails, write what is queued. */
void in_sess_run(struct in_sess *s)
{
	for (;;) {
		size_t n;

		if (s->waiting || smtp_srv_closed(s->srv) || s->off == s->len)
			break;
		n = smtp_srv_feed(s->srv, s->buf + s->off, s->len - s->off);
		s->off += n;
		if (smtp_srv_pending(s->srv) == SMTP_SRV_EV_MAIL && !s->waiting) {
			in_mail_take(s);
			continue;
		}
		if (n == 0)
			break; /* output nearly full: after the next write */
	}
	if (s->off == s->len)
		s->off = s->len = 0;
	/* Shutting down: once its mail is answered, a session says 421. */
	if (s->in->shutting_down && !s->waiting && !smtp_srv_closed(s->srv))
		smtp_srv_shutdown(s->srv);
	for (;;) {
		size_t n;
		const char *out = smtp_srv_out(s->srv, &n);
		ssize_t w;

		if (!n)
			break;
		w = send(s->fd, out, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			in_sess_close(s);
			return;
		}
		smtp_srv_out_consume(s->srv, (size_t)w);
	}
	if (smtp_srv_closed(s->srv)) {
		size_t n;

		smtp_srv_out(s->srv, &n);
		if (!n) {
			in_sess_close(s);
			return;
		}
	}
	sess_update(s);
}

static void sess_update(struct in_sess *s)
{
	size_t n;
	short ev = 0;

	smtp_srv_out(s->srv, &n);
	if (n)
		ev |= POLLOUT;
	/* Read while there is room and the session takes input. */
	if (!s->waiting && !smtp_srv_closed(s->srv) && s->len < IN_BUF)
		ev |= POLLIN;
	gs_loop_set(s->in->g->loop, s->fd, ev);
}

static void sess_io(struct gs_loop *l, int fd, int revents, void *arg)
{
	struct in_sess *s = arg;

	(void)l;
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t got = recv(fd, s->buf + s->len, IN_BUF - s->len, 0);

		if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
			in_sess_close(s);
			return;
		}
		if (got > 0) {
			s->len += (size_t)got;
			s->idle_deadline = gs_now_ms() + (uint64_t)s->in->g->o.idle_s * 1000u;
		}
	}
	in_sess_run(s);
}

void in_sess_close(struct in_sess *s)
{
	struct gs_ingress *in = s->in;

	if (s->waiting) {
		/* The client left before its answer: the mail is decided anyway
		 * (kept if gwart took any of it, removed if not). */
		struct in_mail *m = s->waiting->user;

		if (m)
			m->sess = NULL;
	}
	gs_loop_del(in->g->loop, s->fd);
	close(s->fd);
	smtp_srv_free(s->srv);
	if (s->prev)
		s->prev->next = s->next;
	else
		in->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	in->nsess--;
	free(s);
}

static bool rcpt_hook(void *arg, const char *addr, struct smtp_srv_verdict *v)
{
	char dest[GW_DEST_MAX + 2];

	(void)arg;
	/* What gwart could not carry is refused at RCPT, not after DATA. */
	if (!mailmsg_valid_addr(addr, strlen(addr)) || !mailmsg_addr_domain(addr, strlen(addr)).len ||
	    snprintf(dest, sizeof(dest), "smtp:%s", addr) > (int)GW_DEST_MAX) {
		*v = (struct smtp_srv_verdict){ 553, "5.1.3", "Recipient address not accepted here" };
		return false;
	}
	return true;
}

void in_on_accept(struct gs_loop *l, int fd, int revents, void *arg)
{
	struct gs_ingress *in = arg;
	struct smtp_srv_cfg sc = { 0 };
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	struct in_sess *s;
	int cfd;

	(void)revents;
	cfd = accept4(fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	if (in->nsess >= in->g->o.max_sessions || in->shutting_down) {
		static const char busy[] = "421 4.7.0 Too many connections, try again later\r\n";

		in->st.sessions_refused++;
		send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(cfd);
		return;
	}
	sc.hostname = in->g->o.name;
	sc.max_size = in->g->o.max_message;
	sc.max_rcpts = GS_RCPTS_MAX;
	sc.rcpt_hook = rcpt_hook;
	sc.hook_arg = in;
	s->srv = smtp_srv_new(&sc);
	if (!s->srv || gs_loop_add(l, cfd, POLLOUT, sess_io, s) < 0) {
		smtp_srv_free(s->srv);
		free(s);
		close(cfd);
		return;
	}
	s->in = in;
	s->fd = cfd;
	if (sa.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, s->ip, sizeof(s->ip));
	else if (sa.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, s->ip, sizeof(s->ip));
	s->idle_deadline = gs_now_ms() + (uint64_t)in->g->o.idle_s * 1000u;
	s->next = in->sessions;
	if (in->sessions)
		in->sessions->prev = s;
	in->sessions = s;
	in->nsess++;
	in->st.sessions++;
	in_sess_run(s);
}

int in_listen(const char *addr)
{
	struct sockaddr_storage sa;
	socklen_t sl;
	int fd, one = 1;

	if (gs_addr_parse(addr, &sa, &sl) < 0)
		return -EINVAL;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sl) < 0 || listen(fd, 128) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void gs_ingress_shutdown(struct gs_ingress *in)
{
	struct in_sess *s, *next;

	in->shutting_down = true;
	if (in->lfd >= 0) {
		gs_loop_del(in->g->loop, in->lfd);
		close(in->lfd);
		in->lfd = -1;
	}
	for (s = in->sessions; s; s = next) {
		next = s->next;
		if (!s->waiting) {
			smtp_srv_shutdown(s->srv);
			in_sess_run(s);
		}
	}
}

bool gs_ingress_busy(const struct gs_ingress *in)
{
	/* An answer decided but not yet written counts: a 250 lost at
	 * shutdown makes the sender send the mail again (a duplicate). */
	for (const struct in_sess *s = in->sessions; s; s = s->next) {
		size_t n;

		smtp_srv_out(s->srv, &n);
		if (s->waiting || s->kick || n)
			return true;
	}
	return in->bounces_active > 0;
}
