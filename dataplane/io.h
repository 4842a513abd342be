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

#include "lcore.h"

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
	sent = rte_eth_tx_burst(lc->rt->ports[p].port_id, lc->txq, lc->tx[p], n);
	/* Every mbuf not sent is freed: frames in custody are retransmitted
	 * from their custody copy, replies are re-triggered by the peer. */
	while (sent < n)
		dp_drop(lc, lc->tx[p][sent++], DP_DROP_TX_FULL);
	lc->n_tx[p] = 0;
}

static inline void dp_tx(struct dp_lcore *lc, unsigned p, struct rte_mbuf *m)
{
	lc->tx[p][lc->n_tx[p]++] = m;
	if (unlikely(lc->n_tx[p] == DP_BURST_MAX))
		dp_tx_flush_port(lc, p);
}

static inline void dp_tx_flush(struct dp_lcore *lc)
{
	unsigned p;

	for (p = 0; p < lc->rt->n_ports; p++)
		dp_tx_flush_port(lc, p);
}

#endif
