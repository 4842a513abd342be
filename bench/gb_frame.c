/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frames the harness's connectors send, built with the project's encoders
 * (gw_wire_encode_*) inside Ethernet/IPv4/UDP headers laid out as the
 * router's dp_pkt_alloc_udp() lays out its own, and the per-queue TX
 * buffers with back-pressure (nothing is dropped when the port is full).
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "gb_endpoint.h"

struct rte_mbuf *gb_frame_alloc(struct gb_endpoint *ep, const struct gb_ep_conn *c, uint16_t gw_len,
				uint8_t **gw)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(ep->pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ih;
	struct rte_udp_hdr *uh;

	if (unlikely(m == NULL))
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, RTE_ETHER_HDR_LEN + 28 + gw_len);
	if (unlikely(eh == NULL)) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	/* A NIC's PMD stamps the receiving port; net_ring passes the mbuf
	 * through untouched, so the wire's far end does it. */
	m->port = ep->stamp_port;
	rte_ether_addr_copy(&ep->router_mac, &eh->dst_addr);
	rte_ether_addr_copy(&c->mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ih = (struct rte_ipv4_hdr *)(eh + 1);
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->type_of_service = 0;
	ih->total_length = rte_cpu_to_be_16((uint16_t)(28 + gw_len));
	ih->packet_id = 0;
	ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_UDP;
	ih->hdr_checksum = 0;
	ih->src_addr = c->ip_be;
	ih->dst_addr = ep->router_ip_be;
	uh = (struct rte_udp_hdr *)(ih + 1);
	uh->src_port = c->udp_be;
	uh->dst_port = rte_cpu_to_be_16(GB_ROUTER_UDP);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + gw_len));
	uh->dgram_cksum = 0;
	*gw = (uint8_t *)(uh + 1);
	return m;
}

void gb_frame_finish(const struct gb_endpoint *ep, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ih =
	    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

	ih->hdr_checksum = rte_ipv4_cksum(ih);
	if (ep->ctx->o->udp_csum) {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ih + 1);

		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ih, uh);
	}
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
	uint16_t len = type == GW_T_HELLO ? GW_HDR_LEN + GW_HELLO_BODY_LEN : GW_HDR_LEN;

	m = gb_frame_alloc(ep, c, len, &gw);
	if (m == NULL)
		return;
	if (type == GW_T_HELLO) {
		h.epoch = 0;
		/* The lowest seq it will still send (PROTOCOL.md 12.1): the
		 * router takes everything below as settled. */
		h.seq = ep->is_origin ? c->cum + 1 : 1;
		gw_wire_encode_hello(gw, len, &h, c->nonce, ep->ctx->o->rx_window);
		c->t_hello = now;
	} else {
		h.seq = now / (ep->ctx->tsc_hz / 1000000u);
		gw_wire_encode_keepalive(gw, len, &h);
		c->t_ka = now;
	}
	gb_frame_finish(ep, m);
	gb_txq_put(&txq[c->queue], m);
}

static struct rte_mbuf *build_data(struct gb_endpoint *ep, struct gb_ep_conn *c, uint64_t seq,
				   const struct gb_slot *sl, int retx)
{
	const struct gb_opts *o = ep->ctx->o;
	struct gw_hdr_args h = {
	    .flags = retx ? GW_F_RETRANSMIT : 0,
	    .sender = c->id,
	    .epoch = c->epoch,
	    .seq = seq,
	};
	uint16_t dlen, flen;
	const char *dest = gb_workload_addr(&ep->ctx->wl, sl->route, &dlen);
	struct rte_mbuf *m;
	uint8_t *gw, *pl;
	static const uint8_t zero[GW_PAYLOAD_MAX];

	flen = (uint16_t)(GW_HDR_LEN + GW_DATA_FIXED_LEN + dlen + o->payload);
	m = gb_frame_alloc(ep, c, flen, &gw);
	if (unlikely(m == NULL))
		return NULL;
	gw_wire_encode_data(gw, flen, &h, c->id, seq, dest, dlen, zero, (uint16_t)o->payload);
	/* Stamp: first-send TSC, origin, route, seq (host order, opaque to
	 * the router). */
	pl = gw + GW_HDR_LEN + GW_DATA_FIXED_LEN + dlen;
	memcpy(pl, &sl->t_first, 8);
	memcpy(pl + 8, &c->id, 4);
	memcpy(pl + 12, &sl->route, 4);
	memcpy(pl + 16, &seq, 8);
	gb_frame_finish(ep, m);
	return m;
}

/* Put a DATA frame on the wire, through the generator's fault injection. */
void gb_emit_data(struct gb_endpoint *ep, struct gb_txq *txq, struct gb_ep_conn *c, uint64_t seq,
		  struct gb_slot *sl, int retx)
{
	const struct gb_opts *o = ep->ctx->o;
	struct rte_mbuf *m = build_data(ep, c, seq, sl, retx);
	double u;

	if (m == NULL)
		return; /* pool empty: the RTO sends it later */
	if (o->drop > 0 || o->dup > 0) {
		u = gb_rng_unit(&c->rng);
		if (u < o->drop) {
			ep->st.fault_drop++;
			rte_pktmbuf_free(m);
			return;
		}
		if (u < o->drop + o->dup) {
			struct rte_mbuf *m2 = build_data(ep, c, seq, sl, retx);

			if (m2 != NULL) {
				ep->st.fault_dup++;
				gb_txq_put(&txq[c->queue], m2);
			}
		}
	}
	gb_txq_put(&txq[c->queue], m);
}
