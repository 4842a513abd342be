/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A rate limiter for log lines: at most @burst lines per window of
 * @interval_us, the events refused in between counted, so that the next
 * line allowed can say how many similar ones were suppressed (the kernel's
 * ___ratelimit(), with the count handed to the caller instead of printed).
 * Pure: no clock of its own, no DPDK, no I/O; the caller passes monotonic
 * microseconds and the parameters (which may change between calls, as the
 * tunables behind them do).
 *
 * Time is compared only by unsigned difference (now - begin), so a clock
 * that wraps through 2^64 keeps windows exact; a clock that steps back
 * (difference "negative", i.e. huge) opens a new window rather than
 * silencing the limiter for ever.
 *
 * Threading: none; one owner per state (the control thread's).
 */
#ifndef GWART_CP_RATELIMIT_H
#define GWART_CP_RATELIMIT_H

#include <stdint.h>

/* Zero-initialised is the state "no event yet". */
struct cp_ratelimit {
	uint64_t begin_us;    /* start of the current window */
	uint64_t suppressed;  /* refused since the last allowed event (saturates) */
	uint32_t n;           /* allowed in the current window */
	uint8_t started;      /* a window exists */
};

/*
 * One event at @now_us. 1: log it, and *@suppressed (when not NULL) is the
 * number of events refused since the previous allowed one (then reset);
 * 0: refused, counted. The first event always opens a window; a window
 * ends when now - begin >= @interval_us (so @interval_us 0 allows every
 * event); @burst 0 refuses everything.
 */
int cp_ratelimit_allow(struct cp_ratelimit *rl, uint64_t now_us, uint64_t interval_us,
		       uint32_t burst, uint64_t *suppressed);
/* Whether cp_ratelimit_allow() would allow an event at @now_us, without
 * counting one (a summary flushed only once its line would be allowed). */
int cp_ratelimit_ready(const struct cp_ratelimit *rl, uint64_t now_us, uint64_t interval_us,
		       uint32_t burst);

#endif
