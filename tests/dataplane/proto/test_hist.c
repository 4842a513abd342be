/* SPDX-License-Identifier: BSD-3-Clause */
/* The residence-time histogram: bucket edges are contiguous and monotonic,
 * every value lands in a bucket whose range holds it within 12.5 %, and
 * quantiles come out of the right buckets. */
#include <criterion/criterion.h>

#include "hist.h"

TestSuite(hist);

Test(hist, buckets_cover_every_value)
{
	uint64_t prev = 0;
	unsigned i;

	for (i = 0; i < DP_HIST_BUCKETS; i++) {
		uint64_t up = dp_hist_upper(i);

		if (i > 0)
			cr_assert_gt(up, prev, "bucket %u upper %lu after %lu", i, up, prev);
		cr_assert_eq(dp_hist_index(up), i, "upper of %u maps back", i);
		if (i > 0)
			cr_assert_eq(dp_hist_index(prev + 1), i, "first of %u", i);
		prev = up;
	}
	cr_assert_eq(prev, UINT64_MAX, "the last bucket ends at the top");
}

Test(hist, relative_error)
{
	uint64_t v;

	for (v = 1; v < (1ull << 40); v = v * 3 + 7) {
		unsigned i = dp_hist_index(v);
		uint64_t up = dp_hist_upper(i);

		cr_assert_geq(up, v);
		cr_assert_leq((double)(up - v), 0.125 * (double)v + 1, "v %lu up %lu", v, up);
	}
}

Test(hist, quantiles)
{
	uint64_t h[DP_HIST_BUCKETS] = {0}, n;
	unsigned k;

	cr_assert_eq(dp_hist_quantile(h, 0.5, &n), 0);
	cr_assert_eq(n, 0);
	for (k = 0; k < 99; k++)
		dp_hist_add(h, 10);
	dp_hist_add(h, 1000000);
	cr_assert_eq(dp_hist_quantile(h, 0.5, &n), 10);
	cr_assert_eq(n, 100);
	cr_assert_eq(dp_hist_quantile(h, 0.98, NULL), 10);
	cr_assert_geq(dp_hist_quantile(h, 1.0, NULL), 1000000);
	cr_assert_leq(dp_hist_quantile(h, 1.0, NULL), 1125000);
}

/* Every resolution (sub_bits 1..8, the benchmark's 5 included): bucket
 * edges contiguous from 0 to UINT64_MAX, exact below 2^(sub_bits + 1),
 * relative width within 2^-sub_bits. */
Test(hist, every_resolution)
{
	unsigned b, i;

	for (b = 1; b <= 8; b++) {
		unsigned nb = DP_HIST_NBUCKETS(b);
		uint64_t prev = 0, v;

		for (i = 0; i < nb; i++) {
			uint64_t up = dp_hist_upper_sub(i, b);

			cr_assert_eq(dp_hist_index_sub(up, b), i, "b %u: upper of %u", b, i);
			if (i > 0) {
				cr_assert_gt(up, prev, "b %u: bucket %u", b, i);
				cr_assert_eq(dp_hist_index_sub(prev + 1, b), i, "b %u: first of %u", b,
					     i);
			}
			prev = up;
		}
		cr_assert_eq(prev, UINT64_MAX, "b %u: the last bucket ends at the top", b);
		for (v = 0; v < (2ull << b); v++)
			cr_assert_eq(dp_hist_upper_sub(dp_hist_index_sub(v, b), b), v,
				     "b %u: %lu exact", b, v);
		for (v = 1; v < (1ull << 62); v = v * 5 + 3) {
			uint64_t up = dp_hist_upper_sub(dp_hist_index_sub(v, b), b);

			cr_assert_geq(up, v);
			cr_assert_leq(up - v, v >> b, "b %u: v %lu up %lu", b, v, up);
		}
	}
	/* The residence histogram's size is part of the stats layout. */
	cr_assert_eq(DP_HIST_BUCKETS, 496);
	cr_assert_eq(DP_HIST_NBUCKETS(5), 1920);
}

/* The rank rule: the bucket of the sample of rank floor(q * n), 0-based. */
Test(hist, quantile_rank)
{
	uint64_t h[DP_HIST_NBUCKETS(5)] = {0}, n;
	unsigned v;

	for (v = 1; v <= 10; v++)
		h[dp_hist_index_sub(v, 5)]++;
	cr_assert_eq(dp_hist_quantile_sub(h, 5, 0.0, &n), 1);
	cr_assert_eq(n, 10);
	cr_assert_eq(dp_hist_quantile_sub(h, 5, 0.5, NULL), 6);
	cr_assert_eq(dp_hist_quantile_sub(h, 5, 0.99, NULL), 10);
	cr_assert_eq(dp_hist_quantile_sub(h, 5, 1.0, NULL), 10);
}
