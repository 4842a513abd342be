/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Messages of several frames on a running router (one or two workers, two
 * net_ring ports whose rings the test drives as connectors would; the
 * harness of test_session.c): a group is routed as one message.
 *
 * - every chunk of a group goes where its first accepted chunk went, when
 *   the route changes between its chunks, and equal-cost sharing never
 *   splits a group (it spreads whole groups); forwarded chunks keep
 *   GW_F_CHUNK and their extension, with valid checksums and tags;
 * - custody in bytes: a group reserves its total_len at its first chunk;
 *   a group that would pass custody_bytes is refused BUSY at every chunk,
 *   none acknowledged, and taken whole once room is back; one that could
 *   never fit is refused TOO_BIG; single frames hold their payload bytes;
 * - max_message: a group (or a single frame) above it is NACKed TOO_BIG;
 * - a group id reused with other lengths is a counted refusal (EXPIRED);
 *   a chunk of a group the router forgot (group_timeout_ms) is refused
 *   EXPIRED, never routed anew, and the reservation goes back;
 * - failover moves a whole group only while none of it was transmitted and
 *   all of it is there; an incomplete one waits, complete it moves whole;
 *   one with a chunk transmitted stays, whole;
 * - two workers: the same through hand-offs and verdicts (a chunk's
 *   verdict finds its group by its index).
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

struct tconn {
	uint32_t id;
	uint8_t secret[GW_KEY_LEN];
	struct gw_gmac_key c2r, r2c;
	uint32_t epoch;
	uint64_t nonce;
	uint8_t salt[GW_SALT_LEN];
	struct dp_port_addr pa;
	uint16_t udp_be;
	uint64_t ctr;
};

static struct dp_router *rt;
#define TG_MAXQ 2
#define TG_WAIT_S 10
static unsigned nq;
static struct rte_ring *ring_rx[TG_MAXQ], *ring_tx[TG_MAXQ];
static struct rte_ring *ring_rx2[TG_MAXQ], *ring_tx2[TG_MAXQ];
static struct tconn c1, c2, c3;

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

static void tconn_up(struct tconn *c, uint16_t port, uint32_t epoch)
{
	struct dp_conn_session s = {.port = port, .rx_window = 64, .hello_seq = 1};
	struct gw_session_keys k;
	uint32_t got = 0;

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
	gw_gmac_key_init(&c->c2r, k.c2r);
	gw_gmac_key_init(&c->r2c, k.r2c);
	gw_auth_wipe(&k, sizeof(k));
	gw_auth_wipe(&s.keys, sizeof(s.keys));
	c->epoch = epoch;
	c->ctr = 0;
}

static struct dp_worker_stats stats(void);
static void settle(unsigned n);

static void set_tun(void (*edit)(struct dp_tunables *t))
{
	struct dp_tunables t = *rt->tun;

	edit(&t);
	cr_assert_eq(dp_router_set_tunables(rt, &t), 0);
	/* A worker reads its tunables at the top of an iteration: two more
	 * and every frame injected from now on meets these. */
	if (stats().loops != 0)
		settle(2);
}

static void tun_fast(struct dp_tunables *t)
{
	t->keepalive_ms = 20; /* failover after 20 ms down */
}

static void up_n(const char *lcores, unsigned workers)
{
	struct dp_router_params p = {.nb_mbuf = 2047,
				     .mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
				     .udp_port = 4790,
				     .max_routes = 16};
	struct dp_route_target tg = {.conn_id = 2, .cost = 1};
	struct dp_route_target ecmp[2] = {{.conn_id = 2, .cost = 1}, {.conn_id = 3, .cost = 1}};
	struct dp_route_target fo[2] = {{.conn_id = 2, .cost = 1}, {.conn_id = 3, .cost = 2}};
	int err = 0, port;

	test_eal_start(lcores);
	nq = workers;
	cr_assert_eq(gw_auth_init(), 0);
	rt = dp_router_create(&p, &err);
	cr_assert_not_null(rt, "router: %d", err);
	cr_assert_eq(rt->n_workers, workers);
	for (unsigned q = 0; q < nq; q++) {
		char n[4][32];

		snprintf(n[0], sizeof(n[0]), "tg_rx%u", q);
		snprintf(n[1], sizeof(n[1]), "tg_tx%u", q);
		snprintf(n[2], sizeof(n[2]), "tg_rx2_%u", q);
		snprintf(n[3], sizeof(n[3]), "tg_tx2_%u", q);
		ring_rx[q] = rte_ring_create(n[0], 1024, SOCKET_ID_ANY, 0);
		ring_tx[q] = rte_ring_create(n[1], 1024, SOCKET_ID_ANY, 0);
		ring_rx2[q] = rte_ring_create(n[2], 1024, SOCKET_ID_ANY, 0);
		ring_tx2[q] = rte_ring_create(n[3], 1024, SOCKET_ID_ANY, 0);
		cr_assert(ring_rx[q] && ring_tx[q] && ring_rx2[q] && ring_tx2[q]);
	}
	port = rte_eth_from_rings("tg_r", ring_rx, nq, ring_tx, nq, SOCKET_ID_ANY);
	cr_assert_geq(port, 0);
	cr_assert_eq(dp_port_setup(rt, (uint16_t)port, rte_cpu_to_be_32(0x0a000001u)), 0);
	port = rte_eth_from_rings("tg_r2", ring_rx2, nq, ring_tx2, nq, SOCKET_ID_ANY);
	cr_assert_geq(port, 0);
	cr_assert_eq(dp_port_setup(rt, (uint16_t)port, rte_cpu_to_be_32(0x0a000101u)), 0);
	tconn_init(&c1, 1);
	tconn_init(&c2, 2);
	tconn_init(&c3, 3);
	cr_assert_eq(dp_conn_create(rt, 1, "origin"), 0);
	cr_assert_eq(dp_conn_create(rt, 2, "dest"), 0);
	cr_assert_eq(dp_conn_create(rt, 3, "other"), 0);
	cr_assert_eq(dp_route_add(rt->routes, "t", "x.example", &tg, 1), 0);
	cr_assert_eq(dp_route_add(rt->routes, "t", "e.example", ecmp, 2), 0);
	cr_assert_eq(dp_route_add(rt->routes, "t", "f.example", fo, 2), 0);
	tconn_up(&c1, 0, 0x11110001u);
	set_tun(tun_fast);
	if (strstr(criterion_current_test->name, "failover") == NULL) {
		tconn_up(&c2, 0, 0x22220001u);
		tconn_up(&c3, 0, 0x33330001u);
	}
	cr_assert_eq(dp_router_start(rt), 0);
}

static void down(void)
{
	rcu_thread_offline();
	dp_router_stop(rt);
	rcu_thread_online();
	dp_router_free(rt);
	for (unsigned q = 0; q < nq; q++) {
		rte_ring_free(ring_rx[q]);
		rte_ring_free(ring_tx[q]);
		rte_ring_free(ring_rx2[q]);
		rte_ring_free(ring_tx2[q]);
	}
	test_eal_down();
}

static void up1(void)
{
	up_n("0-1", 1);
}

/* Two workers: connector 1 is worker 1's, 2 worker 0's, 3 worker 1's. */
static void up2(void)
{
	up_n("(0-2)@(0,1)", 2);
}

TestSuite(group_route, .init = up1, .fini = down, .timeout = 60);
TestSuite(group_route2, .init = up2, .fini = down, .timeout = 60);

/* ---- the connectors' side ------------------------------------------------- */

static void inject(const struct tconn *c, const void *frame, size_t len)
{
	uint8_t *pl;
	struct rte_mbuf *m = dp_pkt_alloc_udp(test_pool, &c->pa, c->udp_be, &rt->ports[0].mac,
					      rt->ports[0].ip_be, rt->udp_be, (uint16_t)len, &pl);

	cr_assert_not_null(m);
	memcpy(pl, frame, len);
	dp_pkt_finish_udp(m);
	{
		/* A 910-chunk group outruns a worker on a loaded host: wait
		 * for room, as a NIC queue would. */
		uint64_t deadline = rte_get_tsc_cycles() + 5 * rte_get_tsc_hz();

		while (rte_ring_enqueue(ring_rx[0], m) != 0 && rte_get_tsc_cycles() < deadline)
			rte_pause();
		cr_assert_lt(rte_get_tsc_cycles(), deadline, "the worker takes frames in");
	}
}

/* The group the tests send: @total bytes in chunks of @clen. */
static struct gw_chunk_info group_of(uint64_t group, uint32_t total, uint32_t clen)
{
	struct gw_chunk_info ck = {.group = group, .total_len = total, .chunk_len = clen};

	ck.count = (total + clen - 1) / clen;
	return ck;
}

/* Chunk @index of @ck from c1 to @dest (its payload: the byte @index). */
static void send_chunk(const struct gw_chunk_info *g, uint32_t index, const char *dest)
{
	static uint8_t buf[GW_FRAME_MAX], payload[GW_PAYLOAD_MAX];
	struct gw_chunk_info ck = *g;
	uint64_t seq = g->group + index;
	struct gw_hdr_args h = {.sender = c1.id, .epoch = c1.epoch, .seq = seq,
				.ctr = gw_ctr_make(GW_LANE_STREAM, ++c1.ctr)};
	uint32_t pl;
	size_t n;

	ck.index = index;
	pl = gw_chunk_payload_len(&ck, index);
	memset(payload, (int)index, pl);
	n = gw_wire_encode_chunk(buf, sizeof(buf), &h, c1.id, seq, dest, (uint16_t)strlen(dest),
				 payload, (uint16_t)pl, &ck);
	cr_assert_gt(n, 0, "chunk %u encodes", index);
	gw_auth_seal_session(buf, n, &c1.c2r);
	inject(&c1, buf, n);
}

static void send_single(uint64_t seq, const char *dest, uint16_t plen)
{
	static uint8_t buf[GW_FRAME_MAX], payload[GW_PAYLOAD_MAX];
	struct gw_hdr_args h = {.sender = c1.id, .epoch = c1.epoch, .seq = seq,
				.ctr = gw_ctr_make(GW_LANE_STREAM, ++c1.ctr)};
	size_t n;

	memset(payload, 's', plen);
	n = gw_wire_encode_data(buf, sizeof(buf), &h, c1.id, seq, dest, (uint16_t)strlen(dest),
				payload, plen);
	cr_assert_gt(n, 0);
	gw_auth_seal_session(buf, n, &c1.c2r);
	inject(&c1, buf, n);
}

/* @c acknowledges every link seq up to @cum. */
static void dest_ack(struct tconn *c, uint64_t cum)
{
	uint8_t buf[128];
	struct gw_hdr_args h = {.sender = c->id, .epoch = c->epoch, .seq = cum,
				.ctr = gw_ctr_make(GW_LANE_STREAM, ++c->ctr)};
	size_t n = gw_wire_encode_ack(buf, sizeof(buf), &h, cum + 1, 0);

	cr_assert_gt(n, 0);
	gw_auth_seal_session(buf, n, &c->c2r);
	inject(c, buf, n);
}

/* ---- what the router did ------------------------------------------------ */

struct out {
	uint16_t dst_udp_be;
	size_t len;
	uint8_t buf[GW_FRAME_MAX];
	struct gw_frame f;
};

static struct dp_worker_stats stats(void)
{
	struct dp_worker_stats s;

	dp_router_stats(rt, &s);
	return s;
}

static void settle(unsigned n)
{
	uint64_t l0 = stats().loops, deadline = rte_get_tsc_cycles() + 5 * rte_get_tsc_hz();

	while (stats().loops < l0 + n && rte_get_tsc_cycles() < deadline) {
		rcu_quiescent_state();
		rte_pause();
	}
	cr_assert_geq(stats().loops, l0 + n, "the worker runs");
}

/* Every frame the router sent (both ports), checked as a kernel socket and
 * a connector would: checksums, the tag of its receiver's session. */
static unsigned drain_out(struct out *o, unsigned max)
{
	struct rte_ring **rings[2] = {ring_tx, ring_tx2};
	struct rte_mbuf *m;
	unsigned n = 0, q, p;

	for (p = 0; p < 2; p++)
		for (q = 0; q < nq; q++)
			while (rte_ring_dequeue(rings[p][q], (void **)&m) == 0) {
				const struct rte_udp_hdr *uh = rte_pktmbuf_mtod_offset(
					m, const struct rte_udp_hdr *, DP_PKT_HDRS - 8);
				struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(
					m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

				cr_assert_eq(rte_raw_cksum(ih, sizeof(*ih)), 0xffff, "IPv4 checksum");
				cr_assert_eq(rte_ipv4_udptcp_cksum_verify(ih, uh), 0,
					     "UDP checksum (a chunk's flags included)");
				if (n < max) {
					const struct tconn *to = uh->dst_port == c1.udp_be   ? &c1
								 : uh->dst_port == c2.udp_be ? &c2
											     : &c3;

					o[n].dst_udp_be = uh->dst_port;
					o[n].len = rte_be_to_cpu_16(uh->dgram_len) - 8u;
					cr_assert_leq(o[n].len, sizeof(o[n].buf));
					memcpy(o[n].buf, dp_pkt_gw(m), o[n].len);
					cr_assert_eq(gw_wire_parse(o[n].buf, o[n].len, &o[n].f),
						     GW_WIRE_OK);
					cr_assert(gw_auth_check_session(o[n].buf, o[n].len, &to->r2c),
						  "sealed for connector %u", to->id);
					n++;
				}
				rte_pktmbuf_free(m);
			}
	return n;
}

/* What the router sent to c1 (ACKs, NACKs) and forwarded (DATA), gathered
 * until @want frames have arrived or TG_WAIT_S passed. */
static struct out got[512];
static unsigned n_got;

static void forget(void)
{
	n_got = 0;
}

/* Origin seqs c1 had acknowledged (cumulatively or in the bitmap) and
 * NACKed with @reason, among what was collected. */
static int acked(uint64_t seq)
{
	unsigned i;

	for (i = 0; i < n_got; i++) {
		const struct gw_frame *f = &got[i].f;

		if (got[i].dst_udp_be != c1.udp_be || f->type != GW_T_ACK)
			continue;
		if (seq <= f->seq)
			return 1;
		if (seq >= f->u.ack.base && seq - f->u.ack.base < 64 &&
		    (f->u.ack.bitmap >> (seq - f->u.ack.base) & 1))
			return 1;
	}
	return 0;
}

static int nacked(uint64_t seq, unsigned reason)
{
	unsigned i;

	for (i = 0; i < n_got; i++)
		if (got[i].dst_udp_be == c1.udp_be && got[i].f.type == GW_T_NACK &&
		    got[i].f.u.nack.origin_seq == seq && got[i].f.u.nack.reason == reason)
			return 1;
	return 0;
}

/* Chunks of @group (first transmissions and retransmissions alike) that
 * went to @c, as a bitmap of indexes (count <= 64 in these tests). */
static uint64_t chunks_to(const struct tconn *c, uint64_t group)
{
	uint64_t bits = 0;
	unsigned i;

	for (i = 0; i < n_got; i++) {
		const struct gw_frame *f = &got[i].f;

		if (got[i].dst_udp_be != c->udp_be || f->type != GW_T_DATA ||
		    !(f->flags & GW_F_CHUNK) || f->u.data.chunk.group != group)
			continue;
		cr_expect_eq(f->u.data.origin_seq, group + f->u.data.chunk.index,
			     "the extension travelled as it came");
		bits |= UINT64_C(1) << f->u.data.chunk.index;
	}
	return bits;
}

static unsigned singles_to(const struct tconn *c, uint64_t seq)
{
	unsigned i, n = 0;

	for (i = 0; i < n_got; i++)
		if (got[i].dst_udp_be == c->udp_be && got[i].f.type == GW_T_DATA &&
		    !(got[i].f.flags & GW_F_CHUNK) && got[i].f.u.data.origin_seq == seq)
			n++;
	return n;
}

static int answered(uint64_t seq)
{
	unsigned i;

	if (acked(seq))
		return 1;
	for (i = 0; i < n_got; i++)
		if (got[i].dst_udp_be == c1.udp_be && got[i].f.type == GW_T_NACK &&
		    got[i].f.u.nack.origin_seq == seq)
			return 1;
	return 0;
}

/* Collect until every origin seq in [lo, hi] was answered (ACK or NACK),
 * then (@c not NULL) until @c has had the chunks @bits of @group, or, for
 * @bits UINT64_MAX, the single frame of origin seq @group; at most
 * TG_WAIT_S. */
static void collect_for(uint64_t lo, uint64_t hi, const struct tconn *c, uint64_t group,
			uint64_t bits)
{
	uint64_t deadline = rte_get_tsc_cycles() + TG_WAIT_S * rte_get_tsc_hz();

	for (;;) {
		uint64_t s;
		int all = 1;

		n_got += drain_out(got + n_got, (unsigned)RTE_DIM(got) - n_got);
		for (s = lo; s <= hi && all; s++)
			all = answered(s);
		if (all && (c == NULL ||
			    (bits == UINT64_MAX ? singles_to(c, group) != 0
						: (chunks_to(c, group) & bits) == bits)))
			break;
		if (rte_get_tsc_cycles() >= deadline)
			break;
		rcu_quiescent_state();
		rte_pause();
	}
	settle(4);
	n_got += drain_out(got + n_got, (unsigned)RTE_DIM(got) - n_got);
}

static struct dp_conn_snap snap(uint32_t id)
{
	struct dp_conn_snap s;

	cr_assert_eq(dp_conn_snapshot(rt, id, &s), 0);
	return s;
}

static uint32_t groups_o(void)
{
	uint32_t n = 0;

	for (unsigned w = 0; w < rt->n_workers; w++)
		n += __atomic_load_n(&rt->lcores[w]->grp_o.n, __ATOMIC_RELAXED);
	return n;
}

static uint32_t groups_d(void)
{
	uint32_t n = 0;

	for (unsigned w = 0; w < rt->n_workers; w++)
		n += __atomic_load_n(&rt->lcores[w]->grp_d.n, __ATOMIC_RELAXED);
	return n;
}

static void wait_until(int (*cond)(void), const char *what)
{
	uint64_t deadline = rte_get_tsc_cycles() + TG_WAIT_S * rte_get_tsc_hz();

	while (!cond() && rte_get_tsc_cycles() < deadline) {
		rcu_quiescent_state();
		rte_pause();
	}
	cr_assert(cond(), "%s", what);
}

static int c2_empty(void)
{
	struct dp_conn_snap s;

	return dp_conn_snapshot(rt, 2, &s) == 0 && s.held == 0 && s.bytes == 0;
}

static int dest_entries_gone(void)
{
	return groups_d() == 0;
}

/* ---- stickiness ------------------------------------------------------------ */

/* A route change between a group's chunks: the rest follows the first. */
static void route_change_case(void)
{
	struct gw_chunk_info g = group_of(10, 4 * 1000, 1000);
	struct dp_route_target to3 = {.conn_id = 3, .cost = 1};
	unsigned i;

	send_chunk(&g, 0, "t:x.example");
	send_chunk(&g, 1, "t:x.example");
	collect_for(10, 11, &c2, 10, 0x3);
	cr_expect(acked(10) && acked(11), "the first two acknowledged");
	/* The route now names connector 3 only. */
	cr_assert_eq(dp_route_add(rt->routes, "t", "x.example", &to3, 1), 0);
	send_chunk(&g, 2, "t:x.example");
	send_chunk(&g, 3, "t:x.example");
	send_single(14, "t:x.example", 2);
	collect_for(10, 14, &c2, 10, 0xf);
	collect_for(14, 14, &c3, 14, UINT64_MAX);
	for (i = 0; i < 4; i++)
		cr_expect(acked(10 + i), "chunk %u acknowledged", i);
	cr_expect_eq(chunks_to(&c2, 10), 0xf, "every chunk to connector 2, where the first went");
	cr_expect_eq(chunks_to(&c3, 10), 0, "none to the route's new target");
	cr_expect_geq(singles_to(&c3, 14), 1, "a new message follows the new route");
	cr_expect_eq(stats().groups_started, 1);
	cr_expect_eq(stats().groups_done, 1);
	cr_expect_eq(groups_o(), 0, "the origin's entry goes with the last chunk");
	cr_expect_eq(snap(2).bytes, 4000, "custody holds the group's bytes");
	cr_expect_eq(snap(2).held, 4);
	cr_expect_eq(snap(3).bytes, 2, "a single frame holds its payload");
	/* Connector 2 acknowledges: bytes and the destination's entry go. */
	dest_ack(&c2, snap(2).tx_acked + 4);
	wait_until(c2_empty, "c2's custody empty");
	wait_until(dest_entries_gone, "the destination's entry goes with the last ACK");
}

Test(group_route, route_change_mid_group)
{
	route_change_case();
}

Test(group_route2, route_change_mid_group_across_workers)
{
	route_change_case();
	cr_expect_gt(stats().handoffs, 0, "the chunks crossed workers");
}

/* Equal-cost sharing spreads groups, never the chunks of one. */
Test(group_route, ecmp_never_splits_a_group)
{
	enum { GROUPS = 24, COUNT = 3 };
	unsigned k, i, to2 = 0, to3 = 0;

	for (k = 0; k < GROUPS; k++) {
		struct gw_chunk_info g = group_of(100 + k * COUNT, COUNT * 100, 100);

		for (i = 0; i < COUNT; i++)
			send_chunk(&g, i, "t:e.example");
	}
	collect_for(100, 100 + GROUPS * COUNT - 1, NULL, 0, 0);
	/* Every group's chunks, wherever they went (first transmissions wait
	 * for the scan that opens a new session's window). */
	{
		uint64_t deadline = rte_get_tsc_cycles() + TG_WAIT_S * rte_get_tsc_hz();

		for (k = 0; k < GROUPS; k++) {
			uint64_t g = 100 + k * COUNT;

			while ((chunks_to(&c2, g) | chunks_to(&c3, g)) != 0x7 &&
			       rte_get_tsc_cycles() < deadline) {
				n_got += drain_out(got + n_got, (unsigned)RTE_DIM(got) - n_got);
				rcu_quiescent_state();
			}
		}
	}
	for (k = 0; k < GROUPS; k++) {
		uint64_t a = chunks_to(&c2, 100 + k * COUNT), b = chunks_to(&c3, 100 + k * COUNT);

		cr_expect((a == 0x7 && b == 0) || (a == 0 && b == 0x7),
			  "group %u whole at one connector (%lx, %lx)", k, (unsigned long)a,
			  (unsigned long)b);
		to2 += a != 0;
		to3 += b != 0;
	}
	cr_expect(to2 > 0 && to3 > 0, "groups spread over both (%u, %u)", to2, to3);
	if (to2 + to3 != GROUPS) {
		struct dp_worker_stats st = stats();

		for (i = 0; i < DP_DROP_COUNT; i++)
			if (st.drops[i] != 0)
				fprintf(stderr, "  drop %s %lu\n", dp_drop_name(i),
					(unsigned long)st.drops[i]);
		fprintf(stderr, "  n_got %u\n", n_got);
		for (i = 0; i < n_got; i++)
			fprintf(stderr, "  %s to %u seq %lu\n", gw_type_name(got[i].f.type),
				rte_be_to_cpu_16(got[i].dst_udp_be), (unsigned long)got[i].f.seq);
	}
}

/* ---- bounds ------------------------------------------------------------------ */

static void tun_bytes(struct dp_tunables *t)
{
	t->custody_bytes = 5000;
}

/* A group that would pass custody_bytes is refused BUSY at every chunk
 * before any is acknowledged, and taken whole once room is back. */
static void bytes_case(void)
{
	struct gw_chunk_info a = group_of(20, 3000, 1000), b = group_of(30, 3000, 1000);
	struct gw_chunk_info big = group_of(40, 6000, 1000);
	struct dp_worker_stats s0, s1;
	unsigned i;

	set_tun(tun_bytes);
	for (i = 0; i < 3; i++)
		send_chunk(&a, i, "t:x.example");
	collect_for(20, 22, &c2, 20, 0x7);
	cr_expect(acked(20) && acked(21) && acked(22));
	cr_expect_eq(snap(2).bytes, 3000);
	s0 = stats();
	forget();
	for (i = 0; i < 3; i++)
		send_chunk(&b, i, "t:x.example");
	collect_for(30, 32, NULL, 0, 0);
	s1 = stats();
	for (i = 0; i < 3; i++) {
		cr_expect(nacked(30 + i, GW_NACK_BUSY), "chunk %u refused BUSY", i);
		cr_expect_not(acked(30 + i), "chunk %u not acknowledged", i);
	}
	cr_expect_eq(s1.drops[DP_DROP_BUSY_BYTES] - s0.drops[DP_DROP_BUSY_BYTES], 3,
		     "each refusal counted under BUSY_BYTES");
	cr_expect_eq(chunks_to(&c2, 30), 0, "nothing of it forwarded");
	cr_expect_eq(snap(2).bytes, 3000, "nothing of it reserved");
	/* Could never fit: TOO_BIG, not BUSY (a retry would never pass). */
	send_chunk(&big, 0, "t:x.example");
	collect_for(40, 40, NULL, 0, 0);
	cr_expect(nacked(40, GW_NACK_TOO_BIG));
	cr_expect_eq(stats().drops[DP_DROP_GROUP_TOO_BIG] - s1.drops[DP_DROP_GROUP_TOO_BIG], 1);
	/* Room again: the same group, retried whole, is taken. */
	dest_ack(&c2, snap(2).tx_acked + 3);
	wait_until(c2_empty, "group A delivered");
	forget();
	for (i = 0; i < 3; i++)
		send_chunk(&b, i, "t:x.example");
	collect_for(30, 32, &c2, 30, 0x7);
	for (i = 0; i < 3; i++)
		cr_expect(acked(30 + i), "retried chunk %u taken", i);
	cr_expect_eq(chunks_to(&c2, 30), 0x7);
	cr_expect_eq(groups_o(), 0, "no origin entry left by the refusals");
}

Test(group_route, bytes_bound_refuses_whole_groups)
{
	bytes_case();
}

Test(group_route2, bytes_bound_refuses_whole_groups_across_workers)
{
	bytes_case();
}

static void tun_max_message(struct dp_tunables *t)
{
	t->max_message = 2000;
}

static void tun_max_message_1(struct dp_tunables *t)
{
	t->max_message = 1;
}

Test(group_route, max_message_too_big)
{
	struct gw_chunk_info g = group_of(50, 2001, 1000), ok = group_of(60, 2000, 1000);
	struct dp_worker_stats s0 = stats(), s1;

	set_tun(tun_max_message);
	send_chunk(&g, 0, "t:x.example");
	send_chunk(&g, 2, "t:x.example");
	send_chunk(&ok, 0, "t:x.example");
	send_chunk(&ok, 1, "t:x.example");
	collect_for(50, 50, NULL, 0, 0);
	collect_for(52, 52, NULL, 0, 0);
	collect_for(60, 61, NULL, 0, 0);
	s1 = stats();
	cr_expect(nacked(50, GW_NACK_TOO_BIG) && nacked(52, GW_NACK_TOO_BIG),
		  "a byte over max_message: every chunk TOO_BIG");
	cr_expect_eq(s1.drops[DP_DROP_MSG_TOO_BIG] - s0.drops[DP_DROP_MSG_TOO_BIG], 2);
	cr_expect(acked(60) && acked(61), "max_message itself passes");
	cr_expect_eq(chunks_to(&c2, 50), 0);
	/* A single frame is a message too. */
	set_tun(tun_max_message_1);
	forget();
	send_single(62, "t:x.example", 2);
	collect_for(62, 62, NULL, 0, 0);
	cr_expect(nacked(62, GW_NACK_TOO_BIG));
	cr_expect_eq(stats().drops[DP_DROP_MSG_TOO_BIG] - s1.drops[DP_DROP_MSG_TOO_BIG], 1);
}

/* A group id reused with other lengths: counted, refused, nothing else. */
Test(group_route, inconsistent_group_refused)
{
	struct gw_chunk_info g = group_of(70, 3000, 1000), liar = group_of(70, 4000, 1000);
	struct gw_chunk_info liar2 = group_of(70, 3000, 500);
	struct dp_worker_stats s0 = stats();

	send_chunk(&g, 0, "t:x.example");
	collect_for(70, 70, &c2, 70, 0x1);
	cr_expect(acked(70));
	send_chunk(&liar, 1, "t:x.example");   /* count 4, total 4000 */
	collect_for(71, 71, NULL, 0, 0);
	cr_expect(nacked(71, GW_NACK_EXPIRED));
	/* The same seq again (refused, so new again), other lengths. */
	forget();
	send_chunk(&liar2, 1, "t:x.example");  /* count 6, chunk_len 500 */
	collect_for(71, 71, NULL, 0, 0);
	cr_expect(nacked(71, GW_NACK_EXPIRED));
	cr_expect_eq(stats().drops[DP_DROP_GROUP_MISMATCH] - s0.drops[DP_DROP_GROUP_MISMATCH], 2);
	cr_expect_eq(chunks_to(&c2, 70) & ~UINT64_C(1), 0, "no liar's chunk forwarded");
	/* The honest rest of the group still goes through. */
	send_chunk(&g, 1, "t:x.example");
	send_chunk(&g, 2, "t:x.example");
	collect_for(71, 72, &c2, 70, 0x6);
	cr_expect(acked(71) && acked(72));
	cr_expect_eq(chunks_to(&c2, 70) & 0x6, 0x6);
}

static void tun_short_timeout(struct dp_tunables *t)
{
	t->group_timeout_ms = 1000; /* long enough to look at it first, on a slow build */
}

/* A group silent past group_timeout_ms is forgotten on both sides; a late
 * chunk of it is refused EXPIRED, never routed anew. */
Test(group_route, expired_group_refused_and_released)
{
	struct gw_chunk_info g = group_of(80, 3000, 1000);
	struct dp_route_target to3 = {.conn_id = 3, .cost = 1};
	struct dp_worker_stats s0;
	uint64_t deadline;

	set_tun(tun_short_timeout);
	send_chunk(&g, 0, "t:x.example");
	collect_for(80, 80, NULL, 0, 0);
	cr_expect(acked(80));
	cr_expect_eq(snap(2).bytes, 3000, "the whole group reserved");
	deadline = rte_get_tsc_cycles() + 6 * rte_get_tsc_hz();
	while ((groups_o() != 0 || snap(2).bytes != 1000) && rte_get_tsc_cycles() < deadline)
		rcu_quiescent_state();
	cr_expect_eq(groups_o(), 0, "the origin's entry expired");
	cr_expect_eq(snap(2).bytes, 1000, "the reservation released, the held chunk kept");
	cr_expect_geq(stats().groups_expired, 2, "both sides counted");
	/* Even towards another route now: not routed anew. */
	cr_assert_eq(dp_route_add(rt->routes, "t", "x.example", &to3, 1), 0);
	s0 = stats();
	send_chunk(&g, 1, "t:x.example");
	collect_for(81, 81, NULL, 0, 0);
	cr_expect(nacked(81, GW_NACK_EXPIRED));
	cr_expect_eq(stats().drops[DP_DROP_GROUP_EXPIRED] - s0.drops[DP_DROP_GROUP_EXPIRED], 1);
	cr_expect_eq(chunks_to(&c3, 80), 0);
	/* The chunk held is delivered and its entry goes. */
	dest_ack(&c2, snap(2).tx_acked + 1);
	wait_until(c2_empty, "c2's custody empty");
	wait_until(dest_entries_gone, "the destination's entry goes");
}

/* ---- failover ---------------------------------------------------------------- */

static int moved_3(void)
{
	return stats().moved >= 3;
}

static int kept(void)
{
	return stats().failover_group_kept > 0;
}

/* c2 and c3 down: the group waits whole in c2's custody; c3 comes up on
 * the second port; the group moves whole. */
static void failover_whole_case(void)
{
	struct gw_chunk_info g = group_of(90, 3000, 1000);
	unsigned i;

	for (i = 0; i < 3; i++)
		send_chunk(&g, i, "t:f.example");
	collect_for(90, 92, NULL, 0, 0);
	cr_expect(acked(90) && acked(91) && acked(92));
	cr_expect_eq(snap(2).held, 3);
	forget();
	tconn_up(&c3, 1, 0x33330001u);
	wait_until(moved_3, "the group moved");
	collect_for(90, 92, &c3, 90, 0x7);
	cr_expect_eq(chunks_to(&c3, 90), 0x7, "all of it at c3, with its extension");
	cr_expect_eq(stats().moved, 3);
	cr_expect_eq(stats().groups_moved, 1);
	cr_expect_eq(snap(2).held, 0);
	cr_expect_eq(snap(2).bytes, 0, "nothing left reserved at c2");
	cr_expect_eq(snap(3).bytes, 3000, "the bytes moved with it");
}

Test(group_route, failover_moves_whole_group)
{
	failover_whole_case();
}

/* c2 is worker 0's, c3 worker 1's: the group moves through the hand-off
 * ring and is reserved whole at its new destination's owner. */
Test(group_route2, failover_moves_whole_group_across_workers)
{
	failover_whole_case();
	cr_expect_eq(rt->lcores[0]->grp_d.n, 0, "the old destination's entry gone");
}

/* An incomplete group waits (its rest would go to c2); once complete, it
 * moves whole. */
Test(group_route, failover_incomplete_group_waits)
{
	struct gw_chunk_info g = group_of(90, 3000, 1000);
	struct dp_worker_stats s;

	send_chunk(&g, 0, "t:f.example");
	send_chunk(&g, 1, "t:f.example");
	collect_for(90, 91, NULL, 0, 0);
	tconn_up(&c3, 1, 0x33330001u);
	wait_until(kept, "the incomplete group was looked at and kept");
	settle(200);
	s = stats();
	cr_expect_eq(s.moved, 0, "nothing of it moved");
	cr_expect_eq(snap(2).held, 2);
	/* Its last chunk goes where the group is (c2, down), not to c3. */
	forget();
	send_chunk(&g, 2, "t:f.example");
	wait_until(moved_3, "complete: moved");
	collect_for(92, 92, &c3, 90, 0x7);
	cr_expect(acked(92));
	cr_expect_eq(chunks_to(&c3, 90), 0x7);
	cr_expect_eq(snap(2).held, 0);
}

/* A group a chunk of which was transmitted stays, whole. */
Test(group_route, failover_transmitted_group_stays)
{
	struct gw_chunk_info g = group_of(90, 3000, 1000);
	struct dp_worker_stats s;

	tconn_up(&c2, 0, 0x22220001u);
	send_chunk(&g, 0, "t:f.example");
	send_chunk(&g, 1, "t:f.example");
	collect_for(90, 91, &c2, 90, 0x3);
	cr_expect_eq(chunks_to(&c2, 90), 0x3, "two transmitted to c2");
	cr_assert_eq(dp_conn_session_down(rt, 2), 0);
	send_chunk(&g, 2, "t:f.example");
	tconn_up(&c3, 1, 0x33330001u);
	wait_until(kept, "the group was looked at and kept");
	settle(200);
	s = stats();
	cr_expect_eq(s.moved, 0, "nothing of it moved");
	cr_expect_eq(snap(2).held, 3, "all of it stays for c2");
	cr_expect_eq(chunks_to(&c3, 90), 0);
}

static void tun_limit_4(struct dp_tunables *t)
{
	t->custody_limit = 4;
}

/* A group is one message: one larger than custody_limit slots passes while
 * its destination holds nothing else, and waits (BUSY, none of it taken)
 * while it does. */
Test(group_route, group_above_custody_limit_passes_alone)
{
	struct gw_chunk_info a = group_of(200, 6 * 100, 100), b = group_of(210, 6 * 100, 100);
	unsigned i;

	set_tun(tun_limit_4);
	for (i = 0; i < 6; i++)
		send_chunk(&a, i, "t:x.example");
	collect_for(200, 205, &c2, 200, 0x3f);
	for (i = 0; i < 6; i++)
		cr_expect(acked(200 + i), "chunk %u of a 6-chunk group under custody_limit 4", i);
	forget();
	for (i = 0; i < 6; i++)
		send_chunk(&b, i, "t:x.example");
	collect_for(210, 215, NULL, 0, 0);
	for (i = 0; i < 6; i++)
		cr_expect(nacked(210 + i, GW_NACK_BUSY), "the second waits: chunk %u BUSY", i);
	cr_expect_eq(snap(2).held, 6);
	dest_ack(&c2, snap(2).tx_acked + 6);
	wait_until(c2_empty, "the first delivered");
	forget();
	for (i = 0; i < 6; i++)
		send_chunk(&b, i, "t:x.example");
	collect_for(210, 215, &c2, 210, 0x3f);
	for (i = 0; i < 6; i++)
		cr_expect(acked(210 + i), "then taken: chunk %u", i);
}

/* ---- a whole 1 MiB group while custody drains ------------------------------- */

/* The highest link seq of a DATA frame sent to @c among what was collected. */
static uint64_t top_link_seq(const struct tconn *c, uint64_t top)
{
	unsigned i;

	for (i = 0; i < n_got; i++)
		if (got[i].dst_udp_be == c->udp_be && got[i].f.type == GW_T_DATA &&
		    got[i].f.seq > top)
			top = got[i].f.seq;
	return top;
}

/* Send @ck's chunks in bursts, @c2 acknowledging what it had (all but the
 * last @lag link seqs) after each, so that its custody drains, even to
 * empty, while the group is still arriving; @ack_all_at: the chunk index
 * at which everything forwarded so far is acknowledged (the previous
 * group's last chunks among it). Every chunk must be taken: the first one
 * reserved the whole group. */
static uint64_t send_group_draining(const struct gw_chunk_info *ck, uint64_t top, unsigned lag,
				    uint32_t ack_all_at)
{
	uint32_t i, k, burst = 16;

	for (i = 0; i < ck->count; i += burst) {
		uint32_t n = ck->count - i < burst ? ck->count - i : burst;

		forget();
		for (k = 0; k < n; k++)
			send_chunk(ck, i + k, "t:x.example");
		collect_for(ck->group + i, ck->group + i + n - 1, NULL, 0, 0);
		for (k = 0; k < n; k++)
			cr_assert(acked(ck->group + i + k),
				  "chunk %u of %u taken (the group's room was reserved at its first)",
				  i + k, ck->count);
		top = top_link_seq(&c2, top);
		if (i >= ack_all_at && i < ack_all_at + burst)
			dest_ack(&c2, top);
		else if (top > snap(2).tx_acked + lag)
			dest_ack(&c2, top - lag);
	}
	return top;
}

/* A 1 MiB message (910 chunks of 1153 bytes, more than custody_limit's
 * share after another group) while its destination acknowledges chunks
 * as they come: every chunk of it is taken, and of the one after it too,
 * which starts while the first's last chunks are still held. */
Test(group_route, mib_group_taken_whole_while_custody_drains)
{
	struct gw_chunk_info a = group_of(1, 1048576, 1153);
	struct gw_chunk_info b = group_of(1 + 910, 1048576, 1153);
	struct gw_chunk_info c = group_of(1 + 2 * 910, 1048576, 1153);
	uint64_t top = 0;

	cr_assert_eq(a.count, 910);
	top = send_group_draining(&a, top, 0, UINT32_MAX);
	top = send_group_draining(&b, top, 40, 48);
	top = send_group_draining(&c, top, 40, 480);
	dest_ack(&c2, top);
	wait_until(c2_empty, "all delivered");
	cr_expect_eq(stats().groups_expired, 0);
	cr_expect_eq(stats().groups_done, 3);
}

static uint64_t c2_top; /* highest link seq seen sent to c2 */

/* Send @ck's chunks [@lo, @hi) and gather the answers (each answered). */
static void send_chunks(const struct gw_chunk_info *ck, uint32_t lo, uint32_t hi)
{
	uint32_t i, k, burst = 32;

	for (i = lo; i < hi; i += burst) {
		uint32_t n = hi - i < burst ? hi - i : burst;

		for (k = 0; k < n; k++)
			send_chunk(ck, i + k, "t:x.example");
		collect_for(ck->group + i, ck->group + i + n - 1, NULL, 0, 0);
		for (k = 0; k < n; k++)
			cr_assert(answered(ck->group + i + k));
		c2_top = top_link_seq(&c2, c2_top);
		n_got = 0;
	}
}

/* c2 acknowledges whatever it was sent until its custody is empty. */
static void drain_c2(void)
{
	uint64_t deadline = rte_get_tsc_cycles() + TG_WAIT_S * rte_get_tsc_hz();

	while (!c2_empty() && rte_get_tsc_cycles() < deadline) {
		n_got = drain_out(got, (unsigned)RTE_DIM(got));
		c2_top = top_link_seq(&c2, c2_top);
		n_got = 0;
		if (c2_top > snap(2).tx_acked)
			dest_ack(&c2, c2_top);
		settle(2);
	}
	cr_assert(c2_empty(), "c2's custody delivered");
}

/* Issue 11's lost 1 MiB message: group A refused BUSY at its first chunk
 * (the group before it still held), then custody drained and the first
 * chunks of group B, the next message, which its origin may already send
 * (within cum + DP_DEDUP_WINDOW, the sender's window), arrived before A's
 * retry. Had B reserved its room, A would never fit and B's rest, beyond
 * the window, could never be sent: B lost after 50 acknowledged chunks.
 * B must be refused BUSY until A is taken; then both pass whole. */
static void window_order_case(void)
{
	struct gw_chunk_info p = group_of(1, 1048576, 1153);
	struct gw_chunk_info a = group_of(1 + 910, 1048576, 1153);
	struct gw_chunk_info b = group_of(1 + 2 * 910, 1048576, 1153);
	uint32_t i;

	c2_top = 0;
	send_chunks(&p, 0, 910);
	cr_assert_eq(snap(2).held, 910, "the first group held whole");
	forget();
	send_chunk(&a, 0, "t:x.example");
	collect_for(a.group, a.group, NULL, 0, 0);
	cr_assert(nacked(a.group, GW_NACK_BUSY), "A waits while the first is held");
	drain_c2();
	forget();
	/* B's first 50 chunks: what the window lets its origin send. */
	for (i = 0; i < 50; i++)
		send_chunk(&b, i, "t:x.example");
	collect_for(b.group, b.group + 49, NULL, 0, 0);
	for (i = 0; i < 50; i++) {
		cr_expect(nacked(b.group + i, GW_NACK_BUSY),
			  "B's chunk %u refused BUSY while A, before it, is not taken", i);
		cr_expect_not(acked(b.group + i), "B's chunk %u not acknowledged", i);
	}
	cr_expect_eq(snap(2).held, 0, "nothing of B held");
	cr_expect_eq(groups_o(), 0, "no entry left by B's refusals");
	/* A retried: taken whole (nothing reserved against it). */
	send_chunks(&a, 0, 910);
	cr_expect_eq(snap(2).held, 910, "A taken whole");
	drain_c2();
	send_chunks(&b, 0, 910);
	cr_expect_eq(snap(2).held, 910, "then B taken whole");
	cr_expect_eq(stats().groups_done, 3);
	cr_expect_eq(stats().groups_expired, 0);
}

Test(group_route, later_group_waits_for_earlier_within_window)
{
	window_order_case();
}

Test(group_route2, later_group_waits_for_earlier_within_window_across_workers)
{
	window_order_case();
}
