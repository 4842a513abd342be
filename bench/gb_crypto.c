/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Scenario crypto: what a frame tag costs on this host, per candidate, in
 * TSC cycles per frame, for the frame sizes that matter (64: an ACK, 128: a
 * small DATA, 1200: a large one), one frame per call and in bursts of 32:
 *
 *   sodium-gmac     libsodium AES-256-GCM, empty plaintext, frame as AAD (auth.h gw_gmac)
 *   sodium-chacha   libsodium ChaCha20-Poly1305 (IETF), the same way
 *   sodium-blake2b  libsodium keyed BLAKE2b, 16-byte output (the handshake tag)
 *   dpdk-gcm-gmac   cryptodev crypto_aesni_gcm, AES-256-GMAC, cpu crypto (the workers')
 *   dpdk-mb-gmac    cryptodev crypto_aesni_mb, AES-256-GMAC, cpu crypto
 *
 * Each figure is the best of 5 rounds of N frames (the least disturbed by
 * whatever else shares the CPU), on one pinned CPU (the first of
 * --cpus-workers). libsodium has no burst call: its burst figure is 32 calls
 * in a row, so the comparison shows what batching buys the device path.
 * The tags of both devices are checked against libsodium's before timing.
 */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include <gwart/auth.h>

#include "gb.h"

#define CB_N 20000u  /* frames per round */
#define CB_ROUNDS 5u
#define CB_BURST 32u

static uint8_t fr[CB_BURST][1280];
static uint8_t key[32];
static volatile uint8_t sink;

enum cand { C_SODIUM_GMAC, C_SODIUM_CHACHA, C_SODIUM_BLAKE2B, C_DPDK_GCM, C_DPDK_MB, C_COUNT };
static const char *const cand_name[C_COUNT] = {"sodium-gmac", "sodium-chacha", "sodium-blake2b",
					       "dpdk-gcm-gmac", "dpdk-mb-gmac"};

struct dev {
	int id;
	void *sess;
	struct rte_mempool *pool;
};

static int dev_open(const char *drv, struct dev *d)
{
	char name[64];
	struct rte_cryptodev_config cfg = {.socket_id = (int)rte_socket_id(), .nb_queue_pairs = 1};
	struct rte_crypto_sym_xform x;
	struct rte_cryptodev_info info;

	snprintf(name, sizeof(name), "%s_gb", drv);
	if (rte_vdev_init(name, NULL) != 0)
		return -ENODEV;
	d->id = rte_cryptodev_get_dev_id(name);
	if (d->id < 0)
		return -ENODEV;
	rte_cryptodev_info_get((uint8_t)d->id, &info);
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO))
		return -ENOTSUP;
	if (rte_cryptodev_configure((uint8_t)d->id, &cfg) != 0 ||
	    rte_cryptodev_start((uint8_t)d->id) != 0)
		return -EIO;
	snprintf(name, sizeof(name), "%s_gbp", drv);
	d->pool = rte_cryptodev_sym_session_pool_create(
		name, 4, rte_cryptodev_sym_get_private_session_size((uint8_t)d->id), 0, 0,
		(int)rte_socket_id());
	if (d->pool == NULL)
		return -ENOMEM;
	memset(&x, 0, sizeof(x));
	x.type = RTE_CRYPTO_SYM_XFORM_AUTH;
	x.auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
	x.auth.algo = RTE_CRYPTO_AUTH_AES_GMAC;
	x.auth.key.data = key;
	x.auth.key.length = 32;
	x.auth.iv.length = 12;
	x.auth.digest_length = 16;
	d->sess = rte_cryptodev_sym_session_create((uint8_t)d->id, &x, d->pool);
	return d->sess != NULL ? 0 : -EIO;
}

/* Tags of frames [0, n) of @len bytes through @d; IV from each frame. */
static void dev_tags(const struct dev *d, unsigned n, size_t len, uint8_t tags[][16])
{
	struct rte_crypto_vec v[CB_BURST];
	struct rte_crypto_sgl sgl[CB_BURST];
	struct rte_crypto_va_iova_ptr iv[CB_BURST], dg[CB_BURST];
	uint8_t ivb[CB_BURST][16];
	int32_t st[CB_BURST];
	struct rte_crypto_sym_vec vec = {
		.num = n, .src_sgl = sgl, .iv = iv, .digest = dg, .auth_iv = iv, .status = st};
	union rte_crypto_sym_ofs ofs = {.raw = 0};
	unsigned i;

	for (i = 0; i < n; i++) {
		memset(ivb[i], 0, 4);
		memcpy(ivb[i] + 4, fr[i] + len - 24, 8);
		v[i].base = fr[i];
		v[i].len = (uint32_t)len - 16;
		sgl[i].vec = &v[i];
		sgl[i].num = 1;
		iv[i].va = ivb[i];
		dg[i].va = tags[i];
	}
	rte_cryptodev_sym_cpu_crypto_process((uint8_t)d->id, d->sess, ofs, &vec);
}

static void sodium_tag(enum cand c, const struct gw_gmac_key *gk, unsigned i, size_t len,
		       uint8_t tag[16])
{
	uint8_t iv[12] = {0}, none[1] = {0};
	unsigned long long ml;

	memcpy(iv + 4, fr[i] + len - 24, 8);
	switch (c) {
	case C_SODIUM_GMAC:
		gw_gmac(tag, gk, iv, fr[i], len - 16);
		break;
	case C_SODIUM_CHACHA:
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(none, tag, &ml, none, 0, fr[i],
								   len - 16, NULL, iv, key);
		break;
	default:
		gw_blake2b_mac(tag, 16, key, fr[i], len - 16);
		break;
	}
}

/* Cycles per frame, best of CB_ROUNDS, @burst frames per call. */
static double measure(enum cand c, const struct gw_gmac_key *gk, const struct dev *d,
		      size_t len, unsigned burst)
{
	double best = 0;
	unsigned r, k, i;

	for (r = 0; r < CB_ROUNDS; r++) {
		uint8_t tags[CB_BURST][16];
		uint64_t t0 = rte_rdtsc(), t;

		for (k = 0; k < CB_N / burst; k++) {
			/* A new counter per call, as a sender's. */
			fr[0][len - 17] = (uint8_t)k;
			if (d != NULL) {
				dev_tags(d, burst, len, tags);
			} else {
				for (i = 0; i < burst; i++)
					sodium_tag(c, gk, i, len, tags[i]);
			}
			sink ^= tags[0][0];
		}
		t = rte_rdtsc() - t0;
		if (r == 0 || (double)t / (CB_N / burst * burst) < best)
			best = (double)t / (CB_N / burst * burst);
	}
	return best;
}

int gb_run_crypto(const struct gb_opts *o, struct gb_result *r)
{
	static const size_t lens[] = {64, 128, 1200};
	char lc[32], *argv[] = {"gwart-bench", lc,	    "--no-huge",	   "-m",
				"256",	       "--no-pci", "--no-shconf", "--log-level=error",
				NULL};
	struct dev dv[2] = {{.id = -1}, {.id = -1}};
	struct gw_gmac_key gk;
	int cpu = o->float_cpus ? -1 : gb_cpu_pick(o->cpus_workers, 0);
	unsigned l, c, i;

	snprintf(lc, sizeof(lc), "--lcores=0@%d", cpu >= 0 ? cpu : 0);
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0) {
		snprintf(r->why, sizeof(r->why), "EAL init: %s", rte_strerror(rte_errno));
		return -1;
	}
	r->tsc_hz = (double)rte_get_tsc_hz();
	if (gw_auth_init() != 0) {
		snprintf(r->why, sizeof(r->why), "libsodium: no AES-NI");
		goto out;
	}
	gw_key_generate(key);
	gw_gmac_key_init(&gk, key);
	for (i = 0; i < CB_BURST; i++)
		gw_random_bytes(fr[i], sizeof(fr[i]));
	if (dev_open("crypto_aesni_gcm", &dv[0]) != 0)
		dv[0].id = -1;
	if (dev_open("crypto_aesni_mb", &dv[1]) != 0)
		dv[1].id = -1;
	/* Same tags as libsodium, or the figures compare different things. */
	for (c = 0; c < 2; c++) {
		uint8_t t[CB_BURST][16], want[16];

		if (dv[c].id < 0)
			continue;
		dev_tags(&dv[c], CB_BURST, 128, t);
		for (i = 0; i < CB_BURST; i++) {
			sodium_tag(C_SODIUM_GMAC, &gk, i, 128, want);
			if (memcmp(t[i], want, 16) != 0) {
				snprintf(r->why, sizeof(r->why), "%s: tag differs from libsodium",
					 cand_name[C_DPDK_GCM + c]);
				goto out;
			}
		}
	}
	printf("crypto: TSC %.0f MHz, CPU %d, best of %u rounds of %u frames; "
	       "cycles per frame (one call per frame / bursts of %u)\n",
	       r->tsc_hz / 1e6, cpu, CB_ROUNDS, CB_N, CB_BURST);
	printf("%-16s %12s %12s %12s\n", "candidate", "64 B", "128 B", "1200 B");
	for (c = 0; c < C_COUNT; c++) {
		const struct dev *d = c >= C_DPDK_GCM ? &dv[c - C_DPDK_GCM] : NULL;
		char cell[3][32];

		if (d != NULL && d->id < 0) {
			printf("%-16s %12s\n", cand_name[c], "unavailable");
			continue;
		}
		for (l = 0; l < RTE_DIM(lens); l++) {
			double one = measure((enum cand)c, &gk, d, lens[l], 1);
			double bur = measure((enum cand)c, &gk, d, lens[l], CB_BURST);

			snprintf(cell[l], sizeof(cell[l]), "%.0f/%.0f", one, bur);
			printf("CRYPTO candidate=%s len=%zu one=%.1f burst32=%.1f\n", cand_name[c],
			       lens[l], one, bur);
		}
		printf("%-16s %12s %12s %12s\n", cand_name[c], cell[0], cell[1], cell[2]);
	}
	r->ok = true;
out:
	for (c = 0; c < 2; c++)
		if (dv[c].id >= 0) {
			if (dv[c].sess != NULL)
				rte_cryptodev_sym_session_free((uint8_t)dv[c].id, dv[c].sess);
			rte_mempool_free(dv[c].pool);
			rte_cryptodev_stop((uint8_t)dv[c].id);
		}
	gw_gmac_key_wipe(&gk);
	gw_auth_wipe(key, sizeof(key));
	rte_eal_cleanup();
	return r->ok ? 0 : -1;
}
