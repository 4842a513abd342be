/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fake router of the SDK's suites (API and behaviour: fake_router.h):
 * HELLO/WELCOME, ingress custody with ACKs, egress forwarding with
 * retransmission, and the fault injector in front of its socket.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <gwart/wire.h>

#include "ack.h"
#include "clock.h"
#include "fake_router.h"

uint64_t fr_now_us(void)
{
	return dp_clock_mono_us();
}

static unsigned fr_rand(struct fake_router *fr)
{
	/* xorshift64*: seeded, so a failing run can be replayed */
	fr->rng ^= fr->rng >> 12;
	fr->rng ^= fr->rng << 25;
	fr->rng ^= fr->rng >> 27;
	return (unsigned)((fr->rng * 2685821657736338717ull) >> 33);
}

static bool fr_roll(struct fake_router *fr, unsigned pct)
{
	return pct && fr_rand(fr) % 100 < pct;
}

struct fake_router *fr_new(uint32_t dup_window, uint64_t seed)
{
	struct fake_router *fr = calloc(1, sizeof(*fr));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int i, v = 4 << 20;

	cr_assert_not_null(fr);
	fr->dup_window = dup_window;
	fr->max_payload = GW_PAYLOAD_MAX;
	fr->next_epoch = 100;
	fr->ka_ms = 1000;
	fr->ka_mult = 3;
	fr->rng = seed ? seed : 1;
	fr->eg_first = 1;
	for (i = 0; i < FR_MAX_CONN; i++)
		fr->conn[i].eg_next = fr->conn[i].eg_low = 1;
	fr->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_geq(fr->fd, 0);
	setsockopt(fr->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	setsockopt(fr->fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fr->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fr->fd, (struct sockaddr *)&sa, &sl), 0);
	fr->port = ntohs(sa.sin_port);
	return fr;
}

void fr_set_eg_first(struct fake_router *fr, uint64_t first)
{
	int i;

	for (i = 0; i < FR_MAX_CONN; i++)
		fr->conn[i].eg_next = fr->conn[i].eg_low = first;
}

void fr_free(struct fake_router *fr)
{
	int i, j;

	for (i = 0; i < FR_MAX_CONN; i++)
		for (j = 0; j < FR_EG_MAX; j++)
			free(fr->conn[i].eg[j]);
	close(fr->fd);
	free(fr);
}

static void fr_sendto(struct fake_router *fr, const void *buf, size_t len,
		      const struct sockaddr_in *to)
{
	(void)sendto(fr->fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to));
}

static void fr_hdr(struct gw_hdr_args *h, const struct fr_conn *c, uint64_t seq)
{
	memset(h, 0, sizeof(*h));
	h->sender = GW_CONN_ID_ROUTER;
	h->epoch = c->epoch;
	h->seq = seq;
}

/* As if the router process restarted: sessions, windows and custody are
 * gone, and egress links are numbered from @eg_base in a new space. */
void fr_restart(struct fake_router *fr, uint64_t eg_base)
{
	int i, j;

	for (i = 0; i < FR_MAX_CONN; i++) {
		struct fr_conn *c = &fr->conn[i];

		for (j = 0; j < FR_EG_MAX; j++) {
			free(c->eg[j]);
			c->eg[j] = NULL;
		}
		c->known = false;
		c->epoch = 0;
		c->in_armed = false;
		memset(c->seen, 0, sizeof(c->seen));
		c->eg_next = c->eg_low = eg_base;
	}
}

/* The router's reconnection probe: KEEPALIVE with epoch 0 (12.3). */
void fr_probe(struct fake_router *fr, int id)
{
	uint8_t b[64];
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = 1 };

	fr_sendto(fr, b, gw_wire_encode_keepalive(b, sizeof(b), &h), &fr->conn[id].addr);
}

/* The router closes the session (12.4). */
void fr_bye(struct fake_router *fr, int id)
{
	uint8_t b[64];
	struct gw_hdr_args h;

	fr_hdr(&h, &fr->conn[id], 0);
	fr_sendto(fr, b, gw_wire_encode_bye(b, sizeof(b), &h, 0), &fr->conn[id].addr);
	fr->conn[id].epoch = 0;
}

/* NACKs carry the refused frame's epoch (PROTOCOL.md 3.3). */
static void fr_nack(struct fake_router *fr, struct fr_conn *c, uint32_t epoch, uint64_t seq,
		    unsigned reason, uint32_t retry_us)
{
	uint8_t b[64];
	struct gw_hdr_args h;

	fr_hdr(&h, c, seq);
	h.epoch = epoch;
	fr_sendto(fr, b, gw_wire_encode_nack(b, sizeof(b), &h, seq, reason, retry_us), &c->addr);
}

static void fr_ack_in(struct fake_router *fr, struct fr_conn *c)
{
	uint8_t b[64];
	struct gw_hdr_args h;
	uint64_t cum = dp_dedup_cum(&c->in);
	size_t n;

	if (fr->hold_acks || fr_roll(fr, fr->drop_ack))
		return;
	fr_hdr(&h, c, cum);
	n = gw_wire_encode_ack(b, sizeof(b), &h, cum + 1, dp_dedup_ack_bitmap(&c->in, cum + 1));
	fr_sendto(fr, b, n, &c->addr);
	if (fr_roll(fr, fr->dup_ack))
		fr_sendto(fr, b, n, &c->addr);
}

/* One egress transmission through the fault injector. */
static void fr_eg_send(struct fake_router *fr, struct fr_conn *d, struct fr_msg *m, uint64_t now)
{
	if (m->last_tx_us)
		fr->eg_rtx++;
	fr->eg_tx++;
	m->last_tx_us = now;
	if (fr_roll(fr, fr->drop_eg))
		return;
	if (fr->stale_eg) {
		/* As if from an older session: must be dropped unacknowledged. */
		struct gw_hdr_args h;

		fr->stale_eg--;
		fr_hdr(&h, d, m->seq);
		h.epoch = d->epoch + 1000;
		gw_wire_rewrite_hdr(m->frame, &h);
		fr_sendto(fr, m->frame, m->len, &d->addr);
		h.epoch = d->epoch;
		gw_wire_rewrite_hdr(m->frame, &h);
		return;
	}
	if (fr->held_len == 0 && fr_roll(fr, fr->reorder_eg)) {
		memcpy(fr->held, m->frame, m->len);
		fr->held_len = m->len;
		fr->held_to = d->addr;
		return;
	}
	fr_sendto(fr, m->frame, m->len, &d->addr);
	if (fr_roll(fr, fr->dup_eg))
		fr_sendto(fr, m->frame, m->len, &d->addr);
	if (fr->held_len) {
		fr_sendto(fr, fr->held, fr->held_len, &fr->held_to);
		fr->held_len = 0;
	}
}

/* Send (or resend) what the destination's rx_window allows. */
static void fr_eg_pump(struct fake_router *fr, struct fr_conn *d, uint64_t now)
{
	uint64_t s;

	if (!d->epoch)
		return;
	for (s = d->eg_low; s < d->eg_next && s < d->eg_low + d->rx_window; s++) {
		struct fr_msg *m = d->eg[s & (FR_EG_MAX - 1)];

		if (!m || m->seq != s)
			continue;
		if (m->last_tx_us == 0 || now - m->last_tx_us >= FR_RTO_US) {
			struct gw_hdr_args h;

			fr_hdr(&h, d, s);
			h.flags = m->last_tx_us ? GW_F_RETRANSMIT : 0;
			gw_wire_rewrite_hdr(m->frame, &h);
			fr_eg_send(fr, d, m, now);
		}
	}
}

static void fr_eg_ack(struct fr_conn *d, uint64_t seq)
{
	struct fr_msg **slot = &d->eg[seq & (FR_EG_MAX - 1)];

	if (*slot && (*slot)->seq == seq) {
		free(*slot);
		*slot = NULL;
	}
}

/* An ACK from the destination: through the protocol core's walker, as the
 * router's custody does, over what is in custody, [eg_low, eg_next). */
static void fr_on_ack(struct fake_router *fr, struct fr_conn *d, const struct gw_frame *f)
{
	struct dp_ack_walk w;
	uint64_t s;

	fr->ack_rx++;
	dp_ack_walk_init(&w, f->seq, f->u.ack.base, f->u.ack.bitmap, d->eg_low, d->eg_next);
	while (dp_ack_walk_next(&w, &s) != DP_ACK_END)
		fr_eg_ack(d, s);
	while (d->eg_low < d->eg_next && !d->eg[d->eg_low & (FR_EG_MAX - 1)])
		d->eg_low++;
}

static int fr_route(const struct gw_frame *f)
{
	char dest[GW_DEST_MAX + 1], *p;
	unsigned id;
	int end = 0;

	memcpy(dest, f->u.data.dest, f->u.data.dest_len);
	dest[f->u.data.dest_len] = 0;
	p = strrchr(dest, '@');
	if (!p || sscanf(p, "@c%u.example%n", &id, &end) != 1 || p[end] != 0 || id == 0 ||
	    id >= FR_MAX_CONN)
		return -1;
	return (int)id;
}

static void fr_on_data(struct fake_router *fr, struct fr_conn *c, const struct gw_frame *f,
		       const uint8_t *buf, size_t len, uint64_t now)
{
	uint64_t seq = f->seq;
	struct fr_conn *d;
	struct fr_msg *m;
	struct gw_hdr_args h;
	bool seen;
	int dst;

	fr->data_rx++;
	if (seq != f->u.data.origin_seq || f->u.data.origin != f->sender) {
		fr->bad_frames++;
		return;
	}
	if (!c->epoch || f->epoch != c->epoch) {
		fr->no_session_tx++;
		fr_nack(fr, c, f->epoch, seq, GW_NACK_NO_SESSION, 0);
		return;
	}
	/* The RETRANSMIT flag: set exactly on frames the SDK sent before. */
	seen = seq < FR_SEEN_BITS && (c->seen[seq / 8] & (1u << (seq % 8)));
	if (seq < FR_SEEN_BITS)
		c->seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
	if (seen && !(f->flags & GW_F_RETRANSMIT))
		fr->rtx_flag_missing++;
	if (!seen && (f->flags & GW_F_RETRANSMIT))
		fr->rtx_flag_wrong++;
	if (seq > fr->max_in_seq)
		fr->max_in_seq = seq;
	/* The window rule, from the router's side: the SDK may not have
	 * anything beyond cum + W on the wire. */
	if (seq > dp_dedup_cum(&c->in) + fr->dup_window) {
		fr->window_violations++;
		fr_nack(fr, c, f->epoch, seq, GW_NACK_EXPIRED, 0);
		return;
	}
	if (fr_roll(fr, fr->drop_in)) {
		fr->dropped_in++;
		return;
	}
	if (fr->drop_once_seq == seq) {
		fr->drop_once_seq = 0;
		return;
	}
	switch (dp_dedup_check(&c->in, seq)) {
	case DP_DEDUP_NEW:
		break;
	case DP_DEDUP_DUP:
		fr->dup_in++;
		fr_ack_in(fr, c);
		return;
	default:
		fr->window_violations++;
		return;
	}
	if (fr->forget_at && seq == fr->forget_at) {
		/* As after a router-side session loss: the epoch is gone. */
		fr->forget_at = 0;
		c->epoch = 0;
		fr->no_session_tx++;
		fr_nack(fr, c, f->epoch, seq, GW_NACK_NO_SESSION, 0);
		return;
	}
	if (fr->busy_left) {
		fr->busy_left--;
		fr->busy_tx++;
		fr_nack(fr, c, f->epoch, seq, GW_NACK_BUSY, 1000);
		return;
	}
	dst = fr_route(f);
	if (dst < 0 || !fr->conn[dst].known) {
		/* A refusal does not mark the seq (PROTOCOL.md 10): the
		 * connector closes the gap with a HELLO. */
		fr->no_route_tx++;
		fr_nack(fr, c, f->epoch, seq, GW_NACK_NO_ROUTE, 0);
		return;
	}
	d = &fr->conn[dst];
	cr_assert_lt(d->eg_next - d->eg_low, (uint64_t)FR_EG_MAX, "fake custody full");
	m = malloc(sizeof(*m) + len);
	cr_assert_not_null(m);
	m->seq = d->eg_next++;
	m->last_tx_us = 0;
	m->len = (uint16_t)len;
	memcpy(m->frame, buf, len);
	fr_hdr(&h, d, m->seq);
	gw_wire_rewrite_hdr(m->frame, &h);
	d->eg[m->seq & (FR_EG_MAX - 1)] = m;
	dp_dedup_set_done(&c->in, seq);
	fr_ack_in(fr, c);
	if (fr->expire_seq == seq) {
		fr->expire_seq = 0;
		fr_nack(fr, c, c->epoch, seq, GW_NACK_EXPIRED, 0);
	}
	fr_eg_pump(fr, d, now);
}

static void fr_on_hello(struct fake_router *fr, struct fr_conn *c, const struct gw_frame *f,
			const struct sockaddr_in *from)
{
	uint8_t b[64];
	struct gw_hdr_args h;

	if (fr->hello_rx < 64)
		fr->hello_us[fr->hello_rx] = fr_now_us();
	fr->hello_rx++;
	c->addr = *from; /* where probes go, even unanswered */
	if (fr->no_welcome)
		return;
	c->rx_window = f->u.hello.rx_window;
	if (!c->known || c->nonce != f->u.hello.nonce || !c->epoch)
		c->epoch = fr->next_epoch++;
	c->known = true;
	c->nonce = f->u.hello.nonce;
	/* C := max(C, seq - 1) (PROTOCOL.md 12.1). */
	if (!c->in_armed) {
		dp_dedup_init(&c->in, c->preset_cum);
		c->in_armed = true;
	}
	if (f->seq > 1)
		dp_dedup_advance(&c->in, f->seq - 1);
	/* WELCOME.seq: our cumulative point on the egress link (3.5). */
	fr_hdr(&h, c, c->eg_low - 1);
	fr_sendto(fr, b,
		  gw_wire_encode_welcome(b, sizeof(b), &h, c->nonce, dp_dedup_cum(&c->in),
					 fr->dup_window, fr->ka_ms, fr->ka_mult, fr->max_payload,
					 c->salt),
		  &c->addr);
	fr->welcome_tx++;
}

void fr_pump(struct fake_router *fr)
{
	uint8_t buf[GW_FRAME_MAX];
	struct sockaddr_in from;
	struct gw_frame f;
	uint64_t now;
	int i;

	for (;;) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fr->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct fr_conn *c;

		if (n < 0)
			break;
		if (fr->silent)
			continue;
		now = fr_now_us();
		if (gw_wire_parse(buf, (size_t)n, &f) != GW_WIRE_OK || f.sender == 0 ||
		    f.sender >= FR_MAX_CONN) {
			fr->bad_frames++;
			continue;
		}
		c = &fr->conn[f.sender];
		switch (f.type) {
		case GW_T_HELLO:
			fr_on_hello(fr, c, &f, &from);
			break;
		case GW_T_DATA:
			fr_on_data(fr, c, &f, buf, (size_t)n, now);
			break;
		case GW_T_ACK:
			if (f.sender == fr->drop_acks_from)
				break;
			fr_on_ack(fr, c, &f);
			fr_eg_pump(fr, c, now);
			break;
		case GW_T_KEEPALIVE:
			/* Echoed on a live session, as the router does (3.6). */
			fr->keepalive_rx++;
			if (c->epoch && f.epoch == c->epoch) {
				uint8_t b[64];
				struct gw_hdr_args h;

				fr_hdr(&h, c, f.seq);
				fr_sendto(fr, b, gw_wire_encode_keepalive(b, sizeof(b), &h),
					  &c->addr);
			}
			break;
		case GW_T_BYE:
			fr->bye_rx++;
			c->epoch = 0;
			break;
		default:
			fr->bad_frames++;
		}
	}
	if (fr->silent)
		return;
	now = fr_now_us();
	for (i = 1; i < FR_MAX_CONN; i++)
		if (fr->conn[i].known)
			fr_eg_pump(fr, &fr->conn[i], now);
	if (fr->held_len) { /* a held frame never waits for long */
		fr_sendto(fr, fr->held, fr->held_len, &fr->held_to);
		fr->held_len = 0;
	}
}
