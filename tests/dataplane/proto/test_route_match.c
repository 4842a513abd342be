/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address-space matching tests: numbered tables for normalisation, address
 * parsing and candidates; key properties; specificity through candidate
 * keys, cross-checked at random against the obvious matcher; selection.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <gwart/wire.h>

#include "route_match.h"

#define S(x) ((const uint8_t *)(x)), strlen(x)

/* ---- normalisation ----------------------------------------------------------- */

struct norm_case {
	const char *type, *pattern;
	int ret;
	unsigned kind;
	const char *ntype, *npattern;
};

static char long_253[254], long_254[255], sfx_253[254];

static void fill_long(void)
{
	memset(long_253, 'a', 253);
	memset(long_254, 'a', 254);
	memset(sfx_253, 'b', 253);
	sfx_253[0] = '*';
	sfx_253[1] = '.';
}

Test(route_match, normalise_table)
{
	const struct norm_case cases[] = {
	    /* 1 */ {"smtp", "notes.acme.com", 0, DP_ROUTE_EXACT, "smtp", "notes.acme.com"},
	    /* 2 */ {"SMTP", "Notes.ACME.com", 0, DP_ROUTE_EXACT, "smtp", "notes.acme.com"},
	    /* 3 */ {"smtp", "*.acme.com", 0, DP_ROUTE_SUFFIX, "smtp", "*.acme.com"},
	    /* 4 */ {"notes", "*/O=Acme", 0, DP_ROUTE_SUFFIX, "notes", "*/o=acme"},
	    /* 5 */ {"x-400", "*", 0, DP_ROUTE_ANY, "x-400", "*"},
	    /* 6 */ {"Fb-9", "*.C", 0, DP_ROUTE_SUFFIX, "fb-9", "*.c"},
	    /* 7 */
	    {"notes", "CN=Bob Smith/O=Acme", 0, DP_ROUTE_EXACT, "notes", "cn=bob smith/o=acme"},
	    /* 8 */ {"a", ".acme.com", 0, DP_ROUTE_EXACT, "a", ".acme.com"},
	    /* 9 */ {"abcdefghijklmnop", "x", 0, DP_ROUTE_EXACT, "abcdefghijklmnop", "x"},
	    /* 10 */ {"smtp", long_253, 0, DP_ROUTE_EXACT, "smtp", long_253},
	    /* 11 */ {"smtp", sfx_253, 0, DP_ROUTE_SUFFIX, "smtp", sfx_253},
	    /* 12 */ {"smtp", "*./x", 0, DP_ROUTE_SUFFIX, "smtp", "*./x"},
	    /* 13 */
	    {"smtp", "\xc3\x89t\xc3\xa9.fr", 0, DP_ROUTE_EXACT, "smtp", "\xc3\x89t\xc3\xa9.fr"},
	    /* invalid */
	    /* 14 */ {"smtp", "**", -EINVAL},
	    /* 15 */ {"smtp", "*.", -EINVAL},
	    /* 16 */ {"smtp", "*/", -EINVAL},
	    /* 17 */ {"smtp", "a*b", -EINVAL},
	    /* 18 */ {"smtp", "*acme.com", -EINVAL},
	    /* 19 */ {"smtp", "*.a*", -EINVAL},
	    /* 20 */ {"smtp", "acme.*", -EINVAL},
	    /* 21 */ {"smtp", "", -EINVAL},
	    /* 22 */ {"smtp", NULL, -EINVAL},
	    /* 23 */ {"smtp", long_254, -EINVAL},
	    /* 24 */ {"smtp", "alice@acme.com", -EINVAL},
	    /* 25 */ {"smtp", "acme\tcom", -EINVAL},
	    /* 26 */ {"smtp", "acme\x7f", -EINVAL},
	    /* 27 */ {"", "acme.com", -EINVAL},
	    /* 28 */ {NULL, "acme.com", -EINVAL},
	    /* 29 */ {"sm tp", "acme.com", -EINVAL},
	    /* 30 */ {"smtp:", "acme.com", -EINVAL},
	    /* 31 */ {"abcdefghijklmnopq", "x", -EINVAL},
	    /* 32 */ {"sm_tp", "x", -EINVAL},
	    /* 33 */ {"smtp", "*.*", -EINVAL},
	};
	size_t i;

	fill_long();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct norm_case *c = &cases[i];
		struct dp_rm_pattern p;
		const char *why = NULL;
		int ret = dp_rm_normalise(c->type, c->pattern, &p, &why);

		cr_assert_eq(ret, c->ret, "case %zu: ret %d want %d (%s)", i + 1, ret, c->ret,
			     why ? why : "");
		if (ret != 0) {
			cr_assert(why != NULL && strlen(why) > 10, "case %zu: no reason", i + 1);
			continue;
		}
		cr_assert_eq(p.kind, c->kind, "case %zu: kind %u", i + 1, p.kind);
		cr_assert_str_eq(p.type, c->ntype, "case %zu", i + 1);
		cr_assert_str_eq(p.pattern, c->npattern, "case %zu", i + 1);
		cr_assert_eq(p.len, strlen(c->npattern), "case %zu", i + 1);
		cr_assert_eq(p.type_len, strlen(c->ntype), "case %zu", i + 1);
	}
}

/* ---- parsing --------------------------------------------------------------- */

struct parse_case {
	const char *addr;
	int ret;
	const char *type, *dom;
};

Test(route_match, parse_table)
{
	static char big[300];
	const struct parse_case cases[] = {
	    /* 1 */ {"smtp:alice@notes.acme.com", 0, "smtp", "notes.acme.com"},
	    /* 2 */ {"notes:CN=Bob/O=Acme", 0, "notes", "CN=Bob/O=Acme"},
	    /* 3 */ {"smtp:a@b@c.com", 0, "smtp", "c.com"},
	    /* 4 */ {"smtp:\"a@b\"@@x.org", 0, "smtp", "x.org"},
	    /* 5 */ {"SMTP:Alice@ACME.com", 0, "SMTP", "ACME.com"},
	    /* 6 */ {"a:b", 0, "a", "b"},
	    /* 7 */ {"abcdefghijklmnop:v", 0, "abcdefghijklmnop", "v"},
	    /* 8 */ {"smtp:@x", 0, "smtp", "x"},
	    /* 9 */ {"smtp:a:b", 0, "smtp", "a:b"},
	    /* 10 */ {"smtp:", -EINVAL},
	    /* 11 */ {":x", -EINVAL},
	    /* 12 */ {"smtp", -EINVAL},
	    /* 13 */ {"smtp:alice@", -EINVAL},
	    /* 14 */ {"smtp:a@b@", -EINVAL},
	    /* 15 */ {"abcdefghijklmnopq:v", -EINVAL},
	    /* 16 */ {"sm tp:x", -EINVAL},
	    /* 17 */ {"", -EINVAL},
	    /* 18 */ {big, -EINVAL},
	};
	size_t i;

	memcpy(big, "smtp:", 5);
	memset(big + 5, 'x', 251); /* 256 bytes: one over DP_RM_ADDR_MAX */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct dp_rm_addr a;
		int ret = dp_rm_parse(S(c->addr), &a);

		cr_assert_eq(ret, c->ret, "case %zu: %d", i + 1, ret);
		if (ret != 0)
			continue;
		cr_assert_eq(a.type_len, strlen(c->type), "case %zu", i + 1);
		cr_assert(memcmp(a.type, c->type, a.type_len) == 0, "case %zu", i + 1);
		cr_assert_eq(a.dom_len, strlen(c->dom), "case %zu", i + 1);
		cr_assert(memcmp(a.dom, c->dom, a.dom_len) == 0, "case %zu", i + 1);
	}
	/* The longest address: 255 bytes, 253-byte domain. */
	memset(big + 2, 'x', 253);
	big[0] = 't';
	big[1] = ':';
	{
		struct dp_rm_addr a;

		cr_assert_eq(dp_rm_parse((const uint8_t *)big, 255, &a), 0);
		cr_assert_eq(a.dom_len, DP_RM_DOMAIN_MAX);
	}
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

/* dp_rm_parse() and the wire parser's gw_addr_split() agree. */
Test(route_match, parse_agrees_with_wire)
{
	static const char alpha[] = "aZ9-:@./\x01 x";
	unsigned iter, agree_ok = 0;

	for (iter = 0; iter < 200000; iter++) {
		uint8_t buf[40];
		size_t len = rnd() % sizeof(buf), i, wtl, wdl;
		const uint8_t *wt, *wd;
		struct dp_rm_addr a;
		int ctrl = 0, rw, rr;

		for (i = 0; i < len; i++) {
			buf[i] = (uint8_t)alpha[rnd() % (sizeof(alpha) - 1)];
			ctrl |= buf[i] < 0x20;
		}
		rw = gw_addr_split(buf, len, &wt, &wtl, &wd, &wdl);
		rr = dp_rm_parse(buf, len, &a);
		if (rw == 0) {
			cr_assert_eq(rr, 0, "iter %u: wire accepts, route_match refuses", iter);
			cr_assert(wt == a.type && wtl == a.type_len && wd == a.dom &&
				      wdl == a.dom_len,
				  "iter %u: different split", iter);
			agree_ok++;
		} else if (!ctrl) {
			cr_assert_neq(rr, 0, "iter %u: route_match accepts what wire refuses",
				      iter);
		}
	}
	cr_assert(agree_ok > 1000);
}

/* ---- candidates -------------------------------------------------------------- */

struct cand_case {
	const char *addr;
	const char *want[8]; /* "=text" exact, "~text" suffix, "*" any */
};

static void cand_text(const struct dp_rm_addr *a, const struct dp_rm_cand *c, char *out)
{
	out[0] = c->kind == DP_ROUTE_EXACT ? '=' : c->kind == DP_ROUTE_SUFFIX ? '~' : '*';
	memcpy(out + 1, a->dom + c->off, c->len);
	out[1 + c->len] = '\0';
}

Test(route_match, candidates_table)
{
	const struct cand_case cases[] = {
	    /* 1 */ {"smtp:x@a.b.acme.com",
		     {"=a.b.acme.com", "~.b.acme.com", "~.acme.com", "~.com", "*"}},
	    /* 2 */
	    {"notes:CN=Bob/OU=Sales/O=Acme",
	     {"=CN=Bob/OU=Sales/O=Acme", "~/OU=Sales/O=Acme", "~/O=Acme", "*"}},
	    /* 3 */ {"smtp:x@acme", {"=acme", "*"}},
	    /* 4 */ {"smtp:x@.acme.com", {"=.acme.com", "~.com", "*"}},	 /* no empty '*' */
	    /* 5 */ {"smtp:x@acme.com.", {"=acme.com.", "~.com.", "*"}}, /* no empty suffix */
	    /* 6 */ {"smtp:x@a..b", {"=a..b", "~..b", "~.b", "*"}},
	    /* 7 */ {"smtp:x@a/b.c", {"=a/b.c", "~/b.c", "~.c", "*"}},
	    /* 8 */ {"smtp:a.b@c", {"=c", "*"}}, /* dots before '@' */
	    /* 9 */ {"smtp:x@A.B", {"=A.B", "~.B", "*"}},
	    /* 10 */ {"s:.", {"=.", "*"}},
	    /* 11 */ {"s:a.", {"=a.", "*"}},
	    /* 12 */ {"s:.a", {"=.a", "*"}},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_rm_cand c[DP_RM_CAND_MAX];
		struct dp_rm_addr a;
		unsigned n, k;
		char txt[300];

		cr_assert_eq(dp_rm_parse(S(cases[i].addr), &a), 0, "case %zu", i + 1);
		n = dp_rm_candidates(&a, NULL, c);
		for (k = 0; k < n; k++) {
			cr_assert_not_null(cases[i].want[k], "case %zu: extra candidate %u", i + 1,
					   k);
			cand_text(&a, &c[k], txt);
			cr_assert_str_eq(txt, cases[i].want[k], "case %zu candidate %u", i + 1, k);
		}
		cr_assert_null(cases[i].want[n], "case %zu: only %u candidates", i + 1, n);
	}
}

Test(route_match, candidates_mask_and_max)
{
	struct dp_rm_cand c[DP_RM_CAND_MAX];
	uint64_t mask[4] = {0};
	struct dp_rm_addr a;
	uint8_t big[255];
	unsigned n, i;

	cr_assert_eq(dp_rm_parse(S("smtp:x@a.b.acme.com"), &a), 0);
	mask[0] = 1ull << strlen(".com");
	n = dp_rm_candidates(&a, mask, c);
	cr_assert_eq(n, 3);
	cr_assert_eq(c[1].kind, DP_ROUTE_SUFFIX);
	cr_assert_eq(c[1].len, 4);
	memset(mask, 0, sizeof(mask));
	cr_assert_eq(dp_rm_candidates(&a, mask, c), 2);

	/* Alternating labels and dots: a suffix at every other position. */
	big[0] = 't';
	big[1] = ':';
	for (i = 2; i < 255; i++)
		big[i] = (i & 1) ? '.' : 'a';
	cr_assert_eq(dp_rm_parse(big, 255, &a), 0);
	n = dp_rm_candidates(&a, NULL, c);
	cr_assert_eq(n, (DP_RM_DOMAIN_MAX - 1) / 2 + 2, "%u", n);
	cr_assert_eq(c[1].len, DP_RM_DOMAIN_MAX - 1);
	cr_assert_eq(c[n - 2].len, 2);
	for (i = 1; i + 2 < n; i++)
		cr_assert_gt(c[i].len, c[i + 1].len, "longest first");
}

/*
 * Addresses of nothing but dots after "t:" (regression: a domain of 253 dots
 * had 251 suffix candidates and overflowed the caller's array, which was
 * sized for alternating labels). Every inner position is a candidate, the
 * array is exactly large enough for the longest domain, and nothing is
 * written past it (a guard after the array must survive).
 */
Test(route_match, candidates_all_dots)
{
	static const unsigned addr_lens[] = {3, 4, 5, 253, 254, 255};
	size_t k;

	for (k = 0; k < sizeof(addr_lens) / sizeof(addr_lens[0]); k++) {
		struct {
			struct dp_rm_cand c[DP_RM_CAND_MAX];
			uint8_t guard[64];
		} o;
		struct dp_rm_addr a;
		uint8_t big[256];
		unsigned n, i, len = addr_lens[k], dl = len - 2;

		memset(&o, 0xA5, sizeof(o));
		big[0] = 't';
		big[1] = ':';
		memset(big + 2, '.', len - 2);
		cr_assert_eq(dp_rm_parse(big, len, &a), 0, "len %u", len);
		cr_assert_eq(a.dom_len, dl);
		n = dp_rm_candidates(&a, NULL, o.c);
		/* exact, a suffix at each of positions 1 .. dl - 2, "*" */
		cr_assert_eq(n, dl >= 2 ? dl : 2, "len %u: %u candidates", len, n);
		cr_assert_leq(n, DP_RM_CAND_MAX);
		cr_assert_eq(o.c[0].kind, DP_ROUTE_EXACT);
		cr_assert_eq(o.c[n - 1].kind, DP_ROUTE_ANY);
		for (i = 1; i + 1 < n; i++) {
			cr_assert_eq(o.c[i].kind, DP_ROUTE_SUFFIX);
			cr_assert_eq(o.c[i].off, i);
			cr_assert_eq(o.c[i].len, dl - i);
		}
		for (i = 0; i < sizeof(o.guard); i++)
			cr_assert_eq(o.guard[i], 0xA5, "len %u: written past the array", len);
	}
	{
		/* 256 bytes: one past the longest address, refused before any
		 * candidate is made. */
		uint8_t big[256];
		struct dp_rm_addr a;

		big[0] = 't';
		big[1] = ':';
		memset(big + 2, '.', sizeof(big) - 2);
		cr_assert_eq(dp_rm_parse(big, sizeof(big), &a), -EINVAL);
	}
	cr_assert_eq(DP_RM_CAND_MAX, DP_RM_DOMAIN_MAX, "one exact, DOMAIN_MAX - 2 suffixes, one any");
}

/* ---- keys ------------------------------------------------------------------ */

static struct dp_rm_key pkey(const char *type, const char *pattern)
{
	struct dp_rm_pattern p;

	cr_assert_eq(dp_rm_normalise(type, pattern, &p, NULL), 0, "%s %s", type, pattern);
	return dp_rm_pattern_key(&p);
}

static int key_eq(struct dp_rm_key a, struct dp_rm_key b) { return a.lo == b.lo && a.hi == b.hi; }

Test(route_match, keys)
{
	struct dp_rm_cand c[DP_RM_CAND_MAX];
	struct dp_rm_addr a;
	unsigned n;

	cr_assert_eq(dp_rm_parse(S("SMTP:Alice@NOTES.Acme.COM"), &a), 0);
	n = dp_rm_candidates(&a, NULL, c);
	cr_assert_eq(n, 4);
	cr_assert(key_eq(dp_rm_cand_key(&a, &c[0]), pkey("smtp", "notes.acme.com")));
	cr_assert(key_eq(dp_rm_cand_key(&a, &c[1]), pkey("smtp", "*.ACME.com")));
	cr_assert(key_eq(dp_rm_cand_key(&a, &c[2]), pkey("Smtp", "*.com")));
	cr_assert(key_eq(dp_rm_cand_key(&a, &c[3]), pkey("smtp", "*")));
	/* Kind, separator, type and length all change the key. */
	cr_assert(!key_eq(pkey("smtp", "acme.com"), pkey("smtp", "*.acme.com")));
	cr_assert(!key_eq(pkey("smtp", ".acme.com"), pkey("smtp", "*.acme.com")));
	cr_assert(!key_eq(pkey("smtp", "*.acme.com"), pkey("smtp", "*/acme.com")));
	cr_assert(!key_eq(pkey("smtp", "*"), pkey("notes", "*")));
	cr_assert(!key_eq(pkey("smtp", "*.a"), pkey("smtp", "*.aa")));
	cr_assert(!key_eq(pkey("smtpx", "a"), pkey("smtp", "xa")));
	cr_assert(!key_eq(pkey("abcdefgh", "a"), pkey("abcdefghi", "a")));
	/* Only ASCII letters fold: '@'/'`', '['/'{' and UTF-8 bytes do not. */
	cr_assert(key_eq(dp_rm_key(S("t"), DP_ROUTE_EXACT, S("ABCDEFGHIJKLMNOPQRSTUVWXYZ")),
			 dp_rm_key(S("T"), DP_ROUTE_EXACT, S("abcdefghijklmnopqrstuvwxyz"))));
	cr_assert(!key_eq(dp_rm_key(S("t"), DP_ROUTE_EXACT, S("[]^_\\")),
			  dp_rm_key(S("t"), DP_ROUTE_EXACT, S("{}~\x7f|"))));
	cr_assert(!key_eq(dp_rm_key(S("t"), DP_ROUTE_EXACT, S("x@x")),
			  dp_rm_key(S("t"), DP_ROUTE_EXACT, S("x`x"))));
	cr_assert(!key_eq(dp_rm_key(S("t"), DP_ROUTE_EXACT, S("\xc1")),
			  dp_rm_key(S("t"), DP_ROUTE_EXACT, S("\xe1"))));
	cr_assert(
	    !key_eq(dp_rm_key(S("t"), DP_ROUTE_EXACT, S("\xc1\xc1\xc1\xc1\xc1\xc1\xc1\xc1")),
		    dp_rm_key(S("t"), DP_ROUTE_EXACT, S("\xe1\xe1\xe1\xe1\xe1\xe1\xe1\xe1"))));
}

/* 1M distinct patterns: no 128-bit collision, and the 32-bit signatures the
 * hash table uses spread like random numbers. */
static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

Test(route_match, key_quality, .timeout = 60)
{
	const unsigned n = 1000000;
	uint64_t *lo = malloc(n * sizeof(*lo)), *sig = malloc(n * sizeof(*sig));
	unsigned i, dup_lo = 0, dup_sig = 0;
	char buf[64];

	cr_assert(lo && sig);
	for (i = 0; i < n; i++) {
		struct dp_rm_key k;
		int l = snprintf(buf, sizeof(buf), "d%07u.example.com", i);

		k = dp_rm_key(S("smtp"), DP_ROUTE_EXACT, (const uint8_t *)buf, (size_t)l);
		lo[i] = k.lo ^ k.hi * 0x9e3779b97f4a7c15ull; /* both halves */
		sig[i] = (uint32_t)k.lo;
	}
	qsort(lo, n, sizeof(*lo), cmp_u64);
	qsort(sig, n, sizeof(*sig), cmp_u64);
	for (i = 1; i < n; i++) {
		dup_lo += lo[i] == lo[i - 1];
		dup_sig += sig[i] == sig[i - 1];
	}
	cr_assert_eq(dup_lo, 0);
	/* Expected 32-bit collisions among 1M random values: n^2 / 2^33 ~ 116. */
	cr_assert(dup_sig > 40 && dup_sig < 250, "%u 32-bit signature collisions", dup_sig);
	free(lo);
	free(sig);
}

/* ---- specificity ----------------------------------------------------------- */

struct rset {
	unsigned n;
	struct dp_rm_pattern p[64];
	struct dp_rm_key k[64];
};

static void rset_add(struct rset *s, const char *type, const char *pattern)
{
	cr_assert_eq(dp_rm_normalise(type, pattern, &s->p[s->n], NULL), 0, "%s", pattern);
	s->k[s->n] = dp_rm_pattern_key(&s->p[s->n]);
	s->n++;
}

/* Resolve through candidates and keys, as the route index does. */
static int rset_lookup(const struct rset *s, const char *addr, size_t len)
{
	struct dp_rm_cand c[DP_RM_CAND_MAX];
	struct dp_rm_addr a;
	unsigned n, i, j;

	if (dp_rm_parse((const uint8_t *)addr, len, &a) != 0)
		return -1;
	n = dp_rm_candidates(&a, NULL, c);
	for (i = 0; i < n; i++) {
		struct dp_rm_key k = dp_rm_cand_key(&a, &c[i]);

		for (j = 0; j < s->n; j++)
			if (key_eq(k, s->k[j])) {
				cr_assert(dp_rm_cand_is(s->p[j].type, s->p[j].kind, s->p[j].pattern,
							&a, &c[i]));
				return (int)j;
			}
	}
	return -1;
}

/* The obvious rule: among matching patterns, exact, then the longest
 * suffix, then "*". */
static int rset_reference(const struct rset *s, const char *addr, size_t len)
{
	int best = -1;
	unsigned j;

	for (j = 0; j < s->n; j++) {
		const struct dp_rm_pattern *p = &s->p[j];

		if (!dp_rm_match(p, (const uint8_t *)addr, len))
			continue;
		if (best < 0 || p->kind < s->p[best].kind ||
		    (p->kind == s->p[best].kind && p->len > s->p[best].len))
			best = (int)j;
	}
	return best;
}

struct spec_case {
	const char *addr;
	const char *want; /* pattern of the winning route, NULL: none */
};

Test(route_match, specificity_table)
{
	struct rset s = {0};
	const struct spec_case cases[] = {
	    /* 1 */ {"smtp:a@notes.acme.com", "notes.acme.com"},
	    /* 2 */ {"smtp:a@NOTES.ACME.COM", "notes.acme.com"},
	    /* 3 */ {"smtp:a@x.notes.acme.com", "*.notes.acme.com"},
	    /* 4 */ {"smtp:a@mail.acme.com", "*.acme.com"},
	    /* 5 */ {"smtp:a@a.b.acme.com", "*.acme.com"},
	    /* 6 */ {"smtp:a@acme.com", "*.com"},
	    /* 7 */ {"smtp:a@x.org", "*"},
	    /* 8 */ {"smtp:a@b@notes.acme.com", "notes.acme.com"},
	    /* 9 */ {"smtp:notes.acme.com@x.org", "*"},
	    /* 10 */ {"notes:CN=Bob/O=Acme", "*/o=acme"},
	    /* 11 */ {"notes:CN=Bob/OU=Sales/O=Acme", "*/ou=sales/o=acme"},
	    /* 12 */ {"notes:CN=Bob/O=Other", NULL},
	    /* 13 */ {"NOTES:cn=bob/o=acme", "*/o=acme"},
	    /* 14 */ {"x400:anything", NULL},
	    /* 15 */ {"smtp:a@com", "*"},
	    /* 16 */ {"smtp:a@x/y.acme.com", "*.acme.com"},
	};
	size_t i;

	rset_add(&s, "smtp", "*");
	rset_add(&s, "smtp", "*.com");
	rset_add(&s, "smtp", "*.acme.com");
	rset_add(&s, "smtp", "*.notes.acme.com");
	rset_add(&s, "smtp", "notes.acme.com");
	rset_add(&s, "notes", "*/O=Acme");
	rset_add(&s, "notes", "*/OU=Sales/O=Acme");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = rset_lookup(&s, cases[i].addr, strlen(cases[i].addr));

		cr_assert_eq(got, rset_reference(&s, cases[i].addr, strlen(cases[i].addr)),
			     "case %zu", i + 1);
		if (cases[i].want == NULL)
			cr_assert_eq(got, -1, "case %zu: matched %s", i + 1,
				     got >= 0 ? s.p[got].pattern : "");
		else
			cr_assert(got >= 0 && strcmp(s.p[got].pattern, cases[i].want) == 0,
				  "case %zu: got %s", i + 1,
				  got >= 0 ? s.p[got].pattern : "(none)");
	}
}

/* Random domains over a tiny alphabet against random pattern sets: the
 * candidate walk always picks what the obvious rule picks. */
Test(route_match, specificity_random, .timeout = 60)
{
	static const char alpha[] = "aB./";
	unsigned round, q;

	for (round = 0; round < 2000; round++) {
		struct rset s = {0};
		unsigned np = 1 + rnd() % 20;

		while (s.n < np) {
			char pat[12];
			unsigned len = 1 + rnd() % 6, i, r = rnd() % 10;
			struct dp_rm_pattern tmp;

			for (i = 0; i < len; i++)
				pat[i] = alpha[rnd() % 4];
			pat[len] = '\0';
			if (r == 0) {
				strcpy(pat, "*");
			} else if (r < 6 && len < 10) {
				memmove(pat + 2, pat, len + 1);
				pat[0] = '*';
				pat[1] = (rnd() & 1) ? '.' : '/';
			}
			if (dp_rm_normalise((rnd() % 8) ? "t" : "u", pat, &tmp, NULL) != 0)
				continue;
			s.p[s.n] = tmp;
			s.k[s.n] = dp_rm_pattern_key(&tmp);
			s.n++;
		}
		for (q = 0; q < 50; q++) {
			char addr[16] = "t:";
			unsigned len = 1 + rnd() % 9, i;

			for (i = 0; i < len; i++)
				addr[2 + i] = alpha[rnd() % 4];
			cr_assert_eq(rset_lookup(&s, addr, 2 + len),
				     rset_reference(&s, addr, 2 + len), "round %u address %.*s",
				     round, (int)(2 + len), addr);
		}
	}
}

/* ---- selection ------------------------------------------------------------- */

struct up_map {
	uint8_t up[64];
	unsigned calls;
};

static int is_up(void *ctx, uint32_t conn)
{
	struct up_map *m = ctx;

	m->calls++;
	return conn < 64 && m->up[conn];
}

Test(route_match, select)
{
	const struct dp_route_target t[] = {
	    {1, 10}, {2, 20}, {3, 20}, {4, 20}, {5, 30},
	};
	struct up_map m = {0};
	unsigned i, count[6] = {0};

	/* 1. nothing up */
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, 7), 0);
	cr_assert_eq(dp_rm_select(t, 0, is_up, &m, 7), 0);
	/* 2. lowest cost wins */
	memset(m.up, 1, sizeof(m.up));
	for (i = 0; i < 100; i++)
		cr_assert_eq(dp_rm_select(t, 5, is_up, &m, i), 1);
	/* 3. lowest down: the next cost group, shared by hash % 3 */
	m.up[1] = 0;
	for (i = 0; i < 10000; i++)
		count[dp_rm_select(t, 5, is_up, &m, rnd())]++;
	for (i = 2; i <= 4; i++)
		cr_assert(count[i] >= 2500 && count[i] <= 4200, "target %u got %u of 10000", i,
			  count[i]);
	cr_assert_eq(count[1] + count[5] + count[0], 0);
	/* 4. deterministic: same hash, same answer; dp_rm_pick() (hash * 3 /
	 *    2^64) picks in order: the low, middle and high thirds */
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, 0), 2);
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, UINT64_MAX / 3), 2);
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, UINT64_MAX / 3 + 1), 3);
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, 1ull << 63), 3);
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, UINT64_MAX / 3 * 2 + 2), 4);
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, UINT64_MAX), 4);
	/* 5. one of the equal group down: the other two share it, over the
	 *    hashes messages really get (consecutive seqs of one origin) */
	m.up[3] = 0;
	memset(count, 0, sizeof(count));
	for (i = 0; i < 10000; i++)
		count[dp_rm_select(t, 5, is_up, &m, dp_rm_msg_hash(1, i + 1))]++;
	cr_assert(count[2] >= 4800 && count[2] <= 5200, "target 2 got %u of 10000", count[2]);
	cr_assert_eq(count[2] + count[4], 10000);
	/* 6. whole group down: falls to cost 30 */
	m.up[2] = m.up[4] = 0;
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, 12345), 5);
	/* 7. everything down again */
	m.up[5] = 0;
	cr_assert_eq(dp_rm_select(t, 5, is_up, &m, 12345), 0);
	/* 8. a single target: checked once, whatever the hash */
	m.up[1] = 1;
	m.calls = 0;
	cr_assert_eq(dp_rm_select(t, 1, is_up, &m, ~0ull), 1);
	cr_assert_eq(dp_rm_select(t, 1, is_up, &m, 0), 1);
	cr_assert_eq(m.calls, 2);
	m.up[1] = 0;
	cr_assert_eq(dp_rm_select(t, 1, is_up, &m, 5), 0);
}

/* dp_rm_pick(): in range, in order, and as even as hash % n over uniform
 * hashes: every n of 1..256 (DP_ROUTE_TARGETS_MAX), hashes spread evenly
 * over 2^64, each choice gets its share to within one. */
Test(route_match, pick)
{
	unsigned n, i, cnt[256];

	for (n = 1; n <= 256; n++) {
		const unsigned per = 64, total = per * n;

		memset(cnt, 0, sizeof(cnt));
		cr_assert_eq(dp_rm_pick(0, n), 0);
		cr_assert_eq(dp_rm_pick(UINT64_MAX, n), n - 1);
		for (i = 0; i < total; i++) {
			uint64_t h = (uint64_t)(((__uint128_t)i << 64) / total) + 1;
			unsigned k = dp_rm_pick(h, n);

			cr_assert_lt(k, n);
			cnt[k]++;
		}
		for (i = 0; i < n; i++)
			cr_assert(cnt[i] >= per - 1 && cnt[i] <= per + 1, "n %u: choice %u got %u",
				  n, i, cnt[i]);
	}
}

static int holds(void *ctx, uint32_t conn)
{
	const struct up_map *m = ctx;

	return conn < 64 && m->up[conn + 32];
}

/* dp_rm_choose(): dp_rm_select() while something is up; else the first
 * target that holds, in cost order; never one that does not. */
Test(route_match, choose)
{
	const struct dp_route_target t[] = {
	    {1, 10}, {2, 20}, {3, 20}, {4, 20}, {5, 30},
	};
	struct up_map m = {0};
	unsigned i;

	/* 1. nothing up, nothing holds */
	cr_assert_eq(dp_rm_choose(t, 5, is_up, holds, &m, 7), 0);
	cr_assert_eq(dp_rm_choose(t, 0, is_up, holds, &m, 7), 0);
	/* 2. nothing up: the first holding target, whatever the hash */
	m.up[32 + 3] = m.up[32 + 5] = 1;
	for (i = 0; i < 50; i++)
		cr_assert_eq(dp_rm_choose(t, 5, is_up, holds, &m, i), 3);
	/* 3. without holds (failover): only an up target */
	cr_assert_eq(dp_rm_choose(t, 5, is_up, NULL, &m, 7), 0);
	/* 4. anything up: exactly dp_rm_select(), holding or not */
	m.up[4] = 1;
	m.up[2] = 1;
	for (i = 0; i < 50; i++) {
		cr_assert_eq(dp_rm_choose(t, 5, is_up, holds, &m, i),
			     dp_rm_select(t, 5, is_up, &m, i));
		cr_assert_eq(dp_rm_choose(t, 5, is_up, NULL, &m, i),
			     dp_rm_select(t, 5, is_up, &m, i));
	}
	cr_assert_eq(dp_rm_choose(t, 5, is_up, holds, &m, 0), 2);
	cr_assert_eq(dp_rm_choose(t, 5, is_up, holds, &m, UINT64_MAX), 4);
	/* 5. one target: up, or else holding (when asked), or nothing */
	memset(&m, 0, sizeof(m));
	cr_assert_eq(dp_rm_choose(t, 1, is_up, holds, &m, 7), 0);
	m.up[32 + 1] = 1;
	cr_assert_eq(dp_rm_choose(t, 1, is_up, holds, &m, 7), 1);
	cr_assert_eq(dp_rm_choose(t, 1, is_up, NULL, &m, 7), 0);
	m.up[1] = 1;
	cr_assert_eq(dp_rm_choose(t, 1, is_up, NULL, &m, 7), 1);
	m.up[32 + 1] = 0;
	cr_assert_eq(dp_rm_choose(t, 1, is_up, holds, &m, 7), 1);
}

/* dp_rm_dest: the parser's split plus the exact key, equal to what the
 * scanning path (dp_rm_parse() and the exact candidate's key) gives, and
 * to the key of the exact route that names the same domain. */
Test(route_match, dest_table)
{
	static const struct {
		const char *addr;
		int ok;
		const char *pat; /* exact pattern with the same key, or NULL */
	} cases[] = {
	    {"smtp:alice@notes.acme.com", 1, "notes.acme.com"},
	    {"SMTP:Bob@NOTES.ACME.COM", 1, "notes.acme.com"},
	    {"smtp:d0001234.example.com", 1, "d0001234.example.com"},
	    {"notes:CN=Bob/O=Acme", 1, "cn=bob/o=acme"},
	    {"s:x", 1, "x"},
	    {"sixteencharstype:a@b@c", 1, "c"},
	    {"smtp:", 0, NULL},
	    {"smtp:alice@", 0, NULL},
	    {":x", 0, NULL},
	    {"seventeencharstyp:x", 0, NULL},
	};
	unsigned i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *a = (const uint8_t *)cases[i].addr;
		size_t len = strlen(cases[i].addr);
		struct dp_rm_dest d, d2;
		struct dp_rm_addr pa, da;
		int rc = dp_rm_dest_parse(&d, a, len);

		cr_assert_eq(rc == 0, cases[i].ok, "case %u (%s)", i, cases[i].addr);
		if (!cases[i].ok)
			continue;
		cr_assert_eq(dp_rm_parse(a, len, &pa), 0);
		dp_rm_dest_addr(&d, &da);
		cr_assert(da.type == pa.type && da.type_len == pa.type_len && da.dom == pa.dom &&
			  da.dom_len == pa.dom_len && da.tseed[0] == pa.tseed[0] &&
			  da.tseed[1] == pa.tseed[1] && da.tword[0] == pa.tword[0] &&
			  da.tword[1] == pa.tword[1], "case %u", i);
		{
			struct dp_rm_cand c = {DP_ROUTE_EXACT, 0, (uint8_t)pa.dom_len};
			struct dp_rm_key k = dp_rm_cand_key(&pa, &c);
			struct dp_rm_pattern p;
			char type[DP_RM_TYPE_MAX + 1] = {0};

			cr_assert(k.lo == d.key.lo && k.hi == d.key.hi, "case %u", i);
			memcpy(type, a, d.type_len);
			cr_assert_eq(dp_rm_normalise(type, cases[i].pat, &p, NULL), 0);
			k = dp_rm_pattern_key(&p);
			cr_assert(k.lo == d.key.lo && k.hi == d.key.hi, "case %u", i);
		}
		/* the split given directly, as the frame parser gives it */
		cr_assert_eq(dp_rm_dest_init(&d2, a, len, d.type_len, d.dom_off), 0);
		cr_assert(d2.key.lo == d.key.lo && d2.key.hi == d.key.hi && d2.len == len);
	}
	/* out-of-bounds splits are refused, not trusted */
	{
		const uint8_t *a = (const uint8_t *)"smtp:x@y";
		struct dp_rm_dest d;

		cr_assert_eq(dp_rm_dest_init(&d, a, 8, 0, 5), -EINVAL);
		cr_assert_eq(dp_rm_dest_init(&d, a, 8, 17, 18), -EINVAL);
		cr_assert_eq(dp_rm_dest_init(&d, a, 8, 4, 4), -EINVAL);
		cr_assert_eq(dp_rm_dest_init(&d, a, 8, 4, 8), -EINVAL);
		cr_assert_eq(dp_rm_dest_init(&d, a, 8, 3, 5), -EINVAL); /* no ':' there */
		cr_assert_eq(dp_rm_dest_init(&d, a, 300, 4, 5), -EINVAL);
		cr_assert_eq(dp_rm_dest_init(&d, a, 8, 4, 7), 0);
	}
}

/* The spreading hash is pinned: changing it would move every message of a
 * cost group to another target after an upgrade. */
Test(route_match, msg_hash)
{
	cr_assert_eq(dp_rm_msg_hash(0, 0), 0);
	cr_assert_eq(dp_rm_msg_hash(1, 0), 1ull << 17);
	cr_assert_eq(dp_rm_msg_hash(0, 1), 0x9E3779B97F4A7C15ull);
	cr_assert_eq(dp_rm_msg_hash(7, 3), (3 * 0x9E3779B97F4A7C15ull) ^ (7ull << 17));
	cr_assert_eq(dp_rm_msg_hash(UINT32_MAX, UINT64_MAX),
		     (UINT64_MAX * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)UINT32_MAX << 17));
	cr_assert_neq(dp_rm_msg_hash(1, 2), dp_rm_msg_hash(2, 1));
}

/* dp_rm_dest's key over every type length (1..16), every domain tail
 * length, short and long addresses (its word loads start at 16 bytes), any
 * case, with and without a user part: always the exact candidate's key as
 * dp_rm_parse() and the byte-wise path compute it. */
Test(route_match, dest_key_random, .timeout = 60)
{
	static const char tch[] = "abcXYZ019-";
	static const char dch[] = "aB.c/D=e@9";
	uint8_t buf[DP_RM_ADDR_MAX + 8];
	unsigned it;

	for (it = 0; it < 200000; it++) {
		size_t tl = 1 + rnd() % DP_RM_TYPE_MAX;
		/* short values as often as long ones */
		size_t vl = rnd() % 2 ? 1 + rnd() % 16 : 1 + rnd() % (DP_RM_ADDR_MAX - tl - 1);
		size_t len = tl + 1 + vl, i;
		struct dp_rm_addr a;
		struct dp_rm_dest d;
		struct dp_rm_cand c;
		struct dp_rm_key k;

		for (i = 0; i < tl; i++)
			buf[i] = (uint8_t)tch[rnd() % (sizeof(tch) - 1)];
		buf[tl] = ':';
		for (i = tl + 1; i < len; i++)
			buf[i] = (uint8_t)dch[rnd() % (sizeof(dch) - 1)];
		if (dp_rm_parse(buf, len, &a) != 0) {
			cr_assert_neq(dp_rm_dest_parse(&d, buf, len), 0);
			continue;
		}
		cr_assert_eq(dp_rm_dest_parse(&d, buf, len), 0, "it %u", it);
		c = (struct dp_rm_cand){DP_ROUTE_EXACT, 0, (uint8_t)a.dom_len};
		k = dp_rm_cand_key(&a, &c);
		cr_assert(k.lo == d.key.lo && k.hi == d.key.hi, "it %u: len %zu type %zu dom %u", it,
			  len, tl, a.dom_len);
	}
}

/* The key secret (dp_rm_key_k() & co.): every key changes with it, a NULL
 * secret is the zero one, and the case folding and distinctness properties
 * hold under any secret; the destination path agrees with dp_rm_key_k(). */
Test(route_match, key_secret)
{
	static const struct dp_rm_secret secrets[] = {
		{{0, 0}}, {{1, 0}}, {{0, 1}}, {{~0ull, 0x9e3779b97f4a7c15ull}}};
	static const uint8_t dest[] = "smtp:bob@acme.com";
	struct dp_rm_key base = dp_rm_key(S("smtp"), DP_ROUTE_EXACT, S("acme.com"));
	unsigned i;

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		const struct dp_rm_secret *sec = &secrets[i];
		struct dp_rm_key k = dp_rm_key_k(sec, S("smtp"), DP_ROUTE_EXACT, S("acme.com"));
		struct dp_rm_dest d;
		struct dp_rm_addr a;

		cr_assert_eq(key_eq(k, base), i == 0, "secret %u: key %s", i,
			     i == 0 ? "changed" : "unchanged");
		cr_assert(key_eq(k, dp_rm_key_k(sec, S("SMTP"), DP_ROUTE_EXACT, S("ACME.com"))));
		cr_assert(!key_eq(k, dp_rm_key_k(sec, S("smtp"), DP_ROUTE_EXACT, S("acme.org"))));
		cr_assert(!key_eq(k, dp_rm_key_k(sec, S("smtp"), DP_ROUTE_SUFFIX, S("acme.com"))));
		cr_assert_eq(dp_rm_dest_parse_k(sec, &d, dest, sizeof(dest) - 1), 0);
		cr_assert(key_eq(d.key, k), "secret %u: destination key", i);
		dp_rm_dest_addr_k(sec, &d, &a);
		cr_assert(key_eq(dp_rm_cand_key(&a, &(struct dp_rm_cand){DP_ROUTE_EXACT, 0,
									   (uint8_t)a.dom_len}),
				 k));
	}
	cr_assert(key_eq(dp_rm_key_k(NULL, S("smtp"), DP_ROUTE_EXACT, S("acme.com")), base));
}
