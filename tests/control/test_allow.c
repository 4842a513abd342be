/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The allow-list matcher (control/allow.c): a table of prefix texts, each
 * accepted with its network and length or refused with the reason's word,
 * then a table of lists and addresses with the expected match: /0, /32,
 * /31, the first and last address of a prefix and their neighbours, host
 * bits, bad text, the 17th entry, and the empty list (any address).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "allow.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const struct {
	const char *text;
	int rc;
	uint32_t net;
	unsigned len;
	const char *why; /* a word of the reason, when refused */
} parse_cases[] = {
	{"198.18.0.2/32", 0, IP(198, 18, 0, 2), 32, NULL},
	{"198.18.0.2", 0, IP(198, 18, 0, 2), 32, NULL},
	{"198.18.0.0/24", 0, IP(198, 18, 0, 0), 24, NULL},
	{"198.18.0.3/31", -EINVAL, 0, 0, "host bits"},
	{"198.18.0.2/31", 0, IP(198, 18, 0, 2), 31, NULL},
	{"198.18.0.2/30", -EINVAL, 0, 0, "198.18.0.0/30"},
	{"198.18.0.4/31", 0, IP(198, 18, 0, 4), 31, NULL},
	{"0.0.0.0/0", 0, 0, 0, NULL},
	{"1.0.0.0/0", -EINVAL, 0, 0, "host bits"},
	{"255.255.255.255", 0, UINT32_MAX, 32, NULL},
	{"198.18.0.1/24", -EINVAL, 0, 0, "host bits"},
	{"198.18.0.0/33", -EINVAL, 0, 0, "prefix length"},
	{"198.18.0.0/", -EINVAL, 0, 0, "prefix length"},
	{"198.18.0.0/024", -EINVAL, 0, 0, "prefix length"},
	{"198.18.0.0/-1", -EINVAL, 0, 0, "prefix length"},
	{"256.18.0.0", -EINVAL, 0, 0, "not an IPv4"},
	{"198.18.0", -EINVAL, 0, 0, "not an IPv4"},
	{"198.18.0.0.1", -EINVAL, 0, 0, "not an IPv4"},
	{" 198.18.0.2", -EINVAL, 0, 0, "not an IPv4"},
	{"198.18.0.2 ", -EINVAL, 0, 0, "not an IPv4"},
	{"0198.18.0.2", -EINVAL, 0, 0, "not an IPv4"},
	{"+1.2.3.4", -EINVAL, 0, 0, "not an IPv4"},
	{"::1", -EINVAL, 0, 0, "not an IPv4"},
	{"", -EINVAL, 0, 0, "not an IPv4"},
	{"example.org", -EINVAL, 0, 0, "not an IPv4"},
};

Test(allow, parse_table)
{
	size_t i;

	for (i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct cp_allow_net e = {0xdeadbeef, 99};
		char why[128] = "";
		int rc = cp_allow_parse(parse_cases[i].text, &e, why, sizeof(why));

		cr_assert_eq(rc, parse_cases[i].rc, "case %zu \"%s\": rc %d", i,
			     parse_cases[i].text, rc);
		if (rc == 0) {
			char t[CP_ALLOW_TEXT], again[CP_ALLOW_TEXT];
			struct cp_allow_net e2;

			cr_assert_eq(e.net, parse_cases[i].net, "case %zu", i);
			cr_assert_eq(e.len, parse_cases[i].len, "case %zu", i);
			/* The printed form parses back to the same prefix. */
			cp_allow_format(&e, t);
			cr_assert_eq(cp_allow_parse(t, &e2, why, sizeof(why)), 0, "case %zu: %s", i, t);
			cp_allow_format(&e2, again);
			cr_assert_str_eq(t, again);
		} else {
			cr_assert(strstr(why, parse_cases[i].why) != NULL, "case %zu: \"%s\"", i, why);
		}
	}
}

static const struct {
	const char *list[3];
	uint32_t ip;
	bool match;
} match_cases[] = {
	{{NULL}, IP(203, 0, 113, 9), true}, /* empty list: any address */
	{{"0.0.0.0/0"}, IP(203, 0, 113, 9), true},
	{{"0.0.0.0/0"}, 0, true},
	{{"198.18.0.2/32"}, IP(198, 18, 0, 2), true},
	{{"198.18.0.2/32"}, IP(198, 18, 0, 3), false},
	{{"198.18.0.2/32"}, IP(198, 18, 0, 1), false},
	{{"198.18.0.3/31"}, IP(198, 18, 0, 3), false}, /* host bits: refused, not in the list */
	{{"198.18.0.2/31"}, IP(198, 18, 0, 3), true},
	{{"198.18.0.4/31"}, IP(198, 18, 0, 4), true},
	{{"198.18.0.4/31"}, IP(198, 18, 0, 5), true},
	{{"198.18.0.4/31"}, IP(198, 18, 0, 3), false},
	{{"198.18.0.4/31"}, IP(198, 18, 0, 6), false},
	{{"198.18.0.0/24"}, IP(198, 18, 0, 0), true},
	{{"198.18.0.0/24"}, IP(198, 18, 0, 255), true},
	{{"198.18.0.0/24"}, IP(198, 18, 1, 0), false},
	{{"198.18.0.0/24"}, IP(198, 17, 255, 255), false},
	{{"255.255.255.255"}, UINT32_MAX, true},
	{{"198.18.0.2", "198.18.1.0/24"}, IP(198, 18, 1, 77), true},
	{{"198.18.0.2", "198.18.1.0/24"}, IP(198, 18, 0, 2), true},
	{{"198.18.0.2", "198.18.1.0/24"}, IP(198, 18, 2, 0), false},
};

Test(allow, match_table)
{
	size_t i, k;

	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		struct cp_allow al = {0};
		char why[128];
		bool refused = false;

		for (k = 0; k < 3 && match_cases[i].list[k] != NULL; k++)
			refused |= cp_allow_add(&al, match_cases[i].list[k], why, sizeof(why)) != 0;
		if (refused) {
			/* A refused entry is never in the list. */
			cr_assert_eq(al.n, 0, "case %zu", i);
			continue;
		}
		cr_assert_eq(cp_allow_match(&al, htonl(match_cases[i].ip)), match_cases[i].match,
			     "case %zu (%s, %08x)", i, match_cases[i].list[0], match_cases[i].ip);
	}
}

Test(allow, seventeen_entries)
{
	struct cp_allow al = {0}, before;
	char t[32], why[128];
	unsigned i;

	for (i = 0; i < CP_ALLOW_MAX; i++) {
		snprintf(t, sizeof(t), "198.18.%u.0/24", i);
		cr_assert_eq(cp_allow_add(&al, t, why, sizeof(why)), 0, "%s: %s", t, why);
	}
	cr_assert_eq(al.n, CP_ALLOW_MAX);
	before = al;
	cr_assert_eq(cp_allow_add(&al, "198.19.0.0/24", why, sizeof(why)), -E2BIG);
	cr_assert(strstr(why, "more than 16") != NULL, "%s", why);
	cr_assert(cp_allow_equal(&al, &before), "the 17th changed nothing");
	cr_assert(cp_allow_match(&al, htonl(IP(198, 18, 15, 200))), "the 16th matches");
	cr_assert(!cp_allow_match(&al, htonl(IP(198, 19, 0, 1))), "the 17th does not");
	/* A bad entry leaves the list as it was, too. */
	al.n = 1;
	before = al;
	cr_assert_eq(cp_allow_add(&al, "198.18.0.1/24", why, sizeof(why)), -EINVAL);
	cr_assert(cp_allow_equal(&al, &before));
}

Test(allow, equal)
{
	struct cp_allow a = {0}, b = {0};
	char why[64];

	cr_assert(cp_allow_equal(&a, &b));
	cp_allow_add(&a, "198.18.0.2", why, sizeof(why));
	cr_assert(!cp_allow_equal(&a, &b));
	cp_allow_add(&b, "198.18.0.2/32", why, sizeof(why));
	cr_assert(cp_allow_equal(&a, &b), "bare address = /32");
	cp_allow_add(&b, "198.18.0.0/24", why, sizeof(why));
	cr_assert(!cp_allow_equal(&a, &b));
}
