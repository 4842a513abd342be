/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Router lifecycle: the small API the control plane uses to build, start,
 * stop and free the dataplane. Start-up and shutdown only (main thread).
 */
#ifndef GWART_DP_ROUTER_API_H
#define GWART_DP_ROUTER_API_H

#include "router.h"

/* Longest name prefix of a router's DPDK objects: memzone names are
 * limited (RTE_MEMZONE_NAMESIZE), and ring and hash names derive from ours. */
#define DP_ROUTER_PREFIX_MAX 8

struct dp_router_params {
	unsigned nb_mbuf;        /* mbufs in the packet pool */
	uint16_t mbuf_data_room; /* bytes per mbuf, headroom included */
	uint16_t udp_port;       /* host order */
	uint32_t max_routes;
	/* Prefix of every named DPDK object of this router (mempool, rings,
	 * route hash: "<prefix>_pool", ...), so that several routers can live
	 * in one process. NULL or "": "gw" for the process's first router,
	 * then "gw1", "gw2", ... At most DP_ROUTER_PREFIX_MAX characters. */
	const char *prefix;
	/* Connector sessions that may exist at once (v2 cryptodev sessions,
	 * those waiting for a grace period included); 0: DP_DEF_AUTH_SESSIONS.
	 * dp_conn_session_up() fails with -ENOMEM beyond. */
	unsigned max_sessions;
};

/* Create the router for every worker lcore of the EAL (all but the main
 * lcore). NULL with *err set on failure (-EINVAL: no worker lcore, too many,
 * or a prefix too long; -EEXIST: a DPDK object of that prefix exists;
 * -ENOMEM). */
struct dp_router *dp_router_create(const struct dp_router_params *p, int *err);
/*
 * The fewest mbufs the packet pool needs before a single message is held:
 * what @n_ports ports' queues (one RX and one TX per worker, one TX more for
 * control) and the lcores' mempool caches can hold at once. A smaller pool
 * starves RX rings under load. Pure; any thread.
 */
unsigned dp_router_pool_min(unsigned n_ports, unsigned n_workers);
/* The pool gwartd makes when not told: at least DP_DEF_NB_MBUF and twice
 * dp_router_pool_min() (as much again for custody, hand-offs and bursts in
 * flight), rounded up to 2^k - 1 (the size mempools use best). Pure. */
unsigned dp_router_pool_default(unsigned n_ports, unsigned n_workers);
/* Launch dp_worker_main on every worker lcore. -ENODEV (and a message on
 * stderr) when the router has no frame authentication device. */
int dp_router_start(struct dp_router *rt);
/* Ask workers to stop and wait for them. */
void dp_router_stop(struct dp_router *rt);
/* Sum the per-worker counters into *out. Racy reads; for statistics. */
void dp_router_stats(const struct dp_router *rt, struct dp_worker_stats *out);
/* Worker @w's own counters into *out (relaxed reads, no port counters):
 * -EINVAL when @w >= n_workers, else 0 with *@lcore_id its EAL lcore. */
int dp_router_worker_stats(const struct dp_router *rt, unsigned w, struct dp_worker_stats *out,
			   unsigned *lcore_id);
/* Each worker's loop iterations so far (relaxed reads), out[0..n_workers-1]:
 * the control thread's proof that every worker is making progress. */
void dp_router_worker_loops(const struct dp_router *rt, uint64_t *out);
/* Free everything (workers stopped). Returns messages still in custody. */
unsigned dp_router_free(struct dp_router *rt);
/* Publish new tunables (control thread); the old copy is retired by RCU. */
int dp_router_set_tunables(struct dp_router *rt, const struct dp_tunables *t);
/* Refuse new messages (BUSY) while shutting down with drain. */
int dp_router_set_refuse(struct dp_router *rt, int refuse);
/* Largest payload a DATA frame may carry on this router (MTU and mbuf). */
uint32_t dp_router_max_payload(const struct dp_router *rt);

#endif
