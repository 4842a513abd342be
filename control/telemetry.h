/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart's commands on DPDK's telemetry socket (rte_telemetry, DPDK 22.11),
 * read with `dpdk-telemetry.py -f FILE_PREFIX` beside /ethdev/... :
 *
 *   /gwart/stats            cp_stats_json(), the object `gwartctl stats` shows
 *                           (less the control socket's own counters)
 *   /gwart/connectors[,ID]  the control API's "connectors" (`gwartctl connectors`)
 *   /gwart/sessions[,ID]    the control API's "sessions"
 *   /gwart/routes[,TYPE]    the control API's "routes"
 *   /gwart/workers          cp_stats_json()'s "workers"
 *   /gwart/drops[,REASON]   cp_stats_json()'s "drops"
 *
 * Threading: DPDK calls the commands on its telemetry threads (one per
 * client), never the control thread. Each request is handed to the control
 * thread through an eventfd watched by the control loop and waited for at
 * most CP_TELEMETRY_TIMEOUT_MS; the reply is built there, from the same
 * functions the control API uses, so telemetry, gwartctl and the stats file
 * show the same values at the same moment. A request that times out is
 * answered with an error and counted; the control thread never waits on a
 * telemetry thread.
 *
 * Shape (DPDK 22.11 telemetry has dicts, arrays of one scalar type, u64,
 * int and string values, and no arrays of objects): cp_telemetry_fit()
 * turns a JSON value into that shape:
 *   - an array holding objects or arrays becomes an object keyed by the
 *     element's index ("0", "1", ...); an empty array stays [];
 *   - true/false become 1/0; a null member is left out (absent = null);
 *   - reals, and scalars in an array that mixes strings and numbers,
 *     become strings;
 *   - what exceeds a limit (RTE_TEL_MAX_DICT_ENTRIES keys, RTE_TEL_MAX_
 *     ARRAY_ENTRIES items, strings of RTE_TEL_MAX_STRING_LEN bytes or more,
 *     CP_TELEMETRY_REPLY_MAX bytes in all) is cut, never silently: the
 *     reply gains a "truncated" object saying how much ({"entries_omitted",
 *     "strings_cut", "keys_renamed", "why"}), and stats count it.
 * Errors are replies too: {"errno": "ENOENT", "error": "no connector 9"}
 * (a callback's own failure would only print null).
 */
#ifndef GWART_CP_TELEMETRY_H
#define GWART_CP_TELEMETRY_H

#include <stddef.h>

#include <jansson.h>

struct cp_ctx;

/* ms: how long a telemetry request waits for the control thread (plus,
 * at most, the reply the control thread is building when it expires). An
 * idle control loop wakes on the eventfd at once; a second means it is
 * stuck, and the telemetry client gets {"errno": "ETIMEDOUT"}. */
#define CP_TELEMETRY_TIMEOUT_MS 1000
/* Requests waiting for the control thread at once. DPDK serves at most 10
 * telemetry clients, each one request at a time: more is a bug, refused
 * (EBUSY) and counted. */
#define CP_TELEMETRY_QUEUE_MAX 16
/* bytes: DPDK 22.11's reply buffer (MAX_OUTPUT_LEN in lib/telemetry,
 * not exported; dpdk-telemetry.py reads it from /info's max_output_len).
 * DPDK drops members that do not fit without a word, so replies are sized
 * here first. */
#define CP_TELEMETRY_REPLY_MAX (16 * 1024)

/*
 * Register the /gwart/... commands (the first call in a process: DPDK 22.11
 * cannot unregister them) and watch the request eventfd in cp->loop.
 * Control thread, after the router is built. 0 or negative errno.
 */
int cp_telemetry_init(struct cp_ctx *cp);
/*
 * Stop answering from @cp: waiting requests and every later one get
 * {"errno": "ESHUTDOWN"} (the commands stay registered; they touch only
 * this file's static state once @cp is gone). Control thread, before
 * cp_fini(). Repeatable.
 */
void cp_telemetry_fini(struct cp_ctx *cp);

/*
 * A telemetry command as the telemetry thread runs it, without rte_tel_data:
 * hand @cmd,@params to the control thread and wait at most @timeout_ms.
 * The reply (new reference, already fitted for @cmd) or an error object;
 * NULL only when out of memory. Any thread but the control thread (which
 * would wait for itself: it times out).
 */
json_t *cp_telemetry_ask(const char *cmd, const char *params, unsigned timeout_ms);

/* What cp_telemetry_fit() cut. */
struct cp_telemetry_cut {
	unsigned entries_omitted; /* object members and array items left out */
	unsigned strings_cut;     /* strings shortened to RTE_TEL_MAX_STRING_LEN - 1 bytes */
	unsigned keys_renamed;    /* member names with characters telemetry refuses */
};

/*
 * @v in the telemetry shape above, at most @budget bytes as compact JSON,
 * with a "truncated" member when anything was cut (an object @v only;
 * otherwise the cut is only in @cut). New reference; NULL when out of
 * memory or when even an empty reply exceeds @budget. Pure (jansson only),
 * any thread.
 */
json_t *cp_telemetry_fit(json_t *v, size_t budget, struct cp_telemetry_cut *cut);

#endif
