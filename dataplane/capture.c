/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture, the workers' half (capture.h, api/capture_api.h). Out of
 * line and cold: only a router that captures calls it, once per RX burst
 * and once per TX flush; the frames of a burst are filtered
 * (proto/capture_filter.h), copied with rte_pcapng_copy() into the
 * capture's pool, and enqueued on its ring in one burst, so the ring's
 * tail (a line the writer reads) moves once per burst, not per frame.
 */
#include <rte_branch_prediction.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_pcapng.h>
#include <rte_ring.h>

#include "capture.h"
#include "capture_filter.h"

void dp_capture_burst(struct dp_lcore *lc, unsigned p, struct rte_mbuf *const *ms, unsigned n,
		      bool tx)
{
	const struct dp_capture *cap = lc->cap;
	struct dp_router *rt = lc->rt;
	struct rte_mbuf *cp[DP_BURST_MAX];
	uint32_t ip_be = 0;
	uint16_t udp_be = 0;
	uint64_t tsc = rte_rdtsc();
	unsigned i, k = 0, q, lost = 0;

	if (tx && cap->conn != 0) {
		/* Whom a sent frame is for: the connector's current
		 * address, read once per burst (valid until this worker's
		 * next quiescent state, like every dp_conn it reads). */
		const struct dp_conn *c = dp_conn_get(rt, cap->conn);

		if (c == NULL || !c->up)
			return;
		ip_be = c->ip_be;
		udp_be = c->udp_be;
	}
	for (i = 0; i < n; i++) {
		const struct rte_mbuf *m = ms[i];
		const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
		bool take = tx ? dp_cap_tx_match(f, rte_pktmbuf_data_len(m), cap->conn, ip_be, udp_be)
			       : dp_cap_rx_match(f, rte_pktmbuf_data_len(m), cap->conn, rt->udp_be);
		struct rte_mbuf *c;

		if (!take)
			continue;
		c = rte_pcapng_copy(rt->ports[p].port_id, lc->idx, m, cap->pool, cap->snaplen, tsc,
				    tx ? RTE_PCAPNG_DIRECTION_OUT : RTE_PCAPNG_DIRECTION_IN);
		if (unlikely(c == NULL)) {
			lost++; /* the capture's pool is empty: the writer is behind */
			continue;
		}
		cp[k++] = c;
	}
	if (k != 0) {
		q = rte_ring_mp_enqueue_burst(cap->ring, (void **)cp, k, NULL);
		DP_COUNT_ADD(lc->stats.capture_frames, q);
		if (unlikely(q < k)) {
			rte_pktmbuf_free_bulk(&cp[q], k - q);
			lost += k - q;
		}
	}
	if (unlikely(lost != 0))
		DP_COUNT_ADD(lc->stats.capture_dropped, lost);
}
