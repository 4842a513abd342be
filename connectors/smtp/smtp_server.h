/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_server: one RFC 5321 server session as a state machine, fed with the
 * bytes the client sent and producing the reply bytes to send back, with
 * PIPELINING (RFC 2920), 8BITMIME (RFC 6152), SIZE (RFC 1870) and
 * ENHANCEDSTATUSCODES (RFC 2034, 3463). Pure: no sockets, files, clock or
 * SDK; the daemon owns the socket, the timers and the spool.
 *
 * Driving it (one thread per session; sessions are independent):
 *
 *   s = smtp_srv_new(&cfg);                 greeting "220 ..." is queued
 *   loop:
 *     write smtp_srv_out() to the socket, smtp_srv_out_consume(n written);
 *     if smtp_srv_closed(s) and the output is empty: close the socket;
 *     if smtp_srv_pending(s) == SMTP_SRV_EV_MAIL: a whole mail is waiting;
 *        read smtp_srv_mail(s), make it durable/acknowledged, then (maybe
 *        much later) smtp_srv_mail_reply(s, 250 | 451 | 452 | 554, ...);
 *     read from the socket, n = smtp_srv_feed(s, buf, len); keep
 *        buf[n..len) for the next feed: the session takes no more while a
 *        mail waits for its reply, or while its output is nearly full
 *        (the client is not reading), so stop reading the socket then.
 *   on the daemon's idle timer: smtp_srv_timeout(s); on shutdown:
 *   smtp_srv_shutdown(s); then drain the output and close.
 *   smtp_srv_free(s).
 *
 * Replies always come out in command order, whatever the client pipelined
 * and however its bytes were split. Enhanced status codes are included once
 * the client said EHLO (RFC 2034), not after HELO.
 *
 * Bounds (each refusal counted in struct smtp_srv_stats):
 *  - command line: cfg.max_line bytes with its CRLF; a longer one is read
 *    to its end without being kept and answered "500 5.5.6"; the line
 *    buffer never grows.
 *  - output: SMTP_SRV_OUT_CAP bytes; smtp_srv_feed() stops taking input
 *    while less than one reply's room is free.
 *  - recipients: cfg.max_rcpts per transaction ("452 4.5.3"), each address
 *    at most MAILMSG_ADDR_MAX bytes of mailmsg.h's characters, local@domain
 *    or postmaster ("501 5.1.3"; the sender "501 5.1.7", "<>" allowed).
 *  - message: cfg.max_size bytes of content (after dot-unstuffing):
 *    MAIL FROM ... SIZE= above it is "552 5.3.4"; content above it is read
 *    to the final dot without being kept and then answered "552 5.3.4".
 *    The content buffer grows by doubling and never beyond max_size.
 *  - errors: after cfg.max_errors protocol errors (unknown or unimplemented
 *    commands, syntax errors, bad sequence, lines too long; refused
 *    recipients and sizes are not errors) the session says "421 4.7.0"
 *    and closes.
 * Command lines may end with a bare LF (as most servers allow); a CR or
 * NUL inside one is "500 5.5.2". In DATA only CRLF ends a line: "<CRLF>.<CRLF>" ends the content, nothing
 * else (a bare LF or CR is content, counted in stats.bare_lf_cr), so
 * "\n.\n" and "\r.\r" cannot smuggle a second mail through.
 */
#ifndef GWART_SMTP_SERVER_H
#define GWART_SMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailmsg.h"

#define SMTP_SRV_OUT_CAP 8192          /* output buffer (bytes) */
#define SMTP_SRV_REPLY_MAX 1024        /* one reply, all its lines (bytes) */
#define SMTP_SRV_LINE_MIN 512          /* cfg.max_line floor (RFC 5321 4.5.3.1.4) */
#define SMTP_SRV_LINE_MAX 4096         /* cfg.max_line ceiling */
#define SMTP_SRV_LINE_DEFAULT 1000     /* room for MAIL with SIZE and BODY */
#define SMTP_SRV_SIZE_DEFAULT (10u << 20) /* cfg.max_size 0 (bytes) */
#define SMTP_SRV_RCPTS_DEFAULT 100     /* RFC 5321 4.5.3.1.8's minimum */
#define SMTP_SRV_ERRORS_DEFAULT 20     /* as Postfix's smtpd_hard_error_limit */
#define SMTP_SRV_HOST_MAX 255          /* cfg.hostname and the client's HELO */

/* A reply chosen by the daemon (RCPT hook, end of DATA). code 200..599;
 * enh "x.y.z" of the same class or NULL (a default is used); text NULL for
 * the default, else printable ASCII (cleaned, cut at 400 bytes). */
struct smtp_srv_verdict {
	int code;
	const char *enh;
	const char *text;
};

/* RCPT hook: called for each syntactically valid RCPT within the limits,
 * addr NUL-terminated without <> (valid until it returns). Return true to
 * accept ("250 2.1.5 Ok"), false to refuse with *v (preset to
 * "550 5.1.1 Recipient address rejected"; a code outside 400..599 becomes
 * 451 4.3.0). Runs inside smtp_srv_feed(). */
typedef bool (*smtp_srv_rcpt_fn)(void *arg, const char *addr, struct smtp_srv_verdict *v);

struct smtp_srv_cfg {
	const char *hostname;      /* required: 1..255 bytes of [A-Za-z0-9.-]; copied */
	uint64_t max_size;         /* content limit, bytes; 0: SMTP_SRV_SIZE_DEFAULT */
	unsigned max_rcpts;        /* 0: SMTP_SRV_RCPTS_DEFAULT; at most MAILMSG_RCPTS_MAX */
	unsigned max_line;         /* 0: default; SMTP_SRV_LINE_MIN..SMTP_SRV_LINE_MAX */
	unsigned max_errors;       /* 0: SMTP_SRV_ERRORS_DEFAULT */
	smtp_srv_rcpt_fn rcpt_hook; /* NULL: accept every valid address */
	void *hook_arg;
};

/* Per-session counters (the daemon sums them). Only the session's thread
 * writes them; read them from that thread. */
struct smtp_srv_stats {
	uint64_t bytes_in;          /* bytes taken by smtp_srv_feed() */
	uint64_t commands;          /* command lines read (too long ones included) */
	uint64_t replies;           /* replies queued */
	uint64_t unknown_cmds;      /* 500 5.5.2 / 502 5.5.1 */
	uint64_t syntax_errors;     /* 501 / 555 */
	uint64_t bad_sequence;      /* 503 5.5.1 */
	uint64_t lines_too_long;    /* 500 5.5.6 */
	uint64_t mails_started;     /* MAIL answered 250 */
	uint64_t size_refused;      /* MAIL SIZE= above max_size: 552 5.3.4 */
	uint64_t rcpts_accepted;
	uint64_t rcpts_refused;     /* by the hook */
	uint64_t rcpts_over_limit;  /* 452 4.5.3 */
	uint64_t body_too_big;      /* content above max_size: 552 5.3.4 */
	uint64_t body_nomem;        /* content buffer allocation failed: 452 4.3.1 */
	uint64_t bare_lf_cr;        /* bare LF or CR bytes in content */
	uint64_t mails_pending;     /* SMTP_SRV_EV_MAIL raised */
	uint64_t mails_accepted;    /* daemon replied 2xx */
	uint64_t mails_refused;     /* daemon replied 4xx/5xx */
	uint64_t error_limit;       /* sessions closed for max_errors (0/1) */
	uint64_t timeouts;          /* smtp_srv_timeout() */
};

enum smtp_srv_event {
	SMTP_SRV_EV_NONE,          /* keep feeding */
	SMTP_SRV_EV_MAIL,          /* a mail waits for smtp_srv_mail_reply() */
};

/* The mail waiting for its reply. Every pointer is the session's and is
 * valid until smtp_srv_mail_reply() (body: until smtp_srv_take_body()). */
struct smtp_srv_mail {
	const char *helo;          /* the EHLO/HELO argument */
	bool esmtp;                /* EHLO (true) or HELO */
	const char *from;          /* reverse-path without <>; "" null sender */
	const char *const *rcpts;  /* accepted recipients, without <>, deduplicated */
	unsigned nrcpt;            /* >= 1 */
	const uint8_t *body;       /* content, unstuffed, ends with CRLF unless empty */
	size_t body_len;
	bool body_8bit;            /* MAIL ... BODY=8BITMIME */
	uint64_t size_declared;    /* MAIL ... SIZE=, 0 if not given */
};

struct smtp_srv;

/* A new session with cfg (copied; cfg->hostname must be valid), the
 * greeting "220 <hostname> ESMTP gwart-smtp" already queued. NULL with
 * errno EINVAL (bad cfg) or ENOMEM. Allocates the line buffer once. */
struct smtp_srv *smtp_srv_new(const struct smtp_srv_cfg *cfg);

/* Frees s and all it holds (a body not taken too). NULL is a no-op. */
void smtp_srv_free(struct smtp_srv *s);

/* Takes client bytes buf[0..len) and returns how many it consumed: all of
 * them, unless it stopped (a mail waits for its reply, the output is
 * nearly full, or the session closed: then the rest is discarded and len
 * returned). The caller feeds the unconsumed rest again later. Queues
 * replies; may call cfg.rcpt_hook. Bounded work per byte. */
size_t smtp_srv_feed(struct smtp_srv *s, const void *buf, size_t len);

/* The queued reply bytes (*len of them; pointer valid until the next call
 * on s). */
const char *smtp_srv_out(const struct smtp_srv *s, size_t *len);

/* Marks the first n bytes of the output sent (n <= the length). */
void smtp_srv_out_consume(struct smtp_srv *s, size_t n);

enum smtp_srv_event smtp_srv_pending(const struct smtp_srv *s);

/* The waiting mail, NULL if none. */
const struct smtp_srv_mail *smtp_srv_mail(const struct smtp_srv *s);

/* Hands the waiting mail's body buffer to the caller (free() it), so a big
 * mail is not copied; *len its length. NULL if no mail waits or it was
 * taken already (the mail's body then reads NULL/0). */
uint8_t *smtp_srv_take_body(struct smtp_srv *s, size_t *len);

/* Answers the waiting mail: v->code 2xx accepts ("250 2.0.0 Ok: queued as
 * ..." with text), 4xx/5xx refuses; a code outside 200..599 is -EINVAL.
 * Ends the transaction (the session keeps its EHLO) and lets feeding go on;
 * 421 (the daemon is going away) closes the session instead, as RFC 5321
 * 3.8 has it. -EALREADY if no mail waits. */
int smtp_srv_mail_reply(struct smtp_srv *s, const struct smtp_srv_verdict *v);

/* The client was idle too long: queues "421 4.4.2 <host> Error: timeout
 * exceeded" and closes the session (a waiting mail is dropped: it was
 * never answered, so the client still has custody). Counted. */
void smtp_srv_timeout(struct smtp_srv *s);

/* The daemon is going away: "421 4.3.2 <host> Service shutting down",
 * closed, a waiting mail dropped as for a timeout. */
void smtp_srv_shutdown(struct smtp_srv *s);

/* Whether the session is over (QUIT answered, a 421 queued): flush the
 * output and close the connection. */
bool smtp_srv_closed(const struct smtp_srv *s);

const struct smtp_srv_stats *smtp_srv_stats(const struct smtp_srv *s);

#endif /* GWART_SMTP_SERVER_H */
