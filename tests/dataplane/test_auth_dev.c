/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' tags (cryptodev crypto_aesni_gcm, auth_dev.c) against the
 * specification and against libsodium (auth.h gw_gmac, what connectors,
 * control and the SDK use): NIST SP 800-38D / CAVS gcmEncryptExtIV256
 * vectors with empty plaintext, then random frames of every size class in
 * bursts of 1 to DP_BURST_MAX, sessions created and freed as
 * dp_conn_session_up() does.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>
#include <rte_cryptodev.h>
#include <rte_random.h>

#include <gwart/auth.h>

#include "auth_dev.h"
#include "eal.h"
#include "router_api.h"
#include "tuning.h"

static struct dp_router *rt;

static void up(void)
{
	struct dp_router_params p = {
	    .nb_mbuf = 511, .mbuf_data_room = RTE_MBUF_DEFAULT_BUF_SIZE, .udp_port = 9000,
	    .max_routes = 16, .max_sessions = 8};
	int err = 0;

	test_eal_start("0-1");
	cr_assert_eq(gw_auth_init(), 0);
	rt = dp_router_create(&p, &err);
	cr_assert_not_null(rt, "router: %d", err);
	cr_assert_geq(rt->auth_dev, 0, "the cryptodev exists: %d", rt->auth_dev);
}

static void down(void)
{
	dp_router_free(rt);
	test_eal_down();
}

TestSuite(auth_dev, .init = up, .fini = down);

static void hex(const char *s, uint8_t *out, size_t n)
{
	size_t i;

	cr_assert_eq(strlen(s), 2 * n);
	for (i = 0; i < n; i++) {
		unsigned v;

		cr_assert_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* One raw GMAC through the device with any IV (the frame path builds its
 * IV from the trailer; the vectors have their own). */
static void dev_gmac(const struct dp_auth_sess *s, const uint8_t iv[12], const void *aad,
		     size_t aad_len, uint8_t tag[16])
{
	uint8_t ivb[16] = {0};
	struct rte_crypto_vec v = {.base = (void *)(uintptr_t)aad, .len = (uint32_t)aad_len};
	struct rte_crypto_sgl sgl = {.vec = &v, .num = 1};
	struct rte_crypto_va_iova_ptr ivp = {.va = ivb}, dp = {.va = tag};
	int32_t st = -1;
	struct rte_crypto_sym_vec vec = {
	    .num = 1, .src_sgl = &sgl, .iv = &ivp, .digest = &dp, .auth_iv = &ivp, .status = &st};
	union rte_crypto_sym_ofs ofs = {.raw = 0};

	memcpy(ivb, iv, 12);
	cr_assert_eq(rte_cryptodev_sym_cpu_crypto_process(s->dev, s->c2r, ofs, &vec), 1);
	cr_assert_eq(st, 0);
}

static void vector(const char *key_hex, const char *iv_hex, const char *aad_hex,
		   const char *tag_hex)
{
	struct gw_session_keys k;
	struct gw_gmac_key gk;
	uint8_t iv[12], aad[64], want[16], got[16], sod[16];
	size_t aad_len = strlen(aad_hex) / 2;
	struct dp_auth_sess *s;
	int err = 0;

	hex(key_hex, k.c2r, 32);
	memset(k.r2c, 0x5a, sizeof(k.r2c));
	hex(iv_hex, iv, 12);
	if (aad_len != 0)
		hex(aad_hex, aad, aad_len);
	hex(tag_hex, want, 16);
	s = dp_auth_sess_create(rt, &k, &err);
	cr_assert_not_null(s, "%d", err);
	dev_gmac(s, iv, aad, aad_len, got);
	cr_expect_arr_eq(got, want, 16, "cryptodev matches NIST");
	gw_gmac_key_init(&gk, k.c2r);
	gw_gmac(sod, &gk, iv, aad, aad_len);
	cr_expect_arr_eq(sod, want, 16, "libsodium matches NIST");
	dp_auth_sess_free(s);
}

Test(auth_dev, nist_vectors)
{
	/* gcmEncryptExtIV256.rsp, [Keylen = 256] [IVlen = 96] [PTlen = 0]
	 * [AADlen = 128] [Taglen = 128], Count = 0. */
	vector("78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223",
	       "d79cf22d504cc793c3fb6c8a", "b96baa8c1c75a671bfb2d08d06be5f36",
	       "3e5d486aa2e30b22e040b85723a06e76");
	/* McGrew and Viega, GCM test case 13: zero key, zero IV, nothing. */
	vector("0000000000000000000000000000000000000000000000000000000000000000",
	       "000000000000000000000000", "", "530f8afbc74536b9a963b4f1c4cb738b");
}

static uint8_t frames[DP_BURST_MAX][1400];

Test(auth_dev, random_frames_match_libsodium)
{
	static const uint16_t classes[] = {GW_HDR_LEN + GW_TRAILER_LEN, 64, 128, 1200, 1399};
	unsigned round;

	for (round = 0; round < 40; round++) {
		struct gw_session_keys k;
		struct gw_gmac_key gk;
		struct dp_auth_sess *s;
		uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
		uint8_t tags[DP_BURST_MAX][16];
		uint16_t len[DP_BURST_MAX];
		unsigned n = round < 5 ? round + 1 : 1 + (unsigned)(rte_rand() % DP_BURST_MAX), i;
		int err = 0;

		if (round == 5)
			n = DP_BURST_MAX;
		gw_random_bytes(&k, sizeof(k));
		s = dp_auth_sess_create(rt, &k, &err);
		cr_assert_not_null(s, "%d", err);
		for (i = 0; i < n; i++) {
			len[i] = round % 2 ? classes[rte_rand() % RTE_DIM(classes)]
					   : (uint16_t)(GW_HDR_LEN + GW_TRAILER_LEN +
							rte_rand() % (1400 - GW_HDR_LEN -
								      GW_TRAILER_LEN));
			gw_random_bytes(frames[i], len[i]);
			fr[i] = frames[i];
			dig[i] = tags[i];
		}
		/* Verify direction (c2r) into scratch, seal direction (r2c)
		 * into the frames' own tag fields. */
		cr_assert_eq(dp_auth_gmac_burst(s, s->c2r, n, fr, len, dig, ok), n);
		gw_gmac_key_init(&gk, k.c2r);
		for (i = 0; i < n; i++) {
			uint8_t iv[12] = {0}, want[16];

			memcpy(iv + 4, fr[i] + len[i] - GW_TRAILER_LEN, 8);
			gw_gmac(want, &gk, iv, fr[i], len[i] - GW_TAG_LEN);
			cr_expect(ok[i]);
			cr_expect_arr_eq(tags[i], want, 16, "round %u frame %u len %u", round, i,
					 len[i]);
			dig[i] = fr[i] + len[i] - GW_TAG_LEN;
		}
		cr_assert_eq(dp_auth_gmac_burst(s, s->r2c, n, fr, len, dig, ok), n);
		gw_gmac_key_init(&gk, k.r2c);
		for (i = 0; i < n; i++)
			cr_expect(gw_auth_check_session(fr[i], len[i], &gk),
				  "sealed frame %u verifies with libsodium", i);
		/* One bit anywhere covered changes the tag. */
		frames[0][rte_rand() % (len[0] - GW_TAG_LEN)] ^= 1;
		cr_expect_not(gw_auth_check_session(fr[0], len[0], &gk));
		gw_gmac_key_wipe(&gk);
		dp_auth_sess_free(s);
	}
}

Test(auth_dev, pool_bound)
{
	struct gw_session_keys k;
	struct dp_auth_sess *s[9];
	unsigned i;
	int err = 0;

	memset(&k, 7, sizeof(k));
	/* max_sessions 8: 8 pairs fit, the 9th is refused, nothing leaks. */
	for (i = 0; i < 8; i++) {
		s[i] = dp_auth_sess_create(rt, &k, &err);
		cr_assert_not_null(s[i], "%u: %d", i, err);
	}
	s[8] = dp_auth_sess_create(rt, &k, &err);
	cr_expect_null(s[8]);
	cr_expect_eq(err, -ENOMEM);
	for (i = 0; i < 8; i++)
		dp_auth_sess_free(s[i]);
	s[0] = dp_auth_sess_create(rt, &k, &err);
	cr_expect_not_null(s[0], "returned to the pool");
	dp_auth_sess_free(s[0]);
}

Test(auth_dev, grouped_interleaved_sessions)
{
	struct gw_session_keys k[3];
	struct gw_gmac_key gk[3];
	struct dp_auth_sess *s[3];
	const struct dp_auth_sess *a[DP_BURST_MAX];
	uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
	uint16_t len[DP_BURST_MAX];
	unsigned i, which[DP_BURST_MAX];
	int err = 0;

	for (i = 0; i < 3; i++) {
		gw_random_bytes(&k[i], sizeof(k[i]));
		s[i] = dp_auth_sess_create(rt, &k[i], &err);
		cr_assert_not_null(s[i], "%d", err);
		gw_gmac_key_init(&gk[i], k[i].r2c);
	}
	/* Sessions in random order, every 7th frame without one (sent as
	 * it is: its bytes and ok[] stay untouched). */
	for (i = 0; i < DP_BURST_MAX; i++) {
		which[i] = (unsigned)(rte_rand() % 3);
		a[i] = i % 7 == 3 ? NULL : s[which[i]];
		len[i] = (uint16_t)(64 + rte_rand() % 1000);
		gw_random_bytes(frames[i], len[i]);
		fr[i] = frames[i];
		dig[i] = frames[i] + len[i] - GW_TAG_LEN;
		ok[i] = 7;
	}
	dp_auth_gmac_grouped(DP_BURST_MAX, a, 1, fr, len, dig, ok);
	for (i = 0; i < DP_BURST_MAX; i++) {
		if (a[i] == NULL) {
			cr_expect_eq(ok[i], 7, "frame %u untouched", i);
			cr_expect_not(gw_auth_check_session(fr[i], len[i], &gk[which[i]]));
			continue;
		}
		cr_expect_eq(ok[i], 1);
		cr_expect(gw_auth_check_session(fr[i], len[i], &gk[which[i]]),
			  "frame %u sealed with its own session's key", i);
		cr_expect_not(gw_auth_check_session(fr[i], len[i], &gk[(which[i] + 1) % 3]));
	}
	for (i = 0; i < 3; i++) {
		gw_gmac_key_wipe(&gk[i]);
		dp_auth_sess_free(s[i]);
	}
}

/* More sessions in one burst than dp_auth_gmac_grouped() has hint slots
 * (16): 40 distinct session objects (copies of 8 real pairs: the suite's
 * pool holds 8), so slots collide whatever the addresses; every frame is
 * still sealed with its own session's key. */
Test(auth_dev, grouped_more_sessions_than_hints)
{
	static struct dp_auth_sess copies[40];
	struct gw_session_keys k[8];
	struct gw_gmac_key gk[8];
	struct dp_auth_sess *s[8];
	const struct dp_auth_sess *a[DP_BURST_MAX];
	uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
	uint16_t len[DP_BURST_MAX];
	unsigned i, which[DP_BURST_MAX];
	int err = 0;

	for (i = 0; i < 8; i++) {
		gw_random_bytes(&k[i], sizeof(k[i]));
		s[i] = dp_auth_sess_create(rt, &k[i], &err);
		cr_assert_not_null(s[i], "%d", err);
		gw_gmac_key_init(&gk[i], k[i].r2c);
	}
	for (i = 0; i < 40; i++)
		copies[i] = *s[i % 8];
	for (i = 0; i < DP_BURST_MAX; i++) {
		which[i] = i < 40 ? i : (unsigned)(rte_rand() % 40);
		a[i] = &copies[which[i]];
		len[i] = (uint16_t)(64 + rte_rand() % 200);
		gw_random_bytes(frames[i], len[i]);
		fr[i] = frames[i];
		dig[i] = frames[i] + len[i] - GW_TAG_LEN;
		ok[i] = 7;
	}
	dp_auth_gmac_grouped(DP_BURST_MAX, a, 1, fr, len, dig, ok);
	for (i = 0; i < DP_BURST_MAX; i++) {
		cr_expect_eq(ok[i], 1);
		cr_expect(gw_auth_check_session(fr[i], len[i], &gk[which[i] % 8]),
			  "frame %u sealed with its own session's key", i);
		cr_expect_not(gw_auth_check_session(fr[i], len[i], &gk[(which[i] + 1) % 8]));
	}
	for (i = 0; i < 8; i++) {
		gw_gmac_key_wipe(&gk[i]);
		dp_auth_sess_free(s[i]);
	}
}

/* A burst of one session (the device call takes the frames as they are, no
 * grouping), whole and with gaps, in both directions; a frame whose bytes
 * changed after sealing verifies to a different tag. */
Test(auth_dev, grouped_one_session)
{
	struct gw_session_keys k;
	struct gw_gmac_key gk;
	struct dp_auth_sess *s;
	const struct dp_auth_sess *a[DP_BURST_MAX];
	uint8_t *fr[DP_BURST_MAX], *dig[DP_BURST_MAX], ok[DP_BURST_MAX];
	uint8_t tags[DP_BURST_MAX][GW_TAG_LEN];
	uint16_t len[DP_BURST_MAX];
	unsigned i, gaps;
	int err = 0;

	gw_random_bytes(&k, sizeof(k));
	s = dp_auth_sess_create(rt, &k, &err);
	cr_assert_not_null(s, "%d", err);
	for (gaps = 0; gaps < 2; gaps++) {
		gw_gmac_key_init(&gk, k.r2c);
		for (i = 0; i < DP_BURST_MAX; i++) {
			a[i] = gaps && i % 5 == 2 ? NULL : s;
			len[i] = (uint16_t)(64 + rte_rand() % 1000);
			gw_random_bytes(frames[i], len[i]);
			fr[i] = frames[i];
			dig[i] = frames[i] + len[i] - GW_TAG_LEN;
			ok[i] = 7;
		}
		dp_auth_gmac_grouped(DP_BURST_MAX, a, 1, fr, len, dig, ok);
		for (i = 0; i < DP_BURST_MAX; i++) {
			if (a[i] == NULL) {
				cr_expect_eq(ok[i], 7, "frame %u untouched", i);
				cr_expect_not(gw_auth_check_session(fr[i], len[i], &gk));
				continue;
			}
			cr_expect_eq(ok[i], 1);
			cr_expect(gw_auth_check_session(fr[i], len[i], &gk), "frame %u sealed", i);
		}
		gw_gmac_key_wipe(&gk);
		/* Verify direction (c2r): the tags libsodium computes with c2r. */
		gw_gmac_key_init(&gk, k.c2r);
		for (i = 0; i < DP_BURST_MAX; i++) {
			if (a[i] == NULL)
				continue;
			gw_auth_seal_session(fr[i], len[i], &gk);
			if (i % 3 == 0)
				fr[i][i % (len[i] - GW_TAG_LEN)] ^= 1;
			dig[i] = tags[i];
			ok[i] = 7;
		}
		dp_auth_gmac_grouped(DP_BURST_MAX, a, 0, fr, len, dig, ok);
		for (i = 0; i < DP_BURST_MAX; i++) {
			if (a[i] == NULL) {
				cr_expect_eq(ok[i], 7);
				continue;
			}
			cr_expect_eq(ok[i], 1);
			cr_expect_eq(dp_auth_tag_equal(tags[i], fr[i] + len[i] - GW_TAG_LEN),
				     i % 3 != 0, "frame %u: tag %s", i,
				     i % 3 ? "matches" : "of changed bytes differs");
		}
		gw_gmac_key_wipe(&gk);
	}
	dp_auth_sess_free(s);
}

Test(auth_dev, tag_equal)
{
	uint8_t a[16], b[16];
	unsigned i, bit;

	gw_random_bytes(a, sizeof(a));
	memcpy(b, a, sizeof(b));
	cr_expect(dp_auth_tag_equal(a, b));
	/* Every single-bit difference is one. */
	for (i = 0; i < 16; i++)
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			cr_expect_not(dp_auth_tag_equal(a, b), "byte %u bit %u", i, bit);
			cr_expect_eq(dp_auth_tag_equal(a, b), gw_tag_equal(a, b));
			b[i] ^= (uint8_t)(1u << bit);
		}
}
