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
 * The per-message paths of both (the replay generator and the sink) are in
 * gb_replay.c; this file holds sessions, receive dispatch and the thread.
 * Each receive burst's lane-1 tags are checked in one batch (gb_tag.h);
 * sinks check DATA tags only with --sink-verify.
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
		int rc;

		gw_auth_derive_session(c->secret, c->id, f->epoch, c->nonce, f->u.welcome.salt,
				       &k);
		rc = gb_tkey_set(&ep->ctx->tag, &c->k_c2r, k.c2r);
		if (rc == 0)
			rc = gb_tkey_set(&ep->ctx->tag, &c->k_r2c, k.r2c);
		gw_auth_wipe(&k, sizeof(k));
		if (rc != 0) {
			/* No session memory: stay down, the HELLO repeats. */
			ep->st.rx_bad++;
			return;
		}
		memcpy(c->salt, f->u.welcome.salt, GW_SALT_LEN);
		c->tx_ctr[0] = c->tx_ctr[1] = 0;
		dp_replay_init(c->rx_win);
	}
	c->epoch = f->epoch;
	/* Every GB_KEEPALIVE_US (well inside the router's interval on a
	 * loaded host), less often with many connectors, never less often
	 * than half the router's keepalive_ms (PROTOCOL.md 12.3): 65,536 of them
	 * at 4 a second would be 262,144 frames a second for the router's
	 * control thread. */
	{
		uint64_t n = ep->ctx->o->origins + ep->ctx->o->dests;
		uint64_t ka = (uint64_t)GB_KEEPALIVE_US * (n > 1024 ? n / 1024 : 1);
		uint64_t max = (uint64_t)f->u.welcome.keepalive_ms * 500u; /* half of it */

		c->ka_us = (uint32_t)(ka < max ? ka : max);
	}
	if (ep->is_origin) {
		uint32_t w = f->u.welcome.dup_window, cap = c->slot_mask + 1;

		/* Seqs cum+1 .. cum+window must own distinct slots. */
		cap -= cap >= 256 ? 64 : cap / 4;
		c->window = w < cap ? w : cap;
		ep->ctx->dup_window = w;
		if (!same && gb_replay_template(ep, c) != 0) {
			ep->st.rx_bad++;
			return;
		}
	} else {
		if (!same && gb_replay_template(ep, c) != 0) {
			ep->st.rx_bad++;
			return;
		}
		if (!c->rx_ready) {
			dp_dedup_init(c->rx, f->seq);
			c->rx_ready = 1;
		}
	}
	if (!c->up)
		atomic_fetch_add(&ep->up, 1);
	c->up = 1;
	c->hello_backoff = 0;
}

/* v2: the router's reconnection probe (epoch 0, sealed hs.r2c, a fresh
 * ctr) is how a connector learns its session is gone: there is no
 * NO_SESSION NACK any more. Say HELLO at once. */
static void on_probe(struct gb_endpoint *ep, struct gb_ep_conn *c, const uint8_t *gw,
		     const struct gw_frame *f)
{
	if (!gw_auth_check_hs(gw, f->length, c->hs.r2c)) {
		ep->st.rx_auth_failed++;
		return;
	}
	if (f->ctr <= c->probe_ctr) {
		ep->st.rx_bad++; /* an older probe: nothing new */
		return;
	}
	c->probe_ctr = f->ctr;
	if (c->up) {
		ep->st.session_losses++;
		c->up = 0;
		atomic_fetch_sub(&ep->up, 1);
	}
	c->t_hello = 0;
}

/* The sinks' DATA decoder: a router DATA frame of this run's one DATA
 * length (header and fields checked against what this run's frames must
 * hold) is read at fixed offsets; gw_wire_parse(), which also validates
 * the destination address, costs a sink a fifth of its time and takes any
 * other frame. What the router could get wrong here (origin, seq, route)
 * the payload stamp and the delivered set check; the tag, with
 * --sink-verify. 1: @f filled. */
static inline int data_fast(const struct gb_ctx *ctx, const uint8_t *gw, unsigned len,
			    struct gw_frame *f, bool trailer)
{
	struct gw_wire_hdr h;
	struct gw_wire_data d;

	if (len != ctx->data_len)
		return 0;
	memcpy(&h, gw, sizeof(h));
	memcpy(&d, gw + GW_HDR_LEN, sizeof(d));
	if (h.magic != rte_cpu_to_be_16(GW_WIRE_MAGIC) || h.version != GW_WIRE_VERSION ||
	    h.type != GW_T_DATA || rte_be_to_cpu_16(h.length) != len ||
	    (h.flags & ~rte_cpu_to_be_16(GW_F_KNOWN_MASK)) != 0 ||
	    rte_be_to_cpu_16(d.dest_len) != ctx->dest_len ||
	    rte_be_to_cpu_16(d.payload_len) != ctx->o->payload)
		return 0;
	f->type = GW_T_DATA;
	f->version = h.version;
	f->length = (uint16_t)len;
	f->flags = rte_be_to_cpu_16(h.flags);
	f->sender = rte_be_to_cpu_32(h.sender);
	f->epoch = rte_be_to_cpu_32(h.epoch);
	f->seq = rte_be_to_cpu_64(h.seq);
	f->u.data.origin_seq = rte_be_to_cpu_64(d.origin_seq);
	f->u.data.origin = rte_be_to_cpu_32(d.origin);
	f->u.data.dest_len = ctx->dest_len;
	f->u.data.payload_len = (uint16_t)ctx->o->payload;
	f->u.data.dest = gw + GW_HDR_LEN + GW_DATA_FIXED_LEN;
	f->u.data.payload = f->u.data.dest + ctx->dest_len;
	/* The trailer (its own cache line) only when the tag is checked. */
	f->ctr = 0;
	if (trailer) {
		memcpy(&f->ctr, gw + len - GW_TRAILER_LEN, 8);
		f->ctr = rte_be_to_cpu_64(f->ctr);
	}
	f->tag = gw + len - GW_TAG_LEN;
	return f->sender == GW_CONN_ID_ROUTER && f->u.data.origin != 0 && f->seq != 0 &&
	       f->u.data.origin_seq != 0;
}

/* A parsed lane-1 frame from the router waiting for its tag. */
struct rx_sess {
	struct gb_ep_conn *c;
	struct gw_frame f;
	int tag; /* index in the tag batch, -1: not checked (sink DATA, --sink-verify off) */
};

/* Classify one received frame: handshake frames are handled at once (they
 * change sessions), lane-1 frames of the current session are returned for
 * the burst's tag check (1), anything else is counted and dropped (0). */
static int rx_classify(struct gb_endpoint *ep, struct rte_mbuf *m, struct rx_sess *rs,
		       bool check_all)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(ih + 1);
	const uint8_t *gw = (const uint8_t *)(uh + 1);
	struct gw_frame *f = &rs->f;
	struct gb_ep_conn *c;
	uint16_t ulen;

	if (unlikely(rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + 28 ||
		     eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		     ih->next_proto_id != IPPROTO_UDP)) {
		ep->st.rx_bad++;
		return 0;
	}
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	c = conn_by_ip(ep, ih->dst_addr);
	if (unlikely(c == NULL || ulen < 8 ||
		     RTE_ETHER_HDR_LEN + 20u + ulen > rte_pktmbuf_data_len(m) ||
		     (!data_fast(ep->ctx, gw, ulen - 8u, f, check_all) &&
		      gw_wire_parse(gw, ulen - 8u, f) != GW_WIRE_OK))) {
		ep->st.rx_bad++;
		return 0;
	}
	ep->st.rx_frames++;
	switch (f->type) {
	case GW_T_DATA:
	case GW_T_ACK:
	case GW_T_NACK:
		if (f->epoch == 0)
			return 0; /* NOT_AUTHORISED: handshake-sealed; the HELLO repeats */
		if (!c->up || f->epoch != c->epoch) {
			ep->st.rx_bad++; /* another session's: stale */
			return 0;
		}
		if ((check_all || f->type != GW_T_DATA) && gw_ctr_lane(f->ctr) != GW_LANE_STREAM) {
			ep->st.rx_auth_failed++;
			return 0;
		}
		rs->c = c;
		return 1;
	case GW_T_WELCOME:
		on_welcome(ep, c, gw, f);
		return 0;
	case GW_T_KEEPALIVE:
		if (f->epoch == 0)
			on_probe(ep, c, gw, f);
		return 0;
	default: /* BYE */
		return 0;
	}
}

/* Ask for the lines a burst's processing will read (gb_ep_iter holds the
 * burst for a pass before processing it). The router wrote these mbufs on
 * another core: every header and frame line is a transfer, 200-300 cycles
 * each, and read at once they stalled the sink on every frame. The frame's
 * lines at the address it has when the sender used the default headroom
 * and no private area (the harness's and the router's pools): computed, so
 * that no prefetch waits for the header it would read the address from; a
 * wrong guess costs a useless prefetch. */
static void rx_prefetch(const struct gb_ep_run *er, struct rte_mbuf **pkts, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *m = (const char *)pkts[i], *d = m + er->data_off;

		rte_prefetch0(m);
		rte_prefetch0(m + RTE_CACHE_LINE_SIZE); /* pool, next: the free */
		rte_prefetch0(d);
		rte_prefetch0(d + RTE_CACHE_LINE_SIZE);
	}
}

/* One receive burst: classify, check the lane-1 tags in one batch (one
 * device call per session), then act on each frame in order; the mbufs
 * are freed in bulk by the caller. With --no-auth the router does not seal:
 * the check is still made (same harness work) and its verdict ignored. */
static void rx_burst(struct gb_ep_run *er, struct rte_mbuf **pkts, unsigned n, uint64_t now)
{
	struct gb_endpoint *ep = er->ep;
	const struct gb_opts *o = ep->ctx->o;
	struct rx_sess rs[GB_BURST];
	uint8_t fdup[GB_BURST];
	struct gb_tag_batch *b = &er->tb;
	const bool check_all = ep->is_origin || o->sink_verify;
	unsigned i, k = 0;

	if (check_all)
		for (i = 0; i < n; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], const char *) +
				      rte_pktmbuf_data_len(pkts[i]) - GW_TRAILER_LEN);
	for (i = 0; i < n; i++) {
		struct rx_sess *r = &rs[k];

		fdup[k] = 0;
		if (!ep->is_origin && unlikely(o->drop > 0 || o->dup > 0)) {
			double u = gb_rng_unit(&ep->conns[0].rng);

			if (u < o->drop) {
				ep->st.fault_drop++;
				continue;
			}
			fdup[k] = u < o->drop + o->dup;
			ep->st.fault_dup += fdup[k];
		}
		if (!rx_classify(ep, pkts[i], r, check_all))
			continue;
		r->tag = -1;
		if (check_all || r->f.type != GW_T_DATA)
			r->tag = (int)gb_tag_add(b, (uint8_t *)(uintptr_t)r->f.tag - (r->f.length - GW_TAG_LEN),
						 r->f.length, &r->c->k_r2c, NULL, 0);
		k++;
	}
	if (b->n != 0)
		gb_tag_run(&ep->ctx->tag, b, false);
	for (i = 0; i < k; i++) {
		struct rx_sess *r = &rs[i];
		struct gb_ep_conn *c = r->c;
		uint64_t cn = gw_ctr_count(r->f.ctr);

		/* A DATA frame whose tag is not checked (--sink-verify off) is
		 * not replay-checked either: without the tag its counter
		 * proves nothing, and reading it costs the sink a line. */
		if (!o->no_auth && r->tag >= 0) {
			if (!dp_replay_check(c->rx_win, cn)) {
				ep->st.rx_replayed++;
				continue;
			}
			if (r->tag >= 0 && !b->ok[r->tag]) {
				ep->st.rx_auth_failed++;
				continue;
			}
			dp_replay_commit(c->rx_win, cn);
		}
		switch (r->f.type) {
		case GW_T_ACK:
			if (ep->is_origin)
				gb_origin_ack(er, c, &r->f);
			break;
		case GW_T_NACK:
			if (ep->is_origin)
				gb_origin_nack(er, c, &r->f, now);
			break;
		default: /* DATA */
			if (!ep->is_origin) {
				gb_dest_data(er, c, &r->f, now);
				if (fdup[i])
					gb_dest_data(er, c, &r->f, now);
			}
			break;
		}
	}
	b->n = 0;
}

/* ---- the thread ----------------------------------------------------------- */

/* Session timers and retransmission scans, a slice of the connectors per
 * tick so that each is visited every GB_SWEEP_TICKS ticks: 65,536
 * connectors do not cost a pass over all of them every millisecond. */
#define GB_SWEEP_TICKS 4
#define GB_SWEEP_MAX 1024
#define GB_HELLOS_PER_MS 16
static void timers(struct gb_ep_run *er, uint64_t now, unsigned *next, unsigned *idle)
{
	struct gb_endpoint *ep = er->ep;
	const uint64_t us = ep->ctx->tsc_hz / 1000000u;
	unsigned slice = (ep->n_conns + GB_SWEEP_TICKS - 1) / GB_SWEEP_TICKS, k;

	/* At most GB_SWEEP_MAX a tick: 65,536 connectors are each visited
	 * every 64 ms (keepalives every few seconds, RTO 50 ms: in time),
	 * not 16,384 of them a millisecond (a third of the core). */
	if (slice > GB_SWEEP_MAX)
		slice = GB_SWEEP_MAX;

	er->hello_tokens = GB_HELLOS_PER_MS;

	for (k = 0; k < slice; k++) {
		struct gb_ep_conn *c = &ep->conns[*next];

		if (++*next == ep->n_conns) {
			*next = 0;
			atomic_store(&ep->idle, *idle + (ep->is_origin && c->cum + 1 == c->next_seq));
			*idle = 0;
		} else {
			*idle += ep->is_origin && c->cum + 1 == c->next_seq;
		}
		/* Session frames may use the slots that data leaves free, so
		 * a saturating generator never starves its own keepalives. */
		if (er->txq[c->queue].n >= TXB_MAX - 4)
			continue;
		if (!c->up) {
			/* HELLOs are paced (GB_HELLOS_PER_MS a thread) and each
			 * connector's repeats back off to 16x: 65,536 connectors
			 * starting at once would otherwise flood the router's
			 * control thread with repeats faster than it answers. */
			if (er->hello_tokens > 0 &&
			    now - c->t_hello >= ((uint64_t)GB_HELLO_US << c->hello_backoff) * us) {
				er->hello_tokens--;
				if (c->t_hello != 0 && c->hello_backoff < 4)
					c->hello_backoff++;
				gb_send_ctl(ep, er->txq, c, GW_T_HELLO, now);
			}
			continue;
		}
		if (now - c->t_ka >= (uint64_t)c->ka_us * us)
			gb_send_ctl(ep, er->txq, c, GW_T_KEEPALIVE, now);
		if (ep->is_origin)
			gb_origin_scan(er, c, now);
	}
}

/* One endpoint's state for its thread; NULL if out of memory. */
static struct gb_ep_run *ep_begin(struct gb_endpoint *ep)
{
	const struct gb_opts *o = ep->ctx->o;
	const uint64_t hz = ep->ctx->tsc_hz;
	struct gb_ep_run *er = calloc(1, sizeof(*er));

	if (er == NULL)
		return NULL;
	er->ep = ep;
	er->txq = calloc(ep->n_queues, sizeof(*er->txq));
	er->due = calloc(ep->n_conns, sizeof(*er->due));
	if (er->txq == NULL || er->due == NULL) {
		free(er->txq);
		free(er->due);
		free(er);
		return NULL;
	}
	er->rto = GB_DEF_RTO_US * (hz / 1000000u);
	er->rto_ticks = gb_tick(er->rto);
	er->in_flight_max = GB_INFLIGHT_MAX / o->gen_threads;
	er->data_off =
	    (unsigned)sizeof(struct rte_mbuf) + rte_pktmbuf_priv_size(ep->pool) + RTE_PKTMBUF_HEADROOM;
	er->rate = ep->is_origin && o->rate ? (double)o->rate / o->gen_threads : 0;
	er->last = rte_rdtsc();
	return er;
}


#define GB_SEND_VISITS 64

/* One pass of endpoint @er: receive, acknowledge, timers, send, transmit.
 * Returns the frames it received or sent (0: idle). */
static unsigned ep_iter(struct gb_ep_run *er, uint64_t now)
{
	struct gb_endpoint *ep = er->ep;
	struct gb_ctx *ctx = ep->ctx;
	const uint64_t hz = ctx->tsc_hz;
	unsigned work = 0, q, i;

	ep->st.loops++;
	/* What the last pass received, its lines prefetched since: one
	 * burst at a time, each acknowledged. */
	for (i = 0; i < er->n_held; i += GB_BURST) {
		unsigned n = er->n_held - i < GB_BURST ? er->n_held - i : GB_BURST;

		rx_burst(er, er->held + i, n, now);
		rte_pktmbuf_free_bulk(er->held + i, n);
		if (!ep->is_origin && er->n_due != 0)
			gb_dest_acks(er);
	}
	er->n_held = 0;
	/* Up to GB_HELD frames (8 bursts) a pass, so that a sink sharing its thread
	 * with a generator (which sends up to four bursts a pass) keeps up
	 * with it; held for the next pass, their lines asked for now. */
	for (q = 0; q < ep->n_rxq; q++)
		while (er->n_held + GB_BURST <= GB_HELD) {
			uint16_t n = rte_eth_rx_burst(ep->port_id, (uint16_t)q,
						      er->held + er->n_held, GB_BURST);

			if (n == 0)
				break;
			rx_prefetch(er, er->held + er->n_held, n);
			er->n_held += n;
			work += n;
			if (n < GB_BURST)
				break;
		}
	if (now >= er->next_tick) {
		timers(er, now, &er->sweep, &er->idle);
		er->next_tick = now + hz / 1000u; /* timers every ms */
	}
	if (ep->is_origin && ctx->phase == GB_PH_RUN) {
		unsigned budget = GB_BURST * 4, k;

		if (er->rate > 0) {
			er->tokens += (double)(now - er->last) * er->rate / (double)hz;
			if (er->tokens > GB_BURST * 4)
				er->tokens = GB_BURST * 4;
			budget = (unsigned)er->tokens;
		}
		er->last = now;
		/* At most GB_SEND_VISITS origins a pass: with thousands of
		 * them, most waiting for ACKs, a pass over all would cost more
		 * than the messages it sends. */
		for (k = 0; k < ep->n_conns && k < GB_SEND_VISITS && budget > 0; k++) {
			struct gb_ep_conn *c = &ep->conns[er->rr];
			unsigned sent;

			er->rr = er->rr + 1 == ep->n_conns ? 0 : er->rr + 1;
			if (!c->up)
				continue;
			sent = gb_origin_send(er, c, budget < GB_BURST ? budget : GB_BURST, now);
			if (sent == 0)
				continue;
			gb_replay_flush(er);
			budget -= sent;
			er->tokens -= sent;
			work += sent;
		}
		gb_stash_refill(er);
	} else if (!ep->is_origin && work != 0) {
		gb_stash_refill(er); /* the next pass's ACKs */
	}
	gb_tx_flush(ep, er->txq);
	if (work != 0) {
		ep->st.busy_loops++;
		ep->st.busy_cycles += rte_rdtsc() - now;
	}
	return work;
}

static void ep_end(struct gb_ep_run *er)
{
	struct gb_endpoint *ep = er->ep;
	struct gb_ctx *ctx = ep->ctx;
	unsigned q, i;

	for (q = 0; q < ep->n_queues; q++)
		for (i = 0; i < er->txq[q].n; i++)
			rte_pktmbuf_free(er->txq[q].m[i]);
	if (er->n_stash != 0)
		rte_mempool_put_bulk(ep->pool, (void **)er->stash, er->n_stash);
	if (er->n_held != 0)
		rte_pktmbuf_free_bulk(er->held, er->n_held);
	if (ep->is_origin) {
		for (i = 0; i < ep->n_conns; i++) {
			struct gb_ep_conn *c = &ep->conns[i];

			ctx->last_seq[c->id - 1] = c->next_seq - 1;
			ep->st.unresolved += gb_origin_unresolved(c);
		}
	}
	free(er->txq);
	free(er->due);
	free(er);
}

/* The endpoints that share one harness CPU run in one thread, one pass of
 * each in turn: a generator and a sink on one core then cost no context
 * switch between them (two threads sharing a core through sched_yield
 * spent a fifth of its time switching). */
struct gb_ep_group {
	unsigned n;
	struct gb_endpoint *ep[GB_MAX_ENDPOINTS];
};

static void *group_main(void *arg)
{
	struct gb_ep_group *g = arg;
	struct gb_ctx *ctx = g->ep[0]->ctx;
	struct gb_ep_run *er[GB_MAX_ENDPOINTS] = {0};
	unsigned i, ok = 1;
	char name[16];
	int tid = (int)gettid();

	if (g->n == 1)
		snprintf(name, sizeof(name), "gb-ep%u-%s", g->ep[0]->idx,
			 g->ep[0]->is_origin ? "gen" : "sink");
	else
		snprintf(name, sizeof(name), "gb-harness%u", g->ep[0]->idx);
	pthread_setname_np(pthread_self(), name);
	for (i = 0; i < g->n; i++)
		atomic_store(&g->ep[i]->tid, tid);
	if (g->ep[0]->cpu >= 0)
		gb_pin_self(g->ep[0]->cpu);
	if (rte_thread_register() != 0) {
		fprintf(stderr, "gwart-bench: %s: cannot register with DPDK\n", name);
		return NULL;
	}
	for (i = 0; i < g->n; i++)
		if ((er[i] = ep_begin(g->ep[i])) == NULL)
			ok = 0;
	while (ok && ctx->phase != GB_PH_STOP) {
		unsigned work = 0;

		for (i = 0; i < g->n; i++)
			work += ep_iter(er[i], rte_rdtsc());
		/* Nothing received or sent: on an oversubscribed host, give the
		 * CPU to whoever shares it (another endpoint thread, the control
		 * thread); on a dedicated core this costs one syscall. */
		if (work == 0)
			sched_yield();
	}
	if (!ok)
		fprintf(stderr, "gwart-bench: %s: out of memory\n", name);
	for (i = 0; i < g->n; i++)
		if (er[i] != NULL)
			ep_end(er[i]);
	rte_thread_unregister();
	return NULL;
}

int gb_ctx_start(struct gb_ctx *ctx)
{
	unsigned e, f;
	bool placed[GB_MAX_ENDPOINTS] = {false};

	for (e = 0; e < ctx->n_ep; e++) {
		struct gb_ep_group *g;
		int rc;

		if (placed[e])
			continue;
		g = calloc(1, sizeof(*g));
		if (g == NULL)
			return -ENOMEM;
		for (f = e; f < ctx->n_ep; f++)
			if (!placed[f] && ctx->ep[f].cpu == ctx->ep[e].cpu) {
				g->ep[g->n++] = &ctx->ep[f];
				placed[f] = true;
			}
		rc = pthread_create(&ctx->ep[e].thread, NULL, group_main, g);
		if (rc != 0) {
			free(g);
			return -rc;
		}
		ctx->ep[e].group = g;
		ctx->ep[e].started = true;
	}
	return 0;
}

void gb_endpoint_join(struct gb_endpoint *ep)
{
	if (ep->started)
		pthread_join(ep->thread, NULL);
	free(ep->group);
	ep->group = NULL;
	ep->started = false;
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
	unsigned i, spo = is_origin ? gb_slots_per_origin(ctx->o->origins) : 0;

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
	/* One slab each for the connectors, their replay windows and their
	 * slots (origins) or receive windows (destinations). */
	ep->conns = calloc(n, sizeof(*ep->conns));
	ep->rx_win = calloc(n, sizeof(*ep->rx_win));
	if (is_origin)
		ep->slots = calloc((size_t)n * spo, sizeof(*ep->slots));
	else
		ep->rx = calloc(n, sizeof(struct dp_dedup));
	if (ep->conns == NULL || ep->rx_win == NULL || (is_origin ? ep->slots == NULL : ep->rx == NULL))
		return -ENOMEM;
	ep->mem_per_conn = sizeof(*ep->conns) + sizeof(*ep->rx_win) +
			   (is_origin ? spo * sizeof(*ep->slots) : sizeof(struct dp_dedup)) +
			   2u * ctx->tag.sess_size;
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
		c->rx_win = &ep->rx_win[i];
		dp_replay_init(c->rx_win);
		c->next_seq = 1;
		if (is_origin) {
			c->slot = &ep->slots[(size_t)i * spo];
			c->slot_mask = spo - 1;
		} else {
			c->rx = &((struct dp_dedup *)ep->rx)[i];
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
		gw_auth_wipe(ep->conns[i].secret, sizeof(ep->conns[i].secret));
		gw_auth_wipe(&ep->conns[i].hs, sizeof(ep->conns[i].hs));
		gb_tkey_clear(&ep->ctx->tag, &ep->conns[i].k_c2r);
		gb_tkey_clear(&ep->ctx->tag, &ep->conns[i].k_r2c);
	}
	free(ep->conns);
	free(ep->rx_win);
	free(ep->slots);
	free(ep->rx);
	ep->conns = NULL;
	ep->rx_win = NULL;
	ep->slots = NULL;
	ep->rx = NULL;
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
