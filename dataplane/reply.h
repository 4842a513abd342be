/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router's own answers on a session's lane 1: ACKs (batched, one per
 * origin per burst: cumulative point + bitmap) and NACKs, and sealing the
 * TX buffer at flush. Worker context only: each function is called by the
 * worker that owns the connector it answers (the one writer of its lane-1
 * counter), between two quiescent states (@c is RCU-protected).
 */
#ifndef GWART_DP_REPLY_H
#define GWART_DP_REPLY_H

#include <stdint.h>

#include "lcore.h"

/* A NACK to @c for @seq, at its session's address, sealed with its session.
 * Without a session nothing is sent (v2 answers nothing it cannot seal). */
void dp_reply_nack(struct dp_lcore *lc, const struct dp_conn *c, uint64_t seq, unsigned reason,
		   uint32_t retry_us);

/* Send the ACKs of this burst (one per origin in lc->ack_list) and start a
 * new ACK generation. */
void dp_reply_ack_flush(struct dp_lcore *lc);

/* dp_reply_nack(), counted against @c. */
static inline void dp_reply_nack_conn(struct dp_lcore *lc, const struct dp_conn *c, uint64_t seq,
			     unsigned reason, uint32_t retry_us)
{
	DP_COUNT_INC(c->st->stats.nacked);
	dp_reply_nack(lc, c, seq, reason, retry_us);
}

/* Acknowledge @seq of @st's connector at the end of this burst. */
static inline void dp_reply_ack_add(struct dp_lcore *lc, struct dp_conn_state *st, uint64_t seq)
{
	if (st->ack_gen != lc->burst_gen) {
		if (unlikely(lc->n_ack == DP_ACK_LIST_MAX))
			dp_reply_ack_flush(lc);
		st->ack_gen = lc->burst_gen;
		st->ack_lo = st->ack_hi = seq;
		lc->ack_list[lc->n_ack++] = st->id;
		return;
	}
	if (seq < st->ack_lo)
		st->ack_lo = seq;
	if (seq > st->ack_hi)
		st->ack_hi = seq;
}

#endif
