/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_server (connectors/smtp/smtp_server.c): a numbered table of client
 * sessions (RFC 5321 sequences, pipelining, SIZE and line-length edges,
 * dot-unstuffing, limits, errors), each replayed with its input split at
 * every chunk size from 1 byte to whole, which must give the same replies
 * and mails; then backpressure, the asynchronous DATA answer, and hostile
 * clients whose endless lines and bodies must not grow the heap.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "smtp_server.h"

#if defined(__SANITIZE_ADDRESS__)
/* ASan's allocator (gcc ships no allocator_interface.h): its count, as
 * mallinfo2() does not see ASan's heap. */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();
	return m.uordblks + m.hblkhd;
}
#endif

#define G "220 mx.test ESMTP gwart-smtp\r\n"
#define EHLO_R "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n"
#define ENV "EHLO c.test\r\nMAIL FROM:<s@a.test>\r\nRCPT TO:<r@b.test>\r\n"
#define ENV_R EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
#define DATA_R "354 End data with <CR><LF>.<CR><LF>\r\n"
#define Q_R "250 2.0.0 Ok: queued\r\n"
#define BYE "221 2.0.0 Bye\r\n"
#define U "500 5.5.2 Error: command not recognized\r\n"

/* The hook of the table: refuses "no@..." with its default, "busy@..."
 * with 450 4.2.0, "odd@..." with a code out of range. */
static bool hook(void *arg, const char *addr, struct smtp_srv_verdict *v)
{
	(void)arg;
	if (!strncmp(addr, "no@", 3))
		return false;
	if (!strncmp(addr, "busy@", 5)) {
		v->code = 450;
		v->enh = "4.2.0";
		v->text = "mailbox busy";
		return false;
	}
	if (!strncmp(addr, "odd@", 4)) {
		v->code = 250;
		return false;
	}
	return true;
}

struct run {
	char out[65536];
	size_t out_len;
	unsigned mails;
	char mail[4096];   /* the first mail: "from|r1,r2|8bit|size|body" */
	bool closed;
	struct smtp_srv_stats stats;
};

static const struct smtp_srv_cfg base_cfg = {
	.hostname = "mx.test", .max_size = 1000, .max_rcpts = 3, .max_line = 512,
	.max_errors = 10, .rcpt_hook = hook,
};

static void drain(struct smtp_srv *s, struct run *r)
{
	size_t n;
	const char *o = smtp_srv_out(s, &n);
	cr_assert_leq(n, SMTP_SRV_OUT_CAP);
	cr_assert_lt(r->out_len + n, sizeof(r->out));
	memcpy(r->out + r->out_len, o, n);
	r->out_len += n;
	r->out[r->out_len] = '\0';
	smtp_srv_out_consume(s, n);
}

/* Feeds in[0..len) chunk bytes at a time; answers each mail with answer. */
static void run_session(const struct smtp_srv_cfg *cfg, const char *in, size_t len, size_t chunk,
			const struct smtp_srv_verdict *answer, struct run *r)
{
	struct smtp_srv *s = smtp_srv_new(cfg);
	cr_assert_not_null(s);
	memset(r, 0, sizeof(*r));
	size_t pos = 0;
	unsigned spins = 0;
	drain(s, r);
	while (pos < len) {
		size_t n = len - pos < chunk ? len - pos : chunk;
		size_t took = smtp_srv_feed(s, in + pos, n);
		cr_assert_leq(took, n);
		pos += took;
		drain(s, r);
		if (smtp_srv_pending(s) == SMTP_SRV_EV_MAIL) {
			const struct smtp_srv_mail *m = smtp_srv_mail(s);
			cr_assert_not_null(m);
			if (r->mails++ == 0) {
				int k = snprintf(r->mail, sizeof(r->mail), "%s|", m->from);
				for (unsigned i = 0; i < m->nrcpt; i++)
					k += snprintf(r->mail + k, sizeof(r->mail) - (size_t)k, "%s%s",
						      i ? "," : "", m->rcpts[i]);
				k += snprintf(r->mail + k, sizeof(r->mail) - (size_t)k, "|%d|%llu|%.*s",
					      m->body_8bit, (unsigned long long)m->size_declared,
					      (int)m->body_len, (const char *)m->body);
			}
			cr_assert_eq(smtp_srv_mail_reply(s, answer), 0);
			drain(s, r);
		} else if (took < n) {
			cr_assert(smtp_srv_closed(s) || took > 0 || ++spins < 3,
				  "feed makes no progress");
		}
	}
	r->closed = smtp_srv_closed(s);
	r->stats = *smtp_srv_stats(s);
	smtp_srv_free(s);
}

static const struct smtp_srv_verdict ok250 = { 250, NULL, NULL };

static const struct {
	const char *what, *in, *out, *mail;  /* mail: the first one, NULL for none */
	unsigned mails;
	bool closed;
} cases[] = {
	/* 1 */ { "EHLO, QUIT", "EHLO c.test\r\nQUIT\r\n", G EHLO_R BYE, NULL, 0, true },
	/* 2 */ { "a whole mail, one command at a time", ENV "DATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n",
		  G ENV_R DATA_R Q_R BYE, "s@a.test|r@b.test|0|0|Subject: x\r\n\r\nhi\r\n", 1, true },
	/* 3 */ { "HELO: no enhanced codes, no parameters", "HELO c\r\nMAIL FROM:<s@a.test> SIZE=10\r\n"
		  "MAIL FROM:<s@a.test>\r\nRCPT TO:<r@b.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
		  G "250 mx.test\r\n555 Unsupported parameter\r\n250 Ok\r\n250 Ok\r\n" DATA_R
		  "250 Ok: queued\r\n221 Bye\r\n", "s@a.test|r@b.test|0|0|x\r\n", 1, true },
	/* 4 */ { "MAIL before HELO", "MAIL FROM:<s@a.test>\r\n", G "503 Error: send HELO/EHLO first\r\n", NULL, 0, false },
	/* 5 */ { "RCPT before MAIL, DATA before MAIL", "EHLO c\r\nRCPT TO:<r@b.test>\r\nDATA\r\n",
		  G EHLO_R "503 5.5.1 Error: need MAIL command\r\n503 5.5.1 Error: need MAIL command\r\n", NULL, 0, false },
	/* 6 */ { "DATA before RCPT", "EHLO c\r\nMAIL FROM:<>\r\nDATA\r\n",
		  G EHLO_R "250 2.1.0 Ok\r\n503 5.5.1 Error: need RCPT command\r\n", NULL, 0, false },
	/* 7 */ { "pipelined RCPTs all refused, then DATA: 554", "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<no@b.test>\r\n"
		  "RCPT TO:<busy@b.test>\r\nRCPT TO:<odd@b.test>\r\nDATA\r\n",
		  G EHLO_R "250 2.1.0 Ok\r\n550 5.1.1 <no@b.test>: Recipient address rejected\r\n"
		  "450 4.2.0 <busy@b.test>: mailbox busy\r\n451 4.3.0 <odd@b.test>: Recipient address rejected\r\n"
		  "554 5.5.1 Error: no valid recipients\r\n", NULL, 0, false },
	/* 8 */ { "nested MAIL", "EHLO c\r\nMAIL FROM:<>\r\nMAIL FROM:<>\r\n",
		  G EHLO_R "250 2.1.0 Ok\r\n503 5.5.1 Error: nested MAIL command\r\n", NULL, 0, false },
	/* 9 */ { "SIZE at, above, far above the limit; bad SIZE", "EHLO c\r\nMAIL FROM:<> SIZE=1001\r\n"
		  "MAIL FROM:<> SIZE=99999999999999999999\r\nMAIL FROM:<> SIZE=1x\r\nMAIL FROM:<> SIZE=\r\n"
		  "MAIL FROM:<> SIZE=1000\r\n",
		  G EHLO_R "552 5.3.4 Message size exceeds fixed limit\r\n552 5.3.4 Message size exceeds fixed limit\r\n"
		  "501 5.5.4 Bad SIZE parameter\r\n501 5.5.4 Bad SIZE parameter\r\n250 2.1.0 Ok\r\n", NULL, 0, false },
	/* 10 */ { "BODY=8BITMIME, SIZE, lower case, a blank after the colon",
		   "ehlo c\r\nmail from: <s@a.test> body=8bitmime size=5\r\nrcpt to:<r@b.test>\r\ndata\r\n\xc3\xa9\r\n.\r\n",
		   G EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" DATA_R Q_R, "s@a.test|r@b.test|1|5|\xc3\xa9\r\n", 1, false },
	/* 11 */ { "bad BODY, unknown and repeated parameters", "EHLO c\r\nMAIL FROM:<> BODY=BINARYMIME\r\n"
		   "MAIL FROM:<> SMTPUTF8\r\nMAIL FROM:<> SIZE=1 SIZE=2\r\nMAIL FROM:<>  \r\n",
		   G EHLO_R "501 5.5.4 Bad BODY parameter\r\n555 5.5.4 Unsupported parameter\r\n"
		   "555 5.5.4 Unsupported parameter\r\n250 2.1.0 Ok\r\n", NULL, 0, false },
	/* 12 */ { "unknown, unimplemented, empty", "EHLO c\r\nFOO\r\nEXPN x\r\n\r\n",
		   G EHLO_R "500 5.5.2 Error: command not recognized\r\n502 5.5.1 Error: command not implemented\r\n"
		   "500 5.5.2 Error: bad syntax\r\n", NULL, 0, false },
	/* 13 */ { "RSET ends the transaction", ENV "RSET\r\nRCPT TO:<r@b.test>\r\nRSET x\r\n",
		   G ENV_R "250 2.0.0 Ok\r\n503 5.5.1 Error: need MAIL command\r\n501 5.5.4 Syntax: RSET\r\n", NULL, 0, false },
	/* 14 */ { "max recipients: the 4th is 452, duplicates count once", "EHLO c\r\nMAIL FROM:<>\r\n"
		   "RCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\nRCPT TO:<a@x>\r\nRCPT TO:<c@x>\r\nRCPT TO:<d@x>\r\nDATA\r\n.\r\n",
		   G EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n"
		   "452 4.5.3 Error: too many recipients\r\n" DATA_R Q_R, "|a@x,b@x,c@x|0|0|", 1, false },
	/* 15 */ { "VRFY, HELP, NOOP", "EHLO c\r\nVRFY x\r\nVRFY\r\nHELP\r\nNOOP x\r\n",
		   G EHLO_R "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\r\n"
		   "501 5.5.4 Syntax: VRFY address\r\n214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n"
		   "250 2.0.0 Ok\r\n", NULL, 0, false },
	/* 16 */ { "the error limit: 421 after the 10th, nothing read after",
		   "EHLO c\r\nA\r\nB\r\nC\r\nD\r\nE\r\nF\r\nG\r\nH\r\nI\r\nJ\r\nNOOP\r\n",
		   G EHLO_R U U U U U U U U U U "421 4.7.0 mx.test Error: too many errors\r\n", NULL, 0, true },
	/* 17 */ { "nothing is read after QUIT", "EHLO c\r\nQUIT\r\nNOOP\r\n", G EHLO_R BYE, NULL, 0, true },
	/* 18 */ { "dot-unstuffing, and only CRLF.CRLF ends", ENV "DATA\r\n..a\r\n.b\r\n..\r\nx\n.\nz\r.\r\n\r\n.\r\n",
		   G ENV_R DATA_R Q_R, "s@a.test|r@b.test|0|0|.a\r\nb\r\n.\r\nx\n.\nz\r.\r\n\r\n", 1, false },
	/* 19 */ { "an empty mail; \".\\r\" then not LF is content", ENV "DATA\r\n.\r\n"
		   "MAIL FROM:<>\r\nRCPT TO:<r@b.test>\r\nDATA\r\n.\rx\r\n.\r\n",
		   G ENV_R DATA_R Q_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" DATA_R Q_R, "s@a.test|r@b.test|0|0|", 2, false },
	/* 20 */ { "addresses: source route, postmaster, bad ones", "EHLO c\r\nMAIL FROM:<nodomain>\r\n"
		   "MAIL FROM:<@a,@b:s@a.test>\r\nRCPT TO:<Postmaster>\r\nRCPT TO:<>\r\nRCPT TO:<x@>\r\nRCPT TO:<@x>\r\n"
		   "RCPT TO:r@b.test\r\nRCPT TO:<a b@x>\r\nDATA\r\n.\r\n",
		   G EHLO_R "501 5.1.7 Bad sender address syntax\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		   "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
		   "501 5.1.3 Bad recipient address syntax\r\n501 5.1.3 Bad recipient address syntax\r\n"
		   "501 5.1.3 Bad recipient address syntax\r\n" DATA_R Q_R, "s@a.test|Postmaster|0|0|", 1, false },
	/* 21 */ { "EHLO without a name, bare LF command", "EHLO\r\nEHLO a b\r\nNOOP\n",
		   G "501 Syntax: EHLO hostname\r\n501 Syntax: EHLO hostname\r\n250 Ok\r\n", NULL, 0, false },
	/* 22 */ { "RCPT parameters are refused", "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<r@b.test> NOTIFY=NEVER\r\n",
		   G EHLO_R "250 2.1.0 Ok\r\n555 5.5.4 Unsupported parameter\r\n", NULL, 0, false },
	/* 23 */ { "DATA with an argument", "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<r@b.test>\r\nDATA x\r\n",
		   G EHLO_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n501 5.5.4 Syntax: DATA\r\n", NULL, 0, false },
	/* 24 */ { "EHLO again resets the transaction", ENV "EHLO d\r\nDATA\r\n",
		   G ENV_R EHLO_R "503 5.5.1 Error: need MAIL command\r\n", NULL, 0, false },
	/* 25 */ { "two mails in one pipelined stream", ENV "DATA\r\na\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<q@b.test>\r\n"
		   "DATA\r\nb\r\n.\r\nQUIT\r\n",
		   G ENV_R DATA_R Q_R "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n" DATA_R Q_R BYE, "s@a.test|r@b.test|0|0|a\r\n", 2, true },
};

Test(smtp_server, table_every_split)
{
	static const size_t chunks[] = { 1, 2, 3, 5, 7, 13, 64, 100000 };
	static struct run r;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			run_session(&base_cfg, cases[i].in, strlen(cases[i].in), chunks[c], &ok250, &r);
			cr_expect_str_eq(r.out, cases[i].out, "case %zu (%s), chunk %zu", i + 1, cases[i].what,
					 chunks[c]);
			cr_expect_eq(r.mails, cases[i].mails, "case %zu mails", i + 1);
			if (cases[i].mail)
				cr_expect_str_eq(r.mail, cases[i].mail, "case %zu mail", i + 1);
			cr_expect_eq(r.closed, cases[i].closed, "case %zu closed", i + 1);
		}
	}
}

/* A command line of exactly max_line bytes with its CRLF is read; one more
 * byte is 500 5.5.6, and the session goes on. */
Test(smtp_server, line_length_edges)
{
	static struct run r;
	char in[2048];
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = (size_t)snprintf(in, sizeof(in), "EHLO c\r\nNOOP ");
		size_t want = base_cfg.max_line + (size_t)extra - 2;   /* the line without CRLF */
		memset(in + n, 'x', want - 5);
		n += want - 5;
		n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\nNOOP\r\n");
		run_session(&base_cfg, in, n, 100000, &ok250, &r);
		if (!extra)
			cr_assert_str_eq(r.out, G EHLO_R "250 2.0.0 Ok\r\n250 2.0.0 Ok\r\n");
		else
			cr_assert_str_eq(r.out, G EHLO_R "500 5.5.6 Error: line too long\r\n250 2.0.0 Ok\r\n");
		cr_assert_eq(r.stats.lines_too_long, (uint64_t)extra);
	}
}

/* Content of exactly max_size bytes is a mail; one more is 552 5.3.4 once
 * the final dot is read, and the session goes on. */
Test(smtp_server, size_edges)
{
	static struct run r;
	static char in[4096];
	for (int extra = 0; extra <= 1; extra++) {
		size_t n = (size_t)snprintf(in, sizeof(in), ENV "DATA\r\n");
		size_t content = base_cfg.max_size + (size_t)extra;   /* with the final CRLF */
		memset(in + n, 'y', content - 2);
		n += content - 2;
		n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\n.\r\nNOOP\r\n");
		run_session(&base_cfg, in, n, 100000, &ok250, &r);
		if (!extra) {
			cr_assert_str_eq(r.out, G ENV_R DATA_R Q_R "250 2.0.0 Ok\r\n");
			cr_assert_eq(r.mails, 1);
		} else {
			cr_assert_str_eq(r.out, G ENV_R DATA_R "552 5.3.4 Error: message file too big\r\n"
					 "250 2.0.0 Ok\r\n");
			cr_assert_eq(r.mails, 0);
		}
		cr_assert_eq(r.stats.body_too_big, (uint64_t)extra);
	}
}

Test(smtp_server, counters)
{
	static struct run r;
	const char *in = "EHLO c\r\nMAIL FROM:<> SIZE=5000\r\nMAIL FROM:<>\r\nRCPT TO:<no@x>\r\n"
			 "RCPT TO:<a@x>\r\nRCPT TO:<b@x>\r\nRCPT TO:<c@x>\r\nRCPT TO:<d@x>\r\n"
			 "DATA\r\na\nb\rc\r\n.\r\nBAD\r\n";
	run_session(&base_cfg, in, strlen(in), 100000, &ok250, &r);
	cr_assert_eq(r.stats.size_refused, 1);
	cr_assert_eq(r.stats.mails_started, 1);
	cr_assert_eq(r.stats.rcpts_refused, 1);
	cr_assert_eq(r.stats.rcpts_accepted, 3);
	cr_assert_eq(r.stats.rcpts_over_limit, 1);
	cr_assert_eq(r.stats.bare_lf_cr, 2);
	cr_assert_eq(r.stats.mails_pending, 1);
	cr_assert_eq(r.stats.mails_accepted, 1);
	cr_assert_eq(r.stats.unknown_cmds, 1);
	cr_assert_eq(r.stats.commands, 10);
	cr_assert_eq(r.stats.bytes_in, strlen(in));
}

/* The answer to DATA comes later: nothing after the final dot is read
 * until then; refusals, a timeout while waiting, misuse. */
Test(smtp_server, async_answer)
{
	struct smtp_srv *s = smtp_srv_new(&base_cfg);
	size_t n;
	const char *in = ENV "DATA\r\nhello\r\n.\r\nNOOP\r\n";
	smtp_srv_out_consume(s, SIZE_MAX);
	size_t took = smtp_srv_feed(s, in, strlen(in));
	cr_assert_eq(took, strlen(in) - strlen("NOOP\r\n"));
	cr_assert_eq(smtp_srv_pending(s), SMTP_SRV_EV_MAIL);
	cr_assert_eq(smtp_srv_feed(s, "NOOP\r\n", 6), 0);
	smtp_srv_out_consume(s, SIZE_MAX);
	struct smtp_srv_verdict bad = { 354, NULL, NULL };
	cr_assert_eq(smtp_srv_mail_reply(s, &bad), -EINVAL);
	bad.code = 600;
	cr_assert_eq(smtp_srv_mail_reply(s, &bad), -EINVAL);
	uint8_t *body = smtp_srv_take_body(s, &n);
	cr_assert_eq(n, 7);
	cr_assert_eq(memcmp(body, "hello\r\n", 7), 0);
	free(body);
	cr_assert_null(smtp_srv_take_body(s, &n));
	cr_assert_null(smtp_srv_mail(s)->body);
	struct smtp_srv_verdict v = { 451, "4.3.0", "Error: gwart did not take it\r\nX" };
	cr_assert_eq(smtp_srv_mail_reply(s, &v), 0);
	const char *o = smtp_srv_out(s, &n);
	cr_assert_eq(n, strlen("451 4.3.0 Error: gwart did not take it X\r\n"));
	cr_assert_eq(memcmp(o, "451 4.3.0 Error: gwart did not take it X\r\n", n), 0);
	cr_assert_eq(smtp_srv_mail_reply(s, &v), -EALREADY);
	cr_assert_eq(smtp_srv_stats(s)->mails_refused, 1);
	smtp_srv_out_consume(s, n);
	cr_assert_eq(smtp_srv_feed(s, "NOOP\r\n", 6), 6);
	o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "250 2.0.0 Ok\r\n", n), 0);
	smtp_srv_out_consume(s, n);
	/* A mail waiting when the client times out is dropped, never answered. */
	in = "MAIL FROM:<>\r\nRCPT TO:<r@b.test>\r\nDATA\r\nx\r\n.\r\n";
	cr_assert_eq(smtp_srv_feed(s, in, strlen(in)), strlen(in));
	cr_assert_eq(smtp_srv_pending(s), SMTP_SRV_EV_MAIL);
	smtp_srv_out_consume(s, SIZE_MAX);
	smtp_srv_timeout(s);
	cr_assert(smtp_srv_closed(s));
	cr_assert_eq(smtp_srv_pending(s), SMTP_SRV_EV_NONE);
	o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "421 4.4.2 mx.test Error: timeout exceeded\r\n", n), 0);
	cr_assert_eq(smtp_srv_feed(s, "NOOP\r\n", 6), 6);
	cr_assert_eq(smtp_srv_stats(s)->timeouts, 1);
	smtp_srv_free(s);

	/* A 421 answer closes the session. */
	s = smtp_srv_new(&base_cfg);
	in = ENV "DATA\r\nx\r\n.\r\nNOOP\r\n";
	cr_assert_eq(smtp_srv_feed(s, in, strlen(in)), strlen(in) - 6);
	smtp_srv_out_consume(s, SIZE_MAX);
	struct smtp_srv_verdict bye = { 421, "4.3.2", "Service shutting down" };
	cr_assert_eq(smtp_srv_mail_reply(s, &bye), 0);
	cr_assert(smtp_srv_closed(s));
	o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "421 4.3.2 Service shutting down\r\n", n), 0);
	cr_assert_eq(smtp_srv_feed(s, "NOOP\r\n", 6), 6);
	smtp_srv_out(s, &n);
	cr_assert_eq(n, strlen("421 4.3.2 Service shutting down\r\n"), "nothing read after it");
	smtp_srv_free(s);

	s = smtp_srv_new(&base_cfg);
	smtp_srv_shutdown(s);
	o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, G "421 mx.test Service shutting down\r\n", n), 0);
	smtp_srv_free(s);
}

/* A client that pipelines and never reads: input stops being taken before
 * the output overflows, and resumes, in order, once it is drained. */
Test(smtp_server, backpressure)
{
	struct smtp_srv *s = smtp_srv_new(&base_cfg);
	enum { N = 5000 };
	static char in[N * 6];
	for (int i = 0; i < N; i++)
		memcpy(in + i * 6, "NOOP\r\n", 6);
	size_t pos = 0, n, replies = 0;
	int stalls = 0;
	smtp_srv_out_consume(s, SIZE_MAX);
	while (pos < sizeof(in)) {
		size_t took = smtp_srv_feed(s, in + pos, sizeof(in) - pos);
		pos += took;
		const char *o = smtp_srv_out(s, &n);
		cr_assert_leq(n, SMTP_SRV_OUT_CAP);
		if (pos < sizeof(in)) {
			stalls++;
			cr_assert_geq(n, SMTP_SRV_OUT_CAP - 3 * SMTP_SRV_REPLY_MAX - 8);
		}
		for (size_t i = 0; i + 8 <= n; i += 8, replies++)
			cr_assert_eq(memcmp(o + i, "250 Ok\r\n", 8), 0);
		cr_assert_eq(n % 8, 0);
		smtp_srv_out_consume(s, n);
	}
	cr_assert_gt(stalls, 0);
	cr_assert_eq(replies, N);
	smtp_srv_free(s);
}

/* An endless command line and an endless body: the session takes all of
 * it, and the heap grows by no more than the configured limits. */
Test(smtp_server, hostile_endless)
{
	struct smtp_srv_cfg cfg = base_cfg;
	cfg.max_size = 1 << 20;
	cfg.max_line = SMTP_SRV_LINE_MAX;
	struct smtp_srv *s = smtp_srv_new(&cfg);
	size_t n;
	static char chunk[65536];
	memset(chunk, 'A', sizeof(chunk));
	size_t before = heap_in_use();
	for (int i = 0; i < 160; i++)   /* 10 MiB without a LF */
		cr_assert_eq(smtp_srv_feed(s, chunk, sizeof(chunk)), sizeof(chunk));
	cr_assert_lt(heap_in_use(), before + 4096);
	smtp_srv_out(s, &n);
	cr_assert_eq(n, strlen(G));  /* no reply until the line ends */
	smtp_srv_out_consume(s, n);
	cr_assert_eq(smtp_srv_feed(s, "\r\n", 2), 2);
	const char *o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "500 Error: line too long\r\n", n), 0);
	smtp_srv_out_consume(s, n);
	const char *env = ENV "DATA\r\n";
	cr_assert_eq(smtp_srv_feed(s, env, strlen(env)), strlen(env));
	before = heap_in_use();
	for (int i = 0; i < 800; i++)   /* 50 MiB of content, limit 1 MiB */
		cr_assert_eq(smtp_srv_feed(s, chunk, sizeof(chunk)), sizeof(chunk));
	size_t after = heap_in_use();
	cr_assert_lt(after, before + cfg.max_size + 65536, "heap grew by %zu", after - before);
	cr_assert_gt(after, before + cfg.max_size / 2, "the measure sees the content buffer");
	smtp_srv_out_consume(s, SIZE_MAX);
	cr_assert_eq(smtp_srv_feed(s, "\r\n.\r\n", 5), 5);
	o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "552 5.3.4 Error: message file too big\r\n", n), 0);
	cr_assert_eq(smtp_srv_stats(s)->body_too_big, 1);
	smtp_srv_free(s);
}

Test(smtp_server, bad_config)
{
	struct smtp_srv_cfg cfg = base_cfg;
	cfg.hostname = "bad host";
	cr_assert_null(smtp_srv_new(&cfg));
	cr_assert_eq(errno, EINVAL);
	cfg.hostname = "";
	cr_assert_null(smtp_srv_new(&cfg));
	cfg.hostname = "ok";
	cfg.max_line = SMTP_SRV_LINE_MIN - 1;
	cr_assert_null(smtp_srv_new(&cfg));
	cfg.max_line = SMTP_SRV_LINE_MAX + 1;
	cr_assert_null(smtp_srv_new(&cfg));
	cfg.max_line = 0;
	cfg.max_rcpts = MAILMSG_RCPTS_MAX + 1;
	cr_assert_null(smtp_srv_new(&cfg));
	cfg.max_rcpts = 0;
	struct smtp_srv *s = smtp_srv_new(&cfg);
	cr_assert_not_null(s);
	smtp_srv_free(s);
	smtp_srv_free(NULL);
}

/* A NUL or a bare CR inside a command line is refused, not cut at. */
Test(smtp_server, odd_bytes_in_commands)
{
	static struct run r;
	static const char in[] = "EHLO c\r\nNOOP\0x\r\nNO\rOP\r\nNOOP\r\n";
	run_session(&base_cfg, in, sizeof(in) - 1, 100000, &ok250, &r);
	cr_assert_str_eq(r.out, G EHLO_R "500 5.5.2 Error: bad syntax\r\n500 5.5.2 Error: bad syntax\r\n"
			 "250 2.0.0 Ok\r\n");
	cr_assert_eq(r.stats.unknown_cmds, 2);
}

/* The daemon's idle timer in the middle of a line and of a content. */
Test(smtp_server, timeout_mid_line_and_content)
{
	size_t n;
	struct smtp_srv *s = smtp_srv_new(&base_cfg);
	cr_assert_eq(smtp_srv_feed(s, "EHLO c\r\nNOO", 11), 11);
	smtp_srv_out_consume(s, SIZE_MAX);
	smtp_srv_timeout(s);
	const char *o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "421 4.4.2 mx.test Error: timeout exceeded\r\n", n), 0);
	smtp_srv_timeout(s);   /* once only */
	smtp_srv_out(s, &n);
	cr_assert_eq(n, strlen("421 4.4.2 mx.test Error: timeout exceeded\r\n"));
	cr_assert_eq(smtp_srv_stats(s)->timeouts, 1);
	smtp_srv_free(s);

	s = smtp_srv_new(&base_cfg);
	const char *in = ENV "DATA\r\npartial";
	cr_assert_eq(smtp_srv_feed(s, in, strlen(in)), strlen(in));
	smtp_srv_out_consume(s, SIZE_MAX);
	smtp_srv_timeout(s);
	cr_assert(smtp_srv_closed(s));
	cr_assert_null(smtp_srv_mail(s));
	o = smtp_srv_out(s, &n);
	cr_assert_eq(memcmp(o, "421 4.4.2 mx.test Error: timeout exceeded\r\n", n), 0);
	smtp_srv_free(s);
}
