/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The delivered-Id log (connectors/smtp/delivered.c): records found again
 * after a reopen, per origin; the newest receipt of an Id wins; the count
 * horizon (the oldest forgotten, counted, at exactly max_records);
 * compaction keeping exactly the live records; a torn last record cut off
 * and counted; a damaged middle record set aside and counted; bad lengths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "delivered.h"

static char dir[64], file[128];

static void setup(void)
{
	strcpy(dir, "/tmp/test_delivered.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/delivered.log", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		cr_log_warn("cannot remove %s", dir);
}

TestSuite(delivered, .init = setup, .fini = teardown);

static void add(struct dl_log *dl, uint32_t origin, unsigned i, const char *receipt)
{
	char id[32];

	snprintf(id, sizeof(id), "%u.%08x", origin, i);
	cr_assert_eq(dl_add(dl, origin, id, receipt, strlen(receipt)), 0);
}

static int has(struct dl_log *dl, uint32_t origin, unsigned i, const char *receipt)
{
	char id[32];
	const void *r;
	size_t len;

	snprintf(id, sizeof(id), "%u.%08x", origin, i);
	r = dl_find(dl, origin, id, &len);
	if (!r)
		return 0;
	if (receipt)
		cr_assert(len == strlen(receipt) && !memcmp(r, receipt, len), "receipt of %s", id);
	return 1;
}

static off_t fsize(void)
{
	struct stat sb;

	cr_assert_eq(stat(file, &sb), 0);
	return sb.st_size;
}

Test(delivered, reopen_per_origin)
{
	struct dl_log *dl;
	struct dl_stats st;

	cr_assert_eq(dl_open(file, 10, &dl), 0);
	add(dl, 7, 1, "GWRCPT1 a");
	add(dl, 8, 1, "GWRCPT1 b");
	cr_assert(has(dl, 7, 1, "GWRCPT1 a"));
	dl_close(dl);
	cr_assert_eq(dl_open(file, 10, &dl), 0);
	cr_assert(has(dl, 7, 1, "GWRCPT1 a"));
	cr_assert(has(dl, 8, 1, "GWRCPT1 b"));
	cr_assert_not(has(dl, 9, 1, NULL), "another origin's Id is another Id");
	cr_assert_not(dl_find(dl, 8, "7.00000001", &(size_t){0}));
	dl_get_stats(dl, &st);
	cr_assert_eq(st.records, 2);
	dl_close(dl);
}

Test(delivered, newest_receipt_wins)
{
	struct dl_log *dl;
	struct dl_stats st;

	cr_assert_eq(dl_open(file, 10, &dl), 0);
	add(dl, 1, 5, "old");
	add(dl, 1, 5, "new");
	cr_assert(has(dl, 1, 5, "new"));
	dl_get_stats(dl, &st);
	cr_assert_eq(st.records, 1);
	dl_close(dl);
	cr_assert_eq(dl_open(file, 10, &dl), 0);
	cr_assert(has(dl, 1, 5, "new"));
	dl_close(dl);
}

Test(delivered, horizon_exact)
{
	struct dl_log *dl;
	struct dl_stats st;

	cr_assert_eq(dl_open(file, 4, &dl), 0);
	for (unsigned i = 0; i < 4; i++)
		add(dl, 1, i, "r");
	for (unsigned i = 0; i < 4; i++)
		cr_assert(has(dl, 1, i, "r"), "all max_records kept");
	add(dl, 1, 4, "r");
	cr_assert_not(has(dl, 1, 0, NULL), "the oldest forgotten");
	cr_assert(has(dl, 1, 1, "r"));
	cr_assert(has(dl, 1, 4, "r"));
	dl_get_stats(dl, &st);
	cr_assert_eq(st.evicted, 1);
	cr_assert_eq(st.records, 4);
	dl_close(dl);
	/* The same horizon after a reopen (the file holds 5 records). */
	cr_assert_eq(dl_open(file, 4, &dl), 0);
	cr_assert_not(has(dl, 1, 0, NULL));
	for (unsigned i = 1; i < 5; i++)
		cr_assert(has(dl, 1, i, "r"));
	dl_close(dl);
}

Test(delivered, compaction_bounds_the_file)
{
	struct dl_log *dl;
	struct dl_stats st;
	off_t max_seen = 0;

	cr_assert_eq(dl_open(file, 8, &dl), 0);
	for (unsigned i = 0; i < 100; i++) {
		add(dl, 3, i, "receipt");
		if (fsize() > max_seen)
			max_seen = fsize();
	}
	dl_get_stats(dl, &st);
	cr_assert_geq(st.compactions, 5);
	cr_assert_leq(st.file_records, 16);
	cr_assert_eq(st.records, 8);
	cr_assert_eq(st.evicted, 92);
	dl_close(dl);
	cr_assert_lt(max_seen, 16 * 64, "the file stays under 2 x max_records records");
	cr_assert_eq(dl_open(file, 8, &dl), 0);
	for (unsigned i = 92; i < 100; i++)
		cr_assert(has(dl, 3, i, "receipt"), "live record %u kept by compaction", i);
	cr_assert_not(has(dl, 3, 91, NULL));
	dl_close(dl);
}

Test(delivered, torn_tail_cut)
{
	struct dl_log *dl;
	struct dl_stats st;
	off_t full;

	cr_assert_eq(dl_open(file, 10, &dl), 0);
	add(dl, 1, 1, "one");
	add(dl, 1, 2, "two");
	dl_close(dl);
	full = fsize();
	cr_assert_eq(truncate(file, full - 3), 0);
	cr_assert_eq(dl_open(file, 10, &dl), 0);
	dl_get_stats(dl, &st);
	cr_assert_eq(st.torn_tail, 1);
	cr_assert(has(dl, 1, 1, "one"));
	cr_assert_not(has(dl, 1, 2, NULL));
	/* Appends continue after the good part. */
	add(dl, 1, 3, "three");
	dl_close(dl);
	cr_assert_eq(dl_open(file, 10, &dl), 0);
	dl_get_stats(dl, &st);
	cr_assert_eq(st.torn_tail, 0);
	cr_assert(has(dl, 1, 1, "one"));
	cr_assert(has(dl, 1, 3, "three"));
	dl_close(dl);
}

Test(delivered, damaged_middle_set_aside)
{
	struct dl_log *dl;
	struct dl_stats st;
	char aside[160];
	unsigned char c;
	int fd;

	cr_assert_eq(dl_open(file, 10, &dl), 0);
	add(dl, 1, 1, "one");
	add(dl, 1, 2, "two");
	add(dl, 1, 3, "three");
	dl_close(dl);
	/* A byte of the second record's receipt. */
	fd = open(file, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, 33 + 16 + 10 + 1), 1);
	c ^= 1;
	cr_assert_eq(pwrite(fd, &c, 1, 33 + 16 + 10 + 1), 1);
	close(fd);
	cr_assert_eq(dl_open(file, 10, &dl), 0);
	dl_get_stats(dl, &st);
	cr_assert_eq(st.damaged, 1);
	cr_assert(has(dl, 1, 1, "one"));
	cr_assert_not(has(dl, 1, 2, NULL));
	cr_assert_not(has(dl, 1, 3, NULL), "what follows the damage is set aside");
	snprintf(aside, sizeof(aside), "%s.damaged", file);
	cr_assert_eq(access(aside, F_OK), 0);
	dl_close(dl);
}

Test(delivered, bad_lengths)
{
	char id[300];
	struct dl_log *dl;
	struct dl_stats st;

	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = 0;
	cr_assert_eq(dl_open(file, 10, &dl), 0);
	cr_assert_eq(dl_add(dl, 1, "", "r", 1), -EINVAL);
	cr_assert_eq(dl_add(dl, 1, id, "r", 1), -EINVAL);
	cr_assert_eq(dl_add(dl, 1, "x", NULL, DL_RECEIPT_MAX + 1), -EINVAL);
	dl_get_stats(dl, &st);
	cr_assert_eq(st.refused_bad, 3);
	cr_assert_eq(st.records, 0);
	dl_close(dl);
	cr_assert_eq(fsize(), 0);
}
