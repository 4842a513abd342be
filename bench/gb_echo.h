/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The echo stand-in (gb_echo.c): a router that only echoes, on a worker
 * lcore, so that a run measures the harness alone.
 */
#ifndef GWART_BENCH_GB_ECHO_H
#define GWART_BENCH_GB_ECHO_H

#include "gb.h"
#include "pkt.h"

struct gb_echo_stats {
	uint64_t loops, busy_loops, busy_cycles;
	uint64_t forwarded; /* DATA sent on to a sink (and acknowledged to its origin) */
	uint64_t acks;	    /* ACKs to origins */
	uint64_t out_of_order, refused, tx_full;
	uint64_t held_full; /* DATA dropped: its destination had GB_ECHO_HELD unacknowledged */
};

struct gb_echo;

/* The echo on router-side ports @ports[0 .. n_ep) (started, one queue each),
 * port p answering as @addr[p]; replies from @pool. The endpoints of @ctx
 * must exist (it learns which port serves which connector). */
struct gb_echo *gb_echo_create(struct gb_ctx *ctx, const uint16_t *ports, unsigned n_ep,
			       const struct dp_port_addr *addr, struct rte_mempool *pool);
int gb_echo_start(struct gb_echo *e, unsigned lcore);
void gb_echo_stop(struct gb_echo *e);
void gb_echo_stats(const struct gb_echo *e, struct gb_echo_stats *st);
void gb_echo_free(struct gb_echo *e);

#endif
