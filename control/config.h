/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration (JSON, see deploy/gwartd.example.json): the text is parsed
 * once into struct cp_config, which start-up reads (UDP port, port
 * addresses, the control socket) and cp_config_apply() turns into the same
 * cp_* actions the control API uses, so a config file can express exactly
 * what an operator can do live. Every error names the offending item.
 */
#ifndef GWART_CP_CONFIG_H
#define GWART_CP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <gwart/auth.h>

#include "allow.h"
#include "capture.h"
#include "cp.h"

struct cp_config_tunable {
	const char *name;
	uint64_t value;
};

struct cp_config_connector {
	int64_t id;              /* range-checked by cp_connector_add() */
	const char *name;
	const char *key_file;    /* "key_file": read at apply; NULL: key below */
	uint8_t key[GW_KEY_LEN]; /* "key", parsed (wiped by cp_config_free()) */
	int enabled;             /* "enabled": 1 or 0; -1 absent (added enabled, reload keeps) */
	/* "allow_from": 1 to CP_ALLOW_MAX IPv4 prefixes ("198.18.0.0/24", a
	 * bare address is /32, host bits refused) its HELLOs may come from;
	 * absent: n 0, any address (on reload too: the file says). */
	struct cp_allow allow;
};

struct cp_config_route {
	const char *type;
	const char *pattern;
	unsigned n_targets;
	struct dp_route_target *targets;
};

/* "eal": gwartd's EAL arguments when its command line has none
 * (eal_args.h builds them); every member optional. */
struct cp_config_eal {
	int present;             /* the "eal" object was given */
	const char *lcores;      /* --lcores; NULL: EAL's default (every CPU) */
	unsigned n_lcores;       /* lcores named: one runs control, the rest workers */
	int main_lcore;          /* --main-lcore; -1: EAL's (the lowest lcore) */
	int no_huge;             /* "hugepages": false */
	unsigned memory_mb;      /* -m; 0: absent */
	const char *file_prefix; /* --file-prefix; NULL: EAL's ("rte") */
	const char **args;       /* more EAL arguments, placed last */
	size_t n_args;
};

struct cp_config {
	struct json_t *doc;      /* the parsed text: owns every string below */
	int has_udp_port;
	uint16_t udp_port;
	unsigned n_ports;        /* "ports" entries with a valid "ip" or not */
	uint32_t port_ip_be[DP_MAX_PORTS];  /* 0: not given (or not an IPv4 address) */
	/* "device": a PCI address or a vdev string (every port has one, or
	 * none: NULL); EAL probes exactly these when the config gives EAL's
	 * arguments, and port i is the one named here, not the i-th probed. */
	const char *port_device[DP_MAX_PORTS];
	struct cp_config_eal eal;
	const char *ctl_socket;  /* "control": {"socket", "allow_uid", "allow_gid"}; NULL: absent */
	int set_uid, set_gid;
	uint32_t allow_uid, allow_gid;
	uint32_t ctl_idle_timeout_ms;  /* "control": {"idle_timeout_ms"}; 0: the default */
	int has_metrics;         /* "metrics": {"address", "port"}; 0: absent (off) */
	uint32_t metrics_addr_be;
	uint16_t metrics_port;
	/* "capture": {"ring", "max_bytes", "snaplen"}, each optional (defaults
	 * CP_CAPTURE_DEF_*); restart-only, handed to cp_capture_configure()
	 * at start-up by cp_config_apply(). */
	struct cp_capture_cfg capture;
	struct cp_config_tunable *tunables;
	size_t n_tunables;
	/* "log": {"session": "debug", ...}: the level of each type (log.h's
	 * CP_LOG_*, 0: not named; "all" fills the types not named). Applied
	 * first, by cp_log_apply_config(), at start-up and on reload. */
	uint8_t log_levels[CP_LOG_N_TYPES];
	struct cp_config_connector *connectors;
	size_t n_connectors;
	struct cp_config_route *routes;
	size_t n_routes;
};

/* The embedded default: demo connectors and their routes, no keys. */
extern const char cp_config_default[];

/*
 * Parse @text into @cfg: JSON syntax, the shape of every item (unknown
 * keys refused), tunable names and bounds, connector ids (range, no
 * duplicate), route patterns and targets (the file's own connectors, each
 * once). 0, or -EINVAL / -ENOMEM with a message
 * naming the item in @err (@cfg then needs no cp_config_free()).
 */
int cp_config_parse(struct cp_config *cfg, const char *text, char *err, size_t errlen);
/* The embedded default with @demo_key (gwartd draws it at start-up) as the
 * key of each demo connector; otherwise as cp_config_parse(). */
int cp_config_parse_default(struct cp_config *cfg, const uint8_t demo_key[GW_KEY_LEN], char *err,
			    size_t errlen);
/*
 * Connector keys: "key" (the key text: 64 hex digits or base64 of 32 bytes,
 * gw_key_parse) or "key_file" (a path to a file holding that text, which
 * must be a regular file without group or other permissions, read when the
 * configuration is applied); exactly one of them. A connector with neither
 * is refused, as is a malformed or all-zero key. Messages never quote a key.
 * cp_config_read_key() reads and parses one key file (the config loader's
 * and the control API's reader): 0, or a negative errno with a message
 * naming the file.
 */
int cp_config_read_key(const char *path, uint8_t key[GW_KEY_LEN], char *err, size_t errlen);
/*
 * gwartd --check-config: the rules cp_config_parse() applies (the same
 * functions), every error collected, and with CP_CHECK_KEY_FILES each
 * key_file read as apply would. The errors, one a line in file order, as
 * "@file:LINE:COLUMN: what is wrong\n" (malloc'd; "" when valid), their
 * count in *@n_errors; NULL when out of memory.
 */
#define CP_CHECK_KEY_FILES 1u
char *cp_config_check(const char *file, const char *text, unsigned flags, size_t *n_errors);
/* Apply: log levels, tunables, then connectors, then routes, each through
 * its cp_* action; stops at the first failure, named in @err. */
int cp_config_apply(struct cp_ctx *cp, const struct cp_config *cfg, char *err, size_t errlen);
void cp_config_free(struct cp_config *cfg);
/* The IPv4 address (network order) for port index @i: the config's, or
 * the default 198.18.<i>.1. */
uint32_t cp_config_port_ip(const struct cp_config *cfg, unsigned i);
/* The text of config file @path (malloc'd, caller frees), or NULL with a
 * message in @err. */
char *cp_config_read_file(const char *path, char *err, size_t errlen);

#endif
