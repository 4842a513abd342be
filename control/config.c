/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration (see config.h): JSON text parsed once into struct
 * cp_config, then applied through the cp_* actions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gwart/auth.h>

#include "config.h"
#include "cp.h"
#include "eal_args.h"
#include "keys.h"
#include "route_match.h"
#include "settings.h"

/* The embedded default: two demo connectors and the address spaces that
 * route between them (what `gwartd` runs with no configuration). Their key
 * is not here: gwartd generates one at start-up (cp_config_parse_default). */
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

/*
 * One set of rules for gwartd's start and --check-config: every check below
 * reports into a struct diag and goes on to the next item, so the check can
 * list every error while cp_config_parse() keeps the first one (what start-up
 * has always printed). Each error names its item by a path such as
 * "connectors[1].id": jansson keeps no positions for values, so the check
 * finds that path's line and column afterwards with a small scan of the text
 * (locate() below); that is simpler than loading every subtree again and it
 * costs nothing at a normal start, which never needs a position.
 */
struct diag_ent {
	char *path;
	char *msg;
};

struct diag {
	struct diag_ent *v;
	size_t n, cap;
	int nomem;
	int read_key_files; /* --check-config: read each key_file now, as apply will */
};

static void diag_add(struct diag *d, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void diag_add(struct diag *d, const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		struct diag_ent *v = realloc(d->v, cap * sizeof(*v));

		if (v == NULL) {
			d->nomem = 1;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n].path = strdup(path);
	d->v[d->n].msg = strdup(msg);
	if (d->v[d->n].path == NULL || d->v[d->n].msg == NULL) {
		free(d->v[d->n].path);
		free(d->v[d->n].msg);
		d->nomem = 1;
		return;
	}
	d->n++;
}

static void diag_free(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].path);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* Members of @obj (at @path) that no rule reads: refused, since a misspelt
 * key would otherwise be silently ignored and its default used. */
static void unknown_keys(struct diag *d, json_t *obj, const char *path, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *k;
		char p[256];

		for (k = known; *k != NULL && strcmp(*k, key) != 0; k++)
			;
		if (*k != NULL)
			continue;
		snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
		diag_add(d, p, "%s: unknown key", p);
	}
}

/* The cross-field rules (cp_tunables_check) over the defaults with the
 * file's values: what the file sets must be consistent on its own, since a
 * reload (or a start) applies it over the defaults. The error points at the
 * rule's second tunable, or its first when only that one is in the file. */
static void tunables_cross_check(const struct cp_config *cfg, struct diag *d)
{
	uint64_t v[CP_TUNABLES_MAX];
	unsigned i, blame[2];
	char why[256], p[256];
	int in_file = 0;

	for (i = 0; i < cp_tunable_count(); i++)
		v[i] = cp_tunable_default(i);
	for (i = 0; i < cfg->n_tunables; i++)
		v[cp_tunable_index(cfg->tunables[i].name)] = cfg->tunables[i].value;
	if (cp_tunables_check(v, blame, why, sizeof(why)) == 0)
		return;
	for (i = 0; i < cfg->n_tunables; i++)
		if (strcmp(cfg->tunables[i].name, cp_tunable_info(blame[1], NULL, NULL, NULL)) == 0)
			in_file = 1;
	snprintf(p, sizeof(p), "tunables.%s",
		 cp_tunable_info(blame[in_file ? 1 : 0], NULL, NULL, NULL));
	diag_add(d, p, "%s", why);
}

/* The shape of "tunables": an object of known names with integers in
 * their bounds, consistent with each other. */
static void parse_tunables(struct cp_config *cfg, json_t *obj, struct diag *d)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	if (obj == NULL)
		return; /* absent: the defaults */
	if (!json_is_object(obj)) {
		diag_add(d, "tunables", "tunables: not an object");
		return;
	}
	cfg->tunables = calloc(json_object_size(obj) + 1, sizeof(*cfg->tunables));
	if (cfg->tunables == NULL) {
		d->nomem = 1;
		return;
	}
	json_object_foreach(obj, key, v) {
		uint64_t min, max;
		char p[256];
		int t;

		snprintf(p, sizeof(p), "tunables.%s", key);
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			diag_add(d, p, "tunable %s: not a non-negative integer", key);
			continue;
		}
		t = cp_tunable_index(key);
		if (t < 0 && strcmp(key, "log_level") == 0) {
			/* The old single level: say where it went. */
			diag_add(d, p, "tunable log_level: replaced by \"log\": {\"control\": "
				       "LEVEL} (levels per type: dataplane, control, session, config)");
			continue;
		}
		if (t < 0) {
			diag_add(d, p, "tunable %s: unknown", key);
			continue;
		}
		cp_tunable_info((unsigned)t, NULL, &min, &max);
		if ((uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max) {
			diag_add(d, p, "tunable %s: out of range", key);
			continue;
		}
		cfg->tunables[i].name = key;
		cfg->tunables[i++].value = (uint64_t)json_integer_value(v);
	}
	cfg->n_tunables = i;
	tunables_cross_check(cfg, d);
}

/* "log": {TYPE: LEVEL}: TYPE a gwart log type (short or gwart.* name) or
 * "all" (every type the object does not name), LEVEL a syslog name. */
static void parse_log(struct cp_config *cfg, json_t *obj, struct diag *d)
{
	uint8_t all = 0;
	const char *key;
	json_t *v;
	unsigned t;

	if (obj == NULL)
		return;
	if (!json_is_object(obj)) {
		diag_add(d, "log", "log: not an object of log types and levels");
		return;
	}
	json_object_foreach(obj, key, v) {
		int type = cp_log_type_parse(key), level;
		char p[256];

		snprintf(p, sizeof(p), "log.%s", key);
		if (type < 0) {
			diag_add(d, p, "log.%s: unknown log type (dataplane, control, session, "
				       "config or all)", key);
			continue;
		}
		level = json_is_string(v) ? cp_log_level_parse(json_string_value(v)) : -EINVAL;
		if (level < 0) {
			diag_add(d, p, "log.%s: not a log level (emerg, alert, crit, err, warning, "
				       "notice, info, debug)", key);
			continue;
		}
		if (type == CP_LOG_ALL)
			all = (uint8_t)level;
		else
			cfg->log_levels[type] = (uint8_t)level;
	}
	for (t = 0; t < CP_LOG_N_TYPES; t++)
		if (cfg->log_levels[t] == 0)
			cfg->log_levels[t] = all;
}

#define KEY_FORMS "64 hexadecimal digits or the base64 of 32 bytes, not all zero"

/* A connector's key: exactly one of "key" (the text) or "key_file" (a path,
 * read at apply); none at all is refused (deny by default) unless @fill
 * (the embedded default's generated demo key) is given. */
static void parse_key(struct cp_config_connector *cc, json_t *v, size_t i, const uint8_t *fill,
		      struct diag *d)
{
	json_t *key = json_object_get(v, "key"), *file = json_object_get(v, "key_file");
	char p[64];

	if (key != NULL && file != NULL) {
		snprintf(p, sizeof(p), "connectors[%zu].key_file", i);
		diag_add(d, p, "connectors[%zu] (id %lld): give \"key\" or \"key_file\", not both",
			 i, (long long)cc->id);
		return;
	}
	if (key == NULL && file == NULL) {
		if (fill != NULL) {
			memcpy(cc->key, fill, GW_KEY_LEN);
			return;
		}
		snprintf(p, sizeof(p), "connectors[%zu]", i);
		diag_add(d, p,
			 "connectors[%zu] (id %lld): no \"key\" or \"key_file\" (every connector "
			 "needs its secret key: gwartctl keygen makes one)",
			 i, (long long)cc->id);
		return;
	}
	if (file != NULL) {
		char why[256];
		uint8_t k[GW_KEY_LEN];

		snprintf(p, sizeof(p), "connectors[%zu].key_file", i);
		if (!json_is_string(file) || json_string_length(file) == 0) {
			diag_add(d, p, "connectors[%zu] (id %lld): \"key_file\" is not a path", i,
				 (long long)cc->id);
			return;
		}
		cc->key_file = json_string_value(file);
		/* The check reads it with apply's own reader (mode, type, text). */
		if (d->read_key_files && cp_config_read_key(cc->key_file, k, why, sizeof(why)) != 0)
			diag_add(d, p, "connectors[%zu] (id %lld): %s", i, (long long)cc->id, why);
		gw_auth_wipe(k, sizeof(k));
		return;
	}
	/* Never quote the text: a malformed key may be nearly the real one. */
	if (!json_is_string(key) ||
	    gw_key_parse(json_string_value(key), json_string_length(key), cc->key) != 0) {
		snprintf(p, sizeof(p), "connectors[%zu].key", i);
		diag_add(d, p, "connectors[%zu] (id %lld): \"key\" is not " KEY_FORMS, i,
			 (long long)cc->id);
	}
}

/* "allow_from": an array of 1 to CP_ALLOW_MAX prefixes (allow.h's rules,
 * the one parser); each bad entry named by its index. */
static void parse_allow(struct cp_config_connector *cc, json_t *v, size_t i, struct diag *d)
{
	json_t *arr = json_object_get(v, "allow_from"), *e;
	char p[96], why[128];
	size_t k;

	if (arr == NULL)
		return;
	snprintf(p, sizeof(p), "connectors[%zu].allow_from", i);
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > CP_ALLOW_MAX) {
		diag_add(d, p,
			 "connectors[%zu] (id %lld): \"allow_from\" is not an array of 1 to %u IPv4 "
			 "addresses or prefixes (\"198.18.0.0/24\"; leave it out to allow any "
			 "address)",
			 i, (long long)cc->id, CP_ALLOW_MAX);
		return;
	}
	json_array_foreach(arr, k, e) {
		snprintf(p, sizeof(p), "connectors[%zu].allow_from[%zu]", i, k);
		if (!json_is_string(e))
			diag_add(d, p, "connectors[%zu] (id %lld): allow_from[%zu]: not a string", i,
				 (long long)cc->id, k);
		else if (cp_allow_add(&cc->allow, json_string_value(e), why, sizeof(why)) != 0)
			diag_add(d, p, "connectors[%zu] (id %lld): allow_from[%zu]: %s", i,
				 (long long)cc->id, k, why);
	}
}

static void parse_connectors(struct cp_config *cfg, json_t *arr, const uint8_t *fill,
			     struct diag *d)
{
	static const char *const known[] = {"id",      "name",       "key", "key_file",
					    "enabled", "allow_from", NULL};
	json_t *v;
	size_t i, j;

	if (arr == NULL)
		return;
	if (!json_is_array(arr)) {
		diag_add(d, "connectors", "connectors: not an array");
		return;
	}
	cfg->connectors = calloc(json_array_size(arr) + 1, sizeof(*cfg->connectors));
	if (cfg->connectors == NULL) {
		d->nomem = 1;
		return;
	}
	cfg->n_connectors = json_array_size(arr); /* cp_config_free() wipes every key */
	json_array_foreach(arr, i, v) {
		json_t *id = json_object_get(v, "id"), *name = json_object_get(v, "name");
		char p[64];

		snprintf(p, sizeof(p), "connectors[%zu]", i);
		if (!json_is_integer(id) || !json_is_string(name)) {
			diag_add(d, p, "connectors[%zu]: needs integer id and string name", i);
			continue;
		}
		unknown_keys(d, v, p, known);
		cfg->connectors[i].id = json_integer_value(id);
		cfg->connectors[i].name = json_string_value(name);
		cfg->connectors[i].enabled = -1;
		if (json_object_get(v, "enabled") != NULL) {
			if (!json_is_boolean(json_object_get(v, "enabled"))) {
				snprintf(p, sizeof(p), "connectors[%zu].enabled", i);
				diag_add(d, p, "connectors[%zu] (id %lld): \"enabled\" is not true or "
					 "false", i, (long long)cfg->connectors[i].id);
			}
			cfg->connectors[i].enabled = json_is_true(json_object_get(v, "enabled"));
		}
		if (json_string_length(name) == 0 ||
		    json_string_length(name) >= sizeof(((struct dp_conn *)0)->name)) {
			snprintf(p, sizeof(p), "connectors[%zu].name", i);
			diag_add(d, p, "connectors[%zu] (id %lld): name must be 1 to %zu bytes", i,
				 (long long)cfg->connectors[i].id,
				 sizeof(((struct dp_conn *)0)->name) - 1);
		}
		snprintf(p, sizeof(p), "connectors[%zu].id", i);
		/* cp_connector_add()'s range, refused here so the check sees it. */
		if (cfg->connectors[i].id <= 0 || cfg->connectors[i].id >= DP_MAX_CONNECTORS)
			diag_add(d, p, "connectors[%zu] (id %lld): id not in 1..%u", i,
				 (long long)cfg->connectors[i].id, DP_MAX_CONNECTORS - 1);
		for (j = 0; j < i; j++)
			if (cfg->connectors[j].name != NULL && /* NULL: refused above */
			    cfg->connectors[j].id == cfg->connectors[i].id) {
				diag_add(d, p, "connectors[%zu] (id %lld): duplicate id (connectors[%zu])",
					 i, (long long)cfg->connectors[i].id, j);
				break;
			}
		parse_key(&cfg->connectors[i], v, i, fill, d);
		parse_allow(&cfg->connectors[i], v, i, d);
	}
}

static int has_connector(const struct cp_config *cfg, uint32_t id)
{
	size_t i;

	for (i = 0; i < cfg->n_connectors; i++)
		if (cfg->connectors[i].name != NULL && cfg->connectors[i].id == (int64_t)id)
			return 1;
	return 0;
}

static void parse_routes(struct cp_config *cfg, json_t *arr, struct diag *d)
{
	static const char *const known[] = {"type", "pattern", "targets", NULL};
	json_t *v;
	size_t i;

	if (arr == NULL)
		return;
	if (!json_is_array(arr)) {
		diag_add(d, "routes", "routes: not an array");
		return;
	}
	cfg->routes = calloc(json_array_size(arr) + 1, sizeof(*cfg->routes));
	if (cfg->routes == NULL) {
		d->nomem = 1;
		return;
	}
	cfg->n_routes = json_array_size(arr); /* cp_config_free() frees every one */
	json_array_foreach(arr, i, v) {
		json_t *type = json_object_get(v, "type"), *pat = json_object_get(v, "pattern");
		json_t *tg = json_object_get(v, "targets");
		struct cp_config_route *r = &cfg->routes[i];
		char why[160], p[64];
		struct dp_rm_pattern rp;
		const char *rwhy = NULL;
		unsigned t;

		snprintf(p, sizeof(p), "routes[%zu]", i);
		if (!json_is_string(type) || !json_is_string(pat)) {
			diag_add(d, p, "routes[%zu]: needs type and pattern strings", i);
			continue;
		}
		unknown_keys(d, v, p, known);
		r->type = json_string_value(type);
		r->pattern = json_string_value(pat);
		r->targets = calloc(json_array_size(tg) + 1, sizeof(*r->targets));
		if (r->targets == NULL) {
			d->nomem = 1;
			return;
		}
		if (cp_route_targets_parse(tg, r->targets, &r->n_targets, why, sizeof(why)) != 0) {
			snprintf(p, sizeof(p), "routes[%zu].targets", i);
			diag_add(d, p, "routes[%zu] (%s:%s): %s", i, r->type, r->pattern, why);
			continue;
		}
		/* The router's own pattern rule (dp_route_add() applies it too). */
		if (dp_rm_normalise(r->type, r->pattern, &rp, &rwhy) != 0) {
			snprintf(p, sizeof(p), "routes[%zu].pattern", i);
			diag_add(d, p, "routes[%zu] (%s:%s): %s", i, r->type, r->pattern,
				 rwhy != NULL ? rwhy : "not a valid type and pattern");
		}
		/* The same route twice is no error: the later one replaces it, as
		 * at apply (dp_route_add() replaces). */
		/* At start the router is empty: a target must be one of the file's
		 * connectors (cp_route_add() would refuse it with ENOENT), and
		 * dp_route_add() refuses a connector twice in one route. */
		for (t = 0; t < r->n_targets; t++) {
			unsigned u;

			snprintf(p, sizeof(p), "routes[%zu].targets[%u].connector", i, t);
			for (u = 0; u < t && r->targets[u].conn_id != r->targets[t].conn_id; u++)
				;
			if (u < t)
				diag_add(d, p, "routes[%zu] (%s:%s): targets[%u]: connector %u again",
					 i, r->type, r->pattern, t, r->targets[t].conn_id);
			else if (!has_connector(cfg, r->targets[t].conn_id))
				diag_add(d, p,
					 "routes[%zu] (%s:%s): targets[%u]: unknown connector %u", i,
					 r->type, r->pattern, t, r->targets[t].conn_id);
		}
	}
}

/* An optional integer member @key of @obj (at @path) in [lo, hi]: 0 and *v
 * set, 1 when absent, -1 (reported) when present but not such. */
static int opt_int(json_t *obj, const char *key, json_int_t lo, json_int_t hi, const char *path,
		   json_int_t *v, struct diag *d)
{
	json_t *j = json_object_get(obj, key);

	if (j == NULL)
		return 1;
	if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi) {
		diag_add(d, path, "%s: not an integer in %lld..%lld", path, (long long)lo,
			 (long long)hi);
		return -1;
	}
	*v = json_integer_value(j);
	return 0;
}

/* ports[@i].device: all or none of the ports name one (EAL probes exactly
 * those; a port without one would have no device), each a PCI address or a
 * net_ vdev, no device twice. */
static void parse_device(struct cp_config *cfg, json_t *ports, size_t i, struct diag *d)
{
	json_t *dev = json_object_get(json_array_get(ports, i), "device");
	json_t *first = json_object_get(json_array_get(ports, 0), "device");
	char at[48], name[CP_EAL_DEVICE_MAX + 1], other[CP_EAL_DEVICE_MAX + 1];
	size_t j;

	if (!json_is_object(json_array_get(ports, i)))
		return; /* refused with the port */
	snprintf(at, sizeof(at), "ports[%zu].device", i);
	if ((dev == NULL) != (first == NULL)) {
		snprintf(at, sizeof(at), "ports[%zu]", i);
		diag_add(d, at, "ports[%zu]: %s (give every port a device, or none)", i,
			 dev == NULL ? "no \"device\", ports[0] has one"
				     : "a \"device\", ports[0] has none");
		return;
	}
	if (dev == NULL)
		return;
	if (!json_is_string(dev) || cp_eal_args_device(json_string_value(dev), name, sizeof(name)) < 0) {
		diag_add(d, at,
			 "%s: not a PCI address (\"0000:3b:00.0\", lower-case hex, devargs after a "
			 "comma) or a net_ vdev (\"net_tap0,iface=gw0\")",
			 at);
		return;
	}
	for (j = 0; j < i; j++) {
		json_t *o = json_object_get(json_array_get(ports, j), "device");

		if (json_is_string(o) && cp_eal_args_device(json_string_value(o), other,
							   sizeof(other)) > 0 &&
		    strcmp(name, other) == 0) {
			diag_add(d, at, "%s: %s is ports[%zu]'s device too", at, name, j);
			return;
		}
	}
	cfg->port_device[i] = json_string_value(dev);
}

/* "eal": the EAL arguments gwartd starts with when its command line has
 * none (eal_args.h). Shapes and ranges here; EAL itself judges the rest
 * (whether the CPUs exist, whether the hugepages are there) at start. */
static void parse_eal(struct cp_config *cfg, json_t *eal, struct diag *d)
{
	static const char *const known[] = {"lcores", "main_lcore", "hugepages", "memory_mb",
					    "file_prefix", "args", NULL};
	json_t *lc = json_object_get(eal, "lcores"), *hp = json_object_get(eal, "hugepages");
	json_t *fp = json_object_get(eal, "file_prefix"), *args = json_object_get(eal, "args");
	uint64_t set[RTE_MAX_LCORE / 64] = {0};
	const char *why = NULL;
	json_int_t v;
	size_t i;

	cfg->eal.main_lcore = -1;
	if (eal == NULL)
		return;
	if (!json_is_object(eal)) {
		diag_add(d, "eal", "eal: not an object");
		return;
	}
	cfg->eal.present = 1;
	unknown_keys(d, eal, "eal", known);
	if (lc != NULL) {
		if (!json_is_string(lc) ||
		    cp_eal_args_lcores(json_string_value(lc), set, &cfg->eal.n_lcores, &why) != 0)
			diag_add(d, "eal.lcores",
				 "eal.lcores: not an EAL lcore list such as \"1-13\" or "
				 "\"(0-3)@(0,1)\" (%s)",
				 json_is_string(lc) ? why : "not a string");
		else if (cfg->eal.n_lcores < 2 || cfg->eal.n_lcores > DP_MAX_WORKERS + 1)
			diag_add(d, "eal.lcores",
				 "eal.lcores: %u lcore(s); gwartd needs 2 to %u (the main lcore runs "
				 "control, every other one a worker)",
				 cfg->eal.n_lcores, DP_MAX_WORKERS + 1);
		else
			cfg->eal.lcores = json_string_value(lc);
	}
	if (opt_int(eal, "main_lcore", 0, RTE_MAX_LCORE - 1, "eal.main_lcore", &v, d) == 0) {
		if (cfg->eal.lcores != NULL && !(set[v / 64] & (1ull << (v % 64))))
			diag_add(d, "eal.main_lcore", "eal.main_lcore: lcore %lld is not in eal.lcores",
				 (long long)v);
		else
			cfg->eal.main_lcore = (int)v;
	}
	if (hp != NULL && !json_is_boolean(hp))
		diag_add(d, "eal.hugepages", "eal.hugepages: not true or false");
	cfg->eal.no_huge = json_is_false(hp);
	if (opt_int(eal, "memory_mb", CP_EAL_MEMORY_MB_MIN, CP_EAL_MEMORY_MB_MAX, "eal.memory_mb", &v,
		    d) == 0)
		cfg->eal.memory_mb = (unsigned)v;
	if (fp != NULL) {
		const char *s = json_is_string(fp) ? json_string_value(fp) : "";
		size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

		if (n == 0 || s[n] != '\0' || n > CP_EAL_FILE_PREFIX_MAX)
			diag_add(d, "eal.file_prefix",
				 "eal.file_prefix: not a name of 1 to %u letters, digits, '-' or '_'",
				 CP_EAL_FILE_PREFIX_MAX);
		else
			cfg->eal.file_prefix = s;
	}
	if (args == NULL)
		return;
	if (!json_is_array(args) || json_array_size(args) > CP_EAL_ARGS_MAX) {
		diag_add(d, "eal.args", "eal.args: not an array of at most %u strings",
			 CP_EAL_ARGS_MAX);
		return;
	}
	cfg->eal.args = calloc(json_array_size(args) + 1, sizeof(*cfg->eal.args));
	if (cfg->eal.args == NULL) {
		d->nomem = 1;
		return;
	}
	for (i = 0; i < json_array_size(args); i++) {
		json_t *a = json_array_get(args, i);
		char at[32];

		snprintf(at, sizeof(at), "eal.args[%zu]", i);
		if (!json_is_string(a) || json_string_length(a) == 0)
			diag_add(d, at, "%s: not a non-empty string", at);
		else if (strcmp(json_string_value(a), "--") == 0)
			diag_add(d, at, "%s: \"--\" would end EAL's arguments (gwartd's own go on "
				 "its command line)", at);
		else
			cfg->eal.args[cfg->eal.n_args++] = json_string_value(a);
	}
}

/* "ports", "udp_port", "control": read once here, used before the router
 * has ports. Absent items take their defaults; a present item that is not
 * what it should be is refused with a message naming it (never truncated,
 * never silently replaced by a default). */
static void parse_start_up(struct cp_config *cfg, json_t *root, struct diag *d)
{
	static const char *const known_ctl[] = {"socket", "allow_uid", "allow_gid",
						"idle_timeout_ms", NULL};
	json_t *ports = json_object_get(root, "ports");
	json_t *ctl = json_object_get(root, "control");
	json_t *path = json_object_get(ctl, "socket");
	json_int_t v;
	size_t i;

	if (opt_int(root, "udp_port", 1, UINT16_MAX, "udp_port", &v, d) == 0) {
		cfg->has_udp_port = 1;
		cfg->udp_port = (uint16_t)v;
	}
	if (ports != NULL && (!json_is_array(ports) || json_array_size(ports) > DP_MAX_PORTS)) {
		diag_add(d, "ports", "ports: not an array of at most %u objects", DP_MAX_PORTS);
		ports = NULL;
	}
	for (i = 0; i < json_array_size(ports); i++) {
		static const char *const known[] = {"ip", "device", NULL};
		json_t *p = json_array_get(ports, i), *ip = json_object_get(p, "ip");
		struct in_addr a;
		char at[32];

		parse_device(cfg, ports, i, d);

		snprintf(at, sizeof(at), "ports[%zu]", i);
		if (!json_is_object(p) ||
		    (ip != NULL && (!json_is_string(ip) ||
				    inet_pton(AF_INET, json_string_value(ip), &a) != 1))) {
			if (json_is_object(p))
				snprintf(at, sizeof(at), "ports[%zu].ip", i);
			diag_add(d, at, "ports[%zu]: \"ip\" is not an IPv4 address", i);
			continue;
		}
		unknown_keys(d, p, at, known);
		if (ip != NULL)
			cfg->port_ip_be[i] = a.s_addr;
	}
	cfg->n_ports = (unsigned)i;
	if (ctl == NULL)
		return;
	if (!json_is_object(ctl)) {
		diag_add(d, "control", "control: not an object");
		return;
	}
	unknown_keys(d, ctl, "control", known_ctl);
	if (path != NULL && !json_is_string(path))
		diag_add(d, "control.socket", "control.socket: not a string");
	else if (path != NULL)
		cfg->ctl_socket = json_string_value(path);
	if (opt_int(ctl, "allow_uid", 0, UINT32_MAX - 1, "control.allow_uid", &v, d) == 0) {
		cfg->set_uid = 1;
		cfg->allow_uid = (uint32_t)v;
	}
	if (opt_int(ctl, "allow_gid", 0, UINT32_MAX - 1, "control.allow_gid", &v, d) == 0) {
		cfg->set_gid = 1;
		cfg->allow_gid = (uint32_t)v;
	}
	if (opt_int(ctl, "idle_timeout_ms", 1, 24 * 3600 * 1000, "control.idle_timeout_ms", &v,
		    d) == 0)
		cfg->ctl_idle_timeout_ms = (uint32_t)v;
}

/* "metrics": {"address": IPv4 (default 127.0.0.1), "port": 1..65535}: the
 * /metrics endpoint (metrics.h), off when absent. The port is required: a
 * listening socket is opened only when asked for by name. */
static void parse_metrics(struct cp_config *cfg, json_t *root, struct diag *d)
{
	static const char *const known[] = {"address", "port", NULL};
	json_t *m = json_object_get(root, "metrics"), *addr;
	struct in_addr a = {.s_addr = htonl(INADDR_LOOPBACK)};
	json_int_t v;
	int rc;

	if (m == NULL)
		return;
	if (!json_is_object(m)) {
		diag_add(d, "metrics", "metrics: not an object");
		return;
	}
	unknown_keys(d, m, "metrics", known);
	addr = json_object_get(m, "address");
	if (addr != NULL &&
	    (!json_is_string(addr) || inet_pton(AF_INET, json_string_value(addr), &a) != 1)) {
		diag_add(d, "metrics.address", "metrics.address: not an IPv4 address");
		return;
	}
	rc = opt_int(m, "port", 1, UINT16_MAX, "metrics.port", &v, d);
	if (rc == 1)
		diag_add(d, "metrics", "metrics: no \"port\" (1..65535)");
	if (rc != 0)
		return;
	cfg->has_metrics = 1;
	cfg->metrics_addr_be = a.s_addr;
	cfg->metrics_port = (uint16_t)v;
}

/* "capture": {"ring": frames in flight, "max_bytes": a file's limit,
 * "snaplen": bytes kept per frame by default}; absent members take the
 * CP_CAPTURE_DEF_* defaults (control/capture.h holds the bounds). */
static void parse_capture(struct cp_config *cfg, json_t *root, struct diag *d)
{
	static const char *const known[] = {"ring", "max_bytes", "snaplen", NULL};
	json_t *c = json_object_get(root, "capture");
	json_int_t v;

	cfg->capture = (struct cp_capture_cfg){
		.ring = CP_CAPTURE_DEF_RING,
		.max_bytes = CP_CAPTURE_DEF_MAX_BYTES,
		.snaplen = CP_CAPTURE_DEF_SNAPLEN,
	};
	if (c == NULL)
		return;
	if (!json_is_object(c)) {
		diag_add(d, "capture", "capture: not an object");
		return;
	}
	unknown_keys(d, c, "capture", known);
	if (opt_int(c, "ring", CP_CAPTURE_MIN_RING, CP_CAPTURE_MAX_RING, "capture.ring", &v, d) == 0)
		cfg->capture.ring = (uint32_t)v;
	if (opt_int(c, "max_bytes", CP_CAPTURE_MIN_MAX_BYTES, INT64_MAX, "capture.max_bytes", &v,
		    d) == 0)
		cfg->capture.max_bytes = (uint64_t)v;
	if (opt_int(c, "snaplen", 1, CP_CAPTURE_MAX_SNAPLEN, "capture.snaplen", &v, d) == 0)
		cfg->capture.snaplen = (uint32_t)v;
}

/* The syntax error, if any, goes into @d at path "" with jansson's own
 * line and column in *@line / *@col (0 when the text parsed). */
static int config_parse(struct cp_config *cfg, const char *text, const uint8_t *fill,
			struct diag *d, int *line, int *col)
{
	static const char *const known[] = {"udp_port", "control", "ports", "tunables",
					    "connectors", "routes", "eal",
					    "metrics", "capture", "log", NULL};
	json_error_t je;
	json_t *root;

	memset(cfg, 0, sizeof(*cfg));
	*line = *col = 0;
	root = json_loads(text, 0, &je);
	if (root == NULL) {
		*line = je.line;
		*col = je.column;
		diag_add(d, "", "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	cfg->doc = root;
	if (!json_is_object(root)) {
		diag_add(d, "", "top level must be an object");
	} else {
		unknown_keys(d, root, "", known);
		parse_start_up(cfg, root, d);
		parse_eal(cfg, json_object_get(root, "eal"), d);
		parse_metrics(cfg, root, d);
		parse_capture(cfg, root, d);
		parse_log(cfg, json_object_get(root, "log"), d);
		parse_tunables(cfg, json_object_get(root, "tunables"), d);
		parse_connectors(cfg, json_object_get(root, "connectors"), fill, d);
		parse_routes(cfg, json_object_get(root, "routes"), d);
	}
	if (d->nomem || d->n != 0) {
		cp_config_free(cfg);
		return d->nomem ? -ENOMEM : -EINVAL;
	}
	return 0;
}

/* Start-up's form: the first error found, as gwartd has always printed. */
static int config_parse_first(struct cp_config *cfg, const char *text, const uint8_t *fill,
			      char *err, size_t errlen)
{
	struct diag d = {0};
	int line, col, rc = config_parse(cfg, text, fill, &d, &line, &col);

	if (d.nomem)
		snprintf(err, errlen, "out of memory");
	else if (rc != 0)
		snprintf(err, errlen, "%s", d.v[0].msg);
	diag_free(&d);
	return rc;
}

/* ---- positions, for the check ------------------------------------------------------ */

/* A scan of text jansson has already accepted: it only needs to follow the
 * structure, not to validate it. */
struct scan {
	const char *p;
	int line, col;
	const char *target;
	int found, fline, fcol;
};

static void sc_adv(struct scan *s)
{
	if (*s->p == '\0')
		return;
	if (*s->p == '\n') {
		s->line++;
		s->col = 1;
	} else if (((unsigned char)*s->p & 0xC0) != 0x80) {
		s->col++; /* columns count characters, as jansson's do */
	}
	s->p++;
}

static void sc_ws(struct scan *s)
{
	while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')
		sc_adv(s);
}

static void sc_mark(struct scan *s, const char *path)
{
	if (!s->found && strcmp(path, s->target) == 0) {
		s->found = 1;
		s->fline = s->line;
		s->fcol = s->col;
	}
}

/* A string at s->p (its opening quote); its raw text (escapes kept) in @out. */
static void sc_string(struct scan *s, char *out, size_t outlen)
{
	size_t n = 0;

	sc_adv(s);
	while (*s->p != '\0' && *s->p != '"') {
		if (*s->p == '\\') {
			sc_adv(s);
			if (*s->p == '\0')
				break;
		}
		if (n + 1 < outlen)
			out[n++] = *s->p;
		sc_adv(s);
	}
	out[outlen ? n : 0] = '\0';
	sc_adv(s);
}

static void sc_value(struct scan *s, const char *path, int depth)
{
	char child[512], key[256];
	unsigned idx = 0;

	sc_ws(s);
	if (depth > 64) /* jansson's own nesting limit is higher; paths are not */
		return;
	if (*s->p == '{' || *s->p == '[') {
		int obj = *s->p == '{';
		char close = obj ? '}' : ']';

		sc_adv(s);
		sc_ws(s);
		while (*s->p != '\0' && *s->p != close) {
			int l = s->line, c = s->col;

			if (obj) {
				sc_string(s, key, sizeof(key));
				/* a path too long for the buffer matches nothing */
				if (snprintf(child, sizeof(child), "%s%s%s", path,
					     path[0] ? "." : "", key) >= (int)sizeof(child))
					snprintf(child, sizeof(child), "\n");
				sc_ws(s);
				sc_adv(s); /* ':' */
			} else {
				sc_ws(s);
				l = s->line;
				c = s->col;
				if (snprintf(child, sizeof(child), "%s[%u]", path, idx++) >=
				    (int)sizeof(child))
					snprintf(child, sizeof(child), "\n");
			}
			if (!s->found && strcmp(child, s->target) == 0) {
				/* a member: where its key is; an element: where it starts */
				s->found = 1;
				s->fline = l;
				s->fcol = c;
			}
			sc_value(s, child, depth + 1);
			sc_ws(s);
			if (*s->p == ',')
				sc_adv(s);
			sc_ws(s);
		}
		sc_adv(s);
	} else if (*s->p == '"') {
		sc_string(s, key, sizeof(key));
	} else {
		while (*s->p != '\0' && strchr(",]} \t\r\n", *s->p) == NULL)
			sc_adv(s);
	}
}

/* Line and column of @path in @text; a path not there (a missing member)
 * falls back to its parent, the object that lacks it. */
static void locate(const char *text, const char *path, int *line, int *col)
{
	char p[512];

	snprintf(p, sizeof(p), "%s", path);
	for (;;) {
		struct scan s = {.p = text, .line = 1, .col = 1, .target = p};
		char *cut;

		sc_ws(&s);
		sc_mark(&s, ""); /* the document itself: its first character */
		if (p[0] != '\0') {
			s.found = 0;
			sc_value(&s, "", 0);
		}
		if (s.found || p[0] == '\0') {
			*line = s.fline;
			*col = s.fcol;
			return;
		}
		cut = strrchr(p, '.');
		if (strrchr(p, '[') != NULL && (cut == NULL || strrchr(p, '[') > cut))
			cut = strrchr(p, '[');
		*(cut != NULL ? cut : p) = '\0';
	}
}

struct located {
	int line, col;
	size_t seq;
	const char *msg;
};

static int located_cmp(const void *a, const void *b)
{
	const struct located *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *cp_config_check(const char *file, const char *text, unsigned flags, size_t *n_errors)
{
	struct cp_config cfg;
	struct diag d = {.read_key_files = (flags & CP_CHECK_KEY_FILES) != 0};
	struct located *v = NULL;
	int sline, scol;
	char *out = NULL;
	size_t i, len = 0, cap = 0;

	*n_errors = 0;
	if (config_parse(&cfg, text, NULL, &d, &sline, &scol) == 0) {
		cp_config_free(&cfg);
		out = strdup("");
		goto done;
	}
	if (d.nomem || (v = calloc(d.n, sizeof(*v))) == NULL)
		goto done;
	for (i = 0; i < d.n; i++) {
		v[i].seq = i;
		v[i].msg = d.v[i].msg;
		if (sline != 0) {
			/* jansson's own position; its text without the "line N:" */
			v[i].line = sline;
			v[i].col = scol;
			v[i].msg = strchr(d.v[i].msg, ':') + 2;
		} else {
			locate(text, d.v[i].path, &v[i].line, &v[i].col);
		}
	}
	/* The rules run item kind by item kind; the operator reads the file. */
	qsort(v, d.n, sizeof(*v), located_cmp);
	for (i = 0; i < d.n; i++) {
		int n = snprintf(NULL, 0, "%s:%d:%d: %s\n", file, v[i].line, v[i].col, v[i].msg);
		char *o;

		if (len + (size_t)n + 1 > cap) {
			cap = 2 * (len + (size_t)n + 1);
			o = realloc(out, cap);
			if (o == NULL) {
				free(out);
				out = NULL;
				goto done;
			}
			out = o;
		}
		snprintf(out + len, cap - len, "%s:%d:%d: %s\n", file, v[i].line, v[i].col, v[i].msg);
		len += (size_t)n;
	}
	*n_errors = d.n;
done:
	free(v);
	diag_free(&d);
	return out;
}

int cp_config_parse(struct cp_config *cfg, const char *text, char *err, size_t errlen)
{
	return config_parse_first(cfg, text, NULL, err, errlen);
}

int cp_config_parse_default(struct cp_config *cfg, const uint8_t demo_key[GW_KEY_LEN], char *err,
			    size_t errlen)
{
	return config_parse_first(cfg, cp_config_default, demo_key, err, errlen);
}

/* Key texts in the parsed document: overwritten before it is freed. */
static void wipe_key_texts(json_t *root)
{
	json_t *arr = json_object_get(root, "connectors"), *v, *k;
	size_t i;

	json_array_foreach(arr, i, v) {
		k = json_object_get(v, "key");
		if (json_is_string(k))
			gw_auth_wipe((char *)json_string_value(k), json_string_length(k));
	}
}

void cp_config_free(struct cp_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_routes; i++)
		free(cfg->routes[i].targets);
	free(cfg->routes);
	for (i = 0; i < cfg->n_connectors; i++)
		gw_auth_wipe(cfg->connectors[i].key, sizeof(cfg->connectors[i].key));
	free(cfg->connectors);
	wipe_key_texts(cfg->doc);
	free(cfg->tunables);
	free(cfg->eal.args);
	json_decref(cfg->doc);
	memset(cfg, 0, sizeof(*cfg));
}

int cp_config_read_key(const char *path, uint8_t key[GW_KEY_LEN], char *err, size_t errlen)
{
	char text[CP_KEY_TEXT_MAX];
	long n = cp_key_file_read(path, text, sizeof(text), err, errlen);
	int rc = 0;

	if (n < 0)
		return (int)n;
	if (gw_key_parse(text, (size_t)n, key) != 0) {
		snprintf(err, errlen, "key file %s: not " KEY_FORMS, path);
		rc = -EINVAL;
	}
	gw_auth_wipe(text, sizeof(text));
	return rc;
}

/* "connectors[I] (id N): " in front of the message already in @err. */
static void prefix_err(char *err, size_t errlen, size_t i, int64_t id)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", err);
	snprintf(err, errlen, "connectors[%zu] (id %lld): %s", i, (long long)id, why);
}

int cp_config_apply(struct cp_ctx *cp, const struct cp_config *cfg, char *err, size_t errlen)
{
	size_t i;
	int rc;

	/* Before anything can start a capture; restart-only. (ring 0: a
	 * struct cp_config not made by cp_config_parse(): the defaults.) */
	rc = cfg->capture.ring != 0 ? cp_capture_configure(cp, &cfg->capture) : 0;
	if (rc != 0) {
		snprintf(err, errlen, "capture: %s", strerror(-rc));
		return rc;
	}
	rc = cp_log_apply_config(cfg->log_levels);
	if (rc != 0) {
		snprintf(err, errlen, "log: a level out of range");
		return rc;
	}
	uint64_t v[CP_TUNABLES_MAX];

	/* All at once: values only consistent together apply in any order. */
	cp_tunables_get_all(cp, v);
	for (i = 0; i < cfg->n_tunables; i++)
		v[cp_tunable_index(cfg->tunables[i].name)] = cfg->tunables[i].value;
	rc = cp_tunables_set_all(cp, v, err, errlen);
	if (rc != 0)
		return rc;
	for (i = 0; i < cfg->n_connectors; i++) {
		const struct cp_config_connector *c = &cfg->connectors[i];
		uint8_t key[GW_KEY_LEN];

		if (c->key_file != NULL) {
			rc = cp_config_read_key(c->key_file, key, err, errlen);
			if (rc != 0) {
				prefix_err(err, errlen, i, c->id);
				return rc;
			}
		} else {
			memcpy(key, c->key, GW_KEY_LEN);
		}
		rc = c->id < 0 || c->id > UINT32_MAX
			     ? -EINVAL
			     : cp_connector_add(cp, (uint32_t)c->id, c->name, key);
		gw_auth_wipe(key, sizeof(key));
		if (rc == 0 && c->enabled == 0)
			rc = cp_connector_enable(cp, (uint32_t)c->id, 0);
		if (rc == 0 && c->allow.n != 0)
			rc = cp_connector_set_allow(cp, (uint32_t)c->id, &c->allow);
		if (rc != 0) {
			snprintf(err, errlen, "connectors[%zu] (id %lld): %s", i, (long long)c->id,
				 strerror(-rc));
			return rc;
		}
	}
	for (i = 0; i < cfg->n_routes; i++) {
		const struct cp_config_route *r = &cfg->routes[i];

		rc = cp_route_add(cp, r->type, r->pattern, r->targets, r->n_targets);
		if (rc != 0) {
			snprintf(err, errlen, "routes[%zu] (%s:%s): %s", i, r->type, r->pattern,
				 rc == -ENOENT ? "unknown connector" : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

uint32_t cp_config_port_ip(const struct cp_config *cfg, unsigned i)
{
	if (i < DP_MAX_PORTS && cfg->port_ip_be[i] != 0)
		return cfg->port_ip_be[i];
	/* 198.18.<i>.1 */
	return htonl(0xC6120001u | ((uint32_t)(i & 0xff) << 8));
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
