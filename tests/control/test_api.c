/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control API's dispatch (control/api.c) against a real router on an
 * EAL without hugepages: every command, every error code a command can
 * return, and bad requests. Each test gets a fresh EAL and router (Criterion
 * forks), with workers running so that connector deletes complete.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "eal.h"

#include "api.h"
#include "conn.h"
#include "cp_router.h"
#include "cp.h"
#include "frames.h"
#include "router_api.h"
#include "stats.h"

#include <gwart/auth.h>

static struct cp_ctx cp;

static void setup(void)
{
	test_cp_router_up(&cp, 8);
}

static void teardown(void)
{
	test_cp_router_down(&cp);
}

TestSuite(api, .init = setup, .fini = teardown, .timeout = 60);

/* One request, as text, through the dispatch; the reply (caller frees). */
static json_t *call(const char *req_text)
{
	json_error_t je;
	json_t *req = json_loads(req_text, 0, &je), *rep;

	cr_assert_not_null(req, "test request %s: %s", req_text, je.text);
	rep = cp_api_handle(&cp, req);
	json_decref(req);
	cr_assert_not_null(rep);
	return rep;
}

/* The result of a successful request (borrowed from *@rep). */
static json_t *ok(const char *req_text, json_t **rep)
{
	*rep = call(req_text);
	cr_assert(json_is_true(json_object_get(*rep, "ok")), "%s failed: %s", req_text,
		  json_string_value(json_object_get(*rep, "error")));
	return json_object_get(*rep, "result");
}

/* A failed request: its errno name, and a message containing @text. */
static void err(const char *req_text, const char *errno_name, const char *text)
{
	json_t *rep = call(req_text);
	const char *e = json_string_value(json_object_get(rep, "errno"));
	const char *msg = json_string_value(json_object_get(rep, "error"));

	cr_assert(json_is_false(json_object_get(rep, "ok")), "%s succeeded", req_text);
	cr_assert_str_eq(e, errno_name, "%s: errno %s, not %s (%s)", req_text, e, errno_name, msg);
	cr_assert_not_null(strstr(msg, text), "%s: message \"%s\" lacks \"%s\"", req_text, msg,
			   text);
	json_decref(rep);
}

/* A test key (64 hex digits) and its fingerprint, computed independently:
 * the first 8 bytes of BLAKE2b-256(key=K, "gwart v2 key id"). */
#define TKEY "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define TKEY2 "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"

static void key_id_of(const char *hex, char out[17])
{
	uint8_t k[GW_KEY_LEN], h[32];
	unsigned i;

	cr_assert_eq(gw_key_parse(hex, strlen(hex), k), 0);
	gw_blake2b_mac(h, sizeof(h), k, "gwart v2 key id", 15);
	for (i = 0; i < 8; i++)
		sprintf(out + 2 * i, "%02x", h[i]);
}

static void add_conn(unsigned id, const char *name)
{
	char req[256];
	json_t *rep;

	snprintf(req, sizeof(req),
		 "{\"cmd\":\"connector.add\",\"args\":{\"id\":%u,\"name\":\"%s\","
		 "\"key\":\"" TKEY "\"}}",
		 id, name);
	ok(req, &rep);
	json_decref(rep);
}

Test(api, bad_requests)
{
	json_t *rep;

	err("{}", "EINVAL", "needs a \"cmd\" string");
	err("{\"cmd\": 5}", "EINVAL", "needs a \"cmd\" string");
	err("{\"cmd\":\"status\",\"args\":[1]}", "EINVAL", "\"args\" must be an object");
	err("{\"cmd\":\"frobnicate\"}", "EOPNOTSUPP", "unknown command \"frobnicate\"");
	/* The id is echoed, on success and on failure. */
	rep = call("{\"cmd\":\"status\",\"id\":\"abc\"}");
	cr_assert_str_eq(json_string_value(json_object_get(rep, "id")), "abc");
	json_decref(rep);
	rep = call("{\"cmd\":\"nope\",\"id\":7}");
	cr_assert_eq(json_integer_value(json_object_get(rep, "id")), 7);
	json_decref(rep);
}

/* Every argument of the wrong type, one command at a time: EINVAL naming
 * the argument, and nothing done. */
Test(api, wrong_argument_types)
{
	static const struct {
		const char *req, *text;
	} cases[] = {
		{"{\"cmd\":\"connectors\",\"args\":{\"id\":\"1\"}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"sessions\",\"args\":{\"id\":1.5}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"routes\",\"args\":{\"type\":7}}", "\"type\" must be a string"},
		{"{\"cmd\":\"routes\",\"args\":{\"limit\":-1}}", "\"limit\" must be an integer"},
		{"{\"cmd\":\"route.add\",\"args\":{\"type\":[],\"pattern\":\"a\",\"targets\":[]}}",
		 "\"type\" must be a string"},
		{"{\"cmd\":\"route.add\",\"args\":{\"type\":\"exact\",\"pattern\":{},\"targets\":[]}}",
		 "\"pattern\" must be a string"},
		{"{\"cmd\":\"route.add\",\"args\":{\"type\":\"exact\",\"pattern\":\"a\",\"targets\":\"1\"}}",
		 "targets"},
		{"{\"cmd\":\"route.del\",\"args\":{\"type\":null,\"pattern\":\"a\"}}", "\"type\" must be a string"},
		{"{\"cmd\":\"connector.add\",\"args\":{\"id\":true,\"name\":\"x\"}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"connector.add\",\"args\":{\"id\":9,\"name\":9}}", "\"name\" must be a string"},
		{"{\"cmd\":\"connector.del\",\"args\":{\"id\":[1]}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"connector.enable\",\"args\":{\"id\":\"1\"}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"connector.disable\",\"args\":{\"id\":{}}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"connector.reconnect\",\"args\":{\"id\":0.0}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"connector.drain\",\"args\":{\"id\":null}}", "\"id\" must be an integer"},
		{"{\"cmd\":\"get\",\"args\":{\"name\":1}}", "\"name\" must be a string"},
		{"{\"cmd\":\"set\",\"args\":{\"name\":\"burst\",\"value\":\"8\"}}", "\"value\" must be an integer"},
		{"{\"cmd\":\"shutdown\",\"args\":{\"drain\":\"yes\"}}", "\"drain\" must be true or false"},
		{"{\"cmd\":\"shutdown\",\"args\":{\"timeout_ms\":\"5\"}}", "\"timeout_ms\" must be an integer"},
		{"{\"cmd\":\"status\",\"args\":\"x\"}", "\"args\" must be an object"},
	};
	json_t *rep, *r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		err(cases[i].req, "EINVAL", cases[i].text);
	r = ok("{\"cmd\":\"status\"}", &rep);
	cr_assert_eq(json_integer_value(json_object_get(r, "connectors")), 0, "nothing added");
	cr_assert(json_is_false(json_object_get(r, "draining")), "no shutdown begun");
	json_decref(rep);
}

Test(api, status_and_stats)
{
	json_t *rep, *r;

	add_conn(1, "one");
	r = ok("{\"cmd\":\"status\"}", &rep);
	cr_assert_eq(json_integer_value(json_object_get(r, "connectors")), 1);
	cr_assert_eq(json_integer_value(json_object_get(r, "routes")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "sessions_up")), 0);
	cr_assert_eq(json_integer_value(json_object_get(r, "workers")), 3);
	cr_assert_eq(json_integer_value(json_object_get(r, "udp_port")), 4790);
	cr_assert(json_is_false(json_object_get(r, "draining")));
	cr_assert(json_is_null(json_object_get(json_object_get(r, "socket"), "path")));
	json_decref(rep);
	r = ok("{\"cmd\":\"stats\"}", &rep);
	cr_assert_eq(json_array_size(json_object_get(r, "connectors")), 1);
	cr_assert(json_is_integer(json_object_get(json_object_get(r, "control"), "sessions_up")));
	cr_assert_eq(json_object_size(json_object_get(r, "drops")), DP_DROP_COUNT,
		     "every drop reason, zeros included");
	cr_assert(json_is_integer(json_object_get(json_object_get(r, "drops"), dp_drop_name(0))));
	cr_assert(json_is_object(json_object_get(r, "socket")));
	json_decref(rep);
}

Test(api, connectors_and_sessions)
{
	json_t *rep, *r;

	add_conn(2, "two");
	add_conn(5, "five");
	r = ok("{\"cmd\":\"connectors\"}", &rep);
	cr_assert_eq(json_array_size(r), 2);
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r, 1), "id")), 5);
	cr_assert(json_is_null(json_object_get(json_array_get(r, 0), "address")));
	json_decref(rep);
	r = ok("{\"cmd\":\"connectors\",\"args\":{\"id\":5}}", &rep);
	cr_assert_eq(json_array_size(r), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "name")), "five");
	json_decref(rep);
	r = ok("{\"cmd\":\"sessions\"}", &rep);
	cr_assert_eq(json_array_size(r), 2);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "state")), "down");
	cr_assert(json_is_null(json_object_get(json_array_get(r, 0), "next_probe_in_ms")));
	json_decref(rep);
	err("{\"cmd\":\"connectors\",\"args\":{\"id\":3}}", "ENOENT", "no connector 3");
	err("{\"cmd\":\"sessions\",\"args\":{\"id\":3}}", "ENOENT", "no connector 3");
	err("{\"cmd\":\"connectors\",\"args\":{\"id\":0}}", "EINVAL", "[1, 65535]");
	err("{\"cmd\":\"sessions\",\"args\":{\"id\":\"x\"}}", "EINVAL", "must be an integer");
}

Test(api, connector_add_errors)
{
	json_t *rep, *r;

	r = ok("{\"cmd\":\"connector.add\",\"args\":{\"id\":9,\"name\":\"nine\",\"key\":\"" TKEY
	       "\"}}",
	       &rep);
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 9);
	cr_assert(json_is_true(json_object_get(r, "enabled")));
	json_decref(rep);
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":9,\"name\":\"again\",\"key\":\"" TKEY
	    "\"}}",
	    "EEXIST", "connector 9 exists (nine)");
	/* Deny by default: no key, a malformed one, the all-zero one. */
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":\"ten\"}}", "EINVAL",
	    "missing argument \"key\"");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":\"ten\",\"key\":\"abc\"}}",
	    "EINVAL", "\"key\" must be 64 hexadecimal digits");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":\"ten\",\"key\":"
	    "\"0000000000000000000000000000000000000000000000000000000000000000\"}}",
	    "EINVAL", "not all zero");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":\"ten\",\"key\":7}}",
	    "EINVAL", "\"key\" must be a string");
	cr_assert_null(dp_conn_peek(cp.rt, 10), "nothing added without a valid key");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":\"has blank\",\"key\":\"" TKEY "\"}}", "EINVAL",
	    "printable ASCII");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":\"\"}}", "EINVAL",
	    "1 to 31");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,"
	    "\"name\":\"abcdefghijklmnopqrstuvwxyz0123456\"}}",
	    "EINVAL", "1 to 31");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":65536,\"name\":\"x\"}}", "EINVAL",
	    "[1, 65535]");
	err("{\"cmd\":\"connector.add\",\"args\":{\"name\":\"x\"}}", "EINVAL",
	    "missing argument \"id\"");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10}}", "EINVAL",
	    "missing argument \"name\"");
	err("{\"cmd\":\"connector.add\",\"args\":{\"id\":10,\"name\":7}}", "EINVAL",
	    "must be a string");
}

Test(api, connector_ops)
{
	json_t *rep, *r;

	add_conn(4, "four");
	r = ok("{\"cmd\":\"connector.disable\",\"args\":{\"id\":4}}", &rep);
	cr_assert(json_is_false(json_object_get(r, "enabled")));
	json_decref(rep);
	r = ok("{\"cmd\":\"connector.enable\",\"args\":{\"id\":4}}", &rep);
	cr_assert(json_is_true(json_object_get(r, "enabled")));
	json_decref(rep);
	r = ok("{\"cmd\":\"connector.reconnect\",\"args\":{\"id\":4}}", &rep);
	cr_assert_eq(json_integer_value(json_object_get(r, "id")), 4);
	json_decref(rep);
	r = ok("{\"cmd\":\"connector.drain\",\"args\":{\"id\":4}}", &rep);
	cr_assert(json_is_true(json_object_get(r, "draining")));
	cr_assert_eq(json_integer_value(json_object_get(r, "custody")), 0);
	json_decref(rep);
	cr_assert_eq(cp_session_get(&cp, 4)->draining, 1);
	r = ok("{\"cmd\":\"connector.enable\",\"args\":{\"id\":4}}", &rep);
	json_decref(rep);
	cr_assert_eq(cp_session_get(&cp, 4)->draining, 0, "enable ends the drain");
	err("{\"cmd\":\"connector.enable\",\"args\":{\"id\":44}}", "ENOENT", "no connector 44");
	err("{\"cmd\":\"connector.disable\",\"args\":{\"id\":44}}", "ENOENT", "no connector 44");
	err("{\"cmd\":\"connector.reconnect\",\"args\":{\"id\":44}}", "ENOENT",
	    "no connector 44");
	err("{\"cmd\":\"connector.drain\",\"args\":{\"id\":44}}", "ENOENT", "no connector 44");
	err("{\"cmd\":\"connector.drain\",\"args\":{}}", "EINVAL", "missing argument \"id\"");
}

Test(api, connector_del)
{
	json_t *rep;

	add_conn(6, "six");
	add_conn(7, "seven");
	ok("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*.x.example\","
	   "\"targets\":[{\"connector\":6}]}}",
	   &rep);
	json_decref(rep);
	err("{\"cmd\":\"connector.del\",\"args\":{\"id\":6}}", "EBUSY",
	    "is a target of route smtp *.x.example");
	ok("{\"cmd\":\"connector.del\",\"args\":{\"id\":7}}", &rep);
	json_decref(rep);
	err("{\"cmd\":\"connector.del\",\"args\":{\"id\":7}}", "ENOENT", "no connector 7");
	cr_assert_null(cp_session_get(&cp, 7));
	/* The id can be used again, with a fresh session. */
	add_conn(7, "seven-again");
	cr_assert_eq(cp_session_get(&cp, 7)->opens, 0);
	err("{\"cmd\":\"connector.del\",\"args\":{\"id\":-1}}", "EINVAL", "[1, 65535]");
}

Test(api, route_add_and_del)
{
	json_t *rep, *r;

	add_conn(1, "a");
	add_conn(2, "b");
	r = ok("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*.a.example\","
	       "\"targets\":[{\"connector\":1,\"cost\":10},{\"connector\":2,\"cost\":20}]}}",
	       &rep);
	cr_assert(json_is_false(json_object_get(r, "replaced")));
	json_decref(rep);
	r = ok("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*.a.example\","
	       "\"targets\":[{\"connector\":2}]}}",
	       &rep);
	cr_assert(json_is_true(json_object_get(r, "replaced")));
	json_decref(rep);
	r = ok("{\"cmd\":\"routes\"}", &rep);
	cr_assert_eq(json_array_size(r), 1);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "kind")),
			 "suffix");
	json_decref(rep);
	ok("{\"cmd\":\"route.del\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*.a.example\"}}", &rep);
	json_decref(rep);
	err("{\"cmd\":\"route.del\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*.a.example\"}}",
	    "ENOENT", "no route smtp *.a.example");
	err("{\"cmd\":\"route.del\",\"args\":{\"type\":\"smtp\"}}", "EINVAL",
	    "missing argument \"pattern\"");
	err("{\"cmd\":\"route.del\",\"args\":{\"type\":\"smtp\",\"pattern\":\"a.*.b\"}}", "EINVAL",
	    "bad route smtp a.*.b");
}

Test(api, route_add_errors)
{
	char big[256 * 20 + 200], *p;
	unsigned i;

	add_conn(1, "a");
	err("{\"cmd\":\"route.add\",\"args\":{\"pattern\":\"*\",\"targets\":[{\"connector\":1}]}}",
	    "EINVAL", "missing argument \"type\"");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\"}}", "EINVAL",
	    "argument \"targets\" must be an array of 1 to 256 targets");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\",\"targets\":[]}}",
	    "EINVAL", "argument \"targets\" must be an array of 1 to 256 targets");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\","
	    "\"targets\":[{\"connector\":1},{\"connector\":0}]}}",
	    "EINVAL", "targets[1] must be {\"connector\": 1..65535, \"cost\": 0..4294967295}");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\","
	    "\"targets\":[{\"connector\":1,\"cost\":-1}]}}",
	    "EINVAL", "targets[0] must be");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\","
	    "\"targets\":[{\"connector\":77}]}}",
	    "ENOENT", "no connector 77");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"a.*.b\","
	    "\"targets\":[{\"connector\":1}]}}",
	    "EINVAL", "bad route smtp a.*.b");
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\","
	    "\"targets\":[{\"connector\":1},{\"connector\":1}]}}",
	    "EINVAL", "a connector listed twice");
	/* 257 targets: one past the dataplane's DP_ROUTE_TARGETS_MAX. */
	p = big + sprintf(big, "{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\","
			       "\"pattern\":\"*\",\"targets\":[");
	for (i = 0; i < 257; i++)
		p += sprintf(p, "%s{\"connector\":1}", i ? "," : "");
	sprintf(p, "]}}");
	err(big, "EINVAL", "1 to 256 targets");
}

Test(api, route_table_full)
{
	char req[200];
	json_t *rep;
	unsigned i;

	add_conn(1, "a");
	for (i = 0; i < 8; i++) {
		snprintf(req, sizeof(req),
			 "{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":"
			 "\"d%u.example\",\"targets\":[{\"connector\":1}]}}",
			 i);
		ok(req, &rep);
		json_decref(rep);
	}
	err("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"d8.example\","
	    "\"targets\":[{\"connector\":1}]}}",
	    "ENOSPC", "route table full");
}

Test(api, routes_filters)
{
	json_t *rep, *r;

	add_conn(1, "a");
	ok("{\"cmd\":\"route.add\",\"args\":{\"type\":\"smtp\",\"pattern\":\"*\","
	   "\"targets\":[{\"connector\":1}]}}",
	   &rep);
	json_decref(rep);
	ok("{\"cmd\":\"route.add\",\"args\":{\"type\":\"notes\",\"pattern\":\"*\","
	   "\"targets\":[{\"connector\":1}]}}",
	   &rep);
	json_decref(rep);
	r = ok("{\"cmd\":\"routes\",\"args\":{\"type\":\"NOTES\"}}", &rep);
	cr_assert_eq(json_array_size(r), 1, "type filter, case-insensitive");
	json_decref(rep);
	r = ok("{\"cmd\":\"routes\",\"args\":{\"limit\":1}}", &rep);
	cr_assert_eq(json_array_size(r), 1);
	json_decref(rep);
	err("{\"cmd\":\"routes\",\"args\":{\"type\":1}}", "EINVAL", "must be a string");
	err("{\"cmd\":\"routes\",\"args\":{\"limit\":-1}}", "EINVAL", "must be an integer");
}

Test(api, get_and_set)
{
	const struct dp_tunables *before;
	json_t *rep, *r;

	r = ok("{\"cmd\":\"get\"}", &rep);
	cr_assert_eq(json_array_size(r), 19);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "name")), "burst");
	/* The test-only worker stall (it_notify) is listed last, off by default. */
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 18), "name")),
			 "test_stall");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r, 18), "value")), 0);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 15), "name")),
			 "log_drop_interval_s");
	/* Messages of several frames: the largest accepted, 1 MiB unless set. */
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 4), "name")),
			 "max_message");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(r, 4), "value")),
		     GW_MSG_DEFAULT_MAX);
	json_decref(rep);
	r = ok("{\"cmd\":\"get\",\"args\":{\"name\":\"backoff_initial_ms\"}}", &rep);
	cr_assert_eq(json_integer_value(json_object_get(r, "value")), 1000);
	cr_assert_str_eq(json_string_value(json_object_get(r, "unit")), "ms");
	json_decref(rep);
	/* A control setting changes in place; the workers' object stays. */
	before = cp.rt->tun;
	r = ok("{\"cmd\":\"set\",\"args\":{\"name\":\"log_drop_interval_s\",\"value\":3}}",
	       &rep);
	cr_assert_eq(json_integer_value(json_object_get(r, "value")), 3);
	json_decref(rep);
	cr_assert_eq(cp.set.log_drop_interval_s, 3);
	cr_assert_eq(cp.rt->tun, before, "no dataplane publication for a control setting");
	/* A dataplane tunable is published. */
	r = ok("{\"cmd\":\"set\",\"args\":{\"name\":\"rto_us\",\"value\":5000}}", &rep);
	json_decref(rep);
	cr_assert_neq(cp.rt->tun, before);
	cr_assert_eq(cp.rt->tun->rto_us, 5000);
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"rto_us\",\"value\":99}}", "EINVAL",
	    "rto_us: 99 is out of range [100, 60000000] us");
	/* In its bounds, but above backoff_max_ms (120000): a cross-field rule. */
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"backoff_initial_ms\",\"value\":200000}}",
	    "EINVAL", "tunable backoff_initial_ms (200000) must not exceed backoff_max_ms (120000)");
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"rto_max_us\",\"value\":1000}}", "EINVAL",
	    "tunable rto_us (5000) must not exceed rto_max_us (1000)");
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"keepalive_ms\",\"value\":2000000}}",
	    "EINVAL", "keepalive_ms x keepalive_mult (2000000 x 3 = 6000000 ms) must not exceed "
		      "3600000 ms");
	cr_assert_eq(cp.rt->tun->rto_max_us, 1000000, "a refused set changes nothing");
	cr_assert_eq(cp.stats.tunables_refused, 3, "each cross-field refusal counted");
	/* The test-only stall: refused unless gwartd runs with --test-hooks. */
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"test_stall\",\"value\":1}}", "EPERM",
	    "test_stall is a test-only tunable: gwartd must be started with --test-hooks");
	cr_assert_eq(cp.rt->tun->test_stall, 0);
	cp.test_hooks = 1;
	r = ok("{\"cmd\":\"set\",\"args\":{\"name\":\"test_stall\",\"value\":1}}", &rep);
	json_decref(rep);
	cr_assert_eq(cp.rt->tun->test_stall, 1);
	r = ok("{\"cmd\":\"set\",\"args\":{\"name\":\"test_stall\",\"value\":0}}", &rep);
	json_decref(rep);
	cp.test_hooks = 0;
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"nope\",\"value\":1}}", "ENOENT", "no tunable nope");
	/* The old single level says where levels went. */
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"log_level\",\"value\":3}}", "ENOENT",
	    "no tunable log_level: log levels are per type now (gwartctl log TYPE LEVEL");
	err("{\"cmd\":\"get\",\"args\":{\"name\":\"nope\"}}", "ENOENT", "no tunable nope");
	err("{\"cmd\":\"get\",\"args\":{\"name\":1}}", "EINVAL", "must be a string");
	err("{\"cmd\":\"set\",\"args\":{\"name\":\"burst\"}}", "EINVAL", "missing argument \"value\"");
	err("{\"cmd\":\"set\",\"args\":{\"value\":1}}", "EINVAL", "missing argument \"name\"");
}

/* log.get lists the four types; log.set changes one (or all) and answers
 * as log.get; unknown types and levels are refused, nothing changed. */
Test(api, log_levels)
{
	json_t *rep, *r, *types;
	const char *lv;

	r = ok("{\"cmd\":\"log.get\"}", &rep);
	types = json_object_get(r, "types");
	cr_assert_eq(json_object_size(types), 4);
	cr_assert_str_eq(json_string_value(json_object_get(types, "gwart.dataplane")),
			 cp_log_level_name((unsigned)cp_log_get_level(CP_LOG_DATAPLANE)));
	cr_assert_not_null(json_object_get(types, "gwart.control"));
	cr_assert_not_null(json_object_get(types, "gwart.session"));
	cr_assert_not_null(json_object_get(types, "gwart.config"));
	json_decref(rep);
	r = ok("{\"cmd\":\"log.set\",\"args\":{\"type\":\"session\",\"level\":\"debug\"}}", &rep);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(r, "types"),
							   "gwart.session")), "debug");
	json_decref(rep);
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_DEBUG);
	cr_assert_eq(cp_log_get("gwart.session", &lv), 0);
	cr_assert_str_eq(lv, "debug");
	r = ok("{\"cmd\":\"log.set\",\"args\":{\"type\":\"all\",\"level\":\"err\"}}", &rep);
	json_decref(rep);
	cr_assert_eq(cp_log_get_level(CP_LOG_DATAPLANE), CP_LOG_ERR);
	cr_assert_eq(cp_log_get_level(CP_LOG_CONFIG), CP_LOG_ERR);
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_ERR);
	err("{\"cmd\":\"log.set\",\"args\":{\"type\":\"sesion\",\"level\":\"debug\"}}", "ENOENT",
	    "no log type sesion (dataplane, control, session, config or all)");
	err("{\"cmd\":\"log.set\",\"args\":{\"type\":\"session\",\"level\":\"loud\"}}", "EINVAL",
	    "no log level loud (emerg,");
	err("{\"cmd\":\"log.set\",\"args\":{\"type\":\"session\"}}", "EINVAL",
	    "missing argument \"level\"");
	cr_assert_eq(cp_log_get_level(CP_LOG_SESSION), CP_LOG_ERR, "refusals change nothing");
}

Test(api, shutdown)
{
	json_t *rep, *r;

	err("{\"cmd\":\"shutdown\",\"args\":{\"drain\":1}}", "EINVAL",
	    "\"drain\" must be true or false");
	err("{\"cmd\":\"shutdown\",\"args\":{\"timeout_ms\":3600001}}", "EINVAL", "timeout_ms");
	r = ok("{\"cmd\":\"shutdown\",\"args\":{\"drain\":true,\"timeout_ms\":5000}}", &rep);
	cr_assert(json_is_true(json_object_get(r, "drain")));
	cr_assert_eq(json_integer_value(json_object_get(r, "timeout_ms")), 5000);
	cr_assert_eq(json_integer_value(json_object_get(r, "custody")), 0);
	json_decref(rep);
	cr_assert_eq(cp.shutdown_drain, 1);
	cr_assert_eq(cp.rt->tun->refuse_new, 1);
	/* Custody is empty: the loop ends at once. */
	cp_ctl_run(&cp, NULL, 10.0, 0);
	r = ok("{\"cmd\":\"shutdown\"}", &rep);
	cr_assert(json_is_false(json_object_get(r, "drain")));
	json_decref(rep);
}

/* Keys are never shown: listings and statistics say "set" and give the
 * fingerprint; the key's text appears in no reply. set_key changes the
 * fingerprint and is refused for unknown ids and bad keys. */
Test(api, keys_never_listed)
{
	static const char *const cmds[] = {
		"{\"cmd\":\"connectors\"}", "{\"cmd\":\"stats\"}", "{\"cmd\":\"sessions\"}",
		"{\"cmd\":\"status\"}", "{\"cmd\":\"connectors\",\"args\":{\"id\":3}}",
	};
	char want[17], want2[17];
	json_t *rep, *r;
	size_t i;

	key_id_of(TKEY, want);
	/* TKEY is PROTOCOL.md 14's test key: its published fingerprint. */
	cr_assert_str_eq(want, "03f53fe5abfe1183");
	key_id_of(TKEY2, want2);
	add_conn(3, "three");
	r = ok("{\"cmd\":\"connectors\"}", &rep);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "key")), "set");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "key_id")), want);
	json_decref(rep);
	r = ok("{\"cmd\":\"stats\"}", &rep);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_array_get(json_object_get(r, "connectors"), 0), "key_id")),
			 want);
	json_decref(rep);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *txt;

		rep = call(cmds[i]);
		txt = json_dumps(rep, JSON_COMPACT);
		cr_assert_not_null(txt);
		/* Neither the key nor any 16-digit piece of it. */
		for (unsigned off = 0; off + 16 <= 64; off += 8) {
			char piece[17];

			memcpy(piece, TKEY + off, 16);
			piece[16] = '\0';
			cr_assert_null(strstr(txt, piece), "%s shows key text %s", cmds[i], piece);
		}
		free(txt);
		json_decref(rep);
	}
	r = ok("{\"cmd\":\"connector.set_key\",\"args\":{\"id\":3,\"key\":\"" TKEY2 "\"}}", &rep);
	cr_assert_str_eq(json_string_value(json_object_get(r, "key_id")), want2);
	{
		char *txt = json_dumps(r, JSON_COMPACT);

		cr_assert_null(strstr(txt, "f0e1d2c3b4a59687"), "no key text");
		free(txt);
	}
	json_decref(rep);
	err("{\"cmd\":\"connector.set_key\",\"args\":{\"id\":30,\"key\":\"" TKEY "\"}}", "ENOENT",
	    "no connector 30");
	err("{\"cmd\":\"connector.set_key\",\"args\":{\"id\":3,\"key\":\"xyz\"}}", "EINVAL",
	    "\"key\" must be 64 hexadecimal digits");
	err("{\"cmd\":\"connector.set_key\",\"args\":{\"id\":3}}", "EINVAL",
	    "missing argument \"key\"");
	/* The refused change left the key as it was. */
	r = ok("{\"cmd\":\"connectors\",\"args\":{\"id\":3}}", &rep);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(r, 0), "key_id")), want2);
	json_decref(rep);
}
