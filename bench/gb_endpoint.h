/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Endpoint internals shared by gb_endpoint.c (sessions, receive dispatch,
 * the thread), gb_replay.c (the replay generator and the sink) and
 * gb_frame.c (control frames, TX buffers): per-connector state and the
 * per-queue TX buffer. One endpoint thread owns all of it; nothing here is
 * shared between threads.
 *
 * Memory per connector is what its window needs, not the worst case: an
 * origin's slots come from one slab per endpoint, sized by the in-flight
 * budget over the origins (gb_slots_per_origin()); a destination's receive
 * window is the router's own dp_dedup (264 bytes); keys are cryptodev
 * sessions (or libsodium's, without a device).
 */
#ifndef GWART_BENCH_GB_ENDPOINT_H
#define GWART_BENCH_GB_ENDPOINT_H

#include <rte_ip.h>
#include <rte_udp.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "replay.h"

#include "gb.h"
#include "gb_tag.h"

enum gb_slot_state { GB_SL_FREE, GB_SL_SENT, GB_SL_ACKED, GB_SL_REFUSED };

/* Deadlines in ticks of 2^GB_TICK_SHIFT TSC cycles (about 0.5 us at
 * 2 GHz): 32 bits wrap after more than half an hour, compared wrap-safe. */
#define GB_TICK_SHIFT 10
static inline uint32_t gb_tick(uint64_t tsc)
{
	return (uint32_t)(tsc >> GB_TICK_SHIFT);
}
static inline int gb_tick_due(uint32_t now, uint32_t deadline)
{
	return (int32_t)(now - deadline) >= 0;
}

/* One in-flight origin seq: 16 bytes. */
struct gb_slot {
	uint64_t t_first;  /* TSC of the first transmission (stamped in the payload) */
	uint32_t deadline; /* gb_tick: retransmit when reached */
	uint32_t route : 30;
	uint32_t state : 2;
};

/* L2-L4 headers, the gwart header and the DATA fields before the
 * destination: what every DATA frame of one origin and session shares. */
#define GB_TMPL_LEN (RTE_ETHER_HDR_LEN + 20 + 8 + GW_HDR_LEN + GW_DATA_FIXED_LEN)

struct gb_ep_conn {
	/* hot: every frame */
	uint32_t id;
	uint16_t queue;
	uint8_t up;
	uint8_t ack_due;
	uint8_t rx_ready;
	uint8_t hello_backoff; /* HELLO repeats every GB_HELLO_US << this */
	uint32_t epoch;
	uint32_t window; /* origin: seqs in flight at most */
	uint64_t tx_ctr[GW_LANE_COUNT];
	struct gb_tkey k_c2r, k_r2c; /* session keys: seal ours, check the router's */
	struct dp_replay *rx_win;    /* lane 1 from the router */
	/* origin */
	uint64_t next_seq;    /* next new origin seq */
	uint64_t cum;	      /* every seq <= cum resolved */
	uint64_t pause_until; /* TSC: BUSY seen, no new sends before */
	struct gb_slot *slot; /* slot_mask + 1 of them, in the endpoint's slab */
	uint32_t slot_mask;
	uint8_t tmpl[GB_TMPL_LEN]; /* this session's DATA prefix, or a destination's ACK
				    * headers (gb_replay_template) */
	/* destination */
	struct dp_dedup *rx;
	uint64_t ack_lo, ack_hi; /* link seqs received since the last ACK */
	struct gb_rng rng;
	/* cold: sessions */
	uint32_t ip_be;
	uint16_t udp_be;
	struct rte_ether_addr mac;
	uint64_t nonce;
	uint64_t t_hello, t_ka;
	uint32_t ka_us; /* KEEPALIVE interval of this session */
	uint8_t secret[GW_KEY_LEN];
	struct gw_hs_keys hs;
	uint8_t salt[GW_SALT_LEN];
	uint64_t hello_ctr;   /* newest HELLO ctr sent (CLOCK_REALTIME ns, increasing) */
	uint64_t welcome_ctr; /* ctr of the newest WELCOME accepted */
	uint64_t probe_ctr;   /* ctr of the newest reconnection probe accepted */
};

#define TXB_MAX 512 /* frames buffered per TX queue */

struct gb_txq {
	unsigned n;
	struct rte_mbuf *m[TXB_MAX];
};

/* mbufs taken from the pool one loop before they are written, their lines
 * prefetched for writing meanwhile: the generator's mbufs come back from
 * the router's custody, freed on the worker's core, so each first write
 * would otherwise wait for a line transfer (and a burst of them fills the
 * store buffer). */
#define GB_STASH 160 /* a pass sends up to 128: all of them prefetched a pass ahead */

#define GB_HELD (8 * GB_BURST) /* received frames held for a pass (GB_RX_BURSTS) */

/* What one endpoint thread works with besides its connectors. */
struct gb_ep_run {
	unsigned n_held;
	struct rte_mbuf *held[GB_HELD]; /* received last pass, being prefetched */
	unsigned n_stash;
	unsigned data_off; /* from an mbuf to its data at the default headroom */
	struct rte_mbuf *stash[GB_STASH];
	struct gb_endpoint *ep;
	struct gb_txq *txq;
	uint64_t rto;		/* TSC */
	uint32_t rto_ticks;	/* gb_tick units */
	uint64_t in_flight;	/* origin seqs sent and not resolved, all origins */
	uint64_t in_flight_max; /* this thread's share of GB_INFLIGHT_MAX */
	uint32_t *due;		/* sink: connectors (index) with an ACK due */
	unsigned n_due;
	struct gb_tag_batch tb; /* frames waiting for their tags */
	/* the thread's pass over this endpoint */
	double rate, tokens; /* generator: --rate share, msg/s; token bucket */
	uint64_t last, next_tick;
	unsigned rr, sweep, idle;
	unsigned hello_tokens; /* HELLOs this tick may still send */
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

static inline void gb_txq_put(struct gb_txq *tq, struct rte_mbuf *m)
{
	if (unlikely(tq->n == TXB_MAX)) {
		rte_pktmbuf_free(m); /* cannot happen: senders check room first */
		return;
	}
	tq->m[tq->n++] = m;
}

/* ---- gb_replay.c: the replay generator and the sink ----------------------- */

/* @n reset mbufs from the stash (refilled from the pool if it runs short);
 * 0, or -1 with nothing taken. */
int gb_mbuf_take(struct gb_ep_run *er, struct rte_mbuf **m, unsigned n);
/* Top the stash up and prefetch what came in (end of a loop). */
void gb_stash_refill(struct gb_ep_run *er);

/* Build @c's DATA template for its current session (at WELCOME). */
int gb_replay_template(struct gb_endpoint *ep, struct gb_ep_conn *c);
/* New messages for origin @c: at most @max, within its window. */
unsigned gb_origin_send(struct gb_ep_run *er, struct gb_ep_conn *c, unsigned max, uint64_t now);
/* Retransmit @c's expired seqs, oldest first. */
void gb_origin_scan(struct gb_ep_run *er, struct gb_ep_conn *c, uint64_t now);
/* Tag what the batch holds and queue it (the generator's frames). */
void gb_replay_flush(struct gb_ep_run *er);
void gb_origin_ack(struct gb_ep_run *er, struct gb_ep_conn *c, const struct gw_frame *f);
void gb_origin_nack(struct gb_ep_run *er, struct gb_ep_conn *c, const struct gw_frame *f,
		    uint64_t now);
/* Seqs of @c neither acknowledged nor refused (at exit). */
uint64_t gb_origin_unresolved(struct gb_ep_conn *c);
/* Sink: one DATA for destination @c. */
void gb_dest_data(struct gb_ep_run *er, struct gb_ep_conn *c, const struct gw_frame *f,
		  uint64_t now);
/* Sink: one ACK per destination that received DATA since the last call. */
void gb_dest_acks(struct gb_ep_run *er);

#endif
