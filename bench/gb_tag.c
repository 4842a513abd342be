/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session-frame tags of the harness in bursts (gb_tag.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_lcore.h>

#include "gb_tag.h"

#define GB_TAG_VDEV "crypto_aesni_gcm_gbh"

void gb_tag_open(struct gb_tagdev *td, unsigned max_sessions, int verbose)
{
	struct rte_cryptodev_config cfg = {.socket_id = (int)rte_socket_id(), .nb_queue_pairs = 1};
	struct rte_cryptodev_info info;
	int dev;

	td->dev = -1;
	td->pool = NULL;
	td->sess_size = 0;
	dev = rte_cryptodev_get_dev_id(GB_TAG_VDEV);
	if (dev < 0 && rte_vdev_init(GB_TAG_VDEV, NULL) == 0)
		dev = rte_cryptodev_get_dev_id(GB_TAG_VDEV);
	if (dev < 0)
		goto none;
	rte_cryptodev_info_get((uint8_t)dev, &info);
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO) ||
	    rte_cryptodev_configure((uint8_t)dev, &cfg) != 0 ||
	    rte_cryptodev_start((uint8_t)dev) != 0)
		goto uninit;
	td->sess_size = rte_cryptodev_sym_get_private_session_size((uint8_t)dev);
	/* No per-lcore cache: sessions come and go on endpoint threads,
	 * rarely (one pair per session). */
	td->pool = rte_cryptodev_sym_session_pool_create("gb_tag_sess", max_sessions + 64,
							 td->sess_size, 0, 0, (int)rte_socket_id());
	if (td->pool == NULL) {
		rte_cryptodev_stop((uint8_t)dev);
		goto uninit;
	}
	td->dev = dev;
	return;
uninit:
	rte_cryptodev_close((uint8_t)dev);
	rte_vdev_uninit(GB_TAG_VDEV);
none:
	if (verbose)
		fprintf(stderr, "gwart-bench: no %s device: tags through libsodium, one by one\n",
			GB_TAG_VDEV);
}

void gb_tag_close(struct gb_tagdev *td)
{
	if (td->dev < 0)
		return;
	rte_mempool_free(td->pool);
	td->pool = NULL;
	rte_cryptodev_stop((uint8_t)td->dev);
	rte_cryptodev_close((uint8_t)td->dev);
	rte_vdev_uninit(GB_TAG_VDEV);
	td->dev = -1;
}

int gb_tkey_set(const struct gb_tagdev *td, struct gb_tkey *k, const uint8_t raw[GW_KEY_LEN])
{
	gb_tkey_clear(td, k);
	if (td->dev >= 0) {
		/* The router's transform (dp_auth_xform_init): AES-256-GMAC,
		 * 12-byte IV at 0, 16-byte tag, GENERATE for both directions
		 * (a verifier compares the tag itself). */
		struct rte_crypto_sym_xform x;
		uint8_t key[GW_KEY_LEN];

		memcpy(key, raw, sizeof(key));
		memset(&x, 0, sizeof(x));
		x.type = RTE_CRYPTO_SYM_XFORM_AUTH;
		x.auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
		x.auth.algo = RTE_CRYPTO_AUTH_AES_GMAC;
		x.auth.key.data = key;
		x.auth.key.length = GW_KEY_LEN;
		x.auth.iv.offset = 0;
		x.auth.iv.length = 12;
		x.auth.digest_length = GW_TAG_LEN;
		k->sess = rte_cryptodev_sym_session_create((uint8_t)td->dev, &x, td->pool);
		gw_auth_wipe(key, sizeof(key));
		return k->sess != NULL ? 0 : -ENOMEM;
	}
	k->sk = aligned_alloc(64, sizeof(*k->sk));
	if (k->sk == NULL)
		return -ENOMEM;
	gw_gmac_key_init(k->sk, raw);
	return 0;
}

void gb_tkey_clear(const struct gb_tagdev *td, struct gb_tkey *k)
{
	if (k->sess != NULL && td->dev >= 0)
		rte_cryptodev_sym_session_free((uint8_t)td->dev, k->sess);
	k->sess = NULL;
	if (k->sk != NULL) {
		gw_gmac_key_wipe(k->sk);
		free(k->sk);
	}
	k->sk = NULL;
}

/* Constant-time equality of two tags: 128 bits folded, no early exit. */
static inline bool tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* The device's vectors for frames [from, from + n) of one session. */
static void dev_call(const struct gb_tagdev *td, struct gb_tag_batch *b, unsigned from, unsigned n,
		     bool seal)
{
	struct rte_crypto_vec v[GB_TAG_BATCH];
	struct rte_crypto_sgl sgl[GB_TAG_BATCH];
	struct rte_crypto_va_iova_ptr iv[GB_TAG_BATCH], dg[GB_TAG_BATCH];
	uint8_t ivb[GB_TAG_BATCH][16] __attribute__((aligned(16)));
	int32_t st[GB_TAG_BATCH];
	struct rte_crypto_sym_vec vec = {
	    .num = n, .src_sgl = sgl, .iv = iv, .digest = dg, .auth_iv = iv, .status = st};
	union rte_crypto_sym_ofs ofs = {.raw = 0};
	unsigned i;

	for (i = 0; i < n; i++) {
		uint8_t *fr = b->fr[from + i];
		uint16_t len = b->len[from + i];
		uint32_t z = 0;
		uint64_t ctr;

		/* IV = 00000000 || ctr as the trailer holds it (big-endian). */
		memcpy(&ctr, fr + len - GW_TRAILER_LEN, 8);
		memcpy(ivb[i], &z, 4);
		memcpy(ivb[i] + 4, &ctr, 8);
		v[i].base = fr;
		v[i].len = (uint32_t)len - GW_TAG_LEN;
		sgl[i].vec = &v[i];
		sgl[i].num = 1;
		iv[i].va = ivb[i];
		dg[i].va = seal ? fr + len - GW_TAG_LEN : b->scratch[from + i];
		st[i] = -1;
	}
	rte_cryptodev_sym_cpu_crypto_process((uint8_t)td->dev, b->key[from]->sess, ofs, &vec);
	for (i = 0; i < n; i++) {
		unsigned k = from + i;

		b->ok[k] = st[i] == 0 &&
			   (seal || tag_equal(b->scratch[k], b->fr[k] + b->len[k] - GW_TAG_LEN));
	}
}

void gb_tag_run(const struct gb_tagdev *td, struct gb_tag_batch *b, bool seal)
{
	unsigned i, j;

	if (td->dev < 0) {
		for (i = 0; i < b->n; i++) {
			if (seal) {
				gw_auth_seal_session(b->fr[i], b->len[i], b->key[i]->sk);
				b->ok[i] = 1;
			} else {
				b->ok[i] = gw_auth_check_session(b->fr[i], b->len[i], b->key[i]->sk);
			}
		}
		return;
	}
	for (i = 0; i < b->n; i = j) {
		for (j = i + 1; j < b->n && b->key[j]->sess == b->key[i]->sess; j++)
			;
		dev_call(td, b, i, j - i, seal);
	}
}

void gb_tag_seal_one(const struct gb_tagdev *td, uint8_t *fr, uint16_t len,
		     const struct gb_tkey *k)
{
	struct gb_tag_batch b;

	if (td->dev < 0) {
		gw_auth_seal_session(fr, len, k->sk);
		return;
	}
	b.n = 0;
	gb_tag_add(&b, fr, len, k, NULL, 0);
	dev_call(td, &b, 0, 1, true);
}
