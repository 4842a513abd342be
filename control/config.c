/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration (JSON, via jansson) and the control actions it drives. The
 * loader only translates JSON into cp_* calls, the same ones the control
 * socket and the tests use, so a config file can express exactly what an
 * operator can do live.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "conn.h"
#include "cp.h"
#include "route.h"
#include "router_api.h"

/* The embedded default: two demo connectors and the address spaces that
 * route between them (what `gwartd` runs with no configuration). */
const char cp_config_default[] =
	"{\n"
	"  \"udp_port\": 4790,\n"
	"  \"ports\": [ { \"ip\": \"198.18.0.1\" } ],\n"
	"  \"connectors\": [\n"
	"    { \"id\": 1, \"name\": \"demo-mail\" },\n"
	"    { \"id\": 2, \"name\": \"demo-notes\" }\n"
	"  ],\n"
	"  \"routes\": [\n"
	"    { \"type\": \"smtp\", \"pattern\": \"*.demo.example\",\n"
	"      \"targets\": [ { \"connector\": 2, \"cost\": 10 } ] },\n"
	"    { \"type\": \"notes\", \"pattern\": \"*/O=Demo\",\n"
	"      \"targets\": [ { \"connector\": 1, \"cost\": 10 } ] }\n"
	"  ]\n"
	"}\n";

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

struct tunable_desc {
	const char *name;
	const char *unit;
	size_t off;
	uint64_t min, max;
};

#define T(n, u, lo, hi) {#n, u, offsetof(struct dp_tunables, n), lo, hi}
static const struct tunable_desc tunables[] = {
	T(burst, "packets", 1, DP_BURST_MAX),
	T(custody_limit, "messages", 1, DP_CUSTODY_MAX),
	T(busy_retry_us, "us", 0, 60000000),
	T(rto_us, "us", 100, 60000000),
	T(rto_max_us, "us", 100, 600000000),
	T(keepalive_ms, "ms", 10, 3600000),
	T(keepalive_mult, "intervals", 1, 100),
	T(backoff_initial_ms, "ms", 1, 3600000),
	T(backoff_mult_pct, "percent", 100, 1000),
	T(backoff_jitter_pct, "percent", 0, 100),
	T(backoff_max_ms, "ms", 1, 86400000),
	T(log_level, "0-3", 0, 3),
	T(stage_stats, "0/1", 0, 1),
};
#undef T

const char *cp_tunable_info(unsigned i, const char **unit, uint64_t *min, uint64_t *max)
{
	if (i >= sizeof(tunables) / sizeof(tunables[0]))
		return NULL;
	if (unit != NULL)
		*unit = tunables[i].unit;
	if (min != NULL)
		*min = tunables[i].min;
	if (max != NULL)
		*max = tunables[i].max;
	return tunables[i].name;
}

int cp_tunable_get(struct cp_ctx *cp, const char *name, uint64_t *value)
{
	size_t i;

	for (i = 0; i < sizeof(tunables) / sizeof(tunables[0]); i++) {
		if (strcmp(tunables[i].name, name) == 0) {
			*value = *(const uint32_t *)((const char *)cp->rt->tun + tunables[i].off);
			return 0;
		}
	}
	return -ENOENT;
}

int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value)
{
	struct dp_tunables t;
	size_t i;

	for (i = 0; i < sizeof(tunables) / sizeof(tunables[0]); i++) {
		if (strcmp(tunables[i].name, name) != 0)
			continue;
		if (value < tunables[i].min || value > tunables[i].max)
			return -EINVAL;
		memcpy(&t, cp->rt->tun, sizeof(t));
		*(uint32_t *)((char *)&t + tunables[i].off) = (uint32_t)value;
		return dp_router_set_tunables(cp->rt, &t);
	}
	return -ENOENT;
}

static int load_targets(json_t *arr, struct dp_route_target *t, unsigned max, unsigned *n)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > max)
		return -EINVAL;
	json_array_foreach(arr, i, v) {
		json_t *c = json_object_get(v, "connector"), *cost = json_object_get(v, "cost");

		if (!json_is_integer(c) || json_integer_value(c) <= 0 ||
		    json_integer_value(c) >= DP_MAX_CONNECTORS ||
		    (cost != NULL && (!json_is_integer(cost) || json_integer_value(cost) < 0 ||
				      json_integer_value(cost) > UINT32_MAX)))
			return -EINVAL;
		t[i].conn_id = (uint32_t)json_integer_value(c);
		t[i].cost = cost != NULL ? (uint32_t)json_integer_value(cost) : 0;
	}
	*n = (unsigned)json_array_size(arr);
	return 0;
}

int cp_config_load_json(struct cp_ctx *cp, const char *text, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *arr, *v;
	const char *key;
	size_t i;
	int rc = 0;

	root = json_loads(text, 0, &je);
	if (root == NULL) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "top level must be an object");
		rc = -EINVAL;
		goto out;
	}
	json_object_foreach(json_object_get(root, "tunables"), key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "tunable %s: not a non-negative integer", key);
			rc = -EINVAL;
			goto out;
		}
		rc = cp_tunable_set(cp, key, (uint64_t)json_integer_value(v));
		if (rc != 0) {
			snprintf(err, errlen, "tunable %s: %s", key,
				 rc == -ENOENT ? "unknown" : "out of range");
			goto out;
		}
	}
	arr = json_object_get(root, "connectors");
	json_array_foreach(arr, i, v) {
		json_t *id = json_object_get(v, "id"), *name = json_object_get(v, "name");

		if (!json_is_integer(id) || !json_is_string(name)) {
			snprintf(err, errlen, "connectors[%zu]: needs integer id and string name",
				 i);
			rc = -EINVAL;
			goto out;
		}
		rc = cp_connector_add(cp, (uint32_t)json_integer_value(id), json_string_value(name));
		if (rc != 0) {
			snprintf(err, errlen, "connectors[%zu] (id %lld): %s", i,
				 (long long)json_integer_value(id), strerror(-rc));
			goto out;
		}
	}
	arr = json_object_get(root, "routes");
	json_array_foreach(arr, i, v) {
		json_t *type = json_object_get(v, "type"), *pat = json_object_get(v, "pattern");
		struct dp_route_target t[16];
		unsigned n = 0;

		if (!json_is_string(type) || !json_is_string(pat) ||
		    load_targets(json_object_get(v, "targets"), t, 16, &n) != 0) {
			snprintf(err, errlen,
				 "routes[%zu]: needs type, pattern and 1..16 targets "
				 "{connector, cost}",
				 i);
			rc = -EINVAL;
			goto out;
		}
		rc = cp_route_add(cp, json_string_value(type), json_string_value(pat), t, n);
		if (rc != 0) {
			snprintf(err, errlen, "routes[%zu] (%s:%s): %s", i, json_string_value(type),
				 json_string_value(pat),
				 rc == -ENOENT ? "unknown connector" : strerror(-rc));
			goto out;
		}
	}
out:
	json_decref(root);
	return rc;
}

char *cp_config_read_file(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long len;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Bounded before allocating: a config is never this large. */
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > (16 << 20) ||
	    fseek(f, 0, SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: unreadable or larger than 16 MiB", path);
		goto out;
	}
	buf = malloc((size_t)len + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		snprintf(err, errlen, "%s: short read", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[len] = '\0';
out:
	fclose(f);
	return buf;
}

uint32_t cp_config_port_ip(const char *text, unsigned i)
{
	json_t *root = json_loads(text, 0, NULL);
	json_t *ip = json_object_get(json_array_get(json_object_get(root, "ports"), i), "ip");
	struct in_addr a;
	char def[32];

	snprintf(def, sizeof(def), "198.18.%u.1", i);
	if (!json_is_string(ip) || inet_pton(AF_INET, json_string_value(ip), &a) != 1)
		inet_pton(AF_INET, def, &a);
	json_decref(root);
	return a.s_addr;
}
