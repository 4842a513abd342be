/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fake router the SDK's suites run against: one UDP socket on
 * 127.0.0.1 that speaks the gwart protocol through the same wire codec,
 * duplicate window, ACK walker and clock (the protocol core) as the real
 * router, with fault injection and counters of what it saw.
 *
 * What it does: answers HELLO with WELCOME (a new epoch for a new nonce or a
 * lost session; C := max(C, seq - 1), PROTOCOL.md 12.1), takes DATA into
 * custody (ACK with cumulative point and bitmap) and forwards it to the
 * destination connector under its own egress link seqs, retransmitting every
 * FR_RTO_US until the destination ACKs; echoes KEEPALIVE on a live session;
 * forgets a session on BYE. Routing: "type:<anything>@c<ID>.example" goes
 * to connector ID (1..FR_MAX_CONN-1) once that connector said HELLO;
 * anything else is refused with NACK NO_ROUTE. A destination whose egress
 * custody is full (FR_EG_MAX) makes it answer BUSY (custody_full). Chunks
 * (GW_F_CHUNK) are forwarded like any DATA frame, each on its own.
 *
 * What it checks (counters below, asserted by the suites): the duplicate-
 * window rule (nothing beyond cum + dup_window on the wire:
 * window_violations) and the RETRANSMIT flag (set exactly on frames seen
 * before: rtx_flag_missing, rtx_flag_wrong).
 *
 * Protocol v2, as the router does it (PROTOCOL.md 17, auth.h): every
 * connector id has a key (fr_key(), which open_conn() gives the SDK). A
 * HELLO counts only with a valid hs.c2r tag and a counter above the last
 * one taken for that id; the WELCOME echoes its counter, carries a fresh
 * salt for a new session (the same epoch and salt when the instance comes
 * back on its live session from the same address) and is sealed hs.r2c.
 * Session frames are checked as the router does (epoch, lane, replay
 * window, GMAC tag; refusals in auth_failed, replayed, stale_epoch, never
 * answered) and every frame it sends is sealed, each transmission with the
 * next counter of its lane. A forgotten session (forget_at) is answered,
 * as by a v2 router, with a probe rather than NACK NO_SESSION.
 *
 * Threading: none. The fake router and the connectors are pumped in turn on
 * the test's one thread, so its fields need no locking; a test sets the
 * fault fields and reads the counters directly between pumps. Failures
 * inside it (socket set-up, custody full) are Criterion assertions.
 */
#ifndef GWART_TEST_FAKE_ROUTER_H
#define GWART_TEST_FAKE_ROUTER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

#include "dedup.h"
#include "replay.h"

#define FR_MAX_CONN 8        /* connector ids 1..7 */
#define FR_EG_MAX 4096       /* egress custody per destination (power of two) */
#define FR_SEEN_BITS (1u << 16) /* ingress seqs tracked for the RETRANSMIT check */
#define FR_RTO_US 20000      /* us: egress retransmission timeout */
#define FR_DROP_SEQS 4       /* entries of drop_seqs */

/* One message in egress custody, kept as the frame to (re)send. */
struct fr_msg {
	uint64_t seq;        /* egress link seq */
	uint64_t last_tx_us; /* 0: never sent */
	uint16_t len;
	uint8_t frame[];
};

/* What the fake router knows of one connector id. */
struct fr_conn {
	bool known;               /* said HELLO (and was answered) at least once */
	struct sockaddr_in addr;  /* where frames for it go */
	uint32_t epoch;           /* 0: no session */
	uint64_t nonce;
	uint8_t salt[GW_SALT_LEN]; /* v2: WELCOME salt of its session */
	uint32_t rx_window;       /* from its HELLO: egress frames in flight */
	bool in_armed;
	struct dp_dedup in;       /* ingress duplicate window (origin seqs) */
	uint64_t preset_cum;      /* >0: the router's record before any HELLO */
	uint8_t seen[FR_SEEN_BITS / 8]; /* ingress seqs ever received */
	/* egress */
	uint64_t eg_next;         /* next egress seq */
	uint64_t eg_low;          /* lowest un-acked egress seq */
	struct fr_msg *eg[FR_EG_MAX];
	/* v2 authentication */
	uint8_t key[GW_KEY_LEN];  /* fr_key(id) unless a test changes it */
	struct gw_hs_keys hs;
	struct gw_gmac_key s_tx;  /* s.r2c: what it sends */
	struct gw_gmac_key s_rx;  /* s.c2r: what it accepts */
	uint64_t tx_count[GW_LANE_COUNT];
	struct dp_replay rx_replay[GW_LANE_COUNT];
	uint64_t rx_top[GW_LANE_COUNT]; /* highest counter accepted per lane */
	uint64_t hello_ctr;       /* last HELLO counter accepted (this process) */
	uint64_t hello_ctr_first; /* counter of the first HELLO accepted */
	uint64_t hello_nonce;     /* nonce of the last HELLO accepted, even unanswered */
};

struct fake_router {
	int fd;                   /* the router's socket: poll it for POLLIN */
	uint16_t port;            /* its port on 127.0.0.1 */
	uint32_t dup_window;      /* announced in WELCOME and enforced */
	uint32_t max_payload;     /* announced in WELCOME */
	uint32_t next_epoch;      /* epochs are handed out from 100 up */
	uint64_t rng;
	uint64_t eg_first;
	struct fr_conn conn[FR_MAX_CONN]; /* by connector id */
	/* Faults: percentages of frames affected, 0 = none. */
	unsigned drop_in, drop_ack, drop_eg, dup_eg, reorder_eg, dup_ack;
	/* Faults: switches and one-shots. */
	unsigned busy_left;       /* answer BUSY to this many new DATA frames */
	bool hold_acks;           /* never ACK ingress DATA */
	bool no_welcome;          /* ignore HELLOs (still counted in hello_rx) */
	bool silent;              /* a cut link: ignore everything, send nothing */
	uint32_t drop_acks_from;  /* ignore ACK frames from this connector id */
	uint32_t ka_ms, ka_mult;  /* announced in WELCOME (default 1000 x 3) */
	uint64_t forget_at;       /* forget the sender's session at this seq (once) */
	uint64_t expire_seq;      /* after ACKing this seq, give it up: NACK EXPIRED */
	bool expire_before_ack;   /* ... its NACK EXPIRED sent before that ACK (as
				   * when the ACK is lost or overtaken) */
	unsigned stale_eg;        /* egress transmissions sent with a wrong epoch */
	uint64_t drop_once_seq;   /* drop the first transmission of this seq */
	uint64_t drop_seqs[FR_DROP_SEQS]; /* drop every transmission of these
				   * seqs (0: unused): holes that stay open
				   * while the seqs above them are taken */
	unsigned replay_eg;       /* % of egress frames also sent again byte for
				   * byte (a replay, unlike dup_eg's copies,
				   * which are sealed afresh as retransmissions) */
	bool deny;                /* answer HELLO with NACK NOT_AUTHORISED */
	/* A held egress frame (reorder): sent after the next one. */
	uint8_t held[GW_FRAME_MAX];
	uint16_t held_len;
	struct sockaddr_in held_to;
	/* Observations. bye_rx counts BYEs as they arrive (the first one
	 * ends the session: its repetitions fail the epoch check). */
	uint64_t hello_rx, welcome_tx, bye_rx, keepalive_rx, data_rx, ack_rx;
	uint64_t window_violations, rtx_flag_missing, rtx_flag_wrong, bad_frames;
	uint64_t busy_tx, no_route_tx, no_session_tx, eg_tx, eg_rtx, dup_in;
	uint64_t max_in_seq, dropped_in;
	uint64_t custody_full;    /* DATA refused BUSY: egress custody full */
	uint64_t hello_us[64];    /* arrival (fr_now_us()) of the first 64 HELLOs */
	uint64_t auth_failed, replayed, stale_epoch, probes_tx; /* v2 */
	uint64_t probe_ctr;       /* its clock for probes: strictly increasing */
	uint8_t last_welcome[GW_WELCOME_LEN]; /* the last WELCOME sent, as sent */
	uint8_t last_probe[GW_KEEPALIVE_LEN]; /* the last probe sent, as sent */
	uint8_t last_nack[GW_NACK_LEN]; /* the last NOT_AUTHORISED sent (deny) */
};

/* CLOCK_MONOTONIC in microseconds: the clock of hello_us[] and of the
 * egress retransmission timer. */
uint64_t fr_now_us(void);

/* A fake router on an ephemeral port of 127.0.0.1 announcing @dup_window;
 * @seed drives its fault injection (0 is taken as 1), so a failing run can
 * be replayed. Never NULL (asserts). Free with fr_free(). */
struct fake_router *fr_new(uint32_t dup_window, uint64_t seed);

/* Closes the socket and frees the custody. */
void fr_free(struct fake_router *fr);

/* Number every connector's egress link from @first (before any traffic):
 * as if the router had been running for a while. */
void fr_set_eg_first(struct fake_router *fr, uint64_t first);

/* As if the router process restarted: sessions, windows and custody are
 * gone, and egress links are numbered from @eg_base in a new space. */
void fr_restart(struct fake_router *fr, uint64_t eg_base);

/* Send connector @id the router's reconnection probe: KEEPALIVE with epoch
 * 0 (PROTOCOL.md 12.3), its counter the router's clock, sealed hs.r2c. */
void fr_probe(struct fake_router *fr, int id);

/* The key the fake router holds for connector @id (never all zero). */
void fr_key(uint32_t id, uint8_t out[GW_KEY_LEN]);

/* Seal @frame (@len bytes, a complete frame the test encoded) as the router
 * would send it to connector @id: epoch 0 and WELCOME with hs.r2c (the ctr
 * already in it), any other with the session key and the next counter of
 * its lane. */
void fr_seal(struct fake_router *fr, int id, uint8_t *frame, size_t len);

/* Send @len bytes as they are to connector @id's address. */
void fr_send_raw(struct fake_router *fr, int id, const void *frame, size_t len);

/* Close connector @id's session from the router's side: BYE (12.4). */
void fr_bye(struct fake_router *fr, int id);

/* Put a DATA frame (a chunk if @ck) from @origin into connector @id's
 * egress custody as if the router had taken it, under the next egress seq
 * (returned); it is (re)sent like any other until @id acknowledges it. */
uint64_t fr_inject(struct fake_router *fr, int id, uint32_t origin, uint64_t origin_seq,
		   const char *dest, const void *payload, uint16_t len,
		   const struct gw_chunk_info *ck);

/* True while egress seq @seq towards @id is in custody (not acknowledged). */
bool fr_eg_held(const struct fake_router *fr, int id, uint64_t seq);

/* Receive and answer every datagram waiting on the socket (without
 * blocking), then (re)send whatever egress custody is due. */
void fr_pump(struct fake_router *fr);

#endif /* GWART_TEST_FAKE_ROUTER_H */
