/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's main(): EAL, arguments (gwartd_args.c), the configuration
 * (parsed once, config.c), the router and its ports, the control socket,
 * then the control loop until a signal, a shutdown request or --duration.
 *
 * EAL's arguments come from the command line (before "--"), or, when it
 * has none and names --config FILE, from FILE's "eal" and ports[].device
 * (eal_args.c): the file is then read and parsed before EAL init, once.
 *
 * The control socket (gwartctl's) comes from --socket, else the config's
 * "control": {"socket", "allow_uid", "allow_gid"}, else the default path.
 * A socket named explicitly must open or gwartd does not start; the default
 * one is best effort (a development host may run several gwartd at once, or
 * not as root), with a warning.
 *
 * Start-up and shutdown are the only places allowed to exit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <gwart/auth.h>
#include <gwart/ctl.h>
#include <gwart/wire.h>

#include "api.h"
#include "capture.h"
#include "config.h"
#include "cp.h"
#include "eal_args.h"
#include "frames.h"
#include "gwartd_args.h"
#include "metrics.h"
#include "port.h"
#include "reload.h"
#include "router_api.h"
#include "sock.h"
#include "telemetry.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* gwartd --check-config FILE: cp_config_parse()'s own rules, every error
 * listed; exit 0 valid, 2 invalid, 1 when the file cannot be read. */
static int check_config(const char *path)
{
	char err[256], *text, *out;
	size_t n;

	if (path[0] == '\0') {
		fprintf(stderr, "gwartd: --check-config needs a FILE\n");
		return 2;
	}
	text = cp_config_read_file(path, err, sizeof(err));
	if (text == NULL) {
		fprintf(stderr, "gwartd: cannot read config %s\n", err);
		return 1;
	}
	out = cp_config_check(path, text, CP_CHECK_KEY_FILES, &n);
	gw_auth_wipe(text, strlen(text)); /* the text may hold keys */
	free(text);
	if (out == NULL) {
		fprintf(stderr, "gwartd: %s: out of memory\n", path);
		return 1;
	}
	fputs(out, stderr);
	free(out);
	return n != 0 ? 2 : 0;
}

/*
 * The embedded default's demo connectors get a key drawn now, one for both
 * (each derives its own handshake and session keys from it and its id; a
 * demo needs no isolation between its two connectors). It is never printed:
 * with --demo-key-file (or $GWART_DEMO_KEY_FILE) it is written there, in
 * hex, to a new file of mode 0600, for the demo's connectors to read.
 */
static int demo_config(const struct gwartd_args *a, struct cp_config *cfg, char *err,
		       size_t errlen)
{
	const char *path = a->demo_key_file ? a->demo_key_file : getenv("GWART_DEMO_KEY_FILE");
	uint8_t key[GW_KEY_LEN];
	char hex[2 * GW_KEY_LEN + 2];
	unsigned i;
	int rc = gw_auth_init();

	if (rc != 0) {
		snprintf(err, errlen, "libsodium: %s", strerror(-rc));
		return rc;
	}
	gw_key_generate(key);
	if (path != NULL && path[0] != '\0') {
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

		for (i = 0; i < GW_KEY_LEN; i++)
			snprintf(hex + 2 * i, 3, "%02x", key[i]);
		hex[2 * GW_KEY_LEN] = '\n';
		if (fd < 0 || write(fd, hex, 2 * GW_KEY_LEN + 1) != 2 * GW_KEY_LEN + 1) {
			snprintf(err, errlen, "demo key file %s: %s", path, strerror(errno));
			rc = -EIO;
		}
		if (fd >= 0)
			close(fd);
		gw_auth_wipe(hex, sizeof(hex));
	}
	if (rc == 0)
		rc = cp_config_parse_default(cfg, key, err, errlen);
	gw_auth_wipe(key, sizeof(key));
	return rc;
}

/* The file's configuration, or the embedded default, parsed once. */
static int load_config(const struct gwartd_args *a, struct cp_config *cfg)
{
	char err[256], *text;
	int rc;

	if (a->config_path == NULL) {
		rc = demo_config(a, cfg, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "gwartd: config (default): %s\n", err);
		return rc != 0 ? -1 : 0;
	}
	text = cp_config_read_file(a->config_path, err, sizeof(err));
	if (text == NULL) {
		fprintf(stderr, "gwartd: cannot read config %s\n", err);
		return -1;
	}
	rc = cp_config_parse(cfg, text, err, sizeof(err));
	/* The text may hold keys. */
	gw_auth_wipe(text, strlen(text));
	free(text);
	if (rc != 0)
		fprintf(stderr, "gwartd: config %s: %s\n",
			a->config_path ? a->config_path : "(default)", err);
	return rc != 0 ? -1 : 0;
}

/* The router, its ports and the configuration's objects, before workers run. */
static int build_router(struct cp_ctx *cp, const struct gwartd_args *a,
			const struct cp_config *cfg, int eal_from_cfg)
{
	struct dp_router_params prm = {
		.nb_mbuf = a->nb_mbuf,
		.mbuf_data_room = a->mbuf_data_room,
		.udp_port = cfg->has_udp_port ? cfg->udp_port : GW_WIRE_UDP_PORT,
		.max_routes = DP_DEF_MAX_ROUTES,
	};
	uint16_t port_id;
	char err[256];
	unsigned i, n_ports = rte_eth_dev_count_avail();
	unsigned n_workers = rte_lcore_count() > 1 ? rte_lcore_count() - 1 : 1;
	unsigned need = dp_router_pool_min(n_ports, n_workers);
	int rc;

	/* Every port queue is filled from the one pool: a pool smaller than
	 * the queues can hold starves RX under load, so say so at start. */
	if (prm.nb_mbuf == 0) {
		prm.nb_mbuf = dp_router_pool_default(n_ports, n_workers);
	} else if (prm.nb_mbuf < need) {
		fprintf(stderr,
			"gwartd: --mbufs %u is fewer than the %u mbufs %u port(s) x %u worker(s) "
			"hold in their queues and caches; give at least %u (or leave --mbufs out: "
			"%u)\n",
			prm.nb_mbuf, need, n_ports, n_workers, need,
			dp_router_pool_default(n_ports, n_workers));
		return -1;
	}
	cp->rt = dp_router_create(&prm, &rc);
	if (cp->rt == NULL) {
		fprintf(stderr,
			"gwartd: cannot create router: %s (it needs at least 2 lcores, and "
			"%u mbufs of %u bytes in EAL's memory: -m / \"memory_mb\")\n",
			strerror(-rc), prm.nb_mbuf, (unsigned)prm.mbuf_data_room);
		return -1;
	}
	rc = cp_init(cp, cp->rt);
	if (rc != 0) {
		fprintf(stderr, "gwartd: %s\n", strerror(-rc));
		return -1;
	}
	/* EAL probed exactly the file's devices: port i is the one its
	 * ports[i].device names (by ethdev name), whatever order EAL's buses
	 * probed them in. */
	for (i = 0; eal_from_cfg && i < DP_MAX_PORTS && cfg->port_device[i] != NULL; i++) {
		char name[CP_EAL_DEVICE_MAX + 1];

		cp_eal_args_device(cfg->port_device[i], name, sizeof(name));
		rc = rte_eth_dev_get_port_by_name(name, &port_id);
		if (rc == 0)
			rc = dp_port_setup(cp->rt, port_id, cp_config_port_ip(cfg, i));
		if (rc != 0) {
			fprintf(stderr, "gwartd: ports[%u] (%s): %s\n", i, cfg->port_device[i],
				strerror(-rc));
			return -1;
		}
	}
	RTE_ETH_FOREACH_DEV(port_id) {
		if (eal_from_cfg && cfg->port_device[0] != NULL)
			break;
		rc = dp_port_setup(cp->rt, port_id, cp_config_port_ip(cfg, cp->rt->n_ports));
		if (rc != 0) {
			fprintf(stderr, "gwartd: port %u: %s\n", port_id, strerror(-rc));
			return -1;
		}
	}
	if (cp->rt->n_ports == 0) {
		fprintf(stderr, "gwartd: no ports (give a --vdev or a NIC)\n");
		return -1;
	}
	cp->test_hooks = a->test_hooks;
	rc = cp_config_apply(cp, cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "gwartd: config %s: %s\n",
			a->config_path ? a->config_path : "(default)", err);
		return -1;
	}
	/* What reload and config show compare with, and SIGHUP's handler. */
	rc = cp_reload_init(cp, a->config_path, cfg);
	if (rc == 0)
		rc = cp_reload_sighup_init(cp);
	if (rc != 0) {
		fprintf(stderr, "gwartd: reload: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

/* Opened last: a client must never find a router still being built. */
static int open_socket(struct cp_ctx *cp, const struct gwartd_args *a,
		       const struct cp_config *cfg)
{
	const char *path = a->socket_path ? a->socket_path : cfg->ctl_socket;
	struct cp_sock_params sp = {
		.path = path ? path : GW_CTL_SOCKET_DEFAULT,
		.set_uid = a->set_uid || cfg->set_uid,
		.allow_uid = a->set_uid ? a->allow_uid : (uid_t)cfg->allow_uid,
		.set_gid = a->set_gid || cfg->set_gid,
		.allow_gid = a->set_gid ? a->allow_gid : (gid_t)cfg->allow_gid,
		.idle_timeout_ms = cfg->ctl_idle_timeout_ms,
		.handler = cp_api_sock_handler,
		.arg = cp,
	};
	int rc = cp_sock_open(&cp->sock, cp->loop, &sp);

	if (rc != 0 && path != NULL) {
		fprintf(stderr, "gwartd: control socket %s: %s\n", sp.path, strerror(-rc));
		return -1;
	}
	if (rc != 0)
		fprintf(stderr, "gwartd: warning: no control socket (%s: %s)\n", sp.path,
			strerror(-rc));
	return 0;
}

/* The EAL argv from the file (gwartd_args_own_only() said the command
 * line has none), printed so that the operator sees what EAL gets. */
static char **eal_argv_from(const struct gwartd_args *a, const struct cp_config *cfg,
			    const char *prog, int *argc)
{
	char **v = cp_eal_args_build(cfg, prog, argc);
	int i;

	if (v == NULL) {
		fprintf(stderr, "gwartd: out of memory\n");
		return NULL;
	}
	printf("gwartd: EAL arguments from %s:", a->config_path);
	for (i = 1; i < *argc; i++)
		printf(" %s", v[i]);
	printf("\n");
	fflush(stdout);
	return v;
}

/* The file's EAL keys while EAL's arguments came from the command line. */
static void note_unused_eal(const struct cp_config *cfg)
{
	if (cfg->eal.present || cfg->port_device[0] != NULL)
		fprintf(stderr, "gwartd: EAL arguments from the command line: the config's \"eal\" "
				"and ports[].device are not used\n");
}

/* The configuration's "metrics" endpoint, asked for by name: it must listen
 * or gwartd does not start. Nothing listens when the key is absent. */
static int open_metrics(struct cp_ctx *cp, const struct cp_config *cfg)
{
	char ip[INET_ADDRSTRLEN];
	int rc;

	if (!cfg->has_metrics)
		return 0;
	inet_ntop(AF_INET, &cfg->metrics_addr_be, ip, sizeof(ip));
	rc = cp_metrics_start(cp, cfg->metrics_addr_be, cfg->metrics_port);
	if (rc != 0) {
		fprintf(stderr, "gwartd: metrics %s:%u: %s\n", ip, cfg->metrics_port,
			strerror(-rc));
		return -1;
	}
	printf("gwartd: metrics on http://%s:%u/metrics\n", ip, cfg->metrics_port);
	return 0;
}

int main(int argc, char **argv)
{
	struct gwartd_args a;
	struct cp_config cfg = {0};
	struct cp_ctx cp = {0};
	int rc, started = 0, ok = 0, own, eal_argc, have_cfg = 0;
	char **eal_argv, **built = NULL;
	unsigned held;
	const char *check = gwartd_args_check_config(argc, argv);

	if (check != NULL)
		return check_config(check);
	gwartd_args_dev_default(&argc, &argv);
	/* After the default: with no arguments, EAL takes the development
	 * default's (--no-huge, the virtual ports), not the empty line. */
	eal_argc = argc;
	eal_argv = argv;
	own = gwartd_args_own_only(argc, argv);
	if (own != 0) {
		/* gwartd's own arguments, parsed before EAL: they say which
		 * file holds EAL's. argv[own - 1] stands in for the program
		 * name (getopt skips it). */
		rc = gwartd_args_parse(argc - own + 1, argv + own - 1, &a);
		if (rc != 0)
			return rc == 1 ? 0 : 2;
		if (a.config_path != NULL) {
			if (load_config(&a, &cfg) != 0)
				return 1;
			have_cfg = 1;
			built = eal_argv_from(&a, &cfg, argv[0], &eal_argc);
			if (built == NULL) {
				cp_config_free(&cfg);
				return 1;
			}
			eal_argv = built;
		} else {
			eal_argc = 1; /* EAL's defaults, as "gwartd -- ..." always had */
		}
	}
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0) {
		fprintf(stderr, "gwartd: EAL init failed: %s\n", rte_strerror(rte_errno));
		if (have_cfg)
			cp_config_free(&cfg);
		free(built);
		return 1;
	}
	/* gwart's log types, before anything logs: EAL's --log-level names
	 * their levels (cp.h). */
	if (cp_log_rte_init() != 0) {
		fprintf(stderr, "gwartd: cannot register log types\n");
		if (have_cfg)
			cp_config_free(&cfg);
		rte_eal_cleanup();
		free(built);
		return 1;
	}
	if (own == 0)
		rc = gwartd_args_parse(argc - rc, argv + rc, &a);
	else
		rc = 0;
	if (rc != 0 || (!have_cfg && load_config(&a, &cfg) != 0)) {
		if (have_cfg)
			cp_config_free(&cfg);
		rte_eal_cleanup();
		free(built);
		return rc == 1 ? 0 : rc == 2 ? 2 : 1;
	}
	if (own == 0 && a.config_path != NULL)
		note_unused_eal(&cfg);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* The control thread publishes and retires objects: it is a
	 * registered QSBR thread for its whole life. */
	rcu_register_thread();
	if (build_router(&cp, &a, &cfg, built != NULL) != 0)
		goto out;
	rc = dp_router_start(cp.rt);
	if (rc != 0) {
		fprintf(stderr, "gwartd: cannot launch workers: %s\n", strerror(-rc));
		goto out;
	}
	started = 1;
	/* dpdk-dumpcap attaches through the EAL's multi-process channel. */
	rc = cp_capture_pdump_init();
	if (rc < 0)
		fprintf(stderr, "gwartd: warning: no rte_pdump (dpdk-dumpcap): %s\n",
			strerror(-rc));
	else if (rc == 1)
		printf("gwartd: rte_pdump enabled (dpdk-dumpcap can attach)\n");
	if (open_socket(&cp, &a, &cfg) != 0 || open_metrics(&cp, &cfg) != 0)
		goto out;
	/* /gwart/... beside /ethdev/... on DPDK's telemetry socket (optional,
	 * like the default control socket: EAL may run without telemetry). */
	rc = cp_telemetry_init(&cp);
	if (rc != 0)
		fprintf(stderr, "gwartd: warning: no telemetry commands: %s\n", strerror(-rc));
	cp.start_tsc = rte_rdtsc();
	printf("gwartd: %u worker(s), %u port(s), udp port %u, max payload %u: running\n",
	       cp.rt->n_workers, cp.rt->n_ports, ntohs(cp.rt->udp_be), dp_router_max_payload(cp.rt));
	fflush(stdout);
	/* Ready for systemd only now: workers poll, the socket listens. */
	if (cp_notify_ready(&cp) != 0)
		fprintf(stderr, "gwartd: warning: no systemd notification (out of memory)\n");
	cp_ctl_run(&cp, &quit, a.duration_s, a.stats_interval_s);
	ok = 1;
out:
	cp_notify_stopping(&cp);
	/* No more requests: clients see EOF now (gwartctl shutdown waits). */
	cp_sock_close(cp.sock);
	cp_metrics_stop(&cp);
	/* Telemetry answers "stopping" from now on (its commands stay). */
	cp_telemetry_fini(&cp);
	if (started)
		dp_router_stop(cp.rt);
	/* A capture still running is finished: its file complete. */
	cp_capture_fini(&cp);
	cp_capture_pdump_fini();
	/* What is left in the ring is the control thread's to finish. */
	while (ok && cp_frames_poll(&cp) != 0)
		;
	if (ok)
		cp_stats_print(&cp, stdout);
	if (ok && a.stats_file != NULL && cp_stats_write_json(&cp, a.stats_file) != 0)
		fprintf(stderr, "gwartd: cannot write %s\n", a.stats_file);
	rcu_thread_offline();
	held = cp.rt != NULL ? dp_router_free(cp.rt) : 0;
	if (ok)
		printf("gwartd: stopped (%u message(s) still in custody at exit)\n", held);
	rcu_unregister_thread();
	cp_notify_fini(&cp);
	cp_reload_fini(&cp);
	cp_fini(&cp);
	cp_config_free(&cfg);
	rte_eal_cleanup();
	free(built); /* EAL may keep pointers into it until its cleanup */
	return ok ? 0 : 1;
}
