/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk_auth": the connector SDK's protocol v2
 * authentication (connector.c, PROTOCOL.md 17) against the fake router and
 * against frames the tests forge with the fake router's keys: the key is
 * required; a WELCOME, probe or NACK NOT_AUTHORISED counts only with a valid
 * handshake tag and a fresh counter; a session frame only with our epoch,
 * the lane of its type, an unseen counter and a valid tag. Every refusal is
 * counted and changes nothing (no delivery, no ACK applied, no liveness, no
 * HELLO); a same-epoch re-WELCOME keeps both sides' counters and windows, a
 * new epoch starts them afresh; NACK NO_SESSION, which v2 routers do not
 * send, is ignored even when authenticated.
 *
 * Each case also makes the SDK take one frame it must take, built the same
 * way, so that a refusal is the check's doing and not a badly built frame.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include <gwart/auth.h>
#include <gwart/connector.h>

#include "fake_router.h"
#include "sdk_env.h"

/* Pump for @ms milliseconds. */
static void settle(struct sdk_env *e, unsigned ms)
{
	uint64_t end = now_us() + (uint64_t)ms * 1000u;

	while (now_us() < end)
		pump(e->fr, e->cs, e->n);
}

static struct gw_conn_stats stats(struct gw_conn *c)
{
	struct gw_conn_stats st;

	gw_conn_get_stats(c, &st);
	return st;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put_ctr(uint8_t *frame, size_t len, uint64_t ctr)
{
	int i;

	for (i = 7; i >= 0; i--, ctr >>= 8)
		frame[len - GW_TRAILER_LEN + (size_t)i] = (uint8_t)ctr;
}

static uint64_t get_ctr(const uint8_t *frame, size_t len)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8; i++)
		v = v << 8 | frame[len - GW_TRAILER_LEN + i];
	return v;
}

/* A WELCOME for connector 1 (router_seq 0, dup_window 64), unsealed. */
static size_t mk_welcome(uint8_t *b, uint32_t epoch, uint64_t nonce, uint64_t ctr,
			 const uint8_t salt[GW_SALT_LEN])
{
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = epoch, .ctr = ctr };
	size_t n = gw_wire_encode_welcome(b, GW_WELCOME_LEN, &h, nonce, 0, 64, 1000, 3,
					  GW_PAYLOAD_MAX, salt);

	cr_assert_eq(n, GW_WELCOME_LEN);
	return n;
}

/* A DATA frame from the router to connector 1 (origin 2, @origin_seq, the
 * payload sdk_env's applications check), on egress link seq @seq; unsealed. */
static size_t mk_data(uint8_t *b, size_t cap, uint32_t epoch, uint64_t seq, uint64_t origin_seq)
{
	static const char dest[] = "smtp:u@c1.example";
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = epoch, .seq = seq };
	uint64_t pl[4] = { 2, origin_seq, origin_seq * 0x9e3779b97f4a7c15ull, sizeof(dest) - 1 };
	size_t n = gw_wire_encode_data(b, cap, &h, 2, origin_seq, dest, sizeof(dest) - 1, pl,
				       sizeof(pl));

	cr_assert_gt(n, 0);
	return n;
}

static size_t mk_ack(uint8_t *b, uint32_t epoch, uint64_t cum)
{
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = epoch, .seq = cum };
	size_t n = gw_wire_encode_ack(b, GW_ACK_LEN, &h, cum + 1, 0);

	cr_assert_eq(n, GW_ACK_LEN);
	return n;
}

static size_t mk_keepalive(uint8_t *b, uint32_t epoch, uint64_t ctr)
{
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = epoch, .ctr = ctr };
	size_t n = gw_wire_encode_keepalive(b, GW_KEEPALIVE_LEN, &h);

	cr_assert_eq(n, GW_KEEPALIVE_LEN);
	return n;
}

/* ---- the key ------------------------------------------------------------ */

Test(sdk_auth, open_requires_a_key)
{
	struct fake_router *fr = fr_new(64, 1);
	struct gw_conn_cfg cfg = { .id = 1, .router_addr = "127.0.0.1" };
	struct gw_conn *c;
	uint64_t end;
	int err = 0;

	cfg.router_port = fr->port;
	cr_assert_null(gw_conn_open(&cfg, &err), "an all-zero key was accepted");
	cr_assert_eq(err, -EINVAL);
	/* The same configuration with a key opens: the key was the fault. */
	fr_key(1, cfg.key);
	c = gw_conn_open(&cfg, &err);
	cr_assert_not_null(c, "%d", err);
	cr_assert_eq(err, 0);
	/* Copied: the caller's copy may go at once. */
	memset(cfg.key, 0, sizeof(cfg.key));
	end = now_us() + 5000000;
	while (!gw_conn_is_up(c) && now_us() < end) {
		fr_pump(fr);
		cr_assert_geq(gw_conn_poll(c, 1), 0);
	}
	cr_assert(gw_conn_is_up(c));
	cr_assert_eq(gw_conn_close(c), 0);
	fr_free(fr);
}

Test(sdk_auth, key_parse_and_generate_are_exported)
{
	uint8_t k[GW_KEY_LEN], g[GW_KEY_LEN] = { 0 }, zero[GW_KEY_LEN] = { 0 };
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	unsigned i;

	cr_assert_eq(gw_key_parse(hex, strlen(hex), k), 0);
	for (i = 0; i < GW_KEY_LEN; i++)
		cr_assert_eq(k[i], i);
	cr_assert_eq(gw_key_parse("00", 2, k), -EINVAL);
	gw_key_generate(g);
	cr_assert_neq(memcmp(g, zero, GW_KEY_LEN), 0);
}

Test(sdk_auth, wrong_key_is_never_welcomed)
{
	/* The router drops HELLOs it cannot verify (counted), so a connector
	 * with the wrong key just keeps saying HELLO. */
	struct sdk_env e;
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 50 };
	struct gw_conn_stats st;
	uint64_t end;

	env_new(&e, 64, 3);
	fr_key(5, cfg.key);
	env_open(&e, 1, &cfg, NULL);
	end = now_us() + 3000000;
	while (stats(e.cs[0]).hellos_sent < 3 && now_us() < end)
		pump(e.fr, e.cs, 1);
	/* The last HELLO reaches the router; the connector sends no more. */
	poll(NULL, 0, 5);
	fr_pump(e.fr);
	st = stats(e.cs[0]);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);
	cr_assert_geq(st.hellos_sent, 3);
	cr_assert_eq(e.fr->auth_failed, st.hellos_sent, "every HELLO refused by the router");
	cr_assert_eq(e.fr->welcome_tx, 0);
	cr_assert_eq(e.fr->hello_rx, 0, "no HELLO got past the router's tag check");
	env_free(&e);
}

/* ---- WELCOME ------------------------------------------------------------ */

Test(sdk_auth, forged_welcomes_are_ignored_and_counted)
{
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st0, st;
	uint8_t b[GW_WELCOME_LEN], good[GW_WELCOME_LEN], salt[GW_SALT_LEN] = { 7 };
	struct gw_conn_cfg cfg = { 0 };
	uint64_t nonce, hctr;

	env_new(&e, 64, 5);
	e.fr->no_welcome = true; /* the test answers */
	/* One HELLO only, however slow the host: the counters below are
	 * relative to it. */
	cfg.backoff_initial_ms = 600000;
	env_open(&e, 1, &cfg, NULL);
	while (e.fr->hello_rx == 0)
		pump(e.fr, e.cs, 1);
	rc = &e.fr->conn[1];
	nonce = rc->hello_nonce;
	hctr = rc->hello_ctr;
	cr_assert_neq(hctr, 0);
	st0 = stats(e.cs[0]);

	/* A wrong tag. */
	mk_welcome(b, 500, nonce, hctr, salt);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	b[sizeof(b) - 1] ^= 0x01;
	fr_send_raw(e.fr, 1, b, sizeof(b));
	/* Sealed with the other direction's key (a HELLO's, reflected). */
	mk_welcome(b, 500, nonce, hctr, salt);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.c2r);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_auth_failed - st0.rx_auth_failed, 2);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);

	/* A valid tag but another instance's nonce. */
	mk_welcome(b, 500, nonce + 1, hctr, salt);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_ignored - st0.rx_ignored, 1);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);

	/* A counter no HELLO of ours carried yet (beyond the newest). */
	mk_welcome(b, 500, nonce, hctr + 1, salt);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed - st0.rx_replayed, 1);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);
	cr_assert_eq(st.sessions, 0);
	cr_assert_eq(st.rx_frames, st0.rx_frames, "nothing refused counts as received");

	/* Built the same way, right: taken. */
	mk_welcome(good, 500, nonce, hctr, salt);
	gw_auth_seal_hs(good, sizeof(good), rc->hs.r2c);
	fr_send_raw(e.fr, 1, good, sizeof(good));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert(gw_conn_is_up(e.cs[0]));
	cr_assert_eq(st.sessions, 1);
	cr_assert_eq(st.epoch, 500);

	/* The same WELCOME again: its counter was answered already. */
	fr_send_raw(e.fr, 1, good, sizeof(good));
	/* And one with a new salt under that counter: refused too. */
	salt[0] = 8;
	mk_welcome(b, 501, nonce, hctr, salt);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed - st0.rx_replayed, 3);
	cr_assert_eq(st.sessions, 1);
	cr_assert_eq(st.epoch, 500);
	env_free(&e);
}

Test(sdk_auth, an_old_welcome_replayed_does_not_reopen_its_session)
{
	/* Session 1 (epoch 100), then the router forgets it and probes:
	 * session 2 (epoch 101). The recorded first WELCOME, replayed, must
	 * not take the connector back to epoch 100. */
	struct sdk_env e;
	struct gw_conn_stats st;
	uint8_t w1[GW_WELCOME_LEN];
	uint64_t end;

	env_start(&e, 64, 7, 1, NULL, NULL);
	memcpy(w1, e.fr->last_welcome, sizeof(w1));
	cr_assert_eq(stats(e.cs[0]).epoch, 100);
	e.fr->conn[1].epoch = 0;
	fr_probe(e.fr, 1);
	end = now_us() + 2000000;
	do
		pump(e.fr, e.cs, 1);
	while (stats(e.cs[0]).epoch != 101 && now_us() < end);
	st = stats(e.cs[0]);
	cr_assert_eq(st.epoch, 101);
	cr_assert_eq(st.sessions, 2);

	fr_send_raw(e.fr, 1, w1, sizeof(w1));
	settle(&e, 30);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed, 1);
	cr_assert_eq(st.epoch, 101, "the old WELCOME moved the session");
	cr_assert_eq(st.sessions, 2);
	cr_assert(gw_conn_is_up(e.cs[0]));
	/* The live session still works (keys of epoch 101 unchanged). */
	run_flow(e.fr, e.cs, 1, e.a, e.a, "smtp:u@c1.example", 10, 10000);
	assert_exactly_once(e.a, e.a, 1, 10);
	cr_assert_eq(e.fr->auth_failed + e.fr->replayed, 0);
	env_free(&e);
}

/* ---- session frames ----------------------------------------------------- */

Test(sdk_auth, forged_and_replayed_data_is_not_delivered)
{
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st0, st;
	uint8_t b[256], good[256];
	uint64_t acks;
	size_t n, gn;

	env_start(&e, 64, 11, 1, NULL, NULL);
	rc = &e.fr->conn[1];
	settle(&e, 10);
	st0 = stats(e.cs[0]);
	acks = e.fr->ack_rx;

	/* A wrong tag. */
	n = mk_data(b, sizeof(b), rc->epoch, 1, 7);
	fr_seal(e.fr, 1, b, n);
	b[n - 5] ^= 0x10;
	fr_send_raw(e.fr, 1, b, n);
	/* A valid tag, but a lane-0 counter on a DATA frame. */
	n = mk_data(b, sizeof(b), rc->epoch, 1, 7);
	put_ctr(b, n, gw_ctr_make(GW_LANE_SESSION, 1000));
	gw_auth_seal_session(b, n, &rc->s_tx);
	fr_send_raw(e.fr, 1, b, n);
	/* A valid tag under the handshake key (an epoch-0 forgery is not
	 * DATA; with the session's epoch it needs the session key). */
	n = mk_data(b, sizeof(b), rc->epoch, 1, 7);
	put_ctr(b, n, gw_ctr_make(GW_LANE_STREAM, 1000));
	gw_auth_seal_hs(b, n, rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, n);
	/* Another epoch: no key for it. */
	n = mk_data(b, sizeof(b), rc->epoch + 1, 1, 7);
	fr_seal(e.fr, 1, b, n);
	fr_send_raw(e.fr, 1, b, n);
	settle(&e, 30);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_auth_failed - st0.rx_auth_failed, 3);
	cr_assert_eq(st.rx_stale_epoch - st0.rx_stale_epoch, 1);
	cr_assert_eq(st.delivered, 0);
	cr_assert_eq(e.a->n_delivered, 0);
	cr_assert_eq(st.acks_sent, st0.acks_sent, "a refused frame is not acknowledged");
	cr_assert_eq(e.fr->ack_rx, acks);

	/* Built the same way, right: delivered and acknowledged. */
	gn = mk_data(good, sizeof(good), rc->epoch, 1, 7);
	fr_seal(e.fr, 1, good, gn);
	fr_send_raw(e.fr, 1, good, gn);
	settle(&e, 30);
	st = stats(e.cs[0]);
	cr_assert_eq(e.a->deliveries[7], 1);
	cr_assert_eq(e.a->corrupt, 0);
	cr_assert_eq(e.fr->ack_rx, acks + 1);

	/* The same frame again: a replay, stopped before the duplicate
	 * window (which would count and re-acknowledge it). */
	fr_send_raw(e.fr, 1, good, gn);
	/* A new egress seq under the same counter: refused as well. */
	n = mk_data(b, sizeof(b), rc->epoch, 2, 8);
	put_ctr(b, n, get_ctr(good, gn));
	gw_auth_seal_session(b, n, &rc->s_tx);
	fr_send_raw(e.fr, 1, b, n);
	settle(&e, 30);
	st0 = st;
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed - st0.rx_replayed, 2);
	cr_assert_eq(st.duplicates, st0.duplicates);
	cr_assert_eq(e.a->deliveries[7], 1);
	cr_assert_eq(e.a->deliveries[8], 0);
	cr_assert_eq(e.a->n_delivered, 1);
	cr_assert_eq(e.fr->ack_rx, acks + 1, "a replay is not acknowledged");
	env_free(&e);
}

Test(sdk_auth, forged_and_replayed_acks_are_not_applied)
{
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st0, st;
	uint8_t b[GW_ACK_LEN], b1[GW_ACK_LEN];
	int i;

	env_start(&e, 64, 13, 2, NULL, NULL);
	rc = &e.fr->conn[1];
	e.fr->hold_acks = true;
	for (i = 0; i < 3; i++)
		cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), 0);
	settle(&e, 30);
	cr_assert_geq(e.fr->data_rx, 3);
	st0 = stats(e.cs[0]);
	cr_assert_eq(st0.inflight, 3);

	/* A wrong tag. */
	mk_ack(b, rc->epoch, 3);
	fr_seal(e.fr, 1, b, sizeof(b));
	b[GW_HDR_LEN] ^= 0x80;
	fr_send_raw(e.fr, 1, b, sizeof(b));
	/* A lane-0 counter on an ACK. */
	mk_ack(b, rc->epoch, 3);
	put_ctr(b, sizeof(b), gw_ctr_make(GW_LANE_SESSION, 5000));
	gw_auth_seal_session(b, sizeof(b), &rc->s_tx);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_auth_failed - st0.rx_auth_failed, 2);
	cr_assert_eq(e.a->n_results, 0, "a forged ACK resolved a message");
	cr_assert_eq(st.inflight, 3);

	/* A valid ACK of seq 1. */
	mk_ack(b1, rc->epoch, 1);
	fr_seal(e.fr, 1, b1, sizeof(b1));
	fr_send_raw(e.fr, 1, b1, sizeof(b1));
	settle(&e, 20);
	cr_assert_eq(e.a->n_results, 1);
	cr_assert_eq(e.a->results[1], 1);

	/* Its counter again, on an ACK that would cover 2 and 3. */
	mk_ack(b, rc->epoch, 3);
	put_ctr(b, sizeof(b), get_ctr(b1, sizeof(b1)));
	gw_auth_seal_session(b, sizeof(b), &rc->s_tx);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed - st0.rx_replayed, 1);
	cr_assert_eq(e.a->n_results, 1, "a replayed counter's ACK was applied");
	cr_assert_eq(st.inflight, 2);

	/* The same ACK with a fresh counter: applied. */
	mk_ack(b, rc->epoch, 3);
	fr_seal(e.fr, 1, b, sizeof(b));
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	cr_assert_eq(e.a->n_results, 3);
	assert_exactly_once(e.a, NULL, 1, 3);
	env_free(&e);
}

Test(sdk_auth, replayed_keepalives_are_no_sign_of_life)
{
	/* keepalive 50 ms x 3, then the router goes silent. A recorded
	 * KEEPALIVE replayed every 10 ms must not keep the session alive;
	 * fresh ones (the router's key, new counters) do. */
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st0, st;
	uint8_t k[GW_KEEPALIVE_LEN];
	uint64_t t0, end, t_lost = 0, nsent = 0;

	env_new(&e, 64, 17);
	e.fr->ka_ms = 50;
	e.fr->ka_mult = 3;
	env_open(&e, 1, NULL, NULL);
	env_up(&e);
	rc = &e.fr->conn[1];
	st0 = stats(e.cs[0]);
	mk_keepalive(k, rc->epoch, 0);
	fr_seal(e.fr, 1, k, sizeof(k));
	fr_send_raw(e.fr, 1, k, sizeof(k));
	settle(&e, 5);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed, st0.rx_replayed);
	cr_assert_gt(st.rx_frames, st0.rx_frames);

	/* Fresh ones keep a silent router's session. */
	e.fr->silent = true;
	end = now_us() + 400000;
	while (now_us() < end) {
		uint8_t f[GW_KEEPALIVE_LEN];

		mk_keepalive(f, rc->epoch, 0);
		fr_seal(e.fr, 1, f, sizeof(f));
		fr_send_raw(e.fr, 1, f, sizeof(f));
		settle(&e, 10);
	}
	st = stats(e.cs[0]);
	cr_assert(gw_conn_is_up(e.cs[0]), "authenticated keepalives did not count");
	cr_assert_eq(st.session_losses, 0);

	/* Replays do not. */
	t0 = now_us();
	end = t0 + 1500000;
	while (now_us() < end && !t_lost) {
		fr_send_raw(e.fr, 1, k, sizeof(k));
		nsent++;
		settle(&e, 10);
		if (!gw_conn_is_up(e.cs[0]))
			t_lost = now_us();
	}
	settle(&e, 10);
	st = stats(e.cs[0]);
	cr_assert_neq(t_lost, 0, "replayed keepalives kept the session up");
	/* 150 ms on time; a loaded host delays the keepalives the SDK must
	 * see unanswered first (sdk_session's stall case), hence the margin:
	 * what matters is that the replays, every 10 ms, did not count. */
	cr_assert_leq(t_lost - t0, 1000000, "lost after %lu us", (unsigned long)(t_lost - t0));
	cr_assert_eq(st.loss_timeout, 1);
	/* Every copy refused: as a replay while up, as of a stale epoch
	 * once the session was lost. */
	cr_assert_geq(st.rx_replayed - st0.rx_replayed, 1);
	cr_assert_eq(st.rx_replayed - st0.rx_replayed + st.rx_stale_epoch - st0.rx_stale_epoch,
		     nsent);
	env_free(&e);
}

Test(sdk_auth, stream_replays_from_the_router_are_dropped)
{
	/* The fake router sends every egress frame a second time byte for
	 * byte: each copy is refused as a replay, not taken for a duplicate,
	 * and the stream is still delivered exactly once. */
	struct sdk_env e;
	struct gw_conn_stats sb;

	env_start(&e, 128, 19, 2, NULL, NULL);
	e.fr->replay_eg = 100;
	run_flow(e.fr, e.cs, 2, e.a, e.b, "smtp:u@c2.example", 500, 20000);
	settle(&e, 30);
	assert_exactly_once(e.a, e.b, 1, 500);
	sb = stats(e.cs[1]);
	cr_assert_geq(sb.rx_replayed, 500);
	cr_assert_eq(sb.delivered, 500);
	cr_assert_eq(e.fr->auth_failed + e.fr->replayed, 0);
	env_free(&e);
}

/* ---- probes and NOT_AUTHORISED ------------------------------------------ */

Test(sdk_auth, a_valid_probe_makes_it_say_hello_a_replayed_one_does_not)
{
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st0, st;
	uint8_t p[GW_KEEPALIVE_LEN], b[GW_KEEPALIVE_LEN];
	uint64_t hellos, t0;

	env_start(&e, 64, 23, 1, NULL, NULL);
	rc = &e.fr->conn[1];
	st0 = stats(e.cs[0]);

	/* Valid: HELLO at once (well within the 1 s backoff). */
	hellos = e.fr->hello_rx;
	fr_probe(e.fr, 1);
	memcpy(p, e.fr->last_probe, sizeof(p));
	t0 = now_us();
	while (e.fr->hello_rx == hellos && now_us() < t0 + 100000)
		pump(e.fr, e.cs, 1);
	cr_assert_eq(e.fr->hello_rx, hellos + 1);
	env_up(&e);
	st = stats(e.cs[0]);
	cr_assert_eq(st.probes_received, st0.probes_received + 1);

	/* The same probe again: no HELLO, nothing lost. */
	hellos = e.fr->hello_rx;
	fr_send_raw(e.fr, 1, p, sizeof(p));
	/* A fresh counter, a wrong tag; and one sealed with hs.c2r. */
	mk_keepalive(b, 0, realtime_ns());
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	b[sizeof(b) - 3] ^= 0x04;
	fr_send_raw(e.fr, 1, b, sizeof(b));
	mk_keepalive(b, 0, realtime_ns());
	gw_auth_seal_hs(b, sizeof(b), rc->hs.c2r);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 100);
	st0 = st;
	st = stats(e.cs[0]);
	cr_assert_eq(e.fr->hello_rx, hellos, "a refused probe made it say HELLO");
	cr_assert_eq(st.rx_replayed - st0.rx_replayed, 1);
	cr_assert_eq(st.rx_auth_failed - st0.rx_auth_failed, 2);
	cr_assert_eq(st.probes_received, st0.probes_received);
	cr_assert_eq(st.session_losses, st0.session_losses);
	cr_assert(gw_conn_is_up(e.cs[0]));

	/* A fresh one built the same way: HELLO at once. */
	mk_keepalive(b, 0, realtime_ns());
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	t0 = now_us();
	while (e.fr->hello_rx == hellos && now_us() < t0 + 100000)
		pump(e.fr, e.cs, 1);
	cr_assert_eq(e.fr->hello_rx, hellos + 1);
	env_free(&e);
}

Test(sdk_auth, not_authorised_counts_once_per_hello)
{
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st;
	uint8_t n1[GW_NACK_LEN], b[GW_NACK_LEN];
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER };

	env_new(&e, 64, 29);
	e.fr->deny = true;
	e.fr->no_welcome = true; /* the test answers the first HELLO */
	env_open(&e, 1, NULL, NULL);
	while (e.fr->hello_rx == 0)
		pump(e.fr, e.cs, 1);
	rc = &e.fr->conn[1];
	/* Echoing a HELLO from before this handle's first (an earlier
	 * process's, recorded): refused, though no answer was taken yet. */
	h.ctr = rc->hello_ctr_first - 1;
	cr_assert_eq(gw_wire_encode_nack(b, sizeof(b), &h, 1, GW_NACK_NOT_AUTHORISED, 0),
		     GW_NACK_LEN);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed, 1);
	cr_assert_eq(st.nacked[GW_NACK_NOT_AUTHORISED], 0);
	/* The fake router's own answer to the first HELLO: taken. */
	h.ctr = rc->hello_ctr_first;
	cr_assert_eq(gw_wire_encode_nack(b, sizeof(b), &h, 1, GW_NACK_NOT_AUTHORISED, 0),
		     GW_NACK_LEN);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	memcpy(n1, b, sizeof(n1));
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.nacked[GW_NACK_NOT_AUTHORISED], 1);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);

	/* Replayed, and one echoing a HELLO counter not yet sent. */
	fr_send_raw(e.fr, 1, n1, sizeof(n1));
	h.ctr = rc->hello_ctr + 1;
	cr_assert_eq(gw_wire_encode_nack(b, sizeof(b), &h, 1, GW_NACK_NOT_AUTHORISED, 0),
		     GW_NACK_LEN);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.nacked[GW_NACK_NOT_AUTHORISED], 1);
	cr_assert_eq(st.rx_replayed, 3);

	/* The fake router's own NOT_AUTHORISED to the next HELLO (the
	 * backoff's, about 1 s on): taken. */
	e.fr->no_welcome = false;
	while (st.nacked[GW_NACK_NOT_AUTHORISED] < 2 && e.fr->hello_rx < 3) {
		pump(e.fr, e.cs, 1);
		st = stats(e.cs[0]);
	}
	cr_assert_eq(st.nacked[GW_NACK_NOT_AUTHORISED], 2);
	cr_assert_eq(gw_conn_is_up(e.cs[0]), 0);
	/* That one replayed: refused. */
	fr_send_raw(e.fr, 1, e.fr->last_nack, sizeof(e.fr->last_nack));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.nacked[GW_NACK_NOT_AUTHORISED], 2);
	cr_assert_eq(st.rx_replayed, 4);

	/* Enabled again: the next HELLO is welcomed. */
	e.fr->deny = false;
	env_up(&e);
	env_free(&e);
}

/* ---- counters and windows across re-WELCOMEs ---------------------------- */

Test(sdk_auth, same_epoch_rewelcome_keeps_counters_and_windows)
{
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st;
	uint8_t k1[GW_KEEPALIVE_LEN];
	uint64_t top0, top1, welcomes, end;
	uint32_t epoch;

	env_new(&e, 64, 31);
	e.fr->ka_ms = 20; /* lane 0 traffic too */
	e.fr->ka_mult = 10;
	env_open(&e, 1, NULL, NULL);
	env_up(&e);
	rc = &e.fr->conn[1];
	run_flow(e.fr, e.cs, 1, e.a, e.a, "smtp:u@c1.example", 20, 10000);
	end = now_us() + 2000000;
	while (rc->rx_top[GW_LANE_SESSION] == 0 && now_us() < end)
		pump(e.fr, e.cs, 1);
	assert_exactly_once(e.a, e.a, 1, 20);
	/* A router frame the SDK took: its window now holds that counter. */
	mk_keepalive(k1, rc->epoch, 0);
	fr_seal(e.fr, 1, k1, sizeof(k1));
	fr_send_raw(e.fr, 1, k1, sizeof(k1));
	settle(&e, 5);
	top0 = rc->rx_top[GW_LANE_SESSION];
	top1 = rc->rx_top[GW_LANE_STREAM];
	cr_assert_gt(top0, 0);
	cr_assert_gt(top1, 20);
	epoch = rc->epoch;

	/* A probe: HELLO, and the router keeps the session (same nonce,
	 * address, live): same epoch and salt, so same keys. */
	welcomes = e.fr->welcome_tx;
	fr_probe(e.fr, 1);
	end = now_us() + 2000000;
	do
		pump(e.fr, e.cs, 1);
	while ((e.fr->welcome_tx == welcomes || !gw_conn_is_up(e.cs[0])) && now_us() < end);
	st = stats(e.cs[0]);
	cr_assert(gw_conn_is_up(e.cs[0]));
	cr_assert_eq(st.epoch, epoch);
	cr_assert_eq(rc->epoch, epoch);
	cr_assert_eq(st.sessions, 2);

	/* Our counters went on: the router's kept windows take them. */
	run_flow(e.fr, e.cs, 1, e.a, e.a, "smtp:u@c1.example", 20, 10000);
	end = now_us() + 2000000; /* a keepalive (20 ms) on a loaded host */
	while (rc->rx_top[GW_LANE_SESSION] <= top0 && now_us() < end)
		pump(e.fr, e.cs, 1);
	assert_exactly_once(e.a, e.a, 1, 40);
	cr_assert_eq(e.fr->replayed, 0, "the SDK reused counters of the kept session");
	cr_assert_eq(e.fr->auth_failed, 0);
	cr_assert_gt(rc->rx_top[GW_LANE_STREAM], top1 + 20);
	cr_assert_gt(rc->rx_top[GW_LANE_SESSION], top0);
	/* And our windows were kept: the router frame taken before is old. */
	fr_send_raw(e.fr, 1, k1, sizeof(k1));
	settle(&e, 10);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_replayed, 1, "the re-WELCOME reset the SDK's windows");

	/* A new epoch starts them afresh: counters from 1 again. */
	top1 = rc->rx_top[GW_LANE_STREAM];
	rc->epoch = 0;
	fr_probe(e.fr, 1);
	end = now_us() + 2000000;
	do
		pump(e.fr, e.cs, 1);
	while ((stats(e.cs[0]).epoch == epoch || !gw_conn_is_up(e.cs[0])) && now_us() < end);
	cr_assert_neq(stats(e.cs[0]).epoch, epoch);
	run_flow(e.fr, e.cs, 1, e.a, e.a, "smtp:u@c1.example", 5, 10000);
	settle(&e, 30);
	assert_exactly_once(e.a, e.a, 1, 45);
	cr_assert_lt(rc->rx_top[GW_LANE_STREAM], top1, "the new session did not start afresh");
	cr_assert_eq(e.fr->replayed + e.fr->auth_failed, 0);
	env_free(&e);
}

Test(sdk_auth, nack_no_session_is_ignored)
{
	/* v2 routers do not send it (they could not authenticate it for an
	 * epoch they do not know). Authenticated anyway, for our epoch or as
	 * an epoch-0 frame, it loses nothing and resolves nothing. */
	struct sdk_env e;
	struct fr_conn *rc;
	struct gw_conn_stats st0, st;
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER };
	uint8_t b[GW_NACK_LEN];

	env_start(&e, 64, 37, 2, NULL, NULL);
	rc = &e.fr->conn[1];
	e.fr->hold_acks = true;
	cr_assert_eq(send_one(e.cs[0], "smtp:u@c2.example", 1, NULL), 0);
	settle(&e, 20);
	st0 = stats(e.cs[0]);

	h.epoch = rc->epoch;
	h.seq = 1;
	cr_assert_eq(gw_wire_encode_nack(b, sizeof(b), &h, 1, GW_NACK_NO_SESSION, 0), GW_NACK_LEN);
	fr_seal(e.fr, 1, b, sizeof(b));
	fr_send_raw(e.fr, 1, b, sizeof(b));
	h.epoch = 0;
	h.ctr = realtime_ns();
	cr_assert_eq(gw_wire_encode_nack(b, sizeof(b), &h, 1, GW_NACK_NO_SESSION, 0), GW_NACK_LEN);
	gw_auth_seal_hs(b, sizeof(b), rc->hs.r2c);
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	st = stats(e.cs[0]);
	cr_assert_eq(st.rx_ignored - st0.rx_ignored, 2);
	cr_assert_eq(st.session_losses, 0);
	cr_assert_eq(st.loss_no_session, 0);
	cr_assert(gw_conn_is_up(e.cs[0]));
	cr_assert_eq(e.a->n_results, 0);
	cr_assert_eq(st.inflight, 1);
	/* A NACK built the same way with a final reason is applied. */
	h.epoch = rc->epoch;
	h.ctr = 0;
	cr_assert_eq(gw_wire_encode_nack(b, sizeof(b), &h, 1, GW_NACK_NO_ROUTE, 0), GW_NACK_LEN);
	fr_seal(e.fr, 1, b, sizeof(b));
	fr_send_raw(e.fr, 1, b, sizeof(b));
	settle(&e, 20);
	cr_assert_eq(e.a->n_results, 1);
	cr_assert_eq(e.a->status[1], GW_NACK_NO_ROUTE);
	env_free(&e);
}
