/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' half of packet capture (api/capture_api.h): copy the matching
 * frames of a burst into the published capture. Worker context only;
 * called only while dp_lcore.cap is not NULL (one branch at the call site,
 * worker.c's RX and io.h's TX flush), so nothing here costs a router that
 * captures nothing. No syscall, no lock, no wait: copies come from the
 * capture's own pool and go to its MP/SC ring; what does not fit is freed
 * and counted (capture_dropped).
 */
#ifndef GWART_DP_CAPTURE_H
#define GWART_DP_CAPTURE_H

#include <stdbool.h>

#include <rte_mbuf.h>

#include "capture_api.h"
#include "lcore.h"

/* Copy the frames of @ms[0..n) that lc->cap's filter takes, received
 * (@tx false) on or about to be sent (@tx true) on port index @p, queue
 * lc->idx. The frames themselves are not touched beyond reading them. */
void dp_capture_burst(struct dp_lcore *lc, unsigned p, struct rte_mbuf *const *ms, unsigned n,
		      bool tx);

#endif
