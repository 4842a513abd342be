/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one walk over an ACK's cumulative point and bitmap: which sequence
 * numbers a (cum, base, bitmap) acknowledgement names, limited to the range
 * the caller accepts. The router's custody, the SDK's outbox and the
 * benchmark's generator acknowledge through it.
 *
 * An ACK names every seq <= cum, and base + i for each set bit i of bitmap
 * whose sum does not pass 2^64 - 1 (include/gwart/PROTOCOL.md section 9:
 * base is normally cum + 1, but the sender chooses it freely). The
 * caller says which seqs it can act on, [lo, end): its oldest unresolved seq
 * and the first seq it never sent. The walk yields each named seq of that
 * range exactly once, in ascending order: first the cumulative ones
 * (DP_ACK_CUM), then the bitmap's above cum (DP_ACK_SEL); bitmap bits at or
 * below cum are part of the cumulative run and are not yielded twice.
 *
 * Bounds: the walk takes at most (end - lo) + 64 steps whatever the input,
 * never wraps around 2^64, and never yields a seq outside [lo, end). The
 * caller bounds its own work by the span it passes.
 *
 * Pure and reentrant: no state beyond the caller's struct dp_ack_walk.
 */
#ifndef GWART_DP_ACK_H
#define GWART_DP_ACK_H

#include <stdbool.h>
#include <stdint.h>

enum dp_ack_kind {
	DP_ACK_END = 0, /* nothing more: *seq untouched */
	DP_ACK_CUM,     /* *seq <= cum: covered by the cumulative point */
	DP_ACK_SEL,     /* *seq > cum: named by a bitmap bit */
};

/* Walk state; fields are private to the functions below. */
struct dp_ack_walk {
	uint64_t next;    /* next cumulative seq */
	uint64_t cum_end; /* cumulative seqs still to yield: [next, cum_end) */
	uint64_t base;
	uint64_t bits;    /* bitmap bits still to yield, already clipped */
};

/*
 * Every seq the ACK names lies in [1, end): cum < end, and if bitmap is not
 * 0, base >= 1 and base + (highest bit) neither wraps nor reaches end. The
 * router refuses any other ACK as a whole (it names what was never sent).
 */
static inline bool dp_ack_valid(uint64_t cum, uint64_t base, uint64_t bitmap, uint64_t end)
{
	unsigned top;

	if (cum >= end)
		return false;
	if (bitmap == 0)
		return true;
	top = 63u - (unsigned)__builtin_clzll(bitmap);
	return base != 0 && base <= UINT64_MAX - top && base + top < end;
}

/* Start walking the ACK (cum, base, bitmap) over the accepted range
 * [lo, end); an empty range (lo >= end) yields nothing. */
static inline void dp_ack_walk_init(struct dp_ack_walk *w, uint64_t cum, uint64_t base,
				    uint64_t bitmap, uint64_t lo, uint64_t end)
{
	uint64_t d;

	w->next = lo;
	w->base = base;
	w->bits = 0;
	if (lo >= end) {
		w->cum_end = lo;
		return;
	}
	/* Cumulative part: [lo, min(cum + 1, end)), where cum + 1 may not
	 * exist (cum == UINT64_MAX). */
	if (cum >= end - 1)
		w->cum_end = end;
	else if (cum < lo)
		w->cum_end = lo;
	else
		w->cum_end = cum + 1;
	/* Bitmap part: base + i in [cum_end, end). Comparing offsets from
	 * base, never sums, keeps every step clear of the wrap. */
	if (bitmap == 0 || base >= end)
		return;
	d = end - base; /* offsets i < d are below end */
	if (d < 64)
		bitmap &= (1ull << d) - 1;
	if (w->cum_end > base) {
		d = w->cum_end - base; /* offsets i < d are cumulative or below lo */
		bitmap = d < 64 ? bitmap & (~0ull << d) : 0;
	}
	w->bits = bitmap;
}

/* The next named seq of the range into *seq, and how it is named;
 * DP_ACK_END when the walk is done. */
static inline enum dp_ack_kind dp_ack_walk_next(struct dp_ack_walk *w, uint64_t *seq)
{
	unsigned i;

	if (w->next < w->cum_end) {
		*seq = w->next++;
		return DP_ACK_CUM;
	}
	if (w->bits == 0)
		return DP_ACK_END;
	i = (unsigned)__builtin_ctzll(w->bits);
	w->bits &= w->bits - 1;
	*seq = w->base + i;
	return DP_ACK_SEL;
}

#endif
