/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The chunk extension of DATA frames (PROTOCOL.md 3.1.1): gw_chunk_check()'s
 * rules around every boundary, the parser applying exactly them, the
 * encoder refusing what the parser refuses, and a rewrite keeping the flag.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include <gwart/wire.h>

static const struct gw_hdr_args H = { 0, 7, 3, 100, 0 };
static uint8_t payload[GW_PAYLOAD_MAX];

struct ccase {
	int line;
	uint64_t group;
	uint32_t total, count, index, chunk_len;
	uint64_t oseq;
	uint32_t plen;
	int ok;
};

#define U64MAX UINT64_MAX
static const struct ccase ccases[] = {
	/* the smallest group: 2 bytes in 2 chunks of 1 */
	{ __LINE__, 1, 2, 2, 0, 1, 1, 1, 1 },
	{ __LINE__, 1, 2, 2, 1, 1, 2, 1, 1 },
	/* a message that would fit one chunk is not a group (count 1) */
	{ __LINE__, 1, 1, 1, 0, 1, 1, 1, 0 },
	{ __LINE__, 1, 100, 1, 0, 100, 1, 100, 0 },
	/* count must be exactly ceil(total / chunk_len) */
	{ __LINE__, 5, 10, 4, 0, 3, 5, 3, 1 },
	{ __LINE__, 5, 10, 4, 3, 3, 8, 1, 1 },
	{ __LINE__, 5, 10, 5, 0, 3, 5, 3, 0 },
	{ __LINE__, 5, 10, 3, 0, 3, 5, 3, 0 },
	{ __LINE__, 5, 9, 3, 2, 3, 7, 3, 1 }, /* last chunk full */
	/* the last chunk's length: total - (count - 1) * chunk_len */
	{ __LINE__, 5, 10, 4, 3, 3, 8, 2, 0 },
	{ __LINE__, 5, 10, 4, 3, 3, 8, 3, 0 },
	{ __LINE__, 5, 10, 4, 2, 3, 7, 1, 0 }, /* a middle chunk short */
	{ __LINE__, 5, 10, 4, 1, 3, 6, 3, 1 },
	/* index within count */
	{ __LINE__, 5, 10, 4, 4, 3, 9, 1, 0 },
	{ __LINE__, 5, 10, 4, UINT32_MAX, 3, 5, 1, 0 },
	/* origin_seq = group + index */
	{ __LINE__, 5, 10, 4, 1, 3, 5, 3, 0 },
	{ __LINE__, 5, 10, 4, 1, 3, 7, 3, 0 },
	{ __LINE__, 0, 10, 4, 0, 3, 0, 3, 0 },  /* group 0 */
	{ __LINE__, 0, 10, 4, 1, 3, 1, 3, 0 },  /* seq 1, index 1: group 0 */
	/* the group's last seq must not pass 2^64 - 1 */
	{ __LINE__, U64MAX - 3, 10, 4, 0, 3, U64MAX - 3, 3, 1 },
	{ __LINE__, U64MAX - 3, 10, 4, 3, 3, U64MAX, 1, 1 },
	{ __LINE__, U64MAX - 2, 10, 4, 0, 3, U64MAX - 2, 3, 0 },
	{ __LINE__, U64MAX, 10, 4, 0, 3, U64MAX, 3, 0 },
	/* chunk_len 1..GW_PAYLOAD_MAX */
	{ __LINE__, 5, 10, 0, 0, 0, 5, 0, 0 },
	{ __LINE__, 5, 2 * GW_PAYLOAD_MAX, 2, 0, GW_PAYLOAD_MAX, 5, GW_PAYLOAD_MAX, 1 },
	{ __LINE__, 5, 2 * GW_PAYLOAD_MAX + 2, 2, 0, GW_PAYLOAD_MAX + 1, 5, GW_PAYLOAD_MAX + 1, 0 },
	/* total up to GW_MSG_MAX, in as few or as many chunks as it likes */
	{ __LINE__, 9, GW_MSG_MAX, GW_MSG_MAX / 8192, 8191, 8192, 9 + 8191, 8192, 1 },
	{ __LINE__, 9, GW_MSG_MAX + 1, GW_MSG_MAX / 8192 + 1, 8192, 8192, 9 + 8192, 1, 0 },
	{ __LINE__, 9, GW_MSG_MAX, GW_MSG_MAX, GW_MSG_MAX - 1, 1, 9 + GW_MSG_MAX - 1, 1, 1 },
	{ __LINE__, 9, UINT32_MAX, 524288, 0, 8192, 9, 8192, 0 },
	/* 1 MiB in 1,153-byte chunks (the dev host's payload limit) */
	{ __LINE__, 77, 1048576, 910, 909, 1153, 77 + 909, 1048576 - 909 * 1153, 1 },
};

Test(chunk, check_table)
{
	for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		struct gw_chunk_info ck = { c->group, c->total, c->count, c->index, c->chunk_len };
		int rc = gw_chunk_check(&ck, c->oseq, (uint16_t)c->plen);

		/* payload lengths above u16 cannot be asked of the check */
		if (c->plen > UINT16_MAX)
			continue;
		cr_assert_eq(rc == 0, c->ok, "line %d: want %s, got %d", c->line,
			     c->ok ? "valid" : "invalid", rc);
	}
}

/* Every row that fits a frame, encoded and parsed: the parser agrees with
 * gw_chunk_check() and the encoder refuses exactly what both refuse. */
Test(chunk, parser_and_encoder_follow_the_check)
{
	static uint8_t b[GW_FRAME_MAX + 64];

	for (size_t i = 0; i < sizeof(ccases) / sizeof(ccases[0]); i++) {
		const struct ccase *c = &ccases[i];
		struct gw_chunk_info ck = { c->group, c->total, c->count, c->index, c->chunk_len };
		struct gw_frame f;
		size_t n;

		if (c->plen > GW_PAYLOAD_MAX || c->oseq == 0)
			continue;
		n = gw_wire_encode_chunk(b, sizeof(b), &H, 7, c->oseq, "smtp:a@b", 8, payload,
					 (uint16_t)c->plen, &ck);
		cr_assert_eq(n != 0, c->ok, "line %d: encoder", c->line);
		if (!c->ok) {
			/* The same bytes forced onto the wire: the parser
			 * refuses them as BAD_CHUNK. */
			struct gw_chunk_info ok = { 1, 2, 2, 0, 1 };
			uint8_t *x;

			n = gw_wire_encode_chunk(b, sizeof(b), &H, 7, 1, "smtp:a@b", 8, payload, 1,
						 &ok);
			cr_assert_neq(n, 0);
			/* Make room: rebuild with the row's payload length
			 * through a plain DATA, then flag it by hand. */
			n = gw_wire_encode_data(b, sizeof(b), &H, 7, c->oseq, "smtp:a@b", 8,
						payload, (uint16_t)c->plen);
			cr_assert_neq(n, 0, "line %d", c->line);
			memmove(b + n - GW_TRAILER_LEN + GW_CHUNK_EXT_LEN, b + n - GW_TRAILER_LEN,
				GW_TRAILER_LEN);
			x = b + n - GW_TRAILER_LEN;
			n += GW_CHUNK_EXT_LEN;
			b[4] = (uint8_t)(n >> 8);
			b[5] = (uint8_t)n;
			b[7] |= GW_F_CHUNK;
			for (int k = 0; k < 8; k++)
				x[k] = (uint8_t)(c->group >> (56 - 8 * k));
			for (int k = 0; k < 4; k++) {
				x[8 + k] = (uint8_t)(c->total >> (24 - 8 * k));
				x[12 + k] = (uint8_t)(c->count >> (24 - 8 * k));
				x[16 + k] = (uint8_t)(c->index >> (24 - 8 * k));
				x[20 + k] = (uint8_t)(c->chunk_len >> (24 - 8 * k));
			}
			cr_assert_eq(gw_wire_parse(b, n, &f), GW_WIRE_BAD_CHUNK, "line %d: %s",
				     c->line, gw_wire_status_name(gw_wire_parse(b, n, &f)));
			continue;
		}
		cr_assert_eq(n, GW_CHUNK_DATA_LEN(8, c->plen), "line %d", c->line);
		cr_assert_eq(gw_wire_parse(b, n, &f), GW_WIRE_OK, "line %d", c->line);
		cr_assert(f.flags & GW_F_CHUNK);
		cr_assert_eq(f.u.data.origin_seq, c->oseq);
		cr_assert_eq(f.u.data.payload_len, c->plen);
		cr_assert_eq(f.u.data.chunk.group, c->group, "line %d", c->line);
		cr_assert_eq(f.u.data.chunk.total_len, c->total);
		cr_assert_eq(f.u.data.chunk.count, c->count);
		cr_assert_eq(f.u.data.chunk.index, c->index);
		cr_assert_eq(f.u.data.chunk.chunk_len, c->chunk_len);
		cr_assert_eq(gw_chunk_payload_len(&f.u.data.chunk, c->index), c->plen);
	}
}

/* A chunk's length counts its extension: one byte more or less, or the
 * flag without the extension (a plain DATA flagged), is BAD_LENGTH; the
 * flag on any other type is BAD_FLAGS, and no encoder writes it there. */
Test(chunk, lengths_and_flag_placement)
{
	uint8_t b[GW_FRAME_MAX + 64];
	struct gw_chunk_info ck = { 10, 5, 2, 1, 3 };
	struct gw_hdr_args h = H;
	struct gw_frame f;
	size_t n = gw_wire_encode_chunk(b, sizeof(b), &H, 7, 11, "s:x", 3, payload, 2, &ck);

	cr_assert_eq(n, GW_CHUNK_DATA_LEN(3, 2));
	cr_assert_eq(gw_wire_parse(b, n, &f), GW_WIRE_OK);
	cr_assert_eq(gw_wire_parse(b, n - 1, &f), GW_WIRE_TRUNCATED);
	b[5]--;
	cr_assert_eq(gw_wire_parse(b, n - 1, &f), GW_WIRE_BAD_LENGTH);
	b[5]++;
	n = gw_wire_encode_data(b, sizeof(b), &H, 7, 11, "s:x", 3, payload, 2);
	b[7] |= GW_F_CHUNK;
	cr_assert_eq(gw_wire_parse(b, n, &f), GW_WIRE_BAD_LENGTH);
	h.flags = GW_F_CHUNK;
	cr_assert_eq(gw_wire_encode_data(b, sizeof(b), &h, 7, 11, "s:x", 3, payload, 2), 0);
	cr_assert_eq(gw_wire_encode_keepalive(b, sizeof(b), &h), 0);
	cr_assert_eq(gw_wire_encode_ack(b, sizeof(b), &h, 1, 1), 0);
	h.flags = 0;
	n = gw_wire_encode_ack(b, sizeof(b), &h, 1, 1);
	b[7] |= GW_F_CHUNK;
	cr_assert_eq(gw_wire_parse(b, n, &f), GW_WIRE_BAD_FLAGS);
	/* too small a buffer */
	cr_assert_eq(gw_wire_encode_chunk(b, GW_CHUNK_DATA_LEN(3, 2) - 1, &H, 7, 11, "s:x", 3,
					  payload, 2, &ck), 0);
	cr_assert_eq(gw_wire_encode_chunk(b, sizeof(b), &H, 7, 11, "s:x", 3, payload, 2, NULL), 0);
}

/* The router forwards a chunk with gw_wire_rewrite_hdr(): the flag and the
 * extension survive whatever flags the new header asks for. */
Test(chunk, rewrite_keeps_the_chunk)
{
	uint8_t b[GW_FRAME_MAX], orig[GW_FRAME_MAX];
	struct gw_chunk_info ck = { 10, 5, 2, 0, 3 };
	const struct gw_hdr_args h = { GW_F_RETRANSMIT, 0, 99, 12345, 0x01000000000000ffull };
	struct gw_frame f;
	size_t n = gw_wire_encode_chunk(b, sizeof(b), &H, 7, 10, "s:x", 3, payload, 3, &ck);

	memcpy(orig, b, n);
	gw_wire_rewrite_hdr(b, &h);
	cr_assert_eq(gw_wire_parse(b, n, &f), GW_WIRE_OK);
	cr_assert_eq(f.flags, GW_F_RETRANSMIT | GW_F_CHUNK);
	cr_assert_eq(f.ctr, h.ctr);
	cr_assert_eq(f.u.data.chunk.group, 10);
	cr_assert_eq(memcmp(b + GW_HDR_LEN, orig + GW_HDR_LEN, n - GW_HDR_LEN - GW_TRAILER_LEN), 0);
}
