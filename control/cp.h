/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane: one thread (the EAL main lcore, never a worker) that
 * owns sessions, connectors, routes, tunables and statistics. Every control
 * operation is a cp_<object>_<verb>() function returning 0 or a negative
 * errno; the config loader, the control socket (next issue) and the tests
 * call the same ones.
 *
 * Threading: all cp_* functions run on the control thread, which is a
 * registered, online liburcu QSBR thread (it publishes with
 * rcu_assign_pointer and retires with call_rcu).
 */
#ifndef GWART_CP_H
#define GWART_CP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "route_match.h"
#include "router.h"

struct cp_stats {
	uint64_t hellos;
	uint64_t welcomes;
	uint64_t keepalives;
	uint64_t byes;
	uint64_t byes_repeated;  /* further copies of a BYE already applied */
	uint64_t unknown_conn;   /* session frames from unconfigured ids */
	uint64_t stale_epoch;    /* keepalive/bye from an old session */
	uint64_t refused;        /* HELLO from a disabled connector */
	uint64_t bad_frames;
	uint64_t tx_failed;
	uint64_t sessions_up;    /* session establishments */
	uint64_t sessions_down;
	uint64_t probes;         /* reconnection probes sent */
	uint64_t deleted_in_custody; /* messages freed by a connector delete (race) */
};

/* Session state machine, one per configured connector (control/session.c,
 * diagram in control/SESSIONS.md). */
enum cp_sess_state {
	CP_SESS_DOWN = 0,  /* no session; probing its last address if it had one */
	CP_SESS_UP,        /* HELLO/WELCOME done, keepalives arriving */
};

struct cp_session {
	enum cp_sess_state state;
	uint32_t epoch;
	uint64_t last_rx_us;      /* last HELLO/KEEPALIVE from it (monotonic us) */
	uint64_t up_since_us;
	uint64_t down_since_us;
	uint64_t opens;           /* sessions opened; opens - closes is 0 or 1 */
	uint64_t closes;
	uint64_t timeouts;        /* closed by failure detection */
	uint64_t byes;            /* closed by the connector's BYE */
	uint64_t stale;           /* frames from an old epoch, ignored */
	uint32_t probe_attempt;   /* reconnection probes since down */
	uint64_t next_probe_us;   /* 0: no probe scheduled */
	uint64_t last_delay_us;   /* the backoff delay last applied */
	uint8_t draining;         /* disabled for a drain: delete when custody is empty */
};

struct cp_loop;
struct cp_sock;

struct cp_ctx {
	struct dp_router *rt;
	struct cp_stats stats;
	uint64_t start_tsc;
	struct cp_session *sess;  /* DP_MAX_CONNECTORS entries */
	uint64_t rng;             /* jitter only */
	struct cp_loop *loop;
	struct cp_sock *sock;
	volatile sig_atomic_t *quit;
	int shutdown_drain;       /* shutdown requested: wait for custody to empty */
	uint64_t shutdown_deadline_us;
	unsigned log_level;       /* 0 error .. 3 debug */
};

/* Log a control-plane event to stderr if @level <= the log_level tunable
 * (0 error, 1 warning, 2 info, 3 debug). */
void cp_log(struct cp_ctx *cp, unsigned level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Monotonic microseconds (CLOCK_MONOTONIC). */
uint64_t cp_now_us(void);

/* Set up / tear down the control context (sessions array). */
int cp_init(struct cp_ctx *cp, struct dp_router *rt);
void cp_fini(struct cp_ctx *cp);

/* ---- connectors: 0 or negative errno ---------------------------------------
 * -EINVAL bad argument, -ENOENT unknown id, -EEXIST id taken, -EBUSY still
 * referenced by a route or still holding messages in custody, -ENOMEM. */
int cp_connector_add(struct cp_ctx *cp, uint32_t id, const char *name);
int cp_connector_del(struct cp_ctx *cp, uint32_t id);
int cp_connector_enable(struct cp_ctx *cp, uint32_t id, int enabled);
/* Drop the session now and start reconnecting (probes with backoff). */
int cp_connector_reconnect(struct cp_ctx *cp, uint32_t id);
/* Stop routing to it (disable); custody drains to it while its session
 * lives. cp_connector_custody() tells how many messages remain. */
int cp_connector_drain(struct cp_ctx *cp, uint32_t id);
/* Messages held for it (racy read of the owner's count). -ENOENT. */
int cp_connector_custody(struct cp_ctx *cp, uint32_t id, uint32_t *held);

/* ---- sessions ---------------------------------------------------------------- */
const struct cp_session *cp_session_get(const struct cp_ctx *cp, uint32_t id);
unsigned cp_sessions_up(const struct cp_ctx *cp);
/* Timers: failure detection and reconnection probes; returns the next
 * deadline (monotonic us) it needs to be called again by. */
uint64_t cp_session_tick(struct cp_ctx *cp, uint64_t now_us);
/* The backoff delay before probe @attempt (0-based), jitter applied. */
uint64_t cp_session_backoff_us(struct cp_ctx *cp, unsigned attempt);

/* ---- shutdown ---------------------------------------------------------------- */
/* Stop gwartd. With @drain, new messages are refused (BUSY) and the daemon
 * exits once custody is empty or @timeout_ms passed. */
int cp_shutdown(struct cp_ctx *cp, int drain, unsigned timeout_ms);
int cp_route_add(struct cp_ctx *cp, const char *type, const char *pattern,
		 const struct dp_route_target *t, unsigned n);
int cp_route_del(struct cp_ctx *cp, const char *type, const char *pattern);
/* Runtime tunables, by name (e.g. "custody_limit"): -ENOENT unknown name,
 * -EINVAL out of range. Every change is published under RCU and applies
 * without stopping traffic. */
int cp_tunable_set(struct cp_ctx *cp, const char *name, uint64_t value);
int cp_tunable_get(struct cp_ctx *cp, const char *name, uint64_t *value);
/* Enumerate: name, unit and bounds of tunable @i; NULL past the end. */
const char *cp_tunable_info(unsigned i, const char **unit, uint64_t *min, uint64_t *max);

/* Configuration: JSON text (see deploy/gwartd.example.json). On error,
 * @err receives a message naming the offending item. */
int cp_config_load_json(struct cp_ctx *cp, const char *text, char *err, size_t errlen);
/* The text of config file @path (malloc'd, caller frees), or NULL with a
 * message in @err. */
char *cp_config_read_file(const char *path, char *err, size_t errlen);
/* The embedded default: demo connectors and their routes. */
extern const char cp_config_default[];
/* Port addresses from a configuration (before ports are set up): the IPv4
 * address for port index @i, or the default 198.18.<i>.1. */
uint32_t cp_config_port_ip(const char *text, unsigned i);

/* Open file descriptors of this process (/proc/self/fd). */
unsigned cp_count_fds(void);
/* Messages in custody over all connectors (racy, for drain decisions). */
uint64_t cp_custody_total(struct cp_ctx *cp);
/* Process session frames the workers passed up; returns frames handled. */
unsigned cp_ctl_poll(struct cp_ctx *cp);
/* Run the control loop until *quit is set or @duration_s (0: forever)
 * elapses; print statistics every @stats_interval_s (0: never). */
void cp_ctl_run(struct cp_ctx *cp, volatile sig_atomic_t *quit, double duration_s,
		unsigned stats_interval_s);

void cp_stats_print(struct cp_ctx *cp, FILE *f);
/* Every counter gwartd has, as one JSON object (drops by reason, zeros
 * included, the control thread's counters and gauges, one object per
 * connector): the stats file (--stats-file) and gwartctl's "stats" share it,
 * so their keys agree. New reference, or NULL when out of memory. */
struct json_t;
struct json_t *cp_stats_json(struct cp_ctx *cp);
int cp_stats_write_json(struct cp_ctx *cp, const char *path);

#endif
