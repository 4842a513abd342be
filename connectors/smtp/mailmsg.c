/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The GWMAIL1/GWRCPT1 payloads and the trace header (mailmsg.h). The
 * decoders walk the input once with a cursor that never passes its end;
 * every value is checked by the same predicates the encoders use.
 */
#include "mailmsg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const err_names[MAILMSG_E_COUNT] = {
	[MAILMSG_OK] = "ok",
#define MAILMSG_X_STR(n, s) [MAILMSG_E_##n] = s,
	MAILMSG_ERRORS(MAILMSG_X_STR)
#undef MAILMSG_X_STR
};

const char *mailmsg_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= MAILMSG_E_COUNT)
		return "?";
	return err_names[err];
}

bool mailmsg_valid_id(const char *s, size_t len)
{
	if (len == 0 || len > MAILMSG_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* An address that may be empty (the null sender). */
static bool valid_addr0(const char *s, size_t len)
{
	if (len > MAILMSG_ADDR_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e || c == '<' || c == '>')
			return false;
	}
	return true;
}

bool mailmsg_valid_addr(const char *s, size_t len)
{
	return len > 0 && valid_addr0(s, len);
}

static bool valid_code(int code)
{
	int cls = code / 100;
	return code >= 200 && code <= 599 && (cls == 2 || cls == 4 || cls == 5);
}

static bool valid_text(const char *s, size_t len)
{
	if (len > MAILMSG_TEXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

struct mailmsg_str mailmsg_addr_domain(const char *addr, size_t len)
{
	struct mailmsg_str d = { NULL, 0 };
	for (size_t i = len; i > 0; i--)
		if (addr[i - 1] == '@') {
			d.p = addr + i;
			d.len = len - i;
			break;
		}
	return d;
}

size_t mailmsg_clean_text(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = 0, max;
	bool blank = false;
	if (cap == 0)
		return 0;
	max = cap - 1;
	if (max > MAILMSG_TEXT_MAX)
		max = MAILMSG_TEXT_MAX;
	for (size_t i = 0; i < len && n < max; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c < 0x20 || c == 0x7f || c == ' ') {
			blank = true;
			continue;
		}
		if (blank && n > 0) {
			dst[n++] = ' ';
			if (n == max)
				break;
		}
		blank = false;
		dst[n++] = c > 0x7f ? '?' : (char)c;
	}
	if (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
	return n;
}

/* ---- encoding ---- */

struct wbuf {
	char *p;
	size_t cap, len;
};

static void put(struct wbuf *w, const void *s, size_t n)
{
	if (n == 0)
		return;   /* s may be NULL then (no trace, no body) */
	if (w->len <= w->cap && n <= w->cap - w->len)
		memcpy(w->p + w->len, s, n);
	w->len += n;   /* past cap: only counted, reported as -ENOSPC */
}

static void puts_(struct wbuf *w, const char *s)
{
	put(w, s, strlen(s));
}

size_t mailmsg_mail_len(const struct mailmsg_mail *m)
{
	size_t n = strlen("GWMAIL1\r\nId: \r\nFrom: \r\n\r\n") + strlen(m->id) + strlen(m->from);
	for (unsigned i = 0; i < m->nrcpt; i++)
		n += strlen("Rcpt: \r\n") + strlen(m->rcpts[i]);
	return n + m->trace_len + m->body_len;
}

long mailmsg_encode_mail(const struct mailmsg_mail *m, void *buf, size_t cap)
{
	if (!m->id || !m->from || !mailmsg_valid_id(m->id, strlen(m->id)) ||
	    !valid_addr0(m->from, strlen(m->from)) || m->nrcpt == 0 ||
	    m->nrcpt > MAILMSG_RCPTS_MAX || (m->trace_len && !m->trace) ||
	    (m->body_len && !m->body))
		return -EINVAL;
	for (unsigned i = 0; i < m->nrcpt; i++)
		if (!m->rcpts[i] || !mailmsg_valid_addr(m->rcpts[i], strlen(m->rcpts[i])))
			return -EINVAL;
	struct wbuf w = { buf, cap, 0 };
	puts_(&w, "GWMAIL1\r\nId: ");
	puts_(&w, m->id);
	puts_(&w, "\r\nFrom: ");
	puts_(&w, m->from);
	puts_(&w, "\r\n");
	for (unsigned i = 0; i < m->nrcpt; i++) {
		puts_(&w, "Rcpt: ");
		puts_(&w, m->rcpts[i]);
		puts_(&w, "\r\n");
	}
	puts_(&w, "\r\n");
	put(&w, m->trace, m->trace_len);
	put(&w, m->body, m->body_len);
	if (w.len > cap)
		return -ENOSPC;
	return (long)w.len;
}

const char *mailmsg_status_name(enum mailmsg_status s)
{
	switch (s) {
	case MAILMSG_DELIVERED: return "delivered";
	case MAILMSG_FAILED: return "failed";
	case MAILMSG_DEFERRED: return "deferred";
	}
	return NULL;
}

enum mailmsg_status mailmsg_rcpt_status(const int *codes, unsigned n)
{
	bool perm = false;
	for (unsigned i = 0; i < n; i++) {
		if (codes[i] / 100 == 4)
			return MAILMSG_DEFERRED;
		if (codes[i] / 100 == 5)
			perm = true;
	}
	return perm ? MAILMSG_FAILED : MAILMSG_DELIVERED;
}

static enum mailmsg_status status_of(const struct mailmsg_receipt *r)
{
	bool perm = false;
	for (unsigned i = 0; i < r->nrcpt; i++) {
		if (r->rcpts[i].code / 100 == 4)
			return MAILMSG_DEFERRED;
		if (r->rcpts[i].code / 100 == 5)
			perm = true;
	}
	return perm ? MAILMSG_FAILED : MAILMSG_DELIVERED;
}

size_t mailmsg_receipt_len(const struct mailmsg_receipt *r)
{
	size_t n = strlen("GWRCPT1\r\nId: \r\nStatus: \r\n") + strlen(r->id) +
		   strlen(mailmsg_status_name(status_of(r)));
	for (unsigned i = 0; i < r->nrcpt; i++) {
		const char *t = r->rcpts[i].text;
		n += strlen("Rcpt:  ddd\r\n") + strlen(r->rcpts[i].addr);
		if (t && *t)
			n += 1 + strlen(t);
	}
	return n;
}

long mailmsg_encode_receipt(const struct mailmsg_receipt *r, void *buf, size_t cap)
{
	if (!r->id || !mailmsg_valid_id(r->id, strlen(r->id)) || r->nrcpt == 0 ||
	    r->nrcpt > MAILMSG_RCPTS_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < r->nrcpt; i++) {
		const struct mailmsg_rcpt_result *x = &r->rcpts[i];
		if (!x->addr || !mailmsg_valid_addr(x->addr, strlen(x->addr)) ||
		    !valid_code(x->code) || (x->text && !valid_text(x->text, strlen(x->text))))
			return -EINVAL;
	}
	struct wbuf w = { buf, cap, 0 };
	puts_(&w, "GWRCPT1\r\nId: ");
	puts_(&w, r->id);
	puts_(&w, "\r\nStatus: ");
	puts_(&w, mailmsg_status_name(status_of(r)));
	puts_(&w, "\r\n");
	for (unsigned i = 0; i < r->nrcpt; i++) {
		const struct mailmsg_rcpt_result *x = &r->rcpts[i];
		char code[8];
		snprintf(code, sizeof(code), " %03d", x->code);
		puts_(&w, "Rcpt: ");
		puts_(&w, x->addr);
		puts_(&w, code);
		if (x->text && *x->text) {
			puts_(&w, " ");
			puts_(&w, x->text);
		}
		puts_(&w, "\r\n");
	}
	if (w.len > cap)
		return -ENOSPC;
	return (long)w.len;
}

/* ---- decoding ---- */

struct cursor {
	const char *p, *end;
};

/* The next line (line, len) without its CRLF. A line must end with CRLF
 * and hold no CR, LF or NUL of its own. 0, -TRUNC (no CRLF before the
 * end) or -LINE. */
static int next_line(struct cursor *c, const char **line, size_t *len)
{
	const char *s = c->p;
	for (const char *q = s; q < c->end; q++) {
		if (*q == '\r') {
			if (q + 1 >= c->end)
				return -MAILMSG_E_TRUNC;
			if (q[1] != '\n')
				return -MAILMSG_E_LINE;
			*line = s;
			*len = (size_t)(q - s);
			c->p = q + 2;
			return 0;
		}
		if (*q == '\n' || *q == '\0')
			return -MAILMSG_E_LINE;
	}
	return -MAILMSG_E_TRUNC;
}

/* Whether line[0..len) starts with the field name "name: ". */
static bool field(const char *line, size_t len, const char *name, struct mailmsg_str *val)
{
	size_t n = strlen(name);
	if (len < n || memcmp(line, name, n) != 0)
		return false;
	val->p = line + n;
	val->len = len - n;
	return true;
}

static int magic(struct cursor *c, const char *want)
{
	size_t n = strlen(want);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, want, n) != 0)
		return -MAILMSG_E_MAGIC;
	c->p += n;
	return 0;
}

static int id_line(struct cursor *c, struct mailmsg_str *id)
{
	const char *l;
	size_t n;
	int rc = next_line(c, &l, &n);
	if (rc)
		return rc;
	if (!field(l, n, "Id: ", id))
		return -MAILMSG_E_FIELD;
	if (!mailmsg_valid_id(id->p, id->len))
		return -MAILMSG_E_ID;
	return 0;
}

int mailmsg_decode_mail(const void *buf, size_t len, struct mailmsg_mail_view *v,
			struct mailmsg_str *rcpt, unsigned rcpt_cap)
{
	struct cursor c = { buf, (const char *)buf + len };
	const char *l;
	size_t n;
	int rc;
	if (rcpt_cap > MAILMSG_RCPTS_MAX)
		rcpt_cap = MAILMSG_RCPTS_MAX;
	if ((rc = magic(&c, "GWMAIL1\r\n")) || (rc = id_line(&c, &v->id)))
		return rc;
	if ((rc = next_line(&c, &l, &n)))
		return rc;
	if (!field(l, n, "From: ", &v->from))
		return -MAILMSG_E_FIELD;
	if (!valid_addr0(v->from.p, v->from.len))
		return -MAILMSG_E_ADDR;
	v->rcpt = rcpt;
	v->nrcpt = 0;
	for (;;) {
		struct mailmsg_str a;
		if ((rc = next_line(&c, &l, &n)))
			return rc;
		if (n == 0)
			break;
		if (!field(l, n, "Rcpt: ", &a))
			return -MAILMSG_E_FIELD;
		if (!mailmsg_valid_addr(a.p, a.len))
			return -MAILMSG_E_ADDR;
		if (v->nrcpt >= rcpt_cap)
			return -MAILMSG_E_TOOMANY;
		rcpt[v->nrcpt++] = a;
	}
	if (v->nrcpt == 0)
		return -MAILMSG_E_NORCPT;
	v->msg = (const uint8_t *)c.p;
	v->msg_len = (size_t)(c.end - c.p);
	return 0;
}

/* "<addr> <code>[ <text>]" */
static int rcpt_result(const char *l, size_t n, struct mailmsg_rcpt_view *r)
{
	const char *sp = memchr(l, ' ', n);
	if (!sp)
		return -MAILMSG_E_CODE;
	r->addr.p = l;
	r->addr.len = (size_t)(sp - l);
	if (!mailmsg_valid_addr(r->addr.p, r->addr.len))
		return -MAILMSG_E_ADDR;
	const char *q = sp + 1, *end = l + n;
	if (end - q < 3)
		return -MAILMSG_E_CODE;
	for (int i = 0; i < 3; i++)
		if (q[i] < '0' || q[i] > '9')
			return -MAILMSG_E_CODE;
	r->code = (q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0');
	if (!valid_code(r->code))
		return -MAILMSG_E_CODE;
	q += 3;
	if (q == end) {
		r->text.p = q;
		r->text.len = 0;
		return 0;
	}
	/* One blank, then a text that is not empty (the encoder writes no
	 * blank for an empty text: one spelling per receipt). */
	if (*q != ' ' || q + 1 == end)
		return -MAILMSG_E_CODE;
	r->text.p = q + 1;
	r->text.len = (size_t)(end - q - 1);
	if (!valid_text(r->text.p, r->text.len))
		return -MAILMSG_E_TEXT;
	return 0;
}

int mailmsg_decode_receipt(const void *buf, size_t len, struct mailmsg_receipt_view *v,
			   struct mailmsg_rcpt_view *rcpt, unsigned rcpt_cap)
{
	struct cursor c = { buf, (const char *)buf + len };
	struct mailmsg_str st;
	const char *l;
	size_t n;
	int rc;
	if (rcpt_cap > MAILMSG_RCPTS_MAX)
		rcpt_cap = MAILMSG_RCPTS_MAX;
	if ((rc = magic(&c, "GWRCPT1\r\n")) || (rc = id_line(&c, &v->id)))
		return rc;
	if ((rc = next_line(&c, &l, &n)))
		return rc;
	if (!field(l, n, "Status: ", &st))
		return -MAILMSG_E_FIELD;
	if (st.len == 9 && !memcmp(st.p, "delivered", 9))
		v->status = MAILMSG_DELIVERED;
	else if (st.len == 6 && !memcmp(st.p, "failed", 6))
		v->status = MAILMSG_FAILED;
	else if (st.len == 8 && !memcmp(st.p, "deferred", 8))
		v->status = MAILMSG_DEFERRED;
	else
		return -MAILMSG_E_STATUS;
	v->rcpt = rcpt;
	v->nrcpt = 0;
	bool perm = false, temp = false;
	while (c.p < c.end) {
		struct mailmsg_str a;
		if ((rc = next_line(&c, &l, &n)))
			return rc;
		if (n == 0) {
			if (c.p != c.end)
				return -MAILMSG_E_TRAILING;
			break;
		}
		if (!field(l, n, "Rcpt: ", &a))
			return -MAILMSG_E_FIELD;
		if (v->nrcpt >= rcpt_cap)
			return -MAILMSG_E_TOOMANY;
		if ((rc = rcpt_result(a.p, a.len, &rcpt[v->nrcpt])))
			return rc;
		temp |= rcpt[v->nrcpt].code / 100 == 4;
		perm |= rcpt[v->nrcpt].code / 100 == 5;
		v->nrcpt++;
	}
	if (v->nrcpt == 0)
		return -MAILMSG_E_NORCPT;
	enum mailmsg_status want = temp ? MAILMSG_DEFERRED : perm ? MAILMSG_FAILED : MAILMSG_DELIVERED;
	if (want != v->status)
		return -MAILMSG_E_STATUS;
	return 0;
}

/* ---- dates and the trace header ---- */

int mailmsg_date(char *buf, size_t cap, int64_t t)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	/* Years 1970..9999: four digits, as RFC 5322 wants. */
	if (t < 0 || t > 253402300799LL || cap < MAILMSG_DATE_MAX)
		return -EINVAL;
	time_t tt = (time_t)t;
	if (!gmtime_r(&tt, &tm))
		return -EINVAL;
	int n = snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday],
			 tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			 tm.tm_sec);
	return n < 0 || (size_t)n >= cap ? -EINVAL : n;
}

/* A host name or address literal reduced to safe characters. */
static void host_clean(char *dst, const char *src, size_t max)
{
	size_t n = 0;
	if (!src || !*src)
		src = "unknown";
	for (; src[n] && n < max; n++) {
		unsigned char c = (unsigned char)src[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '[' ||
			  c == ']' || c == ':';
		dst[n] = ok ? (char)c : '_';
	}
	dst[n] = '\0';
}

int mailmsg_received(char *buf, size_t cap, const char *helo, bool esmtp, const char *ip,
		     const char *by, const char *id, int64_t t)
{
	char h[256], b[256], a[65], date[MAILMSG_DATE_MAX];
	size_t n = 0;
	if (!id || !mailmsg_valid_id(id, strlen(id)) || mailmsg_date(date, sizeof(date), t) < 0)
		return -EINVAL;
	host_clean(h, helo, 255);
	host_clean(b, by, 255);
	for (; ip && ip[n] && n < 64; n++) {
		char c = ip[n];
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			  (c >= 'A' && c <= 'F') || c == '.' || c == ':';
		a[n] = ok ? c : '_';
	}
	a[n] = '\0';
	int len = snprintf(buf, cap,
			   "Received: from %s (%s)\r\n\tby %s (gwart-smtp) with %s id %s;\r\n\t%s\r\n",
			   h, n ? a : "unknown", b, esmtp ? "ESMTP" : "SMTP", id, date);
	if (len < 0)
		return -EINVAL;
	return (size_t)len >= cap ? -ENOSPC : len;
}

bool mailmsg_valid_host(const char *h)
{
	size_t n = h ? strlen(h) : 0;

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return true;
}
