/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reconnection backoff (gRPC's connection backoff): the delay before attempt
 * k (0-based) is min(initial x mult^k, max), spread uniformly by +-jitter.
 * One implementation for the router's probes (control/session.c) and the
 * connector SDK's HELLOs, so both sides keep the same schedule. Pure C: no
 * clock, no I/O; the caller owns the random state.
 *
 * Threading: reentrant; @rng belongs to the caller (one per thread).
 */
#ifndef GWART_CP_BACKOFF_H
#define GWART_CP_BACKOFF_H

#include <stdint.h>

struct cp_backoff {
	uint64_t initial_us;  /* delay before the first retry */
	uint32_t mult_pct;    /* growth per attempt, percent (160 = x1.6), >= 100 */
	uint32_t jitter_pct;  /* +- percent, 0..100 */
	uint64_t max_us;      /* cap, >= initial_us */
};

/* The delay before attempt @attempt without jitter. */
uint64_t cp_backoff_base_us(const struct cp_backoff *b, unsigned attempt);
/* The delay before attempt @attempt, jitter drawn from *@rng (xorshift64;
 * seed it nonzero). */
uint64_t cp_backoff_us(const struct cp_backoff *b, unsigned attempt, uint64_t *rng);
/* The next value of the xorshift64 generator (jitter only, not security). */
uint64_t cp_backoff_rng(uint64_t *rng);

#endif
