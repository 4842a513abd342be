/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connector SDK's state file (gw_conn_cfg.state_path): what a connector
 * keeps across process restarts so that it never reuses an origin seq and
 * never delivers again what it delivered before a clean close.
 *
 * One fixed-size record, replaced as a whole: written to PATH.tmp,
 * fsync()ed, renamed over PATH, and the directory fsync()ed, so a reader
 * finds either the old record or the new one, never a mix, whatever
 * crashes when. A checksum catches what the filesystem does not.
 *
 * The origin seq is persisted as a ceiling, not as the next value: a write
 * per message would cost an fsync per message. The ceiling is moved
 * seq_reserve seqs ahead of what is in use before any of them is used, so
 * a crash skips at most seq_reserve seqs and can never reuse one; a clean
 * close writes the exact next seq instead.
 *
 * The receive window (cumulative point over the router's egress link seqs
 * and the marks of the window above it) is written by gw_conn_close() and,
 * when it changed, at most every state_sync_ms from gw_conn_poll(): one
 * fsync a second at most, whatever the message rate.
 *
 * PATH.lock is flock()ed for the handle's life: two processes sharing one
 * state file would hand out the same seqs and each deliver what the other
 * already had.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "sdk_internal.h"

#define GW_SDK_STATE_VERSION 1u
#define GW_SDK_STATE_RX_WORDS ((GW_CONN_RX_WINDOW_MAX + 63u) / 64u)
#define GW_SDK_ST_RX_PLACED 0x1u /* the receive window holds a position */
#define GW_SDK_ST_CLEAN 0x2u     /* written by gw_conn_close() */

_Static_assert(GW_CONN_RX_WINDOW_MAX <= DP_DEDUP_WINDOW,
	       "the persisted marks must fit the receive window");

static const uint8_t state_magic[8] = { 'G', 'W', 'C', 'S', 'T', 'A', 'T', 'E' };

/* Host byte order: the file belongs to one host's connector. */
struct gw_sdk_state_rec {
	uint8_t magic[8];
	uint32_t version;
	uint32_t id;          /* the connector id it belongs to */
	uint64_t seq_ceiling; /* no origin_seq >= this was ever handed out */
	uint32_t flags;       /* GW_SDK_ST_* */
	uint32_t rx_words;    /* GW_SDK_STATE_RX_WORDS */
	uint64_t rx_cum;      /* every egress link seq <= it was delivered */
	uint64_t rx_marks[GW_SDK_STATE_RX_WORDS]; /* bit i of word w: rx_cum + 1 +
						   * 64 w + i delivered */
	uint64_t written_us;  /* CLOCK_REALTIME, informative */
	uint64_t check;       /* FNV-1a 64 over every byte before it */
};

_Static_assert(offsetof(struct gw_sdk_state_rec, check) ==
		       sizeof(struct gw_sdk_state_rec) - sizeof(uint64_t),
	       "no padding before the checksum");

static uint64_t fnv1a64(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 14695981039346656037ull;

	while (n--)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

/* The directory holding @path, whose entry rename() changes. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n;
	char *s;

	if (!slash)
		return concat(".", "");
	n = slash == path ? 1 : (size_t)(slash - path);
	s = malloc(n + 1);
	if (s) {
		memcpy(s, path, n);
		s[n] = 0;
	}
	return s;
}

static void rec_fill(const struct gw_conn *c, struct gw_sdk_state_rec *r, uint64_t ceiling,
		     uint32_t flags)
{
	uint64_t cum = dp_dedup_cum(&c->rx_dedup);
	struct timespec ts;
	uint32_t i;

	memset(r, 0, sizeof(*r));
	memcpy(r->magic, state_magic, sizeof(r->magic));
	r->version = GW_SDK_STATE_VERSION;
	r->id = c->id;
	r->seq_ceiling = ceiling;
	r->rx_words = GW_SDK_STATE_RX_WORDS;
	if (c->rx_placed) {
		flags |= GW_SDK_ST_RX_PLACED;
		r->rx_cum = cum;
		/* Through the window's public verdicts, not its layout. */
		for (i = 0; i < GW_SDK_STATE_RX_WORDS * 64u; i++)
			if (dp_dedup_check(&c->rx_dedup, cum + 1 + i) == DP_DEDUP_DUP)
				r->rx_marks[i / 64] |= 1ull << (i % 64);
	}
	r->flags = flags;
	clock_gettime(CLOCK_REALTIME, &ts);
	r->written_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	r->check = fnv1a64(r, offsetof(struct gw_sdk_state_rec, check));
}

static int write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Replace the state file with one record, durably. */
static int state_write(struct gw_conn *c, uint64_t ceiling, uint32_t flags)
{
	struct gw_sdk_state_rec r;
	int fd, ret;

	rec_fill(c, &r, ceiling, flags);
	fd = open(c->state_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = write_all(fd, &r, sizeof(r));
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(c->state_tmp, c->state_path) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(c->state_tmp);
		goto fail;
	}
	/* The rename is durable only once the directory is. */
	ret = fsync_dir(c->state_dir);
	if (ret < 0)
		goto fail;
	c->st.state_writes++;
	c->rx_dirty = false;
	c->state_failed = false;
	return 0;
fail:
	c->st.state_errors++;
	c->state_failed = true;
	return ret;
}

/* Read the record; 0 with *found = false when there is none. */
static int state_read(struct gw_conn *c, struct gw_sdk_state_rec *r, bool *found)
{
	uint8_t buf[sizeof(*r) + 1];
	size_t got = 0;
	int fd;

	*found = false;
	fd = open(c->state_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			n = -errno;
			close(fd);
			return (int)n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != sizeof(*r))
		return -EBADMSG;
	memcpy(r, buf, sizeof(*r));
	if (memcmp(r->magic, state_magic, sizeof(r->magic)) != 0 ||
	    r->version != GW_SDK_STATE_VERSION || r->rx_words != GW_SDK_STATE_RX_WORDS ||
	    r->check != fnv1a64(r, offsetof(struct gw_sdk_state_rec, check)))
		return -EBADMSG;
	if (r->id != c->id)
		return -EINVAL; /* another connector's: a configuration error */
	*found = true;
	return 0;
}

static void rx_restore(struct gw_conn *c, const struct gw_sdk_state_rec *r)
{
	uint32_t i;

	dp_dedup_init(&c->rx_dedup, r->rx_cum);
	for (i = 0; i < GW_SDK_STATE_RX_WORDS * 64u; i++)
		if (r->rx_marks[i / 64] & (1ull << (i % 64)))
			dp_dedup_set_done(&c->rx_dedup, r->rx_cum + 1 + i);
	c->rx_placed = true;
	c->st.rx_restored = 1;
}

int gw_sdk_state_open(struct gw_conn *c, const struct gw_conn_cfg *cfg)
{
	struct gw_sdk_state_rec r;
	bool found;
	char *lock;
	int ret;

	c->lock_fd = -1;
	if (!cfg->state_path)
		return 0;
	if (!cfg->state_path[0])
		return -EINVAL;
	c->seq_reserve = cfg->seq_reserve ? cfg->seq_reserve : GW_CONN_DEF_SEQ_RESERVE;
	c->state_sync_us =
		(uint64_t)(cfg->state_sync_ms ? cfg->state_sync_ms : GW_CONN_DEF_STATE_SYNC_MS) *
		1000u;
	c->state_path = concat(cfg->state_path, "");
	c->state_tmp = concat(cfg->state_path, ".tmp");
	c->state_dir = dir_of(cfg->state_path);
	lock = concat(cfg->state_path, ".lock");
	if (!c->state_path || !c->state_tmp || !c->state_dir || !lock) {
		free(lock);
		return -ENOMEM;
	}
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lock);
	if (c->lock_fd < 0)
		return -errno;
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;

	ret = state_read(c, &r, &found);
	if (ret < 0)
		return ret;
	if (found) {
		if (r.seq_ceiling > c->next_seq)
			c->next_seq = r.seq_ceiling;
		c->alloc_seq = c->next_seq;
		if (r.flags & GW_SDK_ST_RX_PLACED)
			rx_restore(c, &r);
		c->st.state_clean = !!(r.flags & GW_SDK_ST_CLEAN);
	}
	/* Reserve before the first send: whatever happens from here on, the
	 * next process starts above every seq this one may use. */
	ret = gw_sdk_state_reserve(c, 0);
	c->state_due_us = gw_sdk_now_us() + c->state_sync_us;
	return ret;
}

int gw_sdk_state_reserve(struct gw_conn *c, uint64_t need)
{
	uint64_t ceiling = c->alloc_seq + (need > c->seq_reserve ? need : c->seq_reserve);
	int ret;

	/* alloc_seq: a group handed out ahead of the outbox (group.c) is
	 * below it too; @need: a group larger than the reserve. */
	if (ceiling < c->alloc_seq)
		ceiling = UINT64_MAX; /* never in practice: 2^64 seqs */
	ret = state_write(c, ceiling, 0);
	if (ret == 0)
		c->seq_ceiling = ceiling;
	return ret;
}

void gw_sdk_state_tick(struct gw_conn *c, uint64_t now)
{
	bool need_seq;

	if (!c->state_path)
		return;
	/* After a failed write, wait for the next period rather than try an
	 * fsync at every poll (gw_conn_send() retries an exhausted reserve
	 * itself). */
	if (c->state_failed && now < c->state_due_us)
		return;
	/* Move the ceiling when half the reserve is used, so that sends
	 * rarely meet an exhausted reserve and wait for an fsync. */
	need_seq = c->alloc_seq + c->seq_reserve / 2 >= c->seq_ceiling;
	if (!need_seq && !(c->rx_dirty && now >= c->state_due_us))
		return;
	if (need_seq)
		(void)gw_sdk_state_reserve(c, 0); /* writes the window too */
	else
		(void)state_write(c, c->seq_ceiling, 0);
	c->state_due_us = now + c->state_sync_us;
}

uint64_t gw_sdk_state_deadline(const struct gw_conn *c)
{
	return c->state_path && c->rx_dirty ? c->state_due_us : UINT64_MAX;
}

int gw_sdk_state_close(struct gw_conn *c)
{
	if (!c->state_path)
		return 0;
	/* Exact: a clean close skips no seq. Seqs still in the outbox were
	 * handed out and stay below it. */
	return state_write(c, c->alloc_seq, GW_SDK_ST_CLEAN);
}

void gw_sdk_state_free(struct gw_conn *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd); /* releases the flock */
	c->lock_fd = -1;
	free(c->state_path);
	free(c->state_tmp);
	free(c->state_dir);
	c->state_path = c->state_tmp = c->state_dir = NULL;
}
