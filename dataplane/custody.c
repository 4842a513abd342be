/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Custody queues; see custody.h for the model. Only the owning worker calls
 * put/ack, so nothing here needs locks; held and head, which the control
 * thread reads (dp_conn_snapshot), are written with relaxed atomic stores.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "ack.h"
#include "custody.h"
#include "pkt.h"

/* Acknowledged mbufs freed per rte_pktmbuf_free_bulk() call. */
#define CUSTODY_FREE_BULK 64

struct dp_custody *dp_custody_create(uint32_t slots, uint64_t first_seq, int socket_id)
{
	struct dp_custody *c;

	if (slots == 0 || (slots & (slots - 1)) != 0 || first_seq == 0)
		return NULL;
	c = rte_zmalloc_socket("gw_custody", sizeof(*c) + (size_t)slots * sizeof(c->slot[0]),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (c == NULL)
		return NULL;
	c->head = c->next_tx = c->tail = first_seq;
	c->mask = slots - 1;
	return c;
}

unsigned dp_custody_free(struct dp_custody *c)
{
	unsigned n = 0;
	uint64_t s;

	if (c == NULL)
		return 0;
	for (s = c->head; s != c->tail; s++) {
		struct dp_cslot *sl = dp_custody_slot(c, s);

		if (sl->m != NULL) {
			rte_pktmbuf_free(sl->m);
			sl->m = NULL;
			n++;
		}
	}
	rte_free(c);
	return n;
}

uint64_t dp_custody_put_ex(struct dp_custody *c, struct rte_mbuf *m, uint32_t limit,
			   uint32_t bytes, uint32_t grp)
{
	struct dp_cslot *sl;
	uint64_t seq;

	/* Holes left by selective ACKs still occupy slots until head passes
	 * them, so the bound is on the span, never on the count alone; and
	 * slots reserved for groups' chunks still to come count as taken. */
	if (!dp_custody_room(c, limit, 1))
		return 0;
	seq = c->tail++;
	sl = dp_custody_slot(c, seq);
	sl->m = m;
	sl->tx_tsc = 0;
	sl->tries = 0;
	sl->rto_us = 0;
	sl->bytes = bytes;
	sl->grp = grp;
	if (bytes != 0)
		__atomic_store_n(&c->bytes, c->bytes + bytes, __ATOMIC_RELAXED);
	{
		/* The frame's own length (it may be shorter than the mbuf's
		 * data: Ethernet padding), bounded by what the mbuf holds. */
		const uint8_t *fr = rte_pktmbuf_mtod(m, const uint8_t *);
		uint16_t dl = rte_pktmbuf_data_len(m);
		uint16_t len = dl >= GW_HDR_LEN ? (uint16_t)(fr[4] << 8 | fr[5]) : 0;

		sl->csum = dp_csum_gw_body(fr, len <= dl ? len : dl);
	}
	__atomic_store_n(&c->held, c->held + 1, __ATOMIC_RELAXED);
	return seq;
}

struct free_batch {
	unsigned n;
	uint64_t bytes;
	struct dp_custody_rel *rel;
	struct rte_mbuf *m[CUSTODY_FREE_BULK];
};

static inline int ack_one(struct dp_custody *c, uint64_t seq, uint64_t *karn,
			  struct free_batch *fb)
{
	struct dp_cslot *sl = dp_custody_slot(c, seq);

	if (sl->m == NULL)
		return 0;
	if (sl->tries == 1 && sl->tx_tsc > *karn)
		*karn = sl->tx_tsc;
	fb->bytes += sl->bytes;
	if (unlikely(sl->grp != 0) && fb->rel != NULL && fb->rel->chunk_done != NULL)
		fb->rel->chunk_done(fb->rel->arg, sl->grp);
	fb->m[fb->n++] = sl->m;
	if (unlikely(fb->n == CUSTODY_FREE_BULK)) {
		rte_pktmbuf_free_bulk(fb->m, fb->n);
		fb->n = 0;
	}
	sl->m = NULL;
	__atomic_store_n(&c->held, c->held - 1, __ATOMIC_RELAXED);
	return 1;
}

int dp_custody_ack_ex(struct dp_custody *c, uint64_t cum, uint64_t base, uint64_t bitmap,
		      uint64_t *rtt_tx_tsc, struct dp_custody_rel *rel)
{
	struct dp_ack_walk w;
	struct free_batch fb;
	uint64_t s, head, karn = 0;
	int n = 0;

	/* An ACK may only cover what was transmitted; anything else is a
	 * confused or hostile peer and must not free queued messages. */
	if (!dp_ack_valid(cum, base, bitmap, c->next_tx))
		return -1;
	fb.n = 0;
	fb.bytes = 0;
	fb.rel = rel;
	/* Only [head, next_tx) can hold anything: at most a queue's span. */
	dp_ack_walk_init(&w, cum, base, bitmap, c->head, c->next_tx);
	while (dp_ack_walk_next(&w, &s) != DP_ACK_END)
		n += ack_one(c, s, &karn, &fb);
	if (fb.n != 0)
		rte_pktmbuf_free_bulk(fb.m, fb.n);
	if (fb.bytes != 0)
		__atomic_store_n(&c->bytes, c->bytes - (fb.bytes <= c->bytes ? fb.bytes : c->bytes),
				 __ATOMIC_RELAXED);
	if (rel != NULL)
		rel->bytes = fb.bytes;
	head = c->head;
	while (head < c->next_tx && dp_custody_slot(c, head)->m == NULL)
		head++;
	__atomic_store_n(&c->head, head, __ATOMIC_RELAXED);
	if (rtt_tx_tsc != NULL)
		*rtt_tx_tsc = karn;
	return n;
}

struct rte_mbuf *dp_custody_unqueue(struct dp_custody *c, uint64_t seq)
{
	struct dp_cslot *sl;
	struct rte_mbuf *m;

	if (seq < c->next_tx || seq >= c->tail)
		return NULL;
	sl = dp_custody_slot(c, seq);
	m = sl->m;
	if (m == NULL)
		return NULL;
	sl->m = NULL;
	__atomic_store_n(&c->bytes, c->bytes - (sl->bytes <= c->bytes ? sl->bytes : c->bytes),
			 __ATOMIC_RELAXED);
	sl->bytes = 0;
	sl->grp = 0;
	__atomic_store_n(&c->held, c->held - 1, __ATOMIC_RELAXED);
	return m;
}

void dp_custody_compact(struct dp_custody *c)
{
	uint64_t r, w = c->next_tx;

	for (r = c->next_tx; r != c->tail; r++) {
		struct dp_cslot *sl = dp_custody_slot(c, r);

		if (sl->m == NULL)
			continue;
		if (w != r) {
			*dp_custody_slot(c, w) = *sl;
			sl->m = NULL;
			sl->bytes = 0;
			sl->grp = 0;
		}
		w++;
	}
	c->tail = w;
}
