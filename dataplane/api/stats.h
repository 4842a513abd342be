/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Drop reasons and counters. Every packet the dataplane does not send or hand
 * on leaves through dp_drop(), which frees it and bumps exactly one counter:
 * the reason list is defined once here and generates the enum, the names and
 * the descriptions (VPP's error X-macro).
 *
 * Counters are written only by the worker that owns them, through
 * DP_COUNT_INC/DP_COUNT_ADD: the writer's plain load, then a relaxed atomic
 * store (a plain add and mov on x86-64 and arm64: no lock prefix, no fence).
 * The control thread reads them with relaxed atomic loads
 * (dp_router_stats(), dp_conn_snapshot()), so the pair is race-free under
 * C11; each counter is consistent on its own, the set is not a snapshot.
 */
#ifndef GWART_DP_STATS_H
#define GWART_DP_STATS_H

#include <stdint.h>

#include "hist.h"

/* Single-writer counter bump that another thread may read (see above). */
#define DP_COUNT_ADD(ctr, n) __atomic_store_n(&(ctr), (ctr) + (n), __ATOMIC_RELAXED)
#define DP_COUNT_INC(ctr) DP_COUNT_ADD(ctr, 1)

/* Each reason: its name, what was dropped, and what an operator should do
 * when it keeps rising (the control thread's rate-limited drop lines, log.c). */
#define DP_DROP_REASONS(X) \
	X(ETH_SHORT, "frame shorter than its Ethernet header", \
	  "runt frames on the link: check the NIC, cabling or the sending host") \
	X(ETH_TYPE, "ethertype neither IPv4 nor ARP", \
	  "non-IPv4 traffic (IPv6, LLDP, VLAN) reaches the port: harmless; filter upstream if heavy") \
	X(ARP_BAD, "malformed ARP", \
	  "a host on the segment sends malformed ARP: find it") \
	X(ARP_NOT_US, "ARP not asking for a router address", \
	  "ARP for other hosts on a shared segment: harmless; give the port its own segment") \
	X(IP_BAD, "malformed IPv4 header", \
	  "malformed IPv4 from a host on the segment: find the source") \
	X(IP_CSUM, "IPv4 header checksum wrong", \
	  "corrupted IPv4 headers: check the link (NIC errors, cabling) and the sender's offloads") \
	X(IP_NOT_US, "IPv4 destination not a router address", \
	  "traffic for other addresses: check the config's ports[].ip and the upstream routing") \
	X(IP_FRAG, "IPv4 fragment (gwart frames are never fragmented)", \
	  "a sender's path MTU is below its frame size: lower its payload size or raise the MTU") \
	X(IP_PROTO, "IPv4 protocol neither UDP nor ICMP", \
	  "only UDP and ICMP echo are served: filter other protocols upstream") \
	X(ICMP_OTHER, "ICMP other than a valid echo request", \
	  "ICMP other than echo requests: harmless unless heavy") \
	X(UDP_BAD, "malformed UDP header", \
	  "malformed UDP from a host on the segment: find the source") \
	X(UDP_CSUM, "UDP checksum wrong", \
	  "corrupted UDP datagrams: check the link and the sender's checksum offload") \
	X(UDP_PORT, "UDP port not the router's", \
	  "UDP to a port gwart does not serve: check the connectors' router port (udp_port)") \
	X(MULTISEG, "frame larger than one mbuf", \
	  "frames larger than one mbuf: raise gwartd --mbuf-size or lower the senders' MTU") \
	X(WIRE_TRUNCATED, "gwart frame truncated", \
	  "malformed gwart frames: update the sending connector, or find the source") \
	X(WIRE_BAD_MAGIC, "gwart frame with wrong magic", \
	  "non-gwart traffic on the gwart port: find the sender") \
	X(WIRE_BAD_VERSION, "gwart frame with unsupported version", \
	  "a connector speaks another protocol version: update it to this router's SDK") \
	X(WIRE_BAD_TYPE, "gwart frame of unknown type", \
	  "a connector built for another protocol version: update it") \
	X(WIRE_BAD_LENGTH, "gwart frame length inconsistent", \
	  "malformed gwart frames: update the sending connector, or find the source") \
	X(WIRE_BAD_FLAGS, "gwart frame with unknown flags", \
	  "a connector built for another protocol version: update it") \
	X(WIRE_DEST_EMPTY, "DATA with empty destination", \
	  "the sending application gives no destination: fix its addressing") \
	X(WIRE_DEST_TOO_LONG, "DATA destination too long", \
	  "the sending application's destinations are too long: fix its addressing") \
	X(WIRE_BAD_DEST, "DATA destination not type:address", \
	  "destinations must be type:address: fix the sending application's addressing") \
	X(WIRE_PAYLOAD_TOO_BIG, "DATA payload too big", \
	  "messages above the maximum payload (gwartd's start-up line): send smaller ones") \
	X(WIRE_BAD_SENDER, "frame sender id invalid", \
	  "a buggy or hostile sender: update the connector, or find the source") \
	X(WIRE_BAD_SEQ, "frame sequence number invalid", \
	  "a buggy or hostile sender: update the connector, or find the source") \
	X(WIRE_BAD_REASON, "NACK with unknown reason", \
	  "a connector built for another protocol version: update it") \
	X(WIRE_BAD_FIELD, "frame field out of range", \
	  "a buggy or hostile sender: update the connector, or find the source") \
	X(WIRE_BAD_CHUNK, "DATA chunk whose extension is inconsistent", \
	  "a buggy or hostile sender: update the connector, or find the source") \
	X(UNKNOWN_CONN, "sender is not a configured connector", \
	  "frames from ids not configured: add the connector (gwartctl connector add) or stop it") \
	X(WRONG_DIRECTION, "frame type a connector may not send", \
	  "frame types only the router sends: a buggy or hostile peer; find the source") \
	X(NO_SESSION, "DATA or ACK without a session or of another epoch (not answered: v2)", \
	  "traffic without a session: connectors reconnect; if it persists, see gwartctl sessions") \
	X(STALE_EPOCH, "ACK from an old session of its sender", \
	  "late ACKs after a reconnect: harmless in bursts; if it persists see gwartctl sessions") \
	X(AUTH_FAILED, "session frame with a wrong tag, from another address, " \
	  "or on the wrong lane", \
	  "frames whose tag did not verify: check connector keys (gwartctl connectors: key_id)") \
	X(REPLAYED, "session frame whose counter was seen already or is too old", \
	  "replayed or very late frames: a duplicating path or a replay attack; check the path") \
	X(CTR_SPENT, "frame not sent: its session's counter is spent (2^56 frames)", \
	  "a session used up its counters: reconnect it (gwartctl connector reconnect ID)") \
	X(BAD_ORIGIN, "DATA whose origin or seq disagree with its sender", \
	  "a connector's DATA contradicts its own identity: update the connector") \
	X(DUP_IN_FLIGHT, "duplicate of a message whose custody is being confirmed", \
	  "a connector retransmits before custody is confirmed: raise its retransmission timeout") \
	X(TOO_FAR, "DATA beyond the duplicate window (NACKed EXPIRED)", \
	  "a connector runs beyond the duplicate window: lower its window (gwartctl sessions)") \
	X(NO_ROUTE, "no route for the destination (NACKed)", \
	  "destinations without a route: add one (gwartctl route add) or fix the sender's addressing") \
	X(BUSY, "destination custody full (NACKed BUSY)", \
	  "a destination's custody is full: it is slow or down (gwartctl sessions)") \
	X(TOO_BIG, "DATA that cannot leave within its destination's MTU (NACKed TOO_BIG)", \
	  "messages larger than their destination port's MTU: raise that MTU or send smaller messages") \
	X(BUSY_BYTES, "destination custody's bytes, or all custody's, at their bound (NACKed BUSY)", \
	  "custody holds too many bytes: destinations are slow or down; raise custody_bytes(_total)") \
	X(MSG_TOO_BIG, "message larger than max_message (NACKed TOO_BIG)", \
	  "messages above the router's max_message: raise it (gwartctl set) or send smaller ones") \
	X(GROUP_TOO_BIG, "message of several frames its destination's custody can never hold " \
	  "(NACKed TOO_BIG)", \
	  "a message needs more than custody_limit slots or custody_bytes: raise them") \
	X(GROUPS_FULL, "groups in progress at their bound, the worker's or the origin's " \
	  "(NACKed BUSY)", \
	  "too many large messages in progress at once: senders should send fewer at a time") \
	X(GROUP_MISMATCH, "chunk whose lengths disagree with its group's (NACKed EXPIRED)", \
	  "a connector reuses a group id with other lengths: a buggy or hostile connector") \
	X(GROUP_EXPIRED, "chunk of a group the router forgot (silent past group_timeout_ms; " \
	  "NACKed EXPIRED)", \
	  "chunks of a message came too late: raise group_timeout_ms or check the sender") \
	X(GROUP_DEST_GONE, "chunk whose group's destination was deleted or disabled " \
	  "(NACKed NO_ROUTE)", \
	  "a destination went away in the middle of a message: the sender gets NO_ROUTE") \
	X(BAD_ACK, "ACK for link sequence numbers never sent", \
	  "ACKs for frames never sent: a buggy or hostile connector; update it or find the source") \
	X(STEER_FULL, "hand-off ring to the owning worker full", \
	  "the workers' hand-off rings overflow: workers overloaded; add workers") \
	X(CTL_FULL, "session ring to the control thread full " \
	  "(established sessions' KEEPALIVE/BYE)", \
	  "the control thread falls behind on keepalives: give it a core of its own") \
	X(CTL_HS_FULL, "handshake ring to the control thread full " \
	  "(HELLO, epoch 0, unknown, mismatched)", \
	  "a handshake flood (attack or reconnect storm): filter unknown sources upstream") \
	X(TX_FULL, "TX queue full", \
	  "the port's TX queue is full: the link is saturated; check its speed and load") \
	X(NO_MBUF, "mempool empty when building a reply", \
	  "the mbuf pool ran dry: raise gwartd --mbufs or lower custody_limit") \
	X(MOVE_FAILED, "failover move found no room (origin told EXPIRED)", \
	  "failover found no room on the other connectors: add capacity or drain less at once") \
	X(PORT_RX, "frame the port refused before the router saw it (larger than an mbuf, " \
	  "receive error, no mbuf: the PMD's ierrors and rx_nombuf)", \
	  "the port refused frames: raise gwartd --mbufs or --mbuf-size; check the NIC's errors")

enum dp_drop_reason {
#define DP_X_ENUM(name, str, advice) DP_DROP_##name,
	DP_DROP_REASONS(DP_X_ENUM)
#undef DP_X_ENUM
	DP_DROP_COUNT
};

/* Stages of the worker loop whose TSC cycles are accounted when the tunable
 * stage_stats is 1 (benchmarks: "where the time goes"), in loop order.
 * Sampled: one busy iteration in DP_STAGE_SAMPLE (64, lcore.h) is timed,
 * from its top TSC to its end, every cycle of it filed under the stage that
 * spent it, and counted DP_STAGE_SAMPLE times; so stage_cycles[] estimate the
 * whole run's busy cycles (their sum is comparable with busy_cycles, which is
 * counted in every busy iteration, unsampled) at a cost of about one TSC
 * read per mark per 64 iterations. Iterations that did no work are not
 * counted, nor is a timed iteration longer than DP_STAGE_SAMPLE_MAX_US
 * (tuning.h: the worker was descheduled; stage_discarded counts them, and
 * the next busy iteration is timed instead), so the stages estimate the
 * worker's own cycles, not the wall-clock time busy_cycles also holds.
 * stage_samples is how many iterations were timed and counted. First
 * transmissions happen as custody is taken, so their frame building counts
 * under CUSTODY; DEST_ACK is destination ACKs releasing custody (the frees
 * of delivered messages); TX is sealing and the PMD's tx_burst. */
#define DP_STAGES(X)                                                                               \
	X(RX, "loop top, PMD receive burst, prefetch of mbuf headers and frames")                 \
	X(PARSE, "L2-L4 classify (ARP/ICMP answered), frame parse, connector prefetch")           \
	X(SESSION, "dispatch (steer, control rings), session checks before the tag")              \
	X(AUTH, "tag verification in bursts (cryptodev)")                                          \
	X(DEDUP, "replay commit, duplicate window check and mark, queueing for routes (DATA)")    \
	X(DEST_ACK, "destination ACKs: custody release and frees of delivered messages")          \
	X(ROUTE, "bulk route lookup")                                                              \
	X(CUSTODY, "destination choice, custody, first transmission")                             \
	X(HANDOFF, "rings from other workers (verdicts, custody, steered frames)")                 \
	X(CONTROL, "frames and commands from the control thread")                                 \
	X(ACK, "ACK frames to origins")                                                            \
	X(RETX, "retransmission scan")                                                             \
	X(TX, "sealing and PMD transmit burst")

enum dp_stage {
#define DP_X_ENUM(name, str) DP_STAGE_##name,
	DP_STAGES(DP_X_ENUM)
#undef DP_X_ENUM
	DP_STAGE_COUNT
};

const char *dp_stage_name(unsigned stage);
const char *dp_drop_name(unsigned reason);
const char *dp_drop_str(unsigned reason);
/* What to do when drops of @reason keep rising (one line, no period). */
const char *dp_drop_advice(unsigned reason);

/* Per-worker counters: written by that worker only. */
struct dp_worker_stats {
	uint64_t rx_pkts;       /* packets received from ports */
	uint64_t rx_frames;     /* gwart frames that parsed */
	uint64_t rx_data;       /* DATA frames from connectors */
	uint64_t routed;        /* messages taken into custody (ACKed to origin) */
	uint64_t acks_sent;     /* ACK frames sent to origins */
	uint64_t nacks_sent;    /* NACK frames sent */
	uint64_t dups;          /* duplicates suppressed (re-ACKed) */
	uint64_t tx_data;       /* DATA frames sent to destinations, first tries */
	uint64_t retransmits;   /* DATA frames sent again */
	uint64_t delivered;     /* messages acknowledged by their destination */
	uint64_t acks_ignored;  /* valid destination ACKs naming nothing new (not drops) */
	uint64_t arp_replies;
	uint64_t icmp_replies;
	uint64_t ctl_frames;    /* frames passed to the control thread: session ring */
	uint64_t ctl_hs_frames; /* frames passed to the control thread: handshake ring */
	uint64_t steered;       /* frames handed to another worker */
	uint64_t handoffs;      /* messages handed to another worker's custody */
	uint64_t moved;         /* never-sent messages failed over to another connector */
	uint64_t failover_too_big; /* failovers refused: the frame exceeds the other
				    * connector's port MTU (kept where it is; per scan) */
	/* Messages of several frames (group.h). */
	uint64_t groups_started;  /* groups routed: their first chunk accepted (origin side) */
	uint64_t groups_done;     /* groups every chunk of which was accepted */
	uint64_t groups_expired;  /* groups forgotten after group_timeout_ms (either side) */
	uint64_t groups_moved;    /* groups failed over whole to another connector */
	uint64_t failover_group_kept; /* failover passes that left a group where it was:
				       * a chunk of it transmitted, or not all arrived */
	uint64_t capture_frames;  /* frames copied into a capture (api/capture_api.h) */
	uint64_t capture_dropped; /* frames a capture missed: its pool empty or its ring
				   * full (the frame itself went on: not a drop) */
	uint64_t loops;         /* main loop iterations */
	uint64_t busy_loops;    /* iterations that did work */
	uint64_t drops[DP_DROP_COUNT];
	uint64_t stage_cycles[DP_STAGE_COUNT]; /* TSC, stage_stats on: sampled x DP_STAGE_SAMPLE */
	uint64_t stage_samples; /* busy iterations timed per stage (stage_stats on) */
	uint64_t stage_discarded; /* timed iterations longer than DP_STAGE_SAMPLE_MAX_US */
	uint64_t busy_cycles;   /* TSC of iterations that did work, from each one's top to its
				 * end: every busy iteration, whatever stage_stats */
	/* Router residence, RX poll to first transmission, TSC cycles
	 * (stage_stats on: the messages of sampled bursts; dp_hist buckets). */
	uint64_t residence[DP_HIST_BUCKETS];
};

/* Per-connector counters, kept in the connector's owner state. */
struct dp_conn_stats {
	/* as origin (ingress) */
	uint64_t rx_data;
	uint64_t routed;
	uint64_t dups;
	uint64_t nacked;
	/* as destination (egress) */
	uint64_t tx_data;
	uint64_t retransmits;
	uint64_t delivered;
	uint64_t moved;         /* never-sent messages failed over away from it */
};

#endif
