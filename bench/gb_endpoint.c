/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoints: the harness's connectors, speaking the gwart protocol on an
 * ethdev port with the project's frame code (gw_wire_encode_* and
 * gw_wire_parse; the sink's receive window is the router's own dp_dedup).
 *
 * One endpoint thread owns one harness port and every connector on it:
 *  - origins (generators): HELLO until WELCOME; DATA within the duplicate
 *    window (seq <= router's cumulative point + dup_window); consume ACKs
 *    (cumulative + bitmap) and NACKs (BUSY: retry after retry_after_us and
 *    pause new sends; anything else: refused for good); retransmit what is
 *    not acknowledged after GB_DEF_RTO_US;
 *  - destinations (sinks): HELLO, receive DATA, suppress duplicates by
 *    egress link seq, deliver each message once into the delivered set,
 *    one ACK (cumulative + bitmap) per destination per receive burst.
 * Every connector sends KEEPALIVEs so the router's failure detection stays
 * quiet. Frames from connector X go to queue X % n_queues, the queue of the
 * worker that owns X (a NIC's flow steering would do the same).
 *
 * Fault injection (seeded per connector): a generator drops or duplicates
 * DATA it sends; a sink drops or duplicates DATA it receives and drops ACKs
 * it sends. The router's windows and retransmissions must absorb all of it.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_udp.h>

#include <gwart/wire.h>

#include "ack.h"
#include "gb_endpoint.h"

/* ---- origin side ---------------------------------------------------------- */

static inline struct gb_slot *slot_of(struct gb_ep_conn *c, uint64_t seq)
{
	return &c->slot[seq & (GB_SLOTS - 1)];
}

static void origin_advance(struct gb_endpoint *ep, struct gb_ep_conn *c)
{
	while (c->cum + 1 < c->next_seq) {
		struct gb_slot *sl = slot_of(c, c->cum + 1);

		if (sl->state != GB_SL_ACKED && sl->state != GB_SL_REFUSED)
			break;
		sl->state = GB_SL_FREE;
		c->cum++;
	}
	(void)ep;
}

static void origin_ack(struct gb_endpoint *ep, struct gb_ep_conn *c, const struct gw_frame *f)
{
	struct dp_ack_walk w;
	enum dp_ack_kind k;
	uint64_t s;

	if (f->seq >= c->next_seq)
		ep->st.rx_bad++; /* acknowledges what was never sent */
	/* Above the cumulative point and sent: at most a window of slots. */
	dp_ack_walk_init(&w, f->seq, f->u.ack.base, f->u.ack.bitmap, c->cum + 1, c->next_seq);
	while ((k = dp_ack_walk_next(&w, &s)) != DP_ACK_END) {
		struct gb_slot *sl = slot_of(c, s);

		if (sl->state == GB_SL_SENT) {
			ep->st.acked++;
			sl->state = GB_SL_ACKED;
		} else if (k == DP_ACK_CUM) {
			sl->state = GB_SL_ACKED; /* whatever it was: the cumulative point passed it */
		}
	}
	origin_advance(ep, c);
}

static void origin_nack(struct gb_endpoint *ep, struct gb_ep_conn *c, const struct gw_frame *f,
			uint64_t now)
{
	uint64_t s = f->u.nack.origin_seq;
	struct gb_slot *sl;

	if (f->u.nack.reason == GW_NACK_NO_SESSION) {
		/* v2 routers send none; an authentic one changes nothing. */
		ep->st.nacks_other++;
		return;
	}
	if (s <= c->cum || s >= c->next_seq)
		return;
	sl = slot_of(c, s);
	if (sl->state != GB_SL_SENT)
		return;
	if (f->u.nack.reason == GW_NACK_BUSY) {
		uint64_t wait =
		    (uint64_t)(f->u.nack.retry_after_us ? f->u.nack.retry_after_us : 1000) *
		    (ep->ctx->tsc_hz / 1000000u);

		ep->st.busy++;
		sl->deadline = now + wait;
		c->pause_until = now + wait;
		return;
	}
	ep->st.refused++;
	sl->state = GB_SL_REFUSED;
	gb_verify_refused(ep->ctx->ver, c->id, s);
	origin_advance(ep, c);
}

/* Retransmit expired seqs, oldest first; stop at the first one not due (a
 * retransmitted seq may hide a later due one for at most one RTO). */
static void origin_scan(struct gb_endpoint *ep, struct gb_txq *txq, struct gb_ep_conn *c,
			uint64_t now, uint64_t rto)
{
	uint64_t s;
	unsigned budget = TXB_MAX / 4;

	for (s = c->cum + 1; s < c->next_seq && budget > 0; s++) {
		struct gb_slot *sl = slot_of(c, s);

		if (sl->state != GB_SL_SENT)
			continue;
		if (now < sl->deadline)
			break;
		if (txq[c->queue].n >= TXB_MAX - GB_BURST)
			return;
		sl->deadline = now + rto;
		ep->st.retransmits++;
		gb_emit_data(ep, txq, c, s, sl, 1);
		budget--;
	}
}

/* New messages for origin c: at most @max, within the window. */
static unsigned origin_send(struct gb_endpoint *ep, struct gb_txq *txq, struct gb_ep_conn *c,
			    unsigned max, uint64_t now, uint64_t rto)
{
	const struct gb_opts *o = ep->ctx->o;
	unsigned n = 0;

	if (now < c->pause_until)
		return 0;
	while (n < max && c->next_seq <= c->cum + c->window &&
	       txq[c->queue].n < TXB_MAX - GB_BURST) {
		struct gb_slot *sl;

		if (o->count != 0 && c->next_seq > o->count)
			break;
		sl = slot_of(c, c->next_seq);
		sl->route = gb_workload_pick(&ep->ctx->wl, &c->rng);
		sl->t_first = now;
		sl->deadline = now + rto;
		sl->state = GB_SL_SENT;
		gb_emit_data(ep, txq, c, c->next_seq, sl, 0);
		c->next_seq++;
		ep->st.sent++;
		n++;
	}
	return n;
}

/* ---- destination side ----------------------------------------------------- */

static void dest_data(struct gb_endpoint *ep, struct gb_ep_conn *c, const struct gw_frame *f,
		      uint64_t now)
{
	struct gb_ctx *ctx = ep->ctx;
	uint64_t t_first, seq;
	uint32_t origin, route;
	const uint8_t *pl = f->u.data.payload;

	if (!c->rx_ready || f->epoch != c->epoch) {
		ep->st.rx_bad++;
		return;
	}
	if (!c->ack_due || f->seq < c->ack_lo)
		c->ack_lo = f->seq;
	if (!c->ack_due || f->seq > c->ack_hi)
		c->ack_hi = f->seq;
	switch (dp_dedup_check(c->rx, f->seq)) {
	case DP_DEDUP_NEW:
		break;
	case DP_DEDUP_DUP:
		ep->st.dup_frames++;
		c->ack_due = 1;
		return;
	default:
		ep->st.rx_bad++;
		return;
	}
	dp_dedup_set_done(c->rx, f->seq);
	c->ack_due = 1;
	if (f->u.data.payload_len < GB_PAYLOAD_HDR) {
		ep->st.corrupt++;
		return;
	}
	memcpy(&t_first, pl, 8);
	memcpy(&origin, pl + 8, 4);
	memcpy(&route, pl + 12, 4);
	memcpy(&seq, pl + 16, 8);
	if (origin != f->u.data.origin || seq != f->u.data.origin_seq ||
	    route >= ctx->wl.n_routes) {
		ep->st.corrupt++;
		return;
	}
	if (ctx->wl.first_dest_id + route % ctx->wl.n_dests != c->id)
		ep->st.misrouted++;
	if (gb_verify_deliver(ctx->ver, origin, seq) != 0)
		ep->st.dup_delivered++;
	else
		ep->st.delivered++;
	if (ctx->recording && now > t_first)
		gb_hist_record(&ep->lat, now - t_first);
}

/* One ACK per destination per receive burst: the cumulative point and a
 * bitmap from just above it; more frames only when this burst's seqs lie
 * beyond that bitmap's 64 (behind a hole), as the router does for origins. */
static void dest_acks(struct gb_endpoint *ep, struct gb_txq *txq)
{
	const struct gb_opts *o = ep->ctx->o;
	unsigned i;

	for (i = 0; i < ep->n_conns; i++) {
		struct gb_ep_conn *c = &ep->conns[i];
		struct gw_hdr_args h = {.sender = c->id, .epoch = c->epoch};
		uint64_t cum, b;

		if (!c->ack_due || !c->up)
			continue;
		c->ack_due = 0;
		if (o->drop > 0 && gb_rng_unit(&c->rng) < o->drop) {
			ep->st.fault_drop++;
			continue;
		}
		cum = dp_dedup_cum(c->rx);
		h.seq = cum;
		for (b = cum + 1; b <= c->ack_hi || b == cum + 1; b += GW_ACK_BITMAP_BITS) {
			uint64_t bm;
			struct rte_mbuf *m;
			uint8_t *gw;

			if (b != cum + 1 && b + GW_ACK_BITMAP_BITS <= c->ack_lo)
				continue;
			bm = dp_dedup_ack_bitmap(c->rx, b);
			if (bm == 0 && b != cum + 1)
				continue;
			m = gb_frame_alloc(ep, c, GW_ACK_LEN, &gw);
			if (m == NULL)
				break;
			h.ctr = gw_ctr_make(GW_LANE_STREAM, ++c->tx_ctr[GW_LANE_STREAM]);
			gw_wire_encode_ack(gw, GW_ACK_LEN, &h, b, bm);
			gw_auth_seal_session(gw, GW_ACK_LEN, &c->s_c2r);
			gb_frame_finish(ep, m);
			gb_txq_put(&txq[c->queue], m);
			ep->st.acks_sent++;
			if (txq[c->queue].n >= TXB_MAX - 1)
				break;
		}
	}
}

/* ---- receive -------------------------------------------------------------- */

static struct gb_ep_conn *conn_by_ip(struct gb_endpoint *ep, uint32_t ip_be)
{
	uint32_t id = rte_be_to_cpu_32(ip_be) & 0xffff;

	if (id < ep->first_id || id - ep->first_id >= ep->n_conns)
		return NULL;
	return &ep->conns[id - ep->first_id];
}

/* v2: a WELCOME counts only with a valid hs.r2c tag, our nonce, and a ctr
 * that echoes a HELLO we sent and is newer than the last one taken. The
 * same epoch and salt again keep the session (keys, counters, windows). */
static void on_welcome(struct gb_endpoint *ep, struct gb_ep_conn *c, const uint8_t *gw,
		       const struct gw_frame *f)
{
	int same;

	if (!gw_auth_check_hs(gw, f->length, c->hs.r2c)) {
		ep->st.rx_auth_failed++;
		return;
	}
	/* Not ours, or answering an older HELLO than one already answered
	 * (HELLOs repeat until a WELCOME): stale, not an attack. */
	if (f->u.welcome.nonce != c->nonce || f->ctr <= c->welcome_ctr || f->ctr > c->hello_ctr) {
		ep->st.rx_bad++;
		return;
	}
	c->welcome_ctr = f->ctr;
	same = c->up && f->epoch == c->epoch &&
	       memcmp(c->salt, f->u.welcome.salt, GW_SALT_LEN) == 0;
	if (!same) {
		struct gw_session_keys k;

		gw_auth_derive_session(c->secret, c->id, f->epoch, c->nonce, f->u.welcome.salt,
				       &k);
		gw_gmac_key_init(&c->s_c2r, k.c2r);
		gw_gmac_key_init(&c->s_r2c, k.r2c);
		gw_auth_wipe(&k, sizeof(k));
		memcpy(c->salt, f->u.welcome.salt, GW_SALT_LEN);
		c->tx_ctr[0] = c->tx_ctr[1] = 0;
		dp_replay_init(&c->rx_win);
	}
	if (!c->up)
		atomic_fetch_add(&ep->up, 1);
	c->up = 1;
	c->epoch = f->epoch;
	if (ep->is_origin) {
		uint32_t w = f->u.welcome.dup_window;

		c->window = w < GB_SLOTS - 64 ? w : GB_SLOTS - 64;
		ep->ctx->dup_window = w;
	} else if (!c->rx_ready) {
		dp_dedup_init(c->rx, f->seq);
		c->rx_ready = 1;
	}
}

/* v2: a lane-1 frame from the router (DATA, ACK, NACK) of our session,
 * fresh, with the right tag. With --no-auth the router does not seal: the
 * check is still made (same harness work) and its verdict ignored. */
static int session_ok(struct gb_endpoint *ep, struct gb_ep_conn *c, const uint8_t *gw,
		      const struct gw_frame *f)
{
	uint64_t n = gw_ctr_count(f->ctr);
	bool ok;

	if (!c->up || f->epoch != c->epoch) {
		ep->st.rx_bad++; /* another session's: stale */
		return 0;
	}
	if (gw_ctr_lane(f->ctr) != GW_LANE_STREAM) {
		ep->st.rx_auth_failed++;
		return 0;
	}
	ok = gw_auth_check_session(gw, f->length, &c->s_r2c);
	if (ep->ctx->o->no_auth)
		return 1;
	if (!dp_replay_check(&c->rx_win, n)) {
		ep->st.rx_replayed++;
		return 0;
	}
	if (!ok) {
		ep->st.rx_auth_failed++;
		return 0;
	}
	dp_replay_commit(&c->rx_win, n);
	return 1;
}

static void rx_one(struct gb_endpoint *ep, struct rte_mbuf *m, uint64_t now, int fault_dup)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(ih + 1);
	struct gb_ep_conn *c;
	struct gw_frame f;
	uint16_t ulen;

	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + 28 ||
		     eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		     ih->next_proto_id != IPPROTO_UDP)) {
		ep->st.rx_bad++;
		return;
	}
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	c = conn_by_ip(ep, ih->dst_addr);
	if (unlikely(c == NULL || ulen < 8 ||
		     RTE_ETHER_HDR_LEN + 20u + ulen > rte_pktmbuf_data_len(m) ||
		     gw_wire_parse(uh + 1, ulen - 8u, &f) != GW_WIRE_OK)) {
		ep->st.rx_bad++;
		return;
	}
	ep->st.rx_frames++;
	if (f.type == GW_T_DATA || f.type == GW_T_ACK || f.type == GW_T_NACK) {
		if (f.epoch == 0)
			return; /* NOT_AUTHORISED: handshake-sealed; the HELLO repeats */
		if (!session_ok(ep, c, (const uint8_t *)(uh + 1), &f))
			return;
	}
	switch (f.type) {
	case GW_T_WELCOME:
		on_welcome(ep, c, (const uint8_t *)(uh + 1), &f);
		return;
	case GW_T_ACK:
		if (ep->is_origin && c->up && f.epoch == c->epoch)
			origin_ack(ep, c, &f);
		return;
	case GW_T_NACK:
		if (ep->is_origin)
			origin_nack(ep, c, &f, now);
		return;
	case GW_T_DATA:
		if (!ep->is_origin) {
			dest_data(ep, c, &f, now);
			if (fault_dup)
				dest_data(ep, c, &f, now);
		}
		return;
	case GW_T_KEEPALIVE:
		/* v2: the router's reconnection probe (epoch 0, sealed hs.r2c,
		 * a fresh ctr) is how a connector learns its session is gone:
		 * there is no NO_SESSION NACK any more. Say HELLO at once. */
		if (f.epoch == 0) {
			if (!gw_auth_check_hs((const uint8_t *)(uh + 1), f.length, c->hs.r2c)) {
				ep->st.rx_auth_failed++;
				return;
			}
			if (f.ctr <= c->probe_ctr) {
				ep->st.rx_bad++; /* an older probe: nothing new */
				return;
			}
			c->probe_ctr = f.ctr;
			if (c->up) {
				ep->st.session_losses++;
				c->up = 0;
				atomic_fetch_sub(&ep->up, 1);
			}
			c->t_hello = 0;
		}
		return;
	default: /* BYE */
		return;
	}
}

/* ---- the thread ----------------------------------------------------------- */

static void timers(struct gb_endpoint *ep, struct gb_txq *txq, uint64_t now, uint64_t rto)
{
	const uint64_t us = ep->ctx->tsc_hz / 1000000u;
	unsigned i, idle = 0;

	for (i = 0; i < ep->n_conns; i++) {
		struct gb_ep_conn *c = &ep->conns[i];

		/* Session frames may use the slots that data leaves free, so
		 * a saturating generator never starves its own keepalives. */
		if (txq[c->queue].n >= TXB_MAX - 4)
			continue;
		if (!c->up) {
			if (now - c->t_hello >= GB_HELLO_US * us)
				gb_send_ctl(ep, txq, c, GW_T_HELLO, now);
			continue;
		}
		if (now - c->t_ka >= GB_KEEPALIVE_US * us)
			gb_send_ctl(ep, txq, c, GW_T_KEEPALIVE, now);
		if (ep->is_origin) {
			origin_scan(ep, txq, c, now, rto);
			idle += c->cum + 1 == c->next_seq;
		}
	}
	atomic_store(&ep->idle, idle);
}

static void *endpoint_main(void *arg)
{
	struct gb_endpoint *ep = arg;
	struct gb_ctx *ctx = ep->ctx;
	const struct gb_opts *o = ctx->o;
	const uint64_t hz = ctx->tsc_hz, rto = GB_DEF_RTO_US * (hz / 1000000u);
	const uint64_t tick = hz / 1000u; /* timers every ms */
	struct gb_txq *txq = calloc(ep->n_queues, sizeof(*txq));
	struct rte_mbuf *pkts[GB_BURST];
	double rate = ep->is_origin && o->rate ? (double)o->rate / o->gen_threads : 0;
	double tokens = 0;
	uint64_t next_tick = 0, last = rte_rdtsc();
	unsigned rr = 0, i, q;
	char name[16];

	snprintf(name, sizeof(name), "gb-ep%u-%s", ep->idx, ep->is_origin ? "gen" : "sink");
	pthread_setname_np(pthread_self(), name);
	atomic_store(&ep->tid, (int)gettid());
	if (ep->cpu >= 0)
		gb_pin_self(ep->cpu);
	if (rte_thread_register() != 0 || txq == NULL) {
		fprintf(stderr, "gwart-bench: %s: cannot register with DPDK\n", name);
		free(txq);
		return NULL;
	}
	while (ctx->phase != GB_PH_STOP) {
		uint64_t now = rte_rdtsc();
		unsigned work = 0;

		ep->st.loops++;
		for (q = 0; q < ep->n_rxq; q++) {
			uint16_t n = rte_eth_rx_burst(ep->port_id, (uint16_t)q, pkts, GB_BURST);

			work += n;
			for (i = 0; i < n; i++) {
				int fdup = 0;

				if (!ep->is_origin && (o->drop > 0 || o->dup > 0)) {
					double u = gb_rng_unit(&ep->conns[0].rng);

					if (u < o->drop) {
						ep->st.fault_drop++;
						rte_pktmbuf_free(pkts[i]);
						continue;
					}
					fdup = u < o->drop + o->dup;
					ep->st.fault_dup += (uint64_t)fdup;
				}
				rx_one(ep, pkts[i], now, fdup);
				rte_pktmbuf_free(pkts[i]);
			}
		}
		if (!ep->is_origin)
			dest_acks(ep, txq);
		if (now >= next_tick) {
			timers(ep, txq, now, rto);
			next_tick = now + tick;
		}
		if (ep->is_origin && ctx->phase == GB_PH_RUN) {
			unsigned budget = GB_BURST * 4, k;

			if (rate > 0) {
				tokens += (double)(now - last) * rate / (double)hz;
				if (tokens > GB_BURST * 4)
					tokens = GB_BURST * 4;
				budget = (unsigned)tokens;
			}
			last = now;
			for (k = 0; k < ep->n_conns && budget > 0; k++) {
				struct gb_ep_conn *c = &ep->conns[rr];
				unsigned sent;

				rr = rr + 1 == ep->n_conns ? 0 : rr + 1;
				if (!c->up)
					continue;
				sent = origin_send(ep, txq, c,
						   budget < GB_BURST ? budget : GB_BURST, now, rto);
				budget -= sent;
				tokens -= sent;
				work += sent;
			}
		}
		gb_tx_flush(ep, txq);
		if (work != 0) {
			ep->st.busy_loops++;
			ep->st.busy_cycles += rte_rdtsc() - now;
		}
		/* Nothing received or sent: on an oversubscribed host, give the
		 * CPU to whoever shares it (the other endpoint, the control
		 * thread); on a dedicated core this costs one syscall. */
		if (work == 0)
			sched_yield();
	}
	for (q = 0; q < ep->n_queues; q++)
		for (i = 0; i < txq[q].n; i++)
			rte_pktmbuf_free(txq[q].m[i]);
	if (ep->is_origin) {
		for (i = 0; i < ep->n_conns; i++) {
			struct gb_ep_conn *c = &ep->conns[i];
			uint64_t s;

			ctx->last_seq[c->id - 1] = c->next_seq - 1;
			for (s = c->cum + 1; s < c->next_seq; s++)
				ep->st.unresolved += slot_of(c, s)->state == GB_SL_SENT;
		}
	}
	free(txq);
	rte_thread_unregister();
	return NULL;
}

/* ---- set-up ----------------------------------------------------------------- */

int gb_port_init(uint16_t port_id, unsigned nrx, unsigned ntx, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = {0};
	uint16_t q;
	int rc;

	rc = rte_eth_dev_configure(port_id, (uint16_t)nrx, (uint16_t)ntx, &conf);
	for (q = 0; rc == 0 && q < nrx; q++)
		rc =
		    rte_eth_rx_queue_setup(port_id, q, 1024, (unsigned)rte_socket_id(), NULL, pool);
	for (q = 0; rc == 0 && q < ntx; q++)
		rc = rte_eth_tx_queue_setup(port_id, q, 1024, (unsigned)rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port_id);
	return rc;
}

int gb_endpoint_init(struct gb_endpoint *ep, struct gb_ctx *ctx, unsigned idx, uint16_t port_id,
		     unsigned n_queues, uint32_t router_ip_be, uint32_t first_id, unsigned n,
		     bool is_origin, struct rte_mempool *pool, int cpu)
{
	unsigned i;

	memset(ep, 0, sizeof(*ep));
	ep->ctx = ctx;
	ep->idx = idx;
	ep->port_id = port_id;
	ep->n_queues = n_queues;
	ep->n_rxq = n_queues;
	ep->router_ip_be = router_ip_be;
	ep->first_id = first_id;
	ep->n_conns = n;
	ep->is_origin = is_origin;
	ep->pool = pool;
	ep->cpu = cpu;
	gb_hist_reset(&ep->lat);
	memset(&ep->router_mac, 0xff, sizeof(ep->router_mac));
	ep->conns = calloc(n, sizeof(*ep->conns));
	if (ep->conns == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct gb_ep_conn *c = &ep->conns[i];
		uint32_t id = first_id + i;

		c->id = id;
		/* 198.19.<id/256>.<id%256>: inside the benchmarking range. */
		c->ip_be = rte_cpu_to_be_32((198u << 24) | (19u << 16) | (id & 0xffff));
		c->udp_be = rte_cpu_to_be_16(GB_CONN_UDP);
		c->queue = (uint16_t)(id % n_queues);
		c->mac.addr_bytes[0] = 0x02;
		c->mac.addr_bytes[1] = 0x67;
		c->mac.addr_bytes[2] = 0x62;
		c->mac.addr_bytes[4] = (uint8_t)(id >> 8);
		c->mac.addr_bytes[5] = (uint8_t)id;
		c->rng.s = ctx->o->seed * 0x100000001B3ull + id;
		c->nonce = gb_rng_next(&c->rng) | 1;
		gb_conn_key(ctx, id, c->secret);
		gw_auth_derive_hs(c->secret, id, &c->hs);
		dp_replay_init(&c->rx_win);
		c->next_seq = 1;
		if (is_origin) {
			c->slot = calloc(GB_SLOTS, sizeof(*c->slot));
			if (c->slot == NULL)
				return -ENOMEM;
		} else {
			c->rx = calloc(1, sizeof(*c->rx));
			if (c->rx == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}

void gb_endpoint_fini(struct gb_endpoint *ep)
{
	unsigned i;

	if (ep->conns == NULL)
		return;
	for (i = 0; i < ep->n_conns; i++) {
		free(ep->conns[i].slot);
		free(ep->conns[i].rx);
		gw_auth_wipe(ep->conns[i].secret, sizeof(ep->conns[i].secret));
		gw_auth_wipe(&ep->conns[i].hs, sizeof(ep->conns[i].hs));
		gw_gmac_key_wipe(&ep->conns[i].s_c2r);
		gw_gmac_key_wipe(&ep->conns[i].s_r2c);
	}
	free(ep->conns);
	ep->conns = NULL;
}

int gb_endpoint_start(struct gb_endpoint *ep)
{
	int rc = pthread_create(&ep->thread, NULL, endpoint_main, ep);

	ep->started = rc == 0;
	return -rc;
}

void gb_endpoint_join(struct gb_endpoint *ep)
{
	if (ep->started)
		pthread_join(ep->thread, NULL);
	ep->started = false;
}

void gb_ctx_stats(const struct gb_ctx *ctx, struct gb_ep_stats *out)
{
	unsigned e, i;

	memset(out, 0, sizeof(*out));
	for (e = 0; e < ctx->n_ep; e++) {
		const uint64_t *s = (const uint64_t *)&ctx->ep[e].st;
		uint64_t *d = (uint64_t *)out;

		for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
			d[i] += s[i];
	}
}

unsigned gb_ctx_up(const struct gb_ctx *ctx)
{
	unsigned e, n = 0;

	for (e = 0; e < ctx->n_ep; e++)
		n += atomic_load(&ctx->ep[e].up);
	return n;
}
