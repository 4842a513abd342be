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
#include "io.h"
#include "pkt.h"
#include "route.h"
#include "route_match.h"
#include "worker.h"

_Static_assert(DP_DROP_WIRE_BAD_FIELD - DP_DROP_WIRE_TRUNCATED ==
		       GW_WIRE_BAD_FIELD - GW_WIRE_TRUNCATED,
	       "wire statuses and drop reasons must stay in the same order");

#define PREFETCH_OFFSET 3

/* Close the current stage (stage_stats): one predictable branch when off. */
static inline void stage_mark(struct dp_lcore *lc, enum dp_stage st)
{
	if (unlikely(lc->tun->stage_stats)) {
		uint64_t t1 = rte_rdtsc();

		lc->stage_acc[st] += t1 - lc->stage_t0;
		lc->stage_t0 = t1;
	}
}

/* ---- replies -------------------------------------------------------------- */

/* A NACK to connector @c, at its session's address, sealed with its session
 * (lane 1). Without a session nothing is sent: in v2 the router answers no
 * frame it cannot authenticate an answer for (epoch-0 answers are control's). */
static void send_nack(struct dp_lcore *lc, const struct dp_conn *c, uint64_t seq,
		      unsigned reason, uint32_t retry_us)
{
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .seq = seq};

	h.ctr = dp_tx_ctr(lc, c);
	if (unlikely(h.ctr == 0))
		return;
	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac, c->ip_be,
			     c->udp_be, GW_NACK_LEN, &pl);
	if (unlikely(m == NULL)) {
		dp_count_drop(lc, DP_DROP_NO_MBUF);
		return;
	}
	gw_wire_encode_nack(pl, GW_NACK_LEN, &h, seq, reason, retry_us);
	DP_COUNT_INC(lc->stats.nacks_sent);
	dp_tx_sealed(lc, c->port, m, c->auth);
}

static inline void nack_conn(struct dp_lcore *lc, const struct dp_conn *c, uint64_t seq,
			     unsigned reason, uint32_t retry_us)
{
	DP_COUNT_INC(c->st->stats.nacked);
	send_nack(lc, c, seq, reason, retry_us);
}

static void send_ack(struct dp_lcore *lc, const struct dp_conn *c, uint64_t cum, uint64_t base,
		     uint64_t bitmap)
{
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .seq = cum};

	h.ctr = dp_tx_ctr(lc, c);
	if (unlikely(h.ctr == 0))
		return;
	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac, c->ip_be,
			     c->udp_be, GW_ACK_LEN, &pl);
	if (unlikely(m == NULL)) {
		dp_count_drop(lc, DP_DROP_NO_MBUF);
		return;
	}
	gw_wire_encode_ack(pl, GW_ACK_LEN, &h, base, bitmap);
	DP_COUNT_INC(lc->stats.acks_sent);
	dp_tx_sealed(lc, c->port, m, c->auth);
}

/* Seal at flush: the frames of one session go to the device in one call
 * (dp_auth_gmac_grouped()), then the checksums, which cover the tag. */
void dp_tx_seal_port(struct dp_lcore *lc, unsigned p)
{
	const struct dp_port_addr *pa = &lc->rt->ports[p];
	unsigned n = lc->n_tx[p], i;
	uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
	uint16_t len[DP_BURST_MAX];

	for (i = 0; i < n; i++) {
		ok[i] = 1;
		if (lc->tx_auth[p][i] == NULL)
			continue;
		fr[i] = dp_pkt_gw(lc->tx[p][i]);
		len[i] = (uint16_t)(fr[i][4] << 8 | fr[i][5]);
		dig[i] = fr[i] + len[i] - GW_TAG_LEN;
	}
	if (!lc->rt->auth_off)
		dp_auth_gmac_grouped(n, lc->tx_auth[p], 1, fr, len, dig, ok);
	for (i = 0; i < n; i++) {
		if (lc->tx_auth[p][i] == NULL)
			continue;
		/* The device refused one (never seen): it leaves with a zero
		 * tag, which its receiver refuses and counts; a retransmission
		 * or the peer's retry heals. */
		if (unlikely(!ok[i]))
			memset(dig[i], 0, GW_TAG_LEN);
		dp_pkt_finish_udp_tx(lc->tx[p][i], pa);
	}
}

/* ---- ACK batching: one ACK per origin per burst ----------------------------- */

static void flush_acks(struct dp_lcore *lc)
{
	unsigned i;

	for (i = 0; i < lc->n_ack; i++) {
		const struct dp_conn *c = dp_conn_get(lc->rt, lc->ack_list[i]);
		struct dp_dedup_ack a[DP_DEDUP_ACK_MAX];
		struct dp_conn_state *st;
		unsigned k, n;
		uint64_t cum;

		if (unlikely(c == NULL || !c->up))
			continue;
		st = c->st;
		cum = dp_dedup_cum(&st->win);
		/* Usually one frame: the cumulative point covers in-order
		 * traffic and the bitmap the rest of this burst. At most
		 * DP_DEDUP_ACK_MAX whatever seqs the origin sent (a HELLO
		 * may put the window anywhere, up to 2^64 - 1). */
		n = dp_dedup_acks(&st->win, st->ack_lo, st->ack_hi, a);
		for (k = 0; k < n; k++)
			send_ack(lc, c, cum, a[k].base, a[k].bitmap);
	}
	lc->n_ack = 0;
	lc->burst_gen++;
}

static inline void ack_add(struct dp_lcore *lc, struct dp_conn_state *st, uint64_t seq)
{
	if (st->ack_gen != lc->burst_gen) {
		if (unlikely(lc->n_ack == DP_ACK_LIST_MAX))
			flush_acks(lc);
		st->ack_gen = lc->burst_gen;
		st->ack_lo = st->ack_hi = seq;
		lc->ack_list[lc->n_ack++] = st->id;
		return;
	}
	if (seq < st->ack_lo)
		st->ack_lo = seq;
	if (seq > st->ack_hi)
		st->ack_hi = seq;
}

/* ---- ingress -------------------------------------------------------------- */

/* A route target that may take a message while no target is up: it exists
 * and is enabled; its custody holds the message until its session returns
 * (bounded: BUSY past the custody limit). */
static int conn_holds(void *ctx, uint32_t id)
{
	const struct dp_conn *c = dp_conn_get(ctx, id);

	return c != NULL && c->enabled;
}

/* Choose the destination connector: lowest-cost up connector; if none is
 * up, the lowest-cost one that holds (dp_rm_choose()). */
static const struct dp_conn *choose_dest(struct dp_lcore *lc, const struct dp_route *r,
					 uint64_t hash)
{
	uint32_t id = dp_rm_choose(r->targets, r->n_targets, dp_egress_conn_up, conn_holds, lc->rt,
				   hash);

	return id != 0 ? dp_conn_get(lc->rt, id) : NULL;
}

/*
 * Ingress runs in two steps per burst so that route lookups go in bulk:
 * ingress_data() checks the session and the duplicate window and marks a
 * new message pending at once (a second copy later in the same burst is
 * then recognised); ingress_flush() looks up every pending destination in
 * one dp_route_lookup_bulk() call and takes custody or refuses.
 */
static void ingress_flush(struct dp_lcore *lc);

/* A DATA frame of @c's current session whose tag verified (verify_flush()). */
static void ingress_data(struct dp_lcore *lc, struct rte_mbuf *m, const struct gw_frame *f,
			 const struct dp_conn *c)
{
	struct dp_conn_state *st = c->st;
	struct dp_pending *pd;
	uint64_t seq = f->seq;

	DP_COUNT_INC(st->stats.rx_data);
	DP_COUNT_INC(lc->stats.rx_data);
	if (unlikely(st->rx_hello_gen != c->hello_gen)) {
		/* First DATA after a HELLO: everything below HELLO.seq is the
		 * connector's past (acknowledged, or given up), so the window
		 * moves there. The owner applies it: nobody else writes the
		 * window. */
		if (c->hello_seq > 1)
			dp_dedup_advance(&st->win, c->hello_seq - 1);
		st->rx_hello_gen = c->hello_gen;
	}
	if (unlikely(f->u.data.origin != f->sender || f->u.data.origin_seq != seq)) {
		dp_drop(lc, m, DP_DROP_BAD_ORIGIN);
		return;
	}
	stage_mark(lc, DP_STAGE_PARSE);
	switch (dp_dedup_check(&st->win, seq)) {
	case DP_DEDUP_NEW:
		break;
	case DP_DEDUP_DUP:
		DP_COUNT_INC(st->stats.dups);
		DP_COUNT_INC(lc->stats.dups);
		ack_add(lc, st, seq);
		rte_pktmbuf_free(m);
		return;
	case DP_DEDUP_PENDING:
		DP_COUNT_INC(st->stats.dups);
		DP_COUNT_INC(lc->stats.dups);
		dp_drop(lc, m, DP_DROP_DUP_IN_FLIGHT);
		return;
	case DP_DEDUP_TOO_FAR:
		nack_conn(lc, c, seq, GW_NACK_EXPIRED, 0);
		dp_drop(lc, m, DP_DROP_TOO_FAR);
		return;
	default:
		dp_drop(lc, m, DP_DROP_WIRE_BAD_SEQ);
		return;
	}
	if (unlikely(lc->tun->refuse_new)) {
		/* Draining for shutdown: take nothing new; the origin retries
		 * elsewhere or later. */
		nack_conn(lc, c, seq, GW_NACK_BUSY, lc->tun->busy_retry_us);
		dp_drop(lc, m, DP_DROP_BUSY);
		return;
	}
	dp_dedup_set_pending(&st->win, seq);
	stage_mark(lc, DP_STAGE_DEDUP);
	/* Custody keeps the gwart frame alone. */
	rte_pktmbuf_adj(m, DP_PKT_HDRS);
	rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - f->length);
	pd = &lc->pend[lc->n_pend++];
	pd->m = m;
	pd->c = c;
	pd->seq = seq;
	pd->dest = rte_pktmbuf_mtod_offset(m, const uint8_t *, GW_HDR_LEN + GW_DATA_FIXED_LEN);
	pd->dest_len = f->u.data.dest_len;
	if (unlikely(lc->n_pend == DP_BURST_MAX))
		ingress_flush(lc);
}

static void ingress_route(struct dp_lcore *lc, const struct dp_pending *pd,
			  const struct dp_route *r)
{
	const struct dp_conn *c = pd->c, *dc;
	struct dp_conn_state *st = c->st;
	struct rte_mbuf *m = pd->m;
	uint64_t seq = pd->seq;
	uint64_t hash = dp_rm_msg_hash(c->id, seq);

	dc = r != NULL ? choose_dest(lc, r, hash) : NULL;
	if (unlikely(dc == NULL)) {
		dp_dedup_clear_pending(&st->win, seq);
		nack_conn(lc, c, seq, GW_NACK_NO_ROUTE, 0);
		dp_drop(lc, m, DP_DROP_NO_ROUTE);
		return;
	}
	/* The router acknowledges only what it can deliver: a frame that
	 * cannot leave within the destination's port MTU (or its mbuf, with
	 * the headers it will get back) would sit in custody forever, so it is
	 * refused before custody. The frame came in one mbuf and leaves in
	 * the same one, so the MTU is the bound that matters; the mbuf's room
	 * is compared too, being as cheap. */
	if (unlikely((uint32_t)rte_pktmbuf_data_len(m) + 28u > lc->rt->ports[dc->port].mtu ||
		     rte_pktmbuf_headroom(m) < DP_PKT_HDRS)) {
		dp_dedup_clear_pending(&st->win, seq);
		nack_conn(lc, c, seq, GW_NACK_TOO_BIG, 0);
		dp_drop(lc, m, DP_DROP_TOO_BIG);
		return;
	}
	if (dc->owner == lc->idx) {
		if (dp_egress_take(lc, dc, m) != 0)
			goto busy;
		dp_dedup_set_done(&st->win, seq);
		DP_COUNT_INC(st->stats.routed);
		DP_COUNT_INC(lc->stats.routed);
		ack_add(lc, st, seq);
		return;
	}
	/* Another worker owns the destination: hand over, keep the message
	 * pending so a retransmission meanwhile is not forwarded twice, and
	 * ACK only when the owner's verdict says custody was taken. */
	if (lc->outstanding[dc->owner] < lc->ho_cap) {
		struct dp_ho_item it = {.pkt = m, .conn = dc->id, .op = DP_HO_CUSTODY};

		if (dp_handoff_send(lc->rt->ho_msg, lc->idx, dc->owner, &it, 1) == 1) {
			lc->outstanding[dc->owner]++;
			DP_COUNT_INC(lc->stats.handoffs);
			return;
		}
	}
busy:
	dp_dedup_clear_pending(&st->win, seq);
	nack_conn(lc, c, seq, GW_NACK_BUSY, lc->tun->busy_retry_us);
	dp_drop(lc, m, DP_DROP_BUSY);
}

static void ingress_flush(struct dp_lcore *lc)
{
	const uint8_t *addrs[DP_BURST_MAX];
	uint16_t lens[DP_BURST_MAX];
	const struct dp_route *routes[DP_BURST_MAX];
	unsigned i, n = lc->n_pend;

	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		addrs[i] = lc->pend[i].dest;
		lens[i] = lc->pend[i].dest_len;
	}
	stage_mark(lc, DP_STAGE_PARSE);
	dp_route_lookup_bulk(lc->rt->routes, addrs, lens, n, routes);
	stage_mark(lc, DP_STAGE_ROUTE);
	for (i = 0; i < n; i++)
		ingress_route(lc, &lc->pend[i], routes[i]);
	lc->n_pend = 0;
	stage_mark(lc, DP_STAGE_CUSTODY);
}

/* ---- session frames from connectors: checks, then tags in bursts --------- */

/*
 * A DATA or ACK frame from @c, received by its owner. In the order of
 * PROTOCOL.md (receiving a session frame), each failure a counted drop
 * that changes nothing: the session and its epoch, the session's address,
 * the lane, the replay window; then the frame waits for the burst's tag
 * check (verify_flush()), which commits its counter and processes it.
 * Nothing is answered: the router cannot authenticate an answer for an
 * epoch it does not know, and a forger learns nothing.
 */
static void verify_flush(struct dp_lcore *lc);

static void rx_session(struct dp_lcore *lc, struct rte_mbuf *m, const uint8_t *gw,
		       const struct gw_frame *f, const struct dp_conn *c,
		       const struct dp_pkt_src *src)
{
	struct dp_conn_state *st = c->st;
	struct dp_vq *v;

	if (unlikely(!c->up || c->auth == NULL || f->epoch != c->epoch)) {
		dp_drop(lc, m, DP_DROP_NO_SESSION);
		return;
	}
	if (unlikely(src->ip_be != c->ip_be || src->udp_be != c->udp_be ||
		     gw_ctr_lane(f->ctr) != GW_LANE_STREAM)) {
		dp_drop(lc, m, DP_DROP_AUTH_FAILED);
		return;
	}
	dp_conn_sess_sync(st, c);
	if (unlikely(!dp_replay_check(&st->rx_replay, gw_ctr_count(f->ctr)))) {
		dp_drop(lc, m, DP_DROP_REPLAYED);
		return;
	}
	v = &lc->vq[lc->n_vq++];
	v->m = m;
	v->c = c;
	v->gw = gw;
	v->f = *f;
	if (unlikely(lc->n_vq == DP_BURST_MAX))
		verify_flush(lc);
}

/* Verify the tags of the waiting session frames, the frames of one session
 * in one device call, then process those that verified, in order. */
static void verify_flush(struct dp_lcore *lc)
{
	unsigned n = lc->n_vq, i;
	uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
	uint8_t tags[DP_BURST_MAX][GW_TAG_LEN];
	uint16_t len[DP_BURST_MAX];
	int check = !lc->rt->auth_off;

	if (n == 0)
		return;
	lc->n_vq = 0;
	if (check) {
		const struct dp_auth_sess *a[DP_BURST_MAX];

		for (i = 0; i < n; i++) {
			fr[i] = (uint8_t *)(uintptr_t)lc->vq[i].gw;
			len[i] = lc->vq[i].f.length;
			dig[i] = tags[i];
			a[i] = lc->vq[i].c->auth;
		}
		dp_auth_gmac_grouped(n, a, 0, fr, len, dig, ok);
	}
	stage_mark(lc, DP_STAGE_PARSE);
	for (i = 0; i < n; i++) {
		struct dp_vq *v = &lc->vq[i];
		struct dp_conn_state *st = v->c->st;
		uint64_t cnt = gw_ctr_count(v->f.ctr);

		if (check && (!ok[i] || !dp_auth_tag_equal(tags[i], v->f.tag))) {
			dp_drop(lc, v->m, DP_DROP_AUTH_FAILED);
			continue;
		}
		/* A new session published during this burst: the frame
		 * belongs to the one before. */
		if (unlikely(v->c->sess_gen != st->sess_gen)) {
			dp_drop(lc, v->m, DP_DROP_NO_SESSION);
			continue;
		}
		/* Checked again: a copy earlier in this burst may have
		 * committed the same counter. */
		if (unlikely(!dp_replay_check(&st->rx_replay, cnt))) {
			dp_drop(lc, v->m, DP_DROP_REPLAYED);
			continue;
		}
		dp_replay_commit(&st->rx_replay, cnt);
		if (v->f.type == GW_T_DATA)
			ingress_data(lc, v->m, &v->f, v->c);
		else
			dp_egress_ack(lc, v->m, &v->f, v->c);
	}
}

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
		rx_session(lc, m, gw, &f, c, src);
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
			send_nack(lc, dc, v.seq, GW_NACK_EXPIRED, 0);
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
		ack_add(lc, st, it->seq);
		return;
	}
	dp_dedup_clear_pending(&st->win, it->seq);
	dp_count_drop(lc, it->arg == GW_NACK_BUSY ? DP_DROP_BUSY : DP_DROP_NO_ROUTE);
	nack_conn(lc, c, it->seq, it->arg, it->arg == GW_NACK_BUSY ? lc->tun->busy_retry_us : 0);
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

			stage_mark(lc, DP_STAGE_RX);
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
			stage_mark(lc, DP_STAGE_PARSE);
		}
		verify_flush(lc);
		ingress_flush(lc);
		if (rt->n_workers > 1) {
			drain_handoffs(lc);
			stage_mark(lc, DP_STAGE_HANDOFF);
			verify_flush(lc);
			ingress_flush(lc);
		}
		if (unlikely(rte_ring_count(rt->ctl_tx[lc->idx]) != 0))
			work += drain_ctl_tx(lc);
		if (unlikely(rte_ring_count(rt->ctl_cmd[lc->idx]) != 0))
			dp_conn_owner_retire(lc);
		if (lc->n_ack != 0) {
			work++;
			stage_mark(lc, DP_STAGE_HANDOFF);
			flush_acks(lc);
			stage_mark(lc, DP_STAGE_ACK);
		}
		if (lc->now >= lc->next_scan) {
			dp_egress_scan_all(lc);
			lc->next_scan = lc->now + scan_tsc;
		}
		dp_tx_flush(lc);
		stage_mark(lc, DP_STAGE_TX);
		if (work)
			DP_COUNT_INC(lc->stats.busy_loops);
		if (unlikely(lc->tun->stage_stats)) {
			unsigned s;

			if (work) {
				DP_COUNT_ADD(lc->stats.busy_cycles, lc->stage_t0 - lc->now);
				for (s = 0; s < DP_STAGE_COUNT; s++)
					DP_COUNT_ADD(lc->stats.stage_cycles[s], lc->stage_acc[s]);
			}
			memset(lc->stage_acc, 0, sizeof(lc->stage_acc));
		}
	}
	rcu_unregister_thread();
	return 0;
}
