/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log's front end (see log.h): names, levels, formatting, and the
 * backend that writes (stderr until gwartd installs rte_log's).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "loop.h"

static const char *const type_names[CP_LOG_N_TYPES] = {
	[CP_LOG_DATAPLANE] = "gwart.dataplane",
	[CP_LOG_CONTROL] = "gwart.control",
	[CP_LOG_SESSION] = "gwart.session",
	[CP_LOG_CONFIG] = "gwart.config",
};

/* syslog(3)'s names, index = level. */
static const char *const level_names[] = {
	NULL, "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
};
#define N_LEVELS (sizeof(level_names) / sizeof(level_names[0]))

/* The control thread's copy of each type's level (the backend's are set
 * through it), and which ones the command line gave. */
static uint8_t levels[CP_LOG_N_TYPES] = {
	CP_LOG_DEFAULT_LEVEL, CP_LOG_DEFAULT_LEVEL, CP_LOG_DEFAULT_LEVEL, CP_LOG_DEFAULT_LEVEL,
};
static uint8_t pinned[CP_LOG_N_TYPES];
static const struct cp_log_backend *backend;

const char *cp_log_type_name(unsigned type)
{
	return type < CP_LOG_N_TYPES ? type_names[type] : NULL;
}

int cp_log_type_parse(const char *name)
{
	unsigned t;

	if (name == NULL)
		return -ENOENT;
	if (strcasecmp(name, "all") == 0)
		return CP_LOG_ALL;
	if (strncasecmp(name, "gwart.", 6) == 0)
		name += 6;
	for (t = 0; t < CP_LOG_N_TYPES; t++)
		if (strcasecmp(name, type_names[t] + 6) == 0)
			return (int)t;
	return -ENOENT;
}

const char *cp_log_level_name(unsigned level)
{
	return level >= 1 && level < N_LEVELS ? level_names[level] : NULL;
}

int cp_log_level_parse(const char *name)
{
	static const struct {
		const char *alias;
		unsigned level;
	} aliases[] = {
		{"emergency", CP_LOG_EMERG}, {"critical", CP_LOG_CRIT}, {"error", CP_LOG_ERR},
	};
	unsigned i;

	if (name == NULL)
		return -EINVAL;
	if (name[0] >= '1' && name[0] <= '8' && name[1] == '\0')
		return name[0] - '0';
	for (i = 1; i < N_LEVELS; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcasecmp(name, aliases[i].alias) == 0)
			return (int)aliases[i].level;
	return -EINVAL;
}

int cp_log_get_level(unsigned type)
{
	return type < CP_LOG_N_TYPES ? levels[type] : -ENOENT;
}

static void set_one(unsigned type, unsigned level)
{
	unsigned old = levels[type];

	if (old == level)
		return;
	levels[type] = (uint8_t)level;
	if (backend != NULL)
		backend->set(type, level);
	/* After the change, so that a type raised to notice shows its own. */
	cp_log(CP_LOG_CONTROL, CP_LOG_NOTICE, "log level of %s: %s (was %s)", type_names[type],
	       level_names[level], level_names[old]);
}

int cp_log_set_level(unsigned type, unsigned level)
{
	unsigned t;

	if (type > CP_LOG_ALL)
		return -ENOENT;
	if (level < 1 || level >= N_LEVELS)
		return -EINVAL;
	for (t = 0; t < CP_LOG_N_TYPES; t++)
		if (type == CP_LOG_ALL || type == t)
			set_one(t, level);
	return 0;
}

int cp_log_set(const char *type, const char *level)
{
	int t = cp_log_type_parse(type), l;

	if (t < 0)
		return t;
	l = cp_log_level_parse(level);
	if (l < 0)
		return l;
	return cp_log_set_level((unsigned)t, (unsigned)l);
}

int cp_log_get(const char *type, const char **level)
{
	int t = cp_log_type_parse(type);

	if (t < 0 || t == CP_LOG_ALL)
		return -ENOENT;
	*level = level_names[levels[t]];
	return 0;
}

int cp_log_apply_config(const uint8_t want[CP_LOG_N_TYPES])
{
	unsigned t;

	for (t = 0; t < CP_LOG_N_TYPES; t++)
		if (want[t] >= N_LEVELS)
			return -EINVAL;
	for (t = 0; t < CP_LOG_N_TYPES; t++)
		if (want[t] != 0 && !pinned[t])
			set_one(t, want[t]);
	/* Then, at the levels just set, what the command line kept. */
	for (t = 0; t < CP_LOG_N_TYPES; t++)
		if (want[t] != 0 && pinned[t] && want[t] != levels[t])
			cp_log(CP_LOG_CONFIG, CP_LOG_NOTICE,
			       "log: %s stays %s as --log-level gave it (config says %s; "
			       "gwartctl log changes it at runtime)",
			       type_names[t], level_names[levels[t]], level_names[want[t]]);
	return 0;
}

int cp_log_enabled(unsigned type, unsigned level)
{
	return type < CP_LOG_N_TYPES && level <= levels[type];
}

void cp_log(unsigned type, unsigned level, const char *fmt, ...)
{
	char text[CP_LOG_LINE_MAX], line[CP_LOG_LINE_MAX + 64];
	va_list ap;

	if (!cp_log_enabled(type, level) || level < 1)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "gwartd: %.3f %s %s: %s\n", (double)cp_now_us() / 1e6,
		 type_names[type] + 6, level_names[level], text);
	if (backend != NULL)
		backend->write(type, level, line);
	else
		fputs(line, stderr);
}

void cp_log_backend_set(const struct cp_log_backend *b, const uint8_t lv[CP_LOG_N_TYPES],
			const uint8_t pin[CP_LOG_N_TYPES])
{
	unsigned t;

	backend = b;
	for (t = 0; t < CP_LOG_N_TYPES; t++) {
		levels[t] = lv != NULL && lv[t] >= 1 && lv[t] < N_LEVELS ? lv[t]
									: CP_LOG_DEFAULT_LEVEL;
		pinned[t] = pin != NULL && pin[t];
	}
}
