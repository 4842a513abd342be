/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartctl internals: the printers of human-readable results
 * (gwartctl_show.c), each taking the "result" of a reply, borrowed; the
 * connection (gwartctl.c) for commands of their own file (gwartctl_top.c).
 * Single-threaded, like the rest of gwartctl.
 */
#ifndef GWART_GWARTCTL_H
#define GWART_GWARTCTL_H

#include <jansson.h>

void ctl_print_status(json_t *r);
void ctl_print_stats(json_t *r);
void ctl_print_connectors(json_t *r);
void ctl_print_sessions(json_t *r);
void ctl_print_routes(json_t *r);
void ctl_print_tunables(json_t *r);
void ctl_print_drain(json_t *r);
void ctl_print_capture_stop(json_t *r);
void ctl_print_capture_status(json_t *r);
void ctl_print_reload(json_t *r);
void ctl_print_config(json_t *r);
void ctl_print_log(json_t *r);

/* Exit codes, one per kind of failure (gwartctl --help, gwartctl(8)). */
enum ctl_exit {
	EX_OK = 0,
	EX_ERROR = 1,     /* anything else */
	EX_USAGE = 2,     /* usage, bad arguments (EINVAL, ERANGE, E2BIG, EOPNOTSUPP) */
	EX_NOENT = 3,     /* unknown connector, route or tunable (ENOENT) */
	EX_DOWN = 4,      /* daemon not running, socket unreachable, connection lost */
	EX_CONFLICT = 5,  /* exists already or busy (EEXIST, EBUSY) */
	EX_PERM = 6,      /* permission denied (EACCES, EPERM) */
};

/* The connection to gwartd (gwartctl.c), opaque here. */
struct ctl;

/* One request @cmd with @args (stolen; NULL: {}), one reply. EX_OK with
 * *@result borrowed from *@reply, which the caller releases; else the
 * daemon's message (or why it could not be asked) is printed and the
 * exit code returned. Connects first when not connected. */
int ctl_call(struct ctl *c, const char *cmd, json_t *args, json_t **reply, json_t **result);
/* Close the connection; the next ctl_call() connects again. */
void ctl_disconnect(struct ctl *c);

/* gwartctl top [--once] [--interval S] (gwartctl_top.c): @argv the words
 * after "top". */
int ctl_top(struct ctl *c, int argc, char **argv);

#endif
