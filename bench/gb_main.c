/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-bench: the benchmark harness.
 *
 *   gwart-bench SCENARIO [options]
 *     inproc   the real router in this process on net_ring ports
 *     memif    gwartd in another process, reached over net_memif
 *     stages   each fast-path stage's function in isolation, and memory
 *     crypto   frame tag candidates: cycles per frame (libsodium, cryptodev)
 *     graph    rte_graph's own cost against a hand-staged loop, cycles per packet
 *     selftest the harness's own self-tests (histogram edges)
 *
 * Prints one line "SUMMARY scenario=... ok=1" per run and, with --json, the
 * full result. Exit status: 0 the delivered set checked out (every
 * acknowledged message delivered exactly once); 1 it did not, or the run
 * failed; 3 inconclusive (the router still held messages when the drain
 * time ran out: on a shared host its worker may not have had the CPU). bench/run.sh runs the
 * matrix and the peers; bench/report.py writes the report.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gb.h"

/* rte_graph against a hand-staged loop, cycles per packet (gb_graph.c). */
int gb_run_graph(const struct gb_opts *o, struct gb_result *r);

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gwart-bench inproc|echo|memif|stages|crypto|graph|selftest [options]\n"
		"  (echo: the harness against a stand-in that only echoes, then against the\n"
		"   router; fails unless the harness drives --echo-min-ratio (3) x what one\n"
		"   worker routes)\n"
		"  --workers N        router worker lcores (1)\n"
		"  --origins N        origin connectors (4)       --dests N       destinations (4)\n"
		"  --gen-threads N    generator threads (1)       --sink-threads N sink threads (1)\n"
		"  --routes N         routes (1000)               --payload B     24..8192 bytes (64)\n"
		"  --pop uniform|zipf destination popularity      --zipf-s S      exponent (0.99)\n"
		"  --duration S       measured seconds (3)        --warmup S      (0.5)\n"
		"  --drain S          settle limit (10)           --rate N        msg/s cap (0: none)\n"
		"  --count N          messages per origin (0: by duration)\n"
		"  --drop P --dup P   fault injection probabilities (0)   --seed N (1)\n"
		"  --rx-window N      sinks' receive window (960) --mbufs N       router pool\n"
		"  --custody-limit N  router tunable: messages held per destination (router default)\n"
		"  --mem MB           EAL -m (computed)           --stage-stats   router stage cycles\n"
		"  --udp-csum         generators fill UDP checksums (default: 0, as NIC offload)\n"
		"  --sink-verify      sinks check every DATA tag from the router (default: off in\n"
		"                     throughput runs; origins always check ACKs and NACKs)\n"
		"  --no-auth          inproc: router workers skip frame tags (measures their cost;\n"
		"                     benchmark only, no configuration can do this)\n"
		"  --cpus-harness L   CPUs for control+endpoints (0)  --cpus-workers L (1.. or 0)\n"
		"  --float            pin nothing (shared hosts: a pinned worker can starve)\n"
		"  --pool-ops NAME    mbuf pool driver (stack: LIFO, freed mbufs come back warm,\n"
		"                     as a NIC's TX completions on the worker do; ring_mp_mc:\n"
		"                     DPDK's default, FIFO through the pool)\n"
		"  --gwartd PATH      memif: the gwartd binary\n"
		"  --json FILE        write the result   --label S   name the run   -v verbose\n");
}

static int parse(int argc, char **argv, struct gb_opts *o)
{
	static const struct option lo[] = {
		{"workers", 1, NULL, 'w'},      {"origins", 1, NULL, 'o'},
		{"dests", 1, NULL, 'd'},        {"gen-threads", 1, NULL, 'G'},
		{"sink-threads", 1, NULL, 'S'}, {"routes", 1, NULL, 'r'},
		{"payload", 1, NULL, 'p'},      {"pop", 1, NULL, 'P'},
		{"zipf-s", 1, NULL, 'z'},       {"duration", 1, NULL, 't'},
		{"warmup", 1, NULL, 'W'},       {"drain", 1, NULL, 'D'},
		{"rate", 1, NULL, 'R'},         {"count", 1, NULL, 'c'},
		{"drop", 1, NULL, 'x'},         {"dup", 1, NULL, 'u'},
		{"seed", 1, NULL, 's'},         {"rx-window", 1, NULL, 'n'},
		{"mbufs", 1, NULL, 'm'},        {"mem", 1, NULL, 'M'},
		{"stage-stats", 0, NULL, 'T'},  {"udp-csum", 0, NULL, 'U'},
		{"cpus-harness", 1, NULL, 'H'}, {"cpus-workers", 1, NULL, 'K'},
		{"gwartd", 1, NULL, 'g'},       {"json", 1, NULL, 'j'},
		{"label", 1, NULL, 'l'},        {"help", 0, NULL, 'h'},
		{"pool-ops", 1, NULL, 'O'},     {"custody-limit", 1, NULL, 'C'},
		{"float", 0, NULL, 'F'},        {"no-float", 0, NULL, 'f'},
		{"no-auth", 0, NULL, 'A'},     {"sink-verify", 0, NULL, 'V'},
		{"echo-min-ratio", 1, NULL, 'E'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'w': o->workers = (unsigned)atoi(optarg); break;
		case 'o': o->origins = (unsigned)atoi(optarg); break;
		case 'd': o->dests = (unsigned)atoi(optarg); break;
		case 'G': o->gen_threads = (unsigned)atoi(optarg); break;
		case 'S': o->sink_threads = (unsigned)atoi(optarg); break;
		case 'r': o->routes = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'p': o->payload = (uint32_t)atoi(optarg); break;
		case 'P':
			if (strcmp(optarg, "zipf") == 0)
				o->pop = GB_POP_ZIPF;
			else if (strcmp(optarg, "uniform") == 0)
				o->pop = GB_POP_UNIFORM;
			else
				return -1;
			break;
		case 'z': o->zipf_s = atof(optarg); break;
		case 't': o->duration_s = atof(optarg); break;
		case 'W': o->warmup_s = atof(optarg); break;
		case 'D': o->drain_s = atof(optarg); break;
		case 'R': o->rate = strtoull(optarg, NULL, 0); break;
		case 'c': o->count = strtoull(optarg, NULL, 0); break;
		case 'x': o->drop = atof(optarg); break;
		case 'u': o->dup = atof(optarg); break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'n': o->rx_window = (unsigned)atoi(optarg); break;
		case 'm': o->mbufs = (unsigned)atoi(optarg); break;
		case 'M': o->mem_mb = (unsigned)atoi(optarg); break;
		case 'T': o->stage_stats = true; break;
		case 'U': o->udp_csum = true; break;
		case 'A': o->no_auth = true; break;
		case 'V': o->sink_verify = true; break;
		case 'E': o->echo_min_ratio = atof(optarg); break;
		case 'H': o->cpus_harness = optarg; break;
		case 'K': o->cpus_workers = optarg; break;
		case 'g': o->gwartd = optarg; break;
		case 'j': o->json_path = optarg; break;
		case 'l': o->label = optarg; break;
		case 'O': o->pool_ops = optarg; break;
		case 'F': o->float_cpus = true; break;
		case 'f': o->float_cpus = false; break;
		case 'C': o->custody_limit = (unsigned)atoi(optarg); break;
		case 'v': o->verbose++; break;
		default: return -1;
		}
	}
	return 0;
}

static const char *check(const struct gb_opts *o)
{
	if (o->workers < 1 || o->workers > GB_MAX_QUEUES)
		return "--workers must be 1..16";
	if (strcmp(o->scenario, "echo") == 0 && o->workers != 1)
		return "echo: one worker (the stand-in takes its lcore)";
	/* The stand-in never retransmits on a destination's link: a lost
	 * DATA would be a hole its sink could never fill. */
	if (strcmp(o->scenario, "echo") == 0 && (o->drop > 0 || o->dup > 0))
		return "echo: no fault injection (the stand-in does not retransmit)";
	if (o->gen_threads < 1 || o->sink_threads < 1 ||
	    o->gen_threads + o->sink_threads > GB_MAX_ENDPOINTS)
		return "--gen-threads + --sink-threads must be 2..4";
	if (o->origins < o->gen_threads || o->dests < o->sink_threads)
		return "at least one origin per generator thread and one destination per sink thread";
	if (o->origins + o->dests > 65535)
		return "at most 65535 connectors";
	if (o->routes < 1 || o->routes > 10000000)
		return "--routes must be 1..10000000";
	if (o->payload < GB_PAYLOAD_HDR || o->payload > 8192)
		return "--payload must be 24..8192";
	if (o->rx_window < 1 || o->rx_window > 960)
		return "--rx-window must be 1..960";
	if (o->drop < 0 || o->dup < 0 || o->drop + o->dup >= 0.5)
		return "--drop + --dup must be below 0.5";
	if (o->duration_s <= 0)
		return "--duration must be positive";
	return NULL;
}

int main(int argc, char **argv)
{
	static struct gb_result r;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct gb_opts o = {
		.workers = 1, .origins = 4, .dests = 4, .gen_threads = 1, .sink_threads = 1,
		.routes = 1000, .payload = 64, .pop = GB_POP_UNIFORM, .zipf_s = 0.99,
		.duration_s = 3, .warmup_s = 0.5, .drain_s = 10, .seed = 1, .rx_window = 960,
		.pool_ops = "stack", .echo_min_ratio = GB_ECHO_MIN_RATIO,
		.cpus_harness = "0", .cpus_workers = ncpu > 1 ? "1-127" : "0",
	};
	const char *err;
	int rc;

	if (argc < 2 || argv[1][0] == '-') {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	o.scenario = argv[1];
	if (parse(argc - 1, argv + 1, &o) != 0) {
		usage(stderr);
		return 2;
	}
	if (ncpu > 1) {
		/* Worker CPUs that exist: 1..ncpu-1, wrapping. */
		static char def[32];

		snprintf(def, sizeof(def), "1-%ld", ncpu - 1);
		if (strcmp(o.cpus_workers, "1-127") == 0)
			o.cpus_workers = def;
	}
	if (strcmp(o.scenario, "selftest") == 0) {
		rc = gb_hist_selftest();
		printf("SUMMARY scenario=selftest hist=%d ok=%d\n", rc, rc == 0);
		return rc == 0 ? 0 : 1;
	}
	err = check(&o);
	if (err != NULL) {
		fprintf(stderr, "gwart-bench: %s\n", err);
		return 2;
	}
	gb_result_init(&r, o.scenario);
	if (strcmp(o.scenario, "inproc") == 0)
		rc = gb_run_inproc(&o, &r);
	else if (strcmp(o.scenario, "echo") == 0)
		rc = gb_run_echo(&o, &r);
	else if (strcmp(o.scenario, "memif") == 0)
		rc = gb_run_memif(&o, &r);
	else if (strcmp(o.scenario, "stages") == 0)
		rc = gb_run_stages(&o, &r);
	else if (strcmp(o.scenario, "crypto") == 0)
		rc = gb_run_crypto(&o, &r);
	else if (strcmp(o.scenario, "graph") == 0)
		rc = gb_run_graph(&o, &r);
	else {
		usage(stderr);
		return 2;
	}
	gb_result_summary(&o, &r, stdout);
	fflush(stdout);
	if (o.json_path != NULL && gb_result_write_json(&o, &r, o.json_path) != 0)
		fprintf(stderr, "gwart-bench: cannot write %s\n", o.json_path);
	if (rc == 0 && r.ok)
		return 0;
	/* The echo check on a shared host judges nothing: 77, a skip to meson. */
	if (r.disturbed)
		return 77;
	return r.inconclusive ? 3 : 1;
}
