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
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <gwart/auth.h>

#include "capture.h"
#include "lcore.h"
#include "pkt.h"

/* Seal the frames of port @p's TX buffer that carry a session (tx_auth),
 * in bursts per session, then finish their UDP checksums (which cover the
 * tag). reply.c. */
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
	/* Sealed and complete: what the wire will carry. */
	if (unlikely(lc->cap != NULL))
		dp_capture_burst(lc, p, lc->tx[p], n, true);
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

/* Queue @m, a gwart frame at DP_PKT_HDRS with its trailer ctr written, its
 * headers from its connector's template and its checksums begun
 * (dp_pkt_tmpl_put(): all but the tag's part), to be sealed with @a's r2c
 * session at flush (auth_dev.h), where the UDP checksum is finished. */
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

/* ---- fresh mbufs from this iteration's stash (lc->tx_stash, lcore.h) ---- */

/* Mbufs prefetched ahead of use: their two header lines and the first
 * three of their data (headers and a 64-byte payload's frame). */
#define DP_TX_AHEAD 4

static inline void dp_prefetchw(const void *p)
{
#if defined(__x86_64__)
	/* PREFETCHW (a NOP on CPUs before it): the line arrives writable,
	 * not shared with the core that last wrote it. */
	asm volatile("prefetchw %0" : : "m"(*(const volatile char *)p));
#else
	rte_prefetch0_write(p);
#endif
}

static inline void dp_tx_stash_prefetch(const struct dp_tx_stash *s, unsigned i)
{
	const char *m = (const char *)s->m[i];

	dp_prefetchw(m);
	dp_prefetchw(m + RTE_CACHE_LINE_SIZE);
	dp_prefetchw(m + s->data_off);
	dp_prefetchw(m + s->data_off + RTE_CACHE_LINE_SIZE);
	dp_prefetchw(m + s->data_off + 2 * RTE_CACHE_LINE_SIZE);
}

/*
 * dp_tx_mbuf - a fresh mbuf from rt->pool (as rte_pktmbuf_alloc()), taken
 * from this iteration's stash, or NULL when the pool is empty (the caller
 * counts NO_MBUF). Worker only; its iteration ends with dp_tx_flush(),
 * which returns what the stash did not use.
 */
static inline struct rte_mbuf *dp_tx_mbuf(struct dp_lcore *lc)
{
	struct dp_tx_stash *s = &lc->tx_stash;
	struct rte_mbuf *m;
	unsigned i;

	if (unlikely(s->next == s->n)) {
		struct rte_mempool *mp = lc->rt->pool;

		/* Fewer than a stash left: one at a time, until empty. */
		if (unlikely(rte_mempool_get_bulk(mp, (void **)s->m, DP_TX_STASH) != 0)) {
			s->n = s->next = 0;
			return rte_pktmbuf_alloc(mp);
		}
		s->n = DP_TX_STASH;
		s->next = 0;
		s->data_off = (uint16_t)(sizeof(struct rte_mbuf) + rte_pktmbuf_priv_size(mp) +
					 RTE_PKTMBUF_HEADROOM);
		for (i = 0; i < DP_TX_AHEAD; i++)
			dp_tx_stash_prefetch(s, i);
	}
	m = s->m[s->next++];
	if (s->next + DP_TX_AHEAD - 1u < s->n)
		dp_tx_stash_prefetch(s, s->next + DP_TX_AHEAD - 1u);
	rte_pktmbuf_reset(m);
	return m;
}

/* dp_pkt_alloc_frame() from the stash: @len bytes of UDP payload after
 * DP_PKT_HDRS bytes of (unwritten) headers, *payload at the payload. */
static inline struct rte_mbuf *dp_tx_alloc(struct dp_lcore *lc, uint16_t len, uint8_t **payload)
{
	struct rte_mbuf *m = dp_tx_mbuf(lc);

	return likely(m != NULL) ? dp_pkt_frame_init(m, len, payload) : NULL;
}

/* Flush every port's TX buffer and return the stash's unused mbufs (still
 * free mbufs: never reset or written). End of every worker iteration. */
static inline void dp_tx_flush(struct dp_lcore *lc)
{
	struct dp_tx_stash *s = &lc->tx_stash;
	unsigned p;

	for (p = 0; p < lc->rt->n_ports; p++)
		dp_tx_flush_port(lc, p);
	if (s->n != 0) {
		if (s->next != s->n)
			rte_mempool_put_bulk(lc->rt->pool, (void **)&s->m[s->next],
					     (unsigned)(s->n - s->next));
		s->n = s->next = 0;
	}
}

#endif
