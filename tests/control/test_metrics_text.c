/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text rendering (control/metrics_text.c) of hand-built
 * stats objects, no EAL: label escaping, one HELP/TYPE per family, counter
 * and gauge names, per-connector and per-worker labels, and the residence
 * histogram's cumulative buckets with +Inf equal to _count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "hist.h"
#include "metrics.h"

static char *render(const char *json)
{
	json_error_t e;
	json_t *st = json_loads(json, 0, &e);
	size_t len;
	char *t;

	cr_assert_not_null(st, "test JSON: %s", e.text);
	t = cp_metrics_text_render(st, &len);
	json_decref(st);
	cr_assert_not_null(t);
	cr_assert_eq(strlen(t), len);
	return t;
}

/* The value of the sample line that starts with @series followed by a
 * space, or NAN when there is none. */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return NAN;
}

static unsigned occurrences(const char *text, const char *s)
{
	unsigned n = 0;
	const char *p = text;

	while ((p = strstr(p, s)) != NULL) {
		n++;
		p += strlen(s);
	}
	return n;
}

/* Numbered escaping cases: the value and its label form. */
static const struct {
	const char *in, *out;
} escapes[] = {
	/* 1 */ {"mail", "mail"},
	/* 2 */ {"a\"b", "a\\\"b"},
	/* 3 */ {"c:\\x", "c:\\\\x"},
	/* 4 */ {"two\nlines", "two\\nlines"},
	/* 5 */ {"\\\"\n", "\\\\\\\"\\n"},
	/* 6 */ {"", ""},
	/* 7 */ {"tab\there", "tab\there"}, /* only \, " and newline are escaped */
};

Test(metrics_text, escape_table)
{
	unsigned i;

	for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		char out[64];
		size_t n = cp_metrics_text_escape(escapes[i].in, out, sizeof(out));

		cr_expect_str_eq(out, escapes[i].out, "case %u", i + 1);
		cr_expect_eq(n, strlen(escapes[i].out), "case %u", i + 1);
	}
}

Test(metrics_text, escape_truncates_and_tells_the_length)
{
	char out[4];

	cr_assert_eq(cp_metrics_text_escape("a\"bcdef", out, sizeof(out)), 8);
	cr_assert_str_eq(out, "a\\\"");
}

Test(metrics_text, families_names_and_labels)
{
	char *t = render(
		"{\"routed\": 42, \"custody_total\": 3, \"sessions_up_now\": 2, \"open_fds\": 9,"
		" \"mempool_in_use\": 100, \"tsc_hz\": 1000000000, \"brand_new\": 7,"
		" \"drops\": {\"NO_ROUTE\": 5, \"BUSY\": 0},"
		" \"control\": {\"hellos\": 4}, \"capture\": {\"active\": true, \"frames\": 8},"
		" \"metrics\": {\"requests\": 6, \"connections_open\": 1, \"address\": \"127.0.0.1\"},"
		" \"residence_ns\": {\"p99\": 5000},"
		" \"connectors\": ["
		"  {\"id\": 1, \"name\": \"ma\\\"il\\\\x\\ny\", \"up\": true, \"routed\": 40,"
		"   \"custody\": 3, \"key_id\": \"ab\", \"hello_auth_failed\": 1},"
		"  {\"id\": 2, \"name\": \"notes\", \"up\": false, \"routed\": 2, \"custody\": 0}],"
		" \"workers\": [{\"worker\": 0, \"lcore\": 1, \"routed\": 30},"
		"  {\"worker\": 1, \"lcore\": 2, \"routed\": 12}]}");

	/* Counters _total, gauges without; one TYPE line each. */
	cr_expect_eq(sample(t, "gwart_routed_total"), 42);
	cr_expect_eq(occurrences(t, "# TYPE gwart_routed_total counter\n"), 1);
	cr_expect_eq(sample(t, "gwart_custody"), 3);
	cr_expect_eq(occurrences(t, "# TYPE gwart_custody gauge\n"), 1);
	cr_expect_eq(sample(t, "gwart_sessions_up"), 2);
	cr_expect_eq(sample(t, "gwart_open_fds"), 9);
	cr_expect_eq(sample(t, "gwart_mempool_in_use"), 100);
	cr_expect_eq(occurrences(t, "# TYPE gwart_mempool_in_use gauge\n"), 1);
	/* A key the renderer does not know still appears, as a counter. */
	cr_expect_eq(sample(t, "gwart_brand_new_total"), 7);
	cr_expect_eq(occurrences(t, "# TYPE gwart_brand_new_total counter\n"), 1);
	/* Drops: every reason, zeros included, one family. */
	cr_expect_eq(sample(t, "gwart_drops_total{reason=\"NO_ROUTE\"}"), 5);
	cr_expect_eq(sample(t, "gwart_drops_total{reason=\"BUSY\"}"), 0);
	cr_expect_eq(occurrences(t, "# TYPE gwart_drops_total counter\n"), 1);
	/* Nested objects: gwart_<object>_<key>; strings and quantiles left out. */
	cr_expect_eq(sample(t, "gwart_control_hellos_total"), 4);
	/* true/false is a state: a gauge even where no table names it. */
	cr_expect_eq(sample(t, "gwart_capture_active"), 1);
	cr_expect_eq(occurrences(t, "# TYPE gwart_capture_active gauge\n"), 1);
	cr_expect_eq(sample(t, "gwart_capture_frames_total"), 8);
	cr_expect_eq(sample(t, "gwart_metrics_requests_total"), 6);
	cr_expect_eq(sample(t, "gwart_metrics_connections_open"), 1);
	cr_expect_null(strstr(t, "address"));
	cr_expect_null(strstr(t, "p99"));
	cr_expect_null(strstr(t, "key_id"));
	/* Connectors: labels escaped; a key only one of them has is one family. */
	cr_expect_eq(sample(t, "gwart_connector_routed_total{id=\"1\",name=\"ma\\\"il\\\\x\\ny\"}"),
		     40);
	cr_expect_eq(sample(t, "gwart_connector_routed_total{id=\"2\",name=\"notes\"}"), 2);
	cr_expect_eq(sample(t, "gwart_connector_up{id=\"1\",name=\"ma\\\"il\\\\x\\ny\"}"), 1);
	cr_expect_eq(sample(t, "gwart_connector_up{id=\"2\",name=\"notes\"}"), 0);
	cr_expect_eq(occurrences(t, "# TYPE gwart_connector_custody gauge\n"), 1);
	cr_expect_eq(occurrences(t, "# TYPE gwart_connector_hello_auth_failed_total counter\n"), 1);
	cr_expect_eq(occurrences(t, "gwart_connector_hello_auth_failed_total{"), 1);
	cr_expect_eq(occurrences(t, "# TYPE gwart_connector_routed_total"), 1);
	/* Workers: {worker, lcore}, never a series of their own. */
	cr_expect_eq(sample(t, "gwart_worker_routed_total{worker=\"0\",lcore=\"1\"}"), 30);
	cr_expect_eq(sample(t, "gwart_worker_routed_total{worker=\"1\",lcore=\"2\"}"), 12);
	cr_expect_null(strstr(t, "gwart_worker_lcore"));
	cr_expect_null(strstr(t, "gwart_connector_id"));
	/* No raw newline inside any line: every line is a comment or a sample. */
	{
		char *c = strdup(t), *line, *save = NULL;

		for (line = strtok_r(c, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
			cr_expect(line[0] == '#' || strncmp(line, "gwart_", 6) == 0, "line '%s'", line);
		free(c);
	}
	free(t);
}

/* A histogram at 1 GHz (one cycle = 1 ns): 5 samples of 300 cycles, 3 of
 * 1000, 2 of 2^40 (above the last finite bound). */
Test(metrics_text, histogram_cumulative_and_inf_is_count)
{
	char json[512], *t, *p;
	double prev = -1, sum, want_sum;
	unsigned lines = 0;

	snprintf(json, sizeof(json),
		 "{\"tsc_hz\": 1000000000, \"residence_buckets\": [[%llu, 5], [%llu, 3], [%llu, 2]]}",
		 (unsigned long long)dp_hist_upper(dp_hist_index(300)),
		 (unsigned long long)dp_hist_upper(dp_hist_index(1000)),
		 (unsigned long long)dp_hist_upper(dp_hist_index(1ull << 40)));
	t = render(json);
	cr_assert_eq(occurrences(t, "# TYPE gwart_residence_seconds histogram\n"), 1);
	/* Bounds are the dp_hist upper values below 2^k and 1.5 x 2^k. */
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"2.55e-07\"}"), 0);
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"3.83e-07\"}"), 5);
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"7.67e-07\"}"), 5);
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"1.023e-06\"}"), 8);
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"17.1799\"}"), 8); /* 2^34 - 1 */
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"+Inf\"}"), 10);
	cr_expect_eq(sample(t, "gwart_residence_seconds_count"), 10);
	/* Cumulative: never decreasing, +Inf last. */
	for (p = strstr(t, "gwart_residence_seconds_bucket{"); p != NULL;
	     p = strstr(p + 1, "gwart_residence_seconds_bucket{")) {
		double v = strtod(strchr(p, ' ') + 1, NULL);

		cr_expect_geq(v, prev, "bucket line %u decreases", lines);
		prev = v;
		lines++;
	}
	cr_expect_eq(lines, (CP_METRICS_HIST_HI_LOG2 - CP_METRICS_HIST_LO_LOG2) *
				    CP_METRICS_HIST_PER_OCTAVE + 2);
	cr_expect_eq(prev, 10);
	/* _sum from bucket midpoints: within 1/16 of the true sum. */
	sum = sample(t, "gwart_residence_seconds_sum");
	want_sum = (5 * 300.0 + 3 * 1000.0 + 2 * 1099511627776.0) / 1e9;
	cr_expect(fabs(sum - want_sum) <= want_sum / 16, "sum %g, want about %g", sum, want_sum);
	free(t);
}

Test(metrics_text, no_histogram_without_buckets_or_clock)
{
	char *t = render("{\"residence_buckets\": [[300, 1]]}"); /* no tsc_hz */

	cr_expect_null(strstr(t, "gwart_residence_seconds"));
	free(t);
	t = render("{\"tsc_hz\": 1000, \"residence_buckets\": []}");
	cr_expect_eq(sample(t, "gwart_residence_seconds_bucket{le=\"+Inf\"}"), 0);
	cr_expect_eq(sample(t, "gwart_residence_seconds_count"), 0);
	free(t);
}

/* The bound on per-connector series: the first CP_METRICS_CONNECTORS_MAX
 * connectors have theirs, the rest are counted as omitted. */
Test(metrics_text, connector_series_bounded_and_counted)
{
	unsigned n;

	for (n = CP_METRICS_CONNECTORS_MAX; n <= CP_METRICS_CONNECTORS_MAX + 1; n++) {
		json_t *st = json_object(), *arr = json_array();
		char last[96], over[96];
		unsigned i;
		size_t len;
		char *t;

		for (i = 1; i <= n; i++)
			json_array_append_new(arr, json_pack("{s:i, s:s, s:i}", "id", (int)i,
							     "name", "c", "routed", (int)i));
		json_object_set_new(st, "connectors", arr);
		t = cp_metrics_text_render(st, &len);
		json_decref(st);
		cr_assert_not_null(t);
		snprintf(last, sizeof(last), "gwart_connector_routed_total{id=\"%u\",name=\"c\"}",
			 CP_METRICS_CONNECTORS_MAX);
		snprintf(over, sizeof(over), "gwart_connector_routed_total{id=\"%u\",name=\"c\"}",
			 CP_METRICS_CONNECTORS_MAX + 1);
		cr_expect_eq(occurrences(t, "\ngwart_connector_routed_total{"),
			     CP_METRICS_CONNECTORS_MAX, "%u connectors", n);
		cr_expect_eq(sample(t, last), CP_METRICS_CONNECTORS_MAX);
		cr_expect(isnan(sample(t, over)), "connector %u has series", n);
		cr_expect_eq(sample(t, "gwart_metrics_connectors_omitted"),
			     n - CP_METRICS_CONNECTORS_MAX);
		free(t);
	}
}
