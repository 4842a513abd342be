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

/* A DATA or ACK frame @f (at @gw, in @m) from @c, whose owner this worker
 * is, sent from @src. Takes @m: queued, or dropped with its reason. */
void dp_ingress_session(struct dp_lcore *lc, struct rte_mbuf *m, const uint8_t *gw,
			const struct gw_frame *f, const struct dp_conn *c,
			const struct dp_pkt_src *src);

/* Verify and process the frames dp_ingress_session() queued. */
void dp_ingress_verify_flush(struct dp_lcore *lc);

/* Route and take custody of the new messages queued since the last call. */
void dp_ingress_flush(struct dp_lcore *lc);

#endif
