/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Measuring from outside the dataplane: CPU time of the worker threads
 * (the kernel's per-thread schedstat, nanoseconds actually on a CPU, so a
 * descheduled worker is not charged for the time others ran) and CPU
 * placement of the harness's own threads.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gb.h"

/* EAL names its worker threads "rte-worker-<lcore id>" (DPDK 22.11;
 * "lcore-worker-<id>" in older releases). @pid 0: this process. */
static int find_tid(int pid, const char *want)
{
	char dir[64];
	DIR *d;
	struct dirent *de;
	int tid = -1;

	if (pid > 0)
		snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	else
		snprintf(dir, sizeof(dir), "/proc/self/task");
	d = opendir(dir);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && tid < 0) {
		char path[400], comm[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/comm", dir, de->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fgets(comm, sizeof(comm), f) != NULL) {
			comm[strcspn(comm, "\n")] = '\0';
			if (strcmp(comm, want) == 0)
				tid = atoi(de->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return tid;
}

/* User-mode CPU time of thread @tid, ns (clock-tick resolution): what the
 * worker's own code consumed, without the kernel's cost of preempting it
 * on an oversubscribed host (context switches and interrupt returns,
 * which the kernel charges to the preempted thread). */
static uint64_t user_ns(int pid, int tid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0;
	size_t n;
	FILE *f;
	int i;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold blanks */
	if (p == NULL)
		return 0;
	/* fields after comm: state(3) ... utime(14) */
	for (i = 2; i < 14 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%llu", &ut) != 1)
		return 0;
	return ut * (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK));
}

uint64_t gb_thread_cpu_ns(int tid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	if (tid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

uint64_t gb_ctx_cpu_ns(const struct gb_ctx *ctx)
{
	uint64_t ns = 0;
	unsigned e, f;

	/* Endpoints that share a thread share its tid: count it once. */
	for (e = 0; e < ctx->n_ep; e++) {
		int tid = atomic_load(&ctx->ep[e].tid);

		for (f = 0; f < e && atomic_load(&ctx->ep[f].tid) != tid; f++)
			;
		if (f == e)
			ns += gb_thread_cpu_ns(tid);
	}
	return ns;
}

uint64_t gb_lcore_cpu_ns(int pid, unsigned lcore, uint64_t *user)
{
	static int tids[128], pids[128];
	char path[96];
	unsigned long long ns = 0;
	FILE *f;

	*user = 0;
	if (lcore >= 128)
		return 0;
	if (pids[lcore] != pid + 1) {
		char name[32];

		snprintf(name, sizeof(name), "rte-worker-%u", lcore);
		tids[lcore] = find_tid(pid, name);
		if (tids[lcore] < 0) {
			snprintf(name, sizeof(name), "lcore-worker-%u", lcore);
			tids[lcore] = find_tid(pid, name);
		}
		pids[lcore] = pid + 1;
	}
	if (tids[lcore] < 0)
		return 0;
	*user = user_ns(pid, tids[lcore]);
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid, tids[lcore]);
	else
		snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tids[lcore]);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* "0,1" "0-3" "1": the n-th listed CPU, wrapping around. */
int gb_cpu_pick(const char *list, unsigned n)
{
	int cpus[256], k = 0;
	const char *p = list;

	if (list == NULL || *list == '\0')
		return -1;
	while (*p != '\0' && k < 256) {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p)
			return -1;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p)
				return -1;
		}
		for (; a <= b && k < 256; a++)
			cpus[k++] = (int)a;
		p = *end == ',' ? end + 1 : end;
		if (*end != ',' && *end != '\0')
			return -1;
	}
	return k == 0 ? -1 : cpus[n % (unsigned)k];
}

int gb_pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* "--lcores=..." for the main lcore and @n_workers worker lcores: pinned to
 * the harness and worker CPU lists, or, with o->float_cpus, every lcore free
 * to run on any CPU (a shared host where another process busy-polls the
 * CPU a pinned worker would get: the scheduler may then starve the pinned
 * thread for seconds). */
void gb_lcores_arg(const struct gb_opts *o, unsigned n_workers, char *buf, size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t w;
	unsigned e;
	int h = gb_cpu_pick(o->cpus_harness, 0);

	if (o->float_cpus) {
		w = (size_t)snprintf(buf, len, "--lcores=0@(0-%ld)", ncpu - 1);
		for (e = 0; e < n_workers && w < len; e++)
			w += (size_t)snprintf(buf + w, len - w, ",%u@(0-%ld)", e + 1, ncpu - 1);
		return;
	}
	w = (size_t)snprintf(buf, len, "--lcores=0@%d", h < 0 ? 0 : h);
	for (e = 0; e < n_workers && w < len; e++) {
		int c = gb_cpu_pick(o->cpus_workers, e);

		w += (size_t)snprintf(buf + w, len - w, ",%u@%d", e + 1, c < 0 ? 0 : c);
	}
}
