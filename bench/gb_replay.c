/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The replay generator and the sink: the per-message paths of the harness,
 * made cheap enough that one harness core drives several router workers.
 *
 * Generator (as dpdk-testpmd's txonly does): each origin keeps, per
 * session, a prebuilt prefix of its DATA frames (Ethernet, IPv4 with its
 * checksum, UDP, the gwart header and the DATA fields before the
 * destination: every DATA frame of a harness origin has the same length,
 * the addresses being of one length, so the IPv4 checksum is constant). A
 * message is a bulk-allocated mbuf, the prefix copied in, the per-message
 * fields written (flags, seq, origin_seq, the destination, the payload
 * stamp, ctr) and its tag computed in a burst with the origin's other
 * frames of this loop (gb_tag.h: one cryptodev call per origin per loop).
 * The frames are still what the project's encoder writes: the template
 * comes from gw_wire_encode_data() and dp_pkt_alloc_udp() once a session.
 *
 * Sink: DATA frames suppressed by egress link seq (the router's own
 * dp_dedup), each new message recorded in the delivered set; one ACK
 * (cumulative + bitmap, sealed) per destination per receive burst, the
 * destinations with an ACK due kept in a list so that 65,536 of them cost
 * nothing when idle; frames freed in bulk by the caller.
 *
 * In-flight budget: GB_INFLIGHT_MAX messages over all origins (each
 * generator thread its share), so that the mbuf pools stay bounded however
 * many origins there are; each origin's window is its slots less a margin.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include <gwart/wire.h>

#include "ack.h"
#include "gb_endpoint.h"
#include "pkt.h"

unsigned gb_slots_per_origin(unsigned n_origins)
{
	uint64_t want = 2ull * GB_INFLIGHT_MAX / (n_origins ? n_origins : 1);
	unsigned s = 16;

	/* The router's duplicate window bounds what an origin may have in
	 * flight anyway (DP_DEDUP_WINDOW): more slots would never be used. */
	while (s < DP_DEDUP_BITS && (uint64_t)s * 2 <= want)
		s <<= 1;
	return s;
}

void gb_stash_refill(struct gb_ep_run *er)
{
	struct rte_mempool *mp = er->ep->pool;
	unsigned from = er->n_stash, i;

	while (er->n_stash + 16 <= GB_STASH &&
	       rte_mempool_get_bulk(mp, (void **)&er->stash[er->n_stash], 16) == 0)
		er->n_stash += 16;
	for (i = from; i < er->n_stash; i++) {
		char *m = (char *)er->stash[i], *d = m + er->data_off;

		/* Header lines (reset, lengths, port) and the frame's first
		 * three lines (a 64-byte DATA frame is 190 bytes). The data
		 * address is computed, not read from the cold header. */
		rte_prefetch0_write(m);
		rte_prefetch0_write(m + RTE_CACHE_LINE_SIZE);
		rte_prefetch0_write(d);
		rte_prefetch0_write(d + RTE_CACHE_LINE_SIZE);
		rte_prefetch0_write(d + 2 * RTE_CACHE_LINE_SIZE);
	}
}

int gb_mbuf_take(struct gb_ep_run *er, struct rte_mbuf **m, unsigned n)
{
	unsigned i;

	if (unlikely(er->n_stash < n)) {
		gb_stash_refill(er);
		if (er->n_stash < n)
			return -1;
	}
	/* The oldest first: their prefetches have had a loop to land. */
	for (i = 0; i < n; i++) {
		m[i] = er->stash[i];
		rte_pktmbuf_reset(m[i]);
	}
	er->n_stash -= n;
	memmove(er->stash, er->stash + n, er->n_stash * sizeof(er->stash[0]));
	return 0;
}

/* Offsets inside a DATA frame (PROTOCOL.md 2.1, 3.1). */
#define OFF_FLAGS 6
#define OFF_SEQ 16
#define OFF_OSEQ 24
#define OFF_DEST (GW_HDR_LEN + GW_DATA_FIXED_LEN)

/* A destination's template: the L2-L4 headers of its ACKs. */
static int ack_template(struct gb_endpoint *ep, struct gb_ep_conn *c)
{
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ih;
	uint8_t *gw;

	m = gb_frame_alloc(ep, c, GW_ACK_LEN, &gw);
	if (m == NULL)
		return -1;
	ih = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	ih->hdr_checksum = 0;
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	memcpy(c->tmpl, rte_pktmbuf_mtod(m, void *), DP_PKT_HDRS);
	rte_pktmbuf_free(m);
	return 0;
}

int gb_replay_template(struct gb_endpoint *ep, struct gb_ep_conn *c)
{
	const struct gb_ctx *ctx = ep->ctx;
	struct gw_hdr_args h = {.sender = c->id, .epoch = c->epoch, .seq = 1, .ctr = 1};
	uint16_t dlen, flen;
	const char *dest = gb_workload_addr(&ctx->wl, 0, &dlen);
	struct rte_mbuf *m;
	uint8_t *gw;
	static const uint8_t zero[GW_PAYLOAD_MAX];

	if (!ep->is_origin)
		return ack_template(ep, c);
	flen = (uint16_t)GW_DATA_LEN(dlen, ctx->o->payload);
	m = gb_frame_alloc(ep, c, flen, &gw);
	if (m == NULL)
		return -1;
	gw_wire_encode_data(gw, flen, &h, c->id, 1, dest, dlen, zero, (uint16_t)ctx->o->payload);
	{
		struct rte_ipv4_hdr *ih =
		    rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);

		ih->hdr_checksum = 0;
		ih->hdr_checksum = rte_ipv4_cksum(ih);
	}
	memcpy(c->tmpl, rte_pktmbuf_mtod(m, void *), GB_TMPL_LEN);
	rte_pktmbuf_free(m);
	return 0;
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	v = rte_cpu_to_be_64(v);
	memcpy(p, &v, 8);
}

/* DATA @seq of origin @c into @m from the template: everything but the tag. */
static inline void build_data(const struct gb_endpoint *ep, const struct gb_ep_conn *c,
			      struct rte_mbuf *m, uint64_t seq, const struct gb_slot *sl, int retx,
			      uint64_t ctr)
{
	const struct gb_ctx *ctx = ep->ctx;
	const uint16_t flen = ctx->data_len, pl_len = (uint16_t)ctx->o->payload;
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *), *gw = p + DP_PKT_HDRS, *pl;
	uint32_t route = sl->route;
	uint16_t fl = rte_cpu_to_be_16(retx ? GW_F_RETRANSMIT : 0);

	m->data_len = (uint16_t)(DP_PKT_HDRS + flen);
	m->pkt_len = m->data_len;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	/* A NIC's PMD stamps the receiving port; net_ring does not. */
	m->port = ep->stamp_port;
	rte_memcpy(p, c->tmpl, GB_TMPL_LEN);
	memcpy(gw + OFF_FLAGS, &fl, 2);
	put_be64(gw + OFF_SEQ, seq);
	put_be64(gw + OFF_OSEQ, seq);
	/* The address slot is GB_ADDR_SLOT bytes: copying all of it spills
	 * into the payload's first bytes, which the stamp overwrites. */
	rte_memcpy(gw + OFF_DEST, ctx->wl.addr + (size_t)route * GB_ADDR_SLOT, GB_ADDR_SLOT);
	pl = gw + OFF_DEST + ctx->dest_len;
	/* Stamp: first-send TSC, origin, route, seq (host order, opaque to
	 * the router). */
	memcpy(pl, &sl->t_first, 8);
	memcpy(pl + 8, &c->id, 4);
	memcpy(pl + 12, &route, 4);
	memcpy(pl + 16, &seq, 8);
	if (pl_len > GB_PAYLOAD_HDR)
		memset(pl + GB_PAYLOAD_HDR, 0, pl_len - GB_PAYLOAD_HDR);
	put_be64(gw + flen - GW_TRAILER_LEN, ctr);
}

static inline struct gb_slot *slot_of(struct gb_ep_conn *c, uint64_t seq)
{
	return &c->slot[seq & c->slot_mask];
}

/* Frames of one origin into the tag batch (flag: 1 = also send a duplicate,
 * the same bytes, made once the tag is in). */
static void emit(struct gb_ep_run *er, struct gb_ep_conn *c, struct rte_mbuf *m, uint64_t seq,
		 const struct gb_slot *sl, int retx)
{
	struct gb_endpoint *ep = er->ep;
	const struct gb_opts *o = ep->ctx->o;
	uint64_t ctr = gw_ctr_make(GW_LANE_STREAM, ++c->tx_ctr[GW_LANE_STREAM]);
	uint8_t dup = 0;

	if (unlikely(o->drop > 0 || o->dup > 0)) {
		double u = gb_rng_unit(&c->rng);

		if (u < o->drop) {
			ep->st.fault_drop++;
			rte_pktmbuf_free(m);
			return; /* the RTO sends it again */
		}
		dup = u < o->drop + o->dup;
	}
	build_data(ep, c, m, seq, sl, retx, ctr);
	if (gb_tag_full(&er->tb))
		gb_replay_flush(er);
	gb_tag_add(&er->tb, rte_pktmbuf_mtod(m, uint8_t *) + DP_PKT_HDRS, ep->ctx->data_len,
		   &c->k_c2r, m, dup);
	(void)c;
}

void gb_replay_flush(struct gb_ep_run *er)
{
	struct gb_endpoint *ep = er->ep;
	struct gb_tag_batch *b = &er->tb;
	const bool csum = ep->ctx->o->udp_csum;
	unsigned i;

	if (b->n == 0)
		return;
	gb_tag_run(&ep->ctx->tag, b, true);
	for (i = 0; i < b->n; i++) {
		struct rte_mbuf *m = b->user[i];
		struct gb_txq *tq = &er->txq[m->hash.usr];

		if (csum)
			dp_pkt_finish_udp(m);
		gb_txq_put(tq, m);
		if (unlikely(b->flag[i])) {
			struct rte_mbuf *m2 = rte_pktmbuf_alloc(ep->pool);

			if (m2 != NULL) {
				rte_memcpy(rte_pktmbuf_append(m2, m->data_len),
					   rte_pktmbuf_mtod(m, void *), m->data_len);
				m2->l2_len = m->l2_len;
				m2->l3_len = m->l3_len;
				m2->port = m->port;
				ep->st.fault_dup++;
				gb_txq_put(tq, m2);
			}
		}
	}
	b->n = 0;
}

/* ---- origin side ---------------------------------------------------------- */

static void origin_advance(struct gb_ep_run *er, struct gb_ep_conn *c)
{
	while (c->cum + 1 < c->next_seq) {
		struct gb_slot *sl = slot_of(c, c->cum + 1);

		if (sl->state != GB_SL_ACKED && sl->state != GB_SL_REFUSED)
			break;
		sl->state = GB_SL_FREE;
		c->cum++;
		er->in_flight--;
	}
}

void gb_origin_ack(struct gb_ep_run *er, struct gb_ep_conn *c, const struct gw_frame *f)
{
	struct gb_endpoint *ep = er->ep;
	struct dp_ack_walk w;
	enum dp_ack_kind k;
	uint64_t s;

	if (f->seq >= c->next_seq)
		ep->st.rx_bad++; /* acknowledges what was never sent */
	/* Above the cumulative point and sent: at most a window of slots. */
	dp_ack_walk_init(&w, f->seq, f->u.ack.base, f->u.ack.bitmap, c->cum + 1, c->next_seq);
	while ((k = dp_ack_walk_next(&w, &s)) != DP_ACK_END) {
		struct gb_slot *sl = slot_of(c, s);

		if (sl->state == GB_SL_SENT) {
			ep->st.acked++;
			sl->state = GB_SL_ACKED;
		} else if (k == DP_ACK_CUM) {
			sl->state = GB_SL_ACKED; /* whatever it was: the cumulative point passed it */
		}
	}
	origin_advance(er, c);
}

void gb_origin_nack(struct gb_ep_run *er, struct gb_ep_conn *c, const struct gw_frame *f,
		    uint64_t now)
{
	struct gb_endpoint *ep = er->ep;
	uint64_t s = f->u.nack.origin_seq;
	struct gb_slot *sl;

	if (f->u.nack.reason == GW_NACK_NO_SESSION) {
		/* v2 routers send none; an authentic one changes nothing. */
		ep->st.nacks_other++;
		return;
	}
	if (s <= c->cum || s >= c->next_seq)
		return;
	sl = slot_of(c, s);
	if (sl->state != GB_SL_SENT)
		return;
	if (f->u.nack.reason == GW_NACK_BUSY) {
		uint64_t wait =
		    (uint64_t)(f->u.nack.retry_after_us ? f->u.nack.retry_after_us : 1000) *
		    (ep->ctx->tsc_hz / 1000000u);

		ep->st.busy++;
		sl->deadline = gb_tick(now + wait);
		c->pause_until = now + wait;
		return;
	}
	ep->st.refused++;
	sl->state = GB_SL_REFUSED;
	gb_verify_refused(ep->ctx->ver, c->id, s);
	origin_advance(er, c);
}

/* Retransmit expired seqs, oldest first; stop at the first one not due (a
 * retransmitted seq may hide a later due one for at most one RTO). */
void gb_origin_scan(struct gb_ep_run *er, struct gb_ep_conn *c, uint64_t now)
{
	struct gb_endpoint *ep = er->ep;
	const uint32_t tnow = gb_tick(now);
	unsigned budget = TXB_MAX / 4;
	uint64_t s;

	for (s = c->cum + 1; s < c->next_seq && budget > 0; s++) {
		struct gb_slot *sl = slot_of(c, s);
		struct rte_mbuf *m;

		if (sl->state != GB_SL_SENT)
			continue;
		if (!gb_tick_due(tnow, sl->deadline))
			break;
		if (er->txq[c->queue].n + er->tb.n >= TXB_MAX - 2 * GB_BURST)
			break;
		if (gb_mbuf_take(er, &m, 1) != 0)
			break; /* pool empty: the next scan */
		m->hash.usr = c->queue;
		sl->deadline = tnow + er->rto_ticks;
		ep->st.retransmits++;
		emit(er, c, m, s, sl, 1);
		budget--;
	}
	gb_replay_flush(er);
}

unsigned gb_origin_send(struct gb_ep_run *er, struct gb_ep_conn *c, unsigned max, uint64_t now)
{
	struct gb_endpoint *ep = er->ep;
	const struct gb_opts *o = ep->ctx->o;
	struct rte_mbuf *m[GB_BURST];
	const uint32_t deadline = gb_tick(now) + er->rto_ticks;
	uint64_t room = c->cum + c->window + 1 - c->next_seq;
	unsigned n, i, q_room;

	if (now < c->pause_until)
		return 0;
	n = max < GB_BURST ? max : GB_BURST;
	if (room < n)
		n = (unsigned)room;
	if (o->count != 0) {
		uint64_t left = c->next_seq > o->count ? 0 : o->count + 1 - c->next_seq;

		if (left < n)
			n = (unsigned)left;
	}
	if (er->in_flight + n > er->in_flight_max)
		n = er->in_flight >= er->in_flight_max ? 0
						       : (unsigned)(er->in_flight_max - er->in_flight);
	q_room = er->txq[c->queue].n + er->tb.n + GB_BURST < TXB_MAX
		     ? TXB_MAX - GB_BURST - er->txq[c->queue].n - er->tb.n
		     : 0;
	if (q_room < n)
		n = q_room;
	if (n == 0 || gb_mbuf_take(er, m, n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		struct gb_slot *sl = slot_of(c, c->next_seq);

		sl->route = gb_workload_pick(&ep->ctx->wl, &c->rng);
		sl->t_first = now;
		sl->deadline = deadline;
		sl->state = GB_SL_SENT;
		m[i]->hash.usr = c->queue;
		emit(er, c, m[i], c->next_seq, sl, 0);
		c->next_seq++;
	}
	er->in_flight += n;
	ep->st.sent += n;
	return n;
}

uint64_t gb_origin_unresolved(struct gb_ep_conn *c)
{
	uint64_t s, n = 0;

	for (s = c->cum + 1; s < c->next_seq; s++)
		n += slot_of(c, s)->state == GB_SL_SENT;
	return n;
}

/* ---- destination side ----------------------------------------------------- */

void gb_dest_data(struct gb_ep_run *er, struct gb_ep_conn *c, const struct gw_frame *f,
		  uint64_t now)
{
	struct gb_endpoint *ep = er->ep;
	struct gb_ctx *ctx = ep->ctx;
	uint64_t t_first, seq;
	uint32_t origin, route;
	const uint8_t *pl = f->u.data.payload;

	if (!c->rx_ready || f->epoch != c->epoch) {
		ep->st.rx_bad++;
		return;
	}
	if (!c->ack_due) {
		c->ack_due = 1;
		c->ack_lo = c->ack_hi = f->seq;
		er->due[er->n_due++] = (uint32_t)(c - ep->conns);
	} else if (f->seq < c->ack_lo) {
		c->ack_lo = f->seq;
	} else if (f->seq > c->ack_hi) {
		c->ack_hi = f->seq;
	}
	switch (dp_dedup_check(c->rx, f->seq)) {
	case DP_DEDUP_NEW:
		break;
	case DP_DEDUP_DUP:
		ep->st.dup_frames++;
		return;
	default:
		ep->st.rx_bad++;
		return;
	}
	dp_dedup_set_done(c->rx, f->seq);
	if (f->u.data.payload_len < GB_PAYLOAD_HDR) {
		ep->st.corrupt++;
		return;
	}
	memcpy(&t_first, pl, 8);
	memcpy(&origin, pl + 8, 4);
	memcpy(&route, pl + 12, 4);
	memcpy(&seq, pl + 16, 8);
	if (origin != f->u.data.origin || seq != f->u.data.origin_seq ||
	    route >= ctx->wl.n_routes) {
		ep->st.corrupt++;
		return;
	}
	if (gb_workload_dest(&ctx->wl, route) != c->id)
		ep->st.misrouted++;
	if (gb_verify_deliver(ctx->ver, origin, seq) != 0)
		ep->st.dup_delivered++;
	else
		ep->st.delivered++;
	if (ctx->recording && now > t_first)
		gb_hist_record(&ep->lat, now - t_first);
}

/* One ACK per destination per receive burst: the cumulative point and a
 * bitmap from just above it; more frames only when this burst's seqs lie
 * beyond that bitmap's 64 (behind a hole), as the router does for origins.
 * Sealed in one batch (one device call per destination: each has its own
 * key). */
void gb_dest_acks(struct gb_ep_run *er)
{
	struct gb_endpoint *ep = er->ep;
	const struct gb_opts *o = ep->ctx->o;
	struct gb_tag_batch *b = &er->tb;
	unsigned d;

	for (d = 0; d < er->n_due; d++) {
		struct gb_ep_conn *c = &ep->conns[er->due[d]];
		struct gw_hdr_args h = {.sender = c->id, .epoch = c->epoch};
		uint64_t cum, bs;

		c->ack_due = 0;
		if (!c->up)
			continue;
		if (o->drop > 0 && gb_rng_unit(&c->rng) < o->drop) {
			ep->st.fault_drop++;
			continue;
		}
		cum = dp_dedup_cum(c->rx);
		h.seq = cum;
		for (bs = cum + 1; bs <= c->ack_hi || bs == cum + 1; bs += GW_ACK_BITMAP_BITS) {
			uint64_t bm;
			struct rte_mbuf *m;
			uint8_t *gw;

			if (bs != cum + 1 && bs + GW_ACK_BITMAP_BITS <= c->ack_lo)
				continue;
			bm = dp_dedup_ack_bitmap(c->rx, bs);
			if (bm == 0 && bs != cum + 1)
				continue;
			if (er->txq[c->queue].n + b->n >= TXB_MAX - 1)
				break;
			/* A prefetched mbuf and this session's ACK headers (the
			 * IPv4 checksum included: every ACK has one length); a UDP
			 * checksum (--udp-csum) is computed once the tag is in. */
			if (gb_mbuf_take(er, &m, 1) != 0)
				break;
			gw = (uint8_t *)rte_pktmbuf_append(m, DP_PKT_HDRS + GW_ACK_LEN);
			rte_memcpy(gw, c->tmpl, DP_PKT_HDRS);
			gw += DP_PKT_HDRS;
			m->l2_len = RTE_ETHER_HDR_LEN;
			m->l3_len = sizeof(struct rte_ipv4_hdr);
			m->port = ep->stamp_port;
			h.ctr = gw_ctr_make(GW_LANE_STREAM, ++c->tx_ctr[GW_LANE_STREAM]);
			gw_wire_encode_ack(gw, GW_ACK_LEN, &h, bs, bm);
			m->hash.usr = c->queue;
			if (gb_tag_full(b))
				gb_replay_flush(er);
			gb_tag_add(b, gw, GW_ACK_LEN, &c->k_c2r, m, 0);
			ep->st.acks_sent++;
		}
	}
	er->n_due = 0;
	gb_replay_flush(er);
}
