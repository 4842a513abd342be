/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-campaign-conn: the fault campaign's connector (campaign.py runs it).
 *
 * gwart-conn keeps what it acknowledged and delivered in a 1 MiB stdio
 * buffer and knows messages by their origin seq only, so a kill -9 loses
 * the records of the last moments and a restarted sender cannot be told
 * from a forger. This one keeps a log that survives kill -9 of its own
 * process (every record is write(2)n before it matters) and names every
 * message by (origin, instance, index), carried in its payload:
 *
 *   send: "i ORIGIN INST" once; "r LO HI" before any index in [LO, HI) is
 *         handed to the SDK (so a message sent just before a kill -9 is
 *         still known to have been sent); "a IDX SEQ T" per on_result(0),
 *         "n IDX SEQ REASON T" per refusal, "x IDX SEQ REASON T" per
 *         notice (written after each poll: a record lost to a kill makes a
 *         message look unacknowledged, never the other way round);
 *         "e ..." with the SDK's counters on a clean end.
 *   both: "o" once gw_conn_open() returned (its socket is bound).
 *   recv: "i ID INST" once; "d ORIGIN INST IDX SEQ T" per delivery,
 *         written inside on_deliver, i.e. before the SDK acknowledges it to
 *         the router (so no acknowledged delivery goes unrecorded);
 *         "f ORIGIN SEQ LEN T" per payload that is not a campaign message
 *         (a forged one reached us); "e ..." on a clean end.
 * T is CLOCK_MONOTONIC in us (the runner's time.monotonic() clock), for
 * telling which router process a message went through.
 *
 * Payload: magic "GWCP" | origin | inst | idx (64) | len | FNV-1a of the
 * whole payload with this field zero | fill derived from idx.
 *
 * SIGTERM: stop sending, drain the outbox (at most --drain-s), close
 * cleanly (BYE, state file), print the counters, exit 0. SIGKILL is the
 * campaign's other way to end it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <gwart/auth.h>
#include <gwart/connector.h>

#define CC_MAGIC 0x50435747u /* "GWCP" little-endian */
#define CC_HDR 32u
#define CC_RESERVE 4096u     /* indices per "r" record */
#define CC_SEQMAP (1u << 17) /* origin_seq -> index (> GW_CONN_MAX_INFLIGHT) */
#define CC_BUF (1u << 20)

static volatile sig_atomic_t cc_stop;
static int cc_log = -1;
static char cc_buf[CC_BUF];
static size_t cc_len;
static uint32_t cc_origin, cc_inst;
static uint64_t cc_seq_idx[CC_SEQMAP];
static uint64_t cc_acked, cc_refused, cc_notices, cc_delivered, cc_forged;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "gwart-campaign-conn: %s: %s\n", what, strerror(err));
	exit(1);
}

static void log_write(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(cc_log, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("log write", errno);
		}
		p += w;
		n -= (size_t)w;
	}
}

static void log_flush(void)
{
	log_write(cc_buf, cc_len);
	cc_len = 0;
}

/* Buffered record (flushed after each poll, or when the buffer fills). */
static void log_buffered(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_buffered(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cc_len + 256 > CC_BUF)
		log_flush();
	va_start(ap, fmt);
	n = vsnprintf(cc_buf + cc_len, CC_BUF - cc_len, fmt, ap);
	va_end(ap);
	cc_len += (size_t)n;
}

/* A record that must be in the kernel before the caller goes on. */
static void log_now(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_now(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	log_flush();
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_write(line, (size_t)n);
}

static uint32_t fnv1a(const uint8_t *p, size_t n, uint32_t h)
{
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void payload_build(uint8_t *p, uint32_t len, uint64_t idx)
{
	uint32_t h, i;

	memcpy(p, &(uint32_t){ CC_MAGIC }, 4);
	memcpy(p + 4, &cc_origin, 4);
	memcpy(p + 8, &cc_inst, 4);
	memcpy(p + 12, &idx, 8);
	memcpy(p + 20, &len, 4);
	memset(p + 24, 0, 8);
	for (i = CC_HDR; i < len; i++)
		p[i] = (uint8_t)(idx * 131u + i);
	h = fnv1a(p, len, 2166136261u);
	memcpy(p + 24, &h, 4);
}

/* 0 and the ids, or -1: not a campaign message of @origin. */
static int payload_check(const uint8_t *p, uint16_t len, uint32_t origin, uint32_t *inst,
			 uint64_t *idx)
{
	uint8_t tmp[8192];
	uint32_t m, o, l, h;

	if (len < CC_HDR || len > sizeof(tmp))
		return -1;
	memcpy(&m, p, 4);
	memcpy(&o, p + 4, 4);
	memcpy(&l, p + 20, 4);
	memcpy(&h, p + 24, 4);
	if (m != CC_MAGIC || o != origin || l != len)
		return -1;
	memcpy(tmp, p, len);
	memset(tmp + 24, 0, 4);
	if (fnv1a(tmp, len, 2166136261u) != h)
		return -1;
	memcpy(inst, p + 8, 4);
	memcpy(idx, p + 12, 8);
	return 0;
}

static void on_result(void *arg, uint64_t seq, int status)
{
	uint64_t idx = cc_seq_idx[seq % CC_SEQMAP];

	(void)arg;
	if (status == 0) {
		cc_acked++;
		log_buffered("a %llu %llu %llu\n", (unsigned long long)idx,
			     (unsigned long long)seq, (unsigned long long)now_us());
	} else {
		cc_refused++;
		log_buffered("n %llu %llu %d %llu\n", (unsigned long long)idx,
			     (unsigned long long)seq, status, (unsigned long long)now_us());
	}
}

static void on_notice(void *arg, uint64_t seq, int reason)
{
	(void)arg;
	cc_notices++;
	log_buffered("x %llu %llu %d %llu\n", (unsigned long long)cc_seq_idx[seq % CC_SEQMAP],
		     (unsigned long long)seq, reason, (unsigned long long)now_us());
}

static void on_deliver(void *arg, uint32_t origin, uint64_t seq, const char *dest,
		       uint16_t dest_len, const void *payload, uint16_t len)
{
	uint32_t inst;
	uint64_t idx;

	(void)arg;
	(void)dest;
	(void)dest_len;
	if (payload_check(payload, len, origin, &inst, &idx) < 0) {
		cc_forged++;
		log_now("f %u %llu %u %llu\n", origin, (unsigned long long)seq, len,
			(unsigned long long)now_us());
		return;
	}
	cc_delivered++;
	/* Before on_deliver returns, i.e. before the SDK's ACK can leave. */
	log_now("d %u %u %llu %llu %llu\n", origin, inst, (unsigned long long)idx,
		(unsigned long long)seq, (unsigned long long)now_us());
}

static void on_signal(int sig)
{
	(void)sig;
	cc_stop = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gwart-campaign-conn send|recv --id ID --router IP[:PORT] --log FILE\n"
		"  [--bind IP] [--state FILE] [--dest ADDR (send)] [--payload N] [--window N]\n"
		"  [--rate MSG/S] [--drain-s S] [--backoff-initial-ms MS] [--backoff-max-ms MS]\n"
		"  --key-file FILE (the connector's key: 64 hex digits or base64)\n");
	exit(2);
}

static int split_addr(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *c = strchr(s, ':');
	size_t n = c ? (size_t)(c - s) : strlen(s);

	if (!n || n >= cap)
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	*port = c ? (uint16_t)atoi(c + 1) : GW_WIRE_UDP_PORT;
	return *port ? 0 : -1;
}

static void print_stats(const char *role, const struct gw_conn_stats *st)
{
	unsigned r;

	printf("cc %s id=%u inst=%u sent=%llu retx=%llu acked=%llu failed=%llu notices=%llu "
	       "delivered=%llu dups=%llu sessions=%llu losses=%llu timeout=%llu bye=%llu "
	       "probe=%llu hellos=%llu rx_restored=%u state_clean=%u inflight=%u "
	       "rx_auth_failed=%llu rx_replayed=%llu rx_stale_epoch=%llu keepalives=%llu", role,
	       cc_origin, cc_inst, (unsigned long long)st->sent,
	       (unsigned long long)st->retransmitted, (unsigned long long)st->acked,
	       (unsigned long long)st->failed, (unsigned long long)st->notices,
	       (unsigned long long)st->delivered, (unsigned long long)st->duplicates,
	       (unsigned long long)st->sessions, (unsigned long long)st->session_losses,
	       (unsigned long long)st->loss_timeout, (unsigned long long)st->loss_bye,
	       (unsigned long long)st->loss_probe, (unsigned long long)st->hellos_sent,
	       st->rx_restored, st->state_clean, st->inflight,
	       (unsigned long long)st->rx_auth_failed, (unsigned long long)st->rx_replayed,
	       (unsigned long long)st->rx_stale_epoch, (unsigned long long)st->keepalives_sent);
	for (r = 1; r <= GW_NACK_REASON_MAX; r++)
		if (st->nacked[r])
			printf(" nack_%s=%llu", gw_nack_reason_name(r),
			       (unsigned long long)st->nacked[r]);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "id", 1, 0, 'i' },       { "router", 1, 0, 'r' },   { "log", 1, 0, 'l' },
		{ "bind", 1, 0, 'b' },     { "state", 1, 0, 's' },    { "dest", 1, 0, 'd' },
		{ "payload", 1, 0, 'p' },  { "window", 1, 0, 'w' },   { "rate", 1, 0, 'R' },
		{ "drain-s", 1, 0, 'D' },  { "backoff-initial-ms", 1, 0, 'B' },
		{ "backoff-max-ms", 1, 0, 'M' }, { "key-file", 1, 0, 'k' }, { 0, 0, 0, 0 },
	};
	struct gw_conn_cfg cfg = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *router = NULL, *logp = NULL, *dest = NULL, *key_file = NULL;
	uint32_t payload = 64;
	double rate = 0, drain_s = 10;
	struct gw_conn_stats st;
	struct gw_conn *c;
	char host[64];
	bool send_mode;
	int opt, err;

	if (argc < 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv")))
		usage();
	send_mode = !strcmp(argv[1], "send");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'i': cfg.id = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'r': router = optarg; break;
		case 'l': logp = optarg; break;
		case 'b': cfg.bind_addr = optarg; break;
		case 's': cfg.state_path = optarg; break;
		case 'd': dest = optarg; break;
		case 'p': payload = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'w': cfg.max_inflight = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'R': rate = strtod(optarg, NULL); break;
		case 'D': drain_s = strtod(optarg, NULL); break;
		case 'B': cfg.backoff_initial_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'M': cfg.backoff_max_ms = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'k': key_file = optarg; break;
		default: usage();
		}
	}
	if (!cfg.id || !router || !logp || (send_mode && !dest) || payload < CC_HDR ||
	    payload > GW_PAYLOAD_MAX || split_addr(router, host, sizeof(host), &cfg.router_port))
		usage();
	/* Protocol v2: the connector's secret, as configured on the router. */
	if (key_file) {
		char text[256];
		int fd = open(key_file, O_RDONLY | O_CLOEXEC);
		ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof(text));

		if (fd >= 0)
			close(fd);
		if (n <= 0 || (size_t)n >= sizeof(text) ||
		    gw_key_parse(text, (size_t)n, cfg.key) < 0) {
			fprintf(stderr, "gwart-campaign-conn: --key-file %s: no key\n", key_file);
			exit(2);
		}
		gw_auth_wipe(text, sizeof(text));
	}
	cfg.router_addr = host;
	cfg.max_payload = payload;
	cfg.on_result = on_result;
	cfg.on_notice = on_notice;
	cfg.on_deliver = on_deliver;
	cc_origin = cfg.id;
	while (!cc_inst)
		if (getrandom(&cc_inst, sizeof(cc_inst), 0) != sizeof(cc_inst))
			cc_inst = (uint32_t)now_us() ^ (uint32_t)getpid();
	cc_log = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (cc_log < 0)
		die(logp, errno);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_now("i %u %u\n", cfg.id, cc_inst);

	c = gw_conn_open(&cfg, &err);
	gw_auth_wipe(cfg.key, sizeof(cfg.key)); /* the handle has its own copy */
	if (!c)
		die("gw_conn_open", -err);
	log_now("o\n"); /* socket bound: the runner may take the address away now */

	if (send_mode) {
		uint8_t *pl = malloc(payload);
		uint64_t next = 0, reserved = 0, t0 = 0, seq, drain_end = 0;
		double tokens = 0;

		if (!pl)
			die("malloc", ENOMEM);
		for (;;) {
			bool blocked = false;

			if (cc_stop && !drain_end)
				drain_end = now_us() + (uint64_t)(drain_s * 1e6);
			if (!cc_stop && gw_conn_is_up(c)) {
				uint64_t allowed = UINT64_MAX, now = now_us();

				/* --rate: a token bucket of at most 50 ms of messages, so
				 * that a stream held back (a fault, a full window) goes on
				 * at its pace instead of catching up in a burst that
				 * would skew the campaign's rate windows. */
				if (rate > 0) {
					double cap = rate * 0.05 + 1;

					if (!t0)
						t0 = now;
					tokens += (double)(now - t0) * rate / 1e6;
					t0 = now;
					if (tokens > cap)
						tokens = cap;
					allowed = next + (uint64_t)tokens;
				}
				while (next < allowed) {
					int r;

					if (next == reserved) {
						log_now("r %llu %llu\n", (unsigned long long)reserved,
							(unsigned long long)(reserved + CC_RESERVE));
						reserved += CC_RESERVE;
					}
					payload_build(pl, payload, next);
					r = gw_conn_send(c, dest, pl, (uint16_t)payload, &seq);
					if (r == -EAGAIN || r == -ENOTCONN || r == -EIO) {
						blocked = true;
						break;
					}
					if (r < 0)
						die("gw_conn_send", -r);
					cc_seq_idx[seq % CC_SEQMAP] = next;
					next++;
					if (rate > 0)
						tokens -= 1;
				}
			}
			err = gw_conn_poll(c, blocked || cc_stop || rate > 0 ? 1 : 0);
			if (err < 0)
				die("gw_conn_poll", -err);
			log_flush();
			if (drain_end) {
				gw_conn_get_stats(c, &st);
				if (st.inflight == 0 || now_us() >= drain_end)
					break;
			}
		}
		free(pl);
	} else {
		while (!cc_stop) {
			err = gw_conn_poll(c, 10);
			if (err < 0)
				die("gw_conn_poll", -err);
		}
	}
	gw_conn_get_stats(c, &st);
	err = gw_conn_close(c);
	log_flush();
	log_now("e acked=%llu refused=%llu notices=%llu delivered=%llu forged=%llu "
		"inflight=%u close=%d\n",
		(unsigned long long)cc_acked, (unsigned long long)cc_refused,
		(unsigned long long)cc_notices, (unsigned long long)cc_delivered,
		(unsigned long long)cc_forged, st.inflight, err);
	print_stats(send_mode ? "send" : "recv", &st);
	close(cc_log);
	return err < 0 ? 1 : 0;
}
