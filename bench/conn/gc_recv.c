/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's receive side: the receiver thread, which checks every
 * delivery against the delivered set (and appends it to --out), and recv
 * mode.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gc.h"

static void receiver_deliver(void *arg, uint32_t origin, uint64_t origin_seq, const char *dest,
			     uint16_t dest_len, const void *payload, uint16_t len)
{
	uint32_t idx;

	(void)arg;
	(void)origin_seq;
	(void)dest;
	(void)dest_len;
	if (gc.o.mode == GC_PAIR && origin != gc.o.src_id) {
		atomic_fetch_add_explicit(&gc.foreign, 1, memory_order_relaxed);
		return;
	}
	switch (gc_payload_check(payload, len, origin, &idx)) {
	case GC_STALE:
		atomic_fetch_add_explicit(&gc.stale, 1, memory_order_relaxed);
		return;
	case GC_CORRUPT:
		atomic_fetch_add_explicit(&gc.corrupt, 1, memory_order_relaxed);
		return;
	case GC_OK:
		break;
	}
	if (gc.out) /* every delivery, duplicates too: the verifier counts them */
		fprintf(gc.out, "%u %llu\n", origin, (unsigned long long)origin_seq);
	if (!gc.o.count) { /* recv without --count: the SDK's suppression only */
		atomic_fetch_add_explicit(&gc.delivered, 1, memory_order_relaxed);
		return;
	}
	if (idx >= gc.o.count) {
		atomic_fetch_add_explicit(&gc.corrupt, 1, memory_order_relaxed);
		return;
	}
	if (gc_bm_set(gc.deliv_bm, idx)) {
		atomic_fetch_add_explicit(&gc.duplicates, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&gc.delivered, 1, memory_order_relaxed);
	atomic_store_explicit(&gc.last_delivery_us, gc_now_us(), memory_order_relaxed);
}

/* Whole messages (--size-max, pair mode): identified by their id through
 * the sender's table (gc_msg.c), then compared byte for byte. */
static void receiver_message(void *arg, uint32_t origin, uint64_t msg_id, const char *dest,
			     uint16_t dest_len, const void *msg, size_t len)
{
	int64_t idx;

	(void)arg;
	(void)dest;
	(void)dest_len;
	if (origin != gc.o.src_id) {
		atomic_fetch_add_explicit(&gc.foreign, 1, memory_order_relaxed);
		return;
	}
	idx = gc_msg_index(msg_id, true);
	if (idx < 0 || (uint64_t)idx >= gc.o.count) {
		/* Not an id the sender was given: delivered under a wrong
		 * id, or a message of an earlier run. */
		if (len >= GC_MSG_HDR_LEN && gc_msg_check(msg, len, origin, 0) == GC_STALE)
			atomic_fetch_add_explicit(&gc.stale, 1, memory_order_relaxed);
		else
			atomic_fetch_add_explicit(&gc.corrupt, 1, memory_order_relaxed);
		return;
	}
	switch (gc_msg_check(msg, len, origin, (uint32_t)idx)) {
	case GC_STALE:
		atomic_fetch_add_explicit(&gc.stale, 1, memory_order_relaxed);
		return;
	case GC_CORRUPT:
		atomic_fetch_add_explicit(&gc.corrupt, 1, memory_order_relaxed);
		return;
	case GC_OK:
		break;
	}
	if (gc_bm_set(gc.deliv_bm, (uint64_t)idx)) {
		atomic_fetch_add_explicit(&gc.duplicates, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&gc.delivered, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&gc.bytes_delivered, len, memory_order_relaxed);
	atomic_store_explicit(&gc.last_delivery_us, gc_now_us(), memory_order_relaxed);
}

/* A partial group the SDK freed (its origin gave up, or reassembly
 * limits): counted, and the run fails (the sender never gives up here). */
static void receiver_rx_notice(void *arg, uint32_t origin, uint64_t msg_id, int reason)
{
	(void)arg;
	atomic_fetch_add_explicit(&gc.rx_notices, 1, memory_order_relaxed);
	fprintf(stderr, "gwart-conn: partial message %u/%llu freed by the SDK (reason %d)\n",
		origin, (unsigned long long)msg_id, reason);
}

/* recv mode does not know the sender's run id: accept any, check the rest. */
static void recv_only_deliver(void *arg, uint32_t origin, uint64_t origin_seq, const char *dest,
			      uint16_t dest_len, const void *payload, uint16_t len)
{
	gc_payload_run_id(payload, len, &gc.run_id); /* this thread's only */
	receiver_deliver(arg, origin, origin_seq, dest, dest_len, payload, len);
}

void *gc_receiver_main(void *arg)
{
	const char *addr = arg;
	uint64_t start = gc_now_us() + (uint64_t)(gc.o.dst_delay_s * 1e6);
	struct gw_conn *c;
	int r;

	/* --dst-delay: let the sender fill the router's custody first. */
	while (gc_now_us() < start && !atomic_load(&gc.stop_receiver))
		gc_sleep_us(10000);
	c = gc_conn_open(gc.o.mode == GC_PAIR ? gc.o.dst_id : gc.o.src_id, addr,
			 gc.o.mode == GC_RECV ? recv_only_deliver : receiver_deliver, NULL,
			 gc.o.msg ? receiver_message : NULL, gc.o.msg ? receiver_rx_notice : NULL);
	if (!c) {
		atomic_store(&gc.stop_receiver, true);
		return NULL;
	}
	while (!atomic_load(&gc.stop_receiver)) {
		if (gw_conn_is_up(c))
			atomic_store(&gc.receiver_up, true);
		r = gw_conn_poll(c, 10);
		if (r < 0) {
			fprintf(stderr, "gwart-conn: poll: %s\n", strerror(-r));
			break;
		}
	}
	gw_conn_get_stats(c, &gc.rst);
	atomic_store(&gc.have_rst, true);
	r = gw_conn_close(c);
	if (r < 0)
		fprintf(stderr, "gwart-conn: close: %s\n", strerror(-r));
	return NULL;
}

int gc_run_recv(void)
{
	uint64_t deadline = gc_now_us() + (uint64_t)(gc.o.timeout_s * 1e6), next_flush = 0;
	const char *addr = gc.o.via_dst ? gc.o.via_dst : gc.o.router;
	pthread_t rt;

	if (pthread_create(&rt, NULL, gc_receiver_main, (void *)addr)) {
		fprintf(stderr, "gwart-conn: pthread_create failed\n");
		return 1;
	}
	while (gc_now_us() < deadline && !atomic_load(&gc.stop_receiver) && !gc_signalled &&
	       !(gc.o.count && atomic_load(&gc.delivered) >= gc.o.count)) {
		/* --out shows progress within 100 ms (stdio locks the FILE
		 * against the receiver thread's writes). */
		if (gc.out && gc_now_us() >= next_flush) {
			fflush(gc.out);
			next_flush = gc_now_us() + 100000;
		}
		gc_sleep_us(2000);
	}
	/* A signal is a restart: close at once (the state file keeps what
	 * was delivered); otherwise keep acknowledging for a moment. */
	if (!gc_signalled)
		gc_sleep_us(GC_LINGER_US);
	atomic_store(&gc.stop_receiver, true);
	pthread_join(rt, NULL);
	gc_report_recv();
	return atomic_load(&gc.duplicates) == 0 && atomic_load(&gc.corrupt) == 0 &&
			       (!gc.o.count || atomic_load(&gc.delivered) == gc.o.count)
		       ? 0
		       : 1;
}
