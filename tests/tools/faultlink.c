/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-faultlink: a seeded, fault-injecting UDP relay for tests; this file
 * holds its options, sockets, receive side, poll loop and main().
 *
 * netem is not available on the development hosts, so tests put this relay
 * between a connector and the router:
 *
 *   connector --> [listen] faultlink [upstream socket] --> router
 *            <--                                       <--
 *
 * "up" is client -> upstream, "down" is upstream -> client. Each direction
 * has its own faults (drop, duplicate, reorder, delay with jitter) drawn
 * from its own PRNG stream derived from --seed, so a run is reproducible
 * for a given arrival order. If --cut-file exists, everything is dropped in
 * both directions: a test cuts and heals the link with touch/rm.
 *
 * It relays exactly one client: the source of the first datagram on the
 * listen socket (--follow: the source of the latest one, for clients that
 * restart on a new port), through one upstream socket connect()ed to
 * --upstream. It only ever sends to those two addresses.
 *
 * Memory is bounded: a pool of --queue packet buffers per direction, taken
 * by recvmmsg and by held/delayed/duplicated datagrams; when it runs out,
 * datagrams are dropped and counted (overflow). Single thread, ppoll().
 * SIGTERM/SIGINT: print one line of counters per direction on stdout, exit 0.
 *
 * --capture FILE copies every datagram that arrives, either way, cut or
 * not, before any fault, to FILE as records of 1 byte direction ('U' up,
 * 'D' down), 2 bytes length (big-endian) and the datagram: the sniffer of
 * the hostile tests, whose frames gwforge replays from another address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "faultlink.h"
#include "gb_opt.h"

struct fl_relay fl;

static volatile sig_atomic_t stop;
static FILE *capture;

/* One capture record; flushed by the loop after each batch so that a test
 * can read what was seen so far. */
static void capture_put(char dir, const uint8_t *b, uint16_t len)
{
	uint8_t rec[3] = { (uint8_t)dir, (uint8_t)(len >> 8), (uint8_t)len };

	if (fwrite(rec, 1, 3, capture) != 3 || fwrite(b, 1, len, capture) != len)
		fl.capture_err++;
}

/* ---- receive ------------------------------------------------------------ */

static bool same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void rx_batch(int fd, struct fl_dir *d, bool from_client, uint64_t now)
{
	struct mmsghdr msgs[FL_BATCH];
	struct iovec iov[FL_BATCH];
	struct sockaddr_in from[FL_BATCH];
	int32_t idx[FL_BATCH];
	uint8_t scratch[FL_PKT_MAX];
	int n, k, want = 0;

	memset(msgs, 0, sizeof(msgs));
	while (want < FL_BATCH && d->nfree) {
		idx[want] = fl_buf_get(d);
		iov[want].iov_base = d->pool[idx[want]].data;
		iov[want].iov_len = FL_PKT_MAX;
		want++;
	}
	if (want == 0) {
		/* Pool exhausted: drain one datagram anyway so the socket
		 * does not stay readable forever, and count it. */
		if (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) >= 0) {
			d->rx++;
			d->overflow++;
		}
		return;
	}
	for (k = 0; k < want; k++) {
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
		msgs[k].msg_hdr.msg_name = &from[k];
		msgs[k].msg_hdr.msg_namelen = sizeof(from[k]);
	}
	n = recvmmsg(fd, msgs, (unsigned)want, MSG_DONTWAIT, NULL);
	if (n < 0)
		n = 0;
	for (k = 0; k < n; k++) {
		struct fl_pkt *p = &d->pool[idx[k]];

		if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
			d->rx++;
			d->dropped++; /* larger than any gwart frame */
			fl_buf_put(d, idx[k]);
			continue;
		}
		p->len = (uint16_t)msgs[k].msg_len;
		if (capture)
			capture_put(from_client ? 'U' : 'D', p->data, p->len);
		if (from_client) {
			if (!fl.have_client) {
				fl.client = from[k];
				fl.have_client = true;
			} else if (!same_addr(&fl.client, &from[k])) {
				if (!fl.follow) {
					fl.foreign++;
					fl_buf_put(d, idx[k]);
					continue;
				}
				fl.client = from[k];
				fl.relearned++;
			}
		} else if (!fl.have_client) {
			fl.no_client++;
			fl_buf_put(d, idx[k]);
			continue;
		}
		fl_ingest(d, idx[k], now);
	}
	for (k = n; k < want; k++)
		fl_buf_put(d, idx[k]);
	if (capture && n > 0)
		fflush(capture);
}

/* ---- setup -------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* "IP:PORT" (port 0: any, for --listen) into a struct sockaddr_in. */
static int parse_addr(const char *s, void *field)
{
	struct sockaddr_in *sa = field;
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static const struct gb_opt fl_opts[] = {
	GB_OPT_FN("listen", parse_addr, &fl.listen_sa, "IP:PORT",
		  "where the client sends (port 0: any)", GB_OPT_REQUIRED),
	GB_OPT_FN("upstream", parse_addr, &fl.up_sa, "IP:PORT", "the router", GB_OPT_REQUIRED),
	GB_OPT_U64("seed", &fl.seed, 0, UINT64_MAX, "N",
		   "of the faults' PRNG streams, one per direction", GB_OPT_REQUIRED),
	GB_OPT_DOUBLE("drop-up", &fl.up.f.drop, 0, 100, "P", "client -> upstream: percent dropped"),
	GB_OPT_DOUBLE("dup-up", &fl.up.f.dup, 0, 100, "P", "percent duplicated"),
	GB_OPT_DOUBLE("reorder-up", &fl.up.f.reorder, 0, 100, "P",
		      "percent held until the next one passed"),
	GB_OPT_U64("delay-up-us", &fl.up.f.delay_us, 0, UINT64_MAX, "U", "delay of each"),
	GB_OPT_U64("jitter-up-us", &fl.up.f.jitter_us, 0, UINT64_MAX, "J",
		   "up to this much more delay (uniform)"),
	GB_OPT_DOUBLE("drop-down", &fl.down.f.drop, 0, 100, "P",
		      "upstream -> client: percent dropped"),
	GB_OPT_DOUBLE("dup-down", &fl.down.f.dup, 0, 100, "P", "percent duplicated"),
	GB_OPT_DOUBLE("reorder-down", &fl.down.f.reorder, 0, 100, "P",
		      "percent held until the next one passed"),
	GB_OPT_U64("delay-down-us", &fl.down.f.delay_us, 0, UINT64_MAX, "U", "delay of each"),
	GB_OPT_U64("jitter-down-us", &fl.down.f.jitter_us, 0, UINT64_MAX, "J",
		   "up to this much more delay (uniform)"),
	GB_OPT_STR("cut-file", &fl.cut_file, "PATH", "while PATH exists, 100% loss both ways"),
	GB_OPT_U32("queue", &fl.queue, FL_BATCH, 1u << 20, "N", "packet buffers per direction"),
	GB_OPT_U64("reorder-timeout-us", &fl.reorder_timeout_us, 0, UINT64_MAX, "T",
		   "longest a reordered datagram is held"),
	GB_OPT_STR("capture", &fl.capture_file, "FILE",
		   "copy every datagram arriving either way to FILE (records: dir, len, bytes)"),
	GB_OPT_FLAG("follow", &fl.follow,
		    "relay to the newest client address instead of the first one"),
};

static const struct gb_opt_cmd fl_cmd = {
	.prog = "gwart-faultlink",
	.usage = "usage: gwart-faultlink --listen IP:PORT --upstream IP:PORT --seed N [options]\n"
		 "  up = client -> upstream, down = upstream -> client; P in percent (float).\n",
	.notes = "SIGTERM/SIGINT: one line of counters per direction on stdout, exit 0.\n",
	.opts = fl_opts,
	.n = sizeof(fl_opts) / sizeof(fl_opts[0]),
};

static void fl_defaults(void)
{
	fl.queue = FL_DEF_QUEUE;
	fl.reorder_timeout_us = FL_DEF_REORDER_TIMEOUT_US;
}

/* 0 to run, else the exit status (the help or the message printed). */
static int fl_parse(int argc, char **argv, bool *run)
{
	char err[GB_OPT_ERR_LEN];
	int r;

	*run = false;
	fl_defaults();
	if (argc < 2) {
		gb_opt_help(&fl_cmd, stderr);
		return 2;
	}
	r = gb_opt_parse(&fl_cmd, argc, argv, 1, err, sizeof(err));
	if (r == GB_OPT_HELP) {
		fl_defaults(); /* --help shows the defaults */
		gb_opt_help(&fl_cmd, stdout);
		return 0;
	}
	if (r < 0) {
		fprintf(stderr, "gwart-faultlink: %s\n", err);
		return 2;
	}
	*run = true;
	return 0;
}

/* Both sockets bound, the upstream one connect()ed. */
static int fl_sockets_open(void)
{
	struct sockaddr_in local;
	socklen_t sl = sizeof(local);
	int bufsz = 4 << 20;

	fl.listen_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	fl.up_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fl.listen_fd < 0 || fl.up_fd < 0) {
		perror("gwart-faultlink: socket");
		return -errno;
	}
	setsockopt(fl.listen_fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fl.listen_fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(fl.up_fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fl.up_fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(fl.listen_fd, (struct sockaddr *)&fl.listen_sa, sizeof(fl.listen_sa)) < 0) {
		perror("gwart-faultlink: bind --listen");
		return -errno;
	}
	/* The upstream side leaves from the listen address (any port), so
	 * the router sees the relay where it expects the connector's host. */
	local = fl.listen_sa;
	local.sin_port = 0;
	if (bind(fl.up_fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fl.up_fd, (struct sockaddr *)&fl.up_sa, sizeof(fl.up_sa)) < 0) {
		perror("gwart-faultlink: upstream socket");
		return -errno;
	}
	if (getsockname(fl.listen_fd, (struct sockaddr *)&local, &sl) == 0)
		fl.listen_sa.sin_port = local.sin_port;
	return 0;
}

/* Signals are delivered only inside ppoll(): no lost wake-up. *unblocked
 * is the mask ppoll() waits with. */
static void fl_signals_block(sigset_t *unblocked)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, unblocked);
	sigdelset(unblocked, SIGTERM);
	sigdelset(unblocked, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* ---- the loop ----------------------------------------------------------- */

/* Until SIGTERM/SIGINT: wait for a datagram or the next release, the cut
 * file's next check at the latest, then receive and release. */
static int fl_relay_loop(const sigset_t *unblocked)
{
	while (!stop) {
		struct pollfd pfd[2] = { { .fd = fl.listen_fd, .events = POLLIN },
					 { .fd = fl.up_fd, .events = POLLIN } };
		uint64_t now = fl_now_us(), due, wait;
		struct timespec ts;

		due = fl_next_due(&fl.up);
		if (fl_next_due(&fl.down) < due)
			due = fl_next_due(&fl.down);
		if (fl.cut_file && fl.cut_checked_us + FL_CUT_CHECK_US < due)
			due = fl.cut_checked_us + FL_CUT_CHECK_US;
		wait = due == UINT64_MAX ? 1000000 : (due > now ? due - now : 0);
		if (wait > 1000000)
			wait = 1000000;
		ts.tv_sec = (time_t)(wait / 1000000);
		ts.tv_nsec = (long)(wait % 1000000) * 1000;
		if (ppoll(pfd, 2, &ts, unblocked) < 0 && errno != EINTR) {
			perror("gwart-faultlink: ppoll");
			return -errno;
		}
		now = fl_now_us();
		if (fl.cut_file && now >= fl.cut_checked_us + FL_CUT_CHECK_US) {
			struct stat st;

			fl.cut = stat(fl.cut_file, &st) == 0;
			fl.cut_checked_us = now;
		}
		/* POLLERR too: a pending ICMP error (upstream port not open
		 * yet) is consumed by the receive, else ppoll would spin. */
		if (pfd[0].revents & (POLLIN | POLLERR))
			rx_batch(fl.listen_fd, &fl.up, true, now);
		if (pfd[1].revents & (POLLIN | POLLERR))
			rx_batch(fl.up_fd, &fl.down, false, now);
		fl_release_due(&fl.up, now);
		fl_release_due(&fl.down, now);
	}
	return 0;
}

static void print_counters(const struct fl_dir *d)
{
	printf("faultlink: %s rx=%llu tx=%llu dropped=%llu duped=%llu reordered=%llu delayed=%llu "
	       "overflow=%llu tx_err=%llu\n",
	       d->name, (unsigned long long)d->rx, (unsigned long long)d->tx,
	       (unsigned long long)d->dropped, (unsigned long long)d->duped,
	       (unsigned long long)d->reordered, (unsigned long long)d->delayed,
	       (unsigned long long)d->overflow, (unsigned long long)d->tx_err);
}

int main(int argc, char **argv)
{
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];
	sigset_t unblocked;
	int ret = 1;
	bool run;

	fl.listen_fd = fl.up_fd = -1;
	ret = fl_parse(argc, argv, &run);
	if (!run)
		return ret;
	ret = 1;
	if (fl_dir_init(&fl.up, "up", fl.seed) < 0 ||
	    fl_dir_init(&fl.down, "down", fl.seed ^ 0xd0e5d0e5d0e5d0e5ull) < 0) {
		fprintf(stderr, "gwart-faultlink: out of memory\n");
		goto out;
	}
	if (fl_sockets_open() < 0)
		goto out;
	if (fl.capture_file && !(capture = fopen(fl.capture_file, "wb"))) {
		perror("gwart-faultlink: --capture");
		goto out;
	}
	fl_signals_block(&unblocked);
	fprintf(stderr, "faultlink: ready listen=%s:%u upstream=%s:%u seed=%llu\n",
		inet_ntop(AF_INET, &fl.listen_sa.sin_addr, a1, sizeof(a1)),
		ntohs(fl.listen_sa.sin_port),
		inet_ntop(AF_INET, &fl.up_sa.sin_addr, a2, sizeof(a2)), ntohs(fl.up_sa.sin_port),
		(unsigned long long)fl.seed);
	if (fl_relay_loop(&unblocked) < 0)
		goto out;
	ret = 0;
	print_counters(&fl.up);
	print_counters(&fl.down);
	fflush(stdout);
	fprintf(stderr, "faultlink: client relearned=%llu foreign=%llu no_client=%llu\n",
		(unsigned long long)fl.relearned, (unsigned long long)fl.foreign,
		(unsigned long long)fl.no_client);
	if (capture)
		fprintf(stderr, "faultlink: capture errors=%llu\n",
			(unsigned long long)fl.capture_err);
out:
	if (capture)
		fclose(capture);
	if (fl.listen_fd >= 0)
		close(fl.listen_fd);
	if (fl.up_fd >= 0)
		close(fl.up_fd);
	fl_dir_free(&fl.up);
	fl_dir_free(&fl.down);
	return ret;
}
