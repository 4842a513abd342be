/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the SMTP client (connectors/smtp/smtp_client.c):
 * the input is what the next hop says, fed in chunks a generator seeded by
 * the input draws, with the client's output drained a random part at a
 * time; the connection is then lost. The first byte picks the content
 * (dots, bare line ends, 8-bit, larger than the output buffer) and the
 * number of recipients.
 *
 * Oracles: after the loss every recipient has an outcome; a delivered one
 * was decided by a 2xx to the final dot, a refused one by a 4xx/5xx of the
 * matching class; every outcome's code and text go into a GWRCPT1 receipt
 * that the decoder reads back equal, and the permanent ones into a DSN;
 * the output never exceeds SMTP_CLI_OUT_CAP, and no byte of it is a bare
 * LF or CR (commands and content alike). The stuffing round trip itself is
 * test_smtp_client's, against the real server session.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "mailmsg.h"
#include "smtp_client.h"

static uint8_t body[40000];
static char sent[1 << 20];
static struct mailmsg_rcpt_view views[MAILMSG_RCPTS_MAX];

static size_t make_body(uint8_t kind)
{
	size_t n = 0;
	switch (kind & 3) {
	case 0:
		break;
	case 1:
		memcpy(body, ".\r\n..\r\nx\n.\r.y", 14);
		n = 14;
		break;
	case 2:
		for (n = 0; n < 300; n++)
			body[n] = n % 5 == 0 ? '.' : n % 7 == 0 ? '\n' : n % 11 == 0 ? 0xe9 : 'a';
		break;
	case 3:
		for (n = 0; n < sizeof(body); n++)
			body[n] = n % 80 == 78 ? '\r' : n % 80 == 79 ? '\n' : n % 80 == 0 ? '.' : 'b';
		break;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const rcpts[] = { "a@x.test", "b@x.test", "c@x.test" };
	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	unsigned nrcpt = 1 + (mode >> 2) % 3;
	struct smtp_cli_mail m = { (mode & 32) ? "" : "s@y.test", rcpts, nrcpt, body,
				   make_body(mode) };
	struct smtp_cli_cfg cfg = { .helo = "gw.fuzz" };
	struct smtp_cli *c = smtp_cli_new(&cfg, &m);
	if (!c)
		abort();
	uint64_t rng = 0x9e3779b97f4a7c15ULL ^ size;
	size_t pos = 1, sent_len = 0;
	while (pos < size) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		size_t n = size - pos;
		if (n > 1 + rng % 61)
			n = 1 + rng % 61;
		if (smtp_cli_feed(c, data + pos, n) != n)
			abort();
		pos += n;
		size_t on;
		const char *o = smtp_cli_out(c, &on);
		if (on > SMTP_CLI_OUT_CAP)
			abort();
		if (on > 1 + rng % 5000)
			on = 1 + rng % 5000;
		if (sent_len + on <= sizeof(sent)) {
			memcpy(sent + sent_len, o, on);
			sent_len += on;
		} else {
			sent_len = sizeof(sent) + 1;   /* not all captured: not checked */
		}
		smtp_cli_out_consume(c, on);
	}
	smtp_cli_lost(c);
	if (!smtp_cli_done(c))
		abort();

	struct mailmsg_rcpt_result res[3];
	struct dsn_rcpt perm[3];
	unsigned nperm = 0;
	for (unsigned i = 0; i < nrcpt; i++) {
		const struct smtp_cli_outcome *o = smtp_cli_rcpt(c, i);
		int cls = o->code / 100;
		switch (o->result) {
		case SMTP_CLI_DELIVERED:
			if (cls != 2 || o->stage != SMTP_CLI_ST_DOT)
				abort();
			break;
		case SMTP_CLI_TEMP:
			/* A greeting's 5xx is temporary too (smtp_client.h). */
			if (cls != 4 && !(cls == 5 && o->stage == SMTP_CLI_ST_CONNECT))
				abort();
			break;
		case SMTP_CLI_PERM:
			if (cls != 5)
				abort();
			perm[nperm++] = (struct dsn_rcpt){ rcpts[i], o->code, o->enh, o->text };
			break;
		default:
			abort();
		}
		if (strlen(o->enh) >= sizeof(o->enh) || strlen(o->text) >= sizeof(o->text))
			abort();
		res[i] = (struct mailmsg_rcpt_result){ rcpts[i], o->code, o->text };
	}
	/* What the egress does with the outcomes must work for any reply. */
	static char rbuf[8192];
	struct mailmsg_receipt r = { "1.fuzz", res, nrcpt };
	long rl = mailmsg_encode_receipt(&r, rbuf, sizeof(rbuf));
	if (rl < 0)
		abort();
	struct mailmsg_receipt_view v;
	if (mailmsg_decode_receipt(rbuf, (size_t)rl, &v, views, MAILMSG_RCPTS_MAX) != 0 || v.nrcpt != nrcpt)
		abort();
	for (unsigned i = 0; i < nrcpt; i++)
		if (v.rcpt[i].code != res[i].code || v.rcpt[i].text.len != strlen(res[i].text) ||
		    memcmp(v.rcpt[i].text.p, res[i].text, v.rcpt[i].text.len))
			abort();
	if (nperm) {
		struct dsn_report d = { .reporting_mta = "gw.fuzz", .dsn_id = "1.fuzz.d",
					.sender = m.from, .orig = body, .orig_len = m.body_len,
					.now = 1, .rcpts = perm, .nrcpt = nperm };
		uint8_t *out;
		size_t len;
		int rc = dsn_build(&d, &out, &len);
		if (*m.from ? rc != 0 : rc != -ENOMSG)
			abort();
		if (rc == 0)
			free(out);
	}

	/* Nothing the client sent has a bare LF or CR (a CR may end what
	 * was captured, its LF not consumed yet). */
	for (size_t i = 0; i < sent_len && sent_len <= sizeof(sent); i++)
		if ((sent[i] == '\n' && (i == 0 || sent[i - 1] != '\r')) ||
		    (sent[i] == '\r' && i + 1 < sent_len && sent[i + 1] != '\n'))
			abort();
	smtp_cli_free(c);
	return 0;
}
