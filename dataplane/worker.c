/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: one per worker lcore, pinned, busy-polling.
 *
 *   RX burst -> L2-L4 classify (ARP/ICMP answered) -> gwart parse
 *     DATA from origin O:  owner(O)?  dedup -> route -> custody at owner(D)
 *                                     -> ACK to O (batched per burst)
 *     ACK from destination D: owner(D)? free acknowledged custody slots
 *     KEEPALIVE/BYE of an up session (epoch, address): control's session ring
 *     HELLO and every other KEEPALIVE/BYE: control's handshake ring
 *   frames for a connector this worker does not own are steered to the
 *   owner through an SPSC ring; a message whose destination another worker
 *   owns is handed over through an SPSC ring and the owner's verdict comes
 *   back through a second one, so each piece of state has one writer.
 *
 * Reads of connectors, routes and tunables happen between two quiescent
 * states of this thread (liburcu QSBR): anything fetched in one iteration is
 * dropped before the next rcu_quiescent_state().
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "auth_dev.h"
#include "conn_state.h"
#include "egress.h"
#include "handoff.h"
#include "ingress.h"
#include "io.h"
#include "pkt.h"
#include "reply.h"
#include "route.h"
#include "route_match.h"
#include "worker.h"

_Static_assert(DP_DROP_WIRE_BAD_FIELD - DP_DROP_WIRE_TRUNCATED ==
		       GW_WIRE_BAD_FIELD - GW_WIRE_TRUNCATED,
	       "wire statuses and drop reasons must stay in the same order");

#define PREFETCH_OFFSET 3

/* ---- frames for the control thread ---------------------------------------- */

/* Could this frame be a KEEPALIVE or BYE of @f.sender's established session?
 * Cheap checks only (no crypto: control verifies the tag, the lane and the
 * window): session up, the session's epoch, the session's address. */
static inline bool ctl_is_session(const struct dp_router *rt, const struct gw_frame *f,
				  const struct dp_pkt_src *src)
{
	const struct dp_conn *c;

	if (f->type == GW_T_HELLO || f->epoch == 0)
		return false;
	c = dp_conn_get(rt, f->sender);
	return c != NULL && c->up && c->epoch == f->epoch && c->ip_be == src->ip_be &&
	       c->udp_be == src->udp_be;
}

/* Hand a HELLO / KEEPALIVE / BYE to the control thread. Two rings, so that
 * handshake traffic, which anyone can send at any rate, never takes the room
 * of established sessions' keepalives (issue 8): a frame that looks like its
 * sender's live session goes to the session ring, everything else (HELLO,
 * epoch 0, unknown ids, a wrong epoch or address) to the handshake ring,
 * which control serves in bounded batches after the session ring. A spoofer
 * that knows a session's epoch and address can still fill the session ring,
 * but only with frames that control then refuses at one GMAC each. */
static void to_control(struct dp_lcore *lc, struct rte_mbuf *m, const struct gw_frame *f,
		       const struct dp_pkt_src *src)
{
	struct dp_router *rt = lc->rt;

	if (ctl_is_session(rt, f, src)) {
		if (unlikely(rte_ring_mp_enqueue(rt->ctl_ring, m) != 0)) {
			dp_drop(lc, m, DP_DROP_CTL_FULL);
			return;
		}
		DP_COUNT_INC(lc->stats.ctl_frames);
		return;
	}
	if (rte_ring_mp_enqueue(rt->ctl_hs_ring, m) != 0) {
		dp_drop(lc, m, DP_DROP_CTL_HS_FULL);
		return;
	}
	DP_COUNT_INC(lc->stats.ctl_hs_frames);
}

/* ---- frame dispatch ------------------------------------------------------- */

static void rx_frame(struct dp_lcore *lc, unsigned p, struct rte_mbuf *m, const uint8_t *gw,
		     uint16_t len, const struct dp_pkt_src *src)
{
	struct gw_frame f;
	enum gw_wire_status ws = gw_wire_parse(gw, len, &f);
	const struct dp_conn *c;

	if (unlikely(ws != GW_WIRE_OK)) {
		dp_drop(lc, m, (enum dp_drop_reason)(DP_DROP_WIRE_TRUNCATED + ws - GW_WIRE_TRUNCATED));
		return;
	}
	DP_COUNT_INC(lc->stats.rx_frames);
	switch (f.type) {
	case GW_T_DATA:
	case GW_T_ACK:
		c = dp_conn_get(lc->rt, f.sender);
		if (unlikely(c == NULL)) {
			dp_drop(lc, m, DP_DROP_UNKNOWN_CONN);
			return;
		}
		if (c->owner != lc->idx) {
			struct dp_ho_item it = {.pkt = m, .conn = f.sender, .op = DP_HO_STEER};

			if (dp_handoff_send(lc->rt->ho_msg, lc->idx, c->owner, &it, 1) != 1) {
				dp_drop(lc, m, DP_DROP_STEER_FULL);
				return;
			}
			DP_COUNT_INC(lc->stats.steered);
			return;
		}
		dp_ingress_session(lc, m, gw, &f, c, src);
		return;
	case GW_T_HELLO:
	case GW_T_KEEPALIVE:
	case GW_T_BYE:
		to_control(lc, m, &f, src);
		return;
	default:
		dp_drop(lc, m, DP_DROP_WRONG_DIRECTION);
		return;
	}
}

static void rx_packet(struct dp_lcore *lc, unsigned p, struct rte_mbuf *m)
{
	const uint8_t *gw;
	uint16_t len;
	struct dp_pkt_src src;
	enum dp_drop_reason why = DP_DROP_ETH_SHORT;

	switch (dp_pkt_classify(&lc->rt->ports[p], lc->rt->udp_be, m, &gw, &len, &src, &why)) {
	case DP_PKT_GWART:
		rx_frame(lc, p, m, gw, len, &src);
		return;
	case DP_PKT_REPLY:
		if (rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type ==
		    rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			DP_COUNT_INC(lc->stats.arp_replies);
		else
			DP_COUNT_INC(lc->stats.icmp_replies);
		dp_tx(lc, p, m);
		return;
	default:
		dp_drop(lc, m, why);
		return;
	}
}

/* ---- hand-offs from other workers ----------------------------------------- */

static void ho_custody(struct dp_lcore *lc, unsigned from, const struct dp_ho_item *it)
{
	struct rte_mbuf *m = it->pkt;
	const struct dp_conn *dc = dp_conn_get(lc->rt, it->conn);
	const struct gw_wire_data *d =
		(const struct gw_wire_data *)(rte_pktmbuf_mtod(m, const uint8_t *) + GW_HDR_LEN);
	struct dp_ho_item v = {.conn = rte_be_to_cpu_32(d->origin), .op = DP_HO_VERDICT};

	v.seq = rte_be_to_cpu_64(d->origin_seq);
	if (it->arg == DP_HO_ARG_MOVE) {
		/* A failover move: acknowledged long ago, no verdict awaited.
		 * Accept up to the ring's size, beyond the operator's limit. */
		if (dc != NULL && dp_custody_put(dc->st->cust, m, dc->st->cust->mask + 1) != 0) {
			dp_egress_activate(lc, dc->st);
			return;
		}
		/* Nowhere to keep it: counted, and the origin is told. */
		dp_drop(lc, m, DP_DROP_MOVE_FAILED);
		/* Only the origin's owner may send on its lane 1 (one writer of
		 * its counter): elsewhere the drop's counter is all there is. */
		dc = dp_conn_get(lc->rt, v.conn);
		if (dc != NULL && dc->owner == lc->idx)
			dp_reply_nack(lc, dc, v.seq, GW_NACK_EXPIRED, 0);
		return;
	}
	if (dc == NULL) {
		v.arg = GW_NACK_NO_ROUTE;
		rte_pktmbuf_free(m);
	} else if (dp_egress_take(lc, dc, m) != 0) {
		v.arg = GW_NACK_BUSY;
		rte_pktmbuf_free(m);
	} else {
		v.arg = 0;
	}
	/* Cannot fail: the sender keeps at most ring-capacity custody items
	 * outstanding towards us, so their verdicts always fit. */
	(void)dp_handoff_send(lc->rt->ho_vrd, lc->idx, from, &v, 1);
}

static void ho_verdict(struct dp_lcore *lc, const struct dp_ho_item *it)
{
	const struct dp_conn *c = dp_conn_get(lc->rt, it->conn);
	struct dp_conn_state *st;

	if (c == NULL)
		return;
	st = c->st;
	if (it->arg == 0) {
		dp_dedup_set_done(&st->win, it->seq);
		DP_COUNT_INC(st->stats.routed);
		DP_COUNT_INC(lc->stats.routed);
		dp_reply_ack_add(lc, st, it->seq);
		return;
	}
	dp_dedup_clear_pending(&st->win, it->seq);
	dp_count_drop(lc, it->arg == GW_NACK_BUSY ? DP_DROP_BUSY : DP_DROP_NO_ROUTE);
	dp_reply_nack_conn(lc, c, it->seq, it->arg, it->arg == GW_NACK_BUSY ? lc->tun->busy_retry_us : 0);
}

static void drain_handoffs(struct dp_lcore *lc)
{
	struct dp_router *rt = lc->rt;
	struct dp_ho_item items[DP_BURST_MAX];
	unsigned w, i, n;

	for (w = 0; w < rt->n_workers; w++) {
		if (w == lc->idx)
			continue;
		n = dp_handoff_recv(rt->ho_vrd, lc->idx, w, items, DP_BURST_MAX);
		lc->outstanding[w] -= n;
		for (i = 0; i < n; i++)
			ho_verdict(lc, &items[i]);
		n = dp_handoff_recv(rt->ho_msg, lc->idx, w, items, DP_BURST_MAX);
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = items[i].pkt;

			if (items[i].op == DP_HO_CUSTODY) {
				ho_custody(lc, w, &items[i]);
			} else {
				/* Steered: L2-L4 were validated by the sender. */
				const struct rte_udp_hdr *uh = rte_pktmbuf_mtod_offset(
					m, const struct rte_udp_hdr *, DP_PKT_HDRS - 8);
				const struct rte_ipv4_hdr *ih = rte_pktmbuf_mtod_offset(
					m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
				struct dp_pkt_src src = {.ip_be = ih->src_addr,
							 .udp_be = uh->src_port};

				rte_ether_addr_copy(
					&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr,
					&src.mac);
				rx_frame(lc, dp_port_index(rt, m->port), m, dp_pkt_gw(m),
					 rte_be_to_cpu_16(uh->dgram_len) - 8, &src);
			}
		}
	}
}

/* Frames the control thread asked this worker to send (m->port holds the
 * port index). */
static unsigned drain_ctl_tx(struct dp_lcore *lc)
{
	struct rte_mbuf *ms[DP_BURST_MAX];
	unsigned n, i;

	n = rte_ring_sc_dequeue_burst(lc->rt->ctl_tx[lc->idx], (void **)ms, DP_BURST_MAX, NULL);
	for (i = 0; i < n; i++)
		dp_tx(lc, ms[i]->port < lc->rt->n_ports ? ms[i]->port : 0, ms[i]);
	return n;
}

/* ---- main loop ------------------------------------------------------------ */

int dp_worker_main(void *arg)
{
	struct dp_lcore *lc = arg;
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *pkts[DP_BURST_MAX];
	const uint64_t scan_tsc = DP_RTO_SCAN_US * rt->tsc_hz / 1000000u;
	unsigned p;

	rcu_register_thread();
	lc->next_scan = rte_rdtsc() + scan_tsc;
	while (!__atomic_load_n(&rt->stop, __ATOMIC_RELAXED)) {
		unsigned burst, work = 0;

		/* Nothing from the previous iteration is referenced any more. */
		rcu_quiescent_state();
		lc->tun = rcu_dereference(rt->tun);
		burst = lc->tun->burst;
		lc->now = rte_rdtsc();
		lc->stage_t0 = lc->now;
		DP_COUNT_INC(lc->stats.loops);

		for (p = 0; p < rt->n_ports; p++) {
			uint16_t nb = rte_eth_rx_burst(rt->ports[p].port_id, lc->idx, pkts, burst);
			uint16_t i;

			dp_stage_mark(lc, DP_STAGE_RX);
			if (nb == 0)
				continue;
			work += nb;
			DP_COUNT_ADD(lc->stats.rx_pkts, nb);
			if (unlikely(lc->tun->stage_stats) && rt->rx_tsc_off >= 0)
				for (i = 0; i < nb; i++)
					*RTE_MBUF_DYNFIELD(pkts[i], rt->rx_tsc_off, uint64_t *) =
						lc->now;
			for (i = 0; i < PREFETCH_OFFSET && i < nb; i++)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
			for (i = 0; i < nb; i++) {
				if (i + PREFETCH_OFFSET < nb)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_OFFSET],
								       void *));
				rx_packet(lc, p, pkts[i]);
			}
			dp_stage_mark(lc, DP_STAGE_PARSE);
		}
		dp_ingress_verify_flush(lc);
		dp_ingress_flush(lc);
		if (rt->n_workers > 1) {
			drain_handoffs(lc);
			dp_stage_mark(lc, DP_STAGE_HANDOFF);
			dp_ingress_verify_flush(lc);
			dp_ingress_flush(lc);
		}
		if (unlikely(rte_ring_count(rt->ctl_tx[lc->idx]) != 0))
			work += drain_ctl_tx(lc);
		if (unlikely(rte_ring_count(rt->ctl_cmd[lc->idx]) != 0))
			dp_conn_owner_retire(lc);
		if (lc->n_ack != 0) {
			work++;
			dp_stage_mark(lc, DP_STAGE_HANDOFF);
			dp_reply_ack_flush(lc);
			dp_stage_mark(lc, DP_STAGE_ACK);
		}
		if (lc->now >= lc->next_scan) {
			dp_egress_scan_all(lc);
			lc->next_scan = lc->now + scan_tsc;
		}
		dp_tx_flush(lc);
		dp_stage_mark(lc, DP_STAGE_TX);
		if (work) {
			/* Busy cycles straight from this iteration's own TSC
			 * (no idle calibration): what the harness divides by
			 * the messages routed. */
			DP_COUNT_INC(lc->stats.busy_loops);
			DP_COUNT_ADD(lc->stats.busy_cycles, rte_rdtsc() - lc->now);
		}
		if (unlikely(lc->tun->stage_stats)) {
			unsigned s;

			if (work)
				for (s = 0; s < DP_STAGE_COUNT; s++)
					DP_COUNT_ADD(lc->stats.stage_cycles[s], lc->stage_acc[s]);
			memset(lc->stage_acc, 0, sizeof(lc->stage_acc));
		}
	}
	rcu_unregister_thread();
	return 0;
}

