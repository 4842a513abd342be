/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Partial groups across a clean close (state_path only): PATH.groups.
 *
 * The chunks of a group in reassembly were acknowledged to the router,
 * which no longer holds them, so a group that is not complete when the
 * handle closes would be lost. gw_conn_close() therefore writes every
 * group in progress (its description, chunk bitmap and buffer) and the set
 * of finished groups to PATH.groups, replaced atomically as the state file
 * is (PATH.groups.tmp, fsync(), rename(), fsync() of the directory), before
 * the state file's final write, which marks those chunks' egress seqs as
 * delivered. The next gw_conn_open() puts the groups back into reassembly
 * (within its own bounds: what does not fit is dropped and counted) and
 * removes the file at once: a crash later must not bring back groups that
 * were completed meanwhile. A crash, as opposed to a close, writes nothing
 * here, and the groups in progress are lost (connector.h says so).
 *
 * Host byte order, like the state file; a checksum (FNV-1a 64) over
 * everything before it. A damaged file makes gw_conn_open() fail
 * (-EBADMSG) rather than forget messages silently; remove it to start
 * afresh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdk_internal.h"

#define RXS_VERSION 1u

static const uint8_t rxs_magic[8] = { 'G', 'W', 'C', 'G', 'R', 'O', 'U', 'P' };

struct rxs_hdr {
	uint8_t magic[8];
	uint32_t version;
	uint32_t id;
	uint32_t n_groups;
	uint32_t n_done;
};

struct rxs_group {
	uint64_t group;
	uint32_t origin;
	uint32_t total_len;
	uint32_t count;
	uint32_t chunk_len;
	uint32_t have;
	uint16_t dest_len;
	uint16_t reserved;
	uint8_t dest[GW_DEST_MAX + 1];
};

/* A file written or read in one pass, checksummed as it goes. */
struct rxs_io {
	int fd;
	uint64_t h;
	int err;
};

static void fnv(struct rxs_io *io, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		io->h = (io->h ^ *b++) * 1099511628211ull;
}

static void put(struct rxs_io *io, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (io->err)
		return;
	fnv(io, p, n);
	while (n) {
		ssize_t w = write(io->fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			io->err = -errno;
			return;
		}
		b += w;
		n -= (size_t)w;
	}
}

/* Read exactly @n bytes (a short file is damaged); @p NULL: skip them. */
static void get(struct rxs_io *io, void *p, size_t n)
{
	uint8_t tmp[4096], *b = p;

	while (n && !io->err) {
		size_t want = b ? n : (n < sizeof(tmp) ? n : sizeof(tmp));
		ssize_t r = read(io->fd, b ? b : tmp, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			io->err = -errno;
			return;
		}
		if (r == 0) {
			io->err = -EBADMSG;
			return;
		}
		fnv(io, b ? b : tmp, (size_t)r);
		if (b)
			b += r;
		n -= (size_t)r;
	}
}

static char *path_of(const struct gw_conn *c, const char *suffix)
{
	size_t a = strlen(c->state_path), b = strlen(suffix);
	char *s = malloc(a + b + 1);

	if (s) {
		memcpy(s, c->state_path, a);
		memcpy(s + a, suffix, b + 1);
	}
	return s;
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

int gw_sdk_rxsave_write(struct gw_conn *c)
{
	struct rxs_hdr hd = { .version = RXS_VERSION, .id = c->id, .n_groups = c->rxg_n };
	char *path = NULL, *tmp = NULL;
	struct rxs_io io = { .fd = -1, .h = 14695981039346656037ull };
	uint64_t i, n_done = c->rxd_n < GW_CONN_RX_DONE_GROUPS ? c->rxd_n : GW_CONN_RX_DONE_GROUPS;
	int ret;

	if (!c->state_path || !c->rxg)
		return 0;
	path = path_of(c, ".groups");
	tmp = path_of(c, ".groups.tmp");
	if (!path || !tmp) {
		ret = -ENOMEM;
		goto out;
	}
	if (!c->rxg_n && !n_done) {
		/* Nothing to keep: no file (none is left from before either,
		 * gw_conn_open() removed it). */
		ret = 0;
		goto out;
	}
	memcpy(hd.magic, rxs_magic, sizeof(hd.magic));
	hd.n_done = (uint32_t)n_done;
	io.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (io.fd < 0) {
		ret = -errno;
		goto out;
	}
	put(&io, &hd, sizeof(hd));
	for (i = 0; i < c->rxg_max; i++) {
		const struct gw_sdk_rxgroup *g = &c->rxg[i];
		struct rxs_group r = { 0 };

		if (!c->rxg_key[i].used)
			continue;
		r.group = c->rxg_key[i].group;
		r.origin = c->rxg_key[i].origin;
		r.total_len = g->total_len;
		r.count = g->count;
		r.chunk_len = g->chunk_len;
		r.have = g->have;
		r.dest_len = g->dest_len;
		memcpy(r.dest, g->dest, g->dest_len);
		put(&io, &r, sizeof(r));
		put(&io, g->bits, ((size_t)g->count + 63) / 64 * sizeof(uint64_t));
		put(&io, g->buf, g->total_len);
	}
	/* The finished set, oldest first, so that the ring is rebuilt in
	 * the same order. */
	for (i = c->rxd_n - n_done; i < c->rxd_n; i++)
		put(&io, &c->rxd_key[i % GW_CONN_RX_DONE_GROUPS], sizeof(struct gw_sdk_gkey));
	{
		uint64_t check = io.h;

		put(&io, &check, sizeof(check));
	}
	ret = io.err;
	if (ret == 0 && fsync(io.fd) < 0)
		ret = -errno;
	if (close(io.fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0) {
		unlink(tmp);
		goto out;
	}
	ret = fsync_dir(c->state_dir);
out:
	if (ret < 0)
		c->st.state_errors++;
	free(path);
	free(tmp);
	return ret;
}

/* A record as the writer makes them, within this handle's own bounds? */
static bool rec_valid(const struct rxs_group *r)
{
	return r->origin != 0 && r->group != 0 && r->chunk_len >= 1 &&
	       r->chunk_len <= GW_PAYLOAD_MAX && r->total_len <= GW_MSG_MAX &&
	       r->total_len > r->chunk_len &&
	       r->count == (uint32_t)(((uint64_t)r->total_len + r->chunk_len - 1) / r->chunk_len) &&
	       r->have < r->count && r->dest_len >= 1 && r->dest_len <= GW_DEST_MAX;
}

/* Exactly @have of the @count bits set, none beyond. */
static bool bits_valid(const uint64_t *bits, uint32_t count, uint32_t have)
{
	size_t w, words = ((size_t)count + 63) / 64;
	uint64_t n = 0;

	for (w = 0; w < words; w++)
		n += (uint64_t)__builtin_popcountll(bits[w]);
	if (count % 64 && (bits[words - 1] >> (count % 64)))
		return false;
	return n == have;
}

int gw_sdk_rxsave_restore(struct gw_conn *c)
{
	struct rxs_io io = { .fd = -1, .h = 14695981039346656037ull };
	struct rxs_hdr hd;
	char *path;
	uint64_t check, want;
	uint32_t i;
	int ret = 0;

	if (!c->state_path)
		return 0;
	path = path_of(c, ".groups");
	if (!path)
		return -ENOMEM;
	io.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (io.fd < 0) {
		ret = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	get(&io, &hd, sizeof(hd));
	if (io.err || memcmp(hd.magic, rxs_magic, sizeof(hd.magic)) != 0 ||
	    hd.version != RXS_VERSION || hd.n_done > GW_CONN_RX_DONE_GROUPS ||
	    hd.n_groups > GW_CONN_RX_GROUPS_MAX) {
		ret = io.err ? io.err : -EBADMSG;
		goto out;
	}
	if (hd.id != c->id) {
		ret = -EINVAL; /* another connector's: a configuration error */
		goto out;
	}
	for (i = 0; i < hd.n_groups && !io.err; i++) {
		struct rxs_group r;
		struct gw_sdk_rxgroup g = { 0 };
		size_t words;

		get(&io, &r, sizeof(r));
		if (io.err)
			break;
		if (!rec_valid(&r)) {
			io.err = -EBADMSG;
			break;
		}
		words = ((size_t)r.count + 63) / 64;
		g.total_len = r.total_len;
		g.count = r.count;
		g.chunk_len = r.chunk_len;
		g.have = r.have;
		g.dest_len = r.dest_len;
		memcpy(g.dest, r.dest, r.dest_len);
		/* Allocated only within this handle's bounds (which the
		 * writer's may have exceeded): otherwise skipped, counted. */
		if (!gw_sdk_reasm_room(c, r.total_len, r.count)) {
			get(&io, NULL, words * sizeof(uint64_t) + r.total_len);
			c->st.rx_restore_dropped++;
			continue;
		}
		g.bits = malloc(words * sizeof(uint64_t));
		g.buf = malloc(r.total_len ? r.total_len : 1);
		if (!g.bits || !g.buf) {
			free(g.bits);
			free(g.buf);
			io.err = -ENOMEM;
			break;
		}
		get(&io, g.bits, words * sizeof(uint64_t));
		get(&io, g.buf, r.total_len);
		if (!io.err && !bits_valid(g.bits, r.count, r.have))
			io.err = -EBADMSG;
		if (io.err) {
			free(g.bits);
			free(g.buf);
			break;
		}
		/* Adopted (owning the buffers) even before the checksum is
		 * known: on a mismatch gw_conn_open() fails and frees them. */
		gw_sdk_reasm_adopt(c, r.origin, r.group, &g);
		c->st.rx_restored_groups++;
	}
	for (i = 0; i < hd.n_done && !io.err; i++) {
		struct gw_sdk_gkey k;

		get(&io, &k, sizeof(k));
		if (!io.err && k.used && k.origin)
			gw_sdk_reasm_done_add(c, k.origin, k.group);
	}
	want = io.h;
	get(&io, &check, sizeof(check));
	if (io.err) {
		ret = io.err;
		goto out;
	}
	if (check != want) {
		ret = -EBADMSG;
		goto out;
	}
	/* Consumed: a crash from here on must not bring these back. */
	close(io.fd);
	io.fd = -1;
	if (unlink(path) < 0) {
		ret = -errno;
	} else if (fsync_dir(c->state_dir) < 0) {
		/* The groups are in memory now: failing the open would lose
		 * them. A file brought back by a crash before the directory
		 * reached the disk only restores groups that may have
		 * completed meanwhile (they then only expire). */
		c->st.state_errors++;
	}
out:
	if (io.fd >= 0)
		close(io.fd);
	free(path);
	return ret;
}
