/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingress of session frames (ingress.h): checks in the order of
 * PROTOCOL.md, tags in bursts, the duplicate window, bulk routing, custody.
 */
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "auth_dev.h"
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
 * up, the lowest-cost one that holds (dp_rm_choose()). The message's
 * origin and seq spread it over an equal-cost group. */
const struct dp_conn *dp_ingress_choose(struct dp_lcore *lc, const struct dp_route *r,
				       uint32_t origin, uint64_t seq)
{
	uint32_t id;

	if (likely(r->n_targets == 1)) {
		/* dp_rm_choose() of one target, without its callbacks: up
		 * (dp_egress_conn_up(): exists, up, enabled) or else holding
		 * (conn_holds(): exists, enabled) is "exists, enabled". */
		const struct dp_conn *dc = dp_conn_get(lc->rt, r->targets[0].conn_id);

		return dc != NULL && dc->enabled ? dc : NULL;
	}
	id = dp_rm_choose(r->targets, r->n_targets, dp_egress_conn_up, conn_holds, lc->rt,
			  dp_rm_msg_hash(origin, seq));
	return id != 0 ? dp_conn_get(lc->rt, id) : NULL;
}

/*
 * Ingress runs in two steps per burst so that route lookups go in bulk:
 * ingress_data() checks the session and the duplicate window and marks a
 * new message pending at once (a second copy later in the same burst is
 * then recognised) and hashes its destination once (dp_rm_dest);
 * dp_ingress_flush() resolves every pending destination through the
 * worker's route cache, the misses in one bulk index lookup
 * (dp_route_lookup_dests()), and takes custody or refuses.
 */

/* A message above max_message (NACKed TOO_BIG), or a chunk of a group:
 * its total length against max_message, its count against what a custody
 * can ever hold (so that chunk indexes fit a verdict, handoff.h), then its
 * extension kept in @pd for the route stage (dp_group_route()). 0: go on. */
static int ingress_large(struct dp_lcore *lc, struct rte_mbuf *m, const struct gw_frame *f,
			 const struct dp_conn *c, struct dp_pending *pd)
{
	enum dp_drop_reason why;

	if (!(f->flags & GW_F_CHUNK)) {
		why = DP_DROP_MSG_TOO_BIG;
	} else if (f->u.data.chunk.total_len > lc->tun->max_message) {
		why = DP_DROP_MSG_TOO_BIG;
	} else if (f->u.data.chunk.count > DP_CUSTODY_MAX) {
		why = DP_DROP_GROUP_TOO_BIG;
	} else {
		pd->chunk = 1;
		pd->ck = f->u.data.chunk;
		return 0;
	}
	dp_reply_nack_conn(lc, c, f->seq, GW_NACK_TOO_BIG, 0);
	dp_drop(lc, m, why);
	return -1;
}

void dp_ingress_taken(struct dp_lcore *lc, struct dp_conn_state *st, uint64_t seq)
{
	dp_dedup_set_done(&st->win, seq);
	DP_COUNT_INC(st->stats.routed);
	DP_COUNT_INC(lc->stats.routed);
	dp_reply_ack_add(lc, st, seq);
}

/* A DATA frame of @c's current session whose tag verified (dp_ingress_verify_flush()). */
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
	switch (dp_dedup_check(&st->win, seq)) {
	case DP_DEDUP_NEW:
		break;
	case DP_DEDUP_DUP:
		DP_COUNT_INC(st->stats.dups);
		DP_COUNT_INC(lc->stats.dups);
		dp_reply_ack_add(lc, st, seq);
		rte_pktmbuf_free(m);
		return;
	case DP_DEDUP_PENDING:
		DP_COUNT_INC(st->stats.dups);
		DP_COUNT_INC(lc->stats.dups);
		dp_drop(lc, m, DP_DROP_DUP_IN_FLIGHT);
		return;
	case DP_DEDUP_TOO_FAR:
		dp_reply_nack_conn(lc, c, seq, GW_NACK_EXPIRED, 0);
		dp_drop(lc, m, DP_DROP_TOO_FAR);
		return;
	default:
		dp_drop(lc, m, DP_DROP_WIRE_BAD_SEQ);
		return;
	}
	if (unlikely(lc->tun->refuse_new)) {
		/* Draining for shutdown: take nothing new; the origin retries
		 * elsewhere or later. */
		dp_reply_nack_conn(lc, c, seq, GW_NACK_BUSY, lc->tun->busy_retry_us);
		dp_drop(lc, m, DP_DROP_BUSY);
		return;
	}
	pd = &lc->pend[lc->n_pend];
	pd->chunk = 0;
	/* The one branch a message of one frame pays for messages of several
	 * (and for the message size limit, which it must meet too). */
	if (unlikely((f->flags & GW_F_CHUNK) || f->u.data.payload_len > lc->tun->max_message)) {
		if (ingress_large(lc, m, f, c, pd) != 0)
			return;
	}
	/* The destination's routing key, from the parser's split: hashed
	 * once, here, while the frame is hot; the route stage never looks at
	 * the destination's bytes again unless the route cache misses. A
	 * parsed frame's split always fits, so this refusal is unreachable. */
	if (unlikely(dp_rm_dest_init_k(dp_route_key_secret(), &pd->dest, f->u.data.dest,
				       f->u.data.dest_len, f->u.data.dest_type_len,
				       f->u.data.dest_dom_off) != 0)) {
		dp_reply_nack_conn(lc, c, seq, GW_NACK_NO_ROUTE, 0);
		dp_drop(lc, m, DP_DROP_NO_ROUTE);
		return;
	}
	dp_route_cache_prefetch(&lc->rcache, &pd->dest);
	dp_dedup_set_pending(&st->win, seq);
	dp_stage_mark(lc, DP_STAGE_DEDUP);
	/* Custody keeps the gwart frame alone, headers in front of it free for
	 * egress (headroom >= DP_PKT_HDRS). One segment (dp_pkt_classify()
	 * refuses others), so its bounds are set at once: rte_pktmbuf_trim()
	 * would walk m->next to the last segment, a miss for nothing. */
	m->data_off = (uint16_t)(m->data_off + DP_PKT_HDRS);
	m->data_len = f->length;
	m->pkt_len = f->length;
	lc->n_pend++;
	pd->m = m;
	pd->c = c;
	pd->seq = seq;
	if (unlikely(lc->n_pend == DP_BURST_MAX))
		dp_ingress_flush(lc);
}

static void ingress_route(struct dp_lcore *lc, const struct dp_pending *pd,
			  const struct dp_route *r)
{
	const struct dp_conn *c = pd->c, *dc;
	struct dp_conn_state *st = c->st;
	struct rte_mbuf *m = pd->m;
	uint64_t seq = pd->seq;
	int why;

	if (unlikely(pd->chunk)) {
		/* A group is routed as one message (groups.c). */
		dp_group_route(lc, pd, r);
		return;
	}
	dc = r != NULL ? dp_ingress_choose(lc, r, c->id, seq) : NULL;
	if (unlikely(dc == NULL)) {
		dp_dedup_clear_pending(&st->win, seq);
		dp_reply_nack_conn(lc, c, seq, GW_NACK_NO_ROUTE, 0);
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
		dp_reply_nack_conn(lc, c, seq, GW_NACK_TOO_BIG, 0);
		dp_drop(lc, m, DP_DROP_TOO_BIG);
		return;
	}
	if (dc->owner == lc->idx) {
		why = dp_egress_take(lc, dc, m);
		if (unlikely(why != 0)) {
			dp_dedup_clear_pending(&st->win, seq);
			dp_reply_nack_conn(lc, c, seq, GW_NACK_BUSY, lc->tun->busy_retry_us);
			dp_drop(lc, m, (enum dp_drop_reason)why);
			return;
		}
		dp_ingress_taken(lc, st, seq);
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
	dp_dedup_clear_pending(&st->win, seq);
	dp_reply_nack_conn(lc, c, seq, GW_NACK_BUSY, lc->tun->busy_retry_us);
	dp_drop(lc, m, DP_DROP_BUSY);
}

void dp_ingress_flush(struct dp_lcore *lc)
{
	const struct dp_rm_dest *dests[DP_BURST_MAX];
	const struct dp_route *routes[DP_BURST_MAX];
	unsigned i, n = lc->n_pend;

	if (n == 0)
		return;
	for (i = 0; i < n; i++)
		dests[i] = &lc->pend[i].dest;
	/* The worker's route cache first (slots prefetched by ingress_data()),
	 * the misses to the route index in one bulk lookup. */
	dp_route_lookup_dests(lc->rt->routes, &lc->rcache, dests, n, routes);
	dp_stage_mark(lc, DP_STAGE_ROUTE);
	for (i = 0; i < n; i++)
		ingress_route(lc, &lc->pend[i], routes[i]);
	lc->n_pend = 0;
	dp_stage_mark(lc, DP_STAGE_CUSTODY);
}

/* ---- session frames from connectors: checks, then tags in bursts --------- */

/*
 * A DATA or ACK frame from @c, received by its owner. In the order of
 * PROTOCOL.md (receiving a session frame), each failure a counted drop
 * that changes nothing: the session and its epoch, the session's address,
 * the lane, the replay window; then the frame waits for the burst's tag
 * check (dp_ingress_verify_flush()), which commits its counter and processes it.
 * Nothing is answered: the router cannot authenticate an answer for an
 * epoch it does not know, and a forger learns nothing.
 */

static void ingress_session(struct dp_lcore *lc, struct rte_mbuf *m, const uint8_t *gw,
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
		dp_ingress_verify_flush(lc);
}

void dp_ingress_session(struct dp_lcore *lc, struct dp_rx_pkt *const *pk, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		ingress_session(lc, pk[i]->m, pk[i]->gw, &pk[i]->f, pk[i]->c, &pk[i]->src);
}

/* Verify the tags of the waiting session frames, the frames of one session
 * in one device call, then process those that verified, in order. */
void dp_ingress_verify_flush(struct dp_lcore *lc)
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
	dp_stage_mark(lc, DP_STAGE_AUTH);
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
		if (v->f.type == GW_T_DATA) {
			ingress_data(lc, v->m, &v->f, v->c);
			dp_stage_mark(lc, DP_STAGE_DEDUP);
		} else {
			dp_egress_ack(lc, v->m, &v->f, v->c);
			dp_stage_mark(lc, DP_STAGE_DEST_ACK);
		}
	}
}

