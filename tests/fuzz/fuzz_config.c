/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the configuration loader's parse step,
 * cp_config_parse() (control/config.c): text in, struct cp_config out, no
 * router. The input is copied into a NUL-terminated heap block, as
 * cp_config_read_file() hands it over.
 *
 * Oracle beyond "no crash, no leak": on success every field is within what
 * config.h and cp_route_targets_parse() promise (ports, tunables by name
 * and bounds, route targets, the UDP port as written and never truncated,
 * the control socket's idle timeout); on failure the message is a
 * non-empty NUL-terminated string and @cfg is left zeroed (it needs no
 * cp_config_free()). Connector ids are not bounded here: config.h leaves
 * them to cp_connector_add() at apply.
 *
 * Keys (protocol v2, deny by default): an accepted connector has exactly one
 * of a key file (a non-empty path, no key bytes) or a key, which is not all
 * zero and is what gw_key_parse() makes of its "key" text; a refusal's
 * message never quotes a connector's "key" text (one that appears nowhere
 * else in the input); cp_config_free() wipes the keys (the zeroed @cfg
 * check).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <gwart/auth.h>

#include "config.h"
#include "route.h"

#define ERRLEN 256

/* The "key" texts of the input's connectors (when it is JSON at all) must
 * not appear in @err. */
static void check_no_key_in(const char *text, const char *err)
{
	json_t *doc = json_loads(text, JSON_DECODE_ANY, NULL), *conns, *v;
	size_t i;

	if (doc == NULL)
		return;
	conns = json_is_object(doc) ? json_object_get(doc, "connectors") : NULL;
	json_array_foreach(conns, i, v) {
		const char *k = json_string_value(json_object_get(v, "key"));
		const char *first;

		if (k == NULL || strlen(k) < 16)
			continue;
		/* Only a text that appears nowhere else in the input: a message
		 * may quote a tunable's or a connector's name that holds it. */
		first = strstr(text, k);
		if (first != NULL && strstr(first + 1, k) == NULL && strstr(err, k) != NULL)
			abort();
	}
	json_decref(doc);
}

static void check_key(const struct cp_config_connector *cc, json_t *doc, size_t i)
{
	static const uint8_t zero[GW_KEY_LEN];
	json_t *v = json_array_get(json_object_get(doc, "connectors"), i);
	const char *text = json_string_value(json_object_get(v, "key"));
	uint8_t key[GW_KEY_LEN];

	if (cc->key_file != NULL) {
		if (cc->key_file[0] == '\0' || memcmp(cc->key, zero, GW_KEY_LEN) != 0 ||
		    json_object_get(v, "key") != NULL)
			abort();
		return;
	}
	if (memcmp(cc->key, zero, GW_KEY_LEN) == 0 || text == NULL ||
	    gw_key_parse(text, strlen(text), key) != 0 || memcmp(key, cc->key, GW_KEY_LEN) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct cp_config zero;
	struct cp_config cfg;
	char *text = malloc(size + 1), err[ERRLEN + 1];
	uint64_t min, max;
	size_t i, k;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 0x55, sizeof(err)); /* no NUL until the parser writes one */
	if (cp_config_parse(&cfg, text, err, ERRLEN) != 0) {
		if (memchr(err, '\0', ERRLEN) == NULL || err[0] == '\0' ||
		    memcmp(&cfg, &zero, sizeof(cfg)) != 0)
			abort();
		check_no_key_in(text, err);
		free(text);
		return 0;
	}
	if (cfg.doc == NULL || cfg.n_ports > DP_MAX_PORTS ||
	    (cfg.has_udp_port &&
	     (cfg.udp_port == 0 ||
	      json_integer_value(json_object_get(cfg.doc, "udp_port")) != cfg.udp_port)) ||
	    cfg.ctl_idle_timeout_ms > 24u * 3600 * 1000 ||
	    (cfg.set_uid && cfg.allow_uid == UINT32_MAX) ||
	    (cfg.set_gid && cfg.allow_gid == UINT32_MAX))
		abort();
	for (i = 0; i < cfg.n_tunables; i++) {
		int t = cp_tunable_index(cfg.tunables[i].name);

		if (t < 0 || cp_tunable_info((unsigned)t, NULL, &min, &max) == NULL ||
		    cfg.tunables[i].value < min || cfg.tunables[i].value > max)
			abort();
	}
	for (i = 0; i < cfg.n_connectors; i++) {
		if (cfg.connectors[i].name == NULL) /* the id is cp_connector_add()'s check */
			abort();
		check_key(&cfg.connectors[i], cfg.doc, i);
	}
	for (i = 0; i < cfg.n_routes; i++) {
		const struct cp_config_route *r = &cfg.routes[i];

		if (r->type == NULL || r->pattern == NULL || r->n_targets == 0 ||
		    r->n_targets > DP_ROUTE_TARGETS_MAX)
			abort();
		for (k = 0; k < r->n_targets; k++)
			if (r->targets[k].conn_id == 0 || r->targets[k].conn_id >= DP_MAX_CONNECTORS)
				abort();
	}
	cp_config_free(&cfg);
	if (memcmp(&cfg, &zero, sizeof(cfg)) != 0)
		abort();
	free(text);
	return 0;
}
