/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario memif: gwartd as a separate process, reached over net_memif.
 *
 * The harness writes a gwartd configuration (two ports, the connectors, the
 * routes), starts gwartd with one memif server port per endpoint group
 *   gwartd --lcores=0@H,1@W --vdev=net_memif0,role=server,socket=DIR/m0.sock
 *          --vdev=net_memif1,role=server,socket=DIR/m1.sock ... -- --config
 * then becomes the memif client with its generator and sink endpoint
 * threads, exactly as in the inproc scenario. Worker CPU time is read from
 * gwartd's threads in /proc. Teardown order matters (HOST-NOTES): the
 * client's ports stop first, then gwartd gets SIGTERM.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <gwart/wire.h>

#include <gwart/auth.h>

#include "gb.h"
#include "gb_run.h"

extern char **environ;

struct memif_run {
	const struct gb_opts *o;
	struct gb_ctx ctx;
	pid_t gwartd;
	char dir[64];
	unsigned n_ep;
};

static int write_config(const struct memif_run *mr, const char *path)
{
	const struct gb_opts *o = mr->o;
	FILE *f = fopen(path, "w");
	unsigned i, e;

	if (f == NULL)
		return -errno;
	/* It holds the connectors' secrets: the owner's alone. */
	if (fchmod(fileno(f), 0600) != 0) {
		fclose(f);
		return -errno;
	}
	fprintf(f, "{\n  \"udp_port\": %u,\n  \"ports\": [", GB_ROUTER_UDP);
	for (e = 0; e < mr->n_ep; e++)
		fprintf(f, "%s{ \"ip\": \"198.18.%u.1\" }", e ? ", " : " ", e);
	fprintf(f, " ],\n  \"tunables\": { \"keepalive_ms\": 1000");
	if (o->custody_limit)
		fprintf(f, ", \"custody_limit\": %u", o->custody_limit);
	fprintf(f, " },\n  \"connectors\": [\n");
	for (i = 1; i <= o->origins + o->dests; i++) {
		uint8_t key[32];
		char hex[65];
		unsigned b;

		gb_conn_key(&mr->ctx, i, key);
		for (b = 0; b < 32; b++)
			snprintf(hex + 2 * b, 3, "%02x", key[b]);
		fprintf(f, "    { \"id\": %u, \"name\": \"%s%u\", \"key\": \"%s\" }%s\n", i,
			i <= o->origins ? "gen" : "sink", i, hex,
			i < o->origins + o->dests ? "," : "");
		gw_auth_wipe(key, sizeof(key));
		gw_auth_wipe(hex, sizeof(hex));
	}
	fprintf(f, "  ],\n  \"routes\": [\n");
	for (i = 0; i < o->routes; i++) {
		char type[17], pat[32];
		uint32_t dest;

		gb_workload_route(&mr->ctx.wl, i, type, sizeof(type), pat, sizeof(pat), &dest);
		fprintf(f,
			"    { \"type\": \"%s\", \"pattern\": \"%s\", \"targets\": "
			"[ { \"connector\": %u, \"cost\": 10 } ] }%s\n",
			type, pat, dest, i + 1 < o->routes ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	return fclose(f) == 0 ? 0 : -EIO;
}

static int start_gwartd(struct memif_run *mr, const char *cfg, unsigned room, unsigned mem)
{
	const struct gb_opts *o = mr->o;
	char lcores[128], m[16], prefix[48], vdev[GB_MAX_ENDPOINTS][128], cfgarg[128];
	char room_s[16], log[96], ops[64], stats[96];
	char *argv[32];
	int argc = 0, fd;
	unsigned e;
	posix_spawn_file_actions_t fa;

	gb_lcores_arg(o, o->workers, lcores, sizeof(lcores));
	snprintf(m, sizeof(m), "%u", mem);
	snprintf(prefix, sizeof(prefix), "--file-prefix=gbd%d", (int)getpid());
	snprintf(room_s, sizeof(room_s), "%u", room);
	snprintf(stats, sizeof(stats), "%s/stats.json", mr->dir);
	snprintf(cfgarg, sizeof(cfgarg), "%s", cfg);
	snprintf(ops, sizeof(ops), "--mbuf-pool-ops-name=%s",
		 o->pool_ops ? o->pool_ops : "ring_mp_mc");
	argv[argc++] = (char *)o->gwartd;
	argv[argc++] = lcores;
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = m;
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-shconf";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level=warning";
	argv[argc++] = ops;
	for (e = 0; e < mr->n_ep; e++) {
		snprintf(vdev[e], sizeof(vdev[e]),
			 "--vdev=net_memif%u,role=server,socket=%s/m%u.sock", e, mr->dir, e);
		argv[argc++] = vdev[e];
	}
	argv[argc++] = "--";
	argv[argc++] = "--config";
	argv[argc++] = cfgarg;
	argv[argc++] = "--mbuf-size";
	argv[argc++] = room_s;
	argv[argc++] = "--stats-file";
	argv[argc++] = stats;
	argv[argc] = NULL;
	snprintf(log, sizeof(log), "%s/gwartd.log", mr->dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 1);
	posix_spawn_file_actions_adddup2(&fa, fd, 2);
	if (posix_spawn(&mr->gwartd, o->gwartd, &fa, NULL, argv, environ) != 0)
		mr->gwartd = 0;
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	return mr->gwartd > 0 ? 0 : -ENOEXEC;
}

/* Wait for gwartd's "running" line (its memif sockets exist by then). */
static int wait_running(struct memif_run *mr, unsigned timeout_ms)
{
	char log[96], line[512];
	unsigned t;

	snprintf(log, sizeof(log), "%s/gwartd.log", mr->dir);
	for (t = 0; t < timeout_ms; t += 50) {
		FILE *f = fopen(log, "r");
		int st;

		while (f != NULL && fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, "running") != NULL) {
				fclose(f);
				return 0;
			}
		if (f != NULL)
			fclose(f);
		if (waitpid(mr->gwartd, &st, WNOHANG) == mr->gwartd) {
			mr->gwartd = 0;
			return -ECHILD;
		}
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static void pump(void *arg, unsigned ms)
{
	(void)arg;
	usleep(ms * 1000u);
}

static void snap(void *arg, struct gb_snap *s)
{
	struct memif_run *mr = arg;
	unsigned w;

	memset(s, 0, sizeof(*s));
	s->tsc = rte_rdtsc();
	for (w = 0; w < mr->o->workers && w < GB_MAX_QUEUES; w++)
		s->worker_ns[w] = gb_lcore_cpu_ns((int)mr->gwartd, w + 1, &s->worker_user_ns[w]);
	gb_ctx_stats(&mr->ctx, &s->ep);
}

static uint64_t custody(void *arg)
{
	(void)arg;
	return 0; /* another process: settled when the origins are */
}

static void stop_gwartd(struct memif_run *mr)
{
	int st;

	if (mr->gwartd <= 0)
		return;
	kill(mr->gwartd, SIGTERM);
	waitpid(mr->gwartd, &st, 0);
	mr->gwartd = 0;
}

/* gwartd's own counters over its whole life (its --stats-file at exit). */
static void read_router_stats(const struct memif_run *mr, struct gb_result *r)
{
	char path[96];
	json_t *root, *drops, *v;
	const char *k;

	snprintf(path, sizeof(path), "%s/stats.json", mr->dir);
	root = json_load_file(path, 0, NULL);
	if (root == NULL)
		return;
#define JU(key) ((uint64_t)json_integer_value(json_object_get(root, key)))
	r->r_rx_pkts = JU("rx_pkts");
	r->r_routed = JU("routed");
	r->r_tx_data = JU("tx_data");
	r->r_retransmits = JU("retransmits");
	r->r_dups = JU("dups_suppressed");
	r->r_handoffs = JU("handoffs");
	r->r_steered = JU("steered");
#undef JU
	drops = json_object_get(root, "drops");
	json_object_foreach(drops, k, v)
	{
		r->r_drops += (uint64_t)json_integer_value(v);
		if (strcmp(k, "BUSY") == 0)
			r->r_busy = (uint64_t)json_integer_value(v);
		else if (strcmp(k, "TX_FULL") == 0)
			r->r_tx_full = (uint64_t)json_integer_value(v);
	}
	json_decref(root);
	unlink(path);
}

int gb_run_memif(const struct gb_opts *o, struct gb_result *r)
{
	static struct memif_run mr;
	struct rte_mempool *pool = NULL;
	unsigned room =
	    RTE_PKTMBUF_HEADROOM + 42 + GW_DATA_LEN(32, o->payload) + 64;
	unsigned e, mem, waited;
	uint16_t ports[GB_MAX_ENDPOINTS];
	char cfg[96], lc[64], prefix[48], ops[64], vdev[GB_MAX_ENDPOINTS][128], *argv[24];
	int argc = 0, rc;
	uint8_t master[32] = {0};
	struct gb_run_ops run_ops = {.arg = &mr, .pump = pump, .snap = snap, .custody = custody};

	memset(&mr, 0, sizeof(mr));
	mr.o = o;
	mr.n_ep = o->gen_threads + o->sink_threads;
	if (o->gwartd == NULL) {
		snprintf(r->why, sizeof(r->why), "memif needs --gwartd PATH");
		return -1;
	}
	if (room < RTE_MBUF_DEFAULT_BUF_SIZE)
		room = RTE_MBUF_DEFAULT_BUF_SIZE;
	mem = 512 + (unsigned)((double)o->routes * 1200 / 1048576.0) +
	      (unsigned)(16384.0 * (room + 320) / 1048576.0);
	snprintf(mr.dir, sizeof(mr.dir), "/tmp/gwart-bench-memif-%d", (int)getpid());
	mkdir(mr.dir, 0700);
	snprintf(cfg, sizeof(cfg), "%s/gwartd.json", mr.dir);
	/* The workload is needed for the config before EAL: gb_ctx_init
	 * again after EAL fills the rest (TSC). */
	rc = gb_workload_init(&mr.ctx.wl, o, o->origins + 1);
	/* The connectors' secrets (v2) too: the master key outlives
	 * gb_ctx_init()'s reset below. */
	if (rc == 0)
		rc = gw_auth_init();
	if (rc == 0) {
		gw_key_generate(master);
		memcpy(mr.ctx.master_key, master, sizeof(master));
		rc = write_config(&mr, cfg);
	}
	gb_workload_fini(&mr.ctx.wl);
	if (rc == 0)
		rc = start_gwartd(&mr, cfg, room, mem);
	if (rc == 0)
		rc = wait_running(&mr, 60000);
	if (rc != 0) {
		snprintf(r->why, sizeof(r->why), "gwartd did not start (%s), see %s/gwartd.log",
			 strerror(-rc), mr.dir);
		stop_gwartd(&mr);
		return -1;
	}
	gb_lcores_arg(o, 0, lc, sizeof(lc));
	snprintf(prefix, sizeof(prefix), "--file-prefix=gbc%d", (int)getpid());
	snprintf(ops, sizeof(ops), "--mbuf-pool-ops-name=%s",
		 o->pool_ops ? o->pool_ops : "ring_mp_mc");
	argv[argc++] = "gwart-bench";
	argv[argc++] = lc;
	argv[argc++] = "--no-huge";
	argv[argc++] = "-m";
	argv[argc++] = "512";
	argv[argc++] = "--no-pci";
	argv[argc++] = "--no-shconf";
	argv[argc++] = prefix;
	argv[argc++] = "--log-level=warning";
	argv[argc++] = ops;
	for (e = 0; e < mr.n_ep; e++) {
		snprintf(vdev[e], sizeof(vdev[e]),
			 "--vdev=net_memif%u,role=client,socket=%s/m%u.sock", e, mr.dir, e);
		argv[argc++] = vdev[e];
	}
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		snprintf(r->why, sizeof(r->why), "EAL init: %s", rte_strerror(rte_errno));
		stop_gwartd(&mr);
		return -1;
	}
	rc = gb_ctx_init(&mr.ctx, o, o->origins + 1);
	memcpy(mr.ctx.master_key, master, sizeof(master));
	gw_auth_wipe(master, sizeof(master));
	pool = rte_pktmbuf_pool_create("gb_mpool",
				       o->origins * 1100 + mr.n_ep * o->workers * 2048 + 16384, 256,
				       0, (uint16_t)room, (int)rte_socket_id());
	if (rc != 0 || pool == NULL) {
		snprintf(r->why, sizeof(r->why), "set-up: %s", rc ? strerror(-rc) : "no memory");
		goto out;
	}
	for (e = 0; e < mr.n_ep; e++) {
		ports[e] = (uint16_t)e;
		/* gwartd sends its control frames on a TX queue of its own
		 * (one past the workers') where the port has one: poll it. */
		rc = gb_port_init(ports[e], o->workers + 1, o->workers, pool);
		if (rc != 0) {
			snprintf(r->why, sizeof(r->why), "memif port %u: %s", e, strerror(-rc));
			goto out;
		}
	}
	for (e = 0, waited = 0; e < mr.n_ep && waited < 10000;) {
		struct rte_eth_link link;

		if (rte_eth_link_get_nowait(ports[e], &link) == 0 && link.link_status) {
			e++;
			continue;
		}
		usleep(10000);
		waited += 10;
	}
	if (e < mr.n_ep) {
		snprintf(r->why, sizeof(r->why), "memif link %u did not come up", e);
		goto out;
	}
	{
		struct rte_ether_addr bcast;

		memset(&bcast, 0xff, sizeof(bcast));
		rc = gb_ctx_endpoints(&mr.ctx, ports, mr.n_ep, pool,
				      rte_cpu_to_be_32((198u << 24) | (18u << 16) | 1u), &bcast);
	}
	for (e = 0; rc == 0 && e < mr.n_ep; e++) {
		mr.ctx.ep[e].router_ip_be =
		    rte_cpu_to_be_32((198u << 24) | (18u << 16) | (e << 8) | 1u);
		mr.ctx.ep[e].stamp_port = ports[e];
		mr.ctx.ep[e].n_rxq = o->workers + 1;
	}
	if (rc == 0)
		gb_run_phases(&mr.ctx, &run_ops, r);
	else
		snprintf(r->why, sizeof(r->why), "endpoints: %s", strerror(-rc));
out:
	gb_ctx_stop(&mr.ctx);
	for (e = 0; e < mr.n_ep; e++) {
		rte_eth_dev_stop(e);
		rte_eth_dev_close(e);
	}
	stop_gwartd(&mr);
	read_router_stats(&mr, r);
	rte_mempool_free(pool);
	gb_ctx_fini(&mr.ctx);
	rte_eal_cleanup();
	if (r->ok) {
		snprintf(cfg, sizeof(cfg), "%s/gwartd.json", mr.dir);
		unlink(cfg);
		snprintf(cfg, sizeof(cfg), "%s/gwartd.log", mr.dir);
		unlink(cfg);
		rmdir(mr.dir);
	}
	return r->ok ? 0 : -1;
}
