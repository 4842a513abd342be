/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control-socket protocol between gwartd and its clients (gwartctl):
 * where the socket lives, its framing bounds, the command names and the
 * error names a reply can carry. Plain C, no DPDK: gwartctl and any other
 * client include it with jansson and libc only.
 *
 * Framing: a UNIX stream socket, one JSON object per line each way.
 *   Request:  {"cmd": GW_CTL_CMD_*, "args": {...}, "id": <any, echoed>}
 *   Reply:    {"ok": true,  "result": <value>}
 *             {"ok": false, "errno": GW_CTL_E*, "error": TEXT}
 */
#ifndef GWART_CTL_H
#define GWART_CTL_H

/* The socket gwartd opens unless told otherwise (--socket, the config's
 * "control": {"socket"}); clients also read $GWART_SOCKET. */
#define GW_CTL_SOCKET_DEFAULT "/run/gwart/gwartd.sock"
#define GW_CTL_SOCKET_ENV "GWART_SOCKET"

/* Bytes per request line, '\n' included: a longer line is answered with
 * GW_CTL_E2BIG and the connection closed. */
#define GW_CTL_MAX_REQUEST (64 * 1024)
/* Arrays and objects a request may nest (the request object itself is
 * depth 1, its "args" 2): a deeper line is answered with GW_CTL_EINVAL
 * before it is parsed. */
#define GW_CTL_MAX_DEPTH 16
/* A client that sends nothing and reads nothing for this long is closed
 * (gwartd's default; the config's "control": {"idle_timeout_ms"}). */
#define GW_CTL_IDLE_TIMEOUT_MS 10000
/* Connector ids a request may name: 1..GW_CTL_MAX_CONN_ID. */
#define GW_CTL_MAX_CONN_ID 65535

/* Commands (their arguments: control/api.c's table, gwartctl --help). */
#define GW_CTL_CMD_STATUS "status"
#define GW_CTL_CMD_STATS "stats"
#define GW_CTL_CMD_CONNECTORS "connectors"
#define GW_CTL_CMD_SESSIONS "sessions"
#define GW_CTL_CMD_ROUTES "routes"
#define GW_CTL_CMD_ROUTE_ADD "route.add"
#define GW_CTL_CMD_ROUTE_DEL "route.del"
/* connector.add {id, name, key}: every connector needs its key (deny by
 * default). */
#define GW_CTL_CMD_CONN_ADD "connector.add"
#define GW_CTL_CMD_CONN_DEL "connector.del"
/* connector.set_key {id, key}: key text, as connector.add's "key" (64 hex
 * digits or base64 of 32 bytes). Listings never show a key: "key": "set"
 * and "key_id", its fingerprint. */
#define GW_CTL_CMD_CONN_SET_KEY "connector.set_key"
#define GW_CTL_CMD_CONN_ENABLE "connector.enable"
#define GW_CTL_CMD_CONN_DISABLE "connector.disable"
#define GW_CTL_CMD_CONN_RECONNECT "connector.reconnect"
#define GW_CTL_CMD_CONN_DRAIN "connector.drain"
#define GW_CTL_CMD_GET "get"
#define GW_CTL_CMD_SET "set"
#define GW_CTL_CMD_SHUTDOWN "shutdown"
/* Packet capture to a pcapng file (control/capture.h). */
#define GW_CTL_CMD_CAPTURE_START "capture.start"   /* {file, connector?, snaplen?} -> {file} */
#define GW_CTL_CMD_CAPTURE_STOP "capture.stop"     /* -> {file, frames, bytes, dropped} */
#define GW_CTL_CMD_CAPTURE_STATUS "capture.status" /* -> {active, file?, connector?, snaplen,
						    *     frames, bytes, dropped} */
/* {file?} -> {file, applied: {connectors_added, ...}}: the file (absolute
 * path, read by gwartd; absent: the --config file gwartd started with)
 * applied as the whole configuration, or nothing applied and why. */
#define GW_CTL_CMD_CONFIG_RELOAD "config.reload"
/* {with_keys?} -> {config: {...}}: the running configuration as a file. */
#define GW_CTL_CMD_CONFIG_SHOW "config.show"
/* log.get {} -> {"types": {"gwart.dataplane": "info", ...}}; log.set {type,
 * level}: type dataplane, control, session, config (or gwart.TYPE) or all,
 * level emerg, alert, crit, err, warning, notice, info, debug; answers as
 * log.get. Unknown type ENOENT, unknown level EINVAL. */
#define GW_CTL_CMD_LOG_GET "log.get"
#define GW_CTL_CMD_LOG_SET "log.set"

/* Error names ("errno" of a failed reply) and what they mean for every
 * command. The daemon may return others (ENOMEM, EIO) on internal failure. */
#define GW_CTL_EINVAL "EINVAL"         /* bad or out-of-range argument, bad request */
#define GW_CTL_ENOENT "ENOENT"         /* unknown connector, route or tunable */
#define GW_CTL_EEXIST "EEXIST"         /* id or route key already taken */
#define GW_CTL_EBUSY "EBUSY"           /* still in use (a route, custody), too many clients */
#define GW_CTL_ENOSPC "ENOSPC"         /* a full table */
#define GW_CTL_EOPNOTSUPP "EOPNOTSUPP" /* unknown command */
#define GW_CTL_E2BIG "E2BIG"           /* request line longer than GW_CTL_MAX_REQUEST */
#define GW_CTL_EACCES "EACCES"         /* peer not an allowed user or group */
#define GW_CTL_ETIMEDOUT "ETIMEDOUT"   /* closed: idle too long, or its slot given away */
#define GW_CTL_ENOMEM "ENOMEM"         /* the daemon ran out of memory */

#endif
