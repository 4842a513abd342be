/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-bench-udpfwd: the path without kernel bypass. A UDP forwarder on
 * ordinary sockets (recvmmsg/sendmmsg, 64 datagrams a call) between a
 * generator and a sink, all three threads in this process, on an address
 * the caller gives (bench/run.sh runs it inside a network namespace it
 * creates, on 198.18.0.1 on that namespace's loopback).
 *
 *   gwart-bench-udpfwd [--addr A] [--bytes B] [--duration S] [--cpu-fwd N]
 *                      [--cpus-other N] [--json FILE] [--label L]
 *
 * --bytes is the UDP payload: run.sh passes the size of the gwart DATA
 * frame that carries the scenario's payload. The figure is datagrams the
 * forwarder moved per second, and per second of the forwarder thread's CPU
 * time (user + system: the kernel's work is the point here).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define UF_BATCH 64
#define UF_PORT_FWD 47901
#define UF_PORT_SINK 47902

static struct {
	const char *addr;
	int bytes, cpu_fwd, cpu_other;
	atomic_int stop;
	atomic_ulong sent, fwd, rx, send_err;
} g = {.addr = "127.0.0.1", .bytes = 122, .cpu_fwd = 1, .cpu_other = 0};

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int udp_socket(int port_bind, int port_conn)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct timeval tv = {0, 100000};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 8 << 20;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, g.addr, &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (port_bind) {
		sa.sin_port = htons((uint16_t)port_bind);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			goto fail;
	}
	if (port_conn) {
		sa.sin_port = htons((uint16_t)port_conn);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

struct uf_batch {
	struct mmsghdr m[UF_BATCH];
	struct iovec iov[UF_BATCH];
	char *buf;
};

static int batch_init(struct uf_batch *b, int bytes)
{
	int i;

	b->buf = calloc(UF_BATCH, (size_t)bytes);
	if (b->buf == NULL)
		return -1;
	memset(b->m, 0, sizeof(b->m));
	for (i = 0; i < UF_BATCH; i++) {
		b->iov[i].iov_base = b->buf + (size_t)i * (size_t)bytes;
		b->iov[i].iov_len = (size_t)bytes;
		b->m[i].msg_hdr.msg_iov = &b->iov[i];
		b->m[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

static void *gen_main(void *arg)
{
	struct uf_batch b;
	int fd = udp_socket(0, UF_PORT_FWD);

	(void)arg;
	pin(g.cpu_other);
	if (fd < 0 || batch_init(&b, g.bytes) != 0)
		return NULL;
	while (!atomic_load(&g.stop)) {
		int n = sendmmsg(fd, b.m, UF_BATCH, 0);

		if (n > 0)
			atomic_fetch_add(&g.sent, (unsigned long)n);
		else
			sched_yield(); /* ENOBUFS: the receiver is behind */
	}
	free(b.buf);
	close(fd);
	return NULL;
}

static void *fwd_main(void *arg)
{
	struct uf_batch b;
	int in = udp_socket(UF_PORT_FWD, 0), out = udp_socket(0, UF_PORT_SINK);

	(void)arg;
	pin(g.cpu_fwd);
	if (in < 0 || out < 0 || batch_init(&b, g.bytes + 64) != 0)
		return NULL;
	while (!atomic_load(&g.stop)) {
		int i, n = recvmmsg(in, b.m, UF_BATCH, MSG_WAITFORONE, NULL), s;

		if (n <= 0)
			continue;
		for (i = 0; i < n; i++)
			b.iov[i].iov_len = b.m[i].msg_len;
		s = sendmmsg(out, b.m, (unsigned)n, 0);
		if (s > 0)
			atomic_fetch_add(&g.fwd, (unsigned long)s);
		if (s < n)
			atomic_fetch_add(&g.send_err, (unsigned long)(n - (s > 0 ? s : 0)));
		for (i = 0; i < n; i++)
			b.iov[i].iov_len = (size_t)g.bytes + 64;
	}
	free(b.buf);
	close(in);
	close(out);
	return NULL;
}

static void *sink_main(void *arg)
{
	struct uf_batch b;
	int fd = udp_socket(UF_PORT_SINK, 0);

	(void)arg;
	pin(g.cpu_other);
	if (fd < 0 || batch_init(&b, g.bytes + 64) != 0)
		return NULL;
	while (!atomic_load(&g.stop)) {
		int n = recvmmsg(fd, b.m, UF_BATCH, MSG_WAITFORONE, NULL);

		if (n > 0)
			atomic_fetch_add(&g.rx, (unsigned long)n);
	}
	free(b.buf);
	close(fd);
	return NULL;
}

static double mono(void)
{
	return (double)dp_clock_mono_ns() / 1e9;
}

static double thread_cpu(pthread_t t)
{
	clockid_t cid;
	struct timespec ts;

	if (pthread_getcpuclockid(t, &cid) != 0 || clock_gettime(cid, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *json = NULL, *label = "-";
	double duration = 3, warmup = 0.5, t0, t1, c0, c1, rate, per_core;
	unsigned long f0, f1, r0, r1;
	pthread_t tg, tf, ts;
	int i, ok;
	FILE *f;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--addr"))
			g.addr = argv[i + 1];
		else if (!strcmp(argv[i], "--bytes"))
			g.bytes = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--duration"))
			duration = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--cpu-fwd"))
			g.cpu_fwd = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--cpus-other"))
			g.cpu_other = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--json"))
			json = argv[i + 1];
		else if (!strcmp(argv[i], "--label"))
			label = argv[i + 1];
		else
			break;
	}
	if (i < argc || g.bytes < 1 || g.bytes > 65000 || duration <= 0) {
		fprintf(stderr, "usage: gwart-bench-udpfwd [--addr A] [--bytes B] [--duration S] "
				"[--cpu-fwd N] [--cpus-other N] [--json FILE] [--label L]\n");
		return 2;
	}
	pthread_create(&ts, NULL, sink_main, NULL);
	pthread_create(&tf, NULL, fwd_main, NULL);
	usleep(100000);
	pthread_create(&tg, NULL, gen_main, NULL);
	usleep((useconds_t)(warmup * 1e6));
	t0 = mono();
	c0 = thread_cpu(tf);
	f0 = atomic_load(&g.fwd);
	r0 = atomic_load(&g.rx);
	usleep((useconds_t)(duration * 1e6));
	t1 = mono();
	c1 = thread_cpu(tf);
	f1 = atomic_load(&g.fwd);
	r1 = atomic_load(&g.rx);
	atomic_store(&g.stop, 1);
	pthread_join(tg, NULL);
	pthread_join(tf, NULL);
	pthread_join(ts, NULL);
	rate = (double)(f1 - f0) / (t1 - t0);
	per_core = c1 > c0 ? (double)(f1 - f0) / (c1 - c0) : 0;
	ok = f1 > f0;
	printf("SUMMARY scenario=udpfwd label=%s bytes=%d rate=%.0f pkt/s per_fwd_core=%.0f "
	       "fwd_cpu_s=%.2f sent=%lu forwarded=%lu received=%lu (window %lu) send_err=%lu "
	       "ok=%d\n",
	       label, g.bytes, rate, per_core, c1 - c0, atomic_load(&g.sent), f1, r1, r1 - r0,
	       atomic_load(&g.send_err), ok);
	if (json != NULL && (f = fopen(json, "w")) != NULL) {
		fprintf(f,
			"{\"tool\": \"gwart-bench-udpfwd\", \"params\": {\"scenario\": \"udpfwd\", "
			"\"bytes\": %d, \"duration_s\": %g, \"label\": \"%s\"}, \"result\": "
			"{\"ok\": %d, \"rate_msg_s\": %.1f, \"rate_per_core\": %.1f, "
			"\"fwd_cpu_s\": %.3f, \"wall_s\": %.3f, \"messages\": %lu, \"sent\": %lu, "
			"\"received\": %lu}}\n",
			g.bytes, duration, label, ok, rate, per_core, c1 - c0, t1 - t0, f1 - f0,
			atomic_load(&g.sent), r1);
		fclose(f);
	}
	return ok ? 0 : 1;
}
