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

void dp_auth_xform_init(struct rte_crypto_sym_xform *x, const uint8_t key[GW_KEY_LEN])
{
	memset(x, 0, sizeof(*x));
	x->type = RTE_CRYPTO_SYM_XFORM_AUTH;
	/* GENERATE for both directions: a worker verifies by comparing the
	 * computed tag itself (dp_auth_tag_equal: constant time), which keeps
	 * verification and sealing one code path. */
	x->auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
	x->auth.algo = RTE_CRYPTO_AUTH_AES_GMAC;
	x->auth.key.data = key;
	x->auth.key.length = GW_KEY_LEN;
	x->auth.iv.offset = 0;
	x->auth.iv.length = 12;
	x->auth.digest_length = GW_TAG_LEN;
}

static void *sess_new(const struct dp_router *rt, const uint8_t key[GW_KEY_LEN])
{
	struct rte_crypto_sym_xform x;

	dp_auth_xform_init(&x, key);
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

/* The device's per-frame vectors of one burst, built in the order of the
 * device calls (frames of one session contiguous), so that each call takes
 * a slice of them: one pass over the burst builds them, none copies them. */
struct gmac_vecs {
	struct rte_crypto_vec v[DP_BURST_MAX];
	struct rte_crypto_sgl sgl[DP_BURST_MAX];
	struct rte_crypto_va_iova_ptr iv[DP_BURST_MAX], dg[DP_BURST_MAX];
	int32_t st[DP_BURST_MAX];
	uint8_t ivb[DP_BURST_MAX][16] __rte_aligned(16);
};

/* Slot @k for the frame @fr of length field @len, tag to @dig. */
static inline void gmac_slot(struct gmac_vecs *g, unsigned k, uint8_t *fr, uint16_t len,
			     uint8_t *dig)
{
	uint64_t ctr;
	uint32_t z = 0;

	/* IV = 00000000 || ctr (big-endian, as the trailer holds it): two
	 * stores, not a memset and a byte copy. */
	memcpy(&ctr, fr + len - GW_TRAILER_LEN, GW_CTR_LEN);
	memcpy(g->ivb[k], &z, 4);
	memcpy(g->ivb[k] + 4, &ctr, 8);
	g->v[k].base = fr;
	g->v[k].len = (uint32_t)len - GW_TAG_LEN;
	g->sgl[k].vec = &g->v[k];
	g->sgl[k].num = 1;
	g->iv[k].va = g->ivb[k];
	g->dg[k].va = dig;
	/* Stays refused unless the device says otherwise. */
	g->st[k] = -1;
}

/* One device call on slots [@from, @from + @n). */
static inline void gmac_call(struct gmac_vecs *g, uint8_t dev, void *sess, unsigned from,
			     unsigned n)
{
	struct rte_crypto_sym_vec vec = {.num = n,
					 .src_sgl = g->sgl + from,
					 .iv = g->iv + from,
					 .digest = g->dg + from,
					 .auth_iv = g->iv + from,
					 .status = g->st + from};
	union rte_crypto_sym_ofs ofs = {.raw = 0};

	rte_cryptodev_sym_cpu_crypto_process(dev, sess, ofs, &vec);
}

unsigned dp_auth_gmac_burst(const struct dp_auth_sess *s, void *sess, unsigned n,
			    uint8_t *const fr[], const uint16_t len[], uint8_t *const dig[],
			    uint8_t ok[])
{
	struct gmac_vecs g;
	unsigned i, good = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		gmac_slot(&g, i, fr[i], len[i], dig[i]);
	gmac_call(&g, s->dev, sess, 0, n);
	for (i = 0; i < n; i++) {
		ok[i] = g.st[i] == 0;
		good += ok[i];
	}
	return good;
}

/* A hint slot from the session's address (Fibonacci hashing: the top bits
 * of the product spread pointers however they are aligned or spaced). */
#define DP_AUTH_HINTS 16
static inline unsigned dp_auth_hint(const struct dp_auth_sess *s)
{
	return (unsigned)(((uint64_t)(uintptr_t)s * 0x9e3779b97f4a7c15ull) >> 60);
}

void dp_auth_gmac_grouped(unsigned n, const struct dp_auth_sess *const a[], int r2c,
			  uint8_t *const fr[], const uint16_t len[], uint8_t *const dig[],
			  uint8_t ok[])
{
	struct gmac_vecs g;
	const struct dp_auth_sess *sess[DP_BURST_MAX];
	uint8_t grp[DP_BURST_MAX], hint[DP_AUTH_HINTS];
	uint16_t cnt[DP_BURST_MAX], start[DP_BURST_MAX], at[DP_BURST_MAX];
	unsigned i, k, h, ns = 0, m = 0;

	/* Which session each frame is of. A burst interleaves a handful, so
	 * a search from the last one found mispredicts on most frames; a
	 * small table indexed by the pointer's bits names the likely group,
	 * one check confirms it, and the search runs only for a session's
	 * first frame (or a collision). */
	memset(hint, 0xff, sizeof(hint));
	for (i = 0; i < n; i++) {
		const struct dp_auth_sess *s = a[i];

		if (s == NULL)
			continue;
		m++;
		h = dp_auth_hint(s);
		k = hint[h];
		if (unlikely(k >= ns || sess[k] != s)) {
			for (k = 0; k < ns && sess[k] != s; k++)
				;
			if (k == ns) {
				sess[ns] = s;
				cnt[ns++] = 0;
			}
			if (hint[h] == 0xff)
				hint[h] = (uint8_t)k;
		}
		grp[i] = (uint8_t)k;
		cnt[k]++;
	}
	if (ns == 0)
		return;
	if (ns == 1 && m == n) {
		/* One session, every frame: the slots are the frames. */
		for (i = 0; i < n; i++)
			gmac_slot(&g, i, fr[i], len[i], dig[i]);
		gmac_call(&g, sess[0]->dev, r2c ? sess[0]->r2c : sess[0]->c2r, 0, n);
		for (i = 0; i < n; i++)
			ok[i] = g.st[i] == 0;
		return;
	}
	/* Each session's frames in one contiguous slice, in burst order. */
	for (k = 0, m = 0; k < ns; k++) {
		start[k] = (uint16_t)m;
		m += cnt[k];
	}
	for (i = 0; i < n; i++) {
		if (a[i] == NULL)
			continue;
		k = start[grp[i]]++;
		at[k] = (uint16_t)i;
		gmac_slot(&g, k, fr[i], len[i], dig[i]);
	}
	for (k = 0; k < ns; k++)
		gmac_call(&g, sess[k]->dev, r2c ? sess[k]->r2c : sess[k]->c2r,
			  start[k] - cnt[k], cnt[k]);
	for (k = 0; k < m; k++)
		ok[at[k]] = g.st[k] == 0;
}
