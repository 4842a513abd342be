/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One SMTP server session (smtp_server.h). Input is taken a command line
 * at a time into a fixed buffer, or, in DATA, byte by byte through a
 * five-state machine that unstuffs dots and looks for <CRLF>.<CRLF>.
 * Replies go to a fixed output buffer; input stops while it lacks room
 * for the replies one command can give, so a client that pipelines
 * without reading stalls instead of growing anything.
 */
#include "smtp_server.h"
#include "mailmsg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Room kept free before a command is read: its reply, a 421 after it
 * (error limit) and a 421 the daemon may add (timeout, shutdown). */
#define OUT_ROOM (3 * SMTP_SRV_REPLY_MAX)
#define BODY_FIRST (64u << 10)  /* first content allocation (bytes) */
#define TEXT_CUT 400            /* daemon-given reply text (bytes) */

enum state {
	ST_CMD,     /* reading command lines */
	ST_DATA,    /* reading content */
	ST_WAIT,    /* a mail waits for smtp_srv_mail_reply() */
	ST_CLOSED,  /* QUIT answered or 421 queued */
};

/* Content states: at a line start, after a line-start dot (dropped), after
 * ".\r" (the CR withheld), inside a line, after a CR inside a line. */
enum dstate { D_BOL, D_DOT, D_DOTCR, D_MID, D_CR };

struct smtp_srv {
	struct smtp_srv_cfg cfg;
	char host[SMTP_SRV_HOST_MAX + 1];
	enum state st;
	unsigned errors;

	/* session */
	bool helo_done, esmtp;
	char helo[SMTP_SRV_HOST_MAX + 1];

	/* command line */
	char *line;
	size_t line_len;
	bool line_over;

	/* transaction */
	bool in_mail, rcpt_tried;
	char from[MAILMSG_ADDR_MAX + 1];
	char **rcpts;        /* cfg.max_rcpts slots */
	unsigned nrcpt;
	bool body_8bit;
	uint64_t size_decl;

	/* content */
	enum dstate ds;
	uint8_t *body;
	size_t body_len, body_cap;
	uint64_t content_len;
	bool too_big, nomem;
	struct smtp_srv_mail mail;

	/* output: bytes [out_off, out_len) wait to be sent */
	size_t out_off, out_len;
	struct smtp_srv_stats stats;
	char out[SMTP_SRV_OUT_CAP];
};

static bool host_ok(const char *h)
{
	return mailmsg_valid_host(h);
}

/* ---- output ---- */

static size_t out_free(const struct smtp_srv *s)
{
	return SMTP_SRV_OUT_CAP - (s->out_len - s->out_off);
}

static void out_put(struct smtp_srv *s, const char *p, size_t n)
{
	if (n > out_free(s))
		return;   /* only a daemon-made 421 to a client not reading: dropped */
	if (SMTP_SRV_OUT_CAP - s->out_len < n) {
		memmove(s->out, s->out + s->out_off, s->out_len - s->out_off);
		s->out_len -= s->out_off;
		s->out_off = 0;
	}
	memcpy(s->out + s->out_len, p, n);
	s->out_len += n;
	s->stats.replies++;
}

/* One single-line reply; enh is left out until EHLO (RFC 2034). */
static void reply(struct smtp_srv *s, int code, const char *enh, const char *fmt, ...)
{
	char buf[SMTP_SRV_REPLY_MAX];
	int n;
	if (enh && s->esmtp)
		n = snprintf(buf, sizeof(buf), "%03d %s ", code, enh);
	else
		n = snprintf(buf, sizeof(buf), "%03d ", code);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 2, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof(buf) - 3)
		len = sizeof(buf) - 3;   /* cut: vsnprintf kept the first bytes */
	buf[len++] = '\r';
	buf[len++] = '\n';
	out_put(s, buf, len);
}

const char *smtp_srv_out(const struct smtp_srv *s, size_t *len)
{
	*len = s->out_len - s->out_off;
	return s->out + s->out_off;
}

void smtp_srv_out_consume(struct smtp_srv *s, size_t n)
{
	if (n > s->out_len - s->out_off)
		n = s->out_len - s->out_off;
	s->out_off += n;
	if (s->out_off == s->out_len)
		s->out_off = s->out_len = 0;
}

/* ---- life ---- */

static void txn_reset(struct smtp_srv *s)
{
	for (unsigned i = 0; i < s->nrcpt; i++)
		free(s->rcpts[i]);
	s->nrcpt = 0;
	s->in_mail = s->rcpt_tried = s->body_8bit = false;
	s->size_decl = 0;
	s->from[0] = '\0';
	free(s->body);
	s->body = NULL;
	s->body_len = s->body_cap = 0;
	s->content_len = 0;
	s->too_big = s->nomem = false;
	memset(&s->mail, 0, sizeof(s->mail));
}

struct smtp_srv *smtp_srv_new(const struct smtp_srv_cfg *cfg)
{
	struct smtp_srv *s;
	if (!cfg || !host_ok(cfg->hostname) || cfg->max_rcpts > MAILMSG_RCPTS_MAX ||
	    (cfg->max_line && (cfg->max_line < SMTP_SRV_LINE_MIN || cfg->max_line > SMTP_SRV_LINE_MAX))) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		goto fail;
	s->cfg = *cfg;
	if (!s->cfg.max_size)
		s->cfg.max_size = SMTP_SRV_SIZE_DEFAULT;
	if (!s->cfg.max_rcpts)
		s->cfg.max_rcpts = SMTP_SRV_RCPTS_DEFAULT;
	if (!s->cfg.max_line)
		s->cfg.max_line = SMTP_SRV_LINE_DEFAULT;
	if (!s->cfg.max_errors)
		s->cfg.max_errors = SMTP_SRV_ERRORS_DEFAULT;
	strcpy(s->host, cfg->hostname);
	s->cfg.hostname = s->host;
	s->line = malloc(s->cfg.max_line);
	s->rcpts = calloc(s->cfg.max_rcpts, sizeof(*s->rcpts));
	if (!s->line || !s->rcpts)
		goto fail_free;
	reply(s, 220, NULL, "%s ESMTP gwart-smtp", s->host);
	return s;

fail_free:
	free(s->line);
	free(s->rcpts);
	free(s);
fail:
	errno = ENOMEM;
	return NULL;
}

void smtp_srv_free(struct smtp_srv *s)
{
	if (!s)
		return;
	txn_reset(s);
	free(s->rcpts);
	free(s->line);
	free(s);
}

static void close_with(struct smtp_srv *s, const char *enh, const char *what)
{
	txn_reset(s);
	reply(s, 421, enh, "%s %s", s->host, what);
	s->st = ST_CLOSED;
}

void smtp_srv_timeout(struct smtp_srv *s)
{
	if (s->st == ST_CLOSED)
		return;
	s->stats.timeouts++;
	close_with(s, "4.4.2", "Error: timeout exceeded");
}

void smtp_srv_shutdown(struct smtp_srv *s)
{
	if (s->st != ST_CLOSED)
		close_with(s, "4.3.2", "Service shutting down");
}

bool smtp_srv_closed(const struct smtp_srv *s)
{
	return s->st == ST_CLOSED;
}

const struct smtp_srv_stats *smtp_srv_stats(const struct smtp_srv *s)
{
	return &s->stats;
}

/* A 4xx/5xx that a protocol error earned; the error limit closes. */
static void error_counted(struct smtp_srv *s)
{
	if (++s->errors >= s->cfg.max_errors) {
		s->stats.error_limit++;
		close_with(s, "4.7.0", "Error: too many errors");
	}
}

/* ---- command parsing ---- */

/* "x.y.z" with x the class, y and z 1..3 digits. */
static bool enh_ok(const char *e, int cls)
{
	const char *p = e;
	if (!e || *p != '0' + cls || p[1] != '.')
		return false;
	p += 2;
	for (int part = 0; part < 2; part++) {
		int d = 0;
		while (*p >= '0' && *p <= '9' && d < 4) {
			p++;
			d++;
		}
		if (d == 0 || d > 3)
			return false;
		if (part == 0 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}


static bool word_is(const char *p, size_t n, const char *w)
{
	return n == strlen(w) && strncasecmp(p, w, n) == 0;
}

/* An address inside <>: mailmsg.h's characters, a source route
 * ("@a,@b:") dropped. rcpt: not empty, local@domain or postmaster. */
static bool addr_ok(const char *a, size_t n, bool rcpt)
{
	if (n == 0)
		return !rcpt;
	if (!mailmsg_valid_addr(a, n))
		return false;
	if (rcpt && word_is(a, n, "postmaster"))
		return true;
	const char *at = memrchr(a, '@', n);
	return at && at != a && at != a + n - 1;
}

/* "<path>" at *pp (after "FROM:"/"TO:" and optional blanks): the address
 * is copied to dst (MAILMSG_ADDR_MAX + 1), *pp moves after '>'. */
static bool path(const char **pp, const char *end, char *dst, bool rcpt)
{
	const char *p = *pp;
	while (p < end && *p == ' ')
		p++;
	if (p == end || *p != '<')
		return false;
	const char *q = memchr(p, '>', (size_t)(end - p));
	if (!q)
		return false;
	const char *a = p + 1;
	if (a < q && *a == '@') {   /* RFC 5321 4.1.2 source route: ignored */
		const char *colon = memchr(a, ':', (size_t)(q - a));
		if (!colon)
			return false;
		a = colon + 1;
	}
	size_t n = (size_t)(q - a);
	if (n > MAILMSG_ADDR_MAX || !addr_ok(a, n, rcpt))
		return false;
	memcpy(dst, a, n);
	dst[n] = '\0';
	*pp = q + 1;
	return true;
}

static void cmd_helo(struct smtp_srv *s, const char *arg, size_t n, bool esmtp)
{
	bool ok = n > 0 && n <= SMTP_SRV_HOST_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (unsigned char)arg[i] > 0x20 && (unsigned char)arg[i] < 0x7f;
	if (!ok) {
		s->stats.syntax_errors++;
		reply(s, 501, "5.5.4", "Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
		error_counted(s);
		return;
	}
	txn_reset(s);
	memcpy(s->helo, arg, n);
	s->helo[n] = '\0';
	s->helo_done = true;
	s->esmtp = esmtp;
	if (!esmtp) {
		reply(s, 250, NULL, "%s", s->host);
		return;
	}
	char buf[SMTP_SRV_REPLY_MAX];
	int len = snprintf(buf, sizeof(buf),
			   "250-%s\r\n250-PIPELINING\r\n250-SIZE %llu\r\n250-8BITMIME\r\n"
			   "250 ENHANCEDSTATUSCODES\r\n",
			   s->host, (unsigned long long)s->cfg.max_size);
	out_put(s, buf, (size_t)len);
}

static void syntax(struct smtp_srv *s, int code, const char *enh, const char *text)
{
	s->stats.syntax_errors++;
	reply(s, code, enh, "%s", text);
	error_counted(s);
}

static void sequence(struct smtp_srv *s, int code, const char *text)
{
	s->stats.bad_sequence++;
	reply(s, code, "5.5.1", "%s", text);
	error_counted(s);
}

/* SIZE=digits: saturating, so 2^64 and beyond read as "too big". */
static bool size_param(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;
	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		unsigned d = (unsigned)(v[i] - '0');
		x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
	}
	*out = x;
	return true;
}

static void cmd_mail(struct smtp_srv *s, const char *arg, size_t n)
{
	const char *p = arg, *end = arg + n;
	if (!s->helo_done)
		return sequence(s, 503, "Error: send HELO/EHLO first");
	if (s->in_mail)
		return sequence(s, 503, "Error: nested MAIL command");
	if (n < 5 || strncasecmp(p, "FROM:", 5) != 0)
		return syntax(s, 501, "5.5.4", "Syntax: MAIL FROM:<address>");
	p += 5;
	char from[MAILMSG_ADDR_MAX + 1];
	if (!path(&p, end, from, false))
		return syntax(s, 501, "5.1.7", "Bad sender address syntax");
	uint64_t size = 0;
	bool body8 = false, seen_size = false, seen_body = false;
	while (p < end) {
		if (*p != ' ')
			return syntax(s, 501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		const char *k = p;
		while (p < end && *p != ' ')
			p++;
		const char *eq = memchr(k, '=', (size_t)(p - k));
		size_t kl = eq ? (size_t)(eq - k) : (size_t)(p - k);
		const char *v = eq ? eq + 1 : p;
		size_t vl = (size_t)(p - v);
		if (!s->esmtp)
			return syntax(s, 555, "5.5.4", "Unsupported parameter");
		if (word_is(k, kl, "SIZE") && eq && !seen_size) {
			if (!size_param(v, vl, &size))
				return syntax(s, 501, "5.5.4", "Bad SIZE parameter");
			seen_size = true;
		} else if (word_is(k, kl, "BODY") && eq && !seen_body) {
			if (word_is(v, vl, "8BITMIME"))
				body8 = true;
			else if (!word_is(v, vl, "7BIT"))
				return syntax(s, 501, "5.5.4", "Bad BODY parameter");
			seen_body = true;
		} else {
			return syntax(s, 555, "5.5.4", "Unsupported parameter");
		}
	}
	if (size > s->cfg.max_size) {
		s->stats.size_refused++;
		reply(s, 552, "5.3.4", "Message size exceeds fixed limit");
		return;
	}
	strcpy(s->from, from);
	s->in_mail = true;
	s->size_decl = size;
	s->body_8bit = body8;
	s->stats.mails_started++;
	reply(s, 250, "2.1.0", "Ok");
}

static void cmd_rcpt(struct smtp_srv *s, const char *arg, size_t n)
{
	const char *p = arg, *end = arg + n;
	if (!s->in_mail)
		return sequence(s, 503, "Error: need MAIL command");
	if (n < 3 || strncasecmp(p, "TO:", 3) != 0)
		return syntax(s, 501, "5.5.4", "Syntax: RCPT TO:<address>");
	p += 3;
	char to[MAILMSG_ADDR_MAX + 1];
	if (!path(&p, end, to, true))
		return syntax(s, 501, "5.1.3", "Bad recipient address syntax");
	while (p < end && *p == ' ')
		p++;
	if (p != end)   /* NOTIFY, ORCPT: DSN (RFC 3461) is not offered */
		return syntax(s, 555, "5.5.4", "Unsupported parameter");
	s->rcpt_tried = true;
	for (unsigned i = 0; i < s->nrcpt; i++)
		if (strcmp(s->rcpts[i], to) == 0) {
			reply(s, 250, "2.1.5", "Ok");
			return;
		}
	if (s->nrcpt >= s->cfg.max_rcpts) {
		s->stats.rcpts_over_limit++;
		reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	if (s->cfg.rcpt_hook) {
		struct smtp_srv_verdict v = { 550, "5.1.1", "Recipient address rejected" };
		if (!s->cfg.rcpt_hook(s->cfg.hook_arg, to, &v)) {
			char text[TEXT_CUT + 1];
			const char *enh = v.enh;
			if (v.code < 400 || v.code > 599) {
				v.code = 451;
				enh = "4.3.0";
				v.text = NULL;
			}
			if (!enh_ok(enh, v.code / 100))
				enh = v.code / 100 == 4 ? "4.0.0" : "5.0.0";
			mailmsg_clean_text(text, sizeof(text), v.text ? v.text : "Recipient address rejected",
					   strlen(v.text ? v.text : "Recipient address rejected"));
			s->stats.rcpts_refused++;
			reply(s, v.code, enh, "<%s>: %s", to, text);
			return;
		}
	}
	char *copy = strdup(to);
	if (!copy) {
		reply(s, 452, "4.3.1", "Error: insufficient system storage");
		return;
	}
	s->rcpts[s->nrcpt++] = copy;
	s->stats.rcpts_accepted++;
	reply(s, 250, "2.1.5", "Ok");
}

static void cmd_data(struct smtp_srv *s, size_t n)
{
	if (!s->in_mail)
		return sequence(s, 503, "Error: need MAIL command");
	if (s->nrcpt == 0) {
		/* RFC 2920 3.1: after pipelined RCPTs that all failed. */
		if (s->rcpt_tried)
			return sequence(s, 554, "Error: no valid recipients");
		return sequence(s, 503, "Error: need RCPT command");
	}
	if (n)
		return syntax(s, 501, "5.5.4", "Syntax: DATA");
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
	s->st = ST_DATA;
	s->ds = D_BOL;
}

static bool is_unimplemented(const char *v, size_t n)
{
	static const char *const verbs[] = { "EXPN", "STARTTLS", "AUTH", "BDAT", "ETRN",
					     "TURN", "ATRN", "SEND", "SOML", "SAML" };
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (word_is(v, n, verbs[i]))
			return true;
	return false;
}

static void command(struct smtp_srv *s)
{
	size_t n = s->line_len;
	s->stats.commands++;
	if (s->line_over) {
		s->stats.lines_too_long++;
		reply(s, 500, "5.5.6", "Error: line too long");
		return error_counted(s);
	}
	/* The line ends with LF (the caller saw it); a CR before it is the
	 * proper ending, a bare LF is tolerated in commands as most servers do. */
	n--;
	if (n && s->line[n - 1] == '\r')
		n--;
	const char *l = s->line;
	if (n == 0 || memchr(l, '\0', n) || memchr(l, '\r', n)) {
		s->stats.unknown_cmds++;
		reply(s, 500, "5.5.2", "Error: bad syntax");
		return error_counted(s);
	}
	const char *sp = memchr(l, ' ', n);
	size_t vn = sp ? (size_t)(sp - l) : n;
	const char *arg = sp ? sp + 1 : l + n;
	size_t an = n - vn - (sp ? 1 : 0);
	/* Trailing blanks are not part of an argument. */
	while (an && arg[an - 1] == ' ')
		an--;

	if (word_is(l, vn, "EHLO") || word_is(l, vn, "HELO")) {
		cmd_helo(s, arg, an, word_is(l, vn, "EHLO"));
	} else if (word_is(l, vn, "MAIL")) {
		cmd_mail(s, arg, an);
	} else if (word_is(l, vn, "RCPT")) {
		cmd_rcpt(s, arg, an);
	} else if (word_is(l, vn, "DATA")) {
		cmd_data(s, an);
	} else if (word_is(l, vn, "RSET")) {
		if (an)
			return syntax(s, 501, "5.5.4", "Syntax: RSET");
		txn_reset(s);
		reply(s, 250, "2.0.0", "Ok");
	} else if (word_is(l, vn, "NOOP")) {
		reply(s, 250, "2.0.0", "Ok");
	} else if (word_is(l, vn, "QUIT")) {
		txn_reset(s);
		reply(s, 221, "2.0.0", "Bye");
		s->st = ST_CLOSED;
	} else if (word_is(l, vn, "VRFY")) {
		if (!an)
			return syntax(s, 501, "5.5.4", "Syntax: VRFY address");
		reply(s, 252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
	} else if (word_is(l, vn, "HELP")) {
		reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP");
	} else if (is_unimplemented(l, vn)) {
		s->stats.unknown_cmds++;
		reply(s, 502, "5.5.1", "Error: command not implemented");
		error_counted(s);
	} else {
		s->stats.unknown_cmds++;
		reply(s, 500, "5.5.2", "Error: command not recognized");
		error_counted(s);
	}
}

/* ---- content ---- */

static void emit(struct smtp_srv *s, uint8_t c)
{
	if (++s->content_len > s->cfg.max_size)
		s->too_big = true;
	if (s->too_big || s->nomem)
		return;
	if (s->body_len == s->body_cap) {
		/* Doubling, never past max_size: what a client makes us hold
		 * is bounded by the limit whatever it sends. */
		size_t cap = s->body_cap ? s->body_cap * 2 : BODY_FIRST;
		if (cap > s->cfg.max_size)
			cap = (size_t)s->cfg.max_size;
		uint8_t *b = realloc(s->body, cap);
		if (!b) {
			s->nomem = true;
			return;
		}
		s->body = b;
		s->body_cap = cap;
	}
	s->body[s->body_len++] = c;
}

static void data_end(struct smtp_srv *s)
{
	if (s->too_big || s->nomem) {
		if (s->too_big) {
			s->stats.body_too_big++;
			reply(s, 552, "5.3.4", "Error: message file too big");
		} else {
			s->stats.body_nomem++;
			reply(s, 452, "4.3.1", "Error: insufficient system storage");
		}
		txn_reset(s);
		s->st = ST_CMD;
		return;
	}
	s->mail = (struct smtp_srv_mail){
		.helo = s->helo,
		.esmtp = s->esmtp,
		.from = s->from,
		.rcpts = (const char *const *)s->rcpts,
		.nrcpt = s->nrcpt,
		.body = s->body,
		.body_len = s->body_len,
		.body_8bit = s->body_8bit,
		.size_declared = s->size_decl,
	};
	s->stats.mails_pending++;
	s->st = ST_WAIT;
}

/* Content bytes until the end of data or of the input; returns how many
 * were taken. */
static size_t data_bytes(struct smtp_srv *s, const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i++];
		switch (s->ds) {
		case D_BOL:
			if (c == '.') {
				s->ds = D_DOT;   /* RFC 5321 4.5.2: the first dot goes */
				break;
			}
			/* fall through */
		case D_MID:
		mid:
			if (c == '\r') {
				s->ds = D_CR;
			} else {
				if (c == '\n')
					s->stats.bare_lf_cr++;
				s->ds = D_MID;
			}
			emit(s, c);
			break;
		case D_DOT:
			if (c == '\r') {
				s->ds = D_DOTCR;
				break;
			}
			goto mid;
		case D_DOTCR:
			if (c == '\n') {
				data_end(s);
				return i;
			}
			emit(s, '\r');   /* the withheld CR was content */
			s->ds = D_CR;
			/* fall through */
		case D_CR:
			if (c == '\n') {
				emit(s, c);
				s->ds = D_BOL;
				break;
			}
			s->stats.bare_lf_cr++;   /* the CR before c was bare */
			goto mid;
		}
	}
	return i;
}

/* ---- feeding ---- */

size_t smtp_srv_feed(struct smtp_srv *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	size_t i = 0;
	while (i < len) {
		if (s->st == ST_CLOSED) {
			i = len;   /* nothing after QUIT or a 421 is read */
			break;
		}
		if (s->st == ST_WAIT)
			break;
		if (s->st == ST_DATA) {
			i += data_bytes(s, p + i, len - i);
			continue;
		}
		if (out_free(s) < OUT_ROOM)
			break;
		const uint8_t *lf = memchr(p + i, '\n', len - i);
		size_t n = lf ? (size_t)(lf - (p + i)) + 1 : len - i;
		if (!s->line_over && n <= s->cfg.max_line - s->line_len) {
			memcpy(s->line + s->line_len, p + i, n);
			s->line_len += n;
		} else {
			s->line_over = true;   /* read on to its end, keep nothing more */
		}
		i += n;
		if (lf) {
			command(s);
			s->line_len = 0;
			s->line_over = false;
		}
	}
	s->stats.bytes_in += i;
	return i;
}

/* ---- the daemon's answer ---- */

enum smtp_srv_event smtp_srv_pending(const struct smtp_srv *s)
{
	return s->st == ST_WAIT ? SMTP_SRV_EV_MAIL : SMTP_SRV_EV_NONE;
}

const struct smtp_srv_mail *smtp_srv_mail(const struct smtp_srv *s)
{
	return s->st == ST_WAIT ? &s->mail : NULL;
}

uint8_t *smtp_srv_take_body(struct smtp_srv *s, size_t *len)
{
	uint8_t *b;
	if (s->st != ST_WAIT || !s->mail.body) {
		*len = 0;
		return NULL;
	}
	b = s->body;
	*len = s->body_len;
	s->body = NULL;
	s->body_len = s->body_cap = 0;
	s->mail.body = NULL;
	s->mail.body_len = 0;
	return b;
}

int smtp_srv_mail_reply(struct smtp_srv *s, const struct smtp_srv_verdict *v)
{
	if (s->st != ST_WAIT)
		return -EALREADY;
	int cls = v->code / 100;
	if (v->code < 200 || v->code > 599 || cls == 3)
		return -EINVAL;
	static const char *const def_enh[] = { [2] = "2.0.0", [4] = "4.3.0", [5] = "5.3.0" };
	static const char *const def_text[] = { [2] = "Ok: queued", [4] = "Error: try again later",
						[5] = "Error: message refused" };
	const char *enh = enh_ok(v->enh, cls) ? v->enh : def_enh[cls];
	char text[TEXT_CUT + 1];
	const char *t = v->text ? v->text : def_text[cls];
	if (!mailmsg_clean_text(text, sizeof(text), t, strlen(t)))
		strcpy(text, def_text[cls]);
	reply(s, v->code, enh, "%s", text);
	if (cls == 2)
		s->stats.mails_accepted++;
	else
		s->stats.mails_refused++;
	txn_reset(s);
	/* 421 says the service closes the channel (RFC 5321 3.8). */
	s->st = v->code == 421 ? ST_CLOSED : ST_CMD;
	return 0;
}
