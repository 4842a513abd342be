/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session state machine (control/session.c) driven without an EAL: a
 * real event loop whose timers the test fires with its own clock, and fake
 * dataplane ops that record what the machine asked for. Open/close
 * pairing, failure detection timing, the probe backoff schedule, replaced
 * sessions, drain, and timer work proportional to live sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "log.h"
#include "loop.h"
#include "session.h"
#include "settings.h"

#define N_IDS 4096
#define MS 1000ull
#define S 1000000ull

static struct cp_loop *loop;
static struct cp_sessions ss;
static struct cp_settings set;

/* What the fake dataplane saw. */
static struct {
	unsigned downs[N_IDS];
	unsigned probes[N_IDS];
	uint64_t probe_at[N_IDS][16];
	uint32_t custody[N_IDS];
	int no_address[N_IDS];
	uint64_t now;     /* the test's clock, for probe_at */
} fake;

static void f_down(void *arg, uint32_t id)
{
	(void)arg;
	fake.downs[id]++;
}

static int f_probe(void *arg, uint32_t id)
{
	(void)arg;
	if (fake.no_address[id])
		return -ENOENT;
	if (fake.probes[id] < 16)
		fake.probe_at[id][fake.probes[id]] = fake.now;
	fake.probes[id]++;
	return 0;
}

static uint32_t f_custody(void *arg, uint32_t id)
{
	(void)arg;
	return fake.custody[id];
}

static const struct cp_session_ops ops = {.down = f_down, .probe = f_probe, .custody = f_custody};

/* Advance the test clock to @t, firing what is due on the way (every
 * millisecond, as a loop iterating would). */
static void run_to(uint64_t t)
{
	while (fake.now < t) {
		fake.now += MS;
		if (fake.now > t)
			fake.now = t;
		cp_loop_run_timers(loop, fake.now);
	}
}

static void setup(void)
{
	memset(&fake, 0, sizeof(fake));
	fake.now = 1 * S;
	set = (struct cp_settings){.backoff_initial_ms = 1000, .backoff_mult_pct = 160,
				   .backoff_jitter_pct = 0, .backoff_max_ms = 120000,
				   .log_flap_interval_s = 60};
	cp_log_set_level(CP_LOG_ALL, CP_LOG_ERR); /* quiet, as log_level 0 was */
	loop = cp_loop_create();
	cr_assert_not_null(loop);
	cr_assert_eq(cp_sessions_init(&ss, N_IDS, loop, &set, &ops, NULL), 0);
	cp_sessions_set_dead_us(&ss, 3 * S); /* keepalive 1000 ms x 3 */
}

static void teardown(void)
{
	cp_sessions_fini(&ss);
	cr_assert_eq(cp_loop_timer_count(loop), 0, "fini cancels every timer");
	cp_loop_destroy(loop);
}

TestSuite(session, .init = setup, .fini = teardown);

/* opens - closes is 0 or 1 after every step, and the dataplane hears of
 * every close except a replacement. */
Test(session, open_close_pairing_table)
{
	static const struct {
		char op;            /* o open, c close, r rx */
		enum cp_close_why why;
		enum cp_sess_state state;
		unsigned opens, closes, downs;
	} steps[] = {
		/* 1 */ {'c', CP_CLOSE_BYE, CP_SESS_DOWN, 0, 0, 0},      /* close of nothing: no-op */
		/* 2 */ {'o', 0, CP_SESS_UP, 1, 0, 0},
		/* 3 */ {'r', 0, CP_SESS_UP, 1, 0, 0},
		/* 4 */ {'o', 0, CP_SESS_UP, 2, 1, 0},                   /* replaced: no down */
		/* 5 */ {'c', CP_CLOSE_BYE, CP_SESS_DOWN, 2, 2, 1},
		/* 6 */ {'c', CP_CLOSE_BYE, CP_SESS_DOWN, 2, 2, 1},      /* repeated BYE */
		/* 7 */ {'c', CP_CLOSE_ADMIN, CP_SESS_DOWN, 2, 2, 1},
		/* 8 */ {'o', 0, CP_SESS_UP, 3, 2, 1},
		/* 9 */ {'c', CP_CLOSE_ADMIN, CP_SESS_DOWN, 3, 3, 2},
		/* 10 */ {'o', 0, CP_SESS_UP, 4, 3, 2},
		/* 11 */ {'c', CP_CLOSE_TIMEOUT, CP_SESS_DOWN, 4, 4, 3},
	};
	const struct cp_session *s = &ss.s[7];
	unsigned i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].op == 'o')
			cp_sess_open(&ss, 7, 100 + i, fake.now);
		else if (steps[i].op == 'c')
			cp_sess_close(&ss, 7, steps[i].why, fake.now);
		else
			cp_sess_rx(&ss, 7, fake.now);
		cr_assert_eq(s->state, steps[i].state, "step %u: state", i + 1);
		cr_assert_eq(s->opens, steps[i].opens, "step %u: opens", i + 1);
		cr_assert_eq(s->closes, steps[i].closes, "step %u: closes", i + 1);
		cr_assert_eq(fake.downs[7], steps[i].downs, "step %u: downs", i + 1);
		cr_assert(s->opens - s->closes <= 1, "step %u: pairing", i + 1);
		cr_assert_eq(ss.ups - ss.downs, s->opens - s->closes, "step %u: gauges", i + 1);
	}
	cr_assert_eq(s->byes, 1);
	cr_assert_eq(s->timeouts, 1);
	cr_assert_eq(cp_sessions_up_now(&ss), 0);
}

/* Down exactly at last_rx + interval x multiplier, not a tick later or
 * earlier; keepalives push the deadline. */
Test(session, failure_detection_timing)
{
	uint64_t t0 = fake.now;

	cp_sess_open(&ss, 3, 1, t0);
	run_to(t0 + 1 * S);
	cp_sess_rx(&ss, 3, fake.now);
	run_to(t0 + 2 * S);
	cp_sess_rx(&ss, 3, fake.now); /* dead at t0 + 5 s now */
	run_to(t0 + 5 * S - MS);
	cr_assert_eq(ss.s[3].state, CP_SESS_UP, "alive 1 ms before its deadline");
	cr_assert_eq(fake.downs[3], 0);
	run_to(t0 + 5 * S);
	cr_assert_eq(ss.s[3].state, CP_SESS_DOWN, "down at last_rx + 3 s");
	cr_assert_eq(ss.s[3].timeouts, 1);
	cr_assert_eq(ss.s[3].down_since_us, t0 + 5 * S);
	cr_assert_eq(fake.downs[3], 1);
}

/* A shorter interval set while up applies to the running session once
 * re-timed (settings.c re-times every existing connector). */
Test(session, failure_interval_change_rearms)
{
	uint64_t t0 = fake.now;

	cp_sess_open(&ss, 4, 1, t0);
	cp_sessions_set_dead_us(&ss, 400 * MS); /* keepalive 200 ms x 2 */
	cp_sess_retime(&ss, 4);
	run_to(t0 + 399 * MS);
	cr_assert_eq(ss.s[4].state, CP_SESS_UP);
	run_to(t0 + 400 * MS);
	cr_assert_eq(ss.s[4].state, CP_SESS_DOWN);
}

/* A longer interval needs no re-timing: the timer fires at the old
 * deadline, finds the session alive and re-arms for the new one. */
Test(session, failure_interval_longer_is_lazy)
{
	uint64_t t0 = fake.now;

	cp_sess_open(&ss, 4, 1, t0);
	cp_sessions_set_dead_us(&ss, 6 * S);
	run_to(t0 + 6 * S - MS);
	cr_assert_eq(ss.s[4].state, CP_SESS_UP, "the old 3 s deadline did not close it");
	cr_assert_eq(cp_loop_timer_count(loop), 1);
	run_to(t0 + 6 * S);
	cr_assert_eq(ss.s[4].state, CP_SESS_DOWN);
}

/* Without jitter the probes follow gRPC's schedule exactly: 1 s, then
 * x1.6 per attempt, capped at backoff_max_ms; each delay counts from the
 * probe before it. */
Test(session, probe_backoff_schedule)
{
	static const uint64_t delay_us[] = {1000000, 1600000, 2560000,  4096000, 6553600,
					    10485760, 16777216, 20000000, 20000000};
	uint64_t due;
	unsigned i;

	set.backoff_max_ms = 20000;
	cp_sess_open(&ss, 9, 1, fake.now);
	cp_sess_close(&ss, 9, CP_CLOSE_BYE, fake.now);
	due = fake.now;
	for (i = 0; i < sizeof(delay_us) / sizeof(delay_us[0]); i++) {
		due += delay_us[i];
		cr_assert_eq(ss.s[9].next_probe_us, due, "probe %u scheduled", i);
		run_to(due - 1);
		cr_assert_eq(fake.probes[9], i, "no probe %u before its time", i);
		run_to(due);
		cr_assert_eq(fake.probes[9], i + 1, "probe %u on time", i);
		cr_assert_eq(ss.s[9].probe_attempt, i + 1);
	}
	cr_assert_eq(ss.s[9].last_delay_us, 20000 * MS, "capped at backoff_max_ms");
	/* A HELLO (open) ends probing and resets the attempt count. */
	cp_sess_open(&ss, 9, 2, fake.now);
	cr_assert_eq(ss.s[9].probe_attempt, 0);
	cr_assert_eq(ss.s[9].next_probe_us, 0);
	run_to(fake.now + 2500 * MS);
	cr_assert_eq(fake.probes[9], 9, "no probes while up");
}

/* Jitter stays within +-jitter_pct of the base delay. */
Test(session, probe_jitter_bounds)
{
	unsigned i;

	set.backoff_jitter_pct = 20;
	for (i = 0; i < 1000; i++) {
		uint64_t d = cp_sess_backoff_us(&ss, 0);

		cr_assert(d >= 800 * MS && d <= 1200 * MS, "delay %llu", (unsigned long long)d);
	}
}

/* A connector that never had a session has no address: nothing is sent
 * and its timer stops until it says HELLO. */
Test(session, no_address_no_timer)
{
	fake.no_address[5] = 1;
	cp_sess_reconnect(&ss, 5, fake.now);
	cr_assert_eq(cp_loop_timer_count(loop), 1);
	run_to(fake.now + 10 * MS);
	cr_assert_eq(fake.probes[5], 0);
	cr_assert_eq(cp_loop_timer_count(loop), 0, "no timer left for it");
	cr_assert_neq(ss.s[5].next_probe_us, 0, "still shown as due");
	cp_sess_open(&ss, 5, 1, fake.now);
	cr_assert_eq(cp_loop_timer_count(loop), 1, "failure detection once up");
}

/* reconnect: the session closes (operator) and the first probe goes out
 * at once, not after a backoff delay. */
Test(session, reconnect_probes_now)
{
	cp_sess_open(&ss, 6, 1, fake.now);
	cp_sess_reconnect(&ss, 6, fake.now);
	cr_assert_eq(ss.s[6].state, CP_SESS_DOWN);
	cr_assert_eq(fake.downs[6], 1);
	run_to(fake.now + MS);
	cr_assert_eq(fake.probes[6], 1);
}

/* Replaced sessions: a new epoch without a close seen by the dataplane,
 * and failure detection restarts from the new HELLO. */
Test(session, replaced_session)
{
	uint64_t t0 = fake.now;

	cp_sess_open(&ss, 8, 1, t0);
	run_to(t0 + 2 * S);
	cp_sess_open(&ss, 8, 2, fake.now);
	cr_assert_eq(ss.s[8].epoch, 2);
	cr_assert_eq(ss.s[8].closes, 1);
	cr_assert_eq(fake.downs[8], 0);
	cr_assert_eq(ss.s[8].next_probe_us, 0, "the replacement does not probe");
	run_to(t0 + 5 * S - MS);
	cr_assert_eq(ss.s[8].state, CP_SESS_UP, "the old deadline no longer applies");
	run_to(t0 + 5 * S);
	cr_assert_eq(ss.s[8].state, CP_SESS_DOWN);
	cr_assert_eq(ss.ups, 2);
	cr_assert_eq(ss.downs, 2);
}

/* Drain: the flag clears within one drain check of custody reaching 0;
 * enabling (cancel) clears it at once. */
Test(session, drain_clears_when_custody_empties)
{
	uint64_t t0 = fake.now;

	cp_sess_open(&ss, 10, 1, t0);
	fake.custody[10] = 5;
	cp_sess_set_draining(&ss, 10, 1, t0);
	run_to(t0 + 1 * S);
	cr_assert_eq(ss.s[10].draining, 1, "custody still holds messages");
	cr_assert_eq(ss.s[10].state, CP_SESS_UP, "draining does not end the session");
	fake.custody[10] = 0;
	run_to(t0 + 1 * S + CP_SESS_DRAIN_CHECK_US);
	cr_assert_eq(ss.s[10].draining, 0);
	cp_sess_set_draining(&ss, 10, 1, fake.now);
	cp_sess_set_draining(&ss, 10, 0, fake.now);
	cr_assert_eq(ss.s[10].draining, 0);
}

/* Reset (connector deleted or created) forgets the slot and its timer. */
Test(session, reset_cancels_timer)
{
	cp_sess_open(&ss, 11, 1, fake.now);
	cr_assert_eq(cp_loop_timer_count(loop), 1);
	cp_sess_reset(&ss, 11);
	cr_assert_eq(cp_loop_timer_count(loop), 0);
	cr_assert_eq(ss.s[11].opens, 0);
	run_to(fake.now + 10 * S);
	cr_assert_eq(fake.downs[11], 0);
}

/* Work grows with live sessions: keepalives do not touch the timer heap,
 * one timer per session, and a live session costs one timer event per
 * dead interval, not one per tick. */
Test(session, work_proportional_to_live_sessions)
{
	uint64_t t0 = fake.now, fired = 0, t;
	uint32_t id;

	for (id = 1; id <= 1000; id++)
		cp_sess_open(&ss, id, 1, t0);
	cr_assert_eq(cp_loop_timer_count(loop), 1000);
	for (t = t0 + 100 * MS; t <= t0 + 9 * S; t += 100 * MS) {
		for (id = 1; id <= 1000; id++)
			cp_sess_rx(&ss, id, t);
		fired += cp_loop_run_timers(loop, t);
		fake.now = t;
	}
	cr_assert_eq(cp_loop_timer_count(loop), 1000, "one timer each");
	/* Deadlines at 3, 6 and 9 s: three events per session in 9 s (a
	 * 100 ms tick would have looked at each 90 times). */
	cr_assert_eq(fired, 3000, "fired %llu", (unsigned long long)fired);
	cr_assert_eq(cp_sessions_up_now(&ss), 1000);
}

/* ---- rate-limited session lines (gwart.session) ------------------------------------ */

static struct {
	unsigned n;
	char last[CP_LOG_LINE_MAX + 64];
	char first_flap[CP_LOG_LINE_MAX + 64];
} lines;

static void cap_set(unsigned type, unsigned level)
{
	(void)type;
	(void)level;
}

static void cap_write(unsigned type, unsigned level, const char *line)
{
	(void)level;
	if (type != CP_LOG_SESSION || strstr(line, "connector 7:") == NULL)
		return;
	lines.n++;
	snprintf(lines.last, sizeof(lines.last), "%s", line);
	if (lines.first_flap[0] == '\0' && strstr(line, "it flaps") != NULL)
		snprintf(lines.first_flap, sizeof(lines.first_flap), "%s", line);
}

static const struct cp_log_backend cap = {.set = cap_set, .write = cap_write};

/*
 * Connector 7 flaps (up, BYE) @flaps times, one change every @gap_ms; then
 * the flush runs once a second (as logwatch.c's tick) for two intervals.
 * Every change is either a line or counted as suppressed; the lines stay
 * within CP_SESS_LOG_BURST per interval (the interval is 60 s here), and
 * the last state is written once the limit allows.
 */
Test(session, flap_lines_rate_limited)
{
	static const struct {
		unsigned flaps, gap_ms, max_lines;
		int summary;
	} t[] = {
		/* 1 */ {1, 10, 2, 0},     /* one reconnection: both lines, no summary */
		/* 2 */ {2, 10, 4, 0},     /* two: exactly the burst */
		/* 3 */ {3, 10, 5, 1},     /* the fifth change is the first refused */
		/* 4 */ {100, 10, 5, 1},   /* a storm in 2 s: the burst and one summary */
		/* 5 */ {100, 1000, 17, 1}, /* 200 s: 4 lines in each of 4 windows, a summary */
	};
	static const uint8_t all_info[CP_LOG_N_TYPES] = {7, 7, 7, 7};
	unsigned c;

	for (c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		uint64_t written_changes = 0, sup0 = ss.log_suppressed, end;
		unsigned i;

		cp_log_backend_set(&cap, all_info, NULL);
		memset(&lines, 0, sizeof(lines));
		cp_sess_reset(&ss, 7);
		for (i = 0; i < t[c].flaps; i++) {
			unsigned before = lines.n;

			cp_sess_open(&ss, 7, 100 + i, fake.now);
			written_changes += lines.n - before;
			run_to(fake.now + t[c].gap_ms * MS);
			before = lines.n;
			cp_sess_close(&ss, 7, CP_CLOSE_BYE, fake.now);
			written_changes += lines.n - before;
			run_to(fake.now + t[c].gap_ms * MS);
			if (i % 16 == 0)
				cp_sessions_log_flush(&ss, fake.now);
		}
		cr_assert_eq(written_changes + (ss.log_suppressed - sup0), 2ull * t[c].flaps,
			     "case %u: every change a line or counted", c + 1);
		end = fake.now + 2 * 60 * S;
		while (fake.now < end) {
			run_to(fake.now + S);
			cp_sessions_log_flush(&ss, fake.now);
		}
		cr_assert_leq(lines.n, t[c].max_lines, "case %u: %u lines", c + 1, lines.n);
		cr_assert_eq(ss.log_pending, 0, "case %u: nothing left unflushed", c + 1);
		if (t[c].summary) {
			cr_assert(strstr(lines.last, "connector 7: session down for ") != NULL,
				  "case %u: the last state, down: %s", c + 1, lines.last);
			cr_assert(strstr(lines.first_flap,
					 "session change(s) not logged in the last ") != NULL &&
					  strstr(lines.first_flap, "gwartctl sessions 7)") != NULL,
				  "case %u: a flap line says how many and what to do: %s", c + 1,
				  lines.first_flap);
		} else {
			cr_assert(strstr(lines.last, "connector 7: session down (bye)") != NULL,
				  "case %u: %s", c + 1, lines.last);
		}
		cp_sess_reset(&ss, 7);
	}
	cp_log_backend_set(NULL, NULL, NULL);
}
