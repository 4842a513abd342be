/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The route index: address spaces -> targets, read by every worker at
 * packet rate, changed by the control thread.
 *
 * Structure: one DPDK rte_hash in lock-free read/write mode with 16-byte
 * keys (the 128-bit route key of route_match.h, computed straight from the
 * packet bytes) whose data is a pointer to an immutable struct dp_route.
 * A lookup probes the address's candidates in specificity order (exact,
 * suffixes longest first, "*"), skipping suffix lengths that no route has;
 * each hit is verified against the route's full type and pattern.
 *
 * Lifetimes (liburcu QSBR): a published struct dp_route never changes.
 * Replacing one publishes the new object in place (rte_hash updates the
 * data pointer atomically) and frees the old one with call_rcu(); deleting
 * one unlinks its key, waits for a grace period, then recycles the key slot
 * and frees the object. A reader may therefore use a route it looked up
 * until its next quiescent state, and never after.
 *
 * Roles:
 *  - Reader: a registered, online QSBR thread (rcu_register_thread()),
 *    typically a worker lcore, calling rcu_quiescent_state() between
 *    bursts. Lookups take no locks, allocate nothing and make no syscalls.
 *  - Writer: one thread at a time (the control thread). It must be a
 *    registered QSBR thread (call_rcu() asks for one) and must hold no route
 *    pointers across a writer call: dp_route_del() calls synchronize_rcu(),
 *    which liburcu runs with the caller offline, i.e. it is a quiescent
 *    state for the caller. The writer is thus never a reader of this table
 *    while it calls these functions.
 */
#ifndef GWART_DP_ROUTE_H
#define GWART_DP_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include <urcu-qsbr.h>

#include "route_match.h"
#include "tuning.h"

#define DP_ROUTE_TARGETS_MAX 256 /* targets per route */

struct dp_route { /* immutable once published */
	struct rcu_head rcu;
	uint8_t kind;	   /* DP_ROUTE_EXACT, DP_ROUTE_SUFFIX, DP_ROUTE_ANY */
	char type[17];	   /* normalised (lower case) */
	char pattern[256]; /* normalised: "notes.acme.com", "*.acme.com", "*" */
	uint16_t n_targets;
	struct dp_route_target targets[]; /* sorted by cost ascending, then as given */
};

struct dp_route_table;

/*
 * Create an empty table for up to max_routes routes (1 .. 2^26), its hash in
 * DPDK memory on socket_id. name must be unique among this process's DPDK
 * hashes (at most 27 bytes are used). Returns NULL with rte_errno set
 * (EINVAL, ENOMEM, EEXIST) on failure. Call after rte_eal_init(), from the
 * control thread.
 */
struct dp_route_table *dp_route_table_create(const char *name, uint32_t max_routes, int socket_id);

/*
 * Destroy the table: no readers may remain. Frees every route still in it,
 * then waits (rcu_barrier()) for the call_rcu() frees of routes it replaced
 * earlier, so that every route object is gone on return. Must not be called
 * from a call_rcu callback. NULL is a no-op.
 */
void dp_route_table_free(struct dp_route_table *t);

/* ---- writer side: one writer thread at a time (see the header comment) ---- */

/*
 * Add the route (type, pattern) -> tg[0..n), or replace the targets of an
 * existing route with the same normalised type and pattern. Targets are
 * copied and sorted by cost (stable). Returns 0; -EINVAL for a bad type or
 * pattern (see dp_rm_normalise()), n == 0 or n > DP_ROUTE_TARGETS_MAX,
 * conn_id 0, or one conn_id listed twice; -ENOSPC when the table holds
 * max_routes routes already; -EEXIST when the route's 128-bit key collides
 * with a different route's; -ENOMEM. On replace the old object is retired
 * with call_rcu(), after the generation was bumped.
 */
int dp_route_add(struct dp_route_table *t, const char *type, const char *pattern,
		 const struct dp_route_target *tg, unsigned n);

/*
 * Delete a route. Returns 0, -EINVAL (bad type or pattern) or -ENOENT.
 * Blocks for one grace period (synchronize_rcu()).
 */
int dp_route_del(struct dp_route_table *t, const char *type, const char *pattern);

/* Number of routes. Any thread; exact on the writer thread. */
uint32_t dp_route_count(const struct dp_route_table *t);

/*
 * Bumped (release) by every successful add or del, before the replaced or
 * deleted object is retired. A reader that cached route pointers together
 * with the generation it read (acquire) may keep using them while the
 * generation is unchanged, within its read-side section. Generations are
 * unique within the process: each table starts at, and each bump takes, the
 * next value of one process-wide counter, so a generation names one table
 * in one state and a cache never mistakes one table for another. Never 0.
 * Any thread.
 */
uint64_t dp_route_generation(const struct dp_route_table *t);

/*
 * Call cb for every route, in no particular order, until it returns
 * nonzero; returns that value, or 0. Writer thread only (or with writers
 * excluded otherwise); cb must not add or delete routes.
 */
int dp_route_foreach(const struct dp_route_table *t, int (*cb)(const struct dp_route *r, void *arg),
		     void *arg);

/* ---- reader side: registered, online QSBR threads ---- */

/*
 * The most specific route for the address (len bytes, "type:value"), or
 * NULL. The result is valid until the caller's next quiescent state.
 * Never fails otherwise; an address that does not parse has no route.
 */
const struct dp_route *dp_route_lookup(const struct dp_route_table *t, const uint8_t *addr,
				       size_t len);

/*
 * dp_route_lookup() for n addresses at once (n <= 64 is one bulk; larger n
 * is answered 64 at a time): one bulk hash lookup per specificity round
 * (exact, then each suffix rank, then "*"), only for the addresses still
 * unresolved, then the hit routes' first line and targets prefetched
 * together. out[i] is what dp_route_lookup() would return for addrs[i].
 */
void dp_route_lookup_bulk(const struct dp_route_table *t, const uint8_t *const addrs[],
			  const uint16_t lens[], unsigned n, const struct dp_route *out[]);

/*
 * The per-worker cache of resolved routes (one direct-mapped array, owned by
 * one reader thread: no atomics). An entry maps a destination's exact key
 * (dp_rm_dest.key: type and domain, whatever route answers them: exact,
 * suffix, "*" or none) to the route dp_route_lookup() gave for it and the
 * table generation that answer was read under. It is used only while that
 * generation is the table's current one, read after the thread's last
 * quiescent state: a route is retired only after a bump, and a bump that
 * this thread does not see yet cannot have waited for its grace period, so
 * the pointer is still safe until the thread's next quiescent state. A key
 * names a destination by its 128-bit key alone, the same trust the route
 * index's callers put in it to pick candidates (a collision between two
 * destinations' keys would share one answer). Zeroed: empty (generation 0 is
 * never current). Slot: key.hi's low bits (key.lo's are the index's
 * signature).
 */
struct dp_route_cache_ent {
	uint64_t key_lo;
	uint64_t key_hi;
	const struct dp_route *r; /* NULL: no route (cached as well) */
	uint64_t gen;
};

struct dp_route_cache {
	struct dp_route_cache_ent e[DP_ROUTE_CACHE_ENTRIES];
};

_Static_assert((DP_ROUTE_CACHE_ENTRIES & (DP_ROUTE_CACHE_ENTRIES - 1)) == 0,
	       "DP_ROUTE_CACHE_ENTRIES is a power of two");

static inline struct dp_route_cache_ent *dp_route_cache_slot(struct dp_route_cache *rc,
							     const struct dp_rm_key *k)
{
	return &rc->e[k->hi & (DP_ROUTE_CACHE_ENTRIES - 1)];
}

/* Start the miss on the slot d's lookup will read (a stage before it). */
static inline void dp_route_cache_prefetch(struct dp_route_cache *rc, const struct dp_rm_dest *d)
{
	__builtin_prefetch(dp_route_cache_slot(rc, &d->key), 0, 3);
}

/*
 * dp_route_lookup() for n destinations (dp_rm_dest: split and exact key
 * computed once, from the frame parser's split), through the caller's cache:
 * a current entry with the same key answers at once; the misses go to the
 * index in bulk (as dp_route_lookup_bulk(), with the exact round's keys
 * already computed) and their answers, no route included, are cached under
 * the generation read at the start of this call. out[i] is what
 * dp_route_lookup() would return for d[i]'s bytes. Returns how many the
 * cache answered. Reader side: the thread that owns @rc, online, between
 * two quiescent states (the table's generation is read here, after the last
 * one, which is what makes the cached pointers safe).
 */
unsigned dp_route_lookup_dests(const struct dp_route_table *t, struct dp_route_cache *rc,
			       const struct dp_rm_dest *const d[], unsigned n,
			       const struct dp_route *out[]);

/*
 * This process's route key secret (route_match.h): every table's keys come
 * from it, so the dp_rm_dest given to dp_route_lookup_dests() must be made
 * with it (dp_rm_dest_init_k() / dp_rm_dest_parse_k()). Random, set before
 * main(); any thread, any time.
 */
const struct dp_rm_secret *dp_route_key_secret(void);

/* ---- diagnostics ---- */

/*
 * Tests only: when fn is set, a retired route whose grace period has ended
 * is handed to fn(r, arg) instead of being freed; fn owns it and releases it
 * with dp_route_release(). Process-wide; set it before creating tables and
 * clear it only after rcu_barrier(). fn runs on liburcu's call_rcu thread or
 * on the writer thread.
 */
void dp_route_set_reclaim_hook(void (*fn)(struct dp_route *r, void *arg), void *arg);

/* Free a route object handed to a reclaim hook (route objects live in DPDK
 * memory: rte_free()). */
void dp_route_release(struct dp_route *r);

#endif
