/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Configuration reload and show (control/reload.c) on a real router with
 * running workers: a numbered table of rejected reloads, each of which must
 * change nothing at all (no object republished, no route table generation,
 * no tunables publication, the same shown configuration and counters); a
 * reload that adds, renames, re-keys, re-targets and removes; the same file
 * again and `config show`'s own output, both applying no change.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "eal.h"

#include <gwart/auth.h>

#include "config.h"
#include "conn.h"
#include "cp_router.h"
#include "cp.h"
#include "log.h"
#include "reload.h"
#include "route.h"
#include "router_api.h"

#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"
#define K3 "1111111111111111111111111111111111111111111111111111111111111111"

static struct cp_ctx cp;
static char dir[64];

/* A file in the test's directory holding @text (mode 0600); its path. */
static const char *put(const char *name, const char *text)
{
	static char path[2][128];
	static int which;
	FILE *f;

	which ^= 1;
	snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
	f = fopen(path[which], "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(path[which], 0600), 0);
	return path[which];
}

/* The start-up configuration: what every test reloads against. */
static char base[4096];

static void setup(void)
{
	struct cp_config cfg;
	char err[256];

	test_cp_router_up(&cp, 64);
	cr_assert_not_null(mkdtemp(strcpy(dir, "/tmp/gwart-reload-XXXXXX")));
	put("k2.key", K2 "\n");
	snprintf(base, sizeof(base),
		 "{\n"
		 "  \"udp_port\": 4790,\n"
		 "  \"ports\": [ { \"ip\": \"198.18.0.1\" } ],\n"
		 "  \"tunables\": { \"custody_limit\": 500 },\n"
		 "  \"connectors\": [\n"
		 "    { \"id\": 1, \"name\": \"mail\", \"key\": \"" K1 "\" },\n"
		 "    { \"id\": 2, \"name\": \"notes\", \"key_file\": \"%s/k2.key\" },\n"
		 "    { \"id\": 3, \"name\": \"cal\", \"key\": \"" K1 "\" }\n"
		 "  ],\n"
		 "  \"routes\": [\n"
		 "    { \"type\": \"smtp\", \"pattern\": \"*.demo.example\",\n"
		 "      \"targets\": [ { \"connector\": 2, \"cost\": 10 } ] },\n"
		 "    { \"type\": \"smtp\", \"pattern\": \"backup.example\",\n"
		 "      \"targets\": [ { \"connector\": 3, \"cost\": 10 }, { \"connector\": 2 } ] },\n"
		 "    { \"type\": \"notes\", \"pattern\": \"*/O=Demo\",\n"
		 "      \"targets\": [ { \"connector\": 1, \"cost\": 10 } ] }\n"
		 "  ]\n"
		 "}\n",
		 dir);
	cr_assert_eq(cp_config_parse(&cfg, base, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cp_config_apply(&cp, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cp_reload_init(&cp, NULL, &cfg), 0);
	cp_config_free(&cfg);
}

static void teardown(void)
{
	char cmd[128];

	cp_reload_fini(&cp);
	test_cp_router_down(&cp);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(reload, .init = setup, .fini = teardown, .timeout = 60);

/* Everything a reload could touch: the shown configuration (keys
 * included), the objects' addresses (any republication changes them), the
 * route table's generation, the tunables object and the counters. */
struct state {
	char *shown;
	char *stats;
	const void *conn[8];
	const void *tun;
	uint64_t route_gen;
	json_int_t reloads, refused;
};

static void snap(struct state *s)
{
	char err[256];
	int rc;
	json_t *j = cp_config_show(&cp, 1, &rc, err, sizeof(err)), *st;
	unsigned i;

	cr_assert_not_null(j, "show: %s", err);
	s->shown = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	st = cp_stats_json(&cp);
	cr_assert_not_null(st);
	/* Uptime and clock readings move by themselves; counters must not. */
	json_object_del(st, "loops");
	json_object_del(st, "busy_loops");
	json_object_del(st, "workers");
	/* The reload counters are checked on their own (they must move). */
	s->reloads = json_integer_value(json_object_get(json_object_get(st, "control"), "reloads"));
	s->refused = json_integer_value(
		json_object_get(json_object_get(st, "control"), "reloads_refused"));
	json_object_del(json_object_get(st, "control"), "reloads");
	json_object_del(json_object_get(st, "control"), "reloads_refused");
	s->stats = json_dumps(st, JSON_SORT_KEYS);
	json_decref(st);
	for (i = 0; i < 8; i++)
		s->conn[i] = dp_conn_peek(cp.rt, i);
	s->tun = cp.rt->tun;
	s->route_gen = dp_route_generation(cp.rt->routes);
}

static void same(const struct state *a, const struct state *b, unsigned row)
{
	unsigned i;

	cr_assert_str_eq(a->shown, b->shown, "row %u: configuration changed", row);
	cr_assert_str_eq(a->stats, b->stats, "row %u: counters changed", row);
	for (i = 0; i < 8; i++)
		cr_assert_eq(a->conn[i], b->conn[i], "row %u: connector %u republished", row, i);
	cr_assert_eq(a->tun, b->tun, "row %u: tunables republished", row);
	cr_assert_eq(a->route_gen, b->route_gen, "row %u: the route table changed", row);
}

static void unsnap(struct state *s)
{
	free(s->shown);
	free(s->stats);
}

/* The base configuration with @from replaced by @to (once). */
static const char *edit(const char *from, const char *to)
{
	static char out[8192];
	const char *at = strstr(base, from);

	cr_assert_not_null(at, "base lacks \"%s\"", from);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return out;
}

/* Numbered rejections: the file's text, the errno, the message's words. */
Test(reload, rejected_reloads_change_nothing)
{
	static const char *const adds4 =
		"    { \"id\": 4, \"name\": \"extra\", \"key\": \"" K3 "\" },\n"
		"    { \"id\": 1, \"name\": \"mail\"";
	struct {
		const char *text;
		int rc;
		const char *msg;
	} rows[] = {
		/* 1 syntax */ {"{\n  \"udp_port\": 4790,\n", -EINVAL, "line 3: "},
		/* 2 */ {"[]", -EINVAL, "top level must be an object"},
		/* 3 unknown key */ {NULL, -EINVAL, "udp_prot: unknown key"},
		/* 4 unknown connector */ {NULL, -EINVAL, "targets[0]: unknown connector 9"},
		/* 5 restart-only */ {NULL, -EINVAL, "restart-only key(s) changed: udp_port"},
		/* 6 */ {NULL, -EINVAL, "restart-only key(s) changed: ports (nothing applied"},
		/* 7 */ {NULL, -EINVAL, "restart-only key(s) changed: control"},
		/* 8 with good changes */ {NULL, -EINVAL, "restart-only key(s) changed: udp_port"},
		/* 9 cross-field */ {NULL, -EINVAL,
				     "tunable rto_us (2000000) must not exceed rto_max_us (1000000)"},
		/* 10 */ {NULL, -EINVAL, "keepalive_ms x keepalive_mult"},
		/* 11 test-only */ {NULL, -EPERM, "test_stall is a test-only tunable"},
		/* 12 key file */ {NULL, -ENOENT, "missing.key: No such file or directory"},
		/* 13 bounds */ {NULL, -EINVAL, "tunable burst: out of range"},
		/* 14 bad key */ {NULL, -EINVAL, "connectors[0] (id 4): \"key\" is not 64"},
	};
	char err[1024], nokey[512];
	unsigned i;

	rows[2].text = edit("\"udp_port\"", "\"udp_prot\"");
	rows[2].text = strdup(rows[2].text);
	rows[3].text = strdup(edit("{ \"connector\": 1, \"cost\": 10 }", "{ \"connector\": 9 }"));
	rows[4].text = strdup(edit("4790", "4791"));
	rows[5].text = strdup(edit("198.18.0.1", "198.18.0.9"));
	rows[6].text = strdup(edit("  \"udp_port\"", "  \"control\": {\"socket\": \"/x\"},\n"
						     "  \"udp_port\""));
	{
		/* A valid change (a new connector) together with a restart-only one. */
		char *t = strdup(edit("    { \"id\": 1, \"name\": \"mail\"", adds4));
		char *u = strstr(t, "4790");

		memcpy(u, "4791", 4);
		rows[7].text = t;
	}
	rows[8].text = strdup(edit("\"custody_limit\": 500", "\"rto_us\": 2000000"));
	rows[9].text = strdup(edit("\"custody_limit\": 500",
				   "\"keepalive_ms\": 100000, \"keepalive_mult\": 100"));
	rows[10].text = strdup(edit("\"custody_limit\": 500", "\"test_stall\": 1"));
	snprintf(nokey, sizeof(nokey),
		 "    { \"id\": 4, \"name\": \"extra\", \"key_file\": \"%s/missing.key\" },\n"
		 "    { \"id\": 1, \"name\": \"mail\"",
		 dir);
	rows[11].text = strdup(edit("    { \"id\": 1, \"name\": \"mail\"", nokey));
	rows[12].text = strdup(edit("\"custody_limit\": 500", "\"burst\": 0"));
	rows[13].text = strdup(edit("    { \"id\": 1, \"name\": \"mail\"",
				    "    { \"id\": 4, \"name\": \"x\", \"key\": \"00\" },\n"
				    "    { \"id\": 1, \"name\": \"mail\""));
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct cp_reload_report rep;
		struct state before, after;
		const char *used = NULL;
		int rc;

		snap(&before);
		err[0] = '\0';
		rc = cp_config_reload_file(&cp, put("next.json", rows[i].text), &rep, &used, err,
					   sizeof(err));
		cr_assert_eq(rc, rows[i].rc, "row %u: rc %d (%s)", i + 1, rc, err);
		cr_assert_not_null(strstr(err, rows[i].msg), "row %u: \"%s\" lacks \"%s\"", i + 1,
				   err, rows[i].msg);
		cr_assert_not_null(strstr(err, "next.json"), "row %u names the file: %s", i + 1,
				   err);
		cr_assert_not_null(strstr(err, "nothing applied"), "row %u: %s", i + 1, err);
		snap(&after);
		same(&before, &after, i + 1);
		cr_assert_eq(after.refused, before.refused + 1, "row %u: refusal not counted", i + 1);
		cr_assert_eq(after.reloads, before.reloads, "row %u: counted as applied", i + 1);
		unsnap(&before);
		unsnap(&after);
	}
	for (i = 2; i < sizeof(rows) / sizeof(rows[0]); i++)
		free((char *)rows[i].text);
	/* A log level in a refused file is not applied either. */
	{
		struct cp_reload_report rep;
		const char *used = NULL;
		int was = cp_log_get_level(CP_LOG_SESSION);
		char *t = strdup(edit("  \"udp_port\": 4790", "  \"log\": {\"session\": \"debug\"},\n"
								 "  \"udp_port\": 4791"));

		cr_assert_eq(cp_config_reload_file(&cp, put("next.json", t), &rep, &used, err,
						   sizeof(err)),
			     -EINVAL, "%s", err);
		cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), was);
		cr_assert_neq(was, CP_LOG_DEBUG);
		free(t);
	}
	/* No --config at start-up: a reload without FILE has nothing to read. */
	{
		struct cp_reload_report rep;
		const char *used = NULL;

		cr_assert_eq(cp_config_reload_file(&cp, NULL, &rep, &used, err, sizeof(err)),
			     -ENOENT);
		cr_assert_str_eq(err, "gwartd was started without --config: give a FILE");
	}
}

static void reload_ok(const char *text, struct cp_reload_report *rep)
{
	const char *used = NULL;
	char err[1024] = "";

	cr_assert_eq(cp_config_reload_file(&cp, put("next.json", text), rep, &used, err,
					   sizeof(err)),
		     0, "%s", err);
}

static unsigned changes(const struct cp_reload_report *r)
{
	return r->connectors_added + r->connectors_deleted + r->connectors_pending +
	       r->connectors_renamed + r->keys_changed + r->connectors_enabled +
	       r->connectors_disabled + r->routes_added + r->routes_changed +
	       r->routes_deleted + r->tunables_changed + r->log_levels_changed;
}

/* A route's targets as "conn:cost,..." in the table's order. */
static int targets_cb(const struct dp_route *r, void *arg)
{
	char *out = arg, one[32];
	unsigned i;

	if (strcmp(r->pattern, out) != 0)
		return 0;
	out[0] = '\0';
	for (i = 0; i < r->n_targets; i++) {
		snprintf(one, sizeof(one), "%s%u:%u", i ? "," : "", r->targets[i].conn_id,
			 r->targets[i].cost);
		strcat(out, one);
	}
	return 1;
}

static const char *targets(const char *pattern)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s", pattern);
	if (dp_route_foreach(cp.rt->routes, targets_cb, buf) == 0)
		return "(none)";
	return buf;
}

Test(reload, applies_the_difference)
{
	char text[8192], kid[CP_KEY_ID_HEX], kid_before[CP_KEY_ID_HEX];
	struct cp_reload_report rep;
	struct state a, b;
	uint64_t v;

	put("k4.key", K3 "\n");
	cr_assert_eq(cp_connector_key_id(&cp, 3, kid_before), 0);
	/* Connector 1 goes (with its route), 4 comes (key_file), 2 is renamed,
	 * 3 gets a new key and is disabled; *.demo.example gets new targets,
	 * backup.example goes, new.example comes; custody_limit goes back to
	 * its default, rto_us changes. */
	snprintf(text, sizeof(text),
		 "{\n"
		 "  \"udp_port\": 4790,\n"
		 "  \"ports\": [ { \"ip\": \"198.18.0.1\" } ],\n"
		 "  \"tunables\": { \"rto_us\": 30000 },\n"
		 "  \"log\": { \"config\": \"debug\" },\n"
		 "  \"connectors\": [\n"
		 "    { \"id\": 2, \"name\": \"notes2\", \"key_file\": \"%s/k2.key\" },\n"
		 "    { \"id\": 3, \"name\": \"cal\", \"key\": \"" K2 "\", \"enabled\": false },\n"
		 "    { \"id\": 4, \"name\": \"new\", \"key_file\": \"%s/k4.key\" }\n"
		 "  ],\n"
		 "  \"routes\": [\n"
		 "    { \"type\": \"smtp\", \"pattern\": \"*.demo.example\",\n"
		 "      \"targets\": [ { \"connector\": 4, \"cost\": 20 }, { \"connector\": 2, "
		 "\"cost\": 5 } ] },\n"
		 "    { \"type\": \"smtp\", \"pattern\": \"new.example\",\n"
		 "      \"targets\": [ { \"connector\": 3 } ] }\n"
		 "  ]\n"
		 "}\n",
		 dir, dir);
	reload_ok(text, &rep);
	cr_assert_eq(rep.connectors_added, 1);
	cr_assert_eq(rep.connectors_deleted, 1);
	cr_assert_eq(rep.connectors_pending, 0);
	cr_assert_eq(rep.connectors_renamed, 1);
	cr_assert_eq(rep.keys_changed, 1);
	cr_assert_eq(rep.connectors_disabled, 1);
	cr_assert_eq(rep.connectors_enabled, 0);
	cr_assert_eq(rep.routes_added, 1);
	cr_assert_eq(rep.routes_changed, 1);
	cr_assert_eq(rep.routes_deleted, 2);
	cr_assert_eq(rep.tunables_changed, 2);
	cr_assert_eq(rep.log_levels_changed, 1);
	cr_assert_eq(cp_log_get_level(CP_LOG_CONFIG), CP_LOG_DEBUG);
	cr_assert_null(dp_conn_peek(cp.rt, 1));
	cr_assert_str_eq(dp_conn_peek(cp.rt, 2)->name, "notes2");
	cr_assert_str_eq(dp_conn_peek(cp.rt, 4)->name, "new");
	cr_assert_eq(dp_conn_peek(cp.rt, 3)->enabled, 0);
	cr_assert_eq(cp_connector_key_id(&cp, 3, kid), 0);
	cr_assert_str_neq(kid, kid_before, "connector 3 has its new key");
	cr_assert_str_eq(targets("*.demo.example"), "2:5,4:20");
	cr_assert_str_eq(targets("new.example"), "3:0");
	cr_assert_str_eq(targets("backup.example"), "(none)");
	cr_assert_eq(dp_route_count(cp.rt->routes), 2);
	cr_assert_eq(cp_tunable_get(&cp, "custody_limit", &v), 0);
	cr_assert_eq(v, 1024, "a tunable the file no longer names: its default");
	cr_assert_eq(cp.rt->tun->rto_us, 30000);

	/* The same file again: nothing to do, nothing republished. */
	snap(&a);
	reload_ok(text, &rep);
	cr_assert_eq(changes(&rep), 0);
	snap(&b);
	same(&a, &b, 0);
	cr_assert_eq(b.reloads, a.reloads + 1, "an applied reload is counted");
	unsnap(&b);
	unsnap(&a);
}

/* config show: key_file where the key came from one, the key only with
 * with_keys; its output passes --check-config's rules and reloads as no
 * change. */
Test(reload, show_round_trip)
{
	struct cp_reload_report rep;
	struct state a, b;
	char err[512], *text, *check;
	size_t n;
	json_t *j;
	int rc;

	/* Connectors 1 and 3 have inline keys: without with_keys, refused. */
	j = cp_config_show(&cp, 0, &rc, err, sizeof(err));
	cr_assert_null(j);
	cr_assert_eq(rc, -EPERM);
	cr_assert_str_eq(err, "connector 1 (mail) has a key that came from no key_file (inline or "
			      "set through gwartctl): config show --with-keys prints it");
	j = cp_config_show(&cp, 1, &rc, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	cr_assert_eq(json_integer_value(json_object_get(j, "udp_port")), 4790);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(j, "connectors"), 0), "key")),
			 K1);
	cr_assert_not_null(strstr(json_string_value(json_object_get(
					  json_array_get(json_object_get(j, "connectors"), 1),
					  "key_file")),
				  "/k2.key"));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "tunables"),
							"custody_limit")),
		     500);
	cr_assert_null(json_object_get(json_object_get(j, "tunables"), "test_stall"));
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	check = cp_config_check("shown.json", text, CP_CHECK_KEY_FILES, &n);
	cr_assert_not_null(check);
	cr_assert_eq(n, 0, "config show's output fails --check-config:\n%s\n%s", check, text);
	free(check);
	snap(&a);
	reload_ok(text, &rep);
	cr_assert_eq(changes(&rep), 0, "the round trip changed something");
	snap(&b);
	same(&a, &b, 0);
	unsnap(&a);
	unsnap(&b);
	free(text);

	/* A key set through the API is no longer the file's: shown inline. */
	{
		uint8_t k[GW_KEY_LEN];

		cr_assert_eq(gw_key_parse(K3, 64, k), 0);
		cr_assert_eq(cp_connector_set_key(&cp, 2, k), 0);
		j = cp_config_show(&cp, 1, &rc, err, sizeof(err));
		cr_assert_not_null(j);
		cr_assert_str_eq(json_string_value(json_object_get(
					 json_array_get(json_object_get(j, "connectors"), 1), "key")),
				 K3);
		cr_assert_null(json_object_get(json_array_get(json_object_get(j, "connectors"), 1),
					       "key_file"));
		json_decref(j);
	}
}

/* allow_from: reloaded (set, shown, round trip through show and reload with
 * nothing changed), and dropped again when the file leaves it out. */
Test(reload, allow_from)
{
	struct cp_reload_report rep;
	struct state a, b;
	char err[512], *text;
	json_t *j, *al;
	int rc;

	reload_ok(edit("\"name\": \"mail\",",
		       "\"name\": \"mail\", \"allow_from\": [\"198.18.0.2\", \"198.18.4.0/22\"],"),
		  &rep);
	cr_assert_eq(cp.auth[1]->allow.n, 2);
	cr_assert_eq(cp.auth[3]->allow.n, 0);
	j = cp_config_show(&cp, 1, &rc, err, sizeof(err));
	cr_assert_not_null(j, "%s", err);
	al = json_object_get(json_array_get(json_object_get(j, "connectors"), 0), "allow_from");
	cr_assert_eq(json_array_size(al), 2);
	cr_assert_str_eq(json_string_value(json_array_get(al, 0)), "198.18.0.2/32");
	cr_assert_str_eq(json_string_value(json_array_get(al, 1)), "198.18.4.0/22");
	cr_assert_null(json_object_get(json_array_get(json_object_get(j, "connectors"), 2),
				       "allow_from"), "absent where any address is allowed");
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	snap(&a);
	reload_ok(text, &rep);
	free(text);
	cr_assert_eq(changes(&rep), 0);
	snap(&b);
	same(&a, &b, 0);
	unsnap(&a);
	unsnap(&b);
	cr_assert_eq(cp.auth[1]->allow.n, 2);
	/* Left out: any address again. */
	reload_ok(base, &rep);
	cr_assert_eq(cp.auth[1]->allow.n, 0);
}

/* Tunables only consistent together (both RTO bounds raised) apply in one
 * step whatever their order in the file. */
Test(reload, tunables_apply_together)
{
	struct cp_reload_report rep;

	reload_ok(edit("\"custody_limit\": 500",
		       "\"rto_us\": 2000000, \"rto_max_us\": 5000000, \"custody_limit\": 500"),
		  &rep);
	cr_assert_eq(rep.tunables_changed, 2);
	cr_assert_eq(cp.rt->tun->rto_us, 2000000);
	cr_assert_eq(cp.rt->tun->rto_max_us, 5000000);
	/* Back down: the file without them is the defaults again. */
	reload_ok(base, &rep);
	cr_assert_eq(rep.tunables_changed, 2);
	cr_assert_eq(cp.rt->tun->rto_max_us, 1000000);
}

/* Every tunable's recorded default is the value a fresh router has. */
Test(reload, tunable_defaults_match_the_router)
{
	uint64_t v[CP_TUNABLES_MAX];
	unsigned i;

	cr_assert_eq(cp_config_reload_file(&cp, put("empty.json",
						    "{\"udp_port\": 4790, \"ports\": [{\"ip\": "
						    "\"198.18.0.1\"}]}"),
					   &(struct cp_reload_report){0}, &(const char *){NULL},
					   (char[512]){0}, 512),
		     0);
	cp_tunables_get_all(&cp, v);
	for (i = 0; i < cp_tunable_count(); i++)
		cr_assert_eq(v[i], cp_tunable_default(i), "%s: %llu, default %llu",
			     cp_tunable_info(i, NULL, NULL, NULL), (unsigned long long)v[i],
			     (unsigned long long)cp_tunable_default(i));
	cr_assert_eq(dp_conn_count(cp.rt), 0);
	cr_assert_eq(dp_route_count(cp.rt->routes), 0);
}
