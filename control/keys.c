/* SPDX-License-Identifier: BSD-3-Clause */
/* Connector keys and control's lane-0 authentication state (keys.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "keys.h"

static const char key_id_label[] = "gwart v2 key id";

void cp_key_id(const uint8_t secret[GW_KEY_LEN], uint8_t id[CP_KEY_ID_LEN])
{
	uint8_t h[32];

	gw_blake2b_mac(h, sizeof(h), secret, key_id_label, sizeof(key_id_label) - 1);
	memcpy(id, h, CP_KEY_ID_LEN);
}

void cp_key_id_hex(const uint8_t id[CP_KEY_ID_LEN], char hex[CP_KEY_ID_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < CP_KEY_ID_LEN; i++) {
		hex[2 * i] = digits[id[i] >> 4];
		hex[2 * i + 1] = digits[id[i] & 15];
	}
	hex[2 * CP_KEY_ID_LEN] = '\0';
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int cp_auth_create(struct cp_auth **out, uint32_t conn_id, const uint8_t secret[GW_KEY_LEN])
{
	struct cp_auth *a;

	*out = NULL;
	if (secret == NULL || all_zero(secret, GW_KEY_LEN))
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	a->conn_id = conn_id;
	cp_auth_set_secret(a, secret);
	*out = a;
	return 0;
}

void cp_auth_destroy(struct cp_auth *a)
{
	if (a == NULL)
		return;
	gw_auth_wipe(a, sizeof(*a));
	free(a);
}

void cp_auth_session_forget(struct cp_auth *a)
{
	gw_gmac_key_wipe(&a->rx);
	gw_gmac_key_wipe(&a->tx);
	a->epoch = 0;
	a->tx_n = 0;
	dp_replay_init(&a->rx_win);
}

void cp_auth_set_secret(struct cp_auth *a, const uint8_t secret[GW_KEY_LEN])
{
	/* Sessions proved with the old secret are over: their keys go. */
	cp_auth_session_forget(a);
	gw_auth_wipe(&a->hs, sizeof(a->hs));
	memcpy(a->secret, secret, GW_KEY_LEN);
	cp_key_id(a->secret, a->key_id);
	/* Derived once here, not per HELLO: a HELLO then costs one BLAKE2b. */
	gw_auth_derive_hs(a->secret, a->conn_id, &a->hs);
}

enum cp_auth_verdict cp_auth_hello(struct cp_auth *a, const void *frame, size_t len, uint64_t ctr,
				   bool addr_allowed)
{
	if (!gw_auth_check_hs(frame, len, a->hs.c2r)) {
		a->st.hello_auth_failed++;
		return CP_AUTH_FAILED;
	}
	/* Proved, from a refused place (keys.h: why here in the order). */
	if (!addr_allowed) {
		a->st.hello_addr_refused++;
		return CP_AUTH_ADDR_REFUSED;
	}
	/* A captured HELLO replayed (from any address) is not fresh. */
	if (ctr <= a->hello_ctr) {
		a->st.hello_replayed++;
		return CP_AUTH_REPLAYED;
	}
	a->hello_ctr = ctr;
	return CP_AUTH_OK;
}

void cp_auth_session_set(struct cp_auth *a, uint32_t epoch, const struct gw_session_keys *k)
{
	cp_auth_session_forget(a);
	gw_gmac_key_init(&a->rx, k->c2r);
	gw_gmac_key_init(&a->tx, k->r2c);
	a->epoch = epoch;
}

enum cp_auth_verdict cp_auth_session_frame(struct cp_auth *a, const void *frame, size_t len,
					   uint64_t ctr)
{
	uint64_t n = gw_ctr_count(ctr);

	if (gw_ctr_lane(ctr) != GW_LANE_SESSION) {
		a->st.auth_failed++;
		return CP_AUTH_FAILED;
	}
	/* The window first (no side effect), the tag next, the commit last:
	 * a forged frame cannot move the window. */
	if (!dp_replay_check(&a->rx_win, n)) {
		a->st.replayed++;
		return CP_AUTH_REPLAYED;
	}
	if (!gw_auth_check_session(frame, len, &a->rx)) {
		a->st.auth_failed++;
		return CP_AUTH_FAILED;
	}
	dp_replay_commit(&a->rx_win, n);
	return CP_AUTH_OK;
}

uint64_t cp_auth_next_ctr(struct cp_auth *a)
{
	if (a->tx_n >= GW_CTR_COUNT_MAX)
		return 0;
	return gw_ctr_make(GW_LANE_SESSION, ++a->tx_n);
}

uint64_t cp_auth_probe_ctr(uint64_t *last)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	/* max(now, last + 1): a clock stepped back never repeats a counter. */
	if (now <= *last)
		now = *last + 1;
	*last = now;
	return now;
}

long cp_key_file_read(const char *path, char *text, size_t cap, char *err, size_t errlen)
{
	struct stat st;
	ssize_t n;
	int fd, rc;

	/* O_NONBLOCK: a FIFO or device named as a key file must not hang the
	 * daemon; it is refused below as not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		snprintf(err, errlen, "key file %s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		rc = -EPERM;
		snprintf(err, errlen,
			 "key file %s: mode %04o lets group or other read or change it "
			 "(chmod 600 %s)",
			 path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (cap < CP_KEY_TEXT_MAX || st.st_size >= (off_t)CP_KEY_TEXT_MAX) {
		rc = -E2BIG;
		snprintf(err, errlen, "key file %s: longer than %u bytes", path,
			 CP_KEY_TEXT_MAX - 1);
		goto out;
	}
	n = read(fd, text, CP_KEY_TEXT_MAX - 1);
	if (n < 0) {
		rc = -errno;
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		goto out;
	}
	text[n] = '\0';
	rc = (int)n;
out:
	close(fd);
	return rc;
}
