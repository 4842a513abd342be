/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * gwart protocol version 2 authentication: keys, key derivation, frame tags.
 *
 * PROTOCOL.md section 17 is the normative text; this is its C rendering,
 * shared by the router's control plane, the connector SDK, the benchmark and
 * the tests. (The router's workers compute the same session tags in bursts
 * through DPDK's cryptodev; tests check both give identical tags.)
 *
 * Constructions (all from libsodium, RFC and NIST specified):
 * - key derivation: keyed BLAKE2b (RFC 7693), 32-byte output, keyed with the
 *   connector's 32-byte secret, over a label and the session's public values;
 * - handshake frames (HELLO, WELCOME, and every frame with epoch 0): tag =
 *   keyed BLAKE2b-128 over the frame up to the tag, with the direction's
 *   handshake key. It needs no nonce, so no clock or counter mistake of a
 *   connector can weaken its long-term key;
 * - session frames (every other frame): tag = AES-256-GMAC (NIST SP 800-38D:
 *   AES-256-GCM with an empty plaintext and the frame up to the tag as
 *   additional data) with the direction's session key and the 96-bit IV
 *   00 00 00 00 || ctr (big-endian). Session keys are fresh for every
 *   session (the router's salt) and ctr never repeats within a key (lanes,
 *   below), so an IV is never reused.
 *
 * Counters (trailer ctr of session frames): the top 8 bits name the sending
 * lane, the low 56 bits count frames of that lane from 1. Lane 0 (session)
 * carries KEEPALIVE and BYE, sent and checked by control threads; lane 1
 * (stream) carries DATA, ACK and NACK, sent and checked by the dataplane.
 * Each receiver keeps one replay window (replay.h) per lane and direction.
 *
 * Threading: every function is pure apart from gw_auth_init() and may be
 * called from any thread once gw_auth_init() has returned 0; struct
 * gw_gmac_key is read-only after gw_gmac_key_init() and may be shared.
 * Nothing here allocates. Secrets are wiped by the *_wipe functions.
 *
 * Connector authors linking libgwart-connector see only gw_key_parse() and
 * gw_key_generate() of this header (the SDK's version script): neither
 * needs gw_auth_init() (libsodium's randombytes initialises itself), and
 * gw_conn_open() calls gw_auth_init() for the session's own use.
 */
#ifndef GWART_AUTH_H
#define GWART_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gwart/wire.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(default)

#define GW_KEY_LEN 32u /* a connector's secret, and every derived key */

#define GW_LANE_SESSION 0u /* KEEPALIVE, BYE */
#define GW_LANE_STREAM 1u  /* DATA, ACK, NACK */
#define GW_LANE_COUNT 2u
#define GW_CTR_LANE_SHIFT 56
#define GW_CTR_COUNT_MAX ((UINT64_C(1) << GW_CTR_LANE_SHIFT) - 1) /* then rekey */

static inline uint64_t gw_ctr_make(unsigned lane, uint64_t count)
{
	return ((uint64_t)lane << GW_CTR_LANE_SHIFT) | (count & GW_CTR_COUNT_MAX);
}
static inline unsigned gw_ctr_lane(uint64_t ctr)
{
	return (unsigned)(ctr >> GW_CTR_LANE_SHIFT);
}
static inline uint64_t gw_ctr_count(uint64_t ctr)
{
	return ctr & GW_CTR_COUNT_MAX;
}

/* The lane a session frame of @type must use. */
static inline unsigned gw_type_lane(unsigned type)
{
	return (type == GW_T_KEEPALIVE || type == GW_T_BYE) ? GW_LANE_SESSION : GW_LANE_STREAM;
}

/* True when the frame is authenticated with the handshake keys (HELLO,
 * WELCOME, epoch 0), false when with the session keys of its epoch. */
static inline bool gw_frame_is_handshake(unsigned type, uint32_t epoch)
{
	return type == GW_T_HELLO || type == GW_T_WELCOME || epoch == 0;
}

/*
 * gw_auth_init - initialise libsodium once per process (thread-safe,
 * idempotent). Returns 0, or -ENOTSUP when this CPU has no AES-NI/PCLMUL
 * (libsodium's AES-256-GCM needs them), or -EIO if libsodium fails.
 */
int gw_auth_init(void);

/* Handshake keys of one connector, one per direction. */
struct gw_hs_keys {
	uint8_t c2r[GW_KEY_LEN]; /* HELLO */
	uint8_t r2c[GW_KEY_LEN]; /* WELCOME, router frames with epoch 0 */
};

/* Session keys, one per direction. */
struct gw_session_keys {
	uint8_t c2r[GW_KEY_LEN];
	uint8_t r2c[GW_KEY_LEN];
};

/* hs.c2r = BLAKE2b-256(key=@secret, "gwart v2 hs c2r" || id_be32), r2c alike. */
void gw_auth_derive_hs(const uint8_t secret[GW_KEY_LEN], uint32_t conn_id,
		       struct gw_hs_keys *out);

/* s.c2r = BLAKE2b-256(key=@secret, "gwart v2 session c2r" || id_be32 ||
 * epoch_be32 || nonce_be64 || salt[16]), r2c alike. @nonce is the HELLO's
 * instance nonce, @salt the WELCOME's. */
void gw_auth_derive_session(const uint8_t secret[GW_KEY_LEN], uint32_t conn_id, uint32_t epoch,
			    uint64_t nonce, const uint8_t salt[GW_SALT_LEN],
			    struct gw_session_keys *out);

/* An expanded AES-256-GCM key (libsodium's precomputed state). */
struct gw_gmac_key {
	_Alignas(16) unsigned char opaque[512];
};
void gw_gmac_key_init(struct gw_gmac_key *k, const uint8_t raw[GW_KEY_LEN]);
void gw_gmac_key_wipe(struct gw_gmac_key *k);
void gw_auth_wipe(void *p, size_t len); /* sodium_memzero */

/*
 * Tags. @frame is one complete frame of @len bytes (its length field), its
 * trailer's ctr already written. seal writes the tag; check returns true iff
 * the tag is right (constant time) and never writes. Both return false /
 * do nothing when @len < GW_HDR_LEN + GW_TRAILER_LEN.
 */
void gw_auth_seal_session(void *frame, size_t len, const struct gw_gmac_key *k);
bool gw_auth_check_session(const void *frame, size_t len, const struct gw_gmac_key *k);
void gw_auth_seal_hs(void *frame, size_t len, const uint8_t key[GW_KEY_LEN]);
bool gw_auth_check_hs(const void *frame, size_t len, const uint8_t key[GW_KEY_LEN]);

/* The raw primitives under the above, for test vectors and for checking
 * other implementations (the dataplane's cryptodev) against them. */
void gw_gmac(uint8_t tag[GW_TAG_LEN], const struct gw_gmac_key *k, const uint8_t iv[12],
	     const void *aad, size_t aad_len);
void gw_blake2b_mac(uint8_t *out, size_t out_len, const uint8_t key[GW_KEY_LEN],
		    const void *msg, size_t msg_len);

/* Constant-time comparison of two tags. */
bool gw_tag_equal(const uint8_t a[GW_TAG_LEN], const uint8_t b[GW_TAG_LEN]);

/*
 * gw_key_parse - a connector secret from text: 64 hexadecimal digits (either
 * case) or the standard base64 of 32 bytes (44 characters with '='); leading
 * and trailing ASCII whitespace is ignored. Returns 0, or -EINVAL (nothing
 * else accepted, @out untouched). The all-zero key is refused (-EINVAL): it
 * is what an unset key looks like.
 */
int gw_key_parse(const char *text, size_t len, uint8_t out[GW_KEY_LEN]);

/* Fills @out with GW_KEY_LEN random bytes (randombytes_buf). */
void gw_key_generate(uint8_t out[GW_KEY_LEN]);

/* Random bytes for salts, nonces and epochs (randombytes_buf). */
void gw_random_bytes(void *out, size_t len);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif /* GWART_AUTH_H */
