/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration (see config.h): JSON text parsed once into struct
 * cp_config, then applied through the cp_* actions.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gwart/auth.h>

#include "config.h"
#include "cp.h"
#include "keys.h"
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

/* The shape of "tunables": an object of known names with integers in
 * their bounds (the cross-field rules are the action's, at apply). */
static int parse_tunables(struct cp_config *cfg, json_t *obj, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	if (!json_is_object(obj))
		return 0; /* absent: the defaults */
	cfg->tunables = calloc(json_object_size(obj) + 1, sizeof(*cfg->tunables));
	if (cfg->tunables == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_object_foreach(obj, key, v) {
		uint64_t min, max;
		int t;

		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			snprintf(err, errlen, "tunable %s: not a non-negative integer", key);
			return -EINVAL;
		}
		t = cp_tunable_index(key);
		if (t < 0) {
			snprintf(err, errlen, "tunable %s: unknown", key);
			return -EINVAL;
		}
		cp_tunable_info((unsigned)t, NULL, &min, &max);
		if ((uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max) {
			snprintf(err, errlen, "tunable %s: out of range", key);
			return -EINVAL;
		}
		cfg->tunables[i].name = key;
		cfg->tunables[i++].value = (uint64_t)json_integer_value(v);
	}
	cfg->n_tunables = i;
	return 0;
}

#define KEY_FORMS "64 hexadecimal digits or the base64 of 32 bytes, not all zero"

/* A connector's key: exactly one of "key" (the text) or "key_file" (a path,
 * read at apply); none at all is refused (deny by default) unless @fill
 * (the embedded default's generated demo key) is given. */
static int parse_key(struct cp_config_connector *cc, json_t *v, size_t i, const uint8_t *fill,
		     char *err, size_t errlen)
{
	json_t *key = json_object_get(v, "key"), *file = json_object_get(v, "key_file");

	if (key != NULL && file != NULL) {
		snprintf(err, errlen,
			 "connectors[%zu] (id %lld): give \"key\" or \"key_file\", not both", i,
			 (long long)cc->id);
		return -EINVAL;
	}
	if (key == NULL && file == NULL) {
		if (fill != NULL) {
			memcpy(cc->key, fill, GW_KEY_LEN);
			return 0;
		}
		snprintf(err, errlen,
			 "connectors[%zu] (id %lld): no \"key\" or \"key_file\" (every connector "
			 "needs its secret key: gwartctl keygen makes one)",
			 i, (long long)cc->id);
		return -EINVAL;
	}
	if (file != NULL) {
		if (!json_is_string(file) || json_string_length(file) == 0) {
			snprintf(err, errlen, "connectors[%zu] (id %lld): \"key_file\" is not a path",
				 i, (long long)cc->id);
			return -EINVAL;
		}
		cc->key_file = json_string_value(file);
		return 0;
	}
	/* Never quote the text: a malformed key may be nearly the real one. */
	if (!json_is_string(key) ||
	    gw_key_parse(json_string_value(key), json_string_length(key), cc->key) != 0) {
		snprintf(err, errlen, "connectors[%zu] (id %lld): \"key\" is not " KEY_FORMS, i,
			 (long long)cc->id);
		return -EINVAL;
	}
	return 0;
}

static int parse_connectors(struct cp_config *cfg, json_t *arr, const uint8_t *fill, char *err,
			    size_t errlen)
{
	json_t *v;
	size_t i;
	int rc;

	cfg->connectors = calloc(json_array_size(arr) + 1, sizeof(*cfg->connectors));
	if (cfg->connectors == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v) {
		json_t *id = json_object_get(v, "id"), *name = json_object_get(v, "name");

		if (!json_is_integer(id) || !json_is_string(name)) {
			snprintf(err, errlen, "connectors[%zu]: needs integer id and string name", i);
			return -EINVAL;
		}
		cfg->connectors[i].id = json_integer_value(id);
		cfg->connectors[i].name = json_string_value(name);
		cfg->n_connectors = i + 1; /* from here on, cp_config_free() wipes its key */
		rc = parse_key(&cfg->connectors[i], v, i, fill, err, errlen);
		if (rc != 0)
			return rc;
	}
	cfg->n_connectors = json_array_size(arr);
	return 0;
}

static int parse_routes(struct cp_config *cfg, json_t *arr, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	cfg->routes = calloc(json_array_size(arr) + 1, sizeof(*cfg->routes));
	if (cfg->routes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	json_array_foreach(arr, i, v) {
		json_t *type = json_object_get(v, "type"), *pat = json_object_get(v, "pattern");
		json_t *tg = json_object_get(v, "targets");
		struct cp_config_route *r = &cfg->routes[i];
		char why[160];

		if (!json_is_string(type) || !json_is_string(pat)) {
			snprintf(err, errlen, "routes[%zu]: needs type and pattern strings", i);
			return -EINVAL;
		}
		r->type = json_string_value(type);
		r->pattern = json_string_value(pat);
		cfg->n_routes = i + 1; /* from here on, cp_config_free() frees it */
		r->targets = calloc(json_array_size(tg) + 1, sizeof(*r->targets));
		if (r->targets == NULL) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		if (cp_route_targets_parse(tg, r->targets, &r->n_targets, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "routes[%zu] (%s:%s): %s", i, r->type, r->pattern, why);
			return -EINVAL;
		}
	}
	return 0;
}

/* An optional integer member @key of @obj in [lo, hi]: 0 and *v set, 1 when
 * absent, -EINVAL (message naming @what) when present but not such. */
static int opt_int(json_t *obj, const char *key, json_int_t lo, json_int_t hi,
		   const char *what, json_int_t *v, char *err, size_t errlen)
{
	json_t *j = json_object_get(obj, key);

	if (j == NULL)
		return 1;
	if (!json_is_integer(j) || json_integer_value(j) < lo || json_integer_value(j) > hi) {
		snprintf(err, errlen, "%s: not an integer in %lld..%lld", what, (long long)lo,
			 (long long)hi);
		return -EINVAL;
	}
	*v = json_integer_value(j);
	return 0;
}

/* "ports", "udp_port", "control": read once here, used before the router
 * has ports. Absent items take their defaults; a present item that is not
 * what it should be is refused with a message naming it (never truncated,
 * never silently replaced by a default). */
static int parse_start_up(struct cp_config *cfg, json_t *root, char *err, size_t errlen)
{
	json_t *ports = json_object_get(root, "ports");
	json_t *ctl = json_object_get(root, "control");
	json_t *path = json_object_get(ctl, "socket");
	json_int_t v;
	size_t i;
	int rc;

	rc = opt_int(root, "udp_port", 1, UINT16_MAX, "udp_port", &v, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		cfg->has_udp_port = 1;
		cfg->udp_port = (uint16_t)v;
	}
	if (ports != NULL && (!json_is_array(ports) || json_array_size(ports) > DP_MAX_PORTS)) {
		snprintf(err, errlen, "ports: not an array of at most %u objects", DP_MAX_PORTS);
		return -EINVAL;
	}
	for (i = 0; i < json_array_size(ports); i++) {
		json_t *p = json_array_get(ports, i), *ip = json_object_get(p, "ip");
		struct in_addr a;

		if (!json_is_object(p) ||
		    (ip != NULL && (!json_is_string(ip) ||
				    inet_pton(AF_INET, json_string_value(ip), &a) != 1))) {
			snprintf(err, errlen, "ports[%zu]: \"ip\" is not an IPv4 address", i);
			return -EINVAL;
		}
		if (ip != NULL)
			cfg->port_ip_be[i] = a.s_addr;
	}
	cfg->n_ports = (unsigned)i;
	if (ctl == NULL)
		return 0;
	if (!json_is_object(ctl)) {
		snprintf(err, errlen, "control: not an object");
		return -EINVAL;
	}
	if (path != NULL && !json_is_string(path)) {
		snprintf(err, errlen, "control.socket: not a string");
		return -EINVAL;
	}
	if (path != NULL)
		cfg->ctl_socket = json_string_value(path);
	rc = opt_int(ctl, "allow_uid", 0, UINT32_MAX - 1, "control.allow_uid", &v, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		cfg->set_uid = 1;
		cfg->allow_uid = (uint32_t)v;
	}
	rc = opt_int(ctl, "allow_gid", 0, UINT32_MAX - 1, "control.allow_gid", &v, err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		cfg->set_gid = 1;
		cfg->allow_gid = (uint32_t)v;
	}
	rc = opt_int(ctl, "idle_timeout_ms", 1, 24 * 3600 * 1000, "control.idle_timeout_ms", &v,
		     err, errlen);
	if (rc < 0)
		return rc;
	if (rc == 0)
		cfg->ctl_idle_timeout_ms = (uint32_t)v;
	return 0;
}

static int config_parse(struct cp_config *cfg, const char *text, const uint8_t *fill, char *err,
			size_t errlen)
{
	json_error_t je;
	json_t *root;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	root = json_loads(text, 0, &je);
	if (root == NULL) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	cfg->doc = root;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "top level must be an object");
		rc = -EINVAL;
		goto fail;
	}
	rc = parse_start_up(cfg, root, err, errlen);
	if (rc == 0)
		rc = parse_tunables(cfg, json_object_get(root, "tunables"), err, errlen);
	if (rc == 0)
		rc = parse_connectors(cfg, json_object_get(root, "connectors"), fill, err, errlen);
	if (rc == 0)
		rc = parse_routes(cfg, json_object_get(root, "routes"), err, errlen);
	if (rc == 0)
		return 0;
fail:
	cp_config_free(cfg);
	return rc;
}

int cp_config_parse(struct cp_config *cfg, const char *text, char *err, size_t errlen)
{
	return config_parse(cfg, text, NULL, err, errlen);
}

int cp_config_parse_default(struct cp_config *cfg, const uint8_t demo_key[GW_KEY_LEN], char *err,
			    size_t errlen)
{
	return config_parse(cfg, cp_config_default, demo_key, err, errlen);
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

	for (i = 0; i < cfg->n_tunables; i++) {
		rc = cp_tunable_set(cp, cfg->tunables[i].name, cfg->tunables[i].value);
		if (rc != 0) {
			snprintf(err, errlen, "tunable %s: %s", cfg->tunables[i].name,
				 rc == -ENOENT ? "unknown" : "out of range");
			return rc;
		}
	}
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
