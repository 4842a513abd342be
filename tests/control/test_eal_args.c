/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's EAL arguments from its configuration (control/eal_args.c): the
 * --lcores grammar and the device forms at their edges, the argv built from
 * configs (numbered table), and the shipped examples' argv (deploy/examples:
 * the production one gives 12 workers). No EAL: these run before it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "config.h"
#include "eal_args.h"
#include "gwartd_args.h"

#ifndef GWART_SOURCE_ROOT
#define GWART_SOURCE_ROOT "."
#endif

TestSuite(eal_args);

/* --lcores lists: the text, the lcores counted (0: refused). */
static const struct {
	const char *text;
	unsigned n;
	const char *why;
} lcore_rows[] = {
	/* 1 */ {"0-1", 2, NULL},
	/* 2 */ {"1-13", 13, NULL},
	/* 3 */ {"0", 1, NULL},
	/* 4 */ {"0,2,4-6", 5, NULL},
	/* 5 */ {"(0-3)@(0,1)", 4, NULL},
	/* 6 */ {"0@0,1@1,2@1", 3, NULL},
	/* 7 */ {"0-1,(2,3)@1", 4, NULL},
	/* 8 */ {"127", 1, NULL},
	/* 9 */ {"128", 0, "an lcore id not below 128"},
	/* 10 */ {"0@1024", 0, "a CPU id not below 1024"},
	/* 11 */ {"0@1023", 1, NULL},
	/* 12 */ {"", 0, "expected a number"},
	/* 13 */ {"3-1", 0, "a range runs downwards"},
	/* 14 */ {"0-3,2", 0, "an lcore named twice"},
	/* 15 */ {"(0,1", 0, "a set not closed by ')'"},
	/* 16 */ {"0-1,", 0, "expected a number"},
	/* 17 */ {"0 1", 0, "unexpected character"},
	/* 18 */ {"0x3", 0, "unexpected character"},
	/* 19 */ {"-1", 0, "expected a number"},
	/* 20 */ {"0@(1,2)", 1, NULL},
};

Test(eal_args, lcores)
{
	unsigned i;

	for (i = 0; i < sizeof(lcore_rows) / sizeof(lcore_rows[0]); i++) {
		uint64_t set[RTE_MAX_LCORE / 64];
		const char *why = NULL;
		unsigned n = 99;
		int rc = cp_eal_args_lcores(lcore_rows[i].text, set, &n, &why);

		if (lcore_rows[i].why == NULL) {
			cr_expect_eq(rc, 0, "row %u: refused (%s)", i + 1, why);
			cr_expect_eq(n, lcore_rows[i].n, "row %u: %u lcores", i + 1, n);
		} else {
			cr_expect_eq(rc, -EINVAL, "row %u: accepted", i + 1);
			cr_expect(why != NULL && strcmp(why, lcore_rows[i].why) == 0,
				  "row %u: why \"%s\"", i + 1, why ? why : "(null)");
		}
	}
}

/* Which lcores the set holds: "(0-3)@(0,1)" is lcores 0..3, not CPUs. */
Test(eal_args, lcore_set)
{
	uint64_t set[RTE_MAX_LCORE / 64];
	const char *why;
	unsigned n;

	cr_assert_eq(cp_eal_args_lcores("(2-3)@(0,1),64,127", set, &n, &why), 0);
	cr_expect_eq(n, 4);
	cr_expect_eq(set[0], 0xcull);
	cr_expect_eq(set[1], (1ull << 0) | (1ull << 63));
}

static const struct {
	const char *text;
	int kind;
	const char *name;
} device_rows[] = {
	/* 1 */ {"0000:3b:00.0", CP_EAL_DEV_PCI, "0000:3b:00.0"},
	/* 2 */ {"0000:3b:00.7,rxq_cqe_comp_en=1", CP_EAL_DEV_PCI, "0000:3b:00.7"},
	/* 3 */ {"0000:3b:00.8", -EINVAL, NULL},   /* functions are 0-7 */
	/* 4 */ {"0000:3B:00.0", -EINVAL, NULL},   /* EAL names it in lower case */
	/* 5 */ {"3b:00.0", -EINVAL, NULL},        /* the domain too: the port's name */
	/* 6 */ {"0000:3b:00.0,", -EINVAL, NULL},
	/* 7 */ {"net_tap0,iface=gw0", CP_EAL_DEV_VDEV, "net_tap0"},
	/* 8 */ {"net_null0", CP_EAL_DEV_VDEV, "net_null0"},
	/* 9 */ {"net_memif0,role=server,socket=/run/m.sock", CP_EAL_DEV_VDEV, "net_memif0"},
	/* 10 */ {"net_", -EINVAL, NULL},
	/* 11 */ {"net_tap0,iface=gw 0", -EINVAL, NULL}, /* one argv word */
	/* 12 */ {"crypto_aesni_gcm0", -EINVAL, NULL},   /* not a port */
	/* 13 */ {"", -EINVAL, NULL},
	/* 14 */ {"net-tap0", -EINVAL, NULL},
	/* 15 */ {"0000:3b:00.00", -EINVAL, NULL},
};

Test(eal_args, devices)
{
	unsigned i;

	for (i = 0; i < sizeof(device_rows) / sizeof(device_rows[0]); i++) {
		char name[CP_EAL_DEVICE_MAX + 1] = "";
		int k = cp_eal_args_device(device_rows[i].text, name, sizeof(name));

		cr_expect_eq(k, device_rows[i].kind, "row %u: kind %d", i + 1, k);
		if (device_rows[i].name != NULL)
			cr_expect_str_eq(name, device_rows[i].name, "row %u", i + 1);
	}
}

/* The argv of @text's config, from argv[1] on, joined by blanks. */
static char *argv_of(const char *text, struct cp_config *cfg)
{
	char err[256], *out;
	char **v;
	size_t len = 1;
	int argc, i;

	cr_assert_eq(cp_config_parse(cfg, text, err, sizeof(err)), 0, "%s: %s", text, err);
	v = cp_eal_args_build(cfg, "gwartd", &argc);
	cr_assert_not_null(v);
	cr_assert_str_eq(v[0], "gwartd");
	cr_assert_null(v[argc]);
	for (i = 1; i < argc; i++)
		len += strlen(v[i]) + 1;
	out = calloc(1, len);
	cr_assert_not_null(out);
	for (i = 1; i < argc; i++) {
		strcat(out, v[i]);
		if (i + 1 < argc)
			strcat(out, " ");
	}
	free(v);
	return out;
}

#define TK "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static const struct {
	const char *text;
	const char *argv;
} argv_rows[] = {
	/* 1: nothing given: EAL's defaults */
	{"{}", ""},
	/* 2 */ {"{\"eal\": {}}", ""},
	/* 3 */ {"{\"eal\": {\"lcores\": \"0-1\"}}", "--lcores=0-1"},
	/* 4: without hugepages -m is needed (EAL's 64 MB does not fit) */
	{"{\"eal\": {\"hugepages\": false}}", "--no-huge -m 512"},
	/* 5 */ {"{\"eal\": {\"hugepages\": false, \"memory_mb\": 256}}", "--no-huge -m 256"},
	/* 6 */ {"{\"eal\": {\"hugepages\": true, \"memory_mb\": 4096}}", "-m 4096"},
	/* 7 */ {"{\"eal\": {\"hugepages\": true}}", ""},
	/* 8 */ {"{\"eal\": {\"main_lcore\": 0}}", "--main-lcore=0"},
	/* 9 */ {"{\"eal\": {\"lcores\": \"2-5\", \"main_lcore\": 5, \"file_prefix\": \"gw-1_a\"}}",
		 "--lcores=2-5 --main-lcore=5 --file-prefix=gw-1_a"},
	/* 10: args last, in order */
	{"{\"eal\": {\"args\": [\"--log-level=warning\", \"--huge-dir\", \"/mnt/h\"], "
	 "\"lcores\": \"0-1\"}}",
	 "--lcores=0-1 --log-level=warning --huge-dir /mnt/h"},
	/* 11: vdevs only: no PCI scan */
	{"{\"ports\": [{\"device\": \"net_tap0,iface=gw0\"}, {\"device\": \"net_null0\"}]}",
	 "--vdev=net_tap0,iface=gw0 --vdev=net_null0 --no-pci"},
	/* 12: PCI devices on the allow list, devargs kept */
	{"{\"ports\": [{\"device\": \"0000:3b:00.1\"}, {\"device\": \"0000:3b:00.0,a=1\"}]}",
	 "-a 0000:3b:00.1 -a 0000:3b:00.0,a=1"},
	/* 13: mixed: PCI scan allowed (the allow list bounds it) */
	{"{\"ports\": [{\"device\": \"0000:3b:00.0\"}, {\"device\": \"net_tap0\"}]}",
	 "-a 0000:3b:00.0 --vdev=net_tap0"},
	/* 14: every key, in the argv's fixed order */
	{"{\"ports\": [{\"ip\": \"198.18.0.1\", \"device\": \"net_tap0,iface=gwt1\"}], "
	 "\"eal\": {\"args\": [\"--no-shconf\"], \"file_prefix\": \"t\", \"memory_mb\": 128, "
	 "\"hugepages\": false, \"main_lcore\": 1, \"lcores\": \"(0-1)@0\"}}",
	 "--lcores=(0-1)@0 --main-lcore=1 --no-huge -m 128 --file-prefix=t "
	 "--vdev=net_tap0,iface=gwt1 --no-pci --no-shconf"},
};

Test(eal_args, argv_from_config)
{
	unsigned i;

	for (i = 0; i < sizeof(argv_rows) / sizeof(argv_rows[0]); i++) {
		struct cp_config cfg;
		char *got = argv_of(argv_rows[i].text, &cfg);

		cr_expect_str_eq(got, argv_rows[i].argv, "row %u: \"%s\"", i + 1, got);
		free(got);
		cp_config_free(&cfg);
	}
}

/* The shipped examples (key files not read: they are the deployment's). */
static char *example_argv(const char *name, struct cp_config *cfg)
{
	char path[512], err[256], *text, *out;

	snprintf(path, sizeof(path), "%s/deploy/examples/%s", GWART_SOURCE_ROOT, name);
	text = cp_config_read_file(path, err, sizeof(err));
	cr_assert_not_null(text, "%s", err);
	out = argv_of(text, cfg);
	free(text);
	return out;
}

Test(eal_args, example_prod_16core)
{
	struct cp_config cfg;
	char *got = example_argv("prod-16core.json", &cfg);

	cr_expect_str_eq(got, "--lcores=1-13 --main-lcore=1 -m 4096 --file-prefix=gwartd "
			      "-a 0000:3b:00.0 -a 0000:3b:00.1");
	/* dp_router_create(): one worker per lcore but the main one. */
	cr_expect_eq(cfg.eal.n_lcores - 1, 12, "%u workers", cfg.eal.n_lcores - 1);
	cr_expect_eq(cfg.n_ports, 2);
	cr_expect_neq(cfg.port_ip_be[0], 0);
	cr_expect_neq(cfg.port_ip_be[1], 0);
	cr_expect(!cfg.eal.no_huge);
	free(got);
	cp_config_free(&cfg);
}

Test(eal_args, example_dev_2core)
{
	struct cp_config cfg;
	char *got = example_argv("dev-2core.json", &cfg);

	cr_expect_str_eq(got, "--lcores=0-1 --main-lcore=0 --no-huge -m 512 --file-prefix=gwartd-dev "
			      "--vdev=net_tap0,iface=gw0 --no-pci --log-level=warning");
	cr_expect_eq(cfg.eal.n_lcores - 1, 1);
	free(got);
	cp_config_free(&cfg);
}

/* Which command lines have no EAL arguments of their own. */
Test(eal_args, own_only)
{
	static const struct {
		const char *args[6];
		int own;
	} rows[] = {
		/* 1 */ {{"gwartd", "--config", "f.json"}, 1},
		/* 2 */ {{"gwartd", "--config=f.json", "--duration", "5"}, 1},
		/* 3 */ {{"gwartd", "--", "--config", "f.json"}, 2},
		/* 4: EAL's first: today's form, the command line's EAL wins */
		{{"gwartd", "-l", "0-1", "--", "--config", "f.json"}, 0},
		/* 5 */ {{"gwartd", "--no-huge", "--", "--config", "f.json"}, 0},
		/* 6: EAL's own arguments without "--" */
		{{"gwartd", "-l", "0-1", "--no-huge"}, 0},
		/* 7 */ {{"gwartd"}, 0},
		/* 8: not one of gwartd's options */
		{{"gwartd", "--conf", "f.json"}, 0},
		/* 9 */ {{"gwartd", "--help"}, 1},
		/* 10: a "--" later: the first part is EAL's */
		{{"gwartd", "--config", "f.json", "--", "x"}, 0},
	};
	unsigned i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int argc = 0;

		while (argc < 6 && rows[i].args[argc] != NULL)
			argc++;
		cr_expect_eq(gwartd_args_own_only(argc, (char **)rows[i].args), rows[i].own, "row %u",
			     i + 1);
	}
}

/* The limits at their edges: CP_EAL_ARGS_MAX extra arguments,
 * CP_EAL_DEVICE_MAX characters of device, CP_EAL_FILE_PREFIX_MAX of prefix. */
Test(eal_args, limits)
{
	char text[8192], err[256], *p;
	struct cp_config cfg;
	unsigned n, i;

	for (n = CP_EAL_ARGS_MAX; n <= CP_EAL_ARGS_MAX + 1; n++) {
		p = text + sprintf(text, "{\"eal\": {\"args\": [");
		for (i = 0; i < n; i++)
			p += sprintf(p, "%s\"--log-level=%u\"", i ? ", " : "", i % 8);
		sprintf(p, "]}}");
		if (n == CP_EAL_ARGS_MAX) {
			cr_assert_eq(cp_config_parse(&cfg, text, err, sizeof(err)), 0, "%s", err);
			cr_expect_eq(cfg.eal.n_args, CP_EAL_ARGS_MAX);
			cp_config_free(&cfg);
		} else {
			cr_assert_eq(cp_config_parse(&cfg, text, err, sizeof(err)), -EINVAL);
			cr_expect_str_eq(err, "eal.args: not an array of at most 64 strings");
		}
	}
	for (n = CP_EAL_DEVICE_MAX; n <= CP_EAL_DEVICE_MAX + 1; n++) {
		/* "net_null0,a=xxx...": n characters in all */
		p = text + sprintf(text, "{\"ports\": [{\"device\": \"net_null0,a=");
		for (i = 12; i < n; i++)
			*p++ = 'x';
		sprintf(p, "\"}]}");
		cr_expect_eq(cp_config_parse(&cfg, text, err, sizeof(err)),
			     n == CP_EAL_DEVICE_MAX ? 0 : -EINVAL, "%u characters: %s", n, err);
		if (n == CP_EAL_DEVICE_MAX) {
			cr_expect_eq(strlen(cfg.port_device[0]), CP_EAL_DEVICE_MAX);
			cp_config_free(&cfg);
		}
	}
	for (n = CP_EAL_FILE_PREFIX_MAX; n <= CP_EAL_FILE_PREFIX_MAX + 1; n++) {
		p = text + sprintf(text, "{\"eal\": {\"file_prefix\": \"");
		for (i = 0; i < n; i++)
			*p++ = 'g';
		sprintf(p, "\"}}");
		cr_expect_eq(cp_config_parse(&cfg, text, err, sizeof(err)),
			     n == CP_EAL_FILE_PREFIX_MAX ? 0 : -EINVAL, "%u characters: %s", n, err);
		if (n == CP_EAL_FILE_PREFIX_MAX)
			cp_config_free(&cfg);
	}
}
