/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The workers' frame tags through cryptodev crypto_aesni_gcm (auth_dev.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus_vdev.h>
#include <rte_cryptodev.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "auth_dev.h"
#include "router.h"
#include "tuning.h"

#define DP_AUTH_DRIVER "crypto_aesni_gcm"

static void vdev_name(char *buf, size_t len, const struct dp_router *rt)
{
	snprintf(buf, len, DP_AUTH_DRIVER "_%s", rt->prefix);
}

int dp_auth_dev_open(struct dp_router *rt, unsigned max_sessions)
{
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];
	char pname[RTE_MEMPOOL_NAMESIZE];
	struct rte_cryptodev_config cfg = {.socket_id = (int)rte_socket_id(), .nb_queue_pairs = 1};
	struct rte_cryptodev_info info;
	int dev, rc;

	rt->auth_dev = -ENODEV;
	vdev_name(name, sizeof(name), rt);
	/* The PMD is a plugin (librte_crypto_ipsec_mb.so), which the EAL loads
	 * from its plugin directory by itself; a vdev argument on the command
	 * line may have created the device already. */
	dev = rte_cryptodev_get_dev_id(name);
	if (dev < 0) {
		rc = rte_vdev_init(name, NULL);
		if (rc != 0) {
			fprintf(stderr,
				"gwart: cannot create cryptodev %s (%s): is DPDK's crypto_ipsec_mb "
				"PMD installed (librte_crypto_ipsec_mb.so)?\n",
				name, rte_strerror(rc < 0 ? -rc : rc));
			return rc < 0 ? rc : -ENODEV;
		}
		dev = rte_cryptodev_get_dev_id(name);
		if (dev < 0)
			return -ENODEV;
	}
	rte_cryptodev_info_get((uint8_t)dev, &info);
	if (!(info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO)) {
		fprintf(stderr, "gwart: cryptodev %s has no synchronous CPU crypto\n", name);
		rc = -ENOTSUP;
		goto err_vdev;
	}
	rc = rte_cryptodev_configure((uint8_t)dev, &cfg);
	if (rc == 0)
		rc = rte_cryptodev_start((uint8_t)dev);
	if (rc != 0) {
		fprintf(stderr, "gwart: cryptodev %s: configure/start failed (%d)\n", name, rc);
		rc = rc < 0 ? rc : -EIO;
		goto err_vdev;
	}
	snprintf(pname, sizeof(pname), "%s_auth", rt->prefix);
	/* Cache 0: sessions are freed by liburcu's call_rcu thread, which is
	 * no EAL lcore; the pool's ring is multi-producer, multi-consumer. */
	rt->auth_pool = rte_cryptodev_sym_session_pool_create(
		pname, 2 * max_sessions, rte_cryptodev_sym_get_private_session_size((uint8_t)dev), 0,
		0, (int)rte_socket_id());
	if (rt->auth_pool == NULL) {
		fprintf(stderr, "gwart: cryptodev session pool %s: %s\n", pname,
			rte_strerror(rte_errno));
		rc = rte_errno == EEXIST ? -EEXIST : -ENOMEM;
		rte_cryptodev_stop((uint8_t)dev);
		goto err_vdev;
	}
	rt->auth_dev = dev;
	return 0;
err_vdev:
	rte_cryptodev_close((uint8_t)dev);
	rte_vdev_uninit(name);
	rt->auth_dev = rc;
	return rc;
}

void dp_auth_dev_close(struct dp_router *rt)
{
	char name[RTE_CRYPTODEV_NAME_MAX_LEN];

	if (rt->auth_dev < 0)
		return;
	rte_mempool_free(rt->auth_pool);
	rt->auth_pool = NULL;
	rte_cryptodev_stop((uint8_t)rt->auth_dev);
	rte_cryptodev_close((uint8_t)rt->auth_dev);
	vdev_name(name, sizeof(name), rt);
	rte_vdev_uninit(name);
	rt->auth_dev = -ENODEV;
}

static void *sess_new(const struct dp_router *rt, const uint8_t key[GW_KEY_LEN])
{
	struct rte_crypto_sym_xform x;

	memset(&x, 0, sizeof(x));
	x.type = RTE_CRYPTO_SYM_XFORM_AUTH;
	/* GENERATE for both directions: a worker verifies by comparing the
	 * computed tag itself (gw_tag_equal: constant time), which keeps
	 * verification and sealing one code path. */
	x.auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
	x.auth.algo = RTE_CRYPTO_AUTH_AES_GMAC;
	x.auth.key.data = key;
	x.auth.key.length = GW_KEY_LEN;
	x.auth.iv.offset = 0;
	x.auth.iv.length = 12;
	x.auth.digest_length = GW_TAG_LEN;
	return rte_cryptodev_sym_session_create((uint8_t)rt->auth_dev, &x, rt->auth_pool);
}

struct dp_auth_sess *dp_auth_sess_create(struct dp_router *rt, const struct gw_session_keys *k,
					 int *err)
{
	struct dp_auth_sess *s;

	if (rt->auth_dev < 0) {
		*err = -ENODEV;
		return NULL;
	}
	s = rte_zmalloc("gw_auth_sess", sizeof(*s), RTE_CACHE_LINE_SIZE);
	if (s == NULL) {
		*err = -ENOMEM;
		return NULL;
	}
	s->dev = (uint8_t)rt->auth_dev;
	s->c2r = sess_new(rt, k->c2r);
	s->r2c = sess_new(rt, k->r2c);
	if (s->c2r == NULL || s->r2c == NULL) {
		*err = rte_errno == ENOMEM ? -ENOMEM : -EIO;
		dp_auth_sess_free(s);
		return NULL;
	}
	return s;
}

void dp_auth_sess_free(struct dp_auth_sess *s)
{
	if (s == NULL)
		return;
	/* Frees clear the session's key schedule before it returns to the
	 * pool (the PMD's session clear). */
	if (s->c2r != NULL)
		rte_cryptodev_sym_session_free(s->dev, s->c2r);
	if (s->r2c != NULL)
		rte_cryptodev_sym_session_free(s->dev, s->r2c);
	rte_free(s);
}

static void sess_free_rcu(struct rcu_head *head)
{
	dp_auth_sess_free(caa_container_of(head, struct dp_auth_sess, rcu));
}

void dp_auth_sess_retire(struct dp_auth_sess *s)
{
	if (s != NULL)
		call_rcu(&s->rcu, sess_free_rcu);
}

unsigned dp_auth_gmac_burst(const struct dp_auth_sess *s, void *sess, unsigned n,
			    uint8_t *const fr[], const uint16_t len[], uint8_t *const dig[],
			    uint8_t ok[])
{
	struct rte_crypto_vec v[DP_BURST_MAX];
	struct rte_crypto_sgl sgl[DP_BURST_MAX];
	struct rte_crypto_va_iova_ptr iv[DP_BURST_MAX], dg[DP_BURST_MAX];
	uint8_t ivb[DP_BURST_MAX][16] __rte_aligned(16);
	int32_t st[DP_BURST_MAX];
	struct rte_crypto_sym_vec vec = {
		.num = n, .src_sgl = sgl, .iv = iv, .digest = dg, .auth_iv = iv, .status = st};
	union rte_crypto_sym_ofs ofs = {.raw = 0};
	unsigned i, good = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		/* IV = 00000000 || ctr (big-endian, as the trailer holds it). */
		memset(ivb[i], 0, 4);
		memcpy(ivb[i] + 4, fr[i] + len[i] - GW_TRAILER_LEN, GW_CTR_LEN);
		v[i].base = fr[i];
		v[i].len = (uint32_t)len[i] - GW_TAG_LEN;
		sgl[i].vec = &v[i];
		sgl[i].num = 1;
		iv[i].va = ivb[i];
		dg[i].va = dig[i];
		st[i] = -1;
	}
	rte_cryptodev_sym_cpu_crypto_process(s->dev, sess, ofs, &vec);
	for (i = 0; i < n; i++) {
		ok[i] = st[i] == 0;
		good += ok[i];
	}
	return good;
}

void dp_auth_gmac_grouped(unsigned n, const struct dp_auth_sess *const a[], int r2c,
			  uint8_t *const fr[], const uint16_t len[], uint8_t *const dig[],
			  uint8_t ok[])
{
	uint8_t done[DP_BURST_MAX], gok[DP_BURST_MAX];
	uint8_t *gfr[DP_BURST_MAX], *gdig[DP_BURST_MAX];
	uint16_t glen[DP_BURST_MAX], gi[DP_BURST_MAX];
	unsigned i, j, k;

	memset(done, 0, n);
	/* O(n x sessions in the burst): a handful in practice, n at most. */
	for (i = 0; i < n; i++) {
		const struct dp_auth_sess *s = a[i];

		if (done[i] || s == NULL)
			continue;
		for (j = i, k = 0; j < n; j++) {
			if (done[j] || a[j] != s)
				continue;
			done[j] = 1;
			gi[k] = (uint16_t)j;
			gfr[k] = fr[j];
			glen[k] = len[j];
			gdig[k] = dig[j];
			k++;
		}
		dp_auth_gmac_burst(s, r2c ? s->r2c : s->c2r, k, gfr, glen, gdig, gok);
		for (j = 0; j < k; j++)
			ok[gi[j]] = gok[j];
	}
}
