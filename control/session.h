/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session state machine, one per configured connector (diagram and
 * timers in control/SESSIONS.md): failure detection (keepalive interval x
 * multiplier, as BFD) and router-driven reconnection with exponential
 * backoff and jitter that never gives up. One loop timer per session,
 * armed for whichever comes first of its failure deadline, its next probe
 * and its next drain check, so the work is proportional to live sessions.
 *
 * The state machine touches the dataplane only through struct
 * cp_session_ops (three calls), so tests drive it without an EAL.
 *
 * A connector that never reconnects is ruled out because nothing here
 * waits for an operator: every path out of UP schedules a probe, and every
 * probe schedules the next. Leaking session handles is ruled out because a
 * session is a slot in a fixed table, opened and closed only by
 * cp_sess_open()/cp_sess_close(), whose counts are exported.
 *
 * Threading: control thread only.
 */
#ifndef GWART_CP_SESSION_H
#define GWART_CP_SESSION_H

#include <stdint.h>

#include "loop.h"
#include "ratelimit.h"
#include "settings.h"

enum cp_sess_state {
	CP_SESS_DOWN = 0,  /* no session; probing its last address if it had one */
	CP_SESS_UP,        /* HELLO/WELCOME done, keepalives arriving */
};

enum cp_close_why {
	CP_CLOSE_TIMEOUT,   /* no keepalive within interval x multiplier */
	CP_CLOSE_BYE,       /* the connector said BYE */
	CP_CLOSE_ADMIN,     /* operator: reconnect or delete */
	CP_CLOSE_REPLACED,  /* a new HELLO opened a new session */
};

#define CP_SESS_DRAIN_CHECK_US 100000 /* us: custody re-read while draining */
/* Session lines (up, down) per connector per log_flap_interval_s: two
 * reconnections show in full; a connector that flaps faster gets one
 * summary line per interval (cp_sessions_log_flush()). */
#define CP_SESS_LOG_BURST 4

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
	uint8_t draining;         /* disabled for a drain: cleared when custody is empty */
	uint8_t no_address;       /* a probe was due but no address is known */
	uint64_t drain_check_us;  /* next custody read while draining */
	struct cp_timer timer;    /* the session's one timer */
	struct cp_ratelimit log_rl;  /* its up/down lines (gwart.session) */
	uint64_t log_last_us;     /* when its last line was written */
	uint8_t log_pending;      /* a change was not logged: flush its state */
};

/* What the state machine asks of the dataplane (frames.c has the real
 * ones, tests their fakes). */
struct cp_session_ops {
	/* The session is gone: workers stop transmitting to @id and hold its
	 * messages in custody. */
	void (*down)(void *arg, uint32_t id);
	/* Send a reconnection probe to @id's last address: 0 (sent, or tried
	 * and out of buffers), -ENOENT when no address is known. */
	int (*probe)(void *arg, uint32_t id);
	/* Messages held in custody for @id. */
	uint32_t (*custody)(void *arg, uint32_t id);
};

struct cp_sessions {
	struct cp_session *s;     /* n_ids entries, indexed by connector id */
	uint32_t n_ids;
	struct cp_loop *loop;
	const struct cp_settings *set;
	const struct cp_session_ops *ops;
	void *arg;
	uint64_t dead_us;         /* keepalive_ms x keepalive_mult, in us (3 s until set) */
	uint64_t rng;             /* jitter only */
	uint64_t ups;             /* session establishments */
	uint64_t downs;
	uint64_t log_suppressed;  /* up/down lines not written (rate limit) */
	uint32_t log_pending;     /* sessions with log_pending set */
};

/* 0 or -ENOMEM. */
int cp_sessions_init(struct cp_sessions *ss, uint32_t n_ids, struct cp_loop *loop,
		     const struct cp_settings *set, const struct cp_session_ops *ops, void *arg);
void cp_sessions_fini(struct cp_sessions *ss);
/* The failure-detection interval (keepalive_ms x keepalive_mult, in us).
 * A change applies to each live session at its next timer event; call
 * cp_sess_retime() on each to apply a shorter one at once. */
void cp_sessions_set_dead_us(struct cp_sessions *ss, uint64_t dead_us);
/* Re-arm @id's timer for the current interval (no-op unless up). */
void cp_sess_retime(struct cp_sessions *ss, uint32_t id);
/* Sessions up now. */
unsigned cp_sessions_up_now(const struct cp_sessions *ss);

/* A connector @id was created or deleted: a fresh slot, timer cancelled. */
void cp_sess_reset(struct cp_sessions *ss, uint32_t id);
/* Only these two change state; each open is paired with one close. An open
 * of a session that is up closes it first (CP_CLOSE_REPLACED). */
void cp_sess_open(struct cp_sessions *ss, uint32_t id, uint32_t epoch, uint64_t now_us);
void cp_sess_close(struct cp_sessions *ss, uint32_t id, enum cp_close_why why, uint64_t now_us);
/* A HELLO repeat or KEEPALIVE of the current session arrived. */
void cp_sess_rx(struct cp_sessions *ss, uint32_t id, uint64_t now_us);
/* Operator: close if up and probe at once. */
void cp_sess_reconnect(struct cp_sessions *ss, uint32_t id, uint64_t now_us);
/* Drain started (1) or cancelled (0). */
void cp_sess_set_draining(struct cp_sessions *ss, uint32_t id, int draining, uint64_t now_us);
/* Once a second (logwatch.c): each session whose changes were not all
 * logged gets one line with its state and how many changes went unlogged,
 * once its rate limit allows; nothing to do (one test) when none. */
void cp_sessions_log_flush(struct cp_sessions *ss, uint64_t now_us);
/* The backoff delay before probe @attempt (0-based), jitter applied. */
uint64_t cp_sess_backoff_us(struct cp_sessions *ss, unsigned attempt);

#endif
