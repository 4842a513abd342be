/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartd's log: four log types of its own, each with a level that changes
 * at runtime (gwartctl log TYPE LEVEL, the config's "log", reload):
 *
 *   gwart.dataplane  what the workers did, as the control thread sees it
 *                    (the rate-limited drop lines, droplog.c)
 *   gwart.control    the control thread itself: socket, shutdown, levels
 *   gwart.session    sessions up and down (rate-limited per connector),
 *                    reconnection probes (debug)
 *   gwart.config     configuration applied at start-up and on reload
 *
 * Levels are rte_log's (syslog's priorities plus one): 1 emerg .. 8 debug;
 * a line is written when its level <= its type's level.
 *
 * Two layers, so that the DPDK-free part of the control plane (the loop,
 * the session machine: gwart-cp-core, which the unit tests link without
 * DPDK) logs through the same cp_log():
 *  - this file's front end: type and level names, the level of each type
 *    (a plain array read by cp_log_enabled(), no call), formatting; by
 *    default it writes to stderr;
 *  - a backend that gwartd installs once EAL is up (log_rte.c,
 *    cp_log_rte_init()): the types registered with rte_log (so EAL's
 *    --log-level=gwart.*:debug applies to them), every level change
 *    passed to rte_log_set_level(), every line written with rte_log() to
 *    DPDK's log stream (stderr or stdout and syslog, as EAL set it up, or
 *    what rte_openlog_stream() chose).
 *
 * Threading: the control thread only (the workers never log: they count,
 * and the control thread reports; dataplane/api/stats.h).
 */
#ifndef GWART_CP_LOG_H
#define GWART_CP_LOG_H

#include <stdint.h>

enum cp_log_type {
	CP_LOG_DATAPLANE,
	CP_LOG_CONTROL,
	CP_LOG_SESSION,
	CP_LOG_CONFIG,
	CP_LOG_N_TYPES,
};
/* cp_log_type_parse("all"): every type at once (cp_log_set_level()). */
#define CP_LOG_ALL CP_LOG_N_TYPES

/* rte_log's levels (RTE_LOG_EMERG .. RTE_LOG_DEBUG; log_rte.c checks). */
#define CP_LOG_EMERG 1u
#define CP_LOG_ALERT 2u
#define CP_LOG_CRIT 3u
#define CP_LOG_ERR 4u
#define CP_LOG_WARNING 5u
#define CP_LOG_NOTICE 6u
#define CP_LOG_INFO 7u
#define CP_LOG_DEBUG 8u
/* Every type's level until the backend, EAL's --log-level or the config
 * says otherwise (rte_log's usual default). */
#define CP_LOG_DEFAULT_LEVEL CP_LOG_INFO

/* "gwart.session" for CP_LOG_SESSION; NULL past the end. */
const char *cp_log_type_name(unsigned type);
/* "session" or "gwart.session" (any case), "all" (CP_LOG_ALL): the type,
 * or -ENOENT. */
int cp_log_type_parse(const char *name);
/* "info" for CP_LOG_INFO (syslog's names); NULL outside 1..8. */
const char *cp_log_level_name(unsigned level);
/* emerg, alert, crit, err, warning, notice, info, debug (any case), DPDK's
 * spellings emergency, critical, error, and 1..8: the level, or -EINVAL. */
int cp_log_level_parse(const char *name);

/* ---- actions (control API log.get/log.set, config "log", reload) ----------------
 * The level of @type (CP_LOG_DATAPLANE..CP_LOG_CONFIG), or -ENOENT. */
int cp_log_get_level(unsigned type);
/* Set @type's level (CP_LOG_ALL: every type), logged at notice under
 * gwart.control when it changes. 0, -ENOENT bad type, -EINVAL bad level. */
int cp_log_set_level(unsigned type, unsigned level);
/* The same by names ("session"/"gwart.session"/"all", "debug"), as gwartctl
 * and the reload send them: 0, -ENOENT unknown type, -EINVAL unknown level. */
int cp_log_set(const char *type, const char *level);
/* The level name of @type by name: 0 and *@level, or -ENOENT. */
int cp_log_get(const char *type, const char **level);
/*
 * The config's "log" at start-up and on reload: @levels[t] (0: not named)
 * for each type, except those whose level EAL's --log-level gave on the
 * command line (command-line arguments win, as for "eal"), which are kept
 * with a notice. 0, or -EINVAL for a level out of 1..8.
 */
int cp_log_apply_config(const uint8_t levels[CP_LOG_N_TYPES]);

/* ---- lines ------------------------------------------------------------------------ */
/* Whether a line of @type at @level would be written (an array read). */
int cp_log_enabled(unsigned type, unsigned level);
/* One line "gwartd: <seconds> <type> <level>: <text>" (monotonic seconds,
 * the loop's clock), when enabled; the text is cut at CP_LOG_LINE_MAX. */
#define CP_LOG_LINE_MAX 512
void cp_log(unsigned type, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- backend (log_rte.c) ---------------------------------------------------------- */
struct cp_log_backend {
	/* A level change, after the front end accepted it. */
	void (*set)(unsigned type, unsigned level);
	/* One formatted line, newline included. */
	void (*write)(unsigned type, unsigned level, const char *line);
};
/* Install @b (NULL: back to stderr) with the levels each type starts at
 * and which of them the command line set (@pinned[t] nonzero: the config's
 * "log" leaves it). Start-up only. */
void cp_log_backend_set(const struct cp_log_backend *b, const uint8_t levels[CP_LOG_N_TYPES],
			const uint8_t pinned[CP_LOG_N_TYPES]);

#endif
