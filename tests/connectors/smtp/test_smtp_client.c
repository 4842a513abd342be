/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * smtp_client (connectors/smtp/smtp_client.c): a numbered table of scripted
 * next hops (each step: what the server says, what the client must send
 * next), replayed with the server's bytes whole and one byte at a time,
 * with every recipient's outcome checked; then reply-line bounds, timeouts
 * and lost connections, and the client against the real server session
 * (smtp_server.c) in memory: dot-stuffing round trips on random contents,
 * 1000 pipelined recipients, a content many times the output buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "smtp_client.h"
#include "smtp_server.h"

static const struct smtp_cli_cfg ccfg = { .helo = "gw.test" };

struct step {
	const char *server;   /* bytes fed to the client */
	const char *expect;   /* what it must have sent after them */
};

static size_t drain(struct smtp_cli *c, char *dst, size_t cap)
{
	size_t total = 0, n;
	const char *o;
	while ((o = smtp_cli_out(c, &n)), n > 0) {
		cr_assert_lt(total + n, cap);
		memcpy(dst + total, o, n);
		total += n;
		smtp_cli_out_consume(c, n);
	}
	dst[total] = '\0';
	return total;
}

/* "result/stage/code/enh/text" of each recipient, ';'-separated. */
static void outcomes(struct smtp_cli *c, unsigned n, char *dst, size_t cap)
{
	size_t k = 0;
	dst[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		const struct smtp_cli_outcome *o = smtp_cli_rcpt(c, i);
		k += (size_t)snprintf(dst + k, cap - k, "%s%s/%s/%d/%s/%s", i ? ";" : "",
				      smtp_cli_result_name(o->result), smtp_cli_stage_name(o->stage),
				      o->code, o->enh, o->text);
	}
}

#define GREET "220 mx.next ESMTP\r\n"
#define EHLO_PIPE "250-mx.next\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250 8BITMIME\r\n"
#define EHLO_PLAIN "250-mx.next\r\n250 HELP\r\n"
#define S_EHLO "EHLO gw.test\r\n"

static const struct {
	const char *what, *body;
	unsigned nrcpt;
	struct step steps[10];
	const char *outcomes;
	bool done;
} cases[] = {
	/* 1 */ { "no PIPELINING: one command per reply, a RCPT refused", "hi\r\n", 2,
		  { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" },
		    { "250 2.1.0 Ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		    { "250 2.1.5 Ok\r\n", "RCPT TO:<r1@b.test>\r\n" },
		    { "550 5.1.1 <r1@b.test>: no such user\r\n", "DATA\r\n" },
		    { "354 go ahead\r\n", "hi\r\n.\r\n" }, { "250 2.0.0 Ok: queued as X\r\n", "QUIT\r\n" } },
		  "delivered/dot/250/2.0.0/Ok: queued as X;perm/rcpt/550/5.1.1/<r1@b.test>: no such user", true },
	/* 2 */ { "PIPELINING: MAIL and every RCPT at once, SIZE given", "hi\r\n", 3,
		  { { GREET, S_EHLO },
		    { EHLO_PIPE, "MAIL FROM:<s@a.test> SIZE=4\r\nRCPT TO:<r0@b.test>\r\nRCPT TO:<r1@b.test>\r\n"
				 "RCPT TO:<r2@b.test>\r\n" },
		    { "250 ok\r\n250 ok\r\n450 4.2.0 busy\r\n", "" }, { "250 ok\r\n", "DATA\r\n" },
		    { "354 go\r\n", "hi\r\n.\r\n" }, { "250 ok\r\n", "QUIT\r\n" } },
		  "delivered/dot/250//ok;temp/rcpt/450/4.2.0/busy;delivered/dot/250//ok", true },
	/* 3 */ { "EHLO refused: HELO, no parameters", "x", 1,
		  { { GREET, S_EHLO }, { "502 5.5.1 no\r\n", "HELO gw.test\r\n" },
		    { "250 mx.next\r\n", "MAIL FROM:<s@a.test>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		    { "250 ok\r\n", "DATA\r\n" }, { "354 go\r\n", "x\r\n.\r\n" }, { "250 ok\r\n", "QUIT\r\n" } },
		  "delivered/dot/250//ok", true },
	/* 4 */ { "HELO refused too: permanent", "x", 1,
		  { { GREET, S_EHLO }, { "500 no\r\n", "HELO gw.test\r\n" }, { "550 5.7.1 go away\r\n", "QUIT\r\n" } },
		  "perm/ehlo/550/5.7.1/go away", true },
	/* 5 */ { "greeting 554: temporary, not a bounce", "x", 2,
		  { { "554 5.3.2 no service\r\n", "QUIT\r\n" } },
		  "temp/connect/554/5.3.2/no service;temp/connect/554/5.3.2/no service", true },
	/* 6 */ { "greeting 421", "x", 1, { { "421 4.3.2 busy\r\n", "QUIT\r\n" } }, "temp/connect/421/4.3.2/busy", true },
	/* 7 */ { "MAIL 552 without PIPELINING: all permanent at once", "x", 2,
		  { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" },
		    { "552 5.3.4 too big\r\n", "QUIT\r\n" } },
		  "perm/mail/552/5.3.4/too big;perm/mail/552/5.3.4/too big", true },
	/* 8 */ { "MAIL 451 with PIPELINING: QUIT once every reply is in", "x", 2,
		  { { GREET, S_EHLO },
		    { EHLO_PIPE, "MAIL FROM:<s@a.test> SIZE=1\r\nRCPT TO:<r0@b.test>\r\nRCPT TO:<r1@b.test>\r\n" },
		    { "451 4.3.0 later\r\n503 5.5.1 no MAIL\r\n", "" }, { "503 5.5.1 no MAIL\r\n", "QUIT\r\n" } },
		  "temp/mail/451/4.3.0/later;temp/mail/451/4.3.0/later", true },
	/* 9 */ { "every RCPT refused: no DATA", "x", 2,
		  { { GREET, S_EHLO }, { EHLO_PIPE, "MAIL FROM:<s@a.test> SIZE=1\r\nRCPT TO:<r0@b.test>\r\nRCPT TO:<r1@b.test>\r\n" },
		    { "250 ok\r\n550 5.1.1 a\r\n551 5.1.6 b\r\n", "QUIT\r\n" } },
		  "perm/rcpt/550/5.1.1/a;perm/rcpt/551/5.1.6/b", true },
	/* 10 */ { "DATA 554", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\r\n", "DATA\r\n" }, { "554 5.5.1 no\r\n", "QUIT\r\n" } },
		   "perm/data/554/5.5.1/no", true },
	/* 11 */ { "final 451: temporary; an RCPT refused keeps its own outcome", "x", 2,
		   { { GREET, S_EHLO }, { EHLO_PIPE, "MAIL FROM:<s@a.test> SIZE=1\r\nRCPT TO:<r0@b.test>\r\nRCPT TO:<r1@b.test>\r\n" },
		     { "250 ok\r\n250 ok\r\n550 5.1.1 no\r\n", "DATA\r\n" }, { "354 go\r\n", "x\r\n.\r\n" },
		     { "451 4.3.0 queue full\r\n", "QUIT\r\n" } },
		   "temp/dot/451/4.3.0/queue full;perm/rcpt/550/5.1.1/no", true },
	/* 12 */ { "final multi-line 552: joined text", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\r\n", "DATA\r\n" }, { "354 go\r\n", "x\r\n.\r\n" },
		     { "552-5.3.4 message\r\n552-5.3.4   too\r\n552 5.3.4 big\r\n", "QUIT\r\n" } },
		   "perm/dot/552/5.3.4/message too big", true },
	/* 13 */ { "code changes inside a reply: protocol error", "x", 1,
		   { { GREET, S_EHLO }, { "250-mx\r\n251 x\r\n", "" } },
		   "temp/local/451/4.5.0/protocol error from the next hop in ehlo: reply code changed within a reply", true },
	/* 14 */ { "not a reply line", "x", 1, { { "hello\r\n", "" } },
		   "temp/local/451/4.5.0/protocol error from the next hop in connect: bad reply line", true },
	/* 15 */ { "above the next hop's SIZE: permanent, nothing sent", "123456", 1,
		   { { GREET, S_EHLO }, { "250-mx\r\n250 SIZE 5\r\n", "QUIT\r\n" } },
		   "perm/local/552/5.3.4/message size 6 exceeds the next hop's limit 5", true },
	/* 16 */ { "8-bit content: BODY=8BITMIME when offered; LF-only reply lines", "\xc3\xa9\n", 1,
		   { { "220 x\n", S_EHLO }, { EHLO_PIPE, "MAIL FROM:<s@a.test> SIZE=3 BODY=8BITMIME\r\nRCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\n250 ok\n", "DATA\r\n" }, { "354 go\n", "\xc3\xa9\r\n.\r\n" }, { "250 ok\n", "QUIT\r\n" } },
		   "delivered/dot/250//ok", true },
	/* 17 */ { "dot-stuffing, bare LF and CR, no final line end", ".a\r\n..b\r\nc\nd\re\r\n.", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\r\n", "DATA\r\n" }, { "354 go\r\n", "..a\r\n...b\r\nc\r\nd\r\ne\r\n..\r\n.\r\n" },
		     { "250 ok\r\n", "QUIT\r\n" } },
		   "delivered/dot/250//ok", true },
	/* 18 */ { "empty content", "", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\r\n", "DATA\r\n" }, { "354 go\r\n", ".\r\n" }, { "250 ok\r\n", "QUIT\r\n" } },
		   "delivered/dot/250//ok", true },
	/* 19 */ { "DATA answered 250: protocol error", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\r\n", "DATA\r\n" }, { "250 ok\r\n", "" } },
		   "temp/local/451/4.5.0/protocol error from the next hop in data: DATA not answered 354", true },
	/* 20 */ { "a reply to a command never sent", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PIPE, "MAIL FROM:<s@a.test> SIZE=1\r\nRCPT TO:<r0@b.test>\r\n" },
		     { "250 ok\r\n550 no\r\n250 extra\r\n", "QUIT\r\n" } },
		   "perm/rcpt/550//no", true },
	/* 21 */ { "still waiting: outcomes pending", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" } }, "pending/connect/0//", false },
	/* 22 */ { "greeting 1xx, 6xx are not replies", "x", 1, { { "199 x\r\n", "" } },
		   "temp/local/451/4.5.0/protocol error from the next hop in connect: bad reply line", true },
	/* 23 */ { "MAIL answered 354: no verdict (found by fuzz_smtp_client's receipt oracle)", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<s@a.test>\r\n" }, { "354 what\r\n", "" } },
		   "temp/local/451/4.5.0/protocol error from the next hop in mail: unexpected 3xx reply", true },
	/* 24 */ { "greeting 354", "x", 1, { { "354 x\r\n", "" } },
		   "temp/local/451/4.5.0/protocol error from the next hop in connect: unexpected 3xx reply", true },
	/* 25 */ { "null sender (a bounce)", "x", 1,
		   { { GREET, S_EHLO }, { EHLO_PLAIN, "MAIL FROM:<>\r\n" }, { "250 ok\r\n", "RCPT TO:<r0@b.test>\r\n" } },
		   "pending/connect/0//", false },
};

static void run_case(size_t i, size_t chunk)
{
	static const char *const rcpts[] = { "r0@b.test", "r1@b.test", "r2@b.test" };
	struct smtp_cli_mail m = { strstr(cases[i].what, "null sender") ? "" : "s@a.test", rcpts,
				   cases[i].nrcpt, (const uint8_t *)cases[i].body, strlen(cases[i].body) };
	struct smtp_cli *c = smtp_cli_new(&ccfg, &m);
	static char out[65536], oc[4096];
	cr_assert_not_null(c);
	cr_assert_eq(drain(c, out, sizeof(out)), 0);
	for (size_t s = 0; s < 10 && cases[i].steps[s].server; s++) {
		const char *in = cases[i].steps[s].server;
		size_t len = strlen(in);
		for (size_t p = 0; p < len; p += chunk)
			cr_assert_eq(smtp_cli_feed(c, in + p, len - p < chunk ? len - p : chunk),
				     len - p < chunk ? len - p : chunk);
		drain(c, out, sizeof(out));
		cr_expect_str_eq(out, cases[i].steps[s].expect, "case %zu (%s) step %zu chunk %zu", i + 1,
				 cases[i].what, s + 1, chunk);
	}
	outcomes(c, cases[i].nrcpt, oc, sizeof(oc));
	cr_expect_str_eq(oc, cases[i].outcomes, "case %zu (%s) chunk %zu", i + 1, cases[i].what, chunk);
	cr_expect_eq(smtp_cli_done(c), cases[i].done, "case %zu done", i + 1);
	smtp_cli_free(c);
}

Test(smtp_client, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_case(i, 1);
		run_case(i, 100000);
	}
}

static struct smtp_cli *started(const char *body, unsigned nrcpt)
{
	static const char *const rcpts[] = { "r0@b.test", "r1@b.test" };
	struct smtp_cli_mail m = { "s@a.test", rcpts, nrcpt, (const uint8_t *)body, strlen(body) };
	return smtp_cli_new(&ccfg, &m);
}

Test(smtp_client, reply_bounds)
{
	static char line[SMTP_CLI_LINE_MAX + 16], out[4096], oc[1024];
	/* A line of exactly SMTP_CLI_LINE_MAX bytes with CRLF is a reply. */
	for (int extra = 0; extra <= 1; extra++) {
		struct smtp_cli *c = started("x", 1);
		size_t n = SMTP_CLI_LINE_MAX + (size_t)extra;
		memcpy(line, "220 ", 4);
		memset(line + 4, 'a', n - 6);
		memcpy(line + n - 2, "\r\n", 2);
		smtp_cli_feed(c, line, n);
		drain(c, out, sizeof(out));
		outcomes(c, 1, oc, sizeof(oc));
		if (!extra) {
			cr_assert_str_eq(out, S_EHLO);
			cr_assert_str_eq(oc, "pending/connect/0//");
		} else {
			cr_assert_str_eq(out, "");
			cr_assert_str_eq(oc, "temp/local/451/4.5.0/protocol error from the next hop in connect: "
					     "reply line too long");
		}
		smtp_cli_free(c);
	}
	/* SMTP_CLI_LINES_MAX lines make a reply, one more does not. */
	for (int extra = 0; extra <= 1; extra++) {
		struct smtp_cli *c = started("x", 1);
		for (int i = 0; i < SMTP_CLI_LINES_MAX - 1 + extra; i++)
			smtp_cli_feed(c, "220-x\r\n", 7);
		smtp_cli_feed(c, "220 x\r\n", 7);
		drain(c, out, sizeof(out));
		cr_assert_str_eq(out, extra ? "" : S_EHLO, "extra %d", extra);
		cr_assert_eq(smtp_cli_stats(c)->protocol_errors, (uint64_t)extra);
		smtp_cli_free(c);
	}
	/* An endless line: consumed, never answered, then an error. */
	struct smtp_cli *c = started("x", 1);
	memset(line, 'b', sizeof(line));
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(smtp_cli_feed(c, line, sizeof(line)), sizeof(line));
	cr_assert(!smtp_cli_done(c));
	smtp_cli_feed(c, "\n", 1);
	cr_assert(smtp_cli_done(c));
	smtp_cli_free(c);
}

Test(smtp_client, timeout_and_lost)
{
	static char out[4096], oc[1024];
	struct smtp_cli *c = started("x", 2);
	smtp_cli_feed(c, GREET EHLO_PIPE, strlen(GREET EHLO_PIPE));
	smtp_cli_feed(c, "250 ok\r\n550 5.1.1 no\r\n", 22);
	cr_assert_eq(smtp_cli_stage(c), SMTP_CLI_ST_RCPT);
	smtp_cli_timeout(c);
	outcomes(c, 2, oc, sizeof(oc));
	cr_assert_str_eq(oc, "perm/rcpt/550/5.1.1/no;temp/local/451/4.4.2/timeout waiting for the next hop in rcpt");
	cr_assert(smtp_cli_done(c));
	smtp_cli_free(c);

	/* Lost after the final dot went out: temporary (RFC 1047: may be a
	 * duplicate on retry). */
	c = started("x", 1);
	const char *s = GREET EHLO_PLAIN "250 ok\r\n250 ok\r\n354 go\r\n";
	smtp_cli_feed(c, s, strlen(s));
	drain(c, out, sizeof(out));
	cr_assert_eq(smtp_cli_stage(c), SMTP_CLI_ST_DOT);
	smtp_cli_lost(c);
	outcomes(c, 1, oc, sizeof(oc));
	cr_assert_str_eq(oc, "temp/local/451/4.4.2/connection to the next hop lost in dot");
	smtp_cli_lost(c);   /* again: nothing changes */
	outcomes(c, 1, oc, sizeof(oc));
	cr_assert_str_eq(oc, "temp/local/451/4.4.2/connection to the next hop lost in dot");
	smtp_cli_free(c);

	/* Lost before any byte (connect failed). */
	c = started("x", 1);
	smtp_cli_lost(c);
	outcomes(c, 1, oc, sizeof(oc));
	cr_assert_str_eq(oc, "temp/local/451/4.4.2/connection to the next hop lost in connect");
	smtp_cli_free(c);
}

/* A reply while the content is still going out (it is larger than the
 * output buffer): 5xx refuses, 2xx is no delivery; the rest is dropped. */
Test(smtp_client, reply_during_content)
{
	static char big[3 * SMTP_CLI_OUT_CAP], out[4096], oc[1024];
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int two = 0; two <= 1; two++) {
		struct smtp_cli *c = started(big, 1);
		const char *s = GREET EHLO_PLAIN "250 ok\r\n250 ok\r\n354 go\r\n";
		smtp_cli_feed(c, s, strlen(s));
		size_t n;
		smtp_cli_out(c, &n);
		smtp_cli_out_consume(c, 100);
		cr_assert_eq(smtp_cli_stage(c), SMTP_CLI_ST_DOT);
		cr_assert(!smtp_cli_done(c));
		s = two ? "250 thanks\r\n" : "552 5.3.4 too big\r\n";
		smtp_cli_feed(c, s, strlen(s));
		cr_assert(smtp_cli_done(c));
		cr_assert_eq(drain(c, out, sizeof(out)), 0, "the rest of the content is not sent");
		outcomes(c, 1, oc, sizeof(oc));
		cr_assert_str_eq(oc, two ? "temp/local/451/4.5.0/protocol error from the next hop in dot: "
					   "reply before the end of the content"
					 : "perm/dot/552/5.3.4/too big");
		smtp_cli_free(c);
	}
}

Test(smtp_client, bad_input)
{
	static const char *const ok[] = { "r@b" };
	static const char *const bad[] = { "r b@x" };
	struct smtp_cli_mail m = { "s@a", ok, 1, NULL, 0 };
	struct smtp_cli_cfg bad_helo = { .helo = "gw test" };
	cr_assert_null(smtp_cli_new(&bad_helo, &m));
	m.nrcpt = 0;
	cr_assert_null(smtp_cli_new(&ccfg, &m));
	m.nrcpt = 1;
	m.rcpts = bad;
	cr_assert_null(smtp_cli_new(&ccfg, &m));
	m.rcpts = ok;
	m.from = "<x>";
	cr_assert_null(smtp_cli_new(&ccfg, &m));
	m.from = "";
	struct smtp_cli *c = smtp_cli_new(&ccfg, &m);
	cr_assert_not_null(c);
	smtp_cli_free(c);
	smtp_cli_free(NULL);
}

/* ---- client against the real server session ---- */

struct pair_result {
	uint8_t *body;
	size_t body_len;
	unsigned nrcpt, mails;
};

/* Moves bytes both ways, limited to step bytes per move, until done. */
static void pair(struct smtp_cli *c, const struct smtp_srv_cfg *scfg, size_t step, struct pair_result *r)
{
	struct smtp_srv *s = smtp_srv_new(scfg);
	static char pend[SMTP_CLI_OUT_CAP];   /* client bytes the server has not taken */
	size_t pend_len = 0;
	memset(r, 0, sizeof(*r));
	for (int iter = 0; iter < 10000000 && !smtp_cli_done(c); iter++) {
		size_t n;
		const char *o = smtp_srv_out(s, &n);
		if (n > step)
			n = step;
		smtp_cli_feed(c, o, n);
		smtp_srv_out_consume(s, n);
		if (pend_len == 0) {
			o = smtp_cli_out(c, &n);
			if (n > step)
				n = step;
			memcpy(pend, o, n);
			pend_len = n;
			smtp_cli_out_consume(c, n);
		}
		size_t took = smtp_srv_feed(s, pend, pend_len);
		memmove(pend, pend + took, pend_len - took);
		pend_len -= took;
		if (smtp_srv_pending(s) == SMTP_SRV_EV_MAIL) {
			const struct smtp_srv_mail *m = smtp_srv_mail(s);
			r->nrcpt = m->nrcpt;
			r->mails++;
			free(r->body);
			r->body = smtp_srv_take_body(s, &r->body_len);
			struct smtp_srv_verdict v = { 250, NULL, NULL };
			cr_assert_eq(smtp_srv_mail_reply(s, &v), 0);
		}
	}
	cr_assert(smtp_cli_done(c));
	smtp_srv_free(s);
}

static const struct smtp_srv_cfg scfg = { .hostname = "mx.test", .max_size = 8u << 20,
					  .max_rcpts = MAILMSG_RCPTS_MAX };

Test(smtp_client, round_trip_random)
{
	static uint8_t body[20000];
	static const char *const rcpts[] = { "r@b.test" };
	srand(11);
	for (int t = 0; t < 300; t++) {
		size_t n = (size_t)rand() % 2000;
		if (t > 290)
			n = sizeof(body) - 2;
		bool crlf_only = t % 2;
		if (!crlf_only) {
			for (size_t i = 0; i < n; i++) {
				int k = rand() % 8;
				body[i] = k == 0 ? '.' : k == 1 ? '\r' : k == 2 ? '\n' : k == 3 ? 0xe9 : 'a';
			}
		} else if (n < 2) {
			n = 0;
		} else {   /* line ends are CRLF only, the last one too */
			size_t i = 0;
			while (i < n - 2) {
				int k = rand() % 5;
				if (k == 0 && i + 2 <= n - 2) {
					body[i++] = '\r';
					body[i++] = '\n';
				} else {
					body[i++] = k == 1 ? '.' : k == 2 ? 0xe9 : 'a';
				}
			}
			body[n - 2] = '\r';
			body[n - 1] = '\n';
		}
		/* What the server must receive: the content with every bare CR
		 * and LF made CRLF and a final CRLF. */
		static uint8_t want[2 * sizeof(body) + 2];
		size_t w = 0;
		for (size_t i = 0; i < n; i++) {
			if (body[i] == '\r' || body[i] == '\n') {
				if (body[i] == '\r' && i + 1 < n && body[i + 1] == '\n')
					i++;
				want[w++] = '\r';
				want[w++] = '\n';
			} else {
				want[w++] = body[i];
			}
		}
		if (w && want[w - 1] != '\n') {
			want[w++] = '\r';
			want[w++] = '\n';
		}
		if (crlf_only && n >= 2)
			cr_assert_eq(w, n, "a CRLF-only content is sent unchanged");
		struct smtp_cli_mail m = { "s@a.test", rcpts, 1, body, n };
		struct smtp_cli *c = smtp_cli_new(&ccfg, &m);
		struct pair_result r;
		pair(c, &scfg, 1 + (size_t)rand() % 3000, &r);
		cr_assert_eq(r.mails, 1, "trial %d", t);
		cr_assert_eq(r.body_len, w, "trial %d: %zu vs %zu", t, r.body_len, w);
		cr_assert(w == 0 || memcmp(r.body, want, w) == 0, "trial %d", t);
		cr_assert_eq(smtp_cli_rcpt(c, 0)->result, SMTP_CLI_DELIVERED);
		free(r.body);
		smtp_cli_free(c);
	}
}

Test(smtp_client, thousand_recipients_and_a_big_content)
{
	static char names[MAILMSG_RCPTS_MAX][32];
	static const char *rcpts[MAILMSG_RCPTS_MAX];
	for (int i = 0; i < MAILMSG_RCPTS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "user%04d@b.test", i);
		rcpts[i] = names[i];
	}
	size_t n = 77 * 68000;   /* ends with a CRLF */
	uint8_t *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = i % 77 == 75 ? '\r' : i % 77 == 76 ? '\n' : i % 77 == 0 ? '.' : 'q';
	struct smtp_cli_mail m = { "", rcpts, MAILMSG_RCPTS_MAX, body, n };
	struct smtp_cli *c = smtp_cli_new(&ccfg, &m);
	struct pair_result r;
	pair(c, &scfg, 65536, &r);
	cr_assert_eq(r.mails, 1);
	cr_assert_eq(r.nrcpt, MAILMSG_RCPTS_MAX);
	cr_assert_eq(r.body_len, n);
	cr_assert_eq(memcmp(r.body, body, n), 0);
	for (unsigned i = 0; i < MAILMSG_RCPTS_MAX; i++)
		cr_assert_eq(smtp_cli_rcpt(c, i)->result, SMTP_CLI_DELIVERED);
	cr_assert_eq(smtp_cli_stats(c)->stuffed_dots, (n + 76) / 77);
	free(r.body);
	free(body);
	smtp_cli_free(c);
}
