/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's cycles mode: open (HELLO/WELCOME) and close (BYE) connectors
 * as fast as it can on up to GC_MAX_PARALLEL threads, and check that this
 * process's descriptor count returns to where it was.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>

#include "gc.h"

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
	const char *addr = gc.o.via_src ? gc.o.via_src : gc.o.router;
	struct gw_conn_stats st;
	uint64_t i, end;

	for (i = 0; i < cy->n && !gc_signalled; i++) {
		struct gw_conn *c = gc_conn_open(cy->id, addr, NULL, NULL, NULL, NULL);

		if (!c) {
			atomic_fetch_add(&gc.cycles_failed, 1);
			break;
		}
		end = gc_now_us() + 10000000; /* 10 s: lost WELCOMEs back off */
		while (!gw_conn_is_up(c) && gc_now_us() < end && !gc_signalled)
			if (gw_conn_poll(c, 10) < 0)
				break;
		gw_conn_get_stats(c, &st);
		atomic_fetch_add(&gc.cycles_hellos, st.hellos_sent);
		if (gw_conn_is_up(c))
			atomic_fetch_add(&gc.cycles_done, 1);
		else
			atomic_fetch_add(&gc.cycles_failed, 1);
		if (gw_conn_close(c) < 0)
			atomic_fetch_add(&gc.cycles_failed, 1);
	}
	return NULL;
}

int gc_run_cycles(void)
{
	uint32_t p = gc.o.parallel ? gc.o.parallel : 1, i;
	struct gc_cycler cy[GC_MAX_PARALLEL];
	unsigned fds_before, fds_after;
	uint64_t t0, done, failed;
	double secs;

	fds_before = count_fds();
	t0 = gc_now_us();
	for (i = 0; i < p; i++) {
		cy[i].id = gc.o.src_id + i;
		cy[i].n = gc.o.count / p + (i < gc.o.count % p);
		if (pthread_create(&cy[i].t, NULL, cycler_main, &cy[i])) {
			fprintf(stderr, "gwart-conn: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < p; i++)
		pthread_join(cy[i].t, NULL);
	secs = (double)(gc_now_us() - t0) / 1e6;
	fds_after = count_fds();
	done = atomic_load(&gc.cycles_done);
	failed = atomic_load(&gc.cycles_failed);
	gc_report_cycles(done, failed, fds_before, fds_after, secs);
	return done == gc.o.count && failed == 0 && fds_before == fds_after ? 0 : 1;
}
