/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cp_telemetry_fit(): a JSON value in the shape DPDK 22.11 telemetry can
 * carry, within its limits, saying what it cut (telemetry.h lists the
 * rules). Pure jansson: the unit test drives it with no EAL, and the
 * conversion to rte_tel_data (telemetry.c) is then mechanical, because
 * every limit that conversion could hit was met here.
 *
 * The byte budget is measured with jansson's compact dump, which is never
 * shorter than DPDK's own JSON for the same value (both write "k":v with no
 * blanks; jansson escapes control characters that DPDK drops), so a fitted
 * reply always fits DPDK's buffer.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "telemetry.h"

/* Lists made while fitting: the candidates for the byte budget's cuts. */
struct fit_lists {
	json_t **v;    /* objects keyed by index, and scalar arrays (a reference each) */
	unsigned n, cap;
};

struct fit {
	struct cp_telemetry_cut *cut;
	struct fit_lists lists;
};

static int lists_add(struct fit_lists *l, json_t *v)
{
	if (l->n == l->cap) {
		unsigned cap = l->cap ? l->cap * 2 : 16;
		json_t **nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = json_incref(v);
	return 0;
}

static void lists_free(struct fit_lists *l)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		json_decref(l->v[i]);
	free(l->v);
}

/* A list cut away with its parent: only our reference holds it. */
static int list_detached(const json_t *v)
{
	return v->refcount == 1;
}

/* Telemetry's names: [A-Za-z0-9_/], shorter than RTE_TEL_MAX_STRING_LEN. */
static int name_char_ok(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == '_' || c == '/';
}

/* @k as a valid name in @out; 1 when it had to change. */
static int fix_name(const char *k, char out[RTE_TEL_MAX_STRING_LEN])
{
	size_t i;
	int changed = 0;

	for (i = 0; k[i] != '\0' && i < RTE_TEL_MAX_STRING_LEN - 1; i++) {
		out[i] = name_char_ok((unsigned char)k[i]) ? k[i] : '_';
		changed |= out[i] != k[i];
	}
	out[i] = '\0';
	return changed || k[i] != '\0';
}

/* A string value: cut at a UTF-8 boundary, with "..." saying so, when it
 * does not fit telemetry's RTE_TEL_MAX_STRING_LEN - 1 bytes. */
static json_t *fit_string(const char *s, size_t len, struct cp_telemetry_cut *cut)
{
	char buf[RTE_TEL_MAX_STRING_LEN];
	size_t keep = RTE_TEL_MAX_STRING_LEN - 1 - 3;

	if (len < RTE_TEL_MAX_STRING_LEN && memchr(s, '\0', len) == NULL)
		return json_stringn(s, len);
	if (len < keep)
		keep = len;
	while (keep > 0 && ((unsigned char)s[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(buf, s, keep);
	/* An embedded NUL ends the string where DPDK would end it. */
	keep = strnlen(buf, keep);
	memcpy(buf + keep, "...", 4);
	cut->strings_cut++;
	return json_string(buf);
}

/* A scalar as a string (arrays that mix kinds become string arrays). */
static json_t *scalar_string(json_t *v, struct cp_telemetry_cut *cut)
{
	char buf[64];

	switch (json_typeof(v)) {
	case JSON_STRING:
		return fit_string(json_string_value(v), json_string_length(v), cut);
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
		return json_string(buf);
	case JSON_REAL:
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
		return json_string(buf);
	case JSON_TRUE:
		return json_string("1");
	case JSON_FALSE:
		return json_string("0");
	default:
		return json_string("null");
	}
}

static int fit_value(struct fit *f, json_t *v, unsigned max_keys, json_t **out);

/* One member into @o under a valid name (one whose valid name another
 * member took first is left out, and counted). */
static int put(struct fit *f, json_t *o, const char *k, json_t *fv)
{
	char name[RTE_TEL_MAX_STRING_LEN];

	if (fix_name(k, name))
		f->cut->keys_renamed++;
	/* Taken: by a renamed member before this one, or this one renamed. */
	if (json_object_get(o, name) != NULL) {
		f->cut->entries_omitted++;
		json_decref(fv);
		return 0;
	}
	return json_object_set_new(o, name, fv) == 0 ? 0 : -ENOMEM;
}

static int fit_object(struct fit *f, json_t *v, unsigned max_keys, json_t **out)
{
	json_t *o = json_object(), *m, *fv;
	const char *k;
	int rc;

	if (o == NULL)
		return -ENOMEM;
	json_object_foreach(v, k, m) {
		if (json_is_null(m))
			continue; /* absent = null */
		if (json_object_size(o) >= max_keys) {
			f->cut->entries_omitted++;
			continue;
		}
		rc = fit_value(f, m, RTE_TEL_MAX_DICT_ENTRIES, &fv);
		if (rc == 0)
			rc = put(f, o, k, fv);
		if (rc != 0) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

/* Objects or arrays inside: an object keyed by index. */
static int fit_keyed(struct fit *f, json_t *v, unsigned max_keys, json_t **out)
{
	json_t *o = json_object(), *e, *fv;
	size_t i;
	int rc;

	if (o == NULL || lists_add(&f->lists, o) != 0) {
		json_decref(o);
		return -ENOMEM;
	}
	json_array_foreach(v, i, e) {
		char key[24];

		if (json_is_null(e))
			continue;
		if (json_object_size(o) >= max_keys) {
			f->cut->entries_omitted++;
			continue;
		}
		snprintf(key, sizeof(key), "%zu", i);
		rc = fit_value(f, e, RTE_TEL_MAX_DICT_ENTRIES, &fv);
		if (rc == 0 && json_object_set_new(o, key, fv) != 0)
			rc = -ENOMEM;
		if (rc != 0) {
			json_decref(o);
			return rc;
		}
	}
	*out = o;
	return 0;
}

/* Scalars only: all non-negative integers (or booleans) stay numbers, a u64
 * array; anything else makes it a string array. */
static int fit_scalars(struct fit *f, json_t *v, json_t **out)
{
	json_t *a = json_array(), *e, *fv;
	int numbers = 1;
	size_t i;

	if (a == NULL || lists_add(&f->lists, a) != 0) {
		json_decref(a);
		return -ENOMEM;
	}
	json_array_foreach(v, i, e)
		if (!json_is_boolean(e) && !(json_is_integer(e) && json_integer_value(e) >= 0))
			numbers = 0;
	json_array_foreach(v, i, e) {
		if (i >= RTE_TEL_MAX_ARRAY_ENTRIES) {
			f->cut->entries_omitted += (unsigned)(json_array_size(v) - i);
			break;
		}
		if (numbers)
			fv = json_is_integer(e) ? json_incref(e) : json_integer(json_is_true(e));
		else
			fv = scalar_string(e, f->cut);
		if (json_array_append_new(a, fv) != 0) {
			json_decref(a);
			return -ENOMEM;
		}
	}
	*out = a;
	return 0;
}

static int fit_value(struct fit *f, json_t *v, unsigned max_keys, json_t **out)
{
	json_t *e;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return fit_object(f, v, max_keys, out);
	case JSON_ARRAY:
		json_array_foreach(v, i, e)
			if (json_is_object(e) || json_is_array(e))
				return fit_keyed(f, v, max_keys, out);
		return fit_scalars(f, v, out);
	case JSON_STRING:
		*out = fit_string(json_string_value(v), json_string_length(v), f->cut);
		break;
	case JSON_INTEGER:
		/* u64 or 32-bit int; anything below INT_MIN only as text. */
		*out = json_integer_value(v) >= INT_MIN ? json_incref(v) : scalar_string(v, f->cut);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		*out = json_integer(json_is_true(v));
		break;
	case JSON_REAL:
	case JSON_NULL:
	default:
		*out = scalar_string(v, f->cut);
		break;
	}
	return *out != NULL ? 0 : -ENOMEM;
}

static size_t dump_len(const json_t *v)
{
	size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);

	return n != 0 ? n : (size_t)-1;
}

/* A member's name as compact JSON writes it. */
static size_t key_len(const char *k)
{
	return strlen(k) + 3; /* "k": */
}

/*
 * Cut @l's trailing entries until the whole is at most @budget (its
 * measured length @total): each entry's cost is its compact length plus its
 * key and comma, so one pass suffices. Returns the entries removed.
 */
static unsigned cut_list(json_t *l, size_t total, size_t budget)
{
	unsigned removed = 0;

	while (total > budget) {
		size_t cost;

		if (json_is_array(l)) {
			size_t n = json_array_size(l);

			if (n == 0)
				break;
			cost = dump_len(json_array_get(l, n - 1)) + (n > 1);
			json_array_remove(l, n - 1);
		} else {
			const char *last = NULL;
			void *it;

			for (it = json_object_iter(l); it != NULL; it = json_object_iter_next(l, it))
				last = json_object_iter_key(it);
			if (last == NULL)
				break;
			cost = dump_len(json_object_get(l, last)) + key_len(last) +
			       (json_object_size(l) > 1);
			json_object_del(l, last);
		}
		total = cost < total ? total - cost : 0;
		removed++;
	}
	return removed;
}

static int note(json_t *o, const struct cp_telemetry_cut *cut)
{
	return json_object_set_new(
		o, "truncated",
		json_pack("{s:I, s:I, s:I, s:s}", "entries_omitted", (json_int_t)cut->entries_omitted,
			  "strings_cut", (json_int_t)cut->strings_cut, "keys_renamed",
			  (json_int_t)cut->keys_renamed, "why",
			  "DPDK 22.11 telemetry: 16 KiB a reply, 256 keys, 512 items, 127-byte strings;"
			  " gwartctl --json shows all"));
}

json_t *cp_telemetry_fit(json_t *v, size_t budget, struct cp_telemetry_cut *cut)
{
	struct fit f = {.cut = cut};
	json_t *out = NULL;
	size_t len;

	memset(cut, 0, sizeof(*cut));
	/* One key of the top object stays free for "truncated". */
	if (fit_value(&f, v, RTE_TEL_MAX_DICT_ENTRIES - 1, &out) != 0)
		goto fail;
	for (;;) {
		json_t *big = NULL;
		size_t big_len = 0;
		unsigned i;

		/* The note goes last, re-made with the counts so far (and out of
		 * the way while a list is cut: it is never the tail cut). */
		if (json_is_object(out))
			json_object_del(out, "truncated");
		if (json_is_object(out) &&
		    (cut->entries_omitted || cut->strings_cut || cut->keys_renamed) &&
		    note(out, cut) != 0)
			goto fail;
		len = dump_len(out);
		if (len <= budget)
			break;
		/* Too long: the longest list loses its tail (the lists nested in
		 * it are shorter, so the outermost list is cut first). */
		for (i = 0; i < f.lists.n; i++) {
			size_t n = dump_len(f.lists.v[i]);

			if (list_detached(f.lists.v[i]))
				continue;
			if ((json_is_array(f.lists.v[i]) ? json_array_size(f.lists.v[i])
							 : json_object_size(f.lists.v[i])) != 0 &&
			    n > big_len) {
				big = f.lists.v[i];
				big_len = n;
			}
		}
		if (big == NULL)
			goto fail; /* nothing left to cut: even the frame is too long */
		/* @len counted the note, which grows when counts gain digits:
		 * leave it room. */
		json_object_del(out, "truncated");
		cut->entries_omitted += cut_list(big, len + 8, budget);
	}
	lists_free(&f.lists);
	return out;
fail:
	lists_free(&f.lists);
	json_decref(out);
	return NULL;
}
