/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration reload and show (control/reload.c): the difference between
 * the running state and a parsed configuration file, applied through the
 * same cp_* actions the control API uses, while traffic flows; and the
 * running state printed back as a file that --check-config accepts.
 *
 * What a reload may change: connectors (add, delete, rename, key, enabled),
 * routes (add, delete, targets and costs), tunables (a tunable the file does
 * not name goes back to its default; test_stall is never touched unless the
 * file names it). What it may not: the restart-only keys (udp_port, control,
 * ports, eal, metrics, capture), compared with the start-up file's as read;
 * a file that changes one of them, or fails any check, changes nothing.
 *
 * Order, so that no route ever names a missing connector and no message is
 * lost: tunables, new connectors, renames/keys/enabled of kept ones, routes
 * added or replaced (dp_route_add replaces a route's targets in place, one
 * RCU publication: no gap), routes removed, then connectors removed. A
 * connector to remove that still holds messages in custody is drained
 * (disabled: nothing new is routed to it; custody flows out to it while its
 * session lives) and deleted from a timer once its custody is empty; it is
 * reported as pending until then. A later reload that names it again keeps
 * it (and enables it again unless the file says "enabled": false).
 *
 * Threading: control thread only, like every cp_* action.
 */
#ifndef GWART_CP_RELOAD_H
#define GWART_CP_RELOAD_H

#include <stddef.h>

#include "config.h"
#include "cp.h"

#define CP_RELOAD_PENDING_US 100000 /* us: custody re-read of a pending delete */

/* What one reload did, by kind of change. */
struct cp_reload_report {
	unsigned connectors_added;
	unsigned connectors_deleted;
	unsigned connectors_pending;  /* to delete once their custody is empty */
	unsigned connectors_renamed;
	unsigned keys_changed;
	unsigned connectors_enabled;
	unsigned connectors_disabled;
	unsigned routes_added;
	unsigned routes_changed;      /* targets or costs replaced in place */
	unsigned routes_deleted;
	unsigned tunables_changed;
	unsigned log_levels_changed;  /* log types whose level the file changed */
};

/*
 * Remember what start-up applied: the --config file's path (@path; NULL
 * when gwartd runs the embedded default), the restart-only members of
 * @started as read, and for each connector whose key came from a key_file
 * that path (config show prints it instead of the key). Call once after
 * cp_config_apply(). 0 or -ENOMEM.
 */
int cp_reload_init(struct cp_ctx *cp, const char *path, const struct cp_config *started);
void cp_reload_fini(struct cp_ctx *cp);

/*
 * Apply @next (parsed and shape-checked by cp_config_parse) as the whole
 * desired state. Every check runs before the first change: restart-only
 * keys, tunables (bounds, cross-field, test_stall), key files read, names.
 * 0 with *@rep filled; -EINVAL (a check failed, nothing changed), -EPERM
 * (test_stall without --test-hooks, nothing changed), or the errno of an
 * action that failed part-way (-ENOMEM, -ENOSPC: the changes before it
 * stay, counted in *@rep), with a message in @err.
 */
int cp_config_reload(struct cp_ctx *cp, const struct cp_config *next,
		     struct cp_reload_report *rep, char *err, size_t errlen);
/* Read, parse and apply @path (NULL: the start-up file; -ENOENT when
 * gwartd was started without --config). The path used is in *@used. */
int cp_config_reload_file(struct cp_ctx *cp, const char *path, struct cp_reload_report *rep,
			  const char **used, char *err, size_t errlen);

/*
 * The running configuration as a config file's JSON (new reference): the
 * restart-only members as start-up read them, every tunable but test_stall,
 * connectors (key_file where the key came from one; the key itself only
 * with @with_keys, else -EPERM naming the connector), routes. Connectors
 * pending deletion are left out (they are going). NULL with -errno in *@rc
 * and a message in @err.
 */
struct json_t *cp_config_show(struct cp_ctx *cp, int with_keys, int *rc, char *err,
			      size_t errlen);

/* SIGHUP: a handler that only writes to a pipe the loop watches; the loop
 * reloads the start-up file and logs the result. 0 or -errno. */
int cp_reload_sighup_init(struct cp_ctx *cp);

/* The report as {"connectors_added": N, ...} (new reference, NULL: ENOMEM). */
struct json_t *cp_reload_report_json(const struct cp_reload_report *rep);

#endif
