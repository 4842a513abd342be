/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk_receive": the connector SDK's receiving side
 * (receive.c) against the fake router: duplicate suppression over the
 * router's egress link seqs, a receive window placed mid-stream, DATA of a
 * stale epoch, and a window started afresh for a restarted router. (Replays
 * and forgeries of the router's frames: sdk_auth.)
 */
#include <criterion/criterion.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "sdk_env.h"

Test(sdk_receive, receiver_duplicate_suppression)
{
	struct sdk_env e;
	struct gw_conn_stats sb;
	uint64_t end;

	env_start(&e, 256, 9, 2, NULL, NULL);
	e.fr->dup_eg = 100;      /* every egress frame twice */
	e.fr->reorder_eg = 30;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 1000, 20000);
	end = now_us() + 50000;
	while (now_us() < end)
		pump(e.fr, e.cs, 2);
	assert_exactly_once(e.a, e.b, 1, 1000);
	gw_conn_get_stats(e.cs[1], &sb);
	cr_assert_eq(sb.delivered, 1000);
	cr_assert_geq(sb.duplicates, 500);
	/* dup_eg's copies are sealed afresh, as the router's retransmissions
	 * are: the duplicate window, not the replay window, stops them. */
	cr_assert_eq(sb.rx_replayed + sb.rx_auth_failed, 0);
	cr_assert_gt(sb.acks_sent, 0);
	/* Everything was acknowledged: the router's custody drained. */
	cr_assert_eq(e.fr->conn[2].eg_low, e.fr->conn[2].eg_next);
	env_free(&e);
}

Test(sdk_receive, receive_window_arms_mid_stream)
{
	/* The router's egress seq towards us is already far along (we are a
	 * restarted connector): the first frames must still be delivered. */
	struct sdk_env e;

	env_new(&e, 64, 11);
	fr_set_eg_first(e.fr, 100000);
	env_open(&e, 2, NULL, NULL);
	env_up(&e);
	e.fr->reorder_eg = 50;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 2000, 20000);
	assert_exactly_once(e.a, e.b, 1, 2000);
	env_free(&e);
}

Test(sdk_receive, stale_epoch_data_dropped_unacknowledged)
{
	struct sdk_env e;
	struct gw_conn_stats sb;

	env_start(&e, 64, 47, 2, NULL, NULL);
	e.fr->stale_eg = 5;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 50, 10000);
	assert_exactly_once(e.a, e.b, 1, 50);
	gw_conn_get_stats(e.cs[1], &sb);
	cr_assert_eq(sb.rx_stale_epoch, 5);
	cr_assert_eq(sb.rx_auth_failed + sb.rx_replayed, 0, "the epoch is checked first");
	cr_assert_eq(sb.delivered, 50);
	cr_assert_gt(e.fr->eg_rtx, 0, "dropped frames came back by retransmission");
	env_free(&e);
}

Test(sdk_receive, router_restart_replaces_receive_window)
{
	/* A restarted router numbers egress links in a new space far from the
	 * old one and says where it stands in WELCOME.seq; the receiver must
	 * start its window afresh there, not take new messages for
	 * duplicates (PROTOCOL.md 3.5, 8). */
	const uint64_t old_base = (5ull << 32) + 1, new_base = (2ull << 32) + 1;
	struct sdk_env e;
	struct gw_conn_stats sa, sb;
	uint64_t end;

	env_new(&e, 64, 61);
	fr_set_eg_first(e.fr, old_base);
	env_open(&e, 2, NULL, NULL);
	env_up(&e);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 100, 10000);
	assert_exactly_once(e.a, e.b, 1, 100);

	fr_restart(e.fr, new_base);
	fr_probe(e.fr, 1);
	fr_probe(e.fr, 2);
	end = now_us() + 2000000;
	do
		pump(e.fr, e.cs, 2);
	while ((!gw_conn_is_up(e.cs[0]) || !gw_conn_is_up(e.cs[1]) || !e.fr->conn[2].known) &&
	       now_us() < end);
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 100, 10000);
	assert_exactly_once(e.a, e.b, 1, 200);
	gw_conn_get_stats(e.cs[0], &sa);
	gw_conn_get_stats(e.cs[1], &sb);
	cr_assert_eq(sb.rx_replaced, 1);
	cr_assert_eq(sb.duplicates, 0);
	cr_assert_eq(sa.sessions, 2);
	cr_assert_eq(sa.next_seq, 201, "origin seqs continue across the router restart");
	env_free(&e);
}
