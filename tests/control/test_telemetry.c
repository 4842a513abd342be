/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The telemetry commands' two halves that need no EAL (control/telemetry.c,
 * telemetry_fit.c): cp_telemetry_fit()'s shape and limits, table-driven at
 * each limit's edge (RTE_TEL_MAX_DICT_ENTRIES, RTE_TEL_MAX_ARRAY_ENTRIES,
 * RTE_TEL_MAX_STRING_LEN, the byte budget), and the hand-off to the control
 * thread: an answer, a timeout (nobody runs the loop, so it must time out),
 * and shutdown with a request waiting. tests/integration/telemetry.sh runs
 * the real thing through dpdk-telemetry.py.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_telemetry.h>

#include "cp.h"
#include "telemetry.h"

#define BIG_BUDGET (1u << 30)

static json_t *parse(const char *text)
{
	json_error_t e;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &e);

	cr_assert_not_null(v, "bad test JSON: %s", e.text);
	return v;
}

/* fit(@in) must dump as @want (compact, keys in order), with @omitted. */
static void fit_is(const char *in, const char *want, unsigned omitted)
{
	struct cp_telemetry_cut cut;
	json_t *v = parse(in), *w = parse(want), *f = cp_telemetry_fit(v, BIG_BUDGET, &cut);

	cr_assert_not_null(f, "%s", in);
	json_object_del(f, "truncated");
	cr_assert(json_equal(f, w), "%s: got %s, want %s", in, json_dumps(f, JSON_COMPACT), want);
	cr_assert_eq(cut.entries_omitted, omitted, "%s", in);
	json_decref(v);
	json_decref(w);
	json_decref(f);
}

TestSuite(telemetry_fit, .timeout = 30);

Test(telemetry_fit, shape)
{
	static const struct {
		const char *in, *want;
	} t[] = {
		/* 1 */ {"{\"up\": true, \"down\": false}", "{\"up\": 1, \"down\": 0}"},
		/* 2 */ {"{\"a\": null, \"b\": 1}", "{\"b\": 1}"},
		/* 3 */ {"[{\"id\": 1}, {\"id\": 2}]", "{\"0\": {\"id\": 1}, \"1\": {\"id\": 2}}"},
		/* 4 */ {"{\"l\": []}", "{\"l\": []}"},
		/* 5 */ {"{\"l\": [1, 2, true]}", "{\"l\": [1, 2, 1]}"},
		/* 6 */ {"{\"l\": [1, \"x\", -2]}", "{\"l\": [\"1\", \"x\", \"-2\"]}"},
		/* 7 */ {"{\"n\": -5}", "{\"n\": -5}"},
		/* 8 */ {"{\"r\": 0.5}", "{\"r\": \"0.5\"}"},
		/* 9 */ {"{\"a\": [null, {\"x\": [[1]]}]}",
			 "{\"a\": {\"1\": {\"x\": {\"0\": [1]}}}}"},
		/* 10 */ {"{\"n\": -9000000000}", "{\"n\": \"-9000000000\"}"},
	};
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		fit_is(t[i].in, t[i].want, 0);
}

/* An object of @n members k0..k(n-1), inside "o" when @nested. */
static json_t *members(unsigned n, int nested)
{
	json_t *o = json_object();
	unsigned i;

	for (i = 0; i < n; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%u", i);
		json_object_set_new(o, k, json_integer(i));
	}
	return nested ? json_pack("{s:o}", "o", o) : o;
}

Test(telemetry_fit, entry_limits)
{
	static const struct {
		unsigned n;
		int nested;
		unsigned kept; /* the top object keeps one key for "truncated" */
	} t[] = {
		/* 1 */ {RTE_TEL_MAX_DICT_ENTRIES - 1, 0, RTE_TEL_MAX_DICT_ENTRIES - 1},
		/* 2 */ {RTE_TEL_MAX_DICT_ENTRIES, 0, RTE_TEL_MAX_DICT_ENTRIES - 1},
		/* 3 */ {300, 0, RTE_TEL_MAX_DICT_ENTRIES - 1},
		/* 4 */ {RTE_TEL_MAX_DICT_ENTRIES, 1, RTE_TEL_MAX_DICT_ENTRIES},
		/* 5 */ {RTE_TEL_MAX_DICT_ENTRIES + 1, 1, RTE_TEL_MAX_DICT_ENTRIES},
	};
	struct cp_telemetry_cut cut;
	unsigned i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		json_t *v = members(t[i].n, t[i].nested), *f = cp_telemetry_fit(v, BIG_BUDGET, &cut);
		json_t *o = t[i].nested ? json_object_get(f, "o") : f;
		unsigned cut_n = t[i].n - t[i].kept;

		cr_assert_not_null(f);
		cr_assert_eq(json_object_size(o), t[i].kept + (!t[i].nested && cut_n != 0),
			     "case %u", i + 1);
		cr_assert_eq(cut.entries_omitted, cut_n, "case %u", i + 1);
		/* Said so in the reply exactly when something was cut. */
		cr_assert_eq(json_object_get(f, "truncated") != NULL, cut_n != 0, "case %u", i + 1);
		if (cut_n != 0)
			cr_assert_eq(json_integer_value(json_object_get(
					     json_object_get(f, "truncated"), "entries_omitted")),
				     cut_n);
		json_decref(v);
		json_decref(f);
	}
	/* Arrays: RTE_TEL_MAX_ARRAY_ENTRIES items. */
	for (i = RTE_TEL_MAX_ARRAY_ENTRIES - 1; i <= RTE_TEL_MAX_ARRAY_ENTRIES + 1; i++) {
		json_t *a = json_array(), *v, *f;
		unsigned j;

		for (j = 0; j < i; j++)
			json_array_append_new(a, json_integer(j));
		v = json_pack("{s:o}", "a", a);
		f = cp_telemetry_fit(v, BIG_BUDGET, &cut);
		cr_assert_eq(json_array_size(json_object_get(f, "a")),
			     i < RTE_TEL_MAX_ARRAY_ENTRIES ? i : RTE_TEL_MAX_ARRAY_ENTRIES);
		cr_assert_eq(cut.entries_omitted,
			     i > RTE_TEL_MAX_ARRAY_ENTRIES ? i - RTE_TEL_MAX_ARRAY_ENTRIES : 0);
		json_decref(v);
		json_decref(f);
	}
}

Test(telemetry_fit, strings_and_names)
{
	char s[300], want[RTE_TEL_MAX_STRING_LEN];
	struct cp_telemetry_cut cut;
	json_t *v, *f;
	const char *got;
	unsigned len;

	/* 127 bytes fit; 128 do not (DPDK's strlcpy into 128 would cut). */
	for (len = RTE_TEL_MAX_STRING_LEN - 1; len <= RTE_TEL_MAX_STRING_LEN; len++) {
		memset(s, 'a', len);
		s[len] = '\0';
		v = json_pack("{s:s}", "s", s);
		f = cp_telemetry_fit(v, BIG_BUDGET, &cut);
		got = json_string_value(json_object_get(f, "s"));
		cr_assert_lt(strlen(got), RTE_TEL_MAX_STRING_LEN);
		cr_assert_eq(cut.strings_cut, len >= RTE_TEL_MAX_STRING_LEN);
		if (len >= RTE_TEL_MAX_STRING_LEN) {
			memset(want, 'a', RTE_TEL_MAX_STRING_LEN - 4);
			memcpy(want + RTE_TEL_MAX_STRING_LEN - 4, "...", 4);
			cr_assert_str_eq(got, want);
		}
		json_decref(v);
		json_decref(f);
	}
	/* Two-byte characters: cut at a character's start (jansson refuses
	 * broken UTF-8, so a bad cut would fail the fit). */
	s[0] = '\0';
	for (len = 0; len < 100; len++)
		strcat(s, "\xc3\xa9");
	v = json_pack("{s:s}", "s", s);
	f = cp_telemetry_fit(v, BIG_BUDGET, &cut);
	cr_assert_not_null(f);
	got = json_string_value(json_object_get(f, "s"));
	cr_assert_eq(strlen(got), 124 + 3, "%zu", strlen(got));
	json_decref(v);
	json_decref(f);
	/* Names: [A-Za-z0-9_/] only; a renamed one that collides is left out. */
	fit_is("{\"a-b\": 1, \"a.c\": 2, \"a_b\": 3, \"ok/x_1\": 4}",
	       "{\"a_b\": 1, \"a_c\": 2, \"ok/x_1\": 4}", 1);
	v = parse("{\"a-b\": 1, \"a.c\": 2, \"a_b\": 3}");
	f = cp_telemetry_fit(v, BIG_BUDGET, &cut);
	cr_assert_eq(cut.keys_renamed, 2);
	json_decref(v);
	json_decref(f);
}

/* @n objects of about 200 bytes each, under "l" of an object. */
static json_t *long_list(const char *key, unsigned n)
{
	json_t *a = json_array();
	char pad[180];
	unsigned i;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:i, s:s}", "id", (int)i, "pad", pad));
	return json_pack("{s:o, s:i}", key, a, "other", 7);
}

Test(telemetry_fit, byte_budget)
{
	static const size_t budgets[] = {1000, 4096, 16000, 16378};
	struct cp_telemetry_cut cut;
	unsigned i, j, shown;

	for (i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		json_t *v = long_list("l", 200), *f = cp_telemetry_fit(v, budgets[i], &cut), *l;
		char *text;

		cr_assert_not_null(f, "budget %zu", budgets[i]);
		text = json_dumps(f, JSON_COMPACT);
		cr_assert_leq(strlen(text), budgets[i]);
		l = json_object_get(f, "l");
		shown = (unsigned)json_object_size(l);
		cr_assert_gt(shown, 0);
		/* The head, in order, whole; the rest counted. */
		for (j = 0; j < shown; j++) {
			char k[16];

			snprintf(k, sizeof(k), "%u", j);
			cr_assert_eq(json_integer_value(json_object_get(json_object_get(l, k), "id")),
				     j);
		}
		cr_assert_eq(cut.entries_omitted, 200 - shown);
		cr_assert_eq(json_integer_value(json_object_get(
				     json_object_get(f, "truncated"), "entries_omitted")),
			     200 - shown);
		/* Not cut more than needed: one more entry would not fit. */
		cr_assert_gt(strlen(text) + 200, budgets[i]);
		cr_assert_eq(json_integer_value(json_object_get(f, "other")), 7);
		free(text);
		json_decref(v);
		json_decref(f);
	}
	/* Nothing to cut and too long: no reply rather than a wrong one. */
	{
		json_t *v = parse("{\"s\": \"0123456789012345678901234567890123456789\"}");

		cr_assert_null(cp_telemetry_fit(v, 20, &cut));
		json_decref(v);
	}
}

/* ---- the hand-off ------------------------------------------------------------------ */

static struct cp_ctx cp;

static void handoff_setup(void)
{
	memset(&cp, 0, sizeof(cp));
	cp.loop = cp_loop_create();
	cr_assert_not_null(cp.loop);
}

static void handoff_teardown(void)
{
	cp_telemetry_fini(&cp);
	cp_loop_destroy(cp.loop);
}

TestSuite(telemetry_handoff, .init = handoff_setup, .fini = handoff_teardown, .timeout = 30);

struct asker {
	pthread_t th;
	const char *cmd;
	unsigned timeout_ms;
	json_t *reply;
	int done;
};

static void *ask_thread(void *arg)
{
	struct asker *a = arg;

	a->reply = cp_telemetry_ask(a->cmd, NULL, a->timeout_ms);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static const char *errno_of(json_t *rep)
{
	return json_string_value(json_object_get(rep, "errno"));
}

static uint64_t st(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

Test(telemetry_handoff, not_running)
{
	json_t *r = cp_telemetry_ask("/gwart/stats", NULL, 1000);

	cr_assert_str_eq(errno_of(r), "ESHUTDOWN");
	json_decref(r);
}

/* The control loop runs: the reply is built there (an unknown command
 * needs no router). */
Test(telemetry_handoff, answered)
{
	struct asker a = {.cmd = "/gwart/nosuch", .timeout_ms = 20000};

	cr_assert_eq(cp_telemetry_init(&cp), 0);
	pthread_create(&a.th, NULL, ask_thread, &a);
	while (!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE))
		cp_loop_once(cp.loop, 1000);
	pthread_join(a.th, NULL);
	cr_assert_str_eq(errno_of(a.reply), "EOPNOTSUPP");
	cr_assert_eq(st(&cp.tel_stats.requests), 1);
	cr_assert_eq(st(&cp.tel_stats.answered), 1);
	cr_assert_eq(st(&cp.tel_stats.errors), 1);
	cr_assert_eq(st(&cp.tel_stats.timeouts), 0);
	json_decref(a.reply);
}

/* Nobody runs the loop: the request must time out, be counted, and leave
 * nothing queued for the loop to build later. */
Test(telemetry_handoff, timeout)
{
	struct asker a = {.cmd = "/gwart/stats", .timeout_ms = 50};

	cr_assert_eq(cp_telemetry_init(&cp), 0);
	pthread_create(&a.th, NULL, ask_thread, &a);
	pthread_join(a.th, NULL);
	cr_assert_str_eq(errno_of(a.reply), "ETIMEDOUT");
	cr_assert_eq(st(&cp.tel_stats.timeouts), 1);
	json_decref(a.reply);
	/* cp.rt is NULL: building /gwart/stats now would crash. */
	cp_loop_once(cp.loop, 0);
	cr_assert_eq(st(&cp.tel_stats.answered), 0);
}

/* Shutdown with a request waiting: it is answered at once, not left to
 * time out; later requests are refused at once. */
Test(telemetry_handoff, shutdown)
{
	struct asker a = {.cmd = "/gwart/stats", .timeout_ms = 20000};
	json_t *r;

	cr_assert_eq(cp_telemetry_init(&cp), 0);
	pthread_create(&a.th, NULL, ask_thread, &a);
	while (st(&cp.tel_stats.requests) == 0)
		sched_yield();
	cp_telemetry_fini(&cp);
	pthread_join(a.th, NULL);
	cr_assert_str_eq(errno_of(a.reply), "ESHUTDOWN");
	cr_assert_eq(st(&cp.tel_stats.timeouts), 0);
	json_decref(a.reply);
	r = cp_telemetry_ask("/gwart/stats", NULL, 20000);
	cr_assert_str_eq(errno_of(r), "ESHUTDOWN");
	json_decref(r);
	/* Registered once per process; a new context may take over. */
	cr_assert_eq(cp_telemetry_init(&cp), 0);
}
