/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's self-checking payload, and the bitmaps of acknowledged and
 * delivered message indices.
 *
 * Payload (at least GC_HDR_LEN bytes): magic, run id, origin, message index,
 * length, FNV-1a checksum, then a fill pattern derived from the index. The
 * receiver verifies all of it, so corruption and mix-ups are caught, and
 * ignores messages of earlier runs (another run id) against the same router.
 */
#include <string.h>

#include "gc.h"

static uint32_t fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* magic | run | origin | index | len | checksum | fill... */
void gc_payload_build(uint8_t *p, uint32_t len, uint32_t origin, uint32_t index)
{
	uint32_t i;

	put32(p, GC_MAGIC);
	put32(p + 4, gc.run_id);
	put32(p + 8, origin);
	put32(p + 12, index);
	put32(p + 16, len);
	put32(p + 20, 0);
	for (i = GC_HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(index * 31u + i);
	put32(p + 20, fnv1a(p, len, 2166136261u));
}

enum gc_check gc_payload_check(const uint8_t *p, uint16_t len, uint32_t origin,
			       uint32_t *index)
{
	uint8_t hdr[GC_HDR_LEN];
	uint32_t sum;

	if (len < GC_HDR_LEN || get32(p) != GC_MAGIC || get32(p + 16) != len ||
	    get32(p + 8) != origin)
		return GC_CORRUPT;
	/* The checksum covers the payload with its own field zeroed. */
	memcpy(hdr, p, GC_HDR_LEN);
	put32(hdr + 20, 0);
	sum = fnv1a(p + GC_HDR_LEN, len - GC_HDR_LEN, fnv1a(hdr, GC_HDR_LEN, 2166136261u));
	if (sum != get32(p + 20))
		return GC_CORRUPT;
	if (get32(p + 4) != gc.run_id)
		return GC_STALE;
	*index = get32(p + 12);
	return GC_OK;
}

/* The run id of a payload that has the magic; false if it has not. */
bool gc_payload_run_id(const uint8_t *p, uint16_t len, uint32_t *run_id)
{
	if (len < GC_HDR_LEN || get32(p) != GC_MAGIC)
		return false;
	*run_id = get32(p + 4);
	return true;
}

/* Returns true if the bit was already set. */
bool gc_bm_set(_Atomic uint64_t *bm, uint64_t i)
{
	uint64_t bit = 1ull << (i % 64);

	return atomic_fetch_or_explicit(&bm[i / 64], bit, memory_order_relaxed) & bit;
}
