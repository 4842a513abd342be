/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-smtp: what the daemon's parts share. One process is one gwart
 * connector (one SDK handle) in mode ingress (an SMTP server facing the
 * sending MTA), egress (an SMTP client towards the next-hop MTA) or both,
 * driven by one poll() loop (loop.h) on one thread.
 *
 *   gwart_smtp.c  options, the SDK handle and its callbacks, signals, stats
 *   ingress.c     the ingress spool, GWMAIL1 out, receipts in, re-sends,
 *                 bounces (ingress_int.h: what it shares with ingress_smtp.c)
 *   ingress_smtp.c the SMTP sessions of the ingress side
 *   egress.c      GWMAIL1 in, the egress queue, delivery with backoff,
 *                 the delivered-Id log, GWRCPT1 out
 *   relay.c       one outgoing SMTP transaction (egress and bounces)
 *   spool.c       the durable mail files (both sides)
 *   delivered.c   the delivered-Id log (egress)
 *
 * Threading: everything runs on the loop's thread; nothing locks.
 */
#ifndef GWART_SMTP_GS_H
#define GWART_SMTP_GS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <gwart/connector.h>

#include "loop.h"

/* Room a GWMAIL1 payload needs beyond the message itself (its header
 * lines: Id, From, up to the session's recipients); the SDK's and the
 * router's max_message must be at least --max-message plus this. */
#define GS_ENVELOPE_ROOM (64u << 10)
#define GS_RCPTS_MAX 100u           /* recipients per SMTP transaction */
#define GS_RECEIPT_TYPE "smtp-receipt"

struct gs_opts {
	uint32_t id;
	const char *key_file;
	const char *router;
	const char *bind;
	const char *mode;
	bool ingress, egress;
	const char *listen;
	const char *next_hop;
	const char *spool;
	const char *state;
	uint64_t max_message;
	const char *name;
	const char *bounce_relay;
	const char *stats_file;
	uint32_t max_sessions;
	uint32_t spool_entries;
	uint64_t spool_bytes;
	uint32_t delivered_max;
	uint32_t resend_s;        /* ingress: re-send a mail without receipt after */
	uint32_t retry_s;         /* egress/bounces: first retry delay */
	uint32_t retry_max_s;     /* and its cap */
	uint32_t max_queue_s;     /* give up (bounce) after this long */
	uint32_t idle_s;          /* SMTP idle timeout, both directions */
	uint32_t conns;           /* egress: parallel deliveries */
	uint32_t drain_s;         /* SIGTERM: time given to answers in flight */
	uint32_t reply_s;         /* ingress: most time a DATA waits for gwart */
};

struct gs_ingress;
struct gs_egress;

struct gs_ctx {
	struct gs_opts o;
	struct gs_loop *loop;
	struct gw_conn *conn;
	struct gs_ingress *in;
	struct gs_egress *eg;
	uint64_t rng;              /* backoff jitter */
	/* messages from gwart that neither side takes */
	uint64_t rx_unknown, rx_misrouted;
};

/* ---- ingress.c, ingress_smtp.c ---- */
int gs_ingress_open(struct gs_ctx *g, struct gs_ingress **out);
void gs_ingress_close(struct gs_ingress *in);
/* on_result of a message this side sent: 1 when it was one of ours. */
int gs_ingress_on_result(struct gs_ingress *in, uint64_t msg_id, int status);
void gs_ingress_on_receipt(struct gs_ingress *in, uint32_t origin, const void *msg, size_t len);
int gs_ingress_tick(struct gs_loop *l, uint64_t now_ms, void *arg);
/* SIGTERM: stop listening, close idle sessions with 421. */
void gs_ingress_shutdown(struct gs_ingress *in);
/* Whether answers are still owed to clients (the drain waits for them). */
bool gs_ingress_busy(const struct gs_ingress *in);
void gs_ingress_report(const struct gs_ingress *in, FILE *f, bool json);

/* ---- egress.c ---- */
int gs_egress_open(struct gs_ctx *g, struct gs_egress **out);
void gs_egress_close(struct gs_egress *eg);
int gs_egress_on_result(struct gs_egress *eg, uint64_t msg_id, int status);
void gs_egress_on_mail(struct gs_egress *eg, uint32_t origin, const void *msg, size_t len);
int gs_egress_tick(struct gs_loop *l, uint64_t now_ms, void *arg);
void gs_egress_shutdown(struct gs_egress *eg);
bool gs_egress_busy(const struct gs_egress *eg);
void gs_egress_report(const struct gs_egress *eg, FILE *f, bool json);

/* ---- shared helpers (gwart_smtp.c) ---- */
/* The delay before retry @attempt (0-based): --retry-s x 2^k, capped at
 * --retry-max-s, +-20 % (control/backoff). */
uint64_t gs_retry_ms(struct gs_ctx *g, uint32_t attempt);
uint64_t gs_wall_s(void);
/* Seconds since @created_us (wall clock, us); 0 when that is in the
 * future (a clock stepped back, or coarser than the one that stamped it). */
uint64_t gs_age_s(uint64_t created_us);
/* One log line on stderr, prefixed "gwart-smtp: ". */
void gs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
