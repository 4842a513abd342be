/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A log-linear histogram (HDR style) for latencies in TSC cycles: values
 * below 16 exactly, above that 8 buckets per power of two (at most 12.5 %
 * relative error). Recording is one index computation and one increment,
 * cheap enough for a worker in measurement mode. Pure C, no state beyond the
 * caller's array; the owner writes, others read racy snapshots.
 */
#ifndef GWART_DP_HIST_H
#define GWART_DP_HIST_H

#include <stddef.h>
#include <stdint.h>

#define DP_HIST_SUB 8                            /* buckets per power of two */
#define DP_HIST_BUCKETS (16 + (64 - 4) * DP_HIST_SUB) /* 496 */

static inline unsigned dp_hist_index(uint64_t v)
{
	unsigned e;

	if (v < 16)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* 4..63 */
	return 16 + (e - 4) * DP_HIST_SUB + (unsigned)((v >> (e - 3)) & (DP_HIST_SUB - 1));
}

/* The largest value that lands in bucket @i. */
static inline uint64_t dp_hist_upper(unsigned i)
{
	unsigned e, sub;

	if (i < 16)
		return i;
	e = (i - 16) / DP_HIST_SUB + 4;
	sub = (i - 16) % DP_HIST_SUB;
	return ((uint64_t)(DP_HIST_SUB + sub + 1) << (e - 3)) - 1;
}

static inline void dp_hist_add(uint64_t *h, uint64_t v)
{
	h[dp_hist_index(v)]++;
}

/* The value at quantile @q (0..1) of @h (upper bound of its bucket), 0 if
 * empty; *count receives the number of samples if not NULL. */
static inline uint64_t dp_hist_quantile(const uint64_t *h, double q, uint64_t *count)
{
	uint64_t n = 0, want, run = 0;
	unsigned i;

	for (i = 0; i < DP_HIST_BUCKETS; i++)
		n += h[i];
	if (count != NULL)
		*count = n;
	if (n == 0)
		return 0;
	want = (uint64_t)(q * (double)n);
	if (want >= n)
		want = n - 1;
	for (i = 0; i < DP_HIST_BUCKETS; i++) {
		run += h[i];
		if (run > want)
			return dp_hist_upper(i);
	}
	return dp_hist_upper(DP_HIST_BUCKETS - 1);
}

#endif
