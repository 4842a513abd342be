/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame authentication of the router's workers (protocol version 2, session
 * frames): AES-256-GMAC through DPDK's cryptodev `crypto_aesni_gcm`
 * (Intel ipsec-mb), synchronous CPU crypto (rte_cryptodev_sym_cpu_crypto_process):
 * no queue pairs, no crypto ops, one call per session per burst.
 * The tag is NIST SP 800-38D GMAC = AES-256-GCM with an empty plaintext and
 * the frame up to the tag as additional data, IV = 00000000 || ctr_be64: the
 * same tag as libsodium's gw_gmac() (auth.h), which control, the SDK, the
 * bench and the tests use (tests/dataplane/test_auth_dev.c checks both agree).
 *
 * Device: one vdev per router ("crypto_aesni_gcm_<prefix>"), created by
 * dp_router_create(); a router without one refuses to start (there is no
 * unauthenticated mode outside the benchmark's auth_off).
 *
 * Sessions: a connector's pair (c2r to verify, r2c to seal) is created by the
 * control thread in dp_conn_session_up(), published with the dp_conn object,
 * and retired with call_rcu when a new session replaces it, the session goes
 * down or the connector is deleted. Both are GENERATE sessions: a worker
 * verifies by computing the tag and comparing it in constant time
 * (gw_tag_equal()). The session pool has no per-lcore cache, so the call_rcu
 * thread may return sessions to it.
 *
 * Threading: dp_auth_gmac_burst() may run on any worker at once with the same
 * session (cpu crypto keeps its per-call context on the stack; the session is
 * read-only after creation).
 */
#ifndef GWART_DP_AUTH_DEV_H
#define GWART_DP_AUTH_DEV_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <urcu-qsbr.h>

#include <gwart/auth.h>

struct dp_router;

/* The cryptodev sessions of one connector session. Immutable once published
 * (dp_conn.auth); freed one grace period after it was unpublished. */
struct dp_auth_sess {
	struct rcu_head rcu;
	void *c2r;   /* tags of frames from the connector (verify) */
	void *r2c;   /* tags of frames to the connector (seal) */
	uint8_t dev; /* cryptodev id */
};

/* Constant-time equality of two tags: the 128 bits are folded without a
 * branch or an early exit, so the time says nothing about where they differ
 * (libsodium's sodium_memcmp, gw_tag_equal(), walks bytes through volatile
 * reads: the same guarantee at several times the cost per frame). */
static inline bool dp_auth_tag_equal(const uint8_t a[GW_TAG_LEN], const uint8_t b[GW_TAG_LEN])
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/* Create @rt's device and session pool (rt->auth_dev, rt->auth_pool);
 * @max_sessions connector sessions may exist at once, those waiting for a
 * grace period included. 0, or a negative errno (rt->auth_dev < 0 then). */
int dp_auth_dev_open(struct dp_router *rt, unsigned max_sessions);
/* Free the pool and the device (every session freed already). */
void dp_auth_dev_close(struct dp_router *rt);

struct rte_crypto_sym_xform;
/* The transform every tag key is made with (AES-256-GMAC, 12-byte IV at
 * offset 0, 16-byte tag, GENERATE: verification compares the tag itself).
 * @x keeps a pointer to @key, which must outlive the session create call.
 * Any thread; pure. */
void dp_auth_xform_init(struct rte_crypto_sym_xform *x, const uint8_t key[GW_KEY_LEN]);

/* Control thread: a session pair from @k (the caller wipes @k). NULL with
 * *err = -ENODEV (no device), -ENOMEM (pool exhausted) or -EIO. */
struct dp_auth_sess *dp_auth_sess_create(struct dp_router *rt, const struct gw_session_keys *k,
					 int *err);
/* Free now (nothing can reach it any more: a grace period has passed). */
void dp_auth_sess_free(struct dp_auth_sess *s);
/* Free after a grace period (it was just unpublished). NULL: nothing. */
void dp_auth_sess_retire(struct dp_auth_sess *s);

/*
 * The GMAC tags of @n (<= DP_BURST_MAX) complete v2 frames: frame i is
 * fr[i], its length field len[i] (>= GW_HDR_LEN + GW_TRAILER_LEN, checked by
 * the parser or set by the encoder); its tag covers [0, len - 16) with the
 * IV from its trailer ctr, and is written to dig[i] (the frame's own tag
 * field to seal, scratch to verify). ok[i] is 1 where the device computed a
 * tag. Returns how many it computed.
 */
unsigned dp_auth_gmac_burst(const struct dp_auth_sess *s, void *sess, unsigned n,
			    uint8_t *const fr[], const uint16_t len[], uint8_t *const dig[],
			    uint8_t ok[]);

/*
 * The same for frames of several sessions at once (@a[i]: frame i's, NULL:
 * skip it; @r2c: seal direction, else verify direction): frames of one
 * session are gathered into one device call whatever their order (a burst
 * interleaves destinations; the calls, not the bytes, are what batching
 * saves). ok[i] as above (untouched where @a[i] is NULL). One pass finds
 * each frame's session (a hint table by address), one builds the device's
 * vectors straight into each session's slice; a burst of one session is
 * one call on the frames as they are.
 */
void dp_auth_gmac_grouped(unsigned n, const struct dp_auth_sess *const a[], int r2c,
			  uint8_t *const fr[], const uint16_t len[], uint8_t *const dig[],
			  uint8_t ok[]);

#endif
