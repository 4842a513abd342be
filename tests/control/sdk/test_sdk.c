/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk": libgwart-connector against a fake router.
 *
 * The fake router lives in this file, on 127.0.0.1, and speaks the protocol
 * through the same wire codec and duplicate window as the real one: it
 * answers HELLO with WELCOME, takes DATA into custody (ACK) and forwards it
 * to the destination connector with its own egress link seqs, retransmitting
 * until the destination ACKs. It can drop, duplicate and reorder, answer
 * BUSY, NO_ROUTE and NO_SESSION, withhold ACKs, and it checks the rules the
 * SDK must keep: the duplicate-window rule and the RETRANSMIT flag.
 *
 * Everything runs on the test's one thread: the fake router and the
 * connectors are pumped in turn, so the fake's counters need no locking.
 * Destinations: "smtp:<anything>@c<ID>.example" routes to connector ID;
 * anything else has no route.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <gwart/connector.h>
#include <gwart/wire.h>

#include "dedup.h"

/* ---- fake router ------------------------------------------------------- */

#define FR_MAX_CONN 8        /* connector ids 1..7 */
#define FR_EG_MAX 4096       /* egress custody per destination (power of two) */
#define FR_SEEN_BITS (1u << 16) /* ingress seqs tracked for the RETRANSMIT check */
#define FR_RTO_US 20000      /* egress retransmission */

struct fr_msg {
	uint64_t seq;
	uint64_t last_tx_us;
	uint16_t len;
	uint8_t frame[];
};

struct fr_conn {
	bool known;
	struct sockaddr_in addr;
	uint32_t epoch; /* 0: no session */
	uint64_t nonce;
	uint32_t rx_window;
	bool in_armed;
	struct dp_dedup in;       /* ingress duplicate window (origin seqs) */
	uint64_t preset_cum;      /* >0: the router's record before any HELLO */
	uint8_t seen[FR_SEEN_BITS / 8]; /* ingress seqs ever received */
	/* egress */
	uint64_t eg_next;         /* next egress seq */
	uint64_t eg_low;          /* lowest un-acked egress seq */
	struct fr_msg *eg[FR_EG_MAX];
};

struct fake_router {
	int fd;
	uint16_t port;
	uint32_t dup_window;
	uint32_t max_payload;
	uint32_t next_epoch;
	uint64_t rng;
	uint64_t eg_first;
	struct fr_conn conn[FR_MAX_CONN];
	/* faults, percent */
	unsigned drop_in, drop_ack, drop_eg, dup_eg, reorder_eg, dup_ack;
	unsigned busy_left;       /* answer BUSY to this many new DATA frames */
	bool hold_acks;           /* never ACK ingress DATA */
	bool no_welcome;          /* ignore HELLOs */
	bool silent;              /* a cut link: ignore everything, send nothing */
	uint32_t drop_acks_from;  /* ignore ACK frames from this connector id */
	uint32_t ka_ms, ka_mult;  /* announced in WELCOME */
	uint64_t forget_at;       /* forget the sender's session at this seq (once) */
	uint64_t expire_seq;      /* after ACKing this seq, give it up: NACK EXPIRED */
	unsigned stale_eg;        /* egress transmissions sent with a wrong epoch */
	uint64_t drop_once_seq;   /* drop the first transmission of this seq */
	/* a held egress frame (reorder) */
	uint8_t held[GW_FRAME_MAX];
	uint16_t held_len;
	struct sockaddr_in held_to;
	/* observations */
	uint64_t hello_rx, welcome_tx, bye_rx, keepalive_rx, data_rx, ack_rx;
	uint64_t window_violations, rtx_flag_missing, rtx_flag_wrong, bad_frames;
	uint64_t busy_tx, no_route_tx, no_session_tx, eg_tx, eg_rtx, dup_in;
	uint64_t max_in_seq, dropped_in;
	uint64_t hello_us[64];    /* arrival of the first 64 HELLOs */
};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
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

static struct fake_router *fr_new(uint32_t dup_window, uint64_t seed)
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

static void fr_set_eg_first(struct fake_router *fr, uint64_t first)
{
	int i;

	for (i = 0; i < FR_MAX_CONN; i++)
		fr->conn[i].eg_next = fr->conn[i].eg_low = first;
}

static void fr_free(struct fake_router *fr)
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
static void fr_restart(struct fake_router *fr, uint64_t eg_base)
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
static void fr_probe(struct fake_router *fr, int id)
{
	uint8_t b[64];
	struct gw_hdr_args h = { .sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = 1 };

	fr_sendto(fr, b, gw_wire_encode_keepalive(b, sizeof(b), &h), &fr->conn[id].addr);
}

/* The router closes the session (12.4). */
static void fr_bye(struct fake_router *fr, int id)
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

static void fr_on_ack(struct fake_router *fr, struct fr_conn *d, const struct gw_frame *f)
{
	uint64_t s, bm = f->u.ack.bitmap;

	fr->ack_rx++;
	for (s = d->eg_low; s <= f->seq && s < d->eg_next; s++)
		fr_eg_ack(d, s);
	while (bm) {
		unsigned i = (unsigned)__builtin_ctzll(bm);

		bm &= bm - 1;
		if (f->u.ack.base + i >= d->eg_low && f->u.ack.base + i < d->eg_next)
			fr_eg_ack(d, f->u.ack.base + i);
	}
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
		fr->hello_us[fr->hello_rx] = now_us();
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
					 fr->dup_window, fr->ka_ms, fr->ka_mult, fr->max_payload),
		  &c->addr);
	fr->welcome_tx++;
}

static void fr_pump(struct fake_router *fr)
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
		now = now_us();
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
	now = now_us();
	for (i = 1; i < FR_MAX_CONN; i++)
		if (fr->conn[i].known)
			fr_eg_pump(fr, &fr->conn[i], now);
	if (fr->held_len) { /* a held frame never waits for long */
		fr_sendto(fr, fr->held, fr->held_len, &fr->held_to);
		fr->held_len = 0;
	}
}

/* ---- application side -------------------------------------------------- */

#define APP_MAX 20000

struct app {
	uint32_t id;
	uint32_t results[APP_MAX];   /* on_result calls per origin_seq */
	int status[APP_MAX];
	uint32_t deliveries[APP_MAX]; /* on_deliver calls per origin_seq */
	uint64_t n_results, n_acked, n_failed, n_delivered, corrupt, n_notices;
	uint64_t notice_seq;
};

static void app_on_notice(void *arg, uint64_t seq, int reason)
{
	struct app *a = arg;

	cr_assert_eq(reason, GW_NACK_EXPIRED);
	a->n_notices++;
	a->notice_seq = seq;
}

static void app_on_result(void *arg, uint64_t seq, int status)
{
	struct app *a = arg;

	cr_assert_lt(seq, (uint64_t)APP_MAX);
	a->results[seq]++;
	a->status[seq] = status;
	a->n_results++;
	if (status == 0)
		a->n_acked++;
	else
		a->n_failed++;
}

static void app_on_deliver(void *arg, uint32_t origin, uint64_t seq, const char *dest,
			   uint16_t dest_len, const void *payload, uint16_t len)
{
	struct app *a = arg;
	uint64_t want[4];

	cr_assert_lt(seq, (uint64_t)APP_MAX);
	a->deliveries[seq]++;
	a->n_delivered++;
	/* Payload: origin, seq, and a function of both: detects corruption
	 * and mix-ups. */
	want[0] = origin;
	want[1] = seq;
	want[2] = seq * 0x9e3779b97f4a7c15ull;
	want[3] = dest_len;
	if (len != sizeof(want) || memcmp(payload, want, sizeof(want)) != 0)
		a->corrupt++;
	(void)dest;
}

static struct gw_conn *open_conn(struct fake_router *fr, uint32_t id, struct app *a,
				 struct gw_conn_cfg *tweak)
{
	struct gw_conn_cfg cfg = tweak ? *tweak : (struct gw_conn_cfg){ 0 };
	struct gw_conn *c;
	int err = 1;

	cfg.id = id;
	cfg.router_addr = "127.0.0.1";
	cfg.router_port = fr->port;
	cfg.bind_addr = "127.0.0.1";
	if (!cfg.rto_us)
		cfg.rto_us = 10000;
	cfg.on_deliver = app_on_deliver;
	cfg.on_result = app_on_result;
	cfg.on_notice = app_on_notice;
	cfg.arg = a;
	a->id = id;
	c = gw_conn_open(&cfg, &err);
	cr_assert_not_null(c, "gw_conn_open: %d", err);
	cr_assert_eq(err, 0);
	return c;
}

/* One round: the fake router, then every connector; waits up to 1 ms for
 * any socket so the loop does not spin on the shared cores. */
static void pump(struct fake_router *fr, struct gw_conn **cs, int n)
{
	struct pollfd p[8];
	int i;

	p[0] = (struct pollfd){ .fd = fr->fd, .events = POLLIN };
	for (i = 0; i < n; i++)
		p[i + 1] = (struct pollfd){ .fd = gw_conn_fd(cs[i]), .events = POLLIN };
	(void)poll(p, (nfds_t)n + 1, 1);
	fr_pump(fr);
	for (i = 0; i < n; i++)
		cr_assert_geq(gw_conn_poll(cs[i], 0), 0);
}

static void wait_up(struct fake_router *fr, struct gw_conn **cs, int n)
{
	uint64_t end = now_us() + 5000000;
	int i, up;

	do {
		pump(fr, cs, n);
		for (up = 0, i = 0; i < n; i++)
			up += gw_conn_is_up(cs[i]);
	} while (up < n && now_us() < end);
	cr_assert_eq(up, n, "sessions did not come up");
}

static int send_one(struct gw_conn *c, const char *dest, uint32_t origin, uint64_t *seq)
{
	uint64_t pl[4];
	uint64_t next;
	struct gw_conn_stats st;

	gw_conn_get_stats(c, &st);
	next = st.next_seq;
	pl[0] = origin;
	pl[1] = next;
	pl[2] = next * 0x9e3779b97f4a7c15ull;
	pl[3] = strlen(dest);
	return gw_conn_send(c, dest, pl, sizeof(pl), seq);
}

/*
 * Send @count messages from @cs[0] to @dest while pumping, until every one
 * is resolved and (if @cs[1]) delivered, or @ms passes. Returns the sends
 * that were refused with -EAGAIN (window full).
 */
static uint64_t run_flow(struct fake_router *fr, struct gw_conn **cs, int n, struct app *src,
			 struct app *dst, const char *dest, uint64_t count, unsigned ms)
{
	uint64_t sent = 0, eagain = 0, seq, end = now_us() + (uint64_t)ms * 1000;
	struct gw_conn_stats st;
	int r;

	while (now_us() < end) {
		while (sent < count) {
			r = send_one(cs[0], dest, src->id, &seq);
			if (r == -EAGAIN) {
				eagain++;
				break;
			}
			if (r == -ENOTCONN)
				break; /* re-HELLO in progress */
			cr_assert_eq(r, 0, "gw_conn_send: %d", r);
			sent++;
		}
		pump(fr, cs, n);
		gw_conn_get_stats(cs[0], &st);
		if (sent == count && st.inflight == 0 && st.abandoned == 0 &&
		    (!dst || dst->n_delivered >= src->n_acked))
			break;
	}
	return eagain;
}

static void assert_exactly_once(const struct app *src, const struct app *dst, uint64_t first,
				uint64_t count)
{
	uint64_t s;

	for (s = first; s < first + count; s++) {
		cr_assert_eq(src->results[s], 1, "seq %lu resolved %u times", (unsigned long)s,
			     src->results[s]);
		cr_assert_eq(src->status[s], 0, "seq %lu status %d", (unsigned long)s,
			     src->status[s]);
		if (dst)
			cr_assert_eq(dst->deliveries[s], 1, "seq %lu delivered %u times",
				     (unsigned long)s, dst->deliveries[s]);
	}
	if (dst)
		cr_assert_eq(dst->corrupt, 0);
}

/* ---- tests ------------------------------------------------------------- */

static struct app *app_new(void)
{
	struct app *a = calloc(1, sizeof(*a));

	cr_assert_not_null(a);
	return a;
}

Test(sdk, handshake_and_keepalive_state)
{
	struct fake_router *fr = fr_new(64, 1);
	struct app *a = app_new();
	struct gw_conn *c = open_conn(fr, 1, a, NULL);
	struct gw_conn_stats st;

	cr_assert_eq(gw_conn_is_up(c), 0);
	wait_up(fr, &c, 1);
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.sessions, 1);
	cr_assert_geq(st.hellos_sent, 1);
	cr_assert_eq(st.window, 64);
	cr_assert_eq(st.epoch, 100);
	cr_assert_eq(st.next_seq, 1);
	cr_assert_eq(gw_conn_close(c), 0);
	fr_pump(fr);
	cr_assert_eq(fr->bye_rx, 3, "BYE is sent three times");
	fr_free(fr);
	free(a);
}

Test(sdk, hello_repeats_until_welcome)
{
	struct fake_router *fr = fr_new(64, 1);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 100 };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	uint64_t end = now_us() + 700000;

	fr->no_welcome = true;
	while (now_us() < end)
		pump(fr, &c, 1);
	/* One at open, then after 100, 160 and 256 ms (+-20 % each): at
	 * 80..120, 208..312 and 413..619 ms; the next not before 740 ms. */
	cr_assert_eq(fr->hello_rx, 4);
	cr_assert_eq(gw_conn_is_up(c), 0);
	fr->no_welcome = false;
	wait_up(fr, &c, 1);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, send_errors)
{
	struct fake_router *fr = fr_new(64, 1);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .max_payload = 100 };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	uint8_t big[200] = { 0 };
	char longdest[300];
	int err = 0;

	cr_assert_eq(gw_conn_send(c, "smtp:a@c2.example", "x", 1, NULL), -ENOTCONN);
	wait_up(fr, &c, 1);
	cr_assert_eq(gw_conn_send(c, "smtp:a@c2.example", big, 101, NULL), -EMSGSIZE);
	cr_assert_eq(gw_conn_send(c, "nocolon", "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(c, "", "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(c, NULL, "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(c, "smtp:a@c2.example", NULL, 1, NULL), -EINVAL);
	memset(longdest, 'a', sizeof(longdest));
	memcpy(longdest, "smtp:", 5);
	longdest[sizeof(longdest) - 1] = 0;
	cr_assert_eq(gw_conn_send(c, longdest, "x", 1, NULL), -EINVAL);
	cr_assert_eq(gw_conn_send(NULL, "smtp:a@c2.example", "x", 1, NULL), -EINVAL);
	/* Bad configurations. */
	cr_assert_null(gw_conn_open(NULL, &err));
	cr_assert_eq(err, -EINVAL);
	cfg = (struct gw_conn_cfg){ .id = 0, .router_addr = "127.0.0.1" };
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	cfg = (struct gw_conn_cfg){ .id = 3, .router_addr = "not-an-address" };
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	cfg = (struct gw_conn_cfg){ .id = 3, .router_addr = "127.0.0.1",
				    .max_inflight = GW_CONN_MAX_INFLIGHT + 1 };
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	cr_assert_eq(gw_conn_close(NULL), 0);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, exactly_once_clean)
{
	struct fake_router *fr = fr_new(960, 7);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats sa, sb;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	run_flow(fr, cs, 2, a, b, "smtp:user@c2.example", 5000, 20000);
	assert_exactly_once(a, b, 1, 5000);
	gw_conn_get_stats(cs[0], &sa);
	gw_conn_get_stats(cs[1], &sb);
	cr_assert_eq(sa.acked, 5000);
	cr_assert_eq(sa.sent, 5000);
	cr_assert_eq(sa.inflight, 0);
	cr_assert_eq(sb.delivered, 5000);
	cr_assert_gt(sb.acks_sent, 0);
	cr_assert_eq(fr->window_violations, 0);
	cr_assert_eq(fr->rtx_flag_wrong, 0);
	cr_assert_eq(fr->rtx_flag_missing, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, exactly_once_through_loss_dup_reorder, .timeout = 120)
{
	struct fake_router *fr = fr_new(128, 42);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats sa, sb;

	struct gw_conn_stats st;
	uint64_t end;
	int i;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	/* Lost ACKs seldom cost a resend when later cumulative ACKs cover
	 * them: withhold every ACK of the first 10 messages for a few RTOs,
	 * so that at least those come back to the router as duplicates. */
	fr->hold_acks = true;
	for (i = 0; i < 10; i++)
		cr_assert_eq(send_one(cs[0], "smtp:user@c2.example", 1, NULL), 0);
	end = now_us() + 1000000;
	do {
		pump(fr, cs, 2);
		gw_conn_get_stats(cs[0], &st);
	} while (st.retransmitted < 10 && now_us() < end);
	fr->hold_acks = false;
	fr->drop_in = 10;
	fr->drop_ack = 10;
	fr->dup_ack = 10;
	fr->drop_eg = 10;
	fr->dup_eg = 10;
	fr->reorder_eg = 10;
	run_flow(fr, cs, 2, a, b, "smtp:user@c2.example", 2990, 60000);
	/* Let the last ACKs settle so the counters below are final. */
	fr->drop_in = fr->drop_ack = fr->drop_eg = 0;
	assert_exactly_once(a, b, 1, 3000);
	gw_conn_get_stats(cs[0], &sa);
	gw_conn_get_stats(cs[1], &sb);
	cr_assert_eq(sa.acked, 3000);
	cr_assert_gt(sa.retransmitted, 0, "loss must have caused retransmissions");
	cr_assert_gt(sb.duplicates, 0, "duplicated egress frames must be suppressed");
	cr_assert_eq(sb.delivered, 3000);
	cr_assert_eq(fr->window_violations, 0);
	cr_assert_eq(fr->rtx_flag_wrong, 0);
	cr_assert_eq(fr->rtx_flag_missing, 0);
	cr_assert_gt(fr->dup_in, 0, "lost ACKs must have caused router-side duplicates");
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, window_rule_dup_window)
{
	struct fake_router *fr = fr_new(16, 3);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	uint64_t i, end;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->hold_acks = true;
	for (i = 0; i < 16; i++)
		cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), 0);
	cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), -EAGAIN);
	/* Without ACKs the SDK retransmits, but never beyond the window. */
	end = now_us() + 300000;
	while (now_us() < end) {
		pump(fr, cs, 2);
		cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), -EAGAIN);
	}
	cr_assert_eq(fr->max_in_seq, 16);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.window, 16);
	cr_assert_eq(st.inflight, 16);
	cr_assert_gt(st.retransmitted, 0);
	/* Release: everything completes, still inside the window. */
	fr->hold_acks = false;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 500, 20000);
	assert_exactly_once(a, b, 1, 516);
	cr_assert_eq(fr->window_violations, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, window_rule_max_inflight)
{
	struct fake_router *fr = fr_new(64, 3);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn_cfg cfg = { .max_inflight = 8 };
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	uint64_t eagain;
	int i;

	cs[0] = open_conn(fr, 1, a, &cfg);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->hold_acks = true;
	for (i = 0; i < 8; i++)
		cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), 0);
	cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), -EAGAIN);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.window, 8);
	fr->hold_acks = false;
	fr->drop_in = 20;
	eagain = run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 1000, 30000);
	cr_assert_gt(eagain, 0);
	assert_exactly_once(a, b, 1, 1008);
	cr_assert_eq(fr->window_violations, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, busy_then_retry)
{
	struct fake_router *fr = fr_new(64, 5);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->busy_left = 40;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 200, 20000);
	assert_exactly_once(a, b, 1, 200);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.nacked[GW_NACK_BUSY], 40);
	cr_assert_eq(fr->busy_tx, 40);
	cr_assert_eq(st.acked, 200);
	cr_assert_eq(st.failed, 0);
	cr_assert_geq(st.retransmitted, 40);
	cr_assert_eq(fr->rtx_flag_missing, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, no_route_reported_once)
{
	struct fake_router *fr = fr_new(64, 5);
	struct app *a = app_new();
	/* A long RTO: a loaded host must not retransmit before the NACK. */
	struct gw_conn_cfg cfg = { .rto_us = 500000 };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	struct gw_conn_stats st;
	uint64_t seq, end, s;
	int i;

	wait_up(fr, &c, 1);
	for (i = 0; i < 10; i++) {
		cr_assert_eq(send_one(c, "smtp:nobody@nowhere.example", 1, &seq), 0);
		cr_assert_eq(seq, (uint64_t)i + 1);
	}
	end = now_us() + 300000; /* well past several RTOs */
	while (now_us() < end)
		pump(fr, &c, 1);
	for (s = 1; s <= 10; s++) {
		cr_assert_eq(a->results[s], 1);
		cr_assert_eq(a->status[s], GW_NACK_NO_ROUTE);
	}
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.nacked[GW_NACK_NO_ROUTE], 10);
	cr_assert_eq(st.failed, 10);
	cr_assert_eq(st.acked, 0);
	cr_assert_eq(st.inflight, 0);
	cr_assert_eq(st.retransmitted, 0, "a refused message is not retried");
	cr_assert_eq(fr->no_route_tx, 10);
	/* The refused seqs held the window until a HELLO closed the gap. */
	cr_assert_geq(st.gap_hellos, 1);
	cr_assert_eq(st.abandoned, 0);
	cr_assert_eq(st.sessions, 1, "the gap HELLO keeps the session");
	cr_assert_eq(dp_dedup_cum(&fr->conn[1].in), 10);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, receiver_duplicate_suppression)
{
	struct fake_router *fr = fr_new(256, 9);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats sb;
	uint64_t end;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->dup_eg = 100;      /* every egress frame twice */
	fr->reorder_eg = 30;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 1000, 20000);
	end = now_us() + 50000;
	while (now_us() < end)
		pump(fr, cs, 2);
	assert_exactly_once(a, b, 1, 1000);
	gw_conn_get_stats(cs[1], &sb);
	cr_assert_eq(sb.delivered, 1000);
	cr_assert_geq(sb.duplicates, 500);
	cr_assert_gt(sb.acks_sent, 0);
	/* Everything was acknowledged: the router's custody drained. */
	cr_assert_eq(fr->conn[2].eg_low, fr->conn[2].eg_next);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, receive_window_arms_mid_stream)
{
	/* The router's egress seq towards us is already far along (we are a
	 * restarted connector): the first frames must still be delivered. */
	struct fake_router *fr = fr_new(64, 11);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];

	fr_set_eg_first(fr, 100000);
	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->reorder_eg = 50;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 2000, 20000);
	assert_exactly_once(a, b, 1, 2000);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, retransmission_flagged)
{
	struct fake_router *fr = fr_new(64, 13);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->drop_once_seq = 5;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 10, 5000);
	assert_exactly_once(a, b, 1, 10);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.sent, 10);
	cr_assert_geq(st.retransmitted, 1);
	cr_assert_eq(fr->rtx_flag_missing, 0, "a retransmission without GW_F_RETRANSMIT");
	cr_assert_eq(fr->rtx_flag_wrong, 0, "a first transmission with GW_F_RETRANSMIT");
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, no_session_rehello_keeps_outbox)
{
	struct fake_router *fr = fr_new(64, 17);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->forget_at = 50;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 300, 20000);
	assert_exactly_once(a, b, 1, 300);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_geq(st.nacked[GW_NACK_NO_SESSION], 1);
	cr_assert_eq(st.session_losses, 1);
	cr_assert_eq(st.loss_no_session, 1);
	cr_assert_eq(st.sessions, 2);
	cr_assert_eq(st.epoch, 102, "the new session's epoch is adopted");
	cr_assert_eq(st.failed, 0);
	cr_assert_eq(fr->window_violations, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, welcome_router_seq_resyncs)
{
	/* The router has accepted up to 500 from us before (we restarted
	 * without our persisted sequence): new messages must not reuse 1..500. */
	struct fake_router *fr = fr_new(64, 19);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	uint64_t seq;

	fr->conn[1].preset_cum = 500;
	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.seq_resyncs, 1);
	cr_assert_eq(st.next_seq, 501);
	cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, &seq), 0);
	cr_assert_eq(seq, 501);
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 99, 10000);
	assert_exactly_once(a, b, 501, 100);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, first_seq_is_used)
{
	struct fake_router *fr = fr_new(64, 23);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn_cfg cfg = { .first_seq = 1000 };
	struct gw_conn *cs[2];

	cs[0] = open_conn(fr, 1, a, &cfg);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 100, 10000);
	assert_exactly_once(a, b, 1000, 100);
	cr_assert_eq(a->results[999], 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, close_frees_everything)
{
	/* Run under ASan/LSan: every path through close must free all. */
	struct fake_router *fr = fr_new(64, 29);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	int i;

	/* Never up. */
	for (i = 0; i < 50; i++)
		cr_assert_eq(gw_conn_close(open_conn(fr, 3, a, NULL)), 0);
	/* Up, with messages still in the outbox (acks withheld). */
	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->hold_acks = true;
	for (i = 0; i < 20; i++)
		cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), 0);
	pump(fr, cs, 2);
	cr_assert_eq(gw_conn_close(cs[0]), 0);
	cr_assert_eq(gw_conn_close(cs[1]), 0);
	fr_pump(fr);
	cr_assert_eq(fr->bye_rx, 6, "three BYEs each");
	cr_assert_eq(a->n_results, 0, "close abandons the outbox without callbacks");
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, external_poll_loop_with_fd)
{
	/* A caller multiplexing with its own poll(): gw_conn_fd plus
	 * gw_conn_next_timeout_ms must be enough to make progress. */
	struct fake_router *fr = fr_new(64, 31);
	struct app *a = app_new();
	struct gw_conn *c = open_conn(fr, 1, a, NULL);
	uint64_t end = now_us() + 3000000;
	int t;

	cr_assert_geq(gw_conn_fd(c), 0);
	t = gw_conn_next_timeout_ms(c);
	cr_assert(t >= 0 && t <= 1200, "HELLO timer armed (1 s +- 20 %%): %d", t);
	while (!gw_conn_is_up(c) && now_us() < end) {
		struct pollfd p[2] = { { .fd = fr->fd, .events = POLLIN },
				       { .fd = gw_conn_fd(c), .events = POLLIN } };

		(void)poll(p, 2, 5);
		fr_pump(fr);
		cr_assert_geq(gw_conn_poll(c, 0), 0);
	}
	cr_assert(gw_conn_is_up(c));
	t = gw_conn_next_timeout_ms(c);
	cr_assert(t > 0 && t <= 1000, "KEEPALIVE timer armed: %d", t);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, keepalive_sent)
{
	struct fake_router *fr = fr_new(64, 37);
	struct app *a = app_new();
	struct gw_conn *c = open_conn(fr, 1, a, NULL);
	uint64_t end;

	wait_up(fr, &c, 1);
	end = now_us() + 1300000; /* keepalive_ms = 1000 */
	while (now_us() < end) {
		cr_assert_geq(gw_conn_poll(c, 100), 0);
		fr_pump(fr);
	}
	cr_assert_geq(fr->keepalive_rx, 1);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, refused_seqs_do_not_stall_the_window)
{
	/* A small window and every other message refused: without closing
	 * the gaps the router's point would stick at the first refusal and
	 * everything after W would be EXPIRED. */
	struct fake_router *fr = fr_new(16, 41);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	uint64_t end = now_us() + 30000000, good = 0, bad = 0, s;
	int r;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	while ((good + bad < 400 || a->n_results < 400) && now_us() < end) {
		while (good + bad < 400) {
			const char *dest = (good + bad) % 2 ? "smtp:x@nowhere.example"
							    : "smtp:u@c2.example";

			r = send_one(cs[0], dest, 1, NULL);
			if (r == -EAGAIN)
				break;
			cr_assert_eq(r, 0);
			if ((good + bad) % 2)
				bad++;
			else
				good++;
		}
		pump(fr, cs, 2);
	}
	cr_assert_eq(a->n_results, 400);
	for (s = 1; s <= 400; s++) {
		cr_assert_eq(a->results[s], 1);
		cr_assert_eq(a->status[s], s % 2 ? 0 : GW_NACK_NO_ROUTE, "seq %lu",
			     (unsigned long)s);
		if (s % 2)
			cr_assert_eq(b->deliveries[s], 1);
	}
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.nacked[GW_NACK_EXPIRED], 0);
	cr_assert_eq(fr->window_violations, 0);
	cr_assert_gt(st.gap_hellos, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, expired_after_ack_is_a_notice)
{
	struct fake_router *fr = fr_new(64, 43);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	uint64_t end;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->expire_seq = 7;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 20, 5000);
	end = now_us() + 50000;
	while (now_us() < end)
		pump(fr, cs, 2);
	assert_exactly_once(a, b, 1, 20); /* on_result(0) once, even for 7 */
	cr_assert_eq(a->n_notices, 1);
	cr_assert_eq(a->notice_seq, 7);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.notices, 1);
	cr_assert_eq(st.failed, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, stale_epoch_data_dropped_unacknowledged)
{
	struct fake_router *fr = fr_new(64, 47);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats sb;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->stale_eg = 5;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 50, 10000);
	assert_exactly_once(a, b, 1, 50);
	gw_conn_get_stats(cs[1], &sb);
	cr_assert_eq(sb.rx_stale_epoch, 5);
	cr_assert_eq(sb.delivered, 50);
	cr_assert_gt(fr->eg_rtx, 0, "dropped frames came back by retransmission");
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, retransmissions_track_losses, .timeout = 120)
{
	/* One lost frame must not cost a window of retransmissions: the
	 * router's ACK reports only 64 seqs above its cumulative point, so
	 * the SDK must neither resend what lies beyond by timeout nor wait
	 * for an RTO per hole. */
	struct fake_router *fr = fr_new(960, 53);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn_cfg cfg = { .rto_us = 50000 };
	struct gw_conn *cs[2];
	struct gw_conn_stats st;

	cs[0] = open_conn(fr, 1, a, &cfg);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	fr->drop_in = 5;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 10000, 60000);
	assert_exactly_once(a, b, 1, 10000);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_gt(fr->dropped_in, 0);
	cr_assert_geq(st.retransmitted, fr->dropped_in - fr->dropped_in / 10,
		      "every loss is resent (%lu drops, %lu retransmissions)",
		      (unsigned long)fr->dropped_in, (unsigned long)st.retransmitted);
	cr_assert_leq(st.retransmitted, 3 * fr->dropped_in + 200,
		      "%lu retransmissions for %lu drops", (unsigned long)st.retransmitted,
		      (unsigned long)fr->dropped_in);
	cr_assert_gt(st.fast_retransmits, 0, "holes are resent before their RTO");
	cr_assert_eq(fr->window_violations, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, busy_shrinks_the_send_window)
{
	struct fake_router *fr = fr_new(256, 59);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats st;

	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.send_window, 256);
	fr->busy_left = 100;
	/* A full window goes out, the router refuses 100 of it. */
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 256, 20000);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_geq(st.window_cuts, 1);
	cr_assert_lt(st.send_window, 256, "BUSY must shrink the send window");
	cr_assert_geq(st.send_window, 32);
	cr_assert_eq(st.window, 256, "the protocol window itself is unchanged");
	/* Acknowledged traffic grows it back. */
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 5000, 30000);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_eq(st.send_window, 256);
	assert_exactly_once(a, b, 1, 5256);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, router_restart_replaces_receive_window)
{
	/* A restarted router numbers egress links in a new space far from the
	 * old one and says where it stands in WELCOME.seq; the receiver must
	 * start its window afresh there, not take new messages for
	 * duplicates (PROTOCOL.md 3.5, 8). */
	const uint64_t old_base = (5ull << 32) + 1, new_base = (2ull << 32) + 1;
	struct fake_router *fr = fr_new(64, 61);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn *cs[2];
	struct gw_conn_stats sa, sb;
	uint64_t end;

	fr_set_eg_first(fr, old_base);
	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, NULL);
	wait_up(fr, cs, 2);
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 100, 10000);
	assert_exactly_once(a, b, 1, 100);

	fr_restart(fr, new_base);
	fr_probe(fr, 1);
	fr_probe(fr, 2);
	end = now_us() + 2000000;
	do
		pump(fr, cs, 2);
	while ((!gw_conn_is_up(cs[0]) || !gw_conn_is_up(cs[1]) || !fr->conn[2].known) &&
	       now_us() < end);
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 100, 10000);
	assert_exactly_once(a, b, 1, 200);
	gw_conn_get_stats(cs[0], &sa);
	gw_conn_get_stats(cs[1], &sb);
	cr_assert_eq(sb.rx_replaced, 1);
	cr_assert_eq(sb.duplicates, 0);
	cr_assert_eq(sa.sessions, 2);
	cr_assert_eq(sa.next_seq, 201, "origin seqs continue across the router restart");
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, keepalive_probe_triggers_hello)
{
	struct fake_router *fr = fr_new(64, 67);
	struct app *a = app_new();
	struct gw_conn *c = open_conn(fr, 1, a, NULL);
	struct gw_conn_stats st;
	uint64_t hellos, end;

	wait_up(fr, &c, 1);
	hellos = fr->hello_rx;
	fr_probe(fr, 1);
	end = now_us() + 100000; /* far less than the 200 ms HELLO interval */
	while (fr->hello_rx == hellos && now_us() < end)
		pump(fr, &c, 1);
	cr_assert_eq(fr->hello_rx, hellos + 1, "the probe is answered with HELLO at once");
	wait_up(fr, &c, 1);
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.session_losses, 1);
	cr_assert_eq(st.loss_probe, 1);
	cr_assert_eq(st.probes_received, 1);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

/* ---- sessions: backoff, failure detection, loss causes ------------------ */

/* min(initial x mult^k, max), the base the jitter applies to. */
static double backoff_base_us(double initial_ms, double mult_pct, double max_ms, unsigned k)
{
	double d = initial_ms * 1000.0;

	while (k-- && d < max_ms * 1000.0)
		d = d * mult_pct / 100.0;
	return d < max_ms * 1000.0 ? d : max_ms * 1000.0;
}

Test(sdk, hello_backoff_follows_the_schedule)
{
	/* 50 ms x2, capped at 400 ms, +-20 %: HELLOs at about 0, 50, 150,
	 * 350, 750, 1150, 1550, 1950 ms. Both what the SDK drew and what the
	 * fake router saw must lie within the bounds. */
	struct fake_router *fr = fr_new(64, 71);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 50, .backoff_mult_pct = 200,
				   .backoff_max_ms = 400, .backoff_jitter_pct = 20 };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	struct gw_conn_stats st;
	uint64_t end = now_us() + 2100000, i;

	fr->no_welcome = true;
	while (now_us() < end)
		pump(fr, &c, 1);
	gw_conn_get_stats(c, &st);
	cr_assert_geq(st.backoffs, 6);
	cr_assert_leq(st.backoffs, 9);
	cr_assert_eq(st.hellos_sent, st.backoffs, "one delay drawn per HELLO");
	cr_assert_eq(fr->hello_rx, st.hellos_sent);
	for (i = 0; i < st.backoffs; i++) {
		const struct gw_conn_backoff *b = &st.backoff[i];
		double base = backoff_base_us(50, 200, 400, (unsigned)i);

		cr_assert_eq(b->attempt, i);
		cr_assert(b->delay_us >= 0.8 * base && b->delay_us <= 1.2 * base,
			  "delay %lu: %lu us outside %.0f +- 20 %%", (unsigned long)i,
			  (unsigned long)b->delay_us, base);
		if (i + 1 < st.backoffs) {
			uint64_t gap = fr->hello_us[i + 1] - fr->hello_us[i];

			cr_assert_geq(b->waited_us, b->delay_us, "the timer never fires early");
			cr_assert_leq(b->waited_us, b->delay_us + 100000, "waited %lu for %lu",
				      (unsigned long)b->waited_us, (unsigned long)b->delay_us);
			cr_assert(gap + 2000 >= b->delay_us && gap <= b->delay_us + 100000,
				  "HELLO gap %lu us for a delay of %lu us", (unsigned long)gap,
				  (unsigned long)b->delay_us);
		} else {
			cr_assert_eq(b->waited_us, 0, "the newest delay is still running");
		}
	}
	cr_assert_eq(gw_conn_is_up(c), 0);
	fr->no_welcome = false;
	wait_up(fr, &c, 1);
	gw_conn_get_stats(c, &st);
	cr_assert_gt(st.reconnect_us_last, 2000000, "open to WELCOME took the whole run");
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, backoff_without_jitter_is_exact)
{
	struct fake_router *fr = fr_new(64, 73);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 20, .backoff_mult_pct = 150,
				   .backoff_max_ms = 100, .backoff_jitter_pct = GW_CONN_NO_JITTER };
	const uint64_t want[] = { 20000, 30000, 45000, 67500, 100000, 100000 };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	struct gw_conn_stats st;
	unsigned i;

	fr->no_welcome = true;
	do {
		pump(fr, &c, 1);
		gw_conn_get_stats(c, &st);
	} while (st.backoffs < 6);
	for (i = 0; i < 6; i++)
		cr_assert_eq(st.backoff[i].delay_us, want[i], "delay %u: %lu", i,
			     (unsigned long)st.backoff[i].delay_us);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, backoff_history_is_a_ring)
{
	struct fake_router *fr = fr_new(64, 79);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 1, .backoff_mult_pct = 100,
				   .backoff_max_ms = 1, .backoff_jitter_pct = GW_CONN_NO_JITTER };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	struct gw_conn_stats st;
	uint64_t i, first;

	fr->no_welcome = true;
	do {
		pump(fr, &c, 1);
		gw_conn_get_stats(c, &st);
	} while (st.backoffs < GW_CONN_BACKOFF_HIST + 5);
	/* The last GW_CONN_BACKOFF_HIST, oldest at backoffs % HIST. */
	first = st.backoffs - GW_CONN_BACKOFF_HIST;
	for (i = 0; i < GW_CONN_BACKOFF_HIST; i++)
		cr_assert_eq(st.backoff[(first + i) % GW_CONN_BACKOFF_HIST].attempt, first + i);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, probe_restarts_the_backoff)
{
	struct fake_router *fr = fr_new(64, 83);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 40, .backoff_mult_pct = 200,
				   .backoff_jitter_pct = GW_CONN_NO_JITTER };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	struct gw_conn_stats st;
	uint64_t hellos, t0;

	fr->no_welcome = true;
	do {
		pump(fr, &c, 1);
		gw_conn_get_stats(c, &st);
	} while (st.backoffs < 4); /* the 4th delay is 320 ms */
	hellos = fr->hello_rx;
	fr_probe(fr, 1);
	t0 = now_us();
	while (fr->hello_rx == hellos && now_us() < t0 + 100000)
		pump(fr, &c, 1);
	cr_assert_eq(fr->hello_rx, hellos + 1, "the probe is answered with HELLO at once");
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.probes_received, 1);
	cr_assert_eq(st.backoffs, 5);
	cr_assert_eq(st.backoff[4].attempt, 0, "the schedule starts again");
	cr_assert_eq(st.backoff[4].delay_us, 40000);
	cr_assert_eq(st.backoff[3].waited_us, 0, "the interrupted delay was not waited");
	fr->no_welcome = false;
	wait_up(fr, &c, 1);
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.session_losses, 0, "never up before: nothing lost");
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, silence_loses_the_session_and_it_heals)
{
	/* keepalive 50 ms x 3: after 150 ms without a frame of the session
	 * the SDK declares it lost, says HELLO with backoff, and comes back
	 * by itself once the link heals; nothing is lost or duplicated. */
	struct fake_router *fr = fr_new(128, 89);
	struct app *a = app_new(), *b = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 30 };
	struct gw_conn *cs[2];
	struct gw_conn_stats sa, sb;
	uint64_t t0, t_lost = 0, end, sent = 0;

	fr->ka_ms = 50;
	fr->ka_mult = 3;
	cs[0] = open_conn(fr, 1, a, &cfg);
	cs[1] = open_conn(fr, 2, b, &cfg);
	wait_up(fr, cs, 2);
	/* Idle but alive: the echoed keepalives keep the session up. */
	end = now_us() + 500000;
	while (now_us() < end)
		pump(fr, cs, 2);
	gw_conn_get_stats(cs[0], &sa);
	cr_assert_eq(sa.session_losses, 0, "an idle session with keepalives stays up");
	cr_assert_geq(sa.keepalives_sent, 5);

	for (sent = 0; sent < 100; sent++)
		cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), 0);
	fr->silent = true;
	t0 = now_us();
	end = t0 + 600000;
	while (now_us() < end) {
		pump(fr, cs, 2);
		if (!t_lost && !gw_conn_is_up(cs[0]) && !gw_conn_is_up(cs[1]))
			t_lost = now_us();
	}
	cr_assert_neq(t_lost, 0, "the sessions were not declared lost");
	cr_assert_leq(t_lost - t0, 150000 + 60000, "lost after %lu us",
		      (unsigned long)(t_lost - t0));
	gw_conn_get_stats(cs[0], &sa);
	cr_assert_eq(sa.loss_timeout, 1);
	cr_assert_eq(sa.session_losses, 1);
	cr_assert_geq(sa.backoffs, 3, "HELLO backs off while the link is cut");
	cr_assert_eq(send_one(cs[0], "smtp:u@c2.example", 1, NULL), -ENOTCONN);

	fr->silent = false;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 900, 30000);
	assert_exactly_once(a, b, 1, 1000);
	gw_conn_get_stats(cs[0], &sa);
	gw_conn_get_stats(cs[1], &sb);
	cr_assert_eq(sa.sessions, 2);
	cr_assert_eq(sb.sessions, 2);
	cr_assert_eq(sb.loss_timeout, 1);
	cr_assert_gt(sa.reconnect_us_last, 0);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
}

Test(sdk, bye_from_router_is_a_loss)
{
	struct fake_router *fr = fr_new(64, 97);
	struct app *a = app_new();
	struct gw_conn_cfg cfg = { .backoff_initial_ms = 50 };
	struct gw_conn *c = open_conn(fr, 1, a, &cfg);
	struct gw_conn_stats st;
	uint64_t hellos = 0, end;

	wait_up(fr, &c, 1);
	hellos = fr->hello_rx;
	fr_bye(fr, 1);
	end = now_us() + 100000;
	while (gw_conn_is_up(c) && now_us() < end)
		pump(fr, &c, 1);
	wait_up(fr, &c, 1);
	gw_conn_get_stats(c, &st);
	cr_assert_eq(st.loss_bye, 1);
	cr_assert_eq(st.session_losses, 1);
	cr_assert_eq(st.sessions, 2);
	cr_assert_gt(fr->hello_rx, hellos);
	gw_conn_close(c);
	fr_free(fr);
	free(a);
}

Test(sdk, backoff_configuration_is_checked)
{
	struct gw_conn_cfg bad[] = {
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_mult_pct = 99 },
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_mult_pct = 1001 },
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_jitter_pct = 101 },
		{ .id = 1, .router_addr = "127.0.0.1", .backoff_max_ms = GW_CONN_BACKOFF_MAX_MS + 1 },
		{ .id = 1, .router_addr = "127.0.0.1", .state_path = "" },
	};
	unsigned i;
	int err;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = 0;
		cr_assert_null(gw_conn_open(&bad[i], &err), "cfg %u accepted", i);
		cr_assert_eq(err, -EINVAL, "cfg %u: %d", i, err);
	}
}

/* ---- persistence -------------------------------------------------------- */

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static char *state_dir_new(void)
{
	char *dir = strdup("/tmp/gwart-sdk-XXXXXX");

	cr_assert_not_null(dir);
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

static void state_dir_free(char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(dir);
}

Test(sdk, origin_seq_survives_clean_restarts)
{
	struct fake_router *fr = fr_new(64, 101);
	struct app *a = app_new(), *b = app_new();
	char *dir = state_dir_new(), path[256];
	struct gw_conn_cfg cfg = { .seq_reserve = 100 };
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	unsigned fds = count_fds();
	int round;

	snprintf(path, sizeof(path), "%s/c1.state", dir);
	cfg.state_path = path;
	cs[1] = open_conn(fr, 2, b, NULL);
	for (round = 0; round < 3; round++) {
		cs[0] = open_conn(fr, 1, a, &cfg);
		gw_conn_get_stats(cs[0], &st);
		cr_assert_eq(st.next_seq, 1 + 250 * (uint64_t)round, "round %d", round);
		cr_assert_eq(st.seq_ceiling, st.next_seq + 100, "the reserve is durable first");
		cr_assert_eq(st.state_clean, round > 0);
		wait_up(fr, cs, 2);
		/* 250 > 100: the reserve moves ahead while sending. */
		run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 250, 20000);
		gw_conn_get_stats(cs[0], &st);
		cr_assert_eq(st.seq_resyncs, 0, "the seq came from the state file");
		cr_assert_geq(st.state_writes, 3);
		cr_assert_eq(st.state_errors, 0);
		cr_assert_eq(gw_conn_close(cs[0]), 0);
	}
	assert_exactly_once(a, b, 1, 750);
	gw_conn_close(cs[1]);
	cr_assert_eq(count_fds(), fds, "the lock and the sockets are closed");
	fr_free(fr);
	free(a);
	free(b);
	state_dir_free(dir);
}

Test(sdk, origin_seq_survives_a_crash_within_the_reserve)
{
	struct fake_router *fr = fr_new(64, 103);
	struct app *a = app_new(), *b = app_new();
	char *dir = state_dir_new(), path[256];
	struct gw_conn_cfg cfg = { .seq_reserve = 100, .first_seq = 1 };
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	int status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/c1.state", dir);
	cfg.state_path = path;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* The child pumps its copy of the fake router, uses 170 seqs
		 * and dies without gw_conn_close(). */
		cs[0] = open_conn(fr, 1, a, &cfg);
		cs[1] = open_conn(fr, 2, b, NULL);
		wait_up(fr, cs, 2);
		run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 170, 20000);
		_exit(a->n_acked == 170 ? 0 : 3);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d", status);
	/* The child's sockets died with it; the fake router forgets them. */
	fr_restart(fr, 1);
	cs[0] = open_conn(fr, 1, a, &cfg);
	cs[1] = open_conn(fr, 2, b, NULL);
	gw_conn_get_stats(cs[0], &st);
	cr_assert_gt(st.next_seq, 170, "a crash never reuses a seq");
	cr_assert_leq(st.next_seq, 171 + 100, "a crash skips at most the reserve: %lu",
		      (unsigned long)st.next_seq);
	cr_assert_eq(st.state_clean, 0);
	wait_up(fr, cs, 2);
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 10, 20000);
	assert_exactly_once(a, b, st.next_seq, 10);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
	state_dir_free(dir);
}

/*
 * A destination delivers 100 messages whose ACKs never reach the router,
 * then restarts: the router retransmits them in the new session. With the
 * state file they are duplicates; without it they are delivered again (the
 * documented limit).
 */
static void receiver_restart(bool persist, uint64_t seed)
{
	struct fake_router *fr = fr_new(960, seed);
	struct app *a = app_new(), *b = app_new();
	char *dir = state_dir_new(), path[256];
	struct gw_conn_cfg cfg = { 0 };
	struct gw_conn *cs[2];
	struct gw_conn_stats st;
	uint64_t s, end;

	snprintf(path, sizeof(path), "%s/c2.state", dir);
	cfg.state_path = persist ? path : NULL;
	cs[0] = open_conn(fr, 1, a, NULL);
	cs[1] = open_conn(fr, 2, b, &cfg);
	wait_up(fr, cs, 2);
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 100, 20000);
	end = now_us() + 5000000;
	while (fr->conn[2].eg_low != fr->conn[2].eg_next && now_us() < end)
		pump(fr, cs, 2); /* the last ACKs still on their way */
	fr->drop_acks_from = 2;
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 100, 20000);
	assert_exactly_once(a, b, 1, 200);
	cr_assert_eq(fr->conn[2].eg_next - fr->conn[2].eg_low, 100, "100 un-acked in custody");
	cr_assert_eq(gw_conn_close(cs[1]), 0);
	fr_pump(fr); /* its last ACKs (dropped) and BYEs */
	fr->drop_acks_from = 0;

	cs[1] = open_conn(fr, 2, b, &cfg);
	gw_conn_get_stats(cs[1], &st);
	cr_assert_eq(st.rx_restored, persist);
	wait_up(fr, cs, 2);
	end = now_us() + 5000000;
	while (fr->conn[2].eg_low != fr->conn[2].eg_next && now_us() < end)
		pump(fr, cs, 2);
	cr_assert_eq(fr->conn[2].eg_low, fr->conn[2].eg_next, "custody drained");
	end = now_us() + 50000; /* the rest of the retransmitted burst */
	while (now_us() < end)
		pump(fr, cs, 2);
	gw_conn_get_stats(cs[1], &st);
	for (s = 101; s <= 200; s++)
		cr_assert_eq(b->deliveries[s], persist ? 1 : 2, "seq %lu", (unsigned long)s);
	cr_assert_eq(st.delivered, persist ? 0 : 100);
	if (persist) /* some, not all: one cumulative ACK may free the rest first */
		cr_assert_gt(st.duplicates, 0);
	/* And new traffic flows on. */
	run_flow(fr, cs, 2, a, b, "smtp:u@c2.example", 100, 20000);
	for (s = 201; s <= 300; s++)
		cr_assert_eq(b->deliveries[s], 1);
	gw_conn_close(cs[0]);
	gw_conn_close(cs[1]);
	fr_free(fr);
	free(a);
	free(b);
	state_dir_free(dir);
}

Test(sdk, receive_window_survives_a_clean_restart)
{
	receiver_restart(true, 107);
}

Test(sdk, without_state_a_restart_redelivers_unacknowledged)
{
	receiver_restart(false, 109);
}

Test(sdk, state_file_is_locked_and_checked)
{
	struct fake_router *fr = fr_new(64, 113);
	struct app *a = app_new();
	char *dir = state_dir_new(), path[256], other[256];
	struct gw_conn_cfg cfg = { 0 };
	struct gw_conn *c, *c2;
	uint8_t junk[64] = { 1, 2, 3 };
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/c.state", dir);
	cfg.state_path = path;
	c = open_conn(fr, 1, a, &cfg);
	/* A second live handle on the same state: refused. */
	cfg.id = 1;
	cfg.router_addr = "127.0.0.1";
	cfg.router_port = fr->port;
	c2 = gw_conn_open(&cfg, &err);
	cr_assert_null(c2);
	cr_assert_eq(err, -EBUSY);
	cr_assert_eq(gw_conn_close(c), 0);
	/* Another connector's state: refused. */
	cfg.id = 2;
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EINVAL);
	/* A damaged one: refused, not silently replaced. */
	snprintf(other, sizeof(other), "%s/bad.state", dir);
	fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	cfg.state_path = other;
	cr_assert_null(gw_conn_open(&cfg, &err));
	cr_assert_eq(err, -EBADMSG);
	/* After all that, the original opens again. */
	cfg.id = 1;
	cfg.state_path = path;
	c = gw_conn_open(&cfg, &err);
	cr_assert_not_null(c, "reopen: %d", err);
	cr_assert_eq(gw_conn_close(c), 0);
	fr_free(fr);
	free(a);
	state_dir_free(dir);
}
