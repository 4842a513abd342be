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
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "route.h"

#define ERRLEN 256

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
	for (i = 0; i < cfg.n_connectors; i++)
		if (cfg.connectors[i].name == NULL) /* the id is cp_connector_add()'s check */
			abort();
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
