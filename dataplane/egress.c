/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress: what the owner of a destination connector does with the messages
 * in its custody. First transmission as soon as the destination's window
 * allows; retransmission on an adaptive timeout (RFC 6298, Karn's rule),
 * limited RACK-like to what the destination has reported on while it keeps
 * acknowledging; everything in flight again when its session is new; and,
 * while it is down, failover of never-transmitted messages to the next-best
 * connector. Headers come from the destination's template; custody's mbuf
 * never leaves this worker (send_data(), custody.h).
 *
 * Owner worker only: no locks, no atomics shared with other workers.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_memcpy.h>

#include <gwart/wire.h>

#include "egress.h"
#include "group.h"
#include "groups.h"
#include "handoff.h"
#include "io.h"
#include "pkt.h"
#include "route.h"
#include "route_match.h"

void dp_egress_activate(struct dp_lcore *lc, struct dp_conn_state *ds)
{
	if (ds->act_pprev != NULL)
		return;
	ds->act_next = lc->active;
	if (lc->active != NULL)
		lc->active->act_pprev = &ds->act_next;
	ds->act_pprev = &lc->active;
	lc->active = ds;
}

void dp_egress_forget(struct dp_conn_state *ds)
{
	*ds->act_pprev = ds->act_next;
	if (ds->act_next != NULL)
		ds->act_next->act_pprev = ds->act_pprev;
	ds->act_next = NULL;
	ds->act_pprev = NULL;
}

/*
 * Transmit the custody frame of @sl (link seq @seq) to @c, its header and
 * trailer counter rewritten, headers from @c's template, sealed at flush.
 *
 * Custody's mbuf never leaves this worker. A first transmission sends the
 * frame as received, in place (its lines are in this worker's cache from
 * its reception and checks; nothing on this core touches it again), and
 * custody keeps a copy in a mbuf of its own, allocated and freed here only.
 * A retransmission sends a copy in a fresh mbuf. So no other core ever
 * writes a line custody holds (main transmitted the custody mbuf itself
 * with its reference count raised: the count's line went to whichever core
 * freed the transmission, and the free on the destination's ACK waited for
 * it), and a frame in a TX queue is never rewritten. A fresh mbuf for every
 * transmission instead (the first ones too) measured slower on the
 * two-core benchmark: its header and data lines were last written by the
 * core that freed it, and touching them stalled the worker.
 *
 * 0, or <0 with nothing sent and nothing in custody changed (no session:
 * -EAGAIN; no mbuf: -ENOMEM, counted NO_MBUF): the caller's next scan
 * retries.
 */
static int send_data(struct dp_lcore *lc, const struct dp_conn *c, struct dp_cslot *sl,
		     uint64_t seq, int retx)
{
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *cm = sl->m, *m, *keep = NULL;
	const uint8_t *src = rte_pktmbuf_mtod(cm, const uint8_t *);
	uint16_t len = (uint16_t)(src[4] << 8 | src[5]);
	/* Never transmitted (retx 0: tries 0), so never shared. Headroom for
	 * the headers is checked at ingress (TOO_BIG); without it, a copy. */
	int in_place = !retx && rte_pktmbuf_headroom(cm) >= DP_PKT_HDRS;
	uint8_t *fr;
	/* A chunk keeps GW_F_CHUNK (gw_wire_rewrite_hdr() keeps the bit, and
	 * the checksum is summed from these flags: they must say the same). */
	struct gw_hdr_args h = {
		.flags = (uint16_t)((retx ? GW_F_RETRANSMIT : 0) | (dp_frame_flags(src) & GW_F_CHUNK)),
		.sender = GW_CONN_ID_ROUTER,
		.epoch = c->epoch,
		.seq = seq,
	};

	if (in_place) {
		/* Custody's copy: the frame alone, as custody holds frames. */
		m = keep = dp_tx_mbuf(lc);
		if (likely(keep != NULL) && unlikely(rte_pktmbuf_append(keep, len) == NULL)) {
			rte_pktmbuf_free(keep);
			m = NULL;
		}
	} else {
		m = dp_tx_alloc(lc, len, &fr);
	}
	if (unlikely(m == NULL)) {
		dp_count_drop(lc, DP_DROP_NO_MBUF);
		return -ENOMEM;
	}
	/* v2: every transmission has a counter of its own and a new tag
	 * (dp_tx_sealed(): sealed at flush); without a session nothing
	 * leaves. Taken after the allocation, so that a failed one spends no
	 * counter. */
	h.ctr = dp_tx_ctr(lc, c);
	if (unlikely(h.ctr == 0)) {
		rte_pktmbuf_free(m); /* a buffer never written, not a packet */
		return -EAGAIN;
	}
	if (in_place) {
		rte_memcpy(rte_pktmbuf_mtod(keep, uint8_t *), src, len);
		dp_pkt_put_data_in_place(cm, &c->tmpl, len, sl->csum, &h);
		sl->m = keep;
		m = cm;
	} else {
		dp_pkt_put_data(m, &c->tmpl, src, len, sl->csum, &h);
	}
	sl->tx_tsc = lc->now;
	sl->tries++;
	if (retx) {
		DP_COUNT_INC(c->st->stats.retransmits);
		DP_COUNT_INC(lc->stats.retransmits);
	} else {
		DP_COUNT_INC(c->st->stats.tx_data);
		DP_COUNT_INC(lc->stats.tx_data);
		if (unlikely(sl->grp != 0)) {
			/* Transmitted: from now on its group never fails over. */
			struct dp_group *g = dp_group_at(&lc->grp_d, sl->grp);

			if (g != NULL)
				g->sent++;
		}
		if (unlikely(lc->tun->stage_stats) && rt->rx_tsc_off >= 0) {
			uint64_t rx = *RTE_MBUF_DYNFIELD(m, rt->rx_tsc_off, uint64_t *);
			uint64_t now = rte_rdtsc();

			if (rx != 0 && rx <= now)
				DP_COUNT_INC(lc->stats.residence[dp_hist_index(now - rx)]);
		}
	}
	dp_tx_sealed(lc, c->port, m, c->auth);
	return 0;
}

/* The first retransmission timeout for a destination: RFC 6298 from its
 * measured round trips once there are any, the configured rto_us before. */
static inline uint32_t dest_rto_us(const struct dp_lcore *lc, const struct dp_conn_state *ds)
{
	return dp_rtt_rto_us(&ds->rtt, lc->tun->rto_us, DP_MIN_RTO_US, lc->tun->rto_max_us);
}

static void rtt_sample(struct dp_lcore *lc, struct dp_conn_state *ds, uint64_t tx_tsc)
{
	dp_rtt_sample_us(&ds->rtt, (lc->now - tx_tsc) * 1000000u / lc->rt->tsc_hz);
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

int dp_egress_conn_up(void *ctx, uint32_t id)
{
	const struct dp_conn *c = dp_conn_get(ctx, id);

	return c != NULL && c->up && c->enabled;
}

/* Give @m (a DATA frame from the custody of a down destination) to the
 * custody of @nc instead. A move between workers cannot be refused for the
 * operator's limit (the message was acknowledged long ago), only if the
 * receiving ring is full; see ho_custody(). A chunk is taken as a move
 * (dp_egress_take_move(): its group's reservation made beyond the
 * operator's bounds, up to the ring) on either side. */
int dp_egress_move_to(struct dp_lcore *lc, const struct dp_conn *nc, struct rte_mbuf *m)
{
	if (nc->owner == lc->idx) {
		if (unlikely(dp_frame_flags(rte_pktmbuf_mtod(m, const uint8_t *)) & GW_F_CHUNK))
			return dp_egress_take_move(lc, nc, m);
		return dp_egress_take(lc, nc, m) == 0 ? 0 : -1;
	}
	{
		struct dp_ho_item it = {.pkt = m, .conn = nc->id, .op = DP_HO_CUSTODY,
					.arg = DP_HO_ARG_MOVE};

		return dp_handoff_send(lc->rt->ho_msg, lc->idx, nc->owner, &it, 1) == 1 ? 0 : -1;
	}
}

/* Take never-transmitted @seq out of @cu (dp_custody_unqueue()), its bytes
 * out of this worker's share too. */
void dp_egress_unqueue(struct dp_lcore *lc, struct dp_custody *cu, uint64_t seq)
{
	uint32_t b = dp_custody_slot(cu, seq)->bytes;

	if (dp_custody_unqueue(cu, seq) != NULL)
		lc->cust_bytes -= b <= lc->cust_bytes ? b : lc->cust_bytes;
}

/*
 * Failover (Guarantee 3): while a destination is down, messages queued for
 * it and never transmitted may move to the best connector that is up for
 * their route. Transmitted ones never move (that could deliver them twice).
 * A chunk moves only with its whole group, and only while none of the
 * group was transmitted and all of it is here (dp_egress_group_failover():
 * a group is routed as one message). Walked from the tail down; what moves
 * leaves a hole, closed at the end (dp_custody_compact(): those seqs were
 * never sent, so the destination's egress link seqs stay contiguous).
 */
static void egress_failover(struct dp_lcore *lc, struct dp_conn_state *ds)
{
	struct dp_custody *cu = ds->cust;
	uint64_t s = cu->tail;

	while (s != cu->next_tx) {
		struct dp_cslot *sl = dp_custody_slot(cu, --s);
		const uint8_t *fr;
		const struct gw_wire_data *d;
		uint64_t oseq;
		uint32_t origin;
		const struct dp_route *r;
		const struct dp_conn *nc;
		uint32_t id;

		/* A hole: a chunk of a group moved in this pass. */
		if (sl->m == NULL)
			continue;
		if (unlikely(sl->grp != 0)) {
			if (dp_egress_group_failover(lc, ds, sl->grp, s) != 0)
				break;
			continue;
		}
		fr = rte_pktmbuf_mtod(sl->m, const uint8_t *);
		d = (const struct gw_wire_data *)(fr + GW_HDR_LEN);
		oseq = rte_be_to_cpu_64(d->origin_seq);
		origin = rte_be_to_cpu_32(d->origin);

		r = dp_route_lookup(lc->rt->routes, fr + GW_HDR_LEN + GW_DATA_FIXED_LEN,
				    rte_be_to_cpu_16(d->dest_len));
		if (r == NULL)
			break;
		/* Only to a connector that is up: one that merely exists
		 * would hold it as this one does. */
		id = dp_rm_choose(r->targets, r->n_targets, dp_egress_conn_up, NULL, lc->rt,
				  dp_rm_msg_hash(origin, oseq));
		if (id == 0 || id == ds->id)
			break;
		nc = dp_conn_get(lc->rt, id);
		if (nc == NULL)
			break;
		/* The router acknowledged it because it fitted this
		 * destination's port: another port may have a smaller MTU
		 * (the ingress TOO_BIG check, again). It stays here, counted,
		 * until this destination returns. */
		if (unlikely((uint32_t)rte_be_to_cpu_16(((const struct gw_wire_hdr *)fr)->length) +
				     28u >
			     lc->rt->ports[nc->port].mtu)) {
			DP_COUNT_INC(lc->stats.failover_too_big);
			break;
		}
		if (dp_egress_move_to(lc, nc, sl->m) != 0)
			break;
		dp_egress_unqueue(lc, cu, s);
		DP_COUNT_INC(ds->stats.moved);
		DP_COUNT_INC(lc->stats.moved);
	}
	dp_custody_compact(cu);
}

/* Retransmit what timed out, and everything in flight when the session is
 * new (the destination came back: Guarantee 4). */
static void egress_scan(struct dp_lcore *lc, struct dp_conn_state *ds)
{
	const struct dp_conn *c = dp_conn_get(lc->rt, ds->id);
	struct dp_custody *cu = ds->cust;
	uint64_t s;
	int resend_all = 0, probed = 0, silent, rc;

	if (c == NULL)
		return;
	if (!c->up) {
		/* Held in custody until the session returns; after a grace of
		 * one keepalive interval, never-sent ones may fail over. */
		if (ds->down_tsc == 0)
			ds->down_tsc = lc->now;
		else if (lc->now - ds->down_tsc > dp_us_to_tsc(lc->rt, lc->tun->keepalive_ms * 1000ull))
			egress_failover(lc, ds);
		return;
	}
	ds->down_tsc = 0;
	if (c->epoch != ds->tx_epoch) {
		ds->tx_epoch = c->epoch;
		resend_all = 1;
	}
	silent = lc->now - ds->ack_tsc >= dp_us_to_tsc(lc->rt, dest_rto_us(lc, ds));
	for (s = cu->head; s != cu->next_tx; s++) {
		struct dp_cslot *sl = dp_custody_slot(cu, s);

		if (sl->m == NULL)
			continue;
		if (!resend_all && lc->now - sl->tx_tsc < dp_us_to_tsc(lc->rt, sl->rto_us))
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
		/* Not sent: timer and tries unchanged, its turn comes at the
		 * next scan. No mbuf (counted): the pool is empty, the others
		 * would fail too. */
		rc = send_data(lc, c, sl, s, 1);
		if (unlikely(rc == -ENOMEM))
			break;
		if (rc != 0)
			continue;
		sl->rto_us = sl->rto_us * 2 > lc->tun->rto_max_us ? lc->tun->rto_max_us
								  : sl->rto_us * 2;
	}
	egress_push(lc, c, ds);
}

void dp_egress_scan_all(struct dp_lcore *lc)
{
	struct dp_conn_state *ds = lc->active, *next;

	dp_group_scan(lc);

	for (; ds != NULL; ds = next) {
		next = ds->act_next;
		if (dp_custody_empty(ds->cust)) {
			dp_egress_forget(ds);
			continue;
		}
		egress_scan(lc, ds);
	}
}

/* Bytes a message of one frame holds of the byte bound: its payload. */
static inline uint32_t frame_bytes(const uint8_t *fr)
{
	return (uint32_t)(fr[GW_HDR_LEN + 14] << 8 | fr[GW_HDR_LEN + 15]);
}

void dp_egress_kick(struct dp_lcore *lc, const struct dp_conn *dc)
{
	struct dp_conn_state *ds = dc->st;

	dp_egress_activate(lc, ds);
	/* First transmission right away when the session is up and the
	 * window open; otherwise the scan sends it later. */
	if (dc->up && ds->tx_epoch == dc->epoch)
		egress_push(lc, dc, ds);
}

/* Take @m (a DATA frame, L2-L4 stripped) into @dc's custody. */
int dp_egress_take(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m)
{
	struct dp_conn_state *ds = dc->st;
	const uint8_t *fr = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t bytes;

	/* The one branch a message of one frame pays for groups. */
	if (unlikely(dp_frame_flags(fr) & GW_F_CHUNK))
		return dp_egress_take_chunk(lc, dc, m, 0);
	bytes = frame_bytes(fr);
	if (unlikely(!dp_egress_bytes_room(lc, ds->cust, bytes)))
		return DP_DROP_BUSY_BYTES;
	if (dp_custody_put_ex(ds->cust, m, lc->tun->custody_limit, bytes, 0) == 0)
		return DP_DROP_BUSY;
	lc->cust_bytes += bytes;
	dp_egress_kick(lc, dc);
	return 0;
}

int dp_egress_take_move(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m)
{
	struct dp_conn_state *ds = dc->st;
	const uint8_t *fr = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t bytes;

	if (dp_frame_flags(fr) & GW_F_CHUNK)
		return dp_egress_take_chunk(lc, dc, m, 1) == 0 ? 0 : -1;
	/* Acknowledged long ago: up to the ring, beyond the operator's
	 * bounds (messages and bytes). */
	bytes = frame_bytes(fr);
	if (dp_custody_put_ex(ds->cust, m, UINT32_MAX, bytes, 0) == 0)
		return -1;
	lc->cust_bytes += bytes;
	dp_egress_kick(lc, dc);
	return 0;
}

void dp_egress_ack(struct dp_lcore *lc, struct rte_mbuf *m, const struct gw_frame *f,
		       const struct dp_conn *c)
{
	struct dp_conn_state *ds = c->st;
	struct dp_custody_rel rel = {.chunk_done = dp_egress_chunk_done, .arg = lc};
	uint64_t karn;
	int n;

	/* Frames of an old session are ignored and counted, ACKs too: what
	 * they acknowledge is retransmitted in the new session and the
	 * destination's window recognises it. */
	if (unlikely(f->epoch != c->epoch)) {
		dp_drop(lc, m, DP_DROP_STALE_EPOCH);
		return;
	}
	n = dp_custody_ack_ex(ds->cust, f->seq, f->u.ack.base, f->u.ack.bitmap, &karn, &rel);
	if (unlikely(n < 0)) {
		dp_drop(lc, m, DP_DROP_BAD_ACK);
		return;
	}
	lc->cust_bytes -= rel.bytes <= lc->cust_bytes ? rel.bytes : lc->cust_bytes;
	/* A valid ACK that names nothing new (a repeat, an older cumulative
	 * point, reordered): allowed by the protocol, not an error, counted
	 * apart from BAD_ACK. */
	if (n == 0)
		DP_COUNT_INC(lc->stats.acks_ignored);
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
	DP_COUNT_ADD(ds->stats.delivered, (unsigned)n);
	DP_COUNT_ADD(lc->stats.delivered, (unsigned)n);
	if (c->up && c->epoch == ds->tx_epoch)
		egress_push(lc, c, ds);
}
