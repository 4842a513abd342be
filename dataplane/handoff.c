/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hand-off rings: an n x n matrix of SP/SC rte_rings with 16-byte elements.
 *
 * Why one ring per ordered pair rather than one MPSC ring per destination:
 * with a single producer and a single consumer, rte_ring's SP/SC paths are
 * plain loads and stores plus release/acquire on the head and tail, with no
 * compare-and-swap, and per-pair FIFO order holds by construction, which the
 * custody protocol relies on (a verdict never overtakes an earlier one).
 */
#include <errno.h>
#include <stdio.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "handoff.h"

#define DP_HO_WORKERS_MAX 256

struct dp_handoff {
	unsigned n;		  /* workers */
	unsigned size;		  /* slots per ring */
	struct rte_ring *rings[]; /* [src * n + dst] */
};

/* Distinct ring names for every dp_handoff in the process. */
static uint32_t dp_handoff_serial;

struct dp_handoff *dp_handoff_create(unsigned n_workers, unsigned ring_size, int socket_id)
{
	struct dp_handoff *h;
	uint32_t serial;
	unsigned s, d;

	if (n_workers == 0 || n_workers > DP_HO_WORKERS_MAX || ring_size < 2 ||
	    !rte_is_power_of_2(ring_size) || ring_size > RTE_RING_SZ_MASK) {
		rte_errno = EINVAL;
		return NULL;
	}
	h = rte_zmalloc_socket("dp_handoff",
			       sizeof(*h) + (size_t)n_workers * n_workers * sizeof(h->rings[0]),
			       RTE_CACHE_LINE_SIZE, socket_id);
	if (h == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	h->n = n_workers;
	h->size = ring_size;
	serial = __atomic_fetch_add(&dp_handoff_serial, 1, __ATOMIC_RELAXED);
	for (s = 0; s < n_workers; s++) {
		for (d = 0; d < n_workers; d++) {
			char name[RTE_RING_NAMESIZE];
			struct rte_ring *r;

			snprintf(name, sizeof(name), "ho%u_%u_%u", serial, s, d);
			r = rte_ring_create_elem(name, sizeof(struct dp_ho_item), ring_size,
						 socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (r == NULL) {
				int e = rte_errno;

				dp_handoff_free(h);
				rte_errno = e;
				return NULL;
			}
			h->rings[s * n_workers + d] = r;
		}
	}
	return h;
}

void dp_handoff_free(struct dp_handoff *h)
{
	unsigned i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n * h->n; i++)
		rte_ring_free(h->rings[i]); /* NULL-safe */
	rte_free(h);
}

unsigned dp_handoff_capacity(const struct dp_handoff *h) { return h->size - 1; }

unsigned dp_handoff_send(struct dp_handoff *h, unsigned src, unsigned dst,
			 const struct dp_ho_item *items, unsigned n)
{
	if (unlikely(src >= h->n || dst >= h->n))
		return 0;
	return rte_ring_sp_enqueue_burst_elem(h->rings[src * h->n + dst], items, sizeof(*items), n,
					      NULL);
}

unsigned dp_handoff_recv(struct dp_handoff *h, unsigned dst, unsigned src, struct dp_ho_item *items,
			 unsigned n)
{
	if (unlikely(src >= h->n || dst >= h->n))
		return 0;
	return rte_ring_sc_dequeue_burst_elem(h->rings[src * h->n + dst], items, sizeof(*items), n,
					      NULL);
}

unsigned dp_handoff_count(const struct dp_handoff *h, unsigned src, unsigned dst)
{
	if (src >= h->n || dst >= h->n)
		return 0;
	return rte_ring_count(h->rings[src * h->n + dst]);
}
