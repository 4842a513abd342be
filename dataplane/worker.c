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
 * Vector processing (VPP's way; DATAPLANE.md "Why a hand-staged loop"):
 * each RX burst goes through stages, each stage over the whole burst, and
 * each prefetches what the next one touches, so that the misses of a burst
 * overlap instead of stalling one packet at a time (most of them are lines
 * another core wrote: the harness's or a NIC's mbufs and frames):
 *   A stage_prefetch()  mbuf headers (lines 0-1), then each frame's first
 *                       two lines
 *   B stage_parse()     L2-L4 classify (ARP/ICMP answered here), gwart
 *                       parse; prefetch each DATA/ACK sender's dp_conn,
 *                       then its dp_conn_state lines (session, replay
 *                       window, duplicate window words, counters)
 *   C stage_dispatch()  steer / control rings / session frames, and the
 *                       session checks of the whole burst
 *                       (dp_ingress_session())
 *   then the bulk steps of ingress.c: tags (dp_ingress_verify_flush()),
 *   routes and custody (dp_ingress_flush()).
 * The loop itself only sequences stages.
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
#include "capture.h"
#include "conn_state.h"
#include "egress.h"
#include "groups.h"
#include "handoff.h"
#include "ingress.h"
#include "io.h"
#include "pkt.h"
#include "reply.h"
#include "route.h"
#include "route_match.h"
#include "worker.h"

_Static_assert(DP_DROP_WIRE_BAD_FIELD - DP_DROP_WIRE_TRUNCATED ==
			       GW_WIRE_BAD_FIELD - GW_WIRE_TRUNCATED &&
		       DP_DROP_WIRE_BAD_CHUNK - DP_DROP_WIRE_TRUNCATED ==
			       GW_WIRE_BAD_CHUNK - GW_WIRE_TRUNCATED &&
		       GW_WIRE_BAD_CHUNK + 1 == GW_WIRE_STATUS_COUNT,
	       "wire statuses and drop reasons must stay in the same order");

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

/* ---- stages over a burst -------------------------------------------------- */

/* Stage A: start the misses of the whole burst. The headers first (reading
 * m->buf_addr to find the frame waits for line 0), then the frames: the
 * second loop's first loads find the first headers arrived or in flight.
 * Of each frame: its first two lines (L2-L4 headers, the gwart header, the
 * destination) and its last (the v2 trailer the parse reads: ctr, tag);
 * the lines between are read in order by the tag check, which the
 * hardware prefetcher follows. */
static void stage_prefetch(struct rte_mbuf *const *ms, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		rte_prefetch0(ms[i]);
		rte_prefetch0((const uint8_t *)ms[i] + RTE_CACHE_LINE_SIZE);
	}
	for (i = 0; i < n; i++) {
		const uint8_t *d = rte_pktmbuf_mtod(ms[i], const uint8_t *);
		uint16_t len = rte_pktmbuf_data_len(ms[i]);

		rte_prefetch0(d);
		rte_prefetch0(d + RTE_CACHE_LINE_SIZE);
		if (len > 2 * RTE_CACHE_LINE_SIZE)
			rte_prefetch0(d + len - 1);
	}
}

/* What the session checks and the duplicate window will touch of @st for a
 * frame with @seq and @ctr: its first line, the session and replay words,
 * the window's bitmap words and the counters. */
static inline void prefetch_conn_state(const struct dp_conn_state *st, uint64_t seq, uint64_t ctr)
{
	unsigned w = (unsigned)(seq % DP_DEDUP_BITS) / 64;
	unsigned r = (unsigned)(gw_ctr_count(ctr) % (DP_REPLAY_WORDS * 64)) / 64;

	rte_prefetch0(st);
	rte_prefetch0(&st->sess_gen);
	rte_prefetch0(&st->rx_replay.bits[r]);
	rte_prefetch0(&st->win.done[w]);
	rte_prefetch0(&st->win.pending[w]);
	rte_prefetch0(&st->stats);
}

/* Parse one gwart frame into @pk (m, gw, len, src set). False: dropped.
 * DATA/ACK: finds the sender and prefetches its dp_conn. */
static inline bool parse_frame(struct dp_lcore *lc, struct dp_rx_pkt *pk)
{
	enum gw_wire_status ws = gw_wire_parse(pk->gw, pk->len, &pk->f);

	if (unlikely(ws != GW_WIRE_OK)) {
		dp_drop(lc, pk->m,
			(enum dp_drop_reason)(DP_DROP_WIRE_TRUNCATED + ws - GW_WIRE_TRUNCATED));
		return false;
	}
	DP_COUNT_INC(lc->stats.rx_frames);
	pk->c = NULL;
	if (pk->f.type == GW_T_DATA || pk->f.type == GW_T_ACK) {
		pk->c = dp_conn_get(lc->rt, pk->f.sender);
		if (pk->c != NULL)
			rte_prefetch0(pk->c);
	}
	return true;
}

/* The second half of stage B: the connectors' lines were requested while
 * the rest of the burst parsed; now their states'. */
static void prefetch_states(const struct dp_rx_pkt *pk, unsigned n, unsigned me)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (pk[i].c != NULL && pk[i].c->owner == me)
			prefetch_conn_state(pk[i].c->st, pk[i].f.seq, pk[i].f.ctr);
}

/* Stage B for a burst from port @p: classify every packet (ARP and ICMP are
 * answered on the spot, anything else that is not a gwart frame is dropped
 * with its reason), parse every gwart frame into lc->rxp[]. Returns how
 * many frames are there. */
static unsigned stage_parse(struct dp_lcore *lc, unsigned p, struct rte_mbuf *const *ms,
			    unsigned n)
{
	struct dp_router *rt = lc->rt;
	struct dp_rx_pkt *pk = lc->rxp;
	unsigned i, k = 0;
	int32_t tsc_off = -1;

	if (unlikely(lc->tun->stage_stats) && rt->rx_tsc_off >= 0)
		tsc_off = rt->rx_tsc_off;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = ms[i];
		enum dp_drop_reason why = DP_DROP_ETH_SHORT;

		/* Residence is measured for the messages of sampled bursts
		 * (egress takes a stamp of 0 for "not measured"). */
		if (unlikely(tsc_off >= 0))
			*RTE_MBUF_DYNFIELD(m, tsc_off, uint64_t *) = lc->stage_on ? lc->now : 0;
		switch (dp_pkt_classify(&rt->ports[p], rt->udp_be, m, &pk[k].gw, &pk[k].len,
					&pk[k].src, &why)) {
		case DP_PKT_GWART:
			pk[k].m = m;
			if (parse_frame(lc, &pk[k]))
				k++;
			break;
		case DP_PKT_REPLY:
			if (rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type ==
			    rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
				DP_COUNT_INC(lc->stats.arp_replies);
			else
				DP_COUNT_INC(lc->stats.icmp_replies);
			dp_tx(lc, p, m);
			break;
		default:
			dp_drop(lc, m, why);
			break;
		}
	}
	prefetch_states(pk, k, lc->idx);
	return k;
}

/* Hand the burst's frames for other workers' connectors to their owners:
 * one ring enqueue per owner (each enqueue publishes the ring's tail, a
 * line the owner reads: one transfer per owner and burst, not per frame).
 * A frame that does not fit is dropped with STEER_FULL, as one at a time. */
static void steer_flush(struct dp_lcore *lc, const struct dp_ho_item *it, const uint16_t *owner,
			unsigned n)
{
	struct dp_ho_item grp[DP_BURST_MAX];
	uint64_t done = 0; /* n <= DP_BURST_MAX == 64 */
	unsigned i, j, k, sent;

	for (i = 0; i < n; i++) {
		if (done >> i & 1)
			continue;
		for (j = i, k = 0; j < n; j++)
			if (!(done >> j & 1) && owner[j] == owner[i]) {
				grp[k++] = it[j];
				done |= UINT64_C(1) << j;
			}
		sent = dp_handoff_send(lc->rt->ho_msg, lc->idx, owner[i], grp, k);
		DP_COUNT_ADD(lc->stats.steered, sent);
		for (j = sent; j < k; j++)
			dp_drop(lc, grp[j].pkt, DP_DROP_STEER_FULL);
	}
}
_Static_assert(DP_BURST_MAX <= 64, "steer_flush() keeps a burst's frames in one 64-bit mask");

/* Stage C: each frame to where it goes: another worker (the sender's
 * owner), a control ring, or this worker's session checks, which run over
 * the burst's session frames together. */
static void stage_dispatch(struct dp_lcore *lc, struct dp_rx_pkt *pk, unsigned n)
{
	struct dp_rx_pkt *sess[DP_BURST_MAX];
	struct dp_ho_item steer[DP_BURST_MAX];
	uint16_t steer_to[DP_BURST_MAX];
	unsigned i, ns = 0, nst = 0;

	for (i = 0; i < n; i++) {
		struct dp_rx_pkt *x = &pk[i];

		switch (x->f.type) {
		case GW_T_DATA:
		case GW_T_ACK:
			if (unlikely(x->c == NULL)) {
				dp_drop(lc, x->m, DP_DROP_UNKNOWN_CONN);
				break;
			}
			if (x->c->owner != lc->idx) {
				steer[nst] = (struct dp_ho_item){
					.pkt = x->m, .conn = x->f.sender, .op = DP_HO_STEER};
				steer_to[nst++] = (uint16_t)x->c->owner;
				break;
			}
			sess[ns++] = x;
			break;
		case GW_T_HELLO:
		case GW_T_KEEPALIVE:
		case GW_T_BYE:
			to_control(lc, x->m, &x->f, &x->src);
			break;
		default:
			dp_drop(lc, x->m, DP_DROP_WRONG_DIRECTION);
			break;
		}
	}
	if (nst != 0)
		steer_flush(lc, steer, steer_to, nst);
	if (ns != 0)
		dp_ingress_session(lc, sess, ns);
}

/* ---- hand-offs from other workers ----------------------------------------- */

static void ho_custody(struct dp_lcore *lc, unsigned from, const struct dp_ho_item *it)
{
	struct rte_mbuf *m = it->pkt;
	const struct dp_conn *dc = dp_conn_get(lc->rt, it->conn);
	const uint8_t *fr = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct gw_wire_data *d = (const struct gw_wire_data *)(fr + GW_HDR_LEN);
	struct dp_ho_item v = {.conn = rte_be_to_cpu_32(d->origin), .op = DP_HO_VERDICT};
	uint16_t chunk = 0;
	int why;

	v.seq = rte_be_to_cpu_64(d->origin_seq);
	if (it->arg == DP_HO_ARG_MOVE) {
		/* A failover move: acknowledged long ago, no verdict awaited.
		 * Accept up to the ring's size, beyond the operator's limit. */
		if (dc != NULL && dp_egress_take_move(lc, dc, m) == 0)
			return;
		/* Nowhere to keep it: counted, and the origin is told. */
		dp_drop(lc, m, DP_DROP_MOVE_FAILED);
		/* Only the origin's owner may send on its lane 1 (one writer of
		 * its counter): elsewhere the drop's counter is all there is. */
		dc = dp_conn_get(lc->rt, v.conn);
		if (dc != NULL && dc->owner == lc->idx)
			dp_reply_nack(lc, dc, v.seq, GW_NACK_EXPIRED, 0);
		return;
	}
	if (unlikely(dp_frame_flags(fr) & GW_F_CHUNK)) {
		/* The origin's owner finds the chunk's group by its index
		 * (handoff.h: DP_HO_VRD_CHUNK). */
		struct gw_chunk_info ck;

		(void)dp_chunk_read(fr, &ck, NULL);
		v.conn |= ck.index << 16;
		chunk = DP_HO_VRD_CHUNK;
	}
	if (dc == NULL) {
		v.arg = DP_HO_VRD_ARG(GW_NACK_NO_ROUTE, DP_DROP_NO_ROUTE);
		rte_pktmbuf_free(m);
	} else if ((why = dp_egress_take(lc, dc, m)) != 0) {
		v.arg = DP_HO_VRD_ARG(dp_drop_nack((unsigned)why), why);
		rte_pktmbuf_free(m);
	} else {
		v.arg = 0;
	}
	v.arg |= chunk;
	/* Cannot fail: the sender keeps at most ring-capacity custody items
	 * outstanding towards us, so their verdicts always fit. */
	(void)dp_handoff_send(lc->rt->ho_vrd, lc->idx, from, &v, 1);
}

static void ho_verdict(struct dp_lcore *lc, const struct dp_ho_item *it)
{
	unsigned nack = DP_HO_VRD_NACK(it->arg), why = DP_HO_VRD_WHY(it->arg);
	uint32_t origin = it->conn;
	const struct dp_conn *c;
	struct dp_conn_state *st;

	if (unlikely(it->arg & DP_HO_VRD_CHUNK)) {
		origin = it->conn & 0xffffu;
		dp_group_verdict(lc, origin, it->seq - (it->conn >> 16), nack == 0);
	}
	c = dp_conn_get(lc->rt, origin);
	if (c == NULL)
		return;
	st = c->st;
	if (nack == 0) {
		dp_ingress_taken(lc, st, it->seq);
		return;
	}
	dp_dedup_clear_pending(&st->win, it->seq);
	dp_count_drop(lc, (enum dp_drop_reason)why);
	dp_reply_nack_conn(lc, c, it->seq, nack, nack == GW_NACK_BUSY ? lc->tun->busy_retry_us : 0);
}

_Static_assert(DP_MAX_CONNECTORS <= 65536 && DP_CUSTODY_MAX <= 65536 && DP_DROP_COUNT <= 128,
	       "a chunk's verdict carries origin and index in 16 bits each, its drop reason in 7");

/* Frames steered here by @from's RX: L2-L4 were validated by the sender,
 * the frame is parsed again (the sender keeps nothing of it) and goes
 * through the same stages as a burst received here. */
static void ho_steered(struct dp_lcore *lc, const struct dp_ho_item *items, unsigned n)
{
	struct dp_rx_pkt *pk = lc->rxp;
	struct rte_mbuf *ms[DP_BURST_MAX];
	unsigned i, k = 0;

	for (i = 0; i < n; i++)
		ms[i] = items[i].pkt;
	stage_prefetch(ms, n);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = ms[i];
		const struct rte_udp_hdr *uh =
			rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, DP_PKT_HDRS - 8);
		const struct rte_ipv4_hdr *ih =
			rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

		pk[k].m = m;
		pk[k].src.ip_be = ih->src_addr;
		pk[k].src.udp_be = uh->src_port;
		rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr,
				    &pk[k].src.mac);
		pk[k].gw = dp_pkt_gw(m);
		pk[k].len = rte_be_to_cpu_16(uh->dgram_len) - 8;
		if (parse_frame(lc, &pk[k]))
			k++;
	}
	prefetch_states(pk, k, lc->idx);
	stage_dispatch(lc, pk, k);
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
		for (i = 0; i < n;) {
			unsigned j = i;

			if (items[i].op == DP_HO_CUSTODY) {
				ho_custody(lc, w, &items[i]);
				i++;
				continue;
			}
			/* A run of steered frames: staged together, in order. */
			while (j < n && items[j].op != DP_HO_CUSTODY)
				j++;
			ho_steered(lc, &items[i], j - i);
			i = j;
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

/*
 * TEST ONLY (tunable test_stall, it_notify): park this worker, counting no
 * loop iterations, while the tunable names it (1 + its index) and the
 * router runs. Quiescent states keep grace periods (tunable updates)
 * moving, so lc->tun is re-read after each. Cold and out of line: the fast
 * path pays one load of a field of the tunables it has just read.
 */
static void __attribute__((noinline, cold)) worker_test_stall(struct dp_lcore *lc)
{
	struct dp_router *rt = lc->rt;

	while (lc->tun->test_stall == lc->idx + 1 &&
	       !__atomic_load_n(&rt->stop, __ATOMIC_RELAXED)) {
		rcu_quiescent_state();
		rte_delay_us_sleep(1000);
		lc->tun = rcu_dereference(rt->tun);
	}
}

/* Open an iteration: its top TSC, and whether stage accounting times it. */
static inline void iter_begin(struct dp_lcore *lc)
{
	lc->now = rte_rdtsc();
	lc->stage_on = unlikely(lc->tun->stage_stats) && lc->stage_left == 0;
	lc->stage_t0 = lc->now;
}

/* Close a busy iteration: busy cycles always; a timed one's stages counted
 * DP_STAGE_SAMPLE times (their sum is an estimate of busy_cycles). An idle
 * iteration that was to be timed passes the turn to the next one. */
static inline void iter_end(struct dp_lcore *lc, unsigned work)
{
	unsigned s;

	if (work == 0) {
		if (unlikely(lc->stage_on))
			memset(lc->stage_acc, 0, sizeof(lc->stage_acc));
		return;
	}
	/* Busy cycles straight from this iteration's own TSC (no idle
	 * calibration): what the harness divides by the messages routed. */
	DP_COUNT_INC(lc->stats.busy_loops);
	DP_COUNT_ADD(lc->stats.busy_cycles, (lc->stage_on ? lc->stage_t0 : rte_rdtsc()) - lc->now);
	if (likely(!lc->stage_on)) {
		if (lc->stage_left != 0)
			lc->stage_left--;
		return;
	}
	if (unlikely(lc->stage_t0 - lc->now > lc->stage_max)) {
		/* Descheduled or interrupted: not what the stages cost. */
		DP_COUNT_INC(lc->stats.stage_discarded);
	} else {
		for (s = 0; s < DP_STAGE_COUNT; s++)
			DP_COUNT_ADD(lc->stats.stage_cycles[s],
				     lc->stage_acc[s] * DP_STAGE_SAMPLE);
		DP_COUNT_INC(lc->stats.stage_samples);
		lc->stage_left = DP_STAGE_SAMPLE - 1;
	}
	memset(lc->stage_acc, 0, sizeof(lc->stage_acc));
}

int dp_worker_main(void *arg)
{
	struct dp_lcore *lc = arg;
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *pkts[DP_BURST_MAX];
	const uint64_t scan_tsc = DP_RTO_SCAN_US * rt->tsc_hz / 1000000u;
	unsigned p;

	rcu_register_thread();
	lc->next_scan = rte_rdtsc() + scan_tsc;
	lc->stage_left = 0;
	lc->stage_max = DP_STAGE_SAMPLE_MAX_US * rt->tsc_hz / 1000000u;
	while (!__atomic_load_n(&rt->stop, __ATOMIC_RELAXED)) {
		unsigned burst, work = 0;

		/* Nothing from the previous iteration is referenced any more. */
		rcu_quiescent_state();
		lc->tun = rcu_dereference(rt->tun);
		if (unlikely(lc->tun->test_stall != 0))
			worker_test_stall(lc);
		/* After the stall: it passes quiescent states. */
		lc->cap = rcu_dereference(rt->capture);
		burst = lc->tun->burst;
		iter_begin(lc);
		DP_COUNT_INC(lc->stats.loops);

		for (p = 0; p < rt->n_ports; p++) {
			uint16_t nb = rte_eth_rx_burst(rt->ports[p].port_id, lc->idx, pkts, burst);
			unsigned nf;

			if (nb == 0)
				continue;
			work += nb;
			DP_COUNT_ADD(lc->stats.rx_pkts, nb);
			stage_prefetch(pkts, nb);
			/* Before the parse, which may free or answer them. */
			if (unlikely(lc->cap != NULL))
				dp_capture_burst(lc, p, pkts, nb, false);
			dp_stage_mark(lc, DP_STAGE_RX);
			nf = stage_parse(lc, p, pkts, nb);
			dp_stage_mark(lc, DP_STAGE_PARSE);
			stage_dispatch(lc, lc->rxp, nf);
			dp_stage_mark(lc, DP_STAGE_SESSION);
		}
		dp_stage_mark(lc, DP_STAGE_RX);
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
		dp_stage_mark(lc, DP_STAGE_CONTROL);
		if (lc->n_ack != 0) {
			work++;
			dp_reply_ack_flush(lc);
			dp_stage_mark(lc, DP_STAGE_ACK);
		}
		if (lc->now >= lc->next_scan) {
			dp_egress_scan_all(lc);
			lc->next_scan = lc->now + scan_tsc;
			dp_stage_mark(lc, DP_STAGE_RETX);
		}
		dp_tx_flush(lc);
		dp_stage_mark(lc, DP_STAGE_TX);
		iter_end(lc, work);
	}
	rcu_unregister_thread();
	return 0;
}
