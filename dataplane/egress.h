/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Egress: custody, transmission and retransmission towards destination
 * connectors (dataplane/egress.c). Every function runs on the worker that
 * owns the destination (dp_conn.owner), between two of its quiescent states;
 * connector pointers passed in were fetched with dp_conn_get() in the same
 * iteration.
 */
#ifndef GWART_DP_EGRESS_H
#define GWART_DP_EGRESS_H

#include <gwart/wire.h>

#include "lcore.h"

/* Take @m (a DATA frame, L2-L4 stripped) into @dc's custody and transmit it
 * at once if the session and window allow. 0, or the drop reason it is
 * refused for (@m untouched; dp_drop_nack() gives the NACK): BUSY (custody
 * full), BUSY_BYTES (the byte bound, the destination's or this worker's
 * share of the total), and for a chunk of a group GROUP_TOO_BIG,
 * GROUPS_FULL, GROUP_MISMATCH (dp_egress_take_chunk()). After 0 the
 * caller must not touch @m or its data again: a first transmission sends
 * @m itself, rewritten in place, and custody keeps a copy (egress.c,
 * send_data()). */
int dp_egress_take(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m);
/* A failover move of @m into @dc's custody (acknowledged long ago): beyond
 * the operator's bounds, up to the ring. 0, or -1 (@m untouched). */
int dp_egress_take_move(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m);
/* Failover: give @m to @nc (its owner's custody, through a hand-off when
 * that is another worker). 0, or -1 (@m untouched). */
int dp_egress_move_to(struct dp_lcore *lc, const struct dp_conn *nc, struct rte_mbuf *m);
/* Failover: never-transmitted @seq leaves @cu (a hole until
 * dp_custody_compact()); its bytes leave this worker's share. */
void dp_egress_unqueue(struct dp_lcore *lc, struct dp_custody *cu, uint64_t seq);
/* @dc has something new in custody: on the scan list, transmitted now if
 * its session and window allow. */
void dp_egress_kick(struct dp_lcore *lc, const struct dp_conn *dc);

/* May @cu hold @bytes more: the destination's custody_bytes and this
 * worker's share of custody_bytes_total (tuning.h: the total divided
 * equally between workers, compared by multiplication). */
static inline int dp_egress_bytes_room(const struct dp_lcore *lc, const struct dp_custody *cu,
				       uint64_t bytes)
{
	return cu->bytes + bytes <= lc->tun->custody_bytes &&
	       (lc->cust_bytes + bytes) * lc->rt->n_workers <= lc->tun->custody_bytes_total;
}

/* Apply an ACK frame @f from destination @c (frees @m). */
void dp_egress_ack(struct dp_lcore *lc, struct rte_mbuf *m, const struct gw_frame *f,
		   const struct dp_conn *c);
/* Retransmission / failover scan over this worker's destinations with
 * messages in custody (every DP_RTO_SCAN_US). */
void dp_egress_scan_all(struct dp_lcore *lc);
/* Put @ds on / take it off this worker's list of destinations to scan. */
void dp_egress_activate(struct dp_lcore *lc, struct dp_conn_state *ds);
void dp_egress_forget(struct dp_conn_state *ds);
/* dp_conn_up_fn for route selection: session up and enabled. */
int dp_egress_conn_up(void *ctx, uint32_t id);


#endif
