/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "gb_hist.h"

void gb_hist_reset(struct gb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t gb_hist_bucket_hi(unsigned i)
{
	unsigned k, e;
	uint64_t lo;

	if (i < GB_HIST_SUB)
		return i;
	k = i / GB_HIST_SUB;
	e = k + GB_HIST_SUB_BITS - 1;
	lo = (uint64_t)(GB_HIST_SUB + i % GB_HIST_SUB) << (e - GB_HIST_SUB_BITS);
	return lo + ((1ull << (e - GB_HIST_SUB_BITS)) - 1);
}

uint64_t gb_hist_quantile(const struct gb_hist *h, double q)
{
	uint64_t want, acc = 0;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (q >= 1.0)
		return h->max;
	want = (uint64_t)(q * (double)h->count);
	if (want == 0)
		want = 1;
	for (i = 0; i < GB_HIST_BUCKETS; i++) {
		acc += h->b[i];
		if (acc >= want) {
			uint64_t v = gb_hist_bucket_hi(i);

			return v < h->max ? v : h->max;
		}
	}
	return h->max;
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
		uint64_t hi = gb_hist_bucket_hi(i);

		if (gb_hist_index(hi) != i || gb_hist_index(hi + 1) != i + 1)
			return (int)i + 1;
	}
	for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		unsigned b = gb_hist_index(probe[i]);
		uint64_t hi = gb_hist_bucket_hi(b);

		if (b >= GB_HIST_BUCKETS || hi < probe[i] ||
		    (probe[i] >= GB_HIST_SUB && (hi - probe[i]) > probe[i] / GB_HIST_SUB))
			return 10000 + (int)i;
	}
	return 0;
}
