/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log-line rate limiter (control/ratelimit.c): numbered sequences of
 * events at chosen times, each with the verdict and the suppressed count
 * the allowed ones must carry: the first event, bursts, the window's edges
 * (interval - 1 and interval exactly), interval 0 and burst 0, parameters
 * changing between calls, a clock wrapping through 2^64 and one stepping
 * back, and the saturating count.
 */
#include <stdint.h>

#include <criterion/criterion.h>

#include "ratelimit.h"

#define M64 UINT64_MAX

struct ev {
	uint64_t now, interval;
	uint32_t burst;
	int allow;
	uint64_t supp;  /* checked when allowed */
};

#define END {0, 0, 0, -1, 0}

static const struct {
	const char *what;
	uint64_t begin;      /* started state at begin (0 with fresh: none) */
	int fresh;
	struct ev ev[12];
} cases[] = {
	/* 1 */ {"first event at time 0", 0, 1, {{0, 10, 1, 1, 0}, END}},
	/* 2 */ {"first event at the clock's top", 0, 1, {{M64, 10, 1, 1, 0}, END}},
	/* 3 */ {"burst 1: the window's edges", 0, 1,
		 {{100, 10, 1, 1, 0}, {101, 10, 1, 0, 0}, {109, 10, 1, 0, 0}, {110, 10, 1, 1, 2},
		  {110, 10, 1, 0, 0}, {119, 10, 1, 0, 0}, {120, 10, 1, 1, 2}, END}},
	/* 4 */ {"burst 3 then refused, count carried", 0, 1,
		 {{5, 10, 3, 1, 0}, {5, 10, 3, 1, 0}, {6, 10, 3, 1, 0}, {7, 10, 3, 0, 0},
		  {8, 10, 3, 0, 0}, {14, 10, 3, 0, 0}, {15, 10, 3, 1, 3}, {15, 10, 3, 1, 0}, END}},
	/* 5 */ {"a quiet gap longer than many windows: one window, no debt", 0, 1,
		 {{0, 10, 1, 1, 0}, {1, 10, 1, 0, 0}, {1000000, 10, 1, 1, 1},
		  {1000001, 10, 1, 0, 0}, END}},
	/* 6 */ {"interval 0: every event allowed", 0, 1,
		 {{7, 0, 1, 1, 0}, {7, 0, 1, 1, 0}, {7, 0, 1, 1, 0}, END}},
	/* 7 */ {"burst 0: nothing allowed, everything counted", 0, 1,
		 {{1, 10, 0, 0, 0}, {50, 10, 0, 0, 0}, {50, 10, 1, 1, 2}, END}},
	/* 8 */ {"wrap: a window open across 2^64 keeps its length", M64 - 3, 0,
		 {{M64 - 3, 10, 1, 0, 0}, {M64, 10, 1, 0, 0}, {5, 10, 1, 0, 0},
		  {6, 10, 1, 1, 3}, {7, 10, 1, 0, 0}, END}},
	/* 9 */ {"a clock stepping back opens a window, it does not silence", 1000, 0,
		 {{1001, 10, 1, 0, 0}, {500, 10, 1, 1, 1}, {501, 10, 1, 0, 0}, END}},
	/* 10 */ {"a longer interval set mid-window extends it", 0, 1,
		  {{0, 10, 1, 1, 0}, {10, 100, 1, 0, 0}, {99, 100, 1, 0, 0}, {100, 100, 1, 1, 2},
		   END}},
};

Test(ratelimit, table)
{
	unsigned c, i;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct cp_ratelimit rl = {0};

		if (!cases[c].fresh) {
			/* A window already open at begin, its burst of 1 spent. */
			rl.started = 1;
			rl.begin_us = cases[c].begin;
			rl.n = 1;
		}
		for (i = 0; cases[c].ev[i].allow >= 0; i++) {
			const struct ev *e = &cases[c].ev[i];
			uint64_t supp = 12345;
			int ready = cp_ratelimit_ready(&rl, e->now, e->interval, e->burst);
			int got = cp_ratelimit_allow(&rl, e->now, e->interval, e->burst, &supp);

			cr_assert_eq(got, e->allow, "case %u (%s) event %u at %llu: %d, wanted %d",
				     c + 1, cases[c].what, i, (unsigned long long)e->now, got,
				     e->allow);
			cr_assert_eq(ready, got, "case %u event %u: ready() disagrees with allow()",
				     c + 1, i);
			if (got)
				cr_assert_eq(supp, e->supp,
					     "case %u (%s) event %u: suppressed %llu, wanted %llu",
					     c + 1, cases[c].what, i, (unsigned long long)supp,
					     (unsigned long long)e->supp);
			else
				cr_assert_eq(supp, 12345, "case %u event %u: refused, count untouched",
					     c + 1, i);
		}
	}
}

/* ready() counts nothing: asked a thousand times, the next refusal is 1. */
Test(ratelimit, ready_counts_nothing)
{
	struct cp_ratelimit rl = {0};
	uint64_t supp = 0;
	unsigned i;

	cr_assert(cp_ratelimit_allow(&rl, 0, 10, 1, NULL), "NULL count is fine");
	for (i = 0; i < 1000; i++)
		cr_assert(!cp_ratelimit_ready(&rl, 5, 10, 1));
	cr_assert(!cp_ratelimit_allow(&rl, 5, 10, 1, &supp));
	cr_assert(cp_ratelimit_allow(&rl, 10, 10, 1, &supp));
	cr_assert_eq(supp, 1);
}

/* The suppressed count saturates instead of wrapping to a small number. */
Test(ratelimit, count_saturates)
{
	struct cp_ratelimit rl = {.started = 1, .begin_us = 0, .n = 1, .suppressed = M64 - 1};
	uint64_t supp = 0;

	cr_assert(!cp_ratelimit_allow(&rl, 1, 10, 1, &supp));
	cr_assert(!cp_ratelimit_allow(&rl, 2, 10, 1, &supp));
	cr_assert_eq(rl.suppressed, M64);
	cr_assert(cp_ratelimit_allow(&rl, 10, 10, 1, &supp));
	cr_assert_eq(supp, M64);
	cr_assert_eq(rl.suppressed, 0);
}
