/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dsn: the delivery status notification (RFC 3464, RFC 6522's
 * multipart/report) that the ingress sends back to the envelope sender
 * for the recipients that failed permanently, built from what the egress's
 * receipt says (the remote code and text) and the original headers.
 *
 *   From: Mail Delivery System <MAILER-DAEMON@<reporting_mta>>
 *   To: <sender>
 *   Subject: Undelivered Mail Returned to Sender
 *   Auto-Submitted: auto-replied           (RFC 3834: no reply loops)
 *   Content-Type: multipart/report; report-type=delivery-status; boundary=...
 *   part 1 text/plain: which recipients failed and why (code and text)
 *   part 2 message/delivery-status: Reporting-MTA: dns; <reporting_mta>,
 *          [Original-Envelope-Id: <envelope_id>], [Arrival-Date],
 *          then per recipient: Final-Recipient: rfc822; <addr>,
 *          Action: failed, Status: <x.y.z>, [Remote-MTA: dns; <remote_mta>],
 *          Diagnostic-Code: smtp; <code> <enh> <text>
 *   part 3 text/rfc822-headers: the original message's header section
 * The bounce travels with the null envelope sender (MAIL FROM:<>) to the
 * original sender (dsn_envelope()), so a bounce never bounces again; and
 * a mail whose envelope sender was already null gets none (-ENOMSG).
 *
 * Pure (no I/O, no clock: the caller gives the times), thread-safe; the
 * result is one malloc()ed buffer the caller frees.
 */
#ifndef GWART_SMTP_DSN_H
#define GWART_SMTP_DSN_H

#include <stddef.h>
#include <stdint.h>

#define DSN_HEADERS_MAX (64u << 10)  /* original header bytes quoted at most */
#define DSN_TEXT_MAX 400             /* diagnostic text per recipient (bytes) */

/* A recipient that failed. code 400..599 (the remote's, or the egress's
 * own); enh "x.y.z" or NULL/"" (then "<class>.0.0"); text the remote's
 * reply text (cleaned and cut here) or NULL. */
struct dsn_rcpt {
	const char *addr;
	int code;
	const char *enh;
	const char *text;
};

struct dsn_report {
	const char *reporting_mta;   /* our host name (required) */
	const char *remote_mta;      /* the next hop's name, NULL if unknown */
	const char *dsn_id;          /* unique per bounce, an Id per mailmsg.h: Message-ID, boundary */
	const char *envelope_id;     /* the mail's gwart Id, NULL to leave out */
	const char *sender;          /* the original envelope sender: the bounce's To */
	const uint8_t *orig;         /* the original message (its header section is quoted) */
	size_t orig_len;
	int64_t now;                 /* unix time: Date */
	int64_t arrival;             /* unix time the mail was received, 0: none */
	const struct dsn_rcpt *rcpts;
	unsigned nrcpt;              /* 1..MAILMSG_RCPTS_MAX */
};

/* Builds the whole notification (RFC 5322 message, CRLF lines, 7-bit) into
 * a new buffer *out of *len bytes. Returns 0; -ENOMSG when sender is empty
 * (no bounce for a bounce; nothing allocated); -EINVAL for a missing or bad
 * value (an address or id outside mailmsg.h's rules, a code outside
 * 400..599, no recipient); -ENOMEM. */
int dsn_build(const struct dsn_report *r, uint8_t **out, size_t *len);

/* The envelope of the bounce: *from = "" (the null sender), *rcpt = the
 * original sender. -ENOMSG when that is empty. */
int dsn_envelope(const struct dsn_report *r, const char **from, const char **rcpt);

#endif /* GWART_SMTP_DSN_H */
