/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hand-off rings between workers: one single-producer/single-consumer
 * lock-free ring per ordered (src, dst) worker pair, so that state owned by
 * one worker is only ever handed over, never shared (router.h: ownership rules). The
 * rings carry 16-byte items by value (rte_ring elem API).
 *
 * Threading: for a given (src, dst), only worker src may send and only
 * worker dst may receive; different pairs are fully independent. No locks,
 * no allocation, no syscalls, no RCU. A pair with src == dst exists too (a
 * loopback queue) but a worker normally handles its own items inline.
 * Ownership: an item's pkt (an mbuf) belongs to the ring once sent and to
 * the receiver once received; on a short send the unsent items stay the
 * sender's.
 */
#ifndef GWART_DP_HANDOFF_H
#define GWART_DP_HANDOFF_H

#include <stdint.h>

/* Item operations (op). 0 is never valid, so a zeroed item is caught. */
enum dp_ho_op {
	/* pkt: a frame from connector conn, received by a worker that does not
	 * own conn; the owner processes it as if it had received it. */
	DP_HO_STEER = 1,
	/* pkt: a DATA frame for destination connector conn; the owner of conn
	 * takes custody and answers DP_HO_VERDICT. With arg DP_HO_ARG_MOVE it
	 * is a failover move of an already acknowledged message: no verdict. */
	DP_HO_CUSTODY = 2,
	/* seq: origin_seq of origin connector conn; arg: 0 custody taken, else
	 * the enum gw_nack_reason it was refused with. */
	DP_HO_VERDICT = 3,
};

#define DP_HO_ARG_MOVE 1

/* A DP_HO_VERDICT's arg: the NACK reason (0: custody taken) in bits 0-7,
 * the drop reason (enum dp_drop_reason, stats.h) the refusal is counted
 * under in bits 8-14, and DP_HO_VRD_CHUNK when the message is a chunk of a
 * group: conn then carries the origin in its low 16 bits and the chunk's
 * index in its high 16 (origin ids are below DP_MAX_CONNECTORS, indexes
 * below DP_CUSTODY_MAX: both 2^16), so that the origin's owner finds the
 * group (origin_seq - index) without a lookup by seq. */
#define DP_HO_VRD_CHUNK 0x8000u
#define DP_HO_VRD_ARG(nack, why) ((uint16_t)((nack) | (unsigned)(why) << 8))
#define DP_HO_VRD_NACK(arg) ((unsigned)(arg) & 0xffu)
#define DP_HO_VRD_WHY(arg) (((unsigned)(arg) >> 8) & 0x7fu)

struct dp_ho_item { /* 16 bytes */
	union {
		void *pkt;
		uint64_t seq;
	};
	uint32_t conn;
	uint16_t op; /* enum dp_ho_op */
	uint16_t arg;
};

_Static_assert(sizeof(struct dp_ho_item) == 16, "hand-off items are 16 bytes");

struct dp_handoff;

/*
 * Create n_workers^2 rings of ring_size slots each (a power of two, at least
 * 2; each holds ring_size - 1 items, the rte_ring convention) on socket_id.
 * Returns NULL with rte_errno set (EINVAL, ENOMEM, ...). Call after
 * rte_eal_init(), before the workers start.
 */
struct dp_handoff *dp_handoff_create(unsigned n_workers, unsigned ring_size, int socket_id);

/* Free the rings; items still in them are dropped (drain them first if they
 * own mbufs). No worker may be using them. NULL is a no-op. */
void dp_handoff_free(struct dp_handoff *h);

/* Items one (src, dst) ring holds at most: ring_size - 1. */
unsigned dp_handoff_capacity(const struct dp_handoff *h);

/*
 * Producer: only worker src may call for a given (src, dst). Enqueues up to
 * n items in order; returns how many (burst: fewer when the ring fills).
 * Out-of-range worker indexes send nothing.
 */
unsigned dp_handoff_send(struct dp_handoff *h, unsigned src, unsigned dst,
			 const struct dp_ho_item *items, unsigned n);

/*
 * Consumer: only worker dst may call for a given (src, dst). Dequeues up to
 * n items, in the order src sent them; returns how many.
 */
unsigned dp_handoff_recv(struct dp_handoff *h, unsigned dst, unsigned src, struct dp_ho_item *items,
			 unsigned n);

/* Items queued from src to dst. Any thread; a snapshot. */
unsigned dp_handoff_count(const struct dp_handoff *h, unsigned src, unsigned dst);

#endif
