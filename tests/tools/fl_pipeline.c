/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-faultlink's fault pipeline, one per direction: seeded drop,
 * duplicate, reorder and delay with jitter, over a bounded pool of packet
 * buffers and a delay heap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "faultlink.h"

/* splitmix64: one independent stream per direction from one seed. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool roll(struct fl_dir *d, double pct)
{
	if (pct <= 0)
		return false;
	return (double)(rng_next(&d->rng) >> 11) * (100.0 / 9007199254740992.0) < pct;
}

/* ---- buffers and the delay heap ---------------------------------------- */

int32_t fl_buf_get(struct fl_dir *d)
{
	if (d->nfree == 0) {
		d->overflow++;
		return -1;
	}
	return (int32_t)d->free_stk[--d->nfree];
}

void fl_buf_put(struct fl_dir *d, int32_t i)
{
	d->free_stk[d->nfree++] = (uint32_t)i;
}

static bool heap_less(const struct fl_dir *d, uint32_t a, uint32_t b)
{
	const struct fl_pkt *pa = &d->pool[a], *pb = &d->pool[b];

	return pa->release_us < pb->release_us ||
	       (pa->release_us == pb->release_us && pa->order < pb->order);
}

static void heap_push(struct fl_dir *d, uint32_t i)
{
	uint32_t k = d->nheap++;

	d->heap[k] = i;
	while (k && heap_less(d, d->heap[k], d->heap[(k - 1) / 2])) {
		uint32_t p = (k - 1) / 2, t = d->heap[p];

		d->heap[p] = d->heap[k];
		d->heap[k] = t;
		k = p;
	}
}

static uint32_t heap_pop(struct fl_dir *d)
{
	uint32_t top = d->heap[0], k = 0;

	d->heap[0] = d->heap[--d->nheap];
	for (;;) {
		uint32_t l = 2 * k + 1, r = l + 1, m = k, t;

		if (l < d->nheap && heap_less(d, d->heap[l], d->heap[m]))
			m = l;
		if (r < d->nheap && heap_less(d, d->heap[r], d->heap[m]))
			m = r;
		if (m == k)
			break;
		t = d->heap[m];
		d->heap[m] = d->heap[k];
		d->heap[k] = t;
		k = m;
	}
	return top;
}

int fl_dir_init(struct fl_dir *d, const char *name, uint64_t seed)
{
	uint32_t i;

	d->name = name;
	d->rng = seed;
	d->held = -1;
	d->pool = malloc((size_t)fl.queue * sizeof(*d->pool));
	d->free_stk = malloc((size_t)fl.queue * sizeof(*d->free_stk));
	d->heap = malloc((size_t)fl.queue * sizeof(*d->heap));
	if (!d->pool || !d->free_stk || !d->heap)
		return -ENOMEM;
	for (i = 0; i < fl.queue; i++)
		d->free_stk[i] = fl.queue - 1 - i;
	d->nfree = fl.queue;
	return 0;
}

void fl_dir_free(struct fl_dir *d)
{
	free(d->pool);
	free(d->free_stk);
	free(d->heap);
}

/* ---- the pipeline: faults -> reorder -> delay -> send ------------------- */

static void transmit(struct fl_dir *d, const struct fl_pkt *p)
{
	ssize_t r;

	if (d == &fl.up)
		r = send(fl.up_fd, p->data, p->len, MSG_DONTWAIT);
	else if (fl.have_client)
		r = sendto(fl.listen_fd, p->data, p->len, MSG_DONTWAIT,
			   (const struct sockaddr *)&fl.client, sizeof(fl.client));
	else
		r = -1;
	if (r == (ssize_t)p->len)
		d->tx++;
	else
		d->tx_err++; /* full socket buffer, or the peer's port unreachable */
}

/* Takes ownership of buffer @i. */
static void stage_delay(struct fl_dir *d, int32_t i, uint64_t now)
{
	struct fl_pkt *p = &d->pool[i];

	if (d->f.delay_us == 0 && d->f.jitter_us == 0) {
		transmit(d, p);
		fl_buf_put(d, i);
		return;
	}
	p->release_us = now + d->f.delay_us;
	if (d->f.jitter_us)
		p->release_us += rng_next(&d->rng) % (d->f.jitter_us + 1);
	p->order = d->order++;
	heap_push(d, (uint32_t)i);
	d->delayed++;
}

/* Takes ownership of buffer @i. */
static void stage_reorder(struct fl_dir *d, int32_t i, uint64_t now)
{
	int32_t h = d->held;

	if (h < 0 && roll(d, d->f.reorder)) {
		d->held = i;
		d->held_deadline = now + fl.reorder_timeout_us;
		d->reordered++;
		return;
	}
	stage_delay(d, i, now);
	if (h >= 0) { /* the held one goes after the one that overtook it */
		d->held = -1;
		stage_delay(d, h, now);
	}
}

/* A datagram arrived in buffer @i. Takes ownership. */
void fl_ingest(struct fl_dir *d, int32_t i, uint64_t now)
{
	int32_t j;

	d->rx++;
	if (fl.cut || roll(d, d->f.drop)) {
		d->dropped++;
		fl_buf_put(d, i);
		return;
	}
	if (roll(d, d->f.dup) && (j = fl_buf_get(d)) >= 0) {
		d->pool[j].len = d->pool[i].len;
		memcpy(d->pool[j].data, d->pool[i].data, d->pool[i].len);
		d->duped++;
		stage_reorder(d, i, now);
		stage_reorder(d, j, now);
		return;
	}
	stage_reorder(d, i, now);
}

void fl_release_due(struct fl_dir *d, uint64_t now)
{
	while (d->nheap && d->pool[d->heap[0]].release_us <= now) {
		uint32_t i = heap_pop(d);

		transmit(d, &d->pool[i]);
		fl_buf_put(d, (int32_t)i);
	}
	if (d->held >= 0 && now >= d->held_deadline) {
		int32_t h = d->held;

		d->held = -1;
		stage_delay(d, h, now);
	}
}

uint64_t fl_next_due(const struct fl_dir *d)
{
	uint64_t t = UINT64_MAX;

	if (d->nheap)
		t = d->pool[d->heap[0]].release_us;
	if (d->held >= 0 && d->held_deadline < t)
		t = d->held_deadline;
	return t;
}
