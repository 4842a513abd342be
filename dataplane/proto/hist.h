/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log-linear histogram (HDR style) of the router and the benchmark:
 * each power of two split into 2^sub_bits linear buckets, values below
 * 2^(sub_bits + 1) counted exactly, so a value is known to within
 * 2^-sub_bits of itself over the whole 64-bit range. Recording is one index
 * computation and one increment. The router's residence times use
 * DP_HIST_SUB_BITS (12.5 %, 496 buckets: cheap enough for a worker in
 * measurement mode); the benchmark's end-to-end latencies use 5 bits (3 %).
 *
 * Pure C, no state beyond the caller's array of dp_hist_nbuckets(sub_bits)
 * counters; the owner writes, others read racy snapshots. sub_bits is
 * 1..8; pass a constant and the arithmetic folds.
 */
#ifndef GWART_DP_HIST_H
#define GWART_DP_HIST_H

#include <stddef.h>
#include <stdint.h>

/* Buckets of a histogram with 2^(b) buckets per power of two. */
#define DP_HIST_NBUCKETS(b) ((64u - (b) + 1u) << (b))

/* The router's residence histogram. */
#define DP_HIST_SUB_BITS 3
#define DP_HIST_SUB (1u << DP_HIST_SUB_BITS)                 /* buckets per power of two */
#define DP_HIST_BUCKETS DP_HIST_NBUCKETS(DP_HIST_SUB_BITS) /* 496 */

/* The bucket of value @v. */
static inline unsigned dp_hist_index_sub(uint64_t v, unsigned sub_bits)
{
	unsigned e;

	if (v < (1ull << sub_bits))
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* sub_bits..63 */
	return ((e - sub_bits + 1) << sub_bits) +
	       (unsigned)((v >> (e - sub_bits)) & ((1ull << sub_bits) - 1));
}

/* The largest value that lands in bucket @i. */
static inline uint64_t dp_hist_upper_sub(unsigned i, unsigned sub_bits)
{
	unsigned e, s = 1u << sub_bits;
	uint64_t lo;

	if (i < s)
		return i;
	e = (i >> sub_bits) + sub_bits - 1; /* the power of two of the bucket */
	lo = (uint64_t)(s + (i & (s - 1))) << (e - sub_bits);
	return lo + ((1ull << (e - sub_bits)) - 1); /* no overflow at the top */
}

/* The value at quantile @q (0..1) of @h: the upper bound of the bucket that
 * holds the sample of rank floor(q * n) (0-based, at most n - 1); 0 if @h is
 * empty. *count receives the number of samples if not NULL. */
static inline uint64_t dp_hist_quantile_sub(const uint64_t *h, unsigned sub_bits, double q,
					    uint64_t *count)
{
	unsigned i, nb = DP_HIST_NBUCKETS(sub_bits);
	uint64_t n = 0, want, run = 0;

	for (i = 0; i < nb; i++)
		n += h[i];
	if (count != NULL)
		*count = n;
	if (n == 0)
		return 0;
	want = (uint64_t)(q * (double)n);
	if (want >= n)
		want = n - 1;
	for (i = 0; i < nb; i++) {
		run += h[i];
		if (run > want)
			return dp_hist_upper_sub(i, sub_bits);
	}
	return dp_hist_upper_sub(nb - 1, sub_bits);
}

/* ---- the router's residence histogram (DP_HIST_SUB_BITS) ---- */

static inline unsigned dp_hist_index(uint64_t v)
{
	return dp_hist_index_sub(v, DP_HIST_SUB_BITS);
}

static inline uint64_t dp_hist_upper(unsigned i)
{
	return dp_hist_upper_sub(i, DP_HIST_SUB_BITS);
}

static inline void dp_hist_add(uint64_t *h, uint64_t v)
{
	h[dp_hist_index(v)]++;
}

static inline uint64_t dp_hist_quantile(const uint64_t *h, double q, uint64_t *count)
{
	return dp_hist_quantile_sub(h, DP_HIST_SUB_BITS, q, count);
}

#endif
