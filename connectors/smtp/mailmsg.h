/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mailmsg: the gwart payloads of the mail path, and the trace header.
 *
 * GWMAIL1 (ingress -> egress, destination "smtp:<first rcpt>"):
 *   GWMAIL1\r\n
 *   Id: <ingress-connector-id>.<spool-id>\r\n
 *   From: <envelope sender, may be empty>\r\n
 *   Rcpt: <addr>\r\n                 (1..MAILMSG_RCPTS_MAX lines)
 *   \r\n
 *   <RFC 5322 message bytes, Received header first>
 * GWRCPT1 (egress -> ingress, destination "smtp-receipt:<ingress>"):
 *   GWRCPT1\r\n
 *   Id: <same id>\r\n
 *   Status: delivered|failed|deferred\r\n
 *   Rcpt: <addr> <code> <text>\r\n     (1..MAILMSG_RCPTS_MAX lines)
 * The encoder writes nothing after the last Rcpt line; the decoder also
 * accepts one empty line ("\r\n") there, and nothing else.
 *
 * Values (both directions, checked by encoder and decoder alike, so the
 * ingress can never build what the egress refuses):
 *  - Id: 1..MAILMSG_ID_MAX bytes of 0x21..0x7e.
 *  - addresses: 0..MAILMSG_ADDR_MAX bytes (From may be empty, a Rcpt not)
 *    of 0x21..0x7e except '<' and '>' (no blanks: the receipt's fields are
 *    blank-separated; no 8-bit: SMTPUTF8 is not offered).
 *  - code: three digits 200..599 whose first digit is 2, 4 or 5.
 *  - text: 0..MAILMSG_TEXT_MAX bytes of 0x20..0x7e (use mailmsg_clean_text()
 *    on a remote server's reply first).
 *  - Status must be what mailmsg_rcpt_status() says of the codes.
 * Lines end with CRLF exactly; no field may repeat or come out of order.
 *
 * Everything here is pure (no I/O, no clock, no allocation) and
 * thread-safe: functions touch only their arguments. Decoded views point
 * into the caller's buffer, which must outlive them.
 */
#ifndef GWART_SMTP_MAILMSG_H
#define GWART_SMTP_MAILMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits of the formats (bytes unless stated). */
#define MAILMSG_ID_MAX 128      /* the Id value */
#define MAILMSG_ADDR_MAX 254    /* an address without <> (RFC 5321 path 256 with them) */
#define MAILMSG_RCPTS_MAX 1000  /* Rcpt lines per payload (count) */
#define MAILMSG_TEXT_MAX 512    /* a receipt's reply text */
#define MAILMSG_DATE_MAX 40     /* an RFC 5322 date with its NUL */
#define MAILMSG_RECEIVED_MAX 1024 /* a trace header from mailmsg_received() with NUL */

/* Decoding errors: mailmsg_decode_*() return -(one of these). */
#define MAILMSG_ERRORS(X) \
	X(MAGIC, "first line is not GWMAIL1/GWRCPT1") \
	X(LINE, "line not ended by CRLF, or a NUL/control byte in it") \
	X(FIELD, "missing, repeated or out-of-order field") \
	X(ID, "bad Id value") \
	X(ADDR, "bad address") \
	X(NORCPT, "no Rcpt line") \
	X(TOOMANY, "more than MAILMSG_RCPTS_MAX Rcpt lines") \
	X(STATUS, "bad Status value, or not what the codes say") \
	X(CODE, "bad reply code") \
	X(TEXT, "bad reply text") \
	X(TRUNC, "input ends inside the header section") \
	X(TRAILING, "bytes after the receipt's last line")

enum mailmsg_err {
	MAILMSG_OK = 0,
#define MAILMSG_X_ENUM(n, s) MAILMSG_E_##n,
	MAILMSG_ERRORS(MAILMSG_X_ENUM)
#undef MAILMSG_X_ENUM
	MAILMSG_E_COUNT
};

/* "ok" for 0, the description for -MAILMSG_E_x (or MAILMSG_E_x), "?" else. */
const char *mailmsg_strerror(int err);

/* A byte string inside a caller's buffer, not NUL-terminated. */
struct mailmsg_str {
	const char *p;
	size_t len;
};

/* ---- GWMAIL1 ---- */

/* The fields of a mail payload, for the encoder. Strings NUL-terminated;
 * trace (may be NULL/0) is written just before body, with no separator:
 * it must be whole header lines (mailmsg_received() makes one). */
struct mailmsg_mail {
	const char *id;
	const char *from;            /* "" for the null sender */
	const char *const *rcpts;
	unsigned nrcpt;
	const char *trace;
	size_t trace_len;
	const uint8_t *body;
	size_t body_len;
};

/* Bytes mailmsg_encode_mail() writes for m (values not checked). */
size_t mailmsg_mail_len(const struct mailmsg_mail *m);

/* Writes m into buf[0..cap). Returns the length, -EINVAL if a value breaks
 * the rules above (nothing usable written), -ENOSPC if cap is too small. */
long mailmsg_encode_mail(const struct mailmsg_mail *m, void *buf, size_t cap);

/* A decoded mail payload: views into the input. rcpt points into the
 * caller's array given to mailmsg_decode_mail(). */
struct mailmsg_mail_view {
	struct mailmsg_str id;
	struct mailmsg_str from;     /* len 0: the null sender */
	struct mailmsg_str *rcpt;
	unsigned nrcpt;
	const uint8_t *msg;          /* the RFC 5322 message (trace included) */
	size_t msg_len;
};

/* Parses buf[0..len) strictly. rcpt[0..rcpt_cap) receives the recipients
 * (rcpt_cap < MAILMSG_RCPTS_MAX lowers the limit: more is -TOOMANY).
 * Returns 0 and fills v, or -MAILMSG_E_x (v then undefined). Never reads
 * outside buf, never allocates; time linear in len. */
int mailmsg_decode_mail(const void *buf, size_t len, struct mailmsg_mail_view *v,
			struct mailmsg_str *rcpt, unsigned rcpt_cap);

/* ---- GWRCPT1 ---- */

enum mailmsg_status {
	MAILMSG_DELIVERED,  /* every code 2xx */
	MAILMSG_FAILED,     /* no 4xx, at least one 5xx: final, bounce the 5xx */
	MAILMSG_DEFERRED,   /* at least one 4xx: not final, the egress retries */
};

/* "delivered", "failed", "deferred" (NULL for a bad value). */
const char *mailmsg_status_name(enum mailmsg_status s);

/* The receipt's Status for these codes (as the rules above say). */
enum mailmsg_status mailmsg_rcpt_status(const int *codes, unsigned n);

struct mailmsg_rcpt_result {
	const char *addr;
	int code;
	const char *text;            /* NULL or "" for none */
};

struct mailmsg_receipt {
	const char *id;
	const struct mailmsg_rcpt_result *rcpts;
	unsigned nrcpt;
};

/* Bytes mailmsg_encode_receipt() writes (values not checked). */
size_t mailmsg_receipt_len(const struct mailmsg_receipt *r);

/* Writes r (Status computed by mailmsg_rcpt_status()). Returns the length,
 * -EINVAL for a value that breaks the rules, -ENOSPC if cap is too small. */
long mailmsg_encode_receipt(const struct mailmsg_receipt *r, void *buf, size_t cap);

struct mailmsg_rcpt_view {
	struct mailmsg_str addr;
	int code;
	struct mailmsg_str text;
};

struct mailmsg_receipt_view {
	struct mailmsg_str id;
	enum mailmsg_status status;
	struct mailmsg_rcpt_view *rcpt;
	unsigned nrcpt;
};

/* Parses a receipt strictly, as mailmsg_decode_mail(). */
int mailmsg_decode_receipt(const void *buf, size_t len, struct mailmsg_receipt_view *v,
			   struct mailmsg_rcpt_view *rcpt, unsigned rcpt_cap);

/* ---- helpers ---- */

/* Whether s[0..len) is a valid Id / address / recipient (non-empty address). */
bool mailmsg_valid_id(const char *s, size_t len);
bool mailmsg_valid_addr(const char *s, size_t len);
/* A host name as the SMTP pieces take it (HELO, hostname, Reporting-MTA):
 * 1..255 of A-Z a-z 0-9 . -; NULL is not one. Pure. */
bool mailmsg_valid_host(const char *h);

/* The domain of addr[0..len) (after its last '@'), or a zero view if it
 * has none. The routing domain of "smtp:<rcpt>" and of domain groups. */
struct mailmsg_str mailmsg_addr_domain(const char *addr, size_t len);

/* Copies src[0..len) into dst[0..cap) as receipt/DSN text: CR, LF, TAB
 * and controls become blanks, 8-bit bytes '?', runs of blanks one, leading
 * and trailing blanks removed, cut at cap - 1 and at MAILMSG_TEXT_MAX.
 * Always NUL-terminates (cap >= 1). Returns the length written. */
size_t mailmsg_clean_text(char *dst, size_t cap, const char *src, size_t len);

/* RFC 5322 date of unix time t in UTC ("Wed, 02 Dec 2026 13:28:07 +0000")
 * into buf (cap >= MAILMSG_DATE_MAX). Returns the length, -EINVAL if t is
 * out of range. Pure (gmtime_r). */
int mailmsg_date(char *buf, size_t cap, int64_t t);

/* The trace header the ingress prepends, folded, CRLF-terminated:
 *   Received: from <helo> (<ip>)\r\n
 *   \tby <by> (gwart-smtp) with ESMTP id <id>;\r\n
 *   \t<date>\r\n
 * (SMTP for a HELO session). helo and by are reduced to the characters of a
 * host name or address literal (others become '_', cut at 255); ip is cut
 * at 64 bytes of [0-9A-Fa-f.:]. Returns the length, -EINVAL for a bad id
 * or t, -ENOSPC if cap (MAILMSG_RECEIVED_MAX is always enough) is short. */
int mailmsg_received(char *buf, size_t cap, const char *helo, bool esmtp, const char *ip,
		     const char *by, const char *id, int64_t t);

#endif /* GWART_SMTP_MAILMSG_H */
