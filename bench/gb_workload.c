/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workload: R routes, each an exact-domain address space
 * "smtp:r<index>.gb" served by one destination connector (index % D), and
 * the popularity with which generators pick them: uniform, or Zipf with
 * exponent s over the routes in index order (route 0 the most popular).
 * Addresses are formatted once here so that generators only copy bytes.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb.h"

#define GB_ADDR_TYPE "smtp"

int gb_workload_init(struct gb_workload *w, const struct gb_opts *o, uint32_t first_dest_id)
{
	uint32_t i;

	memset(w, 0, sizeof(*w));
	if (o->routes == 0 || o->dests == 0)
		return -EINVAL;
	w->n_routes = o->routes;
	w->n_dests = o->dests;
	w->first_dest_id = first_dest_id;
	w->dest_m = UINT64_MAX / o->dests + 1;
	w->pop = o->pop;
	w->addr = malloc((size_t)o->routes * GB_ADDR_SLOT);
	w->addr_len = malloc(o->routes);
	if (w->addr == NULL || w->addr_len == NULL)
		goto nomem;
	for (i = 0; i < o->routes; i++) {
		int n = snprintf(w->addr + (size_t)i * GB_ADDR_SLOT, GB_ADDR_SLOT,
				 GB_ADDR_TYPE ":u@r%07u.gb", i);

		w->addr_len[i] = (uint8_t)n;
		/* One length for every address (7 digits cover 10,000,000
		 * routes): the replay generator's templates rely on it. */
		if (w->addr_len[i] != w->addr_len[0]) {
			gb_workload_fini(w);
			return -EINVAL;
		}
	}
	/* The multiplication must agree with the division it replaces. */
	for (i = 0; i < o->routes && i < 4096; i++)
		if (gb_workload_dest(w, i) != first_dest_id + i % o->dests) {
			gb_workload_fini(w);
			return -EINVAL;
		}
	if (o->pop == GB_POP_ZIPF) {
		double sum = 0, acc = 0;

		w->cdf = malloc((size_t)o->routes * sizeof(double));
		if (w->cdf == NULL)
			goto nomem;
		for (i = 0; i < o->routes; i++)
			sum += 1.0 / pow((double)i + 1.0, o->zipf_s);
		for (i = 0; i < o->routes; i++) {
			acc += 1.0 / pow((double)i + 1.0, o->zipf_s) / sum;
			w->cdf[i] = acc;
		}
		w->cdf[o->routes - 1] = 1.0;
	}
	return 0;
nomem:
	gb_workload_fini(w);
	return -ENOMEM;
}

void gb_workload_fini(struct gb_workload *w)
{
	free(w->cdf);
	free(w->addr);
	free(w->addr_len);
	memset(w, 0, sizeof(*w));
}

uint32_t gb_workload_pick(const struct gb_workload *w, struct gb_rng *r)
{
	uint32_t lo, hi;
	double u;

	if (w->pop == GB_POP_UNIFORM)
		return (uint32_t)(((gb_rng_next(r) >> 32) * w->n_routes) >> 32);
	/* Zipf: first rank whose cumulative probability reaches u. */
	u = gb_rng_unit(r);
	lo = 0;
	hi = w->n_routes - 1;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (w->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void gb_workload_route(const struct gb_workload *w, uint32_t route, char *type, size_t tlen,
		       char *pattern, size_t plen, uint32_t *dest_id)
{
	snprintf(type, tlen, GB_ADDR_TYPE);
	snprintf(pattern, plen, "r%07u.gb", route);
	*dest_id = w->first_dest_id + route % w->n_dests;
}
