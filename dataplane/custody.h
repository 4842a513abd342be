/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Custody: the bounded per-destination queue of messages the router has
 * acknowledged to their origins and not yet seen acknowledged by their
 * destination. Each slot is addressed by its egress link sequence number
 * (seq & mask); link seqs are assigned here, monotonic for the router's life.
 *
 *   head      oldest seq still held (acked slots above head are holes)
 *   next_tx   first seq never transmitted
 *   tail      next seq to assign
 *
 * Threading: a custody queue belongs to the worker that owns its destination
 * connector; only that worker calls these functions (no locks). The control
 * thread creates it before publishing the connector, reads head and held
 * with relaxed loads (dp_conn_snapshot()), and frees it only after the
 * connector was unpublished, a grace period elapsed and the owner forgot it
 * (dp_conn_delete()).
 */
#ifndef GWART_DP_CUSTODY_H
#define GWART_DP_CUSTODY_H

#include <stdint.h>

struct rte_mbuf;

/*
 * A slot's mbuf holds the frame alone (L2-L4 stripped) and never leaves its
 * owner worker while the slot holds it: until the first transmission it is
 * the frame as received; that transmission sends the received mbuf itself
 * and the slot takes a copy in a mbuf of the worker's own; retransmissions
 * are copies in fresh mbufs (egress.c, send_data()). So its reference count
 * stays 1, no other core writes its lines, and only the owner frees it (in
 * bulk, on the destination's ACK).
 */
struct dp_cslot {
	struct rte_mbuf *m;   /* the DATA frame as received; NULL once acknowledged */
	uint64_t tx_tsc;      /* TSC of the last transmission */
	uint32_t rto_us;      /* current retransmission timeout */
	uint16_t tries;       /* transmissions so far */
	/* Folded ones' complement sum of the frame's body (dp_csum_gw_body(),
	 * api/pkt.h): what every transmission keeps, summed once here, in the
	 * slot each transmission touches anyway, so that a transmission's UDP
	 * checksum adds only what it rewrites (header, counter, tag). */
	uint16_t csum;
};

struct dp_custody {
	uint64_t head;        /* dataplane: wo (relaxed stores), ctlplane: ro */
	uint64_t next_tx;     /* owner worker only */
	uint64_t tail;        /* owner worker only */
	uint32_t mask;        /* slots - 1; set once at creation */
	uint32_t held;        /* slots with a message (tail - head minus holes);
			       * dataplane: wo (relaxed stores), ctlplane: ro */
	struct dp_cslot slot[]; /* owner worker only */
};

/* Control thread: allocate a queue of @slots (power of two) slots whose first
 * link seq is @first_seq (>= 1). Returns NULL on -ENOMEM. */
struct dp_custody *dp_custody_create(uint32_t slots, uint64_t first_seq, int socket_id);
/* Free the queue and every message still in it; returns how many were freed.
 * Caller guarantees no worker can reach it any more. */
unsigned dp_custody_free(struct dp_custody *c);

/* Owner worker: take @m (a DATA frame, L2-L4 stripped; its body's checksum
 * sum is computed here). Returns its link seq, or 0 when tail - head has
 * reached @limit (BUSY; @m untouched). */
uint64_t dp_custody_put(struct dp_custody *c, struct rte_mbuf *m, uint32_t limit);

/* Owner worker: apply a destination ACK (cumulative @cum, @bitmap from
 * @base). Frees acknowledged messages and advances head. Returns how many
 * messages were newly acknowledged (their mbufs freed in bulk,
 * rte_pktmbuf_free_bulk()), or -1 if the ACK names a seq never sent
 * (nothing applied). If @rtt_tx_tsc is not NULL it receives the send time of
 * the newest newly acknowledged message that was transmitted exactly once
 * (Karn's rule: only those give honest round-trip samples), or 0. */
int dp_custody_ack(struct dp_custody *c, uint64_t cum, uint64_t base, uint64_t bitmap,
		   uint64_t *rtt_tx_tsc);

static inline uint32_t dp_custody_inflight(const struct dp_custody *c)
{
	return (uint32_t)(c->next_tx - c->head);
}

static inline int dp_custody_empty(const struct dp_custody *c)
{
	return c->head == c->tail;
}

static inline struct dp_cslot *dp_custody_slot(struct dp_custody *c, uint64_t seq)
{
	return &c->slot[seq & c->mask];
}

#endif
