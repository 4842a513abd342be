/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connector objects: creation and session changes, published under RCU.
 *
 * Writer side: the control thread only (single writer), never inside an RCU
 * read-side section. Each change copies the current object, edits the copy,
 * publishes it with rcu_assign_pointer and retires the old one with call_rcu,
 * so a worker that fetched the old pointer keeps a valid object until its
 * next quiescent state. The mutable owner state (dp_conn_state) is shared by
 * every version of the object and is written only by the owner worker.
 */
#ifndef GWART_DP_CONN_H
#define GWART_DP_CONN_H

#include "router.h"

struct dp_conn_session {
	uint16_t port;
	struct rte_ether_addr mac;
	uint32_t ip_be;
	uint16_t udp_be;
	uint32_t rx_window;
	uint64_t nonce;
	uint64_t hello_seq;
};

/* Create connector @id (1..DP_MAX_CONNECTORS-1) named @name, session down.
 * 0, -EINVAL, -EEXIST, -ENOMEM. */
int dp_conn_create(struct dp_router *rt, uint32_t id, const char *name);
/* Session established: new epoch (returned in *epoch), address learnt. */
int dp_conn_session_up(struct dp_router *rt, uint32_t id, const struct dp_conn_session *s,
		       uint32_t *epoch);
/* Repeated HELLO on a live session: same epoch, window moves to @hello_seq. */
int dp_conn_session_refresh(struct dp_router *rt, uint32_t id, uint64_t hello_seq);
/* Session gone: workers hold its messages in custody. */
int dp_conn_session_down(struct dp_router *rt, uint32_t id);
/* Administrative enable/disable (disabled connectors are not chosen). */
int dp_conn_set_enabled(struct dp_router *rt, uint32_t id, int enabled);
/* Control-thread read of the current object (it is the only writer). */
const struct dp_conn *dp_conn_peek(const struct dp_router *rt, uint32_t id);
/* Shutdown, workers stopped: free every connector and what it holds.
 * Returns how many messages were still in custody. */
unsigned dp_conn_free_all(struct dp_router *rt);

#endif
