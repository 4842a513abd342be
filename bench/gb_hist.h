/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness's latency histogram: the protocol core's log-linear buckets
 * (hist.h) at GB_HIST_SUB_BITS (32 buckets per power of two, every value
 * known to within 1/32, about 3 %, in 15 KiB of counters), plus the count,
 * sum, minimum and maximum that figures and merges need.
 *
 * Threading: a histogram is written by one thread; merge copies after that
 * thread stopped (or accept a racy snapshot).
 */
#ifndef GWART_BENCH_GB_HIST_H
#define GWART_BENCH_GB_HIST_H

#include <stdint.h>

#include "hist.h"

#define GB_HIST_SUB_BITS 5
#define GB_HIST_SUB (1u << GB_HIST_SUB_BITS)
#define GB_HIST_BUCKETS DP_HIST_NBUCKETS(GB_HIST_SUB_BITS)

struct gb_hist {
	uint64_t count;
	uint64_t min, max;
	long double sum;
	uint64_t b[GB_HIST_BUCKETS];
};

void gb_hist_reset(struct gb_hist *h);

static inline void gb_hist_record(struct gb_hist *h, uint64_t v)
{
	h->b[dp_hist_index_sub(v, GB_HIST_SUB_BITS)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* The value at quantile @q (0..1) of the records: dp_hist_quantile_sub()'s
 * bucket bound, capped at the maximum recorded (which q >= 1 returns). 0 if
 * empty. */
uint64_t gb_hist_quantile(const struct gb_hist *h, double q);
void gb_hist_merge(struct gb_hist *dst, const struct gb_hist *src);
double gb_hist_mean(const struct gb_hist *h);
/* Self-test of index/bucket edges at the harness's resolution; 0 when
 * correct. */
int gb_hist_selftest(void);

#endif
