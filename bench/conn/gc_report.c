/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's reports: every line it prints on stdout. The demo, the
 * integration tests and bench/run.sh parse them, so their formats are an
 * interface: "<label>: sent=N delivered=N duplicates=N lost=N rate=R msg/s"
 * (pair), "<label>: acked=N nacked=N ..." (send), "<label>: delivered=N
 * ..." (recv), "<label>: cycles=N failed=N ..." (cycles), and per connector
 * "<label>: <role> session ...", "<label>: <role> backoff ..." and, with
 * whole messages, "<label>: <role> groups ...".
 */
#include <stdio.h>
#include <string.h>

#include "gc.h"

/* The sender's NACKs by reason, retransmissions and failures; the caller
 * ends the line. */
void gc_print_nacks(const char *label, const struct gw_conn_stats *st)
{
	unsigned r;

	printf("%s: nacks", label);
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		printf(" %s=%llu", gw_nack_reason_name(r), (unsigned long long)st->nacked[r]);
	printf(" retransmits=%llu fast_retransmits=%llu failed=%llu",
	       (unsigned long long)st->retransmitted, (unsigned long long)st->fast_retransmits,
	       (unsigned long long)atomic_load(&gc.failed));
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		if (atomic_load(&gc.failed_by[r]))
			printf(" failed_%s=%llu", gw_nack_reason_name(r),
			       (unsigned long long)atomic_load(&gc.failed_by[r]));
}

/* The session side of one connector's stats, and the backoff delays its
 * SDK drew, oldest first: what the integration tests check. */
void gc_print_session(const char *label, const char *role, const struct gw_conn_stats *st)
{
	uint64_t i, n = st->backoffs < GW_CONN_BACKOFF_HIST ? st->backoffs : GW_CONN_BACKOFF_HIST;

	printf("%s: %s session up=%u sessions=%llu losses=%llu timeout=%llu no_session=%llu "
	       "bye=%llu probe=%llu probes_rx=%llu hellos=%llu keepalives=%llu "
	       "reconnect_last_us=%llu reconnect_max_us=%llu next_seq=%llu state_writes=%llu "
	       "state_errors=%llu rx_restored=%u state_clean=%u delivered=%llu duplicates=%llu "
	       "tx_errors=%llu auth_failed=%llu replayed=%llu stale_epoch=%llu\n",
	       label, role, st->up, (unsigned long long)st->sessions,
	       (unsigned long long)st->session_losses, (unsigned long long)st->loss_timeout,
	       (unsigned long long)st->loss_no_session, (unsigned long long)st->loss_bye,
	       (unsigned long long)st->loss_probe, (unsigned long long)st->probes_received,
	       (unsigned long long)st->hellos_sent, (unsigned long long)st->keepalives_sent,
	       (unsigned long long)st->reconnect_us_last, (unsigned long long)st->reconnect_us_max,
	       (unsigned long long)st->next_seq, (unsigned long long)st->state_writes,
	       (unsigned long long)st->state_errors, st->rx_restored, st->state_clean,
	       (unsigned long long)st->delivered, (unsigned long long)st->duplicates,
	       (unsigned long long)st->tx_errors, (unsigned long long)st->rx_auth_failed,
	       (unsigned long long)st->rx_replayed, (unsigned long long)st->rx_stale_epoch);
	for (i = st->backoffs - n; i < st->backoffs; i++) {
		const struct gw_conn_backoff *b = &st->backoff[i % GW_CONN_BACKOFF_HIST];

		printf("%s: %s backoff attempt=%u delay_us=%llu waited_us=%llu\n", label, role,
		       b->attempt, (unsigned long long)b->delay_us,
		       (unsigned long long)b->waited_us);
	}
}

/* Whole messages: the SDK's group counters of one connector (the sending
 * side for "src", reassembly for "dst"); it_large checks them. */
void gc_print_groups(const char *label, const char *role, const struct gw_conn_stats *st)
{
	if (!strcmp(role, "src")) {
		printf("%s: src groups groups_sent=%llu chunks_sent=%llu groups_acked=%llu "
		       "groups_failed=%llu stream_waits=%llu\n",
		       label, (unsigned long long)st->groups_sent,
		       (unsigned long long)st->chunks_sent, (unsigned long long)st->groups_acked,
		       (unsigned long long)st->groups_failed, (unsigned long long)st->stream_waits);
		return;
	}
	printf("%s: %s groups rx_chunks=%llu rx_groups=%llu rx_chunk_dups=%llu "
	       "rx_late_chunks=%llu rx_bad_chunks=%llu rx_refused_groups=%llu "
	       "rx_refused_bytes=%llu rx_refused_nomem=%llu rx_expired=%llu rx_too_big=%llu "
	       "rx_no_handler=%llu rx_groups_open=%u rx_bytes_open=%llu\n",
	       label, role, (unsigned long long)st->rx_chunks, (unsigned long long)st->rx_groups,
	       (unsigned long long)st->rx_chunk_dups, (unsigned long long)st->rx_late_chunks,
	       (unsigned long long)st->rx_bad_chunks, (unsigned long long)st->rx_refused_groups,
	       (unsigned long long)st->rx_refused_bytes, (unsigned long long)st->rx_refused_nomem,
	       (unsigned long long)st->rx_expired, (unsigned long long)st->rx_too_big,
	       (unsigned long long)st->rx_no_handler, st->rx_groups_open,
	       (unsigned long long)st->rx_bytes_open);
}

void gc_report_pair(uint64_t lost, uint64_t delivered, double secs)
{
	gc_print_nacks(gc.o.label, &gc.sst);
	printf(" corrupt=%llu stale=%llu foreign=%llu rx_dup_suppressed=%llu acks_sent=%llu\n",
	       (unsigned long long)atomic_load(&gc.corrupt),
	       (unsigned long long)atomic_load(&gc.stale),
	       (unsigned long long)atomic_load(&gc.foreign),
	       (unsigned long long)gc.rst.duplicates, (unsigned long long)gc.rst.acks_sent);
	if (atomic_load(&gc.have_sst))
		gc_print_session(gc.o.label, "src", &gc.sst);
	if (atomic_load(&gc.have_rst))
		gc_print_session(gc.o.label, "dst", &gc.rst);
	if (gc.o.msg && atomic_load(&gc.have_sst))
		gc_print_groups(gc.o.label, "src", &gc.sst);
	if (gc.o.msg && atomic_load(&gc.have_rst))
		gc_print_groups(gc.o.label, "dst", &gc.rst);
	printf("%s: sent=%llu delivered=%llu duplicates=%llu lost=%llu rate=%.0f msg/s",
	       gc.o.label, (unsigned long long)atomic_load(&gc.acked),
	       (unsigned long long)delivered, (unsigned long long)atomic_load(&gc.duplicates),
	       (unsigned long long)lost, secs > 0 ? (double)delivered / secs : 0.0);
	/* Whole messages: every delivered one was compared byte for byte
	 * (a corrupt one is not delivered). MB = 10^6 bytes. */
	if (gc.o.msg)
		printf(" corrupt=%llu rx_notices=%llu bytes=%llu bytes_acked=%llu "
		       "mb_rate=%.2f MB/s",
		       (unsigned long long)atomic_load(&gc.corrupt),
		       (unsigned long long)atomic_load(&gc.rx_notices),
		       (unsigned long long)atomic_load(&gc.bytes_delivered),
		       (unsigned long long)atomic_load(&gc.bytes_acked),
		       secs > 0 ? (double)atomic_load(&gc.bytes_delivered) / secs / 1e6 : 0.0);
	printf("\n");
	fflush(stdout);
}

void gc_report_send(void)
{
	uint64_t acked = atomic_load(&gc.acked), failed = atomic_load(&gc.failed);
	unsigned r;

	if (atomic_load(&gc.have_sst))
		gc_print_session(gc.o.label, "src", &gc.sst);
	if (gc.o.msg && atomic_load(&gc.have_sst))
		gc_print_groups(gc.o.label, "src", &gc.sst);
	printf("%s: acked=%llu nacked=%llu", gc.o.label, (unsigned long long)acked,
	       (unsigned long long)failed);
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		printf(" %s=%llu", gw_nack_reason_name(r),
		       (unsigned long long)atomic_load(&gc.failed_by[r]));
	printf(" busy_nacks=%llu retransmits=%llu unresolved=%llu",
	       (unsigned long long)gc.sst.nacked[GW_NACK_BUSY],
	       (unsigned long long)gc.sst.retransmitted,
	       (unsigned long long)(gc.o.count - acked - failed));
	if (gc.o.msg)
		printf(" bytes_acked=%llu", (unsigned long long)atomic_load(&gc.bytes_acked));
	printf("\n");
	fflush(stdout);
}

void gc_report_recv(void)
{
	if (atomic_load(&gc.have_rst))
		gc_print_session(gc.o.label, "dst", &gc.rst);
	printf("%s: delivered=%llu duplicates=%llu corrupt=%llu rx_dup_suppressed=%llu\n",
	       gc.o.label, (unsigned long long)atomic_load(&gc.delivered),
	       (unsigned long long)atomic_load(&gc.duplicates),
	       (unsigned long long)atomic_load(&gc.corrupt),
	       (unsigned long long)gc.rst.duplicates);
	fflush(stdout);
}

void gc_report_cycles(uint64_t done, uint64_t failed, unsigned fds_before, unsigned fds_after,
		      double secs)
{
	printf("%s: cycles=%llu failed=%llu hellos=%llu fds_before=%u fds_after=%u "
	       "rate=%.0f cycles/s\n",
	       gc.o.label, (unsigned long long)done, (unsigned long long)failed,
	       (unsigned long long)atomic_load(&gc.cycles_hellos), fds_before, fds_after,
	       secs > 0 ? (double)done / secs : 0.0);
	fflush(stdout);
}
