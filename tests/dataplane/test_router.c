/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Router lifecycle tests: two routers in one process (their DPDK objects
 * carry per-router name prefixes), each created, used by running workers,
 * stopped and freed on its own; and the prefix's error paths.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <gwart/auth.h>

#include "conn.h"
#include "eal.h"
#include "lcore.h"
#include "route.h"
#include "router_api.h"

TestSuite(router, .init = test_eal_up_workers, .fini = test_eal_down);

static struct dp_router *router_new(const char *prefix, int *err)
{
	struct dp_router_params p = {
	    .nb_mbuf = 511,
	    .mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
	    .udp_port = 9000,
	    .max_routes = 64,
	    .prefix = prefix,
	};

	*err = 0;
	return dp_router_create(&p, err);
}

static int named(const char *prefix, const char *what)
{
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "%s_%s", prefix, what);
	if (strcmp(what, "pool") == 0)
		return rte_mempool_lookup(name) != NULL;
	return rte_ring_lookup(name) != NULL;
}

static uint64_t loops(const struct dp_router *rt)
{
	struct dp_worker_stats s;

	dp_router_stats(rt, &s);
	return s.loops;
}

/* Start @rt's workers, see them loop and answer a delete (the owner's
 * acknowledgement comes from this router's workers only), stop them. */
static void exercise(struct dp_router *rt, uint32_t id)
{
	struct dp_route_target tg = {.conn_id = id, .cost = 1};
	struct dp_conn_session s = {.rx_window = 16, .nonce = id, .epoch = 0x5e550000u + id};
	uint64_t before, deadline;
	uint32_t epoch = 0;

	/* v2: a session has keys (its cryptodev pair lives in this router's
	 * own device). */
	gw_random_bytes(s.salt, sizeof(s.salt));
	gw_random_bytes(&s.keys, sizeof(s.keys));
	cr_assert_eq(dp_conn_create(rt, id, "c"), 0);
	cr_assert_eq(dp_conn_session_up(rt, id, &s, &epoch), 0);
	gw_auth_wipe(&s.keys, sizeof(s.keys));
	cr_expect_eq(epoch, 0x5e550000u + id);
	cr_expect_not_null(dp_conn_peek(rt, id)->auth);
	cr_assert_eq(dp_route_add(rt->routes, "t", "x.example", &tg, 1), 0);
	cr_assert_eq(dp_router_set_refuse(rt, 1), 0);
	cr_expect_eq(rt->tun->refuse_new, 1);
	before = loops(rt);
	cr_assert_eq(dp_router_start(rt), 0);
	deadline = rte_get_tsc_cycles() + 5 * rte_get_tsc_hz();
	while (loops(rt) < before + 1000 && rte_get_tsc_cycles() < deadline) {
		rcu_quiescent_state();
		rte_pause();
	}
	cr_expect_geq(loops(rt), before + 1000, "workers run");
	cr_expect_eq(dp_conn_delete(rt, id, NULL), 0, "its workers acknowledge");
	cr_assert_eq(dp_conn_create(rt, id + 1, "d"), 0);
	rcu_thread_offline(); /* workers' last grace periods need not wait for us */
	dp_router_stop(rt);
	rcu_thread_online();
	cr_expect_eq(dp_route_del(rt->routes, "t", "x.example"), 0);
}

Test(router, two_in_one_process)
{
	struct dp_router *a, *b;
	int err;

	a = router_new(NULL, &err);
	cr_assert_not_null(a, "first router: %d", err);
	b = router_new(NULL, &err);
	cr_assert_not_null(b, "second router: %d", err);
	cr_expect_str_eq(a->prefix, "gw", "the first router keeps the historic names");
	cr_expect_str_neq(a->prefix, b->prefix);
	cr_expect(named(a->prefix, "pool") && named(b->prefix, "pool"));
	cr_expect(named(a->prefix, "ctl") && named(b->prefix, "ctl"));
	cr_expect(named(b->prefix, "ctl_cmd2") && named(b->prefix, "ctl_tx0"));
	cr_expect(a->auth_dev >= 0 && b->auth_dev >= 0, "each has its cryptodev");
	cr_expect_neq(a->auth_dev, b->auth_dev);
	cr_expect_neq(a->auth_pool, b->auth_pool);
	cr_expect_neq(a->pool, b->pool);
	cr_expect_neq(a->ctl_ring, b->ctl_ring);
	cr_expect_neq(a->routes, b->routes);

	/* Same connector id in both: separate objects and states. */
	cr_assert_eq(dp_conn_create(a, 7, "a7"), 0);
	cr_assert_eq(dp_conn_create(b, 7, "b7"), 0);
	cr_expect_str_eq(dp_conn_peek(a, 7)->name, "a7");
	cr_expect_str_eq(dp_conn_peek(b, 7)->name, "b7");
	cr_expect_neq(dp_conn_peek(a, 7)->st, dp_conn_peek(b, 7)->st);

	/* Workers of one router at a time: both routers share the lcores. */
	exercise(a, 10);
	exercise(b, 20);
	exercise(a, 30);
	cr_expect_eq(dp_conn_count(a), 3);
	cr_expect_eq(dp_conn_count(b), 2);

	cr_expect_eq(dp_router_free(a), 0);
	cr_expect_not(named("gw", "pool"), "freed with its router");
	cr_expect(named(b->prefix, "pool"), "the other router is untouched");
	cr_expect_str_eq(dp_conn_peek(b, 7)->name, "b7");
	{
		char pb[DP_ROUTER_PREFIX_LEN];

		strcpy(pb, b->prefix);
		cr_expect_eq(dp_router_free(b), 0);
		cr_expect_not(named(pb, "pool"));
		cr_expect_not(named(pb, "ctl"));
	}
}

Test(router, prefix_errors)
{
	struct dp_router *a, *b;
	int err;

	a = router_new("mine", &err);
	cr_assert_not_null(a, "%d", err);
	cr_expect_str_eq(a->prefix, "mine");
	cr_expect(named("mine", "pool"));
	b = router_new("mine", &err);
	cr_expect_null(b, "a prefix in use");
	cr_expect_eq(err, -EEXIST);
	b = router_new("ninechars", &err);
	cr_expect_null(b);
	cr_expect_eq(err, -EINVAL);
	b = router_new("eightchr", &err);
	cr_expect_not_null(b, "DP_ROUTER_PREFIX_MAX characters fit: %d", err);
	if (b != NULL)
		cr_expect_eq(dp_router_free(b), 0);
	cr_expect_eq(dp_router_free(a), 0);
	/* The name is free again. */
	a = router_new("mine", &err);
	cr_expect_not_null(a, "%d", err);
	if (a != NULL)
		cr_expect_eq(dp_router_free(a), 0);
}

/* No silent insecure mode: a router whose cryptodev could not be created
 * does not start (and says why), nor does it take a session. */
Test(router, no_auth_device_no_start)
{
	struct dp_conn_session s = {.rx_window = 16, .nonce = 1, .epoch = 9};
	struct dp_router *rt;
	int err, dev;

	rt = router_new(NULL, &err);
	cr_assert_not_null(rt, "%d", err);
	dev = rt->auth_dev;
	rt->auth_dev = -ENODEV; /* as dp_auth_dev_open() leaves it on failure */
	cr_expect_eq(dp_router_start(rt), -ENODEV);
	cr_expect_eq(loops(rt), 0, "no worker ran");
	cr_assert_eq(dp_conn_create(rt, 3, "c"), 0);
	cr_expect_eq(dp_conn_session_up(rt, 3, &s, NULL), -ENODEV);
	cr_expect_not(dp_conn_peek(rt, 3)->up);
	rt->auth_dev = dev;
	cr_expect_eq(dp_router_free(rt), 0);
}

/* The pool gwartd sizes when --mbufs is not given: every port queue and
 * lcore cache full at once is the floor, twice it the default, 2^k - 1. */
Test(router, pool_size_from_ports_and_workers)
{
	static const struct {
		unsigned ports, workers, min, def;
	} cases[] = {
		/* 1 x (1 x 1024 + 2 x 1024) + 2 x 384 */
		{1, 1, 3840, 16383},           /* the development host: the old default */
		{1, 3, 8704, 32767},
		/* the production example: 2 x (12 x 1024 + 13 x 1024) + 13 x 384 */
		{2, 12, 56192, 131071},
		{0, 1, 768, 16383},
		{8, 127, 2138112, 8388607},
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(dp_router_pool_min(cases[i].ports, cases[i].workers), cases[i].min,
			     "case %u: min %u", i, dp_router_pool_min(cases[i].ports, cases[i].workers));
		cr_expect_eq(dp_router_pool_default(cases[i].ports, cases[i].workers), cases[i].def,
			     "case %u: default %u", i,
			     dp_router_pool_default(cases[i].ports, cases[i].workers));
	}
}
