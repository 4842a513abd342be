/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's pair mode: a sender and a receiver thread behind one start
 * gate, and the end-to-end verdict (acknowledged = delivered exactly once).
 */
#include <pthread.h>
#include <stdio.h>

#include "gc.h"

/* Acknowledged but not delivered. */
static uint64_t count_lost(void)
{
	uint64_t w, lost = 0, words = (gc.o.count + 63) / 64;

	for (w = 0; w < words; w++)
		lost += (uint64_t)__builtin_popcountll(atomic_load(&gc.acked_bm[w]) &
						       ~atomic_load(&gc.deliv_bm[w]));
	return lost;
}

int gc_run_pair(void)
{
	const char *src_addr = gc.o.via_src ? gc.o.via_src : gc.o.router;
	const char *dst_addr = gc.o.via_dst ? gc.o.via_dst : gc.o.router;
	uint64_t deadline = gc_now_us() + (uint64_t)(gc.o.timeout_s * 1e6), end, lost = 0;
	pthread_t st, rt;
	bool complete = false;
	double secs;

	if (pthread_create(&rt, NULL, gc_receiver_main, (void *)dst_addr) ||
	    pthread_create(&st, NULL, gc_sender_main, (void *)src_addr)) {
		fprintf(stderr, "gwart-conn: pthread_create failed\n");
		return 1;
	}
	/* Start gate: the clock starts when both sessions are up (with
	 * --dst-delay, when the sender's is). */
	while (gc_now_us() < deadline && !atomic_load(&gc.sender_done) &&
	       !(atomic_load(&gc.sender_up) &&
		 (atomic_load(&gc.receiver_up) || gc.o.dst_delay_s > 0)))
		gc_sleep_us(1000);
	if (atomic_load(&gc.sender_up) && (atomic_load(&gc.receiver_up) || gc.o.dst_delay_s > 0))
		atomic_store(&gc.t0_us, gc_now_us());
	else
		fprintf(stderr, "gwart-conn: sessions not up (sender %d, receiver %d)\n",
			atomic_load(&gc.sender_up), atomic_load(&gc.receiver_up));

	/* Done when every message is resolved and everything acknowledged
	 * has been delivered: only then can "lost" be final. */
	while (gc.t0_us && gc_now_us() < deadline && !gc_signalled) {
		if (atomic_load(&gc.sender_done) || gc_sender_resolved()) {
			if (atomic_load(&gc.delivered) >= atomic_load(&gc.acked) &&
			    count_lost() == 0) {
				complete = true;
				break;
			}
		}
		gc_sleep_us(2000);
	}
	end = atomic_load(&gc.last_delivery_us);
	if (!complete || !end)
		end = gc_now_us();
	atomic_store(&gc.stop_sender, true);
	pthread_join(st, NULL);
	/* Keep the receiver acknowledging retransmissions for a moment, so
	 * that the router's custody drains, and so that a late duplicate
	 * delivery would still be seen. */
	gc_sleep_us(GC_LINGER_US);
	atomic_store(&gc.stop_receiver, true);
	pthread_join(rt, NULL);

	lost = count_lost();
	secs = gc.t0_us && end > gc.t0_us ? (double)(end - gc.t0_us) / 1e6 : 0;
	gc_report_pair(lost, atomic_load(&gc.delivered), secs);
	if (lost || atomic_load(&gc.duplicates) || atomic_load(&gc.corrupt) ||
	    atomic_load(&gc.rx_notices) ||
	    atomic_load(&gc.acked) != gc.o.count || atomic_load(&gc.send_errors))
		return 1;
	return 0;
}
