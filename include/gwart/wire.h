/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart wire protocol: frame layout, limits and the one parser/encoder that
 * the router, the connector SDK, the benchmark and the tests all share.
 *
 * The normative description is PROTOCOL.md beside this header; this file is
 * its C rendering. Nothing here depends on DPDK or does I/O, so the parser can
 * be unit-tested and fuzzed directly.
 *
 * Threading: every function is pure (no global state) and may be called from
 * any thread, including DPDK worker lcores, without locks or RCU.
 * Ownership: the parser never copies; a struct gw_frame points into the
 * caller's buffer and is valid only while that buffer is.
 */
#ifndef GWART_WIRE_H
#define GWART_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- constants ---------------------------------------------------------- */

#define GW_WIRE_MAGIC 0x4757u  /* "GW" */
#define GW_WIRE_VERSION 2u /* version 1 frames are refused (BAD_VERSION) */
#define GW_WIRE_UDP_PORT 4790u /* router's default UDP port */

#define GW_HDR_LEN 24u        /* fixed header, every frame */
#define GW_DATA_FIXED_LEN 16u /* DATA body before dest and payload */
#define GW_ACK_BODY_LEN 16u
#define GW_NACK_BODY_LEN 16u
#define GW_HELLO_BODY_LEN 16u
#define GW_WELCOME_BODY_LEN 48u /* v2: + 16-byte session salt */
#define GW_KEEPALIVE_BODY_LEN 0u
#define GW_BYE_BODY_LEN 8u

/*
 * Version 2: every frame ends with an authentication trailer, counted in
 * the header's length: ctr (8 bytes, big-endian) then a 16-byte tag over
 * every byte before the tag (header, body, ctr). See auth.h and PROTOCOL.md.
 */
#define GW_CTR_LEN 8u
#define GW_TAG_LEN 16u
#define GW_TRAILER_LEN (GW_CTR_LEN + GW_TAG_LEN)
#define GW_SALT_LEN 16u

/* Whole frame lengths, trailer included. */
#define GW_FRAME_LEN(body) (GW_HDR_LEN + (body) + GW_TRAILER_LEN)
#define GW_ACK_LEN GW_FRAME_LEN(GW_ACK_BODY_LEN)             /* 64 */
#define GW_NACK_LEN GW_FRAME_LEN(GW_NACK_BODY_LEN)           /* 64 */
#define GW_HELLO_LEN GW_FRAME_LEN(GW_HELLO_BODY_LEN)         /* 64 */
#define GW_WELCOME_LEN GW_FRAME_LEN(GW_WELCOME_BODY_LEN)     /* 96 */
#define GW_KEEPALIVE_LEN GW_FRAME_LEN(GW_KEEPALIVE_BODY_LEN) /* 48 */
#define GW_BYE_LEN GW_FRAME_LEN(GW_BYE_BODY_LEN)             /* 56 */
#define GW_DATA_LEN(dest_len, payload_len)                                                         \
	GW_FRAME_LEN(GW_DATA_FIXED_LEN + (size_t)(dest_len) + (size_t)(payload_len))

#define GW_DEST_MAX 255u     /* bytes of a destination address */
#define GW_PAYLOAD_MAX 8192u /* bytes of application payload in one frame */
#define GW_CHUNK_EXT_LEN 24u /* chunk extension of a DATA frame with GW_F_CHUNK */
#define GW_FRAME_MAX                                                                               \
	(GW_HDR_LEN + GW_DATA_FIXED_LEN + GW_DEST_MAX + GW_PAYLOAD_MAX + GW_CHUNK_EXT_LEN +        \
	 GW_TRAILER_LEN)
#define GW_CHUNK_DATA_LEN(dest_len, payload_len)                                                   \
	(GW_DATA_LEN(dest_len, payload_len) + GW_CHUNK_EXT_LEN)

/*
 * Messages larger than one frame travel as a group of chunks (PROTOCOL.md
 * section 3.1.1). GW_MSG_MAX is the protocol's ceiling on a message's total
 * length; routers and connectors configure their own limit at or below it
 * (GW_MSG_DEFAULT_MAX unless told otherwise).
 */
#define GW_MSG_MAX (64u * 1024u * 1024u)   /* bytes: 64 MiB */
#define GW_MSG_DEFAULT_MAX (1024u * 1024u) /* bytes: 1 MiB */

#define GW_CONN_ID_ROUTER 0u /* sender id the router uses; never a connector */
#define GW_ACK_BITMAP_BITS 64u

/* Frame types. */
enum gw_type {
	GW_T_DATA = 1,
	GW_T_ACK = 2,
	GW_T_NACK = 3,
	GW_T_HELLO = 4,
	GW_T_WELCOME = 5,
	GW_T_KEEPALIVE = 6,
	GW_T_BYE = 7,
};
#define GW_T_MAX GW_T_BYE

/* Header flags (bit values). Unknown flags must be zero; receivers reject
 * frames that set them (GW_WIRE_BAD_FLAGS) so that future versions can give
 * them meaning. */
#define GW_F_RETRANSMIT 0x0001u /* DATA: this is a retransmission (informative) */
#define GW_F_CHUNK 0x0002u      /* DATA: one chunk of a group; a chunk extension follows the payload */
#define GW_F_KNOWN_MASK 0x0003u

/* NACK reasons, one X-macro so enum, strings and counters agree. */
#define GW_NACK_REASONS(X)                                                                         \
	X(NO_ROUTE, 1, "no route to destination")                                                  \
	X(BUSY, 2, "destination custody full, retry later")                                        \
	X(TOO_BIG, 3, "frame larger than the router accepts")                                      \
	X(EXPIRED, 4, "message expired or outside duplicate window")                               \
	X(NOT_AUTHORISED, 5, "sender not authorised")                                              \
	X(NO_SESSION, 6, "no session or stale epoch, say HELLO")

enum gw_nack_reason {
#define GW_X_ENUM(name, val, str) GW_NACK_##name = val,
	GW_NACK_REASONS(GW_X_ENUM)
#undef GW_X_ENUM
};
#define GW_NACK_REASON_MAX 6

/* Parser verdicts: 0 is OK, everything else names why a frame was refused. */
#define GW_WIRE_STATUSES(X)                                                                        \
	X(OK, "ok")                                                                                \
	X(TRUNCATED, "shorter than its header or its declared length")                            \
	X(BAD_MAGIC, "wrong magic")                                                                \
	X(BAD_VERSION, "unsupported version")                                                      \
	X(BAD_TYPE, "unknown frame type")                                                          \
	X(BAD_LENGTH, "declared length inconsistent with type or buffer")                          \
	X(BAD_FLAGS, "unknown flag set")                                                           \
	X(DEST_EMPTY, "empty destination")                                                         \
	X(DEST_TOO_LONG, "destination longer than GW_DEST_MAX")                                    \
	X(BAD_DEST, "destination is not type:address")                                             \
	X(PAYLOAD_TOO_BIG, "payload longer than GW_PAYLOAD_MAX")                                   \
	X(BAD_SENDER, "sender id invalid for this frame type")                                     \
	X(BAD_SEQ, "sequence number invalid (zero)")                                               \
	X(BAD_REASON, "unknown NACK reason")                                                       \
	X(BAD_FIELD, "reserved field not zero or field out of range")                              \
	X(BAD_CHUNK, "chunk extension inconsistent (group, index, count, lengths)")

enum gw_wire_status {
#define GW_X_ENUM(name, str) GW_WIRE_##name,
	GW_WIRE_STATUSES(GW_X_ENUM)
#undef GW_X_ENUM
	GW_WIRE_STATUS_COUNT
};

/* ---- on-the-wire layout (all multi-byte fields big-endian) --------------- */

struct gw_wire_hdr {
	uint16_t magic;   /* GW_WIRE_MAGIC */
	uint8_t version;  /* GW_WIRE_VERSION */
	uint8_t type;     /* enum gw_type */
	uint16_t length;  /* whole frame in bytes, this header included */
	uint16_t flags;   /* GW_F_* */
	uint32_t sender;  /* connector id of the sender; 0 = router */
	uint32_t epoch;   /* session epoch the frame belongs to; 0 before WELCOME */
	uint64_t seq;     /* per type, see PROTOCOL.md */
} __attribute__((packed));

struct gw_wire_data {
	uint64_t origin_seq; /* message id, part 2: origin's sequence (>= 1) */
	uint32_t origin;     /* message id, part 1: origin connector id (>= 1) */
	uint16_t dest_len;   /* 1..GW_DEST_MAX */
	uint16_t payload_len;/* 0..GW_PAYLOAD_MAX */
	/* uint8_t dest[dest_len]; uint8_t payload[payload_len]; */
} __attribute__((packed));

/*
 * Chunk extension: after the payload of a DATA frame with GW_F_CHUNK, before
 * the trailer; counted in the header's length, not in payload_len.
 */
struct gw_wire_chunk {
	uint64_t group;     /* origin_seq of chunk 0; chunk i has origin_seq group + i */
	uint32_t total_len; /* the whole message, bytes: 2..GW_MSG_MAX */
	uint32_t count;     /* chunks in the group: ceil(total_len / chunk_len) >= 2 */
	uint32_t index;     /* this chunk: 0..count-1 */
	uint32_t chunk_len; /* payload bytes of every chunk but the last (1..GW_PAYLOAD_MAX) */
} __attribute__((packed));

struct gw_wire_ack {
	uint64_t base;   /* first sequence number bit 0 of bitmap stands for */
	uint64_t bitmap; /* bit i set: base + i acknowledged */
} __attribute__((packed));

struct gw_wire_nack {
	uint64_t origin_seq;     /* message refused (origin's sequence) */
	uint16_t reason;         /* enum gw_nack_reason */
	uint16_t reserved;       /* zero */
	uint32_t retry_after_us; /* BUSY: earliest sensible retry; else 0 */
} __attribute__((packed));

struct gw_wire_hello {
	uint64_t nonce;     /* connector instance id, echoed by WELCOME */
	uint32_t rx_window; /* frames the connector accepts un-acknowledged */
	uint32_t reserved;  /* zero */
} __attribute__((packed));

struct gw_wire_welcome {
	uint64_t nonce;          /* echo of HELLO.nonce */
	uint64_t router_seq;     /* router's record: highest contiguous origin seq accepted */
	uint32_t dup_window;     /* max origin messages in flight (un-acknowledged) */
	uint32_t keepalive_ms;   /* keepalive interval the router expects */
	uint32_t keepalive_mult; /* missed intervals before the session is declared down */
	uint32_t max_payload;    /* largest payload the router accepts on this path */
	uint8_t salt[GW_SALT_LEN]; /* v2: router's fresh randomness for this session's keys */
} __attribute__((packed));

struct gw_wire_bye {
	uint32_t reason;   /* 0 = normal close */
	uint32_t reserved; /* zero */
} __attribute__((packed));

_Static_assert(sizeof(struct gw_wire_hdr) == GW_HDR_LEN, "hdr layout");
_Static_assert(sizeof(struct gw_wire_data) == GW_DATA_FIXED_LEN, "data layout");
_Static_assert(sizeof(struct gw_wire_chunk) == GW_CHUNK_EXT_LEN, "chunk layout");
_Static_assert(sizeof(struct gw_wire_ack) == GW_ACK_BODY_LEN, "ack layout");
_Static_assert(sizeof(struct gw_wire_nack) == GW_NACK_BODY_LEN, "nack layout");
_Static_assert(sizeof(struct gw_wire_hello) == GW_HELLO_BODY_LEN, "hello layout");
_Static_assert(sizeof(struct gw_wire_welcome) == GW_WELCOME_BODY_LEN, "welcome layout");
_Static_assert(sizeof(struct gw_wire_bye) == GW_BYE_BODY_LEN, "bye layout");

/* ---- parsed view (host byte order) --------------------------------------- */

/* A chunk extension, host byte order (fields as in struct gw_wire_chunk). */
struct gw_chunk_info {
	uint64_t group;
	uint32_t total_len;
	uint32_t count;
	uint32_t index;
	uint32_t chunk_len;
};

struct gw_frame {
	uint8_t type;
	uint8_t version;
	uint16_t length;
	uint16_t flags;
	uint32_t sender;
	uint32_t epoch;
	uint64_t seq;
	uint64_t ctr;       /* v2 trailer counter (auth.h: lane and count, or a HELLO time) */
	const uint8_t *tag; /* v2 trailer tag, GW_TAG_LEN bytes, into the caller's buffer */
	union {
		struct {
			uint64_t origin_seq;
			uint32_t origin;
			uint16_t dest_len;
			uint16_t payload_len;
			const uint8_t *dest;    /* into the caller's buffer */
			const uint8_t *payload; /* into the caller's buffer */
			/* The destination's split, as gw_addr_split() gives it,
			 * found by the parser's one scan so that routing never
			 * scans the destination again: type is dest[0,
			 * dest_type_len), the routing domain dest[dest_dom_off,
			 * dest_len). */
			uint8_t dest_type_len;
			uint8_t dest_dom_off;
			/* Valid only when flags has GW_F_CHUNK (all checked
			 * by the parser, PROTOCOL.md 3.1.1); not written
			 * otherwise. */
			struct gw_chunk_info chunk;
		} data;
		struct {
			uint64_t base;
			uint64_t bitmap;
		} ack;
		struct {
			uint64_t origin_seq;
			uint16_t reason;
			uint32_t retry_after_us;
		} nack;
		struct {
			uint64_t nonce;
			uint32_t rx_window;
		} hello;
		struct {
			uint64_t nonce;
			uint64_t router_seq;
			uint32_t dup_window;
			uint32_t keepalive_ms;
			uint32_t keepalive_mult;
			uint32_t max_payload;
			const uint8_t *salt; /* GW_SALT_LEN bytes, into the caller's buffer */
		} welcome;
		struct {
			uint32_t reason;
		} bye;
	} u;
};

/* ---- API ----------------------------------------------------------------- */

/* The functions below are the SDK's public API: exported from
 * libgwart-connector even though the protocol core is built hidden. */
#pragma GCC visibility push(default)

/*
 * gw_wire_parse - validate and decode one frame.
 * @buf, @len: the UDP payload exactly as received, @len taken from the UDP
 *             length field (never from the Ethernet frame, which may carry
 *             padding). Bytes after the frame's declared length are refused
 *             (GW_WIRE_BAD_LENGTH), as are frames shorter than it
 *             (GW_WIRE_TRUNCATED).
 * @out: valid on GW_WIRE_OK only; on any other status it may have been
 *       partly written (the hot path writes it directly).
 * Returns GW_WIRE_OK or the first reason the frame is invalid, checked in
 * this order: TRUNCATED (len < GW_HDR_LEN), BAD_MAGIC, BAD_VERSION, BAD_TYPE,
 * TRUNCATED (len < length), BAD_LENGTH, BAD_FLAGS, then the body's own checks
 * (PROTOCOL.md, "Validation"). Never reads outside [buf, buf+len).
 */
enum gw_wire_status gw_wire_parse(const void *buf, size_t len, struct gw_frame *out);

/* Human-readable text for a status / NACK reason; never NULL. */
const char *gw_wire_status_str(enum gw_wire_status st);
const char *gw_wire_status_name(enum gw_wire_status st); /* e.g. "BAD_MAGIC" */
const char *gw_nack_reason_str(unsigned reason);
const char *gw_nack_reason_name(unsigned reason); /* e.g. "NO_ROUTE" */
const char *gw_type_name(unsigned type);          /* e.g. "DATA" */

/*
 * Encoders: write one complete frame into @buf (capacity @cap), trailer
 * included (ctr from @h, tag zero: seal it with auth.h), and return its
 * length in bytes, or 0 if @cap is too small or an argument violates a limit
 * (dest_len 0 or > GW_DEST_MAX, payload_len > GW_PAYLOAD_MAX, bad reason).
 * @h supplies the common header fields (type and length are set by the encoder).
 * An encoder refuses (returns 0, writes nothing) every frame gw_wire_parse()
 * would refuse: unknown flags, a DATA with a malformed destination or a zero
 * origin, origin_seq or h->seq, a HELLO from sender 0, a WELCOME not from
 * sender 0 or with epoch, dup_window, keepalive_ms or keepalive_mult 0 or
 * max_payload > GW_PAYLOAD_MAX, a HELLO with rx_window 0. Reserved fields are
 * written as zero. Tests that need invalid frames patch valid ones.
 */
struct gw_hdr_args {
	uint16_t flags;
	uint32_t sender;
	uint32_t epoch;
	uint64_t seq;
	uint64_t ctr; /* v2: written into the trailer; the tag is left zero (auth.h seals it) */
};

size_t gw_wire_encode_data(void *buf, size_t cap, const struct gw_hdr_args *h,
			   uint32_t origin, uint64_t origin_seq, const void *dest, uint16_t dest_len,
			   const void *payload, uint16_t payload_len);
/*
 * gw_wire_encode_chunk - one chunk of a group: as gw_wire_encode_data() with
 * GW_F_CHUNK set in the header (whatever h->flags says) and @ck written as
 * the chunk extension. Refuses (returns 0) whatever the parser would refuse,
 * GW_WIRE_BAD_CHUNK's rules included: origin_seq must be ck->group +
 * ck->index and payload_len the length that index carries.
 */
size_t gw_wire_encode_chunk(void *buf, size_t cap, const struct gw_hdr_args *h, uint32_t origin,
			    uint64_t origin_seq, const void *dest, uint16_t dest_len,
			    const void *payload, uint16_t payload_len,
			    const struct gw_chunk_info *ck);

/*
 * gw_chunk_check - the parser's rules for a chunk extension (PROTOCOL.md
 * 3.1.1), for code that builds or tracks groups: 0 when @ck is a valid
 * chunk with @origin_seq and @payload_len, else -EINVAL. Pure.
 */
int gw_chunk_check(const struct gw_chunk_info *ck, uint64_t origin_seq, uint16_t payload_len);

/* Payload length chunk @index of a group carries (the last one is short);
 * @ck must have passed gw_chunk_check() (or be about to). */
static inline uint32_t gw_chunk_payload_len(const struct gw_chunk_info *ck, uint32_t index)
{
	return index + 1 < ck->count ? ck->chunk_len
				     : ck->total_len - (ck->count - 1) * ck->chunk_len;
}

size_t gw_wire_encode_ack(void *buf, size_t cap, const struct gw_hdr_args *h, uint64_t base,
			  uint64_t bitmap);
size_t gw_wire_encode_nack(void *buf, size_t cap, const struct gw_hdr_args *h,
			   uint64_t origin_seq, unsigned reason, uint32_t retry_after_us);
size_t gw_wire_encode_hello(void *buf, size_t cap, const struct gw_hdr_args *h, uint64_t nonce,
			    uint32_t rx_window);
size_t gw_wire_encode_welcome(void *buf, size_t cap, const struct gw_hdr_args *h,
			      uint64_t nonce, uint64_t router_seq, uint32_t dup_window,
			      uint32_t keepalive_ms, uint32_t keepalive_mult, uint32_t max_payload,
			      const uint8_t salt[GW_SALT_LEN]);
size_t gw_wire_encode_keepalive(void *buf, size_t cap, const struct gw_hdr_args *h);
size_t gw_wire_encode_bye(void *buf, size_t cap, const struct gw_hdr_args *h, uint32_t reason);

/*
 * In-place rewrite of the header of an already valid frame (used by the
 * router when it forwards a DATA frame on the destination link): sets sender,
 * epoch, seq and flags in the header and ctr in the trailer (found through the
 * frame's own length field); everything else, the tag included, is left
 * alone, so the caller seals the frame again afterwards. The frame's own
 * GW_F_CHUNK bit is kept whatever h->flags says: it describes the body's
 * layout, which a rewrite does not change. No checks: the caller
 * passes a complete valid frame and values valid for its type.
 */
void gw_wire_rewrite_hdr(void *frame, const struct gw_hdr_args *h);

/*
 * Destination address helpers. An address is "type:value"; type is 1..16
 * characters [a-z0-9-] (case-insensitive), value non-empty. The routing
 * domain of a value is the text after its last '@' if it has one, else the
 * whole value. Returns 0 and fills the out-parameters, or -EINVAL.
 * Also -EINVAL: a control byte (0x00-0x1f, 0x7f) anywhere in the value, or
 * an empty domain ("smtp:alice@"). gw_wire_parse() applies exactly this rule
 * (GW_WIRE_BAD_DEST), so a parsed DATA frame's destination always splits.
 * @type points at the type without its ':'; nothing is case-folded.
 */
int gw_addr_split(const uint8_t *addr, size_t len, const uint8_t **type, size_t *type_len,
		  const uint8_t **domain, size_t *domain_len);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif /* GWART_WIRE_H */
