/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Protocol version 2 authentication (auth.h; PROTOCOL.md section 17).
 *
 * Everything is libsodium: keyed BLAKE2b for derivation and handshake tags,
 * AES-256-GCM with an empty message (that is GMAC) for session tags. Nothing
 * here is invented; this file only fixes labels, byte orders and which bytes
 * each tag covers.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include <gwart/auth.h>

_Static_assert(sizeof(crypto_aead_aes256gcm_state) <= sizeof(struct gw_gmac_key),
	       "gw_gmac_key must hold libsodium's AES-256-GCM state");
_Static_assert(crypto_aead_aes256gcm_KEYBYTES == GW_KEY_LEN, "AES-256 key size");
_Static_assert(crypto_aead_aes256gcm_NPUBBYTES == 12, "GCM IV size");
_Static_assert(crypto_aead_aes256gcm_ABYTES == GW_TAG_LEN, "GCM tag size");

int gw_auth_init(void)
{
	/* sodium_init() is itself thread-safe and returns 1 once initialised. */
	if (sodium_init() < 0)
		return -EIO;
	return crypto_aead_aes256gcm_is_available() ? 0 : -ENOTSUP;
}

void gw_blake2b_mac(uint8_t *out, size_t out_len, const uint8_t key[GW_KEY_LEN],
		    const void *msg, size_t msg_len)
{
	crypto_generichash(out, out_len, msg, msg_len, key, GW_KEY_LEN);
}

/* BLAKE2b-256(key=secret, label || id || extra): the one derivation shape. */
static void derive(uint8_t out[GW_KEY_LEN], const uint8_t secret[GW_KEY_LEN], const char *label,
		   const uint8_t *extra, size_t extra_len)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, secret, GW_KEY_LEN, GW_KEY_LEN);
	crypto_generichash_update(&st, (const unsigned char *)label, strlen(label));
	crypto_generichash_update(&st, extra, extra_len);
	crypto_generichash_final(&st, out, GW_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

void gw_auth_derive_hs(const uint8_t secret[GW_KEY_LEN], uint32_t conn_id, struct gw_hs_keys *out)
{
	uint32_t id = htobe32(conn_id);

	derive(out->c2r, secret, "gwart v2 hs c2r", (const uint8_t *)&id, sizeof(id));
	derive(out->r2c, secret, "gwart v2 hs r2c", (const uint8_t *)&id, sizeof(id));
}

void gw_auth_derive_session(const uint8_t secret[GW_KEY_LEN], uint32_t conn_id, uint32_t epoch,
			    uint64_t nonce, const uint8_t salt[GW_SALT_LEN],
			    struct gw_session_keys *out)
{
	uint8_t v[4 + 4 + 8 + GW_SALT_LEN];
	uint32_t x32;
	uint64_t x64;

	x32 = htobe32(conn_id);
	memcpy(v, &x32, 4);
	x32 = htobe32(epoch);
	memcpy(v + 4, &x32, 4);
	x64 = htobe64(nonce);
	memcpy(v + 8, &x64, 8);
	memcpy(v + 16, salt, GW_SALT_LEN);
	derive(out->c2r, secret, "gwart v2 session c2r", v, sizeof(v));
	derive(out->r2c, secret, "gwart v2 session r2c", v, sizeof(v));
}

void gw_gmac_key_init(struct gw_gmac_key *k, const uint8_t raw[GW_KEY_LEN])
{
	crypto_aead_aes256gcm_beforenm((crypto_aead_aes256gcm_state *)(void *)k->opaque, raw);
}

void gw_gmac_key_wipe(struct gw_gmac_key *k)
{
	sodium_memzero(k, sizeof(*k));
}

void gw_auth_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

void gw_gmac(uint8_t tag[GW_TAG_LEN], const struct gw_gmac_key *k, const uint8_t iv[12],
	     const void *aad, size_t aad_len)
{
	unsigned long long tl;
	unsigned char none[1] = { 0 };

	/* An empty message: GCM then authenticates the additional data only. */
	crypto_aead_aes256gcm_encrypt_detached_afternm(
		none, tag, &tl, none, 0, aad, aad_len, NULL, iv,
		(const crypto_aead_aes256gcm_state *)(const void *)k->opaque);
}

/* IV of a session frame: 00 00 00 00 || ctr, ctr read from the trailer. */
static void frame_iv(uint8_t iv[12], const uint8_t *frame, size_t len)
{
	memset(iv, 0, 4);
	memcpy(iv + 4, frame + len - GW_TRAILER_LEN, GW_CTR_LEN);
}

void gw_auth_seal_session(void *frame, size_t len, const struct gw_gmac_key *k)
{
	uint8_t iv[12], *p = frame;

	if (len < GW_HDR_LEN + GW_TRAILER_LEN)
		return;
	frame_iv(iv, p, len);
	gw_gmac(p + len - GW_TAG_LEN, k, iv, p, len - GW_TAG_LEN);
}

bool gw_auth_check_session(const void *frame, size_t len, const struct gw_gmac_key *k)
{
	uint8_t iv[12], tag[GW_TAG_LEN];
	const uint8_t *p = frame;

	if (len < GW_HDR_LEN + GW_TRAILER_LEN)
		return false;
	frame_iv(iv, p, len);
	gw_gmac(tag, k, iv, p, len - GW_TAG_LEN);
	return gw_tag_equal(tag, p + len - GW_TAG_LEN);
}

void gw_auth_seal_hs(void *frame, size_t len, const uint8_t key[GW_KEY_LEN])
{
	uint8_t *p = frame;

	if (len < GW_HDR_LEN + GW_TRAILER_LEN)
		return;
	gw_blake2b_mac(p + len - GW_TAG_LEN, GW_TAG_LEN, key, p, len - GW_TAG_LEN);
}

bool gw_auth_check_hs(const void *frame, size_t len, const uint8_t key[GW_KEY_LEN])
{
	uint8_t tag[GW_TAG_LEN];
	const uint8_t *p = frame;

	if (len < GW_HDR_LEN + GW_TRAILER_LEN)
		return false;
	gw_blake2b_mac(tag, GW_TAG_LEN, key, p, len - GW_TAG_LEN);
	return gw_tag_equal(tag, p + len - GW_TAG_LEN);
}

bool gw_tag_equal(const uint8_t a[GW_TAG_LEN], const uint8_t b[GW_TAG_LEN])
{
	return sodium_memcmp(a, b, GW_TAG_LEN) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int gw_key_parse(const char *text, size_t len, uint8_t out[GW_KEY_LEN])
{
	uint8_t k[GW_KEY_LEN], zero[GW_KEY_LEN] = { 0 };
	size_t got = 0;
	const char *end = NULL;
	int rc = -EINVAL;

	if (text == NULL || out == NULL)
		return -EINVAL;
	while (len > 0 && is_space(text[0]))
		text++, len--;
	while (len > 0 && is_space(text[len - 1]))
		len--;
	if (len == 2 * GW_KEY_LEN) {
		if (sodium_hex2bin(k, sizeof(k), text, len, NULL, &got, &end) == 0 &&
		    got == GW_KEY_LEN && end == text + len)
			rc = 0;
	} else if (len == sodium_base64_ENCODED_LEN(GW_KEY_LEN, sodium_base64_VARIANT_ORIGINAL) - 1) {
		if (sodium_base642bin(k, sizeof(k), text, len, NULL, &got, &end,
				      sodium_base64_VARIANT_ORIGINAL) == 0 &&
		    got == GW_KEY_LEN && end == text + len)
			rc = 0;
	}
	if (rc == 0 && sodium_memcmp(k, zero, GW_KEY_LEN) == 0)
		rc = -EINVAL;
	if (rc == 0)
		memcpy(out, k, GW_KEY_LEN);
	sodium_memzero(k, sizeof(k));
	return rc;
}

void gw_key_generate(uint8_t out[GW_KEY_LEN])
{
	randombytes_buf(out, GW_KEY_LEN);
}

void gw_random_bytes(void *out, size_t len)
{
	randombytes_buf(out, len);
}
