/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libgwart-connector: handle lifetime, the session and the poll loop.
 *
 * Session states: HELLO (say HELLO at once, then after each reconnection
 * backoff delay, until a WELCOME echoes our nonce) -> UP (DATA flows,
 * KEEPALIVE every keepalive_ms) -> back to HELLO on a BYE or a probe from
 * the router, or keepalive_ms x keepalive_mult without a frame of the
 * session from it; the outbox is kept for the next session.
 *
 * Backoff: delay k = min(initial x mult^k, max) +- jitter, the router's own
 * schedule for its probes (the same cp_backoff_us(), control/backoff/), so
 * that whichever side notices first restores the session at the same pace.
 * A probe restarts the schedule: the router is there and wants us now.
 *
 * While UP, a HELLO is also how refused seqs stop holding the window: the
 * router moves its cumulative point to the HELLO's seq - 1 and answers with
 * a WELCOME of the same epoch (PROTOCOL.md 12.1, 13).
 *
 * Protocol v2 (PROTOCOL.md 17, auth.h): every frame is authenticated.
 * HELLO carries our CLOCK_REALTIME in ns as its counter, strictly
 * increasing, and is sealed with hs.c2r. A WELCOME counts only with a valid
 * hs.r2c tag, our nonce, and a counter echoing one of our HELLOs newer than
 * the last answer accepted (answer_ctr < ctr <= hello_ctr): an old WELCOME
 * replayed by anyone is refused. Its epoch and salt give the session keys;
 * the same epoch and salt again (the router kept the session) keep our
 * counters and replay windows, anything else starts them afresh.
 *
 * Every other frame we send carries the session's epoch, the next counter
 * of its lane (KEEPALIVE and BYE lane 0, DATA, ACK and NACK lane 1) and a
 * GMAC tag (gw_sdk_seal, on the way into the tx queue). Every frame from the
 * router is checked before anything acts on it (rx_frame): a session frame
 * must carry our epoch, its counter the lane of its type, a counter the
 * lane's replay window has not seen, and a valid tag; an epoch-0 frame (the
 * router's probe KEEPALIVE, NACK NOT_AUTHORISED answering a HELLO) a valid
 * hs.r2c tag and a fresh counter. Each refusal is counted (rx_stale_epoch,
 * rx_auth_failed, rx_replayed) and changes nothing else, liveness included:
 * only frames that passed are signs of life.
 *
 * Epochs: frames from the router of another epoch than the session's cannot
 * be authenticated (we hold no key for it) and are dropped; v2 routers do
 * not answer a stale epoch with NACK NO_SESSION (they could not
 * authenticate the answer), so NO_SESSION is ignored; a session the router
 * forgot heals by the keepalive timeout or by its probe. ACKs are accepted
 * with the session's epoch even while we are saying HELLO again (custody
 * outlives sessions; we still hold that session's keys). DATA of another
 * epoch is dropped unacknowledged; the router retransmits it in the current
 * session.
 *
 * Failure detection counts only authenticated frames of the current epoch
 * (and the WELCOME that opened it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "clock.h"
#include "sdk_internal.h"

/* Socket buffers: a full send window of small frames in flight plus the
 * router's bursts towards us. Best effort (the kernel caps SO_RCVBUF at
 * rmem_max unless we may force it). */
#define GW_SDK_SOCKBUF (4u << 20) /* bytes */

uint64_t gw_sdk_now_us(void)
{
	return dp_clock_mono_us();
}

void gw_sdk_hdr(const struct gw_conn *c, struct gw_hdr_args *h, uint16_t flags, uint64_t seq)
{
	h->flags = flags;
	h->sender = c->id;
	h->epoch = c->epoch;
	h->seq = seq;
}

uint32_t gw_sdk_cur_epoch(const struct gw_conn *c)
{
	return c->state == GW_SDK_UP ? c->epoch : 0;
}

/* ---- authentication ---------------------------------------------------- */

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The last HELLO counter any handle of this process used. */
static _Atomic uint64_t hello_ctr_last;

/* The next HELLO's counter: our wall clock in ns, max(now, last + 1) over
 * the whole process, so that even if the clock steps back, or a handle of
 * the same id is reopened at once (on any thread), the router (which keeps
 * the last counter it accepted per id) takes each new HELLO as fresh. */
static uint64_t next_hello_ctr(void)
{
	uint64_t last = atomic_load_explicit(&hello_ctr_last, memory_order_relaxed), now, t;

	do {
		now = realtime_ns();
		t = now > last ? now : last + 1;
	} while (!atomic_compare_exchange_weak_explicit(&hello_ctr_last, &last, t,
						      memory_order_relaxed, memory_order_relaxed));
	return t;
}

static void st64be(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

bool gw_sdk_seal(struct gw_conn *c, uint8_t *frame, size_t len)
{
	unsigned type, lane;
	uint32_t epoch;

	if (len < GW_HDR_LEN + GW_TRAILER_LEN)
		return false;
	type = frame[3];
	epoch = (uint32_t)frame[12] << 24 | (uint32_t)frame[13] << 16 | (uint32_t)frame[14] << 8 |
		frame[15];
	if (type == GW_T_HELLO) {
		gw_auth_seal_hs(frame, len, c->hs.c2r);
		return true;
	}
	/* Never a session frame without the keys of its epoch. */
	if (!c->have_session || epoch == 0 || epoch != c->epoch)
		return false;
	lane = gw_type_lane(type);
	if (c->tx_count[lane] >= GW_CTR_COUNT_MAX) {
		/* An IV must never repeat under a key: this instance is done
		 * with the session (practically unreachable: 2^56 frames). */
		c->rekey = true;
		return false;
	}
	st64be(frame + len - GW_TRAILER_LEN, gw_ctr_make(lane, ++c->tx_count[lane]));
	gw_auth_seal_session(frame, len, &c->s_tx);
	return true;
}

/* Forget the session keys (new session, close): wiped, not just dropped. */
static void session_keys_forget(struct gw_conn *c)
{
	gw_gmac_key_wipe(&c->s_tx);
	gw_gmac_key_wipe(&c->s_rx);
	gw_auth_wipe(c->salt, sizeof(c->salt));
	c->have_session = false;
}

/* The keys of (epoch, our nonce, salt): counters and windows from zero. */
static void session_keys_derive(struct gw_conn *c, uint32_t epoch, const uint8_t *salt)
{
	struct gw_session_keys k;
	unsigned i;

	session_keys_forget(c);
	gw_auth_derive_session(c->key, c->id, epoch, c->nonce, salt, &k);
	gw_gmac_key_init(&c->s_tx, k.c2r);
	gw_gmac_key_init(&c->s_rx, k.r2c);
	gw_auth_wipe(&k, sizeof(k));
	memcpy(c->salt, salt, GW_SALT_LEN);
	for (i = 0; i < GW_LANE_COUNT; i++) {
		c->tx_count[i] = 0;
		dp_replay_init(&c->rx_replay[i]);
	}
	c->have_session = true;
}

static uint64_t make_nonce(void)
{
	uint64_t n = 0;

	while (n == 0)
		gw_random_bytes(&n, sizeof(n));
	return n;
}

/* @us +- 20 %: connectors started together do not say HELLO in lockstep. */
static uint64_t jitter(struct gw_conn *c, uint64_t us)
{
	return us - us / 5 + cp_backoff_rng(&c->rng) % (2 * (us / 5) + 1);
}

/* Reconnection delay @attempt (0-based), jitter applied: the arithmetic
 * the router's probes use too (cp_backoff_us(), control/backoff/). */
static uint64_t backoff_us(struct gw_conn *c, uint32_t attempt)
{
	const struct cp_backoff b = {
		.initial_us = c->bo_initial_us,
		.mult_pct = c->bo_mult_pct,
		.jitter_pct = c->bo_jitter_pct,
		.max_us = c->bo_max_us,
	};

	return cp_backoff_us(&b, attempt, &c->rng);
}

/* Draw the delay before the next HELLO of this reconnection and keep it
 * in the stats ring, where the tests compare it with the bounds. */
static uint64_t backoff_next(struct gw_conn *c, uint64_t now)
{
	struct gw_conn_backoff *b;
	uint64_t d = backoff_us(c, c->reconnect_attempts);

	b = &c->st.backoff[c->st.backoffs % GW_CONN_BACKOFF_HIST];
	b->attempt = c->reconnect_attempts;
	b->reserved = 0;
	b->delay_us = d;
	b->waited_us = 0;
	c->st.backoffs++;
	c->bo_open = true;
	c->reconnect_attempts++;
	c->last_hello_us = now;
	return d;
}

/* The newest delay ran out and its HELLO is leaving: record how long the
 * wait really was (the timer never fires early; a late poll shows here). */
static void backoff_waited(struct gw_conn *c, uint64_t now)
{
	if (!c->bo_open || !c->st.backoffs)
		return;
	c->st.backoff[(c->st.backoffs - 1) % GW_CONN_BACKOFF_HIST].waited_us =
		now - c->last_hello_us;
	c->bo_open = false;
}

/* ---- session ----------------------------------------------------------- */

void gw_sdk_send_hello(struct gw_conn *c, uint64_t now)
{
	struct gw_hdr_args h = { .sender = c->id, .epoch = 0 };
	uint8_t *buf = gw_sdk_txq_ctl(c, now);
	size_t len;

	/* Repeated until WELCOME whether or not this one left: on a live
	 * session (closing a gap) at a short fixed interval, the router is
	 * there; otherwise with the reconnection backoff. */
	if (c->state == GW_SDK_UP)
		c->gap_hello_due_us = now + jitter(c, GW_CONN_HELLO_INTERVAL_US);
	else
		c->hello_due_us = now + backoff_next(c, now);
	if (!buf)
		return;
	h.seq = gw_sdk_outbox_hello_seq(c);
	h.ctr = next_hello_ctr();
	len = gw_wire_encode_hello(buf, GW_SDK_CTL_FRAME_MAX, &h, c->nonce, c->rx_window);
	if (!len)
		return;
	/* The newest HELLO bounds the answer counters we accept; the first
	 * one also bounds them from below (PROTOCOL.md 17.8: before any
	 * answer, A = first HELLO ctr - 1), so an answer recorded before this
	 * handle said HELLO (a NOT_AUTHORISED has no nonce) is refused. */
	if (c->hello_ctr == 0)
		c->answer_ctr = h.ctr - 1;
	c->hello_ctr = h.ctr;
	gw_sdk_txq_commit_ctl(c, len);
	c->st.hellos_sent++;
}

static void send_keepalive(struct gw_conn *c, uint64_t now)
{
	struct gw_hdr_args h;
	uint8_t *buf = gw_sdk_txq_ctl(c, now);

	c->ka_due_us = now + (uint64_t)c->keepalive_ms * 1000u;
	c->ka_unanswered++;
	if (!buf)
		return;
	gw_sdk_hdr(c, &h, 0, now);
	gw_sdk_txq_commit_ctl(c, gw_wire_encode_keepalive(buf, GW_SDK_CTL_FRAME_MAX, &h));
	c->st.keepalives_sent++;
}

/* Say HELLO now and start the backoff schedule from its first delay. */
static void hello_restart(struct gw_conn *c, uint64_t now)
{
	c->reconnect_attempts = 0;
	c->bo_open = false;
	gw_sdk_send_hello(c, now);
}

/* Back to HELLO: the session is gone. The outbox stays; it is
 * retransmitted once a WELCOME arrives (gw_sdk_outbox_new_session). */
void gw_sdk_session_lost(struct gw_conn *c, uint64_t now, enum gw_sdk_loss why)
{
	if (c->state != GW_SDK_UP)
		return; /* already saying HELLO */
	c->state = GW_SDK_HELLO;
	if (now > c->up_since_us)
		c->up_accum_us += now - c->up_since_us; /* the session clock stops */
	c->st.session_losses++;
	switch (why) {
	case GW_SDK_LOSS_TIMEOUT:
		c->st.loss_timeout++;
		break;
	case GW_SDK_LOSS_NO_SESSION:
		c->st.loss_no_session++;
		break;
	case GW_SDK_LOSS_BYE:
		c->st.loss_bye++;
		break;
	case GW_SDK_LOSS_PROBE:
		c->st.loss_probe++;
		break;
	case GW_SDK_LOSS_REKEY:
		break; /* session_losses only */
	}
	c->ka_due_us = UINT64_MAX;
	c->gap_hello_pending = false;
	c->lost_at_us = now;
	hello_restart(c, now);
}

/* A WELCOME that passed every check (rx_welcome): adopt it. */
static void on_welcome(struct gw_conn *c, const struct gw_frame *f, uint64_t now)
{
	bool same = c->have_session && f->epoch == c->epoch &&
		    memcmp(f->u.welcome.salt, c->salt, GW_SALT_LEN) == 0;

	c->answer_ctr = f->ctr;
	/* The router kept the session (same epoch and salt, so the same
	 * keys): both sides keep counters and windows. Anything else is a
	 * new session: new keys, counters and windows from zero. */
	if (!same)
		session_keys_derive(c, f->epoch, f->u.welcome.salt);
	gw_sdk_rx_place(c, f->seq);
	if (c->state == GW_SDK_UP && same) {
		/* The session continues: an answer to a repeated or a
		 * gap-closing HELLO. Its router_seq may settle refused seqs. */
		c->gap_hello_pending = false;
		c->last_rx_us = now;
		c->ka_unanswered = 0;
		gw_sdk_outbox_router_seq(c, f->u.welcome.router_seq);
		return;
	}
	c->gap_hello_pending = false;

	c->epoch = f->epoch;
	c->dup_window = f->u.welcome.dup_window;
	c->keepalive_ms = f->u.welcome.keepalive_ms;
	c->keepalive_mult = f->u.welcome.keepalive_mult;
	c->router_max_payload = f->u.welcome.max_payload;
	c->state = GW_SDK_UP;
	c->up_since_us = now; /* the session clock runs again */
	c->st.sessions++;
	c->st.reconnect_us_last = now - c->lost_at_us;
	if (c->st.reconnect_us_last > c->st.reconnect_us_max)
		c->st.reconnect_us_max = c->st.reconnect_us_last;
	c->reconnect_attempts = 0;
	c->bo_open = false;
	c->last_rx_us = now;
	c->ka_unanswered = 0;
	c->hello_due_us = UINT64_MAX;
	c->ka_due_us = c->keepalive_ms ? now + (uint64_t)c->keepalive_ms * 1000u : UINT64_MAX;
	gw_sdk_outbox_new_session(c, f->u.welcome.router_seq);
}

/* ---- receive dispatch -------------------------------------------------- */

/* An answer to one of our HELLOs (WELCOME, NACK NOT_AUTHORISED) must echo
 * a HELLO counter newer than the last answer we took: an old answer,
 * replayed, would otherwise reopen a session the router has closed. */
static bool answer_fresh(const struct gw_conn *c, uint64_t ctr)
{
	return ctr > c->answer_ctr && ctr <= c->hello_ctr;
}

/* A router frame of epoch 0 or a WELCOME (handshake keys). True if it
 * passed and was acted on. */
static bool rx_handshake(struct gw_conn *c, const uint8_t *buf, size_t len,
			 const struct gw_frame *f, uint64_t now)
{
	if (f->type != GW_T_WELCOME && f->type != GW_T_KEEPALIVE && f->type != GW_T_NACK) {
		c->st.rx_ignored++; /* the router sends no other epoch-0 frame */
		return false;
	}
	if (!gw_auth_check_hs(buf, len, c->hs.r2c)) {
		c->st.rx_auth_failed++;
		return false;
	}
	switch (f->type) {
	case GW_T_WELCOME:
		if (f->u.welcome.nonce != c->nonce) {
			c->st.rx_ignored++; /* another instance's (PROTOCOL.md 12.1) */
			return false;
		}
		if (!answer_fresh(c, f->ctr)) {
			c->st.rx_replayed++;
			return false;
		}
		c->st.rx_frames++;
		on_welcome(c, f, now);
		return true;
	case GW_T_KEEPALIVE:
		/* The router's reconnection probe: its clock, strictly
		 * increasing, so a recorded probe cannot make us re-HELLO. */
		if (f->ctr <= c->probe_ctr) {
			c->st.rx_replayed++;
			return false;
		}
		c->probe_ctr = f->ctr;
		c->st.rx_frames++;
		/* Say HELLO at once (PROTOCOL.md 12.3), and from the first
		 * backoff delay again. */
		c->st.probes_received++;
		if (c->state == GW_SDK_UP)
			gw_sdk_session_lost(c, now, GW_SDK_LOSS_PROBE);
		else
			hello_restart(c, now);
		return true;
	default: /* NACK */
		if (f->u.nack.reason != GW_NACK_NOT_AUTHORISED) {
			c->st.rx_ignored++;
			return false;
		}
		if (!answer_fresh(c, f->ctr)) {
			c->st.rx_replayed++;
			return false;
		}
		c->answer_ctr = f->ctr;
		c->st.rx_frames++;
		/* The answer to a HELLO: counted; HELLO goes on with the
		 * backoff (an operator may enable the connector). */
		c->st.nacked[f->u.nack.reason]++;
		return true;
	}
}

static bool rx_frame(struct gw_conn *c, const uint8_t *buf, size_t len, uint64_t now)
{
	struct gw_frame f;
	unsigned lane;
	uint64_t n;

	if (gw_wire_parse(buf, len, &f) != GW_WIRE_OK) {
		c->st.rx_bad++;
		return false;
	}
	/* The socket is connected to the router, so only the router reaches
	 * us; still, only frames that say they are the router's count. */
	if (f.sender != GW_CONN_ID_ROUTER) {
		c->st.rx_ignored++;
		return false;
	}
	if (gw_frame_is_handshake(f.type, f.epoch))
		return rx_handshake(c, buf, len, &f, now);

	/* A session frame: every check before anything changes, in the
	 * order of PROTOCOL.md 17. Only our session's epoch has keys; while
	 * we are saying HELLO again only ACKs of it are still taken. */
	if (!c->have_session || f.epoch != c->epoch ||
	    (c->state != GW_SDK_UP && f.type != GW_T_ACK)) {
		c->st.rx_stale_epoch++;
		return false;
	}
	lane = gw_ctr_lane(f.ctr);
	n = gw_ctr_count(f.ctr);
	if (lane != gw_type_lane(f.type)) {
		c->st.rx_auth_failed++;
		return false;
	}
	if (!dp_replay_check(&c->rx_replay[lane], n)) {
		c->st.rx_replayed++;
		return false;
	}
	if (!gw_auth_check_session(buf, len, &c->s_rx)) {
		c->st.rx_auth_failed++;
		return false;
	}
	dp_replay_commit(&c->rx_replay[lane], n);
	c->st.rx_frames++;

	/* A sign of life of this session (PROTOCOL.md 12.3). */
	if (c->state == GW_SDK_UP) {
		c->last_rx_us = now;
		c->ka_unanswered = 0;
	}
	switch (f.type) {
	case GW_T_DATA:
		gw_sdk_rx_data(c, &f, now);
		break;
	case GW_T_ACK:
		/* Custody is custody whatever the session state. */
		c->st.acks_received++;
		gw_sdk_outbox_ack(c, f.seq, f.u.ack.base, f.u.ack.bitmap, now);
		break;
	case GW_T_NACK:
		/* v2 routers never send NO_SESSION (they could not
		 * authenticate it); should one come anyway, it means
		 * nothing: the timeout or a probe heals a lost session. */
		if (f.u.nack.reason == GW_NACK_NO_SESSION) {
			c->st.nacked[f.u.nack.reason]++;
			c->st.rx_ignored++;
			break;
		}
		gw_sdk_outbox_nack(c, &f, now);
		break;
	case GW_T_KEEPALIVE:
		break; /* the echo of ours: last_rx_us is all it is for */
	case GW_T_BYE:
		gw_sdk_session_lost(c, now, GW_SDK_LOSS_BYE);
		break;
	default:
		c->st.rx_ignored++;
		break;
	}
	return true;
}

/* ---- timers ------------------------------------------------------------ */

/* Silence after which the session is lost; 0 before a WELCOME. */
static uint64_t dead_after_us(const struct gw_conn *c)
{
	return (uint64_t)c->keepalive_ms * c->keepalive_mult * 1000u;
}

/* Whether the silence since last_rx_us counts as the router's. The router
 * answers our KEEPALIVEs (PROTOCOL.md 12.3), so it can only be blamed for
 * the ones we sent: when this process was not running (CPU starvation, a
 * late poll), its keepalives were not sent either, and the silence is its
 * own. On time, keepalive_mult - 1 of them fall inside the dead interval
 * before it ends, so this never delays detection; after a stall it waits
 * for the first keepalives to go out and stay unanswered. */
static bool router_silent(const struct gw_conn *c, uint64_t now)
{
	uint64_t dead = dead_after_us(c);

	return dead && now - c->last_rx_us >= dead && c->ka_unanswered + 1 >= c->keepalive_mult;
}

static uint64_t next_deadline(const struct gw_conn *c, uint64_t now)
{
	uint64_t d = UINT64_MAX, rtx, dead = dead_after_us(c), st;

	if (c->state == GW_SDK_HELLO)
		d = c->hello_due_us;
	if (c->state == GW_SDK_UP) {
		d = c->ka_due_us;
		/* Until enough keepalives went unanswered, the next event is
		 * the next keepalive (already in d). */
		if (dead && c->ka_unanswered + 1 >= c->keepalive_mult && c->last_rx_us + dead < d)
			d = c->last_rx_us + dead;
		if (c->out_abandoned && c->gap_hello_pending && c->gap_hello_due_us < d)
			d = c->gap_hello_due_us;
		rtx = c->rtx_due_us;
		/* Waiting for the kernel to take frames: POLLOUT wakes the
		 * poll, a 1 ms floor keeps external pollers from spinning. */
		if (c->tx_blocked && rtx < now + 1000)
			rtx = now + 1000;
		if (c->out_live && rtx < d)
			d = rtx;
	}
	st = gw_sdk_state_deadline(c);
	if (st < d)
		d = st;
	st = gw_sdk_reasm_deadline(c, now);
	return st < d ? st : d;
}

static void run_timers(struct gw_conn *c, uint64_t now)
{
	/* Failure detection (PROTOCOL.md 12.3): the frames that arrived
	 * before this call were counted already. */
	if (c->state == GW_SDK_UP && router_silent(c, now))
		gw_sdk_session_lost(c, now, GW_SDK_LOSS_TIMEOUT);
	if (c->rekey) {
		/* A lane ran out of counters (gw_sdk_seal): come back as a
		 * new instance, which the router gives a new session. */
		c->rekey = false;
		c->nonce = make_nonce();
		if (c->state == GW_SDK_UP)
			gw_sdk_session_lost(c, now, GW_SDK_LOSS_REKEY);
	}
	if (c->state == GW_SDK_HELLO && now >= c->hello_due_us) {
		backoff_waited(c, now);
		gw_sdk_send_hello(c, now);
	}
	if (c->state == GW_SDK_UP && now >= c->ka_due_us)
		send_keepalive(c, now);
	/* A refused seq at the head holds the window: close the gap now
	 * rather than when the window is full, so that a stream mixing
	 * refused and accepted messages does not stall. One gap HELLO in
	 * flight at a time, repeated after the HELLO interval if its WELCOME
	 * is lost. */
	if (c->state == GW_SDK_UP && (!c->gap_hello_pending || now >= c->gap_hello_due_us) &&
	    gw_sdk_outbox_gap_at_head(c)) {
		gw_sdk_send_hello(c, now);
		c->gap_hello_pending = true;
		c->st.gap_hellos++;
	}
	gw_sdk_outbox_timers(c, now);
	gw_sdk_reasm_timers(c, now);
	gw_sdk_state_tick(c, now);
}

int gw_conn_next_timeout_ms(const struct gw_conn *c)
{
	uint64_t now = gw_sdk_now_us(), d = next_deadline(c, now);

	if (d == UINT64_MAX)
		return -1;
	if (d <= now)
		return 0;
	d = (d - now + 999) / 1000;
	return d > INT32_MAX ? INT32_MAX : (int)d;
}

/* ---- public API -------------------------------------------------------- */

static int parse_ipv4(const char *s, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (!s)
		return 0;
	return inet_pton(AF_INET, s, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static void set_sockbuf(int fd, int force_opt, int opt)
{
	int v = (int)GW_SDK_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* True if @k is all zero: what an unset key looks like. */
static bool key_is_zero(const uint8_t k[GW_KEY_LEN])
{
	uint8_t acc = 0;
	unsigned i;

	for (i = 0; i < GW_KEY_LEN; i++)
		acc |= k[i];
	return acc == 0;
}

struct gw_conn *gw_conn_open(const struct gw_conn_cfg *cfg, int *err)
{
	struct sockaddr_in router, local;
	struct gw_conn *c;
	uint64_t now;
	int ret, pmtu;

	if (!cfg || cfg->id == GW_CONN_ID_ROUTER || !cfg->router_addr ||
	    cfg->max_inflight > GW_CONN_MAX_INFLIGHT || cfg->max_payload > GW_PAYLOAD_MAX ||
	    (cfg->backoff_mult_pct && (cfg->backoff_mult_pct < 100 ||
				       cfg->backoff_mult_pct > 1000)) ||
	    (cfg->backoff_jitter_pct > 100 && cfg->backoff_jitter_pct != GW_CONN_NO_JITTER) ||
	    cfg->backoff_initial_ms > GW_CONN_BACKOFF_MAX_MS ||
	    cfg->backoff_max_ms > GW_CONN_BACKOFF_MAX_MS || cfg->max_message > GW_MSG_MAX ||
	    cfg->rx_groups_max > GW_CONN_RX_GROUPS_MAX ||
	    (cfg->rx_bytes_max &&
	     cfg->rx_bytes_max < (cfg->max_message ? cfg->max_message : GW_MSG_DEFAULT_MAX))) {
		ret = -EINVAL;
		goto out;
	}
	/* Deny by default: every connector proves itself with its secret. */
	if (key_is_zero(cfg->key)) {
		ret = -EINVAL;
		goto out;
	}
	/* libsodium: -ENOTSUP without AES-NI (the session tags need it). */
	ret = gw_auth_init();
	if (ret < 0)
		goto out;
	if (parse_ipv4(cfg->router_addr, cfg->router_port ? cfg->router_port : GW_WIRE_UDP_PORT,
		       &router) < 0 ||
	    parse_ipv4(cfg->bind_addr, cfg->bind_port, &local) < 0) {
		ret = -EINVAL;
		goto out;
	}

	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out;
	}
	c->fd = -1;
	c->lock_fd = -1;
	c->id = cfg->id;
	c->state = GW_SDK_HELLO;
	c->nonce = make_nonce();
	c->rng = c->nonce;
	memcpy(c->key, cfg->key, GW_KEY_LEN);
	gw_auth_derive_hs(c->key, c->id, &c->hs);
	c->rx_window = cfg->rx_window && cfg->rx_window <= GW_CONN_RX_WINDOW_MAX
			       ? cfg->rx_window
			       : GW_CONN_RX_WINDOW_MAX;
	c->rto_us = cfg->rto_us ? cfg->rto_us : GW_CONN_DEF_RTO_US;
	if (c->rto_us > GW_CONN_MAX_RTO_US)
		c->rto_us = GW_CONN_MAX_RTO_US;
	c->max_inflight = cfg->max_inflight ? cfg->max_inflight : GW_CONN_DEF_MAX_INFLIGHT;
	c->max_payload = cfg->max_payload ? cfg->max_payload : GW_PAYLOAD_MAX;
	c->router_max_payload = GW_PAYLOAD_MAX;
	c->on_deliver = cfg->on_deliver;
	c->on_result = cfg->on_result;
	c->on_notice = cfg->on_notice;
	c->on_message = cfg->on_message;
	c->on_rx_notice = cfg->on_rx_notice;
	c->max_message = cfg->max_message ? cfg->max_message : GW_MSG_DEFAULT_MAX;
	c->arg = cfg->arg;
	c->next_seq = cfg->first_seq ? cfg->first_seq : 1;
	c->alloc_seq = c->next_seq;
	c->hello_due_us = 0;
	c->gap_hello_due_us = 0;
	c->ka_due_us = UINT64_MAX;
	c->bo_initial_us = (uint64_t)(cfg->backoff_initial_ms ? cfg->backoff_initial_ms
							      : GW_CONN_DEF_BACKOFF_INITIAL_MS) *
			   1000u;
	c->bo_max_us = (uint64_t)(cfg->backoff_max_ms ? cfg->backoff_max_ms
						      : GW_CONN_DEF_BACKOFF_MAX_MS) *
		       1000u;
	c->bo_mult_pct = cfg->backoff_mult_pct ? cfg->backoff_mult_pct
					       : GW_CONN_DEF_BACKOFF_MULT_PCT;
	c->bo_jitter_pct = cfg->backoff_jitter_pct == GW_CONN_NO_JITTER ? 0
			   : cfg->backoff_jitter_pct   ? cfg->backoff_jitter_pct
						       : GW_CONN_DEF_BACKOFF_JITTER_PCT;
	/* Nothing seen yet; rx_advance() joins the router's egress sequence
	 * wherever it stands (unless the state file says where it stood). */
	dp_dedup_init(&c->rx_dedup, 0);

	/* Before the outbox: the state file may move next_seq. */
	ret = gw_sdk_state_open(c, cfg);
	if (ret < 0)
		goto err_free;
	ret = gw_sdk_io_init(c);
	if (ret < 0)
		goto err_free;
	ret = gw_sdk_outbox_init(c);
	if (ret < 0)
		goto err_free;
	ret = gw_sdk_group_init(c);
	if (ret < 0)
		goto err_free;
	ret = gw_sdk_reasm_init(c, cfg);
	if (ret < 0)
		goto err_free;

	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	set_sockbuf(c->fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_sockbuf(c->fd, SO_SNDBUFFORCE, SO_SNDBUF);
	/* Frames are never fragmented (PROTOCOL.md 1): DF on every datagram. */
	pmtu = IP_PMTUDISC_DO;
	if (setsockopt(c->fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
		ret = -errno;
		goto err_close;
	}
	if ((cfg->bind_addr || cfg->bind_port) &&
	    bind(c->fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		ret = -errno;
		goto err_close;
	}
	if (connect(c->fd, (struct sockaddr *)&router, sizeof(router)) < 0) {
		ret = -errno;
		goto err_close;
	}
	/* Last: it consumes PATH.groups, so nothing may fail after it (the
	 * groups would be lost with the handle). */
	ret = gw_sdk_rxsave_restore(c);
	if (ret < 0)
		goto err_close;

	now = gw_sdk_now_us();
	c->lost_at_us = now;
	hello_restart(c, now);
	gw_sdk_txq_flush(c, now); /* a refused first HELLO is repeated */
	if (err)
		*err = 0;
	return c;

err_close:
	close(c->fd);
err_free:
	gw_sdk_reasm_free(c);
	gw_sdk_group_free(c);
	gw_sdk_outbox_free(c);
	gw_sdk_io_free(c);
	gw_sdk_state_free(c);
	gw_auth_wipe(c, sizeof(*c)); /* the secret and everything derived */
	free(c);
out:
	if (err)
		*err = ret;
	return NULL;
}

int gw_conn_flush(struct gw_conn *c)
{
	if (!c)
		return -EINVAL;
	return gw_sdk_txq_flush(c, gw_sdk_now_us());
}

int gw_conn_poll(struct gw_conn *c, int timeout_ms)
{
	uint64_t now, d, wait_us;
	int frames = 0, ret = 0, b, i, n;

	if (!c)
		return -EINVAL;
	now = gw_sdk_now_us();
	if (c->txq_n)
		gw_sdk_txq_flush(c, now);

	if (timeout_ms != 0) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct timespec ts;

		wait_us = timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000u;
		d = next_deadline(c, now);
		if (d != UINT64_MAX && (d > now ? d - now : 0) < wait_us)
			wait_us = d > now ? d - now : 0;
		if (c->tx_blocked)
			pfd.events |= POLLOUT;
		ts.tv_sec = (time_t)(wait_us / 1000000u);
		ts.tv_nsec = (long)(wait_us % 1000000u) * 1000;
		if (ppoll(&pfd, 1, wait_us == UINT64_MAX ? NULL : &ts, NULL) > 0 &&
		    (pfd.revents & POLLOUT))
			c->tx_blocked = false;
	}

	for (b = 0; b < GW_SDK_RX_BATCHES_PER_POLL; b++) {
		n = gw_sdk_rx_batch(c);
		if (n <= 0) {
			ret = n;
			break;
		}
		now = gw_sdk_now_us();
		for (i = 0; i < n; i++) {
			const struct msghdr *m = &c->rx_msgs[i].msg_hdr;

			if (m->msg_flags & MSG_TRUNC) {
				c->st.rx_bad++; /* larger than any valid frame */
				continue;
			}
			frames += rx_frame(c, m->msg_iov->iov_base, c->rx_msgs[i].msg_len, now);
		}
		gw_sdk_rx_batch_end(c, now);
		if (n < (int)GW_CONN_BATCH)
			break;
	}

	now = gw_sdk_now_us();
	run_timers(c, now);
	if (c->txq_n)
		gw_sdk_txq_flush(c, now);
	return ret < 0 ? ret : frames;
}

int gw_conn_fd(const struct gw_conn *c)
{
	return c ? c->fd : -EINVAL;
}

int gw_conn_is_up(const struct gw_conn *c)
{
	return c && c->state == GW_SDK_UP;
}

void gw_conn_get_stats(const struct gw_conn *c, struct gw_conn_stats *st)
{
	if (!c || !st)
		return;
	*st = c->st;
	st->next_seq = c->alloc_seq;
	st->inflight = c->out_live;
	st->abandoned = c->out_abandoned;
	st->window = gw_sdk_window(c);
	st->send_window = gw_sdk_send_window(c);
	st->srtt_us = c->rtt.srtt_us;
	st->epoch = c->epoch;
	st->up = c->state == GW_SDK_UP;
	st->seq_ceiling = c->seq_ceiling;
	st->rx_bytes_open = c->rx_bytes;
	st->rx_groups_open = c->rxg_n;
	st->streaming = c->stream.on;
	st->stream_left = c->stream.on ? c->stream.count - c->stream.next : 0;
}

/* Queue one BYE (current epoch) and flush it. */
static void send_bye(struct gw_conn *c, uint64_t now)
{
	struct gw_hdr_args h;
	uint8_t *buf = gw_sdk_txq_ctl(c, now);

	if (!buf)
		return;
	gw_sdk_hdr(c, &h, 0, 0);
	gw_sdk_txq_commit_ctl(c, gw_wire_encode_bye(buf, GW_SDK_CTL_FRAME_MAX, &h, 0));
	gw_sdk_txq_flush(c, now);
}

int gw_conn_close(struct gw_conn *c)
{
	const struct timespec gap = { .tv_nsec = 1000000 }; /* 1 ms between BYEs */
	uint32_t i, k = 0;
	int ret = 0, r;

	if (!c)
		return 0;
	/* Queued DATA is abandoned with the rest of the outbox; drop it so
	 * that only control frames (and the BYEs) leave. */
	for (i = 0; i < c->txq_n; i++)
		if (c->txq[i].slot < 0)
			c->txq[k++] = c->txq[i];
	c->txq_n = k;
	if (c->state == GW_SDK_UP) {
		/* Tell the router at once rather than leave it to notice by
		 * missed keepalives. BYE is not acknowledged: send it three
		 * times, a little apart (PROTOCOL.md 12.4). */
		for (i = 0; i < 3; i++) {
			if (i)
				nanosleep(&gap, NULL);
			send_bye(c, gw_sdk_now_us());
		}
	} else if (c->txq_n) {
		gw_sdk_txq_flush(c, gw_sdk_now_us());
	}
	c->state = GW_SDK_CLOSED;
	/* After the last ACKs left: the window written is what they say.
	 * Groups in reassembly first: the window marks their chunks. */
	ret = gw_sdk_rxsave_write(c);
	r = gw_sdk_state_close(c);
	if (ret == 0)
		ret = r;
	if (close(c->fd) < 0 && ret == 0)
		ret = -errno;
	gw_sdk_reasm_free(c);
	gw_sdk_group_free(c);
	gw_sdk_outbox_free(c);
	gw_sdk_io_free(c);
	gw_sdk_state_free(c);
	gw_auth_wipe(c, sizeof(*c)); /* the secret and everything derived */
	free(c);
	return ret;
}
