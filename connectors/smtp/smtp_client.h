/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_client: the client side of one SMTP transaction that delivers one
 * mail to a next-hop MTA, as a state machine fed with the server's bytes
 * and producing the command bytes to send. Pure: no sockets, clock or
 * files; the daemon connects, moves bytes, runs the timers.
 *
 * Sequence: wait for the 220 greeting; EHLO (HELO if EHLO gets 5xx);
 * MAIL FROM:<from> [SIZE=n when SIZE is offered] [BODY=8BITMIME when the
 * content has 8-bit bytes and 8BITMIME is offered]; RCPT TO:<rcpt> for
 * each recipient (with PIPELINING: MAIL and every RCPT in one write, then
 * their replies in order; without: one at a time); DATA only if some RCPT
 * got 2xx, then the content dot-stuffed and ".", then QUIT.
 * The content is sent with every line start '.' doubled, and every bare LF
 * or bare CR turned into CRLF (RFC 5321 2.3.8: so no next hop can take
 * part of the content for an end of data); a final CRLF is added when
 * the content does not end with one. A content larger than the next hop's
 * advertised SIZE is not sent (every recipient 552 5.3.4, permanent).
 *
 * Outcome per recipient (smtp_cli_rcpt()):
 *   DELIVERED  RCPT 2xx and the final reply to "." 2xx;
 *   TEMP       a 4xx at any step that concerns it (EHLO/HELO, MAIL, its
 *              RCPT, DATA, "."), any non-220 greeting (as Postfix's
 *              smtp_skip_5xx_greeting: a host that will not talk is no
 *              verdict on the recipients), a reply that breaks the
 *              protocol, a timeout or a lost connection before its
 *              outcome: retry;
 *   PERM       a 5xx to HELO (after EHLO got 5xx too), MAIL, its RCPT, DATA
 *              or ".", or a content above the next hop's SIZE: bounce.
 * Outcomes decided here rather than by a reply have stage
 * SMTP_CLI_ST_LOCAL and a code of the same shape as a remote one, so they
 * go into receipts and DSNs as they are: 451 4.4.2 (timeout, connection
 * lost), 451 4.5.0 (protocol error), 552 5.3.4 (SIZE); the text says which
 * step it was.
 * A connection lost after "." was sent and before its reply leaves the
 * recipients TEMP: the next hop may have the mail already, so a retry can
 * duplicate it (RFC 1047); the egress's delivered-Id record cannot see that.
 *
 * Replies: lines "ddd-text" continuing and "ddd text"/"ddd" ending, the
 * same code on every line; at most SMTP_CLI_LINE_MAX bytes per line and
 * SMTP_CLI_LINES_MAX lines per reply, else a protocol error (every pending
 * recipient TEMP, QUIT). The first SMTP_CLI_TEXT_MAX bytes of the text
 * (lines joined by blanks, cleaned) are kept with the enhanced code.
 *
 * Threading: one thread per transaction; transactions are independent.
 */
#ifndef GWART_SMTP_CLIENT_H
#define GWART_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mailmsg.h"

#define SMTP_CLI_LINE_MAX 2048      /* one reply line with CRLF (bytes) */
#define SMTP_CLI_LINES_MAX 100      /* lines in one reply */
#define SMTP_CLI_TEXT_MAX 256       /* reply text kept (bytes, with NUL) */
#define SMTP_CLI_OUT_CAP 16384      /* output buffer (bytes) */

enum smtp_cli_result {
	SMTP_CLI_PENDING,    /* no outcome yet */
	SMTP_CLI_DELIVERED,
	SMTP_CLI_TEMP,
	SMTP_CLI_PERM,
};

/* The step whose reply (or failure) decided an outcome. */
enum smtp_cli_stage {
	SMTP_CLI_ST_CONNECT,   /* before or at the greeting */
	SMTP_CLI_ST_EHLO,      /* EHLO or HELO */
	SMTP_CLI_ST_MAIL,
	SMTP_CLI_ST_RCPT,
	SMTP_CLI_ST_DATA,      /* the DATA command */
	SMTP_CLI_ST_DOT,       /* the final reply after the content */
	SMTP_CLI_ST_LOCAL,     /* decided here (SIZE too big, protocol error) */
};

/* One recipient's outcome: the deciding reply's code, enhanced code (""
 * if it gave none) and cleaned text (or ours, stage SMTP_CLI_ST_LOCAL).
 * code is 0 only while result is SMTP_CLI_PENDING. */
struct smtp_cli_outcome {
	enum smtp_cli_result result;
	enum smtp_cli_stage stage;
	int code;
	char enh[16];
	char text[SMTP_CLI_TEXT_MAX];
};

struct smtp_cli_cfg {
	const char *helo;         /* our EHLO name: 1..255 bytes of [A-Za-z0-9.-] */
};

/* What to deliver. Strings NUL-terminated, addresses valid per mailmsg.h;
 * rcpts 1..MAILMSG_RCPTS_MAX. from, rcpts and helo are copied; body is NOT:
 * it must stay valid and unchanged until smtp_cli_free(). */
struct smtp_cli_mail {
	const char *from;         /* "" for the null sender (a bounce) */
	const char *const *rcpts;
	unsigned nrcpt;
	const uint8_t *body;
	size_t body_len;
};

struct smtp_cli_stats {
	uint64_t bytes_in;        /* bytes taken by smtp_cli_feed() */
	uint64_t bytes_out;       /* bytes consumed from the output */
	uint64_t replies;         /* whole replies parsed */
	uint64_t protocol_errors; /* bad reply line, too long, too many lines, unexpected */
	uint64_t stuffed_dots;    /* line-start dots doubled */
	uint64_t newlines_fixed;  /* bare LF/CR sent as CRLF */
};

struct smtp_cli;

/* A new transaction for m with cfg (copied); it waits for the greeting.
 * NULL with errno EINVAL (bad helo, address or count) or ENOMEM. */
struct smtp_cli *smtp_cli_new(const struct smtp_cli_cfg *cfg, const struct smtp_cli_mail *m);

void smtp_cli_free(struct smtp_cli *c);

/* Takes server bytes buf[0..len); returns how many it consumed (all of
 * them; once done, the rest is discarded). May queue commands and
 * content. Bounded work per byte. */
size_t smtp_cli_feed(struct smtp_cli *c, const void *buf, size_t len);

/* The bytes to send now (*len of them, pointer valid until the next call on
 * c): commands and, after 354, the stuffed content, refilled from the body
 * as the output is consumed. */
const char *smtp_cli_out(struct smtp_cli *c, size_t *len);

/* Marks the first n bytes of the output sent (n <= the length). */
void smtp_cli_out_consume(struct smtp_cli *c, size_t n);

/* The next hop did not answer in time (the daemon's timer; RFC 5321
 * 4.5.3.2 suggests 5 min for the greeting/MAIL/RCPT, 10 min after "."):
 * every recipient still pending becomes TEMP (451 4.4.2 "timeout ..."),
 * the transaction is done. */
void smtp_cli_timeout(struct smtp_cli *c);

/* The connection failed or closed (also before any byte: connect failed):
 * as smtp_cli_timeout(), text "connection ... lost ...", and the output is
 * dropped. */
void smtp_cli_lost(struct smtp_cli *c);

/* Whether every recipient has its outcome. The output may still hold QUIT:
 * send it if convenient, then close. */
bool smtp_cli_done(const struct smtp_cli *c);

/* Recipient i's outcome (i < nrcpt), in the order of smtp_cli_mail.rcpts. */
const struct smtp_cli_outcome *smtp_cli_rcpt(const struct smtp_cli *c, unsigned i);

/* The step now waited for (for the daemon's timeouts and logs). */
enum smtp_cli_stage smtp_cli_stage(const struct smtp_cli *c);

/* Name of a result or stage ("delivered", "rcpt", ...). */
const char *smtp_cli_result_name(enum smtp_cli_result r);
const char *smtp_cli_stage_name(enum smtp_cli_stage s);

const struct smtp_cli_stats *smtp_cli_stats(const struct smtp_cli *c);

#endif /* GWART_SMTP_CLIENT_H */
