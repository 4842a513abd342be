/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connector lifecycle as the control plane drives it: create, session
 * and administrative changes (each republishes the object under RCU),
 * walks over existing ids, control's snapshot of worker-owned state, and
 * delete in phases. All in dataplane/conn.c.
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

#include <gwart/auth.h>

#include "router.h"

struct dp_conn_session {
	uint16_t port;
	struct rte_ether_addr mac;
	uint32_t ip_be;
	uint16_t udp_be;
	uint32_t rx_window;
	uint64_t nonce;
	uint64_t hello_seq;
	/* Protocol v2: chosen by control for this session (random, non-zero,
	 * not the previous epoch; 0 keeps the old sequential choice), the
	 * WELCOME's salt, and the keys control derived from them (auth.h).
	 * The dataplane copies what it needs; the caller wipes @keys after. */
	uint32_t epoch;
	uint8_t salt[GW_SALT_LEN];
	struct gw_session_keys keys;
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
/* A new name (1 to 31 bytes; reload's rename): 0, -EINVAL, -ENOENT, -ENOMEM. */
int dp_conn_set_name(struct dp_router *rt, uint32_t id, const char *name);
/* The smallest connector id above @after that exists, or 0 when none does;
 * each call costs O(1) words of a two-level bitmap, so a walk
 * `for (id = dp_conn_next(rt, 0); id != 0; id = dp_conn_next(rt, id))`
 * costs the connectors that exist. Control thread only. */
uint32_t dp_conn_next(const struct dp_router *rt, uint32_t after);
/* How many connectors exist. Control thread only. */
static inline uint32_t dp_conn_count(const struct dp_router *rt)
{
	return rt->n_conns;
}

/* Control-thread read of the current object (it is the only writer). */
const struct dp_conn *dp_conn_peek(const struct dp_router *rt, uint32_t id);

/* What the control plane may know of a connector's worker-owned state:
 * copied with relaxed atomic loads, each field consistent on its own, the
 * set racing with the owner worker (statistics and drain decisions only). */
struct dp_conn_snap {
	uint32_t held;            /* messages in custody for it */
	uint64_t bytes;           /* custody bytes: payload held plus groups' reservations */
	uint64_t rx_cum;          /* ingress: every origin seq <= rx_cum is done */
	uint64_t tx_acked;        /* egress: every link seq <= tx_acked was acknowledged */
	struct dp_conn_stats stats;
};
/* Control thread. 0, or -ENOENT for an unknown id. */
int dp_conn_snapshot(const struct dp_router *rt, uint32_t id, struct dp_conn_snap *out);
/* Messages in custody over every connector (relaxed loads). Control thread. */
uint64_t dp_conn_custody_total(const struct dp_router *rt);
/* Custody bytes (held payload and groups' reservations) over every
 * connector (relaxed loads). Control thread. */
uint64_t dp_conn_custody_bytes_total(const struct dp_router *rt);

/* Delete connector @id: refuse while custody holds messages for it (or
 * bytes a group reserved there for chunks still to come), unpublish
 * it, wait for a grace period, have its owner worker forget its state, free.
 * Control thread, online, outside any read-side section; it blocks for one
 * grace period and the owner's acknowledgement (at most about 2 s: a worker
 * that does not answer is stuck, and its state is leaked rather than freed
 * under it, returning -ETIMEDOUT with the connector gone). *lost (may be
 * NULL) receives the messages freed with it (0 unless a message arrived in
 * the race between the check and the unpublication).
 * 0, -ENOENT, -EBUSY (custody not empty), -EAGAIN (the owner's command ring
 * is full: nothing changed; it has room for 63 deletes in flight, so only a
 * stuck worker fills it), -ETIMEDOUT. */
int dp_conn_delete(struct dp_router *rt, uint32_t id, unsigned *lost);
/* Shutdown, workers stopped: free every connector and what it holds.
 * Returns how many messages were still in custody. */
unsigned dp_conn_free_all(struct dp_router *rt);

#endif
