/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The set-up of the suites on messages of any size (API: msg_env.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "msg_env.h"
#include "sdk_env.h"

uint8_t pat(uint64_t id, size_t i)
{
	return (uint8_t)((i * 131u + id * 7u + (i >> 9)) ^ (id >> 3));
}

void fill(uint8_t *b, size_t len, uint64_t id)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = pat(id, i);
}

static void m_on_result(void *arg, uint64_t id, int status)
{
	struct mapp *a = arg;

	a->n_results++;
	if (id >= MSG_IDS) {
		a->big_results++; /* ids near 2^64: counted only */
		return;
	}
	a->results[id]++;
	a->status[id] = status;
}

static void m_on_notice(void *arg, uint64_t id, int reason)
{
	struct mapp *a = arg;

	cr_assert_eq(reason, GW_NACK_EXPIRED);
	a->n_notices++;
	a->last_notice = id;
}

static void m_on_message(void *arg, uint32_t origin, uint64_t id, const char *dest,
			 uint16_t dest_len, const void *msg, size_t len)
{
	struct mapp *a = arg;
	const uint8_t *b = msg;
	size_t i;

	(void)origin;
	(void)dest;
	(void)dest_len;
	a->n_msgs++;
	if (id >= MSG_IDS) {
		a->big_msgs++; /* ids near 2^64: counted only */
		a->big_len = len;
		return;
	}
	a->got[id]++;
	if (len != a->want_len[id]) {
		a->corrupt++;
		return;
	}
	for (i = 0; i < len; i++)
		if (b[i] != pat(id, i)) {
			a->corrupt++;
			return;
		}
}

static void m_on_deliver(void *arg, uint32_t origin, uint64_t seq, const char *dest,
			 uint16_t dest_len, const void *payload, uint16_t len)
{
	struct mapp *a = arg;

	(void)origin, (void)seq, (void)dest, (void)dest_len, (void)payload, (void)len;
	a->n_deliver++;
}

static void m_on_rx_notice(void *arg, uint32_t origin, uint64_t id, int reason)
{
	struct mapp *a = arg;

	if (a->n_rxn < NOTICES) {
		a->rxn_origin[a->n_rxn] = origin;
		a->rxn_id[a->n_rxn] = id;
		a->rxn_reason[a->n_rxn] = reason;
	}
	a->n_rxn++;
}


struct gw_conn *mopen(struct fake_router *fr, uint32_t id, struct mapp *a,
		      const struct gw_conn_cfg *tweak, bool handler)
{
	struct gw_conn_cfg cfg = tweak ? *tweak : (struct gw_conn_cfg){ 0 };
	struct gw_conn *c;
	int err = 1;

	cfg.id = id;
	fr_key(id, cfg.key);
	cfg.router_addr = "127.0.0.1";
	cfg.router_port = fr->port;
	cfg.bind_addr = "127.0.0.1";
	if (!cfg.rto_us)
		cfg.rto_us = 10000;
	cfg.on_result = m_on_result;
	cfg.on_notice = m_on_notice;
	cfg.on_deliver = m_on_deliver;
	cfg.on_message = handler ? m_on_message : NULL;
	cfg.on_rx_notice = m_on_rx_notice;
	cfg.arg = a;
	a->id = id;
	c = gw_conn_open(&cfg, &err);
	cr_assert_not_null(c, "gw_conn_open: %d", err);
	return c;
}

/* Router (@dup_window, announcing @max_payload), connectors 1 (sender) and
 * 2 (receiver), both up. */
void menv_start(struct menv *e, uint32_t dup_window, uint32_t max_payload, uint64_t seed,
		const struct gw_conn_cfg *c1, const struct gw_conn_cfg *c2, bool handler)
{
	e->fr = fr_new(dup_window, seed);
	e->fr->max_payload = max_payload;
	e->a = calloc(1, sizeof(*e->a));
	e->b = calloc(1, sizeof(*e->b));
	cr_assert(e->a && e->b);
	e->cs[0] = mopen(e->fr, 1, e->a, c1, true);
	e->cs[1] = mopen(e->fr, 2, e->b, c2, handler);
	wait_up(e->fr, e->cs, 2);
}

void menv_free(struct menv *e)
{
	gw_conn_close(e->cs[0]);
	gw_conn_close(e->cs[1]);
	fr_free(e->fr);
	free(e->a);
	free(e->b);
}

/* Pump until @id is resolved at the sender and (if @delivered) delivered,
 * or @ms passes. */
void settle(struct menv *e, uint64_t id, bool delivered, unsigned ms)
{
	uint64_t end = now_us() + (uint64_t)ms * 1000;

	while (now_us() < end) {
		pump(e->fr, e->cs, 2);
		if (e->a->results[id] && (!delivered || e->b->got[id]))
			break;
	}
}

/* Pump for @ms. */
void idle(struct menv *e, unsigned ms)
{
	uint64_t end = now_us() + (uint64_t)ms * 1000;

	while (now_us() < end)
		pump(e->fr, e->cs, 2);
}

/* Send @len bytes to connector 2 (retrying -EAGAIN while pumping); the id. */
uint64_t send_msg(struct menv *e, const char *dest, size_t len, uint8_t *buf)
{
	struct gw_conn_stats st;
	uint64_t id = 0, end = now_us() + 20000000;
	int r;

	gw_conn_get_stats(e->cs[0], &st);
	fill(buf, len, st.next_seq);
	cr_assert_lt(st.next_seq, (uint64_t)MSG_IDS);
	e->b->want_len[st.next_seq] = len;
	while ((r = gw_conn_send_msg(e->cs[0], dest, buf, len, &id)) == -EAGAIN &&
	       now_us() < end)
		pump(e->fr, e->cs, 2);
	cr_assert_eq(r, 0, "gw_conn_send_msg(%zu): %d", len, r);
	cr_assert_eq(id, st.next_seq, "the message id is the next seq");
	return id;
}
