/* SPDX-License-Identifier: BSD-3-Clause */
/* Reconnection backoff: gRPC's schedule at every edge (first attempt, growth,
 * the cap, huge attempt counts), and jitter always inside its bounds and
 * spread over them. */
#include <criterion/criterion.h>

#include "backoff.h"

TestSuite(backoff);

static const struct cp_backoff grpc = {
	.initial_us = 1000000, .mult_pct = 160, .jitter_pct = 20, .max_us = 120000000,
};

struct base_case {
	int line;
	unsigned attempt;
	uint64_t expect_us;
};

static const struct base_case base_cases[] = {
	{__LINE__, 0, 1000000},
	{__LINE__, 1, 1600000},
	{__LINE__, 2, 2560000},
	{__LINE__, 3, 4096000},
	{__LINE__, 10, 109951162},   /* 1.6^10 = 109.95 */
	{__LINE__, 11, 120000000},   /* 175.9 s capped */
	{__LINE__, 1000, 120000000},
	{__LINE__, 4000000000u, 120000000},
};

Test(backoff, grpc_schedule)
{
	unsigned i;

	for (i = 0; i < sizeof(base_cases) / sizeof(base_cases[0]); i++) {
		uint64_t got = cp_backoff_base_us(&grpc, base_cases[i].attempt);
		int64_t diff = (int64_t)got - (int64_t)base_cases[i].expect_us;

		cr_assert(diff >= -2 && diff <= 2, "line %d: attempt %u got %lu", base_cases[i].line,
			  base_cases[i].attempt, got);
	}
}

Test(backoff, jitter_bounds_and_spread)
{
	uint64_t rng = 42, lo = UINT64_MAX, hi = 0;
	unsigned attempt, k, below = 0, above = 0;

	for (attempt = 0; attempt < 20; attempt++) {
		uint64_t base = cp_backoff_base_us(&grpc, attempt);

		for (k = 0; k < 2000; k++) {
			uint64_t d = cp_backoff_us(&grpc, attempt, &rng);

			cr_assert_geq(d, base - base / 5, "attempt %u: %lu below -20%%", attempt, d);
			cr_assert_leq(d, base + base / 5, "attempt %u: %lu above +20%%", attempt, d);
			if (attempt == 0) {
				lo = d < lo ? d : lo;
				hi = d > hi ? d : hi;
				below += d < base;
				above += d > base;
			}
		}
	}
	/* Spread over the whole range, both sides of the base. */
	cr_assert_lt(lo, 820000);
	cr_assert_gt(hi, 1180000);
	cr_assert_gt(below, 800);
	cr_assert_gt(above, 800);
}

Test(backoff, no_jitter_and_flat)
{
	struct cp_backoff flat = {.initial_us = 500, .mult_pct = 100, .jitter_pct = 0, .max_us = 500};
	uint64_t rng = 0; /* a zero seed is replaced, never stuck */
	unsigned a;

	for (a = 0; a < 100; a++)
		cr_assert_eq(cp_backoff_us(&flat, a, &rng), 500);
	cr_assert_neq(cp_backoff_rng(&rng), 0);
}
