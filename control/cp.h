/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane's context and its actions: one thread (the EAL main
 * lcore, never a worker) that owns sessions, connectors, routes, settings
 * and statistics. Every control operation is a cp_<object>_<verb>()
 * function returning 0 or a negative errno; the config loader, the control
 * API and the tests call the same ones.
 *
 * Files, in dependency order: each calls only files above it (no cycles;
 * control/SESSIONS.md describes each):
 *   loop.c       event loop: fds (epoll), timers (min-heap), ring pollers
 *   ratelimit.c  log-line rate limiting (pure)
 *   log.c        log types and levels, cp_log() (stderr until log_rte.c)
 *   session.c    session state machine, one timer per session (pure)
 *   keys.c       connector keys, HELLO proofs, lane-0 session tags (pure)
 *   settings.c   tunables table over dp_tunables and cp_settings
 *   capture.c    packet capture to pcapng: cp_capture_*, its writer thread
 *   frames.c     session frames: HELLO/KEEPALIVE/BYE in, WELCOME/NACK/probe out
 *   connector.c  cp_connector_* actions
 *   route.c      cp_route_* actions, the one route-target JSON parser
 *   stats.c      statistics: print, JSON, gauges
 *   log_rte.c    the log's rte_log backend (types gwart.*, EAL's --log-level)
 *   logwatch.c   rate-limited drop lines, flapping-session summaries (1 s tick)
 *   notify.c     systemd notification: READY/STATUS/WATCHDOG/STOPPING
 *   metrics.c    the Prometheus /metrics endpoint (libmicrohttpd on the loop;
 *                metrics_text.c renders the text, metrics.h)
 *   run.c        cp_init/cp_fini, the control thread's run, shutdown
 *   config.c     configuration: parsed once into struct cp_config, applied
 *   reload.c     reload (diff against the running state) and config show
 *   sock.c       the control socket: framing only, calls a handler
 *   api.c        the control API: command dispatch (the socket's handler)
 *   telemetry.c, telemetry_fit.c   /gwart/... commands on DPDK's telemetry socket
 *   gwartd_args.c, gwartd.c   the daemon's arguments and main()
 *
 * Threading: all cp_* functions run on the control thread, which is a
 * registered liburcu QSBR thread (it publishes with rcu_assign_pointer and
 * retires with call_rcu), online except while its loop sleeps.
 */
#ifndef GWART_CP_H
#define GWART_CP_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include <gwart/auth.h>

#include "keys.h"
#include "log.h"
#include "loop.h"
#include "ratelimit.h"
#include "route_match.h"
#include "router.h"
#include "session.h"
#include "settings.h"

/* Session-frame counters (frames.c); sessions_up/sessions_down come from
 * struct cp_sessions. */
struct cp_stats {
	uint64_t hellos;
	uint64_t welcomes;
	uint64_t keepalives;
	uint64_t byes;
	uint64_t byes_repeated;  /* further copies of a BYE already applied */
	uint64_t unknown_conn;   /* session frames from unconfigured ids (HELLO included) */
	uint64_t hello_unknown;  /* HELLOs from unconfigured ids */
	uint64_t hello_auth_failed; /* HELLO tag wrong: dropped, nothing changed */
	uint64_t hello_replayed; /* HELLO ctr not fresh: dropped, nothing changed */
	uint64_t hello_addr_refused; /* HELLO proved, source not in allow_from: dropped */
	uint64_t auth_failed;    /* KEEPALIVE/BYE: wrong address, lane or tag */
	uint64_t replayed;       /* KEEPALIVE/BYE: counter seen or too old */
	uint64_t stale_epoch;    /* keepalive/bye of no current session (no NACK in v2) */
	uint64_t sessions_moved; /* a valid, fresh HELLO moved a live session */
	uint64_t refused;        /* HELLO from a disabled connector */
	uint64_t bad_frames;
	uint64_t tx_failed;
	uint64_t probes;         /* reconnection probes sent */
	uint64_t byes_sent;      /* router BYEs (set-key, delete) */
	uint64_t deleted_in_custody; /* messages freed by a connector delete (race) */
	uint64_t reloads;          /* reloads applied (gwartctl reload, SIGHUP) */
	uint64_t reloads_refused;  /* reloads that failed a check: nothing applied */
	uint64_t tunables_refused; /* tunable sets refused by a cross-field rule */
};

/* Telemetry requests (telemetry.c): updated with relaxed atomics under its
 * lock by telemetry threads and the control thread; read with
 * __atomic_load_n. */
struct cp_tel_stats {
	uint64_t requests;  /* /gwart/... commands received while gwartd runs */
	uint64_t answered;  /* replies the control thread built */
	uint64_t timeouts;  /* not answered within CP_TELEMETRY_TIMEOUT_MS */
	uint64_t refused;   /* CP_TELEMETRY_QUEUE_MAX requests waiting already */
	uint64_t truncated; /* replies cut to telemetry's limits (they say so) */
	uint64_t errors;    /* error replies: bad parameter, unknown object */
};

struct cp_sock;
struct cp_notify;
struct cp_metrics;
struct cp_capture;

/* The drop-line watcher (logwatch.c): per reason, the counter at the last
 * tick and at the last line (or quiet tick), and its rate limit. */
#define CP_LOGWATCH_TICK_US 1000000 /* us: drop counters read once a second */
struct cp_logwatch {
	struct cp_timer timer;
	uint64_t seen[DP_DROP_COUNT];
	uint64_t base[DP_DROP_COUNT];
	uint64_t base_us[DP_DROP_COUNT];
	struct cp_ratelimit rl[DP_DROP_COUNT];
	uint64_t lines;       /* drop lines written */
	uint64_t suppressed;  /* drop lines not written (rate limit) */
	/* frames.c: lines about proved HELLOs from outside a connector's
	 * allow_from (one per log_drop_interval_s, all connectors). */
	struct cp_ratelimit addr_rl;
};

struct cp_ctx {
	struct dp_router *rt;
	struct cp_loop *loop;
	struct cp_sessions sess;
	struct cp_settings set;
	struct cp_stats stats;
	uint64_t start_tsc;
	struct cp_sock *sock;
	int shutdown_drain;       /* shutdown requested: wait for custody to empty */
	uint64_t shutdown_deadline_us;
	struct cp_timer drain_timer;  /* shutdown drain: custody re-read */
	struct cp_timer stats_timer;  /* --stats-interval */
	struct cp_timer end_timer;    /* --duration */
	unsigned stats_interval_s;
	/* Keys and lane-0 state per connector id (keys.h), NULL where none:
	 * allocated by cp_connector_add(), wiped and freed by delete. */
	struct cp_auth **auth;
	/* The newest HELLO ctr accepted per id, kept across a delete and a
	 * new add of the id: "in this process" (PROTOCOL.md 17.8), so a HELLO
	 * recorded before a delete is still refused after it. */
	uint64_t *hello_ctr_kept;
	uint64_t probe_ctr;       /* newest reconnection probe ctr (CLOCK_REALTIME ns) */
	/* Tests: when set, every frame control sends goes to this hook (which
	 * owns @m) instead of a TX queue, its headers finished. */
	void (*tx_hook)(void *arg, unsigned port, struct rte_mbuf *m);
	void *tx_hook_arg;
	struct cp_notify *notify; /* systemd notification (notify.c), NULL: none */
	struct cp_metrics *metrics; /* /metrics endpoint (metrics.c), NULL: off */
	struct cp_tel_stats tel_stats; /* telemetry.c */
	struct cp_capture *capture; /* packet capture (capture.c), NULL: never used */
	int test_hooks;           /* gwartd --test-hooks: test-only tunables allowed */
	struct cp_reload *reload; /* reload.c: the start-up file, key sources; NULL: none */
	struct cp_logwatch logwatch;
};

/* ---- context (run.c) ----------------------------------------------------------------
 * Set cp->rt first. Creates the loop, the sessions (DP_MAX_CONNECTORS) and
 * the default settings, and registers the session-frame ring poller. */
int cp_init(struct cp_ctx *cp, struct dp_router *rt);
void cp_fini(struct cp_ctx *cp);
/* Run the control loop until *quit is set, cp_shutdown() or @duration_s
 * (0: forever) elapses; print statistics every @stats_interval_s (0: never). */
void cp_ctl_run(struct cp_ctx *cp, volatile sig_atomic_t *quit, double duration_s,
		unsigned stats_interval_s);
/* Stop gwartd. With @drain, new messages are refused (BUSY) and the daemon
 * exits once custody is empty or @timeout_ms passed. */
int cp_shutdown(struct cp_ctx *cp, int drain, unsigned timeout_ms);

/* ---- connectors (connector.c): 0 or negative errno ---------------------------------
 * -EINVAL bad argument, -ENOENT unknown id, -EEXIST id taken, -EBUSY still
 * referenced by a route or still holding messages in custody, -ENOMEM. */
/* Every connector has a secret (deny by default): @key NULL or all zero is
 * -EINVAL. The caller wipes its copy of @key. */
int cp_connector_add(struct cp_ctx *cp, uint32_t id, const char *name,
		     const uint8_t key[GW_KEY_LEN]);
/* Replace @id's secret. A live session was proved with the old one: it is
 * closed (a BYE sealed with its keys, session down, probes start). */
int cp_connector_set_key(struct cp_ctx *cp, uint32_t id, const uint8_t key[GW_KEY_LEN]);
/* Replace connector @id's allow_from with a copy of @al (n 0: any
 * address); the next HELLO is checked against it, and a live session from
 * an address it no longer allows is closed as a key change closes one (a
 * BYE, then probes to that address, whose HELLOs are now refused).
 * 0, -ENOENT, -EINVAL (@al NULL or n above CP_ALLOW_MAX). */
int cp_connector_set_allow(struct cp_ctx *cp, uint32_t id, const struct cp_allow *al);
/* The key's fingerprint (keys.h), -ENOENT for an unknown id. */
int cp_connector_key_id(const struct cp_ctx *cp, uint32_t id, char hex[CP_KEY_ID_HEX]);
/* Deleting wipes the connector's keys. */
int cp_connector_del(struct cp_ctx *cp, uint32_t id);
int cp_connector_enable(struct cp_ctx *cp, uint32_t id, int enabled);
/* A new name (1 to 31 bytes), published; session and custody untouched. */
int cp_connector_rename(struct cp_ctx *cp, uint32_t id, const char *name);
/* Drop the session now and start reconnecting (probes with backoff). */
int cp_connector_reconnect(struct cp_ctx *cp, uint32_t id);
/* Stop routing to it (disable); custody drains to it while its session
 * lives. cp_connector_custody() tells how many messages remain. */
int cp_connector_drain(struct cp_ctx *cp, uint32_t id);
/* Messages held for it (relaxed read of the owner's count). -ENOENT. */
int cp_connector_custody(struct cp_ctx *cp, uint32_t id, uint32_t *held);
/* The session of connector @id, NULL when it does not exist. */
const struct cp_session *cp_session_get(const struct cp_ctx *cp, uint32_t id);

/* ---- routes (route.c) -------------------------------------------------------------- */
int cp_route_add(struct cp_ctx *cp, const char *type, const char *pattern,
		 const struct dp_route_target *t, unsigned n);
int cp_route_del(struct cp_ctx *cp, const char *type, const char *pattern);
/*
 * The one parser of a route's "targets" JSON array, shared by the config
 * loader and route.add: 1 to DP_ROUTE_TARGETS_MAX objects {"connector":
 * 1..DP_MAX_CONNECTORS-1, "cost": 0..UINT32_MAX (default 0)}. Whether the
 * connectors exist is cp_route_add()'s check. 0, or -EINVAL with a message
 * in @err: '"targets" must be an array of 1 to 256 targets' or
 * 'targets[I] must be {"connector": ..., "cost": ...}'.
 */
struct json_t;
int cp_route_targets_parse(struct json_t *arr, struct dp_route_target *t, unsigned *n,
			   char *err, size_t errlen);

/* ---- statistics (stats.c) ---------------------------------------------------------- */
/* Messages in custody over all connectors (relaxed reads, for drain decisions). */
uint64_t cp_custody_total(struct cp_ctx *cp);
unsigned cp_sessions_up(const struct cp_ctx *cp);
void cp_stats_print(struct cp_ctx *cp, FILE *f);
/* Every counter gwartd has, as one JSON object (drops by reason, zeros
 * included, the control thread's counters and gauges, one object per
 * connector): the stats file (--stats-file) and gwartctl's "stats" share it,
 * so their keys agree. New reference, or NULL when out of memory. */
struct json_t *cp_stats_json(struct cp_ctx *cp);
int cp_stats_write_json(struct cp_ctx *cp, const char *path);

/* ---- log (log_rte.c, logwatch.c; levels and cp_log(): log.h) -------------------
 * Register gwart.dataplane, .control, .session, .config with rte_log after
 * rte_eal_init() (their levels from EAL's --log-level where it names them,
 * else CP_LOG_DEFAULT_LEVEL capped by EAL's global level, which is lifted
 * to per-type levels) and send cp_log() lines through rte_log. Once per
 * process (cp_init() calls it too); 0 or -ENOMEM. */
int cp_log_rte_init(void);
/* The drop watcher: cp_init() inits it, cp_ctl_run() starts (counting from
 * the counters' values then) and stops it. */
void cp_logwatch_init(struct cp_ctx *cp);
int cp_logwatch_start(struct cp_ctx *cp);
void cp_logwatch_stop(struct cp_ctx *cp);

/* ---- systemd notification (notify.c): no-ops without $NOTIFY_SOCKET --------------- */
/* READY=1 and a STATUS= line; then STATUS= refreshes and, with
 * $WATCHDOG_USEC, WATCHDOG=1 at half of it while every worker advances.
 * Call once workers run and the control socket listens. 0 or -ENOMEM. */
int cp_notify_ready(struct cp_ctx *cp);
/* STOPPING=1 (pings end): shutdown has begun. Repeatable. */
void cp_notify_stopping(struct cp_ctx *cp);
/* A last STATUS= line; frees the state. */
void cp_notify_fini(struct cp_ctx *cp);

#endif
