/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control-only settings (reconnection backoff, log level) and the table of
 * runtime tunables that gwartctl get/set and the config's "tunables" name:
 * each entry points at a field of either this struct or the dataplane's
 * struct dp_tunables (published to workers under RCU). Only the dataplane
 * object crosses to the workers; these never leave the control thread.
 */
#ifndef GWART_CP_SETTINGS_H
#define GWART_CP_SETTINGS_H

#include <stdint.h>

/* Control thread only: plain reads and writes. */
struct cp_settings {
	uint32_t backoff_initial_ms; /* first reconnection delay (gRPC's default 1 s) */
	uint32_t backoff_mult_pct;   /* growth per attempt, percent (160 = x1.6) */
	uint32_t backoff_jitter_pct; /* +- percent */
	uint32_t backoff_max_ms;
	uint32_t log_level;          /* 0 error, 1 warning, 2 info, 3 debug */
};

/* The defaults (tuning.h's DP_DEF_BACKOFF_*, log level 1). */
void cp_settings_defaults(struct cp_settings *s);

struct cp_ctx;

/* Runtime tunables, by name (e.g. "custody_limit"): -ENOENT unknown name,
 * -EINVAL out of range (or inconsistent: backoff_max_ms below
 * backoff_initial_ms). A dataplane tunable is published under RCU and
 * applies without stopping traffic; a control setting applies at once. */
int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value);
int cp_tunable_get(struct cp_ctx *cp, const char *name, uint64_t *value);
/* Enumerate: name, unit and bounds of tunable @i; NULL past the end. */
const char *cp_tunable_info(unsigned i, const char **unit, uint64_t *min, uint64_t *max);
/* Index of tunable @name, or -1. */
int cp_tunable_index(const char *name);

#endif
