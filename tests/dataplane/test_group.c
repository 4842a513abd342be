/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The groups-in-progress table (dataplane/group.h), pure: numbered table
 * cases for add, find, delete and walk at the table's edges (empty, full,
 * a key twice, origin 0, numbers out of range), a randomized run against
 * a reference model (every live key found at its number, every deleted one
 * gone, numbers stable across other deletions: the backward shift), the
 * bounded walk, and the chunk extension read back from a frame the
 * encoder built, for lengths around every boundary.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <gwart/wire.h>

#include "group.h"

TestSuite(group);

static struct dp_group_tab t;

Test(group, table_cases)
{
	static const struct {
		const char *what;
		uint32_t origin;
		uint64_t group;
		int op;         /* 0 add, 1 find, 2 del */
		int expect;     /* add/find: 1 found or added, 0 NULL */
	} cases[] = {
		/* 0 */ {"find in an empty table", 1, 1, 1, 0},
		/* 1 */ {"origin 0 is never a key", 0, 1, 0, 0},
		/* 2 */ {"add", 1, 1, 0, 1},
		/* 3 */ {"found", 1, 1, 1, 1},
		/* 4 */ {"the same key twice is refused", 1, 1, 0, 0},
		/* 5 */ {"same group, other origin: another key", 2, 1, 0, 1},
		/* 6 */ {"same origin, other group", 1, 2, 0, 1},
		/* 7 */ {"group 2^64-1", 1, UINT64_MAX, 0, 1},
		/* 8 */ {"found at 2^64-1", 1, UINT64_MAX, 1, 1},
		/* 9 */ {"origin 2^32-1", UINT32_MAX, 0, 0, 1},
		/* 10 */ {"delete", 1, 1, 2, 0},
		/* 11 */ {"gone", 1, 1, 1, 0},
		/* 12 */ {"the others stay", 2, 1, 1, 1},
		/* 13 */ {"the others stay", 1, 2, 1, 1},
		/* 14 */ {"added again", 1, 1, 0, 1},
	};
	unsigned i;

	dp_group_tab_init(&t);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dp_group *g;

		switch (cases[i].op) {
		case 0:
			g = dp_group_add(&t, cases[i].origin, cases[i].group);
			cr_expect_eq(g != NULL, cases[i].expect, "%u: %s", i, cases[i].what);
			if (g != NULL) {
				cr_expect_eq(g->origin, cases[i].origin);
				cr_expect_eq(g->group, cases[i].group);
				cr_expect_eq(g->done + g->busy + g->resv_bytes, 0, "%u: zeroed", i);
				cr_expect_eq(dp_group_at(&t, dp_group_num(&t, g)), g, "%u", i);
			}
			break;
		case 1:
			g = dp_group_find(&t, cases[i].origin, cases[i].group);
			cr_expect_eq(g != NULL, cases[i].expect, "%u: %s", i, cases[i].what);
			break;
		default:
			g = dp_group_find(&t, cases[i].origin, cases[i].group);
			cr_assert_not_null(g, "%u", i);
			dp_group_del(&t, g);
			break;
		}
	}
	cr_expect_eq(t.n, 5);
	cr_expect_null(dp_group_at(&t, 0), "number 0 is no group");
	cr_expect_null(dp_group_at(&t, DP_GROUPS_MAX + 1), "out of range");
}

Test(group, full_table_refuses_then_takes_again)
{
	struct dp_group *g, *first = NULL;
	uint32_t i;

	dp_group_tab_init(&t);
	for (i = 0; i < DP_GROUPS_MAX; i++) {
		g = dp_group_add(&t, 7, 1000 + i);
		cr_assert_not_null(g, "entry %u of %u", i, DP_GROUPS_MAX);
		if (i == 0)
			first = g;
	}
	cr_expect_eq(t.n, DP_GROUPS_MAX);
	cr_expect_null(dp_group_add(&t, 7, 5), "full: refused, never evicting");
	cr_expect_null(dp_group_add(&t, 8, 1000), "full for every origin");
	for (i = 0; i < DP_GROUPS_MAX; i++)
		cr_assert_not_null(dp_group_find(&t, 7, 1000 + i), "%u still there", i);
	dp_group_del(&t, first);
	cr_expect_null(dp_group_at(&t, 1), "a freed number is no group");
	g = dp_group_add(&t, 8, 1000);
	cr_expect_not_null(g, "a freed entry is taken again");
	cr_expect_eq(dp_group_num(&t, g), 1, "at the freed number");
}

/* Random adds and deletes against a model: a key's entry keeps its number
 * whatever is deleted around it (custody slots name groups by number). */
Test(group, random_against_model)
{
	enum { KEYS = 3 * DP_GROUPS_MAX };
	static uint32_t num[KEYS]; /* 0: not in the table */
	unsigned step, k, live = 0;

	srand(11);
	memset(num, 0, sizeof(num));
	dp_group_tab_init(&t);
	for (step = 0; step < 200000; step++) {
		struct dp_group *g;
		uint32_t origin = 1 + (uint32_t)(k = (unsigned)rand() % KEYS) % 5;
		uint64_t group = (uint64_t)k * 0x9e3779b97f4a7c15ull;

		g = dp_group_find(&t, origin, group);
		cr_assert_eq(g != NULL, num[k] != 0, "step %u key %u", step, k);
		if (g != NULL) {
			cr_assert_eq(dp_group_num(&t, g), num[k], "step %u: its number moved", step);
			dp_group_del(&t, g);
			num[k] = 0;
			live--;
		} else {
			g = dp_group_add(&t, origin, group);
			cr_assert_eq(g != NULL, live < DP_GROUPS_MAX, "step %u", step);
			if (g != NULL) {
				num[k] = dp_group_num(&t, g);
				live++;
			}
		}
		cr_assert_eq(t.n, live);
	}
	for (k = 0; k < KEYS; k++)
		if (num[k] != 0)
			cr_assert_eq(dp_group_num(&t, dp_group_find(&t, 1 + (uint32_t)k % 5,
								   (uint64_t)k * 0x9e3779b97f4a7c15ull)),
				     num[k]);
}

static unsigned visits;

static void visit_del_odd(void *arg, struct dp_group *g)
{
	(void)arg;
	visits++;
	if (g->group & 1)
		dp_group_del(&t, g);
}

Test(group, walk_is_bounded_and_covers_all)
{
	unsigned i, seen = 0, calls = 0;

	dp_group_tab_init(&t);
	cr_expect_eq(dp_group_walk(&t, 8, visit_del_odd, NULL), 0, "empty: nothing");
	for (i = 0; i < 100; i++)
		cr_assert_not_null(dp_group_add(&t, 3, i));
	/* 8 positions a call: at most 8 visits; the whole table in
	 * DP_GROUPS_MAX / 8 calls. */
	visits = 0;
	while (calls < DP_GROUPS_MAX / 8) {
		unsigned n = dp_group_walk(&t, 8, visit_del_odd, NULL);

		cr_assert_leq(n, 8);
		seen += n;
		calls++;
	}
	cr_expect_eq(seen, 100, "every entry visited once in a round");
	cr_expect_eq(visits, 100);
	cr_expect_eq(t.n, 50, "deleting in the callback is allowed");
	for (i = 0; i < 100; i++)
		cr_expect_eq(dp_group_find(&t, 3, i) != NULL, !(i & 1), "%u", i);
}

/* The chunk extension read back from the encoder's frames, around the
 * boundaries of lengths and indexes. */
Test(group, chunk_read_roundtrip)
{
	static const struct {
		uint32_t total_len, chunk_len, index;
	} cases[] = {
		/* 0 */ {2, 1, 0},
		/* 1 */ {2, 1, 1},
		/* 2 */ {1177 * 2, 1177, 1},
		/* 3 */ {1177 * 2 + 1, 1177, 2},       /* a last chunk of one byte */
		/* 4 */ {1024 * 1024, 1177, 0},
		/* 5 */ {1024 * 1024, 1177, 890},      /* the last of a 1 MiB message */
		/* 6 */ {GW_MSG_MAX, GW_PAYLOAD_MAX, GW_MSG_MAX / GW_PAYLOAD_MAX - 1},
	};
	static uint8_t payload[GW_PAYLOAD_MAX], buf[GW_FRAME_MAX];
	const char *dest = "smtp:a@b.example";
	unsigned i;

	memset(payload, 'p', sizeof(payload));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gw_chunk_info ck = {
			.group = UINT64_C(1) << 40,
			.total_len = cases[i].total_len,
			.chunk_len = cases[i].chunk_len,
			.index = cases[i].index,
		}, got;
		struct gw_hdr_args h = {.sender = 5, .epoch = 1, .seq = ck.group + ck.index, .ctr = 1};
		uint32_t pl, origin = 0;
		size_t n;

		ck.count = (ck.total_len + ck.chunk_len - 1) / ck.chunk_len;
		pl = gw_chunk_payload_len(&ck, ck.index);
		n = gw_wire_encode_chunk(buf, sizeof(buf), &h, 5, ck.group + ck.index, dest,
					 (uint16_t)strlen(dest), payload, (uint16_t)pl, &ck);
		cr_assert_gt(n, 0, "%u: encoded", i);
		cr_expect(dp_frame_flags(buf) & GW_F_CHUNK, "%u", i);
		cr_expect_eq(dp_chunk_read(buf, &got, &origin), pl, "%u: payload length", i);
		cr_expect_eq(origin, 5);
		cr_expect_eq(got.group, ck.group, "%u", i);
		cr_expect_eq(got.total_len, ck.total_len, "%u", i);
		cr_expect_eq(got.count, ck.count, "%u", i);
		cr_expect_eq(got.index, ck.index, "%u", i);
		cr_expect_eq(got.chunk_len, ck.chunk_len, "%u", i);
	}
}
