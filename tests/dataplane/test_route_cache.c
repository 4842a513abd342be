/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker route cache (route.h: struct dp_route_cache,
 * dp_route_lookup_dests()): table-driven cases (hit, miss, no route, a slot
 * shared by two different keys, a stale generation after a publish: add,
 * replace, delete) and the same answers as the uncached index at 10 and
 * 1,000,000 routes. Every answer is compared with dp_route_lookup(), the
 * reference; hits are counted from the function's own return value.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <urcu-qsbr.h>

#include "route.h"
#include "route_match.h"

/* 1,000,000 route objects do not fit the common fixture's 256 MB. */
static void rc_eal_up(void)
{
	char *argv[] = {"test",	       "--no-huge",	    "-m", "1536", "--no-pci",
			"--no-shconf", "--log-level=error", "-l", "0",    NULL};

	cr_assert_geq(rte_eal_init((int)RTE_DIM(argv) - 1, argv), 0, "rte_eal_init: %s",
		      rte_strerror(rte_errno));
	rcu_register_thread();
}

static void rc_eal_down(void)
{
	rcu_barrier();
	rcu_unregister_thread();
	rte_eal_cleanup();
}

TestSuite(route_cache, .init = rc_eal_up, .fini = rc_eal_down);

static struct dp_route_cache *cache_new(void)
{
	struct dp_route_cache *rc = calloc(1, sizeof(*rc));

	cr_assert_not_null(rc);
	return rc;
}

/* Look one address up through the cache; *hit says whether the cache
 * answered. Also checks the answer against the uncached reference. */
static const struct dp_route *look1(const struct dp_route_table *t, struct dp_route_cache *rc,
				    const char *addr, int *hit)
{
	struct dp_rm_dest d;
	const struct dp_rm_dest *dp[1] = {&d};
	const struct dp_route *out[1];

	cr_assert_eq(dp_rm_dest_parse_k(dp_route_key_secret(), &d, (const uint8_t *)addr, strlen(addr)), 0, "%s", addr);
	*hit = (int)dp_route_lookup_dests(t, rc, dp, 1, out);
	cr_assert_eq(out[0], dp_route_lookup(t, (const uint8_t *)addr, strlen(addr)),
		     "%s: cached answer differs from the index's", addr);
	return out[0];
}

static uint64_t slot_of(const char *addr)
{
	struct dp_rm_dest d;

	cr_assert_eq(dp_rm_dest_parse_k(dp_route_key_secret(), &d, (const uint8_t *)addr, strlen(addr)), 0);
	return d.key.hi & (DP_ROUTE_CACHE_ENTRIES - 1);
}

enum { LOOK, ADD, DEL };

struct rc_step {
	int op;
	const char *type, *pat; /* ADD, DEL */
	uint32_t conn;		/* ADD: the one target; LOOK: expected target, 0: no route */
	const char *addr;	/* LOOK */
	int hit;		/* LOOK: the cache must answer (1) or miss (0) */
};

#define L(a, c, h) {LOOK, NULL, NULL, c, a, h}
#define ADDR(ty, p, c) {ADD, ty, p, c, NULL, 0}
#define DELR(ty, p) {DEL, ty, p, 0, NULL, 0}

/* @collide (in steps as "@A" and "@B") are two addresses of one cache slot
 * with different keys, found at run time. */
static const struct rc_step steps[] = {
    /* 1. miss fills, the same key then hits: any user, any case of one
     *    domain is one destination */
    ADDR("smtp", "x.acme.com", 1),
    L("smtp:a@x.acme.com", 1, 0),
    L("smtp:a@x.acme.com", 1, 1),
    L("SMTP:Bob@X.ACME.COM", 1, 1),
    L("smtp:x.acme.com", 1, 1),
    /* 2. no route is an answer too, and cached */
    L("smtp:a@none.org", 0, 0),
    L("smtp:a@none.org", 0, 1),
    L("notes:a@x.acme.com", 0, 0), /* another type: another key */
    /* 3. a publish moves the generation: every entry is stale, the next
     *    lookup sees the new route (a suffix that now covers none.org's
     *    sibling, and "*" that covers none.org) */
    ADDR("smtp", "*.org", 2),
    L("smtp:a@none.org", 2, 0),
    L("smtp:a@none.org", 2, 1),
    L("smtp:a@x.acme.com", 1, 0), /* stale too, though its answer is unchanged */
    L("smtp:a@x.acme.com", 1, 1),
    /* 4. replace: a new object for the same route */
    ADDR("smtp", "x.acme.com", 3),
    L("smtp:a@x.acme.com", 3, 0),
    L("smtp:a@x.acme.com", 3, 1),
    /* 5. a more specific route appears for a cached destination */
    ADDR("smtp", "none.org", 4),
    L("smtp:a@none.org", 4, 0),
    L("smtp:a@none.org", 4, 1),
    /* 6. route removed: the cached pointer is never used again */
    DELR("smtp", "x.acme.com"),
    L("smtp:a@x.acme.com", 0, 0),
    L("smtp:a@x.acme.com", 0, 1),
    DELR("smtp", "none.org"),
    L("smtp:a@none.org", 2, 0),
    /* 7. one slot, two keys: each evicts the other, neither answers for
     *    the other */
    ADDR("smtp", "*", 5),
    L("@A", 5, 0),
    L("@A", 5, 1),
    L("@B", 5, 0),
    L("@A", 5, 0),
    L("@A", 5, 1),
    ADDR("smtp", "*.b.example", 6), /* @B's domain ends in .b.example */
    L("@B", 6, 0),
    L("@A", 5, 0),
    L("@B", 6, 0),
};

Test(route_cache, table)
{
	struct dp_route_table *t = dp_route_table_create("rc_table", 64, SOCKET_ID_ANY);
	struct dp_route_cache *rc = cache_new();
	char a[64], b[64];
	unsigned i;

	cr_assert_not_null(t);
	/* Two addresses of one slot with different keys (birthday: a few
	 * thousand tries at most). */
	snprintf(a, sizeof(a), "smtp:u@h0.a.example");
	for (i = 1;; i++) {
		snprintf(b, sizeof(b), "smtp:u@h%u.b.example", i);
		if (slot_of(b) == slot_of(a))
			break;
		cr_assert_lt(i, 10000000u);
	}
	for (i = 0; i < RTE_DIM(steps); i++) {
		const struct rc_step *s = &steps[i];
		struct dp_route_target tg = {s->conn, 1};
		const struct dp_route *r;
		const char *addr;
		int hit;

		switch (s->op) {
		case ADD:
			cr_assert_eq(dp_route_add(t, s->type, s->pat, &tg, 1), 0, "step %u", i);
			break;
		case DEL:
			cr_assert_eq(dp_route_del(t, s->type, s->pat), 0, "step %u", i);
			break;
		default:
			addr = strcmp(s->addr, "@A") == 0 ? a : strcmp(s->addr, "@B") == 0 ? b : s->addr;
			r = look1(t, rc, addr, &hit);
			if (s->conn == 0)
				cr_assert_null(r, "step %u (%s)", i, addr);
			else
				cr_assert(r != NULL && r->targets[0].conn_id == s->conn,
					  "step %u (%s): want target %u", i, addr, s->conn);
			cr_assert_eq(hit, s->hit, "step %u (%s): want %s", i, addr,
				     s->hit ? "a hit" : "a miss");
			break;
		}
		/* What the worker does between bursts; the writer's
		 * synchronize_rcu() in dp_route_del() needs it too. */
		rcu_quiescent_state();
	}
	free(rc);
	dp_route_table_free(t);
}

/* A zeroed cache is empty, and one table's entries never answer for
 * another table (generations are unique in the process). */
Test(route_cache, empty_and_two_tables)
{
	struct dp_route_table *t1 = dp_route_table_create("rc_t1", 16, SOCKET_ID_ANY);
	struct dp_route_table *t2 = dp_route_table_create("rc_t2", 16, SOCKET_ID_ANY);
	struct dp_route_cache *rc = cache_new();
	struct dp_route_target a = {1, 1}, b = {2, 1};
	const struct dp_route *r;
	int hit;

	cr_assert(t1 != NULL && t2 != NULL);
	cr_assert_neq(dp_route_generation(t1), dp_route_generation(t2));
	cr_assert_eq(dp_route_add(t1, "smtp", "x.com", &a, 1), 0);
	cr_assert_eq(dp_route_add(t2, "smtp", "x.com", &b, 1), 0);
	r = look1(t1, rc, "smtp:x.com", &hit);
	cr_assert(r != NULL && r->targets[0].conn_id == 1 && !hit);
	r = look1(t2, rc, "smtp:x.com", &hit);
	cr_assert(r != NULL && r->targets[0].conn_id == 2 && !hit);
	r = look1(t2, rc, "smtp:x.com", &hit);
	cr_assert(r != NULL && r->targets[0].conn_id == 2 && hit);
	free(rc);
	dp_route_table_free(t1);
	dp_route_table_free(t2);
}

static void xorshift(uint64_t *x) { *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17; }

/*
 * n exact routes plus 100 suffix routes; every route's address and as many
 * addresses without a route, in random order, in bursts of 32 through one
 * cache: each answer equals the index's. Then a hot set of destinations of
 * distinct slots, looked up twice: the second pass is all hits, and still
 * right.
 */
static void at_scale(unsigned n)
{
	struct dp_route_table *t = dp_route_table_create("rc_scale", n + 100, SOCKET_ID_ANY);
	struct dp_route_cache *rc = cache_new();
	const unsigned na = 2 * n;
	char(*addr)[48] = malloc((size_t)na * sizeof(*addr));
	uint32_t *order = malloc((size_t)na * sizeof(*order));
	uint8_t *used = calloc(DP_ROUTE_CACHE_ENTRIES, 1);
	struct dp_rm_dest *d = malloc(32 * sizeof(*d));
	uint64_t x = 0x9E3779B97F4A7C15ull;
	unsigned i, j, k, m, hits, nhot = 0;
	uint32_t hot[1024];
	char pat[48];

	cr_assert(t != NULL && addr != NULL && order != NULL && used != NULL && d != NULL);
	for (i = 0; i < n; i++) {
		struct dp_route_target tg = {i % 60000 + 1, 1};

		snprintf(pat, sizeof(pat), "d%07u.example.com", i);
		cr_assert_eq(dp_route_add(t, "smtp", pat, &tg, 1), 0, "route %u", i);
		snprintf(addr[i], sizeof(addr[i]), "smtp:user@D%07u.example.com", i);
		/* half of the others fall to a suffix route, half have none */
		snprintf(addr[n + i], sizeof(addr[n + i]), "smtp:u@m%u.s%03u.example.%s", i,
			 i % 200, i & 1 ? "org" : "net");
	}
	for (i = 0; i < 100; i++) {
		struct dp_route_target tg = {60001 + i, 1};

		snprintf(pat, sizeof(pat), "*.s%03u.example.org", i);
		cr_assert_eq(dp_route_add(t, "smtp", pat, &tg, 1), 0);
	}
	for (i = 0; i < na; i++)
		order[i] = i;
	for (i = na - 1; i > 0; i--) {
		uint32_t tmp;

		xorshift(&x);
		j = (unsigned)(x % (i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < na; i += 32) {
		const struct dp_rm_dest *dp[32];
		const struct dp_route *out[32];

		m = na - i < 32 ? na - i : 32;
		for (k = 0; k < m; k++) {
			const char *s = addr[order[i + k]];

			cr_assert_eq(dp_rm_dest_parse_k(dp_route_key_secret(), &d[k], (const uint8_t *)s, strlen(s)), 0);
			dp[k] = &d[k];
		}
		dp_route_lookup_dests(t, rc, dp, m, out);
		for (k = 0; k < m; k++) {
			const char *s = addr[order[i + k]];

			if (out[k] != dp_route_lookup(t, (const uint8_t *)s, strlen(s)))
				cr_assert_fail("%u routes: %s: cached answer differs", n, s);
		}
		rcu_quiescent_state();
	}
	/* The hot set: destinations of distinct slots, routed or not. */
	for (i = 0; i < na && nhot < RTE_DIM(hot); i++) {
		uint64_t s = slot_of(addr[order[i]]);

		if (!used[s]) {
			used[s] = 1;
			hot[nhot++] = order[i];
		}
	}
	for (j = 0; j < 2; j++) {
		hits = 0;
		for (i = 0; i < nhot; i++) {
			int hit;

			look1(t, rc, addr[hot[i]], &hit);
			hits += (unsigned)hit;
		}
		if (j == 1)
			cr_assert_eq(hits, nhot, "%u routes: %u of %u hot destinations hit", n,
				     hits, nhot);
		rcu_quiescent_state();
	}
	cr_assert_geq(nhot, n < 1000 ? 10 : 1000);
	free(d);
	free(used);
	free(order);
	free(addr);
	free(rc);
	dp_route_table_free(t);
}

Test(route_cache, ten_routes) { at_scale(10); }

Test(route_cache, million_routes, .timeout = 600) { at_scale(1000000); }

/* The route index's process has a random key secret from before main()
 * (route.c): its keys differ from the public (no-secret) keys anyone can
 * compute, so no destination can be crafted offline to collide with
 * another's in the cache; and lookups through the cache agree with the
 * index only when the destination is keyed with it. */
Test(route_cache, key_secret_is_random)
{
	static const uint8_t t[] = "smtp", dom[] = "acme.com";
	struct dp_rm_key k = dp_rm_key_k(dp_route_key_secret(), t, 4, DP_ROUTE_EXACT, dom, 8);
	struct dp_rm_key z = dp_rm_key(t, 4, DP_ROUTE_EXACT, dom, 8);

	cr_assert(k.lo != z.lo || k.hi != z.hi, "the route index's process uses the public keys");
}
