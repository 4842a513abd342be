/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's send side: the sender thread (paced or as fast as the window
 * allows, retrying through BUSY and lost sessions) and send mode.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gc.h"

/* origin_seq -> message index, for the results (written by the sender
 * thread, which is also the one the SDK calls back on). */
static uint32_t seq_to_idx[GC_SEQMAP];

static void sender_result(void *arg, uint64_t seq, int status)
{
	uint32_t idx = seq_to_idx[seq % GC_SEQMAP];
	int64_t mi;

	(void)arg;
	if (gc.o.msg) {
		/* Whole messages: ids step by their chunk counts. */
		mi = gc_msg_index(seq, false);
		if (mi < 0) {
			atomic_fetch_add_explicit(&gc.send_errors, 1, memory_order_relaxed);
			fprintf(stderr, "gwart-conn: a result for message id %llu, never sent\n",
				(unsigned long long)seq);
			return;
		}
		idx = (uint32_t)mi;
		if (status == 0)
			atomic_fetch_add_explicit(&gc.bytes_acked, gc_msg_size(idx),
						  memory_order_relaxed);
	}
	if (status == 0) {
		if (!gc_bm_set(gc.acked_bm, idx))
			atomic_fetch_add_explicit(&gc.acked, 1, memory_order_relaxed);
		if (gc.out)
			fprintf(gc.out, "%u %llu\n", gc.o.src_id, (unsigned long long)seq);
		return;
	}
	atomic_fetch_add_explicit(&gc.failed, 1, memory_order_relaxed);
	if (status > 0 && status <= GW_NACK_REASON_MAX)
		atomic_fetch_add_explicit(&gc.failed_by[status], 1, memory_order_relaxed);
}

bool gc_sender_resolved(void)
{
	return atomic_load(&gc.acked) + atomic_load(&gc.failed) >= gc.o.count;
}

/* Message @next, built in @pl unless it already is (*built: the index
 * whose bytes @pl holds, so a refused send does not rebuild 1 MiB). */
static int send_one(struct gw_conn *c, uint8_t *pl, uint64_t next, uint64_t *built,
		    uint64_t *seq)
{
	uint32_t len;

	if (!gc.o.msg) {
		gc_payload_build(pl, gc.o.payload, gc.o.src_id, (uint32_t)next);
		return gw_conn_send(c, gc.o.dest, pl, (uint16_t)gc.o.payload, seq);
	}
	len = gc_msg_size(next);
	if (*built != next) {
		gc_msg_build(pl, len, gc.o.src_id, (uint32_t)next);
		*built = next;
	}
	return gw_conn_send_msg(c, gc.o.dest, pl, len, seq);
}

void *gc_sender_main(void *arg)
{
	const char *addr = arg;
	size_t cap = gc.o.msg ? (size_t)gc.o.size_max : gc.o.payload;
	uint8_t *pl = malloc(cap ? cap : 1);
	struct gw_conn *c = NULL;
	uint64_t next = 0, built = UINT64_MAX, seq, deadline = gc_now_us() + (uint64_t)(gc.o.timeout_s * 1e6), pace_t0;
	int r;

	if (!pl)
		goto out;
	c = gc_conn_open(gc.o.src_id, addr, NULL, sender_result, NULL, NULL);
	if (!c)
		goto out;
	while (!atomic_load(&gc.stop_sender) && gc_now_us() < deadline &&
	       !(gw_conn_is_up(c) && (gc.o.mode != GC_PAIR || gc.o.dst_delay_s > 0 ||
				      atomic_load(&gc.receiver_up))))
		gw_conn_poll(c, 10);
	if (!gw_conn_is_up(c))
		goto out;
	atomic_store(&gc.sender_up, true);
	/* Wait for the pair's start gate (both up), set by main. */
	while (!gc.t0_us && !atomic_load(&gc.stop_sender))
		gw_conn_poll(c, 1);
	pace_t0 = gc_now_us();

	while (!atomic_load(&gc.stop_sender)) {
		bool full = false, paced = false;
		uint64_t allowed = gc.o.count;

		if (gc.o.rate) {
			/* Paced: what is behind schedule goes at once. */
			allowed = (gc_now_us() - pace_t0) * gc.o.rate / 1000000u + 1;
			if (allowed > gc.o.count)
				allowed = gc.o.count;
		}
		while (next < allowed) {
			r = send_one(c, pl, next, &built, &seq);
			if (r == -EAGAIN || r == -ENOTCONN) {
				full = true;
				break;
			}
			if (r < 0) {
				fprintf(stderr, "gwart-conn: send: %s\n", strerror(-r));
				atomic_fetch_add(&gc.send_errors, 1);
				atomic_store(&gc.stop_sender, true);
				break;
			}
			if (gc.o.msg && !gc_msg_publish((uint32_t)next, seq)) {
				fprintf(stderr, "gwart-conn: message %llu got id %llu, not above the "
						"last one\n", (unsigned long long)next,
					(unsigned long long)seq);
				atomic_fetch_add(&gc.send_errors, 1);
				atomic_store(&gc.stop_sender, true);
				break;
			}
			seq_to_idx[seq % GC_SEQMAP] = (uint32_t)next;
			next++;
		}
		if (gc_sender_resolved())
			atomic_store(&gc.sender_done, true);
		paced = next >= allowed && next < gc.o.count;
		/* Window full: sleep until ACKs arrive. Done: idle politely,
		 * still answering the router, until main stops us. */
		r = gw_conn_poll(c, paced ? 1 : full || next >= gc.o.count ? 10 : 0);
		if (r < 0) {
			fprintf(stderr, "gwart-conn: poll: %s\n", strerror(-r));
			break;
		}
	}
out:
	if (c) {
		gw_conn_get_stats(c, &gc.sst);
		atomic_store(&gc.have_sst, true);
		r = gw_conn_close(c);
		if (r < 0)
			fprintf(stderr, "gwart-conn: close: %s\n", strerror(-r));
	}
	atomic_store(&gc.sender_done, true);
	free(pl);
	return NULL;
}

/* --expect: 0 for "acked", a NACK reason, or -1. */
static int outcome_of(const char *s)
{
	unsigned r;

	if (!strcmp(s, "acked"))
		return 0;
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		if (!strcasecmp(s, gw_nack_reason_name(r)))
			return (int)r;
	return -1;
}

int gc_run_send(void)
{
	uint64_t deadline = gc_now_us() + (uint64_t)(gc.o.timeout_s * 1e6);
	const char *addr = gc.o.via_src ? gc.o.via_src : gc.o.router;
	int expect = gc.o.expect ? outcome_of(gc.o.expect) : -1;
	uint64_t acked, failed;
	pthread_t st;
	bool ok;

	if (gc.o.expect && expect < 0) {
		fprintf(stderr, "gwart-conn: --expect acked|NO_ROUTE|BUSY|TOO_BIG|EXPIRED|"
				"NOT_AUTHORISED|NO_SESSION\n");
		return 2;
	}
	atomic_store(&gc.receiver_up, true); /* no receiver: no gate */
	gc.t0_us = 1;                        /* open the gate at once */
	if (pthread_create(&st, NULL, gc_sender_main, (void *)addr)) {
		fprintf(stderr, "gwart-conn: pthread_create failed\n");
		return 1;
	}
	while (gc_now_us() < deadline && !gc_sender_resolved() && !atomic_load(&gc.sender_done) &&
	       !gc_signalled)
		gc_sleep_us(2000);
	atomic_store(&gc.stop_sender, true);
	pthread_join(st, NULL);
	gc_report_send();
	acked = atomic_load(&gc.acked);
	failed = atomic_load(&gc.failed);
	ok = acked + failed == gc.o.count && atomic_load(&gc.send_errors) == 0;
	if (expect == 0)
		ok = ok && acked == gc.o.count;
	else if (expect > 0)
		ok = ok && atomic_load(&gc.failed_by[expect]) == gc.o.count;
	return ok ? 0 : 1;
}
