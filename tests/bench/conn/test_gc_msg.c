/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart-conn's whole messages (bench/conn/gc_msg.c), which it_large and the
 * message-size benchmark rest on: the size draw (bounds, every size class,
 * log-uniform shares, reproducible per seed), the byte check (every single
 * byte flipped at every offset of small messages and sampled offsets of
 * large ones, one byte short or long, another index, another run), and the
 * id table (ids must grow, lookups of known and unknown ids).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "gc.h"

struct gc_run gc;
volatile sig_atomic_t gc_signalled;

TestSuite(gc_msg);

static void sizes(uint32_t lo, uint32_t hi, bool uniform, uint64_t seed)
{
	gc.o.size_min = lo;
	gc.o.size_max = hi;
	gc.o.size_uniform = uniform;
	gc.o.size_seed = seed;
}

/* 1 B to 1 MiB, log-uniform: in bounds, each of the 20 octaves [2^k,
 * 2^(k+1)) gets about 1/20 of the draws (what makes it_large cover the
 * frame and chunk boundaries), both ends come up. */
Test(gc_msg, log_uniform_octaves)
{
	enum { N = 200000, OCT = 21 };
	uint64_t i, per[OCT] = { 0 }, ones = 0, top = 0;
	double sum = 0;
	uint32_t s;
	int k;

	sizes(1, 1u << 20, false, 11);
	for (i = 0; i < N; i++) {
		s = gc_msg_size(i);
		cr_assert(s >= 1 && s <= 1u << 20, "draw %llu: size %u", (unsigned long long)i, s);
		per[31 - __builtin_clz(s)]++;
		ones += s == 1;
		top += s > (1u << 20) - 4096;
		sum += s;
	}
	for (k = 0; k < 20; k++)
		cr_expect(per[k] > N / 20 * 8 / 10 && per[k] < N / 20 * 12 / 10,
			  "octave 2^%d: %llu of %d", k, (unsigned long long)per[k], N);
	cr_expect(ones > 0 && top > 0, "ends: %llu of size 1, %llu near 1 MiB",
		  (unsigned long long)ones, (unsigned long long)top);
	/* Mean of log-uniform over [1, 2^20]: about 2^20 / ln(2^20) = 75.6 KB. */
	cr_expect(sum / N > 70000 && sum / N < 82000, "mean %.0f", sum / N);
}

Test(gc_msg, reproducible_and_seeded)
{
	uint32_t a[64];
	int i, same = 0;

	sizes(1, 1u << 20, false, 11);
	for (i = 0; i < 64; i++)
		a[i] = gc_msg_size((uint64_t)i);
	for (i = 0; i < 64; i++)
		cr_assert_eq(gc_msg_size((uint64_t)i), a[i]);
	sizes(1, 1u << 20, false, 12);
	for (i = 0; i < 64; i++)
		same += gc_msg_size((uint64_t)i) == a[i];
	cr_expect(same < 8, "seed 12 drew %d of 64 sizes as seed 11 did", same);
}

/* Numbered cases: (min, max, uniform) -> every draw in bounds, the fixed
 * and empty cases exact, min = 0 reachable. */
Test(gc_msg, bounds_table)
{
	static const struct {
		uint32_t lo, hi;
		bool uniform;
	} t[] = {
		{ 0, 0, false },  { 0, 0, true },   { 5, 5, false },     { 1024, 1024, true },
		{ 0, 3, false },  { 0, 3, true },   { 1, 2, false },     { 1152, 1154, false },
		{ 1, 1u << 20, true }, { 1u << 26, 1u << 26, false }, { 0, 1u << 26, false },
	};
	unsigned c, i;
	bool lo_seen, hi_seen;
	uint32_t s;

	for (c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		sizes(t[c].lo, t[c].hi, t[c].uniform, 3);
		lo_seen = hi_seen = false;
		for (i = 0; i < 20000; i++) {
			s = gc_msg_size(i);
			cr_assert(s >= t[c].lo && s <= t[c].hi, "case %u: size %u", c, s);
			lo_seen |= s == t[c].lo;
			hi_seen |= s == t[c].hi;
		}
		if (t[c].hi - t[c].lo < 4)
			cr_expect(lo_seen && hi_seen, "case %u: both ends drawn", c);
	}
}

static enum gc_check check_len(uint8_t *p, uint32_t len, uint32_t index)
{
	sizes(len, len, false, 1);
	return gc_msg_check(p, len, 7, index);
}

/* Every length 0..64 and around the single-frame and chunk sizes: the
 * message checks out; every byte flipped (each offset below 4 KiB, 512
 * offsets spread over larger ones) is caught; so are another index, one
 * byte less, and (from the header's size on) another run. */
Test(gc_msg, byte_identical)
{
	static const uint32_t big[] = { 1152, 1153, 1154, 2305, 4096, 65536, 1u << 20 };
	uint32_t lens[65 + sizeof(big) / sizeof(big[0])], n = 0, i, len, off, step;
	uint8_t *p = malloc((1u << 20) + 1);

	cr_assert(p);
	gc.run_id = 0x1234;
	for (i = 0; i <= 64; i++)
		lens[n++] = i;
	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		lens[n++] = big[i];
	for (i = 0; i < n; i++) {
		len = lens[i];
		sizes(len, len, false, 1);
		gc_msg_build(p, len, 7, 99);
		cr_assert_eq(check_len(p, len, 99), GC_OK, "len %u", len);
		if (len == 0)
			continue;
		step = len <= 4096 ? 1 : len / 512;
		for (off = 0; off < len; off += step) {
			p[off] ^= 0x01;
			/* The header's run id: a message of another run. */
			if (len >= GC_MSG_HDR_LEN && off >= 4 && off < 8)
				cr_assert_eq(check_len(p, len, 99), GC_STALE, "len %u, byte %u",
					     len, off);
			else
				cr_assert_eq(check_len(p, len, 99), GC_CORRUPT, "len %u, byte %u",
					     len, off);
			p[off] ^= 0x01;
		}
		if (len >= 8) /* 1..7 bytes of another key may collide by chance: not asserted */
			cr_expect_eq(check_len(p, len, 98), GC_CORRUPT, "len %u: index 98", len);
		sizes(len, len, false, 1);
		cr_expect_eq(gc_msg_check(p, len - 1, 7, 99), GC_CORRUPT, "len %u: one short", len);
		gc.run_id = 0x4321;
		cr_expect_eq(check_len(p, len, 99), len >= GC_MSG_HDR_LEN ? GC_STALE : GC_CORRUPT,
			     "len %u: another run", len);
		gc.run_id = 0x1234;
	}
	free(p);
}

Test(gc_msg, id_table)
{
	_Atomic uint64_t ids[8];

	memset(&gc, 0, sizeof(gc));
	gc.msg_ids = ids;
	gc.o.count = 8;
	cr_assert(gc_msg_publish(0, 5));
	cr_assert(gc_msg_publish(1, 6));
	cr_assert(gc_msg_publish(2, 906)); /* after a group of 900 chunks */
	cr_assert_not(gc_msg_publish(3, 906), "an id that did not grow is refused");
	cr_assert_not(gc_msg_publish(4, 907), "an index out of order is refused");
	cr_assert(gc_msg_publish(3, 1u << 30));
	cr_expect_eq(gc_msg_index(5, false), 0);
	cr_expect_eq(gc_msg_index(6, false), 1);
	cr_expect_eq(gc_msg_index(906, false), 2);
	cr_expect_eq(gc_msg_index(1u << 30, false), 3);
	cr_expect_eq(gc_msg_index(7, false), -1);
	cr_expect_eq(gc_msg_index(4, false), -1);
	cr_expect_eq(gc_msg_index(UINT64_MAX, false), -1);
	/* Waiting for an id above the last published ends once the sender is
	 * done. */
	atomic_store(&gc.sender_done, true);
	cr_expect_eq(gc_msg_index(2000, true), -1);
}
