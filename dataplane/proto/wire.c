/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The gwart frame parser and encoders (PROTOCOL.md is the normative text).
 *
 * The parser runs once per received packet on every worker, so it is written
 * for that: byte loads through memcpy (frames sit at any alignment inside an
 * mbuf), one table lookup per destination byte, no allocation, no locale, and
 * checks ordered so that the cheap header tests refuse most garbage first.
 * Every load is preceded by a check that the bytes lie inside [buf, buf+len).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <gwart/wire.h>

/* Unaligned big-endian loads and stores: ld16() ... st64(). */
#define BE_ACCESSORS(n)                                             \
	static inline uint##n##_t ld##n(const uint8_t *p)           \
	{                                                           \
		uint##n##_t v;                                      \
		memcpy(&v, p, sizeof(v));                           \
		return be##n##toh(v);                               \
	}                                                           \
	static inline void st##n(uint8_t *p, uint##n##_t v)         \
	{                                                           \
		v = htobe##n(v);                                    \
		memcpy(p, &v, sizeof(v));                           \
	}
BE_ACCESSORS(16)
BE_ACCESSORS(32)
BE_ACCESSORS(64)

/*
 * Byte classes of destination addresses. A table instead of isalnum() keeps
 * the locale out of the fast path and makes each byte one load and one test.
 */
#define C_TYPE 0x01u /* may appear in the type part: [A-Za-z0-9-] */
#define C_CTRL 0x02u /* never allowed anywhere: C0 controls and DEL */

static const uint8_t byte_class[256] = {
	[0x00 ... 0x1f] = C_CTRL,
	[0x7f] = C_CTRL,
	['-'] = C_TYPE,
	['0' ... '9'] = C_TYPE,
	['A' ... 'Z'] = C_TYPE,
	['a' ... 'z'] = C_TYPE,
};

#define GW_ADDR_TYPE_MAX 16u

#define LOW7 0x7f7f7f7f7f7f7f7full
#define BYTES(c) (0x0101010101010101ull * (c))

/* Top bit of each byte set iff that byte of @x is zero. Exact per byte (no
 * borrow runs into the next byte), so it can locate, not just detect. */
static inline uint64_t zero_bytes(uint64_t x)
{
	return ~(((x & LOW7) + LOW7) | x | LOW7);
}

/*
 * Split "type:value" and find the routing domain. The type must end at a ':'
 * within GW_ADDR_TYPE_MAX + 1 bytes. The value is scanned for control bytes
 * (a NUL inside an address would let C-string code and length-delimited code
 * disagree on the destination) and for its last '@': eight bytes at a time,
 * then byte by byte for the tail, with no data-dependent branch but one per
 * word that holds an '@'.
 */
static int addr_split(const uint8_t *a, size_t len, size_t *type_len, size_t *dom_off)
{
	size_t i, t, at = 0;
	uint64_t bad = 0;

	for (t = 0; t < len && t <= GW_ADDR_TYPE_MAX && (byte_class[a[t]] & C_TYPE); t++)
		;
	if (t == 0 || t > GW_ADDR_TYPE_MAX || t + 1 >= len || a[t] != ':')
		return -EINVAL;
	for (i = t + 1; i + 8 <= len; i += 8) {
		uint64_t x, m;

		memcpy(&x, a + i, 8);
		x = le64toh(x);
		/* C0 controls are the bytes with bits 5-7 clear; DEL is 0x7f. */
		bad |= zero_bytes(x & BYTES(0xe0)) | zero_bytes(x ^ BYTES(0x7f));
		m = zero_bytes(x ^ BYTES('@'));
		if (m)
			at = i + (size_t)(63 - __builtin_clzll(m)) / 8 + 1;
	}
	for (; i < len; i++) {
		bad |= byte_class[a[i]] & C_CTRL;
		at = a[i] == '@' ? i + 1 : at; /* a cmov, not a branch */
	}
	if (bad)
		return -EINVAL;
	if (at == 0)
		at = t + 1;
	/* "smtp:alice@" has nothing to route on. */
	if (at == len)
		return -EINVAL;
	*type_len = t;
	*dom_off = at;
	return 0;
}

int gw_addr_split(const uint8_t *addr, size_t len, const uint8_t **type, size_t *type_len,
		  const uint8_t **domain, size_t *domain_len)
{
	size_t tl, off;

	if (addr == NULL || type == NULL || type_len == NULL || domain == NULL ||
	    domain_len == NULL || addr_split(addr, len, &tl, &off) != 0)
		return -EINVAL;
	*type = addr;
	*type_len = tl;
	*domain = addr + off;
	*domain_len = len - off;
	return 0;
}

/* Exact body length per type; DATA's is its fixed part. */
static const uint8_t body_len[GW_T_MAX + 1] = {
	[GW_T_DATA] = GW_DATA_FIXED_LEN,
	[GW_T_ACK] = GW_ACK_BODY_LEN,
	[GW_T_NACK] = GW_NACK_BODY_LEN,
	[GW_T_HELLO] = GW_HELLO_BODY_LEN,
	[GW_T_WELCOME] = GW_WELCOME_BODY_LEN,
	[GW_T_KEEPALIVE] = GW_KEEPALIVE_BODY_LEN,
	[GW_T_BYE] = GW_BYE_BODY_LEN,
};

int gw_chunk_check(const struct gw_chunk_info *ck, uint64_t origin_seq, uint16_t payload_len)
{
	uint64_t count;

	/*
	 * Every rule is checked on the frame alone, in 64-bit arithmetic on
	 * 32-bit values (no product or sum below can wrap), so a receiver
	 * needs no state to refuse an inconsistent chunk and a group's
	 * chunks agree on its layout by construction.
	 */
	if (ck->chunk_len == 0 || ck->chunk_len > GW_PAYLOAD_MAX || ck->total_len > GW_MSG_MAX)
		return -EINVAL;
	count = ((uint64_t)ck->total_len + ck->chunk_len - 1) / ck->chunk_len;
	if (count < 2 || count != ck->count || ck->index >= ck->count)
		return -EINVAL;
	if (payload_len != gw_chunk_payload_len(ck, ck->index))
		return -EINVAL;
	/* origin_seq = group + index, group >= 1, and the group's last seq
	 * (group + count - 1) does not pass 2^64 - 1. */
	if (origin_seq <= ck->index || origin_seq - ck->index != ck->group ||
	    ck->group > UINT64_MAX - (ck->count - 1))
		return -EINVAL;
	return 0;
}

static void parse_chunk(const uint8_t *x, struct gw_chunk_info *ck)
{
	ck->group = ld64(x);
	ck->total_len = ld32(x + 8);
	ck->count = ld32(x + 12);
	ck->index = ld32(x + 16);
	ck->chunk_len = ld32(x + 20);
}

/* DATA body: lengths and flags already checked by gw_wire_parse(). */
static enum gw_wire_status parse_data(const uint8_t *b, struct gw_frame *f)
{
	uint64_t oseq = ld64(b);
	uint32_t origin = ld32(b + 8);
	uint16_t dl = ld16(b + 12), pl = ld16(b + 14);
	size_t tl, off;

	if (dl == 0)
		return GW_WIRE_DEST_EMPTY;
	if (dl > GW_DEST_MAX)
		return GW_WIRE_DEST_TOO_LONG;
	if (pl > GW_PAYLOAD_MAX)
		return GW_WIRE_PAYLOAD_TOO_BIG;
	if (addr_split(b + GW_DATA_FIXED_LEN, dl, &tl, &off) != 0)
		return GW_WIRE_BAD_DEST;
	if ((oseq == 0) | (f->seq == 0))
		return GW_WIRE_BAD_SEQ;
	if (origin == 0)
		return GW_WIRE_BAD_SENDER;
	if (f->flags & GW_F_CHUNK) {
		parse_chunk(b + GW_DATA_FIXED_LEN + dl + pl, &f->u.data.chunk);
		if (gw_chunk_check(&f->u.data.chunk, oseq, pl) != 0)
			return GW_WIRE_BAD_CHUNK;
	}
	f->u.data.origin_seq = oseq;
	f->u.data.origin = origin;
	f->u.data.dest_len = dl;
	f->u.data.payload_len = pl;
	f->u.data.dest = b + GW_DATA_FIXED_LEN;
	f->u.data.payload = b + GW_DATA_FIXED_LEN + dl;
	f->u.data.dest_type_len = (uint8_t)tl; /* <= GW_ADDR_TYPE_MAX */
	f->u.data.dest_dom_off = (uint8_t)off; /* < dl <= GW_DEST_MAX */
	return GW_WIRE_OK;
}

/* Fixed-size bodies; lengths and flags already checked by gw_wire_parse(). */
static enum gw_wire_status parse_fixed(const uint8_t *b, struct gw_frame *f)
{
	switch (f->type) {
	case GW_T_ACK:
		f->u.ack.base = ld64(b);
		f->u.ack.bitmap = ld64(b + 8);
		return GW_WIRE_OK;
	case GW_T_NACK:
		f->u.nack.origin_seq = ld64(b);
		f->u.nack.reason = ld16(b + 8);
		f->u.nack.retry_after_us = ld32(b + 12);
		if (f->u.nack.reason == 0 || f->u.nack.reason > GW_NACK_REASON_MAX)
			return GW_WIRE_BAD_REASON;
		return ld16(b + 10) != 0 ? GW_WIRE_BAD_FIELD : GW_WIRE_OK;
	case GW_T_HELLO:
		/* Only connectors say HELLO; the router's id can never open a session. */
		if (f->sender == GW_CONN_ID_ROUTER)
			return GW_WIRE_BAD_SENDER;
		f->u.hello.nonce = ld64(b);
		f->u.hello.rx_window = ld32(b + 8);
		if (f->u.hello.rx_window == 0 || ld32(b + 12) != 0)
			return GW_WIRE_BAD_FIELD;
		return GW_WIRE_OK;
	case GW_T_WELCOME:
		if (f->sender != GW_CONN_ID_ROUTER)
			return GW_WIRE_BAD_SENDER;
		f->u.welcome.nonce = ld64(b);
		f->u.welcome.router_seq = ld64(b + 8);
		f->u.welcome.dup_window = ld32(b + 16);
		f->u.welcome.keepalive_ms = ld32(b + 20);
		f->u.welcome.keepalive_mult = ld32(b + 24);
		f->u.welcome.max_payload = ld32(b + 28);
		f->u.welcome.salt = b + 32;
		/* Zero epoch means "no session"; zero windows or intervals would
		 * leave the connector unable to send or to detect a dead router. */
		if (f->epoch == 0 || f->u.welcome.dup_window == 0 ||
		    f->u.welcome.keepalive_ms == 0 || f->u.welcome.keepalive_mult == 0 ||
		    f->u.welcome.max_payload > GW_PAYLOAD_MAX)
			return GW_WIRE_BAD_FIELD;
		return GW_WIRE_OK;
	case GW_T_KEEPALIVE:
		return GW_WIRE_OK;
	case GW_T_BYE:
		f->u.bye.reason = ld32(b);
		return ld32(b + 4) != 0 ? GW_WIRE_BAD_FIELD : GW_WIRE_OK;
	}
	return GW_WIRE_BAD_TYPE; /* unreachable: type checked by the caller */
}

enum gw_wire_status gw_wire_parse(const void *buf, size_t len, struct gw_frame *out)
{
	const uint8_t *p = buf;
	size_t need;
	uint8_t type;

	if (len < GW_HDR_LEN || buf == NULL)
		return GW_WIRE_TRUNCATED;
	/*
	 * Magic and version come before the length: a stray datagram is counted
	 * as what it is, and the length field means something only once the
	 * version is known.
	 */
	if (ld16(p) != GW_WIRE_MAGIC)
		return GW_WIRE_BAD_MAGIC;
	if (p[2] != GW_WIRE_VERSION)
		return GW_WIRE_BAD_VERSION;
	type = p[3];
	if (type == 0 || type > GW_T_MAX)
		return GW_WIRE_BAD_TYPE;
	if (ld16(p + 4) > len)
		return GW_WIRE_TRUNCATED;
	/* Trailing bytes are refused: the UDP length, not the mbuf, is @len. */
	if (ld16(p + 4) != len)
		return GW_WIRE_BAD_LENGTH;
	need = GW_HDR_LEN + body_len[type] + GW_TRAILER_LEN;
	/* DATA: dest_len and payload_len are read only once they are in @buf;
	 * two u16 added to a size_t cannot wrap. */
	if (type == GW_T_DATA && len >= need)
		need += (size_t)ld16(p + GW_HDR_LEN + 12) + ld16(p + GW_HDR_LEN + 14);
	/* A chunk's extension is part of its length (PROTOCOL.md 3.1.1). */
	if (type == GW_T_DATA && (ld16(p + 6) & GW_F_CHUNK))
		need += GW_CHUNK_EXT_LEN;
	if (len != need)
		return GW_WIRE_BAD_LENGTH;
	if ((ld16(p + 6) & ~GW_F_KNOWN_MASK) || (type != GW_T_DATA && (ld16(p + 6) & GW_F_CHUNK)))
		return GW_WIRE_BAD_FLAGS;
	/*
	 * Written straight into @out: building a copy on the stack and storing it
	 * whole costs store-forwarding stalls that tripled the parse time.
	 */
	out->type = type;
	out->version = p[2];
	out->length = (uint16_t)len;
	out->flags = ld16(p + 6);
	out->sender = ld32(p + 8);
	out->epoch = ld32(p + 12);
	out->seq = ld64(p + 16);
	out->ctr = ld64(p + len - GW_TRAILER_LEN);
	out->tag = p + len - GW_TAG_LEN;
	if (type == GW_T_DATA)
		return parse_data(p + GW_HDR_LEN, out);
	return parse_fixed(p + GW_HDR_LEN, out);
}

/* ---- encoders ------------------------------------------------------------ */

static size_t put_hdr(void *buf, size_t cap, const struct gw_hdr_args *h, uint8_t type,
		      size_t len)
{
	uint8_t *p = buf;

	if (buf == NULL || h == NULL || cap < len || (h->flags & ~GW_F_KNOWN_MASK) ||
	    ((h->flags & GW_F_CHUNK) && type != GW_T_DATA))
		return 0;
	st16(p, GW_WIRE_MAGIC);
	p[2] = GW_WIRE_VERSION;
	p[3] = type;
	st16(p + 4, (uint16_t)len);
	st16(p + 6, h->flags);
	st32(p + 8, h->sender);
	st32(p + 12, h->epoch);
	st64(p + 16, h->seq);
	st64(p + len - GW_TRAILER_LEN, h->ctr);
	memset(p + len - GW_TAG_LEN, 0, GW_TAG_LEN);
	return len;
}

/*
 * The encoders refuse whatever gw_wire_parse() would refuse, so a frame they
 * produce is always accepted by a peer running the same rules.
 */
size_t gw_wire_encode_data(void *buf, size_t cap, const struct gw_hdr_args *h,
			   uint32_t origin, uint64_t origin_seq, const void *dest, uint16_t dest_len,
			   const void *payload, uint16_t payload_len)
{
	size_t len = GW_HDR_LEN + GW_DATA_FIXED_LEN + (size_t)dest_len + payload_len +
		     GW_TRAILER_LEN;
	size_t tl, off;
	uint8_t *b;

	if (dest == NULL || dest_len == 0 || dest_len > GW_DEST_MAX ||
	    payload_len > GW_PAYLOAD_MAX || (payload == NULL && payload_len != 0) ||
	    origin == 0 || origin_seq == 0 || h == NULL || h->seq == 0 ||
	    (h->flags & GW_F_CHUNK) || addr_split(dest, dest_len, &tl, &off) != 0)
		return 0;
	if (put_hdr(buf, cap, h, GW_T_DATA, len) == 0)
		return 0;
	b = (uint8_t *)buf + GW_HDR_LEN;
	st64(b, origin_seq);
	st32(b + 8, origin);
	st16(b + 12, dest_len);
	st16(b + 14, payload_len);
	memcpy(b + GW_DATA_FIXED_LEN, dest, dest_len);
	if (payload_len)
		memcpy(b + GW_DATA_FIXED_LEN + dest_len, payload, payload_len);
	return len;
}

size_t gw_wire_encode_chunk(void *buf, size_t cap, const struct gw_hdr_args *h, uint32_t origin,
			    uint64_t origin_seq, const void *dest, uint16_t dest_len,
			    const void *payload, uint16_t payload_len,
			    const struct gw_chunk_info *ck)
{
	struct gw_hdr_args hc;
	size_t len;
	uint8_t *x;

	if (h == NULL || ck == NULL || gw_chunk_check(ck, origin_seq, payload_len) != 0)
		return 0;
	hc = *h;
	hc.flags &= (uint16_t)~GW_F_CHUNK;
	len = GW_CHUNK_DATA_LEN(dest_len, payload_len);
	/* The plain encoder checks the rest; it writes the frame's first
	 * len - GW_CHUNK_EXT_LEN bytes, its length field and trailer placed
	 * for that shorter frame, which are moved below. */
	if (cap < len || len > UINT16_MAX)
		return 0;
	if (gw_wire_encode_data(buf, cap, &hc, origin, origin_seq, dest, dest_len, payload,
				payload_len) == 0)
		return 0;
	hc.flags |= GW_F_CHUNK;
	if (put_hdr(buf, cap, &hc, GW_T_DATA, len) == 0)
		return 0;
	x = (uint8_t *)buf + len - GW_TRAILER_LEN - GW_CHUNK_EXT_LEN;
	st64(x, ck->group);
	st32(x + 8, ck->total_len);
	st32(x + 12, ck->count);
	st32(x + 16, ck->index);
	st32(x + 20, ck->chunk_len);
	return len;
}

size_t gw_wire_encode_ack(void *buf, size_t cap, const struct gw_hdr_args *h, uint64_t base,
			  uint64_t bitmap)
{
	uint8_t *b;

	if (put_hdr(buf, cap, h, GW_T_ACK, GW_HDR_LEN + GW_ACK_BODY_LEN + GW_TRAILER_LEN) == 0)
		return 0;
	b = (uint8_t *)buf + GW_HDR_LEN;
	st64(b, base);
	st64(b + 8, bitmap);
	return GW_HDR_LEN + GW_ACK_BODY_LEN + GW_TRAILER_LEN;
}

size_t gw_wire_encode_nack(void *buf, size_t cap, const struct gw_hdr_args *h,
			   uint64_t origin_seq, unsigned reason, uint32_t retry_after_us)
{
	uint8_t *b;

	if (reason == 0 || reason > GW_NACK_REASON_MAX ||
	    put_hdr(buf, cap, h, GW_T_NACK, GW_HDR_LEN + GW_NACK_BODY_LEN + GW_TRAILER_LEN) == 0)
		return 0;
	b = (uint8_t *)buf + GW_HDR_LEN;
	st64(b, origin_seq);
	st16(b + 8, (uint16_t)reason);
	st16(b + 10, 0);
	st32(b + 12, retry_after_us);
	return GW_HDR_LEN + GW_NACK_BODY_LEN + GW_TRAILER_LEN;
}

size_t gw_wire_encode_hello(void *buf, size_t cap, const struct gw_hdr_args *h, uint64_t nonce,
			    uint32_t rx_window)
{
	uint8_t *b;

	if (rx_window == 0 || h == NULL || h->sender == GW_CONN_ID_ROUTER ||
	    put_hdr(buf, cap, h, GW_T_HELLO, GW_HDR_LEN + GW_HELLO_BODY_LEN + GW_TRAILER_LEN) == 0)
		return 0;
	b = (uint8_t *)buf + GW_HDR_LEN;
	st64(b, nonce);
	st32(b + 8, rx_window);
	st32(b + 12, 0);
	return GW_HDR_LEN + GW_HELLO_BODY_LEN + GW_TRAILER_LEN;
}

size_t gw_wire_encode_welcome(void *buf, size_t cap, const struct gw_hdr_args *h,
			      uint64_t nonce, uint64_t router_seq, uint32_t dup_window,
			      uint32_t keepalive_ms, uint32_t keepalive_mult, uint32_t max_payload,
			      const uint8_t salt[GW_SALT_LEN])
{
	uint8_t *b;

	if (h == NULL || salt == NULL || h->sender != GW_CONN_ID_ROUTER || h->epoch == 0 ||
	    dup_window == 0 ||
	    keepalive_ms == 0 || keepalive_mult == 0 || max_payload > GW_PAYLOAD_MAX ||
	    put_hdr(buf, cap, h, GW_T_WELCOME, GW_HDR_LEN + GW_WELCOME_BODY_LEN + GW_TRAILER_LEN) == 0)
		return 0;
	b = (uint8_t *)buf + GW_HDR_LEN;
	st64(b, nonce);
	st64(b + 8, router_seq);
	st32(b + 16, dup_window);
	st32(b + 20, keepalive_ms);
	st32(b + 24, keepalive_mult);
	st32(b + 28, max_payload);
	memcpy(b + 32, salt, GW_SALT_LEN);
	return GW_HDR_LEN + GW_WELCOME_BODY_LEN + GW_TRAILER_LEN;
}

size_t gw_wire_encode_keepalive(void *buf, size_t cap, const struct gw_hdr_args *h)
{
	return put_hdr(buf, cap, h, GW_T_KEEPALIVE, GW_HDR_LEN + GW_KEEPALIVE_BODY_LEN + GW_TRAILER_LEN);
}

size_t gw_wire_encode_bye(void *buf, size_t cap, const struct gw_hdr_args *h, uint32_t reason)
{
	uint8_t *b;

	if (put_hdr(buf, cap, h, GW_T_BYE, GW_HDR_LEN + GW_BYE_BODY_LEN + GW_TRAILER_LEN) == 0)
		return 0;
	b = (uint8_t *)buf + GW_HDR_LEN;
	st32(b, reason);
	st32(b + 4, 0);
	return GW_HDR_LEN + GW_BYE_BODY_LEN + GW_TRAILER_LEN;
}

void gw_wire_rewrite_hdr(void *frame, const struct gw_hdr_args *h)
{
	uint8_t *p = frame;

	st16(p + 6, (uint16_t)(h->flags | (ld16(p + 6) & GW_F_CHUNK)));
	st32(p + 8, h->sender);
	st32(p + 12, h->epoch);
	st64(p + 16, h->seq);
	st64(p + ld16(p + 4) - GW_TRAILER_LEN, h->ctr);
}

/* ---- names --------------------------------------------------------------- */

const char *gw_wire_status_str(enum gw_wire_status st)
{
	static const char *const s[] = {
#define GW_X_STR(name, str) [GW_WIRE_##name] = str,
		GW_WIRE_STATUSES(GW_X_STR)
#undef GW_X_STR
	};

	return (unsigned)st < GW_WIRE_STATUS_COUNT ? s[st] : "unknown status";
}

const char *gw_wire_status_name(enum gw_wire_status st)
{
	static const char *const s[] = {
#define GW_X_NAME(name, str) [GW_WIRE_##name] = #name,
		GW_WIRE_STATUSES(GW_X_NAME)
#undef GW_X_NAME
	};

	return (unsigned)st < GW_WIRE_STATUS_COUNT ? s[st] : "UNKNOWN";
}

static const char *const nack_str[GW_NACK_REASON_MAX + 1] = {
#define GW_X_STR(name, val, str) [val] = str,
	GW_NACK_REASONS(GW_X_STR)
#undef GW_X_STR
};

static const char *const nack_name[GW_NACK_REASON_MAX + 1] = {
#define GW_X_NAME(name, val, str) [val] = #name,
	GW_NACK_REASONS(GW_X_NAME)
#undef GW_X_NAME
};

const char *gw_nack_reason_str(unsigned reason)
{
	return reason && reason <= GW_NACK_REASON_MAX ? nack_str[reason] : "unknown reason";
}

const char *gw_nack_reason_name(unsigned reason)
{
	return reason && reason <= GW_NACK_REASON_MAX ? nack_name[reason] : "UNKNOWN";
}

const char *gw_type_name(unsigned type)
{
	static const char *const s[GW_T_MAX + 1] = {
		[GW_T_DATA] = "DATA",	      [GW_T_ACK] = "ACK", [GW_T_NACK] = "NACK",
		[GW_T_HELLO] = "HELLO",	      [GW_T_WELCOME] = "WELCOME",
		[GW_T_KEEPALIVE] = "KEEPALIVE", [GW_T_BYE] = "BYE",
	};

	return type && type <= GW_T_MAX ? s[type] : "UNKNOWN";
}
