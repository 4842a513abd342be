/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion suite "sdk_reasm": the SDK's reassembly of groups (reasm.c),
 * driven by chunks put straight into the fake router's egress custody
 * towards connector 2 (fr_inject), so that each test chooses the order,
 * the duplicates and the timing: chunk orders (table), late chunks of a
 * delivered or expired group, each bound and its counter (a refused chunk
 * stays unacknowledged in the router's custody and is taken on a later
 * retransmission), groups that can never be taken, the timeout and its
 * session clock, and partial groups across a session loss and a router
 * restart.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <gwart/connector.h>

#include "fake_router.h"
#include "msg_env.h"
#include "sdk_env.h"

#define ORIGIN 7u /* a connector that exists only in the injected frames */

struct grp {
	uint64_t group;
	uint32_t total_len, count, chunk_len;
};

static struct grp grp(uint64_t group, uint32_t total_len, uint32_t chunk_len)
{
	return (struct grp){ .group = group, .total_len = total_len, .chunk_len = chunk_len,
			     .count = (total_len + chunk_len - 1) / chunk_len };
}

/* Chunk @i of @g (pattern bytes of message g->group) into custody towards
 * connector 2; its egress seq. */
static uint64_t chunk(struct menv *e, const struct grp *g, uint32_t i)
{
	struct gw_chunk_info ck = { .group = g->group, .total_len = g->total_len,
				    .count = g->count, .index = i, .chunk_len = g->chunk_len };
	uint8_t buf[GW_PAYLOAD_MAX];
	uint32_t n = gw_chunk_payload_len(&ck, i), j;

	for (j = 0; j < n; j++)
		buf[j] = pat(g->group, (size_t)i * g->chunk_len + j);
	e->b->want_len[g->group] = g->total_len;
	return fr_inject(e->fr, 2, ORIGIN, g->group + i, DEST, buf, (uint16_t)n, &ck);
}

static struct gw_conn_stats rx_stats(struct menv *e)
{
	struct gw_conn_stats st;

	gw_conn_get_stats(e->cs[1], &st);
	return st;
}

/* Every egress frame towards 2 acknowledged. */
static bool custody_empty(const struct menv *e)
{
	return e->fr->conn[2].eg_low == e->fr->conn[2].eg_next;
}

/* ---- orders, duplicates, late chunks (table) ------------------------------ */

struct order_case {
	const char *name;
	int idx[12];  /* chunk indexes in arrival order, -1 ends */
	uint64_t dups; /* rx_chunk_dups expected */
	uint64_t late; /* rx_late_chunks expected (after delivery) */
};

Test(sdk_reasm, orders_table)
{
	static const struct order_case cases[] = {
		{ "in order", { 0, 1, 2, 3, 4, -1 }, 0, 0 },
		{ "reverse", { 4, 3, 2, 1, 0, -1 }, 0, 0 },
		{ "shuffled", { 2, 4, 0, 3, 1, -1 }, 0, 0 },
		{ "last first", { 4, 0, 1, 2, 3, -1 }, 0, 0 },
		{ "duplicates", { 0, 0, 1, 3, 1, 2, 4, -1 }, 2, 0 },
		{ "every chunk twice", { 3, 3, 1, 1, 0, 0, 2, 2, 4, -1 }, 4, 0 },
		{ "after delivery", { 0, 1, 2, 3, 4, 4, 0, -1 }, 0, 2 },
	};
	struct gw_conn_stats s0, s1;
	struct menv e;
	unsigned i, k;

	menv_start(&e, 960, 1153, 3, NULL, NULL, true);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct order_case *t = &cases[i];
		/* 5 chunks of 100 bytes, the last one 37. */
		struct grp g = grp(1000 + 100 * i, 437, 100);

		s0 = rx_stats(&e);
		for (k = 0; t->idx[k] >= 0; k++) {
			chunk(&e, &g, (uint32_t)t->idx[k]);
			pump(e.fr, e.cs, 2); /* each on its own, in this order */
		}
		idle(&e, 30);
		s1 = rx_stats(&e);
		cr_assert_eq(e.b->got[g.group], 1, "%s: delivered %u times", t->name,
			     e.b->got[g.group]);
		cr_assert_eq(e.b->corrupt, 0, "%s: not byte-identical", t->name);
		cr_assert_eq(s1.rx_groups - s0.rx_groups, 1, "%s", t->name);
		cr_assert_eq(s1.rx_chunks - s0.rx_chunks, 5, "%s", t->name);
		cr_assert_eq(s1.rx_chunk_dups - s0.rx_chunk_dups, t->dups, "%s: dups %lu",
			     t->name, (unsigned long)(s1.rx_chunk_dups - s0.rx_chunk_dups));
		cr_assert_eq(s1.rx_late_chunks - s0.rx_late_chunks, t->late, "%s: late %lu",
			     t->name, (unsigned long)(s1.rx_late_chunks - s0.rx_late_chunks));
		cr_assert_eq(s1.rx_groups_open, 0, "%s", t->name);
		cr_assert_eq(s1.rx_bytes_open, 0, "%s", t->name);
		cr_assert(custody_empty(&e), "%s: every chunk acknowledged", t->name);
	}
	cr_assert_eq(e.b->n_rxn, 0);
	menv_free(&e);
}

Test(sdk_reasm, partial_group_waits_then_completes)
{
	struct grp g = grp(500, 3000, 1000);
	struct gw_conn_stats st;
	struct menv e;

	menv_start(&e, 960, 1153, 5, NULL, NULL, true);
	chunk(&e, &g, 2);
	chunk(&e, &g, 0);
	idle(&e, 50);
	st = rx_stats(&e);
	cr_assert_eq(e.b->got[500], 0);
	cr_assert_eq(st.rx_groups_open, 1);
	cr_assert_eq(st.rx_bytes_open, 3000 + 8, "total_len and a one-word bitmap");
	cr_assert(custody_empty(&e), "chunks held here are acknowledged");
	chunk(&e, &g, 1);
	idle(&e, 30);
	cr_assert_eq(e.b->got[500], 1);
	cr_assert_eq(e.b->corrupt, 0);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups_open, 0);
	menv_free(&e);
}

/* ---- bounds: refused unacknowledged, taken on a later retransmission ------ */

Test(sdk_reasm, groups_limit_refuses_then_takes)
{
	struct gw_conn_cfg cfg = { .rx_groups_max = 2 };
	struct grp a = grp(100, 200, 100), b = grp(200, 200, 100), c = grp(300, 200, 100);
	struct gw_conn_stats st;
	struct menv e;
	uint64_t c0;

	menv_start(&e, 960, 1153, 7, NULL, &cfg, true);
	chunk(&e, &a, 0);
	chunk(&e, &b, 0);
	c0 = chunk(&e, &c, 0);
	idle(&e, 50);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups_open, 2);
	cr_assert_geq(st.rx_refused_groups, 1);
	cr_assert(fr_eg_held(e.fr, 2, c0), "a refused chunk is not acknowledged");
	cr_assert_gt(e.fr->eg_rtx, 0, "and the router retransmits it");
	chunk(&e, &a, 1);
	idle(&e, 80); /* a few of the router's 20 ms retransmissions */
	cr_assert_eq(e.b->got[100], 1);
	cr_assert(!fr_eg_held(e.fr, 2, c0), "taken once a group finished");
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups_open, 2);
	chunk(&e, &b, 1);
	chunk(&e, &c, 1);
	idle(&e, 30);
	cr_assert_eq(e.b->got[200], 1);
	cr_assert_eq(e.b->got[300], 1);
	cr_assert_eq(e.b->corrupt, 0);
	cr_assert(custody_empty(&e));
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(st.rx_refused_bytes + st.rx_refused_nomem, 0);
	menv_free(&e);
}

Test(sdk_reasm, bytes_limit_refuses_then_takes)
{
	struct gw_conn_cfg cfg = { .max_message = 10000, .rx_bytes_max = 10000 };
	struct grp a = grp(100, 8000, 1000), b = grp(200, 8000, 1000);
	struct gw_conn_stats st;
	struct menv e;
	uint64_t b0;
	uint32_t i;

	menv_start(&e, 960, 1153, 11, NULL, &cfg, true);
	chunk(&e, &a, 0);
	b0 = chunk(&e, &b, 0);
	idle(&e, 50);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups_open, 1);
	cr_assert_eq(st.rx_bytes_open, 8008);
	cr_assert_geq(st.rx_refused_bytes, 1);
	cr_assert_eq(st.rx_refused_groups, 0);
	cr_assert(fr_eg_held(e.fr, 2, b0));
	for (i = 1; i < a.count; i++)
		chunk(&e, &a, i);
	idle(&e, 80);
	cr_assert_eq(e.b->got[100], 1);
	cr_assert(!fr_eg_held(e.fr, 2, b0));
	for (i = 1; i < b.count; i++)
		chunk(&e, &b, i);
	idle(&e, 30);
	cr_assert_eq(e.b->got[200], 1);
	cr_assert_eq(e.b->corrupt, 0);
	cr_assert(custody_empty(&e));
	menv_free(&e);
}

Test(sdk_reasm, above_max_message_given_up_at_once)
{
	struct gw_conn_cfg cfg = { .max_message = 10000 };
	struct grp g = grp(100, 10001, 1000);
	struct gw_conn_stats st;
	struct menv e;

	menv_start(&e, 960, 1153, 13, NULL, &cfg, true);
	chunk(&e, &g, 3);
	idle(&e, 30);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_too_big, 1);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(st.rx_bytes_open, 0, "nothing allocated for it");
	cr_assert(custody_empty(&e), "acknowledged, not refused forever");
	cr_assert_eq(e.b->n_rxn, 1);
	cr_assert_eq(e.b->rxn_origin[0], ORIGIN);
	cr_assert_eq(e.b->rxn_id[0], 100);
	cr_assert_eq(e.b->rxn_reason[0], GW_RX_NOMEM);
	chunk(&e, &g, 0);
	chunk(&e, &g, 10);
	idle(&e, 30);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_late_chunks, 2);
	cr_assert_eq(st.rx_too_big, 1, "counted once per group");
	cr_assert_eq(e.b->n_rxn, 1, "noticed once");
	cr_assert_eq(e.b->got[100], 0);
	/* Exactly max_message is taken. */
	g = grp(200, 10000, 1000);
	for (uint32_t i = 0; i < g.count; i++)
		chunk(&e, &g, i);
	idle(&e, 30);
	cr_assert_eq(e.b->got[200], 1);
	cr_assert_eq(e.b->corrupt, 0);
	menv_free(&e);
}

Test(sdk_reasm, no_on_message_groups_given_up_frames_delivered)
{
	struct grp g = grp(100, 300, 100);
	struct gw_conn_stats st;
	struct menv e;
	uint8_t one[3] = { 1, 2, 3 };

	menv_start(&e, 960, 1153, 17, NULL, NULL, false);
	fr_inject(e.fr, 2, ORIGIN, 50, DEST, one, sizeof(one), NULL);
	chunk(&e, &g, 0);
	chunk(&e, &g, 1);
	chunk(&e, &g, 2);
	idle(&e, 30);
	st = rx_stats(&e);
	cr_assert_eq(e.b->n_deliver, 1, "single frames still go to on_deliver");
	cr_assert_eq(st.rx_no_handler, 1);
	cr_assert_eq(st.rx_late_chunks, 2);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(e.b->n_rxn, 1);
	cr_assert_eq(e.b->rxn_reason[0], GW_RX_NOMEM);
	cr_assert(custody_empty(&e));
	menv_free(&e);
}

Test(sdk_reasm, bad_chunk_dropped_group_completes)
{
	struct grp g = grp(100, 250, 100), liar = grp(100, 260, 100);
	struct gw_conn_stats st;
	struct menv e;

	menv_start(&e, 960, 1153, 19, NULL, NULL, true);
	chunk(&e, &g, 0);
	pump(e.fr, e.cs, 2);
	/* Same id, another length: the first chunk's description stands. */
	chunk(&e, &liar, 1);
	e.b->want_len[100] = 250; /* chunk() set the liar's */
	idle(&e, 20);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_bad_chunks, 1);
	chunk(&e, &g, 1);
	chunk(&e, &g, 2);
	idle(&e, 30);
	cr_assert_eq(e.b->got[100], 1);
	cr_assert_eq(e.b->corrupt, 0);
	cr_assert(custody_empty(&e));
	menv_free(&e);
}

/* ---- the timeout and its session clock ------------------------------------ */

Test(sdk_reasm, expired_group_freed_noticed_late_chunk_dropped)
{
	struct gw_conn_cfg cfg = { .rx_group_timeout_ms = 100 };
	struct grp g = grp(100, 300, 100);
	struct gw_conn_stats st;
	struct menv e;

	menv_start(&e, 960, 1153, 23, NULL, &cfg, true);
	chunk(&e, &g, 0);
	chunk(&e, &g, 2);
	idle(&e, 50);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups_open, 1);
	cr_assert_eq(st.rx_expired, 0);
	idle(&e, 150);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_expired, 1);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(st.rx_bytes_open, 0);
	cr_assert_eq(e.b->n_rxn, 1);
	cr_assert_eq(e.b->rxn_origin[0], ORIGIN);
	cr_assert_eq(e.b->rxn_id[0], 100);
	cr_assert_eq(e.b->rxn_reason[0], GW_RX_EXPIRED);
	/* The missing chunk arrives after all: acknowledged and dropped,
	 * not the start of a new group. */
	chunk(&e, &g, 1);
	idle(&e, 30);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_late_chunks, 1);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(e.b->got[100], 0);
	cr_assert(custody_empty(&e));
	idle(&e, 150);
	cr_assert_eq(e.b->n_rxn, 1, "noticed once");
	menv_free(&e);
}

Test(sdk_reasm, session_loss_stops_the_clock_group_survives)
{
	struct gw_conn_cfg cfg = { .rx_group_timeout_ms = 200 };
	struct grp g = grp(100, 300, 100);
	struct gw_conn_stats st;
	struct menv e;

	menv_start(&e, 960, 1153, 29, NULL, &cfg, true);
	chunk(&e, &g, 0);
	idle(&e, 20);
	/* The router closes 2's session and does not answer its HELLOs for
	 * a while: longer than the timeout, but not session time. */
	e.fr->no_welcome = true;
	fr_bye(e.fr, 2);
	idle(&e, 20);
	cr_assert_eq(gw_conn_is_up(e.cs[1]), 0);
	chunk(&e, &g, 1); /* waits in custody for the next session */
	idle(&e, 500);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_expired, 0, "the session clock stopped");
	cr_assert_eq(st.rx_groups_open, 1);
	e.fr->no_welcome = false;
	fr_probe(e.fr, 2);
	wait_up(e.fr, e.cs, 2);
	chunk(&e, &g, 2);
	idle(&e, 50);
	cr_assert_eq(e.b->got[100], 1);
	cr_assert_eq(e.b->corrupt, 0);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_expired, 0);
	cr_assert_geq(st.sessions, 2);
	menv_free(&e);
}

Test(sdk_reasm, partial_group_across_router_restart)
{
	/* A new router process, a new egress sequence space: chunks are told
	 * apart by (origin, group, index), so the group still completes (the
	 * origin resends what the old router had not acknowledged). */
	struct grp g = grp(100, 300, 100);
	struct gw_conn_stats st;
	struct menv e;
	uint64_t end;

	menv_start(&e, 960, 1153, 31, NULL, NULL, true);
	chunk(&e, &g, 0);
	chunk(&e, &g, 1);
	idle(&e, 30);
	fr_restart(e.fr, (7ull << 32) + 1);
	fr_probe(e.fr, 1);
	fr_probe(e.fr, 2);
	end = now_us() + 3000000;
	do
		pump(e.fr, e.cs, 2);
	while ((!gw_conn_is_up(e.cs[1]) || !e.fr->conn[2].known) && now_us() < end);
	cr_assert(gw_conn_is_up(e.cs[1]));
	chunk(&e, &g, 1); /* a copy under the new space: a duplicate index */
	chunk(&e, &g, 2);
	idle(&e, 50);
	st = rx_stats(&e);
	cr_assert_eq(e.b->got[100], 1);
	cr_assert_eq(e.b->corrupt, 0);
	cr_assert_eq(st.rx_chunk_dups, 1);
	menv_free(&e);
}

/* ---- across a clean close (state_path: PATH.groups) ----------------------- */

static void tmp_state(char *path, size_t n)
{
	snprintf(path, n, "/tmp/gwart-sdk-reasm-%d-XXXXXX", (int)getpid());
	cr_assert_not_null(mkdtemp(path));
	strncat(path, "/state", n - strlen(path) - 1);
}

static void rm_state(const char *path)
{
	char p[256], *slash;

	unlink(path);
	snprintf(p, sizeof(p), "%s.lock", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s.groups", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s", path);
	slash = strrchr(p, '/');
	*slash = 0;
	rmdir(p);
}

Test(sdk_reasm, partial_group_survives_clean_close)
{
	char path[128], gpath[160];
	struct gw_conn_cfg cfg = { 0 };
	struct grp g = grp(100, 300, 100), done = grp(400, 200, 100);
	struct gw_conn_stats st;
	struct menv e;

	tmp_state(path, sizeof(path));
	snprintf(gpath, sizeof(gpath), "%s.groups", path);
	cfg.state_path = path;
	menv_start(&e, 960, 1153, 37, NULL, &cfg, true);
	chunk(&e, &done, 0);
	chunk(&e, &done, 1);
	chunk(&e, &g, 2);
	chunk(&e, &g, 0);
	idle(&e, 50);
	cr_assert_eq(e.b->got[400], 1);
	cr_assert(custody_empty(&e), "the router holds none of them any more");
	cr_assert_eq(gw_conn_close(e.cs[1]), 0);
	cr_assert_eq(access(gpath, F_OK), 0, "written at close");
	e.cs[1] = mopen(e.fr, 2, e.b, &cfg, true);
	cr_assert_neq(access(gpath, F_OK), 0, "consumed at open");
	st = rx_stats(&e);
	cr_assert_eq(st.rx_restored_groups, 1);
	cr_assert_eq(st.rx_groups_open, 1);
	cr_assert_eq(st.rx_bytes_open, 308);
	wait_up(e.fr, e.cs, 2);
	chunk(&e, &g, 1);
	chunk(&e, &done, 1); /* late: the finished set came back too */
	idle(&e, 50);
	cr_assert_eq(e.b->got[100], 1);
	cr_assert_eq(e.b->got[400], 1);
	cr_assert_eq(e.b->corrupt, 0);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_late_chunks, 1);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(e.b->n_rxn, 0);
	menv_free(&e);
	rm_state(path);
}

/* Flip some bits of byte @off of file @path. */
static void flip(const char *path, long off)
{
	FILE *f = fopen(path, "r+b");
	int ch;

	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, off, SEEK_SET), 0);
	ch = fgetc(f);
	cr_assert_neq(ch, EOF);
	cr_assert_eq(fseek(f, off, SEEK_SET), 0);
	fputc(ch ^ 0x5a, f);
	fclose(f);
}

Test(sdk_reasm, restore_beyond_bounds_dropped_and_damage_refused)
{
	char path[128], gpath[160];
	struct gw_conn_cfg cfg = { 0 }, small = { .rx_groups_max = 1 };
	struct grp a = grp(100, 300, 100), b = grp(200, 300, 100);
	struct gw_conn_stats st;
	struct menv e;
	struct gw_conn *c;
	int err = 0;

	tmp_state(path, sizeof(path));
	snprintf(gpath, sizeof(gpath), "%s.groups", path);
	cfg.state_path = path;
	small.state_path = path;
	menv_start(&e, 960, 1153, 41, NULL, &cfg, true);
	chunk(&e, &a, 0);
	chunk(&e, &b, 0);
	idle(&e, 50);
	cr_assert_eq(gw_conn_close(e.cs[1]), 0);
	/* A damaged file: refused, not forgotten silently. */
	flip(gpath, 40);
	{
		struct gw_conn_cfg bad = small;

		bad.id = 2;
		fr_key(2, bad.key);
		bad.router_addr = "127.0.0.1";
		bad.router_port = e.fr->port;
		c = gw_conn_open(&bad, &err);
		cr_assert_null(c);
		cr_assert_eq(err, -EBADMSG, "err %d", err);
	}
	/* Undo the damage; a handle with room for one group keeps one. */
	flip(gpath, 40);
	e.cs[1] = mopen(e.fr, 2, e.b, &small, true);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_restored_groups, 1);
	cr_assert_eq(st.rx_restore_dropped, 1);
	cr_assert_eq(st.rx_groups_open, 1);
	menv_free(&e);
	rm_state(path);
}

Test(sdk_reasm, interleaved_groups_of_several_origins)
{
	/* 40 groups of 2..31 chunks from 4 origins, their chunks shuffled
	 * together, a fifth of them twice: each delivered once, whole. The
	 * bounds have room for them all. */
	enum { NG = 40 };
	struct grp gs[NG];
	uint32_t origin[NG], order[2 * NG * 31][2], n = 0, i, j, k;
	struct gw_conn_stats st;
	struct menv e;
	uint64_t rng = 12345, end;

	menv_start(&e, 960, 1153, 53, NULL, NULL, true);
	for (i = 0; i < NG; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		gs[i] = grp(1000 + 64 * i, 100 * (2 + (uint32_t)(rng >> 59)) + 1 + i, 100);
		origin[i] = 3 + i % 4;
		for (k = 0; k < gs[i].count; k++) {
			order[n][0] = i;
			order[n++][1] = k;
			if ((rng >> (k % 32)) % 5 == 0) {
				order[n][0] = i;
				order[n++][1] = k;
			}
		}
	}
	for (i = n - 1; i > 0; i--) { /* Fisher-Yates */
		uint32_t t0, t1;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		j = (uint32_t)((rng >> 33) % (i + 1));
		t0 = order[i][0], t1 = order[i][1];
		order[i][0] = order[j][0], order[i][1] = order[j][1];
		order[j][0] = t0, order[j][1] = t1;
	}
	for (i = 0; i < n; i++) {
		const struct grp *g = &gs[order[i][0]];
		struct gw_chunk_info ck = { .group = g->group, .total_len = g->total_len,
					    .count = g->count, .index = order[i][1],
					    .chunk_len = g->chunk_len };
		uint8_t buf[100];
		uint32_t len = gw_chunk_payload_len(&ck, order[i][1]);

		for (k = 0; k < len; k++)
			buf[k] = pat(g->group, (size_t)order[i][1] * 100 + k);
		e.b->want_len[g->group] = g->total_len;
		fr_inject(e.fr, 2, origin[order[i][0]], g->group + order[i][1], DEST, buf,
			  (uint16_t)len, &ck);
		if (i % 50 == 0)
			pump(e.fr, e.cs, 2);
	}
	end = now_us() + 5000000;
	while (e.b->n_msgs < NG && now_us() < end)
		pump(e.fr, e.cs, 2);
	idle(&e, 50);
	for (i = 0; i < NG; i++)
		cr_assert_eq(e.b->got[gs[i].group], 1, "group %u delivered %u times", i,
			     e.b->got[gs[i].group]);
	cr_assert_eq(e.b->corrupt, 0);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups, NG);
	cr_assert_eq(st.rx_groups_open, 0);
	cr_assert_eq(st.rx_bytes_open, 0);
	cr_assert_gt(st.rx_chunk_dups + st.rx_late_chunks, 0);
	cr_assert_eq(st.rx_refused_groups + st.rx_refused_bytes + st.rx_bad_chunks, 0);
	cr_assert(custody_empty(&e));
	menv_free(&e);
}

Test(sdk_reasm, stall_behind_a_refused_chunk_ends_by_the_timeout)
{
	/* rx_groups_max 1 and an 8-frame window towards us: A is in
	 * progress, B's first chunk is refused at the bottom of the router's
	 * window, and A's last chunk lies beyond it, so nothing can move (the
	 * documented stall). The timeout gives A up, B is taken, A's chunk
	 * is then acknowledged and dropped: the link never wedges. */
	struct gw_conn_cfg cfg = { .rx_groups_max = 1, .rx_window = 8,
				   .rx_group_timeout_ms = 150 };
	struct grp a = grp(100, 200, 100), b = grp(200, 200, 100);
	struct gw_conn_stats st;
	struct menv e;
	uint64_t b0, a1, end;
	int i;

	menv_start(&e, 960, 1153, 61, NULL, &cfg, true);
	chunk(&e, &a, 0);
	b0 = chunk(&e, &b, 0);
	for (i = 0; i < 8; i++) { /* single frames filling the window */
		uint8_t one = pat(10 + (uint64_t)i, 0);

		e.b->want_len[10 + i] = 1;
		fr_inject(e.fr, 2, ORIGIN, 10 + (uint64_t)i, DEST, &one, 1, NULL);
	}
	a1 = chunk(&e, &a, 1);
	idle(&e, 60);
	st = rx_stats(&e);
	cr_assert(fr_eg_held(e.fr, 2, b0));
	cr_assert(fr_eg_held(e.fr, 2, a1), "beyond the window: never sent");
	cr_assert_eq(st.rx_groups_open, 1);
	cr_assert_gt(st.rx_refused_groups, 0);
	end = now_us() + 3000000;
	while (!custody_empty(&e) && now_us() < end)
		pump(e.fr, e.cs, 2);
	cr_assert(custody_empty(&e), "the link moved again");
	st = rx_stats(&e);
	cr_assert_eq(st.rx_expired, 1);
	cr_assert_eq(e.b->n_rxn, 1);
	cr_assert_eq(e.b->rxn_id[0], 100);
	cr_assert_eq(e.b->rxn_reason[0], GW_RX_EXPIRED);
	cr_assert_eq(st.rx_late_chunks, 1, "A's last chunk, after A was given up");
	cr_assert_eq(e.b->got[100], 0);
	chunk(&e, &b, 1);
	idle(&e, 50);
	cr_assert_eq(e.b->got[200], 1);
	for (i = 0; i < 8; i++)
		cr_assert_eq(e.b->got[10 + i], 1);
	cr_assert_eq(e.b->corrupt, 0);
	menv_free(&e);
}

Test(sdk_reasm, finished_set_keeps_the_last_done_groups)
{
	/* GW_CONN_RX_DONE_GROUPS + 1 groups of two chunks: the newest are
	 * remembered (a late chunk is dropped), the very first is forgotten
	 * (a late chunk of it starts a group, which then only expires: never
	 * a second delivery, since its other chunk is gone). */
	struct gw_conn_cfg cfg = { .rx_group_timeout_ms = 100 };
	const uint32_t n = GW_CONN_RX_DONE_GROUPS + 1;
	struct gw_conn_stats st;
	struct grp g;
	struct menv e;
	uint32_t i;
	uint64_t end;

	menv_start(&e, 960, 1153, 67, NULL, &cfg, true);
	for (i = 0; i < n; i++) {
		g = grp(10 + 2 * (uint64_t)i, 3, 2);
		chunk(&e, &g, 0);
		chunk(&e, &g, 1);
		if (i % 500 == 499 || i == n - 1) {
			end = now_us() + 5000000;
			while (!custody_empty(&e) && now_us() < end)
				pump(e.fr, e.cs, 2);
		}
	}
	st = rx_stats(&e);
	cr_assert_eq(st.rx_groups, n);
	cr_assert_eq(e.b->n_msgs, n);
	g = grp(10 + 2 * (uint64_t)(n - 1), 3, 2);
	chunk(&e, &g, 1);
	idle(&e, 20);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_late_chunks, 1);
	cr_assert_eq(st.rx_groups_open, 0);
	g = grp(10, 3, 2);
	chunk(&e, &g, 1);
	idle(&e, 20);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_late_chunks, 1, "forgotten");
	cr_assert_eq(st.rx_groups_open, 1);
	idle(&e, 200);
	st = rx_stats(&e);
	cr_assert_eq(st.rx_expired, 1);
	cr_assert_eq(e.b->got[10], 1, "never delivered twice");
	cr_assert_eq(e.b->corrupt, 0);
	menv_free(&e);
}
