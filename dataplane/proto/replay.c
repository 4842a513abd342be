/* SPDX-License-Identifier: BSD-3-Clause */
/* RFC 6479 anti-replay window (replay.h). */
#include <string.h>

#include "replay.h"

#define WORD_MASK (DP_REPLAY_WORDS - 1)

void dp_replay_init(struct dp_replay *w)
{
	memset(w, 0, sizeof(*w));
}

bool dp_replay_check(const struct dp_replay *w, uint64_t n)
{
	if (n == 0)
		return false;
	if (n > w->top)
		return true;
	/* n <= top here, so top - n cannot wrap. */
	if (w->top - n >= DP_REPLAY_WINDOW)
		return false;
	return !((w->bits[(n >> 6) & WORD_MASK] >> (n & 63)) & 1);
}

void dp_replay_commit(struct dp_replay *w, uint64_t n)
{
	if (n > w->top) {
		uint64_t cur = w->top >> 6, nxt = n >> 6, diff = nxt - cur, i;

		/* At most the whole ring is cleared, however far n jumped. */
		if (diff > DP_REPLAY_WORDS)
			diff = DP_REPLAY_WORDS;
		for (i = 1; i <= diff; i++)
			w->bits[(cur + i) & WORD_MASK] = 0;
		w->top = n;
	}
	w->bits[(n >> 6) & WORD_MASK] |= UINT64_C(1) << (n & 63);
}
