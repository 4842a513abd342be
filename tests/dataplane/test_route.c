/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route index tests: the real rte_hash table under one EAL per test process
 * (Criterion forks each test), liburcu QSBR lifetimes, and an rcutorture-
 * style concurrency test: readers look up while the writer replaces and
 * deletes; every retired route carries an age (grace periods since it was
 * unpublished) and is quarantined instead of freed, so a reader that ever
 * holds a reclaimed or aged route fails the test.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "eal.h"
#include "route.h"

TestSuite(route, .init = test_eal_up, .fini = test_eal_down);

#define A(s) ((const uint8_t *)(s)), strlen(s)

/* Route objects and the hash live in DPDK memory, which LeakSanitizer does
 * not see: count the heap's live allocations instead. */
static unsigned heap_allocs(void)
{
	struct rte_malloc_socket_stats st;
	unsigned s, n = 0;

	for (s = 0; s < RTE_MAX_NUMA_NODES; s++)
		if (rte_malloc_get_socket_stats((int)s, &st) == 0)
			n += st.alloc_count;
	return n;
}

static const struct dp_route *look(const struct dp_route_table *t, const char *addr)
{
	return dp_route_lookup(t, A(addr));
}

static const struct dp_route *look_bulk1(const struct dp_route_table *t, const char *addr)
{
	const uint8_t *p[1] = {(const uint8_t *)addr};
	uint16_t l[1] = {(uint16_t)strlen(addr)};
	const struct dp_route *out[1];

	dp_route_lookup_bulk(t, p, l, 1, out);
	return out[0];
}

Test(route, add_lookup_replace_del)
{
	struct dp_route_table *t = dp_route_table_create("rt_basic", 16, SOCKET_ID_ANY);
	const struct dp_route_target t1[] = {{7, 30}, {5, 10}, {6, 10}};
	const struct dp_route_target t2[] = {{9, 1}};
	const struct dp_route *r, *r2;
	uint64_t g0;

	cr_assert_not_null(t);
	g0 = dp_route_generation(t);
	cr_assert_geq(g0, 1);
	cr_assert_null(look(t, "smtp:alice@notes.acme.com"));

	/* 1. add; case-insensitive lookups; targets sorted by cost, stable */
	cr_assert_eq(dp_route_add(t, "SMTP", "Notes.Acme.com", t1, 3), 0);
	cr_assert_eq(dp_route_count(t), 1);
	cr_assert_eq(dp_route_generation(t), g0 + 1);
	r = look(t, "smtp:alice@notes.acme.com");
	cr_assert_not_null(r);
	cr_assert_eq(r, look(t, "SMTP:Bob@NOTES.ACME.COM"));
	cr_assert_eq(r, look_bulk1(t, "smtp:alice@notes.acme.com"));
	cr_assert_eq(r->kind, DP_ROUTE_EXACT);
	cr_assert_str_eq(r->type, "smtp");
	cr_assert_str_eq(r->pattern, "notes.acme.com");
	cr_assert_eq(r->n_targets, 3);
	cr_assert(r->targets[0].conn_id == 5 && r->targets[1].conn_id == 6 &&
		  r->targets[2].conn_id == 7);
	cr_assert_null(look(t, "smtp:alice@acme.com"));
	cr_assert_null(look(t, "notes:notes.acme.com"));
	cr_assert_null(look(t, "smtp:alice@notes.acme.com.evil"));

	/* 2. replace: new object, same count, generation moves */
	cr_assert_eq(dp_route_add(t, "smtp", "NOTES.acme.com", t2, 1), 0);
	cr_assert_eq(dp_route_count(t), 1);
	cr_assert_eq(dp_route_generation(t), g0 + 2);
	r2 = look(t, "smtp:alice@notes.acme.com");
	cr_assert(r2 != NULL && r2 != r);
	cr_assert(r2->n_targets == 1 && r2->targets[0].conn_id == 9);
	rcu_quiescent_state(); /* r is retired: we drop it here */

	/* 3. errors leave everything as it was */
	cr_assert_eq(dp_route_add(t, "smtp", "a*b", t2, 1), -EINVAL);
	cr_assert_eq(dp_route_add(t, "sm tp", "x", t2, 1), -EINVAL);
	cr_assert_eq(dp_route_add(t, "smtp", "x", t2, 0), -EINVAL);
	cr_assert_eq(dp_route_add(t, "smtp", "x", NULL, 1), -EINVAL);
	cr_assert_eq(dp_route_add(t, "smtp", "x", (const struct dp_route_target[]){{0, 1}}, 1),
		     -EINVAL);
	cr_assert_eq(
	    dp_route_add(t, "smtp", "x", (const struct dp_route_target[]){{3, 1}, {3, 2}}, 2),
	    -EINVAL);
	{
		static struct dp_route_target many[DP_ROUTE_TARGETS_MAX + 1];
		unsigned i;

		for (i = 0; i <= DP_ROUTE_TARGETS_MAX; i++)
			many[i] = (struct dp_route_target){i + 1, i % 3};
		cr_assert_eq(dp_route_add(t, "smtp", "x", many, DP_ROUTE_TARGETS_MAX + 1), -EINVAL);
		cr_assert_eq(dp_route_add(t, "smtp", "x", many, DP_ROUTE_TARGETS_MAX), 0);
		r = look(t, "smtp:a@x");
		cr_assert_eq(r->n_targets, DP_ROUTE_TARGETS_MAX);
		for (i = 1; i < DP_ROUTE_TARGETS_MAX; i++)
			cr_assert(r->targets[i - 1].cost < r->targets[i].cost ||
				  (r->targets[i - 1].cost == r->targets[i].cost &&
				   r->targets[i - 1].conn_id < r->targets[i].conn_id));
		cr_assert_eq(dp_route_del(t, "smtp", "x"), 0);
	}
	cr_assert_eq(dp_route_del(t, "smtp", "**"), -EINVAL);
	cr_assert_eq(dp_route_del(t, "smtp", "nothere.com"), -ENOENT);
	cr_assert_eq(dp_route_del(t, "smtp", "*.notes.acme.com"), -ENOENT);
	cr_assert_eq(dp_route_count(t), 1);

	/* 4. addresses that do not parse have no route, even with "*" */
	cr_assert_eq(dp_route_add(t, "smtp", "*", t2, 1), 0);
	cr_assert_null(look(t, "smtp:"));
	cr_assert_null(look(t, "smtp"));
	cr_assert_null(look(t, "smtp:alice@"));
	cr_assert_null(look_bulk1(t, ""));
	cr_assert_not_null(look(t, "smtp:alice@"
				   "x"));

	/* 5. delete */
	cr_assert_eq(dp_route_del(t, "SMTP", "notes.ACME.com"), 0);
	cr_assert_eq(dp_route_count(t), 1);
	r = look(t, "smtp:alice@notes.acme.com");
	cr_assert(r != NULL && r->kind == DP_ROUTE_ANY);
	cr_assert_eq(dp_route_del(t, "smtp", "notes.acme.com"), -ENOENT);
	cr_assert_eq(dp_route_del(t, "smtp", "*"), 0);
	cr_assert_eq(dp_route_count(t), 0);
	cr_assert_null(look(t, "smtp:alice@notes.acme.com"));

	/* 6. the table is reusable after deletes (key slots recycled) */
	cr_assert_eq(dp_route_add(t, "smtp", "notes.acme.com", t1, 3), 0);
	cr_assert_not_null(look(t, "smtp:alice@notes.acme.com"));
	dp_route_table_free(t);
}

Test(route, create_args)
{
	struct dp_route_table *t;

	cr_assert_null(dp_route_table_create(NULL, 10, SOCKET_ID_ANY));
	cr_assert_null(dp_route_table_create("rt_zero", 0, SOCKET_ID_ANY));
	cr_assert_null(
	    dp_route_table_create("rt_name_far_too_long_for_rte_hash", 10, SOCKET_ID_ANY));
	t = dp_route_table_create("rt_dup", 10, SOCKET_ID_ANY);
	cr_assert_not_null(t);
	rte_log_set_global_level(RTE_LOG_EMERG); /* the expected failure logs */
	cr_assert_null(dp_route_table_create("rt_dup", 10, SOCKET_ID_ANY));
	rte_log_set_global_level(RTE_LOG_ERR);
	dp_route_table_free(t);
	dp_route_table_free(NULL);
}

struct spec_case {
	const char *addr;
	const char *want; /* winning pattern, NULL: none */
};

static void check_spec(const struct dp_route_table *t, const struct spec_case *c, size_t n,
		       const char *when)
{
	const uint8_t *p[64];
	uint16_t l[64];
	const struct dp_route *out[64];
	size_t i;

	cr_assert_leq(n, 64);
	for (i = 0; i < n; i++) {
		p[i] = (const uint8_t *)c[i].addr;
		l[i] = (uint16_t)strlen(c[i].addr);
	}
	dp_route_lookup_bulk(t, p, l, (unsigned)n, out);
	for (i = 0; i < n; i++) {
		const struct dp_route *r = look(t, c[i].addr);

		cr_assert_eq(r, out[i], "%s case %zu: single and bulk disagree", when, i + 1);
		if (c[i].want == NULL)
			cr_assert_null(r, "%s case %zu (%s): got %s", when, i + 1, c[i].addr,
				       r ? r->pattern : "");
		else
			cr_assert(r != NULL && strcmp(r->pattern, c[i].want) == 0,
				  "%s case %zu (%s): got %s", when, i + 1, c[i].addr,
				  r ? r->pattern : "(none)");
	}
}

Test(route, specificity)
{
	struct dp_route_table *t = dp_route_table_create("rt_spec", 64, SOCKET_ID_ANY);
	const struct dp_route_target tg[] = {{1, 1}};
	const struct spec_case all[] = {
	    /* 1 */ {"smtp:a@notes.acme.com", "notes.acme.com"},
	    /* 2 */ {"smtp:a@x.notes.acme.com", "*.notes.acme.com"},
	    /* 3 */ {"smtp:a@mail.acme.com", "*.acme.com"},
	    /* 4 */ {"smtp:a@a.b.c.acme.com", "*.acme.com"},
	    /* 5 */ {"smtp:a@acme.com", "*.com"},
	    /* 6 */ {"smtp:a@x.org", "*"},
	    /* 7 */ {"smtp:a@b@notes.acme.com", "notes.acme.com"},
	    /* 8 */ {"notes:CN=Bob/O=Acme", "*/o=acme"},
	    /* 9 */ {"notes:CN=Bob/OU=Sales/O=Acme", "*/ou=sales/o=acme"},
	    /* 10 */ {"notes:CN=Bob/O=Other", NULL},
	    /* 11 */ {"x400:anything", NULL},
	    /* 12 */ {"SMTP:A@MAIL.ACME.COM", "*.acme.com"},
	    /* 13 */ {"smtp:a@com", "*"},
	    /* 14 */ {"bad address", NULL},
	};
	const struct spec_case after[] = {
	    /* *.acme.com and * deleted */
	    /* 1 */ {"smtp:a@notes.acme.com", "notes.acme.com"},
	    /* 2 */ {"smtp:a@mail.acme.com", "*.com"},
	    /* 3 */ {"smtp:a@x.org", NULL},
	    /* 4 */ {"smtp:a@x.notes.acme.com", "*.notes.acme.com"},
	    /* 5 */ {"notes:CN=Bob/O=Acme", "*/o=acme"},
	};

	cr_assert_not_null(t);
	cr_assert_eq(dp_route_add(t, "smtp", "*", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "*.com", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "*.acme.com", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "*.notes.acme.com", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "notes.acme.com", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "notes", "*/O=Acme", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "notes", "*/OU=Sales/O=Acme", tg, 1), 0);
	check_spec(t, all, sizeof(all) / sizeof(all[0]), "all");
	cr_assert_eq(dp_route_del(t, "smtp", "*.acme.com"), 0);
	cr_assert_eq(dp_route_del(t, "smtp", "*"), 0);
	check_spec(t, after, sizeof(after) / sizeof(after[0]), "after");
	dp_route_table_free(t);
}

/* Bulk answers equal single lookups for any n, including across the 64
 * boundary, with addresses mixing hits at every rank, misses and garbage. */
Test(route, bulk_any_size)
{
	struct dp_route_table *t = dp_route_table_create("rt_bulk", 64, SOCKET_ID_ANY);
	const struct dp_route_target tg[] = {{1, 1}};
	static const char *kinds[] = {"smtp:a@h%u.acme.com", "smtp:a@x%u.acme.com",
				      "smtp:a@y.z%u.org",    "smtp:a@%u",
				      "notes:x%u",	     "bad %u"};
	static char buf[150][48];
	const uint8_t *p[150];
	uint16_t l[150];
	const struct dp_route *out[150];
	const unsigned sizes[] = {0, 1, 2, 63, 64, 65, 127, 128, 129, 150};
	unsigned i, k;

	cr_assert_not_null(t);
	for (i = 0; i < 40; i += 3) {
		char pat[32];

		snprintf(pat, sizeof(pat), "h%u.acme.com", i);
		cr_assert_eq(dp_route_add(t, "smtp", pat, tg, 1), 0);
	}
	cr_assert_eq(dp_route_add(t, "smtp", "*.acme.com", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "*.org", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "*", tg, 1), 0);
	for (i = 0; i < 150; i++) {
		snprintf(buf[i], sizeof(buf[i]), kinds[i % 6], i % 41);
		p[i] = (const uint8_t *)buf[i];
		l[i] = (uint16_t)strlen(buf[i]);
	}
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		const unsigned n = sizes[k];

		for (i = 0; i < 150; i++)
			out[i] = (const struct dp_route *)&out; /* poison */
		dp_route_lookup_bulk(t, p, l, n, out);
		for (i = 0; i < n; i++)
			cr_assert_eq(out[i], look(t, buf[i]), "n %u, address %u (%s)", n, i,
				     buf[i]);
		for (; i < 150; i++)
			cr_assert_eq(out[i], (const struct dp_route *)&out, "n %u wrote out[%u]", n,
				     i);
	}
	dp_route_table_free(t);
}

/*
 * A 128-bit key collision cannot be produced on purpose, so fake one: poke
 * the published route's pattern (white box; safe here, no other thread) so
 * that its key no longer matches what it says it is.
 */
Test(route, key_collision_paths)
{
	struct dp_route_table *t = dp_route_table_create("rt_coll", 8, SOCKET_ID_ANY);
	const struct dp_route_target tg[] = {{1, 1}};
	struct dp_route *r;
	uint64_t g;

	cr_assert_not_null(t);
	cr_assert_eq(dp_route_add(t, "smtp", "a.example", tg, 1), 0);
	r = (struct dp_route *)look(t, "smtp:x@a.example");
	cr_assert_not_null(r);
	memcpy(r->pattern, "b", 1); /* same length: zero padding intact */
	g = dp_route_generation(t);
	/* 1. a hit that fails verification reads as a miss */
	cr_assert_null(look(t, "smtp:x@a.example"));
	cr_assert_null(look_bulk1(t, "smtp:x@a.example"));
	cr_assert_null(look(t, "smtp:x@b.example"));
	/* 2. an add whose key is held by a different route is refused */
	cr_assert_eq(dp_route_add(t, "smtp", "a.example", tg, 1), -EEXIST);
	/* 3. and a delete does not remove the other route */
	cr_assert_eq(dp_route_del(t, "smtp", "a.example"), -ENOENT);
	cr_assert_eq(dp_route_count(t), 1);
	cr_assert_eq(dp_route_generation(t), g);
	memcpy(r->pattern, "a", 1);
	cr_assert_eq(look(t, "smtp:x@A.example"), r);
	cr_assert_eq(dp_route_del(t, "smtp", "a.example"), 0);
	dp_route_table_free(t);
}

static int count_cb(const struct dp_route *r, void *arg)
{
	unsigned *n = arg;

	(*n)++;
	return *n == 5 ? 42 : 0;
}

static int count_all_cb(const struct dp_route *r, void *arg)
{
	(*(unsigned *)arg)++;
	return 0;
}

Test(route, capacity_and_foreach)
{
	struct dp_route_table *t = dp_route_table_create("rt_cap", 100, SOCKET_ID_ANY);
	const struct dp_route_target tg[] = {{1, 1}};
	char pat[32];
	unsigned i, n;
	uint64_t g;

	cr_assert_not_null(t);
	for (i = 0; i < 100; i++) {
		snprintf(pat, sizeof(pat), "*.d%u.example", i);
		cr_assert_eq(dp_route_add(t, "smtp", pat, tg, 1), 0, "route %u", i);
	}
	g = dp_route_generation(t);
	cr_assert_eq(dp_route_count(t), 100);
	cr_assert_eq(dp_route_add(t, "smtp", "one.too.many", tg, 1), -ENOSPC);
	cr_assert_eq(dp_route_add(t, "smtp", "*", tg, 1), -ENOSPC);
	cr_assert_eq(dp_route_generation(t), g, "failed adds do not move the generation");
	/* At capacity a replace still works. */
	cr_assert_eq(
	    dp_route_add(t, "smtp", "*.d7.example", (const struct dp_route_target[]){{2, 1}}, 1),
	    0);
	cr_assert_eq(look(t, "smtp:a@x.d7.example")->targets[0].conn_id, 2);
	cr_assert_eq(dp_route_del(t, "smtp", "*.d3.example"), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "one.too.many", tg, 1), 0);
	cr_assert_eq(dp_route_add(t, "smtp", "two.too.many", tg, 1), -ENOSPC);
	n = 0;
	cr_assert_eq(dp_route_foreach(t, count_cb, &n), 42);
	cr_assert_eq(n, 5);
	n = 0;
	cr_assert_eq(dp_route_foreach(t, count_all_cb, &n), 0);
	cr_assert_eq(n, 100);
	dp_route_table_free(t);
}

/* ---- many routes ---------------------------------------------------------------- */

static unsigned env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);

	return s != NULL && *s != '\0' ? (unsigned)strtoul(s, NULL, 0) : def;
}

Test(route, many_routes, .timeout = 300)
{
	const unsigned n = env_uint("GWART_ROUTE_N", 100000);
	struct dp_route_table *t = dp_route_table_create("rt_many", n + 1000, SOCKET_ID_ANY);
	char(*addr)[48] = malloc((size_t)n * sizeof(*addr));
	uint32_t *order = malloc((size_t)n * sizeof(*order));
	uint16_t *lens = malloc((size_t)n * sizeof(*lens));
	const struct dp_route **res = malloc((size_t)n * sizeof(*res));
	uint64_t x = 88172645463325252ull, c0, c1, c2, c3, c4, c5, sum = 0;
	unsigned heap0 = heap_allocs();
	unsigned i, j;
	char pat[48];

	cr_assert(t != NULL && addr != NULL && order != NULL && lens != NULL && res != NULL);
	for (i = 0; i < n; i++) {
		struct dp_route_target tg = {i + 1, 1};

		snprintf(pat, sizeof(pat), "d%07u.example.com", i);
		snprintf(addr[i], sizeof(addr[i]), "smtp:user@D%07u.example.com", i);
		lens[i] = (uint16_t)strlen(addr[i]);
		cr_assert_eq(dp_route_add(t, "smtp", pat, &tg, 1), 0, "route %u", i);
	}
	/* Some suffix routes, so that misses walk several rounds. */
	for (i = 0; i < 1000; i++) {
		struct dp_route_target tg = {n + 1 + i, 1};

		snprintf(pat, sizeof(pat), "*.s%04u.example.org", i);
		cr_assert_eq(dp_route_add(t, "smtp", pat, &tg, 1), 0);
	}
	cr_assert_eq(dp_route_count(t), n + 1000);
	/* Uniformly random order: the worst case for the caches. */
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (unsigned)(x % (i + 1));
		uint32_t tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	/* Timed loops check nothing (a Criterion assert costs more than the
	 * lookup); the results are compared afterwards. */
	c0 = rte_rdtsc();
	for (i = 0; i < n; i++) {
		res[i] = dp_route_lookup(t, (const uint8_t *)addr[order[i]], lens[order[i]]);
		if ((i & 63) == 0)
			rcu_quiescent_state();
	}
	c1 = rte_rdtsc();
	for (i = 0; i < n; i++)
		cr_assert(res[i] != NULL && res[i]->targets[0].conn_id == order[i] + 1,
			  "address %u", order[i]);
	c2 = rte_rdtsc();
	for (i = 0; i < n; i += 32) {
		const uint8_t *p[32];
		uint16_t l[32];
		unsigned k, m = n - i < 32 ? n - i : 32;

		for (k = 0; k < m; k++) {
			p[k] = (const uint8_t *)addr[order[i + k]];
			l[k] = lens[order[i + k]];
		}
		dp_route_lookup_bulk(t, p, l, m, &res[i]);
		rcu_quiescent_state();
	}
	c3 = rte_rdtsc();
	for (i = 0; i < n; i++)
		cr_assert(res[i] != NULL && res[i]->targets[0].conn_id == order[i] + 1,
			  "bulk: address %u", order[i]);
	rcu_quiescent_state();
	/* Misses: the exact probe plus one suffix length some route has. */
	for (i = 0; i < n; i++) {
		snprintf(addr[i], sizeof(addr[i]), "smtp:u@m%u.s%04u.example.net", i, i % 10000);
		lens[i] = (uint16_t)strlen(addr[i]);
	}
	c4 = rte_rdtsc();
	for (i = 0; i < n; i++)
		sum +=
		    (uintptr_t)dp_route_lookup(t, (const uint8_t *)addr[order[i]], lens[order[i]]);
	c5 = rte_rdtsc();
	cr_assert_eq(sum, 0);
	/* Suffix hits through the candidate walk. */
	for (i = 0; i < 1000; i++) {
		char a[64];
		const struct dp_route *r;

		snprintf(a, sizeof(a), "smtp:u@a.b.S%04u.example.org", i);
		r = dp_route_lookup(t, A(a));
		cr_assert(r != NULL && r->targets[0].conn_id == n + 1 + i);
	}
	fprintf(
	    stderr,
	    "route lookup, %u routes, uniformly random order, cycles per lookup: single hit %.0f, "
	    "bulk-32 hit %.0f, single miss %.0f\n",
	    n + 1000, (double)(c1 - c0) / n, (double)(c3 - c2) / n, (double)(c5 - c4) / n);
	free(addr);
	free(order);
	free(lens);
	free(res);
	dp_route_table_free(t);
	/* EAL may free start-up objects meanwhile: no growth is the test. */
	cr_assert_leq(heap_allocs(), heap0, "DPDK heap objects leaked: %u before, %u after", heap0,
		      heap_allocs());
}

/* ---- concurrency: rcutorture-style ages and a quarantine --------------------------- */

#define NPAT 48
#define MAXV (1u << 20)
#define QUAR 4096

static struct dp_route_table *ct;
static char pat_of[NPAT][40], addr_of[NPAT][48];
static uint32_t retire_gp[MAXV]; /* 0: published; else gp_count at retirement + 1 */
static uint8_t reclaimed[MAXV];
static uint64_t gp_count, n_reads, n_hits, n_reclaims;
static uint64_t errors;
static int stop;
static char first_error[200];

static struct dp_route *quarantine[QUAR];
static unsigned q_head;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;

static void ct_error(const char *what, uint32_t v, unsigned pat)
{
	if (__atomic_fetch_add(&errors, 1, __ATOMIC_RELAXED) == 0)
		snprintf(first_error, sizeof(first_error), "%s: version %u of pattern %u", what, v,
			 pat);
}

/* Runs after route.c decided the grace period is over: the object is
 * marked reclaimed and parked, not freed, so that a reader still holding
 * it reads the mark instead of freed memory. */
static void ct_reclaim(struct dp_route *r, void *arg)
{
	uint32_t v = r->targets[0].cost;

	__atomic_store_n(&reclaimed[v], 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&n_reclaims, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&q_lock);
	if (quarantine[q_head] != NULL)
		dp_route_release(quarantine[q_head]);
	quarantine[q_head] = r;
	q_head = (q_head + 1) % QUAR;
	pthread_mutex_unlock(&q_lock);
}

/* Checks a held route inside the read-side section that found it. */
static void ct_check(const struct dp_route *r, unsigned pat)
{
	uint32_t v = r->targets[0].cost, g;

	if (r->n_targets != 2 || r->targets[0].conn_id != pat + 1 ||
	    r->targets[1].conn_id != 1000 + pat || r->targets[1].cost != v + 1 || v == 0 ||
	    v >= MAXV) {
		ct_error("corrupt route", v, pat);
		return;
	}
	if (__atomic_load_n(&reclaimed[v], __ATOMIC_ACQUIRE))
		ct_error("reader holds a reclaimed route", v, pat);
	g = __atomic_load_n(&retire_gp[v], __ATOMIC_ACQUIRE);
	/* Two grace periods completed after retirement: the second began
	 * after it, so it must have waited for this reader. */
	if (g != 0 && __atomic_load_n(&gp_count, __ATOMIC_ACQUIRE) >= (uint64_t)g - 1 + 2)
		ct_error("reader holds a route older than a grace period", v, pat);
}

static uint64_t ct_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *ct_reader(void *arg)
{
	uint64_t s = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1, reads = 0, hits = 0;

	rcu_register_thread();
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		const struct dp_route *held[16];
		unsigned hp[16], k, nh = 0;

		if (s & 1) {
			for (k = 0; k < 16; k++) {
				unsigned p = ct_rand(&s) % NPAT;
				const struct dp_route *r = look(ct, addr_of[p]);

				reads++;
				if (r != NULL) {
					ct_check(r, p);
					held[nh] = r;
					hp[nh++] = p;
				}
			}
		} else {
			const uint8_t *a[16];
			uint16_t l[16];
			const struct dp_route *out[16];
			unsigned p[16];

			for (k = 0; k < 16; k++) {
				p[k] = ct_rand(&s) % NPAT;
				a[k] = (const uint8_t *)addr_of[p[k]];
				l[k] = (uint16_t)strlen(addr_of[p[k]]);
			}
			dp_route_lookup_bulk(ct, a, l, 16, out);
			reads += 16;
			for (k = 0; k < 16; k++) {
				if (out[k] != NULL) {
					ct_check(out[k], p[k]);
					held[nh] = out[k];
					hp[nh++] = p[k];
				}
			}
		}
		/* Still inside the section: everything held must still be
		 * alive, however long ago it was found. */
		for (k = 0; k < nh; k++)
			ct_check(held[k], hp[k]);
		hits += nh;
		rcu_quiescent_state();
		ct_rand(&s);
	}
	__atomic_fetch_add(&n_reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&n_hits, hits, __ATOMIC_RELAXED);
	rcu_unregister_thread();
	return NULL;
}

/* Only waits for grace periods, and counts them (the age clock). */
static void *ct_gp(void *arg)
{
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		synchronize_rcu();
		__atomic_fetch_add(&gp_count, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

Test(route, concurrent_replace_delete, .timeout = 300)
{
	const unsigned secs = env_uint("GWART_STRESS_SECONDS", 3);
	uint32_t cur[NPAT] = {0}, nextv = 0;
	uint64_t s = 12345, adds = 0, dels = 0, live = 0, deadline;
	pthread_t rd[2], gp;
	unsigned i;

	dp_route_set_reclaim_hook(ct_reclaim, NULL);
	ct = dp_route_table_create("rt_conc", NPAT, SOCKET_ID_ANY);
	cr_assert_not_null(ct);
	for (i = 0; i < NPAT; i++) {
		/* Exact and suffix routes; the suffix addresses also pass a
		 * miss on their exact candidate first. */
		if (i % 2 == 0) {
			snprintf(pat_of[i], sizeof(pat_of[i]), "h%02u.example.com", i);
			snprintf(addr_of[i], sizeof(addr_of[i]), "t:u@h%02u.example.com", i);
		} else {
			snprintf(pat_of[i], sizeof(pat_of[i]), "*.s%02u.example.com", i);
			snprintf(addr_of[i], sizeof(addr_of[i]), "t:u@q.s%02u.example.com", i);
		}
	}
	for (i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&rd[i], NULL, ct_reader, (void *)(uintptr_t)(i + 1)),
			     0);
	cr_assert_eq(pthread_create(&gp, NULL, ct_gp, NULL), 0);

	deadline = rte_rdtsc() + secs * rte_get_tsc_hz();
	while (rte_rdtsc() < deadline && nextv + 2 < MAXV) {
		unsigned p = ct_rand(&s) % NPAT;

		if (cur[p] == 0 ||
		    ct_rand(&s) % 20 != 0) { /* 5% deletes: each waits a grace period */
			uint32_t v = ++nextv;
			struct dp_route_target tg[2] = {{1000 + p, v + 1}, {p + 1, v}};

			cr_assert_eq(dp_route_add(ct, "t", pat_of[p], tg, 2), 0);
			if (cur[p] != 0)
				__atomic_store_n(
				    &retire_gp[cur[p]],
				    (uint32_t)__atomic_load_n(&gp_count, __ATOMIC_ACQUIRE) + 1,
				    __ATOMIC_RELEASE);
			cur[p] = v;
			adds++;
		} else {
			cr_assert_eq(dp_route_del(ct, "t", pat_of[p]), 0);
			/* del returns after the grace period and the reclaim. */
			cr_assert_eq(__atomic_load_n(&reclaimed[cur[p]], __ATOMIC_ACQUIRE), 1);
			cur[p] = 0;
			dels++;
		}
		/* The writer holds no route pointers between calls. */
		rcu_quiescent_state();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	rcu_thread_offline(); /* let the joined threads' grace periods end */
	for (i = 0; i < 2; i++)
		pthread_join(rd[i], NULL);
	pthread_join(gp, NULL);
	rcu_thread_online();

	for (i = 0; i < NPAT; i++) {
		cr_assert_eq(cur[i] != 0, look(ct, addr_of[i]) != NULL);
		live += cur[i] != 0;
	}
	dp_route_table_free(ct); /* includes rcu_barrier(): every reclaim ran */
	dp_route_set_reclaim_hook(NULL, NULL);
	for (i = 0; i < QUAR; i++)
		dp_route_release(quarantine[i]);
	fprintf(stderr,
		"route concurrency: %u s, %llu adds/replaces, %llu deletes, %llu grace periods, "
		"%llu reclaims, %llu reads (%llu hits), %llu errors\n",
		secs, (unsigned long long)adds, (unsigned long long)dels,
		(unsigned long long)gp_count, (unsigned long long)n_reclaims,
		(unsigned long long)n_reads, (unsigned long long)n_hits,
		(unsigned long long)errors);
	cr_assert_eq(errors, 0, "%s", first_error);
	cr_assert_gt(adds, 1000);
	cr_assert_gt(dels, 100);
	cr_assert_gt(gp_count, 10);
	cr_assert_gt(n_hits, 10000);
	/* Every replaced or deleted version was handed to the reclaim hook
	 * exactly once; those still published were freed by the table. */
	cr_assert_eq(n_reclaims, adds - live, "reclaims %llu, adds %llu, live %llu",
		     (unsigned long long)n_reclaims, (unsigned long long)adds,
		     (unsigned long long)live);
}
