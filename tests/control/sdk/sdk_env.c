/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application side of the SDK's suites and their shared set-up (API:
 * sdk_env.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "sdk_env.h"

uint64_t now_us(void)
{
	return fr_now_us();
}

struct app *app_new(void)
{
	struct app *a = calloc(1, sizeof(*a));

	cr_assert_not_null(a);
	return a;
}

static void app_on_notice(void *arg, uint64_t seq, int reason)
{
	struct app *a = arg;

	cr_assert_eq(reason, GW_NACK_EXPIRED);
	a->n_notices++;
	a->notice_seq = seq;
}

static void app_on_result(void *arg, uint64_t seq, int status)
{
	struct app *a = arg;

	cr_assert_lt(seq, (uint64_t)APP_MAX);
	a->results[seq]++;
	a->status[seq] = status;
	a->n_results++;
	if (status == 0)
		a->n_acked++;
	else
		a->n_failed++;
}

static void app_on_deliver(void *arg, uint32_t origin, uint64_t seq, const char *dest,
			   uint16_t dest_len, const void *payload, uint16_t len)
{
	struct app *a = arg;
	uint64_t want[4];

	cr_assert_lt(seq, (uint64_t)APP_MAX);
	a->deliveries[seq]++;
	a->n_delivered++;
	/* Payload: origin, seq, and a function of both: detects corruption
	 * and mix-ups. */
	want[0] = origin;
	want[1] = seq;
	want[2] = seq * 0x9e3779b97f4a7c15ull;
	want[3] = dest_len;
	if (len != sizeof(want) || memcmp(payload, want, sizeof(want)) != 0)
		a->corrupt++;
	(void)dest;
}

struct gw_conn *open_conn(struct fake_router *fr, uint32_t id, struct app *a,
			  struct gw_conn_cfg *tweak)
{
	struct gw_conn_cfg cfg = tweak ? *tweak : (struct gw_conn_cfg){ 0 };
	struct gw_conn *c;
	int err = 1;

	static const uint8_t zero[GW_KEY_LEN];

	cfg.id = id;
	/* The key the fake router holds for @id, unless the test set one. */
	if (!memcmp(cfg.key, zero, GW_KEY_LEN))
		fr_key(id, cfg.key);
	cfg.router_addr = "127.0.0.1";
	cfg.router_port = fr->port;
	cfg.bind_addr = "127.0.0.1";
	if (!cfg.rto_us)
		cfg.rto_us = 10000;
	cfg.on_deliver = app_on_deliver;
	cfg.on_result = app_on_result;
	cfg.on_notice = app_on_notice;
	cfg.arg = a;
	a->id = id;
	c = gw_conn_open(&cfg, &err);
	cr_assert_not_null(c, "gw_conn_open: %d", err);
	cr_assert_eq(err, 0);
	return c;
}

void pump(struct fake_router *fr, struct gw_conn **cs, int n)
{
	struct pollfd p[3];
	int i;

	cr_assert(n >= 0 && n <= 2);
	p[0] = (struct pollfd){ .fd = fr->fd, .events = POLLIN };
	for (i = 0; i < n; i++)
		p[i + 1] = (struct pollfd){ .fd = gw_conn_fd(cs[i]), .events = POLLIN };
	(void)poll(p, (nfds_t)n + 1, 1);
	fr_pump(fr);
	for (i = 0; i < n; i++)
		cr_assert_geq(gw_conn_poll(cs[i], 0), 0);
}

void wait_up(struct fake_router *fr, struct gw_conn **cs, int n)
{
	uint64_t end = now_us() + 5000000;
	int i, up;

	do {
		pump(fr, cs, n);
		for (up = 0, i = 0; i < n; i++)
			up += gw_conn_is_up(cs[i]);
	} while (up < n && now_us() < end);
	cr_assert_eq(up, n, "sessions did not come up");
}

int send_one(struct gw_conn *c, const char *dest, uint32_t origin, uint64_t *seq)
{
	uint64_t pl[4];
	uint64_t next;
	struct gw_conn_stats st;

	gw_conn_get_stats(c, &st);
	next = st.next_seq;
	pl[0] = origin;
	pl[1] = next;
	pl[2] = next * 0x9e3779b97f4a7c15ull;
	pl[3] = strlen(dest);
	return gw_conn_send(c, dest, pl, sizeof(pl), seq);
}

uint64_t run_flow(struct fake_router *fr, struct gw_conn **cs, int n, struct app *src,
		  struct app *dst, const char *dest, uint64_t count, unsigned ms)
{
	uint64_t sent = 0, eagain = 0, seq, end = now_us() + (uint64_t)ms * 1000;
	struct gw_conn_stats st;
	int r;

	while (now_us() < end) {
		while (sent < count) {
			r = send_one(cs[0], dest, src->id, &seq);
			if (r == -EAGAIN) {
				eagain++;
				break;
			}
			if (r == -ENOTCONN)
				break; /* re-HELLO in progress */
			cr_assert_eq(r, 0, "gw_conn_send: %d", r);
			sent++;
		}
		pump(fr, cs, n);
		gw_conn_get_stats(cs[0], &st);
		if (sent == count && st.inflight == 0 && st.abandoned == 0 &&
		    (!dst || dst->n_delivered >= src->n_acked))
			break;
	}
	return eagain;
}

void assert_exactly_once(const struct app *src, const struct app *dst, uint64_t first,
			 uint64_t count)
{
	uint64_t s;

	for (s = first; s < first + count; s++) {
		cr_assert_eq(src->results[s], 1, "seq %lu resolved %u times", (unsigned long)s,
			     src->results[s]);
		cr_assert_eq(src->status[s], 0, "seq %lu status %d", (unsigned long)s,
			     src->status[s]);
		if (dst)
			cr_assert_eq(dst->deliveries[s], 1, "seq %lu delivered %u times",
				     (unsigned long)s, dst->deliveries[s]);
	}
	if (dst)
		cr_assert_eq(dst->corrupt, 0);
}

void env_new(struct sdk_env *e, uint32_t dup_window, uint64_t seed)
{
	*e = (struct sdk_env){ .fr = fr_new(dup_window, seed) };
	e->a = app_new();
	e->b = app_new();
}

void env_open(struct sdk_env *e, int n, struct gw_conn_cfg *cfg1, struct gw_conn_cfg *cfg2)
{
	cr_assert(n == 1 || n == 2);
	e->n = n;
	e->cs[0] = open_conn(e->fr, 1, e->a, cfg1);
	if (n == 2)
		e->cs[1] = open_conn(e->fr, 2, e->b, cfg2);
}

void env_up(struct sdk_env *e)
{
	wait_up(e->fr, e->cs, e->n);
}

void env_start(struct sdk_env *e, uint32_t dup_window, uint64_t seed, int n,
	       struct gw_conn_cfg *cfg1, struct gw_conn_cfg *cfg2)
{
	env_new(e, dup_window, seed);
	env_open(e, n, cfg1, cfg2);
	env_up(e);
}

void env_free(struct sdk_env *e)
{
	int i;

	for (i = 0; i < 2; i++)
		gw_conn_close(e->cs[i]);
	fr_free(e->fr);
	free(e->a);
	free(e->b);
	*e = (struct sdk_env){ 0 };
}
