/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The reconnection backoff (see backoff.h): pure arithmetic on the caller's
 * parameters and random state, shared by the router's probes and the SDK.
 */
#include "backoff.h"

uint64_t cp_backoff_rng(uint64_t *rng)
{
	uint64_t x = *rng ? *rng : 0x9E3779B97F4A7C15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*rng = x;
	return x;
}

uint64_t cp_backoff_base_us(const struct cp_backoff *b, unsigned attempt)
{
	double d = (double)b->initial_us, cap = (double)b->max_us;
	unsigned i;

	/* Multiply step by step and stop at the cap: no pow(), no overflow
	 * however many attempts a connector that stays away accumulates. */
	for (i = 0; i < attempt && d < cap; i++)
		d = d * b->mult_pct / 100.0;
	if (d > cap)
		d = cap;
	return (uint64_t)d;
}

uint64_t cp_backoff_us(const struct cp_backoff *b, unsigned attempt, uint64_t *rng)
{
	uint64_t base = cp_backoff_base_us(b, attempt);
	uint64_t spread = base * b->jitter_pct / 100;

	if (spread == 0)
		return base;
	return base - spread + cp_backoff_rng(rng) % (2 * spread + 1);
}
