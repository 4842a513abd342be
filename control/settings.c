/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime tunables: one table naming each, with its unit and bounds, that
 * points at a field of either the dataplane's struct dp_tunables or the
 * control thread's struct cp_settings (see settings.h).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "conn.h"
#include "cp.h"
#include "router_api.h"
#include "settings.h"
#include "tuning.h"

enum tunable_obj {
	TUN_DP,  /* struct dp_tunables: copied, changed, published under RCU */
	TUN_CP,  /* struct cp_settings: changed in place */
};

struct tunable_desc {
	const char *name;
	const char *unit;
	enum tunable_obj obj;
	size_t off;
	uint64_t min, max;
};

#define DP(n, u, lo, hi) {#n, u, TUN_DP, offsetof(struct dp_tunables, n), lo, hi}
#define CP(n, u, lo, hi) {#n, u, TUN_CP, offsetof(struct cp_settings, n), lo, hi}
/* In gwartctl get's order, which is this table's. */
static const struct tunable_desc tunables[] = {
	DP(burst, "packets", 1, DP_BURST_MAX),
	DP(custody_limit, "messages", 1, DP_CUSTODY_MAX),
	DP(busy_retry_us, "us", 0, 60000000),
	DP(rto_us, "us", 100, 60000000),
	DP(rto_max_us, "us", 100, 600000000),
	DP(keepalive_ms, "ms", 10, 3600000),
	DP(keepalive_mult, "intervals", 1, 100),
	CP(backoff_initial_ms, "ms", 1, 3600000),
	CP(backoff_mult_pct, "percent", 100, 1000),
	CP(backoff_jitter_pct, "percent", 0, 100),
	CP(backoff_max_ms, "ms", 1, 86400000),
	CP(log_level, "0-3", 0, 3),
	DP(stage_stats, "0/1", 0, 1),
	/* TEST ONLY (it_notify): 0, or 1 + the index of a worker to park. */
	DP(test_stall, "worker+1", 0, DP_MAX_WORKERS),
};
#undef DP
#undef CP
#define N_TUNABLES (sizeof(tunables) / sizeof(tunables[0]))

void cp_settings_defaults(struct cp_settings *s)
{
	*s = (struct cp_settings){
		.backoff_initial_ms = DP_DEF_BACKOFF_INITIAL_MS,
		.backoff_mult_pct = DP_DEF_BACKOFF_MULT_PCT,
		.backoff_jitter_pct = DP_DEF_BACKOFF_JITTER_PCT,
		.backoff_max_ms = DP_DEF_BACKOFF_MAX_MS,
		.log_level = 1,
	};
}

const char *cp_tunable_info(unsigned i, const char **unit, uint64_t *min, uint64_t *max)
{
	if (i >= N_TUNABLES)
		return NULL;
	if (unit != NULL)
		*unit = tunables[i].unit;
	if (min != NULL)
		*min = tunables[i].min;
	if (max != NULL)
		*max = tunables[i].max;
	return tunables[i].name;
}

int cp_tunable_index(const char *name)
{
	unsigned i;

	for (i = 0; i < N_TUNABLES; i++)
		if (strcmp(tunables[i].name, name) == 0)
			return (int)i;
	return -1;
}

int cp_tunable_get(struct cp_ctx *cp, const char *name, uint64_t *value)
{
	int i = cp_tunable_index(name);
	const char *base;

	if (i < 0)
		return -ENOENT;
	base = tunables[i].obj == TUN_DP ? (const char *)cp->rt->tun : (const char *)&cp->set;
	*value = *(const uint32_t *)(base + tunables[i].off);
	return 0;
}

/* The cross-field rule the bounds cannot express. */
static int settings_valid(const struct cp_settings *s)
{
	return s->backoff_max_ms >= s->backoff_initial_ms;
}

int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value)
{
	int i = cp_tunable_index(name);
	struct dp_tunables t;
	struct cp_settings s;
	uint32_t old_ms, old_mult;
	int rc;

	if (i < 0)
		return -ENOENT;
	if (value < tunables[i].min || value > tunables[i].max)
		return -EINVAL;
	if (tunables[i].obj == TUN_CP) {
		s = cp->set;
		*(uint32_t *)((char *)&s + tunables[i].off) = (uint32_t)value;
		if (!settings_valid(&s))
			return -EINVAL;
		cp->set = s;
		return 0;
	}
	memcpy(&t, cp->rt->tun, sizeof(t));
	old_ms = t.keepalive_ms;
	old_mult = t.keepalive_mult;
	*(uint32_t *)((char *)&t + tunables[i].off) = (uint32_t)value;
	rc = dp_router_set_tunables(cp->rt, &t);
	if (rc == 0 && (t.keepalive_ms != old_ms || t.keepalive_mult != old_mult)) {
		uint32_t id;

		/* A shorter failure interval applies to live sessions now:
		 * re-arm them (a walk over the connectors that exist). */
		cp_sessions_set_dead_us(&cp->sess,
					(uint64_t)t.keepalive_ms * t.keepalive_mult * 1000u);
		for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id))
			cp_sess_retime(&cp->sess, id);
	}
	return rc;
}
