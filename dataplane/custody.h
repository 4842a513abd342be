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
	/* Payload bytes this slot holds of the custody's byte bound (released
	 * when it leaves), and the destination-side group it is a chunk of
	 * (group.h: the entry's number in its worker's table; 0: a message
	 * of one frame). */
	uint32_t bytes;
	uint32_t grp;
};

struct dp_custody {
	uint64_t head;        /* dataplane: wo (relaxed stores), ctlplane: ro */
	uint64_t next_tx;     /* owner worker only */
	uint64_t tail;        /* owner worker only */
	uint32_t mask;        /* slots - 1; set once at creation */
	uint32_t held;        /* slots with a message (tail - head minus holes);
			       * dataplane: wo (relaxed stores), ctlplane: ro */
	/* The byte bound: payload bytes of the held slots plus what groups
	 * reserved for their chunks still to come (dp_custody_reserve());
	 * dataplane: wo (relaxed stores), ctlplane: ro. */
	uint64_t bytes;
	/* Slots reserved for chunks still to come: no message may take them
	 * (dp_custody_room()), so a group that was admitted is never refused
	 * for room halfway. Owner worker only. */
	uint32_t resv_slots;
	struct dp_cslot slot[]; /* owner worker only */
};

/* Control thread: allocate a queue of @slots (power of two) slots whose first
 * link seq is @first_seq (>= 1). Returns NULL on -ENOMEM. */
struct dp_custody *dp_custody_create(uint32_t slots, uint64_t first_seq, int socket_id);
/* Free the queue and every message still in it; returns how many were freed.
 * Caller guarantees no worker can reach it any more. */
unsigned dp_custody_free(struct dp_custody *c);

/* Owner worker: take @m (a DATA frame, L2-L4 stripped; its body's checksum
 * sum is computed here), holding @bytes of the byte bound (added to
 * c->bytes here, released when it leaves) as a chunk of group number @grp
 * (0: none). Returns its link seq, or 0 when tail - head plus the reserved
 * slots has reached @limit (clamped to the ring: BUSY; @m untouched). The
 * byte bound is the caller's to check (egress.c). */
uint64_t dp_custody_put_ex(struct dp_custody *c, struct rte_mbuf *m, uint32_t limit,
			   uint32_t bytes, uint32_t grp);

/* dp_custody_put_ex() of a message that holds no bytes and no group. */
static inline uint64_t dp_custody_put(struct dp_custody *c, struct rte_mbuf *m, uint32_t limit)
{
	return dp_custody_put_ex(c, m, limit, 0, 0);
}

/* Owner worker: may @n more slots be taken (or reserved) under @limit
 * (clamped to the ring), the reserved ones counted as taken? */
static inline int dp_custody_room(const struct dp_custody *c, uint32_t limit, uint32_t n)
{
	uint64_t cap = (uint64_t)c->mask + 1;

	if (limit < cap)
		cap = limit;
	return c->tail - c->head + c->resv_slots + n <= cap;
}

/* Owner worker: reserve (@sign > 0) or release (@sign < 0) @slots slots
 * and @bytes bytes for chunks still to come. Reservations are checked by
 * the caller (dp_custody_room() and its byte bound) before they are made;
 * a release gives back what a reservation took, never more. */
static inline void dp_custody_reserve(struct dp_custody *c, int sign, uint32_t slots,
				      uint32_t bytes)
{
	if (sign > 0) {
		c->resv_slots += slots;
		__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
	} else {
		c->resv_slots -= slots <= c->resv_slots ? slots : c->resv_slots;
		__atomic_store_n(&c->bytes, c->bytes - (bytes <= c->bytes ? bytes : c->bytes),
				 __ATOMIC_RELAXED);
	}
}

/* What an ACK released besides the messages: their bytes, and, for each
 * chunk among them, a call of @chunk_done with its group number (NULL: not
 * called), so that the destination side of its group (group.h) learns it. */
struct dp_custody_rel {
	uint64_t bytes;
	void (*chunk_done)(void *arg, uint32_t grp);
	void *arg;
};

/* Owner worker: apply a destination ACK (cumulative @cum, @bitmap from
 * @base). Frees acknowledged messages and advances head. Returns how many
 * messages were newly acknowledged (their mbufs freed in bulk,
 * rte_pktmbuf_free_bulk()), or -1 if the ACK names a seq never sent
 * (nothing applied). If @rtt_tx_tsc is not NULL it receives the send time of
 * the newest newly acknowledged message that was transmitted exactly once
 * (Karn's rule: only those give honest round-trip samples), or 0. @rel
 * (NULL: not wanted) receives the bytes released and hears of the chunks. */
int dp_custody_ack_ex(struct dp_custody *c, uint64_t cum, uint64_t base, uint64_t bitmap,
		      uint64_t *rtt_tx_tsc, struct dp_custody_rel *rel);

static inline int dp_custody_ack(struct dp_custody *c, uint64_t cum, uint64_t base,
				 uint64_t bitmap, uint64_t *rtt_tx_tsc)
{
	return dp_custody_ack_ex(c, cum, base, bitmap, rtt_tx_tsc, NULL);
}

/*
 * Owner worker, failover (egress.c): take the message of never-transmitted
 * link seq @seq (next_tx <= seq < tail) out of the queue: its slot becomes
 * a hole, held and bytes drop. Returns the mbuf (the caller's from now on),
 * NULL if @seq holds none or was transmitted. Holes among never-transmitted
 * seqs must not outlive the caller's function: dp_custody_compact() closes
 * them (those seqs were never sent, so renumbering them is invisible to the
 * destination).
 */
struct rte_mbuf *dp_custody_unqueue(struct dp_custody *c, uint64_t seq);

/* Owner worker: close the holes dp_custody_unqueue() left in [next_tx,
 * tail), keeping the order of what stays; tail moves down. O(tail -
 * next_tx). */
void dp_custody_compact(struct dp_custody *c);

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
