/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The log's front end (control/log.c), without DPDK: type and level names
 * (tables), get/set by number and by name with their refusals (-ENOENT
 * for an unknown type, -EINVAL for an unknown level, nothing changed),
 * "all", the config's levels with a type the command line pinned, and the
 * lines a backend receives (filtering by level, the format).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "log.h"

static struct {
	unsigned sets, writes;
	unsigned last_type, last_level;
	unsigned set_type, set_level;
	char line[CP_LOG_LINE_MAX + 64];
} be;

static void be_set(unsigned type, unsigned level)
{
	be.sets++;
	be.set_type = type;
	be.set_level = level;
}

static void be_write(unsigned type, unsigned level, const char *line)
{
	be.writes++;
	be.last_type = type;
	be.last_level = level;
	snprintf(be.line, sizeof(be.line), "%s", line);
}

static const struct cp_log_backend backend = {.set = be_set, .write = be_write};

static void setup(void)
{
	static const uint8_t info[CP_LOG_N_TYPES] = {7, 7, 7, 7};

	memset(&be, 0, sizeof(be));
	cp_log_backend_set(&backend, info, NULL);
}

TestSuite(log, .init = setup);

Test(log, type_names)
{
	static const struct {
		const char *name;
		int type;
	} t[] = {
		/* 1 */ {"dataplane", CP_LOG_DATAPLANE},
		/* 2 */ {"gwart.dataplane", CP_LOG_DATAPLANE},
		/* 3 */ {"Control", CP_LOG_CONTROL},
		/* 4 */ {"GWART.SESSION", CP_LOG_SESSION},
		/* 5 */ {"config", CP_LOG_CONFIG},
		/* 6 */ {"all", CP_LOG_ALL},
		/* 7 */ {"gwart.all", -ENOENT},
		/* 8 */ {"gwart.", -ENOENT},
		/* 9 */ {"", -ENOENT},
		/* 10 */ {"sessions", -ENOENT},
		/* 11 */ {"eal", -ENOENT},
		/* 12 */ {NULL, -ENOENT},
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(cp_log_type_parse(t[i].name), t[i].type, "case %u (%s)", i + 1,
			     t[i].name ? t[i].name : "NULL");
	cr_assert_str_eq(cp_log_type_name(CP_LOG_SESSION), "gwart.session");
	cr_assert_null(cp_log_type_name(CP_LOG_N_TYPES));
}

Test(log, level_names)
{
	static const struct {
		const char *name;
		int level;
	} t[] = {
		/* 1 */ {"emerg", 1},     /* 2 */ {"emergency", 1}, /* 3 */ {"alert", 2},
		/* 4 */ {"crit", 3},      /* 5 */ {"critical", 3},  /* 6 */ {"err", 4},
		/* 7 */ {"error", 4},     /* 8 */ {"WARNING", 5},   /* 9 */ {"notice", 6},
		/* 10 */ {"info", 7},     /* 11 */ {"debug", 8},    /* 12 */ {"1", 1},
		/* 13 */ {"8", 8},        /* 14 */ {"0", -EINVAL},  /* 15 */ {"9", -EINVAL},
		/* 16 */ {"18", -EINVAL}, /* 17 */ {"warn", -EINVAL}, /* 18 */ {"", -EINVAL},
		/* 19 */ {"disabled", -EINVAL}, /* 20 */ {NULL, -EINVAL},
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(cp_log_level_parse(t[i].name), t[i].level, "case %u (%s)", i + 1,
			     t[i].name ? t[i].name : "NULL");
	/* Each name prints back as itself, syslog's spelling. */
	for (i = 1; i <= 8; i++)
		cr_assert_eq(cp_log_level_parse(cp_log_level_name(i)), (int)i);
	cr_assert_null(cp_log_level_name(0));
	cr_assert_null(cp_log_level_name(9));
}

Test(log, set_get_and_refusals)
{
	const char *lv = NULL;

	cr_assert_eq(cp_log_set("session", "debug"), 0);
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_DEBUG);
	cr_assert_eq(be.sets, 1, "the backend hears of the change");
	cr_assert_eq(be.set_type, CP_LOG_SESSION);
	cr_assert_eq(be.set_level, CP_LOG_DEBUG);
	cr_assert_eq(cp_log_get("gwart.session", &lv), 0);
	cr_assert_str_eq(lv, "debug");
	/* The same level again: nothing to tell the backend. */
	cr_assert_eq(cp_log_set("gwart.session", "8"), 0);
	cr_assert_eq(be.sets, 1);

	cr_assert_eq(cp_log_set("sesion", "debug"), -ENOENT);
	cr_assert_eq(cp_log_set("session", "loud"), -EINVAL);
	cr_assert_eq(cp_log_set("nope", "loud"), -ENOENT, "the type is checked first");
	cr_assert_eq(cp_log_set_level(CP_LOG_N_TYPES + 1, CP_LOG_INFO), -ENOENT);
	cr_assert_eq(cp_log_set_level(CP_LOG_SESSION, 0), -EINVAL);
	cr_assert_eq(cp_log_set_level(CP_LOG_SESSION, 9), -EINVAL);
	cr_assert_eq(cp_log_get_level(CP_LOG_N_TYPES), -ENOENT);
	cr_assert_eq(cp_log_get("all", &lv), -ENOENT, "all has no single level");
	cr_assert_eq(cp_log_get("x", &lv), -ENOENT);
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_DEBUG, "refusals change nothing");
	cr_assert_eq(be.sets, 1);

	cr_assert_eq(cp_log_set("all", "err"), 0);
	for (unsigned t = 0; t < CP_LOG_N_TYPES; t++)
		cr_assert_eq(cp_log_get_level(t), CP_LOG_ERR, "type %u", t);
	cr_assert_eq(be.sets, 5);
}

/* The config's levels: named types set, others kept, a pinned one kept
 * with a notice under gwart.config saying why. */
Test(log, apply_config_and_pins)
{
	static const uint8_t start[CP_LOG_N_TYPES] = {7, 7, 8, 7};
	static const uint8_t pin[CP_LOG_N_TYPES] = {0, 0, 1, 0};
	uint8_t want[CP_LOG_N_TYPES] = {[CP_LOG_DATAPLANE] = CP_LOG_WARNING,
					[CP_LOG_SESSION] = CP_LOG_NOTICE};

	cp_log_backend_set(&backend, start, pin);
	cr_assert_eq(cp_log_apply_config(want), 0);
	cr_assert_eq(cp_log_get_level(CP_LOG_DATAPLANE), CP_LOG_WARNING);
	cr_assert_eq(cp_log_get_level(CP_LOG_CONTROL), CP_LOG_INFO, "not named: kept");
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_DEBUG, "pinned: kept");
	cr_assert_eq(be.last_type, CP_LOG_CONFIG);
	cr_assert(strstr(be.line, "config notice: log: gwart.session stays debug as --log-level "
				  "gave it (config says notice;") != NULL, "%s", be.line);
	/* An operator's runtime change still applies to a pinned type. */
	cr_assert_eq(cp_log_set("session", "info"), 0);
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_INFO);
	want[CP_LOG_CONFIG] = 9;
	cr_assert_eq(cp_log_apply_config(want), -EINVAL);
	cr_assert_eq(cp_log_get_level(CP_LOG_CONFIG), CP_LOG_INFO, "refused: nothing applied");
}

Test(log, lines_filtered_and_formatted)
{
	cr_assert(cp_log_enabled(CP_LOG_SESSION, CP_LOG_INFO));
	cr_assert(!cp_log_enabled(CP_LOG_SESSION, CP_LOG_DEBUG));
	cr_assert(!cp_log_enabled(CP_LOG_N_TYPES, CP_LOG_EMERG));
	cp_log(CP_LOG_SESSION, CP_LOG_DEBUG, "hidden %d", 1);
	cr_assert_eq(be.writes, 0);
	cp_log(CP_LOG_DATAPLANE, CP_LOG_WARNING, "drops: %d X", 5);
	cr_assert_eq(be.writes, 1);
	cr_assert_eq(be.last_type, CP_LOG_DATAPLANE);
	cr_assert_eq(be.last_level, CP_LOG_WARNING);
	cr_assert(strncmp(be.line, "gwartd: ", 8) == 0, "%s", be.line);
	cr_assert(strstr(be.line, " dataplane warning: drops: 5 X\n") != NULL, "%s", be.line);
	/* A level change is itself a notice under gwart.control. */
	cr_assert_eq(cp_log_set("session", "debug"), 0);
	cr_assert_eq(be.last_type, CP_LOG_CONTROL);
	cr_assert(strstr(be.line, "control notice: log level of gwart.session: debug (was info)") !=
		  NULL, "%s", be.line);
	cp_log(CP_LOG_SESSION, CP_LOG_DEBUG, "shown %d", 2);
	cr_assert(strstr(be.line, " session debug: shown 2\n") != NULL, "%s", be.line);
}
