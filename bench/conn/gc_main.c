/* SPDX-License-Identifier: BSD-3-Clause */
/* gwart-conn's main(): options, signals, the --out file, the run's bitmaps,
 * then the mode (see gc.h for the modes and the files). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "gc.h"

struct gc_run gc;
volatile sig_atomic_t gc_signalled;

static void on_signal(int sig)
{
	(void)sig;
	gc_signalled = 1;
}

/* SIGTERM/SIGINT end a run cleanly: connectors closed (BYE, state file
 * written), --out flushed, counters printed. */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* The run id tells this run's messages from an earlier run's. */
static int run_init(void)
{
	uint64_t words = (gc.o.count + 63) / 64 + 1;

	if (gc.o.out) {
		gc.out = fopen(gc.o.out, "a");
		if (!gc.out) {
			fprintf(stderr, "gwart-conn: %s: %s\n", gc.o.out, strerror(errno));
			return -errno;
		}
		setvbuf(gc.out, NULL, _IOFBF, 1 << 20);
	}
	if (getrandom(&gc.run_id, sizeof(gc.run_id), 0) != sizeof(gc.run_id))
		gc.run_id = (uint32_t)gc_now_us() ^ (uint32_t)getpid();
	gc.acked_bm = calloc(words, sizeof(*gc.acked_bm));
	gc.deliv_bm = calloc(words, sizeof(*gc.deliv_bm));
	if (gc.o.msg)
		gc.msg_ids = calloc(gc.o.count, sizeof(*gc.msg_ids));
	if (!gc.acked_bm || !gc.deliv_bm || (gc.o.msg && !gc.msg_ids)) {
		fprintf(stderr, "gwart-conn: out of memory\n");
		return -ENOMEM;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int ret;

	ret = gc_opts_parse(&gc.o, argc, argv);
	if (ret != GC_OPTS_RUN)
		return ret == GC_OPTS_HELP ? 0 : 2;
	catch_signals();
	if (run_init() < 0) {
		ret = 1;
		goto out;
	}
	switch (gc.o.mode) {
	case GC_PAIR:
		ret = gc_run_pair();
		break;
	case GC_SEND:
		ret = gc_run_send();
		break;
	case GC_CYCLES:
		ret = gc_run_cycles();
		break;
	default:
		ret = gc_run_recv();
		break;
	}
	if (gc.out && fclose(gc.out) != 0) {
		fprintf(stderr, "gwart-conn: %s: %s\n", gc.o.out, strerror(errno));
		ret = 1;
	}
out:
	free(gc.acked_bm);
	free(gc.deliv_bm);
	free(gc.msg_ids);
	gw_auth_wipe(gc.o.key, sizeof(gc.o.key));
	return ret;
}
