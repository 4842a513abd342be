/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the mail payloads (connectors/smtp/mailmsg.c): the
 * input is decoded as GWMAIL1 and as GWRCPT1 (libFuzzer's heap block of
 * exactly the input's size: ASan catches any read past it).
 *
 * Oracle: what a decoder accepts, the encoder rebuilds byte for byte from
 * the decoded fields alone (a receipt may lose its one optional closing
 * empty line), so the two never disagree about what is valid; and every
 * view lies inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mailmsg.h"

static struct mailmsg_str rcpt[MAILMSG_RCPTS_MAX];
static struct mailmsg_rcpt_view rr[MAILMSG_RCPTS_MAX];
static char strs[MAILMSG_RCPTS_MAX][MAILMSG_ADDR_MAX + 1];
static char texts[MAILMSG_RCPTS_MAX][MAILMSG_TEXT_MAX + 1];
static const char *ptrs[MAILMSG_RCPTS_MAX];
static struct mailmsg_rcpt_result res[MAILMSG_RCPTS_MAX];
static uint8_t out[1 << 17];

static void inside(const uint8_t *data, size_t size, const void *p, size_t n)
{
	const uint8_t *q = p;
	if (n && (q < data || q + n > data + size))
		abort();
}

static void copy(char *dst, struct mailmsg_str s)
{
	memcpy(dst, s.p, s.len);
	dst[s.len] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailmsg_mail_view mv;
	char id[MAILMSG_ID_MAX + 1], from[MAILMSG_ADDR_MAX + 1];
	if (mailmsg_decode_mail(data, size, &mv, rcpt, MAILMSG_RCPTS_MAX) == 0) {
		inside(data, size, mv.id.p, mv.id.len);
		inside(data, size, mv.msg, mv.msg_len);
		if (mv.id.len > MAILMSG_ID_MAX || mv.from.len > MAILMSG_ADDR_MAX || mv.nrcpt == 0)
			abort();
		copy(id, mv.id);
		copy(from, mv.from);
		for (unsigned i = 0; i < mv.nrcpt; i++) {
			inside(data, size, mv.rcpt[i].p, mv.rcpt[i].len);
			copy(strs[i], mv.rcpt[i]);
			ptrs[i] = strs[i];
		}
		struct mailmsg_mail m = { id, from, ptrs, mv.nrcpt, NULL, 0, mv.msg, mv.msg_len };
		long n = mailmsg_encode_mail(&m, out, sizeof(out));
		if (size <= sizeof(out) && (n != (long)size || memcmp(out, data, size)))
			abort();
		if ((size_t)mailmsg_mail_len(&m) != size)
			abort();
	}
	struct mailmsg_receipt_view rv;
	if (mailmsg_decode_receipt(data, size, &rv, rr, MAILMSG_RCPTS_MAX) == 0) {
		copy(id, rv.id);
		int codes[MAILMSG_RCPTS_MAX];
		for (unsigned i = 0; i < rv.nrcpt; i++) {
			inside(data, size, rv.rcpt[i].addr.p, rv.rcpt[i].addr.len);
			inside(data, size, rv.rcpt[i].text.p, rv.rcpt[i].text.len);
			copy(strs[i], rv.rcpt[i].addr);
			copy(texts[i], rv.rcpt[i].text);
			res[i] = (struct mailmsg_rcpt_result){ strs[i], rv.rcpt[i].code, texts[i] };
			codes[i] = rv.rcpt[i].code;
		}
		if (mailmsg_rcpt_status(codes, rv.nrcpt) != rv.status)
			abort();
		struct mailmsg_receipt r = { id, res, rv.nrcpt };
		long n = mailmsg_encode_receipt(&r, out, sizeof(out));
		if (n < 0)
			abort();
		bool closing = size >= 4 && !memcmp(data + size - 4, "\r\n\r\n", 4);
		if ((size_t)n != size - (closing ? 2 : 0) || memcmp(out, data, (size_t)n))
			abort();
	}
	return 0;
}
