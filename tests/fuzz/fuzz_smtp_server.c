/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the SMTP server session (connectors/smtp/
 * smtp_server.c): the input's first byte picks the configuration and how
 * the "daemon" answers mails; the rest is what a client sends. It is fed
 * twice: in chunks whose sizes a generator seeded by the input draws, with
 * the output drained a random part at a time (backpressure), and then all
 * at once with the output drained fully.
 *
 * Oracles: the session never takes more than it is given nor stalls while
 * it has output room and no mail waiting; the output never exceeds
 * SMTP_SRV_OUT_CAP and is a sequence of well-formed replies ("ddd" then
 * '-' or ' ', CRLF, each reply within SMTP_SRV_REPLY_MAX); every mail
 * raised has 1..max_rcpts valid, distinct recipients, a valid sender and at
 * most max_size bytes of content; both runs give the same replies and the
 * same mails (chunking and draining change nothing but timing).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_server.h"

struct trace {
	char out[1 << 18];
	size_t out_len;
	uint64_t mail_hash;
	unsigned mails;
};

static struct trace runs[2];

static bool hook(void *arg, const char *addr, struct smtp_srv_verdict *v)
{
	(void)arg;
	/* Refuse by the address's content, so both runs agree. */
	size_t n = strlen(addr);
	if (n && addr[0] == 'n')
		return false;
	if (n && addr[0] == 't') {
		v->code = 450 + (int)(n % 3);
		v->enh = n % 2 ? "4.2.0" : "bogus";
		v->text = addr;
		return false;
	}
	if (n && addr[0] == 'z') {
		v->code = (int)n * 37;   /* often out of range: 451 4.3.0 */
		v->text = NULL;
		return false;
	}
	return true;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *s = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static void check_mail(const struct smtp_srv_mail *m, const struct smtp_srv_cfg *cfg,
		       struct trace *t)
{
	if (!m || m->nrcpt < 1 || m->nrcpt > cfg->max_rcpts || m->body_len > cfg->max_size)
		abort();
	if (strlen(m->from) > MAILMSG_ADDR_MAX || (*m->from && !mailmsg_valid_addr(m->from, strlen(m->from))))
		abort();
	t->mail_hash = fnv(t->mail_hash, m->from, strlen(m->from) + 1);
	for (unsigned i = 0; i < m->nrcpt; i++) {
		if (!mailmsg_valid_addr(m->rcpts[i], strlen(m->rcpts[i])))
			abort();
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(m->rcpts[i], m->rcpts[j]))
				abort();
		t->mail_hash = fnv(t->mail_hash, m->rcpts[i], strlen(m->rcpts[i]) + 1);
	}
	t->mail_hash = fnv(t->mail_hash, m->body ? (const void *)m->body : "", m->body_len);
	t->mails++;
}

static void take_out(struct smtp_srv *s, struct trace *t, size_t max)
{
	size_t n;
	const char *o = smtp_srv_out(s, &n);
	if (n > SMTP_SRV_OUT_CAP)
		abort();
	if (n > max)
		n = max;
	if (t->out_len + n > sizeof(t->out))
		abort();
	memcpy(t->out + t->out_len, o, n);
	t->out_len += n;
	smtp_srv_out_consume(s, n);
}

/* The replies are well-formed lines, each reply within its bound. */
static void check_replies(const char *o, size_t n)
{
	size_t i = 0, reply_start = 0;
	while (i < n) {
		if (n - i < 5 || o[i] < '2' || o[i] > '5' || o[i + 1] < '0' || o[i + 1] > '9' ||
		    o[i + 2] < '0' || o[i + 2] > '9' || (o[i + 3] != ' ' && o[i + 3] != '-'))
			abort();
		const char *lf = memchr(o + i, '\n', n - i);
		if (!lf || lf[-1] != '\r')
			abort();
		for (const char *p = o + i; p < lf - 1; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				abort();
		bool last = o[i + 3] == ' ';
		i = (size_t)(lf - o) + 1;
		if (last) {
			if (i - reply_start > SMTP_SRV_REPLY_MAX)
				abort();
			reply_start = i;
		}
	}
	if (reply_start != n)
		abort();
}

static void run(const uint8_t *in, size_t len, const struct smtp_srv_cfg *cfg, uint8_t mode,
		bool chunked, struct trace *t)
{
	struct smtp_srv *s = smtp_srv_new(cfg);
	uint64_t rng = fnv(0xcbf29ce484222325ULL, in, len < 16 ? len : 16) | 1;
	size_t pos = 0;
	t->out_len = 0;
	t->mail_hash = 0;
	t->mails = 0;
	if (!s)
		abort();
	for (int guard = 0; guard < 1000000; guard++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		size_t want = len - pos;
		if (chunked && want > 1 + rng % 97)
			want = 1 + rng % 97;
		size_t took = smtp_srv_feed(s, in + pos, want);
		if (took > want)
			abort();
		pos += took;
		if (smtp_srv_pending(s) == SMTP_SRV_EV_MAIL) {
			check_mail(smtp_srv_mail(s), cfg, t);
			struct smtp_srv_verdict v = { 250, NULL, NULL };
			switch ((mode >> 4) + t->mails) {
			case 1: v.code = 451; v.enh = "4.3.0"; break;
			case 3: v.code = 552; v.text = "no"; break;
			case 5: { size_t bl; free(smtp_srv_take_body(s, &bl)); break; }
			default: break;
			}
			if (smtp_srv_mail_reply(s, &v) != 0)
				abort();
		} else if (took < want && !smtp_srv_closed(s)) {
			/* Stopped without a mail waiting: only for want of room. */
			size_t n;
			smtp_srv_out(s, &n);
			if (n < SMTP_SRV_OUT_CAP - 3 * SMTP_SRV_REPLY_MAX)
				abort();
		}
		take_out(s, t, chunked ? 1 + rng % 4096 : SIZE_MAX);
		if (pos == len)
			break;
	}
	if (pos != len)
		abort();
	/* The daemon's timer at the end, then everything out. */
	if (mode & 1)
		smtp_srv_timeout(s);
	take_out(s, t, SIZE_MAX);
	smtp_srv_free(s);
	check_replies(t->out, t->out_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	struct smtp_srv_cfg cfg = {
		.hostname = "mx.fuzz",
		.max_size = (mode & 2) ? 64 : 2048,
		.max_rcpts = (mode & 4) ? 2 : 10,
		.max_line = (mode & 8) ? SMTP_SRV_LINE_MIN : 1000,
		.max_errors = (mode & 64) ? 3 : 1000,
		.rcpt_hook = hook,
	};
	run(data + 1, size - 1, &cfg, mode, true, &runs[0]);
	run(data + 1, size - 1, &cfg, mode, false, &runs[1]);
	if (runs[0].out_len != runs[1].out_len || memcmp(runs[0].out, runs[1].out, runs[0].out_len) ||
	    runs[0].mails != runs[1].mails || runs[0].mail_hash != runs[1].mail_hash)
		abort();
	return 0;
}
