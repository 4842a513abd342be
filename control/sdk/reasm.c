/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiving side of the connector SDK for messages larger than one frame:
 * reassembly of groups of chunks (PROTOCOL.md, chunks).
 *
 * receive.c deduplicates every DATA frame by the router's egress link seq,
 * chunks included, and hands each chunk seen for the first time here. A
 * group is known by (origin, group id); its chunks come in any order, over
 * any number of sessions, even under egress seqs of a new router process
 * (an origin retransmits what the old one had not acknowledged). The first
 * chunk taken reserves the group's total_len (and its chunk bitmap) against
 * rx_bytes_max and allocates it; its total_len was checked by the parser
 * (<= GW_MSG_MAX) and here against max_message before anything is
 * allocated, so no peer value makes us allocate more than the configured
 * bounds. When every chunk is held the message is delivered through
 * on_message, once: the group leaves the table and enters the set of
 * finished groups before the callback.
 *
 * Refusing and giving up. A chunk that would start a group beyond
 * rx_groups_max or rx_bytes_max (or whose buffer cannot be allocated) is
 * refused: neither marked nor acknowledged, so the router keeps it and
 * retransmits it; the bounds are back-pressure, not loss. A group that can
 * never be taken (total_len above max_message, no on_message) is given up
 * at once instead: refused chunks would be retransmitted forever and hold
 * the router's link to us. A group idle for rx_group_timeout_ms of session
 * time is given up too (its origin or the router gave the rest up, or lost
 * it in a restart): freed, reported once through on_rx_notice. Chunks of a
 * finished group (delivered or given up) are acknowledged and dropped; the
 * set remembers the last GW_CONN_RX_DONE_GROUPS of them.
 *
 * The session clock. The timeout counts only time while the session is up:
 * during an outage nothing can arrive, and giving partial groups up then
 * would lose messages whose chunks the router had already handed over.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_internal.h"

/* ---- index from (origin, group) to a position ----------------------------- */

static uint32_t gkey_hash(uint32_t origin, uint64_t group)
{
	uint64_t x = group ^ ((uint64_t)origin << 40) ^ origin;

	/* splitmix64's finaliser: group ids are consecutive seqs. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x;
}

static int gindex_init(struct gw_sdk_gindex *ix, uint32_t keys)
{
	uint32_t cap = 2, i;

	while (cap < 2 * keys)
		cap <<= 1;
	ix->pos = malloc((size_t)cap * sizeof(*ix->pos));
	if (!ix->pos)
		return -ENOMEM;
	for (i = 0; i < cap; i++)
		ix->pos[i] = -1;
	ix->mask = cap - 1;
	return 0;
}

static int32_t gindex_find(const struct gw_sdk_gindex *ix, const struct gw_sdk_gkey *keys,
			   uint32_t origin, uint64_t group)
{
	uint32_t i = gkey_hash(origin, group) & ix->mask;
	int32_t p;

	/* At most half full: an empty bucket ends every probe. */
	while ((p = ix->pos[i]) >= 0) {
		if (keys[p].origin == origin && keys[p].group == group)
			return p;
		i = (i + 1) & ix->mask;
	}
	return -1;
}

static void gindex_insert(struct gw_sdk_gindex *ix, const struct gw_sdk_gkey *keys, int32_t p)
{
	uint32_t i = gkey_hash(keys[p].origin, keys[p].group) & ix->mask;

	while (ix->pos[i] >= 0)
		i = (i + 1) & ix->mask;
	ix->pos[i] = p;
}

/* Remove position @p (present), shifting the entries after it back so that
 * no probe is cut short (no tombstones). */
static void gindex_remove(struct gw_sdk_gindex *ix, const struct gw_sdk_gkey *keys, int32_t p)
{
	uint32_t i = gkey_hash(keys[p].origin, keys[p].group) & ix->mask, j, k;

	while (ix->pos[i] != p) {
		if (ix->pos[i] < 0)
			return; /* not there: nothing to do */
		i = (i + 1) & ix->mask;
	}
	j = i;
	for (;;) {
		j = (j + 1) & ix->mask;
		if (ix->pos[j] < 0)
			break;
		k = gkey_hash(keys[ix->pos[j]].origin, keys[ix->pos[j]].group) & ix->mask;
		/* Entry j may move to i unless its home k lies in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ix->pos[i] = ix->pos[j];
		i = j;
	}
	ix->pos[i] = -1;
}

/* ---- tables ---------------------------------------------------------------- */

int gw_sdk_reasm_init(struct gw_conn *c, const struct gw_conn_cfg *cfg)
{
	int ret;

	c->rxg_max = cfg->rx_groups_max ? cfg->rx_groups_max : GW_CONN_DEF_RX_GROUPS_MAX;
	c->rx_bytes_max = cfg->rx_bytes_max ? cfg->rx_bytes_max
					    : (size_t)GW_CONN_DEF_RX_BYTES_MULT * c->max_message;
	c->rxg_timeout_us = (uint64_t)(cfg->rx_group_timeout_ms ? cfg->rx_group_timeout_ms
								: GW_CONN_DEF_RX_GROUP_TIMEOUT_MS) *
			    1000u;
	c->rx_expiry_check = UINT64_MAX;
	c->rxg = calloc(c->rxg_max, sizeof(*c->rxg));
	c->rxg_key = calloc(c->rxg_max, sizeof(*c->rxg_key));
	c->rxd_key = calloc(GW_CONN_RX_DONE_GROUPS, sizeof(*c->rxd_key));
	if (!c->rxg || !c->rxg_key || !c->rxd_key)
		return -ENOMEM;
	ret = gindex_init(&c->rxg_idx, c->rxg_max);
	if (ret == 0)
		ret = gindex_init(&c->rxd_idx, GW_CONN_RX_DONE_GROUPS);
	return ret;
}

void gw_sdk_reasm_free(struct gw_conn *c)
{
	uint32_t i;

	if (c->rxg && c->rxg_key)
		for (i = 0; i < c->rxg_max; i++)
			if (c->rxg_key[i].used) {
				free(c->rxg[i].buf);
				free(c->rxg[i].bits);
			}
	free(c->rxg);
	free(c->rxg_key);
	free(c->rxd_key);
	free(c->rxg_idx.pos);
	free(c->rxd_idx.pos);
	c->rxg = NULL;
	c->rxg_key = NULL;
	c->rxd_key = NULL;
	c->rxg_idx.pos = NULL;
	c->rxd_idx.pos = NULL;
	c->rxg_n = 0;
	c->rx_bytes = 0;
}

uint64_t gw_sdk_up_clock(const struct gw_conn *c, uint64_t now)
{
	return c->up_accum_us + (c->state == GW_SDK_UP && now > c->up_since_us
					 ? now - c->up_since_us
					 : 0);
}

/* Remember (origin, group) as finished; the oldest is forgotten. */
static void done_add(struct gw_conn *c, uint32_t origin, uint64_t group)
{
	int32_t p = (int32_t)(c->rxd_n++ % GW_CONN_RX_DONE_GROUPS);
	struct gw_sdk_gkey *k = &c->rxd_key[p];

	if (k->used)
		gindex_remove(&c->rxd_idx, c->rxd_key, p);
	k->origin = origin;
	k->group = group;
	k->used = 1;
	gindex_insert(&c->rxd_idx, c->rxd_key, p);
}

void gw_sdk_reasm_done_add(struct gw_conn *c, uint32_t origin, uint64_t group)
{
	done_add(c, origin, group);
}

static bool done_has(const struct gw_conn *c, uint32_t origin, uint64_t group)
{
	return gindex_find(&c->rxd_idx, c->rxd_key, origin, group) >= 0;
}

/* Take group @p out of the table (finished); its buffers stay with the
 * caller. */
static void group_remove(struct gw_conn *c, int32_t p)
{
	struct gw_sdk_gkey *k = &c->rxg_key[p];

	gindex_remove(&c->rxg_idx, c->rxg_key, p);
	done_add(c, k->origin, k->group);
	k->used = 0;
	c->rx_bytes -= c->rxg[p].charge;
	c->rxg_n--;
	if (!c->rxg_n)
		c->rx_expiry_check = UINT64_MAX;
}

static void rx_notice(struct gw_conn *c, uint32_t origin, uint64_t group, int reason)
{
	if (c->on_rx_notice)
		c->on_rx_notice(c->arg, origin, group, reason);
}

static int32_t group_free_pos(const struct gw_conn *c)
{
	uint32_t i;

	/* rxg_n < rxg_max: there is one. */
	for (i = 0; i < c->rxg_max; i++)
		if (!c->rxg_key[i].used)
			return (int32_t)i;
	return -1;
}

bool gw_sdk_reasm_room(const struct gw_conn *c, uint32_t total_len, uint32_t count)
{
	size_t charge = (size_t)total_len + ((size_t)count + 63) / 64 * sizeof(uint64_t);

	return c->rxg_n < c->rxg_max && total_len <= c->max_message &&
	       charge <= c->rx_bytes_max - c->rx_bytes;
}

void gw_sdk_reasm_adopt(struct gw_conn *c, uint32_t origin, uint64_t group,
			const struct gw_sdk_rxgroup *src)
{
	int32_t p = group_free_pos(c);
	struct gw_sdk_rxgroup *g;
	uint64_t t = gw_sdk_up_clock(c, gw_sdk_now_us());

	if (p < 0)
		return; /* the caller checked gw_sdk_reasm_room() */
	g = &c->rxg[p];
	*g = *src;
	g->charge = (size_t)g->total_len + ((size_t)g->count + 63) / 64 * sizeof(uint64_t);
	g->last_us = t;
	c->rxg_key[p] = (struct gw_sdk_gkey){ .group = group, .origin = origin, .used = 1 };
	gindex_insert(&c->rxg_idx, c->rxg_key, p);
	c->rxg_n++;
	c->rx_bytes += g->charge;
	if (c->rx_expiry_check > t + c->rxg_timeout_us)
		c->rx_expiry_check = t + c->rxg_timeout_us;
}

/* Start group (origin, ck->group) with the chunk that arrived: false if a
 * bound refuses it (counted). */
static bool group_start(struct gw_conn *c, const struct gw_frame *f, uint64_t t, int32_t *out)
{
	uint32_t origin = f->u.data.origin, count = f->u.data.chunk.count;
	size_t words = ((size_t)count + 63) / 64, charge;
	struct gw_sdk_rxgroup *g;
	int32_t p;

	if (c->rxg_n >= c->rxg_max) {
		c->st.rx_refused_groups++;
		return false;
	}
	charge = (size_t)f->u.data.chunk.total_len + words * sizeof(uint64_t);
	if (charge > c->rx_bytes_max - c->rx_bytes) {
		c->st.rx_refused_bytes++;
		return false;
	}
	p = group_free_pos(c);
	if (p < 0) {
		c->st.rx_refused_groups++;
		return false;
	}
	g = &c->rxg[p];
	memset(g, 0, sizeof(*g));
	g->buf = malloc(f->u.data.chunk.total_len);
	g->bits = calloc(words, sizeof(uint64_t));
	if (!g->buf || !g->bits) {
		free(g->buf);
		free(g->bits);
		g->buf = NULL;
		g->bits = NULL;
		c->st.rx_refused_nomem++;
		return false;
	}
	g->total_len = f->u.data.chunk.total_len;
	g->count = count;
	g->chunk_len = f->u.data.chunk.chunk_len;
	g->charge = charge;
	g->last_us = t;
	g->dest_len = f->u.data.dest_len;
	memcpy(g->dest, f->u.data.dest, g->dest_len);
	c->rxg_key[p] = (struct gw_sdk_gkey){ .group = f->u.data.chunk.group, .origin = origin,
					     .used = 1 };
	gindex_insert(&c->rxg_idx, c->rxg_key, p);
	c->rxg_n++;
	c->rx_bytes += charge;
	if (c->rx_expiry_check > t + c->rxg_timeout_us)
		c->rx_expiry_check = t + c->rxg_timeout_us;
	*out = p;
	return true;
}

bool gw_sdk_reasm_chunk(struct gw_conn *c, const struct gw_frame *f, uint64_t now)
{
	uint32_t origin = f->u.data.origin, idx = f->u.data.chunk.index;
	uint64_t group = f->u.data.chunk.group, t = gw_sdk_up_clock(c, now);
	struct gw_sdk_rxgroup *g;
	uint8_t *buf;
	int32_t p;

	p = gindex_find(&c->rxg_idx, c->rxg_key, origin, group);
	if (p < 0) {
		if (done_has(c, origin, group)) {
			c->st.rx_late_chunks++;
			gw_sdk_rx_taken(c, f->seq);
			return true;
		}
		if (!c->on_message || f->u.data.chunk.total_len > c->max_message) {
			/* Never reassembled here: given up at once, its
			 * chunks dropped, so that they do not hold the link. */
			if (!c->on_message)
				c->st.rx_no_handler++;
			else
				c->st.rx_too_big++;
			done_add(c, origin, group);
			gw_sdk_rx_taken(c, f->seq);
			rx_notice(c, origin, group, GW_RX_NOMEM);
			return true;
		}
		if (!group_start(c, f, t, &p))
			return false; /* not marked, not acknowledged */
	}
	g = &c->rxg[p];
	if (f->u.data.chunk.total_len != g->total_len || f->u.data.chunk.count != g->count ||
	    f->u.data.chunk.chunk_len != g->chunk_len || idx >= g->count ||
	    (size_t)idx * g->chunk_len + f->u.data.payload_len > g->total_len) {
		/* Another message under the same id (only a broken origin):
		 * the first chunk's description stands. */
		c->st.rx_bad_chunks++;
		gw_sdk_rx_taken(c, f->seq);
		return true;
	}
	gw_sdk_rx_taken(c, f->seq);
	if (g->bits[idx / 64] & (1ull << (idx % 64))) {
		c->st.rx_chunk_dups++;
		return true;
	}
	/* The parser checked the payload length for this index. */
	memcpy(g->buf + (size_t)idx * g->chunk_len, f->u.data.payload, f->u.data.payload_len);
	g->bits[idx / 64] |= 1ull << (idx % 64);
	g->have++;
	g->last_us = t;
	c->st.rx_chunks++;
	if (g->have < g->count)
		return true;

	/* Complete: out of the table and into the finished set before the
	 * callback, so nothing delivers it again. */
	buf = g->buf;
	free(g->bits);
	g->buf = NULL;
	g->bits = NULL;
	group_remove(c, p);
	c->st.rx_groups++;
	c->st.delivered++;
	c->on_message(c->arg, origin, group, (const char *)g->dest, g->dest_len, buf,
		      g->total_len);
	free(buf);
	return true;
}

void gw_sdk_reasm_timers(struct gw_conn *c, uint64_t now)
{
	uint64_t t = gw_sdk_up_clock(c, now), next = UINT64_MAX;
	uint32_t i;

	if (!c->rxg_n || t < c->rx_expiry_check)
		return;
	for (i = 0; i < c->rxg_max && c->rxg_n; i++) {
		struct gw_sdk_rxgroup *g = &c->rxg[i];
		struct gw_sdk_gkey k = c->rxg_key[i];

		if (!k.used)
			continue;
		if (t - g->last_us < c->rxg_timeout_us) {
			if (next > g->last_us + c->rxg_timeout_us)
				next = g->last_us + c->rxg_timeout_us;
			continue;
		}
		free(g->buf);
		free(g->bits);
		g->buf = NULL;
		g->bits = NULL;
		group_remove(c, (int32_t)i);
		c->st.rx_expired++;
		rx_notice(c, k.origin, k.group, GW_RX_EXPIRED);
	}
	c->rx_expiry_check = c->rxg_n ? next : UINT64_MAX;
}

uint64_t gw_sdk_reasm_deadline(const struct gw_conn *c, uint64_t now)
{
	uint64_t t;

	if (!c->rxg_n || c->state != GW_SDK_UP || c->rx_expiry_check == UINT64_MAX)
		return UINT64_MAX;
	t = gw_sdk_up_clock(c, now);
	return c->rx_expiry_check > t ? now + (c->rx_expiry_check - t) : now;
}
