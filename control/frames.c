/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session frames (see frames.h): HELLO / KEEPALIVE / BYE in, WELCOME /
 * NACK / KEEPALIVE / probes out. This thread answers on a TX queue of its
 * own (rt->ctl_txq), so it never shares a queue with a worker, and changes
 * what workers see only by republishing connector objects under RCU.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <gwart/wire.h>

#include "conn.h"
#include "cp.h"
#include "frames.h"
#include "pkt.h"
#include "router_api.h"

#define CTL_BURST 32
#define CTL_POLL_MAX 1024 /* frames per poll: the loop must also serve timers and fds */

/* Transmit a control frame on port index @p: on the control thread's own TX
 * queue where the port has one, else through worker @w's control ring (the
 * connector's owner, so frames to one connector stay in order). */
static void ctl_tx(struct cp_ctx *cp, unsigned w, unsigned p, struct rte_mbuf *m)
{
	struct dp_router *rt = cp->rt;

	dp_pkt_finish_udp_tx(m, &rt->ports[p]);
	if (rt->ports[p].ctl_txq >= 0) {
		/* A queue of its own: no worker involved. */
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

static void send_welcome(struct cp_ctx *cp, const struct dp_conn *c)
{
	struct dp_router *rt = cp->rt;
	const struct dp_tunables *tun = rt->tun;
	struct rte_mbuf *m;
	uint8_t *pl;
	struct dp_conn_snap snap;
	uint64_t cum;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = c->epoch};

	/* header.seq tells the connector where the egress link stands: every
	 * link seq up to it has been acknowledged. The read races with the
	 * owner worker but the value only grows. */
	if (dp_conn_snapshot(rt, c->id, &snap) != 0)
		return;
	cum = snap.rx_cum;
	h.seq = snap.tx_acked;
	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac, c->ip_be,
			     c->udp_be, GW_WELCOME_LEN, &pl);
	if (m == NULL) {
		cp->stats.tx_failed++;
		return;
	}
	/* The owner moves the window to HELLO.seq - 1 on the session's first
	 * DATA; answer with where it will stand. */
	if (c->hello_seq > 1 && c->hello_seq - 1 > cum)
		cum = c->hello_seq - 1;
	gw_wire_encode_welcome(pl, GW_WELCOME_LEN, &h, c->nonce,
			       cum, DP_DEDUP_WINDOW, tun->keepalive_ms,
			       tun->keepalive_mult, dp_router_max_payload(rt), c->salt);
	cp->stats.welcomes++;
	ctl_tx(cp, c->owner, c->port, m);
}

static void send_simple(struct cp_ctx *cp, unsigned p, const struct dp_pkt_src *src,
			uint32_t epoch, int type, uint64_t seq, unsigned reason)
{
	struct dp_router *rt = cp->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	size_t len = type == GW_T_NACK ? GW_NACK_LEN : GW_KEEPALIVE_LEN;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = epoch, .seq = seq};

	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[p], rt->udp_be, &src->mac, src->ip_be,
			     src->udp_be, (uint16_t)len, &pl);
	if (m == NULL) {
		cp->stats.tx_failed++;
		return;
	}
	if (type == GW_T_NACK)
		gw_wire_encode_nack(pl, len, &h, seq, reason, 0);
	else
		gw_wire_encode_keepalive(pl, len, &h);
	ctl_tx(cp, 0, p, m);
}

/* A probe: KEEPALIVE with epoch 0 to the connector's last address means
 * "the router has no session for you: say HELLO" (PROTOCOL.md 12.3). */
static int ops_probe(void *arg, uint32_t id)
{
	struct cp_ctx *cp = arg;
	struct dp_router *rt = cp->rt;
	const struct dp_conn *c = dp_conn_peek(rt, id);
	struct rte_mbuf *m;
	uint8_t *pl;
	struct gw_hdr_args h = {.sender = GW_CONN_ID_ROUTER, .epoch = 0, .seq = cp_now_us()};

	if (c == NULL || c->ip_be == 0)
		return -ENOENT;
	m = dp_pkt_alloc_udp(rt->pool, &rt->ports[c->port], rt->udp_be, &c->mac, c->ip_be,
			     c->udp_be, GW_KEEPALIVE_LEN, &pl);
	if (m == NULL) {
		cp->stats.tx_failed++;
		return 0;
	}
	gw_wire_encode_keepalive(pl, GW_KEEPALIVE_LEN, &h);
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


static void on_hello(struct cp_ctx *cp, unsigned p, const struct gw_frame *f,
		     const struct dp_pkt_src *src)
{
	uint64_t now = cp_now_us();
	const struct dp_conn *c = dp_conn_peek(cp->rt, f->sender);
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
	if (c == NULL) {
		cp->stats.unknown_conn++;
		return;
	}
	if (!c->enabled) {
		cp->stats.refused++;
		send_simple(cp, p, src, 0, GW_T_NACK, f->seq, GW_NACK_NOT_AUTHORISED);
		return;
	}
	if (s.rx_window == 0) {
		cp->stats.bad_frames++;
		return;
	}
	if (s.rx_window > DP_DEDUP_WINDOW)
		s.rx_window = DP_DEDUP_WINDOW;
	/* A repeated HELLO from the same instance and address (our WELCOME
	 * was lost) gets the same session again, not a new epoch. */
	if (c->up && c->nonce == s.nonce && c->ip_be == s.ip_be && c->udp_be == s.udp_be) {
		if (dp_conn_session_refresh(cp->rt, f->sender, s.hello_seq) != 0) {
			cp->stats.tx_failed++;
			return;
		}
		cp_sess_rx(&cp->sess, f->sender, now);
	} else {
		uint32_t epoch;

		if (dp_conn_session_up(cp->rt, f->sender, &s, &epoch) != 0) {
			cp->stats.tx_failed++;
			return;
		}
		cp_sess_open(&cp->sess, f->sender, epoch, now);
	}
	c = dp_conn_peek(cp->rt, f->sender);
	send_welcome(cp, c);
}

static void on_session_frame(struct cp_ctx *cp, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ih =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(ih + 1);
	struct dp_pkt_src src = {.ip_be = ih->src_addr, .udp_be = uh->src_port};
	unsigned p = dp_port_index(cp->rt, m->port);
	const struct dp_conn *c;
	struct gw_frame f;

	rte_ether_addr_copy(&rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr, &src.mac);
	/* Workers validated L2-L4 and the frame; parse again for the view. */
	if (gw_wire_parse(dp_pkt_gw(m), rte_be_to_cpu_16(uh->dgram_len) - 8, &f) != GW_WIRE_OK) {
		cp->stats.bad_frames++;
		return;
	}
	switch (f.type) {
	case GW_T_HELLO:
		on_hello(cp, p, &f, &src);
		return;
	case GW_T_KEEPALIVE:
		cp->stats.keepalives++;
		c = dp_conn_peek(cp->rt, f.sender);
		if (c == NULL) {
			cp->stats.unknown_conn++;
			return;
		}
		if (!c->up || c->epoch != f.epoch) {
			cp->stats.stale_epoch++;
			cp->sess.s[f.sender].stale++;
			/* Tell it to say HELLO again. */
			send_simple(cp, p, &src, f.epoch, GW_T_NACK, 0, GW_NACK_NO_SESSION);
			return;
		}
		cp_sess_rx(&cp->sess, f.sender, cp_now_us());
		send_simple(cp, p, &src, c->epoch, GW_T_KEEPALIVE, f.seq, 0);
		return;
	case GW_T_BYE:
		cp->stats.byes++;
		c = dp_conn_peek(cp->rt, f.sender);
		if (c == NULL) {
			cp->stats.unknown_conn++;
			return;
		}
		if (!c->up && c->epoch == f.epoch) {
			/* A repeated copy of the BYE that closed this session
			 * (connectors send it more than once): not stale. */
			cp->stats.byes_repeated++;
			return;
		}
		if (!c->up || c->epoch != f.epoch) {
			cp->stats.stale_epoch++;
			cp->sess.s[f.sender].stale++;
			return;
		}
		cp_sess_close(&cp->sess, f.sender, CP_CLOSE_BYE, cp_now_us());
		return;
	default:
		cp->stats.bad_frames++;
		return;
	}
}

unsigned cp_frames_poll(struct cp_ctx *cp)
{
	struct rte_mbuf *ms[CTL_BURST];
	unsigned n, i, total = 0;

	/* Everything that arrived, so that after a stall of this thread the
	 * keepalives waiting in the ring count before anyone is declared
	 * dead (the loop runs timers after pollers). */
	do {
		n = rte_ring_sc_dequeue_burst(cp->rt->ctl_ring, (void **)ms, CTL_BURST, NULL);
		for (i = 0; i < n; i++) {
			on_session_frame(cp, ms[i]);
			rte_pktmbuf_free(ms[i]);
		}
		total += n;
	} while (n == CTL_BURST && total < CTL_POLL_MAX);
	return total;
}
