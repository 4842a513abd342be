/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gb_opt: table-driven long-option parsing for the command-line tools
 * (gwart-conn, gwart-faultlink): one row per option gives its name, type,
 * bounds, help text and the field it fills; parsing checks every value
 * against its row and --help is generated from the same table.
 *
 * Syntax is getopt_long()'s (the tools used it before): "--name VALUE",
 * "--name=VALUE", unambiguous prefixes of a name, "-h" and "--help", and
 * "--" ending the options. Integers are decimal digits only (no sign, no
 * blank, no hex) for strtoull(); reals are strtod()'s syntax with nothing
 * before or after and finite; both are range-checked, and an error names
 * the option and the accepted range. Positional arguments are refused:
 * neither tool takes any.
 *
 * libc only (no DPDK), so that the installed gwart-conn and the test
 * tools link it alike. Not thread-safe: getopt_long() keeps global state.
 */
#ifndef GB_OPT_H
#define GB_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum gb_opt_type {
	GB_OPT_TYPE_FLAG,   /* no value; sets a bool to true */
	GB_OPT_TYPE_STR,    /* const char *: the argument itself (argv is not copied) */
	GB_OPT_TYPE_U32,    /* uint32_t within [min, max] */
	GB_OPT_TYPE_U64,    /* uint64_t within [min, max] */
	GB_OPT_TYPE_DOUBLE, /* finite double within [dmin, dmax] */
	GB_OPT_TYPE_FN,     /* fn(arg, field) parses and stores it: 0, or < 0 to refuse */
};

/* Row flags. */
#define GB_OPT_REQUIRED  (1u << 0) /* parsing fails unless the option is given */
#define GB_OPT_ABOVE_MIN (1u << 1) /* doubles: dmin itself is refused (a "> 0" bound) */

struct gb_opt {
	const char *name;  /* long name, without the leading "--" */
	enum gb_opt_type type;
	void *field;       /* bool, const char *, uint32_t, uint64_t or double; fn's own */
	const char *arg;   /* the value's name in --help and messages ("N", "IP:PORT") */
	const char *help;  /* one line; bounds and the default are appended to it */
	uint64_t min, max; /* U32, U64 */
	double dmin, dmax; /* DOUBLE */
	int (*fn)(const char *arg, void *field); /* FN */
	unsigned flags;
};

/*
 * Row constructors; flags may follow the help text. The conditional
 * expressions make the compiler check that the field has the row's type (a
 * mismatch is a pointer-type warning, an error under -Werror).
 */
#define GB_OPT_FIELD_(ptr, type) ((void *)(1 ? (ptr) : (type *)0))
#define GB_OPT_FLAGS_(...) (0u | (__VA_ARGS__ + 0u))
#define GB_OPT_FLAG(n, ptr, h, ...) \
	{ .name = (n), .type = GB_OPT_TYPE_FLAG, .field = GB_OPT_FIELD_(ptr, bool), .help = (h), \
	  .flags = GB_OPT_FLAGS_(__VA_ARGS__) }
#define GB_OPT_STR(n, ptr, a, h, ...) \
	{ .name = (n), .type = GB_OPT_TYPE_STR, .field = GB_OPT_FIELD_(ptr, const char *), \
	  .arg = (a), .help = (h), .flags = GB_OPT_FLAGS_(__VA_ARGS__) }
#define GB_OPT_U32(n, ptr, lo, hi, a, h, ...) \
	{ .name = (n), .type = GB_OPT_TYPE_U32, .field = GB_OPT_FIELD_(ptr, uint32_t), \
	  .min = (lo), .max = (hi), .arg = (a), .help = (h), .flags = GB_OPT_FLAGS_(__VA_ARGS__) }
#define GB_OPT_U64(n, ptr, lo, hi, a, h, ...) \
	{ .name = (n), .type = GB_OPT_TYPE_U64, .field = GB_OPT_FIELD_(ptr, uint64_t), \
	  .min = (lo), .max = (hi), .arg = (a), .help = (h), .flags = GB_OPT_FLAGS_(__VA_ARGS__) }
#define GB_OPT_DOUBLE(n, ptr, lo, hi, a, h, ...) \
	{ .name = (n), .type = GB_OPT_TYPE_DOUBLE, .field = GB_OPT_FIELD_(ptr, double), \
	  .dmin = (lo), .dmax = (hi), .arg = (a), .help = (h), .flags = GB_OPT_FLAGS_(__VA_ARGS__) }
#define GB_OPT_FN(n, f, ptr, a, h, ...) \
	{ .name = (n), .type = GB_OPT_TYPE_FN, .fn = (f), .field = (ptr), .arg = (a), .help = (h), \
	  .flags = GB_OPT_FLAGS_(__VA_ARGS__) }

/* A command: its name for messages, its table, and the text around the
 * generated option list in --help. */
struct gb_opt_cmd {
	const char *prog;         /* "gwart-conn" */
	const char *usage;        /* printed first: the synopsis, ending in a newline */
	const char *notes;        /* printed after the options (NULL: none) */
	const struct gb_opt *opts;
	unsigned n;               /* rows in opts, at most GB_OPT_MAX */
};

#define GB_OPT_MAX 64        /* rows per table */
#define GB_OPT_ERR_LEN 256   /* room for any message gb_opt_parse() writes */
#define GB_OPT_HELP 1        /* gb_opt_parse(): -h or --help was given */

/*
 * gb_opt_parse - parse argv[first..argc) against cmd's table.
 *
 * Each value is checked and stored in its row's field as it is met, so
 * fields keep their defaults unless given (a later occurrence wins).
 * Returns 0 when every argument was an option with a valid value and every
 * GB_OPT_REQUIRED row was given; GB_OPT_HELP as soon as -h/--help is met
 * (the caller prints gb_opt_help() and exits 0); -EINVAL otherwise, with a
 * one-line message, without the program's name or a newline, in err
 * (errlen bytes, GB_OPT_ERR_LEN is enough). getopt_long() is reset first
 * and prints nothing. It may permute argv, as getopt_long() does.
 */
int gb_opt_parse(const struct gb_opt_cmd *cmd, int argc, char **argv, int first, char *err,
		 size_t errlen);

/*
 * gb_opt_help - the usage text, then one line per row ("--name ARG  help,
 * bounds (default V)"), then the notes. The defaults shown are the fields'
 * current non-zero numbers: print it before parsing, or after putting the
 * defaults back.
 */
void gb_opt_help(const struct gb_opt_cmd *cmd, FILE *f);

#endif
