/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connector's mutable state, private to its owner worker: the ingress
 * duplicate window, the egress custody queue and per-connector counters.
 * Dataplane-internal: control/ reads it only through dp_conn_snapshot().
 */
#ifndef GWART_DP_CONN_STATE_H
#define GWART_DP_CONN_STATE_H

#include <stdint.h>

#include <rte_common.h>

#include "custody.h"
#include "dedup.h"
#include "stats.h"

/* Mutable per-connector state; owner worker only (see above). Allocated by
 * the control thread when the connector is created, stable across every
 * republication of the connector object. */
struct dp_conn_state {
	struct dp_dedup win;        /* ingress: duplicate window over origin seqs */
	uint64_t ack_gen;           /* burst in which this origin joined the ACK list */
	uint64_t ack_lo, ack_hi;    /* origin seqs to (re)acknowledge this burst */
	struct dp_custody *cust;    /* egress */
	struct dp_conn_state *act_next, **act_pprev; /* owner's active list */
	uint32_t tx_epoch;          /* session epoch of the last egress transmission */
	uint32_t rx_hello_gen;      /* last HELLO whose seq the window absorbed */
	uint32_t retired;           /* set by the owner once it forgot this state */
	uint64_t down_tsc;          /* owner: when it first saw the destination down */
	uint32_t srtt_us;           /* egress smoothed round-trip time (0: no sample yet) */
	uint32_t rttvar_us;
	uint64_t ack_tsc;           /* when the destination last acknowledged anything */
	uint64_t ack_horizon;       /* highest egress seq its ACKs have reported on */
	uint32_t id;
	struct dp_conn_stats stats;
} __rte_cache_aligned;

#endif
