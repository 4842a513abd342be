/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartctl top: a live view of a running gwartd, refreshed every interval.
 *
 *   gwartctl top [--once] [--interval S]
 *
 * Every figure comes from the daemon's "stats" command (cp_stats_json(),
 * the one source telemetry and metrics present too): two samples an
 * interval apart, and each rate is the difference of a counter over the
 * time between them, measured here (the stats carry no clock of their own;
 * each sample's time is the middle of its request, so the daemon's reply
 * latency cancels out). Busy % is a worker's busy_cycles delta over
 * tsc_hz * interval: the share of its core spent on bursts that did work.
 *
 * The screen fits 80 columns (names truncated); the interactive view
 * clears the screen and shows as many connector rows as the terminal has
 * lines; --once prints one screen of plain text, every connector, for
 * scripts and logs. Interactive: q, Ctrl-C or end of input quit, with the
 * terminal restored.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <gwart/ctl.h>

#include "gwartctl.h"

#define TOP_WIDTH 80           /* columns every line fits */
#define TOP_NAME_WIDTH 20      /* connector name column; longer names end in '~' */
#define TOP_INTERVAL_DEF 1.0   /* seconds between refreshes */
#define TOP_INTERVAL_MIN 0.1   /* seconds: faster only measures the request */
#define TOP_INTERVAL_MAX 3600.0

static volatile sig_atomic_t top_quit;

static void top_on_signal(int sig)
{
	(void)sig;
	top_quit = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One "stats" result and when it was taken. */
struct top_sample {
	json_t *reply;  /* owns stats */
	json_t *stats;
	double t;       /* seconds, CLOCK_MONOTONIC, middle of the request */
};

static int top_take(struct ctl *c, struct top_sample *s)
{
	double t0 = now_s();
	int rc = ctl_call(c, GW_CTL_CMD_STATS, NULL, &s->reply, &s->stats);

	s->t = (t0 + now_s()) / 2;
	/* One connection per sample: an interval longer than the daemon's idle
	 * timeout would otherwise find it closed. */
	ctl_disconnect(c);
	if (rc == EX_OK && !json_is_object(s->stats)) {
		json_decref(s->reply);
		s->reply = NULL;
		return EX_ERROR;
	}
	return rc;
}

static void top_drop(struct top_sample *s)
{
	json_decref(s->reply);
	s->reply = s->stats = NULL;
}

static uint64_t u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v)
							       : 0;
}

/* The per-second rate of counter @key between two objects; a counter that
 * went backwards (the daemon restarted between samples) counts from 0. */
static double rate(json_t *a, json_t *b, const char *key, double dt)
{
	uint64_t x = u64(a, key), y = u64(b, key);

	return (double)(y >= x ? y - x : y) / dt;
}

/* The element of array @arr whose @key is @v (workers by index, connectors
 * by id: either list may have changed between samples). */
static json_t *find(json_t *arr, const char *key, json_int_t v)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		if (json_integer_value(json_object_get(o, key)) == v)
			return o;
	return NULL;
}

/* A rate for an 9-column field: "12345678", then "123.4M" above that. */
static const char *rfmt(char *b, size_t n, double r)
{
	if (r < 1e8)
		snprintf(b, n, "%.0f", r);
	else
		snprintf(b, n, "%.1fM", r / 1e6);
	return b;
}

/* A name cut to @w columns, the cut marked with '~'. */
static const char *trunc_name(char *b, size_t n, const char *s, size_t w)
{
	size_t len = strlen(s);

	if (w >= n)
		w = n - 1;
	if (len <= w)
		return s;
	memcpy(b, s, w - 1);
	b[w - 1] = '~';
	b[w] = '\0';
	return b;
}

/* The screen, into @f: at most @rows lines (0: all), each <= TOP_WIDTH. */
static void top_print(FILE *f, const struct top_sample *a, const struct top_sample *b,
		      unsigned rows)
{
	json_t *wa = json_object_get(a->stats, "workers"), *wb = json_object_get(b->stats, "workers");
	json_t *ca = json_object_get(a->stats, "connectors");
	json_t *cb = json_object_get(b->stats, "connectors");
	double dt = b->t - a->t, hz = (double)u64(b->stats, "tsc_hz");
	double drops = 0;
	unsigned lines = 0, up = 0, shown = 0;
	size_t i;
	json_t *o, *p;
	char r1[32], r2[32], r3[32], nm[TOP_NAME_WIDTH + 1];

	if (dt <= 0)
		dt = 1e-9;
	json_array_foreach(wb, i, o) {
		p = find(wa, "worker", json_integer_value(json_object_get(o, "worker")));
		if (p != NULL)
			drops += rate(p, o, "dropped", dt);
	}
	json_array_foreach(cb, i, o)
		up += json_is_true(json_object_get(o, "up"));
	/* Header: what a glance needs. */
	fprintf(f, "gwartd  routed/s %-9s delivered/s %-9s drops/s %-9s every %.1fs\n",
		rfmt(r1, sizeof(r1), rate(a->stats, b->stats, "routed", dt)),
		rfmt(r2, sizeof(r2), rate(a->stats, b->stats, "delivered", dt)),
		rfmt(r3, sizeof(r3), drops), dt);
	fprintf(f, "custody %-10llu sessions up %u/%zu  mbufs in use %-8llu fds %llu\n",
		(unsigned long long)u64(b->stats, "custody_total"), up, json_array_size(cb),
		(unsigned long long)u64(b->stats, "mempool_in_use"),
		(unsigned long long)u64(b->stats, "open_fds"));
	fprintf(f, "\n%-6s %5s %9s %9s %6s %9s %9s %12s\n", "WORKER", "LCORE", "Mmsg/s", "Mpkt/s",
		"BUSY%", "DROPS/s", "RETX/s", "ROUTED");
	lines = 4;
	json_array_foreach(wb, i, o) {
		json_int_t w = json_integer_value(json_object_get(o, "worker"));
		double busy = 0, mmsg = 0, mpkt = 0, dr = 0, retx = 0;

		p = find(wa, "worker", w);
		if (p != NULL) {
			uint64_t c0 = u64(p, "busy_cycles"), c1 = u64(o, "busy_cycles");

			mmsg = rate(p, o, "routed", dt) / 1e6;
			mpkt = rate(p, o, "rx_pkts", dt) / 1e6;
			dr = rate(p, o, "dropped", dt);
			retx = rate(p, o, "retransmits", dt);
			if (hz > 0 && c1 >= c0)
				busy = 100.0 * (double)(c1 - c0) / (hz * dt);
		}
		if (busy > 100)
			busy = 100; /* sampling jitter, not a faster core */
		fprintf(f, "%-6lld %5llu %9.3f %9.3f %6.1f %9s %9s %12llu\n", (long long)w,
			(unsigned long long)u64(o, "lcore"), mmsg, mpkt, busy,
			rfmt(r1, sizeof(r1), dr), rfmt(r2, sizeof(r2), retx),
			(unsigned long long)u64(o, "routed"));
		lines++;
	}
	fprintf(f, "\n%5s %-*s %-5s %9s %9s %9s %8s %8s\n", "ID", TOP_NAME_WIDTH, "CONNECTOR",
		"STATE", "IN/s", "OUT/s", "RETX/s", "CUSTODY", "NACKED/s");
	lines += 2;
	json_array_foreach(cb, i, o) {
		json_int_t id = json_integer_value(json_object_get(o, "id"));
		const char *name = json_string_value(json_object_get(o, "name"));
		double in = 0, out = 0, retx = 0, nack = 0;

		if (rows != 0 && lines + 1 >= rows && i + 1 < json_array_size(cb)) {
			fprintf(f, "  ... %zu more connector(s): gwartctl top --once lists all\n",
				json_array_size(cb) - shown);
			return;
		}
		p = find(ca, "id", id);
		if (p != NULL) {
			in = rate(p, o, "rx_data", dt);
			out = rate(p, o, "tx_data", dt);
			retx = rate(p, o, "retransmits", dt);
			nack = rate(p, o, "nacked", dt);
		}
		fprintf(f, "%5lld %-*s %-5s %9s %9s %9s %8llu %8.0f\n", (long long)id, TOP_NAME_WIDTH,
			trunc_name(nm, sizeof(nm), name != NULL ? name : "-", TOP_NAME_WIDTH),
			json_is_true(json_object_get(o, "up")) ? "up" : "down",
			rfmt(r1, sizeof(r1), in), rfmt(r2, sizeof(r2), out),
			rfmt(r3, sizeof(r3), retx), (unsigned long long)u64(o, "custody"), nack);
		lines++;
		shown++;
	}
}

/* The terminal's lines, 0 when unknown (not a terminal). */
static unsigned term_rows(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

/* Wait up to @s seconds for a key: 1 to quit (q, Q, end of input, a
 * signal), 0 when the time is up. */
static int top_wait(double s, int watch_stdin)
{
	double end = now_s() + s;

	while (!top_quit) {
		double left = end - now_s();
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		char ch[64];
		ssize_t n, k;

		if (left <= 0)
			return 0;
		n = poll(&p, watch_stdin ? 1 : 0, (int)ceil(left * 1000));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		n = read(STDIN_FILENO, ch, sizeof(ch));
		if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
			return 1; /* end of input */
		for (k = 0; k < n; k++)
			if (ch[k] == 'q' || ch[k] == 'Q' || ch[k] == 3 /* ^C in raw mode */)
				return 1;
	}
	return 1;
}

static int top_usage(void)
{
	fprintf(stderr, "gwartctl: usage: gwartctl top [--once] [--interval SECONDS]\n");
	return EX_USAGE;
}

int ctl_top(struct ctl *c, int argc, char **argv)
{
	struct top_sample a = {0}, b = {0};
	double interval = TOP_INTERVAL_DEF;
	struct termios saved, raw;
	struct sigaction sa = {.sa_handler = top_on_signal};
	int once = 0, tty = 0, i, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0) {
			once = 1;
		} else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
			char *end;

			interval = strtod(argv[++i], &end);
			if (*argv[i] == '\0' || *end != '\0' || !(interval >= TOP_INTERVAL_MIN &&
								  interval <= TOP_INTERVAL_MAX)) {
				fprintf(stderr, "gwartctl: bad interval '%s' (%.1f..%.0f seconds)\n",
					argv[i], TOP_INTERVAL_MIN, TOP_INTERVAL_MAX);
				return EX_USAGE;
			}
		} else {
			return top_usage();
		}
	}
	rc = top_take(c, &a);
	if (rc != EX_OK)
		return rc;
	if (once) {
		/* Two samples an interval apart, so the rates are real. */
		struct timespec ts = {(time_t)interval,
				      (long)((interval - (double)(time_t)interval) * 1e9)};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		rc = top_take(c, &b);
		if (rc == EX_OK)
			top_print(stdout, &a, &b, 0);
		top_drop(&a);
		top_drop(&b);
		return rc == EX_OK && fflush(stdout) != 0 ? EX_ERROR : rc;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Each screen leaves in one write at the fflush(), not line by line. */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	printf("gwartctl top: first sample taken, the view follows in %.1f s (q quits)\n",
	       interval);
	fflush(stdout);
	/* Keys without Enter, not echoed; Ctrl-C still a signal. */
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tty = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	while (rc == EX_OK && !top_wait(interval, 1)) {
		rc = top_take(c, &b);
		if (rc != EX_OK)
			break;
		/* Home, clear, the screen. */
		fputs("\033[H\033[2J", stdout);
		top_print(stdout, &a, &b, term_rows());
		fflush(stdout);
		top_drop(&a);
		a = b;
		b.reply = b.stats = NULL;
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	top_drop(&a);
	top_drop(&b);
	return rc;
}
