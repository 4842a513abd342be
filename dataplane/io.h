/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's two exits for a packet: dp_tx() (buffered, flushed per burst
 * or on the TX drain deadline) and dp_drop() (the one place that frees an
 * unsent packet and counts why). Worker context only.
 */
#ifndef GWART_DP_IO_H
#define GWART_DP_IO_H

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <gwart/auth.h>

#include "lcore.h"

/* Seal the frames of port @p's TX buffer that carry a session (tx_auth),
 * in bursts per session, then finish their IPv4/UDP checksums (which cover
 * the tag). worker.c. */
void dp_tx_seal_port(struct dp_lcore *lc, unsigned p);

static inline void dp_drop(struct dp_lcore *lc, struct rte_mbuf *m, enum dp_drop_reason why)
{
	DP_COUNT_INC(lc->stats.drops[why]);
	if (m != NULL)
		rte_pktmbuf_free(m);
}

/* Count a refusal that did not consume a packet (the packet went on to be
 * answered, e.g. with a NACK). */
static inline void dp_count_drop(struct dp_lcore *lc, enum dp_drop_reason why)
{
	DP_COUNT_INC(lc->stats.drops[why]);
}

static inline void dp_tx_flush_port(struct dp_lcore *lc, unsigned p)
{
	uint16_t n = lc->n_tx[p], sent;

	if (n == 0)
		return;
	if (lc->n_seal[p] != 0)
		dp_tx_seal_port(lc, p);
	sent = rte_eth_tx_burst(lc->rt->ports[p].port_id, lc->txq, lc->tx[p], n);
	/* Every mbuf not sent is freed: frames in custody are retransmitted
	 * from their custody copy, replies are re-triggered by the peer. */
	while (sent < n)
		dp_drop(lc, lc->tx[p][sent++], DP_DROP_TX_FULL);
	lc->n_tx[p] = 0;
	lc->n_seal[p] = 0;
}

/* Queue @m (complete, checksums done) for port @p. */
static inline void dp_tx(struct dp_lcore *lc, unsigned p, struct rte_mbuf *m)
{
	lc->tx_auth[p][lc->n_tx[p]] = NULL;
	lc->tx[p][lc->n_tx[p]++] = m;
	if (unlikely(lc->n_tx[p] == DP_BURST_MAX))
		dp_tx_flush_port(lc, p);
}

/* Queue @m, a gwart frame at DP_PKT_HDRS with its trailer ctr written and
 * its IPv4/UDP checksums not yet computed, to be sealed with @a's r2c
 * session at flush (auth_dev.h). */
static inline void dp_tx_sealed(struct dp_lcore *lc, unsigned p, struct rte_mbuf *m,
				const struct dp_auth_sess *a)
{
	lc->tx_auth[p][lc->n_tx[p]] = a;
	lc->n_seal[p]++;
	lc->tx[p][lc->n_tx[p]++] = m;
	if (unlikely(lc->n_tx[p] == DP_BURST_MAX))
		dp_tx_flush_port(lc, p);
}

/* The next lane-1 trailer counter of a frame to @c (owner worker only), or 0
 * when none may be sent: no session (frames without one are not sent:
 * epoch-0 answers are control's), or its counter spent (practically never:
 * 2^56 frames; the connector's next HELLO makes a new session). */
static inline uint64_t dp_tx_ctr(struct dp_lcore *lc, const struct dp_conn *c)
{
	struct dp_conn_state *st = c->st;

	if (unlikely(!c->up || c->auth == NULL))
		return 0;
	dp_conn_sess_sync(st, c);
	if (unlikely(st->tx_ctr >= GW_CTR_COUNT_MAX)) {
		dp_count_drop(lc, DP_DROP_CTR_SPENT);
		return 0;
	}
	return gw_ctr_make(GW_LANE_STREAM, ++st->tx_ctr);
}

static inline void dp_tx_flush(struct dp_lcore *lc)
{
	unsigned p;

	for (p = 0; p < lc->rt->n_ports; p++)
		dp_tx_flush_port(lc, p);
}

#endif
