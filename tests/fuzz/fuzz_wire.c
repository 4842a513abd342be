/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the frame parser. libFuzzer hands over a heap block of
 * exactly @size bytes, so ASan turns any read past the frame into a crash.
 *
 * Oracle: a frame the parser accepts must be re-encodable, byte for byte, from
 * the parsed fields alone. That catches fields the parser skips or misplaces,
 * reserved bytes it lets through non-zero, and encoder/parser disagreements.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gwart/wire.h>

static uint8_t out[GW_FRAME_MAX];

static size_t reencode(const struct gw_frame *f)
{
	const struct gw_hdr_args h = { f->flags, f->sender, f->epoch, f->seq };

	switch (f->type) {
	case GW_T_DATA:
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

	if (st >= GW_WIRE_STATUS_COUNT)
		abort();
	if (st != GW_WIRE_OK)
		return 0;
	if (f.length != size || f.version != GW_WIRE_VERSION)
		abort();
	n = reencode(&f);
	if (n != size || memcmp(out, data, size) != 0)
		abort();
	if (f.type == GW_T_DATA &&
	    (f.u.data.dest != data + GW_HDR_LEN + GW_DATA_FIXED_LEN ||
	     gw_addr_split(f.u.data.dest, f.u.data.dest_len, &t, &tl, &d, &dl) != 0 ||
	     tl == 0 || dl == 0 || d + dl != f.u.data.dest + f.u.data.dest_len))
		abort();
	return 0;
}
