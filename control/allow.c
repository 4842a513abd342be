/* SPDX-License-Identifier: BSD-3-Clause */
/* Source-address allow-lists (allow.h): parse, match, print. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "allow.h"

static uint32_t mask_of(uint8_t len)
{
	/* A shift by 32 is undefined: /0 is the empty mask. */
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* A decimal number of 1..@maxdig digits at *@p, at most @max; advances. */
static int num(const char **p, unsigned maxdig, unsigned max, unsigned *out)
{
	unsigned v = 0, n = 0;

	while (**p >= '0' && **p <= '9') {
		if (++n > maxdig)
			return -1;
		v = v * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	if (n == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

int cp_allow_parse(const char *text, struct cp_allow_net *out, char *why, size_t whylen)
{
	const char *p = text;
	uint32_t ip = 0;
	unsigned i, v, len = 32;

	if (text == NULL) {
		snprintf(why, whylen, "not a string");
		return -EINVAL;
	}
	for (i = 0; i < 4; i++) {
		if (num(&p, 3, 255, &v) != 0 || (i < 3 && *p++ != '.')) {
			snprintf(why, whylen, "\"%.40s\" is not an IPv4 address or A.B.C.D/LEN",
				 text);
			return -EINVAL;
		}
		ip = ip << 8 | v;
	}
	if (*p == '/') {
		p++;
		if (num(&p, 2, 32, &len) != 0) {
			snprintf(why, whylen, "\"%.40s\": the prefix length is not 0..32", text);
			return -EINVAL;
		}
	}
	if (*p != '\0') {
		snprintf(why, whylen, "\"%.40s\" is not an IPv4 address or A.B.C.D/LEN", text);
		return -EINVAL;
	}
	if ((ip & ~mask_of((uint8_t)len)) != 0) {
		struct cp_allow_net e = {ip & mask_of((uint8_t)len), (uint8_t)len};
		char t[CP_ALLOW_TEXT];

		cp_allow_format(&e, t);
		snprintf(why, whylen, "\"%.40s\" has host bits set (the prefix is %s)", text, t);
		return -EINVAL;
	}
	out->net = ip;
	out->len = (uint8_t)len;
	return 0;
}

int cp_allow_add(struct cp_allow *al, const char *text, char *why, size_t whylen)
{
	struct cp_allow_net e;
	int rc;

	if (al->n >= CP_ALLOW_MAX) {
		snprintf(why, whylen, "more than %u entries", CP_ALLOW_MAX);
		return -E2BIG;
	}
	rc = cp_allow_parse(text, &e, why, whylen);
	if (rc != 0)
		return rc;
	al->e[al->n++] = e;
	return 0;
}

bool cp_allow_match(const struct cp_allow *al, uint32_t ip_be)
{
	uint32_t ip = ntohl(ip_be);
	unsigned i;

	if (al->n == 0)
		return true;
	for (i = 0; i < al->n && i < CP_ALLOW_MAX; i++)
		if ((ip & mask_of(al->e[i].len)) == al->e[i].net)
			return true;
	return false;
}

bool cp_allow_equal(const struct cp_allow *a, const struct cp_allow *b)
{
	unsigned i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n && i < CP_ALLOW_MAX; i++)
		if (a->e[i].net != b->e[i].net || a->e[i].len != b->e[i].len)
			return false;
	return true;
}

void cp_allow_format(const struct cp_allow_net *e, char buf[CP_ALLOW_TEXT])
{
	/* Bytes, so the compiler sees the width bound. */
	snprintf(buf, CP_ALLOW_TEXT, "%u.%u.%u.%u/%u", (uint8_t)(e->net >> 24),
		 (uint8_t)(e->net >> 16), (uint8_t)(e->net >> 8), (uint8_t)e->net,
		 (unsigned)(e->len > 32 ? 32 : e->len));
}
