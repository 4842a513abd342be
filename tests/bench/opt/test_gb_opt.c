/* SPDX-License-Identifier: BSD-3-Clause */
/* gb_opt: every row type at its bounds and one past them, garbage, missing
 * values, unknown and ambiguous options, required rows, --help, and the
 * generated help text; numbered table cases, exact messages. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gb_opt.h"

TestSuite(gb_opt);

static struct fields {
	bool flag;
	const char *str;
	uint32_t u32, u32full;
	uint64_t u64, u64cap;
	double pct, pos;
	int even;
} f;

/* An FN row: even numbers only. */
static int parse_even(const char *arg, void *field)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*end || !*arg || v % 2)
		return -EINVAL;
	*(int *)field = (int)v;
	return 0;
}

static const struct gb_opt rows[] = {
	GB_OPT_FLAG("flag", &f.flag, "a flag"),
	GB_OPT_STR("str", &f.str, "S", "a string"),
	GB_OPT_U32("u32", &f.u32, 24, 8192, "N", "a bounded u32"),
	GB_OPT_U32("u32full", &f.u32full, 0, UINT32_MAX, "N", "any u32"),
	GB_OPT_U64("u64", &f.u64, 0, UINT64_MAX, "N", "any u64"),
	GB_OPT_U64("u64cap", &f.u64cap, 0, UINT32_MAX, "N", "a u64 capped at 2^32-1"),
	GB_OPT_DOUBLE("pct", &f.pct, 0, 100, "P", "a percentage"),
	GB_OPT_DOUBLE("pos", &f.pos, 0, HUGE_VAL, "S", "a positive number", GB_OPT_ABOVE_MIN),
	GB_OPT_FN("even", parse_even, &f.even, "EVEN", "an even number"),
};

static const struct gb_opt_cmd cmd = {
	.prog = "test", .usage = "usage: test [options]\n", .notes = "notes last.\n",
	.opts = rows, .n = sizeof(rows) / sizeof(rows[0]),
};

#define MAX_ARGS 8

static void defaults(void)
{
	memset(&f, 0, sizeof(f));
	f.u32 = 64;
	f.pos = 60;
}

/* argv[0] is the program; args end at the first NULL. */
static int parse(const struct gb_opt_cmd *c, const char *const *args, char *err)
{
	char *argv[MAX_ARGS + 2];
	int argc = 1;

	argv[0] = (char *)"test";
	while (argc <= MAX_ARGS && args[argc - 1])
		argv[argc] = (char *)args[argc - 1], argc++;
	argv[argc] = NULL;
	err[0] = 0;
	return gb_opt_parse(c, argc, argv, 1, err, GB_OPT_ERR_LEN);
}

enum field_id { F_FLAG, F_STR, F_U32, F_U32FULL, F_U64, F_U64CAP, F_PCT, F_POS, F_EVEN };

struct ok_case {
	int line;
	const char *args[MAX_ARGS];
	enum field_id field;
	uint64_t u; /* integers, the flag */
	double d;   /* doubles */
	const char *s;
};

static const struct ok_case ok_cases[] = {
	{ __LINE__, { "--flag" }, F_FLAG, 1 },
	{ __LINE__, { "--fl" }, F_FLAG, 1 }, /* an unambiguous prefix */
	{ __LINE__, { "--str", "hello" }, F_STR, .s = "hello" },
	{ __LINE__, { "--str=hello" }, F_STR, .s = "hello" },
	{ __LINE__, { "--str=" }, F_STR, .s = "" },
	{ __LINE__, { "--str", "--u32" }, F_STR, .s = "--u32" }, /* a value, not an option */
	{ __LINE__, { "--str", "-h" }, F_STR, .s = "-h" },
	{ __LINE__, { "--u32", "24" }, F_U32, 24 },   /* min */
	{ __LINE__, { "--u32", "8192" }, F_U32, 8192 }, /* max */
	{ __LINE__, { "--u32=100" }, F_U32, 100 },
	{ __LINE__, { "--u32", "0024" }, F_U32, 24 }, /* decimal, not octal */
	{ __LINE__, { "--u32", "30", "--u32", "40" }, F_U32, 40 }, /* the last wins */
	{ __LINE__, { "--u32", "30", "--" }, F_U32, 30 },
	{ __LINE__, { "--u32f", "7" }, F_U32FULL, 7 }, /* prefix of u32full only */
	{ __LINE__, { "--u32full", "0" }, F_U32FULL, 0 },
	{ __LINE__, { "--u32full", "4294967295" }, F_U32FULL, UINT32_MAX },
	{ __LINE__, { "--u64", "0" }, F_U64, 0 },
	{ __LINE__, { "--u64", "18446744073709551615" }, F_U64, UINT64_MAX },
	{ __LINE__, { "--u64cap", "4294967295" }, F_U64CAP, UINT32_MAX },
	{ __LINE__, { "--pct", "0" }, F_PCT, .d = 0 },
	{ __LINE__, { "--pct", "100" }, F_PCT, .d = 100 },
	{ __LINE__, { "--pct", "12.5" }, F_PCT, .d = 12.5 },
	{ __LINE__, { "--pct", "1e1" }, F_PCT, .d = 10 },
	{ __LINE__, { "--pos", "0.001" }, F_POS, .d = 0.001 },
	{ __LINE__, { "--pos", "1e300" }, F_POS, .d = 1e300 },
	{ __LINE__, { "--even", "4" }, F_EVEN, 4 },
	{ __LINE__, { "--even=-2" }, F_EVEN, (uint64_t)-2 },
};

Test(gb_opt, values_within_bounds)
{
	char err[GB_OPT_ERR_LEN];
	unsigned i;

	for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		const struct ok_case *c = &ok_cases[i];
		int r;

		defaults();
		r = parse(&cmd, c->args, err);
		cr_assert_eq(r, 0, "line %d: rc %d (%s)", c->line, r, err);
		switch (c->field) {
		case F_FLAG:
			cr_assert_eq(f.flag, (bool)c->u, "line %d", c->line);
			break;
		case F_STR:
			cr_assert_str_eq(f.str, c->s, "line %d", c->line);
			break;
		case F_U32:
			cr_assert_eq(f.u32, c->u, "line %d: %u", c->line, f.u32);
			break;
		case F_U32FULL:
			cr_assert_eq(f.u32full, c->u, "line %d: %u", c->line, f.u32full);
			break;
		case F_U64:
			cr_assert_eq(f.u64, c->u, "line %d", c->line);
			break;
		case F_U64CAP:
			cr_assert_eq(f.u64cap, c->u, "line %d", c->line);
			break;
		case F_PCT:
			cr_assert_eq(f.pct, c->d, "line %d: %g", c->line, f.pct);
			break;
		case F_POS:
			cr_assert_eq(f.pos, c->d, "line %d: %g", c->line, f.pos);
			break;
		case F_EVEN:
			cr_assert_eq(f.even, (int)c->u, "line %d: %d", c->line, f.even);
			break;
		}
		/* Rows not given keep their defaults. */
		if (c->field != F_U32)
			cr_assert_eq(f.u32, 64, "line %d: u32 touched", c->line);
		if (c->field != F_POS)
			cr_assert_eq(f.pos, 60, "line %d: pos touched", c->line);
		if (c->field != F_FLAG)
			cr_assert(!f.flag, "line %d: flag touched", c->line);
	}
}

struct err_case {
	int line;
	const char *args[MAX_ARGS];
	const char *msg;
};

static const struct err_case err_cases[] = {
	/* integers: one past each bound, and overflow of the type */
	{ __LINE__, { "--u32", "23" }, "--u32: 23 is out of range (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "8193" }, "--u32: 8193 is out of range (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "0" }, "--u32: 0 is out of range (accepted: 24..8192)" },
	{ __LINE__, { "--u32full", "4294967296" },
	  "--u32full: 4294967296 is out of range (accepted: 0..4294967295)" },
	{ __LINE__, { "--u64cap", "4294967296" },
	  "--u64cap: 4294967296 is out of range (accepted: 0..4294967295)" },
	{ __LINE__, { "--u64", "18446744073709551616" },
	  "--u64: 18446744073709551616 is out of range (accepted: 0..18446744073709551615)" },
	{ __LINE__, { "--u64", "99999999999999999999999" },
	  "--u64: 99999999999999999999999 is out of range (accepted: 0..18446744073709551615)" },
	/* integers: garbage strtoull() alone would take */
	{ __LINE__, { "--u32", "abc" }, "--u32: 'abc' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32=" }, "--u32: '' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "-1" }, "--u32: '-1' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u64", "-1" },
	  "--u64: '-1' is not a number (accepted: 0..18446744073709551615)" },
	{ __LINE__, { "--u32", "+30" }, "--u32: '+30' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32", " 30" }, "--u32: ' 30' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "30 " }, "--u32: '30 ' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "30abc" }, "--u32: '30abc' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "0x20" }, "--u32: '0x20' is not a number (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "3.0e1" }, "--u32: '3.0e1' is not a number (accepted: 24..8192)" },
	/* doubles */
	{ __LINE__, { "--pct", "-0.1" }, "--pct: -0.1 is out of range (accepted: 0..100)" },
	{ __LINE__, { "--pct", "100.01" }, "--pct: 100.01 is out of range (accepted: 0..100)" },
	{ __LINE__, { "--pct", "nan" }, "--pct: nan is out of range (accepted: 0..100)" },
	{ __LINE__, { "--pct", "inf" }, "--pct: inf is out of range (accepted: 0..100)" },
	{ __LINE__, { "--pct", "1e999" }, "--pct: 1e999 is out of range (accepted: 0..100)" },
	{ __LINE__, { "--pct", "1x" }, "--pct: '1x' is not a number (accepted: 0..100)" },
	{ __LINE__, { "--pct=" }, "--pct: '' is not a number (accepted: 0..100)" },
	{ __LINE__, { "--pct", " 1" }, "--pct: ' 1' is not a number (accepted: 0..100)" },
	{ __LINE__, { "--pos", "0" }, "--pos: 0 is out of range (accepted: > 0)" },
	{ __LINE__, { "--pos", "-1" }, "--pos: -1 is out of range (accepted: > 0)" },
	{ __LINE__, { "--pos", "-inf" }, "--pos: -inf is out of range (accepted: > 0)" },
	/* a caller's parser */
	{ __LINE__, { "--even", "3" }, "--even: '3' is not EVEN" },
	{ __LINE__, { "--even=" }, "--even: '' is not EVEN" },
	/* the command line's shape */
	{ __LINE__, { "--u32" }, "--u32 needs a value (N)" },
	{ __LINE__, { "--flag", "--str" }, "--str needs a value (S)" },
	{ __LINE__, { "--flag=1" }, "--flag takes no value" },
	{ __LINE__, { "--help=1" }, "--help takes no value" },
	{ __LINE__, { "--nope" }, "unknown option '--nope'" },
	{ __LINE__, { "--nope=1" }, "unknown option '--nope=1'" },
	{ __LINE__, { "--u", "5" }, "ambiguous option '--u'" },
	{ __LINE__, { "--u6=5" }, "ambiguous option '--u6=5'" },
	{ __LINE__, { "-x" }, "unknown option '-x'" },
	{ __LINE__, { "extra" }, "unexpected argument 'extra'" },
	{ __LINE__, { "--u32", "30", "extra" }, "unexpected argument 'extra'" },
	{ __LINE__, { "--", "--u32" }, "unexpected argument '--u32'" },
	/* the first error is the one reported, --help after it included */
	{ __LINE__, { "--u32", "1", "--pct", "101" }, "--u32: 1 is out of range (accepted: 24..8192)" },
	{ __LINE__, { "--u32", "1", "--help" }, "--u32: 1 is out of range (accepted: 24..8192)" },
};

Test(gb_opt, refusals_name_the_option_and_the_range)
{
	char err[GB_OPT_ERR_LEN];
	unsigned i;

	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		int r;

		defaults();
		r = parse(&cmd, c->args, err);
		cr_assert_eq(r, -EINVAL, "line %d: rc %d", c->line, r);
		cr_assert_str_eq(err, c->msg, "line %d", c->line);
	}
}

Test(gb_opt, refused_values_are_not_stored)
{
	static const char *const bad[][MAX_ARGS] = {
		{ "--u32", "23" }, { "--u32", "x" }, { "--pos", "0" }, { "--pos", "nan" },
	};
	char err[GB_OPT_ERR_LEN];
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		defaults();
		cr_assert_eq(parse(&cmd, bad[i], err), -EINVAL, "case %u", i);
		cr_assert_eq(f.u32, 64, "case %u", i);
		cr_assert_eq(f.pos, 60, "case %u", i);
	}
}

Test(gb_opt, help)
{
	static const char *const helps[][MAX_ARGS] = {
		{ "-h" }, { "--help" }, { "--he" }, { "--u32", "30", "--help" },
		{ "--help", "--nope" }, /* help stops the parse: what follows is not looked at */
	};
	char err[GB_OPT_ERR_LEN];
	unsigned i;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		defaults();
		cr_assert_eq(parse(&cmd, helps[i], err), GB_OPT_HELP, "case %u", i);
	}
}

Test(gb_opt, required_rows)
{
	uint64_t seed = 0;
	const struct gb_opt req_rows[] = {
		GB_OPT_U64("seed", &seed, 0, UINT64_MAX, "N", "a seed", GB_OPT_REQUIRED),
		GB_OPT_FLAG("flag", &f.flag, "a flag"),
	};
	const struct gb_opt_cmd req = { .prog = "test", .opts = req_rows, .n = 2 };
	char err[GB_OPT_ERR_LEN];

	cr_assert_eq(parse(&req, (const char *[]){ NULL }, err), -EINVAL);
	cr_assert_str_eq(err, "--seed is required");
	cr_assert_eq(parse(&req, (const char *[]){ "--flag", NULL }, err), -EINVAL);
	cr_assert_str_eq(err, "--seed is required");
	/* 0 is a value given, not a value missing. */
	cr_assert_eq(parse(&req, (const char *[]){ "--seed", "0", NULL }, err), 0, "%s", err);
	cr_assert_eq(parse(&req, (const char *[]){ "--seed", "7", "--flag", NULL }, err), 0);
	cr_assert_eq(seed, 7);
	/* --help needs no required option. */
	cr_assert_eq(parse(&req, (const char *[]){ "--help", NULL }, err), GB_OPT_HELP);
}

/* gwart-conn parses after its mode word: argv[first - 1] is not looked at. */
Test(gb_opt, first_argument)
{
	char *argv[] = { (char *)"prog", (char *)"pair", (char *)"--u32", (char *)"30", NULL };
	char err[GB_OPT_ERR_LEN];

	defaults();
	cr_assert_eq(gb_opt_parse(&cmd, 4, argv, 2, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.u32, 30);
	cr_assert_eq(gb_opt_parse(&cmd, 4, argv, 1, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "unexpected argument 'pair'");
	defaults();
	cr_assert_eq(gb_opt_parse(&cmd, 4, argv, 4, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.u32, 64);
}

/* getopt_long() keeps state between calls: an error midway must not leak
 * into the next parse. */
Test(gb_opt, parses_afresh_each_time)
{
	char err[GB_OPT_ERR_LEN];

	defaults();
	cr_assert_eq(parse(&cmd, (const char *[]){ "--flag", "-x", "--u32", "30", NULL }, err),
		     -EINVAL);
	cr_assert_eq(parse(&cmd, (const char *[]){ "--u32", "40", NULL }, err), 0, "%s", err);
	cr_assert_eq(f.u32, 40);
	cr_assert_eq(parse(&cmd, (const char *[]){ "--u32", NULL }, err), -EINVAL);
	cr_assert_eq(parse(&cmd, (const char *[]){ "--pct", "5", NULL }, err), 0, "%s", err);
	cr_assert_eq(f.pct, 5);
}

Test(gb_opt, too_many_rows)
{
	const struct gb_opt_cmd big = { .prog = "test", .opts = rows, .n = GB_OPT_MAX + 1 };
	char err[GB_OPT_ERR_LEN];

	cr_assert_eq(parse(&big, (const char *[]){ NULL }, err), -EINVAL);
	cr_assert_str_eq(err, "65 options, at most 64");
}

static char *help_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	cr_assert_not_null(m);
	gb_opt_help(&cmd, m);
	fclose(m);
	return buf;
}

/* The line of the help that starts with @prefix. */
static const char *help_line(const char *text, const char *prefix, char *line, size_t cap)
{
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		if (!strncmp(p, prefix, strlen(prefix))) {
			snprintf(line, cap, "%.*s", (int)n, p);
			return line;
		}
		p += n + (p[n] == '\n');
	}
	return NULL;
}

Test(gb_opt, help_is_generated_from_the_table)
{
	struct { int line; const char *prefix, *want; } rows_want[] = {
		{ __LINE__, "  --flag", "  --flag                    a flag" },
		{ __LINE__, "  --str", "  --str S                   a string" },
		{ __LINE__, "  --u32 ", "  --u32 N                   a bounded u32 [24..8192] (default 64)" },
		{ __LINE__, "  --u32full", "  --u32full N               any u32" },
		{ __LINE__, "  --u64 ", "  --u64 N                   any u64" },
		{ __LINE__, "  --u64cap", "  --u64cap N                a u64 capped at 2^32-1 [0..4294967295]" },
		{ __LINE__, "  --pct", "  --pct P                   a percentage [0..100]" },
		{ __LINE__, "  --pos", "  --pos S                   a positive number [> 0] (default 60)" },
		{ __LINE__, "  --even", "  --even EVEN               an even number" },
		{ __LINE__, "  -h", "  -h, --help                this text" },
	};
	char line[256], *text;
	const char *p;
	unsigned i;

	defaults();
	text = help_text();
	cr_assert(!strncmp(text, "usage: test [options]\noptions:\n", 30), "%s", text);
	cr_assert(strstr(text, "this text\nnotes last.\n"), "%s", text);
	for (i = 0; i < sizeof(rows_want) / sizeof(rows_want[0]); i++) {
		cr_assert_not_null(help_line(text, rows_want[i].prefix, line, sizeof(line)),
				   "line %d: no row", rows_want[i].line);
		cr_assert_str_eq(line, rows_want[i].want, "line %d", rows_want[i].line);
	}
	for (p = text; *p; p += strcspn(p, "\n") + 1)
		cr_assert_leq(strcspn(p, "\n"), 80, "line over 80 columns: %.90s", p);
	free(text);
}

/* A long help text wraps under its column; a long option name pushes it
 * to the next line. */
Test(gb_opt, help_wraps)
{
	const struct gb_opt long_rows[] = {
		GB_OPT_FLAG("a-very-long-option-name-indeed", &f.flag, "short"),
		GB_OPT_FLAG("w", &f.flag,
			    "one two three four five six seven eight nine ten eleven twelve "
			    "thirteen fourteen fifteen"),
	};
	const struct gb_opt_cmd c = { .prog = "test", .opts = long_rows, .n = 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	gb_opt_help(&c, m);
	fclose(m);
	cr_assert_str_eq(buf,
			 "options:\n"
			 "  --a-very-long-option-name-indeed\n"
			 "                            short\n"
			 "  --w                       one two three four five six seven eight nine ten\n"
			 "                            eleven twelve thirteen fourteen fifteen\n"
			 "  -h, --help                this text\n");
	free(buf);
}
