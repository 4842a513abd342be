/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_stats_json()'s object as the Prometheus text exposition format 0.0.4
 * (see metrics.h). Names follow the JSON keys, so a counter reads the same
 * in gwartctl stats, telemetry and Prometheus: "routed" is
 * gwart_routed_total. Unknown integer keys (a counter added to the stats
 * later) still appear, as counters: nothing in the JSON is left out.
 *
 * The format wants each family's lines together, with one HELP and one
 * TYPE: arrays (connectors, workers) are therefore walked once per key.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hist.h"
#include "metrics.h"

struct out {
	char *buf;
	size_t len, cap;
	int nomem;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->nomem)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->nomem = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t cap = 2 * (o->cap + (size_t)n);
			char *b = realloc(o->buf, cap);

			if (b == NULL) {
				o->nomem = 1;
				return;
			}
			o->buf = b;
			o->cap = cap;
		}
	}
}

size_t cp_metrics_text_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		const char *e = NULL;
		char one[2] = {*s, '\0'};
		size_t k;

		if (*s == '\\')
			e = "\\\\";
		else if (*s == '"')
			e = "\\\"";
		else if (*s == '\n')
			e = "\\n";
		else
			e = one;
		for (k = 0; e[k] != '\0'; k++, n++)
			if (n + 1 < outlen)
				out[n] = e[k];
	}
	if (outlen != 0)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}

/* HELP text escapes backslash and newline only (the format's rule). */
static void put_help(struct out *o, const char *name, const char *help, const char *type)
{
	put(o, "# HELP %s ", name);
	for (; *help != '\0'; help++) {
		if (*help == '\\')
			put(o, "\\\\");
		else if (*help == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *help);
	}
	put(o, "\n# TYPE %s %s\n", name, type);
}

static void put_label(struct out *o, const char *key, const char *val)
{
	char small[256], *big = NULL;
	size_t n = cp_metrics_text_escape(val, small, sizeof(small));

	if (n >= sizeof(small)) {
		big = malloc(n + 1);
		if (big == NULL) {
			o->nomem = 1;
			return;
		}
		cp_metrics_text_escape(val, big, n + 1);
	}
	put(o, "%s=\"%s\"", key, big != NULL ? big : small);
	free(big);
}

/* ---- what each key is -------------------------------------------------------------- */

struct meta {
	const char *key;  /* dotted: "metrics.connections_open"; "connectors.*" per element */
	const char *name; /* NULL: gwart_<prefix><key> */
	int gauge;
	const char *help;
};

/* Gauges, and the help text of the counters operators read first. Keys not
 * here are counters with a generic help. */
static const struct meta metas[] = {
	{"sessions_up_now", "gwart_sessions_up", 1, "Connectors with a live session now."},
	{"mempool_in_use", NULL, 1, "Mbufs of the router's pool in use (returns to its baseline)."},
	{"custody_total", "gwart_custody", 1, "Messages in custody over all connectors now."},
	{"custody_bytes_total", "gwart_custody_bytes", 1,
	 "Custody bytes over all connectors now (payload held and groups' reservations)."},
	{"open_fds", NULL, 1, "Open file descriptors of gwartd."},
	{"tsc_hz", NULL, 1, "TSC frequency: the unit of the *_cycles_total counters (Hz)."},
	{"rx_pkts", NULL, 0, "Packets the workers received."},
	{"rx_data", NULL, 0, "DATA frames received from connectors."},
	{"routed", NULL, 0, "Messages routed (accepted into custody for a destination)."},
	{"delivered", NULL, 0, "Messages acknowledged by their destination."},
	{"tx_data", NULL, 0, "DATA frames sent to destinations (first transmissions)."},
	{"retransmits", NULL, 0, "DATA frames sent again after a timeout or a NACK."},
	{"dups_suppressed", NULL, 0, "Duplicate DATA frames acknowledged and not routed again."},
	{"busy_cycles", NULL, 0, "TSC cycles of worker iterations that did work."},
	{"metrics.connections_open", NULL, 1, "Connections to the /metrics endpoint open now."},
	{"metrics.port", NULL, 1, "TCP port the /metrics endpoint listens on."},
	{"socket.clients_open", NULL, 1, "Control socket clients connected now."},
	{"connectors.custody", NULL, 1, "Messages in custody for this connector now."},
	{"connectors.custody_bytes", NULL, 1,
	 "Custody bytes for this connector now (payload held and groups' reservations)."},
	{"connectors.up", NULL, 1, "1 while the connector has a live session."},
	{"connectors.epoch", NULL, 1, "Session epoch of the connector (changes at each new session)."},
};

static const struct meta *meta_of(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(metas) / sizeof(metas[0]); i++)
		if (strcmp(metas[i].key, path) == 0)
			return &metas[i];
	return NULL;
}

/* The family name of @key under @prefix ("" or "control_"...) into @name;
 * a true/false value (@v) is a state, so a gauge whatever the table says. */
static int family(const char *path, const char *prefix, const char *key, json_t *v, char *name,
		  size_t len, const char **help, char *gen, size_t genlen)
{
	const struct meta *m = meta_of(path);
	int gauge = (m != NULL && m->gauge) || json_is_boolean(v);

	char *c;

	if (m != NULL && m->name != NULL)
		snprintf(name, len, "%s", m->name);
	else
		snprintf(name, len, "gwart_%s%s%s", prefix, key, gauge ? "" : "_total");
	/* A key with characters a metric name cannot hold: those become '_'. */
	for (c = name; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == ':'))
			*c = '_';
	if (m != NULL) {
		*help = m->help;
	} else {
		snprintf(gen, genlen, "gwart counter \"%s\" (gwartctl stats).", path);
		*help = gen;
	}
	return gauge;
}

static int is_number(json_t *v)
{
	return json_is_integer(v) || json_is_boolean(v);
}

static long long num(json_t *v)
{
	return json_is_boolean(v) ? json_is_true(v) : (long long)json_integer_value(v);
}

/* Each number of object @obj (at @path, names prefixed by @prefix), one
 * family each. */
static void put_object(struct out *o, json_t *obj, const char *path, const char *prefix)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char p[256], name[256], gen[320];
		const char *help;
		int gauge;

		if (!is_number(v))
			continue;
		snprintf(p, sizeof(p), "%s%s%s", path, path[0] ? "." : "", key);
		gauge = family(p, prefix, key, v, name, sizeof(name), &help, gen, sizeof(gen));
		put_help(o, name, help, gauge ? "gauge" : "counter");
		put(o, "%s %lld\n", name, num(v));
	}
}

/* One labelled family per key of @obj: name{label="key"} value. */
static void put_labelled(struct out *o, json_t *obj, const char *name, const char *label,
			 const char *help)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return;
	put_help(o, name, help, "counter");
	json_object_foreach(obj, key, v) {
		put(o, "%s{", name);
		put_label(o, label, key);
		put(o, "} %lld\n", num(v));
	}
}

/* The labels of array element @e: connectors {id, name}, workers {worker, lcore}. */
static void put_elem_labels(struct out *o, json_t *e, const char *const *labels)
{
	unsigned i;

	put(o, "{");
	for (i = 0; labels[i] != NULL; i++) {
		json_t *v = json_object_get(e, labels[i]);
		char n[32];

		if (i != 0)
			put(o, ",");
		if (json_is_string(v)) {
			put_label(o, labels[i], json_string_value(v));
		} else {
			snprintf(n, sizeof(n), "%lld", num(v));
			put_label(o, labels[i], n);
		}
	}
	put(o, "}");
}

static int is_label(const char *key, const char *const *labels)
{
	for (; *labels != NULL; labels++)
		if (strcmp(*labels, key) == 0)
			return 1;
	return 0;
}

/* Every numeric key of the first @max elements of @arr (the union, in
 * first-seen order: connectors without a key lack its auth counters), one
 * family per key with a line per element that has it. */
static void put_array(struct out *o, json_t *arr, const char *path, const char *prefix,
		      const char *const *labels, size_t max)
{
	size_t i, j;
	json_t *e, *seen = json_object();

	if (seen == NULL) {
		o->nomem = 1;
		return;
	}
	json_array_foreach(arr, i, e) {
		if (i >= max)
			break;
		const char *key;
		json_t *v;

		json_object_foreach(e, key, v) {
			char p[256], name[256], gen[320];
			const char *help;
			json_t *f;
			int gauge;

			if (!is_number(v) || is_label(key, labels) || json_object_get(seen, key))
				continue;
			json_object_set_new(seen, key, json_true());
			snprintf(p, sizeof(p), "%s.%s", path, key);
			gauge = family(p, prefix, key, v, name, sizeof(name), &help, gen,
				       sizeof(gen));
			put_help(o, name, help, gauge ? "gauge" : "counter");
			json_array_foreach(arr, j, f) {
				json_t *fv = json_object_get(f, key);

				if (j >= max)
					break;
				if (!is_number(fv))
					continue;
				put(o, "%s", name);
				put_elem_labels(o, f, labels);
				put(o, " %lld\n", num(fv));
			}
		}
	}
	json_decref(seen);
}

/*
 * "residence_buckets" ([[upper_tsc, count], ...], ascending, non-empty
 * dp_hist buckets) as a histogram in seconds. Each le is the upper value of
 * the dp_hist bucket just below a fixed edge (2^k, 1.5 x 2^k cycles), so
 * the cumulative counts are exact: a sample counts toward le exactly when
 * its cycles are <= that upper value. The workers keep no sum; _sum is
 * estimated from the bucket midpoints (within 1/16 of each sample).
 */
static void put_histogram(struct out *o, json_t *b, double tsc_hz)
{
	static const char name[] = "gwart_residence_seconds";
	size_t i = 0, n = json_array_size(b);
	unsigned k, j, step = 8u / CP_METRICS_HIST_PER_OCTAVE;
	uint64_t run = 0, total = 0;
	double sum = 0;

	if (!json_is_array(b) || tsc_hz <= 0)
		return;
	for (i = 0; i < n; i++) {
		json_t *p = json_array_get(b, i);
		uint64_t up = (uint64_t)json_integer_value(json_array_get(p, 0));
		uint64_t c = (uint64_t)json_integer_value(json_array_get(p, 1));
		unsigned idx = dp_hist_index(up);
		uint64_t lo = idx == 0 ? 0 : dp_hist_upper(idx - 1) + 1;

		total += c;
		sum += (double)c * ((double)lo + (double)(up - lo) / 2.0);
	}
	put_help(o, name,
		 "Router residence (RX poll to first transmission) of the messages of sampled "
		 "bursts (tunable stage_stats); _sum estimated from bucket midpoints.",
		 "histogram");
	i = 0;
	for (k = CP_METRICS_HIST_LO_LOG2; k <= CP_METRICS_HIST_HI_LOG2; k++)
		for (j = 0; j < 8; j += step) {
			/* The edge (8 + j) / 8 x 2^k; the bucket below it ends at edge - 1. */
			uint64_t edge = (uint64_t)(8 + j) << (k - 3);
			uint64_t le = dp_hist_upper(dp_hist_index(edge) - 1);

			if (k == CP_METRICS_HIST_HI_LOG2 && j != 0)
				break;
			for (; i < n; i++) {
				json_t *p = json_array_get(b, i);

				if ((uint64_t)json_integer_value(json_array_get(p, 0)) > le)
					break;
				run += (uint64_t)json_integer_value(json_array_get(p, 1));
			}
			put(o, "%s_bucket{le=\"%.6g\"} %llu\n", name, (double)le / tsc_hz,
			    (unsigned long long)run);
		}
	put(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)total);
	put(o, "%s_sum %.9g\n", name, sum / tsc_hz);
	put(o, "%s_count %llu\n", name, (unsigned long long)total);
}

char *cp_metrics_text_render(json_t *stats, size_t *len)
{
	static const char *const conn_labels[] = {"id", "name", NULL};
	static const char *const worker_labels[] = {"worker", "lcore", NULL};
	struct out o = {.buf = malloc(4096), .cap = 4096};
	json_t *v, *conns = json_object_get(stats, "connectors");
	size_t n_conns = json_array_size(conns);
	const char *key;

	if (o.buf == NULL)
		return NULL;
	o.buf[0] = '\0';
	put_object(&o, stats, "", "");
	put_labelled(&o, json_object_get(stats, "drops"), "gwart_drops_total", "reason",
		     "Frames and messages dropped, by reason (every reason, zeros included).");
	put_labelled(&o, json_object_get(stats, "stage_cycles"), "gwart_stage_cycles_total",
		     "stage", "TSC cycles spent per dataplane stage (tunable stage_stats, sampled).");
	put_array(&o, conns, "connectors", "connector_", conn_labels, CP_METRICS_CONNECTORS_MAX);
	/* The bound's counter: connectors whose series were left out (they
	 * still count in every total and in gwartctl stats). */
	put_help(&o, "gwart_metrics_connectors_omitted",
		 "Connectors beyond CP_METRICS_CONNECTORS_MAX without series of their own.",
		 "gauge");
	put(&o, "gwart_metrics_connectors_omitted %zu\n",
	    n_conns > CP_METRICS_CONNECTORS_MAX ? n_conns - CP_METRICS_CONNECTORS_MAX : 0);
	put_array(&o, json_object_get(stats, "workers"), "workers", "worker_", worker_labels,
		  SIZE_MAX);
	put_histogram(&o, json_object_get(stats, "residence_buckets"),
		      (double)json_integer_value(json_object_get(stats, "tsc_hz")));
	/* Other objects of plain numbers ("control", "metrics", "socket", and
	 * any added later): gwart_<object>_<key>. residence_ns holds
	 * quantiles, which the histogram replaces. */
	json_object_foreach(stats, key, v) {
		char prefix[128];

		if (!json_is_object(v) || strcmp(key, "drops") == 0 ||
		    strcmp(key, "stage_cycles") == 0 || strcmp(key, "residence_ns") == 0)
			continue;
		snprintf(prefix, sizeof(prefix), "%s_", key);
		put_object(&o, v, key, prefix);
	}
	if (o.nomem) {
		free(o.buf);
		return NULL;
	}
	*len = o.len;
	return o.buf;
}
