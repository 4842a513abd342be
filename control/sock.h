/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a UNIX stream socket served from the control loop,
 * one JSON object per line in each direction (include/gwart/ctl.h has the
 * protocol). It frames lines, enforces the bounds and hands each request
 * object to a handler callback (control/api.c's cp_api_handle in gwartd);
 * what a request means is not its business. gwartctl is its client.
 *
 * Access: the socket file is mode 0660, owned by gwartd's user and the
 * allowed group; on top of the file mode every accepted peer is checked
 * with SO_PEERCRED / SO_PEERGROUPS: root, the allowed user or a member of
 * the allowed group is served, anyone else is told "permission denied" and
 * closed. The file mode alone is not enough: a directory or mode mistake by
 * an operator must not open the router to every local user.
 *
 * Bounds, so that hostile local clients cannot exhaust the daemon: at most
 * CP_SOCK_MAX_CLIENTS clients, one request line at most GW_CTL_MAX_REQUEST
 * bytes nested at most GW_CTL_MAX_DEPTH arrays/objects deep (checked
 * before jansson sees the line), a client whose replies pile up is not read
 * until it drains them. Every bound that bites is counted, and every
 * accepted fd is closed exactly once.
 *
 * Slots, so that idle clients cannot lock operators out:
 *  - A peer that has hung up frees its slot at once: a new client is read
 *    as soon as it is accepted, and when every slot is taken the socket
 *    first reads every client (a closed one reads EOF and is closed)
 *    before it counts itself full.
 *  - A client with no traffic either way for the idle timeout
 *    (cp_sock_params.idle_timeout_ms, default GW_CTL_IDLE_TIMEOUT_MS) is
 *    told ETIMEDOUT and closed (clients_idle_closed); one timer per
 *    client, re-armed on every byte read or written. A client whose
 *    "shutdown" was accepted is exempt: it waits, silent, for the EOF
 *    that tells it gwartd has stopped.
 *  - Still full: the client that has been silent longest among those that
 *    never sent a complete request is told ETIMEDOUT and closed to admit
 *    the new one (clients_evicted). Clients that have been answered at
 *    least once (a socat session, 16 scripts at work) are never evicted:
 *    with 16 of those the new peer is refused EBUSY (refused_full), as
 *    before. So 16 clients that connect and send nothing cannot keep a
 *    gwartctl out, and a gwartctl, which sends its request on connecting,
 *    is the youngest silent client for the moment it needs.
 *
 * Threading: the loop's thread only; the handler runs synchronously there.
 */
#ifndef GWART_CP_SOCK_H
#define GWART_CP_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include <gwart/ctl.h>

#include "loop.h"

#define CP_SOCK_MAX_CLIENTS 16             /* clients served at once */
#define CP_SOCK_MAX_REQUEST GW_CTL_MAX_REQUEST
#define CP_SOCK_MAX_PENDING (1024 * 1024)  /* bytes of unread replies before we stop reading */
#define CP_SOCK_REQS_PER_POLL 32           /* requests per client per readiness */
#define CP_SOCK_MAX_DEPTH GW_CTL_MAX_DEPTH
#define CP_SOCK_IDLE_TIMEOUT_MS GW_CTL_IDLE_TIMEOUT_MS  /* default idle timeout */

/* Answer one request (a JSON object with a "cmd" string, borrowed) with a
 * reply object (new reference; NULL: out of memory, the client is closed
 * after what it has). */
typedef json_t *(*cp_sock_handler_fn)(void *arg, json_t *req);

struct cp_sock_params {
	const char *path;   /* socket file; its directory is created 0750 if missing */
	int set_uid;        /* allow_uid given (else: gwartd's own uid) */
	uid_t allow_uid;
	int set_gid;        /* allow_gid given (else: gwartd's own gid) */
	gid_t allow_gid;
	uint32_t idle_timeout_ms;  /* no traffic this long: closed; 0: CP_SOCK_IDLE_TIMEOUT_MS */
	cp_sock_handler_fn handler;
	void *arg;
};

struct cp_sock_stats {
	uint64_t clients_open;   /* served clients connected now */
	uint64_t clients_total;  /* clients admitted since start */
	uint64_t refused_cred;   /* peers refused by SO_PEERCRED/SO_PEERGROUPS */
	uint64_t refused_full;   /* peers refused: CP_SOCK_MAX_CLIENTS open */
	uint64_t bad_requests;   /* lines that were not a JSON object, or too long: the sum of */
	uint64_t bad_too_long;   /*   lines over GW_CTL_MAX_REQUEST bytes */
	uint64_t bad_malformed;  /*   not JSON, not an object, no "cmd" string */
	uint64_t bad_too_deep;   /*   nested deeper than GW_CTL_MAX_DEPTH */
	uint64_t clients_idle_closed; /* closed after the idle timeout */
	uint64_t clients_evicted;     /* silent clients closed to admit a new one */
	uint64_t requests;       /* requests answered (bad ones included) */
	uint64_t accept_errors;  /* accept() failures (EMFILE ...) */
	uint64_t busy_us;        /* control-thread time spent on the socket */
};

struct cp_sock;

/*
 * Create the socket file (replacing a stale one left by a dead gwartd, never
 * a live one or a non-socket), start listening and register with @loop.
 * 0 and *@out set, or -EADDRINUSE (a gwartd answers there), -EEXIST (path
 * is not a socket), -ENAMETOOLONG, -ENOMEM, or the errno of the failing
 * system call. cp_sock_close() undoes everything.
 */
int cp_sock_open(struct cp_sock **out, struct cp_loop *loop, const struct cp_sock_params *p);

/* Flush what replies can be flushed without blocking (a "shutdown" reply),
 * close every client and the listener, remove the socket file. NULL: no-op. */
void cp_sock_close(struct cp_sock *s);

/* Counters; zeros for NULL. */
void cp_sock_get_stats(const struct cp_sock *s, struct cp_sock_stats *out);
/* The socket's path, or NULL. */
const char *cp_sock_path(const struct cp_sock *s);

/* An error reply {"ok":false,"errno":NAME,"error":TEXT} for errno @err
 * (positive or negative; TEXT empty or NULL: strerror; TEXT that is not
 * UTF-8 has each byte outside printable ASCII replaced by '?', its first 255
 * bytes kept). New reference, NULL only when out of memory. The API's
 * errors are built with it too. */
json_t *cp_sock_error(int err, const char *text);

/* Deepest nesting of arrays and objects in the JSON text @p[0..@len)
 * (brackets inside strings do not count), stopping as soon as it passes
 * @max: the result is then @max + 1. Linear in @len; no parsing. */
unsigned cp_sock_json_depth(const char *p, size_t len, unsigned max);

#endif
