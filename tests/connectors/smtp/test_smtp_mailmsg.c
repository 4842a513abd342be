/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mailmsg (connectors/smtp/mailmsg.c): the GWMAIL1/GWRCPT1 payloads
 * encoded and decoded back, a numbered table of malformed inputs each with
 * the error it must give, every prefix of a valid payload (truncation),
 * the limits at their edges, the date and the trace header.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "mailmsg.h"

static struct mailmsg_str rv[MAILMSG_RCPTS_MAX + 1];
static struct mailmsg_rcpt_view rr[MAILMSG_RCPTS_MAX + 1];

static int dec_mail(const char *s, size_t n, struct mailmsg_mail_view *v)
{
	return mailmsg_decode_mail(s, n, v, rv, MAILMSG_RCPTS_MAX);
}

static int dec_rcpt(const char *s, size_t n, struct mailmsg_receipt_view *v)
{
	return mailmsg_decode_receipt(s, n, v, rr, MAILMSG_RCPTS_MAX);
}

static bool eq(struct mailmsg_str a, const char *s)
{
	return a.len == strlen(s) && memcmp(a.p, s, a.len) == 0;
}

Test(mailmsg, mail_round_trip)
{
	const char *rcpts[] = { "a@example.com", "b@example.com" };
	const char *trace = "Received: from x (1.2.3.4)\r\n";
	const char body[] = "Subject: hi\r\n\r\nbody\r\n.\r\n\0binary";
	struct mailmsg_mail m = { "7.42", "s@example.org", rcpts, 2, trace, strlen(trace),
				  (const uint8_t *)body, sizeof(body) - 1 };
	char buf[512];
	long n = mailmsg_encode_mail(&m, buf, sizeof(buf));
	cr_assert_eq(n, (long)mailmsg_mail_len(&m));
	const char *want = "GWMAIL1\r\nId: 7.42\r\nFrom: s@example.org\r\n"
			   "Rcpt: a@example.com\r\nRcpt: b@example.com\r\n\r\n";
	cr_assert_eq(memcmp(buf, want, strlen(want)), 0);
	struct mailmsg_mail_view v;
	cr_assert_eq(dec_mail(buf, (size_t)n, &v), 0);
	cr_assert(eq(v.id, "7.42"));
	cr_assert(eq(v.from, "s@example.org"));
	cr_assert_eq(v.nrcpt, 2);
	cr_assert(eq(v.rcpt[0], "a@example.com"));
	cr_assert(eq(v.rcpt[1], "b@example.com"));
	cr_assert_eq(v.msg_len, strlen(trace) + sizeof(body) - 1);
	cr_assert_eq(memcmp(v.msg, trace, strlen(trace)), 0);
	cr_assert_eq(memcmp(v.msg + strlen(trace), body, sizeof(body) - 1), 0);
	/* One byte short of room: -ENOSPC, not a short payload. */
	cr_assert_eq(mailmsg_encode_mail(&m, buf, (size_t)n - 1), -ENOSPC);
	cr_assert_eq(mailmsg_encode_mail(&m, buf, (size_t)n), n);
}

Test(mailmsg, mail_null_sender_empty_body)
{
	const char *rcpts[] = { "a@example.com" };
	struct mailmsg_mail m = { "x", "", rcpts, 1, NULL, 0, NULL, 0 };
	char buf[128];
	long n = mailmsg_encode_mail(&m, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen("GWMAIL1\r\nId: x\r\nFrom: \r\nRcpt: a@example.com\r\n\r\n"));
	struct mailmsg_mail_view v;
	cr_assert_eq(dec_mail(buf, (size_t)n, &v), 0);
	cr_assert_eq(v.from.len, 0);
	cr_assert_eq(v.msg_len, 0);
}

Test(mailmsg, mail_encode_refuses_bad_values)
{
	char big[MAILMSG_ADDR_MAX + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *bad_rcpts[][1] = { { "" }, { "a b@x" }, { "<a@x>" }, { big }, { "a\r\n@x" } };
	const char *ok[] = { "a@x" };
	char buf[1024];
	for (size_t i = 0; i < sizeof(bad_rcpts) / sizeof(bad_rcpts[0]); i++) {
		struct mailmsg_mail m = { "id", "", bad_rcpts[i], 1, NULL, 0, NULL, 0 };
		cr_assert_eq(mailmsg_encode_mail(&m, buf, sizeof(buf)), -EINVAL, "rcpt %zu", i);
	}
	struct mailmsg_mail m = { "", "", ok, 1, NULL, 0, NULL, 0 };
	cr_assert_eq(mailmsg_encode_mail(&m, buf, sizeof(buf)), -EINVAL, "empty id");
	m.id = "a b";
	cr_assert_eq(mailmsg_encode_mail(&m, buf, sizeof(buf)), -EINVAL, "blank in id");
	m.id = "id";
	m.from = "x y";
	cr_assert_eq(mailmsg_encode_mail(&m, buf, sizeof(buf)), -EINVAL, "blank in from");
	m.from = "";
	m.nrcpt = 0;
	cr_assert_eq(mailmsg_encode_mail(&m, buf, sizeof(buf)), -EINVAL, "no rcpt");
	/* The longest address is fine, one more is not. */
	big[MAILMSG_ADDR_MAX] = '\0';
	const char *edge[] = { big };
	struct mailmsg_mail e = { "id", big, edge, 1, NULL, 0, NULL, 0 };
	cr_assert_gt(mailmsg_encode_mail(&e, buf, sizeof(buf)), 0);
}

#define MAIL_HDR "GWMAIL1\r\nId: i\r\nFrom: f@x\r\nRcpt: r@x\r\n\r\n"

static const struct {
	const char *what, *in;
	size_t len;   /* 0: strlen */
	int err;      /* 0: valid */
} mail_cases[] = {
	/* 1 */ { "valid", MAIL_HDR "body", 0, 0 },
	/* 2 */ { "empty input", "", 0, -MAILMSG_E_MAGIC },
	/* 3 */ { "wrong magic", "GWMAIL2\r\nId: i\r\n", 0, -MAILMSG_E_MAGIC },
	/* 4 */ { "magic with LF only", "GWMAIL1\nId: i\r\n", 0, -MAILMSG_E_MAGIC },
	/* 5 */ { "lower-case field", "GWMAIL1\r\nid: i\r\nFrom: \r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_FIELD },
	/* 6 */ { "From before Id", "GWMAIL1\r\nFrom: \r\nId: i\r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_FIELD },
	/* 7 */ { "empty Id", "GWMAIL1\r\nId: \r\nFrom: \r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_ID },
	/* 8 */ { "blank in Id", "GWMAIL1\r\nId: a b\r\nFrom: \r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_ID },
	/* 9 */ { "From without blank", "GWMAIL1\r\nId: i\r\nFrom:\r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_FIELD },
	/* 10 */ { "From with <>", "GWMAIL1\r\nId: i\r\nFrom: <a@x>\r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_ADDR },
	/* 11 */ { "no Rcpt", "GWMAIL1\r\nId: i\r\nFrom: \r\n\r\nbody", 0, -MAILMSG_E_NORCPT },
	/* 12 */ { "empty Rcpt", "GWMAIL1\r\nId: i\r\nFrom: \r\nRcpt: \r\n\r\n", 0, -MAILMSG_E_ADDR },
	/* 13 */ { "Id repeated", "GWMAIL1\r\nId: i\r\nFrom: \r\nId: i\r\n\r\n", 0, -MAILMSG_E_FIELD },
	/* 14 */ { "no blank line", "GWMAIL1\r\nId: i\r\nFrom: \r\nRcpt: r@x\r\n", 0, -MAILMSG_E_TRUNC },
	/* 15 */ { "ends on CR", "GWMAIL1\r\nId: i\r", 0, -MAILMSG_E_TRUNC },
	/* 16 */ { "bare LF in header", "GWMAIL1\r\nId: i\nFrom: \r\n", 0, -MAILMSG_E_LINE },
	/* 17 */ { "bare CR in header", "GWMAIL1\r\nId: i\rx\r\n", 0, -MAILMSG_E_LINE },
	/* 18 */ { "NUL in header", "GWMAIL1\r\nId: i\0\r\n", 16, -MAILMSG_E_LINE },
	/* 19 */ { "8-bit address", "GWMAIL1\r\nId: i\r\nFrom: \xc3\xa9@x\r\nRcpt: r@x\r\n\r\n", 0, -MAILMSG_E_ADDR },
	/* 20 */ { "NUL and bare LF in the body are content", MAIL_HDR "a\0b\nc", sizeof(MAIL_HDR) + 4, 0 },
	/* 21 */ { "empty body", MAIL_HDR, 0, 0 },
	/* 22 */ { "Rcpt line then other field", "GWMAIL1\r\nId: i\r\nFrom: \r\nRcpt: r@x\r\nX: y\r\n\r\n", 0, -MAILMSG_E_FIELD },
};

Test(mailmsg, mail_table)
{
	for (size_t i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++) {
		size_t n = mail_cases[i].len ? mail_cases[i].len : strlen(mail_cases[i].in);
		struct mailmsg_mail_view v;
		int rc = dec_mail(mail_cases[i].in, n, &v);
		cr_expect_eq(rc, mail_cases[i].err, "case %zu (%s): %d (%s)", i + 1,
			     mail_cases[i].what, rc, mailmsg_strerror(rc));
	}
}

/* Every proper prefix of a payload's header section is an error; a copy
 * of exactly that length (heap, so ASan sees a read past it). */
Test(mailmsg, mail_every_prefix)
{
	const char *in = MAIL_HDR;
	size_t len = strlen(in);
	for (size_t n = 0; n < len; n++) {
		char *c = malloc(n ? n : 1);
		memcpy(c, in, n);
		struct mailmsg_mail_view v;
		cr_assert_lt(dec_mail(c, n, &v), 0, "prefix %zu", n);
		free(c);
	}
}

Test(mailmsg, mail_rcpt_limit)
{
	size_t cap = 64 + (MAILMSG_RCPTS_MAX + 1) * 16;
	char *buf = malloc(cap);
	size_t n = (size_t)sprintf(buf, "GWMAIL1\r\nId: i\r\nFrom: \r\n");
	for (int i = 0; i < MAILMSG_RCPTS_MAX; i++)
		n += (size_t)sprintf(buf + n, "Rcpt: r%d@x\r\n", i);
	size_t at_limit = n;
	n += (size_t)sprintf(buf + n, "\r\n");
	struct mailmsg_mail_view v;
	cr_assert_eq(dec_mail(buf, n, &v), 0);
	cr_assert_eq(v.nrcpt, MAILMSG_RCPTS_MAX);
	/* The caller's smaller array lowers the limit. */
	cr_assert_eq(mailmsg_decode_mail(buf, n, &v, rv, 10), -MAILMSG_E_TOOMANY);
	n = at_limit + (size_t)sprintf(buf + at_limit, "Rcpt: one@more\r\n\r\n");
	cr_assert_eq(dec_mail(buf, n, &v), -MAILMSG_E_TOOMANY);
	free(buf);
}

Test(mailmsg, receipt_round_trip_and_status)
{
	struct mailmsg_rcpt_result r[] = {
		{ "a@x", 250, "2.0.0 Ok: queued as 123" },
		{ "b@x", 550, "5.1.1 <b@x>: Recipient address rejected" },
		{ "c@x", 250, NULL },
	};
	struct mailmsg_receipt rc = { "7.9", r, 3 };
	char buf[512];
	long n = mailmsg_encode_receipt(&rc, buf, sizeof(buf));
	cr_assert_eq(n, (long)mailmsg_receipt_len(&rc));
	const char *want = "GWRCPT1\r\nId: 7.9\r\nStatus: failed\r\n"
			   "Rcpt: a@x 250 2.0.0 Ok: queued as 123\r\n"
			   "Rcpt: b@x 550 5.1.1 <b@x>: Recipient address rejected\r\n"
			   "Rcpt: c@x 250\r\n";
	cr_assert_eq((size_t)n, strlen(want));
	cr_assert_eq(memcmp(buf, want, (size_t)n), 0);
	struct mailmsg_receipt_view v;
	cr_assert_eq(dec_rcpt(buf, (size_t)n, &v), 0);
	cr_assert_eq(v.status, MAILMSG_FAILED);
	cr_assert_eq(v.nrcpt, 3);
	cr_assert(eq(v.rcpt[1].addr, "b@x"));
	cr_assert_eq(v.rcpt[1].code, 550);
	cr_assert(eq(v.rcpt[1].text, "5.1.1 <b@x>: Recipient address rejected"));
	cr_assert_eq(v.rcpt[2].text.len, 0);
	cr_assert_eq(mailmsg_encode_receipt(&rc, buf, (size_t)n - 1), -ENOSPC);

	int c1[] = { 250, 250 }, c2[] = { 250, 550 }, c3[] = { 550, 451, 250 };
	cr_assert_eq(mailmsg_rcpt_status(c1, 2), MAILMSG_DELIVERED);
	cr_assert_eq(mailmsg_rcpt_status(c2, 2), MAILMSG_FAILED);
	cr_assert_eq(mailmsg_rcpt_status(c3, 3), MAILMSG_DEFERRED);
	r[1].code = 451;
	n = mailmsg_encode_receipt(&rc, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	cr_assert_eq(dec_rcpt(buf, (size_t)n, &v), 0);
	cr_assert_eq(v.status, MAILMSG_DEFERRED);
	r[1].code = 300;
	cr_assert_eq(mailmsg_encode_receipt(&rc, buf, sizeof(buf)), -EINVAL);
	r[1].code = 550;
	r[1].text = "bad\r\ntext";
	cr_assert_eq(mailmsg_encode_receipt(&rc, buf, sizeof(buf)), -EINVAL);
}

#define RC_HDR "GWRCPT1\r\nId: i\r\n"

static const struct {
	const char *what, *in;
	int err;
} rcpt_cases[] = {
	/* 1 */ { "valid", RC_HDR "Status: delivered\r\nRcpt: a@x 250 ok\r\n", 0 },
	/* 2 */ { "valid, closing empty line", RC_HDR "Status: delivered\r\nRcpt: a@x 250 ok\r\n\r\n", 0 },
	/* 3 */ { "bytes after the empty line", RC_HDR "Status: delivered\r\nRcpt: a@x 250\r\n\r\nx", -MAILMSG_E_TRAILING },
	/* 4 */ { "no Rcpt", RC_HDR "Status: delivered\r\n", -MAILMSG_E_NORCPT },
	/* 5 */ { "unknown status", RC_HDR "Status: bounced\r\nRcpt: a@x 550\r\n", -MAILMSG_E_STATUS },
	/* 6 */ { "status disagrees with codes", RC_HDR "Status: delivered\r\nRcpt: a@x 550 no\r\n", -MAILMSG_E_STATUS },
	/* 7 */ { "failed with a 4xx", RC_HDR "Status: failed\r\nRcpt: a@x 550\r\nRcpt: b@x 450\r\n", -MAILMSG_E_STATUS },
	/* 8 */ { "deferred", RC_HDR "Status: deferred\r\nRcpt: a@x 550\r\nRcpt: b@x 450\r\n", 0 },
	/* 9 */ { "code 3xx", RC_HDR "Status: delivered\r\nRcpt: a@x 354\r\n", -MAILMSG_E_CODE },
	/* 10 */ { "code 600", RC_HDR "Status: delivered\r\nRcpt: a@x 600\r\n", -MAILMSG_E_CODE },
	/* 11 */ { "two-digit code", RC_HDR "Status: delivered\r\nRcpt: a@x 25\r\n", -MAILMSG_E_CODE },
	/* 12 */ { "four-digit code", RC_HDR "Status: delivered\r\nRcpt: a@x 2500\r\n", -MAILMSG_E_CODE },
	/* 13 */ { "no code", RC_HDR "Status: delivered\r\nRcpt: a@x\r\n", -MAILMSG_E_CODE },
	/* 14 */ { "code then blank only", RC_HDR "Status: delivered\r\nRcpt: a@x 250 \r\n", -MAILMSG_E_CODE },
	/* 15 */ { "empty address", RC_HDR "Status: delivered\r\nRcpt:  250\r\n", -MAILMSG_E_ADDR },
	/* 16 */ { "control byte in text", RC_HDR "Status: delivered\r\nRcpt: a@x 250 a\tb\r\n", -MAILMSG_E_TEXT },
	/* 17 */ { "8-bit text", RC_HDR "Status: delivered\r\nRcpt: a@x 250 \xff\r\n", -MAILMSG_E_TEXT },
	/* 18 */ { "truncated line", RC_HDR "Status: delivered\r\nRcpt: a@x 250", -MAILMSG_E_TRUNC },
	/* 19 */ { "mail magic", "GWMAIL1\r\nId: i\r\n", -MAILMSG_E_MAGIC },
	/* 20 */ { "no Status", RC_HDR "Rcpt: a@x 250\r\n", -MAILMSG_E_FIELD },
	/* 21 */ { "negative-looking code", RC_HDR "Status: delivered\r\nRcpt: a@x -25\r\n", -MAILMSG_E_CODE },
};

Test(mailmsg, receipt_table)
{
	for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
		struct mailmsg_receipt_view v;
		int rc = dec_rcpt(rcpt_cases[i].in, strlen(rcpt_cases[i].in), &v);
		cr_expect_eq(rc, rcpt_cases[i].err, "case %zu (%s): %d (%s)", i + 1,
			     rcpt_cases[i].what, rc, mailmsg_strerror(rc));
	}
}

Test(mailmsg, receipt_text_limit)
{
	char text[MAILMSG_TEXT_MAX + 2], buf[1024];
	memset(text, 'x', sizeof(text) - 1);
	text[MAILMSG_TEXT_MAX] = '\0';
	struct mailmsg_rcpt_result r = { "a@x", 550, text };
	struct mailmsg_receipt rc = { "i", &r, 1 };
	long n = mailmsg_encode_receipt(&rc, buf, sizeof(buf));
	cr_assert_gt(n, 0);
	struct mailmsg_receipt_view v;
	cr_assert_eq(dec_rcpt(buf, (size_t)n, &v), 0);
	cr_assert_eq(v.rcpt[0].text.len, MAILMSG_TEXT_MAX);
	text[MAILMSG_TEXT_MAX] = 'x';
	text[MAILMSG_TEXT_MAX + 1] = '\0';
	cr_assert_eq(mailmsg_encode_receipt(&rc, buf, sizeof(buf)), -EINVAL);
	/* The same text hand-written is refused by the decoder. */
	int k = snprintf(buf, sizeof(buf), RC_HDR "Status: failed\r\nRcpt: a@x 550 %s\r\n", text);
	cr_assert_eq(dec_rcpt(buf, (size_t)k, &v), -MAILMSG_E_TEXT);
}

Test(mailmsg, clean_text)
{
	char out[16];
	cr_assert_eq(mailmsg_clean_text(out, sizeof(out), "  a\r\n\tb  \xff ", 11), 5);
	cr_assert_str_eq(out, "a b ?");
	cr_assert_eq(mailmsg_clean_text(out, 4, "abcdef", 6), 3);
	cr_assert_str_eq(out, "abc");
	cr_assert_eq(mailmsg_clean_text(out, 1, "abc", 3), 0);
	cr_assert_str_eq(out, "");
}

Test(mailmsg, domain)
{
	struct mailmsg_str d = mailmsg_addr_domain("a@b@Example.COM", 15);
	cr_assert(eq(d, "Example.COM"));
	d = mailmsg_addr_domain("postmaster", 10);
	cr_assert_null(d.p);
}

Test(mailmsg, date_and_received)
{
	char d[MAILMSG_DATE_MAX], r[MAILMSG_RECEIVED_MAX];
	cr_assert_eq(mailmsg_date(d, sizeof(d), 0), 31);
	cr_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 +0000");
	cr_assert_gt(mailmsg_date(d, sizeof(d), 1796217287), 0);
	cr_assert_str_eq(d, "Wed, 02 Dec 2026 13:14:47 +0000");
	cr_assert_eq(mailmsg_date(d, sizeof(d), -1), -EINVAL);
	cr_assert_eq(mailmsg_date(d, sizeof(d), 253402300800LL), -EINVAL);
	int n = mailmsg_received(r, sizeof(r), "mx.example.org", true, "198.18.0.1", "gw.example",
				 "3.17", 1796217287);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(r, "Received: from mx.example.org (198.18.0.1)\r\n"
			    "\tby gw.example (gwart-smtp) with ESMTP id 3.17;\r\n"
			    "\tWed, 02 Dec 2026 13:14:47 +0000\r\n");
	/* A hostile HELO cannot break out of the header. */
	n = mailmsg_received(r, sizeof(r), "evil)\r\nX-Bad: 1 (", false, "::1 x", "gw", "i", 0);
	cr_assert_gt(n, 0);
	cr_assert_str_eq(r, "Received: from evil___X-Bad:_1__ (::1__)\r\n"
			    "\tby gw (gwart-smtp) with SMTP id i;\r\n"
			    "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
	cr_assert_eq(mailmsg_received(r, sizeof(r), "h", true, "1", "gw", "bad id", 0), -EINVAL);
	cr_assert_eq(mailmsg_received(r, 20, "h", true, "1", "gw", "i", 0), -ENOSPC);
	/* The longest values fit MAILMSG_RECEIVED_MAX. */
	char h[400], id[MAILMSG_ID_MAX + 1];
	memset(h, 'h', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	memset(id, 'i', MAILMSG_ID_MAX);
	id[MAILMSG_ID_MAX] = '\0';
	cr_assert_gt(mailmsg_received(r, sizeof(r), h, true, h, h, id, 253402300799LL), 0);
}

Test(mailmsg, strerror)
{
	cr_assert_str_eq(mailmsg_strerror(0), "ok");
	cr_assert_str_eq(mailmsg_strerror(-MAILMSG_E_TRUNC), "input ends inside the header section");
	cr_assert_str_eq(mailmsg_strerror(-999), "?");
}
