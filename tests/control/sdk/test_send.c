/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk_send": the connector SDK's sending side (outbox.c)
 * against the fake router: send errors, exactly-once end to end (clean and
 * through loss, duplication and reordering), the duplicate-window rule,
 * BUSY and the send window, refusals (NO_ROUTE, EXPIRED after custody) and
 * the gaps they leave, retransmission and its flag, and where origin seqs
 * start.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "sdk_env.h"

Test(sdk_send, send_errors)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .max_payload = 100 };
	struct gw_conn *c;
	uint8_t big[200] = { 0 };
	char longdest[300];
	int err = 0;

	env_new(&e, 64, 1);
	env_open(&e, 1, &cfg, NULL);
	c = e.cs[0];
	cr_assert_eq(gw_conn_send(c, "smtp:a@c2.example", "x", 1, NULL), -ENOTCONN);
	env_up(&e);
	cr_assert_eq(gw_conn_send(c, "smtp:a@c2.example", big, 101, NULL), -EMSGSIZE);
	cr_assert_eq(gw_conn_send(c, "nocolon", "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(c, "", "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(c, NULL, "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(c, "smtp:a@c2.example", NULL, 1, NULL), -EINVAL);
	memset(longdest, 'a', sizeof(longdest));
	memcpy(longdest, "smtp:", 5);
	longdest[sizeof(longdest) - 1] = 0;
	cr_assert_eq(gw_conn_send(c, longdest, "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(NULL, "smtp:a@c2.example", "x", 1, NULL), -EINVAL);
	/* Bad configurations. */
	cr_assert_null(gw_conn_open(NULL, &err));
	cr_assert_eq(err, -EINVAL);
	cfg = (struct gw_conn_cfg){ .id = 0, .router_addr = "127.0.0.1" };
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	cfg = (struct gw_conn_cfg){ .id = 3, .router_addr = "not-an-address" };
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	cfg = (struct gw_conn_cfg){ .id = 3, .router_addr = "127.0.0.1",
				    .max_inflight = GW_CONN_MAX_INFLIGHT + 1 };
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	cr_assert_eq(gw_conn_close(NULL), 0);
	env_free(&e);
}

Test(sdk_send, exactly_once_clean)
{
	struct sdk_env e;
	struct gw_conn_stats sa, sb;

	env_start(&e, 960, 7, 2, NULL, NULL);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:user@c2.example", 5000, 20000);
	assert_exactly_once(e.a, e.b, 1, 5000);
	gw_conn_get_stats(e.cs[0], &sa);
	gw_conn_get_stats(e.cs[1], &sb);
	cr_assert_eq(sa.acked, 5000);
	cr_assert_eq(sa.sent, 5000);
	cr_assert_eq(sa.inflight, 0);
	cr_assert_eq(sb.delivered, 5000);
	cr_assert_gt(sb.acks_sent, 0);
	cr_assert_eq(e.fr->window_violations, 0);
	cr_assert_eq(e.fr->rtx_flag_wrong, 0);
	cr_assert_eq(e.fr->rtx_flag_missing, 0);
	env_free(&e);
}

Test(sdk_send, exactly_once_through_loss_dup_reorder, .timeout = 120)
{
	struct sdk_env e;
	struct fake_router *fr;
	struct gw_conn_stats sa, sb;
	struct gw_conn_stats st;
	uint64_t end;
	int i;

	env_start(&e, 128, 42, 2, NULL, NULL);
	fr = e.fr;
	/* Lost ACKs seldom cost a resend when later cumulative ACKs cover
	 * them: withhold every ACK of the first 10 messages for a few RTOs,
	 * so that at least those come back to the router as duplicates. */
	fr->hold_acks = true;
	for (i = 0; i < 10; i++)
		cr_assert_eq(send_one(e.cs[0], "smtp:user@c2.example", 1, NULL), 0);
	end = now_us() + 1000000;
	do {
		pump(fr, e.cs, 2);
		gw_conn_get_stats(e.cs[0], &st);
	} while (st.retransmitted < 10 && now_us() < end);
	fr->hold_acks = false;
	fr->drop_in = 10;
	fr->drop_ack = 10;
	fr->dup_ack = 10;
	fr->drop_eg = 10;
	fr->dup_eg = 10;
	fr->reorder_eg = 10;
	run_flow(fr, e.cs, 2, e.a, e.b, "smtp:user@c2.example", 2990, 60000);
	/* Let the last ACKs settle so the counters below are final. */
	fr->drop_in = fr->drop_ack = fr->drop_eg = 0;
	assert_exactly_once(e.a, e.b, 1, 3000);
	gw_conn_get_stats(e.cs[0], &sa);
	gw_conn_get_stats(e.cs[1], &sb);
	cr_assert_eq(sa.acked, 3000);
	cr_assert_gt(sa.retransmitted, 0, "loss must have caused retransmissions");
	cr_assert_gt(sb.duplicates, 0, "duplicated egress frames must be suppressed");
	cr_assert_eq(sb.delivered, 3000);
	cr_assert_eq(fr->window_violations, 0);
	cr_assert_eq(fr->rtx_flag_wrong, 0);
	cr_assert_eq(fr->rtx_flag_missing, 0);
	cr_assert_gt(fr->dup_in, 0, "lost ACKs must have caused router-side duplicates");
	/* Every retransmission was a new frame on the wire (a fresh counter
	 * and tag): the router refused none as a replay or a forgery. */
	cr_assert_eq(fr->replayed, 0);
	cr_assert_eq(fr->auth_failed, 0);
	/* The fake router's copies are sealed afresh: none is a replay. */
	cr_assert_eq(sb.rx_replayed + sb.rx_auth_failed, 0);
	env_free(&e);
}

Test(sdk_send, window_rule_dup_window)
{
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t i, end;

	env_start(&e, 16, 3, 2, NULL, NULL);
	e.fr->hold_acks = true;
	for (i = 0; i < 16; i++)
		cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), 0);
	cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), -EAGAIN);
	/* Without ACKs the SDK retransmits, but never beyond the window. */
	end = now_us() + 300000;
	while (now_us() < end) {
		pump(e.fr, e.cs, 2);
		cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), -EAGAIN);
	}
	cr_assert_eq(e.fr->max_in_seq, 16);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.window, 16);
	cr_assert_eq(st.inflight, 16);
	cr_assert_gt(st.retransmitted, 0);
	/* Release: everything completes, still inside the window. */
	e.fr->hold_acks = false;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 500, 20000);
	assert_exactly_once(e.a, e.b, 1, 516);
	cr_assert_eq(e.fr->window_violations, 0);
	env_free(&e);
}

Test(sdk_send, window_rule_max_inflight)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .max_inflight = 8 };
	struct gw_conn_stats st;
	uint64_t eagain;
	int i;

	env_start(&e, 64, 3, 2, &cfg, NULL);
	e.fr->hold_acks = true;
	for (i = 0; i < 8; i++)
		cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), 0);
	cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), -EAGAIN);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.window, 8);
	e.fr->hold_acks = false;
	e.fr->drop_in = 20;
	eagain = run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 1000, 30000);
	cr_assert_gt(eagain, 0);
	assert_exactly_once(e.a, e.b, 1, 1008);
	cr_assert_eq(e.fr->window_violations, 0);
	env_free(&e);
}

Test(sdk_send, busy_then_retry)
{
	struct sdk_env e;
	struct gw_conn_stats st;

	env_start(&e, 64, 5, 2, NULL, NULL);
	e.fr->busy_left = 40;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 200, 20000);
	assert_exactly_once(e.a, e.b, 1, 200);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.nacked[GW_NACK_BUSY], 40);
	cr_assert_eq(e.fr->busy_tx, 40);
	cr_assert_eq(st.acked, 200);
	cr_assert_eq(st.failed, 0);
	cr_assert_geq(st.retransmitted, 40);
	cr_assert_eq(e.fr->rtx_flag_missing, 0);
	env_free(&e);
}

Test(sdk_send, busy_shrinks_the_send_window)
{
	struct sdk_env e;
	struct gw_conn_stats st;

	env_start(&e, 256, 59, 2, NULL, NULL);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.send_window, 256);
	e.fr->busy_left = 100;
	/* A full window goes out, the router refuses 100 of it. */
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 256, 20000);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_geq(st.window_cuts, 1);
	cr_assert_lt(st.send_window, 256, "BUSY must shrink the send window");
	cr_assert_geq(st.send_window, 32);
	cr_assert_eq(st.window, 256, "the protocol window itself is unchanged");
	/* Acknowledged traffic grows it back. */
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 5000, 30000);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.send_window, 256);
	assert_exactly_once(e.a, e.b, 1, 5256);
	env_free(&e);
}

Test(sdk_send, no_route_reported_once)
{
	struct sdk_env e;
	/* A long RTO: a loaded host must not retransmit before the NACK. */
	struct gw_conn_cfg cfg = { .rto_us = 500000 };
	struct gw_conn *c;
	struct gw_conn_stats st;
	uint64_t seq, end, s;
	int i;

	env_start(&e, 64, 5, 1, &cfg, NULL);
	c = e.cs[0];
	for (i = 0; i < 10; i++) {
		cr_assert_eq(send_one(c, "smtp:nobody@nowhere.example", 1, &seq), 0);
		cr_assert_eq(seq, (uint64_t)i + 1);
	}
	end = now_us() + 300000; /* well past several RTOs */
	while (now_us() < end)
		pump(e.fr, e.cs, 1);
	for (s = 1; s <= 10; s++) {
		cr_assert_eq(e.a->results[s], 1);
		cr_assert_eq(e.a->status[s], GW_NACK_NO_ROUTE);
	}
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.nacked[GW_NACK_NO_ROUTE], 10);
	cr_assert_eq(st.failed, 10);
	cr_assert_eq(st.acked, 0);
	cr_assert_eq(st.inflight, 0);
	cr_assert_eq(st.retransmitted, 0, "a refused message is not retried");
	cr_assert_eq(e.fr->no_route_tx, 10);
	/* The refused seqs held the window until a HELLO closed the gap. */
	cr_assert_geq(st.gap_hellos, 1);
	cr_assert_eq(st.abandoned, 0);
	cr_assert_eq(st.sessions, 1, "the gap HELLO keeps the session");
	cr_assert_eq(dp_dedup_cum(&e.fr->conn[1].in), 10);
	env_free(&e);
}

Test(sdk_send, refused_seqs_do_not_stall_the_window)
{
	/* A small window and every other message refused: without closing
	 * the gaps the router's point would stick at the first refusal and
	 * everything after W would be EXPIRED. */
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t end, good = 0, bad = 0, s;
	int r;

	env_new(&e, 16, 41);
	end = now_us() + 30000000;
	env_open(&e, 2, NULL, NULL);
	env_up(&e);
	while ((good + bad < 400 || e.a->n_results < 400) && now_us() < end) {
		while (good + bad < 400) {
			const char *dest = (good + bad) % 2 ? "smtp:x@nowhere.example"
							    : "smtp:u@c2.example";

			r = send_one(e.cs[0], dest, 1, NULL);
			if (r == -EAGAIN)
				break;
			cr_assert_eq(r, 0);
			if ((good + bad) % 2)
				bad++;
			else
				good++;
		}
		pump(e.fr, e.cs, 2);
	}
	cr_assert_eq(e.a->n_results, 400);
	for (s = 1; s <= 400; s++) {
		cr_assert_eq(e.a->results[s], 1);
		cr_assert_eq(e.a->status[s], s % 2 ? 0 : GW_NACK_NO_ROUTE, "seq %lu",
			     (unsigned long)s);
		if (s % 2)
			cr_assert_eq(e.b->deliveries[s], 1);
	}
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.nacked[GW_NACK_EXPIRED], 0);
	cr_assert_eq(e.fr->window_violations, 0);
	cr_assert_gt(st.gap_hellos, 0);
	env_free(&e);
}

/*
 * EXPIRED after custody (PROTOCOL.md 13 (b)): on_result(0) once, then a
 * notice, whether its ACK came first or not (lost or overtaken: the SDK
 * reported such a seq refused, although the router had taken it and may
 * have delivered it).
 */
struct expired_case {
	char name[24];
	bool before_ack; /* the NACK EXPIRED reaches the SDK before the ACK */
};

ParameterizedTestParameters(sdk_send, expired_after_custody_is_a_notice)
{
	static struct expired_case cases[] = {
		{ "after its ACK", false },
		{ "before its ACK", true },
	};

	return cr_make_param_array(struct expired_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct expired_case *p, sdk_send, expired_after_custody_is_a_notice)
{
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t end;

	env_start(&e, 64, 43, 2, NULL, NULL);
	e.fr->expire_seq = 7;
	e.fr->expire_before_ack = p->before_ack;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 20, 5000);
	end = now_us() + 50000;
	while (now_us() < end)
		pump(e.fr, e.cs, 2);
	assert_exactly_once(e.a, e.b, 1, 20); /* on_result(0) once, even for 7 */
	cr_assert_eq(e.a->n_notices, 1, "%s", p->name);
	cr_assert_eq(e.a->notice_seq, 7, "%s", p->name);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.notices, 1, "%s", p->name);
	cr_assert_eq(st.failed, 0, "%s", p->name);
	cr_assert_eq(st.abandoned, 0, "%s", p->name);
	env_free(&e);
}

Test(sdk_send, retransmission_flagged)
{
	struct sdk_env e;
	struct gw_conn_stats st;

	env_start(&e, 64, 13, 2, NULL, NULL);
	e.fr->drop_once_seq = 5;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 10, 5000);
	assert_exactly_once(e.a, e.b, 1, 10);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.sent, 10);
	cr_assert_geq(st.retransmitted, 1);
	cr_assert_eq(e.fr->rtx_flag_missing, 0, "a retransmission without GW_F_RETRANSMIT");
	cr_assert_eq(e.fr->rtx_flag_wrong, 0, "a first transmission with GW_F_RETRANSMIT");
	env_free(&e);
}

Test(sdk_send, retransmissions_track_losses, .timeout = 120)
{
	/* One lost frame must not cost a window of retransmissions: the
	 * router's ACK reports only 64 seqs above its cumulative point, so
	 * the SDK must neither resend what lies beyond by timeout nor wait
	 * for an RTO per hole. */
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .rto_us = 50000 };
	struct gw_conn_stats st;

	env_start(&e, 960, 53, 2, &cfg, NULL);
	e.fr->drop_in = 5;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 10000, 60000);
	assert_exactly_once(e.a, e.b, 1, 10000);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_gt(e.fr->dropped_in, 0);
	cr_assert_geq(st.retransmitted, e.fr->dropped_in - e.fr->dropped_in / 10,
		      "every loss is resent (%lu drops, %lu retransmissions)",
		      (unsigned long)e.fr->dropped_in, (unsigned long)st.retransmitted);
	cr_assert_leq(st.retransmitted, 3 * e.fr->dropped_in + 200,
		      "%lu retransmissions for %lu drops", (unsigned long)st.retransmitted,
		      (unsigned long)e.fr->dropped_in);
	cr_assert_gt(st.fast_retransmits, 0, "holes are resent before their RTO");
	cr_assert_eq(e.fr->window_violations, 0);
	env_free(&e);
}

/*
 * The window rule across a router restart (found by the fault campaign
 * after a kill -9 of gwartd): the old router process took seqs above a
 * hole and said so in its ACK bitmap; the new one knows only HELLO.seq - 1
 * (below the hole), so once the hole is filled its cumulative point stops
 * at the first seq the old one took, which we never send again. Sends past
 * that point + W were refused EXPIRED although the connector was within
 * out_head + W, and reported failed (and a later copy could still be
 * taken: a message reported refused, then delivered). The window must
 * start at the point the router reports, and a HELLO must move that point
 * over what we settled.
 */
struct restart_case {
	char name[24];
	uint32_t window;              /* the router's dup_window */
	uint64_t before;              /* messages sent to the first router process */
	uint64_t holes[FR_DROP_SEQS]; /* of those, never taken by it (0: none) */
	bool by_timeout;              /* the sender finds the restart by its
				       * keepalive timeout (otherwise by the new
				       * process's probe) */
	uint64_t after;               /* messages sent to the new process */
};

ParameterizedTestParameters(sdk_send, window_starts_at_restarted_routers_point)
{
	static struct restart_case cases[] = {
		{ "one hole", 64, 60, { 5 }, false, 300 },
		{ "two holes", 64, 60, { 5, 30 }, false, 300 },
		{ "hole at seq 1", 32, 30, { 1 }, false, 200 },
		{ "found by timeout", 64, 60, { 10, 11 }, true, 300 },
		{ "small window", 16, 15, { 2, 6, 9, 13 }, false, 200 },
	};

	return cr_make_param_array(struct restart_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct restart_case *p, sdk_send, window_starts_at_restarted_routers_point)
{
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t sent = 0, seq, end, holes = 0;
	unsigned i;

	for (i = 0; i < FR_DROP_SEQS; i++)
		holes += p->holes[i] != 0;
	env_new(&e, p->window, 71);
	if (p->by_timeout) {
		e.fr->ka_ms = 50;
		e.fr->ka_mult = 3;
	}
	memcpy(e.fr->drop_seqs, p->holes, sizeof(e.fr->drop_seqs));
	env_open(&e, 2, NULL, NULL);
	env_up(&e);
	/* Everything but the holes taken, acknowledged and delivered. */
	end = now_us() + 10000000;
	do {
		while (sent < p->before && send_one(e.cs[0], "smtp:u@c2.example", 1, &seq) == 0)
			sent++;
		pump(e.fr, e.cs, 2);
		gw_conn_get_stats(e.cs[0], &st);
	} while ((sent < p->before || st.inflight != holes ||
		  e.b->n_delivered != p->before - holes) &&
		 now_us() < end);
	cr_assert_eq(st.inflight, holes, "%s: only the holes outstanding", p->name);
	cr_assert_eq(e.b->n_delivered, p->before - holes, "%s", p->name);

	/* A new router process: the holes get through to it. */
	memset(e.fr->drop_seqs, 0, sizeof(e.fr->drop_seqs));
	fr_restart(e.fr, (3ull << 32) + 1);
	/* The receiver comes back at once either way: the fake router
	 * refuses NO_ROUTE what comes before its destination's HELLO. */
	if (!p->by_timeout)
		fr_probe(e.fr, 1);
	fr_probe(e.fr, 2);
	end = now_us() + 5000000;
	do
		pump(e.fr, e.cs, 2);
	while ((!gw_conn_is_up(e.cs[0]) || !gw_conn_is_up(e.cs[1]) || !e.fr->conn[1].known ||
		!e.fr->conn[2].known) &&
	       now_us() < end);
	cr_assert(e.fr->conn[1].known && e.fr->conn[2].known, "%s: both back", p->name);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", p->after, 20000);
	end = now_us() + 50000;
	while (now_us() < end)
		pump(e.fr, e.cs, 2);

	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(e.fr->window_violations, 0, "%s: %lu sends beyond the router's C + W",
		     p->name, (unsigned long)e.fr->window_violations);
	cr_assert_eq(st.nacked[GW_NACK_EXPIRED], 0, "%s", p->name);
	cr_assert_eq(st.failed, 0, "%s", p->name);
	cr_assert_eq(st.notices, 0, "%s", p->name);
	assert_exactly_once(e.a, e.b, 1, p->before + p->after);
	cr_assert_geq(st.gap_hellos, 1, "%s: a HELLO moved the new router's point", p->name);
	cr_assert_eq(st.sessions, 2, "%s: the gap HELLOs keep the session", p->name);
	env_free(&e);
}

Test(sdk_send, welcome_router_seq_resyncs)
{
	/* The router has accepted up to 500 from us before (we restarted
	 * without our persisted sequence): new messages must not reuse 1..500. */
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t seq;

	env_new(&e, 64, 19);
	e.fr->conn[1].preset_cum = 500;
	env_open(&e, 2, NULL, NULL);
	env_up(&e);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.seq_resyncs, 1);
	cr_assert_eq(st.next_seq, 501);
	cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, &seq), 0);
	cr_assert_eq(seq, 501);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 99, 10000);
	assert_exactly_once(e.a, e.b, 501, 100);
	env_free(&e);
}

Test(sdk_send, first_seq_is_used)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .first_seq = 1000 };

	env_start(&e, 64, 23, 2, &cfg, NULL);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 100, 10000);
	assert_exactly_once(e.a, e.b, 1000, 100);
	cr_assert_eq(e.a->results[999], 0);
	env_free(&e);
}
