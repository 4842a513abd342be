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
 * at once if the session and window allow. 0, or -1 when custody is full
 * (BUSY; @m untouched). After 0 the caller must not touch @m or its data
 * again: a first transmission sends @m itself, rewritten in place, and
 * custody keeps a copy (egress.c, send_data()). */
int dp_egress_take(struct dp_lcore *lc, const struct dp_conn *dc, struct rte_mbuf *m);
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
