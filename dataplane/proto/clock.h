/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The monotonic clock, in the units gwart's timers use: CLOCK_MONOTONIC
 * (never steps back, not the wall clock), for the SDK's timers and the
 * benchmark's peers. The router's workers use the TSC instead.
 */
#ifndef GWART_DP_CLOCK_H
#define GWART_DP_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic nanoseconds since an arbitrary origin (boot). */
static inline uint64_t dp_clock_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Monotonic microseconds since an arbitrary origin (boot). */
static inline uint64_t dp_clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
