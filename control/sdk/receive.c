/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiving side of the connector SDK: DATA from the router.
 *
 * The router numbers what it sends us with its own per-destination egress
 * link sequence (PROTOCOL.md 8), monotonic for the router process's life and
 * reused by its retransmissions. We keep a duplicate window over those
 * numbers (struct dp_dedup, the same code the router runs per origin), for
 * the handle's whole life, across sessions: a frame seen for the first time
 * is delivered, every other copy is counted and acknowledged again, never
 * delivered twice.
 *
 * Acknowledgements are batched: at the end of each receive batch, one ACK
 * (cumulative point, bitmap of the 64 seqs above it), plus one more per
 * distinct 64-seq block for frames of the batch that lie beyond that bitmap,
 * so that every frame taken or recognised as a duplicate is covered by an
 * ACK (PROTOCOL.md 9).
 */
#include "sdk_internal.h"

/*
 * The router's egress window rule (PROTOCOL.md 10): it sends egress seq s
 * only while s <= L' + R - 1, L' its lowest seq we have not acknowledged,
 * R our rx_window. So when s arrives, every seq <= s - R was acknowledged by
 * us, or by an earlier process of this connector, and will never need
 * delivering: the cumulative point may move there. This is what lets a new
 * handle join an egress sequence that is already far along (the router does
 * not tell us where it stands) without taking a reordered lower frame for a
 * duplicate, and it keeps s within our window (s - cum <= R <= the window).
 * It assumes the router applies our current R; we announce the same R in
 * every HELLO of a handle.
 */
static void rx_advance(struct gw_conn *c, uint64_t seq)
{
	if (seq > c->rx_window && seq - c->rx_window > dp_dedup_cum(&c->rx_dedup)) {
		dp_dedup_advance(&c->rx_dedup, seq - c->rx_window);
		c->rx_dirty = true;
	}
}

/*
 * WELCOME.seq T: the router's cumulative point on our egress link
 * (PROTOCOL.md 3.5). Every seq <= T is acknowledged or never existed, so
 * the window's point moves up to T. A T far below our point (by more than
 * 2^32) comes from another router process, which numbers its egress links
 * in a sequence space of its own (PROTOCOL.md 8): our marks mean nothing
 * there, and the window starts afresh at T; otherwise the new router's
 * messages would all look like duplicates.
 */
void gw_sdk_rx_place(struct gw_conn *c, uint64_t t)
{
	uint64_t cum = dp_dedup_cum(&c->rx_dedup);

	if (!c->rx_placed || t + (1ull << 32) < cum) {
		if (c->rx_placed)
			c->st.rx_replaced++;
		dp_dedup_init(&c->rx_dedup, t);
		c->rx_placed = true;
		c->rx_dirty = true;
	} else if (t > cum) {
		dp_dedup_advance(&c->rx_dedup, t);
		c->rx_dirty = true;
	}
}

static void rx_mark(struct gw_conn *c, uint64_t seq)
{
	if (c->rx_seq_n < GW_CONN_BATCH)
		c->rx_seqs[c->rx_seq_n++] = seq;
}

void gw_sdk_rx_taken(struct gw_conn *c, uint64_t seq)
{
	dp_dedup_set_done(&c->rx_dedup, seq);
	c->rx_dirty = true;
	rx_mark(c, seq);
}

void gw_sdk_rx_data(struct gw_conn *c, const struct gw_frame *f, uint64_t now)
{
	rx_advance(c, f->seq);
	switch (dp_dedup_check(&c->rx_dedup, f->seq)) {
	case DP_DEDUP_NEW:
		/* A chunk: reassembly marks it (before any callback) when it
		 * takes it, and leaves it unmarked and unacknowledged when a
		 * bound refuses it, for the router to retransmit. */
		if (f->flags & GW_F_CHUNK) {
			(void)gw_sdk_reasm_chunk(c, f, now);
			return;
		}
		/* Mark before delivering: whatever the callback does, this
		 * seq is never delivered again. */
		gw_sdk_rx_taken(c, f->seq);
		c->st.delivered++;
		if (c->on_message)
			c->on_message(c->arg, f->u.data.origin, f->u.data.origin_seq,
				      (const char *)f->u.data.dest, f->u.data.dest_len,
				      f->u.data.payload, f->u.data.payload_len);
		else if (c->on_deliver)
			c->on_deliver(c->arg, f->u.data.origin, f->u.data.origin_seq,
				      (const char *)f->u.data.dest, f->u.data.dest_len,
				      f->u.data.payload, f->u.data.payload_len);
		return;
	case DP_DEDUP_DUP:
	case DP_DEDUP_PENDING: /* we never leave seqs pending; be safe */
		c->st.duplicates++;
		rx_mark(c, f->seq);
		return;
	case DP_DEDUP_TOO_FAR:
		/* Only if the router broke our rx_window: drop without ACK;
		 * it retransmits once our window has moved. */
		c->st.rx_too_far++;
		return;
	case DP_DEDUP_INVALID:
	default:
		c->st.rx_bad++;
		return;
	}
}

static bool ack_block(struct gw_conn *c, uint64_t cum, uint64_t base, uint64_t now)
{
	struct gw_hdr_args h;
	uint8_t *buf = gw_sdk_txq_ctl(c, now);

	if (!buf)
		return false; /* the router retransmits; we ACK then */
	gw_sdk_hdr(c, &h, 0, cum);
	gw_sdk_txq_commit_ctl(c, gw_wire_encode_ack(buf, GW_SDK_CTL_FRAME_MAX, &h, base,
						     dp_dedup_ack_bitmap(&c->rx_dedup, base)));
	c->st.acks_sent++;
	return true;
}

void gw_sdk_rx_batch_end(struct gw_conn *c, uint64_t now)
{
	uint64_t cum, blocks[GW_CONN_BATCH];
	uint32_t i, j, nb = 0;

	if (c->rx_seq_n == 0)
		return;
	cum = dp_dedup_cum(&c->rx_dedup);
	if (!ack_block(c, cum, cum + 1, now))
		goto out;
	/* Frames beyond cum + 64 (a gap below them): ACK their 64-aligned
	 * blocks, each once. Rare in steady state, a few after a loss. */
	for (i = 0; i < c->rx_seq_n; i++) {
		uint64_t b, seq = c->rx_seqs[i];

		if (seq <= cum + GW_ACK_BITMAP_BITS)
			continue;
		b = seq & ~(uint64_t)(GW_ACK_BITMAP_BITS - 1);
		for (j = 0; j < nb && blocks[j] != b; j++)
			;
		if (j < nb)
			continue;
		blocks[nb++] = b;
		if (!ack_block(c, cum, b, now))
			break;
	}
out:
	c->rx_seq_n = 0;
}
