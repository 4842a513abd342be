/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address-space matching: pattern normalisation, candidate generation, the
 * 128-bit route key and target selection. See route_match.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memrchr() */
#endif
#include <errno.h>
#include <string.h>

#include "route_match.h"

_Static_assert(DP_RM_DOMAIN_MAX <= UINT8_MAX, "candidate offsets and lengths are bytes");
_Static_assert(sizeof(struct dp_rm_key) == 16, "the route index uses 16-byte keys");

/* ---- bytes ----------------------------------------------------------------- */

static inline uint8_t rm_lower(uint8_t c) { return (uint8_t)(c - 'A') < 26 ? c + ('a' - 'A') : c; }

/* Bytes allowed in an address type (gw_addr_split() agrees). */
static const uint8_t rm_type_class[256] = {
    ['-'] = 1,
    ['0' ... '9'] = 1,
    ['A' ... 'Z'] = 1,
    ['a' ... 'z'] = 1,
};

static inline int rm_type_char(uint8_t c) { return rm_type_class[c]; }

static inline int rm_is_sep(uint8_t c) { return c == '.' || c == '/'; }

/* ---- the key ----------------------------------------------------------------- */

/* Odd 64-bit constants with well-spread bits (those of wyhash). */
#define RM_K0 0xa0761d6478bd642full
#define RM_K1 0xe7037ed1a0b428dbull
#define RM_K2 0x8ebc6af09c88c6e3ull
#define RM_K3 0x589965cc75374cc3ull
#define RM_K4 0x1d8e4e27c47d124full

/* No secret: the public keys (unit tests, tools). */
static const struct dp_rm_secret rm_no_secret;

/* 64x64 -> 128-bit multiply, high and low halves folded together. */
static inline uint64_t rm_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The first n (0..8) bytes at p, zero-padded, with one load: for callers
 * that know 8 bytes at p are readable. Same value as dp_rm_load_tail(). */
static inline uint64_t rm_load_head8(const uint8_t *p, size_t n)
{
	return n >= 8 ? dp_rm_load8(p) : dp_rm_load8(p) & ((1ull << (8 * n)) - 1);
}

/* The n (0..7) bytes that end at end, zero-padded, with one load: for
 * callers that know the 8 bytes before end are readable. Same value as
 * dp_rm_load_tail(end - n, n). */
static inline uint64_t rm_load_tail_end8(const uint8_t *end, size_t n)
{
	return n == 0 ? 0 : dp_rm_load8(end - 8) >> (8 * (8 - n));
}

/*
 * The type's hash state. @wide: 16 bytes at type are readable (a
 * destination's bytes run on past its type), so the type is loaded in two
 * words instead of byte by byte; the result is the same.
 */
static inline __attribute__((always_inline)) void
rm_type_seed_w(const struct dp_rm_secret *sec, const uint8_t *type, size_t n, uint64_t seed[2],
	       uint64_t word[2], int wide)
{
	uint64_t t0, t1;

	if (wide) {
		t0 = rm_load_head8(type, n);
		t1 = n > 8 ? rm_load_head8(type + 8, n - 8) : 0;
	} else if (n > 8) {
		t0 = dp_rm_load8(type);
		t1 = dp_rm_load_tail(type + 8, n - 8);
	} else {
		t0 = dp_rm_load_tail(type, n);
		t1 = 0;
	}
	t0 = dp_rm_fold8(t0);
	t1 = dp_rm_fold8(t1);
	seed[0] = rm_mum(t0 ^ RM_K0 ^ sec->s[0], t1 ^ RM_K1) ^ n;
	seed[1] = rm_mum(t0 ^ RM_K2, t1 ^ RM_K3 ^ sec->s[1]) + n;
	if (word != NULL) {
		word[0] = t0;
		word[1] = t1;
	}
}

static void rm_type_seed(const struct dp_rm_secret *sec, const uint8_t *type, size_t n,
			 uint64_t seed[2], uint64_t word[2])
{
	rm_type_seed_w(sec != NULL ? sec : &rm_no_secret, type, n, seed, word, 0);
}

/*
 * Two independent 64-bit lanes over the folded text, 8 bytes per step;
 * kind and length enter first (so zero padding of the tail is unambiguous),
 * and a final cross-mix makes each output half depend on both lanes.
 */
static inline __attribute__((always_inline)) struct dp_rm_key
rm_text_key_w(const uint64_t seed[2], unsigned kind, const uint8_t *p, size_t n, int wide)
{
	uint64_t a = seed[0] ^ rm_mum(n ^ RM_K4, kind ^ RM_K1);
	uint64_t b = seed[1] ^ rm_mum(kind ^ RM_K2, n ^ RM_K0);
	struct dp_rm_key k;

	for (; n >= 8; n -= 8, p += 8) {
		uint64_t x = dp_rm_fold8(dp_rm_load8(p));

		a = rm_mum(x ^ RM_K1, a ^ RM_K2);
		b = rm_mum(x ^ RM_K3, b ^ RM_K0);
	}
	if (n > 0) {
		/* @wide: the 8 bytes before the text's end are readable, so the
		 * tail is one load; the same value either way. */
		uint64_t x = dp_rm_fold8(wide ? rm_load_tail_end8(p + n, n) : dp_rm_load_tail(p, n));

		a = rm_mum(x ^ RM_K1, a ^ RM_K2);
		b = rm_mum(x ^ RM_K3, b ^ RM_K0);
	}
	k.lo = rm_mum(a ^ RM_K3, b ^ RM_K4);
	k.hi = rm_mum(b ^ RM_K1, a ^ RM_K0);
	return k;
}

static struct dp_rm_key rm_text_key(const uint64_t seed[2], unsigned kind, const uint8_t *p,
				    size_t n)
{
	return rm_text_key_w(seed, kind, p, n, 0);
}

struct dp_rm_key dp_rm_key_k(const struct dp_rm_secret *sec, const uint8_t *type, size_t type_len,
			     unsigned kind, const uint8_t *text, size_t len)
{
	uint64_t seed[2];

	rm_type_seed(sec, type, type_len, seed, NULL);
	return rm_text_key(seed, kind, text, len);
}

struct dp_rm_key dp_rm_key(const uint8_t *type, size_t type_len, unsigned kind, const uint8_t *text,
			   size_t len)
{
	return dp_rm_key_k(NULL, type, type_len, kind, text, len);
}

struct dp_rm_key dp_rm_cand_key(const struct dp_rm_addr *a, const struct dp_rm_cand *c)
{
	return rm_text_key(a->tseed, c->kind, a->dom + c->off, c->len);
}

/* The text a pattern contributes to its key (see dp_rm_key()). */
static void rm_pattern_text(const struct dp_rm_pattern *p, const uint8_t **text, size_t *len)
{
	switch (p->kind) {
	case DP_ROUTE_SUFFIX:
		*text = (const uint8_t *)p->pattern + 1;
		*len = p->len - 1u;
		break;
	case DP_ROUTE_ANY:
		*text = (const uint8_t *)p->pattern;
		*len = 0;
		break;
	default:
		*text = (const uint8_t *)p->pattern;
		*len = p->len;
		break;
	}
}

struct dp_rm_key dp_rm_pattern_key_k(const struct dp_rm_secret *sec, const struct dp_rm_pattern *p)
{
	const uint8_t *text;
	size_t len;

	rm_pattern_text(p, &text, &len);
	return dp_rm_key_k(sec, (const uint8_t *)p->type, p->type_len, p->kind, text, len);
}

struct dp_rm_key dp_rm_pattern_key(const struct dp_rm_pattern *p)
{
	return dp_rm_pattern_key_k(NULL, p);
}

/* ---- control plane: normalisation ------------------------------------------------ */

static int rm_fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return -EINVAL;
}

int dp_rm_normalise(const char *type, const char *pattern, struct dp_rm_pattern *out,
		    const char **why)
{
	size_t tl, pl, i;
	uint8_t kind;

	if (type == NULL || type[0] == '\0')
		return rm_fail(why, "empty address type");
	tl = strnlen(type, DP_RM_TYPE_MAX + 1);
	if (tl > DP_RM_TYPE_MAX)
		return rm_fail(why, "address type longer than 16 bytes");
	for (i = 0; i < tl; i++)
		if (!rm_type_char((uint8_t)type[i]))
			return rm_fail(why, "address type may hold only a-z, 0-9 and '-'");
	if (pattern == NULL || pattern[0] == '\0')
		return rm_fail(why, "empty pattern");
	pl = strnlen(pattern, DP_RM_PATTERN_MAX + 1);
	if (pl > DP_RM_PATTERN_MAX)
		return rm_fail(why, "pattern longer than the longest routing domain (253 bytes)");
	for (i = 0; i < pl; i++) {
		uint8_t c = (uint8_t)pattern[i];

		if (c < 0x20 || c == 0x7f)
			return rm_fail(why, "pattern contains a control character");
		if (c == '@')
			return rm_fail(why,
				       "pattern contains '@': a routing domain is the text after "
				       "an address's last '@'");
		if (c == '*' && i != 0)
			return rm_fail(
			    why, "'*' may only start a pattern: '*', '*.suffix' or '*/suffix'");
	}
	if (pattern[0] == '*') {
		if (pl == 1) {
			kind = DP_ROUTE_ANY;
		} else if (!rm_is_sep((uint8_t)pattern[1])) {
			return rm_fail(why, "'*' must be alone or followed by '.' or '/' "
					    "(as in '*.acme.com' or '*/O=Acme')");
		} else if (pl == 2) {
			return rm_fail(
			    why, "nothing after the separator: the pattern matches no domain");
		} else {
			kind = DP_ROUTE_SUFFIX;
		}
	} else {
		kind = DP_ROUTE_EXACT;
	}
	/* Zero-padded: callers may compare the arrays a word at a time. */
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	for (i = 0; i < tl; i++)
		out->type[i] = (char)rm_lower((uint8_t)type[i]);
	out->type[tl] = '\0';
	for (i = 0; i < pl; i++)
		out->pattern[i] = (char)rm_lower((uint8_t)pattern[i]);
	out->pattern[pl] = '\0';
	out->type_len = (uint8_t)tl;
	out->len = (uint16_t)pl;
	return 0;
}

/* ---- dataplane: addresses and candidates ------------------------------------------ */

int dp_rm_parse_k(const struct dp_rm_secret *sec, const uint8_t *addr, size_t len,
		  struct dp_rm_addr *a)
{
	const uint8_t *at;
	size_t t, dom;

	if (len > DP_RM_ADDR_MAX)
		return -EINVAL;
	for (t = 0; t < len && t <= DP_RM_TYPE_MAX && rm_type_char(addr[t]); t++)
		;
	if (t == 0 || t > DP_RM_TYPE_MAX || t + 1 >= len || addr[t] != ':')
		return -EINVAL;
	/* The domain starts after the value's last '@'. */
	at = memrchr(addr + t + 1, '@', len - t - 1);
	dom = at != NULL ? (size_t)(at - addr) + 1 : t + 1;
	if (dom == len)
		return -EINVAL;
	a->type = addr;
	a->type_len = (uint16_t)t;
	a->dom = addr + dom;
	a->dom_len = (uint16_t)(len - dom);
	rm_type_seed(sec, addr, t, a->tseed, a->tword);
	return 0;
}

int dp_rm_parse(const uint8_t *addr, size_t len, struct dp_rm_addr *a)
{
	return dp_rm_parse_k(NULL, addr, len, a);
}

int dp_rm_dest_init_k(const struct dp_rm_secret *sec, struct dp_rm_dest *d, const uint8_t *addr,
		      size_t len, size_t type_len, size_t dom_off)
{
	uint64_t seed[2];

	if (len > DP_RM_ADDR_MAX || type_len == 0 || type_len > DP_RM_TYPE_MAX ||
	    dom_off <= type_len || dom_off >= len || addr[type_len] != ':')
		return -EINVAL;
	/* Once per message: with 16 bytes of address or more (nearly every
	 * one), the type and the text's tail are word loads inside the
	 * address, not byte loops. */
	if (len >= 16) {
		rm_type_seed_w(sec != NULL ? sec : &rm_no_secret, addr, type_len, seed, NULL, 1);
		d->key = rm_text_key_w(seed, DP_ROUTE_EXACT, addr + dom_off, len - dom_off, 1);
	} else {
		rm_type_seed(sec, addr, type_len, seed, NULL);
		d->key = rm_text_key(seed, DP_ROUTE_EXACT, addr + dom_off, len - dom_off);
	}
	d->addr = addr;
	d->len = (uint16_t)len;
	d->type_len = (uint8_t)type_len;
	d->dom_off = (uint8_t)dom_off;
	return 0;
}

int dp_rm_dest_init(struct dp_rm_dest *d, const uint8_t *addr, size_t len, size_t type_len,
		    size_t dom_off)
{
	return dp_rm_dest_init_k(NULL, d, addr, len, type_len, dom_off);
}

int dp_rm_dest_parse_k(const struct dp_rm_secret *sec, struct dp_rm_dest *d, const uint8_t *addr,
		       size_t len)
{
	struct dp_rm_addr a;

	if (dp_rm_parse_k(sec, addr, len, &a) != 0)
		return -EINVAL;
	return dp_rm_dest_init_k(sec, d, addr, len, a.type_len, (size_t)(a.dom - addr));
}

int dp_rm_dest_parse(struct dp_rm_dest *d, const uint8_t *addr, size_t len)
{
	return dp_rm_dest_parse_k(NULL, d, addr, len);
}

void dp_rm_dest_addr_k(const struct dp_rm_secret *sec, const struct dp_rm_dest *d,
		       struct dp_rm_addr *a)
{
	a->type = d->addr;
	a->type_len = d->type_len;
	a->dom = d->addr + d->dom_off;
	a->dom_len = (uint16_t)(d->len - d->dom_off);
	rm_type_seed(sec, d->addr, d->type_len, a->tseed, a->tword);
}

void dp_rm_dest_addr(const struct dp_rm_dest *d, struct dp_rm_addr *a)
{
	dp_rm_dest_addr_k(NULL, d, a);
}

unsigned dp_rm_candidates(const struct dp_rm_addr *a, const uint64_t sfx_mask[4],
			  struct dp_rm_cand out[DP_RM_CAND_MAX])
{
	unsigned n = 0, i, dl = a->dom_len;

	out[n++] = (struct dp_rm_cand){DP_ROUTE_EXACT, 0, (uint8_t)dl};
	/* Left to right is longest suffix first. A separator needs a byte
	 * before it ('*' matches at least one) and one after it. dl is at
	 * most DP_RM_DOMAIN_MAX for a parsed address, but out[] is bounded by
	 * its own size too (one place kept for "*"), whatever a says. */
	for (i = 1; i + 1 < dl && n < DP_RM_CAND_MAX - 1; i++) {
		unsigned l = dl - i;

		if (!rm_is_sep(a->dom[i]))
			continue;
		if (sfx_mask != NULL && !(sfx_mask[l >> 6] & (1ull << (l & 63))))
			continue;
		out[n++] = (struct dp_rm_cand){DP_ROUTE_SUFFIX, (uint8_t)i, (uint8_t)l};
	}
	out[n++] = (struct dp_rm_cand){DP_ROUTE_ANY, 0, 0};
	return n;
}

int dp_rm_cand_is(const char *type, unsigned kind, const char *pattern, const struct dp_rm_addr *a,
		  const struct dp_rm_cand *c)
{
	const uint8_t *d = a->dom + c->off;
	unsigned i;

	if (kind != c->kind)
		return 0;
	for (i = 0; i < a->type_len; i++)
		if ((uint8_t)type[i] != rm_lower(a->type[i]))
			return 0;
	if (type[i] != '\0')
		return 0;
	if (kind == DP_ROUTE_ANY)
		return pattern[0] == '*' && pattern[1] == '\0';
	if (kind == DP_ROUTE_SUFFIX) {
		if (pattern[0] != '*')
			return 0;
		pattern++;
	}
	for (i = 0; i < c->len; i++)
		if (pattern[i] == '\0' || (uint8_t)pattern[i] != rm_lower(d[i]))
			return 0;
	return pattern[i] == '\0';
}

static int rm_eq_fold(const uint8_t *x, const char *lower, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rm_lower(x[i]) != (uint8_t)lower[i])
			return 0;
	return 1;
}

int dp_rm_match(const struct dp_rm_pattern *p, const uint8_t *addr, size_t len)
{
	struct dp_rm_addr a;
	size_t sl;

	if (dp_rm_parse(addr, len, &a) != 0)
		return 0;
	if (a.type_len != p->type_len || !rm_eq_fold(a.type, p->type, a.type_len))
		return 0;
	switch (p->kind) {
	case DP_ROUTE_ANY:
		return 1;
	case DP_ROUTE_EXACT:
		return a.dom_len == p->len && rm_eq_fold(a.dom, p->pattern, p->len);
	case DP_ROUTE_SUFFIX:
		/* "*" stands for one byte or more before the separator. */
		sl = p->len - 1u;
		return a.dom_len > sl && rm_eq_fold(a.dom + a.dom_len - sl, p->pattern + 1, sl);
	}
	return 0;
}

/* ---- target selection ---------------------------------------------------------- */

uint32_t dp_rm_select(const struct dp_route_target *t, unsigned n, dp_conn_up_fn up, void *ctx,
		      uint64_t hash)
{
	unsigned i = 0, j, end, nup, k;
	uint32_t first;

	/* The common route: one target, no group to walk, nothing to pick. */
	if (n == 1)
		return up(ctx, t[0].conn_id) ? t[0].conn_id : 0;
	while (i < n) {
		for (end = i + 1; end < n && t[end].cost == t[i].cost; end++)
			;
		first = 0;
		nup = 0;
		for (j = i; j < end; j++) {
			if (up(ctx, t[j].conn_id)) {
				if (nup++ == 0)
					first = t[j].conn_id;
			}
		}
		if (nup != 0) {
			k = dp_rm_pick(hash, nup);
			for (j = i; j < end; j++)
				if (up(ctx, t[j].conn_id) && k-- == 0)
					return t[j].conn_id;
			return first; /* up states changed between the passes */
		}
		i = end;
	}
	return 0;
}

uint32_t dp_rm_choose(const struct dp_route_target *t, unsigned n, dp_conn_up_fn up,
		      dp_conn_up_fn holds, void *ctx, uint64_t hash)
{
	uint32_t id;
	unsigned i;

	/* One target: it is up, or it holds, or there is nowhere to go. */
	if (n == 1) {
		id = t[0].conn_id;
		return up(ctx, id) || (holds != NULL && holds(ctx, id)) ? id : 0;
	}
	id = dp_rm_select(t, n, up, ctx, hash);
	if (id != 0 || holds == NULL)
		return id;
	for (i = 0; i < n; i++)
		if (holds(ctx, t[i].conn_id))
			return t[i].conn_id;
	return 0;
}
