/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Duplicate window: cumulative point + RFC 6479 circular bitmap.
 *
 * Invariant: a bit (done or pending) may be set only for a seq in
 * (cum, cum + DP_DEDUP_WINDOW]. The bitmap has DP_DEDUP_BITS positions, so
 * the positions of the 64 seqs (cum + WINDOW, cum + BITS] are always clear,
 * and every position is cleared before cum moves past it: when a seq enters
 * the window its bit therefore starts at never-seen, however far cum moved.
 */
#include <string.h>

#include "dedup.h"

#define DP_DEDUP_MASK ((uint64_t)DP_DEDUP_BITS - 1)

static inline unsigned dp_dedup_word(uint64_t seq)
{
	return (unsigned)((seq & DP_DEDUP_MASK) >> 6);
}

static inline uint64_t dp_dedup_bit(uint64_t seq) { return 1ull << (seq & 63); }

/* seq in (cum, cum + WINDOW], written so that it cannot overflow. */
static inline int dp_dedup_in_window(const struct dp_dedup *w, uint64_t seq)
{
	return seq > w->cum && seq - w->cum <= DP_DEDUP_WINDOW;
}

/* Mask of k (1..64) bits starting at bit sh (sh + k <= 64). */
static inline uint64_t dp_dedup_run_mask(unsigned sh, unsigned k)
{
	return (k == 64 ? ~0ull : ((1ull << k) - 1)) << sh;
}

/* Clear done and pending for the n seqs from seq on (n <= DP_DEDUP_BITS). */
static void dp_dedup_clear_range(struct dp_dedup *w, uint64_t seq, uint64_t n)
{
	while (n > 0) {
		unsigned i = dp_dedup_word(seq), sh = seq & 63;
		unsigned k = 64 - sh;
		uint64_t m;

		if (k > n)
			k = (unsigned)n;
		m = dp_dedup_run_mask(sh, k);
		w->done[i] &= ~m;
		w->pending[i] &= ~m;
		seq += k;
		n -= k;
	}
}

/*
 * Advance cum over the run of done seqs that starts at cum + 1, one word at
 * a time: count the run with ctz of the inverted word, clear it (those
 * positions now belong to seqs a whole bitmap ahead), and continue into the
 * next word only when the run reached the word's end. Runs never extend past
 * cum + WINDOW, so this ends within DP_DEDUP_WORDS + 1 steps.
 */
static void dp_dedup_slide(struct dp_dedup *w)
{
	for (;;) {
		uint64_t next;

		/* No seq above 2^64 - 1: cum + 1 would wrap to 0 and read
		 * positions no seq can own. */
		if (w->cum == UINT64_MAX)
			return;
		next = w->cum + 1;
		unsigned i = dp_dedup_word(next), sh = next & 63;
		/* Bit 0 of avail is seq next; the sh bits shifted in at the top
		 * are 0, so the run cannot count past the end of this word. */
		uint64_t avail = w->done[i] >> sh;
		unsigned run = ~avail == 0 ? 64 : (unsigned)__builtin_ctzll(~avail);
		uint64_t m;

		if (run == 0)
			return;
		m = dp_dedup_run_mask(sh, run);
		w->done[i] &= ~m;
		w->pending[i] &= ~m;
		__atomic_store_n(&w->cum, w->cum + run, __ATOMIC_RELAXED);
		if (sh + run < 64)
			return;
	}
}

void dp_dedup_init(struct dp_dedup *w, uint64_t cum)
{
	memset(w, 0, sizeof(*w));
	w->cum = cum;
}

enum dp_dedup_verdict dp_dedup_check(const struct dp_dedup *w, uint64_t seq)
{
	unsigned i;
	uint64_t b;

	if (seq == 0)
		return DP_DEDUP_INVALID;
	if (seq <= w->cum)
		return DP_DEDUP_DUP;
	if (seq - w->cum > DP_DEDUP_WINDOW)
		return DP_DEDUP_TOO_FAR;
	i = dp_dedup_word(seq);
	b = dp_dedup_bit(seq);
	if (w->done[i] & b)
		return DP_DEDUP_DUP;
	if (w->pending[i] & b)
		return DP_DEDUP_PENDING;
	return DP_DEDUP_NEW;
}

void dp_dedup_set_pending(struct dp_dedup *w, uint64_t seq)
{
	/* On a done seq the pending bit is harmless (check() tests done first,
	 * and the slide clears both), so no test for it. */
	if (dp_dedup_in_window(w, seq))
		w->pending[dp_dedup_word(seq)] |= dp_dedup_bit(seq);
}

void dp_dedup_clear_pending(struct dp_dedup *w, uint64_t seq)
{
	if (dp_dedup_in_window(w, seq))
		w->pending[dp_dedup_word(seq)] &= ~dp_dedup_bit(seq);
}

void dp_dedup_set_done(struct dp_dedup *w, uint64_t seq)
{
	unsigned i = dp_dedup_word(seq);
	uint64_t b = dp_dedup_bit(seq);

	if (!dp_dedup_in_window(w, seq))
		return;
	w->done[i] |= b;
	w->pending[i] &= ~b;
	if (seq == w->cum + 1)
		dp_dedup_slide(w);
}

void dp_dedup_advance(struct dp_dedup *w, uint64_t new_cum)
{
	uint64_t d;

	if (new_cum <= w->cum)
		return;
	d = new_cum - w->cum;
	if (d >= DP_DEDUP_BITS) {
		memset(w->done, 0, sizeof(w->done));
		memset(w->pending, 0, sizeof(w->pending));
	} else {
		dp_dedup_clear_range(w, w->cum + 1, d);
	}
	__atomic_store_n(&w->cum, new_cum, __ATOMIC_RELAXED);
	dp_dedup_slide(w);
}

uint64_t dp_dedup_ack_bitmap(const struct dp_dedup *w, uint64_t base)
{
	uint64_t cum = w->cum, r = 0, s0, p, bits;
	unsigned lo = 0, i, sh;

	/* Leading bits for seqs <= cum: all done. */
	if (base <= cum) {
		/* k + 1 leading bits; cum - base + 1 would wrap for base 0 and
		 * cum 2^64 - 1. */
		uint64_t k = cum - base;

		if (k >= 63)
			return ~0ull;
		lo = (unsigned)k + 1;
		r = (1ull << lo) - 1;
		if (cum == UINT64_MAX)
			return r; /* nothing above cum: base + lo would wrap */
	}
	s0 = base + lo; /* first seq above cum: base <= cum, or lo is 0 */
	if (s0 - cum > DP_DEDUP_WINDOW)
		return r;
	/* 64 bits of the circular bitmap from s0's position, across the word
	 * boundary (and the wrap from the last word to the first). */
	p = s0 & DP_DEDUP_MASK;
	i = (unsigned)(p >> 6);
	sh = (unsigned)(p & 63);
	bits = w->done[i] >> sh;
	if (sh != 0)
		bits |= w->done[(i + 1) % DP_DEDUP_WORDS] << (64 - sh);
	/* No mask is needed for seqs past cum + WINDOW: s0 <= cum + WINDOW, so
	 * the 64 positions end at most at cum + BITS - 1, and by the invariant
	 * the ones past cum + WINDOW are clear. */
	bits <<= lo;
	/* Bits past 2^64 - 1 name no seq (PROTOCOL.md section 9); their
	 * positions are clear by the invariant, masked all the same. */
	if (base > UINT64_MAX - 63)
		bits &= ~0ull >> (63 - (unsigned)(UINT64_MAX - base));
	return r | bits;
}

unsigned dp_dedup_acks(const struct dp_dedup *w, uint64_t lo, uint64_t hi,
		       struct dp_dedup_ack out[DP_DEDUP_ACK_MAX])
{
	uint64_t cum = w->cum, b, span, k, nf;
	unsigned n = 0;

	if (cum == UINT64_MAX) {
		out[0] = (struct dp_dedup_ack){cum, 0};
		return 1;
	}
	b = lo > cum ? lo : cum + 1;
	if (hi < b)
		hi = b;
	/* Offsets from b, never sums: b + span <= hi cannot wrap, and the
	 * frames beyond the window would name nothing. */
	span = hi - b;
	if (span > DP_DEDUP_WINDOW - 1)
		span = DP_DEDUP_WINDOW - 1;
	nf = span / 64 + 1;
	for (k = 0; k < nf; k++, b += 64) {
		uint64_t bm = dp_dedup_ack_bitmap(w, b);

		if (bm == 0 && b != cum + 1)
			continue;
		out[n++] = (struct dp_dedup_ack){b, bm};
	}
	return n;
}
