/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the frame parser. libFuzzer hands over a heap block of
 * exactly @size bytes, so ASan turns any read past the frame into a crash.
 *
 * Oracle: a frame the parser accepts must be re-encodable, byte for byte, from
 * the parsed fields alone (protocol v2: the trailer's ctr from f.ctr, the tag
 * copied from f.tag, which must point at the frame's last GW_TAG_LEN bytes).
 * That catches fields the parser skips or misplaces, reserved bytes it lets
 * through non-zero, and encoder/parser disagreements.
 *
 * Authentication (auth.h) on the same bytes: for every input, the tag checks
 * must return without reading past @size (any length, short ones refused);
 * for an accepted frame, a handshake seal then check with the same key is
 * true and with another key false, a session (GMAC) seal then check is true,
 * and flipping any one covered byte (chosen by the input) makes it false.
 * Version 1 frames are never accepted (BAD_VERSION).
 *
 * Chunks (PROTOCOL.md 3.1.1): for every DATA frame with GW_F_CHUNK that
 * reaches the extension check (accepted, or refused BAD_CHUNK), a second
 * reading of the rules, written from the document in 128-bit arithmetic
 * (so it needs none of wire.c's care about wrapping), must give the
 * parser's verdict; an accepted chunk's fields must agree with each other
 * (origin_seq = group + index, payload_len the length its index carries).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

static uint8_t out[GW_FRAME_MAX];
static uint8_t sealed[GW_FRAME_MAX];
static const uint8_t key_a[GW_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};
static const uint8_t key_b[GW_KEY_LEN] = {8, 7, 6, 5, 4, 3, 2, 1};
static struct gw_gmac_key gmac_a;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (gw_auth_init() != 0)
		abort(); /* no AES-NI: libsodium's AES-256-GCM is unavailable */
	gw_gmac_key_init(&gmac_a, key_a);
	return 0;
}

/* The tags of an accepted frame of @size bytes (a copy: the input is const). */
static void check_auth(const uint8_t *data, size_t size)
{
	size_t flip = (data[size - 1] * 257u + data[0]) % (size - GW_TAG_LEN);

	memcpy(sealed, data, size);
	gw_auth_seal_hs(sealed, size, key_a);
	if (!gw_auth_check_hs(sealed, size, key_a) || gw_auth_check_hs(sealed, size, key_b))
		abort();
	sealed[flip] ^= 0x01;
	if (gw_auth_check_hs(sealed, size, key_a))
		abort();
	sealed[flip] ^= 0x01;
	gw_auth_seal_session(sealed, size, &gmac_a);
	if (!gw_auth_check_session(sealed, size, &gmac_a))
		abort();
	sealed[flip] ^= 0x80;
	if (gw_auth_check_session(sealed, size, &gmac_a))
		abort();
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* PROTOCOL.md 3.1.1's rules, from the text: 1 when the chunk is valid. */
static int ref_chunk_ok(const uint8_t *x, uint64_t oseq, uint64_t pl)
{
	typedef unsigned __int128 u128;
	u128 group = be(x, 8), total = be(x + 8, 4), count = be(x + 12, 4);
	u128 index = be(x + 16, 4), clen = be(x + 20, 4);

	if (clen < 1 || clen > GW_PAYLOAD_MAX || total > GW_MSG_MAX)
		return 0;
	/* count = ceil(total / clen): the least c with c * clen >= total */
	if (count < 2 || count * clen < total || (count - 1) * clen >= total || index >= count)
		return 0;
	if (pl != (index + 1 < count ? clen : total - (count - 1) * clen))
		return 0;
	return group >= 1 && (u128)oseq == group + index && group + count - 1 <= UINT64_MAX;
}

/* A DATA frame with the flag that got as far as the extension check. */
static void check_chunk(const uint8_t *data, enum gw_wire_status st, const struct gw_frame *f)
{
	const uint8_t *b = data + GW_HDR_LEN;
	uint64_t dl = be(b + 12, 2), pl = be(b + 14, 2);
	int ok = ref_chunk_ok(b + GW_DATA_FIXED_LEN + dl + pl, be(b, 8), pl);
	const struct gw_chunk_info *ck = &f->u.data.chunk;

	if (ok != (st == GW_WIRE_OK))
		abort(); /* the parser and the document disagree */
	if (st != GW_WIRE_OK)
		return;
	if (ck->group + ck->index != f->u.data.origin_seq ||
	    gw_chunk_payload_len(ck, ck->index) != f->u.data.payload_len ||
	    gw_chunk_check(ck, f->u.data.origin_seq, f->u.data.payload_len) != 0)
		abort();
}

static size_t reencode(const struct gw_frame *f)
{
	const struct gw_hdr_args h = {f->flags, f->sender, f->epoch, f->seq, f->ctr};

	switch (f->type) {
	case GW_T_DATA:
		if (f->flags & GW_F_CHUNK)
			return gw_wire_encode_chunk(out, sizeof(out), &h, f->u.data.origin,
						    f->u.data.origin_seq, f->u.data.dest,
						    f->u.data.dest_len, f->u.data.payload,
						    f->u.data.payload_len, &f->u.data.chunk);
		return gw_wire_encode_data(out, sizeof(out), &h, f->u.data.origin,
					   f->u.data.origin_seq, f->u.data.dest, f->u.data.dest_len,
					   f->u.data.payload, f->u.data.payload_len);
	case GW_T_ACK:
		return gw_wire_encode_ack(out, sizeof(out), &h, f->u.ack.base, f->u.ack.bitmap);
	case GW_T_NACK:
		return gw_wire_encode_nack(out, sizeof(out), &h, f->u.nack.origin_seq,
					   f->u.nack.reason, f->u.nack.retry_after_us);
	case GW_T_HELLO:
		return gw_wire_encode_hello(out, sizeof(out), &h, f->u.hello.nonce,
					    f->u.hello.rx_window);
	case GW_T_WELCOME:
		return gw_wire_encode_welcome(out, sizeof(out), &h, f->u.welcome.nonce,
					      f->u.welcome.router_seq, f->u.welcome.dup_window,
					      f->u.welcome.keepalive_ms, f->u.welcome.keepalive_mult,
					      f->u.welcome.max_payload, f->u.welcome.salt);
	case GW_T_KEEPALIVE:
		return gw_wire_encode_keepalive(out, sizeof(out), &h);
	case GW_T_BYE:
		return gw_wire_encode_bye(out, sizeof(out), &h, f->u.bye.reason);
	}
	abort(); /* OK with an unknown type */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *t, *d;
	size_t tl, dl, n;
	struct gw_frame f;
	enum gw_wire_status st = gw_wire_parse(data, size, &f);
	uint64_t ctr = 0;

	/* Whatever the bytes: the checks stay inside them and refuse what
	 * cannot hold a trailer. */
	if (gw_auth_check_hs(data, size, key_a) && size < GW_HDR_LEN + GW_TRAILER_LEN)
		abort();
	if (gw_auth_check_session(data, size, &gmac_a) && size < GW_HDR_LEN + GW_TRAILER_LEN)
		abort();
	if (st >= GW_WIRE_STATUS_COUNT)
		abort();
	if (size >= 3 && data[0] == 'G' && data[1] == 'W' && data[2] == 1 && st == GW_WIRE_OK)
		abort(); /* version 1 is refused */
	if (st == GW_WIRE_BAD_CHUNK &&
	    (size < GW_HDR_LEN || data[3] != GW_T_DATA || !(data[7] & GW_F_CHUNK)))
		abort(); /* only a chunk can be refused for its extension */
	if ((st == GW_WIRE_OK || st == GW_WIRE_BAD_CHUNK) && data[3] == GW_T_DATA &&
	    (data[7] & GW_F_CHUNK))
		check_chunk(data, st, &f);
	if (st != GW_WIRE_OK)
		return 0;
	if (f.length != size || f.version != GW_WIRE_VERSION || size < GW_HDR_LEN + GW_TRAILER_LEN)
		abort();
	for (n = 0; n < GW_CTR_LEN; n++)
		ctr = ctr << 8 | data[size - GW_TRAILER_LEN + n];
	if (f.ctr != ctr || f.tag != data + size - GW_TAG_LEN)
		abort();
	n = reencode(&f);
	if (n != size)
		abort();
	memcpy(out + size - GW_TAG_LEN, f.tag, GW_TAG_LEN); /* encoders leave it zero */
	if (memcmp(out, data, size) != 0)
		abort();
	check_auth(data, size);
	if (f.type == GW_T_DATA &&
	    (f.u.data.dest != data + GW_HDR_LEN + GW_DATA_FIXED_LEN ||
	     gw_addr_split(f.u.data.dest, f.u.data.dest_len, &t, &tl, &d, &dl) != 0 ||
	     tl == 0 || dl == 0 || d + dl != f.u.data.dest + f.u.data.dest_len ||
	     /* the parser's own split, which routing trusts without a rescan */
	     f.u.data.dest_type_len != tl || f.u.data.dest + f.u.data.dest_dom_off != d))
		abort();
	return 0;
}
