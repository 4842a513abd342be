/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Address-space matching: the pure half of routing (no DPDK, no I/O, no
 * allocation), shared by the route index (route.c), the control plane's
 * validation and the tests.
 *
 * An address is "type:value"; its routing domain is the text after the
 * value's last '@', else the whole value (the same split as gw_addr_split()).
 * A route is (type, pattern), the pattern one of
 *   DP_ROUTE_EXACT   "notes.acme.com"   that domain only
 *   DP_ROUTE_SUFFIX  "*.acme.com"       domains ending in ".acme.com" with at
 *                    ("*" "/O=Acme")    least one byte before the separator
 *                                       ('.' or '/'); not "acme.com" itself
 *   DP_ROUTE_ANY     "*"                every address of that type
 * Types and domains compare ASCII-case-insensitively. The most specific
 * route wins: exact, then suffixes longest first, then "*".
 *
 * Lookup never builds strings: an address yields candidates (slices of its
 * domain, in specificity order) and each candidate's 128-bit key is computed
 * straight from the packet bytes, case-folding as it hashes; the control
 * plane computes the same key from a normalised pattern. Keys are for this
 * process only: never persist them or send them anywhere.
 *
 * Threading: every function is pure and reentrant; callable from any thread
 * (workers included) without locks or RCU. dp_rm_select() and
 * dp_rm_choose() call the caller's callbacks, whose own contract applies.
 */
#ifndef GWART_DP_ROUTE_MATCH_H
#define GWART_DP_ROUTE_MATCH_H

#include <stddef.h>
#include <stdint.h>

/* Route kinds, most specific first (numeric order = specificity order). */
#define DP_ROUTE_EXACT 1
#define DP_ROUTE_SUFFIX 2
#define DP_ROUTE_ANY 3

#define DP_RM_TYPE_MAX 16  /* bytes of an address type: [a-z0-9-] */
#define DP_RM_ADDR_MAX 255 /* bytes of an address (== GW_DEST_MAX) */
/* Longest routing domain: an address with a 1-byte type and its ':'. */
#define DP_RM_DOMAIN_MAX (DP_RM_ADDR_MAX - 2)
#define DP_RM_PATTERN_MAX DP_RM_DOMAIN_MAX /* bytes of a normalised pattern */
/* Suffix candidates need a byte before and after their separator, so a
 * domain has at most DOMAIN_MAX - 2 of them (a separator may be that byte:
 * a domain of dots has one at every inner position); plus exact and "*". */
#define DP_RM_SUFFIX_MAX (DP_RM_DOMAIN_MAX - 2)
#define DP_RM_CAND_MAX (DP_RM_SUFFIX_MAX + 2)

/*
 * A key secret, mixed into the type's hash state and so into every key:
 * the route index keeps a random one per process (dp_route_key_secret(),
 * route.c), because the workers' route cache trusts a matching 128-bit key
 * without the index's text check, and with public constants alone a
 * connector could search offline for a destination whose key equals
 * another's and have its messages take that one's route. Every function
 * below without _k uses no secret (NULL: the public keys, for tests and
 * tools); keys of one table must all come from the same secret.
 */
struct dp_rm_secret {
	uint64_t s[2];
};

/* 128-bit route key: the fixed-length key of the route index. */
struct dp_rm_key {
	uint64_t lo; /* its low 32 bits are the hash table signature */
	uint64_t hi;
};

/* A parsed address: views into the caller's bytes, plus the type's hash
 * state so that each candidate key costs only its own text. */
struct dp_rm_addr {
	const uint8_t *type; /* not folded; type_len 1..DP_RM_TYPE_MAX */
	const uint8_t *dom;  /* not folded; dom_len 1..DP_RM_DOMAIN_MAX */
	uint16_t type_len;
	uint16_t dom_len;
	uint64_t tseed[2]; /* hash of the folded type */
	uint64_t tword[2]; /* the folded type, zero-padded to 16 bytes */
};

/* A candidate: kind plus the slice dom[off, off + len) of the parsed
 * address (for DP_ROUTE_ANY: len 0). */
struct dp_rm_cand {
	uint8_t kind;
	uint8_t off;
	uint8_t len;
};

/* A normalised route pattern, as the control plane stores it. */
struct dp_rm_pattern {
	uint8_t kind;
	uint8_t type_len;
	uint16_t len;			     /* strlen(pattern) */
	char type[DP_RM_TYPE_MAX + 1];	     /* lower case, NUL-terminated */
	char pattern[DP_RM_PATTERN_MAX + 1]; /* lower case: "x.y", "*.y", "*" */
};

/*
 * Validate and normalise a route's type and pattern (both NUL-terminated)
 * into *out. Returns 0, or -EINVAL with *why (if why != NULL) set to a
 * static, human-readable reason. Control-plane use; no allocation.
 */
int dp_rm_normalise(const char *type, const char *pattern, struct dp_rm_pattern *out,
		    const char **why);

/*
 * Split an address of len bytes into type and routing domain and hash the
 * type. Returns 0, or -EINVAL when it is not "type:value" with a valid type
 * (1..16 of [A-Za-z0-9-]) and a non-empty domain of at most
 * DP_RM_DOMAIN_MAX bytes. Agrees with gw_addr_split() on every address
 * that one accepts; does not look for control bytes (gw_wire_parse() has).
 */
int dp_rm_parse(const uint8_t *addr, size_t len, struct dp_rm_addr *a);
int dp_rm_parse_k(const struct dp_rm_secret *sec, const uint8_t *addr, size_t len,
		  struct dp_rm_addr *a);

/*
 * A destination ready for routing, from one pass over its bytes: the split
 * the frame parser found (gw_wire_parse(): dest_type_len, dest_dom_off) and
 * the key of its exact candidate (type, DP_ROUTE_EXACT, domain), hashed once.
 * The key names the destination's routing identity (type and domain, case
 * folded): the route cache's key, its lo the hash it and the route index
 * index by. Views the caller's bytes.
 */
struct dp_rm_dest {
	struct dp_rm_key key;
	const uint8_t *addr; /* "type:value", len bytes */
	uint16_t len;
	uint8_t type_len; /* type is addr[0, type_len) */
	uint8_t dom_off;  /* routing domain is addr[dom_off, len) */
};

/*
 * Fill *d from a split that gw_wire_parse() or gw_addr_split() produced for
 * addr[0, len): no scan, one hash over the domain. Checks only the bounds
 * and the ':' (a split from elsewhere is the caller's to get right: the type
 * bytes and "after the last '@'" are not re-checked). Returns 0, or -EINVAL
 * when the split is out of bounds or longer than dp_rm_parse() accepts.
 */
int dp_rm_dest_init(struct dp_rm_dest *d, const uint8_t *addr, size_t len, size_t type_len,
		    size_t dom_off);
int dp_rm_dest_init_k(const struct dp_rm_secret *sec, struct dp_rm_dest *d, const uint8_t *addr,
		      size_t len, size_t type_len, size_t dom_off);

/* dp_rm_parse()'s split, then dp_rm_dest_init(): for callers that have no
 * parser split. Returns 0 or -EINVAL (the address does not parse). */
int dp_rm_dest_parse(struct dp_rm_dest *d, const uint8_t *addr, size_t len);
int dp_rm_dest_parse_k(const struct dp_rm_secret *sec, struct dp_rm_dest *d, const uint8_t *addr,
		       size_t len);

/* The parsed address of a destination (no scan: the type is hashed again),
 * as dp_rm_parse() gives it; dp_rm_cand_key() of its exact candidate is
 * d->key. */
void dp_rm_dest_addr(const struct dp_rm_dest *d, struct dp_rm_addr *a);
void dp_rm_dest_addr_k(const struct dp_rm_secret *sec, const struct dp_rm_dest *d,
		       struct dp_rm_addr *a);

/*
 * Fill out[] with a's candidates in specificity order: exact, then the
 * suffixes longest first, then "*"; returns how many (2..DP_RM_CAND_MAX).
 * sfx_mask (NULL: all) is a 256-bit set of suffix text lengths (separator
 * included) worth trying, bit L in sfx_mask[L / 64]; a suffix whose length
 * is absent is skipped, which keeps long domains cheap when the table holds
 * few distinct suffix lengths.
 */
unsigned dp_rm_candidates(const struct dp_rm_addr *a, const uint64_t sfx_mask[4],
			  struct dp_rm_cand out[DP_RM_CAND_MAX]);

/*
 * Key of (type, kind, text), case-folding type and text as it hashes. For
 * EXACT the text is the domain, for SUFFIX the suffix with its separator
 * (".acme.com" for "*.acme.com"), for ANY the empty string. Deterministic
 * within a process; two lanes of 64-bit multiply-fold mixing.
 */
struct dp_rm_key dp_rm_key(const uint8_t *type, size_t type_len, unsigned kind, const uint8_t *text,
			   size_t len);
struct dp_rm_key dp_rm_key_k(const struct dp_rm_secret *sec, const uint8_t *type, size_t type_len,
			     unsigned kind, const uint8_t *text, size_t len);

/* Key of candidate c of a; equals dp_rm_pattern_key() of the route that c names. */
struct dp_rm_key dp_rm_cand_key(const struct dp_rm_addr *a, const struct dp_rm_cand *c);

/* Key of a normalised pattern. */
struct dp_rm_key dp_rm_pattern_key(const struct dp_rm_pattern *p);
struct dp_rm_key dp_rm_pattern_key_k(const struct dp_rm_secret *sec, const struct dp_rm_pattern *p);

/*
 * 1 if the route (normalised type, kind, normalised pattern; NUL-terminated)
 * is exactly the one candidate c of a names, else 0. The route index calls
 * it on every hash hit, so a 128-bit key collision reads as a miss.
 */
int dp_rm_cand_is(const char *type, unsigned kind, const char *pattern, const struct dp_rm_addr *a,
		  const struct dp_rm_cand *c);

/*
 * 1 if the normalised pattern p covers the address (at any specificity),
 * 0 if not or if the address does not parse. A slow, obvious reference
 * for tests and for "which routes cover this address" tooling.
 */
int dp_rm_match(const struct dp_rm_pattern *p, const uint8_t *addr, size_t len);

/* ---- word helpers (also used by the route index's hit verification) ---- */

/* Little-endian 8-byte load from any alignment. */
static inline uint64_t dp_rm_load8(const void *p)
{
	uint64_t x;

	__builtin_memcpy(&x, p, sizeof(x));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* Little-endian load of n (0..7) bytes, zero-padded; reads only p[0, n). */
static inline uint64_t dp_rm_load_tail(const uint8_t *p, size_t n)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

/*
 * ASCII upper -> lower case for the 8 bytes of x at once (SWAR): a byte
 * below 0x80 whose low 7 bits are in 'A'..'Z' gets 0x20 added; every other
 * byte, UTF-8 included, is left alone. The additions cannot carry between
 * bytes because the high bit of each byte is masked off first.
 */
static inline uint64_t dp_rm_fold8(uint64_t x)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7full, hi = 0x8080808080808080ull;
	uint64_t h = x & lo7;
	uint64_t ge_a = h + 0x3f3f3f3f3f3f3f3full; /* high bit: byte >= 'A' */
	uint64_t gt_z = h + 0x2525252525252525ull; /* high bit: byte >  'Z' */
	uint64_t upper = (ge_a ^ gt_z) & ~x & hi;

	return x | (upper >> 2);
}

/* ---- target selection ---- */

struct dp_route_target {
	uint32_t conn_id;
	uint32_t cost;
};

/* Returns 1 if connector conn_id's session is up (or, as dp_rm_choose()'s
 * holds, 1 if it may hold a message). Called from the thread that called
 * dp_rm_select() or dp_rm_choose(). */
typedef int (*dp_conn_up_fn)(void *ctx, uint32_t conn_id);

/*
 * Lowest cost among targets whose connector is up; among equal lowest costs
 * pick the k-th up one, k = dp_rm_pick(hash, count) (deterministic for a
 * given hash and set of up targets). Targets are sorted by cost ascending.
 * Returns conn_id, 0 if none is up. A group's up() answers are read twice;
 * if they change in between, the first up target of that group is returned.
 * A single target is checked once, directly.
 */
uint32_t dp_rm_select(const struct dp_route_target *t, unsigned n, dp_conn_up_fn up, void *ctx,
		      uint64_t hash);

/*
 * Which of n (>= 1) equal choices a hash picks: floor(hash * n / 2^64)
 * (Lemire's multiply-shift range reduction): one multiply instead of a
 * 64-bit division, as even as hash % n over uniform hashes (each choice
 * gets 2^64 / n hashes, give or take one), and driven by the hash's high
 * bits, the best mixed of dp_rm_msg_hash()'s.
 */
static inline unsigned dp_rm_pick(uint64_t hash, unsigned n)
{
	return (unsigned)(((__uint128_t)hash * n) >> 64);
}

/*
 * The hash that spreads messages over a cost group: a function of the
 * message's origin connector and origin_seq only, so every copy of one
 * message (a retransmission, a failover move) hashes alike.
 */
static inline uint64_t dp_rm_msg_hash(uint32_t origin, uint64_t origin_seq)
{
	return (origin_seq * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)origin << 17);
}

/*
 * The destination of a message among route targets t[0, n): the
 * dp_rm_select() choice among those up(); if none is up and @holds is not
 * NULL, the first target (lowest cost, in order) for which holds() answers
 * 1: a connector that exists and may keep the message in custody until its
 * session returns. NULL @holds: only an up target will do (failover).
 * Returns conn_id, 0 if none. Both callbacks get @ctx and are called from
 * this thread.
 */
uint32_t dp_rm_choose(const struct dp_route_target *t, unsigned n, dp_conn_up_fn up,
		      dp_conn_up_fn holds, void *ctx, uint64_t hash);

#endif
