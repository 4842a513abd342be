/* SPDX-License-Identifier: BSD-3-Clause */
/* gb_opt: the table-driven option parser and --help generator (gb_opt.h). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_opt.h"

#define GB_OPT_VAL0 256    /* getopt value of row 0; above any short option */
#define GB_OPT_HELP_COL 28   /* --help: where the help text starts */
#define GB_OPT_HELP_WIDTH 80 /* --help: where lines end */

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static uint64_t type_max(const struct gb_opt *o)
{
	return o->type == GB_OPT_TYPE_U32 ? UINT32_MAX : UINT64_MAX;
}

/* The accepted values of a numeric row, as the messages and --help say
 * them: "24..8192", "> 0", ">= 0", "0..100"; "" for the other types. */
static void range_text(const struct gb_opt *o, char *buf, size_t len)
{
	unsigned long long lo = o->min, hi = o->max < type_max(o) ? o->max : type_max(o);
	bool above = o->flags & GB_OPT_ABOVE_MIN;

	buf[0] = 0;
	switch (o->type) {
	case GB_OPT_TYPE_U32:
	case GB_OPT_TYPE_U64:
		snprintf(buf, len, "%llu..%llu", lo, hi);
		break;
	case GB_OPT_TYPE_DOUBLE:
		if (isinf(o->dmax))
			snprintf(buf, len, "%s %g", above ? ">" : ">=", o->dmin);
		else if (above)
			snprintf(buf, len, "> %g and <= %g", o->dmin, o->dmax);
		else
			snprintf(buf, len, "%g..%g", o->dmin, o->dmax);
		break;
	default:
		break;
	}
}

/* Decimal digits only: strtoull() alone would take blanks, a sign (and
 * negate "-1" into 2^64-1) and an empty string as 0. */
static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	return errno == ERANGE ? -ERANGE : 0;
}

/* strtod()'s syntax, but no leading blank, nothing after the number, and
 * only finite values ("nan" compares false against any bound). */
static int parse_double(const char *s, double *v)
{
	char *end;

	if (!*s || isspace((unsigned char)*s))
		return -EINVAL;
	*v = strtod(s, &end);
	if (*end || end == s)
		return -EINVAL;
	return isfinite(*v) ? 0 : -ERANGE;
}

static int store(const struct gb_opt *o, const char *arg, char *err, size_t errlen)
{
	char range[64];
	uint64_t u;
	double d;
	int r;

	range_text(o, range, sizeof(range));
	switch (o->type) {
	case GB_OPT_TYPE_FLAG:
		*(bool *)o->field = true;
		return 0;
	case GB_OPT_TYPE_STR:
		*(const char **)o->field = arg;
		return 0;
	case GB_OPT_TYPE_U32:
	case GB_OPT_TYPE_U64:
		r = parse_u64(arg, &u);
		if (r == -EINVAL)
			return fail(err, errlen, "--%s: '%s' is not a number (accepted: %s)", o->name,
				    arg, range);
		if (r < 0 || u < o->min || u > o->max || u > type_max(o))
			return fail(err, errlen, "--%s: %s is out of range (accepted: %s)", o->name,
				    arg, range);
		if (o->type == GB_OPT_TYPE_U32)
			*(uint32_t *)o->field = (uint32_t)u;
		else
			*(uint64_t *)o->field = u;
		return 0;
	case GB_OPT_TYPE_DOUBLE:
		r = parse_double(arg, &d);
		if (r == -EINVAL)
			return fail(err, errlen, "--%s: '%s' is not a number (accepted: %s)", o->name,
				    arg, range);
		if (r < 0 || d < o->dmin || d > o->dmax ||
		    (d == o->dmin && (o->flags & GB_OPT_ABOVE_MIN)))
			return fail(err, errlen, "--%s: %s is out of range (accepted: %s)", o->name,
				    arg, range);
		*(double *)o->field = d;
		return 0;
	case GB_OPT_TYPE_FN:
		if (o->fn(arg, o->field) < 0)
			return fail(err, errlen, "--%s: '%s' is not %s", o->name, arg,
				    o->arg ? o->arg : "valid");
		return 0;
	}
	return fail(err, errlen, "--%s: row of unknown type %d", o->name, (int)o->type);
}

/* getopt_long() says '?' for an unknown and for an ambiguous name alike;
 * an ambiguous one is a prefix of more than one row's name. */
static bool ambiguous(const struct gb_opt_cmd *cmd, const char *word)
{
	size_t len;
	unsigned i, hits = 0;

	if (strncmp(word, "--", 2))
		return false;
	word += 2;
	len = strcspn(word, "=");
	for (i = 0; i < cmd->n; i++)
		hits += !strncmp(cmd->opts[i].name, word, len);
	hits += !strncmp("help", word, len);
	return hits > 1;
}

int gb_opt_parse(const struct gb_opt_cmd *cmd, int argc, char **argv, int first, char *err,
		 size_t errlen)
{
	struct option lo[GB_OPT_MAX + 2];
	bool seen[GB_OPT_MAX] = { false };
	int sub_argc, c, r;
	char **sub_argv;
	unsigned i;

	if (cmd->n > GB_OPT_MAX)
		return fail(err, errlen, "%u options, at most %u", cmd->n, GB_OPT_MAX);
	if (first < 1 || first > argc)
		first = argc;
	for (i = 0; i < cmd->n; i++)
		lo[i] = (struct option){ cmd->opts[i].name,
					 cmd->opts[i].type == GB_OPT_TYPE_FLAG ? no_argument
									       : required_argument,
					 NULL, GB_OPT_VAL0 + (int)i };
	lo[cmd->n] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[cmd->n + 1] = (struct option){ NULL, 0, NULL, 0 };

	/* argv[first - 1] stands in for the program name, which getopt skips;
	 * optind = 0 makes glibc start afresh (the unit tests parse often). */
	sub_argc = argc - first + 1;
	sub_argv = argv + first - 1;
	optind = 0;
	opterr = 0;
	/* ':' first: a missing value is reported as ':', not as '?'. */
	while ((c = getopt_long(sub_argc, sub_argv, ":h", lo, NULL)) != -1) {
		if (c == 'h')
			return GB_OPT_HELP;
		if (c == ':') {
			if (optopt >= GB_OPT_VAL0 && optopt < GB_OPT_VAL0 + (int)cmd->n) {
				const struct gb_opt *o = &cmd->opts[optopt - GB_OPT_VAL0];

				return fail(err, errlen, "--%s needs a value (%s)", o->name,
					    o->arg ? o->arg : "a value");
			}
			return fail(err, errlen, "'%s' needs a value", sub_argv[optind - 1]);
		}
		if (c == '?') {
			if (optopt >= GB_OPT_VAL0 && optopt < GB_OPT_VAL0 + (int)cmd->n)
				return fail(err, errlen, "--%s takes no value",
					    cmd->opts[optopt - GB_OPT_VAL0].name);
			if (optopt == 'h')
				return fail(err, errlen, "--help takes no value");
			if (optopt)
				return fail(err, errlen, "unknown option '-%c'", optopt);
			if (ambiguous(cmd, sub_argv[optind - 1]))
				return fail(err, errlen, "ambiguous option '%s'", sub_argv[optind - 1]);
			return fail(err, errlen, "unknown option '%s'", sub_argv[optind - 1]);
		}
		i = (unsigned)(c - GB_OPT_VAL0);
		r = store(&cmd->opts[i], optarg, err, errlen);
		if (r < 0)
			return r;
		seen[i] = true;
	}
	if (optind < sub_argc)
		return fail(err, errlen, "unexpected argument '%s'", sub_argv[optind]);
	for (i = 0; i < cmd->n; i++)
		if ((cmd->opts[i].flags & GB_OPT_REQUIRED) && !seen[i])
			return fail(err, errlen, "--%s is required", cmd->opts[i].name);
	return 0;
}

/* "  LEFT  text", the text from GB_OPT_HELP_COL on, wrapped at spaces so
 * that lines end by GB_OPT_HELP_WIDTH (a word longer than that overflows). */
static void help_row(FILE *f, const char *left, const char *text)
{
	const int room = GB_OPT_HELP_WIDTH - GB_OPT_HELP_COL;
	int n = fprintf(f, "  %s", left);

	if (n >= GB_OPT_HELP_COL)
		fprintf(f, "\n%*s", GB_OPT_HELP_COL, "");
	else
		fprintf(f, "%*s", GB_OPT_HELP_COL - n, "");
	for (;;) {
		int len = (int)strlen(text), cut = len;

		if (len > room) {
			for (cut = room; cut > 0 && text[cut] != ' '; cut--)
				;
			if (cut == 0)
				cut = (int)strcspn(text, " ");
		}
		fprintf(f, "%.*s\n", cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		if (!*text)
			break;
		fprintf(f, "%*s", GB_OPT_HELP_COL, "");
	}
}

/* snprintf() at buf + *len, never past cap: a help line is cut, not overrun. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

void gb_opt_help(const struct gb_opt_cmd *cmd, FILE *f)
{
	char left[96], text[512], range[64];
	unsigned i;

	if (cmd->usage)
		fputs(cmd->usage, f);
	fputs("options:\n", f);
	for (i = 0; i < cmd->n; i++) {
		const struct gb_opt *o = &cmd->opts[i];
		size_t len = 0;

		snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		text[0] = 0;
		append(text, sizeof(text), &len, "%s", o->help ? o->help : "");
		range_text(o, range, sizeof(range));
		/* A bound worth saying: not the whole of the field's type. */
		if (range[0] && (o->type == GB_OPT_TYPE_DOUBLE || o->min || o->max < type_max(o)))
			append(text, sizeof(text), &len, " [%s]", range);
		if (o->type == GB_OPT_TYPE_U32 && *(uint32_t *)o->field)
			append(text, sizeof(text), &len, " (default %u)", *(uint32_t *)o->field);
		else if (o->type == GB_OPT_TYPE_U64 && *(uint64_t *)o->field)
			append(text, sizeof(text), &len, " (default %llu)",
			       (unsigned long long)*(uint64_t *)o->field);
		else if (o->type == GB_OPT_TYPE_DOUBLE && *(double *)o->field != 0)
			append(text, sizeof(text), &len, " (default %g)", *(double *)o->field);
		if (o->flags & GB_OPT_REQUIRED)
			append(text, sizeof(text), &len, " (required)");
		help_row(f, left, text);
	}
	help_row(f, "-h, --help", "this text");
	if (cmd->notes)
		fputs(cmd->notes, f);
}
