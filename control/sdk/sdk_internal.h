/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connector SDK's internal header: struct gw_conn and the functions its
 * files call in each other, none of them exported. One concern per file:
 *   connector.c  handle lifetime, session (HELLO/WELCOME/KEEPALIVE/BYE, failure
 *                detection, reconnection backoff), poll
 *   outbox.c     sending side: origin seqs, window rule, ACK/NACK, retransmit
 *   group.c      sending side of messages larger than a frame: chunking,
 *                releasing a group into the window, one result per group
 *   receive.c    receiving side: duplicate window, delivery, batch ACK
 *   reasm.c      receiving side of groups: reassembly, its bounds, timeout
 *   rxsave.c     groups in reassembly across a clean close (PATH.groups)
 *   io.c         batched socket I/O (recvmmsg/sendmmsg)
 *   state.c      the state file: origin seq ceiling and receive window
 * Every symbol is prefixed gw_sdk_ and hidden (the pragma below, the
 * library's hidden default and its version script).
 *
 * Threading, for everything here: a struct gw_conn belongs to the one
 * thread that drives it (<gwart/connector.h>, "Threading"). Every function
 * below runs on that thread, inside a public call on the handle; none takes
 * a lock or uses atomics on the handle, so none may ever run on one handle
 * from two threads at once. (The one state shared between handles is the
 * process's last HELLO counter, an atomic in connector.c.) What differs between them is noted per function:
 *   callbacks   may run the application's on_deliver, on_result or
 *               on_notice, from which the application may call
 *               gw_conn_send() on this handle: the function leaves the
 *               handle consistent before each callback and does not rely
 *               across it on what gw_conn_send() changes (next_seq, the tx
 *               queue, outbox slots);
 *   re-entered  reachable from gw_conn_send(), hence also from inside a
 *               callback while a function marked "callbacks" is on the
 *               stack;
 *   sends       may hand the tx queue to the kernel (sendmmsg with
 *               MSG_DONTWAIT: never blocks);
 *   blocks      writes and fsync()s the state file (state_path only).
 * Unmarked functions do none of these.
 */
#ifndef GWART_SDK_INTERNAL_H
#define GWART_SDK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <gwart/auth.h>
#include <gwart/connector.h>
#include <gwart/wire.h>

#include "dedup.h"
#include "replay.h"
#include "rtt.h"

/* Largest control frame we encode (ACK/NACK/HELLO/WELCOME/BYE). */
#define GW_SDK_CTL_FRAME_MAX (GW_WELCOME_LEN)
/* Transmit queue: a full batch of DATA plus room for the control frames
 * (ACKs, HELLO, KEEPALIVE) that one poll can produce before it flushes. */
#define GW_SDK_TXQ_MAX (2 * GW_CONN_BATCH)
/* At most this many receive batches per gw_conn_poll(), so that timers and
 * the caller's own work are not starved by a flood. */
#define GW_SDK_RX_BATCHES_PER_POLL 16
/* UDP GSO: equal-sized frames leave as one send the kernel splits. Limits:
 * the kernel's segment count and one UDP datagram's worth of bytes. */
#define GW_SDK_GSO_SEGS 64
#define GW_SDK_GSO_BYTES 65000

/* Control message space for one UDP_SEGMENT (a u16). */
union gw_sdk_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(uint16_t))];
};

enum gw_sdk_state {
	GW_SDK_HELLO = 0, /* saying HELLO until a WELCOME with our nonce */
	GW_SDK_UP,        /* session up: DATA may flow */
	GW_SDK_CLOSED,    /* BYE sent, handle being freed */
};

/* One message in the outbox. The slot of origin_seq s is s & out_mask; the
 * window rule keeps every in-flight seq within out_cap of the lowest one, so
 * slots never collide. The frame is kept fully encoded: a retransmission
 * only rewrites the header (epoch, RETRANSMIT flag). */
struct gw_sdk_slot {
	uint64_t seq;       /* origin_seq held, valid unless state == FREE */
	uint64_t due_us;    /* next (re)transmission time; 0 = as soon as allowed */
	uint32_t rto_us;    /* current RTO, doubled per retransmission, capped */
	uint16_t len;       /* encoded frame length */
	uint8_t state;      /* enum gw_sdk_slot_state */
	uint8_t queued : 1; /* in the tx queue now: do not queue it twice */
	uint8_t kick : 1;   /* due because of an event (BUSY retry, new
			     * session), not a timeout: no RTO backoff */
	uint8_t fast : 1;   /* due as a hole an ACK bitmap showed */
	uint8_t busy_n : 5; /* consecutive BUSY NACKs, for the retry backoff */
	uint32_t tx_count;  /* transmissions handed to the kernel so far */
	int32_t gidx;       /* LIVE chunk of a group: its tx_groups index; -1:
			     * a single-frame message */
	uint64_t last_tx_us; /* when the last of them was */
	uint8_t *frame;     /* into out_arena, out_frame_cap bytes */
};

/* A group being sent (group.c): one per message sent as chunks, from
 * gw_conn_send_msg() until its on_result(). */
struct gw_sdk_txgroup {
	uint64_t base;     /* origin_seq of chunk 0: the message id */
	uint32_t count;    /* chunks */
	uint32_t left;     /* chunks not acknowledged yet (in the window or not) */
	int32_t next_free; /* free list link while unused */
	bool used;
};

/* The one group whose chunks are not all in the window yet (group.c). Its
 * seqs [base, base + count) are handed out; [base, base + next) are in the
 * outbox; chunks from copy_first on are read from copy. */
struct gw_sdk_stream {
	bool on;
	int32_t gidx;
	uint64_t base;
	uint32_t count, next, copy_first;
	uint32_t chunk_len;
	uint32_t total_len;
	uint8_t *copy;      /* message bytes from chunk copy_first on */
	uint16_t dest_len;
	char dest[GW_DEST_MAX];
};

/* A recently sent group, for mapping a chunk's NACK EXPIRED to its message. */
struct gw_sdk_txhist {
	uint64_t base;
	uint32_t count;
	uint32_t noticed;  /* on_notice given for it */
};
#define GW_SDK_TXHIST GW_CONN_RX_DONE_GROUPS /* power of two */

/* (origin, group): a group's identity at the receiver. */
struct gw_sdk_gkey {
	uint64_t group;
	uint32_t origin;
	uint32_t used;     /* 0: the entry holds no key */
};

/* Open-addressing index (linear probing) from a gw_sdk_gkey to its position
 * in an array of keys: reasm.c's groups and its set of finished ones. */
struct gw_sdk_gindex {
	int32_t *pos;      /* -1: empty */
	uint32_t mask;     /* capacity - 1, capacity a power of two >= 2 x keys */
};

/* A group in reassembly (reasm.c). */
struct gw_sdk_rxgroup {
	uint32_t total_len, count, chunk_len, have;
	uint64_t last_us;  /* session clock of its last new chunk */
	size_t charge;     /* bytes reserved against rx_bytes_max */
	uint8_t *buf;      /* total_len bytes */
	uint64_t *bits;    /* chunk i held: bit i */
	uint16_t dest_len;
	uint8_t dest[GW_DEST_MAX];
};

/* Why a session was lost (gw_conn_stats.loss_*). */
enum gw_sdk_loss {
	GW_SDK_LOSS_TIMEOUT,    /* keepalive_ms x keepalive_mult of silence */
	GW_SDK_LOSS_NO_SESSION, /* NACK NO_SESSION (protocol v1 only: unused) */
	GW_SDK_LOSS_BYE,        /* BYE from the router */
	GW_SDK_LOSS_PROBE,      /* an authenticated router probe (KEEPALIVE, epoch 0) */
	GW_SDK_LOSS_REKEY,      /* a lane's counter ran out: HELLO as a new instance */
};

enum gw_sdk_slot_state {
	GW_SDK_SLOT_FREE = 0,
	GW_SDK_SLOT_LIVE,      /* un-acknowledged: (re)transmitted when due */
	GW_SDK_SLOT_ABANDONED, /* refused and reported, never resent; still
				* counts for the window rule until the router's
				* cumulative point passes it (PROTOCOL.md 13) */
};

/* One datagram waiting for sendmmsg. DATA entries point into their outbox
 * slot and name it (slot, seq) so that flush can skip an entry whose slot
 * was resolved meanwhile; control entries own a small buffer. */
struct gw_sdk_txent {
	const uint8_t *buf;
	uint16_t len;
	int32_t slot;      /* outbox slot index, -1 for a control frame */
	uint64_t seq;      /* origin_seq the DATA entry was queued for */
	uint8_t ctl[GW_SDK_CTL_FRAME_MAX];
};

struct gw_conn {
	int fd;
	uint32_t id;
	enum gw_sdk_state state;
	uint64_t nonce;        /* per handle, random; echoed by WELCOME */
	uint32_t epoch;        /* adopted from WELCOME; 0 before */

	/* Protocol v2 authentication (auth.h, PROTOCOL.md 17). Everything
	 * here is secret or derived from the secret: gw_conn_close() wipes
	 * the whole handle before freeing it. */
	uint8_t key[GW_KEY_LEN];  /* the connector's secret (a copy of cfg.key) */
	struct gw_hs_keys hs;     /* hs.c2r seals HELLO, hs.r2c checks epoch-0 frames */
	bool have_session;        /* s_tx/s_rx hold the keys of (epoch, salt) */
	uint8_t salt[GW_SALT_LEN]; /* the WELCOME salt they were derived with */
	struct gw_gmac_key s_tx;  /* s.c2r: every session frame we send */
	struct gw_gmac_key s_rx;  /* s.r2c: every session frame we accept */
	uint64_t tx_count[GW_LANE_COUNT]; /* last counter used per lane */
	struct dp_replay rx_replay[GW_LANE_COUNT]; /* router frames per lane */
	uint64_t hello_ctr;       /* newest HELLO's ctr (CLOCK_REALTIME ns) */
	uint64_t answer_ctr;      /* last accepted WELCOME / NACK NOT_AUTHORISED ctr */
	uint64_t probe_ctr;       /* last accepted probe's ctr */
	bool rekey;               /* a lane ran out of counters: new instance */

	/* Router parameters from the last WELCOME. */
	uint32_t dup_window;
	uint32_t keepalive_ms;
	uint32_t keepalive_mult; /* failure detection: keepalive_ms x this */
	uint32_t router_max_payload;

	/* Configuration. */
	uint32_t rx_window;
	uint32_t rto_us;
	uint32_t max_inflight;
	uint32_t max_payload;
	size_t max_message;
	gw_conn_deliver_fn on_deliver;
	gw_conn_result_fn on_result;
	gw_conn_notice_fn on_notice;
	gw_conn_message_fn on_message;
	gw_conn_rx_notice_fn on_rx_notice;
	void *arg;

	/* Timers, CLOCK_MONOTONIC microseconds. */
	uint64_t hello_due_us;  /* HELLO state: next HELLO */
	uint64_t gap_hello_due_us; /* UP: repeat of a gap-closing HELLO */
	bool gap_hello_pending;    /* a gap-closing HELLO awaits its WELCOME */
	uint64_t ka_due_us;
	uint64_t rtx_due_us;   /* earliest due_us in the outbox (lower bound) */
	uint64_t last_rx_us;   /* last valid frame of the current epoch from
				* the router (or the WELCOME): the session is
				* lost keepalive_ms x keepalive_mult after it */
	uint32_t ka_unanswered; /* KEEPALIVEs due since last_rx_us: a silence
				 * is the router's only once we asked */
	/* Reconnection backoff (HELLO state): the next HELLO leaves
	 * backoff(reconnect_attempts) after the last one. */
	uint64_t bo_initial_us;
	uint64_t bo_max_us;
	uint32_t bo_mult_pct;
	uint32_t bo_jitter_pct;
	uint32_t reconnect_attempts; /* delays drawn since the schedule began */
	uint64_t last_hello_us;      /* when the last HELLO of this state left */
	bool bo_open;                /* the newest backoff entry awaits waited_us */
	uint64_t lost_at_us;         /* session lost (or handle opened) */
	uint64_t rng;          /* xorshift state for jitter */

	/* Sending side. */
	uint64_t next_seq;     /* next origin_seq to put into the outbox */
	uint64_t alloc_seq;    /* next origin_seq to hand out: next_seq, or
				* above it while a group streams (stream) */
	uint64_t out_head;     /* lowest un-acknowledged origin_seq (== next_seq if empty) */
	uint64_t router_cum;   /* the router's cumulative point for us as the
				* current session reported it (WELCOME
				* router_seq, ACK seq): a restarted router
				* may stand below out_head - 1 (outbox.c) */
	uint64_t ack_reach;    /* highest seq an ACK bitmap has reported on */
	struct dp_rtt rtt;     /* RTT of first transmissions (Karn); SDK uses srtt_us */
	uint64_t ack_rtt_us;   /* smallest sample of the ACK being applied */
	uint64_t min_rtt_us;   /* smallest sample ever: the path without queues */
	uint64_t newest_acked_tx_us; /* latest transmission time of any acked frame */
	uint32_t cwnd;         /* BUSY back-pressure: new sends stay within it */
	uint32_t cwnd_acc;     /* acked messages towards the next increment */
	uint64_t cwnd_cut_us;  /* last decrease (at most one per RTT) */
	bool rtx_deferred;     /* timeouts held back beyond what ACKs can report */
	bool rtx_window_held;  /* retransmissions held beyond the window's end */
	uint32_t out_cap;      /* slots, power of two >= max_inflight */
	uint32_t out_mask;
	uint32_t out_live;     /* LIVE slots */
	uint32_t out_abandoned; /* ABANDONED slots */
	uint32_t out_frame_cap;
	struct gw_sdk_slot *out;
	uint8_t *out_arena;
	/* Groups being sent (group.c). */
	struct gw_sdk_txgroup *txg; /* out_cap + 1 entries */
	int32_t txg_free;
	struct gw_sdk_stream stream;
	struct gw_sdk_txhist *txh;  /* GW_SDK_TXHIST, the newest at txh_n - 1 */
	uint64_t txh_n;

	/* Receiving side. */
	bool rx_placed;        /* the window was placed by a WELCOME's seq */
	uint32_t rx_seq_n;     /* DATA taken or duplicate in this batch */
	uint64_t rx_seqs[GW_CONN_BATCH]; /* their link seqs: each ACKed */
	struct dp_dedup rx_dedup;
	/* Reassembly (reasm.c). */
	uint32_t rxg_max;      /* rx_groups_max */
	uint32_t rxg_n;        /* groups in progress */
	size_t rx_bytes_max;
	size_t rx_bytes;       /* reserved by groups in progress */
	uint64_t rxg_timeout_us;
	struct gw_sdk_rxgroup *rxg;  /* rxg_max entries */
	struct gw_sdk_gkey *rxg_key; /* their keys (used = 0: free) */
	struct gw_sdk_gindex rxg_idx;
	struct gw_sdk_gkey *rxd_key; /* finished groups, a ring of
				      * GW_CONN_RX_DONE_GROUPS */
	struct gw_sdk_gindex rxd_idx;
	uint64_t rxd_n;              /* ever added (ring position) */
	uint64_t rx_expiry_check;    /* session clock of the next expiry scan */
	/* Session clock: time spent UP (group timeouts run on it). */
	uint64_t up_accum_us;
	uint64_t up_since_us;

	/* Batched I/O. */
	uint32_t txq_n;
	bool tx_blocked;       /* the kernel said EAGAIN: wait for POLLOUT */
	struct gw_sdk_txent *txq;
	struct mmsghdr *tx_msgs;   /* one per datagram, or per GSO group */
	struct iovec *tx_iov;      /* one per queued frame */
	uint32_t *tx_msg_first;    /* first frame of each message */
	union gw_sdk_cmsg *tx_cmsg;
	bool gso_off;              /* the kernel refused UDP_SEGMENT once */
	struct mmsghdr *rx_msgs;
	struct iovec *rx_iov;
	uint8_t *rx_buf;       /* GW_CONN_BATCH * GW_FRAME_MAX */

	/* State file (state.c); state_path NULL: none. */
	char *state_path, *state_tmp, *state_dir;
	int lock_fd;           /* PATH.lock, flock()ed while the handle lives */
	uint64_t seq_ceiling;  /* durable: no origin_seq >= it handed out */
	uint32_t seq_reserve;
	uint64_t state_sync_us;
	uint64_t state_due_us; /* next periodic write of the receive window */
	bool rx_dirty;         /* the receive window changed since the last write */
	bool state_failed;     /* the last write failed: retry after a period */

	struct gw_conn_stats st;
};

/* Everything below stays inside the shared object. */
#pragma GCC visibility push(hidden)

/* connector.c */
/* CLOCK_MONOTONIC in us. Any thread: reads the clock and nothing else. */
uint64_t gw_sdk_now_us(void);
/* Fill @h for a frame of this handle (sender, epoch, @flags, @seq).
 * Re-entered. */
void gw_sdk_hdr(const struct gw_conn *c, struct gw_hdr_args *h, uint16_t flags, uint64_t seq);
/* The session is gone (@why, for the stats): back to HELLO, the outbox
 * kept. From gw_conn_poll() (a frame or a timer). Sends. */
void gw_sdk_session_lost(struct gw_conn *c, uint64_t now, enum gw_sdk_loss why);
/* Queue a HELLO and arm its repetition (backoff, or the gap interval on a
 * live session). From gw_conn_open() and gw_conn_poll(). Sends. */
void gw_sdk_send_hello(struct gw_conn *c, uint64_t now);
/* The epoch frames from the router must carry: ours while UP, else 0. */
uint32_t gw_sdk_cur_epoch(const struct gw_conn *c);
/* Seal one complete frame of ours (its length @len) just before it is
 * queued: a HELLO with hs.c2r (its ctr already written), any other frame
 * with the session keys and the next counter of its lane, written into its
 * trailer. False (nothing may be sent) when there is no session key for
 * the frame's epoch, or its lane ran out of counters (rekey is then set).
 * Re-entered. */
bool gw_sdk_seal(struct gw_conn *c, uint8_t *frame, size_t len);

/* io.c */
/* Allocate the batch buffers. From gw_conn_open(), before the handle is
 * returned. -ENOMEM; gw_sdk_io_free() then frees what was allocated. */
int gw_sdk_io_init(struct gw_conn *c);
/* Free them; safe on a partly initialised handle. From gw_conn_open()'s
 * unwinding and gw_conn_close(). */
void gw_sdk_io_free(struct gw_conn *c);
/* A control frame's buffer at the tail of the tx queue (NULL: full even
 * after a flush; the frame's own timer repeats it), to be encoded into and
 * committed with gw_sdk_txq_commit_ctl() before anything else touches the
 * queue. From gw_conn_open(), gw_conn_poll() and gw_conn_close(). Sends. */
uint8_t *gw_sdk_txq_ctl(struct gw_conn *c, uint64_t now);
void gw_sdk_txq_commit_ctl(struct gw_conn *c, size_t len);
/* Queue outbox slot @slot's frame (header already set). Re-entered;
 * sends once a batch is queued. */
void gw_sdk_txq_data(struct gw_conn *c, uint32_t slot, uint64_t now);
/* Hand the queue to the kernel; frames it refuses are due again at once.
 * 0 or a negative errno that will not heal by itself. Re-entered (from
 * gw_sdk_txq_data()); runs no callbacks. */
int gw_sdk_txq_flush(struct gw_conn *c, uint64_t now);
/* Receive one batch into rx_msgs (valid until the next call): datagrams
 * received, 0 for none, or -errno. From gw_conn_poll(); never blocks. */
int gw_sdk_rx_batch(struct gw_conn *c);

/* outbox.c */
/* Allocate the outbox for max_inflight messages, from next_seq. From
 * gw_conn_open(), after gw_sdk_state_open() (which may move next_seq).
 * -ENOMEM; gw_sdk_outbox_free() then frees what was allocated. */
int gw_sdk_outbox_init(struct gw_conn *c);
/* Free it; safe on a partly initialised handle. From gw_conn_open()'s
 * unwinding and gw_conn_close(). */
void gw_sdk_outbox_free(struct gw_conn *c);
/* An ACK (cumulative point @cum, @bitmap of the 64 seqs from @base):
 * resolves what it covers, idempotent. From gw_conn_poll(). Callbacks
 * (on_result): its loops are bounded before the first one. */
void gw_sdk_outbox_ack(struct gw_conn *c, uint64_t cum, uint64_t base, uint64_t bitmap,
		       uint64_t now);
/* A NACK: a final refusal, a BUSY retry, or EXPIRED after custody (a
 * notice); NO_SESSION is ignored (v2 routers do not send it). From
 * gw_conn_poll(). Callbacks (on_result, on_notice). */
void gw_sdk_outbox_nack(struct gw_conn *c, const struct gw_frame *f, uint64_t now);
/* A WELCOME of a new epoch: apply its router_seq, reopen the send window,
 * make everything outstanding due at once. From gw_conn_poll(). Callbacks
 * (on_result, through gw_sdk_outbox_router_seq()). */
void gw_sdk_outbox_new_session(struct gw_conn *c, uint64_t router_seq);
/* A WELCOME's router_seq: what it covers is acknowledged, and next_seq
 * moves above it if the router has seen seqs we would reuse. From
 * gw_conn_poll(). Callbacks (on_result). */
void gw_sdk_outbox_router_seq(struct gw_conn *c, uint64_t router_seq);
/* (Re)transmit what is due. From gw_conn_poll(). Sends. */
void gw_sdk_outbox_timers(struct gw_conn *c, uint64_t now);
/* The protocol window min(max_inflight, dup_window), 0 unless UP; and of
 * it what new sends may use now (BUSY's cwnd). Re-entered. */
uint32_t gw_sdk_window(const struct gw_conn *c);
uint32_t gw_sdk_send_window(const struct gw_conn *c);
/* The seq a HELLO carries: the lowest one this handle will still send. */
uint64_t gw_sdk_outbox_hello_seq(const struct gw_conn *c);
/* True when a HELLO must move the router's cumulative point: a refused
 * (abandoned) seq holds the head of the window, or the router's point
 * stands below seqs this handle has settled (router_cum + 1 < out_head). */
bool gw_sdk_outbox_gap_at_head(const struct gw_conn *c);

/* outbox.c, for group.c */
/* Room for new seqs in the outbox now (window rule, BUSY's cwnd): how many
 * more may be put in from next_seq. Re-entered. */
uint32_t gw_sdk_outbox_room(const struct gw_conn *c);
/* Put the frame of seq next_seq (already encoded into its slot's frame,
 * @flen bytes) into the outbox as LIVE, of group @gidx (-1: none), and queue
 * it. Re-entered; sends. */
void gw_sdk_outbox_put(struct gw_conn *c, size_t flen, int32_t gidx, uint64_t now);
/* The slot frame seq next_seq goes into. */
uint8_t *gw_sdk_outbox_next_frame(const struct gw_conn *c);
/* Abandon LIVE seq @seq (the rest of a refused group): never resent, holds
 * the window until the gap is closed; no callback. */
void gw_sdk_outbox_abandon(struct gw_conn *c, uint64_t seq);

/* group.c */
/* Allocate / free the group tables. From gw_conn_open() after the outbox /
 * gw_conn_close(); -ENOMEM. Free is safe on a partly initialised handle. */
int gw_sdk_group_init(struct gw_conn *c);
void gw_sdk_group_free(struct gw_conn *c);
/* Chunk @seq of group @gidx was acknowledged (0) or refused (@status):
 * on_result once the group's outcome is known. Callbacks. */
void gw_sdk_group_resolved(struct gw_conn *c, int32_t gidx, uint64_t seq, int status);
/* The message id to report a NACK EXPIRED of @seq under, and whether to
 * report it at all (false: its group was noticed already). */
bool gw_sdk_group_notice_id(struct gw_conn *c, uint64_t seq, uint64_t *msg_id);
/* Release more of the streaming group into the window. Re-entered; sends. */
void gw_sdk_stream_pump(struct gw_conn *c, uint64_t now);

/* state.c */
/* Read and lock the state file (state_path), move next_seq and place the
 * receive window from it, and durably reserve seqs. From gw_conn_open(),
 * before the outbox. 0 or -EBUSY, -EBADMSG, -EINVAL, a file error; blocks. */
int gw_sdk_state_open(struct gw_conn *c, const struct gw_conn_cfg *cfg);
/* Move the ceiling max(seq_reserve, @need) seqs ahead of alloc_seq,
 * durably. 0 or a file error. Re-entered (gw_conn_send() with the reserve
 * used up); blocks. */
int gw_sdk_state_reserve(struct gw_conn *c, uint64_t need);
/* The periodic writes (the ceiling at half the reserve, the receive window
 * every state_sync_ms). From gw_conn_poll(); blocks when one is due. */
void gw_sdk_state_tick(struct gw_conn *c, uint64_t now);
/* When gw_sdk_state_tick() next has work (UINT64_MAX: none). */
uint64_t gw_sdk_state_deadline(const struct gw_conn *c);
/* The final write (the exact next seq, the window, "clean"); the lock is
 * released by gw_sdk_state_free(). From gw_conn_close(); blocks. */
int gw_sdk_state_close(struct gw_conn *c);
/* Close the lock and free the paths; safe on a partly initialised handle.
 * From gw_conn_open()'s unwinding and gw_conn_close(). */
void gw_sdk_state_free(struct gw_conn *c);

/* receive.c */
/* A DATA frame of the current epoch: delivered if new (marked before the
 * callback, so never twice), counted if a duplicate, noted for the batch's
 * ACK either way. From gw_conn_poll(). Callbacks (on_deliver). */
void gw_sdk_rx_data(struct gw_conn *c, const struct gw_frame *f, uint64_t now);
/* Frame @seq was taken (new): mark it done and note it for the batch's ACK.
 * Re-entered from reasm.c. */
void gw_sdk_rx_taken(struct gw_conn *c, uint64_t seq);
/* End of a receive batch: queue the ACKs that cover what it took. From
 * gw_conn_poll(). Sends. */
void gw_sdk_rx_batch_end(struct gw_conn *c, uint64_t now);
/* A WELCOME's seq (the router's cumulative point towards us): place the
 * receive window there, or start it afresh for another router process.
 * From gw_conn_poll(). */
void gw_sdk_rx_place(struct gw_conn *c, uint64_t router_cum);

/* reasm.c */
/* Allocate / free the reassembly tables. From gw_conn_open() /
 * gw_conn_close(); -ENOMEM; free is safe on a partly initialised handle. */
int gw_sdk_reasm_init(struct gw_conn *c, const struct gw_conn_cfg *cfg);
void gw_sdk_reasm_free(struct gw_conn *c);
/* A new (never delivered) chunk frame, egress seq f->seq: true if it was
 * taken (held, completed and delivered, or dropped as given up): mark it
 * done and acknowledge it; false: refused, leave it unmarked and
 * unacknowledged (the router retransmits it). Callbacks (on_message,
 * on_rx_notice). */
bool gw_sdk_reasm_chunk(struct gw_conn *c, const struct gw_frame *f, uint64_t now);
/* Give up groups idle for rx_group_timeout_ms of session time. From
 * gw_conn_poll(). Callbacks (on_rx_notice). */
void gw_sdk_reasm_timers(struct gw_conn *c, uint64_t now);
/* When gw_sdk_reasm_timers() next has work (UINT64_MAX: none). */
uint64_t gw_sdk_reasm_deadline(const struct gw_conn *c, uint64_t now);
/* Whether a group of @total_len bytes and @count chunks fits the bounds
 * now; adopt one (restored, owning its buffers: gw_sdk_reasm_room() was
 * true); remember one as finished. For rxsave.c. */
bool gw_sdk_reasm_room(const struct gw_conn *c, uint32_t total_len, uint32_t count);
void gw_sdk_reasm_adopt(struct gw_conn *c, uint32_t origin, uint64_t group,
			const struct gw_sdk_rxgroup *g);
void gw_sdk_reasm_done_add(struct gw_conn *c, uint32_t origin, uint64_t group);

/* rxsave.c (state_path only) */
/* Write the groups in progress and the finished set to PATH.groups,
 * durably. From gw_conn_close(), before the state file; blocks. 0 or a
 * file error (the groups are then lost, as after a crash). */
int gw_sdk_rxsave_write(struct gw_conn *c);
/* Put PATH.groups's groups back into reassembly and remove the file. From
 * gw_conn_open() after gw_sdk_reasm_init(); blocks. 0, -EBADMSG (damaged),
 * -EINVAL (another connector's), -ENOMEM or a file error. */
int gw_sdk_rxsave_restore(struct gw_conn *c);

/* The session clock: microseconds spent UP. */
uint64_t gw_sdk_up_clock(const struct gw_conn *c, uint64_t now);

#pragma GCC visibility pop

#endif /* GWART_SDK_INTERNAL_H */
