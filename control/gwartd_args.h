/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's own command line (after EAL's "--"), and the EAL arguments it
 * runs with when given none at all.
 */
#ifndef GWART_GWARTD_ARGS_H
#define GWART_GWARTD_ARGS_H

#include <stdint.h>
#include <sys/types.h>

struct gwartd_args {
	const char *config_path;  /* NULL: the embedded default */
	const char *demo_key_file; /* embedded default: write its generated key here */
	const char *stats_file;
	double duration_s;        /* 0: forever */
	unsigned stats_interval_s;
	unsigned nb_mbuf;         /* --mbufs; 0: dp_router_pool_default() */
	uint16_t mbuf_data_room;
	const char *socket_path;  /* --socket, NULL: not given */
	int set_uid, set_gid;
	uid_t allow_uid;
	gid_t allow_gid;
	int test_hooks;           /* --test-hooks: test-only tunables (test_stall) allowed */
};

/* With no arguments at all (@*argc == 1), the development default: one
 * net_tap port (gw0), two lcores, no hugepages. */
void gwartd_args_dev_default(int *argc, char ***argv);
/* The FILE of --check-config FILE anywhere in @argv ("" when it has no
 * FILE), or NULL: gwartd then checks it and exits, before EAL init. */
const char *gwartd_args_check_config(int argc, char **argv);
/*
 * Where gwartd's own arguments start when the command line gives EAL none
 * (its EAL arguments then come from the --config file: eal_args.h): 2 for
 * "gwartd -- ...", 1 for "gwartd --config FILE ..." (no "--" anywhere and
 * the first argument one of gwartd's long options, which EAL has none
 * of). 0: the command line starts with EAL's arguments (today's form:
 * "gwartd EAL... -- OPTIONS"), which win over the file's.
 */
int gwartd_args_own_only(int argc, char **argv);
/* Parse what EAL left. 0 to run, 1 for --help (exit 0), 2 for a usage
 * error (printed; exit 2). */
int gwartd_args_parse(int argc, char **argv, struct gwartd_args *a);

#endif
