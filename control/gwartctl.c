/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwartctl: the operator's client of gwartd's control socket.
 *
 * It only turns words into requests (control/api.h) and results into
 * tables; every decision is the daemon's, and its error codes become one
 * line on stderr and one exit code per kind of failure, so scripts can
 * tell "no such connector" from "daemon down" without parsing text.
 * It links jansson and libc only: it must run where DPDK is not installed.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include <gwart/auth.h>
#include <gwart/ctl.h>

#include "gwartctl.h"
#include "keys.h"

#define CTL_DEFAULT_SOCKET GW_CTL_SOCKET_DEFAULT
#define CTL_REPLY_TIMEOUT_MS 60000  /* a daemon that stops answering */
#define CTL_REPLY_MAX (256u << 20)  /* bytes: a route dump of millions of routes */
#define CTL_MAX_CONN_ID GW_CTL_MAX_CONN_ID

struct ctl {
	const char *path;
	int json;
	int fd;
	const char *where;  /* "" or "line N: " in batch mode */
	char *buf;          /* reply bytes */
	size_t len, cap;
};

static void errmsg(const struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void errmsg(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gwartctl: %s", c->where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gwartctl [--socket PATH] [--json] COMMAND ...\n"
		"\n"
		"  status                      daemon summary\n"
		"  stats                       every counter (drops by reason, per connector)\n"
		"  connectors [ID]             connectors, their address, custody and counters\n"
		"  sessions [ID]               session state, reconnection probes and backoff\n"
		"  routes [TYPE]               address spaces and their targets\n"
		"  top [--once] [--interval S]\n"
		"                              live view every S (1) seconds: per worker Mmsg/s,\n"
		"                              busy %%, drops; per connector rates, custody,\n"
		"                              state; q quits; --once: one plain screen\n"
		"  route add TYPE PATTERN CONN[:COST] [CONN[:COST]...]\n"
		"                              add a route, or replace its targets (cost 0 if\n"
		"                              omitted); PATTERN: domain, *.suffix or *\n"
		"  route del TYPE PATTERN\n"
		"  connector add ID NAME --key HEX|--key-file FILE\n"
		"                              every connector needs its secret key (64 hex\n"
		"                              digits or base64); FILE holds the key text and\n"
		"                              must not be readable by group or other\n"
		"  connector set-key ID --key HEX|--key-file FILE\n"
		"                              replace its key; a live session is closed (it\n"
		"                              was proved with the old key) and probes start\n"
		"  connector del|enable|disable|reconnect|drain ID\n"
		"                              del refuses while a route names it or custody\n"
		"                              holds messages for it; drain stops routing to\n"
		"                              it and prints what custody still holds\n"
		"  get [NAME]                  runtime tunables: value, unit, bounds\n"
		"  set NAME VALUE              change one, live\n"
		"  log                         gwartd's log types (gwart.dataplane, .control,\n"
		"                              .session, .config) and their levels\n"
		"  log TYPE LEVEL              set one, live: TYPE dataplane, control, session,\n"
		"                              config or all; LEVEL emerg, alert, crit, err,\n"
		"                              warning, notice, info or debug\n"
		"  shutdown [--drain] [--timeout SECONDS]\n"
		"                              stop gwartd; with --drain refuse new messages and\n"
		"                              exit once custody is empty or SECONDS (30) pass;\n"
		"                              returns when the daemon has stopped\n"
		"  capture start --file F.pcapng [--connector ID] [--snaplen N]\n"
		"                              write the frames gwartd receives and sends (only\n"
		"                              connector ID's with --connector, N bytes of each)\n"
		"                              to a new pcapng file F\n"
		"  capture stop                stop it: frames, bytes and frames missed\n"
		"  capture status              the running capture and its counters\n"
		"  reload [FILE]               apply FILE (default: gwartd's --config file) as\n"
		"                              the whole configuration, live; a file that fails\n"
		"                              a check or changes a restart-only key changes\n"
		"                              nothing (SIGHUP does the same)\n"
		"  config show [--with-keys]   the running configuration as a file; keys only\n"
		"                              with --with-keys (else key_file paths)\n"
		"  keygen                      print a fresh random key (hex); keys are never\n"
		"                              shown by gwartd (listings give their KEY-ID)\n"
		"  batch                       read commands from stdin, one per line, over one\n"
		"                              connection; stops at the first failure\n"
		"\n"
		"  --socket PATH   control socket (default $GWART_SOCKET, else %s)\n"
		"  --json          print the daemon's JSON result instead of a table\n"
		"\n"
		"exit status: 0 ok; 1 other error; 2 usage or bad argument; 3 unknown object\n"
		"(connector, route, tunable); 4 gwartd not running or socket unreachable;\n"
		"5 conflict or busy (exists already, still in use, too many clients);\n"
		"6 permission denied\n",
		CTL_DEFAULT_SOCKET);
}

/* ---- the connection --------------------------------------------------------------- */

static int ctl_connect(struct ctl *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (c->fd >= 0)
		return EX_OK;
	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		errmsg(c, "socket path too long: %s", c->path);
		return EX_USAGE;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		errmsg(c, "socket: %s", strerror(errno));
		return EX_ERROR;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return EX_OK;
	if (errno == EACCES || errno == EPERM) {
		errmsg(c, "permission denied: %s (run as root or a member of its group)", c->path);
		return EX_PERM;
	}
	errmsg(c, "gwartd is not running (cannot connect to %s: %s)", c->path, strerror(errno));
	return EX_DOWN;
}

static int exit_for(const char *name)
{
	if (strcmp(name, GW_CTL_ENOENT) == 0)
		return EX_NOENT;
	if (strcmp(name, GW_CTL_EEXIST) == 0 || strcmp(name, GW_CTL_EBUSY) == 0)
		return EX_CONFLICT;
	if (strcmp(name, GW_CTL_EACCES) == 0 || strcmp(name, "EPERM") == 0)
		return EX_PERM;
	if (strcmp(name, GW_CTL_EINVAL) == 0 || strcmp(name, "ERANGE") == 0 ||
	    strcmp(name, GW_CTL_E2BIG) == 0 || strcmp(name, GW_CTL_EOPNOTSUPP) == 0 ||
	    strcmp(name, "ENOTSUP") == 0)
		return EX_USAGE;
	return EX_ERROR;
}

/* Read one reply line into c->buf (NUL-terminated). */
static int read_line(struct ctl *c, size_t *line_len)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		ssize_t n;

		if (nl != NULL) {
			*nl = '\0';
			*line_len = (size_t)(nl - c->buf);
			return EX_OK;
		}
		if (c->cap - c->len < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *b;

			if (cap > CTL_REPLY_MAX || (b = realloc(c->buf, cap)) == NULL) {
				errmsg(c, "reply larger than %u bytes", CTL_REPLY_MAX);
				return EX_ERROR;
			}
			c->buf = b;
			c->cap = cap;
		}
		n = poll(&p, 1, CTL_REPLY_TIMEOUT_MS);
		if (n == 0) {
			errmsg(c, "no reply from gwartd within %d s", CTL_REPLY_TIMEOUT_MS / 1000);
			return EX_ERROR;
		}
		n = n < 0 ? -1 : read(c->fd, c->buf + c->len, c->cap - c->len - 1);
		if (n > 0) {
			c->len += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else {
			errmsg(c, "gwartd closed the connection%s%s", n < 0 ? ": " : "",
			       n < 0 ? strerror(errno) : "");
			return EX_DOWN;
		}
	}
}

/*
 * One request, one reply. On success *result is the reply's result (owned
 * by *reply, which the caller releases). On failure the daemon's message is
 * printed and the exit code for its errno returned.
 */
int ctl_call(struct ctl *c, const char *cmd, json_t *args, json_t **reply, json_t **result)
{
	json_t *req = json_pack("{s:s, s:o}", "cmd", cmd, "args", args ? args : json_object());
	char *txt = req != NULL ? json_dumps(req, JSON_COMPACT) : NULL;
	size_t off = 0, n, line_len;
	json_error_t je;
	json_t *rep;
	int rc;

	json_decref(req);
	*reply = *result = NULL;
	if (txt == NULL) {
		errmsg(c, "out of memory");
		return EX_ERROR;
	}
	rc = ctl_connect(c);
	n = strlen(txt);
	txt[n++] = '\n';
	while (rc == EX_OK && off < n) {
		ssize_t w = send(c->fd, txt + off, n - off, MSG_NOSIGNAL);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else
			break; /* refused peers are closed: their reason is still readable */
	}
	explicit_bzero(txt, n); /* it may carry a key */
	free(txt);
	if (rc != EX_OK)
		return rc;
	rc = read_line(c, &line_len);
	if (rc != EX_OK)
		return rc;
	rep = json_loadb(c->buf, line_len, 0, &je);
	c->len -= line_len + 1;
	memmove(c->buf, c->buf + line_len + 1, c->len);
	if (!json_is_object(rep)) {
		json_decref(rep);
		errmsg(c, "%s: unreadable reply from gwartd", cmd);
		return EX_ERROR;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		const char *name = json_string_value(json_object_get(rep, "errno"));
		const char *text = json_string_value(json_object_get(rep, "error"));

		errmsg(c, "%s: %s", cmd, text ? text : "failed");
		rc = exit_for(name ? name : ""); /* before name goes with rep */
		json_decref(rep);
		return rc;
	}
	*reply = rep;
	*result = json_object_get(rep, "result");
	return EX_OK;
}

void ctl_disconnect(struct ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* ---- commands -------------------------------------------------------------------- */

/* A decimal number in [min, max], nothing else. */
static int parse_uint(const char *s, unsigned long long min, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' || *out < min || *out > max ? -1 : 0;
}

static int bad_arg(struct ctl *c, const char *what, const char *s)
{
	errmsg(c, "bad %s '%s'", what, s);
	return EX_USAGE;
}

static int set_id(struct ctl *c, json_t *a, const char *s)
{
	unsigned long long v;

	if (parse_uint(s, 1, CTL_MAX_CONN_ID, &v) != 0)
		return bad_arg(c, "connector id (1..65535)", s);
	json_object_set_new(a, "id", json_integer((json_int_t)v));
	return EX_OK;
}

static int a_opt_id(struct ctl *c, int argc, char **argv, json_t *a)
{
	return argc == 1 ? set_id(c, a, argv[0]) : EX_OK;
}

static int a_id(struct ctl *c, int argc, char **argv, json_t *a)
{
	return set_id(c, a, argv[0]);
}

static int a_opt_type(struct ctl *c, int argc, char **argv, json_t *a)
{
	if (argc == 1)
		json_object_set_new(a, "type", json_string(argv[0]));
	return EX_OK;
}

static int a_type_pattern(struct ctl *c, int argc, char **argv, json_t *a)
{
	json_object_set_new(a, "type", json_string(argv[0]));
	json_object_set_new(a, "pattern", json_string(argv[1]));
	return EX_OK;
}

/* route add TYPE PATTERN CONN[:COST]... */
static int a_route_add(struct ctl *c, int argc, char **argv, json_t *a)
{
	json_t *tg = json_array();
	int i;

	a_type_pattern(c, argc, argv, a);
	json_object_set_new(a, "targets", tg);
	for (i = 2; i < argc; i++) {
		unsigned long long id, cost = 0;
		char *colon = strchr(argv[i], ':');

		if (colon != NULL)
			*colon = '\0';
		if (parse_uint(argv[i], 1, CTL_MAX_CONN_ID, &id) != 0 ||
		    (colon != NULL && parse_uint(colon + 1, 0, UINT32_MAX, &cost) != 0)) {
			if (colon != NULL)
				*colon = ':';
			return bad_arg(c, "target CONN[:COST] (1..65535, cost 0..4294967295)",
				       argv[i]);
		}
		json_array_append_new(tg, json_pack("{s:I, s:I}", "connector", (json_int_t)id,
						    "cost", (json_int_t)cost));
	}
	return EX_OK;
}

/* --key HEX or --key-file FILE at argv[0..1]: the key text into "key".
 * The daemon parses it (and says what is wrong); a file is read here, with
 * gwartd's own rules (keys.h), and only its text travels, over the
 * credential-checked socket. */
static int set_key(struct ctl *c, json_t *a, int argc, char **argv, const char *synopsis)
{
	char text[CP_KEY_TEXT_MAX], err[512];
	long n;

	if (argc != 2 || (strcmp(argv[0], "--key") != 0 && strcmp(argv[0], "--key-file") != 0)) {
		errmsg(c, "usage: gwartctl %s", synopsis);
		return EX_USAGE;
	}
	if (strcmp(argv[0], "--key") == 0) {
		json_object_set_new(a, "key", json_string(argv[1]));
		return EX_OK;
	}
	n = cp_key_file_read(argv[1], text, sizeof(text), err, sizeof(err));
	if (n < 0) {
		errmsg(c, "%s", err);
		return n == -ENOENT ? EX_NOENT : n == -EPERM || n == -EACCES ? EX_PERM : EX_USAGE;
	}
	json_object_set_new(a, "key", json_stringn(text, (size_t)n));
	explicit_bzero(text, sizeof(text));
	return EX_OK;
}

static int a_conn_add(struct ctl *c, int argc, char **argv, json_t *a)
{
	json_object_set_new(a, "name", json_string(argv[1]));
	if (set_id(c, a, argv[0]) != EX_OK)
		return EX_USAGE;
	return set_key(c, a, argc - 2, argv + 2,
		       "connector add ID NAME --key HEX|--key-file FILE");
}

static int a_conn_set_key(struct ctl *c, int argc, char **argv, json_t *a)
{
	if (set_id(c, a, argv[0]) != EX_OK)
		return EX_USAGE;
	return set_key(c, a, argc - 1, argv + 1, "connector set-key ID --key HEX|--key-file FILE");
}

static int a_opt_name(struct ctl *c, int argc, char **argv, json_t *a)
{
	if (argc == 1)
		json_object_set_new(a, "name", json_string(argv[0]));
	return EX_OK;
}

static int a_log_set(struct ctl *c, int argc, char **argv, json_t *a)
{
	json_object_set_new(a, "type", json_string(argv[0]));
	json_object_set_new(a, "level", json_string(argv[1]));
	return EX_OK;
}

static int a_set(struct ctl *c, int argc, char **argv, json_t *a)
{
	unsigned long long v;

	if (parse_uint(argv[1], 0, LLONG_MAX, &v) != 0)
		return bad_arg(c, "value (a non-negative integer)", argv[1]);
	json_object_set_new(a, "name", json_string(argv[0]));
	json_object_set_new(a, "value", json_integer((json_int_t)v));
	return EX_OK;
}

/* shutdown [--drain] [--timeout SECONDS] */
static int a_shutdown(struct ctl *c, int argc, char **argv, json_t *a)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--drain") == 0) {
			json_object_set_new(a, "drain", json_true());
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			char *end;
			double s = strtod(argv[++i], &end);

			if (*argv[i] == '\0' || *end != '\0' || !(s >= 0 && s <= 3600))
				return bad_arg(c, "timeout (0..3600 seconds)", argv[i]);
			json_object_set_new(a, "timeout_ms", json_integer((json_int_t)(s * 1000)));
		} else {
			errmsg(c, "usage: shutdown [--drain] [--timeout SECONDS]");
			return EX_USAGE;
		}
	}
	return EX_OK;
}

/* capture start --file F [--connector ID] [--snaplen N]: F made absolute
 * here, since gwartd's working directory is not ours. */
static int a_capture_start(struct ctl *c, int argc, char **argv, json_t *a)
{
	int i;

	for (i = 0; i + 1 < argc; i += 2) {
		unsigned long long v;

		if (strcmp(argv[i], "--file") == 0) {
			char cwd[PATH_MAX], *path;

			if (argv[i + 1][0] == '/') {
				json_object_set_new(a, "file", json_string(argv[i + 1]));
				continue;
			}
			if (getcwd(cwd, sizeof(cwd)) == NULL ||
			    asprintf(&path, "%s/%s", cwd, argv[i + 1]) < 0) {
				errmsg(c, "capture start: cannot make %s absolute: %s", argv[i + 1],
				       strerror(errno));
				return EX_ERROR;
			}
			json_object_set_new(a, "file", json_string(path));
			free(path);
		} else if (strcmp(argv[i], "--connector") == 0) {
			if (parse_uint(argv[i + 1], 1, CTL_MAX_CONN_ID, &v) != 0)
				return bad_arg(c, "connector id (1..65535)", argv[i + 1]);
			json_object_set_new(a, "connector", json_integer((json_int_t)v));
		} else if (strcmp(argv[i], "--snaplen") == 0) {
			if (parse_uint(argv[i + 1], 1, 65535, &v) != 0)
				return bad_arg(c, "snaplen (1..65535 bytes)", argv[i + 1]);
			json_object_set_new(a, "snaplen", json_integer((json_int_t)v));
		} else {
			break;
		}
	}
	if (i != argc || json_object_get(a, "file") == NULL) {
		errmsg(c, "usage: gwartctl capture start --file F.pcapng [--connector ID] "
			  "[--snaplen N]");
		return EX_USAGE;
	}
	return EX_OK;
}

/* After "shutdown" is accepted: the daemon closes every client as its
 * control loop ends, so EOF means it has stopped. */
static int wait_stopped(struct ctl *c, json_t *result)
{
	int ms = (int)json_integer_value(json_object_get(result, "timeout_ms")) + 30000;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	char b[4096];

	for (;;) {
		int n = poll(&p, 1, ms);
		ssize_t r;

		if (n == 0) {
			errmsg(c, "gwartd accepted shutdown but has not stopped after %d s",
			       ms / 1000);
			return EX_ERROR;
		}
		if (n < 0 && errno == EINTR)
			continue;
		r = n < 0 ? -1 : read(c->fd, b, sizeof(b));
		if (r <= 0)
			break; /* EOF (or reset): it is gone */
	}
	if (!c->json)
		printf("gwartd stopped\n");
	return EX_OK;
}

/* reload [FILE]: gwartd reads the file, so it gets an absolute path. */
static int a_reload(struct ctl *c, int argc, char **argv, json_t *a)
{
	char *abs;

	if (argc == 0)
		return EX_OK;
	abs = realpath(argv[0], NULL);
	if (abs == NULL) {
		errmsg(c, "reload: %s: %s", argv[0], strerror(errno));
		return errno == ENOENT ? EX_NOENT : EX_USAGE;
	}
	json_object_set_new(a, "file", json_string(abs));
	free(abs);
	return EX_OK;
}

static int a_config_show(struct ctl *c, int argc, char **argv, json_t *a)
{
	if (argc == 1 && strcmp(argv[0], "--with-keys") != 0) {
		errmsg(c, "usage: gwartctl config show [--with-keys]");
		return EX_USAGE;
	}
	if (argc == 1)
		json_object_set_new(a, "with_keys", json_true());
	return EX_OK;
}

struct command {
	const char *w1, *w2;  /* "connector", "add"; w2 NULL: one word */
	const char *api;
	int min, max;         /* arguments after the words; max -1: any number */
	int (*args)(struct ctl *c, int argc, char **argv, json_t *a);
	void (*print)(json_t *result);
	const char *synopsis;
};

static const struct command commands[] = {
	{"status", NULL, GW_CTL_CMD_STATUS, 0, 0, NULL, ctl_print_status, "status"},
	{"stats", NULL, GW_CTL_CMD_STATS, 0, 0, NULL, ctl_print_stats, "stats"},
	{"connectors", NULL, GW_CTL_CMD_CONNECTORS, 0, 1, a_opt_id, ctl_print_connectors,
	 "connectors [ID]"},
	{"sessions", NULL, GW_CTL_CMD_SESSIONS, 0, 1, a_opt_id, ctl_print_sessions, "sessions [ID]"},
	{"routes", NULL, GW_CTL_CMD_ROUTES, 0, 1, a_opt_type, ctl_print_routes, "routes [TYPE]"},
	{"route", "add", GW_CTL_CMD_ROUTE_ADD, 3, -1, a_route_add, NULL,
	 "route add TYPE PATTERN CONN[:COST] [CONN[:COST]...]"},
	{"route", "del", GW_CTL_CMD_ROUTE_DEL, 2, 2, a_type_pattern, NULL, "route del TYPE PATTERN"},
	{"connector", "add", GW_CTL_CMD_CONN_ADD, 4, 4, a_conn_add, NULL,
	 "connector add ID NAME --key HEX|--key-file FILE"},
	{"connector", "set-key", GW_CTL_CMD_CONN_SET_KEY, 3, 3, a_conn_set_key, NULL,
	 "connector set-key ID --key HEX|--key-file FILE"},
	{"connector", "del", GW_CTL_CMD_CONN_DEL, 1, 1, a_id, NULL, "connector del ID"},
	{"connector", "enable", GW_CTL_CMD_CONN_ENABLE, 1, 1, a_id, NULL, "connector enable ID"},
	{"connector", "disable", GW_CTL_CMD_CONN_DISABLE, 1, 1, a_id, NULL, "connector disable ID"},
	{"connector", "reconnect", GW_CTL_CMD_CONN_RECONNECT, 1, 1, a_id, NULL,
	 "connector reconnect ID"},
	{"connector", "drain", GW_CTL_CMD_CONN_DRAIN, 1, 1, a_id, ctl_print_drain,
	 "connector drain ID"},
	{"get", NULL, GW_CTL_CMD_GET, 0, 1, a_opt_name, ctl_print_tunables, "get [NAME]"},
	{"set", NULL, GW_CTL_CMD_SET, 2, 2, a_set, NULL, "set NAME VALUE"},
	{"shutdown", NULL, GW_CTL_CMD_SHUTDOWN, 0, 3, a_shutdown, NULL,
	 "shutdown [--drain] [--timeout SECONDS]"},
	{"capture", "start", GW_CTL_CMD_CAPTURE_START, 2, 6, a_capture_start, NULL,
	 "capture start --file F.pcapng [--connector ID] [--snaplen N]"},
	{"capture", "stop", GW_CTL_CMD_CAPTURE_STOP, 0, 0, NULL, ctl_print_capture_stop,
	 "capture stop"},
	{"capture", "status", GW_CTL_CMD_CAPTURE_STATUS, 0, 0, NULL, ctl_print_capture_status,
	 "capture status"},
	{"reload", NULL, GW_CTL_CMD_CONFIG_RELOAD, 0, 1, a_reload, ctl_print_reload,
	 "reload [FILE]"},
	{"config", "show", GW_CTL_CMD_CONFIG_SHOW, 0, 1, a_config_show, ctl_print_config,
	 "config show [--with-keys]"},
	/* Same word, told apart by the number of arguments. */
	{"log", NULL, GW_CTL_CMD_LOG_GET, 0, 0, NULL, ctl_print_log, "log [TYPE LEVEL]"},
	{"log", NULL, GW_CTL_CMD_LOG_SET, 2, 2, a_log_set, ctl_print_log, "log [TYPE LEVEL]"},
};

static int run(struct ctl *c, int argc, char **argv, int batch)
{
	const struct command *cmd = NULL;
	json_t *args, *reply, *result;
	size_t i;
	int n, rc;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *k = &commands[i];

		if (strcmp(argv[0], k->w1) == 0 &&
		    (k->w2 == NULL || (argc > 1 && strcmp(argv[1], k->w2) == 0))) {
			/* The first whose words match, or a later one of the
			 * same words whose argument count fits. */
			n = argc - (k->w2 != NULL ? 2 : 1);
			if (cmd == NULL || (n >= k->min && (k->max < 0 || n <= k->max))) {
				if (cmd != NULL && n >= cmd->min && (cmd->max < 0 || n <= cmd->max))
					break;
				cmd = k;
			}
		}
	}
	if (cmd == NULL) {
		int two = argc > 1 && (strcmp(argv[0], "route") == 0 ||
				       strcmp(argv[0], "connector") == 0 ||
				       strcmp(argv[0], "capture") == 0 ||
				       strcmp(argv[0], "config") == 0);

		errmsg(c, "unknown command '%s%s%s' (gwartctl --help lists them)", argv[0],
		       two ? " " : "", two ? argv[1] : "");
		return EX_USAGE;
	}
	n = argc - (cmd->w2 != NULL ? 2 : 1);
	argv += argc - n;
	if (n < cmd->min || (cmd->max >= 0 && n > cmd->max)) {
		errmsg(c, "usage: gwartctl %s", cmd->synopsis);
		return EX_USAGE;
	}
	args = json_object();
	if (cmd->args != NULL && (rc = cmd->args(c, n, argv, args)) != EX_OK) {
		json_decref(args);
		return rc;
	}
	rc = ctl_call(c, cmd->api, args, &reply, &result);
	if (rc != EX_OK)
		return rc;
	if (c->json) {
		size_t fl = JSON_ENCODE_ANY | (batch ? JSON_COMPACT : JSON_INDENT(2));
		char *txt = json_dumps(result, fl);

		printf("%s\n", txt != NULL ? txt : "null");
		free(txt);
	} else if (cmd->print != NULL) {
		cmd->print(result);
	}
	if (strcmp(cmd->api, GW_CTL_CMD_SHUTDOWN) == 0)
		rc = wait_stopped(c, result);
	json_decref(reply);
	fflush(stdout);
	return rc;
}

/* One command per line, words split on blanks, '#' comments. */
static int run_batch(struct ctl *c)
{
	char *line = NULL, *words[300], *save, *w, where[48];
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = EX_OK;

	while (rc == EX_OK && getline(&line, &cap, stdin) >= 0) {
		int n = 0;

		lineno++;
		for (w = strtok_r(line, " \t\r\n", &save); w != NULL && *w != '#';
		     w = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == (int)(sizeof(words) / sizeof(words[0]))) {
				snprintf(where, sizeof(where), "line %u: ", lineno);
				c->where = where;
				errmsg(c, "too many words");
				rc = EX_USAGE;
				break;
			}
			words[n++] = w;
		}
		if (rc != EX_OK || n == 0)
			continue;
		snprintf(where, sizeof(where), "line %u: ", lineno);
		c->where = where;
		if (strcmp(words[0], "batch") == 0) {
			errmsg(c, "batch does not nest");
			rc = EX_USAGE;
		} else {
			rc = run(c, n, words, 1);
		}
	}
	free(line);
	return rc;
}

/* keygen: a fresh key, printed in hex for a key file or --key (the one
 * place a key is ever printed: the operator asked for a new one). */
static int keygen(struct ctl *c, int extra)
{
	uint8_t key[GW_KEY_LEN];
	unsigned i;

	if (extra != 0) {
		errmsg(c, "usage: gwartctl keygen");
		return EX_USAGE;
	}
	if (gw_auth_init() == -EIO) {
		errmsg(c, "keygen: libsodium failed to initialise");
		return EX_ERROR;
	}
	gw_key_generate(key);
	for (i = 0; i < GW_KEY_LEN; i++)
		printf("%02x", key[i]);
	printf("\n");
	gw_auth_wipe(key, sizeof(key));
	return fflush(stdout) == 0 ? EX_OK : EX_ERROR;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ctl c = {.fd = -1, .where = ""};
	int opt, rc;

	c.path = getenv(GW_CTL_SOCKET_ENV);
	if (c.path == NULL || c.path[0] == '\0')
		c.path = CTL_DEFAULT_SOCKET;
	/* '+': options end at the command, whose own ("--drain") follow it.
	 * Errors are ours: one line each, like every other failure. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+s:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c.path = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			errmsg(&c, "bad option '%s' (gwartctl --help lists them)",
			       argv[optind - 1]);
			return EX_USAGE;
		}
	}
	if (optind >= argc) {
		errmsg(&c, "no command (gwartctl --help lists them)");
		return EX_USAGE;
	}
	if (strcmp(argv[optind], "keygen") == 0)
		return keygen(&c, argc - optind - 1);
	if (strcmp(argv[optind], "top") == 0)
		rc = ctl_top(&c, argc - optind - 1, argv + optind + 1);
	else if (strcmp(argv[optind], "batch") == 0 && argc - optind == 1)
		rc = run_batch(&c);
	else
		rc = run(&c, argc - optind, argv + optind, 0);
	if (c.fd >= 0)
		close(c.fd);
	free(c.buf);
	return rc;
}
