/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's private header: its options, the run state its threads
 * share, and what each of its files provides.
 *
 * gwart-conn: generator and sink connectors on libgwart-connector, for the
 * demo, the integration tests and the benchmark.
 *
 *   gwart-conn pair --router IP[:PORT] --src-id 1 --dst-id 2 --dest ADDR --count N ...
 *       a sender (id src) and a receiver (id dst), one thread and one gw_conn
 *       each; checks exactly-once end to end and prints one SUMMARY-style
 *       line: "<label>: sent=N delivered=N duplicates=N lost=N rate=R msg/s".
 *   gwart-conn send --router ... --src-id 1 --dest ADDR --count N [--expect OUTCOME]
 *       sender only; keeps retrying (through BUSY, lost sessions) until every
 *       message is resolved; prints acked and refused-by-reason counts.
 *   gwart-conn recv --router ... --id 2 [--count N]
 *       receiver only; prints delivered/duplicates/corrupt. Without --count
 *       it runs until SIGTERM/SIGINT (or --timeout), then closes cleanly.
 *   gwart-conn pair|send ... --size-min B --size-max B [--size-dist log|uniform]
 *       whole messages (gw_conn_send_msg, on_message) of sizes drawn per
 *       message from [B, B] (seeded: --size-seed), any size up to the
 *       SDK's max_message (--max-message); every delivery is compared byte
 *       for byte; pair's last line adds corrupt=N bytes=N and MB/s.
 *   gwart-conn cycles --router ... --id 3 --count N [--parallel P]
 *       N open (HELLO/WELCOME) / close (BYE) cycles as fast as it can, on P
 *       threads with ids id..id+P-1; checks its own fd count returns to
 *       where it was.
 *
 * For the integration tests: send and recv take --state PATH (the SDK's
 * state file: origin seq and receive window across restarts) and --out
 * FILE, to which they append one line "ORIGIN ORIGIN_SEQ" per message
 * acknowledged (send) or delivered (recv), so that a verifier can check
 * exactly-once across processes; --backoff-* set the SDK's reconnection
 * backoff; --rate paces the sender. Every mode needs the connectors'
 * secret (protocol v2): --key HEX|BASE64 or --key-file FILE (the file holds
 * the key's text; with one "%u" in FILE, a file per connector id, read for
 * each connector); pair and cycles give it to each connector they open. Every mode prints its connectors'
 * session counters ("<label>: <role> session ...") and the backoff delays
 * the SDK drew ("<label>: <role> backoff attempt=K delay_us=D waited_us=W").
 * The demo, the integration tests and bench/run.sh parse these lines: their
 * formats (gc_report.c) and the exit codes are an interface.
 *
 * Files: gc_main.c (main), gc_opts.c (the option table and mode checks),
 * gc_payload.c (the self-checking payload, bitmaps), gc_msg.c (whole
 * messages: sizes, bytes, their check, ids to indices), gc_connector.c
 * (opening a connector from the options), gc_send.c (the sender, send
 * mode), gc_recv.c (the receiver and its delivered-set output, recv mode),
 * gc_pair.c (pair mode), gc_cycles.c (cycles mode), gc_report.c (every
 * line printed on stdout).
 *
 * Threads share only atomics: the sender thread writes the acked bitmap and
 * its counters, the receiver thread the delivered bitmap and its counters,
 * the main thread reads both to decide when the run is complete.
 */
#ifndef GC_H
#define GC_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <gwart/connector.h>

#include "clock.h"

#define GC_MAGIC 0x4757434eu  /* "GWCN" */
#define GC_HDR_LEN 24u        /* payload header, bytes */
#define GC_DEF_PAYLOAD 64u    /* bytes */
#define GC_DEF_TIMEOUT_S 60.0 /* s */
#define GC_SEQMAP 65536u      /* origin_seq -> index ring (>= any send window) */
#define GC_LINGER_US 200000u  /* us: the receiver keeps acknowledging after the end */
#define GC_MAX_PARALLEL 64u   /* cycles: threads */
#define GC_RX_WINDOW_MAX 960u /* the SDK's receive window bound (dedup.h) */
#define GC_MSG_HDR_LEN 16u    /* whole messages from this size on carry a header */
#define GC_DEF_SIZE_SEED 11u

enum gc_mode { GC_PAIR, GC_SEND, GC_RECV, GC_CYCLES };

struct gc_opts {
	enum gc_mode mode;
	const char *router;
	const char *via_src, *via_dst;
	const char *bind;
	const char *dest;
	const char *label;
	const char *expect;
	uint32_t src_id, dst_id;
	uint64_t count;
	uint32_t payload;
	uint32_t window, rto_us;
	uint32_t rx_window; /* receive window announced in HELLO (0: SDK default) */
	uint64_t first_seq;
	double timeout_s;
	double dst_delay_s; /* pair: the receiver connects this much later */
	const char *state;  /* send/recv: the SDK's state file */
	const char *out;    /* send/recv: append "origin seq" per acked/delivered */
	uint32_t bo_initial_ms, bo_mult_pct, bo_jitter_pct, bo_max_ms;
	uint64_t rate;      /* send: messages per second, 0: as fast as it can */
	uint32_t parallel;  /* cycles: threads */
	/* Protocol v2: the connectors' secret (required), from --key or
	 * --key-file; every connector of the run uses it. Wiped at exit. */
	const char *key_text, *key_file;
	uint8_t key[GW_KEY_LEN];
	bool key_per_id; /* key_file names a file per id ("%u") */
	/* Whole messages (gc_msg.c): on when --size-max is given. */
	bool msg, size_min_set;
	uint32_t size_min, size_max;
	const char *size_dist;  /* "log" (default) or "uniform" */
	bool size_uniform;
	uint64_t size_seed;
	uint64_t max_message;   /* the SDK's cfg.max_message (0: enough for size_max) */
};

/* The run state shared by the threads (defined in gc_main.c). */
struct gc_run {
	struct gc_opts o;
	uint32_t run_id;
	_Atomic uint64_t t0_us; /* start gate: set by main once both are up */
	_Atomic uint64_t *acked_bm, *deliv_bm;
	/* sender */
	_Atomic uint64_t acked, failed, failed_by[GW_NACK_REASON_MAX + 1], send_errors;
	_Atomic bool sender_up, sender_done;
	/* receiver */
	_Atomic uint64_t delivered, duplicates, corrupt, stale, foreign;
	_Atomic uint64_t bytes_delivered, rx_notices; /* whole messages */
	/* whole messages: the id of each message sent, in index order
	 * (written by the sender thread, published by msg_published) */
	_Atomic uint64_t *msg_ids, msg_published;
	_Atomic uint64_t bytes_acked;
	_Atomic uint64_t last_delivery_us;
	_Atomic bool receiver_up;
	_Atomic bool stop_sender, stop_receiver;
	struct gw_conn_stats sst, rst; /* final stats, written by each thread before exit */
	_Atomic bool have_sst, have_rst;
	FILE *out;          /* --out: written by the one thread with a connector */
	/* cycles */
	_Atomic uint64_t cycles_done, cycles_failed, cycles_hellos;
};

extern struct gc_run gc;
extern volatile sig_atomic_t gc_signalled; /* SIGTERM/SIGINT seen */

static inline uint64_t gc_now_us(void)
{
	return dp_clock_mono_us();
}

static inline void gc_sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* gc_opts.c: fill *o from argv (argv[1] is the mode). Returns GC_OPTS_RUN,
 * or GC_OPTS_HELP once the help is printed (exit 0), or GC_OPTS_USAGE once
 * the error is printed (exit 2). */
enum { GC_OPTS_RUN, GC_OPTS_HELP, GC_OPTS_USAGE };
int gc_opts_parse(struct gc_opts *o, int argc, char **argv);
/* The secret of connector @id: --key, --key-file, or its own file (%u). */
int gc_key_for(const struct gc_opts *o, uint32_t id, uint8_t out[GW_KEY_LEN]);

/* gc_payload.c: magic | run | origin | index | len | checksum | fill. */
enum gc_check { GC_OK, GC_CORRUPT, GC_STALE };
void gc_payload_build(uint8_t *p, uint32_t len, uint32_t origin, uint32_t index);
enum gc_check gc_payload_check(const uint8_t *p, uint16_t len, uint32_t origin,
			       uint32_t *index);
bool gc_payload_run_id(const uint8_t *p, uint16_t len, uint32_t *run_id);
bool gc_bm_set(_Atomic uint64_t *bm, uint64_t i);

/* gc_msg.c: whole messages of any size (--size-min/--size-max). */
uint32_t gc_msg_size(uint64_t index);
void gc_msg_build(uint8_t *p, uint32_t len, uint32_t origin, uint32_t index);
enum gc_check gc_msg_check(const uint8_t *p, size_t len, uint32_t origin, uint32_t index);
bool gc_msg_publish(uint32_t index, uint64_t id);
int64_t gc_msg_index(uint64_t id, bool wait);

/* gc_connector.c: a connector with the options' settings, or NULL (said).
 * With --size-max, @message (whole messages: cfg.on_message) and @rx_notice
 * are set and the handle's max_message covers --size-max. */
typedef void (*gc_message_fn)(void *arg, uint32_t origin, uint64_t msg_id, const char *dest,
			      uint16_t dest_len, const void *msg, size_t len);
typedef void (*gc_rx_notice_fn)(void *arg, uint32_t origin, uint64_t msg_id, int reason);
struct gw_conn *gc_conn_open(uint32_t id, const char *addr, gw_conn_deliver_fn deliver,
			     gw_conn_result_fn result, gc_message_fn message,
			     gc_rx_notice_fn rx_notice);

/* gc_send.c: the sender thread (arg: the router's address) and send mode. */
void *gc_sender_main(void *arg);
bool gc_sender_resolved(void);
int gc_run_send(void);

/* gc_recv.c: the receiver thread (arg: the router's address) and recv mode. */
void *gc_receiver_main(void *arg);
int gc_run_recv(void);

/* gc_pair.c */
int gc_run_pair(void);

/* gc_cycles.c */
int gc_run_cycles(void);

/* gc_report.c: the lines on stdout, which scripts parse. */
void gc_print_nacks(const char *label, const struct gw_conn_stats *st);
void gc_print_session(const char *label, const char *role, const struct gw_conn_stats *st);
void gc_print_groups(const char *label, const char *role, const struct gw_conn_stats *st);
void gc_report_pair(uint64_t lost, uint64_t delivered, double secs);
void gc_report_send(void);
void gc_report_recv(void);
void gc_report_cycles(uint64_t done, uint64_t failed, unsigned fds_before, unsigned fds_after,
		      double secs);

#endif
