/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Stateful libFuzzer target: a real router object, driven frame by frame.
 *
 * Each input builds a fresh router as gwartd and gwart-bench's inproc
 * scenario assemble one: dp_router_create(), one net_ring port (one RX and
 * one TX ring per worker: the fuzzer is the far end), cp_init(), connectors
 * 1..3 configured with known keys through cp_connector_add(), routes through
 * cp_route_add(). The workers are never launched: the fuzzer's thread runs
 * one worker loop iteration at a time (fr_step(): dp_worker_main() with an RX
 * callback on the worker's queue that sets rt->stop during the iteration, so
 * the loop returns after exactly one pass; no change to dataplane/), then the
 * control plane's frame handling (cp_frames_poll()) and its timers
 * (cp_loop_run_timers()) on the fuzzer's virtual clock (fuzz_router_clock.h).
 * Nothing runs concurrently: an input replays exactly. The number of workers
 * comes from FUZZ_ROUTER_WORKERS (1 or 2; run.sh runs both).
 *
 * The input is a sequence of operations (byte layout in fr_op()): connector k
 * (1..3, or an unconfigured id) says HELLO (sealed with its handshake key or
 * with a bad tag, fresh or stale ctr, any seq / window / nonce); DATA, ACK,
 * KEEPALIVE, BYE in its session with fields from the input (DATA also as
 * chunks of a group, PROTOCOL.md 3.1.1: chunk_make()) (epoch: its own,
 * the router's current one as a sniffer would learn it, raw, 0; counters
 * next / repeated / raw / wrong lane; sealed, bad tag, zero tag), from its
 * own address, the address it moved to, an attacker's or a stranger's; raw
 * bytes as a UDP payload or a whole Ethernet frame; a replay of the n-th
 * frame injected so far, from any address; clock advances; a full run of
 * workers and control until nothing moves; a single worker iteration (with
 * 2 workers: interleavings of hand-offs and verdicts); administrative
 * enable / disable / reconnect / drain, and set-key (a new key: the session
 * closes, what the old key proves is refused). A connector at the fuzzer's end
 * follows PROTOCOL.md: it accepts a WELCOME (nonce echo, handshake tag, ctr
 * rules), derives its session keys, and acknowledges what it received when
 * told to.
 *
 * Invariants, checked after every full run (and the cheap ones after every
 * single step); any violation aborts with a message naming it:
 *  - no crash, no sanitizer report, no leak (mbufs included: at quiescence
 *    the router's pool is fully free and the fuzzer's pool holds exactly
 *    the messages in custody);
 *  - bounded work: one worker iteration takes at most FR_STEP_TSC_MAX real
 *    TSC cycles and sends at most FR_ACKS_PER_STEP ACK frames, and a run
 *    settles (rings, hand-offs and the control ring empty) within
 *    FR_ROUNDS_MAX rounds;
 *  - custody accounting exact: for each destination the non-empty custody
 *    slots between head and tail number held, within the queue's span; the
 *    sum is dp_conn_custody_total() and cp_custody_total(); no message is in
 *    two custody slots; messages routed == held + delivered + MOVE_FAILED
 *    drops, per worker sums equal per connector sums;
 *  - nothing acknowledged that is not held or delivered: every message an
 *    ACK told its origin (at the origin's own address, in its session) the
 *    router had taken, above what the origin itself gave up (HELLO.seq), is
 *    in custody or was acknowledged by its destination;
 *  - counters: every packet the fuzzer enqueued was received (rx_pkts);
 *  - messages of several frames (chunks: DATA's b bit 7, op_data()): every
 *    chunk of one group the router transmits goes to one destination
 *    (PROTOCOL.md 3.1.1), checked for groups within FR_GROUP_TRUST_US of
 *    their first chunk;
 *  - with protocol v2 authentication in the router (FR_AUTH): nothing in
 *    custody that the origin did not send and seal; nothing leaves custody
 *    unless its destination acknowledged it with a valid ACK of its
 *    session; no session state (up, epoch, address) changes in a run that
 *    processed no frame validly sealed by that connector, no clock advance
 *    and no operator action; a session is not kept up past failure
 *    detection by anything but the connector's own frames from its session's
 *    address; KEEPALIVE answers go to the session's address; every frame the
 *    router sends parses as v2, fits its port's MTU, and is sealed right:
 *    handshake frames with hs.r2c, session frames with the session's s.r2c,
 *    on their lane, with a counter never used before in that session and
 *    lane (no GMAC IV reuse).
 *
 * The fuzzer's side is a model, not a second implementation: where it
 * cannot know what the router may legitimately do (a HELLO that moves a
 * session waits for the control thread while frames of its burst reach the
 * worker first; a KEEPALIVE of the old session answered to the old address
 * before the move leaves after it; frames sealed before a set-key still
 * queued) it is lenient, never stricter. tests/fuzz/mutants.py shows the regression inputs fail
 * when the defence each is named for is removed.
 *
 * Regression inputs for the findings of issue 8 are committed in
 * corpus/router (README there); run.sh runs them before fuzzing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include <sodium.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "conn.h"
#include "conn_state.h"
#include "cp.h"
#include "custody.h"
#include "frames.h"
#include "handoff.h"
#include "lcore.h"
#include "pkt.h"
#include "port.h"
#include "replay.h"
#include "route.h"
#include "router_api.h"
#include "worker.h"

/* The control plane with per-connector keys (CP's keys.h) and the dataplane
 * that checks and seals tags (DP's auth_dev.h): the authentication
 * invariants apply only to a router that has both. */
#if __has_include("keys.h")
#define FR_CP_KEYS 1
#else
#define FR_CP_KEYS 0
#endif
#ifndef FR_AUTH
#if FR_CP_KEYS && __has_include("auth_dev.h")
#define FR_AUTH 1
#else
#define FR_AUTH 0
#endif
#endif

#define FR_CONNS 3            /* connectors 1..3 */
#define FR_OLD_KEYS 8
#define FR_UNKNOWN_ID 9       /* an id that is not configured */
#define FR_MAX_W 2
#define FR_MAX_OPS 384        /* operations per input */
#define FR_MAX_MSGS 1024
#define FR_MAX_TX 4096
/* Groups of chunks the model watches (PROTOCOL.md 3.1.1: a group goes to
 * one destination), each for FR_GROUP_TRUST_US of virtual time from its
 * first chunk injected: below the router's group_timeout_ms (120 s by
 * default, tuning.h), so that the router cannot have forgotten the group
 * and routed a later chunk of it as a new one. */
#define FR_MAX_GROUPS 512
#define FR_GROUP_TRUST_US (100ull * 1000000)
#define FR_MAX_RX 2048        /* egress seqs a destination keeps */
#define FR_MAX_KEEP 256       /* injected frames kept for replay */
#define FR_RING 1024          /* net_ring ring size */
#define FR_AUTO_RUN 48        /* frames queued for one worker before a run */
#define FR_ROUNDS_MAX 16
#define FR_STEP_TSC_MAX (4ull * 1000 * 1000 * 1000) /* real cycles, ~2 s: generous under ASan */
#define FR_ACKS_PER_STEP (4u * DP_DEDUP_ACK_MAX)
#define FR_MTU_ROOM 9216u     /* the fuzzer's own mbufs: jumbo frames reach the router */
/* RTE_IPV4 shifts an int into its sign bit (UBSan): ours is unsigned. */
#define FR_IPV4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define FR_ROUTER_IP FR_IPV4(198, 18, 0, 1)
#define FR_UDP 4790
#define FR_VUS0 1000000000ull /* virtual clock origin, us */

enum fr_role { R_HOME, R_ALT, R_ATTACKER, R_STRANGER, R_COUNT };

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "fuzz_router: invariant violated (op %u, %u workers): ", fr.op_no,  \
			fr.nw);                                                                    \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fprintf(stderr, "\n");                                                             \
		abort();                                                                           \
	} while (0)

struct fr_conn {
	uint32_t id;
	uint8_t key[GW_KEY_LEN];
	struct gw_hs_keys hs;
	unsigned key_gen;         /* set-keys so far */
	struct gw_hs_keys old_hs; /* the key before the last set-key */
	/* Keys replaced since the last run: frames sealed with them may still
	 * be queued (FR_OLD_KEYS of them; more: not checked until the run). */
	unsigned n_old;
	struct gw_hs_keys old_keys[FR_OLD_KEYS];
	unsigned addr;            /* role it sends from: R_HOME or R_ALT */
	unsigned prev_addr;       /* the one before its last move */
	int move_pending;         /* its moving HELLO may not be processed yet */
	int disabled;             /* by the operator (admin disable or drain) */
	uint64_t nonce;           /* this instance's */
	uint64_t next_seq;        /* next origin seq for DATA */
	uint64_t last_seq;
	uint64_t hello_ctr;       /* newest HELLO ctr sent */
	uint64_t welcome_ctr;     /* last accepted WELCOME ctr */
	uint64_t floor;           /* origin seqs it gave up (HELLO.seq - 1) */
	int up;
	uint32_t epoch;
	uint64_t sess_nonce;
	uint8_t salt[GW_SALT_LEN];
	struct gw_gmac_key c2r, r2c;
	uint64_t live_us;         /* when the router last got a validly sealed frame of it */
	int live_pending;         /* one is queued for the router */
	uint64_t tx_n[GW_LANE_COUNT];  /* last count sent per lane */
	uint64_t last_ctr[GW_LANE_COUNT];
	struct dp_replay rxw[GW_LANE_COUNT];
	/* As a destination: egress link seqs received (sorted), cum below. */
	uint64_t rx_cum;
	unsigned n_rx;
	uint64_t rx[FR_MAX_RX];
};

struct fr_msg {
	uint32_t k;
	uint64_t oseq;
	uint32_t hash;
	uint16_t plen;
	uint8_t dsel, seed, acked;
	/* A chunk (op_data's chunk byte, PROTOCOL.md 3.1.1): chunked, the
	 * chunk byte and the group's chunk_len, so that a retransmission
	 * carries the same extension. */
	uint8_t chunked, cb;
	uint16_t clen;
};

struct fr_grp {
	uint32_t origin, dest; /* dest 0: none of its chunks transmitted yet */
	uint64_t group, first_us;
};

struct fr_tx {
	uint32_t dest;
	uint64_t eseq;
	uint32_t origin;
	uint64_t oseq;
	uint32_t hash;
	uint8_t dacked;
};

struct fr_keep {
	uint16_t len;
	uint8_t role, k, q;
	uint8_t valid; /* sealed by connector k itself */
	uint8_t b[GW_FRAME_MAX];
};

struct fr_sess_snap {
	uint8_t up;
	uint32_t epoch, ip_be;
	uint16_t udp_be;
};

/* The router's sessions of a connector since the last full check: each
 * epoch with the address it was opened at (control opens every session
 * with a new epoch; the same session again keeps epoch and address). At
 * most one per HELLO operation (3 bytes or more): more than run.sh's
 * -max_len (4,096 bytes) can open. */
#define FR_SESS_SEEN 2048
struct fr_sess_seen {
	unsigned n;
	struct fr_sess_snap s[FR_SESS_SEEN];
};

static struct {
	unsigned nw;
	int trace; /* FUZZ_ROUTER_TRACE: a line per check */
	struct rte_mempool *hpool;
	struct rte_ring *a[FR_MAX_W], *b[FR_MAX_W];
	uint16_t port;
	const struct rte_eth_rxtx_callback *cb[FR_MAX_W];
	struct cp_ctx cp;
	struct dp_router *rt;
	uint64_t vtsc, vus, hz;
	uint64_t next_scan[FR_MAX_W];
	int stepping;
	unsigned op_no;
	uint64_t injected, ring_full;
	uint64_t rng;
	struct fr_conn c[FR_CONNS + 1];
	unsigned n_msg;
	struct fr_msg msg[FR_MAX_MSGS];
	unsigned n_tx;
	struct fr_tx tx[FR_MAX_TX];
	unsigned n_keep;
	struct fr_keep *keep; /* FR_MAX_KEEP, heap */
	unsigned step_acks;
	/* Session state changes allowed this run (a valid frame of k, time,
	 * an operator action). */
	uint8_t may_change[FR_CONNS + 1];
	struct fr_sess_snap snap[FR_CONNS + 1];
	struct fr_sess_seen sess_seen[FR_CONNS + 1];
	uint64_t snap_us;     /* virtual time of the input's start */
	unsigned n_seen;
	struct fr_tx seen[FR_MAX_TX]; /* messages ever seen in custody (dest, origin, oseq, hash) */
	unsigned n_grp;
	struct fr_grp grp[FR_MAX_GROUPS];
} fr;

/* ---- virtual clock (fuzz_router_clock.h) --------------------------------- */

uint64_t gw_fuzz_tsc(void) { return fr.vtsc; }
uint64_t gw_fuzz_now_us(void) { return fr.vus; }

static void fr_advance_us(uint64_t us)
{
	fr.vus += us;
	fr.vtsc += us * fr.hz / 1000000u;
}

/* ---- call_rcu on this thread ------------------------------------------------
 * liburcu's call_rcu thread sleeps 10 ms before each batch, so each
 * rcu_barrier() (two per router teardown) cost 10-20 ms of nothing: most of
 * an input's time. This thread is the only one that runs router code (no
 * worker lcore is launched), so run.sh links with -Wl,--wrap for these two:
 * callbacks are queued here and run on this thread after a grace period
 * (fr_rcu_flush(): synchronize_rcu(), then each callback), which is
 * call_rcu()'s whole contract, and rcu_barrier() is that flush. The router's
 * code is unchanged. */
struct fr_cb {
	struct rcu_head *head;
	void (*fn)(struct rcu_head *);
};
static struct fr_cb *fr_cbs;
static size_t fr_n_cb, fr_cap_cb;

void __wrap_urcu_qsbr_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *));
void __wrap_urcu_qsbr_barrier(void);

void __wrap_urcu_qsbr_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	if (fr_n_cb == fr_cap_cb) {
		size_t cap = fr_cap_cb != 0 ? 2 * fr_cap_cb : 64;
		struct fr_cb *n = realloc(fr_cbs, cap * sizeof(*n));

		if (n == NULL)
			abort();
		fr_cbs = n;
		fr_cap_cb = cap;
	}
	fr_cbs[fr_n_cb++] = (struct fr_cb){head, fn};
}

static void fr_rcu_flush(void)
{
	while (fr_n_cb != 0) {
		size_t n = fr_n_cb, i;
		struct fr_cb *batch = malloc(n * sizeof(*batch));

		if (batch == NULL)
			abort();
		memcpy(batch, fr_cbs, n * sizeof(*batch));
		fr_n_cb = 0;
		synchronize_rcu(); /* every reader that could see them is past */
		for (i = 0; i < n; i++)
			batch[i].fn(batch[i].head); /* may queue more: next round */
		free(batch);
	}
}

void __wrap_urcu_qsbr_barrier(void) { fr_rcu_flush(); }

/* ---- deterministic randomness: libsodium's and DPDK's -------------------- */

static uint64_t fr_rand64(void)
{
	uint64_t z = (fr.rng += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static const char *rb_name(void) { return "fuzz_router"; }
static uint32_t rb_random(void) { return (uint32_t)fr_rand64(); }
static void rb_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)fr_rand64();
}
static struct randombytes_implementation rb_impl = {
	.implementation_name = rb_name,
	.random = rb_random,
	.buf = rb_buf,
};

/* ---- input reader --------------------------------------------------------- */

struct rd {
	const uint8_t *p;
	size_t n;
};

static uint8_t u8(struct rd *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}
static uint16_t u16(struct rd *r) { return (uint16_t)(u8(r) << 8 | u8(r)); }
static uint32_t u32(struct rd *r) { return (uint32_t)u16(r) << 16 | u16(r); }
static uint64_t u64(struct rd *r) { return (uint64_t)u32(r) << 32 | u32(r); }

/* ---- addresses ------------------------------------------------------------ */

static uint32_t role_ip(unsigned k, unsigned role)
{
	static const unsigned base[R_COUNT] = {10, 20, 100, 200};

	return FR_IPV4(198, 18, 0, base[role] + (role == R_STRANGER ? 0 : k));
}
static uint16_t role_udp(unsigned k, unsigned role)
{
	static const unsigned base[R_COUNT] = {40000, 41000, 50000, 60000};

	return (uint16_t)(base[role] + (role == R_STRANGER ? 0 : k));
}
static void role_mac(unsigned k, unsigned role, struct rte_ether_addr *m)
{
	*m = (struct rte_ether_addr){{0x02, 0, 0, 0x10, (uint8_t)role, (uint8_t)k}};
}
/* The role and connector of an address the router sent to; R_COUNT: none. */
static unsigned role_of(uint32_t ip, uint16_t udp, unsigned *k)
{
	unsigned r, i;

	for (r = 0; r < R_COUNT; r++)
		for (i = 0; i <= FR_CONNS; i++)
			if (role_ip(i, r) == ip && role_udp(i, r) == udp) {
				*k = i;
				return r;
			}
	*k = 0;
	return R_COUNT;
}

/* ---- custody and state introspection -------------------------------------- */

static const struct dp_conn *rconn(unsigned k)
{
	return dp_conn_peek(fr.rt, fr.c[k].id);
}

static uint32_t fnv(const uint8_t *p, size_t n, uint32_t h)
{
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* Origin, origin seq and content hash of a DATA frame (body at gw). */
static void data_ident(const uint8_t *gw, uint32_t *origin, uint64_t *oseq, uint32_t *hash)
{
	const struct gw_wire_data *d = (const struct gw_wire_data *)(gw + GW_HDR_LEN);
	uint16_t dl = rte_be_to_cpu_16(d->dest_len), pl = rte_be_to_cpu_16(d->payload_len);

	*origin = rte_be_to_cpu_32(d->origin);
	*oseq = rte_be_to_cpu_64(d->origin_seq);
	*hash = fnv(gw + GW_HDR_LEN + GW_DATA_FIXED_LEN, (size_t)dl + pl, 2166136261u);
}

struct fr_held {
	uint32_t dest, origin;
	uint64_t oseq;
	uint32_t hash;
};
static struct fr_held held[FR_CONNS * DP_CUSTODY_MAX];
/* Of them, mbufs of the router's pool (walk_custody()). */
static unsigned held_rt;

/* Walk every custody queue: exact accounting; returns the messages held. */
static unsigned walk_custody(void)
{
	unsigned k, n = 0, i, j;
	uint64_t total = 0;

	held_rt = 0;
	for (k = 1; k <= FR_CONNS; k++) {
		const struct dp_conn *c = rconn(k);
		struct dp_custody *cu;
		uint64_t s;
		uint32_t cnt = 0;

		if (c == NULL)
			FAIL("connector %u vanished", k);
		cu = c->st->cust;
		if (!(cu->head <= cu->next_tx && cu->next_tx <= cu->tail) ||
		    cu->tail - cu->head > (uint64_t)cu->mask + 1)
			FAIL("custody of %u: head %" PRIu64 " next_tx %" PRIu64 " tail %" PRIu64
			     " span beyond %u slots",
			     k, cu->head, cu->next_tx, cu->tail, cu->mask + 1);
		if (cu->head != cu->tail && dp_custody_slot(cu, cu->head)->m == NULL &&
		    cu->head != cu->next_tx)
			FAIL("custody of %u: head %" PRIu64 " is a hole", k, cu->head);
		for (s = cu->head; s != cu->tail; s++) {
			struct dp_cslot *sl = dp_custody_slot(cu, s);
			const uint8_t *gw;

			if (sl->m == NULL)
				continue;
			cnt++;
			if (rte_mbuf_refcnt_read(sl->m) != 1)
				FAIL("custody of %u: seq %" PRIu64 " mbuf shared (refcnt %u)", k, s,
				     rte_mbuf_refcnt_read(sl->m));
			/* Transmitted once: custody's own copy, from the
			 * router's pool (egress.c send_data()). */
			if (sl->m->pool == fr.rt->pool)
				held_rt++;
			gw = rte_pktmbuf_mtod(sl->m, const uint8_t *);
			held[n].dest = k;
			data_ident(gw, &held[n].origin, &held[n].oseq, &held[n].hash);
			n++;
		}
		if (cnt != cu->held)
			FAIL("custody of %u: %u messages in slots, held says %u", k, cnt, cu->held);
		total += cnt;
	}
	if (total != dp_conn_custody_total(fr.rt) || total != cp_custody_total(&fr.cp))
		FAIL("custody total %" PRIu64 " != dp_conn_custody_total %" PRIu64
		     " / cp_custody_total %" PRIu64,
		     total, dp_conn_custody_total(fr.rt), cp_custody_total(&fr.cp));
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (held[i].origin == held[j].origin && held[i].oseq == held[j].oseq)
				FAIL("message %u:%" PRIu64 " held twice (for %u and %u)",
				     held[i].origin, held[i].oseq, held[i].dest, held[j].dest);
	return n;
}

static int is_held(unsigned n, uint32_t origin, uint64_t oseq, uint32_t *hash)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (held[i].origin == origin && held[i].oseq == oseq) {
			if (hash != NULL)
				*hash = held[i].hash;
			return 1;
		}
	return 0;
}

static int dest_acked(uint32_t origin, uint64_t oseq)
{
	unsigned i;

	for (i = 0; i < fr.n_tx; i++)
		if (fr.tx[i].origin == origin && fr.tx[i].oseq == oseq && fr.tx[i].dacked)
			return 1;
	return 0;
}

static struct fr_msg *find_msg(uint32_t k, uint64_t oseq)
{
	unsigned i;

	for (i = 0; i < fr.n_msg; i++)
		if (fr.msg[i].k == k && fr.msg[i].oseq == oseq)
			return &fr.msg[i];
	return NULL;
}

static void seen_add(uint32_t dest, uint32_t origin, uint64_t oseq, uint32_t hash)
{
	unsigned i;

	for (i = 0; i < fr.n_seen; i++)
		if (fr.seen[i].origin == origin && fr.seen[i].oseq == oseq)
			return;
	if (fr.n_seen < FR_MAX_TX)
		fr.seen[fr.n_seen++] =
			(struct fr_tx){.dest = dest, .origin = origin, .oseq = oseq, .hash = hash};
}

/* Note each connector's router session as it stands (after a control
 * pass: the only place sessions open or move). */
static void sessions_seen(void)
{
	unsigned k, i;

	for (k = 1; k <= FR_CONNS; k++) {
		const struct dp_conn *c = rconn(k);
		struct fr_sess_seen *sv = &fr.sess_seen[k];

		if (!c->up || c->epoch == 0)
			continue;
		/* An epoch never comes back: the last one noted or a new one. */
		i = sv->n;
		if (i != 0 && sv->s[i - 1].epoch == c->epoch && sv->s[i - 1].ip_be == c->ip_be &&
		    sv->s[i - 1].udp_be == c->udp_be)
			continue;
		if (i == FR_SESS_SEEN) /* the oldest goes (see FR_SESS_SEEN) */
			memmove(&sv->s[0], &sv->s[1], sizeof(sv->s[0]) * (FR_SESS_SEEN - 1));
		else
			sv->n++;
		sv->s[sv->n - 1] = (struct fr_sess_snap){1, c->epoch, c->ip_be, c->udp_be};
	}
}

static void snap_sessions(void)
{
	unsigned k;

	for (k = 1; k <= FR_CONNS; k++) {
		const struct dp_conn *c = rconn(k);

		fr.snap[k] = (struct fr_sess_snap){c->up, c->epoch, c->ip_be, c->udp_be};
		fr.may_change[k] = 0;
		fr.sess_seen[k].n = 0;
	}
	sessions_seen();
}

static void check_all(void)
{
	struct dp_worker_stats ws;
	uint64_t routed = 0, delivered = 0, rx_data = 0, held_sum = 0;
	unsigned n, i, k;

	n = walk_custody();
	dp_router_stats(fr.rt, &ws);
	for (k = 1; k <= FR_CONNS; k++) {
		const struct dp_conn *c = rconn(k);

		routed += c->st->stats.routed;
		delivered += c->st->stats.delivered;
		rx_data += c->st->stats.rx_data;
		held_sum += c->st->cust->held;
	}
	if (routed != ws.routed || delivered != ws.delivered)
		FAIL("per-connector routed %" PRIu64 " delivered %" PRIu64
		     " != per-worker %" PRIu64 " %" PRIu64,
		     routed, delivered, ws.routed, ws.delivered);
	if (rx_data > ws.rx_data)
		FAIL("per-connector rx_data %" PRIu64 " > per-worker %" PRIu64, rx_data, ws.rx_data);
	if (ws.routed != held_sum + ws.delivered + ws.drops[DP_DROP_MOVE_FAILED])
		FAIL("routed %" PRIu64 " != held %" PRIu64 " + delivered %" PRIu64
		     " + MOVE_FAILED %" PRIu64,
		     ws.routed, held_sum, ws.delivered, ws.drops[DP_DROP_MOVE_FAILED]);
	if (ws.rx_pkts != fr.injected)
		FAIL("rx_pkts %" PRIu64 " != frames enqueued %" PRIu64, ws.rx_pkts, fr.injected);
	{
		/* Every packet received is answered (ARP, ICMP), refused below
		 * the frame (a reason from ETH_SHORT to a WIRE_* one), or a
		 * parsed frame; a steered frame is parsed again by its owner. */
		uint64_t below = ws.arp_replies + ws.icmp_replies;

		for (i = DP_DROP_ETH_SHORT; i <= DP_DROP_WIRE_BAD_FIELD; i++)
			below += ws.drops[i];
		if (ws.rx_pkts + ws.steered != ws.rx_frames + below)
			FAIL("rx_pkts %" PRIu64 " + steered %" PRIu64 " != rx_frames %" PRIu64
			     " + replies and drops below the frame %" PRIu64,
			     ws.rx_pkts, ws.steered, ws.rx_frames, below);
	}
	/* mbufs: at rest each pool holds exactly what custody holds of it:
	 * the router's pool the copies custody took at a first transmission,
	 * the fuzzer's pool the frames as received, never transmitted. */
	if (rte_mempool_in_use_count(fr.rt->pool) != held_rt)
		FAIL("router pool: %u mbufs in use at rest, custody holds %u of it",
		     rte_mempool_in_use_count(fr.rt->pool), held_rt);
	if (rte_mempool_in_use_count(fr.hpool) != n - held_rt)
		FAIL("fuzzer pool: %u mbufs in use, custody holds %u of it",
		     rte_mempool_in_use_count(fr.hpool), n - held_rt);
	for (i = 0; i < n; i++) {
		seen_add(held[i].dest, held[i].origin, held[i].oseq, held[i].hash);
#if FR_AUTH
		{
			const struct fr_msg *m = find_msg(held[i].origin, held[i].oseq);

			if (m == NULL || m->hash != held[i].hash)
				FAIL("custody of %u holds %u:%" PRIu64
				     " that its origin never sent and sealed (forged accepted)",
				     held[i].dest, held[i].origin, held[i].oseq);
		}
#endif
	}
	/* Acknowledged to its origin => held or delivered. */
	for (i = 0; i < fr.n_msg; i++) {
		const struct fr_msg *m = &fr.msg[i];
		uint32_t h;

		if (!m->acked)
			continue;
		if (is_held(n, m->k, m->oseq, &h)) {
#if FR_AUTH
			if (h != m->hash)
				FAIL("message %u:%" PRIu64 " acknowledged, custody holds other content",
				     m->k, m->oseq);
#endif
			continue;
		}
		if (!dest_acked(m->k, m->oseq))
			FAIL("message %u:%" PRIu64
			     " acknowledged to its origin, neither in custody nor acknowledged by a "
			     "destination (lost)",
			     m->k, m->oseq);
	}
#if FR_AUTH
	/* Left custody => its destination acknowledged it. */
	for (i = 0; i < fr.n_seen; i++)
		if (!is_held(n, fr.seen[i].origin, fr.seen[i].oseq, NULL) &&
		    !dest_acked(fr.seen[i].origin, fr.seen[i].oseq))
			FAIL("message %u:%" PRIu64
			     " left custody without a valid ACK from its destination",
			     fr.seen[i].origin, fr.seen[i].oseq);
	for (k = 1; k <= FR_CONNS; k++) {
		const struct dp_conn *c = rconn(k);
		const struct fr_sess_snap *s = &fr.snap[k];

		/* Failure detection: only the connector's own frames keep it up
		 * (a second of slack for the timer's and the scan's rounding). */
		if (c->up && fr.vus - fr.c[k].live_us > fr.cp.sess.dead_us + 1000000u &&
		    fr.vus - fr.snap_us > fr.cp.sess.dead_us + 1000000u)
			FAIL("session of %u up %" PRIu64 " us after its last valid frame "
			     "(failure detection %" PRIu64 " us; the router's last liveness %" PRIu64
			     " us ago, epoch %u, at role %u, connector at role %u)",
			     k, fr.vus - fr.c[k].live_us, fr.cp.sess.dead_us,
			     fr.vus - fr.cp.sess.s[k].last_rx_us, c->epoch,
			     role_of(rte_be_to_cpu_32(c->ip_be), rte_be_to_cpu_16(c->udp_be), &i),
			     fr.c[k].addr);
		if (!fr.may_change[k] && (c->up != s->up || c->epoch != s->epoch ||
					  c->ip_be != s->ip_be || c->udp_be != s->udp_be))
			FAIL("session of %u changed (up %u->%u epoch %u->%u) without a valid "
			     "frame of its own",
			     k, s->up, c->up, s->epoch, c->epoch);
	}
#endif
	if (fr.trace) {
		unsigned nacked = 0;

		for (i = 0; i < fr.n_msg; i++)
			nacked += fr.msg[i].acked;
		fprintf(stderr, "fuzz_router: op %u: routed %" PRIu64 " delivered %" PRIu64
			" held %u; %u messages sent, %u acknowledged, %u transmitted;",
			fr.op_no, ws.routed, ws.delivered, n, fr.n_msg, nacked, fr.n_tx);
		for (k = 1; k <= FR_CONNS; k++)
			fprintf(stderr, " %u:%s%s", k, rconn(k)->up ? "up" : "down",
				fr.c[k].up && fr.c[k].epoch == rconn(k)->epoch ? "+" : "");
		for (i = 0; i < DP_DROP_COUNT; i++)
			if (ws.drops[i] != 0)
				fprintf(stderr, " %s=%" PRIu64, dp_drop_name(i), ws.drops[i]);
		fprintf(stderr, "\n");
	}
	snap_sessions();
}

/* ---- the connectors' end: what the router sent ------------------------------ */

static int covered(uint64_t cum, uint64_t base, uint64_t bitmap, uint64_t s)
{
	return s <= cum || (s >= base && s - base < 64 && (bitmap >> (s - base) & 1));
}

static void rx_add(struct fr_conn *c, uint64_t s)
{
	unsigned i, j;

	if (s <= c->rx_cum)
		return;
	for (i = 0; i < c->n_rx; i++)
		if (c->rx[i] == s)
			return;
	if (c->n_rx == FR_MAX_RX)
		return;
	for (i = 0; i < c->n_rx && c->rx[i] < s; i++)
		;
	memmove(&c->rx[i + 1], &c->rx[i], (c->n_rx - i) * sizeof(c->rx[0]));
	c->rx[i] = s;
	c->n_rx++;
	/* Slide the cumulative point over what is contiguous. */
	for (j = 0; j < c->n_rx && c->rx[j] == c->rx_cum + 1; j++)
		c->rx_cum++;
	memmove(&c->rx[0], &c->rx[j], (c->n_rx - j) * sizeof(c->rx[0]));
	c->n_rx -= j;
}

/* Would connector k accept this session frame from the router? Its tag,
 * lane and counter were checked by check_sealed() (wherever it was sent). */
static int conn_accepts(struct fr_conn *c, const struct gw_frame *f)
{
	return c->up && f->epoch == c->epoch;
}

/* Every frame the router sends for connector k is sealed right: handshake
 * frames (WELCOME, epoch 0) with k's hs.r2c; frames of the session k holds
 * with its s.r2c, on the frame type's lane, with a counter never used
 * before in that session and lane (a repeat is a GMAC IV reuse). Checked
 * for frames to any of k's addresses: the keys, not the address, decide. */
static void check_sealed(struct fr_conn *c, const uint8_t *gw, const struct gw_frame *f)
{
#if FR_AUTH
	unsigned lane = gw_type_lane(f->type);

	if (gw_frame_is_handshake(f->type, f->epoch)) {
		unsigned i;
		int ok = gw_auth_check_hs(gw, f->length, c->hs.r2c) || c->n_old > FR_OLD_KEYS;

		for (i = 0; !ok && i < c->n_old; i++)
			ok = gw_auth_check_hs(gw, f->length, c->old_keys[i].r2c);
		if (!ok)
			FAIL("router's %s (epoch 0 or WELCOME) to %u: tag does not verify with hs.r2c",
			     gw_type_name(f->type), c->id);
		return;
	}
	if (!c->up || f->epoch != c->epoch)
		return; /* a session the connector does not hold (keys unknown here) */
	if (gw_ctr_lane(f->ctr) != lane)
		FAIL("router's %s to %u on lane %u (ctr %" PRIx64 ")", gw_type_name(f->type), c->id,
		     gw_ctr_lane(f->ctr), f->ctr);
	if (!gw_auth_check_session(gw, f->length, &c->r2c))
		FAIL("router's %s to %u in epoch %u: tag does not verify with the session's s.r2c",
		     gw_type_name(f->type), c->id, f->epoch);
	if (!dp_replay_check(&c->rxw[lane], gw_ctr_count(f->ctr)))
		FAIL("router's %s to %u: lane %u counter %" PRIu64
		     " used before (or 0, or far behind) in this session: IV reuse",
		     gw_type_name(f->type), c->id, lane, gw_ctr_count(f->ctr));
	dp_replay_commit(&c->rxw[lane], gw_ctr_count(f->ctr));
#else
	(void)c;
	(void)gw;
	(void)f;
#endif
}

static void on_welcome(struct fr_conn *c, const uint8_t *gw, const struct gw_frame *f)
{
	struct gw_session_keys sk;

	if (f->u.welcome.nonce != c->nonce)
		return;
#if FR_AUTH
	if (!gw_auth_check_hs(gw, f->length, c->hs.r2c) || f->ctr <= c->welcome_ctr ||
	    f->ctr > c->hello_ctr)
		return;
	c->welcome_ctr = f->ctr;
#else
	(void)gw;
#endif
	if (c->up && c->epoch == f->epoch && c->sess_nonce == c->nonce &&
	    memcmp(c->salt, f->u.welcome.salt, GW_SALT_LEN) == 0)
		return; /* the same session again: keys, counters and windows stay */
	c->up = 1;
	c->epoch = f->epoch;
	c->sess_nonce = c->nonce;
	memcpy(c->salt, f->u.welcome.salt, GW_SALT_LEN);
	gw_auth_derive_session(c->key, c->id, c->epoch, c->nonce, c->salt, &sk);
	gw_gmac_key_init(&c->c2r, sk.c2r);
	gw_gmac_key_init(&c->r2c, sk.r2c);
	gw_auth_wipe(&sk, sizeof(sk));
	memset(c->tx_n, 0, sizeof(c->tx_n));
	memset(c->last_ctr, 0, sizeof(c->last_ctr));
	dp_replay_init(&c->rxw[0]);
	dp_replay_init(&c->rxw[1]);
}

/* The model's entry of group (@origin, @group); with @add, a new one (its
 * first chunk injected now) if there is none and room. */
static struct fr_grp *grp_find(uint32_t origin, uint64_t group, int add)
{
	unsigned i;

	for (i = 0; i < fr.n_grp; i++)
		if (fr.grp[i].origin == origin && fr.grp[i].group == group)
			return &fr.grp[i];
	if (!add || fr.n_grp == FR_MAX_GROUPS)
		return NULL;
	fr.grp[fr.n_grp] = (struct fr_grp){.origin = origin, .group = group, .first_us = fr.vus};
	return &fr.grp[fr.n_grp++];
}

/* A chunk transmitted to @k: every chunk of its group goes to one
 * destination (routes, costs, equal-cost sharing and failover after the
 * first transmission never split a group). */
static void check_group(unsigned k, uint32_t origin, const struct gw_frame *f)
{
	struct fr_grp *g = grp_find(origin, f->u.data.chunk.group, 0);

	if (g == NULL || fr.vus - g->first_us > FR_GROUP_TRUST_US)
		return; /* not the model's, or the router may have forgotten it */
	if (g->dest == 0)
		g->dest = k;
	else if (g->dest != k)
		FAIL("group %u:%" PRIu64 " split: chunk %u sent to %u, an earlier one to %u", origin,
		     g->group, f->u.data.chunk.index, k, g->dest);
}

static void on_tx(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)p;
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(eh + 1);
	const struct rte_udp_hdr *uh = (const struct rte_udp_hdr *)(ih + 1);
	const uint8_t *gw = p + DP_PKT_HDRS;
	struct gw_frame f;
	struct fr_conn *c;
	unsigned role, k, i;
	uint16_t len;

	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    ih->next_proto_id != IPPROTO_UDP || uh->src_port != rte_cpu_to_be_16(FR_UDP))
		return; /* ARP and ICMP answers to raw frames */
	if (rte_pktmbuf_data_len(m) < DP_PKT_HDRS)
		FAIL("router sent a %u-byte UDP packet", rte_pktmbuf_data_len(m));
	/* The router never sends what its port cannot carry (TOO_BIG is
	 * decided before custody, never by a failed transmission). */
	if (rte_be_to_cpu_16(ih->total_length) > fr.rt->ports[0].mtu)
		FAIL("router sent a %u-byte IP datagram on a %u-byte MTU port",
		     rte_be_to_cpu_16(ih->total_length), fr.rt->ports[0].mtu);
	len = (uint16_t)(rte_be_to_cpu_16(uh->dgram_len) - 8);
	if ((size_t)DP_PKT_HDRS + len > rte_pktmbuf_data_len(m) ||
	    gw_wire_parse(gw, len, &f) != GW_WIRE_OK)
		FAIL("router sent a frame that does not parse (%u bytes)", len);
	if (f.sender != GW_CONN_ID_ROUTER)
		FAIL("router sent a frame with sender %u", f.sender);
	role = role_of(rte_be_to_cpu_32(ih->dst_addr), rte_be_to_cpu_16(uh->dst_port), &k);
	if (role == R_COUNT || k == 0)
		return; /* to a stranger (answers to its raw frames) */
	c = &fr.c[k];
	check_sealed(c, gw, &f);
	if (f.type == GW_T_DATA) {
		uint32_t origin, hash;
		uint64_t oseq;

		data_ident(gw, &origin, &oseq, &hash);
		for (i = 0; i < fr.n_tx; i++)
			if (fr.tx[i].dest == k && fr.tx[i].eseq == f.seq)
				break;
		if (i == fr.n_tx && fr.n_tx < FR_MAX_TX)
			fr.tx[fr.n_tx++] = (struct fr_tx){.dest = k, .eseq = f.seq, .origin = origin,
							  .oseq = oseq, .hash = hash};
		else if (i < fr.n_tx && (fr.tx[i].origin != origin || fr.tx[i].oseq != oseq))
			FAIL("egress seq %" PRIu64 " to %u carried %u:%" PRIu64 " then %u:%" PRIu64,
			     f.seq, k, fr.tx[i].origin, fr.tx[i].oseq, origin, oseq);
		seen_add(k, origin, oseq, hash);
		if (f.flags & GW_F_CHUNK)
			check_group(k, origin, &f);
	}
	if (f.type == GW_T_KEEPALIVE && f.epoch != 0) {
		/* A KEEPALIVE answer goes to the session's address (then, or
		 * now), never to whoever sent the KEEPALIVE. "Then" is the
		 * address of the session the answer is for (its epoch) when
		 * control answered: control drains its session ring before
		 * its handshake ring (issue 8), so a KEEPALIVE of the old
		 * session checked before a HELLO that moves it is answered
		 * to the old address and leaves after the move; that session
		 * may have opened in a STEP since the last full check (snap),
		 * so the sessions control had after each pass are kept too. */
		const struct dp_conn *rc = rconn(k);
		const struct fr_sess_snap *sn = &fr.snap[k];
		const struct fr_sess_seen *sv = &fr.sess_seen[k];
		int ok = (ih->dst_addr == rc->ip_be && uh->dst_port == rc->udp_be) ||
			 (ih->dst_addr == sn->ip_be && uh->dst_port == sn->udp_be);

		for (i = 0; i < sv->n && !ok; i++)
			ok = sv->s[i].epoch == f.epoch && ih->dst_addr == sv->s[i].ip_be &&
			     uh->dst_port == sv->s[i].udp_be;
		if (!ok)
			FAIL("KEEPALIVE answer for %u sent to role %u, not its session's address", k,
			     role);
	}
	if ((role != R_HOME && role != R_ALT) || role != c->addr)
		return; /* the real connector is not there */
	switch (f.type) {
	case GW_T_WELCOME:
		on_welcome(c, gw, &f);
		return;
	case GW_T_ACK:
		fr.step_acks++;
		if (!conn_accepts(c, &f))
			return;
		for (i = 0; i < fr.n_msg; i++) {
			struct fr_msg *mm = &fr.msg[i];

			if (mm->k == k && mm->oseq > c->floor &&
			    covered(f.seq, f.u.ack.base, f.u.ack.bitmap, mm->oseq))
				mm->acked = 1;
		}
		return;
	case GW_T_DATA:
		if (conn_accepts(c, &f))
			rx_add(c, f.seq);
		return;
	case GW_T_NACK: /* NOT_AUTHORISED echoes a HELLO ctr the router took */
		if (f.epoch == 0 && f.u.nack.reason == GW_NACK_NOT_AUTHORISED &&
		    f.ctr > c->welcome_ctr && f.ctr <= c->hello_ctr)
			c->welcome_ctr = f.ctr;
		return;
	case GW_T_BYE: /* the router closed the session (set-key, delete) */
		if (conn_accepts(c, &f))
			c->up = 0;
		return;
	default:
		return;
	}
}

static void drain_tx(void)
{
	struct rte_mbuf *ms[64];
	unsigned w, n, i;

	for (w = 0; w < fr.nw; w++)
		while ((n = rte_ring_dequeue_burst(fr.b[w], (void **)ms, RTE_DIM(ms), NULL)) != 0)
			for (i = 0; i < n; i++) {
				on_tx(ms[i]);
				rte_pktmbuf_free(ms[i]);
			}
}

/* ---- running the router -------------------------------------------------- */

static uint16_t rx_cb(uint16_t port, uint16_t queue, struct rte_mbuf *pkts[], uint16_t nb,
		      uint16_t max, void *arg)
{
	struct dp_lcore *lc = arg;

	(void)port;
	(void)pkts;
	(void)max;
	/* Inside the iteration, after the loop read the clock and before it
	 * checks the scan deadline: ours, which survives between calls. */
	if (fr.stepping) {
		lc->next_scan = fr.next_scan[queue];
		__atomic_store_n(&lc->rt->stop, true, __ATOMIC_RELAXED);
	}
	return nb;
}

/* One iteration of worker w, on this thread. */
static void fr_step(unsigned w)
{
	struct dp_lcore *lc = fr.rt->lcores[w];
	uint64_t t0;

	fr.step_acks = 0;
	__atomic_store_n(&fr.rt->stop, false, __ATOMIC_RELAXED);
	fr.stepping = 1;
	rcu_unregister_thread(); /* dp_worker_main registers itself */
	t0 = rte_rdtsc();
	dp_worker_main(lc);
	t0 = rte_rdtsc() - t0;
	rcu_register_thread();
	fr.stepping = 0;
	fr.next_scan[w] = lc->next_scan;
	if (t0 > FR_STEP_TSC_MAX)
		FAIL("worker %u: one iteration took %" PRIu64 " cycles", w, t0);
	drain_tx();
	if (fr.step_acks > FR_ACKS_PER_STEP)
		FAIL("worker %u: %u ACK frames in one iteration", w, fr.step_acks);
}

static int quiescent(void)
{
	unsigned w, v;

	if (rte_ring_count(fr.rt->ctl_ring) != 0 || rte_ring_count(fr.rt->ctl_hs_ring) != 0)
		return 0;
	for (w = 0; w < fr.nw; w++) {
		if (rte_ring_count(fr.a[w]) != 0 || rte_ring_count(fr.rt->ctl_tx[w]) != 0)
			return 0;
		if (fr.nw > 1)
			for (v = 0; v < fr.nw; v++)
				if (v != w && (dp_handoff_count(fr.rt->ho_msg, w, v) != 0 ||
					       dp_handoff_count(fr.rt->ho_vrd, w, v) != 0))
					return 0;
	}
	return 1;
}

static void fr_control(void)
{
	rcu_quiescent_state();
	/* After each pass, the sessions control left (a HELLO opens or moves
	 * one; the timers after the frames only close). */
	while (cp_frames_poll(&fr.cp) != 0)
		sessions_seen();
	cp_loop_run_timers(fr.cp.loop, fr.vus);
	rcu_quiescent_state();
	fr_rcu_flush();
}

static void fr_run(void)
{
	unsigned round, w, k;

	/* Frames wait in the rings while the clock moves (a network's delay):
	 * a connector's liveness counts from the run that takes them in (a
	 * single step may have taken them earlier: later is the lenient side). */
	for (k = 1; k <= FR_CONNS; k++)
		if (fr.c[k].live_pending) {
			fr.c[k].live_pending = 0;
			fr.c[k].live_us = fr.vus;
		}

	for (round = 0; round < FR_ROUNDS_MAX; round++) {
		for (w = 0; w < fr.nw; w++)
			fr_step(w);
		fr_control();
		if (quiescent())
			break;
	}
	/* Frames the control thread queued in the last round go out. */
	for (w = 0; w < fr.nw; w++)
		fr_step(w);
	if (!quiescent())
		FAIL("the router did not settle within %u rounds", FR_ROUNDS_MAX);
	for (k = 1; k <= FR_CONNS; k++) {
		const struct dp_conn *c = rconn(k);
		unsigned kk, role = role_of(rte_be_to_cpu_32(c->ip_be), rte_be_to_cpu_16(c->udp_be), &kk);

		fr.c[k].n_old = fr.c[k].move_pending = 0;
		/* Where the connector's HELLO took its session (it may have been
		 * refused: disabled when it arrived, ...): its own addresses only;
		 * anywhere else is the session-change invariant's business. */
		if (kk == k && (role == R_HOME || role == R_ALT))
			fr.c[k].addr = role;
	}
	check_all();
}

/* ---- injecting frames ------------------------------------------------------ */

static void keep_frame(const uint8_t *gw, uint16_t len, unsigned k, unsigned role, unsigned q,
		       int valid)
{
	struct fr_keep *kp;

	if (fr.n_keep == FR_MAX_KEEP || len > GW_FRAME_MAX)
		return;
	kp = &fr.keep[fr.n_keep++];
	kp->len = len;
	kp->k = (uint8_t)k;
	kp->role = (uint8_t)role;
	kp->q = (uint8_t)q;
	kp->valid = (uint8_t)valid;
	memcpy(kp->b, gw, len);
}

static void enqueue(struct rte_mbuf *m, unsigned q)
{
	q %= fr.nw;
	m->port = fr.port;
	if (rte_ring_enqueue(fr.a[q], m) != 0) {
		rte_pktmbuf_free(m);
		fr.ring_full++;
		return;
	}
	fr.injected++;
	if (rte_ring_count(fr.a[q]) >= FR_AUTO_RUN)
		fr_run();
}

/* A UDP datagram carrying @len bytes from (k, role) to the router. */
static void inject_udp(const void *pl, uint16_t len, unsigned k, unsigned role, unsigned q)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fr.hpool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ih;
	struct rte_udp_hdr *uh;
	uint8_t *p;

	if (m == NULL)
		FAIL("fuzzer pool empty");
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(DP_PKT_HDRS + len));
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	eh = (struct rte_ether_hdr *)p;
	ih = (struct rte_ipv4_hdr *)(eh + 1);
	uh = (struct rte_udp_hdr *)(ih + 1);
	eh->dst_addr = fr.rt->ports[0].mac;
	role_mac(k, role, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ih, 0, sizeof(*ih));
	ih->version_ihl = RTE_IPV4_VHL_DEF;
	ih->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + len));
	ih->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ih->time_to_live = 64;
	ih->next_proto_id = IPPROTO_UDP;
	ih->src_addr = rte_cpu_to_be_32(role_ip(k, role));
	ih->dst_addr = rte_cpu_to_be_32(FR_ROUTER_IP);
	ih->hdr_checksum = rte_ipv4_cksum(ih);
	uh->src_port = rte_cpu_to_be_16(role_udp(k, role));
	uh->dst_port = rte_cpu_to_be_16(FR_UDP);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + len));
	uh->dgram_cksum = 0;
	memcpy(uh + 1, pl, len);
	enqueue(m, q);
}

static void inject_eth(const uint8_t *b, uint16_t len, unsigned q)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fr.hpool);
	uint8_t *p;

	if (m == NULL)
		FAIL("fuzzer pool empty");
	p = (uint8_t *)rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	memcpy(p, b, len);
	enqueue(m, q);
}

/* ---- building the connectors' frames ---------------------------------------- */

/* SEAL_OLD: a handshake frame sealed with the key before the last
 * set-key (the same as SEAL_OK until one happened). */
enum { SEAL_OK, SEAL_OLD, SEAL_BAD, SEAL_ZERO };

static unsigned pick_k(uint8_t b, uint32_t *id)
{
	unsigned k = b & 3;

	*id = k == 0 ? FR_UNKNOWN_ID : fr.c[k].id;
	return k;
}

/* Roles that hold no key cannot seal: their tags are never valid. */
static unsigned seal_mode(unsigned seal, unsigned role)
{
	return (role == R_HOME || role == R_ALT) ? seal : SEAL_BAD;
}

static void do_seal(uint8_t *buf, size_t len, unsigned seal, int hs, const struct fr_conn *c)
{
	if (c == NULL || seal == SEAL_ZERO) {
		memset(buf + len - GW_TAG_LEN, 0, GW_TAG_LEN);
		return;
	}
	if (hs)
		gw_auth_seal_hs(buf, len, seal == SEAL_OLD && c->key_gen != 0 ? c->old_hs.c2r : c->hs.c2r);
	else
		gw_auth_seal_session(buf, len, &c->c2r);
	if (seal == SEAL_BAD)
		buf[len - 1] ^= 0x5a;
}

/* The connector's session address as the router may see it now: the one
 * it moved to, or, while its moving HELLO waits for the control thread
 * (frames of the same burst reach the worker first), the one before. */
static int at_session_addr(unsigned k, unsigned role)
{
	return role == fr.c[k].addr || (fr.c[k].move_pending && role == fr.c[k].prev_addr);
}

static int valid_from(unsigned k, unsigned role, unsigned seal)
{
	return k != 0 && (role == R_HOME || role == R_ALT) &&
	       (seal == SEAL_OK || (seal == SEAL_OLD && fr.c[k].key_gen == 0));
}

/* A frame the connector itself sealed: state may change, and it may count
 * as the connector's liveness. */
static void valid_sent(unsigned k, unsigned role)
{
	fr.may_change[k] = 1;
	/* Liveness only from the session's address (v2: any other is refused). */
	if (at_session_addr(k, role))
		fr.c[k].live_pending = 1;
}

/* The frame's address role: the connector's own, or another. */
static unsigned pick_role(unsigned k, unsigned sel)
{
	if (k == 0)
		return sel == 0 ? R_HOME : sel;
	if (sel == 0)
		return fr.c[k].addr;
	if (sel == 1)
		return fr.c[k].addr == R_HOME ? R_ALT : R_HOME;
	return sel;
}

static uint32_t pick_epoch(unsigned k, unsigned sel, struct rd *r)
{
	const struct dp_conn *c = k != 0 ? rconn(k) : NULL;

	switch (sel) {
	case 0:
		return k != 0 ? fr.c[k].epoch : 1;
	case 1: /* what a sniffer learns from the router's frames */
		return c != NULL ? c->epoch : 1;
	case 2:
		return u32(r);
	default:
		return 0;
	}
}

/* The trailer counter of a session frame of @type; *fresh: the next one. */
static uint64_t pick_ctr(struct fr_conn *c, unsigned type, unsigned sel, struct rd *r, int *fresh)
{
	unsigned lane = gw_type_lane(type);

	*fresh = 0;
	if (c == NULL)
		return u64(r);
	switch (sel) {
	case 0:
		*fresh = 1;
		c->last_ctr[lane] = gw_ctr_make(lane, ++c->tx_n[lane]);
		return c->last_ctr[lane];
	case 1:
		return c->last_ctr[lane];
	case 2:
		return u64(r);
	default: /* the other lane */
		return gw_ctr_make(lane ^ 1, ++c->tx_n[lane]);
	}
}

static void op_hello(struct rd *r)
{
	uint8_t b = u8(r), m = u8(r), buf[GW_HELLO_LEN];
	uint32_t id, win;
	unsigned k = pick_k(b, &id), role = pick_role(k, (b >> 2) & 3);
	unsigned seal = seal_mode((b >> 4) & 3, role);
	struct fr_conn *c = k != 0 ? &fr.c[k] : NULL;
	uint64_t seq, nonce, ctr;
	int proof;
	struct gw_hdr_args h = {.sender = id};

	switch (m & 3) {
	case 0:
		seq = c != NULL ? c->next_seq : 1;
		break;
	case 1:
		seq = UINT64_MAX;
		break;
	case 2:
		seq = u64(r);
		break;
	default:
		seq = 1;
		break;
	}
	switch ((m >> 2) & 3) {
	case 0:
		win = 64;
		break;
	case 1:
		win = u32(r);
		break;
	case 2:
		win = 0;
		break;
	default:
		win = UINT32_MAX;
		break;
	}
	if (c != NULL && valid_from(k, role, seal) && (b >> 6 & 1))
		c->nonce = fr_rand64() | 1; /* a new instance of the connector */
	nonce = c != NULL ? c->nonce : u64(r);
	if (c != NULL && !(b >> 7)) {
		/* Fresh: its CLOCK_REALTIME, strictly increasing. */
		ctr = fr.vus * 1000u + 1;
		if (ctr <= c->hello_ctr)
			ctr = c->hello_ctr + 1;
	} else {
		ctr = c != NULL ? c->hello_ctr : u64(r);
	}
	h.seq = seq;
	h.ctr = ctr;
	if (gw_wire_encode_hello(buf, sizeof(buf), &h, nonce, win != 0 ? win : 1) == 0)
		return;
	if (win == 0)
		memset(buf + GW_HDR_LEN + 8, 0, 4);
	do_seal(buf, sizeof(buf), seal, 1, c);
	/* A proof: sealed by the connector, with a ctr the router may take. A
	 * repeated ctr is refused for certain only once a WELCOME echoed a ctr
	 * as new (the router took a HELLO with it); before, the HELLO that
	 * first carried it may have been refused before its ctr counted. */
	proof = c != NULL && valid_from(k, role, seal) && (!(b >> 7) || ctr > c->welcome_ctr) &&
		win != 0 /* else BAD_FIELD */;
	if (proof) {
		c->hello_ctr = ctr;
		if (role != c->addr) {
			c->prev_addr = c->addr;
			c->move_pending = 1;
		}
		c->addr = role;
		if (seq > 0 && seq - 1 > c->floor)
			c->floor = seq - 1;
		valid_sent(k, role);
	}
	if (fr.trace)
		fprintf(stderr, "fuzz_router:   HELLO id %u role %u seal %u seq %" PRIu64 " ctr %" PRIu64
			" nonce %" PRIx64 "%s\n", id, role, seal, seq, ctr, nonce,
			proof ? " (a proof)" : "");
	keep_frame(buf, sizeof(buf), k, role, (m >> 4) & 1, proof);
	inject_udp(buf, sizeof(buf), k, role, k + ((m >> 4) & 1));
}

static const char *const dests[] = {
	"smtp:a@d1.example", "smtp:b@d2.example", "smtp:c@d3.example", "smtp:d@x.any.example",
	"smtp:e@nowhere.test", NULL /* 253 dots */, NULL /* raw */, "x:foo",
};

/*
 * The chunk extension op_data() gives a DATA frame whose b has bit 7 (one
 * more byte, cb, after seed; PROTOCOL.md 3.1.1): count 2 + (cb & 3), index
 * ((cb >> 2) & 7) % count, group seq - index, chunk_len @clen; the last
 * chunk carries 1 + (group * 7 + mismatch) % clen bytes, so every chunk of
 * one group agrees on total_len unless cb's bit 5 (mismatch) differs
 * between them. Returns the payload length this chunk carries.
 */
static uint16_t chunk_make(uint8_t cb, uint16_t clen, uint64_t seq, struct gw_chunk_info *ck)
{
	uint32_t count = 2 + (cb & 3u), index = ((cb >> 2) & 7u) % count;
	uint64_t group = seq - index;
	uint32_t last = 1 + (uint32_t)((group * 7 + ((cb >> 5) & 1u)) % clen);

	*ck = (struct gw_chunk_info){.group = group, .total_len = (count - 1) * clen + last,
				     .count = count, .index = index, .chunk_len = clen};
	return (uint16_t)gw_chunk_payload_len(ck, index);
}

static void op_data(struct rd *r)
{
	uint8_t b = u8(r), m = u8(r), pb = u8(r), cs = u8(r), seed = u8(r);
	uint8_t chunked = b >> 7, cb = chunked ? u8(r) : 0;
	uint16_t clen = 0;
	struct gw_chunk_info ck;
	uint32_t id, origin, epoch;
	unsigned k = pick_k(b, &id), role = pick_role(k, (b >> 2) & 3);
	unsigned seal = seal_mode((b >> 4) & 3, role), dsel = (m >> 5) & 7;
	struct fr_conn *c = k != 0 ? &fr.c[k] : NULL;
	struct fr_msg *rec = NULL;
	static uint8_t buf[GW_FRAME_MAX], pl[GW_PAYLOAD_MAX];
	uint8_t dest[GW_DEST_MAX];
	uint16_t dl, plen;
	uint64_t seq;
	size_t len, i;
	int fresh, own;
	struct gw_hdr_args h = {.sender = id, .flags = (b >> 6) & 1};

	epoch = pick_epoch(k, m & 3, r);
	if (seal == SEAL_OLD && epoch != 0)
		seal = SEAL_OK; /* session keys: no old key to use */
	switch ((m >> 2) & 3) {
	case 0:
		seq = c != NULL ? c->next_seq++ : 1;
		break;
	case 1:
		seq = c != NULL ? c->last_seq : 1;
		break;
	case 2:
		seq = u64(r);
		break;
	default:
		seq = UINT64_MAX;
		break;
	}
	if (c != NULL)
		c->last_seq = seq;
	origin = (m >> 4) & 1 ? u8(r) : id;
	plen = pb < 200 ? pb : (uint16_t)RTE_MIN(1300u + (pb - 200u) * 128u, GW_PAYLOAD_MAX);
	/* A connector's message keeps its content: a repeat is a retransmission.
	 * Its own frames from an address that is not its session's must be
	 * refused (v2: AUTH_FAILED), so they carry other content, never
	 * recorded as sent: custody holding it is a forgery accepted. */
	own = valid_from(k, role, seal) && at_session_addr(k, role);
	if (own && origin == id && (rec = find_msg(k, seq)) != NULL && rec->dsel == 0xff)
		return; /* its content came with a replay: no other for that seq */
	if (own && origin == id && (rec = find_msg(k, seq)) != NULL) {
		dsel = rec->dsel;
		plen = rec->plen;
		seed = rec->seed;
		chunked = rec->chunked;
		cb = rec->cb;
		clen = rec->clen;
	} else if (!own) {
		seed ^= 0xa5;
	}
	if (chunked) {
		if (clen == 0) /* chunk_len from the payload size byte, at least 1 */
			clen = (uint16_t)RTE_MAX(plen, 1u);
		plen = chunk_make(cb, clen, seq, &ck);
	}
	if (dsel == 5) {
		dest[0] = 'x';
		dest[1] = ':';
		memset(dest + 2, '.', 253);
		dl = 255;
	} else if (dsel == 6) {
		dl = (uint16_t)(u8(r) % GW_DEST_MAX + 1);
		for (i = 0; i < dl; i++)
			dest[i] = u8(r);
	} else {
		dl = (uint16_t)strlen(dests[dsel]);
		memcpy(dest, dests[dsel], dl);
	}
	for (i = 0; i < plen; i++)
		pl[i] = (uint8_t)(seed + i * 7 + k);
	h.epoch = epoch;
	h.seq = seq;
	h.ctr = pick_ctr(c, GW_T_DATA, cs & 3, r, &fresh);
	if (chunked) /* refused (0) when seq < index: no group starts below 1 */
		len = gw_wire_encode_chunk(buf, sizeof(buf), &h, origin, seq, dest, dl, pl, plen,
					   &ck);
	else
		len = gw_wire_encode_data(buf, sizeof(buf), &h, origin, seq, dest, dl, pl, plen);
	if (len == 0)
		return;
	if (chunked)
		grp_find(origin, ck.group, 1);
	if (fr.trace && chunked)
		fprintf(stderr, "fuzz_router:   DATA chunk %u/%u of group %" PRIu64 " (%u bytes in %u), seq %" PRIu64 "\n",
			ck.index, ck.count, ck.group, ck.total_len, ck.chunk_len, seq);
	do_seal(buf, len, seal, epoch == 0, c);
	if (valid_from(k, role, seal))
		valid_sent(k, role);
	if (own) {
		if (origin == id && rec == NULL && fr.n_msg < FR_MAX_MSGS) {
			fr.msg[fr.n_msg++] = (struct fr_msg){
				.k = k,
				.oseq = seq,
				.hash = fnv(buf + GW_HDR_LEN + GW_DATA_FIXED_LEN, (size_t)dl + plen,
					    2166136261u),
				.plen = plen,
				.dsel = (uint8_t)dsel,
				.seed = seed,
				.chunked = chunked,
				.cb = cb,
				.clen = clen,
			};
		}
	}
	keep_frame(buf, (uint16_t)len, k, role, (cs >> 2) & 1, valid_from(k, role, seal));
	inject_udp(buf, (uint16_t)len, k, role, k + ((cs >> 2) & 1));
}

/* An ACK the router must apply at all: it names only egress seqs already
 * transmitted to @k (PROTOCOL.md: anything else is refused whole, BAD_ACK),
 * with no arithmetic that wraps. A destination that acknowledges what was
 * sent but never reached it loses its own messages; one that names what
 * was never sent must not. */
static int ack_names_sent(unsigned k, uint64_t cum, uint64_t base, uint64_t bitmap)
{
	uint64_t top = fr.rt->egress_base - 1; /* highest seq sent to k */
	unsigned i, hi;

	for (i = 0; i < fr.n_tx; i++)
		if (fr.tx[i].dest == k && fr.tx[i].eseq > top)
			top = fr.tx[i].eseq;
	if (cum > top)
		return 0;
	if (bitmap == 0)
		return 1;
	hi = 63u - (unsigned)__builtin_clzll(bitmap);
	return base != 0 && base <= UINT64_MAX - hi && base + hi <= top;
}

static void op_ack(struct rd *r)
{
	uint8_t b = u8(r), m = u8(r), cs = u8(r);
	uint32_t id, epoch;
	unsigned k = pick_k(b, &id), role = pick_role(k, (b >> 2) & 3);
	unsigned seal = seal_mode((b >> 4) & 3, role), i;
	struct fr_conn *c = k != 0 ? &fr.c[k] : NULL;
	const struct dp_conn *rc = k != 0 ? rconn(k) : NULL;
	uint8_t buf[GW_ACK_LEN];
	uint64_t cum, base, bitmap = 0;
	int fresh, lane_ok;
	struct gw_hdr_args h = {.sender = id};

	epoch = pick_epoch(k, m & 3, r);
	if (seal == SEAL_OLD && epoch != 0)
		seal = SEAL_OK;
	switch ((m >> 2) & 3) {
	case 0:
		cum = c != NULL ? c->rx_cum : fr.rt->egress_base - 1;
		break;
	case 1:
		cum = u64(r);
		break;
	case 2:
		cum = UINT64_MAX;
		break;
	default:
		cum = 0;
		break;
	}
	switch ((m >> 4) & 3) {
	case 0:
		base = cum + 1;
		break;
	case 1:
		base = 0xFFFFFFFFFFFFFFC1ull;
		break;
	case 2:
		base = u64(r);
		break;
	default:
		base = fr.rt->egress_base;
		break;
	}
	switch (m >> 6) {
	case 0:
		if (c != NULL)
			for (i = 0; i < c->n_rx; i++)
				if (c->rx[i] >= base && c->rx[i] - base < 64)
					bitmap |= 1ull << (c->rx[i] - base);
		break;
	case 1:
		bitmap = UINT64_MAX;
		break;
	case 2:
		bitmap = u64(r);
		break;
	default:
		bitmap = 0;
		break;
	}
	h.epoch = epoch;
	h.seq = cum;
	h.ctr = pick_ctr(c, GW_T_ACK, cs & 3, r, &fresh);
	/* A counter the router has not committed may be a repeat of ours (its
	 * first use was refused): any lane-1 counter but 0 may be accepted. */
	lane_ok = gw_ctr_lane(h.ctr) == GW_LANE_STREAM && gw_ctr_count(h.ctr) != 0;
	(void)fresh;
	if (gw_wire_encode_ack(buf, sizeof(buf), &h, base, bitmap) == 0)
		return;
	do_seal(buf, sizeof(buf), seal, epoch == 0, c);
	if (valid_from(k, role, seal))
		valid_sent(k, role);
	/* What the destination legitimately acknowledges: an ACK it sealed in
	 * the router's current session for it, from its session's address,
	 * on its lane. Without authentication in the router any ACK
	 * the router would apply counts (nothing else can be asked of it). */
	if (rc != NULL && rc->up && epoch == rc->epoch && ack_names_sent(k, cum, base, bitmap) &&
	    (!FR_AUTH || (valid_from(k, role, seal) && lane_ok && at_session_addr(k, role) &&
			  rc->ip_be == rte_cpu_to_be_32(role_ip(k, role)) &&
			  rc->udp_be == rte_cpu_to_be_16(role_udp(k, role)) &&
			  rc->epoch == c->epoch && rc->nonce == c->sess_nonce)))
		for (i = 0; i < fr.n_tx; i++)
			if (fr.tx[i].dest == k && covered(cum, base, bitmap, fr.tx[i].eseq))
				fr.tx[i].dacked = 1;
	keep_frame(buf, sizeof(buf), k, role, (cs >> 2) & 1, valid_from(k, role, seal));
	inject_udp(buf, sizeof(buf), k, role, k + ((cs >> 2) & 1));
}

/* KEEPALIVE or BYE. */
static void op_session(struct rd *r, unsigned type)
{
	uint8_t b = u8(r), m = u8(r), cs = u8(r);
	uint32_t id, epoch;
	unsigned k = pick_k(b, &id), role = pick_role(k, (b >> 2) & 3);
	unsigned seal = seal_mode((b >> 4) & 3, role);
	struct fr_conn *c = k != 0 ? &fr.c[k] : NULL;
	uint8_t buf[GW_BYE_LEN];
	size_t len;
	int fresh;
	struct gw_hdr_args h = {.sender = id};

	epoch = pick_epoch(k, m & 3, r);
	if (seal == SEAL_OLD && epoch != 0)
		seal = SEAL_OK;
	h.epoch = epoch;
	h.seq = (m >> 2) & 1 ? u64(r) : 0;
	h.ctr = pick_ctr(c, type, cs & 3, r, &fresh);
	len = type == GW_T_BYE ? gw_wire_encode_bye(buf, sizeof(buf), &h, (m >> 3) & 1 ? u32(r) : 0)
			       : gw_wire_encode_keepalive(buf, sizeof(buf), &h);
	if (len == 0)
		return;
	do_seal(buf, len, seal, epoch == 0, c);
	if (valid_from(k, role, seal))
		valid_sent(k, role);
	keep_frame(buf, (uint16_t)len, k, role, (cs >> 2) & 1, valid_from(k, role, seal));
	inject_udp(buf, (uint16_t)len, k, role, k + ((cs >> 2) & 1));
}

static void op_raw(struct rd *r)
{
	uint8_t b = u8(r), buf[2048];
	unsigned role = (b >> 1) & 3, k = (b >> 3) & 3, q = (b >> 5) & 1;
	uint16_t len = (uint16_t)(u8(r) | ((b >> 6) ? (u8(r) & 7) << 8 : 0)), i;

	for (i = 0; i < len; i++)
		buf[i] = u8(r);
	if (b & 1) {
		inject_eth(buf, len, q);
		return;
	}
	keep_frame(buf, len, k, role, q, 0);
	inject_udp(buf, len, k, role, q);
}

static void op_replay(struct rd *r)
{
	uint16_t i = u16(r);
	uint8_t b = u8(r);
	const struct fr_keep *kp;
	unsigned role, k;

	if (fr.n_keep == 0)
		return;
	kp = &fr.keep[i % fr.n_keep];
	/* From where it was sent, or from another address of its connector
	 * or an attacker's; never a new valid proof. */
	role = (b & 3) == 0 ? kp->role : (b & 3);
	k = kp->k;
	if (fr.trace)
		fprintf(stderr, "fuzz_router:   REPLAY of frame %u (%u bytes, type %u, sent by %u from role %u) "
			"from role %u, queue %u\n", i % fr.n_keep, kp->len, kp->len > 3 ? kp->b[3] : 0, k,
			kp->role, role, kp->q + ((b >> 2) & 1));
	/* A frame the connector sealed that the router never took (it came
	 * from another address, or its ctr was never committed) is as good as
	 * new at the session's address: the router cannot tell, nor need it.
	 * Such a replay may count (liveness, state), and its message is one
	 * the connector sent. */
	if (kp->valid && k != 0 && at_session_addr(k, role)) {
		valid_sent(k, role);
		if (kp->len > 3 && kp->b[3] == GW_T_DATA) {
			uint32_t origin, hash;
			uint64_t oseq;

			data_ident(kp->b, &origin, &oseq, &hash);
			if (origin == fr.c[k].id && find_msg(k, oseq) == NULL && fr.n_msg < FR_MAX_MSGS)
				fr.msg[fr.n_msg++] = (struct fr_msg){
					.k = k, .oseq = oseq, .hash = hash, .dsel = 0xff};
		}
	}
	inject_udp(kp->b, kp->len, k, role, kp->q + ((b >> 2) & 1));
}

static void op_clock(struct rd *r)
{
	static const uint64_t us[8] = {100, 1000, 10000, 100000, 1000000, 3500000, 10000000,
				       120000000};
	uint8_t b = u8(r);
	unsigned k;

	fr_advance_us(us[b & 7] * (1u + (b >> 3)));
	for (k = 1; k <= FR_CONNS; k++)
		fr.may_change[k] = 1; /* timeouts may close sessions */
}

/* Operator: connector k gets a new key (gwartctl connector set-key): its
 * live session closes (the router says BYE, sealed with the old session's
 * keys); what the old key proves is refused from now on. */
static void op_setkey(struct rd *r)
{
	uint8_t b = u8(r), key[GW_KEY_LEN];
	unsigned k = (b & 3) % FR_CONNS + 1, i;
	struct fr_conn *c = &fr.c[k];
	int rc;

	for (i = 0; i < GW_KEY_LEN; i++)
		key[i] = (uint8_t)(k * 0x11 + i + (c->key_gen + 1) * 0x3d);
	rc = cp_connector_set_key(&fr.cp, c->id, key);
	if (rc != 0)
		FAIL("cp_connector_set_key(%u): %s", k, strerror(-rc));
	c->old_hs = c->hs;
	if (c->n_old < FR_OLD_KEYS)
		c->old_keys[c->n_old] = c->hs; /* until the next run sent what is queued */
	c->n_old++;
	c->key_gen++;
	memcpy(c->key, key, GW_KEY_LEN);
	gw_auth_derive_hs(c->key, c->id, &c->hs);
	fr.may_change[k] = 1;
}

static void op_admin(struct rd *r)
{
	uint8_t b = u8(r);
	unsigned k = (b & 3) % FR_CONNS + 1;

	fr.may_change[k] = 1;
	switch ((b >> 2) & 3) {
	case 0:
		if (cp_connector_enable(&fr.cp, fr.c[k].id, 1) == 0)
			fr.c[k].disabled = 0;
		break;
	case 1:
		if (cp_connector_enable(&fr.cp, fr.c[k].id, 0) == 0)
			fr.c[k].disabled = 1;
		break;
	case 2:
		(void)cp_connector_reconnect(&fr.cp, fr.c[k].id);
		break;
	default:
		if (cp_connector_drain(&fr.cp, fr.c[k].id) == 0)
			fr.c[k].disabled = 1;
		break;
	}
}

enum {
	OP_HELLO,
	OP_DATA,
	OP_DATA2,
	OP_ACK,
	OP_KEEPALIVE,
	OP_BYE,
	OP_RAW,
	OP_REPLAY,
	OP_CLOCK,
	OP_RUN,
	OP_STEP,
	OP_ADMIN,
	OP_SETKEY,
	OP_COUNT
};

static void fr_op(struct rd *r)
{
	static const char *const names[OP_COUNT] = {
		"HELLO", "DATA", "DATA", "ACK", "KEEPALIVE", "BYE", "RAW", "REPLAY", "CLOCK", "RUN",
		"STEP", "ADMIN", "SETKEY"};
	unsigned op = (r->n != 0 ? *r->p : 0) % OP_COUNT;

	if (fr.trace)
		fprintf(stderr, "fuzz_router: op %u %s %02x %02x %02x (t=%.6f s; liveness at %.6f %.6f %.6f)\n",
			fr.op_no, names[op], r->n > 1 ? r->p[1] : 0, r->n > 2 ? r->p[2] : 0,
			r->n > 3 ? r->p[3] : 0, (double)fr.vus / 1e6,
			(double)fr.cp.sess.s[1].last_rx_us / 1e6, (double)fr.cp.sess.s[2].last_rx_us / 1e6,
			(double)fr.cp.sess.s[3].last_rx_us / 1e6);
	switch (u8(r) % OP_COUNT) {
	case OP_HELLO:
		op_hello(r);
		break;
	case OP_DATA:
	case OP_DATA2:
		op_data(r);
		break;
	case OP_ACK:
		op_ack(r);
		break;
	case OP_KEEPALIVE:
		op_session(r, GW_T_KEEPALIVE);
		break;
	case OP_BYE:
		op_session(r, GW_T_BYE);
		break;
	case OP_RAW:
		op_raw(r);
		break;
	case OP_REPLAY:
		op_replay(r);
		break;
	case OP_CLOCK:
		op_clock(r);
		break;
	case OP_RUN:
		fr_run();
		break;
	case OP_STEP:
		fr_step(u8(r) % fr.nw);
		fr_control();
		break;
	case OP_ADMIN:
		op_admin(r);
		break;
	default:
		op_setkey(r);
		break;
	}
}

/* ---- one router per input ------------------------------------------------ */

static void fr_key(unsigned k, uint8_t key[GW_KEY_LEN])
{
	unsigned i;

	for (i = 0; i < GW_KEY_LEN; i++)
		key[i] = (uint8_t)(k * 0x11 + i);
}

static int connector_add(unsigned k)
{
	char name[16];

	snprintf(name, sizeof(name), "fz%u", k);
#if FR_CP_KEYS
	return cp_connector_add(&fr.cp, fr.c[k].id, name, fr.c[k].key);
#else
	return cp_connector_add(&fr.cp, fr.c[k].id, name);
#endif
}

static void fr_setup(uint64_t seed)
{
	struct dp_router_params prm = {
		.nb_mbuf = 1023,
		.mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE,
		.udp_port = FR_UDP,
		.max_routes = 64,
		.prefix = "fr",
	};
	static const struct {
		const char *type, *pat;
		unsigned n;
		struct dp_route_target t[2];
	} routes[] = {
		{"smtp", "d1.example", 1, {{.conn_id = 1, .cost = 1}}},
		{"smtp", "d2.example", 1, {{.conn_id = 2, .cost = 1}}},
		{"smtp", "d3.example", 1, {{.conn_id = 3, .cost = 1}}},
		{"smtp", "*.any.example", 2, {{.conn_id = 2, .cost = 1}, {.conn_id = 3, .cost = 2}}},
		/* equal-cost sharing (a raw destination, dsel 6), which must
		 * never split a group of chunks */
		{"smtp", "*.ecmp.example", 2, {{.conn_id = 2, .cost = 1}, {.conn_id = 3, .cost = 1}}},
		{"x", "*", 1, {{.conn_id = 3, .cost = 1}}},
	};
	unsigned k, w, i;
	int rc, p;

	fr.rng = seed;
	rte_srand(seed);
	fr.vus = FR_VUS0;
	fr.vtsc = FR_VUS0 * (fr.hz / 1000000u);
	fr.rt = dp_router_create(&prm, &rc);
	if (fr.rt == NULL)
		FAIL("dp_router_create: %s", strerror(-rc));
	p = rte_eth_from_rings("fr_port", fr.a, fr.nw, fr.b, fr.nw, (unsigned)rte_socket_id());
	if (p < 0)
		FAIL("rte_eth_from_rings: %s", rte_strerror(rte_errno));
	fr.port = (uint16_t)p;
	rc = dp_port_setup(fr.rt, fr.port, rte_cpu_to_be_32(FR_ROUTER_IP));
	if (rc != 0)
		FAIL("dp_port_setup: %s", strerror(-rc));
	for (w = 0; w < fr.nw; w++) {
		fr.cb[w] = rte_eth_add_rx_callback(fr.port, (uint16_t)w, rx_cb, fr.rt->lcores[w]);
		if (fr.cb[w] == NULL)
			FAIL("rte_eth_add_rx_callback: %s", rte_strerror(rte_errno));
		fr.next_scan[w] = fr.vtsc;
	}
	/* One control context for the process (cp_init() of a whole session
	 * table per input would cost half the run time): each input gets it
	 * back as new, pointed at its router. The sessions of the ids an input
	 * uses are reset by cp_connector_add(). */
	if (fr.cp.loop == NULL) {
		rc = cp_init(&fr.cp, fr.rt);
		if (rc != 0)
			FAIL("cp_init: %s", strerror(-rc));
	}
	fr.cp.rt = fr.rt;
	memset(&fr.cp.stats, 0, sizeof(fr.cp.stats));
	cp_settings_defaults(&fr.cp.set);
	cp_sessions_set_dead_us(&fr.cp.sess, (uint64_t)fr.rt->tun->keepalive_ms *
						     fr.rt->tun->keepalive_mult * 1000u);
	fr.cp.sess.rng = seed | 1;
	fr.cp.sess.ups = fr.cp.sess.downs = 0;
	cp_sess_reset(&fr.cp.sess, FR_UNKNOWN_ID);
	memset(fr.c, 0, sizeof(fr.c));
	for (k = 1; k <= FR_CONNS; k++) {
		struct fr_conn *c = &fr.c[k];

		c->id = k;
		fr_key(k, c->key);
		gw_auth_derive_hs(c->key, c->id, &c->hs);
		c->nonce = fr_rand64() | 1;
		c->next_seq = 1;
		c->addr = R_HOME;
		c->rx_cum = fr.rt->egress_base - 1;
		dp_replay_init(&c->rxw[0]);
		dp_replay_init(&c->rxw[1]);
		rc = connector_add(k);
		if (rc != 0)
			FAIL("cp_connector_add(%u): %s", k, strerror(-rc));
	}
	for (i = 0; i < RTE_DIM(routes); i++) {
		rc = cp_route_add(&fr.cp, routes[i].type, routes[i].pat, routes[i].t, routes[i].n);
		if (rc != 0)
			FAIL("cp_route_add(%s %s): %s", routes[i].type, routes[i].pat, strerror(-rc));
	}
	fr.injected = fr.ring_full = 0;
	fr.n_msg = fr.n_tx = fr.n_keep = fr.n_seen = fr.n_grp = 0;
	fr.op_no = 0;
	fr.snap_us = fr.vus;
	snap_sessions();
}

static void fr_teardown(void)
{
	struct rte_mbuf *m;
	unsigned w, k;

	for (w = 0; w < fr.nw; w++) {
		while (rte_ring_dequeue(fr.a[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		while (rte_ring_dequeue(fr.b[w], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_eth_remove_rx_callback(fr.port, (uint16_t)w, fr.cb[w]);
		rte_free((void *)(uintptr_t)fr.cb[w]); /* DPDK leaves it to us; no thread runs it */
	}
	while (cp_frames_poll(&fr.cp) != 0)
		;
	for (k = 1; k <= FR_CONNS; k++) {
		cp_sess_reset(&fr.cp.sess, fr.c[k].id); /* no timer of this input left armed */
#if FR_CP_KEYS
		cp_auth_destroy(fr.cp.auth[fr.c[k].id]); /* as a delete would */
		fr.cp.auth[fr.c[k].id] = NULL;
#endif
	}
	dp_router_free(fr.rt); /* closes its port */
	/* rte_eth_from_rings() made a vdev of it: the name is free again only
	 * once the device is gone from the bus. */
	rte_vdev_uninit("net_ring_fr_port"); /* the name rte_eth_from_rings() gives it */
	fr.rt = NULL;
	if (rte_mempool_in_use_count(fr.hpool) != 0)
		FAIL("fuzzer pool: %u mbufs never freed", rte_mempool_in_use_count(fr.hpool));
}

static void fr_fini(void)
{
	unsigned w;

	for (w = 0; w < fr.nw; w++) {
		rte_ring_free(fr.a[w]);
		rte_ring_free(fr.b[w]);
	}
	cp_fini(&fr.cp);
	rte_mempool_free(fr.hpool);
	free(fr.keep);
	fr_rcu_flush();
	free(fr_cbs);
	rcu_unregister_thread();
	rte_eal_cleanup();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char lcores[32];
	char *eal[] = {"fuzz_router", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
		       "--log-level=error", lcores, NULL};
	const char *env = getenv("FUZZ_ROUTER_WORKERS");
	char name[32];
	unsigned w;

	(void)argc;
	(void)argv;
	fr.nw = env != NULL && atoi(env) == 2 ? 2 : 1;
	fr.trace = getenv("FUZZ_ROUTER_TRACE") != NULL;
	snprintf(lcores, sizeof(lcores), "--lcores=(0-%u)@(0)", fr.nw);
	/* Before anything draws randomness: every input replays exactly. */
	if (randombytes_set_implementation(&rb_impl) != 0 || gw_auth_init() != 0) {
		fprintf(stderr, "fuzz_router: libsodium init failed (no AES-NI?)\n");
		exit(1);
	}
	if (rte_eal_init((int)RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "fuzz_router: EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	rcu_register_thread();
	fr.hz = rte_get_tsc_hz();
	fr.keep = calloc(FR_MAX_KEEP, sizeof(*fr.keep));
	fr.hpool = rte_pktmbuf_pool_create("fr_hpool", 4095, 0, 0,
					   RTE_PKTMBUF_HEADROOM + FR_MTU_ROOM, SOCKET_ID_ANY);
	if (fr.keep == NULL || fr.hpool == NULL) {
		fprintf(stderr, "fuzz_router: out of memory\n");
		exit(1);
	}
	for (w = 0; w < fr.nw; w++) {
		snprintf(name, sizeof(name), "fr_a%u", w);
		fr.a[w] = rte_ring_create(name, FR_RING, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "fr_b%u", w);
		fr.b[w] = rte_ring_create(name, 8 * FR_RING, SOCKET_ID_ANY, 0);
		if (fr.a[w] == NULL || fr.b[w] == NULL) {
			fprintf(stderr, "fuzz_router: rings: %s\n", rte_strerror(rte_errno));
			exit(1);
		}
	}
	atexit(fr_fini);
	fprintf(stderr, "fuzz_router: %u worker(s), authentication invariants %s\n", fr.nw,
		FR_AUTH ? "on" : "off (router without v2 authentication)");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = {data, size};
	uint64_t seed = fnv(data, size < 16 ? size : 16, 2166136261u);

	fr_setup(seed);
	while (r.n != 0 && fr.op_no < FR_MAX_OPS) {
		fr.op_no++;
		fr_op(&r);
	}
	/* Let everything settle: what is in flight is answered. */
	fr_run();
	fr_advance_us(DP_RTO_SCAN_US * 2);
	fr_run();
	fr_teardown();
	return 0;
}
