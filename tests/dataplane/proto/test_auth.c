/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Suite "auth": protocol version 2 authentication (auth.h, auth.c).
 *
 * Where a value comes from matters, so each table says it:
 * - AES-256-GMAC: NIST CAVS gcmEncryptExtIV256.rsp (PTlen 0) and McGrew &
 *   Viega, "The Galois/Counter Mode of Operation", test case 13; longer
 *   frame-shaped AADs computed with OpenSSL (Python `cryptography`);
 * - BLAKE2b: the BLAKE2 reference KAT (blake2b-kat.txt: key 00..3f, 64
 *   bytes, so through libsodium's crypto_generichash directly, the primitive
 *   under gw_blake2b_mac, whose key is 32 bytes), and for gw_blake2b_mac
 *   values computed with Python's hashlib (the BLAKE2 authors' code);
 * - derivations: hashlib, following PROTOCOL.md's text (labels, byte order).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include <gwart/auth.h>
#include <gwart/wire.h>

static void init(void)
{
	cr_assert_eq(gw_auth_init(), 0, "this CPU lacks AES-NI/PCLMUL or libsodium failed");
}

TestSuite(auth, .init = init);

static size_t unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	cr_assert_leq(n, cap);
	cr_assert_eq(sodium_hex2bin(out, cap, hex, strlen(hex), NULL, &n, NULL), 0, "%s", hex);
	return n;
}

static void eq_hex(const uint8_t *got, size_t n, const char *want, const char *what)
{
	char h[2 * 64 + 1];

	cr_assert_leq(n, 64);
	sodium_bin2hex(h, sizeof(h), got, n);
	cr_assert_str_eq(h, want, "%s", what);
}

/* ---- AES-256-GMAC -------------------------------------------------------- */

Test(auth, gmac_vectors)
{
	static const struct {
		const char *src, *key, *iv, *aad, *tag;
	} v[] = {
		{ "McGrew-Viega test case 13 (zero key, zero IV, nothing)",
		  "0000000000000000000000000000000000000000000000000000000000000000",
		  "000000000000000000000000", "", "530f8afbc74536b9a963b4f1c4cb738b" },
		{ "CAVS gcmEncryptExtIV256 PTlen 0 AADlen 0 count 0",
		  "b52c505a37d78eda5dd34f20c22540ea1b58963cf8e5bf8ffa85f9f2492505b4",
		  "516c33929df5a3284ff463d7", "", "bdc1ac884d332457a1d2664f168c76f0" },
		{ "CAVS gcmEncryptExtIV256 PTlen 0 AADlen 0 count 1",
		  "5fe0861cdc2690ce69b3658c7f26f8458eec1c9243c5ba0845305d897e96ca0f",
		  "770ac1a5a3d476d5d96944a1", "", "196d691e1047093ca4b3d2ef4baba216" },
		{ "CAVS gcmEncryptExtIV256 PTlen 0 AADlen 128 count 0",
		  "78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223",
		  "d79cf22d504cc793c3fb6c8a", "b96baa8c1c75a671bfb2d08d06be5f36",
		  "3e5d486aa2e30b22e040b85723a06e76" },
	};
	uint8_t key[32], iv[12], aad[64], tag[GW_TAG_LEN];
	struct gw_gmac_key k;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t al;

		cr_assert_eq(unhex(key, sizeof(key), v[i].key), 32);
		cr_assert_eq(unhex(iv, sizeof(iv), v[i].iv), 12);
		al = unhex(aad, sizeof(aad), v[i].aad);
		gw_gmac_key_init(&k, key);
		gw_gmac(tag, &k, iv, aad, al);
		eq_hex(tag, sizeof(tag), v[i].tag, v[i].src);
		gw_gmac_key_wipe(&k);
	}
}

/* AADs of frame sizes (not multiples of the 16-byte GHASH block), with a
 * session-frame IV; values from OpenSSL through Python's `cryptography`. */
Test(auth, gmac_frame_sized_aad)
{
	static const struct {
		size_t n;
		const char *tag;
	} v[] = {
		{ 58, "646832630955e3974de9a229842fbdd5" },
		{ 1000, "bffd470b87cce05fbb21618985211efa" },
	};
	static uint8_t aad[1000];
	uint8_t key[32], iv[12] = { 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0x01 }, tag[GW_TAG_LEN];
	struct gw_gmac_key k;

	for (unsigned i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(aad); i++)
		aad[i] = (uint8_t)(i * 7 + 3);
	gw_gmac_key_init(&k, key);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		gw_gmac(tag, &k, iv, aad, v[i].n);
		eq_hex(tag, sizeof(tag), v[i].tag, "frame-sized AAD");
	}
}

/* ---- BLAKE2b ------------------------------------------------------------- */

/* The BLAKE2 KAT is keyed with 64 bytes (00..3f), which gw_blake2b_mac's
 * 32-byte key cannot take: checked on libsodium's crypto_generichash, the
 * call gw_blake2b_mac makes. */
Test(auth, blake2b_reference_kat)
{
	static const struct {
		size_t in_len;
		const char *hash;
	} v[] = {
		{ 0, "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
		     "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568" },
		{ 1, "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4"
		     "187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd" },
		{ 255, "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e9248"
		       "4be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461" },
	};
	uint8_t key[64], in[255], out[64];

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		cr_assert_eq(crypto_generichash(out, sizeof(out), in, v[i].in_len, key, sizeof(key)),
			     0);
		eq_hex(out, sizeof(out), v[i].hash, "BLAKE2b KAT");
	}
}

/* gw_blake2b_mac with a 32-byte key (00..1f), input 00..n-1, outputs of 16
 * (the handshake tag) and 32 bytes (derivations); values from hashlib. The
 * 16-byte output is BLAKE2b with digest length 16, not a truncation. */
Test(auth, blake2b_mac_vectors)
{
	static const struct {
		size_t n;
		const char *t16, *t32;
	} v[] = {
		{ 0, "3daf97bce7888fd59773c66bf647459c",
		  "4e51e7a913fc80137da52880fecca175bf81e117d5c68126dc2774033517ea0d" },
		{ 1, "cb0f7736a53974236661585b8842dd8c",
		  "41ff93a4eaeebd3b78a93438a6f62a92ab5959c859e682b72c7def406197ca4d" },
		{ 3, "194701a386811588a35d83be1f36769c",
		  "e14fc9161564dd081204f2dd6146a9ffbef66f95d5dc80e0a225e213c09dad7b" },
		{ 128, "45d43af02414a146c8803c3f7da3554d",
		  "138893f1631ef3165629515d6ed800da3771b7926dced294205c7507351deebc" },
		{ 129, "aab5517a7ade99ce990a81aa3d3ea27d",
		  "ca60f75cbb714330c046d8f28b4ed351a3ee81776bb02a96abb646fe573e3d5c" },
		{ 255, "89cde4d1b8ea2dd5325db76af38ccb90",
		  "f60f5c4a575c43db6c93608515866ea998e04b35792f5a92b27aa5880cd6721e" },
	};
	uint8_t key[GW_KEY_LEN], in[255], out[32];

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		gw_blake2b_mac(out, 16, key, in, v[i].n);
		eq_hex(out, 16, v[i].t16, "BLAKE2b-128");
		gw_blake2b_mac(out, 32, key, in, v[i].n);
		eq_hex(out, 32, v[i].t32, "BLAKE2b-256");
	}
}

/* ---- derivations --------------------------------------------------------- */

/* Values from hashlib following PROTOCOL.md's formulas; the test key and the
 * all-0xff extremes (every byte-order mistake shows). test_wire's golden
 * tests check the worked example's keys. */
Test(auth, derivation_golden)
{
	uint8_t k[GW_KEY_LEN], ff[GW_KEY_LEN], salt[GW_SALT_LEN];
	struct gw_hs_keys hs;
	struct gw_session_keys s;

	for (unsigned i = 0; i < GW_KEY_LEN; i++)
		k[i] = (uint8_t)i;
	memset(ff, 0xff, sizeof(ff));
	memset(salt, 0xff, sizeof(salt));
	gw_auth_derive_hs(k, 1, &hs);
	eq_hex(hs.c2r, GW_KEY_LEN, "c0cd79a0b79d64c0f7e2ebd1d5a69633e49e1592f5eb12d2ac3c0eb61103485f",
	       "hs.c2r id 1");
	gw_auth_derive_hs(k, UINT32_MAX, &hs);
	eq_hex(hs.r2c, GW_KEY_LEN, "1005ea232a015795d684f0e3164fe0277c8891a955bfba4f86964f909b7a498c",
	       "hs.r2c id 2^32-1");
	gw_auth_derive_session(ff, UINT32_MAX, UINT32_MAX, UINT64_MAX, salt, &s);
	eq_hex(s.c2r, GW_KEY_LEN, "537427ef9a1104dae7c610ed213315a825161c81e8427f16b4a6644b880e0619",
	       "s.c2r all ff");
	eq_hex(s.r2c, GW_KEY_LEN, "c2d0ccb5877f47a2610a1597df410dc19cca80afc866fae59bbee92deb578bcb",
	       "s.r2c all ff");
}

/* Every input of the session derivation reaches both keys, and the two
 * directions, the handshake and the session keys never coincide. */
Test(auth, derivation_inputs_matter)
{
	uint8_t k[GW_KEY_LEN], salt[GW_SALT_LEN] = { 0 };
	struct gw_session_keys base, s;
	struct gw_hs_keys hs, hs2;

	for (unsigned i = 0; i < GW_KEY_LEN; i++)
		k[i] = (uint8_t)(i + 1);
	gw_auth_derive_session(k, 5, 9, 77, salt, &base);
	cr_assert_neq(memcmp(base.c2r, base.r2c, GW_KEY_LEN), 0);
	gw_auth_derive_hs(k, 5, &hs);
	cr_assert_neq(memcmp(hs.c2r, hs.r2c, GW_KEY_LEN), 0);
	cr_assert_neq(memcmp(hs.c2r, base.c2r, GW_KEY_LEN), 0);
	gw_auth_derive_hs(k, 6, &hs2);
	cr_assert_neq(memcmp(hs.c2r, hs2.c2r, GW_KEY_LEN), 0);

#define CHANGED(expr)                                                                              \
	do {                                                                                       \
		expr;                                                                              \
		cr_assert_neq(memcmp(s.c2r, base.c2r, GW_KEY_LEN), 0, #expr);                       \
		cr_assert_neq(memcmp(s.r2c, base.r2c, GW_KEY_LEN), 0, #expr);                       \
	} while (0)
	CHANGED(gw_auth_derive_session(k, 6, 9, 77, salt, &s));
	CHANGED(gw_auth_derive_session(k, 5, 10, 77, salt, &s));
	CHANGED(gw_auth_derive_session(k, 5, 9, 78, salt, &s));
	for (unsigned i = 0; i < GW_SALT_LEN; i++) {
		salt[i] = 1;
		CHANGED(gw_auth_derive_session(k, 5, 9, 77, salt, &s));
		salt[i] = 0;
	}
	k[31] ^= 0x80;
	CHANGED(gw_auth_derive_session(k, 5, 9, 77, salt, &s));
#undef CHANGED
}

/* ---- seal and check ------------------------------------------------------ */

/* A DATA frame (session key) and a HELLO (handshake key): sealed, checked,
 * and refused after each single-bit flip anywhere, tag included. */
Test(auth, seal_check_every_bit)
{
	static const struct gw_hdr_args hd = { .sender = 3, .epoch = 11, .seq = 5,
					       .ctr = 0x0100000000000005ull };
	static const struct gw_hdr_args hh = { .sender = 3, .epoch = 0, .seq = 5,
					       .ctr = 1796169600000000000ull };
	uint8_t key[GW_KEY_LEN], b[256], orig[256];
	struct gw_gmac_key gk, other;
	size_t len;

	for (unsigned i = 0; i < GW_KEY_LEN; i++)
		key[i] = (uint8_t)(0x40 + i);
	gw_gmac_key_init(&gk, key);
	key[0] ^= 1;
	gw_gmac_key_init(&other, key);
	key[0] ^= 1;

	len = gw_wire_encode_data(b, sizeof(b), &hd, 3, 5, "smtp:x@y.z", 10, "payload", 7);
	cr_assert_eq(len, GW_DATA_LEN(10, 7));
	memcpy(orig, b, len);
	gw_auth_seal_session(b, len, &gk);
	/* Only the tag is written. */
	cr_assert_eq(memcmp(b, orig, len - GW_TAG_LEN), 0);
	cr_assert_neq(memcmp(b + len - GW_TAG_LEN, orig + len - GW_TAG_LEN, GW_TAG_LEN), 0);
	cr_assert(gw_auth_check_session(b, len, &gk));
	cr_assert_not(gw_auth_check_session(b, len, &other));
	cr_assert_not(gw_auth_check_session(b, len - 1, &gk));
	for (size_t bit = 0; bit < len * 8; bit++) {
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_not(gw_auth_check_session(b, len, &gk), "session, bit %zu", bit);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	cr_assert(gw_auth_check_session(b, len, &gk));

	len = gw_wire_encode_hello(b, sizeof(b), &hh, 0x1234, 64);
	cr_assert_eq(len, GW_HELLO_LEN);
	memcpy(orig, b, len);
	gw_auth_seal_hs(b, len, key);
	cr_assert_eq(memcmp(b, orig, len - GW_TAG_LEN), 0);
	cr_assert(gw_auth_check_hs(b, len, key));
	for (size_t bit = 0; bit < len * 8; bit++) {
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		cr_assert_not(gw_auth_check_hs(b, len, key), "handshake, bit %zu", bit);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	key[GW_KEY_LEN - 1] ^= 0x01;
	cr_assert_not(gw_auth_check_hs(b, len, key));
	gw_gmac_key_wipe(&gk);
	gw_gmac_key_wipe(&other);
}

/* The ctr is part of the IV and of the covered bytes: the same frame under
 * another counter gets another tag, and a tag does not move between them. */
Test(auth, ctr_changes_tag)
{
	struct gw_hdr_args h = { .sender = 3, .epoch = 11, .seq = 0, .ctr = gw_ctr_make(0, 1) };
	uint8_t key[GW_KEY_LEN] = { 9 }, a[GW_KEEPALIVE_LEN], b[GW_KEEPALIVE_LEN];
	struct gw_gmac_key gk;

	gw_gmac_key_init(&gk, key);
	cr_assert_eq(gw_wire_encode_keepalive(a, sizeof(a), &h), GW_KEEPALIVE_LEN);
	h.ctr = gw_ctr_make(0, 2);
	cr_assert_eq(gw_wire_encode_keepalive(b, sizeof(b), &h), GW_KEEPALIVE_LEN);
	gw_auth_seal_session(a, sizeof(a), &gk);
	gw_auth_seal_session(b, sizeof(b), &gk);
	cr_assert_neq(memcmp(a + GW_KEEPALIVE_LEN - GW_TAG_LEN, b + GW_KEEPALIVE_LEN - GW_TAG_LEN,
			     GW_TAG_LEN),
		      0);
	memcpy(b + GW_KEEPALIVE_LEN - GW_TAG_LEN, a + GW_KEEPALIVE_LEN - GW_TAG_LEN, GW_TAG_LEN);
	cr_assert_not(gw_auth_check_session(b, sizeof(b), &gk));
	gw_gmac_key_wipe(&gk);
}

/* Shorter than a header and a trailer: check refuses, seal writes nothing. */
Test(auth, short_frames)
{
	uint8_t key[GW_KEY_LEN] = { 1 }, b[GW_HDR_LEN + GW_TRAILER_LEN], canary[sizeof(b)];
	struct gw_gmac_key gk;

	gw_gmac_key_init(&gk, key);
	memset(b, 0x5c, sizeof(b));
	memcpy(canary, b, sizeof(b));
	for (size_t n = 0; n < sizeof(b); n++) {
		gw_auth_seal_session(b, n, &gk);
		gw_auth_seal_hs(b, n, key);
		cr_assert_eq(memcmp(b, canary, sizeof(b)), 0, "n %zu", n);
		cr_assert_not(gw_auth_check_session(b, n, &gk), "n %zu", n);
		cr_assert_not(gw_auth_check_hs(b, n, key), "n %zu", n);
	}
	/* At exactly 48 bytes both work. */
	gw_auth_seal_session(b, sizeof(b), &gk);
	cr_assert(gw_auth_check_session(b, sizeof(b), &gk));
	gw_auth_seal_hs(b, sizeof(b), key);
	cr_assert(gw_auth_check_hs(b, sizeof(b), key));
	gw_gmac_key_wipe(&gk);
}

Test(auth, tag_equal)
{
	uint8_t a[GW_TAG_LEN] = { 0 }, b[GW_TAG_LEN] = { 0 };

	cr_assert(gw_tag_equal(a, b));
	for (unsigned i = 0; i < GW_TAG_LEN * 8; i++) {
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		cr_assert_not(gw_tag_equal(a, b), "bit %u", i);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}

Test(auth, wipe)
{
	struct gw_gmac_key gk;
	uint8_t key[GW_KEY_LEN], zero[sizeof(gk)] = { 0 };

	memset(key, 0x33, sizeof(key));
	gw_gmac_key_init(&gk, key);
	gw_gmac_key_wipe(&gk);
	cr_assert_eq(memcmp(&gk, zero, sizeof(gk)), 0);
	gw_auth_wipe(key, sizeof(key));
	cr_assert_eq(memcmp(key, zero, sizeof(key)), 0);
}

/* ---- keys from text ------------------------------------------------------ */

#define HEX_00_1F "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX_00_1F_UC "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
#define B64_00_1F "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

Test(auth, key_parse_table)
{
	static const struct {
		int id;
		const char *text;
		int ret;   /* 0: the key 00..1f (or ff..ff for id 9) */
	} c[] = {
		{ 1, HEX_00_1F, 0 },
		{ 2, HEX_00_1F_UC, 0 },
		{ 3, "000102030405060708090a0B0C0D0E0F101112131415161718191a1b1c1d1e1f", 0 },
		{ 4, B64_00_1F, 0 },
		{ 5, "  \t" HEX_00_1F "\n", 0 },
		{ 6, "\r\n" B64_00_1F " \f\v", 0 },
		{ 7, HEX_00_1F "\n\n", 0 },
		{ 8, "\t" B64_00_1F, 0 },
		{ 9, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0 },
		/* 63 and 65 digits, 62 and 66 */
		{ 10, "00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL },
		{ 11, HEX_00_1F "0", -EINVAL },
		{ 12, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL },
		{ 13, HEX_00_1F "00", -EINVAL },
		/* bad characters */
		{ 14, "g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL },
		{ 15, "000102030405060708090a0b0c0d0e0f10111213141516171819 a1b1c1d1e1f", -EINVAL },
		{ 16, "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL },
		{ 17, "000102030405060708090a0b0c0d0e::101112131415161718191a1b1c1d1e1f", -EINVAL },
		{ 18, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1-", -EINVAL },
		/* whitespace inside is not trimmed */
		{ 19, "00010203 405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", -EINVAL },
		/* base64: no padding, URL-safe alphabet, a bad character, too long */
		{ 20, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", -EINVAL },
		{ 21, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==", -EINVAL },
		{ 22, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh_=", -EINVAL },
		{ 23, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!=", -EINVAL },
		{ 24, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAA==", -EINVAL },
		/* non-canonical base64: the last digit's unused bits not zero */
		{ 25, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", -EINVAL },
		/* the all-zero key, both spellings: what an unset key looks like */
		{ 26, "0000000000000000000000000000000000000000000000000000000000000000", -EINVAL },
		{ 27, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", -EINVAL },
		/* empty, only whitespace */
		{ 28, "", -EINVAL },
		{ 29, "   \n", -EINVAL },
	};
	uint8_t want[GW_KEY_LEN], ff[GW_KEY_LEN], out[GW_KEY_LEN], canary[GW_KEY_LEN];

	for (unsigned i = 0; i < GW_KEY_LEN; i++)
		want[i] = (uint8_t)i;
	memset(ff, 0xff, sizeof(ff));
	memset(canary, 0xc5, sizeof(canary));
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int r;

		memcpy(out, canary, sizeof(out));
		r = gw_key_parse(c[i].text, strlen(c[i].text), out);
		cr_assert_eq(r, c[i].ret, "case %d: got %d", c[i].id, r);
		if (r == 0)
			cr_assert_eq(memcmp(out, c[i].id == 9 ? ff : want, GW_KEY_LEN), 0, "case %d",
				     c[i].id);
		else
			cr_assert_eq(memcmp(out, canary, GW_KEY_LEN), 0, "case %d: out written",
				     c[i].id);
	}
}

Test(auth, key_parse_lengths_and_nul)
{
	uint8_t out[GW_KEY_LEN], want[GW_KEY_LEN];
	char buf[80];

	for (unsigned i = 0; i < GW_KEY_LEN; i++)
		want[i] = (uint8_t)i;
	/* The length given rules, not a NUL: a NUL inside is a bad character. */
	memcpy(buf, HEX_00_1F, 64);
	buf[64] = 'z';
	cr_assert_eq(gw_key_parse(buf, 64, out), 0);
	cr_assert_eq(memcmp(out, want, GW_KEY_LEN), 0);
	buf[20] = '\0';
	cr_assert_eq(gw_key_parse(buf, 64, out), -EINVAL);
	cr_assert_eq(gw_key_parse(NULL, 64, out), -EINVAL);
	cr_assert_eq(gw_key_parse(HEX_00_1F, 64, NULL), -EINVAL);
	cr_assert_eq(gw_key_parse(HEX_00_1F, 0, out), -EINVAL);
	/* Every length but 64 (hex) and 44 (base64) of a hex text is refused. */
	for (size_t n = 0; n < 64; n++)
		cr_assert_eq(gw_key_parse(HEX_00_1F, n, out), -EINVAL, "n %zu", n);
	/* A fresh key is never refused by the parser once written as hex. */
	for (int i = 0; i < 16; i++) {
		uint8_t k[GW_KEY_LEN], back[GW_KEY_LEN];
		char hex[2 * GW_KEY_LEN + 1];

		gw_key_generate(k);
		sodium_bin2hex(hex, sizeof(hex), k, sizeof(k));
		cr_assert_eq(gw_key_parse(hex, 64, back), 0);
		cr_assert_eq(memcmp(k, back, GW_KEY_LEN), 0);
	}
}

/* ---- counters and lanes -------------------------------------------------- */

Test(auth, ctr_boundaries)
{
	cr_assert_eq(GW_CTR_COUNT_MAX, UINT64_C(0x00ffffffffffffff));
	cr_assert_eq(gw_ctr_make(GW_LANE_SESSION, 1), UINT64_C(1));
	cr_assert_eq(gw_ctr_make(GW_LANE_STREAM, 1), UINT64_C(0x0100000000000001));
	cr_assert_eq(gw_ctr_make(GW_LANE_STREAM, GW_CTR_COUNT_MAX), UINT64_C(0x01ffffffffffffff));
	cr_assert_eq(gw_ctr_make(GW_LANE_SESSION, GW_CTR_COUNT_MAX), GW_CTR_COUNT_MAX);
	/* A count above the maximum cannot reach the lane bits: it is masked
	 * (count 0, which no replay window accepts). Senders never get there. */
	cr_assert_eq(gw_ctr_make(GW_LANE_SESSION, GW_CTR_COUNT_MAX + 1), 0);
	cr_assert_eq(gw_ctr_make(GW_LANE_STREAM, GW_CTR_COUNT_MAX + 1), UINT64_C(0x0100000000000000));
	cr_assert_eq(gw_ctr_lane(gw_ctr_make(GW_LANE_STREAM, UINT64_MAX)), GW_LANE_STREAM);
	cr_assert_eq(gw_ctr_make(255, 0), UINT64_C(0xff00000000000000));

	cr_assert_eq(gw_ctr_lane(0), 0);
	cr_assert_eq(gw_ctr_count(0), 0);
	cr_assert_eq(gw_ctr_lane(UINT64_MAX), 255);
	cr_assert_eq(gw_ctr_count(UINT64_MAX), GW_CTR_COUNT_MAX);
	cr_assert_eq(gw_ctr_lane(UINT64_C(0x00ffffffffffffff)), 0);
	cr_assert_eq(gw_ctr_lane(UINT64_C(0x0100000000000000)), 1);
	cr_assert_eq(gw_ctr_count(UINT64_C(0x0100000000000000)), 0);
	/* A HELLO's ctr is a time in ns: its "lane" bits are not checked. */
	cr_assert_eq(gw_ctr_lane(1796169600000000000ull), 0x18);
	for (unsigned lane = 0; lane < 256; lane += 51)
		for (uint64_t n = 1; n < (UINT64_C(1) << 56); n = n * 3 + 1) {
			uint64_t c = gw_ctr_make(lane, n);

			cr_assert_eq(gw_ctr_lane(c), lane);
			cr_assert_eq(gw_ctr_count(c), n);
		}
}

Test(auth, lanes_and_handshake_frames)
{
	cr_assert_eq(gw_type_lane(GW_T_KEEPALIVE), GW_LANE_SESSION);
	cr_assert_eq(gw_type_lane(GW_T_BYE), GW_LANE_SESSION);
	cr_assert_eq(gw_type_lane(GW_T_DATA), GW_LANE_STREAM);
	cr_assert_eq(gw_type_lane(GW_T_ACK), GW_LANE_STREAM);
	cr_assert_eq(gw_type_lane(GW_T_NACK), GW_LANE_STREAM);
	for (unsigned t = GW_T_DATA; t <= GW_T_MAX; t++) {
		cr_assert(gw_frame_is_handshake(t, 0), "type %u epoch 0", t);
		cr_assert_eq(gw_frame_is_handshake(t, 1), t == GW_T_HELLO || t == GW_T_WELCOME,
			     "type %u", t);
		cr_assert_eq(gw_frame_is_handshake(t, UINT32_MAX),
			     t == GW_T_HELLO || t == GW_T_WELCOME, "type %u", t);
	}
}

/* gw_random_bytes and gw_key_generate fill what they are given. */
Test(auth, random)
{
	uint8_t a[GW_KEY_LEN], b[GW_KEY_LEN], zero[GW_KEY_LEN] = { 0 };

	gw_key_generate(a);
	gw_key_generate(b);
	cr_assert_neq(memcmp(a, b, GW_KEY_LEN), 0);
	cr_assert_neq(memcmp(a, zero, GW_KEY_LEN), 0);
	gw_random_bytes(a, sizeof(a));
	cr_assert_neq(memcmp(a, zero, GW_KEY_LEN), 0);
}
