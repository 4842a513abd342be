/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Duplicate window tests: a numbered, table-driven walk over every window
 * edge (in the manner of WireGuard's replay-counter self-test), loops that
 * wrap the circular bitmap many times, and a seeded randomized model check
 * against a plain array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dedup.h"

#define W ((uint64_t)DP_DEDUP_WINDOW)
#define B ((uint64_t)DP_DEDUP_BITS)
#define NEW DP_DEDUP_NEW
#define DUP DP_DEDUP_DUP
#define PEND DP_DEDUP_PENDING
#define FAR DP_DEDUP_TOO_FAR
#define INV DP_DEDUP_INVALID

/*
 * One step of the table. Ops:
 *   'i' init(cum = seq)          'c' check(seq) == want
 *   'p' set_pending(seq)         'x' clear_pending(seq)
 *   'd' set_done(seq)            'D' set_done for seq .. want (inclusive)
 *   'a' advance(seq)             'C' cum == seq
 *   'b' ack_bitmap(base = seq) == want
 */
struct dd_step {
	char op;
	uint64_t seq;
	uint64_t want;
};

static const struct dd_step dd_table[] = {
    /* Fresh window: 0 is invalid, 1 .. W are new, W + 1 is too far. */
    {'i', 0},
    {'c', 0, INV},
    {'c', 1, NEW},
    {'c', 2, NEW},
    {'c', W - 1, NEW},
    {'c', W, NEW},
    {'c', W + 1, FAR},
    {'c', B, FAR},
    {'c', UINT64_MAX, FAR},
    {'C', 0},
    /* In-order done advances cum; the window moves with it. */
    {'d', 1},
    {'C', 1},
    {'c', 1, DUP},
    {'c', 0, INV},
    {'c', 2, NEW},
    {'c', W + 1, NEW},
    {'c', W + 2, FAR},
    /* Out of order: 3, 4, 5 done leave cum at 1 until 2 arrives. */
    {'d', 3},
    {'d', 5},
    {'d', 4},
    {'C', 1},
    {'c', 2, NEW},
    {'c', 3, DUP},
    {'c', 5, DUP},
    {'c', 6, NEW},
    {'d', 2},
    {'C', 5},
    /* Pending -> done. */
    {'p', 6},
    {'c', 6, PEND},
    {'C', 5},
    {'d', 6},
    {'C', 6},
    {'c', 6, DUP},
    /* Pending -> cleared (BUSY) -> new again -> done. */
    {'p', 7},
    {'c', 7, PEND},
    {'x', 7},
    {'c', 7, NEW},
    {'p', 7},
    {'c', 7, PEND},
    {'d', 7},
    {'C', 7},
    /* Pending does not advance cum; a later done does, over it not. */
    {'p', 8},
    {'d', 9},
    {'C', 7},
    {'c', 8, PEND},
    {'c', 9, DUP},
    {'d', 8},
    {'C', 9},
    /* The far edge: cum + W accepted, cum + W + 1 refused. */
    {'c', 9 + W, NEW},
    {'c', 10 + W, FAR},
    {'d', 9 + W},
    {'C', 9},
    {'c', 9 + W, DUP},
    {'d', 10 + W}, /* too far: ignored */
    {'c', 10 + W, FAR},
    {'C', 9},
    /* Fill every hole below the far edge but the first: cum stays. */
    {'D', 11, 8 + W},
    {'C', 9},
    {'c', 10, NEW},
    /* The missing one arrives: cum jumps the whole window in one call. */
    {'d', 10},
    {'C', 9 + W},
    {'c', 9 + W, DUP},
    {'c', 10, DUP},
    /* Positions reused by the next lap start clean. */
    {'c', 10 + W, NEW},
    {'c', 10 + B, NEW},
    {'c', 11 + B, NEW},
    {'c', 9 + 2 * W, NEW},
    {'c', 10 + 2 * W, FAR},
    /* Calls outside the window are no-ops. */
    {'p', 5},
    {'x', 5},
    {'d', 5},
    {'c', 5, DUP},
    {'p', 10 + 2 * W},
    {'c', 10 + 2 * W, FAR},
    {'C', 9 + W},
    /* set_pending on a done seq does not make it forwardable again. */
    {'d', 20 + W},
    {'p', 20 + W},
    {'x', 20 + W},
    {'c', 20 + W, DUP},

    /* ack_bitmap: cum 100, done 102, 104, 165. */
    {'i', 100},
    {'d', 102},
    {'d', 104},
    {'d', 165},
    {'C', 100},
    {'b', 1, ~0ull},				   /* 1..64 all <= cum */
    {'b', 37, ~0ull},				   /* 37..100 all <= cum */
    {'b', 38, (1ull << 63) - 1},		   /* 38..100 (63 bits), 101 not */
    {'b', 40, ((1ull << 61) - 1) | (1ull << 62)},  /* 40..100, 102 */
    {'b', 100, 1ull | (1ull << 2) | (1ull << 4)},  /* 100, 102, 104 */
    {'b', 101, (1ull << 1) | (1ull << 3)},	   /* 102, 104; 165 out */
    {'b', 102, 1ull | (1ull << 2) | (1ull << 63)}, /* 102, 104, 165 */
    {'b', 105, 1ull << 60},
    {'b', 166, 0},
    {'b', 100 + W, 0},
    {'d', 100 + W},
    {'b', 100 + W, 1},
    {'b', 99 + W, 2},
    {'b', 101 + W, 0}, /* beyond the window: never set */
    {'b', 40 + W, 1ull << 60},
    {'b', 0, ~0ull},
    /* ack_bitmap across the end of the circular bitmap. */
    {'i', B - 24},	 /* cum + 1 sits in the last word */
    {'D', B - 4, B + 6}, /* positions 1020..1023, 0..6 */
    {'b', B - 23, ((1ull << 11) - 1) << 19},
    {'b', B, ((1ull << 7) - 1)},
    {'b', B - 30, ((1ull << 7) - 1) | (((1ull << 11) - 1) << 26)},
    {'c', B - 5, NEW},
    {'c', B - 4, DUP},
    {'c', B + 6, DUP},
    {'c', B + 7, NEW},
    {'D', B - 23, B - 5},
    {'C', B + 6},
    {'b', B - 23, (1ull << 30) - 1},

    /* advance(): far jumps, no lowering, stale marks forgotten. */
    {'i', 0},
    {'c', 1ull << 40, FAR},
    {'a', 1ull << 40},
    {'C', 1ull << 40},
    {'c', 5, DUP},
    {'c', (1ull << 40) + 1, NEW},
    {'c', (1ull << 40) + W, NEW},
    {'c', (1ull << 40) + W + 1, FAR},
    {'a', 7}, /* lower: no effect */
    {'C', 1ull << 40},
    {'i', 0},
    {'d', 3},
    {'d', 5},
    {'a', 2}, /* lands next to 3: slides over it */
    {'C', 3},
    {'c', 4, NEW},
    {'c', 5, DUP},
    {'a', 4},
    {'C', 5},
    {'i', 0},
    {'p', 900},
    {'d', 930},
    {'a', 899},
    {'c', 900, PEND},
    {'c', 930, DUP},
    {'a', 1000}, /* 900 and 930 slide out: cleared */
    {'c', 900, DUP},
    {'c', 900 + B, NEW}, /* same position as 900 */
    {'c', 930 + B, NEW}, /* same position as 930 */
    {'i', 10},
    {'D', 12, 12 + 500},
    {'p', 700},
    {'a', 5000}, /* a jump of more than a whole bitmap */
    {'C', 5000},
    {'c', 5001, NEW},
    {'c', 12 + 5 * B, NEW},
    {'c', 700 + 5 * B, NEW},
    {'b', 5001, 0},

    /* Near the top of the sequence space: no overflow in the edge tests. */
    {'i', UINT64_MAX - 10},
    {'c', UINT64_MAX - 10, DUP},
    {'c', UINT64_MAX - 9, NEW},
    {'c', UINT64_MAX, NEW},
    {'D', UINT64_MAX - 9, UINT64_MAX - 1},
    {'C', UINT64_MAX - 1},
    {'c', UINT64_MAX, NEW},
    {'b', UINT64_MAX - 63, (1ull << 63) - 1},

    /* The last seq: cum reaches 2^64 - 1 and nothing may wrap to 0
     * (regression: a HELLO with seq 2^64 - 1, then DATA, made the router
     * loop 2^58 times building ACKs). */
    {'d', UINT64_MAX},
    {'C', UINT64_MAX},
    {'c', UINT64_MAX, DUP},
    {'c', UINT64_MAX - 1, DUP},
    {'c', 0, INV},
    {'c', 1, DUP},
    {'b', UINT64_MAX, 1},
    {'b', UINT64_MAX - 1, 3},
    {'b', UINT64_MAX - 63, ~0ull},
    {'b', 0, ~0ull},
    {'d', UINT64_MAX}, /* again: no effect */
    {'p', UINT64_MAX},
    {'c', UINT64_MAX, DUP},
    {'a', UINT64_MAX},
    {'C', UINT64_MAX},
    {'a', 5}, /* lower: no effect */
    {'C', UINT64_MAX},
    /* A window moved by advance() (HELLO.seq - 1) to each edge. */
    {'i', 0},
    {'a', UINT64_MAX - 1}, /* HELLO seq 2^64 - 1 */
    {'C', UINT64_MAX - 1},
    {'c', UINT64_MAX, NEW},
    {'c', UINT64_MAX - 1, DUP},
    {'c', 1, DUP},
    {'b', UINT64_MAX, 0},
    {'p', UINT64_MAX},
    {'c', UINT64_MAX, PEND},
    {'x', UINT64_MAX},
    {'c', UINT64_MAX, NEW},
    {'d', UINT64_MAX},
    {'C', UINT64_MAX},
    {'i', 0},
    {'a', UINT64_MAX}, /* a jump straight to the end */
    {'C', UINT64_MAX},
    {'c', UINT64_MAX, DUP},
    {'i', 0},
    {'a', UINT64_MAX - W}, /* the window ends exactly at 2^64 - 1 */
    {'c', UINT64_MAX, NEW},
    {'c', UINT64_MAX - W + 1, NEW},
    {'d', UINT64_MAX},
    {'b', UINT64_MAX - 63, 1ull << 63},
    {'b', UINT64_MAX - 1, 2},
    {'b', UINT64_MAX, 1},
    {'D', UINT64_MAX - W + 1, UINT64_MAX - 1},
    {'C', UINT64_MAX},
    {'i', 0},
    {'a', UINT64_MAX - W + 100}, /* the window would pass 2^64 - 1 */
    {'c', UINT64_MAX, NEW},
    {'d', UINT64_MAX - 5},
    {'d', UINT64_MAX},
    {'b', UINT64_MAX - 5, 0x21},
    {'b', UINT64_MAX - 40, (1ull << 35) | (1ull << 40)},
    {'i', 1ull << 63},
    {'c', 1ull << 63, DUP},
    {'c', (1ull << 63) + 1, NEW},
    {'c', (1ull << 63) + W, NEW},
    {'c', (1ull << 63) + W + 1, FAR},
    {'c', UINT64_MAX, FAR},
    {'c', 1, DUP},
    {'a', (1ull << 63) - 1}, /* lower: no effect */
    {'C', 1ull << 63},
    {'i', 0},
    {'c', 1, NEW},
    {'c', W, NEW},
    {'c', W + 1, FAR},
    {'c', 1ull << 63, FAR},
    {'c', UINT64_MAX, FAR},
    {'c', UINT64_MAX - 1, FAR},
    {'a', 0}, /* HELLO seq 1: nothing below */
    {'C', 0},
    {'b', 1, 0},
    {'i', 1},
    {'c', 1, DUP},
    {'c', 2, NEW},
    {'c', W + 1, NEW},
    {'c', W + 2, FAR},
};

static const char *dd_name(uint64_t v)
{
	switch (v) {
	case NEW:
		return "NEW";
	case DUP:
		return "DUP";
	case PEND:
		return "PENDING";
	case FAR:
		return "TOO_FAR";
	case INV:
		return "INVALID";
	}
	return "?";
}

Test(dedup, table)
{
	struct dp_dedup w;
	size_t n;

	dp_dedup_init(&w, 0);
	for (n = 0; n < sizeof(dd_table) / sizeof(dd_table[0]); n++) {
		const struct dd_step *s = &dd_table[n];
		uint64_t got, q;

		switch (s->op) {
		case 'i':
			dp_dedup_init(&w, s->seq);
			break;
		case 'c':
			got = dp_dedup_check(&w, s->seq);
			cr_assert_eq(got, s->want, "step %zu: check(%llu) = %s, want %s (cum %llu)",
				     n + 1, (unsigned long long)s->seq, dd_name(got),
				     dd_name(s->want), (unsigned long long)dp_dedup_cum(&w));
			break;
		case 'p':
			dp_dedup_set_pending(&w, s->seq);
			break;
		case 'x':
			dp_dedup_clear_pending(&w, s->seq);
			break;
		case 'd':
			dp_dedup_set_done(&w, s->seq);
			break;
		case 'D':
			for (q = s->seq;; q++) {
				cr_assert_eq(dp_dedup_check(&w, q), NEW, "step %zu: %llu not NEW",
					     n + 1, (unsigned long long)q);
				dp_dedup_set_done(&w, q);
				if (q == s->want)
					break;
			}
			break;
		case 'a':
			dp_dedup_advance(&w, s->seq);
			break;
		case 'C':
			cr_assert_eq(dp_dedup_cum(&w), s->seq, "step %zu: cum %llu, want %llu",
				     n + 1, (unsigned long long)dp_dedup_cum(&w),
				     (unsigned long long)s->seq);
			break;
		case 'b':
			got = dp_dedup_ack_bitmap(&w, s->seq);
			cr_assert_eq(got, s->want, "step %zu: ack_bitmap(%llu) = %#llx, want %#llx",
				     n + 1, (unsigned long long)s->seq, (unsigned long long)got,
				     (unsigned long long)s->want);
			break;
		default:
			cr_assert_fail("step %zu: bad op", n + 1);
		}
	}
}

/*
 * dp_dedup_acks(): the frames of one batch, at the edges of the sequence
 * space. Each row: window cum, seqs made done after it, batch [lo, hi], the
 * frames wanted (base, bitmap), terminated by a zero base where 0 is not
 * wanted.
 */
struct da_case {
	uint64_t cum;
	uint64_t done[3];
	uint64_t lo, hi;
	unsigned n;
	struct dp_dedup_ack want[3];
};

static const struct da_case da_cases[] = {
    /* In order: one frame at cum + 1, bitmap 0. */
    {0, {1, 2, 3}, 1, 3, 1, {{4, 0}}},
    /* A hole: the cumulative frame and nothing else at cum + 1. */
    {0, {1, 3}, 1, 3, 1, {{2, 2}}},
    /* Duplicates below cum only: the cumulative frame. */
    {100, {0}, 1, 50, 1, {{101, 0}}},
    /* A batch beyond one bitmap: two frames. */
    {0, {2, 70}, 2, 70, 2, {{2, 1}, {66, 1ull << 4}}},
    /* The last seq taken: cum 2^64 - 1, one frame, no base above it. */
    {UINT64_MAX - 1, {UINT64_MAX}, UINT64_MAX, UINT64_MAX, 1, {{UINT64_MAX, 0}}},
    /* Already there; a batch whose hi names 2^64 - 1 and lo 0. */
    {UINT64_MAX, {0}, 0, UINT64_MAX, 1, {{UINT64_MAX, 0}}},
    /* Just below the end: base 2^64 - 1, one bit left to name. */
    {UINT64_MAX - 2, {UINT64_MAX}, UINT64_MAX, UINT64_MAX, 1, {{UINT64_MAX, 1}}},
    /* Around 2^63. */
    {1ull << 63, {(1ull << 63) + 1}, (1ull << 63) + 1, (1ull << 63) + 1, 1,
     {{(1ull << 63) + 2, 0}}},
    /* A batch whose span is the whole space: bounded by the window, not by
     * lo and hi (regression: 2^58 frames). */
    {5, {0}, 1, UINT64_MAX, 1, {{6, 0}}},
    {UINT64_MAX - 1000, {UINT64_MAX - 998}, 0, UINT64_MAX, 1,
     {{UINT64_MAX - 999, 2}}},
};

Test(dedup, acks_edges)
{
	size_t i;

	for (i = 0; i < sizeof(da_cases) / sizeof(da_cases[0]); i++) {
		const struct da_case *t = &da_cases[i];
		struct dp_dedup_ack a[DP_DEDUP_ACK_MAX + 1];
		struct dp_dedup w;
		unsigned n, k;

		dp_dedup_init(&w, 0);
		dp_dedup_advance(&w, t->cum);
		for (k = 0; k < 3 && t->done[k] != 0; k++)
			dp_dedup_set_done(&w, t->done[k]);
		memset(a, 0xEE, sizeof(a));
		n = dp_dedup_acks(&w, t->lo, t->hi, a);
		cr_assert_eq(n, t->n, "case %zu: %u frames, want %u", i + 1, n, t->n);
		for (k = 0; k < n; k++) {
			cr_assert_eq(a[k].base, t->want[k].base, "case %zu frame %u base %#llx", i + 1,
				     k, (unsigned long long)a[k].base);
			cr_assert_eq(a[k].bitmap, t->want[k].bitmap, "case %zu frame %u bitmap %#llx",
				     i + 1, k, (unsigned long long)a[k].bitmap);
		}
	}
}

/* Every done seq of a full window reported, within DP_DEDUP_ACK_MAX frames,
 * for windows that end at, before and across 2^64 - 1. */
Test(dedup, acks_full_window)
{
	static const uint64_t cums[] = {0, 1ull << 63, UINT64_MAX - W - 1, UINT64_MAX - W,
					UINT64_MAX - W + 1, UINT64_MAX - 64, UINT64_MAX - 2};

	for (size_t i = 0; i < sizeof(cums) / sizeof(cums[0]); i++) {
		struct dp_dedup_ack a[DP_DEDUP_ACK_MAX];
		struct dp_dedup w;
		uint64_t s, cnt = 0, want = 0;
		unsigned n, k;

		dp_dedup_init(&w, cums[i]);
		/* Every other seq of the window from cum + 2: holes throughout. */
		for (s = cums[i] + 2; s - cums[i] <= W; s += 2) {
			dp_dedup_set_done(&w, s);
			want++;
			if (s > UINT64_MAX - 2)
				break;
		}
		n = dp_dedup_acks(&w, cums[i] + 1, UINT64_MAX, a);
		cr_assert_leq(n, DP_DEDUP_ACK_MAX);
		cr_assert_eq(a[0].base, cums[i] + 1, "case %zu", i);
		for (k = 0; k < n; k++)
			cnt += (uint64_t)__builtin_popcountll(a[k].bitmap);
		cr_assert_eq(cnt, want, "case %zu: %llu seqs reported, want %llu", i,
			     (unsigned long long)cnt, (unsigned long long)want);
	}
}

/* In order, many laps of the bitmap: each seq NEW once, DUP after. */
Test(dedup, wrap_in_order)
{
	struct dp_dedup w;
	uint64_t s, laps = 1000;

	dp_dedup_init(&w, 0);
	for (s = 1; s <= laps * B; s++) {
		cr_assert_eq(dp_dedup_check(&w, s), NEW, "seq %llu", (unsigned long long)s);
		dp_dedup_set_pending(&w, s);
		cr_assert_eq(dp_dedup_check(&w, s), PEND);
		dp_dedup_set_done(&w, s);
		cr_assert_eq(dp_dedup_cum(&w), s);
		cr_assert_eq(dp_dedup_check(&w, s), DUP);
		cr_assert_eq(dp_dedup_check(&w, s + W), NEW);
		cr_assert_eq(dp_dedup_check(&w, s + W + 1), FAR);
	}
}

/*
 * Whole windows delivered backwards, many laps: cum stays put until the
 * lowest seq arrives, then jumps W in one call; the next window's positions
 * (all reused) start clean.
 */
Test(dedup, wrap_reversed_windows)
{
	struct dp_dedup w;
	uint64_t base = 0, s;
	int lap;

	dp_dedup_init(&w, 0);
	for (lap = 0; lap < 300; lap++) {
		for (s = base + W; s > base; s--) {
			cr_assert_eq(dp_dedup_check(&w, s), NEW, "lap %d seq %llu", lap,
				     (unsigned long long)s);
			dp_dedup_set_done(&w, s);
			cr_assert_eq(dp_dedup_cum(&w), s == base + 1 ? base + W : base);
		}
		base += W;
		cr_assert_eq(dp_dedup_ack_bitmap(&w, base - 63), ~0ull);
		cr_assert_eq(dp_dedup_ack_bitmap(&w, base + 1), 0);
	}
}

/* ---- randomized model check ------------------------------------------- */

enum { ST_NEVER = 0, ST_PEND = 1, ST_DONE = 2 };

struct dd_model {
	uint64_t cum;
	uint8_t *st; /* state by seq; meaningful only above cum */
	uint64_t cap;
};

static uint64_t dd_rng = 0x9e3779b97f4a7c15ull;

static uint64_t dd_rand(void)
{
	/* xorshift64*: fixed seed, so a failure replays exactly. */
	dd_rng ^= dd_rng >> 12;
	dd_rng ^= dd_rng << 25;
	dd_rng ^= dd_rng >> 27;
	return dd_rng * 0x2545f4914f6cdd1dull;
}

static void dd_model_room(struct dd_model *m, uint64_t seq)
{
	if (seq + 2 * B < m->cap)
		return;
	uint64_t ncap = (seq + 2 * B) * 2;
	m->st = realloc(m->st, ncap);
	cr_assert_not_null(m->st);
	memset(m->st + m->cap, 0, ncap - m->cap);
	m->cap = ncap;
}

static int dd_model_check(const struct dd_model *m, uint64_t seq)
{
	if (seq == 0)
		return INV;
	if (seq <= m->cum)
		return DUP;
	if (seq - m->cum > W)
		return FAR;
	return m->st[seq] == ST_DONE ? DUP : m->st[seq] == ST_PEND ? PEND : NEW;
}

static void dd_model_slide(struct dd_model *m)
{
	while (m->st[m->cum + 1] == ST_DONE)
		m->cum++;
}

static uint64_t dd_model_ack(const struct dd_model *m, uint64_t base)
{
	uint64_t r = 0;
	unsigned i;

	for (i = 0; i < 64; i++) {
		uint64_t s = base + i;

		if (s <= m->cum || (s - m->cum <= W && m->st[s] == ST_DONE))
			r |= 1ull << i;
	}
	return r;
}

static uint64_t dd_pick(const struct dd_model *m)
{
	uint64_t r = dd_rand() % 100, c = m->cum;

	if (r < 45) /* near the cumulative point: keeps cum moving */
		return c + 1 + dd_rand() % 24;
	if (r < 90) /* anywhere around the window, both edges included */
		return c + W + 24 - dd_rand() % (W + 48); /* may wrap below 0: FAR */
	if (r < 97)					  /* the exact edges */
		return (r & 1) ? c + W : c + W + 1;
	if (r < 99)
		return c + W + 1 + dd_rand() % (1ull << 40); /* far future */
	return 0;
}

Test(dedup, model_random, .timeout = 120)
{
	const uint64_t ops = 10000000;
	struct dd_model m = {0};
	struct dp_dedup w;
	uint64_t n, counts[5] = {0};

	dd_model_room(&m, 0);
	dp_dedup_init(&w, 0);
	for (n = 0; n < ops; n++) {
		uint64_t seq = dd_pick(&m), r = dd_rand() % 100;
		int want = dd_model_check(&m, seq);
		int got = dp_dedup_check(&w, seq);

		cr_assert_eq(got, want, "op %llu: check(%llu) = %s, model %s (cum %llu)",
			     (unsigned long long)n, (unsigned long long)seq, dd_name(got),
			     dd_name(want), (unsigned long long)m.cum);
		counts[got]++;
		if (want == NEW) {
			if (r < 45) {
				dp_dedup_set_pending(&w, seq);
				m.st[seq] = ST_PEND;
			} else if (r < 90) {
				dp_dedup_set_done(&w, seq);
				m.st[seq] = ST_DONE;
				dd_model_slide(&m);
			}
		} else if (want == PEND) {
			if (r < 50) {
				dp_dedup_set_done(&w, seq);
				m.st[seq] = ST_DONE;
				dd_model_slide(&m);
			} else if (r < 80) {
				dp_dedup_clear_pending(&w, seq);
				m.st[seq] = ST_NEVER;
			}
		} else if (want == DUP || want == FAR) {
			/* Misuse must not change anything. */
			if (r < 10)
				dp_dedup_set_done(&w, seq);
			else if (r < 20)
				dp_dedup_set_pending(&w, seq);
			else if (r < 30)
				dp_dedup_clear_pending(&w, seq);
		}
		if (dd_rand() % 50000 == 0) {
			uint64_t to = m.cum + dd_rand() % (3 * B);

			dd_model_room(&m, to);
			dp_dedup_advance(&w, to);
			if (to > m.cum) {
				m.cum = to;
				dd_model_slide(&m);
			}
		}
		cr_assert_eq(dp_dedup_cum(&w), m.cum, "op %llu: cum %llu, model %llu",
			     (unsigned long long)n, (unsigned long long)dp_dedup_cum(&w),
			     (unsigned long long)m.cum);
		dd_model_room(&m, m.cum);
		if ((n & 15) == 0) {
			uint64_t top = m.cum + W + 16, off = dd_rand() % (W + 100);
			uint64_t base = top > off ? top - off : 1;
			cr_assert_eq(dp_dedup_ack_bitmap(&w, base), dd_model_ack(&m, base),
				     "op %llu: ack_bitmap(%llu) cum %llu", (unsigned long long)n,
				     (unsigned long long)base, (unsigned long long)m.cum);
		}
		if ((n & 0xffff) == 0) {
			uint64_t s;

			for (s = m.cum > 70 ? m.cum - 70 : 0; s <= m.cum + W + 70; s++)
				cr_assert_eq(dp_dedup_check(&w, s), dd_model_check(&m, s),
					     "sweep at op %llu seq %llu", (unsigned long long)n,
					     (unsigned long long)s);
		}
	}
	/* The mix exercised every verdict, and cum went round many laps. */
	cr_assert(counts[NEW] > ops / 10 && counts[DUP] > ops / 10 && counts[PEND] > ops / 100 &&
		  counts[FAR] > ops / 100 && counts[INV] > 0);
	cr_assert(m.cum > 100 * B, "cum only reached %llu", (unsigned long long)m.cum);
	free(m.st);
}

/* PROTOCOL.md section 14: taken 1..41, 44 and 46, then 42 arrives. The
 * router's encoding of the answer is the one the document shows (cumulative
 * 42, base 43, bitmap 0b1010); the document lists the others that are as
 * valid. */
Test(dedup, acks_worked_example)
{
	struct dp_dedup_ack a[DP_DEDUP_ACK_MAX];
	struct dp_dedup w;

	dp_dedup_init(&w, 41);
	dp_dedup_set_done(&w, 44);
	dp_dedup_set_done(&w, 46);
	cr_assert_eq(dp_dedup_check(&w, 42), DP_DEDUP_NEW);
	dp_dedup_set_done(&w, 42);
	cr_assert_eq(dp_dedup_cum(&w), 42);
	cr_assert_eq(dp_dedup_acks(&w, 42, 42, a), 1);
	cr_assert_eq(a[0].base, 43);
	cr_assert_eq(a[0].bitmap, 0x0a);
}
