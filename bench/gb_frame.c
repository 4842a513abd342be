/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames the harness's connectors send, built with the project's encoders
 * (gw_wire_encode_*) inside Ethernet/IPv4/UDP headers written by the
 * router's own builder (dp_pkt_alloc_udp()), and the per-queue TX buffers
 * with back-pressure (nothing is dropped when the port is full). DATA and
 * the sinks' ACKs are built in gb_replay.c.
 */
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_ip.h>

#include "gb_endpoint.h"
#include "pkt.h"

struct rte_mbuf *gb_frame_alloc(struct gb_endpoint *ep, const struct gb_ep_conn *c, uint16_t gw_len,
				uint8_t **gw)
{
	/* The connector is the source "port": its own MAC and address. */
	const struct dp_port_addr src = {.ip_be = c->ip_be, .mac = c->mac};
	struct rte_mbuf *m;

	m = dp_pkt_alloc_udp(ep->pool, &src, c->udp_be, &ep->router_mac, ep->router_ip_be,
			     rte_cpu_to_be_16(GB_ROUTER_UDP), gw_len, gw);
	if (unlikely(m == NULL))
		return NULL;
	/* A NIC's PMD stamps the receiving port; net_ring passes the mbuf
	 * through untouched, so the wire's far end does it. */
	m->port = ep->stamp_port;
	return m;
}

void gb_frame_finish(const struct gb_endpoint *ep, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih;

	if (ep->ctx->o->udp_csum) {
		dp_pkt_finish_udp(m);
		return;
	}
	/* UDP checksum 0: "none" in IPv4, as the option asks. */
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	ih->hdr_checksum = rte_ipv4_cksum(ih);
}

void gb_tx_flush(struct gb_endpoint *ep, struct gb_txq *txq)
{
	unsigned q;

	for (q = 0; q < ep->n_queues; q++) {
		struct gb_txq *tq = &txq[q];
		uint16_t sent;

		if (tq->n == 0)
			continue;
		sent = rte_eth_tx_burst(ep->port_id, (uint16_t)q, tq->m, (uint16_t)tq->n);
		if (sent < tq->n) {
			/* Back-pressure: keep the rest, in order, for the next loop. */
			ep->st.tx_full++;
			memmove(tq->m, tq->m + sent, (tq->n - sent) * sizeof(tq->m[0]));
		}
		tq->n -= sent;
	}
}

void gb_send_ctl(struct gb_endpoint *ep, struct gb_txq *txq, struct gb_ep_conn *c, int type,
		 uint64_t now)
{
	struct gw_hdr_args h = {.sender = c->id, .epoch = c->epoch};
	struct rte_mbuf *m;
	uint8_t *gw;
	uint16_t len = type == GW_T_HELLO ? GW_HELLO_LEN : GW_KEEPALIVE_LEN;

	m = gb_frame_alloc(ep, c, len, &gw);
	if (m == NULL)
		return;
	if (type == GW_T_HELLO) {
		struct timespec ts;
		uint64_t t;

		h.epoch = 0;
		/* The lowest seq it will still send (PROTOCOL.md 12.1): the
		 * router takes everything below as settled. */
		h.seq = ep->is_origin ? c->cum + 1 : 1;
		/* v2: the ctr is the wall clock in ns, strictly increasing. */
		clock_gettime(CLOCK_REALTIME, &ts);
		t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		c->hello_ctr = t > c->hello_ctr ? t : c->hello_ctr + 1;
		h.ctr = c->hello_ctr;
		gw_wire_encode_hello(gw, len, &h, c->nonce, ep->ctx->o->rx_window);
		gw_auth_seal_hs(gw, len, c->hs.c2r);
		c->t_hello = now;
	} else {
		h.seq = now / (ep->ctx->tsc_hz / 1000000u);
		h.ctr = gw_ctr_make(GW_LANE_SESSION, ++c->tx_ctr[GW_LANE_SESSION]);
		gw_wire_encode_keepalive(gw, len, &h);
		gb_tag_seal_one(&ep->ctx->tag, gw, len, &c->k_c2r);
		c->t_ka = now;
	}
	gb_frame_finish(ep, m);
	gb_txq_put(&txq[c->queue], m);
}
