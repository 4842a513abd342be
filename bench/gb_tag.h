/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The harness's session-frame tags (AES-256-GMAC, PROTOCOL.md section 17)
 * in bursts through DPDK's cryptodev `crypto_aesni_gcm`, synchronous CPU
 * crypto, as the router's workers compute them (dataplane/auth_dev.h): one
 * device call per run of frames of one session. libsodium's gw_gmac() one
 * frame at a time costs about 130 cycles, the device in bursts of 32 about
 * 50 (gwart-bench crypto): that difference is most of what a generator
 * spends per message besides copying its template.
 *
 * A host without the PMD falls back to libsodium (gw_auth_seal_session and
 * friends) frame by frame, with the same tags: slower, never wrong.
 *
 * Threading: the device and its session pool are opened once per run by
 * the main thread (gb_tag_open); sessions are created and freed by the
 * endpoint thread that owns the connector; a batch belongs to one thread.
 * cpu crypto keeps its per-call state on the stack and reads the session
 * only, so every endpoint thread may call the device at once.
 */
#ifndef GWART_BENCH_GB_TAG_H
#define GWART_BENCH_GB_TAG_H

#include <stdbool.h>
#include <stdint.h>

#include <gwart/auth.h>

struct rte_mempool;

#define GB_TAG_BATCH 64 /* frames per batch: two bursts (a sink's ACKs, a generator's sends) */

/* A connector direction's key: a cryptodev session, or libsodium's expanded
 * key where there is no device (allocated only then). */
struct gb_tkey {
	void *sess;
	struct gw_gmac_key *sk;
};

struct gb_tagdev {
	int dev; /* cryptodev id; -1: libsodium */
	struct rte_mempool *pool;
	unsigned sess_size; /* bytes of one session's private data (memory per connector) */
};

/* Open the device with room for @max_sessions sessions. Never fails: with
 * no device td->dev is -1 and every tag goes through libsodium. */
void gb_tag_open(struct gb_tagdev *td, unsigned max_sessions, int verbose);
void gb_tag_close(struct gb_tagdev *td);
/* Key from @raw (replacing what @k held). 0 or -ENOMEM. */
int gb_tkey_set(const struct gb_tagdev *td, struct gb_tkey *k, const uint8_t raw[GW_KEY_LEN]);
void gb_tkey_clear(const struct gb_tagdev *td, struct gb_tkey *k);

/* Frames waiting for their tags. Seal: the tag goes into the frame.
 * Verify: into scratch, compared by gb_tag_run; ok[i] says. */
struct gb_tag_batch {
	unsigned n;
	uint8_t *fr[GB_TAG_BATCH];
	uint16_t len[GB_TAG_BATCH];
	const struct gb_tkey *key[GB_TAG_BATCH];
	void *user[GB_TAG_BATCH]; /* the caller's (an mbuf) */
	uint8_t ok[GB_TAG_BATCH];
	uint8_t flag[GB_TAG_BATCH]; /* the caller's */
	uint8_t scratch[GB_TAG_BATCH][GW_TAG_LEN];
};

static inline bool gb_tag_full(const struct gb_tag_batch *b)
{
	return b->n == GB_TAG_BATCH;
}

/* Add frame @fr of length field @len (its trailer ctr written); returns its
 * index in the batch. The caller keeps the batch from filling. */
static inline unsigned gb_tag_add(struct gb_tag_batch *b, uint8_t *fr, uint16_t len,
				  const struct gb_tkey *k, void *user, uint8_t flag)
{
	unsigned i = b->n++;

	b->fr[i] = fr;
	b->len[i] = len;
	b->key[i] = k;
	b->user[i] = user;
	b->flag[i] = flag;
	return i;
}

/* Compute every tag of the batch, consecutive frames of one key in one
 * device call; @seal writes them into the frames, else ok[i] tells whether
 * frame i's own tag is right (constant time). Leaves n as it is (the caller
 * walks the batch, then sets n = 0). */
void gb_tag_run(const struct gb_tagdev *td, struct gb_tag_batch *b, bool seal);
/* One frame, sealed (KEEPALIVE, a sink's lone ACK). */
void gb_tag_seal_one(const struct gb_tagdev *td, uint8_t *fr, uint16_t len,
		     const struct gb_tkey *k);

#endif
