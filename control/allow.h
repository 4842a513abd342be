/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A connector's source-address allow-list (config "allow_from"): up to
 * CP_ALLOW_MAX IPv4 prefixes a HELLO may come from. Defence in depth on top
 * of the key: a stolen key is of no use from anywhere else. An empty list
 * allows every address (no "allow_from": the behaviour before it existed).
 *
 * Pure (libc only, no DPDK): the config loader parses with it, keys.h
 * stores one per connector (struct cp_auth), frames.c matches with it, and
 * gwartctl links keys.c, which needs only this header.
 *
 * Threading: none of its own; the caller owns the object (the control
 * thread for a connector's list).
 */
#ifndef GWART_CP_ALLOW_H
#define GWART_CP_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prefixes per connector: a connector lives at a handful of places (a host,
 * its standby, a NAT pool); more would be a network the key already covers.
 * The 17th is refused (-E2BIG), counted by the config check's error. */
#define CP_ALLOW_MAX 16u
/* "255.255.255.255/32" and its NUL. */
#define CP_ALLOW_TEXT 19u

struct cp_allow_net {
	uint32_t net;  /* host order, host bits zero */
	uint8_t len;   /* prefix length 0..32 */
};

struct cp_allow {
	unsigned n;    /* 0: every address */
	struct cp_allow_net e[CP_ALLOW_MAX];
};

/*
 * cp_allow_parse - "A.B.C.D/LEN" (LEN 0..32) or a bare "A.B.C.D" (/32) into
 * @out. Four decimal octets 0..255 without leading '+' or blanks, LEN in
 * decimal; host bits set ("198.18.0.1/24") are refused, since such an entry
 * most likely means another prefix than the one it matches. 0, or -EINVAL
 * with the reason in @why (@whylen bytes, may be 0).
 */
int cp_allow_parse(const char *text, struct cp_allow_net *out, char *why, size_t whylen);
/* Append @text (cp_allow_parse) to @al: 0, -EINVAL (why says), -E2BIG
 * (already CP_ALLOW_MAX entries; @al unchanged). */
int cp_allow_add(struct cp_allow *al, const char *text, char *why, size_t whylen);
/* Whether @ip_be (network order) is allowed: any entry containing it, or
 * an empty list. */
bool cp_allow_match(const struct cp_allow *al, uint32_t ip_be);
/* Whether @a and @b hold the same entries in the same order. */
bool cp_allow_equal(const struct cp_allow *a, const struct cp_allow *b);
/* "A.B.C.D/LEN" of @e into @buf (CP_ALLOW_TEXT bytes). */
void cp_allow_format(const struct cp_allow_net *e, char buf[CP_ALLOW_TEXT]);

#endif
