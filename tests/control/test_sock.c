/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket (control/sock.c) without an EAL or root: framing
 * (one line, one reply, in order; blank lines; a last line without '\n';
 * a line too long), bad requests, the client bound, the socket file's
 * life (stale replaced, live kept, non-socket refused), driven through the
 * real event loop with a handler that echoes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "loop.h"
#include "sock.h"

static struct cp_loop *loop;
static struct cp_sock *sock;
static char path[108];
static char dir[64];
static unsigned handled;

/* Echo the command back as the result. */
static json_t *echo(void *arg, json_t *req)
{
	(void)arg;
	handled++;
	return json_pack("{s:b, s:O}", "ok", 1, "result", json_object_get(req, "cmd"));
}

static void setup(void)
{
	struct cp_sock_params p = {.handler = echo};

	snprintf(dir, sizeof(dir), "/tmp/gwart-test-sock-%d", getpid());
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	p.path = path;
	handled = 0;
	loop = cp_loop_create();
	cr_assert_not_null(loop);
	cr_assert_eq(cp_sock_open(&sock, loop, &p), 0);
}

static void teardown(void)
{
	cp_sock_close(sock);
	cp_loop_destroy(loop);
	rmdir(dir);
}

TestSuite(sock, .init = setup, .fini = teardown, .timeout = 30);

static int connect_to(const char *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void spin(unsigned n)
{
	while (n-- > 0)
		cp_loop_once(loop, 1000);
}

/* Read one reply line from @fd while the loop runs; NULL at EOF. */
static char *read_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	for (unsigned tries = 0; tries < 2000; tries++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		cp_loop_once(loop, 1000);
		if (poll(&p, 1, 0) != 1)
			continue;
		n = recv(fd, buf + len, 1, 0);
		if (n <= 0)
			return NULL;
		if (buf[len] == '\n') {
			buf[len] = '\0';
			return buf;
		}
		if (++len == cap - 1)
			return NULL;
	}
	return NULL;
}

static void send_all(int fd, const char *s)
{
	cr_assert_eq(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

Test(sock, lines_answered_in_order)
{
	char buf[512];
	struct cp_sock_stats st;
	int fd = connect_to(path);

	cr_assert_geq(fd, 0);
	send_all(fd, "{\"cmd\":\"a\"}\n\n   \n{\"cmd\":\"b\"}\r\n{\"cmd\":\"c\"}\n");
	cr_assert_str_eq(read_line(fd, buf, sizeof(buf)), "{\"ok\":true,\"result\":\"a\"}");
	cr_assert_str_eq(read_line(fd, buf, sizeof(buf)), "{\"ok\":true,\"result\":\"b\"}");
	cr_assert_str_eq(read_line(fd, buf, sizeof(buf)), "{\"ok\":true,\"result\":\"c\"}");
	cp_sock_get_stats(sock, &st);
	cr_assert_eq(st.requests, 3, "blank lines are not requests");
	cr_assert_eq(st.clients_open, 1);
	cr_assert_eq(st.clients_total, 1);
	close(fd);
	spin(20);
	cp_sock_get_stats(sock, &st);
	cr_assert_eq(st.clients_open, 0, "EOF closes the client");
}

Test(sock, last_line_without_newline_at_eof)
{
	char buf[512];
	int fd = connect_to(path);

	send_all(fd, "{\"cmd\":\"last\"}");
	shutdown(fd, SHUT_WR);
	cr_assert_str_eq(read_line(fd, buf, sizeof(buf)), "{\"ok\":true,\"result\":\"last\"}");
	cr_assert_null(read_line(fd, buf, sizeof(buf)), "then closed");
	close(fd);
}

Test(sock, bad_requests_answered_connection_kept)
{
	char buf[512];
	struct cp_sock_stats st;
	int fd = connect_to(path);

	send_all(fd, "not json\n[1]\n{\"nocmd\":1}\n{\"cmd\":\"ok\"}\n");
	cr_assert_not_null(strstr(read_line(fd, buf, sizeof(buf)), "\"errno\":\"EINVAL\""));
	cr_assert_not_null(strstr(read_line(fd, buf, sizeof(buf)), "not a JSON object"));
	cr_assert_not_null(strstr(read_line(fd, buf, sizeof(buf)), "with a \\\"cmd\\\" string"));
	cr_assert_str_eq(read_line(fd, buf, sizeof(buf)), "{\"ok\":true,\"result\":\"ok\"}");
	cp_sock_get_stats(sock, &st);
	cr_assert_eq(st.bad_requests, 3);
	cr_assert_eq(st.requests, 4);
	cr_assert_eq(handled, 1, "the handler sees well-formed requests only");
	close(fd);
}

Test(sock, line_too_long_closes)
{
	char *big = malloc(GW_CTL_MAX_REQUEST + 16), buf[512];
	int fd = connect_to(path), fl;
	size_t off = 0;

	memset(big, 'x', GW_CTL_MAX_REQUEST + 16);
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (off < GW_CTL_MAX_REQUEST + 16) {
		ssize_t n = send(fd, big + off, GW_CTL_MAX_REQUEST + 16 - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (errno != EAGAIN)
			break;
		cp_loop_once(loop, 1000);
	}
	fcntl(fd, F_SETFL, fl);
	cr_assert_not_null(strstr(read_line(fd, buf, sizeof(buf)), "\"errno\":\"E2BIG\""));
	cr_assert_null(read_line(fd, buf, sizeof(buf)), "closed after the error");
	free(big);
	close(fd);
}

Test(sock, client_bound)
{
	int fds[CP_SOCK_MAX_CLIENTS + 1], i;
	struct cp_sock_stats st;
	char buf[512];

	for (i = 0; i < CP_SOCK_MAX_CLIENTS; i++) {
		fds[i] = connect_to(path);
		cr_assert_geq(fds[i], 0);
		spin(5);
	}
	fds[i] = connect_to(path);
	cr_assert_not_null(strstr(read_line(fds[i], buf, sizeof(buf)), "\"errno\":\"EBUSY\""));
	cp_sock_get_stats(sock, &st);
	cr_assert_eq(st.clients_open, CP_SOCK_MAX_CLIENTS);
	cr_assert_eq(st.refused_full, 1);
	for (i = 0; i <= CP_SOCK_MAX_CLIENTS; i++)
		close(fds[i]);
	spin(50);
	cp_sock_get_stats(sock, &st);
	cr_assert_eq(st.clients_open, 0, "every fd closed once");
}

Test(sock, socket_file_life)
{
	struct cp_sock_params p = {.path = path, .handler = echo};
	struct cp_sock *other;
	char stale[100], plain[100];
	struct stat sb;
	int fd;

	cr_assert_eq(stat(path, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 0777, 0660);
	/* A live one is not taken over. */
	cr_assert_eq(cp_sock_open(&other, loop, &p), -EADDRINUSE);
	/* A stale one (nobody listening) is replaced. */
	snprintf(stale, sizeof(stale), "%s/stale.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
		cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(fd);
	p.path = stale;
	cr_assert_eq(cp_sock_open(&other, loop, &p), 0);
	cr_assert_str_eq(cp_sock_path(other), stale);
	cp_sock_close(other);
	cr_assert_neq(stat(stale, &sb), 0, "its file goes with it");
	/* Not a socket: refused, left alone. */
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	close(open(plain, O_CREAT | O_WRONLY, 0600));
	p.path = plain;
	cr_assert_eq(cp_sock_open(&other, loop, &p), -EEXIST);
	cr_assert_eq(stat(plain, &sb), 0);
	unlink(plain);
	p.path = "/tmp/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock";
	cr_assert_eq(cp_sock_open(&other, loop, &p), -ENAMETOOLONG);
}

Test(sock, error_reply_names)
{
	json_t *e = cp_sock_error(-ENOENT, "no connector 3");

	cr_assert_str_eq(json_string_value(json_object_get(e, "errno")), GW_CTL_ENOENT);
	cr_assert_str_eq(json_string_value(json_object_get(e, "error")), "no connector 3");
	cr_assert(json_is_false(json_object_get(e, "ok")));
	json_decref(e);
	e = cp_sock_error(EBUSY, "");
	cr_assert_str_eq(json_string_value(json_object_get(e, "errno")), GW_CTL_EBUSY);
	cr_assert_str_eq(json_string_value(json_object_get(e, "error")), strerror(EBUSY));
	json_decref(e);
}
