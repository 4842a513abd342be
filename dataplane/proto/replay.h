/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anti-replay window of RFC 6479 for one lane of one session direction
 * (auth.h: a frame's trailer counter, lane bits removed).
 *
 * The window is a ring of DP_REPLAY_WORDS 64-bit words. Counters above the
 * highest seen are always fresh; counters within DP_REPLAY_WINDOW below it are
 * fresh once; older ones are refused. Sliding clears at most DP_REPLAY_WORDS
 * words whatever the jump, so a peer's counter value never decides how much
 * work is done, and counters are compared without arithmetic that can wrap.
 *
 * Usage (WireGuard's order): dp_replay_check() before the tag is verified,
 * dp_replay_commit() only after it verified, so a forged frame cannot move
 * the window.
 *
 * Threading: a window has one owner (the thread that receives that lane); no
 * locks, no RCU. Pure: no allocation, no I/O.
 */
#ifndef DP_PROTO_REPLAY_H
#define DP_PROTO_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define DP_REPLAY_WORDS 32u /* power of two */
#define DP_REPLAY_WINDOW ((DP_REPLAY_WORDS - 1) * 64u) /* 1,984 counters always kept */

struct dp_replay {
	uint64_t top; /* highest committed counter; 0: none yet */
	uint64_t bits[DP_REPLAY_WORDS];
};

void dp_replay_init(struct dp_replay *w);

/* True if @n (1 .. GW_CTR_COUNT_MAX, or any non-zero value) has not been
 * committed and is not too old. Counter 0 is never fresh. No side effects. */
bool dp_replay_check(const struct dp_replay *w, uint64_t n);

/* Records @n as seen; call only after dp_replay_check(w, n) was true and the
 * frame's tag verified. */
void dp_replay_commit(struct dp_replay *w, uint64_t n);

#endif /* DP_PROTO_REPLAY_H */
