/* SPDX-License-Identifier: BSD-3-Clause */
/* Log-line rate limiting (see ratelimit.h). */
#include <stddef.h>

#include "ratelimit.h"

int cp_ratelimit_allow(struct cp_ratelimit *rl, uint64_t now_us, uint64_t interval_us,
		       uint32_t burst, uint64_t *suppressed)
{
	/* Unsigned difference: exact across a wrap of the clock, and a step
	 * back reads as a very long time, which opens a window. */
	if (!rl->started || now_us - rl->begin_us >= interval_us) {
		rl->started = 1;
		rl->begin_us = now_us;
		rl->n = 0;
	}
	if (rl->n < burst) {
		rl->n++;
		if (suppressed != NULL)
			*suppressed = rl->suppressed;
		rl->suppressed = 0;
		return 1;
	}
	if (rl->suppressed != UINT64_MAX)
		rl->suppressed++;
	return 0;
}

int cp_ratelimit_ready(const struct cp_ratelimit *rl, uint64_t now_us, uint64_t interval_us,
		       uint32_t burst)
{
	if (burst == 0)
		return 0;
	return !rl->started || now_us - rl->begin_us >= interval_us || rl->n < burst;
}
