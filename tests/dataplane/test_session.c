/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol v2 on a running router (one worker, one net_ring port whose rings
 * the test drives as two connectors would): what a worker accepts, what it
 * refuses and why, and what it signs.
 *
 * - a valid DATA is ACKed and forwarded, each frame sealed with the
 *   receiver's r2c session key on lane 1 (checked with libsodium,
 *   gw_auth_check_session: what connectors use);
 * - a forged tag, a wrong lane, a replayed counter, a wrong source address
 *   and a stale epoch are each dropped with their own reason and change
 *   nothing: no frame out (no ACK, no NACK), no custody, the duplicate
 *   window and the replay window unmoved, and the counter they carried is
 *   still fresh afterwards;
 * - a NACK is sealed too; a refresh (same epoch, salt, instance) keeps the
 *   windows and counters, a new session resets them;
 * - every frame out has valid IPv4 and UDP checksums (headers from the
 *   connector's template, checksums from register values, api/pkt.h) and a
 *   reference count of 1 (a fresh mbuf, never the custody one);
 * - with the pool empty, a DATA taken into custody is not lost and not
 *   counted sent: NO_MBUF, and the next scan transmits it, once (the
 *   received mbuf itself; custody keeps a copy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "conn.h"
#include "conn_state.h"
#include "eal.h"
#include "lcore.h"
#include "pkt.h"
#include "port.h"
#include "route.h"
#include "router_api.h"

#define DEST "t:x.example"
#define NOWHERE "t:nowhere.example"

struct tconn {
	uint32_t id;
	uint8_t secret[GW_KEY_LEN];
	struct gw_gmac_key c2r, r2c;
	uint32_t epoch;
	uint64_t nonce;
	uint8_t salt[GW_SALT_LEN];
	struct dp_port_addr pa; /* its own address, as a port would have it */
	uint16_t udp_be;
	uint64_t ctr;           /* last lane-1 count it sent */
	uint64_t rctr;          /* last lane-1 count it received from the router */
};

static struct dp_router *rt;
/* The router's port 0, one ring pair per worker queue: RX (we produce; we
 * always use queue 0, so frames of a connector another worker owns are
 * steered), TX (we consume); and its second port (the failover tests). */
#define TS_MAXQ 2
/* Seconds an expected event may take: generous, a loaded test host may
 * not run the worker for a while; waits end as soon as it happens. */
#define TS_WAIT_S 10
static unsigned nq;
static struct rte_ring *ring_rx[TS_MAXQ], *ring_tx[TS_MAXQ];
static struct rte_ring *ring_rx2[TS_MAXQ], *ring_tx2[TS_MAXQ];
static struct tconn c1, c2, c3;
/* The no_mbuf test: the router's pool replaced by a tiny one (no cache, so
 * the test can empty it), the real one put back before the router is freed. */
#define TS_TINY 8
static struct rte_mempool *tiny, *real_pool;

static void tconn_init(struct tconn *c, uint32_t id)
{
	memset(c, 0, sizeof(*c));
	c->id = id;
	gw_key_generate(c->secret);
	c->nonce = 0x1000 + id;
	c->pa.ip_be = rte_cpu_to_be_32(0x0a000000u | (10 + id));
	c->pa.mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, (uint8_t)id}};
	c->pa.mtu = 1500;
	c->udp_be = rte_cpu_to_be_16((uint16_t)(5000 + id));
}

/* Control's part: a session with @epoch (new salt unless @same). */
static void tconn_up(struct tconn *c, uint32_t epoch, uint64_t hello_seq, int same)
{
	struct dp_conn_session s = {.port = 0, .rx_window = 64, .hello_seq = hello_seq};
	struct gw_session_keys k;
	uint32_t got = 0;

	if (!same)
		gw_random_bytes(c->salt, sizeof(c->salt));
	gw_auth_derive_session(c->secret, c->id, epoch, c->nonce, c->salt, &k);
	s.mac = c->pa.mac;
	s.ip_be = c->pa.ip_be;
	s.udp_be = c->udp_be;
	s.nonce = c->nonce;
	s.epoch = epoch;
	memcpy(s.salt, c->salt, sizeof(s.salt));
	s.keys = k;
	cr_assert_eq(dp_conn_session_up(rt, c->id, &s, &got), 0);
	cr_assert_eq(got, epoch);
	gw_gmac_key_init(&c->c2r, k.c2r);
	gw_gmac_key_init(&c->r2c, k.r2c);
	gw_auth_wipe(&k, sizeof(k));
	gw_auth_wipe(&s.keys, sizeof(s.keys));
	c->epoch = epoch;
	if (!same) {
		c->ctr = 0;
		c->rctr = 0;
	}
}

static void up_n(const char *lcores, unsigned workers)
{
	struct dp_router_params p = {.nb_mbuf = 1023,
				     .mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
				     .udp_port = 4790,
				     .max_routes = 16};
	struct dp_route_target tg = {.conn_id = 2, .cost = 1};
	int err = 0, port;

	test_eal_start(lcores);
	nq = workers;
	cr_assert_eq(gw_auth_init(), 0);
	rt = dp_router_create(&p, &err);
	cr_assert_not_null(rt, "router: %d", err);
	cr_assert_eq(rt->n_workers, workers);
	for (unsigned q = 0; q < nq; q++) {
		char n[4][32];

		snprintf(n[0], sizeof(n[0]), "ts_rx%u", q);
		snprintf(n[1], sizeof(n[1]), "ts_tx%u", q);
		snprintf(n[2], sizeof(n[2]), "ts_rx2_%u", q);
		snprintf(n[3], sizeof(n[3]), "ts_tx2_%u", q);
		ring_rx[q] = rte_ring_create(n[0], 1024, SOCKET_ID_ANY, 0);
		ring_tx[q] = rte_ring_create(n[1], 1024, SOCKET_ID_ANY, 0);
		ring_rx2[q] = rte_ring_create(n[2], 1024, SOCKET_ID_ANY, 0);
		ring_tx2[q] = rte_ring_create(n[3], 1024, SOCKET_ID_ANY, 0);
		cr_assert(ring_rx[q] && ring_tx[q] && ring_rx2[q] && ring_tx2[q]);
	}
	port = rte_eth_from_rings("ts_r", ring_rx, nq, ring_tx, nq, SOCKET_ID_ANY);
	cr_assert_geq(port, 0);
	cr_assert_eq(dp_port_setup(rt, (uint16_t)port, rte_cpu_to_be_32(0x0a000001u)), 0);
	port = rte_eth_from_rings("ts_r2", ring_rx2, nq, ring_tx2, nq, SOCKET_ID_ANY);
	cr_assert_geq(port, 0);
	cr_assert_eq(dp_port_setup(rt, (uint16_t)port, rte_cpu_to_be_32(0x0a000101u)), 0);
	tconn_init(&c1, 1);
	tconn_init(&c2, 2);
	tconn_init(&c3, 3);
	cr_assert_eq(dp_conn_create(rt, 1, "origin"), 0);
	cr_assert_eq(dp_conn_create(rt, 2, "dest"), 0);
	cr_assert_eq(dp_conn_create(rt, 3, "other"), 0);
	cr_assert_eq(dp_route_add(rt->routes, "t", "x.example", &tg, 1), 0);
	tconn_up(&c1, 0x11110001u, 1, 0);
	tconn_up(&c2, 0x22220001u, 1, 0);
	/* Failover after 20 ms down (the grace is one keepalive interval). */
	{
		struct dp_tunables t = *rt->tun;

		t.keepalive_ms = 20;
		cr_assert_eq(dp_router_set_tunables(rt, &t), 0);
	}
	if (strstr(criterion_current_test->name, "failover") != NULL) {
		/* c2 down, c3 (on the second port) the route's second choice;
		 * the test decides that port's MTU before the start. */
		struct dp_route_target tg2[2] = {{.conn_id = 2, .cost = 1}, {.conn_id = 3, .cost = 2}};

		cr_assert_eq(dp_conn_session_down(rt, 2), 0);
		cr_assert_eq(dp_route_add(rt->routes, "t", "f.example", tg2, 2), 0);
		if (strstr(criterion_current_test->name, "too_big") != NULL)
			rt->ports[1].mtu = 100;
	}
	if (strstr(criterion_current_test->name, "no_mbuf") != NULL) {
		tiny = rte_pktmbuf_pool_create("ts_tiny", TS_TINY, 0, 0,
					       RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		cr_assert_not_null(tiny);
		real_pool = rt->pool;
		rt->pool = tiny;
	}
	/* The benchmark's --no-auth (dp_router.auth_off), set before start. */
	if (strstr(criterion_current_test->name, "auth_off") != NULL)
		rt->auth_off = 1;
	cr_assert_eq(dp_router_start(rt), 0);
}

static void down(void)
{
	rcu_thread_offline();
	dp_router_stop(rt);
	rcu_thread_online();
	if (real_pool != NULL) {
		rt->pool = real_pool;
		real_pool = NULL;
		rte_mempool_free(tiny);
		tiny = NULL;
	}
	dp_router_free(rt);
	for (unsigned q = 0; q < nq; q++) {
		rte_ring_free(ring_rx[q]);
		rte_ring_free(ring_tx[q]);
		rte_ring_free(ring_rx2[q]);
		rte_ring_free(ring_tx2[q]);
	}
	test_eal_down();
}

static void up(void)
{
	up_n("0-1", 1);
}

/* Two workers: connector 1 is worker 1's, connector 2 worker 0's. */
static void up2(void)
{
	up_n("(0-2)@(0,1)", 2);
}

TestSuite(session, .init = up, .fini = down, .timeout = 60);
TestSuite(session2, .init = up2, .fini = down, .timeout = 60);

/* ---- the connectors' side ------------------------------------------------- */

static void inject(const struct tconn *c, const void *frame, size_t len, uint16_t src_udp_be)
{
	uint8_t *pl;
	struct rte_mbuf *m = dp_pkt_alloc_udp(test_pool, &c->pa, src_udp_be, &rt->ports[0].mac,
					      rt->ports[0].ip_be, rt->udp_be, (uint16_t)len, &pl);

	cr_assert_not_null(m);
	memcpy(pl, frame, len);
	dp_pkt_finish_udp(m);
	cr_assert_eq(rte_ring_enqueue(ring_rx[0], m), 0);
}

/* A DATA frame of @c's session: @ctr is the whole trailer value. */
static size_t data_frame(const struct tconn *c, uint8_t *buf, uint64_t seq, uint64_t ctr,
			 uint32_t epoch, const char *dest)
{
	struct gw_hdr_args h = {.sender = c->id, .epoch = epoch, .seq = seq, .ctr = ctr};
	size_t n = gw_wire_encode_data(buf, 512, &h, c->id, seq, dest, (uint16_t)strlen(dest),
				       "hi", 2);

	cr_assert_gt(n, 0);
	gw_auth_seal_session(buf, n, &c->c2r);
	return n;
}

static size_t ack_frame(const struct tconn *c, uint8_t *buf, uint64_t cum, uint64_t ctr)
{
	struct gw_hdr_args h = {.sender = c->id, .epoch = c->epoch, .seq = cum, .ctr = ctr};
	size_t n = gw_wire_encode_ack(buf, 128, &h, cum + 1, 0);

	cr_assert_gt(n, 0);
	gw_auth_seal_session(buf, n, &c->c2r);
	return n;
}

/* ---- what the router did ------------------------------------------------ */

struct out {
	uint16_t dst_udp_be;
	size_t len;
	uint8_t buf[2048];
	struct gw_frame f;
};

static struct dp_worker_stats stats(void)
{
	struct dp_worker_stats s;

	dp_router_stats(rt, &s);
	return s;
}

/* Let the worker run @n more loop iterations (everything it had received
 * is then processed and flushed). */
static void settle(unsigned n)
{
	uint64_t l0 = stats().loops, deadline = rte_get_tsc_cycles() + 5 * rte_get_tsc_hz();

	while (stats().loops < l0 + n && rte_get_tsc_cycles() < deadline) {
		rcu_quiescent_state();
		rte_pause();
	}
	cr_assert_geq(stats().loops, l0 + n, "the worker runs");
}

/* Frames the router sent since the last call (at most @max). */
static unsigned drain_out(struct out *o, unsigned max)
{
	struct rte_mbuf *m;
	unsigned n = 0, q = 0;

	while (q < nq) {
		if (rte_ring_dequeue(ring_tx[q], (void **)&m) != 0) {
			q++;
			continue;
		}
		const struct rte_udp_hdr *uh =
			rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, DP_PKT_HDRS - 8);

		/* Every frame out: checksums right (as a kernel socket checks
		 * them), never 0 for UDP (RFC 768: "none"), a fresh mbuf. */
		{
			struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(
				m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

			cr_assert_eq(rte_raw_cksum(ih, sizeof(*ih)), 0xffff, "IPv4 checksum");
			cr_assert_neq(uh->dgram_cksum, 0, "UDP checksum present");
			cr_assert_eq(rte_ipv4_udptcp_cksum_verify(ih, uh), 0, "UDP checksum");
			cr_assert_eq(rte_be_to_cpu_16(ih->total_length),
				     rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN);
			cr_assert_eq(rte_mbuf_refcnt_read(m), 1, "one reference: its own mbuf");
		}
		if (n < max) {
			o[n].dst_udp_be = uh->dst_port;
			o[n].len = rte_be_to_cpu_16(uh->dgram_len) - 8u;
			cr_assert_leq(o[n].len, sizeof(o[n].buf));
			memcpy(o[n].buf, dp_pkt_gw(m), o[n].len);
			cr_assert_eq(gw_wire_parse(o[n].buf, o[n].len, &o[n].f), GW_WIRE_OK);
			if (getenv("TS_DEBUG"))
				fprintf(stderr, "out q%u: to %u %s seq %lu ctr %lx\n", q,
					rte_be_to_cpu_16(o[n].dst_udp_be), gw_type_name(o[n].f.type),
					(unsigned long)o[n].f.seq, (unsigned long)o[n].f.ctr);
			n++;
		}
		rte_pktmbuf_free(m);
	}
	return n;
}

/* Frames drained but not yet looked for. */
static struct out stash[64];
static unsigned n_stash;

/* Wait for the router's frames to @c until one of @type arrives (or TS_WAIT_S);
 * other frames stay for later calls. */
static int wait_frame(const struct tconn *c, unsigned type, struct out *got)
{
	uint64_t deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();

	for (;;) {
		unsigned i;

		for (i = 0; i < n_stash; i++)
			if (stash[i].dst_udp_be == c->udp_be && stash[i].f.type == type) {
				*got = stash[i];
				memmove(&stash[i], &stash[i + 1], (n_stash - i - 1) * sizeof(stash[0]));
				n_stash--;
				return 1;
			}
		if (rte_get_tsc_cycles() >= deadline) {
			/* What the router did instead, for the failure's reader. */
			struct dp_worker_stats st;
			unsigned d;

			dp_router_stats(rt, &st);
			fprintf(stderr, "wait_frame: no %s to %u; rx_pkts %lu rx_frames %lu acks %lu "
				"loops %lu stash %u\n", gw_type_name(type), c->id,
				(unsigned long)st.rx_pkts, (unsigned long)st.rx_frames,
				(unsigned long)st.acks_sent, (unsigned long)st.loops, n_stash);
			for (d = 0; d < DP_DROP_COUNT; d++)
				if (st.drops[d] != 0)
					fprintf(stderr, "  drop %s %lu\n", dp_drop_name(d),
						(unsigned long)st.drops[d]);
			return 0;
		}
		n_stash += drain_out(stash + n_stash, (unsigned)RTE_DIM(stash) - n_stash);
		rcu_quiescent_state();
		rte_pause();
	}
}

/* A frame from the router to @c is sealed with @c's r2c key on lane 1, with
 * the next counter; @c checks it as a connector does. */
static void expect_sealed(struct tconn *c, const struct out *o)
{
	cr_expect(gw_auth_check_session(o->buf, o->len, &c->r2c),
		  "%s to %u verifies with its r2c key", gw_type_name(o->f.type), c->id);
	cr_expect_not(gw_auth_check_session(o->buf, o->len, &c->c2r), "and not with c2r");
	cr_expect_eq(gw_ctr_lane(o->f.ctr), GW_LANE_STREAM);
	cr_expect_eq(gw_ctr_count(o->f.ctr), c->rctr + 1, "counter %lu after %lu",
		     (unsigned long)gw_ctr_count(o->f.ctr), (unsigned long)c->rctr);
	cr_expect_eq(o->f.epoch, c->epoch);
	c->rctr = gw_ctr_count(o->f.ctr);
}

static uint64_t rx_cum(uint32_t id)
{
	struct dp_conn_snap s;

	cr_assert_eq(dp_conn_snapshot(rt, id, &s), 0);
	return s.rx_cum;
}

static uint32_t held(uint32_t id)
{
	struct dp_conn_snap s;

	cr_assert_eq(dp_conn_snapshot(rt, id, &s), 0);
	return s.held;
}

static uint64_t replay_top(uint32_t id)
{
	return __atomic_load_n(&dp_conn_peek(rt, id)->st->rx_replay.top, __ATOMIC_RELAXED);
}

/* One valid DATA from c1 (seq, next counter): ACKed to c1, forwarded to c2
 * and acknowledged by c2, so custody is empty again. */
static void valid_round(uint64_t seq)
{
	uint8_t buf[512];
	struct out o;
	size_t n = data_frame(&c1, buf, seq, gw_ctr_make(GW_LANE_STREAM, ++c1.ctr), c1.epoch, DEST);

	inject(&c1, buf, n, c1.udp_be);
	cr_assert(wait_frame(&c1, GW_T_ACK, &o), "ACK for seq %lu", (unsigned long)seq);
	expect_sealed(&c1, &o);
	cr_expect_eq(o.f.seq, seq, "cumulative");
	/* Retransmissions of earlier messages may come first (a slow test
	 * host lets their timeout pass): each is sealed, with its own counter. */
	do {
		cr_assert(wait_frame(&c2, GW_T_DATA, &o), "DATA forwarded");
		expect_sealed(&c2, &o);
	} while (o.f.u.data.origin_seq != seq);
	n = ack_frame(&c2, buf, o.f.seq, gw_ctr_make(GW_LANE_STREAM, ++c2.ctr));
	inject(&c2, buf, n, c2.udp_be);
	{
		uint64_t deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();

		while (held(2) != 0 && rte_get_tsc_cycles() < deadline)
			rcu_quiescent_state();
	}
	cr_assert_eq(held(2), 0, "c2's ACK was accepted");
	cr_assert_eq(rx_cum(1), seq);
}

/* Inject a bad frame from c1; it must be dropped for @why and nothing else
 * may happen. */
static void refused(const char *what, const void *frame, size_t len, uint16_t src_udp_be,
		    enum dp_drop_reason why)
{
	struct dp_worker_stats s0 = stats(), s1;
	uint64_t cum = rx_cum(1), top = replay_top(1);
	static struct out o[8];
	uint64_t deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();
	unsigned i;

	inject(&c1, frame, len, src_udp_be);
	do {
		s1 = stats();
		rcu_quiescent_state();
	} while (s1.drops[why] == s0.drops[why] && rte_get_tsc_cycles() < deadline);
	settle(3);
	s1 = stats();
	cr_expect_eq(s1.drops[why], s0.drops[why] + 1, "%s: dropped as %s", what, dp_drop_name(why));
	for (i = 0; i < DP_DROP_COUNT; i++)
		if (i != (unsigned)why)
			cr_expect_eq(s1.drops[i], s0.drops[i], "%s: no %s drop", what,
				     dp_drop_name(i));
	{
		unsigned k, m = drain_out(o, 8), to_c1 = 0;

		/* To c1, nothing (no ACK, no NACK); to c2, at most a
		 * retransmission of an earlier message (its timer's business). */
		for (k = 0; k < n_stash; k++)
			to_c1 += stash[k].dst_udp_be == c1.udp_be;
		for (k = 0; k < m; k++) {
			to_c1 += o[k].dst_udp_be == c1.udp_be;
			if (o[k].dst_udp_be != c1.udp_be) {
				cr_expect(o[k].f.type == GW_T_DATA && (o[k].f.flags & GW_F_RETRANSMIT),
					  "%s: only a retransmission to c2", what);
				expect_sealed(&c2, &o[k]);
			}
		}
		cr_expect_eq(to_c1, 0, "%s: nothing sent to c1 (no ACK, no NACK)", what);
	}
	cr_expect_eq(s1.acks_sent, s0.acks_sent, "%s", what);
	cr_expect_eq(s1.nacks_sent, s0.nacks_sent, "%s", what);
	cr_expect_eq(s1.rx_data, s0.rx_data, "%s: not processed", what);
	cr_expect_eq(s1.routed, s0.routed, "%s", what);
	cr_expect_eq(held(2), 0, "%s: no custody", what);
	cr_expect_eq(rx_cum(1), cum, "%s: duplicate window unmoved", what);
	cr_expect_eq(replay_top(1), top, "%s: replay window unmoved", what);
}

Test(session, refusals_change_nothing)
{
	uint8_t buf[512], first[512];
	size_t n, nfirst;
	uint64_t next;

	/* seq 1: valid, and kept for the replay below. */
	nfirst = data_frame(&c1, first, 1, gw_ctr_make(GW_LANE_STREAM, 1), c1.epoch, DEST);
	c1.ctr = 0;
	valid_round(1);
	cr_expect_eq(replay_top(1), 1);
	next = c1.ctr + 1;

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), c1.epoch, DEST);
	buf[n - 1] ^= 0x80;
	refused("forged tag", buf, n, c1.udp_be, DP_DROP_AUTH_FAILED);

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), c1.epoch, DEST);
	buf[GW_HDR_LEN + 3] ^= 1; /* a body byte after sealing */
	refused("altered body", buf, n, c1.udp_be, DP_DROP_AUTH_FAILED);

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_SESSION, next), c1.epoch, DEST);
	refused("wrong lane", buf, n, c1.udp_be, DP_DROP_AUTH_FAILED);

	refused("replayed frame", first, nfirst, c1.udp_be, DP_DROP_REPLAYED);

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, 0), c1.epoch, DEST);
	refused("counter zero", buf, n, c1.udp_be, DP_DROP_REPLAYED);

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), c1.epoch, DEST);
	refused("wrong source port", buf, n, rte_cpu_to_be_16(6001), DP_DROP_AUTH_FAILED);

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), c1.epoch + 1, DEST);
	refused("stale epoch", buf, n, c1.udp_be, DP_DROP_NO_SESSION);

	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), 0, DEST);
	refused("epoch 0", buf, n, c1.udp_be, DP_DROP_NO_SESSION);

	/* An ACK with c2's identity forged by c1 (c1's key, c2's id). */
	{
		struct tconn fake = c2;

		fake.c2r = c1.c2r;
		n = ack_frame(&fake, buf, 1, gw_ctr_make(GW_LANE_STREAM, c2.ctr + 1));
		{
			struct dp_worker_stats s0 = stats();

			inject(&c2, buf, n, c2.udp_be);
			settle(3);
			cr_expect_eq(stats().drops[DP_DROP_AUTH_FAILED],
				     s0.drops[DP_DROP_AUTH_FAILED] + 1, "forged ACK");
		}
	}

	/* The counter every refused frame carried is still fresh: nothing
	 * was committed. */
	valid_round(2);
	cr_expect_eq(replay_top(1), next);
}

Test(session, nack_sealed_refresh_keeps_new_session_resets)
{
	uint8_t buf[512], keep[512];
	size_t n, nkeep;
	struct out o;

	valid_round(1);
	/* NO_ROUTE: the NACK is sealed on lane 1 too. */
	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, ++c1.ctr), c1.epoch, NOWHERE);
	inject(&c1, buf, n, c1.udp_be);
	cr_assert(wait_frame(&c1, GW_T_NACK, &o));
	expect_sealed(&c1, &o);
	cr_expect_eq(o.f.u.nack.reason, GW_NACK_NO_ROUTE);
	memcpy(keep, buf, n);
	nkeep = n;

	/* A refresh: same epoch, salt and instance. Windows and counters
	 * stay: the old frame is still a replay, the router's counter goes on. */
	tconn_up(&c1, c1.epoch, 2, 1);
	refused("replay after a refresh", keep, nkeep, c1.udp_be, DP_DROP_REPLAYED);
	valid_round(2);

	/* A new session: counters from 1 again on both sides, the old epoch's
	 * frames are refused. */
	tconn_up(&c1, c1.epoch + 7, 3, 0);
	refused("the old session's frame", keep, nkeep, c1.udp_be, DP_DROP_NO_SESSION);
	valid_round(3);
	cr_expect_eq(replay_top(1), 1, "the new session's window");
	cr_expect_eq(c1.rctr, 1, "the router's counter restarted");
}

/* Failover (a destination down past the grace) may move a never-sent
 * message only to a connector whose port can carry it: the router
 * acknowledged it because it fitted the first destination's port. */
static void failover_case(int too_big)
{
	uint8_t buf[512];
	struct out o;
	size_t n;
	uint64_t deadline;
	struct dp_worker_stats s;

	/* c2 and c3 are down: the message waits in c2's custody (the route's
	 * first choice that holds). */
	n = data_frame(&c1, buf, 1, gw_ctr_make(GW_LANE_STREAM, ++c1.ctr), c1.epoch, "t:f.example");
	inject(&c1, buf, n, c1.udp_be);
	cr_assert(wait_frame(&c1, GW_T_ACK, &o));
	expect_sealed(&c1, &o);
	cr_assert_eq(held(2), 1);
	/* c3 comes up on the second port. */
	{
		struct dp_conn_session ss = {.port = 1, .rx_window = 64, .hello_seq = 1};
		struct gw_session_keys k;

		gw_random_bytes(c3.salt, sizeof(c3.salt));
		gw_auth_derive_session(c3.secret, 3, 0x33330001u, c3.nonce, c3.salt, &k);
		ss.mac = c3.pa.mac;
		ss.ip_be = c3.pa.ip_be;
		ss.udp_be = c3.udp_be;
		ss.nonce = c3.nonce;
		ss.epoch = 0x33330001u;
		memcpy(ss.salt, c3.salt, sizeof(ss.salt));
		ss.keys = k;
		cr_assert_eq(dp_conn_session_up(rt, 3, &ss, NULL), 0);
		gw_gmac_key_init(&c3.r2c, k.r2c);
		gw_auth_wipe(&k, sizeof(k));
		c3.epoch = 0x33330001u;
	}
	deadline = rte_get_tsc_cycles() + 3 * rte_get_tsc_hz();
	do {
		rcu_quiescent_state();
		s = stats();
	} while ((too_big ? s.failover_too_big == 0 : s.moved == 0) &&
		 rte_get_tsc_cycles() < deadline);
	if (too_big) {
		cr_expect_gt(s.failover_too_big, 0, "the refusal is counted");
		settle(10);
		s = stats();
		cr_expect_eq(s.moved, 0, "not moved");
		cr_expect_eq(held(2), 1, "kept where it was acknowledged");
		cr_expect_eq(held(3), 0);
		cr_expect_eq(rte_ring_count(ring_tx2[0]), 0, "nothing sent on the small port");
	} else {
		struct rte_mbuf *m = NULL;
		struct gw_frame f;
		const uint8_t *gw;
		uint16_t len;

		cr_expect_eq(s.moved, 1, "moved");
		cr_expect_eq(s.failover_too_big, 0);
		deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();
		while (rte_ring_dequeue(ring_tx2[0], (void **)&m) != 0 && rte_get_tsc_cycles() < deadline) {
			m = NULL;
			rcu_quiescent_state();
		}
		cr_assert_not_null(m, "sent to c3 on the second port");
		gw = dp_pkt_gw(m);
		len = (uint16_t)(gw[4] << 8 | gw[5]);
		cr_assert_eq(gw_wire_parse(gw, len, &f), GW_WIRE_OK);
		cr_expect_eq(f.type, GW_T_DATA);
		cr_expect(gw_auth_check_session(gw, len, &c3.r2c), "sealed for c3");
		cr_expect_eq(f.epoch, c3.epoch);
		rte_pktmbuf_free(m);
	}
}

Test(session, failover_too_big_kept)
{
	failover_case(1);
}

Test(session, failover_fits_moves)
{
	failover_case(0);
}

/* Two workers: c1's frames arrive on worker 0's queue and are steered to
 * c1's owner (worker 1), which alone checks them against its window; c2's
 * DATA is sent by c2's owner (worker 0) with c2's counter after a custody
 * hand-off, and the verdict comes back for c1's ACK. Refusals on the
 * steered path change nothing either. */
Test(session2, steered_frames_checked_by_their_owner)
{
	uint8_t buf[512], first[512];
	size_t n, nfirst;
	uint64_t next;

	cr_assert_eq(dp_conn_peek(rt, 1)->owner, 1);
	cr_assert_eq(dp_conn_peek(rt, 2)->owner, 0);
	nfirst = data_frame(&c1, first, 1, gw_ctr_make(GW_LANE_STREAM, 1), c1.epoch, DEST);
	valid_round(1);
	cr_expect_gt(stats().steered, 0, "c1's frames were steered");
	cr_expect_gt(stats().handoffs, 0, "custody crossed workers");
	next = c1.ctr + 1;
	refused("replay, steered", first, nfirst, c1.udp_be, DP_DROP_REPLAYED);
	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), c1.epoch, DEST);
	buf[n - 3] ^= 4;
	refused("forged tag, steered", buf, n, c1.udp_be, DP_DROP_AUTH_FAILED);
	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, next), c1.epoch, DEST);
	refused("wrong source, steered", buf, n, rte_cpu_to_be_16(7001), DP_DROP_AUTH_FAILED);
	valid_round(2);
	valid_round(3);
	cr_expect_eq(replay_top(1), next + 1);
}

/* auth_off (benchmark only): the workers skip the tag computations and
 * nothing else: a wrong tag passes, the replay window, the lane and the
 * session's address still refuse. */
Test(session, auth_off_skips_tags_only)
{
	uint8_t buf[512], first[512];
	size_t n, nfirst;
	struct out o;

	nfirst = data_frame(&c1, first, 1, gw_ctr_make(GW_LANE_STREAM, 1), c1.epoch, DEST);
	first[nfirst - 1] ^= 1; /* a wrong tag */
	inject(&c1, first, nfirst, c1.udp_be);
	c1.ctr = 1;
	cr_assert(wait_frame(&c1, GW_T_ACK, &o), "taken without its tag checked");
	cr_expect_eq(o.f.seq, 1);
	cr_expect_eq(gw_ctr_count(o.f.ctr), 1, "counters still run");
	/* c2 takes it (its ACK's tag is not checked either). */
	cr_assert(wait_frame(&c2, GW_T_DATA, &o));
	n = ack_frame(&c2, buf, o.f.seq, gw_ctr_make(GW_LANE_STREAM, ++c2.ctr));
	buf[n - 2] ^= 1;
	inject(&c2, buf, n, c2.udp_be);
	{
		uint64_t deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();

		while (held(2) != 0 && rte_get_tsc_cycles() < deadline)
			rcu_quiescent_state();
	}
	cr_assert_eq(held(2), 0);
	refused("replay, auth off", first, nfirst, c1.udp_be, DP_DROP_REPLAYED);
	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_SESSION, 2), c1.epoch, DEST);
	refused("wrong lane, auth off", buf, n, c1.udp_be, DP_DROP_AUTH_FAILED);
	n = data_frame(&c1, buf, 2, gw_ctr_make(GW_LANE_STREAM, 2), c1.epoch, DEST);
	refused("wrong source, auth off", buf, n, rte_cpu_to_be_16(6002), DP_DROP_AUTH_FAILED);
}

/* A destination's ACK with a valid tag but naming what was never sent:
 * BAD_ACK, custody untouched (a key is not what keeps the router alive). */
Test(session, sealed_wild_ack_is_bad_ack)
{
	static const uint64_t wild[][3] = {
		{UINT64_C(1) << 63, 0xFFFFFFFFFFFFFFC1ull, ~0ull},
		{~0ull, 1, 0},
		{0, UINT64_C(1) << 63, ~0ull},
	};
	uint8_t buf[512];
	struct out o;
	size_t n;
	unsigned i;

	n = data_frame(&c1, buf, 1, gw_ctr_make(GW_LANE_STREAM, ++c1.ctr), c1.epoch, DEST);
	inject(&c1, buf, n, c1.udp_be);
	cr_assert(wait_frame(&c2, GW_T_DATA, &o));
	cr_assert_eq(held(2), 1);
	for (i = 0; i < RTE_DIM(wild); i++) {
		struct gw_hdr_args h = {.sender = 2, .epoch = c2.epoch, .seq = wild[i][0],
					.ctr = gw_ctr_make(GW_LANE_STREAM, ++c2.ctr)};
		struct dp_worker_stats s0 = stats();
		size_t an = gw_wire_encode_ack(buf, sizeof(buf), &h, wild[i][1], wild[i][2]);
		uint64_t deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();

		cr_assert_gt(an, 0);
		gw_auth_seal_session(buf, an, &c2.c2r);
		inject(&c2, buf, an, c2.udp_be);
		while (stats().drops[DP_DROP_BAD_ACK] == s0.drops[DP_DROP_BAD_ACK] &&
		       stats().drops[DP_DROP_WIRE_BAD_SEQ] == s0.drops[DP_DROP_WIRE_BAD_SEQ] &&
		       rte_get_tsc_cycles() < deadline)
			rcu_quiescent_state();
		cr_expect_eq(stats().drops[DP_DROP_BAD_ACK] + stats().drops[DP_DROP_WIRE_BAD_SEQ],
			     s0.drops[DP_DROP_BAD_ACK] + s0.drops[DP_DROP_WIRE_BAD_SEQ] + 1,
			     "wild ACK %u refused", i);
		cr_expect_eq(held(2), 1, "wild ACK %u freed nothing", i);
	}
	cr_expect_eq(stats().acks_ignored, 0, "none taken for a harmless repeat");
}

/* The pool empty when custody would transmit: nothing is lost and nothing
 * counted twice. The DATA stays in custody (counted NO_MBUF, not tx_data),
 * the ACK to its origin is not sent (counted too; the origin would retry);
 * with mbufs back, the scan transmits it once, as a first transmission, and
 * the custody mbuf was never shared (reference count 1 throughout). */
Test(session, no_mbuf_custody_kept_and_retried)
{
	struct rte_mbuf *hold[TS_TINY + 1], *received;
	struct dp_worker_stats s0, s1;
	uint8_t buf[512];
	struct out o;
	unsigned nh = 0, i;
	size_t n;
	uint64_t deadline;

	while (nh < RTE_DIM(hold) && (hold[nh] = rte_pktmbuf_alloc(tiny)) != NULL)
		nh++;
	cr_assert_eq(nh, TS_TINY, "the router's pool is empty");
	s0 = stats();
	n = data_frame(&c1, buf, 1, gw_ctr_make(GW_LANE_STREAM, ++c1.ctr), c1.epoch, DEST);
	inject(&c1, buf, n, c1.udp_be);
	deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();
	while (stats().drops[DP_DROP_NO_MBUF] < s0.drops[DP_DROP_NO_MBUF] + 2 &&
	       rte_get_tsc_cycles() < deadline)
		rcu_quiescent_state();
	settle(4);
	s1 = stats();
	cr_assert_geq(s1.drops[DP_DROP_NO_MBUF], s0.drops[DP_DROP_NO_MBUF] + 2,
		      "DATA transmission and ACK refused for want of mbufs");
	cr_expect_eq(s1.tx_data, s0.tx_data, "nothing counted sent");
	cr_expect_eq(s1.acks_sent, s0.acks_sent);
	cr_expect_eq(held(2), 1, "kept in custody");
	{
		const struct dp_custody *cu = dp_conn_peek(rt, 2)->st->cust;
		const struct dp_cslot *sl = &cu->slot[cu->head & cu->mask];

		cr_expect_eq(cu->next_tx, cu->head, "not transmitted: still queued");
		cr_assert_not_null(sl->m);
		cr_expect_eq(rte_mbuf_refcnt_read(sl->m), 1);
	}
	cr_expect_eq(drain_out(&o, 1), 0, "nothing left the router");
	received = dp_custody_slot(dp_conn_peek(rt, 2)->st->cust,
				   dp_conn_peek(rt, 2)->st->cust->head)->m;
	for (i = 0; i < nh; i++)
		rte_pktmbuf_free(hold[i]);
	/* The next scan sends it (the ACK is not re-sent: the origin's retry
	 * would bring it). */
	cr_assert(wait_frame(&c2, GW_T_DATA, &o), "transmitted once mbufs are back");
	expect_sealed(&c2, &o);
	cr_expect_eq(o.f.flags & GW_F_RETRANSMIT, 0, "a first transmission");
	cr_expect_eq(o.f.u.data.origin_seq, 1);
	s1 = stats();
	cr_expect_eq(s1.tx_data, s0.tx_data + 1, "counted sent once");
	{
		const struct dp_custody *cu = dp_conn_peek(rt, 2)->st->cust;
		const struct dp_cslot *sl = &cu->slot[cu->head & cu->mask];

		cr_assert_not_null(sl->m);
		cr_expect_eq(rte_mbuf_refcnt_read(sl->m), 1, "custody's mbuf was not shared");
		cr_expect_neq(sl->m, received, "the received mbuf went out, custody holds a copy");
		cr_expect_eq(sl->tries, 1);
	}
	n = ack_frame(&c2, buf, o.f.seq, gw_ctr_make(GW_LANE_STREAM, ++c2.ctr));
	inject(&c2, buf, n, c2.udp_be);
	deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();
	while ((held(2) != 0 || stats().delivered == s0.delivered) &&
	       rte_get_tsc_cycles() < deadline)
		rcu_quiescent_state();
	cr_assert_eq(held(2), 0, "freed on c2's ACK");
	cr_expect_eq(stats().delivered, s0.delivered + 1);
	/* Every mbuf of the tiny pool is back: the transmission's went out
	 * and was freed by the test, no other was kept. */
	deadline = rte_get_tsc_cycles() + TS_WAIT_S * rte_get_tsc_hz();
	while (rte_mempool_avail_count(tiny) != TS_TINY && rte_get_tsc_cycles() < deadline) {
		drain_out(&o, 0);
		rcu_quiescent_state();
	}
	cr_expect_eq(rte_mempool_avail_count(tiny), TS_TINY, "no mbuf lost");
}
