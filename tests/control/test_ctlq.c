/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The two rings from the workers to the control thread (issue 8: a flood of
 * handshake traffic from anyone must not silence established sessions). A
 * real router (one worker, one net_ring port the test drives as the network
 * would) and its control context; the test's thread is the control thread
 * and polls only when the test says so, as a busy control thread would.
 *
 * - the handshake ring filled with HELLOs (for an unknown id, from a third
 *   party), more than it holds: the excess is counted CTL_HS_FULL, none
 *   CTL_FULL; a session's KEEPALIVE sent behind the flood still reaches
 *   control through the session ring, and the first poll answers it while
 *   serving at most DP_CTL_HS_BATCH handshake frames; the counts show in
 *   the stats JSON (gwartctl stats --json);
 * - what goes where: a KEEPALIVE or BYE of the session (its epoch, its
 *   address) to the session ring; the same from another address, with
 *   another epoch or with epoch 0, and every HELLO, to the handshake ring,
 *   where control still refuses them as before.
 */
#include <arpa/inet.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_udp.h>
#include <urcu-qsbr.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "conn.h"
#include "cp.h"
#include "eal.h"
#include "frames.h"
#include "pkt.h"
#include "port.h"
#include "router_api.h"
#include "session.h"
#include "tuning.h"

#define WAIT_S 10 /* s: a loaded host may not run the worker for a while */

static struct cp_ctx cp;
static struct rte_ring *ring_rx, *ring_tx;

/* ---- what control sends ------------------------------------------------------------ */

#define CAP_MAX 64

static struct {
	struct rte_mbuf *m[CAP_MAX];
	unsigned n;
} cap;

static void hook(void *arg, unsigned port, struct rte_mbuf *m)
{
	(void)arg;
	(void)port;
	if (cap.n < CAP_MAX)
		cap.m[cap.n++] = m;
	else
		rte_pktmbuf_free(m);
}

static void cap_clear(void)
{
	for (unsigned i = 0; i < cap.n; i++)
		rte_pktmbuf_free(cap.m[i]);
	cap.n = 0;
}

struct sent {
	const uint8_t *gw;
	size_t len;
	uint32_t dst_ip_be;
	uint16_t dst_udp_be;
	struct gw_frame f;
};

static struct sent sent(unsigned i)
{
	struct sent s;
	const struct rte_ipv4_hdr *ih;
	const struct rte_udp_hdr *uh;

	cr_assert_lt(i, cap.n, "frame %u of %u sent", i, cap.n);
	ih = rte_pktmbuf_mtod_offset(cap.m[i], const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	uh = (const struct rte_udp_hdr *)(ih + 1);
	s.gw = dp_pkt_gw(cap.m[i]);
	s.len = rte_be_to_cpu_16(uh->dgram_len) - 8;
	s.dst_ip_be = ih->dst_addr;
	s.dst_udp_be = uh->dst_port;
	cr_assert_eq(gw_wire_parse(s.gw, s.len, &s.f), GW_WIRE_OK);
	return s;
}

/* ---- a connector on the network ---------------------------------------------------- */

struct tconn {
	uint32_t id;
	uint8_t key[GW_KEY_LEN];
	struct gw_hs_keys hs;
	uint64_t nonce;
	uint64_t hello_ctr;
	struct dp_port_addr pa; /* its address, as a port would have it */
	uint16_t udp_be;
	uint32_t epoch;
	struct gw_gmac_key tx, rx;
	uint64_t n; /* lane-0 frames sent */
};

static struct tconn t1;

static void tconn_init(struct tconn *t, uint32_t id, uint32_t ip, uint16_t port)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	memset(t->key, 0x40 + (int)id, sizeof(t->key));
	gw_auth_derive_hs(t->key, id, &t->hs);
	t->nonce = 0xabcd000000000000ull | id;
	t->hello_ctr = 1700000000000000000ull;
	t->pa.ip_be = htonl(ip);
	t->pa.mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 1, (uint8_t)id}};
	t->pa.mtu = 1500;
	t->udp_be = htons(port);
}

static struct dp_worker_stats stats(void)
{
	struct dp_worker_stats s;

	dp_router_stats(cp.rt, &s);
	return s;
}

/* Put a frame on the wire towards the router from @pa:@udp_be; waits while
 * the port's RX ring is full (the worker empties it). */
static void inject_from(const struct dp_port_addr *pa, uint16_t udp_be, const void *frame,
			size_t len)
{
	uint8_t *pl;
	struct rte_mbuf *m = NULL;
	uint64_t deadline = rte_get_tsc_cycles() + WAIT_S * rte_get_tsc_hz();

	while (m == NULL) {
		m = dp_pkt_alloc_udp(test_pool, pa, udp_be, &cp.rt->ports[0].mac,
				     cp.rt->ports[0].ip_be, cp.rt->udp_be, (uint16_t)len, &pl);
		cr_assert(m != NULL || rte_get_tsc_cycles() < deadline, "test pool empty");
		rcu_quiescent_state();
	}
	memcpy(pl, frame, len);
	dp_pkt_finish_udp(m);
	while (rte_ring_enqueue(ring_rx, m) != 0) {
		cr_assert_lt(rte_get_tsc_cycles(), deadline, "the worker takes frames");
		rcu_quiescent_state();
		rte_pause();
	}
}

static void inject(const struct tconn *t, const void *frame, size_t len)
{
	inject_from(&t->pa, t->udp_be, frame, len);
}

/* Frames the worker handed to control or dropped at its rings: counted
 * after the hand-off (rx_frames is counted before it). */
static uint64_t ctl_seen(const struct dp_worker_stats *s)
{
	return s->ctl_frames + s->ctl_hs_frames + s->drops[DP_DROP_CTL_FULL] +
	       s->drops[DP_DROP_CTL_HS_FULL];
}

/* Wait until the worker has dealt with @n frames for control in all. */
static void wait_rx(uint64_t n)
{
	uint64_t deadline = rte_get_tsc_cycles() + WAIT_S * rte_get_tsc_hz();
	struct dp_worker_stats s;

	for (;;) {
		s = stats();
		if (ctl_seen(&s) >= n)
			break;
		cr_assert_lt(rte_get_tsc_cycles(), deadline,
			     "worker dealt with %lu of %lu frames (parsed %lu)",
			     (unsigned long)ctl_seen(&s), (unsigned long)n,
			     (unsigned long)s.rx_frames);
		rcu_quiescent_state();
		rte_pause();
	}
}

static size_t hello(struct tconn *t, uint8_t *buf)
{
	struct gw_hdr_args h = {.sender = t->id, .epoch = 0, .seq = 1, .ctr = ++t->hello_ctr};
	size_t len = gw_wire_encode_hello(buf, GW_FRAME_MAX, &h, t->nonce, 64);

	cr_assert_eq(len, GW_HELLO_LEN);
	gw_auth_seal_hs(buf, len, t->hs.c2r);
	return len;
}

static size_t session_frame(struct tconn *t, uint8_t *buf, unsigned type, uint32_t epoch)
{
	struct gw_hdr_args h = {.sender = t->id, .epoch = epoch, .seq = 9,
				.ctr = gw_ctr_make(GW_LANE_SESSION, ++t->n)};
	size_t len = type == GW_T_BYE ? gw_wire_encode_bye(buf, GW_FRAME_MAX, &h, 0)
				      : gw_wire_encode_keepalive(buf, GW_FRAME_MAX, &h);

	cr_assert_neq(len, 0);
	gw_auth_seal_session(buf, len, &t->tx);
	return len;
}

/* HELLO through the worker (the handshake ring), WELCOME from control. */
static void tc_connect(struct tconn *t)
{
	uint8_t buf[GW_FRAME_MAX];
	size_t len = hello(t, buf);
	struct dp_worker_stats s0 = stats();
	struct gw_session_keys k;
	struct sent s;

	inject(t, buf, len);
	wait_rx(ctl_seen(&s0) + 1);
	cr_assert_eq(stats().ctl_hs_frames, s0.ctl_hs_frames + 1, "a HELLO: handshake ring");
	cr_assert_eq(stats().ctl_frames, s0.ctl_frames);
	cap_clear();
	cr_assert_eq(cp_frames_poll(&cp), 1);
	cr_assert_eq(cap.n, 1, "one WELCOME");
	s = sent(0);
	cr_assert_eq(s.f.type, GW_T_WELCOME);
	cr_assert(gw_auth_check_hs(s.gw, s.len, t->hs.r2c));
	t->epoch = s.f.epoch;
	gw_auth_derive_session(t->key, t->id, t->epoch, t->nonce, s.f.u.welcome.salt, &k);
	gw_gmac_key_init(&t->tx, k.c2r);
	gw_gmac_key_init(&t->rx, k.r2c);
	gw_auth_wipe(&k, sizeof(k));
	t->n = 0;
	cap_clear();
	cr_assert_eq(cp_session_get(&cp, t->id)->state, CP_SESS_UP);
}

/* ---- fixture ------------------------------------------------------------------------ */

static void setup(void)
{
	struct dp_router_params prm = {
		.nb_mbuf = 2047,
		.mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
		.udp_port = 4790,
		.max_routes = 8,
	};
	int rc = 0, port;

	test_eal_start("0-1");
	memset(&cp, 0, sizeof(cp));
	cp.rt = dp_router_create(&prm, &rc);
	cr_assert_not_null(cp.rt, "router: %s", strerror(-rc));
	ring_rx = rte_ring_create("cq_rx", 1024, SOCKET_ID_ANY, 0);
	ring_tx = rte_ring_create("cq_tx", 1024, SOCKET_ID_ANY, 0);
	cr_assert(ring_rx && ring_tx);
	port = rte_eth_from_rings("cq_r", &ring_rx, 1, &ring_tx, 1, SOCKET_ID_ANY);
	cr_assert_geq(port, 0);
	cr_assert_eq(dp_port_setup(cp.rt, (uint16_t)port, htonl(0x0a000001u)), 0);
	cr_assert_eq(cp_init(&cp, cp.rt), 0);
	cp.tx_hook = hook;
	tconn_init(&t1, 5, 0x0a000005u, 45005);
	cr_assert_eq(cp_connector_add(&cp, t1.id, "honest", t1.key), 0);
	cr_assert_eq(dp_router_start(cp.rt), 0);
	tc_connect(&t1);
}

static void teardown(void)
{
	struct rte_mbuf *m;

	cap_clear();
	rcu_thread_offline();
	dp_router_stop(cp.rt);
	rcu_thread_online();
	while (cp_frames_poll(&cp) != 0)
		;
	cap_clear();
	while (rte_ring_dequeue(ring_tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	dp_router_free(cp.rt);
	cp_fini(&cp);
	rte_ring_free(ring_rx);
	rte_ring_free(ring_tx);
	test_eal_down();
}

TestSuite(ctlq, .init = setup, .fini = teardown, .timeout = 120);

/* ---- the flood ------------------------------------------------------------------------ */

#define FLOOD 3000 /* HELLOs: nearly three handshake rings' worth */

Test(ctlq, hello_flood_does_not_silence_sessions)
{
	struct tconn x;
	uint8_t buf[GW_FRAME_MAX];
	size_t len;
	struct dp_worker_stats s0 = stats(), s1;
	struct cp_stats c0 = cp.stats;
	uint64_t rx0 = cp_session_get(&cp, t1.id)->last_rx_us;
	uint64_t hs_full;
	unsigned got, i;
	struct sent s;
	json_t *j, *drops;

	/* A third party floods HELLOs for an id nobody configured; control
	 * is busy (does not poll) meanwhile. */
	tconn_init(&x, 999, 0xc6336401u, 6666);
	for (i = 0; i < FLOOD; i++) {
		len = hello(&x, buf);
		inject(&x, buf, len);
	}
	/* Behind the whole flood, the honest connector's KEEPALIVE. */
	len = session_frame(&t1, buf, GW_T_KEEPALIVE, t1.epoch);
	inject(&t1, buf, len);
	wait_rx(ctl_seen(&s0) + FLOOD + 1);
	s1 = stats();

	/* The handshake ring is full, the excess counted CTL_HS_FULL ... */
	hs_full = s1.drops[DP_DROP_CTL_HS_FULL] - s0.drops[DP_DROP_CTL_HS_FULL];
	cr_assert_eq(rte_ring_count(cp.rt->ctl_hs_ring), DP_CTL_HS_RING_SIZE - 1);
	cr_assert_eq(s1.ctl_hs_frames - s0.ctl_hs_frames, DP_CTL_HS_RING_SIZE - 1);
	cr_assert_eq(hs_full, FLOOD - (DP_CTL_HS_RING_SIZE - 1), "CTL_HS_FULL %lu",
		     (unsigned long)hs_full);
	/* ... and the KEEPALIVE was not among them: session ring, no CTL_FULL. */
	cr_assert_eq(s1.drops[DP_DROP_CTL_FULL], s0.drops[DP_DROP_CTL_FULL], "no CTL_FULL");
	cr_assert_eq(s1.ctl_frames - s0.ctl_frames, 1, "the KEEPALIVE: session ring");
	cr_assert_eq(rte_ring_count(cp.rt->ctl_ring), 1);

	/* One poll: the KEEPALIVE answered, at most one bounded batch of the
	 * flood served with it. */
	cap_clear();
	got = cp_frames_poll(&cp);
	cr_assert_eq(got, 1 + DP_CTL_HS_BATCH);
	cr_assert_eq(cp.stats.keepalives - c0.keepalives, 1);
	cr_assert_eq(cp.stats.hello_unknown - c0.hello_unknown, DP_CTL_HS_BATCH);
	cr_assert_eq(cap.n, 1, "the KEEPALIVE's answer, nothing for the flood");
	s = sent(0);
	cr_assert_eq(s.f.type, GW_T_KEEPALIVE);
	cr_assert_eq(s.f.epoch, t1.epoch);
	cr_assert_eq(s.f.seq, 9, "echoes the KEEPALIVE's seq");
	cr_assert_eq(s.dst_ip_be, t1.pa.ip_be);
	cr_assert_eq(s.dst_udp_be, t1.udp_be);
	cr_assert(gw_auth_check_session(s.gw, s.len, &t1.rx), "sealed with s.r2c");
	cr_assert_eq(cp_session_get(&cp, t1.id)->state, CP_SESS_UP);
	cr_assert_gt(cp_session_get(&cp, t1.id)->last_rx_us, rx0, "liveness stamped");
	cap_clear();

	/* The refusals are visible to the operator (gwartctl stats --json). */
	j = cp_stats_json(&cp);
	cr_assert_not_null(j);
	drops = json_object_get(j, "drops");
	cr_assert_eq(json_integer_value(json_object_get(drops, "CTL_HS_FULL")),
		     (json_int_t)s1.drops[DP_DROP_CTL_HS_FULL]);
	cr_assert_eq(json_integer_value(json_object_get(drops, "CTL_FULL")), 0);
	cr_assert_eq(json_integer_value(json_object_get(j, "ctl_hs_frames")),
		     (json_int_t)s1.ctl_hs_frames);
	cr_assert_eq(json_integer_value(json_object_get(j, "ctl_frames")),
		     (json_int_t)s1.ctl_frames);
	json_decref(j);

	/* The rest of the flood, in batches; each refused (unknown id). */
	while ((got = cp_frames_poll(&cp)) != 0)
		cr_assert_leq(got, DP_CTL_HS_BATCH);
	cr_assert_eq(cp.stats.hello_unknown - c0.hello_unknown, DP_CTL_HS_RING_SIZE - 1);
	cr_assert_eq(cap.n, 0);
}

/* A KEEPALIVE keeps reaching control while the flood goes on: each poll
 * answers it, however full the handshake ring. */
Test(ctlq, keepalives_answered_during_flood)
{
	struct tconn x;
	uint8_t buf[GW_FRAME_MAX];
	size_t len;
	struct cp_stats c0 = cp.stats;
	struct dp_worker_stats s0 = stats();
	uint64_t rx = ctl_seen(&s0);
	unsigned round, i;

	tconn_init(&x, 999, 0xc6336401u, 6666);
	for (round = 0; round < 5; round++) {
		for (i = 0; i < DP_CTL_HS_RING_SIZE; i++) {
			len = hello(&x, buf);
			inject(&x, buf, len);
		}
		len = session_frame(&t1, buf, GW_T_KEEPALIVE, t1.epoch);
		inject(&t1, buf, len);
		rx += DP_CTL_HS_RING_SIZE + 1;
		wait_rx(rx);
		cap_clear();
		cr_assert_leq(cp_frames_poll(&cp), 1 + DP_CTL_HS_BATCH);
		cr_assert_eq(cp.stats.keepalives - c0.keepalives, round + 1);
		cr_assert_eq(cap.n, 1);
		cr_assert_eq(sent(0).f.type, GW_T_KEEPALIVE);
		cr_assert(gw_auth_check_session(sent(0).gw, sent(0).len, &t1.rx));
	}
	cap_clear();
	cr_assert_eq(stats().drops[DP_DROP_CTL_FULL], 0);
	cr_assert_gt(stats().drops[DP_DROP_CTL_HS_FULL], 0);
	cr_assert_eq(cp_session_get(&cp, t1.id)->state, CP_SESS_UP);
}

/* ---- what goes where ------------------------------------------------------------------ */

/* Inject one frame and say which ring the worker chose: 1 session, 0 handshake. */
static int ring_of(const struct dp_port_addr *pa, uint16_t udp_be, const uint8_t *buf, size_t len)
{
	struct dp_worker_stats s0 = stats(), s1;

	inject_from(pa, udp_be, buf, len);
	wait_rx(ctl_seen(&s0) + 1);
	s1 = stats();
	cr_assert_eq((s1.ctl_frames - s0.ctl_frames) + (s1.ctl_hs_frames - s0.ctl_hs_frames), 1,
		     "one frame to control");
	return s1.ctl_frames != s0.ctl_frames;
}

Test(ctlq, classification)
{
	uint8_t buf[GW_FRAME_MAX];
	size_t len;
	struct cp_stats c0 = cp.stats;
	struct dp_port_addr other = t1.pa;
	struct tconn x;

	/* The session's KEEPALIVE: session ring, answered. */
	len = session_frame(&t1, buf, GW_T_KEEPALIVE, t1.epoch);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 1);
	cap_clear();
	cr_assert_eq(cp_frames_poll(&cp), 1);
	cr_assert_eq(cap.n, 1);
	cap_clear();

	/* The same from another port of the same host: handshake ring, and
	 * control refuses it (not the session's address). */
	len = session_frame(&t1, buf, GW_T_KEEPALIVE, t1.epoch);
	cr_assert_eq(ring_of(&t1.pa, htons(45999), buf, len), 0);
	/* ... from another host. */
	other.ip_be = htonl(0x0a000099u);
	len = session_frame(&t1, buf, GW_T_KEEPALIVE, t1.epoch);
	cr_assert_eq(ring_of(&other, t1.udp_be, buf, len), 0);
	cr_assert_eq(cp_frames_poll(&cp), 2);
	cr_assert_eq(cp.stats.auth_failed - c0.auth_failed, 2);
	cr_assert_eq(cap.n, 0);

	/* Another epoch, epoch 0: handshake ring; stale there. */
	len = session_frame(&t1, buf, GW_T_KEEPALIVE, t1.epoch ^ 0x5a5a5a5au);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 0);
	len = session_frame(&t1, buf, GW_T_KEEPALIVE, 0);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 0);
	cr_assert_eq(cp_frames_poll(&cp), 2);
	cr_assert_eq(cp.stats.stale_epoch - c0.stale_epoch, 2);
	cr_assert_eq(cap.n, 0);

	/* An unknown id's KEEPALIVE: handshake ring. */
	tconn_init(&x, 998, 0x0a000005u, 45005);
	x.tx = t1.tx;
	len = session_frame(&x, buf, GW_T_KEEPALIVE, t1.epoch);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 0);
	cr_assert_eq(cp_frames_poll(&cp), 1);

	/* A HELLO of the connector itself, from its session's address: the
	 * handshake ring all the same (same instance: same epoch again). */
	len = hello(&t1, buf);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 0);
	cr_assert_eq(cp_frames_poll(&cp), 1);
	cr_assert_eq(cap.n, 1);
	cr_assert_eq(sent(0).f.type, GW_T_WELCOME);
	cr_assert_eq(sent(0).f.epoch, t1.epoch);
	cap_clear();

	/* The session's BYE: session ring, and it closes the session; its
	 * later copy (session down) goes to the handshake ring. */
	len = session_frame(&t1, buf, GW_T_BYE, t1.epoch);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 1);
	cr_assert_eq(cp_frames_poll(&cp), 1);
	cr_assert_neq(cp_session_get(&cp, t1.id)->state, CP_SESS_UP);
	{
		uint64_t deadline = rte_get_tsc_cycles() + WAIT_S * rte_get_tsc_hz();

		/* The worker sees the republished connector (up = 0) at once;
		 * nothing to wait for but the publication itself. */
		while (dp_conn_peek(cp.rt, t1.id)->up)
			cr_assert_lt(rte_get_tsc_cycles(), deadline);
	}
	len = session_frame(&t1, buf, GW_T_BYE, t1.epoch);
	cr_assert_eq(ring_of(&t1.pa, t1.udp_be, buf, len), 0);
	cr_assert_eq(cp_frames_poll(&cp), 1);
	cr_assert_eq(cp.stats.byes_repeated - c0.byes_repeated, 1);
	cr_assert_eq(stats().drops[DP_DROP_CTL_FULL], 0);
	cr_assert_eq(stats().drops[DP_DROP_CTL_HS_FULL], 0);
}
