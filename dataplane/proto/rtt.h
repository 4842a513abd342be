/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The round-trip estimator of RFC 6298, once for the router's egress and
 * the connector SDK: smoothed RTT and its variation, in microseconds, from
 * samples the caller has already filtered by Karn's rule (only messages
 * transmitted exactly once give a sample), and the retransmission timeout
 * they imply.
 *
 *   first sample R:  SRTT = R, RTTVAR = R / 2                  (2.2)
 *   later samples:   RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|      (2.3, beta 1/4)
 *                    SRTT   = 7/8 SRTT   + 1/8 R               (alpha 1/8)
 *   RTO = SRTT + 4 RTTVAR, then the caller's floor and cap     (2.4, 2.5)
 *
 * Integer arithmetic, truncating. SRTT 0 means "no sample yet", so a sample
 * never leaves it at 0 (a loopback path can measure 0 us). Samples are
 * capped at UINT32_MAX / 2 us (about 36 minutes) so that SRTT and RTTVAR
 * fit 32 bits; the sums are computed in 64.
 *
 * Pure; the caller owns the struct (one writer).
 */
#ifndef GWART_DP_RTT_H
#define GWART_DP_RTT_H

#include <stdint.h>

#define DP_RTT_SAMPLE_MAX_US (UINT32_MAX / 2)

struct dp_rtt {
	uint32_t srtt_us;   /* smoothed round-trip time, 0: no sample yet */
	uint32_t rttvar_us; /* round-trip time variation */
};

/* Take one round-trip sample of @sample_us microseconds. */
static inline void dp_rtt_sample_us(struct dp_rtt *r, uint64_t sample_us)
{
	uint32_t s = sample_us > DP_RTT_SAMPLE_MAX_US ? DP_RTT_SAMPLE_MAX_US : (uint32_t)sample_us;

	if (r->srtt_us == 0) {
		r->srtt_us = s ? s : 1;
		r->rttvar_us = s / 2;
		return;
	}
	/* 64-bit sums: 7 * SRTT passes 32 bits for SRTT above ~10 minutes;
	 * each result is an average of 32-bit values, so it fits. */
	r->rttvar_us = (uint32_t)((3ull * r->rttvar_us +
				   (s > r->srtt_us ? s - r->srtt_us : r->srtt_us - s)) / 4);
	r->srtt_us = (uint32_t)((7ull * r->srtt_us + s) / 8);
	if (r->srtt_us == 0)
		r->srtt_us = 1;
}

/* The retransmission timeout: @initial_us before any sample (RFC 6298
 * 2.1), else SRTT + 4 RTTVAR at least @min_us and at most @max_us. */
static inline uint32_t dp_rtt_rto_us(const struct dp_rtt *r, uint32_t initial_us, uint32_t min_us,
				     uint32_t max_us)
{
	uint64_t rto;

	if (r->srtt_us == 0)
		return initial_us;
	rto = (uint64_t)r->srtt_us + 4ull * r->rttvar_us;
	if (rto < min_us)
		rto = min_us;
	if (rto > max_us)
		rto = max_us;
	return (uint32_t)rto;
}

#endif
