/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker context (struct dp_lcore): worker-private, fetched once at
 * the top of the loop and passed explicitly to every stage. Dataplane-internal.
 */
#ifndef GWART_DP_LCORE_H
#define GWART_DP_LCORE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <gwart/wire.h>

#include "conn_state.h"
#include "group.h"
#include "pkt.h"
#include "route.h"
#include "router.h"
#include "stats.h"
#include "tuning.h"

/* An ACK list entry: origins that need an ACK at the end of this burst. */
#define DP_ACK_LIST_MAX (2 * DP_BURST_MAX + 64)

/* A new message waiting for the burst's bulk route lookup. */
struct dp_pending {
	struct rte_mbuf *m;         /* the gwart frame alone */
	const struct dp_conn *c;    /* its origin, valid until the next quiescent state */
	uint64_t seq;
	struct dp_rm_dest dest;     /* split by the frame parser, exact key hashed once */
	/* A chunk of a group (GW_F_CHUNK): its extension, as parsed. Set
	 * only when chunk is 1 (ingress.c: the one branch single frames pay). */
	uint8_t chunk;
	struct gw_chunk_info ck;
};

/* A session frame (DATA or ACK from a connector) whose checks before the tag
 * passed, waiting for the burst's tag verification (verify_flush()). */
struct dp_vq {
	struct rte_mbuf *m;
	const struct dp_conn *c;    /* its sender, valid until the next quiescent state */
	const uint8_t *gw;          /* the frame, f.length bytes */
	struct gw_frame f;
};

/* A received gwart frame between the worker's stages (worker.c): the parse
 * stage fills it, the dispatch stage reads it, dp_ingress_session() takes
 * the session frames among them. */
struct dp_rx_pkt {
	struct rte_mbuf *m;
	const uint8_t *gw;          /* the frame, len bytes */
	const struct dp_conn *c;    /* DATA/ACK: its sender (NULL: unknown), valid until
				     * the next quiescent state; others: NULL */
	struct dp_pkt_src src;
	uint16_t len;
	struct gw_frame f;
};

/* Stage accounting samples one busy iteration in DP_STAGE_SAMPLE (a power
 * of two) and counts its cycles that many times (stats.h). */
#define DP_STAGE_SAMPLE 64

/* tx's scratch (io.h, dp_tx_mbuf()): fresh mbufs for this iteration's
 * frames to connectors, taken from rt->pool in one bulk get and prefetched
 * for writing a few ahead of their use, because their lines were last
 * written by whichever core freed them (a TX completion, a sink); what is
 * left goes back to the pool at the iteration's dp_tx_flush(). */
#define DP_TX_STASH 32
struct dp_tx_stash {
	uint16_t n, next;           /* m[next..n) unused */
	uint16_t data_off;          /* mbuf to its data: struct, private area, headroom */
	struct rte_mbuf *m[DP_TX_STASH];
};

/* Per-worker context, cache aligned, fetched once and passed explicitly.
 * Worker-private (set up by dp_router_create() before the worker starts),
 * except the counters at the end. */
struct dp_lcore {
	struct dp_router *rt;
	unsigned idx;               /* worker index */
	unsigned lcore_id;
	uint16_t txq;
	uint64_t burst_gen;
	uint64_t now;               /* TSC at the top of this iteration */
	uint64_t next_scan;         /* TSC of the next retransmission scan */
	struct dp_tunables *tun;    /* snapshot for this iteration */
	const struct dp_capture *cap; /* this iteration's capture (api/capture_api.h), NULL: none */
	/* TX buffers, one per port. */
	uint16_t n_tx[DP_MAX_PORTS];
	struct rte_mbuf *tx[DP_MAX_PORTS][DP_BURST_MAX];
	/* v2: the session each buffered frame is sealed with at flush (NULL:
	 * sent as it is: ARP, ICMP, frames control sealed), and how many are. */
	const struct dp_auth_sess *tx_auth[DP_MAX_PORTS][DP_BURST_MAX];
	uint16_t n_seal[DP_MAX_PORTS];
	/* Session frames of this burst waiting for their tag check. */
	unsigned n_vq;
	struct dp_vq vq[DP_BURST_MAX];
	/* Origins to acknowledge at the end of the burst. */
	unsigned n_ack;
	uint32_t ack_list[DP_ACK_LIST_MAX];
	/* New messages of this burst, routed together. */
	unsigned n_pend;
	struct dp_pending pend[DP_BURST_MAX];
	/* Destinations with messages in custody, owned by this worker. */
	struct dp_conn_state *active;
	/* Custody items sent to each other worker still waiting for a verdict:
	 * bounded by the verdict ring so a verdict can never be lost. */
	uint32_t outstanding[DP_MAX_WORKERS];
	uint32_t ho_cap;
	/* Fresh mbufs for frames to connectors (tx: io.h). */
	struct dp_tx_stash tx_stash;
	/* This burst's gwart frames between the parse and dispatch stages. */
	struct dp_rx_pkt rxp[DP_BURST_MAX];
	/* Resolved routes of this worker (route.h: an entry is used only
	 * while the route table's generation is the one it was filled under). */
	struct dp_route_cache rcache __rte_cache_aligned;
	/* Groups in progress (group.h): grp_o routes the groups of the
	 * origins this worker owns, grp_d holds what groups reserved in the
	 * custody of the destinations it owns; cust_bytes is the sum of those
	 * destinations' custody bytes (custody.h), this worker's share of
	 * custody_bytes_total (tuning.h). Worker-private. */
	struct dp_group_tab grp_o, grp_d;
	uint64_t cust_bytes;
	/* Stage accounting (stage_stats), sampled: stage_on is set at the top
	 * of an iteration that is timed (the first one after every
	 * DP_STAGE_SAMPLE - 1 busy iterations, stage_left counting them down;
	 * one longer than stage_max is not counted);
	 * stage_t0 is the TSC of the last mark and stage_acc the cycles of
	 * this iteration, committed only if it did work. */
	bool stage_on;
	uint32_t stage_left;
	uint64_t stage_max;         /* DP_STAGE_SAMPLE_MAX_US in TSC cycles */
	uint64_t stage_t0;
	uint64_t stage_acc[DP_STAGE_COUNT];
	/* The one part another thread reads: dataplane: wo (DP_COUNT_*),
	 * ctlplane: ro (dp_router_stats(), relaxed loads). */
	struct dp_worker_stats stats;
} __rte_cache_aligned;

/* Close the current stage of a sampled iteration: the cycles since the last
 * mark (or the iteration's top) are @st's. One predictable branch on a
 * worker-private flag in every other iteration. */
static inline void dp_stage_mark(struct dp_lcore *lc, enum dp_stage st)
{
	if (unlikely(lc->stage_on)) {
		uint64_t t1 = rte_rdtsc();

		lc->stage_acc[st] += t1 - lc->stage_t0;
		lc->stage_t0 = t1;
	}
}

#endif
