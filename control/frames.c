/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session frames (see frames.h): HELLO / KEEPALIVE / BYE in, WELCOME /
 * NACK / KEEPALIVE / BYE / probes out. This thread answers on a TX queue of
 * its own (rt->ctl_txq), so it never shares a queue with a worker, and
 * changes what workers see only by republishing connector objects under RCU.
 *
 * Protocol version 2 (PROTOCOL.md section 17): nothing here changes state
 * for a frame that has not proved itself. A HELLO needs a valid tag with
 * the connector's hs.c2r and a ctr above the newest accepted; a KEEPALIVE
 * or BYE needs the current epoch, the session's address, lane 0, a fresh
 * counter and a valid tag with s.c2r. A HELLO whose source the
 * connector's "allow_from" refuses is dropped after its tag (keys.h).
 * Each refusal is a counted drop and costs at most one BLAKE2b or one
 * GMAC; none is answered (no NACK
 * NO_SESSION in v2: an answer for an epoch we do not know could not be
 * authenticated). Answers go to the session's address, never to a frame's
 * source, so a spoofed source cannot redirect them.
 */
#include <errno.h>
#include <string.h>

#include <arpa/inet.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "capture.h"
#include "conn.h"
#include "cp.h"
#include "frames.h"
#include "log.h"
#include "pkt.h"
#include "router_api.h"
#include "tuning.h"

#define CTL_BURST 32

/* Transmit a control frame on port index @p: on the control thread's own TX
 * queue where the port has one, else through worker @w's control ring (the
 * connector's owner, so frames to one connector stay in order). */
static void ctl_tx(struct cp_ctx *cp, unsigned w, unsigned p, struct rte_mbuf *m)
{
	struct dp_router *rt = cp->rt;

	dp_pkt_finish_udp_tx(m, &rt->ports[p]);
	if (cp->tx_hook != NULL) {
		cp->tx_hook(cp->tx_hook_arg, p, m);
		return;
	}
	if (rt->ports[p].ctl_txq >= 0) {
		/* A queue of its own: no worker involved. */
		cp_capture_ctl_tx(cp, p, m);
		if (rte_eth_tx_burst(rt->ports[p].port_id, (uint16_t)rt->ports[p].ctl_txq, &m, 1) !=
		    1) {
			cp->stats.tx_failed++;
			rte_pktmbuf_free(m);
		}
		return;
	}
	m->port = (uint16_t)p;
	if (rte_ring_sp_enqueue(rt->ctl_tx[w % rt->n_workers], m) != 0) {
		cp->stats.tx_failed++;
		rte_pktmbuf_free(m);
	}
}

/* Where a session's frames go: the address its last valid HELLO came from. */
static struct rte_mbuf *alloc_to_conn(struct cp_ctx *cp, const struct dp_conn *c, uint16_t len,
				      uint8_t **pl)
{
	struct dp_router *rt = cp->rt;
	struct rte_mbuf *m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac,
					      c->ip_be, c->udp_be, len, pl);

	if (m == NULL)
		cp->stats.tx_failed++;
	return m;
}

/* WELCOME: epoch and salt of the session, trailer ctr = the HELLO's ctr
 * (the connector's proof that this answers its newest HELLO), sealed with
 * hs.r2c. */
static void send_welcome(struct cp_ctx *cp, const struct dp_conn *c, const struct cp_auth *a,
			 uint64_t hello_ctr)
{
	struct dp_router *rt = cp->rt;
	const struct dp_tunables *tun = rt->tun;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct dp_conn_snap snap;
	uint64_t cum;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .ctr = hello_ctr};

	/* header.seq tells the connector where the egress link stands: every
	 * link seq up to it has been acknowledged. The read races with the
	 * owner worker but the value only grows. */
	if (dp_conn_snapshot(rt, c->id, &snap) != 0)
		return;
	cum = snap.rx_cum;
	h.seq = snap.tx_acked;
	m = alloc_to_conn(cp, c, GW_WELCOME_LEN, &pl);
	if (m == NULL)
		return;
	/* The owner moves the window to HELLO.seq - 1 on the session's first
	 * DATA; answer with where it will stand. */
	if (c->hello_seq > 1 && c->hello_seq - 1 > cum)
		cum = c->hello_seq - 1;
	gw_wire_encode_welcome(pl, GW_WELCOME_LEN, &h, c->nonce, cum, DP_DEDUP_WINDOW,
			       tun->keepalive_ms, tun->keepalive_mult, dp_router_max_payload(rt),
			       c->salt);
	gw_auth_seal_hs(pl, GW_WELCOME_LEN, a->hs.r2c);
	cp->stats.welcomes++;
	ctl_tx(cp, c->owner, c->port, m);
}

/* NACK NOT_AUTHORISED to a HELLO that proved itself from a disabled
 * connector: epoch 0, ctr = the HELLO's, sealed hs.r2c (the echo rule of a
 * WELCOME), to where the HELLO came from (no session holds an address). */
static void send_not_authorised(struct cp_ctx *cp, unsigned p, const struct dp_pkt_src *src,
				const struct gw_frame *f, const struct cp_auth *a)
{
	struct dp_router *rt = cp->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = f->seq,
				.ctr = f->ctr};

	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[p], rt->udp_be, &src->mac, src->ip_be,
			     src->udp_be, GW_NACK_LEN, &pl);
	if (m == NULL) {
		cp->stats.tx_failed++;
		return;
	}
	gw_wire_encode_nack(pl, GW_NACK_LEN, &h, f->seq, GW_NACK_NOT_AUTHORISED, 0);
	gw_auth_seal_hs(pl, GW_NACK_LEN, a->hs.r2c);
	ctl_tx(cp, 0, p, m);
}

/* A lane-0 frame of the current session (KEEPALIVE answer, router BYE):
 * to the session's address, ctr = (lane 0, ++n), sealed with s.r2c. */
static int send_session(struct cp_ctx *cp, const struct dp_conn *c, struct cp_auth *a,
			unsigned type, uint64_t seq, uint32_t reason)
{
	size_t len = type == GW_T_BYE ? GW_BYE_LEN : GW_KEEPALIVE_LEN;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch, .seq = seq};
	struct rte_mbuf *m;
	uint8_t *pl;

	if (a->epoch == 0 || a->epoch != c->epoch)
		return -ENOENT;
	h.ctr = cp_auth_next_ctr(a);
	if (h.ctr == 0) {
		/* 2^56 frames in one session: never reuse an IV. */
		cp->stats.tx_failed++;
		return -ERANGE;
	}
	m = alloc_to_conn(cp, c, (uint16_t)len, &pl);
	if (m == NULL)
		return -ENOMEM;
	if (type == GW_T_BYE)
		gw_wire_encode_bye(pl, len, &h, reason);
	else
		gw_wire_encode_keepalive(pl, len, &h);
	gw_auth_seal_session(pl, len, &a->tx);
	ctl_tx(cp, c->owner, c->port, m);
	return 0;
}

int cp_frames_bye(struct cp_ctx *cp, uint32_t id, uint32_t reason)
{
	const struct dp_conn *c = dp_conn_peek(cp->rt, id);
	struct cp_auth *a = c != NULL ? cp->auth[id] : NULL;
	int rc;

	if (a == NULL || !c->up)
		return -ENOENT;
	/* seq: a BYE counts nothing; 0 like the SDK's. */
	rc = send_session(cp, c, a, GW_T_BYE, 0, reason);
	if (rc == 0)
		cp->stats.byes_sent++;
	return rc;
}

/* A probe: KEEPALIVE with epoch 0 to the connector's last address means
 * "the router has no session for you: say HELLO" (PROTOCOL.md 12.3). Its
 * ctr is CLOCK_REALTIME ns, strictly increasing in this process, so the
 * connector can refuse a replayed probe; sealed with hs.r2c. */
static int ops_probe(void *arg, uint32_t id)
{
	struct cp_ctx *cp = arg;
	const struct dp_conn *c = dp_conn_peek(cp->rt, id);
	struct cp_auth *a = c != NULL ? cp->auth[id] : NULL;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = cp_now_us()};

	if (c == NULL || a == NULL || c->ip_be == 0)
		return -ENOENT;
	m = alloc_to_conn(cp, c, GW_KEEPALIVE_LEN, &pl);
	if (m == NULL)
		return 0;
	h.ctr = cp_auth_probe_ctr(&cp->probe_ctr);
	gw_wire_encode_keepalive(pl, GW_KEEPALIVE_LEN, &h);
	gw_auth_seal_hs(pl, GW_KEEPALIVE_LEN, a->hs.r2c);
	cp->stats.probes++;
	ctl_tx(cp, c->owner, c->port, m);
	return 0;
}

static void ops_down(void *arg, uint32_t id)
{
	struct cp_ctx *cp = arg;

	dp_conn_session_down(cp->rt, id);
}

static uint32_t ops_custody(void *arg, uint32_t id)
{
	struct cp_ctx *cp = arg;
	struct dp_conn_snap snap;

	return dp_conn_snapshot(cp->rt, id, &snap) == 0 ? snap.held : 0;
}

const struct cp_session_ops cp_frames_session_ops = {
	.down = ops_down,
	.probe = ops_probe,
	.custody = ops_custody,
};

/* A new session's epoch: random, non-zero, not the current one (so no
 * frame of the old session is taken for the new one). */
static uint32_t new_epoch(uint32_t cur)
{
	uint32_t e = 0;
	unsigned i;

	/* Bounded: a 32-bit draw is 0 or @cur once in 2^31. */
	for (i = 0; i < 8; i++) {
		gw_random_bytes(&e, sizeof(e));
		if (e != 0 && e != cur)
			return e;
	}
	return cur + 1 == 0 ? 1 : cur + 1;
}

static int same_addr(const struct dp_conn *c, const struct dp_pkt_src *src)
{
	return c->ip_be == src->ip_be && c->udp_be == src->udp_be;
}

/* A valid, fresh HELLO opens a new session: new epoch and salt, keys derived
 * from them, handed to the dataplane (lane 1) and kept here (lane 0). */
static int open_session(struct cp_ctx *cp, const struct dp_conn *c, struct cp_auth *a,
			struct dp_conn_session *s, uint64_t now)
{
	uint32_t epoch = 0;
	int rc;

	s->epoch = new_epoch(c->epoch);
	gw_random_bytes(s->salt, sizeof(s->salt));
	gw_auth_derive_session(a->secret, c->id, s->epoch, s->nonce, s->salt, &s->keys);
	rc = dp_conn_session_up(cp->rt, c->id, s, &epoch);
	if (rc == 0)
		/* The dataplane's epoch is the one the frames carry. */
		cp_auth_session_set(a, epoch, &s->keys);
	/* Our copy of the raw keys is no longer needed either way. */
	gw_auth_wipe(&s->keys, sizeof(s->keys));
	if (rc != 0)
		return rc;
	cp_sess_open(&cp->sess, c->id, epoch, now);
	return 0;
}

/* A proved HELLO from outside allow_from: worth a line (a moved host, or
 * a stolen key), at most one per log_drop_interval_s for all connectors. */
static void addr_refused_line(struct cp_ctx *cp, const struct dp_conn *c,
			      const struct dp_pkt_src *src, uint64_t now)
{
	uint64_t supp = 0;
	char ip[INET_ADDRSTRLEN] = "?", tail[64] = "";

	if (!cp_log_enabled(CP_LOG_SESSION, CP_LOG_WARNING) ||
	    !cp_ratelimit_allow(&cp->logwatch.addr_rl, now,
				(uint64_t)cp->set.log_drop_interval_s * 1000000u, 1, &supp))
		return;
	inet_ntop(AF_INET, &src->ip_be, ip, sizeof(ip));
	if (supp != 0)
		snprintf(tail, sizeof(tail), "; %llu similar line%s suppressed",
			 (unsigned long long)supp, supp == 1 ? "" : "s");
	cp_log(CP_LOG_SESSION, CP_LOG_WARNING,
	       "connector %u (%s): HELLO with a valid tag from %s refused: not in its allow_from "
	       "(add the address to allow_from if the connector moved there, else its key may "
	       "be known elsewhere: replace it; gwartctl stats: hello_addr_refused)%s",
	       c->id, c->name, ip, tail);
}

static void on_hello(struct cp_ctx *cp, unsigned p, const struct gw_frame *f, const void *frame,
		     const struct dp_pkt_src *src)
{
	uint64_t now = cp_now_us();
	const struct dp_conn *c = dp_conn_peek(cp->rt, f->sender);
	struct cp_auth *a = c != NULL ? cp->auth[f->sender] : NULL;
	struct dp_conn_session s = {
		.port = (uint16_t)p,
		.mac = src->mac,
		.ip_be = src->ip_be,
		.udp_be = src->udp_be,
		.rx_window = f->u.hello.rx_window,
		.nonce = f->u.hello.nonce,
		.hello_seq = f->seq,
	};

	cp->stats.hellos++;
	if (c == NULL || a == NULL) {
		cp->stats.unknown_conn++;
		cp->stats.hello_unknown++;
		return;
	}
	/* The proof, then its freshness: one BLAKE2b, nothing changed on
	 * failure (a flood of forgeries or of one replayed HELLO from many
	 * ports opens nothing and moves nothing). */
	switch (cp_auth_hello(a, frame, f->length, f->ctr, cp_allow_match(&a->allow, src->ip_be))) {
	case CP_AUTH_OK:
		break;
	case CP_AUTH_FAILED:
		cp->stats.hello_auth_failed++;
		return;
	case CP_AUTH_ADDR_REFUSED:
		/* allow_from: the tag first (cp_auth_hello), so a forged
		 * source with a bad tag counts as hello_auth_failed and only
		 * a proved HELLO from a wrong place counts here; no WELCOME,
		 * no NACK (an answer would go to the refused address). */
		cp->stats.hello_addr_refused++;
		addr_refused_line(cp, c, src, now);
		return;
	default:
		cp->stats.hello_replayed++;
		return;
	}
	if (!c->enabled) {
		cp->stats.refused++;
		send_not_authorised(cp, p, src, f, a);
		return;
	}
	if (s.rx_window == 0) {
		cp->stats.bad_frames++;
		return;
	}
	if (s.rx_window > DP_DEDUP_WINDOW)
		s.rx_window = DP_DEDUP_WINDOW;
	/* A repeated HELLO from the same instance and address (our WELCOME
	 * was lost) gets the same session again: same epoch and salt, so the
	 * same keys, counters and windows on both sides. */
	if (c->up && c->nonce == s.nonce && same_addr(c, src) && a->epoch == c->epoch) {
		if (dp_conn_session_refresh(cp->rt, f->sender, s.hello_seq) != 0) {
			cp->stats.tx_failed++;
			return;
		}
		cp_sess_rx(&cp->sess, f->sender, now);
	} else {
		if (c->up && !same_addr(c, src)) {
			/* Only a valid, fresh proof gets here. */
			cp->stats.sessions_moved++;
			a->st.sessions_moved++;
		}
		if (open_session(cp, c, a, &s, now) != 0) {
			cp->stats.tx_failed++;
			return;
		}
	}
	c = dp_conn_peek(cp->rt, f->sender);
	send_welcome(cp, c, a, f->ctr);
}

/* The checks every KEEPALIVE and BYE passes, in PROTOCOL.md 17.6's order;
 * false: dropped and counted, nothing changed. A KEEPALIVE needs a live
 * session; a BYE may also be a later copy of the one that closed the
 * session (its keys are kept until the next session), checked alike. */
static bool session_frame_ok(struct cp_ctx *cp, const struct dp_conn *c, struct cp_auth *a,
			     const struct gw_frame *f, const void *frame,
			     const struct dp_pkt_src *src)
{
	struct cp_session *ss = &cp->sess.s[c->id];

	if (f->epoch == 0 || a->epoch == 0 || f->epoch != a->epoch || f->epoch != c->epoch ||
	    (!c->up && f->type != GW_T_BYE)) {
		cp->stats.stale_epoch++;
		a->st.stale++;
		ss->stale++;
		return false;
	}
	if (!same_addr(c, src)) {
		cp->stats.auth_failed++;
		a->st.auth_failed++;
		return false;
	}
	switch (cp_auth_session_frame(a, frame, f->length, f->ctr)) {
	case CP_AUTH_OK:
		return true;
	case CP_AUTH_FAILED:
		cp->stats.auth_failed++;
		return false;
	default:
		cp->stats.replayed++;
		return false;
	}
}

static void on_keepalive(struct cp_ctx *cp, const struct gw_frame *f, const void *frame,
			 const struct dp_pkt_src *src)
{
	const struct dp_conn *c = dp_conn_peek(cp->rt, f->sender);
	struct cp_auth *a = c != NULL ? cp->auth[f->sender] : NULL;

	cp->stats.keepalives++;
	if (c == NULL || a == NULL) {
		cp->stats.unknown_conn++;
		return;
	}
	/* A KEEPALIVE of a closed session is stale there: it will time out
	 * or take our probe; it keeps nothing alive. */
	if (!session_frame_ok(cp, c, a, f, frame, src))
		return;
	/* Only a KEEPALIVE that passed every check is liveness. */
	cp_sess_rx(&cp->sess, f->sender, cp_now_us());
	send_session(cp, c, a, GW_T_KEEPALIVE, f->seq, 0);
}

static void on_bye(struct cp_ctx *cp, const struct gw_frame *f, const void *frame,
		   const struct dp_pkt_src *src)
{
	const struct dp_conn *c = dp_conn_peek(cp->rt, f->sender);
	struct cp_auth *a = c != NULL ? cp->auth[f->sender] : NULL;

	cp->stats.byes++;
	if (c == NULL || a == NULL) {
		cp->stats.unknown_conn++;
		return;
	}
	if (!session_frame_ok(cp, c, a, f, frame, src))
		return;
	if (!c->up) {
		/* A further copy of the BYE that closed this session
		 * (connectors send it more than once): not stale. */
		cp->stats.byes_repeated++;
		return;
	}
	cp_sess_close(&cp->sess, f->sender, CP_CLOSE_BYE, cp_now_us());
}

void cp_frames_input(struct cp_ctx *cp, unsigned p, const struct dp_pkt_src *src,
		     const void *frame, size_t len)
{
	struct gw_frame f;

	/* Workers validated L2-L4 and the frame; parse again for the view. */
	if (gw_wire_parse(frame, len, &f) != GW_WIRE_OK) {
		cp->stats.bad_frames++;
		return;
	}
	switch (f.type) {
	case GW_T_HELLO:
		on_hello(cp, p, &f, frame, src);
		return;
	case GW_T_KEEPALIVE:
		on_keepalive(cp, &f, frame, src);
		return;
	case GW_T_BYE:
		on_bye(cp, &f, frame, src);
		return;
	default:
		cp->stats.bad_frames++;
		return;
	}
}

static void on_session_frame(struct cp_ctx *cp, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ih =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(ih + 1);
	struct dp_pkt_src src = {.ip_be = ih->src_addr, .udp_be = uh->src_port};

	rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, &src.mac);
	cp_frames_input(cp, dp_port_index(cp->rt, m->port), &src, dp_pkt_gw(m),
			rte_be_to_cpu_16(uh->dgram_len) - 8);
}

/* Up to @max frames from @r, each handled and freed; how many. */
static unsigned drain_ring(struct cp_ctx *cp, struct rte_ring *r, unsigned max)
{
	struct rte_mbuf *ms[CTL_BURST];
	unsigned n, i, total = 0;

	do {
		unsigned want = max - total < CTL_BURST ? max - total : CTL_BURST;

		n = rte_ring_sc_dequeue_burst(r, (void **)ms, want, NULL);
		for (i = 0; i < n; i++) {
			on_session_frame(cp, ms[i]);
			rte_pktmbuf_free(ms[i]);
		}
		total += n;
	} while (n == CTL_BURST && total < max);
	return total;
}

unsigned cp_frames_poll(struct cp_ctx *cp)
{
	unsigned total;

	/* The session ring first, everything in it (at most its size: the
	 * loop must also serve timers and fds), so that after a stall of
	 * this thread the keepalives waiting there count before anyone is
	 * declared dead (the loop runs timers after pollers). Then a bounded
	 * batch of handshake frames: a flood of HELLOs or of frames for
	 * unknown ids (anyone can send them, each costs a BLAKE2b or a GMAC)
	 * delays the next keepalive by at most DP_CTL_HS_BATCH frames' work;
	 * a non-zero return makes the loop poll again at once, so the rest
	 * of the flood is served between session-ring drains. */
	total = drain_ring(cp, cp->rt->ctl_ring, DP_CTL_RING_SIZE);
	total += drain_ring(cp, cp->rt->ctl_hs_ring, DP_CTL_HS_BATCH);
	return total;
}
