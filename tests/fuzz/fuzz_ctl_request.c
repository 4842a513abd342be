/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the control socket's request path without a router:
 * the real listener of control/sock.c on a scratch path, served by its
 * control loop, and a handler that runs the API's envelope check
 * cp_api_parse_request() (control/api.c). Each input is one client's byte
 * stream, written in chunk sizes drawn from a hash of the input (at
 * most about 64 writes), then
 * half-closed; the loop runs until gwartd closes the client.
 *
 * Oracle, a model of the framing: the input splits at '\n' into lines,
 * trailing CR/blanks trimmed, blank lines skipped; a line of
 * CP_SOCK_MAX_REQUEST bytes or more ends the client with one E2BIG reply.
 * Every other line gets exactly one reply, in order. A line that is not a
 * JSON object with a "cmd" string never reaches the handler; one that
 * reaches it arrives equal to the model's own parse of the line. The
 * envelope check fails only with EINVAL/EOPNOTSUPP and a message, and on
 * success names a command of the table.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "api.h"
#include "loop.h"
#include "sock.h"

static struct cp_loop *loop;
static struct cp_sock *sock;
static struct sockaddr_un sa = {.sun_family = AF_UNIX};
static char dir[] = "/tmp/gwart-fuzz-ctl.XXXXXX";
static json_t *seen; /* requests the handler got, in order */

static json_t *handler(void *arg, json_t *req)
{
	char err[128];
	json_t *args = NULL;
	unsigned cmd = ~0u;
	int rc;

	(void)arg;
	memset(err, 0x55, sizeof(err));
	rc = cp_api_parse_request(req, &cmd, &args, err, sizeof(err));
	if (rc == 0 ? cp_api_cmd_name(cmd) == NULL ||
			      strcmp(cp_api_cmd_name(cmd),
				     json_string_value(json_object_get(req, "cmd"))) != 0 ||
			      (args != NULL && !json_is_object(args))
		    : (rc != -EINVAL && rc != -EOPNOTSUPP) || memchr(err, '\0', sizeof(err)) == NULL ||
			      err[0] == '\0')
		abort();
	json_array_append(seen, req);
	return json_pack("{s:b, s:I}", "ok", 1, "n", (json_int_t)json_array_size(seen) - 1);
}

/* libFuzzer ends a bounded run with exit(): remove the socket and its
 * directory (a crash leaves them in /tmp). */
static void cleanup(void)
{
	cp_sock_close(sock);
	rmdir(dir);
	cp_loop_destroy(loop);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cp_sock_params p = {.handler = handler};

	(void)argc;
	(void)argv;
	loop = cp_loop_create();
	if (loop == NULL || mkdtemp(dir) == NULL)
		abort();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", dir);
	p.path = sa.sun_path;
	if (cp_sock_open(&sock, loop, &p) != 0)
		abort();
	atexit(cleanup);
	return 0;
}

/* The model's verdict on line @i of the input, checked against reply @rep. */
static void check_reply(const char *line, size_t len, json_t *rep)
{
	json_t *want, *n = json_object_get(rep, "n");

	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	want = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	if (n != NULL) {
		/* From the handler: only for an object with a "cmd" string,
		 * and exactly what the line says. */
		if (!json_is_string(json_object_get(want, "cmd")) || !json_is_integer(n) ||
		    !json_equal(json_array_get(seen, (size_t)json_integer_value(n)), want))
			abort();
	} else if (!json_is_false(json_object_get(rep, "ok"))) {
		abort(); /* the socket's own replies are errors */
	}
	json_decref(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char rbuf[4096], *in = NULL;
	size_t off = 0, in_len = 0, pos = 0, rounds;
	uint32_t h = 2166136261u;
	int fd, wr_done = 0, closed = 0, big = 0;

	for (off = 0; off < size; off++)
		h = (h ^ data[off]) * 16777619u;
	off = 0;
	seen = json_array();
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (seen == NULL || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		abort();
	/* Bounded: a hang is a finding too (libFuzzer's -timeout backs this). */
	for (rounds = 0; !closed && rounds < 1000000; rounds++) {
		if (!wr_done && off < size) {
			/* At least size/64 bytes: a 64 KiB line in 1-byte
			 * writes would cost more than it finds. */
			size_t chunk = 1 + size / 64 + (h % (1u << ((h >> 8) % 17)));
			ssize_t w;

			h = h * 1103515245u + 12345u;
			if (chunk > size - off)
				chunk = size - off;
			w = send(fd, data + off, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				off += (size_t)w;
			else if (w < 0 && errno != EAGAIN)
				wr_done = 1; /* gwartd closed it (E2BIG) */
		}
		if (!wr_done && off == size) {
			shutdown(fd, SHUT_WR);
			wr_done = 1;
		}
		cp_loop_once(loop, 0);
		for (;;) {
			ssize_t r = recv(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT);

			if (r > 0) {
				in = realloc(in, in_len + (size_t)r);
				if (in == NULL)
					abort();
				memcpy(in + in_len, rbuf, (size_t)r);
				in_len += (size_t)r;
			} else {
				closed = r == 0 || errno != EAGAIN;
				break;
			}
		}
	}
	if (!closed)
		abort();
	close(fd);
	/* Walk the model's lines and the replies together. */
	off = 0;
	while (off < size && !big) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl != NULL ? (size_t)(nl - (data + off)) : size - off;
		const char *rl = in != NULL ? memchr(in + pos, '\n', in_len - pos) : NULL;
		size_t t = len;
		json_t *rep;

		while (t > 0 && (data[off + t - 1] == '\r' || data[off + t - 1] == ' ' ||
				 data[off + t - 1] == '\t'))
			t--;
		if (len < CP_SOCK_MAX_REQUEST && t == 0) { /* blank: no reply */
			off += len + 1;
			continue;
		}
		if (rl == NULL)
			abort(); /* a line without its reply */
		rep = json_loadb(in + pos, (size_t)(rl - (in + pos)), 0, NULL);
		if (rep == NULL)
			abort();
		pos = (size_t)(rl - in) + 1;
		if (len >= CP_SOCK_MAX_REQUEST) {
			if (strcmp(json_string_value(json_object_get(rep, "errno")) ?: "",
				   GW_CTL_E2BIG) != 0)
				abort();
			big = 1;
		} else {
			check_reply((const char *)data + off, len, rep);
		}
		json_decref(rep);
		off += len + 1;
	}
	if (pos != in_len)
		abort(); /* replies nobody asked for */
	free(in);
	json_decref(seen);
	seen = NULL;
	return 0;
}
