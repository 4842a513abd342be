/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The mail spool (connectors/smtp/spool.c): entries written and found
 * again after a reopen, recipient states kept, ids growing across
 * reopens (an emptied spool included), both bounds refusing and counting,
 * torn and damaged files refused at start-up, set aside in damaged/ and
 * counted, damaged state files, leftover temporary files, the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "spool.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/test_spool.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

TestSuite(spool, .init = setup, .fini = teardown);

static const char *rc2[] = { "a@x.example", "b@y.example" };

static struct sp_entry *put(struct sp_spool *sp, const char *body)
{
	struct sp_entry *e = NULL;

	cr_assert_eq(sp_put(sp, 0, NULL, "s@z.example", rc2, 2, body, strlen(body), &e), 0);
	return e;
}

static char *path(const char *name)
{
	static char p[192];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static char *entry_path(uint64_t id, const char *ext)
{
	char n[40];

	snprintf(n, sizeof(n), "%016llx.%s", (unsigned long long)id, ext);
	return path(n);
}

Test(spool, put_reopen_read)
{
	struct sp_spool *sp;
	struct sp_entry *e;
	struct sp_stats st;
	uint64_t id;
	void *b;
	size_t l;

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	e = put(sp, "Subject: x\r\n\r\nhello\r\n");
	id = e->id;
	cr_assert_eq(access(entry_path(id, "mail"), F_OK), 0, "on disk when sp_put returns");
	sp_close(sp);

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	sp_get_stats(sp, &st);
	cr_assert_eq(st.loaded, 1);
	cr_assert_eq(st.entries, 1);
	e = sp_find(sp, id);
	cr_assert_not_null(e);
	cr_assert_str_eq(e->from, "s@z.example");
	cr_assert_eq(e->nrcpt, 2);
	cr_assert_str_eq(e->rcpt[1].addr, "b@y.example");
	cr_assert_eq(e->rcpt[0].state, SP_PENDING);
	cr_assert_eq(sp_read_body(sp, e, &b, &l), 0);
	cr_assert_eq(l, strlen("Subject: x\r\n\r\nhello\r\n"));
	cr_assert_eq(memcmp(b, "Subject: x\r\n\r\nhello\r\n", l), 0);
	free(b);
	cr_assert_eq(sp_remove(sp, e), 0);
	cr_assert_neq(access(entry_path(id, "mail"), F_OK), 0);
	sp_close(sp);
}

Test(spool, states_survive_reopen)
{
	struct sp_spool *sp;
	struct sp_entry *e;
	uint64_t id;

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	e = put(sp, "m");
	id = e->id;
	cr_assert_eq(sp_entry_final(e, 0), 0);
	e->rcpt[0].state = SP_DELIVERED;
	e->rcpt[0].code = 250;
	e->rcpt[1].state = SP_FAILED;
	e->rcpt[1].code = 550;
	strcpy(e->rcpt[1].text, "5.1.1 no such user");
	e->dflags = SP_F_ACCEPTED;
	cr_assert_eq(sp_commit(sp, e), 0);
	cr_assert_eq(sp_entry_final(e, 0), 1);
	cr_assert_eq(sp_entry_final(e, 1), 0, "a bounce is still owed");
	sp_close(sp);

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	e = sp_find(sp, id);
	cr_assert_not_null(e);
	cr_assert_eq(e->rcpt[0].state, SP_DELIVERED);
	cr_assert_eq(e->rcpt[1].state, SP_FAILED);
	cr_assert_eq(e->rcpt[1].code, 550);
	cr_assert_str_eq(e->rcpt[1].text, "5.1.1 no such user");
	cr_assert_eq(e->dflags, SP_F_ACCEPTED);
	sp_remove(sp, e);
	sp_close(sp);
	cr_assert_neq(access(entry_path(id, "state"), F_OK), 0, "state removed with it");
}

Test(spool, ids_grow_across_reopen_even_when_emptied)
{
	struct sp_spool *sp;
	struct sp_entry *e;
	uint64_t a, b;

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	cr_assert_eq(sp_peek_id(sp), sp_peek_id(sp));
	a = sp_peek_id(sp);
	e = put(sp, "1");
	cr_assert_eq(e->id, a, "sp_peek_id() names the next id");
	e = put(sp, "2");
	cr_assert_gt(e->id, a);
	sp_remove(sp, sp_find(sp, a));
	sp_remove(sp, e);
	sp_close(sp);
	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	cr_assert_eq(sp_count(sp), 0);
	e = put(sp, "3");
	b = e->id;
	cr_assert_gt(b, a + 1, "an emptied spool does not reuse ids");
	sp_close(sp);
}

Test(spool, bound_entries)
{
	struct sp_cfg cfg = { .max_entries = 3 };
	struct sp_spool *sp;
	struct sp_entry *e;
	struct sp_stats st;

	cr_assert_eq(sp_open(dir, &cfg, &sp), 0);
	put(sp, "1");
	put(sp, "2");
	e = put(sp, "3");
	cr_assert_eq(sp_put(sp, 0, NULL, "", rc2, 1, "4", 1, &e), -ENOSPC);
	sp_get_stats(sp, &st);
	cr_assert_eq(st.refused_entries, 1);
	cr_assert_eq(st.entries, 3);
	sp_remove(sp, sp_at(sp, 0));
	cr_assert_eq(sp_put(sp, 0, NULL, "", rc2, 1, "4", 1, &e), 0, "room again");
	sp_close(sp);
}

Test(spool, bound_bytes)
{
	struct sp_cfg cfg = { .max_bytes = 4096 };
	static char big[3000];
	struct sp_spool *sp;
	struct sp_entry *e;
	struct sp_stats st;

	memset(big, 'x', sizeof(big) - 1);
	cr_assert_eq(sp_open(dir, &cfg, &sp), 0);
	cr_assert_eq(sp_put(sp, 0, NULL, "", rc2, 1, big, sizeof(big), &e), 0);
	cr_assert_eq(sp_put(sp, 0, NULL, "", rc2, 1, big, sizeof(big), &e), -ENOSPC);
	cr_assert_eq(sp_put(sp, 0, NULL, "", rc2, 1, big, 900, &e), 0, "a small one fits");
	sp_get_stats(sp, &st);
	cr_assert_eq(st.refused_bytes, 1);
	cr_assert_leq(st.bytes, 4096);
	sp_close(sp);
}

Test(spool, bad_arguments_refused_and_counted)
{
	const char *empty[] = { "" };
	struct sp_spool *sp;
	struct sp_entry *e;
	struct sp_stats st;

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	cr_assert_eq(sp_put(sp, 0, NULL, "", rc2, 0, "x", 1, &e), -EINVAL);
	cr_assert_eq(sp_put(sp, 0, NULL, "", empty, 1, "x", 1, &e), -EINVAL);
	cr_assert_eq(sp_put(sp, 0, NULL, NULL, rc2, 1, "x", 1, &e), -EINVAL);
	sp_get_stats(sp, &st);
	cr_assert_eq(st.refused_bad, 3);
	cr_assert_eq(st.entries, 0);
	sp_close(sp);
}

/* Cut the file to @keep bytes, or flip the byte at -@keep from the end. */
static void damage(const char *p, long keep, int flip)
{
	struct stat sb;
	int fd = open(p, O_RDWR);

	cr_assert_geq(fd, 0);
	fstat(fd, &sb);
	if (flip) {
		unsigned char c;
		off_t at = sb.st_size - keep;

		cr_assert_eq(pread(fd, &c, 1, at), 1);
		c ^= 0x40;
		cr_assert_eq(pwrite(fd, &c, 1, at), 1);
	} else {
		cr_assert_eq(ftruncate(fd, keep), 0);
	}
	close(fd);
}

static void damaged_case(long keep, int flip)
{
	struct sp_spool *sp;
	struct sp_entry *e;
	struct sp_stats st;
	uint64_t bad, good;
	char aside[160];

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	bad = put(sp, "Subject: torn\r\n\r\nbody body body\r\n")->id;
	good = put(sp, "Subject: fine\r\n\r\nok\r\n")->id;
	sp_close(sp);
	damage(entry_path(bad, "mail"), keep, flip);

	cr_assert_eq(sp_open(dir, NULL, &sp), 0, "a damaged entry does not stop the spool");
	sp_get_stats(sp, &st);
	cr_assert_eq(st.damaged, 1);
	cr_assert_eq(st.loaded, 1);
	cr_assert_null(sp_find(sp, bad));
	e = sp_find(sp, good);
	cr_assert_not_null(e);
	snprintf(aside, sizeof(aside), "%s/damaged/%016llx.mail", dir, (unsigned long long)bad);
	cr_assert_eq(access(aside, F_OK), 0, "kept aside");
	cr_assert_neq(access(entry_path(bad, "mail"), F_OK), 0);
	/* New ids stay above the set-aside one. */
	cr_assert_gt(put(sp, "n")->id, good);
	sp_close(sp);
	/* Not refused twice: it is out of the spool now. */
	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	sp_get_stats(sp, &st);
	cr_assert_eq(st.damaged, 0);
	cr_assert_eq(st.loaded, 2);
	sp_close(sp);
}

Test(spool, torn_body) { damaged_case(70, 0); }
Test(spool, torn_header) { damaged_case(10, 0); }
Test(spool, empty_file) { damaged_case(0, 0); }
Test(spool, flipped_body_byte) { damaged_case(3, 1); }

Test(spool, damaged_state_taken_as_pending)
{
	struct sp_spool *sp;
	struct sp_entry *e;
	struct sp_stats st;
	uint64_t id;

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	e = put(sp, "m");
	id = e->id;
	e->rcpt[0].state = SP_DELIVERED;
	cr_assert_eq(sp_commit(sp, e), 0);
	sp_close(sp);
	damage(entry_path(id, "state"), 2, 1);
	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	sp_get_stats(sp, &st);
	cr_assert_eq(st.state_damaged, 1);
	e = sp_find(sp, id);
	cr_assert_not_null(e, "the mail is kept");
	cr_assert_eq(e->rcpt[0].state, SP_PENDING);
	sp_close(sp);
}

Test(spool, leftover_tmp_removed)
{
	struct sp_spool *sp;
	struct sp_stats st;
	int fd = open(path("0000000000000001.mail.tmp"), O_CREAT | O_WRONLY, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "GWSP", 4), 4);
	close(fd);
	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	sp_get_stats(sp, &st);
	cr_assert_eq(st.tmp_removed, 1);
	cr_assert_eq(st.entries, 0);
	cr_assert_neq(access(path("0000000000000001.mail.tmp"), F_OK), 0);
	sp_close(sp);
}

Test(spool, second_process_refused)
{
	struct sp_spool *a, *b;

	cr_assert_eq(sp_open(dir, NULL, &a), 0);
	cr_assert_eq(sp_open(dir, NULL, &b), -EBUSY);
	sp_close(a);
	cr_assert_eq(sp_open(dir, NULL, &b), 0);
	sp_close(b);
}

Test(spool, tag_lookup)
{
	struct sp_spool *sp;
	struct sp_entry *e;

	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	cr_assert_eq(sp_put(sp, 7, "7.00ab", "", rc2, 1, "x", 1, &e), 0);
	cr_assert_eq(sp_put(sp, 8, "7.00ab", "", rc2, 1, "x", 1, &e), 0);
	cr_assert_eq(sp_find_tag(sp, 8, "7.00ab"), e);
	cr_assert_null(sp_find_tag(sp, 9, "7.00ab"));
	sp_close(sp);
	cr_assert_eq(sp_open(dir, NULL, &sp), 0);
	cr_assert_not_null(sp_find_tag(sp, 7, "7.00ab"));
	sp_close(sp);
}
