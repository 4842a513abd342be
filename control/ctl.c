/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread's event loop and session handling. Workers pass
 * HELLO / KEEPALIVE / BYE frames up through an MP/SC ring; this thread
 * answers on a TX queue of its own (rt->ctl_txq), so it never shares a
 * queue with a worker, and changes what workers see only by republishing
 * connector objects under RCU.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <jansson.h>

#include <gwart/wire.h>

#include "conn.h"
#include "cp.h"
#include "pkt.h"
#include "route.h"
#include "router_api.h"
#include "api.h"
#include "session.h"
#include "sock.h"

#define CTL_BURST 32
#define CTL_IDLE_SLEEP_NS 200000 /* ns: nap when there was nothing to do */

/* Transmit a control frame on port index @p: on the control thread's own TX
 * queue where the port has one, else through worker @w's control ring (the
 * connector's owner, so frames to one connector stay in order). */
void cp_ctl_tx(struct cp_ctx *cp, unsigned w, unsigned p, struct rte_mbuf *m)
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
			     c->udp_be, GW_HDR_LEN + GW_WELCOME_BODY_LEN, &pl);
	if (m == NULL) {
		cp->stats.tx_failed++;
		return;
	}
	/* The owner moves the window to HELLO.seq - 1 on the session's first
	 * DATA; answer with where it will stand. */
	if (c->hello_seq > 1 && c->hello_seq - 1 > cum)
		cum = c->hello_seq - 1;
	gw_wire_encode_welcome(pl, GW_HDR_LEN + GW_WELCOME_BODY_LEN, &h, c->nonce,
			       cum, DP_DEDUP_WINDOW, tun->keepalive_ms,
			       tun->keepalive_mult, dp_router_max_payload(rt));
	cp->stats.welcomes++;
	cp_ctl_tx(cp, c->owner, c->port, m);
}

static void send_simple(struct cp_ctx *cp, unsigned p, const struct dp_pkt_src *src,
			uint32_t epoch, int type, uint64_t seq, unsigned reason)
{
	struct dp_router *rt = cp->rt;
	struct rte_mbuf *m;
	uint8_t *pl;
	size_t len = type == GW_T_NACK ? GW_HDR_LEN + GW_NACK_BODY_LEN : GW_HDR_LEN;
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
	cp_ctl_tx(cp, 0, p, m);
}

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
		cp_sess_rx(cp, f->sender, now);
	} else {
		uint32_t epoch;

		if (dp_conn_session_up(cp->rt, f->sender, &s, &epoch) != 0) {
			cp->stats.tx_failed++;
			return;
		}
		cp_sess_open(cp, f->sender, epoch, now);
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
			cp->sess[f.sender].stale++;
			/* Tell it to say HELLO again. */
			send_simple(cp, p, &src, f.epoch, GW_T_NACK, 0, GW_NACK_NO_SESSION);
			return;
		}
		cp_sess_rx(cp, f.sender, cp_now_us());
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
			cp->sess[f.sender].stale++;
			return;
		}
		cp_sess_close(cp, f.sender, CP_CLOSE_BYE, cp_now_us());
		return;
	default:
		cp->stats.bad_frames++;
		return;
	}
}

unsigned cp_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	/* ".", ".." and the descriptor opendir() itself holds. */
	return n >= 3 ? n - 3 : 0;
}

uint64_t cp_custody_total(struct cp_ctx *cp)
{
	return dp_conn_custody_total(cp->rt);
}

unsigned cp_ctl_poll(struct cp_ctx *cp)
{
	struct rte_mbuf *ms[CTL_BURST];
	unsigned n, i;

	n = rte_ring_sc_dequeue_burst(cp->rt->ctl_ring, (void **)ms, CTL_BURST, NULL);
	for (i = 0; i < n; i++) {
		on_session_frame(cp, ms[i]);
		rte_pktmbuf_free(ms[i]);
	}
	return n;
}

void cp_ctl_run(struct cp_ctx *cp, volatile sig_atomic_t *quit, double duration_s,
		unsigned stats_interval_s)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t end = duration_s > 0 ? rte_rdtsc() + (uint64_t)(duration_s * (double)hz) : 0;
	uint64_t next_stats = stats_interval_s ? rte_rdtsc() + stats_interval_s * hz : 0;

	uint64_t next_tick = 0;

	cp->quit = quit;
	while (!*quit) {
		uint64_t now, now_us = cp_now_us();

		rcu_quiescent_state();
		if (now_us >= next_tick) {
			/* Take in every frame that arrived first: after a stall
			 * of this thread, keepalives waiting in the ring must
			 * count before anyone is declared dead. */
			while (cp_ctl_poll(cp) != 0)
				;
			now_us = cp_now_us();
			next_tick = cp_session_tick(cp, now_us);
		}
		if (cp->shutdown_drain && (cp_custody_total(cp) == 0 ||
					   now_us >= cp->shutdown_deadline_us))
			break;
		/* Control-socket requests are control work too: no nap while
		 * they arrive. */
		if (cp_ctl_poll(cp) + cp_sock_poll(cp) == 0) {
			struct timespec ts = {0, CTL_IDLE_SLEEP_NS};

			/* Offline while asleep so grace periods need not wait. */
			rcu_thread_offline();
			nanosleep(&ts, NULL);
			rcu_thread_online();
		}
		now = rte_rdtsc();
		if (end != 0 && now >= end)
			break;
		if (next_stats != 0 && now >= next_stats) {
			cp_stats_print(cp, stdout);
			fflush(stdout);
			next_stats = now + stats_interval_s * hz;
		}
	}
}

/* ---- statistics ------------------------------------------------------------ */

void cp_stats_print(struct cp_ctx *cp, FILE *f)
{
	struct dp_worker_stats s;
	uint32_t id;
	unsigned i;

	dp_router_stats(cp->rt, &s);
	fprintf(f,
		"gwartd: rx_pkts=%lu data=%lu routed=%lu acks=%lu nacks=%lu dups_suppressed=%lu "
		"tx_data=%lu retransmits=%lu delivered=%lu steered=%lu handoffs=%lu arp=%lu "
		"icmp=%lu sessions_up=%lu\n",
		s.rx_pkts, s.rx_data, s.routed, s.acks_sent, s.nacks_sent, s.dups, s.tx_data,
		s.retransmits, s.delivered, s.steered, s.handoffs, s.arp_replies, s.icmp_replies,
		cp->stats.sessions_up);
	for (i = 0; i < DP_DROP_COUNT; i++)
		if (s.drops[i] != 0)
			fprintf(f, "gwartd: drop %-20s %lu  (%s)\n", dp_drop_name(i), s.drops[i],
				dp_drop_str(i));
	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(cp->rt, id);
		struct dp_conn_snap snap;
		const struct dp_conn_stats *cs = &snap.stats;

		if (c == NULL || dp_conn_snapshot(cp->rt, id, &snap) != 0)
			continue;
		fprintf(f,
			"gwartd: connector %u %-12s %s epoch=%u rx=%lu routed=%lu dups=%lu "
			"nacked=%lu tx=%lu retx=%lu delivered=%lu custody=%u\n",
			id, c->name, c->up ? "up  " : "down", c->epoch, cs->rx_data, cs->routed,
			cs->dups, cs->nacked, cs->tx_data, cs->retransmits, cs->delivered,
			snap.held);
	}
}

/* Every counter as one JSON object: the stats file and the control API's
 * "stats" command (control/api.c) share it. NULL when out of memory. */
json_t *cp_stats_json(struct cp_ctx *cp)
{
	struct dp_worker_stats s;
	json_t *root, *drops, *conns, *ctl;
	uint32_t id;
	unsigned i;

	dp_router_stats(cp->rt, &s);
	root = json_object();
	drops = json_object();
	conns = json_array();
	ctl = json_object();
	if (root == NULL || drops == NULL || conns == NULL || ctl == NULL)
		goto fail;
#define J(obj, k, v) json_object_set_new(obj, k, json_integer((json_int_t)(v)))
	J(root, "rx_pkts", s.rx_pkts);
	J(root, "rx_frames", s.rx_frames);
	J(root, "rx_data", s.rx_data);
	J(root, "routed", s.routed);
	J(root, "acks_sent", s.acks_sent);
	J(root, "nacks_sent", s.nacks_sent);
	J(root, "dups_suppressed", s.dups);
	J(root, "tx_data", s.tx_data);
	J(root, "retransmits", s.retransmits);
	J(root, "delivered", s.delivered);
	J(root, "steered", s.steered);
	J(root, "handoffs", s.handoffs);
	J(root, "moved", s.moved);
	J(root, "arp_replies", s.arp_replies);
	J(root, "icmp_replies", s.icmp_replies);
	J(root, "ctl_frames", s.ctl_frames);
	/* Gauges that must return to their baseline (Q199817): sessions,
	 * mbufs in use, open file descriptors. */
	J(root, "sessions_up_now", cp->stats.sessions_up - cp->stats.sessions_down);
	J(root, "mempool_in_use", rte_mempool_in_use_count(cp->rt->pool));
	J(root, "custody_total", cp_custody_total(cp));
	J(root, "open_fds", cp_count_fds());
	for (i = 0; i < DP_DROP_COUNT; i++)
		J(drops, dp_drop_name(i), s.drops[i]);
	{
		json_t *stages = json_object();

		for (i = 0; i < DP_STAGE_COUNT; i++)
			J(stages, dp_stage_name(i), s.stage_cycles[i]);
		json_object_set_new(root, "stage_cycles", stages);
		J(root, "busy_cycles", s.busy_cycles);
		{
			json_t *res = json_object();
			double ns = 1e9 / (double)cp->rt->tsc_hz;
			uint64_t n;

			J(res, "p50", (double)dp_hist_quantile(s.residence, 0.50, &n) * ns);
			J(res, "p99", (double)dp_hist_quantile(s.residence, 0.99, NULL) * ns);
			J(res, "p999", (double)dp_hist_quantile(s.residence, 0.999, NULL) * ns);
			J(res, "max", (double)dp_hist_quantile(s.residence, 1.0, NULL) * ns);
			J(res, "count", n);
			json_object_set_new(root, "residence_ns", res);
		}
		J(root, "loops", s.loops);
		J(root, "busy_loops", s.busy_loops);
	}
	J(ctl, "hellos", cp->stats.hellos);
	J(ctl, "welcomes", cp->stats.welcomes);
	J(ctl, "keepalives", cp->stats.keepalives);
	J(ctl, "byes", cp->stats.byes);
	J(ctl, "byes_repeated", cp->stats.byes_repeated);
	J(ctl, "unknown_conn", cp->stats.unknown_conn);
	J(ctl, "stale_epoch", cp->stats.stale_epoch);
	J(ctl, "refused", cp->stats.refused);
	J(ctl, "bad_frames", cp->stats.bad_frames);
	J(ctl, "tx_failed", cp->stats.tx_failed);
	J(ctl, "sessions_up", cp->stats.sessions_up);
	J(ctl, "sessions_down", cp->stats.sessions_down);
	J(ctl, "probes", cp->stats.probes);
	J(ctl, "deleted_in_custody", cp->stats.deleted_in_custody);
	for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id)) {
		const struct dp_conn *c = dp_conn_peek(cp->rt, id);
		struct dp_conn_snap snap;
		const struct dp_conn_stats *cs = &snap.stats;
		json_t *o;

		if (c == NULL || dp_conn_snapshot(cp->rt, id, &snap) != 0)
			continue;
		o = json_object();
		if (o == NULL)
			goto fail;
		J(o, "id", id);
		json_object_set_new(o, "name", json_string(c->name));
		json_object_set_new(o, "up", json_boolean(c->up));
		J(o, "epoch", c->epoch);
		J(o, "rx_data", cs->rx_data);
		J(o, "routed", cs->routed);
		J(o, "dups", cs->dups);
		J(o, "nacked", cs->nacked);
		J(o, "tx_data", cs->tx_data);
		J(o, "retransmits", cs->retransmits);
		J(o, "delivered", cs->delivered);
		J(o, "moved", cs->moved);
		J(o, "custody", snap.held);
		json_array_append_new(conns, o);
	}
#undef J
	json_object_set_new(root, "drops", drops);
	json_object_set_new(root, "control", ctl);
	json_object_set_new(root, "connectors", conns);
	return root;
fail:
	json_decref(drops);
	json_decref(conns);
	json_decref(ctl);
	json_decref(root);
	return NULL;
}

int cp_stats_write_json(struct cp_ctx *cp, const char *path)
{
	json_t *root = cp_stats_json(cp);
	int rc;

	if (root == NULL)
		return -ENOMEM;
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -EIO;
	json_decref(root);
	return rc;
}
