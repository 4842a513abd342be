/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delivered set: one bit per (origin, origin_seq), set by the sinks as
 * they deliver, in chunks allocated on first touch (a duration-bound run
 * does not know its message count in advance). A bit found already set is
 * a message delivered twice. After the run, every seq an origin had
 * acknowledged must have its bit set (else it was lost); seqs the router
 * refused for good must not.
 *
 * Threading: gb_verify_deliver() from any sink thread (atomic fetch-or and
 * compare-and-swap for chunk allocation); gb_verify_refused() from the
 * origin's endpoint thread; gb_verify_check() once all threads stopped.
 */
#include <stdlib.h>
#include <string.h>

#include "gb.h"

#define CHUNK_BITS 20			      /* seqs per chunk: 1 Mi */
#define CHUNK_WORDS ((1u << CHUNK_BITS) / 64) /* 128 KiB per chunk */
#define MAX_CHUNKS 4096			      /* 4 Gi seqs per origin */
#define MAX_REFUSED 4096

struct gb_vorigin {
	_Atomic(uint64_t *) chunk[MAX_CHUNKS];
	uint64_t *refused; /* seqs refused for good, in order */
	unsigned n_refused;
};

struct gb_verify {
	uint32_t first;
	unsigned n;
	struct gb_vorigin *o;
};

struct gb_verify *gb_verify_create(uint32_t first_origin_id, unsigned n_origins)
{
	struct gb_verify *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	v->first = first_origin_id;
	v->n = n_origins;
	v->o = calloc(n_origins, sizeof(*v->o));
	if (v->o == NULL) {
		free(v);
		return NULL;
	}
	return v;
}

void gb_verify_free(struct gb_verify *v)
{
	unsigned i, c;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		for (c = 0; c < MAX_CHUNKS; c++)
			free(atomic_load(&v->o[i].chunk[c]));
		free(v->o[i].refused);
	}
	free(v->o);
	free(v);
}

static uint64_t *chunk_get(struct gb_vorigin *o, uint64_t c)
{
	uint64_t *p = atomic_load_explicit(&o->chunk[c], memory_order_acquire), *expect = NULL;

	if (p != NULL)
		return p;
	p = calloc(CHUNK_WORDS, sizeof(uint64_t));
	if (p == NULL)
		return NULL;
	if (!atomic_compare_exchange_strong(&o->chunk[c], &expect, p)) {
		free(p);
		p = expect;
	}
	return p;
}

int gb_verify_deliver(struct gb_verify *v, uint32_t origin, uint64_t seq)
{
	uint64_t c = seq >> CHUNK_BITS, bit = seq & ((1u << CHUNK_BITS) - 1), old;
	uint64_t *w;

	if (origin < v->first || origin - v->first >= v->n || c >= MAX_CHUNKS)
		return -1;
	w = chunk_get(&v->o[origin - v->first], c);
	if (w == NULL)
		return -1;
	old = __atomic_fetch_or(&w[bit / 64], 1ull << (bit % 64), __ATOMIC_RELAXED);
	return (old >> (bit % 64)) & 1;
}

int gb_verify_refused(struct gb_verify *v, uint32_t origin, uint64_t seq)
{
	struct gb_vorigin *o;

	if (origin < v->first || origin - v->first >= v->n)
		return -1;
	o = &v->o[origin - v->first];
	if (o->refused == NULL)
		o->refused = calloc(MAX_REFUSED, sizeof(uint64_t));
	if (o->refused == NULL || o->n_refused == MAX_REFUSED)
		return -1;
	o->refused[o->n_refused++] = seq;
	return 0;
}

static int bit_get(struct gb_vorigin *o, uint64_t seq)
{
	uint64_t *w = atomic_load(&o->chunk[seq >> CHUNK_BITS]);
	uint64_t bit = seq & ((1u << CHUNK_BITS) - 1);

	return w != NULL && ((w[bit / 64] >> (bit % 64)) & 1);
}

/* Delivered seqs in 1..last. */
static uint64_t count_delivered(struct gb_vorigin *o, uint64_t last)
{
	uint64_t n = 0, c, nchunks = (last >> CHUNK_BITS) + 1;
	unsigned i;

	for (c = 0; c < nchunks && c < MAX_CHUNKS; c++) {
		uint64_t *w = atomic_load(&o->chunk[c]);

		if (w == NULL)
			continue;
		for (i = 0; i < CHUNK_WORDS; i++) {
			uint64_t word = w[i], base = (c << CHUNK_BITS) + (uint64_t)i * 64;

			if (word == 0 || base > last)
				continue;
			if (base == 0)
				word &= ~1ull; /* seq 0 never exists */
			if (last - base < 63)
				word &= (2ull << (last - base)) - 1;
			n += (uint64_t)__builtin_popcountll(word);
		}
	}
	return n;
}

void gb_verify_check(struct gb_verify *v, const uint64_t *last, struct gb_verify_result *r)
{
	unsigned i, k;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < v->n; i++) {
		struct gb_vorigin *o = &v->o[i];
		uint64_t got = count_delivered(o, last[i]), bad = 0;

		for (k = 0; k < o->n_refused; k++)
			bad += (uint64_t)bit_get(o, o->refused[k]);
		r->expected += last[i] - o->n_refused;
		r->delivered += got - bad;
		r->unexpected += bad;
	}
	r->lost = r->expected - r->delivered;
}
