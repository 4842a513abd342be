/* SPDX-License-Identifier: BSD-3-Clause */
/* Custody queues: bounds, link seq assignment, cumulative and selective
 * ACKs, refusal of ACKs for seqs never sent, and that every mbuf goes back
 * to the pool (frees on ACK are in bulk); the body sum taken at put. */
#include <criterion/criterion.h>
#include <rte_ip.h>

#include <gwart/wire.h>

#include "custody.h"
#include "eal.h"

TestSuite(custody, .init = test_eal_up, .fini = test_eal_down);

static struct rte_mbuf *mb(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

	cr_assert_not_null(m);
	return m;
}

static void send_all(struct dp_custody *c)
{
	c->next_tx = c->tail;
}

Test(custody, bound_and_seqs)
{
	struct dp_custody *c = dp_custody_create(8, 1, SOCKET_ID_ANY);
	unsigned avail = rte_mempool_avail_count(test_pool);
	struct rte_mbuf *extra = mb();
	uint64_t s;

	cr_assert_not_null(c);
	for (s = 1; s <= 5; s++)
		cr_assert_eq(dp_custody_put(c, mb(), 5), s, "link seqs are 1, 2, ...");
	cr_assert_eq(dp_custody_put(c, extra, 5), 0, "limit 5 reached: BUSY");
	cr_assert_eq(c->held, 5);
	/* A limit above the ring size is clamped to it. */
	for (s = 6; s <= 8; s++)
		cr_assert_eq(dp_custody_put(c, mb(), 1000), s);
	cr_assert_eq(dp_custody_put(c, extra, 1000), 0);
	rte_pktmbuf_free(extra);
	cr_assert_eq(dp_custody_free(c), 8);
	cr_assert_eq(rte_mempool_avail_count(test_pool), avail, "every mbuf returned");
}

Test(custody, invalid_create)
{
	cr_assert_null(dp_custody_create(0, 1, SOCKET_ID_ANY));
	cr_assert_null(dp_custody_create(6, 1, SOCKET_ID_ANY));
	cr_assert_null(dp_custody_create(8, 0, SOCKET_ID_ANY));
}

struct ack_case {
	int line;
	uint64_t cum, base, bitmap;
	int expect;          /* newly acked, or -1 refused */
	uint64_t head_after;
	uint32_t held_after;
};

/* 10 messages 1..10, all transmitted; cases apply in sequence. */
static const struct ack_case ack_cases[] = {
	{__LINE__, 0, 0, 0, 0, 1, 10},            /* empty ACK */
	{__LINE__, 11, 0, 0, -1, 1, 10},          /* cum beyond what was sent */
	{__LINE__, 0, 1, 1ull << 10, -1, 1, 10},  /* bitmap reaches seq 11 */
	{__LINE__, 0, 0, 1, -1, 1, 10},           /* base 0 with a bitmap */
	{__LINE__, 2, 0, 0, 2, 3, 8},             /* cumulative 1..2 */
	{__LINE__, 2, 0, 0, 0, 3, 8},             /* idempotent */
	{__LINE__, 2, 5, 0x5, 2, 3, 6},           /* selective 5 and 7: holes */
	{__LINE__, 1, 5, 0x5, 0, 3, 6},           /* older cumulative, repeat bits */
	{__LINE__, 4, 0, 0, 2, 6, 4},             /* fills 3,4; head skips acked 5 */
	{__LINE__, 6, 7, 0x7, 3, 10, 1},          /* 6, (7), 8, 9 */
	{__LINE__, 10, 0, 0, 1, 11, 0},           /* everything */
};

Test(custody, ack_table)
{
	struct dp_custody *c = dp_custody_create(16, 1, SOCKET_ID_ANY);
	unsigned avail = rte_mempool_avail_count(test_pool);
	unsigned i;

	for (i = 0; i < 10; i++)
		dp_custody_put(c, mb(), 16);
	send_all(c);
	for (i = 0; i < sizeof(ack_cases) / sizeof(ack_cases[0]); i++) {
		const struct ack_case *k = &ack_cases[i];

		cr_assert_eq(dp_custody_ack(c, k->cum, k->base, k->bitmap, NULL), k->expect,
			     "line %d: result", k->line);
		cr_assert_eq(c->head, k->head_after, "line %d: head %lu", k->line, c->head);
		cr_assert_eq(c->held, k->held_after, "line %d: held %u", k->line, c->held);
	}
	cr_assert(dp_custody_empty(c));
	cr_assert_eq(rte_mempool_avail_count(test_pool), avail, "every mbuf back in the pool");
	cr_assert_eq(dp_custody_free(c), 0);
}

Test(custody, unsent_never_acked)
{
	struct dp_custody *c = dp_custody_create(16, 1, SOCKET_ID_ANY);
	unsigned i;

	for (i = 0; i < 4; i++)
		dp_custody_put(c, mb(), 16);
	c->next_tx = 3; /* 1, 2 sent; 3, 4 queued */
	cr_assert_eq(dp_custody_ack(c, 3, 0, 0, NULL), -1, "3 was never sent");
	cr_assert_eq(dp_custody_ack(c, 0, 1, 0x4, NULL), -1, "bit for 3 was never sent");
	cr_assert_eq(dp_custody_ack(c, 2, 0, 0, NULL), 2);
	cr_assert_eq(c->head, 3, "head stops at the first unsent");
	cr_assert_eq(dp_custody_inflight(c), 0);
	cr_assert_eq(dp_custody_free(c), 2);
}

Test(custody, wraps_many_times)
{
	struct dp_custody *c = dp_custody_create(4, 1, SOCKET_ID_ANY);
	unsigned avail = rte_mempool_avail_count(test_pool);
	uint64_t s;

	for (s = 1; s <= 10000; s++) {
		cr_assert_eq(dp_custody_put(c, mb(), 4), s);
		c->next_tx = c->tail;
		if (s % 4 == 0)
			cr_assert_eq(dp_custody_ack(c, s, 0, 0, NULL), 4);
	}
	cr_assert(dp_custody_empty(c));
	cr_assert_eq(rte_mempool_avail_count(test_pool), avail);
	dp_custody_free(c);
}

Test(custody, first_seq_carries_over)
{
	struct dp_custody *c = dp_custody_create(8, 1000, SOCKET_ID_ANY);

	cr_assert_eq(dp_custody_put(c, mb(), 8), 1000);
	c->next_tx = c->tail;
	cr_assert_eq(dp_custody_ack(c, 999, 0, 0, NULL), 0, "below head: nothing");
	cr_assert_eq(dp_custody_ack(c, 1000, 0, 0, NULL), 1);
	dp_custody_free(c);
}

/* Karn's rule: only messages transmitted once give round-trip samples, and
 * the sample is the newest such one acknowledged. */
Test(custody, karn_sample)
{
	struct dp_custody *c = dp_custody_create(8, 1, SOCKET_ID_ANY);
	uint64_t tx;
	unsigned i;

	for (i = 0; i < 4; i++)
		dp_custody_put(c, mb(), 8);
	c->next_tx = c->tail;
	for (i = 0; i < 4; i++) {
		dp_custody_slot(c, 1 + i)->tx_tsc = 100 + i;
		dp_custody_slot(c, 1 + i)->tries = 1;
	}
	dp_custody_slot(c, 2)->tries = 2; /* retransmitted: ambiguous */
	cr_assert_eq(dp_custody_ack(c, 2, 0, 0, &tx), 2);
	cr_assert_eq(tx, 100, "seq 2 was retransmitted, seq 1 gives the sample");
	dp_custody_slot(c, 4)->tries = 3;
	cr_assert_eq(dp_custody_ack(c, 4, 0, 0, &tx), 2);
	cr_assert_eq(tx, 102, "seq 3 (tx 102), not the retransmitted seq 4");
	cr_assert_eq(dp_custody_ack(c, 4, 0, 0, &tx), 0);
	cr_assert_eq(tx, 0, "nothing newly acknowledged: no sample");
	dp_custody_free(c);
}

/*
 * ACKs whose fields sit at the edges of the sequence space, for a
 * destination holding custody (1..5 sent, 6..10 queued). Regression: base
 * 0xFFFFFFFFFFFFFFC1 with every bit set named seqs 2^64 - 63 .. 2^64 - 1 and
 * then, wrapping, 0: the walk freed slots never transmitted, and egress
 * later sent or failed over a freed slot (SIGSEGV). Each is refused as a
 * whole (dp_egress_ack() counts it BAD_ACK): nothing freed, head and held
 * unchanged, every queued slot still holds its message.
 */
Test(custody, hostile_acks_free_nothing)
{
	static const struct {
		uint64_t cum, base, bitmap;
	} bad[] = {
	    {0, 0xFFFFFFFFFFFFFFC1ull, ~0ull},
	    {0, 0xFFFFFFFFFFFFFFC0ull, ~0ull},
	    {0, UINT64_MAX, 1},
	    {0, UINT64_MAX, ~0ull},
	    {UINT64_MAX, 0, 0},
	    {UINT64_MAX, 1, ~0ull},
	    {UINT64_MAX - 1, 0, 0},
	    {1ull << 63, 0, 0},
	    {0, 1ull << 63, 1},
	    {0, 1, ~0ull},          /* 1..64: reaches the queued 6.. */
	    {0, 6, 1},              /* the first queued seq */
	    {6, 0, 0},              /* cumulative over a queued seq */
	};
	struct dp_custody *c = dp_custody_create(16, 1, SOCKET_ID_ANY);
	unsigned avail, i;
	uint64_t s;

	for (i = 0; i < 10; i++)
		dp_custody_put(c, mb(), 16);
	c->next_tx = 6;
	avail = rte_mempool_avail_count(test_pool);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(dp_custody_ack(c, bad[i].cum, bad[i].base, bad[i].bitmap, NULL), -1,
			     "case %u refused", i);
		cr_assert_eq(c->head, 1, "case %u: head", i);
		cr_assert_eq(c->held, 10, "case %u: held", i);
		for (s = 1; s <= 10; s++)
			cr_assert_not_null(dp_custody_slot(c, s)->m, "case %u: slot %lu freed", i, s);
	}
	cr_assert_eq(rte_mempool_avail_count(test_pool), avail, "no mbuf freed");
	/* The honest ACK still works afterwards, and a repeat names nothing. */
	cr_assert_eq(dp_custody_ack(c, 5, 0, 0, NULL), 5);
	cr_assert_eq(dp_custody_ack(c, 5, 6, 0, NULL), 0, "nothing new: valid, ignored");
	cr_assert_eq(c->head, 6);
	for (s = 6; s <= 10; s++)
		cr_assert_not_null(dp_custody_slot(c, s)->m, "queued slot %lu kept", s);
	cr_assert_eq(dp_custody_free(c), 5);
}

/* The same ACKs against custody at the top of a router's link seq space
 * (base (2^30 - 1) * 2^32 + 1, the highest a router process starts at). */
Test(custody, hostile_acks_high_base)
{
	const uint64_t first = ((1ull << 30) - 1) * (1ull << 32) + 1;
	struct dp_custody *c = dp_custody_create(16, first, SOCKET_ID_ANY);
	unsigned i;

	for (i = 0; i < 4; i++)
		dp_custody_put(c, mb(), 16);
	c->next_tx = first + 2;
	cr_assert_eq(dp_custody_ack(c, 0, 0xFFFFFFFFFFFFFFC1ull, ~0ull, NULL), -1);
	cr_assert_eq(dp_custody_ack(c, UINT64_MAX, 0, 0, NULL), -1);
	cr_assert_eq(dp_custody_ack(c, 0, first, 0x4, NULL), -1, "first + 2 never sent");
	cr_assert_eq(c->held, 4);
	cr_assert_eq(dp_custody_ack(c, 0, first - 61, ~0ull, NULL), -1, "top bit is first + 2: unsent");
	cr_assert_eq(dp_custody_ack(c, 0, first - 62, ~0ull, NULL), 2, "first, first + 1");
	cr_assert_eq(c->head, first + 2);
	cr_assert_eq(dp_custody_free(c), 2);
}

/* Custody sums each frame's body once, when it takes it (what every
 * transmission keeps; api/pkt.h), bounded by the frame's own length and by
 * what the mbuf holds. */
Test(custody, body_sum_at_put)
{
	struct dp_custody *c = dp_custody_create(8, 1, SOCKET_ID_ANY);
	static const uint16_t lens[] = {GW_HDR_LEN + GW_TRAILER_LEN, 101, 150, 1001};
	unsigned avail = rte_mempool_avail_count(test_pool), i;

	cr_assert_not_null(c);
	for (i = 0; i < RTE_DIM(lens); i++) {
		struct rte_mbuf *m = mb();
		uint16_t len = lens[i], k;
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(len + 5)); /* + padding */
		uint64_t s;

		cr_assert_not_null(p);
		for (k = 0; k < len + 5; k++)
			p[k] = (uint8_t)(k * 7 + i);
		p[4] = (uint8_t)(len >> 8);
		p[5] = (uint8_t)len;
		s = dp_custody_put(c, m, 8);
		cr_assert_neq(s, 0);
		cr_assert_eq(dp_custody_slot(c, s)->csum,
			     len > GW_HDR_LEN + GW_TRAILER_LEN
				     ? rte_raw_cksum(p + GW_HDR_LEN,
						     len - GW_HDR_LEN - GW_TRAILER_LEN)
				     : 0,
			     "length %u", len);
	}
	/* An empty mbuf (as the tests above put): nothing read, sum 0. */
	cr_assert_eq(dp_custody_slot(c, dp_custody_put(c, mb(), 8))->csum, 0);
	cr_assert_eq(dp_custody_free(c), RTE_DIM(lens) + 1);
	cr_assert_eq(rte_mempool_avail_count(test_pool), avail);
}
