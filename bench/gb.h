/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-bench: shared definitions of the benchmark harness.
 *
 * One concern per file:
 *   gb_main.c      command line, scenario dispatch, SUMMARY line
 *   gb_inproc.c    scenario inproc: the real router in this process on net_ring ports
 *   gb_memif.c     scenario memif: gwartd in another process, reached over net_memif
 *   gb_endpoint.c  generator (origin) and sink (destination) connectors on an ethdev port
 *   gb_frame.c     the frames they send, TX buffers (gb_endpoint.h: their private state)
 *   gb_run.c       phases of a run, figures, the exactly-once verdict (gb_run.h)
 *   gb_verify.c    the delivered set and the exactly-once check
 *   gb_workload.c  destination addresses, uniform and Zipf popularity, seeded RNG
 *   gb_hist.c      latency histogram: count/sum/min/max around proto's hist.h
 *   gb_measure.c   thread CPU time, router counters, cycles per message
 *   gb_stages.c    stage microbenchmarks and memory per route / connector
 *   gb_crypto.c    frame tag candidates (libsodium, cryptodev): cycles per frame
 *   gb_result.c    the JSON result file
 *
 * Threading model of a run: the main thread is the router's control thread
 * (inproc) or the orchestrator (memif); endpoint threads are registered
 * non-EAL DPDK threads, one per harness CPU, each owning the harness ports
 * placed on that CPU and every connector on them (no sharing but the
 * delivered-set bitmaps, which use atomic OR).
 */
#ifndef GWART_BENCH_GB_H
#define GWART_BENCH_GB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dedup.h"
#include "gb_hist.h"
#include "gb_tag.h"

#define GB_MAX_ENDPOINTS 4     /* harness ports: the router has DP_MAX_PORTS */
#define GB_MAX_QUEUES 16       /* queues per port = router workers */
/* Origin messages in flight over the whole run (each generator thread its
 * share): bounds the mbuf pools and the origins' slots however many origins
 * there are (gb_slots_per_origin()). 4 origins keep their whole window. */
#define GB_INFLIGHT_MAX 65536
/* Slots per origin for @n_origins origins, a power of two (gb_replay.c). */
unsigned gb_slots_per_origin(unsigned n_origins);
#define GB_BURST 32	       /* frames per TX/RX burst */
#define GB_PAYLOAD_HDR 24      /* stamped payload prefix: tsc, origin, route, seq */
#define GB_DEF_RTO_US 50000    /* us: generator retransmission timeout */
#define GB_KEEPALIVE_US 250000 /* us: every connector sends a KEEPALIVE this often */
#define GB_HELLO_US 100000     /* us: HELLO repeated until WELCOME */
#define GB_ROUTER_UDP 4790
#define GB_CONN_UDP 20000 /* connectors' UDP source port */

enum gb_pop { GB_POP_UNIFORM, GB_POP_ZIPF };

/* Everything a run is parameterised by (command line). */
struct gb_opts {
	const char *scenario;
	unsigned workers;
	unsigned origins;      /* origin connectors (generators) */
	unsigned dests;	       /* destination connectors (sinks) */
	unsigned gen_threads;  /* endpoint threads hosting origins */
	unsigned sink_threads; /* endpoint threads hosting destinations */
	uint32_t routes;
	uint32_t payload; /* bytes */
	enum gb_pop pop;
	double zipf_s;
	double duration_s;
	double warmup_s;
	double drain_s; /* most time allowed to settle after sending stops */
	uint64_t rate;	/* msg/s over all generators; 0: as fast as possible */
	uint64_t count; /* stop after this many messages per origin (0: by time) */
	double drop;	/* fault injection: probability per frame */
	double dup;
	uint64_t seed;
	unsigned rx_window;	/* sink's HELLO rx_window */
	unsigned custody_limit; /* router tunable; 0: the router's default */
	unsigned mbufs;		/* router pool */
	unsigned mem_mb;	/* EAL -m; 0: computed */
	bool stage_stats;	/* ask the router to account cycles per stage */
	bool udp_csum;		/* generators fill the UDP checksum */
	double echo_min_ratio;	/* echo: the harness must drive this many times one worker */
	bool sink_verify;	/* sinks check every DATA tag (off: the router is trusted
				 * for DATA in throughput runs; ACKs and NACKs are always
				 * checked by origins) */
	bool no_auth;		/* inproc: router workers skip tag work (dp_router.auth_off);
				 * the harness still seals and checks, ignoring the verdict */
	const char *pool_ops;	/* mempool driver for every mbuf pool (EAL --mbuf-pool-ops-name) */
	const char *cpus_harness; /* CPU list for control and endpoint threads */
	const char *cpus_workers; /* CPU list for worker lcores */
	bool float_cpus;	  /* pin nothing: every thread may run on any CPU */
	const char *json_path;
	const char *label;
	const char *gwartd; /* memif: path of gwartd */
	int verbose;
};

/* ---- workload (gb_workload.c) --------------------------------------------- */

struct gb_rng {
	uint64_t s;
};

static inline uint64_t gb_rng_next(struct gb_rng *r)
{
	/* splitmix64: tiny, seedable, good enough for sampling and faults */
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static inline double gb_rng_unit(struct gb_rng *r)
{
	return (double)(gb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

struct gb_workload {
	uint32_t n_routes;
	uint32_t n_dests;
	uint32_t first_dest_id;
	enum gb_pop pop;
	double *cdf; /* Zipf: cumulative probabilities, n_routes entries */
	char *addr;  /* n_routes fixed-size slots of GB_ADDR_SLOT bytes */
	uint8_t *addr_len;
	uint64_t dest_m; /* route % n_dests by multiplication (Lemire's fastmod) */
};
#define GB_ADDR_SLOT 32

int gb_workload_init(struct gb_workload *w, const struct gb_opts *o, uint32_t first_dest_id);
void gb_workload_fini(struct gb_workload *w);
/* Route index for the next message. */
uint32_t gb_workload_pick(const struct gb_workload *w, struct gb_rng *r);
/* The route's pattern (the exact domain) into buf; the destination connector. */
void gb_workload_route(const struct gb_workload *w, uint32_t route, char *type, size_t tlen,
		       char *pattern, size_t plen, uint32_t *dest_id);
/* The destination connector of @route: first_dest_id + route % n_dests,
 * without the division (sinks and the echo ask once a message). */
static inline uint32_t gb_workload_dest(const struct gb_workload *w, uint32_t route)
{
	uint64_t low = w->dest_m * route;

	return w->first_dest_id + (uint32_t)(((__uint128_t)low * w->n_dests) >> 64);
}
static inline const char *gb_workload_addr(const struct gb_workload *w, uint32_t route,
					   uint16_t *len)
{
	*len = w->addr_len[route];
	return w->addr + (size_t)route * GB_ADDR_SLOT;
}

/* ---- delivered set (gb_verify.c) ------------------------------------------- */

struct gb_verify;

struct gb_verify *gb_verify_create(uint32_t first_origin_id, unsigned n_origins);
void gb_verify_free(struct gb_verify *v);
/* Sink side, any thread: record (origin, seq) delivered. Returns 0, or 1 if
 * it had been delivered before (a duplicate), -1 if out of range. */
int gb_verify_deliver(struct gb_verify *v, uint32_t origin, uint64_t seq);
/* Generator side: seq of origin was refused for good (never acknowledged). */
int gb_verify_refused(struct gb_verify *v, uint32_t origin, uint64_t seq);
struct gb_verify_result {
	uint64_t expected;   /* acknowledged messages */
	uint64_t delivered;  /* distinct acknowledged messages delivered */
	uint64_t lost;	     /* acknowledged, never delivered */
	uint64_t unexpected; /* delivered but never acknowledged (refused) */
};
/* After the run: origin i sent seqs 1..last[i]. */
void gb_verify_check(struct gb_verify *v, const uint64_t *last, struct gb_verify_result *r);

/* ---- endpoints (gb_endpoint.c) --------------------------------------------- */

enum gb_phase { GB_PH_SETUP, GB_PH_RUN, GB_PH_DRAIN, GB_PH_STOP };

/* Counters of one endpoint thread; written by that thread only. */
struct gb_ep_stats {
	uint64_t sent; /* DATA first transmissions */
	uint64_t retransmits;
	uint64_t acked;	  /* messages the router acknowledged (custody) */
	uint64_t refused; /* NACKed for good (not BUSY) */
	uint64_t busy;	  /* BUSY NACKs */
	uint64_t nacks_other;
	uint64_t delivered;	/* messages delivered to sinks, first time */
	uint64_t dup_frames;	/* DATA frames the sink's window suppressed */
	uint64_t dup_delivered; /* messages delivered twice (exactly-once broken) */
	uint64_t misrouted;	/* delivered to the wrong destination */
	uint64_t corrupt;	/* payload stamp inconsistent with the frame */
	uint64_t acks_sent;
	uint64_t rx_frames;
	uint64_t rx_bad;
	uint64_t tx_full; /* TX bursts that left frames for later */
	uint64_t fault_drop;
	uint64_t fault_dup;
	uint64_t session_losses; /* sessions lost (none expected: v2 sends no NO_SESSION) */
	uint64_t rx_auth_failed; /* router frames with a wrong tag, lane or epoch (v2) */
	uint64_t rx_replayed;	 /* router frames whose counter was seen (v2) */
	uint64_t unresolved;	 /* origin seqs neither acknowledged nor refused at exit */
	uint64_t loops;
	uint64_t busy_loops;  /* iterations that received or sent something */
	uint64_t busy_cycles; /* TSC of those iterations, top to end: the harness's own cost */
};

struct gb_ep_conn;
struct gb_ctx;
struct gb_ep_group;
struct gb_slot;
struct dp_replay;

struct gb_endpoint {
	struct gb_ctx *ctx;
	unsigned idx;
	uint16_t port_id;    /* harness-side ethdev */
	uint16_t stamp_port; /* mbuf->port for frames we send (net_ring does not set it) */
	unsigned n_queues;   /* TX queues: one per router worker */
	unsigned n_rxq;	     /* RX queues polled (memif: + the control thread's TX queue) */
	uint32_t router_ip_be;
	struct rte_ether_addr router_mac;
	int cpu; /* -1: not pinned */
	struct rte_mempool *pool;
	unsigned n_conns;
	struct gb_ep_conn *conns; /* contiguous ids first_id .. first_id + n_conns - 1 */
	struct dp_replay *rx_win; /* slabs behind the connectors (gb_endpoint_init) */
	struct gb_slot *slots;
	void *rx;		  /* struct dp_dedup[n_conns] (destinations) */
	size_t mem_per_conn;	  /* bytes of harness state per connector */
	uint32_t first_id;
	bool is_origin;
	struct gb_hist lat; /* sink: end-to-end latency, TSC cycles */
	struct gb_ep_stats st;
	atomic_uint up;	  /* connectors with a session */
	atomic_uint idle; /* origins with nothing in flight (drain) */
	pthread_t thread;
	atomic_int tid; /* the thread's kernel id, for its CPU time (0 until it runs) */
	struct gb_ep_group *group; /* the endpoints its thread runs (thread owner only) */
	bool started;
} __rte_cache_aligned;

/* Shared by all endpoints of a run. */
struct gb_ctx {
	const struct gb_opts *o;
	struct gb_workload wl;
	struct gb_verify *ver;
	uint64_t tsc_hz;
	uint32_t dup_window;	/* 0 until a WELCOME told it */
	volatile int phase;	/* enum gb_phase */
	volatile int recording; /* sinks record latency (measurement interval) */
	unsigned n_ep;
	struct gb_endpoint ep[GB_MAX_ENDPOINTS];
	uint64_t *last_seq; /* per origin, written at exit of its endpoint */
	/* v2: every connector's secret derives from this run's master key
	 * (gb_conn_key()); the router is configured with the same secrets. */
	uint8_t master_key[32];
	struct gb_tagdev tag; /* session-frame tags in bursts (gb_tag.h) */
	uint16_t dest_len;    /* every route's address has this length */
	uint16_t data_len;    /* so every DATA frame has this length */
};

/* Connector @id's 32-byte secret: BLAKE2b-256(key=master, "gwart-bench
 * connector" || id_be32). */
void gb_conn_key(const struct gb_ctx *ctx, uint32_t id, uint8_t out[32]);

int gb_endpoint_init(struct gb_endpoint *ep, struct gb_ctx *ctx, unsigned idx, uint16_t port_id,
		     unsigned n_queues, uint32_t router_ip_be, uint32_t first_id, unsigned n,
		     bool is_origin, struct rte_mempool *pool, int cpu);
void gb_endpoint_fini(struct gb_endpoint *ep);
/* Start the endpoint threads: one per harness CPU, running every endpoint
 * placed on that CPU (all of them with --float). 0 or -errno. */
int gb_ctx_start(struct gb_ctx *ctx);
void gb_endpoint_join(struct gb_endpoint *ep);
/* Sum of the endpoints' counters (racy reads while running). */
void gb_ctx_stats(const struct gb_ctx *ctx, struct gb_ep_stats *out);
/* In-flight origin messages over all origins (racy). */
unsigned gb_ctx_up(const struct gb_ctx *ctx);
/* Set up the harness-side ethdev: @nrx RX and @ntx TX queues on pool. */
int gb_port_init(uint16_t port_id, unsigned nrx, unsigned ntx, struct rte_mempool *pool);

/* ---- measurement (gb_measure.c) ------------------------------------------ */

struct gb_snap {
	uint64_t tsc;
	uint64_t worker_ns[GB_MAX_QUEUES];	/* CPU time of each worker thread */
	uint64_t worker_user_ns[GB_MAX_QUEUES]; /* of which user mode */
	uint64_t loops, busy_loops;
	uint64_t busy_cycles; /* router's own accounting, if any */
	uint64_t stage_cycles[16];
	const char *stage_name[16];
	unsigned n_stages;
	uint64_t rx_pkts, routed, delivered_router, tx_data, retransmits, dups, handoffs, steered;
	uint64_t drops_total, drops_busy, drops_tx_full;
	uint64_t residence[DP_HIST_BUCKETS]; /* router residence, TSC (stage_stats) */
	struct gb_ep_stats ep;
	uint64_t harness_ns; /* CPU time of the endpoint threads (schedstat) */
};

/* CPU time (ns, schedstat) of thread @tid of this process, 0 if unknown. */
uint64_t gb_thread_cpu_ns(int tid);
/* CPU time of every endpoint thread of @ctx, ns. */
uint64_t gb_ctx_cpu_ns(const struct gb_ctx *ctx);

/* CPU time (ns, schedstat) of the EAL worker lcore @lcore of process @pid
 * (0: this one), 0 if unknown; *user: of which in user mode (clock ticks). */
uint64_t gb_lcore_cpu_ns(int pid, unsigned lcore, uint64_t *user);
/* CPU list "0,1" or "0-3" -> the n-th CPU (wrapping), -1 if none. */
int gb_cpu_pick(const char *list, unsigned n);
int gb_pin_self(int cpu);
/* The EAL --lcores argument for the main lcore and @n_workers workers. */
void gb_lcores_arg(const struct gb_opts *o, unsigned n_workers, char *buf, size_t len);

/* ---- results (gb_result.c) ---------------------------------------------- */

#define GB_MAX_STAGES 16
/* A run whose workers idled more than this share of the measured window was
 * limited by the harness (or the rate cap): its msg/s is not the router's. */
#define GB_HARNESS_BOUND_IDLE 0.10

struct gb_result {
	const char *scenario;
	bool ok;
	char why[256];
	double tsc_hz;
	double wall_s;	   /* measured interval */
	uint64_t messages; /* delivered to sinks in the interval */
	double rate;	   /* msg/s */
	unsigned workers;
	double worker_cpu_s;	    /* CPU time of all workers in the interval */
	double worker_user_s;	    /* of which user mode (the rest: being preempted) */
	double rate_per_worker_cpu; /* messages per worker CPU second */
	double cyc_per_msg_cpu;	    /* worker CPU cycles per message, idle polls included */
	double cyc_per_msg_user;    /* the same, user mode only */
	double busy_cyc_per_msg;    /* workers' busy TSC cycles per message routed (their own
				     * per-iteration TSC: dp_worker_stats.busy_cycles) */
	const char *busy_method;
	double busy_tsc_per_msg; /* the same (kept for readers of the old key) */
	double busy_frac;	 /* busy_loops / loops */
	double idle_frac;	 /* 1 - busy cycles / (elapsed TSC x workers): the workers' idle
				  * share of the measured window */
	bool harness_bound;	 /* idle_frac > GB_HARNESS_BOUND_IDLE: the harness, not the
				  * router, set the rate */
	double harness_cyc_per_msg; /* endpoint threads' busy TSC cycles per message delivered */
	double harness_cpu_cyc_per_msg; /* endpoint threads' CPU time (cycles) per message */
	double worker_cpu_share;	/* CPU time the workers got / (wall time x workers) */
	double harness_cpu_share;	/* the same for the endpoint threads */
	unsigned n_stages;
	const char *stage_name[GB_MAX_STAGES];
	double stage_cyc_per_msg[GB_MAX_STAGES]; /* fraction x busy cycles per message */
	double stage_frac[GB_MAX_STAGES];	 /* share of the sampled busy cycles */
	struct gb_ep_stats ep; /* whole run */
	struct gb_verify_result ver;
	uint64_t unsettled; /* drain timed out: messages still in custody */
	bool inconclusive;  /* not settled: neither proven nor disproven */
	uint64_t r_rx_pkts, r_routed, r_tx_data, r_retransmits, r_dups, r_handoffs, r_steered;
	uint64_t r_drops, r_busy, r_tx_full;
	double mem_per_route; /* bytes of DPDK heap per route; < 0 unknown */
	double mem_per_conn;  /* bytes of DPDK heap per connector; < 0 unknown */
	double harness_mem_per_conn; /* the harness's own state per connector, bytes (largest) */
	struct gb_hist lat;   /* end to end, TSC cycles */
	/* Router residence (RX poll to first transmission), measured by the
	 * workers when stage_stats is on; 0 samples otherwise. */
	uint64_t res_count;
	double res_p50_us, res_p99_us, res_p999_us, res_max_us;
	/* The echo scenario: the harness alone against the echo stand-in. */
	double echo_rate;	   /* msg/s */
	double echo_busy_frac; /* the stand-in's busy share of the window */
	bool disturbed;	       /* echo: a polling thread did not get its CPU: no verdict */
};

void gb_result_init(struct gb_result *r, const char *scenario);
/* One greppable line: "SUMMARY scenario=... ok=1". */
void gb_result_summary(const struct gb_opts *o, const struct gb_result *r, FILE *f);
/* The JSON result file (parameters, figures, latency CDF). 0 or -errno. */
int gb_result_write_json(const struct gb_opts *o, const struct gb_result *r, const char *path);

/* ---- scenarios ------------------------------------------------------------ */

int gb_run_inproc(const struct gb_opts *o, struct gb_result *r);
int gb_run_memif(const struct gb_opts *o, struct gb_result *r);
/* The harness alone against the echo stand-in, then against the router, in
 * one process: fails unless the harness drives --echo-min-ratio (default
 * GB_ECHO_MIN_RATIO, the target) x what one
 * worker routes (gb_inproc.c, gb_echo.c). */
#define GB_ECHO_MIN_RATIO 3.0
int gb_run_echo(const struct gb_opts *o, struct gb_result *r);
int gb_run_stages(const struct gb_opts *o, struct gb_result *r);
/* Frame tag candidates, cycles per frame (gb_crypto.c). */
int gb_run_crypto(const struct gb_opts *o, struct gb_result *r);

#endif
