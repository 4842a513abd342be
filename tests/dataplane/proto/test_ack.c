/* SPDX-License-Identifier: BSD-3-Clause */
/* The ACK walk (ack.h): numbered table cases at the edges (bitmap bits 0 and
 * 63, base = cum + 1, cum already past, seqs near UINT64_MAX, hostile bases),
 * the validity rule, and a cross-check against the obvious per-seq
 * definition with its step bound, on random input. */
#include <criterion/criterion.h>

#include "ack.h"

TestSuite(ack);

#define M UINT64_MAX
#define NS 12

struct ack_case {
	uint64_t cum, base, bitmap, lo, end;
	unsigned n;                /* seqs yielded */
	uint64_t seq[NS];          /* the first min(n, NS) of them */
	unsigned n_cum;            /* how many of them are DP_ACK_CUM (they come first) */
};

static const struct ack_case cases[] = {
	/* 1. cumulative only, base = cum + 1, empty bitmap */
	{5, 6, 0, 1, 10, 5, {1, 2, 3, 4, 5}, 5},
	/* 2. bitmap bit 0 at base = cum + 1 */
	{5, 6, 1, 1, 10, 6, {1, 2, 3, 4, 5, 6}, 5},
	/* 3. bitmap bit 63 */
	{5, 6, 1ull << 63, 1, 100, 6, {1, 2, 3, 4, 5, 69}, 5},
	/* 4. bit 63 names end itself: outside [lo, end) */
	{5, 6, 1ull << 63, 1, 69, 5, {1, 2, 3, 4, 5}, 5},
	/* 5. bits 0 and 63 both, holes between */
	{5, 6, 1ull | 1ull << 63, 3, 70, 5, {3, 4, 5, 6, 69}, 3},
	/* 6. holes: bits 0, 2, 5 above cum */
	{10, 11, 0x25, 9, 30, 5, {9, 10, 11, 13, 16}, 2},
	/* 7. cum already past: below lo, the bitmap's part in range only */
	{3, 4, M, 10, 20, 10, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 0},
	/* 8. cum beyond end: the whole range, cumulatively; bitmap ignored */
	{1000, 1001, M, 10, 20, 10, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 10},
	/* 9. cum == end - 1: the whole range */
	{19, 5, M, 10, 20, 10, {10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 10},
	/* 10. bitmap overlapping the cumulative run: no seq twice */
	{10, 5, 0xffff, 8, 30, 13, {8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}, 3},
	/* 11. empty range: lo == end */
	{100, 1, M, 7, 7, 0, {0}, 0},
	/* 12. empty range: lo > end */
	{100, 1, M, 9, 7, 0, {0}, 0},
	/* 13. nothing acknowledged: cum below lo, empty bitmap */
	{0, 1, 0, 1, 50, 0, {0}, 0},
	/* 14. base 0: bit 0 names seq 0, below lo */
	{0, 0, 3, 1, 10, 1, {1}, 0},
	/* 15. base far above end */
	{2, 1000, M, 1, 10, 2, {1, 2}, 2},
	/* 16. base near 2^64: bits past the top would wrap to 0..60; never */
	{0, M - 2, M, 1, 100, 0, {0}, 0},
	/* 17. seqs near UINT64_MAX: end is exclusive, the wrap never taken */
	{M - 5, M - 1, 7, M - 5, M, 2, {M - 5, M - 1}, 1},
	/* 18. cum == UINT64_MAX: cum + 1 does not exist */
	{M, 1, M, M - 3, M, 3, {M - 3, M - 2, M - 1}, 3},
	/* 19. the whole bitmap in range, right at the top */
	{0, M - 64, M, M - 64, M, 64, {M - 64, M - 63, M - 62, M - 61, M - 60, M - 59, M - 58,
				       M - 57, M - 56, M - 55, M - 54, M - 53}, 0},
	/* 20. a huge range with a small ACK: steps follow the ACK, not the range */
	{3, 4, 1ull << 10, 1, M, 4, {1, 2, 3, 14}, 3},
};

Test(ack, table)
{
	unsigned t;

	for (t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
		const struct ack_case *c = &cases[t];
		struct dp_ack_walk w;
		enum dp_ack_kind k;
		unsigned n = 0, n_cum = 0;
		uint64_t s = 0x5a5a, last = 0;

		dp_ack_walk_init(&w, c->cum, c->base, c->bitmap, c->lo, c->end);
		while ((k = dp_ack_walk_next(&w, &s)) != DP_ACK_END) {
			cr_assert(n < 200, "case %u: runaway walk", t + 1);
			if (n < NS)
				cr_assert_eq(s, c->seq[n], "case %u: seq #%u is %lu, want %lu", t + 1,
					     n, s, c->seq[n]);
			if (k == DP_ACK_CUM) {
				cr_assert_eq(n_cum, n, "case %u: CUM after SEL", t + 1);
				n_cum++;
			}
			if (n > 0)
				cr_assert_gt(s, last, "case %u: not ascending", t + 1);
			last = s;
			n++;
		}
		cr_assert_eq(n, c->n, "case %u: %u seqs, want %u", t + 1, n, c->n);
		cr_assert_eq(n_cum, c->n_cum, "case %u: %u cumulative, want %u", t + 1, n_cum,
			     c->n_cum);
		/* Done stays done. */
		cr_assert_eq(dp_ack_walk_next(&w, &s), DP_ACK_END);
	}
	/* 19: its last seq too, and nothing above. */
	{
		struct dp_ack_walk w;
		uint64_t s, last = 0;

		dp_ack_walk_init(&w, 0, M - 64, M, M - 64, M);
		while (dp_ack_walk_next(&w, &s) != DP_ACK_END)
			last = s;
		cr_assert_eq(last, M - 1);
	}
}

struct valid_case {
	uint64_t cum, base, bitmap, end;
	bool ok;
};

static const struct valid_case valid[] = {
	{9, 10, 0, 10, true},		   /* 1. cum just below end */
	{10, 11, 0, 10, false},		   /* 2. cum == end: never sent */
	{0, 1, 0, 1, true},		   /* 3. nothing, nothing sent */
	{5, 6, 1, 7, true},		   /* 4. bit 0 just below end */
	{5, 6, 1, 6, false},		   /* 5. bit 0 at end */
	{0, 1, 1ull << 63, 65, true},	   /* 6. bit 63 just below end */
	{0, 1, 1ull << 63, 64, false},	   /* 7. bit 63 at end */
	{0, 0, 1, 100, false},		   /* 8. base 0 with a bitmap */
	{0, 0, 0, 100, true},		   /* 9. base 0, no bitmap: base unused */
	{0, M - 1, 4, M, false},	   /* 10. base + 2 wraps to 0 */
	{0, M - 1, 1, M, true},		   /* 11. base + 0 = M - 1 < M */
	{0, M, 1, M, false},		   /* 12. base + 0 = M, not below M */
	{M, 1, 0, M, false},		   /* 13. cum = UINT64_MAX */
	{3, 2, 3, 5, true},		   /* 14. base below cum: still only sent seqs */
};

Test(ack, valid)
{
	unsigned t;

	for (t = 0; t < sizeof(valid) / sizeof(valid[0]); t++) {
		const struct valid_case *v = &valid[t];

		cr_assert_eq(dp_ack_valid(v->cum, v->base, v->bitmap, v->end), v->ok, "case %u",
			     t + 1);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A value near one of the interesting places: 0, an anchor, 2^64. */
static uint64_t near(uint64_t anchor)
{
	switch (rnd() % 4) {
	case 0:
		return rnd() % 130;
	case 1:
		return M - rnd() % 130;
	case 2:
		return anchor + rnd() % 130 - 65;
	}
	return rnd();
}

/* Whether the definition names any seq of [x, y), x < y: O(64) whatever
 * the width. */
static int named_in(uint64_t x, uint64_t y, uint64_t cum, uint64_t base, uint64_t bm)
{
	unsigned i;

	if (x <= cum)
		return 1;
	for (i = 0; i < 64; i++)
		if ((bm >> i) & 1 && base <= UINT64_MAX - i && base + i >= x && base + i < y)
			return 1;
	return 0;
}

/* The definition: s is named if s <= cum or bit (s - base) is set. */
static int named(uint64_t s, uint64_t cum, uint64_t base, uint64_t bm)
{
	if (s <= cum)
		return DP_ACK_CUM;
	if (s >= base && s - base < 64 && (bm >> (s - base)) & 1)
		return DP_ACK_SEL;
	return DP_ACK_END;
}

Test(ack, matches_definition_and_bound)
{
	unsigned round;

	for (round = 0; round < 200000; round++) {
		uint64_t anchor = rnd(), lo = near(anchor), span = rnd() % 200, end, s, x;
		uint64_t cum = near(lo), base = near(lo), bm = rnd();
		struct dp_ack_walk w;
		enum dp_ack_kind k;
		unsigned steps = 0;

		if (rnd() % 4 == 0)
			bm &= rnd() & rnd();
		end = lo + span < lo ? M : lo + span;
		if (rnd() % 16 == 0)
			end = rnd(); /* anything, empty ranges included */
		/* A wide range walks what the ACK covers of it: keep that short
		 * (the bound below still holds for the range). */
		if (lo < end && cum >= lo && cum - lo > 256)
			cum = lo + rnd() % 256;
		dp_ack_walk_init(&w, cum, base, bm, lo, end);
		x = lo; /* next seq of the range the definition still has to check */
		while ((k = dp_ack_walk_next(&w, &s)) != DP_ACK_END) {
			cr_assert(++steps <= 256 + 64, "runaway walk");
			cr_assert(s >= lo && s < end, "seq %lu outside [%lu, %lu)", s, lo, end);
			cr_assert(s >= x, "seq %lu repeated or out of order", s);
			cr_assert(x == s || !named_in(x, s, cum, base, bm),
				  "a seq of [%lu, %lu) named but skipped (cum %lu base %lu bm %lx)",
				  x, s, cum, base, bm);
			cr_assert_eq((int)k, named(s, cum, base, bm), "seq %lu: kind %d", s, k);
			x = s + 1;
			if (x == 0)
				break; /* s was UINT64_MAX: impossible, as s < end */
		}
		if (lo < end) {
			cr_assert_leq(steps, (end - lo) + 64);
			cr_assert(x >= end || !named_in(x, end, cum, base, bm),
				  "a seq of [%lu, %lu) missed (cum %lu base %lu bm %lx)", x, end, cum,
				  base, bm);
		} else {
			cr_assert_eq(steps, 0);
		}
	}
}
