/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker: one per worker lcore, pinned, busy-polling.
 *
 *   RX burst -> L2-L4 classify (ARP/ICMP answered) -> gwart parse
 *     DATA from origin O:  owner(O)?  dedup -> route -> custody at owner(D)
 *                                     -> ACK to O (batched per burst)
 *     ACK from destination D: owner(D)? free acknowledged custody slots
 *     HELLO/KEEPALIVE/BYE:  control ring
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

#include <gwart/wire.h>

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

static inline uint64_t us_to_tsc(const struct dp_lcore *lc, uint64_t us)
{
	return us * lc->rt->tsc_hz / 1000000u;
}

/* ---- replies -------------------------------------------------------------- */

static void send_nack(struct dp_lcore *lc, unsigned p, const struct rte_ether_addr *mac,
		      uint32_t ip_be, uint16_t udp_be, uint32_t epoch, uint64_t seq,
		      unsigned reason, uint32_t retry_us)
{
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = epoch, .seq = seq};

	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[p], rt->udp_be, mac, ip_be, udp_be,
			     GW_HDR_LEN + GW_NACK_BODY_LEN, &pl);
	if (unlikely(m == NULL)) {
		dp_count_drop(lc, DP_DROP_NO_MBUF);
		return;
	}
	gw_wire_encode_nack(pl, GW_HDR_LEN + GW_NACK_BODY_LEN, &h, seq, reason, retry_us);
	dp_pkt_finish_udp_tx(m, &rt->ports[p]);
	lc->stats.nacks_sent++;
	dp_tx(lc, p, m);
}

static inline void nack_conn(struct dp_lcore *lc, const struct dp_conn *c, uint64_t seq,
			     unsigned reason, uint32_t retry_us)
{
	c->st->stats.nacked++;
	send_nack(lc, c->port, &c->mac, c->ip_be, c->udp_be, c->epoch, seq, reason, retry_us);
}

static void send_ack(struct dp_lcore *lc, const struct dp_conn *c, uint64_t cum, uint64_t base,
		     uint64_t bitmap)
{
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .seq = cum};

	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac, c->ip_be,
			     c->udp_be, GW_HDR_LEN + GW_ACK_BODY_LEN, &pl);
	if (unlikely(m == NULL)) {
		dp_count_drop(lc, DP_DROP_NO_MBUF);
		return;
	}
	gw_wire_encode_ack(pl, GW_HDR_LEN + GW_ACK_BODY_LEN, &h, base, bitmap);
	dp_pkt_finish_udp_tx(m, &rt->ports[c->port]);
	lc->stats.acks_sent++;
	dp_tx(lc, c->port, m);
}

/* ---- ACK batching: one ACK per origin per burst ----------------------------- */

static void flush_acks(struct dp_lcore *lc)
{
	unsigned i;

	for (i = 0; i < lc->n_ack; i++) {
		const struct dp_conn *c = dp_conn_get(lc->rt, lc->ack_list[i]);
		struct dp_conn_state *st;
		uint64_t cum, b, hi;

		if (unlikely(c == NULL || !c->up))
			continue;
		st = c->st;
		cum = dp_dedup_cum(&st->win);
		b = st->ack_lo > cum ? st->ack_lo : cum + 1;
		hi = st->ack_hi > b ? st->ack_hi : b;
		/* Usually one frame: the cumulative point covers in-order
		 * traffic and the bitmap the rest of this burst. */
		for (; b <= hi; b += GW_ACK_BITMAP_BITS) {
			uint64_t bm = dp_dedup_ack_bitmap(&st->win, b);

			if (bm == 0 && b != cum + 1)
				continue;
			send_ack(lc, c, cum, b, bm);
		}
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

/* ---- egress: custody and transmission ------------------------------------- */

static inline void active_add(struct dp_lcore *lc, struct dp_conn_state *ds)
{
	if (ds->act_pprev != NULL)
		return;
	ds->act_next = lc->active;
	if (lc->active != NULL)
		lc->active->act_pprev = &ds->act_next;
	ds->act_pprev = &lc->active;
	lc->active = ds;
}

static inline void active_del(struct dp_conn_state *ds)
{
	*ds->act_pprev = ds->act_next;
	if (ds->act_next != NULL)
		ds->act_next->act_pprev = ds->act_pprev;
	ds->act_next = NULL;
	ds->act_pprev = NULL;
}

static int send_data(struct dp_lcore *lc, const struct dp_conn *c, struct dp_cslot *sl,
		     uint64_t seq, int retx)
{
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *m = sl->m;
	const struct dp_port_addr *pa = &rt->ports[c->port];
	struct gw_hdr_args h = {
		.flags = retx ? GW_F_RETRANSMIT : 0,
		.sender = GW_CONN_ID_ROUTER,
		.epoch = c->epoch,
		.seq = seq,
	};

	/* The custody mbuf itself is transmitted, with a reference of
	 * custody's own kept, so nothing is copied. Its headers may be
	 * rewritten (a retransmission, a new session's address) only once the
	 * PMD has let go of the previous transmission: until then the
	 * retransmission waits for the next scan. */
	if (unlikely(rte_mbuf_refcnt_read(m) != 1))
		return -EBUSY;
	if (!sl->hdrs) {
		if (unlikely(rte_pktmbuf_prepend(m, DP_PKT_HDRS) == NULL)) {
			dp_count_drop(lc, DP_DROP_NO_MBUF);
			return -ENOSPC;
		}
		sl->hdrs = 1;
	}
	gw_wire_rewrite_hdr(rte_pktmbuf_mtod_offset(m, uint8_t *, DP_PKT_HDRS), &h);
	dp_pkt_write_udp(m, pa, rt->udp_be, &c->mac, c->ip_be, c->udp_be);
	m->ol_flags = 0;
	dp_pkt_finish_udp_tx(m, pa);
	rte_mbuf_refcnt_update(m, 1);
	sl->tx_tsc = lc->now;
	sl->tries++;
	if (retx) {
		c->st->stats.retransmits++;
		lc->stats.retransmits++;
	} else {
		c->st->stats.tx_data++;
		lc->stats.tx_data++;
		if (unlikely(lc->tun->stage_stats) && rt->rx_tsc_off >= 0) {
			uint64_t rx = *RTE_MBUF_DYNFIELD(m, rt->rx_tsc_off, uint64_t *);
			uint64_t now = rte_rdtsc();

			if (rx != 0 && rx <= now)
				dp_hist_add(lc->stats.residence, now - rx);
		}
	}
	dp_tx(lc, c->port, m);
	return 0;
}

/* The first retransmission timeout for a destination: RFC 6298 from its
 * measured round trips once there are any, the configured rto_us before. */
static inline uint32_t dest_rto_us(const struct dp_lcore *lc, const struct dp_conn_state *ds)
{
	uint64_t rto;

	if (ds->srtt_us == 0)
		return lc->tun->rto_us;
	rto = (uint64_t)ds->srtt_us + 4ull * ds->rttvar_us;
	if (rto < DP_MIN_RTO_US)
		rto = DP_MIN_RTO_US;
	if (rto > lc->tun->rto_max_us)
		rto = lc->tun->rto_max_us;
	return (uint32_t)rto;
}

static void rtt_sample(struct dp_lcore *lc, struct dp_conn_state *ds, uint64_t tx_tsc)
{
	uint64_t r = (lc->now - tx_tsc) * 1000000u / lc->rt->tsc_hz;
	uint32_t rtt = r > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)r;

	if (ds->srtt_us == 0) {
		ds->srtt_us = rtt ? rtt : 1;
		ds->rttvar_us = rtt / 2;
		return;
	}
	/* RFC 6298: beta 1/4, alpha 1/8. */
	ds->rttvar_us = (3 * ds->rttvar_us + (rtt > ds->srtt_us ? rtt - ds->srtt_us
								 : ds->srtt_us - rtt)) / 4;
	ds->srtt_us = (7 * ds->srtt_us + rtt) / 8;
	if (ds->srtt_us == 0)
		ds->srtt_us = 1;
}

/* Send never-transmitted messages while the destination's window allows. */
static void egress_push(struct dp_lcore *lc, const struct dp_conn *c, struct dp_conn_state *ds)
{
	struct dp_custody *cu = ds->cust;
	uint32_t win = c->rx_window;

	while (cu->next_tx != cu->tail && dp_custody_inflight(cu) < win) {
		struct dp_cslot *sl = dp_custody_slot(cu, cu->next_tx);

		sl->rto_us = dest_rto_us(lc, ds);
		if (send_data(lc, c, sl, cu->next_tx, 0) != 0)
			return;
		cu->next_tx++;
	}
}

static int conn_up(void *ctx, uint32_t id)
{
	const struct dp_conn *c = dp_conn_get(ctx, id);

	return c != NULL && c->up && c->enabled;
}

/* Retransmit what timed out, and everything in flight when the session is
 * new (the destination came back: Guarantee 4). */
static int custody_take(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m);

/* Give @m (a DATA frame from the custody of a down destination) to the
 * custody of @nc instead. A move between workers cannot be refused for the
 * operator's limit (the message was acknowledged long ago), only if the
 * receiving ring is full; see ho_custody(). */
static int move_to(struct dp_lcore *lc, const struct dp_conn *nc, struct rte_mbuf *m)
{
	if (nc->owner == lc->idx)
		return custody_take(lc, nc, m);
	{
		struct dp_ho_item it = {.pkt = m, .conn = nc->id, .op = DP_HO_CUSTODY,
					.arg = DP_HO_ARG_MOVE};

		return dp_handoff_send(lc->rt->ho_msg, lc->idx, nc->owner, &it, 1) == 1 ? 0 : -1;
	}
}

/*
 * Failover (Guarantee 3): while a destination is down, messages queued for
 * it and never transmitted may move to the best connector that is up for
 * their route. Transmitted ones never move (that could deliver them twice).
 * Moves are taken from the tail so the destination's egress link seqs stay
 * contiguous: a hole would stall its cumulative window forever.
 */
static void egress_failover(struct dp_lcore *lc, struct dp_conn_state *ds)
{
	struct dp_custody *cu = ds->cust;

	while (cu->tail != cu->next_tx) {
		struct dp_cslot *sl = dp_custody_slot(cu, cu->tail - 1);
		const uint8_t *fr = rte_pktmbuf_mtod(sl->m, const uint8_t *);
		const struct gw_wire_data *d = (const struct gw_wire_data *)(fr + GW_HDR_LEN);
		uint64_t oseq = rte_be_to_cpu_64(d->origin_seq);
		uint32_t origin = rte_be_to_cpu_32(d->origin);
		uint64_t hash = (oseq * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)origin << 17);
		const struct dp_route *r;
		const struct dp_conn *nc;
		uint32_t id;

		r = dp_route_lookup(lc->rt->routes, fr + GW_HDR_LEN + GW_DATA_FIXED_LEN,
				    rte_be_to_cpu_16(d->dest_len));
		if (r == NULL)
			return;
		id = dp_rm_select(r->targets, r->n_targets, conn_up, lc->rt, hash);
		if (id == 0 || id == ds->id)
			return;
		nc = dp_conn_get(lc->rt, id);
		if (nc == NULL || move_to(lc, nc, sl->m) != 0)
			return;
		sl->m = NULL;
		cu->tail--;
		cu->held--;
		ds->stats.moved++;
		lc->stats.moved++;
	}
}

static void egress_scan(struct dp_lcore *lc, struct dp_conn_state *ds)
{
	const struct dp_conn *c = dp_conn_get(lc->rt, ds->id);
	struct dp_custody *cu = ds->cust;
	uint64_t s;
	int resend_all = 0, probed = 0, silent;

	if (c == NULL)
		return;
	if (!c->up) {
		/* Held in custody until the session returns; after a grace of
		 * one keepalive interval, never-sent ones may fail over. */
		if (ds->down_tsc == 0)
			ds->down_tsc = lc->now;
		else if (lc->now - ds->down_tsc > us_to_tsc(lc, lc->tun->keepalive_ms * 1000ull))
			egress_failover(lc, ds);
		return;
	}
	ds->down_tsc = 0;
	if (c->epoch != ds->tx_epoch) {
		ds->tx_epoch = c->epoch;
		resend_all = 1;
	}
	silent = lc->now - ds->ack_tsc >= us_to_tsc(lc, dest_rto_us(lc, ds));
	for (s = cu->head; s != cu->next_tx; s++) {
		struct dp_cslot *sl = dp_custody_slot(cu, s);

		if (sl->m == NULL)
			continue;
		if (!resend_all && lc->now - sl->tx_tsc < us_to_tsc(lc, sl->rto_us))
			continue;
		/* Beyond what the destination has reported on: still in
		 * flight or queued at a busy receiver, not known lost (as
		 * RACK). While it keeps acknowledging, wait; when it falls
		 * silent, probe with the oldest such message only (as TCP's
		 * RTO recovery): its answer reports the rest. Seqs are sent in
		 * order, so everything after this one is unreported too. */
		if (!resend_all && s > ds->ack_horizon + GW_ACK_BITMAP_BITS) {
			if (!silent || probed)
				break;
			probed = 1;
		}
		/* Still in a TX queue from the last time: its turn comes at
		 * the next scan; the others need not wait for it. */
		if (send_data(lc, c, sl, s, 1) != 0)
			continue;
		sl->rto_us = sl->rto_us * 2 > lc->tun->rto_max_us ? lc->tun->rto_max_us
								  : sl->rto_us * 2;
	}
	egress_push(lc, c, ds);
}

static void egress_scan_all(struct dp_lcore *lc)
{
	struct dp_conn_state *ds = lc->active, *next;

	for (; ds != NULL; ds = next) {
		next = ds->act_next;
		if (dp_custody_empty(ds->cust)) {
			active_del(ds);
			continue;
		}
		egress_scan(lc, ds);
	}
}

/* Take @m (a DATA frame, L2-L4 stripped) into @dc's custody. */
static int custody_take(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m)
{
	struct dp_conn_state *ds = dc->st;

	if (dp_custody_put(ds->cust, m, lc->tun->custody_limit) == 0)
		return -1;
	active_add(lc, ds);
	/* First transmission right away when the session is up and the
	 * window open; otherwise the scan sends it later. */
	if (dc->up && ds->tx_epoch == dc->epoch)
		egress_push(lc, dc, ds);
	return 0;
}

static void egress_ack(struct dp_lcore *lc, struct rte_mbuf *m, const struct gw_frame *f,
		       const struct dp_conn *c)
{
	struct dp_conn_state *ds = c->st;
	int n;

	uint64_t karn;

	/* Frames of an old session are ignored and counted, ACKs too: what
	 * they acknowledge is retransmitted in the new session and the
	 * destination's window recognises it. */
	if (unlikely(f->epoch != c->epoch)) {
		dp_drop(lc, m, DP_DROP_STALE_EPOCH);
		return;
	}
	n = dp_custody_ack(ds->cust, f->seq, f->u.ack.base, f->u.ack.bitmap, &karn);
	if (unlikely(n < 0)) {
		dp_drop(lc, m, DP_DROP_BAD_ACK);
		return;
	}
	if (karn != 0 && karn <= lc->now)
		rtt_sample(lc, ds, karn);
	{
		uint64_t top = f->u.ack.bitmap != 0
				       ? f->u.ack.base + 63 - (uint64_t)__builtin_clzll(f->u.ack.bitmap)
				       : 0;

		if (f->seq > top)
			top = f->seq;
		if (top > ds->ack_horizon)
			ds->ack_horizon = top;
		ds->ack_tsc = lc->now;
	}
	rte_pktmbuf_free(m);
	ds->stats.delivered += (unsigned)n;
	lc->stats.delivered += (unsigned)n;
	if (c->up && c->epoch == ds->tx_epoch)
		egress_push(lc, c, ds);
}

/* ---- ingress -------------------------------------------------------------- */

/* Choose the destination connector: lowest-cost up connector; if none is
 * up, the lowest-cost one that exists holds the message in custody until
 * its session returns (bounded: BUSY past the custody limit). */
static const struct dp_conn *choose_dest(struct dp_lcore *lc, const struct dp_route *r,
					 uint64_t hash)
{
	uint32_t id = dp_rm_select(r->targets, r->n_targets, conn_up, lc->rt, hash);
	unsigned i;

	if (id != 0)
		return dp_conn_get(lc->rt, id);
	for (i = 0; i < r->n_targets; i++) {
		const struct dp_conn *c = dp_conn_get(lc->rt, r->targets[i].conn_id);

		if (c != NULL && c->enabled)
			return c;
	}
	return NULL;
}

/*
 * Ingress runs in two steps per burst so that route lookups go in bulk:
 * ingress_data() checks the session and the duplicate window and marks a
 * new message pending at once (a second copy later in the same burst is
 * then recognised); ingress_flush() looks up every pending destination in
 * one dp_route_lookup_bulk() call and takes custody or refuses.
 */
static void ingress_flush(struct dp_lcore *lc);

static void ingress_data(struct dp_lcore *lc, unsigned p, struct rte_mbuf *m,
			 const struct gw_frame *f, const struct dp_conn *c,
			 const struct dp_pkt_src *src)
{
	struct dp_conn_state *st = c->st;
	struct dp_pending *pd;
	uint64_t seq = f->seq;

	st->stats.rx_data++;
	lc->stats.rx_data++;
	if (unlikely(!c->up || f->epoch != c->epoch)) {
		/* Answer the address it came from: the session's may be stale. */
		send_nack(lc, p, &src->mac, src->ip_be, src->udp_be, f->epoch, seq,
			  GW_NACK_NO_SESSION, 0);
		dp_drop(lc, m, DP_DROP_NO_SESSION);
		return;
	}
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
		st->stats.dups++;
		lc->stats.dups++;
		ack_add(lc, st, seq);
		rte_pktmbuf_free(m);
		return;
	case DP_DEDUP_PENDING:
		st->stats.dups++;
		lc->stats.dups++;
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
	uint64_t hash = (seq * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)c->id << 17);

	dc = r != NULL ? choose_dest(lc, r, hash) : NULL;
	if (unlikely(dc == NULL)) {
		dp_dedup_clear_pending(&st->win, seq);
		nack_conn(lc, c, seq, GW_NACK_NO_ROUTE, 0);
		dp_drop(lc, m, DP_DROP_NO_ROUTE);
		return;
	}
	if (dc->owner == lc->idx) {
		if (custody_take(lc, dc, m) != 0)
			goto busy;
		dp_dedup_set_done(&st->win, seq);
		st->stats.routed++;
		lc->stats.routed++;
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
			lc->stats.handoffs++;
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
	lc->stats.rx_frames++;
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
			lc->stats.steered++;
			return;
		}
		if (f.type == GW_T_DATA)
			ingress_data(lc, p, m, &f, c, src);
		else
			egress_ack(lc, m, &f, c);
		return;
	case GW_T_HELLO:
	case GW_T_KEEPALIVE:
	case GW_T_BYE:
		if (rte_ring_mp_enqueue(lc->rt->ctl_ring, m) != 0) {
			dp_drop(lc, m, DP_DROP_CTL_FULL);
			return;
		}
		lc->stats.ctl_frames++;
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
			lc->stats.arp_replies++;
		else
			lc->stats.icmp_replies++;
		dp_tx(lc, p, m);
		return;
	default:
		dp_drop(lc, m, why);
		return;
	}
}

/* ---- hand-offs from other workers ----------------------------------------- */

static unsigned port_index(const struct dp_router *rt, uint16_t port_id)
{
	unsigned i;

	for (i = 0; i < rt->n_ports; i++)
		if (rt->ports[i].port_id == port_id)
			return i;
	return 0;
}

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
			active_add(lc, dc->st);
			return;
		}
		/* Nowhere to keep it: counted, and the origin is told. */
		dp_drop(lc, m, DP_DROP_MOVE_FAILED);
		dc = dp_conn_get(lc->rt, v.conn);
		if (dc != NULL && dc->up)
			send_nack(lc, dc->port, &dc->mac, dc->ip_be, dc->udp_be, dc->epoch, v.seq,
				  GW_NACK_EXPIRED, 0);
		return;
	}
	if (dc == NULL) {
		v.arg = GW_NACK_NO_ROUTE;
		rte_pktmbuf_free(m);
	} else if (custody_take(lc, dc, m) != 0) {
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
		st->stats.routed++;
		lc->stats.routed++;
		ack_add(lc, st, it->seq);
		return;
	}
	dp_dedup_clear_pending(&st->win, it->seq);
	dp_count_drop(lc, it->arg == GW_NACK_BUSY ? DP_DROP_BUSY : DP_DROP_NO_ROUTE);
	if (c->up)
		nack_conn(lc, c, it->seq, it->arg,
			  it->arg == GW_NACK_BUSY ? lc->tun->busy_retry_us : 0);
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
				rx_frame(lc, port_index(rt, m->port), m, dp_pkt_gw(m),
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

/* Connector states the control thread is deleting: the connector is
 * already unpublished and a grace period has passed, so only this worker's
 * active list may still point at the state. Forget it and say so. */
static void drain_ctl_cmd(struct dp_lcore *lc)
{
	struct dp_conn_state *st;

	while (rte_ring_sc_dequeue(lc->rt->ctl_cmd[lc->idx], (void **)&st) == 0) {
		if (st->act_pprev != NULL)
			active_del(st);
		__atomic_store_n(&st->retired, 1, __ATOMIC_RELEASE);
	}
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
	while (!rt->stop) {
		unsigned burst, work = 0;

		/* Nothing from the previous iteration is referenced any more. */
		rcu_quiescent_state();
		lc->tun = rcu_dereference(rt->tun);
		burst = lc->tun->burst;
		lc->now = rte_rdtsc();
		lc->stage_t0 = lc->now;
		lc->stats.loops++;

		for (p = 0; p < rt->n_ports; p++) {
			uint16_t nb = rte_eth_rx_burst(rt->ports[p].port_id, lc->idx, pkts, burst);
			uint16_t i;

			stage_mark(lc, DP_STAGE_RX);
			if (nb == 0)
				continue;
			work += nb;
			lc->stats.rx_pkts += nb;
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
		ingress_flush(lc);
		if (rt->n_workers > 1) {
			drain_handoffs(lc);
			stage_mark(lc, DP_STAGE_HANDOFF);
			ingress_flush(lc);
		}
		if (unlikely(rte_ring_count(rt->ctl_tx[lc->idx]) != 0))
			work += drain_ctl_tx(lc);
		if (unlikely(rte_ring_count(rt->ctl_cmd[lc->idx]) != 0))
			drain_ctl_cmd(lc);
		if (lc->n_ack != 0) {
			work++;
			stage_mark(lc, DP_STAGE_HANDOFF);
			flush_acks(lc);
			stage_mark(lc, DP_STAGE_ACK);
		}
		if (lc->now >= lc->next_scan) {
			egress_scan_all(lc);
			lc->next_scan = lc->now + scan_tsc;
		}
		dp_tx_flush(lc);
		stage_mark(lc, DP_STAGE_TX);
		if (work)
			lc->stats.busy_loops++;
		if (unlikely(lc->tun->stage_stats)) {
			unsigned s;

			if (work) {
				lc->stats.busy_cycles += lc->stage_t0 - lc->now;
				for (s = 0; s < DP_STAGE_COUNT; s++)
					lc->stats.stage_cycles[s] += lc->stage_acc[s];
			}
			memset(lc->stage_acc, 0, sizeof(lc->stage_acc));
		}
	}
	rcu_unregister_thread();
	return 0;
}
