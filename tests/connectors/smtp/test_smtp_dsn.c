/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dsn (connectors/smtp/dsn.c): notifications built and parsed back as a
 * mail client would (headers, the multipart/report boundary, its three
 * parts, the delivery-status fields per recipient, the quoted headers);
 * the shape of every line (CRLF, 7-bit, <= 998); no bounce for a bounce;
 * bad values; the original's header section cut at its limits; a
 * boundary that an original header tries to forge.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dsn.h"
#include "mailmsg.h"

struct part {
	const char *hdr, *body;   /* NUL-terminated copies */
};

struct parsed {
	char *top;                /* top-level header section */
	char boundary[200];
	struct part parts[8];
	int nparts;
};

/* The field name's value in a header section (unfolded, first one). */
static char *field(const char *hdrs, const char *name)
{
	static char v[4096];
	size_t n = strlen(name);
	for (const char *l = hdrs; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			const char *p = l + n + 1;
			size_t k = 0;
			while (*p == ' ')
				p++;
			for (;;) {
				const char *e = strstr(p, "\r\n");
				cr_assert_not_null(e);
				memcpy(v + k, p, (size_t)(e - p));
				k += (size_t)(e - p);
				if (e[2] != ' ' && e[2] != '\t')
					break;
				p = e + 2;   /* folded: the whitespace stays */
			}
			v[k] = '\0';
			return v;
		}
	}
	return NULL;
}

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void parse(const uint8_t *m, size_t len, struct parsed *ps)
{
	char *s = dup_n((const char *)m, len);
	/* Every line CRLF, 7-bit, at most 998 bytes. */
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		cr_assert_lt((unsigned char)s[i], 0x80, "8-bit byte at %zu", i);
		cr_assert_neq(s[i], '\0');
		if (s[i] == '\n') {
			cr_assert(i > 0 && s[i - 1] == '\r', "bare LF at %zu", i);
			line = 0;
		} else if (s[i] == '\r') {
			cr_assert(i + 1 < len && s[i + 1] == '\n', "bare CR at %zu", i);
		} else {
			cr_assert_leq(++line, 998);
		}
	}
	cr_assert(len >= 2 && s[len - 2] == '\r' && s[len - 1] == '\n');
	char *sep = strstr(s, "\r\n\r\n");
	cr_assert_not_null(sep);
	ps->top = dup_n(s, (size_t)(sep - s) + 2);
	const char *ct = field(ps->top, "Content-Type");
	cr_assert_not_null(ct);
	cr_assert_not_null(strstr(ct, "multipart/report;"));
	cr_assert_not_null(strstr(ct, "report-type=delivery-status;"));
	const char *b = strstr(ct, "boundary=\"");
	cr_assert_not_null(b);
	b += 10;
	const char *q = strchr(b, '"');
	cr_assert_not_null(q);
	snprintf(ps->boundary, sizeof(ps->boundary), "%.*s", (int)(q - b), b);
	char delim[256];
	snprintf(delim, sizeof(delim), "\r\n--%s", ps->boundary);
	const char *p = strstr(sep, delim);
	cr_assert_not_null(p);
	ps->nparts = 0;
	for (;;) {
		p += strlen(delim);
		if (!strncmp(p, "--\r\n", 4)) {
			cr_assert_eq(p + 4, s + len, "nothing after the closing delimiter");
			break;
		}
		cr_assert_eq(strncmp(p, "\r\n", 2), 0);
		p += 2;
		const char *next = strstr(p, delim);
		cr_assert_not_null(next);
		const char *hs = strstr(p, "\r\n\r\n");
		cr_assert(hs && hs < next + 2);
		cr_assert_lt(ps->nparts, 8);
		ps->parts[ps->nparts].hdr = dup_n(p, (size_t)(hs - p) + 2);
		ps->parts[ps->nparts].body = dup_n(hs + 4, (size_t)(next + 2 - (hs + 4)));
		ps->nparts++;
		p = next;
	}
	free(s);
}

static void parsed_free(struct parsed *ps)
{
	free(ps->top);
	for (int i = 0; i < ps->nparts; i++) {
		free((void *)ps->parts[i].hdr);
		free((void *)ps->parts[i].body);
	}
}

static const char orig[] = "Received: from a\r\n\tby b; Wed, 02 Dec 2026 13:14:47 +0000\r\n"
			   "From: Alice <alice@a.test>\r\nTo: bob@b.test, carol@b.test\r\n"
			   "Subject: hello \xc3\xa9\r\nMessage-ID: <m1@a.test>\r\n\r\n"
			   "the body, never quoted\r\n";

static const struct dsn_rcpt rcpts[] = {
	{ "bob@b.test", 550, "5.1.1", "<bob@b.test>: Recipient address rejected: User unknown" },
	{ "carol@b.test", 552, NULL, "mailbox\r\nfull \x01\xff" },
	{ "dave@b.test", 451, "4.4.2", "timeout waiting for the next hop in rcpt" },
};

static struct dsn_report report(void)
{
	return (struct dsn_report){
		.reporting_mta = "gw.a.test", .remote_mta = "mx.b.test", .dsn_id = "7.42.dsn1",
		.envelope_id = "7.42", .sender = "alice@a.test", .orig = (const uint8_t *)orig,
		.orig_len = sizeof(orig) - 1, .now = 1796217287, .arrival = 1796217000,
		.rcpts = rcpts, .nrcpt = 3,
	};
}

Test(smtp_dsn, parsed_back)
{
	struct dsn_report r = report();
	uint8_t *m;
	size_t len;
	cr_assert_eq(dsn_build(&r, &m, &len), 0);
	struct parsed ps;
	parse(m, len, &ps);
	cr_assert_str_eq(field(ps.top, "From"), "Mail Delivery System <MAILER-DAEMON@gw.a.test>");
	cr_assert_str_eq(field(ps.top, "To"), "<alice@a.test>");
	cr_assert_str_eq(field(ps.top, "Subject"), "Undelivered Mail Returned to Sender");
	cr_assert_str_eq(field(ps.top, "Date"), "Wed, 02 Dec 2026 13:14:47 +0000");
	cr_assert_str_eq(field(ps.top, "Message-ID"), "<7.42.dsn1@gw.a.test>");
	cr_assert_str_eq(field(ps.top, "Auto-Submitted"), "auto-replied");
	cr_assert_str_eq(field(ps.top, "MIME-Version"), "1.0");
	cr_assert_eq(ps.nparts, 3);

	/* 1: the human-readable part says who and why. */
	cr_assert_str_eq(field(ps.parts[0].hdr, "Content-Type"), "text/plain; charset=us-ascii");
	const char *t = ps.parts[0].body;
	cr_assert_not_null(strstr(t, "<bob@b.test>: host mx.b.test said: 550 5.1.1 <bob@b.test>: "
				     "Recipient address rejected: User unknown\r\n"));
	cr_assert_not_null(strstr(t, "<carol@b.test>: host mx.b.test said: 552 mailbox full ?\r\n"));
	cr_assert_not_null(strstr(t, "<dave@b.test>: host mx.b.test said: 451 4.4.2 timeout"));

	/* 2: message/delivery-status, per-message then per-recipient groups. */
	cr_assert_str_eq(field(ps.parts[1].hdr, "Content-Type"), "message/delivery-status");
	const char *ds = ps.parts[1].body;
	const char *groups[5];
	int ng = 0;
	groups[ng++] = ds;
	for (const char *g = ds; (g = strstr(g, "\r\n\r\n")) && ng < 5;) {
		g += 4;
		if (*g)
			groups[ng++] = g;
	}
	cr_assert_eq(ng, 4, "one per-message group and three recipients");
	cr_assert_str_eq(field(groups[0], "Reporting-MTA"), "dns; gw.a.test");
	cr_assert_str_eq(field(groups[0], "X-Gwart-Id"), "7.42");
	cr_assert_str_eq(field(groups[0], "Arrival-Date"), "Wed, 02 Dec 2026 13:10:00 +0000");
	static const char *const want[3][3] = {
		{ "rfc822; bob@b.test", "5.1.1", "smtp; 550 5.1.1 <bob@b.test>: Recipient address rejected: User unknown" },
		{ "rfc822; carol@b.test", "5.0.0", "smtp; 552 mailbox full ?" },
		{ "rfc822; dave@b.test", "5.4.7", "smtp; 451 4.4.2 timeout waiting for the next hop in rcpt" },
	};
	for (int i = 0; i < 3; i++) {
		char *g = dup_n(groups[i + 1], strlen(groups[i + 1]));
		char *end = strstr(g, "\r\n\r\n");
		if (end)
			end[2] = '\0';
		cr_assert_str_eq(field(g, "Final-Recipient"), want[i][0]);
		cr_assert_str_eq(field(g, "Action"), "failed");
		cr_assert_str_eq(field(g, "Status"), want[i][1]);
		cr_assert_str_eq(field(g, "Remote-MTA"), "dns; mx.b.test");
		cr_assert_str_eq(field(g, "Diagnostic-Code"), want[i][2]);
		free(g);
	}

	/* 3: the original's header section, 8-bit bytes as '?', not its body. */
	cr_assert_str_eq(field(ps.parts[2].hdr, "Content-Type"), "text/rfc822-headers");
	const char *want_hdr = "Received: from a\r\n\tby b; Wed, 02 Dec 2026 13:14:47 +0000\r\n"
			       "From: Alice <alice@a.test>\r\nTo: bob@b.test, carol@b.test\r\n"
			       "Subject: hello ??\r\nMessage-ID: <m1@a.test>\r\n\r\n";
	cr_assert_str_eq(ps.parts[2].body, want_hdr);
	cr_assert_null(strstr((const char *)m, "never quoted"));
	parsed_free(&ps);
	free(m);

	/* The bounce's envelope: null sender, to the original sender. */
	const char *from, *to;
	cr_assert_eq(dsn_envelope(&r, &from, &to), 0);
	cr_assert_str_eq(from, "");
	cr_assert_str_eq(to, "alice@a.test");
}

Test(smtp_dsn, no_bounce_for_a_bounce)
{
	struct dsn_report r = report();
	uint8_t *m = NULL;
	size_t len = 0;
	const char *from, *to;
	r.sender = "";
	cr_assert_eq(dsn_build(&r, &m, &len), -ENOMSG);
	cr_assert_null(m);
	cr_assert_eq(dsn_envelope(&r, &from, &to), -ENOMSG);
	r.sender = NULL;
	cr_assert_eq(dsn_build(&r, &m, &len), -ENOMSG);
}

Test(smtp_dsn, bad_values)
{
	uint8_t *m;
	size_t len;
	struct dsn_rcpt bad = { "x@y", 250, NULL, NULL };
	struct dsn_report r;
#define REFUSED(stmt) do { r = report(); stmt; cr_assert_eq(dsn_build(&r, &m, &len), -EINVAL, #stmt); } while (0)
	REFUSED(r.reporting_mta = "bad host");
	REFUSED(r.reporting_mta = NULL);
	REFUSED(r.remote_mta = "a>b");
	REFUSED(r.dsn_id = "");
	REFUSED(r.dsn_id = NULL);
	REFUSED(r.envelope_id = "a b");
	REFUSED(r.sender = "a b@c");
	REFUSED(r.nrcpt = 0);
	REFUSED((r.rcpts = &bad, r.nrcpt = 1));
	REFUSED((bad.code = 600, r.rcpts = &bad, r.nrcpt = 1));
	REFUSED((bad.code = 550, bad.addr = "", r.rcpts = &bad, r.nrcpt = 1));
	REFUSED(r.now = -1);
#undef REFUSED
	/* Optional values left out. */
	r = report();
	r.remote_mta = NULL;
	r.envelope_id = NULL;
	r.arrival = 0;
	r.orig = NULL;
	r.orig_len = 0;
	cr_assert_eq(dsn_build(&r, &m, &len), 0);
	struct parsed ps;
	parse(m, len, &ps);
	cr_assert_eq(ps.nparts, 3);
	cr_assert_null(field(ps.parts[1].body, "X-Gwart-Id"));
	cr_assert_null(field(ps.parts[1].body, "Arrival-Date"));
	cr_assert_null(strstr(ps.parts[1].body, "Remote-MTA"));
	cr_assert_not_null(strstr(ps.parts[0].body, "<bob@b.test>: 550 5.1.1 "));
	cr_assert_str_eq(ps.parts[2].body, "\r\n");
	parsed_free(&ps);
	free(m);
}

/* Headers past DSN_HEADERS_MAX are cut at a line end; lines past 990
 * bytes are cut; bare LF and CR become CRLF; a header that spells the
 * boundary the notification would use does not end a part. */
Test(smtp_dsn, hostile_original)
{
	size_t cap = DSN_HEADERS_MAX * 2;
	char *o = malloc(cap);
	size_t n = 0;
	n += (size_t)snprintf(o + n, cap - n, "A: bare lf\nB: bare cr\rC: ");
	memset(o + n, 'x', 5000);
	n += 5000;
	n += (size_t)snprintf(o + n, cap - n, "\r\n");
	while (n < DSN_HEADERS_MAX + 8000)
		n += (size_t)snprintf(o + n, cap - n, "X-Filler: %0100d\r\n", 7);
	n += (size_t)snprintf(o + n, cap - n, "\r\nbody\r\n");
	struct dsn_report r = report();
	r.orig = (const uint8_t *)o;
	r.orig_len = n;
	uint8_t *m;
	size_t len;
	cr_assert_eq(dsn_build(&r, &m, &len), 0);
	struct parsed ps;
	parse(m, len, &ps);
	const char *h = ps.parts[2].body;
	cr_assert_eq(strncmp(h, "A: bare lf\r\nB: bare cr\r\nC: xxx", 30), 0);
	size_t hl = strlen(h);
	cr_assert_leq(hl, DSN_HEADERS_MAX + 2);
	cr_assert_geq(hl, DSN_HEADERS_MAX - 200, "quoted %zu bytes: %.80s", hl, h + (hl > 80 ? hl - 80 : 0));
	cr_assert_str_eq(h + hl - 5, "7\r\n\r\n", "cut at a line end");
	char *c = strstr(h, "C: ");
	cr_assert_eq(strstr(c, "\r\n") - c, 990);
	parsed_free(&ps);
	free(m);

	/* Forge: an original header line that is the delimiter the
	 * notification chose for the clean original. */
	r = report();
	cr_assert_eq(dsn_build(&r, &m, &len), 0);
	parse(m, len, &ps);
	char forged[512];
	int k = snprintf(forged, sizeof(forged), "X-A: 1\r\n--%s--\r\n\r\n", ps.boundary);
	parsed_free(&ps);
	free(m);
	r.orig = (const uint8_t *)forged;
	r.orig_len = (size_t)k;
	cr_assert_eq(dsn_build(&r, &m, &len), 0);
	parse(m, len, &ps);
	cr_assert_eq(ps.nparts, 3);
	cr_assert_not_null(strstr(ps.parts[2].body, "X-A: 1\r\n--"));
	parsed_free(&ps);
	free(m);
	free(o);
}
