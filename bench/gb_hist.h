/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A log-linear histogram in the manner of HdrHistogram: values below 32 are
 * counted exactly; above, each power of two is split into 32 linear
 * sub-buckets, so any recorded value is known to within 1/32 (about 3 %)
 * over the whole 64-bit range, in 15 KiB of counters and O(1) per record.
 *
 * Threading: a histogram is written by one thread; merge copies after that
 * thread stopped (or accept a racy snapshot).
 */
#ifndef GWART_BENCH_GB_HIST_H
#define GWART_BENCH_GB_HIST_H

#include <stdint.h>

#define GB_HIST_SUB_BITS 5
#define GB_HIST_SUB (1u << GB_HIST_SUB_BITS)
#define GB_HIST_BUCKETS ((64 - GB_HIST_SUB_BITS + 1) * GB_HIST_SUB)

struct gb_hist {
	uint64_t count;
	uint64_t min, max;
	long double sum;
	uint64_t b[GB_HIST_BUCKETS];
};

void gb_hist_reset(struct gb_hist *h);

static inline unsigned gb_hist_index(uint64_t v)
{
	unsigned e;

	if (v < GB_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v);
	return (e - GB_HIST_SUB_BITS + 1) * GB_HIST_SUB +
	       (unsigned)((v >> (e - GB_HIST_SUB_BITS)) & (GB_HIST_SUB - 1));
}

static inline void gb_hist_record(struct gb_hist *h, uint64_t v)
{
	h->b[gb_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* Highest value bucket @i stands for. */
uint64_t gb_hist_bucket_hi(unsigned i);
/* The value at or below which fraction @q (0..1) of the records lie: the
 * highest value of that bucket, capped at the maximum recorded. 0 if empty. */
uint64_t gb_hist_quantile(const struct gb_hist *h, double q);
void gb_hist_merge(struct gb_hist *dst, const struct gb_hist *src);
double gb_hist_mean(const struct gb_hist *h);
/* Self-test of index/bucket edges; 0 when correct. */
int gb_hist_selftest(void);

#endif
