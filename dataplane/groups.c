/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Groups in progress as the router routes them (groups.h): a group is
 * routed as one message.
 *
 * Origin side (the origin's owner, lc->grp_o). The first chunk the router
 * accepts of (origin, group) chooses the destination (the route, its costs
 * and the group's hash: equal-cost sharing spreads groups, never splits
 * one); the entry keeps it, and every later chunk goes there whatever the
 * routes say by then. An entry lives while chunks of its group are still
 * to come: it goes when every chunk was accepted, or when the group fell
 * silent for group_timeout_ms. A chunk that finds no entry although some
 * chunk of its group was accepted (the duplicate window says so) belongs
 * to a group the router forgot: refused EXPIRED, never routed anew. A
 * chunk that cannot be tracked (the table, or the origin's share of it,
 * full) is refused BUSY, never routed some other way.
 *
 * Destination side (the destination's owner, lc->grp_d). The first chunk
 * of a group that reaches a destination's custody reserves the whole
 * group there (count slots, total_len bytes) or is refused (BUSY), so
 * that no chunk of an admitted group is refused for room afterwards: the
 * sender learns of a full custody before any of its group was
 * acknowledged. Chunks take what was reserved as they arrive; each slot
 * names its group (dp_cslot.grp), so transmissions and ACKs keep the count
 * of chunks held and sent. Failover moves a group only when all of it is
 * here and none of it was transmitted, and then all of it, to one
 * connector.
 *
 * Worker context only (groups.h).
 */
#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <gwart/wire.h>

#include "egress.h"
#include "groups.h"
#include "handoff.h"
#include "ingress.h"
#include "io.h"
#include "pkt.h"
#include "reply.h"
#include "route.h"
#include "route_match.h"

unsigned dp_drop_nack(unsigned why)
{
	switch (why) {
	case DP_DROP_BUSY:
	case DP_DROP_BUSY_BYTES:
	case DP_DROP_GROUPS_FULL:
		return GW_NACK_BUSY;
	case DP_DROP_TOO_BIG:
	case DP_DROP_MSG_TOO_BIG:
	case DP_DROP_GROUP_TOO_BIG:
		return GW_NACK_TOO_BIG;
	case DP_DROP_GROUP_MISMATCH:
	case DP_DROP_GROUP_EXPIRED:
		return GW_NACK_EXPIRED;
	default:
		return GW_NACK_NO_ROUTE;
	}
}

/* ---- origin side ----------------------------------------------------------- */

/* Refuse new message @pd: a NACK (BUSY ones with the retry hint), the
 * duplicate window's mark cleared (a retry is new again), counted. */
static void refuse(struct dp_lcore *lc, const struct dp_pending *pd, unsigned why)
{
	unsigned nack = dp_drop_nack(why);

	dp_dedup_clear_pending(&pd->c->st->win, pd->seq);
	dp_reply_nack_conn(lc, pd->c, pd->seq, nack,
			   nack == GW_NACK_BUSY ? lc->tun->busy_retry_us : 0);
	dp_drop(lc, pd->m, (enum dp_drop_reason)why);
}

/* The origin's state, if @g is still of the connector it was made for. */
static struct dp_conn_state *origin_st(struct dp_lcore *lc, const struct dp_group *g)
{
	const struct dp_conn *c = dp_conn_get(lc->rt, g->origin);

	return c != NULL && c->st == g->st ? c->st : NULL;
}

static void origin_del(struct dp_lcore *lc, struct dp_group *g)
{
	struct dp_conn_state *st = origin_st(lc, g);

	if (st != NULL && st->groups != 0)
		st->groups--;
	dp_group_del(&lc->grp_o, g);
}

/* A chunk of @g was refused: nothing of the group committed anywhere (no
 * chunk accepted, none awaiting a verdict) means the group may be routed
 * afresh by its next chunk. */
static void origin_unref(struct dp_lcore *lc, struct dp_group *g)
{
	if (g->done == 0 && g->busy == 0)
		origin_del(lc, g);
}

/* A chunk of @g was accepted into custody. */
static void origin_taken(struct dp_lcore *lc, struct dp_group *g)
{
	if (++g->done == 1)
		DP_COUNT_INC(lc->stats.groups_started);
	if (g->done >= g->count && g->busy == 0) {
		DP_COUNT_INC(lc->stats.groups_done);
		origin_del(lc, g);
	}
}

/* Was some chunk of @ck's group, other than @seq, accepted already? Seqs
 * at or below the window's cumulative point are done; within the window,
 * its bits say; beyond it nothing is done. At most DP_DEDUP_WINDOW checks,
 * only for a chunk that found no entry. */
static int group_seen(const struct dp_dedup *w, const struct gw_chunk_info *ck, uint64_t seq)
{
	uint64_t cum = dp_dedup_cum(w), s, end;

	if (ck->group <= cum)
		return 1;
	end = ck->group + (ck->count - 1);
	if (end < ck->group)
		end = UINT64_MAX;
	if (cum <= UINT64_MAX - DP_DEDUP_WINDOW && end > cum + DP_DEDUP_WINDOW)
		end = cum + DP_DEDUP_WINDOW;
	for (s = ck->group;; s++) {
		if (s != seq && dp_dedup_check(w, s) == DP_DEDUP_DUP)
			return 1;
		if (s == end)
			return 0;
	}
}

/* Would a reservation for @ck's group wait on messages before it? Its
 * origin may send no seq beyond cum + DP_DEDUP_WINDOW: a group ending
 * there can only complete once every earlier seq is taken, and an earlier
 * one (say the group before it, refused BUSY while another drained) may
 * need the very room this reservation would hold: both would wait until
 * group_timeout_ms, the later one lost with some chunks acknowledged. So
 * such a group is refused BUSY, before any chunk of it is acknowledged,
 * until its origin's earlier seqs are done (then it can complete alone,
 * beyond the window too: its own chunks move the window). */
static int group_blocked(const struct dp_dedup *w, const struct gw_chunk_info *ck)
{
	uint64_t cum = dp_dedup_cum(w), end = ck->group + (ck->count - 1);

	if (ck->group == 0 || cum >= ck->group - 1 || cum > UINT64_MAX - DP_DEDUP_WINDOW)
		return 0;
	if (end < ck->group)
		end = UINT64_MAX;
	return end > cum + DP_DEDUP_WINDOW;
}

/* The route's choice for a group: the group's hash, the same for all its
 * chunks (ingress.c's choice for one message hashes its seq). */
static const struct dp_conn *group_choose(struct dp_lcore *lc, const struct dp_route *r,
					  uint32_t origin, uint64_t group)
{
	return dp_ingress_choose(lc, r, origin, group);
}

void dp_group_route(struct dp_lcore *lc, const struct dp_pending *pd, const struct dp_route *r)
{
	const struct dp_conn *c = pd->c, *dc;
	struct dp_conn_state *st = c->st;
	const struct gw_chunk_info *ck = &pd->ck;
	struct rte_mbuf *m = pd->m;
	struct dp_group *g = dp_group_find(&lc->grp_o, c->id, ck->group);
	unsigned why;

	if (g != NULL) {
		if (unlikely(!dp_group_same(g, ck->total_len, ck->count, ck->chunk_len))) {
			refuse(lc, pd, DP_DROP_GROUP_MISMATCH);
			return;
		}
		/* The group's destination, whatever the route says now. */
		dc = dp_conn_get(lc->rt, g->dest);
		if (unlikely(dc == NULL || !dc->enabled)) {
			refuse(lc, pd, DP_DROP_GROUP_DEST_GONE);
			origin_unref(lc, g);
			return;
		}
	} else {
		if (unlikely(group_seen(&st->win, ck, pd->seq))) {
			refuse(lc, pd, DP_DROP_GROUP_EXPIRED);
			return;
		}
		if (unlikely(group_blocked(&st->win, ck))) {
			refuse(lc, pd, DP_DROP_BUSY);
			return;
		}
		dc = r != NULL ? group_choose(lc, r, c->id, ck->group) : NULL;
		if (unlikely(dc == NULL)) {
			refuse(lc, pd, DP_DROP_NO_ROUTE);
			return;
		}
		if (unlikely(st->groups >= DP_GROUPS_PER_ORIGIN ||
			     (g = dp_group_add(&lc->grp_o, c->id, ck->group)) == NULL)) {
			refuse(lc, pd, DP_DROP_GROUPS_FULL);
			return;
		}
		st->groups++;
		g->dest = dc->id;
		g->total_len = ck->total_len;
		g->count = ck->count;
		g->chunk_len = ck->chunk_len;
		g->st = st;
	}
	g->last_tsc = lc->now;
	/* As a message of one frame (ingress.c): it must leave within the
	 * destination's MTU, with room for its headers. */
	if (unlikely((uint32_t)rte_pktmbuf_data_len(m) + 28u > lc->rt->ports[dc->port].mtu ||
		     rte_pktmbuf_headroom(m) < DP_PKT_HDRS)) {
		refuse(lc, pd, DP_DROP_TOO_BIG);
		origin_unref(lc, g);
		return;
	}
	if (dc->owner == lc->idx) {
		why = (unsigned)dp_egress_take(lc, dc, m);
		if (why != 0) {
			refuse(lc, pd, why);
			origin_unref(lc, g);
			return;
		}
		dp_ingress_taken(lc, st, pd->seq);
		origin_taken(lc, g);
		return;
	}
	/* Another worker owns the destination: its verdict comes back
	 * (dp_group_verdict()); meanwhile the group counts the chunk busy, so
	 * that a refusal of another chunk does not forget the group. */
	if (lc->outstanding[dc->owner] < lc->ho_cap) {
		struct dp_ho_item it = {.pkt = m, .conn = dc->id, .op = DP_HO_CUSTODY};

		if (dp_handoff_send(lc->rt->ho_msg, lc->idx, dc->owner, &it, 1) == 1) {
			lc->outstanding[dc->owner]++;
			DP_COUNT_INC(lc->stats.handoffs);
			g->busy++;
			return;
		}
	}
	refuse(lc, pd, DP_DROP_BUSY);
	origin_unref(lc, g);
}

void dp_group_verdict(struct dp_lcore *lc, uint32_t origin, uint64_t group, int taken)
{
	struct dp_group *g = dp_group_find(&lc->grp_o, origin, group);

	if (g == NULL)
		return;
	if (g->busy != 0)
		g->busy--;
	if (taken)
		origin_taken(lc, g);
	else
		origin_unref(lc, g);
}

/* ---- destination side ------------------------------------------------------ */

/* Give back what @g still reserves in @cu (and this worker's share). */
static void dest_release(struct dp_lcore *lc, struct dp_custody *cu, struct dp_group *g)
{
	if (cu != NULL)
		dp_custody_reserve(cu, -1, g->resv_slots, g->resv_bytes);
	lc->cust_bytes -= g->resv_bytes <= lc->cust_bytes ? g->resv_bytes : lc->cust_bytes;
	g->resv_slots = 0;
	g->resv_bytes = 0;
}

int dp_egress_take_chunk(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m,
			 int move)
{
	struct dp_conn_state *ds = dc->st;
	struct dp_custody *cu = ds->cust;
	const struct dp_tunables *t = lc->tun;
	struct gw_chunk_info ck;
	struct dp_group *g;
	uint32_t origin, pl, num, limit = move ? UINT32_MAX : t->custody_limit;
	int fresh = 0;

	pl = dp_chunk_read(rte_pktmbuf_mtod(m, const uint8_t *), &ck, &origin);
	g = dp_group_find(&lc->grp_d, origin, ck.group);
	if (g == NULL) {
		/* The group's first chunk here: all of it, or none. */
		if (!move) {
			/* A group is one message: one larger than custody_limit
			 * slots is taken while nothing else is held (so it can
			 * pass at all), up to the ring. */
			uint32_t slot_limit = t->custody_limit > ck.count ? t->custody_limit : ck.count;

			if (ck.count > cu->mask + 1 || ck.total_len > t->custody_bytes ||
			    (uint64_t)ck.total_len * lc->rt->n_workers > t->custody_bytes_total)
				return DP_DROP_GROUP_TOO_BIG;
			if (!dp_custody_room(cu, slot_limit, ck.count))
				return DP_DROP_BUSY;
			if (!dp_egress_bytes_room(lc, cu, ck.total_len))
				return DP_DROP_BUSY_BYTES;
		} else if (!dp_custody_room(cu, UINT32_MAX, ck.count)) {
			return DP_DROP_BUSY;
		}
		g = dp_group_add(&lc->grp_d, origin, ck.group);
		if (g == NULL)
			return DP_DROP_GROUPS_FULL;
		g->dest = dc->id;
		g->total_len = ck.total_len;
		g->count = ck.count;
		g->chunk_len = ck.chunk_len;
		g->st = ds;
		g->resv_slots = ck.count;
		g->resv_bytes = ck.total_len;
		dp_custody_reserve(cu, +1, ck.count, ck.total_len);
		lc->cust_bytes += ck.total_len;
		fresh = 1;
	} else if (unlikely(!dp_group_same(g, ck.total_len, ck.count, ck.chunk_len) ||
			    g->dest != dc->id || g->st != ds)) {
		return DP_DROP_GROUP_MISMATCH;
	}
	num = dp_group_num(&lc->grp_d, g);
	if (g->resv_slots != 0) {
		/* Its slot and bytes were reserved: taken from the
		 * reservation, so this cannot be refused for room. */
		uint32_t x = pl <= g->resv_bytes ? pl : g->resv_bytes;

		dp_custody_reserve(cu, -1, 1, x);
		lc->cust_bytes -= x <= lc->cust_bytes ? x : lc->cust_bytes;
		g->resv_slots--;
		g->resv_bytes -= x;
		if (unlikely(dp_custody_put_ex(cu, m, UINT32_MAX, pl, num) == 0)) {
			/* Unreachable (the slot was reserved): undone all the same. */
			dp_custody_reserve(cu, +1, 1, x);
			lc->cust_bytes += x;
			g->resv_slots++;
			g->resv_bytes += x;
			goto busy;
		}
	} else {
		/* A late chunk of a group that expired here: nothing reserved
		 * any more, so it is charged as a message of its own. */
		if (!move && !dp_egress_bytes_room(lc, cu, pl))
			return DP_DROP_BUSY_BYTES;
		if (dp_custody_put_ex(cu, m, limit, pl, num) == 0)
			return DP_DROP_BUSY;
	}
	lc->cust_bytes += pl;
	g->done++;
	g->busy++;
	g->last_tsc = lc->now;
	/* All arrived: whatever a group of inconsistent lengths left reserved
	 * goes back (none for a valid group: the chunks sum to total_len). */
	if (g->done >= g->count && (g->resv_slots != 0 || g->resv_bytes != 0))
		dest_release(lc, cu, g);
	dp_egress_kick(lc, dc);
	return 0;
busy:
	if (fresh) {
		dest_release(lc, cu, g);
		dp_group_del(&lc->grp_d, g);
	}
	return DP_DROP_BUSY;
}

void dp_egress_chunk_done(void *arg, uint32_t grp)
{
	struct dp_lcore *lc = arg;
	struct dp_group *g = dp_group_at(&lc->grp_d, grp);

	if (g == NULL)
		return;
	if (g->busy != 0)
		g->busy--;
	if (g->busy == 0 && (g->done >= g->count || g->expired))
		dp_group_del(&lc->grp_d, g);
}

int dp_egress_group_failover(struct dp_lcore *lc, struct dp_conn_state *ds, uint32_t grp,
			     uint64_t seq)
{
	struct dp_custody *cu = ds->cust;
	struct dp_group *g = dp_group_at(&lc->grp_d, grp);
	const uint8_t *fr;
	const struct gw_wire_data *d;
	const struct dp_route *r;
	const struct dp_conn *nc;
	struct dp_group saved;
	uint32_t id, len, pl, moved = 0;
	uint64_t s;

	if (g == NULL)
		return 0;
	/* All of it here, none of it transmitted (nor acknowledged): else it
	 * stays, whole, for this destination. */
	if (g->sent != 0 || g->expired || g->done < g->count || g->busy != g->count) {
		DP_COUNT_INC(lc->stats.failover_group_kept);
		return 0;
	}
	fr = rte_pktmbuf_mtod(dp_custody_slot(cu, seq)->m, const uint8_t *);
	d = (const struct gw_wire_data *)(fr + GW_HDR_LEN);
	r = dp_route_lookup(lc->rt->routes, fr + GW_HDR_LEN + GW_DATA_FIXED_LEN,
			    rte_be_to_cpu_16(d->dest_len));
	if (r == NULL)
		return -1;
	/* One choice for the group, as its first chunk's (the group's hash),
	 * among connectors that are up. */
	id = dp_rm_choose(r->targets, r->n_targets, dp_egress_conn_up, NULL, lc->rt,
			  dp_rm_msg_hash(g->origin, g->group));
	if (id == 0 || id == ds->id)
		return -1;
	nc = dp_conn_get(lc->rt, id);
	if (nc == NULL)
		return -1;
	/* Its largest frame is a chunk of chunk_len payload bytes. */
	len = rte_be_to_cpu_16(((const struct gw_wire_hdr *)fr)->length);
	pl = rte_be_to_cpu_16(d->payload_len);
	if (unlikely(len - pl + g->chunk_len + 28u > lc->rt->ports[nc->port].mtu)) {
		DP_COUNT_INC(lc->stats.failover_too_big);
		return 0;
	}
	/* Room for all of it first, so that it never moves in part. */
	if (nc->owner != lc->idx) {
		if (dp_handoff_capacity(lc->rt->ho_msg) -
			    dp_handoff_count(lc->rt->ho_msg, lc->idx, nc->owner) <
		    g->busy)
			return -1;
	} else if (!dp_custody_room(nc->st->cust, UINT32_MAX, g->count)) {
		return -1;
	}
	/* Same worker: the group's entry at its new destination lives in this
	 * same table, under the same key, so the old one goes first. */
	saved = *g;
	if (nc->owner == lc->idx)
		dp_group_del(&lc->grp_d, g);
	for (s = cu->next_tx; s != cu->tail; s++) {
		struct dp_cslot *x = dp_custody_slot(cu, s);

		if (x->m == NULL || x->grp != grp)
			continue;
		if (dp_egress_move_to(lc, nc, x->m) != 0)
			break; /* room was checked: not expected */
		dp_egress_unqueue(lc, cu, s);
		moved++;
	}
	DP_COUNT_ADD(ds->stats.moved, moved);
	DP_COUNT_ADD(lc->stats.moved, moved);
	if (moved == saved.busy) {
		DP_COUNT_INC(lc->stats.groups_moved);
		if (nc->owner != lc->idx)
			dp_group_del(&lc->grp_d, g);
		return 0;
	}
	/* Not all of it moved (never, room having been checked): what stays
	 * keeps an entry of its own here, its slots renumbered to it. */
	if (nc->owner == lc->idx) {
		g = dp_group_add(&lc->grp_d, saved.origin, saved.group);
		if (g == NULL)
			g = dp_group_find(&lc->grp_d, saved.origin, saved.group);
	}
	if (g != NULL && g->dest == saved.dest) {
		uint32_t num = dp_group_num(&lc->grp_d, g);

		*g = saved;
		g->busy -= moved;
		for (s = cu->next_tx; s != cu->tail; s++)
			if (dp_custody_slot(cu, s)->grp == grp)
				dp_custody_slot(cu, s)->grp = num;
	}
	return -1;
}

/* ---- expiry ------------------------------------------------------------------ */

struct scan_arg {
	struct dp_lcore *lc;
	uint64_t tmo;
};

static void expire_origin(void *arg, struct dp_group *g)
{
	const struct scan_arg *a = arg;
	struct dp_lcore *lc = a->lc;

	/* Its origin was deleted: nobody sends its chunks any more. */
	if (origin_st(lc, g) == NULL) {
		dp_group_del(&lc->grp_o, g);
		return;
	}
	if (g->busy == 0 && lc->now - g->last_tsc > a->tmo) {
		DP_COUNT_INC(lc->stats.groups_expired);
		origin_del(lc, g);
	}
}

static void expire_dest(void *arg, struct dp_group *g)
{
	const struct scan_arg *a = arg;
	struct dp_lcore *lc = a->lc;
	const struct dp_conn *dc = dp_conn_get(lc->rt, g->dest);

	if (dc == NULL || dc->st != g->st) {
		/* Its destination was deleted, custody with it. */
		dest_release(lc, NULL, g);
		dp_group_del(&lc->grp_d, g);
		return;
	}
	if (!g->expired && g->done < g->count && lc->now - g->last_tsc > a->tmo) {
		dest_release(lc, dc->st->cust, g);
		g->expired = 1;
		DP_COUNT_INC(lc->stats.groups_expired);
	}
	if (g->busy == 0 && (g->expired || g->done >= g->count))
		dp_group_del(&lc->grp_d, g);
}

void dp_group_scan(struct dp_lcore *lc)
{
	struct scan_arg a = {
		.lc = lc,
		.tmo = dp_us_to_tsc(lc->rt, (uint64_t)lc->tun->group_timeout_ms * 1000u),
	};

	if (lc->grp_o.n != 0)
		dp_group_walk(&lc->grp_o, DP_GROUP_SCAN, expire_origin, &a);
	if (lc->grp_d.n != 0)
		dp_group_walk(&lc->grp_d, DP_GROUP_SCAN, expire_dest, &a);
}
