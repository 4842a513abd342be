/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's whole messages (--size-min/--size-max: gw_conn_send_msg()
 * and on_message): the size of each message, its bytes, their check, and
 * the table that maps a message id back to its index.
 *
 * Sizes: message i has size_of(i), a pure function of --size-seed and i
 * (splitmix64 of both, drawn log-uniform or uniform over [min, max]), so
 * the sender and the receiver agree on it without sharing anything and a
 * run is reproducible. Log-uniform is the default: each power of two gets
 * the same share of messages, as mail sizes spread over decades, and the
 * small sizes around every chunk boundary come up as often as the large.
 *
 * Bytes: message i of origin o in run r is a keystream of splitmix64 over
 * a key of (r, o, i), 8 bytes per counter, cut to the message's length;
 * from GC_MSG_HDR_LEN bytes on, its first bytes are replaced by a header
 * (magic, run, index, length) so that a message of another run is told
 * apart from a corrupt one. The receiver recomputes every byte and
 * compares: a message is delivered only if it is byte-identical, which
 * catches a chunk lost, doubled, swapped, shifted or cut at any offset.
 *
 * Identity: a message of 1 byte cannot carry its index, so pair mode keys
 * messages by their id (gw_conn_send_msg's msg_id, the origin seq of their
 * first frame). The sender thread appends each id to gc.msg_ids in index
 * order and publishes the count (release); ids only grow (the SDK never
 * reuses or lowers an origin seq), so the receiver thread finds an index
 * by binary search. A message can be delivered before its sender returned
 * from gw_conn_send_msg() (the last chunk leaves inside the call): the
 * receiver then waits, a bounded time, for the id to be published.
 */
#include <math.h>
#include <sched.h>
#include <string.h>

#include "gc.h"

#define GC_MSG_MAGIC 0x4757434du /* "GWCM" */
#define GC_MSG_PUBLISH_WAIT_US 2000000u

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint32_t gc_msg_size(uint64_t index)
{
	uint32_t lo = gc.o.size_min, hi = gc.o.size_max;
	uint64_t r;
	double u, v;
	uint32_t z;

	if (lo >= hi)
		return hi;
	r = splitmix64(gc.o.size_seed ^ splitmix64(index + 1));
	if (gc.o.size_uniform)
		return lo + (uint32_t)(r % ((uint64_t)hi - lo + 1));
	/* Log-uniform over [lo, hi + 1), floored: every size in [lo, hi]
	 * can come up, each octave as often. lo = 0 draws over [1, hi + 2)
	 * less one. */
	u = (double)(r >> 11) * 0x1p-53;
	z = lo ? 0 : 1;
	v = (double)(lo + z) * exp(u * log(((double)hi + 1 + z) / ((double)lo + z)));
	r = v < (double)(lo + z) ? lo : (uint64_t)v - z;
	return r > hi ? hi : (uint32_t)r;
}

static uint64_t msg_key(uint32_t origin, uint32_t index)
{
	return splitmix64(((uint64_t)gc.run_id << 32 | origin) ^ splitmix64(index));
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

/* Bytes [off, off + n) of the message's keystream, n <= 8, off % 8 == 0. */
static void stream_block(uint64_t key, size_t off, uint8_t *out, size_t n)
{
	uint64_t w = splitmix64(key + off / 8);

	memcpy(out, &w, n);
}

static void msg_header(uint8_t hdr[GC_MSG_HDR_LEN], uint32_t index, uint32_t len)
{
	put32(hdr, GC_MSG_MAGIC);
	put32(hdr + 4, gc.run_id);
	put32(hdr + 8, index);
	put32(hdr + 12, len);
}

void gc_msg_build(uint8_t *p, uint32_t len, uint32_t origin, uint32_t index)
{
	uint64_t key = msg_key(origin, index);
	size_t off;

	for (off = 0; off < len; off += 8)
		stream_block(key, off, p + off, len - off < 8 ? len - off : 8);
	if (len >= GC_MSG_HDR_LEN)
		msg_header(p, index, len);
}

enum gc_check gc_msg_check(const uint8_t *p, size_t len, uint32_t origin, uint32_t index)
{
	uint64_t key = msg_key(origin, index);
	uint8_t b[8], hdr[GC_MSG_HDR_LEN];
	size_t off, n;

	if (len != gc_msg_size(index)) {
		/* A whole message of an earlier run, or a wrong length. */
		if (len >= GC_MSG_HDR_LEN && get32(p) == GC_MSG_MAGIC && get32(p + 4) != gc.run_id)
			return GC_STALE;
		return GC_CORRUPT;
	}
	off = 0;
	if (len >= GC_MSG_HDR_LEN) {
		msg_header(hdr, index, (uint32_t)len);
		if (memcmp(p, hdr, GC_MSG_HDR_LEN) != 0)
			return get32(p) == GC_MSG_MAGIC && get32(p + 4) != gc.run_id ? GC_STALE
										 : GC_CORRUPT;
		off = GC_MSG_HDR_LEN; /* a multiple of 8 */
	}
	for (; off < len; off += 8) {
		n = len - off < 8 ? len - off : 8;
		stream_block(key, off, b, n);
		if (memcmp(p + off, b, n) != 0)
			return GC_CORRUPT;
	}
	return GC_OK;
}

/* The sender thread: message @index got @id. False if ids did not grow
 * (the SDK broke its promise; the run fails). */
bool gc_msg_publish(uint32_t index, uint64_t id)
{
	uint64_t n = atomic_load_explicit(&gc.msg_published, memory_order_relaxed);

	if (n != index || (n > 0 && atomic_load_explicit(&gc.msg_ids[n - 1],
							 memory_order_relaxed) >= id))
		return false;
	atomic_store_explicit(&gc.msg_ids[n], id, memory_order_relaxed);
	atomic_store_explicit(&gc.msg_published, n + 1, memory_order_release);
	return true;
}

/* The index of message @id among the first @n published, or -1. */
static int64_t find(uint64_t id, uint64_t n)
{
	uint64_t lo = 0, hi = n, mid, v;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		v = atomic_load_explicit(&gc.msg_ids[mid], memory_order_relaxed);
		if (v == id)
			return (int64_t)mid;
		if (v < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int64_t gc_msg_index(uint64_t id, bool wait)
{
	uint64_t n = atomic_load_explicit(&gc.msg_published, memory_order_acquire), t0 = 0;

	/* Above the last published id: its send may not have returned yet. */
	while (wait && (n == 0 || atomic_load_explicit(&gc.msg_ids[n - 1],
						       memory_order_relaxed) < id) &&
	       n < gc.o.count && !atomic_load(&gc.sender_done)) {
		if (!t0)
			t0 = gc_now_us();
		else if (gc_now_us() - t0 > GC_MSG_PUBLISH_WAIT_US)
			break;
		sched_yield();
		n = atomic_load_explicit(&gc.msg_published, memory_order_acquire);
	}
	return find(id, n);
}
