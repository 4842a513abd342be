/* SPDX-License-Identifier: BSD-3-Clause */
/*
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
 * backoff; --rate paces the sender. Every mode prints its connectors'
 * session counters ("<label>: <role> session ...") and the backoff delays
 * the SDK drew ("<label>: <role> backoff attempt=K delay_us=D waited_us=W").
 *
 * Payload (at least GC_HDR_LEN bytes): magic, run id, origin, message index,
 * length, FNV-1a checksum, then a fill pattern derived from the index. The
 * receiver verifies all of it, so corruption and mix-ups are caught, and
 * ignores messages of earlier runs (another run id) against the same router.
 *
 * Threads share only atomics: the sender thread writes the acked bitmap and
 * its counters, the receiver thread the delivered bitmap and its counters,
 * the main thread reads both to decide when the run is complete.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <gwart/connector.h>

#define GC_MAGIC 0x4757434eu  /* "GWCN" */
#define GC_HDR_LEN 24u        /* payload header, bytes */
#define GC_DEF_PAYLOAD 64u
#define GC_DEF_TIMEOUT_S 60.0
#define GC_SEQMAP 65536u      /* origin_seq -> index ring (>= any send window) */
#define GC_LINGER_US 200000u  /* receiver keeps acknowledging after the end */

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
};

/* Shared run state. */
static struct {
	struct gc_opts o;
	uint32_t run_id;
	_Atomic uint64_t t0_us; /* start gate: set by main once both are up */
	_Atomic uint64_t *acked_bm, *deliv_bm;
	/* sender */
	_Atomic uint64_t acked, failed, failed_by[GW_NACK_REASON_MAX + 1], send_errors;
	_Atomic bool sender_up, sender_done;
	/* receiver */
	_Atomic uint64_t delivered, duplicates, corrupt, stale, foreign;
	_Atomic uint64_t last_delivery_us;
	_Atomic bool receiver_up;
	_Atomic bool stop_sender, stop_receiver;
	struct gw_conn_stats sst, rst; /* final stats, written by each thread before exit */
	_Atomic bool have_sst, have_rst;
	FILE *out;          /* --out: written by the one thread with a connector */
	/* cycles */
	_Atomic uint64_t cycles_done, cycles_failed, cycles_hellos;
} g;

static volatile sig_atomic_t g_signalled;

static void on_signal(int sig)
{
	(void)sig;
	g_signalled = 1;
}

static void sleep_us(uint64_t us);

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- payload ------------------------------------------------------------ */

static uint32_t fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* magic | run | origin | index | len | checksum | fill... */
static void payload_build(uint8_t *p, uint32_t len, uint32_t origin, uint32_t index)
{
	uint32_t i;

	put32(p, GC_MAGIC);
	put32(p + 4, g.run_id);
	put32(p + 8, origin);
	put32(p + 12, index);
	put32(p + 16, len);
	put32(p + 20, 0);
	for (i = GC_HDR_LEN; i < len; i++)
		p[i] = (uint8_t)(index * 31u + i);
	put32(p + 20, fnv1a(p, len, 2166136261u));
}

enum gc_check { GC_OK, GC_CORRUPT, GC_STALE };

static enum gc_check payload_check(const uint8_t *p, uint16_t len, uint32_t origin,
				   uint32_t *index)
{
	uint8_t hdr[GC_HDR_LEN];
	uint32_t sum;

	if (len < GC_HDR_LEN || get32(p) != GC_MAGIC || get32(p + 16) != len ||
	    get32(p + 8) != origin)
		return GC_CORRUPT;
	/* The checksum covers the payload with its own field zeroed. */
	memcpy(hdr, p, GC_HDR_LEN);
	put32(hdr + 20, 0);
	sum = fnv1a(p + GC_HDR_LEN, len - GC_HDR_LEN, fnv1a(hdr, GC_HDR_LEN, 2166136261u));
	if (sum != get32(p + 20))
		return GC_CORRUPT;
	if (get32(p + 4) != g.run_id)
		return GC_STALE;
	*index = get32(p + 12);
	return GC_OK;
}

/* Returns true if the bit was already set. */
static bool bm_set(_Atomic uint64_t *bm, uint64_t i)
{
	uint64_t bit = 1ull << (i % 64);

	return atomic_fetch_or_explicit(&bm[i / 64], bit, memory_order_relaxed) & bit;
}

/* ---- connectors --------------------------------------------------------- */

static int split_addr(const char *s, char *host, size_t hcap, uint16_t *port)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	char *end;
	long v;

	if (n == 0 || n >= hcap)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	*port = GW_WIRE_UDP_PORT;
	if (colon) {
		v = strtol(colon + 1, &end, 10);
		if (*end || v <= 0 || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

static struct gw_conn *conn_open(uint32_t id, const char *addr, gw_conn_deliver_fn deliver,
				 gw_conn_result_fn result)
{
	struct gw_conn_cfg cfg = { 0 };
	struct gw_conn *c;
	char host[64];
	int err;

	if (split_addr(addr, host, sizeof(host), &cfg.router_port) < 0) {
		fprintf(stderr, "gwart-conn: bad address %s\n", addr);
		return NULL;
	}
	cfg.id = id;
	cfg.router_addr = host;
	cfg.bind_addr = g.o.bind;
	cfg.max_inflight = g.o.window;
	cfg.rx_window = g.o.rx_window;
	cfg.rto_us = g.o.rto_us;
	cfg.first_seq = g.o.first_seq;
	cfg.max_payload = g.o.payload;
	cfg.on_deliver = deliver;
	cfg.on_result = result;
	cfg.state_path = g.o.state;
	cfg.backoff_initial_ms = g.o.bo_initial_ms;
	cfg.backoff_mult_pct = g.o.bo_mult_pct;
	cfg.backoff_jitter_pct = g.o.bo_jitter_pct;
	cfg.backoff_max_ms = g.o.bo_max_ms;
	c = gw_conn_open(&cfg, &err);
	if (!c)
		fprintf(stderr, "gwart-conn: connector %u: %s\n", id, strerror(-err));
	return c;
}

/* ---- sender ------------------------------------------------------------- */

static uint32_t seq_to_idx[GC_SEQMAP];

static void sender_result(void *arg, uint64_t seq, int status)
{
	uint32_t idx = seq_to_idx[seq % GC_SEQMAP];

	(void)arg;
	if (status == 0) {
		if (!bm_set(g.acked_bm, idx))
			atomic_fetch_add_explicit(&g.acked, 1, memory_order_relaxed);
		if (g.out)
			fprintf(g.out, "%u %llu\n", g.o.src_id, (unsigned long long)seq);
		return;
	}
	atomic_fetch_add_explicit(&g.failed, 1, memory_order_relaxed);
	if (status > 0 && status <= GW_NACK_REASON_MAX)
		atomic_fetch_add_explicit(&g.failed_by[status], 1, memory_order_relaxed);
}

static bool sender_resolved(void)
{
	return atomic_load(&g.acked) + atomic_load(&g.failed) >= g.o.count;
}

static void *sender_main(void *arg)
{
	const char *addr = arg;
	uint8_t *pl = malloc(g.o.payload);
	struct gw_conn *c = NULL;
	uint64_t next = 0, seq, deadline = now_us() + (uint64_t)(g.o.timeout_s * 1e6), pace_t0;
	int r;

	if (!pl)
		goto out;
	c = conn_open(g.o.src_id, addr, NULL, sender_result);
	if (!c)
		goto out;
	while (!atomic_load(&g.stop_sender) && now_us() < deadline &&
	       !(gw_conn_is_up(c) && (g.o.mode != GC_PAIR || g.o.dst_delay_s > 0 ||
				      atomic_load(&g.receiver_up))))
		gw_conn_poll(c, 10);
	if (!gw_conn_is_up(c))
		goto out;
	atomic_store(&g.sender_up, true);
	/* Wait for the pair's start gate (both up), set by main. */
	while (!g.t0_us && !atomic_load(&g.stop_sender))
		gw_conn_poll(c, 1);
	pace_t0 = now_us();

	while (!atomic_load(&g.stop_sender)) {
		bool full = false, paced = false;
		uint64_t allowed = g.o.count;

		if (g.o.rate) {
			/* Paced: what is behind schedule goes at once. */
			allowed = (now_us() - pace_t0) * g.o.rate / 1000000u + 1;
			if (allowed > g.o.count)
				allowed = g.o.count;
		}
		while (next < allowed) {
			payload_build(pl, g.o.payload, g.o.src_id, (uint32_t)next);
			r = gw_conn_send(c, g.o.dest, pl, (uint16_t)g.o.payload, &seq);
			if (r == -EAGAIN || r == -ENOTCONN) {
				full = true;
				break;
			}
			if (r < 0) {
				fprintf(stderr, "gwart-conn: send: %s\n", strerror(-r));
				atomic_fetch_add(&g.send_errors, 1);
				atomic_store(&g.stop_sender, true);
				break;
			}
			seq_to_idx[seq % GC_SEQMAP] = (uint32_t)next;
			next++;
		}
		if (sender_resolved())
			atomic_store(&g.sender_done, true);
		paced = next >= allowed && next < g.o.count;
		/* Window full: sleep until ACKs arrive. Done: idle politely,
		 * still answering the router, until main stops us. */
		r = gw_conn_poll(c, paced ? 1 : full || next >= g.o.count ? 10 : 0);
		if (r < 0) {
			fprintf(stderr, "gwart-conn: poll: %s\n", strerror(-r));
			break;
		}
	}
out:
	if (c) {
		gw_conn_get_stats(c, &g.sst);
		atomic_store(&g.have_sst, true);
		r = gw_conn_close(c);
		if (r < 0)
			fprintf(stderr, "gwart-conn: close: %s\n", strerror(-r));
	}
	atomic_store(&g.sender_done, true);
	free(pl);
	return NULL;
}

/* ---- receiver ----------------------------------------------------------- */

static void receiver_deliver(void *arg, uint32_t origin, uint64_t origin_seq, const char *dest,
			     uint16_t dest_len, const void *payload, uint16_t len)
{
	uint32_t idx;

	(void)arg;
	(void)origin_seq;
	(void)dest;
	(void)dest_len;
	if (g.o.mode == GC_PAIR && origin != g.o.src_id) {
		atomic_fetch_add_explicit(&g.foreign, 1, memory_order_relaxed);
		return;
	}
	switch (payload_check(payload, len, origin, &idx)) {
	case GC_STALE:
		atomic_fetch_add_explicit(&g.stale, 1, memory_order_relaxed);
		return;
	case GC_CORRUPT:
		atomic_fetch_add_explicit(&g.corrupt, 1, memory_order_relaxed);
		return;
	case GC_OK:
		break;
	}
	if (g.out) /* every delivery, duplicates too: the verifier counts them */
		fprintf(g.out, "%u %llu\n", origin, (unsigned long long)origin_seq);
	if (!g.o.count) { /* recv without --count: the SDK's suppression only */
		atomic_fetch_add_explicit(&g.delivered, 1, memory_order_relaxed);
		return;
	}
	if (idx >= g.o.count) {
		atomic_fetch_add_explicit(&g.corrupt, 1, memory_order_relaxed);
		return;
	}
	if (bm_set(g.deliv_bm, idx)) {
		atomic_fetch_add_explicit(&g.duplicates, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&g.delivered, 1, memory_order_relaxed);
	atomic_store_explicit(&g.last_delivery_us, now_us(), memory_order_relaxed);
}

/* recv mode does not know the sender's run id: accept any, check the rest. */
static void recv_only_deliver(void *arg, uint32_t origin, uint64_t origin_seq, const char *dest,
			      uint16_t dest_len, const void *payload, uint16_t len)
{
	const uint8_t *p = payload;

	if (len >= GC_HDR_LEN && get32(p) == GC_MAGIC)
		g.run_id = get32(p + 4); /* this thread's only */
	receiver_deliver(arg, origin, origin_seq, dest, dest_len, payload, len);
}

static void *receiver_main(void *arg)
{
	const char *addr = arg;
	uint64_t start = now_us() + (uint64_t)(g.o.dst_delay_s * 1e6);
	struct gw_conn *c;
	int r;

	/* --dst-delay: let the sender fill the router's custody first. */
	while (now_us() < start && !atomic_load(&g.stop_receiver))
		sleep_us(10000);
	c = conn_open(g.o.mode == GC_PAIR ? g.o.dst_id : g.o.src_id, addr,
		      g.o.mode == GC_RECV ? recv_only_deliver : receiver_deliver, NULL);
	if (!c) {
		atomic_store(&g.stop_receiver, true);
		return NULL;
	}
	while (!atomic_load(&g.stop_receiver)) {
		if (gw_conn_is_up(c))
			atomic_store(&g.receiver_up, true);
		r = gw_conn_poll(c, 10);
		if (r < 0) {
			fprintf(stderr, "gwart-conn: poll: %s\n", strerror(-r));
			break;
		}
	}
	gw_conn_get_stats(c, &g.rst);
	atomic_store(&g.have_rst, true);
	r = gw_conn_close(c);
	if (r < 0)
		fprintf(stderr, "gwart-conn: close: %s\n", strerror(-r));
	return NULL;
}

/* ---- modes -------------------------------------------------------------- */

static uint64_t count_lost(void)
{
	uint64_t w, lost = 0, words = (g.o.count + 63) / 64;

	for (w = 0; w < words; w++)
		lost += (uint64_t)__builtin_popcountll(atomic_load(&g.acked_bm[w]) &
						       ~atomic_load(&g.deliv_bm[w]));
	return lost;
}

static void print_nacks(const char *label, const struct gw_conn_stats *st)
{
	unsigned r;

	printf("%s: nacks", label);
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		printf(" %s=%llu", gw_nack_reason_name(r), (unsigned long long)st->nacked[r]);
	printf(" retransmits=%llu fast_retransmits=%llu failed=%llu",
	       (unsigned long long)st->retransmitted, (unsigned long long)st->fast_retransmits,
	       (unsigned long long)atomic_load(&g.failed));
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		if (atomic_load(&g.failed_by[r]))
			printf(" failed_%s=%llu", gw_nack_reason_name(r),
			       (unsigned long long)atomic_load(&g.failed_by[r]));
}

/* The session side of one connector's stats, and the backoff delays its
 * SDK drew, oldest first: what the integration tests check. */
static void print_session(const char *label, const char *role, const struct gw_conn_stats *st)
{
	uint64_t i, n = st->backoffs < GW_CONN_BACKOFF_HIST ? st->backoffs : GW_CONN_BACKOFF_HIST;

	printf("%s: %s session up=%u sessions=%llu losses=%llu timeout=%llu no_session=%llu "
	       "bye=%llu probe=%llu probes_rx=%llu hellos=%llu keepalives=%llu "
	       "reconnect_last_us=%llu reconnect_max_us=%llu next_seq=%llu state_writes=%llu "
	       "state_errors=%llu rx_restored=%u state_clean=%u delivered=%llu duplicates=%llu "
	       "tx_errors=%llu\n",
	       label, role, st->up, (unsigned long long)st->sessions,
	       (unsigned long long)st->session_losses, (unsigned long long)st->loss_timeout,
	       (unsigned long long)st->loss_no_session, (unsigned long long)st->loss_bye,
	       (unsigned long long)st->loss_probe, (unsigned long long)st->probes_received,
	       (unsigned long long)st->hellos_sent, (unsigned long long)st->keepalives_sent,
	       (unsigned long long)st->reconnect_us_last, (unsigned long long)st->reconnect_us_max,
	       (unsigned long long)st->next_seq, (unsigned long long)st->state_writes,
	       (unsigned long long)st->state_errors, st->rx_restored, st->state_clean,
	       (unsigned long long)st->delivered, (unsigned long long)st->duplicates,
	       (unsigned long long)st->tx_errors);
	for (i = st->backoffs - n; i < st->backoffs; i++) {
		const struct gw_conn_backoff *b = &st->backoff[i % GW_CONN_BACKOFF_HIST];

		printf("%s: %s backoff attempt=%u delay_us=%llu waited_us=%llu\n", label, role,
		       b->attempt, (unsigned long long)b->delay_us,
		       (unsigned long long)b->waited_us);
	}
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000),
			       .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static int run_pair(void)
{
	const char *src_addr = g.o.via_src ? g.o.via_src : g.o.router;
	const char *dst_addr = g.o.via_dst ? g.o.via_dst : g.o.router;
	uint64_t deadline = now_us() + (uint64_t)(g.o.timeout_s * 1e6), end, lost = 0, delivered;
	pthread_t st, rt;
	bool complete = false;
	double secs;

	if (pthread_create(&rt, NULL, receiver_main, (void *)dst_addr) ||
	    pthread_create(&st, NULL, sender_main, (void *)src_addr)) {
		fprintf(stderr, "gwart-conn: pthread_create failed\n");
		return 1;
	}
	/* Start gate: the clock starts when both sessions are up (with
	 * --dst-delay, when the sender's is). */
	while (now_us() < deadline && !atomic_load(&g.sender_done) &&
	       !(atomic_load(&g.sender_up) && (atomic_load(&g.receiver_up) || g.o.dst_delay_s > 0)))
		sleep_us(1000);
	if (atomic_load(&g.sender_up) && (atomic_load(&g.receiver_up) || g.o.dst_delay_s > 0))
		atomic_store(&g.t0_us, now_us());
	else
		fprintf(stderr, "gwart-conn: sessions not up (sender %d, receiver %d)\n",
			atomic_load(&g.sender_up), atomic_load(&g.receiver_up));

	/* Done when every message is resolved and everything acknowledged
	 * has been delivered: only then can "lost" be final. */
	while (g.t0_us && now_us() < deadline && !g_signalled) {
		if (atomic_load(&g.sender_done) || sender_resolved()) {
			if (atomic_load(&g.delivered) >= atomic_load(&g.acked) &&
			    count_lost() == 0) {
				complete = true;
				break;
			}
		}
		sleep_us(2000);
	}
	end = atomic_load(&g.last_delivery_us);
	if (!complete || !end)
		end = now_us();
	atomic_store(&g.stop_sender, true);
	pthread_join(st, NULL);
	/* Keep the receiver acknowledging retransmissions for a moment, so
	 * that the router's custody drains, and so that a late duplicate
	 * delivery would still be seen. */
	sleep_us(GC_LINGER_US);
	atomic_store(&g.stop_receiver, true);
	pthread_join(rt, NULL);

	lost = count_lost();
	delivered = atomic_load(&g.delivered);
	secs = g.t0_us && end > g.t0_us ? (double)(end - g.t0_us) / 1e6 : 0;
	print_nacks(g.o.label, &g.sst);
	printf(" corrupt=%llu stale=%llu foreign=%llu rx_dup_suppressed=%llu acks_sent=%llu\n",
	       (unsigned long long)atomic_load(&g.corrupt),
	       (unsigned long long)atomic_load(&g.stale),
	       (unsigned long long)atomic_load(&g.foreign),
	       (unsigned long long)g.rst.duplicates, (unsigned long long)g.rst.acks_sent);
	if (atomic_load(&g.have_sst))
		print_session(g.o.label, "src", &g.sst);
	if (atomic_load(&g.have_rst))
		print_session(g.o.label, "dst", &g.rst);
	printf("%s: sent=%llu delivered=%llu duplicates=%llu lost=%llu rate=%.0f msg/s\n",
	       g.o.label, (unsigned long long)atomic_load(&g.acked), (unsigned long long)delivered,
	       (unsigned long long)atomic_load(&g.duplicates), (unsigned long long)lost,
	       secs > 0 ? (double)delivered / secs : 0.0);
	fflush(stdout);
	if (lost || atomic_load(&g.duplicates) || atomic_load(&g.corrupt) ||
	    atomic_load(&g.acked) != g.o.count || atomic_load(&g.send_errors))
		return 1;
	return 0;
}

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

static int run_send(void)
{
	uint64_t deadline = now_us() + (uint64_t)(g.o.timeout_s * 1e6);
	const char *addr = g.o.via_src ? g.o.via_src : g.o.router;
	int expect = g.o.expect ? outcome_of(g.o.expect) : -1;
	uint64_t acked, failed;
	pthread_t st;
	bool ok;

	if (g.o.expect && expect < 0) {
		fprintf(stderr, "gwart-conn: --expect acked|NO_ROUTE|BUSY|TOO_BIG|EXPIRED|"
				"NOT_AUTHORISED|NO_SESSION\n");
		return 2;
	}
	atomic_store(&g.receiver_up, true); /* no receiver: no gate */
	g.t0_us = 1;                        /* open the gate at once */
	if (pthread_create(&st, NULL, sender_main, (void *)addr)) {
		fprintf(stderr, "gwart-conn: pthread_create failed\n");
		return 1;
	}
	while (now_us() < deadline && !sender_resolved() && !atomic_load(&g.sender_done) &&
	       !g_signalled)
		sleep_us(2000);
	atomic_store(&g.stop_sender, true);
	pthread_join(st, NULL);
	if (atomic_load(&g.have_sst))
		print_session(g.o.label, "src", &g.sst);
	acked = atomic_load(&g.acked);
	failed = atomic_load(&g.failed);
	printf("%s: acked=%llu nacked=%llu", g.o.label, (unsigned long long)acked,
	       (unsigned long long)failed);
	for (unsigned r = 1; r <= GW_NACK_REASON_MAX; r++)
		printf(" %s=%llu", gw_nack_reason_name(r),
		       (unsigned long long)atomic_load(&g.failed_by[r]));
	printf(" busy_nacks=%llu retransmits=%llu unresolved=%llu\n",
	       (unsigned long long)g.sst.nacked[GW_NACK_BUSY],
	       (unsigned long long)g.sst.retransmitted,
	       (unsigned long long)(g.o.count - acked - failed));
	fflush(stdout);
	ok = acked + failed == g.o.count && atomic_load(&g.send_errors) == 0;
	if (expect == 0)
		ok = ok && acked == g.o.count;
	else if (expect > 0)
		ok = ok && atomic_load(&g.failed_by[expect]) == g.o.count;
	return ok ? 0 : 1;
}

static int run_recv(void)
{
	uint64_t deadline = now_us() + (uint64_t)(g.o.timeout_s * 1e6);
	const char *addr = g.o.via_dst ? g.o.via_dst : g.o.router;
	pthread_t rt;

	if (pthread_create(&rt, NULL, receiver_main, (void *)addr)) {
		fprintf(stderr, "gwart-conn: pthread_create failed\n");
		return 1;
	}
	uint64_t next_flush = 0;

	while (now_us() < deadline && !atomic_load(&g.stop_receiver) && !g_signalled &&
	       !(g.o.count && atomic_load(&g.delivered) >= g.o.count)) {
		/* --out shows progress within 100 ms (stdio locks the FILE
		 * against the receiver thread's writes). */
		if (g.out && now_us() >= next_flush) {
			fflush(g.out);
			next_flush = now_us() + 100000;
		}
		sleep_us(2000);
	}
	/* A signal is a restart: close at once (the state file keeps what
	 * was delivered); otherwise keep acknowledging for a moment. */
	if (!g_signalled)
		sleep_us(GC_LINGER_US);
	atomic_store(&g.stop_receiver, true);
	pthread_join(rt, NULL);
	if (atomic_load(&g.have_rst))
		print_session(g.o.label, "dst", &g.rst);
	printf("%s: delivered=%llu duplicates=%llu corrupt=%llu rx_dup_suppressed=%llu\n",
	       g.o.label, (unsigned long long)atomic_load(&g.delivered),
	       (unsigned long long)atomic_load(&g.duplicates),
	       (unsigned long long)atomic_load(&g.corrupt), (unsigned long long)g.rst.duplicates);
	fflush(stdout);
	return atomic_load(&g.duplicates) == 0 && atomic_load(&g.corrupt) == 0 &&
			       (!g.o.count || atomic_load(&g.delivered) == g.o.count)
		       ? 0
		       : 1;
}

/* Open descriptors of this process (those of /proc/self/fd but the one
 * that lists them). */
static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n >= 3 ? n - 3 : 0;
}

struct gc_cycler {
	pthread_t t;
	uint32_t id;
	uint64_t n;
};

/* open, wait for WELCOME, close (BYE): @n times for one connector id. */
static void *cycler_main(void *arg)
{
	struct gc_cycler *cy = arg;
	const char *addr = g.o.via_src ? g.o.via_src : g.o.router;
	struct gw_conn_stats st;
	uint64_t i, end;

	for (i = 0; i < cy->n && !g_signalled; i++) {
		struct gw_conn *c = conn_open(cy->id, addr, NULL, NULL);

		if (!c) {
			atomic_fetch_add(&g.cycles_failed, 1);
			break;
		}
		end = now_us() + 10000000; /* 10 s: lost WELCOMEs back off */
		while (!gw_conn_is_up(c) && now_us() < end && !g_signalled)
			if (gw_conn_poll(c, 10) < 0)
				break;
		gw_conn_get_stats(c, &st);
		atomic_fetch_add(&g.cycles_hellos, st.hellos_sent);
		if (gw_conn_is_up(c))
			atomic_fetch_add(&g.cycles_done, 1);
		else
			atomic_fetch_add(&g.cycles_failed, 1);
		if (gw_conn_close(c) < 0)
			atomic_fetch_add(&g.cycles_failed, 1);
	}
	return NULL;
}

static int run_cycles(void)
{
	uint32_t p = g.o.parallel ? g.o.parallel : 1, i;
	struct gc_cycler cy[64];
	unsigned fds_before, fds_after;
	uint64_t t0, done, failed;
	double secs;

	fds_before = count_fds();
	t0 = now_us();
	for (i = 0; i < p; i++) {
		cy[i].id = g.o.src_id + i;
		cy[i].n = g.o.count / p + (i < g.o.count % p);
		if (pthread_create(&cy[i].t, NULL, cycler_main, &cy[i])) {
			fprintf(stderr, "gwart-conn: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < p; i++)
		pthread_join(cy[i].t, NULL);
	secs = (double)(now_us() - t0) / 1e6;
	fds_after = count_fds();
	done = atomic_load(&g.cycles_done);
	failed = atomic_load(&g.cycles_failed);
	printf("%s: cycles=%llu failed=%llu hellos=%llu fds_before=%u fds_after=%u "
	       "rate=%.0f cycles/s\n",
	       g.o.label, (unsigned long long)done, (unsigned long long)failed,
	       (unsigned long long)atomic_load(&g.cycles_hellos), fds_before, fds_after,
	       secs > 0 ? (double)done / secs : 0.0);
	fflush(stdout);
	return done == g.o.count && failed == 0 && fds_before == fds_after ? 0 : 1;
}

/* ---- command line ------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage:\n"
		"  gwart-conn pair --router IP[:PORT] --src-id ID --dst-id ID --dest ADDR\n"
		"      --count N [--payload BYTES] [--bind IP] [--via-src IP:PORT]\n"
		"      [--via-dst IP:PORT] [--timeout S] [--label NAME] [--window N]\n"
		"      [--rto-us US] [--first-seq S] [--rx-window N]\n"
		"      [--dst-delay S]  (receiver connects S seconds after the sender)\n"
		"  gwart-conn send --router IP[:PORT] --src-id ID --dest ADDR --count N\n"
		"      [--expect acked|NO_ROUTE|TOO_BIG|...] [--via IP:PORT] [same options]\n"
		"  gwart-conn recv --router IP[:PORT] --id ID [--count N] [--via IP:PORT]\n"
		"      [--timeout S]  (without --count: until SIGTERM/SIGINT or the timeout)\n"
		"  gwart-conn cycles --router IP[:PORT] --id ID --count N [--parallel P]\n"
		"      N open/WELCOME/close cycles on P threads (ids ID..ID+P-1)\n"
		"send and recv also take:\n"
		"  --state PATH   the SDK's state file (seq and receive window across restarts)\n"
		"  --out FILE     append 'ORIGIN SEQ' per message acknowledged (send) or\n"
		"                 delivered (recv, duplicates included)\n"
		"every mode: --backoff-initial-ms MS --backoff-mult-pct P --backoff-jitter-pct P\n"
		"  --backoff-max-ms MS (the SDK's reconnection backoff); send, pair: --rate MSG/S\n"
		"pair prints '<label>: sent=N delivered=N duplicates=N lost=N rate=R msg/s'\n"
		"and exits 0 only if every message was acknowledged and delivered exactly\n"
		"once, uncorrupted.\n"
		"Payload default %u bytes, minimum %u; timeout default %.0f s.\n",
		GC_DEF_PAYLOAD, GC_HDR_LEN, GC_DEF_TIMEOUT_S);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return *s && !*end && !errno && *s != '-' ? 0 : -1;
}

int main(int argc, char **argv)
{
	enum { O_ROUTER = 256, O_SRC, O_DST, O_ID, O_DEST, O_COUNT, O_PAYLOAD, O_BIND, O_VIA_SRC,
	       O_VIA_DST, O_VIA, O_TIMEOUT, O_LABEL, O_WINDOW, O_RX_WINDOW, O_RTO, O_FIRST, O_EXPECT,
	       O_DST_DELAY, O_STATE, O_OUT, O_BO_INIT, O_BO_MULT, O_BO_JIT, O_BO_MAX, O_RATE,
	       O_PARALLEL };
	static const struct option opts[] = {
		{ "router", required_argument, NULL, O_ROUTER },
		{ "src-id", required_argument, NULL, O_SRC },
		{ "dst-id", required_argument, NULL, O_DST },
		{ "id", required_argument, NULL, O_ID },
		{ "dest", required_argument, NULL, O_DEST },
		{ "count", required_argument, NULL, O_COUNT },
		{ "payload", required_argument, NULL, O_PAYLOAD },
		{ "bind", required_argument, NULL, O_BIND },
		{ "via-src", required_argument, NULL, O_VIA_SRC },
		{ "via-dst", required_argument, NULL, O_VIA_DST },
		{ "via", required_argument, NULL, O_VIA },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "label", required_argument, NULL, O_LABEL },
		{ "window", required_argument, NULL, O_WINDOW },
		{ "rx-window", required_argument, NULL, O_RX_WINDOW },
		{ "rto-us", required_argument, NULL, O_RTO },
		{ "first-seq", required_argument, NULL, O_FIRST },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "dst-delay", required_argument, NULL, O_DST_DELAY },
		{ "state", required_argument, NULL, O_STATE },
		{ "out", required_argument, NULL, O_OUT },
		{ "backoff-initial-ms", required_argument, NULL, O_BO_INIT },
		{ "backoff-mult-pct", required_argument, NULL, O_BO_MULT },
		{ "backoff-jitter-pct", required_argument, NULL, O_BO_JIT },
		{ "backoff-max-ms", required_argument, NULL, O_BO_MAX },
		{ "rate", required_argument, NULL, O_RATE },
		{ "parallel", required_argument, NULL, O_PARALLEL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct gc_opts *o = &g.o;
	uint64_t v, words;
	char *end;
	int c, ret;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "pair"))
		o->mode = GC_PAIR;
	else if (!strcmp(argv[1], "send"))
		o->mode = GC_SEND;
	else if (!strcmp(argv[1], "recv"))
		o->mode = GC_RECV;
	else if (!strcmp(argv[1], "cycles"))
		o->mode = GC_CYCLES;
	else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	} else {
		usage(stderr);
		return 2;
	}
	o->payload = GC_DEF_PAYLOAD;
	o->timeout_s = GC_DEF_TIMEOUT_S;
	o->label = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case O_ROUTER: o->router = optarg; break;
		case O_BIND: o->bind = optarg; break;
		case O_VIA_SRC: o->via_src = optarg; break;
		case O_VIA_DST: o->via_dst = optarg; break;
		case O_VIA: o->via_src = o->via_dst = optarg; break;
		case O_DEST: o->dest = optarg; break;
		case O_LABEL: o->label = optarg; break;
		case O_EXPECT: o->expect = optarg; break;
		case O_STATE: o->state = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_BO_INIT:
		case O_BO_MULT:
		case O_BO_JIT:
		case O_BO_MAX:
			/* The SDK checks the ranges (gw_conn_open: -EINVAL). */
			bad = parse_u64(optarg, &v) || v > UINT32_MAX;
			*(c == O_BO_INIT   ? &o->bo_initial_ms
			  : c == O_BO_MULT ? &o->bo_mult_pct
			  : c == O_BO_JIT  ? &o->bo_jitter_pct
					   : &o->bo_max_ms) = (uint32_t)v;
			break;
		case O_RATE:
			bad = parse_u64(optarg, &o->rate);
			break;
		case O_PARALLEL:
			bad = parse_u64(optarg, &v) || v == 0 || v > 64;
			o->parallel = (uint32_t)v;
			break;
		case O_SRC:
		case O_ID:
			bad = parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX;
			o->src_id = (uint32_t)v;
			break;
		case O_DST:
			bad = parse_u64(optarg, &v) || v == 0 || v > UINT32_MAX;
			o->dst_id = (uint32_t)v;
			break;
		case O_COUNT:
			bad = parse_u64(optarg, &o->count) || o->count > UINT32_MAX;
			break;
		case O_PAYLOAD:
			bad = parse_u64(optarg, &v) || v < GC_HDR_LEN || v > GW_PAYLOAD_MAX;
			o->payload = (uint32_t)v;
			break;
		case O_WINDOW:
			bad = parse_u64(optarg, &v) || v == 0 || v > GC_SEQMAP / 2;
			o->window = (uint32_t)v;
			break;
		case O_RX_WINDOW:
			bad = parse_u64(optarg, &v) || v == 0 || v > 960; /* the SDK's receive window bound (dedup.h) */
			o->rx_window = (uint32_t)v;
			break;
		case O_RTO:
			bad = parse_u64(optarg, &v) || v > GW_CONN_MAX_RTO_US;
			o->rto_us = (uint32_t)v;
			break;
		case O_FIRST:
			bad = parse_u64(optarg, &o->first_seq);
			break;
		case O_TIMEOUT:
			o->timeout_s = strtod(optarg, &end);
			bad = *end || o->timeout_s <= 0;
			break;
		case O_DST_DELAY:
			o->dst_delay_s = strtod(optarg, &end);
			bad = *end || o->dst_delay_s < 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "gwart-conn: bad value: %s\n", optarg);
			return 2;
		}
	}
	if (optind != argc || !o->router || !o->src_id ||
	    (o->mode == GC_PAIR && (!o->dst_id || !o->dest || !o->count)) ||
	    (o->mode == GC_SEND && (!o->dest || !o->count)) ||
	    (o->mode == GC_CYCLES && !o->count) ||
	    /* one state file per connector: pair has two, cycles opens many */
	    (o->state && (o->mode == GC_PAIR || o->mode == GC_CYCLES)) ||
	    (o->out && (o->mode == GC_PAIR || o->mode == GC_CYCLES))) {
		usage(stderr);
		return 2;
	}
	if (o->mode == GC_CYCLES && (uint64_t)o->src_id + (o->parallel ? o->parallel : 1) - 1 >
					    UINT32_MAX) {
		usage(stderr);
		return 2;
	}
	/* SIGTERM/SIGINT end a run cleanly: connectors closed (BYE, state
	 * file written), --out flushed, counters printed. */
	{
		struct sigaction sa = { .sa_handler = on_signal };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if (o->out) {
		g.out = fopen(o->out, "a");
		if (!g.out) {
			fprintf(stderr, "gwart-conn: %s: %s\n", o->out, strerror(errno));
			return 1;
		}
		setvbuf(g.out, NULL, _IOFBF, 1 << 20);
	}

	if (getrandom(&g.run_id, sizeof(g.run_id), 0) != sizeof(g.run_id))
		g.run_id = (uint32_t)now_us() ^ (uint32_t)getpid();
	words = (o->count + 63) / 64 + 1;
	g.acked_bm = calloc(words, sizeof(*g.acked_bm));
	g.deliv_bm = calloc(words, sizeof(*g.deliv_bm));
	if (!g.acked_bm || !g.deliv_bm) {
		fprintf(stderr, "gwart-conn: out of memory\n");
		return 1;
	}
	switch (o->mode) {
	case GC_PAIR:
		ret = run_pair();
		break;
	case GC_SEND:
		ret = run_send();
		break;
	case GC_CYCLES:
		ret = run_cycles();
		break;
	default:
		ret = run_recv();
		break;
	}
	if (g.out && fclose(g.out) != 0) {
		fprintf(stderr, "gwart-conn: %s: %s\n", o->out, strerror(errno));
		ret = 1;
	}
	free(g.acked_bm);
	free(g.deliv_bm);
	return ret;
}
