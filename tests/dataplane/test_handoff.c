/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hand-off ring tests. The stress test follows DPDK's test_ring_stress
 * ownership stamps: a fixed population of objects circulates between four
 * lcores sharing two CPUs (so preemption lands anywhere); a taker checks an
 * object is free, stamps its own id, re-checks it before letting go, and
 * every (src, dst) pair numbers its items so the receiver verifies FIFO
 * order. At the end every object must be found exactly once.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_memory.h>

#include "eal.h"
#include "handoff.h"

TestSuite(handoff, .init = test_eal_up_workers, .fini = test_eal_down);

static struct dp_ho_item item(uint64_t seq, uint32_t conn, uint16_t op, uint16_t arg)
{
	struct dp_ho_item it = {.seq = seq, .conn = conn, .op = op, .arg = arg};

	return it;
}

Test(handoff, create_args)
{
	struct dp_handoff *h;

	rte_log_set_global_level(RTE_LOG_EMERG);
	cr_assert_null(dp_handoff_create(0, 8, SOCKET_ID_ANY));
	cr_assert_null(dp_handoff_create(4, 6, SOCKET_ID_ANY));
	cr_assert_null(dp_handoff_create(4, 1, SOCKET_ID_ANY));
	cr_assert_null(dp_handoff_create(100000, 8, SOCKET_ID_ANY));
	rte_log_set_global_level(RTE_LOG_ERR);
	h = dp_handoff_create(3, 16, SOCKET_ID_ANY);
	cr_assert_not_null(h);
	cr_assert_eq(dp_handoff_capacity(h), 15);
	/* Two instances coexist (distinct ring names). */
	dp_handoff_free(dp_handoff_create(3, 16, SOCKET_ID_ANY));
	dp_handoff_free(h);
	dp_handoff_free(NULL);
}

Test(handoff, full_ring_and_order)
{
	struct dp_handoff *h = dp_handoff_create(4, 8, SOCKET_ID_ANY);
	struct dp_ho_item in[10], out[10];
	unsigned i;

	cr_assert_not_null(h);
	for (i = 0; i < 10; i++)
		in[i] = item(1000 + i, 7 + i, DP_HO_VERDICT, (uint16_t)i);
	/* 1. a full ring takes what fits and says so; nothing else moves */
	cr_assert_eq(dp_handoff_send(h, 1, 2, in, 10), 7);
	cr_assert_eq(dp_handoff_count(h, 1, 2), 7);
	cr_assert_eq(dp_handoff_count(h, 2, 1), 0);
	cr_assert_eq(dp_handoff_send(h, 1, 2, in + 7, 3), 0);
	cr_assert_eq(dp_handoff_recv(h, 1, 2, out, 10), 0, "the reverse pair is another ring");
	/* 2. all 16 bytes of each item arrive, in order */
	cr_assert_eq(dp_handoff_recv(h, 2, 1, out, 3), 3);
	cr_assert_eq(dp_handoff_send(h, 1, 2, in + 7, 3), 3);
	cr_assert_eq(dp_handoff_recv(h, 2, 1, out + 3, 10), 7);
	cr_assert_eq(memcmp(in, out, sizeof(in)), 0);
	cr_assert_eq(dp_handoff_count(h, 1, 2), 0);
	cr_assert_eq(dp_handoff_recv(h, 2, 1, out, 10), 0);
	/* 3. pointers travel too */
	in[0] = (struct dp_ho_item){.pkt = &in[5], .conn = 1, .op = DP_HO_STEER};
	cr_assert_eq(dp_handoff_send(h, 3, 3, in, 1), 1, "a loopback pair works");
	cr_assert_eq(dp_handoff_recv(h, 3, 3, out, 1), 1);
	cr_assert_eq(out[0].pkt, &in[5]);
	/* 4. out-of-range workers move nothing */
	cr_assert_eq(dp_handoff_send(h, 4, 0, in, 1), 0);
	cr_assert_eq(dp_handoff_send(h, 0, 4, in, 1), 0);
	cr_assert_eq(dp_handoff_recv(h, 4, 0, out, 1), 0);
	cr_assert_eq(dp_handoff_count(h, 0, 9), 0);
	dp_handoff_free(h);
}

/* Random burst sizes through one ring, many times round: FIFO, no loss. */
Test(handoff, wrap_many_times)
{
	struct dp_handoff *h = dp_handoff_create(2, 64, SOCKET_ID_ANY);
	uint64_t next_in = 1, next_out = 1, x = 7;
	struct dp_ho_item buf[100];
	unsigned round, i, k;

	cr_assert_not_null(h);
	for (round = 0; round < 100000; round++) {
		unsigned n, queued = dp_handoff_count(h, 0, 1);

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		n = (unsigned)(x >> 33) % 100;
		for (i = 0; i < n; i++)
			buf[i] = item(next_in + i, (uint32_t)(next_in + i), DP_HO_CUSTODY, 0);
		k = dp_handoff_send(h, 0, 1, buf, n);
		cr_assert_eq(k, n < 63 - queued ? n : 63 - queued, "round %u", round);
		next_in += k;
		n = (unsigned)(x >> 45) % 100;
		k = dp_handoff_recv(h, 1, 0, buf, n);
		for (i = 0; i < k; i++, next_out++)
			cr_assert(buf[i].seq == next_out && buf[i].conn == (uint32_t)next_out,
				  "round %u", round);
	}
	cr_assert_gt(next_out, 1000000);
	dp_handoff_free(h);
}

/* ---- stress: ownership stamps across 4 lcores on 2 CPUs ---------------------- */

#define NW 4
#define NOBJ 2048
#define BURST 32

struct obj {
	uint32_t owner; /* 0: in a ring (free); w + 1: held by worker w */
	uint32_t id;
	uint64_t hops; /* written only by the current owner */
} __rte_cache_aligned;

struct wstate {
	struct obj *stash[NOBJ];
	unsigned n_stash;
	uint32_t next_seq[NW]; /* per destination */
	uint32_t want_seq[NW]; /* per source */
	uint64_t sent, recvd, short_sends;
} __rte_cache_aligned;

static struct obj objs[NOBJ];
static struct wstate ws[NW];
static struct dp_handoff *sh;
static uint64_t st_deadline;
static uint64_t st_errors;
static char st_first[160];

static void st_error(const char *what, unsigned w, unsigned id)
{
	if (__atomic_fetch_add(&st_errors, 1, __ATOMIC_RELAXED) == 0)
		snprintf(st_first, sizeof(st_first), "worker %u, object %u: %s", w, id, what);
}

/* Take ownership of o: it must be free; stamp it ours. */
static void st_take(struct obj *o, unsigned me, const char *what)
{
	uint32_t expect = 0;

	if (!__atomic_compare_exchange_n(&o->owner, &expect, me + 1, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		st_error(what, me, o->id);
}

static int st_worker(void *arg)
{
	unsigned me = rte_lcore_id(), src, i, k;
	struct wstate *s = &ws[me];
	uint64_t x = 0x9e3779b97f4a7c15ull * (me + 1);
	struct dp_ho_item it[BURST];

	while (rte_rdtsc() < st_deadline) {
		/* Take: each item from src in pair order, each object free. */
		for (src = 0; src < NW; src++) {
			k = dp_handoff_recv(sh, me, src, it, BURST);
			for (i = 0; i < k; i++) {
				struct obj *o = it[i].pkt;

				if (it[i].op != DP_HO_STEER || it[i].arg != src)
					st_error("item fields corrupted", me, o->id);
				if (it[i].conn != s->want_seq[src]++)
					st_error("pair FIFO order broken", me, o->id);
				st_take(o, me, "received while another worker owns it");
				o->hops++;
				s->stash[s->n_stash++] = o;
			}
			s->recvd += k;
		}
		if (s->n_stash == 0)
			continue;
		/* Give: re-check the stamp is still ours, release, send a
		 * burst from the top of the stash to a random other worker. */
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		{
			unsigned dst = (me + 1 + (unsigned)(x % (NW - 1))) % NW;
			unsigned n = 1 + (unsigned)(x >> 40) % BURST;

			if (n > s->n_stash)
				n = s->n_stash;
			for (i = 0; i < n; i++) {
				struct obj *o = s->stash[s->n_stash - 1 - i];

				if (__atomic_load_n(&o->owner, __ATOMIC_ACQUIRE) != me + 1)
					st_error("stamp changed while held", me, o->id);
				__atomic_store_n(&o->owner, 0, __ATOMIC_RELEASE);
				it[i] = (struct dp_ho_item){.pkt = o,
							    .conn = s->next_seq[dst] + i,
							    .op = DP_HO_STEER,
							    .arg = (uint16_t)me};
			}
			k = dp_handoff_send(sh, me, dst, it, n);
			/* The unsent tail stays ours (and in place in the stash,
			 * below the k sent ones): stamp it back. */
			for (i = k; i < n; i++)
				st_take(it[i].pkt, me, "unsent object taken by another worker");
			s->n_stash -= k;
			s->next_seq[dst] += k;
			s->sent += k;
			s->short_sends += k < n;
		}
	}
	return 0;
}

static unsigned env_uint(const char *name, unsigned def)
{
	const char *e = getenv(name);

	return e != NULL && *e != '\0' ? (unsigned)strtoul(e, NULL, 0) : def;
}

Test(handoff, stress_ownership, .timeout = 600)
{
	const unsigned secs = env_uint("GWART_STRESS_SECONDS", 3);
	static uint8_t seen[NOBJ];
	uint64_t sent = 0, recvd = 0, shorts = 0, hops = 0, left = 0;
	struct dp_ho_item it[BURST];
	unsigned i, w, src, k, lcore;

	cr_assert_eq(rte_lcore_count(), NW, "run with --lcores=(0-3)@(0,1)");
	cr_assert_eq(rte_lcore_id(), 0);
	/* Rings far smaller than the population, so sends come back short
	 * whenever a receiver is preempted. */
	sh = dp_handoff_create(NW, 256, SOCKET_ID_ANY);
	cr_assert_not_null(sh);
	for (i = 0; i < NOBJ; i++) {
		objs[i].id = i;
		objs[i].owner = i % NW + 1;
		ws[i % NW].stash[ws[i % NW].n_stash++] = &objs[i];
	}
	st_deadline = rte_rdtsc() + (uint64_t)secs * rte_get_tsc_hz();
	RTE_LCORE_FOREACH_WORKER(lcore)
	cr_assert_eq(rte_eal_remote_launch(st_worker, NULL, lcore), 0);
	st_worker(NULL); /* the main lcore is worker 0 */
	rte_eal_mp_wait_lcore();

	/* Everyone has stopped (and wait_lcore ordered their writes before
	 * ours): drain every ring, still checking order and stamps. */
	for (src = 0; src < NW; src++) {
		for (w = 0; w < NW; w++) {
			while ((k = dp_handoff_recv(sh, w, src, it, BURST)) != 0) {
				for (i = 0; i < k; i++) {
					struct obj *o = it[i].pkt;

					cr_assert_eq(it[i].conn, ws[w].want_seq[src]++,
						     "ring %u->%u order", src, w);
					cr_assert_eq(o->owner, 0, "object %u in a ring but owned",
						     o->id);
					seen[o->id]++;
				}
				left += k;
			}
		}
	}
	for (w = 0; w < NW; w++) {
		for (i = 0; i < ws[w].n_stash; i++) {
			cr_assert_eq(ws[w].stash[i]->owner, w + 1, "object %u", ws[w].stash[i]->id);
			seen[ws[w].stash[i]->id]++;
		}
		sent += ws[w].sent;
		recvd += ws[w].recvd;
		shorts += ws[w].short_sends;
	}
	for (i = 0; i < NOBJ; i++) {
		cr_assert_eq(seen[i], 1, "object %u seen %u times", i, seen[i]);
		hops += objs[i].hops;
	}
	fprintf(stderr,
		"handoff stress: %u s, 4 lcores on 2 CPUs, %llu items sent, %llu received, %llu "
		"left in rings, "
		"%llu short sends, %llu errors\n",
		secs, (unsigned long long)sent, (unsigned long long)recvd, (unsigned long long)left,
		(unsigned long long)shorts, (unsigned long long)st_errors);
	cr_assert_eq(st_errors, 0, "%s", st_first);
	cr_assert_eq(sent, recvd + left, "lost or duplicated items");
	cr_assert_eq(hops, recvd);
	cr_assert_gt(recvd, 100000);
	dp_handoff_free(sh);
}
