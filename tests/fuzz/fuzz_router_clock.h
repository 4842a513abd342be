/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_router's virtual clock, forced into every router source file it
 * compiles (clang -include; run.sh): the worker's TSC reads (rte_rdtsc(),
 * lc->now, custody send times, retransmission timeouts) and the control
 * thread's microseconds (cp_now_us(): session liveness, probes, backoff)
 * come from the fuzzer's clock, which moves only when an input says so.
 * That makes every input's run deterministic, and "advance the clock" an
 * operation the fuzzer can choose. Nothing in dataplane/ or control/ is
 * changed for it; control/loop.c, which defines cp_now_us(), is compiled
 * without this header (its real clock is then never called by the router
 * code under test).
 *
 * rte_get_tsc_cycles() stays real: dp_conn_delete()'s 2 s wait for the
 * owner worker must time out in real time (the fuzzer never deletes).
 */
#ifndef GWART_FUZZ_ROUTER_CLOCK_H
#define GWART_FUZZ_ROUTER_CLOCK_H

#include <stdint.h>

#include <rte_cycles.h>

uint64_t gw_fuzz_tsc(void);
uint64_t gw_fuzz_now_us(void);

#define rte_rdtsc() gw_fuzz_tsc()
#define cp_now_us gw_fuzz_now_us

#endif
