/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connector keys and the control thread's half of protocol version 2
 * authentication (include/gwart/auth.h, PROTOCOL.md section 17): one
 * struct cp_auth per configured connector holding its secret, its
 * handshake keys, the newest HELLO counter accepted from it, and the
 * session keys, lane-0 counter and lane-0 replay window of its current
 * session (KEEPALIVE and BYE, both directions). Lane 1 (DATA, ACK, NACK)
 * is the owner worker's: it receives the session keys through
 * dp_conn_session.
 *
 * Each check here costs one keyed BLAKE2b (handshake) or one GMAC (session)
 * whatever the frame says, and nothing allocates after cp_auth_create(), so
 * a flood of forged or replayed frames costs bounded work per packet.
 * Secrets are wiped (gw_auth_wipe) when replaced and when destroyed.
 *
 * Also the key file reader (cp_key_file_read) that gwartd's configuration
 * and gwartctl share: libc only.
 *
 * Threading: control thread only (gwartctl: its one thread).
 */
#ifndef GWART_CP_KEYS_H
#define GWART_CP_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <gwart/auth.h>

#include "allow.h"
#include "replay.h"

#define CP_KEY_ID_LEN 8u  /* bytes of the key fingerprint */
#define CP_KEY_ID_HEX (2 * CP_KEY_ID_LEN + 1)
#define CP_KEY_TEXT_MAX 256u /* bytes of a key file: the key text and blanks */

/* Refusals and moves counted per connector (and in total in cp_stats). */
struct cp_auth_stats {
	uint64_t hello_auth_failed; /* HELLO tag wrong with hs.c2r */
	uint64_t hello_replayed;    /* HELLO ctr not above the newest accepted */
	uint64_t hello_addr_refused; /* HELLO tag right, source not in allow_from */
	uint64_t auth_failed;       /* KEEPALIVE/BYE: wrong address, lane or tag */
	uint64_t replayed;          /* KEEPALIVE/BYE: ctr seen or too old */
	uint64_t stale;             /* KEEPALIVE/BYE of no current session */
	uint64_t sessions_moved;    /* a valid HELLO moved the session elsewhere */
};

struct cp_auth {
	uint32_t conn_id;
	uint8_t secret[GW_KEY_LEN];
	uint8_t key_id[CP_KEY_ID_LEN];
	struct gw_hs_keys hs;
	uint64_t hello_ctr;         /* newest HELLO ctr accepted in this process, 0: none */
	/* The session whose keys these are (epoch 0: none). Kept after the
	 * session closes, until a new one or a new secret replaces them, so
	 * a repeated copy of a BYE is still authenticated. */
	uint32_t epoch;
	uint64_t tx_n;              /* lane-0 frames we sealed in this session */
	struct dp_replay rx_win;    /* lane-0 counters received in this session */
	struct gw_gmac_key rx;      /* s.c2r */
	struct gw_gmac_key tx;      /* s.r2c */
	struct cp_auth_stats st;
	/* "allow_from": where its HELLOs may come from (n 0: anywhere). Kept
	 * across key changes; wiped with the rest on delete. */
	struct cp_allow allow;
};

/* A fresh object for connector @conn_id's @secret (hs keys derived, no
 * session). 0, -EINVAL (NULL or all-zero secret), -ENOMEM. */
int cp_auth_create(struct cp_auth **out, uint32_t conn_id, const uint8_t secret[GW_KEY_LEN]);
/* Wipe and free (NULL: nothing). */
void cp_auth_destroy(struct cp_auth *a);
/* Replace the secret: new hs keys and fingerprint, the session keys
 * forgotten (wiped); counters and the HELLO ctr kept. */
void cp_auth_set_secret(struct cp_auth *a, const uint8_t secret[GW_KEY_LEN]);

/* The fingerprint: first CP_KEY_ID_LEN bytes of BLAKE2b-256(key=@secret,
 * "gwart v2 key id"), and its lowercase hex (NUL-terminated). */
void cp_key_id(const uint8_t secret[GW_KEY_LEN], uint8_t id[CP_KEY_ID_LEN]);
void cp_key_id_hex(const uint8_t id[CP_KEY_ID_LEN], char hex[CP_KEY_ID_HEX]);

enum cp_auth_verdict {
	CP_AUTH_OK = 0,
	CP_AUTH_FAILED,   /* tag, address or lane wrong */
	CP_AUTH_REPLAYED, /* counter already used, or not fresh */
	CP_AUTH_ADDR_REFUSED, /* HELLO: proved, but from a source allow_from refuses */
};

/* A HELLO (@frame, @len its whole length, @ctr its trailer ctr,
 * @addr_allowed: cp_allow_match(&a->allow, its source)): tag with hs.c2r,
 * then the source, then ctr above the newest accepted; on CP_AUTH_OK the
 * newest accepted becomes @ctr. Failures change nothing but the counters.
 * The source after the tag, so only a proved HELLO counts as
 * hello_addr_refused (a forgery from anywhere is hello_auth_failed), and
 * before the freshness commit, so a copy of a real HELLO re-sent from a
 * refused address cannot use up its ctr ahead of the real one. */
enum cp_auth_verdict cp_auth_hello(struct cp_auth *a, const void *frame, size_t len,
				   uint64_t ctr, bool addr_allowed);

/* Install the session keys of @epoch (lane-0 counter and window reset).
 * The caller wipes @k afterwards. */
void cp_auth_session_set(struct cp_auth *a, uint32_t epoch, const struct gw_session_keys *k);
/* Forget the session keys (wiped). */
void cp_auth_session_forget(struct cp_auth *a);

/* A KEEPALIVE or BYE of the current session (the caller checked the epoch
 * and the address): lane 0, replay window, tag with s.c2r, in this order;
 * commits the counter on CP_AUTH_OK only. */
enum cp_auth_verdict cp_auth_session_frame(struct cp_auth *a, const void *frame, size_t len,
					   uint64_t ctr);
/* The trailer ctr of our next lane-0 frame, 0 when the count is exhausted
 * (GW_CTR_COUNT_MAX: practically unreachable; the session must be
 * replaced). */
uint64_t cp_auth_next_ctr(struct cp_auth *a);

/* Reconnection probes: CLOCK_REALTIME in ns, strictly above *@last (which
 * is updated), so probe counters only grow within this process. */
uint64_t cp_auth_probe_ctr(uint64_t *last);

/*
 * cp_key_file_read - the text of key file @path into @text (@cap bytes,
 * NUL-terminated): a regular file, no group or other permission bits (like
 * ssh's private keys: a key others can read is not secret), at most
 * CP_KEY_TEXT_MAX - 1 bytes. Returns its length, or a negative errno with a
 * message naming the file in @err: -ENOENT and the like from open, -EPERM
 * for group/other access, -EINVAL not a regular file, -E2BIG too long.
 * The caller wipes @text after use.
 */
long cp_key_file_read(const char *path, char *text, size_t cap, char *err, size_t errlen);

#endif
