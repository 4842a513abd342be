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
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <gwart/auth.h>
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

void fr_key(uint32_t id, uint8_t out[GW_KEY_LEN])
{
	unsigned i;

	for (i = 0; i < GW_KEY_LEN; i++)
		out[i] = (uint8_t)(0x5a ^ (id * 37u + i * 11u + 1u));
}

static uint64_t fr_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fr_st64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* New session keys for (epoch, nonce, salt): counters and windows reset. */
static void fr_session_keys(struct fr_conn *c, uint32_t id)
{
	struct gw_session_keys k;
	unsigned i;

	gw_auth_derive_session(c->key, id, c->epoch, c->nonce, c->salt, &k);
	gw_gmac_key_init(&c->s_tx, k.r2c);
	gw_gmac_key_init(&c->s_rx, k.c2r);
	for (i = 0; i < GW_LANE_COUNT; i++) {
		c->tx_count[i] = 0;
		c->rx_top[i] = 0;
		dp_replay_init(&c->rx_replay[i]);
	}
}

void fr_seal(struct fake_router *fr, int id, uint8_t *frame, size_t len)
{
	struct fr_conn *c = &fr->conn[id];
	struct gw_frame f;
	unsigned lane;

	cr_assert_eq(gw_wire_parse(frame, len, &f), GW_WIRE_OK, "fr_seal: not a frame");
	if (gw_frame_is_handshake(f.type, f.epoch)) {
		gw_auth_seal_hs(frame, len, c->hs.r2c);
		return;
	}
	lane = gw_type_lane(f.type);
	fr_st64(frame + len - GW_TRAILER_LEN, gw_ctr_make(lane, ++c->tx_count[lane]));
	gw_auth_seal_session(frame, len, &c->s_tx);
}

void fr_send_raw(struct fake_router *fr, int id, const void *frame, size_t len)
{
	const struct sockaddr_in *to = &fr->conn[id].addr;

	(void)sendto(fr->fd, frame, len, 0, (const struct sockaddr *)to, sizeof(*to));
}

struct fake_router *fr_new(uint32_t dup_window, uint64_t seed)
{
	struct fake_router *fr = calloc(1, sizeof(*fr));
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int i, v = 4 << 20;

	cr_assert_not_null(fr);
	cr_assert_eq(gw_auth_init(), 0);
	fr->dup_window = dup_window;
	fr->max_payload = GW_PAYLOAD_MAX;
	fr->next_epoch = 100;
	fr->ka_ms = 1000;
	fr->ka_mult = 3;
	fr->rng = seed ? seed : 1;
	fr->eg_first = 1;
	for (i = 0; i < FR_MAX_CONN; i++) {
		fr->conn[i].eg_next = fr->conn[i].eg_low = 1;
		fr_key((uint32_t)i, fr->conn[i].key);
		gw_auth_derive_hs(fr->conn[i].key, (uint32_t)i, &fr->conn[i].hs);
	}
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

static int fr_id(const struct fake_router *fr, const struct fr_conn *c)
{
	return (int)(c - fr->conn);
}

/* Seal a frame for @c and send it to @c's address. */
static void fr_send(struct fake_router *fr, struct fr_conn *c, uint8_t *buf, size_t len)
{
	if (!len)
		return;
	fr_seal(fr, fr_id(fr, c), buf, len);
	fr_sendto(fr, buf, len, &c->addr);
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
		c->hello_ctr = 0; /* a new process remembers no HELLO */
		memset(c->seen, 0, sizeof(c->seen));
		c->eg_next = c->eg_low = eg_base;
	}
}

/* The router's reconnection probe: KEEPALIVE with epoch 0 (12.3). */
void fr_probe(struct fake_router *fr, int id)
{
	uint8_t b[64];
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = 1 };
	uint64_t t = fr_realtime_ns();
	size_t n;

	fr->probe_ctr = t > fr->probe_ctr ? t : fr->probe_ctr + 1;
	h.ctr = fr->probe_ctr;
	n = gw_wire_encode_keepalive(b, sizeof(b), &h);
	fr_send(fr, &fr->conn[id], b, n);
	memcpy(fr->last_probe, b, sizeof(fr->last_probe));
	fr->probes_tx++;
}

/* The router closes the session (12.4). */
void fr_bye(struct fake_router *fr, int id)
{
	uint8_t b[64];
	struct gw_hdr_args h;

	fr_hdr(&h, &fr->conn[id], 0);
	fr_send(fr, &fr->conn[id], b, gw_wire_encode_bye(b, sizeof(b), &h, 0));
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
	fr_send(fr, c, b, gw_wire_encode_nack(b, sizeof(b), &h, seq, reason, retry_us));
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
	fr_send(fr, c, b, n);
	/* A copy as the router's workers would send it (a new counter). */
	if (fr_roll(fr, fr->dup_ack))
		fr_send(fr, c, b, n);
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
		fr_send(fr, d, m->frame, m->len);
		h.epoch = d->epoch;
		gw_wire_rewrite_hdr(m->frame, &h);
		return;
	}
	/* Each transmission a new frame on the wire: the next counter. */
	fr_seal(fr, fr_id(fr, d), m->frame, m->len);
	if (fr->held_len == 0 && fr_roll(fr, fr->reorder_eg)) {
		memcpy(fr->held, m->frame, m->len);
		fr->held_len = m->len;
		fr->held_to = d->addr;
		return;
	}
	fr_sendto(fr, m->frame, m->len, &d->addr);
	if (fr_roll(fr, fr->replay_eg))
		fr_sendto(fr, m->frame, m->len, &d->addr); /* byte for byte: a replay */
	if (fr_roll(fr, fr->dup_eg))
		fr_send(fr, d, m->frame, m->len); /* a copy sealed afresh */
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
	unsigned i;

	fr->data_rx++;
	if (seq != f->u.data.origin_seq || f->u.data.origin != f->sender) {
		fr->bad_frames++;
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
	if (seq > dp_dedup_cum(&c->in) && seq - dp_dedup_cum(&c->in) > fr->dup_window) {
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
	for (i = 0; i < FR_DROP_SEQS; i++)
		if (fr->drop_seqs[i] == seq)
			return;
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
		/* As after a router-side session loss: the epoch is gone,
		 * and a v2 router probes rather than answer NO_SESSION (it
		 * could not authenticate that answer). */
		fr->forget_at = 0;
		c->epoch = 0;
		fr->no_session_tx++;
		fr_probe(fr, fr_id(fr, c));
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
	if (d->eg_next - d->eg_low >= (uint64_t)FR_EG_MAX - 1) {
		/* Custody full, as the router answers it (not taken). */
		fr->busy_tx++;
		fr->custody_full++;
		fr_nack(fr, c, f->epoch, seq, GW_NACK_BUSY, 1000);
		return;
	}
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
	if (fr->expire_seq == seq && fr->expire_before_ack) {
		fr->expire_seq = 0;
		fr_nack(fr, c, c->epoch, seq, GW_NACK_EXPIRED, 0);
	}
	fr_ack_in(fr, c);
	if (fr->expire_seq == seq) {
		fr->expire_seq = 0;
		fr_nack(fr, c, c->epoch, seq, GW_NACK_EXPIRED, 0);
	}
	fr_eg_pump(fr, d, now);
}

uint64_t fr_inject(struct fake_router *fr, int id, uint32_t origin, uint64_t origin_seq,
		   const char *dest, const void *payload, uint16_t len,
		   const struct gw_chunk_info *ck)
{
	struct fr_conn *d = &fr->conn[id];
	struct gw_hdr_args h;
	struct fr_msg *m;
	size_t n;

	cr_assert_lt(d->eg_next - d->eg_low, (uint64_t)FR_EG_MAX - 1, "fr_inject: custody full");
	m = malloc(sizeof(*m) + GW_FRAME_MAX);
	cr_assert_not_null(m);
	m->seq = d->eg_next++;
	m->last_tx_us = 0;
	fr_hdr(&h, d, m->seq);
	if (ck)
		n = gw_wire_encode_chunk(m->frame, GW_FRAME_MAX, &h, origin, origin_seq, dest,
					 (uint16_t)strlen(dest), payload, len, ck);
	else
		n = gw_wire_encode_data(m->frame, GW_FRAME_MAX, &h, origin, origin_seq, dest,
					(uint16_t)strlen(dest), payload, len);
	cr_assert_gt(n, 0, "fr_inject: the encoder refused the frame");
	m->len = (uint16_t)n;
	d->eg[m->seq & (FR_EG_MAX - 1)] = m;
	fr_eg_pump(fr, d, fr_now_us());
	return m->seq;
}

bool fr_eg_held(const struct fake_router *fr, int id, uint64_t seq)
{
	const struct fr_msg *m = fr->conn[id].eg[seq & (FR_EG_MAX - 1)];

	return m && m->seq == seq;
}

static void fr_on_hello(struct fake_router *fr, struct fr_conn *c, const struct gw_frame *f,
			const struct sockaddr_in *from)
{
	uint8_t b[GW_WELCOME_LEN];
	struct gw_hdr_args h;
	bool same_addr = c->addr.sin_addr.s_addr == from->sin_addr.s_addr &&
			 c->addr.sin_port == from->sin_port;
	size_t n;

	if (fr->hello_rx < 64)
		fr->hello_us[fr->hello_rx] = fr_now_us();
	fr->hello_rx++;
	c->addr = *from; /* where probes go, even unanswered */
	c->hello_nonce = f->u.hello.nonce;
	if (fr->no_welcome)
		return;
	if (fr->deny) {
		/* A disabled connector: epoch 0, the HELLO's ctr echoed. */
		memset(&h, 0, sizeof(h));
		h.seq = f->seq;
		h.ctr = f->ctr;
		n = gw_wire_encode_nack(b, sizeof(b), &h, f->seq, GW_NACK_NOT_AUTHORISED, 0);
		fr_send(fr, c, b, n);
		memcpy(fr->last_nack, b, sizeof(fr->last_nack));
		return;
	}
	c->rx_window = f->u.hello.rx_window;
	if (!c->known || c->nonce != f->u.hello.nonce || !c->epoch || !same_addr) {
		/* A new session: new epoch, fresh salt, new keys. */
		c->epoch = fr->next_epoch++;
		c->nonce = f->u.hello.nonce;
		gw_random_bytes(c->salt, sizeof(c->salt));
		fr_session_keys(c, f->sender);
	}
	c->known = true;
	/* C := max(C, seq - 1) (PROTOCOL.md 12.1). */
	if (!c->in_armed) {
		dp_dedup_init(&c->in, c->preset_cum);
		c->in_armed = true;
	}
	if (f->seq > 1)
		dp_dedup_advance(&c->in, f->seq - 1);
	/* WELCOME.seq: our cumulative point on the egress link (3.5). */
	fr_hdr(&h, c, c->eg_low - 1);
	h.ctr = f->ctr; /* the echo the connector checks */
	n = gw_wire_encode_welcome(b, sizeof(b), &h, c->nonce, dp_dedup_cum(&c->in),
				   fr->dup_window, fr->ka_ms, fr->ka_mult, fr->max_payload,
				   c->salt);
	fr_send(fr, c, b, n);
	memcpy(fr->last_welcome, b, sizeof(fr->last_welcome));
	fr->welcome_tx++;
}

/* The router's checks of a frame from connector @c (PROTOCOL.md 17), in its
 * order; false (counted, nothing changed) if it fails one. */
static bool fr_check(struct fake_router *fr, struct fr_conn *c, const struct gw_frame *f,
		     const uint8_t *buf, size_t len)
{
	unsigned lane;
	uint64_t n;

	if (f->type == GW_T_HELLO) {
		if (!gw_auth_check_hs(buf, len, c->hs.c2r)) {
			fr->auth_failed++;
			return false;
		}
		if (f->ctr <= c->hello_ctr) {
			fr->replayed++;
			return false;
		}
		c->hello_ctr = f->ctr;
		if (!c->hello_ctr_first)
			c->hello_ctr_first = f->ctr;
		return true;
	}
	if (!c->epoch || f->epoch != c->epoch) {
		fr->stale_epoch++; /* v2: dropped, never answered */
		return false;
	}
	lane = gw_ctr_lane(f->ctr);
	n = gw_ctr_count(f->ctr);
	if (lane != gw_type_lane(f->type)) {
		fr->auth_failed++;
		return false;
	}
	if (!dp_replay_check(&c->rx_replay[lane], n)) {
		fr->replayed++;
		return false;
	}
	if (!gw_auth_check_session(buf, len, &c->s_rx)) {
		fr->auth_failed++;
		return false;
	}
	dp_replay_commit(&c->rx_replay[lane], n);
	if (n > c->rx_top[lane])
		c->rx_top[lane] = n;
	return true;
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
		/* Counted as it arrives: the first BYE ends the session, so
		 * its repetitions are then of a stale epoch. */
		if (f.type == GW_T_BYE)
			fr->bye_rx++;
		if (!fr_check(fr, c, &f, buf, (size_t)n))
			continue;
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
				fr_send(fr, c, b, gw_wire_encode_keepalive(b, sizeof(b), &h));
			}
			break;
		case GW_T_BYE:
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
