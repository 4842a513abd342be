/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control API: a dispatch table from command names ("route.add") to
 * handlers that parse the request's arguments, call the one cp_* action
 * function for that operation (the same the config loader calls) and build
 * the result. The socket (control/sock.c) only frames lines; gwartctl only
 * turns results into tables and error codes into messages.
 *
 * The protocol (framing, command and error names) is include/gwart/ctl.h.
 * Error names are the action's negative errno, by name. What they mean for
 * every command: EINVAL a bad or out-of-range argument (or a bad request),
 * ENOENT an unknown connector, route or tunable, EEXIST an id or route key
 * already taken, EBUSY an object still in use (a route names the connector,
 * custody holds messages for it), ENOSPC a full table, EOPNOTSUPP an unknown
 * command. The command table at the end of api.c lists each command's
 * arguments; `gwartctl --help` documents the client side.
 *
 * Threading: control thread only (handlers call cp_* actions and read
 * connector objects with dp_conn_peek()).
 */
#ifndef GWART_CP_API_H
#define GWART_CP_API_H

#include <jansson.h>

#include "cp.h"

/* Execute one request object and return the reply object (new reference).
 * Never NULL except when out of memory. */
json_t *cp_api_handle(struct cp_ctx *cp, json_t *req);

/*
 * The request's envelope, checked before any handler runs and without a
 * router (the fuzz target tests/fuzz/fuzz_ctl_request.c drives it): "cmd" a
 * string naming a command of the table, "args" absent or an object. 0 with
 * *@cmd (index for cp_api_cmd_name()) and *@args (borrowed, NULL: absent)
 * set; -EINVAL (bad envelope) or -EOPNOTSUPP (unknown command) with a
 * message in @err. Each command's own arguments are its handler's checks.
 */
int cp_api_parse_request(json_t *req, unsigned *cmd, json_t **args, char *err, size_t errlen);
/* The name of command @i of the table, NULL past its end. */
const char *cp_api_cmd_name(unsigned i);

/* cp_api_handle() as the socket's handler (control/sock.h); @cp is the
 * struct cp_ctx. */
json_t *cp_api_sock_handler(void *cp, json_t *req);

#endif
