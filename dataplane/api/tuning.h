/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tuning constants of the dataplane, each with its unit. Compile-time limits
 * live here; the runtime tunables (gwartctl get/set) default to the
 * DP_DEF_* values.
 */
#ifndef GWART_DP_TUNING_H
#define GWART_DP_TUNING_H

#include <gwart/wire.h> /* GW_MSG_DEFAULT_MAX */

#include "dedup.h" /* DP_DEDUP_BITS, DP_DEDUP_WINDOW */

/* Burst sizes (packets). */
#define DP_BURST_MAX 64         /* largest RX/TX burst any loop uses */
#define DP_DEF_BURST 32         /* default RX burst */

/* Duplicate window: DP_DEDUP_BITS and DP_DEDUP_WINDOW (messages) are part of
 * the protocol core (dataplane/proto/dedup.h): the SDK announces the same. */

/* Custody: messages held per destination (power of two). A message of
 * several frames takes one slot per chunk: at 1,177 payload bytes a frame
 * (MTU 1500), a 1 MiB message is 891 slots, a 64 MiB one (GW_MSG_MAX)
 * 57,000; so the ring may be that large (32 bytes a slot: 2 MiB at
 * DP_CUSTODY_MAX), sized from custody_limit and max_message when the
 * connector is created (conn.c), never larger. A group larger than
 * custody_limit slots is taken while its destination's custody is
 * otherwise empty (groups.c). */
#define DP_CUSTODY_MAX 65536    /* compile-time ring size per destination */
#define DP_DEF_CUSTODY_LIMIT 1024 /* messages: BUSY past this (runtime tunable) */
#define DP_DEF_BUSY_RETRY_US 2000 /* us: retry_after_us in BUSY NACKs */
/* Custody in bytes: application payload held (a message of several frames
 * reserves its whole total_len at its first chunk), per destination and
 * over all destinations; past either, BUSY. The total is shared out
 * equally between the workers (each holds the custody of the destinations
 * it owns, and counts its own: no counter is shared between cores), so
 * each worker's destinations hold at most custody_bytes_total / workers. */
#define DP_DEF_CUSTODY_BYTES (16u << 20)        /* bytes per destination (16 MiB) */
#define DP_DEF_CUSTODY_BYTES_TOTAL (256u << 20) /* bytes over all (256 MiB) */

/* Messages of several frames (chunk groups, PROTOCOL.md; group.h). */
#define DP_CHUNK_MIN_PAYLOAD 512 /* bytes: the least payload a chunk is assumed to
				  * carry when a custody ring is sized for a
				  * message of max_message bytes (conn.c): 1,153
				  * at MTU 1500 less a long destination */
#define DP_DEF_MAX_MESSAGE GW_MSG_DEFAULT_MAX /* bytes: larger ones NACKed TOO_BIG */
#define DP_GROUPS_MAX 1024      /* groups in progress per worker, on each side
				 * (origin: routing; destination: custody), power
				 * of two; full: BUSY */
#define DP_GROUPS_PER_ORIGIN 256 /* groups one origin may have in progress at once
				  * (so one origin cannot take a worker's table) */
#define DP_DEF_GROUP_TIMEOUT_MS 120000 /* ms: a group none of whose chunks came for
				       * this long is forgotten (its reservation
				       * freed; later chunks NACKed EXPIRED). As
				       * long as an SDK's reconnection backoff
				       * (DP_DEF_BACKOFF_MAX_MS) */
#define DP_GROUP_SCAN 64        /* group entries looked at per retransmission scan */

/* Retransmission towards destinations. */
#define DP_DEF_RTO_US 20000     /* us: first retransmission timeout */
#define DP_MAX_RTO_US 1000000   /* us: cap after exponential backoff */
#define DP_RTO_SCAN_US 1000     /* us: how often a worker scans for expired RTOs */
#define DP_MIN_RTO_US 10000     /* us: floor of the adaptive RTO (scheduler noise) */

/* Stage accounting (tunable stage_stats): a timed iteration longer than
 * this is not counted (the next busy one is timed instead): no burst takes
 * that long, so the worker was descheduled or interrupted, and counted 64
 * times (DP_STAGE_SAMPLE) one such pause would swamp the estimate. */
#define DP_STAGE_SAMPLE_MAX_US 1000 /* us */

/* Hand-off rings between workers (entries, power of two). */
#define DP_HANDOFF_RING_SIZE 4096

/* Rings between workers and the control thread (entries, power of two).
 * Workers -> control is two rings, so that handshake traffic (a flood of
 * HELLOs or of frames for unknown ids, from anyone) never competes with the
 * keepalives of established sessions (issue 8: no third party can silence
 * a connector):
 *   session ring: KEEPALIVE/BYE whose sender has a session up, with that
 *     session's epoch, from that session's address (cheap checks in the
 *     worker; control still verifies every tag). Drained whole first in
 *     every control poll. Full: drop CTL_FULL.
 *   handshake ring: every other frame for control (HELLO, epoch 0, unknown
 *     ids, mismatches). At most DP_CTL_HS_BATCH of them per control poll.
 *     Full: drop CTL_HS_FULL.
 * DP_CTL_RING_SIZE is also the size of each control -> worker TX ring
 * (ctl_tx). Held mbufs: up to DP_CTL_RING_SIZE + DP_CTL_HS_RING_SIZE - 2
 * from the packet pool while control is behind. */
#define DP_CTL_RING_SIZE 1024    /* entries: session ring, and each ctl_tx ring */
#define DP_CTL_HS_RING_SIZE 1024 /* entries: handshake ring */
#define DP_CTL_HS_BATCH 128      /* frames: handshake frames per control poll
				  * (~one BLAKE2b each: ~130k cycles, well
				  * under 100 us; then the session ring again) */

/* Connectors and routes. */
#define DP_MAX_CONNECTORS 65536 /* connector ids 1..DP_MAX_CONNECTORS-1 */
#define DP_DEF_MAX_ROUTES 65536 /* runtime: size of the route index */
/* Per-worker cache of resolved routes in front of the route index (route.h,
 * struct dp_route_cache): entries, power of two; 32 bytes each, so 4096 is
 * 128 KiB per worker, which stays in L2 next to the hot routes themselves. */
#define DP_ROUTE_CACHE_ENTRIES 4096

/* Sessions. */
#define DP_DEF_AUTH_SESSIONS 1024 /* connector sessions with cryptodev keys at once
				   * (two cryptodev sessions each), those waiting
				   * for an RCU grace period included */
#define DP_DEF_KEEPALIVE_MS 1000 /* ms */
#define DP_DEF_KEEPALIVE_MULT 3  /* missed intervals before down */
#define DP_DEF_BACKOFF_INITIAL_MS 1000  /* ms: first reconnection delay (gRPC) */
#define DP_DEF_BACKOFF_MULT_PCT 160     /* percent: delay growth per attempt (x1.6) */
#define DP_DEF_BACKOFF_JITTER_PCT 20    /* percent: +- random spread */
#define DP_DEF_BACKOFF_MAX_MS 120000    /* ms: delay cap */

/* Mempool. */
#define DP_MBUF_CACHE 256       /* per-lcore mempool cache (mbufs) */
#define DP_DEF_NB_MBUF 16383    /* mbufs in the packet pool (at least: see
				 * dp_router_pool_min()) */
/* Descriptors per port queue (port.c; the PMD may adjust them). */
#define DP_RX_DESC 1024         /* mbufs an RX queue holds */
#define DP_TX_DESC 1024         /* mbufs a TX queue may hold until the NIC is done */

#endif
