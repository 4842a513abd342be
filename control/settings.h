/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-only settings (reconnection backoff, log rate limits) and the table of
 * runtime tunables that gwartctl get/set and the config's "tunables" name:
 * each entry points at a field of either this struct or the dataplane's
 * struct dp_tunables (published to workers under RCU). Only the dataplane
 * object crosses to the workers; these never leave the control thread.
 */
#ifndef GWART_CP_SETTINGS_H
#define GWART_CP_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

/* Control thread only: plain reads and writes. */
struct cp_settings {
	uint32_t backoff_initial_ms; /* first reconnection delay (gRPC's default 1 s) */
	uint32_t backoff_mult_pct;   /* growth per attempt, percent (160 = x1.6) */
	uint32_t backoff_jitter_pct; /* +- percent */
	uint32_t backoff_max_ms;
	/* Rate-limited log lines (log levels themselves: log.h). */
	uint32_t log_drop_interval_s;  /* one drop line per reason per interval */
	uint32_t log_flap_interval_s;  /* CP_SESS_LOG_BURST lines per connector per interval */
};

#define CP_DEF_LOG_DROP_INTERVAL_S 10  /* s: "N AUTH_FAILED in the last 10 s" */
#define CP_DEF_LOG_FLAP_INTERVAL_S 60  /* s: a flapping connector, a line or so a minute */

/* The defaults (tuning.h's DP_DEF_BACKOFF_*, the CP_DEF_LOG_* above). */
void cp_settings_defaults(struct cp_settings *s);

struct cp_ctx;

/* The most tunables the table may hold (arrays of values are this long). */
#define CP_TUNABLES_MAX 32u
/* ms: keepalive_ms x keepalive_mult at most, the longest a silent session
 * stays up (and its custody waits for it): one hour. */
#define CP_DEAD_INTERVAL_MAX_MS 3600000u

/* Runtime tunables, by name (e.g. "custody_limit"): -ENOENT unknown name,
 * -EINVAL out of range or inconsistent with the others (cp_tunables_check),
 * -EPERM test_stall without --test-hooks. A dataplane tunable is published
 * under RCU and applies without stopping traffic; a control setting applies
 * at once. _err: the reason in @err (NULL: none). Control thread. */
int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value);
int cp_tunable_set_err(struct cp_ctx *cp, const char *name, uint64_t value, char *err,
		       size_t errlen);
/*
 * The whole set at once, @v indexed as cp_tunable_info() (the config loader
 * and reload: several tunables that are only consistent together, e.g.
 * rto_us and rto_max_us both raised). Bounds, then cross-field rules, then
 * one publication of the dataplane's tunables; nothing changes on failure.
 * 0, -EINVAL or -EPERM (as cp_tunable_set) with a message in @err.
 */
int cp_tunables_set_all(struct cp_ctx *cp, const uint64_t *v, char *err, size_t errlen);
/* The values now, into v[0..cp_tunable_count()). */
void cp_tunables_get_all(struct cp_ctx *cp, uint64_t *v);
/* The cross-field rules over a whole set (no context: --check-config uses
 * it): rto_us <= rto_max_us, backoff_initial_ms <= backoff_max_ms,
 * keepalive_ms x keepalive_mult <= CP_DEAD_INTERVAL_MAX_MS. 0, or -EINVAL
 * with the two tunables' indexes in @blame and a message naming them. */
int cp_tunables_check(const uint64_t *v, unsigned blame[2], char *err, size_t errlen);
unsigned cp_tunable_count(void);
/* Tunable @i's value before any config or set. */
uint64_t cp_tunable_default(unsigned i);
int cp_tunable_get(struct cp_ctx *cp, const char *name, uint64_t *value);
/* Enumerate: name, unit and bounds of tunable @i; NULL past the end. */
const char *cp_tunable_info(unsigned i, const char **unit, uint64_t *min, uint64_t *max);
/* Index of tunable @name, or -1. */
int cp_tunable_index(const char *name);

#endif
