/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd: EAL arguments, then "--", then gwartd's own.
 *
 *   gwartd [EAL args] -- [--config FILE] [--duration S] [--stats-interval S]
 *                        [--stats-file FILE] [--mbufs N] [--mbuf-size BYTES]
 *                        [--socket PATH] [--allow-uid UID] [--allow-gid GID]
 *
 * The control socket (gwartctl's) comes from --socket, else the config's
 * "control": {"socket", "allow_uid", "allow_gid"}, else the default path.
 * A socket named explicitly must open or gwartd does not start; the default
 * one is best effort (a development host may run several gwartd at once, or
 * not as root), with a warning.
 *
 * With no arguments at all it starts the embedded default on a development
 * host: one net_tap port (gw0), two lcores, no hugepages, the demo
 * connectors and their routes.
 *
 * Start-up and shutdown are the only places allowed to exit.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <gwart/wire.h>

#include "cp.h"
#include "port.h"
#include "router_api.h"
#include "sock.h"

static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gwartd [EAL args] -- [--config FILE] [--duration S] [--stats-interval S]\n"
		"              [--stats-file FILE] [--mbufs N] [--mbuf-size BYTES]\n"
		"              [--socket PATH] [--allow-uid UID] [--allow-gid GID]\n"
		"Control socket: default %s (mode 0660); served peers: root, UID, and\n"
		"members of GID (default: gwartd's own user and group).\n"
		"With no arguments: the embedded default (net_tap gw0, demo connectors).\n",
		CP_SOCK_DEFAULT_PATH);
}

/* A uid or gid: a decimal number below (uid_t)-1, which means "none". */
static int parse_id(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v >= UINT32_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* The config's "control" object; options given on the command line win. */
static void control_from_config(json_t *root, struct cp_sock_params *sp, int *explicit_path)
{
	json_t *ctl = json_object_get(root, "control");
	json_t *path = json_object_get(ctl, "socket");
	json_t *uid = json_object_get(ctl, "allow_uid"), *gid = json_object_get(ctl, "allow_gid");

	if (sp->path == NULL && json_is_string(path)) {
		sp->path = json_string_value(path);
		*explicit_path = 1;
	}
	if (!sp->set_uid && json_is_integer(uid) && json_integer_value(uid) >= 0 &&
	    json_integer_value(uid) < UINT32_MAX) {
		sp->set_uid = 1;
		sp->allow_uid = (uid_t)json_integer_value(uid);
	}
	if (!sp->set_gid && json_is_integer(gid) && json_integer_value(gid) >= 0 &&
	    json_integer_value(gid) < UINT32_MAX) {
		sp->set_gid = 1;
		sp->allow_gid = (gid_t)json_integer_value(gid);
	}
}

int main(int argc, char **argv)
{
	static char *dev_default[] = {
		"gwartd", "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
		"--vdev=net_tap0,iface=gw0", "--log-level=warning", NULL,
	};
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"duration", required_argument, NULL, 'd'},
		{"stats-interval", required_argument, NULL, 'i'},
		{"stats-file", required_argument, NULL, 's'},
		{"mbufs", required_argument, NULL, 'n'},
		{"mbuf-size", required_argument, NULL, 'm'},
		{"socket", required_argument, NULL, 'S'},
		{"allow-uid", required_argument, NULL, 'U'},
		{"allow-gid", required_argument, NULL, 'G'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dp_router_params prm = {
		.nb_mbuf = DP_DEF_NB_MBUF,
		.mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
		.udp_port = GW_WIRE_UDP_PORT,
		.max_routes = DP_DEF_MAX_ROUTES,
	};
	const char *config_path = NULL, *stats_file = NULL;
	char *config_text = NULL, err[256];
	double duration = 0;
	unsigned stats_interval = 0, held;
	struct cp_ctx cp = {0};
	struct cp_sock_params sp = {0};
	int explicit_sock = 0;
	unsigned id;
	uint16_t port_id;
	json_t *root;
	int rc, opt;

	if (argc == 1) {
		argv = dev_default;
		argc = (int)(sizeof(dev_default) / sizeof(dev_default[0])) - 1;
	}
	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "gwartd: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:d:i:s:n:m:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 'i':
			stats_interval = (unsigned)atoi(optarg);
			break;
		case 's':
			stats_file = optarg;
			break;
		case 'n':
			prm.nb_mbuf = (unsigned)atoi(optarg);
			break;
		case 'm':
			prm.mbuf_data_room = (uint16_t)atoi(optarg);
			break;
		case 'S':
			sp.path = optarg;
			explicit_sock = 1;
			break;
		case 'U':
		case 'G':
			if (parse_id(optarg, &id) != 0) {
				fprintf(stderr, "gwartd: bad --allow-%s %s\n",
					opt == 'U' ? "uid" : "gid", optarg);
				rte_eal_cleanup();
				return 2;
			}
			if (opt == 'U') {
				sp.set_uid = 1;
				sp.allow_uid = (uid_t)id;
			} else {
				sp.set_gid = 1;
				sp.allow_gid = (gid_t)id;
			}
			break;
		default:
			usage();
			rte_eal_cleanup();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (config_path != NULL) {
		config_text = cp_config_read_file(config_path, err, sizeof(err));
		if (config_text == NULL) {
			fprintf(stderr, "gwartd: cannot read config %s\n", err);
			rte_eal_cleanup();
			return 1;
		}
	} else {
		config_text = strdup(cp_config_default);
	}
	root = json_loads(config_text, 0, NULL);
	if (json_is_integer(json_object_get(root, "udp_port")))
		prm.udp_port = (uint16_t)json_integer_value(json_object_get(root, "udp_port"));
	control_from_config(root, &sp, &explicit_sock);
	if (sp.path != NULL)
		sp.path = strdup(sp.path); /* it outlives the parsed config */
	else
		sp.path = strdup(CP_SOCK_DEFAULT_PATH);
	json_decref(root);

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* The control thread publishes and retires objects: it is a
	 * registered QSBR thread for its whole life. */
	rcu_register_thread();

	cp.rt = dp_router_create(&prm, &rc);
	if (cp.rt == NULL) {
		fprintf(stderr, "gwartd: cannot create router: %s (need at least 2 lcores)\n",
			strerror(-rc));
		goto fail_eal;
	}
	rc = cp_init(&cp, cp.rt);
	if (rc != 0) {
		fprintf(stderr, "gwartd: %s\n", strerror(-rc));
		goto fail_rt;
	}
	RTE_ETH_FOREACH_DEV(port_id) {
		uint32_t ip = cp_config_port_ip(config_text, cp.rt->n_ports);

		rc = dp_port_setup(cp.rt, port_id, ip);
		if (rc != 0) {
			fprintf(stderr, "gwartd: port %u: %s\n", port_id, strerror(-rc));
			goto fail_rt;
		}
	}
	if (cp.rt->n_ports == 0) {
		fprintf(stderr, "gwartd: no ports (give a --vdev or a NIC)\n");
		goto fail_rt;
	}
	rc = cp_config_load_json(&cp, config_text, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "gwartd: config %s: %s\n", config_path ? config_path : "(default)",
			err);
		goto fail_rt;
	}
	rc = dp_router_start(cp.rt);
	if (rc != 0) {
		fprintf(stderr, "gwartd: cannot launch workers: %s\n", strerror(-rc));
		goto fail_stop;
	}
	/* Opened last: a client must never find a router still being built. */
	rc = sp.path != NULL ? cp_sock_open(&cp, &sp) : -ENOMEM;
	if (rc != 0 && explicit_sock) {
		fprintf(stderr, "gwartd: control socket %s: %s\n", sp.path, strerror(-rc));
		goto fail_stop;
	}
	if (rc != 0)
		fprintf(stderr, "gwartd: warning: no control socket (%s: %s)\n",
			sp.path ? sp.path : CP_SOCK_DEFAULT_PATH, strerror(-rc));
	cp.start_tsc = rte_rdtsc();
	printf("gwartd: %u worker(s), %u port(s), udp port %u, max payload %u: running\n",
	       cp.rt->n_workers, cp.rt->n_ports, prm.udp_port, dp_router_max_payload(cp.rt));
	fflush(stdout);

	cp_ctl_run(&cp, &quit, duration, stats_interval);
	/* No more requests: the loop that served them has ended. Clients see
	 * EOF now (gwartctl shutdown waits for it). */
	cp_sock_close(&cp);

	dp_router_stop(cp.rt);
	/* What is left in the rings is the control thread's to finish. */
	while (cp_ctl_poll(&cp) != 0)
		;
	cp_stats_print(&cp, stdout);
	if (stats_file != NULL && cp_stats_write_json(&cp, stats_file) != 0)
		fprintf(stderr, "gwartd: cannot write %s\n", stats_file);
	rcu_thread_offline();
	held = dp_router_free(cp.rt);
	printf("gwartd: stopped (%u message(s) still in custody at exit)\n", held);
	rcu_unregister_thread();
	cp_fini(&cp);
	free(config_text);
	free((char *)sp.path);
	rte_eal_cleanup();
	return 0;

fail_stop:
	dp_router_stop(cp.rt);
fail_rt:
	rcu_thread_offline();
	dp_router_free(cp.rt);
	cp_fini(&cp);
fail_eal:
	rcu_unregister_thread();
	free(config_text);
	free((char *)sp.path);
	rte_eal_cleanup();
	return 1;
}
