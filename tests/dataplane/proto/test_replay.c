/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "replay": the RFC 6479 anti-replay window (dataplane/proto/replay.c).
 *
 * The rule under test (PROTOCOL.md, replay windows): with top the highest
 * committed counter and W = DP_REPLAY_WINDOW, counter n is fresh iff n != 0,
 * it was never committed, and n > top or top - n < W. Counters at or beyond
 * W below top are refused whether seen or not.
 *
 * The table is run the way WireGuard's counter self-test runs its own: each
 * row checks n and, when fresh, commits it (a frame that verified). CHECK
 * rows only check, to show that checking changes nothing.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <gwart/auth.h>

#include "replay.h"

#define W ((uint64_t)DP_REPLAY_WINDOW)
#define MAXC GW_CTR_COUNT_MAX
#define U64MAX UINT64_MAX

enum rop {
	T,     /* check; commit if fresh */
	CHECK, /* check only */
};

struct rcase {
	int id;
	enum rop op;
	uint64_t n;
	bool fresh;
};

static const struct rcase table[] = {
	/* a fresh window */
	{ 1, T, 0, false }, /* 0 is never fresh */
	{ 2, CHECK, 1, true },
	{ 3, CHECK, 1, true }, /* a check did not consume it */
	{ 4, T, 1, true },
	{ 5, T, 1, false },
	{ 6, T, 9, true },
	{ 7, T, 8, true }, /* below top, inside the window, unseen */
	{ 8, T, 7, true },
	{ 9, T, 7, false },
	{ 10, T, 0, false },
	/* exactly the window's edges: top = W */
	{ 11, T, W, true },
	{ 12, T, W - 1, true },
	{ 13, T, W - 1, false },
	{ 14, T, 2, true },  /* W - 2 below top: inside */
	{ 15, T, 2, false },
	{ 16, T, W + 1, true }, /* top = W + 1: 1 is now W below */
	{ 17, T, 1, false },    /* seen, and too old */
	{ 18, T, 3, true },     /* W - 2 below: still inside */
	{ 19, T, 2, false },    /* seen, W - 1 below */
	/* a jump of exactly 3W: top = 4W */
	{ 20, T, 4 * W, true },
	{ 21, CHECK, 3 * W, false },     /* unseen but W below top: too old */
	{ 22, CHECK, 3 * W + 1, true },  /* W - 1 below: the oldest fresh one */
	{ 23, T, 3 * W + 1, true },
	{ 24, T, 3 * W + 1, false },
	{ 25, T, 3 * W, false },
	{ 26, T, 10, false },            /* far too old */
	{ 27, T, W + 1, false },
	{ 28, T, 4 * W - 1, true },
	{ 29, T, 4 * W + 1, true },      /* top + 1 */
	{ 30, T, 3 * W + 1, false },     /* now W below: too old although seen */
	{ 31, T, 3 * W + 2, true },      /* W - 1 below */
	/* a jump far beyond the window: everything before it is too old */
	{ 32, T, 1000 * W, true },
	{ 33, T, 4 * W + 1, false },
	{ 34, T, 1000 * W - W, false },
	{ 35, T, 1000 * W - W + 1, true },
	{ 36, T, 1000 * W - 1, true },
	{ 37, T, 1000 * W - 1, false },
	/* 64-bit word and ring boundaries: the ring holds 32 words of 64 */
	{ 38, T, 1000 * W + 63, true },
	{ 39, T, 1000 * W + 64, true },
	{ 40, T, 1000 * W + 64 + 64 * DP_REPLAY_WORDS, true }, /* the ring word of 39 */
	{ 41, T, 1000 * W + 64 + 64 * DP_REPLAY_WORDS - 64, true },
	{ 42, T, 1000 * W + 63 + 64 * DP_REPLAY_WORDS, true }, /* bit of 38, one ring on */
	{ 43, T, 1000 * W + 63, false },
	/* near the largest lane counter (2^56 - 1) */
	{ 44, T, MAXC - W, true },
	{ 45, T, MAXC - 1, true },
	{ 46, T, MAXC - W, false },  /* W - 1 below, seen */
	{ 47, T, MAXC, true },
	{ 48, T, MAXC, false },
	{ 49, T, MAXC - 1, false },
	{ 50, CHECK, MAXC - W, false },     /* now W below */
	{ 51, T, MAXC - W + 1, true },
	{ 52, T, MAXC - W + 1, false },
	/* beyond any lane counter, up to 2^64 - 1: nothing wraps */
	{ 53, T, (uint64_t)1 << 63, true },
	{ 54, T, MAXC, false },
	{ 55, T, U64MAX - 1, true },
	{ 56, CHECK, U64MAX, true },
	{ 57, CHECK, U64MAX, true },
	{ 58, T, U64MAX, true },
	{ 59, T, U64MAX, false },
	{ 60, T, U64MAX - 1, false },
	{ 61, T, U64MAX - (W - 1), true },
	{ 62, T, U64MAX - W, false },
	{ 63, T, 1, false },
	{ 64, T, 0, false },
	{ 65, T, U64MAX - 2, true },
	{ 66, T, U64MAX - 2, false },
};

Test(replay, table)
{
	struct dp_replay w, before;

	dp_replay_init(&w);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct rcase *c = &table[i];
		bool got;

		cr_assert_eq(c->id, (int)i + 1, "table row %zu has id %d", i, c->id);
		memcpy(&before, &w, sizeof(w));
		got = dp_replay_check(&w, c->n);
		cr_assert_eq(memcmp(&before, &w, sizeof(w)), 0, "case %d: check changed state", c->id);
		cr_assert_eq(got, c->fresh, "case %d: n %#llx: want %s", c->id,
			     (unsigned long long)c->n, c->fresh ? "fresh" : "replay");
		if (c->op == T && got) {
			dp_replay_commit(&w, c->n);
			cr_assert_not(dp_replay_check(&w, c->n), "case %d: fresh after commit", c->id);
		}
	}
}

/* Checking, whatever the value, never changes the window. */
Test(replay, check_has_no_side_effect)
{
	static const uint64_t probe[] = { 0, 1, 2, 63, 64, 65, W - 1, W, W + 1, 5000, MAXC,
					  MAXC + 1, (uint64_t)1 << 63, U64MAX - 1, U64MAX };
	struct dp_replay w, before;

	dp_replay_init(&w);
	for (uint64_t n = 1; n <= 3000; n += 3)
		dp_replay_commit(&w, n);
	memcpy(&before, &w, sizeof(w));
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
			(void)dp_replay_check(&w, probe[i]);
	cr_assert_eq(memcmp(&before, &w, sizeof(w)), 0);
	/* and the answers did not change either */
	cr_assert(dp_replay_check(&w, 2999));
	cr_assert_not(dp_replay_check(&w, 2998));
	cr_assert(dp_replay_check(&w, 2997));
	/* top is 2998: W below is too old, W - 1 below was committed, W - 2
	 * below never was */
	cr_assert_not(dp_replay_check(&w, 2998 - W));
	cr_assert_not(dp_replay_check(&w, 2998 - W + 1));
	cr_assert(dp_replay_check(&w, 2998 - W + 2));
}

/* Every counter of a long in-order run is fresh once; after the window has
 * slid over its own ring many times, reused words hold no stale bits. */
Test(replay, in_order_and_ring_reuse)
{
	struct dp_replay w;

	dp_replay_init(&w);
	for (uint64_t n = 1; n <= 20000; n++) {
		cr_assert(dp_replay_check(&w, n), "n %llu", (unsigned long long)n);
		dp_replay_commit(&w, n);
		cr_assert_not(dp_replay_check(&w, n), "n %llu", (unsigned long long)n);
		if (n > 1)
			cr_assert_not(dp_replay_check(&w, n - 1));
	}
	/* Every counter still inside the window is refused as seen. */
	for (uint64_t n = 20000 - W + 1; n <= 20000; n++)
		cr_assert_not(dp_replay_check(&w, n), "n %llu", (unsigned long long)n);
	/* A jump of 1,000: the skipped counters are fresh, even those whose ring
	 * words held bits of counters one ring (2,048) earlier; the committed
	 * ones still inside the window stay refused. */
	dp_replay_commit(&w, 21000);
	for (uint64_t n = 21000 - W + 1; n < 21000; n++)
		cr_assert_eq(dp_replay_check(&w, n), n > 20000, "n %llu", (unsigned long long)n);
	cr_assert_not(dp_replay_check(&w, 21000 - W));
}

/* Against a direct model of the rule (a flat array of seen counters): a
 * seeded walk of counters around top, with jumps beyond the window. */
Test(replay, matches_model)
{
	enum { SPAN = 1 << 23 };
	uint8_t *seen = calloc(SPAN, 1);
	uint64_t x = 0x853c49e6748fea9bull, top = 0;
	struct dp_replay w;
	unsigned fresh = 0, stale = 0;

	cr_assert_not_null(seen);
	dp_replay_init(&w);
	for (int i = 0; i < 200000; i++) {
		uint64_t n, r;
		bool want, got;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		r = x % 1000;
		if (r == 0)
			n = top + W + (x >> 20) % (3 * W); /* beyond the window */
		else if (r < 150)
			n = top + 1 + (x >> 20) % 200;      /* ahead */
		else
			n = top > 2 * W ? top - (x >> 20) % (W + 100) : (x >> 20) % (2 * W + 1);
		if (n >= SPAN)
			break;
		want = n != 0 && !seen[n] && (n > top || top - n < W);
		got = dp_replay_check(&w, n);
		cr_assert_eq(got, want, "step %d n %llu top %llu", i, (unsigned long long)n,
			     (unsigned long long)top);
		if (got) {
			dp_replay_commit(&w, n);
			seen[n] = 1;
			if (n > top)
				top = n;
			fresh++;
		} else {
			stale++;
		}
	}
	free(seen);
	/* The walk exercised both answers plentifully. */
	cr_assert_gt(fresh, 10000);
	cr_assert_gt(stale, 10000);
}

/* The window's size is what PROTOCOL.md states. */
Test(replay, window_size)
{
	cr_assert_eq(DP_REPLAY_WINDOW, 1984);
	cr_assert_eq(DP_REPLAY_WORDS & (DP_REPLAY_WORDS - 1), 0);
}
