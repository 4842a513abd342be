/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's argument parsing (see gwartd_args.h):
 *
 *   gwartd [EAL args] -- [--config FILE] [--duration S] [--stats-interval S]
 *                        [--stats-file FILE] [--mbufs N] [--mbuf-size BYTES]
 *                        [--socket PATH] [--allow-uid UID] [--allow-gid GID]
 *                        [--demo-key-file PATH] [--test-hooks]
 *   gwartd --config FILE [OPTIONS]   (EAL arguments from FILE)
 *   gwartd --check-config FILE
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf_core.h>

#include <gwart/ctl.h>

#include "gwartd_args.h"
#include "tuning.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: gwartd [EAL args] -- [--config FILE] [--duration S] [--stats-interval S]\n"
		"              [--stats-file FILE] [--mbufs N] [--mbuf-size BYTES]\n"
		"              [--socket PATH] [--allow-uid UID] [--allow-gid GID]\n"
		"              [--demo-key-file PATH] [--test-hooks]\n"
		"       gwartd --config FILE [OPTIONS]\n"
		"       gwartd --check-config FILE\n"
		"EAL arguments are those before \"--\" (gwartd -h -- lists EAL's own). With\n"
		"none (gwartd --config FILE ..., or gwartd -- --config FILE ...) they come\n"
		"from FILE: \"eal\": {lcores, main_lcore, hugepages, memory_mb, file_prefix,\n"
		"args} and \"ports\"[i].device (a PCI address or a vdev; EAL then probes only\n"
		"those), printed at start. EAL arguments on the command line win: the file's\n"
		"\"eal\" and devices are then not used. Workers: every lcore but the main one.\n"
		"--check-config: validate FILE and exit (no EAL, ports, hugepages or root):\n"
		"0 when gwartd would accept it, else 2 with every error on stderr, one a\n"
		"line in file order, as FILE:LINE:COLUMN: what is wrong (key files read).\n"
		"Control socket: default %s (mode 0660); served peers: root, UID, and\n"
		"members of GID (default: gwartd's own user and group).\n"
		"With no arguments: the embedded default (net_tap gw0, demo connectors).\n"
		"Without --config the demo connectors' key is drawn at start-up and written,\n"
		"in hex, to a new mode-0600 file: --demo-key-file, else $GWART_DEMO_KEY_FILE\n"
		"(neither: nobody knows it; set one with gwartctl connector set-key).\n"
		"--test-hooks: FOR TESTS ONLY, never in production: allows the test-only\n"
		"tunable test_stall (parks a worker; refused with EPERM otherwise).\n"
		"SIGHUP (systemctl reload): reload the --config FILE, as gwartctl reload.\n",
		GW_CTL_SOCKET_DEFAULT);
}

void gwartd_args_dev_default(int *argc, char ***argv)
{
	static char *dev_default[] = {
		"gwartd", "-l", "0-1", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
		"--vdev=net_tap0,iface=gw0", "--log-level=warning", NULL,
	};

	if (*argc != 1)
		return;
	*argv = dev_default;
	*argc = (int)(sizeof(dev_default) / sizeof(dev_default[0])) - 1;
}

int gwartd_args_own_only(int argc, char **argv)
{
	/* gwartd's long options; EAL has none of these names (its --help
	 * aside: "gwartd --help" is gwartd's, "gwartd -h --" EAL's). */
	static const char *const own[] = {"config", "duration", "stats-interval", "stats-file",
					  "mbufs", "mbuf-size", "socket", "allow-uid", "allow-gid",
					  "demo-key-file", "help", NULL};
	const char *const *o;
	size_t n;
	int i;

	if (argc < 2)
		return 0;
	if (strcmp(argv[1], "--") == 0)
		return 2;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return 0;
	if (strncmp(argv[1], "--", 2) != 0)
		return 0;
	n = strcspn(argv[1] + 2, "=");
	for (o = own; *o != NULL; o++)
		if (strlen(*o) == n && strncmp(argv[1] + 2, *o, n) == 0)
			return 1;
	return 0;
}

const char *gwartd_args_check_config(int argc, char **argv)
{
	int i;

	/* Looked for before EAL sees the arguments: a check must not need
	 * what EAL init takes (hugepages, devices, root). */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check-config") == 0)
			return i + 1 < argc ? argv[i + 1] : "";
		if (strncmp(argv[i], "--check-config=", 15) == 0)
			return argv[i] + 15;
	}
	return NULL;
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

int gwartd_args_parse(int argc, char **argv, struct gwartd_args *a)
{
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
		{"demo-key-file", required_argument, NULL, 'K'},
		{"test-hooks", no_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned id;
	int opt;

	memset(a, 0, sizeof(*a));
	a->nb_mbuf = 0; /* not given: sized from the ports and workers */
	a->mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:d:i:s:n:m:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'd':
			a->duration_s = atof(optarg);
			break;
		case 'i':
			a->stats_interval_s = (unsigned)atoi(optarg);
			break;
		case 's':
			a->stats_file = optarg;
			break;
		case 'n':
			a->nb_mbuf = (unsigned)atoi(optarg);
			break;
		case 'm':
			a->mbuf_data_room = (uint16_t)atoi(optarg);
			break;
		case 'S':
			a->socket_path = optarg;
			break;
		case 'K':
			a->demo_key_file = optarg;
			break;
		case 'T':
			a->test_hooks = 1;
			break;
		case 'U':
		case 'G':
			if (parse_id(optarg, &id) != 0) {
				fprintf(stderr, "gwartd: bad --allow-%s %s\n",
					opt == 'U' ? "uid" : "gid", optarg);
				return 2;
			}
			if (opt == 'U') {
				a->set_uid = 1;
				a->allow_uid = (uid_t)id;
			} else {
				a->set_gid = 1;
				a->allow_gid = (gid_t)id;
			}
			break;
		default:
			usage();
			return opt == 'h' ? 1 : 2;
		}
	}
	return 0;
}
