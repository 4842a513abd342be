/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-origin duplicate window (PROTOCOL.md, "Duplicate window rule").
 *
 * A cumulative point plus a circular bitmap in the manner of RFC 6479: every
 * seq <= cum is done; seqs in (cum, cum + DP_DEDUP_WINDOW] are tracked one
 * bit each; anything beyond is refused (the sender broke the window rule).
 * The bitmap has one 64-bit block more than the window so that the bits a
 * seq will use when it enters the window are always already clear.
 *
 * Each seq in the window is in one of three states:
 *   never seen   done=0 pending=0   -> DP_DEDUP_NEW
 *   pending      done=0 pending=1   -> DP_DEDUP_PENDING (forwarded, custody
 *                                      not confirmed yet)
 *   done         done=1 pending=0   -> DP_DEDUP_DUP
 *
 * The router keeps one per origin connector (ingress link); the connector SDK
 * keeps one per session on its receive side (egress link), where "pending"
 * is simply unused.
 *
 * Threading: no locks and no atomics. A struct dp_dedup has exactly one
 * owner thread (the worker that owns the origin connector, or the SDK's
 * receive path); no function here may be called concurrently on the same
 * window. Pure code: no allocation, no I/O, no DPDK.
 */
#ifndef GWART_DP_DEDUP_H
#define GWART_DP_DEDUP_H

#include <stdint.h>

/* Bits per origin (power of two, multiple of 64). The usable window
 * announced to connectors is DP_DEDUP_BITS - 64 (one block is kept clear so
 * the window can slide a block at a time). */
#define DP_DEDUP_BITS 1024
#define DP_DEDUP_WINDOW (DP_DEDUP_BITS - 64) /* messages */

#define DP_DEDUP_WORDS (DP_DEDUP_BITS / 64)

_Static_assert(DP_DEDUP_BITS % 64 == 0 && (DP_DEDUP_BITS & (DP_DEDUP_BITS - 1)) == 0,
	       "DP_DEDUP_BITS must be a power of two and a multiple of 64");
_Static_assert(DP_DEDUP_WINDOW <= DP_DEDUP_BITS - 64,
	       "one 64-bit block of the bitmap must stay outside the window");

struct dp_dedup {
	uint64_t cum;			  /* every seq <= cum is done (relaxed stores) */
	uint64_t done[DP_DEDUP_WORDS];	  /* circular bitmap, bit for seq at seq % DP_DEDUP_BITS */
	uint64_t pending[DP_DEDUP_WORDS]; /* forwarded, custody not yet confirmed */
};

enum dp_dedup_verdict {
	DP_DEDUP_NEW = 0, /* never seen: caller may take it */
	DP_DEDUP_DUP,	  /* seq <= cum or done: re-acknowledge, do not forward */
	DP_DEDUP_PENDING, /* seen, custody not confirmed yet: drop silently, the ACK will follow */
	DP_DEDUP_TOO_FAR, /* seq > cum + DP_DEDUP_WINDOW: sender broke the window rule */
	DP_DEDUP_INVALID, /* seq == 0 */
};

/*
 * Start a window whose cumulative point is cum (0: nothing seen yet; the
 * first seq is 1). Every seq above cum is never-seen.
 */
void dp_dedup_init(struct dp_dedup *w, uint64_t cum);

/* Classify seq. Does not modify the window. O(1). */
enum dp_dedup_verdict dp_dedup_check(const struct dp_dedup *w, uint64_t seq);

/*
 * Mark seq forwarded, custody not confirmed. Precondition: check() == NEW.
 * A seq outside (cum, cum + DP_DEDUP_WINDOW] is ignored.
 */
void dp_dedup_set_pending(struct dp_dedup *w, uint64_t seq);

/*
 * The forward of seq was refused after all (e.g. BUSY): seq becomes never
 * seen again, so a retry is taken as NEW. Done seqs are not affected; a seq
 * outside the window is ignored.
 */
void dp_dedup_clear_pending(struct dp_dedup *w, uint64_t seq);

/*
 * seq is done (custody taken), from NEW or PENDING. When seq == cum + 1 the
 * cumulative point advances over every contiguous done seq, word by word,
 * and the bits it passes are cleared so that the seqs which later map to
 * them start never-seen. Amortised O(1); at most DP_DEDUP_WORDS + 1 word
 * steps in one call. A seq outside (cum, cum + DP_DEDUP_WINDOW] is ignored.
 */
void dp_dedup_set_done(struct dp_dedup *w, uint64_t seq);

/*
 * The sender declares every seq <= new_cum settled (done or abandoned), e.g.
 * from a HELLO whose next origin_seq is new_cum + 1, or after the origin gave
 * up on refused messages. Raises cum to new_cum (never lowers it), forgets
 * done and pending marks at or below it, then advances over contiguous done
 * seqs as set_done() does. Any jump distance is fine (O(DP_DEDUP_WORDS)).
 * A pending mark dropped here is the caller's to reconcile.
 */
void dp_dedup_advance(struct dp_dedup *w, uint64_t new_cum);

static inline uint64_t dp_dedup_cum(const struct dp_dedup *w) { return w->cum; }

/*
 * The selective part of an ACK: bit i set iff seq base + i is done (every
 * seq <= cum counts as done). base >= 1 is expected (ACK bases are link
 * seqs); base 0 follows the same rule. Bits whose seq would pass 2^64 - 1
 * are 0. O(1).
 */
uint64_t dp_dedup_ack_bitmap(const struct dp_dedup *w, uint64_t base);

/*
 * The ACK frames that report a batch of seqs: every seq in [lo, hi] was
 * taken or recognised as a duplicate since the last batch (lo <= hi). Each
 * frame carries the window's cumulative point and a 64-seq bitmap from its
 * base: the first from max(lo, cum + 1), then every 64 seqs up to hi,
 * leaving out those that would name nothing (bitmap 0), except the one at
 * cum + 1, which carries the cumulative point. When cum is 2^64 - 1 there
 * is no seq above it: one frame, bitmap 0, base cum.
 *
 * Bounded by the window, not by lo and hi: seqs beyond cum + DP_DEDUP_WINDOW
 * are never done, so at most DP_DEDUP_ACK_MAX frames, and no sum passes
 * 2^64 - 1 whatever lo, hi and cum are. Returns how many frames it wrote.
 */
#define DP_DEDUP_ACK_MAX ((DP_DEDUP_WINDOW - 1) / 64 + 1)

struct dp_dedup_ack {
	uint64_t base;
	uint64_t bitmap;
};

unsigned dp_dedup_acks(const struct dp_dedup *w, uint64_t lo, uint64_t hi,
		       struct dp_dedup_ack out[DP_DEDUP_ACK_MAX]);

#endif
