/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint internals shared by gb_endpoint.c (the protocol state machines
 * and the thread) and gb_frame.c (building frames and the TX buffers):
 * per-connector state and the per-queue TX buffer. One endpoint thread owns
 * all of it; nothing here is shared between threads.
 */
#ifndef GWART_BENCH_GB_ENDPOINT_H
#define GWART_BENCH_GB_ENDPOINT_H

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "replay.h"

#include "gb.h"

enum gb_slot_state { GB_SL_FREE, GB_SL_SENT, GB_SL_ACKED, GB_SL_REFUSED };

struct gb_slot {
	uint64_t t_first;  /* TSC of the first transmission (stamped in the payload) */
	uint64_t deadline; /* TSC: retransmit when reached */
	uint32_t route;
	uint8_t state;
};

struct gb_ep_conn {
	uint32_t id;
	uint32_t ip_be;
	uint16_t udp_be;
	uint16_t queue;
	struct rte_ether_addr mac;
	uint8_t up;
	uint8_t ack_due;
	uint8_t rx_ready;
	uint32_t epoch;
	uint32_t window;
	uint64_t nonce;
	uint64_t t_hello, t_ka;
	struct gb_rng rng;
	/* origin */
	uint64_t next_seq;    /* next new origin seq */
	uint64_t cum;	      /* every seq <= cum resolved */
	uint64_t pause_until; /* TSC: BUSY seen, no new sends before */
	struct gb_slot *slot;
	/* destination */
	struct dp_dedup *rx;
	uint64_t ack_lo, ack_hi; /* link seqs received since the last ACK */
	/* v2 (PROTOCOL.md, auth.h): the secret, handshake keys, the session's
	 * expanded GMAC keys, counters per lane, the lane-1 window of router
	 * frames. */
	uint8_t secret[GW_KEY_LEN];
	struct gw_hs_keys hs;
	struct gw_gmac_key s_c2r, s_r2c;
	uint8_t salt[GW_SALT_LEN];
	uint64_t hello_ctr;	  /* newest HELLO ctr sent (CLOCK_REALTIME ns, increasing) */
	uint64_t welcome_ctr;	  /* ctr of the newest WELCOME accepted */
	uint64_t probe_ctr;	  /* ctr of the newest reconnection probe accepted */
	uint64_t tx_ctr[GW_LANE_COUNT]; /* last count sent per lane */
	struct dp_replay rx_win;  /* lane 1 from the router */
};

#define TXB_MAX 512 /* frames buffered per TX queue */

struct gb_txq {
	unsigned n;
	struct rte_mbuf *m[TXB_MAX];
};

/* ---- gb_frame.c ----------------------------------------------------------- */

/* Allocate an Ethernet/IPv4/UDP frame from connector @c to the router with
 * room for @gw_len bytes of gwart frame at *gw; NULL if the pool is empty. */
struct rte_mbuf *gb_frame_alloc(struct gb_endpoint *ep, const struct gb_ep_conn *c, uint16_t gw_len,
				uint8_t **gw);
/* IPv4 checksum (and UDP checksum with --udp-csum). */
void gb_frame_finish(const struct gb_endpoint *ep, struct rte_mbuf *m);
/* Hand the TX buffers to the port; what does not fit stays, in order. */
void gb_tx_flush(struct gb_endpoint *ep, struct gb_txq *txq);
/* HELLO or KEEPALIVE for @c. */
void gb_send_ctl(struct gb_endpoint *ep, struct gb_txq *txq, struct gb_ep_conn *c, int type,
		 uint64_t now);
/* DATA frame @seq of origin @c (slot @sl), through the fault injection
 * (a duplicate is the same bytes, counter included: the router refuses it
 * as a replay, as it would a network's duplicate). */
void gb_emit_data(struct gb_endpoint *ep, struct gb_txq *txq, struct gb_ep_conn *c, uint64_t seq,
		  struct gb_slot *sl, int retx);

static inline void gb_txq_put(struct gb_txq *tq, struct rte_mbuf *m)
{
	if (unlikely(tq->n == TXB_MAX)) {
		rte_pktmbuf_free(m); /* cannot happen: senders check room first */
		return;
	}
	tq->m[tq->n++] = m;
}

#endif
