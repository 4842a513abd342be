/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Delivery status notifications (dsn.h). Everything that comes from
 * outside (the remote's reply text, the original headers) is cleaned to
 * 7-bit CRLF lines before it is quoted, and the MIME boundary is derived
 * from a hash of that content so no quoted line can forge it.
 */
#include "dsn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailmsg.h"

struct sbuf {
	char *p;
	size_t len, cap;
	bool nomem;
};

static void sb_grow(struct sbuf *b, size_t more)
{
	if (b->nomem || b->cap - b->len >= more)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->nomem = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void sb_put(struct sbuf *b, const void *s, size_t n)
{
	sb_grow(b, n + 1);
	if (b->nomem)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->nomem = true;
		return;
	}
	sb_grow(b, (size_t)n + 1);
	if (b->nomem)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static bool host_ok(const char *h)
{
	return mailmsg_valid_host(h);
}

/* The id as the left of a Message-ID and inside a boundary: letters,
 * digits, '.', '-', '_' (anything else becomes '_'). */
static void id_clean(char *dst, const char *id)
{
	size_t i = 0;
	for (; id[i]; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '_';
		dst[i] = ok ? c : '_';
	}
	dst[i] = '\0';
}

/* The original message's header section (up to its first empty line),
 * at most DSN_HEADERS_MAX bytes cut at a line end, as 7-bit CRLF lines
 * of at most LINE_CUT bytes (RFC 5322 2.1.1 allows 998). */
#define LINE_CUT 990
static void quote_headers(struct sbuf *b, const uint8_t *m, size_t n)
{
	size_t start = b->len, line_start = b->len;
	bool bol = true;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = m[i];
		if (c == '\r' && i + 1 < n && m[i + 1] == '\n')
			continue;   /* the LF that follows ends the line */
		if (c == '\n' || c == '\r') {
			if (bol)
				break;   /* the empty line: the body follows */
			sb_put(b, "\r\n", 2);
			bol = true;
			if (b->len - start > DSN_HEADERS_MAX)
				break;
			line_start = b->len;
			continue;
		}
		if (b->len - line_start >= LINE_CUT)
			continue;   /* the rest of an over-long line is dropped */
		char ch = c >= 0x80 || c == 0 ? '?' : (char)c;
		sb_put(b, &ch, 1);
		bol = false;
	}
	if (b->nomem)
		return;
	/* A last line without its end, or one past the limit, is dropped. */
	if (!bol || b->len - start > DSN_HEADERS_MAX)
		b->len = line_start;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/* The Status of a failed recipient: its enhanced code if it is a valid
 * permanent one, else "5.0.0" for a 5xx and "5.4.7" (delivery time
 * expired) for a 4xx given up on. */
static void status_of(char *dst, const struct dsn_rcpt *r)
{
	const char *e = r->enh;
	bool ok = e && e[0] == '5' && e[1] == '.';
	size_t i = 2;
	for (int part = 0; ok && part < 2; part++) {
		size_t d = 0;
		while (e[i] >= '0' && e[i] <= '9' && d < 4) {
			i++;
			d++;
		}
		ok = d >= 1 && d <= 3 && (part == 1 ? e[i] == '\0' : e[i++] == '.');
	}
	if (ok && r->code / 100 == 5)
		strcpy(dst, e);
	else
		strcpy(dst, r->code / 100 == 5 ? "5.0.0" : "5.4.7");
}

/* "<code> [<enh> ]<text>": the remote's words, cleaned. */
static void diag_of(char *dst, size_t cap, const struct dsn_rcpt *r)
{
	char t[DSN_TEXT_MAX + 1], e[16] = "";
	const char *text = r->text ? r->text : "";
	mailmsg_clean_text(t, sizeof(t), text, strlen(text));
	if (r->enh && *r->enh)
		mailmsg_clean_text(e, sizeof(e), r->enh, strlen(r->enh));
	snprintf(dst, cap, "%03d%s%s%s%s", r->code, *e ? " " : "", e, *t ? " " : "", t);
}

int dsn_envelope(const struct dsn_report *r, const char **from, const char **rcpt)
{
	if (!r->sender || !*r->sender)
		return -ENOMSG;
	*from = "";
	*rcpt = r->sender;
	return 0;
}

static int check(const struct dsn_report *r)
{
	if (!host_ok(r->reporting_mta) || (r->remote_mta && !host_ok(r->remote_mta)) ||
	    !r->dsn_id || !mailmsg_valid_id(r->dsn_id, strlen(r->dsn_id)) ||
	    (r->envelope_id && !mailmsg_valid_id(r->envelope_id, strlen(r->envelope_id))) ||
	    !mailmsg_valid_addr(r->sender, strlen(r->sender)) || r->nrcpt == 0 ||
	    r->nrcpt > MAILMSG_RCPTS_MAX || !r->rcpts || (r->orig_len && !r->orig))
		return -EINVAL;
	for (unsigned i = 0; i < r->nrcpt; i++) {
		const struct dsn_rcpt *x = &r->rcpts[i];
		if (!x->addr || !mailmsg_valid_addr(x->addr, strlen(x->addr)) || x->code < 400 ||
		    x->code > 599)
			return -EINVAL;
	}
	return 0;
}

int dsn_build(const struct dsn_report *r, uint8_t **out, size_t *len)
{
	char date[MAILMSG_DATE_MAX], arrival[MAILMSG_DATE_MAX], id[MAILMSG_ID_MAX + 1];
	char boundary[MAILMSG_ID_MAX + 64], diag[DSN_TEXT_MAX + 32], status[16];
	struct sbuf hdr = { 0 }, b = { 0 };
	int rc;
	if (!r->sender || !*r->sender)
		return -ENOMSG;   /* a bounce never bounces */
	if ((rc = check(r)))
		return rc;
	if (mailmsg_date(date, sizeof(date), r->now) < 0 ||
	    (r->arrival && mailmsg_date(arrival, sizeof(arrival), r->arrival) < 0))
		return -EINVAL;
	id_clean(id, r->dsn_id);

	/* The quoted headers first: the boundary must occur in none of it. */
	quote_headers(&hdr, r->orig, r->orig_len);
	if (hdr.nomem) {
		rc = -ENOMEM;
		goto out;
	}
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, hdr.p ? hdr.p : "", hdr.len);
	for (unsigned i = 0; i < r->nrcpt; i++)
		if (r->rcpts[i].text)
			h = fnv1a(h, r->rcpts[i].text, strlen(r->rcpts[i].text));
	for (unsigned k = 0;; k++) {
		snprintf(boundary, sizeof(boundary), "=_gwart-dsn_%s_%016llx_%u", id,
			 (unsigned long long)h, k);
		if (!hdr.len || !memmem(hdr.p, hdr.len, boundary, strlen(boundary)))
			break;   /* rcpt texts are joined on one line after a prefix: never at a line start */
	}

	sb_printf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", r->reporting_mta);
	sb_printf(&b, "To: <%s>\r\n", r->sender);
	sb_printf(&b, "Subject: Undelivered Mail Returned to Sender\r\n");
	sb_printf(&b, "Date: %s\r\n", date);
	sb_printf(&b, "Message-ID: <%s@%s>\r\n", id, r->reporting_mta);
	sb_printf(&b, "Auto-Submitted: auto-replied\r\n");
	sb_printf(&b, "MIME-Version: 1.0\r\n");
	sb_printf(&b, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		      "\tboundary=\"%s\"\r\n\r\n", boundary);
	sb_printf(&b, "This is a MIME-encapsulated message.\r\n\r\n");

	sb_printf(&b, "--%s\r\nContent-Description: Notification\r\n"
		      "Content-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	sb_printf(&b, "This is the mail system at host %s.\r\n\r\n", r->reporting_mta);
	sb_printf(&b, "I'm sorry to have to inform you that your message could not\r\n"
		      "be delivered to one or more recipients. The reasons are below.\r\n\r\n");
	for (unsigned i = 0; i < r->nrcpt; i++) {
		diag_of(diag, sizeof(diag), &r->rcpts[i]);
		if (r->remote_mta)
			sb_printf(&b, "<%s>: host %s said: %s\r\n", r->rcpts[i].addr, r->remote_mta, diag);
		else
			sb_printf(&b, "<%s>: %s\r\n", r->rcpts[i].addr, diag);
	}
	sb_printf(&b, "\r\n");

	sb_printf(&b, "--%s\r\nContent-Description: Delivery report\r\n"
		      "Content-Type: message/delivery-status\r\n\r\n", boundary);
	sb_printf(&b, "Reporting-MTA: dns; %s\r\n", r->reporting_mta);
	if (r->envelope_id)
		sb_printf(&b, "X-Gwart-Id: %s\r\n", r->envelope_id);
	if (r->arrival)
		sb_printf(&b, "Arrival-Date: %s\r\n", arrival);
	for (unsigned i = 0; i < r->nrcpt; i++) {
		status_of(status, &r->rcpts[i]);
		diag_of(diag, sizeof(diag), &r->rcpts[i]);
		sb_printf(&b, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n",
			  r->rcpts[i].addr, status);
		if (r->remote_mta)
			sb_printf(&b, "Remote-MTA: dns; %s\r\n", r->remote_mta);
		sb_printf(&b, "Diagnostic-Code: smtp; %s\r\n", diag);
	}
	sb_printf(&b, "\r\n");

	sb_printf(&b, "--%s\r\nContent-Description: Undelivered Message Headers\r\n"
		      "Content-Type: text/rfc822-headers\r\n\r\n", boundary);
	if (hdr.len)
		sb_put(&b, hdr.p, hdr.len);
	sb_printf(&b, "\r\n--%s--\r\n", boundary);
	if (b.nomem) {
		rc = -ENOMEM;
		goto out;
	}
	*out = (uint8_t *)b.p;
	*len = b.len;
	b.p = NULL;
	rc = 0;
out:
	free(b.p);
	free(hdr.p);
	return rc;
}
