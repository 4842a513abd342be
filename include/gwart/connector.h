/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libgwart-connector: what a connector links to speak the gwart protocol
 * (PROTOCOL.md) to a router over an ordinary kernel UDP socket.
 *
 * The SDK owns the session (HELLO/WELCOME, KEEPALIVE, re-HELLO after
 * NACK NO_SESSION), the sending side (origin sequence numbers, a bounded
 * outbox of un-acknowledged messages, retransmission with exponential
 * backoff, the duplicate-window rule, BUSY retries) and the receiving side
 * (duplicate suppression by the router's egress link sequence, one ACK per
 * receive batch). The application sees each message it sends resolved
 * exactly once through on_result() and each message sent to it delivered
 * exactly once through on_deliver() (within one process life; see below).
 *
 * Threading: a struct gw_conn is driven by exactly one thread at a time.
 * No function here takes a lock; calling two of them concurrently on the
 * same handle is undefined. Different handles are independent and may be
 * driven by different threads at once. Callbacks run on the thread that
 * called gw_conn_poll(), from inside it.
 *
 * Ownership: gw_conn_open() returns a handle that the caller owns until
 * gw_conn_close(); the SDK allocates everything it needs (outbox, batch
 * buffers) in gw_conn_open() and nothing per message afterwards. Buffers
 * passed to the SDK are copied before the call returns; buffers passed to
 * callbacks belong to the SDK and are valid only during the callback.
 *
 * Blocking: only gw_conn_poll() with a non-zero timeout and gw_conn_close()
 * (about 2 ms of BYEs) sleep. Nothing else blocks; the socket is
 * non-blocking.
 *
 * Not yet (next issue, fields reserved in the implementation): declaring the
 * session down after keepalive_ms x keepalive_mult of silence from the
 * router, HELLO with backoff (1 s initial, x1.6, +-20 % jitter, 120 s cap)
 * while down (today: every 200 ms +-20 %), and a persisted origin sequence
 * across process restarts (today the caller passes first_seq and reads
 * stats.next_seq back; WELCOME.router_seq moves it up if the router has
 * seen more).
 */
#ifndef GWART_CONNECTOR_H
#define GWART_CONNECTOR_H

#include <stdint.h>

#include <gwart/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults used when a gw_conn_cfg field is left zero. */
#define GW_CONN_DEF_RTO_US 50000u       /* us: first retransmission timeout */
#define GW_CONN_MAX_RTO_US 1000000u     /* us: cap of the exponential backoff */
#define GW_CONN_HELLO_INTERVAL_US 200000u /* us: HELLO repeated until WELCOME */
#define GW_CONN_DEF_MAX_INFLIGHT 960u   /* messages; the router's usual dup_window */
#define GW_CONN_MAX_INFLIGHT 65536u     /* messages: hard cap of the outbox */
#define GW_CONN_RX_WINDOW_MAX 960u      /* frames: the receive duplicate window */
#define GW_CONN_BATCH 64u               /* datagrams per recvmmsg/sendmmsg */

/*
 * on_deliver - a message from the router, delivered exactly once.
 * @origin, @origin_seq: the message id (sender connector, its sequence).
 * @dest, @dest_len: destination address as sent; NOT NUL-terminated.
 * @payload, @len: the payload. Both buffers belong to the SDK and are valid
 * only until the callback returns.
 * The callback may call gw_conn_send() on the same handle; it must not call
 * gw_conn_poll() or gw_conn_close().
 */
typedef void (*gw_conn_deliver_fn)(void *arg, uint32_t origin, uint64_t origin_seq,
				   const char *dest, uint16_t dest_len, const void *payload,
				   uint16_t len);

/*
 * on_result - final outcome of a message this connector sent, called exactly
 * once per successful gw_conn_send() (unless the handle is closed first).
 * @status: 0 = the router acknowledged it (it has custody and will deliver
 * it); otherwise the enum gw_nack_reason the router refused it with
 * (NO_ROUTE, TOO_BIG, EXPIRED, NOT_AUTHORISED). BUSY and NO_SESSION are
 * never reported: the SDK retries those itself. A refused message is never
 * resent (PROTOCOL.md section 13); to try again, send it anew.
 * Same re-entrancy rules as on_deliver.
 */
typedef void (*gw_conn_result_fn)(void *arg, uint64_t origin_seq, int status);

/*
 * on_notice - the router gave up a message it had already acknowledged
 * (NACK EXPIRED after custody, PROTOCOL.md section 13): delivery is NOT
 * confirmed; it may or may not have reached its destination. Comes after
 * on_result(0) for the same origin_seq; the SDK does not resend it.
 * @reason: the NACK reason (GW_NACK_EXPIRED). Same re-entrancy rules as
 * on_deliver.
 */
typedef void (*gw_conn_notice_fn)(void *arg, uint64_t origin_seq, int reason);

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
	/* Fields are only ever appended: zero-initialise the whole struct. */
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
	uint64_t delivered;     /* messages passed to on_deliver */
	uint64_t duplicates;    /* DATA frames suppressed as already delivered */
	uint64_t rx_too_far;    /* DATA frames beyond the receive window (dropped) */
	uint64_t rx_replaced;   /* receive window started afresh (a new router process) */
	uint64_t acks_sent;     /* ACK frames sent to the router */
	/* session */
	uint64_t hellos_sent;
	uint64_t sessions;      /* WELCOMEs adopted (1 + re-HELLOs that succeeded) */
	uint64_t session_losses;/* NO_SESSION, BYE or a router KEEPALIVE of another epoch */
	uint64_t keepalives_sent;
	/* datagrams */
	uint64_t rx_frames;     /* valid frames received */
	uint64_t rx_bad;        /* datagrams the parser refused */
	uint64_t rx_ignored;    /* valid frames not for us (sender != router, nonce, ...) */
	uint64_t rx_stale_epoch;/* frames dropped for carrying another session's epoch */
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
};

struct gw_conn;

/*
 * gw_conn_open - create a socket, bind/connect it and send the first HELLO.
 * Returns the handle, or NULL with *err (if err != NULL) set to a negative
 * errno: -EINVAL for a bad configuration, -ENOMEM, or the socket error.
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
 * configured or the router's max_payload, -EINVAL bad arguments.
 * Threading: the handle's thread; may be called from callbacks.
 */
int gw_conn_send(struct gw_conn *c, const char *dest, const void *payload, uint16_t len,
		 uint64_t *origin_seq);

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
 * acknowledge, run timers (HELLO, KEEPALIVE, retransmissions) and flush.
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

/* Milliseconds until the handle's next timer (HELLO, KEEPALIVE, RTO, BUSY
 * retry); -1 when none is armed. Threading: the handle's thread. */
int gw_conn_next_timeout_ms(const struct gw_conn *c);

/* 1 while a session is up (WELCOME adopted, no NO_SESSION since), else 0.
 * Threading: the handle's thread. */
int gw_conn_is_up(const struct gw_conn *c);

/* Copy the counters into *st. Threading: the handle's thread (other threads
 * must synchronise with it themselves). */
void gw_conn_get_stats(const struct gw_conn *c, struct gw_conn_stats *st);

/*
 * gw_conn_close - send BYE if the session is up (three copies, 1 ms apart:
 * it is not acknowledged, so this blocks about 2 ms), close the socket and
 * free the handle and everything it owns. Messages still in the outbox are
 * abandoned WITHOUT on_result(): drain first (stats.inflight == 0) if that
 * matters.
 * Returns 0, or a negative errno from close(2) (the handle is freed anyway).
 * NULL is accepted and ignored. Threading: the handle's thread; not from
 * callbacks.
 */
int gw_conn_close(struct gw_conn *c);

#ifdef __cplusplus
}
#endif
#endif /* GWART_CONNECTOR_H */
