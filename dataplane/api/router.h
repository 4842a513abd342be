/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The router as the control plane and the workers share it: struct
 * dp_router, the connector objects workers read under RCU (struct dp_conn),
 * the tunables, and the reader-side helpers. Part of the update API
 * (dataplane/api/); the worker-private parts (struct dp_conn_state,
 * struct dp_lcore) are dataplane-internal and only named here.
 *
 * Ownership rules (the heart of the exactly-once design):
 *  - every connector is owned by exactly one worker (dp_conn.owner); only
 *    that worker touches its dp_conn_state: the ingress duplicate window and
 *    the egress custody queue; the control thread reads the few values it
 *    needs through dp_conn_snapshot() (relaxed loads of relaxed stores);
 *  - a message that crosses owners travels through a single-producer,
 *    single-consumer ring (dataplane/handoff.h);
 *  - the control thread changes what workers see only by publishing new
 *    immutable objects with rcu_assign_pointer and retiring old ones with
 *    call_rcu (liburcu QSBR): no reference counts on the fast path, and
 *    no object freed while a worker may still hold it (dataplane/conn.c,
 *    tests/dataplane/test_conn.c's rcutorture).
 */
#ifndef GWART_DP_ROUTER_H
#define GWART_DP_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include <urcu-qsbr.h>

#include <gwart/wire.h>

#include "stats.h"
#include "tuning.h"

#define DP_MAX_WORKERS 64
#define DP_MAX_PORTS 4
#define DP_ROUTER_PREFIX_LEN 16 /* bytes for the prefix and its NUL */

struct dp_auth_sess;
struct dp_capture;
struct dp_conn_state;
struct dp_lcore;
struct dp_route_table;
struct dp_handoff;
struct rte_ring;
struct rte_mempool;

/*
 * The L2-L4 headers of every frame a worker sends to a connector (DATA
 * transmissions, ACKs, NACKs), built once by control when it publishes the
 * connector's session (dp_pkt_tmpl_build(), conn.c), from the connector's
 * address and its port's (dp_router.ports[port]). Per packet only the two
 * lengths and the checksums are filled in, from register values
 * (dp_pkt_tmpl_put(), api/pkt.h). The sums are ones' complement sums of
 * 16-bit words as they lie in memory (what rte_raw_cksum() computes).
 */
struct dp_hdr_tmpl {
	uint8_t hdr[42];            /* Ethernet + IPv4 + UDP; lengths, checksums 0 */
	uint8_t csum_offload;       /* the port computes IPv4 and UDP checksums */
	uint8_t pad;
	uint32_t ip_sum;            /* IPv4 header with total length 0 */
	uint32_t phdr_sum;          /* pseudo-header: src, dst, proto (no length) */
	uint32_t l4_sum;            /* phdr_sum + the UDP ports */
};

/*
 * A connector as workers see it. Every field is written by the control
 * thread before the object is published (rcu_assign_pointer into
 * dp_router.conns[]) and never after: a change publishes an edited copy
 * (dataplane/conn.c). Dataplane: ro under rcu_read (QSBR); ctlplane: wo
 * before publication, ro after (dp_conn_peek()). What a worker reads per
 * frame comes first (two cache lines: ids, session, auth, state, template);
 * what only control or session changes read follows.
 */
struct dp_conn {
	uint32_t id;
	uint16_t owner;             /* worker index: id % n_workers */
	uint16_t port;              /* port its session was established on */
	uint8_t up;                 /* session established */
	uint8_t enabled;
	uint32_t epoch;             /* current session epoch (0: none yet) */
	uint32_t rx_window;         /* frames it accepts un-acknowledged */
	uint32_t ip_be;             /* its address, network order */
	uint16_t udp_be;
	struct rte_ether_addr mac;
	/* v2: bumped by every new session (not by a refresh, which keeps keys,
	 * counters and windows); the owner resets its lane-1 replay window and
	 * send counter when it sees a new value (dp_conn_state.sess_gen). */
	uint32_t sess_gen;
	/* v2: this session's cryptodev sessions (auth_dev.h), NULL while no
	 * session is up. Shared by the versions of one session; retired with
	 * call_rcu when the session is replaced or goes down, or the connector
	 * is deleted. */
	const struct dp_auth_sess *auth;
	/* The owner worker's mutable state, shared by every version of this
	 * connector; dataplane-internal (conn_state.h): control cannot
	 * dereference it. */
	struct dp_conn_state *st;
	/* Headers towards its session's address; valid while up (built by
	 * every session up, dp_conn_session_up()). */
	struct dp_hdr_tmpl tmpl;
	uint64_t nonce;
	uint8_t salt[GW_SALT_LEN];  /* v2: this session's WELCOME salt */
	uint64_t hello_seq;         /* HELLO.seq: lowest origin seq it still needs */
	uint32_t hello_gen;         /* bumped by every HELLO the router accepts */
	char name[32];
	struct rcu_head rcu;        /* ctlplane: call_rcu once unpublished */
};

/* Runtime tunables the workers read, published as one immutable object
 * (control-only settings live in control/settings.h). */
struct dp_tunables {
	struct rcu_head rcu;
	uint32_t burst;             /* packets per RX burst */
	uint32_t custody_limit;     /* messages per destination */
	uint32_t custody_bytes;     /* bytes per destination (payload; groups reserve
				     * their total_len at their first chunk) */
	uint32_t custody_bytes_total; /* bytes over all destinations (each worker
				       * holds at most this / n_workers) */
	uint32_t max_message;       /* bytes: largest message (a group's total_len) */
	uint32_t group_timeout_ms;  /* a group silent this long is forgotten */
	uint32_t busy_retry_us;
	uint32_t rto_us;            /* first retransmission timeout */
	uint32_t rto_max_us;
	uint32_t keepalive_ms;
	uint32_t keepalive_mult;
	uint32_t refuse_new;         /* shutting down with drain: BUSY to new DATA */
	uint32_t stage_stats;        /* 1: account TSC per loop stage (benchmarks) */
	uint32_t test_stall;         /* TEST ONLY (it_notify): N > 0 parks worker N-1
				      * (no loops counted) until set back to 0 or stop,
				      * to prove a stuck worker stops systemd's
				      * watchdog pings; never set in production */
};

/* One port's addresses: set once at start-up (dp_port_setup()). */
struct dp_port_addr {
	uint16_t port_id;
	int ctl_txq;                /* control thread's own TX queue, -1: none */
	uint8_t tx_csum_offload;    /* port computes IPv4 and UDP checksums on TX */
	uint32_t ip_be;
	struct rte_ether_addr mac;
	uint16_t mtu;
};

/*
 * The router. Sections by who writes a field and when; within a section,
 * a field's comment says who reads it (grout's worker.h convention:
 * "dataplane: ro" is every worker, "ctlplane" the control thread).
 */
struct dp_router {
	/* Set once before dp_router_start() (dp_router_create(),
	 * dp_port_setup()), never written after. Dataplane: ro, ctlplane: ro. */
	char prefix[DP_ROUTER_PREFIX_LEN]; /* of its DPDK object names */
	unsigned n_workers;
	unsigned n_ports;
	struct dp_port_addr ports[DP_MAX_PORTS];
	uint16_t udp_be;            /* router's UDP port, network order */
	uint64_t tsc_hz;
	uint64_t egress_base;       /* first egress link seq of this router process */
	int rx_tsc_off;             /* mbuf dynfield: RX TSC (stage_stats), -1: none */
	/* v2 frame authentication (auth_dev.h): the cryptodev, or a negative
	 * errno when it could not be created (dp_router_start() refuses then),
	 * and the pool of its sessions. */
	int auth_dev;
	struct rte_mempool *auth_pool;
	/* Benchmark only (gwart-bench inproc --no-auth), never set from a
	 * configuration or a command line: workers skip the tag computations
	 * (every other check stays), to measure authentication on vs off in
	 * one run. Set before dp_router_start(). */
	uint8_t auth_off;
	unsigned worker_lcore[DP_MAX_WORKERS];
	struct dp_lcore *lcores[DP_MAX_WORKERS]; /* the worker contexts (lcore.h):
						  * each worker's private state;
						  * ctlplane: dp_router_stats() only */
	/* The channels themselves are set once too; what travels through
	 * them follows each ring's producer/consumer rule. */
	struct rte_mempool *pool;   /* MP/MC: workers and control allocate */
	struct dp_handoff *ho_msg;  /* worker -> worker: steer + custody items (SP/SC) */
	struct dp_handoff *ho_vrd;  /* worker -> worker: custody verdicts back (SP/SC) */
	/* Frames for control, workers -> control (MP/SC), two rings so a
	 * handshake flood cannot crowd out established sessions' keepalives
	 * (tuning.h): ctl_ring takes KEEPALIVE/BYE of an up session (its
	 * epoch, its address), ctl_hs_ring everything else. */
	struct rte_ring *ctl_ring;
	struct rte_ring *ctl_hs_ring;
	/* Frames the control thread sends, one SP/SC ring per worker: the
	 * worker transmits them on its own queue, so no TX queue is shared
	 * and ports need as many TX as RX queues (net_tap insists). */
	struct rte_ring *ctl_tx[DP_MAX_WORKERS];
	/* Connector states to retire, control -> owner worker (SP/SC):
	 * dp_conn_delete() phase 3, dp_conn_owner_retire(). */
	struct rte_ring *ctl_cmd[DP_MAX_WORKERS];

	/* RCU-published by the control thread (its only writer, with
	 * rcu_assign_pointer; old versions retired with call_rcu).
	 * Dataplane: ro (rcu_dereference, between quiescent states),
	 * ctlplane: rw. */
	struct dp_route_table *routes; /* the table object itself is set once;
					* its routes are published inside it */
	struct dp_tunables *tun;
	struct dp_conn *conns[DP_MAX_CONNECTORS]; /* dp_conn_get() */
	/* Packet capture (api/capture_api.h), NULL while none runs: workers load
	 * it once per loop iteration into dp_lcore.cap. */
	struct dp_capture *capture;

	/* Control thread only: which ids exist, as a two-level bitmap, so
	 * that walks over connectors cost what exists, not the id space
	 * (dp_conn_next(), dp_conn_count()). Dataplane: never. */
	uint64_t conn_bits[DP_MAX_CONNECTORS / 64];
	uint64_t conn_sum[DP_MAX_CONNECTORS / 64 / 64]; /* bit w: conn_bits[w] != 0 */
	uint32_t n_conns;

	/* Lifecycle: ctlplane: wo (relaxed atomic store), dataplane: ro
	 * (relaxed load once per loop iteration). */
	bool stop;
};

/* Reader side: call from a registered, online QSBR thread. */
static inline struct dp_conn *dp_conn_get(const struct dp_router *rt, uint32_t id)
{
	if (id == 0 || id >= DP_MAX_CONNECTORS)
		return NULL;
	return rcu_dereference(((struct dp_router *)rt)->conns[id]);
}

/* Index into rt->ports of ethdev @port_id (0 if unknown: every frame
 * then leaves through the first port). */
static inline unsigned dp_port_index(const struct dp_router *rt, uint16_t port_id)
{
	unsigned i;

	for (i = 0; i < rt->n_ports; i++)
		if (rt->ports[i].port_id == port_id)
			return i;
	return 0;
}

static inline uint64_t dp_us_to_tsc(const struct dp_router *rt, uint64_t us)
{
	return us * rt->tsc_hz / 1000000u;
}

static inline unsigned dp_conn_owner_of(const struct dp_router *rt, uint32_t id)
{
	return id % rt->n_workers;
}

#endif
