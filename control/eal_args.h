/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's EAL arguments from its configuration file: the "eal" object and
 * ports[i].device (control/config.c parses them with the rules below), used
 * only when gwartd's command line carries no EAL arguments of its own
 * (control/gwartd_args.c decides; command-line EAL arguments win).
 *
 * Pure functions: no EAL, no I/O, so unit tests and --check-config reach
 * them before (or without) rte_eal_init(). Any thread.
 */
#ifndef GWART_CP_EAL_ARGS_H
#define GWART_CP_EAL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <rte_config.h> /* RTE_MAX_LCORE */

struct cp_config;

/* -m with "hugepages": false and no "memory_mb" (MB): EAL's own default
 * without hugepages is 64 MB, which the packet pool (DP_DEF_NB_MBUF mbufs,
 * about 40 MB) and the route index do not fit; 512 is what the development
 * default (gwartd_args_dev_default) has always run with. */
#define CP_EAL_NO_HUGE_MB 512u
/* "memory_mb" bounds (MB). */
#define CP_EAL_MEMORY_MB_MIN 64u
#define CP_EAL_MEMORY_MB_MAX (1u << 20)
/* "file_prefix": at most this many characters ([A-Za-z0-9_-]): it names
 * files under /var/run/dpdk and the hugepage files. */
#define CP_EAL_FILE_PREFIX_MAX 64u
/* "args": at most this many extra EAL arguments. */
#define CP_EAL_ARGS_MAX 64u
/* ports[i].device: at most this many characters (devargs included). */
#define CP_EAL_DEVICE_MAX 256u

/* The lcore ids named by an EAL --lcores list such as "0-13", "1,3,5-7",
 * "(0-3)@(0,1)" or "0@1,1@2": each element an lcore id, a range or a
 * parenthesised set, optionally '@' a CPU id, range or set. Sets the bits
 * of @set (RTE_MAX_LCORE bits) and the number of distinct lcores in
 * *@n. 0, or -EINVAL with a static reason in *@why. */
int cp_eal_args_lcores(const char *text, uint64_t set[RTE_MAX_LCORE / 64], unsigned *n,
		       const char **why);

enum cp_eal_dev_kind {
	CP_EAL_DEV_PCI = 1,  /* "0000:3b:00.0[,devargs]": EAL -a */
	CP_EAL_DEV_VDEV = 2, /* "net_tap0[,iface=gw0...]": EAL --vdev */
};
/* The kind of a ports[i].device string and the ethdev name the device's
 * port gets after EAL init (the PCI address, or the vdev's name before its
 * first comma) in @name (@namelen bytes). A kind, or -EINVAL. */
int cp_eal_args_device(const char *text, char *name, size_t namelen);

/*
 * The EAL argv for @cfg, @prog first:
 *   --lcores=L --main-lcore=N --no-huge -m MB --file-prefix=P
 *   -a PCI... --vdev=VDEV... (--no-pci when every device is a vdev) ARGS...
 * each only where the config gives it (absent keys: EAL's defaults; -m
 * CP_EAL_NO_HUGE_MB with --no-huge and no memory_mb). One malloc'd block
 * (the array, NULL-terminated, and its strings): free() it after
 * rte_eal_cleanup(), whatever EAL did to the order of the pointers. The
 * count in *@argc. NULL when out of memory.
 */
char **cp_eal_args_build(const struct cp_config *cfg, const char *prog, int *argc);

#endif
