/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The phases of a run with endpoints (inproc and memif share them): start
 * the endpoints, wait for every session, warm up, measure, drain, stop, verify the delivered set.
 * The scenario supplies how to wait (the inproc main thread is the
 * router's control thread and must keep serving it) and how to read the
 * router's side.
 */
#ifndef GWART_BENCH_GB_RUN_H
#define GWART_BENCH_GB_RUN_H

#include "gb.h"

struct gb_run_ops {
	void *arg;
	/* Spend @ms milliseconds doing the main thread's duties. */
	void (*pump)(void *arg, unsigned ms);
	/* Router-side counters and worker CPU time (fields left 0 if unknown);
	 * must fill s->tsc and s->ep (gb_ctx_stats). */
	void (*snap)(void *arg, struct gb_snap *s);
	/* Messages in the router's custody, UINT64_MAX if unknown. */
	uint64_t (*custody)(void *arg);
};

/* Workload, delivered set and per-origin bookkeeping for the options. */
int gb_ctx_init(struct gb_ctx *ctx, const struct gb_opts *o, uint32_t first_dest_id);
/* Endpoint e on harness port ports[e]: the first o->gen_threads host the
 * origins (ids 1..origins), the rest the destinations. */
int gb_ctx_endpoints(struct gb_ctx *ctx, const uint16_t *ports, unsigned n_ep,
		     struct rte_mempool *pool, uint32_t router_ip_be,
		     const struct rte_ether_addr *router_mac);
/* Stop and join every endpoint thread (idempotent). */
void gb_ctx_stop(struct gb_ctx *ctx);
void gb_ctx_fini(struct gb_ctx *ctx);
/* Run the phases and fill @r; r->ok tells whether the run is valid. */
int gb_run_phases(struct gb_ctx *ctx, const struct gb_run_ops *ops, struct gb_result *r);

#endif
