/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's EAL arguments from its configuration (see eal_args.h).
 */
#include <errno.h>
#include <sched.h> /* CPU_SETSIZE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "eal_args.h"

/* ---- --lcores lists ----------------------------------------------------------------- */

static int lc_num(const char **p, unsigned max, unsigned *v, const char **why)
{
	unsigned long n = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9') {
		*why = "expected a number";
		return -EINVAL;
	}
	while (*s >= '0' && *s <= '9') {
		n = n * 10 + (unsigned long)(*s++ - '0');
		if (n >= max) {
			*why = max == RTE_MAX_LCORE ? "an lcore id not below " RTE_STR(RTE_MAX_LCORE)
						    : "a CPU id not below " RTE_STR(CPU_SETSIZE);
			return -EINVAL;
		}
	}
	*p = s;
	*v = (unsigned)n;
	return 0;
}

/* One id or range "a-b"; lcores (@set non-NULL) are counted, each once. */
static int lc_item(const char **p, unsigned max, uint64_t *set, unsigned *n, const char **why)
{
	unsigned a, b, i;

	if (lc_num(p, max, &a, why) != 0)
		return -EINVAL;
	b = a;
	if (**p == '-') {
		(*p)++;
		if (lc_num(p, max, &b, why) != 0)
			return -EINVAL;
		if (b < a) {
			*why = "a range runs downwards";
			return -EINVAL;
		}
	}
	for (i = a; set != NULL && i <= b; i++) {
		if (set[i / 64] & (1ull << (i % 64))) {
			*why = "an lcore named twice";
			return -EINVAL;
		}
		set[i / 64] |= 1ull << (i % 64);
		(*n)++;
	}
	return 0;
}

/* An item, or "(item,item...)". */
static int lc_group(const char **p, unsigned max, uint64_t *set, unsigned *n, const char **why)
{
	if (**p != '(')
		return lc_item(p, max, set, n, why);
	(*p)++;
	for (;;) {
		if (lc_item(p, max, set, n, why) != 0)
			return -EINVAL;
		if (**p == ')') {
			(*p)++;
			return 0;
		}
		if (**p != ',') {
			*why = "a set not closed by ')'";
			return -EINVAL;
		}
		(*p)++;
	}
}

int cp_eal_args_lcores(const char *text, uint64_t set[RTE_MAX_LCORE / 64], unsigned *n,
		       const char **why)
{
	const char *p = text;

	memset(set, 0, RTE_MAX_LCORE / 8);
	*n = 0;
	for (;;) {
		if (lc_group(&p, RTE_MAX_LCORE, set, n, why) != 0)
			return -EINVAL;
		if (*p == '@') {
			p++;
			if (lc_group(&p, CPU_SETSIZE, NULL, n, why) != 0)
				return -EINVAL;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',') {
			*why = "unexpected character";
			return -EINVAL;
		}
		p++;
	}
}

/* ---- devices ------------------------------------------------------------------------- */

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int cp_eal_args_device(const char *text, char *name, size_t namelen)
{
	static const char pci[] = "xxxx:xx:xx.x"; /* x: lower-case hex; the last 0-7 */
	size_t len = strcspn(text, ","), i;
	int kind;

	if (len == 0 || strlen(text) > CP_EAL_DEVICE_MAX || len + 1 > namelen ||
	    (text[len] == ',' && text[len + 1] == '\0'))
		return -EINVAL;
	for (i = 0; text[i] != '\0'; i++)
		if (text[i] <= ' ' || text[i] > '~')
			return -EINVAL; /* one argv word: no blanks, nothing unprintable */
	for (i = 0; i < len && i < sizeof(pci) - 1; i++)
		if (pci[i] == 'x' ? !is_hex(text[i]) : text[i] != pci[i])
			break;
	if (i == sizeof(pci) - 1 && len == i && text[len - 1] <= '7') {
		kind = CP_EAL_DEV_PCI;
	} else if (strncmp(text, "net_", 4) == 0 && len > 4) {
		/* A driver name and an instance: letters, digits, '_'. */
		for (i = 4; i < len; i++)
			if (!((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= '0' && text[i] <= '9') ||
			      text[i] == '_'))
				return -EINVAL;
		kind = CP_EAL_DEV_VDEV;
	} else {
		return -EINVAL;
	}
	memcpy(name, text, len);
	name[len] = '\0';
	return kind;
}

/* ---- the argv ------------------------------------------------------------------------ */

/* Each argument put twice: once to size the block, once into it. */
struct argv_out {
	char **v;   /* NULL while sizing */
	char *s;
	size_t len; /* string bytes */
	int n;
};

static void put(struct argv_out *o, const char *arg)
{
	size_t k = strlen(arg);

	if (o->v != NULL) {
		memcpy(o->s, arg, k + 1);
		o->v[o->n] = o->s;
		o->s += k + 1;
	}
	o->len += k + 1;
	o->n++;
}

/* "--opt=" and @val as one argument. */
static void put2(struct argv_out *o, const char *opt, const char *val)
{
	size_t a = strlen(opt), b = strlen(val);

	if (o->v != NULL) {
		memcpy(o->s, opt, a);
		memcpy(o->s + a, val, b + 1);
		o->v[o->n] = o->s;
		o->s += a + b + 1;
	}
	o->len += a + b + 1;
	o->n++;
}

static void emit(const struct cp_config *cfg, const char *prog, struct argv_out *o)
{
	const struct cp_config_eal *e = &cfg->eal;
	unsigned i, n_pci = 0, n_dev = 0;
	char name[CP_EAL_DEVICE_MAX + 1], num[16];

	put(o, prog);
	if (e->lcores != NULL)
		put2(o, "--lcores=", e->lcores);
	if (e->main_lcore >= 0) {
		snprintf(num, sizeof(num), "%d", e->main_lcore);
		put2(o, "--main-lcore=", num);
	}
	if (e->no_huge)
		put(o, "--no-huge");
	if (e->memory_mb != 0 || e->no_huge) {
		snprintf(num, sizeof(num), "%u", e->memory_mb != 0 ? e->memory_mb : CP_EAL_NO_HUGE_MB);
		put(o, "-m");
		put(o, num);
	}
	if (e->file_prefix != NULL)
		put2(o, "--file-prefix=", e->file_prefix);
	/* Only the configured devices: PCI ones on EAL's allow list, so no
	 * other NIC bound to a DPDK driver is taken; no PCI scan at all when
	 * every port is virtual. */
	for (i = 0; i < DP_MAX_PORTS && cfg->port_device[i] != NULL; i++) {
		n_dev++;
		if (cp_eal_args_device(cfg->port_device[i], name, sizeof(name)) == CP_EAL_DEV_PCI) {
			put(o, "-a");
			put(o, cfg->port_device[i]);
			n_pci++;
		} else {
			put2(o, "--vdev=", cfg->port_device[i]);
		}
	}
	if (n_dev != 0 && n_pci == 0)
		put(o, "--no-pci");
	for (i = 0; i < e->n_args; i++)
		put(o, e->args[i]);
}

char **cp_eal_args_build(const struct cp_config *cfg, const char *prog, int *argc)
{
	struct argv_out o = {0};
	char **v;

	emit(cfg, prog, &o);
	v = malloc((size_t)(o.n + 1) * sizeof(*v) + o.len);
	if (v == NULL)
		return NULL;
	o = (struct argv_out){.v = v, .s = (char *)(v + o.n + 1)};
	emit(cfg, prog, &o);
	v[o.n] = NULL;
	*argc = o.n;
	return v;
}
