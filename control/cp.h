/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane: one thread (the EAL main lcore, never a worker) that
 * owns sessions, connectors, routes, tunables and statistics. Every control
 * operation is a cp_<object>_<verb>() function returning 0 or a negative
 * errno; the config loader, the control socket (next issue) and the tests
 * call the same ones.
 *
 * Threading: all cp_* functions run on the control thread, which is a
 * registered, online liburcu QSBR thread (it publishes with
 * rcu_assign_pointer and retires with call_rcu).
 */
#ifndef GWART_CP_H
#define GWART_CP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "route_match.h"
#include "router.h"

struct cp_stats {
	uint64_t hellos;
	uint64_t welcomes;
	uint64_t keepalives;
	uint64_t byes;
	uint64_t unknown_conn;   /* session frames from unconfigured ids */
	uint64_t stale_epoch;    /* keepalive/bye from an old session */
	uint64_t refused;        /* HELLO from a disabled connector */
	uint64_t bad_frames;
	uint64_t tx_failed;
	uint64_t sessions_up;    /* session establishments */
	uint64_t sessions_down;
};

struct cp_ctx {
	struct dp_router *rt;
	struct cp_stats stats;
	uint64_t start_tsc;
};

int cp_connector_add(struct cp_ctx *cp, uint32_t id, const char *name);
int cp_connector_enable(struct cp_ctx *cp, uint32_t id, int enabled);
int cp_route_add(struct cp_ctx *cp, const char *type, const char *pattern,
		 const struct dp_route_target *t, unsigned n);
int cp_route_del(struct cp_ctx *cp, const char *type, const char *pattern);
/* Set tunable @name (e.g. "custody_limit") to @value. -ENOENT unknown name,
 * -EINVAL out of range. */
int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value);

/* Configuration: JSON text (see deploy/gwartd.example.json). On error,
 * @err receives a message naming the offending item. */
int cp_config_load_json(struct cp_ctx *cp, const char *text, char *err, size_t errlen);
int cp_config_load_file(struct cp_ctx *cp, const char *path, char *err, size_t errlen);
/* The embedded default: demo connectors and their routes. */
extern const char cp_config_default[];
/* Port addresses from a configuration (before ports are set up): the IPv4
 * address for port index @i, or the default 198.18.<i>.1. */
uint32_t cp_config_port_ip(const char *text, unsigned i);

/* Process session frames the workers passed up; returns frames handled. */
unsigned cp_ctl_poll(struct cp_ctx *cp);
/* Run the control loop until *quit is set or @duration_s (0: forever)
 * elapses; print statistics every @stats_interval_s (0: never). */
void cp_ctl_run(struct cp_ctx *cp, volatile sig_atomic_t *quit, double duration_s,
		unsigned stats_interval_s);

void cp_stats_print(struct cp_ctx *cp, FILE *f);
int cp_stats_write_json(struct cp_ctx *cp, const char *path);

#endif
