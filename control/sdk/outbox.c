/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sending side of the connector SDK: the outbox.
 *
 * Every message gets the next origin_seq and a slot (seq & out_mask) that
 * holds its encoded frame until the router resolves it: an ACK (custody) or
 * a final NACK. The slot array is allocated once in gw_conn_open(); sending
 * never allocates.
 *
 * The duplicate-window rule (PROTOCOL.md 10) is enforced here and only here:
 * origin_seq s is put on the wire only while s <= L + W - 1, where
 * W = min(max_inflight, WELCOME.dup_window) and L = min(out_head,
 * router_cum + 1): out_head is the lowest un-acknowledged seq, router_cum
 * the router's cumulative point as the current session reported it
 * (WELCOME.router_seq, then every ACK's seq). That holds for first
 * transmissions (gw_conn_send refuses with -EAGAIN) and for
 * retransmissions (a window that shrank in a new session holds back what
 * lies beyond it).
 *
 * Within one router process L is out_head: every ACK that settled a seq
 * was built after the router had marked it, so the newest of them carries
 * a cumulative point past all the seqs below out_head. A router process
 * that restarted knows only what our HELLO told it (C = HELLO.seq - 1, the
 * lowest live seq - 1): seqs its predecessor acknowledged selectively
 * above that are marked nowhere, its point stops below the first of them,
 * and out_head + W - 1 lies beyond its C + W: those sends would be refused
 * EXPIRED (found by the fault campaign after a router kill -9). So the
 * window starts at router_cum + 1 then, and a HELLO moves the router's
 * point over what we settled (gw_sdk_outbox_gap_at_head()).
 *
 * A refused message (NO_ROUTE, TOO_BIG, NOT_AUTHORISED) is reported
 * at once but its slot stays ABANDONED: the router's cumulative point cannot
 * pass a seq it never took, so the seq still counts for the window until a
 * HELLO on the live session moves that point above it (PROTOCOL.md 12.1,
 * 13). connector.c sends that HELLO when an abandoned seq reaches the head.
 *
 * Loss recovery. The router's ACK names its cumulative point and only the
 * 64 seqs above it, so after one lost frame nothing further up the window
 * can be acknowledged until the hole is filled. Retransmitting everything
 * whose RTO expired would resend a whole window the router already holds.
 * Instead (in the manner of TCP SACK):
 *  - a timeout retransmits only seqs an ACK could have reported on: below
 *    out_head + 64 or at most ack_reach; the rest wait, and are looked at
 *    again as soon as the head moves;
 *  - a hole in an ACK bitmap with at least three acknowledged seqs above it
 *    is retransmitted at once (fast retransmit) if some frame transmitted
 *    after the hole's last transmission has been acknowledged meanwhile (by
 *    more than a reordering allowance): RACK's rule, which needs no RTT
 *    estimate that a full window's queueing would inflate, and which never
 *    resends a hole again before its resend has had its chance.
 * A new session is different: the router may hold nothing, so everything
 * outstanding is resent at once.
 *
 * Back-pressure. BUSY means the destination's custody is full: the sender
 * outruns the destination. Retrying each refused message after
 * retry_after_us is the rule; on top, new sends stay within cwnd, which BUSY
 * halves (at most once per RTT, not below GW_SDK_CWND_MIN) and acknowledged
 * messages grow back towards the window (about 8 per window's worth per
 * RTT), so that a fast sender settles near the rate the destination drains
 * instead of bouncing a window of BUSYs every few milliseconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ack.h"
#include "sdk_internal.h"

#define GW_SDK_CWND_MIN 32 /* messages */
#define GW_SDK_DUPTHRESH 3 /* acked seqs above a hole before it counts as lost */

static uint32_t roundup_pow2(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

int gw_sdk_outbox_init(struct gw_conn *c)
{
	uint32_t i;

	c->out_cap = roundup_pow2(c->max_inflight);
	c->out_mask = c->out_cap - 1;
	/* Keep frames 8-byte aligned: the header is rewritten in place. */
	c->out_frame_cap =
		(GW_DATA_LEN(GW_DEST_MAX, c->max_payload) + 7u) & ~7u;
	c->out = calloc(c->out_cap, sizeof(*c->out));
	/* Large arenas come from mmap: pages that small payloads never reach
	 * are never touched. */
	c->out_arena = malloc((size_t)c->out_cap * c->out_frame_cap);
	if (!c->out || !c->out_arena)
		return -ENOMEM;
	for (i = 0; i < c->out_cap; i++) {
		c->out[i].frame = c->out_arena + (size_t)i * c->out_frame_cap;
		c->out[i].gidx = -1;
	}
	c->out_head = c->next_seq;
	c->rtx_due_us = UINT64_MAX;
	return 0;
}

void gw_sdk_outbox_free(struct gw_conn *c)
{
	free(c->out);
	free(c->out_arena);
	c->out = NULL;
	c->out_arena = NULL;
}

uint32_t gw_sdk_window(const struct gw_conn *c)
{
	if (c->state != GW_SDK_UP)
		return 0;
	return c->max_inflight < c->dup_window ? c->max_inflight : c->dup_window;
}

/* L of the window rule: where the router's duplicate window begins as far
 * as we know, min(out_head, router_cum + 1) (see the top of this file). */
static uint64_t window_base(const struct gw_conn *c)
{
	return c->router_cum < c->out_head - 1 ? c->router_cum + 1 : c->out_head;
}

uint32_t gw_sdk_send_window(const struct gw_conn *c)
{
	uint32_t w = gw_sdk_window(c);

	return c->cwnd < w ? c->cwnd : w;
}

/*
 * Karn: only frames sent once give an unambiguous sample. Of those one ACK
 * resolves, only the most recently sent one measures the path: the others
 * may have waited for a hole below them to be filled (the cumulative point
 * cannot pass it, the bitmap reaches only 64 seqs), and would inflate the
 * estimate by the loss recovery time.
 */
static void rtt_sample(struct gw_conn *c, const struct gw_sdk_slot *s, uint64_t now)
{
	if (s->last_tx_us > c->newest_acked_tx_us)
		c->newest_acked_tx_us = s->last_tx_us;
	if (!now || s->tx_count != 1 || now < s->last_tx_us)
		return;
	if (now - s->last_tx_us < c->ack_rtt_us)
		c->ack_rtt_us = now - s->last_tx_us;
}

static void rtt_update(struct gw_conn *c)
{
	uint64_t r = c->ack_rtt_us;

	if (r == UINT64_MAX)
		return;
	dp_rtt_sample_us(&c->rtt, r);
	if (!c->min_rtt_us || r < c->min_rtt_us)
		c->min_rtt_us = r;
}

static void cwnd_grow(struct gw_conn *c)
{
	if (c->cwnd >= gw_sdk_window(c))
		return;
	if (++c->cwnd_acc * 8 >= c->cwnd) {
		c->cwnd++;
		c->cwnd_acc = 0;
	}
}

static void cwnd_cut(struct gw_conn *c, uint64_t now)
{
	uint64_t rtt = c->rtt.srtt_us > 1000 ? c->rtt.srtt_us : 1000;

	if (c->cwnd_cut_us && now - c->cwnd_cut_us < rtt)
		return;
	c->cwnd_cut_us = now;
	c->cwnd = c->cwnd / 2 > GW_SDK_CWND_MIN ? c->cwnd / 2 : GW_SDK_CWND_MIN;
	c->cwnd_acc = 0;
	c->st.window_cuts++;
}

/* The slot holding @seq in any state but FREE, or NULL. */
static struct gw_sdk_slot *slot_any(const struct gw_conn *c, uint64_t seq)
{
	struct gw_sdk_slot *s;

	if (seq < c->out_head || seq >= c->next_seq)
		return NULL;
	s = &c->out[seq & c->out_mask];
	if (s->state == GW_SDK_SLOT_FREE || s->seq != seq)
		return NULL;
	return s;
}

/* The slot holding @seq un-acknowledged (LIVE), or NULL. */
static struct gw_sdk_slot *slot_of(const struct gw_conn *c, uint64_t seq)
{
	struct gw_sdk_slot *s = slot_any(c, seq);

	return s && s->state == GW_SDK_SLOT_LIVE ? s : NULL;
}

static void advance_head(struct gw_conn *c)
{
	while (c->out_head < c->next_seq && !slot_any(c, c->out_head))
		c->out_head++;
}

/*
 * Resolve @seq once: 0 frees its slot, a refusal abandons it; then tell the
 * application. The slot changes before the callback so that the callback
 * may send again.
 */
static void resolve(struct gw_conn *c, uint64_t seq, int status, uint64_t now)
{
	struct gw_sdk_slot *s = slot_of(c, seq);
	int32_t gidx;

	if (!s)
		return; /* already resolved: ACKs are idempotent */
	s->queued = 0;
	s->kick = 0;
	s->fast = 0;
	c->out_live--;
	gidx = s->gidx;
	s->gidx = -1;
	if (status == 0) {
		s->state = GW_SDK_SLOT_FREE;
		if (gidx < 0)
			c->st.acked++; /* a group counts once, in group.c */
		rtt_sample(c, s, now);
		cwnd_grow(c);
	} else {
		s->state = GW_SDK_SLOT_ABANDONED;
		c->out_abandoned++;
		if (gidx < 0)
			c->st.failed++;
	}
	if (gidx >= 0)
		gw_sdk_group_resolved(c, gidx, seq, status);
	else if (c->on_result)
		c->on_result(c->arg, seq, status);
}

void gw_sdk_outbox_abandon(struct gw_conn *c, uint64_t seq)
{
	struct gw_sdk_slot *s = slot_of(c, seq);

	if (!s)
		return;
	s->queued = 0;
	s->kick = 0;
	s->fast = 0;
	s->gidx = -1;
	s->state = GW_SDK_SLOT_ABANDONED;
	c->out_live--;
	c->out_abandoned++;
}

/* The router's cumulative point passed an abandoned seq: the gap is closed. */
static void release_abandoned(struct gw_conn *c, uint64_t seq)
{
	struct gw_sdk_slot *s = slot_any(c, seq);

	if (s && s->state == GW_SDK_SLOT_ABANDONED) {
		s->state = GW_SDK_SLOT_FREE;
		c->out_abandoned--;
	}
}

uint64_t gw_sdk_outbox_hello_seq(const struct gw_conn *c)
{
	uint64_t seq;

	/* "The lowest origin_seq it will still send" (PROTOCOL.md 12.1):
	 * abandoned seqs below it are thereby settled. */
	for (seq = c->out_head; seq < c->next_seq; seq++)
		if (slot_of(c, seq))
			return seq;
	return c->next_seq;
}

bool gw_sdk_outbox_gap_at_head(const struct gw_conn *c)
{
	const struct gw_sdk_slot *s;

	/* The router's point stops below seqs we settled (acknowledged by
	 * a router process that is gone): our HELLO's seq, the lowest live
	 * one, is above them all. */
	if (window_base(c) < c->out_head)
		return true;
	if (!c->out_abandoned)
		return false;
	s = slot_any(c, c->out_head);
	return s && s->state == GW_SDK_SLOT_ABANDONED;
}

uint32_t gw_sdk_outbox_room(const struct gw_conn *c)
{
	uint64_t used = c->next_seq - c->out_head, from_base = c->next_seq - window_base(c);
	uint32_t sw = gw_sdk_send_window(c), w = gw_sdk_window(c);
	uint64_t a, b;

	/* The window rule: next_seq <= L + W - 1 (and BUSY's cwnd from
	 * out_head). */
	if (c->state != GW_SDK_UP || used >= sw || from_base >= w)
		return 0;
	a = sw - used;
	b = w - from_base;
	return (uint32_t)(a < b ? a : b);
}

uint8_t *gw_sdk_outbox_next_frame(const struct gw_conn *c)
{
	return c->out[c->next_seq & c->out_mask].frame;
}

void gw_sdk_outbox_put(struct gw_conn *c, size_t flen, int32_t gidx, uint64_t now)
{
	uint32_t idx = (uint32_t)(c->next_seq & c->out_mask);
	struct gw_sdk_slot *s = &c->out[idx];

	s->seq = c->next_seq;
	s->len = (uint16_t)flen;
	s->state = GW_SDK_SLOT_LIVE;
	s->queued = 0;
	s->kick = 0;
	s->busy_n = 0;
	s->fast = 0;
	s->tx_count = 0;
	s->gidx = gidx;
	s->rto_us = c->rto_us;
	s->due_us = now + s->rto_us;
	if (c->rtx_due_us > s->due_us)
		c->rtx_due_us = s->due_us;
	c->next_seq++;
	c->out_live++;
	gw_sdk_txq_data(c, idx, now);
}

int gw_conn_send(struct gw_conn *c, const char *dest, const void *payload, uint16_t len,
		 uint64_t *origin_seq)
{
	const uint8_t *type, *domain;
	size_t type_len, domain_len, dest_len, flen;
	struct gw_hdr_args h;
	uint64_t seq;

	if (!c || !dest || (!payload && len))
		return -EINVAL;
	dest_len = strnlen(dest, GW_DEST_MAX + 1);
	if (dest_len == 0 || dest_len > GW_DEST_MAX)
		return -EINVAL;
	if (gw_addr_split((const uint8_t *)dest, dest_len, &type, &type_len, &domain,
			  &domain_len) < 0)
		return -EINVAL;
	if (c->state != GW_SDK_UP)
		return -ENOTCONN;
	if (len > c->max_payload || len > c->router_max_payload)
		return -EMSGSIZE;
	/* A group still being released holds every seq after it back. */
	if (c->stream.on) {
		c->st.stream_waits++;
		return -EAGAIN;
	}
	if (gw_sdk_outbox_room(c) == 0)
		return -EAGAIN;
	/* The outbox keeps every seq below next_seq: 2^64 - 1 is never
	 * handed out (next_seq would wrap to 0). */
	if (c->next_seq >= UINT64_MAX - 1)
		return -EOVERFLOW;
	/* A seq is handed out only below the durable ceiling (state.c):
	 * normally gw_conn_poll() moved it ahead long before. */
	if (c->state_path && c->alloc_seq >= c->seq_ceiling && gw_sdk_state_reserve(c, 1) < 0)
		return -EIO;

	seq = c->next_seq;
	gw_sdk_hdr(c, &h, 0, seq);
	flen = gw_wire_encode_data(gw_sdk_outbox_next_frame(c), c->out_frame_cap, &h, c->id, seq,
				   dest, (uint16_t)dest_len, payload, len);
	if (flen == 0)
		return -EINVAL;
	gw_sdk_outbox_put(c, flen, -1, gw_sdk_now_us());
	c->alloc_seq = c->next_seq;
	if (origin_seq)
		*origin_seq = seq;
	return 0;
}

/*
 * Holes of an ACK bitmap with GW_SDK_DUPTHRESH acknowledged seqs above: lost
 * if a frame sent more than a reordering allowance (a quarter of the
 * unloaded RTT, at least 50 us) after the hole's last transmission has been
 * acknowledged. Otherwise (the ACKed frames left together with the hole)
 * the hole is scheduled for a little more than an RTT after its own
 * transmission, so that it is resent even if no further ACK comes.
 */
static void fast_retransmit(struct gw_conn *c, uint64_t base, uint64_t bitmap, uint64_t now)
{
	unsigned top = 63u - (unsigned)__builtin_clzll(bitmap);
	uint64_t holes = ~bitmap & ((1ull << top) - 1), reo, guard, when;

	reo = c->min_rtt_us / 4 > 50 ? c->min_rtt_us / 4 : 50;
	guard = c->rtt.srtt_us ? c->rtt.srtt_us + c->rtt.srtt_us / 4 : c->rto_us / 4;
	while (holes) {
		unsigned i = (unsigned)__builtin_ctzll(holes);
		struct gw_sdk_slot *s;

		holes &= holes - 1;
		if (__builtin_popcountll(bitmap >> (i + 1)) < GW_SDK_DUPTHRESH)
			break; /* fewer above every later hole too */
		s = slot_of(c, base + i);
		if (!s || s->queued || s->tx_count == 0)
			continue;
		if (s->due_us <= now) {
			/* Due already, held back for want of ACK news:
			 * this is the news. */
			if (c->rtx_due_us > now)
				c->rtx_due_us = now;
			continue;
		}
		when = s->last_tx_us + reo < c->newest_acked_tx_us ? now : s->last_tx_us + guard;
		if (when < now)
			when = now;
		if (when >= s->due_us)
			continue; /* its RTO comes first anyway */
		s->due_us = when;
		s->kick = 1;
		s->fast = 1;
		if (c->rtx_due_us > when)
			c->rtx_due_us = when;
	}
}

/*
 * An ACK from the router: every seq <= @cum, and base + i for each set bit
 * i of @bitmap, is in the router's custody. Applied in any order, any number
 * of times: only the first resolves a message.
 */
void gw_sdk_outbox_ack(struct gw_conn *c, uint64_t cum, uint64_t base, uint64_t bitmap,
		       uint64_t now)
{
	uint64_t seq, old_head = c->out_head, old_reach = c->ack_reach;
	uint64_t old_cum = c->router_cum;
	struct dp_ack_walk w;
	enum dp_ack_kind k;

	c->ack_rtt_us = UINT64_MAX;
	if (cum > c->router_cum)
		c->router_cum = cum;

	/* Bound the walk before running callbacks: a callback may send and
	 * move next_seq, but nothing it sends can be covered by this ACK.
	 * Once nothing is live (or abandoned, for the cumulative part) the
	 * rest of the ACK can change nothing. */
	dp_ack_walk_init(&w, cum, base, bitmap, c->out_head, c->next_seq);
	while ((k = dp_ack_walk_next(&w, &seq)) != DP_ACK_END) {
		if (k == DP_ACK_CUM) {
			if (!c->out_live && !c->out_abandoned)
				break;
			release_abandoned(c, seq);
		} else if (!c->out_live) {
			break;
		}
		resolve(c, seq, 0, now);
	}
	advance_head(c);
	rtt_update(c);
	if (bitmap && base + 63 > base) {
		if (base + 63 > c->ack_reach)
			c->ack_reach = base + 63;
		if (c->out_live)
			fast_retransmit(c, base, bitmap, now);
	}
	/* Timeouts held back for want of ACK information: look again now. */
	if (c->rtx_deferred && (c->out_head != old_head || c->ack_reach != old_reach))
		c->rtx_due_us = 0;
	/* Retransmissions held beyond the router's window: it moved. */
	if (c->rtx_window_held && c->router_cum != old_cum) {
		c->rtx_window_held = false;
		c->rtx_due_us = 0;
	}
	/* The window may have opened for a group being released. */
	if (c->stream.on)
		gw_sdk_stream_pump(c, now ? now : gw_sdk_now_us());
}

void gw_sdk_outbox_nack(struct gw_conn *c, const struct gw_frame *f, uint64_t now)
{
	unsigned reason = f->u.nack.reason;
	uint64_t seq = f->u.nack.origin_seq;
	struct gw_sdk_slot *s;
	uint64_t delay;

	if (reason <= GW_NACK_REASON_MAX)
		c->st.nacked[reason]++;
	if (reason == GW_NACK_EXPIRED) {
		/* The router gave up a message it had taken (PROTOCOL.md 13
		 * (b): the window rule keeps (a) from us): delivery not
		 * confirmed. Its ACK may still be on the way, or lost: a live
		 * seq was taken all the same, so it is acknowledged first
		 * (on_result(0), once), then noticed. Reporting it refused
		 * would be false: it may have been delivered. Never resent
		 * (it would be a duplicate); a seq we gave up ourselves, or
		 * never sent, is no message of the router's. */
		if (seq >= c->next_seq)
			return;
		s = slot_any(c, seq);
		if (s && s->state != GW_SDK_SLOT_LIVE)
			return;
		if (s) {
			resolve(c, seq, 0, now);
			advance_head(c);
		}
		/* A chunk: the message is its group, noticed once. */
		if (!gw_sdk_group_notice_id(c, seq, &seq))
			return;
		c->st.notices++;
		if (c->on_notice)
			c->on_notice(c->arg, seq, (int)reason);
		return;
	}
	switch (reason) {
	case GW_NACK_NO_SESSION:
		/* Not sent by v2 routers (rx_frame ignores it before this):
		 * never a message's outcome. */
		return;
	case GW_NACK_BUSY:
		s = slot_of(c, seq);
		if (!s)
			return;
		/* Retry after what the router asked for, doubled per
		 * consecutive BUSY of this message (up to 64x, 1 s): a full
		 * window of messages retried every 2 ms would only add to the
		 * load that made the destination busy. 64x because a
		 * destination that is down (restarting, link cut) keeps its
		 * custody full for seconds, and up to a window of messages
		 * each keep retrying meanwhile: at 8x (16 ms with the router's
		 * 2 ms) that was some 60,000 BUSY round trips a second, enough
		 * to crowd the destination's HELLO out of a loaded router. */
		delay = f->u.nack.retry_after_us ? f->u.nack.retry_after_us : c->rto_us;
		delay <<= s->busy_n < 6 ? s->busy_n : 6;
		if (delay > GW_CONN_MAX_RTO_US)
			delay = GW_CONN_MAX_RTO_US;
		if (s->busy_n < 31)
			s->busy_n++;
		cwnd_cut(c, now);
		s->kick = 1;
		s->due_us = now + delay;
		if (c->rtx_due_us > s->due_us)
			c->rtx_due_us = s->due_us;
		return;
	default:
		/* NO_ROUTE, TOO_BIG, NOT_AUTHORISED: final. The slot stays
		 * abandoned (window) until the gap is closed. */
		resolve(c, seq, (int)reason, now);
		return;
	}
}

/*
 * A WELCOME was adopted. @router_seq is the router's cumulative point for
 * our origin: everything up to it is in its custody. Whatever is left is
 * retransmitted at once in the new session.
 */
void gw_sdk_outbox_router_seq(struct gw_conn *c, uint64_t router_seq)
{
	gw_sdk_outbox_ack(c, router_seq, 0, 0, 0);
	if (c->out_live == 0 && c->out_abandoned == 0 && !c->stream.on &&
	    router_seq >= c->next_seq) {
		/* The router has seen seqs we were about to reuse (we were
		 * restarted without our persisted sequence): sending them
		 * again would be taken for duplicates and silently dropped. */
		c->next_seq = router_seq + 1;
		c->alloc_seq = c->next_seq;
		c->out_head = c->next_seq;
		c->st.seq_resyncs++;
	}
}

void gw_sdk_outbox_new_session(struct gw_conn *c, uint64_t router_seq)
{
	uint64_t seq;

	/* This router (maybe a new process) stands where it says, whatever
	 * its predecessor had acknowledged. */
	c->router_cum = router_seq;
	gw_sdk_outbox_router_seq(c, router_seq);
	c->cwnd = gw_sdk_window(c);
	c->cwnd_acc = 0;
	for (seq = c->out_head; seq < c->next_seq; seq++) {
		struct gw_sdk_slot *s = slot_of(c, seq);

		if (!s)
			continue;
		s->due_us = 0;
		s->kick = 1;
	}
	c->rtx_due_us = c->out_live ? 0 : UINT64_MAX;
	if (c->stream.on)
		gw_sdk_stream_pump(c, gw_sdk_now_us());
}

/*
 * (Re)transmit whatever is due. Called once per poll; scans the outbox only
 * when the earliest deadline has passed (rtx_due_us is a lower bound: acks
 * do not raise it, the scan does).
 */
void gw_sdk_outbox_timers(struct gw_conn *c, uint64_t now)
{
	uint64_t seq, limit, next = UINT64_MAX;
	uint32_t w;

	if (c->stream.on)
		gw_sdk_stream_pump(c, now);
	if (c->state != GW_SDK_UP || c->out_live == 0) {
		if (c->out_live == 0)
			c->rtx_due_us = UINT64_MAX;
		return;
	}
	if (now < c->rtx_due_us)
		return;
	w = gw_sdk_window(c);
	limit = window_base(c) + w - 1;
	c->rtx_deferred = false;
	for (seq = c->out_head; seq < c->next_seq; seq++) {
		struct gw_sdk_slot *s = slot_of(c, seq);
		struct gw_hdr_args h;

		if (!s)
			continue;
		if (seq > limit) {
			/* Beyond a window that shrank, or that the router's
			 * point holds back: look again later, or as soon as
			 * that point moves. */
			if (next > now + c->rto_us)
				next = now + c->rto_us;
			c->rtx_window_held = true;
			break;
		}
		if (s->queued || s->due_us > now) {
			if (next > s->due_us)
				next = s->due_us;
			continue;
		}
		/* A timeout beyond what the router's ACKs can report on: it
		 * most likely arrived; wait for the head to move. Re-checked
		 * after one RTO in case no ACK comes at all. */
		if (s->tx_count > 0 && !s->kick && seq >= c->out_head + GW_ACK_BITMAP_BITS &&
		    seq > c->ack_reach) {
			c->rtx_deferred = true;
			if (next > now + c->rto_us)
				next = now + c->rto_us;
			continue;
		}
		/* A timeout (not a BUSY retry or a new session) backs off. */
		if (s->tx_count > 0 && !s->kick) {
			s->rto_us *= 2;
			if (s->rto_us > GW_CONN_MAX_RTO_US)
				s->rto_us = GW_CONN_MAX_RTO_US;
		}
		s->kick = 0;
		if (s->fast) {
			s->fast = 0;
			c->st.fast_retransmits++;
		}
		gw_sdk_hdr(c, &h, s->tx_count > 0 ? GW_F_RETRANSMIT : 0, seq);
		gw_wire_rewrite_hdr(s->frame, &h);
		s->due_us = now + s->rto_us;
		if (next > s->due_us)
			next = s->due_us;
		gw_sdk_txq_data(c, (uint32_t)(seq & c->out_mask), now);
	}
	/* Frames the kernel refused during this scan are due again at once;
	 * poll waits for POLLOUT rather than spinning on this deadline. */
	if (c->tx_blocked)
		next = now;
	c->rtx_due_us = next;
}
