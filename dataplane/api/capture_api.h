/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet capture as the workers see it (gwartctl capture start/stop): one
 * immutable object, published by the control thread in dp_router.capture
 * (rcu_assign_pointer), read by every worker once per loop iteration
 * (rcu_dereference, into dp_lcore.cap). NULL, the normal case, costs a
 * worker one predictable branch per RX burst and one per TX flush.
 *
 * While it is published, a worker copies each matching frame it receives
 * (before parsing: every frame, whatever becomes of it) and each one it
 * hands to a port (workers' own and control's frames alike: control's go
 * out through a worker's TX queue), with rte_pcapng_copy() into @pool, and
 * enqueues the copies on @ring (multi-producer, single consumer: the
 * writer thread of control/capture.c, which writes them to the file with
 * rte_pcapng_write_packets()). The copy is the capture's; the frame goes
 * on as if nothing happened. An empty pool or a full ring frees the copy
 * and counts dp_worker_stats.capture_dropped: never a dp_drop(), since no
 * frame was dropped, and never a wait.
 *
 * Lifetime (control/capture.c, cp_capture_stop()): unpublished, then a
 * grace period (synchronize_rcu) before the ring and the pool are freed,
 * so a worker never enqueues to a ring that is gone.
 */
#ifndef GWART_DP_CAPTURE_API_H
#define GWART_DP_CAPTURE_API_H

#include <stdint.h>

#include <urcu-qsbr.h>

#include "router.h"

struct rte_mempool;
struct rte_ring;

/* Dataplane: ro (under rcu_read, between quiescent states); ctlplane: wo
 * before publication, never written after. */
struct dp_capture {
	struct rte_mempool *pool;   /* the copies (rte_pcapng_mbuf_size() each), MP/MC */
	struct rte_ring *ring;      /* workers -> writer, MP/SC */
	uint32_t conn;              /* only this connector's frames; 0: every frame */
	uint32_t snaplen;           /* bytes of each frame kept (1..65535) */
};

/* Control thread only: publish @cap (NULL: none). The caller waits for a
 * grace period (synchronize_rcu()) after unpublishing before it frees the
 * old object's ring or pool. */
static inline void dp_capture_publish(struct dp_router *rt, struct dp_capture *cap)
{
	rcu_assign_pointer(rt->capture, cap);
}

#endif
