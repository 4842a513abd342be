/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connector lifecycle tests (dataplane/conn.c): the id walk and count over a
 * numbered table of ids at the bitmap's word and group edges, every error
 * path of create, republish and delete, and an rcutorture for connector
 * objects and their session state.
 *
 * The torture follows liburcu's tests/regression/rcutorture.h: readers on
 * every worker lcore (four lcores on two CPUs, so preemption lands
 * anywhere) look connectors up with dp_conn_get() and hold them through a
 * read-side section while the control thread creates, republishes (session
 * up, refresh, down, enable, disable) and deletes them without pause. Every
 * object is allocated through the test hooks with a header that carries its
 * age: 0 when it is unlinked, bumped after every grace period a second
 * thread completes. A reader that sees age > 1, or a freed object, inside
 * its section has caught a use-after-free. At the end every object
 * allocated must have been freed, every unlinked one exactly once.
 *
 * Short by default (GWART_TORTURE_SECONDS, 5 s); the long setting, under the
 * sanitizer build, is 600 s or more:
 *   GWART_TORTURE_SECONDS=600 meson test -C build-san conn -t 0
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_pause.h>
#include <rte_ring.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "conn.h"
#include "conn_state.h"
#include "eal.h"
#include "lcore.h"
#include "router_api.h"

TestSuite(conn, .init = test_eal_up_workers, .fini = test_eal_down);

static unsigned env_uint(const char *name, unsigned def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? (unsigned)strtoul(v, NULL, 10) : def;
}

static struct dp_router *router_new(void)
{
	struct dp_router_params p = {
	    .nb_mbuf = 511,
	    .mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
	    .udp_port = 9000,
	    .max_routes = 64,
	};
	struct dp_router *rt;
	int err = 0;

	rt = dp_router_create(&p, &err);
	cr_assert_not_null(rt, "dp_router_create: %d", err);
	cr_assert_eq(rt->n_workers, 3, "four lcores: three workers");
	return rt;
}

/* ---- owner workers: the readers of the torture, and the acknowledgement
 * that dp_conn_delete() waits for in every test ---------------------------- */

static struct dp_router *rd_rt;
static int rd_stop;
static const uint32_t *rd_ids;
static unsigned rd_n_ids;
static uint64_t rd_reads, rd_hits;

static void tt_check_conn(const struct dp_conn *c, uint32_t id);

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int owner_main(void *arg)
{
	struct dp_lcore *lc = arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (lc->idx + 1), reads = 0, hits = 0;

	rcu_register_thread();
	while (!__atomic_load_n(&rd_stop, __ATOMIC_ACQUIRE)) {
		const struct dp_conn *held[8];
		uint32_t hid[8];
		unsigned k, nh = 0, spin;

		/* Nothing from the previous section is referenced any more. */
		rcu_quiescent_state();
		dp_conn_owner_retire(lc);
		if (rd_n_ids == 0)
			continue;
		for (k = 0; k < 8; k++) {
			uint32_t id = rd_ids[xs(&s) % rd_n_ids];
			const struct dp_conn *c = dp_conn_get(rd_rt, id);

			reads++;
			if (c != NULL) {
				tt_check_conn(c, id);
				held[nh] = c;
				hid[nh++] = id;
			}
		}
		/* Stretch the section so that updates land inside it. */
		for (spin = (unsigned)(xs(&s) % 512); spin != 0; spin--)
			rte_pause();
		for (k = 0; k < nh; k++)
			tt_check_conn(held[k], hid[k]);
		hits += nh;
	}
	__atomic_fetch_add(&rd_reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&rd_hits, hits, __ATOMIC_RELAXED);
	rcu_unregister_thread();
	return 0;
}

static void owners_start(struct dp_router *rt, const uint32_t *ids, unsigned n_ids)
{
	unsigned w;

	rd_rt = rt;
	rd_ids = ids;
	rd_n_ids = n_ids;
	__atomic_store_n(&rd_stop, 0, __ATOMIC_RELEASE);
	for (w = 0; w < rt->n_workers; w++)
		cr_assert_eq(rte_eal_remote_launch(owner_main, rt->lcores[w], rt->worker_lcore[w]),
			     0);
}

static void owners_stop(void)
{
	__atomic_store_n(&rd_stop, 1, __ATOMIC_RELEASE);
	rcu_thread_offline(); /* the owners' last grace periods need not wait for us */
	rte_eal_mp_wait_lcore();
	rcu_thread_online();
}

/* ---- the id walk ---------------------------------------------------------- */

static void expect_walk(const struct dp_router *rt, const uint32_t *want, unsigned n)
{
	uint32_t id;
	unsigned i = 0;

	for (id = dp_conn_next(rt, 0); id != 0; id = dp_conn_next(rt, id)) {
		cr_assert_lt(i, n, "walk found %u beyond the %u expected", id, n);
		cr_expect_eq(id, want[i], "walk step %u: %u, want %u", i, id, want[i]);
		i++;
	}
	cr_expect_eq(i, n, "walk found %u of %u", i, n);
	cr_expect_eq(dp_conn_count(rt), n);
}

/* Ids at every edge of the bitmap: first id, word edges (63/64), group
 * edges (4095/4096: one summary word covers 64 * 64 ids), the last id. */
static const uint32_t edge_ids[] = {1, 63, 64, 4095, 4096, 65535};

Test(conn, next_and_count_table)
{
	static const struct {
		uint32_t after, next; /* with every edge id present */
	} step[] = {
	    {0, 1},	   {1, 63},	   {2, 63},	 {62, 63},     {63, 64},
	    {64, 4095},	   {65, 4095},	   {4094, 4095}, {4095, 4096}, {4096, 65535},
	    {4097, 65535}, {65534, 65535}, {65535, 0},	 {65536, 0},   {UINT32_MAX, 0},
	};
	/* Deletes in the middle, one at a time, and what the walk is after. */
	static const struct {
		uint32_t del;
		uint32_t left[6];
		unsigned n;
	} del[] = {
	    {64, {1, 63, 4095, 4096, 65535}, 5},
	    {4095, {1, 63, 4096, 65535}, 4},
	    {1, {63, 4096, 65535}, 3},
	    {65535, {63, 4096}, 2},
	    {63, {4096}, 1},
	    {4096, {0}, 0},
	};
	struct dp_router *rt = router_new();
	unsigned i;

	owners_start(rt, NULL, 0);
	expect_walk(rt, NULL, 0);
	cr_expect_eq(dp_conn_next(rt, 0), 0);
	/* Created out of order: the walk is by id. */
	for (i = RTE_DIM(edge_ids); i-- > 0;) {
		char name[16];

		snprintf(name, sizeof(name), "c%u", edge_ids[i]);
		cr_assert_eq(dp_conn_create(rt, edge_ids[i], name), 0, "create %u", edge_ids[i]);
	}
	expect_walk(rt, edge_ids, RTE_DIM(edge_ids));
	for (i = 0; i < RTE_DIM(step); i++)
		cr_expect_eq(dp_conn_next(rt, step[i].after), step[i].next,
			     "case %u: next(%u) = %u, want %u", i, step[i].after,
			     dp_conn_next(rt, step[i].after), step[i].next);
	for (i = 0; i < RTE_DIM(del); i++) {
		cr_assert_eq(dp_conn_delete(rt, del[i].del, NULL), 0, "case %u: delete %u", i,
			     del[i].del);
		expect_walk(rt, del[i].left, del[i].n);
	}
	/* A word that empties and fills again keeps its summary bit right. */
	cr_assert_eq(dp_conn_create(rt, 64, "again"), 0);
	cr_assert_eq(dp_conn_create(rt, 127, "same-word"), 0);
	cr_assert_eq(dp_conn_delete(rt, 64, NULL), 0);
	expect_walk(rt, (const uint32_t[]){127}, 1);
	owners_stop();
	cr_expect_eq(dp_router_free(rt), 0);
}

/* ---- error paths ---------------------------------------------------------- */

Test(conn, create_errors)
{
	struct dp_router *rt = router_new();
	char name[40];

	cr_expect_eq(dp_conn_create(rt, 0, "zero"), -EINVAL);
	cr_expect_eq(dp_conn_create(rt, DP_MAX_CONNECTORS, "big"), -EINVAL);
	cr_expect_eq(dp_conn_create(rt, 5, NULL), -EINVAL);
	memset(name, 'n', sizeof(name));
	name[32] = '\0'; /* one too long for dp_conn.name */
	cr_expect_eq(dp_conn_create(rt, 5, name), -EINVAL);
	cr_expect_eq(dp_conn_count(rt), 0);
	name[31] = '\0';
	cr_expect_eq(dp_conn_create(rt, 5, name), 0);
	cr_expect_str_eq(dp_conn_peek(rt, 5)->name, name);
	cr_expect_eq(dp_conn_create(rt, 5, "again"), -EEXIST);
	cr_expect_str_eq(dp_conn_peek(rt, 5)->name, name, "a refused create changes nothing");
	cr_expect_eq(dp_conn_count(rt), 1);
	cr_expect_eq(dp_router_free(rt), 0);
}

Test(conn, republish_errors)
{
	struct dp_router *rt = router_new();
	struct dp_conn_session s = {.port = 0, .rx_window = 0, .nonce = 7, .hello_seq = 1};
	struct dp_conn_snap snap;
	uint32_t epoch = 99;

	cr_assert_eq(dp_conn_create(rt, 9, "c9"), 0);
	cr_expect_eq(dp_conn_session_up(rt, 9, &s, &epoch), -EINVAL, "zero window");
	cr_expect_eq(epoch, 99);
	s.rx_window = 64;
	cr_expect_eq(dp_conn_session_up(rt, 0, &s, NULL), -EINVAL);
	cr_expect_eq(dp_conn_session_up(rt, 10, &s, NULL), -ENOENT);
	cr_expect_eq(dp_conn_session_refresh(rt, 0, 1), -EINVAL);
	cr_expect_eq(dp_conn_session_refresh(rt, 10, 1), -ENOENT);
	cr_expect_eq(dp_conn_session_down(rt, DP_MAX_CONNECTORS), -EINVAL);
	cr_expect_eq(dp_conn_session_down(rt, 10), -ENOENT);
	cr_expect_eq(dp_conn_set_enabled(rt, 0, 1), -EINVAL);
	cr_expect_eq(dp_conn_set_enabled(rt, 10, 1), -ENOENT);
	cr_expect_eq(dp_conn_snapshot(rt, 10, &snap), -ENOENT);
	cr_expect_eq(dp_conn_snapshot(rt, 0, &snap), -ENOENT);
	cr_expect_null(dp_conn_peek(rt, 10));
	/* The good path republishes a new object over the same state. */
	{
		const struct dp_conn *before = dp_conn_peek(rt, 9);
		const struct dp_conn *after;

		cr_expect_eq(dp_conn_session_up(rt, 9, &s, &epoch), 0);
		after = dp_conn_peek(rt, 9);
		cr_expect_neq(after, before);
		cr_expect_eq(after->st, before->st);
		cr_expect_eq(epoch, 1);
		cr_expect(after->up);
		cr_expect_eq(dp_conn_session_refresh(rt, 9, 5), 0);
		cr_expect_eq(dp_conn_peek(rt, 9)->hello_seq, 5);
		cr_expect_eq(dp_conn_session_refresh(rt, 9, 3), 0, "never lowered");
		cr_expect_eq(dp_conn_peek(rt, 9)->hello_seq, 5);
		cr_expect_eq(dp_conn_peek(rt, 9)->epoch, 1, "refresh keeps the epoch");
		cr_expect_eq(dp_conn_set_enabled(rt, 9, 0), 0);
		cr_expect_not(dp_conn_peek(rt, 9)->enabled);
		cr_expect_eq(dp_conn_session_down(rt, 9), 0);
		cr_expect_not(dp_conn_peek(rt, 9)->up);
		cr_expect_eq(dp_conn_snapshot(rt, 9, &snap), 0);
		cr_expect_eq(snap.held, 0);
	}
	cr_expect_eq(dp_router_free(rt), 0);
}

/* The classic lifetime bug first: an object deleted twice. Then what
 * delete refuses. */
Test(conn, delete_errors)
{
	struct dp_router *rt = router_new();
	struct dp_conn_state *st;
	struct rte_mbuf *m;
	unsigned lost = 77, owner, i;
	void *dummy = &lost;

	owners_start(rt, NULL, 0);
	cr_expect_eq(dp_conn_delete(rt, 0, &lost), -ENOENT);
	cr_expect_eq(lost, 0);
	cr_expect_eq(dp_conn_delete(rt, 3, NULL), -ENOENT);
	cr_assert_eq(dp_conn_create(rt, 3, "c3"), 0);
	cr_expect_eq(dp_conn_delete(rt, 3, &lost), 0);
	cr_expect_eq(lost, 0);
	cr_expect_eq(dp_conn_delete(rt, 3, &lost), -ENOENT, "deleted twice");
	cr_expect_null(dp_conn_peek(rt, 3));
	/* The id comes back with a fresh state. */
	cr_assert_eq(dp_conn_create(rt, 3, "c3"), 0);
	st = dp_conn_peek(rt, 3)->st;
	cr_expect_eq(st->retired, 0);
	cr_expect_eq(st->stats.routed, 0);

	/* Custody not empty: refused, nothing changed. */
	m = rte_pktmbuf_alloc(test_pool);
	cr_assert_not_null(m);
	cr_assert_neq(dp_custody_put(st->cust, m, 1024), 0);
	cr_expect_eq(dp_conn_delete(rt, 3, &lost), -EBUSY);
	cr_expect_eq(dp_conn_peek(rt, 3)->st, st);
	cr_expect_eq(dp_conn_count(rt), 1);
	owners_stop();

	/* The owner's command ring full (a stuck worker): refused before
	 * anything is unpublished. */
	cr_assert_eq(dp_conn_create(rt, 4, "c4"), 0);
	owner = dp_conn_peek(rt, 4)->owner;
	for (i = 0; rte_ring_sp_enqueue(rt->ctl_cmd[owner], dummy) == 0; i++)
		;
	cr_expect_eq(i, 63);
	cr_expect_eq(dp_conn_delete(rt, 4, &lost), -EAGAIN);
	cr_expect_not_null(dp_conn_peek(rt, 4));
	cr_expect_eq(dp_conn_next(rt, 3), 4);
	cr_expect_eq(dp_conn_count(rt), 2);
	while (rte_ring_sc_dequeue(rt->ctl_cmd[owner], &dummy) == 0)
		;

	/* No owner answers: the connector is gone, its state leaked rather
	 * than freed under a worker that may still hold it. */
	cr_expect_eq(dp_conn_delete(rt, 4, &lost), -ETIMEDOUT);
	cr_expect_null(dp_conn_peek(rt, 4));
	cr_expect_eq(dp_conn_count(rt), 1);

	/* Shutdown frees the message still in custody and says so. */
	cr_expect_eq(dp_router_free(rt), 1);
}

/* ---- rcutorture ----------------------------------------------------------- */

#define TT_MAGIC_LIVE 0x6c697665u
#define TT_MAGIC_DEAD 0x64656164u
#define TT_AGE_FREED 1000u
#define TT_QUARANTINE 512 /* freed objects kept poisoned before free() */

/* Precedes every object the hooks hand out. */
struct tt_hdr {
	uint32_t magic;
	uint32_t kind;
	uint32_t age; /* grace periods completed since unlinked */
	uint32_t unlinked;
	struct tt_hdr *prev, *next; /* the unlinked, not yet freed */
} __rte_cache_aligned;

static pthread_mutex_t tt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tt_hdr tt_aging = {.prev = &tt_aging, .next = &tt_aging};
static struct tt_hdr *tt_quar[TT_QUARANTINE];
static unsigned tt_quar_next;
static int tt_on;
static uint64_t tt_allocs, tt_unlinks, tt_frees, tt_frees_unlinked, tt_gps, tt_errors;
static uint32_t tt_max_age;
static char tt_first_error[160];

static struct tt_hdr *tt_hdr_of(const void *obj)
{
	return (struct tt_hdr *)((uintptr_t)obj - sizeof(struct tt_hdr));
}

static void tt_error(const char *what, uint32_t id)
{
	if (__atomic_fetch_add(&tt_errors, 1, __ATOMIC_RELAXED) == 0)
		snprintf(tt_first_error, sizeof(tt_first_error), "%s (connector %u)", what, id);
}

static void *tt_alloc(void *arg, enum dp_conn_obj kind, size_t size)
{
	void *mem;
	struct tt_hdr *h;

	if (arg != NULL) /* the failing allocator of create_enomem */
		return NULL;
	if (posix_memalign(&mem, RTE_CACHE_LINE_SIZE, sizeof(*h) + size) != 0)
		return NULL;
	memset(mem, 0, sizeof(*h) + size);
	h = mem;
	h->magic = TT_MAGIC_LIVE;
	h->kind = kind;
	__atomic_fetch_add(&tt_allocs, 1, __ATOMIC_RELAXED);
	return h + 1;
}

static void tt_unlinked(void *arg, enum dp_conn_obj kind, void *obj)
{
	struct tt_hdr *h = tt_hdr_of(obj);

	pthread_mutex_lock(&tt_lock);
	if (h->unlinked)
		tt_error("object unlinked twice", 0);
	h->age = 0;
	__atomic_store_n(&h->unlinked, 1, __ATOMIC_RELEASE);
	h->next = &tt_aging;
	h->prev = tt_aging.prev;
	tt_aging.prev->next = h;
	tt_aging.prev = h;
	tt_unlinks++;
	pthread_mutex_unlock(&tt_lock);
}

/* From the control thread (create's unwinding, delete, shutdown) and from
 * liburcu's call_rcu thread (republished versions). */
static void tt_free(void *arg, enum dp_conn_obj kind, void *obj)
{
	struct tt_hdr *h = tt_hdr_of(obj), *old;

	pthread_mutex_lock(&tt_lock);
	if (h->magic != TT_MAGIC_LIVE)
		tt_error("object freed twice", 0);
	if (h->unlinked) {
		h->prev->next = h->next;
		h->next->prev = h->prev;
		tt_frees_unlinked++;
	}
	tt_frees++;
	/* Poisoned, then kept a while: a reader that still touches it sees
	 * the poison (the ASan build also sees the free once it happens). */
	__atomic_store_n(&h->age, TT_AGE_FREED, __ATOMIC_RELEASE);
	__atomic_store_n(&h->magic, TT_MAGIC_DEAD, __ATOMIC_RELEASE);
	old = tt_quar[tt_quar_next];
	tt_quar[tt_quar_next] = h;
	tt_quar_next = (tt_quar_next + 1) % TT_QUARANTINE;
	pthread_mutex_unlock(&tt_lock);
	free(old);
}

static void tt_quarantine_drain(void)
{
	unsigned i;

	for (i = 0; i < TT_QUARANTINE; i++) {
		free(tt_quar[i]);
		tt_quar[i] = NULL;
	}
}

static void tt_check_obj(const void *obj, uint32_t id)
{
	const struct tt_hdr *h = tt_hdr_of(obj);
	uint32_t age;

	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != TT_MAGIC_LIVE) {
		tt_error("reader holds a freed object", id);
		return;
	}
	if (!__atomic_load_n(&h->unlinked, __ATOMIC_ACQUIRE))
		return;
	age = __atomic_load_n(&h->age, __ATOMIC_ACQUIRE);
	if (age > __atomic_load_n(&tt_max_age, __ATOMIC_RELAXED))
		__atomic_store_n(&tt_max_age, age, __ATOMIC_RELAXED); /* racy max: a report */
	/* Two grace periods completed after unlinking: the second began after
	 * it, so it must have waited for this reader's section. */
	if (age > 1)
		tt_error("reader holds an object older than a grace period", id);
}

/* The session fields the writer derives from the nonce, so that a reader
 * that saw a half-edited object would notice. */
static uint32_t tt_window_of(uint64_t nonce) { return 1 + (uint32_t)(nonce % 1000); }

static uint32_t tt_ip_of(uint64_t nonce) { return (uint32_t)(nonce * 2654435761u) | 1; }

static void tt_check_conn(const struct dp_conn *c, uint32_t id)
{
	char name[16];

	if (!tt_on)
		return;
	tt_check_obj(c, id);
	snprintf(name, sizeof(name), "c%u", id);
	if (c->id != id || c->owner != id % rd_rt->n_workers || strcmp(c->name, name) != 0)
		tt_error("connector fields wrong", id);
	if (c->up && (c->rx_window != tt_window_of(c->nonce) || c->ip_be != tt_ip_of(c->nonce) ||
		      c->epoch == 0))
		tt_error("session fields inconsistent", id);
	tt_check_obj(c->st, id);
	if (c->st->id != id)
		tt_error("state of another connector", id);
}

/* Only waits for grace periods, and ages what is unlinked (the clock). */
static void *tt_gp_main(void *arg)
{
	while (!__atomic_load_n(&rd_stop, __ATOMIC_ACQUIRE)) {
		struct tt_hdr *h;

		synchronize_rcu();
		pthread_mutex_lock(&tt_lock);
		for (h = tt_aging.next; h != &tt_aging; h = h->next)
			__atomic_store_n(&h->age, h->age + 1, __ATOMIC_RELEASE);
		tt_gps++;
		pthread_mutex_unlock(&tt_lock);
	}
	return NULL;
}

Test(conn, create_enomem)
{
	struct dp_conn_test_hooks h = {tt_alloc, tt_unlinked, tt_free, NULL};
	struct dp_router *rt = router_new();
	struct dp_conn_session s = {.rx_window = 8};

	cr_assert_eq(dp_conn_create(rt, 2, "c2"), 0);
	h.arg = &h; /* every allocation fails from now on */
	dp_conn_set_test_hooks(&h);
	cr_expect_eq(dp_conn_create(rt, 3, "c3"), -ENOMEM);
	cr_expect_null(dp_conn_peek(rt, 3));
	cr_expect_eq(dp_conn_count(rt), 1);
	cr_expect_eq(dp_conn_session_up(rt, 2, &s, NULL), -ENOMEM);
	cr_expect_not(dp_conn_peek(rt, 2)->up, "the old object stays");
	dp_conn_set_test_hooks(NULL);
	cr_expect_eq(dp_router_free(rt), 0);
}

Test(conn, rcutorture, .timeout = 0)
{
	static uint32_t ids[40];
	const unsigned secs = env_uint("GWART_TORTURE_SECONDS", 5);
	struct dp_conn_test_hooks h = {tt_alloc, tt_unlinked, tt_free, NULL};
	uint64_t creates = 0, ups = 0, refreshes = 0, downs = 0, enables = 0, deletes = 0;
	uint64_t s = 42, nonce = 0, deadline;
	uint8_t exists[RTE_DIM(ids)] = {0};
	struct dp_router *rt;
	pthread_t gp;
	unsigned i, n_live = 0;

	/* A few ids at bitmap edges, the rest spread over three owners. */
	for (i = 0; i < RTE_DIM(ids); i++)
		ids[i] = i < RTE_DIM(edge_ids) ? edge_ids[i] : 100 + i * 37;
	dp_conn_set_test_hooks(&h);
	tt_on = 1;
	rt = router_new();
	owners_start(rt, ids, RTE_DIM(ids));
	cr_assert_eq(pthread_create(&gp, NULL, tt_gp_main, NULL), 0);

	deadline = rte_get_tsc_cycles() + (uint64_t)secs * rte_get_tsc_hz();
	while (rte_get_tsc_cycles() < deadline) {
		unsigned k = (unsigned)(xs(&s) % RTE_DIM(ids)), op = (unsigned)(xs(&s) % 16);
		uint32_t id = ids[k];
		char name[16];
		int rc;

		if (!exists[k]) {
			snprintf(name, sizeof(name), "c%u", id);
			rc = dp_conn_create(rt, id, name);
			cr_assert_eq(rc, 0, "create %u: %d", id, rc);
			exists[k] = 1;
			n_live++;
			creates++;
		} else if (op < 5) {
			struct dp_conn_session ss = {
			    .port = 0,
			    .udp_be = 0x3412,
			    .nonce = ++nonce,
			    .hello_seq = nonce,
			};

			ss.rx_window = tt_window_of(ss.nonce);
			ss.ip_be = tt_ip_of(ss.nonce);
			cr_assert_eq(dp_conn_session_up(rt, id, &ss, NULL), 0);
			ups++;
		} else if (op < 8) {
			cr_assert_eq(dp_conn_session_refresh(rt, id, xs(&s) % 1000), 0);
			refreshes++;
		} else if (op < 10) {
			cr_assert_eq(dp_conn_session_down(rt, id), 0);
			downs++;
		} else if (op < 13) {
			cr_assert_eq(dp_conn_set_enabled(rt, id, (int)(xs(&s) & 1)), 0);
			enables++;
		} else {
			unsigned lost = 1;

			rc = dp_conn_delete(rt, id, &lost);
			cr_assert_eq(rc, 0, "delete %u: %d", id, rc);
			cr_assert_eq(lost, 0);
			cr_assert_null(dp_conn_peek(rt, id));
			exists[k] = 0;
			n_live--;
			deletes++;
		}
		cr_assert_eq(dp_conn_count(rt), n_live);
		/* The writer holds no connector between calls. */
		rcu_quiescent_state();
	}
	owners_stop();
	rcu_thread_offline();
	pthread_join(gp, NULL);
	rcu_thread_online();

	for (i = 0; i < RTE_DIM(ids); i++)
		cr_expect_eq(exists[i], dp_conn_peek(rt, ids[i]) != NULL, "id %u", ids[i]);
	cr_expect_eq(dp_router_free(rt), 0); /* frees the live ones, then rcu_barrier() */
	tt_on = 0;
	dp_conn_set_test_hooks(NULL);
	fprintf(
	    stderr,
	    "SUMMARY conn rcutorture: %u s, %llu creates, %llu ups, %llu refreshes, %llu downs, "
	    "%llu enables, %llu deletes, %llu grace periods, %llu reads (%llu hits), "
	    "%llu objects, max age seen %u, %llu errors\n",
	    secs, (unsigned long long)creates, (unsigned long long)ups,
	    (unsigned long long)refreshes, (unsigned long long)downs, (unsigned long long)enables,
	    (unsigned long long)deletes, (unsigned long long)tt_gps, (unsigned long long)rd_reads,
	    (unsigned long long)rd_hits, (unsigned long long)tt_allocs, tt_max_age,
	    (unsigned long long)tt_errors);
	cr_expect_eq(tt_errors, 0, "%s", tt_first_error);
	cr_expect_eq(tt_allocs, tt_frees, "allocated %llu, freed %llu",
		     (unsigned long long)tt_allocs, (unsigned long long)tt_frees);
	cr_expect_eq(tt_unlinks, tt_frees_unlinked, "unlinked %llu, freed %llu of them",
		     (unsigned long long)tt_unlinks, (unsigned long long)tt_frees_unlinked);
	cr_expect_eq(tt_aging.next, &tt_aging, "unlinked objects never freed");
	cr_expect_gt(deletes, 0);
	cr_expect_gt(ups + refreshes + downs + enables, 0);
	cr_expect_gt(rd_hits, 0, "readers held connectors");
	cr_expect_gt(tt_gps, 1);
	tt_quarantine_drain();
#if defined(__SANITIZE_ADDRESS__)
	/* Criterion's test processes end without LeakSanitizer's exit check:
	 * ask for it here (heap objects only; the DPDK heap is counted
	 * above). */
	cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "LeakSanitizer found leaks");
#endif
}

/* ---- protocol v2: a session's cryptodev pair (auth_dev.h) --------------- */

/* Cryptodev sessions in use, once every retired pair had its grace period. */
static unsigned sessions_in_use(struct dp_router *rt)
{
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_online();
	return rte_mempool_in_use_count(rt->auth_pool);
}

Test(conn, session_keys_lifecycle)
{
	struct dp_router *rt = router_new();
	struct dp_conn_session s = {.rx_window = 8, .nonce = 77, .hello_seq = 1, .epoch = 0xabc};
	const struct dp_auth_sess *a1, *a2;
	uint32_t gen, epoch = 0;

	owners_start(rt, NULL, 0);
	cr_assert_eq(dp_conn_create(rt, 4, "c4"), 0);
	cr_expect_null(dp_conn_peek(rt, 4)->auth, "no session, no keys");
	gw_random_bytes(s.salt, sizeof(s.salt));
	gw_random_bytes(&s.keys, sizeof(s.keys));
	cr_assert_eq(dp_conn_session_up(rt, 4, &s, &epoch), 0);
	cr_expect_eq(epoch, 0xabc, "control's epoch");
	a1 = dp_conn_peek(rt, 4)->auth;
	gen = dp_conn_peek(rt, 4)->sess_gen;
	cr_assert_not_null(a1);
	cr_expect_eq(sessions_in_use(rt), 2, "verify and seal");

	/* The same session again (same epoch, salt, instance): kept whole. */
	s.hello_seq = 9;
	cr_assert_eq(dp_conn_session_up(rt, 4, &s, &epoch), 0);
	cr_expect_eq(dp_conn_peek(rt, 4)->auth, a1, "same cryptodev sessions");
	cr_expect_eq(dp_conn_peek(rt, 4)->sess_gen, gen, "counters and window kept");
	cr_expect_eq(dp_conn_peek(rt, 4)->hello_seq, 9);
	cr_expect_eq(sessions_in_use(rt), 2);
	/* A refresh and an enable keep them too. */
	cr_assert_eq(dp_conn_session_refresh(rt, 4, 10), 0);
	cr_assert_eq(dp_conn_set_enabled(rt, 4, 0), 0);
	cr_expect_eq(dp_conn_peek(rt, 4)->auth, a1);
	cr_expect_eq(dp_conn_peek(rt, 4)->sess_gen, gen);

	/* A new salt is a new session, so is a new epoch: new pair, the old
	 * one freed after its grace period. */
	s.salt[0] ^= 1;
	cr_assert_eq(dp_conn_session_up(rt, 4, &s, NULL), 0);
	a2 = dp_conn_peek(rt, 4)->auth;
	cr_expect_neq(a2, a1);
	cr_expect_eq(dp_conn_peek(rt, 4)->sess_gen, gen + 1);
	cr_expect_eq(sessions_in_use(rt), 2, "the replaced pair is freed");
	s.epoch = 0xabd;
	cr_assert_eq(dp_conn_session_up(rt, 4, &s, NULL), 0);
	cr_expect_neq(dp_conn_peek(rt, 4)->auth, a2);
	cr_expect_eq(dp_conn_peek(rt, 4)->sess_gen, gen + 2);
	cr_expect_eq(sessions_in_use(rt), 2);

	/* Down forgets the keys; up again makes new ones; delete frees them. */
	cr_assert_eq(dp_conn_session_down(rt, 4), 0);
	cr_expect_null(dp_conn_peek(rt, 4)->auth);
	cr_expect_eq(sessions_in_use(rt), 0, "a session that went down keeps no keys");
	cr_assert_eq(dp_conn_session_up(rt, 4, &s, NULL), 0);
	cr_expect_eq(dp_conn_peek(rt, 4)->sess_gen, gen + 3, "up after down is a new session");
	cr_expect_eq(sessions_in_use(rt), 2);
	cr_expect_eq(dp_conn_delete(rt, 4, NULL), 0);
	cr_expect_eq(sessions_in_use(rt), 0, "delete frees the last pair");
	owners_stop();
	cr_expect_eq(dp_router_free(rt), 0);
}

Test(conn, session_keys_refused_changes_nothing)
{
	struct dp_router_params p = {.nb_mbuf = 511, .mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
				     .udp_port = 9000, .max_routes = 64, .max_sessions = 1};
	struct dp_conn_session s = {.rx_window = 8, .nonce = 5, .epoch = 0x10};
	struct dp_router *rt;
	const struct dp_conn *before;
	int err = 0;

	rt = dp_router_create(&p, &err);
	cr_assert_not_null(rt, "%d", err);
	cr_assert_eq(dp_conn_create(rt, 1, "a"), 0);
	cr_assert_eq(dp_conn_create(rt, 2, "b"), 0);
	cr_assert_eq(dp_conn_session_up(rt, 1, &s, NULL), 0);
	/* The pool holds one connector session: the second is refused and
	 * nothing is published. */
	before = dp_conn_peek(rt, 2);
	cr_expect_eq(dp_conn_session_up(rt, 2, &s, NULL), -ENOMEM);
	cr_expect_eq(dp_conn_peek(rt, 2), before, "not republished");
	cr_expect_not(before->up);
	cr_expect_null(before->auth);
	cr_expect_eq(sessions_in_use(rt), 2, "no half pair left behind");
	cr_expect_eq(dp_router_free(rt), 0);
}
