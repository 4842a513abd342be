/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route actions (cp_route_*) and the one parser of a route's targets from
 * JSON, shared by the config loader and the control API.
 */
#include <errno.h>
#include <stdio.h>

#include <jansson.h>

#include "conn.h"
#include "cp.h"
#include "route.h"
#include "router_api.h"

int cp_route_add(struct cp_ctx *cp, const char *type, const char *pattern,
		 const struct dp_route_target *t, unsigned n)
{
	unsigned i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (dp_conn_peek(cp->rt, t[i].conn_id) == NULL)
			return -ENOENT;
	return dp_route_add(cp->rt->routes, type, pattern, t, n);
}

int cp_route_del(struct cp_ctx *cp, const char *type, const char *pattern)
{
	return dp_route_del(cp->rt->routes, type, pattern);
}

int cp_route_targets_parse(json_t *arr, struct dp_route_target *t, unsigned *n, char *err,
			   size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > DP_ROUTE_TARGETS_MAX) {
		snprintf(err, errlen, "\"targets\" must be an array of 1 to %u targets",
			 DP_ROUTE_TARGETS_MAX);
		return -EINVAL;
	}
	json_array_foreach(arr, i, v) {
		json_t *c = json_object_get(v, "connector"), *cost = json_object_get(v, "cost");

		if (!json_is_integer(c) || json_integer_value(c) <= 0 ||
		    json_integer_value(c) >= DP_MAX_CONNECTORS ||
		    (cost != NULL && (!json_is_integer(cost) || json_integer_value(cost) < 0 ||
				      json_integer_value(cost) > UINT32_MAX))) {
			snprintf(err, errlen,
				 "targets[%zu] must be {\"connector\": 1..%u, \"cost\": 0..%u}", i,
				 DP_MAX_CONNECTORS - 1, UINT32_MAX);
			return -EINVAL;
		}
		t[i].conn_id = (uint32_t)json_integer_value(c);
		t[i].cost = cost != NULL ? (uint32_t)json_integer_value(cost) : 0;
	}
	*n = (unsigned)json_array_size(arr);
	return 0;
}
