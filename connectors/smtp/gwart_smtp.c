/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-smtp's main(): the options, the SDK handle and its callbacks (the
 * messages from gwart go to the side they are for: GWMAIL1 to egress,
 * GWRCPT1 to ingress), the loop, signals (SIGTERM/SIGINT: drain, then a
 * final counters line), the --stats-file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gwart/auth.h>

#include "backoff.h"
#include "gb_opt.h"
#include "gs.h"
#include "relay.h"

static struct gs_ctx G;
static volatile sig_atomic_t stop_flag;
static uint64_t next_stats_ms;

void gs_log(const char *fmt, ...)
{
	va_list ap;

	fputs("gwart-smtp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

uint64_t gs_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec;
}

uint64_t gs_age_s(uint64_t created_us)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return now > created_us ? (now - created_us) / 1000000u : 0;
}

uint64_t gs_retry_ms(struct gs_ctx *g, uint32_t attempt)
{
	struct cp_backoff b = {
		.initial_us = (uint64_t)g->o.retry_s * 1000000u,
		.mult_pct = 200,
		.jitter_pct = 20,
		.max_us = (uint64_t)g->o.retry_max_s * 1000000u,
	};

	if (b.max_us < b.initial_us)
		b.max_us = b.initial_us;
	return cp_backoff_us(&b, attempt > 30 ? 30 : attempt, &g->rng) / 1000u;
}

/* ---- options ---- */

static const char usage[] =
	"usage: gwart-smtp --id ID --key-file FILE --router IP[:PORT] --spool DIR\n"
	"                  [--mode ingress|egress|both] [--listen ADDR:PORT]\n"
	"                  [--next-hop ADDR:PORT] [--bounce-relay ADDR:PORT] [options]\n"
	"  One gwart connector that carries mail: ingress is an SMTP server for the\n"
	"  sending MTA (each mail spooled on disk, handed to gwart, answered 250 only\n"
	"  when gwart acknowledged all of it); egress delivers what gwart hands it to\n"
	"  the next-hop MTA by SMTP and sends a receipt back; both does both.\n";

static const char notes[] =
	"Destinations: each recipient domain group of a mail is one gwart message\n"
	"to smtp:<first recipient>; receipts go to smtp-receipt:receipts@<ingress id>\n"
	"(route type smtp-receipt, pattern <ingress id>, to the ingress connector).\n"
	"The router's max_message must be at least --max-message + 64 KiB.\n"
	"Files: DIR/ingress/ (spool), DIR/egress/ (queue), STATE/delivered.log,\n"
	"STATE/conn.state (the SDK's). SIGTERM/SIGINT: stop listening, wait up to\n"
	"--drain-s for answers in flight, print one 'gwart-smtp: final:' line.\n"
	"Exit status: 0 after a signal, 1 on a fatal error, 2 for bad usage.\n";

static int parse_mode(const char *arg, void *field)
{
	struct gs_opts *o = field;

	o->mode = arg;
	o->ingress = !strcmp(arg, "ingress") || !strcmp(arg, "both");
	o->egress = !strcmp(arg, "egress") || !strcmp(arg, "both");
	return o->ingress || o->egress ? 0 : -EINVAL;
}

static bool valid_host(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static void defaults(struct gs_opts *o)
{
	static char host[256];

	memset(o, 0, sizeof(*o));
	o->mode = "both";
	o->ingress = o->egress = true;
	o->listen = "127.0.0.1:2525";
	o->max_message = GW_MSG_DEFAULT_MAX;
	if (gethostname(host, sizeof(host) - 1) < 0 || !valid_host(host))
		strcpy(host, "localhost");
	o->name = host;
	o->max_sessions = 64;
	o->spool_entries = 10000;
	o->spool_bytes = 1024ull << 20;
	o->delivered_max = 100000;
	o->resend_s = 300;
	o->retry_s = 30;
	o->retry_max_s = 3600;
	o->max_queue_s = 5 * 86400;
	o->idle_s = 300;
	o->conns = 4;
	o->drain_s = 10;
	o->reply_s = 120;
}

static int parse_opts(struct gs_opts *o, int argc, char **argv)
{
	const struct gb_opt rows[] = {
		GB_OPT_U32("id", &o->id, 1, UINT32_MAX, "ID", "this connector's id", GB_OPT_REQUIRED),
		GB_OPT_STR("key-file", &o->key_file, "FILE", "its secret (64 hex digits or base64)",
			   GB_OPT_REQUIRED),
		GB_OPT_STR("router", &o->router, "IP[:PORT]", "the gwart router", GB_OPT_REQUIRED),
		GB_OPT_STR("bind", &o->bind, "IP", "local address of the gwart socket"),
		GB_OPT_FN("mode", parse_mode, o, "MODE", "ingress, egress or both (default both)"),
		GB_OPT_STR("listen", &o->listen, "ADDR:PORT",
			   "ingress: SMTP listening address (default 127.0.0.1:2525)"),
		GB_OPT_STR("next-hop", &o->next_hop, "ADDR:PORT", "egress: the MTA to deliver to"),
		GB_OPT_STR("bounce-relay", &o->bounce_relay, "ADDR:PORT",
			   "ingress: the MTA that takes bounces (usually the sending MTA)"),
		GB_OPT_STR("spool", &o->spool, "DIR", "spool and queue directory", GB_OPT_REQUIRED),
		GB_OPT_STR("state", &o->state, "DIR",
			   "SDK state and delivered-Id log (default: the spool DIR)"),
		GB_OPT_U64("max-message", &o->max_message, 1, GW_MSG_MAX - GS_ENVELOPE_ROOM, "BYTES",
			   "largest mail taken (SIZE advertised)"),
		GB_OPT_STR("name", &o->name, "HOST",
			   "host name in the greeting, EHLO, trace headers and bounces"),
		GB_OPT_STR("stats-file", &o->stats_file, "FILE",
			   "counters as JSON, rewritten every second and at exit"),
		GB_OPT_U32("max-sessions", &o->max_sessions, 1, 10000, "N",
			   "ingress: SMTP sessions at once (more: 421)"),
		GB_OPT_U32("spool-entries", &o->spool_entries, 1, 10000000, "N",
			   "mails in each spool (more: 452 4.3.1)"),
		GB_OPT_U64("spool-bytes", &o->spool_bytes, 4096, UINT64_MAX / 2, "BYTES",
			   "bytes in each spool (more: 452 4.3.1)"),
		GB_OPT_U32("delivered-max", &o->delivered_max, 16, 1u << 28, "N",
			   "egress: delivered Ids remembered (the duplicate horizon)"),
		GB_OPT_U32("resend-s", &o->resend_s, 1, 86400, "S",
			   "ingress: send a mail again when no receipt came for it after S"),
		GB_OPT_U32("retry-s", &o->retry_s, 1, 86400, "S",
			   "first retry delay after a 4xx (doubling, +-20 %)"),
		GB_OPT_U32("retry-max-s", &o->retry_max_s, 1, 86400, "S", "largest retry delay"),
		GB_OPT_U32("max-queue-s", &o->max_queue_s, 1, 100 * 86400, "S",
			   "give a mail up (bounce) after S"),
		GB_OPT_U32("idle-s", &o->idle_s, 1, 3600, "S", "SMTP idle timeout"),
		GB_OPT_U32("conns", &o->conns, 1, 1000, "N", "egress: deliveries at once"),
		GB_OPT_U32("drain-s", &o->drain_s, 0, 3600, "S", "SIGTERM: time for answers in flight"),
		GB_OPT_U32("reply-s", &o->reply_s, 1, 3600, "S",
			   "ingress: most time a DATA waits for gwart before 451"),
	};
	const struct gb_opt_cmd cmd = { "gwart-smtp", usage, notes, rows,
					sizeof(rows) / sizeof(rows[0]) };
	char err[GB_OPT_ERR_LEN];
	int ret;

	defaults(o);
	ret = gb_opt_parse(&cmd, argc, argv, 1, err, sizeof(err));
	if (ret == GB_OPT_HELP) {
		defaults(o);
		gb_opt_help(&cmd, stdout);
		return 1;
	}
	if (ret < 0) {
		fprintf(stderr, "gwart-smtp: %s (--help lists the options)\n", err);
		return -1;
	}
	if (o->egress && !o->next_hop) {
		fprintf(stderr, "gwart-smtp: --mode %s needs --next-hop ADDR:PORT\n", o->mode);
		return -1;
	}
	if (!o->state)
		o->state = o->spool;
	/* The greeting, EHLO and trace headers take a host name: refused here,
	 * not by every session later. */
	if (!valid_host(o->name)) {
		fprintf(stderr, "gwart-smtp: --name %s: not a host name (1..255 of A-Z a-z 0-9 . -)\n",
			o->name);
		return -1;
	}
	return 0;
}

static int read_key(const char *path, uint8_t out[GW_KEY_LEN])
{
	char buf[512];
	ssize_t n = 0, r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		gs_log("--key-file %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	while ((size_t)n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		n += r;
	}
	close(fd);
	ret = (size_t)n < sizeof(buf) ? gw_key_parse(buf, (size_t)n, out) : -EINVAL;
	explicit_bzero(buf, sizeof(buf));
	if (ret < 0)
		gs_log("--key-file %s: does not hold a key (64 hex digits or the base64 of 32 "
		       "bytes, not all zero)", path);
	return ret;
}

/* ---- the SDK's callbacks ---- */

static void on_message(void *arg, uint32_t origin, uint64_t msg_id, const char *dest,
		       uint16_t dest_len, const void *msg, size_t len)
{
	struct gs_ctx *g = arg;

	(void)msg_id;
	(void)dest;
	(void)dest_len;
	if (len >= 9 && !memcmp(msg, "GWMAIL1\r\n", 9)) {
		if (g->eg)
			gs_egress_on_mail(g->eg, origin, msg, len);
		else
			g->rx_misrouted++;
	} else if (len >= 9 && !memcmp(msg, "GWRCPT1\r\n", 9)) {
		if (g->in)
			gs_ingress_on_receipt(g->in, origin, msg, len);
		else
			g->rx_misrouted++;
	} else {
		g->rx_unknown++;
	}
}

static void on_result(void *arg, uint64_t msg_id, int status)
{
	struct gs_ctx *g = arg;

	if (g->in && gs_ingress_on_result(g->in, msg_id, status))
		return;
	if (g->eg)
		gs_egress_on_result(g->eg, msg_id, status);
}

static uint64_t rx_notices;

static void on_rx_notice(void *arg, uint32_t origin, uint64_t msg_id, int reason)
{
	(void)arg;
	rx_notices++;
	gs_log("a message from connector %" PRIu32 " (id %" PRIu64 ") was given up in reassembly "
	       "(reason %d); its ingress sends it again", origin, msg_id, reason);
}

static void on_sdk(struct gs_loop *l, int fd, int revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	gw_conn_poll(arg, 0);
}

static int sdk_tick(struct gs_loop *l, uint64_t now, void *arg)
{
	struct gw_conn *c = arg;
	int t;

	(void)l;
	(void)now;
	if (gw_conn_next_timeout_ms(c) == 0)
		gw_conn_poll(c, 0);
	gw_conn_flush(c);
	t = gw_conn_next_timeout_ms(c);
	return t;
}

/* ---- counters ---- */

static void report(FILE *f, bool json)
{
	struct gw_conn_stats cs;

	gw_conn_get_stats(G.conn, &cs);
	if (json) {
		fprintf(f, "{\"id\": %" PRIu32 ", \"mode\": \"%s\", ", G.o.id, G.o.mode);
		if (G.in) {
			gs_ingress_report(G.in, f, true);
			fputs(", ", f);
		}
		if (G.eg) {
			gs_egress_report(G.eg, f, true);
			fputs(", ", f);
		}
		fprintf(f, "\"gwart\": {\"up\": %u, \"sent\": %" PRIu64 ", \"retransmitted\": %"
			PRIu64 ", \"sessions\": %" PRIu64 ", \"inflight\": %u, \"rx_unknown\": %"
			PRIu64 ", \"rx_misrouted\": %" PRIu64 ", \"rx_notices\": %" PRIu64 "}}\n",
			cs.up, cs.sent, cs.retransmitted, cs.sessions, cs.inflight, G.rx_unknown,
			G.rx_misrouted, rx_notices);
		return;
	}
	fprintf(f, "gwart-smtp: final: id=%" PRIu32 " mode=%s ", G.o.id, G.o.mode);
	if (G.in) {
		gs_ingress_report(G.in, f, false);
		fputc(' ', f);
	}
	if (G.eg) {
		gs_egress_report(G.eg, f, false);
		fputc(' ', f);
	}
	fprintf(f, "gwart: sent=%" PRIu64 " retransmitted=%" PRIu64 " inflight=%u rx_unknown=%"
		PRIu64 " rx_misrouted=%" PRIu64 " rx_notices=%" PRIu64 "\n", cs.sent,
		cs.retransmitted, cs.inflight, G.rx_unknown, G.rx_misrouted, rx_notices);
}

static void write_stats(void)
{
	char tmp[4096];
	FILE *f;

	if (!G.o.stats_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", G.o.stats_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	report(f, true);
	if (fclose(f) == 0)
		rename(tmp, G.o.stats_file);
}

static int stats_tick(struct gs_loop *l, uint64_t now, void *arg)
{
	(void)l;
	(void)arg;
	if (!G.o.stats_file)
		return -1;
	if (now >= next_stats_ms) {
		write_stats();
		next_stats_ms = now + 1000;
	}
	return (int)(next_stats_ms - now);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int open_conn(void)
{
	struct gw_conn_cfg cfg = { 0 };
	char host[64], state[4096];
	const char *colon = strchr(G.o.router, ':');
	size_t hl = colon ? (size_t)(colon - G.o.router) : strlen(G.o.router);
	int err;

	if (hl == 0 || hl >= sizeof(host)) {
		gs_log("--router %s: not IP[:PORT]", G.o.router);
		return -EINVAL;
	}
	memcpy(host, G.o.router, hl);
	host[hl] = 0;
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);

		if (*end || p <= 0 || p > 65535) {
			gs_log("--router %s: bad port", G.o.router);
			return -EINVAL;
		}
		cfg.router_port = (uint16_t)p;
	}
	if (mkdir(G.o.state, 0700) < 0 && errno != EEXIST) {
		gs_log("--state %s: %s", G.o.state, strerror(errno));
		return -errno;
	}
	snprintf(state, sizeof(state), "%s/conn.state", G.o.state);
	cfg.id = G.o.id;
	cfg.router_addr = host;
	cfg.bind_addr = G.o.bind;
	cfg.state_path = state;
	cfg.max_message = G.o.max_message + GS_ENVELOPE_ROOM;
	cfg.on_message = on_message;
	cfg.on_result = on_result;
	cfg.on_rx_notice = on_rx_notice;
	cfg.arg = &G;
	if (read_key(G.o.key_file, cfg.key) < 0)
		return -EINVAL;
	/* An address that is not there yet (the interface towards the router
	 * coming up, or being re-created by a restarting gwartd) is waited
	 * for: a mail daemon does not give up at start-up for that. */
	for (unsigned n = 0;; n++) {
		G.conn = gw_conn_open(&cfg, &err);
		if (G.conn || (err != -EADDRNOTAVAIL && err != -ENETUNREACH) || stop_flag)
			break;
		if (n == 0)
			gs_log("connector %" PRIu32 ": %s: waiting for it", G.o.id, strerror(-err));
		usleep(200000);
	}
	explicit_bzero(cfg.key, sizeof(cfg.key));
	if (!G.conn) {
		gs_log("connector %" PRIu32 ": %s", G.o.id, strerror(-err));
		return err;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t deadline;
	int ret;

	ret = parse_opts(&G.o, argc, argv);
	if (ret != 0)
		return ret > 0 ? 0 : 2;
	G.rng = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 16 ^ 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (mkdir(G.o.spool, 0700) < 0 && errno != EEXIST) {
		gs_log("--spool %s: %s", G.o.spool, strerror(errno));
		return 1;
	}
	G.loop = gs_loop_new();
	if (!G.loop || open_conn() < 0) {
		if (stop_flag && G.loop) {
			gs_loop_free(G.loop);
			return 0; /* told to stop while waiting for the address */
		}
		goto fail;
	}
	if (G.o.egress && gs_egress_open(&G, &G.eg) < 0)
		goto fail;
	if (G.o.ingress && gs_ingress_open(&G, &G.in) < 0)
		goto fail;
	if (gs_loop_add(G.loop, gw_conn_fd(G.conn), POLLIN, on_sdk, G.conn) < 0)
		goto fail;
	if (G.in)
		gs_loop_tick(G.loop, gs_ingress_tick, G.in);
	if (G.eg)
		gs_loop_tick(G.loop, gs_egress_tick, G.eg);
	gs_loop_tick(G.loop, gs_relay_tick, NULL);
	gs_loop_tick(G.loop, sdk_tick, G.conn);
	gs_loop_tick(G.loop, stats_tick, NULL);
	gs_log("connector %" PRIu32 " mode %s%s%s%s%s up", G.o.id, G.o.mode,
	       G.in ? ", listening on " : "", G.in ? G.o.listen : "",
	       G.eg ? ", next hop " : "", G.eg ? G.o.next_hop : "");
	while (!stop_flag)
		if (gs_loop_once(G.loop, 1000) < 0)
			break;
	/* Drain: no new mail, answers in flight given --drain-s. */
	if (G.in)
		gs_ingress_shutdown(G.in);
	if (G.eg)
		gs_egress_shutdown(G.eg);
	deadline = gs_now_ms() + (uint64_t)G.o.drain_s * 1000u;
	while (gs_now_ms() < deadline) {
		struct gw_conn_stats cs;

		gw_conn_get_stats(G.conn, &cs);
		if (!(G.in && gs_ingress_busy(G.in)) && !(G.eg && gs_egress_busy(G.eg)) &&
		    cs.inflight == 0)
			break;
		gs_loop_once(G.loop, 50);
	}
	write_stats();
	report(stdout, false);
	fflush(stdout);
	gs_ingress_close(G.in);
	gs_egress_close(G.eg);
	gw_conn_close(G.conn);
	gs_loop_free(G.loop);
	return 0;
fail:
	gs_ingress_close(G.in);
	gs_egress_close(G.eg);
	gw_conn_close(G.conn);
	gs_loop_free(G.loop);
	return 1;
}
