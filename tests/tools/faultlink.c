/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-faultlink: a seeded, fault-injecting UDP relay for tests.
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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FL_PKT_MAX 9216            /* bytes: any gwart frame (GW_FRAME_MAX 8487) */
#define FL_BATCH 32                /* datagrams per recvmmsg */
#define FL_DEF_QUEUE 2048          /* packet buffers per direction */
#define FL_DEF_REORDER_TIMEOUT_US 1000 /* a held datagram waits at most this */
#define FL_CUT_CHECK_US 5000       /* stat() the cut file at most this often */

struct fl_fault {
	double drop, dup, reorder; /* percent */
	uint64_t delay_us, jitter_us;
};

struct fl_pkt {
	uint64_t release_us;
	uint64_t order; /* FIFO among equal release times */
	uint16_t len;
	uint8_t data[FL_PKT_MAX];
};

struct fl_dir {
	const char *name;
	struct fl_fault f;
	uint64_t rng;
	struct fl_pkt *pool;
	uint32_t *free_stk; /* free buffer indices (LIFO: hot buffers reused) */
	uint32_t nfree;
	uint32_t *heap;     /* delayed datagrams, min-heap on (release_us, order) */
	uint32_t nheap;
	int32_t held;       /* reorder: buffer held for the next datagram, or -1 */
	uint64_t held_deadline;
	uint64_t order;
	/* counters */
	uint64_t rx, tx, dropped, duped, reordered, delayed, overflow, tx_err;
};

static volatile sig_atomic_t stop;

static struct {
	int listen_fd, up_fd;
	struct sockaddr_in listen_sa, up_sa, client;
	bool have_client, follow;
	const char *cut_file;
	bool cut;
	uint64_t cut_checked_us;
	uint64_t reorder_timeout_us;
	uint32_t queue;
	uint64_t relearned, foreign, no_client;
	struct fl_dir up, down;
} fl;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* splitmix64: one independent stream per direction from one seed. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static bool roll(struct fl_dir *d, double pct)
{
	if (pct <= 0)
		return false;
	return (double)(rng_next(&d->rng) >> 11) * (100.0 / 9007199254740992.0) < pct;
}

/* ---- buffers and the delay heap ---------------------------------------- */

static int32_t buf_get(struct fl_dir *d)
{
	if (d->nfree == 0) {
		d->overflow++;
		return -1;
	}
	return (int32_t)d->free_stk[--d->nfree];
}

static void buf_put(struct fl_dir *d, int32_t i)
{
	d->free_stk[d->nfree++] = (uint32_t)i;
}

static bool heap_less(const struct fl_dir *d, uint32_t a, uint32_t b)
{
	const struct fl_pkt *pa = &d->pool[a], *pb = &d->pool[b];

	return pa->release_us < pb->release_us ||
	       (pa->release_us == pb->release_us && pa->order < pb->order);
}

static void heap_push(struct fl_dir *d, uint32_t i)
{
	uint32_t k = d->nheap++;

	d->heap[k] = i;
	while (k && heap_less(d, d->heap[k], d->heap[(k - 1) / 2])) {
		uint32_t p = (k - 1) / 2, t = d->heap[p];

		d->heap[p] = d->heap[k];
		d->heap[k] = t;
		k = p;
	}
}

static uint32_t heap_pop(struct fl_dir *d)
{
	uint32_t top = d->heap[0], k = 0;

	d->heap[0] = d->heap[--d->nheap];
	for (;;) {
		uint32_t l = 2 * k + 1, r = l + 1, m = k, t;

		if (l < d->nheap && heap_less(d, d->heap[l], d->heap[m]))
			m = l;
		if (r < d->nheap && heap_less(d, d->heap[r], d->heap[m]))
			m = r;
		if (m == k)
			break;
		t = d->heap[m];
		d->heap[m] = d->heap[k];
		d->heap[k] = t;
		k = m;
	}
	return top;
}

static int dir_init(struct fl_dir *d, const char *name, uint64_t seed)
{
	uint32_t i;

	d->name = name;
	d->rng = seed;
	d->held = -1;
	d->pool = malloc((size_t)fl.queue * sizeof(*d->pool));
	d->free_stk = malloc((size_t)fl.queue * sizeof(*d->free_stk));
	d->heap = malloc((size_t)fl.queue * sizeof(*d->heap));
	if (!d->pool || !d->free_stk || !d->heap)
		return -ENOMEM;
	for (i = 0; i < fl.queue; i++)
		d->free_stk[i] = fl.queue - 1 - i;
	d->nfree = fl.queue;
	return 0;
}

static void dir_free(struct fl_dir *d)
{
	free(d->pool);
	free(d->free_stk);
	free(d->heap);
}

/* ---- the pipeline: faults -> reorder -> delay -> send ------------------- */

static void transmit(struct fl_dir *d, const struct fl_pkt *p)
{
	ssize_t r;

	if (d == &fl.up)
		r = send(fl.up_fd, p->data, p->len, MSG_DONTWAIT);
	else if (fl.have_client)
		r = sendto(fl.listen_fd, p->data, p->len, MSG_DONTWAIT,
			   (const struct sockaddr *)&fl.client, sizeof(fl.client));
	else
		r = -1;
	if (r == (ssize_t)p->len)
		d->tx++;
	else
		d->tx_err++; /* full socket buffer, or the peer's port unreachable */
}

/* Takes ownership of buffer @i. */
static void stage_delay(struct fl_dir *d, int32_t i, uint64_t now)
{
	struct fl_pkt *p = &d->pool[i];

	if (d->f.delay_us == 0 && d->f.jitter_us == 0) {
		transmit(d, p);
		buf_put(d, i);
		return;
	}
	p->release_us = now + d->f.delay_us;
	if (d->f.jitter_us)
		p->release_us += rng_next(&d->rng) % (d->f.jitter_us + 1);
	p->order = d->order++;
	heap_push(d, (uint32_t)i);
	d->delayed++;
}

/* Takes ownership of buffer @i. */
static void stage_reorder(struct fl_dir *d, int32_t i, uint64_t now)
{
	int32_t h = d->held;

	if (h < 0 && roll(d, d->f.reorder)) {
		d->held = i;
		d->held_deadline = now + fl.reorder_timeout_us;
		d->reordered++;
		return;
	}
	stage_delay(d, i, now);
	if (h >= 0) { /* the held one goes after the one that overtook it */
		d->held = -1;
		stage_delay(d, h, now);
	}
}

/* A datagram arrived in buffer @i. Takes ownership. */
static void ingest(struct fl_dir *d, int32_t i, uint64_t now)
{
	int32_t j;

	d->rx++;
	if (fl.cut || roll(d, d->f.drop)) {
		d->dropped++;
		buf_put(d, i);
		return;
	}
	if (roll(d, d->f.dup) && (j = buf_get(d)) >= 0) {
		d->pool[j].len = d->pool[i].len;
		memcpy(d->pool[j].data, d->pool[i].data, d->pool[i].len);
		d->duped++;
		stage_reorder(d, i, now);
		stage_reorder(d, j, now);
		return;
	}
	stage_reorder(d, i, now);
}

static void release_due(struct fl_dir *d, uint64_t now)
{
	while (d->nheap && d->pool[d->heap[0]].release_us <= now) {
		uint32_t i = heap_pop(d);

		transmit(d, &d->pool[i]);
		buf_put(d, (int32_t)i);
	}
	if (d->held >= 0 && now >= d->held_deadline) {
		int32_t h = d->held;

		d->held = -1;
		stage_delay(d, h, now);
	}
}

static uint64_t next_due(const struct fl_dir *d)
{
	uint64_t t = UINT64_MAX;

	if (d->nheap)
		t = d->pool[d->heap[0]].release_us;
	if (d->held >= 0 && d->held_deadline < t)
		t = d->held_deadline;
	return t;
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
		idx[want] = buf_get(d);
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
			buf_put(d, idx[k]);
			continue;
		}
		p->len = (uint16_t)msgs[k].msg_len;
		if (from_client) {
			if (!fl.have_client) {
				fl.client = from[k];
				fl.have_client = true;
			} else if (!same_addr(&fl.client, &from[k])) {
				if (!fl.follow) {
					fl.foreign++;
					buf_put(d, idx[k]);
					continue;
				}
				fl.client = from[k];
				fl.relearned++;
			}
		} else if (!fl.have_client) {
			fl.no_client++;
			buf_put(d, idx[k]);
			continue;
		}
		ingest(d, idx[k], now);
	}
	for (k = n; k < want; k++)
		buf_put(d, idx[k]);
}

/* ---- setup -------------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
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

static int parse_pct(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || v < 0 || v > 100)
		return -1;
	*out = v;
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || *s == '-')
		return -1;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gwart-faultlink --listen IP:PORT --upstream IP:PORT --seed N\n"
		"    [--drop-up P] [--dup-up P] [--reorder-up P] [--delay-up-us U]\n"
		"    [--jitter-up-us J] [--drop-down P] [--dup-down P] [--reorder-down P]\n"
		"    [--delay-down-us U] [--jitter-down-us J] [--cut-file PATH] [--queue N]\n"
		"    [--reorder-timeout-us T] [--follow]\n"
		"  up = client -> upstream, down = upstream -> client; P in percent (float).\n"
		"  --cut-file: while PATH exists, 100%% loss both ways.\n"
		"  --queue: packet buffers per direction (default %d); --follow: relay to the\n"
		"  newest client address instead of the first one.\n",
		FL_DEF_QUEUE);
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

enum {
	O_LISTEN = 256, O_UPSTREAM, O_SEED, O_CUT, O_QUEUE, O_REORDER_TMO, O_FOLLOW,
	O_DROP_UP, O_DUP_UP, O_REORDER_UP, O_DELAY_UP, O_JITTER_UP,
	O_DROP_DOWN, O_DUP_DOWN, O_REORDER_DOWN, O_DELAY_DOWN, O_JITTER_DOWN,
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "upstream", required_argument, NULL, O_UPSTREAM },
		{ "seed", required_argument, NULL, O_SEED },
		{ "cut-file", required_argument, NULL, O_CUT },
		{ "queue", required_argument, NULL, O_QUEUE },
		{ "reorder-timeout-us", required_argument, NULL, O_REORDER_TMO },
		{ "follow", no_argument, NULL, O_FOLLOW },
		{ "drop-up", required_argument, NULL, O_DROP_UP },
		{ "dup-up", required_argument, NULL, O_DUP_UP },
		{ "reorder-up", required_argument, NULL, O_REORDER_UP },
		{ "delay-up-us", required_argument, NULL, O_DELAY_UP },
		{ "jitter-up-us", required_argument, NULL, O_JITTER_UP },
		{ "drop-down", required_argument, NULL, O_DROP_DOWN },
		{ "dup-down", required_argument, NULL, O_DUP_DOWN },
		{ "reorder-down", required_argument, NULL, O_REORDER_DOWN },
		{ "delay-down-us", required_argument, NULL, O_DELAY_DOWN },
		{ "jitter-down-us", required_argument, NULL, O_JITTER_DOWN },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_listen = false, have_up = false, have_seed = false;
	struct sockaddr_in local;
	socklen_t sl = sizeof(local);
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	uint64_t seed = 0, v;
	int o, bufsz = 4 << 20, ret = 1;
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];

	fl.queue = FL_DEF_QUEUE;
	fl.reorder_timeout_us = FL_DEF_REORDER_TIMEOUT_US;
	fl.listen_fd = fl.up_fd = -1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int bad = 0;

		switch (o) {
		case O_LISTEN:
			bad = parse_addr(optarg, &fl.listen_sa);
			have_listen = true;
			break;
		case O_UPSTREAM:
			bad = parse_addr(optarg, &fl.up_sa);
			have_up = true;
			break;
		case O_SEED:
			bad = parse_u64(optarg, &seed);
			have_seed = true;
			break;
		case O_CUT:
			fl.cut_file = optarg;
			break;
		case O_QUEUE:
			bad = parse_u64(optarg, &v) || v < FL_BATCH || v > 1u << 20;
			fl.queue = (uint32_t)v;
			break;
		case O_REORDER_TMO:
			bad = parse_u64(optarg, &fl.reorder_timeout_us);
			break;
		case O_FOLLOW:
			fl.follow = true;
			break;
		case O_DROP_UP:
			bad = parse_pct(optarg, &fl.up.f.drop);
			break;
		case O_DUP_UP:
			bad = parse_pct(optarg, &fl.up.f.dup);
			break;
		case O_REORDER_UP:
			bad = parse_pct(optarg, &fl.up.f.reorder);
			break;
		case O_DELAY_UP:
			bad = parse_u64(optarg, &fl.up.f.delay_us);
			break;
		case O_JITTER_UP:
			bad = parse_u64(optarg, &fl.up.f.jitter_us);
			break;
		case O_DROP_DOWN:
			bad = parse_pct(optarg, &fl.down.f.drop);
			break;
		case O_DUP_DOWN:
			bad = parse_pct(optarg, &fl.down.f.dup);
			break;
		case O_REORDER_DOWN:
			bad = parse_pct(optarg, &fl.down.f.reorder);
			break;
		case O_DELAY_DOWN:
			bad = parse_u64(optarg, &fl.down.f.delay_us);
			break;
		case O_JITTER_DOWN:
			bad = parse_u64(optarg, &fl.down.f.jitter_us);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "gwart-faultlink: bad value: %s\n", optarg);
			return 2;
		}
	}
	if (!have_listen || !have_up || !have_seed || optind != argc) {
		usage(stderr);
		return 2;
	}

	if (dir_init(&fl.up, "up", seed) < 0 ||
	    dir_init(&fl.down, "down", seed ^ 0xd0e5d0e5d0e5d0e5ull) < 0) {
		fprintf(stderr, "gwart-faultlink: out of memory\n");
		goto out;
	}
	fl.listen_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	fl.up_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fl.listen_fd < 0 || fl.up_fd < 0) {
		perror("gwart-faultlink: socket");
		goto out;
	}
	setsockopt(fl.listen_fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fl.listen_fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	setsockopt(fl.up_fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(fl.up_fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if (bind(fl.listen_fd, (struct sockaddr *)&fl.listen_sa, sizeof(fl.listen_sa)) < 0) {
		perror("gwart-faultlink: bind --listen");
		goto out;
	}
	/* The upstream side leaves from the listen address (any port), so
	 * the router sees the relay where it expects the connector's host. */
	local = fl.listen_sa;
	local.sin_port = 0;
	if (bind(fl.up_fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fl.up_fd, (struct sockaddr *)&fl.up_sa, sizeof(fl.up_sa)) < 0) {
		perror("gwart-faultlink: upstream socket");
		goto out;
	}
	if (getsockname(fl.listen_fd, (struct sockaddr *)&local, &sl) == 0)
		fl.listen_sa.sin_port = local.sin_port;

	/* Signals are delivered only inside ppoll(): no lost wake-up. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigdelset(&unblocked, SIGTERM);
	sigdelset(&unblocked, SIGINT);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fprintf(stderr, "faultlink: ready listen=%s:%u upstream=%s:%u seed=%llu\n",
		inet_ntop(AF_INET, &fl.listen_sa.sin_addr, a1, sizeof(a1)),
		ntohs(fl.listen_sa.sin_port),
		inet_ntop(AF_INET, &fl.up_sa.sin_addr, a2, sizeof(a2)), ntohs(fl.up_sa.sin_port),
		(unsigned long long)seed);

	while (!stop) {
		struct pollfd pfd[2] = { { .fd = fl.listen_fd, .events = POLLIN },
					 { .fd = fl.up_fd, .events = POLLIN } };
		uint64_t now = now_us(), due, wait;
		struct timespec ts;

		due = next_due(&fl.up);
		if (next_due(&fl.down) < due)
			due = next_due(&fl.down);
		if (fl.cut_file && fl.cut_checked_us + FL_CUT_CHECK_US < due)
			due = fl.cut_checked_us + FL_CUT_CHECK_US;
		wait = due == UINT64_MAX ? 1000000 : (due > now ? due - now : 0);
		if (wait > 1000000)
			wait = 1000000;
		ts.tv_sec = (time_t)(wait / 1000000);
		ts.tv_nsec = (long)(wait % 1000000) * 1000;
		if (ppoll(pfd, 2, &ts, &unblocked) < 0 && errno != EINTR) {
			perror("gwart-faultlink: ppoll");
			goto out;
		}
		now = now_us();
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
		release_due(&fl.up, now);
		release_due(&fl.down, now);
	}
	ret = 0;
	print_counters(&fl.up);
	print_counters(&fl.down);
	fflush(stdout);
	fprintf(stderr, "faultlink: client relearned=%llu foreign=%llu no_client=%llu\n",
		(unsigned long long)fl.relearned, (unsigned long long)fl.foreign,
		(unsigned long long)fl.no_client);
out:
	if (fl.listen_fd >= 0)
		close(fl.listen_fd);
	if (fl.up_fd >= 0)
		close(fl.up_fd);
	dir_free(&fl.up);
	dir_free(&fl.down);
	return ret;
}
