/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk_session": the connector SDK's session (connector.c)
 * against the fake router: HELLO until WELCOME with reconnection backoff,
 * KEEPALIVE and failure detection, the loss causes (silence, a session the
 * router forgot, BYE, probe), the handle's timers and fd, and close.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "sdk_env.h"

Test(sdk_session, handshake_and_keepalive_state)
{
	struct sdk_env e;
	struct gw_conn_stats st;

	env_new(&e, 64, 1);
	env_open(&e, 1, NULL, NULL);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);
	env_up(&e);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.sessions, 1);
	cr_assert_geq(st.hellos_sent, 1);
	cr_assert_eq(st.window, 64);
	cr_assert_eq(st.epoch, 100);
	cr_assert_eq(st.next_seq, 1);
	cr_assert_eq(st.rx_auth_failed + st.rx_replayed + st.rx_stale_epoch, 0);
	cr_assert_eq(gw_conn_close(e.cs[0]), 0);
	e.cs[0] = NULL;
	fr_pump(e.fr);
	cr_assert_eq(e.fr->bye_rx, 3, "BYE is sent three times");
	/* The first one passed the router's checks and ended the session. */
	cr_assert_eq(e.fr->stale_epoch, 2);
	cr_assert_eq(e.fr->auth_failed + e.fr->replayed, 0);
	cr_assert_eq(e.fr->conn[1].epoch, 0);
	env_free(&e);
}

Test(sdk_session, hello_repeats_until_welcome)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 100 };
	uint64_t end;

	env_new(&e, 64, 1);
	env_open(&e, 1, &cfg, NULL);
	end = now_us() + 700000;
	e.fr->no_welcome = true;
	while (now_us() < end)
		pump(e.fr, e.cs, 1);
	/* One at open, then after 100, 160 and 256 ms (+-20 % each): at
	 * 80..120, 208..312 and 413..619 ms; the next not before 740 ms. */
	cr_assert_eq(e.fr->hello_rx, 4);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);
	e.fr->no_welcome = false;
	env_up(&e);
	env_free(&e);
}

Test(sdk_session, forgotten_session_heals_by_probe_keeps_outbox)
{
	/* The router forgets the session mid-flow (v2: it drops what carries
	 * the old epoch, unanswered, and probes): the probe makes the SDK say
	 * HELLO, the new session's keys are derived, and the outbox is sent
	 * again in it. */
	struct sdk_env e;
	struct gw_conn_stats st;

	env_start(&e, 64, 17, 2, NULL, NULL);
	e.fr->forget_at = 50;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 300, 20000);
	assert_exactly_once(e.a, e.b, 1, 300);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.nacked[GW_NACK_NO_SESSION], 0);
	cr_assert_eq(e.fr->probes_tx, 1);
	cr_assert_eq(st.probes_received, 1);
	cr_assert_eq(st.session_losses, 1);
	cr_assert_eq(st.loss_probe, 1);
	cr_assert_eq(st.loss_no_session, 0);
	cr_assert_eq(st.sessions, 2);
	cr_assert_eq(st.epoch, 102, "the new session's epoch is adopted");
	cr_assert_eq(st.failed, 0);
	cr_assert_eq(e.fr->window_violations, 0);
	env_free(&e);
}

Test(sdk_session, close_frees_everything)
{
	/* Run under ASan/LSan: every path through close must free all. */
	struct sdk_env e;
	int i;

	env_new(&e, 64, 29);
	/* Never up. */
	for (i = 0; i < 50; i++)
		cr_assert_eq(gw_conn_close(open_conn(e.fr, 3, e.a, NULL)), 0);
	/* Up, with messages still in the outbox (acks withheld). */
	env_open(&e, 2, NULL, NULL);
	env_up(&e);
	e.fr->hold_acks = true;
	for (i = 0; i < 20; i++)
		cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), 0);
	pump(e.fr, e.cs, 2);
	cr_assert_eq(gw_conn_close(e.cs[0]), 0);
	cr_assert_eq(gw_conn_close(e.cs[1]), 0);
	e.cs[0] = e.cs[1] = NULL;
	fr_pump(e.fr);
	cr_assert_eq(e.fr->bye_rx, 6, "three BYEs each");
	cr_assert_eq(e.a->n_results, 0, "close abandons the outbox without callbacks");
	env_free(&e);
}

Test(sdk_session, external_poll_loop_with_fd)
{
	/* A caller multiplexing with its own poll(): gw_conn_fd plus
	 * gw_conn_next_timeout_ms must be enough to make progress. */
	struct sdk_env e;
	struct gw_conn *c;
	uint64_t end;
	int t;

	env_new(&e, 64, 31);
	env_open(&e, 1, NULL, NULL);
	c = e.cs[0];
	end = now_us() + 3000000;
	cr_assert_geq(gw_conn_fd(c), 0);
	t = gw_conn_next_timeout_ms(c);
	cr_assert(t >= 0 && t <= 1200, "HELLO timer armed (1 s +- 20 %%): %d", t);
	while (!gw_conn_is_up(c) && now_us() < end) {
		struct pollfd p[2] = { { .fd = e.fr->fd, .events = POLLIN },
				       { .fd = gw_conn_fd(c), .events = POLLIN } };

		(void)poll(p, 2, 5);
		fr_pump(e.fr);
		cr_assert_geq(gw_conn_poll(c, 0), 0);
	}
	cr_assert(gw_conn_is_up(c));
	t = gw_conn_next_timeout_ms(c);
	cr_assert(t > 0 && t <= 1000, "KEEPALIVE timer armed: %d", t);
	env_free(&e);
}

Test(sdk_session, keepalive_sent)
{
	struct sdk_env e;
	uint64_t end;

	env_start(&e, 64, 37, 1, NULL, NULL);
	end = now_us() + 1300000; /* keepalive_ms = 1000 */
	while (now_us() < end) {
		cr_assert_geq(gw_conn_poll(e.cs[0], 100), 0);
		fr_pump(e.fr);
	}
	cr_assert_geq(e.fr->keepalive_rx, 1);
	env_free(&e);
}

Test(sdk_session, keepalive_probe_triggers_hello)
{
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t hellos, end;

	env_start(&e, 64, 67, 1, NULL, NULL);
	hellos = e.fr->hello_rx;
	fr_probe(e.fr, 1);
	end = now_us() + 100000; /* far less than the 200 ms HELLO interval */
	while (e.fr->hello_rx == hellos && now_us() < end)
		pump(e.fr, e.cs, 1);
	cr_assert_eq(e.fr->hello_rx, hellos + 1, "the probe is answered with HELLO at once");
	env_up(&e);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.session_losses, 1);
	cr_assert_eq(st.loss_probe, 1);
	cr_assert_eq(st.probes_received, 1);
	env_free(&e);
}

/* ---- backoff, failure detection, loss causes ---------------------------- */

/* min(initial x mult^k, max), the base the jitter applies to. */
static double backoff_base_us(double initial_ms, double mult_pct, double max_ms, unsigned k)
{
	double d = initial_ms * 1000.0;

	while (k-- && d < max_ms * 1000.0)
		d = d * mult_pct / 100.0;
	return d < max_ms * 1000.0 ? d : max_ms * 1000.0;
}

Test(sdk_session, hello_backoff_follows_the_schedule)
{
	/* 50 ms x2, capped at 400 ms, +-20 %: HELLOs at about 0, 50, 150,
	 * 350, 750, 1150, 1550, 1950 ms. Both what the SDK drew and what the
	 * fake router saw must lie within the bounds. */
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 50, .backoff_mult_pct = 200,
				   .backoff_max_ms = 400, .backoff_jitter_pct = 20 };
	struct gw_conn_stats st;
	uint64_t end, i;

	env_new(&e, 64, 71);
	env_open(&e, 1, &cfg, NULL);
	end = now_us() + 2100000;
	e.fr->no_welcome = true;
	while (now_us() < end)
		pump(e.fr, e.cs, 1);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_geq(st.backoffs, 6);
	cr_assert_leq(st.backoffs, 9);
	cr_assert_eq(st.hellos_sent, st.backoffs, "one delay drawn per HELLO");
	cr_assert_eq(e.fr->hello_rx, st.hellos_sent);
	for (i = 0; i < st.backoffs; i++) {
		const struct gw_conn_backoff *b = &st.backoff[i];
		double base = backoff_base_us(50, 200, 400, (unsigned)i);

		cr_assert_eq(b->attempt, i);
		cr_assert(b->delay_us >= 0.8 * base && b->delay_us <= 1.2 * base,
			  "delay %lu: %lu us outside %.0f +- 20 %%", (unsigned long)i,
			  (unsigned long)b->delay_us, base);
		if (i + 1 < st.backoffs) {
			uint64_t gap = e.fr->hello_us[i + 1] - e.fr->hello_us[i];

			cr_assert_geq(b->waited_us, b->delay_us, "the timer never fires early");
			cr_assert_leq(b->waited_us, b->delay_us + 100000, "waited %lu for %lu",
				      (unsigned long)b->waited_us, (unsigned long)b->delay_us);
			cr_assert(gap + 2000 >= b->delay_us && gap <= b->delay_us + 100000,
				  "HELLO gap %lu us for a delay of %lu us", (unsigned long)gap,
				  (unsigned long)b->delay_us);
		} else {
			cr_assert_eq(b->waited_us, 0, "the newest delay is still running");
		}
	}
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);
	e.fr->no_welcome = false;
	env_up(&e);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_gt(st.reconnect_us_last, 2000000, "open to WELCOME took the whole run");
	env_free(&e);
}

Test(sdk_session, backoff_without_jitter_is_exact)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 20, .backoff_mult_pct = 150,
				   .backoff_max_ms = 100, .backoff_jitter_pct = GW_CONN_NO_JITTER };
	const uint64_t want[] = { 20000, 30000, 45000, 67500, 100000, 100000 };
	struct gw_conn_stats st;
	unsigned i;

	env_new(&e, 64, 73);
	env_open(&e, 1, &cfg, NULL);
	e.fr->no_welcome = true;
	do {
		pump(e.fr, e.cs, 1);
		gw_conn_get_stats(e.cs[0], &st);
	} while (st.backoffs < 6);
	for (i = 0; i < 6; i++)
		cr_assert_eq(st.backoff[i].delay_us, want[i], "delay %u: %lu", i,
			     (unsigned long)st.backoff[i].delay_us);
	env_free(&e);
}

Test(sdk_session, backoff_history_is_a_ring)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 1, .backoff_mult_pct = 100,
				   .backoff_max_ms = 1, .backoff_jitter_pct = GW_CONN_NO_JITTER };
	struct gw_conn_stats st;
	uint64_t i, first;

	env_new(&e, 64, 79);
	env_open(&e, 1, &cfg, NULL);
	e.fr->no_welcome = true;
	do {
		pump(e.fr, e.cs, 1);
		gw_conn_get_stats(e.cs[0], &st);
	} while (st.backoffs < GW_CONN_BACKOFF_HIST + 5);
	/* The last GW_CONN_BACKOFF_HIST, oldest at backoffs % HIST. */
	first = st.backoffs - GW_CONN_BACKOFF_HIST;
	for (i = 0; i < GW_CONN_BACKOFF_HIST; i++)
		cr_assert_eq(st.backoff[(first + i) % GW_CONN_BACKOFF_HIST].attempt, first + i);
	env_free(&e);
}

Test(sdk_session, probe_restarts_the_backoff)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 40, .backoff_mult_pct = 200,
				   .backoff_jitter_pct = GW_CONN_NO_JITTER };
	struct gw_conn_stats st;
	uint64_t hellos, t0;

	env_new(&e, 64, 83);
	env_open(&e, 1, &cfg, NULL);
	e.fr->no_welcome = true;
	do {
		pump(e.fr, e.cs, 1);
		gw_conn_get_stats(e.cs[0], &st);
	} while (st.backoffs < 4); /* the 4th delay is 320 ms */
	hellos = e.fr->hello_rx;
	fr_probe(e.fr, 1);
	t0 = now_us();
	while (e.fr->hello_rx == hellos && now_us() < t0 + 100000)
		pump(e.fr, e.cs, 1);
	cr_assert_eq(e.fr->hello_rx, hellos + 1, "the probe is answered with HELLO at once");
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.probes_received, 1);
	cr_assert_eq(st.backoffs, 5);
	cr_assert_eq(st.backoff[4].attempt, 0, "the schedule starts again");
	cr_assert_eq(st.backoff[4].delay_us, 40000);
	cr_assert_eq(st.backoff[3].waited_us, 0, "the interrupted delay was not waited");
	e.fr->no_welcome = false;
	env_up(&e);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.session_losses, 0, "never up before: nothing lost");
	env_free(&e);
}

Test(sdk_session, silence_loses_the_session_and_it_heals)
{
	/* keepalive 50 ms x 3: after 150 ms without a frame of the session
	 * the SDK declares it lost, says HELLO with backoff, and comes back
	 * by itself once the link heals; nothing is lost or duplicated. */
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 30 };
	struct gw_conn_stats sa, sb;
	uint64_t t0, t_lost = 0, end, sent = 0;

	env_new(&e, 128, 89);
	e.fr->ka_ms = 50;
	e.fr->ka_mult = 3;
	env_open(&e, 2, &cfg, &cfg);
	env_up(&e);
	/* Idle but alive: the echoed keepalives keep the session up. */
	end = now_us() + 500000;
	while (now_us() < end)
		pump(e.fr, e.cs, 2);
	gw_conn_get_stats(e.cs[0], &sa);
	cr_assert_eq(sa.session_losses, 0, "an idle session with keepalives stays up");
	cr_assert_geq(sa.keepalives_sent, 5);

	for (sent = 0; sent < 100; sent++)
		cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), 0);
	e.fr->silent = true;
	t0 = now_us();
	end = t0 + 600000;
	while (now_us() < end) {
		pump(e.fr, e.cs, 2);
		if (!t_lost && !gw_conn_is_up(e.cs[0]) && !gw_conn_is_up(e.cs[1]))
			t_lost = now_us();
	}
	cr_assert_neq(t_lost, 0, "the sessions were not declared lost");
	cr_assert_leq(t_lost - t0, 150000 + 60000, "lost after %lu us",
		      (unsigned long)(t_lost - t0));
	gw_conn_get_stats(e.cs[0], &sa);
	cr_assert_eq(sa.loss_timeout, 1);
	cr_assert_eq(sa.session_losses, 1);
	cr_assert_geq(sa.backoffs, 3, "HELLO backs off while the link is cut");
	cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), -ENOTCONN);

	e.fr->silent = false;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 900, 30000);
	assert_exactly_once(e.a, e.b, 1, 1000);
	gw_conn_get_stats(e.cs[0], &sa);
	gw_conn_get_stats(e.cs[1], &sb);
	cr_assert_eq(sa.sessions, 2);
	cr_assert_eq(sb.sessions, 2);
	cr_assert_eq(sb.loss_timeout, 1);
	cr_assert_gt(sa.reconnect_us_last, 0);
	env_free(&e);
}

Test(sdk_session, a_stalled_connector_is_not_lost_by_its_own_silence)
{
	/* keepalive 50 ms x 3, then the process does not run for 300 ms
	 * (what CPU starvation does to a connector): its keepalives were not
	 * sent, so the router's silence is not evidence. The first poll
	 * sends one, its answer keeps the session. Against a silent router
	 * the same stall ends in a loss once keepalive_mult - 1 keepalives
	 * went unanswered (two more intervals, 100 ms). */
	struct sdk_env e;
	struct gw_conn_stats st;
	uint64_t t_wake, end, t_lost = 0;

	env_new(&e, 64, 127);
	e.fr->ka_ms = 50;
	e.fr->ka_mult = 3;
	env_open(&e, 1, NULL, NULL);
	env_up(&e);
	poll(NULL, 0, 300);
	end = now_us() + 200000;
	while (now_us() < end)
		pump(e.fr, e.cs, 1);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.session_losses, 0, "lost by its own stall");
	cr_assert(gw_conn_is_up(e.cs[0]));

	e.fr->silent = true;
	poll(NULL, 0, 300);
	t_wake = now_us();
	end = t_wake + 400000;
	while (now_us() < end && !t_lost) {
		pump(e.fr, e.cs, 1);
		if (!gw_conn_is_up(e.cs[0]))
			t_lost = now_us();
	}
	cr_assert_neq(t_lost, 0, "a silent router was not detected after the stall");
	cr_assert_leq(t_lost - t_wake, 100000 + 60000, "lost after %lu us",
		      (unsigned long)(t_lost - t_wake));
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.loss_timeout, 1);
	env_free(&e);
}

Test(sdk_session, bye_from_router_is_a_loss)
{
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 50 };
	struct gw_conn_stats st;
	uint64_t hellos = 0, end;

	env_start(&e, 64, 97, 1, &cfg, NULL);
	hellos = e.fr->hello_rx;
	fr_bye(e.fr, 1);
	end = now_us() + 100000;
	while (gw_conn_is_up(e.cs[0]) && now_us() < end)
		pump(e.fr, e.cs, 1);
	env_up(&e);
	gw_conn_get_stats(e.cs[0], &st);
	cr_assert_eq(st.loss_bye, 1);
	cr_assert_eq(st.session_losses, 1);
	cr_assert_eq(st.sessions, 2);
	cr_assert_gt(e.fr->hello_rx, hellos);
	env_free(&e);
}

Test(sdk_session, backoff_configuration_is_checked)
{
	struct gw_conn_cfg bad[] = {
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_mult_pct = 99 },
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_mult_pct = 1001 },
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_jitter_pct = 101 },
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_max_ms = GW_CONN_BACKOFF_MAX_MS + 1 },
		{ .id = 1, .router_addr = "127.0.0.1", .state_path = "" },
	};
	unsigned i;
	int err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* A valid key: the field under test is the only fault. */
		fr_key(1, bad[i].key);
		err = 0;
		cr_assert_null(gw_conn_open(&bad[i], &err), "cfg %u accepted", i);
		cr_assert_eq(err, -EINVAL, "cfg %u: %d", i, err);
	}
}
