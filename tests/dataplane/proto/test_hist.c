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
