/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Groups in progress: the router's memory of the messages larger than one
 * frame (chunk groups, include/gwart/PROTOCOL.md) while their chunks pass.
 * A group is routed as one message, so each worker keeps two bounded
 * tables of them, keyed by (origin, group):
 *
 *   origin side (the origin's owner worker, ingress.c): which destination
 *     the group's first accepted chunk chose; every later chunk goes there,
 *     whatever routes, costs or equal-cost hashing say meanwhile;
 *   destination side (the destination's owner worker, egress.c): what the
 *     group reserved in that destination's custody (its whole total_len and
 *     count slots, at its first chunk, so that no later chunk can be refused
 *     for room), how many of its chunks are held there and how many were
 *     transmitted (failover moves a group only while none was).
 *
 * The table itself is the same for both: fixed capacity (DP_GROUPS_MAX
 * entries), entries at stable indexes (custody slots name their group by
 * index, custody.h) found through an open-addressing index with linear
 * probing and backward-shift deletion (no tombstones, so lookups stay short
 * however many entries came and went). Full: dp_group_add() returns NULL
 * and the caller refuses the chunk (BUSY, counted), never routes it
 * differently.
 *
 * Threading: a table belongs to one worker (struct dp_lcore); only that
 * worker calls these functions. Pure code: no allocation (the table is
 * embedded in its owner), no I/O, no DPDK, so unit tests reach it directly.
 */
#ifndef GWART_DP_GROUP_H
#define GWART_DP_GROUP_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <gwart/wire.h>

#include "tuning.h"

/* Index slots: twice the entries (load factor at most 1/2). */
#define DP_GROUP_INDEX (2 * DP_GROUPS_MAX)

_Static_assert((DP_GROUPS_MAX & (DP_GROUPS_MAX - 1)) == 0, "DP_GROUPS_MAX: a power of two");
_Static_assert(DP_GROUPS_MAX < 65535, "entry numbers fit the 16-bit index");

struct dp_group {
	/* The key and what the first chunk said of the group. */
	uint64_t group;       /* origin_seq of chunk 0 */
	uint32_t origin;      /* origin connector id; 0: entry free */
	uint32_t dest;        /* destination connector id */
	uint32_t total_len;   /* bytes of the whole message */
	uint32_t count;       /* chunks */
	uint32_t chunk_len;   /* payload bytes of every chunk but the last */
	/* Progress. Origin side: done = chunks accepted into custody
	 * (acknowledged to the origin), busy = chunks handed to another
	 * worker whose verdict is awaited. Destination side: done = chunks
	 * that arrived in this custody, busy = chunks held here and not yet
	 * acknowledged by the destination (or moved away), sent = chunks
	 * transmitted at least once. */
	uint32_t done;
	uint32_t busy;
	uint32_t sent;
	/* Destination side: what is still reserved in the custody for chunks
	 * that have not arrived (released as they arrive, or when the group
	 * expires), and whether it expired (nothing reserved any more; a late
	 * chunk is then charged as a message of its own). */
	uint32_t resv_slots;
	uint32_t resv_bytes;
	uint8_t expired;
	uint64_t last_tsc;    /* TSC of the last chunk it saw */
	/* The state (struct dp_conn_state) of the connector whose side this
	 * is (origin or destination), compared, never dereferenced, by the
	 * expiry scan: a connector deleted and created again under the same
	 * id has another one, and the entry is not its. */
	const void *st;
};

struct dp_group_tab {
	uint32_t n;                        /* entries in use */
	uint32_t n_free;                   /* free[0..n_free) */
	uint32_t cursor;                   /* dp_group_walk()'s next entry */
	uint16_t index[DP_GROUP_INDEX];    /* entry number + 1; 0: empty slot */
	uint16_t free[DP_GROUPS_MAX];      /* free entry numbers */
	struct dp_group e[DP_GROUPS_MAX];
};

/* Empty @t (every entry free). */
void dp_group_tab_init(struct dp_group_tab *t);

/* The entry of (@origin, @group), or NULL. */
struct dp_group *dp_group_find(struct dp_group_tab *t, uint32_t origin, uint64_t group);

/* A new zeroed entry for (@origin, @group) (@origin >= 1), which must not
 * be in @t already; NULL when the table is full. */
struct dp_group *dp_group_add(struct dp_group_tab *t, uint32_t origin, uint64_t group);

/* Free @g (an entry of @t). Other entries keep their numbers. */
void dp_group_del(struct dp_group_tab *t, struct dp_group *g);

/* An entry's stable number (1..DP_GROUPS_MAX: 0 is "no group") and back;
 * dp_group_at() returns NULL for a number out of range or a free entry. */
static inline uint32_t dp_group_num(const struct dp_group_tab *t, const struct dp_group *g)
{
	return (uint32_t)(g - t->e) + 1;
}

static inline struct dp_group *dp_group_at(struct dp_group_tab *t, uint32_t num)
{
	if (num == 0 || num > DP_GROUPS_MAX || t->e[num - 1].origin == 0)
		return NULL;
	return &t->e[num - 1];
}

/*
 * Look at the next @max entry positions, round robin from where the last
 * call stopped, calling @fn on each one in use (it may dp_group_del() the
 * entry it is given). Bounded work per call whatever the table holds, so
 * that a periodic scan costs the same for a full table as for an empty
 * one. Returns how many entries in use it visited.
 */
unsigned dp_group_walk(struct dp_group_tab *t, unsigned max,
		       void (*fn)(void *arg, struct dp_group *g), void *arg);

/* Does chunk (@total_len, @count, @chunk_len) agree with what @g's first
 * chunk said? (A group id reused with other lengths is a confused or
 * hostile origin: its chunk is refused, counted.) */
static inline bool dp_group_same(const struct dp_group *g, uint32_t total_len, uint32_t count,
				 uint32_t chunk_len)
{
	return g->total_len == total_len && g->count == count && g->chunk_len == chunk_len;
}

/*
 * The origin, the payload length (returned) and the chunk extension (@ck)
 * of DATA frame @fr, which has GW_F_CHUNK and passed the parser when it was
 * received (so its lengths are consistent: custody and hand-offs read
 * frames they hold, never frames from the wire directly).
 */
static inline uint32_t dp_chunk_read(const uint8_t *fr, struct gw_chunk_info *ck,
				     uint32_t *origin)
{
	struct gw_wire_data d;
	struct gw_wire_chunk x;
	uint32_t pl;

	memcpy(&d, fr + GW_HDR_LEN, sizeof(d));
	pl = be16toh(d.payload_len);
	memcpy(&x, fr + GW_HDR_LEN + GW_DATA_FIXED_LEN + be16toh(d.dest_len) + pl, sizeof(x));
	ck->group = be64toh(x.group);
	ck->total_len = be32toh(x.total_len);
	ck->count = be32toh(x.count);
	ck->index = be32toh(x.index);
	ck->chunk_len = be32toh(x.chunk_len);
	if (origin != NULL)
		*origin = be32toh(d.origin);
	return pl;
}

/* The flags of gwart frame @fr (host order). */
static inline uint16_t dp_frame_flags(const uint8_t *fr)
{
	return (uint16_t)(fr[6] << 8 | fr[7]);
}

#endif
