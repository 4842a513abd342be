/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runtime tunables: one table naming each, with its unit and bounds, that
 * points at a field of either the dataplane's struct dp_tunables or the
 * control thread's struct cp_settings (see settings.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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
	uint64_t def;  /* the value before any config or set (dp_router_create's, cp_settings_defaults') */
};

#define DP(n, u, lo, hi, d) {#n, u, TUN_DP, offsetof(struct dp_tunables, n), lo, hi, d}
#define CP(n, u, lo, hi, d) {#n, u, TUN_CP, offsetof(struct cp_settings, n), lo, hi, d}
/* In gwartctl get's order, which is this table's. */
static const struct tunable_desc tunables[] = {
	DP(burst, "packets", 1, DP_BURST_MAX, DP_DEF_BURST),
	DP(custody_limit, "messages", 1, DP_CUSTODY_MAX, DP_DEF_CUSTODY_LIMIT),
	DP(custody_bytes, "bytes", 1, UINT32_MAX, DP_DEF_CUSTODY_BYTES),
	DP(custody_bytes_total, "bytes", 1, UINT32_MAX, DP_DEF_CUSTODY_BYTES_TOTAL),
	DP(max_message, "bytes", 1, GW_MSG_MAX, DP_DEF_MAX_MESSAGE),
	DP(group_timeout_ms, "ms", 100, 3600000, DP_DEF_GROUP_TIMEOUT_MS),
	DP(busy_retry_us, "us", 0, 60000000, DP_DEF_BUSY_RETRY_US),
	DP(rto_us, "us", 100, 60000000, DP_DEF_RTO_US),
	DP(rto_max_us, "us", 100, 600000000, DP_MAX_RTO_US),
	DP(keepalive_ms, "ms", 10, 3600000, DP_DEF_KEEPALIVE_MS),
	DP(keepalive_mult, "intervals", 1, 100, DP_DEF_KEEPALIVE_MULT),
	CP(backoff_initial_ms, "ms", 1, 3600000, DP_DEF_BACKOFF_INITIAL_MS),
	CP(backoff_mult_pct, "percent", 100, 1000, DP_DEF_BACKOFF_MULT_PCT),
	CP(backoff_jitter_pct, "percent", 0, 100, DP_DEF_BACKOFF_JITTER_PCT),
	CP(backoff_max_ms, "ms", 1, 86400000, DP_DEF_BACKOFF_MAX_MS),
	CP(log_drop_interval_s, "s", 1, 3600, CP_DEF_LOG_DROP_INTERVAL_S),
	CP(log_flap_interval_s, "s", 1, 3600, CP_DEF_LOG_FLAP_INTERVAL_S),
	DP(stage_stats, "0/1", 0, 1, 0),
	/* TEST ONLY (it_notify): 0, or 1 + the index of a worker to park;
	 * refused unless gwartd runs with --test-hooks (cp->test_hooks). */
	DP(test_stall, "worker+1", 0, DP_MAX_WORKERS, 0),
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
		.log_drop_interval_s = CP_DEF_LOG_DROP_INTERVAL_S,
		.log_flap_interval_s = CP_DEF_LOG_FLAP_INTERVAL_S,
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

unsigned cp_tunable_count(void)
{
	return N_TUNABLES;
}

uint64_t cp_tunable_default(unsigned i)
{
	return i < N_TUNABLES ? tunables[i].def : 0;
}

void cp_tunables_get_all(struct cp_ctx *cp, uint64_t *v)
{
	unsigned i;

	for (i = 0; i < N_TUNABLES; i++)
		cp_tunable_get(cp, tunables[i].name, &v[i]);
}

#define IDX(n) ((unsigned)cp_tunable_index(#n))

/*
 * The cross-field rules the bounds cannot express, over a whole set of
 * values: what the dataplane refuses (an RTO that starts above its cap),
 * what control refuses (a backoff that starts above its cap), and a failure
 * interval (keepalive_ms x keepalive_mult: a silent session stays up that
 * long, its custody held) of at most CP_DEAD_INTERVAL_MAX_MS.
 */
int cp_tunables_check(const uint64_t *v, unsigned blame[2], char *err, size_t errlen)
{
	static const struct {
		const char *lo, *hi;
	} le[] = {
		{"rto_us", "rto_max_us"},
		{"backoff_initial_ms", "backoff_max_ms"},
	};
	unsigned i, ka = IDX(keepalive_ms), km = IDX(keepalive_mult);

	for (i = 0; i < sizeof(le) / sizeof(le[0]); i++) {
		unsigned a = (unsigned)cp_tunable_index(le[i].lo);
		unsigned b = (unsigned)cp_tunable_index(le[i].hi);

		if (v[a] > v[b]) {
			blame[0] = a;
			blame[1] = b;
			snprintf(err, errlen, "tunable %s (%llu) must not exceed %s (%llu)", le[i].lo,
				 (unsigned long long)v[a], le[i].hi, (unsigned long long)v[b]);
			return -EINVAL;
		}
	}
	if (v[ka] * v[km] > CP_DEAD_INTERVAL_MAX_MS) {
		blame[0] = ka;
		blame[1] = km;
		snprintf(err, errlen,
			 "tunables keepalive_ms x keepalive_mult (%llu x %llu = %llu ms) must not "
			 "exceed %u ms (a silent session is declared down within an hour)",
			 (unsigned long long)v[ka], (unsigned long long)v[km],
			 (unsigned long long)(v[ka] * v[km]), CP_DEAD_INTERVAL_MAX_MS);
		return -EINVAL;
	}
	return 0;
}

int cp_tunables_set_all(struct cp_ctx *cp, const uint64_t *v, char *err, size_t errlen)
{
	uint64_t cur[CP_TUNABLES_MAX];
	struct dp_tunables t;
	struct cp_settings s = cp->set;
	unsigned i, blame[2], dp_changed = 0;
	char why[256];
	int rc;

	_Static_assert(N_TUNABLES <= CP_TUNABLES_MAX, "CP_TUNABLES_MAX holds every tunable");
	if (err == NULL) {
		err = why;
		errlen = sizeof(why);
	}
	cp_tunables_get_all(cp, cur);
	memcpy(&t, cp->rt->tun, sizeof(t));
	for (i = 0; i < N_TUNABLES; i++) {
		if (v[i] < tunables[i].min || v[i] > tunables[i].max) {
			snprintf(err, errlen, "%s: %llu is out of range [%llu, %llu] %s",
				 tunables[i].name, (unsigned long long)v[i],
				 (unsigned long long)tunables[i].min,
				 (unsigned long long)tunables[i].max, tunables[i].unit);
			return -EINVAL;
		}
		if (v[i] == cur[i])
			continue;
		/* A parked worker is a test's doing, never an operator's. */
		if (i == IDX(test_stall) && !cp->test_hooks) {
			snprintf(err, errlen, "test_stall is a test-only tunable: gwartd must be "
					      "started with --test-hooks");
			return -EPERM;
		}
		if (tunables[i].obj == TUN_CP) {
			*(uint32_t *)((char *)&s + tunables[i].off) = (uint32_t)v[i];
		} else {
			*(uint32_t *)((char *)&t + tunables[i].off) = (uint32_t)v[i];
			dp_changed = 1;
		}
	}
	rc = cp_tunables_check(v, blame, err, errlen);
	if (rc != 0) {
		cp->stats.tunables_refused++;
		return rc;
	}
	/* The dataplane's first (it can fail): one publication for all. */
	if (dp_changed) {
		rc = dp_router_set_tunables(cp->rt, &t);
		if (rc != 0) {
			snprintf(err, errlen, "the dataplane refused the tunables: %s", strerror(-rc));
			return rc;
		}
	}
	cp->set = s;
	if (v[IDX(keepalive_ms)] != cur[IDX(keepalive_ms)] ||
	    v[IDX(keepalive_mult)] != cur[IDX(keepalive_mult)]) {
		uint32_t id;

		/* A shorter failure interval applies to live sessions now:
		 * re-arm them (a walk over the connectors that exist). */
		cp_sessions_set_dead_us(&cp->sess,
					(uint64_t)t.keepalive_ms * t.keepalive_mult * 1000u);
		for (id = dp_conn_next(cp->rt, 0); id != 0; id = dp_conn_next(cp->rt, id))
			cp_sess_retime(&cp->sess, id);
	}
	return 0;
}

int cp_tunable_set_err(struct cp_ctx *cp, const char *name, uint64_t value, char *err,
		       size_t errlen)
{
	uint64_t v[CP_TUNABLES_MAX];
	int i = cp_tunable_index(name);

	if (i < 0) {
		if (err != NULL)
			snprintf(err, errlen, "no tunable %s", name);
		return -ENOENT;
	}
	cp_tunables_get_all(cp, v);
	v[i] = value;
	return cp_tunables_set_all(cp, v, err, errlen);
}

int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value)
{
	return cp_tunable_set_err(cp, name, value, NULL, 0);
}
