/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log's rte_log backend (see log.h): gwart's four types registered
 * with rte_log, each level change passed to it, lines written by rte_log().
 */
#include <errno.h>

#include <rte_common.h>
#include <rte_log.h>

#include "cp.h"
#include "log.h"

_Static_assert(CP_LOG_EMERG == RTE_LOG_EMERG && CP_LOG_ERR == RTE_LOG_ERR &&
		       CP_LOG_WARNING == RTE_LOG_WARNING && CP_LOG_NOTICE == RTE_LOG_NOTICE &&
		       CP_LOG_INFO == RTE_LOG_INFO && CP_LOG_DEBUG == RTE_LOG_DEBUG,
	       "log.h's levels are rte_log's");

/* rte_log's id of each gwart type (-1: not registered yet). */
static int rte_type[CP_LOG_N_TYPES] = {-1, -1, -1, -1};

static void rte_set(unsigned type, unsigned level)
{
	rte_log_set_level((uint32_t)rte_type[type], level);
}

static void rte_write(unsigned type, unsigned level, const char *line)
{
	rte_log(level, (uint32_t)rte_type[type], "%s", line);
}

static const struct cp_log_backend rte_backend = {.set = rte_set, .write = rte_write};

/*
 * EAL's global --log-level (e.g. --log-level=warning) is a cap over every
 * type, gwart's included: left as it is, gwartctl log session debug could
 * never show a debug line. So the cap becomes each type's own level (same
 * effect for every type registered now: the EAL's and the drivers' too),
 * and the global level is lifted: after that only per-type levels filter.
 */
static void global_cap_to_types(void)
{
	uint32_t cap = rte_log_get_global_level();
	int lv;
	uint32_t t;

	if (cap >= RTE_LOG_DEBUG)
		return;
	for (t = 0; (lv = rte_log_get_level(t)) >= 0; t++)
		if ((uint32_t)lv > cap)
			rte_log_set_level(t, cap);
	rte_log_set_global_level(RTE_LOG_DEBUG);
}

int cp_log_rte_init(void)
{
	uint8_t levels[CP_LOG_N_TYPES], pinned[CP_LOG_N_TYPES];
	uint32_t cap = rte_log_get_global_level();
	unsigned t;
	int id;

	if (rte_type[0] >= 0)
		return 0; /* once per process: registering again would reset levels */
	/* EAL's Linux default stream writes each line to stderr and to
	 * syslog: under systemd both reach the journal, every line twice.
	 * stderr alone is what the unit's journal (and a test's log file)
	 * wants. */
	if (rte_openlog_stream(stderr) != 0)
		return -EINVAL;
	global_cap_to_types();
	for (t = 0; t < CP_LOG_N_TYPES; t++) {
		/* Level 0 as the fallback tells "no --log-level pattern
		 * matched" from a pattern that gave the default. */
		id = rte_log_register_type_and_pick_level(cp_log_type_name(t), 0);
		if (id < 0)
			return -ENOMEM;
		rte_type[t] = id;
		pinned[t] = rte_log_get_level((uint32_t)id) > 0;
		if (pinned[t])
			levels[t] = (uint8_t)rte_log_get_level((uint32_t)id);
		else
			levels[t] = CP_LOG_DEFAULT_LEVEL < cap ? CP_LOG_DEFAULT_LEVEL : (uint8_t)cap;
		rte_log_set_level((uint32_t)id, levels[t]);
	}
	cp_log_backend_set(&rte_backend, levels, pinned);
	return 0;
}
