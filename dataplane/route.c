/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route index: rte_hash (lock-free readers, one writer) of 128-bit route
 * keys -> immutable struct dp_route, lifetimes under liburcu QSBR. See
 * route.h for the threading contract.
 *
 * Why rte_hash rather than a liburcu lfht: at 10^5..10^6 routes every
 * dependent pointer hop misses the cache; rte_hash's bulk lookup prefetches
 * the buckets of up to 64 keys at once and compares 16-byte keys with SIMD
 * (measured on the development host: ~130-170 cycles at 100k random
 * lookups against ~400-630 for cds_lfht_lookup). The lock-free mode leaves reclamation to us: deleted key
 * slots are recycled only after a grace period (NO_FREE_ON_DEL), which is
 * what liburcu gives us anyway for the route objects.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "route.h"
#include "route_match.h"

/*
 * This process's route key secret (route_match.h: why), random, set before
 * main() so that every key of every table (control's pattern keys, the
 * workers' destination keys) comes from the same one. Written once by the
 * constructor, read-only afterwards. A failed getrandom() (never seen)
 * falls back to the TSC and an address, still unknown to a remote sender.
 */
static struct dp_rm_secret route_secret;

__attribute__((constructor)) static void route_secret_init(void)
{
	uint64_t s[2];

	if (getrandom(s, sizeof(s), 0) != (ssize_t)sizeof(s)) {
		s[0] = rte_rdtsc() ^ (uint64_t)(uintptr_t)&s;
		s[1] = s[0] * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)&route_secret;
	}
	route_secret.s[0] = s[0];
	route_secret.s[1] = s[1];
}

const struct dp_rm_secret *dp_route_key_secret(void)
{
	return &route_secret;
}

#define DP_ROUTE_NAME_MAX 24	      /* rte_hash derives ring names from it */
#define DP_ROUTE_TABLE_MAX (1u << 26) /* routes per table */

_Static_assert(sizeof(struct dp_rm_key) == 16, "16-byte hash keys");
_Static_assert(sizeof(((struct dp_route *)0)->type) == DP_RM_TYPE_MAX + 1, "type size");
_Static_assert(sizeof(((struct dp_route *)0)->pattern) >= DP_RM_PATTERN_MAX + 1, "pattern size");

struct dp_route_table {
	/* Read by every lookup: the first cache line. */
	struct rte_hash *h;
	uint64_t sfx_mask[4]; /* suffix text lengths some route has (bit L) */
	uint32_t n_exact;     /* routes per kind: a zero skips that round */
	uint32_t n_any;
	uint64_t generation; /* see dp_route_generation() */
	/* Writer only (count is also read, relaxed, by dp_route_count()). */
	uint32_t count;
	uint32_t max_routes;
	int socket_id;
	uint32_t sfx_count[DP_RM_DOMAIN_MAX + 1]; /* routes per suffix length */
} __rte_cache_aligned;

static void (*dp_route_reclaim_fn)(struct dp_route *r, void *arg);
static void *dp_route_reclaim_arg;

/* ---- objects ---------------------------------------------------------------- */

static void dp_route_reclaim(struct dp_route *r)
{
	void (*fn)(struct dp_route *, void *) =
	    __atomic_load_n(&dp_route_reclaim_fn, __ATOMIC_ACQUIRE);

	if (fn != NULL)
		fn(r, dp_route_reclaim_arg);
	else
		rte_free(r);
}

static void dp_route_free_rcu(struct rcu_head *head)
{
	dp_route_reclaim(caa_container_of(head, struct dp_route, rcu));
}

void dp_route_set_reclaim_hook(void (*fn)(struct dp_route *r, void *arg), void *arg)
{
	dp_route_reclaim_arg = arg;
	__atomic_store_n(&dp_route_reclaim_fn, fn, __ATOMIC_RELEASE);
}

void dp_route_release(struct dp_route *r) { rte_free(r); }

/* Does the published route r carry the normalised pattern p? */
static int dp_route_is(const struct dp_route *r, const struct dp_rm_pattern *p)
{
	return r->kind == p->kind && strcmp(r->type, p->type) == 0 &&
	       strcmp(r->pattern, p->pattern) == 0;
}

/* The routing signature rte_hash buckets by: the key is already mixed. */
static uint32_t dp_route_sig_fn(const void *key, uint32_t len, uint32_t init)
{
	const struct dp_rm_key *k = key;

	RTE_SET_USED(len);
	RTE_SET_USED(init);
	return (uint32_t)k->lo;
}

static inline hash_sig_t dp_route_sig(const struct dp_rm_key *k) { return (hash_sig_t)k->lo; }

/* ---- per-kind bookkeeping (writer) -------------------------------------------- */

/*
 * Lookups skip rounds no route can answer: the exact round when there are
 * no exact routes, suffix lengths no suffix route has, the "*" round when
 * there is none. Set before a route is published and cleared after it is
 * unlinked, so a reader that misses a bit has merely looked up a moment
 * before the add or after the delete.
 */
static void dp_route_index_add(struct dp_route_table *t, unsigned kind, unsigned sfx_len)
{
	switch (kind) {
	case DP_ROUTE_EXACT:
		__atomic_store_n(&t->n_exact, t->n_exact + 1, __ATOMIC_RELAXED);
		break;
	case DP_ROUTE_ANY:
		__atomic_store_n(&t->n_any, t->n_any + 1, __ATOMIC_RELAXED);
		break;
	default:
		if (t->sfx_count[sfx_len]++ == 0)
			__atomic_store_n(&t->sfx_mask[sfx_len >> 6],
					 t->sfx_mask[sfx_len >> 6] | 1ull << (sfx_len & 63),
					 __ATOMIC_RELAXED);
		break;
	}
}

static void dp_route_index_del(struct dp_route_table *t, unsigned kind, unsigned sfx_len)
{
	switch (kind) {
	case DP_ROUTE_EXACT:
		__atomic_store_n(&t->n_exact, t->n_exact - 1, __ATOMIC_RELAXED);
		break;
	case DP_ROUTE_ANY:
		__atomic_store_n(&t->n_any, t->n_any - 1, __ATOMIC_RELAXED);
		break;
	default:
		if (--t->sfx_count[sfx_len] == 0)
			__atomic_store_n(&t->sfx_mask[sfx_len >> 6],
					 t->sfx_mask[sfx_len >> 6] & ~(1ull << (sfx_len & 63)),
					 __ATOMIC_RELAXED);
		break;
	}
}

/* The process-wide source of generations (dp_route_generation()): unique
 * across tables, so that a per-worker cache never takes one table's state
 * for another's. Writers of different tables may race: atomic. */
static uint64_t dp_route_gen_src;

static uint64_t dp_route_gen_next(void)
{
	return __atomic_add_fetch(&dp_route_gen_src, 1, __ATOMIC_RELAXED);
}

static void dp_route_bump(struct dp_route_table *t)
{
	__atomic_store_n(&t->generation, dp_route_gen_next(), __ATOMIC_RELEASE);
}

/* ---- table ------------------------------------------------------------------ */

struct dp_route_table *dp_route_table_create(const char *name, uint32_t max_routes, int socket_id)
{
	struct rte_hash_parameters hp = {0};
	struct dp_route_table *t;
	uint32_t entries;

	if (name == NULL || strlen(name) > DP_ROUTE_NAME_MAX || max_routes == 0 ||
	    max_routes > DP_ROUTE_TABLE_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc_socket("dp_route_table", sizeof(*t), RTE_CACHE_LINE_SIZE, socket_id);
	if (t == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	/*
	 * A quarter of headroom keeps cuckoo displacement short and the
	 * extendable buckets (which guarantee that max_routes always fit)
	 * nearly unused, so misses, the common case of the candidate walk,
	 * stay within two buckets.
	 */
	entries = RTE_MAX(max_routes + max_routes / 4, 64u);
	hp.name = name;
	hp.entries = entries;
	hp.key_len = sizeof(struct dp_rm_key);
	hp.hash_func = dp_route_sig_fn;
	hp.socket_id = socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			RTE_HASH_EXTRA_FLAGS_NO_FREE_ON_DEL | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	t->h = rte_hash_create(&hp);
	if (t->h == NULL) {
		int e = rte_errno;

		rte_free(t);
		rte_errno = e != 0 ? e : ENOMEM;
		return NULL;
	}
	t->max_routes = max_routes;
	t->socket_id = socket_id;
	t->generation = dp_route_gen_next(); /* >= 1: a zeroed cache entry is never current */
	return t;
}

void dp_route_table_free(struct dp_route_table *t)
{
	const void *key;
	void *data;
	uint32_t next = 0;

	if (t == NULL)
		return;
	/* No readers remain: the routes still published can go at once. */
	while (rte_hash_iterate(t->h, &key, &data, &next) >= 0)
		rte_free(data);
	rte_hash_free(t->h);
	rte_free(t);
	/* Those replaced earlier may still sit in call_rcu queues. */
	rcu_barrier();
}

uint32_t dp_route_count(const struct dp_route_table *t)
{
	return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}

uint64_t dp_route_generation(const struct dp_route_table *t)
{
	return __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE);
}

int dp_route_foreach(const struct dp_route_table *t, int (*cb)(const struct dp_route *r, void *arg),
		     void *arg)
{
	const void *key;
	void *data;
	uint32_t next = 0;
	int rc;

	while (rte_hash_iterate(t->h, &key, &data, &next) >= 0) {
		rc = cb(data, arg);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- writer ------------------------------------------------------------------ */

static int dp_route_check_targets(const struct dp_route_target *tg, unsigned n)
{
	unsigned i, j;

	if (tg == NULL || n == 0 || n > DP_ROUTE_TARGETS_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (tg[i].conn_id == 0)
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (tg[j].conn_id == tg[i].conn_id)
				return -EINVAL;
	}
	return 0;
}

/*
 * Route objects live in DPDK memory on the table's socket: hugepage-backed
 * and NUMA-local on production hosts, so that a lookup's object access
 * costs no extra TLB miss. Zeroed and cache-line aligned: the hit check
 * relies on the zero padding after type and pattern, and the first line
 * holds everything it reads for patterns up to 29 bytes.
 */
static struct dp_route *dp_route_new(const struct dp_route_table *t, const struct dp_rm_pattern *p,
				     const struct dp_route_target *tg, unsigned n)
{
	struct dp_route *r = rte_zmalloc_socket("dp_route", sizeof(*r) + n * sizeof(r->targets[0]),
						RTE_CACHE_LINE_SIZE, t->socket_id);
	unsigned i, j;

	if (r == NULL)
		return NULL;
	r->kind = p->kind;
	memcpy(r->type, p->type, p->type_len + 1u);
	memcpy(r->pattern, p->pattern, p->len + 1u);
	r->n_targets = (uint16_t)n;
	/* Stable insertion sort by cost: equal costs keep the given order,
	 * which fixes what dp_rm_pick() picks. */
	for (i = 0; i < n; i++) {
		struct dp_route_target x = tg[i];

		for (j = i; j > 0 && r->targets[j - 1].cost > x.cost; j--)
			r->targets[j] = r->targets[j - 1];
		r->targets[j] = x;
	}
	return r;
}

int dp_route_add(struct dp_route_table *t, const char *type, const char *pattern,
		 const struct dp_route_target *tg, unsigned n)
{
	struct dp_rm_pattern p;
	struct dp_rm_key key;
	struct dp_route *r, *old;
	void *data;
	unsigned sfx_len;
	int rc;

	if (dp_rm_normalise(type, pattern, &p, NULL) != 0)
		return -EINVAL;
	rc = dp_route_check_targets(tg, n);
	if (rc != 0)
		return rc;
	key = dp_rm_pattern_key_k(&route_secret, &p);
	sfx_len = p.kind == DP_ROUTE_SUFFIX ? p.len - 1u : 0;

	if (rte_hash_lookup_with_hash_data(t->h, &key, dp_route_sig(&key), &data) >= 0) {
		old = data;
		if (!dp_route_is(old, &p))
			return -EEXIST; /* 128-bit key collision: refuse, never shadow */
		r = dp_route_new(t, &p, tg, n);
		if (r == NULL)
			return -ENOMEM;
		/*
		 * Replace: rte_hash stores the new data pointer with release
		 * semantics, so a reader sees the old route or the whole new
		 * one. Readers may still hold the old one until their next
		 * quiescent state: bump the generation, then retire it.
		 */
		rc = rte_hash_add_key_with_hash_data(t->h, &key, dp_route_sig(&key), r);
		if (rc < 0) {
			rte_free(r);
			return rc;
		}
		dp_route_bump(t);
		call_rcu(&old->rcu, dp_route_free_rcu);
		return 0;
	}

	if (t->count >= t->max_routes)
		return -ENOSPC;
	r = dp_route_new(t, &p, tg, n);
	if (r == NULL)
		return -ENOMEM;
	dp_route_index_add(t, p.kind, sfx_len);
	rc = rte_hash_add_key_with_hash_data(t->h, &key, dp_route_sig(&key), r);
	if (rc < 0) {
		dp_route_index_del(t, p.kind, sfx_len);
		rte_free(r);
		return rc == -ENOSPC ? -ENOSPC : rc;
	}
	__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELAXED);
	dp_route_bump(t);
	return 0;
}

int dp_route_del(struct dp_route_table *t, const char *type, const char *pattern)
{
	struct dp_rm_pattern p;
	struct dp_rm_key key;
	struct dp_route *r;
	void *data;
	int32_t pos;

	if (dp_rm_normalise(type, pattern, &p, NULL) != 0)
		return -EINVAL;
	key = dp_rm_pattern_key_k(&route_secret, &p);
	if (rte_hash_lookup_with_hash_data(t->h, &key, dp_route_sig(&key), &data) < 0)
		return -ENOENT;
	r = data;
	if (!dp_route_is(r, &p))
		return -ENOENT; /* the key belongs to a different route */

	/* 1. Unlink: from here on no new lookup can find the key or r. */
	pos = rte_hash_del_key_with_hash(t->h, &key, dp_route_sig(&key));
	if (pos < 0)
		return -ENOENT;
	/* 2. Unpublish the bookkeeping and move the generation on, so that
	 *    per-worker caches stop trusting pointers they hold. */
	dp_route_index_del(t, p.kind, p.kind == DP_ROUTE_SUFFIX ? p.len - 1u : 0);
	__atomic_store_n(&t->count, t->count - 1, __ATOMIC_RELAXED);
	dp_route_bump(t);
	/* 3. Wait for every reader that may have found the key slot or r
	 *    before step 1 to pass a quiescent state. */
	synchronize_rcu();
	/* 4. Nobody can be reading the slot now: recycle it (and an
	 *    extendable bucket it emptied) for future adds. */
	rte_hash_free_key_with_position(t->h, pos);
	/* 5. Free the object. */
	dp_route_reclaim(r);
	return 0;
}

/* ---- reader ------------------------------------------------------------------ */

/* Per-table state a lookup snapshots once (relaxed: see dp_route_index_add()). */
struct dp_route_view {
	uint64_t sfx_mask[4];
	uint32_t n_exact;
	uint32_t n_any;
};

static inline void dp_route_view(const struct dp_route_table *t, struct dp_route_view *v)
{
	unsigned i;

	for (i = 0; i < 4; i++)
		v->sfx_mask[i] = __atomic_load_n(&t->sfx_mask[i], __ATOMIC_RELAXED);
	v->n_exact = __atomic_load_n(&t->n_exact, __ATOMIC_RELAXED);
	v->n_any = __atomic_load_n(&t->n_any, __ATOMIC_RELAXED);
}

/*
 * The next candidate of a parsed address in specificity order, resuming at
 * *stage / *pos (stage 0 exact, 1 suffixes from dom[*pos], 2 "*", 3 none
 * left). Same order as dp_rm_candidates(), generated lazily so that the
 * common case never looks at the rest of a long domain.
 */
static inline int dp_route_next_cand(const struct dp_route_view *v, const struct dp_rm_addr *a,
				     uint8_t *stage, uint8_t *pos, struct dp_rm_cand *c)
{
	unsigned i, dl = a->dom_len;

	switch (*stage) {
	case 0:
		*stage = 1;
		if (v->n_exact != 0) {
			*c = (struct dp_rm_cand){DP_ROUTE_EXACT, 0, (uint8_t)dl};
			return 1;
		}
		/* fall through */
	case 1:
		for (i = *pos; i + 1 < dl; i++) {
			unsigned l = dl - i;

			if ((a->dom[i] == '.' || a->dom[i] == '/') &&
			    (v->sfx_mask[l >> 6] & (1ull << (l & 63)))) {
				*pos = (uint8_t)(i + 1);
				*c = (struct dp_rm_cand){DP_ROUTE_SUFFIX, (uint8_t)i, (uint8_t)l};
				return 1;
			}
		}
		*stage = 2;
		/* fall through */
	case 2:
		*stage = 3;
		if (v->n_any != 0) {
			*c = (struct dp_rm_cand){DP_ROUTE_ANY, 0, 0};
			return 1;
		}
		/* fall through */
	default:
		return 0;
	}
}

/*
 * Is r the route candidate c of a names? dp_rm_cand_is() a word at a time:
 * type and pattern are zero-padded to the end of their arrays (objects are
 * zeroed), so the folded, zero-padded type words compare whole, and the
 * text compares in 8-byte words with one overlapping load for the tail.
 */
static inline int dp_route_verify(const struct dp_route *r, const struct dp_rm_addr *a,
				  const struct dp_rm_cand *c)
{
	const uint8_t *d = a->dom + c->off, *p = (const uint8_t *)r->pattern;
	unsigned n = c->len, i;

	if (r->kind != c->kind || dp_rm_load8(r->type) != a->tword[0] ||
	    dp_rm_load8(r->type + 8) != a->tword[1])
		return 0;
	switch (c->kind) {
	case DP_ROUTE_ANY:
		return p[0] == '*' && p[1] == '\0';
	case DP_ROUTE_SUFFIX:
		if (p[0] != '*')
			return 0;
		p++;
		break;
	}
	if (n < 8) {
		for (i = 0; i < n; i++)
			if (p[i] != (uint8_t)dp_rm_fold8(d[i]))
				return 0;
	} else {
		for (i = 0; i + 8 <= n; i += 8)
			if (dp_rm_fold8(dp_rm_load8(d + i)) != dp_rm_load8(p + i))
				return 0;
		if (i < n && dp_rm_fold8(dp_rm_load8(d + n - 8)) != dp_rm_load8(p + n - 8))
			return 0;
	}
	return p[n] == '\0';
}

const struct dp_route *dp_route_lookup(const struct dp_route_table *t, const uint8_t *addr,
				       size_t len)
{
	struct dp_route_view v;
	struct dp_rm_addr a;
	struct dp_rm_cand c;
	uint8_t stage = 0, pos = 1;

	if (unlikely(dp_rm_parse_k(&route_secret, addr, len, &a) != 0))
		return NULL;
	dp_route_view(t, &v);
	while (dp_route_next_cand(&v, &a, &stage, &pos, &c)) {
		struct dp_rm_key key = dp_rm_cand_key(&a, &c);
		void *data;

		if (rte_hash_lookup_with_hash_data(t->h, &key, dp_route_sig(&key), &data) >= 0) {
			const struct dp_route *r = data;

			/* The caller reads the targets next: start that miss now. */
			rte_prefetch0(&r->targets[0]);
			/* A 128-bit collision with another route reads as a miss. */
			if (likely(dp_route_verify(r, &a, &c)))
				return r;
		}
	}
	return NULL;
}

/*
 * The bulk walk over parsed addresses a[i], i in the mask todo (out[] of the
 * others is left alone; out[i] of those in todo is set, NULL if no route).
 * k0[i], if k0 is not NULL, is a[i]'s exact candidate key, already computed.
 * One round per specificity rank: each unresolved address offers its next
 * candidate; one bulk probe answers them all.
 */
static void dp_route_resolve(const struct dp_route_table *t, const struct dp_rm_addr a[],
			     const struct dp_rm_key *const k0[], uint64_t todo,
			     const struct dp_route *out[])
{
	struct dp_rm_cand c[RTE_HASH_LOOKUP_BULK_MAX];
	struct dp_rm_key keys[RTE_HASH_LOOKUP_BULK_MAX];
	const void *kp[RTE_HASH_LOOKUP_BULK_MAX];
	hash_sig_t sig[RTE_HASH_LOOKUP_BULK_MAX];
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	uint8_t stage[RTE_HASH_LOOKUP_BULK_MAX], pos[RTE_HASH_LOOKUP_BULK_MAX];
	uint8_t idx[RTE_HASH_LOOKUP_BULK_MAX];
	struct dp_route_view v;
	uint64_t left, hits;
	unsigned i, k, nk;

	dp_route_view(t, &v);
	for (left = todo; left != 0; left &= left - 1) {
		i = (unsigned)__builtin_ctzll(left);
		out[i] = NULL;
		stage[i] = 0;
		pos[i] = 1;
	}
	for (k = 0; k < RTE_HASH_LOOKUP_BULK_MAX; k++)
		kp[k] = &keys[k];

	while (todo != 0) {
		left = todo;
		nk = 0;
		while (left != 0) {
			i = (unsigned)__builtin_ctzll(left);
			left &= left - 1;
			if (!dp_route_next_cand(&v, &a[i], &stage[i], &pos[i], &c[i])) {
				todo &= ~(1ull << i); /* no route */
				continue;
			}
			if (k0 != NULL && c[i].kind == DP_ROUTE_EXACT)
				keys[nk] = *k0[i];
			else
				keys[nk] = dp_rm_cand_key(&a[i], &c[i]);
			sig[nk] = dp_route_sig(&keys[nk]);
			idx[nk++] = (uint8_t)i;
		}
		if (nk == 0)
			break;
		hits = 0;
		rte_hash_lookup_with_hash_bulk_data(t->h, kp, sig, nk, &hits, data);
		for (k = 0; k < nk; k++) {
			if (hits & (1ull << k)) {
				rte_prefetch0(data[k]);
				rte_prefetch0(&((const struct dp_route *)data[k])->targets[0]);
			}
		}
		for (k = 0; k < nk; k++) {
			const struct dp_route *r = data[k];

			i = idx[k];
			if ((hits & (1ull << k)) && likely(dp_route_verify(r, &a[i], &c[i]))) {
				out[i] = r;
				todo &= ~(1ull << i);
			}
		}
	}
}

void dp_route_lookup_bulk(const struct dp_route_table *t, const uint8_t *const addrs[],
			  const uint16_t lens[], unsigned n, const struct dp_route *out[])
{
	struct dp_rm_addr a[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t todo = 0;
	unsigned i;

	/* More than one bulk's worth: answer in slices rather than leave
	 * out[] entries unwritten. */
	while (n > RTE_HASH_LOOKUP_BULK_MAX) {
		dp_route_lookup_bulk(t, addrs, lens, RTE_HASH_LOOKUP_BULK_MAX, out);
		addrs += RTE_HASH_LOOKUP_BULK_MAX;
		lens += RTE_HASH_LOOKUP_BULK_MAX;
		out += RTE_HASH_LOOKUP_BULK_MAX;
		n -= RTE_HASH_LOOKUP_BULK_MAX;
	}
	for (i = 0; i < n; i++) {
		out[i] = NULL;
		if (likely(dp_rm_parse_k(&route_secret, addrs[i], lens[i], &a[i]) == 0))
			todo |= 1ull << i;
	}
	dp_route_resolve(t, a, NULL, todo, out);
}

unsigned dp_route_lookup_dests(const struct dp_route_table *t, struct dp_route_cache *rc,
			       const struct dp_rm_dest *const d[], unsigned n,
			       const struct dp_route *out[])
{
	struct dp_rm_addr a[RTE_HASH_LOOKUP_BULK_MAX];
	const struct dp_rm_key *k0[RTE_HASH_LOOKUP_BULK_MAX];
	const struct dp_route *res[RTE_HASH_LOOKUP_BULK_MAX];
	uint8_t mi[RTE_HASH_LOOKUP_BULK_MAX];
	uint64_t gen;
	unsigned i, k, nm = 0, hits = 0;

	while (n > RTE_HASH_LOOKUP_BULK_MAX) {
		hits += dp_route_lookup_dests(t, rc, d, RTE_HASH_LOOKUP_BULK_MAX, out);
		d += RTE_HASH_LOOKUP_BULK_MAX;
		out += RTE_HASH_LOOKUP_BULK_MAX;
		n -= RTE_HASH_LOOKUP_BULK_MAX;
	}
	/* Read once, after this thread's last quiescent state (see route.h):
	 * every entry of this generation points into the table as it is. */
	gen = dp_route_generation(t);
	for (i = 0; i < n; i++) {
		const struct dp_route_cache_ent *e = dp_route_cache_slot(rc, &d[i]->key);

		if (likely(e->gen == gen && e->key_lo == d[i]->key.lo &&
			   e->key_hi == d[i]->key.hi)) {
			out[i] = e->r;
			if (e->r != NULL) /* the caller reads the targets next */
				rte_prefetch0(&e->r->targets[0]);
			hits++;
			continue;
		}
		dp_rm_dest_addr_k(&route_secret, d[i], &a[nm]);
		k0[nm] = &d[i]->key;
		mi[nm++] = (uint8_t)i;
	}
	if (nm == 0)
		return hits;
	dp_route_resolve(t, a, k0, nm == 64 ? ~0ull : (1ull << nm) - 1, res);
	for (k = 0; k < nm; k++) {
		struct dp_route_cache_ent *e = dp_route_cache_slot(rc, k0[k]);

		i = mi[k];
		out[i] = res[k];
		e->key_lo = k0[k]->lo;
		e->key_hi = k0[k]->hi;
		e->r = res[k];
		e->gen = gen;
	}
	return hits;
}
