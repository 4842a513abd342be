/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario graph: the cost of DPDK's rte_graph framework itself against a
 * hand-staged loop (issue 9: evaluate rte_graph before choosing how the
 * worker runs its stages; DATAPLANE.md "Why a hand-staged loop").
 *
 * Both run the same GB_G_STAGES stages of trivial per-packet work (a load
 * from the mbuf header, one from the frame, a store into the header) over
 * bursts of GB_G_BURST mbufs from one prebuilt array that stays in the
 * cache, so what differs is the framework alone:
 *   graph   a source node hands out each burst, GB_G_STAGES nodes in a
 *           chain, each passing its whole stream on with
 *           rte_node_next_stream_move() (rte_graph's cheapest hand-over: a
 *           pointer swap), the last one the sink; one rte_graph_walk() per
 *           burst. Built with RTE_LIBRTE_GRAPH_STATS 0: the walk is inline
 *           and Debian's rte_config.h turns its per-node TSC statistics on,
 *           which an application would turn off; this is rte_graph's best
 *           case.
 *   graph-x1  the same graph, but every node hands each packet on with
 *           rte_node_enqueue_x1(), as a node does that chooses a packet's
 *           next edge (gwart's dispatch: steer, control, session, drop)
 *   hand    the same stages as loops over the burst array, called in turn.
 *   hand-x1 the same, each stage copying each packet on to the next stage's
 *           array (what gwart's dispatch stage does), graph-x1's peer.
 * Many short rounds of each (about a millisecond), interleaved, in one run;
 * the best round of each is the figure (TSC cycles per packet): on a shared
 * host most rounds are stretched by other processes' time slices, the best
 * ones ran undisturbed (this guest's thread CPU clock is no better: it
 * under-counts). One lcore, pinned like a worker.
 */
#define ALLOW_EXPERIMENTAL_API 1

#include <rte_config.h>
#undef RTE_LIBRTE_GRAPH_STATS
#define RTE_LIBRTE_GRAPH_STATS 0

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include "gb.h"

#define GB_G_STAGES 6
#define GB_G_BURST 32
#define GB_G_MBUFS 1024   /* the prebuilt array: 1024 x 3 lines, in L2 */
#define GB_G_BURSTS 1000 /* per round: 32,000 packets, short enough to run undisturbed */
#define GB_G_ROUNDS 201

static struct rte_mbuf *g_pkts[GB_G_MBUFS];
static unsigned g_next;      /* source position in g_pkts */
static uint64_t g_sunk;      /* packets that reached the sink */
static bool g_x1;            /* nodes hand on packet by packet */

/* Stage @k's work on one packet: a load from the header, one from the
 * frame, summed into the stage's accumulator (once per burst into
 * g_acc[k], so that nothing is optimised away). A store into each mbuf
 * instead made every stage of both variants cost ~30 cycles a packet on
 * this host's memory disambiguation, hiding what the framework costs. */
static uint64_t g_acc[GB_G_STAGES];

static inline __attribute__((always_inline)) uint64_t work(const struct rte_mbuf *m, unsigned k)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);

	return d[k] ^ (m->pkt_len + k);
}

/* The source of both variants: the next burst of pointers, as an RX burst
 * from a ring of prebuilt mbufs would give them. */
static inline unsigned source(void **objs)
{
	unsigned i;

	for (i = 0; i < GB_G_BURST; i++)
		objs[i] = g_pkts[(g_next + i) & (GB_G_MBUFS - 1)];
	g_next = (g_next + GB_G_BURST) & (GB_G_MBUFS - 1);
	return GB_G_BURST;
}

/* ---- the graph ------------------------------------------------------------ */

static uint16_t src_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			    uint16_t nb)
{
	void **to = rte_node_next_stream_get(graph, node, 0, GB_G_BURST);

	(void)objs;
	(void)nb;
	rte_node_next_stream_put(graph, node, 0, source(to));
	return GB_G_BURST;
}

static inline uint16_t stage_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				     uint16_t nb, unsigned k)
{
	uint64_t acc = 0;
	uint16_t i;

	for (i = 0; i < nb; i++)
		acc += work(objs[i], k);
	g_acc[k] += acc;
	if (g_x1)
		for (i = 0; i < nb; i++)
			rte_node_enqueue_x1(graph, node, 0, objs[i]);
	else
		rte_node_next_stream_move(graph, node, 0);
	return nb;
}

#define GB_G_NODE(k, nextname)                                                                     \
	static uint16_t stage##k##_process(struct rte_graph *g, struct rte_node *n, void **o,     \
					   uint16_t nb)                                            \
	{                                                                                          \
		return stage_process(g, n, o, nb, k);                                              \
	}                                                                                          \
	static struct rte_node_register stage##k##_node = {                                        \
		.name = "gb_stage" #k,                                                             \
		.process = stage##k##_process,                                                     \
		.nb_edges = 1,                                                                     \
		.next_nodes = {nextname},                                                          \
	};                                                                                         \
	RTE_NODE_REGISTER(stage##k##_node)

static uint16_t sink_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			     uint16_t nb)
{
	uint64_t acc = 0;
	uint16_t i;

	(void)graph;
	(void)node;
	for (i = 0; i < nb; i++)
		acc += work(objs[i], GB_G_STAGES - 1);
	g_acc[GB_G_STAGES - 1] += acc;
	g_sunk += nb;
	return nb;
}

static struct rte_node_register src_node = {
	.name = "gb_src",
	.flags = RTE_NODE_SOURCE_F,
	.process = src_process,
	.nb_edges = 1,
	.next_nodes = {"gb_stage0"},
};
RTE_NODE_REGISTER(src_node);
GB_G_NODE(0, "gb_stage1");
GB_G_NODE(1, "gb_stage2");
GB_G_NODE(2, "gb_stage3");
GB_G_NODE(3, "gb_stage4");
GB_G_NODE(4, "gb_sink");
/* The sink is the sixth stage. */
static struct rte_node_register sink_node = {
	.name = "gb_sink",
	.process = sink_process,
	.nb_edges = 0,
};
RTE_NODE_REGISTER(sink_node);
_Static_assert(GB_G_STAGES == 6, "the node chain above has six stages");

/* ---- the hand-staged loop ------------------------------------------------- */

static void hand_stage(void **objs, unsigned n, unsigned k)
{
	uint64_t acc = 0;
	unsigned i;

	for (i = 0; i < n; i++)
		acc += work(objs[i], k);
	g_acc[k] += acc;
}

/* As hand_stage(), then each packet copied on to the next stage's array
 * one by one, as a stage does that sorts packets to several next steps. */
static unsigned hand_stage_x1(void **objs, unsigned n, unsigned k, void **out)
{
	unsigned i, m = 0;

	hand_stage(objs, n, k);
	for (i = 0; i < n; i++)
		out[m++] = objs[i];
	return m;
}

static void hand_burst(void)
{
	void *objs[GB_G_BURST];
	unsigned n = source(objs);

	hand_stage(objs, n, 0);
	hand_stage(objs, n, 1);
	hand_stage(objs, n, 2);
	hand_stage(objs, n, 3);
	hand_stage(objs, n, 4);
	hand_stage(objs, n, 5);
	g_sunk += n;
}

static void hand_burst_x1(void)
{
	void *a[GB_G_BURST], *b[GB_G_BURST];
	unsigned n = source(a);

	n = hand_stage_x1(a, n, 0, b);
	n = hand_stage_x1(b, n, 1, a);
	n = hand_stage_x1(a, n, 2, b);
	n = hand_stage_x1(b, n, 3, a);
	n = hand_stage_x1(a, n, 4, b);
	hand_stage(b, n, 5);
	g_sunk += n;
}

/* ---- the scenario --------------------------------------------------------- */

enum { V_GRAPH, V_GRAPH_X1, V_HAND, V_HAND_X1, V_COUNT };
static const char *const v_name[V_COUNT] = {"graph", "graph-x1", "hand", "hand-x1"};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double round_of(unsigned v, struct rte_graph *g)
{
	uint64_t t0, t1, want = g_sunk + (uint64_t)GB_G_BURSTS * GB_G_BURST;
	unsigned b;

	g_x1 = v == V_GRAPH_X1;
	t0 = rte_rdtsc_precise();
	if (v == V_HAND)
		for (b = 0; b < GB_G_BURSTS; b++)
			hand_burst();
	else if (v == V_HAND_X1)
		for (b = 0; b < GB_G_BURSTS; b++)
			hand_burst_x1();
	else
		for (b = 0; b < GB_G_BURSTS; b++)
			rte_graph_walk(g);
	t1 = rte_rdtsc_precise();
	if (g_sunk != want)
		return -1;
	return (double)(t1 - t0) / ((double)GB_G_BURSTS * GB_G_BURST);
}

int gb_run_graph(const struct gb_opts *o, struct gb_result *r)
{
	char lc[32], *argv[] = {"gwart-bench", lc,	    "--no-huge",	   "-m",
				"256",	       "--no-pci", "--no-shconf", "--log-level=error",
				NULL};
	const char *pat[] = {"gb_src", "gb_stage*", "gb_sink"};
	struct rte_graph_param gp = {.socket_id = SOCKET_ID_ANY, .nb_node_patterns = 3,
				     .node_patterns = pat};
	int cpu = o->float_cpus ? -1 : gb_cpu_pick(o->cpus_workers, 0);
	struct rte_mempool *mp = NULL;
	rte_graph_t gid = RTE_GRAPH_ID_INVALID;
	struct rte_graph *g;
	double best[V_COUNT], all[V_COUNT][GB_G_ROUNDS];
	unsigned i, v, k;

	snprintf(lc, sizeof(lc), "--lcores=0@%d", cpu >= 0 ? cpu : 0);
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		snprintf(r->why, sizeof(r->why), "EAL init: %s", rte_strerror(rte_errno));
		return -1;
	}
	r->tsc_hz = (double)rte_get_tsc_hz();
	mp = rte_pktmbuf_pool_create("gb_graph", GB_G_MBUFS * 2 - 1, 0, 0, 2048, SOCKET_ID_ANY);
	if (mp == NULL || rte_pktmbuf_alloc_bulk(mp, g_pkts, GB_G_MBUFS) != 0) {
		snprintf(r->why, sizeof(r->why), "mbufs: %s", rte_strerror(rte_errno));
		goto out;
	}
	for (i = 0; i < GB_G_MBUFS; i++)
		memset(rte_pktmbuf_append(g_pkts[i], 128), (int)i, 128);
	gid = rte_graph_create("gb_graph", &gp);
	if (gid == RTE_GRAPH_ID_INVALID || (g = rte_graph_lookup("gb_graph")) == NULL) {
		snprintf(r->why, sizeof(r->why), "rte_graph_create: %s", rte_strerror(rte_errno));
		goto out;
	}
	/* Warm up both, then interleave the rounds. */
	(void)round_of(V_GRAPH, g);
	(void)round_of(V_HAND, g);
	for (v = 0; v < V_COUNT; v++)
		best[v] = 0;
	for (k = 0; k < GB_G_ROUNDS; k++)
		for (v = 0; v < V_COUNT; v++) {
			all[v][k] = round_of(v, g);
			if (all[v][k] < 0) {
				snprintf(r->why, sizeof(r->why), "%s: packets lost", v_name[v]);
				goto out;
			}
			if (k == 0 || all[v][k] < best[v])
				best[v] = all[v][k];
		}
	printf("graph: TSC %.0f MHz, CPU %d, %u stages of trivial work over bursts of %u, "
	       "%u rounds of %u bursts interleaved; TSC cycles per packet, best and median\n",
	       r->tsc_hz / 1e6, cpu, GB_G_STAGES, GB_G_BURST, GB_G_ROUNDS, GB_G_BURSTS);
	for (v = 0; v < V_COUNT; v++) {
		qsort(all[v], GB_G_ROUNDS, sizeof(all[v][0]), cmp_double);
		printf("GRAPH variant=%s best=%.2f median=%.2f\n", v_name[v], best[v],
		       all[v][GB_G_ROUNDS / 2]);
	}
	printf("GRAPH framework_per_pkt graph-hand=%.2f graph_x1-hand_x1=%.2f\n",
	       best[V_GRAPH] - best[V_HAND], best[V_GRAPH_X1] - best[V_HAND_X1]);
	r->ok = true;
out:
	if (gid != RTE_GRAPH_ID_INVALID)
		rte_graph_destroy(gid);
	if (mp != NULL) {
		for (i = 0; i < GB_G_MBUFS && g_pkts[i] != NULL; i++)
			rte_pktmbuf_free(g_pkts[i]);
		rte_mempool_free(mp);
	}
	rte_eal_cleanup();
	return r->ok ? 0 : -1;
}
