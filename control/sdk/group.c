/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sending side of the connector SDK for messages larger than one frame:
 * gw_conn_send_msg(), chunking, and one result per message.
 *
 * A group of chunks takes consecutive origin seqs, base = the message id
 * (PROTOCOL.md, chunks). Each chunk is an ordinary outbox entry (outbox.c):
 * the window rule, retransmission, BUSY retries and ACKs apply to it as to
 * any frame. What this file adds:
 *
 * All or nothing. The group is accepted whole or refused (-EAGAIN, -ENOMEM)
 * with nothing queued. As many chunks as the window has room for go into
 * the outbox at once, encoded straight from the caller's buffer; if that is
 * not all, the rest of the message is copied (one allocation, at most len
 * bytes: proportional to the application's own message, never to a peer's
 * value) and "streams": released into the window chunk by chunk as ACKs
 * open it (gw_sdk_stream_pump(), from the ACK path, a new session and the
 * timers). So a group larger than the window, or than the outbox, goes
 * through the same bounded outbox. One group streams at a time, and nothing
 * else is accepted meanwhile: every seq after the group's would wait for
 * the group's anyway (the window rule), and this keeps the seqs handed out
 * consecutive. While a group streams, next_seq (the outbox's tail) is below
 * alloc_seq (the next seq handed out).
 *
 * One result. A group record counts the chunks not yet acknowledged; the
 * last ACK gives on_result(base, 0). The first final refusal of any chunk
 * gives on_result(base, reason) at once and abandons the rest: LIVE chunks
 * are abandoned in the outbox (never resent; their seqs hold the window
 * until a HELLO closes the gap, as for any refused seq), and the part not
 * yet released is dropped, its seqs handed back (never on the wire, so
 * reusing them is safe; the message id itself is never reused). The
 * receiver then holds a partial group, which it gives up after its
 * timeout.
 *
 * Chunk size. A chunk frame carries a 24-byte extension, so its payload is
 * sized for the frame to be no longer than a plain DATA frame with
 * max_payload bytes to the longest destination, the frame the router always
 * forwards (PROTOCOL.md 3.5): min(max_payload, max_payload + (GW_DEST_MAX -
 * dest_len) - GW_CHUNK_EXT_LEN), max_payload = min(cfg.max_payload,
 * WELCOME.max_payload). Fixed for the group when it is accepted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sdk_internal.h"

int gw_sdk_group_init(struct gw_conn *c)
{
	uint32_t i, n = c->out_cap + 1;

	/* Every group with a result still to give has a chunk LIVE in the
	 * outbox or not yet released (the streaming one): out_cap + 1. */
	c->txg = calloc(n, sizeof(*c->txg));
	c->txh = calloc(GW_SDK_TXHIST, sizeof(*c->txh));
	if (!c->txg || !c->txh)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		c->txg[i].next_free = i + 1 < n ? (int32_t)(i + 1) : -1;
	c->txg_free = 0;
	return 0;
}

void gw_sdk_group_free(struct gw_conn *c)
{
	if (c->stream.on)
		free(c->stream.copy);
	c->stream.copy = NULL;
	c->stream.on = false;
	free(c->txg);
	free(c->txh);
	c->txg = NULL;
	c->txh = NULL;
}

static void txg_release(struct gw_conn *c, int32_t gidx)
{
	c->txg[gidx].used = false;
	c->txg[gidx].next_free = c->txg_free;
	c->txg_free = gidx;
}

/* Payload bytes of chunk @i of a group. */
static uint32_t chunk_bytes(uint32_t total_len, uint32_t count, uint32_t chunk_len, uint32_t i)
{
	return i + 1 < count ? chunk_len : total_len - (count - 1) * chunk_len;
}

/* Encode chunk @i of the group into the next outbox slot and put it there. */
static int put_chunk(struct gw_conn *c, int32_t gidx, uint64_t base, uint32_t total_len,
		     uint32_t count, uint32_t chunk_len, uint32_t i, const char *dest,
		     uint16_t dest_len, const uint8_t *payload, uint64_t now)
{
	struct gw_chunk_info ck = {
		.group = base,
		.total_len = total_len,
		.count = count,
		.index = i,
		.chunk_len = chunk_len,
	};
	struct gw_hdr_args h;
	size_t flen;

	gw_sdk_hdr(c, &h, 0, c->next_seq);
	flen = gw_wire_encode_chunk(gw_sdk_outbox_next_frame(c), c->out_frame_cap, &h, c->id,
				    c->next_seq, dest, dest_len, payload,
				    (uint16_t)chunk_bytes(total_len, count, chunk_len, i), &ck);
	if (flen == 0)
		return -EINVAL;
	gw_sdk_outbox_put(c, flen, gidx, now);
	return 0;
}

/* The group being released is given up (a chunk was refused): drop what is
 * not in the window, hand its seqs back. */
static void stream_abort(struct gw_conn *c)
{
	struct gw_sdk_txhist *h;

	if (!c->stream.on)
		return;
	free(c->stream.copy);
	c->stream.copy = NULL;
	c->stream.on = false;
	c->alloc_seq = c->next_seq;
	/* Its seqs above next_seq are no chunk of it any more (a later
	 * message may take them): shrink its entry, the newest. */
	if (c->txh_n) {
		h = &c->txh[(c->txh_n - 1) & (GW_SDK_TXHIST - 1)];
		if (h->base == c->stream.base)
			h->count = c->stream.next;
	}
}

void gw_sdk_stream_pump(struct gw_conn *c, uint64_t now)
{
	struct gw_sdk_stream *st = &c->stream;
	uint32_t room;

	if (!st->on)
		return;
	room = gw_sdk_outbox_room(c);
	while (room-- && st->next < st->count) {
		const uint8_t *p = st->copy + (size_t)(st->next - st->copy_first) * st->chunk_len;

		if (put_chunk(c, st->gidx, st->base, st->total_len, st->count, st->chunk_len,
			      st->next, st->dest, st->dest_len, p, now) < 0)
			break; /* cannot happen: the first chunks encoded alike */
		st->next++;
	}
	if (st->next == st->count) {
		free(st->copy);
		st->copy = NULL;
		st->on = false;
	}
}

void gw_sdk_group_resolved(struct gw_conn *c, int32_t gidx, uint64_t seq, int status)
{
	struct gw_sdk_txgroup *g = &c->txg[gidx];
	uint64_t base = g->base, s, end;

	if (!g->used || seq < base || seq - base >= g->count)
		return; /* the group was given up already */
	if (status == 0) {
		if (--g->left)
			return;
		txg_release(c, gidx);
		c->st.acked++;
		c->st.groups_acked++;
		if (c->on_result)
			c->on_result(c->arg, base, 0);
		return;
	}
	/* The first refusal decides: abandon the rest, then report. */
	end = base + g->count < c->next_seq ? base + g->count : c->next_seq;
	for (s = base; s < end; s++)
		gw_sdk_outbox_abandon(c, s);
	if (c->stream.on && c->stream.gidx == gidx)
		stream_abort(c);
	txg_release(c, gidx);
	c->st.failed++;
	c->st.groups_failed++;
	if (c->on_result)
		c->on_result(c->arg, base, status);
}

bool gw_sdk_group_notice_id(struct gw_conn *c, uint64_t seq, uint64_t *msg_id)
{
	uint64_t n = c->txh_n < GW_SDK_TXHIST ? c->txh_n : GW_SDK_TXHIST, i;

	*msg_id = seq;
	for (i = 1; i <= n; i++) {
		struct gw_sdk_txhist *h = &c->txh[(c->txh_n - i) & (GW_SDK_TXHIST - 1)];

		if (h->base > seq)
			continue;
		if (seq - h->base >= h->count)
			return true; /* between groups: a single-frame message */
		*msg_id = h->base;
		if (h->noticed)
			return false;
		h->noticed = 1;
		return true;
	}
	return true; /* older than what is remembered: its own seq */
}

/* Chunk payload for a destination of @dest_len bytes under @pmax. */
static uint32_t chunk_len_for(uint32_t pmax, size_t dest_len)
{
	uint64_t room = (uint64_t)pmax + (GW_DEST_MAX - dest_len);

	if (room <= GW_CHUNK_EXT_LEN)
		return 0;
	room -= GW_CHUNK_EXT_LEN;
	if (room > pmax)
		room = pmax;
	return (uint32_t)room;
}

int gw_conn_send_msg(struct gw_conn *c, const char *dest, const void *msg, size_t len,
		     uint64_t *msg_id)
{
	const uint8_t *type, *domain, *m = msg;
	size_t type_len, domain_len, dest_len, rest;
	uint32_t pmax, chunk_len, count, k, i, room;
	struct gw_sdk_txgroup *g;
	struct gw_sdk_txhist *h;
	uint8_t *copy = NULL;
	uint64_t base, now;
	int32_t gidx;

	if (!c || !dest || (!msg && len))
		return -EINVAL;
	dest_len = strnlen(dest, GW_DEST_MAX + 1);
	if (dest_len == 0 || dest_len > GW_DEST_MAX)
		return -EINVAL;
	if (gw_addr_split((const uint8_t *)dest, dest_len, &type, &type_len, &domain,
			  &domain_len) < 0)
		return -EINVAL;
	if (c->state != GW_SDK_UP)
		return -ENOTCONN;
	if (len > c->max_message)
		return -EMSGSIZE;
	pmax = c->max_payload < c->router_max_payload ? c->max_payload : c->router_max_payload;
	if (len <= pmax)
		return gw_conn_send(c, dest, msg, (uint16_t)len, msg_id);

	chunk_len = chunk_len_for(pmax, dest_len);
	if (chunk_len == 0)
		return -EMSGSIZE;
	count = (uint32_t)((len + chunk_len - 1) / chunk_len);
	if (c->stream.on) {
		c->st.stream_waits++;
		return -EAGAIN;
	}
	/* A group never wraps, and leaves next_seq valid: its last seq is at
	 * most 2^64 - 2 (outbox.c keeps every seq below next_seq). */
	if (c->next_seq >= UINT64_MAX - count)
		return -EOVERFLOW;
	room = gw_sdk_outbox_room(c);
	if (room == 0 || c->txg_free < 0)
		return -EAGAIN;
	if (c->state_path && c->alloc_seq + count > c->seq_ceiling &&
	    gw_sdk_state_reserve(c, count) < 0)
		return -EIO;
	k = count < room ? count : room;
	if (k < count) {
		/* Copied before anything is queued: -ENOMEM queues nothing. */
		rest = len - (size_t)k * chunk_len;
		copy = malloc(rest);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, m + (size_t)k * chunk_len, rest);
	}

	base = c->next_seq;
	gidx = c->txg_free;
	g = &c->txg[gidx];
	c->txg_free = g->next_free;
	g->base = base;
	g->count = count;
	g->left = count;
	g->used = true;
	h = &c->txh[c->txh_n++ & (GW_SDK_TXHIST - 1)];
	h->base = base;
	h->count = count;
	h->noticed = 0;
	c->st.groups_sent++;

	now = gw_sdk_now_us();
	for (i = 0; i < k; i++)
		(void)put_chunk(c, gidx, base, (uint32_t)len, count, chunk_len, i, dest,
				(uint16_t)dest_len, m + (size_t)i * chunk_len, now);
	if (k < count) {
		struct gw_sdk_stream *st = &c->stream;

		st->on = true;
		st->gidx = gidx;
		st->base = base;
		st->count = count;
		st->next = k;
		st->copy_first = k;
		st->chunk_len = chunk_len;
		st->total_len = (uint32_t)len;
		st->copy = copy;
		st->dest_len = (uint16_t)dest_len;
		memcpy(st->dest, dest, dest_len);
		c->alloc_seq = base + count;
	} else {
		c->alloc_seq = c->next_seq;
	}
	if (msg_id)
		*msg_id = base;
	return 0;
}
