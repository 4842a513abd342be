/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connector's mutable state, private to its owner worker: the ingress
 * duplicate window, the egress custody queue and per-connector counters.
 * Dataplane-internal: control/ reads it only through dp_conn_snapshot().
 */
#ifndef GWART_DP_CONN_STATE_H
#define GWART_DP_CONN_STATE_H

#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>

#include "router.h"

#include "custody.h"
#include "dedup.h"
#include "replay.h"
#include "rtt.h"
#include "stats.h"

struct dp_lcore;

/*
 * Mutable per-connector state. Allocated by the control thread when the
 * connector is created, shared by every republication of the connector
 * object (dp_conn.st), freed by dp_conn_delete() after a grace period and
 * the owner's acknowledgement. Per field: who writes, who reads.
 */
struct dp_conn_state {
	/* Set once by the control thread before the first publication. */
	uint32_t id;                /* control: wo before publication; dataplane: ro */
	struct dp_custody *cust;    /* the pointer: same; the queue: see custody.h */

	/* Owner worker private: no other thread touches these. */
	uint64_t ack_gen;           /* burst in which this origin joined the ACK list */
	uint64_t ack_lo, ack_hi;    /* origin seqs to (re)acknowledge this burst */
	struct dp_conn_state *act_next, **act_pprev; /* owner's active list */
	uint32_t tx_epoch;          /* session epoch of the last egress transmission */
	uint32_t rx_hello_gen;      /* last HELLO whose seq the window absorbed */
	uint64_t down_tsc;          /* when it first saw the destination down */
	struct dp_rtt rtt;          /* egress round-trip estimate (RFC 6298) */
	uint64_t ack_tsc;           /* when the destination last acknowledged anything */
	uint64_t ack_horizon;       /* highest egress seq its ACKs have reported on */
	uint32_t groups;            /* its groups in the owner's grp_o (group.h) */
	/* v2, lane 1 (stream: DATA, ACK, NACK) of the current session, reset
	 * when dp_conn.sess_gen moves (a new session; a refresh keeps them):
	 * the replay window of frames from the connector and the counter of
	 * frames to it (gw_ctr_make(GW_LANE_STREAM, ++tx_ctr)). Every lane-1
	 * frame to or from a connector passes through its owner, so these have
	 * one writer (dp_conn_sess_sync()). Lane 0 is control's. */
	uint32_t sess_gen;          /* dp_conn.sess_gen these belong to */
	uint64_t tx_ctr;            /* last lane-1 count sent */
	struct dp_replay rx_replay; /* lane-1 counts received and verified */

	/* Written by the owner worker, read by the control thread with relaxed
	 * loads (dp_conn_snapshot(), dp_conn_custody_total()); the owner writes
	 * them with relaxed stores. Also cust->held and cust->head. */
	struct dp_dedup win;        /* ingress window; dataplane: rw, ctlplane: ro (win.cum) */
	struct dp_conn_stats stats; /* dataplane: wo (DP_COUNT_*), ctlplane: ro */

	/* The delete hand-shake (dp_conn_delete() phase 3). */
	uint32_t retired;           /* dataplane: wo (release), ctlplane: ro (acquire) */
} __rte_cache_aligned;

/* Owner worker: make the lane-1 window and counter those of @c's session
 * (@c is a version of this state's connector). */
static inline void dp_conn_sess_sync(struct dp_conn_state *st, const struct dp_conn *c)
{
	if (unlikely(st->sess_gen != c->sess_gen)) {
		dp_replay_init(&st->rx_replay);
		st->tx_ctr = 0;
		st->sess_gen = c->sess_gen;
	}
}

/*
 * Owner worker: phase 3 of dp_conn_delete(). Forget every connector state
 * the control thread asked this worker to retire (rt->ctl_cmd[lc->idx]) and
 * acknowledge it (st->retired). The connector is already unpublished and a
 * grace period has passed, so only this worker's active list may still
 * point at the state. Call between read-side sections, from the worker loop.
 */
void dp_conn_owner_retire(struct dp_lcore *lc);

/*
 * Tests only (the rcutorture of tests/dataplane/test_conn.c): allocate,
 * unlink and free connector objects and states through @h instead of the
 * DPDK heap, so that a test can stamp every object with its age. NULL
 * restores the default. Call before any connector exists, from one thread.
 */
enum dp_conn_obj {
	DP_CONN_OBJ_CONN,           /* a struct dp_conn (one version of a connector) */
	DP_CONN_OBJ_STATE,          /* its struct dp_conn_state */
};
struct dp_conn_test_hooks {
	/* Zeroed memory, cache-line aligned, or NULL (-ENOMEM). */
	void *(*alloc)(void *arg, enum dp_conn_obj kind, size_t size);
	/* Readers can no longer find @obj (it is still readable for one grace
	 * period by those that found it before). */
	void (*unlinked)(void *arg, enum dp_conn_obj kind, void *obj);
	/* @obj is no longer referenced: release it. */
	void (*free)(void *arg, enum dp_conn_obj kind, void *obj);
	void *arg;
};
void dp_conn_set_test_hooks(const struct dp_conn_test_hooks *h);

#endif
