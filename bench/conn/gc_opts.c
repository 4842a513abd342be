/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's command line: the mode word, the option table (gb_opt), the
 * defaults, and the checks of what each mode needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gwart/auth.h>

#include "gb_opt.h"
#include "gc.h"

static const char *const gc_mode_names[] = {
	[GC_PAIR] = "pair", [GC_SEND] = "send", [GC_RECV] = "recv", [GC_CYCLES] = "cycles",
};

static const char gc_usage[] =
	"usage:\n"
	"  gwart-conn pair --router IP[:PORT] --src-id ID --dst-id ID --dest ADDR --count N\n"
	"      KEY [options]  a sender and a receiver: exactly once end to end\n"
	"  gwart-conn send --router IP[:PORT] --src-id ID --dest ADDR --count N KEY\n"
	"      [--expect OUTCOME] [options]  retries until every message is resolved\n"
	"  gwart-conn recv --router IP[:PORT] --id ID KEY [--count N] [options]\n"
	"      without --count: until SIGTERM/SIGINT or the timeout\n"
	"  gwart-conn cycles --router IP[:PORT] --id ID --count N KEY [--parallel P]\n"
	"      N open/WELCOME/close cycles on P threads (ids ID..ID+P-1)\n"
	"  pair and send with --size-max B [--size-min B]: whole messages of any size\n"
	"      (gw_conn_send_msg, on_message), sizes drawn per message, checked byte\n"
	"      for byte\n"
	"  KEY is --key HEX|BASE64 or --key-file FILE: the connectors' secret, as\n"
	"      configured on the router (gwartctl keygen makes one)\n";

static const char gc_notes[] =
	"pair prints '<label>: sent=N delivered=N duplicates=N lost=N rate=R msg/s'\n"
	"and exits 0 only if every message was acknowledged and delivered exactly\n"
	"once, uncorrupted; with --size-max it adds 'corrupt=N bytes=N mb_rate=X MB/s'\n"
	"(MB = 10^6 bytes). Exit status: 0 passed, 1 failed, 2 usage.\n";

/* A message size, @lo..GW_MSG_MAX, decimal digits only. */
static int parse_size(const char *arg, unsigned long long lo, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*arg < '0' || *arg > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || v < lo || v > GW_MSG_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* --size-max: whole messages. */
static int set_size_max(const char *arg, void *field)
{
	struct gc_opts *o = field;

	if (parse_size(arg, 1, &o->size_max) < 0)
		return -EINVAL;
	o->msg = true;
	return 0;
}

/* --size-min: noted, so that it is refused without --size-max. */
static int set_size_min(const char *arg, void *field)
{
	struct gc_opts *o = field;

	if (parse_size(arg, 0, &o->size_min) < 0)
		return -EINVAL;
	o->size_min_set = true;
	return 0;
}

/* --via: one relay in front of the router for every connector. */
static int set_via(const char *arg, void *field)
{
	struct gc_opts *o = field;

	o->via_src = o->via_dst = arg;
	return 0;
}

static void gc_opts_defaults(struct gc_opts *o, enum gc_mode mode, const char *mode_name)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	o->payload = GC_DEF_PAYLOAD;
	o->timeout_s = GC_DEF_TIMEOUT_S;
	o->label = mode_name;
	o->size_min = 1;
	o->size_seed = GC_DEF_SIZE_SEED;
}

/* The secret held in the key file @path into @out; the text is parsed by
 * gw_key_parse() (64 hex digits or base64) and never printed. */
static int gc_key_read(const char *path, const char *m, uint8_t out[GW_KEY_LEN])
{
	char buf[512];
	struct stat sb;
	ssize_t n = 0, r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "gwart-conn %s: --key-file %s: %s\n", m, path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
		fprintf(stderr, "gwart-conn %s: warning: --key-file %s is readable by others\n", m,
			path);
	while ((size_t)n < sizeof(buf) && (r = read(fd, buf + n, sizeof(buf) - (size_t)n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "gwart-conn %s: --key-file %s: %s\n", m, path,
				strerror(errno));
			close(fd);
			gw_auth_wipe(buf, sizeof(buf));
			return -EINVAL;
		}
		n += r;
	}
	close(fd);
	ret = (size_t)n < sizeof(buf) ? gw_key_parse(buf, (size_t)n, out) : -EINVAL;
	gw_auth_wipe(buf, sizeof(buf));
	if (ret < 0)
		fprintf(stderr, "gwart-conn %s: --key-file %s: does not hold a key (64 hex digits "
				"or the base64 of 32 bytes, not all zero)\n", m, path);
	return ret;
}

/* --key-file with one "%u": a file per connector id (the integration tests
 * give every connector a key of its own, pair and cycles open several). */
static bool gc_key_per_id(const char *path)
{
	const char *p = strstr(path, "%u");

	return p && !strchr(p + 2, '%') && strchr(path, '%') == p;
}

int gc_key_for(const struct gc_opts *o, uint32_t id, uint8_t out[GW_KEY_LEN])
{
	char path[4096];

	if (!o->key_per_id) {
		memcpy(out, o->key, GW_KEY_LEN);
		return 0;
	}
	snprintf(path, sizeof(path), o->key_file, id);
	return gc_key_read(path, gc_mode_names[o->mode], out);
}

/* The connectors' secret from --key or --key-file into o->key (with "%u"
 * in the file name: checked for every id the mode opens, read again for
 * each connector by gc_key_for()). */
static int gc_key_load(struct gc_opts *o, const char *m)
{
	uint8_t k[GW_KEY_LEN];
	uint32_t n, i;
	int ret;

	if (!o->key_text == !o->key_file) {
		fprintf(stderr, "gwart-conn %s: %s\n", m,
			o->key_text ? "--key and --key-file exclude each other"
				    : "--key HEX or --key-file FILE is required (protocol v2: "
				      "the connector's secret)");
		return -EINVAL;
	}
	if (o->key_text) {
		ret = gw_key_parse(o->key_text, strlen(o->key_text), o->key);
		if (ret < 0)
			fprintf(stderr, "gwart-conn %s: --key: not 64 hex digits or the base64 of "
					"32 bytes (or all zero)\n", m);
		return ret;
	}
	if (!gc_key_per_id(o->key_file))
		return gc_key_read(o->key_file, m, o->key);
	o->key_per_id = true;
	n = o->mode == GC_CYCLES ? (o->parallel ? o->parallel : 1) : 1;
	ret = 0;
	for (i = 0; i < n && ret == 0; i++)
		ret = gc_key_for(o, o->src_id + i, k);
	if (ret == 0 && o->mode == GC_PAIR)
		ret = gc_key_for(o, o->dst_id, k);
	gw_auth_wipe(k, sizeof(k)); /* a check only: each connector reads its own */
	return ret < 0 ? -EINVAL : 0;
}

/* What each mode needs beyond the table's per-value checks. */
static int gc_opts_check(struct gc_opts *o)
{
	const char *m = gc_mode_names[o->mode], *missing = NULL;

	if (!o->router)
		missing = "--router";
	else if (!o->src_id)
		missing = o->mode == GC_PAIR || o->mode == GC_SEND ? "--src-id" : "--id";
	else if (o->mode == GC_PAIR && !o->dst_id)
		missing = "--dst-id";
	else if ((o->mode == GC_PAIR || o->mode == GC_SEND) && !o->dest)
		missing = "--dest";
	else if (o->mode != GC_RECV && !o->count)
		missing = "--count (at least 1)";
	if (missing) {
		fprintf(stderr, "gwart-conn %s: %s is required\n", m, missing);
		return -EINVAL;
	}
	if (gc_key_load(o, m) < 0)
		return -EINVAL;
	/* One state file per connector: pair has two, cycles opens many. */
	if ((o->state || o->out) && (o->mode == GC_PAIR || o->mode == GC_CYCLES)) {
		fprintf(stderr, "gwart-conn %s: --state and --out are for send and recv only\n", m);
		return -EINVAL;
	}
	if (o->msg || o->size_dist || o->max_message || o->size_min_set) {
		if (!o->msg) {
			fprintf(stderr, "gwart-conn %s: --size-min, --size-dist and --max-message go "
					"with --size-max\n", m);
			return -EINVAL;
		}
		if (o->mode != GC_PAIR && o->mode != GC_SEND) {
			fprintf(stderr, "gwart-conn %s: whole messages (--size-max) are for pair "
					"and send\n", m);
			return -EINVAL;
		}
		if (o->size_min > o->size_max) {
			fprintf(stderr, "gwart-conn %s: --size-min %u is above --size-max %u\n", m,
				o->size_min, o->size_max);
			return -EINVAL;
		}
		if (o->size_dist && strcmp(o->size_dist, "log") &&
		    strcmp(o->size_dist, "uniform")) {
			fprintf(stderr, "gwart-conn %s: --size-dist log or uniform\n", m);
			return -EINVAL;
		}
		o->size_uniform = o->size_dist && !strcmp(o->size_dist, "uniform");
		if (o->max_message && o->max_message < o->size_max)
			fprintf(stderr, "gwart-conn %s: note: --max-message %llu is below "
					"--size-max %u: larger messages are refused by the SDK\n",
				m, (unsigned long long)o->max_message, o->size_max);
	}
	if (o->mode == GC_CYCLES &&
	    (uint64_t)o->src_id + (o->parallel ? o->parallel : 1) - 1 > UINT32_MAX) {
		fprintf(stderr, "gwart-conn %s: --id %u with --parallel %u runs past id %u\n", m,
			o->src_id, o->parallel, UINT32_MAX);
		return -EINVAL;
	}
	return 0;
}

int gc_opts_parse(struct gc_opts *o, int argc, char **argv)
{
	const struct gb_opt rows[] = {
		GB_OPT_STR("router", &o->router, "IP[:PORT]", "the router; PORT defaults to 4790"),
		GB_OPT_U32("src-id", &o->src_id, 1, UINT32_MAX, "ID",
			   "pair, send: the sender's connector id"),
		GB_OPT_U32("dst-id", &o->dst_id, 1, UINT32_MAX, "ID",
			   "pair: the receiver's connector id"),
		GB_OPT_U32("id", &o->src_id, 1, UINT32_MAX, "ID",
			   "recv, cycles: the connector id (cycles: the first)"),
		GB_OPT_STR("dest", &o->dest, "ADDR", "pair, send: every message's destination"),
		GB_OPT_U64("count", &o->count, 0, UINT32_MAX, "N",
			   "messages to send or receive; cycles: open/close cycles"),
		GB_OPT_U32("payload", &o->payload, GC_HDR_LEN, GW_PAYLOAD_MAX, "BYTES",
			   "payload bytes per message"),
		GB_OPT_FN("size-max", set_size_max, o, "BYTES",
			  "pair, send: whole messages (gw_conn_send_msg) of at most BYTES "
			  "(1..64 MiB); without it, --payload bytes per frame"),
		GB_OPT_FN("size-min", set_size_min, o, "BYTES",
			  "with --size-max: the smallest message, 0..--size-max (default 1)"),
		GB_OPT_STR("size-dist", &o->size_dist, "log|uniform",
			   "with --size-max: how sizes are drawn (default log: log-uniform)"),
		GB_OPT_U64("size-seed", &o->size_seed, 0, UINT64_MAX, "S",
			   "with --size-max: the seed the sizes are drawn from"),
		GB_OPT_U64("max-message", &o->max_message, 0, GW_MSG_MAX, "BYTES",
			   "with --size-max: the SDK's max_message (0: --size-max or the "
			   "SDK's default, whichever is larger)"),
		GB_OPT_STR("bind", &o->bind, "IP", "local address of the connectors' sockets"),
		GB_OPT_STR("via-src", &o->via_src, "IP:PORT",
			   "the sender's way to the router (a relay)"),
		GB_OPT_STR("via-dst", &o->via_dst, "IP:PORT",
			   "the receiver's way to the router (a relay)"),
		GB_OPT_FN("via", set_via, o, "IP:PORT", "both ways to the router (a relay)"),
		GB_OPT_DOUBLE("timeout", &o->timeout_s, 0, HUGE_VAL, "S",
			      "seconds before the run gives up", GB_OPT_ABOVE_MIN),
		GB_OPT_STR("label", &o->label, "NAME", "prefix of every output line (default: the mode)"),
		GB_OPT_U32("window", &o->window, 1, GC_SEQMAP / 2, "N",
			   "messages in flight (default: the SDK's)"),
		GB_OPT_U32("rx-window", &o->rx_window, 1, GC_RX_WINDOW_MAX, "N",
			   "receive window announced in HELLO (default: the SDK's)"),
		GB_OPT_U32("rto-us", &o->rto_us, 0, GW_CONN_MAX_RTO_US, "US",
			   "initial retransmission timeout (0: the SDK's)"),
		GB_OPT_U64("first-seq", &o->first_seq, 0, UINT64_MAX, "S",
			   "first origin seq (0: the SDK's)"),
		GB_OPT_STR("expect", &o->expect, "OUTCOME",
			   "send: what every message must get: acked, NO_ROUTE, BUSY, ..."),
		GB_OPT_DOUBLE("dst-delay", &o->dst_delay_s, 0, HUGE_VAL, "S",
			      "pair: the receiver connects S seconds after the sender"),
		GB_OPT_STR("state", &o->state, "PATH",
			   "send, recv: the SDK's state file (seq and window across restarts)"),
		GB_OPT_STR("out", &o->out, "FILE",
			   "send, recv: append 'ORIGIN SEQ' per message acked or delivered"),
		/* The SDK checks the backoff's ranges (gw_conn_open: -EINVAL). */
		GB_OPT_U32("backoff-initial-ms", &o->bo_initial_ms, 0, UINT32_MAX, "MS",
			   "the SDK's reconnection backoff: first delay (0: the SDK's)"),
		GB_OPT_U32("backoff-mult-pct", &o->bo_mult_pct, 0, UINT32_MAX, "P",
			   "growth per attempt, percent (0: the SDK's)"),
		GB_OPT_U32("backoff-jitter-pct", &o->bo_jitter_pct, 0, UINT32_MAX, "P",
			   "jitter, percent (0: the SDK's)"),
		GB_OPT_U32("backoff-max-ms", &o->bo_max_ms, 0, UINT32_MAX, "MS",
			   "longest delay (0: the SDK's)"),
		GB_OPT_U64("rate", &o->rate, 0, UINT64_MAX, "MSG/S",
			   "pair, send: pace the sender (0: as fast as the window allows)"),
		GB_OPT_U32("parallel", &o->parallel, 1, GC_MAX_PARALLEL, "P", "cycles: threads"),
		GB_OPT_STR("key", &o->key_text, "HEX|BASE64",
			   "the connectors' 32-byte secret (this or --key-file is required)"),
		GB_OPT_STR("key-file", &o->key_file, "FILE",
			   "a file holding the secret's text (hex or base64); one %u in FILE: "
			   "a file per connector id"),
	};
	const struct gb_opt_cmd cmd = {
		.prog = "gwart-conn", .usage = gc_usage, .notes = gc_notes,
		.opts = rows, .n = sizeof(rows) / sizeof(rows[0]),
	};
	char err[GB_OPT_ERR_LEN];
	enum gc_mode mode;
	int r;

	gc_opts_defaults(o, GC_PAIR, NULL);
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		gb_opt_help(&cmd, stdout);
		return GC_OPTS_HELP;
	}
	if (argc < 2) {
		gb_opt_help(&cmd, stderr);
		return GC_OPTS_USAGE;
	}
	for (mode = GC_PAIR; mode <= GC_CYCLES; mode++)
		if (!strcmp(argv[1], gc_mode_names[mode]))
			break;
	if (mode > GC_CYCLES) {
		fprintf(stderr, "gwart-conn: unknown mode '%s' (pair, send, recv or cycles)\n",
			argv[1]);
		return GC_OPTS_USAGE;
	}
	gc_opts_defaults(o, mode, argv[1]);
	r = gb_opt_parse(&cmd, argc, argv, 2, err, sizeof(err));
	if (r == GB_OPT_HELP) {
		gc_opts_defaults(o, mode, argv[1]); /* --help shows the defaults */
		gb_opt_help(&cmd, stdout);
		return GC_OPTS_HELP;
	}
	if (r < 0) {
		fprintf(stderr, "gwart-conn %s: %s\n", argv[1], err);
		return GC_OPTS_USAGE;
	}
	return gc_opts_check(o) < 0 ? GC_OPTS_USAGE : GC_OPTS_RUN;
}
