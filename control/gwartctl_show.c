/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartctl's human output: tables and key/value blocks, one printer per
 * kind of result (the daemon's JSON, as control/api.c builds it). Fields a
 * result lacks print as "-", so an older or newer daemon still prints.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwartctl.h"

/* ---- tables ---------------------------------------------------------------------- */

#define TBL_MAX_COLS 16

struct tbl {
	unsigned ncol, nrow, cap;
	const char *align;  /* per column: 'l' or 'r' */
	char **cell;        /* row-major; row 0 is the header */
};

static void tbl_init(struct tbl *t, const char *align, ...)
{
	va_list ap;
	unsigned i;

	t->ncol = (unsigned)strlen(align);
	t->align = align;
	t->nrow = 0;
	t->cap = 0;
	t->cell = NULL;
	va_start(ap, align);
	for (i = 0; i < t->ncol; i++) {
		const char *h = va_arg(ap, const char *);

		if (i == 0) {
			t->cap = 64;
			t->cell = calloc((size_t)t->cap * t->ncol, sizeof(char *));
			if (t->cell == NULL)
				abort(); /* a CLI out of memory has nothing better to do */
			t->nrow = 1;
		}
		t->cell[i] = strdup(h);
	}
	va_end(ap);
}

/* Add a row: one printf-style format per column, each followed by its args. */
static void tbl_row(struct tbl *t, ...)
{
	va_list ap;
	unsigned i;

	if (t->nrow == t->cap) {
		t->cap *= 2;
		t->cell = realloc(t->cell, (size_t)t->cap * t->ncol * sizeof(char *));
		if (t->cell == NULL)
			abort();
	}
	va_start(ap, t);
	for (i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = strdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrow++;
}

static void tbl_print(struct tbl *t)
{
	size_t w[TBL_MAX_COLS] = {0};
	unsigned r, i;

	for (r = 0; r < t->nrow; r++)
		for (i = 0; i < t->ncol; i++)
			if (strlen(t->cell[r * t->ncol + i]) > w[i])
				w[i] = strlen(t->cell[r * t->ncol + i]);
	for (r = 0; r < t->nrow; r++) {
		for (i = 0; i < t->ncol; i++) {
			const char *s = t->cell[r * t->ncol + i];
			int last = i + 1 == t->ncol;

			if (t->align[i] == 'r')
				printf("%*s%s", (int)w[i], s, last ? "" : "  ");
			else if (last)
				printf("%s", s);
			else
				printf("%-*s  ", (int)w[i], s);
		}
		putchar('\n');
	}
	for (r = 0; r < t->nrow * t->ncol; r++)
		free(t->cell[r]);
	free(t->cell);
}

/* A field as text: numbers, strings, yes/no, "-" for null or absent. A
 * ring of buffers so one printf can hold several. */
static const char *fld(json_t *o, const char *key)
{
	static char ring[32][64];
	static unsigned k;
	json_t *v = json_object_get(o, key);
	char *b = ring[k++ % 32];

	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v))
		snprintf(b, 64, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(b, 64, "%.1f", json_real_value(v));
	else if (json_is_boolean(v))
		return json_is_true(v) ? "yes" : "no";
	else
		return "-";
	return b;
}

/* Milliseconds as a short duration: "850ms", "12.3s", "4m05s", "2h03m". */
static const char *dur(json_t *o, const char *key)
{
	static char ring[8][32];
	static unsigned k;
	json_t *v = json_object_get(o, key);
	char *b = ring[k++ % 8];
	long long ms;

	if (!json_is_integer(v))
		return "-";
	ms = json_integer_value(v);
	if (ms < 1000)
		snprintf(b, 32, "%lldms", ms);
	else if (ms < 60000)
		snprintf(b, 32, "%.1fs", (double)ms / 1000.0);
	else if (ms < 3600000)
		snprintf(b, 32, "%lldm%02llds", ms / 60000, ms / 1000 % 60);
	else
		snprintf(b, 32, "%lldh%02lldm", ms / 3600000, ms / 60000 % 60);
	return b;
}

/* Scalars of an object as aligned "key  value" lines, keys prefixed. */
static void print_kv(json_t *o, const char *prefix, int skip_zero)
{
	const char *k;
	json_t *v;
	size_t w = 0;

	json_object_foreach(o, k, v)
		if (!json_is_object(v) && !json_is_array(v) && strlen(prefix) + strlen(k) > w)
			w = strlen(prefix) + strlen(k);
	json_object_foreach(o, k, v) {
		if (json_is_object(v) || json_is_array(v))
			continue;
		if (skip_zero && json_is_integer(v) && json_integer_value(v) == 0)
			continue;
		printf("%s%-*s  %s\n", prefix, (int)(w - strlen(prefix)), k, fld(o, k));
	}
}

void ctl_print_connectors(json_t *arr)
{
	struct tbl t;
	size_t i;
	json_t *c;

	/* KEY-ID last, so scripts reading the older columns by position still
	 * find them; it is the key's fingerprint, never the key. */
	tbl_init(&t, "rllrrlrrrrrrrrrl", "ID", "NAME", "STATE", "EPOCH", "OWNER", "ADDRESS",
		 "CUSTODY", "RX", "ROUTED", "DUPS", "NACKED", "TX", "RETX", "DELIVERED", "DROPS",
		 "KEY-ID");
	json_array_foreach(arr, i, c) {
		/* The stats file's connectors carry no "enabled": enabled then. */
		const char *state = json_is_false(json_object_get(c, "enabled")) ? "disabled"
				    : json_is_true(json_object_get(c, "up"))      ? "up"
										  : "down";

		tbl_row(&t, fld(c, "id"), fld(c, "name"), state, fld(c, "epoch"), fld(c, "owner"),
			fld(c, "address"), fld(c, "custody"), fld(c, "rx_data"), fld(c, "routed"),
			fld(c, "dups"), fld(c, "nacked"), fld(c, "tx_data"), fld(c, "retransmits"),
			fld(c, "delivered"), fld(c, "drops"), fld(c, "key_id"));
	}
	tbl_print(&t);
}

void ctl_print_sessions(json_t *arr)
{
	struct tbl t;
	size_t i;
	json_t *s;

	tbl_init(&t, "rllrrrrrrrrrrr", "ID", "NAME", "STATE", "EPOCH", "SINCE", "LAST-RX", "OPENS",
		 "CLOSES", "TIMEOUTS", "BYES", "STALE", "PROBES", "NEXT-PROBE", "BACKOFF");
	json_array_foreach(arr, i, s) {
		const char *st = json_is_true(json_object_get(s, "draining")) ? "draining"
										: fld(s, "state");

		tbl_row(&t, fld(s, "id"), fld(s, "name"), st, fld(s, "epoch"), dur(s, "since_ms"),
			dur(s, "last_rx_age_ms"), fld(s, "opens"), fld(s, "closes"),
			fld(s, "timeouts"), fld(s, "byes"), fld(s, "stale"),
			fld(s, "probe_attempt"),
			dur(s, "next_probe_in_ms"), dur(s, "last_backoff_ms"));
	}
	tbl_print(&t);
}

static int route_cmp(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int d = strcmp(fld(x, "type"), fld(y, "type"));

	return d != 0 ? d : strcmp(fld(x, "pattern"), fld(y, "pattern"));
}

void ctl_print_routes(json_t *arr)
{
	size_t i, j, n = json_array_size(arr);
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *tg;
	struct tbl t;

	if (v == NULL)
		abort();
	for (i = 0; i < n; i++)
		v[i] = json_array_get(arr, i);
	qsort(v, n, sizeof(*v), route_cmp); /* the index has no order of its own */
	tbl_init(&t, "llll", "TYPE", "PATTERN", "KIND", "TARGETS (connector:cost)");
	for (i = 0; i < n; i++) {
		char targets[512] = "";
		size_t off = 0;

		json_array_foreach(json_object_get(v[i], "targets"), j, tg)
			if (off < sizeof(targets))
				off += (size_t)snprintf(targets + off, sizeof(targets) - off,
							"%s%s:%s", j ? " " : "",
							fld(tg, "connector"), fld(tg, "cost"));
		tbl_row(&t, fld(v[i], "type"), fld(v[i], "pattern"), fld(v[i], "kind"), targets);
	}
	free(v);
	tbl_print(&t);
}

void ctl_print_tunables(json_t *r)
{
	struct tbl t;
	size_t i;
	json_t *v;

	tbl_init(&t, "lrlrr", "NAME", "VALUE", "UNIT", "MIN", "MAX");
	if (json_is_object(r))
		tbl_row(&t, fld(r, "name"), fld(r, "value"), fld(r, "unit"), fld(r, "min"),
			fld(r, "max"));
	json_array_foreach(r, i, v)
		tbl_row(&t, fld(v, "name"), fld(v, "value"), fld(v, "unit"), fld(v, "min"),
			fld(v, "max"));
	tbl_print(&t);
}

/* log.get / log.set: {"types": {"gwart.dataplane": "info", ...}}. */
void ctl_print_log(json_t *r)
{
	const char *name;
	struct tbl t;
	json_t *v;

	tbl_init(&t, "ll", "TYPE", "LEVEL");
	json_object_foreach(json_object_get(r, "types"), name, v)
		tbl_row(&t, name, json_string_value(v));
	tbl_print(&t);
}

void ctl_print_status(json_t *r)
{
	json_t *s = json_object_get(r, "socket"), *a;
	long up = (long)json_number_value(json_object_get(r, "uptime_s"));
	size_t i;

	printf("version       %s\n", fld(r, "version"));
	printf("uptime        %ldh%02ldm%02lds\n", up / 3600, up / 60 % 60, up % 60);
	printf("workers       %s\n", fld(r, "workers"));
	printf("ports         %s (udp %s:", fld(r, "ports"), fld(r, "udp_port"));
	json_array_foreach(json_object_get(r, "addresses"), i, a)
		printf(" %s", json_string_value(a));
	printf(")\n");
	printf("connectors    %s\n", fld(r, "connectors"));
	printf("sessions up   %s\n", fld(r, "sessions_up"));
	printf("routes        %s\n", fld(r, "routes"));
	printf("custody       %s message(s)%s\n", fld(r, "custody"),
	       json_is_true(json_object_get(r, "draining")) ? ", draining for shutdown" : "");
	printf("control       %s: %s client(s) open, %s total, refused %s (credentials) "
	       "%s (full), %s bad request(s)\n",
	       fld(s, "path"), fld(s, "clients_open"), fld(s, "clients_total"),
	       fld(s, "refused_cred"), fld(s, "refused_full"), fld(s, "bad_requests"));
}

void ctl_print_stats(json_t *r)
{
	json_t *drops = json_object_get(r, "drops");
	const char *k;
	json_t *v;
	int any = 0;

	print_kv(r, "", 0);
	json_object_foreach(drops, k, v)
		any |= json_integer_value(v) != 0;
	printf("drops%s\n", any ? " (non-zero)" : "        none");
	print_kv(drops, "  ", 1);
	printf("control\n");
	print_kv(json_object_get(r, "control"), "  ", 0);
	printf("socket\n");
	print_kv(json_object_get(r, "socket"), "  ", 0);
	/* The /metrics endpoint's counters, when gwartd serves it. */
	if (json_is_object(json_object_get(r, "metrics"))) {
		printf("metrics\n");
		print_kv(json_object_get(r, "metrics"), "  ", 0);
	}
	ctl_print_connectors(json_object_get(r, "connectors"));
}

void ctl_print_drain(json_t *r)
{
	printf("connector %s: draining, %s message(s) still in custody\n", fld(r, "id"),
	       fld(r, "custody"));
}

/* capture stop: what the file got. */
void ctl_print_capture_stop(json_t *r)
{
	printf("capture stopped: %s: %s frame(s), %s byte(s), %s dropped\n", fld(r, "file"),
	       fld(r, "frames"), fld(r, "bytes"), fld(r, "dropped"));
}

/* capture status: one line, active or not. */
void ctl_print_capture_status(json_t *r)
{
	if (!json_is_true(json_object_get(r, "active"))) {
		printf("capture: not running (last: %s frame(s), %s byte(s), %s dropped)\n",
		       fld(r, "frames"), fld(r, "bytes"), fld(r, "dropped"));
		return;
	}
	printf("capture: running to %s, connector %s, snaplen %s: %s frame(s), %s byte(s), "
	       "%s dropped\n",
	       fld(r, "file"), json_object_get(r, "connector") != NULL ? fld(r, "connector") : "all",
	       fld(r, "snaplen"), fld(r, "frames"), fld(r, "bytes"), fld(r, "dropped"));
}

void ctl_print_reload(json_t *r)
{
	json_t *a = json_object_get(r, "applied");

	printf("reloaded %s: connectors +%s -%s (%s pending: custody first), %s renamed, "
	       "%s new key(s), %s enabled, %s disabled; routes +%s ~%s -%s; %s tunable(s); "
	       "%s log level(s)\n",
	       json_string_value(json_object_get(r, "file")), fld(a, "connectors_added"),
	       fld(a, "connectors_deleted"), fld(a, "connectors_pending"),
	       fld(a, "connectors_renamed"), fld(a, "keys_changed"), fld(a, "connectors_enabled"),
	       fld(a, "connectors_disabled"), fld(a, "routes_added"), fld(a, "routes_changed"),
	       fld(a, "routes_deleted"), fld(a, "tunables_changed"), fld(a, "log_levels_changed"));
}

/* The configuration itself: a file for --check-config and reload. */
void ctl_print_config(json_t *r)
{
	char *txt = json_dumps(json_object_get(r, "config"), JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	printf("%s\n", txt != NULL ? txt : "{}");
	if (txt != NULL)
		explicit_bzero(txt, strlen(txt)); /* --with-keys: it holds keys */
	free(txt);
}
