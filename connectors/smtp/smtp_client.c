/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One SMTP delivery (smtp_client.h). Replies are read a line at a time
 * into a fixed buffer and gathered into one reply (code, enhanced code,
 * joined text) before the state machine sees them. Commands and the
 * stuffed content go to a fixed output buffer that fill() tops up: RCPTs
 * as room allows (all at once with PIPELINING, else one per reply), the
 * content a piece at a time after 354, so 1000 recipients or a 64 MiB
 * content never need more memory than the buffer.
 */
#include "smtp_client.h"
#include "mailmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CMD_ROOM 512   /* room a command needs in the output (bytes) */

enum cstate {
	C_GREETING,   /* waiting for 220 */
	C_EHLO,
	C_HELO,
	C_ENVELOPE,   /* MAIL and RCPTs out, their replies in */
	C_DATA,       /* waiting for 354 */
	C_BODY,       /* sending the content */
	C_DOT,        /* waiting for the final reply */
	C_DONE,       /* every outcome known (QUIT may be in the output) */
};

struct smtp_cli {
	enum cstate st;
	char helo[256];
	char from[MAILMSG_ADDR_MAX + 1];
	char **rcpts;
	unsigned nrcpt;
	const uint8_t *body;
	size_t body_len;
	bool body_8bit;
	struct smtp_cli_outcome *oc;

	/* the next hop's EHLO keywords */
	bool pipelining, eightbitmime, size_offered;
	uint64_t size_limit;

	/* envelope progress */
	bool mail_sent, mail_failed;
	unsigned rcpt_sent;     /* RCPTs written */
	unsigned replies_got;   /* replies to MAIL (1) and RCPTs */
	unsigned accepted;      /* RCPTs answered 2xx */

	/* the reply being read */
	char line[SMTP_CLI_LINE_MAX];
	size_t line_len;
	bool line_over;
	int rcode;              /* 0: no line of this reply yet */
	unsigned rlines;
	char rtext[SMTP_CLI_TEXT_MAX];
	size_t rtext_len;
	char renh[16];

	/* content */
	size_t body_pos;
	bool bol;               /* the last byte sent ended a line */
	bool dot_sent;

	struct smtp_cli_stats stats;
	size_t out_off, out_len;
	char out[SMTP_CLI_OUT_CAP];
};

static const char *const result_names[] = { "pending", "delivered", "temp", "perm" };
static const char *const stage_names[] = { "connect", "ehlo", "mail", "rcpt", "data", "dot", "local" };

const char *smtp_cli_result_name(enum smtp_cli_result r)
{
	return (unsigned)r < sizeof(result_names) / sizeof(result_names[0]) ? result_names[r] : "?";
}

const char *smtp_cli_stage_name(enum smtp_cli_stage s)
{
	return (unsigned)s < sizeof(stage_names) / sizeof(stage_names[0]) ? stage_names[s] : "?";
}

static bool host_ok(const char *h)
{
	return mailmsg_valid_host(h);
}

/* ---- output ---- */

static size_t out_free(const struct smtp_cli *c)
{
	return SMTP_CLI_OUT_CAP - (c->out_len - c->out_off);
}

static void out_compact(struct smtp_cli *c)
{
	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
}

static bool cmd(struct smtp_cli *c, const char *fmt, ...)
{
	char buf[CMD_ROOM];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) || (size_t)n > out_free(c))
		return false;
	if (SMTP_CLI_OUT_CAP - c->out_len < (size_t)n)
		out_compact(c);
	memcpy(c->out + c->out_len, buf, (size_t)n);
	c->out_len += (size_t)n;
	return true;
}

/* ---- outcomes ---- */

static void set_outcome(struct smtp_cli_outcome *o, enum smtp_cli_result r, enum smtp_cli_stage st,
			int code, const char *enh, const char *text)
{
	o->result = r;
	o->stage = st;
	o->code = code;
	snprintf(o->enh, sizeof(o->enh), "%s", enh);
	snprintf(o->text, sizeof(o->text), "%s", text);
}

static enum smtp_cli_result class_of(int code)
{
	return code / 100 == 2 ? SMTP_CLI_DELIVERED : code / 100 == 5 ? SMTP_CLI_PERM : SMTP_CLI_TEMP;
}

/* Every recipient still pending gets the current reply's class. */
static void decide_pending(struct smtp_cli *c, enum smtp_cli_stage st)
{
	for (unsigned i = 0; i < c->nrcpt; i++)
		if (c->oc[i].result == SMTP_CLI_PENDING)
			set_outcome(&c->oc[i], class_of(c->rcode), st, c->rcode, c->renh, c->rtext);
}

/* Every recipient still pending becomes what we decided here. */
static void fail_pending(struct smtp_cli *c, enum smtp_cli_result r, int code, const char *enh,
			 const char *fmt, ...)
{
	char text[SMTP_CLI_TEXT_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (unsigned i = 0; i < c->nrcpt; i++)
		if (c->oc[i].result == SMTP_CLI_PENDING)
			set_outcome(&c->oc[i], r, SMTP_CLI_ST_LOCAL, code, enh, text);
	c->st = C_DONE;
}

static void quit(struct smtp_cli *c)
{
	c->st = C_DONE;
	cmd(c, "QUIT\r\n");   /* a courtesy: without room, the close says it */
}

static enum smtp_cli_stage stage_of(const struct smtp_cli *c)
{
	switch (c->st) {
	case C_GREETING: return SMTP_CLI_ST_CONNECT;
	case C_EHLO:
	case C_HELO: return SMTP_CLI_ST_EHLO;
	case C_ENVELOPE: return c->replies_got == 0 ? SMTP_CLI_ST_MAIL : SMTP_CLI_ST_RCPT;
	case C_DATA: return SMTP_CLI_ST_DATA;
	case C_BODY:
	case C_DOT:
	case C_DONE: return SMTP_CLI_ST_DOT;
	}
	return SMTP_CLI_ST_LOCAL;
}

static void protocol_error(struct smtp_cli *c, const char *why)
{
	c->stats.protocol_errors++;
	fail_pending(c, SMTP_CLI_TEMP, 451, "4.5.0", "protocol error from the next hop in %s: %s",
		     smtp_cli_stage_name(stage_of(c)), why);
}

/* ---- filling the output ---- */

static void fill_envelope(struct smtp_cli *c)
{
	if (!c->mail_sent) {
		char params[64] = "";
		int n = 0;
		if (c->size_offered)
			n += snprintf(params + n, sizeof(params) - (size_t)n, " SIZE=%zu", c->body_len);
		if (c->body_8bit && c->eightbitmime)
			snprintf(params + n, sizeof(params) - (size_t)n, " BODY=8BITMIME");
		if (!cmd(c, "MAIL FROM:<%s>%s\r\n", c->from, params))
			return protocol_error(c, "no room for MAIL");
		c->mail_sent = true;
	}
	/* Without PIPELINING one command waits for its reply (RFC 2920). */
	while (!c->mail_failed && c->rcpt_sent < c->nrcpt && out_free(c) >= CMD_ROOM &&
	       (c->pipelining || c->replies_got == 1 + c->rcpt_sent)) {
		cmd(c, "RCPT TO:<%s>\r\n", c->rcpts[c->rcpt_sent]);
		c->rcpt_sent++;
	}
}

/* The content, stuffed and with every line ended by CRLF, then ".". */
static void fill_body(struct smtp_cli *c)
{
	out_compact(c);
	char *o = c->out + c->out_len, *end = c->out + SMTP_CLI_OUT_CAP;
	const uint8_t *b = c->body;
	size_t i = c->body_pos, n = c->body_len;
	while (i < n && end - o >= 3) {
		uint8_t x = b[i];
		if (c->bol && x == '.') {
			*o++ = '.';   /* RFC 5321 4.5.2 */
			c->stats.stuffed_dots++;
		}
		if (x == '\r' || x == '\n') {
			if (x == '\r' && i + 1 < n && b[i + 1] == '\n')
				i++;
			else
				c->stats.newlines_fixed++;
			*o++ = '\r';
			*o++ = '\n';
			c->bol = true;
		} else {
			*o++ = (char)x;
			c->bol = false;
		}
		i++;
	}
	c->body_pos = i;
	if (i == n && end - o >= 5) {
		if (!c->bol) {
			*o++ = '\r';
			*o++ = '\n';
		}
		*o++ = '.';
		*o++ = '\r';
		*o++ = '\n';
		c->dot_sent = true;
		c->st = C_DOT;
	}
	c->out_len = (size_t)(o - c->out);
}

static void fill(struct smtp_cli *c)
{
	if (c->st == C_ENVELOPE)
		fill_envelope(c);
	else if (c->st == C_BODY)
		fill_body(c);
}

/* ---- replies ---- */

/* An EHLO keyword line (the reply's lines after the first). */
static void ehlo_keyword(struct smtp_cli *c, const char *t, size_t n)
{
	const char *sp = memchr(t, ' ', n);
	size_t kn = sp ? (size_t)(sp - t) : n;
	if (kn == 10 && !strncasecmp(t, "PIPELINING", 10)) {
		c->pipelining = true;
	} else if (kn == 8 && !strncasecmp(t, "8BITMIME", 8)) {
		c->eightbitmime = true;
	} else if (kn == 4 && !strncasecmp(t, "SIZE", 4)) {
		uint64_t v = 0;
		c->size_offered = true;
		for (const char *p = sp ? sp + 1 : t + n; p < t + n && *p >= '0' && *p <= '9'; p++)
			v = v > UINT64_MAX / 10 - 1 ? UINT64_MAX : v * 10 + (uint64_t)(*p - '0');
		c->size_limit = v;   /* 0: no fixed limit (RFC 1870) */
	}
}

/* "x.y.z " at the start of a text of a class-cls reply. */
static size_t enh_prefix(const char *t, size_t n, int cls)
{
	size_t i = 0;
	if (n < 6 || t[0] != '0' + cls || t[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		size_t d = 0;
		while (i < n && t[i] >= '0' && t[i] <= '9' && d < 4) {
			i++;
			d++;
		}
		if (d == 0 || d > 3)
			return 0;
		if (part == 0) {
			if (i >= n || t[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < n && t[i] != ' ')
		return 0;
	return i;
}

static void text_add(struct smtp_cli *c, const char *t, size_t n)
{
	char tmp[SMTP_CLI_TEXT_MAX];
	if (c->rtext_len + 2 >= sizeof(c->rtext))
		return;
	if (c->rtext_len)
		c->rtext[c->rtext_len++] = ' ';
	size_t k = mailmsg_clean_text(tmp, sizeof(c->rtext) - c->rtext_len, t, n);
	memcpy(c->rtext + c->rtext_len, tmp, k + 1);
	c->rtext_len += k;
	if (k == 0 && c->rtext_len && c->rtext[c->rtext_len - 1] == ' ')
		c->rtext[--c->rtext_len] = '\0';
}

static void on_reply(struct smtp_cli *c);

/* One reply line without its line end. */
static void reply_line(struct smtp_cli *c, const char *l, size_t n)
{
	if (n < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' ||
	    l[2] > '9' || (n > 3 && l[3] != ' ' && l[3] != '-')) {
		return protocol_error(c, "bad reply line");
	}
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	bool last = n == 3 || l[3] == ' ';
	if (c->rcode && code != c->rcode) {
		return protocol_error(c, "reply code changed within a reply");
	}
	if (++c->rlines > SMTP_CLI_LINES_MAX) {
		return protocol_error(c, "too many reply lines");
	}
	const char *t = n > 4 ? l + 4 : l + n;
	size_t tn = n > 4 ? n - 4 : 0;
	if (!c->rcode) {
		c->rcode = code;
		size_t e = enh_prefix(t, tn, code / 100);
		if (e) {
			memcpy(c->renh, t, e);
			c->renh[e] = '\0';
			t += e;
			tn -= e;
		}
		text_add(c, t, tn);
	} else if (c->st == C_EHLO) {
		ehlo_keyword(c, t, tn);
	} else {
		size_t e = enh_prefix(t, tn, code / 100);
		text_add(c, t + e, tn - e);
	}
	if (last) {
		c->stats.replies++;
		on_reply(c);
		c->rcode = 0;
		c->rlines = 0;
		c->rtext_len = 0;
		c->rtext[0] = '\0';
		c->renh[0] = '\0';
	}
}

static void envelope_reply(struct smtp_cli *c)
{
	unsigned k = c->replies_got++;
	if (k == 0) {
		if (c->rcode / 100 != 2) {
			c->mail_failed = true;
			decide_pending(c, SMTP_CLI_ST_MAIL);
		}
	} else if (k - 1 < c->rcpt_sent) {
		struct smtp_cli_outcome *o = &c->oc[k - 1];
		if (o->result == SMTP_CLI_PENDING) {
			if (c->rcode / 100 == 2)
				c->accepted++;   /* its outcome waits for the final reply */
			else
				set_outcome(o, class_of(c->rcode), SMTP_CLI_ST_RCPT, c->rcode, c->renh,
					    c->rtext);
		}
	} else {
		return protocol_error(c, "reply to a command not sent");
	}
	if (c->replies_got < 1 + c->rcpt_sent)
		return;   /* more replies to come for what was sent */
	if (c->mail_failed)
		return quit(c);
	if (c->rcpt_sent < c->nrcpt)
		return;   /* fill() sends the next RCPTs */
	if (c->accepted == 0)
		return quit(c);
	if (!cmd(c, "DATA\r\n"))
		return protocol_error(c, "no room for DATA");
	c->st = C_DATA;
}

static void on_reply(struct smtp_cli *c)
{
	int cls = c->rcode / 100;
	/* 3xx answers only DATA; anything else with it is no verdict. */
	if (cls == 3 && c->st != C_DATA && c->st != C_DONE)
		return protocol_error(c, "unexpected 3xx reply");
	switch (c->st) {
	case C_GREETING:
		if (c->rcode == 220) {
			cmd(c, "EHLO %s\r\n", c->helo);
			c->st = C_EHLO;
		} else if (cls == 2) {
			protocol_error(c, "greeting is not 220");
		} else {
			/* As Postfix's smtp_skip_5xx_greeting: a host that will
			 * not talk is not a verdict on the recipients. */
			for (unsigned i = 0; i < c->nrcpt; i++)
				if (c->oc[i].result == SMTP_CLI_PENDING)
					set_outcome(&c->oc[i], SMTP_CLI_TEMP, SMTP_CLI_ST_CONNECT, c->rcode,
						    c->renh, c->rtext);
			quit(c);
		}
		return;
	case C_EHLO:
		if (cls == 5) {
			cmd(c, "HELO %s\r\n", c->helo);
			c->st = C_HELO;
			return;
		}
		/* fall through */
	case C_HELO:
		if (cls != 2) {
			decide_pending(c, SMTP_CLI_ST_EHLO);
			return quit(c);
		}
		if (c->size_offered && c->size_limit && c->body_len > c->size_limit) {
			fail_pending(c, SMTP_CLI_PERM, 552, "5.3.4",
				     "message size %zu exceeds the next hop's limit %llu", c->body_len,
				     (unsigned long long)c->size_limit);
			return quit(c);
		}
		c->st = C_ENVELOPE;
		return;
	case C_ENVELOPE:
		return envelope_reply(c);
	case C_DATA:
		if (c->rcode == 354) {
			c->st = C_BODY;
			c->bol = true;
			return;
		}
		if (cls == 2 || cls == 3)
			return protocol_error(c, "DATA not answered 354");
		decide_pending(c, SMTP_CLI_ST_DATA);
		return quit(c);
	case C_BODY:
		/* A reply before the final dot: the server gave up on the
		 * content (or is closing); what is queued of it is dropped.
		 * A 2xx then is no delivery: not all the content went out. */
		c->out_off = c->out_len = 0;
		if (cls == 2)
			return protocol_error(c, "reply before the end of the content");
		decide_pending(c, SMTP_CLI_ST_DOT);
		c->st = C_DONE;
		return;
	case C_DOT:
		decide_pending(c, SMTP_CLI_ST_DOT);
		return quit(c);
	case C_DONE:
		return;
	}
}

size_t smtp_cli_feed(struct smtp_cli *c, const void *buf, size_t len)
{
	const char *p = buf;
	size_t i = 0;
	while (i < len && c->st != C_DONE) {
		const char *lf = memchr(p + i, '\n', len - i);
		size_t n = lf ? (size_t)(lf - (p + i)) + 1 : len - i;
		if (!c->line_over && n <= SMTP_CLI_LINE_MAX - c->line_len) {
			memcpy(c->line + c->line_len, p + i, n);
			c->line_len += n;
		} else {
			c->line_over = true;
		}
		i += n;
		if (!lf)
			continue;
		if (c->line_over) {
			protocol_error(c, "reply line too long");
		} else {
			size_t ln = c->line_len - 1;
			if (ln && c->line[ln - 1] == '\r')
				ln--;
			reply_line(c, c->line, ln);
		}
		c->line_len = 0;
		c->line_over = false;
		if (c->st != C_DONE)
			fill(c);
	}
	c->stats.bytes_in += len;
	return len;
}

const char *smtp_cli_out(struct smtp_cli *c, size_t *len)
{
	fill(c);
	*len = c->out_len - c->out_off;
	return c->out + c->out_off;
}

void smtp_cli_out_consume(struct smtp_cli *c, size_t n)
{
	if (n > c->out_len - c->out_off)
		n = c->out_len - c->out_off;
	c->out_off += n;
	c->stats.bytes_out += n;
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	fill(c);
}

void smtp_cli_timeout(struct smtp_cli *c)
{
	if (c->st != C_DONE)
		fail_pending(c, SMTP_CLI_TEMP, 451, "4.4.2", "timeout waiting for the next hop in %s",
			     smtp_cli_stage_name(stage_of(c)));
}

void smtp_cli_lost(struct smtp_cli *c)
{
	if (c->st != C_DONE)
		fail_pending(c, SMTP_CLI_TEMP, 451, "4.4.2", "connection to the next hop lost in %s",
			     smtp_cli_stage_name(stage_of(c)));
	c->out_off = c->out_len = 0;
}

bool smtp_cli_done(const struct smtp_cli *c)
{
	return c->st == C_DONE;
}

const struct smtp_cli_outcome *smtp_cli_rcpt(const struct smtp_cli *c, unsigned i)
{
	return i < c->nrcpt ? &c->oc[i] : NULL;
}

enum smtp_cli_stage smtp_cli_stage(const struct smtp_cli *c)
{
	return stage_of(c);
}

const struct smtp_cli_stats *smtp_cli_stats(const struct smtp_cli *c)
{
	return &c->stats;
}

struct smtp_cli *smtp_cli_new(const struct smtp_cli_cfg *cfg, const struct smtp_cli_mail *m)
{
	struct smtp_cli *c;
	if (!cfg || !m || !host_ok(cfg->helo) || !m->from || strlen(m->from) > MAILMSG_ADDR_MAX ||
	    (m->from[0] && !mailmsg_valid_addr(m->from, strlen(m->from))) || m->nrcpt == 0 ||
	    m->nrcpt > MAILMSG_RCPTS_MAX || !m->rcpts || (m->body_len && !m->body))
		goto inval;
	for (unsigned i = 0; i < m->nrcpt; i++)
		if (!m->rcpts[i] || !mailmsg_valid_addr(m->rcpts[i], strlen(m->rcpts[i])))
			goto inval;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto nomem;
	c->rcpts = calloc(m->nrcpt, sizeof(*c->rcpts));
	c->oc = calloc(m->nrcpt, sizeof(*c->oc));
	if (!c->rcpts || !c->oc)
		goto nomem_free;
	for (unsigned i = 0; i < m->nrcpt; i++) {
		c->rcpts[i] = strdup(m->rcpts[i]);
		c->nrcpt = i + 1;
		if (!c->rcpts[i])
			goto nomem_free;
	}
	strcpy(c->helo, cfg->helo);
	strcpy(c->from, m->from);
	c->body = m->body;
	c->body_len = m->body_len;
	for (size_t i = 0; i < m->body_len && !c->body_8bit; i++)
		c->body_8bit = m->body[i] & 0x80;
	c->st = C_GREETING;
	return c;

nomem_free:
	smtp_cli_free(c);
nomem:
	errno = ENOMEM;
	return NULL;
inval:
	errno = EINVAL;
	return NULL;
}

void smtp_cli_free(struct smtp_cli *c)
{
	if (!c)
		return;
	for (unsigned i = 0; c->rcpts && i < c->nrcpt; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	free(c->oc);
	free(c);
}
