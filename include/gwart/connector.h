/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libgwart-connector: what a connector links to speak the gwart protocol
 * (PROTOCOL.md) to a router over an ordinary kernel UDP socket.
 *
 * The SDK owns the session (HELLO/WELCOME, KEEPALIVE, re-HELLO after a
 * loss, protocol v2 authentication), the sending side (origin sequence numbers, a bounded
 * outbox of un-acknowledged messages, retransmission with exponential
 * backoff, the duplicate-window rule, BUSY retries) and the receiving side
 * (duplicate suppression by the router's egress link sequence, one ACK per
 * receive batch). The application sees each message it sends resolved
 * exactly once through on_result() and each message sent to it delivered
 * exactly once through on_deliver() (across sessions, and across clean
 * restarts with a state file; see "Exactly once" below for the limits).
 *
 * Threading: a struct gw_conn is driven by exactly one thread at a time.
 * No function here takes a lock; calling two of them concurrently on the
 * same handle is undefined. Different handles are independent and may be
 * driven by different threads at once. Callbacks run on the thread that
 * called gw_conn_poll(), from inside it.
 *
 * Ownership: gw_conn_open() returns a handle that the caller owns until
 * gw_conn_close(); the SDK allocates everything it needs (outbox, batch
 * buffers, the reassembly tables) in gw_conn_open(), and per message only
 * for messages larger than one frame (see "Messages of any size"). Buffers
 * passed to the SDK are copied before the call returns; buffers passed to
 * callbacks belong to the SDK and are valid only during the callback.
 *
 * Blocking: only gw_conn_poll() with a non-zero timeout and gw_conn_close()
 * (about 2 ms of BYEs) sleep. Nothing else blocks; the socket is
 * non-blocking. With a state file (gw_conn_cfg.state_path) gw_conn_open(),
 * gw_conn_close() and, rarely, gw_conn_poll() and gw_conn_send() also write
 * and fsync() it (see "Persistence").
 *
 * Sessions (PROTOCOL.md 12). The handle says HELLO at once on open and
 * whenever it loses its session, then again after each backoff delay until
 * a WELCOME echoes its nonce, forever: delay k (k = 0, 1, ...) is
 * min(initial x mult^k, max) +- jitter, the same schedule as the router's
 * reconnection probes (defaults as gRPC's: 1 s, x1.6, +-20 %, 120 s cap;
 * gw_conn_cfg.backoff_*). An authenticated router KEEPALIVE with epoch 0
 * (its reconnection probe) makes it say HELLO at once and start the
 * schedule again from k = 0. While up it sends KEEPALIVE every keepalive_ms
 * (from WELCOME) and declares the session lost after keepalive_ms x
 * keepalive_mult without any authenticated frame of the current epoch from
 * the router; a router BYE loses it at once.
 * Losing a session loses no message: the outbox is retransmitted in the
 * next one, and the receive window outlives sessions. The application sees
 * it only as gw_conn_send() returning -ENOTCONN meanwhile, and in the stats
 * (session_losses and loss_* by cause, hellos_sent, sessions, the last
 * GW_CONN_BACKOFF_HIST backoff delays drawn and waited).
 *
 * Authentication (protocol version 2, PROTOCOL.md 17). Every connector
 * has a 32-byte secret, configured on the router too (gwartctl connector
 * add ID NAME --key ...; gwartctl keygen makes one). gw_conn_cfg.key is
 * required: gw_conn_open() refuses an all-zero key (-EINVAL), which is what
 * a forgotten one looks like. Parse a key's text (64 hex digits or base64)
 * with gw_key_parse() and make one with gw_key_generate() (<gwart/auth.h>,
 * exported by this library). The key is copied into the handle (the
 * caller's copy may be wiped once gw_conn_open() returns) and the handle's
 * copy, with every key derived from it, is wiped by gw_conn_close() (and by
 * a failing gw_conn_open()). The SDK seals every frame it sends and checks
 * every frame it receives before acting on it: HELLO and WELCOME with
 * handshake keys and fresh counters (an old WELCOME or probe replayed does
 * nothing), the session's frames with AES-256-GMAC, per-lane counters and
 * replay windows. A frame that fails is dropped and counted (rx_auth_failed,
 * rx_replayed, rx_stale_epoch) and changes nothing, not even the session's
 * liveness. A wrong key therefore looks like a router that never answers:
 * HELLO goes on with the backoff; compare key fingerprints (gwartctl) and
 * watch rx_auth_failed.
 *
 * Persistence (gw_conn_cfg.state_path; NULL keeps nothing across processes).
 * One small file per connector instance, replaced atomically (written to
 * PATH.tmp, fsync(), rename(), fsync() of the directory); PATH.lock is held
 * with flock() while the handle lives, so a second process cannot use the
 * same state at the same time (gw_conn_open() fails with -EBUSY). The file
 * holds, in host byte order (it is not meant to move between hosts):
 *  - the origin sequence ceiling: no origin_seq at or above it was ever
 *    handed out. gw_conn_open() starts at max(cfg.first_seq, ceiling) and
 *    durably moves the ceiling seq_reserve seqs ahead before the first send;
 *    sends then take seqs from memory, and the ceiling is moved ahead again
 *    (from gw_conn_poll(), or synchronously in gw_conn_send() if the reserve
 *    is used up first). gw_conn_close() writes the exact next seq. So a
 *    process that dies without closing skips at most seq_reserve seqs on
 *    restart and never reuses one; a cleanly closed one skips none.
 *  - the receive window: the cumulative point and the marks above it over
 *    the router's egress link sequence, whose value also says which router
 *    process's sequence space it belongs to (PROTOCOL.md 8, 16). It is
 *    written by gw_conn_close() and, when it changed, every state_sync_ms
 *    from gw_conn_poll().
 *  - PATH.groups, written by gw_conn_close() only while groups are in
 *    reassembly (or finished ones remembered) and removed by the next
 *    gw_conn_open() once read ("Messages of any size").
 * What survives: after gw_conn_close() returned 0, everything (the next
 * process neither reuses a seq nor delivers again anything this one
 * delivered). After a crash or SIGKILL: the seq guarantee fully; of the
 * receive window, the state of the last periodic write, so a message
 * delivered after it whose ACK had not reached the router yet is delivered
 * again (at most rx_window messages; the router retransmits them). A
 * missing file starts afresh; a damaged one (bad magic, size, version or
 * checksum) or one written for another connector id makes gw_conn_open()
 * fail (-EBADMSG, -EINVAL) rather than silently forget: remove it to start
 * afresh, and WELCOME.router_seq then keeps new seqs above what the router
 * has seen.
 *
 * Messages of any size (PROTOCOL.md, chunks). gw_conn_send_msg() takes a
 * message of 0..max_message bytes (cfg.max_message, default
 * GW_MSG_DEFAULT_MAX = 1 MiB, at most GW_MSG_MAX = 64 MiB). One that fits
 * one frame (len <= min(cfg.max_payload, WELCOME.max_payload)) leaves as a
 * plain DATA frame, exactly as gw_conn_send() sends it. A larger one leaves
 * as a group of chunk frames with consecutive origin seqs (the message id is
 * the first; chunk payloads are sized so that every chunk frame is no
 * longer than a plain frame of max_payload bytes to the longest
 * destination), each retransmitted, BUSY-retried and acknowledged like any
 * message; on_result() comes once for the whole message. The outbox takes a
 * group whole or not at all: as many chunks as the send window has room for
 * are queued at once, and if that is not all of them, the rest of the
 * message is copied (one allocation of at most len bytes, freed once every
 * chunk is in the window) and released into the window as acknowledgements
 * open it, so a group larger than the window (a 64 MiB message is some
 * 58,000 chunks) streams through the same bounded outbox. While such a
 * group is being released, gw_conn_send() and gw_conn_send_msg() answer
 * -EAGAIN (every seq after it waits for it anyway: the window rule).
 * Receiving: with cfg.on_message set, chunks are reassembled (in any order,
 * duplicated, across session losses, reconnections and router restarts;
 * told apart by (origin, message id) and index) and the message is
 * delivered whole, once, through on_message(); single-frame messages go
 * through on_message() too. Reassembly is bounded: at most rx_groups_max
 * groups and rx_bytes_max bytes in progress (a group reserves its
 * total_len, allocated when its first chunk is taken, never from a length
 * not yet within the bound). A chunk that would exceed either bound is
 * refused WITHOUT acknowledgement and counted (rx_refused_groups,
 * rx_refused_bytes, rx_refused_nomem): the router keeps it and retransmits
 * it later. Size the bounds for the groups that may be in progress at once
 * (senders x their concurrent groups): the router's window towards us is
 * rx_window frames past its lowest unacknowledged one, so when groups in
 * progress need chunks queued behind a refused chunk, nothing moves until
 * the timeout below gives them up. A group of which no new chunk came for
 * rx_group_timeout_ms of session time (time while the session is up; a
 * session loss stops that clock) is given up: freed, counted (rx_expired)
 * and reported through on_rx_notice(GW_RX_EXPIRED); its later chunks are
 * acknowledged and dropped.
 * A group that can never be taken here (total_len above max_message, or no
 * on_message) is given up at its first chunk (rx_too_big, rx_no_handler;
 * on_rx_notice(GW_RX_NOMEM)), its chunks acknowledged and dropped rather
 * than refused forever, which would hold the router's link to us. The
 * SDK remembers the last GW_CONN_RX_DONE_GROUPS groups it delivered or gave
 * up, so that a late chunk of one (a retransmission under a new egress seq,
 * after a router restart) is acknowledged and dropped (rx_late_chunks), not
 * taken as the start of a new group.
 * A partial group's chunks were acknowledged to the router, which no
 * longer holds them, so the SDK is their only keeper. With state_path,
 * gw_conn_close() writes every group in progress (and the set of finished
 * groups) to PATH.groups, durably and before the state file, and the next
 * gw_conn_open() puts them back into reassembly (within its own bounds;
 * what does not fit is counted in rx_restore_dropped and lost) and removes
 * the file: a group survives a clean restart. It does NOT survive a crash
 * or SIGKILL, nor a close without state_path: that message is lost here,
 * although its origin was told the router had it (on_result 0). If the
 * rest of such a group reaches the next process, it gives the group up
 * after rx_group_timeout_ms and reports it (on_rx_notice GW_RX_EXPIRED,
 * with the message id), so the loss is visible at the destination; an
 * application that must not lose a message to a crash needs an end-to-end
 * resend of its own (a receipt and a timeout). Messages that fit one frame
 * keep every guarantee below.
 *
 * Exactly once, and its limits. on_deliver() fires at most once per message
 * the router transmits to this connector (messages are told apart by the
 * router's egress link sequence, which retransmissions reuse), for the
 * handle's life, across any number of sessions with one router process; a
 * message the router has acknowledged to its origin reaches it at least
 * once as long as that router process lives and this connector keeps
 * reconnecting (the SDK does that by itself). With state_path the "at most
 * once" extends across processes that end with gw_conn_close() (see
 * Persistence for a crash). It does not extend:
 *  - across a restart of the router: custody is lost, and a message whose
 *    ACK to its origin was lost may be taken again by the new router process
 *    and delivered again under its new sequence space (PROTOCOL.md 16);
 *  - across processes without state_path: a message delivered whose ACK had
 *    not reached the router may be delivered again by the next process;
 *  - to two handles (or processes) of the same connector id at once: the
 *    router keeps one session per id, the other is not protected;
 *  - to the application's own storage: the SDK acknowledges a message to
 *    the router once on_deliver() returns, so an application that must not
 *    lose a message in a crash makes it durable before returning.
 */
#ifndef GWART_CONNECTOR_H
#define GWART_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when a gw_conn_cfg field is left zero. */
#define GW_CONN_DEF_RTO_US 50000u       /* us: first retransmission timeout */
#define GW_CONN_MAX_RTO_US 1000000u     /* us: cap of the exponential backoff */
#define GW_CONN_HELLO_INTERVAL_US 200000u /* us: a gap-closing HELLO on a live
					   * session is repeated until WELCOME */
#define GW_CONN_DEF_MAX_INFLIGHT 960u   /* messages; the router's usual dup_window */
#define GW_CONN_MAX_INFLIGHT 65536u     /* messages: hard cap of the outbox */
#define GW_CONN_RX_WINDOW_MAX 960u      /* frames: the receive duplicate window */
#define GW_CONN_BATCH 64u               /* datagrams per recvmmsg/sendmmsg */
/* Reconnection backoff (HELLO while the session is down): gRPC's defaults,
 * the same as the router's reconnection probes (PROTOCOL.md 12.3). */
#define GW_CONN_DEF_BACKOFF_INITIAL_MS 1000u
#define GW_CONN_DEF_BACKOFF_MULT_PCT 160u  /* x1.6 per attempt */
#define GW_CONN_DEF_BACKOFF_JITTER_PCT 20u /* +- 20 % */
#define GW_CONN_DEF_BACKOFF_MAX_MS 120000u
#define GW_CONN_BACKOFF_MAX_MS 3600000u   /* largest accepted backoff_max_ms */
#define GW_CONN_NO_JITTER 0xffffffffu     /* backoff_jitter_pct: no jitter at all */
#define GW_CONN_BACKOFF_HIST 16u          /* backoff delays kept in the stats */
/* Persistence (state_path). */
#define GW_CONN_DEF_SEQ_RESERVE 65536u    /* origin seqs reserved per durable write */
#define GW_CONN_DEF_STATE_SYNC_MS 1000u   /* receive window written at most this often */
/* Messages of any size ("Messages of any size" above). */
#define GW_CONN_DEF_RX_GROUPS_MAX 256u    /* groups in reassembly at once */
#define GW_CONN_RX_GROUPS_MAX 4096u       /* largest accepted rx_groups_max */
#define GW_CONN_DEF_RX_BYTES_MULT 16u     /* rx_bytes_max default: 16 x max_message */
#define GW_CONN_DEF_RX_GROUP_TIMEOUT_MS 60000u /* session time without a new chunk */
#define GW_CONN_RX_DONE_GROUPS 4096u      /* groups remembered as delivered or given up */

/* on_rx_notice reasons: why a group in reassembly was given up. */
enum gw_rx_notice_reason {
	GW_RX_EXPIRED = 1, /* no new chunk for rx_group_timeout_ms (its origin or the
			    * router gave the rest up, or it was lost) */
	GW_RX_NOMEM = 2,   /* it can never be reassembled here: total_len above
			    * cfg.max_message, or no on_message callback */
};

/*
 * on_deliver - a message from the router, delivered exactly once.
 * @origin, @origin_seq: the message id (sender connector, its sequence).
 * @dest, @dest_len: destination address as sent; NOT NUL-terminated.
 * @payload, @len: the payload. Both buffers belong to the SDK and are valid
 * only until the callback returns.
 * The callback may call gw_conn_send() on the same handle; it must not call
 * gw_conn_poll() or gw_conn_close(). Not called when cfg.on_message is set
 * (every message then goes through on_message).
 */
typedef void (*gw_conn_deliver_fn)(void *arg, uint32_t origin, uint64_t origin_seq,
				   const char *dest, uint16_t dest_len, const void *payload,
				   uint16_t len);

/*
 * on_result - final outcome of a message this connector sent, called exactly
 * once per successful gw_conn_send() (unless the handle is closed first).
 * @status: 0 = the router acknowledged it (it has custody and will deliver
 * it); otherwise the enum gw_nack_reason the router refused it with
 * (NO_ROUTE, TOO_BIG, NOT_AUTHORISED). BUSY is never reported: the SDK
 * retries it itself (NO_SESSION is not sent by v2 routers and is ignored).
 * EXPIRED is not a refusal either: the SDK keeps the window rule, so the
 * router sends it only for a message it had taken (PROTOCOL.md section 13),
 * which comes as on_result(0) and then on_notice(), even when the NACK
 * overtook its ACK. A refused message is never
 * resent (PROTOCOL.md section 13); to try again, send it anew.
 * Same re-entrancy rules as on_deliver.
 */
typedef void (*gw_conn_result_fn)(void *arg, uint64_t origin_seq, int status);

/*
 * on_notice - the router gave up a message it had already acknowledged
 * (NACK EXPIRED after custody, PROTOCOL.md section 13): delivery is NOT
 * confirmed; it may or may not have reached its destination. Comes after
 * on_result(0) for the same origin_seq (at once after it, from the same
 * poll, when the router's NACK came before its ACK); the SDK does not
 * resend it.
 * @reason: the NACK reason (GW_NACK_EXPIRED). Same re-entrancy rules as
 * on_deliver.
 */
typedef void (*gw_conn_notice_fn)(void *arg, uint64_t origin_seq, int reason);

/*
 * on_message - a whole message from the router, delivered exactly once,
 * whatever its size: a single frame, or a group reassembled from its chunks.
 * @origin, @msg_id: the message id (sender connector, origin_seq of its
 * first frame). @dest, @dest_len: destination as sent, NOT NUL-terminated.
 * @msg, @len: the message (0..cfg.max_message bytes). Buffers belong to the
 * SDK and are valid only until the callback returns (a group's buffer is
 * freed then). When set, on_deliver is not called. The SDK acknowledges the
 * message's last frame once this returns. Same re-entrancy rules as
 * on_deliver.
 */
typedef void (*gw_conn_message_fn)(void *arg, uint32_t origin, uint64_t msg_id, const char *dest,
				   uint16_t dest_len, const void *msg, size_t len);

/*
 * on_rx_notice - a group in reassembly was given up and freed, its message
 * NOT delivered (@reason: enum gw_rx_notice_reason). Once per group. Same
 * re-entrancy rules as on_deliver.
 */
typedef void (*gw_conn_rx_notice_fn)(void *arg, uint32_t origin, uint64_t msg_id, int reason);

/*
 * Configuration. Zero-initialise it and set what you need; zero means the
 * default noted per field. Copied by gw_conn_open(); strings need to live
 * only during that call.
 */
struct gw_conn_cfg {
	uint32_t id;             /* this connector's id, 1..2^32-1 (required) */
	const char *router_addr; /* router IPv4 address, dotted quad (required) */
	uint16_t router_port;    /* 0: GW_WIRE_UDP_PORT */
	const char *bind_addr;   /* local IPv4 address; NULL: chosen by the kernel */
	uint16_t bind_port;      /* local port; 0: ephemeral */
	uint32_t rx_window;      /* frames the router may keep un-acknowledged
				  * towards us; 0 or > GW_CONN_RX_WINDOW_MAX:
				  * GW_CONN_RX_WINDOW_MAX */
	uint64_t first_seq;      /* first origin_seq to use; 0: 1. The router's
				  * record (WELCOME.router_seq) wins if higher. */
	uint32_t rto_us;         /* first retransmission timeout; 0: GW_CONN_DEF_RTO_US */
	uint32_t max_inflight;   /* outbox size; the send window is
				  * min(max_inflight, WELCOME.dup_window);
				  * 0: GW_CONN_DEF_MAX_INFLIGHT */
	uint32_t max_payload;    /* largest payload this handle will send; sizes
				  * the preallocated outbox; 0: GW_PAYLOAD_MAX */
	gw_conn_deliver_fn on_deliver; /* may be NULL (messages are acked, dropped) */
	gw_conn_result_fn on_result;   /* may be NULL */
	void *arg;                     /* passed to every callback */
	gw_conn_notice_fn on_notice;   /* may be NULL */
	/* Reconnection backoff: delay k = min(initial x mult^k, max) +- jitter
	 * between HELLOs while the session is down. */
	uint32_t backoff_initial_ms; /* 0: GW_CONN_DEF_BACKOFF_INITIAL_MS */
	uint32_t backoff_mult_pct;   /* growth per attempt, percent, 100..1000;
				      * 0: GW_CONN_DEF_BACKOFF_MULT_PCT */
	uint32_t backoff_jitter_pct; /* +- percent, 1..100; 0: the default
				      * (20); GW_CONN_NO_JITTER: none */
	uint32_t backoff_max_ms;     /* cap, <= GW_CONN_BACKOFF_MAX_MS;
				      * 0: GW_CONN_DEF_BACKOFF_MAX_MS */
	/* Persistence across processes ("Persistence" above). */
	const char *state_path;      /* NULL: nothing is persisted */
	uint32_t seq_reserve;        /* origin seqs reserved per durable write,
				      * i.e. the most a crash can skip;
				      * 0: GW_CONN_DEF_SEQ_RESERVE */
	uint32_t state_sync_ms;      /* periodic write of the receive window;
				      * 0: GW_CONN_DEF_STATE_SYNC_MS */
	/* Protocol v2 ("Authentication" above). Required: all zero makes
	 * gw_conn_open() fail with -EINVAL. Copied; the handle's copy is
	 * wiped by gw_conn_close(). */
	uint8_t key[GW_KEY_LEN];     /* this connector's 32-byte secret */
	/* Messages of any size ("Messages of any size" above). */
	size_t max_message;          /* largest message gw_conn_send_msg() sends and
				      * reassembly takes; 0: GW_MSG_DEFAULT_MAX;
				      * at most GW_MSG_MAX */
	gw_conn_message_fn on_message;   /* NULL: single frames go to on_deliver,
					  * groups are given up (rx_no_handler) */
	gw_conn_rx_notice_fn on_rx_notice; /* may be NULL */
	uint32_t rx_groups_max;      /* groups in reassembly at once, 1..
				      * GW_CONN_RX_GROUPS_MAX; 0:
				      * GW_CONN_DEF_RX_GROUPS_MAX */
	uint32_t rx_group_timeout_ms; /* give a group up after this much session
				       * time without a new chunk of it; 0:
				       * GW_CONN_DEF_RX_GROUP_TIMEOUT_MS */
	size_t rx_bytes_max;         /* bytes in reassembly at once (each group
				      * reserves total_len + its chunk bitmap);
				      * >= max_message; 0: GW_CONN_DEF_RX_BYTES_MULT
				      * x max_message (reserved, not allocated:
				      * memory follows the groups in progress) */
	/* Fields are only ever appended: zero-initialise the whole struct. */
};

/* One reconnection backoff delay (gw_conn_stats.backoff). */
struct gw_conn_backoff {
	uint32_t attempt;   /* k: 0 after the first HELLO of a reconnection */
	uint32_t reserved;
	uint64_t delay_us;  /* drawn: min(initial x mult^k, max) +- jitter */
	uint64_t waited_us; /* observed time from that HELLO to the next one the
			     * backoff timer sent; 0 when none followed (a
			     * WELCOME came, or a probe made the next HELLO
			     * leave early and restarted the schedule) */
};

/* Counters, a snapshot; all monotonic except the "now" fields at the end. */
struct gw_conn_stats {
	/* sending side */
	uint64_t sent;          /* DATA frames transmitted for the first time */
	uint64_t retransmitted; /* DATA frames transmitted again (RTO, BUSY, new session) */
	uint64_t fast_retransmits; /* of which holes an ACK bitmap showed (before RTO) */
	uint64_t window_cuts;   /* send window halvings after BUSY */
	uint64_t acked;         /* messages the router took custody of: on_result(0) */
	uint64_t failed;        /* messages given up: on_result(reason) */
	uint64_t nacked[GW_NACK_REASON_MAX + 1]; /* NACK frames received, by reason */
	uint64_t acks_received; /* ACK frames from the router */
	uint64_t notices;       /* acknowledged messages the router gave up (on_notice) */
	uint64_t gap_hellos;    /* HELLOs on a live session closing refused seqs' gap */
	uint64_t seq_resyncs;   /* WELCOMEs whose router_seq moved our next seq up */
	/* receiving side */
	uint64_t delivered;     /* messages passed to on_deliver (or on_message) */
	uint64_t duplicates;    /* DATA frames suppressed as already delivered */
	uint64_t rx_too_far;    /* DATA frames beyond the receive window (dropped) */
	uint64_t rx_replaced;   /* receive window started afresh (a new router process) */
	uint64_t acks_sent;     /* ACK frames sent to the router */
	/* session */
	uint64_t hellos_sent;
	uint64_t sessions;      /* WELCOMEs adopted (1 + re-HELLOs that succeeded) */
	uint64_t session_losses;/* sessions lost, any cause (loss_* below) */
	uint64_t keepalives_sent;
	/* datagrams */
	uint64_t rx_frames;     /* valid, authenticated frames received */
	uint64_t rx_bad;        /* datagrams the parser refused */
	uint64_t rx_ignored;    /* valid frames not for us (sender != router, nonce, ...) */
	uint64_t rx_stale_epoch;/* frames dropped for carrying another epoch than the
				 * session's (no key for it), or a session frame
				 * other than ACK while saying HELLO again */
	uint64_t tx_frames;     /* datagrams handed to the kernel */
	uint64_t tx_errors;     /* datagrams the kernel refused (EAGAIN, ENOBUFS, ...) */
	/* now */
	uint64_t next_seq;      /* origin_seq the next gw_conn_send() will use */
	uint32_t inflight;      /* messages in the outbox (sent or waiting, un-acked) */
	uint32_t abandoned;     /* refused seqs still holding the window (gap not closed) */
	uint32_t window;        /* min(max_inflight, dup_window); 0 before WELCOME */
	uint32_t send_window;   /* of which new sends may use now (shrinks after BUSY) */
	uint32_t srtt_us;       /* smoothed round-trip time to the router's ACK, us */
	uint32_t epoch;         /* current session epoch (0 before WELCOME) */
	uint32_t up;            /* 1 while the session is up */
	/* Appended with failure detection, backoff and persistence. Monotonic: */
	uint64_t loss_timeout;  /* session_losses by cause: nothing from the router
				 * for keepalive_ms x keepalive_mult */
	uint64_t loss_no_session; /* protocol v1's NACK NO_SESSION: stays 0 (v2
				   * routers do not send it) */
	uint64_t loss_bye;      /* BYE from the router */
	uint64_t loss_probe;    /* an authenticated router probe (KEEPALIVE, epoch 0) */
	uint64_t probes_received; /* authenticated probes: each made us say HELLO at once */
	uint64_t reconnect_us_last; /* session lost (or handle opened) to WELCOME */
	uint64_t reconnect_us_max;
	uint64_t state_writes;  /* state file writes (each fsync()ed) */
	uint64_t state_errors;  /* state file writes that failed */
	uint64_t backoffs;      /* backoff delays drawn so far */
	/* The last GW_CONN_BACKOFF_HIST of them, oldest first from index
	 * backoffs % GW_CONN_BACKOFF_HIST once more than that many were drawn. */
	struct gw_conn_backoff backoff[GW_CONN_BACKOFF_HIST];
	/* now */
	uint64_t seq_ceiling;   /* state file: no origin_seq >= this handed out; 0:
				 * no state file */
	uint32_t rx_restored;   /* 1: the receive window came from the state file */
	uint32_t state_clean;   /* 1: the state file read at open was written by
				 * gw_conn_close() (0: by a periodic write, or none) */
	/* Appended with protocol v2. Monotonic; each such frame was dropped
	 * before it changed anything: */
	uint64_t rx_auth_failed; /* wrong tag, or a counter of the wrong lane */
	uint64_t rx_replayed;    /* a counter already seen or too old (session
				  * frames), or a WELCOME, NACK NOT_AUTHORISED or
				  * probe not newer than the last one taken */
	/* Appended with messages of any size. Monotonic; sending side: */
	uint64_t groups_sent;    /* messages gw_conn_send_msg() sent as a group */
	uint64_t chunks_sent;    /* their chunk frames transmitted for the first
				  * time (also counted in sent) */
	uint64_t groups_acked;   /* groups on_result(0) (also counted in acked) */
	uint64_t groups_failed;  /* groups on_result(reason) (also in failed) */
	uint64_t stream_waits;   /* sends refused -EAGAIN because a group was
				  * still being released into the window */
	/* receiving side (delivered counts messages, groups included) */
	uint64_t rx_chunks;      /* new chunk frames taken into reassembly */
	uint64_t rx_groups;      /* groups reassembled and delivered (on_message) */
	uint64_t rx_chunk_dups;  /* new frames repeating a chunk index already
				  * held (acknowledged, dropped) */
	uint64_t rx_late_chunks; /* chunks of a group already delivered or given
				  * up (acknowledged, dropped) */
	uint64_t rx_bad_chunks;  /* chunks disagreeing with their group's first
				  * chunk (total_len, count, chunk_len): dropped,
				  * acknowledged */
	uint64_t rx_refused_groups; /* chunks refused unacknowledged: rx_groups_max
				     * groups already in progress */
	uint64_t rx_refused_bytes;  /* chunks refused unacknowledged: the group's
				     * total_len would exceed rx_bytes_max */
	uint64_t rx_refused_nomem;  /* chunks refused unacknowledged: allocating
				     * the group's buffer failed */
	uint64_t rx_expired;     /* groups given up after rx_group_timeout_ms
				  * (on_rx_notice GW_RX_EXPIRED) */
	uint64_t rx_too_big;     /* groups given up: total_len > max_message
				  * (on_rx_notice GW_RX_NOMEM) */
	uint64_t rx_no_handler;  /* groups given up: no on_message (GW_RX_NOMEM) */
	/* now */
	uint64_t rx_bytes_open;  /* bytes reserved by groups in reassembly */
	uint32_t rx_groups_open; /* groups in reassembly */
	uint32_t streaming;      /* 1 while a group is being released into the window */
	uint64_t stream_left;    /* chunks of it not yet in the window */
	/* state_path: groups in reassembly kept across gw_conn_close() */
	uint64_t rx_restored_groups; /* put back into reassembly by gw_conn_open() */
	uint64_t rx_restore_dropped; /* found in the file but beyond this handle's
				      * bounds: lost (counted, not noticed) */
};

struct gw_conn;

/* The functions below are the SDK's public API, exported from
 * libgwart-connector, which is otherwise built with hidden visibility
 * (and listed in its version script, control/sdk/libgwart-connector.map). */
#pragma GCC visibility push(default)

/*
 * gw_conn_open - create a socket, bind/connect it and send the first HELLO.
 * Returns the handle, or NULL with *err (if err != NULL) set to a negative
 * errno: -EINVAL for a bad configuration (an all-zero key included, or a
 * state file of another connector id), -ENOTSUP when the CPU lacks the
 * AES instructions the session tags need, -ENOMEM, -EBUSY (another live handle holds state_path),
 * -EBADMSG (a damaged state file), or the socket or file error.
 * With state_path it first reads the state file and durably reserves the
 * origin seqs it will use ("Persistence" above).
 * The session is not up on return: drive gw_conn_poll() until
 * gw_conn_is_up().
 * Threading: any thread; the returned handle is then owned by the caller.
 */
struct gw_conn *gw_conn_open(const struct gw_conn_cfg *cfg, int *err);

/*
 * gw_conn_send - queue one message for @dest ("type:value", 1..GW_DEST_MAX
 * bytes, NUL-terminated) with @len bytes of @payload (copied).
 * On success returns 0, stores the message's origin_seq in *origin_seq (if
 * not NULL) and guarantees exactly one later on_result() for it. The frame
 * leaves in the current batch: when GW_CONN_BATCH frames are queued, on
 * gw_conn_flush() or on the next gw_conn_poll().
 * Errors: -EAGAIN the send window is full (poll, then retry), -ENOTCONN no
 * session (before WELCOME, or while re-HELLOing), -EMSGSIZE @len above the
 * configured or the router's max_payload, -EINVAL bad arguments, -EIO (with
 * state_path) the origin seq reserve is used up and moving it ahead on disk
 * failed: nothing was sent; retry later. -EOVERFLOW origin seqs are used
 * up (2^64 - 2 is the last one handed out).
 * Threading: the handle's thread; may be called from callbacks.
 */
int gw_conn_send(struct gw_conn *c, const char *dest, const void *payload, uint16_t len,
		 uint64_t *origin_seq);

/*
 * gw_conn_send_msg - queue one message of any size, 0..cfg.max_message
 * bytes, for @dest (as gw_conn_send()); @msg is copied or encoded before the
 * call returns. A message that fits one frame is sent exactly as
 * gw_conn_send() sends it; a larger one as a group of chunks ("Messages of
 * any size" above), taken whole or not at all.
 * On success returns 0, stores the message id (the origin_seq of its first
 * frame) in *msg_id (if not NULL) and guarantees exactly one later
 * on_result(msg_id, status): 0 once the router acknowledged every chunk,
 * else the reason of the first refusal (NO_ROUTE, TOO_BIG, NOT_AUTHORISED),
 * the rest of the group then abandoned (never resent). on_notice(msg_id,
 * EXPIRED) as for single frames, at most once per message for the last
 * GW_CONN_RX_DONE_GROUPS groups sent (an older group's chunk is reported
 * under the chunk's own origin_seq).
 * Errors: those of gw_conn_send(), -EMSGSIZE above max_message or when no
 * chunk payload fits a frame with this destination, -EAGAIN also while an
 * earlier group is still being released into the window (nothing was
 * queued), -ENOMEM the copy of a group larger than the free window could
 * not be allocated (nothing was queued), -EOVERFLOW the group's seqs would
 * pass 2^64 - 2.
 * Threading: the handle's thread; may be called from callbacks.
 */
int gw_conn_send_msg(struct gw_conn *c, const char *dest, const void *msg, size_t len,
		     uint64_t *msg_id);

/*
 * gw_conn_flush - hand every queued frame to the kernel now.
 * Returns 0 or a negative errno (frames the kernel refused are kept and
 * retried by gw_conn_poll(); this is not fatal).
 * Threading: the handle's thread; not from callbacks.
 */
int gw_conn_flush(struct gw_conn *c);

/*
 * gw_conn_poll - the handle's engine: flush, wait up to @timeout_ms (0: do
 * not wait, < 0: until something happens; the SDK wakes itself for its own
 * timers either way) for datagrams, receive them in batches, run callbacks,
 * acknowledge, run timers (HELLO with backoff, KEEPALIVE, failure
 * detection, retransmissions, state file writes) and flush.
 * Returns the number of valid frames received (>= 0), or a negative errno
 * for a socket failure that will not heal by itself.
 * Threading: the handle's thread; not from callbacks.
 */
int gw_conn_poll(struct gw_conn *c, int timeout_ms);

/*
 * gw_conn_fd - the socket, for callers that multiplex several handles in
 * their own poll()/epoll: wait for POLLIN, then call gw_conn_poll(c, 0).
 * Call gw_conn_poll() at least every gw_conn_next_timeout_ms() as well.
 * The descriptor stays owned by the handle: do not read, write or close it.
 */
int gw_conn_fd(const struct gw_conn *c);

/* Milliseconds until the handle's next timer (HELLO, KEEPALIVE, failure
 * detection, RTO, BUSY retry, state file write); -1 when none is armed.
 * Threading: the handle's thread. */
int gw_conn_next_timeout_ms(const struct gw_conn *c);

/* 1 while a session is up (WELCOME adopted, not lost since), else 0.
 * Threading: the handle's thread. */
int gw_conn_is_up(const struct gw_conn *c);

/* Copy the counters into *st. Threading: the handle's thread (other threads
 * must synchronise with it themselves). */
void gw_conn_get_stats(const struct gw_conn *c, struct gw_conn_stats *st);

/*
 * gw_conn_close - send BYE if the session is up (three copies, 1 ms apart:
 * it is not acknowledged, so this blocks about 2 ms), write the state file
 * (state_path: the exact next origin seq and the receive window), close the
 * socket and free the handle and everything it owns. Messages still in the
 * outbox are abandoned WITHOUT on_result() and their seqs are never reused:
 * drain first (stats.inflight == 0) if that matters. Groups in reassembly
 * are written to PATH.groups with state_path (restored by the next
 * gw_conn_open()), else freed without on_rx_notice() and lost (see
 * "Messages of any size").
 * Returns 0, or a negative errno from the state file or PATH.groups write
 * or from close(2) (the handle is freed anyway; a failed state write leaves
 * the last periodic one, as after a crash; a failed PATH.groups write loses
 * the groups in reassembly, as a crash does).
 * NULL is accepted and ignored. Threading: the handle's thread; not from
 * callbacks.
 */
int gw_conn_close(struct gw_conn *c);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* GWART_CONNECTOR_H */
