/* SPDX-License-Identifier: BSD-3-Clause */
/* The RFC 6298 estimator (rtt.h): the initial RTO before any sample (2.1),
 * the first sample (2.2), later samples (2.3), the floor and cap on the RTO
 * (2.4, 2.5), and the integer edges (a 0 us sample, a huge one). */
#include <criterion/criterion.h>

#include "rtt.h"

TestSuite(rtt);

#define MIN_US 10000u
#define MAX_US 60000000u
#define INIT_US 200000u

Test(rtt, no_sample_gives_the_initial_rto)
{
	struct dp_rtt r = {0};

	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, MAX_US), INIT_US);
	/* Not floored or capped: the configured value is the caller's. */
	cr_assert_eq(dp_rtt_rto_us(&r, 5, MIN_US, MAX_US), 5);
}

struct rtt_step {
	uint64_t sample_us;
	uint32_t srtt_us, rttvar_us, rto_us;
};

/* One connection's samples in order, and what RFC 6298 says after each. */
static const struct rtt_step steps[] = {
	/* 1. first: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR */
	{100000, 100000, 50000, 300000},
	/* 2. RTTVAR = 3/4 50000 + 1/4 |100000 - 200000|, SRTT = 7/8 100000 + 1/8 200000 */
	{200000, 112500, 62500, 362500},
	/* 3. a sample below SRTT: |SRTT - R| the other way round */
	{12500, 100000, 71875, 387500},
	/* 4. truncating integer arithmetic: (3 * 71875 + 0) / 4, (7 * 100000 + 100000) / 8 */
	{100000, 100000, 53906, 315624},
};

Test(rtt, samples_follow_rfc6298)
{
	struct dp_rtt r = {0};
	unsigned i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		dp_rtt_sample_us(&r, steps[i].sample_us);
		cr_assert_eq(r.srtt_us, steps[i].srtt_us, "step %u: srtt %u", i + 1, r.srtt_us);
		cr_assert_eq(r.rttvar_us, steps[i].rttvar_us, "step %u: rttvar %u", i + 1,
			     r.rttvar_us);
		cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, MAX_US), steps[i].rto_us,
			     "step %u: rto", i + 1);
	}
}

Test(rtt, floor_and_cap)
{
	struct dp_rtt r = {0};
	unsigned i;

	/* 2.4: a LAN round trip gives SRTT + 4 RTTVAR = 3000 us, below the floor. */
	dp_rtt_sample_us(&r, 1000);
	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, MAX_US), MIN_US);
	/* Steady samples: RTTVAR decays to 0, RTO to SRTT (above the floor). */
	r = (struct dp_rtt){0};
	for (i = 0; i < 64; i++)
		dp_rtt_sample_us(&r, 50000);
	cr_assert_eq(r.rttvar_us, 0);
	cr_assert_eq(r.srtt_us, 50000);
	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, MAX_US), 50000);
	/* 2.5: the cap. */
	r = (struct dp_rtt){0};
	dp_rtt_sample_us(&r, 10000000);
	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, 1000000), 1000000);
	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, MAX_US), 30000000);
}

Test(rtt, integer_edges)
{
	struct dp_rtt r = {0};

	/* A 0 us sample (loopback) still counts as a sample: SRTT never 0. */
	dp_rtt_sample_us(&r, 0);
	cr_assert_eq(r.srtt_us, 1);
	cr_assert_eq(r.rttvar_us, 0);
	dp_rtt_sample_us(&r, 0);
	cr_assert_eq(r.srtt_us, 1, "7/8 of 1 truncates to 0, held at 1");
	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, MAX_US), MIN_US);
	/* A sample past 32 bits is capped; the sums stay in range. */
	r = (struct dp_rtt){0};
	dp_rtt_sample_us(&r, UINT64_MAX);
	cr_assert_eq(r.srtt_us, DP_RTT_SAMPLE_MAX_US);
	cr_assert_eq(r.rttvar_us, DP_RTT_SAMPLE_MAX_US / 2);
	dp_rtt_sample_us(&r, UINT64_MAX);
	cr_assert_eq(r.srtt_us, DP_RTT_SAMPLE_MAX_US);
	cr_assert_eq(dp_rtt_rto_us(&r, INIT_US, MIN_US, UINT32_MAX), UINT32_MAX,
		     "SRTT + 4 RTTVAR exceeds 32 bits: capped, not wrapped");
}
