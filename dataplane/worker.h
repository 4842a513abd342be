/* SPDX-License-Identifier: BSD-3-Clause */
/* The worker loop's entry point (dataplane-internal). */
#ifndef GWART_DP_WORKER_H
#define GWART_DP_WORKER_H

#include "lcore.h"

/*
 * dp_worker_main - the worker lcore loop (rte_eal_remote_launch target).
 * @arg: this worker's struct dp_lcore, initialised by dp_router_create().
 * Registers itself as a liburcu QSBR reader, reports a quiescent state every
 * iteration and returns once rt->stop is set. Never blocks, never allocates
 * from the general heap, never exits the process.
 */
int dp_worker_main(void *arg);

#endif
