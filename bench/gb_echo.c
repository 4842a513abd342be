/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo stand-in: a router that only echoes, to measure the harness
 * alone (gwart-bench echo). It runs on a worker lcore, in place of the
 * router's workers, on the far ends of the same net_ring ports, and does
 * the least a router must for the harness's code paths to run as they do
 * against gwart:
 *
 *  - HELLO (its handshake tag checked) -> WELCOME sealed with hs.r2c, a
 *    fresh epoch and salt, the session keys derived as PROTOCOL.md 17
 *    says; a repeated HELLO gets the same session again;
 *  - DATA from an origin, the next in its sequence -> rewritten in place
 *    (Ethernet and IPv4 addresses, IPv4 checksum, sender 0, the
 *    destination's epoch, its next egress link seq, a lane-1 ctr) and
 *    sealed with the destination's s.r2c (in bursts, one device call per
 *    destination), then sent to the sink: the same mbuf, as the router's
 *    custody sends the origin's own mbuf;
 *  - one ACK per origin per receive burst (cumulative, sealed with its
 *    s.r2c), as the router acknowledges custody;
 *  - everything else (the sinks' ACKs, KEEPALIVEs) freed in bulk.
 *
 * What it does not do, so that it stays cheaper than the harness: no
 * route lookup (the destination comes from the route index the generator
 * stamps in the payload, as the router's route table would map it), no
 * custody (an origin's DATA is acknowledged when forwarded; one that does
 * not follow its predecessor, or finds the ring full, is dropped
 * unacknowledged and comes again after the origin's RTO), no checks of the
 * harness's tags. Its busy and idle cycles are counted like a worker's, so
 * a run says whether the echo or the harness was the bottleneck.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "gb_echo.h"
#include "gb_tag.h"
#include "pkt.h"

#define EB 32
#define GB_ECHO_HELD 1024 /* per destination, sent and not acknowledged: the router's
			   * default custody limit */

struct echo_conn {
	uint32_t epoch; /* 0: no session */
	uint16_t ep;	/* endpoint (port) index */
	uint8_t ack_due;
	uint64_t tx_ctr;   /* lane 1 */
	uint64_t link_seq; /* destination: last egress seq sent */
	uint64_t acked;	   /* destination: its cumulative ACK */
	uint64_t cum;	   /* origin: last origin seq forwarded in order */
	struct gb_tkey r2c;
	uint64_t nonce;
	uint8_t salt[GW_SALT_LEN];
	struct gw_hs_keys hs;
	uint8_t secret[GW_KEY_LEN];
	uint32_t ip_be;
	struct rte_ether_addr mac;
};

struct gb_echo {
	struct gb_ctx *ctx;
	unsigned n_ep;
	uint16_t port[GB_MAX_ENDPOINTS];
	struct dp_port_addr addr[GB_MAX_ENDPOINTS];
	struct rte_mempool *pool;
	unsigned n_conns; /* ids 1 .. n_conns */
	struct echo_conn *conn;
	unsigned lcore;
	volatile int stop;
	uint32_t next_epoch;
	struct gb_echo_stats st; /* written by the echo lcore only */
	uint32_t *due;		 /* origins with an ACK due */
	unsigned n_due;
	struct gb_tag_batch tb;
	struct rte_mbuf *tx[GB_MAX_ENDPOINTS][GB_BURST * 4];
	unsigned n_tx[GB_MAX_ENDPOINTS];
};

static void tx_put(struct gb_echo *e, unsigned ep, struct rte_mbuf *m)
{
	if (e->n_tx[ep] == RTE_DIM(e->tx[ep])) {
		e->st.tx_full++;
		rte_pktmbuf_free(m);
		return;
	}
	e->tx[ep][e->n_tx[ep]++] = m;
}

static void tx_flush(struct gb_echo *e)
{
	unsigned p;

	for (p = 0; p < e->n_ep; p++) {
		uint16_t n = e->n_tx[p], k;

		if (n == 0)
			continue;
		k = rte_eth_tx_burst(e->port[p], 0, e->tx[p], n);
		if (k < n) {
			e->st.tx_full += n - k;
			rte_pktmbuf_free_bulk(&e->tx[p][k], n - k);
		}
		e->n_tx[p] = 0;
	}
}

static struct rte_mbuf *alloc_to(struct gb_echo *e, const struct echo_conn *c, uint16_t len,
				 uint8_t **gw)
{
	return dp_pkt_alloc_udp(e->pool, &e->addr[c->ep], rte_cpu_to_be_16(GB_ROUTER_UDP), &c->mac,
				c->ip_be, rte_cpu_to_be_16(GB_CONN_UDP), len, gw);
}

static void finish_ip(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
}

static void on_hello(struct gb_echo *e, struct echo_conn *c, uint32_t id, const uint8_t *gw,
		     const struct gw_frame *f)
{
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .seq = 0, .ctr = f->ctr};
	struct rte_mbuf *m;
	uint8_t *pl;

	if (!gw_auth_check_hs(gw, f->length, c->hs.c2r)) {
		e->st.refused++;
		return;
	}
	if (c->epoch == 0 || f->u.hello.nonce != c->nonce) {
		struct gw_session_keys k;

		c->epoch = ++e->next_epoch;
		c->nonce = f->u.hello.nonce;
		gw_random_bytes(c->salt, sizeof(c->salt));
		gw_auth_derive_session(c->secret, id, c->epoch, c->nonce, c->salt, &k);
		if (gb_tkey_set(&e->ctx->tag, &c->r2c, k.r2c) != 0)
			c->epoch = 0;
		gw_auth_wipe(&k, sizeof(k));
		if (c->epoch == 0)
			return;
		c->tx_ctr = 0;
		c->link_seq = 0;
		c->cum = f->seq > 0 ? f->seq - 1 : 0;
	}
	h.epoch = c->epoch;
	h.seq = c->link_seq;
	m = alloc_to(e, c, GW_WELCOME_LEN, &pl);
	if (m == NULL)
		return;
	gw_wire_encode_welcome(pl, GW_WELCOME_LEN, &h, c->nonce, c->cum, DP_DEDUP_WINDOW, 1000, 5,
			       GW_PAYLOAD_MAX, c->salt);
	gw_auth_seal_hs(pl, GW_WELCOME_LEN, c->hs.r2c);
	finish_ip(m);
	tx_put(e, c->ep, m);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	v = rte_cpu_to_be_64(v);
	memcpy(p, &v, 8);
}

/* An origin's DATA (fixed offsets: the harness sends well-formed frames
 * of one length) -> its destination's DATA, in place. 1: forwarded. */
static int forward(struct gb_echo *e, struct rte_mbuf *m, uint8_t *gw, uint32_t sender,
		   uint16_t len)
{
	const struct gb_ctx *ctx = e->ctx;
	struct echo_conn *o = &e->conn[sender - 1], *d;
	uint64_t seq, be;
	uint32_t route, epoch_be;
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ih = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);

	memcpy(&be, gw + 24, 8);
	seq = rte_be_to_cpu_64(be);
	if (o->epoch == 0 || seq != o->cum + 1) {
		e->st.out_of_order += seq > o->cum + 1;
		if (seq <= o->cum && o->epoch != 0 && !o->ack_due) {
			o->ack_due = 1; /* a retransmission: say again where it stands */
			e->due[e->n_due++] = sender - 1;
		}
		return 0;
	}
	memcpy(&route, gw + GW_HDR_LEN + GW_DATA_FIXED_LEN + ctx->dest_len + 12, 4);
	if (route >= ctx->wl.n_routes)
		return 0;
	d = &e->conn[gb_workload_dest(&ctx->wl, route) - 1];
	/* What a destination has not acknowledged is bounded as the router's
	 * custody bounds it: the origin's ACK frees its window at once, so
	 * without this bound the sink's ring would overflow. */
	if (d->epoch == 0 || d->link_seq - d->acked >= GB_ECHO_HELD ||
	    e->n_tx[d->ep] >= RTE_DIM(e->tx[d->ep]) - e->tb.n - 1) {
		e->st.held_full++;
		return 0;
	}
	o->cum = seq;
	if (!o->ack_due) {
		o->ack_due = 1;
		e->due[e->n_due++] = sender - 1;
	}
	rte_ether_addr_copy(&d->mac, &eh->dst_addr);
	rte_ether_addr_copy(&e->addr[d->ep].mac, &eh->src_addr);
	ih->src_addr = e->addr[d->ep].ip_be;
	ih->dst_addr = d->ip_be;
	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	uh->src_port = rte_cpu_to_be_16(GB_ROUTER_UDP);
	uh->dst_port = rte_cpu_to_be_16(GB_CONN_UDP);
	uh->dgram_cksum = 0;
	memset(gw + 8, 0, 4); /* sender: the router */
	epoch_be = rte_cpu_to_be_32(d->epoch);
	memcpy(gw + 12, &epoch_be, 4);
	put_be64(gw + 16, ++d->link_seq);
	put_be64(gw + len - GW_TRAILER_LEN, gw_ctr_make(GW_LANE_STREAM, ++d->tx_ctr));
	m->hash.usr = d->ep;
	gb_tag_add(&e->tb, gw, len, &d->r2c, m, 0);
	if (gb_tag_full(&e->tb)) {
		unsigned i;

		gb_tag_run(&e->ctx->tag, &e->tb, true);
		for (i = 0; i < e->tb.n; i++)
			tx_put(e, ((struct rte_mbuf *)e->tb.user[i])->hash.usr, e->tb.user[i]);
		e->tb.n = 0;
	}
	e->st.forwarded++;
	return 1;
}

static void send_acks(struct gb_echo *e)
{
	unsigned i;

	for (i = 0; i < e->n_due; i++) {
		struct echo_conn *o = &e->conn[e->due[i]];
		struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = o->epoch,
					.seq = o->cum};
		struct rte_mbuf *m;
		uint8_t *gw;

		o->ack_due = 0;
		if (gb_tag_full(&e->tb))
			break;
		m = alloc_to(e, o, GW_ACK_LEN, &gw);
		if (m == NULL)
			continue;
		h.ctr = gw_ctr_make(GW_LANE_STREAM, ++o->tx_ctr);
		gw_wire_encode_ack(gw, GW_ACK_LEN, &h, o->cum + 1, 0);
		finish_ip(m);
		m->hash.usr = o->ep;
		gb_tag_add(&e->tb, gw, GW_ACK_LEN, &o->r2c, m, 0);
		e->st.acks++;
	}
	for (; i < e->n_due; i++)
		e->conn[e->due[i]].ack_due = 0; /* the next burst's ACK covers them */
	e->n_due = 0;
	gb_tag_run(&e->ctx->tag, &e->tb, true);
	for (i = 0; i < e->tb.n; i++)
		tx_put(e, ((struct rte_mbuf *)e->tb.user[i])->hash.usr, e->tb.user[i]);
	e->tb.n = 0;
}

static int echo_main(void *arg)
{
	struct gb_echo *e = arg;
	struct rte_mbuf *pkts[EB], *drop[EB];

	while (!e->stop) {
		uint64_t t0 = rte_rdtsc();
		unsigned p, work = 0;

		e->st.loops++;
		for (p = 0; p < e->n_ep; p++) {
			uint16_t n = rte_eth_rx_burst(e->port[p], 0, pkts, EB), i, nd = 0;

			if (n == 0)
				continue;
			work += n;
			for (i = 0; i < n; i++)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
			for (i = 0; i < n; i++) {
				struct rte_mbuf *m = pkts[i];
				uint8_t *gw = rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS);
				uint16_t len = (uint16_t)(rte_pktmbuf_data_len(m) - DP_PKT_HDRS);
				uint32_t sender_be, sender;

				memcpy(&sender_be, gw + 8, 4);
				sender = rte_be_to_cpu_32(sender_be);
				if (len < GW_HDR_LEN + GW_TRAILER_LEN || sender == 0 ||
				    sender > e->n_conns) {
					drop[nd++] = m;
					continue;
				}
				if (gw[3] == GW_T_DATA) {
					if (!forward(e, m, gw, sender, len))
						drop[nd++] = m;
					continue;
				}
				if (gw[3] == GW_T_ACK && len == GW_ACK_LEN) {
					/* A sink's cumulative point (its tag is the
					 * harness's to get right, not checked here). */
					struct echo_conn *d = &e->conn[sender - 1];
					uint64_t be;

					memcpy(&be, gw + 16, 8);
					be = rte_be_to_cpu_64(be);
					if (be > d->acked && be <= d->link_seq)
						d->acked = be;
				} else if (gw[3] == GW_T_HELLO) {
					struct gw_frame f;

					if (gw_wire_parse(gw, len, &f) == GW_WIRE_OK)
						on_hello(e, &e->conn[sender - 1], sender, gw, &f);
				}
				drop[nd++] = m; /* HELLO, the sinks' ACKs, KEEPALIVE, BYE */
			}
			if (nd != 0)
				rte_pktmbuf_free_bulk(drop, nd);
		}
		if (e->n_due != 0 || e->tb.n != 0)
			send_acks(e);
		tx_flush(e);
		if (work != 0) {
			e->st.busy_loops++;
			e->st.busy_cycles += rte_rdtsc() - t0;
		}
	}
	return 0;
}

struct gb_echo *gb_echo_create(struct gb_ctx *ctx, const uint16_t *ports, unsigned n_ep,
			       const struct dp_port_addr *addr, struct rte_mempool *pool)
{
	const struct gb_opts *o = ctx->o;
	struct gb_echo *e = calloc(1, sizeof(*e));
	unsigned i, p;

	if (e == NULL)
		return NULL;
	e->ctx = ctx;
	e->n_ep = n_ep;
	e->pool = pool;
	e->n_conns = o->origins + o->dests;
	e->conn = calloc(e->n_conns, sizeof(*e->conn));
	e->due = calloc(e->n_conns, sizeof(*e->due));
	if (e->conn == NULL || e->due == NULL) {
		gb_echo_free(e);
		return NULL;
	}
	for (p = 0; p < n_ep; p++) {
		e->port[p] = ports[p];
		e->addr[p] = addr[p];
	}
	for (i = 0; i < e->n_conns; i++) {
		struct echo_conn *c = &e->conn[i];
		uint32_t id = i + 1;

		gb_conn_key(ctx, id, c->secret);
		gw_auth_derive_hs(c->secret, id, &c->hs);
		c->ip_be = rte_cpu_to_be_32((198u << 24) | (19u << 16) | (id & 0xffff));
		c->mac.addr_bytes[0] = 0x02;
		c->mac.addr_bytes[1] = 0x67;
		c->mac.addr_bytes[2] = 0x62;
		c->mac.addr_bytes[4] = (uint8_t)(id >> 8);
		c->mac.addr_bytes[5] = (uint8_t)id;
		for (p = 0; p < ctx->n_ep; p++)
			if (id >= ctx->ep[p].first_id && id < ctx->ep[p].first_id + ctx->ep[p].n_conns)
				c->ep = (uint16_t)p;
	}
	return e;
}

int gb_echo_start(struct gb_echo *e, unsigned lcore)
{
	e->lcore = lcore;
	e->stop = 0;
	return rte_eal_remote_launch(echo_main, e, lcore);
}

void gb_echo_stop(struct gb_echo *e)
{
	e->stop = 1;
	rte_eal_wait_lcore(e->lcore);
}

void gb_echo_stats(const struct gb_echo *e, struct gb_echo_stats *st)
{
	*st = e->st; /* racy reads of counters that only grow: fine for figures */
}

void gb_echo_free(struct gb_echo *e)
{
	unsigned i;

	if (e == NULL)
		return;
	for (i = 0; e->conn != NULL && i < e->n_conns; i++) {
		gb_tkey_clear(&e->ctx->tag, &e->conn[i].r2c);
		gw_auth_wipe(e->conn[i].secret, sizeof(e->conn[i].secret));
		gw_auth_wipe(&e->conn[i].hs, sizeof(e->conn[i].hs));
	}
	free(e->conn);
	free(e->due);
	free(e);
}
