/* SPDX-License-Identifier: BSD-3-Clause */
/* The delivered-Id log (delivered.h): append, load, horizon, compaction. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delivered.h"
#include "spool.h"

#define REC_MAGIC 0x4c445747u /* "GWDL" */
#define REC_HDR 16u           /* magic, origin, id_len (u32), receipt_len */
#define REC_MAX (REC_HDR + DL_ID_MAX + DL_RECEIPT_MAX + 4u)

struct rec {
	uint32_t origin;
	uint32_t next;     /* hash chain: ring index + 1, 0 ends it */
	uint64_t hash;
	char *id;
	uint8_t *receipt;
	uint32_t receipt_len;
	bool live;         /* false: superseded by a newer record of the same Id */
};

struct dl_log {
	char *path;
	int fd;            /* O_APPEND */
	uint64_t size;     /* bytes of the file */
	uint32_t max;
	struct rec *ring;  /* max slots, oldest at head */
	uint32_t head, count;
	uint32_t *bucket;  /* ring index + 1 */
	uint32_t nbucket;  /* power of two */
	struct dl_stats st;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t hash_of(uint32_t origin, const char *id, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ origin;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)id[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

static int find_slot(const struct dl_log *dl, uint32_t origin, const char *id, uint64_t h)
{
	uint32_t i = dl->bucket[h & (dl->nbucket - 1)];

	while (i) {
		const struct rec *r = &dl->ring[i - 1];

		if (r->hash == h && r->origin == origin && !strcmp(r->id, id))
			return (int)(i - 1);
		i = r->next;
	}
	return -1;
}

static void unlink_slot(struct dl_log *dl, uint32_t slot)
{
	struct rec *r = &dl->ring[slot];
	uint32_t *pp = &dl->bucket[r->hash & (dl->nbucket - 1)];

	while (*pp && *pp != slot + 1)
		pp = &dl->ring[*pp - 1].next;
	if (*pp)
		*pp = r->next;
	r->next = 0;
	r->live = false;
}

static void free_slot(struct rec *r)
{
	free(r->id);
	free(r->receipt);
	memset(r, 0, sizeof(*r));
}

/* Remember one record in memory (the file is the caller's business): the
 * oldest slot is reused when the ring is full (the horizon). */
static int remember(struct dl_log *dl, uint32_t origin, const char *id, size_t id_len,
		    const uint8_t *receipt, uint32_t rlen)
{
	uint64_t h = hash_of(origin, id, id_len);
	char *idc = strndup(id, id_len);
	uint8_t *rc = malloc(rlen ? rlen : 1);
	struct rec *r;
	uint32_t slot;
	int old;

	if (!idc || !rc) {
		free(idc);
		free(rc);
		return -ENOMEM;
	}
	memcpy(rc, receipt, rlen);
	old = find_slot(dl, origin, idc, h);
	if (old >= 0) {
		unlink_slot(dl, (uint32_t)old);
		dl->st.records--;
	}
	if (dl->count == dl->max) {
		r = &dl->ring[dl->head];
		if (r->live) {
			unlink_slot(dl, dl->head);
			dl->st.evicted++;
			dl->st.records--;
		}
		free_slot(r);
		dl->head = (dl->head + 1) % dl->max;
		dl->count--;
	}
	slot = (dl->head + dl->count) % dl->max;
	r = &dl->ring[slot];
	r->origin = origin;
	r->hash = h;
	r->id = idc;
	r->receipt = rc;
	r->receipt_len = rlen;
	r->live = true;
	r->next = dl->bucket[h & (dl->nbucket - 1)];
	dl->bucket[h & (dl->nbucket - 1)] = slot + 1;
	dl->count++;
	dl->st.records++;
	return 0;
}

/* One record's bytes into b (REC_MAX room); returns its length. */
static size_t encode(uint8_t *b, uint32_t origin, const char *id, size_t id_len,
		     const void *receipt, size_t rlen)
{
	put32(b, REC_MAGIC);
	put32(b + 4, origin);
	put32(b + 8, (uint32_t)id_len);
	put32(b + 12, (uint32_t)rlen);
	memcpy(b + REC_HDR, id, id_len);
	memcpy(b + REC_HDR + id_len, receipt, rlen);
	put32(b + REC_HDR + id_len + rlen, sp_crc32(0, b, REC_HDR + id_len + rlen));
	return REC_HDR + id_len + rlen + 4;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd, ret = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(dir);
	return ret;
}

/* Write the live records, oldest first, to PATH.tmp and rename it over
 * PATH; the append descriptor then points at the new file. */
static int compact(struct dl_log *dl)
{
	char tmp[PATH_MAX];
	uint8_t *b = malloc(REC_MAX);
	uint64_t size = 0, n = 0;
	int fd, ret = 0;

	if (!b)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.tmp", dl->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	for (uint32_t k = 0; k < dl->count && ret == 0; k++) {
		const struct rec *r = &dl->ring[(dl->head + k) % dl->max];
		size_t l;

		if (!r->live)
			continue;
		l = encode(b, r->origin, r->id, strlen(r->id), r->receipt, r->receipt_len);
		ret = write_all(fd, b, l);
		size += l;
		n++;
	}
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	close(fd);
	if (ret == 0 && rename(tmp, dl->path) < 0)
		ret = -errno;
	if (ret == 0)
		ret = fsync_dir_of(dl->path);
	if (ret < 0) {
		unlink(tmp);
		dl->st.write_errors++;
		goto out;
	}
	fd = open(dl->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		dl->st.write_errors++;
		goto out;
	}
	close(dl->fd);
	dl->fd = fd;
	dl->size = size;
	dl->st.file_records = n;
	dl->st.compactions++;
out:
	free(b);
	return ret;
}

/* Read the file; a torn tail is cut off, a damaged middle set aside. */
static int load(struct dl_log *dl)
{
	struct stat sb;
	uint8_t *b;
	size_t off = 0, len;
	int ret = 0;

	if (fstat(dl->fd, &sb) < 0)
		return -errno;
	len = (size_t)sb.st_size;
	b = malloc(len ? len : 1);
	if (!b)
		return -ENOMEM;
	if (pread(dl->fd, b, len, 0) != (ssize_t)len) {
		free(b);
		return -EIO;
	}
	while (off < len) {
		uint32_t il, rl;
		size_t rec;

		if (len - off < REC_HDR + 4)
			goto torn;
		il = get32(b + off + 8);
		rl = get32(b + off + 12);
		if (get32(b + off) != REC_MAGIC || il == 0 || il > DL_ID_MAX ||
		    rl > DL_RECEIPT_MAX)
			goto damaged;
		rec = REC_HDR + il + rl + 4;
		if (len - off < rec)
			goto torn;
		if (get32(b + off + rec - 4) != sp_crc32(0, b + off, rec - 4)) {
			if (off + rec == len)
				goto torn; /* the last append, not fully on disk */
			goto damaged;
		}
		if (memchr(b + off + REC_HDR, 0, il))
			goto damaged;
		ret = remember(dl, get32(b + off + 4), (const char *)b + off + REC_HDR, il,
			       b + off + REC_HDR + il, rl);
		if (ret < 0)
			goto out;
		dl->st.file_records++;
		off += rec;
	}
	goto out;
damaged: {
		char aside[PATH_MAX];
		int fd;

		snprintf(aside, sizeof(aside), "%s.damaged", dl->path);
		fprintf(stderr, "gwart-smtp: delivered log %s: damaged record at byte %zu: the "
			"%zu bytes from there moved to %s (those Ids may be delivered again)\n",
			dl->path, off, len - off, aside);
		fd = open(aside, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0 || write_all(fd, b + off, len - off) < 0 || fsync(fd) < 0)
			dl->st.write_errors++;
		if (fd >= 0)
			close(fd);
		dl->st.damaged++;
		goto cut;
	}
torn:
	fprintf(stderr, "gwart-smtp: delivered log %s: torn last record (%zu bytes) cut off\n",
		dl->path, len - off);
	dl->st.torn_tail++;
cut:
	if (ftruncate(dl->fd, (off_t)off) < 0 || fsync(dl->fd) < 0) {
		ret = -errno;
		dl->st.write_errors++;
	}
out:
	dl->size = off;
	free(b);
	return ret;
}

int dl_open(const char *path, uint32_t max_records, struct dl_log **out)
{
	struct dl_log *dl = calloc(1, sizeof(*dl));
	int ret;

	if (!dl)
		return -ENOMEM;
	dl->fd = -1;
	dl->max = max_records ? max_records : DL_DEF_MAX_RECORDS;
	if (dl->max > (1u << 28)) {
		free(dl);
		return -EINVAL;
	}
	dl->nbucket = 16;
	while (dl->nbucket < 2 * dl->max)
		dl->nbucket <<= 1;
	dl->path = strdup(path);
	dl->ring = calloc(dl->max, sizeof(*dl->ring));
	dl->bucket = calloc(dl->nbucket, sizeof(*dl->bucket));
	if (!dl->path || !dl->ring || !dl->bucket) {
		ret = -ENOMEM;
		goto fail;
	}
	dl->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (dl->fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = load(dl);
	if (ret < 0)
		goto fail;
	/* A file written with a larger horizon, or mostly superseded. */
	if (dl->st.file_records >= 2 * (uint64_t)dl->max)
		compact(dl);
	*out = dl;
	return 0;
fail:
	dl_close(dl);
	return ret;
}

void dl_close(struct dl_log *dl)
{
	if (!dl)
		return;
	for (uint32_t i = 0; dl->ring && i < dl->max; i++)
		free_slot(&dl->ring[i]);
	free(dl->ring);
	free(dl->bucket);
	if (dl->fd >= 0)
		close(dl->fd);
	free(dl->path);
	free(dl);
}

const void *dl_find(struct dl_log *dl, uint32_t origin, const char *id, size_t *len)
{
	int s = find_slot(dl, origin, id, hash_of(origin, id, strlen(id)));

	if (s < 0)
		return NULL;
	dl->st.hits++;
	*len = dl->ring[s].receipt_len;
	return dl->ring[s].receipt;
}

int dl_add(struct dl_log *dl, uint32_t origin, const char *id, const void *receipt, size_t len)
{
	size_t il = id ? strlen(id) : 0, l;
	uint8_t *b;
	int ret;

	if (il == 0 || il > DL_ID_MAX || len > DL_RECEIPT_MAX || (len && !receipt)) {
		dl->st.refused_bad++;
		return -EINVAL;
	}
	b = malloc(REC_MAX);
	if (!b)
		return -ENOMEM;
	l = encode(b, origin, id, il, receipt, len);
	ret = write_all(dl->fd, b, l);
	if (ret == 0 && fdatasync(dl->fd) < 0)
		ret = -errno;
	free(b);
	if (ret < 0) {
		/* Cut back what part of it got there: the file stays whole. */
		if (ftruncate(dl->fd, (off_t)dl->size) < 0)
			fprintf(stderr, "gwart-smtp: delivered log %s: cannot cut a failed "
				"append: %s\n", dl->path, strerror(errno));
		dl->st.write_errors++;
		return -EIO;
	}
	dl->size += l;
	dl->st.file_records++;
	ret = remember(dl, origin, id, il, receipt, (uint32_t)len);
	if (ret < 0)
		return ret;
	dl->st.added++;
	if (dl->st.file_records >= 2 * (uint64_t)dl->max)
		compact(dl); /* failure counted; the old file stays valid */
	return 0;
}

void dl_get_stats(const struct dl_log *dl, struct dl_stats *st)
{
	*st = dl->st;
}
