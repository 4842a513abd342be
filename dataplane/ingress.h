/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ingress: session frames (DATA, ACK) received by their sender's owner
 * worker. Each burst goes in steps so that the costly parts run in bulk:
 * dp_ingress_session() makes the cheap checks and queues the frame;
 * dp_ingress_verify_flush() verifies the queued tags in one device call per
 * session and processes the frames that verified (DATA: duplicate window,
 * then queued for routing; ACK: egress); dp_ingress_flush() looks up every
 * queued destination in one bulk route lookup and takes custody or refuses.
 * Worker context only, between two quiescent states (every dp_conn pointer
 * is RCU-protected and dropped before the next one).
 */
#ifndef GWART_DP_INGRESS_H
#define GWART_DP_INGRESS_H

#include <stdint.h>

#include <rte_mbuf.h>

#include <gwart/wire.h>

#include "lcore.h"
#include "pkt.h"

/* The session frames of a burst: @n DATA or ACK frames, pk[i]->f at
 * pk[i]->gw in pk[i]->m, from pk[i]->c (not NULL), whose owner this worker
 * is, sent from pk[i]->src. Takes every mbuf: queued, or dropped with its
 * reason. The records themselves are not kept. */
void dp_ingress_session(struct dp_lcore *lc, struct dp_rx_pkt *const *pk, unsigned n);

/* Verify and process the frames dp_ingress_session() queued. */
void dp_ingress_verify_flush(struct dp_lcore *lc);

/* Route and take custody of the new messages queued since the last call. */
void dp_ingress_flush(struct dp_lcore *lc);

/* The destination route @r chooses for a message of @origin hashed by
 * @seq (a group: its group id): the lowest-cost connector up, else the
 * lowest-cost one that holds; NULL when none. */
const struct dp_conn *dp_ingress_choose(struct dp_lcore *lc, const struct dp_route *r,
				       uint32_t origin, uint64_t seq);

/* New message @seq of @st's connector is in custody: done in its window,
 * counted, acknowledged at the end of the burst. */
void dp_ingress_taken(struct dp_lcore *lc, struct dp_conn_state *st, uint64_t seq);

#endif
