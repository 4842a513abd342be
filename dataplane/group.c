/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The groups-in-progress table (group.h): entries at stable numbers, an
 * open-addressing index over them (linear probing, backward-shift
 * deletion: Knuth's algorithm R), a stack of free entry numbers. Every
 * operation is O(1) expected, and at most DP_GROUP_INDEX probes: the index
 * is never more than half full.
 */
#include <string.h>

#include "group.h"

#define IDX_MASK (DP_GROUP_INDEX - 1u)

/* The index slot a key starts probing at: a 64-bit mix (splitmix64's
 * finaliser) of both halves, so that consecutive group ids of one origin
 * (they are origin seqs) and the same group id of several origins spread. */
static inline uint32_t home(uint32_t origin, uint64_t group)
{
	uint64_t x = group ^ ((uint64_t)origin << 32 | origin);

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x & IDX_MASK;
}

void dp_group_tab_init(struct dp_group_tab *t)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	/* Lowest numbers first out of the stack: entry 0 is taken first. */
	for (i = 0; i < DP_GROUPS_MAX; i++)
		t->free[i] = (uint16_t)(DP_GROUPS_MAX - 1 - i);
	t->n_free = DP_GROUPS_MAX;
}

/* The index slot holding (@origin, @group), or the empty slot where it
 * would go. */
static uint32_t probe(const struct dp_group_tab *t, uint32_t origin, uint64_t group)
{
	uint32_t i = home(origin, group), k;

	/* Never more than half full, so an empty slot ends every probe. */
	for (k = 0; k < DP_GROUP_INDEX; k++, i = (i + 1) & IDX_MASK) {
		const struct dp_group *g;

		if (t->index[i] == 0)
			return i;
		g = &t->e[t->index[i] - 1];
		if (g->origin == origin && g->group == group)
			return i;
	}
	return i; /* unreachable: the index has empty slots */
}

struct dp_group *dp_group_find(struct dp_group_tab *t, uint32_t origin, uint64_t group)
{
	uint32_t i;

	if (origin == 0 || t->n == 0)
		return NULL;
	i = probe(t, origin, group);
	return t->index[i] != 0 ? &t->e[t->index[i] - 1] : NULL;
}

struct dp_group *dp_group_add(struct dp_group_tab *t, uint32_t origin, uint64_t group)
{
	struct dp_group *g;
	uint32_t i, num;

	if (origin == 0 || t->n_free == 0)
		return NULL;
	i = probe(t, origin, group);
	if (t->index[i] != 0)
		return NULL; /* already there: the caller broke the contract */
	num = t->free[--t->n_free];
	g = &t->e[num];
	memset(g, 0, sizeof(*g));
	g->origin = origin;
	g->group = group;
	t->index[i] = (uint16_t)(num + 1);
	t->n++;
	return g;
}

void dp_group_del(struct dp_group_tab *t, struct dp_group *g)
{
	uint32_t num = (uint32_t)(g - t->e), i, j;

	if (num >= DP_GROUPS_MAX || g->origin == 0)
		return;
	i = probe(t, g->origin, g->group);
	if (t->index[i] != num + 1)
		return; /* not indexed: never happens for an entry in use */
	/* Backward shift: later entries of the same probe run move into the
	 * hole when their home is not cyclically within (hole, their slot]. */
	j = i;
	for (;;) {
		uint32_t h;
		const struct dp_group *o;

		t->index[i] = 0;
		for (;;) {
			j = (j + 1) & IDX_MASK;
			if (t->index[j] == 0)
				goto done;
			o = &t->e[t->index[j] - 1];
			h = home(o->origin, o->group);
			/* Stays if its home lies in (i, j] cyclically. */
			if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
				continue;
			break;
		}
		t->index[i] = t->index[j];
		i = j;
	}
done:
	g->origin = 0;
	t->free[t->n_free++] = (uint16_t)num;
	t->n--;
}

unsigned dp_group_walk(struct dp_group_tab *t, unsigned max,
		       void (*fn)(void *arg, struct dp_group *g), void *arg)
{
	unsigned k, seen = 0;

	if (t->n == 0)
		return 0;
	for (k = 0; k < max && k < DP_GROUPS_MAX; k++) {
		struct dp_group *g = &t->e[t->cursor];

		t->cursor = (t->cursor + 1) & (DP_GROUPS_MAX - 1);
		if (g->origin != 0) {
			seen++;
			fn(arg, g);
		}
	}
	return seen;
}
