/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket (see sock.h): a non-blocking UNIX stream server whose
 * fds the control loop watches. It frames lines and enforces the bounds;
 * what a request means is the handler's business.
 *
 * A client's life: accepted -> credentials checked -> slot taken (after
 * reaping hung-up peers and, failing that, evicting the longest-silent
 * client that never sent a request; else refused with one error line and
 * closed) -> read at once -> lines read into a fixed 64 KiB buffer and
 * answered in order -> closed on EOF once its replies are flushed, on an
 * I/O error, after a request too long to frame, or when its idle timer
 * (re-armed on every byte either way) fires.
 * close_client() is the only place a client fd is closed, and it forgets
 * the fd as it closes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "sock.h"

struct cp_sock;

struct cp_client {
	int fd;           /* -1: free slot */
	struct cp_sock *s;
	struct cp_timer idle;  /* armed while the slot is taken */
	uint64_t last_us;      /* last byte read or written (accept time at first) */
	uint64_t answered;     /* request lines answered: 0 means evictable */
	char *in;         /* CP_SOCK_MAX_REQUEST bytes */
	size_t in_off;    /* first unconsumed byte */
	size_t in_len;    /* end of received bytes */
	char *out;        /* replies not yet written */
	size_t out_off, out_len, out_cap;
	uint8_t eof;      /* the peer will send no more: answer, flush, close */
	uint8_t closing;  /* refuse further requests: flush, then close */
	uint8_t watched;  /* registered with the loop */
	uint8_t awaits_end; /* an accepted "shutdown": waits for our EOF, no idle timeout */
};

struct cp_sock {
	int lfd;
	struct cp_loop *loop;
	cp_sock_handler_fn handler;
	void *arg;
	struct cp_timer again;  /* clients with lines left over: serve next iteration */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;        /* the socket file we created: remove only that one */
	ino_t ino;
	uid_t allow_uid;
	gid_t allow_gid;
	uint64_t idle_us;
	struct cp_sock_stats st;
	struct cp_client cl[CP_SOCK_MAX_CLIENTS];
};

static size_t out_pending(const struct cp_client *c)
{
	return c->out_len - c->out_off;
}

static void close_client(struct cp_sock *s, struct cp_client *c)
{
	if (c->fd < 0)
		return;
	cp_loop_fd_del(s->loop, c->fd);
	cp_timer_cancel(s->loop, &c->idle);
	close(c->fd);
	c->fd = -1;
	free(c->in);
	free(c->out);
	c->in = c->out = NULL;
	c->in_off = c->in_len = c->out_off = c->out_len = c->out_cap = 0;
	c->eof = c->closing = c->watched = c->awaits_end = 0;
	c->answered = 0;
	s->st.clients_open--;
}

/* Traffic on @c: its idle timer starts over. Failing to re-arm (no
 * memory for the heap) leaves the earlier deadline, which only closes it
 * sooner. */
static void touch(struct cp_sock *s, struct cp_client *c)
{
	c->last_us = cp_now_us();
	if (c->awaits_end)
		return;
	(void)cp_timer_arm(s->loop, &c->idle, c->last_us + s->idle_us);
}

static void say(int fd, int err, const char *text);

/* Close @c with one best-effort error line first, when nothing else is
 * queued for it (a line in the middle of a reply would corrupt it). */
static void close_telling(struct cp_sock *s, struct cp_client *c, int err, const char *text)
{
	if (c->fd >= 0 && out_pending(c) == 0)
		say(c->fd, err, text);
	close_client(s, c);
}

static void on_idle(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_client *c = t->arg;
	struct cp_sock *s = c->s;
	char msg[80];

	(void)l;
	(void)now;
	if (c->fd < 0)
		return;
	s->st.clients_idle_closed++;
	snprintf(msg, sizeof(msg), "nothing sent or read for %llu ms: closed",
		 (unsigned long long)(s->idle_us / 1000));
	close_telling(s, c, ETIMEDOUT, msg);
}

/* Write what the socket takes now. 1 if something was written. */
static int flush_client(struct cp_sock *s, struct cp_client *c)
{
	int wrote = 0;

	while (c->fd >= 0 && out_pending(c) > 0) {
		ssize_t n = send(c->fd, c->out + c->out_off, out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			c->out_off += (size_t)n;
			wrote = 1;
			touch(s, c);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			close_client(s, c); /* EPIPE, ECONNRESET: it is gone */
			return wrote;
		}
	}
	if (c->fd >= 0 && out_pending(c) == 0) {
		c->out_off = c->out_len = 0;
		/* Do not keep a large reply's buffer (a route dump) pinned. */
		if (c->out_cap > CP_SOCK_MAX_PENDING) {
			free(c->out);
			c->out = NULL;
			c->out_cap = 0;
		}
	}
	return wrote;
}

static int append(struct cp_client *c, const char *p, size_t n)
{
	if (c->out_off > 0 && c->out_len + n > c->out_cap) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_len + n > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *q;

		while (cap < c->out_len + n)
			cap *= 2;
		q = realloc(c->out, cap);
		if (q == NULL)
			return -ENOMEM;
		c->out = q;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

/* Queue @rep (consumed) as one line. Out of memory: the client cannot be
 * answered in order any more, so it is closed after what it has. */
static void reply(struct cp_client *c, json_t *rep)
{
	char *txt = rep != NULL ? json_dumps(rep, JSON_COMPACT) : NULL;

	json_decref(rep);
	if (txt == NULL || append(c, txt, strlen(txt)) != 0 || append(c, "\n", 1) != 0)
		c->closing = 1;
	free(txt);
}

/* Best effort, one error line to a peer; it may be gone already. */
static void say(int fd, int err, const char *text)
{
	json_t *rep = cp_sock_error(err, text);
	char *txt = rep != NULL ? json_dumps(rep, JSON_COMPACT) : NULL;

	if (txt != NULL) {
		size_t n = strlen(txt);

		txt[n] = '\n'; /* json_dumps' NUL becomes the line end */
		/* It may be gone already: nothing more to do either way. */
		(void)send(fd, txt, n + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	free(txt);
	json_decref(rep);
}

/* One error line to a peer we will not serve, then close. */
static void refuse(int fd, int err, const char *text)
{
	say(fd, err, text);
	close(fd);
}

/* Root, the allowed user, or the allowed group as primary or supplementary
 * group (SO_PEERGROUPS: group membership is how operators are usually
 * given access, and it is rarely the primary group). */
static int peer_allowed(const struct cp_sock *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	gid_t small[64], *g = small;
	int ok = 0;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return 0;
	if (cr.uid == 0 || cr.uid == s->allow_uid || cr.gid == s->allow_gid)
		return 1;
	len = sizeof(small);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0) {
		if (errno != ERANGE || (g = malloc(len)) == NULL ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) != 0)
			goto out;
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (g[i] == s->allow_gid)
			ok = 1;
out:
	if (g != small)
		free(g);
	return ok;
}

static int read_client(struct cp_sock *s, struct cp_client *c);
static void service(struct cp_sock *s, struct cp_client *c);
static unsigned interest(const struct cp_client *c);

static struct cp_client *free_slot(struct cp_sock *s)
{
	unsigned i;

	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++)
		if (s->cl[i].fd < 0)
			return &s->cl[i];
	return NULL;
}

/* Every slot taken: read each client that we would read anyway, so that a
 * peer which already hung up (EOF waiting in its socket, its epoll event
 * not yet dispatched) is closed now rather than counted against the new
 * one. Then, if still full, evict the longest-silent client that was
 * never answered (sock.h has the policy). NULL: full of clients at work. */
static struct cp_client *make_room(struct cp_sock *s)
{
	struct cp_client *c, *victim = NULL;
	unsigned i;

	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++) {
		c = &s->cl[i];
		if (c->fd >= 0 && c->watched && (interest(c) & CP_LOOP_READ)) {
			read_client(s, c);
			service(s, c);
		}
	}
	c = free_slot(s);
	if (c != NULL)
		return c;
	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++) {
		c = &s->cl[i];
		if (c->answered == 0 && out_pending(c) == 0 && !c->closing &&
		    (victim == NULL || c->last_us < victim->last_us))
			victim = c;
	}
	if (victim == NULL)
		return NULL;
	s->st.clients_evicted++;
	close_telling(s, victim, ETIMEDOUT, "sent nothing: closed to admit another client");
	return victim;
}

static unsigned accept_clients(struct cp_sock *s)
{
	unsigned n = 0, k;

	/* Bounded per poll so a connect storm cannot hold the control thread. */
	for (k = 0; k < 2 * CP_SOCK_MAX_CLIENTS; k++) {
		struct cp_client *c;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				s->st.accept_errors++; /* EMFILE...: retried next poll */
			break;
		}
		n++;
		if (!peer_allowed(s, fd)) {
			s->st.refused_cred++;
			refuse(fd, EACCES, "permission denied: not an allowed user or group");
			continue;
		}
		c = free_slot(s);
		if (c == NULL)
			c = make_room(s);
		if (c == NULL) {
			s->st.refused_full++;
			refuse(fd, EBUSY, "too many control clients: try again later");
			continue;
		}
		c->in = malloc(CP_SOCK_MAX_REQUEST);
		if (c->in == NULL) {
			s->st.accept_errors++;
			refuse(fd, ENOMEM, "out of memory");
			continue;
		}
		c->fd = fd;
		c->s = s;
		s->st.clients_open++;
		s->st.clients_total++;
		touch(s, c);
		/* Read it now: a peer that connected and hung up (connect/close
		 * in a loop) gives its slot back before the next accept. */
		c->watched = 1;
		read_client(s, c);
		service(s, c);
	}
	return n;
}

/* Read what is there. 1 if bytes arrived or the peer's state changed. */
static int read_client(struct cp_sock *s, struct cp_client *c)
{
	int got = 0;

	if (c->in_off > 0) { /* keep the unconsumed tail at the front */
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	while (c->in_len < CP_SOCK_MAX_REQUEST && !c->eof) {
		ssize_t n = read(c->fd, c->in + c->in_len, CP_SOCK_MAX_REQUEST - c->in_len);

		if (n > 0) {
			c->in_len += (size_t)n;
			got = 1;
			touch(s, c);
		} else if (n == 0) {
			c->eof = 1;
			got = 1;
		} else if (errno == EINTR) {
			continue;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else {
			close_client(s, c);
			return 1;
		}
	}
	return got;
}

static void handle_line(struct cp_sock *s, struct cp_client *c,
			const char *line, size_t len)
{
	json_error_t je;
	json_t *req, *rep;

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return; /* blank lines keep an interactive session (socat) friendly */
	s->st.requests++;
	c->answered++;
	/* jansson would nest up to 2048 levels, and spend stack and memory
	 * on each: nothing a request needs, so such a line is not parsed. */
	if (cp_sock_json_depth(line, len, CP_SOCK_MAX_DEPTH) > CP_SOCK_MAX_DEPTH) {
		char msg[80];

		s->st.bad_requests++;
		s->st.bad_too_deep++;
		snprintf(msg, sizeof(msg), "bad request: nested deeper than %u arrays/objects",
			 (unsigned)CP_SOCK_MAX_DEPTH);
		reply(c, cp_sock_error(EINVAL, msg));
		return;
	}
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_string(json_object_get(req, "cmd"))) {
		char msg[200];

		s->st.bad_requests++;
		s->st.bad_malformed++;
		snprintf(msg, sizeof(msg), "bad request: %s",
			 req == NULL ? je.text : "not a JSON object with a \"cmd\" string");
		rep = cp_sock_error(EINVAL, msg);
	} else {
		rep = s->handler(s->arg, req);
		/* gwartctl shutdown waits, silent, for the EOF that says gwartd
		 * has stopped (a drain may take minutes): an idle timeout
		 * would tell it so too early. */
		if (json_is_true(json_object_get(rep, "ok")) &&
		    strcmp(json_string_value(json_object_get(req, "cmd")), GW_CTL_CMD_SHUTDOWN) == 0) {
			c->awaits_end = 1;
			cp_timer_cancel(s->loop, &c->idle);
		}
	}
	json_decref(req);
	reply(c, rep);
}

/* Answer complete lines, at most CP_SOCK_REQS_PER_POLL. Returns how many. */
static unsigned serve_client(struct cp_sock *s, struct cp_client *c)
{
	unsigned done = 0;

	while (done < CP_SOCK_REQS_PER_POLL && !c->closing &&
	       out_pending(c) < CP_SOCK_MAX_PENDING) {
		char *p = c->in + c->in_off;
		size_t avail = c->in_len - c->in_off;
		char *nl = memchr(p, '\n', avail);

		if (nl != NULL) {
			c->in_off += (size_t)(nl - p) + 1;
			handle_line(s, c, p, (size_t)(nl - p));
			/* A request may carry a connector key (connector.add,
			 * set_key): its bytes do not outlive it. */
			explicit_bzero(p, (size_t)(nl - p));
		} else if (c->in_off == 0 && c->in_len == CP_SOCK_MAX_REQUEST) {
			/* No line end in the whole buffer: it cannot be framed. */
			s->st.requests++;
			s->st.bad_requests++;
			s->st.bad_too_long++;
			c->answered++;
			reply(c, cp_sock_error(E2BIG, "request line longer than 65536 bytes"));
			c->closing = 1;
		} else if (c->eof && avail > 0) {
			/* "printf '{...}' | socat": a last line without '\n'. */
			c->in_off = c->in_len;
			handle_line(s, c, p, avail);
		} else {
			break;
		}
		done++;
	}
	return done;
}

static int has_line(const struct cp_client *c)
{
	return c->fd >= 0 && !c->closing && out_pending(c) < CP_SOCK_MAX_PENDING &&
	       c->in_len > c->in_off && memchr(c->in + c->in_off, '\n', c->in_len - c->in_off);
}

/* What the loop should watch for on @c: backpressure, a client that does
 * not read its replies is not read either. */
static unsigned interest(const struct cp_client *c)
{
	unsigned m = 0;

	if (!c->eof && !c->closing && c->in_len - c->in_off < CP_SOCK_MAX_REQUEST &&
	    out_pending(c) < CP_SOCK_MAX_PENDING)
		m |= CP_LOOP_READ;
	if (out_pending(c) > 0)
		m |= CP_LOOP_WRITE;
	return m;
}

static void on_client(struct cp_loop *l, int fd, unsigned mask, void *arg);

/* After I/O on @c: answer its complete lines, flush, close it when it is
 * done, and tell the loop what to wait for next. */
static void service(struct cp_sock *s, struct cp_client *c)
{
	if (c->fd < 0)
		return;
	serve_client(s, c);
	flush_client(s, c);
	if (c->fd >= 0 && (c->closing || c->eof) && out_pending(c) == 0 && !has_line(c) &&
	    (c->closing || c->in_off == c->in_len)) {
		close_client(s, c);
		return;
	}
	if (c->fd < 0)
		return;
	if (cp_loop_fd_set(s->loop, c->fd, interest(c), on_client, s) != 0) {
		close_client(s, c); /* cannot be watched: cannot be served */
		return;
	}
	/* Lines already buffered (past CP_SOCK_REQS_PER_POLL), or an ended
	 * client still to finish off, need no readiness. */
	if (has_line(c) || ((c->eof || c->closing) && out_pending(c) == 0))
		cp_timer_arm(s->loop, &s->again, 0);
}

static struct cp_client *client_of(struct cp_sock *s, int fd)
{
	unsigned i;

	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++)
		if (s->cl[i].fd == fd)
			return &s->cl[i];
	return NULL;
}

static void on_client(struct cp_loop *l, int fd, unsigned mask, void *arg)
{
	struct cp_sock *s = arg;
	struct cp_client *c = client_of(s, fd);
	uint64_t t0 = cp_now_us();

	(void)l;
	if (c == NULL) {
		cp_loop_fd_del(s->loop, fd);
		return;
	}
	if (mask & CP_LOOP_WRITE)
		flush_client(s, c);
	if (c->fd >= 0 && (mask & CP_LOOP_READ))
		read_client(s, c);
	service(s, c);
	s->st.busy_us += cp_now_us() - t0;
}

static void on_again(struct cp_loop *l, struct cp_timer *t, uint64_t now)
{
	struct cp_sock *s = t->arg;
	uint64_t t0 = cp_now_us();
	unsigned i;

	(void)l;
	(void)now;
	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++)
		service(s, &s->cl[i]);
	s->st.busy_us += cp_now_us() - t0;
}

static void on_listen(struct cp_loop *l, int fd, unsigned mask, void *arg)
{
	struct cp_sock *s = arg;
	uint64_t t0 = cp_now_us();
	unsigned i;

	(void)l;
	(void)fd;
	(void)mask;
	accept_clients(s);
	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0 && !s->cl[i].watched) {
			s->cl[i].watched = 1; /* accept_clients serves them: not reached */
			service(s, &s->cl[i]);
		}
	s->st.busy_us += cp_now_us() - t0;
}

/* ---- lifecycle ------------------------------------------------------------------ */

/* Create the socket's directory (one level, 0750) when it is missing. */
static int make_dir(const char *path, const struct cp_sock_params *p, gid_t gid)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0750) != 0)
		return errno == EEXIST ? 0 : -errno;
	/* mkdir() obeys the umask: state the mode, and let the allowed
	 * user and group through. */
	if (chmod(dir, 0750) != 0 ||
	    chown(dir, p->set_uid ? p->allow_uid : (uid_t)-1, p->set_gid ? gid : (gid_t)-1) != 0)
		return -errno;
	return 0;
}

/* A socket file left by a gwartd that died is removed; a live one is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0)
		rc = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		rc = unlink(path) == 0 ? 0 : -errno;
	else
		rc = -errno;
	close(fd);
	return rc;
}

int cp_sock_open(struct cp_sock **out, struct cp_loop *loop, const struct cp_sock_params *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct cp_sock *s;
	struct stat st;
	mode_t old;
	unsigned i;
	int rc;

	if (strlen(p->path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, p->path, strlen(p->path) + 1);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	memcpy(s->path, sa.sun_path, sizeof(s->path));
	s->loop = loop;
	s->handler = p->handler;
	s->arg = p->arg;
	cp_timer_init(&s->again, on_again, s);
	s->allow_uid = p->set_uid ? p->allow_uid : geteuid();
	s->allow_gid = p->set_gid ? p->allow_gid : getegid();
	s->idle_us = (uint64_t)(p->idle_timeout_ms ? p->idle_timeout_ms : CP_SOCK_IDLE_TIMEOUT_MS) *
		     1000u;
	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++) {
		s->cl[i].fd = -1;
		s->cl[i].s = s;
		cp_timer_init(&s->cl[i].idle, on_idle, &s->cl[i]);
	}
	rc = make_dir(p->path, p, s->allow_gid);
	if (rc != 0)
		goto err_free;
	rc = clear_stale(p->path, &sa);
	if (rc != 0)
		goto err_free;
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0) {
		rc = -errno;
		goto err_free;
	}
	/* Born owner-only, widened to 0660 once its group is right: no
	 * window in which another user could connect. */
	old = umask(0177);
	rc = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0) {
		rc = -errno;
		goto err_close;
	}
	if (chown(p->path, p->set_uid ? p->allow_uid : (uid_t)-1,
		  p->set_gid ? p->allow_gid : (gid_t)-1) != 0 ||
	    chmod(p->path, 0660) != 0 || lstat(p->path, &st) != 0 || listen(s->lfd, 64) != 0) {
		rc = -errno;
		goto err_unlink;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	rc = cp_loop_fd_set(loop, s->lfd, CP_LOOP_READ, on_listen, s);
	if (rc != 0)
		goto err_unlink;
	*out = s;
	return 0;

err_unlink:
	unlink(p->path);
err_close:
	close(s->lfd);
err_free:
	free(s);
	return rc;
}

void cp_sock_close(struct cp_sock *s)
{
	struct stat st;
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++) {
		flush_client(s, &s->cl[i]); /* e.g. the reply to "shutdown" */
		close_client(s, &s->cl[i]);
	}
	cp_timer_cancel(s->loop, &s->again);
	cp_loop_fd_del(s->loop, s->lfd);
	close(s->lfd);
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s);
}

void cp_sock_get_stats(const struct cp_sock *s, struct cp_sock_stats *out)
{
	if (s == NULL)
		memset(out, 0, sizeof(*out));
	else
		*out = s->st;
}

const char *cp_sock_path(const struct cp_sock *s)
{
	return s != NULL ? s->path : NULL;
}

json_t *cp_sock_error(int err, const char *text)
{
	const char *name;
	json_t *e;

	if (err < 0)
		err = -err;
	name = strerrorname_np(err);
	if (text == NULL || text[0] == '\0')
		text = strerror(err);
	e = json_pack("{s:b, s:s, s:s}", "ok", 0, "errno", name != NULL ? name : "EIO", "error",
		      text);
	if (e == NULL) {
		/* Not UTF-8 (jansson refuses it): a parse error quoting the
		 * request's own bytes ("near '...'"). Each byte that is not
		 * printable ASCII becomes '?', so the client still gets its
		 * one reply instead of a closed connection. */
		char safe[256];
		size_t i;

		for (i = 0; text[i] != '\0' && i < sizeof(safe) - 1; i++)
			safe[i] = (unsigned char)text[i] >= 0x20 && (unsigned char)text[i] < 0x7f
					  ? text[i]
					  : '?';
		safe[i] = '\0';
		e = json_pack("{s:b, s:s, s:s}", "ok", 0, "errno", name != NULL ? name : "EIO",
			      "error", safe);
	}
	return e;
}

unsigned cp_sock_json_depth(const char *p, size_t len, unsigned max)
{
	unsigned depth = 0, deepest = 0;
	int in_str = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = p[i];

		if (in_str) {
			if (ch == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (ch == '"')
				in_str = 0;
		} else if (ch == '"') {
			in_str = 1;
		} else if (ch == '[' || ch == '{') {
			if (++depth > deepest) {
				deepest = depth;
				if (deepest > max)
					return max + 1;
			}
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}
