/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: a UNIX stream socket served by the control thread,
 * one JSON object per line in each direction (control/api.h has the
 * commands). gwartctl is its client.
 *
 * Access: the socket file is mode 0660, owned by gwartd's user and the
 * allowed group; on top of the file mode every accepted peer is checked
 * with SO_PEERCRED / SO_PEERGROUPS: root, the allowed user or a member of
 * the allowed group is served, anyone else is told "permission denied" and
 * closed. The file mode alone is not enough: a directory or mode mistake by
 * an operator must not open the router to every local user.
 *
 * Bounds (DESIGN.md guarantee 5): at most CP_SOCK_MAX_CLIENTS clients, one
 * request line at most CP_SOCK_MAX_REQUEST bytes, a client whose replies
 * pile up is not read until it drains them. Every bound that bites is
 * counted, and every accepted fd is closed exactly once.
 *
 * Threading: control thread only, like every cp_* function; requests run
 * the same cp_* actions as the config loader, synchronously, between
 * session-frame polls.
 */
#ifndef GWART_CP_SOCK_H
#define GWART_CP_SOCK_H

#include <stdint.h>
#include <sys/types.h>

#include "cp.h"

#define CP_SOCK_DEFAULT_PATH "/run/gwart/gwartd.sock"
#define CP_SOCK_MAX_CLIENTS 16             /* clients served at once */
#define CP_SOCK_MAX_REQUEST (64 * 1024)    /* bytes per request line, '\n' included */
#define CP_SOCK_MAX_PENDING (1024 * 1024)  /* bytes of unread replies before we stop reading */
#define CP_SOCK_REQS_PER_POLL 32           /* requests per client per poll */

struct cp_sock_params {
	const char *path;   /* socket file; its directory is created 0750 if missing */
	int set_uid;        /* allow_uid given (else: gwartd's own uid) */
	uid_t allow_uid;
	int set_gid;        /* allow_gid given (else: gwartd's own gid) */
	gid_t allow_gid;
};

struct cp_sock_stats {
	uint64_t clients_open;   /* served clients connected now */
	uint64_t clients_total;  /* clients admitted since start */
	uint64_t refused_cred;   /* peers refused by SO_PEERCRED/SO_PEERGROUPS */
	uint64_t refused_full;   /* peers refused: CP_SOCK_MAX_CLIENTS open */
	uint64_t bad_requests;   /* lines that were not a JSON object, or too long */
	uint64_t requests;       /* requests answered (bad ones included) */
	uint64_t accept_errors;  /* accept() failures (EMFILE ...) */
	uint64_t busy_us;        /* control-thread time spent on the socket */
};

/*
 * Create the socket file (replacing a stale one left by a dead gwartd, never
 * a live one or a non-socket) and start listening. 0, or -EADDRINUSE (a
 * gwartd answers there), -EEXIST (path is not a socket), -ENAMETOOLONG,
 * -ENOMEM, or the errno of the failing system call. On success cp->sock is
 * set; cp_sock_close() undoes everything.
 */
int cp_sock_open(struct cp_ctx *cp, const struct cp_sock_params *p);

/*
 * Accept, read, answer, write: never blocks. Returns how much work it did
 * (0: nothing ready), so the control loop naps only when idle. A no-op
 * when no socket is open.
 */
unsigned cp_sock_poll(struct cp_ctx *cp);

/* Flush what replies can be flushed without blocking (a "shutdown" reply),
 * close every client and the listener, remove the socket file. */
void cp_sock_close(struct cp_ctx *cp);

/* Counters; zeros when no socket is open. */
void cp_sock_get_stats(const struct cp_ctx *cp, struct cp_sock_stats *out);

/* The socket's path, or NULL. */
const char *cp_sock_path(const struct cp_ctx *cp);

#endif
