/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-smtp's event loop (connectors/smtp/loop.c) and its address parser
 * (relay.c: gs_addr_parse): a ready descriptor's callback runs, one
 * deleted by an earlier callback of the same turn does not, the ticks'
 * smallest delay bounds the wait, a full tick table is refused; numbered
 * address cases at the edges (ports 0, 1, 65535, 65536, IPv6 brackets,
 * junk).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "loop.h"
#include "relay.h"

static int calls[2];
static int fds[2][2];

static void on_a(struct gs_loop *l, int fd, int revents, void *arg)
{
	char c;

	calls[0]++;
	cr_assert(revents & POLLIN);
	cr_assert_eq(read(fd, &c, 1), 1);
	/* The other pipe is ready in this same turn: deleting it here must
	 * keep its callback from running. */
	gs_loop_del(l, fds[1][0]);
	(void)arg;
}

static void on_b(struct gs_loop *l, int fd, int revents, void *arg)
{
	calls[1]++;
	(void)l;
	(void)fd;
	(void)revents;
	(void)arg;
}

static int tick_ms;
static int tick(struct gs_loop *l, uint64_t now, void *arg)
{
	(void)l;
	(void)now;
	(void)arg;
	return tick_ms;
}

Test(loop, delete_in_callback)
{
	struct gs_loop *l = gs_loop_new();

	cr_assert_not_null(l);
	cr_assert_eq(pipe(fds[0]), 0);
	cr_assert_eq(pipe(fds[1]), 0);
	cr_assert_eq(gs_loop_add(l, fds[0][0], POLLIN, on_a, NULL), 0);
	cr_assert_eq(gs_loop_add(l, fds[1][0], POLLIN, on_b, NULL), 0);
	cr_assert_eq(gs_loop_add(l, fds[1][0], POLLIN, on_b, NULL), -EEXIST);
	cr_assert_eq(write(fds[0][1], "x", 1), 1);
	cr_assert_eq(write(fds[1][1], "y", 1), 1);
	cr_assert_eq(gs_loop_once(l, 1000), 0);
	cr_assert_eq(calls[0], 1);
	cr_assert_eq(calls[1], 0, "a descriptor deleted in the turn is not called");
	gs_loop_free(l);
}

Test(loop, tick_bounds_the_wait)
{
	struct gs_loop *l = gs_loop_new();
	uint64_t t0;

	tick_ms = 20;
	cr_assert_eq(gs_loop_tick(l, tick, NULL), 0);
	t0 = gs_now_ms();
	cr_assert_eq(gs_loop_once(l, 5000), 0);
	cr_assert_lt(gs_now_ms() - t0, 1000, "waited past the tick's 20 ms");
	for (int i = 1; i < 8; i++)
		cr_assert_eq(gs_loop_tick(l, tick, NULL), 0);
	cr_assert_eq(gs_loop_tick(l, tick, NULL), -ENOSPC);
	gs_loop_free(l);
}

Test(loop, addr_parse)
{
	static const struct {
		const char *s;
		int ok, family;
		unsigned port;
	} c[] = {
		/* 1 */ { "127.0.0.1:25", 1, AF_INET, 25 },
		/* 2 */ { "198.18.1.2:1", 1, AF_INET, 1 },
		/* 3 */ { "198.18.1.2:65535", 1, AF_INET, 65535 },
		/* 4 */ { "198.18.1.2:65536", 0, 0, 0 },
		/* 5 */ { "198.18.1.2:0", 0, 0, 0 },
		/* 6 */ { "198.18.1.2:", 0, 0, 0 },
		/* 7 */ { "198.18.1.2", 0, 0, 0 },
		/* 8 */ { ":25", 0, 0, 0 },
		/* 9 */ { "[::1]:2525", 1, AF_INET6, 2525 },
		/* 10 */ { "::1:2525", 0, 0, 0 },
		/* 11 */ { "[::1:2525", 0, 0, 0 },
		/* 12 */ { "host.example:25", 0, 0, 0 },
		/* 13 */ { "1.2.3.4:25x", 0, 0, 0 },
		/* 14 */ { "1.2.3.4:-25", 0, 0, 0 },
		/* 15 */ { "1.2.3.4:99999999999999999999", 0, 0, 0 },
		/* 16 */ { "", 0, 0, 0 },
	};

	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sockaddr_storage sa;
		socklen_t len;
		int r = gs_addr_parse(c[i].s, &sa, &len);

		cr_assert_eq(r == 0, c[i].ok, "case %u (%s): %d", i + 1, c[i].s, r);
		if (!c[i].ok)
			continue;
		cr_assert_eq(sa.ss_family, c[i].family, "case %u", i + 1);
		cr_assert_eq(ntohs(c[i].family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
							 : ((struct sockaddr_in6 *)&sa)->sin6_port),
			     c[i].port, "case %u", i + 1);
	}
}
