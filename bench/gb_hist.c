/* SPDX-License-Identifier: BSD-3-Clause */
/* The harness's latency histogram around the protocol core's buckets: reset,
 * quantiles, merging, mean, and the bench's own self-test of the edges. */
#include <string.h>

#include "gb_hist.h"

void gb_hist_reset(struct gb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t gb_hist_quantile(const struct gb_hist *h, double q)
{
	uint64_t v;

	if (h->count == 0)
		return 0;
	if (q >= 1.0)
		return h->max;
	v = dp_hist_quantile_sub(h->b, GB_HIST_SUB_BITS, q, NULL);
	return v < h->max ? v : h->max;
}

void gb_hist_merge(struct gb_hist *dst, const struct gb_hist *src)
{
	unsigned i;

	if (src->count == 0)
		return;
	for (i = 0; i < GB_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

double gb_hist_mean(const struct gb_hist *h)
{
	return h->count ? (double)(h->sum / h->count) : 0.0;
}

/* Numbered edge cases: every bucket's highest value maps to it, the next
 * value to the next bucket, and the relative width stays within 1/32. */
int gb_hist_selftest(void)
{
	static const uint64_t probe[] = {0,	     1,		31,   32,	  33,
					 63,	     64,	65,   127,	  128,
					 1000,	     4095,	4096, 1ull << 40, (1ull << 63) - 1,
					 1ull << 63, UINT64_MAX};
	unsigned i;

	for (i = 0; i + 1 < GB_HIST_BUCKETS; i++) {
		uint64_t hi = dp_hist_upper_sub(i, GB_HIST_SUB_BITS);

		if (dp_hist_index_sub(hi, GB_HIST_SUB_BITS) != i ||
		    dp_hist_index_sub(hi + 1, GB_HIST_SUB_BITS) != i + 1)
			return (int)i + 1;
	}
	if (dp_hist_upper_sub(GB_HIST_BUCKETS - 1, GB_HIST_SUB_BITS) != UINT64_MAX)
		return (int)GB_HIST_BUCKETS;
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		unsigned b = dp_hist_index_sub(probe[i], GB_HIST_SUB_BITS);
		uint64_t hi = dp_hist_upper_sub(b, GB_HIST_SUB_BITS);

		if (b >= GB_HIST_BUCKETS || hi < probe[i] ||
		    (probe[i] >= GB_HIST_SUB && (hi - probe[i]) > probe[i] / GB_HIST_SUB))
			return 10000 + (int)i;
	}
	return 0;
}
